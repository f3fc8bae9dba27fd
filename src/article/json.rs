//! JSON records: the field names ([`FieldMap`]) and one JSON object (a JSONL line or a value in
//! memory) made into an [`Article`], or the reason it cannot be.
use super::structured::{looks_structured, normalize_text, parse_structured};
use super::{Article, GivenSummary, Provenance, Section, SectionKind};
use crate::error::RecordError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Names of the JSONL fields. Each list is tried in order; the first present field is used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldMap {
    /// Fields whose values, joined with `/`, form the id (e.g. `article_id,summary_id`).
    pub id: Vec<String>,
    /// Fields holding the article text.
    pub article: Vec<String>,
    /// Fields holding the reference key points (a list, or a string of lines).
    pub key_points: Vec<String>,
    /// Fields holding a precomputed summary (of the system `given` unless [`FieldMap::system`]
    /// names it).
    pub summary: Vec<String>,
    /// Field holding an object of precomputed summaries keyed by system name.
    pub systems: String,
    /// Field naming the system of the given `summary` (default: the system is called `given`).
    pub system: Option<String>,
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            id: vec!["id".into()],
            article: vec!["article".into(), "document".into(), "text".into()],
            key_points: vec!["key_points".into(), "highlights".into()],
            summary: vec!["summary".into()],
            systems: "systems".into(),
            system: None,
        }
    }
}
/// An input record that could not be read: its id (or `file:line` when none could be found),
/// provenance and reason.
pub type Failed = (String, Provenance, RecordError);
pub(super) fn prov(file: &str, line: Option<usize>) -> Provenance {
    Provenance { file: file.to_string(), line }
}

/// Best-effort id of a line that cannot be parsed, for a readable error record.
pub(super) fn sniff_id(buf: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(&buf[..buf.len().min(4096)]);
    let re = regex::Regex::new(r#""id"\s*:\s*"([^"\\]{1,200})""#).ok()?;
    re.captures(&s).map(|c| c[1].to_string())
}

pub(super) fn parse_json_line(
    buf: &[u8],
    file: &str,
    lineno: usize,
    fields: &FieldMap,
) -> std::result::Result<Article, Failed> {
    let place = format!("{file}:{lineno}");
    let fallback_id = || sniff_id(buf).unwrap_or_else(|| place.clone());
    let text = match std::str::from_utf8(buf) {
        Ok(t) => t,
        Err(e) => {
            return Err((
                fallback_id(),
                prov(file, Some(lineno)),
                RecordError::new(
                    "utf8",
                    format!("{place}: invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                ),
            ))
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let obj: Map<String, Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => o,
        Ok(other) => {
            return Err((
                fallback_id(),
                prov(file, Some(lineno)),
                RecordError::new(
                    "json",
                    format!("{place}: expected a JSON object, found {}", json_kind(&other)),
                ),
            ))
        }
        Err(e) => {
            return Err((
                fallback_id(),
                prov(file, Some(lineno)),
                RecordError::new("json", format!("{place}: broken JSON: {e}")),
            ))
        }
    };
    record_from_object(obj, file, lineno, fields)
        .map_err(|(id, e)| (id.unwrap_or_else(|| place.clone()), prov(file, Some(lineno)), e))
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn first_field<'a>(obj: &'a Map<String, Value>, names: &[String]) -> Option<(&'a str, &'a Value)> {
    names.iter().find_map(|n| obj.get_key_value(n.as_str()).map(|(k, v)| (k.as_str(), v)))
}

/// Reads a list of strings given as an array, a JSON-encoded array string, or newline-separated text.
fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(|s| s.trim().to_string()))
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().filter(|s| !s.is_empty()).collect()),
        Value::String(s) => {
            let t = s.trim();
            if t.starts_with('[') {
                if let Ok(Value::Array(a)) = serde_json::from_str::<Value>(t) {
                    return string_list(&Value::Array(a));
                }
            }
            Some(
                normalize_text(s)
                    .lines()
                    .map(|l| l.trim().to_string())
                    .filter(|l| !l.is_empty())
                    .collect(),
            )
        }
        _ => None,
    }
}

fn record_from_object(
    mut obj: Map<String, Value>,
    file: &str,
    lineno: usize,
    fields: &FieldMap,
) -> std::result::Result<Article, (Option<String>, RecordError)> {
    let place = format!("{file}:{lineno}");
    // id: one or more fields joined with '/'.
    let mut id_parts = Vec::new();
    for f in &fields.id {
        match obj.get(f) {
            Some(Value::String(s)) => id_parts.push(s.clone()),
            // integers keep their digits; other numbers would be rewritten (1e3 -> "1000.0",
            // large integers rounded into each other), so they are refused
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => id_parts.push(n.to_string()),
            Some(Value::Number(n)) => {
                return Err((None, RecordError::new("field", format!("{place}: field '{f}' is the number {n}, which cannot be kept exactly as an id; write it as a string or an integer"))))
            }
            Some(other) => return Err((None, RecordError::new("field", format!("{place}: field '{f}' must be a string or an integer, found {}", json_kind(other))))),
            None => {}
        }
    }
    let id = if id_parts.len() == fields.id.len() {
        id_parts.join("/")
    } else if id_parts.is_empty() {
        place.clone()
    } else {
        return Err((
            Some(id_parts.join("/")),
            RecordError::new(
                "field",
                format!("{place}: some id fields are missing (expected {})", fields.id.join(", ")),
            ),
        ));
    };
    let err = |kind: &str, msg: String| {
        (Some(id.clone()), RecordError::new(kind, format!("{place} (record '{id}'): {msg}")))
    };

    let has_summaries =
        first_field(&obj, &fields.summary).is_some() || obj.contains_key(&fields.systems);
    let Some((article_key, article_v)) = first_field(&obj, &fields.article).or(if has_summaries {
        Some(("", &Value::Null))
    } else {
        None
    }) else {
        return Err(err(
            "field",
            format!("no article text (looked for field {})", fields.article.join(", ")),
        ));
    };
    let article_key = article_key.to_string();
    // Scoring given summaries needs no article: an absent one leaves the sections empty.
    let article_text =
        if article_v.is_null() && article_key.is_empty() { Some("") } else { article_v.as_str() };
    let Some(article_text) = article_text else {
        return Err(err(
            "field",
            format!("field '{article_key}' must be a string, found {}", json_kind(article_v)),
        ));
    };
    if !article_key.is_empty() && article_text.trim().is_empty() {
        return Err(err("empty_article", format!("field '{article_key}' is empty")));
    }
    let source = prov(file, Some(lineno));
    let mut article = if article_key.is_empty() {
        Article {
            id: id.clone(),
            source: source.clone(),
            title: None,
            dateline: None,
            sections: Vec::new(),
            key_points: Vec::new(),
            summaries: BTreeMap::new(),
            extra: Map::new(),
        }
    } else if looks_structured(article_text) {
        parse_structured(article_text, &id, source.clone(), false)
            .map_err(|e| err("empty_article", e))?
    } else {
        Article {
            id: id.clone(),
            source: source.clone(),
            title: None,
            dateline: None,
            sections: vec![Section {
                kind: SectionKind::Body,
                heading: String::new(),
                text: normalize_text(article_text).trim().to_string(),
            }],
            key_points: Vec::new(),
            summaries: BTreeMap::new(),
            extra: Map::new(),
        }
    };
    if let Some(Value::String(t)) = obj.get("title") {
        article.title = Some(t.clone());
    }
    let mut consumed: Vec<String> = fields.id.clone();
    consumed.push(article_key);
    consumed.push("title".into());
    let mut kp_key = None;
    let mut given_key: Option<String> = None;
    if let Some((k, v)) = first_field(&obj, &fields.key_points) {
        let list = string_list(v).ok_or_else(|| {
            err(
                "field",
                format!(
                    "field '{k}' must be a list of strings or a newline-separated string, found {}",
                    json_kind(v)
                ),
            )
        })?;
        article.key_points = list;
        kp_key = Some(k.to_string());
        consumed.push(k.to_string());
    }
    if let Some((k, v)) = first_field(&obj, &fields.summary) {
        if Some(k) != kp_key.as_deref() {
            let k = k.to_string();
            let text = v.as_str().ok_or_else(|| {
                err("field", format!("field '{k}' must be a string, found {}", json_kind(v)))
            })?;
            let name = match fields.system.as_ref().map(|f| (f, obj.get(f))) {
                None => "given".to_string(),
                Some((_, Some(Value::String(s)))) => s.clone(),
                Some((_, Some(Value::Number(n)))) => n.to_string(),
                Some((f, _)) => {
                    return Err(err(
                        "field",
                        format!(
                        "no system name: field '{f}' (--system-field) is missing or not a string"
                    ),
                    ))
                }
            };
            given_key = Some(name.clone());
            article.summaries.insert(
                name,
                GivenSummary { text: text.to_string(), sentences: None, extra: Map::new() },
            );
            consumed.push(k);
            if let Some(f) = &fields.system {
                consumed.push(f.clone());
            }
        }
    }
    if let Some(v) = obj.get(&fields.systems) {
        let Value::Object(systems) = v else {
            return Err(err(
                "field",
                format!(
                    "field '{}' must be an object of {{name: {{summary}}}}, found {}",
                    fields.systems,
                    json_kind(v)
                ),
            ));
        };
        for (name, sv) in systems {
            let given = match sv {
                Value::String(s) => {
                    GivenSummary { text: s.clone(), sentences: None, extra: Map::new() }
                }
                Value::Object(o) => {
                    let text = match o.get("summary") {
                        Some(Value::String(s)) => s.clone(),
                        Some(Value::Array(_)) | None => String::new(),
                        Some(other) => {
                            return Err(err(
                                "field",
                                format!(
                                    "systems.{name}.summary must be a string, found {}",
                                    json_kind(other)
                                ),
                            ))
                        }
                    };
                    let sentences = match o
                        .get("sentences")
                        .or_else(|| o.get("summary").filter(|v| v.is_array()))
                    {
                        Some(v) => Some(string_list(v).ok_or_else(|| {
                            err(
                                "field",
                                format!("systems.{name}.sentences must be a list of strings"),
                            )
                        })?),
                        None => None,
                    };
                    // A sentence list is the system's key points: joined with newlines, so that
                    // ROUGE-Lsum sees its sentences (as rouge-score on CNN/DM expects).
                    let text = match &sentences {
                        Some(s) if !s.is_empty() => s.join("\n"),
                        _ => text,
                    };
                    let extra: Map<String, Value> = o
                        .iter()
                        .filter(|(k, _)| *k != "summary" && *k != "sentences")
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    GivenSummary { text, sentences, extra }
                }
                other => {
                    return Err(err(
                        "field",
                        format!(
                            "systems.{name} must be a string or an object, found {}",
                            json_kind(other)
                        ),
                    ))
                }
            };
            article.summaries.insert(name.clone(), given);
        }
        consumed.push(fields.systems.clone());
    }
    for k in consumed {
        obj.remove(&k);
    }
    // Keep the remaining scalar fields (human scores, metadata) for meta-evaluation.
    let extra: Map<String, Value> = obj
        .into_iter()
        .filter(|(_, v)| {
            matches!(v, Value::Number(_) | Value::Bool(_))
                || v.as_str().is_some_and(|s| s.len() <= 256)
        })
        .collect();
    // A line that carries one summary (SummEval layout) carries that summary's judgments: they
    // belong to it, not to summaries generated from the article.
    match given_key.and_then(|k| article.summaries.get_mut(&k)) {
        Some(g) => g.extra.extend(extra),
        None => article.extra = extra,
    }
    Ok(article)
}
/// Reads articles from JSON objects in memory, as if they were the lines of a JSONL file called
/// `name` (same fields, same errors: a value that is no object, or lacks what is needed, is a
/// failed input naming `name:<index+1>`).
pub fn articles_from_json(
    values: Vec<Value>,
    name: &str,
    fields: &FieldMap,
) -> Vec<std::result::Result<Article, Failed>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let line = i + 1;
            let place = format!("{name}:{line}");
            match v {
                Value::Object(obj) => {
                    record_from_object(obj, name, line, fields).map_err(|(id, e)| {
                        (id.unwrap_or_else(|| place.clone()), prov(name, Some(line)), e)
                    })
                }
                other => Err((
                    place.clone(),
                    prov(name, Some(line)),
                    RecordError::new(
                        "json",
                        format!("{place}: expected a JSON object, found {}", json_kind(&other)),
                    ),
                )),
            }
        })
        .collect()
}
