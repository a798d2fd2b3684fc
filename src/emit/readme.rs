//! The module's README: what it deploys, diagrams, inputs and outputs, and how to send a callback.

use minijinja::value::Serde;
use minijinja::{Environment, UndefinedBehavior, Value, context};
use serde::Serialize;

use super::terraform::{AWS_PROVIDER_MIN, TERRAFORM_MIN, alarm_list, inputs, outputs_of};
use super::{GeneratedFile, generated_header};
use crate::duration::format_seconds;
use crate::model::{CatchTarget, Encryption, Model};

const TEMPLATE: &str = include_str!("../../templates/module-README.md.j2");

#[derive(Serialize)]
struct QueueRow {
    name: String,
    visibility: String,
    retention: String,
    encryption: &'static str,
    fifo: bool,
    dlq_name: Option<String>,
    max_receives: Option<u32>,
}

#[derive(Serialize)]
struct LogGroupRow {
    name: String,
    retention_days: u32,
}

/// One inline checkov skip found in the rendered Terraform.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Skip {
    /// Check id, such as `CKV_AWS_117`.
    pub check: String,
    /// `type.name` of the block that holds the skip.
    pub resource: String,
    /// The reason written beside it.
    pub reason: String,
}

/// Renders `README.md`, listing the checkov skips found in `terraform_files`.
pub fn render(model: &Model, terraform_files: &[GeneratedFile]) -> GeneratedFile {
    // Only the filters the template uses: registering all of minijinja's defaults costs more than
    // rendering the README does.
    let mut env = Environment::empty();
    env.add_filter("length", minijinja::filters::length);
    env.add_filter("replace", minijinja::filters::replace);
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    let mut text = env
        .render_str(TEMPLATE, context(model, terraform_files))
        .unwrap_or_else(|err| format!("README template error: {err:#}\n"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    GeneratedFile::text("README.md", text)
}

fn context(model: &Model, terraform_files: &[GeneratedFile]) -> Value {
    let queues: Vec<QueueRow> = model
        .queues
        .iter()
        .map(|q| QueueRow {
            name: q.name.clone(),
            visibility: format_seconds(q.visibility_timeout_seconds),
            retention: format_seconds(q.retention_seconds),
            encryption: encryption_label(&q.encryption),
            fifo: q.fifo,
            dlq_name: q.dead_letter.as_ref().map(|d| d.name.clone()),
            max_receives: q.dead_letter.as_ref().map(|d| d.max_receives),
        })
        .collect();
    let mut log_groups = Vec::new();
    if let Some(logging) = &model.state_machine.logging {
        log_groups.push(LogGroupRow {
            name: logging.log_group.name.clone(),
            retention_days: logging.log_group.retention_days,
        });
    }
    log_groups.push(LogGroupRow {
        name: model.callback.log_group.name.clone(),
        retention_days: model.callback.log_group.retention_days,
    });
    let any_kms = model.queues.iter().any(|q| q.encryption != Encryption::SqsManaged);
    context! {
        header => generated_header(model),
        name => model.name.clone(),
        steps => model.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>(),
        execution_timeout => format_seconds(model.state_machine.timeout_seconds),
        logging => match &model.state_machine.logging {
            Some(l) => format!("{} to CloudWatch Logs{}", l.level.as_str(), if l.include_execution_data { " with execution data" } else { "" }),
            None => "off".to_string(),
        },
        tracing => model.state_machine.tracing,
        queues => Value::from(Serde(queues)),
        first_queue => model.steps.first().map(|s| s.queue.clone()).unwrap_or_default(),
        any_fifo => model.queues.iter().any(|q| q.fifo),
        any_dlq => model.queues.iter().any(|q| q.dead_letter.is_some()),
        any_heartbeat => model.steps.iter().any(|s| s.heartbeat_seconds.is_some()),
        any_kms => any_kms,
        encryption_summary => encryption_summary(model),
        callback => context! {
            function_name => model.callback.function_name.clone(),
            architecture => model.callback.architecture.as_str(),
            memory_mb => model.callback.memory_mb,
            timeout => format_seconds(model.callback.timeout_seconds),
            reserved_concurrency => model.callback.reserved_concurrency,
        },
        log_groups => Value::from(Serde(log_groups)),
        module_key => model.module_key.as_ref().map(|k| k.alias.clone()),
        workflow_mermaid => workflow_mermaid(model),
        architecture_mermaid => architecture_mermaid(model),
        terraform_min => TERRAFORM_MIN,
        aws_min => AWS_PROVIDER_MIN,
        inputs => Value::from(Serde(inputs(model))),
        alarms => alarm_list(model).into_iter().map(|a| context! { name => a.name, description => a.description }).collect::<Vec<_>>(),
        outputs => Value::from(Serde(outputs_of(model))),
        skips => Value::from(Serde(checkov_skips(terraform_files))),
    }
}

fn encryption_label(encryption: &Encryption) -> &'static str {
    match encryption {
        Encryption::SqsManaged => "SSE-SQS",
        Encryption::ModuleKey => "SSE-KMS (module key)",
        Encryption::KeyArn(_) | Encryption::KeyAlias(_) => "SSE-KMS (your key)",
    }
}

fn encryption_summary(model: &Model) -> String {
    let mut labels: Vec<&str> = model.queues.iter().map(|q| encryption_label(&q.encryption)).collect();
    labels.sort();
    labels.dedup();
    format!("encrypted at rest ({})", labels.join(", "))
}

/// The workflow as a mermaid flowchart: one node per step, in order.
pub fn workflow_mermaid(model: &Model) -> String {
    let mut lines = vec!["flowchart TD".to_string(), "  start((Start))".to_string()];
    let mut previous = "start".to_string();
    for (index, step) in model.steps.iter().enumerate() {
        let id = format!("s{index}");
        let mut label = format!("{}<br/>queue: {}", escape_mermaid(&step.name), step.queue);
        if let Some(t) = step.timeout_seconds {
            label.push_str(&format!("<br/>timeout {}", format_seconds(t)));
        }
        if let Some(h) = step.heartbeat_seconds {
            label.push_str(&format!("<br/>heartbeat {}", format_seconds(h)));
        }
        lines.push(format!("  {previous} --> {id}[\"{label}\"]"));
        previous = id;
    }
    lines.push(format!("  {previous} --> finish((End))"));
    for (index, step) in model.steps.iter().enumerate() {
        for catch in &step.catch {
            let errors = escape_mermaid(&catch.errors.join(", "));
            let target = match &catch.target {
                CatchTarget::Step(name) => {
                    format!("s{}", model.steps.iter().position(|s| &s.name == name).unwrap_or(0))
                }
                CatchTarget::Fail { state, error, .. } => {
                    format!(
                        "{}[\"{}<br/>Fail: {}\"]",
                        fail_id(state),
                        escape_mermaid(state),
                        escape_mermaid(error)
                    )
                }
            };
            lines.push(format!("  s{index} -. \"{errors}\" .-> {target}"));
        }
        for retry in &step.retry {
            let errors = escape_mermaid(&retry.errors.join(", "));
            lines.push(format!(
                "  s{index} -. \"retry {errors} x{}\" .-> s{index}",
                retry.max_attempts
            ));
        }
    }
    lines.join("\n")
}

/// The services and who calls whom.
pub fn architecture_mermaid(model: &Model) -> String {
    let mut lines = vec![
        "flowchart LR".to_string(),
        "  client([Client]) -- StartExecution --> sfn[\"State machine<br/>".to_string()
            + &model.state_machine.name
            + "\"]",
    ];
    for (index, queue) in model.queues.iter().enumerate() {
        lines.push(format!(
            "  sfn -- \"SendMessage {{input, token}}\" --> q{index}[(\"SQS<br/>{}\")]",
            queue.name
        ));
        lines.push(format!("  q{index} -- ReceiveMessage --> worker([Your worker])"));
        if let Some(dlq) = &queue.dead_letter {
            lines.push(format!(
                "  q{index} -. \"after {} receives\" .-> d{index}[(\"DLQ<br/>{}\")]",
                dlq.max_receives, dlq.name
            ));
        }
    }
    lines.push(format!(
        "  worker -- \"Invoke {{token, status}}\" --> fn[\"Lambda<br/>{}\"]",
        model.callback.function_name
    ));
    lines.push("  fn -- \"SendTaskSuccess / Failure / Heartbeat\" --> sfn".to_string());
    lines.join("\n")
}

/// A mermaid node id for a Fail state: its name's alphanumerics.
fn fail_id(state: &str) -> String {
    format!(
        "fail_{}",
        state.chars().filter(char::is_ascii_alphanumeric).collect::<String>()
    )
}

fn escape_mermaid(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// Every `#checkov:skip=ID: reason` line, with the block it sits in.
pub fn checkov_skips(files: &[GeneratedFile]) -> Vec<Skip> {
    let mut skips = Vec::new();
    for file in files.iter().filter(|f| f.path.ends_with(".tf")) {
        let text = String::from_utf8_lossy(&file.contents);
        let mut current = String::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("resource ").or_else(|| line.strip_prefix("data ")) {
                let labels: Vec<&str> = rest.split('"').filter(|s| !s.trim().is_empty() && *s != " {").collect();
                current = labels.iter().take(2).copied().collect::<Vec<_>>().join(".");
                if line.starts_with("data ") {
                    current = format!("data.{current}");
                }
            }
            if let Some(skip) = line.trim().strip_prefix("#checkov:skip=") {
                let (check, reason) = skip.split_once(':').unwrap_or((skip, ""));
                skips.push(Skip {
                    check: check.trim().to_string(),
                    resource: current.clone(),
                    reason: reason.trim().to_string(),
                });
            }
        }
    }
    skips
}
