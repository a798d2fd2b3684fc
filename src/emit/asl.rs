//! The state machine definition (Amazon States Language), as a standalone `*.asl.json` file.
//!
//! Values only known at apply time are `templatefile()` placeholders: `${partition}` and one
//! `${queue_url_KEY}` per queue. Everything else is literal, so a reviewer reads the real workflow.
//! Because `templatefile()` reads this file, every text that comes from the spec is escaped for it
//! (`${` → `$${`, `%{` → `%%{`) and reaches AWS verbatim.

use serde_json::{Map, Value, json};

use super::{ASL_FILE, GeneratedFile, generated_header, queue_url_var};
use crate::model::{Catch, CatchTarget, Model, Retry, Step};

/// Renders the ASL file.
pub fn render(model: &Model) -> GeneratedFile {
    let mut text =
        serde_json::to_string_pretty(&definition(model)).expect("bug: a serde_json::Value always serialises");
    text.push('\n');
    GeneratedFile::text(ASL_FILE, text)
}

/// The definition as JSON, as the file holds it: spec text escaped for `templatefile()`, placeholders in.
pub fn definition(model: &Model) -> Value {
    let mut definition = literal_definition(model);
    escape_template_syntax(&mut definition);
    fill_placeholders(&mut definition, model, "${partition}", &|queue| {
        format!("${{{}}}", queue_url_var(queue))
    });
    definition
}

/// The definition AWS receives once `templatefile()` has run with these values: every spec text verbatim.
/// Tests compare what Terraform evaluates and what the emulator stores against it.
pub fn deployed_definition(model: &Model, partition: &str, queue_url: &dyn Fn(&str) -> String) -> Value {
    let mut definition = literal_definition(model);
    fill_placeholders(&mut definition, model, partition, queue_url);
    definition
}

/// `templatefile()` reads `${...}` and `%{...}` as template syntax; `$${` and `%%{` are their literal forms.
pub fn escape_template(text: &str) -> String {
    text.replace("${", "$${").replace("%{", "%%{")
}

/// Escapes every string and object key. Placeholders are still `null` here, so they are left alone.
/// State names cannot hold `$`, `%` or `{`, so they are the same escaped or not.
fn escape_template_syntax(value: &mut Value) {
    match value {
        Value::String(text) => *text = escape_template(text),
        Value::Array(items) => items.iter_mut().for_each(escape_template_syntax),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut item) in entries {
                escape_template_syntax(&mut item);
                map.insert(escape_template(&key), item);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Puts the partition and queue URLs where [`literal_definition`] left `null`s, in place (key order kept).
fn fill_placeholders(definition: &mut Value, model: &Model, partition: &str, queue_url: &dyn Fn(&str) -> String) {
    for step in &model.steps {
        let state = &mut definition["States"][escape_template(&step.name)];
        state["Resource"] = json!(format!("arn:{partition}:states:::sqs:sendMessage.waitForTaskToken"));
        state["Parameters"]["QueueUrl"] = json!(queue_url(&step.queue));
    }
}

/// The definition with every text exactly as the spec says, and `null` where a placeholder goes.
fn literal_definition(model: &Model) -> Value {
    let mut states = Map::new();
    for (index, step) in model.steps.iter().enumerate() {
        let next = model.steps.get(index + 1).map(|s| s.name.as_str());
        states.insert(step.name.clone(), task_state(model, step, next));
    }
    for step in &model.steps {
        for catch in &step.catch {
            if let CatchTarget::Fail { state, error, cause } = &catch.target {
                let mut fail = Map::new();
                fail.insert("Type".into(), json!("Fail"));
                fail.insert(
                    "Comment".into(),
                    json!(format!("Ends the execution when {:?} fails.", step.name)),
                );
                fail.insert("Error".into(), json!(error));
                if let Some(cause) = cause {
                    fail.insert("Cause".into(), json!(cause));
                }
                states.insert(state.clone(), Value::Object(fail));
            }
        }
    }
    json!({
        "Comment": format!(
            "{} The {} callback workflow: each Task sends its input and a task token to SQS and waits for SendTaskSuccess/SendTaskFailure.",
            generated_header(model),
            model.name
        ),
        "StartAt": model.first_step().name,
        "TimeoutSeconds": model.state_machine.timeout_seconds,
        "States": states,
    })
}

fn task_state(model: &Model, step: &Step, next: Option<&str>) -> Value {
    let fifo = model.queue(&step.queue).fifo;
    let mut parameters = Map::new();
    parameters.insert("QueueUrl".into(), Value::Null);
    // The message: the state input (or the part input_path selects), the task token, static fields.
    let mut body = Map::new();
    body.insert("input.$".into(), json!(step.input_path));
    body.insert("token.$".into(), json!("$$.Task.Token"));
    for (key, value) in &step.message_fields {
        body.insert(key.clone(), value.clone());
    }
    parameters.insert("MessageBody".into(), Value::Object(body));
    if fifo {
        // One message group per execution: messages of one execution stay in order, executions run in parallel.
        parameters.insert("MessageGroupId.$".into(), json!("$$.Execution.Name"));
    }
    let mut state = Map::new();
    state.insert("Type".into(), json!("Task"));
    state.insert(
        "Comment".into(),
        json!(format!("Waits for a callback on queue \"{}\".", step.queue)),
    );
    state.insert("Resource".into(), Value::Null);
    state.insert("Parameters".into(), Value::Object(parameters));
    if let Some(t) = step.timeout_seconds {
        state.insert("TimeoutSeconds".into(), json!(t));
    }
    if let Some(h) = step.heartbeat_seconds {
        state.insert("HeartbeatSeconds".into(), json!(h));
    }
    if !step.retry.is_empty() {
        state.insert("Retry".into(), Value::Array(step.retry.iter().map(retrier).collect()));
    }
    if !step.catch.is_empty() {
        state.insert("Catch".into(), Value::Array(step.catch.iter().map(catcher).collect()));
    }
    match next {
        Some(n) => state.insert("Next".into(), json!(n)),
        None => state.insert("End".into(), json!(true)),
    };
    Value::Object(state)
}

fn retrier(retry: &Retry) -> Value {
    let mut r = Map::new();
    r.insert("ErrorEquals".into(), json!(retry.errors));
    r.insert("IntervalSeconds".into(), json!(retry.interval_seconds));
    r.insert("MaxAttempts".into(), json!(retry.max_attempts));
    r.insert(
        "BackoffRate".into(),
        json!(f64::from(retry.backoff_rate_milli) / 1000.0),
    );
    if let Some(max) = retry.max_delay_seconds {
        r.insert("MaxDelaySeconds".into(), json!(max));
    }
    if retry.jitter {
        r.insert("JitterStrategy".into(), json!("FULL"));
    }
    Value::Object(r)
}

/// A caught error goes to `$.error` of the state input, so the next state still has the input.
fn catcher(catch: &Catch) -> Value {
    let next = match &catch.target {
        CatchTarget::Step(name) => name,
        CatchTarget::Fail { state, .. } => state,
    };
    json!({ "ErrorEquals": catch.errors, "ResultPath": "$.error", "Next": next })
}
