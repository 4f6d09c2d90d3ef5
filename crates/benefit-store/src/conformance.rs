//! The contract of [`EventStore`], as functions any backend can run.
//!
//! Each function takes a fresh, empty store whose clock is [`clock()`], and
//! panics (it is test code) when the store breaks the contract. A backend's
//! test file runs them all, one `#[test]` each, with one line:
//!
//! ```text
//! benefit_store::conformance_tests!(|clock| open_a_fresh_store(clock));
//! ```
//!
//! where the closure returns `(store, guard)`; the guard (a temporary
//! directory, a database schema) lives as long as the test. A PostgreSQL
//! backend runs the very same functions.
//!
//! The module also offers small builders of events and requests
//! ([`user_registered`], [`credit_assigned`], [`request`]) for other tests.

use benefit_events::{
    Actor, BenefitGranted, BenefitId, BenefitType, CreditAssigned, Event, GrantedKey, Offer,
    ProductKey, ProductName, Provision, Role, Seats, StreamId, UserName, UserRegistered,
};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use uuid::Uuid;

use crate::encoding::RECORD_BODY_BYTES_MAX;
use crate::{
    AppendRequest, Appended, AsOf, BreakKind, ChainHash, Digest, EventStore, ProjectionStore,
    Staging, SteppingClock, StoreError, StoredEvent,
};

/// The instant of the conformance clock's first reading.
pub fn clock_start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_767_225_600, 0).expect("2026-01-01T00:00:00Z is a valid instant")
}

/// How far the conformance clock moves on each reading.
pub fn clock_step() -> TimeDelta {
    TimeDelta::seconds(60)
}

/// The clock every conformance store is opened with: one reading per append,
/// starting at [`clock_start`], [`clock_step`] apart.
pub fn clock() -> SteppingClock {
    SteppingClock::new(clock_start(), clock_step())
}

/// The actor of every conformance append.
pub fn actor() -> Actor {
    Actor {
        user: UserName::parse("auditor@contoso.com").expect("valid user"),
        role: Role::GlobalAdmin,
    }
}

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 15).expect("valid date")
}

/// A user registration: the `n`-th user, in stream `user/user-{n}@contoso.com`.
pub fn user_registered(n: u64) -> Event {
    Event::UserRegistered(UserRegistered {
        on: day(),
        user: UserName::parse(&format!("user-{n}@contoso.com")).expect("valid user"),
        guest: n % 2 == 0,
    })
}

/// A credit assignment to the `n`-th user, in stream `benefit/{benefit}`.
pub fn credit_assigned(benefit: &str, n: u64) -> Event {
    Event::CreditAssigned(CreditAssigned {
        on: day(),
        benefit: BenefitId::parse(benefit).expect("valid benefit id"),
        user: UserName::parse(&format!("user-{n}@contoso.com")).expect("valid user"),
    })
}

/// A benefit grant with `keys` product keys: with enough keys, larger than a
/// record may be.
pub fn benefit_granted(benefit: &str, keys: u64) -> Event {
    let keys = (0..keys)
        .map(|i| GrantedKey {
            key: ProductKey::parse(&format!("{i:025}")).expect("25 digits are a key"),
            seats: Seats::new(5).expect("positive"),
        })
        .collect();
    Event::BenefitGranted(BenefitGranted {
        on: day(),
        benefit: BenefitId::parse(benefit).expect("valid benefit id"),
        product: ProductName::parse("Office 365 E3").expect("valid product"),
        offer: Offer::ActionPack,
        benefit_type: BenefitType::Core,
        expires: NaiveDate::from_ymd_opt(2026, 12, 31).expect("valid date"),
        provides: Provision::Keys(keys),
    })
}

/// A request by [`actor`] with a fresh command id.
pub fn request(expected: u64, events: Vec<Event>) -> AppendRequest {
    AppendRequest::by(&actor(), Uuid::new_v4(), expected, events)
}

/// `request` with the position of every stream it appends to, read from
/// the whole log: for tests and tools that append without the projections'
/// stream index. Linear in the log.
pub fn positioned<S: EventStore + ?Sized>(store: &S, request: AppendRequest) -> AppendRequest {
    let mut last: std::collections::HashMap<StreamId, u64> = std::collections::HashMap::new();
    for record in store.read_from(1) {
        let record = record.expect("reads of a healthy store succeed");
        last.insert(record.stream, record.stream_version);
    }
    request
        .at_stream_heads(|stream| Ok(last.get(stream).copied().unwrap_or(0)))
        .expect("positions from memory")
}

/// A deterministic pseudo-random number generator (xorshift64) for tests
/// that pick bytes or moments at random: the same seed replays a failure.
/// The state must not be 0.
pub fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Reads a stream of events to the end, failing on the first error.
pub fn collect(events: crate::Events<'_>) -> Vec<StoredEvent> {
    events
        .collect::<Result<Vec<_>, _>>()
        .expect("reads of a healthy store succeed")
}

fn seqs(records: &[StoredEvent]) -> Vec<u64> {
    records.iter().map(|r| r.seq).collect()
}

fn append_ok<S: EventStore>(store: &S, request: AppendRequest) -> Appended {
    store
        .append(positioned(store, request))
        .expect("the append succeeds")
}

/// Three batches: `user/...1`, `benefit/b` ×2; `benefit/b`, `user/...2`;
/// `user/...1`. Returns the results.
fn three_batches<S: EventStore>(store: &S) -> Vec<Appended> {
    let a = append_ok(
        store,
        request(
            0,
            vec![
                user_registered(1),
                credit_assigned("b", 1),
                credit_assigned("b", 2),
            ],
        ),
    );
    let b = append_ok(
        store,
        request(3, vec![credit_assigned("b", 3), user_registered(2)]),
    );
    let c = append_ok(store, request(5, vec![user_registered(1)]));
    vec![a, b, c]
}

/// Sequences are contiguous from 1, stream versions from 1 per stream, and
/// every field of the envelope reads back as appended.
pub fn append_assigns_contiguous_sequences_stream_versions_and_envelopes<S: EventStore>(store: &S) {
    let first = request(
        0,
        vec![
            user_registered(1),
            credit_assigned("b", 1),
            credit_assigned("b", 2),
        ],
    );
    let appended = append_ok(store, first.clone());
    assert_eq!(
        (appended.first, appended.last, appended.repeat),
        (1, 3, false)
    );
    assert_eq!(appended.recorded_at, clock_start());
    let second = request(3, vec![credit_assigned("b", 3), user_registered(1)]);
    let appended = append_ok(store, second.clone());
    assert_eq!((appended.first, appended.last), (4, 5));
    assert_eq!(appended.recorded_at, clock_start() + clock_step());

    let records = collect(store.read_from(0));
    assert_eq!(seqs(&records), vec![1, 2, 3, 4, 5]);
    let versions: Vec<(String, u64)> = records
        .iter()
        .map(|r| (r.stream.to_string(), r.stream_version))
        .collect();
    let user = "user/user-1@contoso.com".to_string();
    assert_eq!(
        versions,
        vec![
            (user.clone(), 1),
            ("benefit/b".into(), 1),
            ("benefit/b".into(), 2),
            ("benefit/b".into(), 3),
            (user, 2),
        ]
    );
    let sent: Vec<(Uuid, u64, Event)> = [&first, &second]
        .iter()
        .flat_map(|r| {
            r.events
                .iter()
                .enumerate()
                .map(|(i, e)| (r.command_id, i as u64, e.event.clone()))
        })
        .collect();
    let mut prev_hash = ChainHash::GENESIS;
    for (record, (command_id, index, event)) in records.iter().zip(sent) {
        assert_eq!(record.event, event);
        assert_eq!(record.stream, event.stream());
        assert_eq!(record.command_id, command_id);
        assert_eq!(
            record.event_id,
            StoredEvent::derive_event_id(&command_id, index)
        );
        assert_eq!(record.actor, actor());
        assert_eq!(record.prev_hash, prev_hash);
        prev_hash = record.hash;
    }
    assert_eq!(store.head().expect("head"), appended.head);
    assert_eq!(
        appended.head,
        Digest {
            seq: 5,
            hash: prev_hash
        }
    );
}

/// An append decided at a position that is not the head is a conflict that
/// names both positions and appends nothing.
pub fn append_at_a_stale_or_future_position_is_a_conflict_and_appends_nothing<S: EventStore>(
    store: &S,
) {
    let appended = append_ok(store, request(0, vec![user_registered(1)]));
    for expected in [0, 2, 99] {
        match store.append(positioned(
            store,
            request(expected, vec![user_registered(2)]),
        )) {
            Err(StoreError::Conflict {
                expected: e,
                actual,
            }) => assert_eq!((e, actual), (expected, 1)),
            other => panic!("expected a conflict at {expected}, got {other:?}"),
        }
    }
    assert_eq!(store.head().expect("head"), appended.head);
    assert_eq!(seqs(&collect(store.read_from(0))), vec![1]);
    let streams: Vec<StreamId> = collect(store.read_from(0))
        .into_iter()
        .map(|r| r.stream)
        .collect();
    assert!(!streams.contains(&user_registered(2).stream()));
}

/// The same command id again returns the original result, flagged as a
/// repeat, whatever position it now names; a different batch under a used
/// command id is refused.
pub fn append_of_a_command_id_again_returns_the_original_result_and_appends_nothing<
    S: EventStore,
>(
    store: &S,
) {
    let original_request = request(0, vec![user_registered(1), user_registered(2)]);
    let original = append_ok(store, original_request.clone());
    append_ok(store, request(2, vec![user_registered(3)]));
    let head = store.head().expect("head");

    let again = append_ok(store, original_request.clone());
    assert_eq!(
        again,
        Appended {
            repeat: true,
            ..original
        }
    );
    assert_eq!(store.head().expect("head"), head);
    assert_eq!(seqs(&collect(store.read_from(0))), vec![1, 2, 3]);

    let mut different = original_request.clone();
    different.events = request(0, vec![user_registered(9)]).events;
    different.expected = head.seq;
    match store.append(positioned(store, different)) {
        Err(StoreError::CommandIdReused { command_id }) => {
            assert_eq!(command_id, original_request.command_id)
        }
        other => panic!("expected the reuse to be refused, got {other:?}"),
    }
    assert_eq!(store.head().expect("head"), head);
}

/// An append that fails (no events; an event too large to store, after two
/// that were fine) leaves no trace: not in the log, not in a stream, not in
/// the head, and its command id is still unused.
pub fn a_failed_append_leaves_nothing_behind<S: EventStore>(store: &S) {
    let before = append_ok(store, request(0, vec![user_registered(1)]));
    assert!(matches!(
        store.append(positioned(store, request(1, vec![]))),
        Err(StoreError::EmptyBatch)
    ));

    // A key and its seats take 31 bytes in record format 2 (a length, the
    // 29 characters, the seats) and more in JSON: this many are too many in
    // any format.
    let keys = (RECORD_BODY_BYTES_MAX / 25) as u64;
    let failing = request(
        1,
        vec![
            credit_assigned("b", 1),
            user_registered(2),
            benefit_granted("big", keys),
        ],
    );
    match store.append(positioned(store, failing.clone())) {
        Err(StoreError::Encode { index: 2, .. }) => {}
        other => panic!("expected the third event to be refused as too large, got {other:?}"),
    }
    assert_eq!(store.head().expect("head"), before.head);
    assert_eq!(seqs(&collect(store.read_from(0))), vec![1]);
    store.verify().expect("the ledger is intact");

    let mut retry = failing;
    retry.events.pop();
    let appended = append_ok(store, retry);
    assert_eq!(
        (appended.first, appended.last, appended.repeat),
        (2, 3, false)
    );
    let versions: Vec<u64> = collect(store.read_from(2))
        .iter()
        .map(|r| r.stream_version)
        .collect();
    assert_eq!(versions, vec![1, 1]);
}

/// One append may carry events made by different actors (an import whose
/// lines name their own): it is still one atomic append, and every record
/// keeps its own actor.
pub fn one_append_keeps_each_events_own_actor<S: EventStore>(store: &S) {
    let bob = Actor {
        user: UserName::parse("bob@contoso.com").expect("valid user"),
        role: Role::MpnPartnerAdmin,
    };
    let mut mixed = request(0, vec![user_registered(1), user_registered(2)]);
    mixed.events[1].actor = bob.clone();
    let appended = append_ok(store, mixed);
    assert_eq!((appended.first, appended.last), (1, 2));
    let actors: Vec<Actor> = collect(store.read_from(1))
        .into_iter()
        .map(|r| r.actor)
        .collect();
    assert_eq!(actors, vec![actor(), bob]);
}

/// Reads from a sequence start exactly there and run to the end.
pub fn read_from_a_sequence_returns_it_and_everything_after<S: EventStore>(store: &S) {
    three_batches(store);
    assert_eq!(seqs(&collect(store.read_from(0))), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(seqs(&collect(store.read_from(1))), vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(seqs(&collect(store.read_from(4))), vec![4, 5, 6]);
    assert_eq!(seqs(&collect(store.read_from(6))), vec![6]);
    assert!(collect(store.read_from(7)).is_empty());
    assert!(collect(store.read_from(u64::MAX)).is_empty());
}

/// Each record can be read by its sequence; nothing beyond the head.
pub fn record_returns_the_record_at_a_sequence<S: EventStore>(store: &S) {
    three_batches(store);
    let all = collect(store.read_from(0));
    for record in &all {
        assert_eq!(
            store.record(record.seq).expect("read").as_ref(),
            Some(record)
        );
    }
    assert_eq!(store.record(0).expect("read"), None);
    assert_eq!(store.record(7).expect("read"), None);
    assert_eq!(store.record(u64::MAX).expect("read"), None);
}

/// A staged append shows the records it will store and writes nothing until
/// it is committed; dropped, it leaves the log as it was and the next
/// append goes ahead.
pub fn a_staged_append_writes_nothing_until_committed<S: EventStore>(store: &S) {
    append_ok(store, request(0, vec![user_registered(1)]));
    let head = store.head().expect("head");
    let staged_request = positioned(
        store,
        request(1, vec![user_registered(1), credit_assigned("b", 1)]),
    );
    let Staging::Staged(staged) = store.stage(staged_request.clone()).expect("stages") else {
        panic!("a new command id is staged, not a repeat");
    };
    let records: Vec<(u64, u64)> = staged
        .records()
        .iter()
        .map(|r| (r.seq, r.stream_version))
        .collect();
    assert_eq!(records, vec![(2, 2), (3, 1)]);
    drop(staged);
    assert_eq!(store.head().expect("head"), head);
    assert_eq!(
        store
            .find_command(&staged_request.command_id)
            .expect("lookup"),
        None
    );

    let Staging::Staged(staged) = store.stage(staged_request.clone()).expect("stages") else {
        panic!("a dropped staging leaves the command id unused");
    };
    let expected = staged.records().to_vec();
    let appended = staged.commit().expect("commits");
    assert_eq!(collect(store.read_from(2)), expected);
    assert_eq!(
        store
            .find_command(&staged_request.command_id)
            .expect("lookup")
            .map(|c| c.appended),
        Some(Appended {
            repeat: true,
            ..appended
        })
    );
    match store.stage(staged_request).expect("stages") {
        Staging::Repeat(repeat) => assert_eq!(
            repeat,
            Appended {
                repeat: true,
                ..appended
            }
        ),
        Staging::Staged(_) => panic!("a stored command id is a repeat"),
    }
}

/// A request that does not name the position of one of its streams is
/// refused, and appends nothing.
pub fn an_append_without_a_streams_position_is_refused<S: EventStore>(store: &S) {
    let bare = request(0, vec![user_registered(1)]);
    match store.append(bare) {
        Err(StoreError::StreamHeadMissing { index: 0, stream }) => {
            assert_eq!(stream, user_registered(1).stream().to_string())
        }
        other => panic!("expected the missing position to be refused, got {other:?}"),
    }
    assert_eq!(store.head().expect("head"), Digest::EMPTY);
}

/// An as-of read by sequence stops at that sequence.
pub fn read_as_of_a_sequence_stops_there<S: EventStore>(store: &S) {
    three_batches(store);
    assert!(collect(store.read_as_of(AsOf::Sequence(0))).is_empty());
    assert_eq!(
        seqs(&collect(store.read_as_of(AsOf::Sequence(4)))),
        vec![1, 2, 3, 4]
    );
    assert_eq!(
        seqs(&collect(store.read_as_of(AsOf::Sequence(99)))),
        vec![1, 2, 3, 4, 5, 6]
    );
}

/// An as-of read by time returns what was recorded at or before it: whole
/// batches, since a batch is recorded at one instant.
pub fn read_as_of_a_time_returns_what_was_recorded_by_then<S: EventStore>(store: &S) {
    let batches = three_batches(store);
    assert_eq!(batches[1].recorded_at, clock_start() + clock_step());
    let at = |t| seqs(&collect(store.read_as_of(AsOf::RecordedAt(t))));
    assert!(at(clock_start() - TimeDelta::microseconds(1)).is_empty());
    assert_eq!(at(clock_start()), vec![1, 2, 3]);
    assert_eq!(
        at(clock_start() + clock_step() - TimeDelta::microseconds(1)),
        vec![1, 2, 3]
    );
    assert_eq!(at(clock_start() + clock_step()), vec![1, 2, 3, 4, 5]);
    assert_eq!(
        at(clock_start() + clock_step() * 10),
        vec![1, 2, 3, 4, 5, 6]
    );
    for record in collect(store.read_from(0)) {
        let batch = &batches[match record.seq {
            1..=3 => 0,
            4..=5 => 1,
            _ => 2,
        }];
        assert_eq!(record.recorded_at, batch.recorded_at);
    }
}

/// The head is the last sequence and its hash; the empty ledger's is
/// [`Digest::EMPTY`].
pub fn head_is_the_last_sequence_and_its_hash<S: EventStore>(store: &S) {
    assert_eq!(store.head().expect("head"), Digest::EMPTY);
    let batches = three_batches(store);
    let last = collect(store.read_from(6)).pop().expect("record 6");
    assert_eq!(
        store.head().expect("head"),
        Digest {
            seq: 6,
            hash: last.hash
        }
    );
    assert_eq!(batches[2].head, store.head().expect("head"));
}

/// Verify on a healthy log reports its head, events and streams.
pub fn verify_reports_the_head_events_and_streams_of_a_healthy_log<S: EventStore>(store: &S) {
    let empty = store.verify().expect("an empty ledger verifies");
    assert_eq!(
        (empty.head, empty.events, empty.streams),
        (Digest::EMPTY, 0, 0)
    );
    three_batches(store);
    let report = store.verify().expect("a healthy ledger verifies");
    assert_eq!(report.head, store.head().expect("head"));
    assert_eq!((report.events, report.streams), (6, 3));
}

/// A walk that hands over what it checked hands over every record, in
/// order, as a read gives it, and reports what a plain walk reports.
pub fn verify_each_hands_over_every_record_in_order<S: EventStore>(store: &S) {
    three_batches(store);
    let mut handed = Vec::new();
    let report = store
        .verify_each(&mut |_| {}, &mut |record| handed.push(record))
        .expect("a healthy ledger verifies");
    assert_eq!(report, store.verify().expect("verify"));
    assert_eq!(handed, collect(store.read_from(1)));
    assert_eq!(seqs(&handed), vec![1, 2, 3, 4, 5, 6]);
}

/// Every digest taken along the way verifies later; a digest with another
/// hash, or past the end, is refused naming its sequence.
pub fn verify_against_accepts_every_earlier_digest_and_refuses_others<S: EventStore>(store: &S) {
    let mut digests = vec![store.head().expect("head")];
    for batch in three_batches(store) {
        digests.push(batch.head);
    }
    for digest in &digests {
        let report = store
            .verify_against(digest)
            .expect("an earlier digest verifies");
        assert_eq!(report.head.seq, 6);
    }
    let mut wrong = digests[2];
    wrong.hash.0[0] ^= 1;
    let beyond = Digest {
        seq: 7,
        hash: digests[3].hash,
    };
    for (digest, seq) in [(wrong, wrong.seq), (beyond, 7)] {
        match store.verify_against(&digest) {
            Err(StoreError::Broken(b)) => assert_eq!((b.seq, b.kind), (seq, BreakKind::Digest)),
            other => panic!("expected {digest} to be refused, got {other:?}"),
        }
    }
}

/// The documents: a commit writes them with the checkpoint, refuses a
/// stale starting checkpoint, and a reset drops them all with the
/// checkpoint.
pub fn projection_documents_commit_with_their_checkpoint_and_reset<S: ProjectionStore + ?Sized>(
    store: &S,
) {
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 0);
    let writes = |keys: &[&str]| -> std::collections::BTreeMap<String, Vec<u8>> {
        keys.iter()
            .map(|k| (k.to_string(), k.as_bytes().to_vec()))
            .collect()
    };
    store
        .projection_commit(0, 2, writes(&["a/1", "a/2", "b/1"]))
        .expect("commits");
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 2);
    assert_eq!(
        store.projection_get("a/2").expect("get"),
        Some(b"a/2".to_vec())
    );
    assert_eq!(store.projection_get("a/3").expect("get"), None);
    let scanned: Vec<String> = store
        .projection_scan("a/")
        .expect("scan")
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(scanned, vec!["a/1", "a/2"]);
    assert_eq!(
        store.projection_last("a/").expect("last").map(|(k, _)| k),
        Some("a/2".to_string())
    );
    assert_eq!(store.projection_last("c/").expect("last"), None);
    match store.projection_commit(1, 3, writes(&["c/1"])) {
        Err(StoreError::Conflict {
            expected: 1,
            actual: 2,
        }) => {}
        other => panic!("expected a stale checkpoint to be refused, got {other:?}"),
    }
    assert_eq!(store.projection_get("c/1").expect("get"), None);
    store.projection_reset().expect("resets");
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 0);
    assert!(store.projection_scan("").expect("scan").is_empty());
}

/// Documents read together answer what each read alone answers, in the
/// order asked, a key asked twice twice and a missing one as `None`, with
/// keys that would be patterns in SQL (`%`, `_`) read literally; and so
/// do the last documents of many prefixes.
pub fn projection_documents_read_together_answer_each_key_in_order<S: ProjectionStore + ?Sized>(
    store: &S,
) {
    let writes: std::collections::BTreeMap<String, Vec<u8>> = ["a/1", "a/2", "b/%", "b/_1"]
        .iter()
        .map(|k| (k.to_string(), k.as_bytes().to_vec()))
        .collect();
    store.projection_commit(0, 1, writes).expect("commits");
    let keys = ["b/_1", "a/9", "a/1", "b/%", "a/1", "b/x1"];
    let together = store.projection_get_many(&keys).expect("reads together");
    let one_by_one: Vec<Option<Vec<u8>>> = keys
        .iter()
        .map(|k| store.projection_get(k).expect("get"))
        .collect();
    assert_eq!(together, one_by_one);
    let expected = [
        Some("b/_1"),
        None,
        Some("a/1"),
        Some("b/%"),
        Some("a/1"),
        None,
    ];
    let expected: Vec<Option<Vec<u8>>> = expected
        .iter()
        .map(|k| k.map(|k| k.as_bytes().to_vec()))
        .collect();
    assert_eq!(together, expected);
    assert!(store.projection_get_many(&[]).expect("none").is_empty());
    let prefixes = ["b/", "a/", "c/", "a/", "", "b/_"];
    let together = store
        .projection_last_many(&prefixes)
        .expect("reads together");
    let one_by_one: Vec<Option<(String, Vec<u8>)>> = prefixes
        .iter()
        .map(|p| store.projection_last(p).expect("last"))
        .collect();
    assert_eq!(together, one_by_one);
    let keys: Vec<Option<&str>> = together
        .iter()
        .map(|l| l.as_ref().map(|(k, _)| k.as_str()))
        .collect();
    assert_eq!(
        keys,
        [
            Some("b/_1"),
            Some("a/2"),
            None,
            Some("a/2"),
            Some("b/_1"),
            Some("b/_1")
        ]
    );
    assert!(store.projection_last_many(&[]).expect("none").is_empty());
}

/// A scan read page by page gives what one scan gives, whatever the page
/// size: every page starts after the last key of the one before, stops at
/// its limit and at the end of the prefix, and a sibling family whose keys
/// sort beside the prefix's (`a-`, `a0`), or a key given to start after that
/// is not a document, changes nothing.
pub fn projection_scan_pages_cover_the_scan<S: ProjectionStore + ?Sized>(store: &S) {
    let keys = [
        "a-1", "a/1", "a/2", "a/20", "a/3", "a0", "b/%", "b/_1", "b/x",
    ];
    let writes: std::collections::BTreeMap<String, Vec<u8>> = keys
        .iter()
        .map(|k| (k.to_string(), k.as_bytes().to_vec()))
        .collect();
    store.projection_commit(0, 1, writes).expect("commits");
    for prefix in ["a/", "b/", "", "a", "c/"] {
        let whole = store.projection_scan(prefix).expect("scans");
        for limit in [1, 2, 3, 100] {
            assert_eq!(
                scan_in_pages(store, prefix, limit),
                whole,
                "pages of {limit} under {prefix:?}"
            );
        }
    }
    let after_a_gap = store
        .projection_scan_page("a/", Some("a/15"), 10)
        .expect("reads a page");
    let names: Vec<&str> = after_a_gap.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["a/2", "a/20", "a/3"]);
    let before_the_prefix = store
        .projection_scan_page("b/", Some("a/3"), 10)
        .expect("reads a page");
    assert_eq!(
        before_the_prefix.len(),
        3,
        "an `after` before the prefix starts at it"
    );
}

/// Every document under `prefix`, read with
/// [`ProjectionStore::projection_scan_page`] `limit` at a time, each page
/// checked to hold at most `limit`.
pub fn scan_in_pages<S: ProjectionStore + ?Sized>(
    store: &S,
    prefix: &str,
    limit: usize,
) -> Vec<crate::Document> {
    let mut paged = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .projection_scan_page(prefix, after.as_deref(), limit)
            .expect("reads a page");
        assert!(
            page.len() <= limit,
            "a page of {limit} holds at most {limit}"
        );
        let full = page.len() == limit;
        after = page.last().map(|(key, _)| key.clone());
        paged.extend(page);
        if !full {
            return paged;
        }
    }
}

/// A replace swaps every document and the checkpoint for the set given
/// (more than a page of any backend's); documents committed after it are
/// read over it (one by one, together, in pages, last of a prefix) as if
/// every document had been committed. Returns what the store now holds.
pub fn projection_replace_swaps_every_document_for_the_set_given<S: ProjectionStore + ?Sized>(
    store: &S,
) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::collections::BTreeMap;
    let old: BTreeMap<String, Vec<u8>> = ["old/1", "b/5"].iter().map(|k| named(k, "")).collect();
    store.projection_commit(0, 1, old).expect("commits");
    let mut expected: BTreeMap<String, Vec<u8>> = (0..300)
        .map(|n| named(&format!("{}/{n:03}", ["a", "b", "c"][n % 3]), ""))
        .collect();
    let mut source = expected.clone().into_iter().map(Ok);
    store.projection_replace(7, &mut source).expect("replaces");
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), 7);
    assert_eq!(store.projection_get("old/1").expect("get"), None);
    assert_eq!(
        scan_in_pages(store, "", 1000),
        Vec::from_iter(expected.clone())
    );
    let over: BTreeMap<String, Vec<u8>> = ["0", "a/000", "a/0005", "b/151", "c/299", "c/3", "z/1"]
        .iter()
        .map(|k| named(k, "over "))
        .collect();
    expected.extend(over.clone());
    store
        .projection_commit(7, 8, over)
        .expect("commits over the replaced");
    let keys: Vec<&str> = expected
        .keys()
        .map(String::as_str)
        .chain(["a/0006", "zz"])
        .collect();
    let wanted: Vec<Option<Vec<u8>>> = keys.iter().map(|k| expected.get(*k).cloned()).collect();
    let one_by_one: Vec<Option<Vec<u8>>> = keys
        .iter()
        .map(|k| store.projection_get(k).expect("get"))
        .collect();
    assert_eq!(one_by_one, wanted);
    assert_eq!(
        store.projection_get_many(&keys).expect("reads together"),
        wanted
    );
    for prefix in ["", "a/", "a/00", "b/", "c/", "c/29", "z", "y", "0"] {
        let under: Vec<(String, Vec<u8>)> = expected
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for limit in [1, 7, 64, 1000] {
            assert_eq!(
                scan_in_pages(store, prefix, limit),
                under,
                "{prefix:?} by {limit}"
            );
        }
        let last = store.projection_last(prefix).expect("last");
        assert_eq!(last, under.last().cloned(), "the last under {prefix:?}");
    }
    expected
}

/// A document named by its key, with bytes that say so (`tag` first).
fn named(key: &str, tag: &str) -> crate::Document {
    (key.to_owned(), format!("{tag}{key}").into_bytes())
}

/// A replace out of key order, or whose source fails, is refused by name,
/// and leaves no part of its set: the documents and checkpoint of
/// [`projection_replace_swaps_every_document_for_the_set_given`] stay, or
/// none at checkpoint 0 (what a reset leaves, caught up from the log).
pub fn a_refused_projection_replace_leaves_the_old_documents_or_none<
    S: ProjectionStore + ?Sized,
>(
    store: &S,
) {
    let expected = projection_replace_swaps_every_document_for_the_set_given(store);
    let unsorted = ["b", "a"].map(|k| Ok(named(k, "")));
    match store.projection_replace(9, &mut unsorted.into_iter()) {
        Err(StoreError::Projection { message }) => {
            assert!(message.contains("not in key order"), "{message}");
        }
        other => panic!("expected keys out of order to be refused, got {other:?}"),
    }
    let failing = [
        Ok(named("x", "")),
        Err(StoreError::Projection {
            message: "the fold failed".into(),
        }),
    ];
    match store.projection_replace(9, &mut failing.into_iter()) {
        Err(StoreError::Projection { message }) => assert_eq!(message, "the fold failed"),
        other => panic!("expected the source's error, got {other:?}"),
    }
    let left = (
        store.projection_checkpoint().expect("checkpoint"),
        scan_in_pages(store, "", 1000),
    );
    assert!(
        left == (8, Vec::from_iter(expected)) || left == (0, Vec::new()),
        "a refused replace left checkpoint {} and {} documents",
        left.0,
        left.1.len()
    );
}

/// Declares one `#[test]` per conformance function for a backend. The
/// argument is a closure from a [`SteppingClock`] to `(store, guard)`.
/// With `skippable`, it answers an `Option` of that pair instead: `None`
/// for a backend this machine cannot run, and the test then does nothing
/// (for a server a developer chose to skip; the closure itself fails the
/// test when skipping was not asked for).
#[macro_export]
macro_rules! conformance_tests {
    (skippable $open:expr) => {
        $crate::conformance_tests!(@all $open);
    };
    ($open:expr) => {
        $crate::conformance_tests!(@all |clock| Some(($open)(clock)));
    };
    (@all $open:expr) => {
        $crate::conformance_tests!(@each $open;
            append_assigns_contiguous_sequences_stream_versions_and_envelopes,
            append_at_a_stale_or_future_position_is_a_conflict_and_appends_nothing,
            append_of_a_command_id_again_returns_the_original_result_and_appends_nothing,
            a_failed_append_leaves_nothing_behind,
            one_append_keeps_each_events_own_actor,
            read_from_a_sequence_returns_it_and_everything_after,
            record_returns_the_record_at_a_sequence,
            a_staged_append_writes_nothing_until_committed,
            an_append_without_a_streams_position_is_refused,
            read_as_of_a_sequence_stops_there,
            read_as_of_a_time_returns_what_was_recorded_by_then,
            head_is_the_last_sequence_and_its_hash,
            verify_reports_the_head_events_and_streams_of_a_healthy_log,
            verify_each_hands_over_every_record_in_order,
            verify_against_accepts_every_earlier_digest_and_refuses_others,
            projection_documents_commit_with_their_checkpoint_and_reset,
            projection_documents_read_together_answer_each_key_in_order,
            projection_scan_pages_cover_the_scan,
            a_refused_projection_replace_leaves_the_old_documents_or_none,
        );
    };
    (@each $open:expr; $($name:ident),+ $(,)?) => {
        $(
            #[test]
            fn $name() {
                if let Some((store, _guard)) = ($open)($crate::conformance::clock()) {
                    $crate::conformance::$name(&store);
                }
            }
        )+
    };
}
