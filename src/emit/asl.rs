//! The state machine definition (Amazon States Language), as a standalone `*.asl.json` file.
//!
//! Values only known at apply time are `templatefile()` placeholders: `${partition}` and one variable per
//! channel ([`channel_var`]: `${queue_url_KEY}`, `${topic_arn_KEY}`, `${bus_arn_KEY}`). Everything else is literal, so a reviewer reads the real workflow.
//! Because `templatefile()` reads this file, every text that comes from the spec is escaped for it
//! (`${` → `$${`, `%{` → `%%{`) and reaches AWS verbatim.
//!
//! The definition is serialized straight from structs that borrow the model (no JSON tree is built),
//! and a text is copied only when it holds something to escape, so that a step costs a few
//! microseconds however many there are.

use std::borrow::Cow;
use std::collections::HashMap;

use serde::Serialize;
use serde::ser::{SerializeMap as _, SerializeSeq as _};
use serde_json::Value;

use super::{ASL_FILE, GeneratedFile, channel_var, generated_header};
use crate::model::{
    Catch, CatchTarget, Channel, MESSAGE_CONTEXT, MESSAGE_CONTEXT_FIELD, MESSAGE_GROUP_ID, Model, Retry, Step,
};

/// Renders the ASL file: spec text escaped for `templatefile()`, placeholders in.
pub fn render(model: &Model) -> GeneratedFile {
    let definition = Definition::of(model, &Values::Placeholders);
    let mut text = serde_json::to_string_pretty(&definition).expect("bug: the ASL definition failed to serialise");
    text.push('\n');
    GeneratedFile::text(ASL_FILE, text)
}

/// The definition AWS receives once `templatefile()` has run with these values (`channel_value` gives each
/// channel's variable, by its name: [`channel_var`]): every spec text verbatim.
/// Tests compare what Terraform evaluates and what the emulator stores against it.
pub fn deployed_definition(model: &Model, partition: &str, channel_value: &dyn Fn(&str) -> String) -> Value {
    let definition = Definition::of(
        model,
        &Values::Deployed {
            partition,
            channel_value,
        },
    );
    serde_json::to_value(definition).expect("bug: the ASL definition failed to convert to JSON")
}

/// The definition's text once `templatefile()` has run with these values, byte for byte: the file's layout with
/// every placeholder filled and every escape undone.
pub fn deployed_text(model: &Model, partition: &str, channel_value: &dyn Fn(&str) -> String) -> String {
    let definition = Definition::of(
        model,
        &Values::Deployed {
            partition,
            channel_value,
        },
    );
    let mut text = serde_json::to_string_pretty(&definition).expect("bug: the ASL definition failed to serialise");
    text.push('\n');
    text
}

/// The length in bytes of [`deployed_text`], counted as it is written rather than kept: the fit stage measures
/// the definition with the longest values on every render.
pub fn deployed_len(model: &Model, partition: &str, channel_value: &dyn Fn(&str) -> String) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let definition = Definition::of(
        model,
        &Values::Deployed {
            partition,
            channel_value,
        },
    );
    let mut count = Count(0);
    serde_json::to_writer_pretty(&mut count, &definition).expect("bug: the ASL definition failed to serialise");
    count.0 + 1
}

/// The length in bytes of what `templatefile()` makes of the ASL file's `text` with these variables: each
/// `${name}` replaced by its value, each `$${` and `%%{` by the `${` and `%{` they stand for. The file holds no
/// other template syntax (spec text is escaped), so a `${` without a known variable is a bug.
pub fn deployed_len_of_file(text: &str, value: &dyn Fn(&str) -> Option<String>) -> u64 {
    let bytes = text.as_bytes();
    let mut length = bytes.len() as u64;
    let mut at = 0;
    while let Some(found) = bytes[at..]
        .windows(2)
        .position(|w| w[1] == b'{' && matches!(w[0], b'$' | b'%'))
    {
        let start = at + found;
        if start > 0 && bytes[start - 1] == bytes[start] {
            // `$${` or `%%{`: one character less once evaluated.
            length -= 1;
            at = start + 2;
            continue;
        }
        if bytes[start] == b'%' {
            panic!("bug: the ASL file holds a template directive at byte {start}");
        }
        let end = text[start..]
            .find('}')
            .map(|e| start + e)
            .unwrap_or_else(|| panic!("bug: an unclosed ${{ in the ASL file at byte {start}"));
        let name = &text[start + 2..end];
        let filled = value(name).unwrap_or_else(|| panic!("bug: the ASL file names no template variable {name:?}"));
        length = length - (end + 1 - start) as u64 + filled.len() as u64;
        at = end + 1;
    }
    length
}

/// `templatefile()` reads `${...}` and `%{...}` as template syntax; `$${` and `%%{` are their literal forms.
/// Borrows `text` when it holds neither.
pub fn escape_template(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let template_syntax = bytes
        .windows(2)
        .any(|pair| pair[1] == b'{' && matches!(pair[0], b'$' | b'%'));
    if template_syntax {
        Cow::Owned(text.replace("${", "$${").replace("%{", "%%{"))
    } else {
        Cow::Borrowed(text)
    }
}

/// What the definition says where a value is only known at apply time, and so how it writes spec text.
enum Values<'v> {
    /// The file: `templatefile()` placeholders, spec text escaped for `templatefile()`.
    Placeholders,
    /// What AWS receives: these values, spec text verbatim.
    Deployed {
        partition: &'v str,
        /// A channel's value by its variable's name.
        channel_value: &'v dyn Fn(&str) -> String,
    },
}

impl Values<'_> {
    /// Spec text as this definition writes it.
    fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self {
            Values::Placeholders => escape_template(text),
            Values::Deployed { .. } => Cow::Borrowed(text),
        }
    }

    /// Spec text built into a longer text (a comment), as this definition writes it.
    fn owned_text<'a>(&self, text: String) -> Cow<'a, str> {
        let escaped = match self.text(&text) {
            Cow::Owned(escaped) => Some(escaped),
            Cow::Borrowed(_) => None,
        };
        Cow::Owned(escaped.unwrap_or(text))
    }

    /// Whether spec text is escaped for `templatefile()`.
    fn escaped(&self) -> bool {
        matches!(self, Values::Placeholders)
    }

    /// The `.waitForTaskToken` integration of a channel.
    fn task_resource(&self, channel: &Channel) -> String {
        let partition = match self {
            Values::Placeholders => "${partition}",
            Values::Deployed { partition, .. } => *partition,
        };
        let integration = match channel {
            Channel::Queue(_) => "sqs:sendMessage",
            Channel::Topic(_) => "sns:publish",
            Channel::Bus(_) => "events:putEvents",
        };
        format!("arn:{partition}:states:::{integration}.waitForTaskToken")
    }

    /// Where a channel's messages go: a queue's URL, a topic's ARN, a bus's ARN.
    fn address(&self, channel: &Channel) -> String {
        let var = channel_var(channel);
        match self {
            Values::Placeholders => format!("${{{var}}}"),
            Values::Deployed { channel_value, .. } => channel_value(&var),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Definition<'a> {
    comment: Cow<'a, str>,
    start_at: Cow<'a, str>,
    timeout_seconds: u64,
    states: OrderedMap<'a, State<'a>>,
}

impl<'a> Definition<'a> {
    fn of(model: &'a Model, values: &Values) -> Self {
        let mut states = OrderedMap::default();
        for (index, step) in model.steps.iter().enumerate() {
            let next = model.steps.get(index + 1).map(|s| s.name.as_str());
            let task = task_state(model, step, next, values);
            states.insert(values.text(&step.name), State::Task(Box::new(task)));
        }
        for step in &model.steps {
            for catch in &step.catch {
                if let CatchTarget::Fail { state, error, cause } = &catch.target {
                    let fail = Fail {
                        kind: "Fail",
                        comment: values.owned_text(format!("Ends the execution when {:?} fails.", step.name)),
                        error: values.text(error),
                        cause: cause.as_deref().map(|cause| values.text(cause)),
                    };
                    states.insert(values.text(state), State::Fail(fail));
                }
            }
        }
        Definition {
            comment: values.owned_text(format!(
                "{} The {} callback workflow: each Task sends its input and a task token to {} and waits for SendTaskSuccess/SendTaskFailure.",
                generated_header(model),
                model.name,
                services(model)
            )),
            start_at: values.text(&model.first_step().name),
            timeout_seconds: model.state_machine.timeout_seconds,
            states,
        }
    }
}

/// A JSON object that keeps insertion order; inserting a key again replaces its value in place.
struct OrderedMap<'a, V> {
    entries: Vec<(Cow<'a, str>, V)>,
    index: HashMap<Cow<'a, str>, usize>,
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
    fn insert(&mut self, key: Cow<'a, str>, value: V) {
        match self.index.get(&key) {
            Some(&at) => self.entries[at].1 = value,
            None => {
                self.index.insert(key.clone(), self.entries.len());
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
    comment: Cow<'a, str>,
    resource: String,
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
    next: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<bool>,
}

/// A Task's parameters: one shape per channel, each carrying the same message.
#[derive(Serialize)]
#[serde(untagged)]
enum Parameters<'a> {
    /// `sqs:sendMessage`.
    Queue {
        #[serde(rename = "QueueUrl")]
        queue_url: String,
        #[serde(rename = "MessageBody")]
        message_body: MessageBody<'a>,
        #[serde(rename = "MessageGroupId.$", skip_serializing_if = "Option::is_none")]
        message_group_id: Option<&'static str>,
    },
    /// `sns:publish`.
    Topic {
        #[serde(rename = "TopicArn")]
        topic_arn: String,
        #[serde(rename = "Message")]
        message: MessageBody<'a>,
        #[serde(rename = "MessageGroupId.$", skip_serializing_if = "Option::is_none")]
        message_group_id: Option<&'static str>,
    },
    /// `events:putEvents`: one entry.
    Bus {
        #[serde(rename = "Entries")]
        entries: [Entry<'a>; 1],
    },
}

/// The event a bus step puts: the message is its `Detail`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Entry<'a> {
    event_bus_name: String,
    source: Cow<'a, str>,
    detail_type: Cow<'a, str>,
    detail: MessageBody<'a>,
}

/// The message: the state input (or the part `input_path` selects), the task token, the context a worker
/// deduplicates with ([`MESSAGE_CONTEXT`]), static fields. Resolve refuses fields named like the first three, and
/// the spec's table has no key twice.
struct MessageBody<'a> {
    input_path: Cow<'a, str>,
    fields: &'a [(String, Value)],
    escaped: bool,
}

impl Serialize for MessageBody<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3 + self.fields.len()))?;
        map.serialize_entry("input.$", &self.input_path)?;
        map.serialize_entry("token.$", "$$.Task.Token")?;
        map.serialize_entry(MESSAGE_CONTEXT_FIELD, &Context)?;
        for (key, value) in self.fields {
            map.serialize_entry(
                &SpecData::new(key.as_str(), self.escaped),
                &SpecData::new(value, self.escaped),
            )?;
        }
        map.end()
    }
}

/// The message's `context`: each field a path into Step Functions' context object, filled in when the task starts.
struct Context;

impl Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(MESSAGE_CONTEXT.len()))?;
        for (field, path) in MESSAGE_CONTEXT {
            map.serialize_entry(&format!("{field}.$"), path)?;
        }
        map.end()
    }
}

/// Spec data as the definition writes it: a text (`str`), or a static field's JSON (`Value`) whose texts
/// and object keys are texts; each escaped for `templatefile()` when `escaped`.
struct SpecData<'a, T: ?Sized> {
    data: &'a T,
    escaped: bool,
}

impl<'a, T: ?Sized> SpecData<'a, T> {
    fn new(data: &'a T, escaped: bool) -> Self {
        SpecData { data, escaped }
    }

    /// Data inside this one, written the same way.
    fn inner<U: ?Sized>(&self, data: &'a U) -> SpecData<'a, U> {
        SpecData::new(data, self.escaped)
    }
}

impl Serialize for SpecData<'_, str> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.escaped {
            serializer.serialize_str(&escape_template(self.data))
        } else {
            serializer.serialize_str(self.data)
        }
    }
}

impl Serialize for SpecData<'_, Value> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.data {
            Value::String(text) => self.inner(text.as_str()).serialize(serializer),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&self.inner(item))?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(&self.inner(key.as_str()), &self.inner(value))?;
                }
                map.end()
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => self.data.serialize(serializer),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Fail<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    comment: Cow<'a, str>,
    error: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<Cow<'a, str>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Retrier<'a> {
    error_equals: Vec<Cow<'a, str>>,
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
    error_equals: Vec<Cow<'a, str>>,
    result_path: &'static str,
    next: Cow<'a, str>,
}

fn task_state<'a>(model: &'a Model, step: &'a Step, next: Option<&'a str>, values: &Values) -> Task<'a> {
    Task {
        kind: "Task",
        comment: values.owned_text(format!(
            "Waits for a callback on {} \"{}\".",
            step.channel.kind(),
            step.channel.key()
        )),
        resource: values.task_resource(&step.channel),
        parameters: parameters(model, step, values),
        timeout_seconds: step.timeout_seconds,
        heartbeat_seconds: step.heartbeat_seconds,
        retry: step.retry.iter().map(|retry| retrier(retry, values)).collect(),
        catch: step.catch.iter().map(|catch| catcher(catch, values)).collect(),
        end: next.is_none().then_some(true),
        next: next.map(|next| values.text(next)),
    }
}

/// The parameters of a step's Task on its channel.
fn parameters<'a>(model: &'a Model, step: &'a Step, values: &Values) -> Parameters<'a> {
    let message = MessageBody {
        input_path: values.text(&step.input_path),
        fields: &step.message_fields,
        escaped: values.escaped(),
    };
    let address = values.address(&step.channel);
    // One message group per execution: messages of one execution stay in order, executions run in parallel.
    // The group id is a hash of the execution's ARN, not its name, which may hold letters SQS and SNS refuse there.
    let group = |fifo: bool| fifo.then_some(MESSAGE_GROUP_ID);
    match &step.channel {
        Channel::Queue(key) => Parameters::Queue {
            queue_url: address,
            message_body: message,
            message_group_id: group(model.queue(key).fifo),
        },
        Channel::Topic(key) => Parameters::Topic {
            topic_arn: address,
            message,
            message_group_id: group(model.topic(key).fifo),
        },
        Channel::Bus(key) => {
            let bus = model.bus(key);
            Parameters::Bus {
                entries: [Entry {
                    event_bus_name: address,
                    source: values.text(&bus.source),
                    detail_type: values.text(&bus.detail_type),
                    detail: message,
                }],
            }
        }
    }
}

/// The services the steps send through, as the definition's comment names them: `SQS`, `SQS and SNS`...
fn services(model: &Model) -> String {
    let mut names: Vec<&str> = Vec::new();
    for (present, name) in [
        (
            model.steps.iter().any(|s| matches!(s.channel, Channel::Queue(_))),
            "SQS",
        ),
        (
            model.steps.iter().any(|s| matches!(s.channel, Channel::Topic(_))),
            "SNS",
        ),
        (
            model.steps.iter().any(|s| matches!(s.channel, Channel::Bus(_))),
            "EventBridge",
        ),
    ] {
        if present {
            names.push(name);
        }
    }
    match names.as_slice() {
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    }
}

fn retrier<'a>(retry: &'a Retry, values: &Values) -> Retrier<'a> {
    Retrier {
        error_equals: error_names(&retry.errors, values),
        interval_seconds: retry.interval_seconds,
        max_attempts: retry.max_attempts,
        backoff_rate: f64::from(retry.backoff_rate_milli) / 1000.0,
        max_delay_seconds: retry.max_delay_seconds,
        jitter_strategy: retry.jitter.then_some("FULL"),
    }
}

fn catcher<'a>(catch: &'a Catch, values: &Values) -> Catcher<'a> {
    let next = match &catch.target {
        CatchTarget::Step(name) => name,
        CatchTarget::Fail { state, .. } => state,
    };
    Catcher {
        error_equals: error_names(&catch.errors, values),
        result_path: "$.error",
        next: values.text(next),
    }
}

fn error_names<'a>(errors: &'a [String], values: &Values) -> Vec<Cow<'a, str>> {
    errors.iter().map(|error| values.text(error)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployed_length_is_the_deployed_texts() {
        let spec = "name = \"d\"\n[[steps]]\nname = \"Café\"\nqueue = \"q\"\nmessage = { note = \"%{ y } ${x}\" }\n\
                    [[steps.catch]]\nerrors = [\"E\"]\nfail = { error = \"X\", cause = \"日本\" }\n[queues.q]\nfifo = true\n";
        let model = crate::load_model(spec, "sfngen.toml").unwrap();
        let url = |var: &str| format!("https://sqs.example/{}", var.trim_start_matches("queue_url_"));
        let text = deployed_text(&model, "aws-us-gov", &url);
        assert_eq!(deployed_len(&model, "aws-us-gov", &url), text.len() as u64);
        // And measured on the file, as templatefile() fills it.
        let file = String::from_utf8(render(&model).contents).unwrap();
        let value = |name: &str| match name {
            "partition" => Some("aws-us-gov".to_string()),
            "queue_url_q" => Some(url("queue_url_q")),
            _ => None,
        };
        assert_eq!(deployed_len_of_file(&file, &value), text.len() as u64);
        assert!(text.contains("%{ y } ${x}") && text.ends_with("}\n"));
    }
}
