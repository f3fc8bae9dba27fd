//! Micro-benchmark (not a test): decoder-step linear layers, `rust_bert::skinny` (patch 12) vs
//! libtorch's `linear` (MKL sgemm) vs MKL's packed API (patch 8), GB/s of weights read.
//! Run: cargo run --release -p kpeval-torch --example skinny_bench -- [threads]
use rust_bert::packed::PackedGemm;
use std::time::Instant;
use tch::{Kind, Tensor};

fn main() {
    let threads: i32 = std::env::args().nth(1).map_or(2, |s| s.parse().unwrap());
    tch::set_num_threads(threads);
    let _g = tch::no_grad_guard();
    let opts = (Kind::Float, tch::Device::Cpu);
    for &(n, k) in &[(1024i64, 1024i64), (4096, 1024), (1024, 4096), (50264, 1024)] {
        let ws: Vec<Tensor> = (0..24).map(|_| Tensor::randn([n, k], opts)).collect();
        let b = Tensor::randn([n], opts);
        let reps = (400_000_000 / (n * k * 4 * 24)).max(1) as usize;
        for &rows in &[4i64, 8, 16, 32] {
            let x = Tensor::randn([rows, k], opts);
            let gb = (n * k * 4 * 24) as f64 * reps as f64 / 1e9;
            let mut line = format!("{n}x{k} rows {rows:2}:");
            let packed: Vec<PackedGemm> = (0..24).map(|_| PackedGemm::new()).collect();
            for name in ["linear", "skinny", "mkl-packed"] {
                let run = |w: &Tensor, i: usize| match name {
                    "linear" => x.linear(w, Some(&b)),
                    "skinny" => rust_bert::skinny::linear(&x, w, Some(&b)).unwrap(),
                    _ => packed[i].linear_mkl_packed(&x, w, Some(&b)),
                };
                for (i, w) in ws.iter().enumerate() {
                    let _ = run(w, i);
                }
                let t = Instant::now();
                for _ in 0..reps {
                    for (i, w) in ws.iter().enumerate() {
                        let _ = run(w, i);
                    }
                }
                let s = t.elapsed().as_secs_f64();
                line += &format!("  {name} {:6.2} GB/s", gb / s);
            }
            println!("{line}");
        }
    }
}
