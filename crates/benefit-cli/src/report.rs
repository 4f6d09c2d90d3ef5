//! `report`: the five reports of `benefit-projections`, printed as a table,
//! JSON or CSV. One [`Row`] implementation per report says how a row looks
//! in each format; one [`render`] prints any of them, so the three formats
//! cannot drift apart between reports.
//!
//! The JSON field names are a contract (docs/cli.md). Keys are masked in
//! every projection document (R3), so nothing here can show one whole.

use std::io::Write;

use benefit_app::View;

use crate::backend::Ledger;
use benefit_events::{Date, SubscriptionId};
use benefit_projections::reports::{
    self, CreditReport, ExpiringItem, KeyRow, ReportDate, SubscriptionRow,
};
use benefit_projections::{AuditEntry, BenefitView, CreditChange};
use comfy_table::{ColumnConstraint, ContentArrangement, Table};
use serde::Serialize;

use crate::cli::{Format, Report, ReportOptions};
use crate::failure::Failure;
use crate::Context;

/// The width tables are laid out for.
const TABLE_WIDTH_COLUMNS: u16 = 80;
/// No borders and no lines between rows: only a dashed line under each
/// heading (comfy-table's 19 style characters, `-` the sixth).
const TABLE_STYLE: &str = "     -             ";
/// Columns no wider than this are never wrapped: dates, numbers, statuses.
const UNWRAPPED_CELL_CHARS_MAX: usize = 12;

/// How one report's rows look in each format.
pub trait Row: Serialize {
    /// The table's column headings.
    const TABLE: &'static [&'static str];
    /// The row's table cells, short enough for 80 columns.
    fn table(&self) -> Vec<String>;
    /// The CSV header: the JSON field names.
    const CSV: &'static [&'static str];
    /// The row's CSV cells; lists are joined with spaces.
    fn csv(&self) -> Vec<String>;
}

/// A table of rows laid out for [`TABLE_WIDTH_COLUMNS`], as text.
pub fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let mut table = Table::new();
    table
        .load_preset(TABLE_STYLE)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(TABLE_WIDTH_COLUMNS)
        .set_header(header.iter().copied());
    for row in &rows {
        table.add_row(row);
    }
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((0, 2));
        // Ids (the first column) and short values (dates, numbers,
        // statuses, hashes) are unreadable when wrapped; only the long
        // texts wrap.
        let widest = rows
            .iter()
            .filter_map(|r| r.get(index))
            .flat_map(|cell| cell.lines().map(|l| l.chars().count()))
            .max()
            .unwrap_or(0);
        if index == 0 || widest <= UNWRAPPED_CELL_CHARS_MAX {
            column.set_constraint(ColumnConstraint::ContentWidth);
        }
    }
    table
        .lines()
        .map(|line| line.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Prints rows in a format. An empty table prints its header and `(none)`.
pub fn render<R: Row>(rows: &[R], format: Format, out: &mut dyn Write) -> Result<(), Failure> {
    let text = match format {
        Format::Table => {
            let mut text = table(R::TABLE, rows.iter().map(Row::table));
            if rows.is_empty() {
                text.push_str("\n(none)");
            }
            text.push('\n');
            text
        }
        Format::Json => {
            let mut text = serde_json::to_string_pretty(rows)
                .map_err(|e| Failure::usage(format!("encoding JSON: {e}")))?;
            text.push('\n');
            text
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            let encode = |e: csv::Error| Failure::usage(format!("encoding CSV: {e}"));
            writer.write_record(R::CSV).map_err(encode)?;
            for row in rows {
                let cells = row.csv().into_iter().map(spreadsheet_safe);
                writer.write_record(cells).map_err(encode)?;
            }
            let bytes = writer
                .into_inner()
                .map_err(|e| Failure::usage(format!("encoding CSV: {e}")))?;
            String::from_utf8_lossy(&bytes).into_owned()
        }
    };
    // A closed standard output (a pipe into `head`) ends the report quietly.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// A CSV cell made safe to open in a spreadsheet (OWASP's advice on CSV
/// injection): a cell that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be read as a formula, so it gets a leading `'`,
/// which spreadsheets show as text and do not run. `docs/cli.md` documents
/// the rule.
fn spreadsheet_safe(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::spreadsheet_safe;

    #[test]
    fn csv_cells_a_spreadsheet_would_run_as_formulas_are_neutralised() {
        for risky in ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx"] {
            assert_eq!(spreadsheet_safe(risky.to_owned()), format!("'{risky}"));
        }
        for plain in [
            "contoso-e5",
            "2026-01-15",
            "12 x 25 / 100 = 3 months (R11)",
            "",
            "1200.00",
        ] {
            assert_eq!(spreadsheet_safe(plain.to_owned()), plain);
        }
    }
}

fn opt<T: ToString>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn joined<T: ToString>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

impl Row for SubscriptionRow {
    const TABLE: &'static [&'static str] = &[
        "subscription",
        "product",
        "seats",
        "end",
        "status",
        "expiry (R21)",
    ];
    fn table(&self) -> Vec<String> {
        let mut expires: Vec<(Date, i64)> = self
            .benefit_expires
            .iter()
            .map(|b| (b.expires, b.days_after_end))
            .collect();
        expires.sort();
        expires.dedup();
        // R21: say how far a benefit's expiry is from the subscription's
        // end (expiry - end, in days), where they differ.
        let expires: Vec<String> = expires
            .iter()
            .map(|(date, days)| match days {
                0 => date.to_string(),
                days => format!("{date} {days:+}d"),
            })
            .collect();
        vec![
            self.subscription.to_string(),
            self.product.clone(),
            self.seats.to_string(),
            opt(&self.end),
            self.status.to_string(),
            joined(&expires, "\n"),
        ]
    }
    const CSV: &'static [&'static str] = &[
        "subscription",
        "product",
        "seats",
        "start",
        "end",
        "status",
        "keys",
        "benefit_expires",
        "expiry_differs",
        "days_after_end",
    ];
    fn csv(&self) -> Vec<String> {
        let expires: Vec<String> = self
            .benefit_expires
            .iter()
            .map(|b| format!("{}={}", b.benefit, b.expires))
            .collect();
        let days: Vec<i64> = self
            .benefit_expires
            .iter()
            .map(|b| b.days_after_end)
            .collect();
        vec![
            self.subscription.to_string(),
            self.product.clone(),
            self.seats.to_string(),
            opt(&self.start),
            opt(&self.end),
            self.status.to_string(),
            joined(&self.keys, " "),
            joined(&expires, " "),
            self.expiry_differs.to_string(),
            joined(&days, " "),
        ]
    }
}

impl Row for AuditEntry {
    const TABLE: &'static [&'static str] = &["seq", "on", "subscription", "new end", "why"];
    fn table(&self) -> Vec<String> {
        let days = self
            .days_changed
            .map(|d| format!("\n{d:+} days"))
            .unwrap_or_default();
        vec![
            self.seq.to_string(),
            self.on.to_string(),
            self.subscription.to_string(),
            format!("{}{days}", self.new_end),
            self.explanation.clone(),
        ]
    }
    const CSV: &'static [&'static str] = &[
        "seq",
        "recorded_at",
        "subscription",
        "event",
        "on",
        "actor",
        "role",
        "recorded_by",
        "recorded_by_role",
        "old_end",
        "new_end",
        "days_changed",
        "explanation",
    ];
    fn csv(&self) -> Vec<String> {
        vec![
            self.seq.to_string(),
            self.recorded_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            self.subscription.to_string(),
            self.event.clone(),
            self.on.to_string(),
            self.actor.to_string(),
            self.role.to_string(),
            opt(&self.recorded_by),
            opt(&self.recorded_by_role),
            opt(&self.old_end),
            self.new_end.to_string(),
            opt(&self.days_changed),
            self.explanation.clone(),
        ]
    }
}

/// A credit as the report shows it: the amount as a decimal string and its
/// currency apart (the projection stores [`benefit_events::Money`]).
#[derive(Debug, Serialize)]
pub struct CreditRow {
    benefit: String,
    plan: String,
    amount: String,
    currency: String,
    holders: Vec<String>,
    history: Vec<CreditChange>,
    enrollment_start: Option<Date>,
    enrollment_end: Option<Date>,
    expires: Date,
}

impl From<CreditReport> for CreditRow {
    fn from(CreditReport { view, history }: CreditReport) -> Self {
        Self {
            benefit: view.benefit.to_string(),
            plan: view.plan,
            amount: view.amount.amount_string(),
            currency: view.amount.currency().code().to_owned(),
            holders: view.holders.iter().map(ToString::to_string).collect(),
            history,
            enrollment_start: view.enrollment.map(|e| e.start),
            enrollment_end: view.enrollment.map(|e| e.end),
            expires: view.expires,
        }
    }
}

fn credit_change(change: &CreditChange) -> String {
    let from = change
        .from
        .as_ref()
        .map(|f| format!(" from {f}"))
        .unwrap_or_default();
    format!("{} {} {}{from}", change.on, change.change, change.user)
}

impl Row for CreditRow {
    const TABLE: &'static [&'static str] = &["benefit", "plan", "amount", "holders", "changes"];
    fn table(&self) -> Vec<String> {
        vec![
            self.benefit.clone(),
            self.plan.clone(),
            format!("{} {}", self.currency, self.amount),
            joined(&self.holders, "\n"),
            self.history.len().to_string(),
        ]
    }
    const CSV: &'static [&'static str] = &[
        "benefit",
        "plan",
        "amount",
        "currency",
        "holders",
        "history",
        "enrollment_start",
        "enrollment_end",
        "expires",
    ];
    fn csv(&self) -> Vec<String> {
        let history: Vec<String> = self.history.iter().map(credit_change).collect();
        vec![
            self.benefit.clone(),
            self.plan.clone(),
            self.amount.clone(),
            self.currency.clone(),
            joined(&self.holders, " "),
            joined(&history, "; "),
            opt(&self.enrollment_start),
            opt(&self.enrollment_end),
            self.expires.to_string(),
        ]
    }
}

impl Row for BenefitView {
    const TABLE: &'static [&'static str] =
        &["benefit", "product", "offer", "type", "expires", "provides"];
    fn table(&self) -> Vec<String> {
        let provides = if self.keys.is_empty() {
            self.provides.clone()
        } else {
            let used = self.keys.iter().filter(|k| k.used.is_some()).count();
            format!("{} keys, {used} used", self.keys.len())
        };
        vec![
            self.benefit.to_string(),
            self.product.to_string(),
            self.offer.to_string(),
            self.benefit_type.to_string(),
            self.expires.to_string(),
            provides,
        ]
    }
    const CSV: &'static [&'static str] = &[
        "benefit",
        "offer",
        "benefit_type",
        "product",
        "expires",
        "granted_on",
        "provides",
        "keys",
    ];
    fn csv(&self) -> Vec<String> {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| {
                let used = k
                    .used
                    .as_ref()
                    .map(|u| format!(" used {} on {}", u.on, u.subscription))
                    .unwrap_or_default();
                format!("{} x{}{used}", k.key.key, k.seats)
            })
            .collect();
        vec![
            self.benefit.to_string(),
            self.offer.to_string(),
            self.benefit_type.to_string(),
            self.product.to_string(),
            self.expires.to_string(),
            self.granted_on.to_string(),
            self.provides.clone(),
            joined(&keys, "; "),
        ]
    }
}

impl Row for ExpiringItem {
    const TABLE: &'static [&'static str] = &["date", "days", "kind", "id", "product", "status"];
    fn table(&self) -> Vec<String> {
        self.csv()
    }
    const CSV: &'static [&'static str] = &["date", "days_left", "kind", "id", "product", "status"];
    fn csv(&self) -> Vec<String> {
        vec![
            self.date.to_string(),
            self.days_left.to_string(),
            self.kind.to_owned(),
            self.id.clone(),
            self.product.clone(),
            opt(&self.status),
        ]
    }
}

/// `report`: runs the query on the view asked for and prints it.
pub fn run(context: &Context, report: &Report, out: &mut dyn Write) -> Result<(), Failure> {
    let ledger = context.open_existing()?;
    let options = match report {
        Report::Subscriptions { options, .. }
        | Report::Audit { options, .. }
        | Report::Credits { options }
        | Report::Benefits { options }
        | Report::Key { options, .. }
        | Report::Expiring { options, .. } => options,
        Report::Timeline { .. } | Report::Site { .. } => {
            crate::timeline::print(context, &ledger, report, out)?;
            return crate::close(ledger);
        }
    };
    print(context, &ledger, report, options, out)?;
    crate::close(ledger)
}

/// Prints one report from an open ledger (also used by `demo`).
pub fn print(
    context: &Context,
    ledger: &Ledger,
    report: &Report,
    options: &ReportOptions,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let view = match (options.as_of_seq, options.as_of) {
        (Some(seq), _) => View::AsOfSequence(seq),
        (None, Some(at)) => View::AsOfTime(at),
        (None, None) => View::Current,
    };
    let format = options.format;
    match report {
        Report::Subscriptions { on, .. } => {
            let date = ReportDate::from_flag(*on, context.today);
            let rows = ledger.report(view, |docs| reports::subscriptions(docs, date))?;
            render(&rows, format, out)
        }
        Report::Audit { subscription, .. } => {
            let subscription = subscription
                .as_deref()
                .map(SubscriptionId::parse)
                .transpose()
                .map_err(|e| Failure::usage(format!("--subscription: {e}")))?;
            let rows = ledger.report(view, |docs| reports::audit(docs, subscription.as_ref()))?;
            render(&rows, format, out)
        }
        Report::Credits { .. } => {
            let rows: Vec<CreditRow> = ledger
                .report(view, |docs| reports::credits(docs))?
                .into_iter()
                .map(CreditRow::from)
                .collect();
            render(&rows, format, out)
        }
        Report::Benefits { .. } => {
            let rows = ledger.report(view, |docs| reports::benefits(docs))?;
            render(&rows, format, out)
        }
        Report::Expiring { on, within, .. } => {
            let date = ReportDate::from_flag(*on, context.today);
            let rows = ledger.report(view, |docs| reports::expiring(docs, date, *within))?;
            render(&rows, format, out)
        }
        Report::Key {
            key, fingerprint, ..
        } => {
            let wanted = key_fingerprint(key.as_deref(), fingerprint.as_deref())?;
            let row = ledger.report(view, |docs| reports::key(docs, &wanted))?;
            let row = row.ok_or_else(|| {
                Failure::usage(format!(
                    "report key: no benefit of the ledger granted the key with fingerprint {wanted}"
                ))
            })?;
            render(&[row], format, out)
        }
        Report::Timeline { .. } | Report::Site { .. } => {
            crate::timeline::print(context, ledger, report, out)
        }
    }
}

/// The fingerprint `report key` looks for: of `--key` (parsed as `append`
/// parses it, never printed whole), or `--fingerprint` as given.
fn key_fingerprint(key: Option<&str>, fingerprint: Option<&str>) -> Result<String, Failure> {
    match (key, fingerprint) {
        (Some(text), _) => {
            let key = benefit_events::ProductKey::parse(text)
                .map_err(|e| Failure::usage(format!("--key: {e}")))?;
            Ok(benefit_projections::fold::key_ref(&key).fingerprint)
        }
        (None, Some(hex)) if hex.len() >= 8 && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(hex.to_ascii_lowercase())
        }
        (None, Some(hex)) => Err(Failure::usage(format!(
            "--fingerprint: '{}' is not 8 to 16 hex digits",
            benefit_events::mask_keys_in(hex)
        ))),
        (None, None) => Err(Failure::usage("report key needs --key or --fingerprint")),
    }
}

impl Row for KeyRow {
    const TABLE: &'static [&'static str] =
        &["key", "fingerprint", "benefit", "seats", "expires", "used"];
    fn table(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.fingerprint.clone(),
            self.benefit.clone(),
            self.seats.to_string(),
            self.expires.to_string(),
            used_text(self.used.as_ref()),
        ]
    }
    const CSV: &'static [&'static str] = &[
        "key",
        "fingerprint",
        "benefit",
        "product",
        "expires",
        "granted_on",
        "seats",
        "used",
    ];
    fn csv(&self) -> Vec<String> {
        vec![
            self.key.clone(),
            self.fingerprint.clone(),
            self.benefit.clone(),
            self.product.clone(),
            self.expires.to_string(),
            self.granted_on.to_string(),
            self.seats.to_string(),
            used_text(self.used.as_ref()),
        ]
    }
}

fn used_text(used: Option<&benefit_projections::KeyUsed>) -> String {
    match used {
        Some(u) => format!("{} on {} by {} (#{})", u.subscription, u.on, u.how, u.seq),
        None => "unused".to_owned(),
    }
}
