//! `[[steps.retry]]` and `[[steps.catch]]`: ASL retriers and catchers, and the rules ASL sets on their
//! error names.

use super::Checker;
use super::values::{did_you_mean_prefix, flag};
use crate::diagnostic::shown;
use crate::limits;
use crate::model::{Catch, CatchTarget, Retry};
use crate::spec::keys::{self, ALL_ERRORS, MAX_ERROR_NAME_CHARS};
use crate::spec::{CatchSpec, FailSpec, Located, RetrySpec, Span, StepSpec};

/// The `errors` list of a retry or catch table, as written.
type ErrorList = Located<Vec<Located<String>>>;

impl Checker {
    /// A step's retriers, in order.
    pub(super) fn retriers(&mut self, path: &str, step: &StepSpec) -> Vec<Retry> {
        let retry = step
            .retry
            .iter()
            .enumerate()
            .map(|(i, r)| self.retrier(&format!("{path}.retry[{i}]"), r))
            .collect();
        self.errors_all_last(
            path,
            "retry",
            step.retry.iter().map(|r| (r.span.clone(), r.errors.as_ref())).collect(),
        );
        retry
    }

    /// A step's catchers, in order; `step` is its name, `index` its position, `later` the names of the steps
    /// after it.
    pub(super) fn catchers(
        &mut self,
        path: &str,
        step: &StepSpec,
        (name, index): (&str, usize),
        later: &[Option<&str>],
    ) -> Vec<Catch> {
        let mut catch = Vec::new();
        let mut fails = 0;
        for (i, c) in step.catch.iter().enumerate() {
            let catcher = self.catcher(&format!("{path}.catch[{i}]"), c, (name, index, fails), later);
            fails += usize::from(matches!(catcher.target, CatchTarget::Fail { .. }));
            catch.push(catcher);
        }
        self.errors_all_last(
            path,
            "catch",
            step.catch.iter().map(|c| (c.span.clone(), c.errors.as_ref())).collect(),
        );
        catch
    }

    fn retrier(&mut self, path: &str, r: &RetrySpec) -> Retry {
        Retry {
            errors: self.error_names(&format!("{path}.errors"), r.errors.as_ref()),
            max_attempts: self.integer(&keys::RETRY_ATTEMPTS, path, r.attempts.as_ref()),
            interval_seconds: self.duration(&keys::RETRY_INTERVAL, path, r.interval.as_ref()),
            // Thousandths keep the model exact; the range keeps the product within u32.
            backoff_rate_milli: (self.number(&keys::RETRY_BACKOFF_RATE, path, r.backoff_rate.as_ref()) * 1000.0).round()
                as u32,
            max_delay_seconds: r
                .max_delay
                .as_ref()
                .map(|d| self.duration(&keys::RETRY_MAX_DELAY, path, Some(d))),
            jitter: flag(r.jitter.as_ref()),
        }
    }

    /// One catcher; `step` is the step's name, position and count of Fail states before this one.
    fn catcher(&mut self, path: &str, c: &CatchSpec, step: (&str, usize, usize), later: &[Option<&str>]) -> Catch {
        let (name, index, fails_before) = step;
        let errors = self.error_names(&format!("{path}.errors"), c.errors.as_ref());
        let target = match (c.next.as_ref(), c.fail.as_ref()) {
            (Some(next), None) => {
                self.later_step(path, next, name, later);
                CatchTarget::Step(next.value.clone())
            }
            (None, Some(fail)) => self.fail_state(path, fail, fail_state_name(name, index, fails_before)),
            _ => {
                // A catch that is not a table, or whose `next` or `fail` could not be read, was reported.
                let unread = ["", ".next", ".fail"]
                    .iter()
                    .any(|key| self.failed(&format!("{path}{key}")));
                if !unread {
                    self.error(
                        path,
                        c.span.clone(),
                        "a catch needs exactly one of `next` and `fail`".into(),
                        "write `next = \"LaterStep\"` or `fail = { error = \"...\" }`".into(),
                    );
                }
                CatchTarget::Step(String::new())
            }
        };
        Catch { errors, target }
    }

    /// A catch may only go forward. When a later step has no name (missing, or unreadable: reported), `next`
    /// may be meant for it: nothing more is said.
    fn later_step(&mut self, path: &str, next: &Located<String>, step: &str, later: &[Option<&str>]) {
        if later.contains(&Some(next.value.as_str())) || later.contains(&None) {
            return;
        }
        let near = did_you_mean_prefix(&next.value, later.iter().flatten().copied());
        self.error(
            &format!("{path}.next"),
            next.span.clone(),
            format!("{} is not a step after {}", shown(&next.value), shown(step)),
            format!("{near}a catch may only go forward, to a later step's name, or use `fail = {{ error = \"...\" }}`"),
        );
    }

    /// The Fail state a catch ends in, named `state`.
    fn fail_state(&mut self, path: &str, fail: &Located<FailSpec>, state: String) -> CatchTarget {
        let error = match fail.value.error.as_ref() {
            Some(e) => {
                if !(1..=MAX_ERROR_NAME_CHARS).contains(&e.value.chars().count()) {
                    self.error(
                        &format!("{path}.fail.error"),
                        e.span.clone(),
                        format!("the error name must have 1 to {MAX_ERROR_NAME_CHARS} characters"),
                        "shorten it".into(),
                    );
                }
                e.value.clone()
            }
            None => {
                self.error(
                    &format!("{path}.fail"),
                    fail.span.clone(),
                    "missing required key `error`".into(),
                    "write `fail = { error = \"OrderFailed\", cause = \"...\" }`".into(),
                );
                String::new()
            }
        };
        CatchTarget::Fail {
            state,
            error,
            cause: fail.value.cause.as_ref().map(|c| c.value.clone()),
        }
    }

    /// `errors`: `["States.ALL"]` when left out; otherwise names of 1 to 256 characters.
    fn error_names(&mut self, path: &str, errors: Option<&ErrorList>) -> Vec<String> {
        let Some(errors) = errors else {
            return vec![ALL_ERRORS.into()];
        };
        if errors.value.is_empty() {
            self.error(
                path,
                errors.span.clone(),
                "no error names".into(),
                "list at least one, such as [\"States.Timeout\"], or remove `errors` to match every error".into(),
            );
        }
        for e in &errors.value {
            if !(1..=MAX_ERROR_NAME_CHARS).contains(&e.value.chars().count()) {
                self.error(
                    path,
                    e.span.clone(),
                    format!("an error name must have 1 to {MAX_ERROR_NAME_CHARS} characters"),
                    "fix the name".into(),
                );
            }
        }
        errors.value.iter().map(|e| e.value.clone()).collect()
    }

    /// ASL: "States.ALL" must stand alone, in the last retrier (or catcher) of a state. An entry that is not
    /// a table, or whose `errors` could not be read, was reported: what it matches is unknown.
    fn errors_all_last(&mut self, path: &str, kind: &str, lists: Vec<(Span, Option<&ErrorList>)>) {
        let count = lists.len();
        for (i, (span, list)) in lists.into_iter().enumerate() {
            if self.failed(&format!("{path}.{kind}[{i}].errors")) {
                continue;
            }
            let Some(list) = list else {
                if i + 1 < count {
                    self.error(
                        &format!("{path}.{kind}[{i}]"),
                        span,
                        format!("this {kind} has no `errors`, so it matches every error, but it is not the last"),
                        format!("give it `errors`, or move it after the other [[steps.{kind}]] tables"),
                    );
                }
                continue;
            };
            let has_all = list.value.iter().any(|e| e.value == ALL_ERRORS);
            if has_all && (list.value.len() > 1 || i + 1 < count) {
                self.error(
                    &format!("{path}.{kind}[{i}].errors"),
                    list.span.clone(),
                    "\"States.ALL\" must be alone, in the last entry".into(),
                    format!("move it into its own [[steps.{kind}]] table after the others"),
                );
            }
        }
    }
}

/// The name of the Fail state a step's catch ends in: `{step}Failed`, then `{step}Failed2`... for the step's later
/// Fail states. When that would be longer than a state name may be ([`limits::STATE_NAME`]), the step's name is cut
/// and its position marks it: `{start of the name}-s{index}Failed{n}`, exactly 80 characters. Two such names
/// differ by the step's position (read from the right, "Failed" ends it and "-s" starts it), so steps that share
/// their first 72 characters still get Fail states of their own; a cut name can only meet a step's own
/// `{step}Failed{n}` when that step is named like the cut text, which resolve reports.
pub(super) fn fail_state_name(step: &str, index: usize, fails_before: usize) -> String {
    let suffix = match fails_before {
        0 => "Failed".to_string(),
        n => format!("Failed{}", n + 1),
    };
    let max = limits::STATE_NAME.figure as usize;
    if step.chars().count() + suffix.len() <= max {
        return format!("{step}{suffix}");
    }
    let marker = format!("-s{index}");
    let stem: String = step
        .chars()
        .take(max.saturating_sub(marker.len() + suffix.len()))
        .collect();
    format!("{stem}{marker}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::keys::MAX_STATE_NAME_CHARS;

    #[test]
    fn fail_states_keep_the_steps_name_while_it_fits() {
        assert_eq!(fail_state_name("Charge", 0, 0), "ChargeFailed");
        assert_eq!(fail_state_name("Charge", 0, 1), "ChargeFailed2");
        let name = "x".repeat(MAX_STATE_NAME_CHARS - "Failed".len());
        assert_eq!(fail_state_name(&name, 3, 0), format!("{name}Failed"));
    }

    #[test]
    fn long_step_names_and_many_catches_make_distinct_names_of_at_most_80_characters() {
        let shared = "Ü".repeat(72);
        let steps = [format!("{shared}Charge"), format!("{shared}Refund"), "é".repeat(80)];
        let mut names = std::collections::BTreeSet::new();
        for (index, step) in steps.iter().enumerate() {
            for fails_before in 0..150 {
                let name = fail_state_name(step, index, fails_before);
                assert!(name.chars().count() <= MAX_STATE_NAME_CHARS, "{name}");
                assert!(names.insert(name.clone()), "{name} twice");
            }
        }
        assert_eq!(names.len(), 3 * 150);
        // Past step 9, the position takes another digit and the cut text one character less.
        let name = fail_state_name(&steps[0], 1234, 99);
        assert_eq!(name.chars().count(), MAX_STATE_NAME_CHARS);
        assert!(name.ends_with("-s1234Failed100"), "{name}");
    }
}
