//! `alarms.tf`: one CloudWatch alarm per entry of the model's alarm list, each firing above zero.

use super::{address, aws_name, namespace};
use crate::emit::hcl::{Block, Expr, File, number, raw, string};
use crate::model::{Alarm, Alarms, BusName, DEFAULT_BUS, FAULTS_EXPRESSION, Metric, Model, Watched};

/// The file.
pub(super) fn file(header: &str, model: &Model, settings: &Alarms) -> File {
    let mut file = File::new(header);
    let alarms = model.alarm_list();
    file.push_group(
        "Any one event is worth a look: each alarm fires above zero (a queue's oldest message, above half the\nshortest time its steps wait, in seconds) and treats no data as healthy (a metric counted from log lines\nhas none until a line matches).",
        alarms.iter().map(|alarm| alarm_block(model, alarm, settings)),
    );
    file
}

/// One alarm: above zero over `settings`' periods, notifying `var.alarm_actions` when it fires and recovers.
fn alarm_block(model: &Model, alarm: &Alarm, settings: &Alarms) -> Block {
    let block = address::alarm(&alarm.key)
        .declare()
        .attr("alarm_name", aws_name(&alarm.name))
        .attr("alarm_description", string(&alarm.description));
    let block = match &alarm.excluding {
        None => single_metric(model, block, alarm, settings),
        Some(excluding) => metric_math(block, alarm, excluding, settings),
    };
    block
        .attr("alarm_actions", raw("var.alarm_actions"))
        .attr("ok_actions", raw("var.alarm_actions"))
        .attr("tags", raw("local.tags"))
}

/// An alarm on one metric.
fn single_metric(model: &Model, block: Block, alarm: &Alarm, settings: &Alarms) -> Block {
    let block = block
        .attr("namespace", namespace(alarm.metric.namespace))
        .attr("metric_name", string(alarm.metric.name))
        .attr("statistic", string(alarm.metric.statistic))
        .attr("period", number(settings.period_seconds))
        .attr("evaluation_periods", number(u64::from(settings.evaluation_periods)))
        .attr("comparison_operator", string("GreaterThanThreshold"))
        .attr("threshold", number(alarm.threshold))
        .attr("treat_missing_data", string("notBreaching"))
        .blank();
    match (alarm.watches.dimension(), dimension_value(alarm)) {
        (Some(dimension), Some(value)) => {
            let mut dimensions = vec![(dimension.into(), value)];
            dimensions.extend(bus_dimension(model, &alarm.watches));
            block.attr("dimensions", Expr::Object(dimensions)).blank()
        }
        _ => block,
    }
}

/// A rule's metrics name its bus too, unless it is the default bus (only `RuleName` there:
/// https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html).
fn bus_dimension(model: &Model, watched: &Watched) -> Option<(std::borrow::Cow<'static, str>, Expr)> {
    let Watched::BusRule(key) = watched else {
        return None;
    };
    let bus = model.bus(key);
    match &bus.bus {
        BusName::Existing(name) if name == DEFAULT_BUS => None,
        _ => Some(("EventBusName".into(), super::buses::bus_name(bus))),
    }
}

/// An alarm on its metric minus `excluding` (a count the module takes from log lines, missing until a line
/// matches: `FILL` makes that zero).
fn metric_math(block: Block, alarm: &Alarm, excluding: &Metric, settings: &Alarms) -> Block {
    let metric = |id: &str, m: &Metric, dimension: Option<(&'static str, Expr)>| {
        let inner = Block::new("metric", Vec::<String>::new())
            .attr("namespace", namespace(m.namespace))
            .attr("metric_name", string(m.name))
            .attr("stat", string(m.statistic))
            .attr("period", number(settings.period_seconds));
        let inner = match dimension {
            Some((key, value)) => inner.attr("dimensions", Expr::Object(vec![(key.into(), value)])),
            None => inner,
        };
        Block::new("metric_query", Vec::<String>::new())
            .attr("id", string(id))
            .block(inner)
    };
    let dimension = alarm.watches.dimension().zip(dimension_value(alarm));
    block
        .attr("evaluation_periods", number(u64::from(settings.evaluation_periods)))
        .attr("comparison_operator", string("GreaterThanThreshold"))
        .attr("threshold", number(alarm.threshold))
        .attr("treat_missing_data", string("notBreaching"))
        .blank()
        .comment("Faults only: the failed executions minus those the spec ends in a Fail state (counted from the execution log).")
        .block(
            Block::new("metric_query", Vec::<String>::new())
                .attr("id", string("faults"))
                .attr("expression", string(FAULTS_EXPRESSION))
                .attr("label", string("failed executions that are faults"))
                .attr("return_data", raw("true")),
        )
        .block(metric("failed", &alarm.metric, dimension))
        .block(metric("business", excluding, None))
        .blank()
}

/// The value of the alarm's one dimension, the watched resource's name or ARN; `None` for a metric the
/// module counts from log lines, which has no dimension.
fn dimension_value(alarm: &Alarm) -> Option<Expr> {
    Some(match &alarm.watches {
        Watched::Queue(key) => address::queue(key).attr("name"),
        Watched::DeadLetterQueue(key) => address::dead_letter_queue(key).attr("name"),
        Watched::StateMachine => address::state_machine().attr("arn"),
        Watched::Function(id) => address::function(*id).attr("function_name"),
        Watched::LogLines => return None,
        Watched::BusRule(key) => address::bus_rule(key).attr("name"),
        Watched::Topic(key) => address::topic(key).attr("name"),
    })
}
