//! The hash of a record and the digest an auditor writes down.
//!
//! A [`Digest`] is a position in the log and the chain hash there, written
//! `SEQ:HEX64` (`42:9f86d0...`). Because every hash covers the hash before it,
//! a digest taken today pins the whole history up to its sequence:
//! [`crate::EventStore::verify_against`] proves later that the log still holds
//! that history.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A SHA-256 hash of the chain: 32 bytes, shown as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ChainHash(pub [u8; 32]);

impl ChainHash {
    /// The length of a hash, in bytes.
    pub const BYTES: usize = 32;

    /// The `prev_hash` of the first record: 32 zero bytes.
    pub const GENESIS: ChainHash = ChainHash([0; 32]);

    /// The hash as 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(Self::BYTES * 2);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// Parses exactly 64 lower-case hex digits. Upper case is refused so that
    /// a hash has one written form, which the stored records rely on.
    pub fn from_hex(text: &str) -> Result<Self, DigestParseError> {
        let bytes = text.as_bytes();
        if bytes.len() != Self::BYTES * 2 {
            return Err(DigestParseError::HashLength { found: bytes.len() });
        }
        let nibble = |b: u8| match b {
            b'0'..=b'9' => Ok(b - b'0'),
            b'a'..=b'f' => Ok(b - b'a' + 10),
            _ => Err(DigestParseError::HashDigit),
        };
        let mut out = [0u8; 32];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Ok(Self(out))
    }
}

impl fmt::Display for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ChainHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainHash({})", self.to_hex())
    }
}

/// A position in the log and the chain hash of the record there. The empty
/// ledger's digest is `0:` followed by 64 zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Digest {
    /// The sequence of the last record covered (0: none).
    pub seq: u64,
    /// That record's hash ([`ChainHash::GENESIS`] when `seq` is 0).
    pub hash: ChainHash,
}

impl Digest {
    /// The digest of the empty ledger.
    pub const EMPTY: Digest = Digest {
        seq: 0,
        hash: ChainHash::GENESIS,
    };
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

impl FromStr for Digest {
    type Err = DigestParseError;

    /// Parses `SEQ:HEX64`, as [`Digest`]'s `Display` writes it.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        const DIGEST_CHARS_MAX: usize = 20 + 1 + 64;
        if text.len() > DIGEST_CHARS_MAX {
            return Err(DigestParseError::Shape);
        }
        let (seq, hash) = text.split_once(':').ok_or(DigestParseError::Shape)?;
        if seq.is_empty() || !seq.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DigestParseError::Sequence);
        }
        let seq: u64 = seq.parse().map_err(|_| DigestParseError::Sequence)?;
        let hash = ChainHash::from_hex(hash)?;
        if seq == 0 && hash != ChainHash::GENESIS {
            return Err(DigestParseError::EmptyWithHash);
        }
        Ok(Digest { seq, hash })
    }
}

/// Why a text is not a digest or a hash.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DigestParseError {
    /// Not `SEQ:HEX64`.
    #[error("a digest is written SEQ:HEX64, e.g. 42:9f86d081...")]
    Shape,
    /// The part before `:` is not a whole number.
    #[error("the sequence of a digest must be a whole number from 0 to 18446744073709551615")]
    Sequence,
    /// The hash is not 64 characters.
    #[error("a hash is 64 hex digits, found {found} characters")]
    HashLength {
        /// How many characters were given.
        found: usize,
    },
    /// The hash has a character that is not `0-9a-f`.
    #[error("a hash is written in lower-case hex digits 0-9a-f")]
    HashDigit,
    /// Sequence 0 is the empty ledger, whose hash is all zeros.
    #[error("sequence 0 is the empty ledger, whose hash is 64 zeros")]
    EmptyWithHash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_round_trips_through_its_written_form() {
        let digest = Digest {
            seq: 42,
            hash: ChainHash([0xab; 32]),
        };
        let text = digest.to_string();
        assert_eq!(text, format!("42:{}", "ab".repeat(32)));
        assert_eq!(text.parse::<Digest>(), Ok(digest));
        assert_eq!(
            format!("0:{}", "0".repeat(64)).parse::<Digest>(),
            Ok(Digest::EMPTY)
        );
    }

    #[test]
    fn malformed_digests_are_refused_with_the_reason() {
        for (text, error) in [
            ("42", DigestParseError::Shape),
            (&format!("x:{}", "0".repeat(64)), DigestParseError::Sequence),
            (
                &format!("-1:{}", "0".repeat(64)),
                DigestParseError::Sequence,
            ),
            ("1:abc", DigestParseError::HashLength { found: 3 }),
            (
                &format!("1:{}", "AB".repeat(32)),
                DigestParseError::HashDigit,
            ),
            (
                &format!("0:{}", "1".repeat(64)),
                DigestParseError::EmptyWithHash,
            ),
            (&"9".repeat(100), DigestParseError::Shape),
        ] {
            assert_eq!(text.parse::<Digest>(), Err(error), "{text}");
        }
    }
}
