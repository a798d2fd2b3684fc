//! `input_path` is never looser than asl-validator 4.0.0: paths sfngen accepts, written from its grammar or
//! made of random path characters, render definitions asl-validator accepts (in one run of the real tool);
//! paths asl-validator refuses, sfngen refuses with the byte where they go wrong.

mod common;

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const SPEC: &str =
    "name = \"paths\"\n[[steps]]\nname = \"Send\"\nqueue = \"main\"\ninput_path = INPUT\n[queues.main]\n";

/// The spec with `path` as its step's `input_path` (a TOML literal string when it can be one).
fn spec_with(path: &str) -> String {
    let literal = if path.contains('\'') || path.contains(char::is_control) {
        toml_basic(path)
    } else {
        format!("'{path}'")
    };
    SPEC.replace("INPUT", &literal)
}

fn toml_basic(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The definition AWS would receive for `path`, when sfngen accepts it.
fn definition(path: &str) -> Option<String> {
    let model = sfngen::load_model(&spec_with(path), "sfngen.toml").ok()?;
    Some(common::terraform::deployed_definition(&model).to_string())
}

/// asl-validator's verdict on each definition, in one run.
fn asl_validator_accepts(definitions: &[(String, String)]) -> Vec<bool> {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = common::tool("asl-validator");
    for (i, (_, definition)) in definitions.iter().enumerate() {
        let path = dir.path().join(format!("{i}.asl.json"));
        std::fs::write(&path, definition).unwrap();
        cmd.arg("--json-path").arg(path);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    (0..definitions.len())
        .map(|i| {
            stdout.contains(&format!(
                "\"{}\" is valid",
                dir.path().join(format!("{i}.asl.json")).display()
            ))
        })
        .collect()
}

/// A path written from sfngen's grammar.
fn grammar_path() -> impl Strategy<Value = String> {
    let name = "[a-zA-Z0-9_é中-]{1,6}";
    let text = "[a-z .:$@*?()-]{1,6}";
    let index = "-?[0-9]{1,3}";
    let segment = prop_oneof![
        name.prop_map(|n| format!(".{n}")),
        Just(".*".to_string()),
        name.prop_map(|n| format!("..{n}")),
        Just("..*".to_string()),
        text.prop_map(|t| format!("['{t}']")),
        text.prop_map(|t| format!("[\"{t}\"]")),
        index.prop_map(|i| format!("[{i}]")),
        (index, index).prop_map(|(a, b)| format!("[{a},{b}]")),
        (index, index).prop_map(|(a, b)| format!("[{a}:{b}]")),
        index.prop_map(|i| format!("[{i}:]")),
        index.prop_map(|i| format!("[:{i}]")),
        Just("[*]".to_string()),
    ];
    (prop_oneof![Just("$"), Just("$$")], prop::collection::vec(segment, 0..5))
        .prop_map(|(root, segments)| format!("{root}{}", segments.concat()))
}

/// Random text of path characters, most of which is no path.
fn near_path() -> impl Strategy<Value = String> {
    "\\$[$.\\[\\]'\"*,:0-9a ?()@\\\\-]{0,6}"
}

fn generate(strategy: impl Strategy<Value = String>, cases: u32, seed: u8) -> Vec<String> {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
    );
    let mut out = Vec::new();
    for _ in 0..cases {
        out.push(strategy.new_tree(&mut runner).unwrap().current());
    }
    out
}

#[test]
fn every_grammar_path_is_accepted_by_sfngen() {
    for path in generate(grammar_path(), 500, 1) {
        assert!(
            definition(&path).is_some(),
            "{path:?}: {:?}",
            sfngen::load_model(&spec_with(&path), "sfngen.toml").err()
        );
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn every_path_sfngen_accepts_asl_validator_accepts() {
    // asl-validator takes about 0.3 s of CPU a definition: 40 from the grammar, and the first 40 of 3,000
    // random texts that sfngen accepts.
    let from_grammar = generate(grammar_path(), 40, 2).into_iter();
    let from_noise: BTreeSet<String> = generate(near_path(), 20_000, 3)
        .into_iter()
        .filter(|path| path.len() > 2 && definition(path).is_some())
        .take(40)
        .collect();
    assert!(from_noise.len() >= 20, "{from_noise:?}");
    let accepted: Vec<(String, String)> = from_grammar
        .chain(from_noise)
        .filter_map(|path| definition(&path).map(|d| (path, d)))
        .collect();
    let verdicts = asl_validator_accepts(&accepted);
    let refused: Vec<&str> = accepted
        .iter()
        .zip(&verdicts)
        .filter(|(_, ok)| !**ok)
        .map(|((path, _), _)| path.as_str())
        .collect();
    assert!(refused.is_empty(), "sfngen accepts, asl-validator refuses: {refused:?}");
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn paths_asl_validator_refuses_sfngen_refuses_with_the_byte() {
    // Each refused by asl-validator (checked below, on the definition sfngen would write for it).
    let cases = [
        ("$.order[", 8),
        ("$.a b", 3),
        ("$.a.", 4),
        ("$.", 2),
        ("$.a[0", 5),
        ("$.a,b", 3),
        ("$.a)", 3),
        ("$.a..", 5),
    ];
    let mut forced = Vec::new();
    for (path, at) in cases {
        let errors = sfngen::load_model(&spec_with(path), "sfngen.toml").expect_err(path);
        assert_eq!(errors.len(), 1, "{path}: {errors:?}");
        assert!(
            errors[0].message.contains(&format!("at byte {at},")),
            "{path}: {}",
            errors[0].message
        );
        let valid = sfngen::load_model(&spec_with("$"), "sfngen.toml").unwrap();
        let mut definition = common::terraform::deployed_definition(&valid);
        definition["States"]["Send"]["Parameters"]["MessageBody"]["input.$"] = path.into();
        forced.push((path.to_string(), definition.to_string()));
    }
    let verdicts = asl_validator_accepts(&forced);
    for ((path, _), ok) in forced.iter().zip(verdicts) {
        assert!(!ok, "asl-validator accepts {path:?}: not a case for this test");
    }
}
