//! Validation and resolution: [`Spec`] (as written) → [`Model`] (complete and checked).
//!
//! Every rule about values lives here and only here. All problems are collected before returning,
//! so that a user fixes a spec in one pass.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostic::{Diagnostic, did_you_mean, shown};
use crate::duration::{format_seconds, parse_seconds};
use crate::model::{
    Alarms, Architecture, Callback, Catch, CatchTarget, DeadLetter, Encryption, LogGroup, LogLevel, Logging, Model,
    ModuleKey, Queue, Resource, Retry, Role, RoleId, Service, StateMachine, Statement, Step,
};
use crate::spec::{DeadLetterSpec, Located, QueueSpec, Span, Spec, StepSpec};

/// The `errors` list of a retry or catch table, as written.
type ErrorList = Located<Vec<Located<String>>>;

/// CloudWatch Logs' allowed `retentionInDays` values.
pub const LOG_RETENTION_DAYS: &[i64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

const DAY: u64 = 86_400;
/// The longest a Standard execution, or one of its tasks, may run.
const MAX_EXECUTION_SECONDS: u64 = 365 * DAY;
/// SQS `MessageRetentionPeriod` bounds.
const MIN_RETENTION: u64 = 60;
const MAX_RETENTION: u64 = 14 * DAY;
/// SQS `VisibilityTimeout` upper bound.
const MAX_VISIBILITY: u64 = 12 * 3_600;
/// Lambda timeout bounds.
const MAX_LAMBDA_TIMEOUT: u64 = 15 * 60;
/// ASL state names.
const MAX_STATE_NAME_CHARS: usize = 80;
const FORBIDDEN_STATE_NAME_CHARS: &str = "<>{}[]?*\"#%\\^|~`$&,;:/";

/// Resolves a parsed spec. `source_file` is the spec's file name, used in generated headers.
pub fn resolve(spec: &Spec, source_file: &str) -> Result<Model, Vec<Diagnostic>> {
    let mut c = Checker::default();
    let name = c.resource_name("name", spec.name.as_ref());
    let tags = c.tags(spec);
    let state_machine = c.state_machine(spec, &name);
    let queues = c.queues(spec, &name);
    let steps = c.steps(spec, &queues, state_machine.timeout_seconds);
    let callback = c.callback(spec, &name, state_machine.tracing);
    let alarms = spec.alarms.as_ref().map(|a| c.alarms(a));
    let log_encryption = c.log_encryption(spec.log_encryption.as_ref());
    if !c.diags.is_empty() {
        c.diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
        return Err(c.diags);
    }
    let mut state_machine = state_machine;
    let mut callback = callback;
    let mut log_groups = Vec::new();
    if log_encryption {
        if let Some(logging) = state_machine.logging.as_mut() {
            logging.log_group.module_key = true;
            log_groups.push(logging.log_group.name.clone());
        }
        callback.log_group.module_key = true;
        log_groups.push(callback.log_group.name.clone());
    }
    let queues_use_key = queues.iter().any(|q| q.encryption == Encryption::ModuleKey);
    let module_key = (queues_use_key || !log_groups.is_empty()).then(|| ModuleKey {
        alias: format!("alias/{name}"),
        users: if queues_use_key {
            vec![RoleId::StateMachine]
        } else {
            Vec::new()
        },
        log_groups,
    });
    let roles = vec![
        state_machine_role(&name, &state_machine, &queues),
        callback_role(&name, callback.tracing),
    ];
    Ok(Model {
        name,
        source_file: source_file.to_string(),
        tags,
        state_machine,
        steps,
        queues,
        callback,
        module_key,
        roles,
        alarms,
    })
}

/// Guard rails: specs that are valid but probably not what their author meant. Each warning points
/// at the key to change. Call on a spec that [`resolve`] accepted, with its model.
pub fn guard_rails(spec: &Spec, model: &Model) -> Vec<Diagnostic> {
    let mut warnings = Vec::new();
    let execution = model.state_machine.timeout_seconds;
    let spec_steps = spec.steps.as_ref().map(|s| s.value.as_slice()).unwrap_or_default();
    for (index, (written, step)) in spec_steps.iter().zip(&model.steps).enumerate() {
        let path = format!("steps[{index}]");
        let Some(queue) = model.queues.iter().find(|q| q.key == step.queue) else {
            continue;
        };
        match (step.timeout_seconds, written.timeout.as_ref()) {
            (Some(timeout), Some(at)) if timeout > queue.retention_seconds => warnings.push(
                Diagnostic::warning(
                    format!("{path}.timeout"),
                    Some(at.span.clone()),
                    format!(
                        "the step waits up to {} but queue `{}` keeps a message only {}: it can expire before a worker sees it",
                        format_seconds(timeout),
                        queue.key,
                        format_seconds(queue.retention_seconds)
                    ),
                )
                .with_help(format!("raise [queues.{}] retention, or lower this timeout", queue.key)),
            ),
            (Some(timeout), Some(at)) if timeout >= execution => warnings.push(
                Diagnostic::warning(
                    format!("{path}.timeout"),
                    Some(at.span.clone()),
                    format!(
                        "the step timeout {} is not shorter than the execution timeout {}: the execution times out first",
                        format_seconds(timeout),
                        format_seconds(execution)
                    ),
                )
                .with_help("lower this timeout, or raise [state_machine] timeout"),
            ),
            (None, _) if execution > DAY => warnings.push(
                Diagnostic::warning(
                    path.clone(),
                    Some(written.span.clone()),
                    format!(
                        "step {:?} has no timeout: a lost message leaves it waiting as long as the execution, {}",
                        step.name,
                        format_seconds(execution)
                    ),
                )
                .with_help("set `timeout` (and `heartbeat`) on this step"),
            ),
            _ => {}
        }
    }
    for (key, written) in &spec.queues {
        let Some(queue) = model.queues.iter().find(|q| q.key == key.value) else {
            continue;
        };
        if queue.visibility_timeout_seconds < model.callback.timeout_seconds {
            let span = written
                .visibility_timeout
                .as_ref()
                .map(|v| v.span.clone())
                .unwrap_or(key.span.clone());
            warnings.push(
                Diagnostic::warning(
                    format!("queues.{}.visibility_timeout", key.value),
                    Some(span),
                    format!(
                        "visibility timeout {} is shorter than the callback Lambda's timeout {}: a message can reappear while its callback is still running",
                        format_seconds(queue.visibility_timeout_seconds),
                        format_seconds(model.callback.timeout_seconds)
                    ),
                )
                .with_help("raise visibility_timeout above the time a worker needs, callback included"),
            );
        }
    }
    warnings.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
    warnings
}

/// The state machine may send to its queues (and use their keys), deliver its logs and traces.
fn state_machine_role(name: &str, sm: &StateMachine, queues: &[Queue]) -> Role {
    let mut statements = vec![Statement {
        sid: "SendToCallbackQueues".into(),
        actions: vec!["sqs:SendMessage".into()],
        resources: queues.iter().map(|q| Resource::Queue(q.key.clone())).collect(),
        only_from_callback_function: false,
    }];
    let mut keys: Vec<Resource> = Vec::new();
    for queue in queues {
        let key = match &queue.encryption {
            Encryption::SqsManaged => continue,
            Encryption::ModuleKey => Resource::ModuleKey,
            Encryption::KeyArn(arn) => Resource::KeyArn(arn.clone()),
            Encryption::KeyAlias(alias) => Resource::KeyAlias(alias.clone()),
        };
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    if !keys.is_empty() {
        statements.push(Statement {
            sid: "EncryptQueueMessages".into(),
            actions: vec!["kms:Decrypt".into(), "kms:GenerateDataKey".into()],
            resources: keys,
            only_from_callback_function: false,
        });
    }
    if sm.logging.is_some() {
        statements.push(Statement {
            sid: "DeliverExecutionLogs".into(),
            actions: [
                "logs:CreateLogDelivery",
                "logs:DeleteLogDelivery",
                "logs:DescribeLogGroups",
                "logs:DescribeResourcePolicies",
                "logs:GetLogDelivery",
                "logs:ListLogDeliveries",
                "logs:PutResourcePolicy",
                "logs:UpdateLogDelivery",
            ]
            .map(String::from)
            .to_vec(),
            resources: vec![Resource::Any],
            only_from_callback_function: false,
        });
    }
    if sm.tracing {
        statements.push(send_traces());
    }
    Role {
        id: RoleId::StateMachine,
        name: format!("{name}-state-machine"),
        service: Service::StepFunctions,
        statements,
    }
}

/// X-Ray's actions, which AWS lets you grant on `*` only.
fn send_traces() -> Statement {
    Statement {
        sid: "SendTraces".into(),
        actions: [
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
            "xray:PutTelemetryRecords",
            "xray:PutTraceSegments",
        ]
        .map(String::from)
        .to_vec(),
        resources: vec![Resource::Any],
        only_from_callback_function: false,
    }
}

/// The callback may answer tasks of this state machine only, and write its own logs (and traces).
fn callback_role(name: &str, tracing: bool) -> Role {
    let mut role = Role {
        id: RoleId::Callback,
        name: format!("{name}-callback"),
        service: Service::Lambda,
        statements: vec![
            Statement {
                sid: "AnswerCallbackTasks".into(),
                actions: [
                    "states:SendTaskFailure",
                    "states:SendTaskHeartbeat",
                    "states:SendTaskSuccess",
                ]
                .map(String::from)
                .to_vec(),
                resources: vec![Resource::StateMachine],
                only_from_callback_function: true,
            },
            Statement {
                sid: "WriteOwnLogs".into(),
                actions: vec!["logs:CreateLogStream".into(), "logs:PutLogEvents".into()],
                resources: vec![Resource::CallbackLogStreams],
                only_from_callback_function: false,
            },
        ],
    };
    if tracing {
        role.statements.push(send_traces());
    }
    role
}

/// Collects diagnostics while resolving; every method returns a usable value even on error.
#[derive(Default)]
struct Checker {
    diags: Vec<Diagnostic>,
}

impl Checker {
    fn error(&mut self, path: &str, span: std::ops::Range<usize>, message: String, help: String) {
        self.diags
            .push(Diagnostic::error(path, Some(span), message).with_help(help));
    }

    /// `name` and queue keys: `^[a-z][a-z0-9-]{0,31}$`, no trailing `-`.
    fn resource_name(&mut self, path: &str, value: Option<&Located<String>>) -> String {
        let Some(v) = value else {
            self.diags.push(
                Diagnostic::error(path, Some(0..0), format!("missing required key `{path}`"))
                    .with_help(format!("add `{path} = \"my-app\"` at the top of the file")),
            );
            return String::new();
        };
        if let Some(problem) = resource_name_problem(&v.value) {
            self.error(
                path,
                v.span.clone(),
                format!("{} {problem}", shown(&v.value)),
                "use 1-32 characters: a lowercase letter first, then lowercase letters, digits or '-', not ending in '-'"
                    .into(),
            );
        }
        v.value.clone()
    }

    fn tags(&mut self, spec: &Spec) -> BTreeMap<String, String> {
        let mut tags = BTreeMap::new();
        for (key, value) in &spec.tags {
            let path = if resource_name_problem(&key.value).is_none() {
                format!("tags.{}", key.value)
            } else {
                format!("tags.{:?}", key.value)
            };
            if let Some(problem) = tag_problem(&key.value, 128, true) {
                self.error(
                    &path,
                    key.span.clone(),
                    format!("tag key {problem}"),
                    "use 1-128 letters, digits, spaces or _ . : / = + - @, not starting with \"aws:\"".into(),
                );
            }
            if let Some(problem) = tag_problem(&value.value, 256, false) {
                self.error(
                    &path,
                    value.span.clone(),
                    format!("tag value {problem}"),
                    "use up to 256 letters, digits, spaces or _ . : / = + - @".into(),
                );
            }
            tags.insert(key.value.clone(), value.value.clone());
        }
        tags
    }

    fn state_machine(&mut self, spec: &Spec, name: &str) -> StateMachine {
        let sm = &spec.state_machine;
        let timeout_seconds = self.duration(
            "state_machine.timeout",
            sm.timeout.as_ref(),
            1,
            MAX_EXECUTION_SECONDS,
            3_600,
        );
        let level = match sm.log_level.as_ref() {
            None => Some(LogLevel::Error),
            Some(v) => match v.value.as_str() {
                "OFF" => None,
                "ALL" => Some(LogLevel::All),
                "ERROR" => Some(LogLevel::Error),
                "FATAL" => Some(LogLevel::Fatal),
                other => {
                    let near = did_you_mean(&other.to_ascii_uppercase(), ["OFF", "ALL", "ERROR", "FATAL"])
                        .map(|n| format!("did you mean \"{n}\"? "))
                        .unwrap_or_default();
                    self.error(
                        "state_machine.log_level",
                        v.span.clone(),
                        format!("unknown log level {}", shown(other)),
                        format!("{near}use one of \"OFF\", \"ALL\", \"ERROR\", \"FATAL\" (upper case)"),
                    );
                    None
                }
            },
        };
        let retention_days = self.retention_days("state_machine.log_retention_days", sm.log_retention_days.as_ref());
        StateMachine {
            name: name.to_string(),
            timeout_seconds,
            logging: level.map(|level| Logging {
                level,
                include_execution_data: sm.include_execution_data.as_ref().is_some_and(|v| v.value),
                log_group: LogGroup {
                    name: format!("/aws/vendedlogs/states/{name}"),
                    retention_days,
                    module_key: false,
                },
            }),
            tracing: sm.tracing.as_ref().is_some_and(|v| v.value),
        }
    }

    fn queues(&mut self, spec: &Spec, name: &str) -> Vec<Queue> {
        let steps: Vec<&StepSpec> = spec.steps.iter().flat_map(|s| s.value.iter()).collect();
        let used: BTreeSet<&str> = steps
            .iter()
            .filter_map(|s| s.queue.as_ref().map(|q| q.value.as_str()))
            .collect();
        // An unused queue is only worth reporting once every step names a queue that exists:
        // otherwise it is the echo of a typo or a missing key, reported on the step itself.
        let steps_resolve = !steps.is_empty()
            && steps.iter().all(|s| {
                s.queue
                    .as_ref()
                    .is_some_and(|q| spec.queues.iter().any(|(key, _)| key.value == q.value))
            });
        let mut queues: Vec<Queue> = spec
            .queues
            .iter()
            .map(|(key, q)| self.queue(name, key, q, !steps_resolve || used.contains(key.value.as_str())))
            .collect();
        queues.sort_by(|a, b| a.key.cmp(&b.key));
        queues
    }

    fn queue(&mut self, name: &str, key: &Located<String>, q: &QueueSpec, used: bool) -> Queue {
        let path = format!("queues.{}", key.value);
        self.resource_name(&path, Some(key));
        if !used {
            self.error(
                &path,
                key.span.clone(),
                format!("queue `{}` is not used by any step", key.value),
                format!(
                    "set `queue = \"{}\"` on a [[steps]] table, or delete [queues.{}]",
                    key.value, key.value
                ),
            );
        }
        let fifo = q.fifo.as_ref().is_some_and(|v| v.value);
        let suffix = if fifo { ".fifo" } else { "" };
        let visibility_timeout_seconds = self.duration(
            &format!("{path}.visibility_timeout"),
            q.visibility_timeout.as_ref(),
            0,
            MAX_VISIBILITY,
            300,
        );
        let retention_seconds = self.duration(
            &format!("{path}.retention"),
            q.retention.as_ref(),
            MIN_RETENTION,
            MAX_RETENTION,
            4 * DAY,
        );
        let encryption = self.encryption(&format!("{path}.encryption"), q.encryption.as_ref());
        let dead_letter = self
            .dead_letter(&path, q.dead_letter.as_ref())
            .map(|max_receives| DeadLetter {
                name: format!("{name}-{}-dlq{suffix}", key.value),
                max_receives,
                retention_seconds: MAX_RETENTION,
            });
        Queue {
            key: key.value.clone(),
            name: format!("{name}-{}{suffix}", key.value),
            fifo,
            visibility_timeout_seconds,
            retention_seconds,
            encryption,
            dead_letter,
        }
    }

    fn encryption(&mut self, path: &str, value: Option<&Located<String>>) -> Encryption {
        let Some(v) = value else {
            return Encryption::SqsManaged;
        };
        match v.value.as_str() {
            "sqs" => Encryption::SqsManaged,
            "kms" => Encryption::ModuleKey,
            other if is_kms_key_arn(other) => Encryption::KeyArn(other.to_string()),
            other if is_kms_alias(other) => Encryption::KeyAlias(other.to_string()),
            other => {
                self.error(
                    path,
                    v.span.clone(),
                    format!("{} is not a valid encryption setting", shown(other)),
                    "use \"sqs\" (SSE-SQS), \"kms\" (a key this module creates), a key ARN \
                     (arn:aws:kms:REGION:ACCOUNT:key/ID) or an alias (alias/NAME)"
                        .into(),
                );
                Encryption::SqsManaged
            }
        }
    }

    /// `None` when dead-lettering is off; otherwise `max_receives`.
    fn dead_letter(&mut self, path: &str, value: Option<&Located<DeadLetterSpec>>) -> Option<u32> {
        match value.map(|v| &v.value) {
            None | Some(DeadLetterSpec::On { max_receives: None }) => Some(5),
            Some(DeadLetterSpec::Off) => None,
            Some(DeadLetterSpec::On { max_receives: Some(n) }) => {
                if !(1..=1000).contains(&n.value) {
                    self.error(
                        &format!("{path}.dead_letter.max_receives"),
                        n.span.clone(),
                        format!("max_receives {} is out of range", n.value),
                        "use a number from 1 to 1000".into(),
                    );
                }
                Some(n.value.clamp(1, 1000) as u32)
            }
        }
    }

    fn steps(&mut self, spec: &Spec, queues: &[Queue], execution_timeout: u64) -> Vec<Step> {
        let Some(steps) = spec.steps.as_ref() else {
            self.diags.push(
                Diagnostic::error("steps", Some(0..0), "missing required key `steps`")
                    .with_help("add at least one [[steps]] table with `name` and `queue`"),
            );
            return Vec::new();
        };
        if steps.value.is_empty() {
            self.error(
                "steps",
                steps.span.clone(),
                "at least one step is required".into(),
                "add a [[steps]] table with `name` and `queue`".into(),
            );
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        let mut out = Vec::new();
        let names: Vec<Option<&str>> = steps
            .value
            .iter()
            .map(|s| s.name.as_ref().map(|n| n.value.as_str()))
            .collect();
        for (index, step) in steps.value.iter().enumerate() {
            let path = format!("steps[{index}]");
            let mut resolved = self.step(&path, step, queues, execution_timeout);
            resolved.retry = step
                .retry
                .iter()
                .enumerate()
                .map(|(i, r)| self.retrier(&format!("{path}.retry[{i}]"), r))
                .collect();
            self.errors_all_last(
                &path,
                "retry",
                step.retry.iter().map(|r| (r.span.clone(), r.errors.as_ref())).collect(),
            );
            let mut fails = 0;
            for (i, c) in step.catch.iter().enumerate() {
                let catch = self.catcher(
                    &format!("{path}.catch[{i}]"),
                    c,
                    &resolved.name,
                    fails,
                    &names[index + 1..],
                );
                fails += usize::from(matches!(catch.target, CatchTarget::Fail { .. }));
                resolved.catch.push(catch);
            }
            self.errors_all_last(
                &path,
                "catch",
                step.catch.iter().map(|c| (c.span.clone(), c.errors.as_ref())).collect(),
            );
            if let Some(name) = step.name.as_ref()
                && let Some(first) = seen.insert(name.value.as_str(), index)
            {
                self.error(
                    &format!("{path}.name"),
                    name.span.clone(),
                    format!("step name {:?} is already used by steps[{first}]", name.value),
                    "give every step a unique name".into(),
                );
            }
            out.push(resolved);
        }
        for (index, step) in out.iter().enumerate() {
            for (i, catch) in step.catch.iter().enumerate() {
                if let CatchTarget::Fail { state, .. } = &catch.target
                    && out.iter().any(|s| &s.name == state)
                {
                    self.error(
                        &format!("steps[{index}].catch[{i}].fail"),
                        steps.value[index].catch[i].span.clone(),
                        format!("the Fail state this catch creates, {state:?}, has the name of a step"),
                        "rename that step".into(),
                    );
                }
            }
        }
        out
    }

    fn step(&mut self, path: &str, step: &StepSpec, queues: &[Queue], execution_timeout: u64) -> Step {
        let name = match step.name.as_ref() {
            Some(n) => {
                if let Some(problem) = state_name_problem(&n.value) {
                    self.error(
                        &format!("{path}.name"),
                        n.span.clone(),
                        format!("step name {} {problem}", shown(&n.value)),
                        format!(
                            "use 1-{MAX_STATE_NAME_CHARS} characters without control characters or any of {FORBIDDEN_STATE_NAME_CHARS}"
                        ),
                    );
                }
                n.value.clone()
            }
            None => {
                self.missing(path, "name", step.span.clone(), "name = \"SendToSQS\"");
                String::new()
            }
        };
        let queue = match step.queue.as_ref() {
            Some(q) => {
                if !queues.iter().any(|known| known.key == q.value) {
                    let near = did_you_mean(&q.value, queues.iter().map(|k| k.key.as_str()))
                        .map(|n| format!("did you mean \"{n}\"? "))
                        .unwrap_or_default();
                    self.error(
                        &format!("{path}.queue"),
                        q.span.clone(),
                        format!("no queue named {:?}", q.value),
                        format!(
                            "{near}define it as a [queues.{}] table, or use an existing queue key",
                            q.value
                        ),
                    );
                }
                q.value.clone()
            }
            None => {
                self.missing(path, "queue", step.span.clone(), "queue = \"main\"");
                String::new()
            }
        };
        let timeout = step.timeout.as_ref().map(|t| {
            (
                self.duration(&format!("{path}.timeout"), Some(t), 1, MAX_EXECUTION_SECONDS, 1),
                t,
            )
        });
        let heartbeat = step.heartbeat.as_ref().map(|h| {
            (
                self.duration(&format!("{path}.heartbeat"), Some(h), 1, MAX_EXECUTION_SECONDS, 1),
                h,
            )
        });
        if let Some((beat, located)) = heartbeat {
            let hb_path = format!("{path}.heartbeat");
            if let Some((limit, t)) = timeout.filter(|(limit, _)| beat >= *limit) {
                self.error(
                    &hb_path,
                    located.span.clone(),
                    format!(
                        "heartbeat {} must be shorter than the step's timeout {}",
                        located.value, t.value
                    ),
                    format!(
                        "lower `heartbeat` below {}, or raise `timeout` above {}",
                        format_seconds(limit),
                        format_seconds(beat)
                    ),
                );
            } else if beat >= execution_timeout {
                self.error(
                    &hb_path,
                    located.span.clone(),
                    format!(
                        "heartbeat {} must be shorter than the execution timeout {}",
                        located.value,
                        format_seconds(execution_timeout)
                    ),
                    "lower `heartbeat`, or raise [state_machine] `timeout`".into(),
                );
            }
        }
        Step {
            name,
            queue,
            timeout_seconds: timeout.map(|(s, _)| s),
            heartbeat_seconds: heartbeat.map(|(s, _)| s),
            input_path: self.input_path(&format!("{path}.input_path"), step.input_path.as_ref()),
            message_fields: self.message_fields(&format!("{path}.message"), &step.message),
            retry: Vec::new(),
            catch: Vec::new(),
        }
    }

    fn input_path(&mut self, path: &str, value: Option<&Located<String>>) -> String {
        let Some(v) = value else {
            return "$".into();
        };
        if !v.value.starts_with('$') || v.value.chars().any(char::is_control) || v.value.contains(char::is_whitespace) {
            self.error(
                path,
                v.span.clone(),
                format!("{} is not a JSONPath", shown(&v.value)),
                "write a path into the state input such as \"$\" (all of it) or \"$.order\"".into(),
            );
        }
        v.value.clone()
    }

    fn message_fields(
        &mut self,
        path: &str,
        fields: &[(Located<String>, serde_json::Value)],
    ) -> Vec<(String, serde_json::Value)> {
        for (key, _) in fields {
            if key.value == "input" || key.value == "token" {
                self.error(
                    &format!("{path}.{}", key.value),
                    key.span.clone(),
                    format!("`{}` is sfngen's own message field", key.value),
                    "every message carries `input` (the state input) and `token` (the task token); name this field otherwise".into(),
                );
            } else if key.value.ends_with(".$") {
                self.error(
                    &format!("{path}.{}", key.value),
                    key.span.clone(),
                    format!("`{}` ends in \".$\", which Step Functions reads as a path", key.value),
                    "message fields are static values: drop the \".$\" suffix".into(),
                );
            }
        }
        fields.iter().map(|(k, v)| (k.value.clone(), v.clone())).collect()
    }

    fn error_names(&mut self, path: &str, errors: Option<&Located<Vec<Located<String>>>>) -> Vec<String> {
        let Some(errors) = errors else {
            return vec!["States.ALL".into()];
        };
        if errors.value.is_empty() {
            self.error(
                path,
                errors.span.clone(),
                "no error names".into(),
                "list at least one, such as [\"States.Timeout\"], or remove `errors` to match every error".into(),
            );
        }
        for e in &errors.value {
            if e.value.is_empty() || e.value.chars().count() > 256 {
                self.error(
                    path,
                    e.span.clone(),
                    "an error name must have 1 to 256 characters".into(),
                    "fix the name".into(),
                );
            }
        }
        errors.value.iter().map(|e| e.value.clone()).collect()
    }

    /// ASL: "States.ALL" must stand alone, in the last retrier (or catcher) of a state.
    fn errors_all_last(&mut self, path: &str, kind: &str, lists: Vec<(Span, Option<&ErrorList>)>) {
        let count = lists.len();
        for (i, (span, list)) in lists.into_iter().enumerate() {
            let Some(list) = list else {
                if i + 1 < count {
                    self.error(
                        &format!("{path}.{kind}[{i}]"),
                        span,
                        format!("this {kind} has no `errors`, so it matches every error, but it is not the last"),
                        format!("give it `errors`, or move it after the other [[steps.{kind}]] tables"),
                    );
                }
                continue;
            };
            let has_all = list.value.iter().any(|e| e.value == "States.ALL");
            if has_all && (list.value.len() > 1 || i + 1 < count) {
                self.error(
                    &format!("{path}.{kind}[{i}].errors"),
                    list.span.clone(),
                    "\"States.ALL\" must be alone, in the last entry".into(),
                    format!("move it into its own [[steps.{kind}]] table after the others"),
                );
            }
        }
    }

    fn retrier(&mut self, path: &str, r: &crate::spec::RetrySpec) -> Retry {
        let errors = self.error_names(&format!("{path}.errors"), r.errors.as_ref());
        let max_attempts = match r.attempts.as_ref() {
            None => 3,
            Some(a) if (0..=99).contains(&a.value) => a.value as u32,
            Some(a) => {
                self.error(
                    &format!("{path}.attempts"),
                    a.span.clone(),
                    format!("attempts {} is out of range", a.value),
                    "use 0 to 99".into(),
                );
                3
            }
        };
        let interval_seconds = self.duration(
            &format!("{path}.interval"),
            r.interval.as_ref(),
            1,
            MAX_EXECUTION_SECONDS,
            1,
        );
        let backoff_rate_milli = match r.backoff_rate.as_ref() {
            None => 2000,
            Some(b) if (1.0..=100.0).contains(&b.value) => (b.value * 1000.0).round() as u32,
            Some(b) => {
                self.error(
                    &format!("{path}.backoff_rate"),
                    b.span.clone(),
                    format!("backoff_rate {} is out of range", b.value),
                    "use a number from 1.0 (constant interval) to 100.0".into(),
                );
                2000
            }
        };
        let max_delay_seconds = r
            .max_delay
            .as_ref()
            .map(|d| self.duration(&format!("{path}.max_delay"), Some(d), 1, MAX_EXECUTION_SECONDS, 1));
        Retry {
            errors,
            max_attempts,
            interval_seconds,
            backoff_rate_milli,
            max_delay_seconds,
            jitter: r.jitter.as_ref().is_some_and(|j| j.value),
        }
    }

    fn catcher(
        &mut self,
        path: &str,
        c: &crate::spec::CatchSpec,
        step: &str,
        fails_before: usize,
        later: &[Option<&str>],
    ) -> Catch {
        let errors = self.error_names(&format!("{path}.errors"), c.errors.as_ref());
        let target = match (c.next.as_ref(), c.fail.as_ref()) {
            (Some(next), None) => {
                if !later.contains(&Some(next.value.as_str())) {
                    let near = did_you_mean(&next.value, later.iter().flatten().copied())
                        .map(|n| format!("did you mean \"{n}\"? "))
                        .unwrap_or_default();
                    self.error(
                        &format!("{path}.next"),
                        next.span.clone(),
                        format!("{} is not a step after {}", shown(&next.value), shown(step)),
                        format!("{near}a catch may only go forward, to a later step's name, or use `fail = {{ error = \"...\" }}`"),
                    );
                }
                CatchTarget::Step(next.value.clone())
            }
            (None, Some(fail)) => {
                let error = match fail.value.error.as_ref() {
                    Some(e) if (1..=256).contains(&e.value.chars().count()) => e.value.clone(),
                    Some(e) => {
                        self.error(
                            &format!("{path}.fail.error"),
                            e.span.clone(),
                            "the error name must have 1 to 256 characters".into(),
                            "shorten it".into(),
                        );
                        e.value.clone()
                    }
                    None => {
                        self.error(
                            &format!("{path}.fail"),
                            fail.span.clone(),
                            "missing required key `error`".into(),
                            "write `fail = { error = \"OrderFailed\", cause = \"...\" }`".into(),
                        );
                        String::new()
                    }
                };
                let stem: String = step.chars().take(MAX_STATE_NAME_CHARS - 8).collect();
                let state = match fails_before {
                    0 => format!("{stem}Failed"),
                    n => format!("{stem}Failed{}", n + 1),
                };
                CatchTarget::Fail {
                    state,
                    error,
                    cause: fail.value.cause.as_ref().map(|c| c.value.clone()),
                }
            }
            _ => {
                self.error(
                    path,
                    c.span.clone(),
                    "a catch needs exactly one of `next` and `fail`".into(),
                    "write `next = \"LaterStep\"` or `fail = { error = \"...\" }`".into(),
                );
                CatchTarget::Step(String::new())
            }
        };
        Catch { errors, target }
    }

    fn callback(&mut self, spec: &Spec, name: &str, tracing: bool) -> Callback {
        let cb = &spec.callback;
        let memory_mb = match cb.memory_mb.as_ref() {
            None => 128,
            Some(m) if (128..=10_240).contains(&m.value) => m.value as u32,
            Some(m) => {
                self.error(
                    "callback.memory_mb",
                    m.span.clone(),
                    format!("memory_mb {} is out of range", m.value),
                    "use a whole number of MB from 128 to 10240".into(),
                );
                128
            }
        };
        let timeout_seconds = self.duration("callback.timeout", cb.timeout.as_ref(), 1, MAX_LAMBDA_TIMEOUT, 10);
        let architecture = match cb.architecture.as_ref() {
            None => Architecture::Arm64,
            Some(a) => match a.value.as_str() {
                "arm64" => Architecture::Arm64,
                "x86_64" => Architecture::X86_64,
                other => {
                    let near = did_you_mean(other, ["arm64", "x86_64"])
                        .map(|n| format!("did you mean \"{n}\"? "))
                        .unwrap_or_default();
                    self.error(
                        "callback.architecture",
                        a.span.clone(),
                        format!("unknown architecture {}", shown(other)),
                        format!("{near}use \"arm64\" or \"x86_64\""),
                    );
                    Architecture::Arm64
                }
            },
        };
        let reserved_concurrency = cb.reserved_concurrency.as_ref().map(|r| {
            if !(1..=100_000).contains(&r.value) {
                self.error(
                    "callback.reserved_concurrency",
                    r.span.clone(),
                    format!("reserved_concurrency {} is out of range", r.value),
                    "use a number from 1 up to your account's concurrency limit, or remove the key to leave the \
                     function unreserved (0 would stop every callback)"
                        .into(),
                );
            }
            r.value.clamp(1, 100_000) as u32
        });
        let retention_days = self.retention_days("callback.log_retention_days", cb.log_retention_days.as_ref());
        let function_name = format!("{name}-callback");
        Callback {
            log_group: LogGroup {
                name: format!("/aws/lambda/{function_name}"),
                retention_days,
                module_key: false,
            },
            function_name,
            memory_mb,
            timeout_seconds,
            architecture,
            reserved_concurrency,
            tracing,
        }
    }

    /// `[logs] encryption`: true for the module's key.
    fn log_encryption(&mut self, value: Option<&Located<String>>) -> bool {
        match value.map(|v| (v.value.as_str(), v)) {
            None | Some(("cloudwatch", _)) => false,
            Some(("kms", _)) => true,
            Some((other, v)) => {
                self.error(
                    "logs.encryption",
                    v.span.clone(),
                    format!("unknown log encryption {}", shown(other)),
                    "use \"cloudwatch\" (CloudWatch Logs' own encryption) or \"kms\" (the key this module creates)"
                        .into(),
                );
                false
            }
        }
    }

    fn alarms(&mut self, a: &crate::spec::AlarmsSpec) -> Alarms {
        let period_seconds = self.duration("alarms.period", a.period.as_ref(), 60, DAY, 300);
        if !period_seconds.is_multiple_of(60)
            && let Some(p) = a.period.as_ref()
        {
            self.error(
                "alarms.period",
                p.span.clone(),
                format!("{} is not a whole number of minutes", p.value),
                "CloudWatch alarm periods are 60s or a multiple of 60s: use \"1m\", \"5m\"...".into(),
            );
        }
        let evaluation_periods = match a.evaluation_periods.as_ref() {
            None => 1,
            Some(n) if (1..=100).contains(&n.value) => n.value as u32,
            Some(n) => {
                self.error(
                    "alarms.evaluation_periods",
                    n.span.clone(),
                    format!("evaluation_periods {} is out of range", n.value),
                    "use 1 to 100".into(),
                );
                1
            }
        };
        Alarms {
            period_seconds,
            evaluation_periods,
        }
    }

    fn missing(&mut self, path: &str, key: &str, span: std::ops::Range<usize>, example: &str) {
        self.error(
            &format!("{path}.{key}"),
            span,
            format!("missing required key `{key}`"),
            format!("add `{example}` to this table"),
        );
    }

    /// A duration between `min` and `max` seconds; `default` when absent.
    fn duration(&mut self, path: &str, value: Option<&Located<String>>, min: u64, max: u64, default: u64) -> u64 {
        let Some(v) = value else {
            return default;
        };
        let range = format!("{} to {}", format_seconds(min), format_seconds(max));
        match parse_seconds(&v.value) {
            None => {
                self.error(
                    path,
                    v.span.clone(),
                    format!("{} is not a duration", shown(&v.value)),
                    format!(
                        "write a whole number followed by s, m, h or d, such as \"90s\", \"5m\", \"1h\" or \"7d\" (allowed: {range})"
                    ),
                );
                default
            }
            Some(s) if s < min || s > max => {
                self.error(
                    path,
                    v.span.clone(),
                    format!("{} is out of range ({range})", v.value),
                    format!("use a duration from {range}"),
                );
                default
            }
            Some(s) => s,
        }
    }

    fn retention_days(&mut self, path: &str, value: Option<&Located<i64>>) -> u32 {
        match value {
            None => 30,
            Some(v) if LOG_RETENTION_DAYS.contains(&v.value) => v.value as u32,
            Some(v) => {
                let allowed: Vec<String> = LOG_RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
                self.error(
                    path,
                    v.span.clone(),
                    format!("{} is not a retention CloudWatch Logs allows", v.value),
                    format!("use one of {}", allowed.join(", ")),
                );
                30
            }
        }
    }
}

fn resource_name_problem(name: &str) -> Option<&'static str> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Some("is empty"),
        Some(c) if !c.is_ascii_lowercase() => return Some("must start with a lowercase letter"),
        _ => {}
    }
    if name.len() > 32 {
        return Some("is longer than 32 characters");
    }
    if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        return Some("may only hold lowercase letters, digits and '-'");
    }
    if name.ends_with('-') {
        return Some("must not end with '-'");
    }
    None
}

fn state_name_problem(name: &str) -> Option<&'static str> {
    let count = name.chars().count();
    if count == 0 {
        Some("is empty")
    } else if count > MAX_STATE_NAME_CHARS {
        Some("is longer than 80 characters")
    } else if name.chars().any(char::is_control) {
        Some("contains a control character")
    } else if name.chars().any(|c| FORBIDDEN_STATE_NAME_CHARS.contains(c)) {
        Some("contains a character Step Functions does not allow")
    } else {
        None
    }
}

fn tag_problem(text: &str, max: usize, is_key: bool) -> Option<&'static str> {
    let count = text.chars().count();
    if is_key && count == 0 {
        Some("is empty")
    } else if count > max {
        Some("is too long")
    } else if is_key && text.to_ascii_lowercase().starts_with("aws:") {
        Some("uses the reserved prefix \"aws:\"")
    } else if !text.chars().all(|c| c.is_alphanumeric() || " _.:/=+-@".contains(c)) {
        Some("contains a character AWS does not allow in tags")
    } else {
        None
    }
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/ID`.
fn is_kms_key_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts.as_slice() else {
        return false;
    };
    let id = resource.strip_prefix("key/").unwrap_or("");
    *arn == "arn"
        && partition.starts_with("aws")
        && partition.chars().all(|c| c.is_ascii_lowercase() || c == '-')
        && *service == "kms"
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !id.is_empty()
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `alias/NAME`, as KMS allows alias names.
fn is_kms_alias(text: &str) -> bool {
    text.strip_prefix("alias/").is_some_and(|name| {
        !name.is_empty() && text.len() <= 256 && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::parse;

    fn resolve_src(src: &str) -> Result<Model, Vec<Diagnostic>> {
        let (spec, diags) = parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        resolve(&spec, "sfngen.toml")
    }

    const SEED: &str = "name = \"callback-demo\"\n[[steps]]\nname = \"SendToSQS\"\nqueue = \"main\"\n[queues.main]\n";

    #[test]
    fn seed_gets_the_documented_defaults() {
        let m = resolve_src(SEED).unwrap();
        assert_eq!(m.state_machine.timeout_seconds, 3600);
        let logging = m.state_machine.logging.as_ref().unwrap();
        assert_eq!(logging.level, LogLevel::Error);
        assert!(!logging.include_execution_data);
        assert_eq!(logging.log_group.retention_days, 30);
        assert!(!m.state_machine.tracing);
        let q = &m.queues[0];
        assert_eq!((q.visibility_timeout_seconds, q.retention_seconds), (300, 345_600));
        assert_eq!(q.encryption, Encryption::SqsManaged);
        assert_eq!(q.dead_letter.as_ref().unwrap().max_receives, 5);
        assert_eq!(q.name, "callback-demo-main");
        assert_eq!(m.callback.memory_mb, 128);
        assert_eq!(m.callback.timeout_seconds, 10);
        assert_eq!(m.callback.architecture, Architecture::Arm64);
        assert_eq!(m.callback.reserved_concurrency, None);
        assert!(m.module_key.is_none());
    }

    #[test]
    fn longest_names_fit_aws_limits() {
        let n = "a".repeat(32);
        let src = format!("name = \"{n}\"\n[[steps]]\nname = \"S\"\nqueue = \"{n}\"\n[queues.{n}]\nfifo = true\n");
        let m = resolve_src(&src).unwrap();
        assert!(m.queues[0].dead_letter.as_ref().unwrap().name.len() <= 80);
        assert!(m.callback.function_name.len() <= 64);
        assert!(m.roles.iter().all(|r| r.name.len() <= 64));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let src = "name = \"Bad-\"\n[[steps]]\nname = \"A\"\nqueue = \"mian\"\nheartbeat = \"2h\"\n[queues.main]\nretention = \"30d\"\n";
        let errs = resolve_src(src).unwrap_err();
        let paths: Vec<_> = errs.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            ["name", "steps[0].queue", "steps[0].heartbeat", "queues.main.retention"]
        );
    }

    #[test]
    fn kms_arns_and_aliases() {
        assert!(is_kms_key_arn(
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        ));
        assert!(is_kms_key_arn(
            "arn:aws-us-gov:kms:us-gov-west-1:123456789012:key/mrk-1"
        ));
        assert!(!is_kms_key_arn("arn:aws:kms:us-east-1:123456789012:alias/x"));
        assert!(!is_kms_key_arn("arn:aws:sqs:us-east-1:123456789012:key/x"));
        assert!(is_kms_alias("alias/my-key"));
        assert!(!is_kms_alias("alias/"));
        assert!(!is_kms_alias("my-key"));
    }
}
