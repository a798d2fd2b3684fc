//! The checks every kind of key shares: a duration, a whole number or a number in its range, one of a
//! few strings (with "did you mean"), a log retention. Each takes its range, values and default from the
//! key's entry in the registry and reports a problem at `TABLE.KEY`.

use std::fmt::Display;

use super::{Checker, at};
use crate::diagnostic::{did_you_mean, shown};
use crate::duration::parse_seconds;
use crate::spec::Located;
use crate::spec::keys::{self, Choice, Duration, Integer, Key, LOG_RETENTION_DAYS, Number, Range, Retention, Written};

impl Checker {
    /// A duration in seconds: the key's default when absent (a key without one is only passed when
    /// present); after an error, the default or the shortest allowed.
    pub(super) fn duration(&mut self, key: &Key<Duration>, table: &str, value: Option<&Located<String>>) -> u64 {
        let range = &key.rule;
        let fallback = range.default.unwrap_or(range.min);
        let Some(v) = value else {
            return fallback;
        };
        match parse_seconds(&v.value) {
            Some(seconds) if range.contains(seconds) => return seconds,
            Some(_) => self.error(
                &at(table, key.name()),
                v.span.clone(),
                format!("{} is out of range ({})", v.value, spelled_out(range)),
                range.help(),
            ),
            None => self.error(
                &at(table, key.name()),
                v.span.clone(),
                format!("{} is not a duration", shown(&v.value)),
                format!(
                    "write a whole number followed by s, m, h or d, such as \"90s\", \"5m\", \"1h\" or \"7d\" (allowed: {})",
                    spelled_out(range)
                ),
            ),
        }
        fallback
    }

    /// A whole number: the key's default when absent (a key without one is only passed when present);
    /// after an error, the nearest allowed.
    pub(super) fn integer(&mut self, key: &Key<Integer>, table: &str, value: Option<&Located<i64>>) -> u32 {
        let range = &key.rule;
        let Some(v) = value else {
            return range.default.unwrap_or(range.min);
        };
        match u32::try_from(v.value) {
            Ok(n) if range.contains(n) => n,
            _ => {
                self.out_of_range(key, table, v);
                u32::try_from(v.value.clamp(i64::from(range.min), i64::from(range.max))).unwrap_or(range.min)
            }
        }
    }

    /// A number: the key's default when absent or out of range.
    pub(super) fn number(&mut self, key: &Key<Number>, table: &str, value: Option<&Located<f64>>) -> f64 {
        let range = &key.rule;
        let fallback = range.default.unwrap_or(range.min);
        match value {
            None => fallback,
            Some(v) if range.contains(v.value) => v.value,
            Some(v) => {
                self.out_of_range(key, table, v);
                fallback
            }
        }
    }

    /// `KEY VALUE is out of range`, and how to fix it.
    fn out_of_range<T: Written, V: Display>(&mut self, key: &Key<Range<T>>, table: &str, value: &Located<V>) {
        let name = key.name();
        self.error(
            &at(table, name),
            value.span.clone(),
            format!("{name} {} is out of range", value.value),
            key.rule.help(),
        );
    }

    /// One of the key's values: its default when absent or unknown.
    pub(super) fn choice(&mut self, key: &Key<Choice>, table: &str, value: Option<&Located<String>>) -> &'static str {
        let choice = &key.rule;
        let Some(v) = value else {
            return choice.default;
        };
        let values: Vec<&'static str> = choice.values.iter().map(|(value, _)| *value).collect();
        if let Some(known) = values.iter().find(|known| **known == v.value) {
            return known;
        }
        self.error(
            &at(table, key.name()),
            v.span.clone(),
            format!("unknown {} {}", choice.noun, shown(&v.value)),
            format!("{}{}", did_you_mean_any_case(&v.value, &values), choice.help()),
        );
        choice.default
    }

    /// A log group's retention in days: the key's default when absent or not one CloudWatch Logs allows.
    pub(super) fn retention_days(&mut self, key: &Key<Retention>, table: &str, value: Option<&Located<i64>>) -> u32 {
        let Some(v) = value else {
            return key.rule.default;
        };
        if let Some(days) = LOG_RETENTION_DAYS.iter().find(|days| i64::from(**days) == v.value) {
            return *days;
        }
        self.error(
            &at(table, key.name()),
            v.span.clone(),
            format!("{} is not a retention CloudWatch Logs allows", v.value),
            keys::retention_help(),
        );
        key.rule.default
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

/// A duration range as messages write it: `1s to 365d`.
fn spelled_out(range: &Duration) -> String {
    format!("{} to {}", range.min.written(), range.max.written())
}
