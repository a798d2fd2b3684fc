//! The spec front end: `sfngen.toml` as written, with every value's location kept.
//!
//! This stage only checks the *shape* of the document: TOML syntax, known keys (with "did you mean"),
//! and value types. It applies no defaults and checks no ranges; `resolve` does that, so that every
//! rule about values lives in one place. It collects every problem it finds instead of stopping at
//! the first one. Which keys exist is [`keys`]'s to say: a key it does not list is unknown.

pub mod file;
pub mod keys;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeFloat, DeInteger, DeTable, DeValue};

use crate::diagnostic::{Diagnostic, did_you_mean, line_at};

/// A byte range in the spec's source.
pub type Span = Range<usize>;

/// A value and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    /// The value as written.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl Spec {
    /// Where the key of the entry `key` of the map `map` (`queues`, `topics`, `buses`) is written; `0..0`
    /// when it is not.
    pub fn entry_span(&self, map: &str, key: &str) -> Span {
        let entries: Vec<&Located<String>> = match map {
            "queues" => self.queues.iter().map(|(k, _)| k).collect(),
            "topics" => self.topics.iter().map(|(k, _)| k).collect(),
            "buses" => self.buses.iter().map(|(k, _)| k).collect(),
            _ => Vec::new(),
        };
        entries
            .into_iter()
            .find(|k| k.value == key)
            .map_or(0..0, |k| k.span.clone())
    }
}

impl<T> Located<T> {
    fn new(value: T, span: Span) -> Self {
        Located { value, span }
    }
}

/// The whole `sfngen.toml`, as written.
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// `name`: prefix of every AWS resource name.
    pub name: Option<Located<String>>,
    /// `[tags]`, in file order.
    pub tags: Vec<(Located<String>, Located<String>)>,
    /// `[state_machine]`.
    pub state_machine: StateMachineSpec,
    /// `[[steps]]`; `None` when the key is absent.
    pub steps: Option<Located<Vec<StepSpec>>>,
    /// `[queues.*]`, in file order.
    pub queues: Vec<(Located<String>, QueueSpec)>,
    /// `[topics.*]`, in file order.
    pub topics: Vec<(Located<String>, TopicSpec)>,
    /// `[buses.*]`, in file order.
    pub buses: Vec<(Located<String>, BusSpec)>,
    /// `[callback]`.
    pub callback: CallbackSpec,
    /// `[alarms]`: present turns the CloudWatch alarms on.
    pub alarms: Option<AlarmsSpec>,
    /// `[logs] encryption`: `"cloudwatch"` (default) or `"kms"` (the module's key).
    pub log_encryption: Option<Located<String>>,
    /// The paths of keys (and tables, and elements of arrays of tables) that are written but could not be
    /// read: a value of the wrong type, a number beyond what sfngen reads, a table that is not one, and the
    /// key a misspelt one most likely meant. Each was reported once, here; it reads as absent above, and
    /// resolve leaves it out of every rule that reads it (no second error for the same mistake).
    pub rejected: BTreeSet<String>,
}

/// `[alarms]`.
#[derive(Debug, Clone, Default)]
pub struct AlarmsSpec {
    /// Where the table is.
    pub span: Span,
    /// `period`: the alarms' evaluation period, a duration.
    pub period: Option<Located<String>>,
    /// `evaluation_periods`.
    pub evaluation_periods: Option<Located<i64>>,
}

/// `[state_machine]`.
#[derive(Debug, Clone, Default)]
pub struct StateMachineSpec {
    /// `timeout`, a duration.
    pub timeout: Option<Located<String>>,
    /// `log_level`.
    pub log_level: Option<Located<String>>,
    /// `include_execution_data`.
    pub include_execution_data: Option<Located<bool>>,
    /// `tracing`.
    pub tracing: Option<Located<bool>>,
    /// `log_retention_days`.
    pub log_retention_days: Option<Located<i64>>,
    /// `encryption`: `aws`, `kms`, a key ARN or an alias.
    pub encryption: Option<Located<String>>,
}

/// One `[[steps]]` table.
#[derive(Debug, Clone, Default)]
pub struct StepSpec {
    /// Where the table is.
    pub span: Span,
    /// `name`: the ASL state name.
    pub name: Option<Located<String>>,
    /// `queue`: a key of `[queues]`.
    pub queue: Option<Located<String>>,
    /// `topic`: a key of `[topics]`.
    pub topic: Option<Located<String>>,
    /// `bus`: a key of `[buses]`.
    pub bus: Option<Located<String>>,
    /// `timeout`, a duration.
    pub timeout: Option<Located<String>>,
    /// `heartbeat`, a duration.
    pub heartbeat: Option<Located<String>>,
    /// `input_path`: the JSONPath of the state input that goes into the message as `input`.
    pub input_path: Option<Located<String>>,
    /// `for_each`: the JSONPath of an array in the state input; the step becomes a Map state over it.
    pub for_each: Option<Located<String>>,
    /// `max_concurrency`: the Map's `MaxConcurrency`.
    pub max_concurrency: Option<Located<i64>>,
    /// `max_items`: the most items the array holds, for the execution history estimate.
    pub max_items: Option<Located<i64>>,
    /// `tolerated_failure_percentage`: 0 or 100.
    pub tolerated_failure_percentage: Option<Located<i64>>,
    /// `approval`: a human approval through a link, the token kept inside AWS.
    pub approval: Option<Located<bool>>,
    /// `message`: static fields added to the message body, in file order.
    pub message: Vec<(Located<String>, serde_json::Value)>,
    /// Every key written in `message`, at any depth (tables in tables, tables in arrays), in file order.
    pub message_keys: Vec<MessageKey>,
    /// `[[steps.retry]]`, in order.
    pub retry: Vec<RetrySpec>,
    /// `[[steps.catch]]`, in order.
    pub catch: Vec<CatchSpec>,
}

/// A key written in a step's `message`, at any depth.
#[derive(Debug, Clone)]
pub struct MessageKey {
    /// Its path from the top of the spec: `steps[0].message.meta."copy.$"`, `steps[0].message.items[1].id`.
    pub path: String,
    /// The key as written.
    pub key: Located<String>,
}

/// One `[[steps.retry]]` table.
#[derive(Debug, Clone, Default)]
pub struct RetrySpec {
    /// Where the table is.
    pub span: Span,
    /// `errors`: error names to retry (default `["States.ALL"]`).
    pub errors: Option<Located<Vec<Located<String>>>>,
    /// `attempts`: `MaxAttempts`.
    pub attempts: Option<Located<i64>>,
    /// `interval`: `IntervalSeconds`, a duration.
    pub interval: Option<Located<String>>,
    /// `backoff_rate`: `BackoffRate`.
    pub backoff_rate: Option<Located<f64>>,
    /// `max_delay`: `MaxDelaySeconds`, a duration.
    pub max_delay: Option<Located<String>>,
    /// `jitter`: `JitterStrategy = "FULL"` when true.
    pub jitter: Option<Located<bool>>,
}

/// One `[[steps.catch]]` table.
#[derive(Debug, Clone, Default)]
pub struct CatchSpec {
    /// Where the table is.
    pub span: Span,
    /// `errors`: error names to catch (default `["States.ALL"]`).
    pub errors: Option<Located<Vec<Located<String>>>>,
    /// `next`: a later step to go to.
    pub next: Option<Located<String>>,
    /// `fail`: end in a Fail state with this error (and cause).
    pub fail: Option<Located<FailSpec>>,
}

/// `fail = { error = "...", cause = "..." }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailSpec {
    /// `error`.
    pub error: Option<Located<String>>,
    /// `cause`.
    pub cause: Option<Located<String>>,
}

/// One `[queues.KEY]` table.
#[derive(Debug, Clone, Default)]
pub struct QueueSpec {
    /// `visibility_timeout`, a duration.
    pub visibility_timeout: Option<Located<String>>,
    /// `retention`, a duration.
    pub retention: Option<Located<String>>,
    /// `receive_wait`, a duration.
    pub receive_wait: Option<Located<String>>,
    /// `fifo`.
    pub fifo: Option<Located<bool>>,
    /// `encryption`: `sqs`, `kms`, a key ARN or an alias.
    pub encryption: Option<Located<String>>,
    /// `dead_letter`: `false`, `true` or `{ max_receives = N, fail_execution = BOOL }`.
    pub dead_letter: Option<Located<DeadLetterSpec>>,
}

/// One `[topics.KEY]` table.
#[derive(Debug, Clone, Default)]
pub struct TopicSpec {
    /// `fifo`.
    pub fifo: Option<Located<bool>>,
    /// `encryption`: `sns`, `kms`, a key ARN or an alias.
    pub encryption: Option<Located<String>>,
    /// `subscriptions = [{ protocol, endpoint }]`, in order.
    pub subscriptions: Option<Vec<SubscriptionSpec>>,
    /// `dead_letter`: `false` turns the topic's dead-letter queue off.
    pub dead_letter: Option<Located<bool>>,
}

/// One subscription of `[topics.KEY] subscriptions`.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionSpec {
    /// Where the table is.
    pub span: Span,
    /// `protocol`: how SNS delivers (`sqs` when left out).
    pub protocol: Option<Located<String>>,
    /// `endpoint`: where, in the protocol's form.
    pub endpoint: Option<Located<String>>,
}

/// One `[buses.KEY]` table.
#[derive(Debug, Clone, Default)]
pub struct BusSpec {
    /// `name`: `"default"` for the account's default bus; left out, a custom bus the module creates.
    pub name: Option<Located<String>>,
    /// `source`: the events' Source.
    pub source: Option<Located<String>>,
    /// `detail_type`: the events' DetailType.
    pub detail_type: Option<Located<String>>,
    /// `dead_letter`: a dead-letter queue for the rule's targets (default true).
    pub dead_letter: Option<Located<bool>>,
}

/// `dead_letter` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeadLetterSpec {
    /// `dead_letter = false`.
    Off,
    /// `dead_letter = true` or a table.
    On {
        /// `max_receives`.
        max_receives: Option<Located<i64>>,
        /// `fail_execution`.
        fail_execution: Option<Located<bool>>,
    },
}

/// `[callback]`.
#[derive(Debug, Clone, Default)]
pub struct CallbackSpec {
    /// `memory_mb`.
    pub memory_mb: Option<Located<i64>>,
    /// `timeout`, a duration.
    pub timeout: Option<Located<String>>,
    /// `architecture`.
    pub architecture: Option<Located<String>>,
    /// `reserved_concurrency`.
    pub reserved_concurrency: Option<Located<i64>>,
    /// `log_retention_days`.
    pub log_retention_days: Option<Located<i64>>,
    /// `endpoint`: `iam` or `hmac`.
    pub endpoint: Option<Located<String>>,
    /// `endpoint_secret`: a Secrets Manager secret ARN.
    pub endpoint_secret: Option<Located<String>>,
    /// `endpoint_replay_window`, a duration.
    pub endpoint_replay_window: Option<Located<String>>,
    /// `endpoint_reserved_concurrency`.
    pub endpoint_reserved_concurrency: Option<Located<i64>>,
}

/// Parses the text of a spec. Always returns a (possibly partial) spec and every problem found.
pub fn parse(source: &str) -> (Spec, Vec<Diagnostic>) {
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(err) => return (Spec::default(), vec![toml_error(source, &err)]),
    };
    let mut found = Found::default();
    let mut spec = read_spec(root.get_ref(), &mut found);
    spec.rejected = found.rejected;
    let mut diags = found.diags;
    diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
    (spec, diags)
}

/// A TOML syntax error, as one diagnostic; a duplicate key is named, with the table it is in.
fn toml_error(source: &str, err: &toml::de::Error) -> Diagnostic {
    let message = err.message().trim_end().replace('\n', " ");
    let span = err.span();
    if message == "duplicate key"
        && let Some(key_span) = span.clone()
        && let Some(key) = source.get(key_span.clone())
    {
        return duplicate_key(source, key, key_span);
    }
    Diagnostic::error("", span, format!("invalid TOML: {message}"))
        .with_help("fix the TOML syntax; see https://toml.io")
}

/// `key`, written at `span`, is defined a second time: in a `[table]` header (the table itself), or as a
/// key of a table.
fn duplicate_key(source: &str, key: &str, span: Span) -> Diagnostic {
    let name = key.trim_matches(|c| c == '"' || c == '\'');
    let line = line_at(source, span.start).trim();
    if let Some(header) = line.strip_prefix('[') {
        let header = header.trim_start_matches('[').split(']').next().unwrap_or("").trim();
        let array = line.starts_with("[[");
        let (path, written) = if array {
            (String::new(), format!("[[{header}]]"))
        } else {
            (header.to_string(), format!("[{header}]"))
        };
        return Diagnostic::error(
            path,
            Some(span),
            format!("invalid TOML: duplicate key `{name}`: {written} defines a table that is already defined"),
        )
        .with_help(format!(
            "a TOML table is defined once: merge the two {written} tables, or remove one (an array of tables is \
             written [[...]] every time)"
        ));
    }
    let table = enclosing_table(source, span.start);
    let (path, place) = match &table {
        None => (name.to_string(), "at the top level".to_string()),
        Some(header) if header.starts_with("[[") => (String::new(), format!("in this {header} table")),
        Some(header) => (
            format!("{}.{name}", header.trim_matches(|c| c == '[' || c == ']')),
            format!("in {header}"),
        ),
    };
    Diagnostic::error(
        path,
        Some(span),
        format!("invalid TOML: duplicate key `{name}`: it is set twice {place}"),
    )
    .with_help(format!("keep one `{name}`"))
}

/// The header of the table the line at `offset` is in (`[state_machine]`, `[[steps]]`), or `None` at the top.
fn enclosing_table(source: &str, offset: usize) -> Option<String> {
    let before = source.get(..offset)?;
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    before[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| line.starts_with('['))
        .map(|line| {
            let end = line.rfind(']').map_or(line.len(), |i| i + 1);
            line[..end].to_string()
        })
}

/// What the reader found: problems, and the paths it could not read.
#[derive(Default)]
struct Found {
    diags: Vec<Diagnostic>,
    rejected: BTreeSet<String>,
}

fn read_spec(root: &DeTable<'_>, found: &mut Found) -> Spec {
    let mut spec = Spec::default();
    let mut r = Reader {
        path: String::new(),
        keys: String::new(),
        found,
    };
    for (key, value) in r.known(root) {
        match key.get_ref().as_ref() {
            "name" => spec.name = r.string("name", value),
            "tags" => spec.tags = r.string_map("tags", value),
            "state_machine" => {
                if let Some(table) = r.table("state_machine", value) {
                    spec.state_machine = read_state_machine(&mut r.nested("state_machine"), table);
                }
            }
            "steps" => spec.steps = read_steps(&mut r, value),
            "queues" => spec.queues = read_entries(&mut r, "queues", value, read_queue),
            "topics" => spec.topics = read_entries(&mut r, "topics", value, read_topic),
            "buses" => spec.buses = read_entries(&mut r, "buses", value, read_bus),
            "callback" => {
                if let Some(table) = r.table("callback", value) {
                    spec.callback = read_callback(&mut r.nested("callback"), table);
                }
            }
            "alarms" => {
                if let Some(table) = r.table("alarms", value) {
                    spec.alarms = Some(read_alarms(&mut r.nested("alarms"), table, key.span()));
                }
            }
            "logs" => {
                if let Some(table) = r.table("logs", value) {
                    spec.log_encryption = read_logs(&mut r.nested("logs"), table);
                }
            }
            _ => r.unknown(key),
        }
    }
    spec
}

fn read_alarms(r: &mut Reader<'_>, table: &DeTable<'_>, span: Span) -> AlarmsSpec {
    let mut alarms = AlarmsSpec {
        span,
        ..AlarmsSpec::default()
    };
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "period" => alarms.period = r.string("period", value),
            "evaluation_periods" => alarms.evaluation_periods = r.integer("evaluation_periods", value),
            _ => r.unknown(key),
        }
    }
    alarms
}

/// `[logs]`: its `encryption`.
fn read_logs(r: &mut Reader<'_>, table: &DeTable<'_>) -> Option<Located<String>> {
    let mut encryption = None;
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "encryption" => encryption = r.string("encryption", value),
            _ => r.unknown(key),
        }
    }
    encryption
}

fn read_state_machine(r: &mut Reader<'_>, table: &DeTable<'_>) -> StateMachineSpec {
    let mut sm = StateMachineSpec::default();
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "timeout" => sm.timeout = r.string("timeout", value),
            "log_level" => sm.log_level = r.string("log_level", value),
            "include_execution_data" => sm.include_execution_data = r.boolean("include_execution_data", value),
            "tracing" => sm.tracing = r.boolean("tracing", value),
            "log_retention_days" => sm.log_retention_days = r.integer("log_retention_days", value),
            "encryption" => sm.encryption = r.string("encryption", value),
            _ => r.unknown(key),
        }
    }
    sm
}

/// `[[steps]]`. An element that is not a table keeps its place, empty, so that every later step keeps its
/// index; it is rejected (resolve reads nothing of it).
fn read_steps(r: &mut Reader<'_>, value: &Spanned<DeValue<'_>>) -> Option<Located<Vec<StepSpec>>> {
    let steps = read_tables(r, "steps", value, read_step, "[[steps]]")?;
    Some(Located::new(steps, value.span()))
}

fn read_step(r: &mut Reader<'_>, table: &DeTable<'_>, span: Span) -> StepSpec {
    let mut step = StepSpec {
        span,
        ..StepSpec::default()
    };
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "name" => step.name = r.string("name", value),
            "queue" => step.queue = r.string("queue", value),
            "topic" => step.topic = r.string("topic", value),
            "bus" => step.bus = r.string("bus", value),
            "timeout" => step.timeout = r.string("timeout", value),
            "heartbeat" => step.heartbeat = r.string("heartbeat", value),
            "input_path" => step.input_path = r.string("input_path", value),
            "for_each" => step.for_each = r.string("for_each", value),
            "max_concurrency" => step.max_concurrency = r.integer("max_concurrency", value),
            "max_items" => step.max_items = r.integer("max_items", value),
            "tolerated_failure_percentage" => {
                step.tolerated_failure_percentage = r.integer("tolerated_failure_percentage", value)
            }
            "approval" => step.approval = r.boolean("approval", value),
            "message" => (step.message, step.message_keys) = read_message(r, value),
            "retry" => step.retry = read_tables(r, "retry", value, read_retry, "[[steps.retry]]").unwrap_or_default(),
            "catch" => step.catch = read_tables(r, "catch", value, read_catch, "[[steps.catch]]").unwrap_or_default(),
            _ => r.unknown(key),
        }
    }
    step
}

/// A step's static message fields.
type Message = (Vec<(Located<String>, serde_json::Value)>, Vec<MessageKey>);

/// `message = { ... }`: any TOML values, as JSON, and every key written in it, at any depth.
fn read_message(r: &mut Reader<'_>, value: &Spanned<DeValue<'_>>) -> Message {
    let Some(table) = r.table("message", value) else {
        return Message::default();
    };
    let mut mr = r.nested("message");
    let mut keys = Vec::new();
    let mut fields = Vec::new();
    for (k, v) in table.iter() {
        let name = k.get_ref().to_string();
        let path = key_segment(&name);
        keys.push(MessageKey {
            path: mr.join(&path),
            key: Located::new(name.clone(), k.span()),
        });
        if let Some(json) = mr.json(&path, v, &mut keys) {
            fields.push((Located::new(name, k.span()), json));
        }
    }
    (fields, keys)
}

/// A key as a path writes it: bare when TOML would write it bare, quoted otherwise (`"copy.$"`).
fn key_segment(name: &str) -> String {
    let bare = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare { name.to_string() } else { format!("{name:?}") }
}

/// An array of tables (`[[steps]]`, `[[steps.retry]]`), each read by `read`; `None` when `key` does not
/// hold an array. An element that is not a table is reported, rejected and read as an empty table at its
/// place, so that the elements after it keep their indexes.
fn read_tables<T>(
    r: &mut Reader<'_>,
    key: &str,
    value: &Spanned<DeValue<'_>>,
    read: fn(&mut Reader<'_>, &DeTable<'_>, Span) -> T,
    written: &str,
) -> Option<Vec<T>> {
    let DeValue::Array(items) = value.get_ref() else {
        r.type_error(key, value, &format!("an array of tables, written as {written}"));
        return None;
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut er = r.element(key, index);
        match item.get_ref() {
            DeValue::Table(table) => out.push(read(&mut er, table, item.span())),
            _ => {
                er.type_error_here(item, &format!("a table, written as {written}"));
                out.push(read(&mut er, &DeTable::new(), item.span()));
            }
        }
    }
    Some(out)
}

fn read_retry(r: &mut Reader<'_>, table: &DeTable<'_>, span: Span) -> RetrySpec {
    let mut retry = RetrySpec {
        span,
        ..RetrySpec::default()
    };
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "errors" => retry.errors = r.strings("errors", value),
            "attempts" => retry.attempts = r.integer("attempts", value),
            "interval" => retry.interval = r.string("interval", value),
            "backoff_rate" => retry.backoff_rate = r.float("backoff_rate", value),
            "max_delay" => retry.max_delay = r.string("max_delay", value),
            "jitter" => retry.jitter = r.boolean("jitter", value),
            _ => r.unknown(key),
        }
    }
    retry
}

fn read_catch(r: &mut Reader<'_>, table: &DeTable<'_>, span: Span) -> CatchSpec {
    let mut catch = CatchSpec {
        span,
        ..CatchSpec::default()
    };
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "errors" => catch.errors = r.strings("errors", value),
            "next" => catch.next = r.string("next", value),
            "fail" => {
                if let Some(table) = r.table("fail", value) {
                    let fail = read_fail(&mut r.nested("fail"), table);
                    catch.fail = Some(Located::new(fail, value.span()));
                }
            }
            _ => r.unknown(key),
        }
    }
    catch
}

fn read_fail(r: &mut Reader<'_>, table: &DeTable<'_>) -> FailSpec {
    let mut fail = FailSpec::default();
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "error" => fail.error = r.string("error", value),
            "cause" => fail.cause = r.string("cause", value),
            _ => r.unknown(key),
        }
    }
    fail
}

/// A map of tables keyed by resource name (`[queues.KEY]`, `[topics.KEY]`, `[buses.KEY]`), each read by
/// `read`, in file order; an entry that is not a table is reported and left out.
fn read_entries<T>(
    r: &mut Reader<'_>,
    map: &str,
    value: &Spanned<DeValue<'_>>,
    read: fn(&mut Reader<'_>, &DeTable<'_>) -> T,
) -> Vec<(Located<String>, T)> {
    let Some(table) = r.table(map, value) else {
        return Vec::new();
    };
    if table.is_empty() {
        // The key table (and so the schema and the README) says at least one table: an empty `[queues]` is most
        // likely a `[queues.KEY]` whose key went missing.
        r.report(
            Diagnostic::error(r.join(map), Some(value.span()), format!("`[{map}]` declares no entry"))
                .with_help(format!("declare one as `[{map}.KEY]`, or remove `[{map}]`")),
        );
        return Vec::new();
    }
    let mut map_reader = r.nested(map);
    let mut entries = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let mut er = map_reader.entry(&name);
        let Some(entry_table) = er.table_here(value) else {
            continue;
        };
        let entry = read(&mut er, entry_table);
        entries.push((Located::new(name, key.span()), entry));
    }
    entries
}

fn read_topic(r: &mut Reader<'_>, table: &DeTable<'_>) -> TopicSpec {
    let mut topic = TopicSpec::default();
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "fifo" => topic.fifo = r.boolean("fifo", value),
            "encryption" => topic.encryption = r.string("encryption", value),
            "subscriptions" => {
                topic.subscriptions = read_tables(
                    r,
                    "subscriptions",
                    value,
                    read_subscription,
                    "subscriptions = [{ protocol = \"sqs\", endpoint = \"arn:...\" }]",
                )
            }
            "dead_letter" => topic.dead_letter = r.boolean("dead_letter", value),
            _ => r.unknown(key),
        }
    }
    topic
}

fn read_subscription(r: &mut Reader<'_>, table: &DeTable<'_>, span: Span) -> SubscriptionSpec {
    let mut subscription = SubscriptionSpec {
        span,
        ..SubscriptionSpec::default()
    };
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "protocol" => subscription.protocol = r.string("protocol", value),
            "endpoint" => subscription.endpoint = r.string("endpoint", value),
            _ => r.unknown(key),
        }
    }
    subscription
}

fn read_bus(r: &mut Reader<'_>, table: &DeTable<'_>) -> BusSpec {
    let mut bus = BusSpec::default();
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "name" => bus.name = r.string("name", value),
            "source" => bus.source = r.string("source", value),
            "detail_type" => bus.detail_type = r.string("detail_type", value),
            "dead_letter" => bus.dead_letter = r.boolean("dead_letter", value),
            _ => r.unknown(key),
        }
    }
    bus
}

fn read_queue(r: &mut Reader<'_>, table: &DeTable<'_>) -> QueueSpec {
    let mut queue = QueueSpec::default();
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "visibility_timeout" => queue.visibility_timeout = r.string("visibility_timeout", value),
            "retention" => queue.retention = r.string("retention", value),
            "receive_wait" => queue.receive_wait = r.string("receive_wait", value),
            "fifo" => queue.fifo = r.boolean("fifo", value),
            "encryption" => queue.encryption = r.string("encryption", value),
            "dead_letter" => queue.dead_letter = read_dead_letter(r, value),
            _ => r.unknown(key),
        }
    }
    queue
}

fn read_dead_letter(r: &mut Reader<'_>, value: &Spanned<DeValue<'_>>) -> Option<Located<DeadLetterSpec>> {
    match value.get_ref() {
        DeValue::Boolean(false) => Some(Located::new(DeadLetterSpec::Off, value.span())),
        DeValue::Boolean(true) => Some(Located::new(
            DeadLetterSpec::On {
                max_receives: None,
                fail_execution: None,
            },
            value.span(),
        )),
        DeValue::Table(table) => {
            let mut dr = r.nested("dead_letter");
            let (mut max_receives, mut fail_execution) = (None, None);
            for (key, v) in dr.known(table) {
                match key.get_ref().as_ref() {
                    "max_receives" => max_receives = dr.integer("max_receives", v),
                    "fail_execution" => fail_execution = dr.boolean("fail_execution", v),
                    _ => dr.unknown(key),
                }
            }
            Some(Located::new(
                DeadLetterSpec::On {
                    max_receives,
                    fail_execution,
                },
                value.span(),
            ))
        }
        _ => {
            r.type_error(
                "dead_letter",
                value,
                "`false` or a table such as `{ max_receives = 5 }`",
            );
            None
        }
    }
}

fn read_callback(r: &mut Reader<'_>, table: &DeTable<'_>) -> CallbackSpec {
    let mut cb = CallbackSpec::default();
    for (key, value) in r.known(table) {
        match key.get_ref().as_ref() {
            "memory_mb" => cb.memory_mb = r.integer("memory_mb", value),
            "timeout" => cb.timeout = r.string("timeout", value),
            "architecture" => cb.architecture = r.string("architecture", value),
            "reserved_concurrency" => cb.reserved_concurrency = r.integer("reserved_concurrency", value),
            "log_retention_days" => cb.log_retention_days = r.integer("log_retention_days", value),
            "endpoint" => cb.endpoint = r.string("endpoint", value),
            "endpoint_secret" => cb.endpoint_secret = r.string("endpoint_secret", value),
            "endpoint_replay_window" => cb.endpoint_replay_window = r.string("endpoint_replay_window", value),
            "endpoint_reserved_concurrency" => {
                cb.endpoint_reserved_concurrency = r.integer("endpoint_reserved_concurrency", value)
            }
            _ => r.unknown(key),
        }
    }
    cb
}

/// A key of a TOML table, as written.
type TableKey<'t, 'i> = &'t Spanned<Cow<'i, str>>;

/// Reads typed values out of one table, reporting type errors and unknown keys under `path`.
struct Reader<'d> {
    /// The table's path in messages: `steps[1].retry[0]`, `queues.main`.
    path: String,
    /// The table's path in [`keys`]: `steps[].retry[]`, `queues.*`.
    keys: String,
    found: &'d mut Found,
}

impl Reader<'_> {
    /// The reader of the table at `key` of this one.
    fn nested(&mut self, key: &str) -> Reader<'_> {
        Reader {
            path: self.join(key),
            keys: join_keys(&self.keys, key),
            found: self.found,
        }
    }

    /// The reader of the `index`th table of the array of tables at `key`.
    fn element(&mut self, key: &str, index: usize) -> Reader<'_> {
        Reader {
            path: self.join(&format!("{key}[{index}]")),
            keys: join_keys(&self.keys, &format!("{key}[]")),
            found: self.found,
        }
    }

    /// The reader of the table at `name`, an entry of this map (`[queues.NAME]`).
    fn entry(&mut self, name: &str) -> Reader<'_> {
        Reader {
            path: self.join(name),
            keys: join_keys(&self.keys, "*"),
            found: self.found,
        }
    }

    fn join(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else if key.starts_with('[') {
            format!("{}{key}", self.path)
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// The entries of `table` whose keys [`keys`] lists for this table; every other one is reported.
    fn known<'t, 'i>(&mut self, table: &'t DeTable<'i>) -> Vec<(TableKey<'t, 'i>, &'t Spanned<DeValue<'i>>)> {
        let names = keys::names_in(&self.keys);
        let mut known = Vec::new();
        for (key, value) in table.iter() {
            if names.contains(&key.get_ref().as_ref()) {
                known.push((key, value));
            } else {
                self.unknown(key);
            }
        }
        known
    }

    /// An unknown key; the key it most likely meant, if any, is rejected: its value is written here, misspelt.
    fn unknown(&mut self, key: TableKey<'_, '_>) {
        let known = keys::names_in(&self.keys);
        let name = key.get_ref().as_ref();
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(near) => {
                self.found.rejected.insert(self.join(near));
                format!("did you mean `{near}`?")
            }
            None => format!("expected one of: {}", known.join(", ")),
        };
        self.report(
            Diagnostic::error(self.join(name), Some(key.span()), format!("unknown key `{name}`")).with_help(help),
        );
    }

    /// Reports a problem with the value at the diagnostic's path, which is then rejected.
    fn report(&mut self, diagnostic: Diagnostic) {
        self.found.rejected.insert(diagnostic.path.clone());
        self.found.diags.push(diagnostic);
    }

    fn type_error(&mut self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        let path = self.join(key);
        self.type_error_at(&path, value, expected);
    }

    fn type_error_at(&mut self, path: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        self.report(
            Diagnostic::error(
                path,
                Some(value.span()),
                format!("expected {expected}, found {}", type_name(value.get_ref())),
            )
            .with_help(format!(
                "write `{}` as {expected}",
                path.rsplit('.').next().unwrap_or(path)
            )),
        );
    }

    fn string(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Located::new(s.to_string(), value.span())),
            _ => {
                self.type_error(key, value, "a string");
                None
            }
        }
    }

    fn boolean(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<bool>> {
        match value.get_ref() {
            DeValue::Boolean(b) => Some(Located::new(*b, value.span())),
            _ => {
                self.type_error(key, value, "`true` or `false`");
                None
            }
        }
    }

    fn integer(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<i64>> {
        let DeValue::Integer(i) = value.get_ref() else {
            self.type_error(key, value, "a whole number");
            return None;
        };
        match whole_number(i) {
            Ok(n) => Some(Located::new(n, value.span())),
            Err(problem) => {
                self.bad_number(key, value, &problem);
                None
            }
        }
    }

    fn float(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<f64>> {
        let read = match value.get_ref() {
            DeValue::Integer(i) => whole_number(i).map(|n| n as f64),
            DeValue::Float(f) => number(f),
            _ => {
                self.type_error(key, value, "a number");
                return None;
            }
        };
        match read {
            Ok(n) => Some(Located::new(n, value.span())),
            Err(problem) => {
                self.bad_number(key, value, &problem);
                None
            }
        }
    }

    /// A number sfngen cannot read at `key`: out of range (beyond 64 bits, or infinite), or NaN. The help is
    /// the key's own range, from [`keys`].
    fn bad_number(&mut self, key: &str, value: &Spanned<DeValue<'_>>, problem: &BadNumber) {
        let rule = keys::find(&join_keys(&self.keys, key)).map(|k| k.rule);
        let help = match rule {
            Some(keys::Rule::Integer(range)) => range.help(),
            Some(keys::Rule::Number(range)) => range.help(),
            Some(keys::Rule::Retention(_)) => keys::retention_help(),
            _ => format!("write `{key}` as a number sfngen can read"),
        };
        let path = self.join(key);
        let message = format!("{} {}", keys::leaf(key), problem.message());
        self.report(Diagnostic::error(path, Some(value.span()), message).with_help(help));
    }

    /// An array of strings; `None` (and the array rejected) when it is not one or any element is not a string.
    fn strings(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<Vec<Located<String>>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.type_error(key, value, "an array of strings");
            return None;
        };
        let read: Vec<Option<Located<String>>> = items
            .iter()
            .enumerate()
            .map(|(index, item)| self.string(&format!("{key}[{index}]"), item))
            .collect();
        match read.into_iter().collect::<Option<Vec<_>>>() {
            Some(strings) => Some(Located::new(strings, value.span())),
            None => {
                self.found.rejected.insert(self.join(key));
                None
            }
        }
    }

    /// Any TOML value as JSON (dates become strings), at `path` (from this table); every key in it goes to
    /// `keys`. `None` when a number in it cannot be JSON (each one is reported).
    fn json(
        &mut self,
        path: &str,
        value: &Spanned<DeValue<'_>>,
        keys: &mut Vec<MessageKey>,
    ) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        match value.get_ref() {
            DeValue::String(s) => Some(J::String(s.to_string())),
            DeValue::Integer(i) => match whole_number(i) {
                Ok(n) => Some(J::from(n)),
                Err(problem) => self.json_number_error(path, value, &problem),
            },
            DeValue::Float(f) => match number(f).map(serde_json::Number::from_f64) {
                Ok(Some(n)) => Some(J::Number(n)),
                Ok(None) => self.json_number_error(path, value, &BadNumber::NotANumber(f.to_string())),
                Err(problem) => self.json_number_error(path, value, &problem),
            },
            DeValue::Boolean(b) => Some(J::Bool(*b)),
            DeValue::Datetime(d) => Some(J::String(d.to_string())),
            DeValue::Array(items) => {
                let items: Vec<Option<J>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.json(&format!("{path}[{i}]"), item, keys))
                    .collect();
                items.into_iter().collect::<Option<Vec<_>>>().map(J::Array)
            }
            DeValue::Table(table) => {
                let mut map = Some(serde_json::Map::new());
                for (k, v) in table.iter() {
                    let name = k.get_ref().to_string();
                    let inner_path = format!("{path}.{}", key_segment(&name));
                    keys.push(MessageKey {
                        path: self.join(&inner_path),
                        key: Located::new(name.clone(), k.span()),
                    });
                    let inner = self.json(&inner_path, v, keys);
                    map = map.zip(inner).map(|(mut map, inner)| {
                        map.insert(name, inner);
                        map
                    });
                }
                map.map(J::Object)
            }
        }
    }

    /// A number in `message` that JSON cannot hold as Step Functions reads it.
    fn json_number_error(
        &mut self,
        path: &str,
        value: &Spanned<DeValue<'_>>,
        problem: &BadNumber,
    ) -> Option<serde_json::Value> {
        let (message, help) = match problem {
            BadNumber::TooLarge(written) => (
                format!("{written} does not fit in a 64-bit signed integer"),
                format!(
                    "whole numbers in `message` are from {} to {}; write a larger one as a string",
                    i64::MIN,
                    i64::MAX
                ),
            ),
            BadNumber::Infinite(written) | BadNumber::NotANumber(written) => (
                format!("{written} is not a number JSON can hold"),
                "JSON has no NaN or infinity: write a finite number, or a string such as \"NaN\"".to_string(),
            ),
        };
        let full = self.join(path);
        self.report(Diagnostic::error(full, Some(value.span()), message).with_help(help));
        None
    }

    fn table<'v, 'i>(&mut self, key: &str, value: &'v Spanned<DeValue<'i>>) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.type_error(key, value, "a table");
                None
            }
        }
    }

    /// Like `table`, for a value whose path is this reader's own path.
    fn table_here<'v, 'i>(&mut self, value: &'v Spanned<DeValue<'i>>) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.type_error_here(value, "a table");
                None
            }
        }
    }

    /// A type error for a value whose path is this reader's own path.
    fn type_error_here(&mut self, value: &Spanned<DeValue<'_>>, expected: &str) {
        let path = self.path.clone();
        self.type_error_at(&path, value, expected);
    }

    fn string_map(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Vec<(Located<String>, Located<String>)> {
        let Some(table) = self.table(key, value) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut tr = self.nested(key);
        for (k, v) in table.iter() {
            let name = k.get_ref().to_string();
            if let Some(s) = tr.string(&name, v) {
                out.push((Located::new(name, k.span()), s));
            }
        }
        out
    }
}

/// Why a TOML number cannot be read; each holds the number as written.
enum BadNumber {
    /// An integer beyond a 64-bit signed integer.
    TooLarge(String),
    /// `inf`, `+inf`, `-inf`, or a float too large for `f64` (it reads as infinite).
    Infinite(String),
    /// `nan`, `+nan`, `-nan`.
    NotANumber(String),
}

impl BadNumber {
    /// What is wrong with it, after the key's name.
    fn message(&self) -> String {
        match self {
            BadNumber::TooLarge(written) => format!("{written} is out of range (beyond 64 bits)"),
            BadNumber::Infinite(written) => format!("{written} is out of range"),
            BadNumber::NotANumber(written) => format!("{written} is not a number"),
        }
    }
}

/// A TOML integer that fits in 64 bits.
fn whole_number(i: &DeInteger<'_>) -> Result<i64, BadNumber> {
    i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| BadNumber::TooLarge(i.to_string()))
}

/// A finite TOML float.
fn number(f: &DeFloat<'_>) -> Result<f64, BadNumber> {
    let written = f.to_string();
    match f.as_str().replace('_', "").parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        Ok(n) if n.is_nan() => Err(BadNumber::NotANumber(written)),
        _ => Err(BadNumber::Infinite(written)),
    }
}

/// `table` and `key` joined as [`keys`] writes paths.
fn join_keys(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_contract_key() {
        let src = r#"
name = "orders"
[tags]
team = "payments"
[state_machine]
timeout = "2h"
log_level = "ALL"
include_execution_data = true
tracing = true
log_retention_days = 90
[[steps]]
name = "A"
queue = "main"
timeout = "15m"
heartbeat = "5m"
[queues.main]
visibility_timeout = "1m"
retention = "1d"
fifo = true
encryption = "kms"
dead_letter = { max_receives = 3, fail_execution = false }
[callback]
memory_mb = 256
timeout = "20s"
architecture = "x86_64"
reserved_concurrency = 4
log_retention_days = 7
"#;
        let (spec, diags) = parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(spec.name.unwrap().value, "orders");
        assert_eq!(spec.tags[0].1.value, "payments");
        assert_eq!(spec.state_machine.log_retention_days.unwrap().value, 90);
        let steps = spec.steps.unwrap().value;
        assert_eq!(steps[0].heartbeat.as_ref().unwrap().value, "5m");
        let (key, queue) = &spec.queues[0];
        assert_eq!(key.value, "main");
        assert!(queue.fifo.as_ref().unwrap().value);
        assert!(matches!(
            queue.dead_letter.as_ref().unwrap().value,
            DeadLetterSpec::On {
                max_receives: Some(Located { value: 3, .. }),
                fail_execution: Some(Located { value: false, .. }),
            }
        ));
        assert_eq!(spec.callback.reserved_concurrency.unwrap().value, 4);
    }

    #[test]
    fn reports_every_unknown_key_and_type_error() {
        let src = "name = 3\nnmae = \"x\"\n[queues.main]\nvisiblity_timeout = \"5m\"\nfifo = \"yes\"\n";
        let (_, diags) = parse(src);
        let paths: Vec<_> = diags.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            ["name", "nmae", "queues.main.visiblity_timeout", "queues.main.fifo"]
        );
        assert_eq!(diags[2].help.as_deref(), Some("did you mean `visibility_timeout`?"));
    }

    #[test]
    fn what_could_not_be_read_is_rejected_by_path() {
        let src = "nmae = \"x\"\n[state_machine]\ntimeout = 5\n[callback]\nmemory_mb = 99999999999999999999\n\
                   [[steps]]\nname = \"A\"\nretry = [5, { errors = [\"E\", 1] }]\n";
        let (spec, diags) = parse(src);
        let rejected: Vec<&str> = spec.rejected.iter().map(String::as_str).collect();
        assert_eq!(
            rejected,
            [
                "callback.memory_mb",
                "name",
                "nmae",
                "state_machine.timeout",
                "steps[0].retry[0]",
                "steps[0].retry[1].errors",
                "steps[0].retry[1].errors[1]",
            ]
        );
        assert_eq!(diags.len(), 5, "{diags:?}");
        // The element that is not a table keeps its place.
        let steps = spec.steps.unwrap().value;
        assert_eq!(steps[0].retry.len(), 2);
        assert!(steps[0].retry[1].errors.is_none());
    }

    #[test]
    fn every_key_of_a_message_is_listed_with_its_path() {
        let src = "[[steps]]\nmessage = { a = 1, \"b.$\" = \"$\", c = { d = [{ \"e f\" = 2 }, 3] } }\n";
        let (spec, diags) = parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        let step = &spec.steps.unwrap().value[0];
        let paths: Vec<&str> = step.message_keys.iter().map(|k| k.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "steps[0].message.a",
                "steps[0].message.\"b.$\"",
                "steps[0].message.c",
                "steps[0].message.c.d",
                "steps[0].message.c.d[0].\"e f\"",
            ]
        );
        let key = &step.message_keys[4].key;
        assert_eq!((key.value.as_str(), &src[key.span.clone()]), ("e f", "\"e f\""));
        assert_eq!(step.message.len(), 3);
    }

    #[test]
    fn numbers_beyond_what_sfngen_reads_say_so_at_their_key() {
        let src = "[callback]\nmemory_mb = 99999999999999999999\n[[steps]]\nmessage = { x = nan }\n\
                   [[steps.retry]]\nbackoff_rate = inf\n";
        let (_, diags) = parse(src);
        let found: Vec<(&str, &str)> = diags.iter().map(|d| (d.path.as_str(), d.message.as_str())).collect();
        assert_eq!(
            found,
            [
                (
                    "callback.memory_mb",
                    "memory_mb 99999999999999999999 is out of range (beyond 64 bits)"
                ),
                ("steps[0].message.x", "nan is not a number JSON can hold"),
                ("steps[0].retry[0].backoff_rate", "backoff_rate inf is out of range"),
            ]
        );
        assert_eq!(
            diags[0].help.as_deref(),
            Some("use a whole number of MB from 128 to 10240")
        );
    }

    #[test]
    fn a_duplicate_key_is_named_with_its_table() {
        let message = |src: &str| {
            let (_, diags) = parse(src);
            (diags[0].path.clone(), diags[0].message.clone())
        };
        assert_eq!(
            message("[callback]\nmemory_mb = 1\nmemory_mb = 2\n"),
            (
                "callback.memory_mb".into(),
                "invalid TOML: duplicate key `memory_mb`: it is set twice in [callback]".into()
            )
        );
        assert_eq!(
            message("[[steps]]\nname = \"A\"\n\"name\" = \"B\"\n"),
            (
                String::new(),
                "invalid TOML: duplicate key `name`: it is set twice in this [[steps]] table".into()
            )
        );
        assert_eq!(
            message("[queues.a]\n[queues.a]\n").1,
            "invalid TOML: duplicate key `a`: [queues.a] defines a table that is already defined"
        );
    }

    #[test]
    fn an_empty_map_of_channels_is_an_error_at_its_key_as_the_schema_says() {
        for map in ["queues", "topics", "buses"] {
            let (_, diags) = parse(&format!("[{map}]\n"));
            let paths: Vec<&str> = diags.iter().map(|d| d.path.as_str()).collect();
            assert_eq!(paths, [map], "{diags:?}");
            assert_eq!(diags[0].message, format!("`[{map}]` declares no entry"));
            assert!(diags[0].span.is_some());
        }
        let (_, diags) = parse("[queues.a]\n");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn syntax_errors_are_one_diagnostic_with_a_span() {
        let (_, diags) = parse("name = \n");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.starts_with("invalid TOML"));
        assert!(diags[0].span.is_some());
    }
}
