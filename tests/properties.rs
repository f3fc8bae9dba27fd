//! Property tests on arbitrary Unicode and arbitrary bytes: the article parser, the JSONL reader,
//! the sentence splitter and the ROUGE tokenizer/stemmer never panic, every input is accounted
//! for (one article or one error record per non-blank line), and Key Developments never reach
//! the source text. The default suite runs proptest's quick pass (256 cases each, or
//! PROPTEST_CASES); `make fuzz` runs 1,000,000 cases of each.
use kpeval::article::{
    parse_structured, FieldMap, InputItem, InputReader, Provenance, ReadLimits, SourceSelection,
};
use proptest::prelude::*;

fn prov() -> Provenance {
    Provenance { file: "prop.txt".into(), line: None }
}

/// Text with the layout's headings, bullets and line breaks mixed into arbitrary Unicode.
fn layoutish() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("\nKey Developments\n".to_string()),
        Just("\n## Full Report\n".to_string()),
        Just("\nWhy It Matters:\n".to_string()),
        Just("\nContext & Previous Events\n".to_string()),
        Just("\n- ".to_string()),
        Just("\n1. ".to_string()),
        Just("\n•\n".to_string()),
        Just("\r\n".to_string()),
        Just("\u{feff}".to_string()),
        Just("CARACAS, Venezuela (AP) — ".to_string()),
        "[a-zA-Z .,!?]{0,40}",
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn parser_never_panics_and_key_developments_stay_out_of_the_source(text in layoutish()) {
        if let Ok(a) = parse_structured(&text, "p", prov(), true) {
            for kd in &a.key_points {
                prop_assert!(!kd.trim().is_empty(), "an empty Key Development from {text:?}");
            }
            let _ = SourceSelection::parse("all").unwrap().source_text(&a);
        }
    }

    /// Key Developments made of a marker no other section holds: none reaches the source text,
    /// whatever surrounds them.
    #[test]
    fn marked_key_developments_never_reach_the_source(lead in "[a-zA-Z .,]{0,60}", report in any::<String>(), n in 1usize..5) {
        let kds: Vec<String> = (0..n).map(|i| format!("KDMARK{i} happened")).collect();
        let report = report.replace("KDMARK", "");
        let text = format!("Headline\n{lead}\nKey Developments\n{}\nFull Report\n{report}\n", kds.iter().map(|k| format!("- {k}")).collect::<Vec<_>>().join("\n"));
        let a = parse_structured(&text, "p", prov(), true).unwrap();
        prop_assert_eq!(&a.key_points, &kds);
        for spec in ["default", "all"] {
            let src = SourceSelection::parse(spec).unwrap().source_text(&a);
            prop_assert!(!src.contains("KDMARK"), "{spec}: {src:?}");
        }
    }

    #[test]
    fn sentence_splitter_never_panics(text in any::<String>()) {
        for s in kpeval::keypoints::split_sentences(&text) {
            prop_assert!(!s.trim().is_empty());
        }
    }

    #[test]
    fn rouge_tokenizer_and_stemmer_never_panic(a in any::<String>(), b in any::<String>(), w in "\\PC{0,24}") {
        let _ = kpeval::metrics::rouge::tokenize(&a, true);
        let _ = kpeval::metrics::porter::stem(&w.to_lowercase());
        let scorer = kpeval::metrics::rouge::RougeScorer::new(kpeval::metrics::rouge::RougeConfig::default());
        for (_, s) in scorer.score(&a, &b) {
            prop_assert!((0.0..=1.0).contains(&s.f1) && (0.0..=1.0).contains(&s.recall), "{s:?}");
        }
    }

    /// Arbitrary bytes as a JSONL file: one article or one error record per non-blank line.
    #[test]
    fn jsonl_reader_accounts_for_every_line(lines in prop::collection::vec(prop_oneof![
        prop::collection::vec(any::<u8>(), 0..80),
        Just(br#"{"id": "a", "article": "One. Two.", "key_points": ["One."]}"#.to_vec()),
        Just(br#"{"id": 7, "article": "", "key_points": []}"#.to_vec()),
        Just(br#"{"article": "x", "systems": {"s": {"summary": 3}}}"#.to_vec()),
    ], 0..8)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.jsonl");
        let lines: Vec<Vec<u8>> = lines.into_iter().map(|l| l.into_iter().filter(|&b| b != b'\n').collect()).collect();
        std::fs::write(&path, lines.join(&b'\n')).unwrap();
        let expected = lines.iter().filter(|l| !l.iter().all(|b| b.is_ascii_whitespace())).count();
        let got = InputReader::new(vec![InputItem::File(path.clone())], FieldMap::default(), ReadLimits::default()).count();
        // a UTF-16-looking file is one error record for the whole file
        prop_assert!(got == expected || got == 1, "{got} results for {expected} lines");
    }
}
