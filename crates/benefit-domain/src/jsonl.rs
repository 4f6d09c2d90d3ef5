//! The operator's command format: one JSON object per line, as `append
//! --file` imports and `export` writes. Translating text to a [`Command`] is
//! pure, so it lives beside the rules it feeds; reading the file is the
//! shell's job.
//!
//! ```text
//! {"event": "KeyRedeemed", "subscription": "contoso-o365", "key": "...", "on": "2026-01-15"}
//! ```
//!
//! `"event"` names the event in PascalCase; the other fields are the CLI
//! flags' names in snake_case; `"actor": {"user", "role"}` overrides the
//! default actor. Unknown, duplicate and missing fields are errors that name
//! the field; no value is guessed.

use benefit_events::{
    parse_date, Actor, BenefitId, BenefitType, Credit, CreditPlan, Currency, Date, EnrollmentYear,
    Event, GrantedKey, Money, Offer, ProductKey, ProductName, Provision, Reason, Seats,
    SubscriptionId, UserName,
};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;

use crate::{Action, ClaimedActor, Command};

/// The longest line an import reads, in bytes. Longer lines are refused
/// before they are parsed.
pub const IMPORT_LINE_BYTES_MAX: usize = 64 * 1024;
/// The most keys one benefit grant may list.
pub const GRANT_KEYS_MAX: usize = 1_000;

/// Why a line is not a command. The message names the field.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum LineError {
    /// Over [`IMPORT_LINE_BYTES_MAX`].
    #[error("line is {bytes} bytes, more than the {IMPORT_LINE_BYTES_MAX} allowed")]
    TooLong {
        /// The line's length.
        bytes: usize,
    },
    /// Over [`IMPORT_LINE_BYTES_MAX`], found by a reader that stopped
    /// reading the line there (so its whole length is not known).
    #[error("line is longer than the {IMPORT_LINE_BYTES_MAX} bytes allowed")]
    LongerThanLimit,
    /// Not valid JSON, or not the shape of a command.
    #[error("{0}")]
    Invalid(String),
}

fn strict_date<'de, D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    parse_date(&text).map_err(de::Error::custom)
}

fn strict_date_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
    strict_date(d).map(Some)
}

/// A name of an import line, parsed by the rules of input (`parse`), not by
/// the more lenient `Deserialize` that reads names back from the log.
fn input<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr<Err = benefit_events::ValueError>,
{
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    text.parse().map_err(de::Error::custom)
}

fn seats<'de, D: Deserializer<'de>>(d: D) -> Result<Seats, D::Error> {
    let number = serde_json::Number::deserialize(d)?;
    Seats::parse(&number.to_string()).map_err(de::Error::custom)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyLine {
    key: ProductKey,
    #[serde(deserialize_with = "seats")]
    seats: Seats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreditLine {
    plan: String,
    amount: String,
    currency: String,
    #[serde(default, deserialize_with = "strict_date_opt")]
    enrollment_start: Option<Date>,
    #[serde(default, deserialize_with = "strict_date_opt")]
    enrollment_end: Option<Date>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorLine {
    #[serde(deserialize_with = "input")]
    user: UserName,
    role: String,
}

/// One line, as typed. Every variant denies unknown fields.
#[derive(Deserialize)]
#[serde(tag = "event", deny_unknown_fields)]
enum Line {
    BenefitGranted {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        benefit: BenefitId,
        #[serde(deserialize_with = "input")]
        product: ProductName,
        offer: Offer,
        benefit_type: BenefitType,
        #[serde(deserialize_with = "strict_date")]
        expires: Date,
        keys: Option<Vec<KeyLine>>,
        credit: Option<CreditLine>,
    },
    UserRegistered {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        user: UserName,
        #[serde(default)]
        guest: bool,
    },
    KeyRedeemed {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        subscription: SubscriptionId,
        key: ProductKey,
    },
    LicensesAdded {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        subscription: SubscriptionId,
        key: ProductKey,
    },
    EndDateExtended {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        subscription: SubscriptionId,
        key: ProductKey,
    },
    CreditAssigned {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        benefit: BenefitId,
        #[serde(deserialize_with = "input")]
        user: UserName,
    },
    CreditUnassigned {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        benefit: BenefitId,
        #[serde(deserialize_with = "input")]
        user: UserName,
    },
    CreditTransferred {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        benefit: BenefitId,
        #[serde(deserialize_with = "input")]
        to: UserName,
    },
    BenefitWithdrawn {
        #[serde(default, deserialize_with = "strict_date_opt")]
        on: Option<Date>,
        actor: Option<ActorLine>,
        #[serde(deserialize_with = "input")]
        benefit: BenefitId,
        #[serde(deserialize_with = "input")]
        reason: Reason,
    },
}

/// A credit as the CLI's flags and an import line state it, before checking.
#[derive(Clone, Copy, Debug)]
pub struct CreditTerms<'a> {
    /// `monthly` or `annual-bulk`.
    pub plan: &'a str,
    /// A decimal amount (`100.00`).
    pub amount: &'a str,
    /// An ISO 4217 code.
    pub currency: &'a str,
    /// The enrollment year's first day (annual-bulk only).
    pub enrollment_start: Option<Date>,
    /// The enrollment year's last day (annual-bulk only).
    pub enrollment_end: Option<Date>,
}

/// Builds what a benefit provides from the keys or the credit given, as the
/// CLI's flags and an import line both state it.
pub fn provision(
    keys: Option<Vec<(ProductKey, Seats)>>,
    credit: Option<CreditTerms<'_>>,
) -> Result<Provision, String> {
    match (keys, credit) {
        (Some(_), Some(_)) => Err("a benefit provides keys or a credit, not both".into()),
        (None, None) => Err("a benefit needs keys or a credit".into()),
        (Some(keys), None) => {
            if keys.len() > GRANT_KEYS_MAX {
                return Err(format!("more than {GRANT_KEYS_MAX} keys in one benefit"));
            }
            Ok(Provision::Keys(
                keys.into_iter()
                    .map(|(key, seats)| GrantedKey { key, seats })
                    .collect(),
            ))
        }
        (None, Some(terms)) => {
            let currency = Currency::parse(terms.currency).map_err(|e| e.to_string())?;
            let amount = Money::parse(terms.amount, currency).map_err(|e| e.to_string())?;
            let plan = match (terms.plan, terms.enrollment_start, terms.enrollment_end) {
                ("monthly", None, None) => CreditPlan::Monthly,
                ("monthly", _, _) => return Err("a monthly credit has no enrollment year".into()),
                ("annual-bulk", Some(start), Some(end)) => CreditPlan::AnnualBulk {
                    enrollment: EnrollmentYear { start, end },
                },
                ("annual-bulk", _, _) => {
                    return Err(
                        "an annual-bulk credit needs enrollment_start and enrollment_end".into(),
                    )
                }
                (other, _, _) => {
                    return Err(format!(
                        "credit plan '{}' is not one of: monthly annual-bulk",
                        benefit_events::excerpt(other)
                    ))
                }
            };
            Ok(Provision::Credit(Credit { plan, amount }))
        }
    }
}

/// Parses one line into a command. `default_actor` is used when the line
/// names none; `today` when it names no effective date.
pub fn parse_line(
    line: &str,
    default_actor: Option<&ClaimedActor>,
    today: Date,
) -> Result<Command, LineError> {
    if line.len() > IMPORT_LINE_BYTES_MAX {
        return Err(LineError::TooLong { bytes: line.len() });
    }
    if line.starts_with('\u{feff}') {
        return Err(LineError::Invalid(
            "a byte order mark (U+FEFF) may only begin the file, not a line inside it".into(),
        ));
    }
    let parsed: Line = serde_json::from_str(line).map_err(|e| LineError::Invalid(describe(&e)))?;
    let claim = |actor: Option<ActorLine>| {
        actor
            .map(|a| ClaimedActor {
                user: a.user,
                role: a.role,
            })
            .or_else(|| default_actor.cloned())
    };
    let (on, actor, action) = match parsed {
        Line::BenefitGranted {
            on,
            actor,
            benefit,
            product,
            offer,
            benefit_type,
            expires,
            keys,
            credit,
        } => {
            let keys = keys.map(|k| k.into_iter().map(|k| (k.key, k.seats)).collect());
            let credit = credit.as_ref().map(|c| CreditTerms {
                plan: &c.plan,
                amount: &c.amount,
                currency: &c.currency,
                enrollment_start: c.enrollment_start,
                enrollment_end: c.enrollment_end,
            });
            let provides = provision(keys, credit).map_err(LineError::Invalid)?;
            let action = Action::GrantBenefit {
                benefit,
                product,
                offer,
                benefit_type,
                expires,
                provides,
            };
            (on, actor, action)
        }
        Line::UserRegistered {
            on,
            actor,
            user,
            guest,
        } => (on, actor, Action::RegisterUser { user, guest }),
        Line::KeyRedeemed {
            on,
            actor,
            subscription,
            key,
        } => (on, actor, Action::RedeemKey { subscription, key }),
        Line::LicensesAdded {
            on,
            actor,
            subscription,
            key,
        } => (on, actor, Action::AddLicenses { subscription, key }),
        Line::EndDateExtended {
            on,
            actor,
            subscription,
            key,
        } => (on, actor, Action::ExtendEndDate { subscription, key }),
        Line::CreditAssigned {
            on,
            actor,
            benefit,
            user,
        } => (on, actor, Action::AssignCredit { benefit, user }),
        Line::CreditUnassigned {
            on,
            actor,
            benefit,
            user,
        } => (on, actor, Action::UnassignCredit { benefit, user }),
        Line::CreditTransferred {
            on,
            actor,
            benefit,
            to,
        } => (on, actor, Action::TransferCredit { benefit, to }),
        Line::BenefitWithdrawn {
            on,
            actor,
            benefit,
            reason,
        } => (on, actor, Action::WithdrawBenefit { benefit, reason }),
    };
    Ok(Command {
        actor: claim(actor),
        on: on.unwrap_or(today),
        action,
    })
}

/// serde_json's message in the words of this format, with anything
/// key-shaped masked (R3: serde quotes the offending value), and its `at
/// line 1 column N` tail shortened to the column (an import line is always
/// line 1 of its own text).
fn describe(error: &serde_json::Error) -> String {
    let text = benefit_events::mask_keys_in(&error.to_string());
    let text = match text.rfind(" at line ") {
        Some(at) => format!("{} (column {})", &text[..at], error.column()),
        None => text,
    };
    plain_words(&text)
}

/// The names `"event"` may take, as a message lists them.
fn event_names() -> String {
    benefit_events::EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces serde's words for its own machinery (the enum `Line`, a
/// variant identifier, a "key") with what a line of this format must hold.
/// A JSON object's field name is never called a key here: in this ledger a
/// key is a product key.
fn plain_words(text: &str) -> String {
    let what_event = || format!("\"event\" naming the event, one of {}", event_names());
    if text.starts_with("missing field `event`") {
        return text.replacen(
            "missing field `event`",
            &format!("missing {}", what_event()),
            1,
        );
    }
    if text.starts_with("key must be a string") {
        return text.replacen(
            "key must be a string",
            "a JSON object's field name must be a string in double quotes",
            1,
        );
    }
    if text.starts_with("unknown variant") && text.contains("`BenefitGranted`") {
        return text.replacen("unknown variant", "unknown event", 1);
    }
    text.replacen(
        "expected internally tagged enum Line",
        &format!("expected a JSON object with {}", what_event()),
        1,
    )
    .replacen(
        "expected variant identifier",
        &format!("expected {}", what_event()),
        1,
    )
}

#[derive(Serialize)]
struct ActorOut<'a> {
    user: &'a str,
    role: &'a str,
}

/// The line that re-records an event: the inverse of [`parse_line`] for
/// `export`. It shows keys whole: an export of the raw log is the one place
/// R3 allows it.
pub fn to_line(event: &Event, actor: &Actor) -> String {
    let actor = ActorOut {
        user: actor.user.as_str(),
        role: actor.role.as_str(),
    };
    let value = match event {
        Event::BenefitGranted(e) => {
            let mut v = json!({
                "event": "BenefitGranted", "on": e.on, "actor": actor, "benefit": e.benefit,
                "product": e.product, "offer": e.offer, "benefit_type": e.benefit_type,
                "expires": e.expires,
            });
            match &e.provides {
                Provision::Keys(keys) => {
                    let keys: Vec<_> = keys
                        .iter()
                        .map(|k| json!({"key": k.key.reveal(), "seats": k.seats}))
                        .collect();
                    v["keys"] = json!(keys);
                }
                Provision::Credit(c) => {
                    let mut credit = json!({
                        "plan": c.plan.as_str(), "amount": c.amount.amount_string(),
                        "currency": c.amount.currency().code(),
                    });
                    if let CreditPlan::AnnualBulk { enrollment } = c.plan {
                        credit["enrollment_start"] = json!(enrollment.start);
                        credit["enrollment_end"] = json!(enrollment.end);
                    }
                    v["credit"] = credit;
                }
            }
            v
        }
        Event::UserRegistered(e) => json!({
            "event": "UserRegistered", "on": e.on, "actor": actor, "user": e.user, "guest": e.guest,
        }),
        Event::KeyRedeemed(e) => json!({
            "event": "KeyRedeemed", "on": e.on, "actor": actor,
            "subscription": e.subscription, "key": e.key.reveal(),
        }),
        Event::LicensesAdded(e) => json!({
            "event": "LicensesAdded", "on": e.on, "actor": actor,
            "subscription": e.subscription, "key": e.key.reveal(),
        }),
        Event::EndDateExtended(e) => json!({
            "event": "EndDateExtended", "on": e.on, "actor": actor,
            "subscription": e.subscription, "key": e.key.reveal(),
        }),
        Event::CreditAssigned(e) => json!({
            "event": "CreditAssigned", "on": e.on, "actor": actor, "benefit": e.benefit, "user": e.user,
        }),
        Event::CreditUnassigned(e) => json!({
            "event": "CreditUnassigned", "on": e.on, "actor": actor, "benefit": e.benefit, "user": e.user,
        }),
        Event::CreditTransferred(e) => json!({
            "event": "CreditTransferred", "on": e.on, "actor": actor, "benefit": e.benefit, "to": e.to,
        }),
        Event::BenefitWithdrawn(e) => json!({
            "event": "BenefitWithdrawn", "on": e.on, "actor": actor, "benefit": e.benefit,
            "reason": e.reason,
        }),
    };
    value.to_string()
}
