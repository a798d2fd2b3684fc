//! The limits table, the way it will be judged: generated specs near every limit (names and keys at their longest
//! and colliding, thousands of steps, a hundred-odd queues, dozens of topics, buses with the longest event source,
//! step names that share 72 characters, a hundred Fail
//! catches on a step, retries at their most, tags by the fifty with keys differing in case, static fields near
//! 256 KiB, alarms near their evaluation range). Whenever `sfngen check` says a spec is valid, every value the
//! rendered module derives is measured here, from the rendered files themselves (names from the `.tf` text with
//! the longest `name`, the definition through this file's own `templatefile()` with the longest queue URLs, each
//! task's parameters from the ASL), and must be within its row of `sfngen::limits::TABLE`; every row must be
//! measured by some case, so a limit added to the table without a check here fails the test.
//!
//! The policy documents are measured with `sfngen::iam_json`, which `tests/policy_sizes.rs` holds to what the real
//! Terraform and provider render; their layout (which statements sit in which policy, how many are attached) is
//! read from the rendered `iam.tf`.

mod common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;
use sfngen::iam_json::{self, ArnParts};
use sfngen::limits::{self, Limit};
use sfngen::model::{BusName, Channel};

/// A generated spec near the limits.
#[derive(Debug, Clone)]
struct Near {
    name: String,
    queues: Vec<NearQueue>,
    /// SNS topics: `(key, fifo, encryption)`.
    topics: Vec<(String, bool, &'static str)>,
    /// EventBridge buses: `(key, name, source)`, the name `default` or left out, the source at its longest or
    /// left out.
    buses: Vec<(String, Option<&'static str>, Option<String>)>,
    steps: Vec<NearStep>,
    tags: Vec<(String, String)>,
    /// `(period in minutes, evaluation_periods)`, when `[alarms]` is present.
    alarms: Option<(u64, u32)>,
    /// A last step on an EventBridge bus, when present.
    bus: Option<NearBus>,
    /// Approvals (every other step an approval step) and an endpoint, when present: `true` for an HMAC endpoint
    /// (whose secret the module creates), `false` for SigV4.
    answers: Option<bool>,
}

/// An EventBridge bus and the step that puts its task there: names near the rule's 64 characters, a source and a
/// detail type at their longest, and a static field near a PutEvents entry's 256 KB.
#[derive(Debug, Clone)]
struct NearBus {
    key: String,
    /// `name = "default"`: the account's default bus; else a bus the module creates.
    default: bool,
    source_chars: usize,
    detail_type_chars: usize,
    dead_letter: bool,
    /// Bytes of one static message field, when present.
    message_bytes: Option<usize>,
}

fn bus() -> impl Strategy<Value = NearBus> {
    (
        resource_name(),
        any::<bool>(),
        prop::sample::select(vec![1usize, 40, 256]),
        prop::sample::select(vec![1usize, 30, 128]),
        any::<bool>(),
        prop_oneof![3 => Just(None), 1 => (259_000usize..262_200).prop_map(Some)],
    )
        .prop_map(
            |(key, default, source_chars, detail_type_chars, dead_letter, message_bytes)| NearBus {
                key,
                default,
                source_chars,
                detail_type_chars,
                dead_letter,
                message_bytes,
            },
        )
}

#[derive(Debug, Clone)]
struct NearQueue {
    key: String,
    fifo: bool,
    encryption: &'static str,
    dead_letter: &'static str,
}

#[derive(Debug, Clone)]
struct NearStep {
    name: String,
    /// Index into [`Near::queues`].
    queue: usize,
    /// Sends through this topic or bus (`topic`/`bus`, index into [`Near::topics`]/[`Near::buses`]) instead.
    other_channel: Option<(&'static str, usize)>,
    /// Bytes of one static message field, when present.
    message_bytes: Option<usize>,
    /// `MaxAttempts` of each retrier.
    retries: Vec<u32>,
    /// Fail catches: `(errors, Fail error)`.
    fails: usize,
    /// `for_each`, with `max_items` (unset: as many as a state input holds) and failures tolerated.
    fan_out: Option<(Option<u32>, bool)>,
}

/// A `name` or queue key: often at its 32 characters.
fn resource_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z][a-z0-9]{0,6}",
        2 => "[a-z][a-z0-9-]{30}[a-z0-9]",
        1 => Just("n".repeat(32)),
    ]
    .prop_filter("no -- ending", |s| !s.ends_with('-'))
}

/// A step name: short, at 80 characters, sharing 72 of them with another, non-ASCII.
fn step_name(index: usize, shared: String) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => Just(format!("Step {index}")),
        1 => Just(format!("{shared}{:0>8}", index)),
        1 => "[a-zA-Zé日✓ _.()-]{70,80}".prop_map(move |s| {
            let mut name: String = s.chars().take(80 - index.to_string().len()).collect();
            name.push_str(&index.to_string());
            name
        }),
    ]
}

fn queue() -> impl Strategy<Value = NearQueue> {
    (
        resource_name(),
        any::<bool>(),
        prop::sample::select(vec![
            "sqs",
            "kms",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/shared",
        ]),
        prop::sample::select(vec![
            "",
            "dead_letter = false\n",
            "dead_letter = { fail_execution = false }\n",
        ]),
    )
        .prop_map(|(key, fifo, encryption, dead_letter)| NearQueue {
            key,
            fifo,
            encryption,
            dead_letter,
        })
}

/// A topic: `(key, fifo, encryption)`.
fn near_topic() -> impl Strategy<Value = (String, bool, &'static str)> {
    (
        resource_name(),
        any::<bool>(),
        prop::sample::select(vec![
            "sns",
            "kms",
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "alias/shared",
        ]),
    )
}

/// A bus: `(key, name, source)`.
fn near_bus() -> impl Strategy<Value = (String, Option<&'static str>, Option<String>)> {
    (
        resource_name(),
        prop::option::of(Just("default")),
        prop::option::of(prop_oneof![
            Just("s".repeat(keys_max_source())),
            "[a-z]{1,10}\\.[a-z]{1,10}"
        ]),
    )
}

/// Topics and buses beside the queues: mostly none, sometimes a few, now and then dozens of topics.
#[allow(clippy::type_complexity)]
fn topics_and_buses() -> impl Strategy<
    Value = (
        Vec<(String, bool, &'static str)>,
        Vec<(String, Option<&'static str>, Option<String>)>,
    ),
> {
    (
        prop_oneof![3 => Just(0usize), 1 => 1usize..4, 1 => 20usize..40],
        prop_oneof![3 => Just(0usize), 1 => 1usize..4],
    )
        .prop_flat_map(move |(topics, buses)| {
            (
                prop::collection::vec(near_topic(), topics),
                prop::collection::vec(near_bus(), buses),
            )
        })
        .prop_map(|(mut topics, mut buses)| {
            let mut seen = BTreeSet::new();
            topics.retain(|t| seen.insert(t.0.clone()));
            let mut seen = BTreeSet::new();
            buses.retain(|b| seen.insert(b.0.clone()));
            (topics, buses)
        })
}

/// The longest event source EventBridge takes.
fn keys_max_source() -> usize {
    sfngen::spec::keys::MAX_EVENT_SOURCE_CHARS
}

/// One step's settings; the spec picks the step (if any) that is near a limit.
fn near() -> impl Strategy<Value = Near> {
    let queue_count = prop_oneof![6 => 1usize..4, 2 => 20usize..60, 1 => 100usize..140];
    let step_count = prop_oneof![8 => 1usize..6, 2 => 40usize..90, 1 => 2_400usize..3_100];
    let tags = prop_oneof![
        6 => prop::collection::vec(("[a-z]{1,6}", "[a-z]{0,4}"), 0..3),
        1 => prop::collection::vec(("[a-z]{8}", "[a-z]{0,4}"), 46..51),
        1 => prop::collection::vec(("[a-zA-Z]{2}", "[a-z]{0,4}"), 2..6),
        1 => Just(vec![("managedby".to_string(), "x".to_string())]),
    ];
    let alarms = prop::option::of((
        prop::sample::select(vec![1u64, 5, 59, 60, 1440]),
        prop::sample::select(vec![1u32, 24, 100]),
    ));
    // At most one step near a limit: a static field near 256 KiB, a hundred-odd Fail catches, retries at their
    // most.
    let extreme = prop_oneof![
        4 => Just((None, 0usize, vec![])),
        1 => (255_000usize..262_500).prop_map(|bytes| (Some(bytes), 0, vec![])),
        1 => (95usize..120).prop_map(|fails| (None, fails, vec![])),
        1 => prop::collection::vec(90u32..=99, 1..4).prop_map(|retries| (None, 0, retries)),
    ];
    (
        resource_name(),
        queue_count.prop_flat_map(|n| prop::collection::vec(queue(), n)),
        step_count,
        tags,
        alarms,
        prop::bool::weighted(0.15),
        "[A-Za-zé]{72}",
        (extreme, prop::option::weighted(0.3, bus())),
        (topics_and_buses(), prop::option::weighted(0.2, any::<bool>())),
    )
        .prop_flat_map(
            |(name, mut queues, steps, tags, alarms, collide, shared, (extreme, bus), ((topics, buses), answers))| {
                // Sometimes a key that takes another queue's dead-letter name.
                if collide {
                    let twin = NearQueue {
                        key: format!("{}-dlq", &queues[0].key[..queues[0].key.len().min(28)]),
                        ..queues[0].clone()
                    };
                    queues.push(twin);
                }
                let mut seen = BTreeSet::new();
                queues.retain(|q| seen.insert(q.key.clone()));
                let queue_count = queues.len();
                let step = move |index: usize| {
                    (
                        step_name(index, shared.clone()),
                        0..queue_count,
                        0usize..3,
                        prop::bool::weighted(0.1),
                        prop::option::weighted(0.15, (prop::option::of(1u32..2_000), any::<bool>())),
                    )
                        .prop_map(|(name, queue, fails, retried, fan_out)| NearStep {
                            // A long name fans out rarely: its item states' names would pass 80 characters (a
                            // refusal `tests/cli` covers), and would take most cases with them.
                            fan_out: fan_out.filter(|_| name.chars().count() <= 80 - " item failed".len()),
                            name,
                            queue,
                            other_channel: None,
                            message_bytes: None,
                            retries: if retried { vec![3] } else { vec![] },
                            fails,
                        })
                };
                // Every queue, topic and bus is used by a step.
                let channels = queue_count + topics.len() + buses.len();
                let steps: Vec<_> = (0..steps.max(channels)).map(step).collect();
                (
                    Just(name),
                    Just(queues),
                    Just((topics, buses)),
                    steps,
                    Just(tags),
                    Just(alarms),
                    Just((extreme, bus, answers)),
                )
            },
        )
        .prop_map(
            |(
                name,
                queues,
                (topics, mut buses),
                mut steps,
                tags,
                alarms,
                ((message_bytes, fails, retries), bus, answers),
            )| {
                // The last step's bus is a table of its own.
                if let Some(bus) = &bus {
                    buses.retain(|(key, _, _)| *key != bus.key);
                }
                // Every queue, topic and bus is used by a step: the first steps take them in turn.
                let others: Vec<(&'static str, usize)> = (0..topics.len())
                    .map(|i| ("topic", i))
                    .chain((0..buses.len()).map(|i| ("bus", i)))
                    .collect();
                for (index, step) in steps.iter_mut().enumerate() {
                    if index < queues.len() {
                        step.queue = index;
                    } else if let Some(other) = others.get(index - queues.len()) {
                        step.other_channel = Some(*other);
                    }
                }
                let last = steps.len() - 1;
                steps[last].message_bytes = message_bytes;
                if fails > 0 {
                    steps[last].fails = fails;
                }
                if !retries.is_empty() {
                    // Every step at its most: the path's history grows with the steps.
                    for step in &mut steps {
                        step.retries = retries.clone();
                    }
                }
                Near {
                    name,
                    queues,
                    topics,
                    buses,
                    steps,
                    tags,
                    alarms,
                    bus,
                    answers,
                }
            },
        )
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

fn to_toml(near: &Near) -> String {
    let mut text = format!("name = \"{}\"\n\n", near.name);
    if !near.tags.is_empty() {
        text.push_str("[tags]\n");
        let mut seen = BTreeSet::new();
        for (key, value) in &near.tags {
            if seen.insert(key.clone()) {
                text.push_str(&format!("{} = {}\n", toml_string(key), toml_string(value)));
            }
        }
        text.push('\n');
    }
    text.push_str("[state_machine]\ntimeout = \"365d\"\n\n");
    if let Some((period, periods)) = near.alarms {
        text.push_str(&format!(
            "[alarms]\nperiod = \"{period}m\"\nevaluation_periods = {periods}\n\n"
        ));
    }
    if let Some(hmac) = near.answers {
        text.push_str(&format!(
            "[callback]\nendpoint = \"{}\"\n\n",
            if hmac { "hmac" } else { "iam" }
        ));
    }
    for (index, step) in near.steps.iter().enumerate() {
        let channel = match step.other_channel {
            None => format!("queue = \"{}\"", near.queues[step.queue].key),
            Some(("topic", index)) => format!("topic = \"{}\"", near.topics[index].0),
            Some((_, index)) => format!("bus = \"{}\"", near.buses[index].0),
        };
        text.push_str(&format!(
            "[[steps]]\nname = {}\n{channel}\ntimeout = \"1h\"\n",
            toml_string(&step.name),
        ));
        if near.answers.is_some() && index % 2 == 0 {
            text.push_str("approval = true\n");
        }
        if let Some(bytes) = step.message_bytes {
            text.push_str(&format!("message = {{ blob = \"{}\" }}\n", "b".repeat(bytes)));
        }
        if let Some((max_items, tolerated)) = step.fan_out {
            text.push_str("for_each = \"$.items\"\nmax_concurrency = 10\n");
            if let Some(items) = max_items {
                text.push_str(&format!("max_items = {items}\n"));
            }
            if tolerated {
                text.push_str("tolerated_failure_percentage = 100\n");
            }
        }
        for attempts in &step.retries {
            text.push_str(&format!(
                "[[steps.retry]]\nerrors = [\"Busy{attempts}\"]\nattempts = {attempts}\n"
            ));
        }
        for i in 0..step.fails {
            text.push_str(&format!(
                "[[steps.catch]]\nerrors = [\"E{i}\"]\nfail = {{ error = \"Failed{i}\" }}\n"
            ));
        }
        text.push('\n');
    }
    if let Some(bus) = &near.bus {
        text.push_str(&format!(
            "[[steps]]\nname = \"OnTheBus\"\nbus = \"{}\"\ntimeout = \"1h\"\n",
            bus.key
        ));
        if let Some(bytes) = bus.message_bytes {
            text.push_str(&format!("message = {{ blob = \"{}\" }}\n", "b".repeat(bytes)));
        }
        text.push('\n');
    }
    for queue in &near.queues {
        text.push_str(&format!(
            "[queues.{}]\nfifo = {}\nencryption = \"{}\"\n{}\n",
            queue.key, queue.fifo, queue.encryption, queue.dead_letter
        ));
    }
    for (key, fifo, encryption) in &near.topics {
        text.push_str(&format!(
            "[topics.{key}]\nfifo = {fifo}\nencryption = \"{encryption}\"\n\n"
        ));
    }
    for (key, name, source) in &near.buses {
        text.push_str(&format!("[buses.{key}]\n"));
        if let Some(name) = name {
            text.push_str(&format!("name = \"{name}\"\n"));
        }
        if let Some(source) = source {
            text.push_str(&format!("source = {}\n", toml_string(source)));
        }
        text.push('\n');
    }
    if let Some(bus) = &near.bus {
        text.push_str(&format!(
            "[buses.{}]\n{}source = \"{}\"\ndetail_type = \"{}\"\ndead_letter = {}\n",
            bus.key,
            if bus.default { "name = \"default\"\n" } else { "" },
            "s".repeat(bus.source_chars),
            "d".repeat(bus.detail_type_chars),
            bus.dead_letter
        ));
    }
    text
}

/// The measured values of one module, by limit id: `(what, value)`.
#[derive(Default)]
struct Measured {
    values: BTreeMap<&'static str, Vec<(String, u64)>>,
}

impl Measured {
    fn add(&mut self, limit: &'static Limit, what: impl Into<String>, value: u64) {
        self.values.entry(limit.id).or_default().push((what.into(), value));
    }

    /// Every value over its limit, as messages.
    fn over(&self) -> Vec<String> {
        let mut over = Vec::new();
        for limit in limits::TABLE {
            for (what, value) in self.values.get(limit.id).into_iter().flatten() {
                if !limit.allows(*value) {
                    over.push(format!(
                        "{} ({}): {what} is {value}, over {}",
                        limit.id, limit.what, limit.figure
                    ));
                }
            }
        }
        over
    }
}

/// Which attribute of a resource type holds its AWS name, and the limit on it.
fn name_attribute(resource_type: &str) -> Option<(&'static str, &'static Limit)> {
    Some(match resource_type {
        "aws_sqs_queue" => ("name", &limits::SQS_QUEUE_NAME),
        "aws_sns_topic" => ("name", &limits::SNS_TOPIC_NAME),
        "aws_cloudwatch_event_bus" => ("name", &limits::EVENT_BUS_NAME),
        "aws_iam_role" => ("name", &limits::IAM_ROLE_NAME),
        "aws_iam_role_policy" | "aws_iam_policy" => ("name", &limits::IAM_POLICY_NAME),
        "aws_lambda_function" => ("function_name", &limits::LAMBDA_FUNCTION_NAME),
        "aws_cloudwatch_log_group" => ("name", &limits::LOG_GROUP_NAME),
        "aws_cloudwatch_log_metric_filter" => ("name", &limits::METRIC_FILTER_NAME),
        "aws_cloudwatch_metric_alarm" => ("alarm_name", &limits::ALARM_NAME),
        "aws_kms_alias" => ("name", &limits::KMS_ALIAS_NAME),
        "aws_sfn_state_machine" => ("name", &limits::STATE_MACHINE_NAME),
        "aws_cloudwatch_event_rule" => ("name", &limits::EVENT_RULE_NAME),
        "aws_dynamodb_table" => ("name", &limits::DYNAMODB_TABLE_NAME),
        "aws_secretsmanager_secret" => ("name", &limits::SECRET_NAME),
        _ => return None,
    })
}

/// An HCL value as written on one line: a string literal (with `${var.name}` filled), `var.name`, or `None`
/// for anything else (a reference, a number).
fn literal(value: &str, name: &str) -> Option<String> {
    if value == "var.name" {
        return Some(name.to_string());
    }
    if !value.starts_with('"') {
        return None;
    }
    let filled = value.replace("${var.name}", name);
    let body: hcl::Body = hcl::from_str(&format!("x = {filled}")).ok()?;
    match body.attributes().next()?.expr() {
        hcl::Expression::String(text) => Some(text.clone()),
        _ => None,
    }
}

/// `(resource type, resource name, attribute, value text)` of every one-line attribute of the top-level blocks of
/// a rendered `.tf` file, and of its nested blocks (an attribute of a nested block is reported with its type).
fn attributes(text: &str) -> Vec<(String, String, String, String)> {
    let mut found = Vec::new();
    let (mut kind, mut label) = (String::new(), String::new());
    for line in text.lines() {
        if let Some(header) = line
            .strip_prefix("resource \"")
            .or_else(|| line.strip_prefix("data \""))
        {
            let mut parts = header.split('"');
            kind = parts.next().unwrap_or_default().to_string();
            label = parts.nth(1).unwrap_or_default().to_string();
            continue;
        }
        let trimmed = line.trim_start();
        // An attribute of a nested block or object (`metric_transformation { name = ... }`) is the nested
        // one's: reported with its type, but its `name` is no resource's name.
        let nested = line.len() - trimmed.len() > 2;
        if let Some((key, value)) = trimmed.split_once(" = ").or_else(|| trimmed.split_once('=')) {
            let key = key.trim();
            if key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !key.is_empty() {
                let key = if nested && key == "name" { "nested_name" } else { key };
                found.push((kind.clone(), label.clone(), key.to_string(), value.trim().to_string()));
            }
        }
    }
    found
}

/// What `templatefile()` makes of the ASL file with these variables (the escapes are `$${` and `%%{`).
fn templatefile(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(['$', '%']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("%%{") {
            out.push_str("%{");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').expect("a closed ${");
            out.push_str(&vars[&after[..end]]);
            rest = &after[end + 1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Measures every value a valid spec's module derives against the table.
fn measure(model: &sfngen::model::Model, warnings: &[sfngen::diagnostic::Diagnostic]) -> Measured {
    let files = sfngen::emit::render_all(model);
    let text = |path: &str| {
        files
            .iter()
            .find(|f| f.path == path)
            .map(|f| String::from_utf8(f.contents.clone()).unwrap())
            .unwrap_or_default()
    };
    let worst = limits::worst_name();
    let mut m = Measured::default();

    // Names, from the .tf text, with the longest `name`; none twice for one resource type.
    let mut names: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut attachments: HashMap<String, u64> = HashMap::new();
    let mut filters_per_group: HashMap<String, u64> = HashMap::new();
    let mut widgets = 0u64;
    let tf: Vec<String> = files
        .iter()
        .filter(|f| f.path.ends_with(".tf"))
        .map(|f| f.path.clone())
        .collect();
    for path in &tf {
        for (kind, label, key, value) in attributes(&text(path)) {
            if let Some((attribute, limit)) = name_attribute(&kind)
                && key == attribute
                && let Some(name) = literal(&value, &worst)
            {
                m.add(limit, format!("{kind}.{label}"), name.chars().count() as u64);
                // A role's inline policy takes its role's name: unique within the role only.
                if kind != "aws_iam_role_policy" {
                    assert!(
                        names.entry(kind.clone()).or_default().insert(name.clone()),
                        "two {kind} are named {name}"
                    );
                }
            }
            if key == "namespace"
                && let Some(namespace) = literal(&value, &worst)
            {
                m.add(
                    &limits::METRIC_NAMESPACE,
                    format!("{kind}.{label}"),
                    namespace.chars().count() as u64,
                );
            }
            if kind == "aws_cloudwatch_metric_alarm" && key == "alarm_description" {
                let description = literal(&value, &worst).expect("a description is a string");
                m.add(
                    &limits::ALARM_DESCRIPTION,
                    label.clone(),
                    description.chars().count() as u64,
                );
            }
            if kind == "aws_iam_role_policy_attachment" && key == "role" {
                *attachments.entry(value.clone()).or_default() += 1;
            }
            if kind == "aws_cloudwatch_log_metric_filter" && key == "pattern" {
                let pattern = literal(&value, &worst).expect("a pattern is a string");
                m.add(
                    &limits::METRIC_FILTER_PATTERN,
                    label.clone(),
                    pattern.chars().count() as u64,
                );
            }
            if kind == "aws_cloudwatch_log_metric_filter" && key == "log_group_name" {
                *filters_per_group.entry(value.clone()).or_default() += 1;
            }
            if kind == "aws_cloudwatch_dashboard" && key == "dashboard_name" {
                let name = literal(&value.replace("${local.region}", limits::WORST_REGION), &worst)
                    .expect("the dashboard name is a string of name and region");
                assert!(
                    name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                    "{name}: PutDashboard takes A-Z, a-z, 0-9, - and _"
                );
                m.add(&limits::DASHBOARD_NAME, label.clone(), name.chars().count() as u64);
            }
            // Each widget of the body (in jsonencode()) has a `type`: count them.
            if kind == "aws_cloudwatch_dashboard" && key == "type" {
                widgets += 1;
            }
        }
    }
    for (group, count) in &filters_per_group {
        m.add(&limits::METRIC_FILTERS_PER_LOG_GROUP, group.clone(), *count);
    }
    m.add(&limits::DASHBOARD_WIDGETS, "the dashboard", widgets);

    // The subscriptions the module creates on each FIFO topic, counted in topics.tf.
    let subscribed = attributes(&text("topics.tf"));
    for topic in model.topics.iter().filter(|t| t.fifo) {
        let arn = format!("aws_sns_topic.{}.arn", topic.key);
        let count = subscribed
            .iter()
            .filter(|(kind, _, key, value)| kind == "aws_sns_topic_subscription" && key == "topic_arn" && *value == arn)
            .count();
        m.add(
            &limits::SNS_FIFO_TOPIC_SUBSCRIPTIONS,
            format!("topic {}", topic.key),
            count as u64,
        );
    }
    for role in &model.roles {
        let role_address = format!("{}.name", sfngen::emit::terraform::address::role(role.id));
        m.add(
            &limits::IAM_MANAGED_POLICIES_PER_ROLE,
            role_address.clone(),
            attachments.get(&role_address).copied().unwrap_or(0),
        );
    }

    // Terraform addresses (resources, data sources, variables, outputs) and templatefile() variables: none twice.
    let mut addresses = BTreeSet::new();
    for path in &tf {
        for line in text(path).lines() {
            for kind in ["resource \"", "data \"", "variable \"", "output \""] {
                if let Some(rest) = line.strip_prefix(kind) {
                    let address = format!("{kind}{}", rest.trim_end_matches(" {"));
                    assert!(addresses.insert(address.clone()), "{address} is declared twice");
                }
            }
        }
    }
    let template_vars: Vec<String> = text("state_machine.tf")
        .split("templatefile(")
        .nth(1)
        .expect("the definition is a templatefile()")
        .split("})")
        .next()
        .unwrap()
        .lines()
        .filter_map(|line| line.split_once(" = ").map(|(k, _)| k.trim().to_string()))
        .collect();
    let distinct: BTreeSet<&String> = template_vars.iter().collect();
    assert_eq!(
        distinct.len(),
        template_vars.len(),
        "a templatefile() variable twice: {template_vars:?}"
    );
    assert_eq!(
        template_vars.len(),
        model.queues.len() + model.topics.len() + model.buses.len() + 1 + usize::from(model.approvals.is_some()),
        "one URL a queue, one ARN a topic or a bus, the partition and the approvals queue's URL"
    );

    // The alarms' evaluation range.
    let alarms = text("alarms.tf");
    let number = |key: &str| -> Vec<u64> {
        attributes(&alarms)
            .into_iter()
            .filter(|(_, _, k, _)| k == key)
            .map(|(_, _, _, v)| v.parse().unwrap())
            .collect()
    };
    for (period, periods) in number("period").into_iter().zip(number("evaluation_periods")) {
        let limit = if period < limits::ALARM_LONG_PERIOD_SECONDS {
            &limits::ALARM_EVALUATION_RANGE_SHORT_PERIOD
        } else {
            &limits::ALARM_EVALUATION_RANGE
        };
        m.add(limit, format!("{periods} x {period}s"), period * periods);
        // Either row applies to some alarm; the other one is within its figure a fortiori.
        let other = if std::ptr::eq(limit, &limits::ALARM_EVALUATION_RANGE) {
            &limits::ALARM_EVALUATION_RANGE_SHORT_PERIOD
        } else {
            &limits::ALARM_EVALUATION_RANGE
        };
        m.add(other, "no alarm of this kind", 0);
    }
    let variables = text("variables.tf");
    if variables.contains("variable \"alarm_actions\"") {
        let bound = variables
            .split("length(var.alarm_actions) <= ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .expect("alarm_actions is bounded")
            .parse()
            .unwrap();
        m.add(&limits::ALARM_ACTIONS, "var.alarm_actions", bound);
    }

    // Tags: the module's own and the spec's on every resource, and what var.tags may add.
    let main = text("main.tf");
    let tag_keys: Vec<String> = main
        .split("merge({")
        .nth(1)
        .and_then(|rest| rest.split("}, var.tags)").next())
        .expect("tags are merged")
        .lines()
        .filter_map(|line| line.split_once(" = "))
        .map(|(key, _)| key.trim().trim_matches('"').to_string())
        .collect();
    let lowered: BTreeSet<String> = tag_keys.iter().map(|k| k.to_lowercase()).collect();
    assert_eq!(
        lowered.len(),
        tag_keys.len(),
        "tag keys differing only in case: {tag_keys:?}"
    );
    m.add(
        &limits::TAGS_PER_RESOURCE,
        "the module's and the spec's tags",
        tag_keys.len() as u64,
    );
    let bound: u64 = variables
        .split(")) <= ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .expect("var.tags is bounded")
        .parse()
        .unwrap();
    m.add(&limits::TAGS_PER_RESOURCE, "var.tags with the others", bound);
    for (key, value) in &model.tags {
        m.add(&limits::TAG_KEY, format!("tag {key:?}"), key.chars().count() as u64);
        m.add(&limits::TAG_VALUE, format!("tag {key:?}"), value.chars().count() as u64);
    }
    for key in &tag_keys {
        m.add(&limits::TAG_KEY, format!("tag {key:?}"), key.chars().count() as u64);
    }
    m.add(
        &limits::TAG_VALUE,
        "the module's own tag values",
        "sfngen".len().max(worst.len()) as u64,
    );

    // The definition after templatefile(), with the longest queue URLs, topic and bus ARNs.
    let asl = text(sfngen::emit::ASL_FILE);
    let mut vars = HashMap::from([("partition".to_string(), limits::WORST_PARTITION.to_string())]);
    for queue in &model.queues {
        vars.insert(
            sfngen::emit::queue_url_var(&queue.key),
            limits::worst_queue_url(&queue.name.with(&worst)),
        );
    }
    for topic in &model.topics {
        vars.insert(
            sfngen::emit::channel_var(&Channel::Topic(topic.key.clone())),
            limits::worst_topic_arn(&topic.name.with(&worst)),
        );
    }
    for bus in &model.buses {
        let name = match &bus.bus {
            BusName::Existing(name) => name.clone(),
            BusName::Custom(name) => name.with(&worst),
        };
        vars.insert(
            sfngen::emit::channel_var(&Channel::Bus(bus.key.clone())),
            limits::worst_bus_arn(&name),
        );
    }
    if let Some(approvals) = &model.approvals {
        vars.insert(
            sfngen::emit::APPROVALS_QUEUE_URL_VAR.to_string(),
            limits::worst_queue_url(&approvals.queue.with(&worst)),
        );
    }
    let definition = templatefile(&asl, &vars);
    m.add(&limits::DEFINITION, "the definition", definition.len() as u64);
    let json: Value = serde_json::from_str(&definition).unwrap();
    let states = json["States"].as_object().unwrap();
    let fails: usize = model.steps.iter().map(|s| s.catch.len()).sum();
    assert_eq!(states.len(), model.steps.len() + fails, "a state name is used twice");
    let mut events = sfngen::resolve::EVENTS_PER_EXECUTION;
    let mut history_over = false;
    let mut names = BTreeSet::new();
    for (name, state) in states {
        m.add(&limits::STATE_NAME, name.clone(), name.chars().count() as u64);
        assert!(names.insert(name.clone()), "{name}: a state name is used twice");
        // A fan-out step: its Map's events, and each item's: the iteration's, its Task's (measured below, per item)
        // and, with failures tolerated, its Pass state's. The items: the spec's max_items, or as many as a state
        // input holds (`[0,0,...]`: two bytes an item).
        let (state, per_item) = match state["ItemProcessor"]["States"].as_object() {
            Some(inner) => {
                let step = model.steps.iter().find(|s| &s.name == name).unwrap();
                let fan_out = step.fan_out.as_ref().unwrap();
                let items = fan_out
                    .max_items
                    .map_or((limits::STATE_INPUT.figure - 1) / 2, u64::from);
                let mut task = None;
                let mut pass = 0;
                for (inner_name, inner_state) in inner {
                    m.add(
                        &limits::STATE_NAME,
                        inner_name.clone(),
                        inner_name.chars().count() as u64,
                    );
                    assert!(
                        names.insert(inner_name.clone()),
                        "{inner_name}: a state name is used twice"
                    );
                    match inner_state["Type"].as_str() {
                        Some("Task") => task = Some(inner_state),
                        Some("Pass") => pass += sfngen::resolve::EVENTS_PER_STATE,
                        other => panic!("{inner_name}: a {other:?} state in a fan-out step"),
                    }
                }
                events += sfngen::resolve::EVENTS_PER_MAP;
                (
                    task.unwrap(),
                    Some((items, sfngen::resolve::EVENTS_PER_ITERATION + pass)),
                )
            }
            None => (state, None),
        };
        let Some(parameters) = state.get("Parameters") else {
            continue;
        };
        // The task's parameters as Step Functions evaluates them, with no input and the longest token.
        let mut evaluated = parameters.as_object().unwrap().clone();
        if let Some(entries) = evaluated.get_mut("Entries") {
            // A bus's event: its detail is the message. EventBridge counts the entry's source, detail type, detail
            // and resources, where Step Functions adds the state machine's and the execution's ARNs.
            let entry = entries[0].as_object_mut().unwrap();
            let detail = entry["Detail"].as_object_mut().unwrap();
            detail.remove("input.$");
            detail.remove("token.$");
            detail.insert("input".into(), Value::Null);
            detail.insert(
                "token".into(),
                Value::String("t".repeat(limits::MAX_TASK_TOKEN_CHARS as usize)),
            );
            let context = detail[sfngen::model::MESSAGE_CONTEXT_FIELD].as_object_mut().unwrap();
            let machine = model.state_machine.name.with(&worst);
            let arn = |resource: &str| {
                format!(
                    "arn:{}:states:{}:{}:{resource}",
                    limits::WORST_PARTITION,
                    limits::WORST_REGION,
                    limits::WORST_ACCOUNT
                )
            };
            let execution = arn(&format!(
                "execution:{machine}:{}",
                "e".repeat(limits::MAX_EXECUTION_NAME_CHARS)
            ));
            // The context as Step Functions fills it at its longest (the counts as the largest numbers).
            for (field, value) in context.clone() {
                let filled = match value.as_str() {
                    Some("$$.Execution.Id") => Value::String(execution.clone()),
                    Some("$$.State.Name") => Value::String(name.clone()),
                    Some("$$.State.EnteredTime") => Value::String("0".repeat(limits::CONTEXT_TIME_CHARS)),
                    _ => Value::from(u64::from(u32::MAX)),
                };
                context.remove(&field);
                context.insert(field.trim_end_matches(".$").to_string(), filled);
            }
            let detail_bytes = Value::Object(detail.clone()).to_string().len() as u64 - 4 + 2;
            let entry_bytes = entry["Source"].as_str().unwrap().len() as u64
                + entry["DetailType"].as_str().unwrap().len() as u64
                + detail_bytes
                + arn(&format!("stateMachine:{machine}")).len() as u64
                + execution.len() as u64;
            m.add(
                &limits::EVENT_ENTRY,
                format!("{name}'s event with input {{}}"),
                entry_bytes,
            );
        }
        // The message: an SQS body, an SNS message, an event's detail.
        let body = if evaluated.contains_key("MessageBody") {
            evaluated["MessageBody"].as_object_mut().unwrap()
        } else if evaluated.contains_key("Message") {
            evaluated["Message"].as_object_mut().unwrap()
        } else {
            evaluated["Entries"][0]["Detail"].as_object_mut().unwrap()
        };
        body.remove("input.$");
        body.remove("token.$");
        body.insert("input".into(), Value::Null);
        body.insert(
            "token".into(),
            Value::String("t".repeat(limits::MAX_TASK_TOKEN_CHARS as usize)),
        );
        if let Some(group) = evaluated.remove("MessageGroupId.$") {
            assert!(
                group == sfngen::model::MESSAGE_GROUP_ID || group == sfngen::model::MESSAGE_GROUP_ID_PER_ITEM,
                "a group id sfngen cannot bound: {group}"
            );
            // SHA-256 in hex: 64 of [0-9a-f], characters SQS and SNS take.
            m.add(&limits::SQS_MESSAGE_GROUP_ID, format!("{name}: SHA-256 in hex"), 64);
            evaluated.insert("MessageGroupId".into(), Value::String("0".repeat(64)));
        }
        let without_input = Value::Object(evaluated).to_string().len() as u64 - 4;
        m.add(
            &limits::TASK_PARAMETERS,
            format!("{name} with input {{}}"),
            without_input + 2,
        );
        let attempts: u64 = 1 + state["Retry"]
            .as_array()
            .map(|r| r.iter().map(|r| r["MaxAttempts"].as_u64().unwrap()).sum::<u64>())
            .unwrap_or(0);
        let task = sfngen::resolve::EVENTS_PER_STATE + sfngen::resolve::EVENTS_PER_ATTEMPT * attempts;
        events += match per_item {
            Some((items, item_own)) => items * (item_own + task),
            None => task,
        };
        history_over |= !limits::EXECUTION_HISTORY.allows(events);
    }
    // The history is a warning, not an error: a path that can exceed it is warned about at a step.
    let warned = warnings
        .iter()
        .any(|w| w.message.contains("events; Step Functions fails an execution"));
    assert_eq!(
        warned, history_over,
        "the history warning and the estimate disagree ({events} events)"
    );
    m.add(
        &limits::EXECUTION_HISTORY,
        "the longest path, when not warned about",
        if history_over { 0 } else { events },
    );

    // Policies: as AWS receives them (tests/policy_sizes.rs holds iam_json to the real provider), laid out as the
    // rendered iam.tf says.
    let iam = text("iam.tf");
    let parts = ArnParts::worst();
    for role in &model.roles {
        let managed = role.managed_policies.len();
        let declared = (1..=managed)
            .filter(|n| {
                iam.contains(&format!(
                    "resource \"aws_iam_policy\" \"{}_{n}\"",
                    sfngen::emit::terraform::address::role(role.id)
                        .to_string()
                        .trim_start_matches("aws_iam_role.")
                ))
            })
            .count();
        assert_eq!(
            declared, managed,
            "iam.tf and the model disagree on {:?}'s managed policies",
            role.id
        );
        m.add(
            &limits::IAM_ROLE_INLINE_POLICIES,
            format!("{:?} inline", role.id),
            iam_json::chars(&iam_json::role_policy(model, role, &parts)),
        );
        m.add(
            &limits::IAM_TRUST_POLICY,
            format!("{:?} trust", role.id),
            iam_json::chars(&iam_json::trust_policy(model, role, &parts)),
        );
        for policy in &role.managed_policies {
            m.add(
                &limits::IAM_MANAGED_POLICY,
                format!("{:?} managed {}", role.id, policy.number),
                iam_json::chars(&iam_json::document(model, &policy.statements, &parts)),
            );
        }
    }
    for policy in &model.worker_policies {
        m.add(
            &limits::IAM_MANAGED_POLICY,
            format!("worker {:?} {:?}", policy.queue, policy.part),
            iam_json::chars(&iam_json::document(model, &policy.statements, &parts)),
        );
    }
    if let Some(key) = &model.module_key {
        m.add(
            &limits::KMS_KEY_POLICY,
            "the key policy",
            iam_json::bytes(&iam_json::key_policy(model, key, &parts)),
        );
    }
    for queue in &model.queues {
        m.add(
            &limits::SQS_QUEUE_POLICY,
            format!("queue {}", queue.key),
            iam_json::bytes(&iam_json::queue_policy(queue, false, &parts)),
        );
    }
    m
}

#[test]
fn when_check_says_valid_every_derived_value_is_within_the_limits_table() {
    let config = Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = if std::env::var_os("SFNGEN_PROPTEST_RANDOM").is_some() {
        TestRunner::new(config)
    } else {
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    };
    let measured_ids: RefCell<BTreeSet<&'static str>> = RefCell::default();
    let outcomes = RefCell::new((0usize, 0usize));
    let refusals: RefCell<BTreeMap<String, usize>> = RefCell::default();
    runner
        .run(&near(), |near| {
            let source = to_toml(&near);
            match sfngen::check_source(&source, "sfngen.toml") {
                Err(diags) => {
                    outcomes.borrow_mut().1 += 1;
                    for d in diags {
                        let key = d.path.split(['.', '[']).next().unwrap_or_default().to_string();
                        let what: String = d.message.chars().filter(|c| !c.is_ascii_digit()).take(50).collect();
                        let what = what.split(['"', '`']).next().unwrap_or_default().to_string();
                        *refusals.borrow_mut().entry(format!("{key}: {what}")).or_default() += 1;
                    }
                }
                Ok((model, warnings)) => {
                    outcomes.borrow_mut().0 += 1;
                    let measured = measure(&model, &warnings);
                    let over = measured.over();
                    prop_assert!(
                        over.is_empty(),
                        "check said valid, yet:\n{}\n(spec of {} bytes)",
                        over.join("\n"),
                        source.len()
                    );
                    measured_ids.borrow_mut().extend(measured.values.keys());
                }
            }
            Ok(())
        })
        .unwrap();
    let (valid, refused) = *outcomes.borrow();
    eprintln!(
        "{valid} valid specs measured, {refused} refused: {:#?}",
        refusals.borrow()
    );
    assert!(
        valid >= 10 && refused >= 10,
        "{valid} valid and {refused} refused specs: the cases miss one side"
    );
    let unmeasured: Vec<&str> = limits::TABLE
        .iter()
        .map(|l| l.id)
        .filter(|id| !measured_ids.borrow().contains(id))
        .collect();
    assert!(
        unmeasured.is_empty(),
        "no case measures {unmeasured:?}: measure them here"
    );
}

/// Specs too large to keep as files, generated here: `(name, spec, exit status)`. Each one's `sfngen check`
/// output is `tests/cli/limits/NAME.stderr` (`SFNGEN_BLESS=1` rewrites them).
fn adversarial_specs() -> Vec<(&'static str, String, i32)> {
    let step =
        |name: &str, queue: &str, extra: &str| format!("[[steps]]\nname = \"{name}\"\nqueue = \"{queue}\"\n{extra}\n");
    let key = |i: usize| format!("q{i:03}-{}", "k".repeat(27));
    let mut cases = Vec::new();

    // A few thousand steps with long names: the definition outgrows Step Functions' 1,048,576 characters.
    let mut spec = String::from("name = \"big-workflow\"\n\n");
    for i in 0..3_000 {
        spec.push_str(&step(
            &format!("{:A<74}{i:04}", "ProcessTheOrderThroughEveryDepartment"),
            "main",
            "",
        ));
    }
    spec.push_str("[queues.main]\n");
    cases.push(("definition-too-large", spec, 2));

    // A 261,000-byte static field: with the envelope, the longest queue URL and task token, the task's
    // parameters pass 262,144 bytes before any input.
    let spec = format!(
        "name = \"shop\"\n\n{}[queues.main]\n",
        step(
            "Charge",
            "main",
            &format!("message = {{ catalog = \"{}\" }}", "x".repeat(261_000))
        )
    );
    cases.push(("message-too-large", spec, 2));

    // 400 queues with their own keys: the state machine's grants need more than 10 managed policies.
    let mut spec = String::from("name = \"many-queues\"\n\n");
    for i in 0..400 {
        spec.push_str(&step(&format!("Step{i}"), &key(i), ""));
    }
    for i in 0..400 {
        spec.push_str(&format!(
            "[queues.{}]\nencryption = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"\n\n",
            key(i)
        ));
    }
    cases.push(("too-many-queues-for-one-role", spec, 2));

    // A FIFO topic with 101 declared subscriptions: one past SNS's 100.
    let mut spec = String::from(
        "name = \"fanout\"\n\n[[steps]]\nname = \"Ask\"\ntopic = \"asks\"\n\n[topics.asks]\nfifo = true\n",
    );
    spec.push_str("subscriptions = [\n");
    for i in 0..101 {
        spec.push_str(&format!(
            "  {{ endpoint = \"arn:aws:sqs:us-east-1:123456789012:worker-{i:03}.fifo\" }},\n"
        ));
    }
    spec.push_str("]\n");
    cases.push(("fifo-topic-subscriptions", spec, 2));

    // 60 queues: valid, and the worker policy for every queue comes in parts.
    let mut spec = String::from("name = \"many-queues\"\n\n");
    for i in 0..60 {
        spec.push_str(&step(&format!("Step{i}"), &key(i), ""));
    }
    for i in 0..60 {
        spec.push_str(&format!("[queues.{}]\nencryption = \"kms\"\n\n", key(i)));
    }
    cases.push(("worker-policy-in-parts", spec, 0));

    // 70 steps retried 99 times each: a path can pass the 25,000 events of an execution's history.
    let mut spec = String::from("name = \"retries\"\n\n");
    for i in 0..70 {
        spec.push_str(&step(
            &format!("Step{i}"),
            "main",
            "[[steps.retry]]\nerrors = [\"Busy\"]\nattempts = 99",
        ));
    }
    spec.push_str("[queues.main]\n");
    cases.push(("history-too-long", spec, 0));
    cases
}

#[test]
fn adversarial_specs_get_their_messages() {
    let bless = std::env::var_os("SFNGEN_BLESS").is_some();
    for (name, spec, status) in adversarial_specs() {
        let dir = tempfile::tempdir().unwrap();
        let file = format!("{name}.toml");
        std::fs::write(dir.path().join(&file), &spec).unwrap();
        let out = common::sfngen()
            .current_dir(dir.path())
            .args(["check", &file])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(status), "{name}: {stderr}");
        let expected = common::root().join(format!("tests/cli/limits/{name}.stderr"));
        if bless {
            std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
            std::fs::write(&expected, &stderr).unwrap();
        } else {
            let expected = std::fs::read_to_string(&expected)
                .unwrap_or_else(|_| panic!("{name}: no {} (SFNGEN_BLESS=1 writes it)", expected.display()));
            assert_eq!(stderr, expected, "{name}");
        }
        if status == 2 {
            // Nothing written: render refuses the same spec.
            let out = common::sfngen()
                .current_dir(dir.path())
                .args(["render", &file, "-o", "out"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{name}");
            assert!(!dir.path().join("out").exists(), "{name}: render wrote something");
        }
    }
}
