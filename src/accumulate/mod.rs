//! The streaming aggregate: per-system means and corpus scores with bootstrap confidence
//! intervals, accumulated record by record in memory that does not grow with the corpus.
//!
//! **Resampling.** Each record enters every resample `b` with a Poisson(1) weight drawn from a
//! stream seeded by (seed, record id) — the Poisson bootstrap (Hanley & MacGibbon 2006;
//! Chamandy et al. 2012), which needs neither the corpus size in advance nor the rows kept.
//! Records with the same id (one article, several systems) get the same weights, so systems
//! are resampled together. A resample's mean is Σ w·x / Σ w; a resample whose weights are all
//! zero is skipped.
//!
//! **Exact sums.** Values are summed as fixed-point integers, so every sum is exact and the
//! aggregate is the same bits whatever the order of the records (input order, shards merged,
//! resumed runs, thread count). The point estimate sums x on a 2^-60 grid (an i128 per leaf:
//! every bit of an f64 in [2^-8, 2^33)); the resamples sum x on a 2^-31 grid, as 31-bit limbs
//! in i64 columns (one limb for values below 1 in magnitude, such as ROUGE), which moves a
//! confidence bound by at most 2^-32 ≈ 2.3e-10.
use crate::aggregate::{
    headline_metric, intern, AggRow, Aggregate, CorpusStat, Name, SystemAggregate,
};
use crate::record::Record;
use crate::stats::{estimate, ResampleRng, StatsConfig};
use std::collections::{BTreeMap, HashMap};

/// Fixed-point scale of the point estimate: x is summed as round(x · 2^60).
const FRAC_BITS: i32 = 60;
/// Fixed-point scale of the resample sums: x is summed as round(x · 2^31).
const RES_BITS: i32 = 31;
const LIMB_BITS: u32 = 31;
const LIMB_MASK: u128 = (1 << LIMB_BITS) - 1;
/// Score values must be below 2^33 in magnitude (three 31-bit limbs of the 2^-60 grid).
const MAX_ABS: f64 = 8_589_934_592.0;
/// Bins of the per-metric histograms kept for the HTML report (0–100 on the report's scale).
pub const HIST_BINS: usize = 20;
/// Distinct ids whose record counts are kept (for the HTML report's article view).
pub const TRACKED_IDS: usize = 500;

/// Thresholds of Poisson(1) on a 32-bit uniform: w = #{k : u ≥ T[k]}, T[k] = round(2^32·P(X ≤ k))
/// for every k whose threshold is below 2^32 (k ≤ 11; P(X > 12) · 2^32 < 0.5).
const POISSON_T: [u32; 12] = [
    1580030169, 3160060337, 3950075422, 4213413783, 4279248374, 4292415292, 4294609778, 4294923276,
    4294962463, 4294966817, 4294967253, 4294967292,
];

/// A record's Poisson(1) weight in each of `b` resamples, from (seed, id).
pub fn poisson_weights(seed: u64, id: &str, b: usize, out: &mut Vec<i32>) {
    // FNV-1a of the id, mixed with the seed into two 32-bit keys (SplitMix64); weight b is
    // Poisson(1) of the uniform lowbias32(lowbias32(b ^ k1) ^ k2): a keyed hash of b, so each
    // weight is computed on its own, 16 at a time.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in id.as_bytes() {
        h = (h ^ u64::from(c)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let key = ResampleRng::new(seed ^ 0x706f_6973_736f_6e31, h).next_u64();
    out.clear();
    out.resize(b, 0);
    dispatch!(poisson_weights_from_key(key, out))
}

/// Dispatches to the widest vector unit (the loops are the same code; results are identical).
macro_rules! dispatch {
    ($f:ident($($a:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F (checked above).
                return unsafe { wide::$f::<Avx512>($($a),*) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked above).
                return unsafe { wide::$f::<Avx2>($($a),*) };
            }
        }
        portable::$f($($a),*)
    }};
}
use dispatch;

mod portable {
    /// Chris Wellons' lowbias32 integer hash.
    #[inline(always)]
    pub fn lowbias32(mut x: u32) -> u32 {
        x ^= x >> 16;
        x = x.wrapping_mul(0x7feb_352d);
        x ^= x >> 15;
        x = x.wrapping_mul(0x846c_a68b);
        x ^ (x >> 16)
    }

    /// w[b] = Poisson(1) weight of the uniform lowbias32(lowbias32(b ^ k1) ^ k2).
    #[inline(always)]
    pub fn poisson_weights_from_key(key: u64, w: &mut [i32]) {
        let (k1, k2) = (key as u32, (key >> 32) as u32);
        let mut b = 0u32;
        for x in w.iter_mut() {
            let u = lowbias32(lowbias32(b ^ k1) ^ k2);
            b = b.wrapping_add(1);
            let mut c = 0i32;
            for t in super::POISSON_T {
                c += i32::from(u >= t);
            }
            *x = c;
        }
    }

    /// acc[b] += w[b] · l (|l| < 2^31: a 32 × 32 → 64-bit product, exact).
    #[inline(always)]
    pub fn axpy(acc: &mut [i64], w: &[i32], l: i64) {
        let l = l as i32 as i64;
        for (a, &w) in acc.iter_mut().zip(w) {
            *a = a.wrapping_add(i64::from(w) * l);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod wide {
    pub struct Avx2;
    pub struct Avx512;
    #[target_feature(enable = "avx2")]
    unsafe fn poisson_avx2(key: u64, w: &mut [i32]) {
        super::portable::poisson_weights_from_key(key, w)
    }
    #[target_feature(enable = "avx512f")]
    unsafe fn poisson_avx512(key: u64, w: &mut [i32]) {
        super::portable::poisson_weights_from_key(key, w)
    }
    pub trait Isa {
        const WIDE: bool;
    }
    impl Isa for Avx2 {
        const WIDE: bool = false;
    }
    impl Isa for Avx512 {
        const WIDE: bool = true;
    }
    /// # Safety
    /// The CPU must support the instruction set `I`.
    pub unsafe fn poisson_weights_from_key<I: Isa>(key: u64, w: &mut [i32]) {
        if I::WIDE {
            poisson_avx512(key, w)
        } else {
            poisson_avx2(key, w)
        }
    }
}
#[cfg(target_arch = "x86_64")]
use wide::{Avx2, Avx512};

/// Applies pending records to the column accumulators. The (column, limb) items become a
/// dense column × record matrix; then, for each block of 64 resamples (the pending weights of
/// that block stay in L1), each column's block is loaded once, gets every record's w · limb
/// added in registers, and is stored once.
#[inline(always)]
fn apply_pending(cols: &mut [Vec<i64>], w: &[i32], b: usize, items: &[(u32, i32)], ends: &[usize]) {
    const BLOCK: usize = 64;
    let (nr, nc) = (ends.len(), cols.len());
    let mut dense = vec![0i32; nc * nr];
    let mut used = vec![false; nc];
    let mut start = 0;
    for (r, &end) in ends.iter().enumerate() {
        for &(c, l) in &items[start..end] {
            // A record has at most one item per column (one per limb of each leaf or statistic).
            debug_assert_eq!(dense[c as usize * nr + r], 0, "column {c} twice in one record");
            dense[c as usize * nr + r] = l;
            used[c as usize] = true;
        }
        start = end;
    }
    let used: Vec<usize> = (0..nc).filter(|&c| used[c]).collect();
    let mut lo = 0;
    while lo + BLOCK <= b {
        for &c in &used {
            let mut acc: [i64; BLOCK] = cols[c][lo..lo + BLOCK].try_into().expect("full block");
            for (r, &l) in dense[c * nr..(c + 1) * nr].iter().enumerate() {
                if l != 0 {
                    let wr: &[i32; BLOCK] =
                        w[r * b + lo..r * b + lo + BLOCK].try_into().expect("full block");
                    let l = i64::from(l);
                    for k in 0..BLOCK {
                        acc[k] = acc[k].wrapping_add(i64::from(wr[k]) * l);
                    }
                }
            }
            cols[c][lo..lo + BLOCK].copy_from_slice(&acc);
        }
        lo += BLOCK;
    }
    if lo < b {
        for &c in &used {
            for (r, &l) in dense[c * nr..(c + 1) * nr].iter().enumerate() {
                if l != 0 {
                    portable::axpy(&mut cols[c][lo..b], &w[r * b + lo..r * b + b], i64::from(l));
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn apply_pending_avx2(
    cols: &mut [Vec<i64>],
    w: &[i32],
    b: usize,
    items: &[(u32, i32)],
    ends: &[usize],
) {
    apply_pending(cols, w, b, items, ends)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn apply_pending_avx512(
    cols: &mut [Vec<i64>],
    w: &[i32],
    b: usize,
    items: &[(u32, i32)],
    ends: &[usize],
) {
    apply_pending(cols, w, b, items, ends)
}

/// Records buffered before their weights are applied (memory: PENDING × B weights per system).
const PENDING: usize = 64;

/// A value on the resamples' grid (x within ±2^33).
fn coarse(x: f64) -> i128 {
    (x * 2f64.powi(RES_BITS)).round() as i128
}

/// A value on the fixed-point grid, or None beyond ±2^33.
fn fixed(x: f64) -> Option<i128> {
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // NaN must fail the bound too
    if !(x.abs() < MAX_ABS) {
        return None;
    }
    Some((x * 2f64.powi(FRAC_BITS)).round() as i128)
}

const NO_COL: u32 = u32::MAX;

/// One score leaf of one system.
struct Leaf {
    n: usize,
    /// Exact sum of the values (fixed point).
    point: i128,
    /// Columns of the magnitude limbs of positive and of negative values (NO_COL while zero).
    limbs: [[u32; 3]; 2],
    /// Column of Σ w of scored records that lack this leaf (NO_COL while none does).
    missing: u32,
    /// Record (epoch) that last had this leaf.
    seen: u64,
    /// Why the leaf is not aggregated (a value out of range), with the smallest such id.
    bad: Option<(String, String)>,
    hist: Option<[u64; HIST_BINS]>,
}

/// One sufficient-statistics array (`bleu.stats`) of one system: integer columns.
#[derive(Default)]
struct StatCols {
    point: Vec<i64>,
    cols: Vec<u32>,
    bad: Option<(String, String)>,
}

struct SystemAcc {
    b: usize,
    records: usize,
    scored: usize,
    errors: usize,
    /// Column accumulators, B each: Σ over records of w[b] · limb. Column 0 is Σ w.
    cols: Vec<Vec<i64>>,
    leaves: Vec<(Name, Leaf)>,
    leaf_index: HashMap<Name, usize>,
    /// Leaf indices of the previous record, in its order (records of a run share them).
    last_order: Vec<usize>,
    stats: BTreeMap<Name, StatCols>,
    /// Reason per metric not computed, from the smallest id that has one.
    not_computed: BTreeMap<String, (String, String)>,
    epoch: u64,
    /// Pending records: their weights (B each), (column, limb) items, and item end offsets.
    pend_w: Vec<i32>,
    pend_items: Vec<(u32, i32)>,
    pend_ends: Vec<usize>,
}

impl SystemAcc {
    fn new(b: usize) -> Self {
        SystemAcc {
            b,
            records: 0,
            scored: 0,
            errors: 0,
            cols: vec![vec![0; b]],
            leaves: Vec::new(),
            leaf_index: HashMap::new(),
            last_order: Vec::new(),
            stats: BTreeMap::new(),
            not_computed: BTreeMap::new(),
            epoch: 0,
            pend_w: Vec::new(),
            pend_items: Vec::new(),
            pend_ends: Vec::new(),
        }
    }

    fn new_col(&mut self) -> u32 {
        self.cols.push(vec![0; self.b]);
        (self.cols.len() - 1) as u32
    }

    fn flush(&mut self) {
        if self.pend_ends.is_empty() {
            return;
        }
        let (cols, w, b, items, ends) = (
            &mut self.cols[..],
            &self.pend_w[..],
            self.b,
            &self.pend_items[..],
            &self.pend_ends[..],
        );
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU supports AVX-512F (checked above).
                unsafe { apply_pending_avx512(cols, w, b, items, ends) };
            } else if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2 (checked above).
                unsafe { apply_pending_avx2(cols, w, b, items, ends) };
            } else {
                apply_pending(cols, w, b, items, ends);
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        apply_pending(cols, w, b, items, ends);
        self.pend_w.clear();
        self.pend_items.clear();
        self.pend_ends.clear();
    }

    fn leaf(&mut self, pos: usize, name: &str) -> usize {
        if let Some(&i) = self.last_order.get(pos) {
            if &*self.leaves[i].0 == name {
                return i;
            }
        }
        let i = match self.leaf_index.get(name) {
            Some(&i) => i,
            None => {
                let i = self.leaves.len();
                // Every scored record before this one lacked the leaf: its missing weight so
                // far is the weight so far (records of this one are added by the caller).
                let missing = if self.scored > 1 {
                    self.flush_all_but_last();
                    let c = self.new_col();
                    self.cols[c as usize] = self.cols[0].clone();
                    c
                } else {
                    NO_COL
                };
                let leaf = Leaf {
                    n: 0,
                    point: 0,
                    limbs: [[NO_COL; 3]; 2],
                    missing,
                    seen: 0,
                    bad: None,
                    hist: headline_metric(name).then_some([0; HIST_BINS]),
                };
                let name = intern(name);
                self.leaf_index.insert(name.clone(), i);
                self.leaves.push((name, leaf));
                i
            }
        };
        if pos < self.last_order.len() {
            self.last_order[pos] = i;
        } else {
            self.last_order.push(i);
        }
        i
    }

    /// Applies every pending record except the current (last) one, which keeps its weights
    /// and the items pushed so far.
    fn flush_all_but_last(&mut self) {
        let b = self.b;
        let n = self.pend_ends.len();
        if n <= 1 {
            return;
        }
        let last_start = self.pend_ends[n - 2];
        let last_w: Vec<i32> = self.pend_w[(n - 1) * b..].to_vec();
        let last_items: Vec<(u32, i32)> = self.pend_items[last_start..].to_vec();
        self.pend_w.truncate((n - 1) * b);
        self.pend_items.truncate(last_start);
        self.pend_ends.truncate(n - 1);
        self.flush();
        self.pend_w = last_w;
        self.pend_items = last_items;
        self.pend_ends.push(usize::MAX); // open record: its end is set when it is complete
    }

    fn sum(&self, leaf: &Leaf, b: usize) -> f64 {
        let mut s: i128 = 0;
        for (side, sign) in [(0, 1i128), (1, -1)] {
            for (k, &c) in leaf.limbs[side].iter().enumerate() {
                if c != NO_COL {
                    s += sign * (i128::from(self.cols[c as usize][b]) << (LIMB_BITS * k as u32));
                }
            }
        }
        s as f64 * 2f64.powi(-RES_BITS)
    }
}

/// Keeps the smaller (id, reason) so the kept reason does not depend on record order.
fn keep_min(slot: &mut Option<(String, String)>, id: &str, reason: impl FnOnce() -> String) {
    if slot.as_ref().is_none_or(|(i, _)| id < i.as_str()) {
        *slot = Some((id.to_string(), reason()));
    }
}

/// Computes the aggregate of rows (see [`crate::accumulate`]: the result does not depend on
/// the rows' order, sharding or thread count).
pub fn aggregate(
    rows: &[AggRow],
    signature: &str,
    stats: &StatsConfig,
    corpus_stats: &[&dyn CorpusStat],
) -> Aggregate {
    let mut acc = Accumulator::new(stats);
    for r in rows {
        acc.add_row(r);
    }
    acc.aggregate(signature, corpus_stats)
}

/// The aggregate, fed one record at a time.
pub struct Accumulator {
    cfg: StatsConfig,
    records: usize,
    errors: usize,
    error_kinds: BTreeMap<String, usize>,
    systems: BTreeMap<Name, SystemAcc>,
    weights: Vec<i32>,
    /// The first distinct ids in record order, with their record counts.
    ids: Vec<(String, usize)>,
    id_index: HashMap<String, usize>,
}

/// What the HTML report needs beyond the aggregate.
pub struct ReportData {
    /// Histogram per headline metric and system (20 bins over 0–100 on the report's scale).
    pub histograms: BTreeMap<String, BTreeMap<String, [u64; HIST_BINS]>>,
    /// The first distinct ids of the records, with how many records each has.
    pub id_counts: Vec<(String, usize)>,
}

/// The report's scale of a metric (0–1 metrics are shown ×100).
pub fn report_scale(metric: &str) -> f64 {
    if metric.starts_with("bleu") || metric.starts_with("chrf") || metric.starts_with("corpus_") {
        1.0
    } else {
        100.0
    }
}

impl Accumulator {
    /// An empty accumulator with these bootstrap settings.
    pub fn new(cfg: &StatsConfig) -> Self {
        Accumulator {
            cfg: *cfg,
            records: 0,
            errors: 0,
            error_kinds: BTreeMap::new(),
            systems: BTreeMap::new(),
            weights: Vec::new(),
            ids: Vec::new(),
            id_index: HashMap::new(),
        }
    }

    /// Counts one record (its aggregate row is built on the fly, not kept).
    pub fn add_record(&mut self, r: &Record) {
        let scores = r.scores.as_ref();
        self.add(
            &r.id,
            r.system.as_deref(),
            r.error.as_ref().map(|e| e.kind.as_str()),
            scores.is_some(),
            |f| {
                if let Some(s) = scores {
                    crate::aggregate::visit_score_leaves(s, f)
                }
            },
            |f| {
                for (k, v) in scores.into_iter().flatten() {
                    if let Some(arr) = v.get("stats").and_then(|s| s.as_array()) {
                        f(k, &mut arr.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)));
                    }
                }
            },
            r.not_computed.iter().map(|(k, v)| (k.as_str(), v.as_str().unwrap_or(""))),
        );
    }

    /// Counts one aggregate row.
    pub fn add_row(&mut self, r: &AggRow) {
        self.add(
            &r.id,
            r.system.as_deref(),
            r.error_kind.as_deref(),
            r.scores.is_some(),
            |f| {
                for (k, x) in r.scores.iter().flatten() {
                    f(k, *x)
                }
            },
            |f| {
                for (k, v) in &r.stats {
                    f(k, &mut v.iter().copied())
                }
            },
            r.not_computed.iter().map(|(k, v)| (&**k, &**v)),
        );
    }

    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::explicit_counter_loop)] // `values` is a borrowed iterator of unknown length
    fn add<'a>(
        &mut self,
        id: &str,
        system: Option<&str>,
        error_kind: Option<&str>,
        scored: bool,
        leaves: impl FnOnce(&mut dyn FnMut(&str, f64)),
        stats: impl FnOnce(&mut dyn FnMut(&str, &mut dyn Iterator<Item = f64>)),
        not_computed: impl Iterator<Item = (&'a str, &'a str)>,
    ) {
        self.records += 1;
        if let Some(k) = error_kind {
            self.errors += 1;
            *self.error_kinds.entry(k.to_string()).or_default() += 1;
        }
        if let Some(&i) = self.id_index.get(id) {
            self.ids[i].1 += 1;
        } else if self.ids.len() < TRACKED_IDS {
            self.id_index.insert(id.to_string(), self.ids.len());
            self.ids.push((id.to_string(), 1));
        }
        let b = self.cfg.bootstrap_samples;
        let system = system.unwrap_or("(none)");
        if !self.systems.contains_key(system) {
            self.systems.insert(intern(system), SystemAcc::new(b));
        }
        let sys = self.systems.get_mut(system).expect("inserted above");
        sys.records += 1;
        if error_kind.is_some() {
            sys.errors += 1;
        }
        for (k, v) in not_computed {
            match sys.not_computed.get_mut(k) {
                Some(slot) if id < slot.0.as_str() => *slot = (id.to_string(), v.to_string()),
                Some(_) => {}
                None => {
                    sys.not_computed.insert(k.to_string(), (id.to_string(), v.to_string()));
                }
            }
        }
        if !scored {
            return;
        }
        if sys.pend_ends.len() >= PENDING {
            sys.flush();
        }
        poisson_weights(self.cfg.seed, id, b, &mut self.weights);
        sys.pend_w.extend_from_slice(&self.weights);
        sys.pend_ends.push(usize::MAX);
        sys.pend_items.push((0, 1));
        sys.scored += 1;
        sys.epoch += 1;
        let epoch = sys.epoch;
        let mut pos = 0;
        let mut present = 0;
        leaves(&mut |k, x| {
            let i = sys.leaf(pos, k);
            pos += 1;
            if sys.leaves[i].1.seen == epoch {
                return; // a repeated name: the first value counts
            }
            sys.leaves[i].1.seen = epoch;
            present += 1;
            sys.leaves[i].1.n += 1;
            match fixed(x) {
                Some(v) => {
                    sys.leaves[i].1.point += v;
                    let q = coarse(x);
                    let (side, m) = if q < 0 { (1, q.unsigned_abs()) } else { (0, q as u128) };
                    for k in 0..3 {
                        let l = ((m >> (LIMB_BITS * k as u32)) & LIMB_MASK) as i32;
                        if l != 0 {
                            let mut c = sys.leaves[i].1.limbs[side][k];
                            if c == NO_COL {
                                c = sys.new_col();
                                sys.leaves[i].1.limbs[side][k] = c;
                            }
                            sys.pend_items.push((c, l));
                        }
                    }
                }
                None => keep_min(&mut sys.leaves[i].1.bad, id, || {
                    format!("value {x} beyond ±2^33 (record '{id}')")
                }),
            }
            if let Some(h) = &mut sys.leaves[i].1.hist {
                let k = report_scale(k);
                h[((x * k / 100.0) * HIST_BINS as f64).floor().clamp(0.0, (HIST_BINS - 1) as f64)
                    as usize] += 1;
            }
        });
        if present < sys.leaves.len() {
            for i in 0..sys.leaves.len() {
                if sys.leaves[i].1.seen == epoch {
                    continue;
                }
                if sys.leaves[i].1.missing == NO_COL {
                    sys.leaves[i].1.missing = sys.new_col();
                }
                let c = sys.leaves[i].1.missing;
                sys.pend_items.push((c, 1));
            }
        }
        stats(&mut |k, values| {
            if !sys.stats.contains_key(k) {
                sys.stats.insert(intern(k), StatCols::default());
            }
            let mut j = 0;
            for v in values {
                let st = sys.stats.get_mut(k).expect("inserted above");
                if j >= st.cols.len() {
                    st.point.push(0);
                    st.cols.push(NO_COL);
                }
                if v.trunc() == v && v.abs() < 2_147_483_648.0 {
                    st.point[j] += v as i64;
                    if v != 0.0 {
                        if st.cols[j] == NO_COL {
                            let c = sys.new_col();
                            sys.stats.get_mut(k).expect("inserted above").cols[j] = c;
                        }
                        let c = sys.stats[k].cols[j];
                        sys.pend_items.push((c, v as i32));
                    }
                } else {
                    keep_min(&mut st.bad, id, || {
                        format!("statistic {v} is not an integer below 2^31 (record '{id}')")
                    });
                }
                j += 1;
            }
        });
        *sys.pend_ends.last_mut().expect("pushed above") = sys.pend_items.len();
    }

    /// The aggregate so far.
    pub fn aggregate(&mut self, signature: &str, corpus_stats: &[&dyn CorpusStat]) -> Aggregate {
        let cfg = self.cfg;
        let mut systems = BTreeMap::new();
        for (name, s) in &mut self.systems {
            s.flush();
            let s = &*s;
            let weight = &s.cols[0];
            // Resamples in which some scored record of this system is drawn.
            let drawn: Vec<usize> = (0..cfg.bootstrap_samples).filter(|&b| weight[b] > 0).collect();
            let mut metrics = BTreeMap::new();
            let mut not_computed: BTreeMap<String, String> =
                s.not_computed.iter().map(|(k, (_, v))| (k.clone(), v.clone())).collect();
            for (k, leaf) in &s.leaves {
                if let Some((_, why)) = &leaf.bad {
                    not_computed.insert(format!("mean of {k}"), why.clone());
                    continue;
                }
                let count = |b: usize| {
                    weight[b]
                        - if leaf.missing == NO_COL { 0 } else { s.cols[leaf.missing as usize][b] }
                };
                let samples = drawn
                    .iter()
                    .filter(|&&b| count(b) > 0)
                    .map(|&b| s.sum(leaf, b) / count(b) as f64)
                    .collect();
                let point = if leaf.n > 0 {
                    leaf.point as f64 * 2f64.powi(-FRAC_BITS) / leaf.n as f64
                } else {
                    f64::NAN
                };
                metrics.insert(k.to_string(), estimate(point, samples, leaf.n, &cfg));
            }
            let mut corpus = BTreeMap::new();
            for cs in corpus_stats {
                let Some(st) = s.stats.get(cs.field()) else { continue };
                if let Some((_, why)) = &st.bad {
                    not_computed.insert(cs.name().to_string(), why.clone());
                    continue;
                }
                let point: Vec<f64> = st.point.iter().map(|&v| v as f64).collect();
                let samples =
                    drawn
                        .iter()
                        .map(|&b| {
                            cs.from_sums(
                                &st.cols
                                    .iter()
                                    .map(|&c| {
                                        if c == NO_COL {
                                            0.0
                                        } else {
                                            s.cols[c as usize][b] as f64
                                        }
                                    })
                                    .collect::<Vec<f64>>(),
                            )
                        })
                        .collect();
                corpus.insert(
                    cs.name().to_string(),
                    estimate(cs.from_sums(&point), samples, s.scored, &cfg),
                );
            }
            systems.insert(
                name.to_string(),
                SystemAggregate {
                    records: s.records,
                    scored: s.scored,
                    errors: s.errors,
                    metrics,
                    corpus,
                    not_computed,
                },
            );
        }
        Aggregate {
            signature: signature.to_string(),
            tool: format!("kpeval {}", env!("CARGO_PKG_VERSION")),
            records: self.records,
            errors: self.errors,
            error_kinds: self.error_kinds.clone(),
            systems,
            stats: cfg,
        }
    }

    /// What the HTML report needs besides the aggregate: score histograms and per-id counts.
    pub fn report_data(&self) -> ReportData {
        let mut histograms: BTreeMap<String, BTreeMap<String, [u64; HIST_BINS]>> = BTreeMap::new();
        for (system, s) in &self.systems {
            for (k, leaf) in &s.leaves {
                if let Some(h) = &leaf.hist {
                    histograms.entry(k.to_string()).or_default().insert(system.to_string(), *h);
                }
            }
        }
        ReportData { histograms, id_counts: self.ids.clone() }
    }
}

#[cfg(test)]
mod tests;
