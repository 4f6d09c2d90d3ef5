//! What the database itself guarantees, shown by the database refusing:
//! the log's tables are append-only even for their owner (triggers), a
//! role granted what `docs/postgres.md` grants may append but never
//! rewrite, a role of one ledger can neither read nor write another, a
//! schema newer than the binary is refused, and damage done behind the
//! store's back is found by reads and by `verify`.

mod support;

use benefit_app::Ledger;
use benefit_postgres::{roles, LedgerUrl, PostgresStore};
use benefit_store::conformance::{self, credit_assigned, positioned, request};
use benefit_store::{BreakKind, EventStore, StoreError};
use benefit_workload::Workload;

/// A fresh ledger of three records, one per append.
fn three_records(label: &str) -> Option<(PostgresStore, LedgerUrl)> {
    let url = support::fresh_url(label)?;
    let store = PostgresStore::open(&url, conformance::clock()).expect("a new ledger opens");
    for n in 0..3 {
        let appended = store
            .append(positioned(
                &store,
                request(n, vec![credit_assigned("b", n)]),
            ))
            .expect("appends");
        assert_eq!(appended.last, n + 1);
    }
    Some((store, url))
}

fn refused(result: Result<(), StoreError>, why: &str) -> String {
    match result {
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains(why), "expected '{why}', got: {text}");
            text
        }
        Ok(()) => panic!("expected the database to refuse ({why})"),
    }
}

#[test]
fn the_database_refuses_update_delete_and_truncate_of_the_log_even_for_its_owner() {
    let Some((store, _url)) = three_records("append_only") else {
        return;
    };
    let head = store.head().expect("head");
    for sql in [
        "UPDATE events SET actor_role = 'global-admin' WHERE seq = 2",
        "DELETE FROM events WHERE seq = 3",
        "TRUNCATE events",
        "UPDATE commands SET last = 1",
        "DELETE FROM commands",
        "TRUNCATE commands CASCADE",
    ] {
        refused(store.execute_sql(sql), "the ledger is append-only");
    }
    assert_eq!(store.head().expect("head"), head);
    store.verify().expect("the log is untouched");
}

/// Connects as `role` (trust authentication on the test server) to the
/// ledger in `url`'s schema.
fn as_role(url: &LedgerUrl, role: &str, schema: &str) -> LedgerUrl {
    let server = support::server().expect("the server is up");
    let base =
        server
            .base_url()
            .replacen("postgres://postgres@", &format!("postgres://{role}@"), 1);
    assert_ne!(
        base,
        server.base_url(),
        "the test server's URL names its superuser"
    );
    let _ = url;
    LedgerUrl::parse(&format!("{base}?schema={schema}")).expect("a ledger URL")
}

#[test]
fn an_operator_role_appends_and_reads_but_the_database_refuses_it_any_rewrite() {
    let Some((owner, url)) = three_records("operator") else {
        return;
    };
    let role = format!("op_{}", &url.schema()[9..]);
    owner
        .execute_sql(&roles::create_login_role(&role))
        .expect("creates the role");
    owner
        .execute_sql(&roles::grant_operator(url.schema(), &role))
        .expect("grants");
    let operator_url = as_role(&url, &role, url.schema());
    let operator = PostgresStore::open_existing(&operator_url, conformance::clock())
        .expect("the operator opens the ledger");
    operator
        .append(positioned(
            &operator,
            request(3, vec![credit_assigned("b", 3)]),
        ))
        .expect("the operator appends");
    assert_eq!(operator.head().expect("head").seq, 4);
    refused(
        operator.execute_sql("UPDATE events SET actor_role = 'x' WHERE seq = 1"),
        "permission denied for table events",
    );
    refused(
        operator.execute_sql("DELETE FROM commands"),
        "permission denied for table commands",
    );
    refused(
        operator.execute_sql("CREATE TABLE events_copy (seq bigint)"),
        "permission denied for schema",
    );
    operator.verify().expect("the log verifies");
}

#[test]
fn a_role_of_one_ledger_can_neither_read_nor_write_another() {
    let Some((contoso, contoso_url)) = three_records("contoso") else {
        return;
    };
    let Some((fabrikam, fabrikam_url)) = three_records("fabrikam") else {
        return;
    };
    let role = format!("op_{}", &contoso_url.schema()[8..]);
    contoso
        .execute_sql(&roles::create_login_role(&role))
        .expect("creates the role");
    contoso
        .execute_sql(&roles::grant_operator(contoso_url.schema(), &role))
        .expect("grants");
    // Through the ledger: opening the other ledger is refused.
    let other = as_role(&fabrikam_url, &role, fabrikam_url.schema());
    match PostgresStore::open_existing(&other, conformance::clock()) {
        Err(e) => assert!(
            e.to_string().contains("permission denied for schema"),
            "{e}"
        ),
        Ok(_) => panic!("a contoso role opened the fabrikam ledger"),
    }
    // Through SQL: its own ledger answers, the other's tables refuse.
    let own = PostgresStore::open_existing(
        &as_role(&contoso_url, &role, contoso_url.schema()),
        conformance::clock(),
    )
    .expect("its own ledger opens");
    let theirs = fabrikam_url.schema();
    refused(
        own.execute_sql(&format!("SELECT * FROM {theirs}.events")),
        "permission denied for schema",
    );
    refused(
        own.execute_sql(&format!(
            "INSERT INTO {theirs}.documents (key, value) VALUES ('x', '')"
        )),
        "permission denied for schema",
    );
    fabrikam.verify().expect("the other ledger is untouched");
}

#[test]
fn a_schema_newer_than_this_binary_is_refused_by_name() {
    let Some((store, url)) = three_records("newer") else {
        return;
    };
    store
        .execute_sql("INSERT INTO ledger_migrations (version, description) VALUES (99, 'future')")
        .expect("a future migration is recorded");
    for opened in [
        PostgresStore::open_existing(&url, conformance::clock()),
        PostgresStore::open(&url, conformance::clock()),
    ] {
        match opened {
            Err(StoreError::UnsupportedLayout { found, .. }) => {
                assert!(found.contains("schema version 99"), "{found}")
            }
            other => panic!("expected the newer schema to be refused, got {other:?}"),
        }
    }
}

#[test]
fn a_missing_ledger_is_not_created_by_a_read() {
    let Some(url) = support::fresh_url("missing") else {
        return;
    };
    match PostgresStore::open_existing(&url, conformance::clock()) {
        Err(StoreError::NoLedger { reason, .. }) => assert!(reason.contains("no ledger")),
        other => panic!("expected no ledger, got {other:?}"),
    }
    let created = PostgresStore::open(&url, conformance::clock()).expect("an append creates it");
    assert_eq!(created.head().expect("head").seq, 0);
    assert_eq!(PostgresStore::schema_version(), 1);
}

#[test]
fn damage_behind_the_stores_back_ends_reads_and_verify_at_its_record() {
    let Some((store, _url)) = three_records("damage") else {
        return;
    };
    store
        .execute_sql(
            "ALTER TABLE events DISABLE TRIGGER USER;
             UPDATE events SET hash = decode(repeat('00', 32), 'hex') WHERE seq = 2;
             ALTER TABLE events ENABLE TRIGGER USER;",
        )
        .expect("a superuser can still damage the table");
    let read: Vec<_> = store.read_from(1).collect();
    assert_eq!(read.len(), 2, "{read:?}");
    for result in [
        read[1].as_ref().map(|_| ()),
        store.verify().as_ref().map(|_| ()),
    ] {
        match result {
            Err(StoreError::Broken(b)) => assert_eq!((b.seq, b.kind), (2, BreakKind::Hash)),
            other => panic!("expected a hash break at 2, got {other:?}"),
        }
    }
}

#[test]
fn the_shell_over_postgres_keeps_the_same_log_and_documents_as_over_memory() {
    let Some(url) = support::fresh_url("shell") else {
        return;
    };
    let postgres = PostgresStore::open(&url, conformance::clock()).expect("opens");
    let mut postgres = Ledger::over(postgres);
    let mut memory = Ledger::over(benefit_store::MemoryStore::new(conformance::clock()));
    let mut workload = Workload::new(11);
    let commands: Vec<_> = (0..300).map(|_| workload.next_command().0).collect();
    for batch in commands.chunks(25) {
        postgres
            .record(batch.to_vec())
            .expect("records on PostgreSQL");
        memory.record(batch.to_vec()).expect("records in memory");
    }
    use benefit_store::ProjectionStore;
    let (p, m) = (postgres.store(), memory.store());
    assert_eq!(p.head().expect("head"), m.head().expect("head"));
    assert_eq!(
        p.projection_scan("").expect("scan"),
        m.projection_scan("").expect("scan")
    );
    postgres.verify(None, &mut |_, _| {}).expect("verifies");
    let rebuilt = postgres
        .rebuild(benefit_projections::RebuildMode::Check, &mut |_| {})
        .expect("rebuilds");
    assert!(rebuilt.differences.is_empty(), "{:?}", rebuilt.differences);
}

/// Issue 12's fault test: the server stops (as a crash would) in the
/// middle of an import, with its transaction open and its records
/// written but not committed. The import fails, nothing of it is stored,
/// and after a restart the ledger verifies and takes the same import.
#[test]
fn a_server_stopped_in_the_middle_of_an_import_keeps_all_or_nothing() {
    use benefit_postgres::cluster::{Cluster, Durability};
    use benefit_store::{AppendRequest, Staging};
    if support::server().is_none() {
        return; // skipped on purpose: no PostgreSQL here
    }
    let mut cluster = Cluster::start(Durability::Full).expect("a cluster of its own starts");
    let url = LedgerUrl::parse(&format!("{}?schema=fault", cluster.url())).expect("a URL");
    let store = PostgresStore::open(&url, conformance::clock()).expect("opens");
    store
        .append(positioned(
            &store,
            request(0, vec![credit_assigned("b", 0)]),
        ))
        .expect("a first batch is stored");
    let head = store.head().expect("head");
    let events: Vec<_> = (1..=2_000).map(|n| credit_assigned("b", n)).collect();
    let import: AppendRequest = positioned(&store, request(1, events.clone()));
    let Staging::Staged(staged) = store.stage(import.clone()).expect("stages") else {
        panic!("a new command id is staged, not a repeat");
    };
    cluster.stop_server_immediately().expect("the server stops");
    let failed = staged.commit();
    assert!(
        failed.is_err(),
        "the commit cannot succeed on a stopped server"
    );
    drop(store);
    cluster.start_server().expect("the server starts again");
    let store = PostgresStore::open_existing(&url, conformance::clock()).expect("reopens");
    assert_eq!(
        store.head().expect("head"),
        head,
        "nothing of the import was stored"
    );
    store
        .verify()
        .expect("the ledger verifies after the restart");
    let appended = store.append(import).expect("the same import is taken now");
    assert_eq!((appended.first, appended.last), (2, 2_001));
    store.verify().expect("and verifies");
}

#[test]
fn the_roles_in_the_documentation_are_the_ones_the_code_grants() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/postgres.md"
    ))
    .expect("docs/postgres.md");
    for sql in [
        roles::create_login_role("contoso_operator"),
        roles::grant_operator("contoso", "contoso_operator"),
        roles::create_login_role("contoso_auditor"),
        roles::grant_auditor("contoso", "contoso_auditor"),
    ] {
        assert!(doc.contains(&sql), "docs/postgres.md lacks:\n{sql}");
    }
}

#[test]
fn an_auditor_role_reads_and_verifies_but_the_database_refuses_its_appends() {
    let Some((owner, url)) = three_records("auditor") else {
        return;
    };
    let role = format!("au_{}", &url.schema()[8..]);
    owner
        .execute_sql(&roles::create_login_role(&role))
        .expect("creates the role");
    owner
        .execute_sql(&roles::grant_auditor(url.schema(), &role))
        .expect("grants");
    let auditor =
        PostgresStore::open_existing(&as_role(&url, &role, url.schema()), conformance::clock())
            .expect("the auditor opens the ledger");
    assert_eq!(
        auditor.verify().expect("verifies").head,
        owner.head().expect("head")
    );
    match auditor.append(positioned(
        &auditor,
        request(3, vec![credit_assigned("b", 3)]),
    )) {
        Err(e) => assert!(
            e.to_string().contains("permission denied for table events"),
            "{e}"
        ),
        Ok(appended) => panic!("an auditor appended {appended:?}"),
    }
    assert_eq!(owner.head().expect("head").seq, 3, "nothing was appended");
}
