//! The policy documents sfngen measures and lays out (`src/iam_json.rs`) are the ones Terraform renders. A spec
//! near the limits (100 queues with 32-character keys, every kind of key, FIFO and standard, dead letters read and
//! not, executions and logs under the module's key) is rendered; every `aws_iam_policy_document` of the module
//! (roles' inline, managed and trust policies, the workers' and the operator's policies, the key policy) and every queue policy's
//! `jsonencode()` is evaluated by the real Terraform CLI and hashicorp/aws 5.100.0 provider with the longest
//! partition, region, DNS suffix, account, `name` and key ARNs sfngen assumes; each must equal sfngen's document,
//! with the same size as IAM, KMS or SQS counts it, and fit its limit.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use sfngen::emit::terraform::address;
use sfngen::iam_json::{self, ArnParts};
use sfngen::limits;
use sfngen::model::Model;

/// The spec: 100 queues, keys at their 32 characters; every encryption, FIFO every third, dead letters off every
/// fifth and left unread every fifth after that. Beside them, 8 SNS topics with 32-character keys: every encryption,
/// FIFO every other, a dead-letter queue on all but the last (the module key's policy then lets SNS use it for those).
fn near_limit_spec() -> String {
    let mut spec = String::from(
        "name = \"policy-sizes\"\n\n[state_machine]\nencryption = \"kms\"\nlog_level = \"ALL\"\ntracing = true\n\n\
         [logs]\nencryption = \"kms\"\n\n[alarms]\n\n[callback]\nendpoint = \"hmac\"\n\n",
    );
    let keys: Vec<String> = (0..100).map(|i| format!("q{i:02}-{}", "k".repeat(28))).collect();
    for (i, key) in keys.iter().enumerate() {
        spec.push_str(&format!("[[steps]]\nname = \"Step{i}\"\nqueue = \"{key}\"\n\n"));
    }
    let topics: Vec<String> = (0..8).map(|i| format!("t{i:02}-{}", "k".repeat(28))).collect();
    for (i, key) in topics.iter().enumerate() {
        spec.push_str(&format!("[[steps]]\nname = \"Publish{i}\"\ntopic = \"{key}\"\n\n"));
    }
    // Approvals notified through an encrypted queue and a topic under the module's key: the notifier's grants on
    // them, the table and the link key; the page's; the HMAC endpoint's secret, created.
    for (i, channel) in [format!("queue = \"{}\"", keys[1]), format!("topic = \"{}\"", topics[1])]
        .iter()
        .enumerate()
    {
        spec.push_str(&format!(
            "[[steps]]\nname = \"Approve{i}\"\n{channel}\napproval = true\ntimeout = \"1d\"\n\n"
        ));
    }
    for (i, key) in topics.iter().enumerate() {
        let encryption = match i % 4 {
            0 => "sns",
            1 => "kms",
            2 => "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            _ => "alias/shared-key",
        };
        spec.push_str(&format!(
            "[topics.{key}]\nencryption = \"{encryption}\"\nfifo = {}\ndead_letter = {}\n\n",
            i % 2 == 0,
            i != topics.len() - 1
        ));
    }
    for (i, key) in keys.iter().enumerate() {
        let encryption = match i % 4 {
            0 => "sqs",
            1 => "kms",
            2 => "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            _ => "alias/shared-key",
        };
        let dead_letter = match i % 5 {
            0 => "dead_letter = false\n",
            1 => "dead_letter = { fail_execution = false }\n",
            _ => "",
        };
        spec.push_str(&format!(
            "[queues.{key}]\nencryption = \"{encryption}\"\nfifo = {}\n{dead_letter}\n",
            i % 3 == 0
        ));
    }
    spec
}

/// Every policy document sfngen writes for `model`, by the Terraform name of its `aws_iam_policy_document` (or
/// `queue_policy.NAME` for a queue's `jsonencode()`), with the limit it is held to and how it is counted.
fn sfngen_documents(model: &Model, parts: &ArnParts) -> BTreeMap<String, (Value, &'static limits::Limit)> {
    let name = |a: address::Address| {
        a.to_string()
            .trim_start_matches("data.aws_iam_policy_document.")
            .to_string()
    };
    let mut documents = BTreeMap::new();
    for role in &model.roles {
        documents.insert(
            name(address::permissions_document(role.id)),
            (
                iam_json::role_policy(model, role, parts),
                &limits::IAM_ROLE_INLINE_POLICIES,
            ),
        );
        documents.insert(
            name(address::trust_document(role.id)),
            (iam_json::trust_policy(model, role, parts), &limits::IAM_TRUST_POLICY),
        );
        for policy in &role.managed_policies {
            documents.insert(
                name(address::managed_policy_document(role.id, policy.number)),
                (
                    iam_json::document(model, &policy.statements, parts),
                    &limits::IAM_MANAGED_POLICY,
                ),
            );
        }
    }
    for policy in &model.worker_policies {
        let document = match policy.part {
            Some(part) => address::worker_policy_part_document(part),
            None => address::worker_policy_document(policy.queue.as_deref()),
        };
        documents.insert(
            name(document),
            (
                iam_json::document(model, &policy.statements, parts),
                &limits::IAM_MANAGED_POLICY,
            ),
        );
    }
    for policy in &model.operator_policies {
        documents.insert(
            name(address::operator_policy_document(policy.part)),
            (
                iam_json::document(model, &policy.statements, parts),
                &limits::IAM_MANAGED_POLICY,
            ),
        );
    }
    // What starts executions attaches it as a managed policy.
    documents.insert(
        name(address::starter_policy_document()),
        (
            iam_json::document(model, &model.starter_policy, parts),
            &limits::IAM_MANAGED_POLICY,
        ),
    );
    if let Some(key) = &model.module_key {
        documents.insert(
            name(address::key_policy_document()),
            (iam_json::key_policy(model, key, parts), &limits::KMS_KEY_POLICY),
        );
    }
    for topic in &model.topics {
        if topic.dead_letter.is_some() {
            let label = address::topic_dead_letter_queue_policy(&topic.key).to_string();
            documents.insert(
                format!("queue_policy__{}", label.trim_start_matches("aws_sqs_queue_policy.")),
                (
                    iam_json::topic_dead_letter_queue_policy(topic, parts),
                    &limits::SQS_QUEUE_POLICY,
                ),
            );
        }
    }
    for queue in &model.queues {
        for dead_letter in [false, true] {
            if dead_letter && queue.dead_letter.is_none() {
                continue;
            }
            let label = address::queue_policy(&queue.key, dead_letter).to_string();
            documents.insert(
                format!("queue_policy__{}", label.trim_start_matches("aws_sqs_queue_policy.")),
                (
                    iam_json::queue_policy(queue, dead_letter, parts),
                    &limits::SQS_QUEUE_POLICY,
                ),
            );
        }
    }
    documents
}

/// The HCL text of every top-level block of `file` that `keep` selects.
fn blocks_of(text: &str, keep: impl Fn(&hcl::Block) -> bool) -> Vec<hcl::Block> {
    hcl::parse(text)
        .expect("a rendered file parses")
        .into_blocks()
        .filter(|b| keep(b))
        .collect()
}

/// A root configuration that evaluates every policy document of the module in `files` with `parts`: the documents
/// as rendered, the queue policies' `jsonencode()` as outputs, and literal values for what the module reads from
/// AWS (the partition, region and account; the keys' ARNs).
fn root_config(model: &Model, files: &[sfngen::emit::GeneratedFile], parts: &ArnParts) -> String {
    let text = |name: &str| {
        files
            .iter()
            .find(|f| f.path == name)
            .map(|f| String::from_utf8(f.contents.clone()).unwrap())
            .unwrap_or_default()
    };
    let is_document = |b: &hcl::Block| b.identifier() == "data" && b.labels()[0].as_str() == "aws_iam_policy_document";
    let mut body = hcl::Body::builder();
    let mut outputs = String::new();
    for file in ["iam.tf", "kms.tf"] {
        for block in blocks_of(&text(file), is_document) {
            let label = block.labels()[1].as_str().to_string();
            outputs.push_str(&format!(
                "output \"{label}\" {{\n  value = data.aws_iam_policy_document.{label}.json\n}}\n"
            ));
            body = body.add_block(block);
        }
    }
    let queue_policies = |file: &str| {
        blocks_of(&text(file), |b| {
            b.identifier() == "resource" && b.labels()[0].as_str() == "aws_sqs_queue_policy"
        })
    };
    for block in queue_policies("queues.tf")
        .into_iter()
        .chain(queue_policies("topics.tf"))
    {
        let label = block.labels()[1].as_str().to_string();
        let policy = block
            .body()
            .attributes()
            .find(|a| a.key() == "policy")
            .expect("a queue policy")
            .expr()
            .clone();
        outputs.push_str(&format!(
            "output \"queue_policy__{label}\" {{\n  value = {}\n}}\n",
            hcl::format::to_string(&policy).unwrap()
        ));
    }
    let mut config = hcl::to_string(&body.build()).unwrap() + &outputs;
    // What the module reads from AWS, as literals.
    let mut replacements = vec![
        ("aws_kms_key.this.arn".to_string(), "local.module_key_arn".to_string()),
        (
            format!("{}.output", address::module_key_arn()),
            "local.module_key_arn".to_string(),
        ),
        (
            format!("{}.output", address::approval_key_arn()),
            format!("\"{}\"", parts.customer_key_arn("approval links")),
        ),
    ];
    let sm_key = format!("\"{}\"", parts.customer_key_arn(iam_json::STATE_MACHINE_KEY_OWNER));
    replacements.push((
        format!("var.{}", sfngen::model::input::STATE_MACHINE_KMS_KEY_ARN),
        sm_key.clone(),
    ));
    replacements.push((
        format!("{}.target_key_arn", address::state_machine_key_alias_lookup()),
        sm_key,
    ));
    for queue in &model.queues {
        if let Some(input) = queue.key_input() {
            let key = format!("\"{}\"", parts.customer_key_arn(&queue.key));
            replacements.push((format!("var.{input}"), key.clone()));
            replacements.push((format!("{}.target_key_arn", address::key_alias_lookup(&queue.key)), key));
        }
        // An event source mapping's ARN ends in its UUID, which Lambda gives it: one per queue, the longest.
        replacements.push((
            format!("{}.output", address::dead_letter_mapping_uuid(&queue.key)),
            format!("\"{}\"", parts.mapping_uuid(&queue.key)),
        ));
        for dead_letter in [false, true] {
            let (queue_address, name) = match (dead_letter, &queue.dead_letter) {
                (false, _) => (address::queue(&queue.key), &queue.name),
                (true, Some(dlq)) => (address::dead_letter_queue(&queue.key), &dlq.name),
                (true, None) => continue,
            };
            replacements.push((
                format!("{queue_address}.arn"),
                format!(
                    "\"arn:{}:sqs:{}:{}:{}\"",
                    parts.partition,
                    parts.region,
                    parts.account,
                    parts.name_of(name)
                ),
            ));
        }
    }
    for topic in &model.topics {
        if let Some(input) = topic.key_input() {
            let key = format!("\"{}\"", parts.customer_key_arn(&format!("topic:{}", topic.key)));
            replacements.push((format!("var.{input}"), key.clone()));
            replacements.push((
                format!("{}.target_key_arn", address::topic_key_alias_lookup(&topic.key)),
                key,
            ));
        }
        let arn = |service: &str, name: &sfngen::model::AwsName| {
            format!(
                "\"arn:{}:{service}:{}:{}:{}\"",
                parts.partition,
                parts.region,
                parts.account,
                parts.name_of(name)
            )
        };
        replacements.push((format!("{}.arn", address::topic(&topic.key)), arn("sns", &topic.name)));
        if let Some(dlq) = &topic.dead_letter {
            replacements.push((
                format!("{}.arn", address::topic_dead_letter_queue(&topic.key)),
                arn("sqs", &dlq.name),
            ));
            // As for the queues' mappings: the UUID Lambda gives the mapping on the topic's dead-letter queue.
            replacements.push((
                format!("{}.output", address::topic_dead_letter_mapping_uuid(&topic.key)),
                format!("\"{}\"", parts.mapping_uuid(&format!("topic {}", topic.key))),
            ));
        }
    }
    // Longest first, so that no reference is replaced inside a longer one.
    replacements.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    for (from, to) in replacements {
        config = config.replace(&from, &to);
    }
    let stubs = format!(
        r#"terraform {{
  required_providers {{
    aws = {{
      source  = "hashicorp/aws"
      version = "5.100.0"
    }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "unused"
  secret_key                  = "unused"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}}

variable "name" {{
  default = "{name}"
}}

variable "tracing" {{
  default = true
}}

locals {{
  partition         = "{partition}"
  region            = "{region}"
  account_id        = "{account}"
  dns_suffix        = "{dns}"
  execution_logging = true
  module_key_arn    = "{module_key}"
}}
"#,
        name = parts.name,
        partition = parts.partition,
        region = parts.region,
        account = parts.account,
        dns = parts.dns_suffix,
        module_key = parts.module_key_arn,
    );
    format!("{stubs}\n{config}")
}

/// Runs terraform in `dir` with the CLI configuration, panicking with its output on failure.
fn terraform(dir: &Path, cli_config: &Path, args: &[&str]) -> String {
    common::run_ok(
        common::tool("terraform")
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", cli_config)
            .env("TF_IN_AUTOMATION", "1")
            .env("CHECKPOINT_DISABLE", "1"),
    )
}

/// JSON with every list of strings and every object's keys sorted: the provider writes actions, resources and
/// conditions in an order of its own.
fn normalized(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let mut items = items.clone();
            items.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
            Value::Array(items)
        }
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Object(fields) => {
            let sorted: BTreeMap<&String, &Value> = fields.iter().collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), normalized(v))).collect())
        }
        other => other.clone(),
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn every_policy_document_is_what_terraform_renders_and_fits_its_limit() {
    let source = near_limit_spec();
    let files = sfngen::render_source(&source, "sfngen.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let model = sfngen::load_model(&source, "sfngen.toml").unwrap();
    // The spec is large enough to need the layouts under test.
    // The roles whose grants grow with the queues need managed policies; the callback's names no queue (the
    // dead-letter function reads the dead-letter queues) and stays inline whatever the spec.
    for role in &model.roles {
        // The endpoint, the notifier and the page name the approvals' few resources (and the approval channels), not
        // every queue: their grants stay inline too.
        use sfngen::model::RoleId;
        let names_queues = matches!(role.id, RoleId::StateMachine | RoleId::DeadLetters);
        assert_eq!(
            !role.managed_policies.is_empty(),
            names_queues,
            "{:?}: managed policies where grants grow with the queues (a larger spec is needed if none)",
            role.id
        );
    }
    assert!(
        model.worker_policy_in_parts(),
        "the worker policy fits one document: a larger spec is needed"
    );
    assert!(
        model.operator_policies.len() > 1,
        "the operator policy fits one document: a larger spec is needed"
    );

    let parts = ArnParts::worst();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), root_config(&model, &files, &parts)).unwrap();
    let cli_config = dir.path().join("terraform.rc");
    common::run_ok(
        std::process::Command::new("python3")
            .arg(common::root().join("scripts/provider_mirror.py"))
            .args(["5.100.0", "--cli-config"])
            .arg(&cli_config),
    );
    terraform(dir.path(), &cli_config, &["init", "-input=false", "-no-color"]);
    terraform(
        dir.path(),
        &cli_config,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    let outputs: BTreeMap<String, Value> =
        serde_json::from_str(&terraform(dir.path(), &cli_config, &["output", "-json", "-no-color"])).unwrap();

    let expected = sfngen_documents(&model, &parts);
    assert_eq!(
        outputs.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the module's documents are not the ones sfngen measures"
    );
    for (label, (ours, limit)) in &expected {
        let rendered: Value = serde_json::from_str(outputs[label]["value"].as_str().unwrap()).unwrap();
        assert_eq!(
            normalized(&rendered).to_string(),
            normalized(ours).to_string(),
            "{label}: Terraform renders another document"
        );
        let (theirs, counted) = match limit.unit {
            limits::Unit::Characters => (iam_json::chars(&rendered), iam_json::chars(ours)),
            _ => (iam_json::bytes(&rendered), iam_json::bytes(ours)),
        };
        assert_eq!(theirs, counted, "{label}: sfngen counts another size");
        assert!(
            limit.allows(counted),
            "{label}: {counted} is over {}",
            limit.figure_text()
        );
    }
}
