//! The timeline page in a real browser (issue 14): Debian's Chromium,
//! headless, renders a scenario's page. Its DOM must hold every marker of
//! the audit trail, its screenshot must not be blank, and nothing may be
//! logged to its console (the sort script of the site's index included).
//!
//! Chromium is what `.ci/run` installs where it is missing. Without it the
//! test fails naming it, unless `BENEFIT_TEST_SKIP_UNAVAILABLE` is set.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::TempLedger;

/// The variable that lets a developer skip a test this machine cannot run.
/// `.ci/run` never sets it, so in CI such a test fails.
const SKIP_VARIABLE: &str = "BENEFIT_TEST_SKIP_UNAVAILABLE";
/// How long one run of the browser may take.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);
/// The screenshot's size.
const WINDOW: &str = "1200,900";

/// Chromium, from `PATH` or where Debian puts it.
fn chromium() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| Some(PathBuf::from("/usr/bin/chromium")).filter(|p| p.is_file()))
}

/// What one headless run gave: standard output and standard error.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs Chromium headless on `page` with `extra` flags, in a fresh profile,
/// logging the page's console to standard error.
fn browse(browser: &Path, page: &Path, extra: &[String]) -> Run {
    let profile = tempfile::tempdir().expect("a profile directory");
    // coreutils' timeout ends a browser that hangs (exit 124).
    let mut command = Command::new("timeout");
    command
        .arg(BROWSER_TIMEOUT.as_secs().to_string())
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = command.output().expect("chromium (under timeout) runs");
    assert_ne!(
        output.status.code(),
        Some(124),
        "chromium took longer than {BROWSER_TIMEOUT:?}"
    );
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The lines the page logged to the console (Chromium writes them to
/// standard error as `INFO:CONSOLE...`), uncaught errors included.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

/// The variance of the screenshot's grey levels: 0 for a blank page.
fn grey_variance(png_path: &Path) -> f64 {
    let file = std::fs::File::open(png_path).expect("the screenshot exists");
    let mut reader = png::Decoder::new(file).read_info().expect("a PNG");
    let mut buffer = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buffer).expect("a frame");
    assert_eq!(frame.bit_depth, png::BitDepth::Eight, "8-bit channels");
    let channels = frame.color_type.samples();
    let pixels: Vec<f64> = buffer[..frame.buffer_size()]
        .chunks(channels)
        .map(|p| {
            let colour = &p[..p.len().min(3)];
            colour.iter().map(|c| f64::from(*c)).sum::<f64>() / colour.len() as f64
        })
        .collect();
    let mean = pixels.iter().sum::<f64>() / pixels.len() as f64;
    pixels.iter().map(|p| (p - mean).powi(2)).sum::<f64>() / pixels.len() as f64
}

fn the_browser() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        if std::env::var_os(SKIP_VARIABLE).is_some() {
            println!("chromium is not installed: skipped, as {SKIP_VARIABLE} asks");
        } else {
            panic!(
                "chromium is not installed (apt-get install chromium; .ci/run does). This \
                 test cannot run here; set {SKIP_VARIABLE}=1 to skip it on purpose"
            );
        }
    }
    found
}

#[test]
fn the_console_check_sees_what_a_page_logs() {
    let Some(browser) = the_browser() else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>notDefined();</script></body></html>",
    )
    .expect("a page");
    let run = browse(&browser, &page, &["--dump-dom".to_owned()]);
    assert!(run.stdout.contains("<p>x</p>"), "the DOM is dumped");
    assert!(
        !console_lines(&run.stderr).is_empty(),
        "an uncaught error must show: {}",
        run.stderr
    );
}

#[test]
fn the_timeline_page_renders_in_chromium_with_every_marker_and_no_console_output() {
    let Some(browser) = the_browser() else { return };
    let ledger = TempLedger::demo();
    let id = "tailspin-lab";
    let output = ledger.run(&[
        "report",
        "timeline",
        "--subscription",
        id,
        "--format",
        "html",
    ]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join(format!("{id}.html"));
    std::fs::write(&page, &output.stdout).expect("the page written");

    let dom = browse(&browser, &page, &["--dump-dom".to_owned()]);
    assert!(console_lines(&dom.stderr).is_empty(), "{}", dom.stderr);
    let audit = ledger.run(&["report", "audit", "--subscription", id, "--format", "json"]);
    let audit: Value = serde_json::from_str(&audit.stdout).expect("JSON");
    let entries = audit.as_array().expect("entries");
    assert!(entries.len() >= 3, "{id} has a reactivation and more");
    assert_eq!(
        dom.stdout.matches("class=\"marker\"").count(),
        entries.len()
    );
    for entry in entries {
        let seq = entry["seq"].as_u64().expect("a seq");
        assert!(
            dom.stdout.contains(&format!("data-seq=\"{seq}\"")),
            "marker {seq} is in the DOM"
        );
    }
    assert!(dom
        .stdout
        .contains("class=\"status\" data-status=\"expired\""));

    let shot = dir.path().join("shot.png");
    let screenshot = browse(
        &browser,
        &page,
        &[
            format!("--screenshot={}", shot.display()),
            format!("--window-size={WINDOW}"),
        ],
    );
    assert!(
        console_lines(&screenshot.stderr).is_empty(),
        "{}",
        screenshot.stderr
    );
    let variance = grey_variance(&shot);
    assert!(
        variance > 100.0,
        "the screenshot is blank: variance {variance}"
    );
}

#[test]
fn the_sites_index_runs_its_sort_script_without_console_output() {
    let Some(browser) = the_browser() else { return };
    let ledger = TempLedger::demo();
    let dir = tempfile::tempdir().expect("temp dir");
    let site = dir.path().join("site");
    let output = ledger.run(&["report", "site", "--out", site.to_str().expect("utf-8")]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let dom = browse(
        &browser,
        &site.join("index.html"),
        &["--dump-dom".to_owned()],
    );
    assert!(console_lines(&dom.stderr).is_empty(), "{}", dom.stderr);
    // The script ran: it made every heading of a sortable table focusable.
    assert!(
        dom.stdout.contains("<th tabindex=\"0\">subscription</th>"),
        "{}",
        dom.stdout
    );
}
