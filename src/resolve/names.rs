//! Names the user chooses: `name` and queue keys (prefixes of AWS names), step names (ASL state
//! names), tags.

use std::collections::BTreeMap;

use super::Checker;
use crate::diagnostic::{Diagnostic, shown};
use crate::spec::keys::{FORBIDDEN_STATE_NAME_CHARS, MAX_NAME_CHARS, MAX_STATE_NAME_CHARS};
use crate::spec::{Located, Spec};

/// AWS tag limits.
const MAX_TAG_KEY_CHARS: usize = 128;
const MAX_TAG_VALUE_CHARS: usize = 256;

impl Checker {
    /// `name` and queue keys: `^[a-z][a-z0-9-]{0,31}$`, no trailing `-`.
    pub(super) fn resource_name(&mut self, path: &str, value: Option<&Located<String>>) -> String {
        let Some(v) = value else {
            self.diags.push(
                Diagnostic::error(path, Some(0..0), format!("missing required key `{path}`"))
                    .with_help(format!("add `{path} = \"my-app\"` at the top of the file")),
            );
            return String::new();
        };
        if let Some(problem) = resource_name_problem(&v.value) {
            self.error(
                path,
                v.span.clone(),
                format!("{} {problem}", shown(&v.value)),
                format!(
                    "use 1-{MAX_NAME_CHARS} characters: a lowercase letter first, then lowercase letters, digits or '-', not ending in '-'"
                ),
            );
        }
        v.value.clone()
    }

    /// A step's `name`, an ASL state name.
    pub(super) fn state_name(&mut self, step: &str, name: &Located<String>) {
        if let Some(problem) = state_name_problem(&name.value) {
            self.error(
                &format!("{step}.name"),
                name.span.clone(),
                format!("step name {} {problem}", shown(&name.value)),
                format!(
                    "use 1-{MAX_STATE_NAME_CHARS} characters without control characters or any of {FORBIDDEN_STATE_NAME_CHARS}"
                ),
            );
        }
    }

    /// `[tags]`: AWS's rules for tag keys and values.
    pub(super) fn tags(&mut self, spec: &Spec) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        for (key, value) in &spec.tags {
            let path = tag_path(&key.value);
            if let Some(problem) = tag_problem(&key.value, MAX_TAG_KEY_CHARS, true) {
                self.error(
                    &path,
                    key.span.clone(),
                    format!("tag key {problem}"),
                    format!(
                        "use 1-{MAX_TAG_KEY_CHARS} letters, digits, spaces or _ . : / = + - @, not starting with \"aws:\""
                    ),
                );
            }
            if let Some(problem) = tag_problem(&value.value, MAX_TAG_VALUE_CHARS, false) {
                self.error(
                    &path,
                    value.span.clone(),
                    format!("tag value {problem}"),
                    format!("use up to {MAX_TAG_VALUE_CHARS} letters, digits, spaces or _ . : / = + - @"),
                );
            }
            tags.insert(key.value.clone(), value.value.clone());
        }
        tags
    }
}

/// The key path of a `[tags]` entry: `tags.team`, or `tags."Cost Center"` for a key that is not a bare name.
pub(super) fn tag_path(key: &str) -> String {
    if resource_name_problem(key).is_none() {
        format!("tags.{key}")
    } else {
        format!("tags.{key:?}")
    }
}

fn resource_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Some("is empty".into()),
        Some(c) if !c.is_ascii_lowercase() => return Some("must start with a lowercase letter".into()),
        _ => {}
    }
    if name.len() > MAX_NAME_CHARS {
        return Some(format!("is longer than {MAX_NAME_CHARS} characters"));
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Some("may only hold lowercase letters, digits and '-'".into());
    }
    if name.ends_with('-') {
        return Some("must not end with '-'".into());
    }
    None
}

fn state_name_problem(name: &str) -> Option<String> {
    let count = name.chars().count();
    let problem = if count == 0 {
        "is empty".into()
    } else if count > MAX_STATE_NAME_CHARS {
        format!("is longer than {MAX_STATE_NAME_CHARS} characters")
    } else if name.chars().any(char::is_control) {
        "contains a control character".into()
    } else if name.chars().any(|c| FORBIDDEN_STATE_NAME_CHARS.contains(c)) {
        "contains a character Step Functions does not allow".into()
    } else {
        return None;
    };
    Some(problem)
}

fn tag_problem(text: &str, max: usize, is_key: bool) -> Option<&'static str> {
    let count = text.chars().count();
    if is_key && count == 0 {
        Some("is empty")
    } else if count > max {
        Some("is too long")
    } else if is_key && text.to_ascii_lowercase().starts_with("aws:") {
        Some("uses the reserved prefix \"aws:\"")
    } else if !text.chars().all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)) {
        Some("contains a character AWS does not allow in tags")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_follow_the_name_rule() {
        assert_eq!(resource_name_problem("orders-2"), None);
        assert_eq!(resource_name_problem(&"a".repeat(MAX_NAME_CHARS)), None);
        assert!(resource_name_problem(&"a".repeat(MAX_NAME_CHARS + 1)).is_some());
        for bad in ["", "2x", "Orders", "a_b", "a-"] {
            assert!(resource_name_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn state_names_refuse_what_step_functions_refuses() {
        assert_eq!(state_name_problem("Charge card (v2)"), None);
        for bad in ["", "a\tb", "a$b", "a:b"] {
            assert!(state_name_problem(bad).is_some(), "{bad:?}");
        }
        assert!(state_name_problem(&"x".repeat(MAX_STATE_NAME_CHARS + 1)).is_some());
    }
}
