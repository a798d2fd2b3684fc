//! `main.tf`: the module's locals (tags, ARN parts, the Lambda package path) and the data sources they read.

use std::collections::BTreeMap;

use super::{EXECUTION_LOGGING, address, queue_key_input, var};
use crate::emit::LAMBDA_ZIP_FILE;
use crate::emit::hcl::{Block, Expr, File, raw, string};
use crate::model::{Model, input};

/// Tags the module puts on everything, then the spec's `[tags]` (a spec tag of the same key wins).
/// `SfngenPattern` names the instance (`var.name`), so that two instances of one module tell theirs apart.
fn tag_object(model: &Model) -> Expr {
    let mut tags: BTreeMap<String, Expr> = BTreeMap::from([
        ("ManagedBy".to_string(), string("sfngen")),
        ("SfngenPattern".to_string(), raw("var.name")),
    ]);
    tags.extend(model.tags.iter().map(|(k, v)| (k.clone(), string(v))));
    Expr::Object(tags.into_iter().collect())
}

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    let tag_object = tag_object(model);
    file.push(
        Block::new("locals", Vec::<String>::new())
            .comment("The module's own tags, then the spec's [tags], then var.tags: later keys win.")
            .attr("tags", Expr::Call("merge".into(), vec![tag_object, raw("var.tags")]))
            .blank()
            .comment("ARN parts for names that cannot be referenced without a dependency cycle.")
            .attr("partition", address::partition().attr("partition"))
            .attr("region", address::states_service().attr("region"))
            .attr("account_id", address::caller_identity().attr("account_id"))
            .blank()
            .comment("Execution logging is on unless var.log_level is \"OFF\": it decides the state machine's log group and\nits role's log-delivery statement.")
            .attr(
                EXECUTION_LOGGING,
                raw(format!("var.{} != \"OFF\"", input::LOG_LEVEL)),
            )
            .blank()
            .attr(
                "callback_lambda_zip",
                raw(format!(
                    "coalesce(var.callback_lambda_zip, \"${{path.module}}/{LAMBDA_ZIP_FILE}\")"
                )),
            ),
    );
    file.push(address::partition().declare());
    file.push_commented(
        "The current region, read the same way on hashicorp/aws 5.x and 6.x: aws_region's `name` is deprecated\nin 6.x and its replacement `region` does not exist in 5.x.",
        address::states_service().declare().attr("service_id", string("states")),
    );
    file.push(address::caller_identity().declare());
    file.push_group(
        "Keys given by alias: policies need the key's ARN, not the alias.",
        model.alias_queues().into_iter().map(|queue| {
            address::key_alias_lookup(&queue.key)
                .declare()
                .attr("name", var(&queue_key_input(queue)))
        }),
    );
    file
}
