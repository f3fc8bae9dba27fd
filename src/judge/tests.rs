//! Unit tests of the coverage judge: names and numbers, acronyms, windows, presets.
use super::lexical::{acronym, acronym_found, bare_word};
use super::*;

fn lex(s: &str) -> Lexical {
    Lexical::new(s)
}

#[test]
fn names_and_numbers_must_match() {
    let k = lex("Wesley Sneijder has joined Nice on a 2-year deal.");
    let w = lex("former netherlands midfielder johan sneijder has joined french champions nice .");
    let f = lexical_features(&k, &[&w]);
    // Wesley, Sneijder, Nice, 2: sneijder and nice found
    assert!((f[4] - 0.5).abs() < 1e-12, "{f:?}");
    assert_eq!(f[5], 0.0);
    // wesley, 2, year, deal
    assert_eq!(f[6], 1.0);
    // sneijder, ha(s), join(ed), nice of 10 tokens
    assert!((f[0] - 0.4).abs() < 1e-12, "{f:?}");
    let same = lexical_features(&k, &[&k]);
    assert_eq!(same[..6], [1.0; 6]);
    assert_eq!(same[6], 0.0);
}

#[test]
fn acronyms_demonyms_and_possessives_match() {
    let k = lex("Maduro indicated Venezuela\u{2019}s readiness to talk with the U.S. and the CIA.");
    let w = lex("Venezuelan President Maduro will negotiate with the United States and the Central Intelligence Agency.");
    assert_eq!(lexical_features(&k, &[&w])[4], 1.0);
    let other = lex("Venezuelan President Maduro will negotiate with Spain.");
    // U.S. and CIA missing: Maduro and Venezuela found
    assert!((lexical_features(&k, &[&other])[4] - 0.5).abs() < 1e-12);
    assert!(acronym_found("us", &[&"u".to_string(), &"s".to_string(), &"us".to_string()]));
    assert!(!acronym_found("cia", &[&"central".to_string(), &"agency".to_string()]));
    assert!(acronym_found(
        "boe",
        &[&"bank".to_string(), &"of".to_string(), &"england".to_string()]
    ));
    assert_eq!(acronym("U.S."), Some("us".into()));
    assert_eq!(acronym(bare_word("U.S.")), Some("us".into()));
    assert_eq!(acronym("NATO"), Some("nato".into()));
    assert_eq!(acronym("Nato"), None);
}

#[test]
fn windows_are_short_first() {
    let w = windows(4);
    assert_eq!(w.len(), 4 + 3 + 2);
    assert_eq!(w[0], 0..1);
    assert_eq!(w[4], 0..2);
    assert_eq!(windows(1), vec![0..1]);
    assert!(windows(0).is_empty());
}

#[test]
fn bundled_preset_is_valid_and_monotone_in_evidence() {
    let p = CoverPreset::bundled();
    assert!(!p.features.is_empty());
    let none = p.probability(&[0.0; FEATURES.len()]);
    let all = p.probability(&[1.0; FEATURES.len()]);
    assert!(all > none, "{all} vs {none}");
    assert!(all >= p.threshold && none < p.threshold);
}

#[test]
fn bad_presets_are_refused() {
    let ok = r#"{"name":"x","version":1,"features":["rec1"],"weights":[1.0],"bias":0.0,"threshold":0.5}"#;
    assert!(CoverPreset::from_json(ok).is_ok());
    assert!(CoverPreset::from_json(&ok.replace("rec1", "nope"))
        .unwrap_err()
        .contains("unknown feature"));
    assert!(CoverPreset::from_json(&ok.replace("[1.0]", "[1.0, 2.0]")).is_err());
    assert!(CoverPreset::from_json(&ok.replace("0.5}", "1.5}")).is_err());
}
