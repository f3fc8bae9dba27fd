//! The decoder's linear layers (vendored rust-bert patches 8 and 12, `rust_bert::packed`,
//! `rust_bert::skinny`) compute the same function as libtorch's `linear`: within float
//! rounding where kpeval's kernel (2..=64 rows) or MKL's packed kernel (65..=MAX_ROWS rows)
//! runs, bit for bit where it falls back (1 row, more than MAX_ROWS rows, other dtypes,
//! autograd).
use rust_bert::packed::{self, PackedGemm, MAX_ROWS};
use tch::{Kind, Tensor};

fn max_rel_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    let scale = b.abs().max().double_value(&[]).max(1e-12);
    (a - b).abs().max().double_value(&[]) / scale
}

#[test]
fn packed_linear_equals_linear() {
    tch::manual_seed(7);
    if cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        // libtorch's x86-64 Linux builds (the PyPI wheels kpeval uses) carry MKL
        assert!(packed::available(), "MKL's packed SGEMM was not found in libtorch");
    }
    for &(n, k) in &[(64i64, 32i64), (300, 128), (1024, 1024), (50, 4096)] {
        let w = Tensor::randn([n, k], (Kind::Float, tch::Device::Cpu));
        let b = Tensor::randn([n], (Kind::Float, tch::Device::Cpu));
        let gemm = PackedGemm::new();
        // the row count changes between calls: the packed copy is rebuilt each time
        for &rows in &[2i64, 3, 8, 32, 8, 1, 65, MAX_ROWS, MAX_ROWS + 1, 4] {
            let x = Tensor::randn([rows, k], (Kind::Float, tch::Device::Cpu));
            for bias in [Some(&b), None] {
                let want = x.linear(&w, bias);
                let got = gemm.linear(&x, &w, bias);
                // MKL's packed kernel itself, at row counts where patch 12's kernel runs too
                let mkl = gemm.linear_mkl_packed(&x, &w, bias);
                let dm = max_rel_diff(&mkl, &want);
                assert!(dm < 1e-5, "MKL packed, rows {rows}, {n}x{k}: rel diff {dm}");
                let d = max_rel_diff(&got, &want);
                if rows == 1 || rows > MAX_ROWS {
                    assert_eq!(d, 0.0, "fallback path, rows {rows}, {n}x{k}");
                } else {
                    assert!(
                        d < 1e-5,
                        "rows {rows}, {n}x{k}, bias {}: rel diff {d}",
                        bias.is_some()
                    );
                }
            }
        }
    }
}

#[test]
fn shapes_layouts_and_weights() {
    tch::manual_seed(11);
    let opts = (Kind::Float, tch::Device::Cpu);
    let gemm = PackedGemm::new();
    let w1 = Tensor::randn([96, 40], opts);
    let w2 = Tensor::randn([96, 40], opts);
    // (batch, 1 token, hidden) as at a decoding step
    let x = Tensor::randn([6, 1, 40], opts);
    let got = gemm.linear(&x, &w1, None);
    assert_eq!(got.size(), vec![6, 1, 96]);
    assert!(max_rel_diff(&got, &x.linear(&w1, None::<&Tensor>)) < 1e-5);
    // another weight through the same cache: repacked, not the stale copy
    let got2 = gemm.linear(&x, &w2, None);
    assert!(max_rel_diff(&got2, &x.linear(&w2, None::<&Tensor>)) < 1e-5);
    // a non-contiguous input
    let xt = Tensor::randn([40, 5], opts).transpose(0, 1);
    assert!(!xt.is_contiguous());
    assert!(max_rel_diff(&gemm.linear(&xt, &w1, None), &xt.linear(&w1, None::<&Tensor>)) < 1e-5);
    // f64 and autograd fall back to libtorch's linear, unchanged
    let xd = Tensor::randn([4, 40], (Kind::Double, tch::Device::Cpu));
    let wd = w1.to_kind(Kind::Double);
    assert_eq!(max_rel_diff(&gemm.linear(&xd, &wd, None), &xd.linear(&wd, None::<&Tensor>)), 0.0);
    let wg = w1.copy().set_requires_grad(true);
    let xg = Tensor::randn([4, 40], opts);
    let yg = gemm.linear(&xg, &wg, None);
    assert!(yg.requires_grad(), "autograd must see the weights");
    yg.sum(Kind::Float).backward();
    assert!(wg.grad().defined());
    // without autograd the same weights take the packed path
    let y = tch::no_grad(|| gemm.linear(&xg, &wg, None));
    assert!(!y.requires_grad());
    assert!(max_rel_diff(&y, &xg.linear(&w1, None::<&Tensor>)) < 1e-5);
}

fn values(t: &Tensor) -> Vec<f32> {
    let t = t.contiguous().view([-1]);
    let mut v = vec![0f32; t.numel()];
    t.copy_data(&mut v, t.numel());
    v
}

/// Patch 12: 2..=64 rows go through kpeval's own kernel, whose summation order is fixed
/// (`rust_bert::skinny::reference` computes the same numbers with scalar fused multiply-adds):
/// same bits as the reference, for any thread count; within rounding of libtorch's `linear`.
#[test]
fn skinny_kernel_equals_its_reference_for_any_thread_count() {
    assert!(rust_bert::skinny::available(), "the suite runs on x86-64 CPUs with AVX2 + FMA");
    tch::manual_seed(3);
    let opts = (Kind::Float, tch::Device::Cpu);
    let before = tch::get_num_threads();
    // odd column counts (a last single weight row), k not a multiple of 8 (the scalar tail)
    for &(n, k) in &[(97i64, 37i64), (64, 1029), (1024, 1024), (33, 8), (3, 4096)] {
        let w = Tensor::randn([n, k], opts);
        let b = Tensor::randn([n], opts);
        let (wv, bv) = (values(&w), values(&b));
        for rows in [2i64, 3, 4, 5, 7, 8, 9, 16, 17, 32, 33, rust_bert::skinny::MAX_ROWS] {
            let x = Tensor::randn([rows, k], opts);
            let xv = values(&x);
            for bias in [true, false] {
                let bs = bias.then_some(&b);
                let want = rust_bert::skinny::reference(
                    &xv,
                    &wv,
                    bias.then_some(bv.as_slice()),
                    rows as usize,
                    n as usize,
                    k as usize,
                );
                for threads in [1, 2, 3] {
                    tch::set_num_threads(threads);
                    let got = rust_bert::skinny::linear(&x, &w, bs).expect("skinny path");
                    assert_eq!(got.size(), vec![rows, n]);
                    let got = values(&got);
                    let differ =
                        got.iter().zip(&want).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
                    assert_eq!(
                        differ, 0,
                        "{rows}x{k} by {n}x{k}, bias {bias}, {threads} thread(s)"
                    );
                }
                let d = max_rel_diff(
                    &rust_bert::skinny::linear(&x, &w, bs).unwrap(),
                    &x.linear(&w, bs),
                );
                assert!(d < 1e-5, "{rows}x{k} by {n}x{k}: rel diff {d} from libtorch's linear");
            }
        }
    }
    tch::set_num_threads(before);
}

/// A row's result does not depend on the other rows of the call (nor on how many there are).
#[test]
fn skinny_rows_do_not_depend_on_the_batch() {
    tch::manual_seed(5);
    let opts = (Kind::Float, tch::Device::Cpu);
    let w = Tensor::randn([300, 520], opts);
    let b = Tensor::randn([300], opts);
    let x = Tensor::randn([40, 520], opts);
    let all = values(&rust_bert::skinny::linear(&x, &w, Some(&b)).unwrap());
    for (start, len) in [(0i64, 2i64), (5, 3), (9, 7), (38, 2), (3, 13), (1, 33)] {
        let part =
            values(&rust_bert::skinny::linear(&x.narrow(0, start, len), &w, Some(&b)).unwrap());
        let from_all = &all[(start * 300) as usize..((start + len) * 300) as usize];
        assert!(
            part.iter().zip(from_all).all(|(a, b)| a.to_bits() == b.to_bits()),
            "rows {start}..{} alone differ from the same rows among 40",
            start + len
        );
    }
    // outside 2..=64 rows, or with autograd on the weights, the kernel does not apply
    assert!(rust_bert::skinny::linear(&x.narrow(0, 0, 1), &w, None).is_none());
    assert!(rust_bert::skinny::linear(&Tensor::randn([65, 520], opts), &w, None).is_none());
    let wg = w.copy().set_requires_grad(true);
    assert!(rust_bert::skinny::linear(&x, &wg, None).is_none());
    assert!(tch::no_grad(|| rust_bert::skinny::linear(&x, &wg, None)).is_some());
}
