//! `log`, `export`, `verify` and `rebuild`: the commands that read the log
//! itself rather than the reports. `log` masks keys (R3); `export` is the
//! one output that shows them whole, as the import format.

use std::io::Write;

use crate::backend::Ledger;
use benefit_app::VerifyWalk;
use benefit_events::{BenefitId, Date, ProductKey, StreamId, SubscriptionId, UserName};
use benefit_projections::RebuildMode;
use benefit_store::{Reporter, StoredEvent};
use chrono::{DateTime, SecondsFormat, Utc};
use indicatif::ProgressBar;
use serde_json::{json, Value};

use crate::cli::{LogArgs, LogFormat, RebuildArgs, VerifyArgs};
use crate::failure::{Exit, Failure};
use crate::progress;
use crate::report::{csv_text, table};
use crate::Context;

/// How much of a hash the log table shows (`log --format jsonl` shows it
/// whole).
const LOG_HASH_CHARS: usize = 8;

/// Writes lines, stopping quietly when standard output is closed.
fn write_lines(out: &mut dyn Write, lines: impl IntoIterator<Item = String>) {
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

/// The stream `--stream` names: `kind/id`, or a bare id tried as a
/// subscription, a benefit and a user, the first that has events (none is
/// a usage error naming every stream tried).
fn stream(ledger: &Ledger, text: &str) -> Result<StreamId, Failure> {
    let bad = |e: &dyn std::fmt::Display| Failure::usage(format!("--stream: {e}"));
    if let Some((kind, id)) = text.split_once('/') {
        return match kind {
            "subscription" => Ok(StreamId::subscription(
                &SubscriptionId::parse(id).map_err(|e| bad(&e))?,
            )),
            "benefit" => Ok(StreamId::benefit(
                &BenefitId::parse(id).map_err(|e| bad(&e))?,
            )),
            "user" => Ok(StreamId::user(&UserName::parse(id).map_err(|e| bad(&e))?)),
            _ => Err(bad(
                &"a stream is subscription/ID, benefit/ID or user/EMAIL",
            )),
        };
    }
    let candidates = [
        SubscriptionId::parse(text)
            .ok()
            .map(|id| StreamId::subscription(&id)),
        BenefitId::parse(text).ok().map(|id| StreamId::benefit(&id)),
        UserName::parse(text).ok().map(|u| StreamId::user(&u)),
    ];
    let mut tried = Vec::new();
    for candidate in candidates.into_iter().flatten() {
        if ledger.log(Some(&candidate)).next().is_some() {
            return Ok(candidate);
        }
        tried.push(candidate.to_string());
    }
    if tried.is_empty() {
        return Err(bad(&format!(
            "'{text}' is not a subscription id, benefit id or user"
        )));
    }
    // Issue 14: a stream that does not exist is a usage error, not an
    // empty table that reads like a stream with no events.
    Err(bad(&format!(
        "the ledger has no stream '{text}' (tried {}); `benefit-ledger log` lists every event with its stream",
        tried.join(", ")
    )))
}

/// Replaces every product key in an event's JSON with its masked form (R3).
fn mask_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                match field {
                    Value::String(text) if name == "key" => {
                        *text = ProductKey::parse(text)
                            .map(|k| k.masked())
                            .unwrap_or_else(|_| "*****".into());
                    }
                    _ => mask_keys(field),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_keys),
        _ => {}
    }
}

fn recorded_at(record: &StoredEvent) -> String {
    record
        .recorded_at
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Who made the change and, where another person ran the append, who
/// recorded it (issue 13, R1).
fn by_and_recorded_by(record: &StoredEvent) -> String {
    match &record.recorded_by {
        Some(recorder) if recorder.user != record.actor.user => {
            format!("{}\nrecorded by {}", record.actor.user, recorder.user)
        }
        _ => record.actor.user.to_string(),
    }
}

/// One stored event's JSON, keys masked (R3).
fn masked_event(record: &StoredEvent) -> Value {
    let mut event: Value = serde_json::from_slice(&record.event.to_json()).unwrap_or(Value::Null);
    mask_keys(&mut event);
    event
}

/// One stored event as a JSON line, keys masked.
fn log_line(record: &StoredEvent) -> String {
    json!({
        "seq": record.seq,
        "recorded_at": recorded_at(record),
        "on": record.event.on().to_string(),
        "stream": record.stream.as_str(),
        "stream_version": record.stream_version,
        "event_id": record.event_id,
        "command_id": record.command_id,
        "actor": {"user": record.actor.user.as_str(), "role": record.actor.role.as_str()},
        "recorded_by": record.recorded_by.as_ref().map(|a| json!({"user": a.user.as_str(), "role": a.role.as_str()})),
        "event": masked_event(record),
        "prev_hash": record.prev_hash.to_hex(),
        "hash": record.hash.to_hex(),
    })
    .to_string()
}

/// The CSV header of `log --format csv`: the JSONL field names, `actor` and
/// `recorded_by` split into user and role, the event into its type and its
/// data (as JSON, keys masked).
const LOG_CSV: &[&str] = &[
    "seq",
    "recorded_at",
    "on",
    "stream",
    "stream_version",
    "event",
    "actor",
    "role",
    "recorded_by",
    "recorded_by_role",
    "event_id",
    "command_id",
    "data",
    "prev_hash",
    "hash",
];

/// One stored event as the cells of [`LOG_CSV`].
fn log_csv(record: &StoredEvent) -> Vec<String> {
    let data = masked_event(record)
        .get("data")
        .map(Value::to_string)
        .unwrap_or_default();
    let recorder = record.recorded_by.as_ref();
    vec![
        record.seq.to_string(),
        recorded_at(record),
        record.event.on().to_string(),
        record.stream.to_string(),
        record.stream_version.to_string(),
        record.event.event_type().to_string(),
        record.actor.user.to_string(),
        record.actor.role.to_string(),
        recorder.map(|a| a.user.to_string()).unwrap_or_default(),
        recorder.map(|a| a.role.to_string()).unwrap_or_default(),
        record.event_id.to_string(),
        record.command_id.to_string(),
        data,
        record.prev_hash.to_hex(),
        record.hash.to_hex(),
    ]
}

/// One stored event as the cells of the log table: the effective date,
/// the recorded-at instant over two lines, the event over its stream. A
/// stream breaks after its kind's `/` and an address before its `@`, so
/// that the table fits 80 columns without cutting a name.
fn log_table_row(record: &StoredEvent) -> Vec<String> {
    let by = by_and_recorded_by(record)
        .lines()
        .map(|line| line.replacen('@', "\n@", 1))
        .collect::<Vec<_>>()
        .join("\n");
    vec![
        record.seq.to_string(),
        record.event.on().to_string(),
        record.recorded_at.format("%Y-%m-%d\n%H:%M:%S").to_string(),
        format!(
            "{}\n{}",
            record.event.event_type(),
            record.stream.as_str().replacen('/', "/\n", 1)
        ),
        by,
        record.hash.to_hex()[..LOG_HASH_CHARS].to_owned(),
    ]
}

/// Which events `log` shows: effective dates (`--since`, `--until`) and
/// recorded-at instants (`--recorded-since`, `--recorded-until`), every
/// bound inclusive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// The first effective date shown.
    pub since: Option<Date>,
    /// The last effective date shown.
    pub until: Option<Date>,
    /// The first recorded-at instant shown.
    pub recorded_since: Option<DateTime<Utc>>,
    /// The last recorded-at instant shown.
    pub recorded_until: Option<DateTime<Utc>>,
}

impl LogFilter {
    /// The filter of `log`'s flags; a bound after its other end is a usage
    /// error, naming both.
    pub fn of(args: &LogArgs) -> Result<Self, Failure> {
        if let (Some(since), Some(until)) = (args.since, args.until) {
            if since > until {
                return Err(Failure::usage(format!(
                    "--since {since} is after --until {until}: no event could be shown"
                )));
            }
        }
        if let (Some(since), Some(until)) = (args.recorded_since, args.recorded_until) {
            if since > until {
                return Err(Failure::usage(format!(
                    "--recorded-since {} is after --recorded-until {}: no event could be shown",
                    since.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                    until.to_rfc3339_opts(SecondsFormat::AutoSi, true)
                )));
            }
        }
        Ok(Self {
            since: args.since,
            until: args.until,
            recorded_since: args.recorded_since,
            recorded_until: args.recorded_until,
        })
    }

    /// Whether `record` is shown.
    pub fn admits(&self, record: &StoredEvent) -> bool {
        let on = record.event.on();
        let at = record.recorded_at;
        // `map_or(true, ..)`: `Option::is_none_or` is newer than the
        // workspace's rust-version.
        self.since.map_or(true, |d| on >= d)
            && self.until.map_or(true, |d| on <= d)
            && self.recorded_since.map_or(true, |t| at >= t)
            && self.recorded_until.map_or(true, |t| at <= t)
    }
}

/// `log`.
pub fn run_log(context: &Context, args: &LogArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let filter = LogFilter::of(args)?;
    let ledger = context.open_for_read()?;
    let stream = args
        .stream
        .as_deref()
        .map(|s| stream(&ledger, s))
        .transpose()?;
    let mut records = ledger
        .log(stream.as_ref())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::from(benefit_app::AppError::from(e)))?;
    if let (Some(stream), true) = (&stream, records.is_empty()) {
        // Issue 14: a stream that does not exist is a usage error, not an
        // empty table that reads like a stream with no events. (A stream
        // that exists but has no event in the filter's window is an empty
        // table.)
        return Err(Failure::usage(format!(
            "--stream: the ledger has no stream {stream}; `benefit-ledger log` lists every event with its stream"
        )));
    }
    records.retain(|r| filter.admits(r));
    match args.format {
        LogFormat::Jsonl => write_lines(out, records.iter().map(log_line)),
        LogFormat::Csv => {
            let text = csv_text(LOG_CSV, records.iter().map(log_csv))?;
            let _ = out.write_all(text.as_bytes());
        }
        LogFormat::Table => {
            let header = [
                "seq",
                "on",
                "recorded at\n(UTC)",
                "event, stream",
                "by",
                "hash",
            ];
            let mut text = table(&header, records.iter().map(log_table_row));
            if records.is_empty() {
                text.push_str("\n(none)");
            }
            write_lines(out, [text]);
        }
    }
    Ok(())
}

/// `export`: the import lines of every stored event, keys whole (one line
/// per event, so the lines written count the events for the bar).
pub fn run_export(context: &Context, out: &mut dyn Write) -> Result<(), Failure> {
    let ledger = context.open_for_read()?;
    let bar = progress::bar(bar_length(&ledger), "exporting");
    let mut tick = |seq| bar.set_position(seq);
    let mut reporter = Reporter::new(&mut tick);
    let mut written = 0;
    for line in ledger.export() {
        if writeln!(out, "{}", line?).is_err() {
            break;
        }
        written += 1;
        reporter.reached(written);
    }
    reporter.finish(written);
    bar.finish_and_clear();
    Ok(())
}

/// A bar's length: the head's sequence. A head that cannot be read is left
/// for the command itself to report, as it would without a bar.
fn bar_length(ledger: &Ledger) -> u64 {
    ledger.head().map_or(0, |head| head.seq)
}

/// The bar of `verify`: one walk of the log after the other, each from the
/// start to the head.
fn verify_bar(head: u64) -> (ProgressBar, impl FnMut(VerifyWalk, u64)) {
    let bar = progress::bar(head, "verifying the hash chain");
    let moved = bar.clone();
    let tick = move |walk, seq| {
        moved.set_message(match walk {
            VerifyWalk::Chain => "verifying the hash chain",
            VerifyWalk::Rules => "re-deriving (R40)",
        });
        moved.set_position(seq);
    };
    (bar, tick)
}

/// `verify`: the walk, the digest, the re-derivation; prints the head.
pub fn run_verify(
    context: &Context,
    args: &VerifyArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let ledger = context.open_for_read()?;
    let (bar, mut tick) = verify_bar(bar_length(&ledger));
    let verified = ledger.verify(args.digest.as_ref(), &mut tick);
    bar.finish_and_clear();
    let verified = verified?;
    if !verified.findings.is_empty() {
        let mut failure = Failure::new(
            Exit::Unusable,
            format!(
                "ledger failed verification: {} stored outcome(s) the rules would not produce (R40)",
                verified.findings.len()
            ),
        );
        for finding in &verified.findings {
            failure = failure.detail(format!(
                "sequence {} {}: {}",
                finding.seq, finding.event, finding.mismatch
            ));
        }
        return Err(failure);
    }
    if let Some(finding) = &verified.redecided {
        return Err(Failure::new(
            Exit::Unusable,
            format!(
                "ledger failed verification: sequence {} {} does not follow from the log before it",
                finding.seq, finding.event
            ),
        )
        .detail(finding.problem.clone())
        .detail("its stored inputs came from somewhere else than the log (a forged or damaged projection document, say); every event before it follows from the log"));
    }
    let report = verified.report;
    let mut lines = vec![
        format!(
            "verified: {} events in {} streams; hash chain, sequences and indexes intact; every stored end date re-derives (R40); every event follows from the log before it",
            report.events, report.streams
        ),
        "the persisted reports were not compared with a fresh fold: `benefit-ledger rebuild` does that".to_owned(),
    ];
    if let Some(digest) = &args.digest {
        lines.push(format!(
            "digest {digest} matches: the history up to sequence {} is unchanged",
            digest.seq
        ));
    }
    lines.push(format!("head {}", report.head));
    write_lines(out, lines);
    Ok(())
}

/// `rebuild`: compares the persisted projections with a rebuild.
pub fn run_rebuild(
    context: &Context,
    args: &RebuildArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let ledger = context.open_existing()?;
    let mode = if args.repair {
        RebuildMode::Replace
    } else {
        RebuildMode::Check
    };
    let bar = progress::bar(bar_length(&ledger), "rebuilding");
    let report = ledger.rebuild(mode, &mut |seq| bar.set_position(seq));
    bar.finish_and_clear();
    let report = report?;
    let summary = format!(
        "rebuilt the projections to sequence {}: {} documents, {} difference(s) from the persisted ones",
        report.seq,
        report.documents,
        report.differences.len()
    );
    let show = |d: &Option<String>| d.clone().unwrap_or_else(|| "(none)".into());
    let details: Vec<String> = report
        .differences
        .iter()
        .flat_map(|d| {
            [
                format!("differs: {}", d.key),
                format!("  persisted: {}", show(&d.persisted)),
                format!("  rebuilt:   {}", show(&d.rebuilt)),
            ]
        })
        .collect();
    if report.differences.is_empty() || report.replaced {
        let mut lines = vec![summary];
        lines.extend(details);
        if report.replaced {
            lines.push("the persisted projections were replaced by the rebuild".into());
        }
        write_lines(out, lines);
        return Ok(());
    }
    let mut failure = Failure::new(
        Exit::Unusable,
        format!("projections differ from the log: {summary}"),
    );
    failure.detail = details;
    Err(failure.detail("`benefit-ledger rebuild --repair` replaces them with the rebuild"))
}
