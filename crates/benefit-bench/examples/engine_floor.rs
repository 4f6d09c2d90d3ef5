//! The engines' floor: the exact key/value writes the ledger makes for the
//! bench's workload, written with no ledger logic into sled and into SQLite,
//! then read back (issue 6).
//!
//! Why: the ledger imports at about half SQLite's rate and profiles put most
//! of its import in sled's own inserts. This example isolates the engines.
//! It computes, outside any timing, every write the ledger's append makes
//! (`SledStore::append_transaction` with `Projections::append`):
//! - `log`: sequence (u64 BE) → `frame(hash, body)`, one per event;
//! - `streams`: `len(name) u32 BE ‖ name ‖ version u64 BE` → sequence, one
//!   per event;
//! - `stream_heads` (store layout 1 only, `--layout 1`; today's layout 2
//!   reads a stream's last version from `streams` instead): stream name →
//!   last version, once per stream a batch touches;
//! - `commands`: command id → the 88-byte command entry, one per batch;
//! - `meta`: `head` → the 48-byte head, one per batch;
//! - `projections`: the documents `benefit_projections::fold::apply`
//!   writes for the batch (over an `Overlay` whose base holds every
//!   document written before), the state documents included;
//! - `projection_meta`: `checkpoint` → sequence, one per batch.
//!
//! Then it times writing those batches, one batch (default 10 000 events,
//! the bench's import batch) durable before the next, into:
//! - **sled, transaction**: `benefit_store::sled_config` (the store's own
//!   configuration), the ledger's trees, one transaction over all of them
//!   per batch, then `Db::flush`: the ledger's durability;
//! - **sled, batches**: the same, but one `Tree::apply_batch` per tree (not
//!   atomic across trees), to show what sled's transaction itself costs;
//! - **SQLite**: rusqlite's bundled SQLite with the bench peer's settings
//!   (WAL, `synchronous=NORMAL`), one table per tree, each
//!   `(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID`, one transaction per batch
//!   of `INSERT OR REPLACE` through cached prepared statements.
//!
//! Each engine runs in child processes (this example again): one generates
//! the workload and its writes (untimed; the same bytes in every engine, the
//! clock being fixed) and times them into the engine, so that no engine's
//! memory or background threads weigh on the next; another opens the
//! database afresh and reads every tree or table back in key order,
//! touching every key and value, as the bench's replays run: the floor of a
//! replay, reading only. What the ledger does besides the writes (its
//! reads: command id, head, each stream's last version, checkpoint, the
//! documents the fold loads; deciding; encoding) is not done here: these
//! are floors. The stream heads are written in key order, the documents
//! too (as `Overlay::into_writes` hands them over).
//!
//! ```sh
//! cargo build --release -p benefit-bench --example engine_floor
//! cargo run --release -p benefit-bench --example engine_floor -- --events 100000
//! cargo run --release -p benefit-bench --example engine_floor -- --events 1000000 --batch 10000
//! ```
//!
//! `--seed` picks the workload (default 42, the bench's), `--layout` the
//! store layout (default 2, today's), `--dir` keeps the engines'
//! directories (by default a temporary directory, removed at the end). The
//! output is Markdown: the counts of what the ledger writes, then the
//! engines side by side with the ratios sled/SQLite.
#![forbid(unsafe_code)]

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use benefit_domain::authorize;
use benefit_events::StreamId;
use benefit_projections::fold::apply;
use benefit_projections::{DocMap, Overlay};
use benefit_store::encoding::{chain_hash, encode_body, frame};
use benefit_store::{ChainHash, StoredEvent};
use benefit_workload::Workload;
use chrono::DateTime;
use clap::{Parser, ValueEnum};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use sled::transaction::{TransactionResult, Transactional};
use uuid::Uuid;

type Result<T> = std::result::Result<T, Box<dyn Error>>;
/// The bench's own error type, for the measuring code shared with it.
type BenchResult<T> = Result<T>;

/// The bench's measuring code (`dir_bytes`), shared rather than copied; the
/// rest of it is the bench's business.
#[path = "../src/measure.rs"]
#[allow(dead_code)]
mod measure;
use measure::dir_bytes;

/// The ledger's sled trees (`crates/benefit-store/src/sled_store`), in the
/// order of its append's transaction; SQLite gets one table of each name.
const TREES: [&str; 7] = [
    "log",
    "streams",
    "stream_heads",
    "commands",
    "meta",
    "projections",
    "projection_meta",
];
const LOG: usize = 0;
const STREAMS: usize = 1;
const STREAM_HEADS: usize = 2;
const COMMANDS: usize = 3;
const META: usize = 4;
const PROJECTIONS: usize = 5;
const PROJECTION_META: usize = 6;

/// The trees of each store layout (`crates/benefit-store/src/sled_store/layout.rs`),
/// as indices into [`TREES`]: layout 2 (today's) has no stream-heads tree, a
/// stream's last version being the last key of its prefix in `streams`.
fn layout_trees(layout: u32) -> Result<Vec<usize>> {
    match layout {
        1 => Ok((0..TREES.len()).collect()),
        2 => Ok((0..TREES.len()).filter(|&i| i != STREAM_HEADS).collect()),
        other => Err(format!("--layout must be 1 or 2, not {other}").into()),
    }
}

/// The SQLite database file inside its engine's directory.
const SQLITE_FILE: &str = "floor.sqlite";

/// The recorded-at of the first batch (2024-01-01T00:00:00Z); each batch is
/// one second later. A fixed clock, so that every engine's process
/// generates the very same bytes.
const FIRST_RECORDED_AT: i64 = 1_704_067_200;

#[derive(Parser)]
#[command(
    name = "engine_floor",
    about = "Writes the ledger's own keys and values into sled and SQLite, without the ledger."
)]
struct Args {
    /// Events in the workload.
    #[arg(long, default_value_t = 100_000)]
    events: u64,
    /// Events per batch (one transaction and one flush each).
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// The workload's seed (the bench's default).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// The store layout whose writes are made: 2 (today's: log, streams,
    /// commands, meta, projections, projection_meta) or 1 (the same and
    /// stream_heads, stream name → last version, once per stream a batch
    /// touches).
    #[arg(long, default_value_t = 2)]
    layout: u32,
    /// Where the engines' directories go; must not exist yet. A temporary
    /// directory, removed at the end, if not given.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Child mode: generate the writes and time them into one engine's
    /// database in `--dir`, print the answer as JSON.
    #[arg(long, hide = true)]
    write: Option<Engine>,
    /// Child mode: read back one engine's database in `--dir`, print the
    /// answer as JSON.
    #[arg(long, hide = true)]
    read_back: Option<Engine>,
}

/// The engines measured, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engine {
    /// sled, one transaction over the seven trees per batch, then a flush.
    SledTransaction,
    /// sled, one `apply_batch` per tree per batch, then a flush.
    SledBatches,
    /// SQLite, one transaction per batch.
    Sqlite,
}

impl Engine {
    const ALL: [Engine; 3] = [Engine::SledTransaction, Engine::SledBatches, Engine::Sqlite];

    /// The name in the tables.
    fn title(self) -> &'static str {
        match self {
            Engine::SledTransaction => "sled, transaction",
            Engine::SledBatches => "sled, batches",
            Engine::Sqlite => "SQLite",
        }
    }

    /// The command-line value and directory name.
    fn arg(self) -> &'static str {
        match self {
            Engine::SledTransaction => "sled-transaction",
            Engine::SledBatches => "sled-batches",
            Engine::Sqlite => "sqlite",
        }
    }

    /// Writes every batch, each durable before the next; the time spent in
    /// the engine (open and close excluded).
    fn write(self, dir: &Path, used: &[usize], batches: &[Batch]) -> Result<Duration> {
        match self {
            Engine::SledTransaction => write_sled(dir, used, batches, true),
            Engine::SledBatches => write_sled(dir, used, batches, false),
            Engine::Sqlite => write_sqlite(dir, used, batches),
        }
    }

    fn read_back(self, dir: &Path, used: &[usize]) -> Result<ReadBack> {
        match self {
            Engine::SledTransaction | Engine::SledBatches => read_sled(dir, used),
            Engine::Sqlite => read_sqlite(dir, used),
        }
    }
}

/// One batch's writes, per tree, in the order the engines get them.
struct Batch {
    events: u64,
    trees: [Vec<(Vec<u8>, Vec<u8>)>; 7],
}

/// What the writes hold, per tree in [`TREES`] order.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Counts {
    events: u64,
    batches: u64,
    keys: [u64; 7],
    key_bytes: [u64; 7],
    value_bytes: [u64; 7],
}

impl Counts {
    fn of(batches: &[Batch]) -> Self {
        let mut counts = Counts {
            events: batches.iter().map(|b| b.events).sum(),
            batches: batches.len() as u64,
            keys: [0; 7],
            key_bytes: [0; 7],
            value_bytes: [0; 7],
        };
        for batch in batches {
            for (i, pairs) in batch.trees.iter().enumerate() {
                counts.keys[i] += pairs.len() as u64;
                counts.key_bytes[i] += pairs.iter().map(|(k, _)| k.len() as u64).sum::<u64>();
                counts.value_bytes[i] += pairs.iter().map(|(_, v)| v.len() as u64).sum::<u64>();
            }
        }
        counts
    }
}

/// What a writing child answers.
#[derive(Debug, Serialize, Deserialize)]
struct WriteRun {
    /// Generating the workload and the ledger's writes (not timed as the
    /// engine's).
    generate_seconds: f64,
    /// Writing every batch into the engine, flushes and commits included.
    seconds: f64,
    /// The directory's bytes after the engine was closed.
    disk: u64,
    /// What was written.
    counts: Counts,
    /// The child's peak resident set (the writes held in memory, and the
    /// engine's own), in MiB.
    peak_rss_mib: Option<f64>,
}

/// What a read-back child answers.
#[derive(Debug, Serialize, Deserialize)]
struct ReadBack {
    /// Opening the database (sled: its start-up; SQLite: open and pragmas).
    open_seconds: f64,
    /// Reading every tree or table, in key order.
    seconds: f64,
    /// Keys found per tree, in [`TREES`] order.
    keys: [u64; 7],
    /// Key and value bytes read.
    bytes: u64,
    /// The child's peak resident set, in MiB.
    peak_rss_mib: Option<f64>,
}

/// One engine's figures.
struct Figures {
    engine: Engine,
    write: WriteRun,
    /// The first open after the writer closed: sled recovers the log
    /// written since its last snapshot (and takes one).
    first_open_seconds: f64,
    /// The second read-back, whose figures are reported.
    read: ReadBack,
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.events == 0 || args.batch == 0 {
        return Err("--events and --batch must be at least 1".into());
    }
    let used = layout_trees(args.layout)?;
    if let Some(engine) = args.read_back {
        let dir = args.dir.ok_or("--read-back needs --dir")?;
        println!(
            "{}",
            serde_json::to_string(&engine.read_back(&dir, &used)?)?
        );
        return Ok(());
    }
    if let Some(engine) = args.write {
        let dir = args.dir.as_deref().ok_or("--write needs --dir")?;
        println!(
            "{}",
            serde_json::to_string(&write_here(engine, dir, &used, &args)?)?
        );
        return Ok(());
    }
    let temporary;
    let root = match &args.dir {
        Some(dir) => {
            fs::create_dir(dir)?;
            dir.clone()
        }
        None => {
            temporary = tempfile::Builder::new().prefix("engine-floor-").tempdir()?;
            temporary.path().to_path_buf()
        }
    };
    let mut figures: Vec<Figures> = Vec::new();
    for engine in Engine::ALL {
        let dir = root.join(engine.arg());
        let (events, batch, seed, layout) = (
            args.events.to_string(),
            args.batch.to_string(),
            args.seed.to_string(),
            args.layout.to_string(),
        );
        let write: WriteRun = child(&[
            "--write",
            engine.arg(),
            "--events",
            &events,
            "--batch",
            &batch,
            "--seed",
            &seed,
            "--layout",
            &layout,
            "--dir",
            path_str(&dir)?,
        ])?;
        if let Some(first) = figures.first() {
            if first.write.counts != write.counts {
                return Err(format!(
                    "{} was given other writes than {}: the generation is not deterministic",
                    engine.title(),
                    first.engine.title()
                )
                .into());
            }
        }
        eprintln!("{}: reading back (child process) ...", engine.title());
        // Twice: the first open after writing is sled's recovery of what it
        // wrote since its last snapshot, not its usual open.
        let read_back = [
            "--read-back",
            engine.arg(),
            "--layout",
            &layout,
            "--dir",
            path_str(&dir)?,
        ];
        let first: ReadBack = child(&read_back)?;
        let read: ReadBack = child(&read_back)?;
        if first.keys != read.keys {
            return Err(format!("{}: two read-backs disagree", engine.title()).into());
        }
        figures.push(Figures {
            engine,
            write,
            first_open_seconds: first.open_seconds,
            read,
        });
    }
    print!("{}", report(&args, &used, &figures)?);
    Ok(())
}

fn path_str(path: &Path) -> Result<&str> {
    path.to_str()
        .ok_or_else(|| format!("{} is not UTF-8", path.display()).into())
}

/// Runs this example again with `args` and reads its one line of JSON; its
/// progress lines go to this process's standard error.
fn child<T: serde::de::DeserializeOwned>(args: &[&str]) -> Result<T> {
    let output = Process::new(std::env::current_exe()?)
        .args(args)
        .stderr(Stdio::inherit())
        .output()?;
    if !output.status.success() {
        return Err(format!("the child `{}` failed", args.join(" ")).into());
    }
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The writing child: generates the batches, then times them into `engine`.
fn write_here(engine: Engine, dir: &Path, used: &[usize], args: &Args) -> Result<WriteRun> {
    eprintln!(
        "{}: generating {} events (seed {}) and the ledger's writes, {} events a batch ...",
        engine.title(),
        args.events,
        args.seed,
        args.batch
    );
    let start = Instant::now();
    let batches = generate(args.seed, args.events, args.batch, used)?;
    let generate_seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "{}: generated in {generate_seconds:.1} s ({}); writing ...",
        engine.title(),
        memory()
    );
    let seconds = engine.write(dir, used, &batches)?.as_secs_f64();
    eprintln!(
        "{}: written in {seconds:.1} s ({})",
        engine.title(),
        memory()
    );
    Ok(WriteRun {
        generate_seconds,
        seconds,
        disk: dir_bytes(dir)?,
        counts: Counts::of(&batches),
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The workload, as the bench generates it, turned into the ledger's writes
/// batch by batch.
fn generate(seed: u64, events: u64, batch_events: usize, used: &[usize]) -> Result<Vec<Batch>> {
    let mut workload = Workload::new(seed);
    let actor = authorize(Some(workload.actor())).map_err(|r| r.to_string())?;
    let mut docs = DocMap::default();
    let mut versions: HashMap<StreamId, u64> = HashMap::new();
    let mut seq = 0u64;
    let mut prev_hash = ChainHash::GENESIS;
    let mut batches = Vec::new();
    let mut remaining = events;
    while remaining > 0 {
        let size = remaining.min(batch_events as u64);
        remaining -= size;
        let number = batches.len() as u64;
        // The bench's import command ids.
        let command_id = Uuid::new_v5(&Uuid::NAMESPACE_OID, &number.to_be_bytes());
        // The store's recorded-at (to the microsecond, never going back),
        // from a fixed clock: see `FIRST_RECORDED_AT`.
        let recorded_at = DateTime::from_timestamp(FIRST_RECORDED_AT + i64::try_from(number)?, 0)
            .ok_or("the clock is out of range")?;
        let first = seq + 1;

        let mut trees: [Vec<(Vec<u8>, Vec<u8>)>; 7] = Default::default();
        let mut touched: BTreeMap<String, u64> = BTreeMap::new();
        let mut records = Vec::with_capacity(size as usize);
        for index in 0..size {
            let (_, event) = workload.next_command();
            seq += 1;
            let stream = event.stream();
            let version = versions.entry(stream.clone()).or_default();
            *version += 1;
            let version = *version;
            let mut record = StoredEvent {
                seq,
                stream,
                stream_version: version,
                event_id: StoredEvent::derive_event_id(&command_id, index),
                command_id,
                recorded_at,
                actor: actor.clone(),
                recorded_by: None,
                event,
                prev_hash,
                hash: ChainHash::GENESIS,
            };
            let body = encode_body(&record)?;
            let hash = chain_hash(&prev_hash, &body);
            trees[LOG].push((seq.to_be_bytes().to_vec(), frame(&hash, &body)));
            trees[STREAMS].push((
                stream_key(record.stream.as_str(), version)?,
                seq.to_be_bytes().to_vec(),
            ));
            touched.insert(record.stream.as_str().to_owned(), version);
            record.hash = hash;
            prev_hash = hash;
            records.push(record);
        }
        if used.contains(&STREAM_HEADS) {
            for (stream, version) in touched {
                trees[STREAM_HEADS].push((stream.into_bytes(), version.to_be_bytes().to_vec()));
            }
        }
        // Command entry: first ‖ last ‖ hash of last ‖ recorded-at µs ‖
        // fingerprint. The fingerprint (a SHA-256 of the request) is stood
        // in for by another 32-byte hash: no engine looks inside values.
        let micros = recorded_at.timestamp_micros().to_be_bytes();
        let fingerprint = chain_hash(&prev_hash, command_id.as_bytes());
        let mut entry = Vec::with_capacity(88);
        entry.extend_from_slice(&first.to_be_bytes());
        entry.extend_from_slice(&seq.to_be_bytes());
        entry.extend_from_slice(&prev_hash.0);
        entry.extend_from_slice(&micros);
        entry.extend_from_slice(&fingerprint.0);
        trees[COMMANDS].push((command_id.as_bytes().to_vec(), entry));
        // Head: seq ‖ hash ‖ recorded-at µs.
        let mut head = Vec::with_capacity(48);
        head.extend_from_slice(&seq.to_be_bytes());
        head.extend_from_slice(&prev_hash.0);
        head.extend_from_slice(&micros);
        trees[META].push((b"head".to_vec(), head));

        // The projections' writes, as `Projections::append` computes them.
        let writes = {
            let mut overlay = Overlay::new(&docs);
            for record in &records {
                apply(&mut overlay, record)?;
            }
            overlay.into_writes()
        };
        for (key, value) in writes {
            trees[PROJECTIONS].push((key.clone().into_bytes(), value.clone()));
            docs.0.insert(key, value);
        }
        trees[PROJECTION_META].push((b"checkpoint".to_vec(), seq.to_be_bytes().to_vec()));
        batches.push(Batch {
            events: size,
            trees,
        });
    }
    Ok(batches)
}

/// The `streams` key of a stream's version (`layout::stream_key`).
fn stream_key(stream: &str, version: u64) -> Result<Vec<u8>> {
    let name = stream.as_bytes();
    let mut key = Vec::with_capacity(4 + name.len() + 8);
    key.extend_from_slice(&u32::try_from(name.len())?.to_be_bytes());
    key.extend_from_slice(name);
    key.extend_from_slice(&version.to_be_bytes());
    Ok(key)
}

fn write_sled(dir: &Path, used: &[usize], batches: &[Batch], atomic: bool) -> Result<Duration> {
    let db = benefit_store::sled_config(dir).open()?;
    let trees = used
        .iter()
        .map(|&i| db.open_tree(TREES[i]))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut elapsed = Duration::ZERO;
    for batch in batches {
        let start = Instant::now();
        if atomic {
            // One transaction over the layout's trees, as the store's append.
            let result: TransactionResult<(), ()> = trees[..].transaction(|views| {
                for (view, &i) in views.iter().zip(used) {
                    for (key, value) in &batch.trees[i] {
                        view.insert(key.as_slice(), value.as_slice())?;
                    }
                }
                Ok(())
            });
            result.map_err(|e| format!("sled's transaction failed: {e:?}"))?;
        } else {
            for (tree, &i) in trees.iter().zip(used) {
                let mut writes = sled::Batch::default();
                for (key, value) in &batch.trees[i] {
                    writes.insert(key.as_slice(), value.as_slice());
                }
                tree.apply_batch(writes)?;
            }
        }
        db.flush()?;
        elapsed += start.elapsed();
    }
    drop(trees);
    drop(db);
    Ok(elapsed)
}

fn open_sqlite(dir: &Path) -> Result<Connection> {
    let connection = Connection::open(dir.join(SQLITE_FILE))?;
    // The bench peer's settings (crates/benefit-bench/src/sqlite.rs).
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(connection)
}

fn write_sqlite(dir: &Path, used: &[usize], batches: &[Batch]) -> Result<Duration> {
    fs::create_dir_all(dir)?;
    let mut connection = open_sqlite(dir)?;
    let mut inserts = Vec::new();
    for &i in used {
        let name = TREES[i];
        connection.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {name} (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
        ))?;
        inserts.push((
            i,
            format!("INSERT OR REPLACE INTO {name} (k, v) VALUES (?1, ?2)"),
        ));
    }
    let mut elapsed = Duration::ZERO;
    for batch in batches {
        let start = Instant::now();
        let tx = connection.transaction()?;
        for (i, sql) in &inserts {
            let mut insert = tx.prepare_cached(sql)?;
            for (key, value) in &batch.trees[*i] {
                insert.execute(params![key, value])?;
            }
        }
        tx.commit()?;
        elapsed += start.elapsed();
    }
    // Closing checkpoints the WAL into the database and removes it, as the
    // bench's SQLite engine does before its disk figure.
    connection.close().map_err(|(_, e)| e)?;
    Ok(elapsed)
}

/// The child's side for sled: open, then iterate every tree.
fn read_sled(dir: &Path, used: &[usize]) -> Result<ReadBack> {
    let start = Instant::now();
    let db = benefit_store::sled_config(dir).open()?;
    let trees = used
        .iter()
        .map(|&i| Ok((i, db.open_tree(TREES[i])?)))
        .collect::<Result<Vec<_>>>()?;
    let open_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut keys = [0u64; 7];
    let mut bytes = 0u64;
    for (i, tree) in &trees {
        for item in tree.iter() {
            let (key, value) = item?;
            bytes += (key.len() + value.len()) as u64;
            keys[*i] += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    Ok(ReadBack {
        open_seconds,
        seconds,
        keys,
        bytes,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The child's side for SQLite: open, then select every table in key order.
fn read_sqlite(dir: &Path, used: &[usize]) -> Result<ReadBack> {
    let start = Instant::now();
    let connection = open_sqlite(dir)?;
    let open_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut keys = [0u64; 7];
    let mut bytes = 0u64;
    for &i in used {
        let name = TREES[i];
        let mut select = connection.prepare(&format!("SELECT k, v FROM {name} ORDER BY k"))?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            let key = row.get_ref(0)?.as_blob()?;
            let value = row.get_ref(1)?.as_blob()?;
            bytes += (key.len() + value.len()) as u64;
            keys[i] += 1;
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    std::hint::black_box(bytes);
    Ok(ReadBack {
        open_seconds,
        seconds,
        keys,
        bytes,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// A line of this process's `/proc/self/status` in MiB (`VmHWM`: the peak
/// resident set, `VmRSS`: the current one), where Linux says.
fn status_mib(field: &str) -> Option<f64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn peak_rss_mib() -> Option<f64> {
    status_mib("VmHWM:")
}

/// The current and peak resident set, for the progress lines.
fn memory() -> String {
    match (status_mib("VmRSS:"), peak_rss_mib()) {
        (Some(now), Some(peak)) => format!("resident {now:.0} MiB, peak {peak:.0} MiB"),
        _ => "memory unknown".to_owned(),
    }
}

/// A number with a space every three digits, as docs/performance.md writes
/// them; three significant digits below 100.
fn num(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    if value.abs() < 100.0 {
        let magnitude = value.abs().log10().floor() as i32;
        let decimals = usize::try_from(2 - magnitude).unwrap_or(0);
        let text = format!("{value:.decimals$}");
        return if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        };
    }
    let digits = format!("{:.0}", value.round());
    let (sign, digits) = digits
        .strip_prefix('-')
        .map_or(("", digits.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(' ');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn report(args: &Args, used: &[usize], figures: &[Figures]) -> Result<String> {
    use std::fmt::Write as _;
    let first = figures.first().ok_or("no engine ran")?;
    let counts = &first.write.counts;
    let ev = counts.events as f64;
    let total_keys: u64 = counts.keys.iter().sum();
    let total_key_bytes: u64 = counts.key_bytes.iter().sum();
    let total_value_bytes: u64 = counts.value_bytes.iter().sum();
    let at_rest = first.read.keys;

    let mut out = String::new();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    writeln!(
        out,
        "{} events in {} batches of {} (one transaction and one flush each), seed {}, store layout {} ({} trees), {cpus} cores\n",
        counts.events, counts.batches, args.batch, args.seed, args.layout, used.len()
    )?;
    writeln!(
        out,
        "The ledger's writes: {} keys ({} per event), {} MB of keys and values ({} bytes per event).\n",
        num(total_keys as f64),
        num(total_keys as f64 / ev),
        num((total_key_bytes + total_value_bytes) as f64 / 1e6),
        num((total_key_bytes + total_value_bytes) as f64 / ev),
    )?;
    writeln!(
        out,
        "| tree | keys written | per event | avg key (bytes) | avg value (bytes) | keys at the end |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|")?;
    for &i in used {
        let name = TREES[i];
        let n = counts.keys[i].max(1) as f64;
        writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} |",
            num(counts.keys[i] as f64),
            num(counts.keys[i] as f64 / ev),
            num(counts.key_bytes[i] as f64 / n),
            num(counts.value_bytes[i] as f64 / n),
            num(at_rest[i] as f64),
        )?;
    }
    writeln!(
        out,
        "| all | {} | {} | {} | {} | {} |\n",
        num(total_keys as f64),
        num(total_keys as f64 / ev),
        num(total_key_bytes as f64 / total_keys.max(1) as f64),
        num(total_value_bytes as f64 / total_keys.max(1) as f64),
        num(at_rest.iter().sum::<u64>() as f64),
    )?;

    writeln!(
        out,
        "| engine | write (s) | keys/s | events/s | read-back (s) | read-back events/s | first open (ms) | open (ms) | disk (MB) | disk (bytes/event) | writer peak (MiB) |"
    )?;
    writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")?;
    let rate = |n: f64, s: f64| n / s.max(1e-9);
    for f in figures {
        let (w, r) = (f.write.seconds, f.read.seconds);
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            f.engine.title(),
            num(w),
            num(rate(total_keys as f64, w)),
            num(rate(ev, w)),
            num(r),
            num(rate(ev, r)),
            num(f.first_open_seconds * 1e3),
            num(f.read.open_seconds * 1e3),
            num(f.write.disk as f64 / 1e6),
            num(f.write.disk as f64 / ev),
            f.write.peak_rss_mib.map_or("-".into(), num),
        )?;
    }
    if let Some(sqlite) = figures.iter().find(|f| f.engine == Engine::Sqlite) {
        for f in figures.iter().filter(|f| f.engine != Engine::Sqlite) {
            let write = num(sqlite.write.seconds / f.write.seconds.max(1e-9));
            writeln!(
                out,
                "| {} / SQLite | | {write}x | {write}x | | {}x | | | | {}x | |",
                f.engine.title(),
                num(sqlite.read.seconds / f.read.seconds.max(1e-9)),
                num(f.write.disk as f64 / sqlite.write.disk.max(1) as f64),
            )?;
        }
    }
    let generate: Vec<String> = figures
        .iter()
        .map(|f| format!("{} s", num(f.write.generate_seconds)))
        .collect();
    writeln!(
        out,
        "\nsled: benefit_store::sled_config, the layout's trees; SQLite: WAL, synchronous=NORMAL, \
         one (k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID table per tree. Each engine writes in a \
         process of its own, which first generates the workload and its writes (untimed: {}); \
         read-back: another process opens the database (first open: the first after the writer \
         closed; sled recovers what it wrote since its last snapshot), then a third opens it again \
         (open) and reads every tree or table in key order. Disk: the directory after the writer closed (SQLite's WAL checkpointed on close).",
        generate.join(", ")
    )?;
    Ok(out)
}
