//! `[state_machine]`: the execution timeout, logging and tracing.

use super::Checker;
use super::values::flag;
use crate::model::{AwsName, LogGroup, LogLevel, Logging, StateMachine};
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
            logging: level.map(|level| Logging {
                level,
                include_execution_data: flag(sm.include_execution_data.as_ref()),
                log_group: LogGroup {
                    name: AwsName::around("/aws/vendedlogs/states/", ""),
                    retention_days,
                    module_key: false,
                },
            }),
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

/// A `log_level` value: `None` for `OFF`, which turns logging off.
fn log_level(value: &str) -> Option<LogLevel> {
    [LogLevel::All, LogLevel::Error, LogLevel::Fatal]
        .into_iter()
        .find(|level| level.as_str() == value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_log_level_but_off_is_a_model_level() {
        for (value, _) in keys::LOG_LEVEL.rule.values {
            assert_eq!(log_level(value).is_none(), *value == "OFF", "{value}");
        }
    }
}
