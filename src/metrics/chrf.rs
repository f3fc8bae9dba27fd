//! chrF (Popović 2015) and chrF++ (Popović 2017) exactly as sacreBLEU computes them.
//!
//! We emulate **sacreBLEU 2.6.0** (`sacrebleu.metrics.chrf.CHRF`), verified by
//! `tests/sacrebleu_parity.rs`:
//!
//! * optional Python `str.lower()` (no other preprocessing, no `rstrip`);
//! * character n-grams 1..=`char_order` over the text with all (Python)
//!   whitespace removed (`whitespace = false`, the default) or kept;
//! * word n-grams 1..=`word_order` (chrF++: 2) over `str.split()` tokens with
//!   sacreBLEU's punctuation separation: a token longer than one character that
//!   ends with an ASCII punctuation mark is split into (rest, mark), else one
//!   that starts with one into (mark, rest) — only one side, once;
//! * per order `[hyp, ref, match]` counts, `hyp` reported as 0 when the
//!   reference has no n-gram of that order;
//! * F-beta (beta 2) with sacreBLEU's default "effective order" averaging of
//!   precision and recall over the orders where both hyp and ref have n-grams
//!   (`eps_smoothing = false`), or the chrF++.py/NLTK epsilon smoothing;
//! * multiple references: per sentence, the statistics of the reference with the
//!   best sentence-level F (first one on ties) are kept.
//!
//! Corpus chrF = F of the summed statistics ([`ChrfStats::add`]).

use std::borrow::Cow;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bleu::ngrams::{FxHashMap, NgramCounter, StrInterner};
use super::bleu::{py_isspace, py_lower, py_split, with_counter, SACREBLEU_VERSION};

/// chrF options; `Default` = sacreBLEU's chrF (`CHRF()`: nc 6, nw 0, beta 2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChrfConfig {
    /// Character n-gram orders 1..=this (6).
    pub char_order: usize,
    /// Word n-gram orders 1..=this (0 for chrF, 2 for chrF++).
    pub word_order: usize,
    /// Weight of recall against precision in the F-beta (2).
    pub beta: u32,
    /// Python `str.lower()` on hypothesis and references first.
    pub lowercase: bool,
    /// Keep whitespace inside character n-grams (sacreBLEU `whitespace=True`).
    pub whitespace: bool,
    /// Epsilon smoothing of zero precisions/recalls (chrF++.py/NLTK) instead of sacreBLEU's
    /// effective-order averaging.
    pub eps_smoothing: bool,
}

impl Default for ChrfConfig {
    fn default() -> Self {
        ChrfConfig {
            char_order: 6,
            word_order: 0,
            beta: 2,
            lowercase: false,
            whitespace: false,
            eps_smoothing: false,
        }
    }
}

impl ChrfConfig {
    /// chrF++ (`CHRF(word_order=2)`).
    pub fn chrf_pp() -> Self {
        ChrfConfig { word_order: 2, ..Default::default() }
    }

    /// Total number of orders (`char_order + word_order`).
    pub fn order(&self) -> usize {
        self.char_order + self.word_order
    }

    /// sacreBLEU's score name: `chrF2`, `chrF2++`.
    pub fn name(&self) -> String {
        format!("chrF{}{}", self.beta, "+".repeat(self.word_order))
    }
}

/// Sufficient statistics: one `[hyp, ref, match]` per order (character orders
/// first, then word orders), sacreBLEU's flat list regrouped by three.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChrfStats {
    /// `[hyp, ref, match]` n-gram counts per order.
    pub orders: Vec<[u64; 3]>,
}

impl ChrfStats {
    /// All-zero statistics for `order` orders (character plus word).
    pub fn zeros(order: usize) -> Self {
        ChrfStats { orders: vec![[0; 3]; order] }
    }

    /// Element-wise sum (a shorter/empty side counts as zeros).
    pub fn add(&mut self, other: &ChrfStats) {
        if self.orders.len() < other.orders.len() {
            self.orders.resize(other.orders.len(), [0; 3]);
        }
        for (a, b) in self.orders.iter_mut().zip(&other.orders) {
            for k in 0..3 {
                a[k] += b[k];
            }
        }
    }

    /// sacreBLEU's flat layout `[hyp1, ref1, match1, hyp2, ...]`.
    pub fn to_sacrebleu_list(&self) -> Vec<u64> {
        self.orders.iter().flatten().copied().collect()
    }
}

impl std::ops::AddAssign<&ChrfStats> for ChrfStats {
    fn add_assign(&mut self, rhs: &ChrfStats) {
        self.add(rhs);
    }
}

/// A chrF score on sacreBLEU's 0..100 scale.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChrfScore {
    /// chrF, 0..100.
    pub score: f64,
    /// Character orders used.
    pub char_order: usize,
    /// Word orders used.
    pub word_order: usize,
    /// The beta used.
    pub beta: u32,
}

/// ASCII `string.punctuation`.
#[inline]
fn is_punct(b: u8) -> bool {
    b.is_ascii_punctuation()
}

/// sacreBLEU's `CHRF._remove_punctuation` (calls `f` for each resulting word).
#[inline]
fn for_each_word<'a>(sent: &'a str, mut f: impl FnMut(&'a str)) {
    for w in py_split(sent) {
        let b = w.as_bytes();
        // len(w) == 1 (in code points) matters only for a lone ASCII mark:
        // a lone non-ASCII character never starts/ends with an ASCII mark.
        if b.len() == 1 {
            f(w);
        } else if is_punct(b[b.len() - 1]) {
            f(&w[..w.len() - 1]);
            f(&w[w.len() - 1..]);
        } else if is_punct(b[0]) {
            f(&w[..1]);
            f(&w[1..]);
        } else {
            f(w);
        }
    }
}

/// sacreBLEU's `CHRF._compute_f_score` on one statistics vector.
pub fn f_score(cfg: &ChrfConfig, stats: &[[u64; 3]]) -> f64 {
    let eps = 1e-16f64;
    let mut score = 0.0f64;
    let mut effective_order = 0u32;
    let factor = (cfg.beta as f64) * (cfg.beta as f64);
    let (mut avg_prec, mut avg_rec) = (0.0f64, 0.0f64);
    let order = cfg.order();

    for i in 0..order {
        let [n_hyp, n_ref, n_match] = stats.get(i).copied().unwrap_or([0; 3]);
        let prec = if n_hyp > 0 { n_match as f64 / n_hyp as f64 } else { eps };
        let rec = if n_ref > 0 { n_match as f64 / n_ref as f64 } else { eps };
        let denom = factor * prec + rec;
        score += if denom > 0.0 { (1.0 + factor) * prec * rec / denom } else { eps };
        if n_hyp > 0 && n_ref > 0 {
            avg_prec += prec;
            avg_rec += rec;
            effective_order += 1;
        }
    }

    if cfg.eps_smoothing {
        return 100.0 * score / order as f64;
    }

    if effective_order == 0 {
        avg_prec = 0.0;
        avg_rec = 0.0;
    } else {
        avg_prec /= effective_order as f64;
        avg_rec /= effective_order as f64;
    }

    if avg_prec + avg_rec != 0.0 {
        let mut score = (1.0 + factor) * avg_prec * avg_rec;
        score /= (factor * avg_prec) + avg_rec;
        100.0 * score
    } else {
        0.0
    }
}

/// Score of (possibly summed) statistics.
pub fn score_from_stats(cfg: &ChrfConfig, stats: &ChrfStats) -> ChrfScore {
    ChrfScore {
        score: f_score(cfg, &stats.orders),
        char_order: cfg.char_order,
        word_order: cfg.word_order,
        beta: cfg.beta,
    }
}

/// Interns characters (code points) into dense ids.
struct CharInterner {
    ascii: [u32; 128],
    other: FxHashMap<u32, u32>,
    n: u32,
}

impl CharInterner {
    fn new() -> Self {
        CharInterner { ascii: [u32::MAX; 128], other: FxHashMap::default(), n: 0 }
    }
    #[inline]
    fn id(&mut self, c: char) -> u32 {
        let cp = c as u32;
        if cp < 128 {
            let slot = &mut self.ascii[cp as usize];
            if *slot == u32::MAX {
                *slot = self.n;
                self.n += 1;
            }
            *slot
        } else {
            let n = self.n;
            let id = *self.other.entry(cp).or_insert(n);
            if id == n {
                self.n += 1;
            }
            id
        }
    }
}

fn push_chars(c: &mut NgramCounter, ci: &mut CharInterner, s: &str, keep_ws: bool) {
    for ch in s.chars() {
        if keep_ws || !py_isspace(ch) {
            c.push_unit(ci.id(ch));
        }
    }
    c.end_segment();
}

/// Per-reference statistics of a preprocessed hypothesis, then the best one.
fn best_stats(cfg: &ChrfConfig, hyp: &str, refs: &[&str]) -> ChrfStats {
    let order = cfg.order();
    let nrefs = refs.len();
    if nrefs == 0 {
        return ChrfStats::zeros(order);
    }
    let mut per_ref = vec![[0u64; 3]; nrefs * order];

    with_counter(|c| {
        // character n-grams
        if cfg.char_order > 0 {
            let mut ci = CharInterner::new();
            c.clear();
            push_chars(c, &mut ci, hyp, cfg.whitespace);
            for r in refs {
                push_chars(c, &mut ci, r, cfg.whitespace);
            }
            c.start(ci.n as usize);
            for n in 0..cfg.char_order {
                if n > 0 {
                    c.advance();
                }
                c.chrf_order(|k, st| per_ref[k * order + n] = st);
            }
        }
        // word n-grams (chrF++)
        if cfg.word_order > 0 {
            let total_len: usize = hyp.len() + refs.iter().map(|r| r.len()).sum::<usize>();
            let mut wi = StrInterner::with_capacity(total_len / 5 + 8);
            c.clear();
            for_each_word(hyp, |w| c.push_unit(wi.id(w)));
            c.end_segment();
            for r in refs {
                for_each_word(r, |w| c.push_unit(wi.id(w)));
                c.end_segment();
            }
            c.start(wi.len());
            for n in 0..cfg.word_order {
                if n > 0 {
                    c.advance();
                }
                let col = cfg.char_order + n;
                c.chrf_order(|k, st| per_ref[k * order + col] = st);
            }
        }
    });

    let mut best: &[[u64; 3]] = &[];
    let mut best_f = -1.0f64;
    for k in 0..nrefs {
        let st = &per_ref[k * order..(k + 1) * order];
        let f = f_score(cfg, st);
        if f > best_f {
            best_f = f;
            best = st;
        }
    }
    ChrfStats { orders: best.to_vec() }
}

fn preprocess<'a>(cfg: &ChrfConfig, s: &'a str) -> Cow<'a, str> {
    if cfg.lowercase {
        Cow::Owned(py_lower(s))
    } else {
        Cow::Borrowed(s)
    }
}

/// Segment statistics of one hypothesis against its references
/// (statistics of the best-F reference, as sacreBLEU).
pub fn sentence_stats(cfg: &ChrfConfig, hyp: &str, refs: &[&str]) -> ChrfStats {
    let h = preprocess(cfg, hyp);
    let rs: Vec<Cow<str>> = refs.iter().map(|r| preprocess(cfg, r)).collect();
    let rr: Vec<&str> = rs.iter().map(|r| r.as_ref()).collect();
    best_stats(cfg, &h, &rr)
}

/// Sum of segment statistics; `refs[i]` holds the references of `hyps[i]`.
pub fn corpus_stats(cfg: &ChrfConfig, hyps: &[&str], refs: &[Vec<&str>]) -> ChrfStats {
    assert_eq!(hyps.len(), refs.len(), "corpus chrF: one reference list per hypothesis");
    let order = cfg.order();
    hyps.par_iter().zip(refs.par_iter()).map(|(h, r)| sentence_stats(cfg, h, r)).reduce(
        || ChrfStats::zeros(order),
        |mut a, b| {
            a.add(&b);
            a
        },
    )
}

/// Corpus chrF / chrF++ (sacreBLEU `CHRF(**cfg).corpus_score`). Note the layout:
/// `refs[i]` = all references of `hyps[i]` (sacreBLEU takes reference streams).
pub fn corpus_chrf(cfg: &ChrfConfig, hyps: &[&str], refs: &[Vec<&str>]) -> ChrfScore {
    score_from_stats(cfg, &corpus_stats(cfg, hyps, refs))
}

/// Sentence chrF with sacreBLEU defaults (`sentence_chrf`).
pub fn sentence_chrf(hyp: &str, refs: &[&str]) -> ChrfScore {
    let cfg = ChrfConfig::default();
    score_from_stats(&cfg, &sentence_stats(&cfg, hyp, refs))
}

/// sacreBLEU's chrF signature with `nrefs:1`, e.g.
/// `nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0`.
pub fn signature(cfg: &ChrfConfig) -> String {
    signature_with_nrefs(cfg, Some(1))
}

/// Signature with a given reference count (`None` = variable, printed `var`).
pub fn signature_with_nrefs(cfg: &ChrfConfig, nrefs: Option<usize>) -> String {
    format!(
        "nrefs:{}|case:{}|eff:{}|nc:{}|nw:{}|space:{}|version:{}",
        nrefs.map_or_else(|| "var".to_string(), |n| n.to_string()),
        if cfg.lowercase { "lc" } else { "mixed" },
        if cfg.eps_smoothing { "no" } else { "yes" },
        cfg.char_order,
        cfg.word_order,
        if cfg.whitespace { "yes" } else { "no" },
        SACREBLEU_VERSION
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_is_100() {
        let s = sentence_chrf("The cat sat.", &["The cat sat."]);
        assert!((s.score - 100.0).abs() < 1e-12);
    }

    #[test]
    fn hand_checked_char_stats() {
        // "ab c" -> "abc" ; ref "abd"
        let cfg = ChrfConfig { char_order: 2, ..Default::default() };
        let st = sentence_stats(&cfg, "ab c", &["a bd"]);
        // unigrams: hyp a,b,c ref a,b,d -> match 2 ; bigrams: ab,bc vs ab,bd -> 1
        assert_eq!(st.orders, vec![[3, 3, 2], [2, 2, 1]]);
        // avg P = avg R = (2/3 + 1/2)/2 ; F = P when P == R
        let p = (2.0 / 3.0 + 0.5) / 2.0;
        let f = score_from_stats(&cfg, &st).score;
        assert!((f - 100.0 * (5.0 * p * p) / (4.0 * p + p)).abs() < 1e-12, "{f}");
    }

    #[test]
    fn hyp_count_zero_when_ref_lacks_order() {
        let cfg = ChrfConfig { char_order: 3, ..Default::default() };
        let st = sentence_stats(&cfg, "abcd", &["ab"]);
        assert_eq!(st.orders, vec![[4, 2, 2], [3, 1, 1], [0, 0, 0]]);
    }

    #[test]
    fn punctuation_split_words() {
        let mut v = vec![];
        for_each_word("(hi) .x y. , ((a", |w| v.push(w.to_string()));
        assert_eq!(v, vec!["(hi", ")", ".", "x", "y", ".", ",", "(", "(a"]);
    }

    #[test]
    fn chrf_pp_word_stats() {
        let cfg = ChrfConfig { char_order: 0, word_order: 2, ..Default::default() };
        let st = sentence_stats(&cfg, "the cat, the cat", &["the cat sat"]);
        // words: the cat , the cat | the cat sat
        assert_eq!(st.orders, vec![[5, 3, 2], [4, 2, 1]]);
    }

    #[test]
    fn best_reference_is_kept() {
        let cfg = ChrfConfig::default();
        let a = sentence_stats(&cfg, "hello world", &["goodbye moon", "hello world"]);
        let b = sentence_stats(&cfg, "hello world", &["hello world"]);
        assert_eq!(a, b);
    }

    #[test]
    fn empty_cases() {
        assert_eq!(sentence_chrf("", &["abc"]).score, 0.0);
        assert_eq!(sentence_chrf("abc", &[""]).score, 0.0);
        assert_eq!(sentence_stats(&ChrfConfig::default(), "a", &[]), ChrfStats::zeros(6));
    }

    #[test]
    fn signatures() {
        assert_eq!(
            signature(&ChrfConfig::default()),
            "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"
        );
        assert_eq!(
            signature_with_nrefs(&ChrfConfig { lowercase: true, ..ChrfConfig::chrf_pp() }, None),
            "nrefs:var|case:lc|eff:yes|nc:6|nw:2|space:no|version:2.6.0"
        );
        assert_eq!(ChrfConfig::chrf_pp().name(), "chrF2++");
    }
}
