//! benefit-bench: the benefit ledger measured side by side with what a user
//! would pick instead (issue 6).
//!
//! One run generates a seeded, rule-abiding workload of `N` events
//! ([`workload`]) and takes it through three engines:
//! 1. [`ledger`]: the benefit ledger (domain, `SledStore`, persisted
//!    projections);
//! 2. [`sqlite`]: the SQLite alternative, a backend of the store's traits
//!    (one row per event, projection tables) run through the same shell;
//! 3. [`raw_sled`]: the same bytes in sled with no ledger logic, the
//!    engine's limit.
//!
//! A key design decision: each engine's replay runs in a child process (this
//! binary again, with the hidden `replay` subcommand), so that its peak
//! memory is its own and not the workload's or another engine's. The
//! output is a Markdown table with the ratios ledger/SQLite and ledger/raw
//! sled, or the same figures as JSON (`--json`). `docs/performance.md` says
//! how to read them.
#![forbid(unsafe_code)]

/// The CLI's allocator (`benefit-cli`'s `main.rs` says why), so that the
/// library's figures are those of the binary an operator runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli_process;
mod engine;
mod ledger;
mod measure;
mod postgres;
mod raw_sled;
mod report;
mod sqlite;
mod workload;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use engine::{ReplayRun, Run};
use measure::{announce, dir_bytes, rate};
use report::{EngineFigures, Report};

/// Errors end the run with a message; the bench has no caller to recover.
type BenchResult<T> = Result<T, Box<dyn Error>>;

/// The most events one run may ask for: a bound on the workload held in
/// memory (about 1 KiB an event) and on the run's time.
const EVENTS_MAX: u64 = 10_000_000;

#[derive(Parser)]
#[command(
    name = "benefit-bench",
    about = "Measures the benefit ledger against SQLite and raw sled on one workload."
)]
struct Args {
    /// Events in the ledger before the single commands.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Single commands timed per engine, on the full ledger.
    #[arg(long, default_value_t = 200)]
    commands: usize,
    /// The workload's seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Where the engines' directories go (a fresh temporary directory,
    /// removed at the end, if not given). Must not exist yet.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// An engine to run (repeat for several; every engine when none is
    /// given): a run too long for all of them still measures one.
    #[arg(long = "engine", value_enum)]
    engines: Vec<Engine>,
    #[command(subcommand)]
    child: Option<Child>,
}

#[derive(Subcommand)]
enum Child {
    /// Replays one engine's log in this process and prints a `ReplayRun`
    /// as JSON (run by the bench itself).
    #[command(hide = true)]
    Replay {
        #[arg(long)]
        engine: Engine,
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    Ledger,
    Sqlite,
    RawSled,
    Postgres,
}

impl Engine {
    const ALL: [Engine; 4] = [
        Engine::Ledger,
        Engine::Sqlite,
        Engine::RawSled,
        Engine::Postgres,
    ];

    fn name(self) -> &'static str {
        match self {
            Engine::Ledger => "ledger",
            Engine::Sqlite => "sqlite",
            Engine::RawSled => "raw-sled",
            Engine::Postgres => "postgres",
        }
    }

    fn run(self, dir: &Path, prepared: &workload::Prepared) -> BenchResult<Run> {
        match self {
            Engine::Ledger => ledger::run(dir, prepared),
            Engine::Sqlite => sqlite::run(dir, prepared),
            Engine::RawSled => raw_sled::run(dir, prepared),
            Engine::Postgres => postgres::run(dir, prepared),
        }
    }

    fn replay(self, dir: &Path) -> BenchResult<ReplayRun> {
        match self {
            Engine::Ledger => ledger::replay(dir),
            Engine::Sqlite => sqlite::replay(dir),
            Engine::RawSled => raw_sled::replay(dir),
            Engine::Postgres => postgres::replay(dir),
        }
    }

    /// What the engine's data takes: its directory's files, or for
    /// PostgreSQL its tables on the server.
    fn disk_bytes(self, dir: &Path) -> BenchResult<u64> {
        match self {
            Engine::Postgres => postgres::disk_bytes(dir),
            _ => dir_bytes(dir),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match &args.child {
        Some(Child::Replay { engine, dir }) => replay_here(*engine, dir),
        None => bench(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("benefit-bench: {error}");
            ExitCode::FAILURE
        }
    }
}

fn bench(args: &Args) -> BenchResult<()> {
    if args.events == 0 || args.events > EVENTS_MAX {
        return Err(format!("--events must be between 1 and {EVENTS_MAX}").into());
    }
    let temporary;
    let root = match &args.dir {
        Some(dir) => {
            std::fs::create_dir(dir)?;
            dir.clone()
        }
        None => {
            temporary = tempfile::Builder::new()
                .prefix("benefit-bench-")
                .tempdir()?;
            temporary.path().to_path_buf()
        }
    };
    eprintln!("generating {} events (seed {}) ...", args.events, args.seed);
    let prepared = workload::prepare(args.seed, args.events, args.commands)?;
    let chosen = |engine: Engine| args.engines.is_empty() || args.engines.contains(&engine);
    let cluster = if chosen(Engine::Postgres) {
        eprintln!("postgres: starting a local cluster (fsync and synchronous_commit on) ...");
        let cluster =
            benefit_postgres::cluster::Cluster::start(benefit_postgres::cluster::Durability::Full)?;
        postgres::prepare(&root.join(Engine::Postgres.name()), &cluster.url())?;
        Some(cluster)
    } else {
        None
    };
    let mut figures = Vec::new();
    for engine in Engine::ALL {
        figures.push(if chosen(engine) {
            Some(engine_figures(
                engine,
                &root.join(engine.name()),
                &prepared,
                args,
            )?)
        } else {
            None
        });
    }
    let cli = match chosen(Engine::Ledger) {
        true => cli_process::measure(
            &root.join(Engine::Ledger.name()).to_string_lossy(),
            &prepared,
        )?,
        false => None,
    };
    let cli_postgres = match chosen(Engine::Postgres) {
        true => cli_process::measure(
            &postgres::ledger_url(&root.join(Engine::Postgres.name()))?,
            &prepared,
        )?,
        false => None,
    };
    let engines: [Option<EngineFigures>; 4] =
        figures.try_into().map_err(|_| "every engine has figures")?;
    let report = Report::new(
        args.events,
        args.commands,
        args.seed,
        engines,
        [cli, cli_postgres],
    );
    drop(cluster);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// Runs one engine on the workload in `dir`, then its replay in a child
/// process, and gathers its figures.
fn engine_figures(
    engine: Engine,
    dir: &Path,
    prepared: &workload::Prepared,
    args: &Args,
) -> BenchResult<EngineFigures> {
    eprintln!(
        "{}: import, {} single commands, reports ...",
        engine.name(),
        args.commands
    );
    let run = engine.run(dir, prepared)?;
    let disk = engine.disk_bytes(dir)?;
    eprintln!("{}: replay (in a child process) ...", engine.name());
    let replay = replay_in_child(engine, dir)?;
    let figures = EngineFigures {
        import_events_per_s: rate(prepared.events, run.import),
        command_median_ms: run.commands.median(),
        command_p99_ms: run.commands.percentile(99.0),
        replay_events_per_s: replay.events as f64 / replay.seconds.max(1e-9),
        replay_peak_rss_mib: replay.peak_rss_kib.map(|kib| kib as f64 / 1024.0),
        audit_ms: run.audit.map(|l| l.median()),
        subscriptions_report_ms: run.subscriptions_report.map(|l| l.median()),
        disk_bytes_per_event: disk as f64 / prepared.events as f64,
        verify_events_per_s: run
            .passes
            .as_ref()
            .map(|p| rate(p.verified_events, p.verify)),
        as_of_ms: run.passes.as_ref().map(|p| p.as_of.as_secs_f64() * 1e3),
        rules_walk_events_per_s: run
            .passes
            .as_ref()
            .map(|p| rate(p.verified_events, p.rules_walk)),
        rules_walk_moved_out_events_per_s: run
            .passes
            .as_ref()
            .map(|p| rate(p.verified_events, p.rules_walk_moved_out)),
        state_entities: run.passes.as_ref().map(|p| p.entities as f64),
    };
    announce(
        "replay (events/s) / peak (MiB) / disk (bytes/event)",
        format!(
            "{:.0} / {} / {:.0}",
            figures.replay_events_per_s,
            figures
                .replay_peak_rss_mib
                .map_or("-".to_owned(), |mib| format!("{mib:.0}")),
            figures.disk_bytes_per_event
        ),
    );
    Ok(figures)
}

/// The child's side: replays and prints the answer as one line of JSON.
fn replay_here(engine: Engine, dir: &Path) -> BenchResult<()> {
    let run = engine.replay(dir)?;
    println!("{}", serde_json::to_string(&run)?);
    Ok(())
}

/// Runs this binary's `replay` subcommand for `engine` and reads its answer.
fn replay_in_child(engine: Engine, dir: &Path) -> BenchResult<ReplayRun> {
    let output = std::process::Command::new(std::env::current_exe()?)
        .args(["replay", "--engine", engine.name(), "--dir"])
        .arg(dir)
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "the {} replay failed: {}",
            engine.name(),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}
