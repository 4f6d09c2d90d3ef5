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

/// mimalloc, not the system's malloc: a long fold (an as-of report, a
/// rebuild) makes and drops millions of small values, and glibc's malloc,
/// free and consolidation were a third of an as-of report's profile
/// (`docs/performance.md`, issue 11).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod acknowledged;
mod append;
mod backend;
mod cli;
mod demo;
mod diff;
mod failure;
mod log;
mod owner;
mod progress;
mod report;
mod shell;
mod space;
mod timeline;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use benefit_domain::ClaimedActor;
use benefit_events::{mask_keys_in, Date};
use benefit_store::{Clock, SteppingClock, SystemClock};
use chrono::{DateTime, TimeDelta, Utc};
use clap::Parser;

use crate::backend::Location;
use crate::cli::{Cli, Command};
use crate::failure::Failure;
use crate::owner::OpenLedger;

/// The ledger directory when neither `--ledger` nor `BENEFIT_LEDGER` names
/// one.
pub(crate) const DEFAULT_LEDGER: &str = "./benefit-ledger";
/// The test-only variable that fixes the clock (RFC 3339).
pub(crate) const FAKE_NOW_VAR: &str = "BENEFIT_LEDGER_FAKE_NOW";

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
    /// Under `serve`, the ledger the owner holds, lent to the command.
    held: Option<Arc<owner::Held>>,
    /// Under `serve`, the client's standard input.
    input: Mutex<Option<Box<dyn BufRead + Send>>>,
}

/// Where a command runs: in its own process, or in the ledger's owner
/// ([`owner`]) for a client.
pub struct Session {
    /// `BENEFIT_LEDGER_FAKE_NOW` of the process that runs the command.
    pub fake_now: Option<String>,
    /// The owner's ledger, lent to the command.
    pub held: Option<Arc<owner::Held>>,
    /// The standard input of the process that runs the command, if not
    /// this one's.
    pub input: Option<Box<dyn BufRead + Send>>,
}

impl Session {
    /// A command run by this process, on its own environment.
    fn direct() -> Self {
        Self {
            fake_now: std::env::var(FAKE_NOW_VAR).ok(),
            held: None,
            input: None,
        }
    }
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
    pub fn open_existing(&self) -> Result<OpenLedger, Failure> {
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
    pub fn open_for_read(&self) -> Result<OpenLedger, Failure> {
        let ledger = self.open()?;
        acknowledged::check(&ledger)?;
        Ok(ledger)
    }

    /// The ledger, which must exist: the owner's, lent, under `serve`;
    /// else opened by this process (waiting as `--wait` allows).
    pub fn open(&self) -> Result<OpenLedger, benefit_app::AppError> {
        match &self.held {
            Some(held) => held.lend(self.clock()),
            None => self
                .waiting(|| self.ledger.open_existing(self.clock()))
                .map(OpenLedger::own),
        }
    }

    /// The command's standard input: the client's under `serve`.
    pub fn stdin(&self) -> Box<dyn BufRead + Send> {
        let given = self.input.lock().map(|mut input| input.take());
        match given {
            Ok(Some(input)) => input,
            _ => Box::new(std::io::BufReader::new(std::io::stdin())),
        }
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
/// Under `serve`, the ledger is flushed and given back to the owner.
pub fn close(ledger: OpenLedger) -> Result<(), Failure> {
    ledger
        .close()
        .map_err(|e| Failure::from(benefit_app::AppError::Store(e)))
}

fn fake_now(given: Option<&str>) -> Result<Option<DateTime<Utc>>, Failure> {
    let Some(text) = given else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(text)
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

/// Runs the command `cli` in `session`, its output to `out`.
pub fn run(cli: Cli, session: Session, out: &mut dyn Write) -> Result<(), Failure> {
    let fake_now = fake_now(session.fake_now.as_deref())?;
    let actor = claimed(&cli)?;
    let given = cli.ledger.clone();
    let context = Context {
        ledger: Location::parse(&cli.ledger.unwrap_or_else(|| PathBuf::from(DEFAULT_LEDGER)))?,
        actor,
        today: fake_now.unwrap_or_else(Utc::now).date_naive(),
        fake_now,
        wait: std::time::Duration::from_secs(cli.wait.unwrap_or(0)),
        held: session.held,
        input: Mutex::new(session.input),
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
        Command::Serve => owner::serve(&context),
        Command::Completions(args) => shell::completions(args.shell, out),
        Command::Man => shell::man(out),
    }
}

/// The text of a usage error (clap's, keys masked: it may echo what was
/// typed), and whether it goes to standard error (`--help` does not).
pub fn usage_text(error: &clap::Error) -> (bool, String) {
    let text = error.render().to_string();
    if error.use_stderr() {
        (true, mask_keys_in(&text))
    } else {
        (false, text)
    }
}

/// The exit code of a usage error (0 for `--help` and `--version`).
pub fn usage_exit(error: &clap::Error) -> u8 {
    u8::try_from(error.exit_code()).unwrap_or(2)
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
            match usage_text(&error) {
                (true, text) => eprint!("{text}"),
                (false, text) => print!("{text}"),
            }
            return ExitCode::from(usage_exit(&error));
        }
    };
    if let Some(code) = owner::forward(&cli) {
        return ExitCode::from(code);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = run(cli, Session::direct(), &mut out);
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprint!("{}", failure.message());
            ExitCode::from(failure.exit as u8)
        }
    }
}
