//! Parser for the structured article text layout (see `eval/articles/venezuela-drug-talks.txt`):
//! headline, dateline paragraph, "Why It Matters", "Key Developments" (bullets = reference key
//! points), "Full Report", "Context & Previous Events".
//!
//! Tolerated: heading case, a trailing colon, markdown `#`/`**` decoration, bullets `-`, `*`,
//! `•`, `1.`/`1)`, CRLF line ends, a BOM, blank lines anywhere and missing optional sections.
use super::{Article, Provenance, Section, SectionKind};
use once_cell::sync::Lazy;
use regex::Regex;
use std::collections::BTreeMap;

/// Recognizes a heading line; returns its kind, or None for ordinary text.
fn heading_kind(line: &str) -> Option<SectionKind> {
    let t = line.trim();
    if t.is_empty() || t.len() > 60 {
        return None;
    }
    let t = t.trim_start_matches('#').trim();
    let t = t.trim_matches('*').trim_matches('_').trim();
    let t = t.trim_end_matches(':').trim();
    let t = t.trim_matches('*').trim();
    let norm: String =
        t.to_lowercase().replace('&', " and ").split_whitespace().collect::<Vec<_>>().join(" ");
    match norm.as_str() {
        "why it matters" | "why this matters" => Some(SectionKind::WhyItMatters),
        "key developments" | "key development" | "key points" => Some(SectionKind::KeyDevelopments),
        "full report" | "full story" => Some(SectionKind::FullReport),
        "context and previous events"
        | "context"
        | "previous events"
        | "background"
        | "context and background" => Some(SectionKind::Context),
        _ => None,
    }
}

static BULLET: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\s*(?:[-*•‣◦▪–]|\d{1,3}[.)])(?:\s+(.*))?$").unwrap());
static DATELINE: Lazy<Regex> = Lazy::new(|| {
    // "CARACAS, Venezuela (AP) — text", "LONDON (Reuters) - text", "WASHINGTON — text"
    Regex::new(r"^((?:\p{Lu}[\p{Lu}\s.'’-]*\p{Lu}\.?)(?:,\s*[^()—–\n]{1,40}?)?(?:\s*\([^)\n]{1,40}\))?)\s+[—–-]{1,2}\s+(\S.*)$").unwrap()
});

/// True when a text uses the structured layout (it has a Key Developments heading or two known headings).
pub fn looks_structured(text: &str) -> bool {
    let mut n = 0;
    for line in text.lines() {
        match heading_kind(line) {
            Some(SectionKind::KeyDevelopments) => return true,
            Some(_) => n += 1,
            None => {}
        }
    }
    n >= 2
}

/// Normalizes line ends and removes a BOM.
pub(crate) fn normalize_text(text: &str) -> String {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    t.replace("\r\n", "\n").replace('\r', "\n")
}

/// Parses a structured article. Returns an error message for an empty text.
/// `with_headline`: the first non-empty line is the headline (true for text files).
pub fn parse_structured(
    text: &str,
    id: &str,
    source: Provenance,
    with_headline: bool,
) -> Result<Article, String> {
    let text = normalize_text(text);
    if text.trim().is_empty() {
        return Err("the article is empty".into());
    }
    let mut title: Option<String> = None;
    let mut sections: Vec<Section> = Vec::new();
    let mut current =
        Section { kind: SectionKind::Lead, heading: String::new(), text: String::new() };
    let mut key_points: Vec<String> = Vec::new();
    let mut in_bullet = false;

    for raw in text.lines() {
        let line = raw.trim_end();
        if title.is_none() && with_headline && sections.is_empty() && current.text.is_empty() {
            if line.trim().is_empty() {
                continue;
            }
            if heading_kind(line).is_none() {
                let t = line.trim().trim_start_matches('#').trim().trim_matches('*').trim();
                title = Some(t.to_string());
                continue;
            }
        }
        if let Some(kind) = heading_kind(line) {
            sections.push(std::mem::replace(
                &mut current,
                Section { kind, heading: line.trim().to_string(), text: String::new() },
            ));
            in_bullet = false;
            continue;
        }
        if current.kind == SectionKind::KeyDevelopments {
            if line.trim().is_empty() {
                in_bullet = false;
                continue;
            }
            if let Some(c) = BULLET.captures(line) {
                // A marker with nothing after it is no Key Development (and not a continuation).
                let item = c.get(1).map_or("", |m| m.as_str()).trim();
                in_bullet = !item.is_empty();
                if in_bullet {
                    key_points.push(item.to_string());
                }
            } else if in_bullet {
                // A wrapped bullet continues on the next line.
                let last = key_points.last_mut().expect("in_bullet implies an item");
                last.push(' ');
                last.push_str(line.trim());
            } else {
                // Items without bullet markers: one per line.
                key_points.push(line.trim().to_string());
                in_bullet = false;
            }
            if !current.text.is_empty() {
                current.text.push('\n');
            }
            current.text.push_str(line.trim());
            continue;
        }
        if line.trim().is_empty() {
            if !current.text.is_empty() && !current.text.ends_with("\n\n") {
                current.text.push_str("\n\n");
            }
            continue;
        }
        if !current.text.is_empty() && !current.text.ends_with('\n') {
            current.text.push('\n');
        }
        current.text.push_str(line.trim());
    }
    sections.push(current);
    for s in &mut sections {
        s.text = s.text.trim().to_string();
    }
    // Drop an empty lead (article starting with a heading).
    sections.retain(|s| !(s.kind == SectionKind::Lead && s.text.is_empty()));
    key_points.retain(|k| !k.is_empty());

    let mut dateline = None;
    if let Some(lead) = sections.iter_mut().find(|s| s.kind == SectionKind::Lead) {
        if let Some(c) = DATELINE.captures(&lead.text) {
            let d = c[1].trim().to_string();
            let rest = c[2].to_string();
            dateline = Some(d);
            lead.text = rest;
        }
    }
    if sections.iter().all(|s| s.text.trim().is_empty()) && key_points.is_empty() {
        return Err("the article has a headline but no text".into());
    }
    Ok(Article {
        id: id.to_string(),
        source,
        title,
        dateline,
        sections,
        key_points,
        summaries: BTreeMap::new(),
        extra: serde_json::Map::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prov() -> Provenance {
        Provenance { file: "t.txt".into(), line: None }
    }

    #[test]
    fn heading_variants() {
        for h in [
            "Key Developments",
            "KEY DEVELOPMENTS:",
            "## Key developments",
            "**Key Developments**",
            "key developments :",
        ] {
            assert_eq!(heading_kind(h), Some(SectionKind::KeyDevelopments), "{h}");
        }
        assert_eq!(heading_kind("Context & Previous Events"), Some(SectionKind::Context));
        assert_eq!(heading_kind("### Context and previous events:"), Some(SectionKind::Context));
        assert_eq!(heading_kind("The key developments were many."), None);
    }

    #[test]
    fn dateline_split() {
        let a = parse_structured(
            "Title\nLONDON (Reuters) — Something happened.\nKey Developments\n- a\n",
            "x",
            prov(),
            true,
        )
        .unwrap();
        assert_eq!(a.dateline.as_deref(), Some("LONDON (Reuters)"));
        assert_eq!(a.sections[0].text, "Something happened.");
        assert_eq!(a.key_points, vec!["a"]);
    }

    #[test]
    fn wrapped_bullets_and_numbering() {
        let a = parse_structured(
            "T\nbody.\nKey Developments:\n1) first\n   continues\n2. second\n• third\n",
            "x",
            prov(),
            true,
        )
        .unwrap();
        assert_eq!(a.key_points, vec!["first continues", "second", "third"]);
    }

    /// Regression (#19): whitespace-only bullets became Key Developments ("-", "*", "•") and an
    /// empty numbered item was glued to the previous point ("…soil. 5.").
    #[test]
    fn empty_bullets_are_no_key_developments() {
        let a = parse_structured(
            "T\nbody.\nKey Developments\n- first\n-   \n*\n• \n4. on the soil.\n5.\n- last\n",
            "x",
            prov(),
            true,
        )
        .unwrap();
        assert_eq!(a.key_points, vec!["first", "on the soil.", "last"]);
    }
}
