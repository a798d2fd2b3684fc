//! The Lambda package of sfngen modules. One binary, two functions, told apart by the mode the module sets in
//! the environment ([`MODE_VARIABLE`]), which nothing in an event can change:
//!
//! - `callback`, the function workers invoke: a task token (and optionally a status, output, error and
//!   cause); it answers Step Functions with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat. It refuses
//!   an SQS batch: dead letters are not a worker's to report.
//! - `dead_letters`, the function only the module's SQS event source mappings invoke (no worker's policy
//!   names it): it fails the task of each dead-lettered message with `sfngen.DeadLettered` (see
//!   [`dead_letter`]), and takes nothing but SQS batches.
//!
//! Every event is read from the bytes the invoker sent ([`RawPayload`]), strictly ([`json`]): a worker's
//! output reaches Step Functions as written, and an event that is not JSON, gives a key twice or nests too
//! deep is an `InvalidEvent` with one log line, like any other invalid event.

mod answer;
mod client;
mod dead_letter;
mod endpoint;
mod html;
mod http;
mod json;
mod link;
mod log;
mod notify;
mod page;
mod request;

use std::task::{Context as TaskContext, Poll};

use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{Diagnostic, LambdaEvent, LambdaInvocation, Runtime, service_fn};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::answer::{Failed, Settled};
use crate::request::Invalid;

/// The environment variable holding the function's mode: `callback` (also when unset), `dead_letters`,
/// `endpoint`, `approval_notify` or `approval_page`.
pub const MODE_VARIABLE: &str = "SFNGEN_MODE";

/// What this function does, from its environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Answers workers' callbacks.
    Callback,
    /// Fails the tasks of dead letters, from SQS batches.
    DeadLetters,
    /// Answers workers' callbacks sent to its function URL ([`endpoint`]).
    Endpoint,
    /// Keeps approval tokens and sends the links ([`notify`]).
    ApprovalNotify,
    /// Shows approval pages and decides ([`page`]).
    ApprovalPage,
}

impl Mode {
    /// The mode [`MODE_VARIABLE`] names; unset is `callback`, which is what the package answers on its own.
    fn from_env(value: Option<&str>) -> Result<Mode, String> {
        match value {
            None | Some("callback") => Ok(Mode::Callback),
            Some("dead_letters") => Ok(Mode::DeadLetters),
            Some("endpoint") => Ok(Mode::Endpoint),
            Some("approval_notify") => Ok(Mode::ApprovalNotify),
            Some("approval_page") => Ok(Mode::ApprovalPage),
            Some(other) => Err(format!(
                "{MODE_VARIABLE} is {}: it must be \"callback\", \"dead_letters\", \"endpoint\", \
                 \"approval_notify\" or \"approval_page\"",
                request::quoted(other, 40)
            )),
        }
    }

    /// The `event` field of this function's log lines.
    fn event(self) -> &'static str {
        match self {
            Mode::Callback => "callback",
            Mode::DeadLetters => "dead_letter",
            Mode::Endpoint => "endpoint",
            Mode::ApprovalNotify => "approval_notify",
            Mode::ApprovalPage => "approval",
        }
    }
}

/// The function, set up for its mode: its clients and settings.
enum App {
    /// `callback` and `dead_letters`: Step Functions only.
    Answers(Mode, aws_sdk_sfn::Client),
    /// `endpoint`.
    Endpoint(endpoint::Endpoint),
    /// `approval_notify`.
    Notify(Box<notify::Notifier>),
    /// `approval_page`.
    Page(Box<page::ApprovalPage>),
}

impl App {
    /// Sets the function up for its mode from the environment; `Err` says what is missing.
    async fn new(mode: Mode, var: impl Fn(&str) -> Option<String>) -> Result<App, String> {
        let plan = client::Plan::from_env(&var);
        Ok(match mode {
            Mode::Callback | Mode::DeadLetters => App::Answers(mode, client::build(&plan).await),
            Mode::Endpoint => {
                let auth = endpoint::Auth::from_env(&var)?;
                let secrets = match auth {
                    endpoint::Auth::Hmac { .. } => Some(client::secrets_manager(&plan).await),
                    endpoint::Auth::Iam => None,
                };
                App::Endpoint(endpoint::Endpoint::new(client::build(&plan).await, secrets, auth))
            }
            Mode::ApprovalNotify => App::Notify(Box::new(notify::Notifier {
                settings: notify::Settings::from_env(&var)?,
                dynamodb: client::dynamodb(&plan).await,
                kms: client::kms(&plan).await,
                sns: client::sns(&plan).await,
                sqs: client::sqs(&plan).await,
                eventbridge: client::eventbridge(&plan).await,
            })),
            Mode::ApprovalPage => App::Page(Box::new(page::ApprovalPage {
                settings: page::Settings::from_env(&var)?,
                dynamodb: client::dynamodb(&plan).await,
                kms: client::kms(&plan).await,
                sfn: client::build(&plan).await,
            })),
        })
    }
}

/// The event as the runtime hands it to [`handle`]: the invocation's text, or where its bytes stop being
/// UTF-8 (JSON is UTF-8 text; no such bytes can be an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Payload {
    Text(String),
    NotUtf8 { valid_up_to: usize },
}

impl Payload {
    fn of(body: &[u8]) -> Payload {
        match std::str::from_utf8(body) {
            Ok(text) => Payload::Text(text.to_string()),
            Err(e) => Payload::NotUtf8 {
                valid_up_to: e.valid_up_to(),
            },
        }
    }
}

/// A layer in front of `lambda_runtime`'s own: it wraps the invocation's bytes in a [`Payload`], which the
/// runtime's deserializer always accepts. Without it the runtime parses the bytes into the handler's type
/// before the handler runs: big numbers become floats, a key given twice keeps its last value, and bytes that
/// are not JSON get the runtime's own error, with no log line. Everything else (the Runtime API, errors,
/// panics) stays the runtime's.
struct RawPayload;

impl<S> Layer<S> for RawPayload {
    type Service = RawPayloadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RawPayloadService { inner }
    }
}

/// The service of [`RawPayload`].
struct RawPayloadService<S> {
    inner: S,
}

impl<S> Service<LambdaInvocation> for RawPayloadService<S>
where
    S: Service<LambdaInvocation, Response = (), Error = lambda_runtime::Error>,
{
    type Response = ();
    type Error = lambda_runtime::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut invocation: LambdaInvocation) -> Self::Future {
        // Serializing a string or a number cannot fail; were it to, the runtime reports an empty body as a
        // deserialization error, which is still an error response.
        invocation.body = serde_json::to_vec(&Payload::of(&invocation.body))
            .unwrap_or_default()
            .into();
        self.inner.call(invocation)
    }
}

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

/// What an event asks of this function, once read and validated for its mode.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Work {
    /// A worker's callback (the callback's mode).
    Answer(request::Request),
    /// A batch of dead letters (the dead-letter function's mode).
    FailDeadLetters(dead_letter::Batch),
}

/// Reads and validates an event for the function's mode, before any AWS call.
fn route(mode: Mode, payload: Payload) -> Result<Work, Invalid> {
    let text = match payload {
        Payload::Text(text) => text,
        Payload::NotUtf8 { valid_up_to } => {
            return Err(Invalid(format!(
                "the event is not JSON: its bytes stop being UTF-8 text at byte {valid_up_to}"
            )));
        }
    };
    let fields = request::members(&text)?;
    match mode {
        Mode::DeadLetters => match &fields {
            Some(fields) => dead_letter::parse(fields),
            None => dead_letter::parse_event(&text),
        }
        .map(Work::FailDeadLetters)
        .map_err(|invalid| {
            Invalid(format!(
                "{invalid} (this function fails the tasks of dead letters its SQS event source mappings hand it; a \
                 worker answers a task through the module's callback function)"
            ))
        }),
        Mode::Callback | Mode::Endpoint | Mode::ApprovalNotify | Mode::ApprovalPage => match &fields {
            Some(fields) if fields.contains_key("Records") => Err(Invalid(
                "this function answers workers' callbacks, and an SQS batch (\"Records\") is not one: the module's \
                 dead-letter function, which only its event source mappings invoke, fails the tasks of dead letters"
                    .into(),
            )),
            Some(fields) => request::from_members(fields),
            None => request::parse(&text),
        }
        .map(Work::Answer),
    }
}

async fn handle(app: &App, event: LambdaEvent<Payload>) -> Result<Value, Refused> {
    let request_id = event.context.request_id;
    let (mode, client) = match app {
        App::Answers(mode, client) => (*mode, client),
        App::Endpoint(endpoint) => {
            let text = text(Mode::Endpoint, event.payload, &request_id)?;
            return endpoint
                .handle(&text, &request_id)
                .await
                .map_err(|invalid| reject(Mode::Endpoint.event(), &request_id, invalid));
        }
        App::Notify(notifier) => {
            let text = text(Mode::ApprovalNotify, event.payload, &request_id)?;
            return notifier
                .handle(&text, &request_id)
                .await
                .map_err(|invalid| reject(Mode::ApprovalNotify.event(), &request_id, invalid));
        }
        App::Page(page) => {
            let text = text(Mode::ApprovalPage, event.payload, &request_id)?;
            return page
                .handle(&text, &request_id)
                .await
                .map_err(|invalid| reject(Mode::ApprovalPage.event(), &request_id, invalid));
        }
    };
    match route(mode, event.payload).map_err(|invalid| reject(mode.event(), &request_id, invalid))? {
        Work::Answer(request) => callback(client, request, &request_id).await,
        Work::FailDeadLetters(batch) => dead_letter::answer(client, batch, &request_id)
            .await
            .map_err(Refused::from),
    }
}

/// The event's text, for the modes that read it themselves.
fn text(mode: Mode, payload: Payload, request_id: &str) -> Result<String, Refused> {
    match payload {
        Payload::Text(text) => Ok(text),
        Payload::NotUtf8 { valid_up_to } => Err(reject(
            mode.event(),
            request_id,
            Invalid(format!(
                "the event is not JSON: its bytes stop being UTF-8 text at byte {valid_up_to}"
            )),
        )),
    }
}

/// Logs and answers an event this function does not take.
fn reject(event: &str, request_id: &str, invalid: Invalid) -> Refused {
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
/// moved on, and nothing the worker does can change that. A token Step Functions never issued is an error of
/// its own: the worker has a bug.
async fn callback(client: &aws_sdk_sfn::Client, request: request::Request, request_id: &str) -> Result<Value, Refused> {
    let token_id = log::token_id(&request.token);
    let status = request.answer.status();
    let fields = json!({"event": "callback", "request_id": request_id});
    match answer::settle(client, &request, fields).await {
        Settled::Answered => Ok(json!({"answered": status, "outcome": "answered", "token_id": token_id})),
        Settled::Spent { code, message } => Ok(json!({
            "answered": false,
            "outcome": "token_spent",
            "status": status,
            "code": code,
            "token_id": token_id,
            "message": message,
        })),
        Settled::Failed(failed) => Err(failed.into()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let mode = match Mode::from_env(std::env::var(MODE_VARIABLE).ok().as_deref()) {
        Ok(mode) => mode,
        Err(problem) => {
            // Lambda reports the exit as an init error (Runtime.ExitError); the line says why.
            log::emit("ERROR", "cannot start", json!({"event": "init", "reason": problem}));
            std::process::exit(1);
        }
    };
    let app = match App::new(mode, |name| std::env::var(name).ok()).await {
        Ok(app) => app,
        Err(problem) => {
            log::emit("ERROR", "cannot start", json!({"event": "init", "reason": problem}));
            std::process::exit(1);
        }
    };
    let app = &app;
    Runtime::new(service_fn(move |event| handle(app, event)))
        .layer(RawPayload)
        .run()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mode_comes_from_the_environment_only() {
        assert_eq!(Mode::from_env(None), Ok(Mode::Callback));
        assert_eq!(Mode::from_env(Some("callback")), Ok(Mode::Callback));
        assert_eq!(Mode::from_env(Some("dead_letters")), Ok(Mode::DeadLetters));
        assert_eq!(Mode::from_env(Some("endpoint")), Ok(Mode::Endpoint));
        assert_eq!(Mode::from_env(Some("approval_notify")), Ok(Mode::ApprovalNotify));
        assert_eq!(Mode::from_env(Some("approval_page")), Ok(Mode::ApprovalPage));
        for wrong in ["", "Callback", "dead-letters", "dead_letters "] {
            let problem = Mode::from_env(Some(wrong)).unwrap_err();
            assert!(problem.starts_with("SFNGEN_MODE is \""), "{problem}");
        }
    }

    fn routed(mode: Mode, event: &str) -> Result<Work, String> {
        route(mode, Payload::Text(event.into())).map_err(|Invalid(message)| message)
    }

    const BATCH: &str = r#"{"Records": [{"messageId": "m", "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:d-main-dlq", "body": "{\"token\": \"t\"}"}]}"#;

    #[test]
    fn the_callback_refuses_an_sqs_batch() {
        let refused = routed(Mode::Callback, BATCH).unwrap_err();
        assert!(
            refused.starts_with("this function answers workers' callbacks, and an SQS batch"),
            "{refused}"
        );
        // The same batch is the dead-letter function's to take.
        let Ok(Work::FailDeadLetters(batch)) = routed(Mode::DeadLetters, BATCH) else {
            panic!("the dead-letter function refused a batch");
        };
        assert_eq!(batch.records[0].task, Ok("t".to_string()));
    }

    #[test]
    fn the_dead_letter_function_takes_nothing_but_sqs_batches() {
        for event in [r#"{"token": "t"}"#, r#""t""#, "[]", r#"{"Records": [], "token": "t"}"#] {
            let refused = routed(Mode::DeadLetters, event).unwrap_err();
            assert!(
                refused.ends_with("through the module's callback function)"),
                "{event}: {refused}"
            );
        }
        assert_eq!(
            routed(Mode::Callback, r#"{"token": "t"}"#),
            Ok(Work::Answer(request::Request {
                token: "t".into(),
                answer: request::Answer::Success { output: "{}".into() }
            }))
        );
    }

    #[test]
    fn either_mode_refuses_what_is_not_json_before_anything_else() {
        for mode in [Mode::Callback, Mode::DeadLetters] {
            assert_eq!(
                route(mode, Payload::NotUtf8 { valid_up_to: 3 }).unwrap_err().0,
                "the event is not JSON: its bytes stop being UTF-8 text at byte 3"
            );
            assert!(routed(mode, "{").unwrap_err().starts_with("the event is not JSON"));
            assert!(
                routed(mode, r#"{"a": 1, "a": 1}"#)
                    .unwrap_err()
                    .contains("gives the key \"a\" twice")
            );
        }
    }

    #[test]
    fn the_payload_keeps_the_bytes_as_sent() {
        let sent = br#"{"token": "t", "token": "u", "output": 123456789012345678901234567890}"#;
        let wrapped = serde_json::to_vec(&Payload::of(sent)).unwrap();
        let back: Payload = serde_json::from_slice(&wrapped).unwrap();
        assert_eq!(back, Payload::Text(String::from_utf8(sent.to_vec()).unwrap()));
        assert_eq!(Payload::of(b"not json"), Payload::Text("not json".into()));
        assert_eq!(Payload::of(b"{\"a\": \"\xff\"}"), Payload::NotUtf8 { valid_up_to: 7 });
        let wrapped = serde_json::to_vec(&Payload::of(b"\xc3")).unwrap();
        assert_eq!(
            serde_json::from_slice::<Payload>(&wrapped).unwrap(),
            Payload::NotUtf8 { valid_up_to: 0 }
        );
    }
}
