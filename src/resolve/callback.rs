//! `[callback]`: the Lambda that answers with the task token.

use super::Checker;
use crate::model::{
    Architecture, AwsName, Callback, DEAD_LETTER_LOG, DEAD_LETTERS_UNSETTLED_METRIC, LogGroup, LogMetric, LogMetricId,
    Queue, SPENT_TOKEN_LOG, SPENT_TOKENS_METRIC, UNSETTLED_DEAD_LETTER_OUTCOMES, input,
};
use crate::spec::{Spec, keys};

impl Checker {
    /// The callback Lambda (its tracing is the state machine's: one `tracing` input, so that a trace spans
    /// the callback).
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
        let retention_days = self.retention_days(&keys::CALLBACK_LOG_RETENTION, table, cb.log_retention_days.as_ref());
        let function_name = AwsName::suffixed("-callback");
        Callback {
            log_group: LogGroup {
                name: AwsName::around("/aws/lambda/", "-callback"),
                retention_days,
                retention_input: input::CALLBACK_LOG_RETENTION_DAYS,
                module_key: false,
            },
            function_name,
            memory_mb,
            timeout_seconds,
            architecture,
            reserved_concurrency,
            log_metrics: vec![spent_tokens()],
        }
    }
}

/// Late and duplicate callbacks, counted from the callback's log lines.
fn spent_tokens() -> LogMetric {
    let (field, value) = SPENT_TOKEN_LOG;
    LogMetric {
        id: LogMetricId::SpentTokens,
        filter_name: AwsName::suffixed("-spent-tokens"),
        metric: SPENT_TOKENS_METRIC,
        fields: vec![(field, vec![value])],
    }
}

/// Dead letters the callback read and could not settle, counted from its log lines, when it reads any
/// dead-letter queue.
pub(super) fn dead_letters_unsettled(queues: &[Queue]) -> Option<LogMetric> {
    let reads_dead_letters = queues.iter().any(|q| q.dead_letter_reader().is_some());
    let (event, dead_letter) = DEAD_LETTER_LOG;
    let (outcome, unsettled) = UNSETTLED_DEAD_LETTER_OUTCOMES;
    reads_dead_letters.then(|| LogMetric {
        id: LogMetricId::DeadLettersUnsettled,
        filter_name: AwsName::suffixed("-dead-letters-unsettled"),
        metric: DEAD_LETTERS_UNSETTLED_METRIC,
        fields: vec![(event, vec![dead_letter]), (outcome, unsettled.to_vec())],
    })
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
