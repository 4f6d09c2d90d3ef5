//! `diff`: what changed between two points of the log, as a table, JSON or
//! CSV. The points are read as `--as-of-seq` reads them (the one fold, as
//! of a sequence); the comparison is `benefit_projections::diff`, pure.
//! This module only resolves `--from` and `--to` to sequences and prints.
//!
//! Keys are masked with their fingerprint (R3), as in every report.

use std::io::Write;

use benefit_app::{AppError, View};
use benefit_projections::diff::{
    diff, ChangedBy, CreditHoldersChange, KeyUseChange, LedgerDiff, Snapshot, SubscriptionChange,
};
use benefit_projections::model::KeyUsed;

use crate::backend::Ledger;
use crate::cli::{DiffArgs, Format, Point};
use crate::failure::Failure;
use crate::report::{csv_text, table, used_text};
use crate::Context;

/// `diff`: resolves both points, reads both snapshots, prints the diff.
pub fn run(context: &Context, args: &DiffArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let ledger = context.open_for_read()?;
    let head = ledger.head()?.seq;
    let from = resolve(&ledger, "--from", args.from, head)?;
    let to = match args.to {
        Some(point) => resolve(&ledger, "--to", point, head)?,
        None => head,
    };
    if from > to {
        return Err(Failure::usage(format!(
            "--from is after --to: --from is sequence {from}, --to is sequence {to}; give the earlier point as --from"
        )));
    }
    let on = args.on.unwrap_or(context.today);
    let before = snapshot(&ledger, from, on)?;
    let after = snapshot(&ledger, to, on)?;
    print(&diff(&before, &after), args.format, out)?;
    crate::close(ledger)
}

/// The sequence a point names: a sequence at most the head, or the last
/// event recorded at or before a TIME (0, the empty ledger, for a TIME
/// before the first event).
fn resolve(ledger: &Ledger, flag: &str, point: Point, head: u64) -> Result<u64, Failure> {
    match point {
        Point::Seq(seq) if seq > head => Err(Failure::usage(format!(
            "{flag}: sequence {seq} is after the head (sequence {head})"
        ))),
        Point::Seq(seq) => Ok(seq),
        Point::Time(at) => {
            let mut seq = 0;
            // Recorded-at never goes backwards: the events known at `at`
            // are a prefix of the log.
            for record in ledger.log(None) {
                let record = record.map_err(|e| Failure::from(AppError::from(e)))?;
                if record.recorded_at > at {
                    break;
                }
                seq = record.seq;
            }
            Ok(seq)
        }
    }
}

/// What the reports show right after `seq`, statuses on `on`.
fn snapshot(ledger: &Ledger, seq: u64, on: benefit_events::Date) -> Result<Snapshot, Failure> {
    Ok(ledger.report(View::AsOfSequence(seq), |docs| {
        Snapshot::read(docs, seq, on)
    })?)
}

/// Prints a diff in a format. Closed standard output ends it quietly.
fn print(found: &LedgerDiff, format: Format, out: &mut dyn Write) -> Result<(), Failure> {
    let text = match format {
        Format::Table => diff_table(found),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(found)
                .map_err(|e| Failure::usage(format!("encoding JSON: {e}")))?;
            text.push('\n');
            text
        }
        Format::Csv => {
            let rows = found
                .subscriptions
                .iter()
                .map(subscription_csv)
                .chain(found.credits.iter().map(credit_csv))
                .chain(found.keys.iter().map(key_csv));
            csv_text(DIFF_CSV, rows)?
        }
    };
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// A cell of a value before and after: the one value when it did not
/// change (or was added), else `before` over `-> after`.
fn before_after<T: ToString + PartialEq>(before: Option<T>, after: T) -> String {
    match before {
        Some(before) if before != after => {
            format!("{}\n-> {}", before.to_string(), after.to_string())
        }
        _ => after.to_string(),
    }
}

fn events_text(events: &[ChangedBy], separator: &str) -> String {
    events
        .iter()
        .map(|e| format!("#{} {}", e.seq, e.event))
        .collect::<Vec<_>>()
        .join(separator)
}

fn holders_text(holders: &[benefit_events::UserName], separator: &str) -> String {
    holders
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// The holders before, one a line from the cell's left edge (as the other
/// columns' values before), over `-> ` and the holders after, one a line
/// under the first after the arrow.
fn holders_cell(before: &[benefit_events::UserName], after: &[benefit_events::UserName]) -> String {
    let list = |holders: &[benefit_events::UserName], separator: &str| {
        if holders.is_empty() {
            "(none)".to_owned()
        } else {
            holders_text(holders, separator)
        }
    };
    format!("{}\n-> {}", list(before, "\n"), list(after, "\n   "))
}

/// One table of a section: its title, the table, `(none)` when empty.
fn section(title: &str, header: &[&str], rows: Vec<Vec<String>>) -> String {
    let empty = rows.is_empty();
    let mut text = format!("{title}\n{}", table(header, rows.into_iter()));
    if empty {
        text.push_str("\n(none)");
    }
    text.push('\n');
    text
}

/// The table format: a heading line, then one section for subscriptions,
/// credits and keys. Cells are stacked (before over after, a key over its
/// fingerprint) so that the tables fit 80 columns; a credit's plan and a
/// subscription's product are in the JSON and the CSV.
fn diff_table(found: &LedgerDiff) -> String {
    let subscriptions = found.subscriptions.iter().map(|s| {
        vec![
            format!("{}\n({})", s.subscription, s.change),
            before_after(s.end_before, s.end_after),
            before_after(s.seats_before, s.seats_after),
            before_after(s.status_before, s.status_after),
            events_text(&s.events, "\n"),
        ]
    });
    let credits = found.credits.iter().map(|c| {
        vec![
            c.benefit.to_string(),
            holders_cell(&c.holders_before, &c.holders_after),
            events_text(&c.events, "\n"),
        ]
    });
    let keys = found.keys.iter().map(|k| {
        vec![
            format!(
                "{}\nfingerprint {}\n{} seats",
                k.key, k.fingerprint, k.seats
            ),
            k.benefit.to_string(),
            format!(
                "{}\non {}\n#{} {}",
                k.used.subscription, k.used.on, k.used.seq, k.used.how
            ),
        ]
    });
    [
        format!(
            "changes from sequence {} to sequence {}; statuses on {}\n",
            found.from, found.to, found.on
        ),
        section(
            "subscriptions added or changed",
            &["subscription", "end", "seats", "status", "events"],
            subscriptions.collect(),
        ),
        section(
            "credits whose holders changed",
            &["benefit", "holders", "events"],
            credits.collect(),
        ),
        section("keys used", &["key", "benefit", "used on"], keys.collect()),
    ]
    .join("\n")
}

/// The CSV header of `diff`: one row per subscription, credit or key
/// (`kind`), the columns of the other kinds left empty.
const DIFF_CSV: &[&str] = &[
    "kind",
    "id",
    "change",
    "product",
    "end_before",
    "end_after",
    "seats_before",
    "seats_after",
    "status_before",
    "status_after",
    "holders_before",
    "holders_after",
    "key",
    "fingerprint",
    "key_seats",
    "used",
    "events",
];

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// A row of [`DIFF_CSV`]: `kind`, `id` and `change`, then the named cells,
/// the others empty.
fn csv_row(kind: &str, id: String, change: &str, cells: &[(&str, String)]) -> Vec<String> {
    let mut row = vec![kind.to_owned(), id, change.to_owned()];
    row.extend(DIFF_CSV[3..].iter().map(|name| {
        cells
            .iter()
            .find(|(cell, _)| cell == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    }));
    row
}

fn subscription_csv(s: &SubscriptionChange) -> Vec<String> {
    csv_row(
        "subscription",
        s.subscription.to_string(),
        s.change,
        &[
            ("product", s.product.clone()),
            ("end_before", opt(s.end_before)),
            ("end_after", s.end_after.to_string()),
            ("seats_before", opt(s.seats_before)),
            ("seats_after", s.seats_after.to_string()),
            ("status_before", opt(s.status_before)),
            ("status_after", s.status_after.to_string()),
            ("events", events_text(&s.events, "; ")),
        ],
    )
}

fn credit_csv(c: &CreditHoldersChange) -> Vec<String> {
    csv_row(
        "credit",
        c.benefit.to_string(),
        "holders",
        &[
            ("holders_before", holders_text(&c.holders_before, " ")),
            ("holders_after", holders_text(&c.holders_after, " ")),
            ("events", events_text(&c.events, "; ")),
        ],
    )
}

fn key_csv(k: &KeyUseChange) -> Vec<String> {
    let KeyUsed { seq, how, .. } = &k.used;
    csv_row(
        "key",
        k.benefit.to_string(),
        "used",
        &[
            ("key", k.key.clone()),
            ("fingerprint", k.fingerprint.clone()),
            ("key_seats", k.seats.to_string()),
            ("used", used_text(Some(&k.used))),
            ("events", format!("#{seq} {how}")),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_value_shows_before_and_after_and_an_unchanged_one_once() {
        assert_eq!(before_after(Some(25), 30), "25\n-> 30");
        assert_eq!(before_after(Some(30), 30), "30");
        assert_eq!(before_after(None, 30), "30");
    }

    #[test]
    fn holders_before_start_at_the_left_edge_and_holders_after_under_the_arrow() {
        let user = |name: &str| benefit_events::UserName::parse(name).expect("a user");
        let (ann, bob, cat) = (
            user("ann@contoso.com"),
            user("bob@contoso.com"),
            user("cat@contoso.com"),
        );
        assert_eq!(
            holders_cell(&[ann.clone(), bob.clone()], &[ann.clone(), cat]),
            "ann@contoso.com\nbob@contoso.com\n-> ann@contoso.com\n   cat@contoso.com"
        );
        assert_eq!(holders_cell(&[], &[bob]), "(none)\n-> bob@contoso.com");
    }

    #[test]
    fn a_csv_row_puts_each_cell_under_its_own_heading() {
        let row = csv_row(
            "credit",
            "b1".into(),
            "holders",
            &[("holders_after", "ann@contoso.com".into())],
        );
        assert_eq!(row.len(), DIFF_CSV.len());
        let at = |name: &str| DIFF_CSV.iter().position(|h| *h == name).expect("a heading");
        assert_eq!(row[at("holders_after")], "ann@contoso.com");
        assert_eq!(row[at("kind")], "credit");
        assert!(row[at("holders_before")].is_empty());
    }
}
