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
use serde::Serialize;

use crate::cli::{Format, Report, ReportOptions};
use crate::failure::Failure;
use crate::Context;

/// The width tables are laid out for.
const TABLE_WIDTH_COLUMNS: u16 = 80;
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

/// The gap right of every column but the last.
const COLUMN_GAP: usize = 2;

/// The byte offsets after which a text may wrap: after a space; after a
/// hyphen between two letters (`action-`/`pack`, never inside a date, an
/// arrow or `-30d`); after a `/` or `@` inside a name (`subscription/`,
/// `ann@`), so that a stream or an e-mail address can wrap too.
fn break_points(text: &str) -> Vec<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let at = |i: Option<usize>| i.and_then(|i| chars.get(i)).map(|(_, c)| *c);
    let letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
    let name = |c: Option<char>| c.is_some_and(|c| !c.is_whitespace());
    (0..chars.len())
        .filter(|&i| {
            let (before, after) = (at(i.checked_sub(1)), at(Some(i + 1)));
            match chars[i].1 {
                ' ' => true,
                '-' => letter(before) && letter(after),
                '/' | '@' => name(before) && after.is_some_and(char::is_alphanumeric),
                _ => false,
            }
        })
        .map(|i| chars[i].0 + chars[i].1.len_utf8())
        .collect()
}

/// A line cut into its words: each up to and including a break point.
fn words(line: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut from = 0;
    for at in break_points(line) {
        words.push(&line[from..at]);
        from = at;
    }
    words.push(&line[from..]);
    words
}

fn width_of(text: &str) -> usize {
    text.trim_end().chars().count()
}

/// The widest word of a text: a column at least this wide cuts none.
fn widest_word(text: &str) -> usize {
    text.lines()
        .flat_map(words)
        .map(width_of)
        .max()
        .unwrap_or(0)
}

/// A text wrapped at its break points into lines of at most `width`
/// columns; a word wider than that stays whole on a line of its own. A
/// line's continuations keep its indentation (the holders after `-> ` in
/// `diff`), so that a wrapped item is not read as the start of another.
fn wrap(text: &str, width: usize) -> String {
    // Most cells fit: each line whole, as the loop below would leave it
    // (a 480 000-row table spent a tenth of its time here, issue 11).
    if text.lines().all(|line| width_of(line) <= width) {
        return text
            .lines()
            .map(str::trim_end)
            .collect::<Vec<_>>()
            .join("\n");
    }
    let mut lines: Vec<String> = Vec::new();
    for line in text.lines() {
        let indent = &line[..line.len() - line.trim_start_matches(' ').len()];
        let mut current = String::new();
        for word in words(line) {
            if !current.trim().is_empty() && width_of(&format!("{current}{word}")) > width {
                lines.push(current.trim_end().to_owned());
                current = indent.to_owned();
            }
            current.push_str(word);
        }
        lines.push(current.trim_end().to_owned());
    }
    lines.join("\n")
}

/// The width of each column for [`TABLE_WIDTH_COLUMNS`]. A column is never
/// narrower than its widest word; the first column (ids) and short values
/// (dates, numbers, statuses) are never wrapped. Long texts share what is
/// left, the one that needs least first; if even their widest words do not
/// fit, the table grows wider than 80 columns rather than cut one.
fn column_widths(header: &[&str], rows: &[Vec<String>]) -> Vec<usize> {
    let cells = |i: usize| {
        rows.iter()
            .filter_map(move |r| r.get(i).map(String::as_str))
            .chain(header.get(i).copied())
    };
    let natural: Vec<usize> = (0..header.len())
        .map(|i| {
            cells(i)
                .flat_map(str::lines)
                .map(width_of)
                .max()
                .unwrap_or(0)
        })
        .collect();
    let least: Vec<usize> = (0..header.len())
        .map(|i| {
            let widest_cell = rows
                .iter()
                .filter_map(|r| r.get(i))
                .flat_map(|c| c.lines().map(width_of))
                .max()
                .unwrap_or(0);
            if i == 0 || widest_cell <= UNWRAPPED_CELL_CHARS_MAX {
                natural[i]
            } else {
                cells(i).map(widest_word).max().unwrap_or(0)
            }
        })
        .collect();
    let budget = usize::from(TABLE_WIDTH_COLUMNS)
        .saturating_sub(COLUMN_GAP * header.len().saturating_sub(1));
    if natural.iter().sum::<usize>() <= budget {
        return natural;
    }
    let mut widths = least;
    let mut left = budget.saturating_sub(widths.iter().sum());
    // What is left goes to the columns that want more, the one that wants
    // least first: a column given all it wants wraps no line at all, and
    // the long texts, which wrap anyway, take the rest.
    let mut wanting: Vec<usize> = (0..widths.len())
        .filter(|&i| widths[i] < natural[i])
        .collect();
    wanting.sort_by_key(|&i| (natural[i] - widths[i], i));
    for i in wanting {
        let more = (natural[i] - widths[i]).min(left);
        widths[i] += more;
        left -= more;
    }
    widths
}

/// A table of rows laid out for [`TABLE_WIDTH_COLUMNS`], as text. Long
/// texts wrap at spaces and after hyphens between letters, never inside a
/// word ([`column_widths`]); [`align`] then pads the wrapped cells.
pub fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let rows: Vec<Vec<String>> = rows.collect();
    let widths = column_widths(header, &rows);
    let wrapped = |cells: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        cells
            .zip(&widths)
            .map(|(cell, width)| wrap(cell, *width))
            .collect()
    };
    let header = wrapped(&mut header.iter().copied());
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| wrapped(&mut row.iter().map(String::as_str)))
        .collect();
    align(&header, &rows)
}

/// Wrapped cells in columns: each column as wide as its widest line (in
/// display columns), [`COLUMN_GAP`] between columns, the header underlined
/// with `-` across the table, no white space at the end of a line.
///
/// This was comfy-table's part (the layout it gave is the one the snapshots
/// pin). It is written here because the cells arrive wrapped and measured
/// already, and comfy-table's own pass over every cell was a sixth of a
/// 480 000-row report (issue 11, perf).
fn align(header: &[String], rows: &[Vec<String>]) -> String {
    use unicode_width::UnicodeWidthStr as _;
    let last = header.len().saturating_sub(1);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(header)
                .chain(rows.iter().map(Vec::as_slice))
                .filter_map(|row| row.get(i))
                .flat_map(|cell| cell.lines())
                .map(|line| line.width())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    let mut put_row = |row: &[String]| {
        let cells: Vec<Vec<&str>> = row.iter().map(|cell| cell.lines().collect()).collect();
        let height = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
        for k in 0..height {
            let start = text.len();
            for (i, width) in widths.iter().enumerate() {
                let line = cells.get(i).and_then(|c| c.get(k)).copied().unwrap_or("");
                text.push_str(line);
                let gap = if i == last { 0 } else { COLUMN_GAP };
                let pad = (width + gap).saturating_sub(line.width());
                text.extend(std::iter::repeat(' ').take(pad));
            }
            let kept = text[start..].trim_end().len();
            text.truncate(start + kept);
            text.push('\n');
        }
    };
    put_row(header);
    let total = widths.iter().sum::<usize>() + COLUMN_GAP * last;
    put_row(&["-".repeat(total)]);
    for row in rows {
        put_row(row);
    }
    text.pop();
    text
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
        Format::Csv => csv_text(R::CSV, rows.iter().map(Row::csv))?,
    };
    // A closed standard output (a pipe into `head`) ends the report quietly.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// CSV text: a header row, then the rows, every cell made
/// [`spreadsheet_safe`]. The one CSV writer of the binary (reports, `log`,
/// `diff`).
pub fn csv_text(
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<String, Failure> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let encode = |e: csv::Error| Failure::usage(format!("encoding CSV: {e}"));
    writer.write_record(header).map_err(encode)?;
    for row in rows {
        writer
            .write_record(row.into_iter().map(spreadsheet_safe))
            .map_err(encode)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Failure::usage(format!("encoding CSV: {e}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
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
    use super::{align, spreadsheet_safe, table, wrap};

    #[test]
    fn columns_are_as_wide_as_their_widest_line_and_lines_end_without_spaces() {
        let cells = |row: &[&str]| -> Vec<String> { row.iter().map(|c| (*c).to_owned()).collect() };
        let text = align(
            &cells(&["id", "product", "end"]),
            &[
                cells(&["contoso-e3", "Office\n365 E3", "2026-12-31"]),
                cells(&["café", "", ""]),
                cells(&["x", "Teams", "—"]),
            ],
        );
        let expected = [
            "id          product  end",
            "-------------------------------",
            "contoso-e3  Office   2026-12-31",
            "            365 E3",
            "café",
            "x           Teams    —",
        ];
        assert_eq!(text, expected.join("\n"));
    }

    #[test]
    fn tables_wrap_at_spaces_and_hyphens_between_letters_never_inside_a_word() {
        assert_eq!(wrap("action-pack", 7), "action-\npack");
        assert_eq!(wrap("contoso-monthly", 10), "contoso-\nmonthly");
        assert_eq!(wrap("Office 365 E3", 10), "Office 365\nE3");
        // Dates, arrows and signed numbers hold no break.
        assert_eq!(wrap("2026-12-31 -32d", 12), "2026-12-31\n-32d");
        assert_eq!(wrap("a -> 2026-12-30", 6), "a ->\n2026-12-30");
        // A word wider than the column stays whole.
        assert_eq!(wrap("silver-competency", 3), "silver-\ncompetency");
        // An indented line's continuations keep its indentation.
        assert_eq!(
            wrap(
                "-> ann@contoso.com\n   dev_fabrikam.com#ext#@contoso.com",
                24
            ),
            "-> ann@contoso.com\n   dev_fabrikam.com#ext#@\n   contoso.com"
        );
        let long = "one two three four five six seven eight nine ten eleven twelve";
        let rows = (0..3).map(|i| {
            vec![
                format!("contoso-monthly-{i}"),
                "action-pack".to_owned(),
                "silver-competency".to_owned(),
                "contoso-azure-monthly".to_owned(),
                long.to_owned(),
            ]
        });
        let text = table(&["benefit", "offer", "offer", "benefit", "why"], rows);
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        for word in long.split(' ').chain(["contoso-monthly-0", "action-pack"]) {
            assert!(
                text.lines()
                    .any(|l| l.split_whitespace().any(|w| w == word)),
                "{word} is cut in\n{text}"
            );
        }
    }

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
        "key_fingerprints",
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
            joined(&self.key_fingerprints, " "),
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
    withdrawn_on: Option<Date>,
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
            withdrawn_on: view.withdrawn_on,
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
            match self.withdrawn_on {
                Some(on) => format!("withdrawn {on} (L8)"),
                None => joined(&self.holders, "\n"),
            },
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
        "withdrawn_on",
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
            opt(&self.withdrawn_on),
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
        let provides = match &self.withdrawn {
            Some(w) => format!("{provides}; withdrawn {} (L8)", w.on),
            None => provides,
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
        "withdrawn_on",
        "withdrawn_reason",
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
                format!(
                    "{} {} x{}{used}",
                    k.key.key,
                    short_fingerprint(&k.key),
                    k.seats
                )
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
            opt(&self.withdrawn.as_ref().map(|w| w.on)),
            self.withdrawn
                .as_ref()
                .map(|w| w.reason.to_string())
                .unwrap_or_default(),
        ]
    }
}

/// The digits of a key's fingerprint shown beside it in a list of keys,
/// in brackets: enough to tell apart the keys of a ledger that share their
/// last group, and what `report key --fingerprint` takes.
const SHORT_FINGERPRINT_DIGITS: usize = 8;

fn short_fingerprint(key: &benefit_projections::KeyRef) -> String {
    let digits = key
        .fingerprint
        .get(..SHORT_FINGERPRINT_DIGITS)
        .unwrap_or(&key.fingerprint);
    format!("[{digits}]")
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
    let ledger = context.open_for_read()?;
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
            key_fate(self),
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
            key_fate(self),
        ]
    }
}

/// What became of a key: its use, or that its benefit was withdrawn (L8).
fn key_fate(row: &KeyRow) -> String {
    match row.withdrawn_on {
        Some(on) if row.used.is_none() => format!("unusable: benefit withdrawn {on} (L8)"),
        _ => used_text(row.used.as_ref()),
    }
}

/// A key's use as the tables show it (`report key`, `diff`).
pub fn used_text(used: Option<&benefit_projections::KeyUsed>) -> String {
    match used {
        Some(u) => format!("{} on {} by {} (#{})", u.subscription, u.on, u.how, u.seq),
        None => "unused".to_owned(),
    }
}
