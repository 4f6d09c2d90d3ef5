//! Names of things: subscription and benefit ids (chosen by the user), product
//! names and user names (e-mail addresses). Each is validated once, here, and
//! bounded in length so that no field of a stored event is unbounded.
//!
//! A key design decision: input and stored names are checked by two doors.
//! `parse` (and `FromStr`) is the door of input: CLI flags and import lines
//! (`benefit_domain::jsonl` reads its names through it) meet every rule of
//! today, among them no bidirectional controls (U+202A-U+202E,
//! U+2066-U+2069) and no key written with any separator (R3). `Deserialize`
//! and `parse_stored` are the door of the log and the projections: a name
//! read back is held to the rules it was written under (before issue 13:
//! keys only hyphenated or in one run of 25, no bidi check), so that a
//! ledger written before a rule was tightened stays readable. A name that
//! the input door would refuse can therefore be read, never newly written.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::{excerpt, ValueError};

/// The longest subscription or benefit id, in characters.
pub const ID_CHARS_MAX: usize = 64;
/// The longest product name, in characters.
pub const PRODUCT_NAME_CHARS_MAX: usize = 100;
/// The longest reason (why a benefit was withdrawn, L8), in characters.
pub const REASON_CHARS_MAX: usize = 200;
/// The longest e-mail address (RFC 5321's path limit), in characters.
pub const USER_NAME_CHARS_MAX: usize = 254;
/// The longest local part of an e-mail address, in characters.
const USER_LOCAL_PART_CHARS_MAX: usize = 64;
/// The longest label (between dots) of an e-mail address's domain, in
/// characters (RFC 1035).
const DOMAIN_LABEL_CHARS_MAX: usize = 63;

/// Which door a name comes in by (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// A flag or an import line: every rule of today.
    Input,
    /// A stored event or document: the rules it was written under.
    Stored,
}

/// Bidirectional embeddings, overrides and isolates: they make a terminal
/// show text in another order than it is stored (`U+202E` turns
/// `Office 365` into what reads as another product), so input refuses them.
pub(crate) fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Checks an id: 1 to [`ID_CHARS_MAX`] ASCII letters, digits, `-`, `_` or
/// `.`, starting with a letter or digit; returns it in lower case, so that
/// `Contoso-O365` and `contoso-o365` are one subscription.
fn parse_id(what: &'static str, text: &str, origin: Origin) -> Result<String, ValueError> {
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
    no_key_inside(text, origin).map_err(err)?;
    Ok(text.to_ascii_lowercase())
}

/// R3: names are shown unmasked everywhere, so a name that holds a product
/// key (a key pasted into the wrong field, written with any separator) is
/// refused rather than stored. The message shows the key-shaped token
/// masked.
fn no_key_inside(text: &str, origin: Origin) -> Result<(), String> {
    let refused = |token: &str| {
        format!(
            "must not contain a product key (R3: keys are secrets), found {}",
            crate::mask_keys_in(token)
        )
    };
    match origin {
        Origin::Input => match crate::key::key_shaped_token(text) {
            Some(token) => Err(refused(token)),
            None => Ok(()),
        },
        Origin::Stored if crate::key::contains_hyphenated_key(text) => {
            Err("must not contain a product key (R3: keys are secrets)".into())
        }
        Origin::Stored => Ok(()),
    }
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $parse:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses and normalises input (a flag, an import line) by every
            /// rule of today; the error names what is wrong.
            pub fn parse(text: &str) -> Result<Self, ValueError> {
                let parse: fn(&str, Origin) -> Result<String, ValueError> = $parse;
                parse(text, Origin::Input).map(Self)
            }

            /// Parses a name read back from the log or the projections, by
            /// the rules it was written under (the module's documentation).
            pub fn parse_stored(text: &str) -> Result<Self, ValueError> {
                let parse: fn(&str, Origin) -> Result<String, ValueError> = $parse;
                parse(text, Origin::Stored).map(Self)
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

        /// Reads a stored name ([`Self::parse_stored`]); input is parsed
        /// with [`Self::parse`].
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse_stored(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// A subscription's id, chosen by the user (`contoso-o365`), lower case.
    SubscriptionId,
    |text, origin| parse_id("subscription id", text, origin)
);

name_type!(
    /// A benefit's id (`contoso-action-pack-2026`), lower case.
    BenefitId,
    |text, origin| parse_id("benefit id", text, origin)
);

name_type!(
    /// A product's name (`Office 365 E3`, `Microsoft Azure`): printable text,
    /// trimmed, inner runs of white space folded to one space. Compared
    /// exactly (R8), so the folding keeps `Office  365` from being a product
    /// of its own.
    ProductName,
    |text, origin| parse_text("product", PRODUCT_NAME_CHARS_MAX, text, origin)
);

name_type!(
    /// Why something was done, in the operator's words (a benefit withdrawn,
    /// L8): printable text like a product name, up to 200
    /// characters, with the same refusals (controls, bidirectional
    /// controls, keys, R3).
    Reason,
    |text, origin| parse_text("reason", REASON_CHARS_MAX, text, origin)
);

name_type!(
    /// A user name: an e-mail address, stored in lower case (directories
    /// compare user names without case). Guest users' addresses
    /// (`ann_fabrikam.com#EXT#@contoso.onmicrosoft.com`) are valid.
    UserName,
    parse_user_name
);

/// Checks free text (a product name, a reason): no control characters, no
/// bidirectional controls on input, white space folded, 1 to `max`
/// characters, no key inside (R3).
fn parse_text(
    what: &'static str,
    max: usize,
    text: &str,
    origin: Origin,
) -> Result<String, ValueError> {
    let err = |reason: String| ValueError::Name {
        what,
        found: excerpt(text),
        reason,
    };
    if text.chars().any(char::is_control) {
        return Err(err("must not contain control characters".into()));
    }
    if let Some(bidi) = text.chars().find(|c| is_bidi_control(*c)) {
        if origin == Origin::Input {
            return Err(err(format!(
                "must not contain the bidirectional control U+{:04X}",
                u32::from(bidi)
            )));
        }
    }
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.is_empty() {
        return Err(err("must not be empty".into()));
    }
    if folded.chars().count() > max {
        return Err(err(format!("longer than {max} characters")));
    }
    no_key_inside(&folded, origin).map_err(err)?;
    Ok(folded)
}

fn parse_user_name(text: &str, origin: Origin) -> Result<String, ValueError> {
    let err = |reason: &str| ValueError::UserName {
        found: excerpt(text),
        reason: reason.to_owned(),
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
    no_key_inside(text, origin).map_err(|reason| err(&reason))?;
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

    /// Parses input as one kind of name.
    type Parse = fn(&str) -> Result<(), ValueError>;

    /// Every input door of a name: (field as the message names it, parse).
    fn every_name() -> [(&'static str, Parse); 4] {
        [
            ("subscription id", |t| SubscriptionId::parse(t).map(drop)),
            ("benefit id", |t| BenefitId::parse(t).map(drop)),
            ("product", |t| ProductName::parse(t).map(drop)),
            ("user", |t| UserName::parse(t).map(drop)),
        ]
    }

    /// `text` with `inner` put where each kind of name allows it.
    fn in_a_name(field: &str, inner: &str) -> String {
        match field {
            "user" => format!("ann{inner}x@contoso.com"),
            "product" => format!("Office {inner} E3"),
            _ => format!("contoso{inner}o365"),
        }
    }

    #[test]
    fn control_and_bidirectional_characters_are_refused_naming_the_field() {
        for (field, parse) in every_name() {
            for c in [
                '\0', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}', '\u{202a}', '\u{202e}', '\u{2066}',
                '\u{2069}',
            ] {
                let text = in_a_name(field, &c.to_string());
                let error = parse(&text).expect_err(&text).to_string();
                assert!(error.starts_with(field), "{text:?}: {error}");
                assert!(!error.contains(c), "{text:?} echoed: {error}");
            }
        }
        let error = ProductName::parse("Office \u{202e}3E 563").expect_err("bidi");
        assert!(
            error.to_string().contains("bidirectional control U+202E"),
            "{error}"
        );
    }

    #[test]
    fn r3_names_that_hold_a_key_with_any_separator_are_refused_masked() {
        for (field, parse) in every_name() {
            for sep in ['.', '_', ' ', '-', '+', '~'] {
                let key = ["abcde", "fghij", "klmno", "pqrst", "7qxkr"].join(&sep.to_string());
                let text = in_a_name(field, &format!("{sep}{key}{sep}"));
                let Err(error) = parse(&text) else {
                    // Only separators the field allows reach the key check;
                    // the others are refused as characters not allowed.
                    panic!("{text:?} accepted");
                };
                let error = error.to_string();
                assert!(!error.contains("fghij"), "{text:?} shown whole: {error}");
                assert!(error.starts_with(field), "{text:?}: {error}");
            }
        }
        let error = SubscriptionId::parse("abcde.fghij.klmno.pqrst.7qxkr").expect_err("a key");
        assert!(
            error
                .to_string()
                .contains("found *****.*****.*****.*****.7qxkr"),
            "{error}"
        );
        let error = ProductName::parse("Office ABCDE FGHIJ KLMNO PQRST 7QXKR").expect_err("a key");
        assert!(error.to_string().contains("*****"), "{error}");
        assert!(UserName::parse("abcde_fghij_klmno_pqrst_7qxkr@contoso.com").is_err());
        assert!(
            SubscriptionId::parse("a1234.b1234.c1234.d1234").is_ok(),
            "four groups"
        );
        assert!(ProductName::parse("Office 365 E3 Plans Suite").is_ok());
    }

    #[test]
    fn stored_names_are_read_by_the_rules_they_were_written_under() {
        // Written before issue 13: a bidi control in a product, a key with
        // dots in an id. The log must stay readable; input refuses both.
        let product = "Office \u{202e}365";
        assert!(ProductName::parse(product).is_err());
        assert!(ProductName::parse_stored(product).is_ok());
        let json = serde_json::to_string(product).expect("json");
        assert!(serde_json::from_str::<ProductName>(&json).is_ok());
        let id = "abcde.fghij.klmno.pqrst.7qxkr";
        assert!(SubscriptionId::parse(id).is_err());
        assert!(serde_json::from_str::<SubscriptionId>(&format!("{id:?}")).is_ok());
        // What was refused then is refused still.
        assert!(SubscriptionId::parse_stored("abcde-fghij-klmno-pqrst-7qxkr").is_err());
        assert!(ProductName::parse_stored("Office\u{0}365").is_err());
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
