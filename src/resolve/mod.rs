//! Validation and resolution: [`Spec`] (as written) → [`Model`] (complete and checked).
//!
//! Every rule about values lives here and only here, one file per concern; defaults and ranges come
//! from the key registry ([`crate::spec::keys`]). All problems are collected before returning, so that
//! a user fixes a spec in one pass.

mod alarms;
mod approvals;
mod callback;
mod channels;
mod fan_out;
mod guard_rails;
mod iam;
mod json_path;
mod limits;
mod names;
mod queues;
mod retry_catch;
mod state_machine;
mod steps;
mod topics;
mod values;

pub use approvals::{is_secret_arn, log as approval_log};
pub use guard_rails::guard_rails;
pub use limits::{
    EVENTS_PER_ATTEMPT, EVENTS_PER_EXECUTION, EVENTS_PER_ITERATION, EVENTS_PER_MAP, EVENTS_PER_STATE, input_rooms,
    step_events, worst_channel_address,
};

use std::collections::BTreeSet;

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Model, RoleId};
use crate::spec::{Span, Spec, keys};

/// Resolves a parsed spec. `source_file` is the spec's file name, used in generated headers.
pub fn resolve(spec: &Spec, source_file: &str) -> Result<Model, Vec<Diagnostic>> {
    let mut c = Checker {
        rejected: spec.rejected.clone(),
        ..Checker::default()
    };
    let name = c.resource_name(keys::NAME.path, spec.name.as_ref());
    let tags = c.tags(spec);
    let mut state_machine = c.state_machine(spec);
    let callback = c.callback(spec);
    let queues = c.queues(spec, callback.timeout_seconds);
    let topics = c.topics(spec, callback.timeout_seconds);
    let buses = c.buses(spec, &name, callback.timeout_seconds);
    let endpoint = c.endpoint(spec);
    let steps = c.steps(spec, state_machine.timeout_seconds);
    let approvals = approvals::approvals(&steps, &callback, queues::dead_letter_reader(callback.timeout_seconds));
    let channel_dead_letters = topics.iter().any(|t| t.dead_letter.is_some())
        || buses.iter().any(|b| b.dead_letter.is_some())
        || approvals.is_some();
    let mut functions = callback::functions(&callback, &queues, channel_dead_letters);
    functions.extend(approvals::functions(endpoint.as_ref(), approvals.as_ref(), &callback));
    let alarms = spec.alarms.as_ref().map(|a| c.alarms(a));
    let logs_use_module_key = c.choice(&keys::LOG_ENCRYPTION, "logs", spec.log_encryption.as_ref()) == "kms";
    c.finish()?;
    let module_key = iam::module_key(
        &queues,
        &topics,
        logs_use_module_key,
        &mut state_machine,
        &mut functions,
    );
    let roles = roles(
        &steps,
        &state_machine,
        (&queues, &topics, &buses),
        &functions,
        (endpoint.as_ref(), approvals.as_ref()),
    );
    let worker_policies = iam::worker_policies(&queues);
    let mut operator_policies = iam::operator_policy(&state_machine, &queues);
    operator_policies[0]
        .statements
        .extend(iam::operate_bus_dead_letters(&buses));
    operator_policies[0]
        .statements
        .extend(topics::operate_dead_letters(&topics));
    let starter_policy = iam::starter_policy(&state_machine);
    let mut model = Model {
        name,
        source_file: source_file.to_string(),
        tags,
        state_machine,
        steps,
        queues,
        topics,
        buses,
        callback,
        endpoint,
        approvals,
        functions,
        module_key,
        roles,
        worker_policies,
        operator_policies,
        starter_policy,
        alarms,
        business_failures: Vec::new(),
    };
    model.business_failures = state_machine::business_failures(&model);
    let diags = limits::check(spec, &mut model);
    if !diags.is_empty() {
        c.diags = diags;
        c.finish()?;
    }
    Ok(model)
}

/// The module's roles: the state machine's (which sends each task on its channel, or to the approvals queue for an
/// approval step: never on a channel only approval steps notify through), and one per function.
fn roles(
    steps: &[crate::model::Step],
    state_machine: &crate::model::StateMachine,
    (queues, topics, buses): (&[crate::model::Queue], &[crate::model::Topic], &[crate::model::Bus]),
    functions: &[crate::model::Function],
    (endpoint, approvals): (Option<&crate::model::Endpoint>, Option<&crate::model::Approvals>),
) -> Vec<crate::model::Role> {
    use crate::model::{Channel, FunctionId};
    let sent_queues: Vec<crate::model::Queue> = queues
        .iter()
        .filter(|q| approvals::tasks_sent_to(steps, &Channel::Queue(q.key.clone())))
        .cloned()
        .collect();
    let sent_topics: Vec<crate::model::Topic> = topics
        .iter()
        .filter(|t| approvals::tasks_sent_to(steps, &Channel::Topic(t.key.clone())))
        .cloned()
        .collect();
    let mut roles = vec![iam::state_machine_role(
        state_machine,
        &sent_queues,
        approvals.is_some(),
    )];
    roles[0].statements.extend(iam::put_task_events(buses, |bus| {
        approvals::tasks_sent_to(steps, &Channel::Bus(bus.key.clone()))
    }));
    for function in functions {
        roles.push(match function.id {
            FunctionId::Endpoint => approvals::endpoint_role(
                state_machine,
                endpoint.expect("bug: an endpoint function without an endpoint"),
            ),
            FunctionId::ApprovalNotify => approvals::notify_role(steps, queues, topics, buses),
            FunctionId::ApprovalPage => approvals::page_role(state_machine),
            FunctionId::Callback | FunctionId::DeadLetters => iam::function_role(function, state_machine, queues),
        });
    }
    if let Some(read) = iam::read_bus_dead_letters(buses)
        && let Some(role) = roles.iter_mut().find(|r| r.id == RoleId::DeadLetters)
    {
        role.statements.push(read);
    }
    if approvals.is_some()
        && let Some(role) = roles.iter_mut().find(|r| r.id == RoleId::DeadLetters)
    {
        role.statements.push(iam::read_approval_dead_letters());
    }
    // The state machine publishes to the topics its tasks go to; the dead-letter function reads every topic's
    // dead-letter queue.
    let mut state_machine_only: Vec<crate::model::Role> = vec![roles.remove(0)];
    topics::grant(&mut state_machine_only, &sent_topics);
    topics::grant(&mut roles, topics);
    state_machine_only.extend(roles);
    state_machine_only
}

/// Collects diagnostics while resolving; every method returns a usable value even on error, so that
/// checking goes on and every problem is found.
///
/// One error per mistake: a value that was reported (by the reader or here) is absent to every later rule
/// that reads it ([`Checker::failed`]), so that a bad timeout is not also a heartbeat "longer than 1s".
#[derive(Default)]
struct Checker {
    diags: Vec<Diagnostic>,
    /// Paths the reader could not read ([`Spec::rejected`]).
    rejected: BTreeSet<String>,
}

impl Checker {
    /// Whether the value at `path` (or the table or element that holds it) was written but reported: a rule
    /// across keys that reads it says nothing, since the value the user meant is unknown.
    fn failed(&self, path: &str) -> bool {
        if self.rejected.is_empty() && self.diags.is_empty() {
            return false;
        }
        let within = |reported: &str| {
            path.strip_prefix(reported)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
        };
        self.rejected.iter().any(|p| within(p))
            || self
                .diags
                .iter()
                .any(|d| d.severity == Severity::Error && within(&d.path))
    }

    fn error(&mut self, path: &str, span: Span, message: String, help: String) {
        self.diags
            .push(Diagnostic::error(path, Some(span), message).with_help(help));
    }

    /// A required key missing from the table at `table`, whose text is at `span` (unless it is written, but
    /// was reported: misspelt, or of the wrong type).
    fn missing(&mut self, table: &str, key: &str, span: Span, example: &str) {
        if self.failed(&at(table, key)) {
            return;
        }
        self.error(
            &at(table, key),
            span,
            format!("missing required key `{key}`"),
            format!("add `{example}` to this table"),
        );
    }

    /// `Err` with every problem, in the order of the file, when there is any.
    fn finish(&mut self) -> Result<(), Vec<Diagnostic>> {
        if self.diags.is_empty() {
            return Ok(());
        }
        let mut diags = std::mem::take(&mut self.diags);
        diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
        Err(diags)
    }
}

/// The path of `key` in the table at `table` (`""`: the top level).
fn at(table: &str, key: &str) -> String {
    if table.is_empty() {
        key.to_string()
    } else {
        format!("{table}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Architecture, AwsName, Condition, Encryption, FunctionId, Invoker, LogLevel, LogMetricId, Namespace, Resource,
        RoleId, ViaService, Watched, WorkerPolicy,
    };
    use crate::spec::parse;

    fn resolve_src(src: &str) -> Result<Model, Vec<Diagnostic>> {
        let (spec, diags) = parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        resolve(&spec, "sfngen.toml")
    }

    const SEED: &str = "name = \"callback-demo\"\n[[steps]]\nname = \"SendToSQS\"\nqueue = \"main\"\n[queues.main]\n";

    /// The errors of `src`, as `(path, message)`.
    fn errors_of(src: &str) -> Vec<(String, String)> {
        resolve_src(src)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|d| (d.path, d.message))
            .collect()
    }

    #[test]
    fn an_approval_step_needs_a_timeout_and_no_heartbeat_each_mistake_one_error_at_its_key() {
        let approval = SEED.replace("queue = \"main\"\n", "queue = \"main\"\napproval = true\n");
        let errors = errors_of(&approval);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "steps[0].approval");
        assert!(errors[0].1.contains("needs a `timeout`"), "{errors:?}");
        let diags = resolve_src(&approval).unwrap_err();
        assert!(
            diags[0]
                .help
                .as_deref()
                .is_some_and(|h| h.contains("add steps[0].timeout, e.g. \"3d\""))
        );
        let beating = approval.replace(
            "approval = true\n",
            "approval = true\ntimeout = \"1d\"\nheartbeat = \"30m\"\n",
        );
        let errors = errors_of(&beating);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, "steps[0].approval");
        assert!(errors[0].1.contains("cannot have a `heartbeat`"), "{errors:?}");
        // An unreadable timeout was reported at its own key: not again at the approval.
        let unreadable = approval.replace("approval = true\n", "approval = true\ntimeout = \"1h30m\"\n");
        let errors = errors_of(&unreadable);
        assert_eq!(
            errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
            ["steps[0].timeout"]
        );
        // The approval object is sfngen's own in an approval step's message, and only there.
        let field = "message = { approval = \"x\" }\n";
        let errors = errors_of(&approval.replace(
            "approval = true\n",
            &format!("approval = true\ntimeout = \"1d\"\n{field}"),
        ));
        assert_eq!(
            errors.iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
            ["steps[0].message.approval"]
        );
        assert!(resolve_src(&SEED.replace("queue = \"main\"\n", &format!("queue = \"main\"\n{field}"))).is_ok());
    }

    #[test]
    fn an_approval_step_hands_its_token_to_the_approvals_and_its_channel_to_the_notifier() {
        let spec = "name = \"d\"\n[[steps]]\nname = \"Ask\"\ntopic = \"people\"\napproval = true\ntimeout = \"2d\"\n\
                    [[steps]]\nname = \"Work\"\nqueue = \"jobs\"\n[topics.people]\n[queues.jobs]\n";
        let model = resolve_src(spec).unwrap();
        assert!(model.steps[0].approval && !model.steps[1].approval);
        let approvals = model.approvals.as_ref().expect("approvals");
        assert_eq!(approvals.table.with("d"), "d-approvals");
        assert_eq!(approvals.queue.with("d"), "d-approvals");
        assert_eq!(approvals.dead_letter.with("d"), "d-approvals-dlq");
        assert_eq!(approvals.key_alias.with("d"), "alias/d-approval-links");
        let ids: Vec<FunctionId> = model.functions.iter().map(|f| f.id).collect();
        assert_eq!(
            ids,
            [
                FunctionId::Callback,
                FunctionId::DeadLetters,
                FunctionId::ApprovalNotify,
                FunctionId::ApprovalPage
            ]
        );
        // The state machine sends to the approvals queue and the work queue; it publishes to no topic (the notifier
        // does, for the approval step).
        let machine = model.role(RoleId::StateMachine);
        let send = machine
            .statements
            .iter()
            .find(|s| s.sid == "SendToCallbackQueues")
            .unwrap();
        assert_eq!(
            send.resources,
            [Resource::Queue("jobs".into()), Resource::ApprovalsQueue]
        );
        assert!(
            machine
                .statements
                .iter()
                .all(|s| !s.actions.contains(&"sns:Publish".to_string()))
        );
        let notify = model.role(RoleId::ApprovalNotify);
        let publish = notify
            .statements
            .iter()
            .find(|s| s.sid == "NotifyThroughTopics")
            .unwrap();
        assert_eq!(publish.resources, [Resource::Topic("people".into())]);
        assert_eq!(publish.only_from, Some(FunctionId::ApprovalNotify));
        let page = model.role(RoleId::ApprovalPage);
        let answer = page.statements.iter().find(|s| s.sid == "AnswerApprovalTasks").unwrap();
        assert_eq!(answer.actions, ["states:SendTaskFailure", "states:SendTaskSuccess"]);
        // The dead-letter function reads the approvals' dead-letter queue.
        let dead_letters = model.role(RoleId::DeadLetters);
        assert!(
            dead_letters
                .statements
                .iter()
                .any(|s| s.resources == [Resource::ApprovalsDeadLetterQueue])
        );
        // A queue keyed like the approvals queue would take its name: refused, naming both.
        let clash = spec.replace("jobs", "approvals");
        let errors = errors_of(&clash);
        assert!(errors.iter().any(|e| e.1.contains("d-approvals")), "{errors:?}");
    }

    #[test]
    fn endpoint_keys_apply_to_their_mode_each_mistake_one_error_at_its_key() {
        let with = |callback: &str| format!("{SEED}[callback]\n{callback}");
        let iam = resolve_src(&with("endpoint = \"iam\"\n")).unwrap();
        let endpoint = iam.endpoint.as_ref().unwrap();
        assert_eq!(endpoint.auth, crate::model::EndpointAuth::Iam);
        assert_eq!(endpoint.reserved_concurrency, 10);
        let hmac = resolve_src(&with("endpoint = \"hmac\"\nendpoint_replay_window = \"2m\"\n")).unwrap();
        assert_eq!(
            hmac.endpoint.unwrap().auth,
            crate::model::EndpointAuth::Hmac {
                secret: crate::model::EndpointSecret::Created(AwsName::suffixed("-endpoint-hmac")),
                replay_window_seconds: 120,
            }
        );
        let arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:hooks-AbCdEf";
        let given = resolve_src(&with(&format!("endpoint = \"hmac\"\nendpoint_secret = \"{arn}\"\n"))).unwrap();
        assert!(matches!(
            given.endpoint.unwrap().auth,
            crate::model::EndpointAuth::Hmac { secret: crate::model::EndpointSecret::Given(ref a), .. } if a == arn
        ));
        for (callback, path, says) in [
            (
                "endpoint = \"sigv4\"\n",
                "callback.endpoint",
                "unknown endpoint authentication",
            ),
            (
                "endpoint = \"iam\"\nendpoint_secret = \"x\"\n",
                "callback.endpoint_secret",
                "HMAC endpoint only",
            ),
            (
                "endpoint = \"iam\"\nendpoint_replay_window = \"1m\"\n",
                "callback.endpoint_replay_window",
                "HMAC endpoint only",
            ),
            (
                "endpoint_reserved_concurrency = 3\n",
                "callback.endpoint_reserved_concurrency",
                "an endpoint only",
            ),
            (
                "endpoint = \"hmac\"\nendpoint_secret = \"arn:aws:kms:eu-west-1:123456789012:key/x\"\n",
                "callback.endpoint_secret",
                "not a Secrets Manager secret ARN",
            ),
            (
                "endpoint = \"hmac\"\nendpoint_replay_window = \"16m\"\n",
                "callback.endpoint_replay_window",
                "out of range",
            ),
            (
                "endpoint = \"iam\"\nendpoint_reserved_concurrency = 1001\n",
                "callback.endpoint_reserved_concurrency",
                "out of range",
            ),
        ] {
            let errors = errors_of(&with(callback));
            assert_eq!(errors.len(), 1, "{callback}: {errors:?}");
            assert_eq!(errors[0].0, path, "{callback}");
            assert!(errors[0].1.contains(says), "{callback}: {errors:?}");
        }
        // A mode that could not be read says nothing more about the keys that follow it.
        assert_eq!(
            errors_of(&with("endpoint = \"sigv4\"\nendpoint_replay_window = \"1m\"\n")).len(),
            1
        );
    }

    #[test]
    fn fan_out_keys_make_a_fan_out_and_each_mistake_is_one_error_at_its_key() {
        let spec = SEED.replace(
            "queue = \"main\"\n",
            "queue = \"main\"\nfor_each = \"$.lines\"\nmax_concurrency = 4\nmax_items = 9\ntolerated_failure_percentage = 100\n",
        );
        let step = resolve_src(&spec).unwrap().steps.remove(0);
        let expected = crate::model::FanOut {
            items_path: "$.lines".into(),
            max_concurrency: Some(4),
            max_items: Some(9),
            tolerate_failures: true,
        };
        assert_eq!(step.fan_out, Some(expected));
        assert_eq!(resolve_src(SEED).unwrap().steps[0].fan_out, None);
        let bad = SEED.replace(
            "queue = \"main\"\n",
            "queue = \"main\"\nfor_each = \"$.lines[*]\"\nmax_concurrency = 41\ntolerated_failure_percentage = 50\n",
        );
        let paths: Vec<String> = resolve_src(&bad).unwrap_err().into_iter().map(|d| d.path).collect();
        assert_eq!(
            paths,
            [
                "steps[0].for_each",
                "steps[0].max_concurrency",
                "steps[0].tolerated_failure_percentage"
            ]
        );
        let without = SEED.replace(
            "queue = \"main\"\n",
            "queue = \"main\"\nmax_items = 3\ntolerated_failure_percentage = 0\n",
        );
        let paths: Vec<String> = resolve_src(&without).unwrap_err().into_iter().map(|d| d.path).collect();
        assert_eq!(paths, ["steps[0].max_items"]);
    }

    #[test]
    fn a_bus_gets_its_rule_dead_letters_and_grants() {
        let m = resolve_src(
            "name = \"demo\"\n[[steps]]\nname = \"Ask\"\nbus = \"partners\"\n[[steps]]\nname = \"Tell\"\nbus = \"account\"\n\
             [buses.partners]\nsource = \"com.example\"\n[buses.account]\nname = \"default\"\ndead_letter = false\n",
        )
        .unwrap();
        let (account, partners) = (&m.buses[0], &m.buses[1]);
        assert_eq!(partners.rule.with(&m.name), "demo-partners");
        assert_eq!(
            partners.dead_letter.as_ref().map(|d| d.name.with(&m.name)),
            Some("demo-partners-bus-dlq".to_string())
        );
        assert!(account.dead_letter.is_none() && !account.created() && partners.created());
        // The state machine puts each bus's own events on that bus only, and sends to no queue.
        let sm = m.role(RoleId::StateMachine);
        let put: Vec<(&str, &[Resource], &[Condition])> = sm
            .statements
            .iter()
            .filter(|s| s.actions == ["events:PutEvents"])
            .map(|s| (s.sid.as_str(), s.resources.as_slice(), s.conditions.as_slice()))
            .collect();
        assert_eq!(
            put,
            [
                (
                    "PutTaskEventsAccount",
                    [Resource::Bus("account".into())].as_slice(),
                    [Condition::BusEvents(0)].as_slice()
                ),
                (
                    "PutTaskEventsPartners",
                    [Resource::Bus("partners".into())].as_slice(),
                    [Condition::BusEvents(1)].as_slice()
                ),
            ]
        );
        assert!(
            sm.statements
                .iter()
                .all(|s| !s.actions.iter().any(|a| a.starts_with("sqs:")))
        );
        // The dead-letter function reads the one bus dead-letter queue; workers may only answer.
        let reader = m.role(RoleId::DeadLetters);
        let read = reader
            .statements
            .iter()
            .find(|s| s.sid == "ReadBusDeadLetters")
            .unwrap();
        assert_eq!(read.resources, [Resource::BusDeadLetterQueue("partners".into())]);
        assert!(m.worker_policy()[0].statements.iter().all(|s| s.sid == "AnswerTasks"));
        let alarms: Vec<String> = m.alarm_list().into_iter().map(|a| a.key).collect();
        assert!(alarms.is_empty(), "no [alarms]: {alarms:?}");
    }

    #[test]
    fn seed_gets_the_documented_defaults() {
        let m = resolve_src(SEED).unwrap();
        assert_eq!(m.state_machine.timeout_seconds, 3600);
        let logging = &m.state_machine.logging;
        assert_eq!(logging.level, LogLevel::Error);
        assert!(!logging.include_execution_data);
        assert_eq!(logging.log_group.retention_days, 30);
        assert!(!m.state_machine.tracing);
        let q = &m.queues[0];
        assert_eq!((q.visibility_timeout_seconds, q.retention_seconds), (300, 345_600));
        assert_eq!(q.encryption, Encryption::ServiceManaged);
        assert_eq!(q.dead_letter.as_ref().unwrap().max_receives, 5);
        assert_eq!(q.name.with(&m.name), "callback-demo-main");
        assert_eq!(m.callback.memory_mb, 128);
        assert_eq!(m.callback.timeout_seconds, 10);
        assert_eq!(m.callback.architecture, Architecture::Arm64);
        assert_eq!(m.callback.reserved_concurrency, None);
        assert!(m.module_key.is_none());
    }

    #[test]
    fn dead_letters_fail_their_executions_through_a_function_of_their_own() {
        let m = resolve_src(SEED).unwrap();
        let reader = &m.dead_letter_readers()[0].1;
        // Six times the callback's default 10s timeout; two pollers at most, the least SQS allows.
        assert_eq!((reader.batch_size, reader.visibility_timeout_seconds), (10, 60));
        assert_eq!(reader.maximum_concurrency, 2);
        let functions: Vec<(FunctionId, Invoker, RoleId, &str, String)> = m
            .functions
            .iter()
            .map(|f| (f.id, f.invoker, f.role, f.mode, f.name.with(&m.name)))
            .collect();
        assert_eq!(
            functions,
            [
                (
                    FunctionId::Callback,
                    Invoker::Workers,
                    RoleId::Callback,
                    "callback",
                    "callback-demo-callback".to_string()
                ),
                (
                    FunctionId::DeadLetters,
                    Invoker::DeadLetterMappings,
                    RoleId::DeadLetters,
                    "dead_letters",
                    "callback-demo-dead-letters".to_string()
                ),
            ]
        );
        assert!(m.function(FunctionId::Callback).takes_reserved_concurrency());
        assert!(!m.function(FunctionId::DeadLetters).takes_reserved_concurrency());
        let sids = |id: RoleId| m.role(id).statements.iter().map(|s| s.sid.clone()).collect::<Vec<_>>();
        // The callback reads no queue; the dead-letter function may only fail tasks, and reads its queues.
        assert_eq!(
            sids(RoleId::Callback),
            ["AnswerCallbackTasks", "WriteOwnLogs", "SendTraces"]
        );
        assert_eq!(
            sids(RoleId::DeadLetters),
            ["FailDeadLetteredTasks", "WriteOwnLogs", "ReadDeadLetters", "SendTraces"]
        );
        let dead_letters = m.role(RoleId::DeadLetters);
        assert_eq!(dead_letters.statements[0].actions, ["states:SendTaskFailure"]);
        assert_eq!(dead_letters.statements[0].only_from, Some(FunctionId::DeadLetters));
        let read = &dead_letters.statements[2];
        assert_eq!(read.resources, [Resource::DeadLetterQueue("main".into())]);
        assert_eq!(
            read.only_from, None,
            "Lambda's poller reads with the role, outside the function"
        );
        // Workers may invoke the callback, and nothing else.
        let invoke = m.worker_policy()[0]
            .statements
            .iter()
            .find(|s| s.sid == "AnswerTasks")
            .unwrap();
        assert_eq!(invoke.resources, [Resource::Function(FunctionId::Callback)]);

        let off = SEED.replace(
            "[queues.main]\n",
            "[queues.main]\ndead_letter = { fail_execution = false }\n",
        );
        let m = resolve_src(&off).unwrap();
        assert!(m.queues[0].dead_letter.as_ref().unwrap().fail_execution.is_none());
        assert!(m.dead_letter_readers().is_empty());
        assert!(
            m.dead_letter_function().is_none(),
            "nothing reads dead letters, no function to do it"
        );
        let roles: Vec<RoleId> = m.roles.iter().map(|r| r.id).collect();
        assert_eq!(roles, [RoleId::StateMachine, RoleId::Callback]);
        let metrics: Vec<LogMetricId> = m.functions.iter().flat_map(|f| &f.log_metrics).map(|l| l.id).collect();
        assert_eq!(metrics, [LogMetricId::SpentTokens, LogMetricId::InvalidTokens]);

        let longest = SEED.replace("[queues.main]\n", "[queues.main]\n[callback]\ntimeout = \"15m\"\n");
        let m = resolve_src(&longest).unwrap();
        assert_eq!(m.dead_letter_readers()[0].1.visibility_timeout_seconds, 5400);
    }

    #[test]
    fn the_callbacks_log_lines_are_counted_by_json_patterns() {
        let m = resolve_src(SEED).unwrap();
        let patterns: Vec<(LogMetricId, &str, String)> = m
            .functions
            .iter()
            .flat_map(|f| &f.log_metrics)
            .map(|l| (l.id, l.metric, l.pattern()))
            .collect();
        assert_eq!(
            patterns,
            [
                (
                    LogMetricId::SpentTokens,
                    "SpentTokens",
                    r#"{ $.outcome = "token_spent" }"#.to_string()
                ),
                (
                    LogMetricId::InvalidTokens,
                    "InvalidTokens",
                    r#"{ $.outcome = "invalid_token" }"#.to_string()
                ),
                (
                    LogMetricId::DeadLettersUnsettled,
                    "DeadLettersUnsettled",
                    r#"{ ($.event = "dead_letter") && (($.outcome = "failed") || ($.outcome = "unusable")) }"#
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_dead_letter_queue_the_callback_reads_is_watched_through_its_log_lines() {
        let two = "name = \"d\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n[[steps]]\nname = \"B\"\nqueue = \"b\"\n[queues.a]\n\
                   [queues.b]\ndead_letter = { fail_execution = false }\n[alarms]\n";
        let m = resolve_src(two).unwrap();
        let alarms: Vec<(String, Namespace, &str, Watched)> = m
            .alarm_list()
            .into_iter()
            .filter(|a| a.key.contains("dlq") || a.key == "dead_letters_unsettled")
            .map(|a| (a.key, a.metric.namespace, a.metric.name, a.watches))
            .collect();
        assert_eq!(
            alarms,
            [
                (
                    "b_dlq_messages".to_string(),
                    Namespace::Aws("AWS/SQS"),
                    "ApproximateNumberOfMessagesVisible",
                    Watched::DeadLetterQueue("b".into())
                ),
                (
                    "dead_letters_unsettled".to_string(),
                    Namespace::Module,
                    "DeadLettersUnsettled",
                    Watched::LogLines
                ),
            ]
        );
        let unsettled = m
            .alarm_list()
            .into_iter()
            .find(|a| a.key == "dead_letters_unsettled")
            .unwrap();
        assert!(
            unsettled
                .description
                .contains("dead letters of queue \"a\" and could not"),
            "{}",
            unsettled.description
        );
        assert!(unsettled.description.contains("\"failed\"") && unsettled.description.contains("\"unusable\""));
    }

    #[test]
    fn one_queue_has_one_worker_policy_several_have_one_each_more() {
        let m = resolve_src(SEED).unwrap();
        assert_eq!(m.worker_policies.len(), 1);
        assert_eq!(m.worker_policy_of("main"), m.worker_policy()[0]);
        let two = "name = \"d\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n[[steps]]\nname = \"B\"\nqueue = \"b\"\n[queues.a]\n[queues.b]\nencryption = \"kms\"\n";
        let m = resolve_src(two).unwrap();
        assert_eq!(m.worker_policies.len(), 3);
        let sids = |p: &WorkerPolicy| p.statements.iter().map(|s| s.sid.clone()).collect::<Vec<_>>();
        assert_eq!(sids(m.worker_policy()[0]), ["TakeTasks", "DecryptTasks", "AnswerTasks"]);
        assert_eq!(sids(m.worker_policy_of("a")), ["TakeTasks", "AnswerTasks"]);
        let decrypt = &m.worker_policy_of("b").statements[1];
        assert_eq!(
            (decrypt.resources.as_slice(), decrypt.conditions.as_slice()),
            (
                [Resource::ModuleKey].as_slice(),
                [Condition::ViaService(ViaService::Sqs)].as_slice()
            )
        );
    }

    #[test]
    fn longest_names_fit_aws_limits() {
        let n = "a".repeat(32);
        let src = format!("name = \"{n}\"\n[[steps]]\nname = \"S\"\nqueue = \"{n}\"\n[queues.{n}]\nfifo = true\n");
        let m = resolve_src(&src).unwrap();
        let names = m.aws_names();
        assert!(names.len() >= 8, "{names:?}");
        for derived in names {
            let full = derived.name.with(&n);
            assert!(
                derived.limit.allows(full.len() as u64),
                "{} {full:?} is longer than {}",
                derived.what,
                derived.limit.figure
            );
        }
    }

    #[test]
    fn task_tokens_in_execution_logs_are_a_warning_at_the_key_that_logs_them() {
        let warned = |state_machine: &str| {
            let src = format!("{SEED}[state_machine]\n{state_machine}");
            let (spec, diags) = parse(&src);
            assert!(diags.is_empty(), "{diags:?}");
            let model = resolve(&spec, "sfngen.toml").unwrap();
            guard_rails(&spec, &model)
                .into_iter()
                .map(|d| (d.path, d.message))
                .collect::<Vec<_>>()
        };
        let found = warned("log_level = \"ALL\"\ninclude_execution_data = true\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "state_machine.include_execution_data");
        assert!(found[0].1.contains("task token"), "{}", found[0].1);
        for quiet in [
            "log_level = \"ALL\"\n",
            "log_level = \"ALL\"\ninclude_execution_data = false\n",
            "log_level = \"ERROR\"\ninclude_execution_data = true\n",
            "log_level = \"FATAL\"\ninclude_execution_data = true\n",
            "log_level = \"OFF\"\ninclude_execution_data = true\n",
        ] {
            assert_eq!(warned(quiet), [], "{quiet}");
        }
    }

    #[test]
    fn an_approval_whose_input_is_an_array_is_a_warning_at_its_key() {
        let warned = |steps: &str| {
            let src = format!("name = \"d\"\n[state_machine]\ntimeout = \"3d\"\n{steps}[queues.q]\n");
            let (spec, diags) = parse(&src);
            assert!(diags.is_empty(), "{diags:?}");
            let model = resolve(&spec, "sfngen.toml").unwrap();
            guard_rails(&spec, &model)
                .into_iter()
                .filter(|d| d.path.ends_with(".approval"))
                .map(|d| (d.path, d.message))
                .collect::<Vec<_>>()
        };
        let fan_out = "[[steps]]\nname = \"A\"\nqueue = \"q\"\nfor_each = \"$.xs\"\nmax_concurrency = 2\n";
        let approval = "[[steps]]\nname = \"B\"\nqueue = \"q\"\napproval = true\ntimeout = \"1d\"\n";
        let found = warned(&format!("{fan_out}{approval}"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].0, "steps[1].approval");
        assert!(
            found[0].1.contains("array of answers of fan-out step \"A\""),
            "{found:?}"
        );
        let over_all = "[[steps]]\nname = \"C\"\nqueue = \"q\"\napproval = true\ntimeout = \"1d\"\nfor_each = \"$\"\nmax_concurrency = 2\n";
        assert_eq!(warned(over_all).len(), 1);
        // After a fan-out approval (which keeps its object input), or first: nothing to warn of.
        let approved_lines = fan_out.replace(
            "max_concurrency = 2\n",
            "max_concurrency = 2\napproval = true\ntimeout = \"1d\"\n",
        );
        assert_eq!(warned(&format!("{approved_lines}{approval}")), []);
        assert_eq!(warned(approval), []);
    }

    #[test]
    fn reserved_concurrency_is_the_workers_alone_so_it_warns_of_no_dead_letter_pollers() {
        // Before the dead-letter function had its own, its pollers could take the whole reserved concurrency
        // of the callback; now they cannot touch it, at any value.
        let src = SEED.replace(
            "[queues.main]\n",
            "[queues.main]\n[callback]\nreserved_concurrency = 1\n",
        );
        let (spec, diags) = parse(&src);
        assert!(diags.is_empty(), "{diags:?}");
        let model = resolve(&spec, "sfngen.toml").unwrap();
        assert!(model.dead_letter_function().is_some());
        assert!(guard_rails(&spec, &model).is_empty());
    }

    #[test]
    fn static_fields_that_look_like_paths_or_functions_are_sent_as_written() {
        let src = SEED.replace(
            "queue = \"main\"\n",
            "queue = \"main\"\nmessage = { a = \"$.x\", b = \"States.UUID()\", c = [{ d = \"$$.Task.Token\" }] }\n",
        );
        let m = resolve_src(&src).unwrap();
        let asl = crate::emit::asl::render(&m);
        let asl: serde_json::Value = serde_json::from_slice(&asl.contents).unwrap();
        let body = &asl["States"]["SendToSQS"]["Parameters"]["MessageBody"];
        assert_eq!(
            body,
            &serde_json::json!({
                "input.$": "$",
                "token.$": "$$.Task.Token",
                "context": {
                    "execution.$": "$$.Execution.Id",
                    "state.$": "$$.State.Name",
                    "entered_time.$": "$$.State.EnteredTime",
                    "retry_count.$": "$$.State.RetryCount",
                    "redrive_count.$": "$$.Execution.RedriveCount",
                },
                "a": "$.x",
                "b": "States.UUID()",
                "c": [{ "d": "$$.Task.Token" }],
            })
        );
    }

    #[test]
    fn a_value_that_was_reported_is_absent_to_the_rules_that_read_it() {
        let paths = |src: &str| {
            let (spec, _) = parse(src);
            resolve(&spec, "sfngen.toml")
                .err()
                .unwrap_or_default()
                .into_iter()
                .map(|d| d.path)
                .collect::<Vec<_>>()
        };
        let step = "[[steps]]\nname = \"A\"\nqueue = \"main\"\nheartbeat = \"2h\"\n[queues.main]\n";
        // Against the default execution timeout (1h), the heartbeat is too long...
        assert_eq!(paths(&format!("name = \"n\"\n{step}")), ["steps[0].heartbeat"]);
        // ...against one that is unreadable or out of range, or a [state_machine] that is not a table, nothing
        // is said: the execution timeout meant is unknown.
        for state_machine in [
            "[state_machine]\ntimeout = 5\n",
            "[state_machine]\ntimeout = \"9999d\"\n",
            "state_machine = 1\n",
        ] {
            let found = paths(&format!("name = \"n\"\n{state_machine}{step}"));
            assert!(
                !found.contains(&"steps[0].heartbeat".to_string()),
                "{state_machine}: {found:?}"
            );
        }
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

    /// A spec with one step and `n` catches, each ending in a Fail state with its own `len`-character error.
    fn fail_catches(n: usize, len: usize) -> String {
        let mut src = "name = \"orders\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n".to_string();
        for i in 0..n {
            let error = format!("{i:0>len$}");
            src.push_str(&format!(
                "[[steps.catch]]\nerrors = [\"E{i}\"]\nfail = {{ error = \"{error}\" }}\n"
            ));
        }
        src + "[queues.a]\n"
    }

    #[test]
    fn declared_fail_errors_are_packed_into_filters_within_the_pattern_limit() {
        let m = resolve_src(&fail_catches(40, 200)).expect("valid");
        let parts = &m.business_failures;
        assert!(parts.len() > 1, "40 errors of 200 characters need several filters");
        let mut matched = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            assert_eq!(part.id, LogMetricId::BusinessFailures { part: i + 1 });
            assert!(crate::limits::METRIC_FILTER_PATTERN.allows(part.pattern().chars().count() as u64));
            matched.extend(part.fields[1].1.clone());
        }
        assert_eq!(
            matched,
            m.business_errors().iter().map(|e| e.to_string()).collect::<Vec<_>>()
        );
        // An error a pattern cannot match exactly is left out (and counted as a fault).
        let m = resolve_src(
            "name = \"o\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n[[steps.catch]]\nerrors = [\"X\"]\nfail = { error = \"Bad*\" }\n[[steps.catch]]\nfail = { error = \"Declined\" }\n[queues.a]\n",
        )
        .expect("valid");
        assert_eq!(m.business_errors(), ["Bad*", "Declined"]);
        assert_eq!(m.business_failures.len(), 1);
        assert_eq!(
            m.business_failures[0].pattern(),
            "{ ($.type = \"ExecutionFailed\") && ($.details.error = \"Declined\") }"
        );
    }

    #[test]
    fn more_business_failure_filters_than_a_log_group_holds_are_refused() {
        // 256-character errors: three to a filter, so 310 of them need more than 100 filters.
        let diags = resolve_src(&fail_catches(310, 256)).expect_err("too many filters");
        assert!(
            diags
                .iter()
                .any(|d| d.message.contains("metric filters on the execution log") && d.message.contains("at most 100")),
            "{diags:?}"
        );
    }
}
