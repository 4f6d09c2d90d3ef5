//! R1 on every path that changes the ledger (issue 7): each of the eight
//! append subcommands without an actor, without a role, or with a role that
//! may not change the ledger (from flags or the environment), and an import
//! whose last line claims such a role: each is refused with exit 1 and
//! nothing is appended.

use crate::cli::{run_with, TempLedger, ACTOR};

/// Every append subcommand, with flags the rules would accept on the
/// prepared ledger below.
const EVENTS: [&[&str]; 8] = [
    &[
        "benefit-granted",
        "--benefit",
        "b2",
        "--product",
        "Office 365 E3",
        "--offer",
        "action-pack",
        "--benefit-type",
        "core",
        "--expires",
        "2026-12-31",
        "--key",
        "ROLES-AAAAA-BBBBB-CCCCC-00010=10",
        "--on",
        "2026-03-01",
    ],
    &[
        "user-registered",
        "--user",
        "eve@contoso.com",
        "--on",
        "2026-03-01",
    ],
    &[
        "key-redeemed",
        "--subscription",
        "s2",
        "--key",
        "ROLES-AAAAA-BBBBB-CCCCC-00020",
        "--on",
        "2026-03-01",
    ],
    &[
        "licenses-added",
        "--subscription",
        "s1",
        "--key",
        "ROLES-AAAAA-BBBBB-CCCCC-00020",
        "--on",
        "2026-03-01",
    ],
    &[
        "end-date-extended",
        "--subscription",
        "s1",
        "--key",
        "ROLES-AAAAA-BBBBB-CCCCC-00020",
        "--on",
        "2026-03-01",
    ],
    &[
        "credit-assigned",
        "--benefit",
        "c1",
        "--user",
        "bob@contoso.com",
        "--on",
        "2026-03-01",
    ],
    &[
        "credit-unassigned",
        "--benefit",
        "c1",
        "--user",
        "cat@contoso.com",
        "--on",
        "2026-03-01",
    ],
    &[
        "credit-transferred",
        "--benefit",
        "c2",
        "--to",
        "bob@contoso.com",
        "--on",
        "2026-03-01",
    ],
];

const HISTORY: &str = r#"{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "b1", "product": "Office 365 E3", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{"key": "ROLES-AAAAA-BBBBB-CCCCC-00100", "seats": 100}, {"key": "ROLES-AAAAA-BBBBB-CCCCC-00020", "seats": 20}]}
{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "c1", "product": "Microsoft Azure", "offer": "silver-competency", "benefit_type": "core", "expires": "2026-12-31", "credit": {"plan": "monthly", "amount": "100.00", "currency": "USD"}}
{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "c2", "product": "Microsoft Azure", "offer": "gold-competency", "benefit_type": "core", "expires": "2026-12-31", "credit": {"plan": "annual-bulk", "amount": "12000.00", "currency": "USD", "enrollment_start": "2026-01-01", "enrollment_end": "2026-12-31"}}
{"event": "UserRegistered", "on": "2026-01-02", "user": "bob@contoso.com"}
{"event": "UserRegistered", "on": "2026-01-02", "user": "cat@contoso.com"}
{"event": "UserRegistered", "on": "2026-01-02", "user": "dan@contoso.com"}
{"event": "KeyRedeemed", "on": "2026-01-15", "subscription": "s1", "key": "ROLES-AAAAA-BBBBB-CCCCC-00100"}
{"event": "CreditAssigned", "on": "2026-02-01", "benefit": "c1", "user": "cat@contoso.com"}
{"event": "CreditAssigned", "on": "2026-02-01", "benefit": "c2", "user": "dan@contoso.com"}
"#;

fn prepared() -> TempLedger {
    let ledger = TempLedger::new();
    let mut args = ACTOR.to_vec();
    args.extend(["append", "--file", "-"]);
    let output = ledger.run_with(&args, Some(HISTORY));
    assert_eq!(output.code, 0, "{}", output.stderr);
    ledger
}

/// What a claim is called, its flags, and its environment.
type Claim = (
    &'static str,
    Vec<&'static str>,
    Vec<(&'static str, &'static str)>,
);

#[test]
fn every_append_without_an_allowed_actor_is_refused_and_appends_nothing() {
    let ledger = prepared();
    let before = ledger.head();
    let claims: [Claim; 5] = [
        ("no actor", vec![], vec![]),
        ("no role", vec!["--actor", "ann@contoso.com"], vec![]),
        (
            "a role not allowed",
            vec!["--actor", "ann@contoso.com", "--role", "reader"],
            vec![],
        ),
        (
            "an empty role",
            vec!["--actor", "ann@contoso.com", "--role", ""],
            vec![],
        ),
        (
            "a role not allowed, from the environment",
            vec![],
            vec![
                ("BENEFIT_LEDGER_ACTOR", "ann@contoso.com"),
                ("BENEFIT_LEDGER_ROLE", "helpdesk-admin"),
            ],
        ),
    ];
    let mut tried = 0;
    for event in EVENTS {
        // With an allowed actor the command would be accepted (dry run).
        let mut allowed = vec!["--ledger", ledger.arg()];
        allowed.extend(ACTOR);
        allowed.push("append");
        allowed.extend(event);
        allowed.push("--dry-run");
        let output = run_with(&allowed, None, &[]);
        assert_eq!(
            output.code, 0,
            "{event:?} is accepted with a role: {}",
            output.stderr
        );
        for (what, flags, env) in &claims {
            let mut args = vec!["--ledger", ledger.arg()];
            args.extend(flags);
            args.push("append");
            args.extend(event);
            let output = run_with(&args, None, env);
            assert_eq!(output.code, 1, "{event:?} with {what}: {}", output.stderr);
            let first = output.stderr.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("error: refused (R1): "),
                "{event:?} with {what}: {first}"
            );
            tried += 1;
        }
    }
    assert_eq!(ledger.head(), before, "a refused append appended");
    println!(
        "R1: {tried} appends (8 subcommands x 5 claims) refused with exit 1; nothing appended"
    );
}

#[test]
fn an_import_line_claiming_a_role_not_allowed_refuses_the_whole_import() {
    let ledger = prepared();
    let before = ledger.head();
    let mut lines: Vec<String> = (0..999)
        .map(|i| {
            format!(
                r#"{{"event": "UserRegistered", "on": "2026-03-01", "user": "u{i}@contoso.com"}}"#
            )
        })
        .collect();
    lines.push(
        r#"{"event": "UserRegistered", "on": "2026-03-01", "user": "last@contoso.com", "actor": {"user": "mallory@contoso.com", "role": "user-admin"}}"#
            .into(),
    );
    let text = lines.join("\n");
    // The lines' own actor instead of the global one.
    let own = r#", "actor": {"user": "ann@contoso.com", "role": "global-admin"}}"#;
    let with_own_actors: Vec<String> = lines[..999]
        .iter()
        .map(|l| format!("{}{own}", &l[..l.len() - 1]))
        .chain([lines[999].clone()])
        .collect();
    let text_with_own_actors = with_own_actors.join("\n");
    for text in [&text, &text_with_own_actors] {
        let mut args = ACTOR.to_vec();
        args.extend(["append", "--file", "-"]);
        let output = ledger.run_with(&args, Some(text));
        assert_eq!(output.code, 1, "{}", output.stderr);
        let first = output.stderr.lines().next().unwrap_or_default();
        assert!(first.contains("line 1000 of -"), "{first}");
        assert!(
            first.contains("refused (R1)") && first.contains("user-admin"),
            "{first}"
        );
        assert_eq!(ledger.head(), before, "nothing of the import was appended");
    }
}

/// Issue 13 (R1): every append records who ran it. An import whose lines
/// all name an allowed actor, run with no actor of its own, is refused
/// whole; run by someone, every record keeps its line's actor and stores
/// the runner as `recorded by`, which `log` shows.
#[test]
fn every_append_needs_who_runs_it_and_records_them() {
    let ledger = prepared();
    let before = ledger.head();
    let line = r#"{"event": "UserRegistered", "on": "2026-02-01", "user": "m@contoso.com", "actor": {"user": "ceo@contoso.com", "role": "global-admin"}}"#;
    let anonymous = ledger.run_with(&["append", "--file", "-"], Some(line));
    assert_eq!(anonymous.code, 1, "{}", anonymous.stderr);
    assert!(
        anonymous
            .stderr
            .starts_with("error: who runs this append? refused (R1)"),
        "{}",
        anonymous.stderr
    );
    assert_eq!(ledger.head(), before, "nothing was appended");

    let mut args = ACTOR.to_vec();
    args.extend(["append", "--file", "-"]);
    let output = ledger.run_with(&args, Some(line));
    assert_eq!(output.code, 0, "{}", output.stderr);
    let log = ledger.run(&["log", "--format", "jsonl"]);
    let last: serde_json::Value =
        serde_json::from_str(log.stdout.lines().last().expect("a line")).expect("json");
    assert_eq!(last["actor"]["user"], "ceo@contoso.com");
    assert_eq!(last["recorded_by"]["user"], ACTOR[1]);
    let table = ledger.run(&["log"]);
    // The table wraps the cell; the JSON line above names the user exactly.
    assert!(table.stdout.contains("recorded by"), "{}", table.stdout);
    assert_eq!(ledger.run(&["verify"]).code, 0);
}
