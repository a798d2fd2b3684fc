//! The state machine definition (Amazon States Language), as a standalone `*.asl.json` file.
//!
//! Values only known at apply time are `templatefile()` placeholders: `${partition}` and one
//! `${queue_url_KEY}` per queue. Everything else is literal, so a reviewer reads the real workflow.
//!
//! The definition is serialized straight from borrowed structs (no JSON tree, no key allocated per
//! state), so that a workflow of a thousand steps costs about a microsecond per step.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde::ser::SerializeMap as _;
use serde_json::Value;

use super::{ASL_FILE, GeneratedFile, generated_header, queue_url_var};
use crate::model::{Catch, CatchTarget, Model, Retry, Step};

/// Renders the ASL file.
pub fn render(model: &Model) -> GeneratedFile {
    let mut text = serde_json::to_string_pretty(&Definition::of(model)).unwrap_or_default();
    text.push('\n');
    GeneratedFile::text(ASL_FILE, text)
}

/// The definition as JSON.
pub fn definition(model: &Model) -> Value {
    serde_json::to_value(Definition::of(model)).unwrap_or_default()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition<'a> {
    comment: String,
    start_at: &'a str,
    timeout_seconds: u64,
    states: OrderedMap<'a, State<'a>>,
}

impl<'a> Definition<'a> {
    fn of(model: &'a Model) -> Self {
        // Looked up once per step: a set, so that many steps over many queues stay linear.
        let fifo_queues: HashSet<&str> = model.queues.iter().filter(|q| q.fifo).map(|q| q.key.as_str()).collect();
        let mut states = OrderedMap::default();
        for (index, step) in model.steps.iter().enumerate() {
            let next = model.steps.get(index + 1).map(|s| s.name.as_str());
            let fifo = fifo_queues.contains(step.queue.as_str());
            states.insert(&step.name, State::Task(Box::new(task_state(step, fifo, next))));
        }
        for step in &model.steps {
            for catch in &step.catch {
                if let CatchTarget::Fail { state, error, cause } = &catch.target {
                    let fail = Fail {
                        kind: "Fail",
                        comment: format!("Ends the execution when {:?} fails.", step.name),
                        error,
                        cause: cause.as_deref(),
                    };
                    states.insert(state, State::Fail(fail));
                }
            }
        }
        Definition {
            comment: format!(
                "{} The {} callback workflow: each Task sends its input and a task token to SQS and waits for SendTaskSuccess/SendTaskFailure.",
                generated_header(model),
                model.name
            ),
            start_at: model.steps.first().map(|s| s.name.as_str()).unwrap_or_default(),
            timeout_seconds: model.state_machine.timeout_seconds,
            states,
        }
    }
}

/// A JSON object that keeps insertion order; inserting a key again replaces its value in place.
struct OrderedMap<'a, V> {
    entries: Vec<(&'a str, V)>,
    index: HashMap<&'a str, usize>,
}

impl<V> Default for OrderedMap<'_, V> {
    fn default() -> Self {
        OrderedMap {
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }
}

impl<'a, V> OrderedMap<'a, V> {
    fn insert(&mut self, key: &'a str, value: V) {
        match self.index.get(key) {
            Some(&at) => self.entries[at].1 = value,
            None => {
                self.index.insert(key, self.entries.len());
                self.entries.push((key, value));
            }
        }
    }
}

impl<V: Serialize> Serialize for OrderedMap<'_, V> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (key, value) in &self.entries {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(untagged)]
enum State<'a> {
    Task(Box<Task<'a>>),
    Fail(Fail<'a>),
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Task<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    comment: String,
    resource: &'static str,
    parameters: Parameters<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    heartbeat_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    retry: Vec<Retrier<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    catch: Vec<Catcher<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<bool>,
}

#[derive(Serialize)]
struct Parameters<'a> {
    #[serde(rename = "QueueUrl")]
    queue_url: String,
    #[serde(rename = "MessageBody")]
    message_body: OrderedMap<'a, BodyValue<'a>>,
    #[serde(rename = "MessageGroupId.$", skip_serializing_if = "Option::is_none")]
    message_group_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Fail<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    comment: String,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Retrier<'a> {
    error_equals: &'a [String],
    interval_seconds: u64,
    max_attempts: u32,
    backoff_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_delay_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    jitter_strategy: Option<&'static str>,
}

/// A caught error goes to `$.error` of the state input, so the next state still has the input.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Catcher<'a> {
    error_equals: &'a [String],
    result_path: &'static str,
    next: &'a str,
}

/// A value of the message body: a JSONPath or the spec's own JSON.
#[derive(Serialize)]
#[serde(untagged)]
enum BodyValue<'a> {
    Text(&'a str),
    Json(&'a Value),
}

fn task_state<'a>(step: &'a Step, fifo: bool, next: Option<&'a str>) -> Task<'a> {
    // The message: the state input (or the part input_path selects), the task token, static fields.
    let mut body = OrderedMap::default();
    body.insert("input.$", BodyValue::Text(&step.input_path));
    body.insert("token.$", BodyValue::Text("$$.Task.Token"));
    for (key, value) in &step.message_fields {
        body.insert(key, BodyValue::Json(value));
    }
    Task {
        kind: "Task",
        comment: format!("Waits for a callback on queue \"{}\".", step.queue),
        resource: "arn:${partition}:states:::sqs:sendMessage.waitForTaskToken",
        parameters: Parameters {
            queue_url: format!("${{{}}}", queue_url_var(&step.queue)),
            message_body: body,
            // One message group per execution: messages of one execution stay in order, executions run in parallel.
            message_group_id: fifo.then_some("$$.Execution.Name"),
        },
        timeout_seconds: step.timeout_seconds,
        heartbeat_seconds: step.heartbeat_seconds,
        retry: step.retry.iter().map(retrier).collect(),
        catch: step.catch.iter().map(catcher).collect(),
        end: next.is_none().then_some(true),
        next,
    }
}

fn retrier(retry: &Retry) -> Retrier<'_> {
    Retrier {
        error_equals: &retry.errors,
        interval_seconds: retry.interval_seconds,
        max_attempts: retry.max_attempts,
        backoff_rate: f64::from(retry.backoff_rate_milli) / 1000.0,
        max_delay_seconds: retry.max_delay_seconds,
        jitter_strategy: retry.jitter.then_some("FULL"),
    }
}

fn catcher(catch: &Catch) -> Catcher<'_> {
    let next = match &catch.target {
        CatchTarget::Step(name) => name,
        CatchTarget::Fail { state, .. } => state,
    };
    Catcher {
        error_equals: &catch.errors,
        result_path: "$.error",
        next,
    }
}
