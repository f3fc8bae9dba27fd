//! The `Article` record, its readers (structured text layout, JSONL) and source-text selection.
//!
//! Key Developments are the references: they are kept in `Article::key_points` and never reach
//! the text that is summarized ([`SourceSelection::source_text`]).
mod expand;
mod input;
mod json;
mod structured;

pub use expand::{expand_inputs, InputItem};
pub use input::{read_all, InputReader, ReadLimits};
pub use json::{articles_from_json, Failed, FieldMap};
pub use structured::{looks_structured, parse_structured};

use crate::error::RecordError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Where a record came from: file (or `-` for stdin) and 1-based line for JSONL inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The input path as given, or `-` for stdin.
    pub file: String,
    /// The 1-based line of a JSONL record; `None` for a whole text file.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<usize>,
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(l) => write!(f, "{}:{}", self.file, l),
            None => write!(f, "{}", self.file),
        }
    }
}

/// The kinds of section of the structured article layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SectionKind {
    /// The paragraph(s) between the headline and the first heading (the dateline paragraph).
    Lead,
    /// The "Why It Matters" section (editorial analysis).
    WhyItMatters,
    /// The "Key Developments" bullets: the reference key points, never summarized.
    KeyDevelopments,
    /// The "Full Report" section.
    FullReport,
    /// The "Context & Previous Events" section.
    Context,
    /// A heading that is not one of the known ones.
    Other,
    /// Unstructured article text (JSONL `article` field).
    Body,
}

impl SectionKind {
    /// Every kind, in layout order.
    pub const ALL: [SectionKind; 7] = [
        SectionKind::Lead,
        SectionKind::WhyItMatters,
        SectionKind::KeyDevelopments,
        SectionKind::FullReport,
        SectionKind::Context,
        SectionKind::Other,
        SectionKind::Body,
    ];
    /// The kebab-case name used by `--sections` and in records.
    pub fn name(self) -> &'static str {
        match self {
            SectionKind::Lead => "lead",
            SectionKind::WhyItMatters => "why-it-matters",
            SectionKind::KeyDevelopments => "key-developments",
            SectionKind::FullReport => "full-report",
            SectionKind::Context => "context",
            SectionKind::Other => "other",
            SectionKind::Body => "body",
        }
    }
}

impl FromStr for SectionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SectionKind::ALL.iter().copied().find(|k| k.name() == s.trim()).ok_or_else(|| {
            let names: Vec<_> = SectionKind::ALL.iter().map(|k| k.name()).collect();
            format!("unknown section '{s}' (known: {})", names.join(", "))
        })
    }
}

/// One section of an article: its kind, heading and text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    /// Which known section this is.
    pub kind: SectionKind,
    /// The heading as written in the article (empty for the lead and for plain bodies).
    pub heading: String,
    /// The section text, trimmed; for the lead, without the dateline.
    pub text: String,
}

/// A precomputed summary of one system, read from the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GivenSummary {
    /// The summary text.
    pub text: String,
    /// Sentence list when the input gives one (used as key points as given).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sentences: Option<Vec<String>>,
    /// Other fields given with this summary (e.g. human judgments), kept for meta-evaluation.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One parsed input article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// The article id: the id fields joined with `/`, the file stem of a text file, or
    /// `file:line` when the record has none.
    pub id: String,
    /// The input file and line it was read from.
    pub source: Provenance,
    /// The headline (first line of a structured article), when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub title: Option<String>,
    /// The dateline split off the lead paragraph (e.g. `LONDON (Reuters)`), when there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dateline: Option<String>,
    /// The sections in article order.
    pub sections: Vec<Section>,
    /// The reference key points (the article's Key Developments).
    pub key_points: Vec<String>,
    /// Precomputed summaries by system name (`summary` → system `given`, `systems` → their names).
    #[serde(default)]
    pub summaries: BTreeMap<String, GivenSummary>,
    /// Other numeric or string fields of the input record (e.g. human scores), kept for meta-evaluation.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Article {
    /// The kinds of the sections, in article order.
    pub fn section_kinds(&self) -> Vec<SectionKind> {
        self.sections.iter().map(|s| s.kind).collect()
    }

    /// The reference key points, or the error a scoring stage reports when there are none.
    pub fn require_key_points(&self) -> Result<&[String], RecordError> {
        if self.key_points.is_empty() {
            let why = if self.sections.iter().any(|s| s.kind == SectionKind::KeyDevelopments) {
                "its 'Key Developments' section has no items"
            } else if self.sections.iter().any(|s| s.kind == SectionKind::Body) {
                "the record has no reference key points (field 'key_points' or its --key-points-field mapping)"
            } else {
                "the article has no 'Key Developments' section"
            };
            return Err(RecordError::new(
                "no_key_points",
                format!("{} (record '{}'): {why}", self.source, self.id),
            ));
        }
        Ok(&self.key_points)
    }
}

/// Which sections feed the summarizer. Key Developments can never be selected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceSelection {
    /// The selected kinds, in the order given, without duplicates.
    pub sections: Vec<SectionKind>,
}

impl Default for SourceSelection {
    /// The reported article text: lead (dateline paragraph), Full Report, Context & Previous
    /// Events, other sections and plain bodies. "Why It Matters" is editorial analysis and is left
    /// out by default; add it with `--sections default,why-it-matters`.
    fn default() -> Self {
        SourceSelection {
            sections: vec![
                SectionKind::Lead,
                SectionKind::FullReport,
                SectionKind::Context,
                SectionKind::Other,
                SectionKind::Body,
            ],
        }
    }
}

impl SourceSelection {
    /// Parses `default`, `all` or a comma-separated list of section names (may mix: `default,why-it-matters`).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut out: Vec<SectionKind> = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let kinds: Vec<SectionKind> = match part {
                "default" => SourceSelection::default().sections,
                "all" => SectionKind::ALL
                    .iter()
                    .copied()
                    .filter(|k| *k != SectionKind::KeyDevelopments)
                    .collect(),
                "key-developments" => {
                    return Err(
                        "the Key Developments are the references and can never be summarized"
                            .into(),
                    )
                }
                other => vec![other.parse()?],
            };
            for k in kinds {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
        if out.is_empty() {
            return Err("no sections selected".into());
        }
        Ok(SourceSelection { sections: out })
    }

    /// The selection as section names joined with `+` (e.g. `lead+full-report`), for signatures.
    pub fn name(&self) -> String {
        self.sections.iter().map(|k| k.name()).collect::<Vec<_>>().join("+")
    }

    /// The text to summarize: the selected sections in article order, paragraphs separated by a
    /// blank line. Key Developments never appear, whatever the selection.
    pub fn source_text(&self, article: &Article) -> String {
        let mut parts: Vec<&str> = Vec::new();
        for s in &article.sections {
            if s.kind != SectionKind::KeyDevelopments
                && self.sections.contains(&s.kind)
                && !s.text.trim().is_empty()
            {
                parts.push(s.text.trim());
            }
        }
        parts.join("\n\n")
    }
}
