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
        // A key already in its normal form (every stored key) is its own
        // normal form: replays read a million of them (issue 11).
        if is_normal(text) {
            return Ok(Self(text.to_owned()));
        }
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

/// Whether `text` is a key in its normal form: five groups of five upper
/// case letters and digits, joined by hyphens.
fn is_normal(text: &str) -> bool {
    text.len() == KEY_CHARS + GROUPS - 1
        && text.bytes().enumerate().all(|(i, b)| {
            if i % (GROUP_CHARS + 1) == GROUP_CHARS {
                b == b'-'
            } else {
                b.is_ascii_uppercase() || b.is_ascii_digit()
            }
        })
}

/// The maximal runs of ASCII letters and digits in `text`, as byte ranges:
/// the groups a key-shaped token is made of.
fn alphanumeric_runs(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_ascii_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push(s..text.len());
    }
    runs
}

/// Whether five runs of `text` are key-shaped (R3): joined by exactly one
/// separator character each (any character but a letter or digit: `-`,
/// `.`, `_`, a space...), the middle three of five characters, the first
/// ending and the last starting with five (a key may be glued to other
/// text).
fn is_key_window(text: &str, window: &[std::ops::Range<usize>]) -> bool {
    is_window_joined_by(text, window, |gap| gap.chars().count() == 1)
}

/// Whether five runs have the lengths of a key's groups and every gap
/// between them passes `joined`.
fn is_window_joined_by(
    text: &str,
    window: &[std::ops::Range<usize>],
    joined: fn(&str) -> bool,
) -> bool {
    window
        .windows(2)
        .all(|pair| joined(&text[pair[0].end..pair[1].start]))
        && window[0].len() >= GROUP_CHARS
        && window[GROUPS - 1].len() >= GROUP_CHARS
        && window[1..GROUPS - 1].iter().all(|g| g.len() == GROUP_CHARS)
}

/// The first key-shaped token of `text` (R3): five groups of five letters
/// and digits joined by any one separator character each (the outer two may
/// be glued to other text), or a maximal run of exactly 25 letters and
/// digits. Narrower than what [`mask_keys_in`] masks (any run of 25 or
/// more), so that a long name is not taken for a key.
pub fn key_shaped_token(text: &str) -> Option<&str> {
    let runs = alphanumeric_runs(text);
    let is_window =
        |i: usize| i + GROUPS <= runs.len() && is_key_window(text, &runs[i..i + GROUPS]);
    // The token runs through every window that overlaps the first, so that
    // a word before a key (`Office QWERT.YUIOP...`) cannot leave one of the
    // key's groups outside it.
    let window = (0..runs.len()).find(|i| is_window(*i)).map(|first| {
        let mut last = first + GROUPS - 1;
        let mut next = first + 1;
        while next <= last {
            if is_window(next) {
                last = next + GROUPS - 1;
            }
            next += 1;
        }
        runs[first].start..runs[last].end
    });
    let run = runs.iter().find(|r| r.len() == KEY_CHARS).cloned();
    match (window, run) {
        (Some(w), Some(r)) => Some(if r.start < w.start { r } else { w }),
        (w, r) => w.or(r),
    }
    .map(|range| &text[range])
}

/// Whether `text` holds something shaped like a product key
/// ([`key_shaped_token`]); this is the test names must pass (R3).
pub fn contains_key(text: &str) -> bool {
    key_shaped_token(text).is_some()
}

/// The check names were held to before a key written with any separator
/// counted (issue 13): five hyphenated groups, or a maximal run of exactly
/// 25 letters and digits. Names read back from the log are held to it, so
/// that every ledger written before stays readable.
pub(crate) fn contains_hyphenated_key(text: &str) -> bool {
    // Either shape holds 25 letters and digits: text with fewer (most ids
    // and names) holds no key, and is answered without collecting runs.
    if text.bytes().filter(u8::is_ascii_alphanumeric).count() < KEY_CHARS {
        return false;
    }
    let runs = alphanumeric_runs(text);
    runs.iter().any(|r| r.len() == KEY_CHARS)
        || runs
            .windows(GROUPS)
            .any(|w| is_window_joined_by(text, w, |gap| gap == "-"))
}

/// Masks everything in `text` that could be a product key (R3): in five
/// groups joined by one separator character each (the shape of
/// [`key_shaped_token`]), all but the last group become `*****`; in any run
/// of 25 or more letters and digits, all but its last five characters. The
/// safety net for text that did not come from a [`ProductKey`]: an error
/// quoting a damaged record, or a message quoting input. Separators are
/// kept, and one pass is final (masking is idempotent).
pub fn mask_keys_in(text: &str) -> String {
    let runs = alphanumeric_runs(text);
    let mut hidden = vec![false; text.len()];
    let mut hide = |range: std::ops::Range<usize>| hidden[range].fill(true);
    // Every window, overlapping ones too: a word before a key (`Office
    // QWERT.YUIOP.ASDFG.HJKLZ.7QXKR`) makes a window that ends one group
    // early, and the key's own window must still hide its fourth group.
    for window in runs.windows(GROUPS).filter(|w| is_key_window(text, w)) {
        hide(window[0].end - GROUP_CHARS..window[0].end);
        for group in &window[1..GROUPS - 1] {
            hide(group.clone());
        }
    }
    for run in runs.iter().filter(|r| r.len() >= KEY_CHARS) {
        hide(run.start..run.end - GROUP_CHARS);
    }
    text.char_indices()
        .map(|(at, c)| if hidden[at] { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r2_a_key_in_normal_form_parses_as_any_other_spelling_of_it() {
        let normal = "ABCDE-FGHIJ-KLMNO-PQRST-7QXKR";
        assert!(is_normal(normal));
        for spelling in [
            normal,
            "abcde-fghij-klmno-pqrst-7qxkr",
            "ABCDEFGHIJKLMNOPQRST7QXKR",
        ] {
            assert_eq!(
                ProductKey::parse(spelling).map(|k| k.0),
                Ok(normal.to_owned())
            );
        }
        for almost in [
            "ABCDE-FGHIJ-KLMNO-PQRST-7QXKr",
            "ABCDE-FGHIJ-KLMNO-PQRST7-QXKR",
            "ABCDE-FGHIJ-KLMNO-PQRST-7QXK",
            "ABCDE-FGHIJ-KLMNO-PQRST-7QXK\u{e9}",
        ] {
            assert!(!is_normal(almost), "{almost}");
        }
        assert!(ProductKey::parse("ABCDE-FGHIJ-KLMNO-PQRST7-QXKR").is_err());
    }

    #[test]
    fn r3_text_with_fewer_than_25_letters_and_digits_holds_no_key() {
        assert!(!contains_hyphenated_key("contoso-o365-annual.2026"));
        assert!(contains_hyphenated_key("x-ABCDE-FGHIJ-KLMNO-PQRST-7QXKR"));
        assert!(contains_hyphenated_key("ABCDEFGHIJKLMNOPQRSTUVWXY"));
        assert!(!contains_hyphenated_key("ABCDE.FGHIJ.KLMNO.PQRST.7QXKR"));
    }

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

    #[test]
    fn r3_a_key_written_with_any_one_separator_is_key_shaped_and_masked() {
        for sep in [".", "_", " ", "/", "\u{a0}", "é"] {
            let key = ["ABCDE", "FGHIJ", "KLMNO", "PQRST", "7QXKR"].join(sep);
            let text = format!("sub {key} end");
            assert_eq!(key_shaped_token(&text), Some(key.as_str()), "{sep:?}");
            let masked = ["*****", "*****", "*****", "*****", "7QXKR"].join(sep);
            assert_eq!(mask_keys_in(&text), format!("sub {masked} end"), "{sep:?}");
        }
        // Mixed separators count; two characters between groups do not.
        assert!(contains_key("ABCDE.FGHIJ_KLMNO PQRST-7QXKR"));
        assert!(!contains_key("ABCDE..FGHIJ..KLMNO..PQRST..7QXKR"));
        // A maximal run of exactly 25, and not 24 or 26.
        assert!(contains_key("x ABCDEFGHIJKLMNOPQRST7QXKR."));
        assert!(!contains_key("ABCDEFGHIJKLMNOPQRST7QXK"));
        assert!(!contains_key("ABCDEFGHIJKLMNOPQRST7QXKRZ"));
        // Glued to other text, as a fuzzer once found with hyphens.
        assert_eq!(
            mask_keys_in("xxxxABCDE.FGHIJ.KLMNO.PQRST.7QXKRyy"),
            "xxxx*****.*****.*****.*****.7QXKRyy"
        );
        assert!(!contains_key("Office 365 E3 Plans Suite"));
        // A word before a key makes a window of its own: every group of
        // the key but its last must still be hidden, in the token too.
        let text = "Office QWERT.YUIOP.ASDFG.HJKLZ.7QXKR";
        assert_eq!(mask_keys_in(text), "O***** *****.*****.*****.*****.7QXKR");
        assert_eq!(key_shaped_token(text), Some(text));
    }

    #[test]
    fn r3_masking_is_final_and_what_it_leaves_holds_no_key() {
        for text in [
            "AAAAA.BBBBB.CCCCC.DDDDD.EEEEE.FFFFF.GGGGG.HHHHH.IIIII",
            "zzzzzz.p1234.q1234.r1234.xxxxxAAAAA.BBBBB.CCCCC.DDDDD.EEEEE",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123 a.b.c AAAAA BBBBB CCCCC DDDDD EEEEE",
            "Office QWERT.YUIOP.ASDFG.HJKLZ.7QXKR FFFFF GGGGG",
            "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE-FFFFF-GGGGG-HHHHH-IIIII",
            "contoso-o365 2026-01-15 ann@contoso.com",
        ] {
            let once = mask_keys_in(text);
            assert_eq!(mask_keys_in(&once), once, "{text}");
            assert!(!contains_key(&once), "{text} -> {once}");
        }
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
