//! The Terraform files of the module, split by concern like HashiCorp's standard module structure: each
//! file has its own emitter here (`queues.rs` writes `queues.tf`...), and every resource address comes
//! from [`address`].

pub mod address;
mod alarms;
mod approvals;
mod buses;
mod callback;
mod dashboard;
mod endpoint;
mod iam;
mod kms;
mod main;
mod outputs;
mod queues;
mod state_machine;
mod topics;
mod variables;
mod versions;

use super::hcl::{Block, CheckovSkip, Expr, File, raw, string, template_text};
use super::{GeneratedFile, generated_header};
use crate::model::{AwsName, CustomerKey, Feature, LogGroup, LogMetric, Model, Namespace, Queue, RoleId, input};
use address::Address;

pub use callback::VISIBILITY_CHECK;
pub(crate) use kms::{LOGS_ENCRYPTION_ACTIONS, SNS_DEAD_LETTER_ACTIONS, wrapped};
pub use state_machine::{DELETE_TIMEOUT, TOKENS_CHECK};
pub use variables::{default_of, type_of};
pub use versions::{AWS_PROVIDER_MIN, TERRAFORM_MIN, aws_constraint, terraform_constraint};

/// The `.tf` files, and what the README lists of them: the checkov skips written into them and the resources
/// and data sources they declare.
#[derive(Debug)]
pub struct Rendered {
    /// The `.tf` files, in the order below.
    pub files: Vec<GeneratedFile>,
    /// Every inline checkov skip, file by file, in the order the files list them.
    pub checkov_skips: Vec<CheckovSkip>,
    /// Every resource and data source block, file by file, in the order the files declare them.
    pub declared: Vec<Declared>,
}

/// A resource or data source block of the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// A data source (`data "aws_partition" "current"`), not a resource.
    pub data: bool,
    /// Its type, such as `aws_sqs_queue`.
    pub kind: String,
    /// Its name in the module, such as `main`.
    pub name: String,
}

/// The resource and data source blocks of a file.
fn declared_in(file: &File) -> impl Iterator<Item = Declared> + '_ {
    file.declarations().filter_map(|(kind, labels)| match (kind, labels) {
        ("resource" | "data", [type_name, name]) => Some(Declared {
            data: kind == "data",
            kind: type_name.clone(),
            name: name.clone(),
        }),
        _ => None,
    })
}

/// Renders every `.tf` file.
pub fn render(model: &Model) -> Rendered {
    let header = generated_header(model);
    let mut files = vec![
        ("versions.tf", versions::file(&header)),
        ("variables.tf", variables::file(&header, model)),
        ("outputs.tf", outputs::file(&header, model)),
        ("main.tf", main::file(&header, model)),
    ];
    // A file per kind of channel the steps use, and none for a kind they do not (an empty file reads as a mistake).
    if !model.queues.is_empty() {
        files.push(("queues.tf", queues::file(&header, model)));
    }
    if !model.topics.is_empty() {
        files.push(("topics.tf", topics::file(&header, model)));
    }
    if let Some(buses) = buses::file(&header, model) {
        files.push(("buses.tf", buses));
    }
    files.extend([
        ("state_machine.tf", state_machine::file(&header, model)),
        ("callback.tf", callback::file(&header, model)),
    ]);
    if let Some(endpoint) = endpoint::file(&header, model) {
        files.push(("endpoint.tf", endpoint));
    }
    if let Some(approvals) = approvals::file(&header, model) {
        files.push(("approvals.tf", approvals));
    }
    files.push(("iam.tf", iam::file(&header, model)));
    if let Some(key) = &model.module_key {
        files.push(("kms.tf", kms::file(&header, model, key)));
    }
    if let Some(alarms) = &model.alarms {
        files.push(("alarms.tf", alarms::file(&header, model, alarms)));
    }
    files.push(("dashboard.tf", dashboard::file(&header, model)));
    Rendered {
        checkov_skips: files.iter().flat_map(|(_, file)| file.checkov_skips()).collect(),
        declared: files.iter().flat_map(|(_, file)| declared_in(file)).collect(),
        files: files
            .into_iter()
            .map(|(path, file)| GeneratedFile::text(path, file.render()))
            .collect(),
    }
}

/// An AWS name as template text, to splice into a longer string such as an ARN: `alias/${var.name}`.
/// Every name derives from the module's `name` input, so one module can be instantiated twice.
fn name_text(name: &AwsName) -> String {
    format!(
        "{}${{var.name}}{}",
        template_text(&name.before),
        template_text(&name.after)
    )
}

/// An ARN of this partition, region and account, as template text:
/// `arn:${local.partition}:SERVICE:${local.region}:${local.account_id}:RESOURCE`. The locals come from data
/// sources that depend on no resource of the module, so an ARN built this way is known at plan time.
fn regional_arn(service: &str, resource: &str) -> String {
    format!("arn:${{local.partition}}:{service}:${{local.region}}:${{local.account_id}}:{resource}")
}

/// An IAM ARN (IAM has no region) of this partition and account, as template text:
/// `arn:${local.partition}:iam::${local.account_id}:RESOURCE`.
fn iam_arn(resource: &str) -> String {
    format!("arn:${{local.partition}}:iam::${{local.account_id}}:{resource}")
}

/// An AWS name as HCL: `"${var.name}-callback"`, or `var.name` alone (`terraform fmt` unwraps a string
/// that is only an interpolation).
fn aws_name(name: &AwsName) -> Expr {
    if name.before.is_empty() && name.after.is_empty() {
        return raw("var.name");
    }
    raw(format!("\"{}\"", name_text(name)))
}

/// A CloudWatch namespace as HCL: an AWS one as it is; the module's own as `"sfngen/${var.name}"` (one per
/// instance of the module), where the metric filters on the callback's log group count.
fn namespace(namespace: Namespace) -> Expr {
    match namespace {
        Namespace::Aws(name) => string(name),
        Namespace::Module => raw("\"sfngen/${var.name}\""),
    }
}

/// The local of `main.tf` that says whether execution logging is on: `var.log_level != "OFF"`.
const EXECUTION_LOGGING: &str = "execution_logging";

/// Whether a feature is on, as HCL: `local.execution_logging`, `var.tracing`.
fn feature_on(feature: Feature) -> String {
    match feature {
        Feature::ExecutionLogging => format!("local.{EXECUTION_LOGGING}"),
        Feature::Tracing => format!("var.{}", input::TRACING),
    }
}

/// The input holding the key a queue names by ARN or alias. Only such queues are asked, so none is a bug.
fn queue_key_input(queue: &Queue) -> String {
    queue
        .key_input()
        .unwrap_or_else(|| panic!("bug: queue {:?} names no key by ARN or alias", queue.key))
}

/// The ARN of the key the state machine names by ARN or alias: its key input, or the alias's lookup.
fn state_machine_key_arn(model: &Model) -> Expr {
    match model.state_machine.encryption {
        Some(CustomerKey::Alias(_)) => address::state_machine_key_alias_lookup().attr("target_key_arn"),
        Some(CustomerKey::Arn(_)) => var(input::STATE_MACHINE_KMS_KEY_ARN),
        None | Some(CustomerKey::Module) => panic!("bug: the state machine names no key by ARN or alias"),
    }
}

/// What must exist before a role is used: its inline policy and its managed policies' attachments, as
/// `depends_on` takes them.
fn role_permissions(model: &Model, id: RoleId) -> Vec<Expr> {
    let mut references = vec![address::role_policy(id).reference()];
    if let Some(role) = model.roles.iter().find(|r| r.id == id) {
        references.extend(
            role.managed_policies
                .iter()
                .map(|p| address::managed_policy_attachment(id, p.number).reference()),
        );
    }
    references
}

/// One `assert` of a `check` block: Terraform warns with `message` at plan time when `condition` is false.
/// The message starts with the instance's `name` input (`"${var.name}: ..."`), so that the warnings of two
/// instances of the module (dev and prod in one root) can be told apart.
fn plan_time_assert(condition: String, message: &str) -> Block {
    Block::new("assert", Vec::<String>::new())
        .attr("condition", raw(condition))
        .attr("error_message", raw(instance_message(message)))
}

/// `message` as a quoted template that names the instance: `"${var.name}: MESSAGE"`.
fn instance_message(message: &str) -> String {
    format!("\"${{var.{}}}: {}\"", input::NAME, template_text(message))
}

/// A module input: `var.NAME`.
fn var(name: &str) -> Expr {
    raw(format!("var.{name}"))
}

/// A metric filter on a log group (named by `log_group_name`): one count of the metric per matching log line.
fn log_metric_filter(metric: &LogMetric, log_group_name: Expr) -> Block {
    address::log_metric_filter(metric.id)
        .declare()
        .attr("name", aws_name(&metric.filter_name))
        .attr("log_group_name", log_group_name)
        .attr("pattern", string(&metric.pattern()))
        .block(
            Block::new("metric_transformation", Vec::<String>::new())
                .attr("name", string(metric.metric))
                .attr("namespace", namespace(Namespace::Module))
                .attr("value", string("1"))
                .attr("unit", string("Count")),
        )
}

/// A log group the module creates, at `address` (the state machine's or a function's). Its retention is its
/// input; the checkov skips describe the default. `skip_destroy` follows the `keep_log_groups_on_destroy` input:
/// kept, a destroy (or a removed function) leaves the group and its logs in AWS, outside Terraform.
fn log_group(address: &Address, group: &LogGroup) -> Block {
    let (retention_days, input) = (group.retention_days, group.retention_input);
    let mut block = address.declare();
    if !group.module_key {
        block = block.checkov_skip(
            "CKV_AWS_158",
            "encrypted at rest by CloudWatch Logs; [logs] encryption = \"kms\" uses the module's key.",
        );
    }
    if retention_days < 365 {
        block = block.checkov_skip(
            "CKV_AWS_338",
            &format!("retention is var.{input}, {retention_days} days by default (the spec's log_retention_days)."),
        );
    }
    block
        .attr("name", aws_name(&group.name))
        .attr("retention_in_days", var(input))
        .attr_opt(
            "kms_key_id",
            group.module_key.then(|| address::module_key().attr("arn")),
        )
        .attr("skip_destroy", var(input::KEEP_LOG_GROUPS_ON_DESTROY))
        .attr("tags", raw("local.tags"))
}

/// The statement that denies `action` on `resource` to every request not made over TLS.
pub(super) fn deny_insecure_transport(action: &str, resource: Expr) -> Expr {
    Expr::Object(vec![
        ("Sid".into(), string("DenyInsecureTransport")),
        ("Effect".into(), string("Deny")),
        ("Principal".into(), string("*")),
        ("Action".into(), string(action)),
        ("Resource".into(), resource),
        (
            "Condition".into(),
            Expr::Object(vec![(
                "Bool".into(),
                Expr::Object(vec![("aws:SecureTransport".into(), string("false"))]),
            )]),
        ),
    ])
}

/// `jsonencode({Version, Statement})`.
pub(super) fn policy(statements: Vec<Expr>) -> Expr {
    Expr::Call(
        "jsonencode".into(),
        vec![Expr::Object(vec![
            ("Version".into(), string("2012-10-17")),
            ("Statement".into(), Expr::List(statements)),
        ])],
    )
}

/// A statement letting an AWS service (`service`, its principal) send to the queue `queue_arn` on behalf of the
/// resource `source_arn` only (a dead-letter queue's writer: SNS for its topic, EventBridge for its rule).
pub(super) fn service_may_send(sid: &str, service: &str, queue_arn: Expr, source_arn: Expr) -> Expr {
    Expr::Object(vec![
        ("Sid".into(), string(sid)),
        ("Effect".into(), string("Allow")),
        (
            "Principal".into(),
            Expr::Object(vec![("Service".into(), string(service))]),
        ),
        ("Action".into(), string("sqs:SendMessage")),
        ("Resource".into(), queue_arn),
        (
            "Condition".into(),
            Expr::Object(vec![(
                "ArnEquals".into(),
                Expr::Object(vec![("aws:SourceArn".into(), source_arn)]),
            )]),
        ),
    ])
}
