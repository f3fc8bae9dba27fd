//! The greedy LM-head screen (vendored rust-bert patch 10, `rust_bert::greedy_head`): its
//! kernels, its bound, and that its argmax is always the plain path's.
#![allow(clippy::assign_op_pattern)] // tensor arithmetic as the reference writes it

use rust_bert::greedy_head::{argmax, greedy_scope, kernels, LmHead, Quantized};
use tch::Tensor;

/// A small deterministic generator (no dependence on libtorch's RNG state).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 11
    }
    /// Roughly normal (sum of 4 uniforms, centred), times `scale`.
    fn normal(&mut self, scale: f32) -> f32 {
        let s: f64 = (0..4).map(|_| self.next() as f64 / (1u64 << 53) as f64).sum();
        ((s - 2.0) * 1.7) as f32 * scale
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Weights with rows of very different norms, a zero row, a row of one non-zero value, two
/// exact duplicates (exact ties in the logits) and a near duplicate.
fn weights(rng: &mut Rng, v: usize, k: usize) -> Vec<f32> {
    let mut w: Vec<f32> = Vec::with_capacity(v * k);
    for i in 0..v {
        let scale = [0.02, 0.2, 0.002, 1.0][i % 4];
        for _ in 0..k {
            w.push(rng.normal(scale));
        }
    }
    w[..k].iter_mut().for_each(|x| *x = 0.0); // row 0: zeros
    for (j, x) in w[k..2 * k].iter_mut().enumerate() {
        *x = if j == 3 { 0.7 } else { 0.0 };
    }
    let a = dup_row(v);
    let b = a + 8;
    let dup: Vec<f32> = w[a * k..(a + 1) * k].to_vec();
    w[b * k..(b + 1) * k].copy_from_slice(&dup);
    // and a near duplicate: one value an ulp further from zero, so that against x = row a the
    // real product is larger by a hair, and f32 sums may or may not see it
    let c = a + 4;
    w[c * k..(c + 1) * k].copy_from_slice(&dup);
    w[c * k] = if dup[0] > 0.0 { dup[0].next_up() } else { dup[0].next_down() };
    w
}

/// The row that [`weights`] duplicates: one of the largest norm.
fn dup_row(v: usize) -> usize {
    v / 3 / 4 * 4 + 3
}

fn tensor(v: &[f32], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).view(shape)
}

fn values(t: &Tensor) -> Vec<f32> {
    let t = t.contiguous().view([-1]);
    let n = t.numel();
    let mut out = vec![0f32; n];
    t.copy_data(&mut out, n);
    out
}

#[test]
fn kernels_agree_with_each_other_and_with_f64() {
    let mut rng = Rng(7);
    for &(v, k) in &[(300usize, 64usize), (257, 40), (130, 1030), (64, 16)] {
        let w = weights(&mut rng, v, k);
        let q = Quantized::new(&w, v, k).expect("finite weights quantize");
        let (qv, scale) = q.raw();
        for rows in 1..=8usize {
            let x: Vec<f32> = (0..rows * k).map(|_| rng.normal(3.0)).collect();
            // reference: the int8 products in f64
            let reference: Vec<f64> = (0..rows * v)
                .map(|idx| {
                    let (r, i) = (idx / v, idx % v);
                    let d: f64 = (0..k).map(|j| qv[i * k + j] as f64 * x[r * k + j] as f64).sum();
                    d * scale[i] as f64
                })
                .collect();
            for (name, kern) in kernels() {
                // the whole range, then two ranges that split the rows unevenly
                for ranges in [vec![(0, v)], vec![(0, 5), (5, v)]] {
                    let mut out = vec![f32::NAN; rows * v];
                    for (lo, hi) in ranges {
                        unsafe { kern(qv, k, &x, rows, lo, hi, scale, out.as_mut_ptr(), v) };
                    }
                    for (idx, (&got, &want)) in out.iter().zip(&reference).enumerate() {
                        let (r, i) = (idx / v, idx % v);
                        let mag: f64 = (0..k)
                            .map(|j| (qv[i * k + j] as f64 * x[r * k + j] as f64).abs())
                            .sum::<f64>()
                            * scale[i] as f64;
                        assert!(
                            (got as f64 - want).abs() <= 1e-5 * mag + 1e-30,
                            "{name} v={v} k={k} rows={rows} [{r},{i}]: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn screen_bound_holds_for_the_plain_f32_product() {
    let mut rng = Rng(11);
    for &(v, k, xscale) in &[(2000usize, 256usize, 1.0f32), (1500, 1024, 40.0), (999, 72, 0.01)] {
        let w = weights(&mut rng, v, k);
        let q = Quantized::new(&w, v, k).unwrap();
        let wt = tensor(&w, &[v as i64, k as i64]);
        for rows in [1usize, 3, 8, 11] {
            let x: Vec<f32> = (0..rows * k).map(|_| rng.normal(xscale)).collect();
            let bias: Vec<f32> = (0..v).map(|_| rng.normal(2.0)).collect();
            for (scale, with_bias) in
                [(None, false), (Some(0.125f32), false), (None, true), (Some(0.03125), true)]
            {
                let b = with_bias.then_some(bias.as_slice());
                let (a, bound) = q.screen(&x, rows, scale, b).expect("finite inputs screen");
                // the plain path: f32 linear (MKL), then * scale, then + bias
                let mut z = tensor(&x, &[rows as i64, k as i64]).linear::<Tensor>(&wt, None);
                if let Some(c) = scale {
                    z = z * c as f64;
                }
                if with_bias {
                    z = z + tensor(&bias, &[v as i64]);
                }
                let z = values(&z);
                let mut widths = Vec::with_capacity(z.len());
                for idx in 0..z.len() {
                    let gap = (z[idx] as f64 - a[idx] as f64).abs();
                    assert!(gap <= bound[idx] as f64, "v={v} k={k} rows={rows} scale={scale:?} bias={with_bias} [{idx}]: |{} - {}| = {gap} > {}", z[idx], a[idx], bound[idx]);
                    widths.push(bound[idx] as f64);
                }
                // and the bound is useful: far narrower than the spread of the logits
                let mean = z.iter().map(|&v| v as f64).sum::<f64>() / z.len() as f64;
                let sd = (z.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>()
                    / z.len() as f64)
                    .sqrt();
                widths.sort_by(|a, b| a.partial_cmp(b).unwrap());
                let median = widths[widths.len() / 2];
                assert!(
                    median < 0.2 * sd,
                    "bound too loose: median {median} against logit sd {sd}"
                );
            }
        }
    }
}

#[test]
fn non_finite_inputs_are_not_screened() {
    let mut rng = Rng(3);
    let (v, k) = (100, 32);
    let mut w = weights(&mut rng, v, k);
    let x: Vec<f32> = (0..k).map(|_| rng.normal(1.0)).collect();
    let q = Quantized::new(&w, v, k).unwrap();
    let mut bad = x.clone();
    bad[5] = f32::INFINITY;
    assert!(q.screen(&bad, 1, None, None).is_none());
    bad[5] = f32::NAN;
    assert!(q.screen(&bad, 1, None, None).is_none());
    let mut bias = vec![0f32; v];
    bias[9] = f32::NAN;
    assert!(q.screen(&x, 1, None, Some(&bias)).is_none());
    w[17] = f32::INFINITY;
    assert!(Quantized::new(&w, v, k).is_none());
}

/// The plain path's token for each row: `logits(..)` outside a greedy scope, the same bans,
/// `argmax`.
fn plain_tokens(
    head: &LmHead,
    x: &Tensor,
    w: &Tensor,
    scale: Option<f64>,
    bias: Option<&Tensor>,
    banned: &Tensor,
) -> Vec<i64> {
    let z = head.logits(x, w, scale, bias);
    let rows = banned.size()[0];
    let z = z.view([rows, -1]).masked_fill(banned, f64::NEG_INFINITY);
    Vec::<i64>::try_from(z.argmax(-1, false)).unwrap()
}

#[test]
fn screened_argmax_is_the_plain_argmax() {
    let mut rng = Rng(5);
    let (mut screened_rows, mut total) = (0usize, 0usize);
    for &(v, k) in &[(5000usize, 64usize), (3001, 256)] {
        let w = weights(&mut rng, v, k);
        let wt = tensor(&w, &[v as i64, k as i64]);
        let head = LmHead::new();
        let bias_v: Vec<f32> = (0..v).map(|_| rng.normal(0.5)).collect();
        let bias = tensor(&bias_v, &[1, v as i64]);
        for trial in 0..40 {
            let rows = [1usize, 2, 3, 8, 12, 16][trial % 6];
            let mut x: Vec<f32> = (0..rows * k).map(|_| rng.normal(2.0)).collect();
            if trial % 5 == 0 {
                // make the duplicated rows (an exact tie) the best for row 0
                let dup = dup_row(v);
                for j in 0..k {
                    x[j] = w[dup * k + j] * 1000.0;
                }
                // small where the near duplicate differs: f32 sums cannot see the difference,
                // f64 sums can
                x[0] = w[dup * k];
            }
            let xt = tensor(&x, &[rows as i64, 1, k as i64]);
            // bans: a few random tokens per row, sometimes everything but two, sometimes all
            let mut ban = vec![false; rows * v];
            for r in 0..rows {
                for _ in 0..20 {
                    ban[r * v + rng.below(v)] = true;
                }
                if trial % 7 == 3 {
                    ban[r * v..(r + 1) * v]
                        .iter_mut()
                        .enumerate()
                        .for_each(|(i, b)| *b = i != 10 && i != v - 1);
                }
                if trial % 11 == 4 && r == 0 {
                    ban[..v].iter_mut().for_each(|b| *b = true);
                }
            }
            let banned = Tensor::from_slice(&ban).view([rows as i64, v as i64]);
            let (scale, b) = match trial % 3 {
                0 => (None, None),
                1 => (Some(0.125), None),
                _ => (None, Some(&bias)),
            };
            let want = plain_tokens(&head, &xt, &wt, scale, b, &banned);
            let plain = head.logits(&xt, &wt, scale, b).view([rows as i64, v as i64]);
            let got = {
                let _scope = greedy_scope();
                let z = head.logits(&xt, &wt, scale, b);
                assert_eq!(z.size(), vec![rows as i64, 1, v as i64]);
                let z = z.view([rows as i64, v as i64]);
                // screened values differ from the plain ones (else nothing was screened)
                if !z.equal(&plain) {
                    screened_rows += rows;
                }
                argmax(&z.masked_fill(&banned, f64::NEG_INFINITY))
            };
            let got = Vec::<i64>::try_from(got).unwrap();
            total += rows;
            assert_eq!(got, want, "v={v} k={k} trial {trial} rows {rows}");
        }
    }
    assert!(screened_rows * 2 > total, "the screen ran for only {screened_rows} of {total} rows");
}

#[test]
fn outside_greedy_steps_logits_are_plain() {
    let mut rng = Rng(9);
    let (v, k) = (700, 48);
    let w = weights(&mut rng, v, k);
    let wt = tensor(&w, &[v as i64, k as i64]);
    let head = LmHead::new();
    let x = tensor(&(0..3 * k).map(|_| rng.normal(1.0)).collect::<Vec<_>>(), &[3, 1, k as i64]);
    let plain = x.linear::<Tensor>(&wt, None) * 0.5;
    // The plain path may run another GEMM kernel than this reference (a [1, 3, k] input is not
    // a [3, 1, k] one; MKL picks kernels per CPU): equal within float rounding, not bit for bit.
    let close = |a: &Tensor, b: &Tensor| a.size() == b.size() && a.allclose(b, 1e-5, 1e-5, false);
    // no scope: plain
    assert!(close(&head.logits(&x, &wt, Some(0.5), None), &plain));
    // in a scope, but more than one position per row (not a decoding step): plain
    let x2 = x.view([1, 3, k as i64]);
    {
        let _scope = greedy_scope();
        assert!(close(&head.logits(&x2, &wt, Some(0.5), None), &plain.view([1, 3, v as i64])));
        // autograd on the input: plain
        let xg = x.detach().set_requires_grad(true);
        let out = head.logits(&xg, &wt, Some(0.5), None);
        assert!(out.requires_grad());
        // argmax without a pending screen is the plain argmax
        let z = plain.view([3, v as i64]);
        assert!(argmax(&z).equal(&z.argmax(-1, false)));
    }
    // after the scope: plain again, and a screen left pending inside it is gone
    {
        let _scope = greedy_scope();
        let _ = head.logits(&x, &wt, None, None);
    }
    assert!(close(&head.logits(&x, &wt, Some(0.5), None), &plain));
    let z = plain.view([3, v as i64]);
    assert!(argmax(&z).equal(&z.argmax(-1, false)));
}
