//! `--do-sample` on its own test binary: sampling draws from libtorch's global generator (seeded
//! per input by kpeval), and a model loaded on another thread of the same process while a sample
//! is drawn (its random initialization before the weights are read) takes numbers from that
//! generator too. The tests of seq2seq_parity.rs load models in parallel threads, so this one
//! runs alone in its process.
use kpeval::backend::GenerationConfig;
use kpeval::summarize::{SourceText, Summarizer};
use kpeval_torch::seq2seq::Seq2SeqSummarizer;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn model_dir(name: &str) -> PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn expected() -> Value {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/seq2seq_expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// `--do-sample`: an input's sampled summary depends on the seed and the input only, not on the
/// batch it is generated in (batch size, other records, shards, resume, the summary cache).
#[test]
fn sampling_does_not_depend_on_batching() {
    let fx = expected();
    let inputs: Vec<SourceText> = fx["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, t)| SourceText { id: format!("a{i}"), text: t.as_str().unwrap().to_string() })
        .collect();
    assert!(inputs.len() >= 3);
    for model in ["tiny-bart", "tiny-t5"] {
        let gen = GenerationConfig {
            do_sample: true,
            seed: 7,
            num_beams: Some(1),
            min_length: Some(4),
            max_length: Some(16),
            ..GenerationConfig::default()
        };
        let mut s =
            Seq2SeqSummarizer::load(model_dir(model).to_str().unwrap(), &gen, true).unwrap();
        s.batch_size = 8;
        let texts = |v: Vec<Result<kpeval::summarize::Summary, kpeval::error::RecordError>>| {
            v.into_iter().map(|r| r.unwrap().text).collect::<Vec<_>>()
        };
        let all = texts(s.summarize(&inputs));
        for (i, one) in inputs.iter().enumerate() {
            assert_eq!(
                texts(s.summarize(std::slice::from_ref(one))),
                vec![all[i].clone()],
                "{model} input {i} alone"
            );
        }
        let reversed: Vec<SourceText> = inputs.iter().rev().cloned().collect();
        let mut back = texts(s.summarize(&reversed));
        back.reverse();
        assert_eq!(back, all, "{model}: order");
        s.batch_size = 1;
        assert_eq!(texts(s.summarize(&inputs)), all, "{model}: batch size 1");
        let other = Seq2SeqSummarizer::load(
            model_dir(model).to_str().unwrap(),
            &GenerationConfig { seed: 8, ..gen.clone() },
            true,
        )
        .unwrap();
        assert_ne!(
            texts(other.summarize(&inputs)),
            all,
            "{model}: another seed samples other summaries"
        );
    }
}
