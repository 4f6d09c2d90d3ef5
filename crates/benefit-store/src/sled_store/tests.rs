//! Tests of the sled backend that need to reach under the store: changing
//! stored bytes directly in sled, and sled-specific behaviour of opening.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::conformance::{
    clock, clock_start, collect, credit_assigned, positioned, request, user_registered, xorshift,
};
use crate::encoding::frame;
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
        store
            .append(positioned(store, request(b * 5, events)))
            .expect("append");
    }
}

/// The byte range of record `place` (from 0) of a segment: its hash and
/// body, after its length.
fn record_span(segment: &[u8], place: usize) -> std::ops::Range<usize> {
    let mut offset = 1;
    for _ in 0..place {
        let len = u32::from_be_bytes(segment[offset..offset + 4].try_into().expect("4 bytes"));
        offset += 4 + 32 + len as usize;
    }
    let len = u32::from_be_bytes(segment[offset..offset + 4].try_into().expect("4 bytes"));
    offset + 4..offset + 4 + 32 + len as usize
}

#[test]
fn verify_names_exactly_the_record_whose_byte_was_changed_for_every_record() {
    let (store, _dir) = new_store();
    fill(&store, 60);
    let head = store.head().expect("head");
    assert_eq!(head.seq, 300);
    let mut random = 0x9e37_79b9_7f4a_7c15;
    for seq in 1..=head.seq {
        let key = segment_key(segment_of(seq));
        let original = store
            .journal
            .get(key)
            .expect("read")
            .expect("segment exists");
        let span = record_span(&original, ((seq - 1) % SEGMENT_RECORDS) as usize);
        let position = span.start + (xorshift(&mut random) % span.len() as u64) as usize;
        let mask = (xorshift(&mut random) % 255 + 1) as u8;
        let mut changed = original.to_vec();
        changed[position] ^= mask;
        store
            .journal
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

        store.journal.insert(key, original).expect("restore");
    }
    assert_eq!(store.verify().expect("restored").head, head);
}

#[test]
fn a_segment_that_does_not_unpack_is_an_error_never_a_skip() {
    let (store, _dir) = new_store();
    fill(&store, 30);
    let key = segment_key(1);
    let original = store.journal.get(key).expect("read").expect("segment 1");
    let mut cut = original.to_vec();
    cut.truncate(original.len() - 3);
    store
        .journal
        .insert(key, cut)
        .expect("write under the store");
    let items: Vec<_> = store.read_from(0).collect();
    assert_eq!(
        items.len(),
        SEGMENT_RECORDS as usize + 1,
        "segment 0, then the error"
    );
    match items.last() {
        Some(Err(error @ StoreError::Decode { seq, .. })) => {
            assert_eq!(*seq, SEGMENT_RECORDS + 1, "{error}")
        }
        other => panic!("expected a decode error in segment 1, got {other:?}"),
    }
    assert!(store.verify().is_err());
}

#[test]
fn an_append_on_a_log_whose_tail_is_damaged_is_refused() {
    let (store, _dir) = new_store();
    fill(&store, 3);
    let head = store.head().expect("head");
    let key = segment_key(segment_of(head.seq));
    let original = store.journal.get(key).expect("read").expect("segment");
    let span = record_span(&original, ((head.seq - 1) % SEGMENT_RECORDS) as usize);
    let mut changed = original.to_vec();
    changed[span.end - 1] ^= 0x20;
    store
        .journal
        .insert(key, changed)
        .expect("write under the store");
    let unread = request(head.seq, vec![user_registered(1)]).at_stream_heads(|_| Ok(0));
    match store.append(unread.expect("positions")) {
        Err(StoreError::Broken(b)) => assert_eq!(b.seq, head.seq, "{b}"),
        other => panic!("expected the damaged tail to refuse the append, got {other:?}"),
    }
    store.journal.insert(key, original).expect("restore");
    assert_eq!(store.head().expect("head"), head);
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
                .append(positioned(&store, request(i, vec![user_registered(i)])))
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

/// A creation killed before sled wrote its first file leaves an empty
/// `journal/` (or, by a layout-4 program, `log/`): a new ledger is created
/// there. A `journal/` that holds sled's other files but no `db` is a
/// damaged ledger, never replaced by a new one.
#[test]
fn open_creates_over_an_unfinished_creation_but_not_over_a_damaged_log() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (name, log_dir) in [("a", JOURNAL_DIR), ("b", layout::LOG_DIR)] {
        let unfinished = dir.path().join(name);
        fs::create_dir_all(unfinished.join(log_dir)).expect("an empty directory");
        let store = SledStore::open(&unfinished, clock()).expect("a new ledger there");
        assert_eq!(store.head().expect("head").seq, 0);
        assert!(!unfinished.join(layout::LOG_DIR).exists());
    }
    let damaged = dir.path().join("damaged");
    fs::create_dir_all(damaged.join(JOURNAL_DIR)).expect("journal/");
    fs::write(damaged.join(JOURNAL_DIR).join("conf"), "x").expect("write");
    match SledStore::open(&damaged, clock()) {
        Err(StoreError::NoLedger { reason, .. }) => {
            assert_eq!(reason, "the directory is not empty and holds no ledger");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!damaged.join(JOURNAL_DIR).join(SLED_DATA_FILE).exists());
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

/// Writes, in the ledger directory `path`, a ledger of an older layout (one
/// database in the directory itself) holding `store`'s log: layout 2 (one
/// key per record, a commands tree, the head in `meta`) or layout 3 (the
/// journal as it is, and documents in a `documents.0` tree).
fn write_legacy(store: &SledStore, path: &Path, version: u32) {
    let db = sled_config(path).open().expect("an old database");
    let meta = db.open_tree(TREE_META).expect("tree");
    if version == layout::LAYOUT_DOCUMENTS_TREES {
        let journal = db.open_tree(TREE_JOURNAL).expect("tree");
        for item in store.journal.iter() {
            let (key, value) = item.expect("read");
            journal.insert(key, value).expect("write");
        }
        let old = db.open_tree("documents.0").expect("tree");
        for n in 0..25u64 {
            old.insert(format!("Da/{n:04}"), &b"old"[..])
                .expect("write");
        }
        old.insert(layout::DOCUMENTS_CHECKPOINT, &150u64.to_be_bytes())
            .expect("write");
    } else {
        let log = db.open_tree(layout::TREE_LOG).expect("tree");
        let commands = db.open_tree(layout::TREE_COMMANDS).expect("tree");
        for item in store.journal.iter() {
            let (key, value) = item.expect("read");
            if let Some(n) = parse_segment_key(&key) {
                let packed = unpack_segment(&value).expect("unpacks");
                for (i, (hash, body)) in packed.into_iter().enumerate() {
                    let seq = n * SEGMENT_RECORDS + i as u64 + 1;
                    log.insert(layout::seq_key(seq), frame(&hash, body))
                        .expect("write");
                }
            } else if key.as_ref() == JOURNAL_HEAD {
                meta.insert(layout::META_HEAD, value).expect("write");
            } else {
                commands.insert(&key[1..], value).expect("write");
            }
        }
    }
    meta.insert(META_LAYOUT, &version.to_be_bytes())
        .expect("write");
    db.flush().expect("flush");
}

/// A ledger of an older layout, written from a ledger of `batches`
/// batches, in `dir/old`: its path, head, records and first command id.
fn legacy_ledger(
    dir: &Path,
    version: u32,
    batches: u64,
) -> (PathBuf, Digest, Vec<StoredEvent>, Uuid) {
    let store = SledStore::open(dir.join("source"), clock()).expect("open");
    fill(&store, batches);
    let records = collect(store.read_from(1));
    let path = dir.join("old");
    fs::create_dir(&path).expect("a directory");
    write_legacy(&store, &path, version);
    let command = records[0].command_id;
    (path, store.head().expect("head"), records, command)
}

/// What an upgraded ledger must be: the same records and digest, the
/// command ids still known, the current layout in `journal/`, no file of
/// the old database left, and appends go on.
fn assert_upgraded(path: &Path, head: Digest, records: &[StoredEvent], command: Uuid) {
    let store = SledStore::open_existing(path, clock()).expect("an old ledger opens");
    assert_eq!(store.head().expect("head"), head);
    assert_eq!(collect(store.read_from(1)), records);
    assert_eq!(store.verify().expect("verifies").head, head);
    assert!(store.find_command(&command).expect("lookup").is_some());
    let layout = store.meta.get(META_LAYOUT).expect("read");
    assert_eq!(layout.as_deref(), Some(&LAYOUT_VERSION.to_be_bytes()[..]));
    for old in ["db", "conf", "blobs", "log.moving", layout::LOG_DIR] {
        assert!(!path.join(old).exists(), "{old} is left");
    }
    store
        .append(positioned(
            &store,
            request(head.seq, vec![user_registered(1)]),
        ))
        .expect("appends go on");
    store.verify().expect("verifies");
}

/// A ledger of layout 2 is moved into the current layout on open: the
/// same records, the same digest, the command ids still known.
#[test]
fn a_layout_2_ledger_is_upgraded_on_open_with_the_same_digest() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, head, records, command) =
        legacy_ledger(dir.path(), layout::LAYOUT_PER_RECORD_KEYS, 30);
    assert_upgraded(&path, head, &records, command);
}

/// A layout-3 ledger (the log and a `documents.{n}` tree in one database)
/// is upgraded on open: the log copied as it is, the documents left behind
/// with the old file, and the new generation empty, to be caught up from
/// the log. An upgrade interrupted before its rename (a partial
/// `log.moving/`) starts again; one interrupted after it (the old files
/// beside `journal/`) is finished by the next open.
#[test]
fn a_layout_3_ledger_is_upgraded_on_open_its_documents_left_behind() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, head, records, command) =
        legacy_ledger(dir.path(), layout::LAYOUT_DOCUMENTS_TREES, 30);
    fs::create_dir(path.join("log.moving")).expect("a partial upgrade");
    fs::write(path.join("log.moving").join("db"), b"partial").expect("written");
    assert_upgraded(&path, head, &records, command);
    fs::write(path.join("db"), b"left").expect("an old file left");
    fs::write(path.join("snap.0000000000000001"), b"left").expect("an old file left");
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    assert!(!path.join("db").exists() && !path.join("snap.0000000000000001").exists());
    assert_eq!(store.head().expect("head").seq, head.seq + 1);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 0);
    assert_eq!(store.projection_scan("").expect("scan"), vec![]);
    assert_eq!(generation_dirs(&path), vec!["projections.0"]);
}

/// Turns the ledger in `path`, closed, into a layout-4 ledger: its log's
/// database in `log/` with sled's default segments (its trees copied as
/// they are, the layout 4 in `meta`), its documents left where they are.
fn rewrite_as_layout_4(path: &Path) {
    let old = log_config(&path.join(JOURNAL_DIR)).open().expect("the log");
    let db = sled_config(&path.join(layout::LOG_DIR))
        .open()
        .expect("a layout-4 log");
    for name in [TREE_JOURNAL, TREE_META] {
        let (from, to) = (old.open_tree(name), db.open_tree(name));
        let (from, to) = (from.expect("tree"), to.expect("tree"));
        for item in from.iter() {
            let (key, value) = item.expect("read");
            to.insert(key, value).expect("write");
        }
    }
    db.open_tree(TREE_META)
        .and_then(|meta| meta.insert(META_LAYOUT, &layout::LAYOUT_LOG_DIR.to_be_bytes()))
        .expect("write");
    db.flush().expect("flush");
    drop((old, db));
    fs::remove_dir_all(path.join(JOURNAL_DIR)).expect("removed");
}

/// A layout-4 ledger of `batches` batches in `dir/old`, its documents one
/// document (`Da/1`: "kept") committed at the head, in generation 1 after
/// a reset or else in generation 0: its path, head and records.
fn layout_4_ledger(dir: &Path, batches: u64, reset: bool) -> (PathBuf, Digest, Vec<StoredEvent>) {
    use crate::ProjectionStore;
    let path = dir.join("old");
    let store = SledStore::open(&path, clock()).expect("open");
    fill(&store, batches);
    let (head, records) = (store.head().expect("head"), collect(store.read_from(1)));
    if reset {
        store.projection_reset().expect("a reset: generation 1");
    }
    let kept = BTreeMap::from([("Da/1".to_string(), b"kept".to_vec())]);
    store.projection_commit(0, head.seq, kept).expect("commit");
    drop(store);
    rewrite_as_layout_4(&path);
    (path, head, records)
}

/// The document [`layout_4_ledger`] wrote is there, unchanged.
fn assert_kept_document(store: &SledStore) {
    use crate::ProjectionStore;
    let document = store.projection_get("Da/1").expect("read");
    assert_eq!(document.as_deref(), Some(&b"kept"[..]));
}

/// A layout-4 ledger (the log in `log/`, sled's default segments) is
/// upgraded on open: the log copied into `journal/` as it is, and the
/// documents kept, their generation and checkpoint the same, so nothing is
/// folded again. An upgrade interrupted before its rename starts again; a
/// `log/` left beside `journal/` after it is removed by the next open, and
/// so is another process's unfinished copy in `log.moving/`.
#[test]
fn a_layout_4_ledger_is_upgraded_on_open_its_documents_kept() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, head, records) = layout_4_ledger(dir.path(), 30, true);
    fs::create_dir(path.join("log.moving")).expect("a partial upgrade");
    fs::write(path.join("log.moving").join("db"), b"partial").expect("written");
    assert_upgraded(&path, head, &records, records[0].command_id);
    for left in [layout::LOG_DIR, "log.moving"] {
        fs::create_dir(path.join(left)).expect("an old directory left");
        fs::write(path.join(left).join("db"), b"left").expect("an old file left");
    }
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    assert!(!path.join(layout::LOG_DIR).exists() && !path.join("log.moving").exists());
    assert_eq!(store.head().expect("head").seq, head.seq + 1);
    assert_eq!(generation_dirs(&path), vec!["projections.1"]);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), head.seq);
    assert_kept_document(&store);
}

/// A layout-4 ledger never reset (its `meta` names no generation: 0) keeps
/// `projections.0` through the upgrade; a root `db` left beside its `log/`
/// by an earlier upgrade is not read, and goes with the other old files.
#[test]
fn a_layout_4_ledger_keeps_generation_0_and_ignores_a_leftover_root_database() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (path, head, records) = layout_4_ledger(dir.path(), 3, false);
    fs::write(path.join(SLED_DATA_FILE), b"left").expect("an old file left");
    assert_upgraded(&path, head, &records, records[0].command_id);
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    assert_eq!(generation_dirs(&path), vec!["projections.0"]);
    assert_kept_document(&store);
}

/// A `log/` that holds sled's other files but no `db` is a damaged
/// layout-4 ledger: refused by both opens, and left as it is.
#[test]
fn a_damaged_layout_4_log_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("damaged");
    fs::create_dir_all(path.join(layout::LOG_DIR)).expect("log/");
    fs::write(path.join(layout::LOG_DIR).join("conf"), "x").expect("write");
    let refused = [
        SledStore::open(&path, clock()).err(),
        SledStore::open_existing(&path, clock()).err(),
    ];
    for error in refused {
        assert!(
            matches!(error, Some(StoreError::NoLedger { .. })),
            "{error:?}"
        );
    }
    assert!(path.join(layout::LOG_DIR).join("conf").is_file());
    assert!(!path.join(JOURNAL_DIR).exists());
}

/// What layout 5 rests on: sled refuses to open the log's database with
/// sled's default segment size (so a layout-4 log must be copied, never
/// opened under the new size).
#[test]
fn the_logs_database_refuses_another_segment_size() {
    let (store, dir) = new_store();
    drop(store);
    let journal = dir.path().join("ledger").join(JOURNAL_DIR);
    match sled_config(&journal).open() {
        Err(sled::Error::Unsupported(message)) => {
            assert!(message.contains("io buffer size"), "{message}")
        }
        other => panic!("expected sled to refuse, got {:?}", other.map(drop)),
    }
}

/// The number of files in a sled database's `blobs/` directory.
fn blob_files(db_dir: &Path) -> usize {
    fs::read_dir(db_dir.join("blobs")).map_or(0, |entries| entries.count())
}

/// The log's database keeps its leaves in sled's log, never as blob files
/// (which sled's cache never evicts): 200 segments of 16 KiB, the size of 64
/// records, written as appends write them. Under sled's default segments,
/// the same writes make blob files.
#[test]
fn the_logs_leaves_are_never_blob_files() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    type Configure = fn(&Path) -> sled::Config;
    let configs: [(&str, Configure); 2] = [("log", log_config), ("default", sled_config)];
    let mut blobs = Vec::new();
    for (name, config) in configs {
        let path = dir.path().join(name);
        let db = config(&path).open().expect("a database");
        let journal = db.open_tree(TREE_JOURNAL).expect("tree");
        for n in 0..200u64 {
            let segment = vec![(n % 251) as u8; 16 * 1024];
            journal.insert(segment_key(n), segment).expect("write");
        }
        db.flush().expect("flush");
        drop((journal, db));
        blobs.push(blob_files(&path));
    }
    assert_eq!(blobs[0], 0, "the log's database wrote blob files");
    assert!(blobs[1] > 0, "sled's default segments wrote no blob file");
}

#[test]
fn a_newer_layout_is_refused_not_misread() {
    let (store, dir) = new_store();
    store
        .meta
        .insert(META_LAYOUT, &(LAYOUT_VERSION + 1).to_be_bytes())
        .expect("write under the store");
    store.flush().expect("flush");
    drop(store);
    match SledStore::open_existing(dir.path().join("ledger"), clock()) {
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

/// The names of the documents generations' directories in a ledger.
fn generation_dirs(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(path)
        .expect("the ledger directory")
        .map(|entry| entry.expect("an entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_owned))
        .filter(|name| name.starts_with(layout::PROJECTIONS_DIR_PREFIX))
        .collect();
    names.sort();
    names
}

/// A reset interrupted before its switch leaves the documents in use and
/// an unused generation; interrupted after it, the new, empty generation
/// and the old one's directory. Either way the next open removes what is
/// not current, and the documents read are exactly the current
/// generation's.
#[test]
fn a_reset_interrupted_on_either_side_of_its_switch_leaves_one_generation() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ledger");
    {
        let store = SledStore::open(&path, clock()).expect("open");
        store
            .projection_commit(0, 0, [("a/1".to_owned(), b"kept".to_vec())].into())
            .expect("commit");
        // Before the switch: the next generation exists, unused.
        let next = documents::open_generation(&path, 1).expect("the next generation");
        next.insert(b"Dstale", &b"x"[..]).expect("write");
        next.flush().expect("flush");
        store.flush().expect("flush");
    }
    {
        let store = SledStore::open_existing(&path, clock()).expect("reopens");
        assert_eq!(generation_dirs(&path), vec!["projections.0"]);
        assert_eq!(
            store.projection_get("a/1").expect("get"),
            Some(b"kept".to_vec())
        );
        assert_eq!(store.projection_get("stale").expect("get"), None);
        // After the switch: the old generation is still there.
        drop(documents::open_generation(&path, 1).expect("the next generation"));
        store
            .meta
            .insert(layout::META_DOCUMENTS_GENERATION, &1u64.to_be_bytes())
            .expect("switch");
        store.flush().expect("flush");
    }
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    assert_eq!(generation_dirs(&path), vec!["projections.1"]);
    assert_eq!(store.projection_get("a/1").expect("get"), None);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 0);
    store.projection_reset().expect("a reset");
    assert_eq!(generation_dirs(&path), vec!["projections.2"]);
}

/// Clearing a documents tree removes every key, over several batches; a
/// reset leaves the new generation empty. (Small batches: a test of 20 000
/// documents slowed the tests beside it enough that a reopen right after a
/// drop found sled's lock still held.)
#[test]
fn a_reset_clears_an_old_generation_of_several_batches() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path().join("ledger"), clock()).expect("open");
    let count = 2 * 10 + 7;
    let writes = (0..count)
        .map(|n| (format!("a/{n:08}"), vec![1u8]))
        .collect();
    store.projection_commit(0, 5, writes).expect("commit");
    let tree = |store: &SledStore| {
        store
            .documents
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .db
            .clone()
    };
    let old = tree(&store);
    assert_eq!(
        old.len(),
        count + 2,
        "the documents, the checkpoint and the count of singles"
    );
    documents::clear_in_batches(&old, 10).expect("clear");
    assert_eq!(old.len(), 0, "the old generation is empty");
    store
        .projection_commit(0, 5, [("b/1".to_owned(), vec![2u8])].into())
        .expect("commit");
    store.projection_reset().expect("reset");
    assert_eq!(tree(&store).len(), 0, "the new generation is empty");
    assert_eq!(
        generation_dirs(store.path()),
        vec!["projections.1"],
        "the old generation's directory is gone"
    );
    assert_eq!(store.projection_scan("").expect("scan"), vec![]);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 0);
}

/// A layout-5 ledger (every document a key of its own) is a layout-6 one
/// without pages: its version is rewritten on open, and its documents and
/// checkpoint are read as they were.
#[test]
fn a_layout_5_ledger_opens_as_layout_6_its_documents_kept() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("five");
    let store = SledStore::open(&path, clock()).expect("open");
    fill(&store, 3);
    let (head, records) = (store.head().expect("head"), collect(store.read_from(1)));
    let kept = BTreeMap::from([("Da/1".to_string(), b"kept".to_vec())]);
    store.projection_commit(0, head.seq, kept).expect("commit");
    store
        .meta
        .insert(META_LAYOUT, &layout::LAYOUT_UNPAGED_DOCUMENTS.to_be_bytes())
        .expect("written as layout 5");
    drop(store);
    assert_upgraded(&path, head, &records, records[0].command_id);
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    assert_eq!(store.documents().packing(), documents::Packing::Singles);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), head.seq);
    assert_kept_document(&store);
}

/// A replace writes its documents in pages into a new generation, marked
/// so: the next process to open the ledger reads them as pages, with the
/// documents committed over them, and a reset goes back to single keys.
#[test]
fn a_replaced_generation_is_read_as_pages_after_a_reopen() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ledger");
    let store = SledStore::open(&path, clock()).expect("open");
    let set: Vec<crate::Document> = (0..500)
        .map(|n| (format!("a/{n:04}"), format!("v{n}").into_bytes()))
        .collect();
    let mut source = set.clone().into_iter().map(Ok);
    store.projection_replace(7, &mut source).expect("replaced");
    assert_eq!(store.documents().packing(), documents::Packing::Pages);
    let over = BTreeMap::from([("a/0100".to_string(), b"newer".to_vec())]);
    store
        .projection_commit(7, 8, over)
        .expect("a commit over the pages");
    drop(store);
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    assert_eq!(store.documents().packing(), documents::Packing::Pages);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 8);
    let mut expected = set;
    expected[100].1 = b"newer".to_vec();
    assert_eq!(store.projection_scan("").expect("scan"), expected);
    let got = store.projection_get("a/0499").expect("read");
    assert_eq!(got.as_deref(), Some(&b"v499"[..]));
    assert_eq!(store.projection_get("a/0500").expect("read"), None);
    let last = store.projection_last("a/").expect("last").map(|(k, _)| k);
    assert_eq!(last.as_deref(), Some("a/0499"));
    store.projection_reset().expect("reset");
    assert_eq!(store.documents().packing(), documents::Packing::Singles);
    assert_eq!(store.projection_scan("").expect("scan"), Vec::new());
}

/// A generation whose commits have written as many single documents as it
/// holds in pages (and at least `PACK_AFTER_SINGLES`) is packed: the same
/// documents and checkpoint, in pages of the next generation, and the count
/// of singles starts again, also for the next process.
#[test]
fn a_generation_is_packed_once_its_single_documents_are_many() {
    use crate::ProjectionStore;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ledger");
    let store = SledStore::open(&path, clock()).expect("open");
    let (batches, each) = (10u64, 10_000u64);
    for b in 0..batches {
        let writes = (0..each)
            .map(|n| (format!("a/{:07}", b * each + n), vec![b as u8]))
            .collect();
        assert_eq!(generation_dirs(&path), vec!["projections.0"], "batch {b}");
        store.projection_commit(b, b + 1, writes).expect("commit");
    }
    assert_eq!(generation_dirs(&path), vec!["projections.1"]);
    let packed = store.documents();
    assert_eq!(packed.packed, Some(batches * each));
    let over = BTreeMap::from([("a/0000005".to_string(), b"newer".to_vec())]);
    store
        .projection_commit(batches, batches + 1, over)
        .expect("a commit over the pages");
    drop((packed, store));
    let store = SledStore::open_existing(&path, clock()).expect("reopens");
    let generation = store.documents();
    assert_eq!(
        generation
            .singles
            .load(std::sync::atomic::Ordering::Relaxed),
        1
    );
    assert_eq!(
        store.projection_checkpoint().expect("checkpoint"),
        batches + 1
    );
    let all = store.projection_scan("a/").expect("scan");
    assert_eq!(all.len() as u64, batches * each);
    assert_eq!(all[5], ("a/0000005".to_string(), b"newer".to_vec()));
    assert_eq!(all[99_999], ("a/0099999".to_string(), vec![9]));
}
