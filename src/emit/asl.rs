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

use super::{APPROVALS_QUEUE_URL_VAR, ASL_FILE, GeneratedFile, channel_var, generated_header};
use crate::model::{
    APPROVAL_FIELD, APPROVAL_RESULT_PATH, ApprovalRequest, Catch, CatchTarget, Channel, FanOut, MESSAGE_CONTEXT,
    MESSAGE_CONTEXT_FIELD, MESSAGE_GROUP_ID, MESSAGE_GROUP_ID_PER_ITEM, MESSAGE_ITEM_INDEX, Model, Retry, Step,
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
        self.variable(&channel_var(channel))
    }

    /// A `templatefile()` variable's value, or its placeholder.
    fn variable(&self, var: &str) -> String {
        match self {
            Values::Placeholders => format!("${{{var}}}"),
            Values::Deployed { channel_value, .. } => channel_value(var),
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
            states.insert(values.text(&step.name), step_state(model, step, next, values));
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
    Map(Box<MapState<'a>>),
    Pass(Pass<'a>),
    Fail(Fail<'a>),
}

/// A fan-out step: an inline Map over the step's array, whose item processor is the step's callback Task.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MapState<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    comment: Cow<'a, str>,
    items_path: Cow<'a, str>,
    item_selector: ItemSelector,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_concurrency: Option<u32>,
    item_processor: ItemProcessor<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result_path: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    catch: Vec<Catcher<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next: Option<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<bool>,
}

/// Each item processor's input: the item and its index ([`FanOut::ITEM_SELECTOR`]).
struct ItemSelector;

impl Serialize for ItemSelector {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(FanOut::ITEM_SELECTOR.len()))?;
        for (field, path) in FanOut::ITEM_SELECTOR {
            map.serialize_entry(&format!("{field}.$"), path)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ItemProcessor<'a> {
    processor_config: ProcessorConfig,
    start_at: Cow<'a, str>,
    states: OrderedMap<'a, State<'a>>,
}

#[derive(Serialize)]
struct ProcessorConfig {
    #[serde(rename = "Mode")]
    mode: &'static str,
}

/// Where a tolerated failure ends its item: the item processor's input with the error at `error`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Pass<'a> {
    #[serde(rename = "Type")]
    kind: &'static str,
    comment: Cow<'a, str>,
    end: bool,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    result_path: Option<&'static str>,
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
    /// A fan-out step's: `context` holds the item's index too.
    item_index: bool,
    /// An approval step's: how the notifier sends the notification, and to where.
    approval: Option<Approval<'a>>,
}

/// An approval step's `approval` object ([`ApprovalRequest`]), with the channel's address.
struct Approval<'a> {
    request: ApprovalRequest<'a>,
    target: String,
    escaped: bool,
}

impl Serialize for Approval<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let request = &self.request;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("channel", request.channel)?;
        map.serialize_entry("target", &self.target)?;
        map.serialize_entry("fifo", &request.fifo)?;
        map.serialize_entry("timeout_seconds", &request.timeout_seconds)?;
        if let Some((source, detail_type)) = request.event {
            map.serialize_entry("source", &SpecData::new(source, self.escaped))?;
            map.serialize_entry("detail_type", &SpecData::new(detail_type, self.escaped))?;
        }
        map.end()
    }
}

impl Serialize for MessageBody<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let own = 3 + usize::from(self.approval.is_some());
        let mut map = serializer.serialize_map(Some(own + self.fields.len()))?;
        map.serialize_entry("input.$", &self.input_path)?;
        map.serialize_entry("token.$", "$$.Task.Token")?;
        map.serialize_entry(
            MESSAGE_CONTEXT_FIELD,
            &Context {
                item_index: self.item_index,
            },
        )?;
        for (key, value) in self.fields {
            map.serialize_entry(
                &SpecData::new(key.as_str(), self.escaped),
                &SpecData::new(value, self.escaped),
            )?;
        }
        if let Some(approval) = &self.approval {
            map.serialize_entry(APPROVAL_FIELD, approval)?;
        }
        map.end()
    }
}

/// The message's `context`: each field a path into Step Functions' context object, filled in when the task starts;
/// in a fan-out step's, the item's index too ([`MESSAGE_ITEM_INDEX`]).
struct Context {
    item_index: bool,
}

impl Serialize for Context {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(MESSAGE_CONTEXT.len() + usize::from(self.item_index)))?;
        for (field, path) in MESSAGE_CONTEXT {
            map.serialize_entry(&format!("{field}.$"), path)?;
        }
        if self.item_index {
            let (field, path) = MESSAGE_ITEM_INDEX;
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

/// A step's state: its callback Task, or, for a fan-out step, the Map that runs that Task for each item.
fn step_state<'a>(model: &'a Model, step: &'a Step, next: Option<&'a str>, values: &Values) -> State<'a> {
    let Some(fan_out) = step.fan_out.as_ref() else {
        return State::Task(Box::new(task_state(model, step, Flow::Step(next), values)));
    };
    let tolerance = if fan_out.tolerate_failures {
        "a failed item leaves its error in its place"
    } else {
        "an item that fails fails the Map"
    };
    State::Map(Box::new(MapState {
        kind: "Map",
        comment: values.owned_text(format!(
            "Runs the callback task once per item of {}, one message and one token each; the result is the \
             answers, in item order; {tolerance}.",
            fan_out.items_path
        )),
        items_path: values.text(&fan_out.items_path),
        item_selector: ItemSelector,
        max_concurrency: fan_out.max_concurrency,
        item_processor: item_processor(model, step, fan_out, values),
        result_path: step.approval.then_some(APPROVAL_RESULT_PATH),
        catch: step.catch.iter().map(|catch| catcher(catch, values)).collect(),
        end: next.is_none().then_some(true),
        next: next.map(|next| values.text(next)),
    }))
}

/// What a fan-out step's Map runs for each item: the step's callback Task and, failures tolerated, the Pass state
/// its catcher goes to.
fn item_processor<'a>(model: &'a Model, step: &'a Step, fan_out: &FanOut, values: &Values) -> ItemProcessor<'a> {
    let task_name = FanOut::task_state(&step.name);
    let failed_name = FanOut::failed_state(&step.name);
    let flow = Flow::Item {
        failed: fan_out
            .tolerate_failures
            .then(|| values.owned_text(failed_name.clone())),
    };
    let mut states = OrderedMap::default();
    states.insert(
        values.owned_text(task_name.clone()),
        State::Task(Box::new(task_state(model, step, flow, values))),
    );
    if fan_out.tolerate_failures {
        let pass = Pass {
            kind: "Pass",
            comment: values.owned_text(
                "A failed item (tolerated_failure_percentage = 100): its place in the result holds its index, the \
                 item and the error, and the other items go on."
                    .to_string(),
            ),
            end: true,
        };
        states.insert(values.owned_text(failed_name), State::Pass(pass));
    }
    ItemProcessor {
        processor_config: ProcessorConfig { mode: "INLINE" },
        start_at: values.owned_text(task_name),
        states,
    }
}

/// Where a callback Task goes on.
enum Flow<'a> {
    /// A step's own Task: the next step, or the end; the step's catchers.
    Step(Option<&'a str>),
    /// The Task inside a fan-out step's Map: the end of the item; its catcher, when failures are tolerated.
    Item { failed: Option<Cow<'a, str>> },
}

/// The item processor's input path for a step's `input_path`: within the item, unless it reads the context object.
fn item_input_path(input_path: &str) -> String {
    match input_path.strip_prefix('$') {
        Some(rest) if !rest.starts_with('$') => format!("$.{}{rest}", FanOut::ITEM_FIELD),
        _ => input_path.to_string(),
    }
}

fn task_state<'a>(model: &'a Model, step: &'a Step, flow: Flow<'a>, values: &Values) -> Task<'a> {
    let (input_path, item_index) = match step.fan_out {
        Some(_) => (values.owned_text(item_input_path(&step.input_path)), true),
        None => (values.text(&step.input_path), false),
    };
    // A fan-out approval's Map keeps the state: each item's Task answers with its decision alone.
    let result_path = (step.approval && matches!(flow, Flow::Step(_))).then_some(APPROVAL_RESULT_PATH);
    let (catch, next, end) = match flow {
        Flow::Step(next) => (
            step.catch.iter().map(|catch| catcher(catch, values)).collect(),
            next.map(|next| values.text(next)),
            next.is_none().then_some(true),
        ),
        Flow::Item { failed } => (
            failed
                .map(|failed| {
                    vec![Catcher {
                        error_equals: vec![Cow::Borrowed(crate::spec::keys::ALL_ERRORS)],
                        result_path: "$.error",
                        next: failed,
                    }]
                })
                .unwrap_or_default(),
            None,
            Some(true),
        ),
    };
    let approval = step.approval.then(|| Approval {
        request: model.approval_request(step),
        target: values.address(&step.channel),
        escaped: values.escaped(),
    });
    let comment = match step.approval {
        true => format!(
            "Waits for a person's decision: the approvals queue keeps the token inside AWS, and {} \"{}\" carries a link.",
            step.channel.kind(),
            step.channel.key()
        ),
        false => format!(
            "Waits for a callback on {} \"{}\".",
            step.channel.kind(),
            step.channel.key()
        ),
    };
    let message = MessageBody {
        input_path,
        fields: &step.message_fields,
        escaped: values.escaped(),
        item_index,
        approval,
    };
    let (resource, parameters) = match step.approval {
        // The approvals queue: a standard queue, so no message group.
        true => (
            values.task_resource(&Channel::Queue(String::new())),
            Parameters::Queue {
                queue_url: values.variable(APPROVALS_QUEUE_URL_VAR),
                message_body: message,
                message_group_id: None,
            },
        ),
        false => (
            values.task_resource(&step.channel),
            parameters(model, step, message, values),
        ),
    };
    Task {
        kind: "Task",
        comment: values.owned_text(comment),
        resource,
        parameters,
        timeout_seconds: step.timeout_seconds,
        heartbeat_seconds: step.heartbeat_seconds,
        result_path,
        retry: step.retry.iter().map(|retry| retrier(retry, values)).collect(),
        catch,
        end,
        next,
    }
}

/// The parameters of a step's Task on its channel.
fn parameters<'a>(model: &'a Model, step: &'a Step, message: MessageBody<'a>, values: &Values) -> Parameters<'a> {
    let address = values.address(&step.channel);
    // One message group per execution: messages of one execution stay in order, executions run in parallel.
    // The group id is a hash of the execution's ARN, not its name, which may hold letters SQS and SNS refuse there.
    let group_id = match step.fan_out {
        Some(_) => MESSAGE_GROUP_ID_PER_ITEM,
        None => MESSAGE_GROUP_ID,
    };
    let group = |fifo: bool| fifo.then_some(group_id);
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
    fn a_fan_out_step_is_a_map_whose_item_processor_is_the_callback_task() {
        let spec = "name = \"d\"\n[[steps]]\nname = \"A\"\nqueue = \"q\"\nfor_each = \"$.lines\"\nmax_concurrency = 3\n\
                    input_path = \"$.sku\"\ntimeout = \"1h\"\n[[steps.retry]]\n[[steps.catch]]\nnext = \"B\"\n\
                    [[steps]]\nname = \"B\"\nqueue = \"q\"\nfor_each = \"$\"\ntolerated_failure_percentage = 100\n[queues.q]\n";
        let model = crate::load_model(spec, "sfngen.toml").unwrap();
        let url = |var: &str| format!("https://sqs.example/{}", var.trim_start_matches("queue_url_"));
        let definition = deployed_definition(&model, "aws", &url);
        let map = &definition["States"]["A"];
        assert_eq!(map["Type"], "Map");
        assert_eq!(map["ItemsPath"], "$.lines");
        assert_eq!(map["MaxConcurrency"], 3);
        assert_eq!(
            map["ItemSelector"],
            serde_json::json!({"index.$": "$$.Map.Item.Index", "item.$": "$$.Map.Item.Value"})
        );
        assert_eq!(map["Next"], "B");
        // The step's catch is the Map's; its timeout and retry are the item task's.
        assert_eq!(map["Catch"][0]["Next"], "B");
        assert!(map.get("Retry").is_none() && map.get("TimeoutSeconds").is_none());
        let processor = &map["ItemProcessor"];
        assert_eq!(processor["ProcessorConfig"]["Mode"], "INLINE");
        assert_eq!(processor["StartAt"], "A item");
        let task = &processor["States"]["A item"];
        assert_eq!(task["End"], true);
        assert_eq!(task["TimeoutSeconds"], 3600);
        assert_eq!(task["Retry"].as_array().map(Vec::len), Some(1));
        assert!(task.get("Catch").is_none());
        assert_eq!(task["Parameters"]["QueueUrl"], "https://sqs.example/q");
        let body = &task["Parameters"]["MessageBody"];
        assert_eq!(body["input.$"], "$.item.sku");
        assert_eq!(body["context"]["item_index.$"], "$.index");
        // Tolerated failures: every error of the item goes to a Pass state, which ends the item.
        let tolerant = &definition["States"]["B"]["ItemProcessor"]["States"];
        assert_eq!(tolerant["B item"]["Catch"][0]["ErrorEquals"][0], "States.ALL");
        assert_eq!(tolerant["B item"]["Catch"][0]["Next"], "B item failed");
        assert_eq!(tolerant["B item"]["Parameters"]["MessageBody"]["input.$"], "$.item");
        assert_eq!(tolerant["B item failed"]["Type"], "Pass");
        assert!(definition["States"]["B"].get("MaxConcurrency").is_none());
        // A step without for_each is the Task it always was.
        let plain = crate::load_model(
            "name = \"d\"\n[[steps]]\nname = \"A\"\nqueue = \"q\"\n[queues.q]\n",
            "f",
        )
        .unwrap();
        let plain = deployed_definition(&plain, "aws", &url);
        assert_eq!(plain["States"]["A"]["Type"], "Task");
        assert!(
            plain["States"]["A"]["Parameters"]["MessageBody"]["context"]
                .get("item_index.$")
                .is_none()
        );
    }

    #[test]
    fn an_approval_task_hands_its_token_to_the_approvals_queue_and_keeps_the_state() {
        let spec = "name = \"d\"\n[[steps]]\nname = \"Ask\"\nbus = \"b\"\napproval = true\ntimeout = \"2d\"\n\
                    [[steps]]\nname = \"Lines\"\ntopic = \"t\"\napproval = true\nfor_each = \"$.lines\"\ntimeout = \"1h\"\n\
                    [[steps]]\nname = \"Work\"\nqueue = \"q\"\n[queues.q]\n[topics.t]\nfifo = true\n[buses.b]\nsource = \"s.x\"\n";
        let model = crate::load_model(spec, "sfngen.toml").unwrap();
        let value = |var: &str| format!("<{var}>");
        let definition = deployed_definition(&model, "aws", &value);
        let ask = &definition["States"]["Ask"];
        assert_eq!(ask["Resource"], "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
        assert_eq!(ask["Parameters"]["QueueUrl"], "<approvals_queue_url>");
        assert!(ask["Parameters"].get("MessageGroupId.$").is_none());
        assert_eq!(ask["ResultPath"], "$.approval");
        assert_eq!(ask["TimeoutSeconds"], 172_800);
        let body = &ask["Parameters"]["MessageBody"];
        assert_eq!(body["token.$"], "$$.Task.Token");
        assert_eq!(
            body["approval"],
            serde_json::json!({"channel": "bus", "target": "<bus_arn_b>", "fifo": false, "timeout_seconds": 172_800,
                               "source": "s.x", "detail_type": "sfngen task"})
        );
        // A fan-out approval: one approval per item; the Map keeps the state, each item's Task answers alone.
        let lines = &definition["States"]["Lines"];
        assert_eq!(lines["ResultPath"], "$.approval");
        let item = &lines["ItemProcessor"]["States"]["Lines item"];
        assert!(item.get("ResultPath").is_none());
        assert_eq!(item["Parameters"]["QueueUrl"], "<approvals_queue_url>");
        assert_eq!(
            item["Parameters"]["MessageBody"]["approval"],
            serde_json::json!({"channel": "topic", "target": "<topic_arn_t>", "fifo": true, "timeout_seconds": 3_600})
        );
        assert_eq!(item["Parameters"]["MessageBody"]["context"]["item_index.$"], "$.index");
        // A step that is no approval sends to its own channel, its result its answer.
        let work = &definition["States"]["Work"];
        assert_eq!(work["Parameters"]["QueueUrl"], "<queue_url_q>");
        assert!(work.get("ResultPath").is_none() && work["Parameters"]["MessageBody"].get("approval").is_none());
    }

    #[test]
    fn item_input_paths_read_within_the_item() {
        assert_eq!(item_input_path("$"), "$.item");
        assert_eq!(item_input_path("$.a.b"), "$.item.a.b");
        assert_eq!(item_input_path("$['x y']"), "$.item['x y']");
        assert_eq!(item_input_path("$$.Execution.Input"), "$$.Execution.Input");
    }

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
