//! The timeline's own checks: it parses as XML, it holds a marker for every
//! change, it escapes the ledger's texts, and its status spans follow R20.

use super::*;
use crate::{timeline_page, BenefitExpiry};

fn date(text: &str) -> Date {
    text.parse().expect("a valid date")
}

fn change(seq: u64, on: &str, old: Option<&str>, new: &str, seats: u32) -> EndChange {
    EndChange {
        seq,
        event: "EndDateExtended".to_owned(),
        on: date(on),
        old_end: old.map(date),
        new_end: date(new),
        seats: Some(seats),
        label: format!("R11: change {seq}"),
        explanation: format!("explained <{seq}> & \"quoted\""),
        actor: "ann@contoso.com".to_owned(),
        recorded_at: "2026-11-24T09:00:00Z".to_owned(),
    }
}

fn sample() -> Timeline {
    Timeline {
        subscription: "s1".to_owned(),
        product: "Office <365> & \"E3\"\u{0}".to_owned(),
        changes: vec![
            change(3, "2026-01-15", None, "2027-01-15", 100),
            change(7, "2026-03-01", Some("2027-01-15"), "2027-04-15", 100),
            change(9, "2027-06-01", Some("2027-04-15"), "2028-06-01", 25),
        ],
        benefits: vec![
            BenefitExpiry {
                benefit: "b1".to_owned(),
                expires: date("2026-12-31"),
            },
            BenefitExpiry {
                benefit: "b<2>".to_owned(),
                expires: date("2026-12-31"),
            },
        ],
    }
}

#[test]
fn the_svg_parses_and_holds_a_marker_for_every_change() {
    let svg = timeline_svg(&sample()).expect("drawn");
    let document = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let markers: Vec<_> = document
        .descendants()
        .filter(|n| n.attribute("class") == Some("marker"))
        .collect();
    let seqs: Vec<&str> = markers
        .iter()
        .filter_map(|m| m.attribute("data-seq"))
        .collect();
    assert_eq!(seqs, ["3", "7", "9"]);
    let ends: Vec<&str> = markers
        .iter()
        .filter_map(|m| m.attribute("data-new-end"))
        .collect();
    assert_eq!(ends, ["2027-01-15", "2027-04-15", "2028-06-01"]);
    let title = markers[1]
        .children()
        .find(|n| n.has_tag_name("title"))
        .and_then(|t| t.text())
        .expect("a marker has a title");
    assert_eq!(
        title,
        "#7 EndDateExtended on 2026-03-01: explained <7> & \"quoted\""
    );
    assert!(svg.contains("R11: change 9"));
    assert!(svg.contains("25 seats"), "the seats change is shown");
}

#[test]
fn ledger_texts_are_escaped_and_cleaned() {
    let svg = timeline_svg(&sample()).expect("drawn");
    assert!(!svg.contains("<365>") && !svg.contains("<2>") && !svg.contains('\u{0}'));
    assert!(svg.contains("Office &lt;365&gt; &amp; \"E3\"\u{FFFD}"));
    let page = timeline_page(&sample(), Some("index.html")).expect("drawn");
    assert!(!page.contains("<365>") && !page.contains("<7>"));
    let html = scraper::Html::parse_document(&page);
    assert!(html.errors.is_empty(), "parse errors: {:?}", html.errors);
    let markers = scraper::Selector::parse("svg g.marker").expect("a selector");
    assert_eq!(html.select(&markers).count(), 3);
    let rows = scraper::Selector::parse("#audit-table tbody tr").expect("a selector");
    assert_eq!(html.select(&rows).count(), 3);
}

#[test]
fn benefits_expiring_on_one_day_share_one_line() {
    let svg = timeline_svg(&sample()).expect("drawn");
    let document = roxmltree::Document::parse(&svg).expect("well-formed");
    let lines: Vec<_> = document
        .descendants()
        .filter(|n| n.attribute("class") == Some("benefit-expiry"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].attribute("data-date"), Some("2026-12-31"));
    assert!(svg.contains("b1, b&lt;2&gt; expires 2026-12-31"));
}

#[test]
fn status_spans_follow_r20_for_the_end_in_force() {
    let timeline = sample();
    let changes: Vec<&EndChange> = timeline.changes.iter().collect();
    let spans = status_spans(&changes, date("2029-01-01"));
    let named: Vec<(&str, String, String)> = spans
        .iter()
        .map(|s| (s.status.name(), s.from.to_string(), s.to.to_string()))
        .collect();
    let span = |n: &'static str, f: &str, t: &str| (n, f.to_owned(), t.to_owned());
    assert_eq!(
        named,
        [
            // Active until the end, then expired: the reactivation on
            // 2027-06-01 falls in the disabled window (30 .. 119 days).
            span("active", "2026-01-15", "2027-04-15"),
            span("expired", "2027-04-15", "2027-05-15"),
            span("disabled", "2027-05-15", "2027-06-01"),
            span("active", "2027-06-01", "2028-06-01"),
            span("expired", "2028-06-01", "2028-07-01"),
            span("disabled", "2028-07-01", "2028-09-29"),
            span("deleted", "2028-09-29", "2029-01-01"),
        ]
    );
}

#[test]
fn no_change_is_an_error_and_extreme_dates_do_not_panic() {
    let mut empty = sample();
    empty.changes.clear();
    assert_eq!(
        timeline_svg(&empty),
        Err(RenderError::NoChanges {
            subscription: "s1".to_owned()
        })
    );
    let mut extreme = sample();
    extreme.changes = vec![change(1, "9999-12-30", None, "9999-12-31", 1)];
    extreme.benefits[0].expires = Date::MAX;
    let svg = timeline_svg(&extreme).expect("drawn");
    roxmltree::Document::parse(&svg).expect("well-formed");
    extreme.changes = vec![change(1, "0001-01-01", None, "0001-01-01", 1)];
    let svg = timeline_svg(&extreme).expect("drawn");
    roxmltree::Document::parse(&svg).expect("well-formed");
}
