//! Names of things: subscription and benefit ids (chosen by the user), product
//! names and user names (e-mail addresses). Each is validated once, here, and
//! bounded in length so that no field of a stored event is unbounded.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{excerpt, ValueError};

/// The longest subscription or benefit id, in characters.
pub const ID_CHARS_MAX: usize = 64;
/// The longest product name, in characters.
pub const PRODUCT_NAME_CHARS_MAX: usize = 100;
/// The longest e-mail address (RFC 5321's path limit), in characters.
pub const USER_NAME_CHARS_MAX: usize = 254;
/// The longest local part of an e-mail address, in characters.
const USER_LOCAL_PART_CHARS_MAX: usize = 64;
/// The longest label (between dots) of an e-mail address's domain, in
/// characters (RFC 1035).
const DOMAIN_LABEL_CHARS_MAX: usize = 63;

/// Checks an id: 1 to [`ID_CHARS_MAX`] ASCII letters, digits, `-`, `_` or
/// `.`, starting with a letter or digit; returns it in lower case, so that
/// `Contoso-O365` and `contoso-o365` are one subscription.
fn parse_id(what: &'static str, text: &str) -> Result<String, ValueError> {
    let err = |reason: String| ValueError::Name {
        what,
        found: excerpt(text),
        reason,
    };
    if text.is_empty() {
        return Err(err("must not be empty".into()));
    }
    if text.len() > ID_CHARS_MAX {
        return Err(err(format!("longer than {ID_CHARS_MAX} characters")));
    }
    if !text.as_bytes()[0].is_ascii_alphanumeric() {
        return Err(err("must start with a letter or a digit".into()));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(err(format!(
            "only letters, digits, '-', '_' and '.' are allowed, found {bad:?}"
        )));
    }
    no_key_inside(text).map_err(err)?;
    Ok(text.to_ascii_lowercase())
}

/// R3: names are shown unmasked everywhere, so a name that holds a product
/// key (a key pasted into the wrong field) is refused rather than stored.
fn no_key_inside(text: &str) -> Result<(), String> {
    if crate::contains_key(text) {
        return Err("must not contain a product key (R3: keys are secrets)".into());
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses and normalises the text; the error names what is wrong.
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                let parse: fn(&str) -> Result<String, ValueError> = $parse;
                parse(text).map(Self)
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// A subscription's id, chosen by the user (`contoso-o365`), lower case.
    SubscriptionId,
    |text| parse_id("subscription id", text)
);

name_type!(
    /// A benefit's id (`contoso-action-pack-2026`), lower case.
    BenefitId,
    |text| parse_id("benefit id", text)
);

name_type!(
    /// A product's name (`Office 365 E3`, `Microsoft Azure`): printable text,
    /// trimmed, inner runs of white space folded to one space. Compared
    /// exactly (R8), so the folding keeps `Office  365` from being a product
    /// of its own.
    ProductName,
    parse_product_name
);

name_type!(
    /// A user name: an e-mail address, stored in lower case (directories
    /// compare user names without case). Guest users' addresses
    /// (`ann_fabrikam.com#EXT#@contoso.onmicrosoft.com`) are valid.
    UserName,
    parse_user_name
);

fn parse_product_name(text: &str) -> Result<String, ValueError> {
    let err = |reason: String| ValueError::Name {
        what: "product",
        found: excerpt(text),
        reason,
    };
    if text.chars().any(char::is_control) {
        return Err(err("must not contain control characters".into()));
    }
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(err("must not be empty".into()));
    }
    if folded.chars().count() > PRODUCT_NAME_CHARS_MAX {
        return Err(err(format!(
            "longer than {PRODUCT_NAME_CHARS_MAX} characters"
        )));
    }
    no_key_inside(&folded).map_err(err)?;
    Ok(folded)
}

fn parse_user_name(text: &str) -> Result<String, ValueError> {
    let err = |reason| ValueError::UserName {
        found: excerpt(text),
        reason,
    };
    if text.len() > USER_NAME_CHARS_MAX {
        return Err(err("longer than 254 characters"));
    }
    let Some((local, domain)) = text.split_once('@') else {
        return Err(err("expected one '@'"));
    };
    if domain.contains('@') {
        return Err(err("expected one '@'"));
    }
    let local_ok = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(c);
    if local.is_empty() || local.len() > USER_LOCAL_PART_CHARS_MAX {
        return Err(err("the part before '@' must be 1 to 64 characters"));
    }
    if !local.chars().all(local_ok) {
        return Err(err("the part before '@' has a character not allowed"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Err(err("the part before '@' has a misplaced '.'"));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(err("the domain needs at least one '.'"));
    }
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= DOMAIN_LABEL_CHARS_MAX
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    if !labels.iter().all(label_ok) {
        return Err(err("the domain is not a valid host name"));
    }
    if no_key_inside(text).is_err() {
        return Err(err("must not contain a product key (R3: keys are secrets)"));
    }
    Ok(text.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_lower_case_and_bounded() {
        assert_eq!(
            SubscriptionId::parse("Contoso-O365").map(|s| s.to_string()),
            Ok("contoso-o365".into())
        );
        for bad in ["", "-x", "a b", "a/b", &"x".repeat(65)] {
            assert!(SubscriptionId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(BenefitId::parse(&"x".repeat(64)).is_ok());
    }

    #[test]
    fn r3_names_that_hold_a_product_key_are_refused() {
        // Found by fuzzing: ids are printed unmasked, so a key inside one
        // would be shown whole.
        let id = "contoso-aztai07-00000-00000-00000-00003ure-monthly";
        let err = BenefitId::parse(id).expect_err("a key inside");
        assert!(
            err.to_string()
                .contains("must not contain a product key (R3"),
            "{err}"
        );
        assert!(!err.to_string().contains("00000-00000-00000"), "{err}");
        assert!(SubscriptionId::parse("ABCDEFGHIJKLMNOPQRSTUVWXY").is_err());
        assert!(
            SubscriptionId::parse("contosoazuremonthlybenefit2026").is_ok(),
            "a long name is no key"
        );
        assert!(ProductName::parse("Office AAAAA-BBBBB-CCCCC-DDDDD-EEEEE").is_err());
        assert!(UserName::parse("aaaaa-bbbbb-ccccc-ddddd-eeeee@contoso.com").is_err());
    }

    #[test]
    fn product_names_are_folded_and_printable() {
        assert_eq!(
            ProductName::parse("  Office   365 E3 ").map(|p| p.to_string()),
            Ok("Office 365 E3".into())
        );
        assert!(ProductName::parse("   ").is_err());
        assert!(ProductName::parse("Office\u{0}365").is_err());
    }

    #[test]
    fn user_names_are_e_mail_addresses() {
        for good in [
            "Ann@Contoso.com",
            "ann_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "a.b+c@x-y.example.org",
        ] {
            assert!(UserName::parse(good).is_ok(), "{good}");
        }
        assert_eq!(
            UserName::parse("Ann@Contoso.com").map(|u| u.to_string()),
            Ok("ann@contoso.com".into())
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@contoso.com",
            "ann@contoso",
            "ann@@contoso.com",
            "a b@contoso.com",
            "ann.@contoso.com",
            "ann@-contoso.com",
            "ann@contoso..com",
        ] {
            assert!(
                matches!(UserName::parse(bad), Err(ValueError::UserName { .. })),
                "{bad:?}"
            );
        }
    }
}
