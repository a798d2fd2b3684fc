//! `[callback]`: the settings of the module's Lambda functions, and the functions themselves.

use super::Checker;
use crate::model::{
    Architecture, AwsName, Callback, DEAD_LETTER_LOG, DEAD_LETTERS_UNSETTLED_METRIC, Function, FunctionId,
    INVALID_TOKEN_LOG, INVALID_TOKENS_METRIC, Invoker, LogGroup, LogMetric, LogMetricId, Queue, RoleId,
    SPENT_TOKEN_LOG, SPENT_TOKENS_METRIC, UNSETTLED_DEAD_LETTER_OUTCOMES, input,
};
use crate::spec::{Spec, keys};

impl Checker {
    /// The `[callback]` settings (the functions' tracing is the state machine's: one `tracing` input, so that
    /// a trace spans the callback).
    pub(super) fn callback(&mut self, spec: &Spec) -> Callback {
        let cb = &spec.callback;
        let table = "callback";
        let memory_mb = self.integer(&keys::MEMORY_MB, table, cb.memory_mb.as_ref());
        let timeout_seconds = self.duration(&keys::CALLBACK_TIMEOUT, table, cb.timeout.as_ref());
        let architecture = match self.choice(&keys::ARCHITECTURE, table, cb.architecture.as_ref()) {
            "x86_64" => Architecture::X86_64,
            _ => Architecture::Arm64,
        };
        let reserved_concurrency = cb
            .reserved_concurrency
            .as_ref()
            .map(|r| self.integer(&keys::RESERVED_CONCURRENCY, table, Some(r)));
        let log_retention_days =
            self.retention_days(&keys::CALLBACK_LOG_RETENTION, table, cb.log_retention_days.as_ref());
        Callback {
            memory_mb,
            timeout_seconds,
            architecture,
            reserved_concurrency,
            log_retention_days,
        }
    }
}

/// The module's Lambda functions: the callback, which workers invoke, and, when any queue's dead letters fail
/// their executions, the dead-letter function, which only the event source mappings invoke. Two functions
/// because nothing in an event a worker sends is unforgeable: what only AWS may trigger needs an entry point
/// (and a role) no worker can reach.
/// `channel_dead_letters`: some topic or bus has a dead-letter queue, which the dead-letter function reads too.
pub(super) fn functions(callback: &Callback, queues: &[Queue], channel_dead_letters: bool) -> Vec<Function> {
    let mut functions = vec![function(
        FunctionId::Callback,
        "-callback",
        Invoker::Workers,
        callback,
        token_metrics(""),
    )];
    if channel_dead_letters || queues.iter().any(|q| q.dead_letter_reader().is_some()) {
        functions.push(function(
            FunctionId::DeadLetters,
            "-dead-letters",
            Invoker::DeadLetterMappings,
            callback,
            vec![dead_letters_unsettled()],
        ));
    }
    functions
}

/// The spent-token and invalid-token metrics of a function that answers tasks with a worker's token (the callback's
/// filters `{name}-spent-tokens`..., the endpoint's `{name}-endpoint-spent-tokens`...).
pub(super) fn token_metrics(prefix: &str) -> Vec<LogMetric> {
    let (spent, invalid) = match prefix {
        "" => (LogMetricId::SpentTokens, LogMetricId::InvalidTokens),
        _ => (LogMetricId::EndpointSpentTokens, LogMetricId::EndpointInvalidTokens),
    };
    vec![
        log_metric(
            spent,
            &format!("{prefix}-spent-tokens"),
            SPENT_TOKENS_METRIC,
            SPENT_TOKEN_LOG,
        ),
        log_metric(
            invalid,
            &format!("{prefix}-invalid-tokens"),
            INVALID_TOKENS_METRIC,
            INVALID_TOKEN_LOG,
        ),
    ]
}

/// A function named `{name}{suffix}`, logging to `/aws/lambda/{name}{suffix}`, running as `id`'s mode with
/// its own role.
pub(super) fn function(
    id: FunctionId,
    suffix: &str,
    invoker: Invoker,
    callback: &Callback,
    log_metrics: Vec<LogMetric>,
) -> Function {
    let (mode, role) = match id {
        FunctionId::Callback => ("callback", RoleId::Callback),
        FunctionId::DeadLetters => ("dead_letters", RoleId::DeadLetters),
        FunctionId::Endpoint => ("endpoint", RoleId::Endpoint),
        FunctionId::ApprovalNotify => ("approval_notify", RoleId::ApprovalNotify),
        FunctionId::ApprovalPage => ("approval_page", RoleId::ApprovalPage),
    };
    Function {
        id,
        name: AwsName::suffixed(suffix),
        role,
        mode,
        invoker,
        log_group: LogGroup {
            name: AwsName::around("/aws/lambda/", suffix),
            retention_days: callback.log_retention_days,
            retention_input: input::CALLBACK_LOG_RETENTION_DAYS,
            module_key: false,
        },
        log_metrics,
        environment: Vec::new(),
    }
}

/// A metric counting the log lines whose `field` is `value`.
fn log_metric(
    id: LogMetricId,
    suffix: &str,
    metric: &'static str,
    (field, value): (&'static str, &'static str),
) -> LogMetric {
    LogMetric {
        id,
        filter_name: AwsName::suffixed(suffix),
        metric,
        fields: vec![(field, vec![value.to_string()])],
    }
}

/// Dead letters the dead-letter function read and could not settle, counted from its log lines.
fn dead_letters_unsettled() -> LogMetric {
    let (event, dead_letter) = DEAD_LETTER_LOG;
    let (outcome, unsettled) = UNSETTLED_DEAD_LETTER_OUTCOMES;
    LogMetric {
        id: LogMetricId::DeadLettersUnsettled,
        filter_name: AwsName::suffixed("-dead-letters-unsettled"),
        metric: DEAD_LETTERS_UNSETTLED_METRIC,
        fields: vec![
            (event, vec![dead_letter.to_string()]),
            (outcome, unsettled.iter().map(ToString::to_string).collect()),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_architecture_value_is_the_model_architecture_of_that_name() {
        for (value, _) in keys::ARCHITECTURE.rule.values {
            let mut c = Checker::default();
            let spec = crate::spec::parse(&format!("[callback]\narchitecture = {value:?}\n")).0;
            assert_eq!(c.callback(&spec).architecture.as_str(), *value);
        }
    }
}
