//! `log`, `export`, `verify` and `rebuild`: the commands that read the log
//! itself rather than the reports. `log` masks keys (R3); `export` is the
//! one output that shows them whole, as the import format.

use std::io::Write;

use crate::backend::Ledger;
use benefit_events::{BenefitId, ProductKey, StreamId, SubscriptionId, UserName};
use benefit_projections::RebuildMode;
use benefit_store::StoredEvent;
use chrono::SecondsFormat;
use serde_json::{json, Value};

use crate::cli::{LogArgs, LogFormat, RebuildArgs, VerifyArgs};
use crate::failure::{Exit, Failure};
use crate::report::table;
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
/// subscription, a benefit and a user, the first that has events.
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
    let mut first = None;
    for candidate in candidates.into_iter().flatten() {
        if ledger.log(Some(&candidate)).next().is_some() {
            return Ok(candidate);
        }
        first.get_or_insert(candidate);
    }
    first.ok_or_else(|| {
        bad(&format!(
            "'{text}' is not a subscription id, benefit id or user"
        ))
    })
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

/// One stored event as a JSON line, keys masked.
fn log_line(record: &StoredEvent) -> String {
    let mut event: Value = serde_json::from_slice(&record.event.to_json()).unwrap_or(Value::Null);
    mask_keys(&mut event);
    json!({
        "seq": record.seq,
        "recorded_at": recorded_at(record),
        "stream": record.stream.as_str(),
        "stream_version": record.stream_version,
        "event_id": record.event_id,
        "command_id": record.command_id,
        "actor": {"user": record.actor.user.as_str(), "role": record.actor.role.as_str()},
        "recorded_by": record.recorded_by.as_ref().map(|a| json!({"user": a.user.as_str(), "role": a.role.as_str()})),
        "event": event,
        "prev_hash": record.prev_hash.to_hex(),
        "hash": record.hash.to_hex(),
    })
    .to_string()
}

/// `log`.
pub fn run_log(context: &Context, args: &LogArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let ledger = context.open_existing()?;
    let stream = args
        .stream
        .as_deref()
        .map(|s| stream(&ledger, s))
        .transpose()?;
    let records = ledger
        .log(stream.as_ref())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::from(benefit_app::AppError::from(e)))?;
    if let (Some(stream), true) = (&stream, records.is_empty()) {
        // Issue 14: a stream that does not exist is a usage error, not an
        // empty table that reads like a stream with no events.
        return Err(Failure::usage(format!(
            "--stream: the ledger has no stream {stream}; `benefit-ledger log` lists every event with its stream"
        )));
    }
    match args.format {
        LogFormat::Jsonl => write_lines(out, records.iter().map(log_line)),
        LogFormat::Table => {
            let rows = records.iter().map(|r| {
                vec![
                    r.seq.to_string(),
                    r.recorded_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    format!("{}\n{}", r.event.event_type(), r.stream),
                    by_and_recorded_by(r),
                    r.hash.to_hex()[..LOG_HASH_CHARS].to_owned(),
                ]
            });
            let header = ["seq", "recorded at (UTC)", "event, stream", "by", "hash"];
            write_lines(out, [table(&header, rows)]);
        }
    }
    Ok(())
}

/// `export`: the import lines of every stored event, keys whole.
pub fn run_export(context: &Context, out: &mut dyn Write) -> Result<(), Failure> {
    let ledger = context.open_existing()?;
    for line in ledger.export() {
        if writeln!(out, "{}", line?).is_err() {
            break;
        }
    }
    Ok(())
}

/// `verify`: the walk, the digest, the re-derivation; prints the head.
pub fn run_verify(
    context: &Context,
    args: &VerifyArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let ledger = context.open_existing()?;
    let verified = ledger.verify(args.digest.as_ref())?;
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
    let report = ledger.rebuild(mode)?;
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
