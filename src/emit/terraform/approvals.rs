//! `approvals.tf`, with an approval step: the approvals queue the steps' Tasks hand their tokens to (and its
//! dead-letter queue), the DynamoDB table that keeps each token under an opaque id, the HMAC key that signs the links,
//! the mapping that runs the notifier, and the approval page's public function URL.

use super::callback::dead_letter_mapping;
use super::iam::role_arn;
use super::{address, aws_name, deny_insecure_transport, iam_arn, policy, role_permissions};
use crate::duration::format_seconds;
use crate::emit::hcl::{Block, Expr, File, boolean, number, raw, string, strings};
use crate::model::{APPROVAL_HASH_KEY, APPROVAL_TTL_ATTRIBUTE, Approvals, FunctionId, Model, RoleId, UrlAuth, input};

/// How long the approvals dead-letter queue keeps a message: 14 days, the SQS maximum (a dead-lettered message keeps
/// its first enqueue time, so it must outlive the approvals queue's retention).
const DEAD_LETTER_RETENTION_SECONDS: u64 = 14 * 86_400;
/// The notifier's batch: up to 10 requests per invocation, SQS's default.
const NOTIFY_BATCH_SIZE: u64 = 10;
/// The notifier's concurrent invocations from the approvals queue: the least SQS allows.
const NOTIFY_MAXIMUM_CONCURRENCY: u64 = 2;

/// The file, when a step asks for approval.
pub(super) fn file(header: &str, model: &Model) -> Option<File> {
    let approvals = model.approvals.as_ref()?;
    let mut file = File::new(header);
    file.push_commented(
        "The approvals queue: each approval step's Task (sqs:sendMessage.waitForTaskToken) hands its input, its task\n\
         token and how to notify to it; only the notifier reads it. The token stays inside AWS from here on.",
        queue(approvals),
    );
    file.push_commented(
        "The approvals queue refuses every request not made over TLS.",
        tls_only(false),
    );
    file.push_commented(
        "Requests the notifier could not handle after their receives: the dead-letter function fails their tasks at once.",
        dead_letter_queue(approvals),
    );
    file.push_commented(
        "Only the approvals queue may send messages to its dead-letter queue.",
        redrive_allow_policy(),
    );
    file.push_commented(
        "The approvals dead-letter queue refuses every request not made over TLS too.",
        tls_only(true),
    );
    file.push_commented(&table_comment(), table(approvals));
    file.push_commented(
        "The key that signs approval links (HMAC-SHA-256 over the id and the expiry): a link's MAC is what lets it\n\
         decide, so nothing in a link can be changed without the page refusing it.",
        key(model),
    );
    file.push_commented(
        "The key's ARN for the roles' policy documents: Terraform reads a document that refers to a resource with a\n\
         change planned again at apply time, so a change to the key in place (its tags) would show those policies as\n\
         \"(known after apply)\". This copy has no change then (an ARN does not change).",
        address::approval_key_arn()
            .declare()
            .attr("input", address::approval_key().attr("arn")),
    );
    file.push(
        address::approval_key_alias()
            .declare()
            .attr("name", aws_name(&approvals.key_alias))
            .attr("target_key_id", address::approval_key().attr("key_id")),
    );
    file.push_commented(
        "The notifier reads the approvals queue: it keeps each token in the table, signs the link and sends it on the\n\
         step's channel. It names the records it could not handle; SQS hands out only those again.",
        notify_mapping(model),
    );
    if let Some(reader) = model.dead_letter_function() {
        file.push_commented(
            &format!(
                "A request the notifier never handled: the dead-letter function fails its task at once ({}), instead of\n\
                 leaving the execution to the step's timeout.",
                crate::model::DEAD_LETTERED_ERROR
            ),
            dead_letter_mapping(
                model,
                address::approvals_dead_letter_mapping(),
                address::approvals_dead_letter_queue().attr("arn"),
                &approvals.reader,
                reader,
            ),
        );
    }
    push_function_url(
        &mut file,
        "The approval page's URL, which every link points at. NONE: a person opening a link has no AWS credentials;\n\
         the link's KMS MAC is the authorization, checked by the function before it reads anything. GET shows the\n\
         request and changes nothing; POST decides it once. The page's reserved concurrency throttles it.",
        FunctionId::ApprovalPage,
        UrlAuth::None,
    );
    Some(file)
}

/// A function's URL with `auth`, and, for a public (`NONE`) one, the permission without which it answers 403.
pub(super) fn push_function_url(file: &mut File, comment: &str, id: FunctionId, auth: UrlAuth) {
    file.push_commented(comment, function_url(id, auth));
    if auth == UrlAuth::None {
        file.push_commented(
            "Since October 2025 a function URL needs lambda:InvokeFunction besides lambda:InvokeFunctionUrl (which the\n\
             provider adds for a NONE URL as FunctionURLAllowPublicAccess): without this, every request gets 403\n\
             (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). Later hashicorp/aws 6.x releases can hold\n\
             it to URL calls (invoked_via_function_url = true); this module admits 5.100.0, which cannot, so anyone may\n\
             also invoke the function directly. That reaches nothing the URL does not: the function checks the same\n\
             MAC or signature on every event before it reads or changes anything, and its reserved concurrency bounds it.",
            function_url_invoke_permission(id),
        );
    }
}

/// `lambda:InvokeFunction` for everyone on the function behind a public URL.
fn function_url_invoke_permission(id: FunctionId) -> Block {
    address::function_url_invoke_permission(id)
        .declare()
        .checkov_skip(
            "CKV_AWS_301",
            "public by design, as its NONE URL is (Lambda answers such a URL 403 without this statement); the function checks a link's KMS MAC or a webhook's HMAC signature on every event before it reads or changes anything, and its reserved concurrency bounds it.",
        )
        .attr("statement_id", string("FunctionURLAllowInvokeAction"))
        .attr("action", string("lambda:InvokeFunction"))
        .attr("function_name", address::function(id).attr("function_name"))
        .attr("principal", string("*"))
}

fn queue(approvals: &Approvals) -> Block {
    address::approvals_queue()
        .declare()
        .attr("name", aws_name(&approvals.queue))
        .comment(&format!(
            "Six times the functions' timeout, as Lambda advises for an SQS event source ({} by default).",
            format_seconds(approvals.visibility_timeout_seconds)
        ))
        .attr(
            "visibility_timeout_seconds",
            raw(format!("6 * var.{}", input::CALLBACK_TIMEOUT_SECONDS)),
        )
        .attr("message_retention_seconds", number(approvals.retention_seconds))
        .attr("sqs_managed_sse_enabled", boolean(true))
        .blank()
        .attr(
            "redrive_policy",
            Expr::Call(
                "jsonencode".into(),
                vec![Expr::Object(vec![
                    (
                        "deadLetterTargetArn".into(),
                        address::approvals_dead_letter_queue().attr("arn"),
                    ),
                    ("maxReceiveCount".into(), number(u64::from(approvals.max_receives))),
                ])],
            ),
        )
        .blank()
        .attr("tags", raw("local.tags"))
}

fn dead_letter_queue(approvals: &Approvals) -> Block {
    address::approvals_dead_letter_queue()
        .declare()
        .attr("name", aws_name(&approvals.dead_letter))
        .comment("The dead-letter function reads this queue: six times its timeout, as for the approvals queue.")
        .attr(
            "visibility_timeout_seconds",
            raw(format!(
                "{} * var.{}",
                approvals.reader.callback_timeouts,
                input::CALLBACK_TIMEOUT_SECONDS
            )),
        )
        .attr("sqs_managed_sse_enabled", boolean(true))
        .comment("14 days, the SQS maximum: a dead-lettered message keeps its first enqueue time.")
        .attr("message_retention_seconds", number(DEAD_LETTER_RETENTION_SECONDS))
        .blank()
        .attr("tags", raw("local.tags"))
}

fn redrive_allow_policy() -> Block {
    address::approvals_redrive_allow_policy()
        .declare()
        .attr("queue_url", address::approvals_dead_letter_queue().attr("id"))
        .attr(
            "redrive_allow_policy",
            Expr::Call(
                "jsonencode".into(),
                vec![Expr::Object(vec![
                    ("redrivePermission".into(), string("byQueue")),
                    (
                        "sourceQueueArns".into(),
                        Expr::List(vec![address::approvals_queue().attr("arn")]),
                    ),
                ])],
            ),
        )
}

/// The approvals queue's policy (`dead_letter`: its dead-letter queue's): every request not made over TLS is denied.
fn tls_only(dead_letter: bool) -> Block {
    let queue = if dead_letter {
        address::approvals_dead_letter_queue()
    } else {
        address::approvals_queue()
    };
    address::approvals_queue_policy(dead_letter)
        .declare()
        .attr("queue_url", queue.attr("id"))
        .attr(
            "policy",
            policy(vec![deny_insecure_transport("sqs:*", queue.attr("arn"))]),
        )
}

/// Why the table is what it is.
fn table_comment() -> String {
    format!(
        "Waiting approvals, one item per link: the task token under an opaque id (16 random bytes), never in a link.\n\
         TTL on {APPROVAL_TTL_ATTRIBUTE} (the step's timeout): DynamoDB deletes an item some time after it expires, so\n\
         tokens of tasks that timed out do not stay; the page checks the expiry itself, since TTL deletion is not\n\
         immediate. Point-in-time recovery: the table holds the only copy of each waiting token. On-demand capacity:\n\
         approvals are few and bursty."
    )
}

fn table(approvals: &Approvals) -> Block {
    address::approvals_table()
        .declare()
        .checkov_skip(
            "CKV_AWS_119",
            "encrypted at rest with the AWS managed key (aws/dynamodb); its items live no longer than their step's timeout, and only the two approval roles may read or write them.",
        )
        .attr("name", aws_name(&approvals.table))
        .attr("billing_mode", string("PAY_PER_REQUEST"))
        .attr("hash_key", string(APPROVAL_HASH_KEY))
        .blank()
        .block(
            Block::new("attribute", Vec::<String>::new())
                .attr("name", string(APPROVAL_HASH_KEY))
                .attr("type", string("S")),
        )
        .block(
            Block::new("ttl", Vec::<String>::new())
                .attr("attribute_name", string(APPROVAL_TTL_ATTRIBUTE))
                .attr("enabled", boolean(true)),
        )
        .block(Block::new("point_in_time_recovery", Vec::<String>::new()).attr("enabled", boolean(true)))
        .block(Block::new("server_side_encryption", Vec::<String>::new()).attr("enabled", boolean(true)))
        .blank()
        .attr("tags", raw("local.tags"))
}

/// The HMAC key. KMS does not rotate HMAC keys (automatic rotation is for symmetric encryption keys only); checkov's
/// rotation check knows it and does not flag the key.
fn key(model: &Model) -> Block {
    let role = |id: RoleId| raw(format!("\"{}\"", role_arn(model.role(id))));
    let statement = |sid: &str, principal: Expr, actions: &[&str]| {
        Expr::Object(vec![
            ("Sid".into(), string(sid)),
            ("Effect".into(), string("Allow")),
            ("Principal".into(), Expr::Object(vec![("AWS".into(), principal)])),
            ("Action".into(), strings(actions.iter().copied())),
            ("Resource".into(), string("*")),
        ])
    };
    let key_policy = policy(vec![
        statement(
            "AccountAdministers",
            raw(format!("\"{}\"", iam_arn("root"))),
            &["kms:*"],
        ),
        statement("NotifierSignsLinks", role(RoleId::ApprovalNotify), &["kms:GenerateMac"]),
        statement("PageVerifiesLinks", role(RoleId::ApprovalPage), &["kms:VerifyMac"]),
    ]);
    address::approval_key()
        .declare()
        .comment(
            "No enable_key_rotation: KMS rotates symmetric encryption keys only, not HMAC keys (checkov knows it: no skip\n\
             needed). A new key is a new aws_kms_key: every link signed with the old one stops verifying.",
        )
        .attr(
            "description",
            string(&format!("Signs the {} approval links (HMAC).", model.name)),
        )
        .attr("customer_master_key_spec", string("HMAC_256"))
        .attr("key_usage", string("GENERATE_VERIFY_MAC"))
        .attr("deletion_window_in_days", number(30))
        .blank()
        .comment(
            "In a key policy \"*\" means this key. The account statement keeps the key manageable through IAM; the\n\
             notifier may only sign, the page may only verify.",
        )
        .attr("policy", key_policy)
        .attr("tags", raw("local.tags"))
        .blank()
        .comment(
            "KMS refuses a key policy that names a role which does not exist yet: the policy builds the roles' ARNs\n\
             from their names, so this orders the key after them.",
        )
        .attr(
            "depends_on",
            Expr::List(vec![
                address::role(RoleId::ApprovalNotify).reference(),
                address::role(RoleId::ApprovalPage).reference(),
            ]),
        )
}

fn notify_mapping(model: &Model) -> Block {
    address::approvals_mapping()
        .declare()
        .attr("event_source_arn", address::approvals_queue().attr("arn"))
        .attr(
            "function_name",
            address::function(FunctionId::ApprovalNotify).attr("arn"),
        )
        .attr("batch_size", number(NOTIFY_BATCH_SIZE))
        .blank()
        .block(
            Block::new("scaling_config", Vec::<String>::new())
                .comment("The least SQS allows: approvals are few, and the channels' quotas are shared.")
                .attr("maximum_concurrency", number(NOTIFY_MAXIMUM_CONCURRENCY)),
        )
        .blank()
        .attr("function_response_types", strings(["ReportBatchItemFailures"]))
        .blank()
        .attr("tags", raw("local.tags"))
        .blank()
        .comment("Lambda checks that the function's role may read the queue when it creates the mapping.")
        .attr(
            "depends_on",
            Expr::List(role_permissions(model, RoleId::ApprovalNotify)),
        )
}

/// A function's URL, with `auth`.
pub(super) fn function_url(id: FunctionId, auth: UrlAuth) -> Block {
    let mut block = address::function_url(id).declare();
    if auth == UrlAuth::None {
        block = block.checkov_skip(
            "CKV_AWS_258",
            "NONE by design: the function authorizes every request itself (a link's KMS MAC, or the webhook's HMAC signature), before it reads or changes anything.",
        );
    }
    block
        .attr("function_name", address::function(id).attr("function_name"))
        .attr("authorization_type", string(auth.as_str()))
        .attr("invoke_mode", string("BUFFERED"))
}
