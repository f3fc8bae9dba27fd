//! Preprocessing, segment and corpus statistics, and BLEU from statistics.

use std::borrow::Cow;

use rayon::prelude::*;

use super::ngrams::{with_counter, StrInterner};
use super::tokenize::tokenize_13a;
use super::{
    py_lower, py_rstrip, py_split, BleuConfig, BleuScore, BleuStats, BleuTokenizer, Smooth,
    MAX_NGRAM_ORDER,
};

/// sacreBLEU's `_preprocess_segment`: optional `lower()`, `rstrip()`, tokenizer.
pub fn preprocess<'a>(cfg: &BleuConfig, sent: &'a str) -> Cow<'a, str> {
    let s: Cow<str> = if cfg.lowercase { Cow::Owned(py_lower(sent)) } else { Cow::Borrowed(sent) };
    match cfg.tokenize {
        BleuTokenizer::Tok13a => Cow::Owned(tokenize_13a(py_rstrip(&s))),
        BleuTokenizer::None => match s {
            Cow::Borrowed(b) => Cow::Borrowed(py_rstrip(b)),
            Cow::Owned(o) => Cow::Owned(py_rstrip(&o).to_string()),
        },
    }
}

/// sacreBLEU's `_get_closest_ref_len` (ties go to the shorter reference;
/// 0 when there is no reference).
fn closest_ref_len(hyp_len: u64, ref_lens: &[u64]) -> u64 {
    let mut closest: Option<(u64, u64)> = None; // (diff, len)
    for &r in ref_lens {
        let diff = hyp_len.abs_diff(r);
        match closest {
            None => closest = Some((diff, r)),
            Some((d, l)) => {
                if diff < d {
                    closest = Some((diff, r));
                } else if diff == d && r < l {
                    closest = Some((d, r));
                }
            }
        }
    }
    closest.map_or(0, |(_, l)| l)
}

fn check_order(cfg: &BleuConfig) -> usize {
    assert!(
        (1..=MAX_NGRAM_ORDER).contains(&cfg.max_ngram_order),
        "BLEU max_ngram_order must be in 1..=4, got {}",
        cfg.max_ngram_order
    );
    cfg.max_ngram_order
}

/// Segment statistics of one hypothesis against its references (already
/// preprocessed/tokenized strings: tokens are split on Python whitespace).
pub fn stats_from_tokenized(cfg: &BleuConfig, hyp: &str, refs: &[&str]) -> BleuStats {
    let order = check_order(cfg);
    let total_len: usize = hyp.len() + refs.iter().map(|r| r.len()).sum::<usize>();
    let mut interner = StrInterner::with_capacity(total_len / 5 + 8);
    with_counter(|c| {
        c.clear();
        let mut hyp_len = 0u64;
        for t in py_split(hyp) {
            c.push_unit(interner.id(t));
            hyp_len += 1;
        }
        c.end_segment();
        let mut ref_lens = Vec::with_capacity(refs.len());
        for r in refs {
            let mut l = 0u64;
            for t in py_split(r) {
                c.push_unit(interner.id(t));
                l += 1;
            }
            c.end_segment();
            ref_lens.push(l);
        }
        let mut st = BleuStats {
            sys_len: hyp_len,
            ref_len: closest_ref_len(hyp_len, &ref_lens),
            ..Default::default()
        };
        c.start(interner.len());
        for n in 0..order {
            if n > 0 {
                c.advance();
            }
            let (corr, tot) = c.bleu_order();
            st.correct[n] = corr;
            st.total[n] = tot;
        }
        st
    })
}

/// Segment statistics (sacreBLEU `_extract_corpus_statistics` for one segment).
pub fn sentence_stats(cfg: &BleuConfig, hyp: &str, refs: &[&str]) -> BleuStats {
    let h = preprocess(cfg, hyp);
    let rs: Vec<Cow<str>> = refs.iter().map(|r| preprocess(cfg, r)).collect();
    let rr: Vec<&str> = rs.iter().map(|r| r.as_ref()).collect();
    stats_from_tokenized(cfg, &h, &rr)
}

#[inline]
fn my_log(x: f64) -> f64 {
    if x == 0.0 {
        -9_999_999_999.0
    } else {
        x.ln()
    }
}

/// sacreBLEU's `BLEU.compute_bleu` on (possibly summed) statistics.
pub fn score_from_stats(cfg: &BleuConfig, stats: &BleuStats) -> BleuScore {
    let order = check_order(cfg);
    let (sys_len, ref_len) = (stats.sys_len, stats.ref_len);
    let mut bp = 1.0f64;
    if sys_len < ref_len {
        bp = if sys_len > 0 { (1.0 - ref_len as f64 / sys_len as f64).exp() } else { 0.0 };
    }
    let mut precisions = [0.0f64; 4];
    let mut out = BleuScore { score: 0.0, precisions, bp, sys_len, ref_len };
    if stats.correct[..order].iter().all(|&c| c == 0) {
        return out;
    }
    let mut smooth_mteval = 1.0f64;
    let mut eff_order = order;
    for n in 1..=order {
        let mut correct = stats.correct[n - 1] as f64;
        let mut total = stats.total[n - 1] as f64;
        if let Smooth::AddK(k) = cfg.smooth {
            if n > 1 {
                correct += k;
                total += k;
            }
        }
        if total == 0.0 {
            break;
        }
        if cfg.effective_order {
            eff_order = n;
        }
        if correct == 0.0 {
            match cfg.smooth {
                Smooth::Exp => {
                    smooth_mteval *= 2.0;
                    precisions[n - 1] = 100.0 / (smooth_mteval * total);
                }
                Smooth::Floor(v) => precisions[n - 1] = 100.0 * v / total,
                _ => {}
            }
        } else {
            precisions[n - 1] = 100.0 * correct / total;
        }
    }
    // Python's sum() of a list of floats (sequential, as in CPython <= 3.11)
    let mut s = 0.0f64;
    for &p in &precisions[..eff_order] {
        s += my_log(p);
    }
    out.score = bp * (s / eff_order as f64).exp();
    out.precisions = precisions;
    out
}

/// Sum of segment statistics; `refs[i]` holds the references of `hyps[i]`
/// (any number per segment, like sacreBLEU with `None` padding).
pub fn corpus_stats(cfg: &BleuConfig, hyps: &[&str], refs: &[Vec<&str>]) -> BleuStats {
    assert_eq!(hyps.len(), refs.len(), "corpus BLEU: one reference list per hypothesis");
    hyps.par_iter().zip(refs.par_iter()).map(|(h, r)| sentence_stats(cfg, h, r)).reduce(
        BleuStats::default,
        |mut a, b| {
            a.add(&b);
            a
        },
    )
}

/// Corpus BLEU (sacreBLEU `corpus_bleu` / `BLEU(**cfg).corpus_score`).
/// Note the layout: `refs[i]` = all references of `hyps[i]` (sacreBLEU takes
/// reference *streams* instead, i.e. the transpose).
pub fn corpus_bleu(cfg: &BleuConfig, hyps: &[&str], refs: &[Vec<&str>]) -> BleuScore {
    score_from_stats(cfg, &corpus_stats(cfg, hyps, refs))
}

/// Sentence BLEU with sacreBLEU's `sentence_bleu` defaults
/// (13a, mixed case, `exp` smoothing, effective order).
pub fn sentence_bleu(hyp: &str, refs: &[&str]) -> BleuScore {
    let cfg = BleuConfig::sentence();
    score_from_stats(&cfg, &sentence_stats(&cfg, hyp, refs))
}
