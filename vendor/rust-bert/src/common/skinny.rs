// kpeval patch 12: decoder linear layers of 2..=MAX_ROWS (64) rows through kpeval's own kernel.
//
// At a decoding step a linear layer multiplies a few rows (batch x beams, one token each) by a
// large weight matrix: the product is bound by reading the weights once from memory. MKL's
// `sgemm` re-packs the whole weight at every call, and its packed API (patch 8), which packs
// once, runs a slow copy of its packed panels at every call on CPUs where MKL takes its
// generic code path (AMD: `mkl_blas_def_sgemm_scopy_down16_bdz` was 23% of greedy batch-8
// generation). This kernel reads the weight matrix as it is ([N, K], row-major, no copy) once
// per call, 4 input rows x 3 weight rows at a time (12 AVX2 accumulators), and is the same code
// on every x86-64 CPU with AVX2 + FMA. Beyond 64 rows the product is bound by arithmetic, not
// memory, and MKL's kernels (patch 8 / `linear`) run instead.
//
// Summation order, fixed: output (m, n) is the dot product of x[m, :] and w[n, :] summed in 8
// lanes (lane l takes k = l, l + 8, ... in order, with fused multiply-adds, from zero), the lanes
// reduced as ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), then the k % 8 last terms
// added in order with fused multiply-adds, then the bias. So a row's result depends on that
// row and the weights only: not on the other rows, the row count, the thread count or the CPU
// (`reference` computes the same numbers with scalar `mul_add`s, bit for bit).
//
// Only CPU f32 without autograd; `KPEVAL_SKINNY_GEMM=0` turns it off (patch 8 / libtorch's
// `linear` run instead).

use crate::common::greedy_head::{parallel_rows, SharedMut};
use std::sync::OnceLock;
use tch::{Device, Kind, Tensor};

/// Row counts (2..=MAX_ROWS) that go through this kernel.
pub const MAX_ROWS: i64 = 64;

/// Whether the kernel runs here: an x86-64 CPU with AVX2 and FMA, and `KPEVAL_SKINNY_GEMM`
/// is not `0`.
pub fn available() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        if std::env::var("KPEVAL_SKINNY_GEMM").map_or(false, |v| v.trim() == "0") {
            return false;
        }
        #[cfg(target_arch = "x86_64")]
        {
            is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            false
        }
    })
}

/// `xs @ ws^T + bs` through the kernel, or `None` where it does not apply (see the module
/// comment): the caller then uses another path.
pub fn linear(xs: &Tensor, ws: &Tensor, bs: Option<&Tensor>) -> Option<Tensor> {
    if !available()
        || xs.device() != Device::Cpu
        || xs.kind() != Kind::Float
        || ws.kind() != Kind::Float
        || ws.device() != Device::Cpu
        || ws.dim() != 2
        || !ws.is_contiguous()
        || xs.requires_grad()
    {
        return None;
    }
    if (ws.requires_grad() || bs.map_or(false, |b| b.requires_grad()))
        && crate::common::packed::grad_mode_enabled()
    {
        return None; // autograd must see the weights
    }
    let sizes = xs.size();
    let k = *sizes.last()?;
    let (n, wk) = (ws.size()[0], ws.size()[1]);
    if k != wk || k == 0 || n == 0 {
        return None;
    }
    let rows = sizes[..sizes.len() - 1].iter().product::<i64>();
    if !(2..=MAX_ROWS).contains(&rows) {
        return None;
    }
    let bias = match bs {
        Some(b) => {
            if b.kind() != Kind::Float || b.device() != Device::Cpu || b.size() != [n] {
                return None;
            }
            Some(b.contiguous())
        }
        None => None,
    };
    let x = xs.reshape([rows, k]).contiguous();
    let out = Tensor::empty([rows, n], (Kind::Float, Device::Cpu));
    let (m, n_, k_) = (rows as usize, n as usize, k as usize);
    let xp = SharedMut(x.data_ptr() as *mut f32);
    let wp = SharedMut(ws.data_ptr() as *mut f32);
    let bp = bias.as_ref().map(|b| SharedMut(b.data_ptr() as *mut f32));
    let op = SharedMut(out.data_ptr() as *mut f32);
    let ok = parallel_rows(n_, 16, &|lo, hi| {
        // SAFETY: x [m, k], w [n, k], bias [n] and out [m, n] are contiguous f32 tensors kept
        // alive by this function; each thread writes the columns [lo, hi) of `out` only.
        unsafe {
            let (xp, wp, op) = (xp, wp, op);
            let bias = bp.map(|b| b.0 as *const f32);
            x86::columns(xp.0, m, k_, wp.0, bias, op.0, n_, lo, hi)
        }
    });
    if !ok {
        return None;
    }
    let mut out_sizes = sizes;
    *out_sizes.last_mut()? = n;
    Some(out.view(out_sizes.as_slice()))
}

/// The kernel's numbers computed with scalar fused multiply-adds in the kernel's order (see the
/// module comment): `x` [m, k], `w` [n, k], `bias` [n], row-major; returns [m, n].
pub fn reference(x: &[f32], w: &[f32], bias: Option<&[f32]>, m: usize, n: usize, k: usize) -> Vec<f32> {
    let k8 = k / 8 * 8;
    let mut out = vec![0f32; m * n];
    for r in 0..m {
        for c in 0..n {
            let (xr, wr) = (&x[r * k..(r + 1) * k], &w[c * k..(c + 1) * k]);
            let mut lane = [0f32; 8];
            for j in (0..k8).step_by(8) {
                for l in 0..8 {
                    lane[l] = xr[j + l].mul_add(wr[j + l], lane[l]);
                }
            }
            let mut s = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
            for t in k8..k {
                s = xr[t].mul_add(wr[t], s);
            }
            if let Some(b) = bias {
                s += b[c];
            }
            out[r * n + c] = s;
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
mod x86 {
    pub unsafe fn columns(_: *const f32, _: usize, _: usize, _: *const f32, _: Option<*const f32>, _: *mut f32, _: usize, _: usize, _: usize) {
        unreachable!("the skinny kernel only runs on x86-64 (`available`)")
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    /// Weight rows per block (4 x NB accumulators).
    const NB: usize = 3;

    /// Columns [lo, hi) of out [m, n] = x [m, k] w [n, k]^T (+ bias [n]).
    #[target_feature(enable = "avx2,fma")]
    pub unsafe fn columns(x: *const f32, m: usize, k: usize, w: *const f32, bias: Option<*const f32>, out: *mut f32, n: usize, lo: usize, hi: usize) {
        let mut c = lo;
        while c < hi {
            if c + NB <= hi {
                // the next NB weight rows, prefetched while these are read (their first use)
                let next = if c + 2 * NB <= hi { w.add((c + NB) * k) } else { std::ptr::null() };
                rows_of::<NB>(x, m, k, w.add(c * k), next, bias, out, n, c);
                c += NB;
            } else {
                rows_of::<1>(x, m, k, w.add(c * k), std::ptr::null(), bias, out, n, c);
                c += 1;
            }
        }
    }

    /// All m input rows against the NR weight rows at `w` (columns c.. of out).
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn rows_of<const NR: usize>(x: *const f32, m: usize, k: usize, w: *const f32, next: *const f32, bias: Option<*const f32>, out: *mut f32, n: usize, c: usize) {
        let mut r = 0;
        let mut pf = next;
        while r < m {
            match m - r {
                1 => tile::<1, NR>(x.add(r * k), k, w, pf, bias, out.add(r * n + c), n, c),
                2 => tile::<2, NR>(x.add(r * k), k, w, pf, bias, out.add(r * n + c), n, c),
                3 => tile::<3, NR>(x.add(r * k), k, w, pf, bias, out.add(r * n + c), n, c),
                _ => tile::<4, NR>(x.add(r * k), k, w, pf, bias, out.add(r * n + c), n, c),
            }
            r += 4;
            pf = std::ptr::null(); // prefetched by the first tile
        }
    }

    /// MR input rows x NR weight rows: MR x NR accumulators of 8 lanes.
    #[target_feature(enable = "avx2,fma")]
    #[inline]
    unsafe fn tile<const MR: usize, const NR: usize>(x: *const f32, k: usize, w: *const f32, pf: *const f32, bias: Option<*const f32>, out: *mut f32, n: usize, c: usize) {
        let k8 = k / 8 * 8;
        let mut acc = [[_mm256_setzero_ps(); NR]; MR];
        let mut j = 0;
        while j < k8 {
            if !pf.is_null() && j % 16 == 0 {
                for b in 0..NR {
                    _mm_prefetch::<_MM_HINT_T0>(pf.add(b * k + j) as *const i8);
                }
            }
            let mut wv = [_mm256_setzero_ps(); NR];
            for b in 0..NR {
                wv[b] = _mm256_loadu_ps(w.add(b * k + j));
            }
            for a in 0..MR {
                let xv = _mm256_loadu_ps(x.add(a * k + j));
                for b in 0..NR {
                    acc[a][b] = _mm256_fmadd_ps(xv, wv[b], acc[a][b]);
                }
            }
            j += 8;
        }
        for a in 0..MR {
            for b in 0..NR {
                // ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
                let v = acc[a][b];
                let s4 = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
                let s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
                let s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
                let mut s = _mm_cvtss_f32(s1);
                for t in k8..k {
                    s = (*x.add(a * k + t)).mul_add(*w.add(b * k + t), s);
                }
                if let Some(bias) = bias {
                    s += *bias.add(c + b);
                }
                *out.add(a * n + b) = s;
            }
        }
    }
}
