//! The checks every kind of key shares: a duration, a whole number or a number in its range, one of a
//! few strings (with "did you mean"), a log retention. Each takes its range, values and default from the
//! key's entry in the registry and reports a problem at `TABLE.KEY`.

use super::{Checker, at};
use crate::diagnostic::{did_you_mean, shown};
use crate::duration::{format_seconds, parse_seconds};
use crate::spec::Located;
use crate::spec::keys::{self, Choice, Duration, Integer, LOG_RETENTION_DAYS, Number, Retention};

impl Checker {
    /// A duration in seconds: the key's default when absent (a key without one is only passed when
    /// present); after an error, the default or the shortest allowed.
    pub(super) fn duration(&mut self, key: &Duration, table: &str, value: Option<&Located<String>>) -> u64 {
        let fallback = key.default.unwrap_or(key.min);
        let Some(v) = value else {
            return fallback;
        };
        let range = format!("{} to {}", format_seconds(key.min), format_seconds(key.max));
        match parse_seconds(&v.value) {
            Some(seconds) if (key.min..=key.max).contains(&seconds) => seconds,
            Some(_) => {
                self.error(
                    &at(table, keys::leaf(key.path)),
                    v.span.clone(),
                    format!("{} is out of range ({range})", v.value),
                    format!("use a duration from {range}"),
                );
                fallback
            }
            None => {
                self.error(
                    &at(table, keys::leaf(key.path)),
                    v.span.clone(),
                    format!("{} is not a duration", shown(&v.value)),
                    format!(
                        "write a whole number followed by s, m, h or d, such as \"90s\", \"5m\", \"1h\" or \"7d\" (allowed: {range})"
                    ),
                );
                fallback
            }
        }
    }

    /// A whole number: the key's default when absent (a key without one is only passed when present);
    /// after an error, the nearest allowed.
    pub(super) fn integer(&mut self, key: &Integer, table: &str, value: Option<&Located<i64>>) -> u32 {
        let Some(v) = value else {
            return key.default.unwrap_or(key.min);
        };
        let (min, max) = (i64::from(key.min), i64::from(key.max));
        if !(min..=max).contains(&v.value) {
            let name = keys::leaf(key.path);
            self.error(
                &at(table, name),
                v.span.clone(),
                format!("{name} {} is out of range", v.value),
                key.help(),
            );
        }
        u32::try_from(v.value.clamp(min, max)).unwrap_or(key.min)
    }

    /// A number: the key's default when absent or out of range.
    pub(super) fn number(&mut self, key: &Number, table: &str, value: Option<&Located<f64>>) -> f64 {
        let Some(v) = value else {
            return key.default;
        };
        if (key.min..=key.max).contains(&v.value) {
            return v.value;
        }
        let name = keys::leaf(key.path);
        self.error(
            &at(table, name),
            v.span.clone(),
            format!("{name} {} is out of range", v.value),
            key.help(),
        );
        key.default
    }

    /// One of the key's values: its default when absent or unknown.
    pub(super) fn choice(&mut self, key: &Choice, table: &str, value: Option<&Located<String>>) -> &'static str {
        let Some(v) = value else {
            return key.default;
        };
        let values: Vec<&'static str> = key.values.iter().map(|(value, _)| *value).collect();
        if let Some(known) = values.iter().find(|known| **known == v.value) {
            return known;
        }
        self.error(
            &at(table, keys::leaf(key.path)),
            v.span.clone(),
            format!("unknown {} {}", key.noun, shown(&v.value)),
            format!("{}{}", did_you_mean_any_case(&v.value, &values), key.help()),
        );
        key.default
    }

    /// A log group's retention in days: the key's default when absent or not one CloudWatch Logs allows.
    pub(super) fn retention_days(&mut self, key: &Retention, table: &str, value: Option<&Located<i64>>) -> u32 {
        let Some(v) = value else {
            return key.default;
        };
        if let Some(days) = LOG_RETENTION_DAYS.iter().find(|days| i64::from(**days) == v.value) {
            return *days;
        }
        self.error(
            &at(table, keys::leaf(key.path)),
            v.span.clone(),
            format!("{} is not a retention CloudWatch Logs allows", v.value),
            format!("use one of {}", keys::retention_list()),
        );
        key.default
    }
}

/// `true` only when written `true`.
pub(super) fn flag(value: Option<&Located<bool>>) -> bool {
    value.is_some_and(|v| v.value)
}

/// `did you mean "X"? ` when one of `candidates` is close to `word`, or nothing.
pub(super) fn did_you_mean_prefix<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates)
        .map(|near| format!("did you mean \"{near}\"? "))
        .unwrap_or_default()
}

/// Like [`did_you_mean_prefix`], ignoring case: `error` is close to `ERROR`.
fn did_you_mean_any_case(word: &str, candidates: &[&'static str]) -> String {
    let lowered: Vec<String> = candidates.iter().map(|c| c.to_ascii_lowercase()).collect();
    did_you_mean(&word.to_ascii_lowercase(), lowered.iter().map(String::as_str))
        .and_then(|near| lowered.iter().position(|l| l == near))
        .map(|index| format!("did you mean \"{}\"? ", candidates[index]))
        .unwrap_or_default()
}
