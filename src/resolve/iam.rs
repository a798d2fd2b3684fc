//! Who may use what: the module's KMS key (and which log groups and roles use it) and the IAM roles (the
//! state machine's, and one per Lambda function) with one statement per concern, every resource scoped where
//! AWS allows it.

use crate::iam_json::{self, ArnParts};
use crate::limits::{self, Limit};
use crate::model::{
    AwsName, Bus, Condition, CustomerKey, Encryption, Feature, Function, FunctionId, ManagedPolicy, Model, ModuleKey,
    OperatorPolicy, Queue, Resource, Role, RoleId, Service, StateMachine, Statement, Topic, ViaService, WorkerPolicy,
};

/// The customer managed key, when a queue, the state machine or `[logs] encryption = "kms"` asks for it;
/// marks the log groups it encrypts (the execution log group too when the spec's logging is off: an input
/// may turn it on).
pub(super) fn module_key(
    queues: &[Queue],
    topics: &[Topic],
    logs_use_key: bool,
    state_machine: &mut StateMachine,
    functions: &mut [Function],
) -> Option<ModuleKey> {
    let mut log_groups = Vec::new();
    if logs_use_key {
        let execution_logs = &mut state_machine.logging.log_group;
        execution_logs.module_key = true;
        log_groups.push(execution_logs.name.clone());
        for function in functions.iter_mut() {
            function.log_group.module_key = true;
            log_groups.push(function.log_group.name.clone());
        }
    }
    let queues_use_key = queues.iter().any(|q| q.encryption == Encryption::ModuleKey);
    let state_machine_uses_key = state_machine.encryption == Some(CustomerKey::Module);
    let topics: Vec<String> = topics
        .iter()
        .filter(|t| t.encryption == Encryption::ModuleKey)
        .map(|t| t.key.clone())
        .collect();
    (queues_use_key || state_machine_uses_key || !log_groups.is_empty() || !topics.is_empty()).then(|| ModuleKey {
        alias: AwsName::around("alias/", ""),
        queues: queues_use_key,
        topics,
        state_machine: state_machine_uses_key,
        log_groups,
    })
}

/// The state machine may send to its queues (and use their keys through SQS), use its own key for its data
/// and its log deliveries; deliver its logs (at every log level: see below) and its traces while tracing is on
/// (the module's `tracing` input decides).
/// `approvals`: some step is an approval step, whose Task sends to the approvals queue.
pub(super) fn state_machine_role(sm: &StateMachine, queues: &[Queue], approvals: bool) -> Role {
    // IAM refuses a statement without resources: a module whose steps use no queue grants none. The approvals queue
    // is SSE-SQS: no key to grant.
    let mut sent: Vec<Resource> = queues.iter().map(|q| Resource::Queue(q.key.clone())).collect();
    if approvals {
        sent.push(Resource::ApprovalsQueue);
    }
    let mut statements: Vec<Statement> = Vec::new();
    if !sent.is_empty() {
        statements.push(allow("SendToCallbackQueues", &["sqs:SendMessage"], sent));
    }
    let keys = queue_keys(queues);
    if !keys.is_empty() {
        statements.push(Statement {
            conditions: vec![Condition::ViaService(ViaService::Sqs)],
            ..allow("EncryptQueueMessages", &["kms:Decrypt", "kms:GenerateDataKey"], keys)
        });
    }
    if let Some(key) = sm.key_resource() {
        // No kms:ViaService: AWS warns that on an execution role it can keep executions from starting or
        // make them fail. The encryption context binds the grant to this state machine's data instead.
        statements.push(Statement {
            conditions: vec![Condition::StateMachineData],
            ..allow(
                "EncryptExecutionData",
                &["kms:Decrypt", "kms:GenerateDataKey"],
                vec![key.clone()],
            )
        });
        // At every log level, as the log delivery grants below.
        statements.push(Statement {
            conditions: vec![Condition::LogDelivery],
            ..allow("EncryptExecutionLogs", &["kms:GenerateDataKey"], vec![key])
        });
    }
    // Log delivery is set up through these actions, which AWS lets you grant on `*` only ("IAM policies for
    // logging to CloudWatch Logs", https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html). Granted
    // at every log level, `OFF` included: turning logging on then changes the state machine alone. Were the
    // grant added in the same apply, UpdateStateMachine could meet IAM's propagation delay, and the provider
    // retries AccessDenied on CreateStateMachine only (hashicorp/aws internal/service/sfn/state_machine.go).
    statements.push(allow(
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
    ));
    statements.push(send_traces());
    Role {
        id: RoleId::StateMachine,
        name: AwsName::suffixed("-state-machine"),
        service: Service::StepFunctions,
        statements,
        managed_policies: Vec::new(),
    }
}

/// The KMS keys of the queues, in queue order: the module's key once, and each queue's own key input.
pub(super) fn queue_keys<'q>(queues: impl IntoIterator<Item = &'q Queue>) -> Vec<Resource> {
    let mut keys: Vec<Resource> = Vec::new();
    for queue in queues {
        let key = match &queue.encryption {
            Encryption::ServiceManaged => continue,
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
pub(super) fn send_traces() -> Statement {
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

/// The role of a function: the callback's or the dead-letter function's.
pub(super) fn function_role(function: &Function, sm: &StateMachine, queues: &[Queue]) -> Role {
    match function.id {
        FunctionId::Callback => callback_role(sm),
        FunctionId::DeadLetters => dead_letters_role(sm, queues),
        FunctionId::Endpoint | FunctionId::ApprovalNotify | FunctionId::ApprovalPage => {
            panic!("bug: {} has its role from resolve::approvals", function.id.title())
        }
    }
}

/// The callback may answer tasks of this state machine only, and only from inside the function (through Step
/// Functions, with its key when it has one), and write its own logs (and traces while tracing is on). It reads
/// no queue: dead letters are the dead-letter function's.
fn callback_role(sm: &StateMachine) -> Role {
    let answer = Statement {
        only_from: Some(FunctionId::Callback),
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
    let mut statements = vec![answer];
    statements.extend(encrypt_answers(sm, "EncryptTaskAnswers"));
    statements.push(write_own_logs(FunctionId::Callback));
    statements.push(send_traces());
    Role {
        id: RoleId::Callback,
        name: AwsName::suffixed("-callback"),
        service: Service::Lambda,
        statements,
        managed_policies: Vec::new(),
    }
}

/// The dead-letter function may fail tasks of this state machine only (SendTaskFailure: it never succeeds or
/// beats a task), only from inside the function; read the dead-letter queues it fails the tasks of, and their
/// keys; write its own logs (and traces while tracing is on).
fn dead_letters_role(sm: &StateMachine, queues: &[Queue]) -> Role {
    let fail = Statement {
        only_from: Some(FunctionId::DeadLetters),
        ..allow(
            "FailDeadLetteredTasks",
            &["states:SendTaskFailure"],
            vec![Resource::StateMachine],
        )
    };
    let mut statements = vec![fail];
    // Its own sid: the key policy names both roles' grants on the module's key, each statement once.
    statements.extend(encrypt_answers(sm, "EncryptTaskFailures"));
    statements.push(write_own_logs(FunctionId::DeadLetters));
    statements.extend(read_dead_letters(queues));
    statements.push(send_traces());
    Role {
        id: RoleId::DeadLetters,
        name: AwsName::suffixed("-dead-letters"),
        service: Service::Lambda,
        statements,
        managed_policies: Vec::new(),
    }
}

/// Step Functions encrypts a task's answer with the state machine's key, on the caller's behalf: the key's use
/// through Step Functions, for this state machine's data, when it has a customer managed key.
pub(super) fn encrypt_answers(sm: &StateMachine, sid: &str) -> Option<Statement> {
    let key = sm.key_resource()?;
    Some(Statement {
        conditions: vec![
            Condition::ViaService(ViaService::StepFunctions),
            Condition::StateMachineData,
        ],
        ..allow(sid, &["kms:Decrypt", "kms:GenerateDataKey"], vec![key])
    })
}

/// What starts executions needs: StartExecution through the alias only (the state machine's own ARN would start
/// its latest revision, around the version the alias routes to), and, when the state machine has a customer
/// managed key, that key through Step Functions for this state machine's data (the execution's input).
pub(super) fn starter_policy(sm: &StateMachine) -> Vec<Statement> {
    let mut statements = vec![allow(
        "StartExecutionsThroughAlias",
        &["states:StartExecution"],
        vec![Resource::StateMachineAlias],
    )];
    statements.extend(encrypt_answers(sm, "EncryptExecutionInput"));
    statements
}

/// A function's log lines, into its own log group only.
pub(super) fn write_own_logs(function: FunctionId) -> Statement {
    allow(
        "WriteOwnLogs",
        &["logs:CreateLogStream", "logs:PutLogEvents"],
        vec![Resource::LogStreams(function)],
    )
}

/// The dead-letter queues the dead-letter function reads (an event source mapping per queue with
/// `fail_execution`), and their keys. Lambda's poller calls SQS with the function's role, not from inside the
/// function, so these statements cannot carry `lambda:SourceFunctionArn`.
fn read_dead_letters(queues: &[Queue]) -> Vec<Statement> {
    let read: Vec<&Queue> = queues.iter().filter(|q| q.dead_letter_reader().is_some()).collect();
    if read.is_empty() {
        return Vec::new();
    }
    let mut statements = vec![allow(
        "ReadDeadLetters",
        &["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        read.iter().map(|q| Resource::DeadLetterQueue(q.key.clone())).collect(),
    )];
    // A dead-letter queue is encrypted like its source queue.
    statements.extend(decrypt_through_sqs("DecryptDeadLetters", read.iter().copied()));
    statements
}

/// The policy a worker's role needs to take tasks from every queue, then one per queue when there are
/// several: receive, delete and hide messages again, read the queue's attributes, decrypt (through SQS
/// only), invoke the callback (never the dead-letter function).
pub(super) fn worker_policies(queues: &[Queue]) -> Vec<WorkerPolicy> {
    let mut policies = vec![WorkerPolicy {
        queue: None,
        part: None,
        statements: worker_statements(queues.iter()),
    }];
    if queues.len() > 1 {
        policies.extend(queues.iter().map(|q| WorkerPolicy {
            queue: Some(q.key.clone()),
            part: None,
            statements: worker_statements([q]),
        }));
    }
    policies
}

fn worker_statements<'q>(queues: impl IntoIterator<Item = &'q Queue> + Clone) -> Vec<Statement> {
    let taken: Vec<Resource> = queues
        .clone()
        .into_iter()
        .map(|q| Resource::Queue(q.key.clone()))
        .collect();
    // A worker of a topic's subscription or a bus rule's target takes its task from there, not from a queue of the
    // module's: without queues, the policy only lets it answer.
    let mut statements: Vec<Statement> = (!taken.is_empty())
        .then(|| {
            allow(
                "TakeTasks",
                &[
                    "sqs:ChangeMessageVisibility",
                    "sqs:DeleteMessage",
                    "sqs:GetQueueAttributes",
                    "sqs:ReceiveMessage",
                ],
                taken,
            )
        })
        .into_iter()
        .collect();
    statements.extend(decrypt_through_sqs("DecryptTasks", queues));
    statements.push(allow(
        "AnswerTasks",
        &["lambda:InvokeFunction"],
        vec![Resource::Function(FunctionId::Callback)],
    ));
    statements
}

/// The policy an operator's role needs to run the module README's runbook, on this module's resources only:
/// start and list executions of the state machine; describe, read the history of, stop and redrive its
/// executions; read every queue's depth; move dead letters back to their source queue (a message move task reads
/// and deletes on the dead-letter queue and sends to the destination with the caller's permissions, through SQS
/// with the queues' keys); read and pause the dead-letter function's event source mappings. Executions start
/// through the alias only, as the starter's do; with a customer managed key on the state machine, that key
/// through Step Functions for this state machine's data (inputs to encrypt, histories to read).
pub(super) fn operator_policy(sm: &StateMachine, queues: &[Queue]) -> Vec<OperatorPolicy> {
    let mut statements = vec![
        allow(
            "ListExecutions",
            &["states:ListExecutions"],
            vec![Resource::StateMachine, Resource::StateMachineAlias],
        ),
        allow(
            "StartExecutionsThroughAlias",
            &["states:StartExecution"],
            vec![Resource::StateMachineAlias],
        ),
        allow(
            "StopAndRedriveExecutions",
            &[
                "states:DescribeExecution",
                "states:GetExecutionHistory",
                "states:RedriveExecution",
                "states:StopExecution",
            ],
            vec![Resource::Executions],
        ),
    ];
    statements.extend(encrypt_answers(sm, "ExecutionData"));
    // Each queue's ARN once: the policy grows by a few ARNs a queue, and outgrows a managed policy late.
    let (with_dead_letters, without): (Vec<&Queue>, Vec<&Queue>) = queues.iter().partition(|q| q.dead_letter.is_some());
    if !without.is_empty() {
        statements.push(allow(
            "ReadQueueDepths",
            &["sqs:GetQueueAttributes"],
            without.iter().map(|q| Resource::Queue(q.key.clone())).collect(),
        ));
    }
    if !with_dead_letters.is_empty() {
        statements.push(allow(
            "TakeBackDeadLetters",
            &["sqs:GetQueueAttributes", "sqs:SendMessage"],
            with_dead_letters
                .iter()
                .map(|q| Resource::Queue(q.key.clone()))
                .collect(),
        ));
        statements.push(allow(
            "MoveDeadLetters",
            &[
                "sqs:CancelMessageMoveTask",
                "sqs:DeleteMessage",
                "sqs:GetQueueAttributes",
                "sqs:ListMessageMoveTasks",
                "sqs:ReceiveMessage",
                "sqs:StartMessageMoveTask",
            ],
            with_dead_letters
                .iter()
                .map(|q| Resource::DeadLetterQueue(q.key.clone()))
                .collect(),
        ));
        let keys = queue_keys(with_dead_letters.iter().copied());
        if !keys.is_empty() {
            statements.push(Statement {
                conditions: vec![Condition::ViaService(ViaService::Sqs)],
                ..allow(
                    "MoveEncryptedDeadLetters",
                    &["kms:Decrypt", "kms:GenerateDataKey"],
                    keys,
                )
            });
        }
    }
    let mapped: Vec<Resource> = queues
        .iter()
        .filter(|q| q.dead_letter_reader().is_some())
        .map(|q| Resource::DeadLetterMapping(q.key.clone()))
        .collect();
    if !mapped.is_empty() {
        statements.push(allow(
            "PauseFailFast",
            &["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"],
            mapped,
        ));
    }
    vec![OperatorPolicy { part: None, statements }]
}

/// `kms:Decrypt` on the keys of these queues, for messages SQS decrypts for the caller; none when every
/// one uses SSE-SQS.
fn decrypt_through_sqs<'q>(sid: &str, queues: impl IntoIterator<Item = &'q Queue>) -> Option<Statement> {
    let keys = queue_keys(queues);
    (!keys.is_empty()).then(|| Statement {
        conditions: vec![Condition::ViaService(ViaService::Sqs)],
        ..allow(sid, &["kms:Decrypt"], keys)
    })
}

/// The state machine may put events on its buses, each bus's task events only: `events:PutEvents` on the bus's ARN
/// with `events:source` and `events:detail-type` held to the bus's values, so that it cannot pose as another source.
/// One statement per bus, each with its own conditions.
/// `sends`: whether a task goes to that bus (a bus only approval steps notify through is the notifier's to use).
pub(super) fn put_task_events(buses: &[Bus], sends: impl Fn(&Bus) -> bool) -> Vec<Statement> {
    buses
        .iter()
        .enumerate()
        .filter(|(_, bus)| sends(bus))
        .map(|(index, bus)| Statement {
            conditions: vec![Condition::BusEvents(index)],
            ..allow(
                &format!("PutTaskEvents{}", sid_part(&bus.key)),
                &["events:PutEvents"],
                vec![Resource::Bus(bus.key.clone())],
            )
        })
        .collect()
}

/// The buses' dead-letter queues the dead-letter function reads (an event source mapping each), encrypted with SSE-SQS:
/// no key to grant. Lambda's poller uses the role from outside the function, as for the queues' dead-letter queues.
pub(super) fn read_bus_dead_letters(buses: &[Bus]) -> Option<Statement> {
    let read: Vec<Resource> = buses
        .iter()
        .filter(|b| b.dead_letter.is_some())
        .map(|b| Resource::BusDeadLetterQueue(b.key.clone()))
        .collect();
    (!read.is_empty()).then(|| {
        allow(
            "ReadBusDeadLetters",
            &["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            read,
        )
    })
}

/// The approvals dead-letter queue, which the dead-letter function reads (SSE-SQS: no key to grant): a notification
/// that could not be sent fails its task at once.
pub(super) fn read_approval_dead_letters() -> Statement {
    allow(
        "ReadApprovalDeadLetters",
        &["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
        vec![Resource::ApprovalsDeadLetterQueue],
    )
}

/// What the operator's runbook does with the buses' dead letters: pause fail-fast on their mappings, inspect (and
/// delete) the events in their dead-letter queues.
pub(super) fn operate_bus_dead_letters(buses: &[Bus]) -> Vec<Statement> {
    let with: Vec<&Bus> = buses.iter().filter(|b| b.dead_letter.is_some()).collect();
    if with.is_empty() {
        return Vec::new();
    }
    vec![
        allow(
            "InspectBusDeadLetters",
            &["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            with.iter()
                .map(|b| Resource::BusDeadLetterQueue(b.key.clone()))
                .collect(),
        ),
        allow(
            "PauseBusFailFast",
            &["lambda:GetEventSourceMapping", "lambda:UpdateEventSourceMapping"],
            with.iter()
                .map(|b| Resource::BusDeadLetterMapping(b.key.clone()))
                .collect(),
        ),
    ]
}

/// A key as part of a statement id (IAM takes letters and digits there): `order-approvals` → `OrderApprovals`.
pub(super) fn sid_part(key: &str) -> String {
    key.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// An `Allow` statement usable from anywhere the role's credentials go.
pub(super) fn allow(sid: &str, actions: &[&str], resources: Vec<Resource>) -> Statement {
    Statement {
        sid: sid.into(),
        actions: actions.iter().map(|a| a.to_string()).collect(),
        resources,
        only_from: None,
        only_while: None,
        conditions: Vec::new(),
    }
}

/// Grants that do not fit one policy: a role's, or the worker policy for every queue.
pub(super) struct Overflow {
    /// What overflowed, as a message says it.
    pub what: String,
    /// The policies its grants need.
    pub policies: usize,
}

/// Whether a statement names queues one by one (a queue, a dead-letter queue, a queue's key): the grants that
/// grow with the spec, and the ones moved into managed policies when a role's inline policy would outgrow IAM's
/// limit.
fn names_queues(statement: &Statement) -> bool {
    statement.resources.iter().any(|r| {
        matches!(
            r,
            Resource::Queue(_)
                | Resource::DeadLetterQueue(_)
                | Resource::QueueKey(_)
                | Resource::DeadLetterMapping(_)
                | Resource::Bus(_)
                | Resource::BusDeadLetterQueue(_)
                | Resource::BusDeadLetterMapping(_)
                | Resource::Topic(_)
                | Resource::TopicDeadLetterQueue(_)
                | Resource::TopicDeadLetterMapping(_)
                | Resource::TopicKey(_)
        )
    })
}

/// Lays each role's grants out so that every policy fits IAM's limits with the longest names and ARNs the module's
/// inputs and AWS allow: one inline policy while it fits ([`limits::IAM_ROLE_INLINE_POLICIES`]); otherwise the
/// inline policy keeps the statements that name no queue and as many queue grants as fit, and the rest move, in
/// order, into customer managed policies of at most [`limits::IAM_MANAGED_POLICY`] each, with exact ARNs (a
/// `name-*` wildcard would also grant another instance's queues, named `name-eu-...`). The inline policy always
/// keeps a statement that holds whatever the inputs: IAM refuses a policy without one. Returns the roles that
/// would need more managed policies than IAM attaches to a role ([`limits::IAM_MANAGED_POLICIES_PER_ROLE`]).
pub(super) fn fit_role_policies(model: &mut Model) -> Vec<Overflow> {
    let parts = ArnParts::worst();
    let mut overflows = Vec::new();
    for index in 0..model.roles.len() {
        let role = &model.roles[index];
        if limits::IAM_ROLE_INLINE_POLICIES.allows(iam_json::role_policy_chars(model, role, &parts)) {
            continue;
        }
        let (moved, kept): (Vec<Statement>, Vec<Statement>) = role.statements.iter().cloned().partition(names_queues);
        let mut documents = pack(model, kept, &moved, &parts, &limits::IAM_ROLE_INLINE_POLICIES);
        let inline = documents.remove(0);
        let role_name = role.name.clone();
        if documents.len() as u64 > limits::IAM_MANAGED_POLICIES_PER_ROLE.figure {
            overflows.push(Overflow {
                what: format!("the {} role's grants", role_name.after.trim_start_matches('-')),
                policies: documents.len(),
            });
        }
        let role = &mut model.roles[index];
        role.statements = inline;
        role.managed_policies = documents
            .into_iter()
            .enumerate()
            .map(|(i, statements)| ManagedPolicy {
                name: AwsName::around(role_name.before.clone(), format!("{}-{}", role_name.after, i + 1)),
                number: i + 1,
                statements,
            })
            .collect();
    }
    overflows
}

/// Splits the worker policy for every queue into parts of at most [`limits::IAM_MANAGED_POLICY`] each, when one
/// document would be larger (a worker's role attaches it as a managed policy, or inline beside its own): the
/// grant to invoke the callback in the first part, the queues' grants in order after it.
pub(super) fn fit_worker_policy(model: &mut Model) {
    let parts = ArnParts::worst();
    let whole = model.worker_policy()[0];
    if limits::IAM_MANAGED_POLICY.allows(iam_json::document_chars(model, &whole.statements, &parts)) {
        return;
    }
    let (moved, kept): (Vec<Statement>, Vec<Statement>) = whole.statements.iter().cloned().partition(names_queues);
    let split: Vec<WorkerPolicy> = pack(model, kept, &moved, &parts, &limits::IAM_MANAGED_POLICY)
        .into_iter()
        .enumerate()
        .map(|(i, statements)| WorkerPolicy {
            queue: None,
            part: Some(i + 1),
            statements,
        })
        .collect();
    model.worker_policies.retain(|p| p.queue.is_some());
    model.worker_policies.splice(0..0, split);
}

/// Splits the operator policy into parts of at most [`limits::IAM_MANAGED_POLICY`] each, when one document would
/// be larger: the grants on the state machine and its executions in the first part, the queues' after them.
pub(super) fn fit_operator_policy(model: &mut Model) {
    let parts = ArnParts::worst();
    let whole = &model.operator_policies[0];
    if limits::IAM_MANAGED_POLICY.allows(iam_json::document_chars(model, &whole.statements, &parts)) {
        return;
    }
    let (moved, kept): (Vec<Statement>, Vec<Statement>) = whole.statements.iter().cloned().partition(names_queues);
    model.operator_policies = pack(model, kept, &moved, &parts, &limits::IAM_MANAGED_POLICY)
        .into_iter()
        .enumerate()
        .map(|(i, statements)| OperatorPolicy {
            part: Some(i + 1),
            statements,
        })
        .collect();
}

/// `statements`, resource by resource in order, after `first` into a first document of at most `first_limit`,
/// then into as few documents of at most [`limits::IAM_MANAGED_POLICY`] as that order allows. The first document
/// is returned even when empty.
fn pack(
    model: &Model,
    first: Vec<Statement>,
    statements: &[Statement],
    parts: &ArnParts,
    first_limit: &Limit,
) -> Vec<Vec<Statement>> {
    let mut documents = vec![Filling::new(model, first, parts)];
    for statement in statements {
        for resource in &statement.resources {
            let limit = match documents.len() {
                1 => first_limit,
                _ => &limits::IAM_MANAGED_POLICY,
            };
            let current = documents.last_mut().expect("one document at least");
            if !limit.allows(current.chars_with(model, statement, resource, parts)) {
                documents.push(Filling::new(model, Vec::new(), parts));
            }
            let current = documents.last_mut().expect("one document at least");
            current.add(model, statement, resource, parts);
        }
    }
    documents.into_iter().map(|d| d.statements).collect()
}

/// A policy document being filled, and its size as IAM counts it, kept up to date resource by resource: a
/// resource adds its quoted ARN and a comma to a statement that has several, and the brackets too to one that had
/// one; a statement adds itself and a comma. Serializing the document again for every resource would make packing
/// a hundred queues' grants quadratic.
struct Filling {
    statements: Vec<Statement>,
    chars: u64,
}

impl Filling {
    fn new(model: &Model, statements: Vec<Statement>, parts: &ArnParts) -> Self {
        let chars = iam_json::document_chars(model, &statements, parts);
        Filling { statements, chars }
    }

    /// The document's size once `resource` is added to its copy of `statement`.
    fn chars_with(&self, model: &Model, statement: &Statement, resource: &Resource, parts: &ArnParts) -> u64 {
        match self.statements.last() {
            Some(last) if last.sid == statement.sid => {
                let quoted = iam_json::resource_arn(model, resource, parts).chars().count() as u64 + 2;
                match last.resources.len() {
                    // "A" becomes ["A","B"].
                    1 => self.chars + quoted + 3,
                    _ => self.chars + quoted + 1,
                }
            }
            _ => {
                let single = Statement {
                    resources: vec![resource.clone()],
                    ..statement.clone()
                };
                let comma = u64::from(!self.statements.is_empty());
                self.chars + iam_json::statement_chars(model, &single, parts) + comma
            }
        }
    }

    /// Adds `resource` to the copy of `statement` (the last statement when it is that copy, a new copy otherwise).
    fn add(&mut self, model: &Model, statement: &Statement, resource: &Resource, parts: &ArnParts) {
        self.chars = self.chars_with(model, statement, resource, parts);
        match self.statements.last_mut() {
            Some(last) if last.sid == statement.sid => last.resources.push(resource.clone()),
            _ => self.statements.push(Statement {
                resources: vec![resource.clone()],
                ..statement.clone()
            }),
        }
        debug_assert_eq!(
            self.chars,
            iam_json::document_chars(model, &self.statements, parts),
            "bug: the tracked size of a policy document drifted from its JSON"
        );
    }
}
