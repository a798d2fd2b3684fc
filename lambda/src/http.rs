//! Lambda function URL requests and responses: the event Lambda hands a function behind a function URL
//! (payload format 2.0, as API Gateway HTTP APIs have it:
//! <https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads>), and the response object
//! it turns into an HTTP response (`statusCode`, `headers`, `body`).
//!
//! The event itself comes from Lambda, not from the caller; only its `body`, headers and query string are the
//! caller's, and they are read as bytes and text without trusting them.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};

/// A request that reached the function through its function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `requestContext.http.method`, upper case.
    pub method: String,
    /// `rawPath`.
    pub path: String,
    /// `rawQueryString`, without the `?`.
    pub query: String,
    /// `headers`, names lower case (Lambda sends them so; several values of one header come comma-joined).
    pub headers: BTreeMap<String, String>,
    /// The body's bytes (decoded when `isBase64Encoded`).
    pub body: Vec<u8>,
    /// `requestContext.http.sourceIp`.
    pub source_ip: Option<String>,
    /// `requestContext.http.userAgent`.
    pub user_agent: Option<String>,
    /// `requestContext.authorizer.iam`, present only under `AWS_IAM` auth: who signed the request.
    pub iam: Option<IamCaller>,
}

/// The signer of an `AWS_IAM` function URL request, as Lambda reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamCaller {
    /// `userArn`.
    pub user_arn: Option<String>,
    /// `accountId`.
    pub account_id: Option<String>,
}

/// Why an event is not a function URL request, or its body cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRequest {
    /// Not a payload 2.0 event at all (someone invoked the function directly).
    Shape(String),
    /// A base64 body longer than `max_body_bytes` once decoded would be: refused before decoding.
    TooLarge {
        /// The body's length (decoded, or as bounded before decoding).
        bytes: usize,
    },
    /// `isBase64Encoded` with a body that is not base64.
    BadBase64,
}

fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).map(str::to_string)
}

/// Reads a function URL event (payload format 2.0). A body whose length is over `max_body_bytes` is refused
/// before it is decoded (the size of base64 text bounds the size of what it decodes to).
pub fn parse(event: &str, max_body_bytes: usize) -> Result<Request, NotRequest> {
    let value: Value =
        serde_json::from_str(event).map_err(|_| NotRequest::Shape("the event is not a JSON object".into()))?;
    let Some(fields) = value.as_object() else {
        return Err(NotRequest::Shape("the event is not a JSON object".into()));
    };
    if fields.get("version").and_then(Value::as_str) != Some("2.0") {
        return Err(NotRequest::Shape(
            "the event is not a function URL request (payload format version \"2.0\")".into(),
        ));
    }
    let context = fields.get("requestContext").and_then(Value::as_object);
    let http = context.and_then(|c| c.get("http")).and_then(Value::as_object);
    let Some(http) = http else {
        return Err(NotRequest::Shape("the event has no requestContext.http".into()));
    };
    let Some(method) = text(http.get("method")) else {
        return Err(NotRequest::Shape("the event has no requestContext.http.method".into()));
    };
    let path = text(fields.get("rawPath"))
        .or_else(|| text(http.get("path")))
        .unwrap_or_else(|| "/".into());
    let headers = fields
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.to_ascii_lowercase(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let iam = context
        .and_then(|c| c.get("authorizer"))
        .and_then(|a| a.get("iam"))
        .and_then(Value::as_object)
        .map(|iam| IamCaller {
            user_arn: text(iam.get("userArn")),
            account_id: text(iam.get("accountId")),
        });
    Ok(Request {
        method: method.to_ascii_uppercase(),
        path,
        query: text(fields.get("rawQueryString")).unwrap_or_default(),
        headers,
        body: body(fields, max_body_bytes)?,
        source_ip: text(http.get("sourceIp")),
        user_agent: text(http.get("userAgent")),
        iam,
    })
}

fn body(fields: &Map<String, Value>, max_body_bytes: usize) -> Result<Vec<u8>, NotRequest> {
    let Some(body) = fields.get("body").and_then(Value::as_str) else {
        return Ok(Vec::new());
    };
    if fields.get("isBase64Encoded").and_then(Value::as_bool) != Some(true) {
        if body.len() > max_body_bytes {
            return Err(NotRequest::TooLarge { bytes: body.len() });
        }
        return Ok(body.as_bytes().to_vec());
    }
    // n base64 characters decode to at most 3n/4 bytes.
    let at_least = (body.len() / 4) * 3;
    if at_least.saturating_sub(2) > max_body_bytes {
        return Err(NotRequest::TooLarge { bytes: at_least });
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| NotRequest::BadBase64)?;
    if decoded.len() > max_body_bytes {
        return Err(NotRequest::TooLarge { bytes: decoded.len() });
    }
    Ok(decoded)
}

impl Request {
    /// A header's value (names are lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A response: Lambda turns it into the HTTP response of the function URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Response {
    /// A JSON response.
    pub fn json(status: u16, body: &Value) -> Response {
        Response {
            status,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("cache-control".into(), "no-store".into()),
                ("x-content-type-options".into(), "nosniff".into()),
            ],
            body: body.to_string(),
        }
    }

    /// A JSON error response: `{"error": "<Type>", "message": "..."}`.
    pub fn error(status: u16, kind: &str, message: &str) -> Response {
        Response::json(status, &json!({"error": kind, "message": message}))
    }

    /// The response with one more header.
    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The object the function returns: `{"statusCode", "headers", "body"}`.
    pub fn to_value(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({"statusCode": self.status, "headers": headers, "body": self.body})
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A payload 2.0 event as Lambda sends it for a function URL.
    pub fn event(method: &str, path: &str, query: &str, headers: Value, body: Option<&str>, base64: bool) -> String {
        let mut event = json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": "abc",
                "domainName": "abc.lambda-url.us-east-1.on.aws",
                "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9",
                         "userAgent": "Mozilla/5.0 test"},
                "requestId": "r",
                "time": "03/Dec/2026:12:00:00 +0000",
                "timeEpoch": 1_796_299_200_000_u64
            },
            "isBase64Encoded": base64
        });
        if let Some(body) = body {
            event["body"] = json!(body);
        }
        event.to_string()
    }

    #[test]
    fn a_function_url_event_is_read() {
        let e = event(
            "post",
            "/",
            "a=1",
            json!({"Content-Type": "text/plain"}),
            Some("hi"),
            false,
        );
        let r = parse(&e, 10).unwrap();
        assert_eq!(
            (r.method.as_str(), r.path.as_str(), r.query.as_str()),
            ("POST", "/", "a=1")
        );
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.body, b"hi");
        assert_eq!(r.source_ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(r.user_agent.as_deref(), Some("Mozilla/5.0 test"));
        assert_eq!(r.iam, None);
        let none = event("GET", "/", "", json!({}), None, false);
        assert_eq!(parse(&none, 10).unwrap().body, b"");
    }

    #[test]
    fn base64_bodies_are_decoded_within_the_size() {
        let e = event("POST", "/", "", json!({}), Some("aGVsbG8="), true);
        assert_eq!(parse(&e, 5).unwrap().body, b"hello");
        assert_eq!(parse(&e, 4), Err(NotRequest::TooLarge { bytes: 5 }));
        let bad = event("POST", "/", "", json!({}), Some("!!!"), true);
        assert_eq!(parse(&bad, 5), Err(NotRequest::BadBase64));
        // Refused before decoding: 4000 characters are at least 2998 bytes.
        let big = "A".repeat(4000);
        let e = event("POST", "/", "", json!({}), Some(&big), true);
        assert!(matches!(parse(&e, 100), Err(NotRequest::TooLarge { .. })));
        let plain = event("POST", "/", "", json!({}), Some("123456"), false);
        assert_eq!(parse(&plain, 5), Err(NotRequest::TooLarge { bytes: 6 }));
    }

    #[test]
    fn what_is_not_a_function_url_event_is_said() {
        for wrong in [r#"{"token": "t"}"#, "[]", "x", r#"{"version": "2.0"}"#] {
            assert!(matches!(parse(wrong, 10), Err(NotRequest::Shape(_))), "{wrong}");
        }
    }

    #[test]
    fn the_iam_caller_is_read() {
        let mut e: Value = serde_json::from_str(&event("POST", "/", "", json!({}), None, false)).unwrap();
        e["requestContext"]["authorizer"] =
            json!({"iam": {"userArn": "arn:aws:iam::123456789012:user/w", "accountId": "123456789012"}});
        let r = parse(&e.to_string(), 10).unwrap();
        assert_eq!(
            r.iam,
            Some(IamCaller {
                user_arn: Some("arn:aws:iam::123456789012:user/w".into()),
                account_id: Some("123456789012".into())
            })
        );
    }

    #[test]
    fn responses_are_function_url_objects() {
        let r = Response::error(404, "NotFound", "no").with_header("allow", "POST");
        assert_eq!(
            r.to_value(),
            json!({"statusCode": 404, "headers": {"content-type": "application/json", "cache-control": "no-store",
                   "x-content-type-options": "nosniff", "allow": "POST"},
                   "body": "{\"error\":\"NotFound\",\"message\":\"no\"}"})
        );
    }
}
