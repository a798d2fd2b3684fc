//! The HTTPS callback endpoint (`SFNGEN_MODE=endpoint`): a Lambda function URL taking the callback's own
//! event as its body, `POST /` only, answered by the same code as the callback function ([`answer::settle`]),
//! with the same typed errors and log lines (`"event": "endpoint"`, plus `auth` and `caller`).
//!
//! Two ways to authenticate (`SFNGEN_ENDPOINT_AUTH`):
//! - `iam`: the function URL's `AWS_IAM` auth; AWS checked the SigV4 signature before the function ran, and
//!   hands over the signer in `requestContext.authorizer.iam`. An event without it did not come through an
//!   `AWS_IAM` function URL and is refused (403).
//! - `hmac`: a webhook signature, `x-sfngen-signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//!   `"<t>.<body bytes>"` with a secret kept in Secrets Manager ([`Secrets`]); `t` within the replay window of
//!   now, compared in constant time; the secret's previous version (`AWSPREVIOUS`) still accepted while a
//!   rotation reaches the senders.
//!
//! Status codes: 200 answered; 400 not a valid callback event (the callback's own `InvalidEvent` message);
//! 401 signature missing, malformed, stale or wrong; 403 not an IAM request; 404 any path but `/`; 405 any
//! method but POST; 409 `InvalidToken` (Step Functions issued no such token); 410 the token is spent
//! (`TaskTimedOut`, `TaskDoesNotExist`); 413 a body over [`MAX_BODY_BYTES`]; 429 Step Functions throttled;
//! 502 the function may not answer (its role); 503 Step Functions unreachable, or no usable secret. Every
//! error body is `{"error": "<Type>", "message": "..."}`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_secretsmanager::error::{ProvideErrorMetadata, SdkError};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::answer::{self, Fault, Settled};
use crate::http::{self, NotRequest, Response};
use crate::log;
use crate::request::{self, Invalid, MAX_CAUSE_CHARS, MAX_ERROR_CHARS, MAX_OUTPUT_BYTES, MAX_TOKEN_CHARS};

/// `SFNGEN_ENDPOINT_AUTH`: `iam` or `hmac`.
pub const AUTH_VARIABLE: &str = "SFNGEN_ENDPOINT_AUTH";
/// `SFNGEN_HMAC_SECRET_ARN`: the Secrets Manager secret holding the HMAC key (hmac).
pub const SECRET_VARIABLE: &str = "SFNGEN_HMAC_SECRET_ARN";
/// `SFNGEN_HMAC_REPLAY_WINDOW_SECONDS`: how far from now a signature's `t` may be (hmac).
pub const WINDOW_VARIABLE: &str = "SFNGEN_HMAC_REPLAY_WINDOW_SECONDS";
/// The replay window when the variable is unset: five minutes.
pub const DEFAULT_WINDOW_SECONDS: u64 = 300;
/// The widest replay window the module allows (`callback.endpoint_replay_window`, 1s..15m).
pub const MAX_WINDOW_SECONDS: u64 = 900;
/// The signature header (lower case, as function URLs pass header names).
pub const SIGNATURE_HEADER: &str = "x-sfngen-signature";
/// The longest signature header read: `t=` and ten digits, and a few `v1=` of 64 hex digits.
pub const MAX_SIGNATURE_HEADER_CHARS: usize = 1024;
/// The most `v1=` signatures one header may carry (a sender mid-rotation signs with two secrets).
pub const MAX_SIGNATURES: usize = 4;
/// The fewest bytes a usable HMAC secret has: SHA-256's output size, the key length RFC 2104 recommends at
/// least (<https://www.rfc-editor.org/rfc/rfc2104#section-3>) and what `openssl rand -hex 32` gives twice over.
pub const MIN_SECRET_BYTES: usize = 32;
/// How long a secret read from Secrets Manager is used before it is read again (so a rotation reaches the
/// function within this time).
pub const SECRET_CACHE: Duration = Duration::from_secs(300);
/// A character of a JSON string takes at most 12 bytes as written: one outside the Basic Multilingual Plane
/// escaped as two `\uXXXX`.
const MAX_BYTES_PER_ESCAPED_CHAR: usize = 12;
/// Room for the event's keys, `status`, and whitespace between tokens.
const EVENT_SLACK_BYTES: usize = 64 * 1024;
/// The largest body taken: the largest valid callback event, each part at Step Functions' own limits
/// ([`request::MAX_TOKEN_CHARS`], [`request::MAX_OUTPUT_BYTES`], [`request::MAX_ERROR_CHARS`],
/// [`request::MAX_CAUSE_CHARS`]) written with every character escaped, plus [`EVENT_SLACK_BYTES`]. Far under
/// the 6 MB a function URL passes on to a function
/// (<https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html>: BUFFERED, "the maximum payload
/// size is 6 MB"). A longer body is refused (413) before it is decoded, verified or parsed.
pub const MAX_BODY_BYTES: usize = MAX_OUTPUT_BYTES
    + (MAX_TOKEN_CHARS + MAX_ERROR_CHARS + MAX_CAUSE_CHARS) * MAX_BYTES_PER_ESCAPED_CHAR
    + EVENT_SLACK_BYTES;
/// The staging label of a secret's current version.
const CURRENT: &str = "AWSCURRENT";
/// The staging label Secrets Manager moves to the version a rotation replaced
/// (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html>: "To retrieve
/// the previous version of a secret, use VersionStage and specify AWSPREVIOUS").
const PREVIOUS: &str = "AWSPREVIOUS";

/// How the endpoint authenticates callers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// The function URL's `AWS_IAM` auth.
    Iam,
    /// Webhook signatures.
    Hmac {
        /// The secret's ARN.
        secret_arn: String,
        /// The replay window, in seconds.
        window_seconds: u64,
    },
}

impl Auth {
    /// Reads the endpoint's settings from an environment lookup.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Auth, String> {
        match var(AUTH_VARIABLE).as_deref() {
            Some("iam") => Ok(Auth::Iam),
            Some("hmac") => {
                let secret_arn = var(SECRET_VARIABLE)
                    .filter(|a| a.starts_with("arn:") && a.split(':').nth(2) == Some("secretsmanager"))
                    .ok_or_else(|| format!("{SECRET_VARIABLE} must be the ARN of a Secrets Manager secret"))?;
                let window_seconds = match var(WINDOW_VARIABLE) {
                    None => DEFAULT_WINDOW_SECONDS,
                    Some(text) => text
                        .parse::<u64>()
                        .ok()
                        .filter(|w| (1..=MAX_WINDOW_SECONDS).contains(w))
                        .ok_or_else(|| {
                            format!(
                                "{WINDOW_VARIABLE} is {}: it must be a number of seconds from 1 to {MAX_WINDOW_SECONDS}",
                                request::quoted(&text, 20)
                            )
                        })?,
                };
                Ok(Auth::Hmac {
                    secret_arn,
                    window_seconds,
                })
            }
            other => Err(format!(
                "{AUTH_VARIABLE} is {}: it must be \"iam\" or \"hmac\"",
                other.map_or_else(|| "unset".to_string(), |v| request::quoted(v, 20))
            )),
        }
    }

    /// `iam` or `hmac`, for log lines.
    pub fn name(&self) -> &'static str {
        match self {
            Auth::Iam => "iam",
            Auth::Hmac { .. } => "hmac",
        }
    }
}

/// A parsed `x-sfngen-signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// `t`: when the sender signed, in unix seconds.
    pub timestamp: i64,
    /// Each `v1`: an HMAC-SHA256, 32 bytes.
    pub v1: Vec<Vec<u8>>,
}

/// Reads a signature header: `t=<digits>,v1=<64 hex digits>[,v1=...]`, parts in any order, spaces around
/// them allowed, parts of other schemes ignored (a later version may add them).
pub fn parse_signature(header: &str) -> Result<Signature, &'static str> {
    if header.len() > MAX_SIGNATURE_HEADER_CHARS {
        return Err("the signature header is too long");
    }
    let mut timestamp = None;
    let mut v1 = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err("each part of the signature header is key=value");
        };
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err("the signature header gives t twice");
                }
                if value.is_empty() || value.len() > 12 || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("t must be the unix time in seconds");
                }
                timestamp = value.parse::<i64>().ok();
            }
            "v1" => {
                let Some(mac) = hex(value).filter(|m| m.len() == 32) else {
                    return Err("v1 must be 64 hex digits (an HMAC-SHA256)");
                };
                if v1.len() == MAX_SIGNATURES {
                    return Err("the signature header has too many v1 signatures");
                }
                v1.push(mac);
            }
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return Err("the signature header has no t");
    };
    if v1.is_empty() {
        return Err("the signature header has no v1");
    }
    Ok(Signature { timestamp, v1 })
}

fn hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// Whether `t` is within `window` seconds of `now`, either way.
pub fn fresh(signature: &Signature, now: i64, window_seconds: u64) -> bool {
    signature.timestamp.abs_diff(now) <= window_seconds
}

/// Whether one of the header's `v1` is the HMAC-SHA256 of `"<t>.<body>"` under one of the secrets. Each
/// comparison is constant-time (`hmac`'s `verify_slice`).
pub fn verify(signature: &Signature, body: &[u8], secrets: &[&[u8]]) -> bool {
    let t = signature.timestamp.to_string();
    let mut valid = false;
    for secret in secrets {
        for v1 in &signature.v1 {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
                continue;
            };
            mac.update(t.as_bytes());
            mac.update(b".");
            mac.update(body);
            // No early exit: every pair is checked, so time does not tell which one matched.
            valid |= mac.verify_slice(v1).is_ok();
        }
    }
    valid
}

/// The HMAC secret's usable versions.
#[derive(Clone, PartialEq, Eq)]
pub struct Secrets {
    /// `AWSCURRENT`'s bytes.
    pub current: Vec<u8>,
    /// `AWSPREVIOUS`'s bytes, when there is a usable one.
    pub previous: Option<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(<redacted>)")
    }
}

/// Why no secret can be used: every request is refused (503) until it is fixed. The message names the
/// problem, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretProblem {
    /// The secret has no current value (the module creates it empty; the team puts one).
    NoValue,
    /// The value is binary, not a string.
    Binary,
    /// The value is shorter than [`MIN_SECRET_BYTES`].
    TooShort {
        /// Its length.
        bytes: usize,
    },
    /// Secrets Manager refused or could not be reached.
    Unavailable(String),
}

impl SecretProblem {
    /// What is wrong and how to fix it.
    pub fn message(&self, arn: &str) -> String {
        let put = format!(
            "put one with: aws secretsmanager put-secret-value --secret-id {arn} --secret-string \"$(openssl rand -hex 32)\""
        );
        match self {
            SecretProblem::NoValue => format!("the HMAC secret has no value yet; {put}"),
            SecretProblem::Binary => format!("the HMAC secret's value is binary (SecretBinary), not a string; {put}"),
            SecretProblem::TooShort { bytes } => {
                format!("the HMAC secret's value has {bytes} bytes; at least {MIN_SECRET_BYTES} are needed; {put}")
            }
            SecretProblem::Unavailable(detail) => format!("could not read the HMAC secret: {detail}"),
        }
    }
}

/// A version's bytes from GetSecretValue's answer: its SecretString's UTF-8 bytes, at least
/// [`MIN_SECRET_BYTES`].
pub fn usable(string: Option<&str>, binary: bool) -> Result<Vec<u8>, SecretProblem> {
    match string {
        Some(s) if s.len() >= MIN_SECRET_BYTES => Ok(s.as_bytes().to_vec()),
        Some(s) => Err(SecretProblem::TooShort { bytes: s.len() }),
        None if binary => Err(SecretProblem::Binary),
        None => Err(SecretProblem::NoValue),
    }
}

/// One version of the secret, by staging label: `Ok(None)` when there is no such version.
async fn read_version(
    client: &aws_sdk_secretsmanager::Client,
    arn: &str,
    stage: &str,
) -> Result<Option<Result<Vec<u8>, SecretProblem>>, SecretProblem> {
    match client
        .get_secret_value()
        .secret_id(arn)
        .version_stage(stage)
        .send()
        .await
    {
        Ok(out) => Ok(Some(usable(out.secret_string(), out.secret_binary().is_some()))),
        Err(SdkError::ServiceError(e)) if e.err().is_resource_not_found_exception() => Ok(None),
        Err(e) => {
            let (code, message) = match &e {
                SdkError::ServiceError(s) => (
                    s.err().code().unwrap_or("error").to_string(),
                    s.err().message().unwrap_or_default().to_string(),
                ),
                other => ("network".to_string(), other.to_string()),
            };
            Err(SecretProblem::Unavailable(format!("{code}: {message}")))
        }
    }
}

/// Reads the current and previous versions of the secret.
async fn read_secrets(client: &aws_sdk_secretsmanager::Client, arn: &str) -> Result<Secrets, SecretProblem> {
    let current = read_version(client, arn, CURRENT)
        .await?
        .ok_or(SecretProblem::NoValue)??;
    // The previous version is a courtesy during a rotation: when it cannot be read, only the current counts.
    let previous = read_version(client, arn, PREVIOUS)
        .await
        .ok()
        .flatten()
        .and_then(Result::ok);
    Ok(Secrets { current, previous })
}

/// The endpoint function: its clients, settings and the cached secret.
pub struct Endpoint {
    sfn: aws_sdk_sfn::Client,
    secrets_manager: Option<aws_sdk_secretsmanager::Client>,
    auth: Auth,
    cache: Mutex<Option<(Instant, Secrets)>>,
}

/// What the endpoint decided before answering: a response now, or a callback event to answer.
#[derive(Debug)]
enum Step {
    Respond(Response, Value),
    Answer(request::Request),
}

impl Endpoint {
    /// The endpoint with its clients (Secrets Manager's only for hmac).
    pub fn new(
        sfn: aws_sdk_sfn::Client,
        secrets_manager: Option<aws_sdk_secretsmanager::Client>,
        auth: Auth,
    ) -> Endpoint {
        Endpoint {
            sfn,
            secrets_manager,
            auth,
            cache: Mutex::new(None),
        }
    }

    /// Answers one function URL request. `Err` only for an event that is no function URL request at all.
    pub async fn handle(&self, event: &str, request_id: &str) -> Result<Value, Invalid> {
        let base = json!({"event": "endpoint", "request_id": request_id, "auth": self.auth.name()});
        let response = match http::parse(event, MAX_BODY_BYTES) {
            Err(NotRequest::Shape(reason)) => {
                return Err(Invalid(format!(
                    "{reason}: this function answers HTTPS requests through its function URL; a worker in AWS \
                     answers through the module's callback function"
                )));
            }
            Err(NotRequest::TooLarge { bytes }) => {
                refuse(&base, too_large(bytes), json!({"outcome": "too_large", "bytes": bytes}))
            }
            Err(NotRequest::BadBase64) => refuse(
                &base,
                Response::error(400, "InvalidEvent", "the body is not valid base64"),
                json!({"outcome": "invalid_event"}),
            ),
            Ok(request) => self.respond(&request, &base).await,
        };
        Ok(response.to_value())
    }

    async fn respond(&self, request: &http::Request, base: &Value) -> Response {
        let caller = self.caller(request);
        let base = log::with(base.clone(), json!({"caller": caller}));
        let checked = match &self.auth {
            Auth::Iam => check(request, None, unix_now()),
            Auth::Hmac {
                secret_arn,
                window_seconds,
            } => match check(request, Some(*window_seconds), unix_now()) {
                Step::Answer(event) => match self.secrets(secret_arn).await {
                    Ok(secrets) => signed(request, &secrets, event),
                    Err(problem) => Step::Respond(
                        Response::error(503, "SecretUnavailable", &problem.message(secret_arn)),
                        json!({"outcome": "secret_unavailable", "reason": problem.message(secret_arn)}),
                    ),
                },
                respond => respond,
            },
        };
        match checked {
            Step::Respond(response, fields) => refuse(&base, response, fields),
            Step::Answer(event) => {
                let settled = answer::settle(&self.sfn, &event, base).await;
                settled_response(&event, settled)
            }
        }
    }

    /// Who called, as far as the function knows: the IAM signer's ARN, or the source IP of a webhook.
    fn caller(&self, request: &http::Request) -> Value {
        match (&self.auth, &request.iam) {
            (Auth::Iam, Some(iam)) => json!(iam.user_arn.clone().or_else(|| iam.account_id.clone())),
            _ => json!(request.source_ip),
        }
    }

    /// The secret's versions: cached for [`SECRET_CACHE`]; a problem is not cached, so a value the team
    /// puts is used on the next request.
    async fn secrets(&self, arn: &str) -> Result<Secrets, SecretProblem> {
        if let Ok(cache) = self.cache.lock()
            && let Some((at, secrets)) = cache.as_ref()
            && at.elapsed() < SECRET_CACHE
        {
            return Ok(secrets.clone());
        }
        let Some(client) = &self.secrets_manager else {
            return Err(SecretProblem::Unavailable("no Secrets Manager client".into()));
        };
        let secrets = read_secrets(client, arn).await?;
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((Instant::now(), secrets.clone()));
        }
        Ok(secrets)
    }
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn too_large(bytes: usize) -> Response {
    Response::error(
        413,
        "PayloadTooLarge",
        &format!(
            "the body has {bytes} bytes; the endpoint takes at most {MAX_BODY_BYTES} (a callback event at Step \
             Functions' own limits); send the output without indentation"
        ),
    )
}

/// Logs a refusal and hands back its response.
fn refuse(base: &Value, response: Response, fields: Value) -> Response {
    let level = if response.status >= 500 { "ERROR" } else { "WARN" };
    let fields = log::with(log::with(base.clone(), json!({"http_status": response.status})), fields);
    log::emit(level, "refused a request", fields);
    response
}

/// The checks before any secret or AWS call: path, method, IAM, the signature's shape and age, the body's
/// text and the callback event in it. `window`: the replay window under hmac, `None` under iam.
fn check(request: &http::Request, window: Option<u64>, now: i64) -> Step {
    if request.path != "/" {
        return Step::Respond(
            Response::error(404, "NotFound", "the endpoint answers POST / only"),
            json!({"outcome": "not_found"}),
        );
    }
    if request.method != "POST" {
        return Step::Respond(
            Response::error(405, "MethodNotAllowed", "the endpoint answers POST / only").with_header("allow", "POST"),
            json!({"outcome": "method_not_allowed"}),
        );
    }
    match window {
        None if request.iam.is_none() => {
            return Step::Respond(
                Response::error(
                    403,
                    "Forbidden",
                    "the request did not come through the function URL's AWS_IAM auth (no requestContext.authorizer.iam)",
                ),
                json!({"outcome": "unauthorized", "reason": "no IAM caller"}),
            );
        }
        None => {}
        Some(window) => {
            let unsigned = |reason: &str| {
                Step::Respond(
                    Response::error(401, "InvalidSignature", reason),
                    json!({"outcome": "unauthorized", "reason": reason}),
                )
            };
            let Some(header) = request.header(SIGNATURE_HEADER) else {
                return unsigned("the request has no x-sfngen-signature header");
            };
            let signature = match parse_signature(header) {
                Ok(signature) => signature,
                Err(reason) => return unsigned(reason),
            };
            if !fresh(&signature, now, window) {
                return unsigned("the signature's t is outside the replay window: sign each request when you send it");
            }
        }
    }
    let Ok(text) = std::str::from_utf8(&request.body) else {
        return invalid_event(Invalid(
            "the body is not UTF-8 text, so not a JSON callback event".into(),
        ));
    };
    match request::parse(text) {
        Ok(event) => Step::Answer(event),
        Err(invalid) => invalid_event(invalid),
    }
}

fn invalid_event(invalid: Invalid) -> Step {
    Step::Respond(
        Response::error(400, "InvalidEvent", &invalid.0),
        json!({"outcome": "invalid_event", "reason": invalid.0}),
    )
}

/// Verifies the signature of a request whose header [`check`] read (hmac).
fn signed(request: &http::Request, secrets: &Secrets, event: request::Request) -> Step {
    let signature = request.header(SIGNATURE_HEADER).map(parse_signature);
    let Some(Ok(signature)) = signature else {
        return Step::Respond(
            Response::error(401, "InvalidSignature", "the request has no valid signature header"),
            json!({"outcome": "unauthorized"}),
        );
    };
    let mut keys: Vec<&[u8]> = vec![&secrets.current];
    if let Some(previous) = &secrets.previous {
        keys.push(previous);
    }
    if verify(&signature, &request.body, &keys) {
        Step::Answer(event)
    } else {
        let reason = "no v1 signature matches the body under the endpoint's secret";
        Step::Respond(
            Response::error(401, "InvalidSignature", reason),
            json!({"outcome": "unauthorized", "reason": reason}),
        )
    }
}

/// The HTTP response to an answer [`answer::settle`] sent (and logged).
fn settled_response(event: &request::Request, settled: Settled) -> Response {
    let token_id = log::token_id(&event.token);
    let status = event.answer.status();
    match settled {
        Settled::Answered => Response::json(
            200,
            &json!({"answered": status, "outcome": "answered", "token_id": token_id}),
        ),
        Settled::Spent { code, message } => Response::json(
            410,
            &json!({"error": code, "message": message, "outcome": "token_spent", "token_id": token_id}),
        ),
        Settled::Failed(failed) => {
            let http_status = match failed.fault {
                Fault::Request => 400,
                Fault::Token => 409,
                Fault::Permission => 502,
                Fault::Transient if failed.throttled() => 429,
                Fault::Transient => 503,
            };
            let response = Response::error(http_status, &failed.kind, &failed.message);
            if http_status == 429 || http_status == 503 {
                response.with_header("retry-after", "1")
            } else {
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Failed;
    use crate::http::tests::event;
    use crate::request::Answer;

    const NOW: i64 = 1_796_299_200;
    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
    const OLD_SECRET: &[u8] = b"fedcba9876543210fedcba9876543210";
    const BODY: &str = r#"{"token": "AAAAKgAAAAIAAAAAAAAAAV3/example+token+that+is+long==", "output": {"ok": true}}"#;

    fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(body);
        mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn request(method: &str, path: &str, headers: Value, body: &str) -> http::Request {
        http::parse(&event(method, path, "", headers, Some(body), false), MAX_BODY_BYTES).unwrap()
    }

    fn iam_request(body: &str) -> http::Request {
        let mut r = request("POST", "/", json!({}), body);
        r.iam = Some(http::IamCaller {
            user_arn: Some("arn:aws:sts::123456789012:assumed-role/worker/s".into()),
            account_id: Some("123456789012".into()),
        });
        r
    }

    fn status(step: &Step) -> u16 {
        match step {
            Step::Respond(r, _) => r.status,
            Step::Answer(_) => 200,
        }
    }

    fn hmac_step(header: Option<String>, body: &str, secrets: &Secrets) -> Step {
        let headers = match header {
            Some(h) => json!({ "X-Sfngen-Signature": h }),
            None => json!({}),
        };
        let r = request("POST", "/", headers, body);
        match check(&r, Some(300), NOW) {
            Step::Answer(e) => signed(&r, secrets, e),
            other => other,
        }
    }

    fn secrets(previous: Option<&[u8]>) -> Secrets {
        Secrets {
            current: SECRET.to_vec(),
            previous: previous.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn settings_come_from_the_environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            Auth::from_env(move |n| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.to_string()))
        };
        assert_eq!(env(&[("SFNGEN_ENDPOINT_AUTH", "iam")]), Ok(Auth::Iam));
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:d-endpoint-hmac-AbCdEf";
        assert_eq!(
            env(&[
                ("SFNGEN_ENDPOINT_AUTH", "hmac"),
                (
                    "SFNGEN_HMAC_SECRET_ARN",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:d-endpoint-hmac-AbCdEf"
                )
            ]),
            Ok(Auth::Hmac {
                secret_arn: arn.into(),
                window_seconds: 300
            })
        );
        assert!(
            env(&[("SFNGEN_ENDPOINT_AUTH", "hmac")])
                .unwrap_err()
                .contains("SFNGEN_HMAC_SECRET_ARN")
        );
        for window in ["0", "901", "5m", "-1"] {
            let vars: &'static [(&str, &str)] = Box::leak(Box::new([
                ("SFNGEN_ENDPOINT_AUTH", "hmac"),
                ("SFNGEN_HMAC_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:s"),
                ("SFNGEN_HMAC_REPLAY_WINDOW_SECONDS", window),
            ]));
            assert!(
                env(vars).unwrap_err().contains("SFNGEN_HMAC_REPLAY_WINDOW_SECONDS"),
                "{window}"
            );
        }
        assert!(env(&[]).unwrap_err().contains("unset"));
        assert!(env(&[("SFNGEN_ENDPOINT_AUTH", "none")]).is_err());
    }

    #[test]
    fn a_valid_signature_is_accepted() {
        let header = format!("t={NOW},v1={}", sign(SECRET, NOW, BODY.as_bytes()));
        let Step::Answer(event) = hmac_step(Some(header), BODY, &secrets(None)) else {
            panic!("refused a valid signature");
        };
        assert_eq!(
            event.answer,
            Answer::Success {
                output: r#"{"ok":true}"#.into()
            }
        );
        // Spaces, other schemes and several v1 (one of them right) are fine.
        let header = format!(
            " v0=abc , t={NOW} , v1={} ,v1={}",
            "00".repeat(32),
            sign(SECRET, NOW, BODY.as_bytes())
        );
        assert_eq!(status(&hmac_step(Some(header), BODY, &secrets(None))), 200);
    }

    #[test]
    fn a_wrong_signature_is_401() {
        let other_body = BODY.replace("true", "false");
        for header in [
            // Another body, another secret, another time than the one signed.
            format!("t={NOW},v1={}", sign(SECRET, NOW, other_body.as_bytes())),
            format!("t={NOW},v1={}", sign(OLD_SECRET, NOW, BODY.as_bytes())),
            format!("t={},v1={}", NOW - 1, sign(SECRET, NOW, BODY.as_bytes())),
        ] {
            let step = hmac_step(Some(header), BODY, &secrets(None));
            assert_eq!(status(&step), 401);
            let Step::Respond(r, _) = step else { unreachable!() };
            assert!(r.body.contains("InvalidSignature"), "{}", r.body);
        }
    }

    #[test]
    fn a_missing_or_malformed_signature_is_401() {
        assert_eq!(status(&hmac_step(None, BODY, &secrets(None))), 401);
        for header in [
            "",
            "t=1",
            "v1=00",
            &format!("t={NOW}"),
            &format!("t={NOW},v1=zz"),
            &format!("t={NOW},v1={}", "0".repeat(63)),
            &format!("t=x,v1={}", "0".repeat(64)),
            &format!("t={NOW},t={NOW},v1={}", "0".repeat(64)),
            &format!("t={NOW},v1={}", format!("{},", "0".repeat(64)).repeat(5)),
            &"x".repeat(2000),
        ] {
            assert_eq!(
                status(&hmac_step(Some(header.to_string()), BODY, &secrets(None))),
                401,
                "{header}"
            );
        }
    }

    #[test]
    fn a_stale_signature_is_401_at_the_window_edges() {
        for (t, expected) in [(NOW - 300, 200), (NOW + 300, 200), (NOW - 301, 401), (NOW + 301, 401)] {
            let header = format!("t={t},v1={}", sign(SECRET, t, BODY.as_bytes()));
            assert_eq!(
                status(&hmac_step(Some(header), BODY, &secrets(None))),
                expected,
                "t = now {:+}",
                t - NOW
            );
        }
    }

    #[test]
    fn the_previous_secret_still_signs_during_a_rotation() {
        let header = format!("t={NOW},v1={}", sign(OLD_SECRET, NOW, BODY.as_bytes()));
        assert_eq!(
            status(&hmac_step(Some(header.clone()), BODY, &secrets(Some(OLD_SECRET)))),
            200
        );
        assert_eq!(status(&hmac_step(Some(header), BODY, &secrets(None))), 401);
    }

    #[test]
    fn the_secret_must_be_a_string_of_32_bytes() {
        assert_eq!(usable(Some(&"a".repeat(32)), false), Ok(vec![b'a'; 32]));
        assert_eq!(
            usable(Some(&"a".repeat(31)), false),
            Err(SecretProblem::TooShort { bytes: 31 })
        );
        assert_eq!(usable(None, true), Err(SecretProblem::Binary));
        assert_eq!(usable(None, false), Err(SecretProblem::NoValue));
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:s";
        let message = SecretProblem::TooShort { bytes: 3 }.message(arn);
        assert!(
            message.contains("put-secret-value --secret-id arn:aws:secretsmanager"),
            "{message}"
        );
        // The value is never in a message or a Debug print.
        let s = Secrets {
            current: b"THE-SECRET-VALUE-0123456789abcdef".to_vec(),
            previous: None,
        };
        assert_eq!(format!("{s:?}"), "Secrets(<redacted>)");
    }

    #[test]
    fn paths_and_methods() {
        let r = request("POST", "/x", json!({}), BODY);
        assert_eq!(status(&check(&r, None, NOW)), 404);
        let r = request("GET", "/", json!({}), "");
        let Step::Respond(response, _) = check(&r, Some(300), NOW) else {
            panic!()
        };
        assert_eq!(response.status, 405);
        assert!(response.headers.contains(&("allow".into(), "POST".into())));
        assert_eq!(status(&check(&iam_request(BODY), None, NOW)), 200);
    }

    #[test]
    fn iam_without_the_authorizer_is_403() {
        let r = request("POST", "/", json!({}), BODY);
        let Step::Respond(response, fields) = check(&r, None, NOW) else {
            panic!()
        };
        assert_eq!(response.status, 403);
        // The outcome the module's EndpointUnauthorized metric filter counts, as for a bad signature.
        assert_eq!(fields["outcome"], "unauthorized");
        let Step::Respond(_, fields) = hmac_step(None, BODY, &secrets(None)) else {
            panic!()
        };
        assert_eq!(fields["outcome"], "unauthorized");
    }

    #[test]
    fn an_invalid_event_is_400_with_the_callbacks_own_message() {
        let Step::Respond(r, fields) = check(&iam_request(r#"{"tokne": "t"}"#), None, NOW) else {
            panic!()
        };
        assert_eq!(r.status, 400);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["error"], "InvalidEvent");
        assert!(body["message"].as_str().unwrap().contains("unknown field \"tokne\""));
        assert_eq!(fields["outcome"], "invalid_event");
        let mut not_utf8 = iam_request("");
        not_utf8.body = vec![0xff];
        assert_eq!(status(&check(&not_utf8, None, NOW)), 400);
    }

    #[test]
    fn the_size_limit_is_413_before_parsing() {
        let at = format!(r#"{{"token": "t", "output": "{}"}}"#, "a".repeat(MAX_BODY_BYTES - 28));
        assert_eq!(at.len(), MAX_BODY_BYTES);
        assert!(http::parse(&event("POST", "/", "", json!({}), Some(&at), false), MAX_BODY_BYTES).is_ok());
        let past = format!("{at} ");
        assert_eq!(
            http::parse(&event("POST", "/", "", json!({}), Some(&past), false), MAX_BODY_BYTES),
            Err(NotRequest::TooLarge {
                bytes: MAX_BODY_BYTES + 1
            })
        );
        assert_eq!(too_large(MAX_BODY_BYTES + 1).status, 413);
        // The largest valid event fits: every part at its limit, every character escaped.
        let escaped = |n: usize| "\\ud83d\\ude00".repeat(n);
        let largest = format!(
            r#"{{"token": "{}", "status": "failure", "error": "{}", "cause": "{}"}}"#,
            escaped(MAX_TOKEN_CHARS),
            escaped(MAX_ERROR_CHARS),
            escaped(MAX_CAUSE_CHARS)
        );
        assert!(largest.len() + MAX_OUTPUT_BYTES <= MAX_BODY_BYTES);
        assert!(request::parse(&largest).is_ok());
    }

    fn failed(code: Option<&str>) -> Failed {
        match answer::classify(code.map(str::to_string), "detail".into()) {
            answer::Refusal::Failed(f) => f,
            spent => panic!("{spent:?}"),
        }
    }

    #[test]
    fn step_functions_answers_become_status_codes() {
        let event = request::parse(BODY).unwrap();
        let code = |s: Settled| settled_response(&event, s).status;
        assert_eq!(code(Settled::Answered), 200);
        assert_eq!(
            code(Settled::Spent {
                code: "TaskTimedOut".into(),
                message: "m".into()
            }),
            410
        );
        assert_eq!(code(Settled::Failed(failed(Some("InvalidToken")))), 409);
        assert_eq!(code(Settled::Failed(failed(Some("InvalidOutput")))), 400);
        assert_eq!(code(Settled::Failed(failed(Some("AccessDeniedException")))), 502);
        assert_eq!(code(Settled::Failed(failed(Some("ThrottlingException")))), 429);
        assert_eq!(code(Settled::Failed(failed(Some("ServiceUnavailable")))), 503);
        assert_eq!(code(Settled::Failed(failed(None))), 503);
        let r = settled_response(&event, Settled::Answered);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(body["outcome"], "answered");
        assert!(!r.body.contains("example+token"), "{}", r.body);
    }

    #[test]
    fn refusals_log_no_token_signature_or_secret() {
        let mac = sign(SECRET, NOW, BODY.as_bytes());
        let header = format!("t={NOW},v1={mac}");
        let base = json!({"event": "endpoint", "request_id": "r", "auth": "hmac", "caller": "203.0.113.9"});
        let bodies = [
            BODY.to_string(),
            BODY.replace("true", "false"),
            r#"{"tokne": "secret-ish-token-value"}"#.into(),
        ];
        for body in bodies {
            for step in [
                hmac_step(Some(header.clone()), &body, &secrets(None)),
                hmac_step(Some(format!("t={},v1={mac}", NOW - 9999)), &body, &secrets(None)),
            ] {
                if let Step::Respond(response, fields) = step {
                    let line = log::with(log::with(base.clone(), json!({"http_status": response.status})), fields);
                    let text = format!("{line} {}", response.body);
                    for secret in [
                        "example+token",
                        mac.as_str(),
                        std::str::from_utf8(SECRET).unwrap(),
                        "secret-ish-token-value",
                    ] {
                        assert!(!text.contains(secret), "{secret} in {text}");
                    }
                }
            }
        }
    }
}
