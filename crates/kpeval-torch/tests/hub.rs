//! Hub downloads end to end, against a local stand-in for the hub: a small HTTP server on
//! 127.0.0.1 (started by each test, std only) serving tests/fixtures/hub/ in the hub's URL layout
//! (`/<repo>/resolve/<revision>/<file>`, at `main` and at a commit), with the headers the
//! download cache relies on (ETag, X-Repo-Commit; weights redirected like the hub's LFS files;
//! 404 with X-Error-Code), and `HF_ENDPOINT` pointing the `kpeval-torch` binary at it.
//!
//! Every preset of models/presets.toml is downloaded, cached, loaded and run with its own
//! generation settings (the stderr log line says which files came from where and which settings
//! were used); then the cache's behaviour: a second run downloads nothing, `--offline` (warm and
//! cold), a 404, a stalled server, a download cut mid-body, two first runs at once, a commit
//! revision; and an NLI and a sentence-transformers model by hub id. Each test has its own
//! download cache (`RUSTBERT_CACHE`) and kpeval cache in a temporary folder.
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The commit every fixture repository is also served at.
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// What the server does with a request.
#[derive(Clone, Debug, PartialEq)]
enum Mode {
    /// Answers like the hub.
    Normal,
    /// Reads the request and never answers (the connection stays open).
    Stall,
    /// Files whose name ends with this: sends the headers and half the body, then closes.
    CutBody(String),
    /// Reads the request and closes the connection without an answer.
    Hangup,
}

struct Hub {
    port: u16,
    /// (method, path) of every request, in order.
    log: Arc<Mutex<Vec<(String, String)>>>,
    mode: Arc<Mutex<Mode>>,
}

impl Hub {
    /// Serves each (hub id, folder) pair, at `main` and at [`COMMIT`].
    fn start(repos: Vec<(&str, PathBuf)>) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let mode = Arc::new(Mutex::new(Mode::Normal));
        let repos: Arc<Vec<(String, PathBuf)>> =
            Arc::new(repos.into_iter().map(|(i, p)| (i.to_string(), p)).collect());
        let (l2, m2) = (log.clone(), mode.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, mode, repos) = (l2.clone(), m2.clone(), repos.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &repos, &log, &mode);
                });
            }
        });
        Hub { port, log, mode }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn set_mode(&self, m: Mode) {
        *self.mode.lock().unwrap() = m;
    }

    /// Requests since the last call.
    fn take(&self) -> Vec<(String, String)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn is_lfs(file: &str) -> bool {
    [".ot", ".safetensors", ".bin"].iter().any(|e| file.ends_with(e))
}

fn serve(
    stream: TcpStream,
    repos: &[(String, PathBuf)],
    log: &Mutex<Vec<(String, String)>>,
    mode: &Mutex<Mode>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" || h == "\n" {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let path = parts.next().unwrap_or("").to_string();
    log.lock().unwrap().push((method.clone(), path.clone()));
    let mode = mode.lock().unwrap().clone();
    let mut out = stream;
    if mode == Mode::Stall {
        std::thread::sleep(Duration::from_secs(60));
        return Ok(());
    }
    if mode == Mode::Hangup {
        return out.shutdown(std::net::Shutdown::Both);
    }
    let respond = |out: &mut TcpStream, status: &str, headers: &[(String, String)], body: &[u8]| {
        let mut head = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        out.write_all(head.as_bytes())?;
        if method != "HEAD" {
            out.write_all(body)?;
        }
        out.flush()
    };
    let not_found = |out: &mut TcpStream, code: &str| {
        respond(
            out,
            "404 Not Found",
            &[("X-Error-Code".into(), code.into())],
            format!("{code}: {path}").as_bytes(),
        )
    };
    // The hub's LFS files are redirected to a content-addressed store (`/cdn/<sha256>/<repo
    // folder index>/<file>` here), which answers with the content's ETag.
    if let Some(rest) = path.strip_prefix("/cdn/") {
        let mut it = rest.splitn(3, '/');
        let (_sha, idx, file) = (it.next(), it.next(), it.next());
        let Some((_, dir)) = idx.and_then(|i| i.parse::<usize>().ok()).and_then(|i| repos.get(i))
        else {
            return not_found(&mut out, "EntryNotFound");
        };
        let body = std::fs::read(dir.join(file.unwrap_or(""))).unwrap_or_default();
        return send_file(
            &mut out,
            &method,
            &body,
            &format!("\"{}\"", sha256_hex(&body)),
            &mode,
            file.unwrap_or(""),
        );
    }
    let Some((idx, (id, dir))) =
        repos.iter().enumerate().find(|(_, (id, _))| path.starts_with(&format!("/{id}/resolve/")))
    else {
        return not_found(&mut out, "RepoNotFound");
    };
    let rest = &path[format!("/{id}/resolve/").len()..];
    let Some((revision, file)) = rest.split_once('/') else {
        return not_found(&mut out, "EntryNotFound");
    };
    if revision != "main" && revision != COMMIT {
        return not_found(&mut out, "RevisionNotFound");
    }
    let p = dir.join(file);
    if file.contains("..") || !p.is_file() {
        return not_found(&mut out, "EntryNotFound");
    }
    let body = std::fs::read(&p)?;
    let commit = ("X-Repo-Commit".to_string(), COMMIT.to_string());
    if is_lfs(file) {
        let sha = sha256_hex(&body);
        return respond(
            &mut out,
            "302 Found",
            &[
                commit,
                ("Location".into(), format!("/cdn/{sha}/{idx}/{file}")),
                ("X-Linked-Etag".into(), format!("\"{sha}\"")),
                ("X-Linked-Size".into(), body.len().to_string()),
                ("ETag".into(), format!("\"{}\"", &sha256_hex(sha.as_bytes())[..40])),
            ],
            b"",
        );
    }
    // Regular files: a git blob id-like ETag.
    let etag = format!("\"{}\"", &sha256_hex(&body)[..40]);
    out.write_all(
        format!("HTTP/1.1 200 OK\r\nConnection: close\r\nX-Repo-Commit: {COMMIT}\r\n").as_bytes(),
    )?;
    send_file_rest(&mut out, &method, &body, &etag, &mode, file)
}

fn send_file(
    out: &mut TcpStream,
    method: &str,
    body: &[u8],
    etag: &str,
    mode: &Mode,
    file: &str,
) -> std::io::Result<()> {
    out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n")?;
    send_file_rest(out, method, body, etag, mode, file)
}

fn send_file_rest(
    out: &mut TcpStream,
    method: &str,
    body: &[u8],
    etag: &str,
    mode: &Mode,
    file: &str,
) -> std::io::Result<()> {
    out.write_all(format!("ETag: {etag}\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes())?;
    if method == "HEAD" {
        return out.flush();
    }
    match mode {
        Mode::CutBody(suffix) if file.ends_with(suffix.as_str()) => {
            out.write_all(&body[..body.len() / 2])?;
            out.flush()?;
            // Close mid-body (the client was promised Content-Length bytes).
            let _ = out.shutdown(std::net::Shutdown::Both);
            Ok(())
        }
        _ => {
            out.write_all(body)?;
            out.flush()
        }
    }
}

/// The seven presets' fixture repositories.
fn preset_repos() -> Vec<(&'static str, PathBuf)> {
    [
        "sshleifer/distilbart-cnn-12-6",
        "facebook/bart-large-cnn",
        "google/pegasus-cnn_dailymail",
        "google-t5/t5-small",
        "google-t5/t5-base",
        "google/flan-t5-base",
        "pszemraj/long-t5-tglobal-base-16384-book-summary",
    ]
    .into_iter()
    .map(|id| (id, root().join("tests/fixtures/hub").join(id)))
    .collect()
}

/// A temporary home for one test: its download cache, kpeval cache and input.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("articles.jsonl");
        let recs = [
            serde_json::json!({"id": "a", "article": "The council approved the new budget on Monday after a long debate. Officials said the plan raises spending on schools and roads. Critics warned that taxes would rise next year.", "key_points": ["The council approved the budget."]}),
            serde_json::json!({"id": "b", "article": "Heavy rain flooded several streets in the city overnight. Emergency crews rescued dozens of residents. The weather service expects more storms this week.", "key_points": ["Rain flooded the city."]}),
        ];
        std::fs::write(&input, recs.iter().map(|r| format!("{r}\n")).collect::<String>()).unwrap();
        Env { dir }
    }
    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }
    fn cache(&self) -> PathBuf {
        self.path("rustbert-cache")
    }
    /// `kpeval-torch` with this test's caches and the hub at `endpoint`.
    fn cmd(&self, endpoint: &str) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kpeval-torch"));
        c.env("HF_ENDPOINT", endpoint)
            .env("RUSTBERT_CACHE", self.cache())
            .env("KPEVAL_CACHE", self.path("kpeval-cache"))
            .env("KPEVAL_HUB_TIMEOUT", "20")
            .env_remove("KPEVAL_OFFLINE")
            .env_remove("HF_HUB_OFFLINE")
            // The server is local: no proxy in between.
            .env("NO_PROXY", "127.0.0.1")
            .env("no_proxy", "127.0.0.1");
        for v in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            c.env_remove(v);
        }
        c
    }
    /// `summarize` of the two articles with `model`; extra flags after.
    fn summarize(&self, endpoint: &str, model: &str, out: &str, extra: &[&str]) -> Output {
        self.cmd(endpoint)
            .args(["summarize", self.path("articles.jsonl").to_str().unwrap(), "--model", model])
            .args(["--model-threads", "1", "--no-cache", "-o", self.path(out).to_str().unwrap()])
            .args(extra)
            .output()
            .unwrap()
    }
    fn records(&self, out: &str) -> Vec<Value> {
        std::fs::read_to_string(self.path(out))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
    /// The files in the download cache (not the snapshot folders' links).
    fn cached_files(&self) -> Vec<PathBuf> {
        fn walk(d: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
                let p = e.path();
                // The snapshot folders' links name the cached files; count the files once.
                if e.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
                    continue;
                }
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
        let mut v = Vec::new();
        walk(&self.cache(), &mut v);
        v.sort();
        v
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// The `kpeval: model …` log line of a run.
fn model_line(o: &Output) -> String {
    stderr(o)
        .lines()
        .find(|l| l.starts_with("kpeval: model "))
        .unwrap_or_else(|| panic!("no model line in:\n{}", stderr(o)))
        .to_string()
}

fn gets(reqs: &[(String, String)]) -> Vec<String> {
    reqs.iter().filter(|(m, _)| m == "GET").map(|(_, p)| p.clone()).collect()
}

/// Runs one preset through the hub: downloaded, cached, loaded, generated with the preset's own
/// settings; returns the first run's log line (printed for the closing note).
fn preset_first_run(preset: &str, hub_id: &str, expect: &[&str], files: &[&str]) {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let t0 = Instant::now();
    let o = env.summarize(&hub.endpoint(), preset, "out.jsonl", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = model_line(&o);
    eprintln!("{preset} first run ({:.1} s): {line}", t0.elapsed().as_secs_f64());
    assert!(
        line.starts_with(&format!("kpeval: model {preset}: hub: {hub_id}@main: downloaded ")),
        "{line}"
    );
    assert!(line.contains(&format!("from {} into ", hub.endpoint())), "{line}");
    for f in files {
        assert!(line.contains(f), "{f} downloaded: {line}");
    }
    for e in expect {
        assert!(line.contains(e), "{e}: {line}");
    }
    let reqs = hub.take();
    for f in files {
        assert!(
            gets(&reqs).iter().any(|p| p == &format!("/{hub_id}/resolve/main/{f}")),
            "{f} fetched: {reqs:?}"
        );
    }
    let recs = env.records("out.jsonl");
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert!(r["error"].is_null(), "{r}");
        assert!(!r["summary"]["text"].as_str().unwrap_or("").trim().is_empty(), "{r}");
        let sig = r["signature"].as_str().unwrap();
        assert!(sig.contains(&format!("{preset}@main+files:")), "{sig}");
    }
    eprintln!("{preset} record signature: {}", recs[0]["signature"].as_str().unwrap());
}

#[test]
fn preset_distilbart_cnn_12_6() {
    // distilbart's config.json: the legacy force_bos_token_to_be_generated (-> forced BOS 0),
    // BartConfig's default forced EOS 2, generation settings under task_specific_params; no
    // generation_config.json (a 404, taken as absent).
    preset_first_run(
        "distilbart-cnn-12-6",
        "sshleifer/distilbart-cnn-12-6",
        &["generation: num_beams=4 min_length=56 max_length=142 no_repeat_ngram_size=3 length_penalty=2 early_stopping=true repetition_penalty=1 encoder_no_repeat_ngram_size=0 do_sample=false forced_bos_token_id=0 forced_eos_token_id=2 prefix=\"\" max_input_tokens=1024"],
        &["config.json", "tokenizer_config.json", "vocab.json", "merges.txt", "rust_model.ot"],
    );
}

#[test]
fn preset_bart_large_cnn() {
    preset_first_run(
        "bart-large-cnn",
        "facebook/bart-large-cnn",
        &["generation: num_beams=4 min_length=56 max_length=142 no_repeat_ngram_size=3 length_penalty=2 early_stopping=true repetition_penalty=1 encoder_no_repeat_ngram_size=0 do_sample=false forced_bos_token_id=0 forced_eos_token_id=2 prefix=\"\" max_input_tokens=1024"],
        &["config.json", "generation_config.json", "vocab.json", "merges.txt", "rust_model.ot"],
    );
}

#[test]
fn preset_pegasus_cnn_dailymail() {
    preset_first_run(
        "pegasus-cnn_dailymail",
        "google/pegasus-cnn_dailymail",
        &["generation: num_beams=8 min_length=32 max_length=128 no_repeat_ngram_size=0 length_penalty=0.8 early_stopping=false repetition_penalty=1 encoder_no_repeat_ngram_size=0 do_sample=false forced_bos_token_id=none forced_eos_token_id=1 prefix=\"\" max_input_tokens=1024"],
        &["config.json", "tokenizer_config.json", "spiece.model", "rust_model.ot"],
    );
}

#[test]
fn preset_t5_small() {
    preset_first_run(
        "t5-small",
        "google-t5/t5-small",
        &["generation: num_beams=4 min_length=30 max_length=200 no_repeat_ngram_size=3 length_penalty=2 early_stopping=true repetition_penalty=1 encoder_no_repeat_ngram_size=0 do_sample=false forced_bos_token_id=none forced_eos_token_id=none prefix=\"summarize: \" max_input_tokens=512"],
        &["config.json", "generation_config.json", "spiece.model", "rust_model.ot"],
    );
}

#[test]
fn preset_t5_base() {
    preset_first_run(
        "t5-base",
        "google-t5/t5-base",
        &["generation: num_beams=4 min_length=30 max_length=200 no_repeat_ngram_size=3 length_penalty=2 early_stopping=true repetition_penalty=1 encoder_no_repeat_ngram_size=0 do_sample=false forced_bos_token_id=none forced_eos_token_id=none prefix=\"summarize: \" max_input_tokens=512"],
        &["config.json", "generation_config.json", "spiece.model", "rust_model.ot"],
    );
}

#[test]
fn preset_flan_t5_base() {
    preset_first_run(
        "flan-t5-base",
        "google/flan-t5-base",
        &["generation: num_beams=4 min_length=30 max_length=200 no_repeat_ngram_size=3 length_penalty=2 early_stopping=true repetition_penalty=1 encoder_no_repeat_ngram_size=0 do_sample=false forced_bos_token_id=none forced_eos_token_id=none prefix=\"summarize: \" max_input_tokens=512"],
        &["config.json", "generation_config.json", "tokenizer_config.json", "spiece.model", "model.safetensors"],
    );
}

#[test]
fn preset_long_t5_tglobal_base_16384_book_summary() {
    // the model's own generation settings (its config.json), penalties included
    preset_first_run(
        "long-t5-tglobal-base-16384-book-summary",
        "pszemraj/long-t5-tglobal-base-16384-book-summary",
        &["generation: num_beams=2 min_length=8 max_length=512 no_repeat_ngram_size=3 length_penalty=0.8 early_stopping=true repetition_penalty=3.5 encoder_no_repeat_ngram_size=4 do_sample=false forced_bos_token_id=none forced_eos_token_id=none prefix=\"\" max_input_tokens=16384"],
        &["config.json", "generation_config.json", "tokenizer_config.json", "spiece.model", "rust_model.ot"],
    );
}

/// A second run downloads nothing (it asks the server for ETags only); `--offline` with the
/// warm cache makes no request at all and gives the same summaries; a commit revision is served,
/// and once cached it is used without asking the server.
#[test]
fn second_run_and_offline_use_the_cache() {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let ep = hub.endpoint();
    let extra = ["--max-length", "20", "--min-length", "0"];
    let o = env.summarize(&ep, "distilbart-cnn-12-6", "first.jsonl", &extra);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let first = hub.take();
    assert!(!gets(&first).is_empty());
    let files_after_first = env.cached_files();

    let o = env.summarize(&ep, "distilbart-cnn-12-6", "second.jsonl", &extra);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let second = hub.take();
    assert!(gets(&second).is_empty(), "second run downloaded {:?}", gets(&second));
    let line = model_line(&o);
    eprintln!("second run: {line}; requests: {second:?}");
    assert!(!line.contains("downloaded"), "{line}");
    assert!(line.contains("from the cache"), "{line}");
    assert_eq!(env.cached_files(), files_after_first, "nothing new in the cache");

    let o = env.summarize(
        &ep,
        "distilbart-cnn-12-6",
        "offline.jsonl",
        &[&extra[..], &["--offline"]].concat(),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(hub.take().is_empty(), "--offline asks the server nothing");
    let text = |f: &str| -> Vec<String> {
        env.records(f)
            .iter()
            .map(|r| r["summary"]["text"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(text("first.jsonl"), text("offline.jsonl"));
    assert_eq!(text("first.jsonl"), text("second.jsonl"));

    // A preset pinned to a commit (`preset@commit`, as a preset's `revision` may be): served
    // at /resolve/<commit>/, with the preset's settings; then used from the cache without any
    // request (a commit's files never change, and its 404s are remembered), also when named
    // by hub id.
    let pinned = format!("distilbart-cnn-12-6@{COMMIT}");
    let o = env.summarize(&ep, &pinned, "pinned.jsonl", &extra);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reqs = hub.take();
    assert!(
        gets(&reqs).iter().any(|p| p
            == &format!("/sshleifer/distilbart-cnn-12-6/resolve/{COMMIT}/rust_model.ot")),
        "{reqs:?}"
    );
    assert!(reqs.iter().all(|(_, p)| !p.contains("/resolve/main/")), "{reqs:?}");
    let line = model_line(&o);
    eprintln!("pinned first run: {line}");
    assert!(
        line.starts_with(&format!(
            "kpeval: model distilbart-cnn-12-6: hub: sshleifer/distilbart-cnn-12-6@{COMMIT}: downloaded"
        )),
        "{line}"
    );
    for (model, out) in [
        (pinned.clone(), "pinned2.jsonl"),
        (format!("sshleifer/distilbart-cnn-12-6@{COMMIT}"), "pinned3.jsonl"),
    ] {
        let o = env.summarize(&ep, &model, out, &extra);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(hub.take().is_empty(), "a cached commit asks the server nothing");
        assert!(env.records(out)[0]["signature"].as_str().unwrap().contains(COMMIT));
    }
    assert_eq!(text("pinned.jsonl"), text("first.jsonl"));
}

/// A warm cache and a hub that cannot be reached (the connection is closed without an answer):
/// the run uses the cached files, says so, and asks the server only once.
#[test]
fn unreachable_hub_falls_back_to_the_cache() {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let extra = ["--max-length", "20", "--min-length", "0"];
    let o = env.summarize(&hub.endpoint(), "t5-small", "first.jsonl", &extra);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    hub.take();
    hub.set_mode(Mode::Hangup);
    let o = env.summarize(&hub.endpoint(), "t5-small", "second.jsonl", &extra);
    let e = stderr(&o);
    eprintln!("{e}");
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("could not be reached"), "{e}");
    assert!(e.contains("using the files already in the download cache"), "{e}");
    assert_eq!(hub.take().len(), 1, "one attempt, then the cache");
    let text = |f: &str| -> Vec<Value> {
        env.records(f).iter().map(|r| r["summary"]["text"].clone()).collect()
    };
    assert_eq!(text("first.jsonl"), text("second.jsonl"));
    // A cold cache and no hub: the error names the file and the failure.
    let cold = Env::new();
    let o = cold.summarize(&hub.endpoint(), "t5-small", "x.jsonl", &extra);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("could not fetch config.json"), "{}", stderr(&o));
}

/// `--offline` with an empty cache names the file it is missing and where it looked.
#[test]
fn offline_cold_cache_names_the_missing_file() {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let o = env.summarize(&hub.endpoint(), "distilbart-cnn-12-6", "out.jsonl", &["--offline"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    eprintln!("{e}");
    assert!(
        e.contains(
            "config.json of sshleifer/distilbart-cnn-12-6@main is not in the download cache"
        ),
        "{e}"
    );
    assert!(e.contains(env.cache().to_str().unwrap()), "{e}");
    assert!(hub.take().is_empty());
}

/// A repository or file the hub does not have: a 404, said as such, at once.
#[test]
fn not_found_is_a_clear_error() {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let t0 = Instant::now();
    let o = env.summarize(&hub.endpoint(), "nobody/no-such-model", "out.jsonl", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    eprintln!("{e}");
    assert!(e.contains("config.json: not found at"), "{e}");
    assert!(e.contains("HTTP 404"), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(10));
    // A revision the repository does not have.
    let o = env.summarize(&hub.endpoint(), "sshleifer/distilbart-cnn-12-6@v9", "out2.jsonl", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("at revision v9"), "{}", stderr(&o));
}

/// A server that accepts and never answers: the run fails after KPEVAL_HUB_TIMEOUT seconds
/// (no retries stacked on it), saying so.
#[test]
fn stalled_server_fails_within_the_timeout() {
    let hub = Hub::start(preset_repos());
    hub.set_mode(Mode::Stall);
    let env = Env::new();
    let t0 = Instant::now();
    let o = env
        .cmd(&hub.endpoint())
        .env("KPEVAL_HUB_TIMEOUT", "2")
        .args(["summarize", env.path("articles.jsonl").to_str().unwrap()])
        .args(["--model", "distilbart-cnn-12-6", "-o", env.path("o.jsonl").to_str().unwrap()])
        .output()
        .unwrap();
    let took = t0.elapsed();
    let e = stderr(&o);
    eprintln!("stalled after {:.1} s: {e}", took.as_secs_f64());
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("no answer within KPEVAL_HUB_TIMEOUT=2 s"), "{e}");
    assert!(e.contains("config.json"), "{e}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert_eq!(hub.take().len(), 1, "one request, no retries");
}

/// A download cut mid-body fails the run and leaves nothing in the cache that a later run
/// would load: the next run downloads the file again, whole, and works.
#[test]
fn interrupted_download_leaves_no_half_file() {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let ep = hub.endpoint();
    let extra = ["--max-length", "20", "--min-length", "0"];
    hub.set_mode(Mode::CutBody("rust_model.ot".into()));
    let o = env.summarize(&ep, "distilbart-cnn-12-6", "cut.jsonl", &extra);
    let e = stderr(&o);
    eprintln!("cut: {e}");
    assert_eq!(o.status.code(), Some(2), "{e}");
    assert!(e.contains("could not fetch rust_model.ot"), "{e}");
    assert!(e.contains("the connection closed before the whole file arrived"), "{e}");
    let weights = std::fs::read(
        root().join("tests/fixtures/hub/sshleifer/distilbart-cnn-12-6/rust_model.ot"),
    )
    .unwrap();
    for f in env.cached_files() {
        let len = std::fs::metadata(&f).unwrap().len();
        assert!(
            len != weights.len() as u64 / 2,
            "a half weights file was left: {} ({len} bytes)",
            f.display()
        );
    }
    hub.take();
    hub.set_mode(Mode::Normal);
    let o = env.summarize(&ep, "distilbart-cnn-12-6", "whole.jsonl", &extra);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let line = model_line(&o);
    assert!(line.contains("downloaded rust_model.ot"), "the weights are fetched again: {line}");
    assert!(line.contains("config.json") && line.contains("from the cache"), "{line}");
    let cached_weights = env
        .cached_files()
        .into_iter()
        .filter(|f| std::fs::metadata(f).map(|m| m.len() == weights.len() as u64).unwrap_or(false))
        .count();
    assert_eq!(cached_weights, 1);
}

/// Two first runs at once on one machine (one cache): both succeed with the same summaries,
/// and the cache holds each file once, whole.
#[test]
fn concurrent_first_runs_do_not_corrupt_the_cache() {
    let hub = Hub::start(preset_repos());
    let env = Env::new();
    let ep = hub.endpoint();
    let spawn = |out: &str| {
        env.cmd(&ep)
            .args(["summarize", env.path("articles.jsonl").to_str().unwrap()])
            .args(["--model", "bart-large-cnn", "--model-threads", "1", "--no-cache"])
            .args([
                "--max-length",
                "20",
                "--min-length",
                "0",
                "-o",
                env.path(out).to_str().unwrap(),
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("a.jsonl"), spawn("b.jsonl"));
    let (oa, ob) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    assert_eq!(oa.status.code(), Some(0), "{}", stderr(&oa));
    assert_eq!(ob.status.code(), Some(0), "{}", stderr(&ob));
    let text = |f: &str| -> Vec<String> {
        env.records(f)
            .iter()
            .map(|r| r["summary"]["text"].as_str().unwrap_or("").to_string())
            .collect()
    };
    assert_eq!(text("a.jsonl"), text("b.jsonl"));
    let data: Vec<PathBuf> = env
        .cached_files()
        .into_iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy().to_string();
            !n.ends_with(".meta") && !n.ends_with(".lock")
        })
        .collect();
    let served =
        ["config.json", "generation_config.json", "vocab.json", "merges.txt", "rust_model.ot"];
    assert_eq!(data.len(), served.len(), "one cached copy per file: {data:?}");
    let dir = root().join("tests/fixtures/hub/facebook/bart-large-cnn");
    let mut want: Vec<Vec<u8>> =
        served.iter().map(|f| std::fs::read(dir.join(f)).unwrap()).collect();
    let mut got: Vec<Vec<u8>> = data.iter().map(|f| std::fs::read(f).unwrap()).collect();
    want.sort();
    got.sort();
    assert!(want == got, "the cached files are the served files, whole");
    // Then a third run: nothing downloaded.
    hub.take();
    let o = env.summarize(
        &ep,
        "bart-large-cnn",
        "c.jsonl",
        &["--max-length", "20", "--min-length", "0"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(gets(&hub.take()).is_empty());
}

/// An NLI classifier by hub id: the same probabilities as from its folder.
#[test]
fn nli_model_by_hub_id() {
    let folder = root().join("tests/fixtures/models/tiny-nli-roberta");
    let hub = Hub::start(vec![("fixtures/tiny-nli-roberta", folder.clone())]);
    let env = Env::new();
    let pairs = env.path("pairs.jsonl");
    std::fs::write(
        &pairs,
        "{\"id\": 1, \"premise\": \"The council approved the budget.\", \"hypothesis\": \"The budget passed.\"}\n",
    )
    .unwrap();
    let run = |model: &str, out: &str| run_ok(&env, &hub, "nli", &pairs, model, out);
    let o = run("fixtures/tiny-nli-roberta", "hub.jsonl");
    let e = stderr(&o);
    eprintln!("{e}");
    assert!(
        e.contains("kpeval: hub: fixtures/tiny-nli-roberta@main: downloaded config.json"),
        "{e}"
    );
    assert!(e.contains("model.safetensors"), "{e}");
    run(folder.to_str().unwrap(), "local.jsonl");
    let probs = |f: &str| -> Value {
        let r: Value = serde_json::from_str(
            std::fs::read_to_string(env.path(f)).unwrap().lines().next().unwrap(),
        )
        .unwrap();
        serde_json::json!([r["entailment"], r["neutral"], r["contradiction"]])
    };
    assert!(
        probs("hub.jsonl")[0].is_number(),
        "{}",
        std::fs::read_to_string(env.path("hub.jsonl")).unwrap()
    );
    assert_eq!(probs("hub.jsonl"), probs("local.jsonl"));
}

/// A sentence-transformers model by hub id (modules.json, config, tokenizer, weights, pooling
/// config fetched through the same path): the same vectors as from the model store.
#[test]
fn sentence_transformers_model_by_hub_id() {
    let store = root().join("models/store/all-MiniLM-L6-v2");
    if !store.join("modules.json").is_file() {
        panic!("needs the model store (make setup)");
    }
    // Served under another name: a hub id whose last part names a store folder resolves to it.
    let hub = Hub::start(vec![("fixtures/minilm-l6-hub", store.clone())]);
    let env = Env::new();
    let texts = env.path("t.txt");
    std::fs::write(&texts, "The council approved the budget.\nRain flooded the city.\n").unwrap();
    let run = |model: &str, out: &str| run_ok(&env, &hub, "embed", &texts, model, out);
    let o = run("fixtures/minilm-l6-hub", "hub.jsonl");
    let e = stderr(&o);
    eprintln!("{e}");
    for f in
        ["modules.json", "config.json", "vocab.txt", "1_Pooling/config.json", "model.safetensors"]
    {
        assert!(e.contains(f), "{f}: {e}");
    }
    run(store.to_str().unwrap(), "store.jsonl");
    let vecs = |f: &str| -> Vec<Value> {
        std::fs::read_to_string(env.path(f))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap()["embedding"].clone())
            .collect()
    };
    assert_eq!(vecs("hub.jsonl"), vecs("store.jsonl"));
    // Offline, from the cache.
    let o = env
        .cmd(&hub.endpoint())
        .args(["embed", texts.to_str().unwrap(), "--model", "fixtures/minilm-l6-hub", "--offline"])
        .args(["-o", env.path("off.jsonl").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(vecs("off.jsonl"), vecs("store.jsonl"));
}

/// `kpeval <command> <input> --model <model> -o <out>` against the test hub; it must succeed.
fn run_ok(env: &Env, hub: &Hub, command: &str, input: &Path, model: &str, out: &str) -> Output {
    let o = env
        .cmd(&hub.endpoint())
        .args([
            command,
            input.to_str().unwrap(),
            "--model",
            model,
            "-o",
            env.path(out).to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

/// The published tokenizer files the hub fixtures serve (T5's spiece.model; BART's merges.txt and
/// vocab.json, see tests/fixtures/hub/README.md) give, loaded the way kpeval loads a preset's
/// tokenizer (prefix, whitespace normalization, special tokens), the token ids transformers'
/// slow tokenizers give on the same files (tests/fixtures/hub/tokenization.json, from
/// eval/reference/gen_hub_tokenizer_fixtures.py): real CNN/DM sentences and edge cases.
#[test]
fn served_tokenizers_match_transformers() {
    use kpeval::backend::GenerationConfig;
    use kpeval_torch::seq2seq::Seq2SeqSummarizer;
    let hub = root().join("tests/fixtures/hub");
    let fx: Value =
        serde_json::from_str(&std::fs::read_to_string(hub.join("tokenization.json")).unwrap())
            .unwrap();
    // Folders named after a preset take its settings (the T5 presets' "summarize: " prefix).
    let tmp = tempfile::tempdir().unwrap();
    let load = |repo: &str, preset: &str| {
        let dir = tmp.path().join(preset);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(hub.join(repo)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
        Seq2SeqSummarizer::load(dir.to_str().unwrap(), &GenerationConfig::default(), true)
            .unwrap_or_else(|e| panic!("{repo}: {e}"))
    };
    let t5 = load("google-t5/t5-small", "t5-small");
    let bart = load("facebook/bart-large-cnn", "bart-large-cnn");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 20, "{}", cases.len());
    for c in cases {
        let text = c["text"].as_str().unwrap();
        let want: Vec<i64> =
            c["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        let got = match c["family"].as_str().unwrap() {
            "t5" => t5.encode(text).unwrap(),
            _ => bart.encode(text).unwrap(),
        };
        assert_eq!(got, want, "{} {text:?}", c["family"]);
    }
}
