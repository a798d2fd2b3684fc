//! The approval page (`SFNGEN_MODE=approval_page`): a function URL with auth NONE, where the link's MAC is
//! the authorization. `GET /?id&exp&mac` shows what waits and changes nothing; `POST` with the same query and
//! a form (`decision=approve|reject`, `comment`) decides once:
//!
//! 1. the link is read (400 malformed), its expiry checked (410 expired), its MAC verified by KMS
//!    (403 invalid: tampered or made up), the item read without its token (410 when gone, 409 when decided);
//! 2. POST: one conditional UpdateItem (`status = pending AND expires_at > now`) records the decision, who
//!    made it as far as the request tells (source IP, user agent), REMOVEs the token and returns it
//!    (`ReturnValues ALL_OLD`): of two POSTs only one write can succeed, so only one ever holds the token;
//! 3. approve → SendTaskSuccess `{"approved": true, "approval_id", "comment", "decided_at", "decided_by"}`;
//!    reject → SendTaskFailure `sfngen.ApprovalRejected` with that JSON (`approved` false) as the cause. A task
//!    already over (timed out) → 410; a failure to answer puts the token back (the decision is undone) and
//!    says to try again (503, or 502 for a permission fault).
//!
//! The token, the MAC and the link are in no page and no log line.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::MacAlgorithmSpec;
use serde_json::{Value, json};

use crate::answer::{self, Fault, Refusal};
use crate::html::{MAX_COMMENT_CHARS, Page, Pending};
use crate::http::{self, NotRequest};
use crate::link::{self, Link};
use crate::log;
use crate::notify::{KEY_VARIABLE, PENDING, TABLE_VARIABLE};
use crate::request::{self, Answer, Invalid};

/// The error a rejected approval fails its task with.
pub const REJECTED_ERROR: &str = "sfngen.ApprovalRejected";
/// The largest form body read: a comment of [`MAX_COMMENT_CHARS`] characters, each percent-encoded as up to
/// 12 bytes, with room to spare.
pub const MAX_FORM_BYTES: usize = 16 * 1024;
/// The most characters of the user agent kept (a decision's record and output, a cause under Step Functions'
/// 32,768 characters: [`request::MAX_CAUSE_CHARS`]).
pub const MAX_USER_AGENT_CHARS: usize = 512;
/// The most characters of the source IP kept (an IPv6 address has at most 45).
pub const MAX_SOURCE_IP_CHARS: usize = 64;
/// The item's attributes a page reads: every one but the token.
const PROJECTION: &str = "#id, #expires_at, #status, #created_at, #execution, #state, #input, #input_cut, #decided_at";

/// The page function's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The approvals table.
    pub table: String,
    /// The HMAC key.
    pub key_id: String,
}

impl Settings {
    /// Reads the settings from an environment lookup.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Settings, String> {
        let required = |name: &str| {
            var(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{name} is unset"))
        };
        Ok(Settings {
            table: required(TABLE_VARIABLE)?,
            key_id: required(KEY_VARIABLE)?,
        })
    }
}

/// A decision a POST asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Approve (`true`) or reject.
    pub approve: bool,
    /// The comment, possibly empty.
    pub comment: String,
}

impl Decision {
    fn status(&self) -> &'static str {
        if self.approve { "approved" } else { "rejected" }
    }
}

/// Who decided, as far as the request tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecidedBy {
    /// The caller's IP address.
    pub source_ip: String,
    /// The browser's user agent.
    pub user_agent: String,
}

impl DecidedBy {
    fn of(request: &http::Request) -> DecidedBy {
        DecidedBy {
            source_ip: request::truncate(request.source_ip.as_deref().unwrap_or("unknown"), MAX_SOURCE_IP_CHARS),
            user_agent: request::truncate(request.user_agent.as_deref().unwrap_or("unknown"), MAX_USER_AGENT_CHARS),
        }
    }
}

/// What a request asks, once its path, method, link and form are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asked {
    /// The link.
    pub link: Link,
    /// `None` for GET (show the page), the decision for POST.
    pub decision: Option<Decision>,
}

/// A page to answer with now: the status, the page, and the log line's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// The HTTP status.
    pub status: u16,
    /// The page.
    pub page: Page,
}

fn answered(status: u16, page: Page) -> Answered {
    Answered { status, page }
}

/// Reads a request without any AWS call: path `/`, GET or POST, a well-formed link that has not expired, and
/// for POST a form with a decision.
pub fn ask(request: &http::Request, now: i64) -> Result<Asked, Answered> {
    if request.path != "/" {
        return Err(answered(404, Page::Malformed("no such page".into())));
    }
    let post = match request.method.as_str() {
        "GET" => false,
        "POST" => true,
        _ => {
            return Err(answered(
                405,
                Page::Malformed("the page takes GET and POST only".into()),
            ));
        }
    };
    let link = link::parse_link(&request.query).map_err(|reason| answered(400, Page::Malformed(reason)))?;
    if link.expires_at <= now {
        return Err(answered(410, Page::Expired));
    }
    let decision = if post {
        Some(decision(request).map_err(|reason| answered(400, Page::Malformed(reason)))?)
    } else {
        None
    };
    Ok(Asked { link, decision })
}

/// The form of a POST: `decision=approve|reject` once, `comment` at most once and at most
/// [`MAX_COMMENT_CHARS`] characters.
pub fn decision(request: &http::Request) -> Result<Decision, String> {
    if let Some(kind) = request.header("content-type") {
        let media = kind.split(';').next().unwrap_or_default().trim();
        if !media.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
            return Err("the decision must be sent by the page's form".into());
        }
    }
    let text = std::str::from_utf8(&request.body).map_err(|_| "the form is not UTF-8 text".to_string())?;
    let pairs = link::decode_form(text)?;
    let values = |name: &str| {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let approve = match values("decision").as_slice() {
        ["approve"] => true,
        ["reject"] => false,
        [] => return Err("the form has no decision".into()),
        _ => return Err("the decision must be approve or reject, once".into()),
    };
    let comment = match values("comment").as_slice() {
        [] => String::new(),
        [comment] => comment.to_string(),
        _ => return Err("the form gives the comment twice".into()),
    };
    let count = comment.chars().count();
    if count > MAX_COMMENT_CHARS {
        return Err(format!(
            "the comment has {count} characters; at most {MAX_COMMENT_CHARS}"
        ));
    }
    Ok(Decision { approve, comment })
}

/// An approval as the page reads it (never with its token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `expires_at`.
    pub expires_at: i64,
    /// `status`: pending, approved or rejected.
    pub status: String,
    /// `created_at`.
    pub created_at: String,
    /// `execution` (ARN).
    pub execution: String,
    /// `state`.
    pub state: String,
    /// `input`.
    pub input: String,
    /// `input_cut`.
    pub input_cut: bool,
    /// `decided_at`, once decided.
    pub decided_at: Option<String>,
}

fn s(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

impl Item {
    /// Reads an item; `None` when it lacks what every approval has.
    pub fn from_attributes(item: &HashMap<String, AttributeValue>) -> Option<Item> {
        Some(Item {
            expires_at: item.get("expires_at")?.as_n().ok()?.parse().ok()?,
            status: s(item, "status")?,
            created_at: s(item, "created_at").unwrap_or_default(),
            execution: s(item, "execution").unwrap_or_default(),
            state: s(item, "state").unwrap_or_default(),
            input: s(item, "input").unwrap_or_default(),
            input_cut: item
                .get("input_cut")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
            decided_at: s(item, "decided_at"),
        })
    }
}

/// What an item allows: `Ok` when it waits for a decision, else the page saying why not.
pub fn judge(item: Option<Item>, link: &Link, now: i64) -> Result<Item, Answered> {
    let Some(item) = item else {
        // TTL deleted it (expired), or the id never was in the table.
        return Err(answered(410, Page::Expired));
    };
    if item.expires_at != link.expires_at {
        // The MAC held for this id and expiry, but the item has another: not a link the module made for it.
        return Err(answered(403, Page::Invalid));
    }
    if item.status != PENDING {
        return Err(answered(
            409,
            Page::AlreadyDecided {
                decision: item.status.clone(),
                decided_at: item.decided_at.clone().unwrap_or_default(),
            },
        ));
    }
    if item.expires_at <= now {
        return Err(answered(410, Page::Expired));
    }
    Ok(item)
}

/// The confirmation page for a pending item.
pub fn confirmation(item: &Item, link: &Link) -> Page {
    Page::Confirm(Box::new(Pending {
        state: item.state.clone(),
        execution: crate::notify::execution_name(&item.execution).to_string(),
        requested: item.created_at.clone(),
        expires: link::rfc3339(link.expires_at),
        input: item.input.clone(),
        input_cut: item.input_cut,
    }))
}

/// What the task is answered with: SendTaskSuccess's output, or SendTaskFailure's cause.
pub fn decision_json(id: &str, decision: &Decision, decided_at: &str, by: &DecidedBy) -> String {
    json!({
        "approved": decision.approve,
        "approval_id": id,
        "comment": decision.comment,
        "decided_at": decided_at,
        "decided_by": {"source_ip": by.source_ip, "user_agent": by.user_agent},
    })
    .to_string()
}

/// The answer for the task.
pub fn task_answer(id: &str, decision: &Decision, decided_at: &str, by: &DecidedBy) -> Answer {
    let text = decision_json(id, decision, decided_at, by);
    if decision.approve {
        Answer::Success { output: text }
    } else {
        Answer::Failure {
            error: Some(REJECTED_ERROR.into()),
            cause: Some(text),
        }
    }
}

/// The page function: its clients and settings.
pub struct ApprovalPage {
    /// DynamoDB.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// KMS.
    pub kms: aws_sdk_kms::Client,
    /// Step Functions.
    pub sfn: aws_sdk_sfn::Client,
    /// Settings.
    pub settings: Settings,
}

/// A fault on AWS's side: the page says to try again.
fn fault(reason: &str) -> Answered {
    answered(503, Page::Error(reason.into()))
}

impl ApprovalPage {
    /// Answers one request with a page and logs it. `Err` only for an event that is no function URL request at
    /// all.
    pub async fn handle(&self, event: &str, request_id: &str) -> Result<Value, Invalid> {
        let (response, level, line) = self.page(event, request_id, link::unix_now()).await?;
        log::emit(level, "answered an approval page request", line);
        Ok(response.to_value())
    }

    /// The response to a request, its log level and its log line.
    async fn page(
        &self,
        event: &str,
        request_id: &str,
        now: i64,
    ) -> Result<(http::Response, &'static str, Value), Invalid> {
        let (answer, fields) = match http::parse(event, MAX_FORM_BYTES) {
            Err(NotRequest::Shape(reason)) => {
                return Err(Invalid(format!(
                    "{reason}: this function answers browsers through its function URL"
                )));
            }
            Err(NotRequest::TooLarge { .. }) => (
                answered(413, Page::Malformed("the form is too large".into())),
                json!({}),
            ),
            Err(NotRequest::BadBase64) => (
                answered(400, Page::Malformed("the form is not readable".into())),
                json!({}),
            ),
            Ok(request) => self.respond(&request, now).await,
        };
        let line = log::with(
            json!({"event": "approval", "request_id": request_id}),
            log::with(
                fields,
                json!({"outcome": answer.page.outcome(), "http_status": answer.status}),
            ),
        );
        let level = match answer.status {
            200 => "INFO",
            s if s >= 500 => "ERROR",
            _ => "WARN",
        };
        Ok((answer.page.response(answer.status), level, line))
    }

    /// The page for a request, and the log line's fields (`id`, `decision`, `detail`: never the token or MAC).
    async fn respond(&self, request: &http::Request, now: i64) -> (Answered, Value) {
        let asked = match ask(request, now) {
            Ok(asked) => asked,
            Err(answer) => return (answer, json!({"method": request.method})),
        };
        let mut fields = json!({"method": request.method, "id": asked.link.id});
        if let Some(d) = &asked.decision {
            fields = log::with(fields, json!({"decision": d.status()}));
        }
        let (answer, detail) = self.decide(request, &asked, now).await;
        if let Some(detail) = detail {
            fields = log::with(fields, json!({"detail": detail}));
        }
        (answer, fields)
    }

    async fn decide(&self, request: &http::Request, asked: &Asked, now: i64) -> (Answered, Option<String>) {
        match self.verify(&asked.link).await {
            Ok(true) => {}
            Ok(false) => return (answered(403, Page::Invalid), None),
            Err(detail) => return (fault("the link could not be checked"), Some(detail)),
        }
        let item = match self.read(&asked.link.id).await {
            Ok(item) => item,
            Err(detail) => return (fault("the approval could not be read"), Some(detail)),
        };
        let item = match judge(item, &asked.link, now) {
            Ok(item) => item,
            Err(answer) => return (answer, None),
        };
        let Some(decision) = &asked.decision else {
            return (answered(200, confirmation(&item, &asked.link)), None);
        };
        self.record(request, asked, &item, decision, now).await
    }

    /// VerifyMac: `Ok(false)` when the MAC does not match (KMSInvalidMacException).
    async fn verify(&self, link: &Link) -> Result<bool, String> {
        let out = self
            .kms
            .verify_mac()
            .key_id(&self.settings.key_id)
            .mac_algorithm(MacAlgorithmSpec::HmacSha256)
            .message(Blob::new(link::mac_message(&link.id, link.expires_at).into_bytes()))
            .mac(Blob::new(link.mac.clone()))
            .send()
            .await;
        match out {
            Ok(out) => Ok(out.mac_valid()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_kms_invalid_mac_exception()) => Ok(false),
            Err(e) => Err(described("kms:VerifyMac", e)),
        }
    }

    /// GetItem (consistent), every attribute but the token.
    async fn read(&self, id: &str) -> Result<Option<Item>, String> {
        let mut get = self
            .dynamodb
            .get_item()
            .table_name(&self.settings.table)
            .key("id", AttributeValue::S(id.into()))
            .consistent_read(true)
            .projection_expression(PROJECTION);
        for name in PROJECTION.split(", ") {
            get = get.expression_attribute_names(name, &name[1..]);
        }
        let out = get.send().await.map_err(|e| described("dynamodb:GetItem", e))?;
        Ok(out.item().and_then(Item::from_attributes))
    }

    /// The conditional write that decides, then the task's answer.
    async fn record(
        &self,
        request: &http::Request,
        asked: &Asked,
        item: &Item,
        decision: &Decision,
        now: i64,
    ) -> (Answered, Option<String>) {
        let id = &asked.link.id;
        let decided_at = link::rfc3339(now);
        let by = DecidedBy::of(request);
        let token = match self.take_token(id, decision, &decided_at, &by, now).await {
            Ok(Some(token)) => token,
            Ok(None) => {
                // Someone decided first, or the time ran out: say which.
                let again = self.read(id).await.ok().flatten();
                return match judge(again, &asked.link, now) {
                    Err(answer) => (answer, None),
                    Ok(_) => (fault("the approval changed while deciding"), None),
                };
            }
            Err(detail) => return (fault("the decision could not be recorded"), Some(detail)),
        };
        let answer = task_answer(id, decision, &decided_at, &by);
        match answer::send(&self.sfn, &token, &answer).await {
            Ok(()) => (
                answered(
                    200,
                    Page::Decided {
                        approved: decision.approve,
                        state: item.state.clone(),
                    },
                ),
                None,
            ),
            Err(Refusal::TokenSpent { code, .. }) => {
                (answered(410, Page::Expired), Some(format!("{code}: the task is over")))
            }
            Err(Refusal::Failed(failed)) => {
                let undone = self.put_back(id, decision, &decided_at, &token).await;
                let status = if failed.fault == Fault::Transient { 503 } else { 502 };
                let detail = format!("{} (token put back: {})", failed.message, undone.is_ok());
                (
                    answered(status, Page::Error("the step could not be answered".into())),
                    Some(log::scrub(&detail, &token)),
                )
            }
        }
    }

    /// UpdateItem: pending → decided, REMOVE the token, return it. `Ok(None)` when the condition failed.
    async fn take_token(
        &self,
        id: &str,
        decision: &Decision,
        decided_at: &str,
        by: &DecidedBy,
        now: i64,
    ) -> Result<Option<String>, String> {
        let mut set = "SET #status = :decision, #decided_at = :at, #decided_by = :by".to_string();
        let mut update = self
            .dynamodb
            .update_item()
            .table_name(&self.settings.table)
            .key("id", AttributeValue::S(id.into()))
            .condition_expression("#status = :pending AND #expires_at > :now")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#expires_at", "expires_at")
            .expression_attribute_names("#decided_at", "decided_at")
            .expression_attribute_names("#decided_by", "decided_by")
            .expression_attribute_names("#token", "token")
            .expression_attribute_values(":decision", AttributeValue::S(decision.status().into()))
            .expression_attribute_values(":at", AttributeValue::S(decided_at.into()))
            .expression_attribute_values(
                ":by",
                AttributeValue::M(HashMap::from([
                    ("source_ip".to_string(), AttributeValue::S(by.source_ip.clone())),
                    ("user_agent".to_string(), AttributeValue::S(by.user_agent.clone())),
                ])),
            )
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.into()))
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .return_values(ReturnValue::AllOld);
        if !decision.comment.is_empty() {
            set.push_str(", #comment = :comment");
            update = update
                .expression_attribute_names("#comment", "comment")
                .expression_attribute_values(":comment", AttributeValue::S(decision.comment.clone()));
        }
        let out = update.update_expression(format!("{set} REMOVE #token")).send().await;
        match out {
            Ok(out) => Ok(out.attributes().and_then(|a| s(a, "token"))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(described("dynamodb:UpdateItem", e)),
        }
    }

    /// Undoes a decision whose answer failed: the token back, pending again, so the link can be used again.
    async fn put_back(&self, id: &str, decision: &Decision, decided_at: &str, token: &str) -> Result<(), String> {
        self.dynamodb
            .update_item()
            .table_name(&self.settings.table)
            .key("id", AttributeValue::S(id.into()))
            .update_expression("SET #status = :pending, #token = :token REMOVE #decided_at, #decided_by, #comment")
            .condition_expression("#status = :decision AND #decided_at = :at AND attribute_not_exists(#token)")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#token", "token")
            .expression_attribute_names("#decided_at", "decided_at")
            .expression_attribute_names("#decided_by", "decided_by")
            .expression_attribute_names("#comment", "comment")
            .expression_attribute_values(":pending", AttributeValue::S(PENDING.into()))
            .expression_attribute_values(":token", AttributeValue::S(token.into()))
            .expression_attribute_values(":decision", AttributeValue::S(decision.status().into()))
            .expression_attribute_values(":at", AttributeValue::S(decided_at.into()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| described("dynamodb:UpdateItem", e))
    }
}

/// An SDK error as `step: code: message` (no request values are in AWS's messages for these calls).
fn described<E, R>(step: &str, e: aws_sdk_dynamodb::error::SdkError<E, R>) -> String
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let (code, message) = answer::describe(e);
    format!("{step}: {}: {message}", code.unwrap_or_else(|| "network".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html;
    use crate::http::tests::event;

    const NOW: i64 = 1_796_299_200;
    const ID: &str = "AAECAwQFBgcICQoLDA0ODw";

    fn query(exp: i64) -> String {
        format!("id={ID}&exp={exp}&mac={}", link::encode(&[7; 32]))
    }

    fn request(method: &str, path: &str, query: &str, body: Option<&str>, base64: bool) -> http::Request {
        let headers = json!({"content-type": "application/x-www-form-urlencoded"});
        http::parse(&event(method, path, query, headers, body, base64), MAX_FORM_BYTES).unwrap()
    }

    fn item(status: &str) -> Item {
        Item {
            expires_at: NOW + 60,
            status: status.into(),
            created_at: "2026-12-03T11:00:00Z".into(),
            execution: "arn:aws:states:us-east-1:123456789012:execution:d-main:order-42".into(),
            state: "ApproveRefund".into(),
            input: r#"{"order": "<b>42</b>"}"#.into(),
            input_cut: false,
            decided_at: None,
        }
    }

    fn link() -> Link {
        link::parse_link(&query(NOW + 60)).unwrap()
    }

    #[test]
    fn get_reads_the_link_and_asks_nothing_more() {
        let asked = ask(&request("GET", "/", &query(NOW + 60), None, false), NOW).unwrap();
        assert_eq!(asked.link.id, ID);
        assert_eq!(asked.decision, None);
    }

    #[test]
    fn paths_methods_and_malformed_links() {
        let status = |r: http::Request| ask(&r, NOW).unwrap_err().status;
        assert_eq!(status(request("GET", "/x", &query(NOW + 60), None, false)), 404);
        assert_eq!(status(request("PUT", "/", &query(NOW + 60), None, false)), 405);
        assert_eq!(status(request("GET", "/", "id=x", None, false)), 400);
        assert_eq!(status(request("GET", "/", "", None, false)), 400);
        let malformed = ask(&request("GET", "/", "id=x", None, false), NOW).unwrap_err();
        assert_eq!(malformed.page.outcome(), "malformed");
    }

    #[test]
    fn an_expired_link_is_410_before_any_check() {
        for exp in [NOW, NOW - 1] {
            let answered = ask(&request("GET", "/", &query(exp), None, false), NOW).unwrap_err();
            assert_eq!((answered.status, answered.page.outcome()), (410, "expired"));
        }
    }

    #[test]
    fn forms_decode_plain_and_base64() {
        let plain = request(
            "POST",
            "/",
            &query(NOW + 60),
            Some("decision=approve&comment=ok+%C3%A9"),
            false,
        );
        assert_eq!(
            ask(&plain, NOW).unwrap().decision,
            Some(Decision {
                approve: true,
                comment: "ok é".into()
            })
        );
        // Function URLs may hand a form body over base64-encoded.
        let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "comment=no&decision=reject");
        let r = request("POST", "/", &query(NOW + 60), Some(&encoded), true);
        assert_eq!(
            decision(&r),
            Ok(Decision {
                approve: false,
                comment: "no".into()
            })
        );
    }

    #[test]
    fn a_bad_form_is_400() {
        for body in [
            "",
            "decision=maybe",
            "decision=approve&decision=reject",
            "decision=approve&comment=a&comment=b",
            "decision=approve&comment=%ff",
        ] {
            let r = request("POST", "/", &query(NOW + 60), Some(body), false);
            assert_eq!(ask(&r, NOW).unwrap_err().status, 400, "{body}");
        }
        let at = format!("decision=reject&comment={}", "é".repeat(MAX_COMMENT_CHARS));
        assert!(decision(&request("POST", "/", "", Some(&at), false)).is_ok());
        let past = format!("decision=reject&comment={}", "a".repeat(MAX_COMMENT_CHARS + 1));
        assert!(
            decision(&request("POST", "/", "", Some(&past), false))
                .unwrap_err()
                .contains("1001 characters")
        );
        let mut json_body = request("POST", "/", "", Some(r#"{"decision": "approve"}"#), false);
        json_body
            .headers
            .insert("content-type".into(), "application/json".into());
        assert!(decision(&json_body).is_err());
        // Too large to read at all: refused before decoding.
        let huge = "a".repeat(MAX_FORM_BYTES + 1);
        assert!(matches!(
            http::parse(&event("POST", "/", "", json!({}), Some(&huge), false), MAX_FORM_BYTES),
            Err(NotRequest::TooLarge { .. })
        ));
    }

    #[test]
    fn items_decide_the_page() {
        let l = link();
        assert_eq!(judge(Some(item("pending")), &l, NOW), Ok(item("pending")));
        assert_eq!(judge(None, &l, NOW).unwrap_err().status, 410);
        let mut decided = item("approved");
        decided.decided_at = Some("2026-12-03T11:30:00Z".into());
        let answered = judge(Some(decided), &l, NOW).unwrap_err();
        assert_eq!((answered.status, answered.page.outcome()), (409, "decided"));
        assert!(
            answered
                .page
                .html()
                .contains("<strong>approved</strong> at 2026-12-03 11:30:00 UTC")
        );
        let mut other_expiry = item("pending");
        other_expiry.expires_at += 1;
        assert_eq!(judge(Some(other_expiry), &l, NOW).unwrap_err().status, 403);
        let mut past = item("pending");
        past.expires_at = NOW;
        let past_link = link::parse_link(&query(NOW)).unwrap();
        assert_eq!(judge(Some(past), &past_link, NOW).unwrap_err().status, 410);
    }

    #[test]
    fn items_are_read_without_their_token() {
        assert!(!PROJECTION.contains("token"));
        let attributes = HashMap::from([
            ("id".to_string(), AttributeValue::S(ID.into())),
            ("expires_at".to_string(), AttributeValue::N((NOW + 60).to_string())),
            ("status".to_string(), AttributeValue::S("pending".into())),
            (
                "created_at".to_string(),
                AttributeValue::S("2026-12-03T11:00:00Z".into()),
            ),
            ("execution".to_string(), AttributeValue::S(item("pending").execution)),
            ("state".to_string(), AttributeValue::S("ApproveRefund".into())),
            ("input".to_string(), AttributeValue::S(item("pending").input)),
        ]);
        assert_eq!(Item::from_attributes(&attributes), Some(item("pending")));
        let mut broken = attributes.clone();
        broken.insert("expires_at".into(), AttributeValue::S("soon".into()));
        assert_eq!(Item::from_attributes(&broken), None);
    }

    #[test]
    fn the_confirmation_page_shows_the_item_escaped() {
        let html = confirmation(&item("pending"), &link()).html();
        assert!(html.contains("<dd id=\"execution\">order-42</dd>"), "{html}");
        assert!(html.contains("&lt;b&gt;42&lt;/b&gt;"), "{html}");
        assert!(!html.contains("<b>42"), "{html}");
        // Neither the MAC nor the link is on the page.
        let mac = link::encode(&[7; 32]);
        assert!(!html.contains(&mac) && !html.contains("mac="), "{html}");
    }

    #[test]
    fn the_task_gets_the_decision_and_who_made_it() {
        let by = DecidedBy {
            source_ip: "203.0.113.9".into(),
            user_agent: "Mozilla/5.0".into(),
        };
        let approve = Decision {
            approve: true,
            comment: "fine".into(),
        };
        let Answer::Success { output } = task_answer(ID, &approve, "2026-12-03T12:00:00Z", &by) else {
            panic!("approve is a success");
        };
        assert_eq!(
            serde_json::from_str::<Value>(&output).unwrap(),
            json!({"approved": true, "approval_id": ID, "comment": "fine", "decided_at": "2026-12-03T12:00:00Z",
                   "decided_by": {"source_ip": "203.0.113.9", "user_agent": "Mozilla/5.0"}})
        );
        let reject = Decision {
            approve: false,
            comment: String::new(),
        };
        let Answer::Failure { error, cause } = task_answer(ID, &reject, "t", &by) else {
            panic!("reject is a failure");
        };
        assert_eq!(error.as_deref(), Some("sfngen.ApprovalRejected"));
        assert_eq!(
            serde_json::from_str::<Value>(&cause.unwrap()).unwrap()["approved"],
            json!(false)
        );
        // The longest comment and user agent fit a cause.
        let long = Decision {
            approve: false,
            comment: "\u{1}".repeat(MAX_COMMENT_CHARS),
        };
        let by = DecidedBy {
            source_ip: "x".repeat(MAX_SOURCE_IP_CHARS),
            user_agent: "\u{1}".repeat(MAX_USER_AGENT_CHARS),
        };
        assert!(decision_json(ID, &long, "t", &by).chars().count() <= request::MAX_CAUSE_CHARS);
    }

    #[test]
    fn who_decided_is_bounded() {
        let mut r = request("POST", "/", "", None, false);
        r.user_agent = Some("u".repeat(5000));
        r.source_ip = None;
        let by = DecidedBy::of(&r);
        assert_eq!(by.user_agent.len(), MAX_USER_AGENT_CHARS);
        assert_eq!(by.source_ip, "unknown");
    }

    #[test]
    fn pages_have_the_security_headers() {
        let response = Page::Expired.response(410);
        for (name, value) in html::HEADERS {
            assert!(response.headers.contains(&(name.to_string(), value.to_string())));
        }
    }

    fn offline() -> ApprovalPage {
        use aws_config::{BehaviorVersion, Region};
        let region = Region::new("us-east-1");
        ApprovalPage {
            dynamodb: aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(region.clone())
                    .build(),
            ),
            kms: aws_sdk_kms::Client::from_conf(
                aws_sdk_kms::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(region.clone())
                    .build(),
            ),
            sfn: aws_sdk_sfn::Client::from_conf(
                aws_sdk_sfn::Config::builder()
                    .behavior_version(BehaviorVersion::latest())
                    .region(region)
                    .build(),
            ),
            settings: Settings {
                table: "d-approvals".into(),
                key_id: "arn:aws:kms:us-east-1:123456789012:key/k".into(),
            },
        }
    }

    #[tokio::test]
    async fn refused_requests_are_answered_and_logged_without_the_mac() {
        let page = offline();
        let mac = link::encode(&[7; 32]);
        for (method, query, status, outcome) in [
            ("GET", query(NOW), 410, "expired"),
            ("POST", query(NOW - 100), 410, "expired"),
            ("GET", format!("id={ID}&mac={mac}"), 400, "malformed"),
            ("DELETE", query(NOW + 60), 405, "malformed"),
        ] {
            let e = event(method, "/", &query, json!({}), Some("decision=approve"), false);
            let (response, level, line) = page.page(&e, "r", NOW).await.unwrap();
            assert_eq!(response.status, status, "{method} {query}");
            assert_eq!(level, "WARN");
            assert_eq!(line["event"], "approval");
            assert_eq!(line["outcome"], outcome);
            assert_eq!(line["http_status"], status);
            let text = format!("{line} {}", response.body);
            assert!(!text.contains(&mac), "{text}");
            assert!(response.body.contains(&format!("data-outcome=\"{outcome}\"")));
        }
        assert!(page.page(r#"{"Records": []}"#, "r", NOW).await.is_err());
    }
}
