//! A step's fan-out keys (`for_each`, `max_concurrency`, `max_items`, `tolerated_failure_percentage`): the
//! [`FanOut`] that makes the step an inline Map state.

use super::{Checker, at, json_path};
use crate::diagnostic::{Diagnostic, shown};
use crate::model::FanOut;
use crate::spec::{Located, StepSpec, keys};

impl Checker {
    /// The step's [`FanOut`], when it has `for_each`; the other three keys only go with it.
    pub(super) fn fan_out(&mut self, path: &str, step: &StepSpec) -> Option<FanOut> {
        let Some(for_each) = step.for_each.as_ref() else {
            self.keys_without_for_each(path, step);
            return None;
        };
        self.items_path(path, for_each);
        let max_concurrency = step
            .max_concurrency
            .as_ref()
            .map(|v| self.integer(&keys::MAX_CONCURRENCY, path, Some(v)));
        let max_items = step
            .max_items
            .as_ref()
            .map(|v| self.integer(&keys::MAX_ITEMS, path, Some(v)));
        let percentage = self.integer(
            &keys::TOLERATED_FAILURE_PERCENTAGE,
            path,
            step.tolerated_failure_percentage.as_ref(),
        );
        if let Some(written) = step.tolerated_failure_percentage.as_ref()
            && !matches!(percentage, 0 | 100)
        {
            self.error(
                &at(path, keys::TOLERATED_FAILURE_PERCENTAGE.name()),
                written.span.clone(),
                format!("tolerated_failure_percentage {percentage} is neither 0 nor 100"),
                "an inline Map state has no failure threshold (ToleratedFailurePercentage is a distributed Map's): \
                 use 0 to fail the step when an item fails, or 100 to keep every failed item's error in the result \
                 and let the next step decide"
                    .into(),
            );
        }
        Some(FanOut {
            items_path: for_each.value.clone(),
            max_concurrency,
            max_items,
            tolerate_failures: percentage == 100,
        })
    }

    /// `for_each` is a path Step Functions reads as `ItemsPath`: a reference path, which selects one node
    /// (<https://states-language.net/spec.html#ref-paths>), so none of `*`, `..`, `[a,b]` or slices.
    fn items_path(&mut self, path: &str, for_each: &Located<String>) {
        let problem = match json_path::check(&for_each.value) {
            Err(err) => Some((err.at, err.problem)),
            Ok(()) => json_path::not_a_reference_path(&for_each.value),
        };
        let Some((byte, problem)) = problem else {
            return;
        };
        let width = for_each.value[byte..].chars().next().map_or(0, char::len_utf8);
        self.diags.push(
            Diagnostic::error(
                at(path, keys::FOR_EACH.name()),
                Some(for_each.span.clone()),
                format!(
                    "{} is not a path to one array Step Functions reads: at byte {byte}, {problem}",
                    shown(&for_each.value)
                ),
            )
            .with_help(
                "write the path of the array in the state input, such as \"$.items\" or \"$.order['line items']\"",
            )
            .within_text(byte..byte + width),
        );
    }

    /// `max_concurrency`, `max_items` and `tolerated_failure_percentage` describe a Map: without `for_each`
    /// there is none.
    fn keys_without_for_each(&mut self, path: &str, step: &StepSpec) {
        // A `for_each` written but misspelt (or of the wrong type) was reported: these keys are what it meant.
        if self.failed(&at(path, keys::FOR_EACH.name())) {
            return;
        }
        let written = [
            (keys::MAX_CONCURRENCY.name(), step.max_concurrency.as_ref()),
            (keys::MAX_ITEMS.name(), step.max_items.as_ref()),
            (
                keys::TOLERATED_FAILURE_PERCENTAGE.name(),
                step.tolerated_failure_percentage.as_ref(),
            ),
        ];
        for (name, value) in written {
            // 0 is what a step without `for_each` does anyway: an error fails it.
            if let Some(value) = value.filter(|v| !(name == keys::TOLERATED_FAILURE_PERCENTAGE.name() && v.value == 0))
            {
                self.error(
                    &at(path, name),
                    value.span.clone(),
                    format!("`{name}` applies to a step with `for_each`, and this step has none"),
                    format!("add `for_each = \"$.items\"` (the path of the array to fan out over), or remove `{name}`"),
                );
            }
        }
    }
}
