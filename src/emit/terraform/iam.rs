//! `iam.tf`: one role per service, its trust policy with confused-deputy guards and its least-privilege
//! inline policy, one statement per concern.

use super::{address, aws_name, feature_on, name_text, queue_key_input, state_machine_key_arn, var};
use crate::emit::hcl::{Block, Expr, File, raw, string, strings};
use crate::model::{Condition, Encryption, Feature, Model, Resource, Role, RoleId, Service, Statement, WorkerPolicy};

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
        file.push(document);
        file.push(
            address::role_policy(role.id)
                .declare()
                .attr("name", aws_name(&role.name))
                .attr("role", address::role(role.id).attr("id"))
                .attr("policy", address::permissions_document(role.id).attr("json")),
        );
    }
    for policy in &model.worker_policies {
        file.push_commented(&worker_policy_comment(policy), worker_policy(model, policy));
    }
    file
}

/// Why a worker policy is here: the module attaches it nowhere, a team attaches its JSON (an output).
fn worker_policy_comment(policy: &WorkerPolicy) -> String {
    match &policy.queue {
        None => {
            "What a worker's role needs to take tasks from every queue and answer them (output worker_policy_json):\n\
                 the module attaches it to no role; a team attaches it to its worker's."
                .into()
        }
        Some(key) => format!("The same for a worker of queue {key:?} only (output worker_policy_json_by_queue)."),
    }
}

fn worker_policy(model: &Model, policy: &WorkerPolicy) -> Block {
    policy.statements.iter().fold(
        address::worker_policy_document(policy.queue.as_deref()).declare(),
        |document, statement| document.block(permission(model, statement)),
    )
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
                    "ArnLike",
                    "aws:SourceArn",
                    raw(format!("[{}]", state_machine_arn(model))),
                ));
        }
        Service::Lambda => {
            statement = statement.blank().comment(
                "Lambda sets no aws:SourceArn when it assumes an execution role: the role's permissions are\n\
                 limited to calls made from this function with lambda:SourceFunctionArn instead.",
            );
        }
    }
    address::trust_document(role.id).declare().block(statement)
}

/// The state machine's ARN as a quoted template, built from its name: policies the state machine depends on
/// cannot refer to `aws_sfn_state_machine.this.arn` without a dependency cycle.
fn state_machine_arn(model: &Model) -> String {
    format!(
        "\"arn:${{local.partition}}:states:${{local.region}}:${{local.account_id}}:stateMachine:{}\"",
        name_text(&model.state_machine.name)
    )
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
                format!("[{}]", state_machine_arn(model)),
            ),
            Condition::StateMachineData => (
                "Only for this state machine's definition and execution history. No kms:ViaService: AWS warns\n\
                 that on an execution role it can keep executions from starting or make them fail."
                    .to_string(),
                "kms:EncryptionContext:aws:states:stateMachineArn",
                format!("[{}]", state_machine_arn(model)),
            ),
            Condition::LogDelivery => (
                "Only for log deliveries in this account and region: the state machine's execution logs.".to_string(),
                "kms:EncryptionContext:SourceArn",
                "[\"arn:${local.partition}:logs:${local.region}:${local.account_id}:*\"]".to_string(),
            ),
        };
        block = block
            .blank()
            .comment(&comment)
            .block(condition("StringEquals", variable, raw(values)));
    }
    block
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
    let mut block = Block::new("statement", Vec::<String>::new()).attr("sid", string(&statement.sid));
    if statement
        .resources
        .iter()
        .any(|r| matches!(r, Resource::DeadLetterQueue(_)))
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
    if statement.only_from_callback_function {
        block = block.blank().block(condition(
            "ArnEquals",
            "lambda:SourceFunctionArn",
            raw(format!(
                "[\"arn:${{local.partition}}:lambda:${{local.region}}:${{local.account_id}}:function:{}\"]",
                name_text(&model.callback.function_name)
            )),
        ));
    }
    block
}

pub(super) fn resource_arn(model: &Model, resource: &Resource) -> Expr {
    match resource {
        Resource::Queue(key) => address::queue(key).attr("arn"),
        Resource::DeadLetterQueue(key) => address::dead_letter_queue(key).attr("arn"),
        Resource::CallbackFunction => address::callback_function().attr("arn"),
        Resource::StateMachine => address::state_machine().attr("arn"),
        Resource::ModuleKey => address::module_key().attr("arn"),
        Resource::QueueKey(key) => {
            let queue = model.queue(key);
            match queue.encryption {
                Encryption::KeyAlias(_) => address::key_alias_lookup(key).attr("target_key_arn"),
                _ => var(&queue_key_input(queue)),
            }
        }
        Resource::StateMachineKey => state_machine_key_arn(model),
        Resource::CallbackLogStreams => address::callback_log_group().attr_then("arn", ":*"),
        Resource::Any => string("*"),
    }
}
