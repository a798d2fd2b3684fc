//! `[state_machine]`: the execution timeout, logging and tracing.

use super::Checker;
use super::values::flag;
use crate::model::{AwsName, LogGroup, LogLevel, Logging, StateMachine, input};
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
