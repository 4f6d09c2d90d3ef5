//! Seat counts: the number of licenses of a key or a subscription. Always at
//! least one, at most `u32::MAX`.

use std::fmt;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

use crate::{excerpt, ValueError};

/// A positive number of seats (licenses).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seats(NonZeroU32);

impl Seats {
    /// Seats from a number; `None` for zero.
    pub fn new(count: u32) -> Option<Self> {
        NonZeroU32::new(count).map(Self)
    }

    /// The number of seats.
    pub fn get(self) -> u32 {
        self.0.get()
    }

    /// Parses a whole number from 1 to 4294967295.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let err = |reason| ValueError::Seats {
            found: excerpt(text),
            reason,
        };
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected a whole number of seats, at least 1"));
        }
        let count: u32 = text
            .parse()
            .map_err(|_| err("more than 4294967295 seats"))?;
        Self::new(count).ok_or_else(|| err("must be at least 1"))
    }
}

impl fmt::Display for Seats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Debug for Seats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Seats({})", self.0)
    }
}

impl std::str::FromStr for Seats {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seats_are_a_positive_u32() {
        assert_eq!(Seats::parse("25").map(Seats::get), Ok(25));
        assert_eq!(Seats::parse("4294967295").map(Seats::get), Ok(u32::MAX));
        for (text, reason) in [
            ("0", "must be at least 1"),
            ("-1", "expected a whole number of seats, at least 1"),
            ("4294967296", "more than 4294967295 seats"),
            ("2.5", "expected a whole number of seats, at least 1"),
            ("", "expected a whole number of seats, at least 1"),
        ] {
            assert_eq!(
                Seats::parse(text),
                Err(ValueError::Seats {
                    found: text.into(),
                    reason
                }),
                "{text}"
            );
        }
        assert!(serde_json::from_str::<Seats>("0").is_err());
    }
}
