//! `[alarms]`: CloudWatch alarms on stuck and failing work, when present.

use super::Checker;
use crate::model::Alarms;
use crate::spec::{AlarmsSpec, keys};

/// CloudWatch alarm periods are whole minutes.
const MINUTE: u64 = 60;

impl Checker {
    pub(super) fn alarms(&mut self, a: &AlarmsSpec) -> Alarms {
        let table = "alarms";
        let period_seconds = self.duration(&keys::ALARM_PERIOD, table, a.period.as_ref());
        if !period_seconds.is_multiple_of(MINUTE)
            && let Some(p) = a.period.as_ref()
            && !self.failed(keys::ALARM_PERIOD.path)
        {
            self.error(
                "alarms.period",
                p.span.clone(),
                format!("{} is not a whole number of minutes", p.value),
                "CloudWatch alarm periods are 60s or a multiple of 60s: use \"1m\", \"5m\"...".into(),
            );
        }
        Alarms {
            period_seconds,
            evaluation_periods: self.integer(&keys::EVALUATION_PERIODS, table, a.evaluation_periods.as_ref()),
        }
    }
}
