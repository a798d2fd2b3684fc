//! Every policy document the module writes, as the JSON AWS receives: what `aws_iam_policy_document` (or
//! `jsonencode()`) makes of the emitters' HCL once Terraform knows the partition, region, account, `name` and
//! keys. Resolve lays the roles' policies out with it, the fit stage measures every document with the worst
//! values AWS and the module's inputs allow, and `tests/policy_sizes.rs` holds it, document by document, to
//! what the real Terraform and hashicorp/aws provider render.
//!
//! IAM counts a policy's characters without white space ([`chars`]); KMS and SQS count bytes ([`bytes`]).

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::limits;
use crate::model::{
    AwsName, BusName, Condition, FunctionId, Model, ModuleKey, Queue, Resource, Role, Service, Statement, Topic,
    module_namespace,
};

/// The owner [`ArnParts::customer_key_arn`] names for the state machine's own key (queue keys hold no `_`).
pub const STATE_MACHINE_KEY_OWNER: &str = "state_machine";

/// The values Terraform fills in: the module's `name` input, where it runs, and the ARNs of keys that only AWS
/// knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnParts {
    /// `var.name`.
    pub name: String,
    /// `data.aws_partition.current.partition`.
    pub partition: String,
    /// The region.
    pub region: String,
    /// The partition's DNS suffix.
    pub dns_suffix: String,
    /// The account id.
    pub account: String,
    /// The ARN of the module's key (`aws_kms_key.this.arn`).
    pub module_key_arn: String,
}

impl ArnParts {
    /// The longest values the module's inputs and AWS allow ([`limits::WORST_PARTITION`] and beside it).
    pub fn worst() -> Self {
        ArnParts {
            name: limits::worst_name(),
            partition: limits::WORST_PARTITION.into(),
            region: limits::WORST_REGION.into(),
            dns_suffix: limits::WORST_DNS_SUFFIX.into(),
            account: limits::WORST_ACCOUNT.into(),
            module_key_arn: limits::worst_kms_key_arn(),
        }
    }

    /// The ARN of the key a queue (by its key) or the state machine (`state_machine`) names by ARN or alias: each
    /// its own key, as long as the module's key's ARN, so that no two grants collapse into one.
    pub fn customer_key_arn(&self, owner: &str) -> String {
        // FNV-1a, twice with different offsets: 32 hex digits that differ from owner to owner.
        let fnv = |offset: u64| {
            owner.bytes().fold(offset, |hash, b| {
                (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
            })
        };
        let (base, _) = self
            .module_key_arn
            .rsplit_once('/')
            .unwrap_or((&self.module_key_arn, ""));
        format!(
            "{base}/mrk-{:016x}{:016x}",
            fnv(0xcbf2_9ce4_8422_2325),
            fnv(0x6c62_272e_07bb_0142)
        )
    }

    /// The UUID of the dead-letter event source mapping of a queue (by its key): each its own, as long as any
    /// ([`limits::WORST_MAPPING_UUID`]), so that no two grants collapse into one.
    pub fn mapping_uuid(&self, queue_key: &str) -> String {
        let hash = queue_key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, b| {
            (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        let hex = format!("{hash:016x}{:016x}", hash.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15);
        let uuid = format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        debug_assert_eq!(uuid.len(), limits::WORST_MAPPING_UUID.len());
        uuid
    }

    /// An AWS name with this `name`.
    pub fn name_of(&self, name: &AwsName) -> String {
        name.with(&self.name)
    }

    fn regional_arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition, self.region, self.account
        )
    }

    fn iam_arn(&self, resource: &str) -> String {
        format!("arn:{}:iam::{}:{resource}", self.partition, self.account)
    }
}

/// The characters IAM counts in a policy: its JSON without white space (IAM quotas: "IAM does not count white
/// space when calculating the size of a policy").
pub fn chars(document: &Value) -> u64 {
    count(document).chars
}

/// The bytes of a policy's compact JSON, as KMS and SQS count them.
pub fn bytes(document: &Value) -> u64 {
    count(document).bytes
}

/// What `value`'s compact JSON holds, counted as it is written.
fn count(value: &impl Serialize) -> Counter {
    let mut counter = Counter::default();
    serde_json::to_writer(&mut counter, value).expect("bug: a policy document failed to serialize");
    counter
}

/// Counts what a serializer writes, without keeping it: bytes, and characters that are not white space (a UTF-8
/// continuation byte is part of the character before it). Policies are measured many times while they are laid
/// out; building each one's text would cost an allocation a time.
#[derive(Default)]
struct Counter {
    bytes: u64,
    chars: u64,
}

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes += buf.len() as u64;
        self.chars += buf
            .iter()
            .filter(|&&b| (b & 0xC0) != 0x80 && !b.is_ascii_whitespace())
            .count() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A role's inline policy.
pub fn role_policy(model: &Model, role: &Role, parts: &ArnParts) -> Value {
    document(model, &role.statements, parts)
}

/// The characters IAM counts in a role's inline policy.
pub fn role_policy_chars(model: &Model, role: &Role, parts: &ArnParts) -> u64 {
    document_chars(model, &role.statements, parts)
}

/// A policy document holding `statements`.
pub fn document(model: &Model, statements: &[Statement], parts: &ArnParts) -> Value {
    serde_json::to_value(Document {
        model,
        statements,
        parts,
    })
    .expect("bug: a policy document failed to convert")
}

/// The characters IAM counts in [`document`], without building it: resolve lays policies out with it, resource
/// by resource, and the fit stage measures every role's.
pub fn document_chars(model: &Model, statements: &[Statement], parts: &ArnParts) -> u64 {
    count(&Document {
        model,
        statements,
        parts,
    })
    .chars
}

/// The characters IAM counts in one [`statement`].
pub fn statement_chars(model: &Model, statement: &Statement, parts: &ArnParts) -> u64 {
    count(&StatementJson {
        model,
        statement,
        parts,
    })
    .chars
}

/// A policy document as [`document`] writes it, borrowing the model.
struct Document<'a> {
    model: &'a Model,
    statements: &'a [Statement],
    parts: &'a ArnParts,
}

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("Version", "2012-10-17")?;
        let statements: Vec<StatementJson> = self
            .statements
            .iter()
            .map(|statement| StatementJson {
                model: self.model,
                statement,
                parts: self.parts,
            })
            .collect();
        map.serialize_entry("Statement", &statements)?;
        map.end()
    }
}

/// One statement as [`statement`] writes it, borrowing the model.
struct StatementJson<'a> {
    model: &'a Model,
    statement: &'a Statement,
    parts: &'a ArnParts,
}

impl Serialize for StatementJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let statement = self.statement;
        let mut conditions = conditions_of(self.model, &statement.conditions, self.parts);
        if let Some(function) = statement.only_from {
            conditions.push((
                "ArnEquals",
                "lambda:SourceFunctionArn",
                vec![function_arn(self.model, function, self.parts)],
            ));
        }
        let resources = Arns(
            statement
                .resources
                .iter()
                .map(|resource| ArnOf {
                    model: self.model,
                    resource,
                    parts: self.parts,
                })
                .collect(),
        );
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("Sid", &statement.sid)?;
        map.serialize_entry("Effect", "Allow")?;
        map.serialize_entry("Action", &OneOrMany(&statement.actions))?;
        map.serialize_entry("Resource", &resources)?;
        if !conditions.is_empty() {
            map.serialize_entry("Condition", &condition_object(&conditions))?;
        }
        map.end()
    }
}

/// One value as a string, several as a list.
struct OneOrMany<'a>(&'a [String]);

impl Serialize for OneOrMany<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

/// A role's trust policy: its service may assume it, from this account (and for Step Functions, this state
/// machine) only.
pub fn trust_policy(model: &Model, role: &Role, parts: &ArnParts) -> Value {
    let mut conditions = vec![("StringEquals", "aws:SourceAccount", vec![parts.account.clone()])];
    if role.service == Service::StepFunctions {
        conditions.push(("ArnEquals", "aws:SourceArn", vec![state_machine_arn(model, parts)]));
    }
    let mut statement = Map::new();
    statement.insert("Sid".into(), json!("AssumedByService"));
    statement.insert("Effect".into(), json!("Allow"));
    statement.insert("Action".into(), json!("sts:AssumeRole"));
    statement.insert("Principal".into(), json!({ "Service": role.service.principal() }));
    statement.insert("Condition".into(), condition_object(&conditions));
    json!({ "Version": "2012-10-17", "Statement": [statement] })
}

/// The module key's policy: the account administers it; each role may use it as its own policy says, with the
/// same conditions; CloudWatch Logs encrypts the module's log groups with it; log delivery decrypts execution
/// logs with it while logging is on (here: on, the larger document).
pub fn key_policy(model: &Model, key: &ModuleKey, parts: &ArnParts) -> Value {
    let mut statements = vec![json!({
        "Sid": "AccountAdministersKey",
        "Effect": "Allow",
        "Action": "kms:*",
        "Resource": "*",
        "Principal": { "AWS": parts.iam_arn("root") },
    })];
    for role in &model.roles {
        let role_arn = parts.iam_arn(&format!("role/{}", parts.name_of(&role.name)));
        for granted in role
            .all_statements()
            .filter(|s| s.resources.contains(&Resource::ModuleKey))
        {
            let mut object = Map::new();
            object.insert("Sid".into(), json!(granted.sid));
            object.insert("Effect".into(), json!("Allow"));
            object.insert("Action".into(), one_or_many(granted.actions.clone()));
            object.insert("Resource".into(), json!("*"));
            object.insert("Principal".into(), json!({ "AWS": role_arn }));
            let conditions = conditions_of(model, &granted.conditions, parts);
            if !conditions.is_empty() {
                object.insert("Condition".into(), condition_object(&conditions));
            }
            statements.push(Value::Object(object));
        }
    }
    if !key.log_groups.is_empty() {
        let groups: Vec<String> = key
            .log_groups
            .iter()
            .map(|g| parts.regional_arn("logs", &format!("log-group:{}", parts.name_of(g))))
            .collect();
        statements.push(json!({
            "Sid": "CloudWatchLogsEncryptLogGroups",
            "Effect": "Allow",
            "Action": crate::emit::terraform::LOGS_ENCRYPTION_ACTIONS,
            "Resource": "*",
            "Principal": { "Service": format!("logs.{}.{}", parts.region, parts.dns_suffix) },
            "Condition": condition_object(&[("ArnEquals", "kms:EncryptionContext:aws:logs:arn", groups)]),
        }));
    }
    let dead_letters = key.topics_with_dead_letters(model);
    if !dead_letters.is_empty() {
        let topics: Vec<String> = dead_letters
            .iter()
            .map(|t| parts.regional_arn("sns", &parts.name_of(&t.name)))
            .collect();
        statements.push(json!({
            "Sid": "SnsEncryptsTopicDeadLetters",
            "Effect": "Allow",
            "Action": crate::emit::terraform::SNS_DEAD_LETTER_ACTIONS,
            "Resource": "*",
            "Principal": { "Service": "sns.amazonaws.com" },
            "Condition": condition_object(&[("ArnEquals", "aws:SourceArn", topics)]),
        }));
    }
    if key.state_machine {
        statements.push(json!({
            "Sid": "LogDeliveryDecryptsExecutionLogs",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Principal": { "Service": "delivery.logs.amazonaws.com" },
            "Condition": condition_object(&conditions_of(model, &[Condition::LogDelivery], parts)),
        }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// A topic's dead-letter queue's resource policy: SNS may send to it for this topic only; requests not made over TLS
/// are denied. The topic must have one.
pub fn topic_dead_letter_queue_policy(topic: &Topic, parts: &ArnParts) -> Value {
    let dlq = match &topic.dead_letter {
        Some(dlq) => parts.regional_arn("sqs", &parts.name_of(&dlq.name)),
        None => panic!(
            "bug: topic {:?} has no dead-letter queue, yet its policy is asked for",
            topic.key
        ),
    };
    let topic_arn = parts.regional_arn("sns", &parts.name_of(&topic.name));
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TopicDeadLetters",
                "Effect": "Allow",
                "Principal": { "Service": "sns.amazonaws.com" },
                "Action": "sqs:SendMessage",
                "Resource": dlq,
                "Condition": { "ArnEquals": { "aws:SourceArn": topic_arn } },
            },
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": dlq,
                "Condition": { "Bool": { "aws:SecureTransport": "false" } },
            },
        ],
    })
}

/// A queue's resource policy (`dead_letter`: its dead-letter queue's): requests not made over TLS are denied.
pub fn queue_policy(queue: &Queue, dead_letter: bool, parts: &ArnParts) -> Value {
    let name = match (&queue.dead_letter, dead_letter) {
        (Some(dlq), true) => &dlq.name,
        _ => &queue.name,
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": parts.regional_arn("sqs", &parts.name_of(name)),
            "Condition": { "Bool": { "aws:SecureTransport": "false" } },
        }],
    })
}

/// One `Allow` statement, as `aws_iam_policy_document` writes it: one action, resource or condition value as a
/// string, several as a list; conditions grouped by test.
pub fn statement(model: &Model, statement: &Statement, parts: &ArnParts) -> Value {
    serde_json::to_value(StatementJson {
        model,
        statement,
        parts,
    })
    .expect("bug: a statement failed to convert")
}

/// The ARN of something a statement grants access to.
pub fn resource_arn(model: &Model, resource: &Resource, parts: &ArnParts) -> String {
    ArnOf { model, resource, parts }.to_string()
}

/// A resource's ARN, written where it goes (a serializer, a counter) without a string of its own.
struct ArnOf<'a> {
    model: &'a Model,
    resource: &'a Resource,
    parts: &'a ArnParts,
}

impl std::fmt::Display for ArnOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (model, parts) = (self.model, self.parts);
        let regional = |f: &mut std::fmt::Formatter<'_>, service: &str| {
            write!(
                f,
                "arn:{}:{service}:{}:{}:",
                parts.partition, parts.region, parts.account
            )
        };
        let name =
            |f: &mut std::fmt::Formatter<'_>, name: &AwsName| write!(f, "{}{}{}", name.before, parts.name, name.after);
        match self.resource {
            Resource::Queue(key) => {
                regional(f, "sqs")?;
                name(f, &model.queue(key).name)
            }
            Resource::DeadLetterQueue(key) => {
                let dlq = match &model.queue(key).dead_letter {
                    Some(dlq) => &dlq.name,
                    None => panic!("bug: queue {key:?} has no dead-letter queue, yet a policy names it"),
                };
                regional(f, "sqs")?;
                name(f, dlq)
            }
            Resource::StateMachine => {
                regional(f, "states")?;
                f.write_str("stateMachine:")?;
                name(f, &model.state_machine.name)
            }
            Resource::Executions => {
                regional(f, "states")?;
                f.write_str("execution:")?;
                name(f, &model.state_machine.name)?;
                f.write_str(":*")
            }
            Resource::DeadLetterMapping(key) => {
                regional(f, "lambda")?;
                write!(f, "event-source-mapping:{}", parts.mapping_uuid(key))
            }
            Resource::StateMachineAlias => {
                regional(f, "states")?;
                f.write_str("stateMachine:")?;
                name(f, &model.state_machine.name)?;
                write!(f, ":{}", crate::emit::terraform::address::STATE_MACHINE_ALIAS_NAME)
            }
            Resource::Function(id) => {
                regional(f, "lambda")?;
                f.write_str("function:")?;
                name(f, &model.function(*id).name)
            }
            Resource::Topic(key) => {
                regional(f, "sns")?;
                name(f, &model.topic(key).name)
            }
            Resource::TopicDeadLetterQueue(key) => {
                let dlq = match &model.topic(key).dead_letter {
                    Some(dlq) => &dlq.name,
                    None => panic!("bug: topic {key:?} has no dead-letter queue, yet a policy names it"),
                };
                regional(f, "sqs")?;
                name(f, dlq)
            }
            Resource::TopicDeadLetterMapping(key) => {
                regional(f, "lambda")?;
                write!(
                    f,
                    "event-source-mapping:{}",
                    parts.mapping_uuid(&format!("topic {key}"))
                )
            }
            Resource::TopicKey(key) => f.write_str(&parts.customer_key_arn(&format!("topic:{key}"))),
            Resource::ModuleKey => f.write_str(&parts.module_key_arn),
            Resource::QueueKey(key) => f.write_str(&parts.customer_key_arn(key)),
            Resource::StateMachineKey => f.write_str(&parts.customer_key_arn(STATE_MACHINE_KEY_OWNER)),
            Resource::LogStreams(id) => {
                regional(f, "logs")?;
                f.write_str("log-group:")?;
                name(f, &model.function(*id).log_group.name)?;
                f.write_str(":*")
            }
            Resource::Any => f.write_str("*"),
            Resource::Bus(key) => {
                regional(f, "events")?;
                f.write_str("event-bus/")?;
                match &model.bus(key).bus {
                    BusName::Existing(existing) => f.write_str(existing),
                    BusName::Custom(custom) => name(f, custom),
                }
            }
            Resource::BusDeadLetterQueue(key) => {
                let dlq = match &model.bus(key).dead_letter {
                    Some(dlq) => &dlq.name,
                    None => panic!("bug: bus {key:?} has no dead-letter queue, yet a policy names it"),
                };
                regional(f, "sqs")?;
                name(f, dlq)
            }
            Resource::BusDeadLetterMapping(key) => {
                regional(f, "lambda")?;
                write!(f, "event-source-mapping:{}", parts.mapping_uuid(&format!("bus {key}")))
            }
            Resource::ApprovalsQueue | Resource::ApprovalsDeadLetterQueue | Resource::ApprovalTable => {
                let Some(approvals) = model.approvals.as_ref() else {
                    panic!("bug: a policy names the approvals, yet no step is an approval step")
                };
                match self.resource {
                    Resource::ApprovalsQueue => {
                        regional(f, "sqs")?;
                        name(f, &approvals.queue)
                    }
                    Resource::ApprovalsDeadLetterQueue => {
                        regional(f, "sqs")?;
                        name(f, &approvals.dead_letter)
                    }
                    _ => {
                        regional(f, "dynamodb")?;
                        f.write_str("table/")?;
                        name(f, &approvals.table)
                    }
                }
            }
            Resource::ApprovalKey => f.write_str(&parts.customer_key_arn("approval links")),
            Resource::EndpointSecret => match model.endpoint.as_ref().map(|e| &e.auth) {
                Some(crate::model::EndpointAuth::Hmac {
                    secret: crate::model::EndpointSecret::Given(arn),
                    ..
                }) => f.write_str(arn),
                // Secrets Manager adds a hyphen and six characters to the name.
                Some(crate::model::EndpointAuth::Hmac {
                    secret: crate::model::EndpointSecret::Created(secret),
                    ..
                }) => {
                    regional(f, "secretsmanager")?;
                    f.write_str("secret:")?;
                    name(f, secret)?;
                    f.write_str("-??????")
                }
                _ => panic!("bug: a policy names the endpoint's secret, yet the endpoint is no HMAC endpoint"),
            },
        }
    }
}

impl Serialize for ArnOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A statement's resources: one as a string, several as a list.
struct Arns<'a>(Vec<ArnOf<'a>>);

impl Serialize for Arns<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }
}

fn state_machine_arn(model: &Model, parts: &ArnParts) -> String {
    parts.regional_arn(
        "states",
        &format!("stateMachine:{}", parts.name_of(&model.state_machine.name)),
    )
}

fn function_arn(model: &Model, function: FunctionId, parts: &ArnParts) -> String {
    parts.regional_arn(
        "lambda",
        &format!("function:{}", parts.name_of(&model.function(function).name)),
    )
}

/// A KMS grant's conditions: (test, variable, values).
fn conditions_of(
    model: &Model,
    conditions: &[Condition],
    parts: &ArnParts,
) -> Vec<(&'static str, &'static str, Vec<String>)> {
    conditions
        .iter()
        .map(|condition| match condition {
            Condition::ViaService(service) => (
                "StringEquals",
                "kms:ViaService",
                vec![format!(
                    "{}.{}.{}",
                    service.endpoint_prefix(),
                    parts.region,
                    parts.dns_suffix
                )],
            ),
            Condition::StateMachineData => (
                "StringEquals",
                "kms:EncryptionContext:aws:states:stateMachineArn",
                vec![state_machine_arn(model, parts)],
            ),
            Condition::LogDelivery => (
                "StringEquals",
                "kms:EncryptionContext:SourceArn",
                vec![parts.regional_arn("logs", "*")],
            ),
            Condition::BusEvents(index) => (
                "StringEquals",
                "events:source",
                vec![model.buses[*index].source.clone()],
            ),
        })
        .chain(conditions.iter().filter_map(|condition| match condition {
            Condition::BusEvents(index) => Some((
                "StringEquals",
                "events:detail-type",
                vec![model.buses[*index].detail_type.clone()],
            )),
            _ => None,
        }))
        .collect()
}

/// `{"Test": {"variable": value}}`, conditions of one test in one object.
fn condition_object(conditions: &[(&str, &str, Vec<String>)]) -> Value {
    let mut by_test = Map::new();
    for (test, variable, values) in conditions {
        let entry = by_test
            .entry(test.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(variables) = entry {
            variables.insert(variable.to_string(), one_or_many(values.clone()));
        }
    }
    Value::Object(by_test)
}

/// One value as a string, several as a list: as the provider writes actions, resources and condition values.
fn one_or_many(mut values: Vec<String>) -> Value {
    if values.len() == 1 {
        Value::String(values.remove(0))
    } else {
        Value::Array(values.into_iter().map(Value::String).collect())
    }
}

/// The module's CloudWatch namespace with these parts.
pub fn namespace(parts: &ArnParts) -> String {
    parts.name_of(&module_namespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_characters_without_white_space_and_bytes() {
        let document = json!({"Sid": "a b", "Resource": ["é", "日"]});
        let text = document.to_string();
        assert_eq!(bytes(&document), text.len() as u64);
        assert_eq!(
            chars(&document),
            text.chars().filter(|c| !c.is_whitespace()).count() as u64
        );
        assert_eq!(
            chars(&document) + 1 + 1 + 2,
            text.len() as u64,
            "one space; é is 2 bytes, 日 3"
        );
    }
}

#[cfg(test)]
mod document_tests {
    use super::*;

    #[test]
    fn counted_documents_are_the_documents() {
        let spec = "name = \"d\"\n[state_machine]\nencryption = \"kms\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n\
                    [[steps]]\nname = \"B\"\nqueue = \"b\"\n[queues.a]\nencryption = \"alias/k\"\n[queues.b]\nfifo = true\n";
        let model = crate::load_model(spec, "sfngen.toml").unwrap();
        let parts = ArnParts::worst();
        for role in &model.roles {
            assert_eq!(
                role_policy_chars(&model, role, &parts),
                chars(&role_policy(&model, role, &parts))
            );
            for statement in &role.statements {
                assert_eq!(
                    statement_chars(&model, statement, &parts),
                    chars(&self::statement(&model, statement, &parts))
                );
            }
        }
    }
}
