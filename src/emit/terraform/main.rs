//! `main.tf`: the module's locals (tags, ARN parts, the Lambda package path) and the data sources they read.

use std::collections::BTreeMap;

use super::{EXECUTION_LOGGING, address, queue_key_input, var};
use crate::emit::LAMBDA_ZIP_FILE;
use crate::emit::hcl::{Block, Expr, File, raw, string};
use crate::model::{CustomerKey, MODULE_TAG_KEYS, Model, input};

/// Tags the module puts on everything, then the spec's `[tags]` (a spec tag of the same key wins).
/// `SfngenPattern` names the instance (`var.name`), so that two instances of one module tell theirs apart.
fn tag_object(model: &Model) -> Expr {
    let [managed_by, pattern] = MODULE_TAG_KEYS;
    let mut tags: BTreeMap<String, Expr> = BTreeMap::from([
        (managed_by.to_string(), string("sfngen")),
        (pattern.to_string(), raw("var.name")),
    ]);
    tags.extend(model.tags.iter().map(|(k, v)| (k.clone(), string(v))));
    Expr::Object(tags.into_iter().map(|(k, v)| (k.into(), v)).collect())
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
            .comment(if model.names_service_endpoints() {
                "ARN parts, from data sources that depend on no resource: policies build the ARNs of the module's own\nresources from their names, so that they are known at plan time. And the partition's DNS suffix for\nservice endpoints and principals."
            } else {
                "ARN parts, from data sources that depend on no resource: policies build the ARNs of the module's own\nresources from their names, so that they are known at plan time."
            })
            .attr("partition", address::partition().attr("partition"))
            .attr("region", address::states_service().attr("region"))
            .attr("account_id", address::caller_identity().attr("account_id"))
            .attr_opt(
                "dns_suffix",
                model
                    .names_service_endpoints()
                    .then(|| address::partition().attr("dns_suffix")),
            )
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
    let queue_lookups = model.alias_queues().into_iter().map(|queue| {
        address::key_alias_lookup(&queue.key)
            .declare()
            .attr("name", var(&queue_key_input(queue)))
    });
    let state_machine_lookup = matches!(model.state_machine.encryption, Some(CustomerKey::Alias(_))).then(|| {
        address::state_machine_key_alias_lookup()
            .declare()
            .attr("name", var(input::STATE_MACHINE_KMS_KEY_ALIAS))
    });
    file.push_group(
        "Keys given by alias: policies need the key's ARN, not the alias.",
        queue_lookups.chain(state_machine_lookup),
    );
    file
}
