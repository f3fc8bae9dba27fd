//! Records in and out. [`RecordSink`] is where an evaluation's records go (a JSONL file that can
//! be resumed, stdout or any writer, a `Vec`, a callback); [`RecordReader`] reads a results file
//! back (merge, compare, meta-eval, reports and resume all read through it).
use crate::error::{Error, Result};
use crate::record::Record;
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// A record's resume/merge key: (id, system name or "").
pub type RecordKey = (String, String);

/// Where records go, in input order. A sink receives a batch at a time; a JSONL sink writes each
/// batch as whole lines in one call, so a killed run leaves at most one torn line.
pub trait RecordSink: Send {
    /// Takes the next records.
    fn write(&mut self, records: &[Record]) -> Result<()>;
    /// Keys of the records the sink already held before this run (a resumed results file):
    /// the run skips them.
    fn done(&self) -> HashSet<RecordKey> {
        HashSet::new()
    }
    /// Calls `f` with every record the sink held before this run, so that they count in the
    /// aggregate.
    fn replay(&mut self, _f: &mut dyn FnMut(&Record)) -> Result<()> {
        Ok(())
    }
}

/// Keeps the records in memory.
impl RecordSink for Vec<Record> {
    fn write(&mut self, records: &[Record]) -> Result<()> {
        self.extend_from_slice(records);
        Ok(())
    }
}

/// Hands each record to a function (which may fail and so stop the run).
pub struct CallbackSink<F>(pub F);

impl<F: FnMut(&Record) -> Result<()> + Send> RecordSink for CallbackSink<F> {
    fn write(&mut self, records: &[Record]) -> Result<()> {
        records.iter().try_for_each(&mut self.0)
    }
}

/// Writes JSONL records to any writer (stdout, a pipe, a buffer); flushed after every batch.
pub struct JsonlSink<W: Write + Send> {
    out: W,
    name: PathBuf,
}

impl<W: Write + Send> JsonlSink<W> {
    /// A sink writing to `out`; `name` names it in I/O errors.
    pub fn new(out: W, name: impl Into<PathBuf>) -> Self {
        JsonlSink { out, name: name.into() }
    }
}

impl JsonlSink<BufWriter<std::io::Stdout>> {
    /// JSONL records on standard output.
    pub fn stdout() -> Self {
        JsonlSink::new(BufWriter::new(std::io::stdout()), "<stdout>")
    }
}

/// Serializes records as JSONL lines into one buffer.
fn jsonl(records: &[Record]) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(records.len() * 2048);
    for r in records {
        serde_json::to_writer(&mut buf, r)
            .map_err(|e| Error::Json { context: format!("record '{}'", r.id), source: e })?;
        buf.push(b'\n');
    }
    Ok(buf)
}

impl<W: Write + Send> RecordSink for JsonlSink<W> {
    fn write(&mut self, records: &[Record]) -> Result<()> {
        let buf = jsonl(records)?;
        self.out.write_all(&buf).map_err(|e| Error::io(&self.name, e))?;
        self.out.flush().map_err(|e| Error::io(&self.name, e))
    }
}

/// A JSONL results file. Created afresh, or resumed: its complete records are kept (the run
/// skips their keys and they count in the aggregate) and a torn last line from a killed run is
/// cut off; a record with another signature, or a line that is no record, is an error and the
/// file is left as it is.
pub struct ResultsFile {
    out: Box<dyn Write + Send>,
    path: PathBuf,
    done: HashSet<RecordKey>,
    /// Length of the kept part of a resumed file (the records replayed).
    kept: u64,
}

impl ResultsFile {
    /// Creates (or empties) `path`, and its folder when missing.
    pub fn create(path: &Path) -> Result<Self> {
        create_parent(path)?;
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(ResultsFile {
            out: Box::new(BufWriter::with_capacity(1 << 20, f)),
            path: path.to_path_buf(),
            done: HashSet::new(),
            kept: 0,
        })
    }

    /// Opens `path` to continue a run with `signature`: see the type's documentation. A missing
    /// file is created.
    pub fn resume(path: &Path, signature: &str) -> Result<Self> {
        if !path.exists() {
            return Self::create(path);
        }
        let mut done = HashSet::new();
        let mut good_end: u64 = 0;
        for item in RecordReader::open(path)? {
            let rec = match item {
                Ok(rec) => rec,
                Err(Error::Json { context, source }) => {
                    return Err(Error::input(format!(
                        "{context}: --resume: not a kpeval record ({source}); the file is left as it is: fix or remove that line, or use another --output"
                    )))
                }
                Err(e) => return Err(e),
            };
            if !rec.newline {
                break; // a last line without its newline is torn: cut off below
            }
            if rec.record.signature != signature {
                return Err(Error::config(format!(
                    "{}:{}: --resume: this file was written with another configuration\n  file:    {}\n  current: {signature}\nuse another --output or the same settings",
                    path.display(),
                    rec.line,
                    rec.record.signature
                )));
            }
            done.insert(rec.record.key());
            good_end = rec.end;
        }
        // A file that holds no whole record is not one kpeval wrote (or only a torn first
        // line of one): cutting it could destroy somebody's file, so it is left as it is.
        if done.is_empty()
            && std::fs::read(path)
                .map_err(|e| Error::io(path, e))?
                .iter()
                .any(|b| !b.is_ascii_whitespace())
        {
            return Err(Error::input(format!(
                "{}: --resume: the file holds no whole kpeval record, so it was not written by kpeval (or only a torn first line was); it is left as it is: remove it or use another --output",
                path.display()
            )));
        }
        let mut f = OpenOptions::new().write(true).open(path).map_err(|e| Error::io(path, e))?;
        f.set_len(good_end).map_err(|e| Error::io(path, e))?;
        f.seek(SeekFrom::End(0)).map_err(|e| Error::io(path, e))?;
        Ok(ResultsFile { out: Box::new(f), path: path.to_path_buf(), done, kept: good_end })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn create_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

impl RecordSink for ResultsFile {
    fn write(&mut self, records: &[Record]) -> Result<()> {
        let buf = jsonl(records)?;
        self.out.write_all(&buf).map_err(|e| Error::io(&self.path, e))?;
        self.out.flush().map_err(|e| Error::io(&self.path, e))
    }

    fn done(&self) -> HashSet<RecordKey> {
        self.done.clone()
    }

    fn replay(&mut self, f: &mut dyn FnMut(&Record)) -> Result<()> {
        if self.kept == 0 {
            return Ok(());
        }
        for item in RecordReader::open(&self.path)? {
            let rec = item?;
            if rec.end > self.kept {
                break;
            }
            f(&rec.record);
        }
        Ok(())
    }
}

/// One record read from a results file.
#[derive(Debug, Clone)]
pub struct ReadRecord {
    /// The record.
    pub record: Record,
    /// Its line as written (without the newline).
    pub text: String,
    /// Its 1-based line number.
    pub line: usize,
    /// Byte offset just after the line (newline included).
    pub end: u64,
    /// Whether the line ended with a newline (the file's last line may not).
    pub newline: bool,
}

/// One non-blank line of a results file, unparsed.
#[derive(Debug, Clone)]
pub struct RawLine {
    /// The line's bytes, without the newline.
    pub bytes: Vec<u8>,
    /// Its 1-based line number.
    pub line: usize,
    /// Byte offset just after the line (newline included).
    pub end: u64,
    /// Whether the line ended with a newline.
    pub newline: bool,
}

/// Reads the records of a JSONL results file one at a time, with line numbers. Blank lines are
/// skipped. A last line without its newline that does not parse is a torn write of a killed run
/// (records are written as whole lines): it ends the iteration and [`RecordReader::torn`]
/// describes it. Any other line that does not parse is an error naming the file and line, after
/// which the iteration ends.
pub struct RecordReader {
    name: String,
    inner: Box<dyn BufRead + Send>,
    line: usize,
    pos: u64,
    torn: Option<String>,
    finished: bool,
}

impl RecordReader {
    /// Opens a results file.
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(|e| Error::io(path, e))?;
        Ok(Self::from_reader(path.display().to_string(), BufReader::new(f)))
    }

    /// Reads records from any buffered reader; `name` names it in errors.
    pub fn from_reader(name: impl Into<String>, reader: impl BufRead + Send + 'static) -> Self {
        RecordReader {
            name: name.into(),
            inner: Box::new(reader),
            line: 0,
            pos: 0,
            torn: None,
            finished: false,
        }
    }

    /// The torn last line that ended the iteration, if any (`file:line: torn last line (error)`).
    pub fn torn(&self) -> Option<&str> {
        self.torn.as_deref()
    }

    /// The next non-blank line as written, without parsing it (for readers that look at a
    /// few fields of many records); `None` at the end.
    pub fn next_raw(&mut self) -> Option<Result<RawLine>> {
        loop {
            let (mut buf, end) = match self.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => return None,
                Err(e) => return Some(Err(e)),
            };
            self.line += 1;
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let newline = buf.last() == Some(&b'\n');
            if newline {
                buf.pop();
            }
            return Some(Ok(RawLine { bytes: buf, line: self.line, end, newline }));
        }
    }

    /// Where a line is, for error messages: `file:line`.
    pub fn place(&self, line: usize) -> String {
        format!("{}:{line}", self.name)
    }

    fn next_line(&mut self) -> Result<Option<(Vec<u8>, u64)>> {
        let mut buf = Vec::new();
        let n = self.inner.read_until(b'\n', &mut buf).map_err(|e| Error::io(&self.name, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.pos += n as u64;
        Ok(Some((buf, self.pos)))
    }
}

impl Iterator for RecordReader {
    type Item = Result<ReadRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        let RawLine { bytes: buf, line, end, newline } = match self.next_raw() {
            Some(Ok(l)) => l,
            None => {
                self.finished = true;
                return None;
            }
            Some(Err(e)) => {
                self.finished = true;
                return Some(Err(e));
            }
        };
        let parsed = serde_json::from_slice::<Record>(&buf);
        let text = String::from_utf8_lossy(&buf).into_owned();
        match parsed {
            Ok(record) => Some(Ok(ReadRecord { record, text, line, end, newline })),
            Err(e) => {
                self.finished = true;
                // only the file's last line can lack its newline
                if !newline {
                    self.torn = Some(format!("{}:{line}: torn last line skipped ({e})", self.name));
                    None
                } else {
                    Some(Err(Error::Json { context: format!("{}:{line}", self.name), source: e }))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Provenance;
    use crate::error::RecordError;

    fn record(id: &str, sig: &str) -> Record {
        Record::failed(
            id.to_string(),
            Provenance { file: "in.jsonl".into(), line: Some(1) },
            RecordError::new("json", "broken"),
            sig,
        )
    }

    #[test]
    fn reader_numbers_lines_skips_blanks_and_stops_at_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.jsonl");
        let a = serde_json::to_string(&record("a", "kpeval:x")).unwrap();
        let b = serde_json::to_string(&record("b", "kpeval:x")).unwrap();
        std::fs::write(&p, format!("{a}\n\n{b}\n{}", &a[..20])).unwrap();
        let mut reader = RecordReader::open(&p).unwrap();
        let got: Vec<ReadRecord> = reader.by_ref().map(|r| r.unwrap()).collect();
        assert_eq!(
            got.iter().map(|r| (r.record.id.as_str(), r.line)).collect::<Vec<_>>(),
            [("a", 1), ("b", 3)]
        );
        assert_eq!(got[1].end as usize, a.len() + 2 + b.len() + 1);
        assert!(
            reader.torn().unwrap().contains("r.jsonl:4: torn last line"),
            "{:?}",
            reader.torn()
        );
        // a broken line that is not the last is an error naming the file and line
        std::fs::write(&p, format!("{}\n{b}\n", &a[..20])).unwrap();
        let e = RecordReader::open(&p).unwrap().next().unwrap().unwrap_err().to_string();
        assert!(e.contains("r.jsonl:1"), "{e}");
    }

    #[test]
    fn resumed_file_skips_its_keys_replays_its_records_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out/r.jsonl");
        let mut f = ResultsFile::create(&p).unwrap();
        f.write(&[record("a", "kpeval:x"), record("b", "kpeval:x")]).unwrap();
        drop(f);
        // a killed run's torn line is cut off
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.extend_from_slice(b"{\"id\":\"c\",\"sour");
        std::fs::write(&p, bytes).unwrap();
        let mut f = ResultsFile::resume(&p, "kpeval:x").unwrap();
        let keys = f.done();
        assert!(keys.contains(&("a".into(), String::new())) && keys.len() == 2);
        let mut seen = Vec::new();
        f.replay(&mut |r| seen.push(r.id.clone())).unwrap();
        assert_eq!(seen, ["a", "b"]);
        f.write(&[record("c", "kpeval:x")]).unwrap();
        drop(f);
        let ids: Vec<String> =
            RecordReader::open(&p).unwrap().map(|r| r.unwrap().record.id).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        // another configuration is refused and the file is left as it is
        let before = std::fs::read(&p).unwrap();
        assert!(ResultsFile::resume(&p, "kpeval:y").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), before);
    }

    #[test]
    fn in_memory_and_callback_sinks_receive_every_record_in_order() {
        let mut v: Vec<Record> = Vec::new();
        v.write(&[record("a", "s"), record("b", "s")]).unwrap();
        assert_eq!(v.len(), 2);
        let mut ids = Vec::new();
        let mut cb = CallbackSink(|r: &Record| {
            ids.push(r.id.clone());
            Ok(())
        });
        cb.write(&v).unwrap();
        assert_eq!(ids, ["a", "b"]);
        let mut buf = JsonlSink::new(Vec::new(), "<memory>");
        buf.write(&v).unwrap();
        assert_eq!(String::from_utf8(buf.out).unwrap().lines().count(), 2);
    }
}
