//! `append`: one event from flags, or a JSON Lines import, turned into
//! commands and recorded through `benefit-app`, and what was appended
//! printed. Flags become values with the events crate's parsers, so that an
//! error names the flag (and never shows a key whole, R3).

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use benefit_app::{read_import, Import, RecordOptions, Recorded};

use crate::backend::Ledger;
use benefit_domain::jsonl::{provision, CreditTerms};
use benefit_domain::{Action, ClaimedActor, Command};
use benefit_events::{
    BenefitId, BenefitType, Date, Offer, ProductKey, ProductName, Reason, Seats, SubscriptionId,
    UserName,
};

use crate::cli::{
    AppendArgs, BenefitGrantedArgs, BenefitTypeArg, CreditArg, CreditUser, EventCommand, KeyUse,
    OfferArg, OnArg,
};
use crate::failure::{Exit, Failure};
use crate::owner::OpenLedger;
use crate::progress;
use crate::Context;

/// Parses a flag's value with a value type's parser; the error names the
/// flag.
fn flag<T, E: std::fmt::Display>(
    name: &str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<T, Failure> {
    parse(value).map_err(|e| Failure::usage(format!("--{name}: {e}")))
}

fn key_use(
    context: &Context,
    args: &KeyUse,
) -> Result<(SubscriptionId, ProductKey, Date), Failure> {
    Ok((
        flag("subscription", &args.subscription, SubscriptionId::parse)?,
        flag("key", &args.key, ProductKey::parse)?,
        on(context, &args.on),
    ))
}

fn credit_user(
    context: &Context,
    args: &CreditUser,
) -> Result<(BenefitId, UserName, Date), Failure> {
    Ok((
        flag("benefit", &args.benefit, BenefitId::parse)?,
        flag("user", &args.user, UserName::parse)?,
        on(context, &args.on),
    ))
}

fn on(context: &Context, on: &OnArg) -> Date {
    on.on.unwrap_or(context.today)
}

/// `KEY=SEATS`, the key parsed without ever echoing it.
fn key_and_seats(text: &str) -> Result<(ProductKey, Seats), Failure> {
    let (key, seats) = text.rsplit_once('=').ok_or_else(|| {
        Failure::usage("--key: expected KEY=SEATS, e.g. --key XXXXX-XXXXX-XXXXX-XXXXX-XXXXX=25")
    })?;
    Ok((
        flag("key", key, ProductKey::parse)?,
        flag("key", seats, Seats::parse)?,
    ))
}

fn grant(context: &Context, args: &BenefitGrantedArgs) -> Result<(Action, Date), Failure> {
    let keys = if args.keys.is_empty() {
        None
    } else {
        Some(
            args.keys
                .iter()
                .map(|k| key_and_seats(k))
                .collect::<Result<Vec<_>, _>>()?,
        )
    };
    let credit = args.credit.map(|plan| CreditTerms {
        plan: match plan {
            CreditArg::Monthly => "monthly",
            CreditArg::AnnualBulk => "annual-bulk",
        },
        amount: args.amount.as_deref().unwrap_or_default(),
        currency: args.currency.as_deref().unwrap_or_default(),
        enrollment_start: args.enrollment_start,
        enrollment_end: args.enrollment_end,
    });
    let provides =
        provision(keys, credit).map_err(|e| Failure::usage(format!("benefit-granted: {e}")))?;
    let action = Action::GrantBenefit {
        benefit: flag("benefit", &args.benefit, BenefitId::parse)?,
        product: flag("product", &args.product, ProductName::parse)?,
        offer: match args.offer {
            OfferArg::ActionPack => Offer::ActionPack,
            OfferArg::SilverCompetency => Offer::SilverCompetency,
            OfferArg::GoldCompetency => Offer::GoldCompetency,
        },
        benefit_type: match args.benefit_type {
            BenefitTypeArg::Core => BenefitType::Core,
            BenefitTypeArg::Incremental => BenefitType::Incremental,
        },
        expires: args.expires,
        provides,
    };
    Ok((action, on(context, &args.on)))
}

/// The command one event subcommand asks for.
pub fn command(context: &Context, event: &EventCommand) -> Result<Command, Failure> {
    let (action, on) = match event {
        EventCommand::BenefitGranted(args) => grant(context, args)?,
        EventCommand::UserRegistered { user, guest, on: o } => (
            Action::RegisterUser {
                user: flag("user", user, UserName::parse)?,
                guest: *guest,
            },
            on(context, o),
        ),
        EventCommand::KeyRedeemed(args) => {
            let (subscription, key, on) = key_use(context, args)?;
            (Action::RedeemKey { subscription, key }, on)
        }
        EventCommand::LicensesAdded(args) => {
            let (subscription, key, on) = key_use(context, args)?;
            (Action::AddLicenses { subscription, key }, on)
        }
        EventCommand::EndDateExtended(args) => {
            let (subscription, key, on) = key_use(context, args)?;
            (Action::ExtendEndDate { subscription, key }, on)
        }
        EventCommand::CreditAssigned(args) => {
            let (benefit, user, on) = credit_user(context, args)?;
            (Action::AssignCredit { benefit, user }, on)
        }
        EventCommand::CreditUnassigned(args) => {
            let (benefit, user, on) = credit_user(context, args)?;
            (Action::UnassignCredit { benefit, user }, on)
        }
        EventCommand::CreditTransferred { benefit, to, on: o } => (
            Action::TransferCredit {
                benefit: flag("benefit", benefit, BenefitId::parse)?,
                to: flag("to", to, UserName::parse)?,
            },
            on(context, o),
        ),
        EventCommand::BenefitWithdrawn {
            benefit,
            reason,
            on: o,
        } => (
            Action::WithdrawBenefit {
                benefit: flag("benefit", benefit, BenefitId::parse)?,
                reason: flag("reason", reason, Reason::parse)?,
            },
            on(context, o),
        ),
    };
    Ok(Command {
        actor: context.actor.clone(),
        on,
        action,
    })
}

/// Reads an import from a path or `-` (standard input).
fn read(context: &Context, path: &Path) -> Result<Import, Failure> {
    let open = |reader: Box<dyn BufRead + Send>, size: u64| {
        let bar = progress::bar(size, "reading");
        let import = read_import(
            reader,
            path,
            context.actor.as_ref(),
            context.today,
            &mut |b| bar.set_position(b),
        );
        bar.finish_and_clear();
        import.map_err(|error| {
            let place = |error: &benefit_app::AppError| match error {
                benefit_app::AppError::Malformed { line, .. } => {
                    Some(format!("line {line} of {}", path.display()))
                }
                _ => None,
            };
            Failure::from_app(error, &place)
        })
    };
    if path == Path::new("-") {
        return open(context.stdin(), 0);
    }
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("--file: cannot read {}: {e}", path.display())))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    open(Box::new(std::io::BufReader::new(file)), size)
}

/// Where the commands of an append came from, to name them in errors.
enum Source {
    Flags,
    File(PathBuf, Import),
}

/// `append`: decides and records, prints what was appended.
pub fn run(context: &Context, args: &AppendArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let (source, commands) = match (&args.file, &args.event) {
        (Some(path), None) => {
            let import = read(context, path)?;
            if import.commands.is_empty() {
                return Err(Failure::usage(format!(
                    "--file: {} holds no commands",
                    path.display()
                )));
            }
            let commands = import.commands.clone();
            (Source::File(path.clone(), import), commands)
        }
        (None, Some(event)) => {
            let command = command(context, event)?;
            // R1 before anything touches the disk: a refused append must not
            // even create the ledger directory.
            benefit_domain::authorize(command.actor.as_ref()).map_err(|refusal| {
                Failure::from(benefit_app::AppError::Refused { index: 0, refusal })
            })?;
            (Source::Flags, vec![command])
        }
        _ => return Err(Failure::usage(
            "append needs an event subcommand or --file PATH (see `benefit-ledger append --help`)",
        )),
    };
    let place = |error: &benefit_app::AppError| match (&source, error) {
        (Source::File(path, import), benefit_app::AppError::Refused { index, .. }) => Some(
            format!("line {} of {}", import.line_of(*index), path.display()),
        ),
        _ => None,
    };
    let fail = |error| Failure::from_app(error, &place);
    let recorder = recorder(context)?;
    if let Some(dir) = context.ledger.dir() {
        crate::space::check(dir, commands.len())?;
    }
    let mut ledger = match context.open() {
        Ok(ledger) => ledger,
        Err(benefit_app::AppError::Store(benefit_store::StoreError::NoLedger { .. }))
            if context.ledger.dir().map_or(true, nothing_at) =>
        {
            // Decide against the empty ledger first, so that a refused or
            // malformed first append does not create a ledger (R41).
            benefit_app::decide_batch(Default::default(), commands.clone(), 1, None)
                .map_err(fail)?;
            context
                .ledger
                .create_or_open(context.clock())
                .map(OpenLedger::own)
                .map_err(fail)?
        }
        Err(error) => return Err(fail(error)),
    };
    crate::acknowledged::check(&ledger)?;
    let before = ledger.head().map_err(fail)?;
    let bar = progress::bar(commands.len() as u64, "checking");
    let tick = |decided: usize| bar.set_position(decided as u64);
    let recorded = ledger.record_with(
        commands,
        RecordOptions {
            dry_run: args.dry_run,
            command_id: args.command_id,
            progress: Some(&tick),
            recorded_by: Some(recorder),
        },
    );
    bar.finish_and_clear();
    let recorded = match recorded {
        Ok(recorded) => recorded,
        Err(error @ benefit_app::AppError::Projection(_)) => {
            return Err(stored_but_not_projected(&ledger, &before, error))
        }
        Err(error) => return Err(fail(error)),
    };
    let fresh = recorded.appended.filter(|a| !a.repeat);
    if let Some(appended) = fresh {
        crate::acknowledged::record(&ledger, &appended.head);
    }
    print_recorded(&recorded, &ledger, out).map_err(Failure::from)?;
    // A close that fails (a disk that filled after the log's commit) leaves
    // the events printed above stored: they were flushed when appended.
    crate::close(ledger).map_err(|failure| match fresh {
        Some(appended) => failure.detail(format!(
            "the events printed above are stored (head {}): do not append them again; once there is room, `benefit-ledger verify`, and `benefit-ledger rebuild --repair` if the reports lag",
            appended.head
        )),
        None => failure,
    })
}

/// Who runs the append (R1): the invoking actor, required for every append
/// and stored in every record it writes, even when import lines name their
/// own actors (issue 13; `docs/reliability.md` says whom the ledger trusts
/// for what). Checked before anything touches the disk.
fn recorder(context: &Context) -> Result<benefit_events::Actor, Failure> {
    benefit_domain::authorize(context.actor.as_ref()).map_err(|refusal| {
        Failure::new(
            Exit::Refused,
            format!("who runs this append? {refusal}"),
        )
        .detail("every append needs --actor and --role (or BENEFIT_LEDGER_ACTOR and BENEFIT_LEDGER_ROLE) of the person running it, even when the lines name their own actors; it is stored as `recorded by` beside each line's actor")
    })
}

/// The failure of an append whose events may be stored although the
/// projections could not catch up after it (a full disk, say): when the
/// head moved, the first line says what was appended, so that nobody takes
/// exit 3 for "nothing was appended" and records the batch twice.
fn stored_but_not_projected(
    ledger: &Ledger,
    before: &benefit_store::Digest,
    error: benefit_app::AppError,
) -> Failure {
    let after = match ledger.head() {
        Ok(after) if after.seq > before.seq => after,
        _ => return Failure::from(error),
    };
    Failure::new(
        Exit::Unusable,
        format!(
            "appended {} event(s) (sequences {}-{}, head {after}), but the reports could not be brought up to date: {error}",
            after.seq - before.seq,
            before.seq + 1,
            after.seq
        ),
    )
    .detail("the events are stored: do not append them again; the next command brings the reports up to date, or `benefit-ledger rebuild --repair`")
}

/// True when `path` is missing or an empty directory: the only places a
/// first append may create a ledger. A directory that holds files but no
/// ledger (a database emptied by damage, say) is refused, never replaced
/// by a new empty ledger.
fn nothing_at(path: &Path) -> bool {
    match std::fs::read_dir(path) {
        Ok(mut entries) => entries.next().is_none(),
        Err(_) => !path.exists(),
    }
}

/// Prints what a batch appended (or would append): a summary line, then
/// one line per event, and for end-date events the old and new end date
/// with the explanation.
pub fn print_recorded(
    recorded: &Recorded,
    ledger: &Ledger,
    out: &mut dyn Write,
) -> Result<(), benefit_app::AppError> {
    let count = recorded.events.len();
    let (first, last) = match (recorded.events.first(), recorded.events.last()) {
        (Some(first), Some(last)) => (first.seq, last.seq),
        _ => (0, 0),
    };
    let plural = if count == 1 { "event" } else { "events" };
    let range = if first == last {
        format!("sequence {first}")
    } else {
        format!("sequences {first}-{last}")
    };
    let summary = if recorded.dry_run {
        format!("dry run: would append {count} {plural} ({range}); nothing was appended")
    } else if recorded.repeat() {
        let recorded_as = if first == last {
            format!("sequence {first}")
        } else {
            format!("sequences {first}..{last}")
        };
        format!(
            "already recorded as {recorded_as} under command {}; nothing appended",
            recorded.command_id
        )
    } else {
        format!("appended {count} {plural} ({range})")
    };
    let mut lines = vec![summary];
    for event in &recorded.events {
        lines.push(format!(
            "  #{} {} {} on {} by {}",
            event.seq,
            event.event.event_type(),
            event.event.stream(),
            event.event.on(),
            event.actor
        ));
        if let (Some((old, new)), Some(why)) = (event.end_change(), event.explanation()) {
            let change = match old {
                Some(old) => format!("end {old} -> {new} ({:+} days)", (new - old).num_days()),
                None => format!("end {new}"),
            };
            lines.push(format!("      {change}: {why}"));
        }
    }
    // A fresh append names the head its commit answered, without reading
    // the disk again (which may have filled since).
    match recorded.appended {
        Some(appended) if !appended.repeat => lines.push(format!("head {}", appended.head)),
        _ if !recorded.dry_run => lines.push(format!("head {}", ledger.head()?)),
        _ => {}
    }
    for line in lines {
        // A closed standard output (a pipe into `head`) ends the output,
        // not the program with a panic.
        if writeln!(out, "{line}").is_err() {
            break;
        }
    }
    Ok(())
}

/// The claimed actor of `--actor` and `--role`; `None` when `--actor` is
/// missing (an append is then refused by R1). A missing role is an empty
/// one, refused by R1 too.
pub fn claimed_actor(
    actor: Option<&str>,
    role: Option<&str>,
) -> Result<Option<ClaimedActor>, Failure> {
    let Some(actor) = actor else {
        return Ok(None);
    };
    Ok(Some(ClaimedActor {
        user: flag("actor", actor, UserName::parse)?,
        role: role.unwrap_or_default().to_owned(),
    }))
}
