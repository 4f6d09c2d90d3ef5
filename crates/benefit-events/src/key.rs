//! Product keys (R2, R3): a secret of 25 letters and digits, stored normalised
//! and shown masked everywhere but in an explicit export of the raw log.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValueError;

const GROUPS: usize = 5;
const GROUP_CHARS: usize = 5;
const KEY_CHARS: usize = GROUPS * GROUP_CHARS;

/// A product key, normalised to upper case in five hyphenated groups (R2).
///
/// `Display` and `Debug` show it masked (R3): `*****-*****-*****-*****-7QXKR`.
/// The whole key is only available through [`ProductKey::reveal`], which is
/// named so that every call site is easy to find and review.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductKey(String);

impl ProductKey {
    /// Parses a key given in any case, with or without the four hyphens (R2).
    ///
    /// Hyphens, when given, must stand between the groups; the error never
    /// repeats the key (R3).
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let err = |reason: String| ValueError::ProductKey { reason };
        let hyphens = text.bytes().filter(|b| *b == b'-').count();
        let compact: String = match hyphens {
            0 => text.to_owned(),
            4 => {
                let groups: Vec<&str> = text.split('-').collect();
                if groups.iter().any(|g| g.chars().count() != GROUP_CHARS) {
                    return Err(err(
                        "hyphens must separate five groups of five characters".into()
                    ));
                }
                groups.concat()
            }
            n => {
                return Err(err(format!(
                    "expected 4 hyphens between five groups, or none, found {n}"
                )))
            }
        };
        if let Some(bad) = compact.chars().find(|c| !c.is_ascii_alphanumeric()) {
            let shown = if bad.is_control() || bad.is_whitespace() {
                format!("{:?}", bad)
            } else {
                format!("'{bad}'")
            };
            return Err(err(format!(
                "only letters A-Z and digits 0-9 are allowed, found {shown}"
            )));
        }
        let count = compact.chars().count();
        if count != KEY_CHARS {
            return Err(err(format!(
                "expected {KEY_CHARS} letters and digits, found {count}"
            )));
        }
        let upper = compact.to_ascii_uppercase();
        let mut normal = String::with_capacity(KEY_CHARS + GROUPS - 1);
        for (i, c) in upper.chars().enumerate() {
            if i > 0 && i % GROUP_CHARS == 0 {
                normal.push('-');
            }
            normal.push(c);
        }
        Ok(Self(normal))
    }

    /// The whole key. Only an explicit export of the raw log may show it (R3);
    /// everything else prints the masked form.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// The masked form (R3): every group but the last replaced by `*****`.
    pub fn masked(&self) -> String {
        format!("*****-*****-*****-*****-{}", self.last_group())
    }

    /// The last group, the part of a key that may be shown.
    pub fn last_group(&self) -> &str {
        &self.0[self.0.len() - GROUP_CHARS..]
    }
}

impl fmt::Display for ProductKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for ProductKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProductKey({})", self.masked())
    }
}

impl std::str::FromStr for ProductKey {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The stored log holds the whole key: it is the raw record an export shows.
impl Serialize for ProductKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ProductKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Masks everything in `text` that could be a product key (R3): five
/// hyphenated groups of five letters or digits, or a run of 25 or more
/// letters and digits, keep only their last five characters. The safety net
/// for text that did not come from a [`ProductKey`]: an error quoting a
/// damaged record, or a message quoting input.
pub fn mask_keys_in(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        out.push_str(&mask_run(run));
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// Masks key-shaped parts of a run of letters, digits and hyphens: five
/// groups joined by hyphens, the middle three of five characters, the first
/// ending and the last starting with five (a key may be glued to other
/// text), keep only their last group; any other group of 25 or more
/// characters keeps only its last five.
fn mask_run(run: &str) -> String {
    let groups: Vec<&str> = run.split('-').collect();
    let mut masked: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
    let mut i = 0;
    while i + GROUPS <= groups.len() {
        if !is_key_window(&groups[i..i + GROUPS]) {
            i += 1;
            continue;
        }
        let first = groups[i];
        masked[i] = format!("{}*****", &first[..first.len() - GROUP_CHARS]);
        for m in &mut masked[i + 1..i + GROUPS - 1] {
            *m = "*****".into();
        }
        // A key's last group may also end in the first group of another.
        i += GROUPS - 1;
    }
    masked
        .iter()
        .map(|group| mask_long_segments(group))
        .collect::<Vec<_>>()
        .join("-")
}

/// Whether five groups of a run could be a key: the middle three of five
/// characters, the first ending and the last starting with five.
fn is_key_window(window: &[&str]) -> bool {
    window[0].len() >= GROUP_CHARS
        && window[GROUPS - 1].len() >= GROUP_CHARS
        && window[1..GROUPS - 1].iter().all(|g| g.len() == GROUP_CHARS)
}

/// Whether `text` holds something shaped like a product key: five
/// hyphenated groups (the outer two may be glued to other text), or exactly
/// 25 letters and digits standing alone. Narrower than what
/// [`mask_keys_in`] masks (any run of 25 or more), so that a long name is
/// not taken for a key; this is the test names must pass (R3).
pub fn contains_key(text: &str) -> bool {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .any(|run| {
            let groups: Vec<&str> = run.split('-').collect();
            groups.iter().any(|g| g.len() == KEY_CHARS) || groups.windows(GROUPS).any(is_key_window)
        })
}

/// Masks every stretch of 25 or more letters and digits but its last five,
/// so that one pass of [`mask_keys_in`] is final (masking is idempotent).
fn mask_long_segments(group: &str) -> String {
    group
        .split('*')
        .map(|segment| {
            if segment.len() >= KEY_CHARS {
                let keep = &segment[segment.len() - GROUP_CHARS..];
                format!("{}{keep}", "*".repeat(segment.len() - GROUP_CHARS))
            } else {
                segment.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r3_key_shaped_text_is_masked_wherever_it_appears() {
        assert_eq!(
            mask_keys_in(r#"invalid type: string "abcde-FGHIJ-klmno-PQRST-7qxkr", expected u32"#),
            r#"invalid type: string "*****-*****-*****-*****-7qxkr", expected u32"#
        );
        assert_eq!(
            mask_keys_in("key ABCDEFGHIJKLMNOPQRST7QXKR here"),
            "key ********************7QXKR here"
        );
        assert_eq!(
            mask_keys_in("contoso-o365 2026-01-15 ann@contoso.com"),
            "contoso-o365 2026-01-15 ann@contoso.com"
        );
        assert_eq!(
            mask_keys_in("x-AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-y"),
            "x-*****-*****-*****-*****-EEEEE-y"
        );
    }

    const KEY: &str = "ABCDE-FGHIJ-KLMNO-PQRST-7QXKR";

    #[test]
    fn r2_key_is_normalised_from_any_case_with_or_without_hyphens() {
        for input in [
            KEY,
            "abcde-fghij-klmno-pqrst-7qxkr",
            "abcdefghijklmnopqrst7qxkr",
        ] {
            assert_eq!(
                ProductKey::parse(input).map(|k| k.reveal().to_owned()),
                Ok(KEY.to_owned())
            );
        }
    }

    #[test]
    fn r2_malformed_keys_are_refused_with_the_reason() {
        for (input, reason) in [
            (
                "ABCDE-FGHIJ-KLMNO-PQRST-7QXK",
                "hyphens must separate five groups of five characters",
            ),
            (
                "ABCDEFGHIJKLMNOPQRST7QXK",
                "expected 25 letters and digits, found 24",
            ),
            (
                "ABCDEFGHIJKLMNOPQRST7QXKRZ",
                "expected 25 letters and digits, found 26",
            ),
            (
                "ABCDE-FGHIJ-KLMNO-PQRST7QXKR",
                "expected 4 hyphens between five groups, or none, found 3",
            ),
            (
                "ABCDE-FGHIJ-KLMNO-PQRST-7QX_R",
                "only letters A-Z and digits 0-9 are allowed, found '_'",
            ),
            (
                "ABCDEFGHIJKLMNOPQRST7QX\0R",
                "only letters A-Z and digits 0-9 are allowed, found '\\0'",
            ),
            ("", "expected 25 letters and digits, found 0"),
        ] {
            assert_eq!(
                ProductKey::parse(input),
                Err(ValueError::ProductKey {
                    reason: reason.into()
                }),
                "{input:?}"
            );
        }
    }

    #[test]
    fn r3_display_and_debug_mask_all_groups_but_the_last() {
        let key = ProductKey::parse(KEY).expect("valid key");
        assert_eq!(key.to_string(), "*****-*****-*****-*****-7QXKR");
        assert_eq!(
            format!("{key:?}"),
            "ProductKey(*****-*****-*****-*****-7QXKR)"
        );
        let err = ProductKey::parse("ABCDE-FGHIJ-KLMNO-PQRST-7QXK!").expect_err("bad");
        assert!(!err.to_string().contains("ABCDE"), "{err}");
    }
}
