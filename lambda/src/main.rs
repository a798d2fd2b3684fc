//! The callback Lambda of sfngen modules: a worker invokes it with a task token (and optionally a
//! status, output, error and cause), and it answers Step Functions with SendTaskSuccess,
//! SendTaskFailure or SendTaskHeartbeat.

mod answer;
mod log;
mod request;

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use lambda_runtime::{Diagnostic, LambdaEvent, service_fn};
use serde_json::{Value, json};

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

async fn handle(client: &aws_sdk_sfn::Client, event: LambdaEvent<Value>) -> Result<Value, Refused> {
    let request_id = event.context.request_id.clone();
    let request = match request::parse(&event.payload) {
        Ok(r) => r,
        Err(invalid) => {
            log::emit(
                "ERROR",
                "rejected an invalid callback event",
                json!({"request_id": request_id, "reason": invalid.0}),
            );
            return Err(Refused {
                kind: "InvalidEvent".into(),
                message: invalid.0,
            });
        }
    };
    let token_id = log::token_id(&request.token);
    let status = request.answer.status();
    match answer::send(client, &request).await {
        Ok(()) => {
            log::emit(
                "INFO",
                "answered the task",
                json!({"request_id": request_id, "token_id": token_id, "status": status}),
            );
            Ok(json!({"answered": status, "token_id": token_id}))
        }
        Err(failed) => {
            log::emit(
                "ERROR",
                "could not answer the task",
                json!({
                    "request_id": request_id,
                    "token_id": token_id,
                    "status": status,
                    "error_type": failed.kind,
                    "retryable": failed.retryable,
                    "detail": failed.message,
                }),
            );
            Err(Refused {
                kind: failed.kind,
                message: failed.message,
            })
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    // Standard retries (exponential backoff with jitter) for throttling, 5xx and network errors,
    // bounded so that a callback fails well inside the function's timeout.
    let config = aws_config::from_env()
        .retry_config(RetryConfig::standard().with_max_attempts(4))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_secs(3))
                .build(),
        )
        .load()
        .await;
    let client = aws_sdk_sfn::Client::new(&config);
    let client = &client;
    lambda_runtime::run(service_fn(move |event| handle(client, event))).await
}
