// kpeval patch 10: greedy decoding screens the LM head with an int8 copy of its weights.
//
// At batch 1 a decoding step is bound by memory bandwidth: it reads every decoder weight once,
// and the LM head (vocab x d_model, 206 MB of f32 for BART's 50264 x 1024) is more than a third
// of those bytes. Greedy search only needs the argmax of the logits, not the logits. So when
// `generate` runs greedy search (no sampling, no repetition penalty, no scores asked for):
//
// 1. the LM head multiplies by an int8 copy of its weights (one f32 scale per vocabulary row,
//    a quarter of the bytes) and returns these approximate logits `a`, together with a
//    rigorous bound `b` on |exact logit - a| per entry (below);
// 2. the logits processors run on `a` as they would on the exact logits; for this path they
//    may only ban tokens (set them to -inf): no-repeat n-grams, bad words, min length, forced
//    BOS/EOS, prefix constraints;
// 3. [`argmax`] takes the tokens that can still be the maximum: allowed tokens whose
//    `a + b` reaches the largest `a - b`. Every other token's exact logit is strictly below
//    some candidate's, so it cannot be the argmax (not even on a tie). The candidates' exact
//    logits are recomputed from the f32 weights (in f64); when the best of them beats every
//    other by more than the two computations can differ (f32 summation in any order, as MKL
//    does it, against f64), it is the token the plain path picks. Otherwise (a near tie, too
//    many candidates, no allowed token, anything non-finite) the row is recomputed exactly as
//    the plain path does it, and that decides.
//
// So the tokens are those of the plain f32 path, always, not "almost always": the screen only
// decides which logits need to be computed exactly. It is used on CPU, in f32, without
// autograd, for decoder steps of one token and at most MAX_ROWS rows.
//
// The bound. With d = w.x the real dot product of a weight row w and the hidden row x,
// z the f32 value the plain path computes, s and q the row's scale and int8 values,
// r = w - s q (computed in f64 when the copy is made), u = 2^-24 and g = (K+1)u / (1-(K+1)u):
//   |z - d|           <= g ||w|| ||x||            (any summation order, with or without FMA)
//   |s q.x - d|        = |r.x| <= ||r|| ||x||
//   |a - s q.x|       <= s g ||q|| ||x|| + 2u|a|  (the f32 screen, any order, then the scale)
// so |z - a| <= ||x|| C + 2u|a| with C = ||r|| + g(||w|| + s||q||), stored per vocabulary row
// (rounded up). The elementwise scale and bias the model applies after the product (T5's
// d_model^-0.5, Pegasus' final_logits_bias) are applied to `a` too, and the bound widened for
// their rounding with a generous margin (2^-16 relative): a looser bound only adds candidates.
//
// The products run in the OpenMP thread pool libtorch itself uses (`GOMP_parallel`, looked
// up at run time like the MKL symbols of patch 8: no thread of our own competes with
// libgomp's spinning workers); without libgomp they run on the calling thread.
// `KPEVAL_GREEDY_HEAD=0` turns the patch off.

use crate::common::packed::PackedGemm;
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tch::{Device, Kind, Tensor};

/// Rows (batch entries) up to which a greedy step screens the LM head.
pub const MAX_ROWS: i64 = 16;
/// Candidates per row beyond which the row is computed in full instead.
const MAX_CANDIDATES: usize = 1024;
/// Rows per pass over the int8 weights (more rows take several passes).
const ROWS_PER_PASS: usize = 8;
const U: f64 = 1.0 / 16_777_216.0; // f32 unit roundoff, 2^-24
const MARGIN: f64 = 1.0 / 65_536.0; // 2^-16

thread_local! {
    static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
    static SCREENED: Cell<u64> = const { Cell::new(0) };
}

/// Decoding steps whose LM head was screened so far on this thread (generation runs on the
/// calling thread).
pub fn screened_steps() -> u64 {
    SCREENED.with(|s| s.get())
}

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("KPEVAL_GREEDY_HEAD").map_or(true, |v| v.trim() != "0"))
}

/// Whether greedy steps screen the LM head (`KPEVAL_GREEDY_HEAD` is not `0`).
pub fn available() -> bool {
    enabled()
}

/// Marks the current thread as running greedy search (see the module comment) until dropped.
pub struct GreedyScope {
    previous: bool,
}

/// Starts a greedy-search scope on this thread: LM heads return screened logits, to be
/// reduced with [`argmax`].
pub fn greedy_scope() -> GreedyScope {
    PENDING.with(|p| p.borrow_mut().take());
    GreedyScope { previous: ACTIVE.with(|a| a.replace(true)) }
}

impl Drop for GreedyScope {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.set(self.previous));
        PENDING.with(|p| p.borrow_mut().take());
    }
}

// ---------------------------------------------------------------------------------------------
// libgomp, as libtorch uses it

type GompParallel = unsafe extern "C" fn(extern "C" fn(*mut c_void), *mut c_void, c_uint, c_uint);
type OmpInt = unsafe extern "C" fn() -> c_int;

struct Omp {
    parallel: GompParallel,
    thread_num: OmpInt,
    num_threads: OmpInt,
}

fn omp() -> Option<&'static Omp> {
    static OMP: OnceLock<Option<Omp>> = OnceLock::new();
    OMP.get_or_init(|| {
        let sym = |name: &[u8]| unsafe {
            let p = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char);
            (!p.is_null()).then_some(p)
        };
        let parallel = sym(b"GOMP_parallel\0")?;
        let thread_num = sym(b"omp_get_thread_num\0")?;
        let num_threads = sym(b"omp_get_num_threads\0")?;
        // SAFETY: libgomp's documented C signatures.
        unsafe {
            Some(Omp {
                parallel: std::mem::transmute::<*mut c_void, GompParallel>(parallel),
                thread_num: std::mem::transmute::<*mut c_void, OmpInt>(thread_num),
                num_threads: std::mem::transmute::<*mut c_void, OmpInt>(num_threads),
            })
        }
    })
    .as_ref()
}

struct Job<'a> {
    n: usize,
    align: usize,
    f: &'a (dyn Fn(usize, usize) + Sync),
    omp: &'static Omp,
    failed: AtomicBool,
}

/// `[lo, hi)` of `n` items for thread `t` of `nt`, boundaries on multiples of `align`.
fn split(n: usize, align: usize, t: usize, nt: usize) -> (usize, usize) {
    let blocks = n.div_ceil(align);
    let at = |i: usize| (blocks * i / nt * align).min(n);
    (at(t), at(t + 1))
}

extern "C" fn trampoline(data: *mut c_void) {
    // SAFETY: `data` is the `Job` that `parallel_rows` keeps alive until GOMP_parallel returns.
    let job = unsafe { &*(data as *const Job) };
    let (t, nt) = unsafe { ((job.omp.thread_num)(), (job.omp.num_threads)()) };
    let (t, nt) = (t.max(0) as usize, nt.max(1) as usize);
    let (lo, hi) = split(job.n, job.align, t.min(nt - 1), nt);
    // never unwind into C; a panic is reported through `failed`
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.f)(lo, hi))).is_err() {
        job.failed.store(true, Ordering::Relaxed);
    }
}

/// Runs `f` over `[0, n)` split in contiguous ranges across libtorch's OpenMP threads (as many
/// as `tch::get_num_threads`). False when a range panicked.
pub(crate) fn parallel_rows(n: usize, align: usize, f: &(dyn Fn(usize, usize) + Sync)) -> bool {
    let threads = tch::get_num_threads().max(1) as usize;
    match omp() {
        Some(omp) if threads > 1 && n >= 2 * align => {
            let job = Job { n, align, f, omp, failed: AtomicBool::new(false) };
            unsafe {
                (omp.parallel)(trampoline, &job as *const Job as *mut c_void, threads as c_uint, 0);
            }
            !job.failed.load(Ordering::Relaxed)
        }
        _ => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(0, n))).is_ok(),
    }
}

/// A pointer that may be shared between the threads of `parallel_rows`, each writing its own
/// range.
#[derive(Clone, Copy)]
pub(crate) struct SharedMut(pub(crate) *mut f32);
unsafe impl Send for SharedMut {}
unsafe impl Sync for SharedMut {}

// ---------------------------------------------------------------------------------------------
// The int8 copy

fn round_up_f32(v: f64) -> f32 {
    let f = v as f32;
    if (f as f64) < v {
        f.next_up()
    } else {
        f
    }
}

/// An int8 copy of one weight matrix [V, K] with what the screen's bound needs per row.
pub struct Quantized {
    v: usize,
    k: usize,
    q: Vec<i8>,
    scale: Vec<f32>,
    /// C = ||r|| + g(||w|| + s||q||), rounded up
    screen: Vec<f32>,
    /// ||w||, rounded up
    norm: Vec<f32>,
}

impl Quantized {
    /// None when the weights are not finite.
    pub fn new(weight: &[f32], v: usize, k: usize) -> Option<Quantized> {
        if weight.len() != v * k || v == 0 || k == 0 {
            return None;
        }
        let g = gamma(k);
        let mut q = vec![0i8; v * k];
        let mut scale = vec![0f32; v];
        let mut screen = vec![0f32; v];
        let mut norm = vec![0f32; v];
        let ok = AtomicBool::new(true);
        let (qp, sp, cp, np) = (
            SharedMut(q.as_mut_ptr() as *mut f32),
            SharedMut(scale.as_mut_ptr()),
            SharedMut(screen.as_mut_ptr()),
            SharedMut(norm.as_mut_ptr()),
        );
        let run = |lo: usize, hi: usize| {
            let (qp, sp, cp, np) = (qp, sp, cp, np);
            // SAFETY: each thread writes rows [lo, hi) only
            let q = unsafe { std::slice::from_raw_parts_mut((qp.0 as *mut i8).add(lo * k), (hi - lo) * k) };
            let scale = unsafe { std::slice::from_raw_parts_mut(sp.0.add(lo), hi - lo) };
            let screen = unsafe { std::slice::from_raw_parts_mut(cp.0.add(lo), hi - lo) };
            let norm = unsafe { std::slice::from_raw_parts_mut(np.0.add(lo), hi - lo) };
            for i in lo..hi {
                let w = &weight[i * k..(i + 1) * k];
                let max = w.iter().fold(0f32, |m, x| m.max(x.abs()));
                if !max.is_finite() || w.iter().any(|x| !x.is_finite()) {
                    ok.store(false, Ordering::Relaxed);
                    return;
                }
                let s = max / 127.0;
                let row = &mut q[(i - lo) * k..(i - lo + 1) * k];
                let (mut rr, mut ww, mut qq) = (0f64, 0f64, 0f64);
                for (j, &x) in w.iter().enumerate() {
                    let qi = if s > 0.0 { (x as f64 / s as f64).round().clamp(-127.0, 127.0) } else { 0.0 };
                    row[j] = qi as i8;
                    let r = x as f64 - s as f64 * qi;
                    rr += r * r;
                    ww += x as f64 * x as f64;
                    qq += qi * qi;
                }
                let (r, wn, qn) = (rr.sqrt(), ww.sqrt(), qq.sqrt());
                scale[i - lo] = s;
                screen[i - lo] = round_up_f32((r + g * (wn + s as f64 * qn)) * (1.0 + MARGIN));
                norm[i - lo] = round_up_f32(wn * (1.0 + MARGIN));
            }
        };
        if !parallel_rows(v, 64, &run) || !ok.load(Ordering::Relaxed) {
            return None;
        }
        Some(Quantized { v, k, q, scale, screen, norm })
    }

    /// The int8 values (V x K) and the scales.
    pub fn raw(&self) -> (&[i8], &[f32]) {
        (&self.q, &self.scale)
    }

    /// Bytes of the copy.
    pub fn bytes(&self) -> usize {
        self.q.len() + 12 * self.v
    }

    /// Screened logits `a[r][i] ~ (w_i . x_r) * scale + bias[i]` (`xs`: `rows` x K, row-major)
    /// and bounds `b` with `|z - a| <= b` for z any f32 evaluation of the same expression
    /// (product summed in any order, then `* scale`, then `+ bias`, each rounded); `a`, `b`:
    /// rows x V. None when anything is not finite.
    pub fn screen(&self, xs: &[f32], rows: usize, scale: Option<f32>, bias: Option<&[f32]>) -> Option<(Vec<f32>, Vec<f32>)> {
        let (v, k) = (self.v, self.k);
        if xs.len() != rows * k || rows == 0 || bias.map_or(false, |b| b.len() != v) {
            return None;
        }
        let c = scale.unwrap_or(1.0);
        if !(c.is_finite() && c > 0.0) {
            return None;
        }
        // ||x_r|| * scale, rounded up
        let hn: Vec<f32> = (0..rows).map(|r| round_up_f32(norm2(&xs[r * k..(r + 1) * k]) * c as f64 * (1.0 + MARGIN))).collect();
        if hn.iter().any(|h| !h.is_finite()) {
            return None;
        }
        let mut a = vec![0f32; rows * v];
        let mut b = vec![0f32; rows * v];
        let (ap, bp) = (SharedMut(a.as_mut_ptr()), SharedMut(b.as_mut_ptr()));
        let kernel = kernel();
        let finite = AtomicBool::new(true);
        let (m, ua) = (MARGIN as f32, (4.0 * U) as f32 * c);
        let run = |lo: usize, hi: usize| {
            let (ap, bp) = (ap, bp);
            let mut r0 = 0;
            while r0 < rows {
                let n = (rows - r0).min(ROWS_PER_PASS);
                // SAFETY: rows [lo, hi) of each output row are this thread's own
                unsafe { kernel(&self.q, k, &xs[r0 * k..(r0 + n) * k], n, lo, hi, &self.scale, ap.0.add(r0 * v), v) };
                r0 += n;
            }
            let mut ok = true;
            for r in 0..rows {
                // SAFETY: as above
                let out_a = unsafe { std::slice::from_raw_parts_mut(ap.0.add(r * v + lo), hi - lo) };
                let out_b = unsafe { std::slice::from_raw_parts_mut(bp.0.add(r * v + lo), hi - lo) };
                let screen = &self.screen[lo..hi];
                let h = hn[r];
                // b: the product's bound (C ||x|| + 4u|a|) scaled, widened by MARGIN for its own
                // rounding, plus MARGIN (|a'| + |bias|) for the scale's, the bias' and the
                // comparisons' roundings (each a few u relative)
                match bias {
                    Some(bias) => {
                        let bias = &bias[lo..hi];
                        for j in 0..out_a.len() {
                            let p = out_a[j];
                            let av = p * c + bias[j];
                            out_b[j] = (screen[j] * h + p.abs() * ua) * (1.0 + m) + (av.abs() + bias[j].abs()) * m;
                            out_a[j] = av;
                            ok &= av.is_finite() & out_b[j].is_finite();
                        }
                    }
                    None => {
                        for j in 0..out_a.len() {
                            let p = out_a[j];
                            let av = p * c;
                            out_b[j] = (screen[j] * h + p.abs() * ua) * (1.0 + m) + av.abs() * m;
                            out_a[j] = av;
                            ok &= av.is_finite() & out_b[j].is_finite();
                        }
                    }
                }
            }
            if !ok {
                finite.store(false, Ordering::Relaxed);
            }
        };
        if !parallel_rows(v, 64, &run) || !finite.load(Ordering::Relaxed) {
            return None;
        }
        Some((a, b))
    }
}

fn gamma(k: usize) -> f64 {
    let n = (k + 1) as f64 * U;
    n / (1.0 - n)
}

fn norm2(x: &[f32]) -> f64 {
    x.iter().map(|&v| v as f64 * v as f64).sum::<f64>().sqrt()
}

fn dot64(w: &[f32], x: &[f32]) -> f64 {
    w.iter().zip(x).map(|(&a, &b)| a as f64 * b as f64).sum()
}

// ---------------------------------------------------------------------------------------------
// Kernels: out[r * v + i] = scale[i] * sum_j q[i*k + j] * x[r*k + j] for i in [lo, hi)

pub type Kernel = unsafe fn(&[i8], usize, &[f32], usize, usize, usize, &[f32], *mut f32, usize);

fn kernel() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return x86::screen_avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return x86::screen_avx2;
        }
    }
    screen_portable
}

/// Every kernel this machine can run, by name (for tests).
pub fn kernels() -> Vec<(&'static str, Kernel)> {
    let mut out: Vec<(&'static str, Kernel)> = vec![("portable", screen_portable)];
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            out.push(("avx2", x86::screen_avx2));
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            out.push(("avx512", x86::screen_avx512));
        }
    }
    out
}

/// The portable kernel: 8 lanes per row, in the order the vector kernels use within a lane.
unsafe fn screen_portable(q: &[i8], k: usize, xs: &[f32], rows: usize, lo: usize, hi: usize, scale: &[f32], out: *mut f32, v: usize) {
    for i in lo..hi {
        let w = &q[i * k..(i + 1) * k];
        for r in 0..rows {
            let x = &xs[r * k..(r + 1) * k];
            let mut lanes = [0f32; 8];
            let k8 = k / 8 * 8;
            for j in (0..k8).step_by(8) {
                for l in 0..8 {
                    lanes[l] += w[j + l] as f32 * x[j + l];
                }
            }
            let mut s: f32 = lanes.iter().sum();
            for j in k8..k {
                s += w[j] as f32 * x[j];
            }
            *out.add(r * v + i) = s * scale[i];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// How far ahead (bytes) the kernels prefetch the int8 weights.
    const PREFETCH: usize = 8192;

    pub(super) unsafe fn screen_avx512(q: &[i8], k: usize, xs: &[f32], rows: usize, lo: usize, hi: usize, scale: &[f32], out: *mut f32, v: usize) {
        debug_assert!((1..=8).contains(&rows));
        // 32 vector registers: R x VB <= 16 accumulators
        match rows {
            1 => rows512::<1, 4>(q, k, xs, lo, hi, scale, out, v),
            2 => rows512::<2, 4>(q, k, xs, lo, hi, scale, out, v),
            3 => rows512::<3, 4>(q, k, xs, lo, hi, scale, out, v),
            4 => rows512::<4, 4>(q, k, xs, lo, hi, scale, out, v),
            5 => rows512::<5, 2>(q, k, xs, lo, hi, scale, out, v),
            6 => rows512::<6, 2>(q, k, xs, lo, hi, scale, out, v),
            7 => rows512::<7, 2>(q, k, xs, lo, hi, scale, out, v),
            _ => rows512::<8, 2>(q, k, xs, lo, hi, scale, out, v),
        }
    }

    pub(super) unsafe fn screen_avx2(q: &[i8], k: usize, xs: &[f32], rows: usize, lo: usize, hi: usize, scale: &[f32], out: *mut f32, v: usize) {
        debug_assert!((1..=8).contains(&rows));
        // 16 vector registers: R x VB <= 8 accumulators
        match rows {
            1 => rows256::<1, 4>(q, k, xs, lo, hi, scale, out, v),
            2 => rows256::<2, 4>(q, k, xs, lo, hi, scale, out, v),
            3 => rows256::<3, 2>(q, k, xs, lo, hi, scale, out, v),
            4 => rows256::<4, 2>(q, k, xs, lo, hi, scale, out, v),
            5 => rows256::<5, 1>(q, k, xs, lo, hi, scale, out, v),
            6 => rows256::<6, 1>(q, k, xs, lo, hi, scale, out, v),
            7 => rows256::<7, 1>(q, k, xs, lo, hi, scale, out, v),
            _ => rows256::<8, 1>(q, k, xs, lo, hi, scale, out, v),
        }
    }

    /// R hidden rows against VB weight rows at a time (R x VB accumulators in registers).
    #[target_feature(enable = "avx512f")]
    unsafe fn rows512<const R: usize, const VB: usize>(q: &[i8], k: usize, xs: &[f32], lo: usize, hi: usize, scale: &[f32], out: *mut f32, v: usize) {
        let k16 = k / 16 * 16;
        let qp = q.as_ptr();
        let xp = xs.as_ptr();
        let mut i = lo;
        while i < hi {
            let nb = if i + VB <= hi { VB } else { 1 };
            let mut acc = [[_mm512_setzero_ps(); R]; VB];
            let mut j = 0;
            while j < k16 {
                // software prefetch PREFETCH bytes ahead of this block's stream: the hardware
                // prefetcher stops at every 4 KB page, and a vocabulary row is only K bytes
                _mm_prefetch::<_MM_HINT_T0>(qp.wrapping_add(i * k + j * VB + PREFETCH) as *const i8);
                for b in 0..VB {
                    if b < nb {
                        let w8 = _mm_loadu_si128(qp.add((i + b) * k + j) as *const __m128i);
                        let w = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(w8));
                        for r in 0..R {
                            acc[b][r] = _mm512_fmadd_ps(w, _mm512_loadu_ps(xp.add(r * k + j)), acc[b][r]);
                        }
                    }
                }
                j += 16;
            }
            for b in 0..nb {
                for r in 0..R {
                    let mut s = _mm512_reduce_add_ps(acc[b][r]);
                    for t in k16..k {
                        s += *qp.add((i + b) * k + t) as f32 * *xp.add(r * k + t);
                    }
                    *out.add(r * v + i + b) = s * scale[i + b];
                }
            }
            i += nb;
        }
    }

    #[target_feature(enable = "avx2,fma")]
    unsafe fn rows256<const R: usize, const VB: usize>(q: &[i8], k: usize, xs: &[f32], lo: usize, hi: usize, scale: &[f32], out: *mut f32, v: usize) {
        let k8 = k / 8 * 8;
        let qp = q.as_ptr();
        let xp = xs.as_ptr();
        let mut i = lo;
        while i < hi {
            let nb = if i + VB <= hi { VB } else { 1 };
            let mut acc = [[_mm256_setzero_ps(); R]; VB];
            let mut j = 0;
            while j < k8 {
                if j % 16 == 0 {
                    _mm_prefetch::<_MM_HINT_T0>(qp.wrapping_add(i * k + j * VB + PREFETCH) as *const i8);
                }
                for b in 0..VB {
                    if b < nb {
                        let w8 = _mm_loadl_epi64(qp.add((i + b) * k + j) as *const __m128i);
                        let w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(w8));
                        for r in 0..R {
                            acc[b][r] = _mm256_fmadd_ps(w, _mm256_loadu_ps(xp.add(r * k + j)), acc[b][r]);
                        }
                    }
                }
                j += 8;
            }
            for b in 0..nb {
                for r in 0..R {
                    let hi128 = _mm256_extractf128_ps(acc[b][r], 1);
                    let s4 = _mm_add_ps(_mm256_castps256_ps128(acc[b][r]), hi128);
                    let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
                    let s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
                    let mut s = _mm_cvtss_f32(s1);
                    for t in k8..k {
                        s += *qp.add((i + b) * k + t) as f32 * *xp.add(r * k + t);
                    }
                    *out.add(r * v + i + b) = s * scale[i + b];
                }
            }
            i += nb;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The LM head and the greedy argmax

/// What the model applies to the product, elementwise and in this order: `* scale`, `+ bias`.
struct Post {
    scale: Option<f64>,
    bias: Option<Tensor>,
}

impl Clone for Post {
    fn clone(&self) -> Post {
        Post { scale: self.scale, bias: self.bias.as_ref().map(|b| b.shallow_clone()) }
    }
}

/// The values of an f32 tensor, in row-major order.
fn to_vec(t: &Tensor) -> Option<Vec<f32>> {
    if t.kind() != Kind::Float {
        return None;
    }
    let t = t.detach().contiguous().reshape([-1]);
    let n = t.numel();
    let mut out = vec![0f32; n];
    t.f_copy_data(&mut out, n).ok()?;
    Some(out)
}

impl Post {
    fn apply(&self, y: Tensor) -> Tensor {
        let y = match self.scale {
            Some(c) => y * c,
            None => y,
        };
        match &self.bias {
            Some(b) => y + b,
            None => y,
        }
    }
}

struct Pending {
    rows: usize,
    v: usize,
    /// the shape of the hidden states the model passed (the plain path sees the same one)
    x_shape: Vec<i64>,
    /// the hidden rows, rows x K
    x: Vec<f32>,
    hn: Vec<f64>,
    bound: Vec<f32>,
    bias: Option<Vec<f32>>,
    quant: Arc<Quantized>,
    /// the f32 weights, V x K
    weight: Tensor,
    gemm: Option<Arc<PackedGemm>>,
    post: Post,
}

struct Cached {
    weight_ptr: usize,
    // keeps the weight's storage alive, so `weight_ptr` cannot be reused by another tensor
    _weight: Tensor,
    quant: Option<Arc<Quantized>>,
}

/// An LM head's product with its (tied or own) weight matrix: through [`PackedGemm`] as
/// patch 8 does it (or libtorch's `linear`, for models patch 8 left alone), and screened by an
/// int8 copy during greedy search (this patch).
#[derive(Default)]
pub struct LmHead {
    gemm: Option<Arc<PackedGemm>>,
    cache: Mutex<Option<Cached>>,
}

impl std::fmt::Debug for LmHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LmHead")
    }
}

impl LmHead {
    /// A head whose plain product goes through [`PackedGemm`].
    pub fn new() -> LmHead {
        LmHead { gemm: Some(Arc::new(PackedGemm::new())), cache: Mutex::new(None) }
    }

    /// A head whose plain product is libtorch's `linear`.
    pub fn unpacked() -> LmHead {
        LmHead::default()
    }

    /// `xs @ ws^T + bs`, never screened.
    pub fn linear(&self, xs: &Tensor, ws: &Tensor, bs: Option<&Tensor>) -> Tensor {
        plain_linear(self.gemm.as_deref(), xs, ws, bs)
    }

    /// `xs @ ws^T`, then `* scale`, then `+ bias`: what the model computes. During greedy
    /// search ([`greedy_scope`]) the values are screened approximations, to be reduced with
    /// [`argmax`] only.
    pub fn logits(&self, xs: &Tensor, ws: &Tensor, scale: Option<f64>, bias: Option<&Tensor>) -> Tensor {
        let post = Post { scale, bias: bias.map(|b| b.shallow_clone()) };
        if ACTIVE.with(|a| a.get()) && enabled() {
            PENDING.with(|p| p.borrow_mut().take());
            if let Some(out) = self.try_screen(xs, ws, &post) {
                return out;
            }
        }
        post.apply(self.linear(xs, ws, None))
    }

    fn quantized(&self, ws: &Tensor) -> Option<Arc<Quantized>> {
        let mut cache = self.cache.lock().ok()?;
        let ptr = ws.data_ptr() as usize;
        if cache.as_ref().map_or(true, |c| c.weight_ptr != ptr) {
            *cache = None;
            let (v, k) = (ws.size()[0] as usize, ws.size()[1] as usize);
            // SAFETY: a contiguous f32 CPU tensor of v x k elements, alive while borrowed
            let w = unsafe { std::slice::from_raw_parts(ws.data_ptr() as *const f32, v * k) };
            let quant = Quantized::new(w, v, k).map(Arc::new);
            *cache = Some(Cached { weight_ptr: ptr, _weight: ws.shallow_clone(), quant });
        }
        cache.as_ref()?.quant.clone()
    }

    fn try_screen(&self, xs: &Tensor, ws: &Tensor, post: &Post) -> Option<Tensor> {
        if xs.device() != Device::Cpu
            || xs.kind() != Kind::Float
            || ws.device() != Device::Cpu
            || ws.kind() != Kind::Float
            || ws.dim() != 2
            || !ws.is_contiguous()
            || xs.requires_grad()
            || xs.dim() < 2
        {
            return None;
        }
        let bias_grad = post.bias.as_ref().map_or(false, |b| b.requires_grad());
        if (ws.requires_grad() || bias_grad) && crate::common::packed::grad_mode_enabled() {
            return None; // autograd must see the weights
        }
        let sizes = xs.size();
        let k = *sizes.last()?;
        let v = ws.size()[0];
        if ws.size()[1] != k || k == 0 || v == 0 {
            return None;
        }
        // one token per sequence: [B, 1, K] (or [B, K])
        if sizes.len() >= 3 && sizes[sizes.len() - 2] != 1 {
            return None;
        }
        let rows = sizes[..sizes.len() - 1].iter().product::<i64>();
        if !(1..=MAX_ROWS).contains(&rows) {
            return None;
        }
        if let Some(c) = post.scale {
            if !(c.is_finite() && c > 0.0) {
                return None;
            }
        }
        let bias = match &post.bias {
            Some(b) => {
                if b.device() != Device::Cpu || b.kind() != Kind::Float || b.numel() != v as usize {
                    return None;
                }
                let bv: Vec<f32> = to_vec(b)?;
                if bv.iter().any(|x| !x.is_finite()) {
                    return None;
                }
                Some(bv)
            }
            None => None,
        };
        let quant = self.quantized(ws)?;
        let (rows, v, k) = (rows as usize, v as usize, k as usize);
        let x: Vec<f32> = to_vec(xs)?;
        let (a, b) = quant.screen(&x, rows, post.scale.map(|c| c as f32), bias.as_deref())?;
        SCREENED.with(|s| s.set(s.get() + 1));
        let hn = (0..rows).map(|r| norm2(&x[r * k..(r + 1) * k])).collect();
        let mut out_sizes = sizes;
        *out_sizes.last_mut()? = v as i64;
        let out = Tensor::from_slice(&a).view(out_sizes.as_slice());
        PENDING.with(|p| {
            *p.borrow_mut() = Some(Pending {
                rows,
                v,
                x_shape: xs.size(),
                x,
                hn,
                bound: b,
                bias,
                quant,
                weight: ws.shallow_clone(),
                gemm: self.gemm.clone(),
                post: post.clone(),
            })
        });
        Some(out)
    }
}

/// `logits.argmax(-1, false)` for the `[rows, V]` logits of a greedy step, whose values come
/// from a screened LM head and were then only masked (banned tokens at -inf). Without a
/// pending screen (any other step), the plain argmax.
pub fn argmax(logits: &Tensor) -> Tensor {
    match PENDING.with(|p| p.borrow_mut().take()) {
        Some(p) => screened_argmax(logits, &p).unwrap_or_else(|| logits.argmax(-1, false)),
        None => logits.argmax(-1, false),
    }
}

fn screened_argmax(logits: &Tensor, p: &Pending) -> Option<Tensor> {
    if logits.size() != [p.rows as i64, p.v as i64] || logits.kind() != Kind::Float || logits.device() != Device::Cpu {
        // not the logits this head produced: decide on the exact values
        return Some(exact_logits(p).masked_fill(&logits.isneginf(), f64::NEG_INFINITY).argmax(-1, false));
    }
    let vals: Vec<f32> = to_vec(logits)?;
    let k = p.quant.k;
    let g = gamma(k);
    let c = p.post.scale.unwrap_or(1.0);
    let mut tokens = vec![0i64; p.rows];
    let mut full: Option<Vec<f32>> = None;
    for r in 0..p.rows {
        let row = &vals[r * p.v..(r + 1) * p.v];
        let bound = &p.bound[r * p.v..(r + 1) * p.v];
        let mut t = f64::NEG_INFINITY;
        for (&a, &b) in row.iter().zip(bound) {
            if a != f32::NEG_INFINITY {
                t = t.max(a as f64 - b as f64);
            }
        }
        let mut cand = Vec::new();
        if t > f64::NEG_INFINITY {
            for (i, (&a, &b)) in row.iter().zip(bound).enumerate() {
                if a != f32::NEG_INFINITY && a as f64 + b as f64 >= t {
                    cand.push(i);
                    if cand.len() > MAX_CANDIDATES {
                        break;
                    }
                }
            }
        }
        let decided = match cand.len() {
            1 => Some(cand[0]),
            2..=MAX_CANDIDATES => certify(p, r, &cand, g, c),
            _ => None,
        };
        tokens[r] = match decided {
            Some(i) => i as i64,
            None => {
                // the plain path decides: all rows as the model computes them, this row's argmax
                if full.is_none() {
                    let z = exact_logits(p);
                    full = Some(to_vec(&z)?);
                }
                let z = &full.as_ref()?[r * p.v..(r + 1) * p.v];
                let masked = Tensor::from_slice(z).masked_fill(&Tensor::from_slice(row).isneginf(), f64::NEG_INFINITY);
                masked.argmax(-1, false).int64_value(&[])
            }
        };
    }
    Some(Tensor::from_slice(&tokens))
}

/// The candidate whose exact logit is certainly the largest, if one is.
fn certify(p: &Pending, r: usize, cand: &[usize], g: f64, c: f64) -> Option<usize> {
    let k = p.quant.k;
    let x = &p.x[r * k..(r + 1) * k];
    // SAFETY: the pending weight is a contiguous f32 CPU tensor of v x k elements
    let w = unsafe { std::slice::from_raw_parts(p.weight.data_ptr() as *const f32, p.v * k) };
    let mut best: Option<(usize, f64, f64)> = None;
    let mut vals = Vec::with_capacity(cand.len());
    for &i in cand {
        let beta = p.bias.as_ref().map_or(0.0, |b| b[i] as f64);
        let z = dot64(&w[i * k..(i + 1) * k], x) * c + beta;
        // |plain f32 value - z|: the product's summation error, then the scale's and bias' roundings
        let e = (c * g * p.quant.norm[i] as f64 * p.hn[r] + (z.abs() + beta.abs()) * 4.0 * U) * (1.0 + MARGIN);
        if !z.is_finite() || !e.is_finite() {
            return None;
        }
        vals.push((i, z, e));
        if best.map_or(true, |(_, bz, _)| z > bz) {
            best = Some((i, z, e));
        }
    }
    let (bi, bz, be) = best?;
    vals.iter().all(|&(i, z, e)| i == bi || bz - be > z + e).then_some(bi)
}

/// The logits of the pending step exactly as the plain path computes them, `[rows, V]`.
fn exact_logits(p: &Pending) -> Tensor {
    let x = Tensor::from_slice(&p.x).view(p.x_shape.as_slice());
    p.post.apply(plain_linear(p.gemm.as_deref(), &x, &p.weight, None)).view([p.rows as i64, p.v as i64])
}

fn plain_linear(gemm: Option<&PackedGemm>, xs: &Tensor, ws: &Tensor, bs: Option<&Tensor>) -> Tensor {
    match gemm {
        Some(g) => g.linear(xs, ws, bs),
        None => xs.linear(ws, bs),
    }
}
