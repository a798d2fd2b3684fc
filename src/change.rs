//! The change report: which stateful resources of the module a render replaces or deletes.
//!
//! A render compares the new model's stateful resources with those of the previous render of the same folder,
//! which it keeps in a record beside the manifest ([`RECORD`], one of sfngen's `.sfngen-` files: never a
//! module file). A resource is stateful when replacing or deleting it loses something no apply brings back:
//! a queue's messages (each the only copy of a waiting task's token), a dead-letter queue's dead letters, the
//! state machine's running executions, a log group's logs, what the module's KMS key encrypts.
//!
//! Terraform replaces a resource when an attribute the provider marks `ForceNew` changes, and deletes one the
//! configuration no longer declares. For each stateful resource the record keeps its Terraform address in the
//! module and the values of exactly those attributes that the module sets and that force a replacement (read
//! from hashicorp/aws's Go source; each kind below cites its schema). Everything else the module sets on them
//! (retention, encryption, logging, tracing, the definition) is updated in place. Terraform's own plan is the
//! oracle: `tests/e2e/test_change_report.py` applies modules to the emulator, makes each kind of spec edit and
//! checks that the stateful resources `terraform plan` replaces or deletes are exactly the ones reported.
//!
//! What the record cannot know: the module's inputs as the caller sets them. Names follow the `name` input; the
//! record holds them with the spec's value (the input's default). A caller that sets `name` sees other plans, and
//! the report says so when that default is what changed. (The execution log group exists at every log level:
//! `log_level` decides no stateful resource.)

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::emit::terraform::address;
use crate::generated::GeneratedFile;
use crate::model::{BusName, Model, input};

/// The record's name in the output folder (a bookkeeping name: written with the module, never listed in the
/// manifest, never counted).
pub const RECORD: &str = ".sfngen-state";

/// The record format this sfngen writes and reads.
const RECORD_VERSION: u32 = 1;

/// What a stateful resource holds: what replacing or deleting it loses, and the safe way to do it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Holds {
    /// A callback queue: messages, each holding a waiting task's token.
    Messages,
    /// A dead-letter queue: messages no worker could handle, tokens included.
    DeadLetters,
    /// The state machine: its executions.
    Executions,
    /// A log group: its logs.
    Logs,
    /// The module's KMS key: whatever it encrypts.
    Encrypted,
    /// A custom EventBridge bus: the events it is delivering, each holding a waiting task's token.
    Events,
    /// An SNS topic: its subscriptions, and the publishes of the steps on it.
    Subscriptions,
    /// The approvals queue: approval requests not yet notified, each holding a waiting task's token.
    ApprovalRequests,
    /// The approvals table: the tokens of executions waiting for a person, under their links' ids.
    Approvals,
    /// The HMAC key that signs approval links: every link in flight.
    LinkKey,
    /// The endpoint's signing secret: the key its senders sign with.
    SigningKey,
}

impl Holds {
    /// What a replacement or deletion loses.
    fn loses(self) -> &'static str {
        match self {
            Holds::Messages => {
                "its messages, each the only copy of a waiting task's token: those executions wait until their \
                 step times out"
            }
            Holds::DeadLetters => {
                "its dead letters, tasks no worker could handle, each with its token: nobody can settle those \
                 tasks any more"
            }
            // DeleteStateMachine: "A state machine is deleted only when all its executions are completed. On the
            // next state transition, the state machine's executions are terminated."
            // https://docs.aws.amazon.com/step-functions/latest/apireference/API_DeleteStateMachine.html
            Holds::Executions => "its running executions, terminated at their next state transition, and their history",
            Holds::Logs => "its logs",
            // DeleteTopic deletes the topic's subscriptions; a Publish to it meanwhile fails (NotFound), and Step
            // Functions fails the task with SNS.NotFoundException.
            // https://docs.aws.amazon.com/sns/latest/api/API_DeleteTopic.html
            Holds::Subscriptions => {
                "its subscriptions (the module creates its declared ones again; those added from topic_arns outside it are \
                 gone until their own apply), and a step that publishes while it is replaced fails with SNS.NotFoundException"
            }
            // ScheduleKeyDeletion: after the waiting period (the module sets 30 days) "AWS KMS deletes the KMS
            // key ... and all AWS KMS data associated with it", and data encrypted under it is unrecoverable.
            // https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html
            Holds::Encrypted => {
                "what it encrypts: 30 days after the apply AWS deletes the key, and no message, execution data or \
                 log encrypted with it can be read again"
            }
            // DeleteEventBus: the bus goes with its rules; events still being delivered or retried (a target's
            // retry policy keeps one up to 24 hours by default) are not delivered.
            // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
            Holds::Events => {
                "the task events it is still delivering or retrying, and every rule and target on it: those tasks' \
                 workers never get them, and their executions wait until their step times out"
            }
            Holds::ApprovalRequests => {
                "the approval requests not yet notified, each the only copy of a waiting task's token: nobody gets a \
                 link, and those executions wait until their step times out"
            }
            // DeleteTable deletes the items; point-in-time recovery restores into a new table only.
            // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html
            Holds::Approvals => {
                "every waiting approval (the task tokens, under their links' ids) and the record of past decisions: \
                 every link in flight stops working, and those executions wait until their step times out"
            }
            Holds::LinkKey => {
                "the key every link in flight is signed with: 30 days after the apply AWS deletes it, and from the \
                 replacement on no link sent before verifies (the page refuses it as not valid)"
            }
            Holds::SigningKey => {
                "the signing key its senders use (a new secret starts without a value): the endpoint refuses every \
                 request until a new key is put and every sender has it"
            }
        }
    }

    /// The safe way to make the change.
    fn safe_way(self) -> &'static str {
        match self {
            // Terraform destroys the old queue and creates the new one; nothing moves messages between queues.
            Holds::Messages => {
                "drain it first: start no executions that reach its steps, let the running ones finish and the \
                 workers empty it, then apply"
            }
            Holds::DeadLetters => {
                "empty it first: redrive its messages to their queue for the workers (or let the dead-letter \
                 function fail their executions), then apply"
            }
            Holds::Executions => {
                "stop executions first: start none, wait until none is RUNNING (or stop them), then apply"
            }
            // A log group removed from the state stays in AWS: `terraform state rm` keeps it, outside Terraform.
            Holds::Logs => {
                "export what you need first (CreateExportTask), or keep the group: apply keep_log_groups_on_destroy \
                 = true before this change (the group then stays in AWS, outside Terraform)"
            }
            Holds::Encrypted => {
                "drain the queues encrypted with it first; within the 30 days `aws kms cancel-key-deletion` brings \
                 it back"
            }
            Holds::Events => {
                "stop sending first: start no executions that reach its steps, let the running ones finish, then \
                 apply, and add your targets to the new bus's rule (outputs bus_names, bus_rule_names)"
            }
            Holds::Subscriptions => {
                "start no executions that reach its steps while you apply, then apply again every root that subscribes \
                 to it from topic_arns (its ARN changes)"
            }
            Holds::ApprovalRequests => {
                "start no executions that reach an approval step, let the notifier empty the queue (its \
                 ApproximateNumberOfMessages at 0), then apply"
            }
            Holds::Approvals | Holds::LinkKey => {
                "let every waiting approval be decided or expire first (start no executions that reach an approval \
                 step; the table's items with status pending are the ones waiting), then apply"
            }
            Holds::SigningKey => {
                "apply, put the key in the new secret (aws secretsmanager put-secret-value) and give it to every \
                 sender; answers sent meanwhile are refused, and senders retry"
            }
        }
    }
}

/// A stateful resource of the module, as the record keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stateful {
    /// What it holds.
    pub holds: Holds,
    /// The attributes the module sets whose change makes the provider replace it, with their values when the
    /// module's inputs keep their defaults (`name` is the AWS name, with the spec's `name`).
    pub replaced_when: BTreeMap<String, String>,
}

/// The stateful resources of a render, by Terraform address in the module, and the spec's values of the inputs
/// they follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// The record format.
    pub version: u32,
    /// The spec's `name`: the `name` input's default.
    pub name: String,
    /// The spec's log level: the `log_level` input's default. Kept for the record's format: since the execution
    /// log group exists at every level, no comparison reads it.
    pub log_level: String,
    /// The stateful resources, by address.
    pub resources: BTreeMap<String, Stateful>,
}

fn attributes<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A queue: `name`, `name_prefix` and `fifo_queue` are ForceNew (hashicorp/aws
/// internal/service/sqs/queue.go, `queueSchema`); the module sets `name` and, for a FIFO queue, `fifo_queue`.
fn queue(holds: Holds, name: String, fifo: bool) -> Stateful {
    Stateful {
        holds,
        replaced_when: attributes([("name", name), ("fifo_queue", fifo.to_string())]),
    }
}

/// A topic: `name`, `name_prefix` and `fifo_topic` are ForceNew (hashicorp/aws internal/service/sns/topic.go,
/// `topicSchema`); the module sets `name` and, for a FIFO topic, `fifo_topic`.
fn topic(name: String, fifo: bool) -> Stateful {
    Stateful {
        holds: Holds::Subscriptions,
        replaced_when: attributes([("name", name), ("fifo_topic", fifo.to_string())]),
    }
}

/// A log group: `name`, `name_prefix` and `log_group_class` are ForceNew (hashicorp/aws
/// internal/service/logs/group.go); the module sets `name` only (`kms_key_id` and `retention_in_days` are updated
/// in place: AssociateKmsKey, PutRetentionPolicy).
fn log_group(name: String) -> Stateful {
    Stateful {
        holds: Holds::Logs,
        replaced_when: attributes([("name", name)]),
    }
}

/// The approvals' and the endpoint's stateful resources: the approvals queue and its dead-letter queue, the table, the
/// link key, the endpoint's signing secret (when the module creates it).
fn approvals(model: &Model, resources: &mut BTreeMap<String, Stateful>) {
    let prefix = model.name.as_str();
    if let Some(approvals) = &model.approvals {
        resources.insert(
            address::approvals_queue().to_string(),
            queue(Holds::ApprovalRequests, approvals.queue.with(prefix), false),
        );
        resources.insert(
            address::approvals_dead_letter_queue().to_string(),
            queue(Holds::DeadLetters, approvals.dead_letter.with(prefix), false),
        );
        // `name` and `hash_key` are ForceNew (hashicorp/aws internal/service/dynamodb/table.go); the module sets both.
        resources.insert(
            address::approvals_table().to_string(),
            Stateful {
                holds: Holds::Approvals,
                replaced_when: attributes([
                    ("name", approvals.table.with(prefix)),
                    ("hash_key", crate::model::APPROVAL_HASH_KEY.to_string()),
                ]),
            },
        );
        // ForceNew: customer_master_key_spec and key_usage (internal/service/kms/key.go), both fixed by the module.
        resources.insert(
            address::approval_key().to_string(),
            Stateful {
                holds: Holds::LinkKey,
                replaced_when: attributes([
                    ("customer_master_key_spec", "HMAC_256".to_string()),
                    ("key_usage", "GENERATE_VERIFY_MAC".to_string()),
                ]),
            },
        );
    }
    if let Some(crate::model::Endpoint {
        auth:
            crate::model::EndpointAuth::Hmac {
                secret: crate::model::EndpointSecret::Created(name),
                ..
            },
        ..
    }) = &model.endpoint
    {
        // `name` and `name_prefix` are ForceNew (internal/service/secretsmanager/secret.go); the module sets `name`.
        resources.insert(
            address::endpoint_secret().to_string(),
            Stateful {
                holds: Holds::SigningKey,
                replaced_when: attributes([("name", name.with(prefix))]),
            },
        );
    }
}

impl Record {
    /// The stateful resources of `model`'s module.
    pub fn of(model: &Model) -> Record {
        let prefix = model.name.as_str();
        let mut resources = BTreeMap::new();
        for q in &model.queues {
            resources.insert(
                address::queue(&q.key).to_string(),
                queue(Holds::Messages, q.name.with(prefix), q.fifo),
            );
            if let Some(dlq) = &q.dead_letter {
                resources.insert(
                    address::dead_letter_queue(&q.key).to_string(),
                    queue(Holds::DeadLetters, dlq.name.with(prefix), q.fifo),
                );
            }
        }
        for bus in &model.buses {
            // `name` and `event_source_name` are ForceNew (hashicorp/aws internal/service/events/bus.go); the module
            // sets `name`. An existing bus (the account's `default`) is not the module's: never replaced nor deleted.
            if let BusName::Custom(name) = &bus.bus {
                resources.insert(
                    address::bus(&bus.key).to_string(),
                    Stateful {
                        holds: Holds::Events,
                        replaced_when: attributes([("name", name.with(prefix))]),
                    },
                );
            }
            if let Some(dlq) = &bus.dead_letter {
                resources.insert(
                    address::bus_dead_letter_queue(&bus.key).to_string(),
                    queue(Holds::DeadLetters, dlq.name.with(prefix), false),
                );
            }
        }
        for t in &model.topics {
            resources.insert(address::topic(&t.key).to_string(), topic(t.name.with(prefix), t.fifo));
            if let Some(dlq) = &t.dead_letter {
                // A queue: `fifo_queue` follows the topic's.
                resources.insert(
                    address::topic_dead_letter_queue(&t.key).to_string(),
                    queue(Holds::DeadLetters, dlq.name.with(prefix), t.fifo),
                );
            }
        }
        // `name`, `name_prefix` and `type` are ForceNew (hashicorp/aws internal/service/sfn/state_machine.go);
        // the module sets `name` and `type` (always STANDARD). Encryption, logging, tracing and the definition
        // are updated in place (UpdateStateMachine).
        resources.insert(
            address::state_machine().to_string(),
            Stateful {
                holds: Holds::Executions,
                replaced_when: attributes([
                    ("name", model.state_machine.name.with(prefix)),
                    ("type", "STANDARD".to_string()),
                ]),
            },
        );
        let logging = &model.state_machine.logging;
        // At every log level (no `count`): `log_level = "OFF"` changes only the state machine's logging.
        resources.insert(
            address::state_machine_log_group().to_string(),
            log_group(logging.log_group.name.with(prefix)),
        );
        for function in &model.functions {
            resources.insert(
                address::function_log_group(function.id).to_string(),
                log_group(function.log_group.name.with(prefix)),
            );
        }
        if model.module_key.is_some() {
            // ForceNew: custom_key_store_id, customer_master_key_spec, key_usage, multi_region, xks_key_id
            // (hashicorp/aws internal/service/kms/key.go), none of which the module sets: the key is never
            // replaced, only deleted when no queue, state machine or log group asks for it any more. Its alias
            // (`name` ForceNew, internal/service/kms/alias.go) holds nothing: replacing it loses no data.
            resources.insert(
                address::module_key().to_string(),
                Stateful {
                    holds: Holds::Encrypted,
                    replaced_when: BTreeMap::new(),
                },
            );
        }
        approvals(model, &mut resources);
        Record {
            version: RECORD_VERSION,
            name: model.name.clone(),
            log_level: logging.level.as_str().to_string(),
            resources,
        }
    }

    /// The record as the render writes it beside the manifest (deterministic: sorted, pretty JSON).
    pub fn file(&self) -> GeneratedFile {
        let mut text = serde_json::to_string_pretty(self).expect("a record always serializes");
        text.push('\n');
        GeneratedFile::text(RECORD, text)
    }

    /// Reads a record's bytes; why not when they are no record this sfngen can read. A record written while the
    /// execution log group was counted on the log level names it `...state_machine[0]`: read as the address it
    /// has now, which the module's `moved` block gives it in the state too (not a deletion and a creation).
    pub fn parse(bytes: &[u8]) -> Result<Record, String> {
        let mut record: Record =
            serde_json::from_slice(bytes).map_err(|e| format!("not a record sfngen can read ({e})"))?;
        if record.version != RECORD_VERSION {
            return Err(format!(
                "a record of format {}, which this sfngen (format {RECORD_VERSION}) does not read",
                record.version
            ));
        }
        let group = address::state_machine_log_group().to_string();
        if let Some(counted) = record.resources.remove(&format!("{group}[0]")) {
            record.resources.insert(group, counted);
        }
        Ok(record)
    }
}

/// How a stateful resource goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loss {
    /// Replaced: these attributes change (name, before, after).
    Replaced(Vec<(String, String, String)>),
    /// Deleted: the module no longer declares it.
    Deleted,
}

/// One stateful resource a render replaces or deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its address in the module.
    pub address: String,
    /// What it holds.
    pub holds: Holds,
    /// Replaced or deleted.
    pub loss: Loss,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.loss {
            Loss::Replaced(attributes) => {
                let changes: Vec<String> = attributes
                    .iter()
                    .map(|(name, before, after)| format!("{name} {before} -> {after}"))
                    .collect();
                write!(f, "replaces {} ({})", self.address, changes.join(", "))?;
            }
            Loss::Deleted => write!(f, "deletes {}", self.address)?,
        }
        write!(f, ": loses {}; safe way: {}", self.holds.loses(), self.holds.safe_way())
    }
}

/// What a render changes of the stateful resources the previous render of its folder recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per stateful resource replaced or deleted, by address.
    pub changes: Vec<Change>,
    /// Inputs whose default (the spec's value) changed, with the old and new values: the changes that follow
    /// from them happen only where the caller leaves the input unset.
    pub defaults: Vec<(&'static str, String, String)>,
}

impl Report {
    /// Whether the render replaces or deletes nothing stateful.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The report's lines: one per resource, then a note per input default that changed.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.changes.iter().map(ToString::to_string).collect();
        if self.is_empty() {
            return lines;
        }
        for (input, before, after) in &self.defaults {
            lines.push(format!(
                "note: the module's {input} input now defaults to {after:?} (was {before:?}): the lines above that \
                 follow from it hold where the module is called without {input}; a caller that sets {input} keeps \
                 its own value, and sfngen cannot see callers"
            ));
        }
        lines
    }
}

/// The stateful resources `new` replaces or deletes of those `old` recorded, by address.
pub fn compare(old: &Record, new: &Record) -> Report {
    let mut changes = Vec::new();
    for (address, was) in &old.resources {
        let loss = match new.resources.get(address) {
            None => Loss::Deleted,
            Some(now) => {
                let replaced: Vec<(String, String, String)> = was
                    .replaced_when
                    .iter()
                    .filter_map(|(name, before)| {
                        let after = now.replaced_when.get(name)?;
                        (after != before).then(|| (name.clone(), before.clone(), after.clone()))
                    })
                    .collect();
                if replaced.is_empty() {
                    continue;
                }
                Loss::Replaced(replaced)
            }
        };
        changes.push(Change {
            address: address.clone(),
            holds: was.holds,
            loss,
        });
    }
    let mut defaults = Vec::new();
    if old.name != new.name {
        defaults.push((input::NAME, old.name.clone(), new.name.clone()));
    }
    Report { changes, defaults }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(spec: &str) -> Record {
        Record::of(&crate::load_model(spec, "sfngen.toml").expect("a valid spec"))
    }

    const BASE: &str = "name = \"demo\"\n\n[[steps]]\nname = \"Work\"\nqueue = \"jobs\"\n\n[queues.jobs]\n";

    fn addresses(report: &Report) -> Vec<String> {
        report
            .changes
            .iter()
            .map(|c| {
                let verb = if c.loss == Loss::Deleted { "delete" } else { "replace" };
                format!("{verb} {}", c.address)
            })
            .collect()
    }

    #[test]
    fn a_record_lists_every_stateful_resource_with_what_forces_its_replacement() {
        let found = record(BASE);
        let listed: Vec<&str> = found.resources.keys().map(String::as_str).collect();
        assert_eq!(
            listed,
            [
                "aws_cloudwatch_log_group.callback",
                "aws_cloudwatch_log_group.dead_letters",
                "aws_cloudwatch_log_group.state_machine",
                "aws_sfn_state_machine.this",
                "aws_sqs_queue.jobs",
                "aws_sqs_queue.jobs_dlq",
            ]
        );
        assert_eq!(found.resources["aws_sqs_queue.jobs"].replaced_when["name"], "demo-jobs");
        assert_eq!(
            found.resources["aws_sqs_queue.jobs"].replaced_when["fifo_queue"],
            "false"
        );
    }

    #[test]
    fn approvals_and_the_endpoint_secret_are_data_holding_and_a_step_turning_approval_replaces_nothing() {
        let approval = BASE.replace(
            "queue = \"jobs\"\n",
            "queue = \"jobs\"\napproval = true\ntimeout = \"1d\"\n",
        );
        assert_ne!(approval, BASE);
        let with = format!("{approval}\n[callback]\nendpoint = \"hmac\"\n");
        let found = record(&with);
        for (address, holds) in [
            ("aws_sqs_queue._approvals", Holds::ApprovalRequests),
            ("aws_sqs_queue._approvals_dlq", Holds::DeadLetters),
            ("aws_dynamodb_table.approvals", Holds::Approvals),
            ("aws_kms_key.approval_links", Holds::LinkKey),
            ("aws_secretsmanager_secret.endpoint_hmac", Holds::SigningKey),
        ] {
            assert_eq!(found.resources[address].holds, holds, "{address}");
        }
        assert_eq!(
            found.resources["aws_dynamodb_table.approvals"].replaced_when["name"],
            "demo-approvals"
        );
        // The last approval step going deletes the approvals' resources, each line saying what goes.
        let report = compare(&found, &record(BASE));
        assert_eq!(
            addresses(&report),
            [
                "delete aws_cloudwatch_log_group.approval_notify",
                "delete aws_cloudwatch_log_group.approval_page",
                "delete aws_cloudwatch_log_group.endpoint",
                "delete aws_dynamodb_table.approvals",
                "delete aws_kms_key.approval_links",
                "delete aws_secretsmanager_secret.endpoint_hmac",
                "delete aws_sqs_queue._approvals",
                "delete aws_sqs_queue._approvals_dlq",
            ]
        );
        assert!(
            report
                .lines()
                .iter()
                .any(|l| l.contains("every link in flight stops working")),
            "{:#?}",
            report.lines()
        );
        // A second approval step, or a renamed one, replaces nothing.
        assert_eq!(
            compare(&found, &record(&with.replace("name = \"Work\"", "name = \"Check\""))).changes,
            []
        );
    }

    #[test]
    fn the_record_reads_back_as_it_was_written() {
        let written = record(BASE);
        let file = written.file();
        assert_eq!(Record::parse(&file.contents), Ok(written));
        assert!(Record::parse(b"{}").is_err());
        let future = String::from_utf8(file.contents.clone())
            .unwrap()
            .replace("\"version\": 1", "\"version\": 9");
        assert!(Record::parse(future.as_bytes()).unwrap_err().contains("format 9"));
    }

    #[test]
    fn a_step_becoming_a_fan_out_map_replaces_nothing() {
        // Only the definition changes, which Terraform updates in place: no stateful resource is replaced.
        let fan_out = BASE.replace(
            "queue = \"jobs\"\n",
            "queue = \"jobs\"\nfor_each = \"$.items\"\nmax_concurrency = 4\ntolerated_failure_percentage = 100\n",
        );
        assert_ne!(fan_out, BASE);
        assert_eq!(compare(&record(BASE), &record(&fan_out)).changes, []);
        assert_eq!(compare(&record(&fan_out), &record(BASE)).changes, []);
    }

    #[test]
    fn turning_a_queue_fifo_replaces_it_and_its_dead_letter_queue() {
        let report = compare(&record(BASE), &record(&format!("{BASE}fifo = true\n")));
        assert_eq!(
            addresses(&report),
            ["replace aws_sqs_queue.jobs", "replace aws_sqs_queue.jobs_dlq"]
        );
        let line = &report.lines()[0];
        assert!(line.starts_with(
            "replaces aws_sqs_queue.jobs (fifo_queue false -> true, name demo-jobs -> demo-jobs.fifo): loses its messages"
        ), "{line}");
        assert!(line.contains("safe way: drain it first"), "{line}");
    }

    #[test]
    fn turning_a_topic_fifo_replaces_it_and_its_dead_letter_queue_and_says_what_goes() {
        let topic = "name = \"demo\"\n\n[[steps]]\nname = \"Ask\"\ntopic = \"asks\"\n\n[topics.asks]\n";
        let report = compare(&record(topic), &record(&format!("{topic}fifo = true\n")));
        assert_eq!(
            addresses(&report),
            ["replace aws_sns_topic.asks", "replace aws_sqs_queue.asks_topic_dlq"]
        );
        let line = &report.lines()[0];
        assert!(
            line.starts_with(
                "replaces aws_sns_topic.asks (fifo_topic false -> true, name demo-asks -> demo-asks.fifo): loses its subscriptions"
            ),
            "{line}"
        );
        assert!(line.contains("SNS.NotFoundException"), "{line}");
        assert!(
            line.contains("apply again every root that subscribes to it from topic_arns"),
            "{line}"
        );
        // Its encryption changes in place (SetTopicAttributes): nothing to report.
        assert!(
            compare(&record(topic), &record(&format!("{topic}encryption = \"kms\"\n")))
                .lines()
                .iter()
                .all(|l| !l.contains("aws_sns_topic"))
        );
    }

    #[test]
    fn a_renamed_queue_key_deletes_the_old_queues() {
        let renamed = BASE.replace("jobs", "work");
        let report = compare(&record(BASE), &record(&renamed));
        assert_eq!(
            addresses(&report),
            ["delete aws_sqs_queue.jobs", "delete aws_sqs_queue.jobs_dlq"]
        );
    }

    #[test]
    fn a_new_name_replaces_everything_named_after_it_and_says_which_callers_it_concerns() {
        let report = compare(&record(BASE), &record(&BASE.replace("demo", "other")));
        assert_eq!(report.changes.len(), 6);
        let lines = report.lines();
        assert!(lines[6].starts_with("note: the module's name input now defaults to \"other\" (was \"demo\")"));
    }

    const BUSES: &str = "name = \"demo\"\n\n[[steps]]\nname = \"Ask\"\nbus = \"partners\"\n\n[[steps]]\nname = \"Tell\"\nbus = \"account\"\n\n[buses.partners]\n\n[buses.account]\nname = \"default\"\n";

    #[test]
    fn a_custom_bus_is_stateful_and_the_default_bus_never_is() {
        let found = record(BUSES);
        let buses: Vec<&str> = found
            .resources
            .keys()
            .map(String::as_str)
            .filter(|a| a.contains("event_bus") || a.contains("_bus_dlq"))
            .collect();
        assert_eq!(
            buses,
            [
                "aws_cloudwatch_event_bus.partners",
                "aws_sqs_queue.account_bus_dlq",
                "aws_sqs_queue.partners_bus_dlq",
            ]
        );
        assert_eq!(
            found.resources["aws_cloudwatch_event_bus.partners"].replaced_when["name"],
            "demo-partners"
        );
        // A renamed key deletes the custom bus (and its dead-letter queue), never the default bus.
        let renamed = BUSES
            .replace("partners", "vendors")
            .replace("\"account\"", "\"ledger\"")
            .replace(".account", ".ledger");
        let report = compare(&found, &record(&renamed));
        assert_eq!(
            addresses(&report),
            [
                "delete aws_cloudwatch_event_bus.partners",
                "delete aws_sqs_queue.account_bus_dlq",
                "delete aws_sqs_queue.partners_bus_dlq",
            ]
        );
        assert!(
            report.lines()[0].contains("loses the task events it is still delivering"),
            "{:?}",
            report.lines()
        );
        // A custom bus switched to the default bus: the custom one goes; the default one was never the module's.
        let to_default = BUSES.replace("[buses.partners]\n", "[buses.partners]\nname = \"default\"\n");
        assert_eq!(
            addresses(&compare(&found, &record(&to_default))),
            ["delete aws_cloudwatch_event_bus.partners"]
        );
    }

    #[test]
    fn in_place_changes_report_nothing() {
        let base = record(BASE);
        for edit in [
            format!("{BASE}retention = \"2d\"\n"),
            format!("{BASE}encryption = \"kms\"\n"),
            format!("{BASE}\n[logs]\nencryption = \"kms\"\n"),
            BASE.replace("\"Work\"", "\"Renamed\""),
        ] {
            let report = compare(&base, &record(&edit));
            assert!(report.is_empty(), "{edit}: {:?}", report.lines());
            assert!(report.lines().is_empty());
        }
    }

    #[test]
    fn execution_logging_off_keeps_the_log_group_and_dropping_kms_deletes_the_key() {
        let kms = format!("{BASE}encryption = \"kms\"\n");
        let off = kms.replace("[[steps]]", "[state_machine]\nlog_level = \"OFF\"\n\n[[steps]]");
        assert!(compare(&record(&kms), &record(&off)).is_empty());
        let report = compare(&record(&kms), &record(&off.replace("encryption = \"kms\"\n", "")));
        assert_eq!(addresses(&report), ["delete aws_kms_key.this"]);
        assert!(
            !report.lines().iter().any(|l| l.contains("log_level")),
            "{:?}",
            report.lines()
        );
    }

    #[test]
    fn a_record_of_the_counted_log_group_reads_as_the_address_it_has_now() {
        let now = record(BASE);
        let text = String::from_utf8(now.file().contents).unwrap().replace(
            "\"aws_cloudwatch_log_group.state_machine\"",
            "\"aws_cloudwatch_log_group.state_machine[0]\"",
        );
        assert!(text.contains("state_machine[0]"));
        let old = Record::parse(text.as_bytes()).unwrap();
        assert_eq!(old, now);
        assert!(compare(&old, &now).is_empty());
        // An old record of a module whose logging was OFF has no execution log group: it appears, nothing goes.
        let mut without = old.clone();
        without.resources.remove("aws_cloudwatch_log_group.state_machine");
        assert!(compare(&without, &now).is_empty());
        assert_eq!(
            addresses(&compare(&now, &without)),
            ["delete aws_cloudwatch_log_group.state_machine"]
        );
    }
}
