//! The state machine definition (Amazon States Language), as a standalone `*.asl.json` file.
//!
//! Values only known at apply time are `templatefile()` placeholders: `${partition}` and one
//! `${queue_url_KEY}` per queue. Everything else is literal, so a reviewer reads the real workflow.

use serde_json::{Map, Value, json};

use super::{ASL_FILE, GeneratedFile, generated_header, queue_url_var};
use crate::model::{Catch, CatchTarget, Model, Retry, Step};

/// Renders the ASL file.
pub fn render(model: &Model) -> GeneratedFile {
    let mut text = serde_json::to_string_pretty(&definition(model)).unwrap_or_default();
    text.push('\n');
    GeneratedFile::text(ASL_FILE, text)
}

/// The definition as JSON.
pub fn definition(model: &Model) -> Value {
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
        "StartAt": model.steps.first().map(|s| s.name.as_str()).unwrap_or_default(),
        "TimeoutSeconds": model.state_machine.timeout_seconds,
        "States": states,
    })
}

fn task_state(model: &Model, step: &Step, next: Option<&str>) -> Value {
    let fifo = model.queues.iter().any(|q| q.key == step.queue && q.fifo);
    let mut parameters = Map::new();
    parameters.insert("QueueUrl".into(), json!(format!("${{{}}}", queue_url_var(&step.queue))));
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
    state.insert(
        "Resource".into(),
        json!("arn:${partition}:states:::sqs:sendMessage.waitForTaskToken"),
    );
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
