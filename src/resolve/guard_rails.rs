//! Guard rails: specs that are valid but probably not what their author meant. Each warning points
//! at the key to change; `--deny-warnings` makes them errors.

use crate::diagnostic::Diagnostic;
use crate::duration::format_seconds;
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
