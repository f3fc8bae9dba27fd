//! Crate-private n-gram counting engine (shared with chrF): dense n-gram ids per order.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A small, fast, non-cryptographic hasher (FxHash mixing with a folded
/// multiply in `finish` so that keys differing only in high bits spread).
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const K: u64 = 0xf135_7aea_2e62_a9c5;

impl FxHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.hash = (self.hash.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let rem = chunks.remainder();
        if !rem.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rem.len()].copy_from_slice(rem);
            self.add(u64::from_le_bytes(buf) ^ ((rem.len() as u64) << 59));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        let m = (self.hash as u128).wrapping_mul(0x9e37_79b9_7f4a_7c15u128);
        (m as u64) ^ ((m >> 64) as u64)
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

const NONE: u32 = u32::MAX;
/// Largest (n-1)-gram ids x unit ids key space handled by a direct table.
const DIRECT_LIMIT: u64 = 1 << 18;

/// Counts n-grams of segment 0 (the hypothesis) against segments 1..
/// (the references). Units (tokens or characters) must be pushed as
/// dense ids `0..n_unit_ids`.
#[derive(Default)]
pub(crate) struct NgramCounter {
    units: Vec<u32>,
    seg_starts: Vec<usize>,
    seg_end_of: Vec<u32>,
    ranks: Vec<u32>,
    map: FxHashMap<u64, u32>,
    n_ids: usize,
    n_units: usize,
    order: usize,
    direct: Vec<u32>,
    touched: Vec<u32>,
    /// Always use the hash map (tests compare both paths).
    pub(crate) force_hash: bool,
    cnt_a: Vec<u32>,
    cnt_b: Vec<u32>,
}

impl NgramCounter {
    pub(crate) fn clear(&mut self) {
        self.units.clear();
        self.seg_starts.clear();
        self.seg_starts.push(0);
        self.seg_end_of.clear();
        self.order = 0;
    }

    /// Pushes one segment's unit id (call [`Self::end_segment`] after each segment).
    #[inline]
    pub(crate) fn push_unit(&mut self, id: u32) {
        self.units.push(id);
    }

    pub(crate) fn end_segment(&mut self) {
        let start = *self.seg_starts.last().unwrap();
        let end = self.units.len();
        self.seg_starts.push(end);
        self.seg_end_of.resize(end, end as u32);
        debug_assert!(self.seg_end_of.len() == end && start <= end);
    }

    pub(crate) fn n_segments(&self) -> usize {
        self.seg_starts.len() - 1
    }

    #[inline]
    fn seg(&self, k: usize) -> (usize, usize) {
        (self.seg_starts[k], self.seg_starts[k + 1])
    }

    /// Moves to order 1 (unigrams).
    pub(crate) fn start(&mut self, n_unit_ids: usize) {
        self.ranks.clear();
        self.ranks.extend_from_slice(&self.units);
        self.n_ids = n_unit_ids;
        self.n_units = n_unit_ids;
        self.order = 1;
    }

    /// Moves from order n to order n+1: every window gets the dense id of
    /// (id of its (n)-gram prefix, id of its last unit).
    pub(crate) fn advance(&mut self) {
        let n = self.order + 1;
        let mut next_id = 0u32;
        let len = self.units.len();
        let n_units = self.n_units;
        if !self.force_hash && (self.n_ids as u64) * (n_units as u64) <= DIRECT_LIMIT {
            // small key space: a direct-address table instead of hashing
            let size = self.n_ids * n_units;
            if self.direct.len() < size {
                self.direct.resize(size, NONE);
            }
            // Branch-free on whether the n-gram is new (about half are, in no pattern the
            // predictor could learn): the id is selected, always stored, and the key is
            // appended to `touched` by advancing its length only when new.
            self.touched.clear();
            self.touched.resize(len + 1, 0);
            let mut t = 0usize;
            // Slices in locals: no reloads of the vectors through `self` per window.
            let (ranks, units, seg_end_of) =
                (&mut self.ranks[..len], &self.units[..len], &self.seg_end_of[..len]);
            let (direct, touched) = (&mut self.direct[..size], &mut self.touched[..len + 1]);
            for i in 0..len {
                let r = ranks[i];
                if r == NONE {
                    continue;
                }
                let j = i + n - 1;
                if j >= seg_end_of[i] as usize {
                    ranks[i] = NONE;
                    continue;
                }
                let key = r as usize * n_units + units[j] as usize;
                let slot = direct[key];
                let new = slot == NONE;
                let id = if new { next_id } else { slot };
                direct[key] = id;
                touched[t] = key as u32;
                t += usize::from(new);
                next_id += u32::from(new);
                ranks[i] = id;
            }
            for &k in &touched[..t] {
                direct[k as usize] = NONE;
            }
        } else {
            self.map.clear();
            for i in 0..len {
                let r = self.ranks[i];
                if r == NONE {
                    continue;
                }
                let j = i + n - 1;
                if j >= self.seg_end_of[i] as usize {
                    self.ranks[i] = NONE;
                    continue;
                }
                let key = ((r as u64) << 32) | self.units[j] as u64;
                let id = *self.map.entry(key).or_insert_with(|| {
                    let k = next_id;
                    next_id += 1;
                    k
                });
                self.ranks[i] = id;
            }
        }
        self.n_ids = next_id as usize;
        self.order = n;
    }

    fn reset_counts(&mut self) {
        self.cnt_a.clear();
        self.cnt_a.resize(self.n_ids, 0);
        self.cnt_b.clear();
        self.cnt_b.resize(self.n_ids, 0);
    }

    /// BLEU statistics of the current order: (clipped matches, hypothesis
    /// n-gram count), clipping with the max count over all references.
    pub(crate) fn bleu_order(&mut self) -> (u64, u64) {
        self.reset_counts();
        let nseg = self.n_segments();
        for k in 1..nseg {
            let (s, e) = self.seg(k);
            for i in s..e {
                let r = self.ranks[i];
                if r != NONE {
                    let r = r as usize;
                    self.cnt_b[r] += 1;
                    if self.cnt_b[r] > self.cnt_a[r] {
                        self.cnt_a[r] = self.cnt_b[r];
                    }
                }
            }
            for i in s..e {
                let r = self.ranks[i];
                if r != NONE {
                    self.cnt_b[r as usize] = 0;
                }
            }
        }
        let (s, e) = self.seg(0);
        let (mut correct, mut total) = (0u64, 0u64);
        for i in s..e {
            let r = self.ranks[i];
            if r != NONE {
                let r = r as usize;
                total += 1;
                self.cnt_b[r] += 1;
                if self.cnt_b[r] <= self.cnt_a[r] {
                    correct += 1;
                }
            }
        }
        (correct, total)
    }

    /// chrF statistics of the current order, one `[hyp, ref, match]` per
    /// reference (sacreBLEU's `_get_match_statistics`: the hypothesis count
    /// is 0 when the reference has no n-gram of this order).
    pub(crate) fn chrf_order(&mut self, mut out: impl FnMut(usize, [u64; 3])) {
        self.reset_counts();
        let (s, e) = self.seg(0);
        let nseg = self.n_segments();
        let (ranks, cnt_a, cnt_b) = (&self.ranks[..], &mut self.cnt_a[..], &mut self.cnt_b[..]);
        let mut hyp_total = 0u64;
        for &r in &ranks[s..e] {
            if r != NONE {
                hyp_total += 1;
                cnt_a[r as usize] += 1;
            }
        }
        for k in 1..nseg {
            let (s, e) = (self.seg_starts[k], self.seg_starts[k + 1]);
            let (mut ref_total, mut matches) = (0u64, 0u64);
            for &r in &ranks[s..e] {
                if r != NONE {
                    let r = r as usize;
                    ref_total += 1;
                    cnt_b[r] += 1;
                    // Branch-free: whether a reference occurrence matches is unpredictable.
                    matches += u64::from(cnt_b[r] <= cnt_a[r]);
                }
            }
            for &r in &ranks[s..e] {
                if r != NONE {
                    cnt_b[r as usize] = 0;
                }
            }
            let hyp = if ref_total > 0 { hyp_total } else { 0 };
            out(k - 1, [hyp, ref_total, matches]);
        }
    }
}

/// Interns string tokens into dense ids.
pub(crate) struct StrInterner<'a> {
    map: FxHashMap<&'a str, u32>,
}

impl<'a> StrInterner<'a> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self { map: FxHashMap::with_capacity_and_hasher(n, FxBuild::default()) }
    }
    #[inline]
    pub(crate) fn id(&mut self, s: &'a str) -> u32 {
        let n = self.map.len() as u32;
        *self.map.entry(s).or_insert(n)
    }
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

thread_local! {
    static COUNTER: RefCell<NgramCounter> = RefCell::new(NgramCounter::default());
}

/// Runs `f` with this thread's reusable [`NgramCounter`] (a fresh one on re-entrant use).
pub(crate) fn with_counter<R>(f: impl FnOnce(&mut NgramCounter) -> R) -> R {
    COUNTER.with(|c| match c.try_borrow_mut() {
        Ok(mut c) => f(&mut c),
        // re-entrant use (not expected): fall back to a fresh counter
        Err(_) => f(&mut NgramCounter::default()),
    })
}
