//! `versions.tf`: the Terraform and provider versions the module needs. No `provider` block: a vendored
//! module takes its caller's.

use crate::emit::hcl::{Block, Expr, File, string};

/// Lowest hashicorp/aws release the module is checked against (its schema is in `tests/data`).
pub const AWS_PROVIDER_MIN: &str = "5.100.0";
/// Terraform version floor: the one terraform-aws-modules set for hashicorp/aws 6.
pub const TERRAFORM_MIN: &str = "1.5.7";

/// The Terraform versions the module admits, as `required_version` says it.
pub fn terraform_constraint() -> String {
    format!(">= {TERRAFORM_MIN}")
}

/// The hashicorp/aws versions the module admits, as `required_providers` says it.
pub fn aws_constraint() -> String {
    format!(">= {AWS_PROVIDER_MIN}, < 7.0.0")
}

/// The file.
pub(super) fn file(header: &str) -> File {
    let mut file = File::new(header);
    file.push(
        Block::new("terraform", Vec::<String>::new())
            .attr("required_version", string(&terraform_constraint()))
            .block(Block::new("required_providers", Vec::<String>::new()).attr(
                "aws",
                Expr::Object(vec![
                    ("source".into(), string("hashicorp/aws")),
                    ("version".into(), string(&aws_constraint())),
                ]),
            )),
    );
    file
}
