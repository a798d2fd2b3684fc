//! Names the user chooses: `name` and queue keys (prefixes of AWS names), step names (ASL state
//! names), tags.

use std::collections::BTreeMap;
use std::ops::Range;

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
            if self.failed(path) {
                return String::new();
            }
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

    /// A step's `name`, an ASL state name (and the stem of the Fail states its catches create); a forbidden
    /// character gets the caret.
    pub(super) fn state_name(&mut self, step: &str, name: &Located<String>) {
        if let Some((problem, at)) = state_name_problem(&name.value) {
            let mut diagnostic = Diagnostic::error(
                format!("{step}.name"),
                Some(name.span.clone()),
                format!("step name {} {problem}", shown(&name.value)),
            )
            .with_help(format!(
                "use 1-{MAX_STATE_NAME_CHARS} characters without control characters, U+FFFE, U+FFFF, U+10FFFF or any \
                 of {FORBIDDEN_STATE_NAME_CHARS}"
            ));
            if let Some(at) = at {
                diagnostic = diagnostic.within_text(at);
            }
            self.diags.push(diagnostic);
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

pub(super) fn resource_name_problem(name: &str) -> Option<String> {
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

/// What is wrong with a state name, and the bytes of the first character Step Functions refuses in it.
fn state_name_problem(name: &str) -> Option<(String, Option<Range<usize>>)> {
    let count = name.chars().count();
    if count == 0 {
        return Some(("is empty".into(), None));
    }
    if count > MAX_STATE_NAME_CHARS {
        return Some((format!("is longer than {MAX_STATE_NAME_CHARS} characters"), None));
    }
    let (at, c, kind) = name
        .char_indices()
        .find_map(|(at, c)| forbidden_in_state_name(c).map(|kind| (at, c, kind)))?;
    let shown = match kind {
        Forbidden::Listed => format!("{:?}", c.to_string()),
        Forbidden::Control => format!("U+{:04X} (a control character)", u32::from(c)),
        Forbidden::Noncharacter => format!("U+{:04X} (a Unicode noncharacter)", u32::from(c)),
    };
    let problem = format!("contains {shown}, which Step Functions does not allow in a state name");
    Some((problem, Some(at..at + c.len_utf8())))
}

/// Why a character is refused in a state name.
enum Forbidden {
    /// One of [`FORBIDDEN_STATE_NAME_CHARS`].
    Listed,
    /// U+0000..U+001F, U+007F..U+009F.
    Control,
    /// U+FFFE, U+FFFF, U+10FFFF.
    Noncharacter,
}

/// Step Functions' API reference lists what a name it takes may not hold (CreateStateMachine, StartExecution:
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html#StepFunctions-CreateStateMachine-request-name>):
/// white space, the characters of [`FORBIDDEN_STATE_NAME_CHARS`], control characters (U+0000-001F,
/// U+007F-009F, U+FFFE-FFFF), surrogates (U+D800-DFFF) and U+10FFFF. The contract (docs/spec.md) applies that
/// list to state names, white space excepted (the States Language's own examples name states "Hello
/// World"). A Rust string holds no surrogate (TOML refuses `\uD800`), so none is looked for. U+FFFE, U+FFFF
/// and U+10FFFF are Unicode noncharacters; the other noncharacters (U+FDD0-FDEF, the last two code points of
/// planes 1 to 15) are not on AWS's list, and are allowed.
fn forbidden_in_state_name(c: char) -> Option<Forbidden> {
    if c.is_control() {
        Some(Forbidden::Control)
    } else if matches!(c, '\u{FFFE}' | '\u{FFFF}' | '\u{10FFFF}') {
        Some(Forbidden::Noncharacter)
    } else if FORBIDDEN_STATE_NAME_CHARS.contains(c) {
        Some(Forbidden::Listed)
    } else {
        None
    }
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
        for good in [
            "a\u{FDD0}",
            "a\u{1FFFE}",
            "Charge card (v2)",
            "Zahlung prüfen",
            "支払い",
            "a\u{FFFD}b",
            "a\u{FFFC}",
            "a\u{10FFFD}",
            "a\u{A0}b",
        ] {
            assert_eq!(state_name_problem(good), None, "{good:?}");
        }
        for (bad, at) in [
            ("a\tb", 1..2),
            ("a$b", 1..2),
            ("a:b", 1..2),
            ("é\u{7f}", 2..3),
            ("a\u{85}", 1..3),
            ("a\u{9f}", 1..3),
            ("ab\u{FFFE}", 2..5),
            ("a\u{FFFF}", 1..4),
            ("a\u{10FFFF}", 1..5),
        ] {
            let (problem, range) = state_name_problem(bad).unwrap_or_else(|| panic!("{bad:?} passed"));
            assert_eq!(range, Some(at), "{bad:?}: {problem}");
        }
        assert_eq!(
            state_name_problem("a\u{FFFE}").unwrap().0,
            "contains U+FFFE (a Unicode noncharacter), which Step Functions does not allow in a state name"
        );
        assert_eq!(
            state_name_problem("a\u{85}").unwrap().0,
            "contains U+0085 (a control character), which Step Functions does not allow in a state name"
        );
        assert!(state_name_problem("").is_some());
        assert!(state_name_problem(&"x".repeat(MAX_STATE_NAME_CHARS + 1)).is_some());
    }
}
