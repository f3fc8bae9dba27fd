//! A BERT-family encoder forward pass over many texts at once without padding, whose output for
//! a text depends on nothing but the text.
//!
//! The texts' token rows are laid end to end (no padding between texts) and every linear layer
//! runs on blocks of exactly [`BLOCK_ROWS`] rows (the last block filled with zero rows). A
//! matrix product's row does not depend on where in its block the row sits as long as the block
//! shape is fixed (checked when the model loads, see [`PackedBert::new`]); so a row's values
//! depend on the row alone, not on the other texts nor on where the text falls. Attention runs
//! text by text over the text's own rows, layer norm and activations row by row. Compared with
//! one text per forward pass, the products are large enough to run near the kernels' peak and
//! the weights are packed once per block instead of once per text; compared with padded
//! batches, no work is spent on padding and the batch does not change the numbers.
//!
//! Where the check fails (a BLAS whose products do depend on a row's place), each text runs on
//! its own (one block of its own length), which is slower but just as independent of the batch.
use kpeval::error::{Error, Result};
use rust_bert::bert::BertConfig;
use tch::{nn, Device, Kind, Tensor};

/// Rows per matrix-product block.
pub const BLOCK_ROWS: i64 = 128;

/// Token rows per pack (texts forwarded together by one thread), at most.
pub const PACK_ROWS: usize = 2048;

struct Layer {
    qkv_w: Tensor,
    qkv_b: Tensor,
    ao_w: Tensor,
    ao_b: Tensor,
    ao_ln: (Tensor, Tensor),
    i_w: Tensor,
    i_b: Tensor,
    o_w: Tensor,
    o_b: Tensor,
    o_ln: (Tensor, Tensor),
}

/// How position ids count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    /// BERT: 0, 1, 2, …
    Bert,
    /// RoBERTa: pad + 1, pad + 2, … (no padding inside a text); the pad id.
    Roberta(i64),
}

/// The packed forward pass of a BERT-family encoder (weights shared with the VarStore they were
/// read from; cheap to copy for another thread with [`PackedBert::replica`]).
pub struct PackedBert {
    word: Tensor,
    pos: Tensor,
    typ: Tensor,
    emb_ln: (Tensor, Tensor),
    layers: Vec<Layer>,
    heads: i64,
    hidden: i64,
    act: fn(&Tensor) -> Tensor,
    positions: Positions,
    device: Device,
    /// Rows per block; 0: each text alone in a block of its own length.
    block: i64,
}

/// rust-bert computes its BERT layer norms with eps 1e-12 (other eps values are folded into the
/// weights, see `bert_family::bert_eps_scale`).
const EPS: f64 = 1e-12;

impl PackedBert {
    /// Reads the weights of a rust-bert `BertModel` built at `prefix` of `vs` ("" for the root),
    /// keeping the first `layers` layers, and checks that a text's output does not depend on its
    /// place in a pack (else texts run one by one).
    pub fn new(
        vs: &nn::VarStore,
        prefix: &str,
        config: &BertConfig,
        layers: usize,
        positions: Positions,
    ) -> Result<Self> {
        let vars = vs.variables();
        let get = |name: &str| -> Result<Tensor> {
            let key = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
            vars.get(&key)
                .map(|t| t.detach())
                .ok_or_else(|| Error::model(format!("packed encoder: no weight '{key}'")))
        };
        let ln = |p: &str| -> Result<(Tensor, Tensor)> {
            Ok((get(&format!("{p}.weight"))?, get(&format!("{p}.bias"))?))
        };
        let mut ls = Vec::with_capacity(layers);
        for i in 0..layers {
            let p = format!("encoder.layer.{i}");
            let w = |n: &str| get(&format!("{p}.{n}"));
            let qkv_w = Tensor::cat(
                &[
                    w("attention.self.query.weight")?,
                    w("attention.self.key.weight")?,
                    w("attention.self.value.weight")?,
                ],
                0,
            )
            .tr()
            .contiguous();
            let qkv_b = Tensor::cat(
                &[
                    w("attention.self.query.bias")?,
                    w("attention.self.key.bias")?,
                    w("attention.self.value.bias")?,
                ],
                0,
            );
            ls.push(Layer {
                qkv_w,
                qkv_b,
                ao_w: w("attention.output.dense.weight")?.tr().contiguous(),
                ao_b: w("attention.output.dense.bias")?,
                ao_ln: ln(&format!("{p}.attention.output.LayerNorm"))?,
                i_w: w("intermediate.dense.weight")?.tr().contiguous(),
                i_b: w("intermediate.dense.bias")?,
                o_w: w("output.dense.weight")?.tr().contiguous(),
                o_b: w("output.dense.bias")?,
                o_ln: ln(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let mut me = PackedBert {
            word: get("embeddings.word_embeddings.weight")?,
            pos: get("embeddings.position_embeddings.weight")?,
            typ: get("embeddings.token_type_embeddings.weight")?.get(0),
            emb_ln: ln("embeddings.LayerNorm")?,
            layers: ls,
            heads: config.num_attention_heads,
            hidden: config.hidden_size,
            act: *config.hidden_act.get_function().get_fn(),
            positions,
            device: vs.device(),
            block: BLOCK_ROWS,
        };
        if !me.place_independent(config.vocab_size) {
            me.block = 0;
        }
        Ok(me)
    }

    /// Whether texts share blocks (false: each text runs alone).
    pub fn packs(&self) -> bool {
        self.block > 0
    }

    /// Another handle on the same weights, for another thread.
    pub fn replica(&self) -> PackedBert {
        let l = |t: &Tensor| t.shallow_clone();
        PackedBert {
            word: l(&self.word),
            pos: l(&self.pos),
            typ: l(&self.typ),
            emb_ln: (l(&self.emb_ln.0), l(&self.emb_ln.1)),
            layers: self
                .layers
                .iter()
                .map(|x| Layer {
                    qkv_w: l(&x.qkv_w),
                    qkv_b: l(&x.qkv_b),
                    ao_w: l(&x.ao_w),
                    ao_b: l(&x.ao_b),
                    ao_ln: (l(&x.ao_ln.0), l(&x.ao_ln.1)),
                    i_w: l(&x.i_w),
                    i_b: l(&x.i_b),
                    o_w: l(&x.o_w),
                    o_b: l(&x.o_b),
                    o_ln: (l(&x.o_ln.0), l(&x.o_ln.1)),
                })
                .collect(),
            heads: self.heads,
            hidden: self.hidden,
            act: self.act,
            positions: self.positions,
            device: self.device,
            block: self.block,
        }
    }

    /// The check behind packing: a probe text's output alone, after a text that ends mid-block,
    /// and straddling a block boundary must be bit-identical.
    fn place_independent(&self, vocab: i64) -> bool {
        let _one = crate::pool::OneThread::enter();
        let ids = |n: i64, seed: i64| -> Vec<i64> {
            (0..n).map(|i| (seed + i * 7919) % vocab.max(2)).collect::<Vec<i64>>()
        };
        let probe = ids(45, 101);
        let short = ids(17, 3);
        let long = ids(BLOCK_ROWS - 9, 5);
        // the first layer has every product shape of the others
        let run = |texts: &[&[i64]]| {
            self.forward_layers(texts, 1).map(|mut v| v.pop().unwrap_or_default())
        };
        let alone = match run(&[&probe]) {
            Ok(v) => v,
            Err(_) => return false,
        };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        [vec![&short[..], &probe[..]], vec![&long[..], &probe[..]], vec![&long, &short, &probe]]
            .iter()
            .all(|texts| run(texts).is_ok_and(|v| bits(&v) == bits(&alone)))
    }

    /// The last kept layer's rows of each text (`len × hidden`, row-major), in order. Runs on
    /// the calling thread with libtorch's current thread settings.
    /// A libtorch failure (it panics) is an error, not a crash.
    pub fn forward(&self, texts: &[&[i64]]) -> Result<Vec<Vec<f32>>> {
        let run = std::panic::AssertUnwindSafe(|| self.forward_layers(texts, self.layers.len()));
        std::panic::catch_unwind(run).unwrap_or_else(|p| {
            let msg = p
                .downcast_ref::<String>()
                .map(|s| s.as_str())
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("libtorch failed");
            Err(Error::model(format!("encoder forward pass: {}", msg.lines().next().unwrap_or(""))))
        })
    }

    fn forward_layers(&self, texts: &[&[i64]], layers: usize) -> Result<Vec<Vec<f32>>> {
        if self.block == 0 && texts.len() > 1 {
            return texts
                .iter()
                .map(|t| self.forward_layers(&[t], layers).map(|mut v| v.remove(0)))
                .collect();
        }
        let _guard = tch::no_grad_guard();
        let lens: Vec<i64> = texts.iter().map(|t| t.len() as i64).collect();
        let total: i64 = lens.iter().sum();
        if total == 0 {
            return Ok(vec![Vec::new(); texts.len()]);
        }
        let block = if self.block > 0 { self.block } else { total };
        let rows = (total + block - 1) / block * block;
        let mut ids = Vec::with_capacity(rows as usize);
        let mut pos = Vec::with_capacity(rows as usize);
        for t in texts {
            ids.extend_from_slice(t);
            match self.positions {
                Positions::Bert => pos.extend(0..t.len() as i64),
                Positions::Roberta(pad) => pos.extend((1..=t.len() as i64).map(|p| p + pad)),
            }
        }
        // filler rows: token 0 at position 0 (their values are never read)
        ids.resize(rows as usize, 0);
        pos.resize(rows as usize, 0);
        let ids = Tensor::from_slice(&ids).to(self.device);
        let pos = Tensor::from_slice(&pos).to(self.device);
        let emb = self.word.index_select(0, &ids) + self.pos.index_select(0, &pos) + &self.typ;
        let mut x = layer_norm(&emb, &self.emb_ln, self.hidden);
        let dh = self.hidden / self.heads;
        let scale = 1.0 / (dh as f64).sqrt();
        for l in &self.layers[..layers] {
            let qkv = linear(&x, &l.qkv_w, &l.qkv_b, block);
            let ctx = Tensor::zeros([rows, self.hidden], (x.kind(), self.device));
            let mut start = 0i64;
            for &n in &lens {
                if n > 0 {
                    let t =
                        qkv.narrow(0, start, n).view([n, 3, self.heads, dh]).permute([1, 2, 0, 3]);
                    let (q, k, v) = (t.get(0), t.get(1), t.get(2));
                    let w = (q.matmul(&k.transpose(-1, -2)) * scale).softmax(-1, x.kind());
                    let a = w.matmul(&v);
                    ctx.narrow(0, start, n).copy_(&a.permute([1, 0, 2]).reshape([n, self.hidden]));
                }
                start += n;
            }
            let a = linear(&ctx, &l.ao_w, &l.ao_b, block) + &x;
            x = layer_norm(&a, &l.ao_ln, self.hidden);
            let i = (self.act)(&linear(&x, &l.i_w, &l.i_b, block));
            let o = linear(&i, &l.o_w, &l.o_b, block) + &x;
            x = layer_norm(&o, &l.o_ln, self.hidden);
        }
        let x = x.narrow(0, 0, total).to_kind(Kind::Float).to(Device::Cpu).contiguous();
        let mut flat = vec![0f32; (total * self.hidden) as usize];
        let len = flat.len();
        x.f_copy_data(&mut flat, len).map_err(|e| Error::model(e.to_string()))?;
        let h = self.hidden as usize;
        let mut out = Vec::with_capacity(texts.len());
        let mut start = 0usize;
        for &n in &lens {
            let n = n as usize;
            out.push(flat[start * h..(start + n) * h].to_vec());
            start += n;
        }
        Ok(out)
    }
}

fn layer_norm(x: &Tensor, (w, b): &(Tensor, Tensor), hidden: i64) -> Tensor {
    x.layer_norm([hidden], Some(w), Some(b), EPS, false)
}

/// `x · w + b` computed block by block (`block` rows at a time; `x` has a multiple of `block`
/// rows), so that every product has the same shape.
fn linear(x: &Tensor, w: &Tensor, b: &Tensor, block: i64) -> Tensor {
    let rows = x.size()[0];
    let out = Tensor::empty([rows, w.size()[1]], (x.kind(), x.device()));
    let mut r = 0;
    while r < rows {
        let _ = b.addmm_out(&out.narrow(0, r, block), &x.narrow(0, r, block), w);
        r += block;
    }
    out
}

/// Splits texts (their token counts) into packs of at most [`PACK_ROWS`] rows, no more than
/// needed to give each of `workers` threads some (consecutive texts; a longer text is a pack
/// of its own).
pub fn packs(lens: &[usize], workers: usize) -> Vec<std::ops::Range<usize>> {
    let total: usize = lens.iter().sum();
    let target = total.div_ceil(workers.max(1)).clamp(1, PACK_ROWS);
    let mut out = Vec::new();
    let (mut start, mut rows) = (0usize, 0usize);
    for (i, &n) in lens.iter().enumerate() {
        if i > start && rows + n > target {
            out.push(start..i);
            start = i;
            rows = 0;
        }
        rows += n;
    }
    if start < lens.len() {
        out.push(start..lens.len());
    }
    out
}

/// Per-token unit vectors (L2 norm in f64) of `rows` (`n × dim` row-major).
pub fn unit_rows(rows: &[f32], dim: usize) -> Vec<Vec<f32>> {
    rows.chunks_exact(dim)
        .map(|r| {
            let n = r.iter().map(|&v| (v as f64) * (v as f64)).sum::<f64>().sqrt();
            let n = if n > 0.0 { n } else { 1.0 };
            r.iter().map(|&v| (v as f64 / n) as f32).collect()
        })
        .collect()
}

/// The runtime tag of a packed encoder: libtorch and device, one thread per pack, and the
/// packing (`pack=128`, or `pack=off` where texts run alone).
pub fn runtime_tag(device: Device, packs: bool) -> String {
    let pack = if packs { BLOCK_ROWS.to_string() } else { "off".to_string() };
    format!("{},pack={pack}", crate::pool::runtime_tag(device))
}

/// Declares the variables of a rust-bert `BertModel` (embeddings and the first `layers` layers,
/// no pooler; BERT and RoBERTa name them alike) in `vs`, as zeros: what a checkpoint is then
/// loaded into, without the random initialization that building the model would spend.
pub fn declare_variables(vs: &nn::VarStore, config: &BertConfig, layers: usize) {
    let root = vs.root();
    let (h, inter) = (config.hidden_size, config.intermediate_size);
    let lin = |p: nn::Path, out: i64, inp: i64| {
        let _ = p.zeros("weight", &[out, inp]);
        let _ = p.zeros("bias", &[out]);
    };
    let ln = |p: nn::Path| {
        let _ = p.zeros("weight", &[h]);
        let _ = p.zeros("bias", &[h]);
    };
    let e = &root / "embeddings";
    let _ = (&e / "word_embeddings").zeros("weight", &[config.vocab_size, h]);
    let _ = (&e / "position_embeddings").zeros("weight", &[config.max_position_embeddings, h]);
    let _ = (&e / "token_type_embeddings").zeros("weight", &[config.type_vocab_size, h]);
    ln(&e / "LayerNorm");
    for l in 0..layers {
        let p = &root / "encoder" / "layer" / l;
        let a = &p / "attention";
        for n in ["query", "key", "value"] {
            lin(&a / "self" / n, h, h);
        }
        lin(&a / "output" / "dense", h, h);
        ln(&a / "output" / "LayerNorm");
        lin(&p / "intermediate" / "dense", inter, h);
        lin(&p / "output" / "dense", h, inter);
        ln(&p / "output" / "LayerNorm");
    }
}
