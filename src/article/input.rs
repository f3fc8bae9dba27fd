//! The streaming record reader: text files, JSONL (`.jsonl.gz` decompressed) and stdin, with
//! size limits and readable error records.
use super::expand::{expand_inputs, is_jsonl, InputItem};
use super::json::{parse_json_line, prov, sniff_id, Failed, FieldMap};
use super::structured::parse_structured;
use super::{Article, Provenance};
use crate::error::{Error, RecordError, Result};
use flate2::read::MultiGzDecoder;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

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
