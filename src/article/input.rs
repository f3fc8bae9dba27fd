//! Input expansion (files, directories, globs, `-` for stdin) and the streaming record reader.
use super::structured::{looks_structured, normalize_text, parse_structured};
use super::{Article, GivenSummary, Provenance, Section, SectionKind};
use crate::error::{Error, RecordError, Result};
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// One input source after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputItem {
    /// Standard input (`-`); it can be read once.
    Stdin,
    /// A text or JSONL file (`.jsonl.gz` is decompressed).
    File(PathBuf),
    /// A path or pattern that could not be expanded; reported as an error record.
    Missing(String, String),
}

/// Expands positional inputs: `-` is stdin, a directory is walked (sorted) for `.txt`, `.md`,
/// `.jsonl`, `.json` and `.jsonl.gz` files, a pattern with `*?[` is a glob (sorted).
pub fn expand_inputs(inputs: &[String]) -> Vec<InputItem> {
    let mut out = Vec::new();
    for inp in inputs {
        if inp == "-" {
            out.push(InputItem::Stdin);
            continue;
        }
        let p = Path::new(inp);
        if p.is_dir() {
            let mut found: Vec<(PathBuf, Option<String>)> = Vec::new();
            walk_dir(p, &mut found, &mut std::collections::HashSet::new());
            found.sort();
            if found.is_empty() {
                out.push(InputItem::Missing(
                    inp.clone(),
                    "directory holds no .txt, .md, .jsonl, .json or .jsonl.gz files".into(),
                ));
            }
            out.extend(found.into_iter().map(|(p, why)| match why {
                None => InputItem::File(p),
                Some(why) => InputItem::Missing(p.display().to_string(), why),
            }));
        } else if p.exists() {
            out.push(InputItem::File(p.to_path_buf()));
        } else if inp.contains(['*', '?', '[']) {
            match glob::glob(inp) {
                Ok(paths) => {
                    let mut files: Vec<PathBuf> =
                        paths.filter_map(|r| r.ok()).filter(|p| p.is_file()).collect();
                    files.sort();
                    if files.is_empty() {
                        out.push(InputItem::Missing(inp.clone(), "pattern matches no file".into()));
                    }
                    out.extend(files.into_iter().map(InputItem::File));
                }
                Err(e) => {
                    out.push(InputItem::Missing(inp.clone(), format!("bad glob pattern: {e}")))
                }
            }
        } else {
            out.push(InputItem::Missing(inp.clone(), "no such file or directory".into()));
        }
    }
    out
}

/// Walks a folder: input files, and an entry with the reason for what cannot be read (an
/// unreadable subfolder; a FIFO, socket or device with an input file's name, which could block
/// the run forever). Each directory is walked once, by (device, inode): symlink loops end.
fn walk_dir(
    dir: &Path,
    out: &mut Vec<(PathBuf, Option<String>)>,
    visited: &mut std::collections::HashSet<(u64, u64)>,
) {
    use std::os::unix::fs::MetadataExt;
    match std::fs::metadata(dir) {
        Ok(m) if !visited.insert((m.dev(), m.ino())) => return,
        Ok(_) => {}
        Err(e) => {
            out.push((dir.to_path_buf(), Some(format!("cannot read this folder: {e}"))));
            return;
        }
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            out.push((dir.to_path_buf(), Some(format!("cannot read this folder: {e}"))));
            return;
        }
    };
    for e in rd {
        let e = match e {
            Ok(e) => e,
            Err(err) => {
                out.push((dir.to_path_buf(), Some(format!("cannot list this folder: {err}"))));
                continue;
            }
        };
        let p = e.path();
        // follows symlinks; a dangling one is an error only when it has an input file's name
        match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() => walk_dir(&p, out, visited),
            Ok(m) if is_input_file(&p) && !m.is_file() => {
                out.push((p, Some("not a regular file (a FIFO, socket or device): skipped".into())))
            }
            Ok(_) if is_input_file(&p) => out.push((p, None)),
            Err(err) if is_input_file(&p) => out.push((p, Some(format!("cannot read: {err}")))),
            _ => {}
        }
    }
}

fn is_input_file(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".txt", ".md", ".jsonl", ".json", ".jsonl.gz", ".ndjson"].iter().any(|e| name.ends_with(e))
}

fn is_jsonl(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".jsonl")
        || name.ends_with(".json")
        || name.ends_with(".jsonl.gz")
        || name.ends_with(".ndjson")
}

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

/// Size limits on input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadLimits {
    /// Largest article (text file or JSONL line) accepted, in bytes.
    pub max_article_bytes: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits { max_article_bytes: 10 * 1024 * 1024 }
    }
}

/// An input record that could not be read: its id (or `file:line` when none could be found),
/// provenance and reason.
pub type Failed = (String, Provenance, RecordError);

enum Current {
    None,
    Lines { reader: Box<dyn BufRead + Send>, file: String, line: usize },
}

/// Streams articles from expanded inputs, one at a time; bad records come out as `Err` and the
/// stream goes on.
pub struct InputReader {
    items: std::vec::IntoIter<InputItem>,
    current: Current,
    fields: FieldMap,
    limits: ReadLimits,
    stdin_used: bool,
}

impl InputReader {
    /// A reader over expanded inputs, with the field names and size limits to apply.
    pub fn new(items: Vec<InputItem>, fields: FieldMap, limits: ReadLimits) -> Self {
        InputReader {
            items: items.into_iter(),
            current: Current::None,
            fields,
            limits,
            stdin_used: false,
        }
    }

    fn open_next(&mut self) -> Option<std::result::Result<Article, Failed>> {
        loop {
            let item = self.items.next()?;
            match item {
                InputItem::Missing(p, why) => {
                    return Some(Err((
                        p.clone(),
                        Provenance { file: p.clone(), line: None },
                        RecordError::new("read", format!("{p}: {why}")),
                    )))
                }
                InputItem::Stdin => {
                    if self.stdin_used {
                        continue;
                    }
                    self.stdin_used = true;
                    let mut reader: Box<dyn BufRead + Send> =
                        Box::new(BufReader::new(std::io::stdin()));
                    // Sniff: JSONL when the first non-blank byte is '{'.
                    let first = match peek_first_nonblank(&mut reader) {
                        Ok(b) => b,
                        Err(e) => {
                            return Some(Err((
                                "-".into(),
                                prov("-", None),
                                RecordError::new("read", format!("stdin: {e}")),
                            )))
                        }
                    };
                    if first == Some(b'{') {
                        self.current = Current::Lines { reader, file: "-".into(), line: 0 };
                        return None;
                    }
                    let mut buf = Vec::new();
                    let lim = self.limits.max_article_bytes;
                    if let Err(e) = (&mut reader).take(lim as u64 + 1).read_to_end(&mut buf) {
                        return Some(Err((
                            "-".into(),
                            prov("-", None),
                            RecordError::new("read", format!("stdin: {e}")),
                        )));
                    }
                    // JSONL whose first line is broken: most lines are JSON objects. Read as
                    // JSONL, so that the broken line is reported and the others are kept.
                    if looks_like_jsonl(&buf) {
                        let rest = std::io::Cursor::new(buf).chain(reader);
                        self.current = Current::Lines {
                            reader: Box::new(BufReader::new(rest)),
                            file: "-".into(),
                            line: 0,
                        };
                        return None;
                    }
                    return Some(self.text_article(buf, "-", "stdin"));
                }
                InputItem::File(path) => {
                    let file = path.display().to_string();
                    if is_jsonl(&path) {
                        match open_maybe_gz(&path) {
                            Ok(mut reader) => {
                                // UTF-16 JSON Lines: one error record for the file, not one per line.
                                if let Some(kind) = reader.fill_buf().ok().and_then(utf16_kind) {
                                    return Some(Err((file.clone(), prov(&file, None), RecordError::new("utf16", format!("{file}: the file is {kind}, not UTF-8: convert it (iconv -f UTF-16 -t UTF-8)")))));
                                }
                                self.current = Current::Lines { reader, file, line: 0 };
                                return None;
                            }
                            Err(e) => {
                                return Some(Err((
                                    file.clone(),
                                    prov(&file, None),
                                    RecordError::new("read", format!("{file}: {e}")),
                                )))
                            }
                        }
                    }
                    let id = path.file_stem().and_then(|s| s.to_str()).unwrap_or(&file).to_string();
                    let size = match std::fs::metadata(&path) {
                        Ok(m) => m.len(),
                        Err(e) => {
                            return Some(Err((
                                id,
                                prov(&file, None),
                                RecordError::new("read", format!("{file}: {e}")),
                            )))
                        }
                    };
                    if size > self.limits.max_article_bytes as u64 {
                        return Some(Err((
                            id,
                            prov(&file, None),
                            too_large(&file, size as usize, self.limits.max_article_bytes),
                        )));
                    }
                    return Some(match std::fs::read(&path) {
                        Ok(buf) => self.text_article(buf, &file, &id),
                        Err(e) => Err((
                            id,
                            prov(&file, None),
                            RecordError::new("read", format!("{file}: {e}")),
                        )),
                    });
                }
            }
        }
    }

    fn text_article(
        &self,
        buf: Vec<u8>,
        file: &str,
        id: &str,
    ) -> std::result::Result<Article, Failed> {
        let p = prov(file, None);
        if buf.len() > self.limits.max_article_bytes {
            return Err((id.into(), p, too_large(file, buf.len(), self.limits.max_article_bytes)));
        }
        let buf = match utf16_kind(&buf) {
            // With a byte-order mark the encoding is certain: decoded.
            Some(kind) if kind.ends_with("byte-order mark)") => match decode_utf16_bom(&buf) {
                Some(t) => t.into_bytes(),
                None => return Err((id.into(), p, RecordError::new("utf16", format!("{file}: {kind} with invalid UTF-16 data")))),
            },
            Some(kind) => return Err((id.into(), p, RecordError::new("utf16", format!("{file}: the text looks like {kind}, not UTF-8: convert it (iconv -f UTF-16LE -t UTF-8)")))),
            None => buf,
        };
        let text = match String::from_utf8(buf) {
            Ok(t) => t,
            Err(e) => {
                let off = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..off].iter().filter(|&&b| b == b'\n').count() + 1;
                return Err((
                    id.into(),
                    p,
                    RecordError::new(
                        "utf8",
                        format!("{file}: invalid UTF-8 at byte {off} (line {line})"),
                    ),
                ));
            }
        };
        parse_structured(&text, id, p.clone(), true).map_err(|why| {
            (id.to_string(), p, RecordError::new("empty_article", format!("{file}: {why}")))
        })
    }

    fn next_line(&mut self) -> Option<std::result::Result<Article, Failed>> {
        let Current::Lines { reader, file, line } = &mut self.current else { return None };
        let lim = self.limits.max_article_bytes;
        loop {
            let mut buf = Vec::new();
            *line += 1;
            let lineno = *line;
            match read_line_limited(reader.as_mut(), &mut buf, lim) {
                Ok(None) => {
                    self.current = Current::None;
                    return None;
                }
                Ok(Some(total)) => {
                    if total > lim {
                        let id = format!("{file}:{lineno}");
                        let id = sniff_id(&buf).unwrap_or(id);
                        return Some(Err((
                            id,
                            prov(file, Some(lineno)),
                            too_large(&format!("{file}:{lineno}"), total, lim),
                        )));
                    }
                    if buf.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    let file = file.clone();
                    return Some(parse_json_line(&buf, &file, lineno, &self.fields));
                }
                Err(e) => {
                    let f = file.clone();
                    self.current = Current::None;
                    return Some(Err((
                        format!("{f}:{lineno}"),
                        prov(&f, Some(lineno)),
                        RecordError::new("read", format!("{f}:{lineno}: {e}")),
                    )));
                }
            }
        }
    }
}

impl Iterator for InputReader {
    type Item = std::result::Result<Article, Failed>;
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Current::Lines { .. } = self.current {
                if let Some(r) = self.next_line() {
                    return Some(r);
                }
                continue;
            }
            if let Some(r) = self.open_next() {
                return Some(r);
            }
            if let Current::None = self.current {
                // open_next returned None with nothing opened: inputs exhausted (or stdin reused).
                if self.items.len() == 0 {
                    return None;
                }
            }
        }
    }
}

/// UTF-16 text: `UTF-16LE (byte-order mark)` / `UTF-16BE (byte-order mark)` by its BOM, or
/// `UTF-16LE` / `UTF-16BE` when most of the first bytes' odd (even) positions are NUL.
fn utf16_kind(head: &[u8]) -> Option<&'static str> {
    match head {
        [0xFF, 0xFE, ..] => return Some("UTF-16LE (byte-order mark)"),
        [0xFE, 0xFF, ..] => return Some("UTF-16BE (byte-order mark)"),
        _ => {}
    }
    let h = &head[..head.len().min(512)];
    if h.len() < 4 {
        return None;
    }
    let zeros = |start: usize| h.iter().skip(start).step_by(2).filter(|&&b| b == 0).count();
    let (even, odd, half) = (zeros(0), zeros(1), h.len() / 2);
    if odd * 5 >= half * 2 && even * 10 < half {
        Some("UTF-16LE")
    } else if even * 5 >= half * 2 && odd * 10 < half {
        Some("UTF-16BE")
    } else {
        None
    }
}

/// Decodes UTF-16 with a byte-order mark; None when the data is not valid UTF-16.
fn decode_utf16_bom(buf: &[u8]) -> Option<String> {
    let le = buf.first() == Some(&0xFF);
    let units: Vec<u16> = buf[2..]
        .chunks(2)
        .map(|c| {
            if c.len() == 2 {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            } else {
                0xFFFF
            }
        })
        .collect();
    if !buf.len().is_multiple_of(2) {
        return None;
    }
    String::from_utf16(&units).ok()
}

fn prov(file: &str, line: Option<usize>) -> Provenance {
    Provenance { file: file.to_string(), line }
}

fn too_large(place: &str, size: usize, lim: usize) -> RecordError {
    RecordError::new(
        "too_large",
        format!("{place}: article is {size} bytes, over the limit of {lim} bytes (raise it with --max-article-bytes); the record was skipped"),
    )
}

fn open_maybe_gz(path: &Path) -> std::io::Result<Box<dyn BufRead + Send>> {
    let f = File::open(path)?;
    if path.extension().and_then(|e| e.to_str()) == Some("gz") {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(f))))
    } else {
        Ok(Box::new(BufReader::with_capacity(1 << 16, f)))
    }
}

fn peek_first_nonblank(r: &mut Box<dyn BufRead + Send>) -> std::io::Result<Option<u8>> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        // Skip a UTF-8 BOM and whitespace.
        let mut i = 0;
        while i < buf.len()
            && (buf[i].is_ascii_whitespace() || buf[i] == 0xEF || buf[i] == 0xBB || buf[i] == 0xBF)
        {
            i += 1;
        }
        if i < buf.len() {
            return Ok(Some(buf[i]));
        }
        let n = buf.len();
        // Whitespace only in this chunk: a text document (keep its bytes, they are harmless).
        if n > 0 {
            return Ok(Some(b' '));
        }
    }
}

/// Reads one line; stores at most `lim + 1` bytes but reports the full length, so a huge line
/// is measured without being held in memory.
fn read_line_limited(
    r: &mut dyn BufRead,
    out: &mut Vec<u8>,
    lim: usize,
) -> std::io::Result<Option<usize>> {
    let mut total = 0usize;
    let mut any = false;
    loop {
        let (done, used) = {
            let buf = r.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            any = true;
            match buf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    let keep = (lim + 1).saturating_sub(out.len()).min(i);
                    out.extend_from_slice(&buf[..keep]);
                    total += i;
                    (true, i + 1)
                }
                None => {
                    let keep = (lim + 1).saturating_sub(out.len()).min(buf.len());
                    out.extend_from_slice(&buf[..keep]);
                    total += buf.len();
                    (false, buf.len())
                }
            }
        };
        r.consume(used);
        if done {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if out.last() == Some(&b'\r') {
        out.pop();
        total -= 1;
    }
    Ok(Some(total))
}

/// Best-effort id of a line that cannot be parsed, for a readable error record.
fn sniff_id(buf: &[u8]) -> Option<String> {
    let s = String::from_utf8_lossy(&buf[..buf.len().min(4096)]);
    let re = regex::Regex::new(r#""id"\s*:\s*"([^"\\]{1,200})""#).ok()?;
    re.captures(&s).map(|c| c[1].to_string())
}

fn parse_json_line(
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

/// Reads every article of the inputs at once (small inputs and tests).
pub fn read_all(
    inputs: &[String],
    fields: &FieldMap,
    limits: ReadLimits,
) -> Result<Vec<std::result::Result<Article, Failed>>> {
    let items = expand_inputs(inputs);
    if items.is_empty() {
        return Err(Error::input("no inputs given"));
    }
    Ok(InputReader::new(items, fields.clone(), limits).collect())
}

/// Whether text read from stdin is JSON Lines after all: at least two non-blank lines, and most
/// of them JSON objects (`{...}`). A structured article has prose lines.
fn looks_like_jsonl(buf: &[u8]) -> bool {
    let lines: Vec<&[u8]> =
        buf.split(|&b| b == b'\n').map(|l| l.trim_ascii()).filter(|l| !l.is_empty()).collect();
    let objects = lines.iter().filter(|l| l.starts_with(b"{") && l.ends_with(b"}")).count();
    lines.len() >= 2 && objects * 2 > lines.len()
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
