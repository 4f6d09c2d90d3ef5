//! The timeline: one subscription's end dates over time, as an SVG picture.
//!
//! The horizontal axis is the effective date, from the first activation to
//! past the status windows after the current end (R20); the vertical axis is
//! the end date. The end date in force moves as a step line; each change is
//! a numbered marker at its effective date, whose `<title>` (shown on hover)
//! is the full explanation, and whose number leads a label line below the
//! picture with the event, its rule and its numbers. A band under the axis
//! shades each day with the status the end date then in force gives it
//! (active, expired 30 days, disabled 90 days, deleted); dashed vertical
//! lines mark the expiry dates of the subscription's benefits (R21); the
//! seats are written under the band wherever they change.
//!
//! Coordinates are rounded to a tenth of a pixel, and every list is drawn
//! in a fixed order, so a history gives the same bytes on every machine.

use std::collections::BTreeMap;

use benefit_domain::status::{DISABLED_DAYS, EXPIRED_DAYS};
use chrono::{Datelike, Days};
use svg::node::element::path::Data;
use svg::node::element::{Circle, Group, Line, Path, Rectangle, Style, Text, Title};
use svg::Document;

use crate::{clean, Date, EndChange, RenderError, Timeline};

/// The picture's width, in pixels.
const WIDTH: f64 = 1100.0;
/// Room for the end dates on the left.
const LEFT: f64 = 96.0;
/// Room on the right.
const RIGHT: f64 = 24.0;
/// The top of the plot (above it: the title and the benefits' labels).
const PLOT_TOP: f64 = 76.0;
/// The bottom of the plot: the effective-date axis.
const PLOT_BOTTOM: f64 = 300.0;
/// The status band under the axis labels.
const BAND_TOP: f64 = 326.0;
/// The band's height.
const BAND_HEIGHT: f64 = 20.0;
/// The first of the two rows of seat counts.
const SEATS_Y: f64 = 366.0;
/// The first label line.
const LABELS_TOP: f64 = 408.0;
/// The distance between label lines.
const LINE_HEIGHT: f64 = 18.0;
/// Days shown before the first activation.
const DAYS_BEFORE: u64 = 15;
/// Days shown after the last status window begins (deleted, R20).
const DAYS_AFTER_DELETED: u64 = 30;
/// The fewest pixels between two labels of an axis.
const LABEL_GAP: f64 = 64.0;

/// The picture's inline style: no sheet or font from elsewhere.
const STYLE: &str = "
.timeline { font-family: sans-serif; font-size: 12px; fill: #222; }
.timeline .heading { font-size: 15px; font-weight: bold; }
.timeline .grid { stroke: #e4e4e4; }
.timeline .axis { stroke: #555; }
.timeline .step { fill: none; stroke: #1f4e9c; stroke-width: 2.5; }
.timeline .marker circle { fill: #fff; stroke: #1f4e9c; stroke-width: 2; }
.timeline .marker text, .timeline .label .number { font-weight: bold; fill: #1f4e9c; }
.timeline .benefit-expiry line { stroke: #8a2be2; stroke-dasharray: 5 4; }
.timeline .benefit-expiry text { fill: #8a2be2; }
.timeline .status-active { fill: #cdebd3; }
.timeline .status-expired { fill: #fde9a9; }
.timeline .status-disabled { fill: #f9c08f; }
.timeline .status-deleted { fill: #e3a6a6; }
.timeline .seats { fill: #444; }
";

/// The lifecycle statuses of R20, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Active,
    Expired,
    Disabled,
    Deleted,
}

impl Status {
    fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Disabled => "disabled",
            Self::Deleted => "deleted",
        }
    }
}

/// A run of days `[from, to)` with one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    status: Status,
    from: Date,
    to: Date,
}

/// `date` plus `days`, at most the calendar's last day: a picture never
/// fails or panics on the ledger's extreme dates.
fn plus(date: Date, days: i64) -> Date {
    let moved = if days >= 0 {
        date.checked_add_days(Days::new(days.unsigned_abs()))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    };
    moved.unwrap_or(if days >= 0 { Date::MAX } else { Date::MIN })
}

/// A length in pixels, rounded to a tenth so the bytes are stable.
fn px(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

/// How dates map to the picture: effective dates across, end dates up.
struct Frame {
    first: Date,
    last: Date,
    lowest_end: Date,
    highest_end: Date,
}

impl Frame {
    fn new(timeline: &Timeline, changes: &[&EndChange]) -> Self {
        let first_on = changes.iter().map(|c| c.on).min().unwrap_or(Date::MIN);
        let last_on = changes.iter().map(|c| c.on).max().unwrap_or(first_on);
        let current_end = changes.last().map_or(first_on, |c| c.new_end);
        let deleted = plus(current_end, EXPIRED_DAYS + DISABLED_DAYS);
        let mut last = plus(deleted, DAYS_AFTER_DELETED as i64).max(plus(last_on, 30));
        if let Some(latest) = timeline.benefits.iter().map(|b| b.expires).max() {
            last = last.max(plus(latest, DAYS_BEFORE as i64));
        }
        let lowest = changes.iter().map(|c| c.new_end).min().unwrap_or(first_on);
        let highest = changes.iter().map(|c| c.new_end).max().unwrap_or(lowest);
        let pad = ((highest - lowest).num_days() / 10).max(20);
        Self {
            first: plus(first_on, -(DAYS_BEFORE as i64)),
            last,
            lowest_end: plus(lowest, -pad),
            highest_end: plus(highest, pad),
        }
    }

    /// Pixels per day across.
    fn scale(&self) -> f64 {
        let days = (self.last - self.first).num_days().max(1);
        (WIDTH - LEFT - RIGHT) / days as f64
    }

    fn x(&self, date: Date) -> f64 {
        let date = date.clamp(self.first, self.last);
        px(LEFT + (date - self.first).num_days() as f64 * self.scale())
    }

    fn y(&self, end: Date) -> f64 {
        let days = (self.highest_end - self.lowest_end).num_days().max(1) as f64;
        let above = (end.clamp(self.lowest_end, self.highest_end) - self.lowest_end).num_days();
        px(PLOT_BOTTOM - above as f64 / days * (PLOT_BOTTOM - PLOT_TOP))
    }
}

/// The timeline of one subscription as a standalone SVG document. Its
/// markers (`g.marker`) carry the change's `data-seq`, `data-on`,
/// `data-new-end` and `data-event`, for tests and scripts.
pub fn timeline_svg(timeline: &Timeline) -> Result<String, RenderError> {
    let mut changes: Vec<&EndChange> = timeline.changes.iter().collect();
    if changes.is_empty() {
        return Err(RenderError::NoChanges {
            subscription: timeline.subscription.clone(),
        });
    }
    // R22 keeps a subscription's changes in effective-date order; sorting
    // by it (then by sequence) keeps the step line going forward anyway.
    changes.sort_by_key(|c| (c.on, c.seq));
    let frame = Frame::new(timeline, &changes);
    let legend_y = LABELS_TOP + changes.len() as f64 * LINE_HEIGHT + 8.0;
    let height = legend_y + LINE_HEIGHT + 8.0;
    let heading = format!(
        "{} ({}): end date by effective date",
        timeline.subscription, timeline.product
    );
    let document = Document::new()
        .set("viewBox", (0, 0, WIDTH, height))
        .set("width", WIDTH)
        .set("height", height)
        .set("class", "timeline")
        .add(Style::new(STYLE))
        .add(Title::new(clean(&heading)))
        .add(
            Text::new(clean(&heading))
                .set("class", "heading")
                .set("x", LEFT)
                .set("y", 22),
        )
        .add(status_band(&frame, &changes))
        .add(axes(&frame, &changes))
        .add(benefit_lines(&frame, timeline))
        .add(step_line(&frame, &changes))
        .add(markers(&frame, &changes))
        .add(seats_lane(&frame, &changes))
        .add(labels(&changes))
        .add(legend(legend_y));
    Ok(document.to_string())
}

/// R20's spans over the picture: each day has the status that the end
/// date in force on it gives it. Before the first activation, none.
fn status_spans(changes: &[&EndChange], until: Date) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    for (index, change) in changes.iter().enumerate() {
        let next = changes.get(index + 1).map_or(until, |c| c.on.min(until));
        let end = change.new_end;
        let expired_until = plus(end, EXPIRED_DAYS);
        let disabled_until = plus(expired_until, DISABLED_DAYS);
        let windows = [
            (Status::Active, Date::MIN, end),
            (Status::Expired, end, expired_until),
            (Status::Disabled, expired_until, disabled_until),
            (Status::Deleted, disabled_until, Date::MAX),
        ];
        for (status, start, stop) in windows {
            let (from, to) = (start.max(change.on), stop.min(next));
            if from >= to {
                continue;
            }
            match spans.last_mut() {
                Some(last) if last.status == status && last.to == from => last.to = to,
                _ => spans.push(Span { status, from, to }),
            }
        }
    }
    spans
}

fn status_band(frame: &Frame, changes: &[&EndChange]) -> Group {
    let mut band = Group::new().set("class", "status-band");
    for span in status_spans(changes, frame.last) {
        let (left, right) = (frame.x(span.from), frame.x(span.to));
        let name = span.status.name();
        let last_day = plus(span.to, -1);
        let mut shade = Group::new()
            .set("class", "status")
            .set("data-status", name)
            .add(Title::new(format!(
                "{name} from {} to {last_day} (R20)",
                span.from
            )))
            .add(
                Rectangle::new()
                    .set("class", format!("status-{name}"))
                    .set("x", left)
                    .set("y", BAND_TOP)
                    .set("width", px(right - left))
                    .set("height", BAND_HEIGHT),
            );
        if right - left >= 56.0 {
            shade = shade.add(
                Text::new(name)
                    .set("x", px(left + 4.0))
                    .set("y", BAND_TOP + 14.0),
            );
        }
        band = band.add(shade);
    }
    band
}

/// What the band's colours mean.
fn legend(y: f64) -> Group {
    let entries = [
        (Status::Active, "active"),
        (Status::Expired, "expired (30 days)"),
        (Status::Disabled, "disabled (90 days)"),
        (Status::Deleted, "deleted"),
    ];
    let mut legend = Group::new().set("class", "legend");
    let mut x = LEFT;
    for (status, text) in entries {
        legend = legend
            .add(
                Rectangle::new()
                    .set("class", format!("status-{}", status.name()))
                    .set("x", x)
                    .set("y", y)
                    .set("width", 14)
                    .set("height", 14),
            )
            .add(Text::new(text).set("x", x + 20.0).set("y", y + 12.0));
        x += 150.0;
    }
    legend.add(
        Text::new("R20 statuses; dashed: a benefit's expiry (R21)")
            .set("x", x)
            .set("y", y + 12.0),
    )
}

/// The effective-date axis with its months, and the end dates with their
/// grid lines.
fn axes(frame: &Frame, changes: &[&EndChange]) -> Group {
    let mut axes = Group::new().set("class", "axes").add(
        Line::new()
            .set("class", "axis")
            .set("x1", LEFT)
            .set("y1", PLOT_BOTTOM)
            .set("x2", WIDTH - RIGHT)
            .set("y2", PLOT_BOTTOM),
    );
    let month_width = 30.0 * frame.scale();
    let stride = [1, 2, 3, 6, 12, 24, 60, 120]
        .into_iter()
        .find(|months| f64::from(*months) * month_width >= LABEL_GAP)
        .unwrap_or(1200);
    let mut month = Date::from_ymd_opt(frame.first.year(), frame.first.month(), 1);
    while let Some(start) = month.filter(|m| *m <= frame.last) {
        let index = start.year() * 12 + start.month0() as i32;
        if start >= frame.first && index % stride == 0 {
            let x = frame.x(start);
            axes = axes.add(grid(x, PLOT_TOP, x, PLOT_BOTTOM + 4.0)).add(
                Text::new(start.format("%Y-%m").to_string())
                    .set("x", x)
                    .set("y", PLOT_BOTTOM + 16.0)
                    .set("text-anchor", "middle"),
            );
        }
        month = start.checked_add_months(chrono::Months::new(1));
    }
    let mut ends: Vec<Date> = changes.iter().map(|c| c.new_end).collect();
    ends.sort();
    ends.dedup();
    let mut last_y = f64::INFINITY;
    for end in ends {
        let y = frame.y(end);
        axes = axes.add(grid(LEFT, y, WIDTH - RIGHT, y));
        if last_y - y >= 13.0 {
            axes = axes.add(
                Text::new(end.to_string())
                    .set("x", LEFT - 8.0)
                    .set("y", px(y + 4.0))
                    .set("text-anchor", "end"),
            );
            last_y = y;
        }
    }
    axes.add(Text::new("end date").set("x", 8).set("y", PLOT_TOP - 8.0))
        .add(
            Text::new("effective date")
                .set("x", WIDTH - RIGHT)
                .set("y", PLOT_BOTTOM - 6.0)
                .set("text-anchor", "end"),
        )
}

fn grid(x1: f64, y1: f64, x2: f64, y2: f64) -> Line {
    Line::new()
        .set("class", "grid")
        .set("x1", x1)
        .set("y1", y1)
        .set("x2", x2)
        .set("y2", y2)
}

/// R21: a dashed line at each expiry date of the subscription's benefits.
fn benefit_lines(frame: &Frame, timeline: &Timeline) -> Group {
    let mut by_date: BTreeMap<Date, Vec<String>> = BTreeMap::new();
    for benefit in &timeline.benefits {
        by_date
            .entry(benefit.expires)
            .or_default()
            .push(clean(&benefit.benefit));
    }
    let mut lines = Group::new().set("class", "benefit-expiries");
    for (index, (expires, mut benefits)) in by_date.into_iter().enumerate() {
        benefits.sort();
        benefits.dedup();
        let x = frame.x(expires);
        let text = format!("{} expires {expires}", benefits.join(", "));
        let anchor = if x > WIDTH - 200.0 { "end" } else { "middle" };
        lines = lines.add(
            Group::new()
                .set("class", "benefit-expiry")
                .set("data-date", expires.to_string())
                .add(Title::new(format!("R21: benefit {text}")))
                .add(
                    Line::new()
                        .set("x1", x)
                        .set("y1", PLOT_TOP - 14.0)
                        .set("x2", x)
                        .set("y2", BAND_TOP + BAND_HEIGHT),
                )
                .add(
                    Text::new(text)
                        .set("x", x)
                        .set("y", 44.0 + 14.0 * (index % 2) as f64)
                        .set("text-anchor", anchor),
                ),
        );
    }
    lines
}

/// The end date in force, as a step line from the first activation on.
fn step_line(frame: &Frame, changes: &[&EndChange]) -> Path {
    let mut data = Data::new();
    let mut previous: Option<Date> = None;
    for change in changes {
        let x = frame.x(change.on);
        data = match previous {
            None => data.move_to((x, frame.y(change.new_end))),
            Some(end) => data
                .line_to((x, frame.y(end)))
                .line_to((x, frame.y(change.new_end))),
        };
        previous = Some(change.new_end);
    }
    if let Some(end) = previous {
        data = data.line_to((WIDTH - RIGHT, frame.y(end)));
    }
    Path::new().set("class", "step").set("d", data)
}

/// Text for an attribute: the `svg` crate escapes `&`, `<` and `>` in
/// attribute values, not the quote around them.
fn attribute(text: &str) -> String {
    clean(text).replace('"', "'")
}

/// One numbered marker per change, its explanation in its `<title>`.
fn markers(frame: &Frame, changes: &[&EndChange]) -> Group {
    let mut markers = Group::new().set("class", "markers");
    for (index, change) in changes.iter().enumerate() {
        let (x, y) = (frame.x(change.on), frame.y(change.new_end));
        let title = format!(
            "#{} {} on {}: {}",
            change.seq, change.event, change.on, change.explanation
        );
        markers = markers.add(
            Group::new()
                .set("class", "marker")
                .set("data-seq", change.seq)
                .set("data-on", change.on.to_string())
                .set("data-new-end", change.new_end.to_string())
                .set("data-event", attribute(&change.event))
                .add(Title::new(clean(&title)))
                .add(Circle::new().set("cx", x).set("cy", y).set("r", 5))
                .add(
                    Text::new((index + 1).to_string())
                        .set("x", px(x + 7.0))
                        .set("y", px(y - 7.0)),
                ),
        );
    }
    markers
}

/// The seats, written under the band wherever they change; a count too
/// close to the one before it goes on the second row.
fn seats_lane(frame: &Frame, changes: &[&EndChange]) -> Group {
    let mut lane = Group::new().set("class", "seats-lane");
    let mut shown: Option<u32> = None;
    let mut row_ends = [f64::NEG_INFINITY; 2];
    for change in changes {
        let Some(seats) = change.seats.filter(|s| shown != Some(*s)) else {
            continue;
        };
        shown = Some(seats);
        let x = frame.x(change.on);
        let row = usize::from(x - row_ends[0] < LABEL_GAP);
        row_ends[row] = x;
        lane = lane.add(
            Text::new(format!("{seats} seats"))
                .set("class", "seats")
                .set("data-seq", change.seq)
                .set("x", x)
                .set("y", SEATS_Y + 16.0 * row as f64),
        );
    }
    lane
}

/// One line per marker: its number, date, event, rule and numbers.
fn labels(changes: &[&EndChange]) -> Group {
    let mut labels = Group::new().set("class", "labels");
    for (index, change) in changes.iter().enumerate() {
        let y = LABELS_TOP + index as f64 * LINE_HEIGHT;
        let moved = match change.old_end {
            Some(old) => format!("{old} -> {}", change.new_end),
            None => format!("ends {}", change.new_end),
        };
        let text = format!(
            "{}  {}  {}  ({moved})",
            change.on, change.event, change.label
        );
        labels = labels.add(
            Group::new()
                .set("class", "label")
                .set("data-seq", change.seq)
                .add(
                    Text::new((index + 1).to_string())
                        .set("class", "number")
                        .set("x", LEFT - 8.0)
                        .set("y", y)
                        .set("text-anchor", "end"),
                )
                .add(Text::new(clean(&text)).set("x", LEFT).set("y", y)),
        );
    }
    labels
}

#[cfg(test)]
mod tests;
