//! The structured article parser on the example article and on every tolerated variant, and the
//! no-leakage guarantee: the summarized text never contains a Key Development.
use kpeval::article::{parse_structured, Provenance, SectionKind, SourceSelection};

const EXAMPLE: &str = include_str!("fixtures/venezuela-drug-talks.txt");

fn prov() -> Provenance {
    Provenance { file: "test.txt".into(), line: None }
}

fn expected_kd() -> Vec<&'static str> {
    vec![
        "Maduro indicated Venezuela’s readiness to enter discussions with the U.S. on combating drug trafficking.",
        "He criticized U.S. actions as a means to instigate government change in Venezuela.",
        "The Trump administration has escalated military operations, including drone strikes targeting Venezuelan locations suspected of drug cartel activity.",
        "The CIA conducted a drone strike last week, marking a significant intensification of U.S. efforts against drug trafficking on Venezuelan soil.",
    ]
}

#[test]
fn example_article_parses_exactly() {
    let a = parse_structured(EXAMPLE, "venezuela", prov(), true).unwrap();
    assert_eq!(
        a.title.as_deref(),
        Some("Venezuela Open to U.S. Talks on Drug Trafficking Amid Escalating Military Actions")
    );
    assert_eq!(a.dateline.as_deref(), Some("CARACAS, Venezuela (AP)"));
    assert_eq!(a.key_points, expected_kd());
    assert_eq!(
        a.section_kinds(),
        vec![
            SectionKind::Lead,
            SectionKind::WhyItMatters,
            SectionKind::KeyDevelopments,
            SectionKind::FullReport,
            SectionKind::Context
        ]
    );
    let full = a.sections.iter().find(|s| s.kind == SectionKind::FullReport).unwrap();
    assert!(full.text.starts_with("In an interview with Spanish journalist Ignacio Ramonet"));
    assert!(full.text.ends_with("in the coming days."));
    let lead = &a.sections[0];
    assert!(
        lead.text.starts_with("Venezuelan President Nicolás Maduro expressed willingness"),
        "{}",
        lead.text
    );
}

/// Applies a transformation to the example and checks the parse is unchanged.
fn same_parse(variant: &str, what: &str) {
    let a = parse_structured(variant, "v", prov(), true).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(a.key_points, expected_kd(), "{what}");
    assert!(a.section_kinds().contains(&SectionKind::FullReport), "{what}");
    assert!(a.section_kinds().contains(&SectionKind::Context), "{what}");
}

#[test]
fn tolerated_variants() {
    same_parse(&EXAMPLE.replace('\n', "\r\n"), "CRLF");
    same_parse(&format!("\u{feff}{EXAMPLE}"), "BOM");
    same_parse(&format!("{EXAMPLE}\n\n\n   \n"), "trailing blank lines");
    same_parse(&format!("\n\n{EXAMPLE}"), "leading blank lines");
    same_parse(&EXAMPLE.replace("Key Developments\n", "KEY DEVELOPMENTS:\n"), "upper case + colon");
    same_parse(
        &EXAMPLE
            .replace("Key Developments\n", "## Key developments\n")
            .replace("Full Report\n", "### Full Report:\n"),
        "markdown headings",
    );
    same_parse(
        &EXAMPLE.replace("Context & Previous Events", "**Context and Previous Events**"),
        "bold, 'and'",
    );
    for bullet in ["* ", "• ", "1. ", "1) "] {
        same_parse(&EXAMPLE.replace("\n- ", &format!("\n{bullet}")), &format!("bullet {bullet:?}"));
    }
    same_parse(&EXAMPLE.replace("\n- ", "\n\n- "), "blank lines between bullets");
}

#[test]
fn missing_optional_sections() {
    let no_why = EXAMPLE.replace("Why It Matters\n", "").replace(
        "The prospect of renewed dialogue between Venezuela and the U.S. comes at a critical juncture amid increasing tensions over drug trafficking and geopolitical rivalries. This potential negotiation showcases the challenges of addressing narcotics-related violence while navigating issues of sovereignty and international relations, especially given Venezuela’s significant oil resources that are of interest to the U.S.\n",
        "",
    );
    let a = parse_structured(&no_why, "v", prov(), true).unwrap();
    assert!(!a.section_kinds().contains(&SectionKind::WhyItMatters));
    assert_eq!(a.key_points, expected_kd());
    let cut = EXAMPLE.split("Context & Previous Events").next().unwrap();
    let a = parse_structured(cut, "v", prov(), true).unwrap();
    assert!(!a.section_kinds().contains(&SectionKind::Context));
    assert_eq!(a.key_points, expected_kd());
}

#[test]
fn no_key_developments_is_reported_not_invented() {
    let text = "Headline\nSome body text here. More text.\nFull Report\nThe report.\n";
    let a = parse_structured(text, "v", prov(), true).unwrap();
    assert!(a.key_points.is_empty());
    let e = a.require_key_points().unwrap_err();
    assert_eq!(e.kind, "no_key_points");
    assert!(
        e.message.contains("test.txt") && e.message.contains("Key Developments"),
        "{}",
        e.message
    );
}

#[test]
fn empty_article_is_an_error() {
    for t in ["", "   \n\n", "\u{feff}\r\n"] {
        assert!(parse_structured(t, "v", prov(), true).is_err(), "{t:?}");
    }
}

#[test]
fn summarized_text_never_contains_a_key_development() {
    let variants =
        [EXAMPLE.to_string(), EXAMPLE.replace('\n', "\r\n"), EXAMPLE.replace("\n- ", "\n• ")];
    for sel in [
        "default",
        "all",
        "lead,why-it-matters,full-report,context,other,body",
        "default,why-it-matters",
    ] {
        let s = SourceSelection::parse(sel).unwrap();
        for v in &variants {
            let a = parse_structured(v, "v", prov(), true).unwrap();
            let text = s.source_text(&a);
            assert!(!text.is_empty());
            for kd in expected_kd() {
                assert!(!text.contains(kd), "selection {sel}: Key Development leaked: {kd}");
                // Not even its first half (a wrapped or reformatted copy).
                let half = &kd[..kd.len() / 2];
                assert!(
                    !text.contains(half),
                    "selection {sel}: part of a Key Development leaked: {half}"
                );
            }
        }
    }
    assert!(SourceSelection::parse("key-developments").is_err());
    assert!(SourceSelection::parse("default,key-developments").is_err());
}

#[test]
fn default_selection_is_documented_sections() {
    let s = SourceSelection::default();
    assert_eq!(s.name(), "lead+full-report+context+other+body");
}
