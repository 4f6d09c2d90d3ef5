//! The decision state's documents are the domain's own types in postcard
//! (`benefit_projections::state`). Their bytes are a stored format: this
//! snapshot pins one document of every family, so that a change to a domain
//! type that would make stored state unreadable fails here first, and is
//! then a new `state/format` that rebuilds (issue 11).

use std::collections::BTreeMap;

use benefit_domain::authorize;
use benefit_projections::docs::document_json;
use benefit_projections::fold_all;
use benefit_store::conformance::positioned;
use benefit_store::{AppendRequest, EventStore, MemoryStore, SystemClock};
use benefit_workload::Workload;
use uuid::Uuid;

#[test]
fn every_decision_state_family_has_a_pinned_encoding() {
    let store = MemoryStore::new(SystemClock);
    let workload = Workload::new(11);
    let actor = authorize(Some(workload.actor())).expect("the workload's actor may write");
    let events: Vec<_> = workload.take(3_000).collect();
    store
        .append(positioned(
            &store,
            AppendRequest::by(&actor, Uuid::nil(), 0, events),
        ))
        .expect("append");
    let docs = fold_all(&mut store.read_from(1)).expect("fold");
    let mut first: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for (key, bytes) in docs.0.range("state/".to_owned()..) {
        if !key.starts_with("state/") {
            break;
        }
        let family = key.split('/').nth(1).unwrap_or_default().to_owned();
        if first.contains_key(&family) {
            continue;
        }
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let json = document_json(key, bytes).expect("a state document reads as JSON");
        first.insert(
            family,
            serde_json::json!({ "key": key, "bytes": hex, "value": json }),
        );
    }
    let families: Vec<&String> = first.keys().collect();
    assert_eq!(
        families,
        ["benefit", "credit", "format", "holdings", "key", "sub", "user"],
        "every family of the decision state appears in 3 000 events"
    );
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_json_snapshot!("state__encoding", first));
}
