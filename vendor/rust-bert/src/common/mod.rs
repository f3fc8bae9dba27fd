pub(crate) mod activations;
pub mod beam_group;
pub mod config;
pub(crate) mod dropout;
pub(crate) mod embeddings;
pub mod error;
pub(crate) mod kind;
pub(crate) mod linear;
pub mod greedy_head;
pub mod packed;
pub mod skinny;
pub mod resources;
pub(crate) mod summary;

pub use activations::Activation;
pub use config::Config;
