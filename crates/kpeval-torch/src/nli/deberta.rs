//! DeBERTa (v1, v2/v3) sequence classification, written against transformers 4.46.
//!
//! rust-bert 0.23's DeBERTa models compute something else than transformers (checked on the
//! tiny fixtures by re-running transformers with each departure patched in, which reproduces
//! rust-bert's hidden states exactly):
//! - v1: the relative attention span is
//!   min(max(query.size(1), key.size(1)), max_relative_positions) on [batch, heads, len, dim]
//!   tensors, i.e. the number of heads instead of the sequence length, so relative positions are
//!   clamped to ±heads;
//! - v2/v3: the content→position gather index is clamp(rel, 0, 2k−1) instead of
//!   clamp(rel + k, 0, 2k−1); c2p and p2c scores are divided by d·s instead of sqrt(d·s); and
//!   log-bucket positions use (max_position − 1) / mid in integer arithmetic.
//!
//!
//! None of these can be undone from outside (weights or inputs), so the forward pass is
//! implemented here on tch with the checkpoint's own variable names.
use kpeval::error::{Error, Result};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};

#[derive(Clone, Copy)]
enum Act {
    Gelu,
    GeluTanh,
    Relu,
    Tanh,
    Silu,
}

impl Act {
    fn parse(name: &str) -> Result<Act> {
        Ok(match name {
            "gelu" => Act::Gelu,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
            "relu" => Act::Relu,
            "tanh" => Act::Tanh,
            "silu" | "swish" => Act::Silu,
            other => {
                return Err(Error::model(format!("DeBERTa: activation '{other}' is not supported")))
            }
        })
    }
    fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Act::Gelu => x.gelu("none"),
            Act::GeluTanh => x.gelu("tanh"),
            Act::Relu => x.relu(),
            Act::Tanh => x.tanh(),
            Act::Silu => x.silu(),
        }
    }
}

struct Lin {
    w: Tensor,
    b: Option<Tensor>,
}

impl Lin {
    fn fwd(&self, x: &Tensor) -> Tensor {
        x.linear(&self.w, self.b.as_ref())
    }
}

struct Norm {
    w: Tensor,
    b: Tensor,
    eps: f64,
    /// v1's DebertaLayerNorm (computed step by step in f32) or torch's LayerNorm (v2).
    tf_style: bool,
}

impl Norm {
    fn fwd(&self, x: &Tensor) -> Tensor {
        if self.tf_style {
            let mean = x.mean_dim([-1i64].as_slice(), true, Kind::Float);
            let var =
                (x - &mean).pow_tensor_scalar(2.0).mean_dim([-1i64].as_slice(), true, Kind::Float);
            let h = (x - mean) / (var + self.eps).sqrt();
            &self.w * h + &self.b
        } else {
            let d = *x.size().last().unwrap();
            x.layer_norm([d].as_slice(), Some(&self.w), Some(&self.b), self.eps, false)
        }
    }
}

enum Attn {
    V1 {
        in_proj: Lin,
        q_bias: Tensor,
        v_bias: Tensor,
        pos_proj: Option<Lin>,
        pos_q_proj: Option<Lin>,
    },
    V2 {
        q: Lin,
        k: Lin,
        v: Lin,
        pos_key: Option<Lin>,
        pos_query: Option<Lin>,
    },
}

struct Layer {
    attn: Attn,
    attn_out: Lin,
    attn_ln: Norm,
    inter: Lin,
    out: Lin,
    out_ln: Norm,
}

struct Conv {
    w: Tensor,
    b: Tensor,
    padding: i64,
    groups: i64,
    act: Act,
    ln: Norm,
}

pub(super) struct Deberta {
    v2: bool,
    word: Tensor,
    pos: Option<Tensor>,
    token_type: Option<Tensor>,
    embed_proj: Option<Lin>,
    emb_ln: Norm,
    layers: Vec<Layer>,
    rel: Option<Tensor>,
    rel_ln: Option<Norm>,
    conv: Option<Conv>,
    pooler: Lin,
    pooler_act: Act,
    classifier: Lin,
    act: Act,
    heads: i64,
    head_dim: i64,
    c2p: bool,
    p2c: bool,
    /// v1: 1 + number of position attention types; v2: 1 + c2p + p2c.
    scale_factor: i64,
    share_att_key: bool,
    max_relative_positions: i64,
    position_buckets: i64,
    /// v2: rows of the relative embedding used (position_buckets, else max_relative_positions).
    pos_ebd_size: i64,
}

fn att_types(raw: &Value) -> Vec<String> {
    match raw.get("pos_att_type") {
        Some(Value::String(s)) => s
            .to_lowercase()
            .split('|')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect(),
        Some(Value::Array(a)) => {
            a.iter().filter_map(|x| x.as_str()).map(|x| x.trim().to_lowercase()).collect()
        }
        _ => Vec::new(),
    }
}

impl Deberta {
    pub(super) fn load(
        raw: &Value,
        weights: &Path,
        device: Device,
        v2: bool,
        num_labels: usize,
    ) -> Result<Deberta> {
        let i = |k: &str, d: i64| raw.get(k).and_then(|v| v.as_i64()).unwrap_or(d);
        let f = |k: &str, d: f64| raw.get(k).and_then(|v| v.as_f64()).unwrap_or(d);
        let s = |k: &str, d: &str| raw.get(k).and_then(|v| v.as_str()).unwrap_or(d).to_string();
        let b = |k: &str, d: bool| raw.get(k).and_then(|v| v.as_bool()).unwrap_or(d);
        if b("talking_head", false) {
            return Err(Error::model("DeBERTa: talking_head models are not supported"));
        }
        let ext = weights.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext != "safetensors" && ext != "bin" {
            return Err(Error::model(format!(
                "{}: DeBERTa weights must be model.safetensors or pytorch_model.bin",
                weights.display()
            )));
        }
        let mut map: HashMap<String, Tensor> = HashMap::new();
        // Views of the mapped file: `get` copies what it takes before the mapping goes.
        let (_mapping, tensors) = crate::weights::map_weights_file(weights)?;
        for (k, t) in tensors {
            let k = k
                .strip_suffix(".gamma")
                .map(|s| format!("{s}.weight"))
                .or_else(|| k.strip_suffix(".beta").map(|s| format!("{s}.bias")))
                .unwrap_or(k);
            map.insert(k, t);
        }
        let get = |name: &str| -> Result<Tensor> {
            let t =
                map.get(&format!("deberta.{name}")).or_else(|| map.get(name)).ok_or_else(|| {
                    Error::model(format!("{}: no tensor '{name}'", weights.display()))
                })?;
            Ok(t.to_kind(Kind::Float).to_device(device).detach().copy())
        };
        let opt = |name: &str| -> Option<Tensor> { get(name).ok() };
        let lin = |name: &str| -> Result<Lin> {
            Ok(Lin { w: get(&format!("{name}.weight"))?, b: opt(&format!("{name}.bias")) })
        };
        let eps = f("layer_norm_eps", 1e-7);
        let norm = |name: &str| -> Result<Norm> {
            Ok(Norm {
                w: get(&format!("{name}.weight"))?,
                b: get(&format!("{name}.bias"))?,
                eps,
                tf_style: !v2,
            })
        };

        let hidden = i("hidden_size", 768);
        let heads = i("num_attention_heads", 12);
        let head_dim = if v2 { i("attention_head_size", hidden / heads) } else { hidden / heads };
        let types = att_types(raw);
        let c2p = types.iter().any(|t| t == "c2p");
        let p2c = types.iter().any(|t| t == "p2c");
        let relative = b("relative_attention", false);
        let share_att_key = v2 && b("share_att_key", false);
        let scale_factor = if v2 { 1 + c2p as i64 + p2c as i64 } else { 1 + types.len() as i64 };
        let mut max_rel = i("max_relative_positions", -1);
        if max_rel < 1 {
            max_rel = i("max_position_embeddings", 512);
        }
        let position_buckets = if v2 { i("position_buckets", -1) } else { -1 };
        let pos_ebd_size = if position_buckets > 0 { position_buckets } else { max_rel };

        let mut layers = Vec::new();
        for l in 0..i("num_hidden_layers", 12) {
            let p = format!("encoder.layer.{l}");
            let attn = if v2 {
                let sa = format!("{p}.attention.self");
                Attn::V2 {
                    q: lin(&format!("{sa}.query_proj"))?,
                    k: lin(&format!("{sa}.key_proj"))?,
                    v: lin(&format!("{sa}.value_proj"))?,
                    pos_key: if relative && !share_att_key && c2p {
                        Some(lin(&format!("{sa}.pos_key_proj"))?)
                    } else {
                        None
                    },
                    pos_query: if relative && !share_att_key && p2c {
                        Some(lin(&format!("{sa}.pos_query_proj"))?)
                    } else {
                        None
                    },
                }
            } else {
                let sa = format!("{p}.attention.self");
                Attn::V1 {
                    in_proj: lin(&format!("{sa}.in_proj"))?,
                    q_bias: get(&format!("{sa}.q_bias"))?,
                    v_bias: get(&format!("{sa}.v_bias"))?,
                    pos_proj: if relative && c2p {
                        Some(lin(&format!("{sa}.pos_proj"))?)
                    } else {
                        None
                    },
                    pos_q_proj: if relative && p2c {
                        Some(lin(&format!("{sa}.pos_q_proj"))?)
                    } else {
                        None
                    },
                }
            };
            layers.push(Layer {
                attn,
                attn_out: lin(&format!("{p}.attention.output.dense"))?,
                attn_ln: norm(&format!("{p}.attention.output.LayerNorm"))?,
                inter: lin(&format!("{p}.intermediate.dense"))?,
                out: lin(&format!("{p}.output.dense"))?,
                out_ln: norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        let norm_rel = s("norm_rel_ebd", "none").to_lowercase();
        let rel_ln = if v2 && relative && norm_rel.split('|').any(|x| x.trim() == "layer_norm") {
            Some(norm("encoder.LayerNorm")?)
        } else {
            None
        };
        let conv = if v2 && i("conv_kernel_size", 0) > 0 {
            let k = i("conv_kernel_size", 3);
            Some(Conv {
                w: get("encoder.conv.conv.weight")?,
                b: get("encoder.conv.conv.bias")?,
                padding: (k - 1) / 2,
                groups: i("conv_groups", 1),
                act: Act::parse(&s("conv_act", "tanh"))?,
                ln: norm("encoder.conv.LayerNorm")?,
            })
        } else {
            None
        };
        let classifier = lin("classifier")?;
        if classifier.w.size()[0] != num_labels as i64 {
            return Err(Error::model(format!(
                "DeBERTa classifier has {} outputs, id2label {num_labels}",
                classifier.w.size()[0]
            )));
        }
        let word = get("embeddings.word_embeddings.weight")?;
        Ok(Deberta {
            v2,
            pos: if b("position_biased_input", true) {
                Some(get("embeddings.position_embeddings.weight")?)
            } else {
                None
            },
            token_type: if i("type_vocab_size", 0) > 0 {
                Some(get("embeddings.token_type_embeddings.weight")?)
            } else {
                None
            },
            embed_proj: if i("embedding_size", hidden) != hidden {
                Some(Lin { w: get("embeddings.embed_proj.weight")?, b: None })
            } else {
                None
            },
            emb_ln: norm("embeddings.LayerNorm")?,
            word,
            layers,
            rel: if relative { Some(get("encoder.rel_embeddings.weight")?) } else { None },
            rel_ln,
            conv,
            pooler: lin("pooler.dense")?,
            pooler_act: Act::parse(&s("pooler_hidden_act", "gelu"))?,
            classifier,
            act: Act::parse(&s("hidden_act", "gelu"))?,
            heads,
            head_dim,
            c2p,
            p2c,
            scale_factor,
            share_att_key,
            max_relative_positions: max_rel,
            position_buckets,
            pos_ebd_size,
        })
    }

    /// transformers' make_log_bucket_position, with the same dtypes (f32) and kernels.
    fn log_bucket(rel: &Tensor, bucket_size: i64, max_position: i64) -> Tensor {
        let sign = rel.sign();
        let mid = bucket_size / 2;
        let inside = rel.lt(mid).logical_and(&rel.gt(-mid));
        let abs_pos = rel
            .abs()
            .where_self(&inside.logical_not(), &Tensor::from(mid - 1).to_device(rel.device()));
        let denom = Tensor::from((max_position - 1) as f64 / mid as f64)
            .to_kind(Kind::Float)
            .log()
            .to_device(rel.device());
        let log_pos =
            ((abs_pos.to_kind(Kind::Float) / mid as f64).log() / denom * (mid - 1) as f64).ceil()
                + mid as f64;
        rel.to_kind(Kind::Float)
            .where_self(&abs_pos.le(mid), &(log_pos * sign))
            .to_kind(Kind::Int64)
    }

    fn relative_positions(&self, len: i64, device: Device) -> Tensor {
        let ids = Tensor::arange(len, (Kind::Int64, device));
        let rel = ids.unsqueeze(1) - ids.unsqueeze(0);
        let rel = if self.v2 && self.position_buckets > 0 && self.max_relative_positions > 0 {
            Self::log_bucket(&rel, self.position_buckets, self.max_relative_positions)
        } else {
            rel
        };
        rel.unsqueeze(0).unsqueeze(0) // [1, 1, len, len]
    }

    /// [.., len, heads*dim] → [batch, heads, len, dim] (v1) or [batch*heads, len, dim] (v2).
    fn split_heads(&self, x: &Tensor) -> Tensor {
        let sz = x.size();
        let (b, l) = (sz[0], sz[1]);
        let t = x.view([b, l, self.heads, -1]).permute([0, 2, 1, 3]);
        if self.v2 {
            t.contiguous().view([-1, l, *t.size().last().unwrap()])
        } else {
            t
        }
    }

    fn attention(
        &self,
        attn: &Attn,
        h: &Tensor,
        mask4: &Tensor,
        rel_pos: Option<&Tensor>,
        rel_emb: Option<&Tensor>,
    ) -> Tensor {
        let sz = h.size();
        let (b, l) = (sz[0], sz[1]);
        let sf = self.scale_factor as f64;
        let scale = |d: i64| ((d as f64) * sf).sqrt() as f32 as f64;
        let (scores, value) = match attn {
            Attn::V1 { in_proj, q_bias, v_bias, pos_proj, pos_q_proj } => {
                let qkv = self.split_heads(&in_proj.fwd(h)).chunk(3, -1);
                let bias = |t: &Tensor| t.view([1, 1, self.heads, -1]).permute([0, 2, 1, 3]);
                let q = (&qkv[0] + bias(q_bias)) / scale(self.head_dim);
                let k = &qkv[1];
                let v = &qkv[2] + bias(v_bias);
                let mut scores = q.matmul(&k.transpose(-1, -2));
                if let (Some(rel_pos), Some(rel_emb)) = (rel_pos, rel_emb) {
                    let span = l.min(self.max_relative_positions);
                    let re = rel_emb
                        .narrow(0, self.max_relative_positions - span, 2 * span)
                        .unsqueeze(0);
                    if let Some(pp) = pos_proj {
                        let pos_key = self.split_heads(&pp.fwd(&re));
                        let c2p = q.matmul(&pos_key.transpose(-1, -2));
                        let idx = (rel_pos + span)
                            .clamp(0, 2 * span - 1)
                            .expand([b, self.heads, l, l], false);
                        scores = scores + c2p.gather(-1, &idx, false);
                    }
                    if let Some(pq) = pos_q_proj {
                        let pos_query = self.split_heads(&pq.fwd(&re)) / scale(self.head_dim);
                        let idx = (-rel_pos + span)
                            .clamp(0, 2 * span - 1)
                            .expand([b, self.heads, l, l], false);
                        let p2c = k
                            .matmul(&pos_query.transpose(-1, -2))
                            .gather(-1, &idx, false)
                            .transpose(-1, -2);
                        scores = scores + p2c;
                    }
                }
                (scores, v)
            }
            Attn::V2 { q, k, v, pos_key, pos_query } => {
                let ql = self.split_heads(&q.fwd(h));
                let kl = self.split_heads(&k.fwd(h));
                let vl = self.split_heads(&v.fwd(h));
                let sc = scale(*ql.size().last().unwrap());
                let mut scores = ql.bmm(&(kl.transpose(-1, -2) / sc));
                if let (Some(rel_pos), Some(rel_emb)) = (rel_pos, rel_emb) {
                    let span = self.pos_ebd_size;
                    let re = rel_emb.narrow(0, 0, 2 * span).unsqueeze(0);
                    // share_att_key: positions go through the content key/query projections.
                    let pos_key_proj = if self.share_att_key { Some(k) } else { pos_key.as_ref() };
                    let pos_query_proj =
                        if self.share_att_key { Some(q) } else { pos_query.as_ref() };
                    let rel_pos3 = rel_pos.squeeze_dim(0); // [1, l, l]
                    if self.c2p {
                        let pkl = self
                            .split_heads(&pos_key_proj.expect("c2p projection").fwd(&re))
                            .repeat([b, 1, 1]);
                        let s = scale(*pkl.size().last().unwrap());
                        let idx = (&rel_pos3 + span)
                            .clamp(0, 2 * span - 1)
                            .squeeze_dim(0)
                            .expand([ql.size()[0], l, l], false);
                        let c2p = ql.bmm(&pkl.transpose(-1, -2)).gather(-1, &idx, false);
                        scores = scores + c2p / s;
                    }
                    if self.p2c {
                        let pql = self
                            .split_heads(&pos_query_proj.expect("p2c projection").fwd(&re))
                            .repeat([b, 1, 1]);
                        let s = scale(*pql.size().last().unwrap());
                        let idx = (-&rel_pos3 + span)
                            .clamp(0, 2 * span - 1)
                            .squeeze_dim(0)
                            .expand([ql.size()[0], l, l], false);
                        let p2c = kl
                            .bmm(&pql.transpose(-1, -2))
                            .gather(-1, &idx, false)
                            .transpose(-1, -2);
                        scores = scores + p2c / s;
                    }
                }
                (scores.view([-1, self.heads, l, l]), vl.view([b, self.heads, l, -1]))
            }
        };
        // XSoftmax: masked positions get the float minimum, then probability 0.
        let rmask = mask4.eq(0);
        let probs = scores
            .masked_fill(&rmask, f32::MIN as f64)
            .softmax(-1, Kind::Float)
            .masked_fill(&rmask, 0.0);
        probs.matmul(&value).permute([0, 2, 1, 3]).contiguous().view([b, l, -1])
    }

    /// Logits [batch, num_labels].
    pub(super) fn forward(&self, ids: &Tensor, mask: &Tensor, token_types: &Tensor) -> Tensor {
        let l = ids.size()[1];
        let mut x = Tensor::embedding(&self.word, ids, -1, false, false);
        if let Some(p) = &self.pos {
            let pos = Tensor::arange(l, (Kind::Int64, ids.device())).unsqueeze(0);
            x = x + Tensor::embedding(p, &pos, -1, false, false);
        }
        if let Some(t) = &self.token_type {
            x = x + Tensor::embedding(t, token_types, -1, false, false);
        }
        if let Some(p) = &self.embed_proj {
            x = p.fwd(&x);
        }
        let maskf = mask.to_kind(Kind::Float).unsqueeze(2);
        let emb = self.emb_ln.fwd(&x) * &maskf;
        let ext = mask.unsqueeze(1).unsqueeze(2); // [b, 1, 1, l]
        let mask4 = &ext * ext.squeeze_dim(-2).unsqueeze(-1); // [b, 1, l, l]
        let rel_pos = self.rel.as_ref().map(|_| self.relative_positions(l, ids.device()));
        let rel_emb = self.rel.as_ref().map(|r| match &self.rel_ln {
            Some(n) => n.fwd(r),
            None => r.shallow_clone(),
        });
        let mut h = emb.shallow_clone();
        for (n, layer) in self.layers.iter().enumerate() {
            let a = self.attention(&layer.attn, &h, &mask4, rel_pos.as_ref(), rel_emb.as_ref());
            let a = layer.attn_ln.fwd(&(layer.attn_out.fwd(&a) + &h));
            let i = self.act.apply(&layer.inter.fwd(&a));
            h = layer.out_ln.fwd(&(layer.out.fwd(&i) + &a));
            if n == 0 {
                if let Some(c) = &self.conv {
                    let out = emb.permute([0, 2, 1]).contiguous().conv1d(
                        &c.w,
                        Some(&c.b),
                        [1].as_slice(),
                        [c.padding].as_slice(),
                        [1].as_slice(),
                        c.groups,
                    );
                    let out = out
                        .permute([0, 2, 1])
                        .contiguous()
                        .masked_fill(&maskf.eq(0.0).expand_as(&h), 0.0);
                    let out = c.act.apply(&out);
                    h = c.ln.fwd(&(&h + out)) * &maskf;
                }
            }
        }
        let cls = h.select(1, 0);
        let pooled = self.pooler_act.apply(&self.pooler.fwd(&cls));
        self.classifier.fwd(&pooled)
    }
}
