//! `pytorch_model.bin` folders (transformers' `save_pretrained(safe_serialization=False)`, its
//! default before 4.35; single files and shards with `pytorch_model.bin.index.json`) load in Rust
//! and give exactly what the same model saved as safetensors gives: summaries (BART, T5), NLI
//! probabilities (RoBERTa, DeBERTa-v2, BERT) and embeddings. The checkpoints are written by
//! eval/reference/gen_torch_checkpoint_fixtures.py from the committed tiny models.
use kpeval::backend::GenerationConfig;
use kpeval::summarize::{SourceText, Summarizer};
use kpeval_torch::seq2seq::Seq2SeqSummarizer;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn models() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/models")
}

fn tmp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kpeval-torchbin-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A copy of a fixture model folder at `dst`, without the files named in `skip`.
fn copy_model(model: &str, dst: &Path, skip: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dst).unwrap();
    for f in std::fs::read_dir(models().join(model)).unwrap() {
        let f = f.unwrap();
        if !skip.iter().any(|s| f.file_name() == *s) {
            std::fs::copy(f.path(), dst.join(f.file_name())).unwrap();
        }
    }
    dst.to_path_buf()
}

/// A copy of the original folder whose weights are the PyTorch checkpoint(s) of `bin`.
fn bin_folder(tmp: &Path, original: &str, bin: &str, name: &str) -> PathBuf {
    let dst = copy_model(original, &tmp.join(name), &["model.safetensors"]);
    for f in std::fs::read_dir(models().join("torch-bin").join(bin)).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dst.join(f.file_name())).unwrap();
    }
    dst
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            // The revision (sha256 of the weights file) differs with the file format.
            v.as_object_mut().unwrap().remove("signature");
            v
        })
        .collect()
}

fn kpeval(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kpeval-torch"))
        .args(args)
        .args(["--quiet"])
        .output()
        .unwrap()
}

#[test]
fn seq2seq_from_pytorch_checkpoints() {
    let tmp = tmp_dir("seq2seq");
    let texts = [
        "The talks between the two governments ended on Tuesday without an agreement. Both sides said they would meet again next month.",
        "Heavy rain flooded the city centre. Schools were closed and trains were cancelled. The mayor asked residents to stay at home.",
    ];
    let batch: Vec<SourceText> = texts
        .iter()
        .enumerate()
        .map(|(i, t)| SourceText { id: format!("a{i}"), text: t.to_string() })
        .collect();
    for gen in [
        GenerationConfig {
            num_beams: Some(1),
            min_length: Some(4),
            max_length: Some(16),
            ..GenerationConfig::default()
        },
        GenerationConfig {
            num_beams: Some(3),
            min_length: Some(4),
            max_length: Some(16),
            ..GenerationConfig::default()
        },
    ] {
        for (original, bin) in
            [("tiny-bart", "tiny-bart"), ("tiny-t5", "tiny-t5"), ("tiny-bart", "tiny-bart-sharded")]
        {
            let dir = bin_folder(&tmp, original, bin, &format!("{bin}-{}", gen.num_beams.unwrap()));
            let a = Seq2SeqSummarizer::load(models().join(original).to_str().unwrap(), &gen, true)
                .unwrap();
            let b = Seq2SeqSummarizer::load(dir.to_str().unwrap(), &gen, true)
                .unwrap_or_else(|e| panic!("{bin}: {e}"));
            let (sa, sb) = (a.summarize(&batch), b.summarize(&batch));
            for (x, y) in sa.iter().zip(&sb) {
                let (x, y) = (x.as_ref().unwrap(), y.as_ref().unwrap());
                assert!(!x.text.is_empty());
                assert_eq!(x.text, y.text, "{bin}, {} beams", gen.num_beams.unwrap());
            }
        }
    }
    // From the command line, as a user names the folder.
    let dir = bin_folder(&tmp, "tiny-bart", "tiny-bart-sharded", "cli-sharded");
    let input = tmp.join("in.jsonl");
    std::fs::write(
        &input,
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                serde_json::json!({"id": format!("a{i}"), "article": t}).to_string() + "\n"
            })
            .collect::<String>(),
    )
    .unwrap();
    let mut outs = Vec::new();
    for (tag, model) in [("st", models().join("tiny-bart")), ("bin", dir)] {
        let out = tmp.join(format!("{tag}.jsonl"));
        let run = kpeval(&[
            "summarize",
            input.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "--no-cache",
            "--max-length",
            "16",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "{tag}: {}", String::from_utf8_lossy(&run.stderr));
        // (the system is named after the folder)
        outs.push(
            records(&out)
                .into_iter()
                .map(|r| {
                    (
                        r["id"].clone(),
                        r["summary"]["text"].clone(),
                        r["summary"]["key_points"].clone(),
                    )
                })
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(outs[0].len(), 2);
    assert_eq!(outs[0], outs[1]);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn nli_and_embed_from_pytorch_checkpoints() {
    let tmp = tmp_dir("nli");
    let pairs = tmp.join("pairs.jsonl");
    std::fs::write(
        &pairs,
        "{\"id\":\"p1\",\"premise\":\"A man sleeps on a couch.\",\"hypothesis\":\"A person rests.\"}\n{\"id\":\"p2\",\"premise\":\"The talks ended.\",\"hypothesis\":\"The talks went on.\"}\n",
    )
    .unwrap();
    for m in ["tiny-nli-roberta", "tiny-nli-deberta-v2", "tiny-nli-bert"] {
        let dir = bin_folder(&tmp, m, m, m);
        let mut outs = Vec::new();
        for (tag, model) in [("st", models().join(m)), ("bin", dir)] {
            let out = tmp.join(format!("{m}-{tag}.jsonl"));
            let run = kpeval(&[
                "nli",
                pairs.to_str().unwrap(),
                "--model",
                model.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]);
            assert!(run.status.success(), "{m} {tag}: {}", String::from_utf8_lossy(&run.stderr));
            outs.push(records(&out));
        }
        assert_eq!(outs[0].len(), 2, "{m}");
        assert!(outs[0][0]["entailment"].as_f64().unwrap() > 0.0, "{m}");
        assert_eq!(outs[0], outs[1], "{m}: same probabilities from pytorch_model.bin");
    }
    // A BERT encoder as sentence embedder: the `bert.` prefix of a BertFor* checkpoint is
    // matched in both formats.
    let texts = tmp.join("texts.jsonl");
    std::fs::write(&texts, "{\"id\":\"t1\",\"text\":\"The CIA conducted a drone strike.\"}\n")
        .unwrap();
    let mut outs = Vec::new();
    for (tag, model) in [("st", models().join("tiny-nli-bert")), ("bin", tmp.join("tiny-nli-bert"))]
    {
        let out = tmp.join(format!("embed-{tag}.jsonl"));
        let run = kpeval(&[
            "embed",
            texts.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert!(run.status.success(), "embed {tag}: {}", String::from_utf8_lossy(&run.stderr));
        outs.push(records(&out));
    }
    assert_eq!(outs[0][0]["embedding"].as_array().unwrap().len(), 64);
    assert_eq!(outs[0], outs[1]);
    let _ = std::fs::remove_dir_all(&tmp);
}

/// Damaged checkpoints are refused with the file named; nothing panics.
#[test]
fn broken_pytorch_checkpoints_are_named() {
    let tmp = tmp_dir("broken");
    let dir = bin_folder(&tmp, "tiny-bart", "tiny-bart", "cut");
    let bin = dir.join("pytorch_model.bin");
    let bytes = std::fs::read(&bin).unwrap();
    let gen = GenerationConfig::default();
    for (what, content, expect) in [
        ("truncated", bytes[..bytes.len() / 2].to_vec(), "pytorch_model.bin"),
        ("legacy", b"\x80\x02\x8a\x0alo\xfc\x9cF\xf9 j\xa8P\x19.".to_vec(), "legacy format"),
        ("empty", Vec::new(), "empty"),
    ] {
        std::fs::write(&bin, &content).unwrap();
        let err = match Seq2SeqSummarizer::load(dir.to_str().unwrap(), &gen, true) {
            Ok(_) => panic!("{what}: loaded"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(expect) && err.contains("pytorch_model.bin"), "{what}: {err}");
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A folder named after a preset (as in the model store) in transformers' layout loads from its
/// own files (the preset's `rust_model.ot` is only what its hub repository is fetched for), and
/// takes the preset's defaults.
#[test]
fn preset_named_folder_in_save_pretrained_layout() {
    let tmp = tmp_dir("preset");
    let dst = copy_model("tiny-t5", &tmp.join("t5-small"), &[]);
    let s = Seq2SeqSummarizer::load(
        dst.to_str().unwrap(),
        &GenerationConfig {
            min_length: Some(4),
            max_length: Some(12),
            ..GenerationConfig::default()
        },
        true,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(s.name(), "t5-small");
    assert_eq!(s.prefix, "summarize: ");
    let out = s.summarize(&[SourceText {
        id: "a".into(),
        text: "The talks ended on Tuesday without an agreement.".into(),
    }]);
    assert!(out[0].is_ok());
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A BART folder whose tokenizer is only the fast tokenizer's tokenizer.json (no vocab.json /
/// merges.txt) loads, with the same tokens and summaries as the slow tokenizer files give.
#[test]
fn bart_with_tokenizer_json_only() {
    let tmp = tmp_dir("tokjson");
    let dst =
        copy_model("tiny-bart", &tmp.join("tiny-bart-tokjson"), &["vocab.json", "merges.txt"]);
    let gen = GenerationConfig { max_length: Some(16), ..GenerationConfig::default() };
    let err = Seq2SeqSummarizer::load(dst.to_str().unwrap(), &gen, true)
        .err()
        .expect("no tokenizer at all")
        .to_string();
    assert!(err.contains("vocab.json") && err.contains("tokenizer.json"), "{err}");
    std::fs::copy(
        models().join("tokenizer-json/tiny-bart/tokenizer.json"),
        dst.join("tokenizer.json"),
    )
    .unwrap();
    let a =
        Seq2SeqSummarizer::load(models().join("tiny-bart").to_str().unwrap(), &gen, true).unwrap();
    let b = Seq2SeqSummarizer::load(dst.to_str().unwrap(), &gen, true)
        .unwrap_or_else(|e| panic!("{e}"));
    let text = "The talks between the two governments ended on Tuesday without an agreement. Both sides said they would meet again.";
    assert_eq!(a.encode(text).unwrap(), b.encode(text).unwrap());
    let batch = [SourceText { id: "a".into(), text: text.into() }];
    assert_eq!(
        a.summarize(&batch)[0].as_ref().unwrap().text,
        b.summarize(&batch)[0].as_ref().unwrap().text
    );
    let _ = std::fs::remove_dir_all(&tmp);
}
