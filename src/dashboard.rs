//! The module's CloudWatch dashboard, as the JSON CloudWatch takes (PutDashboard's `DashboardBody`, laid out on
//! its 24-column grid): executions, how they failed (faults apart from the business outcomes the spec declares),
//! the Lambda functions, one widget per queue with its waiting tasks, its oldest message and its dead letters, and one
//! per SNS topic with its deliveries and dead letters.
//!
//! Nothing here knows HCL: the body names every resource by the name the module gives it, built from the
//! [`Placement`] it is given. The Terraform emitter passes references (`${var.name}`, `${local.region}`) and
//! writes the result with `jsonencode()`; resolve and the tests pass concrete values to count and measure it.
//! Widgets are laid out in a fixed order, left to right and top to bottom, so that the same model always gives
//! the same body.

use serde_json::{Value, json};

use crate::model::{
    Approvals, BUSINESS_FAILURES_METRIC, Bus, BusName, DEFAULT_BUS, FAULTS_EXPRESSION, FunctionId, LogMetric, Model,
    Queue, Topic,
};

/// Where the module runs, as the dashboard needs it: every resource name and ARN is built from these.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// The module's `name` input.
    pub name: &'a str,
    /// The region.
    pub region: &'a str,
    /// The partition.
    pub partition: &'a str,
    /// The account id.
    pub account: &'a str,
}

/// The grid's width, in columns.
const GRID_WIDTH: u64 = 24;
/// A metric widget's height, in rows.
const WIDGET_HEIGHT: u64 = 6;
/// The graphs' period when the spec has no `[alarms]` (with alarms, theirs, so that a graph shows what an
/// alarm evaluates).
const DEFAULT_PERIOD_SECONDS: u64 = 300;

/// The dashboard's name: `{name}-{region}`. CloudWatch dashboards are global to an account, not regional, so two
/// instances of the module with one `name` in two regions need the region in it. `name` is lowercase letters,
/// digits and `-`, and so is a region: both within PutDashboard's characters.
pub fn name(at: &Placement) -> String {
    format!("{}-{}", at.name, at.region)
}

/// The dashboard body.
pub fn body(model: &Model, at: &Placement) -> Value {
    let mut grid = Grid::default();
    let period = model
        .alarms
        .as_ref()
        .map_or(DEFAULT_PERIOD_SECONDS, |a| a.period_seconds);
    let graph = Graph { at, period };
    let mut widgets = vec![grid.place(GRID_WIDTH, 3, header(at))];
    widgets.push(grid.place(
        12,
        WIDGET_HEIGHT,
        graph.metrics("Executions", executions(model, at), None),
    ));
    widgets.push(grid.place(
        12,
        WIDGET_HEIGHT,
        graph.metrics("Execution time (ms) and throttles", execution_time(model, at), None),
    ));
    if !model.business_failures.is_empty() {
        widgets.push(grid.place(
            12,
            WIDGET_HEIGHT,
            graph.metrics(
                "Failed executions: faults and business outcomes",
                failures(model, at),
                None,
            ),
        ));
    }
    widgets.push(grid.place(
        12,
        WIDGET_HEIGHT,
        graph.metrics(
            "Callback outcomes (from the functions' log lines)",
            outcomes(model, at),
            None,
        ),
    ));
    widgets.push(grid.place(
        12,
        WIDGET_HEIGHT,
        graph.metrics(
            "Lambda errors and throttles",
            function_metrics(model, at, &["Errors", "Throttles"], "Sum"),
            None,
        ),
    ));
    widgets.push(grid.place(
        12,
        WIDGET_HEIGHT,
        graph.metrics(
            "Lambda duration (ms)",
            function_metrics(model, at, &["Duration"], "Maximum"),
            None,
        ),
    ));
    for queue in &model.queues {
        let alarm = model.alarms.is_some().then(|| model.stale_message_age(queue));
        widgets.push(grid.place(
            12,
            WIDGET_HEIGHT,
            graph.metrics(&format!("Queue {}", queue.key), queue_metrics(queue, at), alarm),
        ));
    }
    if let Some(approvals) = &model.approvals {
        widgets.push(grid.place(
            12,
            WIDGET_HEIGHT,
            graph.metrics("Approvals queue", approvals_metrics(approvals, at), None),
        ));
    }
    for bus in &model.buses {
        widgets.push(grid.place(
            12,
            WIDGET_HEIGHT,
            graph.metrics(&format!("Bus {}", bus.key), bus_metrics(bus, at), None),
        ));
    }
    for topic in &model.topics {
        widgets.push(grid.place(
            12,
            WIDGET_HEIGHT,
            graph.metrics(&format!("Topic {}", topic.key), topic_metrics(topic, at), None),
        ));
    }
    json!({ "widgets": widgets })
}

/// The number of widgets [`body`] lays out, without building it.
pub fn widget_count(model: &Model) -> usize {
    6 + usize::from(!model.business_failures.is_empty())
        + model.queues.len()
        + usize::from(model.approvals.is_some())
        + model.topics.len()
        + model.buses.len()
}

/// Places widgets left to right, starting a new row when one does not fit.
#[derive(Default)]
struct Grid {
    x: u64,
    y: u64,
    row_height: u64,
}

impl Grid {
    fn place(&mut self, width: u64, height: u64, mut widget: Value) -> Value {
        if self.x + width > GRID_WIDTH {
            self.x = 0;
            self.y += self.row_height;
            self.row_height = 0;
        }
        widget["x"] = json!(self.x);
        widget["y"] = json!(self.y);
        widget["width"] = json!(width);
        widget["height"] = json!(height);
        self.x += width;
        self.row_height = self.row_height.max(height);
        widget
    }
}

/// What every metric widget shares.
struct Graph<'a> {
    at: &'a Placement<'a>,
    period: u64,
}

impl Graph<'_> {
    /// A time-series widget of `metrics`; `threshold`, a line on the right axis at the oldest-message alarm's.
    fn metrics(&self, title: &str, metrics: Vec<Value>, threshold: Option<u64>) -> Value {
        let mut properties = json!({
            "title": title,
            "view": "timeSeries",
            "stacked": false,
            "region": self.at.region,
            "period": self.period,
            "metrics": metrics,
        });
        if let Some(value) = threshold {
            properties["annotations"] = json!({
                "horizontal": [{ "label": "oldest-message alarm (s)", "value": value, "yAxis": "right" }]
            });
        }
        json!({ "type": "metric", "properties": properties })
    }
}

/// The text at the top: what the dashboard shows and where to read what to do.
fn header(at: &Placement) -> Value {
    json!({
        "type": "text",
        "properties": {
            "markdown": format!(
                "## {name}: Step Functions callbacks\nExecutions of the `{name}` state machine, how they failed (faults apart from the business outcomes the spec declares), the Lambda functions, and for each queue its waiting tasks, its oldest message and its dead letters. Rendered by sfngen: the next apply overwrites edits made here. What each alarm means and what to do: the module README, sections Alarms and Runbook.",
                name = at.name
            )
        }
    })
}

/// The state machine's ARN.
fn state_machine_arn(at: &Placement) -> String {
    format!(
        "arn:{}:states:{}:{}:stateMachine:{}",
        at.partition, at.region, at.account, at.name
    )
}

/// One metric of the state machine: `[namespace, metric, dimension, value, options]`.
fn execution_metric(at: &Placement, metric: &str, options: Value) -> Value {
    json!(["AWS/States", metric, "StateMachineArn", state_machine_arn(at), options])
}

fn executions(_model: &Model, at: &Placement) -> Vec<Value> {
    [
        ("ExecutionsStarted", "started"),
        ("ExecutionsSucceeded", "succeeded"),
        ("ExecutionsFailed", "failed"),
        ("ExecutionsTimedOut", "timed out"),
        ("ExecutionsAborted", "aborted"),
    ]
    .into_iter()
    .map(|(metric, label)| execution_metric(at, metric, json!({ "label": label, "stat": "Sum" })))
    .collect()
}

fn execution_time(_model: &Model, at: &Placement) -> Vec<Value> {
    vec![
        execution_metric(
            at,
            "ExecutionTime",
            json!({ "label": "duration, average", "stat": "Average" }),
        ),
        execution_metric(at, "ExecutionTime", json!({ "label": "duration, p99", "stat": "p99" })),
        execution_metric(
            at,
            "ExecutionThrottled",
            json!({ "label": "throttled", "stat": "Sum", "yAxis": "right" }),
        ),
    ]
}

/// A metric of the module's own namespace, `sfngen/{name}`.
fn module_metric(at: &Placement, metric: &str, options: Value) -> Value {
    json!([format!("sfngen/{}", at.name), metric, options])
}

/// Failed executions, split: the business outcomes the execution log counts, and the rest, faults.
fn failures(_model: &Model, at: &Placement) -> Vec<Value> {
    vec![
        execution_metric(
            at,
            "ExecutionsFailed",
            json!({ "id": "failed", "stat": "Sum", "visible": false }),
        ),
        module_metric(
            at,
            BUSINESS_FAILURES_METRIC,
            json!({ "id": "business", "stat": "Sum", "label": "business outcomes (a catch's Fail state)" }),
        ),
        json!([{ "id": "faults", "expression": FAULTS_EXPRESSION, "label": "faults (failed, not declared)" }]),
    ]
}

/// The metrics the module counts from the functions' log lines.
fn outcomes(model: &Model, at: &Placement) -> Vec<Value> {
    // Each metric once: the endpoint's spent and invalid tokens count into the callback's metrics.
    let mut metrics: Vec<&LogMetric> = Vec::new();
    for metric in model.functions.iter().flat_map(|f| &f.log_metrics) {
        if !metrics.iter().any(|m| m.metric == metric.metric) {
            metrics.push(metric);
        }
    }
    metrics
        .into_iter()
        .map(|m| module_metric(at, m.metric, json!({ "label": m.metric, "stat": "Sum" })))
        .collect()
}

/// `metrics` of each Lambda function, with `stat`.
fn function_metrics(model: &Model, at: &Placement, metrics: &[&str], stat: &str) -> Vec<Value> {
    model
        .functions
        .iter()
        .flat_map(|f| {
            metrics.iter().map(move |metric| {
                json!([
                    "AWS/Lambda",
                    metric,
                    "FunctionName",
                    f.name.with(at.name),
                    { "label": format!("{} {}", function_label(f.id), metric.to_lowercase()), "stat": stat }
                ])
            })
        })
        .collect()
}

fn function_label(id: FunctionId) -> &'static str {
    match id {
        FunctionId::Callback => "callback",
        FunctionId::DeadLetters => "dead-letter",
        FunctionId::Endpoint => "endpoint",
        FunctionId::ApprovalNotify => "approval notify",
        FunctionId::ApprovalPage => "approval page",
    }
}

/// A topic's tasks: published, delivered to subscribers, failed deliveries, and what went to (or failed to reach)
/// its dead-letter queue.
fn topic_metrics(topic: &Topic, at: &Placement) -> Vec<Value> {
    let name = topic.name.with(at.name);
    let sum =
        |metric: &str, label: &str| json!(["AWS/SNS", metric, "TopicName", name, { "label": label, "stat": "Sum" }]);
    let mut metrics = vec![
        sum("NumberOfMessagesPublished", "published"),
        sum("NumberOfNotificationsDelivered", "delivered"),
        sum("NumberOfNotificationsFailed", "failed deliveries"),
    ];
    if topic.dead_letter.is_some() {
        metrics.push(sum("NumberOfNotificationsRedrivenToDlq", "dead-lettered"));
        metrics.push(sum(
            "NumberOfNotificationsFailedToRedriveToDlq",
            "lost (dead-lettering failed)",
        ));
    }
    metrics
}

/// A queue's tasks: waiting (visible), being worked on (in flight), the oldest message's age (right axis), and
/// its dead letters.
fn queue_metrics(queue: &Queue, at: &Placement) -> Vec<Value> {
    let name = queue.name.with(at.name);
    let mut metrics = vec![
        json!(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name, { "label": "waiting", "stat": "Maximum" }]),
        json!(["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", name, { "label": "in flight", "stat": "Maximum" }]),
        json!(["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name, { "label": "oldest message (s)", "stat": "Maximum", "yAxis": "right" }]),
    ];
    if let Some(dlq) = &queue.dead_letter {
        let dlq = dlq.name.with(at.name);
        metrics.push(json!(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq, { "label": "dead letters", "stat": "Maximum" }]));
        metrics.push(json!(["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", dlq, { "label": "dead letters in flight", "stat": "Maximum" }]));
    }
    metrics
}

/// The approvals queue: requests waiting for the notifier, in flight, the oldest one's age, and the ones it could not
/// handle (its dead-letter queue, which the dead-letter function reads).
fn approvals_metrics(approvals: &Approvals, at: &Placement) -> Vec<Value> {
    let name = approvals.queue.with(at.name);
    let dlq = approvals.dead_letter.with(at.name);
    vec![
        json!(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", name, { "label": "waiting for the notifier", "stat": "Maximum" }]),
        json!(["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", name, { "label": "in flight", "stat": "Maximum" }]),
        json!(["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", name, { "label": "oldest request (s)", "stat": "Maximum", "yAxis": "right" }]),
        json!(["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", dlq, { "label": "dead letters", "stat": "Maximum" }]),
        json!(["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", dlq, { "label": "dead letters in flight", "stat": "Maximum" }]),
    ]
}

/// A bus's rule: events it matched, target invocations, those that failed for good or were throttled, and its dead
/// letters (sent to the dead-letter queue, and lost). The rule's metrics name the bus too, unless it is the default
/// bus (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html).
fn bus_metrics(bus: &Bus, at: &Placement) -> Vec<Value> {
    let rule = bus.rule.with(at.name);
    let dimensions: Vec<Value> = match &bus.bus {
        BusName::Existing(name) if name == DEFAULT_BUS => vec![json!("RuleName"), json!(rule)],
        BusName::Existing(name) => vec![json!("EventBusName"), json!(name), json!("RuleName"), json!(rule)],
        BusName::Custom(name) => vec![
            json!("EventBusName"),
            json!(name.with(at.name)),
            json!("RuleName"),
            json!(rule),
        ],
    };
    let metric = |name: &str, label: &str| {
        let mut row = vec![json!("AWS/Events"), json!(name)];
        row.extend(dimensions.iter().cloned());
        row.push(json!({ "label": label, "stat": "Sum" }));
        Value::Array(row)
    };
    let mut metrics = vec![
        metric("MatchedEvents", "task events"),
        metric("Invocations", "target invocations"),
        metric("FailedInvocations", "failed for good"),
        metric("ThrottledRules", "throttled"),
    ];
    if bus.dead_letter.is_some() {
        metrics.push(metric("InvocationsSentToDlq", "dead-lettered"));
        metrics.push(metric("InvocationsFailedToBeSentToDlq", "lost"));
    }
    metrics
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(src: &str) -> Model {
        let (spec, diags) = crate::spec::parse(src);
        assert!(diags.is_empty(), "{diags:?}");
        crate::resolve::resolve(&spec, "sfngen.toml").expect("valid")
    }

    const AT: Placement = Placement {
        name: "orders",
        region: "eu-west-1",
        partition: "aws",
        account: "123456789012",
    };

    #[test]
    fn widgets_tile_the_grid_without_overlap_and_count_as_said() {
        let m = model(
            "name = \"orders\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n[[steps.catch]]\nfail = { error = \"Declined\" }\n[[steps]]\nname = \"B\"\nqueue = \"b\"\n[queues.a]\n[queues.b]\ndead_letter = false\n",
        );
        let body = body(&m, &AT);
        let widgets = body["widgets"].as_array().expect("widgets");
        assert_eq!(widgets.len(), widget_count(&m));
        let mut cells = std::collections::BTreeSet::new();
        for w in widgets {
            let (x, y, width, height) = (
                w["x"].as_u64().unwrap(),
                w["y"].as_u64().unwrap(),
                w["width"].as_u64().unwrap(),
                w["height"].as_u64().unwrap(),
            );
            assert!(x + width <= GRID_WIDTH, "{w}");
            for cx in x..x + width {
                for cy in y..y + height {
                    assert!(cells.insert((cx, cy)), "two widgets share ({cx}, {cy})");
                }
            }
        }
        let text = body.to_string();
        for name in [
            "orders-a",
            "orders-a-dlq",
            "orders-b",
            "orders-callback",
            "orders-dead-letters",
        ] {
            assert!(text.contains(&format!("\"{name}\"")), "{name} is not named");
        }
        assert!(text.contains("arn:aws:states:eu-west-1:123456789012:stateMachine:orders"));
        assert!(text.contains("failed - FILL(business, 0)"));
        assert_eq!(name(&AT), "orders-eu-west-1");
    }

    #[test]
    fn without_declared_failures_there_is_no_business_widget() {
        let m = model("name = \"orders\"\n[[steps]]\nname = \"A\"\nqueue = \"a\"\n[queues.a]\n");
        let body = body(&m, &AT);
        assert_eq!(body["widgets"].as_array().unwrap().len(), widget_count(&m));
        assert!(!body.to_string().contains(BUSINESS_FAILURES_METRIC));
    }

    #[test]
    fn a_module_of_many_queues_keeps_within_the_widget_limit() {
        // 150 queues with 32-character keys and the longest name, partition, region and account.
        let mut src = format!("name = \"{}\"\n", crate::limits::worst_name());
        for i in 0..150 {
            src.push_str(&format!("[[steps]]\nname = \"S{i}\"\nqueue = \"q{i:0>31}\"\n"));
        }
        for i in 0..150 {
            src.push_str(&format!("[queues.q{i:0>31}]\n"));
        }
        let m = model(&src);
        let worst = crate::limits::worst_name();
        let at = Placement {
            name: &worst,
            region: crate::limits::WORST_REGION,
            partition: crate::limits::WORST_PARTITION,
            account: crate::limits::WORST_ACCOUNT,
        };
        let body = body(&m, &at);
        let widgets = body["widgets"].as_array().unwrap().len();
        assert_eq!(widgets, 156);
        assert!(crate::limits::DASHBOARD_WIDGETS.allows(widgets as u64));
        // The body's size, which AWS documents no limit for (the README gives this figure).
        let bytes = body.to_string().len();
        assert!((150_000..200_000).contains(&bytes), "{bytes} bytes");
    }
}
