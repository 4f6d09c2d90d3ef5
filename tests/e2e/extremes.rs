//! Every numeric argument and field of the CLI and of the import format at
//! its extremes: 0, the type's maximum and one past it, and the dates
//! 0001-01-01 and 9999-12-31 (L7), through the real binary. No input may
//! make the program panic (exit 101): each case ends with its own exit code
//! and a first line of standard error that names the problem.
//!
//! The cases run in order on one ledger whose history already reaches both
//! ends of the calendar and holds keys of 4 294 967 295 seats, so that the
//! term arithmetic (R9, R11, R14), the status windows (R20) and the report
//! windows meet their limits too.

use crate::{run_with, TempLedger, ACTOR};

/// A key of this ledger: `AAAAA-BBBBB-CCCCC-DDDDD-{last}`.
fn key(last: &str) -> String {
    format!("AAAAA-BBBBB-CCCCC-DDDDD-{last}")
}

/// One case: what is run, the exit code it must end with, and a fragment of
/// its standard error (empty for a success).
struct Case {
    args: Vec<String>,
    stdin: Option<String>,
    env: Vec<(&'static str, &'static str)>,
    code: i32,
    fragment: &'static str,
}

fn case(code: i32, fragment: &'static str, args: &[&str]) -> Case {
    Case {
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        stdin: None,
        env: Vec::new(),
        code,
        fragment,
    }
}

/// An append by ann@contoso.com (global-admin).
fn append(code: i32, fragment: &'static str, args: &[&str]) -> Case {
    let mut all: Vec<&str> = ACTOR.to_vec();
    all.push("append");
    all.extend_from_slice(args);
    case(code, fragment, &all)
}

/// An import of one line by ann@contoso.com (global-admin).
fn import(code: i32, fragment: &'static str, line: &str) -> Case {
    let mut case = append(code, fragment, &["--file", "-"]);
    case.stdin = Some(format!("{line}\n"));
    case
}

/// Runs every case; lists every case that ended otherwise than expected.
fn check(ledger: &TempLedger, cases: &[Case]) {
    let mut wrong = Vec::new();
    for case in cases {
        let mut args = vec!["--ledger", ledger.arg()];
        args.extend(case.args.iter().map(String::as_str));
        let output = run_with(&args, case.stdin.as_deref(), &case.env);
        let shown = format!(
            "{:?} (want exit {} with {:?}): exit {}\n{}{}",
            case.args, case.code, case.fragment, output.code, output.stdout, output.stderr
        );
        assert_ne!(output.code, 101, "a panic: {shown}");
        let first = output.stderr.lines().next().unwrap_or_default();
        let as_expected = output.code == case.code
            && (case.code == 0
                || (first.starts_with("error: ") && output.stderr.contains(case.fragment)));
        if !as_expected {
            wrong.push(shown);
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A ledger whose history spans the calendar: benefit `b-max` granted on
/// 0001-01-01 and expiring 9999-12-31, with keys of 4 294 967 295 seats
/// (`MAX01`..`MAX03`) and of one seat (`ONE01`..`ONE03`); subscription
/// `s-min` activated on 0001-01-01 with `MAX01`; an annual-bulk credit of
/// the largest amount, enrolled for the calendar's last year, held by ann.
fn ledger_across_the_calendar() -> TempLedger {
    let ledger = TempLedger::new();
    let mut grant = vec![
        "benefit-granted",
        "--benefit",
        "b-max",
        "--product",
        "Office 365 E3",
        "--offer",
        "action-pack",
        "--benefit-type",
        "core",
        "--expires",
        "9999-12-31",
        "--on",
        "0001-01-01",
    ];
    let keys: Vec<String> = ["MAX01", "MAX02", "MAX03"]
        .iter()
        .map(|k| format!("{}=4294967295", key(k)))
        .chain(
            ["ONE01", "ONE02", "ONE03"]
                .iter()
                .map(|k| format!("{}=1", key(k))),
        )
        .collect();
    for k in &keys {
        grant.extend_from_slice(&["--key", k]);
    }
    ledger.append(&grant);
    let max01 = key("MAX01");
    ledger.append(&[
        "key-redeemed",
        "--subscription",
        "s-min",
        "--key",
        &max01,
        "--on",
        "0001-01-01",
    ]);
    ledger.append(&[
        "user-registered",
        "--user",
        "ann@contoso.com",
        "--on",
        "0001-01-01",
    ]);
    ledger.append(&[
        "user-registered",
        "--user",
        "bob@contoso.com",
        "--on",
        "0001-01-01",
    ]);
    ledger.append(&[
        "benefit-granted",
        "--benefit",
        "c-max",
        "--product",
        "Microsoft Azure",
        "--offer",
        "gold-competency",
        "--benefit-type",
        "core",
        "--expires",
        "9999-12-31",
        "--credit",
        "annual-bulk",
        "--amount",
        "999999999999999.99",
        "--currency",
        "USD",
        "--enrollment-start",
        "9999-01-01",
        "--enrollment-end",
        "9999-12-31",
        "--on",
        "0001-01-01",
    ]);
    ledger.append(&[
        "credit-assigned",
        "--benefit",
        "c-max",
        "--user",
        "ann@contoso.com",
        "--on",
        "9999-01-01",
    ]);
    ledger
}

// A table: one case a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn report_cases() -> Vec<Case> {
    let digest_max = format!("18446744073709551615:{}", "0".repeat(64));
    let digest_over = format!("18446744073709551616:{}", "0".repeat(64));
    let mut cases = vec![
        case(0, "", &["report", "expiring", "--within", "0"]),
        case(0, "", &["report", "expiring", "--within", "100000000"]),
        case(0, "", &["report", "expiring", "--within", "4294967295"]),
        case(2, "--within", &["report", "expiring", "--within", "4294967296"]),
        case(2, "'-1'", &["report", "expiring", "--within", "-1"]),
        case(0, "", &["report", "expiring", "--on", "0001-01-01", "--within", "4294967295"]),
        case(0, "", &["report", "expiring", "--on", "9999-12-31", "--within", "4294967295"]),
        case(2, "--on", &["report", "expiring", "--on", "0000-12-31"]),
        case(2, "--on", &["report", "expiring", "--on", "10000-01-01"]),
        case(0, "", &["report", "subscriptions", "--on", "0001-01-01"]),
        case(0, "", &["report", "subscriptions", "--on", "9999-12-31"]),
        case(2, "--as-of-seq", &["report", "audit", "--as-of-seq", "18446744073709551615"]),
        case(2, "--as-of-seq", &["report", "audit", "--as-of-seq", "18446744073709551616"]),
        case(3, "digest", &["verify", "--digest", &digest_max]),
        case(2, "--digest", &["verify", "--digest", &digest_over]),
    ];
    for report in ["subscriptions", "audit", "credits", "benefits", "expiring"] {
        cases.push(case(0, "", &["report", report, "--as-of-seq", "0"]));
    }
    cases
}

// A table: one case a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn append_cases() -> Vec<Case> {
    let (max02, max03) = (key("MAX02"), key("MAX03"));
    let (one01, one02, one03) = (key("ONE01"), key("ONE02"), key("ONE03"));
    let seats = |n: &str| format!("{}={n}", key("NEW01"));
    let (seats_0, seats_over) = (seats("0"), seats("4294967296"));
    let grant = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "benefit-granted",
            "--benefit",
            "b-new",
            "--product",
            "Office 365 E3",
            "--offer",
            "action-pack",
            "--benefit-type",
            "core",
            "--on",
            "0001-01-01",
        ];
        args.extend_from_slice(extra);
        args.iter().map(|a| (*a).to_owned()).collect()
    };
    let as_append = |code, fragment, args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        append(code, fragment, &args)
    };
    vec![
        // 12 × k / a months with k = a = 4 294 967 295: exactly 12 months.
        append(0, "", &["end-date-extended", "--subscription", "s-min", "--key", &max02, "--on", "0001-06-01"]),
        // A + C seats past u32: refused, not wrapped.
        append(1, "out of range", &["licenses-added", "--subscription", "s-min", "--key", &max03, "--on", "0001-07-01"]),
        // A term that would end after 9999-12-31 (L7).
        append(1, "out of range", &["key-redeemed", "--subscription", "s-late", "--key", &one01, "--on", "9999-12-31"]),
        append(0, "", &["key-redeemed", "--subscription", "s-end", "--key", &one01, "--on", "9998-12-31"]),
        append(1, "out of range", &["end-date-extended", "--subscription", "s-end", "--key", &one02, "--on", "9999-01-01"]),
        append(1, "out of range", &["licenses-added", "--subscription", "s-end", "--key", &one03, "--on", "9999-12-30"]),
        append(0, "", &["credit-transferred", "--benefit", "c-max", "--to", "bob@contoso.com", "--on", "9999-12-31"]),
        as_append(2, "seats", grant(&["--expires", "9999-12-31", "--key", &seats_0])),
        as_append(2, "seats", grant(&["--expires", "9999-12-31", "--key", &seats_over])),
        as_append(2, "amount", grant(&["--expires", "9999-12-31", "--credit", "monthly", "--amount", "9999999999999999", "--currency", "USD"])),
        as_append(2, "--expires", grant(&["--expires", "10000-01-01", "--credit", "monthly", "--amount", "1", "--currency", "USD"])),
        as_append(0, "", grant(&["--expires", "0001-01-01", "--credit", "monthly", "--amount", "0.01", "--currency", "USD"])),
        append(0, "", &["benefit-granted", "--benefit", "c-first", "--product", "Microsoft Azure", "--offer", "action-pack", "--benefit-type", "core", "--expires", "0001-12-31", "--credit", "annual-bulk", "--amount", "0.01", "--currency", "USD", "--enrollment-start", "0001-01-01", "--enrollment-end", "0001-12-31", "--on", "0001-01-01"]),
        append(1, "zero", &["benefit-granted", "--benefit", "c-zero", "--product", "Microsoft Azure", "--offer", "action-pack", "--benefit-type", "core", "--expires", "0001-12-31", "--credit", "annual-bulk", "--amount", "0", "--currency", "USD", "--enrollment-start", "0001-01-01", "--enrollment-end", "0001-12-31", "--on", "0001-01-01"]),
        append(0, "", &["user-registered", "--user", "cat@contoso.com", "--on", "9999-12-31"]),
        append(2, "--on", &["user-registered", "--user", "dan@contoso.com", "--on", "0000-01-01"]),
    ]
}

// A table: one case a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn import_cases() -> Vec<Case> {
    let line = |seats: &str| {
        format!(
            r#"{{"event":"BenefitGranted","on":"0001-01-01","benefit":"b-line","product":"Office 365 E3","offer":"action-pack","benefit_type":"core","expires":"9999-12-31","keys":[{{"key":"{}","seats":{seats}}}]}}"#,
            key("LIN01")
        )
    };
    let mut cases: Vec<Case> = [
        "0",
        "4294967296",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
        "1e3",
        "1.5",
    ]
    .iter()
    .map(|seats| import(2, "seats", &line(seats)))
    .collect();
    cases.push(import(
        2,
        "amount",
        r#"{"event":"BenefitGranted","benefit":"c-line","product":"Microsoft Azure","offer":"action-pack","benefit_type":"core","expires":"9999-12-31","credit":{"plan":"monthly","amount":"1000000000000000.00","currency":"USD"}}"#,
    ));
    cases.push(import(
        2,
        "date",
        r#"{"event":"UserRegistered","on":"0000-12-31","user":"eve@contoso.com"}"#,
    ));
    cases.push(import(0, "", &line("4294967295")));
    cases.push(import(
        0,
        "",
        r#"{"event":"UserRegistered","on":"9999-12-31","user":"eve@contoso.com"}"#,
    ));
    cases
}

/// The clock's extremes: today (the default `--on`) on the calendar's last
/// day, with recorded-at one second from the end of year 9999.
fn clock_cases() -> Vec<Case> {
    let mut late = append(0, "", &["user-registered", "--user", "fay@contoso.com"]);
    late.env = vec![("BENEFIT_LEDGER_FAKE_NOW", "9999-12-31T23:59:59Z")];
    let mut report = case(0, "", &["report", "expiring", "--within", "4294967295"]);
    report.env = late.env.clone();
    // A clock before every recorded-at of the log: today is 0001-01-01.
    let mut early = append(0, "", &["user-registered", "--user", "gus@contoso.com"]);
    early.env = vec![("BENEFIT_LEDGER_FAKE_NOW", "0001-01-01T00:00:00Z")];
    let mut beyond = append(
        2,
        "BENEFIT_LEDGER_FAKE_NOW",
        &["user-registered", "--user", "hal@contoso.com"],
    );
    beyond.env = vec![("BENEFIT_LEDGER_FAKE_NOW", "10000-01-01T00:00:00Z")];
    vec![late, report, early, beyond, case(0, "", &["verify"])]
}

#[test]
fn no_numeric_argument_or_field_at_its_extremes_panics() {
    let ledger = ledger_across_the_calendar();
    check(&ledger, &report_cases());
    check(&ledger, &append_cases());
    check(&ledger, &import_cases());
    check(&ledger, &clock_cases());
}

#[test]
fn an_expiring_window_past_9999_12_31_ends_there() {
    let ledger = ledger_across_the_calendar();
    let output = ledger.run(&[
        "report",
        "expiring",
        "--on",
        "0001-01-01",
        "--within",
        "100000000",
        "--format",
        "csv",
    ]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output.stdout.contains("subscription,s-min"),
        "{}",
        output.stdout
    );
    assert!(output.stdout.contains("benefit,b-max"), "{}", output.stdout);
}

#[test]
fn the_demo_reports_on_either_end_of_the_calendar() {
    for on in ["0001-01-01", "9999-12-31"] {
        let ledger = TempLedger::new();
        let output = ledger.run(&["demo", "--on", on]);
        assert_eq!(output.code, 0, "demo --on {on}: {}", output.stderr);
    }
}
