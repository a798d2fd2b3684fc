//! `main.tf`: the module's locals (tags, ARN parts, the Lambda package path) and the data sources they read.

use std::collections::BTreeMap;

use super::address;
use crate::emit::LAMBDA_ZIP_FILE;
use crate::emit::hcl::{Block, Expr, File, raw, string};
use crate::model::Model;

/// Tags the module puts on everything, before the spec's `[tags]` and `var.tags`.
fn module_tags(model: &Model) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("ManagedBy".to_string(), "sfngen".to_string()),
        ("SfngenPattern".to_string(), model.name.clone()),
    ])
}

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
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
            .attr("partition", address::partition().attr("partition"))
            .attr("region", address::states_service().attr("region"))
            .attr("account_id", address::caller_identity().attr("account_id"))
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
        model.key_aliases().into_iter().map(|alias| {
            address::key_alias_lookup(model, alias)
                .declare()
                .attr("name", string(alias))
        }),
    );
    file
}
