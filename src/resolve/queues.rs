//! `[queues.*]`: names, timeouts, encryption and dead-letter queues; every queue used by a step.

use std::collections::BTreeSet;

use super::Checker;
use super::values::flag;
use crate::diagnostic::shown;
use crate::model::{AwsName, CustomerKey, DeadLetter, Encryption, Queue};
use crate::spec::keys::{Key, Text};
use crate::spec::{DeadLetterSpec, Located, QueueSpec, Spec, StepSpec, keys};

impl Checker {
    /// The queues, sorted by key.
    pub(super) fn queues(&mut self, spec: &Spec) -> Vec<Queue> {
        let steps: Vec<&StepSpec> = spec.steps.iter().flat_map(|s| s.value.iter()).collect();
        let used: BTreeSet<&str> = steps
            .iter()
            .filter_map(|s| s.queue.as_ref().map(|q| q.value.as_str()))
            .collect();
        let defined: BTreeSet<&str> = spec.queues.iter().map(|(key, _)| key.value.as_str()).collect();
        // An unused queue is only worth reporting once every step names a queue that exists:
        // otherwise it is the echo of a typo or a missing key, reported on the step itself.
        let steps_resolve = !steps.is_empty()
            && steps
                .iter()
                .all(|s| s.queue.as_ref().is_some_and(|q| defined.contains(q.value.as_str())));
        let mut queues: Vec<Queue> = spec
            .queues
            .iter()
            .map(|(key, q)| self.queue(key, q, !steps_resolve || used.contains(key.value.as_str())))
            .collect();
        queues.sort_by(|a, b| a.key.cmp(&b.key));
        queues
    }

    fn queue(&mut self, key: &Located<String>, q: &QueueSpec, used: bool) -> Queue {
        let table = format!("queues.{}", key.value);
        self.resource_name(&table, Some(key));
        if !used {
            self.unused_queue(&table, key);
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
            .map(|max_receives| DeadLetter {
                name: AwsName::suffixed(format!("-{}-dlq{suffix}", key.value)),
                max_receives,
                // The longest SQS allows: a standard queue's dead-lettered message keeps its first enqueue
                // time (so less could expire it on arrival); a FIFO one's starts again, and stays for review.
                retention_seconds: keys::QUEUE_RETENTION.rule.max,
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

    fn unused_queue(&mut self, table: &str, key: &Located<String>) {
        self.error(
            table,
            key.span.clone(),
            format!("queue `{}` is not used by any step", key.value),
            format!(
                "set `queue = \"{}\"` on a [[steps]] table, or delete [queues.{}]",
                key.value, key.value
            ),
        );
    }

    fn queue_encryption(&mut self, table: &str, value: Option<&Located<String>>) -> Encryption {
        match self.encryption(&keys::QUEUE_ENCRYPTION, "SSE-SQS", table, value) {
            None => Encryption::SqsManaged,
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

    /// `None` when dead-lettering is off; otherwise `max_receives`.
    fn dead_letter(&mut self, table: &str, value: Option<&Located<DeadLetterSpec>>) -> Option<u32> {
        let max_receives = match value.map(|v| &v.value) {
            Some(DeadLetterSpec::Off) => return None,
            Some(DeadLetterSpec::On { max_receives }) => max_receives.as_ref(),
            None => None,
        };
        Some(self.integer(&keys::MAX_RECEIVES, &format!("{table}.dead_letter"), max_receives))
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
