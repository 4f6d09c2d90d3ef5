//! `report timeline` and `report site`: the auditor's pictures and pages
//! (issue 14). This module reads the ledger (the audit records and the
//! subscription views, through the same `Ledger::report` as every report)
//! into `benefit-render`'s plain types, and writes what that pure crate
//! draws: to standard output, or as a static folder of files.
//!
//! Keys never reach a picture or a page: the audit records' explanations
//! and the reports' cells are masked already (R3), and nothing here reads
//! a key.

use std::io::Write;
use std::path::{Path, PathBuf};

use benefit_app::View;

use crate::backend::{Ledger, Location};
use benefit_domain::{explain, Explanation};
use benefit_events::{KeyRedeemed, SubscriptionId};
use benefit_projections::docs::{decode_document, load_all, sub_key, Docs};
use benefit_projections::reports::ReportDate;
use benefit_projections::{reports, AuditRecord, KeyUseEvent, ProjectionError, SubscriptionView};
use benefit_render::{BenefitExpiry, EndChange, SiteIndex, Table, Timeline};
use indicatif::ProgressBar;

use crate::cli::{AsOfOptions, PictureFormat, Report};
use crate::failure::Failure;
use crate::progress;
use crate::report::{CreditRow, Row};
use crate::Context;

/// The window of the site's expiring report, in days after `--on`.
const SITE_EXPIRING_DAYS: u32 = 90;

/// Prints a timeline, or writes a site, from an open ledger.
pub fn print(
    context: &Context,
    ledger: &Ledger,
    report: &Report,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match report {
        Report::Timeline {
            subscription,
            format,
            as_of,
        } => {
            let id = SubscriptionId::parse(subscription)
                .map_err(|e| Failure::usage(format!("--subscription: {e}")))?;
            let timeline = read_timeline(ledger, view(as_of), &id)?;
            let text = match format {
                PictureFormat::Svg => benefit_render::timeline_svg(&timeline),
                PictureFormat::Html => benefit_render::timeline_page(&timeline, None),
            }
            .map_err(|e| Failure::usage(format!("report timeline: {e}")))?;
            // A closed standard output (a pipe into `head`) ends quietly.
            let _ = writeln!(out, "{text}");
            Ok(())
        }
        Report::Site { out: dir, on } => {
            let date = ReportDate::from_flag(*on, context.today);
            let pages = write_site(ledger, &context.ledger, dir, date)?;
            let _ = writeln!(
                out,
                "Wrote {pages} pages to {}\n  open {}",
                dir.display(),
                dir.join("index.html").display()
            );
            Ok(())
        }
        _ => Err(Failure::usage("not a picture or a site")),
    }
}

fn view(options: &AsOfOptions) -> View {
    match (options.as_of_seq, options.as_of) {
        (Some(seq), _) => View::AsOfSequence(seq),
        (None, Some(at)) => View::AsOfTime(at),
        (None, None) => View::Current,
    }
}

/// The rule an explanation cites, and its numbers without the citation:
/// `R11: 12 x 25 / 100 = 3 months`.
fn label(explanation: &Explanation) -> String {
    let rule = match explanation {
        Explanation::NewTerm { .. } => "R9",
        Explanation::Proration { .. } => "R11",
        Explanation::Averaging { .. } => "R14",
    };
    let text = explanation.to_string();
    let numbers = text.strip_suffix(&format!(" ({rule})")).unwrap_or(&text);
    format!("{rule}: {numbers}")
}

/// One audit record as a change of the picture.
fn change(record: &AuditRecord) -> EndChange {
    let entry = record.entry();
    let event = record.event.event();
    let mut label = explain(&event).map(|e| label(&e)).unwrap_or_default();
    if let KeyUseEvent::Redeemed(KeyRedeemed {
        reactivated_from: Some(status),
        ..
    }) = &record.event
    {
        label.push_str(&format!("; R10: reactivated from {status}"));
    }
    EndChange {
        seq: entry.seq,
        label,
        seats: record
            .event
            .seats_after(record.seats_before)
            .map(|s| s.get()),
        event: entry.event,
        on: entry.on,
        old_end: entry.old_end,
        new_end: entry.new_end,
        explanation: entry.explanation,
        actor: entry.actor.to_string(),
        recorded_at: entry
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
    }
}

/// A subscription's view and audit records, read from one set of documents.
fn timeline_of(docs: &dyn Docs, id: &SubscriptionId) -> Result<Option<Timeline>, ProjectionError> {
    let key = sub_key(id.as_str());
    let Some(bytes) = docs.get(&key)? else {
        return Ok(None);
    };
    let view: SubscriptionView = decode_document(&key, &bytes)?;
    let mut records: Vec<AuditRecord> = load_all(docs, &format!("audit/{id}/"))?;
    records.sort_by_key(|r| r.seq);
    Ok(Some(Timeline {
        subscription: view.subscription.to_string(),
        product: view.product.to_string(),
        changes: records.iter().map(change).collect(),
        benefits: view
            .benefits
            .iter()
            .map(|b| BenefitExpiry {
                benefit: b.benefit.to_string(),
                expires: b.expires,
            })
            .collect(),
    }))
}

fn read_timeline(ledger: &Ledger, view: View, id: &SubscriptionId) -> Result<Timeline, Failure> {
    ledger
        .report(view, |docs| timeline_of(docs, id))?
        .ok_or_else(|| {
            Failure::usage(format!(
                "report timeline: no subscription '{id}' in the ledger"
            ))
            .detail("`benefit-ledger report subscriptions` lists them")
        })
}

/// The file of a subscription's page: its id, which is already made of
/// letters, digits, `-`, `_` and `.` (anything else, from an older rule
/// book, becomes `_`).
fn page_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("subscription-{safe}.html")
}

/// A report as a site table: its CSV columns (the JSON field names), so
/// the site shows everything the report holds.
fn table<R: Row>(id: &str, title: String, rows: &[R], links: Vec<Option<String>>) -> Table {
    Table {
        id: id.to_owned(),
        title,
        headers: R::CSV.iter().map(|h| (*h).to_owned()).collect(),
        rows: rows.iter().map(Row::csv).collect(),
        links,
    }
}

fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| {
        Failure::usage(format!("report site: writing {}: {e}", path.display()))
            .detail("give --out a folder this user can write")
    })
}

/// Where `demo` writes its site: beside its ledger, `DIR-site`.
pub fn demo_site_dir(ledger: &Path) -> PathBuf {
    let ledger = std::path::absolute(ledger).unwrap_or_else(|_| ledger.to_path_buf());
    let mut name = ledger
        .file_name()
        .map_or_else(|| "benefit-ledger".into(), |n| n.to_os_string());
    name.push("-site");
    ledger.with_file_name(name)
}

/// Writes the site into `dir`; returns how many pages it wrote.
/// `ledger_dir` is where the ledger is, for the verify command it shows.
pub fn write_site(
    ledger: &Ledger,
    ledger_dir: &Location,
    dir: &Path,
    date: ReportDate,
) -> Result<usize, Failure> {
    let on = date.date();
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::usage(format!("report site: creating {}: {e}", dir.display()))
            .detail("give --out a folder this user can write")
    })?;
    let head = ledger.head()?.to_string();
    // One step per subscription: its timeline read, then its page written.
    let bar = progress::bar(0, "reading the timelines");
    let (index, timelines) = ledger.report(View::Current, |docs| {
        let subscriptions = reports::subscriptions(docs, date)?;
        bar.set_length(subscriptions.len() as u64);
        let mut timelines = Vec::new();
        for row in &subscriptions {
            timelines.extend(timeline_of(docs, &row.subscription)?);
            bar.inc(1);
        }
        let credits: Vec<CreditRow> = reports::credits(docs)?
            .into_iter()
            .map(CreditRow::from)
            .collect();
        let links = subscriptions
            .iter()
            .map(|s| Some(page_name(s.subscription.as_str())))
            .collect();
        let tables = vec![
            table(
                "subscriptions",
                match date {
                    ReportDate::On(on) => format!("Subscriptions as on {on}"),
                    ReportDate::Latest { today } => {
                        format!("Subscriptions as last recorded, status on {today}")
                    }
                },
                &subscriptions,
                links,
            ),
            table("credits", "Credits".to_owned(), &credits, Vec::new()),
            table(
                "benefits",
                "Benefits".to_owned(),
                &reports::benefits(docs)?,
                Vec::new(),
            ),
            table(
                "expiring",
                format!("Expiring within {SITE_EXPIRING_DAYS} days of {on}"),
                &reports::expiring(docs, date, SITE_EXPIRING_DAYS)?,
                Vec::new(),
            ),
        ];
        Ok((tables, timelines))
    })?;
    let index = SiteIndex {
        title: "Benefit ledger: reports for an audit".to_owned(),
        on,
        verify_command: verify_command(ledger_dir, &head),
        head,
        tables: index,
    };
    bar.reset();
    bar.set_length(timelines.len() as u64);
    bar.set_message("writing the pages");
    let written = write_pages(dir, &timelines, &bar);
    bar.finish_and_clear();
    let pages = written?;
    write_file(&dir.join("index.html"), &benefit_render::site_index(&index))?;
    Ok(pages + 1)
}

/// Writes one page per timeline into `dir`, moving `bar` on; returns how
/// many it wrote.
fn write_pages(dir: &Path, timelines: &[Timeline], bar: &ProgressBar) -> Result<usize, Failure> {
    for timeline in timelines {
        let page = benefit_render::timeline_page(timeline, Some("index.html"))
            .map_err(|e| Failure::usage(format!("report site: {e}")))?;
        write_file(&dir.join(page_name(&timeline.subscription)), &page)?;
        bar.inc(1);
    }
    Ok(timelines.len())
}

/// The command that checks the ledger still holds the site's history.
fn verify_command(ledger: &Location, head: &str) -> String {
    let ledger = match ledger {
        Location::Dir(dir) => std::path::absolute(dir)
            .unwrap_or_else(|_| dir.clone())
            .display()
            .to_string(),
        Location::Postgres(url) => format!("'{}'", url.address()),
    };
    format!("benefit-ledger --ledger {ledger} verify --digest {head}")
}
