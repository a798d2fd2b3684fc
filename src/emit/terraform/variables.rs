//! `variables.tf`: the module's inputs, as the model lists them.

use crate::emit::hcl::{Block, File, raw, string};
use crate::model::{InputKind, Model};
use crate::spec::keys::MAX_NAME_CHARS;

/// The Terraform type of an input.
pub fn type_of(kind: &InputKind) -> &'static str {
    match kind {
        InputKind::Name { .. } => "string",
        InputKind::Tags => "map(string)",
        InputKind::OptionalPolicyArn | InputKind::OptionalPath => "string",
        InputKind::ArnList => "list(string)",
    }
}

/// The default of an input, as HCL.
pub fn default_of(kind: &InputKind) -> String {
    match kind {
        InputKind::Name { default } => hcl_string(default),
        InputKind::Tags => "{}".into(),
        InputKind::OptionalPolicyArn | InputKind::OptionalPath => "null".into(),
        InputKind::ArnList => "[]".into(),
    }
}

fn hcl_string(text: &str) -> String {
    match string(text) {
        crate::emit::hcl::Expr::Raw(quoted) => quoted,
        other => unreachable!("string() is a one-line literal, not {other:?}"),
    }
}

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for input in model.inputs() {
        let mut block = Block::new("variable", [input.name])
            .attr("description", string(&input.description))
            .attr("type", raw(type_of(&input.kind)))
            .attr("default", raw(default_of(&input.kind)));
        match input.kind {
            InputKind::OptionalPolicyArn => block = block.block(policy_arn_validation(input.name)),
            InputKind::Name { .. } => block = block.block(name_validation(input.name)),
            _ => {}
        }
        file.push(block);
    }
    file
}

/// The spec's rule for `name`, so that every name derived from it fits AWS's limits (the module was
/// rendered for names up to this length).
fn name_validation(variable: &str) -> Block {
    let rest = MAX_NAME_CHARS - 2;
    Block::new("validation", Vec::<String>::new())
        .attr(
            "condition",
            raw(format!(
                r#"can(regex("^[a-z]([a-z0-9-]{{0,{rest}}}[a-z0-9])?$", var.{variable}))"#
            )),
        )
        .attr(
            "error_message",
            string(&format!(
                "The {variable} must be 1-{MAX_NAME_CHARS} characters: a lowercase letter first, then lowercase letters, digits or '-', not ending in '-'."
            )),
        )
}

/// Refuses anything but an IAM policy ARN (or null) at plan time, before a role is touched: a customer
/// managed policy (its account in the ARN) or an AWS managed one (`aws` in the account's place).
fn policy_arn_validation(variable: &str) -> Block {
    Block::new("validation", Vec::<String>::new())
        .attr(
            "condition",
            raw(format!(
                r#"var.{variable} == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{{12}}|aws):policy/.+$", var.{variable}))"#
            )),
        )
        .attr(
            "error_message",
            string(&format!(
                "The {variable} must be an IAM policy ARN, such as arn:aws:iam::123456789012:policy/boundary or arn:aws:iam::aws:policy/PowerUserAccess, or null."
            )),
        )
}
