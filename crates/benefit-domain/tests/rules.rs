//! One test per rule of `../shared/domain.md`, named after it, in a
//! given/when/then style: `given(history)`, a command, then the event or the
//! refusal. `docs/rules.md` points from each rule to its test here.

mod common;

use benefit_domain::{authorize, decide, explain, rederive, status_on, ClaimedActor, Command};
use benefit_events::*;
use common::*;

fn end_of(state: &benefit_domain::State, s: &str) -> Date {
    state
        .subscription(&sub(s))
        .expect("subscription exists")
        .end
}

// ---- R1 roles ----

#[test]
fn r1_a_change_without_an_actor_is_refused() {
    let command = Command {
        actor: None,
        ..on("2026-01-01", register("ann@contoso.com"))
    };
    assert_refused(
        &given(vec![]),
        command,
        "R1",
        "refused (R1): no actor given; only global-admin and mpn-partner-admin may change the ledger",
    );
}

#[test]
fn r1_an_actor_with_no_allowed_role_is_refused() {
    let command = Command {
        actor: Some(ClaimedActor {
            user: user("eve@contoso.com"),
            role: "billing-admin".into(),
        }),
        ..on("2026-01-01", register("ann@contoso.com"))
    };
    assert_refused(
        &given(vec![]),
        command,
        "R1",
        "refused (R1): role 'billing-admin' of eve@contoso.com may not change the ledger; only global-admin and mpn-partner-admin may",
    );
}

#[test]
fn r3_a_refused_role_that_holds_a_key_is_shown_masked() {
    let command = Command {
        actor: Some(ClaimedActor {
            user: user("eve@contoso.com"),
            role: "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE".into(),
        }),
        ..on("2026-01-01", register("ann@contoso.com"))
    };
    let message = refused(&given(vec![]), command).to_string();
    assert!(
        message.contains("'*****-*****-*****-*****-EEEEE'"),
        "{message}"
    );
}

#[test]
fn r1_both_allowed_roles_may_change_the_ledger() {
    for role in ["global-admin", "mpn-partner-admin"] {
        let claim = ClaimedActor {
            user: user("ann@contoso.com"),
            role: role.into(),
        };
        let actor = authorize(Some(&claim)).expect("allowed");
        assert_eq!(actor.role.as_str(), role);
        let command = Command {
            actor: Some(claim),
            ..on("2026-01-01", register("bob@contoso.com"))
        };
        assert!(decide(&given(vec![]), command).is_ok());
    }
}

// ---- R3 keys are secrets ----

#[test]
fn r3_refusals_show_keys_masked() {
    let state = given(vec![on("2026-01-01", grant("ben", &[("A1", 10)]))]);
    let refusal = refused(&state, on("2026-01-02", redeem("s1", "Z9")));
    let message = refusal.to_string();
    assert!(
        message.contains("*****-*****-*****-*****-XXXXX"),
        "{message}"
    );
    assert!(!message.contains(key("Z9").reveal()), "{message}");
    assert!(!format!("{refusal:?}").contains(key("Z9").reveal()));
}

// ---- R4 one key, one benefit ----

#[test]
fn r4_granting_a_key_already_granted_is_refused() {
    let state = given(vec![on("2026-01-01", grant("ben", &[("A1", 10)]))]);
    assert_refused(
        &state,
        on("2026-01-02", grant("other", &[("A1", 10)])),
        "R4",
        "refused (R4): key *****-*****-*****-*****-XXXXX is already granted in benefit ben",
    );
    assert_eq!(
        refused(
            &given(vec![]),
            on("2026-01-02", grant("twice", &[("A1", 1), ("A1", 2)]))
        )
        .rule(),
        "R4"
    );
}

#[test]
fn r4_a_key_never_granted_cannot_be_used() {
    let state = given(vec![on("2026-01-01", grant("ben", &[("A1", 10)]))]);
    assert_refused(
        &state,
        on("2026-01-02", redeem("s1", "Q7")),
        "R4",
        "refused (R4): key *****-*****-*****-*****-XXXXX was never granted in any benefit",
    );
}

// ---- R6 a key is redeemed once ----

#[test]
fn r6_a_key_used_twice_is_refused_in_any_subscription() {
    let state = active(100, "2026-01-15");
    for command in [redeem("s2", "A1"), extend("s1", "A1"), add("s1", "A1")] {
        assert_refused(
            &state,
            on("2026-02-01", command),
            "R6",
            "refused (R6): key *****-*****-*****-*****-XXXXX was already used on 2026-01-15 for subscription s1",
        );
    }
}

// ---- R7 benefit expiry ----

#[test]
fn r7_a_key_cannot_be_used_after_its_benefit_expired() {
    let state = given(vec![on(
        "2026-01-01",
        grant_product("ben", O365, "2026-06-30", &[("A1", 10), ("B1", 10)]),
    )]);
    assert!(
        decide(&state, on("2026-06-30", redeem("s1", "A1"))).is_ok(),
        "the expiry date itself is allowed"
    );
    assert_refused(
        &state,
        on("2026-07-01", redeem("s1", "B1")),
        "R7",
        "refused (R7): key *****-*****-*****-*****-XXXXX of benefit ben expired on 2026-06-30, 2026-07-01 is after it",
    );
}

// ---- R8 product match ----

#[test]
fn r8_a_key_of_another_product_is_refused() {
    let state = given(vec![
        on("2026-01-01", grant("ben", &[("A1", 10)])),
        on(
            "2026-01-01",
            grant_product(
                "e5",
                "Office 365 E5",
                "2027-12-31",
                &[("E5", 10), ("F5", 10)],
            ),
        ),
        on("2026-01-15", redeem("s1", "A1")),
    ]);
    let message = "refused (R8): key *****-*****-*****-*****-XXXXX is for 'Office 365 E5', subscription s1 is 'Office 365 E3'";
    assert_refused(&state, on("2026-02-01", extend("s1", "E5")), "R8", message);
    assert_refused(&state, on("2026-02-01", add("s1", "E5")), "R8", message);
    let expired = given(vec![
        on("2026-01-01", grant("ben", &[("A1", 10)])),
        on(
            "2026-01-01",
            grant_product("e5", "Office 365 E5", "2027-12-31", &[("E5", 10)]),
        ),
        on("2026-01-15", redeem("s1", "A1")),
    ]);
    assert_eq!(
        refused(&expired, on("2027-01-20", redeem("s1", "E5"))).rule(),
        "R8"
    );
}

// ---- R9 activation ----

#[test]
fn r9_redeeming_activates_twelve_calendar_months_with_the_key_seats() {
    let state = given(vec![on("2026-01-01", grant("ben", &[("A1", 25)]))]);
    let Event::KeyRedeemed(e) = accepted(&state, on("2026-01-15", redeem("s1", "A1"))) else {
        panic!("expected KeyRedeemed");
    };
    assert_eq!(
        (e.seats.get(), e.on, e.new_end, e.old_end),
        (25, date("2026-01-15"), date("2027-01-15"), None)
    );
    assert_eq!(
        (e.term_months, e.rule, e.reactivated_from),
        (12, OutcomeRule::R9, None)
    );
    assert_eq!(e.product.as_str(), O365);
}

#[test]
fn r9_month_ends_and_leap_days_clamp() {
    for (day, end) in [
        ("2026-01-31", "2027-01-31"),
        ("2028-02-29", "2029-02-28"),
        ("2027-02-28", "2028-02-28"),
    ] {
        let state = given(vec![on(
            "2026-01-01",
            grant_product("ben", O365, "2030-01-01", &[("A1", 5)]),
        )]);
        let event = accepted(&state, on(day, redeem("s1", "A1")));
        assert_eq!(
            benefit_domain::end_change(&event),
            Some((None, date(end))),
            "{day}"
        );
    }
}

// ---- R10 reactivation ----

#[test]
fn r10_an_expired_or_disabled_subscription_is_reactivated_with_a_new_term() {
    // Activated 2026-01-15, ends 2027-01-15: expired 2027-01-15 .. 2027-02-13,
    // disabled 2027-02-14 .. 2027-05-14, deleted from 2027-05-15.
    for (day, status) in [
        ("2027-01-15", Status::Expired),
        ("2027-05-14", Status::Disabled),
    ] {
        let state = active(100, "2026-01-15");
        let Event::KeyRedeemed(e) = accepted(&state, on(day, redeem("s1", "B1"))) else {
            panic!("expected KeyRedeemed");
        };
        assert_eq!(e.reactivated_from, Some(status), "{day}");
        assert_eq!(e.old_end, Some(date("2027-01-15")));
        assert_eq!(e.seats.get(), 25, "the new term has the new key's seats");
        assert_eq!(e.new_end, term_end(day));
    }
}

fn term_end(day: &str) -> Date {
    benefit_domain::term::new_term(date(day))
        .expect("in range")
        .value
}

#[test]
fn r10_an_active_subscription_cannot_be_activated_again() {
    assert_refused(
        &active(100, "2026-01-15"),
        on("2027-01-14", redeem("s1", "B1")),
        "R10",
        "refused (R10): subscription s1 is active on 2027-01-14 (end date 2027-01-15); only a new, expired or disabled subscription can be activated",
    );
}

#[test]
fn r10_a_deleted_subscription_cannot_be_activated() {
    assert_refused(
        &active(100, "2026-01-15"),
        on("2027-05-15", redeem("s1", "B1")),
        "R10",
        "refused (R10): subscription s1 is deleted on 2027-05-15 (end date 2027-01-15); only a new, expired or disabled subscription can be activated",
    );
}

// ---- R11 proration, R12 cap ----

/// The end date after a key of `k` seats extends `a` seats ending 2026-09-30.
fn extended(a: u32, k: u32) -> Result<EndDateExtended, benefit_domain::Refusal> {
    let state = given(vec![
        on("2025-09-01", grant("ben", &[("A1", a), ("K1", k)])),
        on("2025-09-30", redeem("s1", "A1")),
    ]);
    match decide(&state, on("2026-08-01", extend("s1", "K1")))?.remove(0) {
        Event::EndDateExtended(e) => Ok(e),
        other => panic!("expected EndDateExtended, got {other:?}"),
    }
}

#[test]
fn r11_the_articles_scenarios_extend_by_twelve_k_over_a_months() {
    for (a, k, months, new_end, why) in [
        (100, 25, 3, "2026-12-30", "12 x 25 / 100 = 3 months (R11)"),
        (
            100,
            100,
            12,
            "2027-09-30",
            "12 x 100 / 100 = 12 months (R11)",
        ),
        (5, 10, 24, "2028-09-30", "12 x 10 / 5 = 24 months (R11)"),
    ] {
        let e = extended(a, k).expect("accepted");
        assert_eq!(
            (e.months_added, e.days_added, e.new_end),
            (months, 0, date(new_end)),
            "{a}/{k}"
        );
        assert_eq!(
            (e.old_end, e.active_seats.get(), e.key_seats.get()),
            (date("2026-09-30"), a, k)
        );
        let event = Event::EndDateExtended(e);
        assert_eq!(explain(&event).map(|x| x.to_string()), Some(why.into()));
    }
    assert_eq!(extended(100, 301).map_err(|r| r.rule()), Err("R12"));
}

#[test]
fn r11_a_fraction_of_a_month_becomes_days_rounded_half_up() {
    // 12 x 7 / 100 = 0.84 months; 0.84 x 365 / 12 = 25.55 -> 26 days.
    let e = extended(100, 7).expect("accepted");
    assert_eq!(
        (e.months_added, e.days_added, e.new_end),
        (0, 26, date("2026-10-26"))
    );
    assert_eq!(
        explain(&Event::EndDateExtended(e)).map(|x| x.to_string()),
        Some("12 x 7 / 100 = 0.84 months = 0 months + 26 days (R11)".into())
    );
    // 12 x 1 / 8 = 1.5 months: 1 month + 0.5 x 365 / 12 = 15.21 -> 15 days.
    let e = extended(8, 1).expect("accepted");
    assert_eq!((e.months_added, e.days_added), (1, 15));
}

#[test]
fn r11_a_key_too_small_for_half_a_day_extends_by_nothing_and_is_still_used() {
    // 12 x 1 / 10951 = 0.0011 months = 0.03 days, rounded half up to 0.
    let e = extended(10951, 1).expect("accepted");
    assert_eq!((e.months_added, e.days_added, e.new_end), (0, 0, e.old_end));
}

#[test]
fn r12_a_key_of_exactly_three_times_the_seats_adds_three_years() {
    let e = extended(100, 300).expect("k = 3a is allowed");
    assert_eq!(
        (e.months_added, e.days_added, e.new_end),
        (36, 0, date("2029-09-30"))
    );
}

#[test]
fn r12_a_key_of_more_than_three_times_the_seats_is_refused() {
    assert_eq!(
        extended(100, 301).map_err(|r| r.to_string()),
        Err("refused (R12): key of 301 seats is more than 3 x 100 active seats".into())
    );
}

// ---- R13 only active subscriptions are extended ----

#[test]
fn r13_an_expired_subscription_cannot_be_extended() {
    assert_refused(
        &active(100, "2026-01-15"),
        on("2027-01-15", extend("s1", "B1")),
        "R13",
        "refused (R13): subscription s1 is expired on 2027-01-15 (end date 2027-01-15); only an active subscription can be extended",
    );
}

#[test]
fn r13_a_subscription_that_does_not_exist_cannot_be_extended() {
    assert_refused(
        &active(100, "2026-01-15"),
        on("2026-02-01", extend("nope", "B1")),
        "R13",
        "refused (R13): subscription nope does not exist; only an active subscription can be extended",
    );
}

// ---- R14 averaging, R15 less than 12 months, R16 only active ----

/// 100 seats ending 2026-12-31, grown on 2026-07-01 by a key of `c` seats.
fn grown(c: u32) -> LicensesAdded {
    let state = given(vec![
        on("2025-12-01", grant("ben", &[("A1", 100), ("K1", c)])),
        on("2025-12-31", redeem("s1", "A1")),
    ]);
    match accepted(&state, on("2026-07-01", add("s1", "K1"))) {
        Event::LicensesAdded(e) => e,
        other => panic!("expected LicensesAdded, got {other:?}"),
    }
}

#[test]
fn r14_the_worked_example_averages_seat_time() {
    let e = grown(50);
    assert_eq!(
        (
            e.seats_before.get(),
            e.days_left,
            e.key_seats.get(),
            e.term_days
        ),
        (100, 183, 50, 365)
    );
    assert_eq!((e.new_days_left, e.seats_after.get()), (244, 150));
    assert_eq!(
        (e.old_end, e.new_end),
        (date("2026-12-31"), date("2027-03-02"))
    );
    assert_eq!(
        explain(&Event::LicensesAdded(e)).map(|x| x.to_string()),
        Some("(100 x 183 + 50 x 365) / 150 = 243.67 -> 244 days from 2026-07-01 (R14)".into())
    );
}

#[test]
fn r14_term_days_count_a_leap_day() {
    // From 2027-07-01 twelve months end 2028-07-01: 366 days.
    let state = given(vec![
        on("2026-12-01", grant("ben", &[("A1", 10), ("K1", 10)])),
        on("2026-12-31", redeem("s1", "A1")),
    ]);
    let Event::LicensesAdded(e) = accepted(&state, on("2027-07-01", add("s1", "K1"))) else {
        panic!("expected LicensesAdded");
    };
    assert_eq!((e.days_left, e.term_days, e.new_days_left), (183, 366, 275));
}

#[test]
fn r15_adding_licenses_gives_less_than_twelve_months_and_says_how_far_the_end_moved() {
    let e = grown(50);
    let twelve_months = term_end("2026-07-01");
    assert!(
        e.new_end < twelve_months,
        "{} < {}",
        e.new_end,
        twelve_months
    );
    assert_eq!(
        (e.new_end - e.old_end).num_days(),
        61,
        "the end moved 61 days"
    );
}

#[test]
fn r16_an_expired_subscription_cannot_gain_licenses() {
    assert_refused(
        &active(100, "2026-01-15"),
        on("2027-02-20", add("s1", "B1")),
        "R16",
        "refused (R16): subscription s1 is disabled on 2027-02-20 (end date 2027-01-15); only an active subscription can be given licenses",
    );
    assert_eq!(
        refused(&active(100, "2026-01-15"), on("2026-02-20", add("x", "B1"))).rule(),
        "R16"
    );
}

// ---- R20 lifecycle ----

#[test]
fn r20_status_windows_are_30_then_90_days_from_the_end() {
    let end = date("2027-01-15");
    for (day, status) in [
        ("2027-01-14", Status::Active),
        ("2027-01-15", Status::Expired),
        ("2027-02-13", Status::Expired),
        ("2027-02-14", Status::Disabled),
        ("2027-05-14", Status::Disabled),
        ("2027-05-15", Status::Deleted),
        ("2030-01-01", Status::Deleted),
    ] {
        assert_eq!(status_on(end, date(day)), status, "{day}");
    }
}

// ---- R21 benefit expiry is not the subscription end ----

#[test]
fn r21_a_subscription_end_and_its_benefit_expiry_are_kept_apart() {
    let state = active(100, "2026-01-15");
    let benefit_expires = state.benefit(&benefit("ben")).expect("granted").expires;
    assert_eq!(benefit_expires, date("2027-12-31"));
    assert_eq!(end_of(&state, "s1"), date("2027-01-15"));
    let redeemed_from = state.key(&key("A1")).expect("granted").benefit.clone();
    assert_eq!(
        redeemed_from,
        benefit("ben"),
        "the subscription's key leads to its benefit"
    );
}

// ---- R22 no rewriting the past ----

#[test]
fn r22_a_subscription_change_before_its_last_change_is_refused() {
    let state = given(vec![
        on(
            "2026-01-01",
            grant("ben", &[("A1", 100), ("B1", 25), ("C1", 25)]),
        ),
        on("2026-01-15", redeem("s1", "A1")),
        on("2026-03-01", extend("s1", "B1")),
    ]);
    assert_refused(
        &state,
        on("2026-02-28", add("s1", "C1")),
        "R22",
        "refused (R22): subscription s1 was last changed on 2026-03-01, a change on 2026-02-28 would rewrite the past",
    );
    assert!(
        decide(&state, on("2026-03-01", add("s1", "C1"))).is_ok(),
        "the same day is allowed"
    );
}

#[test]
fn r22_a_credit_change_before_its_last_change_is_refused() {
    let state = given(vec![
        on("2026-01-01", grant_monthly("m")),
        on("2026-01-01", register("ann@contoso.com")),
        on("2026-01-01", register("bob@contoso.com")),
        on("2026-03-01", assign("m", "ann@contoso.com")),
    ]);
    assert_refused(
        &state,
        on("2026-02-01", assign("m", "bob@contoso.com")),
        "R22",
        "refused (R22): credit m was last changed on 2026-03-01, a change on 2026-02-01 would rewrite the past",
    );
}

// ---- R30 assignees exist ----

#[test]
fn r30_a_credit_can_only_be_assigned_to_a_registered_user() {
    let state = given(vec![
        on("2026-01-01", grant_monthly("m")),
        on("2026-02-01", register("ann@contoso.com")),
        on(
            "2026-02-01",
            benefit_domain::Action::RegisterUser {
                user: user("guest_fabrikam.com#ext#@contoso.onmicrosoft.com"),
                guest: true,
            },
        ),
    ]);
    assert_refused(
        &state,
        on("2026-02-01", assign("m", "zed@contoso.com")),
        "R30",
        "refused (R30): user zed@contoso.com is not registered in the partner's directory",
    );
    assert_refused(
        &state,
        on("2026-01-15", assign("m", "ann@contoso.com")),
        "R30",
        "refused (R30): user ann@contoso.com is registered from 2026-02-01, not on 2026-01-15",
    );
    assert!(decide(&state, on("2026-02-01", assign("m", "ann@contoso.com"))).is_ok());
    assert!(
        decide(
            &state,
            on(
                "2026-02-01",
                assign("m", "guest_fabrikam.com#ext#@contoso.onmicrosoft.com")
            )
        )
        .is_ok(),
        "a guest counts"
    );
}

// ---- R31 monthly credit ----

fn credits() -> Vec<Command> {
    vec![
        on("2026-01-01", grant_monthly("m")),
        on("2026-01-01", grant_monthly("m2")),
        on("2026-01-01", grant_annual("y")),
        on("2026-01-01", grant_annual("y2")),
        on("2026-01-01", register("ann@contoso.com")),
        on("2026-01-01", register("bob@contoso.com")),
        on("2026-01-01", register("cat@contoso.com")),
    ]
}

fn with(mut history: Vec<Command>, more: Vec<Command>) -> benefit_domain::State {
    history.extend(more);
    given(history)
}

#[test]
fn r31_users_come_and_go_on_a_monthly_credit_several_at_once() {
    let state = with(
        credits(),
        vec![
            on("2026-02-01", assign("m", "ann@contoso.com")),
            on("2026-02-01", assign("m", "bob@contoso.com")),
            on("2026-03-01", unassign("m", "ann@contoso.com")),
            on("2026-04-01", assign("m", "ann@contoso.com")),
        ],
    );
    let holders = &state.credit_holders(&benefit("m")).expect("credit").holders;
    assert_eq!(holders.len(), 2);
    assert_refused(
        &state,
        on("2026-04-01", assign("m", "bob@contoso.com")),
        "R31",
        "refused (R31): user bob@contoso.com already holds credit m",
    );
    assert_refused(
        &state,
        on("2026-04-01", unassign("m", "cat@contoso.com")),
        "R31",
        "refused (R31): user cat@contoso.com does not hold credit m",
    );
}

// ---- R32 annual bulk credit ----

#[test]
fn r32_an_annual_bulk_credit_has_one_holder_and_is_only_transferred() {
    let state = with(
        credits(),
        vec![on("2026-02-01", assign("y", "ann@contoso.com"))],
    );
    assert_refused(
        &state,
        on("2026-02-01", assign("y", "bob@contoso.com")),
        "R32",
        "refused (R32): annual bulk credit y is held by ann@contoso.com; it has one holder at a time and can only be transferred",
    );
    assert_refused(
        &state,
        on("2026-02-01", unassign("y", "ann@contoso.com")),
        "R32",
        "refused (R32): annual bulk credit y cannot be removed, only transferred to another user",
    );
    let Event::CreditTransferred(e) =
        accepted(&state, on("2026-12-31", transfer("y", "bob@contoso.com")))
    else {
        panic!("expected CreditTransferred");
    };
    assert_eq!(
        (e.from, e.to),
        (user("ann@contoso.com"), user("bob@contoso.com"))
    );
}

#[test]
fn r32_a_transfer_outside_the_enrollment_year_is_refused() {
    let state = with(
        credits(),
        vec![on("2026-02-01", assign("y", "ann@contoso.com"))],
    );
    assert_refused(
        &state,
        on("2027-01-01", transfer("y", "bob@contoso.com")),
        "R32",
        "refused (R32): annual bulk credit y can be transferred only during its enrollment year 2026-01-01 to 2026-12-31, not on 2027-01-01",
    );
}

#[test]
fn r32_monthly_credits_are_not_transferred_and_transfers_need_a_holder() {
    let state = with(
        credits(),
        vec![on("2026-02-01", assign("m", "ann@contoso.com"))],
    );
    assert_eq!(
        refused(&state, on("2026-03-01", transfer("m", "bob@contoso.com"))).rule(),
        "R32"
    );
    assert_refused(
        &state,
        on("2026-03-01", transfer("y", "bob@contoso.com")),
        "R32",
        "refused (R32): annual bulk credit y has no holder to transfer from; assign it first",
    );
}

// ---- R33 no combining ----

#[test]
fn r33_a_holder_of_an_annual_bulk_credit_gets_no_other_credit() {
    let state = with(
        credits(),
        vec![on("2026-02-01", assign("y", "ann@contoso.com"))],
    );
    assert_refused(
        &state,
        on("2026-02-01", assign("m", "ann@contoso.com")),
        "R33",
        "refused (R33): user ann@contoso.com holds annual-bulk credit y; an annual bulk credit cannot be combined with another credit (m)",
    );
    assert_eq!(
        refused(&state, on("2026-02-01", assign("y2", "ann@contoso.com"))).rule(),
        "R33"
    );
}

#[test]
fn r33_a_holder_of_any_credit_cannot_be_given_an_annual_bulk_credit() {
    let state = with(
        credits(),
        vec![
            on("2026-02-01", assign("m", "bob@contoso.com")),
            on("2026-02-01", assign("y", "ann@contoso.com")),
        ],
    );
    assert_refused(
        &state,
        on("2026-02-01", assign("y2", "bob@contoso.com")),
        "R33",
        "refused (R33): user bob@contoso.com holds monthly credit m; an annual bulk credit cannot be combined with another credit (y2)",
    );
    assert_eq!(
        refused(&state, on("2026-03-01", transfer("y", "bob@contoso.com"))).rule(),
        "R33"
    );
    assert!(
        decide(&state, on("2026-02-01", assign("m2", "bob@contoso.com"))).is_ok(),
        "monthly + monthly is fine"
    );
}

// ---- R40 outcomes are stored and re-derivable ----

#[test]
fn r40_every_stored_outcome_rederives_from_its_inputs() {
    let events = [
        Event::EndDateExtended(extended(100, 7).expect("accepted")),
        Event::LicensesAdded(grown(50)),
        accepted(
            &given(vec![on("2026-01-01", grant("ben", &[("A1", 5)]))]),
            on("2026-01-31", redeem("s1", "A1")),
        ),
    ];
    for event in &events {
        assert_eq!(rederive(event), Ok(()), "{event:?}");
    }
}

#[test]
fn r40_a_stored_outcome_the_rules_would_not_produce_is_reported() {
    let mut e = extended(100, 25).expect("accepted");
    e.new_end = date("2027-01-30");
    let mismatch = rederive(&Event::EndDateExtended(e)).expect_err("tampered");
    assert_eq!(
        mismatch.to_string(),
        "new_end is 2027-01-30, the rules give 2026-12-30 (R11)"
    );
    let mut g = grown(50);
    g.days_left = 180;
    assert_eq!(
        rederive(&Event::LicensesAdded(g)).map_err(|m| m.to_string()),
        Err("days_left is 180, the rules give 183 (R14)".into())
    );
}

// ---- R41 refusals change nothing (also a property test) ----

#[test]
fn r41_a_refusal_records_nothing_and_names_its_rule() {
    let state = active(100, "2026-01-15");
    let before = state.clone();
    let refusal = refused(&state, on("2026-02-01", extend("s1", "A1")));
    assert_eq!(refusal.rule(), "R6");
    assert!(refusal.to_string().starts_with("refused (R6): "));
    assert_eq!(state, before);
}

// ---- the ledger's own rules (docs/rules.md) ----

#[test]
fn l1_a_benefit_id_is_granted_once() {
    let state = given(vec![on("2026-01-01", grant("ben", &[("A1", 1)]))]);
    assert_refused(
        &state,
        on("2026-01-02", grant("ben", &[("B1", 1)])),
        "L1",
        "refused (L1): benefit ben is already granted",
    );
}

#[test]
fn l2_a_user_is_registered_once() {
    let state = given(vec![on("2026-01-01", register("ann@contoso.com"))]);
    assert_refused(
        &state,
        on("2026-01-02", register("ANN@contoso.com")),
        "L2",
        "refused (L2): user ann@contoso.com is already registered (since 2026-01-01)",
    );
}

#[test]
fn l3_a_benefit_must_make_sense_on_its_own() {
    let empty = given(vec![]);
    assert_refused(
        &empty,
        on("2028-01-01", grant("ben", &[("A1", 1)])),
        "L3",
        "refused (L3): benefit ben expires on 2027-12-31, before it is granted on 2028-01-01",
    );
    assert_eq!(
        refused(&empty, on("2026-01-01", grant("ben", &[]))).rule(),
        "L3"
    );
}

#[test]
fn l4_credit_commands_need_a_credit_benefit() {
    let state = with(
        credits(),
        vec![on("2026-01-01", grant("ben", &[("A1", 1)]))],
    );
    assert_refused(
        &state,
        on("2026-02-01", assign("ben", "ann@contoso.com")),
        "L4",
        "refused (L4): ben is a key benefit, not a credit",
    );
    assert_refused(
        &state,
        on("2026-02-01", assign("nope", "ann@contoso.com")),
        "L4",
        "refused (L4): nope was never granted",
    );
}

#[test]
fn l5_a_key_cannot_be_used_before_its_benefit_was_granted() {
    let state = given(vec![on("2026-03-01", grant("ben", &[("A1", 1)]))]);
    assert_refused(
        &state,
        on("2026-02-01", redeem("s1", "A1")),
        "L5",
        "refused (L5): benefit ben was granted on 2026-03-01, it cannot be used on 2026-02-01",
    );
}

#[test]
fn l6_a_credit_cannot_be_given_after_its_benefit_expired() {
    let state = given(credits());
    assert_refused(
        &state,
        on("2028-01-01", assign("m", "ann@contoso.com")),
        "L6",
        "refused (L6): credit m expired on 2027-12-31, 2028-01-01 is after it",
    );
}

#[test]
fn l7_results_out_of_range_are_refused_not_overflowed() {
    let state = given(vec![on(
        "2026-01-01",
        grant_product("ben", O365, "9999-12-31", &[("A1", 1)]),
    )]);
    assert_refused(
        &state,
        on("9999-06-01", redeem("s1", "A1")),
        "L7",
        "refused (L7): 9999-06-01 + 12 months would be out of range",
    );
    let big = given(vec![
        on("2026-01-01", grant("ben", &[("A1", u32::MAX), ("B1", 1)])),
        on("2026-01-15", redeem("s1", "A1")),
    ]);
    assert_eq!(
        refused(&big, on("2026-02-01", add("s1", "B1"))).rule(),
        "L7"
    );
}

#[test]
fn l8_a_benefit_never_used_is_withdrawn_and_its_keys_may_be_granted_again() {
    let typo = "Office 356 E3";
    let state = given(vec![on(
        "2026-01-01",
        grant_product("typo", typo, "2027-12-31", &[("A1", 10), ("B1", 5)]),
    )]);
    // R8 refuses the mistaken benefit's keys for good.
    let mut history = vec![
        on(
            "2026-01-01",
            grant_product("typo", typo, "2027-12-31", &[("A1", 10), ("B1", 5)]),
        ),
        on("2026-01-02", grant("right", &[("C1", 10)])),
        on("2026-01-03", redeem("s1", "C1")),
    ];
    assert_eq!(
        refused(&given(history.clone()), on("2026-01-04", add("s1", "A1"))).rule(),
        "R8"
    );
    let event = accepted(&state, on("2026-01-05", withdraw("typo")));
    assert_eq!(
        event,
        Event::BenefitWithdrawn(BenefitWithdrawn {
            on: date("2026-01-05"),
            benefit: benefit("typo"),
            reason: Reason::parse("granted for the wrong product").expect("reason"),
        })
    );
    history.push(on("2026-01-05", withdraw("typo")));
    let withdrawn = given(history.clone());
    // Its keys are usable no more, and named so.
    assert_refused(
        &withdrawn,
        on("2026-01-06", add("s1", "A1")),
        "L8",
        &format!(
            "refused (L8): benefit typo was withdrawn on 2026-01-05; key {} can no longer be used",
            key("A1")
        ),
    );
    // They may be granted again, in a benefit of its own (L1 keeps the
    // withdrawn id for the withdrawn grant).
    assert_eq!(
        refused(&withdrawn, on("2026-01-06", grant("typo", &[("A1", 10)]))).rule(),
        "L1"
    );
    history.push(on("2026-01-06", grant("fixed", &[("A1", 10), ("B1", 5)])));
    history.push(on("2026-01-07", add("s1", "A1")));
    let fixed = given(history);
    assert_eq!(
        fixed.key(&key("A1")).map(|k| k.benefit.clone()),
        Some(benefit("fixed"))
    );
    assert_eq!(
        fixed.subscription(&sub("s1")).map(|s| s.seats.get()),
        Some(20)
    );
}

#[test]
fn l8_only_a_granted_benefit_never_used_may_be_withdrawn() {
    let state = given(vec![
        on("2026-01-01", grant("ben", &[("A1", 10), ("B1", 5)])),
        on("2026-01-10", redeem("s1", "A1")),
        on("2026-01-01", grant_monthly("m")),
        on("2026-01-01", register("ann@contoso.com")),
        on("2026-01-02", assign("m", "ann@contoso.com")),
        on("2026-03-01", grant("later", &[("C1", 1)])),
    ]);
    let cases = [
        (
            withdraw("ben"),
            "2026-02-01",
            "refused (L8): benefit ben cannot be withdrawn: one of its keys was used on 2026-01-10; only a benefit never used may be withdrawn",
        ),
        (
            withdraw("m"),
            "2026-02-01",
            "refused (L8): benefit m cannot be withdrawn: its credit was given on 2026-01-02; only a benefit never used may be withdrawn",
        ),
        (
            withdraw("nothing"),
            "2026-02-01",
            "refused (L8): benefit nothing cannot be withdrawn: it was never granted",
        ),
        (
            withdraw("later"),
            "2026-02-01",
            "refused (L8): benefit later cannot be withdrawn: it was granted on 2026-03-01, after 2026-02-01",
        ),
    ];
    for (action, day, message) in cases {
        assert_refused(&state, on(day, action), "L8", message);
    }
    let withdrawn = given(vec![
        on("2026-01-01", grant_monthly("m")),
        on("2026-01-01", register("ann@contoso.com")),
        on("2026-01-02", withdraw("m")),
    ]);
    assert_refused(
        &withdrawn,
        on("2026-01-03", withdraw("m")),
        "L8",
        "refused (L8): benefit m cannot be withdrawn: it was withdrawn on 2026-01-02",
    );
    assert_refused(
        &withdrawn,
        on("2026-01-03", assign("m", "ann@contoso.com")),
        "L8",
        "refused (L8): benefit m was withdrawn on 2026-01-02; its credit can no longer be used",
    );
}
