//! R3 sweep (issue 7): every key of the scenario suite, in every form an
//! operator could type it (hyphenated or not, upper or lower case), is
//! looked for in every report in every format, the log, verify, rebuild,
//! every refusal and error, and every `--help` — and found nowhere but in
//! `export`, the one output allowed to show it.

use std::path::Path;

use super::{TempLedger, ACTOR, REPORTS};

const HELP: [&[&str]; 16] = [
    &["--help"],
    &["append", "--help"],
    &["append", "benefit-granted", "--help"],
    &["append", "user-registered", "--help"],
    &["append", "key-redeemed", "--help"],
    &["append", "licenses-added", "--help"],
    &["append", "end-date-extended", "--help"],
    &["append", "credit-assigned", "--help"],
    &["append", "credit-unassigned", "--help"],
    &["append", "credit-transferred", "--help"],
    &["report", "--help"],
    &["log", "--help"],
    &["export", "--help"],
    &["verify", "--help"],
    &["rebuild", "--help"],
    &["demo", "--help"],
];

/// Every product key written in a scenario file, normalised.
fn keys_in(text: &str) -> Vec<String> {
    let mut keys: Vec<String> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|token| {
            let groups: Vec<&str> = token.split('-').collect();
            groups.len() == 5 && groups.iter().all(|g| g.len() == 5)
        })
        .map(str::to_ascii_uppercase)
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The forms of a key someone could search an output for.
fn forms(key: &str) -> [String; 4] {
    let compact = key.replace('-', "");
    [
        key.to_owned(),
        key.to_ascii_lowercase(),
        compact.to_ascii_lowercase(),
        compact,
    ]
}

#[test]
fn no_output_of_the_scenario_suite_shows_a_whole_key_but_export() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("scenarios")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let (mut outputs, mut keys_checked) = (0usize, 0usize);
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable");
        let keys = keys_in(&text);
        assert!(!keys.is_empty(), "{file:?} has keys");
        let ledger = TempLedger::new();
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut accepted = String::new();
        for line in text.lines().filter(|l| !l.contains("report_on")) {
            if line.contains("\"expect\"") {
                // Refused lines: their error output is swept too.
                let alone: serde_json::Value = serde_json::from_str(line).expect("json");
                let mut alone = alone;
                alone.as_object_mut().expect("object").remove("expect");
                let mut args = ACTOR.to_vec();
                args.extend(["append", "--file", "-"]);
                let input = format!("{accepted}{alone}\n");
                let out = ledger.run_with(&args, Some(&input));
                assert_ne!(out.code, 0, "{line}");
                texts.push((format!("refused {line}"), out.stdout + &out.stderr));
            } else {
                accepted.push_str(line);
                accepted.push('\n');
            }
        }
        let mut args = ACTOR.to_vec();
        args.extend(["append", "--file", "-"]);
        let out = ledger.run_with(&args, Some(&accepted));
        assert_eq!(out.code, 0, "{}", out.stderr);
        texts.push(("import".into(), out.stdout + &out.stderr));
        // A used key again, from flags: the refusal names the key masked.
        let used = &keys[0];
        let mut again = ACTOR.to_vec();
        again.extend([
            "append",
            "key-redeemed",
            "--subscription",
            "again",
            "--key",
            used,
            "--on",
            "2026-06-01",
        ]);
        let out = ledger.run(&again);
        texts.push(("key used again".into(), out.stdout + &out.stderr));
        for report in REPORTS {
            for format in ["table", "json", "csv"] {
                let mut args = report.to_vec();
                args.extend(["--format", format]);
                let out = ledger.run(&args);
                assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
                texts.push((format!("{args:?}"), out.stdout + &out.stderr));
            }
        }
        for args in [
            &["log"][..],
            &["log", "--format", "jsonl"],
            &["verify"],
            &["rebuild"],
        ] {
            let out = ledger.run(args);
            assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
            texts.push((format!("{args:?}"), out.stdout + &out.stderr));
        }
        for args in HELP {
            let out = ledger.run(args);
            texts.push((format!("{args:?}"), out.stdout + &out.stderr));
        }
        for (what, output) in &texts {
            for key in &keys {
                for form in forms(key) {
                    assert!(
                        !output.contains(&form),
                        "R3: {what} shows {form}:\n{output}"
                    );
                }
            }
        }
        // The one exception: export shows every key whole, as R3 allows.
        let export = ledger.run(&["export"]);
        assert_eq!(export.code, 0);
        let exported = keys_in(&export.stdout);
        let used: Vec<&String> = keys.iter().filter(|k| exported.contains(k)).collect();
        assert_eq!(used.len(), keys.len(), "export shows every granted key");
        outputs += texts.len();
        keys_checked += keys.len();
    }
    println!("R3 sweep: {keys_checked} keys x 4 forms looked for in {outputs} outputs; found only in export");
}
