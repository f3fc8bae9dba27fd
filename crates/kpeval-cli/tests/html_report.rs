//! The HTML report renders in a real headless browser (Debian's chromium, installed by
//! `make test`): the page's script runs to the end, nothing is logged as an error, and a
//! screenshot is produced.
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    let p = std::env::var_os("KPEVAL_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        p.exists(),
        "{} not found: the test set-up (`make test`) installs Debian's chromium",
        p.display()
    );
    p
}

fn browser(args: &[&str], page: &Path, profile: &Path) -> (String, String) {
    let o = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(o.status.success(), "chromium failed: {}", String::from_utf8_lossy(&o.stderr));
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frank.jsonl");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/frank-sample.jsonl");
    let o = Command::new(env!("CARGO_BIN_EXE_kpeval"))
        .args([
            "score",
            fixture.to_str().unwrap(),
            "--metrics",
            "overlap",
            "-o",
            out.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let page = dir.path().join("frank.report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("http://")
            || html.matches("http://").all(|_| html.contains("http://www.w3.org/2000/svg")),
        "self-contained: no external resources"
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link "),
        "no external scripts or stylesheets"
    );

    let profile = dir.path().join("profile");
    let (dom, log) = browser(&["--dump-dom"], &page, &profile);
    assert!(
        dom.contains(r#"data-rendered="ok""#),
        "the page script did not run to the end; log:\n{log}"
    );
    // The per-article view was built: each Key Development with its verdict (kp_rouge here:
    // overlap metrics only) beside the summary sentences that support it.
    assert!(
        dom.contains(r#"class="pair""#) && dom.contains(r#"class="kd""#),
        "no per-article verdict view in the DOM"
    );
    assert!(dom.contains("covered (kp_rouge)"), "the view does not name the verdicts' metric");
    assert!(dom.contains("not covered ") || dom.contains(">covered "), "no verdict shown");
    for bad in ["Uncaught", "SyntaxError", "TypeError", "ReferenceError"] {
        assert!(!log.contains(bad), "console error in the page ({bad}):\n{log}");
    }
    let shot = dir.path().join("report.png");
    let (_, log) = browser(
        &["--window-size=1280,1800", &format!("--screenshot={}", shot.display())],
        &page,
        &profile,
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}); log:\n{log}"));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot is not a real page image ({} bytes)",
        png.len()
    );
    if let Ok(keep) = std::env::var("KPEVAL_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).unwrap();
    }
}
