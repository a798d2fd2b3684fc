//! `[topics.*]`: the subscriptions a topic declares (each checked against what SNS accepts for its protocol), its
//! dead-letter queue, and what topics add to the roles: the state machine publishes to them (with their keys,
//! through SNS only), the dead-letter function reads their dead-letter queues (with their keys, through SQS only).

use std::collections::BTreeSet;

use super::Checker;
use super::values::did_you_mean_prefix;
use crate::diagnostic::shown;
use crate::limits;
use crate::model::{
    AwsName, Condition, Encryption, Protocol, Resource, Role, RoleId, Statement, Subscription, Topic, TopicDeadLetter,
    ViaService,
};
use crate::spec::{Located, SubscriptionSpec, keys};

/// SNS's subscription protocols that cannot carry a task message to someone who answers it, with why and what
/// to do instead.
const REFUSED_PROTOCOLS: [(&str, &str); 3] = [
    (
        "sms",
        "an SMS holds at most 1,600 characters and a task token alone up to 2,048: the task could never be answered",
    ),
    (
        "application",
        "a mobile push notification's payload (4 KB on most platforms) cannot be relied on to hold a task message",
    ),
    (
        "firehose",
        "a Firehose subscription needs a subscription role (subscription_role_arn) the module does not create: add it \
         from the module's topic_arns output with your own aws_sns_topic_subscription",
    ),
];

/// The longest SQS queue name (`.fifo` included), from the SQS queue name limit.
const MAX_QUEUE_NAME_CHARS: usize = 80;

/// The longest Lambda function name in an ARN (the name alone, without a qualifier).
const MAX_FUNCTION_NAME_CHARS: usize = 64;

impl Checker {
    /// The subscriptions `[topics.KEY]` declares, in order: each protocol one SNS delivers a task message with,
    /// each endpoint of its protocol's form, SQS queues only on a FIFO topic (and no FIFO queue on a standard
    /// one, which SNS refuses), each protocol and endpoint once (SNS keeps one subscription of each).
    pub(super) fn subscriptions(
        &mut self,
        table: &str,
        fifo: bool,
        value: Option<&[SubscriptionSpec]>,
    ) -> Vec<Subscription> {
        let mut seen = BTreeSet::new();
        let mut subscriptions = Vec::new();
        let limit = &limits::SNS_FIFO_TOPIC_SUBSCRIPTIONS;
        if let Some(past) = value.filter(|v| fifo && !limit.allows(v.len() as u64)) {
            self.error(
                &format!("{table}.subscriptions"),
                past[0].span.start..past[past.len() - 1].span.end,
                format!(
                    "{} subscriptions: a FIFO topic takes at most {} ({})",
                    past.len(),
                    limit.figure_text(),
                    limit.source
                ),
                "subscribe fewer queues, or fan out through a standard topic (fifo = false)".into(),
            );
        }
        for (index, spec) in value.unwrap_or_default().iter().enumerate() {
            let path = format!("{table}.subscriptions[{index}]");
            let Some(subscription) = self.subscription(&path, fifo, spec) else {
                continue;
            };
            if !seen.insert((subscription.protocol, subscription.endpoint.clone())) {
                let span = spec.endpoint.as_ref().map_or(spec.span.clone(), |e| e.span.clone());
                self.error(
                    &format!("{path}.endpoint"),
                    span,
                    format!(
                        "the {} subscription to {} is declared twice",
                        subscription.protocol.as_str(),
                        shown(&subscription.endpoint)
                    ),
                    "SNS keeps one subscription per protocol and endpoint: delete this one".into(),
                );
                continue;
            }
            subscriptions.push(subscription);
        }
        subscriptions
    }

    fn subscription(&mut self, path: &str, fifo: bool, spec: &SubscriptionSpec) -> Option<Subscription> {
        let protocol = self.protocol(path, spec.protocol.as_ref())?;
        let Some(endpoint) = spec.endpoint.as_ref() else {
            self.missing(
                path,
                "endpoint",
                spec.span.clone(),
                &format!("endpoint = \"{}\"", protocol.example()),
            );
            return None;
        };
        if let Some(problem) = endpoint_problem(protocol, &endpoint.value) {
            self.error(
                &format!("{path}.endpoint"),
                endpoint.span.clone(),
                format!(
                    "{} is not {}: it {problem}",
                    shown(&endpoint.value),
                    protocol.endpoint_form()
                ),
                format!("write {}, such as {:?}", protocol.endpoint_form(), protocol.example()),
            );
            return None;
        }
        if fifo && protocol != Protocol::Sqs {
            self.error(
                &format!("{path}.protocol"),
                spec.protocol.as_ref().map_or(spec.span.clone(), |p| p.span.clone()),
                format!(
                    "a FIFO topic delivers to SQS queues only, not with {:?}",
                    protocol.as_str()
                ),
                "subscribe an SQS queue (its worker can hand the task on), or make the topic standard (fifo = false)"
                    .into(),
            );
            return None;
        }
        if !fifo && protocol == Protocol::Sqs && endpoint.value.ends_with(".fifo") {
            self.error(
                &format!("{path}.endpoint"),
                endpoint.span.clone(),
                format!(
                    "{} is a FIFO queue, and SNS subscribes FIFO queues to FIFO topics only",
                    shown(&endpoint.value)
                ),
                "make the topic FIFO (fifo = true), or subscribe a standard queue".into(),
            );
            return None;
        }
        Some(Subscription {
            protocol,
            endpoint: endpoint.value.clone(),
        })
    }

    /// A subscription's `protocol`: SQS when left out.
    fn protocol(&mut self, path: &str, value: Option<&Located<String>>) -> Option<Protocol> {
        let Some(value) = value else {
            return Some(Protocol::Sqs);
        };
        if let Some(protocol) = Protocol::ALL.iter().find(|p| p.as_str() == value.value) {
            return Some(*protocol);
        }
        let path = format!("{path}.protocol");
        if let Some((_, why)) = REFUSED_PROTOCOLS.iter().find(|(p, _)| *p == value.value) {
            self.error(
                &path,
                value.span.clone(),
                format!("a {:?} subscription cannot take part in a callback: {why}", value.value),
                format!("use one of {}", protocol_list()),
            );
            return None;
        }
        let near = did_you_mean_prefix(&value.value, Protocol::ALL.iter().map(|p| p.as_str()));
        self.error(
            &path,
            value.span.clone(),
            format!("unknown subscription protocol {}", shown(&value.value)),
            format!("{near}use one of {}", protocol_list()),
        );
        None
    }

    /// `[topics.KEY] dead_letter` (on when left out): an SQS queue every declared subscription's redrive policy
    /// names, `{name}-{key}-topic-dlq` (a queue of the same key keeps `{name}-{key}-dlq`), FIFO with a FIFO topic (SNS requires it), read by the dead-letter function,
    /// which fails each message's task at once.
    pub(super) fn topic_dead_letter(
        &mut self,
        key: &str,
        fifo: bool,
        value: Option<&Located<bool>>,
        callback_timeout_seconds: u64,
    ) -> Option<TopicDeadLetter> {
        if !value.map_or(keys::TOPIC_DEAD_LETTER.rule, |v| v.value) {
            return None;
        }
        let suffix = if fifo { ".fifo" } else { "" };
        Some(TopicDeadLetter {
            name: AwsName::suffixed(format!("-{key}-topic-dlq{suffix}")),
            // The longest SQS allows, as a queue's dead-letter queue keeps them: a dead letter the function could
            // not settle waits there for someone to look.
            retention_seconds: keys::QUEUE_RETENTION.rule.max,
            reader: super::queues::dead_letter_reader(callback_timeout_seconds),
        })
    }
}

/// `"sqs"`, `"lambda"`...: the protocols a message lists.
fn protocol_list() -> String {
    let names: Vec<String> = Protocol::ALL.iter().map(|p| format!("{:?}", p.as_str())).collect();
    names.join(", ")
}

/// Why `endpoint` is not of `protocol`'s form; `None` when it is.
fn endpoint_problem(protocol: Protocol, endpoint: &str) -> Option<String> {
    if endpoint.is_empty() {
        return Some("is empty".into());
    }
    if endpoint.chars().any(char::is_whitespace) {
        return Some("holds white space".into());
    }
    match protocol {
        Protocol::Sqs => arn_problem(endpoint, "sqs", |resource| {
            let name = resource.strip_suffix(".fifo").unwrap_or(resource);
            (!name.is_empty()
                && resource.len() <= MAX_QUEUE_NAME_CHARS
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .then_some(())
            .ok_or_else(|| format!("names no SQS queue ({resource:?}: 1..{MAX_QUEUE_NAME_CHARS} of `A-Z a-z 0-9 - _`, `.fifo` last for a FIFO queue)"))
        }),
        Protocol::Lambda => arn_problem(endpoint, "lambda", |resource| {
            let mut parts = resource.split(':');
            let (kind, name, qualifier) = (parts.next(), parts.next(), parts.next());
            let name_ok = name.is_some_and(|n| {
                !n.is_empty()
                    && n.len() <= MAX_FUNCTION_NAME_CHARS
                    && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
            let qualifier_ok = qualifier.is_none_or(|q| {
                !q.is_empty()
                    && q.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$')
            });
            (kind == Some("function") && name_ok && qualifier_ok && parts.next().is_none())
                .then_some(())
                .ok_or_else(|| "names no Lambda function (function:NAME, or function:NAME:ALIAS)".to_string())
        }),
        Protocol::Http | Protocol::Https => {
            let scheme = format!("{}://", protocol.as_str());
            match endpoint.strip_prefix(&scheme) {
                Some(rest) if !rest.is_empty() && !rest.starts_with('/') => None,
                Some(_) => Some("names no host".into()),
                None => Some(format!("does not start with {scheme}")),
            }
        }
        Protocol::Email | Protocol::EmailJson => match endpoint.split_once('@') {
            Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@') => None,
            _ => Some("is no email address (name@example.com)".into()),
        },
    }
}

/// Why `arn` is not `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with a resource `resource` accepts.
fn arn_problem(arn: &str, service: &str, resource: impl Fn(&str) -> Result<(), String>) -> Option<String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, named, region, account, rest] = parts.as_slice() else {
        return Some(format!("is no ARN (arn:PARTITION:{service}:REGION:ACCOUNT:...)"));
    };
    if *prefix != "arn" || !partition.starts_with("aws") || *named != service {
        return Some(format!(
            "is no {service} ARN (arn:PARTITION:{service}:REGION:ACCOUNT:...)"
        ));
    }
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Some(format!("names no region ({region:?})"));
    }
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("names no account ({account:?}: 12 digits)"));
    }
    resource(rest).err()
}

/// What the topics add to the roles: the state machine publishes to each topic (and uses the keys of the
/// encrypted ones, through SNS); the dead-letter function reads each topic's dead-letter queue (and its key,
/// through SQS). Appended after the roles' own statements.
pub(super) fn grant(roles: &mut [Role], topics: &[Topic]) {
    if topics.is_empty() {
        return;
    }
    for role in roles.iter_mut() {
        match role.id {
            RoleId::StateMachine => role.statements.extend(publish(topics)),
            RoleId::DeadLetters => role.statements.extend(read_dead_letters(topics)),
            RoleId::Callback | RoleId::Endpoint | RoleId::ApprovalNotify | RoleId::ApprovalPage => {}
        }
    }
}

/// `sns:Publish` on every topic (a publish without `waitForTaskToken` needs the same action), and the keys of
/// the encrypted ones through SNS: a publisher to an encrypted topic needs `kms:GenerateDataKey` and
/// `kms:Decrypt` on its key. SNS's AWS managed key (`alias/aws/sns`) needs no grant: its key policy lets every
/// principal of the account use it through SNS.
pub(super) fn publish(topics: &[Topic]) -> Vec<Statement> {
    let mut statements = vec![allow(
        "PublishToTopics",
        &["sns:Publish"],
        topics.iter().map(|t| Resource::Topic(t.key.clone())).collect(),
    )];
    let keys = topic_keys(topics.iter());
    if !keys.is_empty() {
        statements.push(Statement {
            conditions: vec![Condition::ViaService(ViaService::Sns)],
            ..allow("EncryptTopicMessages", &["kms:Decrypt", "kms:GenerateDataKey"], keys)
        });
    }
    statements
}

/// The topics' dead-letter queues the dead-letter function reads, and their keys through SQS (a topic's
/// dead-letter queue is encrypted with the topic's key, SSE-SQS for SNS's own).
fn read_dead_letters(topics: &[Topic]) -> Vec<Statement> {
    let read: Vec<&Topic> = topics.iter().filter(|t| t.dead_letter.is_some()).collect();
    if read.is_empty() {
        return Vec::new();
    }
    let mut statements = vec![allow(
        "ReadTopicDeadLetters",
        &["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        read.iter()
            .map(|t| Resource::TopicDeadLetterQueue(t.key.clone()))
            .collect(),
    )];
    let keys = topic_keys(read.iter().copied());
    if !keys.is_empty() {
        statements.push(Statement {
            conditions: vec![Condition::ViaService(ViaService::Sqs)],
            ..allow("DecryptTopicDeadLetters", &["kms:Decrypt"], keys)
        });
    }
    statements
}

/// What the operator's runbook does with the topics' dead letters: inspect (and delete) the messages in their
/// dead-letter queues, decrypting them through SQS where a topic's key encrypts them, and pause fail-fast on the
/// dead-letter function's mappings, as for the queues' and the buses' dead letters.
pub(super) fn operate_dead_letters(topics: &[Topic]) -> Vec<Statement> {
    let with: Vec<&Topic> = topics.iter().filter(|t| t.dead_letter.is_some()).collect();
    if with.is_empty() {
        return Vec::new();
    }
    let mut statements = vec![allow(
        "InspectTopicDeadLetters",
        &["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        with.iter()
            .map(|t| Resource::TopicDeadLetterQueue(t.key.clone()))
            .collect(),
    )];
    let keys = topic_keys(with.iter().copied());
    if !keys.is_empty() {
        statements.push(Statement {
            conditions: vec![Condition::ViaService(ViaService::Sqs)],
            ..allow("DecryptTopicDeadLetters", &["kms:Decrypt"], keys)
        });
    }
    statements.push(allow(
        "PauseTopicFailFast",
        &["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"],
        with.iter()
            .map(|t| Resource::TopicDeadLetterMapping(t.key.clone()))
            .collect(),
    ));
    statements
}

/// The customer managed keys of these topics, in topic order: the module's key once, and each topic's own key
/// input.
fn topic_keys<'t>(topics: impl IntoIterator<Item = &'t Topic>) -> Vec<Resource> {
    let mut keys: Vec<Resource> = Vec::new();
    for topic in topics {
        let key = match &topic.encryption {
            Encryption::ServiceManaged => continue,
            Encryption::ModuleKey => Resource::ModuleKey,
            Encryption::KeyArn(_) | Encryption::KeyAlias(_) => Resource::TopicKey(topic.key.clone()),
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// An `Allow` statement usable from anywhere the role's credentials go.
fn allow(sid: &str, actions: &[&str], resources: Vec<Resource>) -> Statement {
    Statement {
        sid: sid.into(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        resources,
        only_from: None,
        only_while: None,
        conditions: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_of_each_protocol() {
        let ok = |p, e: &str| assert_eq!(endpoint_problem(p, e), None, "{e}");
        let bad = |p, e: &str, why: &str| {
            let problem = endpoint_problem(p, e).unwrap_or_else(|| panic!("{e} passed"));
            assert!(problem.contains(why), "{e}: {problem}");
        };
        ok(Protocol::Sqs, "arn:aws:sqs:us-east-1:123456789012:jobs");
        ok(Protocol::Sqs, "arn:aws-cn:sqs:cn-north-1:123456789012:jobs.fifo");
        ok(
            Protocol::Sqs,
            &format!("arn:aws:sqs:us-east-1:123456789012:{}", "q".repeat(80)),
        );
        bad(
            Protocol::Sqs,
            &format!("arn:aws:sqs:us-east-1:123456789012:{}", "q".repeat(81)),
            "names no SQS queue",
        );
        bad(
            Protocol::Sqs,
            "arn:aws:sqs:us-east-1:123456789012:",
            "names no SQS queue",
        );
        bad(
            Protocol::Sqs,
            "arn:aws:sns:us-east-1:123456789012:jobs",
            "is no sqs ARN",
        );
        bad(Protocol::Sqs, "arn:aws:sqs:us-east-1:12345:jobs", "names no account");
        bad(
            Protocol::Sqs,
            "https://sqs.us-east-1.amazonaws.com/123456789012/jobs",
            "is no ARN",
        );
        ok(Protocol::Lambda, "arn:aws:lambda:us-east-1:123456789012:function:work");
        ok(
            Protocol::Lambda,
            "arn:aws:lambda:us-east-1:123456789012:function:work:live",
        );
        bad(
            Protocol::Lambda,
            "arn:aws:lambda:us-east-1:123456789012:layer:work",
            "names no Lambda function",
        );
        bad(
            Protocol::Lambda,
            "arn:aws:lambda:us-east-1:123456789012:function:a:b:c",
            "names no Lambda function",
        );
        ok(Protocol::Https, "https://partner.example.com/tasks");
        bad(
            Protocol::Https,
            "http://partner.example.com/tasks",
            "does not start with https://",
        );
        bad(Protocol::Https, "https://", "names no host");
        ok(Protocol::Http, "http://10.0.0.1:8080/tasks");
        ok(Protocol::Email, "ops@example.com");
        ok(Protocol::EmailJson, "ops@example.com");
        bad(Protocol::Email, "ops", "is no email address");
        bad(Protocol::Email, "ops@localhost", "is no email address");
        bad(Protocol::Email, "o ps@example.com", "holds white space");
        bad(Protocol::Email, "", "is empty");
    }

    #[test]
    fn every_protocol_has_a_valid_example_and_refused_ones_are_no_protocol() {
        for protocol in Protocol::ALL {
            assert_eq!(endpoint_problem(protocol, protocol.example()), None, "{protocol:?}");
        }
        for (refused, _) in REFUSED_PROTOCOLS {
            assert!(Protocol::ALL.iter().all(|p| p.as_str() != refused));
        }
    }
}

#[cfg(test)]
mod spec_tests {
    use crate::diagnostic::Diagnostic;
    use crate::model::{Condition, Encryption, FunctionId, Model, Protocol, Resource, RoleId, ViaService};
    use crate::spec::parse;

    fn resolve(topic: &str) -> Result<Model, Vec<Diagnostic>> {
        let src = format!("name = \"demo\"\n[[steps]]\nname = \"Ask\"\ntopic = \"asks\"\n[topics.asks]\n{topic}\n");
        let (spec, diags) = parse(&src);
        assert!(diags.is_empty(), "{diags:?}");
        super::super::resolve(&spec, "sfngen.toml")
    }

    /// The one error of a topic table: its path and message.
    fn error(topic: &str) -> (String, String) {
        let diags = resolve(topic).expect_err(topic);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        (diags[0].path.clone(), diags[0].message.clone())
    }

    const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:asks";

    #[test]
    fn declared_subscriptions_and_the_dead_letter_queue_by_default() {
        let m = resolve(&format!(
            "subscriptions = [{{ endpoint = \"{QUEUE}\" }}, {{ protocol = \"email\", endpoint = \"ops@example.com\" }}]"
        ))
        .unwrap();
        let topic = &m.topics[0];
        let protocols: Vec<(Protocol, bool)> = topic
            .subscriptions
            .iter()
            .map(|s| (s.protocol, s.protocol.raw_delivery()))
            .collect();
        assert_eq!(protocols, [(Protocol::Sqs, true), (Protocol::Email, false)]);
        let dlq = topic.dead_letter.as_ref().unwrap();
        assert_eq!(dlq.name.with(&m.name), "demo-asks-topic-dlq");
        assert_eq!(dlq.reader.visibility_timeout_seconds, 60);
        // The dead-letter function reads it, though no queue has dead letters.
        assert!(m.queues.is_empty());
        assert!(m.dead_letter_function().is_some());
        let read = m
            .role(RoleId::DeadLetters)
            .statements
            .iter()
            .find(|s| s.sid == "ReadTopicDeadLetters");
        assert_eq!(read.unwrap().resources, [Resource::TopicDeadLetterQueue("asks".into())]);
    }

    #[test]
    fn a_fifo_topic_has_a_fifo_dead_letter_queue_and_no_dead_letter_means_none() {
        let m = resolve("fifo = true").unwrap();
        assert_eq!(
            m.topics[0].dead_letter.as_ref().unwrap().name.with("d"),
            "d-asks-topic-dlq.fifo"
        );
        let m = resolve("dead_letter = false").unwrap();
        assert!(m.topics[0].dead_letter.is_none());
        assert!(m.dead_letter_function().is_none(), "nothing to read");
        assert_eq!(
            m.functions.iter().map(|f| f.id).collect::<Vec<_>>(),
            [FunctionId::Callback]
        );
    }

    #[test]
    fn the_state_machine_publishes_to_its_topics_with_their_keys_through_sns() {
        let m = resolve("").unwrap();
        let role = m.role(RoleId::StateMachine);
        let publish = role.statements.iter().find(|s| s.sid == "PublishToTopics").unwrap();
        assert_eq!(
            (publish.actions.as_slice(), publish.resources.as_slice()),
            (&["sns:Publish".to_string()][..], &[Resource::Topic("asks".into())][..])
        );
        // SNS's AWS managed key needs no grant; no queue statement without queues.
        assert!(
            role.statements
                .iter()
                .all(|s| s.sid != "EncryptTopicMessages" && s.sid != "SendToCallbackQueues")
        );
        let m = resolve("encryption = \"kms\"").unwrap();
        assert_eq!(m.topics[0].encryption, Encryption::ModuleKey);
        let encrypt = m
            .role(RoleId::StateMachine)
            .statements
            .iter()
            .find(|s| s.sid == "EncryptTopicMessages")
            .unwrap();
        assert_eq!(encrypt.resources, [Resource::ModuleKey]);
        assert_eq!(encrypt.conditions, [Condition::ViaService(ViaService::Sns)]);
        let key = m.module_key.as_ref().unwrap();
        assert_eq!(key.topics, ["asks"]);
        assert_eq!(key.topics_with_dead_letters(&m).len(), 1);
        let m = resolve("encryption = \"alias/shared\"").unwrap();
        assert_eq!(m.topics[0].key_input().as_deref(), Some("asks_topic_kms_key_alias"));
        let encrypt = m
            .role(RoleId::StateMachine)
            .statements
            .iter()
            .find(|s| s.sid == "EncryptTopicMessages")
            .unwrap();
        assert_eq!(encrypt.resources, [Resource::TopicKey("asks".into())]);
        assert!(m.module_key.is_none());
    }

    #[test]
    fn each_subscription_mistake_is_one_error_at_its_key() {
        let at = "topics.asks.subscriptions[0]";
        let (path, message) = error("subscriptions = [{ protocol = \"sms\", endpoint = \"+15555550100\" }]");
        assert_eq!(path, format!("{at}.protocol"));
        assert!(message.contains("cannot take part in a callback"), "{message}");
        let (path, message) = error(&format!(
            "subscriptions = [{{ protocol = \"sqss\", endpoint = \"{QUEUE}\" }}]"
        ));
        assert_eq!(path, format!("{at}.protocol"));
        assert!(message.contains("unknown subscription protocol \"sqss\""), "{message}");
        let (path, _) = error("subscriptions = [{ protocol = \"sqs\" }]");
        assert_eq!(path, format!("{at}.endpoint"));
        let (path, message) =
            error("subscriptions = [{ protocol = \"lambda\", endpoint = \"https://x.example.com\" }]");
        assert_eq!(path, format!("{at}.endpoint"));
        assert!(message.contains("is not a Lambda function ARN"), "{message}");
        let (path, message) =
            error("fifo = true\nsubscriptions = [{ protocol = \"https\", endpoint = \"https://x.example.com\" }]");
        assert_eq!(path, format!("{at}.protocol"));
        assert!(
            message.contains("a FIFO topic delivers to SQS queues only"),
            "{message}"
        );
        let (path, message) = error(&format!("subscriptions = [{{ endpoint = \"{QUEUE}.fifo\" }}]"));
        assert_eq!(path, format!("{at}.endpoint"));
        assert!(message.contains("FIFO topics only"), "{message}");
        let (path, message) = error(&format!(
            "subscriptions = [{{ endpoint = \"{QUEUE}\" }}, {{ endpoint = \"{QUEUE}\" }}]"
        ));
        assert_eq!(path, "topics.asks.subscriptions[1].endpoint");
        assert!(message.contains("declared twice"), "{message}");
        // A FIFO topic delivers to a standard queue as well as a FIFO one.
        assert!(
            resolve(&format!(
                "fifo = true\nsubscriptions = [{{ endpoint = \"{QUEUE}\" }}, {{ endpoint = \"{QUEUE}.fifo\" }}]"
            ))
            .is_ok()
        );
    }
}
