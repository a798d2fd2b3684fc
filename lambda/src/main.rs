//! The callback Lambda of sfngen modules. Two kinds of event:
//!
//! - a worker's callback: a task token (and optionally a status, output, error and cause); the function
//!   answers Step Functions with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat;
//! - an SQS batch from a dead-letter queue: the function fails each message's task with
//!   `sfngen.DeadLettered` (see [`dead_letter`]).

mod answer;
mod client;
mod dead_letter;
mod log;
mod request;

use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

use crate::answer::{Failed, Refusal};

/// An error response: `errorType` says what the caller should do.
#[derive(Debug)]
struct Refused {
    kind: String,
    message: String,
}

impl From<Refused> for Diagnostic {
    fn from(r: Refused) -> Diagnostic {
        Diagnostic {
            error_type: r.kind,
            error_message: r.message,
        }
    }
}

impl From<Failed> for Refused {
    fn from(failed: Failed) -> Refused {
        Refused {
            kind: failed.kind,
            message: failed.message,
        }
    }
}

async fn handle(client: &aws_sdk_sfn::Client, event: LambdaEvent<Value>) -> Result<Value, Refused> {
    let request_id = event.context.request_id;
    if dead_letter::is_batch(&event.payload) {
        let batch =
            dead_letter::parse(&event.payload).map_err(|invalid| reject("dead_letter", &request_id, invalid))?;
        return dead_letter::answer(client, batch, &request_id)
            .await
            .map_err(Refused::from);
    }
    let request = request::parse(&event.payload).map_err(|invalid| reject("callback", &request_id, invalid))?;
    callback(client, request, &request_id).await
}

/// Logs and answers an event that is neither a valid callback nor a valid SQS batch.
fn reject(event: &str, request_id: &str, invalid: request::Invalid) -> Refused {
    log::emit(
        "ERROR",
        "rejected an invalid event",
        json!({"event": event, "request_id": request_id, "outcome": "invalid_event", "reason": invalid.0}),
    );
    Refused {
        kind: "InvalidEvent".into(),
        message: invalid.0,
    }
}

/// Answers a worker's callback. A spent token is a typed result, not an error: the execution already
/// moved on, and nothing the worker does can change that.
async fn callback(client: &aws_sdk_sfn::Client, request: request::Request, request_id: &str) -> Result<Value, Refused> {
    let token_id = log::token_id(&request.token);
    let status = request.answer.status();
    let fields = json!({"event": "callback", "request_id": request_id, "token_id": token_id, "status": status});
    match answer::send(client, &request.token, &request.answer).await {
        Ok(()) => {
            log::emit(
                "INFO",
                "answered the task",
                log::with(fields, json!({"outcome": "answered"})),
            );
            Ok(json!({"answered": status, "outcome": "answered", "token_id": token_id}))
        }
        Err(Refusal::TokenSpent { code, detail }) => {
            let message = format!(
                "{code}: the task is already over (timed out, or answered before), so this {status} changed \
                 nothing; do not retry ({detail})"
            );
            log::emit(
                "WARN",
                "the task token is spent: a late or duplicate callback",
                log::with(fields, json!({"outcome": "token_spent", "code": code})),
            );
            Ok(json!({
                "answered": false,
                "outcome": "token_spent",
                "status": status,
                "code": code,
                "token_id": token_id,
                "message": message,
            }))
        }
        Err(Refusal::Failed(failed)) => {
            log::emit(
                "ERROR",
                "could not answer the task",
                log::with(
                    fields,
                    json!({
                        "outcome": "failed",
                        "error_type": failed.kind,
                        "retryable": failed.retryable(),
                        "detail": failed.message,
                    }),
                ),
            );
            Err(failed.into())
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let plan = client::Plan::from_env(|name| std::env::var(name).ok());
    let client = client::build(&plan).await;
    let client = &client;
    lambda_runtime::run(service_fn(move |event| handle(client, event))).await
}
