//! Sentence embeddings equal sentence-transformers' on the real all-MiniLM-L6-v2 (fixtures from
//! eval/reference/gen_embedding_fixtures.py). Needs the model store (`make setup`).
use kpeval_torch::embed::SentenceEmbedder;
use std::path::Path;

#[test]
fn minilm_matches_sentence_transformers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let store = root.join("models/store/all-MiniLM-L6-v2");
    assert!(store.join("model.safetensors").is_file(), "model store missing: run `make setup` ({})", store.display());
    let fx: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(root.join("tests/fixtures/minilm_embeddings.json")).unwrap()).unwrap();
    let texts: Vec<String> = fx["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
    let expected: Vec<Vec<f64>> = fx["embeddings"].as_array().unwrap().iter().map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()).collect();
    let mut emb = SentenceEmbedder::load(&store, tch::Device::Cpu).unwrap();
    assert_eq!(emb.max_len, fx["max_seq_length"].as_u64().unwrap() as usize);
    for batch in [1usize, 7, 64] {
        emb.batch_size = batch;
        let got = emb.embed(&texts).unwrap();
        assert_eq!(got.len(), expected.len());
        let mut max_diff = 0f64;
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g.len(), e.len(), "text {i}");
            for (a, b) in g.iter().zip(e) {
                max_diff = max_diff.max((*a as f64 - b).abs());
            }
        }
        eprintln!("MiniLM parity, batch {batch}: {} texts x {} dims, max abs diff {max_diff:.3e}", got.len(), got[0].len());
        assert!(max_diff <= 1e-5, "batch {batch}: max abs diff {max_diff}");
    }
}
