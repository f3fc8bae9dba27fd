//! # Torch implementation of language models

pub mod albert;
pub mod bart;
pub mod bert;
pub mod deberta;
pub mod deberta_v2;
pub mod distilbert;
pub mod electra;
pub mod fnet;
pub mod gpt2;
pub mod gpt_j;
pub mod gpt_neo;
pub mod longformer;
pub mod longt5;
pub mod m2m_100;
pub mod marian;
pub mod mbart;
pub mod mobilebert;
pub mod nllb;
pub mod openai_gpt;
pub mod pegasus;
pub mod prophetnet;
pub mod reformer;
pub mod roberta;
pub mod t5;
pub mod xlnet;
