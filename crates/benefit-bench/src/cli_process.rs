//! The CLI process, start to exit: `benefit-ledger` run on the ledger the
//! bench built, as an operator would run it. The binary is looked for
//! beside this one (`target/release/benefit-ledger` when the bench runs
//! from a release build: `cargo build --release -p benefit-cli` first);
//! without it the figures are left out, not faked.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::measure::{announce, Latencies};
use crate::report::CliFigures;
use crate::workload::{Prepared, Redemption};
use crate::BenchResult;

/// The CLI's binary name.
const BINARY: &str = "benefit-ledger";

/// Where the CLI's binary is, if it was built beside this one.
fn binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let path = exe.parent()?.join(BINARY);
    path.is_file().then_some(path)
}

/// Runs the CLI once and times it; a failure is an error with its stderr.
fn time(binary: &Path, args: &[String]) -> BenchResult<Duration> {
    let start = Instant::now();
    let output = Command::new(binary).args(args).output()?;
    let elapsed = start.elapsed();
    if !output.status.success() {
        return Err(format!(
            "{BINARY} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
        .into());
    }
    Ok(elapsed)
}

/// Times `append key-redeemed` once per prepared redemption and `report
/// audit` as many times, on `ledger` (a directory or a PostgreSQL URL), if
/// the binary is there: half of them run alone, and on a directory half
/// through the ledger's owner (`benefit-ledger serve`).
/// The first of each half is run untimed, so the figures are for a warm
/// file cache, as the engines' are.
pub fn measure(ledger: &str, prepared: &Prepared) -> BenchResult<Option<CliFigures>> {
    let Some(binary) = binary() else {
        return Ok(None);
    };
    let (alone, through_owner) = prepared
        .redemptions
        .split_at(prepared.redemptions.len() / 2);
    let Some((appends, audits)) = latencies(&binary, ledger, prepared, alone)? else {
        return Ok(None);
    };
    let served = match ledger.starts_with("postgres") {
        true => None,
        false => {
            let _owner = Owner::start(&binary, ledger)?;
            latencies(&binary, ledger, prepared, through_owner)?
        }
    };
    announce(
        "CLI append / audit median, alone and served (ms)",
        format!(
            "{:.1} / {:.1}, {}",
            appends.median(),
            audits.median(),
            served.as_ref().map_or("-".to_owned(), |(a, b)| format!(
                "{:.2} / {:.2}",
                a.median(),
                b.median()
            ))
        ),
    );
    let once = |args: &[&str]| -> BenchResult<f64> {
        let mut all = vec!["--ledger".to_owned(), ledger.to_owned()];
        all.extend(args.iter().map(|a| (*a).to_owned()));
        let ms = time(&binary, &all)?.as_secs_f64() * 1e3;
        announce(&format!("CLI {} (ms)", args.join(" ")), format!("{ms:.0}"));
        Ok(ms)
    };
    let as_of = (prepared.events * 9 / 10).to_string();
    Ok(Some(CliFigures {
        append_median_ms: appends.median(),
        audit_median_ms: audits.median(),
        runs: appends.len(),
        served_append_median_ms: served.as_ref().map(|(a, _)| a.median()),
        served_audit_median_ms: served.as_ref().map(|(_, a)| a.median()),
        verify_ms: once(&["verify"])?,
        as_of_ms: once(&["report", "subscriptions", "--as-of-seq", &as_of])?,
        rebuild_ms: once(&["rebuild"])?,
    }))
}

/// Runs an append of each of `redemptions` followed by `report audit`,
/// the first pair untimed, and returns the latencies of the others.
fn latencies(
    binary: &Path,
    ledger: &str,
    prepared: &Prepared,
    redemptions: &[Redemption],
) -> BenchResult<Option<(Latencies, Latencies)>> {
    let audit: Vec<String> = [
        "--ledger",
        ledger,
        "report",
        "audit",
        "--subscription",
        prepared.audit_subscription.as_str(),
    ]
    .map(String::from)
    .to_vec();
    let append = |r: &Redemption| -> Vec<String> {
        [
            "--ledger",
            ledger,
            "--actor",
            prepared.actor.user.as_str(),
            "--role",
            prepared.actor.role.as_str(),
            "append",
            "key-redeemed",
            "--subscription",
            r.subscription.as_str(),
            "--key",
            &r.key,
            "--on",
            &r.on.to_string(),
        ]
        .map(String::from)
        .to_vec()
    };
    let Some((first, rest)) = redemptions.split_first() else {
        return Ok(None);
    };
    time(binary, &append(first))?;
    time(binary, &audit)?;
    let mut appends = Vec::new();
    let mut audits = Vec::new();
    for redemption in rest {
        appends.push(time(binary, &append(redemption))?);
        audits.push(time(binary, &audit)?);
    }
    Ok(Some((Latencies::new(appends), Latencies::new(audits))))
}

/// `benefit-ledger serve` on the bench's ledger, killed when dropped.
struct Owner(Child);

impl Owner {
    /// Starts the owner and waits for the line saying it listens.
    fn start(binary: &Path, ledger: &str) -> BenchResult<Self> {
        let mut child = Command::new(binary)
            .args(["--ledger", ledger, "serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut first = String::new();
        if let Some(stderr) = child.stderr.take() {
            BufReader::new(stderr).read_line(&mut first)?;
        }
        let owner = Self(child);
        match first.starts_with("serving") {
            true => Ok(owner),
            false => Err(format!("{BINARY} serve did not start: {}", first.trim()).into()),
        }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
