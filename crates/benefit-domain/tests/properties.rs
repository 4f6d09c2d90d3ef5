//! Properties of the rules that must hold for every input, not just the
//! examples: seat-time is conserved (R14), extensions never shorten (R11),
//! `decide` never panics, a refusal changes nothing (R41), and every
//! accepted outcome re-derives from its stored inputs (R40).

mod common;

use benefit_domain::term::{co_term, prorate};
use benefit_domain::{decide, evolve, rederive, Command, State};
use benefit_events::*;
use common::*;
use proptest::prelude::*;

fn day(offset: u32) -> Date {
    date("2000-01-01") + chrono::Days::new(u64::from(offset))
}

proptest! {
    #[test]
    fn r14_co_terming_conserves_seat_time_within_the_rounding(
        a in 1u32..100_000, c in 1u32..100_000, b in 1u32..1_500, start in 0u32..36_500,
    ) {
        let on = day(start);
        let end = on + chrono::Days::new(u64::from(b));
        let co = co_term(a, c, on, end).expect("in range").value;
        let before = i128::from(a) * i128::from(b) + i128::from(c) * i128::from(co.term_days);
        let after = (i128::from(a) + i128::from(c)) * i128::from(co.new_days_left);
        prop_assert!(2 * (before - after).abs() <= i128::from(a) + i128::from(c),
            "A={a} B={b} C={c} T={} new={}", co.term_days, co.new_days_left);
        prop_assert_eq!(co.new_end, on + chrono::Days::new(u64::from(co.new_days_left)));
    }

    #[test]
    fn r11_an_extension_never_moves_the_end_date_backwards(
        a in 1u32..100_000, k in 1u32..300_000, end in 0u32..36_500,
    ) {
        let old_end = day(end);
        match prorate(a, k, old_end) {
            Ok(ext) => {
                prop_assert!(u64::from(k) <= 3 * u64::from(a));
                // Never backwards; a key too small for half a day adds none
                // (12 x 1 / 10951 months is 0.03 days), which is recorded.
                prop_assert!(ext.value.new_end >= old_end);
                prop_assert_eq!(ext.value.new_end == old_end, ext.value.months == 0 && ext.value.days == 0);
                prop_assert!(ext.value.months <= 36);
            }
            Err(refusal) => {
                prop_assert!(u64::from(k) > 3 * u64::from(a));
                prop_assert_eq!(refusal.rule(), "R12");
            }
        }
    }
}

const KEYS: [&str; 8] = ["K0", "K1", "K2", "K3", "K4", "K5", "K6", "K7"];
const USERS: [&str; 3] = ["ann@contoso.com", "bob@contoso.com", "cat@contoso.com"];
const BENEFITS: [&str; 4] = ["b0", "b1", "b2", "b3"];
const SUBS: [&str; 2] = ["s0", "s1"];

/// A random command over small pools of ids, so that commands meet each
/// other's keys, subscriptions and credits often.
fn command() -> impl Strategy<Value = (u8, usize, usize, usize, u32, u32, u32)> {
    (
        0u8..14,
        0usize..8,
        0usize..8,
        0usize..4,
        1u32..400,
        0u32..25,
        0u32..12,
    )
}

fn build(
    (kind, i, j, n, seats_count, step, role): (u8, usize, usize, usize, u32, u32, u32),
    today: Date,
) -> Command {
    let action = match kind {
        0 => grant_product(
            BENEFITS[n],
            if i % 4 == 0 { "Office 365 E5" } else { O365 },
            "2031-01-01",
            &[(KEYS[i], seats_count), (KEYS[j], seats_count / 3 + 1)],
        ),
        1 => {
            if i % 2 == 0 {
                grant_monthly(BENEFITS[n])
            } else {
                grant_annual(BENEFITS[n])
            }
        }
        2 => register(USERS[i % 3]),
        3 | 4 => redeem(SUBS[j % 2], KEYS[i]),
        5 | 6 => extend(SUBS[j % 2], KEYS[i]),
        7 | 8 => add(SUBS[j % 2], KEYS[i]),
        9 | 10 => assign(BENEFITS[n], USERS[i % 3]),
        11 => unassign(BENEFITS[n], USERS[i % 3]),
        _ => transfer(BENEFITS[n], USERS[i % 3]),
    };
    let mut command = Command {
        on: today + chrono::Days::new(u64::from(step)),
        ..on("2026-01-01", action)
    };
    if role == 0 {
        command.actor = None;
    }
    command
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn decide_never_panics_refusals_change_nothing_and_outcomes_rederive(
        steps in proptest::collection::vec(command(), 1..60),
    ) {
        let mut state = State::default();
        let mut today = date("2025-12-01");
        for step in steps {
            let command = build(step, today);
            today = command.on;
            let before = state.clone();
            match decide(&state, command) {
                Ok(events) => {
                    for event in &events {
                        prop_assert_eq!(rederive(event), Ok(()));
                        let read_back = Event::from_json(&event.to_json());
                        prop_assert_eq!(read_back.as_ref(), Ok(event));
                        state = evolve(state, event);
                    }
                }
                Err(refusal) => {
                    prop_assert_eq!(&state, &before);
                    let prefix = format!("refused ({}): ", refusal.rule());
                    prop_assert!(refusal.to_string().starts_with(&prefix), "{}", refusal);
                }
            }
        }
    }
}

#[test]
fn refusing_every_action_kind_is_reachable_from_an_empty_ledger() {
    // A guard on the generator above: on an empty ledger every command but a
    // grant or a registration is refused, so the property exercises refusals.
    let empty = State::default();
    for action in [
        redeem("s0", "K0"),
        extend("s0", "K0"),
        add("s0", "K0"),
        assign("b0", USERS[0]),
    ] {
        let refused: Result<Vec<Event>, _> = decide(&empty, on("2026-01-01", action.clone()));
        assert!(refused.is_err(), "{action:?}");
    }
}
