//! Reading a JSON Lines import into commands, with the line number of each.
//!
//! Parsing a line is the domain's ([`benefit_domain::jsonl::parse_line`]);
//! this module reads the text with limits on everything: a line is read at
//! most [`IMPORT_LINE_BYTES_MAX`] bytes far before it is refused (a file with
//! no newline cannot exhaust memory), and an import holds at most
//! [`IMPORT_LINES_MAX`] commands, what one atomic append may store, in at
//! most [`IMPORT_BYTES_MAX`] bytes (so that an endless stream of blank lines
//! ends too). Blank lines are skipped but still counted, so that a line
//! number in an error is the one an editor shows. A UTF-8 byte order mark
//! at the start of the file (as some Windows editors write) is skipped.

use std::io::{BufRead, Read};
use std::path::Path;

use benefit_domain::jsonl::{parse_line, LineError, IMPORT_LINE_BYTES_MAX};
use benefit_domain::{ClaimedActor, Command};
use benefit_events::Date;
use benefit_store::BATCH_EVENTS_MAX;

use crate::AppError;

/// The most commands one import may hold: every command records one event,
/// and the whole import is one append.
pub const IMPORT_LINES_MAX: usize = BATCH_EVENTS_MAX;

/// The most bytes one import may hold, blank lines and line ends included:
/// 256 MiB, about eight times an export of [`IMPORT_LINES_MAX`] events.
pub const IMPORT_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// The byte order mark of UTF-8, which a file may begin with.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The commands of an import, each with the number of the line it came from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Import {
    /// The commands, in file order.
    pub commands: Vec<Command>,
    /// `lines[i]` is the line number (from 1) of `commands[i]`.
    pub lines: Vec<u64>,
}

impl Import {
    /// The line number of the command at `index`.
    pub fn line_of(&self, index: usize) -> u64 {
        self.lines.get(index).copied().unwrap_or(index as u64 + 1)
    }
}

/// Reads every line of `reader` (named `path` in errors) into commands.
/// `default_actor` and `today` fill in what a line leaves out. `progress` is
/// told the bytes read so far after each line. The first malformed line ends
/// the read with [`AppError::Malformed`] naming it.
pub fn read_import(
    reader: impl BufRead,
    path: &Path,
    default_actor: Option<&ClaimedActor>,
    today: Date,
    progress: &mut dyn FnMut(u64),
) -> Result<Import, AppError> {
    let limits = Limits {
        bytes_max: IMPORT_BYTES_MAX,
    };
    read_limited(reader, path, limits, default_actor, today, progress)
}

/// The limits of one read: a parameter so that tests can reach them cheaply.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// The most bytes of the whole import.
    bytes_max: u64,
}

fn read_limited(
    mut reader: impl BufRead,
    path: &Path,
    limits: Limits,
    default_actor: Option<&ClaimedActor>,
    today: Date,
    progress: &mut dyn FnMut(u64),
) -> Result<Import, AppError> {
    let mut import = Import::default();
    let mut buffer = Vec::new();
    let (mut number, mut bytes) = (0u64, 0u64);
    loop {
        buffer.clear();
        // One byte past a limit tells a line (or an import) over it apart
        // from one exactly at it; the newline is one byte more.
        let line_limit = IMPORT_LINE_BYTES_MAX as u64 + 2;
        let limit = line_limit.min(limits.bytes_max - bytes + 1);
        let read = (&mut reader)
            .take(limit)
            .read_until(b'\n', &mut buffer)
            .map_err(|source| AppError::Read {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            break;
        }
        number += 1;
        bytes += read as u64;
        let malformed = |message: String| AppError::Malformed {
            line: number,
            message,
        };
        if bytes > limits.bytes_max {
            return Err(malformed(format!(
                "an import holds at most {} bytes ({} MiB); the file goes on past it",
                limits.bytes_max,
                limits.bytes_max / (1024 * 1024)
            )));
        }
        let text = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        let text = match number {
            1 => text.strip_prefix(UTF8_BOM).unwrap_or(text),
            _ => text,
        };
        if text.len() > IMPORT_LINE_BYTES_MAX {
            // The read stopped past the limit: the line may be far longer.
            return Err(malformed(LineError::LongerThanLimit.to_string()));
        }
        let text =
            std::str::from_utf8(text).map_err(|e| malformed(format!("not UTF-8 text: {e}")))?;
        if text.trim().is_empty() {
            continue;
        }
        if import.commands.len() == IMPORT_LINES_MAX {
            return Err(malformed(format!(
                "an import holds at most {IMPORT_LINES_MAX} commands, the most one atomic append stores"
            )));
        }
        let command =
            parse_line(text, default_actor, today).map_err(|e| malformed(e.to_string()))?;
        import.commands.push(command);
        import.lines.push(number);
        progress(bytes);
    }
    Ok(import)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        benefit_events::parse_date("2026-01-15").expect("valid")
    }

    fn read(text: &str) -> Result<Import, AppError> {
        read_import(
            text.as_bytes(),
            Path::new("t.jsonl"),
            None,
            today(),
            &mut |_| {},
        )
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        let import = read(concat!(
            "\n",
            r#"{"event": "UserRegistered", "user": "ann@contoso.com"}"#,
            "\r\n\n",
            r#"{"event": "UserRegistered", "user": "bob@contoso.com"}"#,
        ))
        .expect("valid");
        assert_eq!(import.lines, vec![2, 4]);
        assert_eq!(import.commands[0].on, today());
    }

    #[test]
    fn a_malformed_line_is_named_by_its_number_and_field() {
        let error = read(concat!(
            r#"{"event": "UserRegistered", "user": "ann@contoso.com"}"#,
            "\n",
            r#"{"event": "UserRegistered", "usr": "bob@contoso.com"}"#,
        ))
        .expect_err("malformed");
        let text = error.to_string();
        assert!(text.starts_with("line 2: "), "{text}");
        assert!(text.contains("usr"), "{text}");
    }

    #[test]
    fn a_line_over_the_limit_is_refused_without_reading_it_all() {
        let long = format!("{}\n", "x".repeat(IMPORT_LINE_BYTES_MAX * 3));
        let error = read(&long).expect_err("too long");
        assert!(
            matches!(error, AppError::Malformed { line: 1, .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .ends_with("line is longer than the 65536 bytes allowed"),
            "{error}"
        );
        assert!(!error.to_string().contains("65538"), "{error}");
    }

    #[test]
    fn a_byte_order_mark_at_the_start_of_the_file_is_skipped() {
        let import = read(concat!(
            "\u{feff}",
            r#"{"event": "UserRegistered", "user": "ann@contoso.com"}"#,
            "\n",
            r#"{"event": "UserRegistered", "user": "bob@contoso.com"}"#,
        ))
        .expect("a file that begins with a BOM");
        assert_eq!(import.lines, vec![1, 2]);
        let error = read(concat!(
            r#"{"event": "UserRegistered", "user": "ann@contoso.com"}"#,
            "\n\u{feff}",
            r#"{"event": "UserRegistered", "user": "bob@contoso.com"}"#,
        ))
        .expect_err("a BOM inside the file");
        assert!(
            error.to_string().starts_with("line 2: a byte order mark"),
            "{error}"
        );
    }

    /// Blank lines without end: what an import of `/dev/zero`-like input
    /// would be, but of spaces.
    struct EndlessBlankLines;

    impl Read for EndlessBlankLines {
        fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
            for (i, byte) in buffer.iter_mut().enumerate() {
                *byte = if i % 1024 == 1023 { b'\n' } else { b' ' };
            }
            Ok(buffer.len())
        }
    }

    #[test]
    fn an_import_over_import_bytes_max_is_refused_and_read_no_further() {
        let reader = std::io::BufReader::with_capacity(1 << 16, EndlessBlankLines);
        let error = read_import(reader, Path::new("t"), None, today(), &mut |_| {})
            .expect_err("an endless import");
        let text = error.to_string();
        assert!(
            text.contains("an import holds at most 268435456 bytes (256 MiB)"),
            "{text}"
        );
        assert!(matches!(error, AppError::Malformed { .. }), "{error}");
    }

    #[test]
    fn an_import_exactly_at_the_byte_limit_is_read() {
        let limits = Limits { bytes_max: 10 };
        let read = |text: &str| {
            read_limited(
                text.as_bytes(),
                Path::new("t"),
                limits,
                None,
                today(),
                &mut |_| {},
            )
        };
        assert!(read("\n\n\n\n\n\n\n\n\n\n").is_ok(), "10 bytes");
        assert!(read("\n\n\n\n\n\n\n\n\n\n\n").is_err(), "11 bytes");
    }

    #[test]
    fn text_that_is_not_utf8_is_malformed() {
        let error = read_import(
            &b"\xff\xfe\n"[..],
            Path::new("t"),
            None,
            today(),
            &mut |_| {},
        )
        .expect_err("not utf-8");
        assert!(error.to_string().contains("not UTF-8"), "{error}");
    }
}
