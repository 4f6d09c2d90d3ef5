//! Tests of the sled backend that need to reach under the store: changing
//! stored bytes directly in sled, and sled-specific behaviour of opening.

use std::sync::Mutex;

use chrono::TimeDelta;

use super::*;
use crate::conformance::{
    clock, clock_start, collect, credit_assigned, request, user_registered, xorshift,
};
use crate::FixedClock;

fn new_store() -> (SledStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path().join("ledger"), clock()).expect("a new ledger opens");
    (store, dir)
}

/// Appends `batches` batches of five events over a dozen streams.
fn fill(store: &SledStore, batches: u64) {
    for b in 0..batches {
        let events = (0..5)
            .map(|i| match (b + i) % 3 {
                0 => user_registered((b * 5 + i) % 7),
                1 => credit_assigned("monthly-credit", b),
                _ => credit_assigned(&format!("benefit-{}", b % 4), i),
            })
            .collect();
        store.append(request(b * 5, events)).expect("append");
    }
}

#[test]
fn verify_names_exactly_the_record_whose_byte_was_changed_for_every_record() {
    let (store, _dir) = new_store();
    fill(&store, 60);
    let head = store.head().expect("head");
    assert_eq!(head.seq, 300);
    let mut random = 0x9e37_79b9_7f4a_7c15;
    for seq in 1..=head.seq {
        let key = seq_key(seq);
        let original = store
            .trees
            .log
            .get(key)
            .expect("read")
            .expect("record exists");
        let position = (xorshift(&mut random) % original.len() as u64) as usize;
        let mask = (xorshift(&mut random) % 255 + 1) as u8;
        let mut changed = original.to_vec();
        changed[position] ^= mask;
        store
            .trees
            .log
            .insert(key, changed)
            .expect("write under the store");

        match store.verify() {
            Err(StoreError::Broken(b)) => assert_eq!(b.seq, seq, "byte {position} of {seq}: {b}"),
            other => panic!("byte {position} of record {seq} changed, verify said {other:?}"),
        }
        let read_error = store
            .read_from(0)
            .find_map(Result::err)
            .expect("a read of the whole log fails");
        assert_eq!(read_error.seq(), Some(seq), "{read_error}");

        store.trees.log.insert(key, original).expect("restore");
    }
    assert_eq!(store.verify().expect("restored").head, head);
}

#[test]
fn verify_notices_a_stream_index_entry_that_points_elsewhere() {
    let (store, _dir) = new_store();
    fill(&store, 4);
    let stream = user_registered(0).stream();
    let key = layout::stream_key(stream.as_str(), 1);
    let original = store.trees.streams.get(&key).expect("read").expect("entry");
    store
        .trees
        .streams
        .insert(&key, &seq_key(2))
        .expect("write under the store");
    match store.verify() {
        Err(StoreError::Broken(b)) => assert_eq!(b.kind, BreakKind::Index, "{b}"),
        other => panic!("expected an index break, got {other:?}"),
    }
    assert!(collect_err(store.read_stream(&stream)));
    store.trees.streams.insert(&key, original).expect("restore");
    store.verify().expect("restored");
}

fn collect_err(events: Events<'_>) -> bool {
    events.into_iter().any(|item| item.is_err())
}

#[test]
fn a_record_that_does_not_decode_is_an_error_naming_its_sequence_never_a_skip() {
    let (store, _dir) = new_store();
    fill(&store, 2);
    store
        .trees
        .log
        .insert(seq_key(4), &b"short"[..])
        .expect("write under the store");
    let items: Vec<_> = store.read_from(0).collect();
    assert_eq!(
        items.len(),
        4,
        "three records, then the error, then nothing"
    );
    match &items[3] {
        Err(error @ StoreError::Decode { seq: 4, .. }) => {
            assert!(
                error
                    .to_string()
                    .starts_with("the record at sequence 4 does not decode"),
                "{error}"
            )
        }
        other => panic!("expected a decode error at 4, got {other:?}"),
    }
}

#[test]
fn recorded_at_never_goes_backwards_even_when_the_clock_does() {
    struct Backwards(Mutex<Vec<i64>>);
    impl Clock for Backwards {
        fn now(&self) -> DateTime<Utc> {
            let minutes = self.0.lock().map(|mut m| m.pop().unwrap_or(0)).unwrap_or(0);
            clock_start() + TimeDelta::minutes(minutes)
        }
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let clock = Backwards(Mutex::new(vec![5, 1, 10]));
    let store = SledStore::open(dir.path(), clock).expect("open");
    let times: Vec<_> = (0..3)
        .map(|i| {
            store
                .append(request(i, vec![user_registered(i)]))
                .expect("append")
                .recorded_at
        })
        .collect();
    let at = |m| clock_start() + TimeDelta::minutes(m);
    assert_eq!(times, vec![at(10), at(10), at(10)]);
    store.verify().expect("verifies");
}

#[test]
fn a_reopened_ledger_holds_everything_that_was_appended() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ledger");
    let (head, records) = {
        let store = SledStore::open(&path, clock()).expect("open");
        fill(&store, 3);
        (store.head().expect("head"), collect(store.read_from(0)))
    };
    let store = SledStore::open_existing(&path, FixedClock(clock_start())).expect("reopen");
    assert_eq!(store.head().expect("head"), head);
    assert_eq!(collect(store.read_from(0)), records);
    assert_eq!(store.verify().expect("verifies").head, head);
}

#[test]
fn open_existing_refuses_a_missing_or_empty_directory_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("nowhere");
    for (path, reason) in [
        (missing.as_path(), "no such directory"),
        (dir.path(), "the directory holds no ledger"),
    ] {
        match SledStore::open_existing(path, clock()) {
            Err(StoreError::NoLedger { reason: r, .. }) => assert_eq!(r, reason),
            other => panic!("expected no ledger at {}, got {other:?}", path.display()),
        }
    }
    assert!(!missing.exists());
    assert!(is_empty_dir(dir.path()).expect("readable"));
}

#[test]
fn open_refuses_a_directory_of_other_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    fs::write(dir.path().join("notes.txt"), "not a ledger").expect("write");
    match SledStore::open(dir.path(), clock()) {
        Err(error @ StoreError::NoLedger { .. }) => assert!(
            error
                .to_string()
                .ends_with("the directory is not empty and holds no ledger"),
            "{error}"
        ),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn a_new_ledger_directory_is_private_to_its_owner_and_names_its_process() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("a").join("ledger");
    let store = SledStore::open(&path, clock()).expect("open");
    let mode = fs::metadata(&path).expect("metadata").permissions().mode();
    assert_eq!(mode & 0o777, 0o700);
    assert_eq!(read_pid(&path), Some(std::process::id()));
    drop(store);
    assert_eq!(read_pid(&path), None, "the pid file goes with the process");
}

/// Layout 1 kept a stream-heads tree; opening such a ledger writes layout 2
/// and drops the tree, and later appends take their stream versions from
/// the stream index.
#[test]
fn a_layout_1_ledger_is_upgraded_on_open_and_keeps_counting_versions() {
    let (store, _dir) = new_store();
    fill(&store, 4);
    let heads = store
        .db
        .open_tree(TREE_STREAM_HEADS)
        .expect("layout 1's tree");
    heads
        .insert(b"user/stale", &7u64.to_be_bytes())
        .expect("write");
    store
        .trees
        .meta
        .insert(META_LAYOUT, &LAYOUT_WITH_STREAM_HEADS.to_be_bytes())
        .expect("write under the store");
    drop(heads);

    store.check_layout(false).expect("a layout-1 ledger opens");
    let layout = store.trees.meta.get(META_LAYOUT).expect("read");
    assert_eq!(layout.as_deref(), Some(&LAYOUT_VERSION.to_be_bytes()[..]));
    assert!(!store
        .db
        .tree_names()
        .iter()
        .any(|name| name.as_ref() == TREE_STREAM_HEADS.as_bytes()));

    let stream = credit_assigned("monthly-credit", 0).stream();
    let last = store.last_version(&stream).expect("the index");
    assert!(last > 1, "{last}");
    let head = store.head().expect("head").seq;
    store
        .append(request(head, vec![credit_assigned("monthly-credit", 9)]))
        .expect("append");
    let record = store.record_at(head + 1).expect("the new record");
    assert_eq!((record.stream, record.stream_version), (stream, last + 1));
    store.verify().expect("verifies");
}

#[test]
fn a_newer_layout_is_refused_not_misread() {
    let (store, _dir) = new_store();
    store
        .trees
        .meta
        .insert(META_LAYOUT, &(LAYOUT_VERSION + 1).to_be_bytes())
        .expect("write under the store");
    match store.check_layout(false) {
        Err(StoreError::UnsupportedLayout {
            found, supported, ..
        }) => {
            assert_eq!(
                (found, supported),
                ((LAYOUT_VERSION + 1).to_string(), LAYOUT_VERSION)
            );
        }
        other => panic!("expected an unsupported layout, got {other:?}"),
    }
}
