//! Unit tests of BLEU, the 13a tokenizer and the n-gram engine.

use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn tokenizer_13a_rules() {
    assert_eq!(tokenize_13a("Hello, world!"), "Hello , world !");
    assert_eq!(tokenize_13a("It costs $3.50, ok."), "It costs $ 3.50 , ok .");
    assert_eq!(tokenize_13a("1,000 and 2-3 and well-known"), "1,000 and 2 - 3 and well-known");
    assert_eq!(tokenize_13a("a..b"), "a . . b");
    assert_eq!(tokenize_13a("don't \"quote\""), "don't \" quote \"");
    assert_eq!(tokenize_13a("a &amp; b &lt;c&gt; &quot;"), "a & b < c > \"");
    assert_eq!(tokenize_13a("line-\nbreak\nnext <skipped>"), "linebreak next");
    assert_eq!(tokenize_13a("Café, naïve."), "Café , naïve .");
    assert_eq!(tokenize_13a(""), "");
    assert_eq!(tokenize_13a("x\x1cy"), "x y");
}

/// sacreBLEU's `Tokenizer13a` written as its regex substitutions (the `regex` crate's
/// `replace_all` is leftmost-first and non-overlapping, like Python's `re.sub` for these
/// patterns), checked against the hand-written passes on random strings dense in the
/// characters the rules look at.
#[test]
fn tokenizer_13a_equals_its_regex_definition() {
    let rules = [
        (regex::Regex::new(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])").unwrap(), " $1 "),
        (regex::Regex::new(r"([^0-9])([\.,])").unwrap(), "$1 $2 "),
        (regex::Regex::new(r"([\.,])([^0-9])").unwrap(), " $1 $2"),
        (regex::Regex::new(r"([0-9])(-)").unwrap(), "$1 $2 "),
    ];
    let reference = |line: &str| -> String {
        let mut s = line.replace("<skipped>", "").replace("-\n", "").replace('\n', " ");
        if s.contains('&') {
            s = s
                .replace("&quot;", "\"")
                .replace("&amp;", "&")
                .replace("&lt;", "<")
                .replace("&gt;", ">");
        }
        let mut s = format!(" {s} ");
        for (re, rep) in &rules {
            s = re.replace_all(&s, *rep).into_owned();
        }
        py_split(&s).collect::<Vec<_>>().join(" ")
    };
    let alphabet: Vec<char> = "a1.,-9 .,'$x\u{e9}\t(".chars().collect();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for len in 0..40 {
        for _ in 0..300 {
            let mut t = String::new();
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                t.push(alphabet[(state % alphabet.len() as u64) as usize]);
            }
            assert_eq!(tokenize_13a(&t), reference(&t), "input {t:?}");
        }
    }
}

#[test]
fn python_whitespace() {
    let expected: Vec<u32> = vec![
        0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001,
        0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029,
        0x202f, 0x205f, 0x3000,
    ];
    let got: Vec<u32> = (0u32..0x110000)
        .filter_map(char::from_u32)
        .filter(|&c| py_isspace(c))
        .map(|c| c as u32)
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn perfect_match_is_100() {
    let s = sentence_bleu("The cat sat on the mat.", &["The cat sat on the mat."]);
    assert!(close(s.score, 100.0), "{s:?}");
    assert_eq!(s.bp, 1.0);
}

#[test]
fn hand_checked_stats_and_score() {
    // hyp: "the cat the cat" ; ref: "the cat sat"
    let cfg = BleuConfig::default();
    let st = sentence_stats(&cfg, "the cat the cat", &["the cat sat"]);
    assert_eq!(st.sys_len, 4);
    assert_eq!(st.ref_len, 3);
    // unigrams: the x2 (ref 1), cat x2 (ref 1) -> 2/4 ; bigrams: the-cat x2 (1), cat-the (0) -> 1/3
    assert_eq!(st.correct, [2, 1, 0, 0]);
    assert_eq!(st.total, [4, 3, 2, 1]);
    let sc = score_from_stats(&cfg, &st);
    // exp smoothing: p3 = 100/(2*2), p4 = 100/(4*1)
    let p = [50.0, 100.0 / 3.0, 25.0, 25.0];
    let expect = (p.iter().map(|x: &f64| x.ln()).sum::<f64>() / 4.0).exp();
    assert!(close(sc.score, expect), "{} vs {}", sc.score, expect);
    assert_eq!(sc.bp, 1.0);
    // no smoothing -> zero
    let none = BleuConfig { smooth: Smooth::None, ..Default::default() };
    assert_eq!(score_from_stats(&none, &st).score, 0.0);
    // effective order without smoothing: only orders with a non-zero total count
    let eff = BleuConfig { smooth: Smooth::None, effective_order: true, ..Default::default() };
    let s2 = score_from_stats(&eff, &sentence_stats(&eff, "the cat", &["the cat sat"]));
    let bp = (1.0f64 - 3.0 / 2.0).exp();
    assert!(close(s2.score, bp * 100.0), "{s2:?}");
}

#[test]
fn multi_ref_closest_length_and_max_counts() {
    let cfg = BleuConfig::default();
    let st = sentence_stats(&cfg, "a b c d e", &["a b c d", "a b c d e f", "x"]);
    assert_eq!(st.ref_len, 4); // tie between 4 and 6 -> shorter
    let st = sentence_stats(&cfg, "the the the", &["the", "the the"]);
    assert_eq!(st.correct[0], 2);
}

#[test]
fn empty_inputs() {
    let s = sentence_bleu("", &["a b c"]);
    assert_eq!(s.score, 0.0);
    assert_eq!(s.bp, 0.0);
    let s = sentence_bleu("a b", &[""]);
    assert_eq!(s.score, 0.0);
    let st = sentence_stats(&BleuConfig::default(), "a b", &[]);
    assert_eq!(st.ref_len, 0);
}

#[test]
fn stats_add_up() {
    let cfg = BleuConfig::default();
    let h = ["The cat sat on the mat.", "A dog barked loudly at night."];
    let r = [vec!["The cat is on the mat."], vec!["The dog barked at night."]];
    let mut sum = BleuStats::default();
    for i in 0..2 {
        sum.add(&sentence_stats(&cfg, h[i], &r[i]));
    }
    assert_eq!(sum, corpus_stats(&cfg, &h, &r));
    let c = corpus_bleu(&cfg, &h, &r);
    assert_eq!(c, score_from_stats(&cfg, &sum));
}

/// The direct-table and hash-map paths of the n-gram engine agree.
#[test]
fn engine_paths_agree() {
    let mut words = Vec::new();
    let mut x: u64 = 12345;
    for _ in 0..3000 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        words.push(format!("w{}", (x >> 33) % 300));
    }
    let hyp = words[..1500].join(" ");
    let r1 = words[1000..2600].join(" ");
    let r2 = words[2000..].join(" ");
    let refs = [r1.as_str(), r2.as_str()];
    let cfg = BleuConfig::default();
    let direct = sentence_stats(&cfg, &hyp, &refs);
    with_counter(|c| c.force_hash = true);
    let hashed = sentence_stats(&cfg, &hyp, &refs);
    let short_hashed = sentence_stats(&cfg, "the cat the cat", &["the cat sat"]);
    let cc = super::super::chrf::ChrfConfig::chrf_pp();
    let chrf_hashed = super::super::chrf::sentence_stats(&cc, &hyp, &refs);
    with_counter(|c| c.force_hash = false);
    assert_eq!(direct, hashed);
    assert!(direct.correct[3] > 0 && direct.correct[3] < direct.total[3]);
    assert_eq!(short_hashed.correct, [2, 1, 0, 0]);
    assert_eq!(chrf_hashed, super::super::chrf::sentence_stats(&cc, &hyp, &refs));
}

#[test]
fn signatures() {
    assert_eq!(
        signature(&BleuConfig::default()),
        "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0"
    );
    let c = BleuConfig {
        lowercase: true,
        smooth: Smooth::floor(),
        effective_order: true,
        ..Default::default()
    };
    assert_eq!(
        signature_with_nrefs(&c, None),
        "nrefs:var|case:lc|eff:yes|tok:13a|smooth:floor[0.10]|version:2.6.0"
    );
    let c =
        BleuConfig { tokenize: BleuTokenizer::None, smooth: Smooth::add_k(), ..Default::default() };
    assert_eq!(
        signature_with_nrefs(&c, Some(2)),
        "nrefs:2|case:mixed|eff:no|tok:none|smooth:add-k[1.00]|version:2.6.0"
    );
}

#[test]
fn config_serde() {
    let j = serde_json::to_string(&BleuConfig::default()).unwrap();
    assert_eq!(
        j,
        r#"{"lowercase":false,"tokenize":"13a","smooth":"exp","max_ngram_order":4,"effective_order":false}"#
    );
    let c = BleuConfig { smooth: Smooth::floor(), ..Default::default() };
    let back: BleuConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}
