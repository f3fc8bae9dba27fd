//! Unit tests of the ROUGE scorer, tokenizer and LCS kernels.

use super::lcs::{lcs_len_dp, lcs_union_bits, lcs_union_into};
use super::score::sorted_overlap;
use super::*;

fn scorer(types: &[&str], stem: bool) -> RougeScorer {
    RougeScorer::new(RougeConfig {
        types: types.iter().map(|t| t.parse().unwrap()).collect(),
        use_stemmer: stem,
        split_summaries: false,
    })
}

fn close(a: Prf, p: f64, r: f64, f: f64) {
    assert!(
        (a.precision - p).abs() < 1e-12 && (a.recall - r).abs() < 1e-12 && (a.f1 - f).abs() < 1e-12,
        "{a:?} vs {p} {r} {f}"
    );
}

#[test]
fn names_roundtrip() {
    for n in ["rouge1", "rouge2", "rouge9", "rougeL", "rougeLsum"] {
        assert_eq!(n.parse::<RougeType>().unwrap().name(), n);
    }
    for bad in ["rouge0", "rouge10", "rougel", "rougeLSum", "", "rouge"] {
        assert!(bad.parse::<RougeType>().is_err(), "{bad}");
    }
    let cfg = RougeConfig::default();
    let js = serde_json::to_string(&cfg).unwrap();
    assert_eq!(
        js,
        r#"{"types":["rouge1","rouge2","rougeL","rougeLsum"],"use_stemmer":true,"split_summaries":false}"#
    );
    let back: RougeConfig = serde_json::from_str(&js).unwrap();
    assert_eq!(back.types, cfg.types);
    assert!(RougeScorer::try_new(RougeConfig {
        types: vec![RougeType::N(0)],
        ..Default::default()
    })
    .is_err());
}

#[test]
fn tokenizer_matches_python_rules() {
    assert_eq!(
        tokenize("The quick-brown FOX, 3.5 times!", false),
        ["the", "quick", "brown", "fox", "3", "5", "times"]
    );
    assert_eq!(tokenize("Running dogs", true), ["run", "dog"]);
    // İ lowercases to "i" + combining dot (a separator); Kelvin sign to 'k'; others vanish.
    assert_eq!(
        tokenize("İstanbul \u{212A}elvin straße café 東京 “quoted”", false),
        ["i", "stanbul", "kelvin", "stra", "e", "caf", "quoted"]
    );
    assert!(tokenize("   \n\t ", true).is_empty());
    assert!(tokenize("", true).is_empty());
}

#[test]
fn hand_checked_rouge_scorer_examples() {
    // From rouge-score's own docstring / tests.
    let s = scorer(&["rouge1", "rouge2", "rougeL"], false);
    let r = s.score(
        "The quick brown fox jumps over the lazy dog",
        "The quick brown dog jumps on the log.",
    );
    // rouge1: 6 overlapping unigrams (the x2, quick, brown, dog, jumps), 8 pred, 9 target.
    close(r[0].1, 6.0 / 8.0, 6.0 / 9.0, fmeasure(6.0 / 8.0, 6.0 / 9.0));
    // rouge2: "the quick", "quick brown" → 2 of 7 / 8.
    close(r[1].1, 2.0 / 7.0, 2.0 / 8.0, fmeasure(2.0 / 7.0, 2.0 / 8.0));
    // rougeL: the quick brown jumps the → 5.
    close(r[2].1, 5.0 / 8.0, 5.0 / 9.0, fmeasure(5.0 / 8.0, 5.0 / 9.0));
}

#[test]
fn empty_and_zero_semantics() {
    let s = scorer(&["rouge1", "rouge2", "rougeL", "rougeLsum"], true);
    for (t, p) in [("", "a b"), ("a b", ""), ("", ""), ("  ", "\n")] {
        for (_, prf) in s.score(t, p) {
            assert_eq!(prf, Prf::ZERO);
        }
    }
    // One-token texts: rouge2 has no bigrams on either side → 0/max(0,1).
    let r = s.score("cat", "cat");
    close(r[0].1, 1.0, 1.0, 1.0);
    close(r[1].1, 0.0, 0.0, 0.0);
    close(r[2].1, 1.0, 1.0, 1.0);
    close(r[3].1, 1.0, 1.0, 1.0);
}

#[test]
fn lsum_union_and_duplicates() {
    // Example from the ROUGE paper (section 3.2): r = w1 w2 w3 w4 w5, c1 = w1 w2 w6 w7 w8,
    // c2 = w1 w3 w8 w9 w5 → union LCS = w1 w2 w3 w5 → recall 4/5, precision 4/10.
    let s = scorer(&["rougeLsum"], false);
    let r = s.score("w1 w2 w3 w4 w5", "w1 w2 w6 w7 w8\nw1 w3 w8 w9 w5");
    close(r[0].1, 4.0 / 10.0, 4.0 / 5.0, fmeasure(0.4, 0.8));
    // Token-count clipping: the target has "a" once, the prediction twice.
    let r = s.score("a b", "a\na");
    close(r[0].1, 1.0 / 2.0, 1.0 / 2.0, 0.5);
}

#[test]
fn bit_parallel_lcs_matches_dp() {
    let mut seed = 12345u64;
    let mut rnd = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    for _ in 0..300 {
        let la = rnd(150) as usize;
        let lb = rnd(150) as usize + 1;
        let alpha = rnd(12) + 1;
        let a: Vec<u32> = (0..la).map(|_| rnd(alpha) as u32).collect();
        let b: Vec<u32> = (0..lb).map(|_| rnd(alpha) as u32).collect();
        let p = TokSeq { ids: b.clone(), sents: vec![(0, lb as u32)] };
        let prep = PredPrep::new(&[RougeType::L], &p, alpha as usize);
        assert_eq!(lcs_len_dp(&a, &b), lcs_len_dp(&b, &a));
        let mut row = vec![0usize; lb + 1];
        for &x in &a {
            let mut diag = 0;
            for j in 1..=lb {
                let up = row[j];
                row[j] = if x == b[j - 1] { diag + 1 } else { up.max(row[j - 1]) };
                diag = up;
            }
        }
        assert_eq!(prep.lcs_len(&a), row[lb]);
        assert_eq!(lcs_len_dp(&a, &b), row[lb]);
    }
}

#[test]
fn bit_row_backtrack_matches_dp_backtrack() {
    let mut seed = 987654321u64;
    let mut rnd = |m: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % m
    };
    let mut table = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..2000 {
        let lr = rnd(90) as usize;
        let lc = rnd(160) as usize;
        let alpha = rnd(10) + 1;
        let r: Vec<u32> = (0..lr).map(|_| rnd(alpha) as u32).collect();
        let c: Vec<u32> = (0..lc).map(|_| rnd(alpha) as u32).collect();
        let mut want = vec![false; lr];
        lcs_union_into(&r, &c, &mut table, &mut want);
        let words = lc.div_ceil(64);
        let mut slot = vec![u32::MAX; alpha as usize];
        let mut masks = Vec::new();
        let mut n = 0;
        for (j, &id) in c.iter().enumerate() {
            if slot[id as usize] == u32::MAX {
                slot[id as usize] = n;
                n += 1;
                masks.resize(masks.len() + words, 0u64);
            }
            masks[slot[id as usize] as usize * words + j / 64] |= 1 << (j % 64);
        }
        let mut got = vec![false; lr];
        lcs_union_bits(&r, &c, words, &slot, &masks, &mut rows, &mut got);
        assert_eq!(got, want, "r={r:?} c={c:?}");
    }
}

#[test]
fn ngram_fallback_path_is_exact() {
    let ids: Vec<u32> = vec![1, 2, 3, 1, 2, 3, 1, 2, 4];
    let mut a = PredPrep::new(&[], &TokSeq { ids: vec![], sents: vec![] }, 5);
    let packed = a.ngram_keys_of(&ids, 3);
    let mut b = PredPrep::new(&[], &TokSeq { ids: vec![], sents: vec![] }, 1 << 30);
    let fb = b.ngram_keys_of(&ids, 3);
    // Same multiset structure: run lengths of equal keys.
    let runs = |k: &[u64]| {
        let mut v = Vec::new();
        let mut i = 0;
        while i < k.len() {
            let j = k[i..].iter().take_while(|&&x| x == k[i]).count();
            v.push(j);
            i += j;
        }
        v.sort();
        v
    };
    assert_eq!(runs(&packed), runs(&fb));
    assert_eq!(sorted_overlap(&packed, &packed), 7);
}

#[test]
fn multi_best_and_mean() {
    let s = scorer(&["rouge1"], false);
    let targets = ["a b c d", "a b x y", "a b c d"];
    let best = s.score_multi(&targets, "a b c", MultiRef::Best);
    close(best[0].1, 1.0, 0.75, fmeasure(1.0, 0.75));
    let mean = s.score_multi(&targets, "a b c", MultiRef::Mean);
    let singles: Vec<Prf> = targets.iter().map(|t| s.score(t, "a b c")[0].1).collect();
    let m = |f: fn(&Prf) -> f64| singles.iter().map(f).sum::<f64>() / 3.0;
    close(mean[0].1, m(|x| x.precision), m(|x| x.recall), m(|x| x.f1));
    assert_eq!(s.score_multi(&[], "a", MultiRef::Best)[0].1, Prf::ZERO);
}

#[test]
fn split_rule() {
    let text = "Hello there. How are you?\" I am fine! ok";
    let starts = split_sentence_starts(text);
    assert_eq!(starts.len(), 3);
    let s = RougeScorer::new(RougeConfig {
        types: vec![RougeType::Lsum],
        use_stemmer: false,
        split_summaries: true,
    });
    let r = s.score("a b. c d.", "c d. a b.");
    close(r[0].1, 1.0, 1.0, 1.0);
}
