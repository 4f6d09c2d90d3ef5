//! Money (R5): an amount in integer minor units with an ISO 4217 currency.
//! Never a float, not in memory, not in the log, not in a report.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{excerpt, ValueError};

/// An ISO 4217 currency that has minor units (USD, EUR, JPY, ...).
///
/// The code table is `iso_currency`'s, so that the number of decimals of
/// every currency is the standard's, not ours.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses a three-letter ISO 4217 code (upper case, as the standard
    /// writes it). Codes without minor units (gold, SDR, ...) are refused:
    /// they are not money a credit is paid in.
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let err = || ValueError::Currency {
            found: excerpt(text),
        };
        if text.len() != 3 || !text.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(err());
        }
        let currency = iso_currency::Currency::from_code(text).ok_or_else(err)?;
        currency.exponent().ok_or_else(err)?;
        Ok(Self(currency))
    }

    /// The three-letter code.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// How many decimals the currency's minor unit has (2 for USD, 0 for JPY).
    pub fn decimals(self) -> u32 {
        // `parse` admits only currencies that have an exponent.
        self.0.exponent().map_or(0, u32::from)
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An amount of money: integer minor units of a currency (R5).
///
/// Stored as `{"minor_units": 10000, "currency": "USD"}`; shown as a decimal
/// string (`100.00`) with exactly the currency's number of decimals.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Money {
    minor_units: u64,
    currency: Currency,
}

/// The largest amount in major units an amount may have: bounds the digits so
/// that minor units never overflow, whatever the currency's decimals.
const AMOUNT_INTEGER_DIGITS_MAX: usize = 15;

impl Money {
    /// Money from minor units (cents for USD).
    pub fn from_minor_units(minor_units: u64, currency: Currency) -> Self {
        Self {
            minor_units,
            currency,
        }
    }

    /// Parses a non-negative decimal amount (`100`, `100.5`, `100.00`) in a
    /// currency. More decimals than the currency has, signs, exponents,
    /// `NaN` and empty text are refused.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, ValueError> {
        let err = |reason: String| ValueError::Amount {
            found: excerpt(amount),
            reason,
        };
        let (whole, fraction) = match amount.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (amount, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(err("expected a decimal number such as 100.00".into()));
        }
        if whole.len() > AMOUNT_INTEGER_DIGITS_MAX {
            return Err(err(format!(
                "more than {AMOUNT_INTEGER_DIGITS_MAX} digits before the decimal point"
            )));
        }
        let decimals = currency.decimals();
        let fraction = fraction.unwrap_or("");
        if fraction.len() > decimals as usize {
            return Err(err(format!(
                "{} has {decimals} decimals, found {}",
                currency.code(),
                fraction.len()
            )));
        }
        let padded = format!("{whole}{fraction:0<width$}", width = decimals as usize);
        let minor_units = padded
            .parse::<u64>()
            .map_err(|_| err("amount is too large".into()))?;
        Ok(Self::from_minor_units(minor_units, currency))
    }

    /// The amount in minor units.
    pub fn minor_units(self) -> u64 {
        self.minor_units
    }

    /// The currency.
    pub fn currency(self) -> Currency {
        self.currency
    }

    /// The amount as a decimal string with the currency's decimals (`100.00`).
    pub fn amount_string(self) -> String {
        let decimals = self.currency.decimals();
        if decimals == 0 {
            return self.minor_units.to_string();
        }
        let scale = 10u64.pow(decimals);
        format!(
            "{}.{:0width$}",
            self.minor_units / scale,
            self.minor_units % scale,
            width = decimals as usize
        )
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.currency.code(), self.amount_string())
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").expect("USD is ISO 4217")
    }

    #[test]
    fn r5_money_is_minor_units_with_a_currency() {
        let m = Money::parse("100.00", usd()).expect("valid");
        assert_eq!((m.minor_units(), m.currency().code()), (10000, "USD"));
        assert_eq!(m.to_string(), "USD 100.00");
        assert_eq!(
            Money::parse("100.5", usd()).map(Money::minor_units),
            Ok(10050)
        );
        assert_eq!(
            Money::parse("6000", usd()).map(Money::amount_string),
            Ok("6000.00".into())
        );
        let yen = Currency::parse("JPY").expect("JPY");
        assert_eq!(
            Money::parse("1500", yen).map(Money::amount_string),
            Ok("1500".into())
        );
        assert_eq!(
            serde_json::to_string(&m).expect("json"),
            r#"{"minor_units":10000,"currency":"USD"}"#
        );
    }

    #[test]
    fn r5_malformed_amounts_and_currencies_are_refused() {
        for text in ["", "-1.00", "NaN", "1e3", "1.", ".5", " 1", "1,00", "+1"] {
            assert!(
                matches!(Money::parse(text, usd()), Err(ValueError::Amount { .. })),
                "{text:?}"
            );
        }
        assert_eq!(
            Money::parse("1.005", usd()).map_err(|e| e.to_string()),
            Err("amount '1.005' is not valid (R5): USD has 2 decimals, found 3".into())
        );
        for code in ["usd", "US", "USDD", "ABC", "XAU", ""] {
            assert!(Currency::parse(code).is_err(), "{code}");
        }
    }
}
