//! Answers from outside AWS: `[callback] endpoint` (an HTTPS callback endpoint, a Lambda function URL) and
//! `steps[].approval` (a human approval through a link; the task token never leaves AWS). The keys, their guard
//! rails, the functions they add and those functions' roles.

use super::Checker;
use super::iam::{allow, encrypt_answers, send_traces, write_own_logs};
use crate::diagnostic::shown;
use crate::model::{
    Approvals, AwsName, Bus, Callback, Channel, Condition, DeadLetterReader, Endpoint, EndpointAuth, EndpointSecret,
    EnvValue, Function, FunctionId, Invoker, LogMetric, LogMetricId, Queue, Resource, Role, RoleId, Service,
    StateMachine, Statement, Step, Topic, UrlAuth, ViaService,
};
use crate::spec::{Located, Spec, StepSpec, keys};

/// Receives of an approval message before it is dead-lettered (and its task failed by the dead-letter function).
pub const APPROVAL_MAX_RECEIVES: u32 = 5;
/// How long the approvals queue and its dead-letter queue keep a message: four days, SQS's default.
pub const APPROVAL_RETENTION_SECONDS: u64 = 4 * keys::DAY;
/// The approval page's reserved concurrency by default: a public URL is throttled.
pub const APPROVAL_PAGE_RESERVED_CONCURRENCY: u32 = 10;
/// Lambda advises a queue's visibility timeout of at least six times the timeout of the function its event source
/// mapping invokes (<https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html>).
pub const VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT: u64 = 6;

impl Checker {
    /// `[callback] endpoint` and the keys that go with it; `None` when it is unset. A key that only applies to a
    /// mode the spec does not use is an error at that key.
    pub(super) fn endpoint(&mut self, spec: &Spec) -> Option<Endpoint> {
        let cb = &spec.callback;
        let table = "callback";
        let mode = cb.endpoint.as_ref().and_then(|v| self.endpoint_mode(v));
        let replay_window_seconds =
            self.duration(&keys::ENDPOINT_REPLAY_WINDOW, table, cb.endpoint_replay_window.as_ref());
        let reserved_concurrency = self.integer(
            &keys::ENDPOINT_RESERVED_CONCURRENCY,
            table,
            cb.endpoint_reserved_concurrency.as_ref(),
        );
        // Checked as an ARN only where it applies (elsewhere the one error is that it does not).
        let secret = match mode {
            Some("hmac") => cb.endpoint_secret.as_ref().map(|s| self.secret_arn(s)),
            _ => None,
        };
        let hmac_only = |c: &mut Checker, name: &str, span: Option<&crate::spec::Span>| {
            if let Some(span) = span {
                c.error(
                    &format!("{table}.{name}"),
                    span.clone(),
                    format!("`{name}` applies to an HMAC endpoint only"),
                    "set `endpoint = \"hmac\"` in [callback], or remove the key".into(),
                );
            }
        };
        let secret_span = cb.endpoint_secret.as_ref().map(|s| &s.span);
        let window_span = cb.endpoint_replay_window.as_ref().map(|s| &s.span);
        // A mode that could not be read was reported: nothing more is said of the keys that depend on it.
        let mode_unread = (cb.endpoint.is_some() && mode.is_none()) || self.failed(keys::ENDPOINT.path);
        if mode != Some("hmac") && !mode_unread {
            hmac_only(self, keys::ENDPOINT_SECRET.name(), secret_span);
            hmac_only(self, keys::ENDPOINT_REPLAY_WINDOW.name(), window_span);
        }
        if cb.endpoint.is_none()
            && !mode_unread
            && let Some(r) = cb.endpoint_reserved_concurrency.as_ref()
        {
            self.error(
                keys::ENDPOINT_RESERVED_CONCURRENCY.path,
                r.span.clone(),
                "`endpoint_reserved_concurrency` applies to an endpoint only".into(),
                "set `endpoint = \"iam\"` (or \"hmac\") in [callback], or remove the key".into(),
            );
        }
        let auth = match mode? {
            "iam" => EndpointAuth::Iam,
            _ => EndpointAuth::Hmac {
                secret: secret
                    .flatten()
                    .map(EndpointSecret::Given)
                    .unwrap_or_else(|| EndpointSecret::Created(AwsName::suffixed("-endpoint-hmac"))),
                replay_window_seconds,
            },
        };
        Some(Endpoint {
            auth,
            reserved_concurrency,
        })
    }

    /// `iam` or `hmac`; `None` (reported) for anything else.
    fn endpoint_mode(&mut self, value: &Located<String>) -> Option<&'static str> {
        if let Some((known, _)) = keys::ENDPOINT_AUTHS.iter().find(|(v, _)| *v == value.value) {
            return Some(known);
        }
        let values = keys::ENDPOINT_AUTHS.map(|(v, _)| v);
        self.error(
            keys::ENDPOINT.path,
            value.span.clone(),
            format!("unknown endpoint authentication {}", shown(&value.value)),
            format!(
                "{}use \"iam\" (SigV4, callers sign with their AWS credentials) or \"hmac\" (a signed webhook)",
                super::values::did_you_mean_prefix(&value.value.to_ascii_lowercase(), values)
            ),
        );
        None
    }

    /// A Secrets Manager secret ARN; `None` (reported) for anything else.
    fn secret_arn(&mut self, value: &Located<String>) -> Option<String> {
        if is_secret_arn(&value.value) {
            return Some(value.value.clone());
        }
        self.error(
            keys::ENDPOINT_SECRET.path,
            value.span.clone(),
            format!("{} is not a Secrets Manager secret ARN", shown(&value.value)),
            format!(
                "use the secret's ARN, {} (any partition: aws, aws-cn, aws-us-gov...), or remove the key to let the \
                 module create one",
                keys::SECRET_ARN_FORM
            ),
        );
        None
    }

    /// `steps[N].approval`: true only with a `timeout` (the link expires with the task) and without a `heartbeat`
    /// (nobody heartbeats an approval). Each mistake is one error at `steps[N].approval`.
    pub(super) fn approval(&mut self, path: &str, step: &StepSpec) -> bool {
        let Some(approval) = step.approval.as_ref().filter(|a| a.value) else {
            return false;
        };
        let at = format!("{path}.approval");
        if step.timeout.is_none() && !self.failed(&format!("{path}.timeout")) {
            self.error(
                &at,
                approval.span.clone(),
                "an approval step needs a `timeout`: its links expire when its task times out".into(),
                format!("add {path}.timeout, e.g. \"3d\" (at most 365d)"),
            );
        }
        if step.heartbeat.is_some() {
            self.error(
                &at,
                approval.span.clone(),
                "an approval step cannot have a `heartbeat`: nobody heartbeats an approval, so the task would time out \
                 after the heartbeat"
                    .into(),
                format!("remove {path}.heartbeat (the step's `timeout` is how long people have to decide)"),
            );
        }
        true
    }
}

/// `arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME`: what [`keys::SECRET_ARN_PATTERN`] matches.
pub fn is_secret_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(7, ':').collect();
    let [arn, partition, service, region, account, kind, name] = parts.as_slice() else {
        return false;
    };
    *arn == "arn"
        && partition.starts_with("aws")
        && partition.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && *service == "secretsmanager"
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && *kind == "secret"
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
}

/// The approval machinery, when a step asks for approval.
pub(super) fn approvals(steps: &[Step], callback: &Callback, reader: DeadLetterReader) -> Option<Approvals> {
    steps.iter().any(|s| s.approval).then(|| Approvals {
        queue: AwsName::suffixed("-approvals"),
        dead_letter: AwsName::suffixed("-approvals-dlq"),
        max_receives: APPROVAL_MAX_RECEIVES,
        visibility_timeout_seconds: VISIBILITY_TIMEOUTS_PER_FUNCTION_TIMEOUT * callback.timeout_seconds,
        retention_seconds: APPROVAL_RETENTION_SECONDS,
        table: AwsName::suffixed("-approvals"),
        key_alias: AwsName::around("alias/", "-approval-links"),
        reader,
        page_reserved_concurrency: APPROVAL_PAGE_RESERVED_CONCURRENCY,
    })
}

/// The log lines the endpoint, the notifier and the page write (`event`), and the outcomes the module counts.
pub mod log {
    /// The endpoint's `event`.
    pub const ENDPOINT_EVENT: &str = "endpoint";
    /// The notifier's `event`.
    pub const NOTIFY_EVENT: &str = "approval_notify";
    /// The page's `event`.
    pub const PAGE_EVENT: &str = "approval";
    /// A request the endpoint refused for its signature or caller (401, 403).
    pub const UNAUTHORIZED: &str = "unauthorized";
    /// A notification that could not be sent, or a message that was no approval message.
    pub const NOTIFY_FAILED: [&str; 2] = ["failed", "unusable"];
    /// A decision that failed for a fault (DynamoDB, KMS, Step Functions).
    pub const DECISION_FAILED: &str = "failed";
    /// A link opened after it expired.
    pub const EXPIRED: &str = "expired";
    /// A link whose MAC does not verify: tampered.
    pub const INVALID: &str = "invalid";
}

/// A metric of `id` counting the log lines with `event` and one of `outcomes`, its filter `{name}{suffix}`.
fn outcome_metric(id: LogMetricId, suffix: &str, metric: &'static str, event: &str, outcomes: &[&str]) -> LogMetric {
    LogMetric {
        id,
        filter_name: AwsName::suffixed(suffix),
        metric,
        fields: vec![
            ("event", vec![event.to_string()]),
            ("outcome", outcomes.iter().map(ToString::to_string).collect()),
        ],
    }
}

/// The functions the endpoint and the approvals add, each with its own role, log group and metrics.
pub(super) fn functions(
    endpoint: Option<&Endpoint>,
    approvals: Option<&Approvals>,
    callback: &Callback,
) -> Vec<Function> {
    let mut functions = Vec::new();
    if let Some(endpoint) = endpoint {
        let mut environment = vec![(
            "SFNGEN_ENDPOINT_AUTH",
            EnvValue::Text(endpoint.auth.as_str().to_string()),
        )];
        if let EndpointAuth::Hmac {
            replay_window_seconds, ..
        } = &endpoint.auth
        {
            environment.push(("SFNGEN_HMAC_SECRET_ARN", EnvValue::EndpointSecretArn));
            environment.push((
                "SFNGEN_HMAC_REPLAY_WINDOW_SECONDS",
                EnvValue::Text(replay_window_seconds.to_string()),
            ));
        }
        let mut function = super::callback::function(
            FunctionId::Endpoint,
            "-endpoint",
            Invoker::FunctionUrl(endpoint.auth.url_auth()),
            callback,
            super::callback::token_metrics("-endpoint"),
        );
        function.log_metrics.push(outcome_metric(
            LogMetricId::EndpointUnauthorized,
            "-endpoint-unauthorized",
            crate::model::ENDPOINT_UNAUTHORIZED_METRIC,
            log::ENDPOINT_EVENT,
            &[log::UNAUTHORIZED],
        ));
        function.environment = environment;
        functions.push(function);
    }
    if approvals.is_some() {
        let mut notify = super::callback::function(
            FunctionId::ApprovalNotify,
            "-approval-notify",
            Invoker::ApprovalsMapping,
            callback,
            vec![outcome_metric(
                LogMetricId::ApprovalNotificationsFailed,
                "-approval-notifications-failed",
                crate::model::APPROVAL_NOTIFICATIONS_FAILED_METRIC,
                log::NOTIFY_EVENT,
                &log::NOTIFY_FAILED,
            )],
        );
        notify.environment = vec![
            ("SFNGEN_APPROVAL_TABLE", EnvValue::ApprovalTable),
            ("SFNGEN_APPROVAL_KEY_ID", EnvValue::ApprovalKey),
            ("SFNGEN_APPROVAL_PAGE_URL", EnvValue::ApprovalPageUrl),
        ];
        let mut page = super::callback::function(
            FunctionId::ApprovalPage,
            "-approval-page",
            Invoker::FunctionUrl(UrlAuth::None),
            callback,
            vec![
                outcome_metric(
                    LogMetricId::ApprovalDecisionsFailed,
                    "-approval-decisions-failed",
                    crate::model::APPROVAL_DECISIONS_FAILED_METRIC,
                    log::PAGE_EVENT,
                    &[log::DECISION_FAILED],
                ),
                outcome_metric(
                    LogMetricId::ApprovalsExpired,
                    "-approvals-expired",
                    crate::model::APPROVALS_EXPIRED_METRIC,
                    log::PAGE_EVENT,
                    &[log::EXPIRED],
                ),
                outcome_metric(
                    LogMetricId::ApprovalLinksInvalid,
                    "-approval-links-invalid",
                    crate::model::APPROVAL_LINKS_INVALID_METRIC,
                    log::PAGE_EVENT,
                    &[log::INVALID],
                ),
            ],
        );
        page.environment = vec![
            ("SFNGEN_APPROVAL_TABLE", EnvValue::ApprovalTable),
            ("SFNGEN_APPROVAL_KEY_ID", EnvValue::ApprovalKey),
        ];
        functions.push(notify);
        functions.push(page);
    }
    functions
}

/// The channels approval steps notify through (each once, in step order), and whether only approval steps use them.
pub(super) fn notified_channels(steps: &[Step]) -> Vec<&Channel> {
    let mut channels: Vec<&Channel> = Vec::new();
    for step in steps.iter().filter(|s| s.approval) {
        if !channels.contains(&&step.channel) {
            channels.push(&step.channel);
        }
    }
    channels
}

/// Whether a step that is no approval step sends its task to `channel`: the state machine needs that grant.
pub(super) fn tasks_sent_to(steps: &[Step], channel: &Channel) -> bool {
    steps.iter().any(|s| !s.approval && &s.channel == channel)
}

/// The endpoint may answer tasks of this state machine only, from inside the function; read its HMAC secret.
pub(super) fn endpoint_role(sm: &StateMachine, endpoint: &Endpoint) -> Role {
    let mut statements = vec![Statement {
        only_from: Some(FunctionId::Endpoint),
        ..allow(
            "AnswerCallbackTasks",
            &[
                "states:SendTaskFailure",
                "states:SendTaskHeartbeat",
                "states:SendTaskSuccess",
            ],
            vec![Resource::StateMachine],
        )
    }];
    statements.extend(encrypt_answers(sm, "EncryptEndpointAnswers"));
    if matches!(endpoint.auth, EndpointAuth::Hmac { .. }) {
        statements.push(Statement {
            only_from: Some(FunctionId::Endpoint),
            ..allow(
                "ReadSigningSecret",
                &["secretsmanager:GetSecretValue"],
                vec![Resource::EndpointSecret],
            )
        });
    }
    statements.push(write_own_logs(FunctionId::Endpoint));
    statements.push(send_traces());
    role(RoleId::Endpoint, "-endpoint", statements)
}

/// The notifier reads the approvals queue (Lambda's poller, with the role: no `lambda:SourceFunctionArn`), keeps
/// each token in the table (PutItem only), signs links with the key (GenerateMac only) and sends each notification
/// on the approval steps' channels only.
pub(super) fn notify_role(steps: &[Step], queues: &[Queue], topics: &[Topic], buses: &[Bus]) -> Role {
    let mut statements = vec![
        allow(
            "ReadApprovalRequests",
            &[
                "sqs:ChangeMessageVisibility",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage",
            ],
            vec![Resource::ApprovalsQueue],
        ),
        Statement {
            only_from: Some(FunctionId::ApprovalNotify),
            ..allow("KeepTokens", &["dynamodb:PutItem"], vec![Resource::ApprovalTable])
        },
        Statement {
            only_from: Some(FunctionId::ApprovalNotify),
            ..allow("SignLinks", &["kms:GenerateMac"], vec![Resource::ApprovalKey])
        },
    ];
    let channels = notified_channels(steps);
    let notified_queues: Vec<&Queue> = queues
        .iter()
        .filter(|q| channels.contains(&&Channel::Queue(q.key.clone())))
        .collect();
    if !notified_queues.is_empty() {
        statements.push(Statement {
            only_from: Some(FunctionId::ApprovalNotify),
            ..allow(
                "NotifyThroughQueues",
                &["sqs:SendMessage"],
                notified_queues.iter().map(|q| Resource::Queue(q.key.clone())).collect(),
            )
        });
        let keys = super::iam::queue_keys(notified_queues.iter().copied());
        if !keys.is_empty() {
            statements.push(Statement {
                conditions: vec![Condition::ViaService(ViaService::Sqs)],
                ..allow(
                    "EncryptQueueNotifications",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    keys,
                )
            });
        }
    }
    let notified_topics: Vec<Topic> = topics
        .iter()
        .filter(|t| channels.contains(&&Channel::Topic(t.key.clone())))
        .cloned()
        .collect();
    if !notified_topics.is_empty() {
        // The publish from inside the function only; its key's use through SNS (kms:ViaService), as the state
        // machine's.
        statements.extend(
            super::topics::publish(&notified_topics)
                .into_iter()
                .map(|s| match s.sid.as_str() {
                    "PublishToTopics" => Statement {
                        sid: "NotifyThroughTopics".into(),
                        only_from: Some(FunctionId::ApprovalNotify),
                        ..s
                    },
                    _ => Statement {
                        sid: "EncryptTopicNotifications".into(),
                        ..s
                    },
                }),
        );
    }
    for (index, bus) in buses.iter().enumerate() {
        if channels.contains(&&Channel::Bus(bus.key.clone())) {
            statements.push(Statement {
                only_from: Some(FunctionId::ApprovalNotify),
                conditions: vec![Condition::BusEvents(index)],
                ..allow(
                    &format!("NotifyThroughBus{}", super::iam::sid_part(&bus.key)),
                    &["events:PutEvents"],
                    vec![Resource::Bus(bus.key.clone())],
                )
            });
        }
    }
    statements.push(write_own_logs(FunctionId::ApprovalNotify));
    statements.push(send_traces());
    role(RoleId::ApprovalNotify, "-approval-notify", statements)
}

/// The page reads a request and decides it once (GetItem, UpdateItem), verifies links (VerifyMac only) and answers
/// the task (SendTaskSuccess or SendTaskFailure, never a heartbeat), each only from inside the function.
pub(super) fn page_role(sm: &StateMachine) -> Role {
    let from_page = |s: Statement| Statement {
        only_from: Some(FunctionId::ApprovalPage),
        ..s
    };
    let mut statements = vec![
        from_page(allow(
            "DecideRequests",
            &["dynamodb:GetItem", "dynamodb:UpdateItem"],
            vec![Resource::ApprovalTable],
        )),
        from_page(allow("VerifyLinks", &["kms:VerifyMac"], vec![Resource::ApprovalKey])),
        from_page(allow(
            "AnswerApprovalTasks",
            &["states:SendTaskFailure", "states:SendTaskSuccess"],
            vec![Resource::StateMachine],
        )),
    ];
    statements.extend(encrypt_answers(sm, "EncryptApprovalAnswers"));
    statements.push(write_own_logs(FunctionId::ApprovalPage));
    statements.push(send_traces());
    role(RoleId::ApprovalPage, "-approval-page", statements)
}

fn role(id: RoleId, suffix: &str, statements: Vec<Statement>) -> Role {
    Role {
        id,
        name: AwsName::suffixed(suffix),
        service: Service::Lambda,
        statements,
        managed_policies: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_arns_in_every_partition() {
        assert!(is_secret_arn(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hooks/hmac-AbCdEf"
        ));
        assert!(is_secret_arn(
            "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x-AbCdEf"
        ));
        assert!(is_secret_arn(
            "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:x"
        ));
        assert!(!is_secret_arn("arn:aws:kms:eu-west-1:123456789012:secret:x"));
        assert!(!is_secret_arn("arn:aws:secretsmanager:eu-west-1:12345678901:secret:x"));
        assert!(!is_secret_arn("arn:aws:secretsmanager:eu-west-1:123456789012:key:x"));
        assert!(!is_secret_arn("arn:gcp:secretsmanager:eu-west-1:123456789012:secret:x"));
        assert!(!is_secret_arn("hooks/hmac"));
    }
}
