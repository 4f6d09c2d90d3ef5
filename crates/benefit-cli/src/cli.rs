//! The command line's grammar: every subcommand, flag and environment
//! variable of issue 5, as clap derive types. This is a contract (scripts are
//! written against it): names may be added, never renamed.
//!
//! Values that could be product keys (`--key`) are taken as plain text and
//! parsed by the command, not by clap, so that an error about a malformed key
//! never echoes it whole (R3).

use std::path::PathBuf;

use benefit_events::{parse_date, Date};
use benefit_store::Digest;
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Parses a `YYYY-MM-DD` date for clap.
fn date(text: &str) -> Result<Date, String> {
    parse_date(text).map_err(|e| e.to_string())
}

/// Parses a TIME (`--as-of`, `--recorded-until`, `diff --from/--to`): an
/// RFC 3339 instant, or a date meaning the end of that day in UTC.
fn instant(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    instant_or_day(text, DayEdge::End)
}

/// Parses `--recorded-since`: an RFC 3339 instant, or a date meaning the
/// start of that day in UTC (so that `--recorded-since D --recorded-until D`
/// is the whole of day D).
fn instant_from(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    instant_or_day(text, DayEdge::Start)
}

/// Which instant of a day a bare date stands for.
#[derive(Clone, Copy)]
enum DayEdge {
    /// 00:00:00 UTC.
    Start,
    /// 23:59:59.999999 UTC.
    End,
}

/// The one TIME parser: an RFC 3339 instant, or a date meaning the start or
/// the end of that day in UTC.
fn instant_or_day(text: &str, edge: DayEdge) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&chrono::Utc));
    }
    let day = parse_date(text).map_err(|_| {
        format!("'{text}' is neither an RFC 3339 instant (2026-06-30T17:00:00Z) nor a date (2026-06-30)")
    })?;
    let at = match edge {
        DayEdge::Start => day.and_hms_micro_opt(0, 0, 0, 0),
        DayEdge::End => day.and_hms_micro_opt(23, 59, 59, 999_999),
    };
    let at = at.ok_or_else(|| format!("'{text}' has no such time of day"))?;
    Ok(at.and_utc())
}

/// A point of the log for `diff`: a sequence, or what the ledger knew at a
/// TIME.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Point {
    /// Right after this event (0: the empty ledger).
    Seq(u64),
    /// The events recorded at or before this instant.
    Time(chrono::DateTime<chrono::Utc>),
}

/// Parses a `diff` point: digits are a sequence, anything else a TIME.
fn point(text: &str) -> Result<Point, String> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(Point::Seq)
            .map_err(|_| format!("'{text}' is not a sequence number (0 to {})", u64::MAX));
    }
    instant(text).map(Point::Time).map_err(|_| {
        format!("'{text}' is neither a sequence number (42), an RFC 3339 instant (2026-06-30T17:00:00Z) nor a date (2026-06-30)")
    })
}

/// Parses a `SEQ:HASH` digest for clap.
fn digest(text: &str) -> Result<Digest, String> {
    text.parse::<Digest>().map_err(|e| e.to_string())
}

/// The version and the commit this binary was built from, as `--version`
/// prints them.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("BENEFIT_LEDGER_COMMIT"),
    ")"
);

/// Record and audit the lifecycle of partner benefits: product keys that
/// activate, grow and extend subscriptions, and Azure credits.
#[derive(Debug, Parser)]
#[command(
    name = "benefit-ledger",
    version = VERSION,
    after_help = "Example:\n  benefit-ledger demo\n  benefit-ledger --ledger ./ledger --actor ann@contoso.com --role global-admin \\\n    append --file history.jsonl\n  benefit-ledger --ledger ./ledger report subscriptions --on 2026-08-01\n\nExit codes: 0 ok, 1 refused by a rule, 2 malformed input or usage, 3 ledger unusable, 4 busy (another process holds the ledger: try again, or --wait)."
)]
pub struct Cli {
    /// The ledger directory [default: ./benefit-ledger; demo: a new
    /// temporary directory]. Created on the first append; a read of a
    /// missing ledger is an error.
    #[arg(long, global = true, env = "BENEFIT_LEDGER", value_name = "DIR")]
    pub ledger: Option<PathBuf>,
    /// Who makes the change (an e-mail address); appends need it (R1).
    /// Given here, before the command, or after `append` or `demo`: the
    /// read-only commands do not take it.
    #[arg(long, env = "BENEFIT_LEDGER_ACTOR", value_name = "EMAIL")]
    pub actor: Option<String>,
    /// The actor's role: global-admin or mpn-partner-admin (R1).
    #[arg(long, env = "BENEFIT_LEDGER_ROLE", value_name = "ROLE")]
    pub role: Option<String>,
    /// Wait up to SECONDS for a ledger that another process holds, instead
    /// of exiting 4 (busy) at once.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub wait: Option<u64>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Append one event, or import a JSON Lines file as one atomic append.
    Append(AppendArgs),
    /// Print a report: subscriptions, audit, credits, benefits, key,
    /// expiring, timeline (a picture), site (a folder of pages).
    Report(ReportArgs),
    /// Print the stored events with sequence, effective date, recorded-at,
    /// actor and hash (keys masked).
    #[command(
        after_help = "Examples:\n  benefit-ledger log --stream subscription/contoso-o365 --format jsonl\n  benefit-ledger log --since 2026-06-01 --until 2026-06-30 --format csv\n  benefit-ledger log --recorded-since 2026-11-24 --recorded-until 2026-11-24T12:00:00Z"
    )]
    Log(LogArgs),
    /// What changed between two points of the log: subscriptions added or
    /// changed, credits whose holders changed, keys used (masked).
    #[command(
        after_help = "Examples:\n  benefit-ledger diff --from 120\n  benefit-ledger diff --from 2026-06-30 --to 2026-09-30 --on 2026-10-01 --format csv"
    )]
    Diff(DiffArgs),
    /// Write the whole log as JSON Lines, with whole keys, for `append
    /// --file` on an empty ledger (the one output that shows keys, R3).
    #[command(
        after_help = "Example:\n  benefit-ledger --ledger ./ledger export > history.jsonl\n  benefit-ledger --ledger ./copy --actor ann@contoso.com --role global-admin \\\n    append --file history.jsonl"
    )]
    Export,
    /// Check the hash chain, the sequences and every stored end date (R40);
    /// print the head digest.
    #[command(
        after_help = "Example:\n  benefit-ledger verify\n  benefit-ledger verify --digest 42:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    )]
    Verify(VerifyArgs),
    /// Recompute the projections from the log and report any difference
    /// from the persisted ones.
    #[command(
        after_help = "Example:\n  benefit-ledger rebuild\n  benefit-ledger rebuild --repair"
    )]
    Rebuild(RebuildArgs),
    /// Record a realistic sample history into a fresh ledger and print the
    /// reports: the first command to run.
    #[command(
        after_help = "Example:\n  cargo run -p benefit-cli -- demo\n  benefit-ledger demo --ledger /tmp/demo-ledger"
    )]
    Demo(DemoArgs),
    /// Hold an embedded ledger open and run other calls' commands on it,
    /// so that no call pays for opening the ledger.
    ///
    /// Every `benefit-ledger` call on the ledger's directory (but `demo`,
    /// `completions` and `man`) is then run by this process, with the
    /// outputs and exit code it would have had alone; opening a large
    /// ledger takes a fifth of a second at a million events. Runs until
    /// stopped (Ctrl-C, kill, even kill -9); a call made while nothing
    /// serves opens the ledger itself.
    #[command(after_help = "Example:
  benefit-ledger --ledger ./ledger serve &
  benefit-ledger --ledger ./ledger report audit --subscription contoso-o365")]
    Serve,
    /// Print a completion script for a shell.
    #[command(
        after_help = "Example:\n  benefit-ledger completions bash > ~/.local/share/bash-completion/completions/benefit-ledger\n  benefit-ledger completions zsh > ~/.zfunc/_benefit-ledger"
    )]
    Completions(CompletionsArgs),
    /// Print the manual page (roff).
    #[command(
        after_help = "Example:\n  benefit-ledger man > ~/.local/share/man/man1/benefit-ledger.1 && man benefit-ledger"
    )]
    Man,
}

/// Who runs a command that changes the ledger (`append`, `demo`), after
/// the command's name; `--actor`/`--role` before it, or their environment
/// variables, are used when these are not given. Only these commands offer
/// them: the read-only ones never change a ledger (R1).
#[derive(Clone, Debug, Default, Args)]
pub struct ActorArgs {
    /// Who makes the change (an e-mail address); appends need it (R1)
    /// [env: BENEFIT_LEDGER_ACTOR].
    #[arg(long, global = true, value_name = "EMAIL")]
    pub actor: Option<String>,
    /// The actor's role: global-admin or mpn-partner-admin (R1) [env:
    /// BENEFIT_LEDGER_ROLE].
    #[arg(long, global = true, value_name = "ROLE")]
    pub role: Option<String>,
}

/// `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    pub shell: clap_complete::Shell,
}

/// `append`.
#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  benefit-ledger --actor ann@contoso.com --role global-admin append key-redeemed \\\n    --subscription contoso-o365 --key EXMPL-00000-00000-00000-00001 --on 2026-01-15\n  benefit-ledger --actor ann@contoso.com --role global-admin append --file history.jsonl --dry-run\n  cat history.jsonl | benefit-ledger append --file -"
)]
pub struct AppendArgs {
    /// Import JSON Lines from PATH (`-`: standard input), all lines as one
    /// atomic append.
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// Decide and show the outcome, but append nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// The command id to append under (a UUID), for retries; by default one
    /// is derived from the ledger's head and the events.
    #[arg(long, global = true, value_name = "UUID")]
    pub command_id: Option<uuid::Uuid>,
    /// Who runs the append.
    #[command(flatten)]
    pub who: ActorArgs,
    /// The event to append.
    #[command(subcommand)]
    pub event: Option<EventCommand>,
}

/// The effective date of a change.
#[derive(Debug, Args)]
pub struct OnArg {
    /// The effective date, YYYY-MM-DD [default: today, UTC].
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub on: Option<Date>,
}

/// A key used on a subscription.
#[derive(Debug, Args)]
pub struct KeyUse {
    /// The subscription id.
    #[arg(long, value_name = "ID")]
    pub subscription: String,
    /// The product key (any case, hyphens optional).
    #[arg(long, value_name = "KEY")]
    pub key: String,
    /// The effective date.
    #[command(flatten)]
    pub on: OnArg,
}

/// A credit change for one user.
#[derive(Debug, Args)]
pub struct CreditUser {
    /// The credit benefit's id.
    #[arg(long, value_name = "ID")]
    pub benefit: String,
    /// The user (an e-mail address).
    #[arg(long, value_name = "EMAIL")]
    pub user: String,
    /// The effective date.
    #[command(flatten)]
    pub on: OnArg,
}

/// The offers a benefit comes through.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OfferArg {
    /// Action Pack.
    ActionPack,
    /// Silver competency.
    SilverCompetency,
    /// Gold competency.
    GoldCompetency,
}

/// Core or incremental.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum BenefitTypeArg {
    /// A core benefit.
    Core,
    /// An incremental benefit.
    Incremental,
}

/// The credit plans.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CreditArg {
    /// An amount a month; users come and go (R31).
    Monthly,
    /// An amount a year; one holder, transferred only (R32).
    AnnualBulk,
}

/// One subcommand per event, kebab-case.
#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// A benefit was provisioned: keys with seats, or an Azure credit.
    #[command(
        after_help = "Examples:\n  benefit-ledger append benefit-granted --benefit contoso-ap-2026 --product \"Office 365 E3\" \\\n    --offer action-pack --benefit-type core --expires 2026-12-31 \\\n    --key EXMPL-00000-00000-00000-00001=100 --key EXMPL-00000-00000-00000-00002=25\n  benefit-ledger append benefit-granted --benefit contoso-azure --product \"Microsoft Azure\" \\\n    --offer gold-competency --benefit-type core --expires 2027-01-31 --credit annual-bulk \\\n    --amount 12000.00 --currency USD --enrollment-start 2026-02-01 --enrollment-end 2027-01-31"
    )]
    BenefitGranted(BenefitGrantedArgs),
    /// A user (or guest) exists in the partner's directory.
    #[command(
        after_help = "Example:\n  benefit-ledger append user-registered --user ann@contoso.com --on 2026-01-02"
    )]
    UserRegistered {
        /// The user (an e-mail address).
        #[arg(long, value_name = "EMAIL")]
        user: String,
        /// The user is a guest of the tenant.
        #[arg(long)]
        guest: bool,
        /// The effective date.
        #[command(flatten)]
        on: OnArg,
    },
    /// A key activated a subscription for 12 months (R9, R10).
    #[command(
        after_help = "Example:\n  benefit-ledger append key-redeemed --subscription contoso-o365 \\\n    --key EXMPL-00000-00000-00000-00001 --on 2026-01-15"
    )]
    KeyRedeemed(KeyUse),
    /// A key added seats and co-termed the end date (R14).
    #[command(
        after_help = "Example:\n  benefit-ledger append licenses-added --subscription contoso-o365 \\\n    --key EXMPL-00000-00000-00000-00002 --on 2026-07-01"
    )]
    LicensesAdded(KeyUse),
    /// A key extended the end date by 12 x k / a months (R11, R12).
    #[command(
        after_help = "Example:\n  benefit-ledger append end-date-extended --subscription contoso-o365 \\\n    --key EXMPL-00000-00000-00000-00003 --on 2026-08-01"
    )]
    EndDateExtended(KeyUse),
    /// A credit was given to a registered user (R30, R33).
    #[command(
        after_help = "Example:\n  benefit-ledger append credit-assigned --benefit contoso-azure --user ann@contoso.com --on 2026-02-01"
    )]
    CreditAssigned(CreditUser),
    /// A user was removed from a monthly credit (R31).
    #[command(
        after_help = "Example:\n  benefit-ledger append credit-unassigned --benefit contoso-monthly --user bob@contoso.com --on 2026-05-01"
    )]
    CreditUnassigned(CreditUser),
    /// An annual bulk credit moved to another user (R32).
    #[command(
        after_help = "Example:\n  benefit-ledger append credit-transferred --benefit contoso-azure --to cat@contoso.com --on 2026-09-01"
    )]
    CreditTransferred {
        /// The credit benefit's id.
        #[arg(long, value_name = "ID")]
        benefit: String,
        /// The new holder (an e-mail address).
        #[arg(long, value_name = "EMAIL")]
        to: String,
        /// The effective date.
        #[command(flatten)]
        on: OnArg,
    },
    /// A benefit granted by mistake, never used, is withdrawn; its keys may be granted again (L8).
    #[command(
        after_help = "Example:\n  benefit-ledger append benefit-withdrawn --benefit contoso-typo --reason \"granted for the wrong product\" --on 2026-01-05"
    )]
    BenefitWithdrawn {
        /// The benefit's id.
        #[arg(long, value_name = "ID")]
        benefit: String,
        /// Why it is withdrawn, in your words (kept in the log).
        #[arg(long, value_name = "TEXT")]
        reason: String,
        /// The effective date.
        #[command(flatten)]
        on: OnArg,
    },
}

/// `append benefit-granted`.
#[derive(Debug, Args)]
pub struct BenefitGrantedArgs {
    /// The new benefit's id.
    #[arg(long, value_name = "ID")]
    pub benefit: String,
    /// The product name, e.g. "Office 365 E3".
    #[arg(long, value_name = "NAME")]
    pub product: String,
    /// The offer.
    #[arg(long, value_enum)]
    pub offer: OfferArg,
    /// Core or incremental.
    #[arg(long, value_enum)]
    pub benefit_type: BenefitTypeArg,
    /// The last date the benefit's rights may be used.
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub expires: Date,
    /// A product key and its seats; repeat for several keys.
    #[arg(long = "key", value_name = "KEY=SEATS", conflicts_with = "credit")]
    pub keys: Vec<String>,
    /// A usage-based benefit: an Azure credit of this plan.
    #[arg(long, value_enum, requires_all = ["amount", "currency"])]
    pub credit: Option<CreditArg>,
    /// The credit's amount, a decimal (100.00).
    #[arg(long, value_name = "DECIMAL", requires = "credit")]
    pub amount: Option<String>,
    /// The credit's ISO 4217 currency code (USD).
    #[arg(long, value_name = "CODE", requires = "credit")]
    pub currency: Option<String>,
    /// The enrollment year's first day (annual-bulk).
    #[arg(long, value_name = "DATE", value_parser = date, requires = "credit")]
    pub enrollment_start: Option<Date>,
    /// The enrollment year's last day (annual-bulk).
    #[arg(long, value_name = "DATE", value_parser = date, requires = "credit")]
    pub enrollment_end: Option<Date>,
    /// The effective date.
    #[command(flatten)]
    pub on: OnArg,
}

/// How a report is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for an 80-column terminal.
    Table,
    /// A JSON array of objects, with the stable field names of docs/cli.md.
    Json,
    /// CSV with a header row of the JSON field names.
    Csv,
}

/// What every report takes.
#[derive(Clone, Debug, Args)]
pub struct ReportOptions {
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Report what the ledger knew right after event N.
    #[arg(long, value_name = "N", conflicts_with = "as_of")]
    pub as_of_seq: Option<u64>,
    /// Report what the ledger knew at TIME: the events recorded at or
    /// before it. An RFC 3339 instant, or a date meaning the end of that day
    /// in UTC. With --on (the effective date) these are the ledger's two
    /// time axes.
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
}

/// How `report timeline` draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PictureFormat {
    /// The picture alone, a standalone SVG document.
    Svg,
    /// One standalone HTML page: the picture and the audit trail.
    Html,
}

/// The as-of flags of a report that has a format of its own.
#[derive(Clone, Debug, Args)]
pub struct AsOfOptions {
    /// Report what the ledger knew right after event N.
    #[arg(long, value_name = "N", conflicts_with = "as_of")]
    pub as_of_seq: Option<u64>,
    /// Report what the ledger knew at TIME (RFC 3339, or a date meaning the
    /// end of that day in UTC).
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub as_of: Option<chrono::DateTime<chrono::Utc>>,
}

/// `report`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  benefit-ledger report subscriptions --on 2026-08-01\n  benefit-ledger report audit --subscription contoso-o365 --format json\n  benefit-ledger report expiring --within 30 --format csv --as-of-seq 120"
)]
pub struct ReportArgs {
    /// Which report.
    #[command(subcommand)]
    pub report: Report,
}

/// The reports.
#[derive(Debug, Subcommand)]
pub enum Report {
    /// Every subscription with its term and its status on a date (R20), and
    /// its benefits' expiry dates (R21).
    #[command(
        after_help = "Example:\n  benefit-ledger report subscriptions --on 2026-08-01 --format csv"
    )]
    Subscriptions {
        /// Show each subscription as it was on DATE: only events effective
        /// on or before it count; `not-started` before its first activation
        /// [default: the latest state, its status today, UTC].
        #[arg(long, value_name = "DATE", value_parser = date)]
        on: Option<Date>,
        /// Format and as-of.
        #[command(flatten)]
        options: ReportOptions,
    },
    /// Every change of an end date, explained with the rule's numbers.
    #[command(
        after_help = "Example:\n  benefit-ledger report audit --subscription contoso-o365 --as-of-seq 12"
    )]
    Audit {
        /// Only this subscription's changes.
        #[arg(long, value_name = "ID")]
        subscription: Option<String>,
        /// Format and as-of.
        #[command(flatten)]
        options: ReportOptions,
    },
    /// Every credit with its holders and history.
    #[command(after_help = "Example:\n  benefit-ledger report credits --format json")]
    Credits {
        /// Format and as-of.
        #[command(flatten)]
        options: ReportOptions,
    },
    /// Every benefit with its keys (masked) and how many are used.
    #[command(after_help = "Example:\n  benefit-ledger report benefits")]
    Benefits {
        /// Format and as-of.
        #[command(flatten)]
        options: ReportOptions,
    },
    /// One key: the benefit that granted it, its seats, and when and where
    /// it was used (masked, R3).
    #[command(
        after_help = "Examples:\n  benefit-ledger report key --key EXMPL-00000-00000-00000-00001\n  benefit-ledger report key --fingerprint 9f86d081884c7d65",
        group = clap::ArgGroup::new("which").required(true).args(["key", "fingerprint"])
    )]
    Key {
        /// The key, in any spelling `append` takes.
        #[arg(long, value_name = "KEY")]
        key: Option<String>,
        /// Its fingerprint, as the reports print it: 16 hex digits, or the
        /// first 8 that the benefits' CSV shows beside each key.
        #[arg(long, value_name = "HEX")]
        fingerprint: Option<String>,
        /// Format and as-of.
        #[command(flatten)]
        options: ReportOptions,
    },
    /// One subscription's end dates over time: a picture (SVG), or one
    /// standalone page with the picture and the audit trail (HTML).
    #[command(
        after_help = "Examples:\n  benefit-ledger report timeline --subscription contoso-o365 > contoso-o365.svg\n  benefit-ledger report timeline --subscription contoso-o365 --format html > contoso-o365.html"
    )]
    Timeline {
        /// The subscription id.
        #[arg(long, value_name = "ID")]
        subscription: String,
        /// The output format.
        #[arg(long, value_enum, default_value_t = PictureFormat::Svg)]
        format: PictureFormat,
        /// As-of.
        #[command(flatten)]
        as_of: AsOfOptions,
    },
    /// Write a static folder to hand on: an index of every report with
    /// sortable tables, one page per subscription with its timeline and
    /// audit trail, and the head digest with the command that verifies it.
    #[command(
        after_help = "Example:\n  benefit-ledger report site --out ./audit-site --on 2026-08-01"
    )]
    Site {
        /// The folder to write (created if missing; its index.html and
        /// subscription pages are replaced).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// The date the subscriptions are shown as they were on (only events
        /// effective on or before it count), and the expiring window's first
        /// day [default: the latest state, today, UTC].
        #[arg(long, value_name = "DATE", value_parser = date)]
        on: Option<Date>,
    },
    /// Subscriptions ending and benefits expiring within a window.
    #[command(
        after_help = "Example:\n  benefit-ledger report expiring --on 2026-10-01 --within 90"
    )]
    Expiring {
        /// The window's first day; subscriptions' ends are the ones they had
        /// on it [default: today, UTC, and the latest ends].
        #[arg(long, value_name = "DATE", value_parser = date)]
        on: Option<Date>,
        /// The window's length in days after `--on`.
        #[arg(long, value_name = "DAYS", default_value_t = 90)]
        within: u32,
        /// Format and as-of.
        #[command(flatten)]
        options: ReportOptions,
    },
}

/// How `log` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Aligned columns.
    Table,
    /// One JSON object per stored event, keys masked.
    Jsonl,
    /// CSV with a header row, keys masked, cells safe for a spreadsheet.
    Csv,
}

/// `log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Only this stream: `subscription/ID`, `benefit/ID`, `user/EMAIL`, or a
    /// bare id (tried as a subscription, then a benefit, then a user). A
    /// stream the ledger does not hold is an error.
    #[arg(long, value_name = "ID")]
    pub stream: Option<String>,
    /// Only events effective on or after DATE (the event's `on`).
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub since: Option<Date>,
    /// Only events effective on or before DATE (the event's `on`).
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub until: Option<Date>,
    /// Only events recorded at or after TIME: an RFC 3339 instant, or a
    /// date meaning the start of that day in UTC.
    #[arg(long, value_name = "TIME", value_parser = instant_from)]
    pub recorded_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only events recorded at or before TIME: an RFC 3339 instant, or a
    /// date meaning the end of that day in UTC (as for --as-of).
    #[arg(long, value_name = "TIME", value_parser = instant)]
    pub recorded_until: Option<chrono::DateTime<chrono::Utc>>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Table)]
    pub format: LogFormat,
}

/// `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier point: a sequence (what the ledger knew right after event
    /// SEQ; 0 is the empty ledger), or a TIME as for --as-of (an RFC 3339
    /// instant, or a date meaning the end of that day in UTC).
    #[arg(long, value_name = "SEQ|TIME", value_parser = point)]
    pub from: Point,
    /// The later point, as --from [default: the head].
    #[arg(long, value_name = "SEQ|TIME", value_parser = point)]
    pub to: Option<Point>,
    /// The date the statuses are for [default: today, UTC].
    #[arg(long, value_name = "DATE", value_parser = date)]
    pub on: Option<Date>,
    /// The output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also prove the log still holds the history this digest was taken at.
    #[arg(long, value_name = "SEQ:HASH", value_parser = digest)]
    pub digest: Option<Digest>,
}

/// `rebuild`.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Replace the persisted projections with the rebuild when they differ.
    #[arg(long)]
    pub repair: bool,
}

/// `demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The date the reports are for.
    #[arg(long, value_name = "DATE", value_parser = date, default_value = "2026-08-01")]
    pub on: Date,
    /// Who records the demo's history.
    #[command(flatten)]
    pub who: ActorArgs,
}
