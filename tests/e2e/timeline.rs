//! `report timeline` and `report site` (issue 14): the pictures of the
//! scenarios pinned as snapshots, every end-date change of the audit trail
//! found in its picture, the pages parsed as a browser parses them, the
//! site's files, and the errors.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::{shows_a_whole_key, snapshot, TempLedger};

/// Every scenario file's name (without `.jsonl`) and the subscriptions its
/// lines touch, in id order.
fn scenario_subscriptions() -> Vec<(String, Vec<String>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/scenarios")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("a scenario");
            let ids: BTreeSet<String> = text
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v.get("expect").is_none())
                .filter_map(|v| v["subscription"].as_str().map(str::to_owned))
                .collect();
            let stem = path.file_stem().and_then(|s| s.to_str()).expect("a name");
            (stem.to_owned(), ids.into_iter().collect())
        })
        .collect()
}

fn json(ledger: &TempLedger, args: &[&str]) -> Value {
    let output = ledger.run(args);
    assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
    serde_json::from_str(&output.stdout).expect("valid JSON")
}

fn svg(ledger: &TempLedger, args: &[&str]) -> String {
    let output = ledger.run(args);
    assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
    roxmltree::Document::parse(&output.stdout)
        .unwrap_or_else(|e| panic!("{args:?} is not well-formed XML: {e}"));
    output.stdout
}

#[test]
fn the_timeline_of_every_scenario_is_pinned() {
    let ledger = TempLedger::demo();
    for (scenario, subscriptions) in scenario_subscriptions() {
        assert!(!subscriptions.is_empty(), "{scenario} has subscriptions");
        let mut text = String::new();
        for id in subscriptions {
            let args = ["report", "timeline", "--subscription", id.as_str()];
            text.push_str(&format!("$ benefit-ledger {}\n", args.join(" ")));
            text.push_str(&svg(&ledger, &args));
        }
        snapshot(&format!("timeline_{scenario}"), &text);
    }
}

/// The markers of a picture: `(seq, on, new end, title)`.
fn markers(svg: &str) -> Vec<(u64, String, String, String)> {
    let document = roxmltree::Document::parse(svg).expect("well-formed");
    document
        .descendants()
        .filter(|n| n.attribute("class") == Some("marker"))
        .map(|n| {
            let attribute = |name: &str| n.attribute(name).expect("a marker attribute").to_owned();
            let title = n
                .children()
                .find(|c| c.has_tag_name("title"))
                .and_then(|t| t.text())
                .expect("a marker's title")
                .to_owned();
            let seq = attribute("data-seq").parse().expect("a sequence");
            (seq, attribute("data-on"), attribute("data-new-end"), title)
        })
        .collect()
}

#[test]
fn every_end_date_change_of_the_audit_trail_is_in_its_picture() {
    let ledger = TempLedger::demo();
    let subscriptions = json(&ledger, &["report", "subscriptions", "--format", "json"]);
    let subscriptions = subscriptions.as_array().expect("rows");
    assert!(subscriptions.len() > 10, "the demo has its subscriptions");
    for row in subscriptions {
        let id = row["subscription"].as_str().expect("an id");
        let audit = json(
            &ledger,
            &["report", "audit", "--subscription", id, "--format", "json"],
        );
        let drawn = markers(&svg(&ledger, &["report", "timeline", "--subscription", id]));
        let entries = audit.as_array().expect("entries");
        assert_eq!(drawn.len(), entries.len(), "{id}: one marker per change");
        for (entry, (seq, on, new_end, title)) in entries.iter().zip(&drawn) {
            assert_eq!(Some(*seq), entry["seq"].as_u64(), "{id}");
            assert_eq!(Some(on.as_str()), entry["on"].as_str(), "{id}");
            assert_eq!(Some(new_end.as_str()), entry["new_end"].as_str(), "{id}");
            let explanation = entry["explanation"].as_str().expect("text");
            assert!(title.ends_with(explanation), "{id}: {title}");
        }
        // The last change's end is the subscription's end.
        let last = drawn.last().expect("a subscription has a change");
        assert_eq!(Some(last.2.as_str()), row["end"].as_str(), "{id}");
    }
}

#[test]
fn as_of_a_sequence_the_picture_holds_only_what_the_ledger_knew() {
    let ledger = TempLedger::demo();
    let all = markers(&svg(
        &ledger,
        &["report", "timeline", "--subscription", "fabrikam-e3"],
    ));
    assert!(all.len() >= 2, "fabrikam-e3 changed more than once");
    let seq = all[1].0.to_string();
    let before = markers(&svg(
        &ledger,
        &[
            "report",
            "timeline",
            "--subscription",
            "fabrikam-e3",
            "--as-of-seq",
            &seq,
        ],
    ));
    assert_eq!(before, all[..2]);
}

fn parse_page(text: &str) -> scraper::Html {
    let page = scraper::Html::parse_document(text);
    assert!(
        page.errors.is_empty(),
        "HTML parse errors: {:?}",
        page.errors
    );
    page
}

fn count(page: &scraper::Html, selector: &str) -> usize {
    let selector = scraper::Selector::parse(selector).expect("a selector");
    page.select(&selector).count()
}

#[test]
fn the_html_page_holds_the_picture_and_the_audit_trail_and_loads_nothing() {
    let ledger = TempLedger::demo();
    let args = [
        "report",
        "timeline",
        "--subscription",
        "scenario-a",
        "--format",
        "html",
    ];
    let output = ledger.run(&args);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let page = parse_page(&output.stdout);
    let audit = json(
        &ledger,
        &[
            "report",
            "audit",
            "--subscription",
            "scenario-a",
            "--format",
            "json",
        ],
    );
    let changes = audit.as_array().expect("entries").len();
    assert_eq!(count(&page, "svg g.marker"), changes);
    assert_eq!(count(&page, "#audit-table tbody tr"), changes);
    assert_eq!(
        count(&page, "style"),
        2,
        "the page's style and the picture's"
    );
    // Nothing from elsewhere: no script, sheet, image or font by address.
    assert_eq!(count(&page, "script[src], link, img, iframe"), 0);
    assert!(!output.stdout.contains("http://") || only_the_svg_namespace(&output.stdout));
    assert!(!output.stdout.contains("https://"));
}

fn only_the_svg_namespace(text: &str) -> bool {
    text.matches("http://").count() == text.matches("http://www.w3.org/2000/svg").count()
}

#[test]
fn a_missing_or_malformed_subscription_is_a_usage_error() {
    let ledger = TempLedger::demo();
    let head = ledger.head();
    let missing = ledger.run(&["report", "timeline", "--subscription", "nobody"]);
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("no subscription 'nobody'"),
        "{}",
        missing.stderr
    );
    assert!(missing.stdout.is_empty());
    let malformed = ledger.run(&["report", "timeline", "--subscription", "no/such"]);
    assert_eq!(malformed.code, 2, "{}", malformed.stderr);
    assert!(
        malformed.stderr.contains("--subscription"),
        "{}",
        malformed.stderr
    );
    let format = ledger.run(&[
        "report",
        "timeline",
        "--subscription",
        "scenario-a",
        "--format",
        "png",
    ]);
    assert_eq!(format.code, 2, "{}", format.stderr);
    // A key given as the id is not echoed whole (R3; `run` checks it).
    let key = ledger.run(&[
        "report",
        "timeline",
        "--subscription",
        "E3A01-10000-00000-00000-0A100",
    ]);
    assert_eq!(key.code, 2, "{}", key.stderr);
    assert_eq!(ledger.head(), head, "reading changed nothing");
    let none = TempLedger::new();
    let unopened = none.run(&["report", "timeline", "--subscription", "s1"]);
    let audit = none.run(&["report", "audit", "--subscription", "s1"]);
    assert_eq!(unopened.code, audit.code, "{}", unopened.stderr);
    assert_ne!(unopened.code, 0);
}

#[test]
fn the_site_has_every_report_a_page_per_subscription_and_the_digest() {
    let ledger = TempLedger::demo();
    let out = tempfile::tempdir().expect("temp dir");
    let site = out.path().join("site");
    let site_arg = site.to_str().expect("utf-8");
    let output = ledger.run(&["report", "site", "--out", site_arg, "--on", "2026-08-01"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(output.stdout.contains(&format!("{site_arg}/index.html")));
    let index_text = std::fs::read_to_string(site.join("index.html")).expect("an index");
    let index = parse_page(&index_text);
    for table in ["subscriptions", "credits", "benefits", "expiring"] {
        assert_eq!(
            count(&index, &format!("#{table}-table.sortable")),
            1,
            "{table}"
        );
    }
    let head = ledger.head();
    assert!(
        index_text.contains(&head),
        "the index shows the head digest"
    );
    assert!(index_text.contains(&format!("verify --digest {head}")));
    let subscriptions = json(&ledger, &["report", "subscriptions", "--format", "json"]);
    let ids: Vec<&str> = subscriptions
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(|r| r["subscription"].as_str())
        .collect();
    assert_eq!(count(&index, "#subscriptions-table tbody tr a"), ids.len());
    let mut files = 1;
    for id in &ids {
        let name = format!("subscription-{id}.html");
        assert!(index_text.contains(&format!("href=\"{name}\"")), "{id}");
        let text = std::fs::read_to_string(site.join(&name)).expect("a page");
        let page = parse_page(&text);
        assert!(count(&page, "svg g.marker") > 0, "{id}");
        assert_eq!(count(&page, "nav a[href=\"index.html\"]"), 1);
        files += 1;
    }
    for entry in std::fs::read_dir(&site).expect("the site") {
        let text = std::fs::read_to_string(entry.expect("an entry").path()).expect("text");
        assert!(!shows_a_whole_key(&text), "a whole key in the site (R3)");
    }
    assert_eq!(std::fs::read_dir(&site).expect("the site").count(), files);
    assert!(output.stdout.starts_with(&format!("Wrote {files} pages")));
}

#[test]
fn a_site_that_cannot_be_written_is_a_usage_error() {
    let ledger = TempLedger::demo();
    let out = tempfile::tempdir().expect("temp dir");
    let file = out.path().join("a-file");
    std::fs::write(&file, "not a folder").expect("a file");
    let arg = file.to_str().expect("utf-8");
    let output = ledger.run(&["report", "site", "--out", arg]);
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(output.stderr.contains(arg), "{}", output.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).expect("still a file"),
        "not a folder"
    );
}
