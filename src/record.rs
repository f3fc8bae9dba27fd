//! The per-record output shape (one JSONL line per input article and system).
use crate::article::{Provenance, SectionKind};
use crate::error::RecordError;
use crate::summarize::Summary;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One output record: an input article scored for one system, or the error that stopped it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The article id (from the id fields, the file stem, or `file:line`).
    pub id: String,
    /// The system whose summary this record holds (absent for records that failed before one was chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// The input file and line the article came from.
    pub source: Provenance,
    /// The article headline, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Sections found in the article.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionKind>,
    /// The reference key points.
    #[serde(default)]
    pub key_points: Vec<String>,
    /// The system's summary (absent when the record failed before one was made).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    /// Metric values by field name (absent on failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Map<String, Value>>,
    /// Metrics asked for but not computed, with the reason (never reported as zero).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub not_computed: Map<String, Value>,
    /// Other fields of the input (e.g. human judgments), for meta-evaluation.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
    /// Why this record failed; `None` for a scored record.
    pub error: Option<RecordError>,
    /// The results signature (tool version, systems, metric settings, seeds).
    pub signature: String,
}

impl Record {
    /// The resume/merge key: id and system.
    pub fn key(&self) -> (String, String) {
        (self.id.clone(), self.system.clone().unwrap_or_default())
    }

    /// A record that failed before scoring: only id, provenance, error and signature are set.
    pub fn failed(id: String, source: Provenance, error: RecordError, signature: &str) -> Self {
        Record {
            id,
            system: None,
            source,
            title: None,
            sections: Vec::new(),
            key_points: Vec::new(),
            summary: None,
            scores: None,
            not_computed: Map::new(),
            meta: Map::new(),
            error: Some(error),
            signature: signature.to_string(),
        }
    }
}
