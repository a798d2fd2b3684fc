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
}
