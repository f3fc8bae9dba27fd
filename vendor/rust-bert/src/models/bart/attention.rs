// Copyright 2020 The Facebook AI Research Team Authors
// Copyright 2020-present, the HuggingFace Inc. team.
// Copyright 2020 Guillaume Becquin
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//     http://www.apache.org/licenses/LICENSE-2.0
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

use crate::common::dropout::Dropout;
use crate::common::packed::PackedLinear;
use std::borrow::Borrow;
use tch::{nn, Tensor};

#[derive(Debug)]
/// # Cache for BART attention layers
/// Stores the cached value of key, value and key padding mask to avoid recalculation (e.g. at each generation step)
pub struct LayerState {
    /// Cached keys
    pub prev_key: Tensor,
    /// Cached values
    pub prev_value: Tensor,
}

impl Clone for LayerState {
    fn clone(&self) -> Self {
        LayerState {
            prev_key: self.prev_key.copy(),
            prev_value: self.prev_value.copy(),
        }
    }
}

impl LayerState {
    pub(crate) fn reorder_cache(&mut self, new_indices: &Tensor) {
        // kpeval patch 9: a cross-attention cache kept once per input (fewer rows than the
        // decoding batch) is unchanged by a reorder of beams within their inputs.
        if self.prev_key.size()[0] != new_indices.size()[0] {
            return;
        }
        self.prev_key = self.prev_key.index_select(0, new_indices);
        self.prev_value = self.prev_value.index_select(0, new_indices);
    }
}

#[derive(Debug)]
pub struct BartAttention {
    num_heads: i64,
    head_dim: i64,
    dropout: Dropout,
    scaling: f64,
    encoder_decoder_attention: bool,
    output_attentions: bool,
    k_proj: PackedLinear,
    v_proj: PackedLinear,
    q_proj: PackedLinear,
    out_proj: PackedLinear,
    store_cache: bool,
}

impl BartAttention {
    pub fn new<'p, P>(
        p: P,
        embed_dim: i64,
        num_heads: i64,
        dropout: f64,
        encoder_decoder_attention: bool,
        store_cache: bool,
        output_attentions: bool,
    ) -> BartAttention
    where
        P: Borrow<nn::Path<'p>>,
    {
        let p = p.borrow();

        // kpeval patch 8: decoder attentions (the ones that keep a cache) use packed GEMMs.
        let packed = store_cache;
        let linear = |name: &str| {
            PackedLinear::new(p / name, embed_dim, embed_dim, Default::default(), packed)
        };
        let k_proj = linear("k_proj");
        let v_proj = linear("v_proj");
        let q_proj = linear("q_proj");
        let out_proj = linear("out_proj");

        let head_dim = embed_dim / num_heads;
        let scaling = (head_dim as f64).powf(-0.5);
        let dropout = Dropout::new(dropout);

        BartAttention {
            num_heads,
            head_dim,
            dropout,
            scaling,
            encoder_decoder_attention,
            output_attentions,
            k_proj,
            v_proj,
            q_proj,
            out_proj,
            store_cache,
        }
    }

    fn _shape(&self, x: Tensor, sequence_length: i64, batch_size: i64) -> Tensor {
        x.view((batch_size, sequence_length, self.num_heads, self.head_dim))
            .transpose(1, 2)
            .contiguous()
    }

    pub fn forward_t(
        &self,
        hidden_states: &Tensor,
        key_value_states: Option<&Tensor>,
        attention_mask: Option<&Tensor>,
        layer_state: Option<LayerState>,
        train: bool,
    ) -> (Tensor, Option<Tensor>, Option<LayerState>) {
        let (bs, target_length, embed_dim) = hidden_states.size3().unwrap();

        let query_proj = hidden_states.apply(&self.q_proj);

        let (key_states, value_states) = if self.encoder_decoder_attention {
            if let Some(layer_state_value) = layer_state {
                (layer_state_value.prev_key, layer_state_value.prev_value)
            } else {
                // kpeval patch 9: in generation, one copy of the keys/values per input
                let group = crate::common::beam_group::encoder_group();
                let kv = key_value_states.unwrap();
                if group > 1 && bs % group == 0 && self.store_cache && target_length == 1 {
                    let (_, source_length, _) = kv.size3().unwrap();
                    let kv = kv
                        .view([bs / group, group, source_length, embed_dim])
                        .select(1, 0);
                    (
                        self._shape(kv.apply(&self.k_proj), -1, bs / group),
                        self._shape(kv.apply(&self.v_proj), -1, bs / group),
                    )
                } else {
                    (
                        self._shape(kv.apply(&self.k_proj), -1, bs),
                        self._shape(kv.apply(&self.v_proj), -1, bs),
                    )
                }
            }
        } else if let Some(layer_state_value) = layer_state {
            let key_states = self._shape(hidden_states.apply(&self.k_proj), -1, bs);
            let value_states = self._shape(hidden_states.apply(&self.v_proj), -1, bs);
            (
                Tensor::cat(&[layer_state_value.prev_key, key_states], 2),
                Tensor::cat(&[layer_state_value.prev_value, value_states], 2),
            )
        } else {
            (
                self._shape(hidden_states.apply(&self.k_proj), -1, bs),
                self._shape(hidden_states.apply(&self.v_proj), -1, bs),
            )
        };

        // kpeval patch: the cache shares the key/value tensors (nothing writes to them in place)
        // instead of copying the whole cache — encoder keys/values included — at every step.
        let new_layer_state = if self.store_cache {
            Some(LayerState {
                prev_key: key_states.shallow_clone(),
                prev_value: value_states.shallow_clone(),
            })
        } else {
            None
        };

        // kpeval patch: at inference without attention outputs, one fused
        // scaled-dot-product-attention kernel on the unscaled query (what transformers' default
        // "sdpa" BART attention runs) instead of scale + bmm + mask + softmax + bmm.
        // (tch 0.17 passes a missing mask as an undefined tensor, which libtorch 2.4 rejects:
        // without a mask — one-token decoder self-attention steps — the original path runs.)
        // kpeval patch 9: keys/values shared by groups of `group` consecutive rows (one input's
        // beams): the rows of a group are the query positions of one attention over them.
        let kv_rows = key_states.size()[0];
        if kv_rows != bs {
            let group = bs / kv_rows;
            if !train && !self.output_attentions && attention_mask.is_some() && target_length == 1
            {
                let mask = attention_mask
                    .unwrap()
                    .reshape([kv_rows, group, 1, 1, -1])
                    .select(1, 0);
                let query_states = query_proj
                    .view([kv_rows, group, self.num_heads, self.head_dim])
                    .transpose(1, 2);
                let attention_output = Tensor::scaled_dot_product_attention(
                    &query_states,
                    &key_states,
                    &value_states,
                    Some(&mask),
                    0.0,
                    false,
                    Some(self.scaling),
                )
                .transpose(1, 2)
                .reshape([bs, target_length, embed_dim])
                .apply(&self.out_proj);
                return (attention_output, None, new_layer_state);
            }
            // other paths see one copy per row
            let expand = |t: &Tensor| t.repeat_interleave_self_int(group, Some(0), Some(bs));
            return self.attend(
                query_proj,
                expand(&key_states),
                expand(&value_states),
                attention_mask,
                new_layer_state,
                bs,
                target_length,
                embed_dim,
                train,
            );
        }
        self.attend(
            query_proj,
            key_states,
            value_states,
            attention_mask,
            new_layer_state,
            bs,
            target_length,
            embed_dim,
            train,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn attend(
        &self,
        query_proj: Tensor,
        key_states: Tensor,
        value_states: Tensor,
        attention_mask: Option<&Tensor>,
        new_layer_state: Option<LayerState>,
        bs: i64,
        target_length: i64,
        embed_dim: i64,
        train: bool,
    ) -> (Tensor, Option<Tensor>, Option<LayerState>) {
        if !train && !self.output_attentions && attention_mask.is_some() {
            let query_states = self._shape(query_proj, target_length, bs);
            let attention_output = Tensor::scaled_dot_product_attention(
                &query_states,
                &key_states,
                &value_states,
                attention_mask,
                0.0,
                false,
                Some(self.scaling),
            )
            .transpose(1, 2)
            .reshape([bs, target_length, embed_dim])
            .apply(&self.out_proj);
            return (attention_output, None, new_layer_state);
        }
        let query_states = query_proj * self.scaling;
        let proj_shape = [bs * self.num_heads, -1, self.head_dim];
        let query_states = self
            ._shape(query_states, target_length, bs)
            .view(proj_shape);
        let key_states = key_states.view(proj_shape);
        let value_states = value_states.view(proj_shape);

        let source_length = key_states.size()[1];
        let mut attention_weights = query_states.bmm(&key_states.transpose(1, 2));

        if let Some(attention_mask_value) = attention_mask {
            attention_weights =
                attention_weights.view([bs, self.num_heads, target_length, source_length])
                    + attention_mask_value;
            attention_weights =
                attention_weights.view([bs * self.num_heads, target_length, source_length]);
        };

        attention_weights = attention_weights.softmax(-1, attention_weights.kind());

        let saved_attention_weights = if self.output_attentions {
            Some(attention_weights.view((bs, self.num_heads, target_length, source_length)))
        } else {
            None
        };

        let attention_probas = attention_weights.apply_t(&self.dropout, train);
        let attention_output = attention_probas
            .bmm(&value_states)
            .view([bs, self.num_heads, target_length, self.head_dim])
            .transpose(1, 2)
            .reshape([bs, target_length, embed_dim])
            .apply(&self.out_proj);

        (attention_output, saved_attention_weights, new_layer_state)
    }
}
