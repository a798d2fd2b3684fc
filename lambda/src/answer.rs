//! Sends the answer to Step Functions and sorts its errors into what the caller should do.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use crate::request::{Answer, Request};

/// Why an answer did not reach Step Functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// `error_type` of the Lambda error response: the service's error code, `InvalidEvent`, or
    /// `Retryable` (throttling, 5xx, network) after the SDK's own retries.
    pub kind: String,
    /// Whether calling again with the same token can succeed.
    pub retryable: bool,
    /// What happened and what to do.
    pub message: String,
}

/// Error codes that mean the token can never be answered again: do not retry.
const SPENT_TOKEN: &[&str] = &["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"];
/// Error codes that mean the request itself is wrong: do not retry.
const BAD_REQUEST: &[&str] = &["InvalidOutput", "ValidationException"];

/// Calls SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat.
pub async fn send(client: &Client, request: &Request) -> Result<(), Failed> {
    let token = request.token.clone();
    let result = match &request.answer {
        Answer::Success { output } => client
            .send_task_success()
            .task_token(token)
            .output(output)
            .send()
            .await
            .map(|_| ())
            .map_err(describe),
        Answer::Failure { error, cause } => client
            .send_task_failure()
            .task_token(token)
            .set_error(error.clone())
            .set_cause(cause.clone())
            .send()
            .await
            .map(|_| ())
            .map_err(describe),
        Answer::Heartbeat => client
            .send_task_heartbeat()
            .task_token(token)
            .send()
            .await
            .map(|_| ())
            .map_err(describe),
    };
    result.map_err(|(code, detail)| classify(code, detail))
}

fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: SdkError<E, R>,
) -> (Option<String>, String) {
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            (
                inner.code().map(str::to_string),
                inner.message().map(str::to_string).unwrap_or_else(|| inner.to_string()),
            )
        }
        other => (None, format!("{other}: {}", source_chain(other))),
    }
}

fn source_chain(err: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut current = err.source();
    while let Some(e) = current {
        parts.push(e.to_string());
        current = e.source();
    }
    parts.join(": ")
}

/// Sorts an error by its code: spent tokens and bad requests are final, the rest may be retried.
pub fn classify(code: Option<String>, detail: String) -> Failed {
    match code.as_deref() {
        Some(c) if SPENT_TOKEN.contains(&c) => Failed {
            kind: c.to_string(),
            retryable: false,
            message: format!(
                "{c}: the task token is spent, expired or unknown, so this task can no longer be answered; do not retry ({detail})"
            ),
        },
        Some(c) if BAD_REQUEST.contains(&c) => Failed {
            kind: c.to_string(),
            retryable: false,
            message: format!("{c}: Step Functions rejected the answer; fix it before retrying ({detail})"),
        },
        Some(c) => Failed {
            kind: "Retryable".into(),
            retryable: true,
            message: format!("{c}: Step Functions did not take the answer after retries; retry later ({detail})"),
        },
        None => Failed {
            kind: "Retryable".into(),
            retryable: true,
            message: format!("Step Functions could not be reached after retries; retry later ({detail})"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spent_tokens_are_final() {
        for code in ["TaskTimedOut", "InvalidToken", "TaskDoesNotExist"] {
            let f = classify(Some(code.into()), "x".into());
            assert_eq!((f.kind.as_str(), f.retryable), (code, false));
            assert!(f.message.contains("do not retry"));
        }
    }

    #[test]
    fn throttling_server_errors_and_network_failures_are_retryable() {
        for code in [
            Some("ThrottlingException".to_string()),
            Some("ServiceUnavailable".into()),
            None,
        ] {
            let f = classify(code, "x".into());
            assert_eq!((f.kind.as_str(), f.retryable), ("Retryable", true));
        }
    }
}
