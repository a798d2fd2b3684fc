//! The fit stage, between emit and output: the sizes only the rendered module fixes, measured with the longest
//! values AWS and the module's inputs allow ([`crate::limits`]), against AWS's limits. The state machine
//! definition is measured as `templatefile()` makes it of the ASL file (every queue URL the longest SQS hands
//! out); every policy document as AWS receives it ([`crate::iam_json`]): a role's inline policies together,
//! its managed policies and their count, its trust policy, the workers' and the operator's policies, the module key's policy,
//! the queues' policies. A value over its limit is an error at the spec key that made it (exit 2, nothing
//! written); emitters never validate.

use std::collections::HashMap;

use crate::diagnostic::Diagnostic;
use crate::emit::asl;
use crate::iam_json::{self, ArnParts};
use crate::limits::{self, Limit, thousands};
use crate::model::{Model, NameOrigin};
use crate::spec::{Span, Spec};

/// One measured value: what it is, its figure, the limit it is held to, and what in the spec made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measurement {
    /// What was measured, as a message says it: "the inline policy of role {name}-callback".
    pub subject: String,
    /// The figure, in the limit's unit.
    pub value: u64,
    /// The limit.
    pub limit: &'static Limit,
    /// What in the spec made it.
    pub origin: Origin,
}

impl Measurement {
    /// Whether it is within its limit.
    pub fn fits(&self) -> bool {
        self.limit.allows(self.value)
    }
}

/// What in the spec made a measured value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The steps together.
    Steps,
    /// A derived name's origin: the module, a queue, the queues.
    Name(NameOrigin),
}

/// Every size the fit stage measures, in a fixed order.
pub fn measure(model: &Model) -> Vec<Measurement> {
    let mut measured = vec![definition(model)];
    measured.extend(policies(model, &ArnParts::worst()));
    measured
}

/// The errors of every measured value over its limit, at the spec key that made it.
pub fn check(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    measure(model)
        .into_iter()
        .filter(|m| !m.fits())
        .map(|m| violation(spec, &m))
        .collect()
}

/// The definition after `templatefile()`, in bytes of UTF-8 (never fewer than the characters AWS counts).
fn definition(model: &Model) -> Measurement {
    let values = worst_channel_values(model);
    let value = |var: &str| values.get(var).cloned().unwrap_or_default();
    Measurement {
        subject: "the state machine definition".into(),
        value: asl::deployed_len(model, limits::WORST_PARTITION, &value),
        limit: &limits::DEFINITION,
        origin: Origin::Steps,
    }
}

/// Each channel's `templatefile()` variable, by name, with its longest value.
fn worst_channel_values(model: &Model) -> HashMap<String, String> {
    let mut values: HashMap<String, String> = model
        .steps
        .iter()
        .map(|step| {
            (
                crate::emit::channel_var(&step.channel),
                crate::resolve::worst_channel_address(model, &step.channel),
            )
        })
        .collect();
    if let Some(approvals) = &model.approvals {
        values.insert(
            crate::emit::APPROVALS_QUEUE_URL_VAR.to_string(),
            limits::worst_queue_url(&approvals.queue.with(&limits::worst_name())),
        );
    }
    values
}

/// Every policy document, as AWS receives it with these parts.
pub fn policies(model: &Model, parts: &ArnParts) -> Vec<Measurement> {
    let mut measured = shared_policies(model, parts);
    measured.extend(per_queue_policies(model, parts));
    measured
}

/// The documents that grow with the spec: each role's inline, managed and trust policies, the worker policy for
/// every queue (or its parts), the module key's policy.
fn shared_policies(model: &Model, parts: &ArnParts) -> Vec<Measurement> {
    let queues = || Origin::Name(NameOrigin::Queues);
    let module = || Origin::Name(NameOrigin::Module);
    let mut measured = Vec::new();
    for role in &model.roles {
        // Named with the spec's name; measured with the longest.
        let role_name = role.name.with(&model.name);
        measured.push(Measurement {
            subject: format!("the inline policy of role {role_name}"),
            value: iam_json::role_policy_chars(model, role, parts),
            limit: &limits::IAM_ROLE_INLINE_POLICIES,
            origin: queues(),
        });
        measured.push(Measurement {
            subject: format!("the trust policy of role {role_name}"),
            value: iam_json::chars(&iam_json::trust_policy(model, role, parts)),
            limit: &limits::IAM_TRUST_POLICY,
            origin: module(),
        });
        for policy in &role.managed_policies {
            measured.push(Measurement {
                subject: format!("the managed policy {}", policy.name.with(&model.name)),
                value: iam_json::document_chars(model, &policy.statements, parts),
                limit: &limits::IAM_MANAGED_POLICY,
                origin: queues(),
            });
        }
        measured.push(Measurement {
            subject: format!("the managed policies of role {role_name}"),
            value: role.managed_policies.len() as u64,
            limit: &limits::IAM_MANAGED_POLICIES_PER_ROLE,
            origin: queues(),
        });
    }
    for policy in &model.worker_policies {
        let subject = match (&policy.queue, policy.part) {
            // Measured below, once a shape.
            (Some(_), _) => continue,
            (None, Some(part)) => format!("part {part} of the worker policy"),
            (None, None) => "the worker policy".into(),
        };
        measured.push(Measurement {
            subject,
            value: iam_json::document_chars(model, &policy.statements, parts),
            limit: &limits::IAM_MANAGED_POLICY,
            origin: queues(),
        });
    }
    for policy in &model.operator_policies {
        measured.push(Measurement {
            subject: match policy.part {
                Some(part) => format!("part {part} of the operator policy"),
                None => "the operator policy".into(),
            },
            value: iam_json::document_chars(model, &policy.statements, parts),
            limit: &limits::IAM_MANAGED_POLICY,
            origin: queues(),
        });
    }
    if let Some(key) = &model.module_key {
        measured.push(Measurement {
            subject: "the key policy of the module's key".into(),
            value: iam_json::bytes(&iam_json::key_policy(model, key, parts)),
            limit: &limits::KMS_KEY_POLICY,
            origin: module(),
        });
    }
    measured
}

/// The documents written once a queue (its worker policy, its and its dead-letter queue's policies), measured
/// for the queue with the longest name among those of one shape (FIFO or not, how it is encrypted): two such
/// documents differ in nothing but the queue's name, so the longest is the largest. A hundred queues cost a few
/// documents, not three hundred. (A dead-letter queue, if any, is part of the shape.)
fn per_queue_policies(model: &Model, parts: &ArnParts) -> Vec<Measurement> {
    type Shape = (bool, bool, std::mem::Discriminant<crate::model::Encryption>);
    let mut longest: HashMap<Shape, &crate::model::Queue> = HashMap::new();
    for queue in &model.queues {
        let shape = (
            queue.fifo,
            queue.dead_letter.is_some(),
            std::mem::discriminant(&queue.encryption),
        );
        let entry = longest.entry(shape).or_insert(queue);
        if queue.key.len() > entry.key.len() {
            *entry = queue;
        }
    }
    let mut queues: Vec<&crate::model::Queue> = longest.into_values().collect();
    queues.sort_by(|a, b| a.key.cmp(&b.key));
    let mut measured = Vec::new();
    for queue in queues {
        let origin = || Origin::Name(NameOrigin::Queue(queue.key.clone()));
        if model.queues.len() > 1 {
            let policy = model.worker_policy_of(&queue.key);
            measured.push(Measurement {
                subject: format!("the worker policy of queue {:?}", queue.key),
                value: iam_json::document_chars(model, &policy.statements, parts),
                limit: &limits::IAM_MANAGED_POLICY,
                origin: origin(),
            });
        }
        let sides = std::iter::once(false).chain(queue.dead_letter.as_ref().map(|_| true));
        for dead_letter in sides {
            measured.push(Measurement {
                subject: format!(
                    "the policy of {}queue {:?}",
                    if dead_letter { "the dead-letter queue of " } else { "" },
                    queue.key
                ),
                value: iam_json::bytes(&iam_json::queue_policy(queue, dead_letter, parts)),
                limit: &limits::SQS_QUEUE_POLICY,
                origin: origin(),
            });
        }
    }
    measured
}

/// What the module README lists: the definition (its length given, from the ASL file already emitted) and the
/// documents that grow with the spec, with the longest values.
pub fn summary(model: &Model, definition_bytes: u64) -> Vec<Measurement> {
    let mut measured = vec![Measurement {
        subject: "the state machine definition".into(),
        value: definition_bytes,
        limit: &limits::DEFINITION,
        origin: Origin::Steps,
    }];
    measured.extend(shared_policies(model, &ArnParts::worst()));
    measured
}

/// The value each `templatefile()` variable of the ASL file takes with the longest values: the partition, and
/// each channel's address (a queue's URL, a topic's or a bus's ARN). Unknown variables have none.
pub fn worst_template_value(model: &Model) -> impl Fn(&str) -> Option<String> + '_ {
    let urls = worst_channel_values(model);
    move |name: &str| match name {
        "partition" => Some(limits::WORST_PARTITION.to_string()),
        other => urls.get(other).cloned(),
    }
}

/// The key path and span of what made a measured value.
fn located(spec: &Spec, origin: &Origin) -> (String, Span) {
    match origin {
        Origin::Steps => (
            "steps".into(),
            spec.steps.as_ref().map(|s| s.span.clone()).unwrap_or(0..0),
        ),
        Origin::Name(NameOrigin::Queue(key)) => (format!("queues.{key}"), spec.entry_span("queues", key)),
        Origin::Name(NameOrigin::Topic(key)) => (format!("topics.{key}"), spec.entry_span("topics", key)),
        Origin::Name(NameOrigin::Bus(key)) => (format!("buses.{key}"), spec.entry_span("buses", key)),
        Origin::Name(NameOrigin::Queues) => (
            "queues".into(),
            spec.queues.first().map(|(k, _)| k.span.clone()).unwrap_or(0..0),
        ),
        Origin::Name(NameOrigin::Module) => (
            "name".into(),
            spec.name.as_ref().map(|n| n.span.clone()).unwrap_or(0..0),
        ),
    }
}

fn violation(spec: &Spec, measured: &Measurement) -> Diagnostic {
    let (path, span) = located(spec, &measured.origin);
    let limit = measured.limit;
    let help = match measured.origin {
        Origin::Steps => {
            "split the workflow into state machines that start one another, or shorten what the \
                          steps repeat (names, error names, static message fields)"
        }
        Origin::Name(NameOrigin::Queues | NameOrigin::Queue(_)) => "split the queues between two specs",
        Origin::Name(NameOrigin::Topic(_) | NameOrigin::Bus(_)) => "split the steps between two specs",
        Origin::Name(NameOrigin::Module) => "this is a bug in sfngen: please report it with the spec",
    };
    Diagnostic::error(
        path,
        Some(span),
        format!(
            "{} would be {} with the longest names, ARNs and queue URLs AWS and the module's inputs allow; {} is at \
             most {}",
            measured.subject,
            limits::with_unit(measured.value, limit.unit),
            limit.what,
            limit.figure_text()
        ),
    )
    .with_help(format!("{help} (source: {})", limit.source))
}

/// The least room any step's message leaves for its input, and that step: `(bytes, "steps[i] \"Name\"")`.
pub fn least_room(model: &Model) -> Option<(u64, String)> {
    let rooms = crate::resolve::input_rooms(model);
    let (index, room) = rooms.into_iter().enumerate().min_by_key(|(_, room)| *room)?;
    Some((room, format!("steps[{index}] {:?}", model.steps[index].name)))
}

/// `n` bytes, as a summary says it.
pub fn bytes_text(n: u64) -> String {
    format!("{} bytes", thousands(n))
}
