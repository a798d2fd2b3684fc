//! The floor of bench/lambda_bench.py: a Lambda custom runtime that does only what answering a callback
//! needs, over plain HTTP/1.1 with std::net. It takes the next event from the Runtime API, sends the same
//! SendTaskSuccess request the callback sends (`{"taskToken": ..., "output": "{}"}`, JSON 1.0 protocol) to
//! `AWS_ENDPOINT_URL`, and posts the response; then it waits for the next event.
//!
//! Not done, on purpose (the callback does them; their cost is what the benchmark attributes to it):
//! SigV4 signing (the Authorization header has the right shape and an unsigned, all-zero signature;
//! moto does not verify signatures), connection reuse, retries, timeouts, validation, logging.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

fn main() {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API").expect("AWS_LAMBDA_RUNTIME_API");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").expect("AWS_ENDPOINT_URL");
    let endpoint = endpoint
        .strip_prefix("http://")
        .expect("an http:// endpoint")
        .trim_end_matches('/');
    loop {
        let (headers, event) = request(&api, "GET", "/2018-06-01/runtime/invocation/next", &[], "");
        let request_id = header(&headers, "lambda-runtime-aws-request-id");
        let token = json_string(&event, "token");
        let body = format!("{{\"taskToken\":\"{token}\",\"output\":\"{{}}\"}}");
        let (status, reply) = request(
            endpoint,
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-amz-json-1.0"),
                ("X-Amz-Target", "AWSStepFunctions.SendTaskSuccess"),
                ("X-Amz-Date", "20260101T000000Z"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/states/aws4_request, \
                     SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
                     Signature=0000000000000000000000000000000000000000000000000000000000000000",
                ),
            ],
            &body,
        );
        let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
        let answer = if status.starts_with("HTTP/1.1 200") {
            "{\"answered\":\"success\"}".to_string()
        } else {
            format!("{{\"failed\":{:?}}}", reply)
        };
        request(&api, "POST", &path, &[("Content-Type", "application/json")], &answer);
    }
}

/// One HTTP/1.1 request on a fresh connection; returns the status line and headers, and the body.
fn request(host: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (String, String) {
    let mut stream = TcpStream::connect(host).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    head.push_str(body);
    stream.write_all(head.as_bytes()).expect("write");
    let mut reader = BufReader::new(stream);
    let mut response_head = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read");
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().expect("content-length");
        }
        response_head.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).expect("body");
    (response_head, String::from_utf8(body).expect("utf-8"))
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
        .expect("header")
}

/// The raw (still escaped, as JSON would re-send it) value of a top-level string field.
fn json_string<'a>(json: &'a str, field: &str) -> &'a str {
    let key = format!("\"{field}\"");
    let after = &json[json.find(&key).expect("field") + key.len()..];
    let after = &after[after.find('"').expect("a string") + 1..];
    let mut escaped = false;
    for (i, c) in after.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return &after[..i],
            _ => escaped = false,
        }
    }
    panic!("unterminated string")
}
