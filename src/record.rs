//! The per-record output shape (one JSONL line per input article and system).
use crate::article::{Provenance, SectionKind};
use crate::error::RecordError;
use crate::summarize::Summary;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    /// The system whose summary this record holds (absent for records that failed before one was chosen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    pub source: Provenance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Sections found in the article.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sections: Vec<SectionKind>,
    /// The reference key points.
    #[serde(default)]
    pub key_points: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scores: Option<Map<String, Value>>,
    /// Metrics asked for but not computed, with the reason (never reported as zero).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub not_computed: Map<String, Value>,
    /// Other fields of the input (e.g. human judgments), for meta-evaluation.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub meta: Map<String, Value>,
    pub error: Option<RecordError>,
    /// The results signature (tool version, systems, metric settings, seeds).
    pub signature: String,
}

impl Record {
    /// The resume/merge key: id and system.
    pub fn key(&self) -> (String, String) {
        (self.id.clone(), self.system.clone().unwrap_or_default())
    }

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
