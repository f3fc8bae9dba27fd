//! The decoder's packed-GEMM linear layers (vendored rust-bert patch 8,
//! `rust_bert::packed`) compute the same function as libtorch's `linear`: within float
//! rounding where MKL's packed kernel runs (2..=MAX_ROWS rows), bit for bit where it falls back
//! (1 row, more than MAX_ROWS rows, other dtypes, autograd).
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
        for &rows in &[2i64, 3, 8, 32, 8, 1, MAX_ROWS, MAX_ROWS + 1, 4] {
            let x = Tensor::randn([rows, k], (Kind::Float, tch::Device::Cpu));
            for bias in [Some(&b), None] {
                let want = x.linear(&w, bias);
                let got = gemm.linear(&x, &w, bias);
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
