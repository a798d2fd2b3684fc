//! `dashboard.tf`: the module's CloudWatch dashboard (while `var.dashboard_enabled`), its body the JSON of
//! [`crate::dashboard::body`] written as an HCL object in `jsonencode()`, so that a reviewer reads the widgets in
//! the `.tf` file and Terraform, not a template, makes the JSON.

use serde_json::Value;

use super::address;
use crate::dashboard::{self, Placement};
use crate::emit::hcl::{Expr, File, raw, template_text};
use crate::model::{Model, input};

/// What the body is built with: Terraform references, as template text, where each value goes.
const AT: Placement = Placement {
    name: "${var.name}",
    region: "${local.region}",
    partition: "${local.partition}",
    account: "${local.account_id}",
};

/// The file.
pub(super) fn file(header: &str, model: &Model) -> File {
    let mut file = File::new(header);
    file.push_commented(
        "Executions, how they failed (faults apart from the Fail states the spec declares), the Lambda functions, and\n\
         for each queue its waiting tasks, oldest message and dead letters. CloudWatch dashboards are global to an\n\
         account, so the name carries the region. Every name is built from var.name, as the policies' ARNs are:\n\
         known at plan time. var.dashboard_enabled = false removes it, and nothing else.",
        address::dashboard()
            .declare()
            .attr("count", raw(format!("var.{} ? 1 : 0", input::DASHBOARD_ENABLED)))
            .blank()
            .attr("dashboard_name", template(&dashboard::name(&AT)))
            .attr(
                "dashboard_body",
                Expr::Call("jsonencode".into(), vec![hcl(&dashboard::body(model, &AT))]),
            ),
    );
    file
}

/// A JSON value as HCL: objects over several lines, arrays of plain values (a metric) on one.
fn hcl(value: &Value) -> Expr {
    if let Some(text) = one_line(value) {
        return raw(text);
    }
    match value {
        Value::Object(fields) => Expr::Object(fields.iter().map(|(k, v)| (k.clone().into(), hcl(v))).collect()),
        Value::Array(items) => Expr::List(items.iter().map(hcl).collect()),
        _ => unreachable!("scalars fit one line"),
    }
}

/// A scalar, an array of scalars and flat objects, or a flat object inside such an array, on one line.
fn one_line(value: &Value) -> Option<String> {
    match value {
        Value::Null => Some("null".into()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(template_string(s)),
        Value::Array(items) => {
            let inner: Option<Vec<String>> = items
                .iter()
                .map(|item| match item {
                    Value::Object(_) => flat_object(item),
                    Value::Array(_) => None,
                    _ => one_line(item),
                })
                .collect();
            Some(format!("[{}]", inner?.join(", ")))
        }
        Value::Object(_) => None,
    }
}

/// An object whose values are all scalars, on one line: `{ label = "waiting", stat = "Maximum" }`.
fn flat_object(value: &Value) -> Option<String> {
    let Value::Object(fields) = value else { return None };
    let inner: Option<Vec<String>> = fields
        .iter()
        .map(|(k, v)| match v {
            Value::Array(_) | Value::Object(_) => None,
            _ => Some(format!("{k} = {}", one_line(v)?)),
        })
        .collect();
    Some(format!("{{ {} }}", inner?.join(", ")))
}

/// A string as a quoted HCL template: escaped, but for the references [`AT`] put in it.
fn template(text: &str) -> Expr {
    raw(template_string(text))
}

fn template_string(text: &str) -> String {
    let mut escaped = template_text(text);
    for reference in [AT.name, AT.region, AT.partition, AT.account] {
        escaped = escaped.replace(&format!("${reference}"), reference);
    }
    format!("\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_stay_references_and_other_text_is_escaped() {
        assert_eq!(
            template("${var.name}-${local.region}"),
            raw("\"${var.name}-${local.region}\"")
        );
        assert_eq!(template("a \"b\" ${x}"), raw("\"a \\\"b\\\" $${x}\""));
    }

    #[test]
    fn a_metric_is_one_line() {
        let metric = serde_json::json!(["AWS/SQS", "Age", "QueueName", "${var.name}-a", { "stat": "Maximum" }]);
        assert_eq!(
            one_line(&metric).as_deref(),
            Some("[\"AWS/SQS\", \"Age\", \"QueueName\", \"${var.name}-a\", { stat = \"Maximum\" }]")
        );
    }
}
