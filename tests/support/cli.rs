//! Running `benefit-ledger` in tests: shared by the end-to-end suite
//! (`tests/e2e`) and the reliability suite (`tests/reliability`), each of
//! which includes this file as its module `cli`.
//!
//! Every run goes through [`run_with`], which fixes the clock with
//! `BENEFIT_LEDGER_FAKE_NOW`, clears the other `BENEFIT_LEDGER*` variables,
//! and checks that neither standard output nor standard error shows a whole
//! product key (R3) — except `export` — nor a panic or a backtrace.

// Each suite uses a part of these helpers.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The instant the fake clock starts at.
pub const FAKE_NOW: &str = "2026-11-24T09:00:00Z";
/// Every report, over the whole demo history (the expiring window reaches
/// every end date of the scenarios): what a sweep of all outputs runs.
pub const REPORTS: [&[&str]; 5] = [
    &["report", "subscriptions", "--on", "2026-08-01"],
    &["report", "audit"],
    &["report", "credits"],
    &["report", "benefits"],
    &[
        "report",
        "expiring",
        "--on",
        "2026-08-01",
        "--within",
        "400",
    ],
];
/// An actor allowed to change the ledger.
pub const ACTOR: [&str; 4] = ["--actor", "ann@contoso.com", "--role", "global-admin"];

/// What a run of the binary gave.
#[derive(Debug)]
pub struct Output {
    /// The exit code.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// True when `text` holds a product key that is not masked: five (or more)
/// hyphen-separated groups of five letters or digits whose first group is
/// not `*****`.
pub fn shows_a_whole_key(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '*'))
        .any(|token| {
            let groups: Vec<&str> = token.split('-').collect();
            groups.windows(5).any(|w| {
                w.iter()
                    .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_alphanumeric()))
            })
        })
}

/// True when `text` shows a panic or a backtrace.
pub fn shows_a_panic(text: &str) -> bool {
    ["panicked", "RUST_BACKTRACE", "stack backtrace"]
        .iter()
        .any(|sign| text.contains(sign))
}

/// The binary with `args`, in a fixed time, with no ledger, actor or role
/// from the environment: a process to spawn (and perhaps kill).
pub fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_benefit-ledger"));
    command
        .args(args)
        .env("BENEFIT_LEDGER_FAKE_NOW", FAKE_NOW)
        .env_remove("BENEFIT_LEDGER")
        .env_remove("BENEFIT_LEDGER_ACTOR")
        .env_remove("BENEFIT_LEDGER_ROLE")
        .env_remove("RUST_BACKTRACE");
    command
}

/// Runs the binary with `args`, standard input `stdin`, in a fixed time.
pub fn run_with(args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
    let mut command = command(args);
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("the binary runs");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).expect("stdin written");
    }
    let output = child.wait_with_output().expect("the binary ends");
    let result = Output {
        code: output.status.code().expect("an exit code, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    };
    // `export` is R3's one exception; help texts show made-up example keys.
    let exporting = args.contains(&"export") || args.contains(&"--help");
    assert!(
        exporting || !shows_a_whole_key(&result.stdout),
        "a whole key on stdout of {args:?}:\n{}",
        result.stdout
    );
    assert!(
        !shows_a_whole_key(&result.stderr),
        "a whole key on stderr of {args:?}:\n{}",
        result.stderr
    );
    assert!(
        !shows_a_panic(&result.stderr) && !shows_a_panic(&result.stdout),
        "a panic in {args:?}:\n{}",
        result.stderr
    );
    result
}

/// Runs the binary with `args`.
pub fn run(args: &[&str]) -> Output {
    run_with(args, None, &[])
}

/// A temporary directory with a ledger path inside it (not created).
pub struct TempLedger {
    _dir: tempfile::TempDir,
    /// The ledger directory.
    pub path: PathBuf,
}

impl Default for TempLedger {
    fn default() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ledger");
        Self { _dir: dir, path }
    }
}

impl TempLedger {
    /// A path for a new ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// The path as text.
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("utf-8 temp path")
    }

    /// Runs the binary on this ledger: `--ledger PATH` then `args`.
    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, None)
    }

    /// Runs the binary on this ledger with standard input.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut all = vec!["--ledger", self.arg()];
        all.extend_from_slice(args);
        run_with(&all, stdin, &[])
    }

    /// Runs an append by ann@contoso.com (global-admin); it must succeed.
    pub fn append(&self, args: &[&str]) -> Output {
        let mut all = ACTOR.to_vec();
        all.push("append");
        all.extend_from_slice(args);
        let output = self.run(&all);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        output
    }

    /// A ledger with benefit `b1` (Office 365 E3, expiring 2026-12-31) of
    /// keys `…-00100` (100 seats), `…-00301` (301) and `…-00025` (25), and
    /// subscription `s1` activated with the first on 2026-01-15.
    pub fn with_a_subscription() -> Self {
        let ledger = Self::new();
        ledger.append(&grant_args(
            "b1",
            &[
                "AAAAA-BBBBB-CCCCC-DDDDD-00100=100",
                "AAAAA-BBBBB-CCCCC-DDDDD-00301=301",
                "AAAAA-BBBBB-CCCCC-DDDDD-00025=25",
            ],
        ));
        ledger.append(&[
            "key-redeemed",
            "--subscription",
            "s1",
            "--key",
            "AAAAA-BBBBB-CCCCC-DDDDD-00100",
            "--on",
            "2026-01-15",
        ]);
        ledger
    }

    /// The head digest `verify` prints.
    pub fn head(&self) -> String {
        let output = self.run(&["verify"]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        output
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("head "))
            .expect("verify prints the head")
            .to_owned()
    }

    /// Opens this ledger in-process, waiting up to five seconds while sled
    /// still reports it in use: sled frees its file lock through deferred
    /// reclamation, and a CLI process spawned by another test may hold a
    /// copy of a descriptor between its fork and its exec.
    pub fn open_store(&self) -> benefit_store::SledStore {
        let mut tries = 0;
        loop {
            match benefit_store::SledStore::open_existing(&self.path, benefit_store::SystemClock) {
                Err(benefit_store::StoreError::InUse { .. }) if tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                other => return other.expect("the ledger opens"),
            }
        }
    }

    /// Opens this ledger in-process once, without waiting: `InUse` while
    /// another process holds it.
    pub fn open_store_once(&self) -> Result<benefit_store::SledStore, benefit_store::StoreError> {
        benefit_store::SledStore::open_existing(&self.path, benefit_store::SystemClock)
    }

    /// A ledger holding the demo's history.
    pub fn demo() -> Self {
        let ledger = Self::new();
        let output = ledger.run(&["demo"]);
        assert_eq!(output.code, 0, "{}", output.stderr);
        ledger
    }

    /// Replaces this ledger's path in `text` with `[LEDGER]`.
    pub fn redact(&self, text: &str) -> String {
        text.replace(self.arg(), "[LEDGER]")
    }
}

/// The arguments of `benefit-granted` for an Office 365 E3 Action Pack
/// benefit granted on 2026-01-02, expiring 2026-12-31, with `--key` for
/// each of `keys` (`KEY=SEATS`).
pub fn grant_args<'a>(benefit: &'a str, keys: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "benefit-granted",
        "--benefit",
        benefit,
        "--product",
        "Office 365 E3",
        "--offer",
        "action-pack",
        "--benefit-type",
        "core",
        "--expires",
        "2026-12-31",
        "--on",
        "2026-01-02",
    ];
    for key in keys {
        args.extend_from_slice(&["--key", key]);
    }
    args
}

/// Pins `text` as the snapshot `cli__{name}` in the top-level `snapshots/`.
pub fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(format!("cli__{name}"), text));
}

/// The exit code and both streams of a run, as one text for a snapshot.
pub fn transcript(args: &[&str], output: &Output) -> String {
    format!(
        "$ benefit-ledger {}\n[exit {}]\n{}{}",
        args.join(" "),
        output.code,
        output.stdout,
        if output.stderr.is_empty() {
            String::new()
        } else {
            format!("[stderr]\n{}", output.stderr)
        }
    )
}
