//! Every rendered `.tf` file against the hashicorp/aws schema, on the oldest and newest provider the
//! module admits (5.100.0 and the newest 6.x) and two between; and proof that the checker catches each
//! kind of mistake, deprecations on every version.

mod common;

use common::schema::{Schema, Violation};

const VERSIONS: &[&str] = &["5.100.0", "6.9.0", "6.25.0", "6.47.0"];

#[test]
fn every_rendered_module_conforms_to_the_provider_schema() {
    for version in VERSIONS {
        let schema = Schema::load(version);
        for spec in common::all_specs() {
            let files = common::tf_files(&common::render(&spec));
            let violations = schema.check_module(&files);
            assert!(
                violations.is_empty(),
                "{} against hashicorp/aws {}: {violations:#?}",
                common::spec_label(&spec),
                schema.version()
            );
        }
    }
}

fn kinds(tf: &str) -> Vec<&'static str> {
    kinds_on(&Schema::load("6.47.0"), tf)
}

/// The kinds of violation in a module made of `tf` and a role `aws_iam_role.r`, against `schema`.
fn kinds_on(schema: &Schema, tf: &str) -> Vec<&'static str> {
    let module = vec![
        ("main.tf".to_string(), tf.to_string()),
        (
            "roles.tf".to_string(),
            "resource \"aws_iam_role\" \"r\" {\n  assume_role_policy = \"{}\"\n}\n".to_string(),
        ),
    ];
    let mut kinds: Vec<&'static str> = schema
        .check_module(&module)
        .iter()
        .map(|v: &Violation| v.kind)
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

#[test]
fn a_correct_block_passes() {
    assert_eq!(
        kinds(
            "resource \"aws_sqs_queue\" \"q\" {\n  name = \"a\"\n  fifo_queue = true\n  visibility_timeout_seconds = 30\n}\n"
        ),
        Vec::<&str>::new()
    );
}

#[test]
fn catches_an_unknown_resource_type() {
    assert_eq!(kinds("resource \"aws_sqs_queueue\" \"q\" {}\n"), ["unknown-type"]);
}

#[test]
fn catches_an_unknown_attribute() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  visibility_timeout = 30\n}\n"),
        ["unknown-attribute"]
    );
}

#[test]
fn catches_a_computed_only_attribute() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  arn = \"x\"\n}\n"),
        ["computed-only"]
    );
}

#[test]
fn catches_a_literal_of_the_wrong_type() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  fifo_queue = \"yes\"\n}\n"),
        ["type-mismatch"]
    );
    assert_eq!(
        kinds(
            "resource \"aws_lambda_function\" \"f\" {\n  function_name = \"f\"\n  role = aws_iam_role.r.arn\n  architectures = \"arm64\"\n}\n"
        ),
        ["type-mismatch"]
    );
}

#[test]
fn catches_a_reference_of_the_wrong_type() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  fifo_queue = aws_iam_role.r.arn\n}\n"),
        ["type-mismatch"]
    );
}

#[test]
fn catches_a_block_written_as_an_attribute() {
    assert_eq!(
        kinds(
            "resource \"aws_sfn_state_machine\" \"s\" {\n  name = \"s\"\n  role_arn = \"r\"\n  definition = \"{}\"\n  tracing_configuration = { enabled = true }\n}\n"
        ),
        ["block-as-attribute"]
    );
}

#[test]
fn catches_an_attribute_written_as_a_block() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  redrive_policy {\n    maxReceiveCount = 5\n  }\n}\n"),
        ["attribute-as-block"]
    );
}

#[test]
fn catches_too_many_blocks() {
    assert_eq!(
        kinds(
            "resource \"aws_sfn_state_machine\" \"s\" {\n  name = \"s\"\n  role_arn = \"r\"\n  definition = \"{}\"\n  tracing_configuration {\n    enabled = true\n  }\n  tracing_configuration {\n    enabled = false\n  }\n}\n"
        ),
        ["too-many-blocks"]
    );
}

#[test]
fn catches_a_missing_required_attribute_or_block() {
    assert_eq!(
        kinds("resource \"aws_sfn_state_machine\" \"s\" {\n  name = \"s\"\n}\n"),
        ["missing-required"]
    );
    assert_eq!(
        kinds(
            "resource \"aws_lambda_function\" \"f\" {\n  function_name = \"f\"\n  role = aws_iam_role.r.arn\n  logging_config {\n    log_group = \"g\"\n  }\n}\n"
        ),
        ["missing-required"]
    );
}

#[test]
fn catches_a_deprecated_attribute() {
    assert_eq!(
        kinds("data \"aws_region\" \"r\" {\n  name = \"us-east-1\"\n}\n"),
        ["deprecated"]
    );
}

#[test]
fn catches_a_deprecated_argument_on_every_version() {
    for version in VERSIONS {
        assert_eq!(
            kinds_on(
                &Schema::load(version),
                "resource \"aws_iam_role\" \"x\" {\n  assume_role_policy = \"{}\"\n  managed_policy_arns = []\n}\n"
            ),
            ["deprecated"],
            "hashicorp/aws {version}"
        );
    }
}

#[test]
fn deprecations_follow_the_version() {
    // aws_region's `name` is deprecated from 6.0 on; on 5.100 it is the only way to read the region.
    let tf = "data \"aws_region\" \"r\" {\n  name = \"us-east-1\"\n}\n";
    assert_eq!(kinds_on(&Schema::load("5.100.0"), tf), Vec::<&str>::new());
    assert_eq!(kinds_on(&Schema::load("6.9.0"), tf), ["deprecated"]);
}

#[test]
fn catches_a_deprecated_block_on_every_version() {
    for version in VERSIONS {
        assert_eq!(
            kinds_on(
                &Schema::load(version),
                "resource \"aws_iam_role\" \"x\" {\n  assume_role_policy = \"{}\"\n\n  inline_policy {\n    name   = \"p\"\n    policy = \"{}\"\n  }\n}\n"
            ),
            ["deprecated"],
            "hashicorp/aws {version}"
        );
    }
}

#[test]
fn catches_a_deprecated_resource_type() {
    // No type sfngen emits is deprecated in any admitted version: mark one so in a copy of the schema.
    let mut json = Schema::load("6.47.0").json().clone();
    json["resource_schemas"]["aws_sqs_queue"]["block"]["deprecated"] = serde_json::Value::Bool(true);
    let schema = Schema::from_value("6.47.0-modified", json);
    assert_eq!(
        kinds_on(&schema, "resource \"aws_sqs_queue\" \"q\" {}\n"),
        ["deprecated"]
    );
}

#[test]
fn catches_reading_a_deprecated_attribute_on_every_version() {
    let source = "data \"aws_iam_policy_document\" \"d\" {}\n";
    for version in VERSIONS {
        let schema = Schema::load(version);
        for reader in [
            "output \"o\" {\n  value = data.aws_iam_policy_document.d.source_json\n}\n",
            "resource \"aws_sqs_queue\" \"q\" {\n  policy = \"${data.aws_iam_policy_document.d.override_json}\"\n}\n",
            "locals {\n  roles = [aws_iam_role.r.managed_policy_arns]\n}\n",
            "output \"o\" {\n  value = aws_iam_role.r.inline_policy\n}\n",
        ] {
            assert_eq!(
                kinds_on(&schema, &format!("{source}{reader}")),
                ["deprecated-reference"],
                "hashicorp/aws {version}: {reader}"
            );
        }
    }
}

#[test]
fn reading_the_region_is_deprecated_on_6x_only() {
    let tf = "data \"aws_region\" \"current\" {}\n\noutput \"region\" {\n  value = data.aws_region.current.name\n}\n";
    assert_eq!(kinds_on(&Schema::load("5.100.0"), tf), Vec::<&str>::new());
    for version in ["6.9.0", "6.25.0", "6.47.0"] {
        assert_eq!(
            kinds_on(&Schema::load(version), tf),
            ["deprecated-reference"],
            "hashicorp/aws {version}"
        );
    }
}

#[test]
fn checks_the_provider_block_when_the_schema_has_it() {
    let schema = Schema::load("5.100.0");
    let good = "provider \"aws\" {\n  alias  = \"west\"\n  region = \"eu-west-1\"\n\n  default_tags {\n    tags = { A = \"b\" }\n  }\n}\n";
    assert_eq!(kinds_on(&schema, good), Vec::<&str>::new());
    assert_eq!(
        kinds_on(&schema, "provider \"aws\" {\n  regoin = \"eu-west-1\"\n}\n"),
        ["unknown-attribute"]
    );
    assert_eq!(
        kinds_on(&schema, "provider \"aws\" {\n  default_tags = {}\n}\n"),
        ["block-as-attribute"]
    );
}

#[test]
fn catches_a_reference_to_nothing() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  name = aws_sqs_queue.other.name\n}\n"),
        ["unknown-reference"]
    );
    assert_eq!(
        kinds("output \"o\" {\n  value = aws_iam_role.r.not_an_attribute\n}\n"),
        ["unknown-reference"]
    );
}

#[test]
fn catches_depends_on_an_undeclared_resource() {
    assert_eq!(
        kinds("resource \"aws_sqs_queue\" \"q\" {\n  depends_on = [aws_iam_role_policy.nothing]\n}\n"),
        ["unknown-reference"]
    );
}

/// A log group created only when `var.on` is true, and whatever reads it.
fn with_counted_group(reader: &str) -> String {
    format!("resource \"aws_cloudwatch_log_group\" \"g\" {{\n  count = var.on ? 1 : 0\n  name = \"g\"\n}}\n\n{reader}")
}

#[test]
fn a_block_with_count_is_read_through_an_index_or_a_splat() {
    for reader in [
        "output \"o\" {\n  value = one(aws_cloudwatch_log_group.g[*].name)\n}\n",
        "output \"o\" {\n  value = var.on ? \"${aws_cloudwatch_log_group.g[0].arn}:*\" : null\n}\n",
    ] {
        assert_eq!(kinds(&with_counted_group(reader)), Vec::<&str>::new(), "{reader}");
    }
}

#[test]
fn catches_an_index_that_does_not_fit_count() {
    // Read without an index, a block with count is a list: Terraform refuses `.arn` on it.
    assert_eq!(
        kinds(&with_counted_group(
            "output \"o\" {\n  value = aws_cloudwatch_log_group.g.arn\n}\n"
        )),
        ["index-mismatch"]
    );
    // A block without count is one object: `[0]` on it is an error too.
    assert_eq!(
        kinds("output \"o\" {\n  value = aws_iam_role.r[0].arn\n}\n"),
        ["index-mismatch"]
    );
    // An index does not excuse an attribute the type does not have.
    assert_eq!(
        kinds(&with_counted_group(
            "output \"o\" {\n  value = aws_cloudwatch_log_group.g[0].not_an_attribute\n}\n"
        )),
        ["unknown-reference"]
    );
}

/// A policy document whose second statement is generated by a `dynamic` block written as `dynamic`.
fn with_dynamic(dynamic: &str) -> String {
    format!(
        "data \"aws_iam_policy_document\" \"p\" {{\n  statement {{\n    actions = [\"sqs:SendMessage\"]\n  }}\n\n{dynamic}}}\n"
    )
}

#[test]
fn a_dynamic_block_is_checked_as_the_block_it_generates() {
    let good = "  dynamic \"statement\" {\n    for_each = var.on ? [1] : []\n\n    content {\n      sid = \"S\"\n      actions = [\"xray:PutTraceSegments\"]\n      resources = [\"*\"]\n    }\n  }\n";
    assert_eq!(kinds(&with_dynamic(good)), Vec::<&str>::new());
    // Its content is held to the statement's schema...
    assert_eq!(
        kinds(&with_dynamic(&good.replace("sid = ", "statement_id = "))),
        ["unknown-attribute"]
    );
    // ...its label must be a block of the type...
    assert_eq!(
        kinds(&with_dynamic(
            &good.replace("dynamic \"statement\"", "dynamic \"statements\"")
        )),
        ["unknown-attribute"]
    );
    // ...and it needs its for_each and its content.
    assert_eq!(
        kinds(&with_dynamic(&good.replace("for_each", "for_all"))),
        ["unknown-attribute"]
    );
    assert_eq!(
        kinds(&with_dynamic(&good.replace("content {", "contents {"))),
        ["unknown-attribute"]
    );
}
