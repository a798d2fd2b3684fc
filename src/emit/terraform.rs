//! The Terraform files of the module, split by concern like HashiCorp's standard module structure.

use std::collections::BTreeMap;

use super::hcl::{Block, Expr, File, boolean, number, raw, string, strings};
use super::{ASL_FILE, GeneratedFile, LAMBDA_ZIP_FILE, generated_header, queue_url_var};
use crate::duration::format_seconds;
use crate::model::{Encryption, LogGroup, Logging, Model, Queue, Resource, Role, RoleId, Service, Statement};

/// Lowest hashicorp/aws release the module is checked against (its schema is in `tests/data`).
pub const AWS_PROVIDER_MIN: &str = "5.100.0";
/// Terraform version floor: the one terraform-aws-modules set for hashicorp/aws 6.
pub const TERRAFORM_MIN: &str = "1.5.7";

/// Tags the module puts on everything, before the spec's `[tags]` and `var.tags`.
fn module_tags(model: &Model) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ManagedBy".to_string(), "sfngen".to_string()),
        ("SfngenPattern".to_string(), model.name.clone()),
    ])
}

/// Renders every `.tf` file.
pub fn render(model: &Model) -> Vec<GeneratedFile> {
    let header = generated_header(model);
    let mut files = vec![
        ("versions.tf", versions(&header)),
        ("variables.tf", variables(&header, model)),
        ("outputs.tf", outputs(&header, model)),
        ("main.tf", main(&header, model)),
        ("queues.tf", queues(&header, model)),
        ("state_machine.tf", state_machine(&header, model)),
        ("callback.tf", callback(&header, model)),
        ("iam.tf", iam(&header, model)),
    ];
    if model.module_key.is_some() {
        files.push(("kms.tf", kms(&header, model)));
    }
    if let Some(alarms) = &model.alarms {
        files.push(("alarms.tf", alarms_file(&header, model, alarms)));
    }
    files
        .into_iter()
        .map(|(path, file)| GeneratedFile::text(path, file.render()))
        .collect()
}

fn versions(header: &str) -> File {
    let mut file = File::new(header);
    file.push(
        Block::new("terraform", Vec::<String>::new())
            .attr("required_version", string(&format!(">= {TERRAFORM_MIN}")))
            .block(Block::new("required_providers", Vec::<String>::new()).attr(
                "aws",
                Expr::Object(vec![
                    ("source".into(), string("hashicorp/aws")),
                    ("version".into(), string(&format!(">= {AWS_PROVIDER_MIN}, < 7.0.0"))),
                ]),
            )),
    );
    file
}

/// A module input, for `variables.tf` and the README.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Input {
    /// Variable name.
    pub name: &'static str,
    /// Terraform type.
    pub kind: &'static str,
    /// Default, as HCL.
    pub default: &'static str,
    /// One-line description.
    pub description: String,
}

/// A module output, for `outputs.tf` and the README.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Output {
    /// Output name.
    pub name: &'static str,
    /// One-line description.
    pub description: String,
    /// Value, as one line of HCL (or a map, rendered over lines).
    #[serde(skip)]
    pub value: Expr,
}

/// The module's inputs.
pub fn inputs(model: &Model) -> Vec<Input> {
    let mut inputs = vec![
        Input {
            name: "tags",
            kind: "map(string)",
            default: "{}",
            description: "Tags for every taggable resource, merged after the module's own tags and the spec's [tags]."
                .into(),
        },
        Input {
            name: "permissions_boundary",
            kind: "string",
            default: "null",
            description:
                "ARN of an IAM policy set as the permissions boundary of every role this module creates; null for none."
                    .into(),
        },
        Input {
            name: "callback_lambda_zip",
            kind: "string",
            default: "null",
            description: format!(
                "Path of the callback Lambda package (a zip holding a provided.al2023 `bootstrap`); null uses the {LAMBDA_ZIP_FILE} that `sfngen render` placed in this module."
            ),
        },
    ];
    if model.alarms.is_some() {
        inputs.push(Input {
            name: "alarm_actions",
            kind: "list(string)",
            default: "[]",
            description: "ARNs (usually SNS topics) notified when an alarm fires and when it recovers.".into(),
        });
    }
    inputs
}

fn variables(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for input in inputs(model) {
        let mut block = Block::new("variable", [input.name])
            .attr("description", string(&input.description))
            .attr("type", raw(input.kind))
            .attr("default", raw(input.default));
        if input.name == "permissions_boundary" {
            block = block.block(
                Block::new("validation", Vec::<String>::new())
                    .attr(
                        "condition",
                        raw(r#"var.permissions_boundary == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary))"#),
                    )
                    .attr(
                        "error_message",
                        string("The permissions_boundary must be an IAM policy ARN such as arn:aws:iam::123456789012:policy/boundary, or null."),
                    ),
            );
        }
        file.push(block);
    }
    file
}

fn queue_map(model: &Model, suffix: &str, attribute: &str) -> Expr {
    Expr::Object(
        model
            .queues
            .iter()
            .filter(|q| suffix.is_empty() || q.dead_letter.is_some())
            .map(|q| {
                (
                    q.key.clone(),
                    raw(format!("aws_sqs_queue.{}{suffix}.{attribute}", q.key)),
                )
            })
            .collect(),
    )
}

/// The module's outputs.
pub fn outputs_of(model: &Model) -> Vec<Output> {
    let mut outputs = Vec::new();
    let mut add = |name: &'static str, description: &str, value: Expr| {
        outputs.push(Output {
            name,
            description: description.to_string(),
            value,
        })
    };
    add(
        "state_machine_arn",
        "ARN of the state machine: pass it to StartExecution.",
        raw("aws_sfn_state_machine.this.arn"),
    );
    add(
        "state_machine_name",
        "Name of the state machine.",
        raw("aws_sfn_state_machine.this.name"),
    );
    add(
        "queue_urls",
        "URL of each callback queue, by queue key: workers receive task messages from these.",
        queue_map(model, "", "url"),
    );
    add(
        "queue_arns",
        "ARN of each callback queue, by queue key.",
        queue_map(model, "", "arn"),
    );
    add(
        "dead_letter_queue_arns",
        "ARN of each dead-letter queue, by the key of the queue it serves (queues with dead_letter = false are absent).",
        queue_map(model, "_dlq", "arn"),
    );
    add(
        "callback_function_name",
        "Name of the callback Lambda: invoke it with {\"token\": ...} to answer a task.",
        raw("aws_lambda_function.callback.function_name"),
    );
    add(
        "callback_function_arn",
        "ARN of the callback Lambda.",
        raw("aws_lambda_function.callback.arn"),
    );
    add(
        "state_machine_role_arn",
        "ARN of the state machine's execution role.",
        raw("aws_iam_role.state_machine.arn"),
    );
    add(
        "callback_role_arn",
        "ARN of the callback Lambda's execution role.",
        raw("aws_iam_role.callback.arn"),
    );
    add(
        "callback_log_group_name",
        "CloudWatch log group of the callback Lambda.",
        raw("aws_cloudwatch_log_group.callback.name"),
    );
    if model.state_machine.logging.is_some() {
        add(
            "state_machine_log_group_name",
            "CloudWatch log group of the state machine's execution logs.",
            raw("aws_cloudwatch_log_group.state_machine.name"),
        );
    }
    if model.alarms.is_some() {
        add(
            "alarm_arns",
            "ARN of each CloudWatch alarm, by alarm name.",
            Expr::Object(
                alarm_list(model)
                    .into_iter()
                    .map(|a| {
                        (
                            a.resource.clone(),
                            raw(format!("aws_cloudwatch_metric_alarm.{}.arn", a.resource)),
                        )
                    })
                    .collect(),
            ),
        );
    }
    if model.module_key.is_some() {
        add(
            "kms_key_arn",
            "ARN of the module's KMS key (queues with encryption = \"kms\", log groups with [logs] encryption = \"kms\"); workers of those queues need kms:Decrypt on it.",
            raw("aws_kms_key.this.arn"),
        );
    }
    outputs
}

fn outputs(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for output in outputs_of(model) {
        file.push(
            Block::new("output", [output.name])
                .attr("description", string(&output.description))
                .attr("value", output.value),
        );
    }
    file
}

fn main(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let mut tags = module_tags(model);
    tags.extend(model.tags.clone());
    let tag_object = Expr::Object(tags.into_iter().map(|(k, v)| (k, string(&v))).collect());
    file.push(
        Block::new("locals", Vec::<String>::new())
            .comment("The module's own tags, then the spec's [tags], then var.tags: later keys win.")
            .attr("tags", Expr::Call("merge".into(), vec![tag_object, raw("var.tags")]))
            .blank()
            .comment("ARN parts for names that cannot be referenced without a dependency cycle.")
            .attr("partition", raw("data.aws_partition.current.partition"))
            .attr("region", raw("data.aws_service.states.region"))
            .attr("account_id", raw("data.aws_caller_identity.current.account_id"))
            .blank()
            .attr(
                "callback_lambda_zip",
                raw(format!(
                    "coalesce(var.callback_lambda_zip, \"${{path.module}}/{LAMBDA_ZIP_FILE}\")"
                )),
            ),
    );
    file.push(Block::new("data", ["aws_partition", "current"]));
    file.push_commented(
        "The current region, read the same way on hashicorp/aws 5.x and 6.x: aws_region's `name` is deprecated\nin 6.x and its replacement `region` does not exist in 5.x.",
        Block::new("data", ["aws_service", "states"]).attr("service_id", string("states")),
    );
    file.push(Block::new("data", ["aws_caller_identity", "current"]));
    for (index, lookup) in alias_lookups(model).into_iter().enumerate() {
        if index == 0 {
            file.push_commented(
                "Keys given by alias: policies need the key's ARN, not the alias.",
                lookup,
            );
        } else {
            file.push(lookup);
        }
    }
    file
}

fn queues(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for queue in &model.queues {
        let steps: Vec<String> = model
            .steps
            .iter()
            .filter(|s| s.queue == queue.key)
            .map(|s| format!("{:?}", s.name))
            .collect();
        let who = match steps.as_slice() {
            [one] => format!("step {one} sends its input and task token"),
            many => format!("steps {} send their input and task token", many.join(", ")),
        };
        file.push_commented(
            &format!("Queue {:?}: {who} here; a worker receives them.", queue.key),
            source_queue(queue),
        );
        if let Some(dlq) = &queue.dead_letter {
            file.push_commented(
                &format!("Dead-letter queue of {:?}: messages no worker could handle.", queue.key),
                encrypted(
                    Block::new("resource", ["aws_sqs_queue", &format!("{}_dlq", queue.key)])
                        .attr("name", string(&dlq.name))
                        .attr_opt("fifo_queue", queue.fifo.then(|| boolean(true))),
                    &queue.encryption,
                )
                .comment(&format!(
                    "{}, the SQS maximum: a dead-lettered message keeps its first enqueue time, so it\nmust outlive the source queue's retention or it could expire on arrival.",
                    format_seconds(dlq.retention_seconds)
                ))
                .attr("message_retention_seconds", number(dlq.retention_seconds))
                .blank()
                .attr("tags", raw("local.tags")),
            );
            file.push_commented(
                &format!(
                    "Only queue {:?} may send messages to this dead-letter queue.",
                    queue.key
                ),
                Block::new(
                    "resource",
                    ["aws_sqs_queue_redrive_allow_policy", &format!("{}_dlq", queue.key)],
                )
                .attr("queue_url", raw(format!("aws_sqs_queue.{}_dlq.id", queue.key)))
                .attr(
                    "redrive_allow_policy",
                    Expr::Call(
                        "jsonencode".into(),
                        vec![Expr::Object(vec![
                            ("redrivePermission".into(), string("byQueue")),
                            (
                                "sourceQueueArns".into(),
                                Expr::List(vec![raw(format!("aws_sqs_queue.{}.arn", queue.key))]),
                            ),
                        ])],
                    ),
                ),
            );
        }
    }
    file
}

fn source_queue(queue: &Queue) -> Block {
    let mut block = Block::new("resource", ["aws_sqs_queue", &queue.key])
        .attr("name", string(&queue.name))
        .attr_opt("fifo_queue", queue.fifo.then(|| boolean(true)));
    if queue.fifo {
        block = block
            .comment("Every message holds a unique task token, so its body is a safe deduplication key.")
            .attr("content_based_deduplication", boolean(true));
    }
    block = block
        .attr("visibility_timeout_seconds", number(queue.visibility_timeout_seconds))
        .attr("message_retention_seconds", number(queue.retention_seconds));
    block = encrypted(block.blank(), &queue.encryption);
    if let Some(dlq) = &queue.dead_letter {
        block = block.blank().attr(
            "redrive_policy",
            Expr::Call(
                "jsonencode".into(),
                vec![Expr::Object(vec![
                    (
                        "deadLetterTargetArn".into(),
                        raw(format!("aws_sqs_queue.{}_dlq.arn", queue.key)),
                    ),
                    ("maxReceiveCount".into(), number(u64::from(dlq.max_receives))),
                ])],
            ),
        );
    }
    block.blank().attr("tags", raw("local.tags"))
}

fn encrypted(block: Block, encryption: &Encryption) -> Block {
    match encryption {
        Encryption::SqsManaged => block.attr("sqs_managed_sse_enabled", boolean(true)),
        Encryption::ModuleKey => block
            .attr("kms_master_key_id", raw("aws_kms_key.this.arn"))
            .attr("kms_data_key_reuse_period_seconds", number(300)),
        Encryption::KeyArn(key) | Encryption::KeyAlias(key) => block
            .attr("kms_master_key_id", string(key))
            .attr("kms_data_key_reuse_period_seconds", number(300)),
    }
}

fn state_machine(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let sm = &model.state_machine;
    if let Some(logging) = &sm.logging {
        file.push_commented(
            "Execution logs. The /aws/vendedlogs/ prefix keeps the log group's resource policy small.",
            log_group("state_machine", &logging.log_group),
        );
    }
    let mut template_vars = vec![("partition".to_string(), raw("local.partition"))];
    template_vars.extend(
        model
            .queues
            .iter()
            .map(|q| (queue_url_var(&q.key), raw(format!("aws_sqs_queue.{}.url", q.key)))),
    );
    let mut block = Block::new("resource", ["aws_sfn_state_machine", "this"]);
    if !sm.tracing {
        block =
            block.comment("#checkov:skip=CKV_AWS_284: X-Ray tracing is opt-in (spec: [state_machine] tracing = true).");
    }
    match &sm.logging {
        None => {
            block = block.comment("#checkov:skip=CKV_AWS_285: execution logging is off by the spec (log_level = \"OFF\").")
        }
        Some(l) if !l.include_execution_data => {
            block = block.comment(
                "#checkov:skip=CKV_AWS_285: execution data can hold personal data; opt in with [state_machine] include_execution_data = true.",
            )
        }
        Some(_) => {}
    }
    block = block
        .attr("name", string(&sm.name))
        .attr("type", string("STANDARD"))
        .attr("role_arn", raw("aws_iam_role.state_machine.arn"))
        .blank()
        .comment(&format!(
            "The workflow lives in {ASL_FILE}, beside this file, so that it reads as plain ASL."
        ))
        .attr(
            "definition",
            Expr::Call(
                "templatefile".into(),
                vec![
                    raw(format!("\"${{path.module}}/{ASL_FILE}\"")),
                    Expr::Object(template_vars),
                ],
            ),
        );
    block = block.block(logging_configuration(sm.logging.as_ref()));
    block = block
        .block(Block::new("tracing_configuration", Vec::<String>::new()).attr("enabled", boolean(sm.tracing)))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("Step Functions checks the role's permissions (log delivery, SQS) when the state machine is created.")
        .attr("depends_on", Expr::List(vec![raw("aws_iam_role_policy.state_machine")]));
    file.push(block);
    file
}

/// Always written, `OFF` included: the provider keeps an Optional+Computed block that is left out, so
/// removing it would leave logging on in AWS.
fn logging_configuration(logging: Option<&Logging>) -> Block {
    let block = Block::new("logging_configuration", Vec::<String>::new());
    match logging {
        Some(logging) => block
            .attr(
                "log_destination",
                raw("\"${aws_cloudwatch_log_group.state_machine.arn}:*\""),
            )
            .attr("include_execution_data", boolean(logging.include_execution_data))
            .attr("level", string(logging.level.as_str())),
        None => block
            .comment("Written even when off: a left-out block would keep the previous setting in AWS.")
            .attr("include_execution_data", boolean(false))
            .attr("level", string("OFF")),
    }
}

fn log_group(name: &str, group: &LogGroup) -> Block {
    let retention_days = group.retention_days;
    let mut block = Block::new("resource", ["aws_cloudwatch_log_group", name]);
    if !group.module_key {
        block = block.comment(
            "#checkov:skip=CKV_AWS_158: encrypted at rest by CloudWatch Logs; [logs] encryption = \"kms\" uses the module's key.",
        );
    }
    if retention_days < 365 {
        block = block.comment(&format!(
            "#checkov:skip=CKV_AWS_338: retention is {retention_days} days by the spec (log_retention_days)."
        ));
    }
    block
        .attr("name", string(&group.name))
        .attr("retention_in_days", number(u64::from(retention_days)))
        .attr_opt("kms_key_id", group.module_key.then(|| raw("aws_kms_key.this.arn")))
        .attr("tags", raw("local.tags"))
}

fn callback(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let cb = &model.callback;
    file.push(log_group("callback", &cb.log_group));
    let mut block = Block::new("resource", ["aws_lambda_function", "callback"])
        .comment("#checkov:skip=CKV_AWS_116: invoked synchronously by workers, which see and retry errors; an async DLQ would never fire.")
        .comment("#checkov:skip=CKV_AWS_117: calls only the Step Functions API; attaching a VPC is a deployment choice.")
        .comment("#checkov:skip=CKV_AWS_272: code signing needs a signing profile outside this module.");
    if cb.reserved_concurrency.is_none() {
        block = block.comment(
            "#checkov:skip=CKV_AWS_115: concurrency is unreserved by the spec ([callback] reserved_concurrency).",
        );
    }
    block = block
        .attr("function_name", string(&cb.function_name))
        .attr(
            "description",
            string(&format!(
                "Answers {} task tokens with SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat.",
                model.name
            )),
        )
        .attr("role", raw("aws_iam_role.callback.arn"))
        .attr("runtime", string("provided.al2023"))
        .attr("handler", string("bootstrap"))
        .attr("architectures", strings([cb.architecture.as_str()]))
        .attr("memory_size", number(u64::from(cb.memory_mb)))
        .attr("timeout", number(cb.timeout_seconds))
        .attr_opt(
            "reserved_concurrent_executions",
            cb.reserved_concurrency.map(|n| number(u64::from(n))),
        )
        .attr("filename", raw("local.callback_lambda_zip"))
        .attr("source_code_hash", raw("filebase64sha256(local.callback_lambda_zip)"))
        .block(
            Block::new("logging_config", Vec::<String>::new())
                .attr("log_format", string("JSON"))
                .attr("log_group", raw("aws_cloudwatch_log_group.callback.name")),
        );
    let tracing_mode = if cb.tracing { "Active" } else { "PassThrough" };
    let mut tracing = Block::new("tracing_config", Vec::<String>::new());
    if !cb.tracing {
        tracing = tracing.comment(
            "PassThrough, not left out: the provider keeps a left-out block's previous value (Active) in AWS.",
        );
    }
    block = block.block(tracing.attr("mode", string(tracing_mode)));
    block = block
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("The log group and the role's permissions must exist before the first invocation.")
        .attr(
            "depends_on",
            Expr::List(vec![
                raw("aws_cloudwatch_log_group.callback"),
                raw("aws_iam_role_policy.callback"),
            ]),
        );
    file.push(block);
    file
}

fn role_key(id: RoleId) -> &'static str {
    match id {
        RoleId::StateMachine => "state_machine",
        RoleId::Callback => "callback",
    }
}

fn iam(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for role in &model.roles {
        let key = role_key(role.id);
        file.push(trust_policy(model, role));
        file.push(
            Block::new("resource", ["aws_iam_role", key])
                .attr("name", string(&role.name))
                .attr("description", string(&role_description(model, role)))
                .attr(
                    "assume_role_policy",
                    raw(format!("data.aws_iam_policy_document.{key}_assume.json")),
                )
                .attr("permissions_boundary", raw("var.permissions_boundary"))
                .attr("tags", raw("local.tags")),
        );
        let mut document = Block::new("data", ["aws_iam_policy_document", key]);
        for statement in &role.statements {
            document = document.block(permission(model, statement));
        }
        file.push(document);
        file.push(
            Block::new("resource", ["aws_iam_role_policy", key])
                .attr("name", string(&role.name))
                .attr("role", raw(format!("aws_iam_role.{key}.id")))
                .attr("policy", raw(format!("data.aws_iam_policy_document.{key}.json"))),
        );
    }
    file
}

fn role_description(model: &Model, role: &Role) -> String {
    match role.id {
        RoleId::StateMachine => format!(
            "Runs the {} state machine: sends callback tasks to its queues.",
            model.name
        ),
        RoleId::Callback => format!("Runs the {} callback Lambda: answers task tokens.", model.name),
    }
}

/// Who may assume the role, with the confused-deputy guards each service supports.
fn trust_policy(model: &Model, role: &Role) -> Block {
    let key = role_key(role.id);
    let mut statement = Block::new("statement", Vec::<String>::new())
        .attr("sid", string("AssumedByService"))
        .attr("actions", strings(["sts:AssumeRole"]))
        .block(
            Block::new("principals", Vec::<String>::new())
                .attr("type", string("Service"))
                .attr("identifiers", strings([role.service.principal()])),
        )
        .blank()
        .comment("Confused-deputy guard: only this account may make the service assume the role.")
        .block(condition(
            "StringEquals",
            "aws:SourceAccount",
            raw("[local.account_id]"),
        ));
    match role.service {
        Service::StepFunctions => {
            statement = statement
                .blank()
                .comment("... and only for this state machine.")
                .block(condition(
                    "ArnLike",
                    "aws:SourceArn",
                    raw(format!(
                        "[\"arn:${{local.partition}}:states:${{local.region}}:${{local.account_id}}:stateMachine:{}\"]",
                        model.state_machine.name
                    )),
                ));
        }
        Service::Lambda => {
            statement = statement.blank().comment(
                "Lambda sets no aws:SourceArn when it assumes an execution role: the role's permissions are\n\
                 limited to calls made from this function with lambda:SourceFunctionArn instead.",
            );
        }
    }
    Block::new("data", ["aws_iam_policy_document", &format!("{key}_assume")]).block(statement)
}

fn condition(test: &str, variable: &str, values: Expr) -> Block {
    Block::new("condition", Vec::<String>::new())
        .attr("test", string(test))
        .attr("variable", string(variable))
        .attr("values", values)
}

fn permission(model: &Model, statement: &Statement) -> Block {
    let mut block = Block::new("statement", Vec::<String>::new()).attr("sid", string(&statement.sid));
    if statement.resources.contains(&Resource::Any) {
        block = block.comment("These actions support no resource-level permissions: AWS requires \"*\".");
    }
    block = block.attr("actions", strings(&statement.actions)).attr(
        "resources",
        Expr::List(statement.resources.iter().map(|r| resource_arn(model, r)).collect()),
    );
    if statement.only_from_callback_function {
        block = block.blank().block(condition(
            "ArnEquals",
            "lambda:SourceFunctionArn",
            raw(format!(
                "[\"arn:${{local.partition}}:lambda:${{local.region}}:${{local.account_id}}:function:{}\"]",
                model.callback.function_name
            )),
        ));
    }
    block
}

fn resource_arn(model: &Model, resource: &Resource) -> Expr {
    match resource {
        Resource::Queue(key) => raw(format!("aws_sqs_queue.{key}.arn")),
        Resource::StateMachine => raw("aws_sfn_state_machine.this.arn"),
        Resource::ModuleKey => raw("aws_kms_key.this.arn"),
        Resource::KeyArn(arn) => string(arn),
        Resource::KeyAlias(alias) => raw(format!("data.aws_kms_alias.{}.target_key_arn", alias_key(model, alias))),
        Resource::CallbackLogStreams => raw("\"${aws_cloudwatch_log_group.callback.arn}:*\""),
        Resource::Any => string("*"),
    }
}

/// The Terraform name of the `aws_kms_alias` lookup of `alias`: the first queue (by key) that uses it.
fn alias_key(model: &Model, alias: &str) -> String {
    model
        .queues
        .iter()
        .find(|q| q.encryption == Encryption::KeyAlias(alias.to_string()))
        .map(|q| q.key.clone())
        .unwrap_or_else(|| "key".to_string())
}

fn kms(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let Some(key) = &model.module_key else {
        return file;
    };
    let what = match (key.users.is_empty(), key.log_groups.is_empty()) {
        (false, false) => "callback queues and log groups",
        (true, false) => "log groups",
        _ => "callback queues",
    };
    file.push_commented(
        "Customer managed key for the queues with encryption = \"kms\" and the log groups of [logs] encryption = \"kms\",\nrotated yearly by AWS.",
        Block::new("resource", ["aws_kms_key", "this"])
            .attr("description", string(&format!("Encrypts the {} {what}.", model.name)))
            .attr("enable_key_rotation", boolean(true))
            .attr("deletion_window_in_days", number(30))
            .attr("policy", raw("data.aws_iam_policy_document.kms.json"))
            .attr("tags", raw("local.tags")),
    );
    file.push(
        Block::new("resource", ["aws_kms_alias", "this"])
            .attr("name", string(&key.alias))
            .attr("target_key_id", raw("aws_kms_key.this.key_id")),
    );
    let mut policy = Block::new("data", ["aws_iam_policy_document", "kms"]).block(
        Block::new("statement", Vec::<String>::new())
            .comment("#checkov:skip=CKV_AWS_109: the account root statement every key policy needs; see above.")
            .comment("#checkov:skip=CKV_AWS_111: the account root statement every key policy needs; see above.")
            .comment("#checkov:skip=CKV_AWS_356: in a key policy the resource \"*\" is the key itself.")
            .attr("sid", string("AccountAdministersKey"))
            .attr("actions", strings(["kms:*"]))
            .attr("resources", strings(["*"]))
            .block(principals(
                "AWS",
                raw("[\"arn:${local.partition}:iam::${local.account_id}:root\"]"),
            )),
    );
    if !key.users.is_empty() {
        let users = key
            .users
            .iter()
            .map(|id| raw(format!("aws_iam_role.{}.arn", role_key(*id))))
            .collect();
        policy = policy.block(
            Block::new("statement", Vec::<String>::new())
                .attr("sid", string("RolesEncryptMessages"))
                .attr("actions", strings(["kms:Decrypt", "kms:GenerateDataKey"]))
                .attr("resources", strings(["*"]))
                .block(principals("AWS", Expr::List(users))),
        );
    }
    if !key.log_groups.is_empty() {
        let arns = key
            .log_groups
            .iter()
            .map(|g| {
                raw(format!(
                    "\"arn:${{local.partition}}:logs:${{local.region}}:${{local.account_id}}:log-group:{g}\""
                ))
            })
            .collect();
        policy = policy.block(
            Block::new("statement", Vec::<String>::new())
                .attr("sid", string("CloudWatchLogsEncryptLogGroups"))
                .attr(
                    "actions",
                    strings([
                        "kms:Decrypt",
                        "kms:DescribeKey",
                        "kms:Encrypt",
                        "kms:GenerateDataKey",
                        "kms:GenerateDataKeyWithoutPlaintext",
                        "kms:ReEncryptFrom",
                        "kms:ReEncryptTo",
                    ]),
                )
                .attr("resources", strings(["*"]))
                .block(principals("Service", raw("[\"logs.${local.region}.amazonaws.com\"]")))
                .blank()
                .comment("Only for this module's log groups.")
                .block(condition(
                    "ArnLike",
                    "kms:EncryptionContext:aws:logs:arn",
                    Expr::List(arns),
                )),
        );
    }
    file.push_commented(
        "In a key policy \"*\" means this key. The account statement keeps the key manageable through IAM\n(without it the key could become unmanageable); the others grant only what their service needs.",
        policy,
    );
    file
}

fn principals(kind: &str, identifiers: Expr) -> Block {
    Block::new("principals", Vec::<String>::new())
        .attr("type", string(kind))
        .attr("identifiers", identifiers)
}

/// `data "aws_kms_alias"` lookups for keys given by alias, so that policies can name the key's ARN.
fn alias_lookups(model: &Model) -> Vec<Block> {
    let mut aliases: Vec<&str> = model
        .queues
        .iter()
        .filter_map(|q| match &q.encryption {
            Encryption::KeyAlias(a) => Some(a.as_str()),
            _ => None,
        })
        .collect();
    aliases.sort();
    aliases.dedup();
    aliases
        .into_iter()
        .map(|alias| Block::new("data", ["aws_kms_alias", &alias_key(model, alias)]).attr("name", string(alias)))
        .collect()
}

/// One CloudWatch alarm the module creates.
pub struct AlarmSpec {
    /// Terraform resource name.
    pub resource: String,
    /// AWS alarm name.
    pub name: String,
    /// What it watches, for its description and the README.
    pub description: String,
    namespace: &'static str,
    metric: &'static str,
    statistic: &'static str,
    dimension: (&'static str, String),
}

/// Every alarm, in a fixed order: dead-letter queues, then executions, then the callback function.
pub fn alarm_list(model: &Model) -> Vec<AlarmSpec> {
    let mut alarms = Vec::new();
    for queue in model.queues.iter().filter(|q| q.dead_letter.is_some()) {
        alarms.push(AlarmSpec {
            resource: format!("{}_dlq_messages", queue.key),
            name: format!("{}-{}-dlq-messages", model.name, queue.key),
            description: format!(
                "Messages are waiting in the dead-letter queue of {:?}: tasks no worker could handle.",
                queue.key
            ),
            namespace: "AWS/SQS",
            metric: "ApproximateNumberOfMessagesVisible",
            statistic: "Maximum",
            dimension: ("QueueName", format!("aws_sqs_queue.{}_dlq.name", queue.key)),
        });
    }
    // (metric, short name used in the alarm's Terraform and AWS names, what happened)
    for (metric, short, what) in [
        ("ExecutionsFailed", "failed", "failed"),
        ("ExecutionsTimedOut", "timed-out", "timed out"),
        ("ExecutionsAborted", "aborted", "were aborted"),
    ] {
        alarms.push(AlarmSpec {
            resource: format!("executions_{}", short.replace('-', "")),
            name: format!("{}-{short}", model.name),
            description: format!("Executions of the {} state machine {what}.", model.name),
            namespace: "AWS/States",
            metric,
            statistic: "Sum",
            dimension: ("StateMachineArn", "aws_sfn_state_machine.this.arn".into()),
        });
    }
    for metric in ["Errors", "Throttles"] {
        alarms.push(AlarmSpec {
            resource: format!("callback_{}", metric.to_ascii_lowercase()),
            name: format!("{}-callback-{}", model.name, metric.to_ascii_lowercase()),
            description: format!(
                "The callback Lambda reports {}: task answers may not reach Step Functions.",
                metric.to_ascii_lowercase()
            ),
            namespace: "AWS/Lambda",
            metric,
            statistic: "Sum",
            dimension: ("FunctionName", "aws_lambda_function.callback.function_name".into()),
        });
    }
    alarms
}

fn alarms_file(header: &str, model: &Model, alarms: &crate::model::Alarms) -> File {
    let mut file = File::new(header);
    for (index, alarm) in alarm_list(model).into_iter().enumerate() {
        let block = Block::new("resource", ["aws_cloudwatch_metric_alarm", &alarm.resource])
            .attr("alarm_name", string(&alarm.name))
            .attr("alarm_description", string(&alarm.description))
            .attr("namespace", string(alarm.namespace))
            .attr("metric_name", string(alarm.metric))
            .attr("statistic", string(alarm.statistic))
            .attr("period", number(alarms.period_seconds))
            .attr("evaluation_periods", number(u64::from(alarms.evaluation_periods)))
            .attr("comparison_operator", string("GreaterThanThreshold"))
            .attr("threshold", number(0))
            .attr("treat_missing_data", string("notBreaching"))
            .blank()
            .attr(
                "dimensions",
                Expr::Object(vec![(alarm.dimension.0.to_string(), raw(alarm.dimension.1))]),
            )
            .blank()
            .attr("alarm_actions", raw("var.alarm_actions"))
            .attr("ok_actions", raw("var.alarm_actions"))
            .attr("tags", raw("local.tags"));
        if index == 0 {
            file.push_commented(
                "Any one event is worth a look: each alarm fires above zero and treats no data as healthy.",
                block,
            );
        } else {
            file.push(block);
        }
    }
    file
}
