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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
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
