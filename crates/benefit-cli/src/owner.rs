//! `benefit-ledger serve`: one process holds an embedded ledger open and
//! runs, on it, the commands of the `benefit-ledger` processes started on
//! that ledger, so that a call costs its own work, not the opening of a
//! large ledger (issue 11: a fifth of a second at a million events).
//!
//! A key design decision: the owner runs the very code a process that
//! opens the ledger itself runs ([`crate::run`]); only where standard
//! output, standard error and standard input lead changes. A client (any
//! `benefit-ledger` command on a ledger directory) finds the owner's socket
//! `DIR/owner.sock`, sends the arguments it parsed, and relays what comes
//! back byte for byte, exit code included. A socket nothing listens on (an
//! owner that was killed) is ignored: the command opens the ledger itself.
//! Only the ledger's owner can connect: the socket lives in the ledger's
//! directory, which is private to its owner (0700), and is itself 0600.
//!
//! The protocol, one connection a command, each side the same build:
//! - client to owner: one JSON line ([`Request`]), then, for
//!   `append --file -`, the client's standard input until it shuts its
//!   side of the connection;
//! - owner to client: frames of a tag byte, a 4-byte big-endian length and
//!   that many bytes: `o` standard output, `e` standard error, and last `x`,
//!   the exit code (one byte).
//!
//! The owner runs one command at a time, in the order they connect: a
//! command waits for the one before it, as `--wait` would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use benefit_app::AppError;
use benefit_events::mask_keys_in;
use benefit_store::{Clock, StoreError, SystemClock};
use clap::Parser;
use serde::{Deserialize, Serialize};

use crate::backend::{Ledger, Location};
use crate::cli::{Cli, Command};
use crate::failure::{Exit, Failure};
use crate::{Context, Session};

/// The owner's socket, in the ledger directory.
pub const SOCKET: &str = "owner.sock";
/// This build (`--version`'s): a client and its owner must be the same.
const BUILD: &str = crate::cli::VERSION;
/// The longest request line the owner reads.
const REQUEST_LIMIT: u64 = 1 << 20;
/// How long the owner waits for a request line once a client connected.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes in one frame.
const FRAME_LIMIT: usize = 1 << 20;
/// How much of a command's standard output is gathered into one frame.
const OUTPUT_BUFFER: usize = 64 << 10;

/// A command, as a client sends it to the owner.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    /// The client's build ([`BUILD`]).
    build: String,
    /// The client's arguments, its program name first.
    argv: Vec<String>,
    /// The client's working directory, where relative paths start.
    cwd: PathBuf,
    /// The ledger, the actor and the role as the client resolved them from
    /// its flags and its environment.
    ledger: PathBuf,
    actor: Option<String>,
    role: Option<String>,
    /// The client's `BENEFIT_LEDGER_FAKE_NOW`, for tests.
    fake_now: Option<String>,
}

/// The ledger an owner holds, lent to one command at a time.
#[derive(Debug)]
pub struct Held {
    /// The ledger's directory, canonical.
    dir: PathBuf,
    /// The ledger; `None` after a command failed on it, until the next
    /// command opens it again.
    ledger: Mutex<Option<Ledger>>,
}

impl Held {
    /// The held ledger, on `clock` for this command: opened again if a
    /// failed command let it go.
    pub fn lend(self: &Arc<Self>, clock: Box<dyn Clock>) -> Result<OpenLedger, AppError> {
        let kept = self.slot().take();
        let ledger = match kept {
            Some(mut ledger) => {
                ledger.store_mut().set_clock(clock);
                ledger
            }
            None => Location::Dir(self.dir.clone()).open_existing(clock)?,
        };
        Ok(OpenLedger {
            ledger: Some(ledger),
            lender: Some(Arc::clone(self)),
        })
    }

    /// Closes the ledger, so that the next command opens it afresh: after
    /// a command that found it unusable or busy.
    fn release(&self) {
        drop(self.slot().take());
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Ledger>> {
        self.ledger.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A ledger a command opened: its own, closed when the command ends, or an
/// owner's, lent, and given back when the command is done with it (even
/// when it failed).
#[derive(Debug)]
pub struct OpenLedger {
    /// `None` only once given back or closed.
    ledger: Option<Ledger>,
    lender: Option<Arc<Held>>,
}

impl OpenLedger {
    /// A ledger the command opened itself.
    pub fn own(ledger: Ledger) -> Self {
        Self {
            ledger: Some(ledger),
            lender: None,
        }
    }

    /// The end of a command that succeeded: everything written is made
    /// durable; an own ledger is closed for the process's exit, a lent one
    /// flushed (and given back as it drops).
    pub fn close(mut self) -> Result<(), StoreError> {
        if self.lender.is_some() {
            return self.store().flush();
        }
        match self.ledger.take() {
            Some(ledger) => ledger.into_store().close_for_exit(),
            None => Ok(()),
        }
    }
}

impl Drop for OpenLedger {
    fn drop(&mut self) {
        if let (Some(lender), Some(ledger)) = (&self.lender, self.ledger.take()) {
            *lender.slot() = Some(ledger);
        }
    }
}

impl std::ops::Deref for OpenLedger {
    type Target = Ledger;

    fn deref(&self) -> &Ledger {
        // Only `close` (which consumes it) and `drop` take the ledger out.
        self.ledger
            .as_ref()
            .expect("an open ledger holds its ledger")
    }
}

impl std::ops::DerefMut for OpenLedger {
    fn deref_mut(&mut self) -> &mut Ledger {
        self.ledger
            .as_mut()
            .expect("an open ledger holds its ledger")
    }
}

/// `serve`: opens the ledger, listens on its socket, and runs the commands
/// that come, one at a time, until the process is stopped.
pub fn serve(context: &Context) -> Result<(), Failure> {
    let Some(given) = context.ledger.dir() else {
        return Err(Failure::usage(
            "serve holds an embedded ledger: give --ledger DIR, not a PostgreSQL URL (every operator of a PostgreSQL ledger reaches its server already)",
        ));
    };
    let listening = |e: std::io::Error| {
        Failure::new(
            Exit::Unusable,
            format!(
                "serve: cannot listen on {}: {e}",
                given.join(SOCKET).display()
            ),
        )
    };
    let absolute = std::path::absolute(given).map_err(listening)?;
    let location = Location::Dir(absolute.clone());
    let ledger = context.waiting(|| location.open_existing(Box::new(SystemClock)))?;
    crate::acknowledged::check(&ledger)?;
    let dir = absolute.canonicalize().map_err(listening)?;
    let listener = listen(&dir).map_err(listening)?;
    crate::progress::hide();
    eprintln!(
        "serving the ledger {} (pid {}) on {}: stop with Ctrl-C",
        given.display(),
        std::process::id(),
        dir.join(SOCKET).display()
    );
    let held = Arc::new(Held {
        dir,
        ledger: Mutex::new(Some(ledger)),
    });
    for connection in listener.incoming() {
        let answered = connection.and_then(|stream| answer(stream, &held));
        if let Err(e) = answered {
            let text = mask_keys_in(&e.to_string());
            eprintln!("serve: a command's connection failed: {text}");
        }
    }
    Ok(())
}

/// Binds the socket in `dir`, replacing one left by an owner that was
/// killed: this process holds the ledger's lock, so no other owner is
/// listening on it. The working directory becomes `dir`, so that the
/// socket's path is short enough for any ledger's path.
fn listen(dir: &Path) -> std::io::Result<UnixListener> {
    std::env::set_current_dir(dir)?;
    match std::fs::remove_file(SOCKET) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let listener = UnixListener::bind(SOCKET)?;
    std::fs::set_permissions(SOCKET, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// Reads one request from `stream`, runs it and sends back its output and
/// exit code.
fn answer(stream: UnixStream, held: &Arc<Held>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    let mut input = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    (&mut input).take(REQUEST_LIMIT).read_line(&mut line)?;
    stream.set_read_timeout(None)?;
    if line.is_empty() {
        // A client that connected and left (or only looked for an owner).
        return Ok(());
    }
    let exit = match serde_json::from_str::<Request>(&line) {
        Ok(request) => run_request(request, held, Box::new(input), &stream)?,
        Err(e) => {
            let text = format!("error: a malformed request to the ledger's owner: {e}\n");
            send(&stream, b'e', text.as_bytes())?;
            Exit::Usage as u8
        }
    };
    send(&stream, b'x', &[exit])
}

/// Runs a request's command as the client would have run it, and returns
/// its exit code.
fn run_request(
    request: Request,
    held: &Arc<Held>,
    input: Box<dyn BufRead + Send>,
    stream: &UnixStream,
) -> std::io::Result<u8> {
    let result = prepare(&request, held).and_then(|cli| {
        let session = Session {
            fake_now: request.fake_now,
            held: Some(Arc::clone(held)),
            input: Some(input),
        };
        let mut out = std::io::BufWriter::with_capacity(OUTPUT_BUFFER, Stdout(stream));
        let result = crate::run(cli, session, &mut out);
        let _ = out.flush();
        result.map_err(Ending::Failed)
    });
    match result {
        Ok(()) => Ok(0),
        Err(Ending::Usage(error)) => {
            let (to_stderr, text) = crate::usage_text(&error);
            send(stream, if to_stderr { b'e' } else { b'o' }, text.as_bytes())?;
            Ok(crate::usage_exit(&error))
        }
        Err(Ending::Failed(failure)) => {
            if matches!(failure.exit, Exit::Unusable | Exit::Busy) {
                held.release();
            }
            send(stream, b'e', failure.message().as_bytes())?;
            Ok(failure.exit as u8)
        }
    }
}

/// How a request ends when it does not succeed.
enum Ending {
    /// Its arguments did not parse (only a client of another build sends
    /// such).
    Usage(clap::Error),
    /// Its command failed.
    Failed(Failure),
}

impl From<Failure> for Ending {
    fn from(failure: Failure) -> Self {
        Ending::Failed(failure)
    }
}

/// The command of a request, parsed as the client parsed it, in the
/// client's working directory; refused if it is not for this owner.
fn prepare(request: &Request, held: &Held) -> Result<Cli, Ending> {
    if request.build != BUILD {
        return Err(Failure::new(
            Exit::Unusable,
            format!(
                "the ledger's owner (`benefit-ledger serve`, pid {}) is benefit-ledger {BUILD}, this is {}: restart the owner with this build",
                std::process::id(),
                request.build
            ),
        )
        .into());
    }
    std::env::set_current_dir(&request.cwd).map_err(|e| {
        Failure::new(
            Exit::Unusable,
            format!(
                "the ledger's owner cannot work in {}: {e}",
                request.cwd.display()
            ),
        )
    })?;
    if request.ledger.canonicalize().ok().as_deref() != Some(held.dir.as_path()) {
        return Err(Failure::new(
            Exit::Unusable,
            format!(
                "the owner listening in {} serves {}, not this ledger",
                request.ledger.display(),
                held.dir.display()
            ),
        )
        .into());
    }
    let mut cli = Cli::try_parse_from(&request.argv).map_err(Ending::Usage)?;
    cli.ledger = Some(request.ledger.clone());
    cli.actor.clone_from(&request.actor);
    cli.role.clone_from(&request.role);
    Ok(cli)
}

/// Sends `bytes` tagged `tag`, in frames of at most [`FRAME_LIMIT`] bytes
/// (none for no bytes).
fn send(mut stream: &UnixStream, tag: u8, bytes: &[u8]) -> std::io::Result<()> {
    for chunk in bytes.chunks(FRAME_LIMIT) {
        let length = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
        stream.write_all(&[tag])?;
        stream.write_all(&length.to_be_bytes())?;
        stream.write_all(chunk)?;
    }
    Ok(())
}

/// A command's standard output, in `o` frames to its client.
struct Stdout<'a>(&'a UnixStream);

impl Write for Stdout<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let taken = bytes.len().min(FRAME_LIMIT);
        send(self.0, b'o', &bytes[..taken])?;
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The client's side: runs the command through the ledger's owner if one
/// serves the ledger `cli` names, and returns its exit code; `None` if
/// there is none (or the command is not one an owner runs), and the
/// command then runs in this process.
pub fn forward(cli: &Cli) -> Option<u8> {
    if matches!(
        cli.command,
        Command::Serve | Command::Demo(_) | Command::Completions(_) | Command::Man
    ) {
        return None;
    }
    let ledger = cli
        .ledger
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::DEFAULT_LEDGER));
    let Ok(Location::Dir(dir)) = Location::parse(&ledger) else {
        return None;
    };
    let stream = UnixStream::connect(dir.join(SOCKET)).ok()?;
    let request = Request {
        build: BUILD.to_owned(),
        argv: std::env::args_os()
            .map(|a| a.into_string().ok())
            .collect::<Option<_>>()?,
        cwd: std::env::current_dir().ok()?,
        ledger,
        actor: cli.actor.clone(),
        role: cli.role.clone(),
        fake_now: std::env::var(crate::FAKE_NOW_VAR).ok(),
    };
    let reads_stdin =
        matches!(&cli.command, Command::Append(a) if a.file.as_deref() == Some(Path::new("-")));
    Some(exchange(&stream, &request, reads_stdin).unwrap_or_else(|e| {
        eprintln!("error: ledger unusable: the ledger's owner (`benefit-ledger serve`) stopped answering: {e}");
        eprintln!("  an append may or may not be stored: `benefit-ledger log` shows what is, once the owner runs again or is stopped");
        Exit::Unusable as u8
    }))
}

/// Sends the request (and standard input, if the command reads it), then
/// relays the owner's frames until its exit code.
fn exchange(stream: &UnixStream, request: &Request, reads_stdin: bool) -> std::io::Result<u8> {
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    let mut writer = stream;
    writer.write_all(&line)?;
    if reads_stdin {
        let mut feed = stream.try_clone()?;
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut std::io::stdin().lock(), &mut feed);
            let _ = feed.shutdown(Shutdown::Write);
        });
    } else {
        stream.shutdown(Shutdown::Write)?;
    }
    let mut frames = BufReader::new(stream);
    let mut stdout = std::io::stdout().lock();
    loop {
        let mut head = [0u8; 5];
        frames.read_exact(&mut head)?;
        let length = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
        let mut bytes = vec![0; length as usize];
        frames.read_exact(&mut bytes)?;
        match head[0] {
            b'o' => stdout.write_all(&bytes)?,
            b'e' => {
                stdout.flush()?;
                std::io::stderr().write_all(&bytes)?;
            }
            b'x' => {
                stdout.flush()?;
                return Ok(bytes.first().copied().unwrap_or(Exit::Unusable as u8));
            }
            other => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("a frame of unknown kind {other}"),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(build: &str, ledger: &Path) -> Request {
        Request {
            build: build.to_owned(),
            argv: vec!["benefit-ledger".into(), "verify".into()],
            // The test process's own: `prepare` moves there, and other
            // tests of this binary run beside it.
            cwd: std::env::current_dir().expect("a working directory"),
            ledger: ledger.to_path_buf(),
            actor: None,
            role: None,
            fake_now: None,
        }
    }

    fn refusal(result: Result<Cli, Ending>) -> Failure {
        match result {
            Err(Ending::Failed(failure)) => failure,
            Err(Ending::Usage(error)) => panic!("a usage error: {error}"),
            Ok(cli) => panic!("prepared: {cli:?}"),
        }
    }

    #[test]
    fn an_owner_refuses_a_client_of_another_build_or_ledger() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let served = dir.path().join("served");
        let other = dir.path().join("other");
        std::fs::create_dir_all(&served).expect("served dir");
        std::fs::create_dir_all(&other).expect("other dir");
        let held = Held {
            dir: served.canonicalize().expect("canonical"),
            ledger: Mutex::new(None),
        };
        let stale = refusal(prepare(&request("0.0.0 (commit old)", &served), &held));
        assert_eq!(stale.exit, Exit::Unusable);
        assert!(
            stale.headline.contains("this is 0.0.0 (commit old)"),
            "{}",
            stale.headline
        );
        let elsewhere = refusal(prepare(&request(BUILD, &other), &held));
        assert_eq!(elsewhere.exit, Exit::Unusable);
        assert!(
            elsewhere.headline.contains("not this ledger"),
            "{}",
            elsewhere.headline
        );
        let cli = prepare(&request(BUILD, &served), &held).map_err(|_| "refused");
        assert!(matches!(cli.map(|c| c.command), Ok(Command::Verify(_))));
    }
}
