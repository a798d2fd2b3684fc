//! The spec front end: `sfngen.toml` as written, with every value's location kept.
//!
//! This stage only checks the *shape* of the document: TOML syntax, known keys (with "did you mean"),
//! and value types. It applies no defaults and checks no ranges; `resolve` does that, so that every
//! rule about values lives in one place. It collects every problem it finds instead of stopping at
//! the first one. Which keys exist is [`keys`]'s to say: a key it does not list is unknown.

pub mod keys;

use std::borrow::Cow;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Diagnostic, did_you_mean};

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
    /// `[callback]`.
    pub callback: CallbackSpec,
    /// `[alarms]`: present turns the CloudWatch alarms on.
    pub alarms: Option<AlarmsSpec>,
    /// `[logs] encryption`: `"cloudwatch"` (default) or `"kms"` (the module's key).
    pub log_encryption: Option<Located<String>>,
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
    /// `timeout`, a duration.
    pub timeout: Option<Located<String>>,
    /// `heartbeat`, a duration.
    pub heartbeat: Option<Located<String>>,
    /// `input_path`: the JSONPath of the state input that goes into the message as `input`.
    pub input_path: Option<Located<String>>,
    /// `message`: static fields added to the message body, in file order.
    pub message: Vec<(Located<String>, serde_json::Value)>,
    /// `[[steps.retry]]`, in order.
    pub retry: Vec<RetrySpec>,
    /// `[[steps.catch]]`, in order.
    pub catch: Vec<CatchSpec>,
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
}

/// Parses the text of a spec. Always returns a (possibly partial) spec and every problem found.
pub fn parse(source: &str) -> (Spec, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let root = match DeTable::parse(source) {
        Ok(root) => root,
        Err(err) => {
            let message = err.message().trim_end().replace('\n', " ");
            diags.push(
                Diagnostic::error("", err.span(), format!("invalid TOML: {message}"))
                    .with_help("fix the TOML syntax; see https://toml.io"),
            );
            return (Spec::default(), diags);
        }
    };
    let spec = read_spec(root.get_ref(), &mut diags);
    diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
    (spec, diags)
}

fn read_spec(root: &DeTable<'_>, diags: &mut Vec<Diagnostic>) -> Spec {
    let mut spec = Spec::default();
    let mut r = Reader {
        path: String::new(),
        keys: String::new(),
        diags,
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
            "queues" => spec.queues = read_queues(&mut r, value),
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

fn read_steps(r: &mut Reader<'_>, value: &Spanned<DeValue<'_>>) -> Option<Located<Vec<StepSpec>>> {
    let DeValue::Array(items) = value.get_ref() else {
        r.type_error("steps", value, "an array of tables, written as [[steps]]");
        return None;
    };
    let mut steps = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut sr = r.element("steps", index);
        let DeValue::Table(table) = item.get_ref() else {
            sr.type_error_here(item, "a table, written as [[steps]]");
            continue;
        };
        steps.push(read_step(&mut sr, table, item.span()));
    }
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
            "timeout" => step.timeout = r.string("timeout", value),
            "heartbeat" => step.heartbeat = r.string("heartbeat", value),
            "input_path" => step.input_path = r.string("input_path", value),
            "message" => step.message = read_message(r, value),
            "retry" => step.retry = read_tables(r, "retry", value, read_retry),
            "catch" => step.catch = read_tables(r, "catch", value, read_catch),
            _ => r.unknown(key),
        }
    }
    step
}

/// `message = { ... }`: any TOML values, as JSON.
fn read_message(r: &mut Reader<'_>, value: &Spanned<DeValue<'_>>) -> Vec<(Located<String>, serde_json::Value)> {
    let Some(table) = r.table("message", value) else {
        return Vec::new();
    };
    let mut mr = r.nested("message");
    table
        .iter()
        .filter_map(|(k, v)| {
            let name = k.get_ref().to_string();
            mr.json(&name, v).map(|json| (Located::new(name, k.span()), json))
        })
        .collect()
}

/// An array of tables (`[[steps.retry]]`), each read by `read`.
fn read_tables<T>(
    r: &mut Reader<'_>,
    key: &str,
    value: &Spanned<DeValue<'_>>,
    read: fn(&mut Reader<'_>, &DeTable<'_>, Span) -> T,
) -> Vec<T> {
    let DeValue::Array(items) = value.get_ref() else {
        r.type_error(key, value, &format!("an array of tables, written as [[steps.{key}]]"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let mut er = r.element(key, index);
        match item.get_ref() {
            DeValue::Table(table) => out.push(read(&mut er, table, item.span())),
            _ => er.type_error_here(item, "a table"),
        }
    }
    out
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

fn read_queues(r: &mut Reader<'_>, value: &Spanned<DeValue<'_>>) -> Vec<(Located<String>, QueueSpec)> {
    let Some(table) = r.table("queues", value) else {
        return Vec::new();
    };
    let mut queues_reader = r.nested("queues");
    let mut queues = Vec::new();
    for (key, value) in table.iter() {
        let name = key.get_ref().to_string();
        let mut qr = queues_reader.entry(&name);
        let Some(queue_table) = qr.table_here(value) else {
            continue;
        };
        let queue = read_queue(&mut qr, queue_table);
        queues.push((Located::new(name, key.span()), queue));
    }
    queues
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
    diags: &'d mut Vec<Diagnostic>,
}

impl Reader<'_> {
    /// The reader of the table at `key` of this one.
    fn nested(&mut self, key: &str) -> Reader<'_> {
        Reader {
            path: self.join(key),
            keys: join_keys(&self.keys, key),
            diags: self.diags,
        }
    }

    /// The reader of the `index`th table of the array of tables at `key`.
    fn element(&mut self, key: &str, index: usize) -> Reader<'_> {
        Reader {
            path: self.join(&format!("{key}[{index}]")),
            keys: join_keys(&self.keys, &format!("{key}[]")),
            diags: self.diags,
        }
    }

    /// The reader of the table at `name`, an entry of this map (`[queues.NAME]`).
    fn entry(&mut self, name: &str) -> Reader<'_> {
        Reader {
            path: self.join(name),
            keys: join_keys(&self.keys, "*"),
            diags: self.diags,
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

    fn unknown(&mut self, key: TableKey<'_, '_>) {
        let known = keys::names_in(&self.keys);
        let name = key.get_ref().as_ref();
        let help = match did_you_mean(name, known.iter().copied()) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("expected one of: {}", known.join(", ")),
        };
        self.diags.push(
            Diagnostic::error(self.join(name), Some(key.span()), format!("unknown key `{name}`")).with_help(help),
        );
    }

    fn type_error(&mut self, key: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        let path = self.join(key);
        self.type_error_at(&path, value, expected);
    }

    fn type_error_at(&mut self, path: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        self.diags.push(
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
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match parsed {
            Some(n) => Some(Located::new(n, value.span())),
            None => {
                self.type_error(key, value, "a whole number");
                None
            }
        }
    }

    fn float(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<f64>> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok().map(|n| n as f64),
            DeValue::Float(f) => f
                .as_str()
                .replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite()),
            _ => None,
        };
        match parsed {
            Some(n) => Some(Located::new(n, value.span())),
            None => {
                self.type_error(key, value, "a number");
                None
            }
        }
    }

    fn strings(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Located<Vec<Located<String>>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.type_error(key, value, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for (index, item) in items.iter().enumerate() {
            if let Some(s) = self.string(&format!("{key}[{index}]"), item) {
                out.push(s);
            }
        }
        Some(Located::new(out, value.span()))
    }

    /// Any TOML value as JSON (dates become strings).
    fn json(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<serde_json::Value> {
        use serde_json::Value as J;
        Some(match value.get_ref() {
            DeValue::String(s) => J::String(s.to_string()),
            DeValue::Integer(_) => J::from(self.integer(key, value)?.value),
            DeValue::Float(_) => serde_json::Number::from_f64(self.float(key, value)?.value).map(J::Number)?,
            DeValue::Boolean(b) => J::Bool(*b),
            DeValue::Datetime(d) => J::String(d.to_string()),
            DeValue::Array(items) => J::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.json(&format!("{key}[{i}]"), item))
                    .collect::<Option<Vec<_>>>()?,
            ),
            DeValue::Table(table) => {
                let mut map = serde_json::Map::new();
                for (k, v) in table.iter() {
                    let name = k.get_ref().to_string();
                    let inner = self.json(&format!("{key}.{name}"), v)?;
                    map.insert(name, inner);
                }
                J::Object(map)
            }
        })
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
    fn syntax_errors_are_one_diagnostic_with_a_span() {
        let (_, diags) = parse("name = \n");
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.starts_with("invalid TOML"));
        assert!(diags[0].span.is_some());
    }
}
