//! `[[steps]]`: one callback Task each, in order: its name, queue, timeout and heartbeat, and the
//! message it sends. Retry and catch are `retry_catch`'s.

use std::collections::BTreeMap;

use super::{Checker, json_path};
use crate::diagnostic::{Diagnostic, shown};
use crate::duration::format_seconds;
use crate::model::{CatchTarget, MESSAGE_OWN_FIELDS, Step};
use crate::spec::{Located, MessageKey, Spec, StepSpec, keys};

impl Checker {
    /// The steps, in order; every step name unique.
    /// `execution_timeout` is `[state_machine] timeout`'s, when it was read.
    pub(super) fn steps(&mut self, spec: &Spec, execution_timeout: u64) -> Vec<Step> {
        let execution_timeout = (!self.failed(keys::STATE_MACHINE_TIMEOUT.path)).then_some(execution_timeout);
        let Some(steps) = spec.steps.as_ref() else {
            if self.failed("steps") {
                return Vec::new();
            }
            self.diags.push(
                Diagnostic::error("steps", Some(0..0), "missing required key `steps`")
                    .with_help("add at least one [[steps]] table with `name` and `queue` (or `topic`, or `bus`)"),
            );
            return Vec::new();
        };
        if steps.value.is_empty() {
            self.error(
                "steps",
                steps.span.clone(),
                "at least one step is required".into(),
                "add a [[steps]] table with `name` and `queue`".into(),
            );
        }
        let names: Vec<Option<&str>> = steps
            .value
            .iter()
            .map(|s| s.name.as_ref().map(|n| n.value.as_str()))
            .collect();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut out = Vec::new();
        for (index, step) in steps.value.iter().enumerate() {
            // A step that is not a table was reported by the reader; it reads as an empty one whose keys
            // are all rejected, so it adds no error.
            let path = format!("steps[{index}]");
            let mut resolved = self.step(spec, &path, step, execution_timeout);
            resolved.retry = self.retriers(&path, step);
            resolved.catch = self.catchers(&path, step, (&resolved.name, index), &names[index + 1..]);
            if let Some(name) = step.name.as_ref()
                && let Some(first) = seen.insert(name.value.as_str(), index)
            {
                self.duplicate_step_name(&path, name, first);
            }
            out.push(resolved);
        }
        self.fail_states_named_like_steps(&out, &steps.value);
        out
    }

    fn step(&mut self, spec: &Spec, path: &str, step: &StepSpec, execution_timeout: Option<u64>) -> Step {
        let name = match step.name.as_ref() {
            Some(name) => {
                self.state_name(path, name);
                name.value.clone()
            }
            None => {
                self.missing(path, "name", step.span.clone(), "name = \"SendToSQS\"");
                String::new()
            }
        };
        let channel = self.channel(spec, path, step);
        let timeout_seconds = step
            .timeout
            .as_ref()
            .map(|t| self.duration(&keys::STEP_TIMEOUT, path, Some(t)));
        let heartbeat_seconds = step
            .heartbeat
            .as_ref()
            .map(|h| self.duration(&keys::STEP_HEARTBEAT, path, Some(h)));
        // Each of the three durations is compared only when it was read.
        let timeout = timeout_seconds
            .zip(step.timeout.as_ref())
            .filter(|_| !self.failed(&format!("{path}.timeout")));
        if let (Some(beat), Some(written)) = (heartbeat_seconds, step.heartbeat.as_ref())
            && !self.failed(&format!("{path}.heartbeat"))
        {
            self.heartbeat_below_timeouts(path, (beat, written), timeout, execution_timeout);
        }
        Step {
            name,
            channel,
            timeout_seconds,
            heartbeat_seconds,
            input_path: self.input_path(path, step.input_path.as_ref()),
            message_fields: self.message_fields(path, step),
            retry: Vec::new(),
            catch: Vec::new(),
            fan_out: self.fan_out(path, step),
            approval: self.approval(path, step),
        }
    }

    /// A heartbeat is shorter than the step's timeout, and than the execution's (each when it was read).
    fn heartbeat_below_timeouts(
        &mut self,
        path: &str,
        (beat, written): (u64, &Located<String>),
        timeout: Option<(u64, &Located<String>)>,
        execution_timeout: Option<u64>,
    ) {
        let path = format!("{path}.heartbeat");
        match timeout {
            Some((limit, t)) if beat >= limit => self.error(
                &path,
                written.span.clone(),
                format!(
                    "heartbeat {} must be shorter than the step's timeout {}",
                    written.value, t.value
                ),
                format!(
                    "lower `heartbeat` below {}, or raise `timeout` above {}",
                    format_seconds(limit),
                    format_seconds(beat)
                ),
            ),
            _ if execution_timeout.is_some_and(|limit| beat >= limit) => self.error(
                &path,
                written.span.clone(),
                format!(
                    "heartbeat {} must be shorter than the execution timeout {}",
                    written.value,
                    format_seconds(execution_timeout.unwrap_or_default())
                ),
                "lower `heartbeat`, or raise [state_machine] `timeout`".into(),
            ),
            _ => {}
        }
    }

    /// `input_path`: a path Step Functions reads in the message's `"input.$"` ([`json_path`]); the caret
    /// points at the byte where it stops being one.
    fn input_path(&mut self, path: &str, value: Option<&Located<String>>) -> String {
        let Some(v) = value else {
            return keys::INPUT_PATH.rule.default.unwrap_or_default().to_string();
        };
        if let Err(err) = json_path::check(&v.value) {
            let width = v.value[err.at..].chars().next().map_or(0, char::len_utf8);
            self.diags.push(
                Diagnostic::error(
                    format!("{path}.input_path"),
                    Some(v.span.clone()),
                    format!(
                        "{} is not a path Step Functions reads: at byte {}, {}",
                        shown(&v.value),
                        err.at,
                        err.problem
                    ),
                )
                .with_help(
                    "write a path into the state input such as \"$\" (all of it), \"$.order\", \"$.items[0]\" or \
                     \"$['a key']\"",
                )
                .within_text(err.at..err.at + width),
            );
        }
        v.value.clone()
    }

    /// A step's static message fields. Static means static: Step Functions reads a key ending in `.$`, at any
    /// depth of a payload template (objects in arrays too), as a path or an intrinsic function whose result
    /// replaces the value (<https://states-language.net/spec.html#payload-template>), so `{ "copy.$" =
    /// "$$.Task.Token" }` would copy the task token. Such keys are refused, not escaped: ASL has no escape for
    /// a key, and renaming one would send a message the spec does not show. Values need nothing: a
    /// `"$.x"` or `"States.UUID()"` under a plain key is sent as the text it is.
    fn message_fields(&mut self, path: &str, step: &StepSpec) -> Vec<(String, serde_json::Value)> {
        for (key, _) in &step.message {
            if MESSAGE_OWN_FIELDS.contains(&key.value.as_str()) {
                self.error(
                    &format!("{path}.message.{}", key.value),
                    key.span.clone(),
                    format!("`{}` is sfngen's own message field", key.value),
                    "every message carries `input` (the state input), `token` (the task token) and `context` (the \
                     execution, state, entered time, retry and redrive counts); name this field otherwise"
                        .into(),
                );
            }
        }
        if step.approval.as_ref().is_some_and(|a| a.value)
            && let Some((key, _)) = step
                .message
                .iter()
                .find(|(k, _)| k.value == crate::model::APPROVAL_FIELD)
        {
            self.error(
                &format!("{path}.message.{}", key.value),
                key.span.clone(),
                "`approval` is sfngen's own field in an approval step's message".into(),
                "the notifier reads how to send the link from it; name this field otherwise".into(),
            );
        }
        for key in step.message_keys.iter().filter(|k| k.key.value.ends_with(".$")) {
            self.path_key(key);
        }
        step.message.iter().map(|(k, v)| (k.value.clone(), v.clone())).collect()
    }

    /// A key of `message` that ends in `.$`.
    fn path_key(&mut self, MessageKey { path, key }: &MessageKey) {
        let stem = &key.value[..key.value.len() - 2];
        let rename = if stem.is_empty() {
            "give it a name that does not end in \".$\"".to_string()
        } else {
            format!("name it {} (without \".$\")", shown(stem))
        };
        self.error(
            path,
            key.span.clone(),
            format!(
                "{} ends in \".$\": Step Functions would replace its value with what the value selects (a path, \
                 or a function), so the field would not be static",
                shown(&key.value)
            ),
            format!("message fields are sent as written: {rename}; the state input already goes in `input`"),
        );
    }

    fn duplicate_step_name(&mut self, path: &str, name: &Located<String>, first: usize) {
        self.error(
            &format!("{path}.name"),
            name.span.clone(),
            format!("step name {:?} is already used by steps[{first}]", name.value),
            "give every step a unique name".into(),
        );
    }

    /// The Fail states that catches create must not take a step's name (a step without a name, reported,
    /// creates none that counts).
    fn fail_states_named_like_steps(&mut self, steps: &[Step], written: &[StepSpec]) {
        for (index, step) in steps.iter().enumerate() {
            if written[index].name.is_none() || self.failed(&format!("steps[{index}].name")) {
                continue;
            }
            for (i, catch) in step.catch.iter().enumerate() {
                if let CatchTarget::Fail { state, .. } = &catch.target
                    && steps.iter().any(|s| &s.name == state)
                {
                    self.error(
                        &format!("steps[{index}].catch[{i}].fail"),
                        written[index].catch[i].span.clone(),
                        format!("the Fail state this catch creates, {state:?}, has the name of a step"),
                        "rename that step".into(),
                    );
                }
            }
        }
    }
}
