//! Standalone HTML pages: a subscription's timeline with its audit trail,
//! and the index of a static site with every report as a sortable table.
//!
//! Every page is one file that works without a network: its style is
//! inline, and its one script (sorting a table by a clicked column) is our
//! own, inline too. Templates are `maud`'s, checked at compile time; maud
//! escapes every interpolated text, and the only markup inserted as is
//! is this crate's own SVG, its style and its script.

use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::timeline::timeline_svg;
use crate::{clean, EndChange, RenderError, Timeline};

/// The pages' inline style.
const STYLE: &str = "
body { font-family: sans-serif; margin: 1.5rem; color: #222; background: #fff; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left;
  vertical-align: top; white-space: pre-line; }
th { background: #eef2f8; }
table.sortable th { cursor: pointer; }
table.sortable th[aria-sort=ascending]::after { content: ' \\25B2'; }
table.sortable th[aria-sort=descending]::after { content: ' \\25BC'; }
td.number { text-align: right; white-space: nowrap; }
td.value, td:first-child { white-space: nowrap; }
#audit-table td:nth-child(8) { min-width: 24em; }
code { background: #f4f4f4; padding: 0.1rem 0.3rem; }
figure { margin: 1rem 0; overflow-x: auto; }
nav a { margin-right: 1rem; }
";

/// Sorts a `table.sortable` by the column whose heading is clicked (or
/// given Enter), numbers as numbers, anything else as text; a second click
/// reverses the order. No network, no library.
const SORT_SCRIPT: &str = "
document.querySelectorAll('table.sortable').forEach(function (table) {
  var headings = table.querySelectorAll('th');
  headings.forEach(function (heading, column) {
    heading.tabIndex = 0;
    var sort = function () {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var ascending = heading.getAttribute('aria-sort') !== 'ascending';
      headings.forEach(function (h) { h.removeAttribute('aria-sort'); });
      heading.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var number = /^-?[0-9]+([.][0-9]+)?$/;
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent.trim();
        var y = b.cells[column].textContent.trim();
        var order = number.test(x) && number.test(y)
          ? parseFloat(x) - parseFloat(y)
          : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    };
    heading.addEventListener('click', sort);
    heading.addEventListener('keydown', function (event) {
      if (event.key === 'Enter') { sort(); }
    });
  });
});
";

/// A report as a table of text cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The section's anchor (`subscriptions`).
    pub id: String,
    /// Its heading.
    pub title: String,
    /// The column headings.
    pub headers: Vec<String>,
    /// The rows' cells; a line feed in a cell is a line break.
    pub rows: Vec<Vec<String>>,
    /// Per row, where its first cell links to, if anywhere.
    pub links: Vec<Option<String>>,
}

/// The index of a static site: what it was made of, and every report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteIndex {
    /// The page's heading.
    pub title: String,
    /// The date the statuses are for.
    pub on: crate::Date,
    /// The head digest (`SEQ:HASH`) the reports were read at.
    pub head: String,
    /// The command that verifies the digest.
    pub verify_command: String,
    /// The reports.
    pub tables: Vec<Table>,
}

fn page(title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (clean(title)) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (body)
                script { (PreEscaped(SORT_SCRIPT)) }
            }
        }
    }
    .into_string()
}

/// A number (`12`, `-3`, `+61`, `1200.00`): right-aligned.
fn is_number(cell: &str) -> bool {
    let digits = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// A date, an instant or a number: never wrapped.
fn is_value(cell: &str) -> bool {
    !cell.contains(' ')
        && cell.len() <= 32
        && cell
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
}

fn cell_class(cell: &str) -> Option<&'static str> {
    if is_number(cell) {
        Some("number")
    } else if is_value(cell) {
        Some("value")
    } else {
        None
    }
}

fn table(table: &Table) -> Markup {
    html! {
        table.sortable id={ (clean(&table.id)) "-table" } {
            thead { tr { @for heading in &table.headers { th { (clean(heading)) } } } }
            tbody {
                @for (index, row) in table.rows.iter().enumerate() {
                    tr {
                        @for (column, cell) in row.iter().enumerate() {
                            td class=[cell_class(cell)] {
                                @match (column, table.links.get(index).and_then(Option::as_ref)) {
                                    (0, Some(href)) => a href=(clean(href)) { (clean(cell)) },
                                    _ => (clean(cell)),
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn audit_rows(changes: &[EndChange]) -> Table {
    let headers = [
        "seq",
        "on",
        "event",
        "old end",
        "new end",
        "days",
        "seats",
        "why",
        "recorded by",
        "recorded at",
    ];
    let rows = changes
        .iter()
        .map(|c| {
            let days = c.old_end.map(|old| (c.new_end - old).num_days());
            vec![
                c.seq.to_string(),
                c.on.to_string(),
                c.event.clone(),
                c.old_end.map(|d| d.to_string()).unwrap_or_default(),
                c.new_end.to_string(),
                days.map(|d| format!("{d:+}")).unwrap_or_default(),
                c.seats.map(|s| s.to_string()).unwrap_or_default(),
                c.explanation.clone(),
                c.actor.clone(),
                c.recorded_at.clone(),
            ]
        })
        .collect::<Vec<_>>();
    Table {
        id: "audit".to_owned(),
        title: "Audit trail".to_owned(),
        headers: headers.iter().map(|h| (*h).to_owned()).collect(),
        links: vec![None; rows.len()],
        rows,
    }
}

/// One standalone page: the subscription's timeline and its audit trail.
/// `back` links to the page it came from (a site's index), if any.
pub fn timeline_page(timeline: &Timeline, back: Option<&str>) -> Result<String, RenderError> {
    let picture = timeline_svg(timeline)?;
    let title = format!("Timeline of {}", timeline.subscription);
    let body = html! {
        @if let Some(href) = back {
            nav { a href=(clean(href)) { "All reports" } }
        }
        h1 { (clean(&title)) " (" (clean(&timeline.product)) ")" }
        p {
            "Each marker is a change of the end date at its effective date; hover it for the \
             full explanation. The band shades the status each day had (R20); dashed lines are \
             the benefits' expiry dates (R21)."
        }
        figure { (PreEscaped(picture)) }
        h2 { "Audit trail" }
        (table(&audit_rows(&timeline.changes)))
    };
    Ok(page(&title, body))
}

/// The index of a site: the digest, how to verify it, and every report.
pub fn site_index(index: &SiteIndex) -> String {
    let body = html! {
        h1 { (clean(&index.title)) }
        p { "Statuses on " (index.on) ". Click a column heading to sort its table." }
        p { "Head digest: " code { (clean(&index.head)) } }
        p { "Verify that the ledger still holds this history: " code { (clean(&index.verify_command)) } }
        nav {
            @for section in &index.tables { a href={ "#" (clean(&section.id)) } { (clean(&section.title)) } }
        }
        @for section in &index.tables {
            section {
                h2 id=(clean(&section.id)) { (clean(&section.title)) }
                @if section.rows.is_empty() { p { "(none)" } } @else { (table(section)) }
            }
        }
    };
    page(&index.title, body)
}
