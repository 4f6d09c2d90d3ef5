//! The invariants of `docs/ARCHITECTURE.md` that a machine can check, read
//! from `cargo metadata`: which crate may depend on which.

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// Every workspace crate and the names of everything it depends on (normal,
/// dev and build dependencies alike).
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata is JSON");
    let packages = metadata["packages"].as_array().expect("a list of packages");
    packages
        .iter()
        .map(|package| {
            let name = package["name"].as_str().expect("a name").to_owned();
            let deps = package["dependencies"]
                .as_array()
                .expect("a list of dependencies")
                .iter()
                .map(|d| d["name"].as_str().expect("a name").to_owned())
                .collect();
            (name, deps)
        })
        .collect()
}

fn depends(graph: &BTreeMap<String, Vec<String>>, krate: &str, on: &str) -> bool {
    graph
        .get(krate)
        .unwrap_or_else(|| panic!("{krate} is a workspace crate"))
        .iter()
        .any(|d| d == on)
}

/// The workspace crates that depend on `on`, by name.
fn dependents<'g>(graph: &'g BTreeMap<String, Vec<String>>, on: &str) -> Vec<&'g String> {
    graph
        .keys()
        .filter(|krate| depends(graph, krate, on))
        .collect()
}

#[test]
fn the_store_knows_nothing_of_the_projections() {
    let graph = dependencies();
    assert!(!depends(&graph, "benefit-store", "benefit-projections"));
    assert!(!depends(&graph, "benefit-store", "benefit-app"));
}

#[test]
fn the_domain_and_the_events_know_no_store_no_sled_and_no_terminal() {
    let graph = dependencies();
    let forbidden = [
        "benefit-store",
        "sled",
        "clap",
        "indicatif",
        "console",
        "crossterm",
    ];
    for krate in ["benefit-domain", "benefit-events"] {
        for on in forbidden {
            assert!(!depends(&graph, krate, on), "{krate} depends on {on}");
        }
    }
}

#[test]
fn only_the_store_and_the_benchs_peer_know_sled() {
    let graph = dependencies();
    let knowing = dependents(&graph, "sled");
    assert_eq!(knowing, vec!["benefit-bench", "benefit-store"]);
}

/// Issue 12: no crate but the PostgreSQL backend learns SQL for
/// PostgreSQL.
#[test]
fn only_the_postgres_backend_knows_the_postgres_client() {
    let graph = dependencies();
    let knowing = dependents(&graph, "postgres");
    assert_eq!(knowing, vec!["benefit-postgres"]);
    assert!(!depends(&graph, "benefit-store", "benefit-postgres"));
}

/// A library never chooses the process's allocator: only the two binaries
/// name mimalloc, the CLI and the bench (which measures with the CLI's).
#[test]
fn only_the_binaries_choose_the_allocator() {
    let graph = dependencies();
    let choosing = dependents(&graph, "mimalloc");
    assert_eq!(choosing, vec!["benefit-bench", "benefit-cli"]);
}

/// Every workspace crate `krate` depends on, itself included, directly or
/// through other workspace crates.
fn workspace_closure(graph: &BTreeMap<String, Vec<String>>, krate: &str) -> Vec<String> {
    let mut seen = vec![krate.to_owned()];
    let mut index = 0;
    while index < seen.len() {
        for dep in graph.get(&seen[index]).into_iter().flatten() {
            if graph.contains_key(dep) && !seen.contains(dep) {
                seen.push(dep.clone());
            }
        }
        index += 1;
    }
    seen
}

/// Issue 14: the pictures and pages are pure. `benefit-render` takes data
/// already read and returns strings; neither it nor any workspace crate it
/// pulls in knows the store, sled, the projections or the terminal.
#[test]
fn the_render_crate_knows_no_store_no_sled_and_no_terminal() {
    let graph = dependencies();
    let closure = workspace_closure(&graph, "benefit-render");
    let forbidden = [
        "benefit-store",
        "benefit-projections",
        "benefit-app",
        "sled",
        "clap",
        "indicatif",
    ];
    for krate in &closure {
        for on in forbidden {
            assert!(
                !depends(&graph, krate, on),
                "benefit-render reaches {on} through {krate}"
            );
        }
    }
    assert!(closure.iter().all(|k| !forbidden.contains(&k.as_str())));
}
