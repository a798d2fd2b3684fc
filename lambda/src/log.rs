//! Structured logs: one JSON object per line on stdout, which Lambda ships to CloudWatch Logs.
//!
//! A task token is a bearer credential: whoever holds it can complete the task. Logs name a token
//! only by [`token_id`], a short hash.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The first 12 hex digits of the token's SHA-256: enough to correlate, useless to replay.
pub fn token_id(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A token shorter than this is no credential worth hiding (and replacing it everywhere would garble a
/// message): Step Functions' task tokens run to hundreds of characters.
pub const MIN_SCRUBBED_TOKEN_CHARS: usize = 16;
/// A run of this many characters of a token's alphabet (base64's, URL-safe or not) is taken for a token,
/// or part of one, wherever it is: 64 is far above a UUID's 32 letters and digits, and a tenth of a real
/// task token.
pub const TOKEN_SHAPED_CHARS: usize = 64;

/// `text` (a message from Step Functions or the network) without the task token, or anything shaped like one:
/// the token becomes `<token TOKEN_ID>`, any other run of [`TOKEN_SHAPED_CHARS`] or more base64 characters
/// `<redacted>`.
pub fn scrub(text: &str, token: &str) -> String {
    let named;
    let text = if token.chars().count() >= MIN_SCRUBBED_TOKEN_CHARS && text.contains(token) {
        named = text.replace(token, &format!("<token {}>", token_id(token)));
        named.as_str()
    } else {
        text
    };
    let mut scrubbed = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, scrubbed: &mut String| {
        if run.chars().count() >= TOKEN_SHAPED_CHARS {
            scrubbed.push_str("<redacted>");
        } else {
            scrubbed.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_') {
            run.push(c);
        } else {
            flush(&mut run, &mut scrubbed);
            scrubbed.push(c);
        }
    }
    flush(&mut run, &mut scrubbed);
    scrubbed
}

/// Writes one log line.
pub fn emit(level: &str, message: &str, fields: Value) {
    let mut line = Map::new();
    line.insert("level".into(), json!(level));
    line.insert("message".into(), json!(message));
    if let Value::Object(extra) = fields {
        line.extend(extra);
    }
    println!("{}", Value::Object(line));
}

/// `fields` with the members of `more` added (both JSON objects).
pub fn with(mut fields: Value, more: Value) -> Value {
    if let (Value::Object(fields), Value::Object(more)) = (&mut fields, more) {
        fields.extend(more);
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids_are_short_stable_hashes() {
        assert_eq!(token_id("abc"), "ba7816bf8f01");
        assert_eq!(token_id("abc").len(), 12);
        assert_ne!(token_id("abc"), token_id("abd"));
    }

    #[test]
    fn messages_are_scrubbed_of_the_token_and_anything_token_shaped() {
        let token = "AAAAKgAAAAIAAAAAAAAAAV3/example+token==";
        let said = format!("Invalid Token: '{token}' (request 4f0c8d2e-0000-4000-8000-000000000000)");
        let scrubbed = scrub(&said, token);
        assert_eq!(
            scrubbed,
            format!(
                "Invalid Token: '<token {}>' (request 4f0c8d2e-0000-4000-8000-000000000000)",
                token_id(token)
            )
        );
        // Another token, or a piece of one, of 64 characters or more: redacted; 63: kept.
        let other = "Q".repeat(TOKEN_SHAPED_CHARS);
        assert_eq!(scrub(&format!("a {other}: b"), token), "a <redacted>: b");
        let short = "Q".repeat(TOKEN_SHAPED_CHARS - 1);
        assert_eq!(scrub(&format!("a {short}"), token), format!("a {short}"));
        assert_eq!(scrub(&format!("x{other}"), "t"), "<redacted>");
        // A short "token" (a worker's mistake) is no secret, and a message keeps its words.
        assert_eq!(scrub("Invalid token: t", "t"), "Invalid token: t");
        assert_eq!(scrub("", token), "");
        assert_eq!(scrub("é ü", token), "é ü");
    }
}
