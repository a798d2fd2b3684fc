//! The key registry (`sfngen::spec::keys`) against everything that restates it: the JSON Schema's
//! defaults against the defaults resolve applies; every range and list of values against what the
//! binary and the schema (through taplo) refuse; the `sfngen init` starter; the README's key table; the
//! specs the tool tests render.

mod common;

use std::collections::BTreeSet;

use sfngen::spec::keys::{self, Key, Rule, Shape};
use toml::{Table, Value};

/// The smallest spec, with a retrier, a catcher, `[alarms]` and an HMAC endpoint so that their keys have a place.
const SMALLEST: &str = r#"
name = "callback-demo"

[[steps]]
name = "First"
queue = "main"

[[steps.retry]]

[[steps.catch]]
next = "Second"

[[steps]]
name = "Second"
queue = "main"

[[steps]]
name = "Third"
topic = "main"

[[steps]]
name = "Fourth"
bus = "events"

[queues.main]

[topics.main]
subscriptions = [{ endpoint = "arn:aws:sqs:us-east-1:123456789012:main" }]

[buses.events]

[alarms]

[callback]
endpoint = "hmac"
"#;

fn smallest() -> Table {
    toml::from_str(SMALLEST).expect("SMALLEST is TOML")
}

/// Writes `value` at `path` (a registry path) in every table of `spec` that path reaches, creating
/// plain tables on the way. Returns how many places it wrote.
fn write(spec: &mut Table, path: &str, value: &Value) -> usize {
    let Some((head, rest)) = path.split_once('.') else {
        spec.insert(path.to_string(), value.clone());
        return 1;
    };
    let tables: Vec<&mut Table> = if head == "*" {
        spec.iter_mut().filter_map(|(_, v)| v.as_table_mut()).collect()
    } else if let Some(array) = head.strip_suffix("[]") {
        match spec.get_mut(array).and_then(Value::as_array_mut) {
            Some(items) => items.iter_mut().filter_map(Value::as_table_mut).collect(),
            None => Vec::new(),
        }
    } else {
        let entry = spec
            .entry(head.to_string())
            .or_insert_with(|| Value::Table(Table::new()));
        entry.as_table_mut().into_iter().collect()
    };
    tables.into_iter().map(|t| write(t, rest, value)).sum()
}

/// A registry path as a message names its first place: `steps[0].retry[0].attempts`, `queues.main.fifo`.
fn first_place(path: &str) -> String {
    path.replace("[]", "[0]").replace(".*", ".main")
}

fn model_of(spec: &Table) -> Result<sfngen::model::Model, String> {
    let text = toml::to_string(spec).expect("serialises");
    sfngen::load_model(&text, "sfngen.toml").map_err(|d| format!("{text}\n{d:#?}"))
}

/// Every `default` in the JSON Schema, by registry path.
fn schema_defaults(node: &serde_json::Value, path: &str, out: &mut Vec<(String, serde_json::Value)>) {
    if let Some(default) = node.get("default") {
        out.push((path.to_string(), default.clone()));
    }
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    if let Some(properties) = node.get("properties").and_then(|p| p.as_object()) {
        for (key, child) in properties {
            schema_defaults(child, &join(key), out);
        }
    }
    if let Some(items) = node.get("items") {
        schema_defaults(items, &format!("{path}[]"), out);
    }
    if let Some(entries) = node.get("additionalProperties").filter(|a| a.is_object()) {
        schema_defaults(entries, &join("*"), out);
    }
    for alternative in node.get("anyOf").and_then(|a| a.as_array()).into_iter().flatten() {
        if alternative.get("properties").is_some() {
            schema_defaults(alternative, path, out);
        }
    }
}

fn json_to_toml(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Float(n.as_f64().expect("a number")),
        },
        serde_json::Value::Array(items) => Value::Array(items.iter().map(json_to_toml).collect()),
        serde_json::Value::Object(map) => Value::Table(map.iter().map(|(k, v)| (k.clone(), json_to_toml(v))).collect()),
        serde_json::Value::Null => panic!("a schema default is null"),
    }
}

/// A registry default (TOML text) as a value.
fn toml_value(text: &str) -> Value {
    let table: Table = toml::from_str(&format!("v = {text}")).expect("a TOML value");
    table["v"].clone()
}

#[test]
fn the_schema_defaults_are_the_defaults_resolve_applies() {
    let mut defaults = Vec::new();
    schema_defaults(&sfngen::schema::schema(), "", &mut defaults);
    defaults.sort_by(|a, b| a.0.cmp(&b.0));
    let mut registered: Vec<(&str, String)> = keys::KEYS
        .iter()
        .filter_map(|k| k.default_toml().map(|d| (k.path, d)))
        .collect();
    registered.sort();
    assert_eq!(
        defaults.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
        registered.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        "the schema and the registry list different defaults"
    );
    let mut every_default = smallest();
    for ((path, default), (_, registered)) in defaults.iter().zip(&registered) {
        let value = json_to_toml(default);
        assert_eq!(
            value,
            toml_value(registered),
            "{path}: the schema's default is not the registry's"
        );
        assert!(
            write(&mut every_default, path, &value) > 0,
            "{path} has no place in SMALLEST"
        );
    }
    let written = model_of(&every_default).unwrap();
    assert_eq!(
        written,
        model_of(&smallest()).unwrap(),
        "writing every default out changes the model:\n{}",
        toml::to_string(&every_default).unwrap()
    );
}

/// Values just outside what a key allows, and values at its limits.
fn outside_and_limits(key: &Key) -> Option<(Vec<Value>, Vec<Value>)> {
    let seconds = |s: u64| Value::String(format!("{s}s"));
    let integer = |n: i64| Value::Integer(n);
    Some(match key.rule {
        Rule::Duration(k) => {
            let mut outside = vec![seconds(k.max + 1)];
            if k.min > 0 {
                outside.push(seconds(k.min - 1));
            }
            (outside, vec![seconds(k.min), seconds(k.max)])
        }
        Rule::Integer(k) => (
            vec![integer(i64::from(k.min) - 1), integer(i64::from(k.max) + 1)],
            vec![integer(i64::from(k.min)), integer(i64::from(k.max))],
        ),
        Rule::Number(k) => (
            vec![Value::Float(k.min - 0.5), Value::Float(k.max + 0.5)],
            vec![Value::Float(k.min), Value::Float(k.max)],
        ),
        Rule::Choice(k) => (
            vec![Value::String("not-one-of-them".into())],
            k.values.iter().map(|(v, _)| Value::String(v.to_string())).collect(),
        ),
        Rule::Retention(_) => (
            vec![integer(0), integer(2), integer(3654)],
            keys::LOG_RETENTION_DAYS
                .iter()
                .map(|d| integer(i64::from(*d)))
                .collect(),
        ),
        Rule::Table(_) | Rule::Text(_) | Rule::Flag(_) | Rule::ErrorNames => return None,
    })
}

/// The behaviour the registry promises for every key with a range or a list of values: the limits are
/// accepted, and just beyond them the binary exits 2 naming the key, and the schema refuses it too
/// (duration ranges are beyond a JSON Schema pattern).
#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn every_range_and_list_of_values_is_what_the_binary_and_the_schema_enforce() {
    let dir = tempfile::tempdir().unwrap();
    let schema = common::write_schema(dir.path());
    // The longest execution, so that a step's durations can reach their own limits.
    let mut base = smallest();
    write(&mut base, "state_machine.timeout", &Value::String("365d".into()));
    let mut checked = 0;
    for key in keys::KEYS {
        let Some((outside, limits)) = outside_and_limits(key) else {
            continue;
        };
        let place = first_place(key.path);
        for value in limits {
            let mut spec = base.clone();
            write(&mut spec, key.path, &value);
            let text = toml::to_string(&spec).unwrap();
            if let Err(diags) = sfngen::load_model(&text, "sfngen.toml") {
                let about_the_value = diags.iter().find(|d| {
                    d.path == place
                        && ["out of range", "is not a", "unknown"]
                            .iter()
                            .any(|m| d.message.contains(m))
                });
                assert!(
                    about_the_value.is_none(),
                    "{place} = {value} is refused: {about_the_value:?}"
                );
            }
        }
        for value in outside {
            let mut spec = base.clone();
            write(&mut spec, key.path, &value);
            // Not named after the key: taplo reads `[0]` in a file name as a glob.
            let file = dir.path().join(format!("beyond-{checked}.toml"));
            std::fs::write(&file, toml::to_string(&spec).unwrap()).unwrap();
            let out = common::sfngen().arg("check").arg(&file).output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{place} = {value}: {stderr}");
            assert!(
                stderr.contains(&format!("error: {place}: ")),
                "{place} = {value}:\n{stderr}"
            );
            if !matches!(key.rule, Rule::Duration(_)) {
                let taplo = common::taplo_check(&schema, &file);
                assert!(!taplo.status.success(), "the schema accepts {place} = {value}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} values beyond a limit");
}

/// Every key a spec writes, by registry path (tables too), with its value.
fn written_keys(table: &Table, prefix: &str, out: &mut Vec<(String, Value)>) {
    for (name, value) in table {
        let own = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        let path = if keys::find(&own).is_some() {
            own
        } else {
            format!("{prefix}.*")
        };
        out.push((path.clone(), value.clone()));
        let shape = match keys::find(&path).map(|k| k.rule) {
            Some(Rule::Table(table)) => table.shape,
            _ => continue,
        };
        match (shape, value) {
            (Shape::Table | Shape::TableOrFalse | Shape::Map(keys::Entries::Tables { .. }), Value::Table(t)) => {
                written_keys(t, &path, out)
            }
            (Shape::Tables { .. }, Value::Array(items)) => {
                for item in items.iter().filter_map(Value::as_table) {
                    written_keys(item, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }
}

fn written_in(text: &str) -> Vec<(String, Value)> {
    let table: Table = toml::from_str(text).expect("a TOML spec");
    let mut out = Vec::new();
    written_keys(&table, "", &mut out);
    out
}

#[test]
fn the_starter_writes_registered_keys_at_their_defaults() {
    let starter = sfngen::STARTER_SPEC;
    for (path, value) in written_in(starter) {
        let key = keys::find(&path).unwrap_or_else(|| panic!("the starter writes {path}, which is not a key"));
        // A table's default is empty; the starter shows what goes in it.
        if let Some(default) = key.default_toml().filter(|_| !matches!(key.rule, Rule::Table(_))) {
            assert_eq!(
                value,
                toml_value(&default),
                "the starter sets {path} to something else than its default"
            );
        }
    }
    assert_comments_match_the_registry(starter);
}

/// The registry path of a table header line (`[queues.main]`: `queues.*`; `[[steps.retry]]`:
/// `steps[].retry[]`), or `None` for any other line.
fn table_path(line: &str) -> Option<String> {
    let header = line.strip_prefix('[')?.split(']').next()?.trim_start_matches('[');
    let mut path = String::new();
    for part in header.split('.') {
        let join = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            }
        };
        path = match keys::find(&join(part)) {
            Some(_) => join(part),
            None => join("*"),
        };
        if let Some(Rule::Table(table)) = keys::find(&path).map(|k| k.rule)
            && matches!(table.shape, Shape::Tables { .. })
        {
            path.push_str("[]");
        }
    }
    Some(path)
}

/// The comments on assignments list the values and limits the registry has (`# OFF | ALL | ...`,
/// `at most "20s"`).
fn assert_comments_match_the_registry(text: &str) {
    let mut table = String::new();
    for line in text.lines() {
        if let Some(path) = table_path(line) {
            table = path;
            continue;
        }
        let Some((assignment, comment)) = line.split_once(" # ") else {
            continue;
        };
        let Some((name, _)) = assignment.split_once(" = ") else {
            continue;
        };
        let path = match table.as_str() {
            "" => name.trim().to_string(),
            table => format!("{table}.{}", name.trim()),
        };
        match keys::find(&path).map(|k| k.rule) {
            Some(Rule::Choice(choice)) => {
                let listed: Vec<&str> = comment.trim().split(" | ").collect();
                let values: Vec<&str> = choice.values.iter().map(|(v, _)| *v).collect();
                assert_eq!(listed, values, "the starter's comment on {path}");
            }
            Some(Rule::Duration(duration)) => {
                if let Some((_, most)) = comment.split_once("at most ") {
                    let most = most.trim().trim_matches('"');
                    assert_eq!(
                        most,
                        sfngen::duration::format_seconds(duration.max),
                        "the starter's comment on {path}"
                    );
                }
            }
            _ => {}
        }
    }
}

/// The starter with its commented-out examples uncommented: a comment line that is TOML (`# [alarms]`,
/// `# [[steps.retry]]`, `# attempts = 3  # MaxAttempts`) becomes that line; prose stays a comment.
fn uncommented(starter: &str) -> String {
    starter
        .lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if rest.starts_with('[') => rest,
            Some(rest)
                if rest
                    .split_once(" = ")
                    .is_some_and(|(key, _)| key.chars().all(|c| c.is_ascii_lowercase() || c == '_')) =>
            {
                rest
            }
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The starter shows retry, catch, alarms and logs in comments: uncommented, they are registered keys
/// with the registry's values in their comments, and the spec is valid without a warning.
#[test]
fn the_starters_commented_examples_are_registered_and_valid() {
    let examples = uncommented(sfngen::STARTER_SPEC);
    let written: BTreeSet<String> = written_in(&examples).into_iter().map(|(path, _)| path).collect();
    for path in &written {
        assert!(
            keys::find(path).is_some(),
            "the starter's examples write {path}, which is not a key"
        );
    }
    let plain: BTreeSet<String> = written_in(sfngen::STARTER_SPEC)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    for shown in [
        "steps[].retry",
        "steps[].retry[].errors",
        "steps[].catch",
        "steps[].catch[].fail",
        "alarms",
        "logs.encryption",
    ] {
        assert!(written.contains(shown), "the starter does not show {shown}");
        assert!(
            !plain.contains(shown),
            "{shown} is on in the starter: it should be a commented example"
        );
    }
    assert_comments_match_the_registry(&examples);
    let (model, warnings) = sfngen::check_source(&examples, "sfngen.toml")
        .unwrap_or_else(|d| panic!("the starter's examples are not a valid spec: {d:#?}"));
    assert!(warnings.is_empty(), "{warnings:#?}");
    assert_eq!(model.steps[0].retry.len(), 1);
}

/// `SFNGEN_BLESS=1 cargo test --test keys` writes the registry's table into the README.
#[test]
fn the_readme_key_table_is_the_registry() {
    let path = common::root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let table = keys::markdown_table();
    let header = table.lines().next().unwrap();
    let start = readme
        .find(&format!("\n{header}\n"))
        .map(|i| i + 1)
        .expect("README.md has no key table");
    let end = readme[start..]
        .find("\n\n")
        .map(|i| start + i + 1)
        .unwrap_or(readme.len());
    if std::env::var_os("SFNGEN_BLESS").is_some() {
        std::fs::write(&path, format!("{}{table}{}", &readme[..start], &readme[end..])).unwrap();
        return;
    }
    assert_eq!(
        readme[start..end],
        table,
        "README.md's key table is not the registry's: SFNGEN_BLESS=1 cargo test --test keys rewrites it"
    );
}

#[test]
fn every_key_is_written_by_a_spec_that_the_tool_tests_render() {
    let mut written = BTreeSet::new();
    for spec in common::all_specs() {
        let text = std::fs::read_to_string(&spec).unwrap();
        written.extend(written_in(&text).into_iter().map(|(path, _)| path));
    }
    let missing: Vec<&str> = keys::KEYS
        .iter()
        .map(|k| k.path)
        .filter(|path| !written.contains(*path))
        .collect();
    assert!(missing.is_empty(), "no rendered spec writes {missing:?}");
}
