//! Prediction-side scoring state: n-gram keys, rougeL and rougeLsum for one prediction.

use std::collections::HashMap;

use super::lcs::{lcs_len_dp, lcs_union_bits, LCS_MASK_CAP_WORDS};
use super::tokenizer::TokSeq;
use super::{Prf, RougeType};

/// Prediction-side data shared by all targets of one call.
pub(super) struct PredPrep {
    vocab: usize,
    /// Sorted n-gram keys of the prediction, per entry of `types` (empty for non-N types).
    ngram_keys: Vec<Vec<u64>>,
    /// Bit-parallel LCS match masks of the prediction: `lcs_slot[id]` (`u32::MAX` = absent
    /// from the prediction) indexes `words`-word masks in `lcs_masks`.
    lcs_slot: Vec<u32>,
    lcs_masks: Vec<u64>,
    lcs_words: usize,
    /// The prediction's tokens, when the masks would be too large (huge inputs) and rougeL
    /// falls back to the O(n) memory DP.
    lcs_dp: Option<Vec<u32>>,
    /// Fallback n-gram ids when packing does not fit in 64 bits.
    fallback: HashMap<u64, u32>,
    /// Lsum scratch.
    union: Vec<bool>,
    cnt_r: Vec<u32>,
    cnt_c: Vec<u32>,
    /// token id → index of its match mask in `sent_masks` for the current candidate
    /// sentence (`u32::MAX` = absent); `vocab` entries, reset after each sentence.
    slot: Vec<u32>,
    sent_masks: Vec<u64>,
    rows: Vec<u64>,
}

impl PredPrep {
    pub(super) fn new(types: &[RougeType], p: &TokSeq, vocab: usize) -> Self {
        let mut prep = PredPrep {
            vocab,
            ngram_keys: Vec::with_capacity(types.len()),
            lcs_slot: Vec::new(),
            lcs_masks: Vec::new(),
            lcs_words: 0,
            lcs_dp: None,
            fallback: HashMap::new(),
            union: Vec::new(),
            cnt_r: Vec::new(),
            cnt_c: Vec::new(),
            slot: Vec::new(),
            sent_masks: Vec::new(),
            rows: Vec::new(),
        };
        for t in types {
            let keys = match *t {
                RougeType::N(n) => prep.ngram_keys_of(&p.ids, n),
                _ => Vec::new(),
            };
            prep.ngram_keys.push(keys);
        }
        if types.contains(&RougeType::L) && !p.ids.is_empty() {
            let words = p.ids.len().div_ceil(64);
            let mut slot = vec![u32::MAX; vocab];
            let mut distinct = 0usize;
            for &id in &p.ids {
                if slot[id as usize] == u32::MAX {
                    slot[id as usize] = distinct as u32;
                    distinct += 1;
                }
            }
            if distinct.saturating_mul(words) <= LCS_MASK_CAP_WORDS {
                let mut masks = vec![0u64; distinct * words];
                for (j, &id) in p.ids.iter().enumerate() {
                    masks[slot[id as usize] as usize * words + j / 64] |= 1u64 << (j % 64);
                }
                prep.lcs_slot = slot;
                prep.lcs_masks = masks;
                prep.lcs_words = words;
            } else {
                prep.lcs_dp = Some(p.ids.clone());
            }
        }
        prep
    }

    /// Sorted keys identifying the n-grams of `ids` (equal keys ⇔ equal n-grams).
    pub(super) fn ngram_keys_of(&mut self, ids: &[u32], n: usize) -> Vec<u64> {
        if ids.len() < n {
            return Vec::new();
        }
        let count = ids.len() - n + 1;
        let bits = (usize::BITS - self.vocab.max(2).leading_zeros()) as usize;
        let mut keys: Vec<u64> = Vec::with_capacity(count);
        if n * bits <= 64 {
            for w in ids.windows(n) {
                let mut k = 0u64;
                for &id in w {
                    k = (k << bits) | id as u64;
                }
                keys.push(k);
            }
        } else {
            // Compress (n-1)-gram ids and the next token pairwise into fresh dense ids.
            let mut cur: Vec<u64> = ids.iter().map(|&x| x as u64).collect();
            for k in 2..=n {
                let next_len = ids.len() - k + 1;
                let mut next = Vec::with_capacity(next_len);
                for i in 0..next_len {
                    // (prefix id, next token) → dense id; injective within each level, which
                    // is all that comparisons of same-n keys need.
                    let pair = (cur[i] << 32) | ids[i + k - 1] as u64;
                    let len = self.fallback.len() as u32;
                    let id = *self.fallback.entry(pair).or_insert(len);
                    next.push(id as u64);
                }
                cur = next;
            }
            keys = cur;
        }
        keys.sort_unstable();
        keys
    }

    pub(super) fn score_target(&mut self, types: &[RougeType], t: &TokSeq, p: &TokSeq) -> Vec<Prf> {
        let mut out = Vec::with_capacity(types.len());
        for (k, ty) in types.iter().enumerate() {
            let s = match *ty {
                RougeType::N(n) => {
                    let tk = self.ngram_keys_of(&t.ids, n);
                    let pk = &self.ngram_keys[k];
                    let inter = sorted_overlap(&tk, pk);
                    let precision = inter as f64 / pk.len().max(1) as f64;
                    let recall = inter as f64 / tk.len().max(1) as f64;
                    Prf::from_pr(precision, recall)
                }
                RougeType::L => {
                    if t.ids.is_empty() || p.ids.is_empty() {
                        Prf::ZERO
                    } else {
                        let lcs = self.lcs_len(&t.ids);
                        Prf::from_pr(
                            lcs as f64 / p.ids.len() as f64,
                            lcs as f64 / t.ids.len() as f64,
                        )
                    }
                }
                RougeType::Lsum => self.summary_level_lcs(t, p),
            };
            out.push(s);
        }
        out
    }

    /// LCS length of `a` and the prediction (bit-parallel, Hyyrö 2004).
    pub(super) fn lcs_len(&self, a: &[u32]) -> usize {
        if let Some(b) = &self.lcs_dp {
            return lcs_len_dp(a, b);
        }
        let w = self.lcs_words;
        let mut v = vec![!0u64; w];
        for &c in a {
            let s = self.lcs_slot[c as usize];
            if s == u32::MAX {
                continue; // no match anywhere: the row is unchanged
            }
            let m = &self.lcs_masks[s as usize * w..(s as usize + 1) * w];
            let mut carry = 0u64;
            for k in 0..w {
                let vk = v[k];
                let u = vk & m[k];
                let (s1, c1) = vk.overflowing_add(u);
                let (s2, c2) = s1.overflowing_add(carry);
                carry = (c1 | c2) as u64;
                v[k] = s2 | (vk & !m[k]);
            }
        }
        // Bits beyond the prediction length stay 1, so counting all zeros is exact.
        v.iter().map(|x| x.count_zeros() as usize).sum()
    }

    /// `_summary_level_lcs(ref_sent=target sentences, can_sent=prediction sentences)`.
    fn summary_level_lcs(&mut self, t: &TokSeq, p: &TokSeq) -> Prf {
        // Empty sentences are dropped already; they contribute nothing to rouge-score's sums.
        let m = t.ids.len();
        let n = p.ids.len();
        if m == 0 || n == 0 {
            return Prf::ZERO;
        }
        self.cnt_r.clear();
        self.cnt_r.resize(self.vocab, 0);
        self.cnt_c.clear();
        self.cnt_c.resize(self.vocab, 0);
        for &x in &t.ids {
            self.cnt_r[x as usize] += 1;
        }
        for &x in &p.ids {
            self.cnt_c[x as usize] += 1;
        }
        // rouge-score loops `for r in ref_sent: union over c in can_sent`, then counts hits over
        // each r's union indices in increasing order. The union of one r does not depend on
        // the order of the candidates, so we loop candidates outside (building each one's
        // match masks once) and record unions by global target position; walking positions
        // in order then reproduces Python's hit order exactly.
        self.union.clear();
        self.union.resize(m, false);
        if self.slot.len() < self.vocab {
            self.slot.resize(self.vocab, u32::MAX);
        }
        for &(cs, ce) in &p.sents {
            let c = &p.ids[cs as usize..ce as usize];
            let words = c.len().div_ceil(64);
            self.sent_masks.clear();
            let mut nslots = 0u32;
            for (j, &id) in c.iter().enumerate() {
                let mut s = self.slot[id as usize];
                if s == u32::MAX {
                    s = nslots;
                    nslots += 1;
                    self.slot[id as usize] = s;
                    self.sent_masks.resize(self.sent_masks.len() + words, 0);
                }
                self.sent_masks[s as usize * words + j / 64] |= 1u64 << (j % 64);
            }
            for &(rs, re) in &t.sents {
                let r = &t.ids[rs as usize..re as usize];
                lcs_union_bits(
                    r,
                    c,
                    words,
                    &self.slot,
                    &self.sent_masks,
                    &mut self.rows,
                    &mut self.union[rs as usize..re as usize],
                );
            }
            for &id in c {
                self.slot[id as usize] = u32::MAX;
            }
        }
        let mut hits = 0usize;
        for (&tok, &inu) in t.ids.iter().zip(&self.union) {
            if inu {
                let tok = tok as usize;
                if self.cnt_c[tok] > 0 && self.cnt_r[tok] > 0 {
                    hits += 1;
                    self.cnt_c[tok] -= 1;
                    self.cnt_r[tok] -= 1;
                }
            }
        }
        Prf::from_pr(hits as f64 / n as f64, hits as f64 / m as f64)
    }
}

/// Σ over distinct keys of min(count in a, count in b), for sorted `a` and `b`.
pub(super) fn sorted_overlap(a: &[u64], b: &[u64]) -> usize {
    let (mut i, mut j, mut inter) = (0usize, 0usize, 0usize);
    while i < a.len() && j < b.len() {
        let (x, y) = (a[i], b[j]);
        if x < y {
            i += 1;
        } else if y < x {
            j += 1;
        } else {
            let i0 = i;
            while i < a.len() && a[i] == x {
                i += 1;
            }
            let j0 = j;
            while j < b.len() && b[j] == x {
                j += 1;
            }
            inter += (i - i0).min(j - j0);
        }
    }
    inter
}
