//! `tests/*.tftest.hcl`: tests a module's users run with `terraform test` (Terraform 1.7 or later, for
//! `mock_provider`; older Terraform reads only the `.tf` files of the module's own folder, never `tests/`).
//!
//! The AWS provider is mocked (`tests/mocks/aws.tfmock.hcl`): no credentials, no AWS account, but the real
//! provider's schema and its own checks of every value (an ARN argument must hold an ARN). The data sources
//! answer a fixed partition, region and account, so every ARN the module builds is a real one's shape.
//!
//! Every expectation is computed here from the [`Model`], the data the `.tf` emitters read, never from the
//! rendered HCL: when an emitter and the model disagree (a name, a statement's resources, a validation, a
//! guard rail), a named run fails.

use super::hcl::{Block, Expr, File, boolean, number, raw, string, strings, template_text};
use super::terraform::address::{self, Address};
use super::terraform::{TOKENS_CHECK, VISIBILITY_CHECK};
use super::{GeneratedFile, generated_header};
use crate::model::{
    Alarm, AwsName, BusName, Condition, CustomerKey, DEFAULT_BUS, Encryption, FAULTS_EXPRESSION, FanOut, FunctionId,
    InputKind, LogLevel, Metric, Model, Namespace, Resource, RoleId, Statement, Watched, input,
};
use crate::spec::keys::{LOG_RETENTION_DAYS, MAX_KMS_ALIAS_CHARS, MAX_NAME_CHARS};

/// The folder of the module that holds the test files.
pub const TESTS_DIR: &str = "tests";

/// The partition, DNS suffix, region and account the mocked data sources answer.
const PARTITION: &str = "aws";
const DNS_SUFFIX: &str = "amazonaws.com";
const REGION: &str = "eu-west-1";
const ACCOUNT: &str = "123456789012";
/// The id of the key the mocked `aws_kms_key` gets: the module's own key, when it has one.
const MODULE_KEY_ID: &str = "0b1e55ed-0000-4000-8000-000000000001";

/// The `name` input of the runs that prove names and policies follow it: not any spec's name (none holds
/// `sfngen-test-b` as a prefix of itself), and valid.
const OTHER_NAME: &str = "sfngen-test-b";
/// Another account, which the policies run lets put events on the module's custom buses.
const PUBLISHER_ACCOUNT: &str = "111122223333";

/// Every test file of the module, and the mocks they share.
pub fn render(model: &Model) -> Vec<GeneratedFile> {
    let header = generated_header(model);
    let mut files = vec![
        (format!("{TESTS_DIR}/mocks/aws.tfmock.hcl"), mocks(&header, model)),
        (format!("{TESTS_DIR}/names.tftest.hcl"), names(&header, model)),
        (format!("{TESTS_DIR}/policies.tftest.hcl"), policies(&header, model)),
        (format!("{TESTS_DIR}/inputs.tftest.hcl"), inputs(&header, model)),
        (format!("{TESTS_DIR}/checks.tftest.hcl"), checks(&header, model)),
    ];
    if model.alarms.is_some() {
        files.push((format!("{TESTS_DIR}/alarms.tftest.hcl"), alarms(&header, model)));
    }
    files.push((format!("{TESTS_DIR}/dashboard.tftest.hcl"), dashboard(&header, model)));
    if model.steps.iter().any(|s| s.fan_out.is_some()) {
        files.push((format!("{TESTS_DIR}/fan_out.tftest.hcl"), fan_out(&header, model)));
    }
    files
        .into_iter()
        .map(|(path, file)| GeneratedFile::text(&path, file.render()))
        .collect()
}

// ------------------------------------------------------------------------------------------------ ARNs

/// The ARNs, URLs and names of one instance of the module (its `name` input) in the mocked account.
struct Instance<'m> {
    model: &'m Model,
    name: &'m str,
}

impl<'m> Instance<'m> {
    fn new(model: &'m Model, name: &'m str) -> Self {
        Instance { model, name }
    }

    fn named(&self, name: &AwsName) -> String {
        name.with(self.name)
    }

    fn regional_arn(service: &str, resource: &str) -> String {
        format!("arn:{PARTITION}:{service}:{REGION}:{ACCOUNT}:{resource}")
    }

    fn queue_name(&self, key: &str, dead_letter: bool) -> String {
        let queue = self.model.queue(key);
        match (&queue.dead_letter, dead_letter) {
            (Some(dlq), true) => self.named(&dlq.name),
            (None, true) => panic!("bug: queue {key:?} has no dead-letter queue, yet something names it"),
            (_, false) => self.named(&queue.name),
        }
    }

    fn queue_arn(&self, key: &str, dead_letter: bool) -> String {
        Self::regional_arn("sqs", &self.queue_name(key, dead_letter))
    }

    fn queue_url(&self, key: &str, dead_letter: bool) -> String {
        format!(
            "https://sqs.{REGION}.{DNS_SUFFIX}/{ACCOUNT}/{}",
            self.queue_name(key, dead_letter)
        )
    }

    fn state_machine_arn(&self) -> String {
        Self::regional_arn(
            "states",
            &format!("stateMachine:{}", self.named(&self.model.state_machine.name)),
        )
    }

    fn approvals(&self) -> &'m crate::model::Approvals {
        self.model
            .approvals
            .as_ref()
            .unwrap_or_else(|| panic!("bug: a statement names the approvals, yet no step is an approval step"))
    }

    fn function_arn(&self, id: FunctionId) -> String {
        Self::regional_arn(
            "lambda",
            &format!("function:{}", self.named(&self.model.function(id).name)),
        )
    }

    fn role_arn(&self, name: &AwsName) -> String {
        format!("arn:{PARTITION}:iam::{ACCOUNT}:role/{}", self.named(name))
    }

    /// What a statement's resource is, as an ARN (or `*`) in the mocked account.
    fn resource_arn(&self, resource: &Resource) -> String {
        match resource {
            Resource::Queue(key) => self.queue_arn(key, false),
            Resource::DeadLetterQueue(key) => self.queue_arn(key, true),
            Resource::StateMachine => self.state_machine_arn(),
            Resource::Executions => Self::regional_arn(
                "states",
                &format!("execution:{}:*", self.named(&self.model.state_machine.name)),
            ),
            Resource::DeadLetterMapping(key) => {
                panic!("bug: the mapping of queue {key:?} has a UUID only Lambda gives; no module test asserts its ARN")
            }
            Resource::StateMachineAlias => {
                format!("{}:{}", self.state_machine_arn(), address::STATE_MACHINE_ALIAS_NAME)
            }
            Resource::Function(id) => self.function_arn(*id),
            Resource::ModuleKey => module_key_arn(),
            Resource::QueueKey(key) => match &self.model.queue(key).encryption {
                Encryption::KeyArn(arn) => arn.clone(),
                Encryption::KeyAlias(_) => alias_target_arn(&address::key_alias_lookup(key)),
                other => panic!("bug: queue {key:?} is encrypted with {other:?}, yet a statement names its key"),
            },
            Resource::Topic(key) => Self::regional_arn("sns", &self.named(&self.model.topic(key).name)),
            Resource::TopicDeadLetterQueue(key) => match &self.model.topic(key).dead_letter {
                Some(dlq) => Self::regional_arn("sqs", &self.named(&dlq.name)),
                None => panic!("bug: topic {key:?} has no dead-letter queue, yet a statement names it"),
            },
            Resource::TopicKey(key) => match &self.model.topic(key).encryption {
                Encryption::KeyArn(arn) => arn.clone(),
                Encryption::KeyAlias(_) => alias_target_arn(&address::topic_key_alias_lookup(key)),
                other => panic!("bug: topic {key:?} is encrypted with {other:?}, yet a statement names its key"),
            },
            Resource::StateMachineKey => match &self.model.state_machine.encryption {
                Some(CustomerKey::Arn(arn)) => arn.clone(),
                Some(CustomerKey::Alias(_)) => alias_target_arn(&address::state_machine_key_alias_lookup()),
                other => panic!("bug: the state machine's key is {other:?}, yet a statement names it"),
            },
            Resource::LogStreams(id) => Self::regional_arn(
                "logs",
                &format!("log-group:{}:*", self.named(&self.model.function(*id).log_group.name)),
            ),
            Resource::Any => "*".into(),
            Resource::ApprovalsQueue => Self::regional_arn("sqs", &self.named(&self.approvals().queue)),
            Resource::ApprovalsDeadLetterQueue => Self::regional_arn("sqs", &self.named(&self.approvals().dead_letter)),
            Resource::ApprovalTable => {
                Self::regional_arn("dynamodb", &format!("table/{}", self.named(&self.approvals().table)))
            }
            // Every aws_kms_key of the mocked provider has the same ARN.
            Resource::ApprovalKey => module_key_arn(),
            Resource::EndpointSecret => match self.model.endpoint.as_ref().map(|e| &e.auth) {
                Some(crate::model::EndpointAuth::Hmac {
                    secret: crate::model::EndpointSecret::Given(arn),
                    ..
                }) => arn.clone(),
                Some(crate::model::EndpointAuth::Hmac {
                    secret: crate::model::EndpointSecret::Created(name),
                    ..
                }) => Self::regional_arn("secretsmanager", &format!("secret:{}-??????", self.named(name))),
                _ => panic!("bug: a statement names the endpoint's secret, yet the endpoint is no HMAC endpoint"),
            },
            Resource::Bus(key) => match &self.model.bus(key).bus {
                BusName::Existing(existing) => Self::regional_arn("events", &format!("event-bus/{existing}")),
                BusName::Custom(custom) => Self::regional_arn("events", &format!("event-bus/{}", self.named(custom))),
            },
            Resource::BusDeadLetterQueue(key) => match &self.model.bus(key).dead_letter {
                Some(dlq) => Self::regional_arn("sqs", &self.named(&dlq.name)),
                None => panic!("bug: bus {key:?} has no dead-letter queue, yet a statement names it"),
            },
            Resource::BusDeadLetterMapping(key) => {
                panic!("bug: the mapping of bus {key:?} has a UUID only Lambda gives; no module test asserts its ARN")
            }
            Resource::TopicDeadLetterMapping(key) => {
                panic!("bug: the mapping of topic {key:?} has a UUID only Lambda gives; no module test asserts its ARN")
            }
        }
    }

    /// A condition of a statement: each variable it tests and the one value it allows there.
    fn conditions(&self, condition: Condition) -> Vec<(&'static str, String)> {
        match condition {
            Condition::ViaService(service) => vec![(
                "kms:ViaService",
                format!("{}.{REGION}.{DNS_SUFFIX}", service.endpoint_prefix()),
            )],
            Condition::StateMachineData => vec![(
                "kms:EncryptionContext:aws:states:stateMachineArn",
                self.state_machine_arn(),
            )],
            Condition::LogDelivery => vec![("kms:EncryptionContext:SourceArn", Self::regional_arn("logs", "*"))],
            Condition::BusEvents(index) => {
                let bus = &self.model.buses[index];
                vec![
                    ("events:source", bus.source.clone()),
                    ("events:detail-type", bus.detail_type.clone()),
                ]
            }
        }
    }
}

/// The mocked ARN of the module's own key.
fn module_key_arn() -> String {
    Instance::regional_arn("kms", &format!("key/{MODULE_KEY_ID}"))
}

/// The key ARN a mocked alias lookup answers: one key per lookup, told apart by the lookup's name.
fn alias_target_arn(lookup: &Address) -> String {
    let digits: String = format!("{:012x}", fnv1a(lookup.to_string().as_bytes()) & 0xffff_ffff_ffff);
    Instance::regional_arn("kms", &format!("key/0b1e55ed-0000-4000-8000-{digits}"))
}

/// FNV-1a, 64 bits: a stable number from a text.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

// ------------------------------------------------------------------------------------------------ runs

/// `command = plan` (nothing applied; computed attributes unknown) or `apply` (the mocked provider makes
/// every resource, so the ARNs AWS would choose are known).
#[derive(Clone, Copy, PartialEq)]
enum Command {
    Plan,
    Apply,
}

/// One `run` block.
struct Run {
    name: String,
    comment: String,
    command: Command,
    variables: Vec<(String, Expr)>,
    overrides: Vec<Block>,
    expect_failures: Vec<String>,
    asserts: Vec<Block>,
}

impl Run {
    fn new(name: impl Into<String>, comment: impl Into<String>, command: Command) -> Self {
        Run {
            name: name.into(),
            comment: comment.into(),
            command,
            variables: Vec::new(),
            overrides: Vec::new(),
            expect_failures: Vec::new(),
            asserts: Vec::new(),
        }
    }

    fn variable(mut self, name: &str, value: Expr) -> Self {
        self.variables.push((name.to_string(), value));
        self
    }

    /// Lists the `check` blocks that fail at this run's inputs (the model says which).
    fn expecting_checks(mut self, model: &Model) -> Self {
        let inputs = Inputs::of(model, &self.variables);
        self.expect_failures
            .extend(failing_checks(model, &inputs).into_iter().map(|c| format!("check.{c}")));
        self
    }

    fn assert(mut self, condition: String, message: String) -> Self {
        self.asserts.push(
            Block::new("assert", Vec::<String>::new())
                .attr("condition", raw(condition))
                .attr("error_message", raw(message)),
        );
        self
    }

    /// `actual == expected`, where both are HCL; the message shows what `actual` was.
    fn assert_eq(self, actual: &str, expected: &Expr, what: &str) -> Self {
        let expected = inline_text(expected);
        self.assert(
            format!("{actual} == {expected}"),
            format!(
                "\"{}: expected {}, got ${{jsonencode({actual})}}.\"",
                template_text(what),
                template_text(&expected)
            ),
        )
    }

    /// `toset(actual) == toset(expected)`: the same strings, in any order.
    fn assert_set(self, actual: &str, expected: &[String], what: &str) -> Self {
        let expected = strings_inline(expected);
        self.assert(
            format!("toset({actual}) == toset({expected})"),
            format!(
                "\"{}: expected {}, got ${{jsonencode({actual})}}.\"",
                template_text(what),
                template_text(&expected)
            ),
        )
    }

    fn block(self) -> Block {
        let mut block = Block::new("run", [self.name.as_str()]).comment(&self.comment).attr(
            "command",
            raw(match self.command {
                Command::Plan => "plan",
                Command::Apply => "apply",
            }),
        );
        if !self.variables.is_empty() {
            let mut variables = Block::new("variables", Vec::<String>::new());
            for (name, value) in self.variables {
                variables = variables.attr(name, value);
            }
            block = block.block(variables);
        }
        for override_block in self.overrides {
            block = block.block(override_block);
        }
        if !self.expect_failures.is_empty() {
            block = block.blank().attr(
                "expect_failures",
                Expr::List(self.expect_failures.into_iter().map(raw).collect()),
            );
        }
        for assert in self.asserts {
            block = block.block(assert);
        }
        block
    }
}

/// An expression written on one line (lists as `["a", "b"]`), for conditions and messages.
fn inline_text(expr: &Expr) -> String {
    match expr {
        Expr::Raw(text) => text.clone(),
        Expr::List(items) => format!("[{}]", items.iter().map(inline_text).collect::<Vec<_>>().join(", ")),
        other => panic!("bug: a test writes {other:?} inline"),
    }
}

fn strings_inline(items: &[String]) -> String {
    inline_text(&strings(items))
}

/// A test file: the header, what it tests, the mocked provider, then its runs.
fn test_file(header: &str, about: &str, runs: Vec<Run>) -> File {
    let mut file = File::new(header);
    file.push_commented(
        &format!(
            "{about}\nRun `terraform init && terraform test` in the module's folder (Terraform 1.7 or later). The AWS provider\nis mocked: no credentials, no AWS account; the data sources answer partition {PARTITION:?}, region {REGION:?}\nand account {ACCOUNT:?} (tests/mocks/aws.tfmock.hcl)."
        ),
        Block::new("mock_provider", ["aws"]).attr("source", string(&format!("./{TESTS_DIR}/mocks"))),
    );
    for run in runs {
        file.push(run.block());
    }
    file
}

// ------------------------------------------------------------------------------------------------ mocks

/// The mocked provider's answers: the data sources the module reads, and resources whose computed
/// attributes other resources take as ARNs (the provider checks them).
fn mocks(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let defaults = |kind: &str, kind_name: &str, values: Vec<(&'static str, Expr)>| {
        Block::new(kind.to_string(), [kind_name]).attr(
            "defaults",
            Expr::Object(values.into_iter().map(|(k, v)| (k.into(), v)).collect()),
        )
    };
    let arn = |service: &str, resource: &str| string(&Instance::regional_arn(service, resource));
    file.push_commented(
        "The partition, region and account every ARN of the module is built from.",
        defaults(
            "mock_data",
            "aws_partition",
            vec![("partition", string(PARTITION)), ("dns_suffix", string(DNS_SUFFIX))],
        ),
    );
    file.push(defaults("mock_data", "aws_service", vec![("region", string(REGION))]));
    file.push(defaults(
        "mock_data",
        "aws_caller_identity",
        vec![
            ("account_id", string(ACCOUNT)),
            ("arn", string(&format!("arn:{PARTITION}:iam::{ACCOUNT}:root"))),
        ],
    ));
    file.push_commented(
        "A mocked provider computes no policy JSON: the tests read each document's statements instead. IAM\nresources still check that what they are given is a JSON policy.",
        defaults(
            "mock_data",
            "aws_iam_policy_document",
            vec![("json", string("{\"Version\":\"2012-10-17\",\"Statement\":[]}"))],
        ),
    );
    file.push_commented(
        "A key looked up by alias: the tests give each lookup its own key.",
        defaults(
            "mock_data",
            "aws_kms_alias",
            vec![
                ("arn", arn("kms", "alias/mocked")),
                ("target_key_arn", string(&module_key_arn())),
                ("target_key_id", string(MODULE_KEY_ID)),
            ],
        ),
    );
    file.push_commented(
        "What AWS would choose when it creates a resource, in the shape the provider checks.",
        defaults(
            "mock_resource",
            "aws_kms_key",
            vec![("arn", string(&module_key_arn())), ("key_id", string(MODULE_KEY_ID))],
        ),
    );
    file.push(defaults(
        "mock_resource",
        "aws_iam_role",
        vec![("arn", string(&format!("arn:{PARTITION}:iam::{ACCOUNT}:role/mocked")))],
    ));
    file.push(defaults(
        "mock_resource",
        "aws_sqs_queue",
        vec![
            ("arn", arn("sqs", "mocked")),
            (
                "url",
                string(&format!("https://sqs.{REGION}.{DNS_SUFFIX}/{ACCOUNT}/mocked")),
            ),
        ],
    ));
    if !model.topics.is_empty() {
        file.push(defaults(
            "mock_resource",
            "aws_sns_topic",
            vec![("arn", arn("sns", "mocked"))],
        ));
    }
    file.push(defaults(
        "mock_resource",
        "aws_cloudwatch_log_group",
        vec![("arn", arn("logs", "log-group:mocked"))],
    ));
    file.push(defaults(
        "mock_resource",
        "aws_lambda_function",
        vec![("arn", arn("lambda", "function:mocked"))],
    ));
    file.push(defaults(
        "mock_resource",
        "aws_sfn_state_machine",
        vec![("arn", arn("states", "stateMachine:mocked"))],
    ));
    file
}

/// `override_resource` for the queues of an instance: the ARNs and URLs AWS would give them, so that what
/// refers to a queue can be told from what refers to another.
fn queue_overrides(instance: &Instance<'_>) -> Vec<Block> {
    let mut blocks = Vec::new();
    for queue in &instance.model.queues {
        let mut pairs = vec![(address::queue(&queue.key), false)];
        if queue.dead_letter.is_some() {
            pairs.push((address::dead_letter_queue(&queue.key), true));
        }
        for (at, dead_letter) in pairs {
            let url = instance.queue_url(&queue.key, dead_letter);
            blocks.push(override_block(
                "override_resource",
                &at,
                vec![
                    ("arn", string(&instance.queue_arn(&queue.key, dead_letter))),
                    ("url", string(&url)),
                    ("id", string(&url)),
                ],
            ));
        }
    }
    blocks
}

fn override_block(kind: &'static str, target: &Address, values: Vec<(&'static str, Expr)>) -> Block {
    Block::new(kind, Vec::<String>::new())
        .attr("target", target.reference())
        .attr(
            "values",
            Expr::Object(values.into_iter().map(|(k, v)| (k.into(), v)).collect()),
        )
}

/// `override_data` for each key looked up by alias: a key of its own.
fn alias_overrides(model: &Model) -> Vec<Block> {
    let mut lookups: Vec<Address> = model
        .alias_queues()
        .iter()
        .map(|q| address::key_alias_lookup(&q.key))
        .collect();
    if matches!(model.state_machine.encryption, Some(CustomerKey::Alias(_))) {
        lookups.push(address::state_machine_key_alias_lookup());
    }
    lookups.extend(
        model
            .alias_topics()
            .iter()
            .map(|t| address::topic_key_alias_lookup(&t.key)),
    );
    lookups
        .iter()
        .map(|lookup| {
            override_block(
                "override_data",
                lookup,
                vec![("target_key_arn", string(&alias_target_arn(lookup)))],
            )
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------ names

/// Every resource that carries an AWS name derived from `name`: (address, the attribute that holds it, the
/// name). The state machine's log group only while logging is on by default (its `count`).
fn named_resources(model: &Model) -> Vec<(String, &'static str, &AwsName)> {
    let mut named = vec![(address::state_machine().to_string(), "name", &model.state_machine.name)];
    for queue in &model.queues {
        named.push((address::queue(&queue.key).to_string(), "name", &queue.name));
        if let Some(dlq) = &queue.dead_letter {
            named.push((address::dead_letter_queue(&queue.key).to_string(), "name", &dlq.name));
        }
    }
    for topic in &model.topics {
        named.push((address::topic(&topic.key).to_string(), "name", &topic.name));
        if let Some(dlq) = &topic.dead_letter {
            named.push((
                address::topic_dead_letter_queue(&topic.key).to_string(),
                "name",
                &dlq.name,
            ));
        }
    }
    for function in &model.functions {
        named.push((
            address::function(function.id).to_string(),
            "function_name",
            &function.name,
        ));
        named.push((
            address::function_log_group(function.id).to_string(),
            "name",
            &function.log_group.name,
        ));
        for metric in &function.log_metrics {
            named.push((
                address::log_metric_filter(metric.id).to_string(),
                "name",
                &metric.filter_name,
            ));
        }
    }
    named.push((
        address::state_machine_log_group().to_string(),
        "name",
        &model.state_machine.logging.log_group.name,
    ));
    for metric in &model.business_failures {
        named.push((
            address::log_metric_filter(metric.id).to_string(),
            "name",
            &metric.filter_name,
        ));
    }
    for role in &model.roles {
        named.push((address::role(role.id).to_string(), "name", &role.name));
        named.push((address::role_policy(role.id).to_string(), "name", &role.name));
    }
    if let Some(key) = &model.module_key {
        named.push((address::module_key_alias().to_string(), "name", &key.alias));
    }
    named
}

fn names(header: &str, model: &Model) -> File {
    let instance = Instance::new(model, OTHER_NAME);
    let mut run = Run::new(
        "names_follow_the_name_input",
        format!(
            "Another instance of the module: every AWS name starts from var.name ({OTHER_NAME:?}), not the spec's {:?}.",
            model.name
        ),
        Command::Plan,
    )
    .variable(input::NAME, string(OTHER_NAME))
    .expecting_checks(model);
    for (at, attribute, name) in named_resources(model) {
        run = run.assert_eq(
            &format!("{at}.{attribute}"),
            &string(&instance.named(name)),
            &format!("{at}.{attribute}"),
        );
    }
    run = run
        .assert_eq(
            "output.state_machine_name",
            &string(&instance.named(&model.state_machine.name)),
            "the state_machine_name output",
        )
        .assert_eq(
            "output.callback_function_name",
            &string(&instance.named(&model.function(FunctionId::Callback).name)),
            "the callback_function_name output",
        );
    let defaults = Run::new(
        "names_default_to_the_spec",
        format!(
            "The module as rendered: every AWS name starts from the spec's name, {:?}.",
            model.name
        ),
        Command::Plan,
    )
    .expecting_checks(model)
    .assert_eq(
        &format!("{}.name", address::state_machine()),
        &string(&model.state_machine.name.with(&model.name)),
        "the state machine's name",
    );
    test_file(
        header,
        "Names: one module, several instances (dev, prod) in one account, each named by its name input.",
        vec![run, defaults],
    )
}

// ------------------------------------------------------------------------------------------------ policies

/// The `one()` of a document's statement with this sid: `one([for s in DOC.statement : s.FIELD if s.sid == SID])`.
fn statement_field(document: &Address, sid: &str, field: &str) -> String {
    format!(
        "one([for s in {document}.statement : s.{field} if s.sid == {}])",
        inline_text(&string(sid))
    )
}

/// Asserts a document's statements: exactly the model's sids, each on exactly its resources, with each
/// condition the model gives it allowing exactly this instance's value.
fn assert_document(run: Run, instance: &Instance<'_>, document: &Address, statements: &[Statement]) -> Run {
    assert_document_but(run, instance, document, statements, |_| false)
}

/// [`assert_document`], but the resources of the statements `unknown` selects are left unasserted: ARNs that
/// end in an id only AWS gives (an event source mapping's UUID), which the mocked provider makes up.
fn assert_document_but(
    mut run: Run,
    instance: &Instance<'_>,
    document: &Address,
    statements: &[Statement],
    unknown: impl Fn(&Statement) -> bool,
) -> Run {
    let sids: Vec<String> = statements.iter().map(|s| s.sid.clone()).collect();
    run = run.assert_set(
        &format!("[for s in {document}.statement : s.sid]"),
        &sids,
        &format!("the statements of {document}"),
    );
    for statement in statements.iter().filter(|s| !unknown(s)) {
        let resources: Vec<String> = statement.resources.iter().map(|r| instance.resource_arn(r)).collect();
        run = run.assert_set(
            &statement_field(document, &statement.sid, "resources"),
            &resources,
            &format!("the resources of statement {} of {document}", statement.sid),
        );
        let mut conditions: Vec<(&str, String)> = statement
            .conditions
            .iter()
            .flat_map(|c| instance.conditions(*c))
            .collect();
        if let Some(function) = statement.only_from {
            conditions.push(("lambda:SourceFunctionArn", instance.function_arn(function)));
        }
        for (variable, value) in conditions {
            run = run.assert_set(
                &format!(
                    "one([for c in {} : c.values if c.variable == {}])",
                    statement_field(document, &statement.sid, "condition"),
                    inline_text(&string(variable))
                ),
                &[value],
                &format!("condition {variable} of statement {} of {document}", statement.sid),
            );
        }
    }
    run
}

fn policies(header: &str, model: &Model) -> File {
    let instance = Instance::new(model, OTHER_NAME);
    let boundary = format!("arn:{PARTITION}:iam::{ACCOUNT}:policy/sfngen-test-boundary");
    let mut run = Run::new(
        "policies_name_only_this_instance",
        format!(
            "Another instance ({OTHER_NAME:?}), execution logging and tracing on, so that every statement is there: each\npolicy grants exactly the model's statements, on this instance's own ARNs."
        ),
        Command::Apply,
    )
    .variable(input::NAME, string(OTHER_NAME))
    .variable(input::LOG_LEVEL, string(LogLevel::Error.as_str()))
    .variable(input::TRACING, boolean(true))
    .variable("permissions_boundary", string(&boundary));
    // A custom bus's policy exists while other accounts may put events on it: one, so that the run holds it.
    for bus in model.buses.iter().filter(|b| b.created()) {
        let policy = address::bus_policy(&bus.key);
        run = run
            .variable(&bus.publisher_accounts_input(), strings([PUBLISHER_ACCOUNT]))
            .assert_set(
                &format!("jsondecode({policy}[0].policy).Statement[0].Principal.AWS"),
                &[format!("arn:{PARTITION}:iam::{PUBLISHER_ACCOUNT}:root")],
                &format!("the accounts {policy} lets put events"),
            );
    }
    run.overrides.extend(queue_overrides(&instance));
    run.overrides.extend(alias_overrides(model));
    run = run.expecting_checks(model);
    for role in &model.roles {
        run = assert_document(
            run,
            &instance,
            &address::permissions_document(role.id),
            &role.statements,
        );
        for policy in &role.managed_policies {
            run = assert_document(
                run,
                &instance,
                &address::managed_policy_document(role.id, policy.number),
                &policy.statements,
            );
        }
        let trust = address::trust_document(role.id);
        run = run
            .assert_set(
                &format!(
                    "one([for c in {} : c.values if c.variable == \"aws:SourceAccount\"])",
                    statement_field(&trust, "AssumedByService", "condition")
                ),
                &[ACCOUNT.to_string()],
                &format!("aws:SourceAccount of {trust}"),
            )
            .assert_eq(
                &format!("{}.permissions_boundary", address::role(role.id)),
                &string(&boundary),
                &format!("the permissions boundary of {}", address::role(role.id)),
            );
        if role.id == RoleId::StateMachine {
            run = run.assert_set(
                &format!(
                    "one([for c in {} : c.values if c.variable == \"aws:SourceArn\"])",
                    statement_field(&trust, "AssumedByService", "condition")
                ),
                &[instance.state_machine_arn()],
                &format!("aws:SourceArn of {trust}"),
            );
        }
    }
    for policy in &model.worker_policies {
        let document = match policy.part {
            Some(part) => address::worker_policy_part_document(part),
            None => address::worker_policy_document(policy.queue.as_deref()),
        };
        run = assert_document(run, &instance, &document, &policy.statements);
    }
    for policy in &model.operator_policies {
        let document = address::operator_policy_document(policy.part);
        run = assert_document_but(run, &instance, &document, &policy.statements, |statement| {
            statement.resources.iter().any(|r| {
                matches!(
                    r,
                    Resource::DeadLetterMapping(_)
                        | Resource::BusDeadLetterMapping(_)
                        | Resource::TopicDeadLetterMapping(_)
                )
            })
        });
    }
    run = assert_document(
        run,
        &instance,
        &address::starter_policy_document(),
        &model.starter_policy,
    );
    if model.module_key.is_some() {
        let mut principals = vec![format!("arn:{PARTITION}:iam::{ACCOUNT}:root")];
        principals.extend(model.roles.iter().map(|r| instance.role_arn(&r.name)));
        let document = address::key_policy_document();
        run = run.assert(
            format!(
                "alltrue([for s in {document}.statement : alltrue([for p in s.principals : p.type != \"AWS\" || length(setsubtract(p.identifiers, {})) == 0])])",
                strings_inline(&principals)
            ),
            format!(
                "\"{}\"",
                template_text(&format!(
                    "{document} names an AWS principal beyond the account root and this instance's roles."
                ))
            ),
        );
    }
    for queue in &model.queues {
        run = assert_queue_policies(run, &instance, &queue.key, queue.dead_letter.is_some());
    }
    for (queue, _) in model.dead_letter_readers() {
        let mapping = address::dead_letter_mapping(&queue.key);
        run = run.assert_eq(
            &format!("{mapping}.event_source_arn"),
            &string(&instance.queue_arn(&queue.key, true)),
            &format!("the queue {mapping} reads"),
        );
    }
    test_file(
        header,
        "Policies: every grant is scoped to this instance's own ARNs (or \"*\" where AWS allows nothing else).",
        vec![run],
    )
}

/// A queue's TLS-only policy names the queue itself; its dead-letter queue's policies name the dead-letter
/// queue, and let only this queue redrive into it.
fn assert_queue_policies(mut run: Run, instance: &Instance<'_>, key: &str, dead_letter: bool) -> Run {
    let mut policies = vec![(address::queue_policy(key, false), false)];
    if dead_letter {
        policies.push((address::queue_policy(key, true), true));
    }
    for (policy, of_dlq) in policies {
        run = run.assert_set(
            &format!("[for s in jsondecode({policy}.policy).Statement : s.Resource]"),
            &[instance.queue_arn(key, of_dlq)],
            &format!("the resources of {policy}"),
        );
    }
    if dead_letter {
        let allow = address::redrive_allow_policy(key);
        run = run
            .assert_set(
                &format!("jsondecode({allow}.redrive_allow_policy).sourceQueueArns"),
                &[instance.queue_arn(key, false)],
                &format!("the queues {allow} lets redrive"),
            )
            .assert_eq(
                &format!("jsondecode({}.redrive_policy).deadLetterTargetArn", address::queue(key)),
                &string(&instance.queue_arn(key, true)),
                &format!("the dead-letter queue of {}", address::queue(key)),
            );
    }
    run
}

// ------------------------------------------------------------------------------------------------ inputs

/// Values an input's validation must refuse, as HCL, each with what is wrong with it.
fn refused_values(kind: &InputKind) -> Vec<(Expr, &'static str)> {
    match kind {
        InputKind::Name { .. } => vec![
            (string("Sfngen-Test"), "upper case"),
            (string("1sfngen"), "a digit first"),
            (string("sfngen-"), "a trailing -"),
            (string(&"s".repeat(MAX_NAME_CHARS + 1)), "too long"),
            (raw("null"), "null"),
        ],
        InputKind::OptionalPolicyArn => vec![
            (string("boundary"), "not an ARN"),
            (
                string(&format!("arn:{PARTITION}:iam::{ACCOUNT}:role/boundary")),
                "a role's ARN",
            ),
        ],
        InputKind::Choice { values, .. } => {
            let mut refused = vec![(string(""), "empty")];
            if let Some(lower) = values
                .iter()
                .map(|v| v.to_lowercase())
                .find(|v| !values.contains(&v.as_str()))
            {
                refused.insert(0, (string(&lower), "lower case"));
            }
            refused
        }
        InputKind::RetentionDays { .. } => {
            let first_gap = (1..).find(|d| !LOG_RETENTION_DAYS.contains(d)).unwrap_or(2);
            let max = LOG_RETENTION_DAYS.iter().max().copied().unwrap_or(3653);
            vec![
                (number(u64::from(first_gap)), "not one of CloudWatch Logs' values"),
                (number(0), "zero"),
                (number(u64::from(max) + 1), "beyond the longest"),
            ]
        }
        InputKind::WholeNumber { min, max, .. } => vec![
            (raw(format!("{}", i128::from(*min) - 1)), "below the range"),
            (number(max + 1), "above the range"),
            (raw(format!("{min}.5")), "not a whole number"),
        ],
        InputKind::KmsKeyArn { .. } => vec![
            (string("alias/sfngen-test"), "an alias"),
            (
                string(&Instance::regional_arn("kms", "alias/sfngen-test")),
                "an alias's ARN",
            ),
        ],
        InputKind::KmsKeyAlias { .. } => vec![
            (string("sfngen-test"), "no alias/ prefix"),
            (
                string(&format!("alias/{}", "a".repeat(MAX_KMS_ALIAS_CHARS))),
                "too long",
            ),
            (string(&module_key_arn()), "a key ARN"),
        ],
        InputKind::SecretArn { .. } => vec![
            (string("sfngen-test"), "a secret's name"),
            (
                string(&Instance::regional_arn("kms", "key/sfngen-test")),
                "another service's ARN",
            ),
        ],
        InputKind::Tags { fixed } => refused_tags(fixed),
        InputKind::ArnList => {
            let arns: Vec<String> = (0..=crate::limits::ALARM_ACTIONS.figure)
                .map(|i| Instance::regional_arn("sns", &format!("alarms-{i}")))
                .collect();
            vec![(strings(&arns), "more ARNs than an alarm takes")]
        }
        InputKind::OptionalVersionArn => vec![
            (
                string(&format!(
                    "{}:0",
                    Instance::regional_arn("states", "stateMachine:sfngen-test")
                )),
                "version 0",
            ),
            (
                string(&format!(
                    "{}:live",
                    Instance::regional_arn("states", "stateMachine:sfngen-test")
                )),
                "an alias's ARN",
            ),
            (
                string(&Instance::regional_arn("states", "stateMachine:sfngen-test")),
                "the state machine's own ARN",
            ),
        ],
        InputKind::AccountIds => vec![
            (strings(["12345678901"]), "11 digits"),
            (strings(["arn:aws:iam::111122223333:root"]), "an ARN, not an account ID"),
        ],
        InputKind::OptionalPath | InputKind::Flag { .. } => Vec::new(),
    }
}

/// Tags the `tags` input must refuse, beside the keys every resource already has (`fixed`): one key too many, a
/// key that differs from a fixed one only in case, a key in AWS's own `aws:` prefix.
fn refused_tags(fixed: &[String]) -> Vec<(Expr, &'static str)> {
    let map = |pairs: Vec<(String, &str)>| {
        let entries: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{} = {}", quoted(k), quoted(v)))
            .collect();
        raw(format!("{{ {} }}", entries.join(", ")))
    };
    let room = crate::limits::TAGS_PER_RESOURCE.figure as usize - fixed.len();
    let mut refused = vec![(
        map((0..=room).map(|i| (format!("Extra{i}"), "x")).collect()),
        "one tag beyond AWS's limit with the module's own",
    )];
    if let Some(other_case) = fixed.iter().map(|k| k.to_lowercase()).find(|k| !fixed.contains(k)) {
        refused.push((map(vec![(other_case, "x")]), "a module tag's key in another case"));
    }
    refused.push((map(vec![("aws:owner".to_string(), "x")]), "AWS's own prefix"));
    refused
}

/// `text` as an HCL string literal.
fn quoted(text: &str) -> String {
    match string(text) {
        Expr::Raw(literal) => literal,
        other => unreachable!("string() is a one-line literal, not {other:?}"),
    }
}

/// The least and the most an input allows, as HCL, where its rule is a range or a list.
fn allowed_limits(kind: &InputKind) -> Option<(Expr, Expr)> {
    match kind {
        InputKind::Name { .. } => Some((string("s"), string(&"s".repeat(MAX_NAME_CHARS)))),
        InputKind::RetentionDays { .. } => {
            let (first, last) = (LOG_RETENTION_DAYS.first()?, LOG_RETENTION_DAYS.last()?);
            Some((number(u64::from(*first)), number(u64::from(*last))))
        }
        InputKind::WholeNumber { min, max, .. } => Some((number(*min), number(*max))),
        _ => None,
    }
}

fn inputs(header: &str, model: &Model) -> File {
    let validated: Vec<(String, Vec<(Expr, &'static str)>)> = model
        .inputs()
        .into_iter()
        .map(|i| (i.name, refused_values(&i.kind)))
        .filter(|(_, refused)| !refused.is_empty())
        .collect();
    let rounds = validated.iter().map(|(_, refused)| refused.len()).max().unwrap_or(0);
    let mut runs = Vec::new();
    for round in 0..rounds {
        let mut run = Run::new(
            format!("refuses_bad_values_{}", round + 1),
            "Each validated input set to a value its rule refuses (one run can fail several variables: Terraform checks\neach validation on its own); the plan must fail at exactly these variables.",
            Command::Plan,
        );
        let mut what = Vec::new();
        for (name, refused) in &validated {
            if let Some((value, why)) = refused.get(round) {
                run = run.variable(name, value.clone());
                run.expect_failures.push(format!("var.{name}"));
                what.push(format!("{name}: {why}"));
            }
        }
        run.comment = format!("{}\n{}", run.comment, super::terraform::wrapped(&what.join("; ")));
        runs.push(run);
    }
    for (label, pick_max) in [("least", false), ("most", true)] {
        let mut run = Run::new(
            format!("accepts_the_{label}_each_input_allows"),
            format!("Each input with a range or a list of values at the {label} it allows: the plan succeeds."),
            Command::Plan,
        );
        for input in model.inputs() {
            if let Some((least, most)) = allowed_limits(&input.kind) {
                run = run.variable(&input.name, if pick_max { most } else { least });
            }
        }
        runs.push(run.expecting_checks(model));
    }
    test_file(
        header,
        "Inputs: every validated input refuses what the spec's rule for its key refuses, and takes its limits.",
        runs,
    )
}

// ------------------------------------------------------------------------------------------------ checks

/// The inputs the plan-time checks read, at a run's values or else the module's defaults (the spec's).
struct Inputs {
    log_level: String,
    include_execution_data: bool,
    callback_timeout_seconds: u64,
}

impl Inputs {
    fn of(model: &Model, variables: &[(String, Expr)]) -> Inputs {
        let set = |name: &str| {
            variables
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| inline_text(value))
        };
        let number = |name: &str| set(name).and_then(|text| text.parse::<u64>().ok());
        let logging = &model.state_machine.logging;
        Inputs {
            log_level: set(input::LOG_LEVEL)
                .map(|text| text.trim_matches('"').to_string())
                .unwrap_or_else(|| logging.level.as_str().to_string()),
            include_execution_data: set(input::INCLUDE_EXECUTION_DATA)
                .map(|text| text == "true")
                .unwrap_or(logging.include_execution_data),
            callback_timeout_seconds: number(input::CALLBACK_TIMEOUT_SECONDS).unwrap_or(model.callback.timeout_seconds),
        }
    }
}

/// The `check` blocks that fail at these inputs: sfngen's guard rails, as the model decides them.
fn failing_checks(model: &Model, inputs: &Inputs) -> Vec<&'static str> {
    let mut failing = Vec::new();
    if inputs.log_level == LogLevel::All.as_str() && inputs.include_execution_data {
        failing.push(TOKENS_CHECK);
    }
    if model
        .queues
        .iter()
        .any(|q| inputs.callback_timeout_seconds > q.visibility_timeout_seconds)
    {
        failing.push(VISIBILITY_CHECK);
    }
    failing
}

fn checks(header: &str, model: &Model) -> File {
    let level_all = string(LogLevel::All.as_str());
    let mut runs = vec![
        Run::new(
            "warns_when_execution_logs_would_hold_task_tokens",
            "Level ALL with execution data: every task token would land in CloudWatch Logs.",
            Command::Plan,
        )
        .variable(input::LOG_LEVEL, level_all.clone())
        .variable(input::INCLUDE_EXECUTION_DATA, boolean(true)),
        Run::new(
            "quiet_when_execution_data_stays_out_of_the_logs",
            "Level ALL without execution data: no token in the logs, no warning.",
            Command::Plan,
        )
        .variable(input::LOG_LEVEL, level_all)
        .variable(input::INCLUDE_EXECUTION_DATA, boolean(false)),
    ];
    let shortest = model.queues.iter().min_by_key(|q| q.visibility_timeout_seconds);
    let timeout = crate::spec::keys::CALLBACK_TIMEOUT.rule;
    if let Some(queue) = shortest {
        let visibility = queue.visibility_timeout_seconds;
        if visibility < timeout.max {
            runs.push(
                Run::new(
                    "warns_when_the_callback_outlasts_a_queues_visibility",
                    format!(
                        "A callback timeout one second beyond queue {:?}'s visibility timeout ({visibility} s).",
                        queue.key
                    ),
                    Command::Plan,
                )
                .variable(input::CALLBACK_TIMEOUT_SECONDS, number(visibility + 1)),
            );
        }
        let fits = visibility.clamp(timeout.min, timeout.max);
        runs.push(
            Run::new(
                "quiet_when_the_callback_fits_every_queues_visibility",
                format!("A callback timeout of {fits} s, within every queue's visibility timeout where one allows it."),
                Command::Plan,
            )
            .variable(input::CALLBACK_TIMEOUT_SECONDS, number(fits)),
        );
    }
    let runs = runs.into_iter().map(|run| run.expecting_checks(model)).collect();
    test_file(
        header,
        "Plan-time checks: sfngen's guard rails warn, in every environment, exactly when their inputs say so.",
        runs,
    )
}

// ------------------------------------------------------------------------------------------------ fan-out

/// Each fan-out step, in the definition Terraform hands Step Functions: a Map over its array, as many at once as
/// the spec says, whose item Task sends to this instance's queue (the template's variables reach inside the Map)
/// and, with failures tolerated, catches every error into its Pass state.
fn fan_out(header: &str, model: &Model) -> File {
    let instance = Instance::new(model, OTHER_NAME);
    let mut run = Run::new(
        "fan_out_steps_are_maps_of_callback_tasks",
        format!("Another instance ({OTHER_NAME:?}): each fan-out step's Map and the callback Task it runs per item."),
        Command::Apply,
    )
    .variable(input::NAME, string(OTHER_NAME));
    run.overrides.extend(queue_overrides(&instance));
    run.overrides.extend(alias_overrides(model));
    run = run.expecting_checks(model);
    let definition = format!("jsondecode({}.definition)", address::state_machine());
    for step in &model.steps {
        let Some(fan_out) = step.fan_out.as_ref() else {
            continue;
        };
        let map = format!("{definition}.States[{}]", quoted(&step.name));
        let task = format!(
            "{map}.ItemProcessor.States[{}]",
            quoted(&FanOut::task_state(&step.name))
        );
        run = run
            .assert_eq(
                &format!("{map}.Type"),
                &string("Map"),
                &format!("{:?}'s state type", step.name),
            )
            .assert_eq(
                &format!("{map}.ItemsPath"),
                &string(&fan_out.items_path),
                &format!("{:?}'s items", step.name),
            );
        if let Some(queue) = step.queue_key() {
            run = run
                .assert_eq(
                    &format!("{task}.Parameters.QueueUrl"),
                    &string(&instance.queue_url(queue, false)),
                    &format!("{:?}'s item queue", step.name),
                )
                .assert_eq(
                    &format!("{task}.Resource"),
                    &string(&format!("arn:{PARTITION}:states:::sqs:sendMessage.waitForTaskToken")),
                    &format!("{:?}'s item task", step.name),
                );
        }
        run = match fan_out.max_concurrency {
            Some(n) => run.assert_eq(
                &format!("{map}.MaxConcurrency"),
                &number(u64::from(n)),
                &format!("{:?}'s concurrency", step.name),
            ),
            None => run.assert(
                format!("!contains(keys({map}), \"MaxConcurrency\")"),
                format!("\"{}: no MaxConcurrency expected.\"", template_text(&step.name)),
            ),
        };
        if fan_out.tolerate_failures {
            run = run.assert_eq(
                &format!("{task}.Catch[0].Next"),
                &string(&FanOut::failed_state(&step.name)),
                &format!("{:?}'s tolerated failures", step.name),
            );
        }
    }
    test_file(
        header,
        "Fan-out: every `for_each` step is an inline Map whose item processor is the step's callback Task.",
        vec![run],
    )
}

// ------------------------------------------------------------------------------------------------ alarms

fn alarms(header: &str, model: &Model) -> File {
    let instance = Instance::new(model, OTHER_NAME);
    let actions = [Instance::regional_arn("sns", "sfngen-test-alerts")];
    let settings = model
        .alarms
        .as_ref()
        .expect("alarms.tftest.hcl is written only with [alarms]");
    let mut run = Run::new(
        "alarms_watch_this_instance",
        format!(
            "Another instance ({OTHER_NAME:?}) with an alarm action: every alarm the spec's [alarms] asks for, on this\ninstance's resources, notifying the action when it fires and when it recovers."
        ),
        Command::Apply,
    )
    .variable(input::NAME, string(OTHER_NAME))
    .variable("alarm_actions", strings(&actions));
    run.overrides.push(override_block(
        "override_resource",
        &address::state_machine(),
        vec![("arn", string(&instance.state_machine_arn()))],
    ));
    run = run.expecting_checks(model);
    let alarm_list = model.alarm_list();
    let keys: Vec<String> = alarm_list.iter().map(|a| a.key.clone()).collect();
    run = run.assert_set("keys(output.alarm_arns)", &keys, "the alarm_arns output's keys");
    for alarm in &alarm_list {
        let at = address::alarm(&alarm.key);
        let namespace = match alarm.metric.namespace {
            Namespace::Aws(namespace) => namespace.to_string(),
            Namespace::Module => format!("sfngen/{OTHER_NAME}"),
        };
        run = run.assert_eq(
            &format!("{at}.alarm_name"),
            &string(&instance.named(&alarm.name)),
            &format!("{at}.alarm_name"),
        );
        if let Some(excluding) = &alarm.excluding {
            run = assert_faults_only(run, &at, alarm, excluding, settings.period_seconds);
        } else {
            run = run
                .assert_eq(
                    &format!("{at}.namespace"),
                    &string(&namespace),
                    &format!("{at}.namespace"),
                )
                .assert_eq(
                    &format!("{at}.metric_name"),
                    &string(alarm.metric.name),
                    &format!("{at}.metric_name"),
                )
                .assert_eq(
                    &format!("{at}.statistic"),
                    &string(alarm.metric.statistic),
                    &format!("{at}.statistic"),
                )
                .assert_eq(
                    &format!("{at}.period"),
                    &number(settings.period_seconds),
                    &format!("{at}.period"),
                );
        }
        run = run
            .assert_eq(
                &format!("{at}.threshold"),
                &number(alarm.threshold),
                &format!("{at}.threshold"),
            )
            .assert_eq(
                &format!("{at}.evaluation_periods"),
                &number(u64::from(settings.evaluation_periods)),
                &format!("{at}.evaluation_periods"),
            )
            .assert_set(&format!("{at}.alarm_actions"), &actions, &format!("{at}.alarm_actions"))
            .assert_set(&format!("{at}.ok_actions"), &actions, &format!("{at}.ok_actions"));
        let dimension = match &alarm.watches {
            Watched::Queue(key) => Some(instance.queue_name(key, false)),
            Watched::DeadLetterQueue(key) => Some(instance.queue_name(key, true)),
            Watched::StateMachine => Some(instance.state_machine_arn()),
            Watched::Function(id) => Some(instance.named(&model.function(*id).name)),
            Watched::LogLines => None,
            Watched::Topic(key) => Some(instance.named(&model.topic(key).name)),
            Watched::BusRule(key) => Some(instance.named(&model.bus(key).rule)),
        };
        // A rule on a bus other than the default one: its metrics name the bus too.
        let bus = match &alarm.watches {
            Watched::BusRule(key) => match &model.bus(key).bus {
                BusName::Existing(name) if name == DEFAULT_BUS => None,
                BusName::Existing(name) => Some(name.clone()),
                BusName::Custom(name) => Some(instance.named(name)),
            },
            _ => None,
        };
        if alarm.excluding.is_some() {
            continue;
        }
        run = match (alarm.watches.dimension(), dimension) {
            (Some(key), Some(value)) => run.assert_eq(
                &format!("jsonencode({at}.dimensions)"),
                &raw(format!(
                    "jsonencode({{ {}{key} = {} }})",
                    bus.map(|b| format!("EventBusName = {}, ", inline_text(&string(&b))))
                        .unwrap_or_default(),
                    inline_text(&string(&value))
                )),
                &format!("{at}.dimensions"),
            ),
            _ => run.assert_eq(
                &format!("try(length({at}.dimensions), 0)"),
                &number(0),
                &format!("{at}.dimensions (a metric of the module's own has none)"),
            ),
        };
    }
    test_file(
        header,
        "Alarms: the spec's [alarms], on this instance's resources.",
        vec![run],
    )
}

/// An alarm on its metric minus another (faults only): the expression, and the two metrics by id.
fn assert_faults_only(run: Run, at: &Address, alarm: &Alarm, excluding: &Metric, period: u64) -> Run {
    let query = |id: &str, field: &str| format!("one([for q in {at}.metric_query : q.{field} if q.id == \"{id}\"])");
    let metric = |id: &str, field: &str| {
        format!("one(flatten([for q in {at}.metric_query : [for m in q.metric : m.{field}] if q.id == \"{id}\"]))")
    };
    let namespace = |m: &Metric| match m.namespace {
        Namespace::Aws(namespace) => namespace.to_string(),
        Namespace::Module => format!("sfngen/{OTHER_NAME}"),
    };
    run.assert_set(
        &format!("[for q in {at}.metric_query : q.id]"),
        &["faults".to_string(), "failed".to_string(), "business".to_string()],
        &format!("{at}'s metric queries"),
    )
    .assert_eq(
        &query("faults", "expression"),
        &string(FAULTS_EXPRESSION),
        &format!("{at}'s expression"),
    )
    .assert_eq(
        &metric("failed", "metric_name"),
        &string(alarm.metric.name),
        &format!("{at}'s failed metric"),
    )
    .assert_eq(
        &metric("failed", "namespace"),
        &string(&namespace(&alarm.metric)),
        &format!("{at}'s failed namespace"),
    )
    .assert_eq(
        &metric("business", "metric_name"),
        &string(excluding.name),
        &format!("{at}'s business metric"),
    )
    .assert_eq(
        &metric("business", "namespace"),
        &string(&namespace(excluding)),
        &format!("{at}'s business namespace"),
    )
    .assert_eq(&metric("failed", "period"), &number(period), &format!("{at}'s period"))
}

// ------------------------------------------------------------------------------------------------ dashboard

fn dashboard(header: &str, model: &Model) -> File {
    let at = address::dashboard();
    let placement = crate::dashboard::Placement {
        name: OTHER_NAME,
        region: REGION,
        partition: PARTITION,
        account: ACCOUNT,
    };
    let body = crate::dashboard::body(model, &placement).to_string();
    let shown = Run::new(
        "dashboard_shows_this_instance",
        format!(
            "Another instance ({OTHER_NAME:?}): one dashboard, named for the instance and its region, whose body is the one\nthe spec makes for this instance's resources (every queue, dead-letter queue, function and the state machine)."
        ),
        Command::Plan,
    )
    .variable(input::NAME, string(OTHER_NAME))
    .expecting_checks(model)
    .assert_eq(&format!("length({at})"), &number(1), "the dashboards")
    .assert_eq(
        &format!("{at}[0].dashboard_name"),
        &string(&crate::dashboard::name(&placement)),
        &format!("{at}[0].dashboard_name"),
    )
    .assert(
        format!("jsondecode({at}[0].dashboard_body) == jsondecode({})", inline_text(&string(&body))),
        format!(
            "\"{}\"",
            template_text(&format!(
                "{at}[0].dashboard_body is not the body the spec makes for this instance: got ${{{at}[0].dashboard_body}}."
            ))
            .replace("$${", "${")
        ),
    );
    let off = Run::new(
        "dashboard_can_be_turned_off",
        "dashboard_enabled = false: no dashboard.",
        Command::Plan,
    )
    .variable(input::DASHBOARD_ENABLED, boolean(false))
    .expecting_checks(model)
    .assert_eq(&format!("length({at})"), &number(0), "the dashboards");
    test_file(
        header,
        "Dashboard: one per instance while dashboard_enabled, on this instance's resources.",
        vec![shown, off],
    )
}
