//! The catalogue of hostile and malformed inputs (issue 7): one row per
//! input, each run through the real binary against a copy of one prepared
//! ledger whose history lets every rule refuse. For every row: the exit code
//! is the documented one, the first line of standard error names the problem
//! (for the few inputs that are accepted, the first line of standard
//! output), no panic or backtrace is printed, the head digest is unchanged,
//! and no product key of the history or of the input appears whole, in any
//! case, with or without hyphens.

use std::collections::BTreeMap;
use std::path::Path;

use benefit_domain::jsonl::IMPORT_LINE_BYTES_MAX;
use benefit_store::BATCH_EVENTS_MAX;

use crate::cli::{grant_args, TempLedger, ACTOR};
use crate::{copy_dir, key_forms};

/// Keys of the prepared history (and one never granted), normalised.
const K100: &str = "CATLG-AAAAA-BBBBB-CCCCC-00100";
const K301: &str = "CATLG-AAAAA-BBBBB-CCCCC-00301";
const K025: &str = "CATLG-AAAAA-BBBBB-CCCCC-00025";
const KMAX: &str = "CATLG-AAAAA-BBBBB-CCCCC-MAX32";
const KDYN: &str = "CATLG-DYNAM-ICSXX-CCCCC-00010";
const KOLD: &str = "CATLG-OLDXX-BBBBB-CCCCC-00010";
const KLATE: &str = "CATLG-LATEX-BBBBB-CCCCC-00010";
const KE1: &str = "CATLG-EXPXX-BBBBB-CCCCC-00001";
const KE2: &str = "CATLG-EXPXX-BBBBB-CCCCC-00002";
const KFAR: &str = "CATLG-FARXX-BBBBB-CCCCC-00010";
const KNEW: &str = "CATLG-NEWXX-BBBBB-CCCCC-00010";
const KEYS: [&str; 11] = [
    K100, K301, K025, KMAX, KDYN, KOLD, KLATE, KE1, KE2, KFAR, KNEW,
];
/// The command id of one append of the history, to be reused by a row.
const USED_COMMAND_ID: &str = "00000000-0000-4000-8000-00000000c0de";

/// A grant line of the history.
fn grant(benefit: &str, product: &str, on: &str, expires: &str, keys: &[(&str, u64)]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|(k, s)| format!(r#"{{"key": "{k}", "seats": {s}}}"#))
        .collect();
    format!(
        r#"{{"event": "BenefitGranted", "on": "{on}", "benefit": "{benefit}", "product": "{product}", "offer": "action-pack", "benefit_type": "core", "expires": "{expires}", "keys": [{}]}}"#,
        keys.join(", ")
    )
}

/// The prepared history: subscriptions active, expired and deleted, keys
/// used and unused, of two products, expired and not yet granted, monthly
/// and annual bulk credits with holders.
// A table: one row a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn history() -> String {
    let o365 = "Office 365 E3";
    let lines = [
        grant("b1", o365, "2026-01-02", "2026-12-31", &[(K100, 100), (K301, 301), (K025, 25), (KMAX, u64::from(u32::MAX))]),
        grant("b-dyn", "Dynamics 365", "2026-01-02", "2027-12-31", &[(KDYN, 10)]),
        grant("b-old", o365, "2026-01-02", "2026-03-31", &[(KOLD, 10)]),
        grant("b-late", o365, "2026-06-01", "2026-12-31", &[(KLATE, 10)]),
        grant("b-2024", o365, "2024-01-02", "2026-12-31", &[(KE1, 10), (KE2, 10)]),
        grant("b-far", o365, "2026-01-02", "9999-12-31", &[(KFAR, 10)]),
        r#"{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "c-month", "product": "Microsoft Azure", "offer": "silver-competency", "benefit_type": "incremental", "expires": "2026-12-31", "credit": {"plan": "monthly", "amount": "100.00", "currency": "USD"}}"#.into(),
        r#"{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "c-annual", "product": "Microsoft Azure", "offer": "gold-competency", "benefit_type": "core", "expires": "2026-12-31", "credit": {"plan": "annual-bulk", "amount": "12000.00", "currency": "USD", "enrollment_start": "2026-01-01", "enrollment_end": "2026-06-30"}}"#.into(),
        r#"{"event": "UserRegistered", "on": "2024-01-02", "user": "bob@contoso.com"}"#.into(),
        r#"{"event": "UserRegistered", "on": "2024-01-02", "user": "cat@contoso.com"}"#.into(),
        format!(r#"{{"event": "KeyRedeemed", "on": "2024-01-15", "subscription": "s-exp", "key": "{KE1}"}}"#),
        format!(r#"{{"event": "KeyRedeemed", "on": "2026-01-15", "subscription": "s1", "key": "{K100}"}}"#),
        r#"{"event": "CreditAssigned", "on": "2026-02-01", "benefit": "c-annual", "user": "bob@contoso.com"}"#.into(),
        r#"{"event": "CreditAssigned", "on": "2026-02-01", "benefit": "c-month", "user": "cat@contoso.com"}"#.into(),
    ];
    lines.join("\n") + "\n"
}

/// How a row feeds the binary.
enum Feed {
    /// Arguments after `--ledger DIR`.
    Args(Vec<String>),
    /// An import file of these bytes, `ACTOR append --file PATH` and then
    /// these extra arguments.
    Import(Vec<u8>, &'static [&'static str]),
}

/// One input of the catalogue.
struct Row {
    name: &'static str,
    feed: Feed,
    exit: i32,
    /// Each must be in the first line of standard error (of standard output
    /// for exit 0).
    fragments: Vec<&'static str>,
}

fn row(name: &'static str, feed: Feed, exit: i32, fragments: &[&'static str]) -> Row {
    Row {
        name,
        feed,
        exit,
        fragments: fragments.to_vec(),
    }
}

/// `args` as they are.
fn args(args: &[&str]) -> Feed {
    Feed::Args(args.iter().map(|a| (*a).to_owned()).collect())
}

/// `ACTOR append` then `rest`.
fn append(rest: &[&str]) -> Feed {
    let mut all: Vec<String> = ACTOR.iter().map(|a| (*a).to_owned()).collect();
    all.push("append".into());
    all.extend(rest.iter().map(|a| (*a).to_owned()));
    Feed::Args(all)
}

/// A key use (`key-redeemed`, `licenses-added`, `end-date-extended`).
fn key_use(event: &str, subscription: &str, key: &str, on: &str) -> Feed {
    append(&[
        event,
        "--subscription",
        subscription,
        "--key",
        key,
        "--on",
        on,
    ])
}

/// A credit change of `benefit` for `user` on `on`.
fn credit(event: &str, benefit: &str, user: &str, on: &str) -> Feed {
    let flag = if event == "credit-transferred" {
        "--to"
    } else {
        "--user"
    };
    append(&[event, "--benefit", benefit, flag, user, "--on", on])
}

/// A grant of `b-new` (an Office 365 E3 benefit granted on 2026-01-02)
/// from flags, with `extra`.
fn grant_flags(extra: &[&str]) -> Feed {
    let mut all = grant_args("b-new", &[]);
    all.extend_from_slice(extra);
    append(&all)
}

/// A monthly credit grant from flags with this amount and currency.
fn credit_flags(amount: &str, currency: &str) -> Feed {
    let amount = format!("--amount={amount}");
    let currency = format!("--currency={currency}");
    let mut all = vec![
        "benefit-granted",
        "--benefit",
        "c-new",
        "--product",
        "Microsoft Azure",
        "--offer",
        "silver-competency",
        "--benefit-type",
        "core",
        "--expires",
        "2026-12-31",
        "--on",
        "2026-03-01",
        "--credit",
        "monthly",
    ];
    all.extend_from_slice(&[&amount, &currency]);
    append(&all)
}

/// An import of this text.
fn import(text: &str) -> Feed {
    Feed::Import(text.as_bytes().to_vec(), &[])
}

/// An import of this text, decided but not appended.
fn dry_import(text: &str) -> Feed {
    Feed::Import(text.as_bytes().to_vec(), &["--dry-run"])
}

/// An import of one `UserRegistered` line with this `user` value (raw JSON).
fn user_line(user_json: &str) -> Feed {
    import(&format!(
        r#"{{"event": "UserRegistered", "on": "2026-03-01", "user": {user_json}}}"#
    ))
}

/// An import of one `BenefitGranted` line with keys `keys_json` (raw JSON).
fn grant_line(keys_json: &str) -> Feed {
    import(&format!(
        r#"{{"event": "BenefitGranted", "on": "2026-03-01", "benefit": "b-new", "product": "Office 365 E3", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": {keys_json}}}"#
    ))
}

/// An import of one `BenefitGranted` line of a key for `product` (text).
fn product_line(product: &str) -> Feed {
    let product = serde_json::to_string(product).expect("a JSON string");
    import(&format!(
        r#"{{"event": "BenefitGranted", "on": "2026-03-01", "benefit": "b-new", "product": {product}, "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{{"key": "AAAAA-BBBBB-CCCCC-DDDDD-00777", "seats": 1}}]}}"#
    ))
}

/// An import of one `KeyRedeemed` line of `key` on `on` (both raw JSON).
fn redeem_line(key_json: &str, on_json: &str) -> Feed {
    import(&format!(
        r#"{{"event": "KeyRedeemed", "on": {on_json}, "subscription": "s-new", "key": {key_json}}}"#
    ))
}

/// An import of one monthly credit grant of `amount` in `currency` (raw JSON).
fn credit_line(amount_json: &str, currency_json: &str) -> Feed {
    import(&format!(
        r#"{{"event": "BenefitGranted", "on": "2026-03-01", "benefit": "c-new", "product": "Microsoft Azure", "offer": "silver-competency", "benefit_type": "core", "expires": "2026-12-31", "credit": {{"plan": "monthly", "amount": {amount_json}, "currency": {currency_json}}}}}"#
    ))
}

// A table: one row a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn rules_rows() -> Vec<Row> {
    let with_role = |role: &'static str| {
        let mut all: Vec<String> = ["--actor", "ann@contoso.com"].map(String::from).to_vec();
        if !role.is_empty() {
            all.extend(["--role".into(), role.into()]);
        }
        all.extend(["append", "user-registered", "--user", "eve@contoso.com", "--on", "2026-03-01"].map(String::from));
        Feed::Args(all)
    };
    let good_user = r#"{"event": "UserRegistered", "on": "2026-03-01", "user": "eve@contoso.com"}"#;
    vec![
        row("r1_no_actor", args(&["append", "user-registered", "--user", "eve@contoso.com"]), 1, &["refused (R1): no actor"]),
        row("r1_role_not_allowed", with_role("billing-admin"), 1, &["refused (R1)", "billing-admin"]),
        row("r1_no_role", with_role(""), 1, &["refused (R1)"]),
        row("r1_role_in_other_case", with_role("Global-Admin"), 1, &["refused (R1)"]),
        row("r1_a_line_of_an_import_claims_a_bad_role", import(&format!("{good_user}\n{}\n",
            r#"{"event": "UserRegistered", "on": "2026-03-01", "user": "fay@contoso.com", "actor": {"user": "mallory@contoso.com", "role": "reader"}}"#)),
            1, &["line 2 of", "refused (R1)", "reader"]),
        row("r1_a_line_of_an_import_claims_no_role", import(
            r#"{"event": "UserRegistered", "on": "2026-03-01", "user": "fay@contoso.com", "actor": {"user": "mallory@contoso.com", "role": ""}}"#),
            1, &["line 1 of", "refused (R1)"]),
        row("r4_a_key_granted_twice", grant_flags(&["--key", format!("{}=5", K100.to_lowercase()).leak()]), 1, &["refused (R4)", "*****-00100"]),
        row("r4_a_key_never_granted", key_use("key-redeemed", "s9", KNEW, "2026-03-01"), 1, &["refused (R4)", "never granted"]),
        row("r6_a_key_used_twice", key_use("key-redeemed", "s9", K100, "2026-03-01"), 1, &["refused (R6)"]),
        row("r7_a_key_after_its_benefit_expired", key_use("key-redeemed", "s9", KOLD, "2026-06-01"), 1, &["refused (R7)", "2026-03-31"]),
        row("r8_a_key_of_another_product", key_use("end-date-extended", "s1", KDYN, "2026-03-01"), 1, &["refused (R8)", "Dynamics 365"]),
        row("r10_activating_an_active_subscription", key_use("key-redeemed", "s1", K025, "2026-03-01"), 1, &["refused (R10)", "active"]),
        row("r10_activating_a_deleted_subscription", key_use("key-redeemed", "s-exp", KE2, "2026-06-01"), 1, &["refused (R10)", "deleted"]),
        row("r12_a_key_over_three_times_the_seats", key_use("end-date-extended", "s1", K301, "2026-03-01"), 1, &["refused (R12)", "301", "100"]),
        row("r13_extending_an_expired_subscription", key_use("end-date-extended", "s-exp", KE2, "2025-02-01"), 1, &["refused (R13)", "expired"]),
        row("r13_extending_a_missing_subscription", key_use("end-date-extended", "s-none", K025, "2026-03-01"), 1, &["refused (R13)", "does not exist"]),
        row("r16_adding_to_an_expired_subscription", key_use("licenses-added", "s-exp", KE2, "2025-02-01"), 1, &["refused (R16)"]),
        row("r22_a_back_dated_extension", key_use("end-date-extended", "s1", K025, "2026-01-10"), 1, &["refused (R22)", "2026-01-15"]),
        row("r22_a_back_dated_credit_change", credit("credit-assigned", "c-month", "bob@contoso.com", "2026-01-20"), 1, &["refused (R22)"]),
        row("r30_a_credit_for_an_unknown_user", credit("credit-assigned", "c-month", "eve@contoso.com", "2026-03-01"), 1, &["refused (R30)", "eve@contoso.com"]),
        row("r31_removing_a_user_who_holds_nothing", credit("credit-unassigned", "c-month", "bob@contoso.com", "2026-03-01"), 1, &["refused (R31)"]),
        row("r31_assigning_a_holder_again", credit("credit-assigned", "c-month", "cat@contoso.com", "2026-03-01"), 1, &["refused (R31)", "already holds"]),
        row("r32_removing_an_annual_bulk_holder", credit("credit-unassigned", "c-annual", "bob@contoso.com", "2026-03-01"), 1, &["refused (R32)", "cannot be removed"]),
        row("r32_a_transfer_after_the_enrollment_year", credit("credit-transferred", "c-annual", "cat@contoso.com", "2026-08-01"), 1, &["refused (R32)", "2026-06-30"]),
        row("r32_transferring_a_monthly_credit", credit("credit-transferred", "c-month", "bob@contoso.com", "2026-03-01"), 1, &["refused (R32)", "monthly"]),
        row("r33_annual_bulk_holder_gets_another_credit", credit("credit-assigned", "c-month", "bob@contoso.com", "2026-03-01"), 1, &["refused (R33)"]),
        row("l1_a_benefit_id_granted_twice", append(&["benefit-granted", "--benefit", "b1", "--product", "Office 365 E3", "--offer", "action-pack", "--benefit-type", "core", "--expires", "2026-12-31", "--on", "2026-03-01", "--key", format!("{KNEW}=5").leak()]), 1, &["refused (L1)", "b1"]),
        row("l2_a_user_registered_twice", append(&["user-registered", "--user", "BOB@contoso.com", "--on", "2026-03-01"]), 1, &["refused (L2)"]),
        row("l3_a_benefit_expiring_before_its_grant", append(&["benefit-granted", "--benefit", "b-l3", "--product", "Office 365 E3", "--offer", "action-pack", "--benefit-type", "core", "--expires", "2025-12-31", "--on", "2026-01-02", "--key", format!("{KNEW}=5").leak()]), 1, &["refused (L3)"]),
        row("l3_a_credit_of_zero", credit_flags("0.00", "USD"), 1, &["refused (L3)"]),
        row("l4_a_credit_command_on_a_key_benefit", credit("credit-assigned", "b1", "bob@contoso.com", "2026-03-01"), 1, &["refused (L4)"]),
        row("l5_a_key_before_its_benefit_was_granted", key_use("key-redeemed", "s9", KLATE, "2026-05-01"), 1, &["refused (L5)"]),
        row("l6_a_credit_after_its_benefit_expired", credit("credit-assigned", "c-month", "bob@contoso.com", "2027-01-05"), 1, &["refused (L6)"]),
        row("l7_an_end_date_after_9999", key_use("key-redeemed", "s-far", KFAR, "9999-06-01"), 1, &["refused (L7)", "out of range"]),
        row("l7_seats_beyond_u32", key_use("licenses-added", "s1", KMAX, "2026-03-01"), 1, &["refused (L7)", "out of range"]),
        row("r12_on_line_3_of_an_import", import(&format!("{good_user}\n\n{}\n",
            format_args!(r#"{{"event": "EndDateExtended", "on": "2026-03-01", "subscription": "s1", "key": "{K301}"}}"#))),
            1, &["line 3 of", "refused (R12)"]),
    ]
}

// A table: one row a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn json_rows() -> Vec<Row> {
    vec![
        row("json_not_json", import("this is not json\n"), 2, &["line 1 of", "malformed"]),
        row("json_cut_short", import(r#"{"event": "UserRegistered", "user": "eve@contoso.com""#), 2, &["line 1 of", "malformed", "EOF"]),
        row("json_an_array", import("[1, 2, 3]\n"), 2, &["line 1 of", "malformed"]),
        row("json_a_string", import("\"UserRegistered\"\n"), 2, &["line 1 of", "malformed"]),
        row("json_null", import("null\n"), 2, &["line 1 of", "malformed"]),
        row("json_trailing_garbage", import(r#"{"event": "UserRegistered", "user": "eve@contoso.com"} x"#), 2, &["malformed", "trailing"]),
        row("json_two_objects_on_a_line", import(r#"{"event": "UserRegistered", "user": "eve@contoso.com"}{"event": "UserRegistered", "user": "fay@contoso.com"}"#), 2, &["malformed", "trailing"]),
        row("json_nested_ten_thousand_deep", import(&format!("{}{}\n", "[".repeat(10_000), "]".repeat(10_000))), 2, &["line 1 of", "malformed"]),
        row("type_seats_a_string", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": "ten"}}]"#)), 2, &["malformed", "invalid type"]),
        row("type_seats_a_fraction", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": 10.5}}]"#)), 2, &["malformed", "seats"]),
        row("type_seats_1e400", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": 1e400}}]"#)), 2, &["malformed"]),
        row("type_user_a_number", user_line("42"), 2, &["malformed", "invalid type"]),
        row("type_user_null", user_line("null"), 2, &["malformed", "invalid type"]),
        row("type_guest_a_string", import(r#"{"event": "UserRegistered", "user": "eve@contoso.com", "guest": "yes"}"#), 2, &["malformed", "invalid type"]),
        row("type_keys_an_object", grant_line(&format!(r#"{{"key": "{KNEW}", "seats": 10}}"#)), 2, &["malformed", "invalid type"]),
        row("type_on_a_number", redeem_line(&format!("\"{KNEW}\""), "20260301"), 2, &["malformed", "invalid type"]),
        row("type_actor_a_string", import(r#"{"event": "UserRegistered", "user": "eve@contoso.com", "actor": "ann@contoso.com"}"#), 2, &["malformed", "invalid type"]),
        row("event_unknown", import(r#"{"event": "KeyStolen", "subscription": "s1"}"#), 2, &["malformed", "unknown event", "KeyStolen"]),
        row("event_in_snake_case", import(r#"{"event": "user_registered", "user": "eve@contoso.com"}"#), 2, &["malformed", "unknown event"]),
        row("event_missing", import(r#"{"user": "eve@contoso.com"}"#), 2, &["malformed", r#"missing "event" naming the event, one of BenefitGranted"#]),
        row("field_unknown", import(r#"{"event": "UserRegistered", "usr": "eve@contoso.com"}"#), 2, &["malformed", "unknown field `usr`"]),
        row("field_unknown_in_a_key", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": 10, "used": true}}]"#)), 2, &["malformed", "unknown field `used`"]),
        row("field_missing", import(r#"{"event": "KeyRedeemed", "on": "2026-03-01", "subscription": "s-new"}"#), 2, &["malformed", "missing field `key`"]),
        row("field_duplicate", import(r#"{"event": "UserRegistered", "user": "eve@contoso.com", "user": "fay@contoso.com"}"#), 2, &["malformed", "duplicate field `user`"]),
        row("field_duplicate_key_of_a_grant", grant_line(&format!(r#"[{{"key": "{KNEW}", "key": "{K100}", "seats": 10}}]"#)), 2, &["malformed", "duplicate field `key`"]),
    ]
}

// A table: one row a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn value_rows() -> Vec<Row> {
    let k = |key: &'static str| key_use("key-redeemed", "s-new", key, "2026-03-01");
    let seats = |seats: &'static str| grant_flags(&["--key", format!("{KNEW}={seats}").leak()]);
    let on = |date: &'static str| key_use("key-redeemed", "s-new", KNEW, date);
    let user = |user: &'static str| append(&["user-registered", "--user", user, "--on", "2026-03-01"]);
    let dry = |key: &str| {
        let mut feed = key_use("key-redeemed", "s-new", key, "2026-03-01");
        if let Feed::Args(all) = &mut feed {
            all.push("--dry-run".into());
        }
        feed
    };
    let k025_lower = K025.to_lowercase();
    let k025_compact = K025.replace('-', "");
    let k025_lower_compact = k025_lower.replace('-', "");
    vec![
        row("key_of_24_characters", k("CATLG-AAAAA-BBBBB-CCCCC-0010"), 2, &["--key", "five groups"]),
        row("key_of_26_characters", k("CATLG-AAAAA-BBBBB-CCCCC-000100"), 2, &["--key", "five groups"]),
        row("key_of_24_characters_without_hyphens", k("CATLGAAAAABBBBBCCCCC0010"), 2, &["--key"]),
        row("key_of_26_characters_without_hyphens", k("CATLGAAAAABBBBBCCCCC001000"), 2, &["--key"]),
        row("key_with_a_bad_character", k("CATLG-AAAAA-BBBBB-CCCCC-0010!"), 2, &["--key", "'!'"]),
        row("key_with_a_letter_outside_ascii", k("CATLG-AAAAA-BBBBB-CCCCC-0010É"), 2, &["--key"]),
        row("key_with_a_space", k("CATLG AAAAA BBBBB CCCCC 00100"), 2, &["--key"]),
        row("key_with_hyphens_misplaced", k("CATL-GAAAAA-BBBBB-CCCCC-00100"), 2, &["--key", "hyphens"]),
        row("key_empty", k(""), 2, &["--key"]),
        row("key_in_a_line_of_24_characters", redeem_line("\"CATLG-AAAAA-BBBBB-CCCCC-0010\"", "\"2026-03-01\""), 2, &["line 1 of", "malformed"]),
        row("key_lower_case_is_accepted", dry(&k025_lower), 0, &["dry run: would append 1 event"]),
        row("key_without_hyphens_is_accepted", dry(&k025_compact), 0, &["dry run: would append 1 event"]),
        row("key_lower_case_without_hyphens_is_accepted_in_an_import", Feed::Import(
            format!(r#"{{"event": "KeyRedeemed", "on": "2026-03-01", "subscription": "s-new", "key": "{k025_lower_compact}"}}"#).into_bytes(), &["--dry-run"]),
            0, &["dry run: would append 1 event"]),
        row("seats_zero", seats("0"), 2, &["--key"]),
        row("seats_negative", seats("-5"), 2, &["--key"]),
        row("seats_above_u32", seats("4294967296"), 2, &["--key"]),
        row("seats_not_a_number", seats("lots"), 2, &["--key"]),
        row("seats_zero_in_an_import", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": 0}}]"#)), 2, &["malformed"]),
        row("seats_negative_in_an_import", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": -1}}]"#)), 2, &["malformed"]),
        row("seats_above_u32_in_an_import", grant_line(&format!(r#"[{{"key": "{KNEW}", "seats": 4294967296}}]"#)), 2, &["malformed"]),
        row("keys_empty_list", grant_line("[]"), 1, &["refused (L3)"]),
        row("date_year_10000", on("10000-01-01"), 2, &["--on"]),
        row("date_february_30", on("2026-02-30"), 2, &["--on"]),
        row("date_year_0", on("0000-01-01"), 2, &["--on"]),
        row("date_month_13", on("2026-13-01"), 2, &["--on"]),
        row("date_with_a_time", on("2026-03-01T10:00:00"), 2, &["--on"]),
        row("date_without_leading_zeros", on("2026-3-1"), 2, &["--on"]),
        row("date_with_a_time_in_an_import", redeem_line(&format!("\"{KNEW}\""), "\"2026-03-01T10:00:00Z\""), 2, &["line 1 of", "malformed"]),
        row("date_february_29_of_2026_in_an_import", redeem_line(&format!("\"{KNEW}\""), "\"2026-02-29\""), 2, &["line 1 of", "malformed"]),
        row("date_year_0_in_an_import", redeem_line(&format!("\"{KNEW}\""), "\"0000-06-01\""), 2, &["line 1 of", "malformed"]),
        row("amount_with_three_decimals", credit_flags("100.001", "USD"), 2, &["benefit-granted", "decimals"]),
        row("amount_negative", credit_flags("-100.00", "USD"), 2, &["benefit-granted", "decimal number"]),
        row("amount_nan", credit_flags("NaN", "USD"), 2, &["benefit-granted", "decimal number"]),
        row("amount_1e3", credit_flags("1e3", "USD"), 2, &["benefit-granted", "decimal number"]),
        row("amount_empty", credit_flags("", "USD"), 2, &["benefit-granted"]),
        row("amount_of_twenty_digits", credit_flags("12345678901234567890", "USD"), 2, &["benefit-granted", "digits"]),
        row("amount_a_json_number_in_an_import", credit_line("100", "\"USD\""), 2, &["malformed", "invalid type"]),
        row("amount_nan_in_an_import", credit_line("\"NaN\"", "\"USD\""), 2, &["malformed"]),
        row("currency_of_two_letters", credit_flags("100.00", "US"), 2, &["benefit-granted"]),
        row("currency_of_four_letters", credit_flags("100.00", "USDX"), 2, &["benefit-granted"]),
        row("currency_in_lower_case", credit_flags("100.00", "usd"), 2, &["benefit-granted"]),
        row("currency_of_digits", credit_flags("100.00", "840"), 2, &["benefit-granted"]),
        row("currency_not_in_iso_4217", credit_flags("100.00", "XYZ"), 2, &["benefit-granted"]),
        row("currency_empty_in_an_import", credit_line("\"100.00\"", "\"\""), 2, &["malformed"]),
        row("email_without_at", user("eve.contoso.com"), 2, &["--user", "'@'"]),
        row("email_with_two_ats", user("eve@fay@contoso.com"), 2, &["--user", "'@'"]),
        row("email_without_a_dot_in_the_domain", user("eve@localhost"), 2, &["--user", "domain"]),
        row("email_with_an_empty_local_part", user("@contoso.com"), 2, &["--user"]),
        row("email_with_a_space", user("eve smith@contoso.com"), 2, &["--user"]),
        row("email_of_300_characters", append(&["user-registered", "--user", format!("{}@contoso.com", "e".repeat(288)).leak()]), 2, &["--user", "254"]),
        row("email_as_the_actor", args(&["--actor", "ann", "--role", "global-admin", "append", "user-registered", "--user", "eve@contoso.com"]), 2, &["--actor"]),
        row("email_not_a_string_in_an_import", user_line("[\"eve@contoso.com\"]"), 2, &["malformed", "invalid type"]),
        row("id_with_a_slash", key_use("key-redeemed", "s/1", KNEW, "2026-03-01"), 2, &["--subscription"]),
        row("id_of_65_characters", key_use("key-redeemed", "s".repeat(65).leak(), KNEW, "2026-03-01"), 2, &["--subscription", "64"]),
        row("id_holding_a_product_key", key_use("key-redeemed", K100.to_lowercase().leak(), KNEW, "2026-03-01"), 2, &["--subscription", "R3"]),
        row("product_of_101_characters", append(&["benefit-granted", "--benefit", "b-new", "--product", "p".repeat(101).leak(), "--offer", "action-pack", "--benefit-type", "core", "--expires", "2026-12-31", "--key", format!("{KNEW}=5").leak()]), 2, &["--product", "100"]),
        row("offer_unknown", append(&["benefit-granted", "--benefit", "b-new", "--product", "Office 365 E3", "--offer", "platinum", "--benefit-type", "core", "--expires", "2026-12-31", "--key", format!("{KNEW}=5").leak()]), 2, &["platinum"]),
    ]
}

// A table: one row a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn file_rows() -> Vec<Row> {
    let user = |i: usize| format!(r#"{{"event": "UserRegistered", "on": "2026-03-01", "user": "u{i}@contoso.com"}}"#);
    let mut over_the_line_limit = (0..=BATCH_EVENTS_MAX).map(user).collect::<Vec<_>>().join("\n");
    over_the_line_limit.push('\n');
    let ten_megabytes = format!(
        r#"{{"event": "UserRegistered", "on": "2026-03-01", "user": "{}@contoso.com"}}"#,
        "e".repeat(10 * 1024 * 1024)
    );
    let at_the_limit = format!("{}\n", " ".repeat(IMPORT_LINE_BYTES_MAX));
    vec![
        row("file_a_10_megabyte_line", import(&ten_megabytes), 2, &["line 1 of", "line is longer than the 65536 bytes allowed"]),
        row("file_a_line_one_byte_over_the_limit", import(&format!("{}\n", " ".repeat(IMPORT_LINE_BYTES_MAX + 1))), 2, &["line 1 of", "longer than the 65536 bytes allowed"]),
        row("file_a_blank_line_at_the_limit", dry_import(&format!("{at_the_limit}{}\n", user(1))), 0, &["dry run: would append 1 event"]),
        row("file_a_nul_byte_in_a_value", Feed::Import(b"{\"event\": \"UserRegistered\", \"user\": \"eve\0@contoso.com\"}\n".to_vec(), &[]), 2, &["line 1 of", "control character"]),
        row("file_a_nul_byte_between_fields", Feed::Import(b"{\"event\": \"UserRegistered\",\0 \"user\": \"eve@contoso.com\"}\n".to_vec(), &[]), 2, &["line 1 of", "malformed"]),
        row("file_invalid_utf8", Feed::Import(b"{\"event\": \"UserRegistered\", \"user\": \"eve\xff\xfe@contoso.com\"}\n".to_vec(), &[]), 2, &["line 1 of", "not UTF-8"]),
        row("file_invalid_utf8_on_line_2", Feed::Import([user(1).as_bytes(), b"\n\xc3\x28\n"].concat(), &[]), 2, &["line 2 of", "not UTF-8"]),
        row("file_a_byte_order_mark_is_skipped", dry_import(&format!("\u{feff}{}\n", user(1))), 0, &["dry run: would append 1 event"]),
        row("file_a_byte_order_mark_inside", import(&format!("{}\n\u{feff}{}\n", user(1), user(2))), 2, &["line 2 of", "byte order mark"]),
        row("json_a_field_name_not_a_string", import("{1: 2}\n"), 2, &["malformed", "a JSON object's field name must be a string"]),
        row("json_not_an_object", import("[]\n"), 2, &["malformed", r#"missing "event""#]),
        row("product_a_bidirectional_override", product_line("Office \u{202e}365"), 2, &["product", "U+202E"]),
        row("product_a_bidirectional_isolate", product_line("Office \u{2067}365"), 2, &["product", "U+2067"]),
        row("product_a_c1_control", product_line("Office \u{85}365"), 2, &["product", "control"]),
        row("r3_key_with_dots_as_a_subscription_id", import(r#"{"event": "KeyRedeemed", "subscription": "qwert.yuiop.asdfg.hjklz.7qxkr", "key": "AAAAA-BBBBB-CCCCC-DDDDD-00025"}"#), 2, &["subscription id", "*****.*****.*****.*****.7qxkr"]),
        row("r3_key_with_underscores_as_a_benefit_id", import(r#"{"event": "CreditAssigned", "benefit": "qwert_yuiop_asdfg_hjklz_7qxkr", "user": "ann@contoso.com"}"#), 2, &["benefit id", "*****_*****_*****_*****_7qxkr"]),
        row("r3_key_with_spaces_in_a_product", product_line("Office QWERT YUIOP ASDFG HJKLZ 7QXKR"), 2, &["product", "***** *****"]),
        row("r3_key_with_dots_in_a_user", import(r#"{"event": "UserRegistered", "user": "qwert.yuiop.asdfg.hjklz.7qxkr@contoso.com"}"#), 2, &["user", "*****.*****.*****.*****"]),
        row("file_empty", import(""), 2, &["holds no commands"]),
        row("file_only_blank_lines", import("\n\n   \n\t\n\r\n"), 2, &["holds no commands"]),
        row("file_windows_line_ends_are_accepted", dry_import(&format!("{}\r\n{}\r\n", user(1), user(2))), 0, &["dry run: would append 2 events"]),
        row("file_one_line_over_the_import_limit", import(&over_the_line_limit), 2, &["line 100001 of", "at most 100000 commands"]),
        row("file_missing", append(&["--file", "/nonexistent/history.jsonl"]), 2, &["--file", "/nonexistent/history.jsonl"]),
        row("file_a_directory", append(&["--file", "/"]), 2, &["reading /"]),
    ]
}

// A table: one row a line reads better than rustfmt's layout.
#[rustfmt::skip]
fn usage_rows() -> Vec<Row> {
    vec![
        row("usage_keys_and_a_credit", grant_flags(&["--key", format!("{KNEW}=5").leak(), "--credit", "monthly", "--amount", "1.00", "--currency", "USD"]), 2, &["cannot be used with '--credit"]),
        row("usage_annual_bulk_without_an_enrollment_year", credit_flags_annual(), 2, &["enrollment"]),
        row("usage_neither_event_nor_file", append(&[]), 2, &["append needs an event subcommand"]),
        row("usage_unknown_subcommand", args(&["frobnicate"]), 2, &["frobnicate"]),
        row("usage_as_of_after_the_head", args(&["report", "audit", "--as-of-seq", "999"]), 2, &["--as-of-seq", "999"]),
        row("usage_a_stream_of_no_kind", args(&["log", "--stream", "tenant/x"]), 2, &["--stream"]),
        row("usage_a_stream_that_does_not_exist", args(&["log", "--stream", "subscription/nope"]), 2, &["has no stream subscription/nope"]),
        row("usage_a_malformed_digest", args(&["verify", "--digest", "12:xyz"]), 2, &["--digest"]),
        row("usage_a_command_id_reused_for_other_events", append(&["user-registered", "--user", "eve@contoso.com", "--on", "2026-03-01", "--command-id", USED_COMMAND_ID]), 2, &["already used for a different batch"]),
        row("usage_a_command_id_that_is_no_uuid", append(&["user-registered", "--user", "eve@contoso.com", "--command-id", "12345"]), 2, &["--command-id"]),
        row("unusable_a_digest_of_another_history", Feed::Args(vec!["verify".into(), "--digest".into(), format!("1:{}", "ab".repeat(32))]), 3, &["this digest does not match the ledger's history"]),
    ]
}

fn credit_flags_annual() -> Feed {
    append(&[
        "benefit-granted",
        "--benefit",
        "c-new",
        "--product",
        "Microsoft Azure",
        "--offer",
        "gold-competency",
        "--benefit-type",
        "core",
        "--expires",
        "2026-12-31",
        "--credit",
        "annual-bulk",
        "--amount",
        "1.00",
        "--currency",
        "USD",
    ])
}

/// The prepared ledger: the history above, then one user registered under
/// [`USED_COMMAND_ID`].
fn prepared() -> TempLedger {
    let ledger = TempLedger::new();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("history.jsonl");
    std::fs::write(&file, history()).expect("history written");
    ledger.append(&["--file", file.to_str().expect("utf-8")]);
    ledger.append(&[
        "user-registered",
        "--user",
        "dan@contoso.com",
        "--on",
        "2026-01-02",
        "--command-id",
        USED_COMMAND_ID,
    ]);
    ledger
}

fn check(row: &Row, base: &TempLedger, base_head: &str, scratch: &Path) -> i32 {
    let ledger = TempLedger::new();
    copy_dir(&base.path, &ledger.path);
    let mut all: Vec<String> = Vec::new();
    match &row.feed {
        Feed::Args(args) => all.extend(args.iter().cloned()),
        Feed::Import(bytes, extra) => {
            let file = scratch.join(format!("{}.jsonl", row.name));
            std::fs::write(&file, bytes).expect("import written");
            all.extend(ACTOR.iter().map(|a| (*a).to_owned()));
            all.extend([
                "append".to_owned(),
                "--file".to_owned(),
                file.display().to_string(),
            ]);
            all.extend(extra.iter().map(|a| (*a).to_owned()));
        }
    }
    let args: Vec<&str> = all.iter().map(String::as_str).collect();
    // `ledger.run` asserts no panic, no backtrace and no hyphenated key.
    let output = ledger.run(&args);
    let what = format!("row {}: {}{}", row.name, output.stdout, output.stderr);
    assert_eq!(output.code, row.exit, "{what}");
    let shown = if row.exit == 0 {
        &output.stdout
    } else {
        &output.stderr
    };
    let first = shown.lines().next().unwrap_or_default();
    if row.exit != 0 {
        assert!(first.starts_with("error: "), "{what}");
    }
    for fragment in &row.fragments {
        assert!(
            first.contains(fragment),
            "row {}: first line lacks {fragment:?}: {first}",
            row.name
        );
    }
    assert_eq!(
        ledger.head(),
        base_head,
        "row {} changed the ledger",
        row.name
    );
    let both = format!("{}\n{}", output.stdout, output.stderr);
    for key in KEYS {
        for form in key_forms(key) {
            assert!(
                !both.contains(&form),
                "R3: row {} shows {form}:\n{both}",
                row.name
            );
        }
    }
    output.code
}

#[test]
fn every_hostile_input_gets_its_exit_code_and_a_clear_first_line_and_changes_nothing() {
    let base = prepared();
    let base_head = base.head();
    let scratch = tempfile::tempdir().expect("temp dir");
    let rows: Vec<Row> = [
        rules_rows(),
        json_rows(),
        value_rows(),
        file_rows(),
        usage_rows(),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut names = std::collections::BTreeSet::new();
    let mut by_exit: BTreeMap<i32, usize> = BTreeMap::new();
    let mut failed = Vec::new();
    for row in &rows {
        assert!(names.insert(row.name), "two rows named {}", row.name);
        // Every row is tried, and all that fail are named at the end.
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            check(row, &base, &base_head, scratch.path())
        }));
        match checked {
            Ok(code) => *by_exit.entry(code).or_default() += 1,
            Err(_) => failed.push(row.name),
        }
    }
    assert!(failed.is_empty(), "rows failed: {failed:?}");
    let counts: Vec<String> = by_exit
        .iter()
        .map(|(code, n)| format!("exit {code}: {n}"))
        .collect();
    println!(
        "hostile-input catalogue: {} rows tried ({}); every first line named the problem, no panic, head unchanged, no key shown whole",
        rows.len(),
        counts.join(", ")
    );
    assert!(rows.len() >= 60, "the catalogue holds at least 60 rows");
}
