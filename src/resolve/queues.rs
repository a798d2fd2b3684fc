//! `[queues.*]`: names, timeouts, encryption and dead-letter queues; every queue used by a step.

use super::Checker;
use super::values::flag;
use crate::diagnostic::shown;
use crate::model::{AwsName, CustomerKey, DeadLetter, DeadLetterReader, Encryption, Queue};
use crate::spec::keys::{Key, Text};
use crate::spec::{DeadLetterSpec, Located, QueueSpec, Spec, keys};

impl Checker {
    /// The queues, sorted by key.
    /// `callback_timeout_seconds` sets how long a dead-letter queue the callback reads hides a batch.
    pub(super) fn queues(&mut self, spec: &Spec, callback_timeout_seconds: u64) -> Vec<Queue> {
        let used = super::channels::used_entries(spec, "queues");
        let mut queues: Vec<Queue> = spec
            .queues
            .iter()
            .map(|(key, q)| {
                let used = used.as_ref().is_none_or(|u| u.contains(key.value.as_str()));
                self.queue(key, q, used, callback_timeout_seconds)
            })
            .collect();
        queues.sort_by(|a, b| a.key.cmp(&b.key));
        queues
    }

    fn queue(&mut self, key: &Located<String>, q: &QueueSpec, used: bool, callback_timeout_seconds: u64) -> Queue {
        let table = format!("queues.{}", key.value);
        self.resource_name(&table, Some(key));
        if !used {
            self.unused_entry("queues", key);
        }
        let fifo = flag(q.fifo.as_ref());
        let suffix = if fifo { ".fifo" } else { "" };
        let visibility_timeout_seconds =
            self.duration(&keys::VISIBILITY_TIMEOUT, &table, q.visibility_timeout.as_ref());
        let retention_seconds = self.duration(&keys::QUEUE_RETENTION, &table, q.retention.as_ref());
        let receive_wait_seconds = self.duration(&keys::RECEIVE_WAIT, &table, q.receive_wait.as_ref());
        let encryption = self.queue_encryption(&table, q.encryption.as_ref());
        let dead_letter = self
            .dead_letter(&table, q.dead_letter.as_ref())
            .map(|(max_receives, fail_execution)| DeadLetter {
                name: AwsName::suffixed(format!("-{}-dlq{suffix}", key.value)),
                max_receives,
                // The longest SQS allows: a standard queue's dead-lettered message keeps its first enqueue
                // time (so less could expire it on arrival); a FIFO one's starts again, and stays for review.
                retention_seconds: keys::QUEUE_RETENTION.rule.max,
                fail_execution: fail_execution.then(|| dead_letter_reader(callback_timeout_seconds)),
            });
        Queue {
            key: key.value.clone(),
            name: AwsName::suffixed(format!("-{}{suffix}", key.value)),
            fifo,
            visibility_timeout_seconds,
            retention_seconds,
            receive_wait_seconds,
            encryption,
            dead_letter,
        }
    }

    fn queue_encryption(&mut self, table: &str, value: Option<&Located<String>>) -> Encryption {
        match self.encryption(&keys::QUEUE_ENCRYPTION, "SSE-SQS", table, value) {
            None => Encryption::ServiceManaged,
            Some(CustomerKey::Module) => Encryption::ModuleKey,
            Some(CustomerKey::Arn(arn)) => Encryption::KeyArn(arn),
            Some(CustomerKey::Alias(alias)) => Encryption::KeyAlias(alias),
        }
    }

    /// An `encryption` key: its default (`sqs`, `aws`: the service's own, `own` in a message) is `None`;
    /// otherwise `kms` (the module's key), a key ARN or an alias. After an error, `None`.
    pub(super) fn encryption(
        &mut self,
        key: &Key<Text>,
        own: &str,
        table: &str,
        value: Option<&Located<String>>,
    ) -> Option<CustomerKey> {
        let default = key.rule.default.unwrap_or_default();
        match value.map_or(default, |v| v.value.as_str()) {
            text if text == default => None,
            "kms" => Some(CustomerKey::Module),
            arn if is_kms_key_arn(arn) => Some(CustomerKey::Arn(arn.to_string())),
            alias if is_kms_alias(alias) => Some(CustomerKey::Alias(alias.to_string())),
            other => {
                if let Some(v) = value {
                    self.error(
                        &format!("{table}.{}", key.name()),
                        v.span.clone(),
                        format!("{} is not a valid encryption setting", shown(other)),
                        format!(
                            "use {default:?} ({own}), \"kms\" (a key this module creates), a key ARN ({}) or an \
                             alias ({})",
                            keys::KMS_KEY_ARN_FORM,
                            keys::KMS_ALIAS_FORM
                        ),
                    );
                }
                None
            }
        }
    }

    /// `None` when dead-lettering is off; otherwise `max_receives` and `fail_execution`.
    fn dead_letter(&mut self, table: &str, value: Option<&Located<DeadLetterSpec>>) -> Option<(u32, bool)> {
        let (max_receives, fail_execution) = match value.map(|v| &v.value) {
            Some(DeadLetterSpec::Off) => return None,
            Some(DeadLetterSpec::On {
                max_receives,
                fail_execution,
            }) => (max_receives.as_ref(), fail_execution.as_ref()),
            None => (None, None),
        };
        let max_receives = self.integer(&keys::MAX_RECEIVES, &format!("{table}.dead_letter"), max_receives);
        let fail_execution = fail_execution.map_or(keys::FAIL_EXECUTION.rule, |v| v.value);
        Some((max_receives, fail_execution))
    }
}

/// Records per invocation of the callback from a dead-letter queue: SQS's default, and the most a FIFO
/// queue (or a standard one without a batching window) allows.
const DEAD_LETTER_BATCH_SIZE: u32 = 10;

/// The callback reads a dead-letter queue whose visibility timeout is six times the function's timeout,
/// as AWS recommends for an SQS event source (AWS refuses a mapping whose queue hides a batch for less
/// than the function's timeout).
const DEAD_LETTER_CALLBACK_TIMEOUTS: u64 = 6;

/// The most concurrent invocations a dead-letter queue's poller may make: the least SQS allows (2), so that
/// a burst of dead letters leaves the callback's concurrency (reserved, or the account's) to workers, whose
/// throttled callbacks would bring more redeliveries and more dead letters.
const DEAD_LETTER_MAXIMUM_CONCURRENCY: u32 = 2;

/// How the callback reads a dead-letter queue. The callback's timeout is at most 15 minutes (the spec's and
/// its input's rule), so six of them fit SQS's 12 hours.
pub(super) fn dead_letter_reader(callback_timeout_seconds: u64) -> DeadLetterReader {
    const _: () =
        assert!(DEAD_LETTER_CALLBACK_TIMEOUTS * keys::CALLBACK_TIMEOUT.rule.max <= keys::VISIBILITY_TIMEOUT.rule.max);
    DeadLetterReader {
        batch_size: DEAD_LETTER_BATCH_SIZE,
        callback_timeouts: DEAD_LETTER_CALLBACK_TIMEOUTS,
        visibility_timeout_seconds: DEAD_LETTER_CALLBACK_TIMEOUTS * callback_timeout_seconds,
        maximum_concurrency: DEAD_LETTER_MAXIMUM_CONCURRENCY,
    }
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`: what [`keys::KMS_KEY_ARN_PATTERN`] matches.
fn is_kms_key_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let id = resource.strip_prefix("key/").unwrap_or("");
    *arn == "arn"
        && partition.starts_with("aws")
        && partition.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && *service == "kms"
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `alias/NAME`, as KMS allows alias names: what [`keys::KMS_ALIAS_PATTERN`] matches, up to
/// [`keys::MAX_KMS_ALIAS_CHARS`].
fn is_kms_alias(text: &str) -> bool {
    text.strip_prefix("alias/").is_some_and(|name| {
        !name.is_empty()
            && text.len() <= keys::MAX_KMS_ALIAS_CHARS
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kms_arns_and_aliases() {
        assert!(is_kms_key_arn(
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(is_kms_key_arn(
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1"
        ));
        assert!(!is_kms_key_arn("arn:aws:kms:us-east-1:123456789012:alias/x"));
        assert!(!is_kms_key_arn("arn:aws:sqs:us-east-1:123456789012:key/x"));
        assert!(is_kms_alias("alias/my-key"));
        assert!(!is_kms_alias("alias/"));
        assert!(!is_kms_alias("my-key"));
    }
}
