//! The rendered modules judged by the real tools a platform team runs: `terraform fmt` (the real binary),
//! HashiCorp's HCL parser, `terraform console` evaluating the module's own `templatefile()` call,
//! asl-validator, and checkov. Tools come from `scripts/setup-tools.sh`; a missing tool fails the test.

mod common;

use std::path::Path;

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn terraform_fmt_accepts_every_rendered_module() {
    for spec in common::all_specs() {
        let dir = common::render_to_dir(&spec);
        let out = common::tool("terraform")
            .args(["fmt", "-check", "-diff", "-recursive"])
            .arg(dir.path())
            .output()
            .expect("terraform fmt");
        assert!(
            out.status.success(),
            "terraform fmt -check failed for {}:\n{}{}",
            common::spec_label(&spec),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn terraform_fmt_check_catches_misaligned_hcl() {
    // The judge itself must be able to fail: a file with unaligned `=` is reported.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.tf"), "locals {\n  a = 1\n  bbb = 2\n}\n").unwrap();
    let status = common::tool("terraform")
        .args(["fmt", "-check"])
        .arg(dir.path())
        .output()
        .unwrap()
        .status;
    assert!(!status.success());
}

fn hcl2json(files: &[std::path::PathBuf]) -> std::process::Output {
    let node_modules = Path::new(&std::env::var("SFNGEN_TOOLS").expect("SFNGEN_TOOLS: source scripts/tools-env.sh"))
        .join("node/node_modules");
    common::tool("node")
        .env("NODE_PATH", node_modules)
        .arg(common::root().join("tests/tools/hcl2json.cjs"))
        .args(files)
        .output()
        .expect("node")
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn hashicorps_hcl_parser_accepts_every_rendered_file() {
    for spec in common::all_specs() {
        let dir = common::render_to_dir(&spec);
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        assert!(
            files.len() >= 8,
            "{}: only {} .tf files",
            common::spec_label(&spec),
            files.len()
        );
        let out = hcl2json(&files);
        assert!(
            out.status.success(),
            "{}: {}",
            common::spec_label(&spec),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.tf");
    std::fs::write(&bad, "resource \"x\" \"y\" {\n").unwrap();
    assert!(!hcl2json(&[bad]).status.success(), "the parser must reject broken HCL");
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn the_templatefile_call_evaluates_to_asl_that_validates() {
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let dir = common::render_to_dir(&spec);
        let definition = common::terraform::evaluate_definition(dir.path());
        let json: serde_json::Value = serde_json::from_str(&definition).unwrap_or_else(|e| panic!("{label}: {e}"));
        // Every placeholder substituted, and every text from the spec verbatim (`${`, `%{` included).
        let source = std::fs::read_to_string(&spec).unwrap();
        let file_name = spec.file_name().unwrap().to_string_lossy();
        let model = sfngen::load_model(&source, &file_name).unwrap_or_else(|e| panic!("{label}: {e:?}"));
        let expected = common::terraform::deployed_definition(&model);
        assert_eq!(
            json, expected,
            "{label}: what templatefile() evaluates to is not the spec's workflow"
        );
        let states = json["States"].as_object().expect("States");
        // A fan-out step's callback Task is inside its Map's item processor.
        let tasks: Vec<&serde_json::Value> = states
            .values()
            .flat_map(|s| match s["ItemProcessor"]["States"].as_object() {
                Some(inner) => inner.values().collect(),
                None => vec![s],
            })
            .filter(|s| s["Type"] == "Task")
            .collect();
        let fan_outs = states.values().filter(|s| s["Type"] == "Map").count();
        assert_eq!(
            tasks.len(),
            model.steps.len(),
            "{label}: one callback Task per step ({fan_outs} of them in a Map)"
        );
        // Each Task on its channel's integration, carrying the token in its message (an SQS body, an SNS message,
        // an event's detail), addressed to a queue URL, a topic ARN or a bus ARN.
        for state in tasks {
            let parameters = &state["Parameters"];
            let (integration, message, address, prefix) = match state["Resource"].as_str() {
                Some("arn:aws:states:::sqs:sendMessage.waitForTaskToken") => (
                    "sqs",
                    &parameters["MessageBody"],
                    &parameters["QueueUrl"],
                    "https://sqs.",
                ),
                Some("arn:aws:states:::sns:publish.waitForTaskToken") => {
                    ("sns", &parameters["Message"], &parameters["TopicArn"], "arn:aws:sns:")
                }
                Some("arn:aws:states:::events:putEvents.waitForTaskToken") => (
                    "events",
                    &parameters["Entries"][0]["Detail"],
                    &parameters["Entries"][0]["EventBusName"],
                    "arn:aws:events:",
                ),
                other => panic!("{label}: a Task on no channel sfngen knows: {other:?}"),
            };
            assert_eq!(message["token.$"], "$$.Task.Token", "{label}: {integration}");
            assert!(
                address.as_str().is_some_and(|a| a.starts_with(prefix)),
                "{label}: {integration} addressed to {address}"
            );
        }
        let file = dir.path().join("evaluated.asl.json");
        std::fs::write(&file, &definition).unwrap();
        let out = common::tool("asl-validator")
            .arg("--json-path")
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{label}: asl-validator rejected the definition:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn asl_validator_rejects_a_broken_definition() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.asl.json");
    std::fs::write(&file, r#"{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken", "Next": "Missing"}}}"#).unwrap();
    assert!(
        !common::tool("asl-validator")
            .arg("--json-path")
            .arg(&file)
            .output()
            .unwrap()
            .status
            .success()
    );
}

/// The validation `condition` of a rendered module's input, as written.
fn validation_condition(module: &Path, variable: &str) -> String {
    let body: hcl::Body = hcl::parse(&std::fs::read_to_string(module.join("variables.tf")).unwrap()).unwrap();
    let block = body
        .blocks()
        .find(|b| b.identifier() == "variable" && b.labels()[0].as_str() == variable)
        .unwrap_or_else(|| panic!("no variable {variable}"));
    let validation = block
        .body()
        .blocks()
        .find(|b| b.identifier() == "validation")
        .expect("a validation");
    let condition = validation
        .body()
        .attributes()
        .find(|a| a.key() == "condition")
        .expect("a condition");
    hcl::format::to_string(condition.expr()).unwrap()
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn the_permissions_boundary_check_admits_customer_and_aws_managed_policies() {
    let dir = common::render_to_dir(&common::root().join("examples/seed/sfngen.toml"));
    let condition = validation_condition(dir.path(), "permissions_boundary");
    let cases = [
        ("null", true),
        ("\"arn:aws:iam::123456789012:policy/boundary\"", true),
        ("\"arn:aws:iam::123456789012:policy/teams/platform/boundary\"", true),
        ("\"arn:aws:iam::aws:policy/PowerUserAccess\"", true),
        ("\"arn:aws-us-gov:iam::aws:policy/job-function/ViewOnlyAccess\"", true),
        ("\"arn:aws-cn:iam::123456789012:policy/boundary\"", true),
        ("\"arn:aws:iam::awsx:policy/PowerUserAccess\"", false),
        ("\"arn:aws:iam::12345:policy/boundary\"", false),
        ("\"arn:aws:iam::aws:role/PowerUserAccess\"", false),
        ("\"arn:aws:iam::123456789012:policy/\"", false),
        ("\"PowerUserAccess\"", false),
    ];
    let expressions: Vec<String> = cases
        .iter()
        .map(|(value, _)| condition.replace("var.permissions_boundary", value))
        .collect();
    let results = common::terraform::evaluate(&expressions);
    for ((value, admitted), result) in cases.iter().zip(results) {
        assert_eq!(result, serde_json::Value::Bool(*admitted), "{value}");
    }
}

/// Checks checkov passed, and each failure as (check id, resource, check name).
fn checkov_failures(dir: &Path) -> (usize, Vec<(String, String, String)>) {
    let out = common::tool("checkov")
        .args([
            "--framework",
            "terraform",
            "--compact",
            "--quiet",
            "-o",
            "json",
            "--skip-download",
            "-d",
        ])
        .arg(dir)
        .output()
        .expect("checkov");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let reports = match report {
        serde_json::Value::Array(items) => items,
        single => vec![single],
    };
    let mut passed = 0;
    let mut failed = Vec::new();
    for r in &reports {
        passed += r["summary"]["passed"].as_u64().unwrap_or(0) as usize;
        for f in r["results"]["failed_checks"].as_array().into_iter().flatten() {
            let text = |key: &str| f[key].as_str().unwrap_or_default().to_string();
            failed.push((text("check_id"), text("resource"), text("check_name")));
        }
    }
    (passed, failed)
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn checkov_finds_nothing_but_the_documented_inline_skips() {
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let dir = common::render_to_dir(&spec);
        let (passed, failed) = checkov_failures(dir.path());
        assert!(passed > 40, "{label}: checkov ran only {passed} checks");
        assert!(failed.is_empty(), "{label}: checkov failures:\n{failed:#?}");
        // Every skip carries a reason, and the README lists every one.
        let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
        for file in common::render(&spec).iter().filter(|f| f.path.ends_with(".tf")) {
            for line in String::from_utf8_lossy(&file.contents).lines() {
                if let Some(skip) = line.trim().strip_prefix("#checkov:skip=") {
                    let (id, reason) = skip.split_once(':').expect("skip with a reason");
                    assert!(reason.trim().len() > 10, "{label}: {id} has no real reason");
                    assert!(
                        readme.contains(&format!("`{id}`")),
                        "{label}: README does not list {id}"
                    );
                }
            }
        }
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn every_checkov_skip_is_load_bearing_and_describes_the_default() {
    // Without its inline skips each module fails exactly the skipped checks on exactly the skipped
    // resources: checkov reads each variable's default (the spec's value), so a skip that no longer fits
    // the default (tracing on, a year of retention...) would show here as a skip with nothing to skip.
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let dir = common::render_to_dir(&spec);
        let mut skipped = Vec::new();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|x| x == "tf") {
                let text = std::fs::read_to_string(&path).unwrap();
                skipped.extend(skips_by_resource(&text));
                let stripped: String = text
                    .lines()
                    .filter(|l| !l.contains("#checkov:skip="))
                    .map(|l| format!("{l}\n"))
                    .collect();
                std::fs::write(&path, stripped).unwrap();
            }
        }
        // One exception, and it is checkov's: an attribute set to a variable whose default is null counts
        // as set, so CKV_AWS_115 passes an unreserved function. The skip states the truth for a reviewer.
        let unreserved = skipped.contains(&("CKV_AWS_115".to_string(), "aws_lambda_function.callback".to_string()));
        let (_, failed) = checkov_failures(dir.path());
        let mut failed: Vec<(String, String)> = failed.into_iter().map(|(id, resource, _)| (id, resource)).collect();
        if unreserved {
            failed.push(("CKV_AWS_115".into(), "aws_lambda_function.callback".into()));
        }
        failed.sort();
        skipped.sort();
        assert_eq!(failed, skipped, "{label}: checkov without the skips");
    }
}

/// Each `#checkov:skip=ID` of a .tf file with the address checkov reports for its block (`type.name`,
/// data sources without `data.`).
fn skips_by_resource(text: &str) -> Vec<(String, String)> {
    let mut resource = String::new();
    let mut found = Vec::new();
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("resource ").or_else(|| line.strip_prefix("data ")) {
            let labels: Vec<&str> = head
                .split('"')
                .filter(|part| !part.trim().is_empty() && *part != " {")
                .collect();
            resource = labels[..2].join(".");
        }
        if let Some(skip) = line.trim().strip_prefix("#checkov:skip=") {
            let (id, _) = skip.split_once(':').expect("a skip with a reason");
            found.push((id.to_string(), resource.clone()));
        }
    }
    found
}
