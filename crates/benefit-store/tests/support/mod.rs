//! Re-executing the test binary as a child process, for tests that need a
//! second process (the lock) or one to kill (crashes). The child runs the
//! same test function, told by environment variables that it is the child.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ROLE: &str = "BENEFIT_STORE_TEST_CHILD";
const DIR: &str = "BENEFIT_STORE_TEST_DIR";

/// The role and ledger directory this process was started with, if it is a
/// child.
pub fn child() -> Option<(String, PathBuf)> {
    let role = std::env::var(ROLE).ok()?;
    let dir = std::env::var_os(DIR)?;
    Some((role, PathBuf::from(dir)))
}

/// A command running only `test` of this test binary, as a child in `role`
/// on the ledger in `dir`, with its standard output piped.
pub fn child_command(test: &str, role: &str, dir: &Path) -> Command {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let mut command = Command::new(exe);
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(DIR, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command
}

/// The lines of a child's output that start with `prefix`, without it.
pub fn lines_with<'a>(output: &'a str, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    output
        .lines()
        .filter_map(move |line| line.strip_prefix(prefix))
}
