//! Build script: the commit the binary is built from, for `--version`
//! (issue 14). `git rev-parse` of the workspace; "commit unknown" where there
//! is no git or no repository (a packaged source tree).
#![forbid(unsafe_code)]

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()));
    let described = match commit {
        Some(commit) => format!("commit {commit}"),
        None => "commit unknown".to_owned(),
    };
    println!("cargo:rustc-env=BENEFIT_LEDGER_COMMIT={described}");
    // A new commit or a change of branch changes HEAD or the ref it names.
    println!("cargo:rerun-if-changed=../../.git/HEAD");
    println!("cargo:rerun-if-changed=../../.git/refs");
}
