//! A throwaway PostgreSQL cluster, started from the machine's own server
//! binaries in a temporary directory on a free port of 127.0.0.1: what the
//! tests and the bench run against, so that they exercise a real server and
//! never one somebody left running.
//!
//! `pg_config --bindir` names the binaries' folder (Debian's
//! `/usr/lib/postgresql/N/bin` otherwise). `initdb` refuses to run as root,
//! so as root every server binary runs as the `postgres` user through
//! `runuser`, in a directory handed to that user.
//!
//! [`TestServer::shared`] is the one server of a test process: a cluster of
//! its own (stopped by a watchdog when the process ends), or the server
//! `BENEFIT_TEST_POSTGRES_URL` names. A test that can reach neither fails,
//! saying how to provide one, unless `BENEFIT_TEST_SKIP_UNAVAILABLE` is set.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use thiserror::Error;

/// The variable that points the tests at a server instead of a cluster of
/// their own: a ledger URL without `schema`, whose role may create schemas.
pub const TEST_URL_VARIABLE: &str = "BENEFIT_TEST_POSTGRES_URL";
/// The variable that lets a developer without PostgreSQL skip its tests.
/// `.ci/run` never sets it.
pub const SKIP_VARIABLE: &str = "BENEFIT_TEST_SKIP_UNAVAILABLE";

/// Why a cluster could not be started.
#[derive(Debug, Error)]
pub enum ClusterError {
    /// No server binaries on this machine.
    #[error("no PostgreSQL server binaries found (`pg_config --bindir` names none with initdb, and /usr/lib/postgresql holds none): install them (Debian: `apt-get install -y postgresql`) or set {TEST_URL_VARIABLE} to a server's URL")]
    NoBinaries,
    /// A step of setting the cluster up failed.
    #[error("{step} failed: {detail}")]
    Step {
        /// What was being done.
        step: String,
        /// What it printed, or why it could not run.
        detail: String,
    },
}

fn step(step: impl Into<String>, detail: impl ToString) -> ClusterError {
    ClusterError::Step {
        step: step.into(),
        detail: detail.to_string(),
    }
}

/// Durability of a cluster: tests may trade it for speed; the bench runs
/// with PostgreSQL's defaults (`fsync` and `synchronous_commit` on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` and `synchronous_commit` on, as a production server.
    Full,
    /// `fsync=off`: a crash of the machine may lose commits, a crash of the
    /// server does not. For tests only.
    TestsOnly,
}

/// A running cluster in a temporary directory; stopped when dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: Option<tempfile::TempDir>,
    root: PathBuf,
    bindir: PathBuf,
    port: u16,
    as_postgres_user: bool,
}

impl Cluster {
    /// Creates and starts a cluster.
    pub fn start(durability: Durability) -> Result<Self, ClusterError> {
        let bindir = server_bindir().ok_or(ClusterError::NoBinaries)?;
        let as_postgres_user = running_as_root();
        let dir = tempfile::Builder::new()
            .prefix("benefit-pg-")
            .tempdir()
            .map_err(|e| step("creating the cluster's temporary directory", e))?;
        let root = dir.path().to_path_buf();
        if as_postgres_user {
            run(Command::new("chown").args(["postgres:", path_str(&root)?]))?;
        }
        let mut cluster = Self {
            dir: Some(dir),
            root,
            bindir,
            port: 0,
            as_postgres_user,
        };
        cluster.initdb(durability)?;
        cluster.start_server()?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// A command running `binary` of the server's folder, as the `postgres`
    /// user when this process is root.
    fn server_command(&self, binary: &str) -> Command {
        let path = self.bindir.join(binary);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn initdb(&self, durability: Durability) -> Result<(), ClusterError> {
        let data = self.data();
        run(self.server_command("initdb").args([
            "-D",
            path_str(&data)?,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]))?;
        let mut settings = String::from(
            "listen_addresses = '127.0.0.1'\nmax_connections = 60\nsynchronous_commit = on\n",
        );
        if durability == Durability::TestsOnly {
            settings.push_str("fsync = off\nfull_page_writes = off\n");
        }
        let conf = data.join("postgresql.auto.conf");
        std::fs::write(&conf, settings).map_err(|e| step("writing postgresql.auto.conf", e))?;
        if self.as_postgres_user {
            run(Command::new("chown").args(["postgres:", path_str(&conf)?]))?;
        }
        Ok(())
    }

    /// Starts the server on a free port (tried a few times: a port found
    /// free may be taken before the server binds it).
    pub fn start_server(&mut self) -> Result<(), ClusterError> {
        let mut last = None;
        for _ in 0..5 {
            let port = if self.port == 0 {
                free_port()?
            } else {
                self.port
            };
            let options = format!("-p {port} -k {}", path_str(&self.root)?);
            let log = self.root.join("server.log");
            let started = run(self.server_command("pg_ctl").args([
                "-D",
                path_str(&self.data())?,
                "-l",
                path_str(&log)?,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ]));
            match started {
                Ok(()) => {
                    self.port = port;
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(ClusterError::NoBinaries))
    }

    /// Stops the server at once, as a crash would (`pg_ctl stop -m
    /// immediate`): uncommitted transactions are lost, committed ones are
    /// not. [`Cluster::start_server`] starts it again on the same port.
    pub fn stop_server_immediately(&self) -> Result<(), ClusterError> {
        run(self.server_command("pg_ctl").args([
            "-D",
            path_str(&self.data())?,
            "-m",
            "immediate",
            "-w",
            "stop",
        ]))
    }

    /// The server's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the superuser on the cluster's `postgres` database,
    /// without a schema.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Leaves the cluster to a watchdog that stops it and removes its
    /// directory once process `pid` has ended: for a cluster shared by a
    /// whole test process, which no destructor would stop.
    fn stop_when_process_ends(mut self, pid: u32) -> Result<(), ClusterError> {
        let dir = self.dir.take().map(tempfile::TempDir::keep);
        let pg_ctl = self.bindir.join("pg_ctl");
        let runner = if self.as_postgres_user {
            "runuser -u postgres -- "
        } else {
            ""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; \
             {runner}'{}' -D '{}' -m immediate -w stop >/dev/null 2>&1; rm -rf '{}'",
            path_str(&pg_ctl)?,
            path_str(&self.data())?,
            path_str(dir.as_deref().unwrap_or(&self.root))?,
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| step("starting the cluster's watchdog", e))?;
        self.port = 0; // nothing for Drop to stop: the watchdog owns it now
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.port == 0 {
            return;
        }
        if let Ok(data) = path_str(&self.data()) {
            let _ = self
                .server_command("pg_ctl")
                .args(["-D", data, "-m", "fast", "-w", "stop"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// The server a test process uses: its own cluster, or the one
/// [`TEST_URL_VARIABLE`] names.
#[derive(Debug)]
pub struct TestServer {
    base_url: String,
}

impl TestServer {
    /// The test process's server, started on first use. `Ok(None)`: there
    /// is none, and [`SKIP_VARIABLE`] asks to skip; without it, the error
    /// says what is missing and how to provide it.
    pub fn shared() -> Result<Option<&'static TestServer>, String> {
        static SERVER: OnceLock<Result<TestServer, String>> = OnceLock::new();
        let server = SERVER.get_or_init(|| {
            if let Ok(url) = std::env::var(TEST_URL_VARIABLE) {
                return Ok(TestServer { base_url: url });
            }
            let cluster = Cluster::start(Durability::TestsOnly).map_err(|e| e.to_string())?;
            let base_url = cluster.url();
            cluster
                .stop_when_process_ends(std::process::id())
                .map_err(|e| e.to_string())?;
            Ok(TestServer { base_url })
        });
        match server {
            Ok(server) => Ok(Some(server)),
            Err(_) if std::env::var_os(SKIP_VARIABLE).is_some() => Ok(None),
            Err(why) => Err(format!(
                "PostgreSQL is needed for this test and could not be started: {why}. \
                 Install PostgreSQL (Debian: `apt-get install -y postgresql`), or set \
                 {TEST_URL_VARIABLE}=postgres://USER@HOST:PORT/DB for a server whose role may \
                 create schemas; set {SKIP_VARIABLE}=1 to skip on purpose"
            )),
        }
    }

    /// The server's URL, without a schema.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The URL of a new, empty ledger: a schema of its own, unique in this
    /// process and across processes.
    pub fn fresh_ledger_url(&self, label: &str) -> String {
        let schema = format!("{label}_{}", uuid::Uuid::new_v4().simple());
        self.ledger_url(&schema)
    }

    /// The URL of the ledger in `schema`.
    pub fn ledger_url(&self, schema: &str) -> String {
        let separator = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!("{}{separator}schema={schema}", self.base_url)
    }
}

/// The folder of the server binaries: `pg_config --bindir`, or the newest
/// of Debian's `/usr/lib/postgresql/N/bin`, where `initdb` is.
pub fn server_bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|dirs| {
            let mut bins: Vec<PathBuf> = dirs
                .filter_map(|d| d.ok().map(|d| d.path().join("bin")))
                .collect();
            bins.sort();
            bins.pop()
        });
    [from_pg_config, debian]
        .into_iter()
        .flatten()
        .find(|dir| dir.join("initdb").is_file())
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, ClusterError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| step("finding a free port on 127.0.0.1", e))
}

fn path_str(path: &Path) -> Result<&str, ClusterError> {
    path.to_str()
        .ok_or_else(|| step("naming a path", format!("{} is not UTF-8", path.display())))
}

/// Runs a setup command; its output is the error's detail when it fails.
fn run(command: &mut Command) -> Result<(), ClusterError> {
    let name = format!("{command:?}");
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| step(&name, e))?;
    if output.status.success() {
        return Ok(());
    }
    let mut detail = String::from_utf8_lossy(&output.stderr).into_owned();
    detail.push_str(&String::from_utf8_lossy(&output.stdout));
    Err(step(name, detail.trim()))
}
