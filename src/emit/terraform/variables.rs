//! `variables.tf`: the module's inputs, as the model lists them.

use crate::emit::hcl::{Block, File, raw, string};
use crate::model::{InputKind, Model};

/// The Terraform type of an input.
pub fn type_of(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Tags => "map(string)",
        InputKind::OptionalPolicyArn | InputKind::OptionalPath => "string",
        InputKind::ArnList => "list(string)",
    }
}

/// The default of an input, as HCL.
pub fn default_of(kind: InputKind) -> &'static str {
    match kind {
        InputKind::Tags => "{}",
        InputKind::OptionalPolicyArn | InputKind::OptionalPath => "null",
        InputKind::ArnList => "[]",
    }
}

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    for input in model.inputs() {
        let mut block = Block::new("variable", [input.name])
            .attr("description", string(&input.description))
            .attr("type", raw(type_of(input.kind)))
            .attr("default", raw(default_of(input.kind)));
        if input.kind == InputKind::OptionalPolicyArn {
            block = block.block(policy_arn_validation(input.name));
        }
        file.push(block);
    }
    file
}

/// Refuses anything but an IAM policy ARN (or null) at plan time, before a role is touched.
fn policy_arn_validation(variable: &str) -> Block {
    Block::new("validation", Vec::<String>::new())
        .attr(
            "condition",
            raw(format!(
                r#"var.{variable} == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{{12}}:policy/.+$", var.{variable}))"#
            )),
        )
        .attr(
            "error_message",
            string(&format!(
                "The {variable} must be an IAM policy ARN such as arn:aws:iam::123456789012:policy/boundary, or null."
            )),
        )
}
