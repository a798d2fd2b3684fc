//! Sends the answer to Step Functions and sorts its errors into what the caller should do.

use aws_sdk_sfn::Client;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};

use serde_json::{Value, json};

use crate::log;
use crate::request::{Answer, Request};

/// Why an answer did not reach Step Functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The token can never be answered again (`TaskTimedOut`, `TaskDoesNotExist`): the execution already
    /// moved on. A late or duplicate answer, not a fault.
    TokenSpent {
        /// The service's error code.
        code: String,
        /// The service's message.
        detail: String,
    },
    /// Anything else.
    Failed(Failed),
}

/// An answer that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The service's error code, when it gave one (`None`: no answer at all, a network failure).
    pub code: Option<String>,
    /// `error_type` of the Lambda error response: the service's error code, or `Retryable` (throttling,
    /// 5xx, network) after the SDK's own retries.
    pub kind: String,
    /// Whose fault it is, and so whether trying again can help.
    pub fault: Fault,
    /// What happened and what to do.
    pub message: String,
}

/// Whose fault a failed answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The answer itself is wrong (`InvalidOutput`, `ValidationException`): it never succeeds as it is.
    Request,
    /// The token is not one Step Functions issued (`InvalidToken`): changed, cut short, or from another
    /// account or region. A bug in whoever passed it on; no retry with it can succeed.
    Token,
    /// The function may not answer (`AccessDeniedException` and other authorization or key errors): it
    /// fails until the deployment is fixed.
    Permission,
    /// Throttling, 5xx, network: the same answer can succeed later.
    Transient,
}

impl Failed {
    /// Whether calling again with the same answer can succeed without anyone fixing anything.
    pub fn retryable(&self) -> bool {
        self.fault == Fault::Transient
    }

    /// Whether Step Functions throttled the call (after the SDK's retries).
    pub fn throttled(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.contains("Throttl") || c == "TooManyRequestsException")
    }
}

/// How a worker's answer ended, once logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    /// Step Functions took it.
    Answered,
    /// The token is spent (the task timed out or was answered before): nothing changed.
    Spent {
        /// The service's error code.
        code: String,
        /// What happened, for the caller.
        message: String,
    },
    /// It failed: see [`Failed::fault`].
    Failed(Failed),
}

/// Sends a worker's answer and writes its log line: `fields` (the function's `event`, `request_id`, ...) plus
/// `token_id`, `status` and the outcome (`answered`, `token_spent`, `invalid_token` or `failed`). The token
/// itself is in no line.
pub async fn settle(client: &Client, request: &Request, fields: Value) -> Settled {
    let status = request.answer.status();
    let fields = log::with(
        fields,
        json!({"token_id": log::token_id(&request.token), "status": status}),
    );
    match send(client, &request.token, &request.answer).await {
        Ok(()) => {
            log::emit(
                "INFO",
                "answered the task",
                log::with(fields, json!({"outcome": "answered"})),
            );
            Settled::Answered
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
            Settled::Spent { code, message }
        }
        Err(Refusal::Failed(failed)) => {
            let (outcome, message) = match failed.fault {
                Fault::Token => ("invalid_token", "the task token is not one Step Functions issued"),
                _ => ("failed", "could not answer the task"),
            };
            log::emit(
                "ERROR",
                message,
                log::with(
                    fields,
                    json!({
                        "outcome": outcome,
                        "error_type": failed.kind,
                        "retryable": failed.retryable(),
                        "detail": failed.message,
                    }),
                ),
            );
            Settled::Failed(failed)
        }
    }
}

/// Error codes that mean the token was good and can never be answered again. Step Functions' API reference
/// (<https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html>, and the same
/// for SendTaskFailure and SendTaskHeartbeat): `TaskTimedOut`, "the task token has either expired or the task
/// associated with the token has already been closed"; `TaskDoesNotExist`, the task (an activity's) is gone.
const SPENT_TOKEN: &[&str] = &["TaskTimedOut", "TaskDoesNotExist"];
/// The error code of a token that is not one at all: "The provided token is not valid" (same reference).
const INVALID_TOKEN: &str = "InvalidToken";
/// Error codes that mean the request itself is wrong.
const BAD_REQUEST: &[&str] = &["InvalidOutput", "ValidationException"];
/// Error codes that mean the function is not allowed to answer (its role, its credentials, a KMS key).
const NOT_PERMITTED: &[&str] = &[
    "AccessDeniedException",
    "AccessDenied",
    "NotAuthorized",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "InvalidSignatureException",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "ExpiredTokenException",
    "KmsAccessDeniedException",
    "KmsInvalidStateException",
];

/// Calls SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat. The service's message is scrubbed of the
/// token (and of anything shaped like one) before anything repeats it.
pub async fn send(client: &Client, token: &str, answer: &Answer) -> Result<(), Refusal> {
    let result = match answer {
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
    result.map_err(|(code, detail)| classify(code, log::scrub(&detail, token)))
}

/// An SDK error's code (when the service gave one) and message, for any AWS SDK crate's operation.
pub fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
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

/// Sorts an error by its code: a spent token, a token that is not one, a wrong request, a missing
/// permission, or (any other code, or none: throttling, 5xx, network) something that may pass later.
pub fn classify(code: Option<String>, detail: String) -> Refusal {
    let given = code.clone();
    let failed = |kind: &str, fault, message| {
        Refusal::Failed(Failed {
            code: given.clone(),
            kind: kind.to_string(),
            fault,
            message,
        })
    };
    match code.as_deref() {
        Some(c) if SPENT_TOKEN.contains(&c) => Refusal::TokenSpent {
            code: c.to_string(),
            detail,
        },
        Some(INVALID_TOKEN) => failed(
            INVALID_TOKEN,
            Fault::Token,
            format!(
                "{INVALID_TOKEN}: Step Functions issued no such task token (changed, cut short, or from another \
                 account or region); pass the token from the task message unchanged, and do not retry with this \
                 one ({detail})"
            ),
        ),
        Some(c) if BAD_REQUEST.contains(&c) => failed(
            c,
            Fault::Request,
            format!("{c}: Step Functions rejected the answer; fix it before retrying ({detail})"),
        ),
        Some(c) if NOT_PERMITTED.contains(&c) => failed(
            c,
            Fault::Permission,
            format!(
                "{c}: the function may not answer this task; check its role (states:SendTask* on the state \
                 machine) and key grants, then retry ({detail})"
            ),
        ),
        Some(c) => failed(
            "Retryable",
            Fault::Transient,
            format!("{c}: Step Functions did not take the answer after retries; retry later ({detail})"),
        ),
        None => failed(
            "Retryable",
            Fault::Transient,
            format!("Step Functions could not be reached after retries; retry later ({detail})"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(code: Option<&str>) -> Failed {
        match classify(code.map(str::to_string), "x".into()) {
            Refusal::Failed(f) => f,
            spent => panic!("{code:?} classified as {spent:?}"),
        }
    }

    #[test]
    fn spent_tokens_are_not_failures() {
        for code in ["TaskTimedOut", "TaskDoesNotExist"] {
            assert_eq!(
                classify(Some(code.into()), "gone".into()),
                Refusal::TokenSpent {
                    code: code.into(),
                    detail: "gone".into()
                }
            );
        }
    }

    #[test]
    fn a_token_step_functions_never_issued_is_a_failure_of_its_own() {
        let f = failed(Some("InvalidToken"));
        assert_eq!(
            (f.kind.as_str(), f.fault, f.retryable()),
            ("InvalidToken", Fault::Token, false)
        );
        assert_eq!(f.code.as_deref(), Some("InvalidToken"));
        assert!(f.message.contains("do not retry with this one"), "{}", f.message);
    }

    #[test]
    fn a_wrong_request_is_final() {
        for code in ["InvalidOutput", "ValidationException"] {
            let f = failed(Some(code));
            assert_eq!((f.kind.as_str(), f.fault, f.retryable()), (code, Fault::Request, false));
            assert!(f.message.contains("fix it before retrying"));
        }
    }

    #[test]
    fn authorization_errors_are_not_retryable() {
        for code in NOT_PERMITTED {
            let f = failed(Some(code));
            assert_eq!(
                (f.kind.as_str(), f.fault, f.retryable()),
                (*code, Fault::Permission, false)
            );
            assert!(f.message.contains("check its role"), "{}", f.message);
        }
    }

    #[test]
    fn throttling_server_errors_and_network_failures_are_retryable() {
        for code in [
            Some("ThrottlingException"),
            Some("ServiceUnavailable"),
            Some("KmsThrottlingException"),
            None,
        ] {
            let f = failed(code);
            assert_eq!(
                (f.kind.as_str(), f.fault, f.retryable()),
                ("Retryable", Fault::Transient, true)
            );
            assert!(f.message.contains("retry later"));
            assert_eq!(f.code.as_deref(), code);
            assert_eq!(f.throttled(), code.is_some_and(|c| c.contains("Throttling")));
        }
    }
}
