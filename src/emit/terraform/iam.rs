//! `iam.tf`: one role per service, its trust policy with confused-deputy guards and its least-privilege
//! inline policy, one statement per concern.

use super::{
    address, aws_name, feature_on, iam_arn, name_text, queue_key_input, regional_arn, state_machine_key_arn, var,
};
use crate::emit::hcl::{Block, Expr, File, raw, string, strings, template_text};
use crate::limits;
use crate::model::{
    AwsName, BusName, Condition, Encryption, EndpointSecret, Feature, FunctionId, ManagedPolicy, Model, OperatorPolicy,
    Resource, Role, RoleId, Service, Statement, WorkerPolicy,
};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for role in &model.roles {
        file.push(trust_policy(model, role));
        file.push(
            address::role(role.id)
                .declare()
                .attr("name", aws_name(&role.name))
                .attr("description", string(&role_description(model, role)))
                .attr("assume_role_policy", address::trust_document(role.id).attr("json"))
                .attr("permissions_boundary", raw("var.permissions_boundary"))
                .attr("tags", raw("local.tags")),
        );
        let mut document = address::permissions_document(role.id).declare();
        for statement in &role.statements {
            document = with_statement(document, statement.only_while, permission(model, statement));
        }
        let first = role.id == model.roles[0].id;
        let mut comment = document_comment(first, &role.statements);
        if role.id == RoleId::StateMachine {
            let logs = "Log delivery (DeliverExecutionLogs) is granted at every log level, OFF included: turning logging\n\
                        on then updates the state machine alone. Added in the same apply, the grant could reach IAM after\n\
                        UpdateStateMachine checks it, and the provider retries AccessDenied on create only.";
            comment = Some(comment.map_or(logs.to_string(), |c| format!("{c}\n{logs}")));
        }
        match comment {
            Some(comment) => file.push_commented(&comment, document),
            None => file.push(document),
        }
        file.push(
            address::role_policy(role.id)
                .declare()
                .attr("name", aws_name(&role.name))
                .attr("role", address::role(role.id).attr("id"))
                .attr("policy", address::permissions_document(role.id).attr("json")),
        );
        for policy in &role.managed_policies {
            push_managed_policy(&mut file, model, role, policy);
        }
    }
    for policy in &model.worker_policies {
        file.push_commented(&worker_policy_comment(policy), worker_policy(model, policy));
    }
    for policy in &model.operator_policies {
        file.push_commented(&operator_policy_comment(model, policy), operator_policy(model, policy));
    }
    file.push_commented(
        "What starts executions needs (output starter_policy_json; the module attaches it nowhere): StartExecution on\n\
         the alias only, so that every execution runs the version the alias routes to (the state machine's own ARN\n\
         would run its latest revision, whatever the alias says).",
        model
            .starter_policy
            .iter()
            .fold(address::starter_policy_document().declare(), |document, statement| {
                document.block(permission(model, statement))
            }),
    );
    file
}

/// Why the operator policy is here, and why part of it may be known only after apply.
fn operator_policy_comment(model: &Model, policy: &OperatorPolicy) -> String {
    let what = match policy.part {
        Some(1) => format!(
            "What an on-call engineer's role needs for the module README's runbook (output operator_policy_json), on\n\
             this module's resources only: in parts, since one document would be larger than a managed policy ({}).\n\
             The module attaches none of them.",
            limits::IAM_MANAGED_POLICY.figure_text()
        ),
        Some(part) => return format!("Part {part} of the operator policy."),
        None => "What an on-call engineer's role needs for the module README's runbook (output operator_policy_json), on\n\
                 this module's resources only: the module attaches it to no role; a team attaches it to its on-call role."
            .to_string(),
    };
    let mut lines = vec![what];
    if !model.dead_letter_readers().is_empty() && policy.part.is_none_or(|p| p == 1) {
        lines.push(
            "An event source mapping's ARN ends in the UUID Lambda gives it: PauseFailFast refers to it, so this\n\
             document is known once the mappings exist (and again after apply while one of them changes)."
                .to_string(),
        );
    }
    if let Some(key) = document_comment(false, &policy.statements) {
        lines.push(key);
    }
    lines.join("\n")
}

fn operator_policy(model: &Model, policy: &OperatorPolicy) -> Block {
    policy.statements.iter().fold(
        address::operator_policy_document(policy.part).declare(),
        |document, statement| document.block(published_permission(model, statement)),
    )
}

/// A managed policy holding grants on queues that do not fit the role's inline policy, its document and its
/// attachment to the role.
fn push_managed_policy(file: &mut File, model: &Model, role: &Role, policy: &ManagedPolicy) {
    let (id, number) = (role.id, policy.number);
    let document = policy.statements.iter().fold(
        address::managed_policy_document(id, number).declare(),
        |document, statement| with_statement(document, statement.only_while, permission(model, statement)),
    );
    if number == 1 {
        file.push_commented(
            &format!(
                "The role's grants on its queues, too many for its inline policy (IAM allows {} for a role's\n\
                 inline policies together, with the longest names and ARNs the module's inputs allow): customer\n\
                 managed policies of at most {} each, attached to the role. Exact ARNs, no wildcard: a\n\
                 \"${{var.name}}-*\" pattern would also grant another instance's queues (\"${{var.name}}-eu-...\").",
                limits::IAM_ROLE_INLINE_POLICIES.figure_text(),
                limits::IAM_MANAGED_POLICY.figure_text()
            ),
            document,
        );
    } else {
        file.push(document);
    }
    file.push(
        address::managed_policy(id, number)
            .declare()
            .attr("name", aws_name(&policy.name))
            .attr(
                "description",
                string(&format!(
                    "Part {number} of the grants on queues of the {} role.",
                    role.name.with(&model.name)
                )),
            )
            .attr("policy", address::managed_policy_document(id, number).attr("json"))
            .attr("tags", raw("local.tags")),
    );
    file.push(
        address::managed_policy_attachment(id, number)
            .declare()
            .attr("role", address::role(id).attr("name"))
            .attr("policy_arn", address::managed_policy(id, number).attr("arn")),
    );
}

/// Why the first role's document builds ARNs (said once, above it), and, for any document that names the
/// module's key, why that one ARN stays a reference.
fn document_comment(first: bool, statements: &[Statement]) -> Option<String> {
    let mut lines = Vec::new();
    if first {
        lines.push(
            "The ARNs of the module's own resources are built from their names, not referred to: Terraform reads a\n\
             document that refers to a resource again at apply time whenever that resource changes (a queue's\n\
             retention, a new step), and the plan would show the policy as \"(known after apply)\" though nothing in\n\
             it changes.",
        );
    }
    if statements.iter().any(|s| s.resources.contains(&Resource::ModuleKey)) {
        lines.push(
            "The module key's ARN holds the id AWS gave the key, which no name tells: it comes through\n\
             terraform_data.module_key_arn (kms.tf), which a change to the key in place (its tags, its description)\n\
             leaves as it is, so that such a plan still shows this policy whole.",
        );
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}

/// Why a worker policy is here: the module attaches it nowhere, a team attaches its JSON (an output).
fn worker_policy_comment(policy: &WorkerPolicy) -> String {
    match (&policy.queue, policy.part) {
        (None, Some(1)) => format!(
            "What a worker's role needs to take tasks from every queue and answer them (output worker_policy_json): in\n\
             parts, since one document would be larger than a managed policy ({}) with the longest names and ARNs\n\
             the module's inputs allow. A worker of every queue attaches every part; a worker of one queue needs\n\
             only worker_policy_json_by_queue. The module attaches none of them.",
            limits::IAM_MANAGED_POLICY.figure_text()
        ),
        (None, Some(part)) => format!("Part {part} of the worker policy for every queue."),
        (None, None) => {
            let what = "What a worker's role needs to take tasks from every queue and answer them (output worker_policy_json):\n\
                 the module attaches it to no role; a team attaches it to its worker's. Its queue and function ARNs are\n\
                 built, as in the roles' policies, so that the output is known at plan time.";
            match document_comment(false, &policy.statements) {
                Some(key) => format!("{what}\n{key}"),
                None => what.into(),
            }
        }
        (Some(key), _) => format!("The same for a worker of queue {key:?} only (output worker_policy_json_by_queue)."),
    }
}

fn worker_policy(model: &Model, policy: &WorkerPolicy) -> Block {
    let address = match policy.part {
        Some(part) => address::worker_policy_part_document(part),
        None => address::worker_policy_document(policy.queue.as_deref()),
    };
    policy.statements.iter().fold(address.declare(), |document, statement| {
        document.block(permission(model, statement))
    })
}

fn role_description(model: &Model, role: &Role) -> String {
    match role.id {
        RoleId::StateMachine => format!(
            "Runs the {} state machine: sends callback tasks to its queues.",
            model.name
        ),
        RoleId::Callback => format!("Runs the {} callback Lambda: answers task tokens.", model.name),
        RoleId::DeadLetters => format!(
            "Runs the {} dead-letter Lambda: fails the tasks of dead-lettered messages.",
            model.name
        ),
        RoleId::Endpoint => format!("Runs the {} callback endpoint: answers task tokens.", model.name),
        RoleId::ApprovalNotify => format!(
            "Runs the {} approval notifier: keeps tokens, signs and sends links.",
            model.name
        ),
        RoleId::ApprovalPage => format!(
            "Runs the {} approval page: records decisions, answers tasks.",
            model.name
        ),
    }
}

/// Who may assume the role, with the confused-deputy guards each service supports.
fn trust_policy(model: &Model, role: &Role) -> Block {
    let mut statement = Block::new("statement", Vec::<String>::new())
        .attr("sid", string("AssumedByService"))
        .attr("actions", strings(["sts:AssumeRole"]))
        .block(principals("Service", strings([role.service.principal()])))
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
                    "ArnEquals",
                    "aws:SourceArn",
                    raw(format!("[\"{}\"]", state_machine_arn(model))),
                ));
        }
        Service::Lambda => {
            statement = statement.blank().comment(&lambda_trust_comment(role));
        }
    }
    address::trust_document(role.id).declare().block(statement)
}

/// Why a Lambda role's trust policy names no function: what `lambda:SourceFunctionArn` limits, and what it
/// cannot.
fn lambda_trust_comment(role: &Role) -> String {
    let reads_queues = role.statements.iter().any(|s| {
        s.resources
            .iter()
            .any(|r| matches!(r, Resource::DeadLetterQueue(_) | Resource::BusDeadLetterQueue(_)))
    });
    let others = if reads_queues {
        "its logs, the dead-letter queues it reads"
    } else {
        "its logs"
    };
    super::kms::wrapped(&format!(
        "Lambda sets no aws:SourceArn when it assumes an execution role. Its calls to Step Functions are limited \
         to its function by lambda:SourceFunctionArn; its other grants ({others}) hold for any function given \
         this role: keep iam:PassRole on it to those who deploy this."
    ))
}

/// The state machine's ARN, built from its name (template text): the trust policy and the role's policy,
/// which the state machine depends on, could not refer to `aws_sfn_state_machine.this.arn` without a cycle.
fn state_machine_arn(model: &Model) -> String {
    regional_arn(
        "states",
        &format!("stateMachine:{}", name_text(&model.state_machine.name)),
    )
}

/// A Lambda function's (unqualified) ARN, built from its name (template text).
fn function_arn(model: &Model, id: FunctionId) -> String {
    regional_arn("lambda", &format!("function:{}", name_text(&model.function(id).name)))
}

/// A log group's ARN, built from its name (template text), as KMS's encryption context holds it; `:*` after
/// it names its log streams.
pub(super) fn log_group_arn(name: &AwsName) -> String {
    regional_arn("logs", &format!("log-group:{}", name_text(name)))
}

/// A role's ARN, built from its name (template text; the module's roles have the path `/`).
pub(super) fn role_arn(role: &Role) -> String {
    iam_arn(&format!("role/{}", name_text(&role.name)))
}

/// The queue's dead-letter queue's AWS name. Only queues with one are asked, so none is a bug.
fn dead_letter_name<'m>(model: &'m Model, key: &str) -> &'m AwsName {
    match &model.queue(key).dead_letter {
        Some(dead_letter) => &dead_letter.name,
        None => panic!("bug: queue {key:?} has no dead-letter queue, yet a policy names it"),
    }
}

/// The topic's dead-letter queue's AWS name. Only topics with one are asked, so none is a bug.
fn topic_dead_letter_name<'m>(model: &'m Model, key: &str) -> &'m AwsName {
    match &model.topic(key).dead_letter {
        Some(dead_letter) => &dead_letter.name,
        None => panic!("bug: topic {key:?} has no dead-letter queue, yet a policy names it"),
    }
}

/// A statement's conditions, each with a comment saying what it allows, written into `block`.
pub(super) fn with_conditions(model: &Model, mut block: Block, conditions: &[Condition]) -> Block {
    let via_service = conditions.iter().any(|c| matches!(c, Condition::ViaService(_)));
    for each in conditions {
        let (comment, variable, values) = match each {
            Condition::ViaService(service) => (
                format!(
                    "Only when {} uses the key, on the caller's behalf, in this region.",
                    service.title()
                ),
                "kms:ViaService",
                format!(
                    "[\"{}.${{local.region}}.${{local.dns_suffix}}\"]",
                    service.endpoint_prefix()
                ),
            ),
            Condition::StateMachineData if via_service => (
                "Only for this state machine's definition and execution history.".to_string(),
                "kms:EncryptionContext:aws:states:stateMachineArn",
                format!("[\"{}\"]", state_machine_arn(model)),
            ),
            Condition::StateMachineData => (
                "Only for this state machine's definition and execution history. No kms:ViaService: AWS warns\n\
                 that on an execution role it can keep executions from starting or make them fail."
                    .to_string(),
                "kms:EncryptionContext:aws:states:stateMachineArn",
                format!("[\"{}\"]", state_machine_arn(model)),
            ),
            Condition::LogDelivery => (
                "Only for log deliveries in this account and region, the narrowest context AWS gives vended\n\
                 logs: the state machine's execution logs among them."
                    .to_string(),
                "kms:EncryptionContext:SourceArn",
                format!("[\"{}\"]", regional_arn("logs", "*")),
            ),
            Condition::BusEvents(index) => {
                let bus = &model.buses[*index];
                block = block
                    .blank()
                    .comment(&format!(
                        "Only the task events of bus {:?}: their source and detail type, which its rule matches.",
                        bus.key
                    ))
                    .block(condition("StringEquals", "events:source", strings([&bus.source])));
                (
                    String::new(),
                    "events:detail-type",
                    format!("[{}]", quoted_value(&bus.detail_type)),
                )
            }
        };
        block = if comment.is_empty() {
            block.block(condition("StringEquals", variable, raw(values)))
        } else {
            block
                .blank()
                .comment(&comment)
                .block(condition("StringEquals", variable, raw(values)))
        };
    }
    block
}

/// A spec text as a quoted HCL string.
fn quoted_value(text: &str) -> String {
    match string(text) {
        Expr::Raw(quoted) => quoted,
        other => unreachable!("string() is a one-line literal, not {other:?}"),
    }
}

/// `document` with `statement` added: as it is, or only while `feature` is on (a `dynamic` statement).
pub(super) fn with_statement(document: Block, feature: Option<Feature>, statement: Block) -> Block {
    match feature {
        None => document.block(statement),
        Some(feature) => document
            .blank()
            .comment(only_while_comment(feature))
            .block(only_while(feature, statement)),
    }
}

/// A policy statement's `condition` block.
pub(super) fn condition(test: &str, variable: &str, values: Expr) -> Block {
    Block::new("condition", Vec::<String>::new())
        .attr("test", string(test))
        .attr("variable", string(variable))
        .attr("values", values)
}

/// A policy statement's `principals` block.
pub(super) fn principals(kind: &str, identifiers: Expr) -> Block {
    Block::new("principals", Vec::<String>::new())
        .attr("type", string(kind))
        .attr("identifiers", identifiers)
}

/// Why a statement is a `dynamic` one.
fn only_while_comment(feature: Feature) -> &'static str {
    match feature {
        Feature::ExecutionLogging => "Only while execution logging is on (var.log_level is not \"OFF\").",
        Feature::Tracing => "Only while tracing is on (var.tracing).",
    }
}

/// A statement granted only while `feature` is on: `dynamic "statement"` with one element or none.
fn only_while(feature: Feature, statement: Block) -> Block {
    Block::new("dynamic", ["statement"])
        .attr("for_each", raw(format!("{} ? [1] : []", feature_on(feature))))
        .block(statement.renamed("content"))
}

fn permission(model: &Model, statement: &Statement) -> Block {
    statement_block(model, statement, true)
}

/// A statement of a policy the module attaches to no role (the operator's): no poller uses it.
fn published_permission(model: &Model, statement: &Statement) -> Block {
    statement_block(model, statement, false)
}

/// A statement as HCL; `role`: of one of the module's roles, which Lambda's pollers may use.
fn statement_block(model: &Model, statement: &Statement, role: bool) -> Block {
    let mut block = Block::new("statement", Vec::<String>::new()).attr("sid", string(&statement.sid));
    if role
        && statement
            .resources
            .iter()
            .any(|r| matches!(r, Resource::DeadLetterQueue(_) | Resource::BusDeadLetterQueue(_)))
    {
        block = block.comment(
            "Lambda's event source mappings poll these queues with this role, not from inside the function:\n\
             lambda:SourceFunctionArn does not apply.",
        );
    }
    if statement.resources.contains(&Resource::Any) {
        block = block.comment("These actions support no resource-level permissions: AWS requires \"*\".");
    }
    block = block.attr("actions", strings(&statement.actions)).attr(
        "resources",
        Expr::List(statement.resources.iter().map(|r| resource_arn(model, r)).collect()),
    );
    block = with_conditions(model, block, &statement.conditions);
    if let Some(function) = statement.only_from {
        block = block.blank().block(condition(
            "ArnEquals",
            "lambda:SourceFunctionArn",
            raw(format!("[\"{}\"]", function_arn(model, function))),
        ));
    }
    block
}

/// A policy resource as HCL: the ARN of one of the module's own resources built from its name, a key's ARN,
/// or `*`.
pub(super) fn resource_arn(model: &Model, resource: &Resource) -> Expr {
    match own_arn(model, resource) {
        Some(arn) => raw(format!("\"{arn}\"")),
        None => key_arn(model, resource),
    }
}

/// The ARN of one of the module's own resources, built from its AWS name and the partition, region and account
/// locals (template text); `None` for a key or `*`.
///
/// Built, not referred to (`aws_sqs_queue.main.arn`): Terraform reads a policy document that refers to a
/// managed resource again at apply time whenever that resource has a change planned (a queue's retention, a
/// step added to the state machine, the callback's memory), and the plan then shows every policy naming it as
/// `(known after apply)` though nothing in the policy changes. A reference also ordered the policy after the
/// resource; nothing needs that (IAM takes an ARN before its resource exists), and what must come after a role's
/// policy says so with `depends_on`: the state machine (Step Functions checks the role's log delivery), the
/// Lambda functions and the event source mappings (Lambda checks the role may read the queue), the module's key
/// (KMS checks the roles it names exist).
fn own_arn(model: &Model, resource: &Resource) -> Option<String> {
    let arn = match resource {
        Resource::Queue(key) => regional_arn("sqs", &name_text(&model.queue(key).name)),
        Resource::DeadLetterQueue(key) => regional_arn("sqs", &name_text(dead_letter_name(model, key))),
        Resource::Function(id) => function_arn(model, *id),
        Resource::StateMachine => state_machine_arn(model),
        Resource::Executions => regional_arn(
            "states",
            &format!("execution:{}:*", name_text(&model.state_machine.name)),
        ),
        Resource::DeadLetterMapping(key) => regional_arn(
            "lambda",
            &format!(
                "event-source-mapping:${{{}.output}}",
                address::dead_letter_mapping_uuid(key)
            ),
        ),
        Resource::StateMachineAlias => format!("{}:{}", state_machine_arn(model), address::STATE_MACHINE_ALIAS_NAME),
        Resource::LogStreams(id) => format!("{}:*", log_group_arn(&model.function(*id).log_group.name)),
        Resource::Bus(key) => match &model.bus(key).bus {
            BusName::Existing(existing) => regional_arn("events", &format!("event-bus/{}", template_text(existing))),
            BusName::Custom(custom) => regional_arn("events", &format!("event-bus/{}", name_text(custom))),
        },
        Resource::BusDeadLetterQueue(key) => match &model.bus(key).dead_letter {
            Some(dlq) => regional_arn("sqs", &name_text(&dlq.name)),
            None => panic!("bug: bus {key:?} has no dead-letter queue, yet a policy names it"),
        },
        Resource::BusDeadLetterMapping(key) => regional_arn(
            "lambda",
            &format!(
                "event-source-mapping:${{{}.output}}",
                address::bus_dead_letter_mapping_uuid(key)
            ),
        ),
        Resource::Topic(key) => regional_arn("sns", &name_text(&model.topic(key).name)),
        Resource::TopicDeadLetterQueue(key) => regional_arn("sqs", &name_text(topic_dead_letter_name(model, key))),
        Resource::TopicDeadLetterMapping(key) => regional_arn(
            "lambda",
            &format!(
                "event-source-mapping:${{{}.output}}",
                address::topic_dead_letter_mapping_uuid(key)
            ),
        ),
        Resource::ApprovalsQueue => regional_arn("sqs", &name_text(&approvals(model).queue)),
        Resource::ApprovalsDeadLetterQueue => regional_arn("sqs", &name_text(&approvals(model).dead_letter)),
        Resource::ApprovalTable => regional_arn("dynamodb", &format!("table/{}", name_text(&approvals(model).table))),
        // Secrets Manager ends a secret's ARN with a hyphen and six random characters: `-??????` matches exactly those
        // (https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html), so the ARN is
        // built, known at plan time, and matches no other secret whose name starts the same.
        Resource::EndpointSecret => match endpoint_secret(model) {
            EndpointSecret::Created(name) => {
                regional_arn("secretsmanager", &format!("secret:{}-??????", name_text(name)))
            }
            EndpointSecret::Given(_) => return None,
        },
        Resource::ApprovalKey
        | Resource::ModuleKey
        | Resource::QueueKey(_)
        | Resource::TopicKey(_)
        | Resource::StateMachineKey
        | Resource::Any => return None,
    };
    Some(arn)
}

/// The model's approvals: a statement names them only when it has them.
fn approvals(model: &Model) -> &crate::model::Approvals {
    model
        .approvals
        .as_ref()
        .unwrap_or_else(|| panic!("bug: a policy names the approvals, yet no step is an approval step"))
}

/// The endpoint's HMAC secret: a statement names it only when there is one.
fn endpoint_secret(model: &Model) -> &EndpointSecret {
    match model.endpoint.as_ref().map(|e| &e.auth) {
        Some(crate::model::EndpointAuth::Hmac { secret, .. }) => secret,
        _ => panic!("bug: a policy names the endpoint's secret, yet the endpoint is no HMAC endpoint"),
    }
}

/// A KMS key's ARN, or `*`. A key's ARN holds the id AWS gave the key, which no name tells, so none is built:
/// the module's own key is referred to (documents naming it are read again at apply time while the key
/// changes), a key given by alias is looked up (a data source that depends on no resource: read at plan
/// time), a key given by ARN is its input.
fn key_arn(model: &Model, resource: &Resource) -> Expr {
    match resource {
        Resource::ModuleKey => address::module_key_arn().attr("output"),
        Resource::QueueKey(key) => {
            let queue = model.queue(key);
            match queue.encryption {
                Encryption::KeyAlias(_) => address::key_alias_lookup(key).attr("target_key_arn"),
                _ => var(&queue_key_input(queue)),
            }
        }
        Resource::TopicKey(key) => {
            let topic = model.topic(key);
            match topic.encryption {
                Encryption::KeyAlias(_) => address::topic_key_alias_lookup(key).attr("target_key_arn"),
                _ => var(&super::topics::topic_key_input(topic)),
            }
        }
        Resource::StateMachineKey => state_machine_key_arn(model),
        Resource::ApprovalKey => address::approval_key_arn().attr("output"),
        Resource::EndpointSecret => var(crate::model::input::ENDPOINT_SECRET_ARN),
        Resource::Any => string("*"),
        own => panic!("bug: {own:?} is the module's own resource: its ARN is built from its name"),
    }
}
