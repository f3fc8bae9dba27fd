//! Random weights for the local hub fixtures (tests/fixtures/hub/, see its README): builds
//! rust-bert's model for a fixture's reduced config.json with a fixed seed and saves its
//! variables, as `rust_model.ot` (rust-bert's format, what the presets fetch) or
//! `model.safetensors` (transformers' tensor names, which rust-bert's T5 shares).
//!
//! ```sh
//! cargo run --release -p kpeval-torch --example hub_fixture_weights -- \
//!     tests/fixtures/hub/sshleifer/distilbart-cnn-12-6 bart rust_model.ot
//! ```
//! Run by eval/reference/gen_hub_fixtures.py for every fixture.
use rust_bert::bart::{BartConfig, BartForConditionalGeneration};
use rust_bert::longt5::{LongT5Config, LongT5ForConditionalGeneration};
use rust_bert::pegasus::{PegasusConfig, PegasusForConditionalGeneration};
use rust_bert::t5::{T5Config, T5ForConditionalGeneration};
use rust_bert::Config;
use std::path::PathBuf;
use tch::{nn, Device};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 4 {
        eprintln!("usage: hub_fixture_weights <fixture folder> <bart|pegasus|t5|longt5> <file>");
        std::process::exit(2);
    }
    let dir = PathBuf::from(&args[1]);
    let config = dir.join("config.json");
    tch::manual_seed(20);
    let vs = nn::VarStore::new(Device::Cpu);
    match args[2].as_str() {
        "bart" => {
            let _m = BartForConditionalGeneration::new(vs.root(), &BartConfig::from_file(&config));
        }
        "pegasus" => {
            let _m =
                PegasusForConditionalGeneration::new(vs.root(), &PegasusConfig::from_file(&config));
        }
        "t5" => {
            let _m = T5ForConditionalGeneration::new(vs.root(), &T5Config::from_file(&config));
        }
        "longt5" => {
            let _m =
                LongT5ForConditionalGeneration::new(vs.root(), &LongT5Config::from_file(&config));
        }
        other => {
            eprintln!("unknown architecture {other}");
            std::process::exit(2);
        }
    }
    let out = dir.join(&args[3]);
    vs.save(&out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    let n: usize = vs.variables().values().map(|t| t.numel()).sum();
    println!("{}: {} tensors, {n} parameters", out.display(), vs.variables().len());
}
