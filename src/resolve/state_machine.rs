//! `[state_machine]`: the execution timeout, logging and tracing.

use super::Checker;
use super::values::flag;
use crate::limits;
use crate::model::{
    AwsName, BUSINESS_FAILURES_METRIC, EXECUTION_ERROR_FIELD, EXECUTION_FAILED_LOG, LogGroup, LogLevel, LogMetric,
    LogMetricId, Logging, Model, StateMachine, input,
};
use crate::spec::{Spec, keys};

impl Checker {
    pub(super) fn state_machine(&mut self, spec: &Spec) -> StateMachine {
        let sm = &spec.state_machine;
        let table = "state_machine";
        let timeout_seconds = self.duration(&keys::STATE_MACHINE_TIMEOUT, table, sm.timeout.as_ref());
        let level = log_level(self.choice(&keys::LOG_LEVEL, table, sm.log_level.as_ref()));
        let retention_days = self.retention_days(
            &keys::STATE_MACHINE_LOG_RETENTION,
            table,
            sm.log_retention_days.as_ref(),
        );
        StateMachine {
            name: AwsName::suffixed(""),
            timeout_seconds,
            logging: Logging {
                level,
                include_execution_data: flag(sm.include_execution_data.as_ref()),
                log_group: LogGroup {
                    name: AwsName::around("/aws/vendedlogs/states/", ""),
                    retention_days,
                    retention_input: input::STATE_MACHINE_LOG_RETENTION_DAYS,
                    module_key: false,
                },
            },
            tracing: flag(sm.tracing.as_ref()),
            encryption: self.encryption(
                &keys::STATE_MACHINE_ENCRYPTION,
                "an AWS-owned key",
                table,
                sm.encryption.as_ref(),
            ),
        }
    }
}

/// A `log_level` value, one the registry lists (an unknown one was reported; it reads as the default).
fn log_level(value: &str) -> LogLevel {
    [LogLevel::Off, LogLevel::All, LogLevel::Error, LogLevel::Fatal]
        .into_iter()
        .find(|level| level.as_str() == value)
        .unwrap_or(LogLevel::Error)
}

/// The metric filters that count the executions the spec ends in a Fail state, from the execution log: the
/// declared errors a pattern can match exactly, packed in order into as few filters as keep each pattern within
/// [`limits::METRIC_FILTER_PATTERN`] (one error, at its 256 characters, always fits). The first filter is
/// `{name}-business-failures`, the next `{name}-business-failures-2`...; all count one metric.
pub(super) fn business_failures(model: &Model) -> Vec<LogMetric> {
    let errors = model.matched_business_errors();
    let mut parts: Vec<LogMetric> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for error in errors {
        let mut candidate = current.clone();
        candidate.push(error.to_string());
        if current.is_empty() || fits(&business_filter(parts.len() + 1, candidate.clone())) {
            current = candidate;
        } else {
            parts.push(business_filter(parts.len() + 1, std::mem::take(&mut current)));
            current.push(error.to_string());
        }
    }
    if !current.is_empty() {
        parts.push(business_filter(parts.len() + 1, current));
    }
    parts
}

fn fits(metric: &LogMetric) -> bool {
    limits::METRIC_FILTER_PATTERN.allows(metric.pattern().chars().count() as u64)
}

/// Part `part` (from 1) of the business-failure filters, matching `errors`.
fn business_filter(part: usize, errors: Vec<String>) -> LogMetric {
    let suffix = if part == 1 {
        "-business-failures".to_string()
    } else {
        format!("-business-failures-{part}")
    };
    LogMetric {
        id: LogMetricId::BusinessFailures { part },
        filter_name: AwsName::suffixed(suffix),
        metric: BUSINESS_FAILURES_METRIC,
        fields: vec![
            (EXECUTION_FAILED_LOG.0, vec![EXECUTION_FAILED_LOG.1.to_string()]),
            (EXECUTION_ERROR_FIELD, errors),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_log_level_is_the_model_level_of_that_name() {
        for (value, _) in keys::LOG_LEVEL.rule.values {
            assert_eq!(log_level(value).as_str(), *value);
        }
        assert_eq!(log_level(keys::LOG_LEVEL.rule.default), LogLevel::Error);
    }
}
