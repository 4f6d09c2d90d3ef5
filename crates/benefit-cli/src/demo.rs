//! `demo`: records the scenario files of `tests/scenarios` (embedded in the
//! binary) into a fresh ledger and prints every report: the first command a
//! newcomer runs.
//!
//! The scenario files are in the import format plus two things only tests
//! and this demo read: a first line `{"report_on": [...]}`, skipped here, and
//! `"expect": "refused (R..)"` on lines the rules must refuse. Those lines
//! are decided with a dry run and shown as refusals; the lines between them
//! are recorded as one batch each, through the same `benefit-app` code as
//! `append --file`.

use std::io::Write;
use std::path::{Path, PathBuf};

use benefit_app::AppError;

use crate::backend::{Ledger, Location};
use benefit_domain::jsonl::parse_line;
use benefit_domain::{ClaimedActor, Command};
use benefit_events::UserName;
use serde_json::Value;

use crate::cli::{DemoArgs, Format, Report, ReportOptions};
use crate::failure::{Exit, Failure};
use crate::Context;

/// The scenario files, by name.
const SCENARIOS: [(&str, &str); 4] = [
    (
        "01-article-extensions.jsonl",
        include_str!("../../../tests/scenarios/01-article-extensions.jsonl"),
    ),
    (
        "02-co-terming.jsonl",
        include_str!("../../../tests/scenarios/02-co-terming.jsonl"),
    ),
    (
        "03-expire-disable-reactivate.jsonl",
        include_str!("../../../tests/scenarios/03-expire-disable-reactivate.jsonl"),
    ),
    (
        "04-partner-year.jsonl",
        include_str!("../../../tests/scenarios/04-partner-year.jsonl"),
    ),
];

/// Who records the demo when no `--actor` is given.
const DEMO_ACTOR: &str = "operator@contoso.com";
const DEMO_ROLE: &str = "mpn-partner-admin";

/// One line of a scenario: its number, its command, and the refusal it
/// expects, if any.
struct ScenarioLine {
    number: u64,
    command: Command,
    expect: Option<String>,
}

fn broken(file: &str, number: u64, why: impl std::fmt::Display) -> Failure {
    Failure::new(
        Exit::Unusable,
        format!("demo scenario {file} line {number}: {why}"),
    )
}

fn scenario_lines(
    file: &str,
    text: &str,
    context: &Context,
    actor: &ClaimedActor,
) -> Result<Vec<ScenarioLine>, Failure> {
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        let mut value: Value = serde_json::from_str(line).map_err(|e| broken(file, number, e))?;
        let Some(object) = value.as_object_mut() else {
            return Err(broken(file, number, "not a JSON object"));
        };
        if object.contains_key("report_on") {
            continue;
        }
        let expect = object
            .remove("expect")
            .and_then(|e| e.as_str().map(str::to_owned));
        let command = parse_line(&value.to_string(), Some(actor), context.today)
            .map_err(|e| broken(file, number, e))?;
        lines.push(ScenarioLine {
            number,
            command,
            expect,
        });
    }
    Ok(lines)
}

/// Records one batch of scenario lines; a refusal names the scenario line.
fn record(
    ledger: &mut Ledger,
    file: &str,
    batch: &mut Vec<ScenarioLine>,
) -> Result<usize, Failure> {
    if batch.is_empty() {
        return Ok(0);
    }
    let numbers: Vec<u64> = batch.iter().map(|l| l.number).collect();
    let commands = batch.drain(..).map(|l| l.command).collect();
    match ledger.record(commands) {
        Ok(recorded) => Ok(recorded.events.len()),
        Err(AppError::Refused { index, refusal }) => Err(broken(file, numbers[index], refusal)),
        Err(error) => Err(error.into()),
    }
}

/// The demo's ledger directory: the one given, which must not hold
/// anything yet, or a new temporary directory that is kept afterwards.
fn fresh_dir(given: Option<&Path>) -> Result<PathBuf, Failure> {
    if let Some(dir) = given {
        let occupied = dir
            .read_dir()
            .map(|mut entries| entries.next().is_some())
            .unwrap_or(false);
        if occupied {
            return Err(Failure::usage(format!(
                "demo writes into a fresh ledger, but {} is not empty",
                dir.display()
            ))
            .detail("give a new directory with --ledger DIR, or none for a temporary one"));
        }
        return Ok(dir.to_path_buf());
    }
    let dir = tempfile::Builder::new()
        .prefix("benefit-ledger-demo-")
        .tempdir()
        .map_err(|e| {
            Failure::new(
                Exit::Unusable,
                format!("creating a temporary directory: {e}"),
            )
        })?;
    Ok(dir.keep())
}

/// `demo`.
pub fn run(
    context: &Context,
    given: Option<&Path>,
    args: &DemoArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let actor = match &context.actor {
        Some(actor) => actor.clone(),
        None => ClaimedActor {
            user: UserName::parse(DEMO_ACTOR).map_err(|e| Failure::usage(e.to_string()))?,
            role: DEMO_ROLE.into(),
        },
    };
    let dir = fresh_dir(given)?;
    let mut ledger = Location::Dir(dir.clone()).create_or_open(context.clock())?;
    let mut text = vec![format!("Demo ledger: {}", dir.display()), String::new()];
    for (file, scenario) in SCENARIOS {
        let mut recorded = 0;
        let mut refusals = Vec::new();
        let mut batch = Vec::new();
        for line in scenario_lines(file, scenario, context, &actor)? {
            let Some(expect) = line.expect.clone() else {
                batch.push(line);
                continue;
            };
            recorded += record(&mut ledger, file, &mut batch)?;
            match ledger.dry_run(vec![line.command]) {
                Err(AppError::Refused { refusal, .. })
                    if refusal.to_string().starts_with(&expect) =>
                {
                    refusals.push(format!("  line {}: {refusal}", line.number));
                }
                Err(error) => return Err(broken(file, line.number, error)),
                Ok(_) => {
                    return Err(broken(
                        file,
                        line.number,
                        format!("expected {expect}, but it was accepted"),
                    ))
                }
            }
        }
        recorded += record(&mut ledger, file, &mut batch)?;
        text.push(format!(
            "{file}: recorded {recorded} events, refused {} line(s) as the rules require",
            refusals.len()
        ));
        text.extend(refusals);
    }
    let head = ledger.head()?;
    crate::acknowledged::record(&ledger, &head);
    text.push(format!("head {head}"));
    let _ = writeln!(out, "{}", text.join("\n"));
    let options = ReportOptions {
        format: Format::Table,
        as_of_seq: None,
        as_of: None,
    };
    let on = Some(args.on);
    let reports = [
        (
            format!("Subscriptions on {}", args.on),
            Report::Subscriptions {
                on,
                options: options.clone(),
            },
        ),
        (
            "Audit trail of end dates".to_owned(),
            Report::Audit {
                subscription: None,
                options: options.clone(),
            },
        ),
        (
            "Credits".to_owned(),
            Report::Credits {
                options: options.clone(),
            },
        ),
        (
            "Benefits".to_owned(),
            Report::Benefits {
                options: options.clone(),
            },
        ),
        (
            format!("Expiring within 90 days of {}", args.on),
            Report::Expiring {
                on,
                within: 90,
                options: options.clone(),
            },
        ),
    ];
    for (title, report) in &reports {
        let _ = writeln!(out, "\n== {title}");
        crate::report::print(context, &ledger, report, &options, out)?;
    }
    let site = crate::timeline::demo_site_dir(&dir);
    crate::timeline::write_site(
        &ledger,
        &Location::Dir(dir.clone()),
        &site,
        benefit_projections::reports::ReportDate::On(args.on),
    )?;
    let _ = writeln!(
        out,
        "\n== Site for an auditor\n{}",
        site.join("index.html").display()
    );
    let ledger_arg = dir.display();
    let _ = writeln!(
        out,
        "\nExplore it:\n  benefit-ledger --ledger {ledger_arg} report audit --subscription scenario-a\n  benefit-ledger --ledger {ledger_arg} report timeline --subscription scenario-a --format html > scenario-a.html\n  benefit-ledger --ledger {ledger_arg} log\n  benefit-ledger --ledger {ledger_arg} verify"
    );
    Ok(())
}
