//! Guard rails: specs that are valid but probably not what their author meant. Each warning points
//! at the key to change; `--deny-warnings` makes them errors.

use crate::diagnostic::Diagnostic;
use crate::duration::format_seconds;
use crate::limits;
use crate::model::{LogLevel, Model, Queue, Step};
use crate::spec::keys::DAY;
use crate::spec::{Located, QueueSpec, Spec, StepSpec};

/// The warnings for a spec that [`super::resolve`] accepted, with its model, in the order of the file.
pub fn guard_rails(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let spec_steps = spec.steps.as_ref().map(|s| s.value.as_slice()).unwrap_or_default();
    for (index, (written, step)) in spec_steps.iter().zip(&model.steps).enumerate() {
        if let Some(queue) = step.queue_key().and_then(|key| model.find_queue(key)) {
            warnings.extend(step_timeout(
                index,
                written,
                step,
                queue,
                model.state_machine.timeout_seconds,
            ));
        }
    }
    for (index, (written, step)) in spec_steps.iter().zip(&model.steps).enumerate() {
        warnings.extend(unbounded_fan_out(index, written, step));
        let previous = index.checked_sub(1).and_then(|i| model.steps.get(i));
        warnings.extend(catch_on_an_array(index, written, step, previous));
        warnings.extend(approval_on_an_array(index, written, step, previous));
    }
    for (key, written) in &spec.queues {
        if let Some(queue) = model.find_queue(&key.value) {
            warnings.extend(visibility_below_callback(
                key,
                written,
                queue,
                model.callback.timeout_seconds,
            ));
        }
    }
    warnings.extend(tokens_in_logs(spec, model));
    warnings.extend(super::limits::warnings(spec, model));
    warnings.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
    warnings
}

/// Execution data logged at level ALL: every task's parameters, so every message body and its task token,
/// land in CloudWatch Logs, where a token completes or fails its task for anyone who can read it.
fn tokens_in_logs(spec: &Spec, model: &Model) -> Option<Diagnostic> {
    let logging = &model.state_machine.logging;
    if logging.level != LogLevel::All || !logging.include_execution_data {
        return None;
    }
    let written = spec.state_machine.include_execution_data.as_ref()?;
    Some(
        Diagnostic::warning(
            "state_machine.include_execution_data",
            Some(written.span.clone()),
            "with log_level \"ALL\", execution data puts every task token in CloudWatch Logs: whoever can read the \
             log group can complete or fail those tasks"
                .to_string(),
        )
        .with_help(
            "set include_execution_data = false (the execution history keeps the data), or log at \"ERROR\"; to keep \
             it, restrict logs:GetLogEvents on the log group and encrypt it ([logs] encryption = \"kms\")",
        ),
    )
}

/// A fan-out step without `max_concurrency`: every item's message goes out at once (up to inline mode's 40), a
/// burst the workers and whatever they call must take whatever the array holds.
fn unbounded_fan_out(index: usize, written: &StepSpec, step: &Step) -> Option<Diagnostic> {
    let fan_out = step.fan_out.as_ref()?;
    if fan_out.max_concurrency.is_some() {
        return None;
    }
    let for_each = written.for_each.as_ref()?;
    Some(
        Diagnostic::warning(
            format!("steps[{index}].for_each"),
            Some(for_each.span.clone()),
            format!(
                "step {:?} fans out without max_concurrency: it sends a message for up to {} items at once, however \
                 many its array holds",
                step.name,
                limits::INLINE_MAP_CONCURRENCY.figure
            ),
        )
        .with_help(format!(
            "set `max_concurrency` to the items your workers (and what they call) should handle at once, 1 to {}",
            limits::INLINE_MAP_CONCURRENCY.figure
        )),
    )
}

/// A catch on a step whose input is an array: the one after a fan-out step (whose result is the array of answers), or
/// one fanning out over its whole input (`for_each = "$"`). A catcher puts the error at `$.error` of the state input,
/// which an array has no place for: Step Functions fails the execution with `States.ResultPathMatchFailure` instead
/// of following the catch (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
fn catch_on_an_array(index: usize, written: &StepSpec, step: &Step, previous: Option<&Step>) -> Option<Diagnostic> {
    let catch = written.catch.first()?;
    let why = match (previous, step.fan_out.as_ref()) {
        (_, Some(fan_out)) if fan_out.items_path == "$" => "its input is the array it fans out over".to_string(),
        (Some(previous), _) if previous.fan_out.is_some() && !previous.approval => {
            format!("its input is the array of answers of fan-out step {:?}", previous.name)
        }
        _ => return None,
    };
    Some(
        Diagnostic::warning(
            format!("steps[{index}].catch[0]"),
            Some(catch.span.clone()),
            format!(
                "step {:?} catches errors, but {why}: Step Functions cannot put a caught error at $.error of an \
                 array, and fails the execution with States.ResultPathMatchFailure instead of following the catch",
                step.name
            ),
        )
        .with_help(
            "catch on a step whose input is an object (the fan-out step itself, when it reads its array from an \
             object), or let a failed item's error stay in the result (tolerated_failure_percentage = 100)",
        ),
    )
}

/// An approval step whose input is an array (after a fan-out step that is no approval, or fanning out over `$`): its
/// decision goes to `$.approval` of the state input ([`crate::model::APPROVAL_RESULT_PATH`]), which an array has no
/// place for, so Step Functions fails the execution with `States.ResultPathMatchFailure` when the person decides.
fn approval_on_an_array(index: usize, written: &StepSpec, step: &Step, previous: Option<&Step>) -> Option<Diagnostic> {
    if !step.approval {
        return None;
    }
    let approval = written.approval.as_ref()?;
    let why = match (previous, step.fan_out.as_ref()) {
        (_, Some(fan_out)) if fan_out.items_path == "$" => "its input is the array it fans out over".to_string(),
        (Some(previous), _) if previous.fan_out.is_some() && !previous.approval => {
            format!("its input is the array of answers of fan-out step {:?}", previous.name)
        }
        _ => return None,
    };
    Some(
        Diagnostic::warning(
            format!("steps[{index}].approval"),
            Some(approval.span.clone()),
            format!(
                "approval step {:?} keeps its input and puts the decision at $.approval, but {why}: Step Functions \
                 cannot add a field to an array, and fails the execution with States.ResultPathMatchFailure when \
                 the person decides",
                step.name
            ),
        )
        .with_help(
            "approve before the fan-out step, or fan out over an array of an object (for_each = \"$.lines\") so that \
             the approval's input is that object",
        ),
    )
}

/// A step that can outwait its message or its execution, or waits as long as a long execution.
fn step_timeout(index: usize, written: &StepSpec, step: &Step, queue: &Queue, execution: u64) -> Option<Diagnostic> {
    let path = format!("steps[{index}]");
    match (step.timeout_seconds, written.timeout.as_ref()) {
        (Some(timeout), Some(at)) if timeout > queue.retention_seconds => Some(
            Diagnostic::warning(
                format!("{path}.timeout"),
                Some(at.span.clone()),
                format!(
                    "the step waits up to {} but queue `{}` keeps a message only {}: it can expire before a worker sees it",
                    format_seconds(timeout),
                    queue.key,
                    format_seconds(queue.retention_seconds)
                ),
            )
            .with_help(format!("raise [queues.{}] retention, or lower this timeout", queue.key)),
        ),
        (Some(timeout), Some(at)) if timeout >= execution => Some(
            Diagnostic::warning(
                format!("{path}.timeout"),
                Some(at.span.clone()),
                format!(
                    "the step timeout {} is not shorter than the execution timeout {}: the execution times out first",
                    format_seconds(timeout),
                    format_seconds(execution)
                ),
            )
            .with_help("lower this timeout, or raise [state_machine] timeout"),
        ),
        (None, _) if execution > DAY => Some(
            Diagnostic::warning(
                path,
                Some(written.span.clone()),
                format!(
                    "step {:?} has no timeout: a lost message leaves it waiting as long as the execution, {}",
                    step.name,
                    format_seconds(execution)
                ),
            )
            .with_help("set `timeout` (and `heartbeat`) on this step"),
        ),
        _ => None,
    }
}

/// A queue that can hand a message to a second worker while the first one's callback still runs.
fn visibility_below_callback(
    key: &Located<String>,
    written: &QueueSpec,
    queue: &Queue,
    callback_timeout: u64,
) -> Option<Diagnostic> {
    if queue.visibility_timeout_seconds >= callback_timeout {
        return None;
    }
    let span = written
        .visibility_timeout
        .as_ref()
        .map(|v| v.span.clone())
        .unwrap_or(key.span.clone());
    Some(
        Diagnostic::warning(
            format!("queues.{}.visibility_timeout", key.value),
            Some(span),
            format!(
                "visibility timeout {} is shorter than the callback Lambda's timeout {}: a message can reappear while its callback is still running",
                format_seconds(queue.visibility_timeout_seconds),
                format_seconds(callback_timeout)
            ),
        )
        .with_help("raise visibility_timeout above the time a worker needs, callback included"),
    )
}
