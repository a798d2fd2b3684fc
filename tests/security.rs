//! The secure defaults a reviewer expects, checked on every rendered module (parsed with hcl-rs):
//! encryption, dead-letter queues and who may redrive into them, log groups with retention, IAM scoped
//! to ARNs with `*` only where AWS allows nothing else, confused-deputy conditions, partition-aware
//! ARNs, tags and permissions boundaries everywhere, and a rotated key whose policy lets the role use it.

mod common;

use hcl::{Block, Body, Expression};

/// All blocks of a module: `(kind, type, name, block)`.
struct Module {
    blocks: Vec<(String, String, String, Block)>,
    text: String,
    /// The state machine definition, with its `templatefile()` placeholders.
    asl: String,
}

impl Module {
    fn of(spec: &std::path::Path) -> Module {
        let rendered = common::render(spec);
        let asl = rendered
            .iter()
            .find(|f| f.path.ends_with(".asl.json"))
            .map(|f| String::from_utf8(f.contents.clone()).unwrap())
            .expect("a definition");
        let files = common::tf_files(&rendered);
        let mut blocks = Vec::new();
        let mut text = String::new();
        for (file, source) in &files {
            // variables.tf holds an example ARN in a validation message, not an ARN the module uses.
            if file != "variables.tf" {
                text.push_str(source);
            }
            let body: Body = hcl::parse(source).expect("parses");
            for block in body.blocks() {
                let labels: Vec<String> = block.labels().iter().map(|l| l.as_str().to_string()).collect();
                let (ty, name) = match labels.as_slice() {
                    [t, n] => (t.clone(), n.clone()),
                    [n] => (String::new(), n.clone()),
                    _ => (String::new(), String::new()),
                };
                blocks.push((block.identifier().to_string(), ty, name, block.clone()));
            }
        }
        Module { blocks, text, asl }
    }

    fn all(&self, kind: &str, ty: &str) -> Vec<(&str, &Block)> {
        self.blocks
            .iter()
            .filter(|(k, t, _, _)| k == kind && t == ty)
            .map(|(_, _, n, b)| (n.as_str(), b))
            .collect()
    }

    fn one(&self, kind: &str, ty: &str, name: &str) -> Option<&Block> {
        self.all(kind, ty).into_iter().find(|(n, _)| *n == name).map(|(_, b)| b)
    }
}

fn attr(block: &Block, key: &str) -> Option<String> {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| hcl::format::to_string(a.expr()).unwrap_or_default())
}

fn inner<'a>(block: &'a Block, key: &str) -> Vec<&'a Block> {
    block.body().blocks().filter(|b| b.identifier() == key).collect()
}

fn strings(block: &Block, key: &str) -> Vec<String> {
    match block.body().attributes().find(|a| a.key() == key).map(|a| a.expr()) {
        Some(Expression::Array(items)) => items
            .iter()
            .map(|e| match e {
                Expression::String(s) => s.clone(),
                other => hcl::format::to_string(other).unwrap_or_default(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A policy document's statements: each written one (for_each `None`) and each `dynamic "statement"`'s
/// content with its `for_each`.
fn statements(document: &Block) -> Vec<(&Block, Option<String>)> {
    let mut found: Vec<(&Block, Option<String>)> =
        inner(document, "statement").into_iter().map(|s| (s, None)).collect();
    for dynamic in inner(document, "dynamic") {
        assert_eq!(
            dynamic.labels().iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            ["statement"],
            "only statements are dynamic"
        );
        let content = inner(dynamic, "content");
        assert_eq!(content.len(), 1, "a dynamic statement has one content block");
        found.push((content[0], attr(dynamic, "for_each")));
    }
    found
}

/// What a resource is named when it is created: its name attribute as written (`var.name`, or a template such
/// as `"${var.name}-main"`), as template text.
fn created_name(m: &Module, ty: &str, name: &str) -> String {
    let block = m
        .one("resource", ty, name)
        .unwrap_or_else(|| panic!("no resource {ty}.{name}"));
    let key = if ty == "aws_lambda_function" {
        "function_name"
    } else {
        "name"
    };
    let written = attr(block, key).unwrap_or_else(|| panic!("{ty}.{name} has no {key}"));
    match written.strip_prefix('"').and_then(|w| w.strip_suffix('"')) {
        Some(template) => template.to_string(),
        None => format!("${{{written}}}"),
    }
}

/// The ARN a policy names one of the module's own resources by: built from the name the resource is created
/// with and the partition, region and account locals (never `aws_x.y.arn`, which would make Terraform read the
/// policy document again at apply time whenever the resource changes), as HCL text (a quoted template).
fn built_arn(m: &Module, ty: &str, name: &str) -> String {
    let created = created_name(m, ty, name);
    let arn = |service: &str, resource: String| {
        format!("\"arn:${{local.partition}}:{service}:${{local.region}}:${{local.account_id}}:{resource}\"")
    };
    match ty {
        "aws_sqs_queue" => arn("sqs", created),
        "aws_sns_topic" => arn("sns", created),
        "aws_sfn_state_machine" => arn("states", format!("stateMachine:{created}")),
        "aws_lambda_function" => arn("lambda", format!("function:{created}")),
        "aws_cloudwatch_log_group" => arn("logs", format!("log-group:{created}")),
        "aws_iam_role" => format!("\"arn:${{local.partition}}:iam::${{local.account_id}}:role/{created}\""),
        "aws_dynamodb_table" => arn("dynamodb", format!("table/{created}")),
        other => panic!("no ARN is built for {other}"),
    }
}

/// The log streams of a log group the module creates: its built ARN and `:*`.
fn built_log_streams_arn(m: &Module, name: &str) -> String {
    let arn = built_arn(m, "aws_cloudwatch_log_group", name);
    format!("{}:*\"", &arn[..arn.len() - 1])
}

/// The module's Lambda functions by Terraform name: the callback, and the dead-letter function when it has one.
fn functions(m: &Module) -> Vec<&str> {
    let names: Vec<&str> = m
        .all("resource", "aws_lambda_function")
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&"callback"), "every module has the callback");
    names
}

/// The module's roles by Terraform name: the state machine's, then one per function.
fn roles(m: &Module) -> Vec<&str> {
    std::iter::once("state_machine").chain(functions(m)).collect()
}

/// The built ARNs of the resources of type `ty` whose `attribute` the definition names under `field` (`QueueUrl`, an
/// approval's `target`...): through the `templatefile()` variable the module passes it in.
fn in_definition(m: &Module, ty: &str, attribute: &str, field: &str) -> Vec<String> {
    m.all("resource", ty)
        .into_iter()
        .filter(|(n, _)| {
            let value = format!("= {ty}.{n}.{attribute}");
            m.text.lines().filter(|l| l.trim_end().ends_with(&value)).any(|line| {
                let var = line.split('=').next().unwrap_or_default().trim();
                m.asl.contains(&format!("\"{field}\": \"${{{var}}}\""))
            })
        })
        .map(|(n, _)| built_arn(m, ty, n))
        .collect()
}

/// Whether the spec has an approval step.
fn has_approvals(spec: &std::path::Path) -> bool {
    sfngen::load_model(&std::fs::read_to_string(spec).unwrap(), "sfngen.toml")
        .unwrap()
        .approvals
        .is_some()
}

fn for_each_module(mut check: impl FnMut(&str, &Module)) {
    for spec in common::all_specs() {
        check(&common::spec_label(&spec), &Module::of(&spec));
    }
}

#[test]
fn every_queue_is_encrypted_at_rest() {
    for_each_module(|label, m| {
        for (name, queue) in m.all("resource", "aws_sqs_queue") {
            let sse = attr(queue, "sqs_managed_sse_enabled").as_deref() == Some("true");
            let kms = attr(queue, "kms_master_key_id").is_some();
            assert!(
                sse ^ kms,
                "{label}: queue {name} must use exactly one of SSE-SQS and KMS"
            );
        }
    });
}

#[test]
fn dead_letter_queues_redrive_from_their_own_source_only() {
    for_each_module(|label, m| {
        for (name, queue) in m
            .all("resource", "aws_sqs_queue")
            .into_iter()
            .filter(|(n, _)| !n.ends_with("_dlq"))
        {
            let Some(policy) = attr(queue, "redrive_policy") else {
                continue;
            };
            let dlq = format!("{name}_dlq");
            assert!(
                policy.contains(&format!("aws_sqs_queue.{dlq}.arn")),
                "{label}: {policy}"
            );
            assert!(policy.contains("maxReceiveCount"), "{label}: {policy}");
            let allow = m
                .one("resource", "aws_sqs_queue_redrive_allow_policy", &dlq)
                .unwrap_or_else(|| panic!("{label}: no redrive_allow_policy for {dlq}"));
            let allow_policy = attr(allow, "redrive_allow_policy").unwrap();
            assert!(allow_policy.contains("\"byQueue\""), "{label}: {allow_policy}");
            assert!(
                allow_policy.contains(&format!("[aws_sqs_queue.{name}.arn]")),
                "{label}: {allow_policy}"
            );
            let dlq_block = m.one("resource", "aws_sqs_queue", &dlq).unwrap();
            assert_eq!(attr(dlq_block, "message_retention_seconds").as_deref(), Some("1209600"));
        }
        // The seed's defaults: every queue has one.
        if label == "seed" {
            assert!(m.one("resource", "aws_sqs_queue", "main_dlq").is_some());
        }
    });
}

#[test]
fn logs_go_to_log_groups_with_retention() {
    for_each_module(|label, m| {
        let groups = std::iter::once(("state_machine", "var.state_machine_log_retention_days"))
            .chain(functions(m).into_iter().map(|f| (f, "var.callback_log_retention_days")));
        let mut count = 0;
        for (name, input) in groups {
            let group = m
                .one("resource", "aws_cloudwatch_log_group", name)
                .unwrap_or_else(|| panic!("{label}: no {name} log group"));
            assert_eq!(
                attr(group, "retention_in_days").as_deref(),
                Some(input),
                "{label}: {name}"
            );
            count += 1;
        }
        assert_eq!(m.all("resource", "aws_cloudwatch_log_group").len(), count, "{label}");
        // The execution log group exists at every log level (OFF keeps its logs); the input decides only whether
        // the state machine delivers to it.
        let locals = m.blocks.iter().find(|(k, ..)| k == "locals").map(|(.., b)| b).unwrap();
        assert_eq!(
            attr(locals, "execution_logging").as_deref(),
            Some("var.log_level != \"OFF\""),
            "{label}"
        );
        let group = m.one("resource", "aws_cloudwatch_log_group", "state_machine").unwrap();
        assert_eq!(attr(group, "count"), None, "{label}");
        assert_eq!(
            attr(group, "skip_destroy").as_deref(),
            Some("var.keep_log_groups_on_destroy"),
            "{label}"
        );
        assert!(
            attr(group, "name").unwrap().starts_with("\"/aws/vendedlogs/states/"),
            "{label}"
        );
        let machine = m.one("resource", "aws_sfn_state_machine", "this").unwrap();
        // Always written, OFF included: the provider keeps a left-out Optional+Computed block's old value.
        let logging = inner(machine, "logging_configuration");
        assert_eq!(
            logging.len(),
            1,
            "{label}: logging_configuration must always be written"
        );
        assert_eq!(attr(logging[0], "level").as_deref(), Some("var.log_level"), "{label}");
        assert_eq!(
            attr(logging[0], "include_execution_data").as_deref(),
            Some("var.include_execution_data"),
            "{label}"
        );
        assert_eq!(
            attr(logging[0], "log_destination").as_deref(),
            Some("local.execution_logging ? \"${aws_cloudwatch_log_group.state_machine.arn}:*\" : null"),
            "{label}"
        );
        let output = m.one("output", "", "state_machine_log_group_name").unwrap();
        assert_eq!(
            attr(output, "value").as_deref(),
            Some("aws_cloudwatch_log_group.state_machine.name"),
            "{label}"
        );
        // Each function logs to its own log group.
        for name in functions(m) {
            let function = m.one("resource", "aws_lambda_function", name).unwrap();
            let config = inner(function, "logging_config");
            assert_eq!(
                attr(config[0], "log_group"),
                Some(format!("aws_cloudwatch_log_group.{name}.name")),
                "{label}"
            );
        }
        // The role may set up log delivery at every level: turning logging on then changes the state machine
        // alone (the provider retries IAM's propagation on create only).
        let role_policy = m.one("data", "aws_iam_policy_document", "state_machine").unwrap();
        let delivery: Vec<Option<String>> = statements(role_policy)
            .into_iter()
            .filter(|(s, _)| strings(s, "actions").contains(&"logs:CreateLogDelivery".to_string()))
            .map(|(_, for_each)| for_each)
            .collect();
        assert_eq!(delivery, [None], "{label}");
    });
}

#[test]
fn tracing_is_written_on_and_off_so_turning_it_off_reaches_aws() {
    for_each_module(|label, m| {
        let machine = m.one("resource", "aws_sfn_state_machine", "this").unwrap();
        let sm_tracing = inner(machine, "tracing_configuration");
        assert_eq!(
            sm_tracing.len(),
            1,
            "{label}: tracing_configuration must always be written"
        );
        assert_eq!(
            attr(sm_tracing[0], "enabled").as_deref(),
            Some("var.tracing"),
            "{label}"
        );
        for name in functions(m) {
            let function = m.one("resource", "aws_lambda_function", name).unwrap();
            let fn_tracing = inner(function, "tracing_config");
            assert_eq!(fn_tracing.len(), 1, "{label}: tracing_config must always be written");
            assert_eq!(
                attr(fn_tracing[0], "mode").as_deref(),
                Some("var.tracing ? \"Active\" : \"PassThrough\""),
                "{label}: {name}"
            );
        }
        // Every role may send traces only while tracing is on.
        for role in roles(m) {
            let document = m.one("data", "aws_iam_policy_document", role).unwrap();
            let traces: Vec<Option<String>> = statements(document)
                .into_iter()
                .filter(|(s, _)| strings(s, "actions").iter().any(|a| a.starts_with("xray:")))
                .map(|(_, for_each)| for_each)
                .collect();
            assert_eq!(traces, [Some("var.tracing ? [1] : []".to_string())], "{label}: {role}");
        }
    });
}

/// Actions AWS lets you grant on `*` only.
const UNSCOPABLE: &[&str] = &[
    "logs:CreateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:DescribeLogGroups",
    "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:UpdateLogDelivery",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
];

#[test]
fn role_permissions_are_scoped_to_arns() {
    for_each_module(|label, m| {
        // Exactly the queues the definition's Tasks send to (a queue only approval steps notify through is the
        // notifier's; the approvals queue is the approval steps'), never a dead-letter queue, over the state
        // machine's policies together.
        let mut queues = in_definition(m, "aws_sqs_queue", "url", "QueueUrl");
        queues.sort();
        let send = owned_statements(m, "state_machine")
            .into_iter()
            .find(|s| s.1.contains(&"sqs:SendMessage".to_string()));
        match send {
            Some(mut send) => {
                send.2.sort();
                assert_eq!(send.2, queues, "{label}")
            }
            None => assert!(queues.is_empty(), "{label}: the state machine sends to no queue"),
        }
        // Exactly the topics the definition's Tasks publish to, for sns:Publish.
        let topics = in_definition(m, "aws_sns_topic", "arn", "TopicArn");
        let publish = owned_statements(m, "state_machine")
            .into_iter()
            .find(|s| s.1.contains(&"sns:Publish".to_string()));
        assert_eq!(
            publish.map(|p| p.2).unwrap_or_default(),
            topics,
            "{label}: publishes to its topics only"
        );
        for (name, document) in m.all("data", "aws_iam_policy_document") {
            // Trust policies and the key policy are checked below, the operator's policy on its own.
            if name.ends_with("_assume") || name == "kms" || is_operator(name) {
                continue;
            }
            for (statement, for_each) in statements(document) {
                let actions = strings(statement, "actions");
                let resources = strings(statement, "resources");
                assert!(
                    !actions.iter().any(|a| a.contains('*')),
                    "{label}: wildcard action in {actions:?}"
                );
                if resources.contains(&"*".to_string()) {
                    assert_eq!(resources.len(), 1);
                    for action in &actions {
                        assert!(UNSCOPABLE.contains(&action.as_str()), "{label}: {action} on \"*\"");
                    }
                    // X-Ray's grant only while tracing is on; log delivery's at every log level (turning logging
                    // on must change the state machine alone).
                    let delivery = actions.iter().all(|a| a.starts_with("logs:"));
                    assert_eq!(for_each.is_some(), !delivery, "{label}: {actions:?}");
                } else {
                    assert_eq!(for_each, None, "{label}: {actions:?}");
                }
                if actions.contains(&"sqs:SendMessage".to_string()) {
                    match document_owner(name) {
                        "state_machine" => {}
                        // The notifier sends notifications to the queues approval steps notify through, exactly.
                        "approval_notify" => {
                            let mut notified = in_definition(m, "aws_sqs_queue", "url", "target");
                            notified.sort();
                            let mut sent = resources.clone();
                            sent.sort();
                            assert_eq!(
                                sent, notified,
                                "{label}: the notifier sends to the approval queues only"
                            );
                        }
                        other => panic!("{label}: {other} sends to a queue"),
                    }
                }
                if name == "starter" {
                    // Whatever starts executions: through the alias only (the state machine's own ARN would run its
                    // latest revision, around the alias), with no condition.
                    if actions.iter().any(|a| a.starts_with("states:")) {
                        assert_eq!(actions, ["states:StartExecution"], "{label}");
                        let alias = built_arn(m, "aws_sfn_state_machine", "this").replace("\"", "");
                        assert_eq!(unquoted(resources.clone()), [format!("{alias}:live")], "{label}");
                        assert!(written_conditions(statement).is_empty(), "{label}");
                    }
                } else if actions.iter().any(|a| a.starts_with("states:")) {
                    // The callback answers tasks; the dead-letter function may only fail them. Each from inside
                    // its own function only.
                    let allowed: &[&str] = match name {
                        "callback" => &[
                            "states:SendTaskFailure",
                            "states:SendTaskHeartbeat",
                            "states:SendTaskSuccess",
                        ],
                        "dead_letters" => &["states:SendTaskFailure"],
                        "endpoint" => &[
                            "states:SendTaskFailure",
                            "states:SendTaskHeartbeat",
                            "states:SendTaskSuccess",
                        ],
                        // A decision succeeds or fails the task; nobody heartbeats an approval.
                        "approval_page" => &["states:SendTaskFailure", "states:SendTaskSuccess"],
                        other => panic!("{label}: {other} may call Step Functions"),
                    };
                    assert_eq!(actions, allowed, "{label}: {name}");
                    assert_eq!(resources, [built_arn(m, "aws_sfn_state_machine", "this")], "{label}");
                    assert_eq!(
                        written_conditions(statement),
                        [(
                            "\"ArnEquals\"".to_string(),
                            "\"lambda:SourceFunctionArn\"".to_string(),
                            vec![built_arn(m, "aws_lambda_function", name)]
                        )],
                        "{label}: {name}"
                    );
                }
                let worker = name == "worker" || name.starts_with("worker_");
                let sends = actions == ["sqs:SendMessage"];
                if name == "approval_notify" && actions.iter().any(|a| a.starts_with("sqs:")) && !sends {
                    // The notifier reads the approvals queue, and nothing else.
                    assert_eq!(
                        unquoted(resources.clone()),
                        unquoted(vec![built_arn(m, "aws_sqs_queue", "_approvals")]),
                        "{label}: {actions:?}"
                    );
                } else if actions.iter().any(|a| a.starts_with("sqs:")) && name != "state_machine" && !worker && !sends
                {
                    // Only the dead-letter function reads queues: its dead-letter queues.
                    assert_eq!(name, "dead_letters", "{label}: {actions:?}");
                    assert!(
                        resources
                            .iter()
                            .all(|r| r.ends_with("-dlq\"") || r.ends_with("-dlq.fifo\"")),
                        "{label}: {resources:?}"
                    );
                }
                if actions.iter().any(|a| a.starts_with("logs:CreateLogStream")) {
                    assert_eq!(resources, [built_log_streams_arn(m, name)], "{label}: {name}");
                }
                if actions.iter().any(|a| a.starts_with("kms:")) {
                    // The state machine encrypts what it sends and its executions' data, and the callback's
                    // answers (and a starter's execution input) are encrypted with the state machine's key;
                    // everyone else only reads through SQS.
                    let sid = attr(statement, "sid");
                    let answers = [
                        "\"EncryptTaskAnswers\"",
                        "\"EncryptTaskFailures\"",
                        "\"EncryptExecutionInput\"",
                        "\"EncryptEndpointAnswers\"",
                        "\"EncryptApprovalAnswers\"",
                        "\"EncryptQueueNotifications\"",
                        "\"EncryptTopicNotifications\"",
                    ];
                    let links = ["\"SignLinks\"", "\"VerifyLinks\""];
                    if sid.as_deref().is_some_and(|s| links.contains(&s)) {
                        // Checked with the other KMS grants: one MAC action each, on the link key only.
                    } else if document_owner(name) == "state_machine"
                        || sid.as_deref().is_some_and(|s| answers.contains(&s))
                    {
                        for action in &actions {
                            assert!(
                                ["kms:Decrypt", "kms:GenerateDataKey"].contains(&action.as_str()),
                                "{label}: {name}: {action}"
                            );
                        }
                    } else {
                        assert_eq!(actions, ["kms:Decrypt"], "{label}: {name}");
                        assert_eq!(written_conditions(statement), [via_sqs()], "{label}: {name}");
                    }
                    assert!(!resources.contains(&"*".to_string()));
                }
            }
        }
    });
}

#[test]
fn trust_policies_carry_confused_deputy_conditions() {
    for_each_module(|label, m| {
        let trusts: Vec<(String, &str)> = std::iter::once(("state_machine_assume".to_string(), "states.amazonaws.com"))
            .chain(
                functions(m)
                    .into_iter()
                    .map(|f| (format!("{f}_assume"), "lambda.amazonaws.com")),
            )
            .collect();
        assert_eq!(trusts.len(), m.all("resource", "aws_iam_role").len(), "{label}");
        for (name, service) in &trusts {
            let name = name.as_str();
            let document = m.one("data", "aws_iam_policy_document", name).unwrap();
            let statement = inner(document, "statement")[0];
            let principals = inner(statement, "principals")[0];
            assert_eq!(strings(principals, "identifiers"), [*service]);
            let variables: Vec<String> = inner(statement, "condition")
                .iter()
                .filter_map(|c| attr(c, "variable"))
                .collect();
            assert!(
                variables.contains(&"\"aws:SourceAccount\"".to_string()),
                "{label}: {name}"
            );
            if name == "state_machine_assume" {
                assert!(variables.contains(&"\"aws:SourceArn\"".to_string()), "{label}: {name}");
            }
        }
    });
}

#[test]
fn arns_are_built_from_the_partition_never_a_literal() {
    for_each_module(|label, m| {
        // Not even a key ARN the spec gives: it is the default of a queue's key input, in variables.tf. A declared
        // subscription's endpoint is another's resource (a partner's queue or function), written as the spec gives it.
        for (index, _) in m.text.match_indices("arn:aws") {
            let line_start = m.text[..index].rfind('\n').map_or(0, |i| i + 1);
            if !m.text[line_start..index].trim_start().starts_with("endpoint ") {
                panic!("{label}: literal ARN at {}", &m.text[index..index + 40]);
            }
        }
        assert!(
            m.text
                .contains("\"arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:")
        );
        assert!(m.text.contains("local.partition"));
    });
}

#[test]
fn tags_and_permissions_boundary_reach_every_resource_that_takes_them() {
    let taggable = [
        "aws_sqs_queue",
        "aws_sfn_state_machine",
        "aws_lambda_function",
        "aws_cloudwatch_log_group",
        "aws_iam_role",
        "aws_kms_key",
    ];
    for_each_module(|label, m| {
        let locals = m.blocks.iter().find(|(k, ..)| k == "locals").unwrap();
        assert!(
            attr(&locals.3, "tags").unwrap().ends_with(", var.tags)"),
            "{label}: var.tags must win"
        );
        for (kind, ty, name, block) in &m.blocks {
            if kind == "resource" && taggable.contains(&ty.as_str()) {
                assert_eq!(
                    attr(block, "tags").as_deref(),
                    Some("local.tags"),
                    "{label}: {ty}.{name}"
                );
            }
            if ty == "aws_iam_role" {
                assert_eq!(
                    attr(block, "permissions_boundary").as_deref(),
                    Some("var.permissions_boundary")
                );
            }
        }
    });
}

/// A statement's conditions as `(variable, values)`, sorted.
fn conditions(statement: &Block) -> Vec<(String, Vec<String>)> {
    let mut found: Vec<(String, Vec<String>)> = inner(statement, "condition")
        .iter()
        .map(|c| (attr(c, "variable").unwrap_or_default(), unquoted(strings(c, "values"))))
        .collect();
    found.sort();
    found
}

/// Strings and string templates alike, without their quotes.
fn unquoted(items: Vec<String>) -> Vec<String> {
    items.into_iter().map(|i| i.trim_matches('"').to_string()).collect()
}

/// The regional endpoint a `kms:ViaService` condition names for a service, in the partition's DNS suffix.
fn endpoint(service: &str) -> String {
    format!("{service}.${{local.region}}.${{local.dns_suffix}}")
}

/// What this state machine's ARN is in a policy it depends on.
const STATE_MACHINE_ARN: &str =
    "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${var.name}";
/// The module key's ARN as the policy documents take it: through `terraform_data`, so that a change to the key in
/// place leaves them known at plan time.
const MODULE_KEY_ARN: &str = "terraform_data.module_key_arn.output";
/// The encryption context of the log deliveries of this account and region.
const LOG_DELIVERIES: &str = "arn:${local.partition}:logs:${local.region}:${local.account_id}:*";

#[test]
fn role_kms_grants_are_bound_to_a_service_or_to_this_state_machines_data() {
    let mut seen = std::collections::BTreeSet::new();
    for_each_module(|label, m| {
        for (name, document) in m.all("data", "aws_iam_policy_document") {
            if ![
                "state_machine",
                "callback",
                "dead_letters",
                "endpoint",
                "approval_notify",
                "approval_page",
            ]
            .contains(&name)
            {
                continue;
            }
            for (statement, for_each) in statements(document) {
                if !strings(statement, "actions").iter().any(|a| a.starts_with("kms:")) {
                    continue;
                }
                // Every KMS grant at every level: the log deliveries' too.
                assert_eq!(for_each, None, "{label}");
                let sid = attr(statement, "sid").unwrap();
                let found = conditions(statement);
                let via = |service: &str| ("\"kms:ViaService\"".to_string(), vec![endpoint(service)]);
                let data = (
                    "\"kms:EncryptionContext:aws:states:stateMachineArn\"".to_string(),
                    vec![STATE_MACHINE_ARN.to_string()],
                );
                let deliveries = (
                    "\"kms:EncryptionContext:SourceArn\"".to_string(),
                    vec![LOG_DELIVERIES.to_string()],
                );
                // SQS and Step Functions use a key on a role's behalf: kms:ViaService holds them to that. The
                // execution role's own use for its data and log deliveries cannot take kms:ViaService (AWS:
                // it can stop executions), so the encryption context holds it to this state machine's.
                let mut expected = match (name, sid.as_str()) {
                    ("state_machine", "\"EncryptQueueMessages\"") => vec![via("sqs")],
                    ("state_machine", "\"EncryptExecutionData\"") => vec![data.clone()],
                    ("state_machine", "\"EncryptExecutionLogs\"") => vec![deliveries],
                    ("callback", "\"EncryptTaskAnswers\"") => vec![via("states"), data],
                    ("dead_letters", "\"EncryptTaskFailures\"") => vec![via("states"), data],
                    ("dead_letters", "\"DecryptDeadLetters\"") => vec![via("sqs")],
                    ("state_machine", "\"EncryptTopicMessages\"") => vec![via("sns")],
                    ("dead_letters", "\"DecryptTopicDeadLetters\"") => vec![via("sqs")],
                    ("endpoint", "\"EncryptEndpointAnswers\"") => vec![via("states"), data],
                    ("approval_page", "\"EncryptApprovalAnswers\"") => vec![via("states"), data],
                    ("approval_notify", "\"EncryptQueueNotifications\"") => vec![via("sqs")],
                    ("approval_notify", "\"EncryptTopicNotifications\"") => vec![via("sns")],
                    // The link key is the approvals' alone, used from inside each function: the notifier only
                    // signs, the page only verifies.
                    ("approval_notify" | "approval_page", "\"SignLinks\"" | "\"VerifyLinks\"") => {
                        assert_eq!(
                            strings(statement, "actions"),
                            [if name == "approval_notify" {
                                "kms:GenerateMac"
                            } else {
                                "kms:VerifyMac"
                            }],
                            "{label}: {name}"
                        );
                        assert_eq!(
                            strings(statement, "resources"),
                            ["terraform_data.approval_key_arn.output"],
                            "{label}: {name}"
                        );
                        vec![(
                            "\"lambda:SourceFunctionArn\"".to_string(),
                            vec![built_arn(m, "aws_lambda_function", name).trim_matches('"').to_string()],
                        )]
                    }
                    other => panic!("{label}: a KMS grant this test does not know: {other:?}"),
                };
                expected.sort();
                assert_eq!(found, expected, "{label}: {name} {sid}");
                seen.insert(format!("{name} {sid}"));
            }
        }
    });
    assert_eq!(seen.len(), 14, "expected specs with every kind of KMS grant: {seen:?}");
}

#[test]
fn a_created_key_rotates_and_names_each_role_for_what_its_policy_grants() {
    let (mut for_queues, mut for_logs, mut for_executions) = (0, 0, 0);
    for_each_module(|label, m| {
        let Some(key) = m.one("resource", "aws_kms_key", "this") else {
            assert!(
                !m.text.contains("aws_kms_key.this"),
                "{label}: a reference to a key that is not created"
            );
            return;
        };
        assert_eq!(attr(key, "enable_key_rotation").as_deref(), Some("true"), "{label}");
        let key_policy = statements(m.one("data", "aws_iam_policy_document", "kms").unwrap());
        // Each role statement on the key, as the key policy must repeat it: (role, sid, actions, conditions,
        // for_each).
        let mut granted = Vec::new();
        for role in roles(m) {
            let policy = m.one("data", "aws_iam_policy_document", role).unwrap();
            for (s, for_each) in statements(policy) {
                if strings(s, "resources").contains(&MODULE_KEY_ARN.to_string()) {
                    let principal = built_arn(m, "aws_iam_role", role);
                    granted.push((
                        principal,
                        attr(s, "sid"),
                        strings(s, "actions"),
                        conditions(s),
                        for_each,
                    ));
                }
            }
        }
        let mut named = Vec::new();
        for (s, for_each) in &key_policy {
            let principals = inner(s, "principals");
            if attr(principals[0], "type").as_deref() == Some("\"AWS\"")
                && attr(s, "sid").as_deref() != Some("\"AccountAdministersKey\"")
            {
                let identifiers = strings(principals[0], "identifiers");
                assert_eq!(identifiers.len(), 1, "{label}");
                assert_eq!(strings(s, "resources"), ["*"], "{label}");
                named.push((
                    identifiers[0].clone(),
                    attr(s, "sid"),
                    strings(s, "actions"),
                    conditions(s),
                    for_each.clone(),
                ));
            }
        }
        named.sort();
        granted.sort();
        assert_eq!(
            named, granted,
            "{label}: the key policy must name each role for its own grants"
        );
        // KMS refuses a policy naming a role that does not exist yet, and the built ARNs order nothing: the key
        // depends on exactly the roles it names.
        let mut roles_named: Vec<String> = Vec::new();
        for role in roles(m) {
            if named.iter().any(|n| n.0 == built_arn(m, "aws_iam_role", role)) {
                roles_named.push(format!("aws_iam_role.{role}"));
            }
        }
        assert_eq!(strings(key, "depends_on"), roles_named, "{label}");
        // A topic's dead-letter queue takes its topic's key: the topic grant covers it.
        let queues_use_it = m
            .all("resource", "aws_sqs_queue")
            .iter()
            .filter(|(n, _)| !n.ends_with("_topic_dlq"))
            .any(|(_, q)| attr(q, "kms_master_key_id").as_deref() == Some("aws_kms_key.this.arn"));
        let topics_use_it = m
            .all("resource", "aws_sns_topic")
            .iter()
            .any(|(_, t)| attr(t, "kms_master_key_id").as_deref() == Some("aws_kms_key.this.arn"));
        assert_eq!(
            granted.iter().any(|g| matches!(
                g.1.as_deref(),
                Some("\"EncryptTopicMessages\"" | "\"EncryptTopicNotifications\"")
            )),
            topics_use_it,
            "{label}: the topic grant exactly when a topic uses the key"
        );
        for_queues += usize::from(queues_use_it);
        // The state machine's grant when its tasks go to such a queue, the notifier's when approval steps notify
        // through it.
        assert_eq!(
            granted.iter().any(|g| matches!(
                g.1.as_deref(),
                Some("\"EncryptQueueMessages\"" | "\"EncryptQueueNotifications\"")
            )),
            queues_use_it,
            "{label}: the queue grant exactly when a queue uses the key"
        );
        let machine = m.one("resource", "aws_sfn_state_machine", "this").unwrap();
        let encryption = inner(machine, "encryption_configuration")[0];
        let executions_use_it = attr(encryption, "kms_key_id").as_deref() == Some("aws_kms_key.this.arn");
        for_executions += usize::from(executions_use_it);
        let delivery = key_policy
            .iter()
            .find(|(s, _)| strings(inner(s, "principals")[0], "identifiers") == ["delivery.logs.amazonaws.com"]);
        assert_eq!(
            delivery.is_some(),
            executions_use_it,
            "{label}: log delivery may decrypt exactly when the key encrypts executions"
        );
        if let Some((delivery, for_each)) = delivery {
            assert_eq!(for_each.as_deref(), None, "{label}: at every level");
            assert_eq!(strings(delivery, "actions"), ["kms:Decrypt"]);
            assert_eq!(
                conditions(delivery),
                [(
                    "\"kms:EncryptionContext:SourceArn\"".to_string(),
                    vec![LOG_DELIVERIES.to_string()]
                )]
            );
        }
        let encrypted_groups: Vec<String> = m
            .all("resource", "aws_cloudwatch_log_group")
            .iter()
            .filter(|(_, g)| attr(g, "kms_key_id").as_deref() == Some("aws_kms_key.this.arn"))
            .map(|(_, g)| attr(g, "name").unwrap().trim_matches('"').to_string())
            .collect();
        for_logs += usize::from(!encrypted_groups.is_empty());
        let logs = key_policy.iter().map(|(s, _)| *s).find(|s| {
            let p = inner(s, "principals");
            !p.is_empty() && unquoted(strings(p[0], "identifiers")) == ["logs.${local.region}.${local.dns_suffix}"]
        });
        assert_eq!(
            logs.is_some(),
            !encrypted_groups.is_empty(),
            "{label}: the logs statement exactly when a log group uses the key"
        );
        if let Some(logs) = logs {
            let condition = inner(logs, "condition")[0];
            assert_eq!(
                attr(condition, "variable").as_deref(),
                Some("\"kms:EncryptionContext:aws:logs:arn\"")
            );
            let arns = strings(condition, "values");
            assert_eq!(arns.len(), encrypted_groups.len(), "{label}");
            for group in &encrypted_groups {
                assert!(
                    arns.iter()
                        .any(|a| a.trim_matches('"').ends_with(&format!(":log-group:{group}"))),
                    "{label}: {group}"
                );
            }
        }
    });
    assert!(
        for_queues >= 2 && for_logs >= 2 && for_executions >= 2,
        "expected specs that use the key for queues, logs and executions"
    );
}

#[test]
fn service_endpoints_and_principals_follow_the_partition() {
    for_each_module(|label, m| {
        // Service names in policies: a regional one is built from the partition's DNS suffix, never a literal
        // "amazonaws.com" (logs.cn-north-1.amazonaws.com.cn in China); the global ones are the same everywhere.
        const GLOBAL: &[&str] = &[
            "states.amazonaws.com",
            "lambda.amazonaws.com",
            "delivery.logs.amazonaws.com",
            "sns.amazonaws.com",
        ];
        let mut names = Vec::new();
        for (_, document) in m.all("data", "aws_iam_policy_document") {
            for (statement, _) in statements(document) {
                for p in inner(statement, "principals") {
                    if attr(p, "type").as_deref() == Some("\"Service\"") {
                        names.extend(unquoted(strings(p, "identifiers")));
                    }
                }
                for c in inner(statement, "condition") {
                    if attr(c, "variable").as_deref() == Some("\"kms:ViaService\"") {
                        names.extend(unquoted(strings(c, "values")));
                    }
                }
            }
        }
        let mut regional = 0;
        for name in &names {
            if !GLOBAL.contains(&name.as_str()) {
                assert!(
                    name.ends_with(".${local.region}.${local.dns_suffix}"),
                    "{label}: {name}"
                );
                regional += 1;
            }
        }
        let locals = &m.blocks.iter().find(|(k, ..)| k == "locals").unwrap().3;
        assert_eq!(
            attr(locals, "dns_suffix").as_deref(),
            (regional > 0).then_some("data.aws_partition.current.dns_suffix"),
            "{label}: local.dns_suffix exactly when a policy names a regional service"
        );
    });
}

/// The references to managed resources in HCL text (`aws_TYPE.NAME...`; a data source's start with `data.`).
fn resource_references(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "_.[]*".contains(c)))
        .map(|token| token.trim_start_matches('['))
        .filter(|token| (token.starts_with("aws_") || token.starts_with("terraform_")) && token.contains('.'))
        .map(str::to_string)
        .collect()
}

#[test]
fn policy_documents_refer_to_no_resource_but_the_modules_key() {
    // Terraform reads a data source that refers to a managed resource again at apply time whenever that
    // resource has a change planned, and the plan shows each policy made from it as "(known after apply)".
    // Only the module key's ARN, which holds an id AWS chooses, cannot be built from a name: it comes through
    // terraform_data, which a change to the key in place leaves unchanged.
    assert_eq!(
        resource_references("a = [aws_sqs_queue.main.arn, data.aws_kms_alias.k.arn, \"${aws_x.y[0].arn}:*\"]"),
        ["aws_sqs_queue.main.arn", "aws_x.y[0].arn"]
    );
    let mut key_named = 0;
    for_each_module(|label, m| {
        for (name, document) in m.all("data", "aws_iam_policy_document") {
            for reference in resource_references(&hcl::format::to_string(document).unwrap()) {
                // An event source mapping's ARN ends in the UUID Lambda gives it: only the operator's policy
                // names one, to pause fail-fast, through the terraform_data copy of it (known at plan time while
                // the mapping changes in place). (The tokens stop at a `-`, which a queue key may hold: the
                // `.output` after it is checked below.)
                if reference.starts_with("terraform_data.") && reference != MODULE_KEY_ARN && is_operator(name) {
                    continue;
                }
                // The approval links' HMAC key holds an id AWS chooses too: its own terraform_data copy, named by
                // the two approval roles only.
                if reference == "terraform_data.approval_key_arn.output" {
                    assert!(
                        ["approval_notify", "approval_page"].contains(&name),
                        "{label}: {name} names the approval key"
                    );
                    continue;
                }
                assert_eq!(reference, MODULE_KEY_ARN, "{label}: {name} refers to {reference}");
                key_named += 1;
            }
        }
        // So what must exist after a role's policy says so: Step Functions checks the role (log delivery) when
        // it creates the state machine, and the callback Lambda must be able to run when it is first invoked.
        for (ty, name, role) in [
            ("aws_sfn_state_machine", "this", "state_machine"),
            ("aws_lambda_function", "callback", "callback"),
        ] {
            let block = m.one("resource", ty, name).unwrap();
            let policy = format!("aws_iam_role_policy.{role}");
            assert!(strings(block, "depends_on").contains(&policy), "{label}: {ty}.{name}");
        }
    });
    assert!(key_named > 0, "expected documents that name the module's key");
}

#[test]
fn every_policy_statement_has_its_own_sid() {
    for_each_module(|label, m| {
        for (name, document) in m.all("data", "aws_iam_policy_document") {
            let mut sids: Vec<String> = statements(document)
                .iter()
                .filter_map(|(s, _)| attr(s, "sid"))
                .collect();
            let count = statements(document).len();
            sids.sort();
            sids.dedup();
            assert_eq!(
                sids.len(),
                count,
                "{label}: {name} has statements without a sid, or two alike"
            );
        }
    });
}

#[test]
fn executions_are_encrypted_as_the_spec_says_and_the_block_is_always_written() {
    let mut customer = 0;
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let model = sfngen::load_model(&std::fs::read_to_string(&spec).unwrap(), "sfngen.toml").unwrap();
        let machine = m.one("resource", "aws_sfn_state_machine", "this").unwrap();
        // Always written: the provider keeps a left-out Optional+Computed block's old value.
        let blocks = inner(machine, "encryption_configuration");
        assert_eq!(
            blocks.len(),
            1,
            "{label}: encryption_configuration must always be written"
        );
        let (kind, key) = (attr(blocks[0], "type"), attr(blocks[0], "kms_key_id"));
        let expected_key = match &model.state_machine.encryption {
            None => None,
            Some(sfngen::model::CustomerKey::Module) => Some("aws_kms_key.this.arn".to_string()),
            // A key of the caller's is the state machine's own input (set per account), an alias looked up.
            Some(sfngen::model::CustomerKey::Arn(_)) => Some("var.state_machine_kms_key_arn".to_string()),
            Some(sfngen::model::CustomerKey::Alias(_)) => {
                let lookup = m
                    .one("data", "aws_kms_alias", "state_machine")
                    .expect("the alias's lookup");
                assert_eq!(attr(lookup, "name").as_deref(), Some("var.state_machine_kms_key_alias"));
                Some("data.aws_kms_alias.state_machine.target_key_arn".to_string())
            }
        };
        assert_eq!(key, expected_key, "{label}");
        let Some(_) = expected_key else {
            assert_eq!(kind.as_deref(), Some("\"AWS_OWNED_KEY\""), "{label}");
            continue;
        };
        customer += 1;
        assert_eq!(kind.as_deref(), Some("\"CUSTOMER_MANAGED_KMS_KEY\""), "{label}");
        assert_eq!(
            attr(blocks[0], "kms_data_key_reuse_period_seconds").as_deref(),
            Some("300")
        );
        // Both roles may use the key: the execution role for its data, the callback to answer tasks.
        // A literal ARN is a string in the policy's list, a reference is written as it is.
        let key_arn = match key.unwrap().trim_matches('"') {
            // The policies take the module key's ARN through terraform_data (known at plan time while the key
            // changes in place).
            "aws_kms_key.this.arn" => MODULE_KEY_ARN.to_string(),
            other => other.to_string(),
        };
        for (role, sid) in [
            ("state_machine", "EncryptExecutionData"),
            ("callback", "EncryptTaskAnswers"),
        ] {
            let policy = m.one("data", "aws_iam_policy_document", role).unwrap();
            let grant = statements(policy)
                .into_iter()
                .map(|(s, _)| s)
                .find(|s| attr(s, "sid").as_deref() == Some(&format!("\"{sid}\"")))
                .unwrap_or_else(|| panic!("{label}: {role} has no {sid}"));
            assert_eq!(
                strings(grant, "actions"),
                ["kms:Decrypt", "kms:GenerateDataKey"],
                "{label}"
            );
            assert_eq!(strings(grant, "resources"), std::slice::from_ref(&key_arn), "{label}");
        }
    }
    assert!(
        customer >= 3,
        "expected specs with the module's key, a key ARN and an alias"
    );
}

#[test]
fn alarms_watch_dead_letters_executions_and_the_functions_when_asked() {
    let (mut with_alarms, mut clamped) = (0, 0);
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let alarms = m.all("resource", "aws_cloudwatch_metric_alarm");
        let asked = std::fs::read_to_string(&spec).unwrap().contains("[alarms]");
        let variable = m
            .blocks
            .iter()
            .any(|(k, _, n, _)| k == "variable" && n == "alarm_actions");
        assert_eq!(
            variable, asked,
            "{label}: var.alarm_actions exactly when [alarms] is present"
        );
        if !asked {
            assert!(alarms.is_empty(), "{label}: alarms are off by default");
            continue;
        }
        with_alarms += 1;
        let dead_letters = m
            .all("resource", "aws_sqs_queue")
            .iter()
            .filter(|(n, _)| {
                n.ends_with("_dlq") && !n.ends_with("_bus_dlq") && !n.ends_with("_topic_dlq") && *n != "_approvals_dlq"
            })
            .count();
        let model = sfngen::load_model(&std::fs::read_to_string(&spec).unwrap(), "sfngen.toml").unwrap();
        // A dead-letter queue the dead-letter function reads is watched through its log lines, by one alarm for
        // them all (a topic's and a bus's too); each bus's rule by two (failed and throttled deliveries), and one
        // more for the events it could not dead-letter when it has a dead-letter queue; then the executions (3),
        // each function's errors and throttles, tokens Step Functions never issued, and each topic's failed
        // deliveries (and dead letters SNS could not keep).
        let read = model.dead_letter_readers().len();
        let bus_read = model.buses.iter().filter(|b| b.dead_letter.is_some()).count();
        let any_read = read + bus_read + model.topic_dead_letter_readers().len() > 0 || model.approvals.is_some();
        // The endpoint's refused requests (1); the approvals' failed notifications and decisions, expired and
        // invalid links (4).
        let answers_from_outside = usize::from(model.endpoint.is_some()) + 4 * usize::from(model.approvals.is_some());
        let topic_alarms: usize = model
            .topics
            .iter()
            .map(|t| 1 + usize::from(t.dead_letter.is_some()))
            .sum();
        assert_eq!(
            alarms.len(),
            model.queues.len() + dead_letters - read
                + usize::from(any_read)
                + 2 * model.buses.len()
                + bus_read
                + 3
                + 2 * functions(&m).len()
                + 1
                + topic_alarms
                + answers_from_outside,
            "{label}"
        );
        for function in functions(&m) {
            for (short, metric) in [("errors", "Errors"), ("throttles", "Throttles")] {
                let alarm = m
                    .one(
                        "resource",
                        "aws_cloudwatch_metric_alarm",
                        &format!("{function}_{short}"),
                    )
                    .unwrap_or_else(|| panic!("{label}: no {short} alarm for {function}"));
                assert_eq!(attr(alarm, "metric_name"), Some(format!("\"{metric}\"")), "{label}");
                assert_eq!(
                    attr(alarm, "dimensions"),
                    Some(format!(
                        "{{\n  FunctionName = aws_lambda_function.{function}.function_name\n}}"
                    )),
                    "{label}"
                );
            }
        }
        // Each queue's oldest message: above half the shortest time its steps wait (no timeout: the
        // execution's), so that it fires while the task can still be done, or half its retention when that is
        // sooner, so that it can fire before the message expires.
        for queue in &model.queues {
            let alarm = m
                .one(
                    "resource",
                    "aws_cloudwatch_metric_alarm",
                    &format!("{}_oldest_message", queue.key),
                )
                .unwrap_or_else(|| panic!("{label}: no oldest-message alarm for {}", queue.key));
            let shortest = model
                .steps
                .iter()
                .filter(|s| s.queue_key() == Some(queue.key.as_str()))
                .map(|s| s.timeout_seconds.unwrap_or(model.state_machine.timeout_seconds))
                .min()
                .unwrap();
            let threshold = (shortest / 2).min(queue.retention_seconds / 2).max(1);
            assert!(threshold < queue.retention_seconds, "{label}");
            assert!(
                threshold < shortest || shortest == 1,
                "{label}: fires before the step times out"
            );
            assert_eq!(
                attr(alarm, "threshold"),
                Some(threshold.to_string()),
                "{label}: {}",
                queue.key
            );
            assert_eq!(
                attr(alarm, "metric_name").as_deref(),
                Some("\"ApproximateAgeOfOldestMessage\""),
                "{label}"
            );
            assert_eq!(attr(alarm, "statistic").as_deref(), Some("\"Maximum\""), "{label}");
            assert_eq!(
                attr(alarm, "dimensions"),
                Some(format!("{{\n  QueueName = aws_sqs_queue.{}.name\n}}", queue.key)),
                "{label}"
            );
            clamped += usize::from(threshold < shortest / 2);
        }
        // A metric an alarm watches: its own, or one of its metric queries' (faults only: failed minus business).
        let metrics: Vec<String> = alarms
            .iter()
            .flat_map(|(_, a)| {
                attr(a, "metric_name").into_iter().chain(
                    inner(a, "metric_query")
                        .into_iter()
                        .flat_map(|q| inner(q, "metric"))
                        .filter_map(|m| attr(m, "metric_name")),
                )
            })
            .collect();
        for metric in [
            "ExecutionsFailed",
            "ExecutionsTimedOut",
            "ExecutionsAborted",
            "Errors",
            "Throttles",
        ] {
            assert!(metrics.contains(&format!("\"{metric}\"")), "{label}: no {metric} alarm");
        }
        for (name, alarm) in alarms {
            assert_eq!(
                attr(alarm, "alarm_actions").as_deref(),
                Some("var.alarm_actions"),
                "{label}: {name}"
            );
            if !name.ends_with("_oldest_message") {
                assert_eq!(attr(alarm, "threshold").as_deref(), Some("0"), "{label}: {name}");
            }
        }
    }
    assert!(with_alarms >= 1);
    assert!(clamped >= 1, "expected a queue whose alarm is held below its retention");
}

#[test]
fn the_readme_lists_exactly_the_alarms_the_module_creates() {
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        // The README shows the names the module's `name` input gives by default.
        let name_variable = m.one("variable", "", "name").expect("a name variable");
        let default_name = attr(name_variable, "default").expect("a default name");
        let default_name = default_name.trim_matches('"');
        let mut created: Vec<String> = m
            .all("resource", "aws_cloudwatch_metric_alarm")
            .iter()
            .filter_map(|(_, a)| attr(a, "alarm_name"))
            .map(|name| name.trim_matches('"').replace("${var.name}", default_name))
            .collect();
        let files = common::render(&spec);
        let readme = files.iter().find(|f| f.path == "README.md").expect("README.md");
        let readme = String::from_utf8(readme.contents.clone()).unwrap();
        let mut listed: Vec<String> = match readme.split_once("\n## Alarms\n") {
            None => Vec::new(),
            Some((_, section)) => section
                .split("\n## ")
                .next()
                .unwrap_or_default()
                .lines()
                .filter_map(|line| line.strip_prefix("| `"))
                .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_string()))
                .collect(),
        };
        created.sort();
        listed.sort();
        assert_eq!(listed, created, "{label}: the README's alarms are not the module's");
        assert!(
            !readme.contains("\n\n\n"),
            "{label}: the README has two blank lines in a row"
        );
    }
}

/// The block of `resource "TYPE" "NAME"` in a rendered file's text, comments included (hcl-rs drops them).
fn block_text<'a>(text: &'a str, ty: &str, name: &str) -> Option<&'a str> {
    let start = text.find(&format!("resource \"{ty}\" \"{name}\" {{\n"))?;
    let end = text[start..].find("\n}\n")? + start;
    Some(&text[start..end])
}

#[test]
fn dead_letter_retention_comments_say_what_sqs_does_for_the_queue_type() {
    let (mut fifo, mut standard) = (0, 0);
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        // A bus's dead-letter queue holds events EventBridge could not deliver, and a topic's what SNS could not:
        // not redriven messages, their own cases.
        for (name, queue) in m
            .all("resource", "aws_sqs_queue")
            .into_iter()
            .filter(|(n, _)| n.ends_with("_dlq") && !n.ends_with("_bus_dlq") && !n.ends_with("_topic_dlq"))
        {
            let text = block_text(&m.text, "aws_sqs_queue", name).expect("the block's text");
            // SQS: a standard queue's message keeps its first enqueue time when dead-lettered; a FIFO queue's
            // enqueue time starts again in its dead-letter queue.
            if attr(queue, "fifo_queue").as_deref() == Some("true") {
                fifo += 1;
                assert!(text.contains("restarts a message's retention"), "{label}: {text}");
                assert!(!text.contains("first enqueue time"), "{label}: {text}");
            } else {
                standard += 1;
                assert!(text.contains("keeps its first enqueue time"), "{label}: {text}");
            }
        }
    }
    assert!(
        fifo >= 1 && standard >= 1,
        "expected FIFO and standard dead-letter queues"
    );
}

#[test]
fn every_queue_refuses_requests_not_made_over_tls() {
    for_each_module(|label, m| {
        let queues = m.all("resource", "aws_sqs_queue");
        let policies = m.all("resource", "aws_sqs_queue_policy");
        assert_eq!(policies.len(), queues.len(), "{label}: one resource policy per queue");
        for (name, _) in queues {
            let policy = m
                .one("resource", "aws_sqs_queue_policy", name)
                .unwrap_or_else(|| panic!("{label}: queue {name} has no policy"));
            assert_eq!(
                attr(policy, "queue_url"),
                Some(format!("aws_sqs_queue.{name}.id")),
                "{label}"
            );
            // jsonencode() of the document: references stay references, so the queue's ARN is its own.
            let Some(Expression::FuncCall(call)) = policy
                .body()
                .attributes()
                .find(|a| a.key() == "policy")
                .map(|a| a.expr())
            else {
                panic!("{label}: {name}'s policy is not jsonencode(...)");
            };
            assert_eq!(call.name.name.as_str(), "jsonencode", "{label}");
            let mut statements = vec![serde_json::json!({
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": format!("aws_sqs_queue.{name}.arn"),
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            })];
            // A bus's dead-letter queue: EventBridge may send to it for that bus's rule only.
            if let Some(bus) = name.strip_suffix("_bus_dlq") {
                statements.push(serde_json::json!({
                    "Sid": "RuleDeadLetters",
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": format!("aws_sqs_queue.{name}.arn"),
                    "Condition": {"ArnEquals": {"aws:SourceArn": format!("aws_cloudwatch_event_rule.{bus}.arn")}},
                }));
            }
            // A topic's dead-letter queue also lets SNS send to it, for that topic only.
            if let Some(topic) = name.strip_suffix("_topic_dlq") {
                let sns = serde_json::json!({
                    "Sid": "TopicDeadLetters",
                    "Effect": "Allow",
                    "Principal": { "Service": "sns.amazonaws.com" },
                    "Action": "sqs:SendMessage",
                    "Resource": format!("aws_sqs_queue.{name}.arn"),
                    "Condition": { "ArnEquals": { "aws:SourceArn": format!("aws_sns_topic.{topic}.arn") } },
                });
                assert_eq!(
                    json_of(&call.args[0]),
                    serde_json::json!({ "Version": "2012-10-17", "Statement": [sns, statements[0].clone()] }),
                    "{label}: {name}"
                );
                continue;
            }
            assert_eq!(
                json_of(&call.args[0]),
                serde_json::json!({"Version": "2012-10-17", "Statement": statements}),
                "{label}: {name}"
            );
        }
    });
}

/// An HCL value as JSON: objects, tuples and literals as they are, anything else (a reference, a template)
/// as its HCL text.
fn json_of(expr: &Expression) -> serde_json::Value {
    match expr {
        Expression::Object(fields) => fields
            .iter()
            .map(|(key, value)| {
                let key = match key {
                    hcl::ObjectKey::Identifier(ident) => ident.to_string(),
                    hcl::ObjectKey::Expression(Expression::String(text)) => text.clone(),
                    other => panic!("an object key that is neither a name nor a string: {other:?}"),
                };
                (key, json_of(value))
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        Expression::Array(items) => items.iter().map(json_of).collect::<Vec<_>>().into(),
        Expression::String(text) => text.clone().into(),
        Expression::Bool(value) => (*value).into(),
        other => hcl::format::to_string(other).unwrap().into(),
    }
}

#[test]
fn workers_long_poll_by_default() {
    let mut defaults = 0;
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let model = sfngen::load_model(&std::fs::read_to_string(&spec).unwrap(), "sfngen.toml").unwrap();
        let written = std::fs::read_to_string(&spec).unwrap();
        for queue in &model.queues {
            let block = m.one("resource", "aws_sqs_queue", &queue.key).unwrap();
            let wait = attr(block, "receive_wait_time_seconds");
            assert_eq!(
                wait,
                Some(queue.receive_wait_seconds.to_string()),
                "{label}: {}",
                queue.key
            );
            if !written.contains("receive_wait") {
                // The longest SQS allows: a ReceiveMessage waits for a message instead of answering empty.
                assert_eq!(wait.as_deref(), Some("20"), "{label}: {}", queue.key);
                defaults += 1;
            }
        }
    }
    assert!(defaults >= 5);
}

#[test]
fn spent_task_tokens_are_counted_from_the_callbacks_log_lines() {
    // The pattern's field and value are what the shipped Lambda writes for a spent token: its JSON log lines
    // (one per callback and per dead-lettered record) carry `"outcome": "token_spent"`.
    let lambda: Vec<(&str, String)> = ["lambda/src/main.rs", "lambda/src/dead_letter.rs"]
        .into_iter()
        .map(|f| (f, std::fs::read_to_string(common::root().join(f)).unwrap()))
        .collect();
    for_each_module(|label, m| {
        let filter = m
            .one("resource", "aws_cloudwatch_log_metric_filter", "spent_tokens")
            .unwrap_or_else(|| panic!("{label}: no spent-token metric filter"));
        assert_eq!(
            attr(filter, "log_group_name").as_deref(),
            Some("aws_cloudwatch_log_group.callback.name"),
            "{label}"
        );
        let pattern: String = serde_json::from_str(&attr(filter, "pattern").unwrap()).unwrap();
        let (field, value) = pattern
            .strip_prefix("{ $.")
            .and_then(|p| p.strip_suffix(" }"))
            .and_then(|p| p.split_once(" = "))
            .unwrap_or_else(|| panic!("{label}: {pattern} is not a JSON equality pattern"));
        let written = format!("\"{field}\": {value}");
        for (file, source) in &lambda {
            assert!(source.contains(&written), "{label}: {file} does not log {written}");
        }
        let metric = inner(filter, "metric_transformation")[0];
        assert_eq!(attr(metric, "name").as_deref(), Some("\"SpentTokens\""), "{label}");
        assert_eq!(
            attr(metric, "namespace").as_deref(),
            Some("\"sfngen/${var.name}\""),
            "{label}"
        );
        assert_eq!(attr(metric, "value").as_deref(), Some("\"1\""), "{label}");
        // A count, not an alarm: a late callback is no fault, and the Errors alarm must not see it.
        assert!(
            !m.all("resource", "aws_cloudwatch_metric_alarm")
                .iter()
                .any(|(_, a)| attr(a, "metric_name").as_deref() == Some("\"SpentTokens\"")),
            "{label}"
        );
    });
}

/// A `condition` block: `(test, variable, values)`.
type Condition = (String, String, Vec<String>);

fn written_conditions(statement: &Block) -> Vec<Condition> {
    inner(statement, "condition")
        .into_iter()
        .map(|c| {
            (
                attr(c, "test").unwrap_or_default(),
                attr(c, "variable").unwrap_or_default(),
                strings(c, "values"),
            )
        })
        .collect()
}

/// KMS used only when SQS asks for it on the caller's behalf.
fn via_sqs() -> Condition {
    (
        "\"StringEquals\"".into(),
        "\"kms:ViaService\"".into(),
        // A template, so written as HCL (with its quotes) by the `strings` helper.
        vec!["\"sqs.${local.region}.${local.dns_suffix}\"".into()],
    )
}

/// A policy statement as written: `(sid, actions, resources, conditions)`.
type Statement = (String, Vec<String>, Vec<String>, Vec<Condition>);

/// Every statement of a policy document, static or dynamic, as written.
fn written_statements(document: &Block) -> Vec<Statement> {
    statements(document)
        .into_iter()
        .map(|(s, _)| {
            (
                attr(s, "sid").unwrap_or_default().trim_matches('"').to_string(),
                strings(s, "actions"),
                strings(s, "resources"),
                written_conditions(s),
            )
        })
        .collect()
}

/// The role (or worker policy) a policy document belongs to: `state_machine` for `state_machine` and its managed
/// policies `state_machine_1`, `state_machine_2`...; `worker` for the worker policy's parts `worker_part_N`.
/// Whether a policy document is the operator's (or a part of it).
fn is_operator(name: &str) -> bool {
    name == "operator"
        || name
            .strip_prefix("operator_part_")
            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit()))
}

#[test]
fn the_operator_policy_is_the_runbooks_calls_on_this_modules_resources() {
    // The runbook's calls only, each on an ARN of this instance's own resources (built from its name, or the
    // mapping's UUID): no "*", no invoke, no message sent but to a callback queue whose dead letters come back.
    let mut seen = 0;
    for_each_module(|label, m| {
        let documents: Vec<_> = m
            .all("data", "aws_iam_policy_document")
            .into_iter()
            .filter(|(name, _)| is_operator(name))
            .collect();
        assert!(!documents.is_empty(), "{label}: no operator policy");
        let state_machine = built_arn(m, "aws_sfn_state_machine", "this");
        let alias = format!("{}:live\"", state_machine.trim_end_matches('"'));
        let executions = state_machine
            .replace(":stateMachine:", ":execution:")
            .trim_end_matches('"')
            .to_string()
            + ":*\"";
        let queues: Vec<(String, String)> = m
            .all("resource", "aws_sqs_queue")
            .into_iter()
            .map(|(n, _)| (n.to_string(), built_arn(m, "aws_sqs_queue", n)))
            .collect();
        for (name, document) in documents {
            for (statement, for_each) in statements(document) {
                assert_eq!(for_each, None, "{label}: {name}");
                let actions = strings(statement, "actions");
                let resources = strings(statement, "resources");
                assert!(
                    !resources.is_empty() && !resources.contains(&"\"*\"".to_string()),
                    "{label}: {resources:?}"
                );
                for action in &actions {
                    let allowed: Vec<String> = match action.as_str() {
                        // Executions start through the alias only (the state machine's own ARN would
                        // start its latest revision); they are listed by either.
                        "states:StartExecution" => vec![alias.clone()],
                        "states:ListExecutions" => vec![state_machine.clone(), alias.clone()],
                        "states:DescribeExecution"
                        | "states:GetExecutionHistory"
                        | "states:StopExecution"
                        | "states:RedriveExecution" => vec![executions.clone()],
                        "sqs:GetQueueAttributes" => queues.iter().map(|(_, arn)| arn.clone()).collect(),
                        "sqs:StartMessageMoveTask"
                        | "sqs:ListMessageMoveTasks"
                        | "sqs:CancelMessageMoveTask"
                        | "sqs:ReceiveMessage"
                        | "sqs:DeleteMessage" => queues
                            .iter()
                            .filter(|(n, _)| n.ends_with("_dlq"))
                            .map(|(_, arn)| arn.clone())
                            .collect(),
                        "sqs:SendMessage" => queues
                            .iter()
                            .filter(|(n, _)| queues.iter().any(|(d, _)| *d == format!("{n}_dlq")))
                            .map(|(_, arn)| arn.clone())
                            .collect(),
                        "lambda:GetEventSourceMapping" | "lambda:UpdateEventSourceMapping" => m
                            .all("resource", "aws_lambda_event_source_mapping")
                            .into_iter()
                            .map(|(n, _)| {
                                format!(
                                    "\"arn:${{local.partition}}:lambda:${{local.region}}:${{local.account_id}}:event-source-mapping:${{terraform_data.{n}_mapping_uuid.output}}\""
                                )
                            })
                            .collect(),
                        "kms:Decrypt" | "kms:GenerateDataKey" => {
                            // Only through SQS (a move task reads and writes encrypted queues), or through Step
                            // Functions for this state machine's data (its customer managed key).
                            let conditions = written_conditions(statement);
                            let via = |service: &str| {
                                (
                                    "\"StringEquals\"".to_string(),
                                    "\"kms:ViaService\"".to_string(),
                                    vec![format!("\"{service}.${{local.region}}.${{local.dns_suffix}}\"")],
                                )
                            };
                            assert!(
                                conditions == [via("sqs")] || conditions.contains(&via("states")),
                                "{label}: {conditions:?}"
                            );
                            continue;
                        }
                        other => panic!("{label}: the operator may {other}"),
                    };
                    for resource in &resources {
                        assert!(allowed.contains(resource), "{label}: {action} on {resource}");
                    }
                }
            }
        }
        seen += 1;
    });
    assert!(seen >= 3);
}

fn document_owner(name: &str) -> &str {
    if let Some(rest) = name.strip_prefix("worker_part_")
        && rest.chars().all(|c| c.is_ascii_digit())
    {
        return "worker";
    }
    match name.rsplit_once('_') {
        Some((owner, number)) if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) => owner,
        _ => name,
    }
}

/// Every statement of the documents `owner` holds (a role's inline and managed policies, or the worker policy's
/// parts), as if one document: statements of one sid split across documents become one, resources in order.
fn owned_statements(m: &Module, owner: &str) -> Vec<Statement> {
    let mut merged: Vec<Statement> = Vec::new();
    let mut documents: Vec<(&str, &Block)> = m
        .all("data", "aws_iam_policy_document")
        .into_iter()
        .filter(|(name, _)| document_owner(name) == owner)
        .collect();
    // The whole or inline document first, then its parts in number order.
    documents.sort_by_key(|(name, _)| {
        let number: usize = name.rsplit('_').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        (*name != owner, number)
    });
    for (_, document) in documents {
        for statement in written_statements(document) {
            match merged.iter_mut().find(|s| s.0 == statement.0) {
                Some(existing) => existing.2.extend(statement.2),
                None => merged.push(statement),
            }
        }
    }
    merged
}

/// A queue as its spec writes it, read with the toml crate (not sfngen's reader).
struct SpecQueue {
    key: String,
    /// `encryption`, `"sqs"` when left out.
    encryption: String,
    dead_letter: bool,
    /// `dead_letter.fail_execution`: on by default whenever there is a dead-letter queue; the dead-letter
    /// function reads it.
    read_for_dead_letters: bool,
}

fn spec_queues(spec: &std::path::Path) -> Vec<SpecQueue> {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
    // A spec whose steps use topics or buses only has no [queues].
    let empty = toml::Table::new();
    let mut queues: Vec<SpecQueue> = table
        .get("queues")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty)
        .iter()
        .map(|(key, queue)| {
            let dead_letter = queue.get("dead_letter");
            let on = dead_letter.and_then(toml::Value::as_bool) != Some(false);
            let fail_execution = dead_letter
                .and_then(|d| d.get("fail_execution"))
                .and_then(toml::Value::as_bool)
                .unwrap_or(true);
            SpecQueue {
                key: key.clone(),
                encryption: queue
                    .get("encryption")
                    .and_then(toml::Value::as_str)
                    .unwrap_or("sqs")
                    .to_string(),
                dead_letter: on,
                read_for_dead_letters: on && fail_execution,
            }
        })
        .collect();
    queues.sort_by(|a, b| a.key.cmp(&b.key));
    queues
}

/// The keys of the topics a spec declares with a dead-letter queue (`dead_letter` is on unless `false`): the
/// dead-letter function reads each, through a mapping of its own.
fn spec_topic_dead_letters(spec: &std::path::Path) -> Vec<String> {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
    let empty = toml::Table::new();
    let mut keys: Vec<String> = table
        .get("topics")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty)
        .iter()
        .filter(|(_, t)| t.get("dead_letter").and_then(toml::Value::as_bool) != Some(false))
        .map(|(k, _)| k.clone())
        .collect();
    keys.sort();
    keys
}

/// The KMS key ARN a policy names for these queues, each once, in queue order: the module's key, or the
/// queue's own key input (an ARN as given, an alias through its own lookup).
fn key_arns(these: &[&SpecQueue]) -> Vec<String> {
    let mut arns: Vec<String> = Vec::new();
    for queue in these {
        let input = queue.key.replace('-', "_");
        let arn = match queue.encryption.as_str() {
            "sqs" => continue,
            "kms" => MODULE_KEY_ARN.to_string(),
            alias if alias.starts_with("alias/") => format!("data.aws_kms_alias.{}.target_key_arn", queue.key),
            _ => format!("var.{input}_queue_kms_key_arn"),
        };
        if !arns.contains(&arn) {
            arns.push(arn);
        }
    }
    arns
}

/// The keys of a spec's buses whose rule's targets have a dead-letter queue (`dead_letter` is on by default), read
/// with the toml crate.
fn spec_bus_dead_letters(spec: &std::path::Path) -> Vec<String> {
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
    table
        .get("buses")
        .and_then(toml::Value::as_table)
        .map(|buses| {
            buses
                .iter()
                .filter(|(_, bus)| bus.get("dead_letter").and_then(toml::Value::as_bool) != Some(false))
                .map(|(key, _)| key.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// Exactly what a worker of these queues needs, statement by statement (without queues, only to answer: its
/// tasks come through a topic's subscription or a bus rule's target).
fn worker_statements(m: &Module, these: &[&SpecQueue]) -> Vec<Statement> {
    let mut expected: Vec<Statement> = Vec::new();
    if !these.is_empty() {
        expected.push((
            "TakeTasks".to_string(),
            vec![
                "sqs:ChangeMessageVisibility".to_string(),
                "sqs:DeleteMessage".into(),
                "sqs:GetQueueAttributes".into(),
                "sqs:ReceiveMessage".into(),
            ],
            these.iter().map(|q| built_arn(m, "aws_sqs_queue", &q.key)).collect(),
            Vec::new(),
        ));
    }
    let keys = key_arns(these);
    if !keys.is_empty() {
        expected.push(("DecryptTasks".into(), vec!["kms:Decrypt".into()], keys, vec![via_sqs()]));
    }
    expected.push((
        "AnswerTasks".into(),
        vec!["lambda:InvokeFunction".into()],
        vec![built_arn(m, "aws_lambda_function", "callback")],
        Vec::new(),
    ));
    expected
}

#[test]
fn worker_policies_grant_exactly_what_a_worker_needs() {
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let queues = spec_queues(&spec);
        let every: Vec<&SpecQueue> = queues.iter().collect();
        let document = |name: &str| {
            m.one("data", "aws_iam_policy_document", name)
                .unwrap_or_else(|| panic!("{label}: no policy document {name}"))
        };
        // In parts, the grant to invoke the callback comes first: the statements, in any order.
        let sorted = |mut statements: Vec<Statement>| {
            statements.sort();
            statements
        };
        assert_eq!(
            sorted(owned_statements(&m, "worker")),
            sorted(worker_statements(&m, &every)),
            "{label}: worker"
        );
        let parts: Vec<&str> = m
            .all("data", "aws_iam_policy_document")
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| n.starts_with("worker_part_"))
            .collect();
        let per_queue: Vec<&str> = m
            .all("data", "aws_iam_policy_document")
            .into_iter()
            .filter_map(|(n, _)| n.strip_prefix("worker_"))
            .filter(|n| !n.starts_with("part_"))
            .collect();
        let mut by_queue = Vec::new();
        if queues.len() > 1 {
            assert_eq!(per_queue.len(), queues.len(), "{label}: one document per queue");
            for queue in &queues {
                let name = format!("worker_{}", queue.key);
                assert_eq!(
                    written_statements(document(&name)),
                    worker_statements(&m, &[queue]),
                    "{label}: {name}"
                );
                by_queue.push((queue.key.clone(), format!("data.aws_iam_policy_document.{name}.json")));
            }
        } else {
            assert!(per_queue.is_empty(), "{label}: one queue's policy is the whole one");
            // Without a queue, worker_policy_json_by_queue is empty.
            if let Some(queue) = queues.first() {
                by_queue.push((queue.key.clone(), "data.aws_iam_policy_document.worker.json".into()));
            }
        }
        let output = |name: &str| {
            m.one("output", "", name)
                .unwrap_or_else(|| panic!("{label}: no output {name}"))
        };
        // Too large for one managed policy, the worker policy is a list of its parts, to attach together.
        let whole: Vec<String> = if parts.is_empty() {
            vec!["data.aws_iam_policy_document.worker.json".to_string()]
        } else {
            parts
                .iter()
                .map(|p| format!("data.aws_iam_policy_document.{p}.json"))
                .collect()
        };
        let written = attr(output("worker_policy_json"), "value").unwrap_or_default();
        let listed: Vec<String> = written
            .trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace())
            .split(',')
            .map(|item| item.trim().to_string())
            .filter(|item| !item.is_empty())
            .collect();
        assert_eq!(listed, whole, "{label}: worker_policy_json");
        assert_eq!(
            written.starts_with('['),
            !parts.is_empty(),
            "{label}: worker_policy_json"
        );
        let value = output("worker_policy_json_by_queue")
            .body()
            .attributes()
            .find(|a| a.key() == "value")
            .map(|a| a.expr().clone());
        let Some(Expression::Object(object)) = value else {
            panic!("{label}: worker_policy_json_by_queue is not an object");
        };
        let listed: Vec<(String, String)> = object
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    hcl::ObjectKey::Identifier(id) => id.to_string(),
                    hcl::ObjectKey::Expression(Expression::String(s)) => s.clone(),
                    other => panic!("{label}: object key {other:?}"),
                };
                (key, hcl::format::to_string(v).unwrap())
            })
            .collect();
        assert_eq!(listed, by_queue, "{label}: worker_policy_json_by_queue");
        // The module publishes them and attaches them to nothing.
        for (kind, ty, name, block) in &m.blocks {
            if kind != "output" {
                let text = hcl::format::to_string(block).unwrap();
                assert!(
                    !text.contains("aws_iam_policy_document.worker"),
                    "{label}: {ty}.{name} uses a worker policy"
                );
            }
        }
    }
}

#[test]
fn dead_letters_fail_their_tasks_through_a_function_of_their_own() {
    let (mut read, mut unread) = (0, 0);
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let queues = spec_queues(&spec);
        let readers: Vec<&SpecQueue> = queues.iter().filter(|q| q.read_for_dead_letters).collect();
        read += readers.len();
        unread += queues
            .iter()
            .filter(|q| q.dead_letter && !q.read_for_dead_letters)
            .count();
        let bus_readers = spec_bus_dead_letters(&spec);
        let topic_readers = spec_topic_dead_letters(&spec);
        let approvals = has_approvals(&spec);
        let mappings = m.all("resource", "aws_lambda_event_source_mapping");
        assert_eq!(
            mappings.len(),
            readers.len() + bus_readers.len() + topic_readers.len() + 2 * usize::from(approvals),
            "{label}: one mapping per dead-letter queue read (a bus's, a topic's and the approvals' too), and the \
             approvals queue's to the notifier"
        );
        if approvals {
            for (mapping, queue, function) in [
                ("_approvals", "_approvals", "approval_notify"),
                ("_approvals_dlq", "_approvals_dlq", "dead_letters"),
            ] {
                let block = m
                    .one("resource", "aws_lambda_event_source_mapping", mapping)
                    .unwrap_or_else(|| panic!("{label}: no mapping {mapping}"));
                assert_eq!(
                    attr(block, "event_source_arn"),
                    Some(format!("aws_sqs_queue.{queue}.arn")),
                    "{label}"
                );
                assert_eq!(
                    attr(block, "function_name"),
                    Some(format!("aws_lambda_function.{function}.arn")),
                    "{label}"
                );
                assert_eq!(strings(block, "function_response_types"), ["ReportBatchItemFailures"]);
            }
        }
        for key in &topic_readers {
            let dlq = format!("{key}_topic_dlq");
            let mapping = m
                .one("resource", "aws_lambda_event_source_mapping", &dlq)
                .unwrap_or_else(|| panic!("{label}: no mapping from {dlq}"));
            assert_eq!(
                attr(mapping, "event_source_arn"),
                Some(format!("aws_sqs_queue.{dlq}.arn")),
                "{label}"
            );
            assert_eq!(
                attr(mapping, "function_name").as_deref(),
                Some("aws_lambda_function.dead_letters.arn")
            );
        }
        // The dead-letter function exists exactly when a queue's (or a topic's, or a bus's) dead letters fail their
        // executions.
        let reader = m.one("resource", "aws_lambda_function", "dead_letters");
        assert_eq!(
            reader.is_some(),
            !readers.is_empty() || !bus_readers.is_empty() || !topic_readers.is_empty() || approvals,
            "{label}"
        );
        let callback_role = written_statements(m.one("data", "aws_iam_policy_document", "callback").unwrap());
        assert!(
            callback_role
                .iter()
                .all(|s| s.1.iter().all(|a| !a.starts_with("sqs:")) && s.0 != "DecryptDeadLetters"),
            "{label}: the callback reads no queue"
        );
        for (name, mode) in [("callback", "callback"), ("dead_letters", "dead_letters")] {
            let Some(function) = m.one("resource", "aws_lambda_function", name) else {
                continue;
            };
            // The same package, in the mode the module sets, with the [callback] settings.
            assert_eq!(
                attr(function, "timeout").as_deref(),
                Some("var.callback_timeout_seconds")
            );
            assert_eq!(attr(function, "filename").as_deref(), Some("local.callback_lambda_zip"));
            assert_eq!(
                attr(function, "role"),
                Some(format!("aws_iam_role.{name}.arn")),
                "{label}"
            );
            let environment = inner(function, "environment");
            assert_eq!(
                attr(environment[0], "variables"),
                Some(format!("{{\n  SFNGEN_MODE = \"{mode}\"\n}}")),
                "{label}: {name}"
            );
        }
        for queue in &readers {
            let dlq = format!("{}_dlq", queue.key);
            let mapping = m
                .one("resource", "aws_lambda_event_source_mapping", &dlq)
                .unwrap_or_else(|| panic!("{label}: no mapping from {dlq}"));
            assert_eq!(
                attr(mapping, "event_source_arn"),
                Some(format!("aws_sqs_queue.{dlq}.arn")),
                "{label}"
            );
            assert_eq!(
                attr(mapping, "function_name").as_deref(),
                Some("aws_lambda_function.dead_letters.arn")
            );
            assert_eq!(strings(mapping, "function_response_types"), ["ReportBatchItemFailures"]);
            // Lambda checks the role may read the queue when it creates the mapping; the policy names the
            // queue by a built ARN, which orders nothing.
            let mut permissions = vec!["aws_iam_role_policy.dead_letters".to_string()];
            permissions.extend(
                m.all("resource", "aws_iam_role_policy_attachment")
                    .into_iter()
                    .filter(|(n, _)| document_owner(n) == "dead_letters")
                    .map(|(n, _)| format!("aws_iam_role_policy_attachment.{n}")),
            );
            assert_eq!(strings(mapping, "depends_on"), permissions, "{label}");
            assert_eq!(attr(mapping, "batch_size").as_deref(), Some("10"), "{label}");
            // AWS refuses a mapping whose queue hides a batch for less than the function may run.
            let queue_block = m.one("resource", "aws_sqs_queue", &dlq).unwrap();
            assert_eq!(
                attr(queue_block, "visibility_timeout_seconds").as_deref(),
                Some("6 * var.callback_timeout_seconds"),
                "{label}: {dlq} must follow the callback's timeout"
            );
        }
        if readers.is_empty() && bus_readers.is_empty() && topic_readers.is_empty() && !approvals {
            assert!(
                m.one("data", "aws_iam_policy_document", "dead_letters").is_none(),
                "{label}"
            );
            continue;
        }
        let role: Vec<Statement> = owned_statements(&m, "dead_letters");
        let find = |sid: &str| role.iter().find(|s| s.0 == sid).cloned();
        // The buses' dead-letter queues (SSE-SQS: no key), read by the mapping's poller as the queues' are.
        assert_eq!(
            find("ReadBusDeadLetters"),
            (!bus_readers.is_empty()).then(|| (
                "ReadBusDeadLetters".to_string(),
                vec![
                    "sqs:DeleteMessage".to_string(),
                    "sqs:GetQueueAttributes".into(),
                    "sqs:ReceiveMessage".into()
                ],
                bus_readers
                    .iter()
                    .map(|key| built_arn(&m, "aws_sqs_queue", &format!("{key}_bus_dlq")))
                    .collect(),
                Vec::new(),
            )),
            "{label}"
        );
        if readers.is_empty() {
            assert_eq!(find("ReadDeadLetters"), None, "{label}");
            continue;
        }
        // Least privilege: fail tasks, its logs, its queues and their keys, the state machine's key, traces.
        let sids: Vec<&str> = role.iter().map(|s| s.0.as_str()).collect();
        let allowed = [
            "FailDeadLetteredTasks",
            "EncryptTaskFailures",
            "WriteOwnLogs",
            "ReadDeadLetters",
            "DecryptDeadLetters",
            "ReadBusDeadLetters",
            "ReadTopicDeadLetters",
            "DecryptTopicDeadLetters",
            "ReadApprovalDeadLetters",
            "SendTraces",
        ];
        assert!(sids.iter().all(|s| allowed.contains(s)), "{label}: {sids:?}");
        // The topics' dead-letter queues it reads, exactly.
        let topic_dlqs: Vec<String> = topic_readers
            .iter()
            .map(|k| built_arn(&m, "aws_sqs_queue", &format!("{k}_topic_dlq")))
            .collect();
        assert_eq!(
            find("ReadTopicDeadLetters").map(|s| s.2).unwrap_or_default(),
            topic_dlqs,
            "{label}"
        );
        if readers.is_empty() {
            continue;
        }
        assert_eq!(
            find("FailDeadLetteredTasks").map(|s| (s.1, s.2)),
            Some((
                vec!["states:SendTaskFailure".to_string()],
                vec![built_arn(&m, "aws_sfn_state_machine", "this")]
            )),
            "{label}"
        );
        // The mapping's poller uses the role from outside the function: no lambda:SourceFunctionArn.
        assert_eq!(
            find("ReadDeadLetters"),
            Some((
                "ReadDeadLetters".to_string(),
                vec![
                    "sqs:DeleteMessage".to_string(),
                    "sqs:GetQueueAttributes".into(),
                    "sqs:ReceiveMessage".into()
                ],
                readers
                    .iter()
                    .map(|q| built_arn(&m, "aws_sqs_queue", &format!("{}_dlq", q.key)))
                    .collect(),
                Vec::new(),
            )),
            "{label}"
        );
        let keys = key_arns(&readers);
        let decrypt = find("DecryptDeadLetters");
        if keys.is_empty() {
            assert!(decrypt.is_none(), "{label}");
        } else {
            assert_eq!(
                decrypt,
                Some((
                    "DecryptDeadLetters".to_string(),
                    vec!["kms:Decrypt".to_string()],
                    keys,
                    vec![via_sqs()]
                )),
                "{label}"
            );
        }
    }
    assert!(
        read >= 3 && unread >= 2,
        "expected specs with dead-letter queues read and not read"
    );
}

#[test]
fn dead_letter_readers_leave_the_callbacks_concurrency_to_workers() {
    // Each mapping's poller scales to the least SQS allows (2), and invokes a function of its own: a burst of
    // dead letters takes little of the account's concurrency and none of the callback's (reserved, in the full
    // example), which workers' synchronous callbacks need.
    let mut mappings = 0;
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let model = sfngen::load_model(&std::fs::read_to_string(&spec).unwrap(), "sfngen.toml").unwrap();
        let readers = model.dead_letter_readers();
        let bus_readers: Vec<&sfngen::model::Bus> = model.buses.iter().filter(|b| b.dead_letter.is_some()).collect();
        assert_eq!(
            m.all("resource", "aws_lambda_event_source_mapping").len(),
            readers.len()
                + bus_readers.len()
                + model.topic_dead_letter_readers().len()
                + 2 * usize::from(model.approvals.is_some()),
            "{label}"
        );
        // The approvals queue's and its dead-letter queue's mappings, at SQS's least concurrency too.
        for name in ["_approvals", "_approvals_dlq"]
            .into_iter()
            .filter(|_| model.approvals.is_some())
        {
            let mapping = m
                .one("resource", "aws_lambda_event_source_mapping", name)
                .unwrap_or_else(|| panic!("{label}: no mapping {name}"));
            assert_eq!(
                attr(inner(mapping, "scaling_config")[0], "maximum_concurrency").as_deref(),
                Some("2"),
                "{label}: {name}"
            );
        }
        for bus in bus_readers {
            let mapping = m
                .one(
                    "resource",
                    "aws_lambda_event_source_mapping",
                    &format!("{}_bus_dlq", bus.key),
                )
                .unwrap_or_else(|| panic!("{label}: no mapping from the dead-letter queue of bus {}", bus.key));
            let scaling = inner(mapping, "scaling_config");
            assert_eq!(
                attr(scaling[0], "maximum_concurrency").as_deref(),
                Some("2"),
                "{label}: {}",
                bus.key
            );
            assert_eq!(
                attr(mapping, "function_name").as_deref(),
                Some("aws_lambda_function.dead_letters.arn"),
                "{label}: {}",
                bus.key
            );
        }
        for (queue, reader) in readers {
            let mapping = m
                .one(
                    "resource",
                    "aws_lambda_event_source_mapping",
                    &format!("{}_dlq", queue.key),
                )
                .unwrap_or_else(|| panic!("{label}: no mapping from the dead-letter queue of {}", queue.key));
            let scaling = inner(mapping, "scaling_config");
            assert_eq!(scaling.len(), 1, "{label}: {}", queue.key);
            assert_eq!(reader.maximum_concurrency, 2, "SQS's least maximum concurrency");
            assert_eq!(
                attr(scaling[0], "maximum_concurrency"),
                Some(reader.maximum_concurrency.to_string()),
                "{label}: {}",
                queue.key
            );
            mappings += 1;
        }
        if mappings > 0 && !model.dead_letter_readers().is_empty() {
            assert!(
                m.text.contains("the least SQS allows: a burst of dead letters"),
                "{label}: the mapping says why its concurrency is capped"
            );
        }
        // The callback's reserved concurrency is the workers' alone: the dead-letter function takes none, and no
        // plan-time check weighs the one against the other any more.
        let callback = m.one("resource", "aws_lambda_function", "callback").unwrap();
        assert_eq!(
            attr(callback, "reserved_concurrent_executions").as_deref(),
            Some("var.callback_reserved_concurrency"),
            "{label}"
        );
        if let Some(reader) = m.one("resource", "aws_lambda_function", "dead_letters") {
            assert_eq!(attr(reader, "reserved_concurrent_executions"), None, "{label}");
        }
        assert!(!m.text.contains("dead_letter_pollers"), "{label}");
    }
    assert!(mappings >= 3, "expected modules whose callback reads dead letters");
}

/// Whether a CloudWatch Logs JSON filter pattern, in the forms the module writes, matches one JSON log line:
/// `{ TERM }`, a term being `$.FIELD = "VALUE"` or `(TERM)`, terms joined by `&&` or by `||` (never both at
/// one level without parentheses).
fn log_pattern_matches(pattern: &str, line: &serde_json::Value) -> bool {
    let body = pattern
        .strip_prefix("{ ")
        .and_then(|p| p.strip_suffix(" }"))
        .unwrap_or_else(|| panic!("{pattern} is not a JSON filter pattern"));
    let (matched, rest) = pattern_expression(body, line);
    assert!(rest.trim().is_empty(), "{pattern}: left over {rest:?}");
    matched
}

fn pattern_expression<'p>(text: &'p str, line: &serde_json::Value) -> (bool, &'p str) {
    let (mut matched, mut rest) = pattern_term(text, line);
    let mut joined_by: Option<&str> = None;
    loop {
        let next = rest.trim_start();
        let Some(op) = ["&&", "||"].into_iter().find(|op| next.starts_with(op)) else {
            return (matched, rest);
        };
        assert!(
            joined_by.is_none_or(|j| j == op),
            "&& and || at one level, without parentheses: {text}"
        );
        joined_by = Some(op);
        let (term, after) = pattern_term(&next[2..], line);
        matched = if op == "&&" { matched && term } else { matched || term };
        rest = after;
    }
}

fn pattern_term<'p>(text: &'p str, line: &serde_json::Value) -> (bool, &'p str) {
    let text = text.trim_start();
    if let Some(inside) = text.strip_prefix('(') {
        let (matched, rest) = pattern_expression(inside, line);
        let rest = rest
            .trim_start()
            .strip_prefix(')')
            .unwrap_or_else(|| panic!("no closing parenthesis in {text}"));
        return (matched, rest);
    }
    let (field, rest) = text
        .strip_prefix("$.")
        .and_then(|t| t.split_once(" = \""))
        .unwrap_or_else(|| panic!("not a $.FIELD = \"VALUE\" test: {text}"));
    let (value, rest) = rest
        .split_once('"')
        .unwrap_or_else(|| panic!("an unterminated value in {text}"));
    (line.get(field).and_then(serde_json::Value::as_str) == Some(value), rest)
}

/// The words written as `MARKER WORD"` in `source`, in order.
fn quoted_after<'s>(source: &'s str, marker: &str) -> Vec<&'s str> {
    source
        .match_indices(marker)
        .filter_map(|(at, _)| source[at + marker.len()..].split('"').next())
        .collect()
}

/// The `(event, outcome)` pairs of the shipped Lambda's JSON log lines, read from its source: a dead letter's
/// (`settle`), a worker's callback's (`callback`), and an invalid event of either kind (`reject`).
fn lambda_log_outcomes() -> Vec<(String, String)> {
    let read = |file: &str| std::fs::read_to_string(common::root().join(file)).unwrap();
    let (main, dead_letter) = (read("lambda/src/main.rs"), read("lambda/src/dead_letter.rs"));
    let between = |source: &'static str, text: &str, from: &str, to: &str| -> String {
        let start = text.find(from).unwrap_or_else(|| panic!("{source}: no {from}"));
        let end = text[start..].find(to).map_or(text.len(), |n| start + n);
        text[start..end].to_string()
    };
    let settle = between("dead_letter.rs", &dead_letter, "async fn settle(", "#[cfg(test)]");
    assert!(
        settle.contains("\"event\": \"dead_letter\""),
        "settle logs the dead_letter event"
    );
    let mut outcomes: Vec<(String, String)> = Vec::new();
    // `"outcome": "x"` in a json! literal, and `("x", Settled::...)` where a fault picks the outcome.
    let mut settled: Vec<&str> = quoted_after(&settle, "\"outcome\": \"");
    for (at, _) in settle.match_indices("\", Settled::") {
        let word = settle[..at].rsplit('"').next().unwrap();
        settled.push(word);
    }
    settled.sort();
    settled.dedup();
    assert_eq!(
        settled,
        ["dead_lettered", "failed", "token_spent", "unusable"],
        "a new outcome of a dead letter: decide whether the DeadLettersUnsettled filter counts it"
    );
    outcomes.extend(settled.iter().map(|o| ("dead_letter".to_string(), o.to_string())));
    let callback = between("main.rs", &main, "async fn callback(", "#[tokio::main");
    assert!(callback.contains("\"event\": \"callback\""));
    assert!(
        callback.contains("answer::settle("),
        "the callback logs its outcome through answer::settle"
    );
    // The callback's answer and its log line, shared with the endpoint: answer.rs's `settle`.
    let answer = read("lambda/src/answer.rs");
    let settle_answer = between("answer.rs", &answer, "pub async fn settle(", "\n}\n");
    // `"outcome": "x"` in a json! literal, and `=> ("x", ` where a fault picks the outcome.
    let mut answered = quoted_after(&settle_answer, "\"outcome\": \"");
    answered.extend(quoted_after(&settle_answer, "=> (\""));
    answered.sort();
    answered.dedup();
    assert_eq!(
        answered,
        ["answered", "failed", "invalid_token", "token_spent"],
        "a new outcome of a worker's callback: decide which metric counts it"
    );
    outcomes.extend(answered.iter().map(|o| ("callback".to_string(), o.to_string())));
    // An invalid event is logged with the event of the function's mode.
    let modes = between("main.rs", &main, "fn event(self)", "}\n}");
    let events = quoted_after(&modes, "=> \"");
    assert_eq!(
        events,
        ["callback", "dead_letter", "endpoint", "approval_notify", "approval"],
        "{modes}"
    );
    assert!(
        main.contains("reject(mode.event(), "),
        "invalid events are logged with the mode's event"
    );
    // The callback's and the dead-letter function's, which the filters these tests hold count; the endpoint's and
    // the approval functions' outcomes are counted by their own filters (tests/e2e/test_endpoint.py and
    // test_approval.py read the lines those functions write).
    for event in ["callback", "dead_letter"] {
        outcomes.push((event.to_string(), "invalid_event".to_string()));
    }
    outcomes
}

#[test]
fn dead_letters_the_dead_letter_function_could_not_settle_are_counted_and_alarmed() {
    // A mapping keeps a dead-letter queue's messages in flight, so its visible messages say nothing while the
    // function keeps failing to fail tasks: a metric counted from the function's own log lines does.
    let outcomes = lambda_log_outcomes();
    let (mut counted, mut alarmed, mut kept) = (0, 0, 0);
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let m = Module::of(&spec);
        let queues = spec_queues(&spec);
        let reads = queues.iter().any(|q| q.read_for_dead_letters)
            || !spec_bus_dead_letters(&spec).is_empty()
            || !spec_topic_dead_letters(&spec).is_empty();
        let filter = m.one("resource", "aws_cloudwatch_log_metric_filter", "dead_letters_unsettled");
        let alarm = m.one("resource", "aws_cloudwatch_metric_alarm", "dead_letters_unsettled");
        let has_alarms = !m.all("resource", "aws_cloudwatch_metric_alarm").is_empty();
        assert_eq!(
            filter.is_some(),
            reads,
            "{label}: a filter exactly when the dead-letter function reads dead letters"
        );
        assert_eq!(alarm.is_some(), reads && has_alarms, "{label}");
        // The visible-messages alarm stays on the dead-letter queues no one reads.
        for queue in queues.iter().filter(|q| q.dead_letter) {
            let visible = m.one(
                "resource",
                "aws_cloudwatch_metric_alarm",
                &format!("{}_dlq_messages", queue.key),
            );
            assert_eq!(
                visible.is_some(),
                has_alarms && !queue.read_for_dead_letters,
                "{label}: {}",
                queue.key
            );
            kept += usize::from(visible.is_some());
        }
        let Some(filter) = filter else { continue };
        assert_eq!(
            attr(filter, "log_group_name").as_deref(),
            Some("aws_cloudwatch_log_group.dead_letters.name"),
            "{label}: the dead-letter function's lines are in its own log group"
        );
        let metric = inner(filter, "metric_transformation")[0];
        assert_eq!(
            attr(metric, "name").as_deref(),
            Some("\"DeadLettersUnsettled\""),
            "{label}"
        );
        assert_eq!(
            attr(metric, "namespace").as_deref(),
            Some("\"sfngen/${var.name}\""),
            "{label}"
        );
        assert_eq!(attr(metric, "value").as_deref(), Some("\"1\""), "{label}");
        let pattern: String = serde_json::from_str(&attr(filter, "pattern").unwrap()).unwrap();
        for (event, outcome) in &outcomes {
            let line = serde_json::json!({"level": "ERROR", "message": "m", "event": event, "outcome": outcome});
            let unsettled = event == "dead_letter" && (outcome == "failed" || outcome == "unusable");
            assert_eq!(
                log_pattern_matches(&pattern, &line),
                unsettled,
                "{label}: {pattern} on event {event}, outcome {outcome}"
            );
        }
        counted += 1;
        let Some(alarm) = alarm else { continue };
        assert_eq!(
            attr(alarm, "metric_name").as_deref(),
            Some("\"DeadLettersUnsettled\""),
            "{label}"
        );
        assert_eq!(attr(alarm, "namespace"), attr(metric, "namespace"), "{label}");
        assert_eq!(attr(alarm, "statistic").as_deref(), Some("\"Sum\""), "{label}");
        assert_eq!(attr(alarm, "threshold").as_deref(), Some("0"), "{label}");
        assert_eq!(
            attr(alarm, "comparison_operator").as_deref(),
            Some("\"GreaterThanThreshold\""),
            "{label}"
        );
        // The filter's metric has no dimensions: an alarm with one would watch a metric that never comes.
        assert_eq!(attr(alarm, "dimensions"), None, "{label}");
        let description = attr(alarm, "alarm_description").unwrap();
        for (queue, outcome) in queues
            .iter()
            .filter(|q| q.read_for_dead_letters)
            .zip(["failed", "unusable"].iter().cycle())
        {
            assert!(
                description.contains(&format!("\\\"{}\\\"", queue.key)),
                "{label}: {description}"
            );
            assert!(description.contains(outcome), "{label}: {description}");
        }
        alarmed += 1;
    }
    assert!(counted >= 3 && alarmed >= 2 && kept >= 1, "{counted} {alarmed} {kept}");
}

#[test]
fn tokens_step_functions_never_issued_are_counted_and_alarmed_apart_from_spent_ones() {
    // InvalidToken is a worker's bug (it changed or cut the token), not a late answer: its own outcome in the
    // callback's log lines, its own metric, an alarm when [alarms] is on.
    let outcomes = lambda_log_outcomes();
    let mut alarmed = 0;
    for_each_module(|label, m| {
        let filter = m
            .one("resource", "aws_cloudwatch_log_metric_filter", "invalid_tokens")
            .unwrap_or_else(|| panic!("{label}: no invalid-token metric filter"));
        assert_eq!(
            attr(filter, "log_group_name").as_deref(),
            Some("aws_cloudwatch_log_group.callback.name"),
            "{label}"
        );
        let metric = inner(filter, "metric_transformation")[0];
        assert_eq!(attr(metric, "name").as_deref(), Some("\"InvalidTokens\""), "{label}");
        assert_eq!(
            attr(metric, "namespace").as_deref(),
            Some("\"sfngen/${var.name}\""),
            "{label}"
        );
        let pattern: String = serde_json::from_str(&attr(filter, "pattern").unwrap()).unwrap();
        for (event, outcome) in &outcomes {
            let line = serde_json::json!({"level": "ERROR", "message": "m", "event": event, "outcome": outcome});
            assert_eq!(
                log_pattern_matches(&pattern, &line),
                event == "callback" && outcome == "invalid_token",
                "{label}: {pattern} on event {event}, outcome {outcome}"
            );
        }
        let spent: String = serde_json::from_str(
            &attr(
                m.one("resource", "aws_cloudwatch_log_metric_filter", "spent_tokens")
                    .unwrap(),
                "pattern",
            )
            .unwrap(),
        )
        .unwrap();
        let invalid = serde_json::json!({"event": "callback", "outcome": "invalid_token"});
        assert!(!log_pattern_matches(&spent, &invalid), "{label}: not a spent token");
        let has_alarms = !m.all("resource", "aws_cloudwatch_metric_alarm").is_empty();
        let alarm = m.one("resource", "aws_cloudwatch_metric_alarm", "invalid_tokens");
        assert_eq!(alarm.is_some(), has_alarms, "{label}");
        if let Some(alarm) = alarm {
            assert_eq!(
                attr(alarm, "metric_name").as_deref(),
                Some("\"InvalidTokens\""),
                "{label}"
            );
            assert_eq!(attr(alarm, "namespace"), attr(metric, "namespace"), "{label}");
            assert_eq!(attr(alarm, "dimensions"), None, "{label}");
            assert_eq!(attr(alarm, "threshold").as_deref(), Some("0"), "{label}");
            alarmed += 1;
        }
    });
    assert!(alarmed >= 2, "expected modules with [alarms]");
}

#[test]
fn the_dead_letter_function_is_out_of_workers_reach() {
    // What only AWS may trigger is a function no worker may invoke: no worker policy, no resource policy, no
    // other statement names it for lambda:InvokeFunction, and its mode is set by the module, not an event.
    let mut seen = 0;
    for_each_module(|label, m| {
        if m.one("resource", "aws_lambda_function", "dead_letters").is_none() {
            return;
        }
        seen += 1;
        let reader = built_arn(m, "aws_lambda_function", "dead_letters");
        for (name, document) in m.all("data", "aws_iam_policy_document") {
            for (statement, _) in statements(document) {
                let actions = strings(statement, "actions");
                if actions.iter().any(|a| a.starts_with("lambda:")) && !is_operator(name) {
                    assert!(name == "worker" || name.starts_with("worker_"), "{label}: {name}");
                    assert_eq!(
                        strings(statement, "resources"),
                        [built_arn(m, "aws_lambda_function", "callback")],
                        "{label}: {name}"
                    );
                }
                assert!(
                    !strings(statement, "resources").contains(&reader),
                    "{label}: {name} names it"
                );
            }
        }
        // The only function permissions a module writes are a public function URL's (approval page, HMAC
        // endpoint): none names the dead-letter function.
        for permission in m.all("resource", "aws_lambda_permission") {
            let function = attr(permission.1, "function_name").unwrap_or_default();
            assert!(!function.contains("dead_letters"), "{label}: {function}");
        }
    });
    assert!(seen >= 3);
}

#[test]
fn the_package_reads_the_mode_and_bound_the_module_and_its_readme_say() {
    // The module sets FUNCTION_MODE_VARIABLE to each function's mode, and its README states the nesting bound:
    // both are the package's own (lambda/src), read from its source.
    let read = |file: &str| std::fs::read_to_string(common::root().join(file)).unwrap();
    let (main, json) = (read("lambda/src/main.rs"), read("lambda/src/json.rs"));
    assert!(
        main.contains(&format!(
            "pub const MODE_VARIABLE: &str = \"{}\";",
            sfngen::model::FUNCTION_MODE_VARIABLE
        )),
        "the package reads another variable"
    );
    for mode in ["callback", "dead_letters"] {
        assert!(
            main.contains(&format!("Some(\"{mode}\")")),
            "the package has no mode {mode}"
        );
    }
    assert!(
        json.contains(&format!(
            "pub const MAX_DEPTH: usize = {};",
            sfngen::model::MAX_EVENT_NESTING
        )),
        "the README's nesting bound is not the package's"
    );
}

#[test]
fn the_log_pattern_matcher_can_fail() {
    let line = serde_json::json!({"event": "dead_letter", "outcome": "failed"});
    assert!(log_pattern_matches(r#"{ $.outcome = "failed" }"#, &line));
    assert!(!log_pattern_matches(r#"{ $.outcome = "unusable" }"#, &line));
    assert!(log_pattern_matches(
        r#"{ ($.event = "dead_letter") && (($.outcome = "x") || ($.outcome = "failed")) }"#,
        &line
    ));
    assert!(!log_pattern_matches(
        r#"{ ($.event = "callback") && (($.outcome = "x") || ($.outcome = "failed")) }"#,
        &line
    ));
    assert!(!log_pattern_matches(
        r#"{ ($.event = "dead_letter") && ($.outcome = "x") }"#,
        &line
    ));
    assert!(log_pattern_matches(
        r#"{ ($.event = "y") || ($.outcome = "failed") }"#,
        &line
    ));
}

#[test]
fn the_approval_and_endpoint_roles_hold_exactly_their_grants() {
    let (mut approvals, mut endpoints) = (0, 0);
    for_each_module(|label, m| {
        let from = |function: &str| {
            vec![(
                "\"ArnEquals\"".to_string(),
                "\"lambda:SourceFunctionArn\"".to_string(),
                vec![built_arn(m, "aws_lambda_function", function)],
            )]
        };
        if m.one("resource", "aws_dynamodb_table", "approvals").is_some() {
            approvals += 1;
            let table = vec![built_arn(m, "aws_dynamodb_table", "approvals")];
            let notify = owned_statements(m, "approval_notify");
            let sids: Vec<&str> = notify.iter().map(|s| s.0.as_str()).collect();
            for sid in &sids {
                assert!(
                    [
                        "ReadApprovalRequests",
                        "KeepTokens",
                        "SignLinks",
                        "NotifyThroughQueues",
                        "EncryptQueueNotifications",
                        "NotifyThroughTopics",
                        "EncryptTopicNotifications",
                        "WriteOwnLogs",
                        "SendTraces",
                    ]
                    .contains(sid)
                        || sid.starts_with("NotifyThroughBus"),
                    "{label}: the notifier holds {sid}"
                );
            }
            // It keeps tokens (PutItem, nothing else on the table), from inside the function only; it never
            // answers a task.
            let keep = notify.iter().find(|s| s.0 == "KeepTokens").expect("KeepTokens");
            assert_eq!(
                (&keep.1, &keep.2, &keep.3),
                (&vec!["dynamodb:PutItem".to_string()], &table, &from("approval_notify"))
            );
            assert!(
                notify.iter().all(|s| s.1.iter().all(|a| !a.starts_with("states:"))),
                "{label}"
            );
            let page = owned_statements(m, "approval_page");
            let sids: Vec<&str> = page.iter().map(|s| s.0.as_str()).collect();
            for sid in &sids {
                assert!(
                    [
                        "DecideRequests",
                        "VerifyLinks",
                        "AnswerApprovalTasks",
                        "EncryptApprovalAnswers",
                        "WriteOwnLogs",
                        "SendTraces"
                    ]
                    .contains(sid),
                    "{label}: the page holds {sid}"
                );
            }
            // It reads and decides (GetItem, UpdateItem: no PutItem, DeleteItem, Scan or Query), verifies links, and
            // succeeds or fails tasks (no heartbeat), each from inside the function only.
            let decide = page.iter().find(|s| s.0 == "DecideRequests").expect("DecideRequests");
            assert_eq!(
                (&decide.1, &decide.2, &decide.3),
                (
                    &vec!["dynamodb:GetItem".to_string(), "dynamodb:UpdateItem".into()],
                    &table,
                    &from("approval_page")
                )
            );
            let answer = page
                .iter()
                .find(|s| s.0 == "AnswerApprovalTasks")
                .expect("AnswerApprovalTasks");
            assert_eq!(
                answer.1,
                ["states:SendTaskFailure", "states:SendTaskSuccess"],
                "{label}"
            );
            assert_eq!(answer.3, from("approval_page"), "{label}");
            // No other role touches the table or the link key.
            for (name, document) in m.all("data", "aws_iam_policy_document") {
                if ["approval_notify", "approval_page"].contains(&document_owner(name)) {
                    continue;
                }
                let text = hcl::format::to_string(document).unwrap();
                assert!(
                    !text.contains("dynamodb:") && !text.contains("approval_key_arn"),
                    "{label}: {name} names the approvals table or link key"
                );
            }
        } else {
            assert!(m.one("resource", "aws_kms_key", "approval_links").is_none(), "{label}");
        }
        if m.one("resource", "aws_lambda_function", "endpoint").is_some() {
            endpoints += 1;
            let endpoint = owned_statements(m, "endpoint");
            let answer = endpoint
                .iter()
                .find(|s| s.0 == "AnswerCallbackTasks")
                .expect("AnswerCallbackTasks");
            assert_eq!(answer.2, [built_arn(m, "aws_sfn_state_machine", "this")], "{label}");
            assert_eq!(answer.3, from("endpoint"), "{label}");
            let secret = endpoint.iter().find(|s| s.0 == "ReadSigningSecret");
            let url = m
                .one("resource", "aws_lambda_function_url", "endpoint")
                .expect("the endpoint's URL");
            match attr(url, "authorization_type").as_deref() {
                Some("\"AWS_IAM\"") => assert!(secret.is_none(), "{label}: a SigV4 endpoint reads no secret"),
                Some("\"NONE\"") => {
                    let secret = secret.expect("an HMAC endpoint reads its secret");
                    assert_eq!(secret.1, ["secretsmanager:GetSecretValue"], "{label}");
                    let expected = match m.one("resource", "aws_secretsmanager_secret", "endpoint_hmac") {
                        // The created secret's ARN, built: Secrets Manager's six random characters as `??????`.
                        Some(_) => format!(
                            "\"arn:${{local.partition}}:secretsmanager:${{local.region}}:${{local.account_id}}:secret:{}-??????\"",
                            created_name(m, "aws_secretsmanager_secret", "endpoint_hmac")
                        ),
                        None => "var.endpoint_secret_arn".to_string(),
                    };
                    assert_eq!(secret.2, [expected], "{label}");
                    assert_eq!(secret.3, from("endpoint"), "{label}");
                }
                other => panic!("{label}: the endpoint's URL is {other:?}"),
            }
        }
    });
    assert!(
        approvals >= 3 && endpoints >= 3,
        "expected specs with approvals and endpoints"
    );
}
