//! The state machine definition (Amazon States Language), as a standalone `*.asl.json` file.
//!
//! Values only known at apply time are `templatefile()` placeholders: `${partition}` and one
//! `${queue_url_KEY}` per queue. Everything else is literal, so a reviewer reads the real workflow.

use serde_json::{Map, Value, json};

use super::{ASL_FILE, GeneratedFile, generated_header, queue_url_var};
use crate::model::{Model, Step};

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
    parameters.insert(
        "MessageBody".into(),
        json!({
            "input.$": "$",
            "token.$": "$$.Task.Token",
        }),
    );
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
    match next {
        Some(n) => state.insert("Next".into(), json!(n)),
        None => state.insert("End".into(), json!(true)),
    };
    Value::Object(state)
}
