//! A module every environment can run: what teams change per environment is an input (a Terraform variable)
//! whose default is the spec's value, read here from the spec file itself (a key left out: the registry's
//! default), validated by the key's rule, and read by the resource it sets (the README's inputs table is
//! `variables.tf`'s: tests/readme_tables.rs). Terraform itself proves the validations and the plans
//! (tests/engine).

mod common;

use std::path::Path;

use hcl::{Block, Body};
use sfngen::duration::parse_seconds;
use sfngen::spec::keys;

/// A rendered module's blocks, by kind and labels.
struct Module {
    blocks: Vec<Block>,
}

impl Module {
    fn of(spec: &Path) -> Module {
        let files = common::render(spec);
        let mut blocks = Vec::new();
        for (_, source) in common::tf_files(&files) {
            let body: Body = hcl::parse(&source).expect("parses");
            blocks.extend(body.blocks().cloned());
        }
        Module { blocks }
    }

    fn block(&self, kind: &str, labels: &[&str]) -> Option<&Block> {
        self.blocks
            .iter()
            .find(|b| b.identifier() == kind && b.labels().iter().map(|l| l.as_str()).eq(labels.iter().copied()))
    }

    fn variable(&self, name: &str) -> &Block {
        self.block("variable", &[name])
            .unwrap_or_else(|| panic!("no variable {name:?}"))
    }

    fn variables(&self) -> Vec<&Block> {
        self.blocks.iter().filter(|b| b.identifier() == "variable").collect()
    }

    fn resource(&self, type_name: &str, name: &str) -> &Block {
        self.block("resource", &[type_name, name])
            .unwrap_or_else(|| panic!("no resource {type_name}.{name}"))
    }
}

fn attr(block: &Block, key: &str) -> Option<String> {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| hcl::format::to_string(a.expr()).expect("formats"))
}

/// A value of the spec at `table.key`, as TOML.
fn spec_value<'t>(spec: &'t toml::Table, table: &str, key: &str) -> Option<&'t toml::Value> {
    spec.get(table)?.as_table()?.get(key)
}

/// What a per-environment input must be: its name, its type, its default as HCL, and the resource
/// attribute that reads it (`None`: read elsewhere, checked by tests/security.rs).
struct Expected {
    name: String,
    ty: &'static str,
    default: String,
    read_by: Option<(&'static str, &'static str, &'static str)>,
}

/// The inputs a spec's module must have, with the spec's values (or the registry's defaults).
fn expected_inputs(spec: &toml::Table) -> Vec<Expected> {
    let text = |table, key, default: &str| {
        spec_value(spec, table, key)
            .map(|v| v.as_str().expect("a string").to_string())
            .unwrap_or_else(|| default.to_string())
    };
    let number = |table, key, default: Option<i64>| {
        spec_value(spec, table, key)
            .map(|v| v.as_integer().expect("an integer"))
            .or(default)
            .map_or("null".to_string(), |n| n.to_string())
    };
    let flag = |table, key| {
        spec_value(spec, table, key)
            .map(|v| v.as_bool().expect("a bool"))
            .unwrap_or(false)
            .to_string()
    };
    let timeout = text(
        "callback",
        "timeout",
        &keys::CALLBACK_TIMEOUT
            .rule
            .default
            .map(sfngen::duration::format_seconds)
            .unwrap(),
    );
    let integer_default = |key: keys::Key<keys::Integer>| key.rule.default.map(i64::from);
    let retention =
        |table, key: keys::Key<keys::Retention>| number(table, "log_retention_days", Some(i64::from(key.rule.default)));
    let mut inputs = vec![
        Expected {
            name: "log_level".into(),
            ty: "string",
            default: format!("{:?}", text("state_machine", "log_level", keys::LOG_LEVEL.rule.default)),
            read_by: None,
        },
        Expected {
            name: "include_execution_data".into(),
            ty: "bool",
            default: flag("state_machine", "include_execution_data"),
            read_by: None,
        },
        Expected {
            name: "tracing".into(),
            ty: "bool",
            default: flag("state_machine", "tracing"),
            read_by: None,
        },
        Expected {
            name: "state_machine_log_retention_days".into(),
            ty: "number",
            default: retention("state_machine", keys::STATE_MACHINE_LOG_RETENTION),
            read_by: Some(("aws_cloudwatch_log_group", "state_machine", "retention_in_days")),
        },
        Expected {
            name: "callback_memory_mb".into(),
            ty: "number",
            default: number("callback", "memory_mb", integer_default(keys::MEMORY_MB)),
            read_by: Some(("aws_lambda_function", "callback", "memory_size")),
        },
        Expected {
            name: "callback_timeout_seconds".into(),
            ty: "number",
            default: parse_seconds(&timeout).expect("a duration").to_string(),
            read_by: Some(("aws_lambda_function", "callback", "timeout")),
        },
        Expected {
            name: "callback_reserved_concurrency".into(),
            ty: "number",
            default: number(
                "callback",
                "reserved_concurrency",
                integer_default(keys::RESERVED_CONCURRENCY),
            ),
            read_by: Some(("aws_lambda_function", "callback", "reserved_concurrent_executions")),
        },
        Expected {
            name: "callback_log_retention_days".into(),
            ty: "number",
            default: retention("callback", keys::CALLBACK_LOG_RETENTION),
            read_by: Some(("aws_cloudwatch_log_group", "callback", "retention_in_days")),
        },
    ];
    // A spec whose steps use topics or buses only has no [queues].
    let queues = spec
        .get("queues")
        .and_then(|q| q.as_table())
        .cloned()
        .unwrap_or_default();
    for (key, queue) in &queues {
        let encryption = queue.get("encryption").and_then(|e| e.as_str()).unwrap_or("sqs");
        let kind = match encryption {
            "sqs" | "kms" => continue,
            alias if alias.starts_with("alias/") => "alias",
            _ => "arn",
        };
        inputs.push(Expected {
            name: format!("{}_queue_kms_key_{kind}", key.replace('-', "_")),
            ty: "string",
            default: format!("{encryption:?}"),
            read_by: None,
        });
    }
    let empty = toml::Table::new();
    // A topic's key given by ARN or alias: its own input, which the topic's kms_master_key_id reads.
    for (key, topic) in spec.get("topics").and_then(|t| t.as_table()).unwrap_or(&empty) {
        let encryption = topic.get("encryption").and_then(|e| e.as_str()).unwrap_or("sns");
        let kind = match encryption {
            "sns" | "kms" => continue,
            alias if alias.starts_with("alias/") => "alias",
            _ => "arn",
        };
        inputs.push(Expected {
            name: format!("{}_topic_kms_key_{kind}", key.replace('-', "_")),
            ty: "string",
            default: format!("{encryption:?}"),
            read_by: None,
        });
    }
    inputs
}

#[test]
fn every_per_environment_setting_is_an_input_defaulting_to_the_spec() {
    let mut external_keys = 0;
    for spec_path in common::all_specs() {
        let label = common::spec_label(&spec_path);
        let spec: toml::Table = std::fs::read_to_string(&spec_path).unwrap().parse().unwrap();
        let m = Module::of(&spec_path);
        for expected in expected_inputs(&spec) {
            let name = &expected.name;
            let variable = m.variable(name);
            assert_eq!(attr(variable, "type").as_deref(), Some(expected.ty), "{label}: {name}");
            assert_eq!(
                attr(variable, "default").as_deref(),
                Some(expected.default.as_str()),
                "{label}: {name}"
            );
            let description = attr(variable, "description").unwrap();
            assert!(
                description.contains("Defaults to the spec's "),
                "{label}: {name}: {description}"
            );
            // Null means "unset" for reserved concurrency (unreserved); for every other one, the default.
            let null_is_a_value = name == "callback_reserved_concurrency";
            assert_eq!(
                attr(variable, "nullable").as_deref(),
                (!null_is_a_value).then_some("false"),
                "{label}: {name}"
            );
            let validations: Vec<&Block> = variable
                .body()
                .blocks()
                .filter(|b| b.identifier() == "validation")
                .collect();
            if expected.ty == "bool" {
                assert!(validations.is_empty(), "{label}: {name}: a bool needs no validation");
            } else {
                assert_eq!(validations.len(), 1, "{label}: {name}");
                let message = attr(validations[0], "error_message").unwrap();
                assert!(
                    message.starts_with(&format!("\"Invalid {name}: ")),
                    "{label}: {message}"
                );
                assert!(
                    attr(validations[0], "condition")
                        .unwrap()
                        .contains(&format!("var.{name}")),
                    "{label}: {name}"
                );
            }
            if let Some((type_name, resource, attribute)) = expected.read_by {
                assert_eq!(
                    attr(m.resource(type_name, resource), attribute),
                    Some(format!("var.{name}")),
                    "{label}: {type_name}.{resource}.{attribute}"
                );
            }
            if name.contains("_queue_kms_key_") {
                external_keys += 1;
                assert_key_input_is_read(&label, &m, &spec, name);
            }
            if let Some((topic, _)) = name.split_once("_topic_kms_key_") {
                // The topic and its dead-letter queue are encrypted with it.
                let reference = format!("var.{name}");
                let key = topic.replace('_', "-");
                assert_eq!(
                    attr(m.resource("aws_sns_topic", &key), "kms_master_key_id").as_deref(),
                    Some(reference.as_str()),
                    "{label}: {name}"
                );
                if let Some(dlq) = m.block("resource", &["aws_sqs_queue", &format!("{key}_topic_dlq")]) {
                    assert_eq!(
                        attr(dlq, "kms_master_key_id").as_deref(),
                        Some(reference.as_str()),
                        "{label}: {name}"
                    );
                }
            }
        }
    }
    assert!(external_keys >= 3, "expected specs with keys given by ARN and by alias");
}

/// A queue's key input is its (and its dead-letter queue's) `kms_master_key_id`, and an alias is looked
/// up from it; no key ARN or alias is written anywhere else.
fn assert_key_input_is_read(label: &str, m: &Module, spec: &toml::Table, name: &str) {
    let key = spec["queues"]
        .as_table()
        .unwrap()
        .keys()
        .find(|k| name.starts_with(&format!("{}_queue_kms_key_", k.replace('-', "_"))))
        .unwrap();
    let reference = format!("var.{name}");
    let queue = m.resource("aws_sqs_queue", key);
    assert_eq!(
        attr(queue, "kms_master_key_id").as_deref(),
        Some(reference.as_str()),
        "{label}"
    );
    if let Some(dlq) = m.block("resource", &["aws_sqs_queue", &format!("{key}_dlq")]) {
        assert_eq!(
            attr(dlq, "kms_master_key_id").as_deref(),
            Some(reference.as_str()),
            "{label}"
        );
    }
    if name.ends_with("_alias") {
        let lookup = m.block("data", &["aws_kms_alias", key]).expect("an alias lookup");
        assert_eq!(attr(lookup, "name").as_deref(), Some(reference.as_str()), "{label}");
    }
}

#[test]
fn a_spec_with_logging_and_tracing_off_still_lets_an_input_turn_them_on() {
    // The quiet spec logs nothing and traces nothing; its module keeps the log group (at every log level: OFF
    // keeps its logs), grants log delivery (and, as its executions are encrypted with a key of the caller's, that
    // key for log deliveries) at every level, so that turning logging on changes the state machine alone, and
    // keeps the X-Ray statements behind the tracing input.
    let spec = common::root().join("tests/data/specs/quiet-x86.toml");
    let m = Module::of(&spec);
    assert_eq!(attr(m.variable("log_level"), "default").as_deref(), Some("\"OFF\""));
    assert_eq!(attr(m.variable("tracing"), "default").as_deref(), Some("false"));
    let group = m.resource("aws_cloudwatch_log_group", "state_machine");
    assert_eq!(attr(group, "count"), None);
    let machine = m.resource("aws_sfn_state_machine", "this");
    let logging = machine
        .body()
        .blocks()
        .find(|b| b.identifier() == "logging_configuration")
        .unwrap();
    assert_eq!(
        attr(logging, "log_destination").as_deref(),
        Some("local.execution_logging ? \"${aws_cloudwatch_log_group.state_machine.arn}:*\" : null")
    );
    let policy = m.block("data", &["aws_iam_policy_document", "state_machine"]).unwrap();
    let dynamic: Vec<(String, String)> = policy
        .body()
        .blocks()
        .filter(|b| b.identifier() == "dynamic")
        .map(|b| {
            let content = b.body().blocks().find(|c| c.identifier() == "content").unwrap();
            (attr(content, "sid").unwrap(), attr(b, "for_each").unwrap())
        })
        .collect();
    assert_eq!(
        dynamic,
        [("\"SendTraces\"".to_string(), "var.tracing ? [1] : []".to_string())]
    );
    let sids: Vec<String> = policy
        .body()
        .blocks()
        .filter(|b| b.identifier() == "statement")
        .filter_map(|b| attr(b, "sid"))
        .collect();
    for always in ["\"EncryptExecutionLogs\"", "\"DeliverExecutionLogs\""] {
        assert!(
            sids.iter().any(|s| s == always),
            "{always} not granted at every level: {sids:?}"
        );
    }
}

#[test]
fn the_visibility_guard_rail_follows_the_callback_timeout_input() {
    // sfngen warns at render time when a queue's visibility timeout is shorter than the callback's timeout;
    // the module keeps that warning for every environment as a `check`, one assert per queue.
    for spec_path in common::all_specs() {
        let label = common::spec_label(&spec_path);
        let spec: toml::Table = std::fs::read_to_string(&spec_path).unwrap().parse().unwrap();
        let m = Module::of(&spec_path);
        let Some(queues) = spec.get("queues").and_then(|q| q.as_table()) else {
            // Terraform refuses a check without an assert: without queues there is none.
            assert!(
                m.block("check", &["callback_timeout_fits_queue_visibility"]).is_none(),
                "{label}: a visibility check without queues"
            );
            continue;
        };
        let check = m
            .block("check", &["callback_timeout_fits_queue_visibility"])
            .unwrap_or_else(|| panic!("{label}: no visibility check"));
        let mut conditions: Vec<String> = check
            .body()
            .blocks()
            .filter(|b| b.identifier() == "assert")
            .map(|a| attr(a, "condition").unwrap())
            .collect();
        let default_visibility = keys::VISIBILITY_TIMEOUT.rule.default.unwrap();
        let mut expected: Vec<String> = queues
            .values()
            .map(|queue| {
                let visibility = queue
                    .get("visibility_timeout")
                    .map(|v| parse_seconds(v.as_str().unwrap()).unwrap())
                    .unwrap_or(default_visibility);
                format!("var.callback_timeout_seconds <= {visibility}")
            })
            .collect();
        conditions.sort();
        expected.sort();
        assert_eq!(conditions, expected, "{label}");
    }
}

#[test]
fn a_callers_null_means_the_default_unless_null_is_a_value_of_its_own() {
    // `x = var.env == "prod" ? ... : null` must leave x at its default: `nullable = false` on every input but
    // those whose null means something (reserved concurrency: unreserved; a boundary or a package: none, the
    // module's own, which is also their default) and `name`, whose null fails its validation instead of
    // silently taking the spec's name. So `tags` and `alarm_actions` always hold a map and a list.
    let null_is_a_value = [
        "name",
        "permissions_boundary",
        "callback_lambda_zip",
        "callback_reserved_concurrency",
        // null: the alias routes to the version the last apply published.
        "state_machine_version",
    ];
    let mut alarm_actions = 0;
    for spec_path in common::all_specs() {
        let label = common::spec_label(&spec_path);
        let m = Module::of(&spec_path);
        for variable in m.variables() {
            let name = variable.labels()[0].as_str();
            let nullable = attr(variable, "nullable");
            if null_is_a_value.contains(&name) {
                assert_eq!(nullable, None, "{label}: {name}");
                continue;
            }
            assert_eq!(nullable.as_deref(), Some("false"), "{label}: {name}");
            let default = attr(variable, "default").unwrap();
            assert_ne!(default, "null", "{label}: {name}: null would mean its own default");
        }
        assert_eq!(attr(m.variable("tags"), "default").as_deref(), Some("{}"), "{label}");
        if m.block("variable", &["alarm_actions"]).is_some() {
            assert_eq!(
                attr(m.variable("alarm_actions"), "default").as_deref(),
                Some("[]"),
                "{label}"
            );
            alarm_actions += 1;
        }
    }
    assert!(alarm_actions >= 2);
}
