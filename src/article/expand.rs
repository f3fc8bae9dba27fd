//! Input expansion: positional inputs (files, directories walked once per (device, inode),
//! globs, `-` for stdin) made into the list of [`InputItem`]s to read.
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

pub(super) fn is_jsonl(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.ends_with(".jsonl")
        || name.ends_with(".json")
        || name.ends_with(".jsonl.gz")
        || name.ends_with(".ndjson")
}
