//! Who may use what: the module's KMS key (and which log groups and roles use it) and the two IAM
//! roles with one statement per concern, every resource scoped where AWS allows it.

use crate::model::{
    AwsName, Callback, Encryption, Feature, ModuleKey, Queue, Resource, Role, RoleId, Service, StateMachine, Statement,
};

/// The customer managed key, when a queue or `[logs] encryption = "kms"` asks for it; marks the log
/// groups it encrypts (the execution log group too when the spec's logging is off: an input may turn it on).
pub(super) fn module_key(
    queues: &[Queue],
    logs_use_key: bool,
    state_machine: &mut StateMachine,
    callback: &mut Callback,
) -> Option<ModuleKey> {
    let mut log_groups = Vec::new();
    if logs_use_key {
        let execution_logs = &mut state_machine.logging.log_group;
        execution_logs.module_key = true;
        log_groups.push(execution_logs.name.clone());
        callback.log_group.module_key = true;
        log_groups.push(callback.log_group.name.clone());
    }
    let queues_use_key = queues.iter().any(|q| q.encryption == Encryption::ModuleKey);
    (queues_use_key || !log_groups.is_empty()).then(|| ModuleKey {
        alias: AwsName::around("alias/", ""),
        users: if queues_use_key {
            vec![RoleId::StateMachine]
        } else {
            Vec::new()
        },
        log_groups,
    })
}

/// The state machine may send to its queues (and use their keys), deliver its logs while logging is on and
/// its traces while tracing is on (the module's inputs decide both).
pub(super) fn state_machine_role(queues: &[Queue]) -> Role {
    let mut statements = vec![allow(
        "SendToCallbackQueues",
        &["sqs:SendMessage"],
        queues.iter().map(|q| Resource::Queue(q.key.clone())).collect(),
    )];
    let keys = queue_keys(queues);
    if !keys.is_empty() {
        statements.push(allow(
            "EncryptQueueMessages",
            &["kms:Decrypt", "kms:GenerateDataKey"],
            keys,
        ));
    }
    // Log delivery is set up through these actions, which AWS lets you grant on `*` only.
    statements.push(Statement {
        only_while: Some(Feature::ExecutionLogging),
        ..allow(
            "DeliverExecutionLogs",
            &[
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
            ],
            vec![Resource::Any],
        )
    });
    statements.push(send_traces());
    Role {
        id: RoleId::StateMachine,
        name: AwsName::suffixed("-state-machine"),
        service: Service::StepFunctions,
        statements,
    }
}

/// The KMS keys of the queues, in queue order: the module's key once, and each queue's own key input.
fn queue_keys(queues: &[Queue]) -> Vec<Resource> {
    let mut keys: Vec<Resource> = Vec::new();
    for queue in queues {
        let key = match &queue.encryption {
            Encryption::SqsManaged => continue,
            Encryption::ModuleKey => Resource::ModuleKey,
            Encryption::KeyArn(_) | Encryption::KeyAlias(_) => Resource::QueueKey(queue.key.clone()),
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// X-Ray's actions, which AWS lets you grant on `*` only, while tracing is on.
fn send_traces() -> Statement {
    Statement {
        only_while: Some(Feature::Tracing),
        ..allow(
            "SendTraces",
            &[
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:PutTelemetryRecords",
                "xray:PutTraceSegments",
            ],
            vec![Resource::Any],
        )
    }
}

/// The callback may answer tasks of this state machine only, and write its own logs (and traces while
/// tracing is on).
pub(super) fn callback_role() -> Role {
    let answer = Statement {
        only_from_callback_function: true,
        ..allow(
            "AnswerCallbackTasks",
            &[
                "states:SendTaskFailure",
                "states:SendTaskHeartbeat",
                "states:SendTaskSuccess",
            ],
            vec![Resource::StateMachine],
        )
    };
    let statements = vec![
        answer,
        allow(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![Resource::CallbackLogStreams],
        ),
        send_traces(),
    ];
    Role {
        id: RoleId::Callback,
        name: AwsName::suffixed("-callback"),
        service: Service::Lambda,
        statements,
    }
}

/// An `Allow` statement usable from anywhere the role's credentials go.
fn allow(sid: &str, actions: &[&str], resources: Vec<Resource>) -> Statement {
    Statement {
        sid: sid.into(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        resources,
        only_from_callback_function: false,
        only_while: None,
    }
}
