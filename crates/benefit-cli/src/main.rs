//! `benefit-ledger`, the command line of the benefit ledger: operators
//! append events and import JSON Lines; auditors read the reports, the log,
//! an export, and verify the hash chain.
//!
//! A key design decision: this binary is thin. It parses arguments (clap),
//! calls `benefit-app` — the same code path a benchmark runs — and formats
//! the result; it alone maps errors to exit codes ([`failure`]). The
//! interface (subcommands, flags, environment variables, JSON field names,
//! exit codes) is a contract, documented in `docs/cli.md`.
//!
//! Time comes from the system clock, or, for tests only, from
//! `BENEFIT_LEDGER_FAKE_NOW` (an RFC 3339 instant): it sets both today's
//! date (the default `--on`) and the clock that stamps recorded-at, so that
//! outputs are reproducible byte for byte.
#![forbid(unsafe_code)]

mod acknowledged;
mod append;
mod backend;
mod cli;
mod demo;
mod diff;
mod failure;
mod log;
mod progress;
mod report;
mod shell;
mod space;
mod timeline;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use benefit_domain::ClaimedActor;
use benefit_events::{mask_keys_in, Date};
use benefit_store::{Clock, SteppingClock, SystemClock};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;

use crate::backend::{Ledger, Location};
use crate::cli::{Cli, Command};
use crate::failure::Failure;

/// The ledger directory when neither `--ledger` nor `BENEFIT_LEDGER` names
/// one.
const DEFAULT_LEDGER: &str = "./benefit-ledger";
/// The test-only variable that fixes the clock (RFC 3339).
const FAKE_NOW_VAR: &str = "BENEFIT_LEDGER_FAKE_NOW";

/// What every command needs besides its own arguments.
pub struct Context {
    /// Where the ledger is: a directory, or a PostgreSQL URL.
    pub ledger: Location,
    /// Who makes a change, as claimed by `--actor` and `--role`.
    pub actor: Option<ClaimedActor>,
    /// Today's date in UTC: the default effective date.
    pub today: Date,
    /// The fixed start of the clock, for tests.
    fake_now: Option<DateTime<Utc>>,
    /// How long to wait for a ledger another process holds (`--wait`).
    wait: std::time::Duration,
}

impl Context {
    /// The clock that stamps recorded-at: the system's, or for tests one
    /// that starts at `BENEFIT_LEDGER_FAKE_NOW` and moves a second a read.
    pub fn clock(&self) -> Box<dyn Clock> {
        match self.fake_now {
            Some(start) => Box::new(SteppingClock::new(start, TimeDelta::seconds(1))),
            None => Box::new(SystemClock),
        }
    }

    /// Opens the ledger for a command that may write (`rebuild`): a
    /// missing ledger is an error, and so is a log that no longer reaches
    /// the head last acknowledged to an operator ([`acknowledged`]), or a
    /// disk too full to write to it safely ([`space`]).
    pub fn open_existing(&self) -> Result<Ledger, Failure> {
        if let Some(dir) = self.ledger.dir() {
            space::check(dir, 0)?;
        }
        self.open_for_read()
    }

    /// Opens the ledger for a read (reports, `log`, `export`, `verify`,
    /// `diff`): as [`Context::open_existing`], but on a disk of any free
    /// space, wherever the engine can open it (issue 13). What a read
    /// writes (the reports catching up) fails, bounded and clearly, when
    /// the disk is full.
    pub fn open_for_read(&self) -> Result<Ledger, Failure> {
        let ledger = self.waiting(|| self.ledger.open_existing(self.clock()))?;
        acknowledged::check(&ledger)?;
        Ok(ledger)
    }

    /// Runs `open` until it does not find the ledger in use, for as long as
    /// `--wait` allows, with one line on standard error while it waits.
    pub fn waiting<T>(
        &self,
        mut open: impl FnMut() -> Result<T, benefit_app::AppError>,
    ) -> Result<T, benefit_app::AppError> {
        use benefit_app::AppError;
        use benefit_store::StoreError;
        let deadline = std::time::Instant::now() + self.wait;
        let mut told = false;
        loop {
            match open() {
                Err(AppError::Store(StoreError::InUse { pid, .. }))
                    if std::time::Instant::now() < deadline =>
                {
                    if !told {
                        let holder =
                            pid.map_or("another process".to_owned(), |p| format!("pid {p}"));
                        eprintln!(
                            "waiting up to {} s for the ledger, held by {holder} ...",
                            self.wait.as_secs()
                        );
                        told = true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => return other,
            }
        }
    }
}

/// The end of a command that succeeded: the process exits next, so sled's
/// teardown is skipped (a tenth to a third of a call on a large ledger,
/// see `docs/performance.md`). A failed command drops its ledger as usual.
pub fn close(ledger: Ledger) -> Result<(), Failure> {
    ledger
        .into_store()
        .close_for_exit()
        .map_err(|e| Failure::from(benefit_app::AppError::Store(e)))
}

fn fake_now() -> Result<Option<DateTime<Utc>>, Failure> {
    let Ok(text) = std::env::var(FAKE_NOW_VAR) else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| {
            Failure::usage(format!(
                "{FAKE_NOW_VAR}: '{text}' is not an RFC 3339 instant: {e}"
            ))
        })
}

/// The actor and role of a command that changes the ledger: given after
/// its name, else before it (or in the environment). A read-only command
/// takes them only before its name, where they change nothing.
fn claimed(cli: &Cli) -> Result<Option<ClaimedActor>, Failure> {
    let who = match &cli.command {
        Command::Append(args) => Some(&args.who),
        Command::Demo(args) => Some(&args.who),
        _ => None,
    };
    let actor = who
        .and_then(|w| w.actor.as_deref())
        .or(cli.actor.as_deref());
    let role = who.and_then(|w| w.role.as_deref()).or(cli.role.as_deref());
    append::claimed_actor(actor, role)
}

fn run(cli: Cli, out: &mut dyn Write) -> Result<(), Failure> {
    let fake_now = fake_now()?;
    let actor = claimed(&cli)?;
    let given = cli.ledger.clone();
    let context = Context {
        ledger: Location::parse(&cli.ledger.unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER)))?,
        actor,
        today: fake_now.unwrap_or_else(Utc::now).date_naive(),
        fake_now,
        wait: std::time::Duration::from_secs(cli.wait.unwrap_or(0)),
    };
    match &cli.command {
        Command::Append(args) => append::run(&context, args, out),
        Command::Report(args) => report::run(&context, &args.report, out),
        Command::Log(args) => log::run_log(&context, args, out),
        Command::Diff(args) => diff::run(&context, args, out),
        Command::Export => log::run_export(&context, out),
        Command::Verify(args) => log::run_verify(&context, args, out),
        Command::Rebuild(args) => log::run_rebuild(&context, args, out),
        Command::Demo(_) if context.ledger.dir().is_none() => Err(Failure::usage(
            "demo writes a new embedded ledger in a directory: give --ledger DIR, not a PostgreSQL URL",
        )),
        Command::Demo(args) => demo::run(&context, given.as_deref(), args, out),
        Command::Completions(args) => shell::completions(args.shell, out),
        Command::Man => shell::man(out),
    }
}

fn main() -> ExitCode {
    // A bug must still not print a key or a backtrace: one line, then exit.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "error: internal error (a bug, please report it): {}",
            mask_keys_in(&info.to_string())
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors may echo what was typed, which may be a key.
            let text = error.render().to_string();
            if error.use_stderr() {
                eprint!("{}", mask_keys_in(&text));
            } else {
                print!("{text}");
            }
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = run(cli, &mut out);
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {}", failure.headline);
            for line in &failure.detail {
                eprintln!("  {line}");
            }
            ExitCode::from(failure.exit as u8)
        }
    }
}
