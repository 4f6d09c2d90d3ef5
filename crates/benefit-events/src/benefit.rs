//! What a benefit is and provides: the offer it came through, its type, and
//! either product keys with seats or an Azure credit.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{excerpt, Date, Money, ProductKey, Seats, ValueError};

macro_rules! word_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal, { $($(#[$vdoc:meta])* $variant:ident => $word:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $word)] $variant),+
        }

        impl $name {
            /// The word for it, as stored and as typed on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $word),+ }
            }

            /// Parses one of the words; the error lists them all.
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                match text {
                    $($word => Ok($name::$variant),)+
                    _ => Err(ValueError::Choice {
                        what: $what,
                        found: excerpt(text),
                        expected: concat!($($word, " "),+),
                    }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

word_enum!(
    /// The offer a benefit came through.
    Offer, "offer", {
        /// The Action Pack.
        ActionPack => "action-pack",
        /// A silver competency.
        SilverCompetency => "silver-competency",
        /// A gold competency.
        GoldCompetency => "gold-competency",
    }
);

word_enum!(
    /// Whether a benefit is a core or an incremental benefit of its offer.
    BenefitType, "benefit type", {
        /// A core benefit.
        Core => "core",
        /// An incremental benefit.
        Incremental => "incremental",
    }
);

/// The year an annual bulk credit is enrolled for: from `start` to `end`,
/// both included. Transfers are allowed only within it (R32).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentYear {
    /// The first day of the enrollment year.
    pub start: Date,
    /// The last day of the enrollment year.
    pub end: Date,
}

/// How an Azure credit is paid out.
///
/// In JSON (the event schema) it is tagged inside: `{"kind": "monthly"}`,
/// `{"kind": "annual-bulk", "enrollment": {...}}`. A binary format (the
/// stored documents, record format 2) cannot read a tag inside an object
/// without knowing the object's shape first, so there it is an ordinary
/// enum (variant index, then fields); `is_human_readable` tells the two
/// apart (the private `CreditPlanTagged` and `CreditPlanCompact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CreditPlan {
    /// An amount a month; users come and go (R31).
    Monthly,
    /// An amount a year for one enrollment year; one holder, transferable
    /// within the year only (R32), combinable with nothing else (R33).
    AnnualBulk {
        /// The enrollment year.
        enrollment: EnrollmentYear,
    },
}

/// [`CreditPlan`] in human-readable formats (JSON): tagged by `kind`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
enum CreditPlanTagged {
    Monthly,
    AnnualBulk { enrollment: EnrollmentYear },
}

/// [`CreditPlan`] in binary formats: variant index, then fields.
#[derive(Serialize, Deserialize)]
enum CreditPlanCompact {
    Monthly,
    AnnualBulk { enrollment: EnrollmentYear },
}

impl Serialize for CreditPlan {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (*self, serializer.is_human_readable()) {
            (CreditPlan::Monthly, true) => CreditPlanTagged::Monthly.serialize(serializer),
            (CreditPlan::AnnualBulk { enrollment }, true) => {
                CreditPlanTagged::AnnualBulk { enrollment }.serialize(serializer)
            }
            (CreditPlan::Monthly, false) => CreditPlanCompact::Monthly.serialize(serializer),
            (CreditPlan::AnnualBulk { enrollment }, false) => {
                CreditPlanCompact::AnnualBulk { enrollment }.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for CreditPlan {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(if deserializer.is_human_readable() {
            match CreditPlanTagged::deserialize(deserializer)? {
                CreditPlanTagged::Monthly => CreditPlan::Monthly,
                CreditPlanTagged::AnnualBulk { enrollment } => {
                    CreditPlan::AnnualBulk { enrollment }
                }
            }
        } else {
            match CreditPlanCompact::deserialize(deserializer)? {
                CreditPlanCompact::Monthly => CreditPlan::Monthly,
                CreditPlanCompact::AnnualBulk { enrollment } => {
                    CreditPlan::AnnualBulk { enrollment }
                }
            }
        })
    }
}

impl CreditPlan {
    /// `monthly` or `annual-bulk`.
    pub fn as_str(self) -> &'static str {
        match self {
            CreditPlan::Monthly => "monthly",
            CreditPlan::AnnualBulk { .. } => "annual-bulk",
        }
    }
}

/// A usage-based benefit: an Azure credit of an amount per period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credit {
    /// Monthly or annual bulk.
    pub plan: CreditPlan,
    /// The amount a month (monthly) or a year (annual bulk).
    pub amount: Money,
}

/// One product key of a license-based benefit, with its seats.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantedKey {
    /// The key (a secret, R3).
    pub key: ProductKey,
    /// How many seats (licenses) the key carries.
    pub seats: Seats,
}

/// What a benefit provides: product keys, or an Azure credit.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Provision {
    /// A license-based benefit: one or more keys.
    Keys(Vec<GrantedKey>),
    /// A usage-based benefit: an Azure credit.
    Credit(Credit),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans() -> [CreditPlan; 2] {
        let enrollment = EnrollmentYear {
            start: crate::parse_date("2026-07-01").expect("a date"),
            end: crate::parse_date("2027-06-30").expect("a date"),
        };
        [CreditPlan::Monthly, CreditPlan::AnnualBulk { enrollment }]
    }

    #[test]
    fn credit_plans_keep_their_tag_in_json() {
        let [monthly, annual] = plans();
        assert_eq!(
            serde_json::to_string(&monthly).expect("json"),
            r#"{"kind":"monthly"}"#
        );
        assert_eq!(
            serde_json::to_string(&annual).expect("json"),
            r#"{"kind":"annual-bulk","enrollment":{"start":"2026-07-01","end":"2027-06-30"}}"#
        );
        for plan in plans() {
            let json = serde_json::to_string(&plan).expect("json");
            assert_eq!(
                serde_json::from_str::<CreditPlan>(&json).expect("back"),
                plan
            );
        }
        let unknown = serde_json::from_str::<CreditPlan>(r#"{"kind":"weekly"}"#);
        assert!(unknown.is_err(), "{unknown:?}");
    }

    #[test]
    fn credit_plans_round_trip_through_a_binary_format() {
        for plan in plans() {
            let bytes = postcard::to_stdvec(&plan).expect("postcard");
            assert_eq!(
                postcard::from_bytes::<CreditPlan>(&bytes).expect("back"),
                plan
            );
        }
        // Monthly is variant 0, with no fields: one byte.
        assert_eq!(
            postcard::to_stdvec(&CreditPlan::Monthly).expect("postcard"),
            [0]
        );
        assert!(postcard::from_bytes::<CreditPlan>(&[7]).is_err());
    }
}
