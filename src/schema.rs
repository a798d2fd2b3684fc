//! A JSON Schema of `sfngen.toml`, for editors (taplo, Even Better TOML) and CI linters, generated from
//! the key registry ([`crate::spec::keys`]): every key's type, default, range or allowed values and doc.
//!
//! It states what a schema can: keys, types, patterns, enumerations and ranges. Rules across keys
//! (heartbeat below timeout, every queue used) and duration ranges are `sfngen check`'s.

use serde_json::{Map, Value, json};

use crate::spec::keys::{
    self, ALL_ERRORS, Entries, FORBIDDEN_STATE_NAME_CHARS, KMS_ALIAS_PATTERN, KMS_KEY_ARN_PATTERN, Key,
    LOG_RETENTION_DAYS, MAX_DETAIL_TYPE_CHARS, MAX_ERROR_NAME_CHARS, MAX_EVENT_SOURCE_CHARS, MAX_KMS_ALIAS_CHARS,
    MAX_STATE_NAME_CHARS, Range, Rule, Shape, Table, TextRule, Written, resource_name_pattern,
};

const DURATION_PATTERN: &str = "^[0-9]+[smhd]$";

/// The schema, pretty-printed.
pub fn json_schema() -> String {
    let mut text = serde_json::to_string_pretty(&schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// The schema as a JSON value.
pub fn schema() -> Value {
    let mut root = Map::new();
    root.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
    root.insert("title".into(), json!("sfngen.toml"));
    root.insert(
        "description".into(),
        json!("An AWS Step Functions callback pattern, rendered by `sfngen render` into a Terraform module."),
    );
    if let Value::Object(table) = table_of("") {
        root.extend(table);
    }
    root.insert("definitions".into(), json!({ STATIC_VALUE: static_value() }));
    Value::Object(root)
}

/// A table of the keys [`keys`] lists under `path`.
fn table_of(path: &str) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for key in keys::children(path) {
        properties.insert(key.name().into(), key_schema(key));
        if key.required() {
            required.push(key.name());
        }
    }
    let mut table = Map::new();
    table.insert("type".into(), json!("object"));
    table.insert("additionalProperties".into(), json!(false));
    if !required.is_empty() {
        table.insert("required".into(), json!(required));
    }
    table.insert("properties".into(), Value::Object(properties));
    Value::Object(table)
}

fn key_schema(key: &Key) -> Value {
    let mut schema = match key.rule {
        Rule::Table(table) => table_schema(key.path, table),
        Rule::Text(text) => {
            let mut schema = text_schema(text.allows);
            if let Some(default) = text.default {
                schema["default"] = json!(default);
            }
            schema
        }
        Rule::Duration(range) => {
            let mut schema = json!({ "type": "string", "pattern": DURATION_PATTERN });
            if let Some(default) = range.default {
                schema["default"] = json!(default.written());
            }
            schema
        }
        Rule::Integer(range) => range_schema("integer", &range),
        Rule::Number(range) => range_schema("number", &range),
        Rule::Flag(default) => json!({ "type": "boolean", "default": default }),
        Rule::Choice(choice) => {
            let values: Vec<&str> = choice.values.iter().map(|(v, _)| *v).collect();
            json!({ "type": "string", "enum": values, "default": choice.default })
        }
        Rule::Retention(retention) => {
            json!({ "type": "integer", "enum": LOG_RETENTION_DAYS, "default": retention.default })
        }
        Rule::ErrorNames => json!({
            "type": "array",
            "minItems": 1,
            "items": { "type": "string", "minLength": 1, "maxLength": MAX_ERROR_NAME_CHARS },
            "default": [ALL_ERRORS],
        }),
    };
    schema["description"] = json!(description(key));
    schema
}

/// The key's doc, and what a schema cannot say about its value.
fn description(key: &Key) -> String {
    match key.rule {
        Rule::Text(text) if text.allows != TextRule::Any => format!("{} Allowed: {}.", key.doc, text.allows.allowed()),
        Rule::Duration(range) => format!(
            "{} A duration from {} to {}: an integer followed by s, m, h or d, such as \"90s\", \"5m\", \"1h\", \"7d\".",
            key.doc,
            range.min.written(),
            range.max.written()
        ),
        _ => key.doc.to_string(),
    }
}

/// An integer or a number from `min` to `max`.
fn range_schema<T: serde::Serialize>(kind: &str, range: &Range<T>) -> Value {
    let mut schema = json!({ "type": kind, "minimum": range.min, "maximum": range.max });
    if let Some(default) = &range.default {
        schema["default"] = json!(default);
    }
    schema
}

/// The table (array of tables, map) at `path`.
fn table_schema(path: &str, table: Table) -> Value {
    match table.shape {
        Shape::Table => table_of(path),
        Shape::TableOrFalse => json!({ "anyOf": [{ "type": "boolean" }, table_of(path)] }),
        Shape::Tables {
            min_items,
            exactly_one_of,
        } => {
            let mut items = table_of(&format!("{path}[]"));
            if !exactly_one_of.is_empty() {
                let one_of: Vec<Value> = exactly_one_of.iter().map(|k| json!({ "required": [k] })).collect();
                items["oneOf"] = json!(one_of);
            }
            let mut tables = json!({ "type": "array", "items": items });
            if min_items > 0 {
                tables["minItems"] = json!(min_items);
            }
            tables
        }
        Shape::Map(Entries::Tags) => json!({
            "type": "object",
            "propertyNames": { "minLength": 1, "maxLength": 128, "not": { "pattern": "^[aA][wW][sS]:" } },
            "additionalProperties": { "type": "string", "maxLength": 256 },
            "default": {},
        }),
        Shape::Map(Entries::Json) => json!({
            "type": "object",
            "propertyNames": { "not": { "anyOf": [{ "enum": crate::model::MESSAGE_OWN_FIELDS }, { "pattern": PATH_KEY_PATTERN }] } },
            "additionalProperties": { "$ref": format!("#/definitions/{STATIC_VALUE}") },
        }),
        Shape::Map(Entries::Tables { min_entries }) => {
            let entry = keys::children(path)
                .find(|k| k.name() == "*")
                .map(key_schema)
                .unwrap_or_else(|| table_of(&format!("{path}.*")));
            json!({
                "type": "object",
                "minProperties": min_entries,
                "propertyNames": { "pattern": resource_name_pattern() },
                "additionalProperties": entry,
            })
        }
    }
}

fn text_schema(rule: TextRule) -> Value {
    match rule {
        TextRule::ResourceName | TextRule::QueueKey | TextRule::TopicKey | TextRule::BusKey => {
            json!({ "type": "string", "pattern": resource_name_pattern() })
        }
        TextRule::StateName => json!({ "type": "string", "pattern": state_name_pattern() }),
        TextRule::JsonPath | TextRule::ReferencePath => json!({ "type": "string", "pattern": "^\\$" }),
        TextRule::ErrorName => json!({ "type": "string", "minLength": 1, "maxLength": MAX_ERROR_NAME_CHARS }),
        TextRule::Encryption => key_choice("sqs"),
        TextRule::TopicEncryption => key_choice("sns"),
        TextRule::BusName => json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,256}$" }),
        TextRule::DetailType => json!({ "type": "string", "minLength": 1, "maxLength": MAX_DETAIL_TYPE_CHARS }),
        TextRule::EventSource => {
            json!({ "type": "string", "minLength": 1, "maxLength": MAX_EVENT_SOURCE_CHARS, "not": { "pattern": "^aws\\." } })
        }
        TextRule::ExecutionEncryption => key_choice("aws"),
        TextRule::EndpointAuth => {
            json!({ "type": "string", "enum": keys::ENDPOINT_AUTHS.iter().map(|(value, _)| *value).collect::<Vec<_>>() })
        }
        TextRule::SecretArn => json!({ "type": "string", "pattern": keys::SECRET_ARN_PATTERN }),
        TextRule::LaterStep | TextRule::Any => json!({ "type": "string" }),
    }
}

/// The service's own encryption (`own`), `kms` (the module's key), a KMS key ARN or an alias.
fn key_choice(own: &str) -> Value {
    json!({
        "type": "string",
        "anyOf": [
            { "enum": [own, "kms"] },
            { "pattern": KMS_KEY_ARN_PATTERN },
            { "pattern": KMS_ALIAS_PATTERN, "maxLength": MAX_KMS_ALIAS_CHARS },
        ],
    })
}

/// The definition of a static message value.
const STATIC_VALUE: &str = "static_value";

/// A key Step Functions reads as a path: it ends in `.$`.
const PATH_KEY_PATTERN: &str = "\\.\\$$";

/// A static message value: no key ending in `.$` at any depth, in tables and in arrays (the keywords apply
/// to the type they are for: `propertyNames` to a table, `items` to an array).
fn static_value() -> Value {
    let itself = json!({ "$ref": format!("#/definitions/{STATIC_VALUE}") });
    json!({
        "propertyNames": { "not": { "pattern": PATH_KEY_PATTERN } },
        "additionalProperties": itself,
        "items": itself,
    })
}

/// No control character, neither U+FFFE nor U+FFFF, and none of [`FORBIDDEN_STATE_NAME_CHARS`] (resolve also
/// refuses U+10FFFF, which a pattern names only as a surrogate pair).
fn state_name_pattern() -> String {
    let mut forbidden = String::new();
    for c in FORBIDDEN_STATE_NAME_CHARS.chars() {
        if matches!(c, '[' | ']' | '\\' | '^' | '-') {
            forbidden.push('\\');
        }
        forbidden.push(c);
    }
    format!("^[^{forbidden}\\u0000-\\u001f\\u007f-\\u009f\\ufffe\\uffff]{{1,{MAX_STATE_NAME_CHARS}}}$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_built_from_the_limits() {
        assert_eq!(
            state_name_pattern(),
            "^[^<>{}\\[\\]?*\"#%\\\\\\^|~`$&,;:/\\u0000-\\u001f\\u007f-\\u009f\\ufffe\\uffff]{1,80}$"
        );
    }

    #[test]
    fn every_key_is_in_the_schema_where_its_path_says() {
        let schema = schema();
        for key in keys::KEYS {
            let mut node = &schema;
            for segment in key.path.split('.') {
                let (name, array) = match segment.strip_suffix("[]") {
                    Some(name) => (name, true),
                    None => (segment, false),
                };
                node = if name == "*" {
                    &node["additionalProperties"]
                } else {
                    let table = node.get("anyOf").and_then(|a| a.get(1)).unwrap_or(node);
                    &table["properties"][name]
                };
                if array {
                    node = &node["items"];
                }
            }
            let description = node["description"].as_str().unwrap_or_default();
            assert!(description.starts_with(key.doc), "{}: {node}", key.path);
        }
    }
}
