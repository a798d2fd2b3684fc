//! The module's own `templatefile()` call, evaluated by the real `terraform console`.

use std::path::Path;

use base64::Engine as _;
use hcl::expr::Expression;

/// The account and region in every concrete value.
const QUEUE_URL_PREFIX: &str = "https://sqs.us-east-1.amazonaws.com/123456789012/";

/// The URL a queue gets in [`evaluate_definition`], from its `templatefile()` variable's suffix.
pub fn queue_url(var_suffix: &str) -> String {
    format!("{QUEUE_URL_PREFIX}{var_suffix}")
}

/// The value a channel's `templatefile()` variable gets in [`evaluate_definition`], from the variable's name: a
/// queue's URL (`queue_url_KEY`), a topic's ARN (`topic_arn_KEY`), a bus's ARN (`bus_arn_KEY`). `None` for any
/// other variable.
pub fn channel_value(var: &str) -> Option<String> {
    if var == sfngen::emit::APPROVALS_QUEUE_URL_VAR {
        Some(queue_url("approvals"))
    } else if let Some(suffix) = var.strip_prefix("queue_url_") {
        Some(queue_url(suffix))
    } else if let Some(suffix) = var.strip_prefix("topic_arn_") {
        Some(format!("arn:aws:sns:us-east-1:123456789012:{suffix}"))
    } else {
        var.strip_prefix("bus_arn_")
            .map(|suffix| format!("arn:aws:events:us-east-1:123456789012:event-bus/{suffix}"))
    }
}

/// The definition AWS would receive, with the values [`evaluate_definition`] uses.
pub fn deployed_definition(model: &sfngen::model::Model) -> serde_json::Value {
    sfngen::emit::asl::deployed_definition(model, "aws", &|var| {
        channel_value(var).unwrap_or_else(|| panic!("{var} is no channel's variable"))
    })
}

/// The module's `definition = templatefile(...)` expression, exactly as rendered.
fn templatefile_call(state_machine_tf: &str) -> Expression {
    let body = hcl::parse(state_machine_tf).expect("state_machine.tf parses");
    let machine = body
        .blocks()
        .find(|b| {
            b.identifier() == "resource"
                && b.labels()
                    .first()
                    .is_some_and(|l| l.as_str() == "aws_sfn_state_machine")
        })
        .expect("an aws_sfn_state_machine");
    machine
        .body()
        .attributes()
        .find(|a| a.key() == "definition")
        .expect("a definition")
        .expr()
        .clone()
}

/// Replaces each template variable's reference with a concrete value of the kind AWS would give.
fn with_concrete_values(call: Expression) -> Expression {
    let Expression::FuncCall(mut call) = call else {
        panic!("definition is not a function call")
    };
    assert_eq!(call.name.name.as_str(), "templatefile");
    let Some(Expression::Object(vars)) = call.args.get_mut(1) else {
        panic!("templatefile has no vars object")
    };
    for (key, value) in vars.iter_mut() {
        let key = key.to_string();
        *value = Expression::String(match key.as_str() {
            "partition" => "aws".into(),
            other => channel_value(other).unwrap_or_else(|| panic!("unexpected template variable {other}")),
        });
    }
    Expression::FuncCall(call)
}

/// Evaluates the module's own `templatefile()` call with `terraform console`, as Terraform would at plan.
pub fn evaluate_definition(module: &Path) -> String {
    let tf = std::fs::read_to_string(module.join("state_machine.tf")).unwrap();
    let call = with_concrete_values(templatefile_call(&tf));
    let expression = format!("base64encode({})", hcl::format::to_string(&call).unwrap());
    // `path.module` of a root module is ".": run the console where a copy of the ASL file sits.
    let console_dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        module.join(sfngen::emit::ASL_FILE),
        console_dir.path().join(sfngen::emit::ASL_FILE),
    )
    .unwrap();
    let text = console(console_dir.path(), &expression);
    let encoded = text.trim().trim_matches('"');
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64"),
    )
    .unwrap()
}

/// The values of `expressions` as the real `terraform console` evaluates them (no module around them), as
/// JSON: one console run of `jsonencode([...])`.
pub fn evaluate(expressions: &[String]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let printed = console(dir.path(), &format!("jsonencode([{}])", expressions.join(", ")));
    let json: String = serde_json::from_str(printed.trim()).expect("console printed a string");
    serde_json::from_str(&json).expect("jsonencode gave JSON")
}

/// What `terraform console`, run in `dir`, prints for one expression (a console that reads a pipe prints
/// only its last value, so one expression a run).
fn console(dir: &Path, expression: &str) -> String {
    let mut child = super::tool("terraform")
        .arg("console")
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("terraform console");
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{expression}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "terraform console: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
