// kpeval patch 8: decoder linear layers through MKL's packed SGEMM.
//
// At a decoding step a linear layer multiplies a few rows (batch x beams, one token each) by a
// large weight matrix. libtorch's `linear` calls MKL `sgemm`, which re-packs the whole weight
// matrix into its internal panel layout at every call: for 4-32 rows that packing costs more
// than the multiplication (this machine: 8.6 GB/s of weights at 8 rows, 25 GB/s at 1 row,
// where MKL uses gemv). MKL's packed API (`cblas_sgemm_pack` once, `cblas_sgemm_compute` per
// call; what `torch.ops.mkl._mkl_linear` and IPEX use) packs each weight once per row count
// and reuses it at every step (16 GB/s at 8 rows).
//
// The packed kernel sums in a different order than `sgemm`, so results differ in the last
// bits (about 1e-6 relative), as transformers' own results differ between batch sizes.
// Used only where it pays: CPU, f32, no autograd, 2..=MAX_ROWS rows (1 row stays on gemv), on
// layers that are called again with the same row count (decoder layers during generation).
// The MKL symbols are looked up at run time (libtorch builds without MKL simply do not use
// this path); `KPEVAL_PACKED_GEMM=0` turns it off.

use std::ffi::{c_char, c_int, c_void};
use std::sync::{Mutex, OnceLock};
use tch::nn::{self, Module, Path};
use tch::{Device, Kind, Tensor};

/// Row counts up to which a layer uses the packed kernel (decoder steps: batch x beams).
pub const MAX_ROWS: i64 = 256;

const CBLAS_ROW_MAJOR: c_int = 101;
const CBLAS_NO_TRANS: c_int = 111;
const CBLAS_TRANS: c_int = 112;
const CBLAS_PACKED: c_int = 151;
const CBLAS_B_MATRIX: c_int = 162;

type PackGetSize = unsafe extern "C" fn(c_int, c_int, c_int, c_int) -> usize;
type Pack = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    f32,
    *const f32,
    c_int,
    *mut f32,
);
type Compute = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    *const f32,
    c_int,
    *const f32,
    c_int,
    f32,
    *mut f32,
    c_int,
);

struct Mkl {
    get_size: PackGetSize,
    pack: Pack,
    compute: Compute,
}

fn mkl() -> Option<&'static Mkl> {
    static MKL: OnceLock<Option<Mkl>> = OnceLock::new();
    MKL.get_or_init(|| {
        if std::env::var("KPEVAL_PACKED_GEMM").map_or(false, |v| v.trim() == "0") {
            return None;
        }
        let sym = |name: &[u8]| unsafe {
            let p = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr() as *const c_char);
            (!p.is_null()).then_some(p)
        };
        let get_size = sym(b"cblas_sgemm_pack_get_size\0")?;
        let pack = sym(b"cblas_sgemm_pack\0")?;
        let compute = sym(b"cblas_sgemm_compute\0")?;
        // SAFETY: MKL's documented C signatures (LP64 interface: MKL_INT = int).
        unsafe {
            Some(Mkl {
                get_size: std::mem::transmute::<*mut c_void, PackGetSize>(get_size),
                pack: std::mem::transmute::<*mut c_void, Pack>(pack),
                compute: std::mem::transmute::<*mut c_void, Compute>(compute),
            })
        }
    })
    .as_ref()
}

/// Whether the packed path is available (MKL found and not disabled).
pub fn available() -> bool {
    mkl().is_some()
}

/// Whether autograd records operations here (tch has no direct query: an operation on a tensor
/// that requires gradients gives one that does only in grad mode).
pub(crate) fn grad_mode_enabled() -> bool {
    let probe = Tensor::zeros([1], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    (&probe * 1.0).requires_grad()
}

#[derive(Debug)]
struct Packed {
    rows: i64,
    weight_ptr: usize,
    // keeps the weight's storage alive, so `weight_ptr` cannot be reused by another tensor
    _weight: Tensor,
    buffer: Tensor,
}

/// A cache of one weight matrix in MKL's packed layout, for one row count at a time.
#[derive(Debug, Default)]
pub struct PackedGemm {
    cache: Mutex<Option<Packed>>,
}

impl PackedGemm {
    pub fn new() -> PackedGemm {
        PackedGemm::default()
    }

    /// `xs @ ws^T + bs`, the same function as `Tensor::linear`.
    pub fn linear(&self, xs: &Tensor, ws: &Tensor, bs: Option<&Tensor>) -> Tensor {
        // kpeval patch 12: 2..=64 rows through kpeval's own kernel
        if let Some(out) = crate::common::skinny::linear(xs, ws, bs) {
            return out;
        }
        match self.try_packed(xs, ws, bs) {
            Some(out) => out,
            None => xs.linear(ws, bs),
        }
    }

    /// `xs @ ws^T + bs` through MKL's packed kernel where it applies (2..=MAX_ROWS rows), never
    /// through kpeval's own kernel (patch 12); for comparisons.
    pub fn linear_mkl_packed(&self, xs: &Tensor, ws: &Tensor, bs: Option<&Tensor>) -> Tensor {
        match self.try_packed(xs, ws, bs) {
            Some(out) => out,
            None => xs.linear(ws, bs),
        }
    }

    fn try_packed(&self, xs: &Tensor, ws: &Tensor, bs: Option<&Tensor>) -> Option<Tensor> {
        let mkl = mkl()?;
        if xs.device() != Device::Cpu
            || xs.kind() != Kind::Float
            || ws.kind() != Kind::Float
            || ws.device() != Device::Cpu
            || ws.dim() != 2
            || !ws.is_contiguous()
            || xs.requires_grad()
        {
            return None;
        }
        if (ws.requires_grad() || bs.map_or(false, |b| b.requires_grad())) && grad_mode_enabled() {
            return None; // autograd must see the weights
        }
        let sizes = xs.size();
        let k = *sizes.last()?;
        let (n, wk) = (ws.size()[0], ws.size()[1]);
        if k != wk || k == 0 || n == 0 {
            return None;
        }
        let rows = sizes[..sizes.len() - 1].iter().product::<i64>();
        if !(2..=MAX_ROWS).contains(&rows) || n > c_int::MAX as i64 || k > c_int::MAX as i64 {
            return None;
        }
        if let Some(b) = bs {
            if b.kind() != Kind::Float || b.device() != Device::Cpu || b.size() != [n] {
                return None;
            }
        }
        let (m, n32, k32) = (rows as c_int, n as c_int, k as c_int);
        let mut cache = self.cache.lock().ok()?;
        let weight_ptr = ws.data_ptr() as usize;
        let fresh = match cache.as_ref() {
            Some(p) => p.rows != rows || p.weight_ptr != weight_ptr,
            None => true,
        };
        if fresh {
            *cache = None; // free the old buffer before allocating the new one
            let bytes = unsafe { (mkl.get_size)(CBLAS_B_MATRIX, m, n32, k32) };
            let buffer = Tensor::empty([(bytes as i64 + 3) / 4 + 16], (Kind::Float, Device::Cpu));
            unsafe {
                (mkl.pack)(
                    CBLAS_ROW_MAJOR,
                    CBLAS_B_MATRIX,
                    CBLAS_TRANS,
                    m,
                    n32,
                    k32,
                    1.0,
                    ws.data_ptr() as *const f32,
                    k32,
                    buffer.data_ptr() as *mut f32,
                );
            }
            *cache = Some(Packed {
                rows,
                weight_ptr,
                _weight: ws.shallow_clone(),
                buffer,
            });
        }
        let packed = cache.as_ref()?;
        let x = xs.reshape([rows, k]).contiguous();
        let (out, beta) = match bs {
            // bias first, then C = A·B + C: how libtorch's addmm applies it
            Some(b) => (b.unsqueeze(0).expand([rows, n], false).contiguous(), 1.0),
            None => (Tensor::empty([rows, n], (Kind::Float, Device::Cpu)), 0.0),
        };
        unsafe {
            (mkl.compute)(
                CBLAS_ROW_MAJOR,
                CBLAS_NO_TRANS,
                CBLAS_PACKED,
                m,
                n32,
                k32,
                x.data_ptr() as *const f32,
                k32,
                packed.buffer.data_ptr() as *const f32,
                k32,
                beta,
                out.data_ptr() as *mut f32,
                n32,
            );
        }
        let mut out_sizes = sizes;
        *out_sizes.last_mut()? = n;
        Some(out.view(out_sizes.as_slice()))
    }
}

/// A linear layer (`nn::Linear`'s weights and names) whose forward pass goes through
/// [`PackedGemm`] when `packed` is set (decoder layers), through `nn::Linear` otherwise.
#[derive(Debug)]
pub struct PackedLinear {
    pub linear: nn::Linear,
    gemm: Option<PackedGemm>,
}

impl PackedLinear {
    pub fn new<'a, T: std::borrow::Borrow<Path<'a>>>(
        vs: T,
        in_dim: i64,
        out_dim: i64,
        config: nn::LinearConfig,
        packed: bool,
    ) -> PackedLinear {
        PackedLinear {
            linear: nn::linear(vs, in_dim, out_dim, config),
            gemm: packed.then(PackedGemm::new),
        }
    }
}

impl Module for PackedLinear {
    fn forward(&self, xs: &Tensor) -> Tensor {
        match &self.gemm {
            Some(gemm) => gemm.linear(xs, &self.linear.ws, self.linear.bs.as_ref()),
            None => self.linear.forward(xs),
        }
    }
}
