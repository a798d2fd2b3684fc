//! The rendered modules judged by the real tools a platform team runs: `terraform fmt` (the real binary),
//! HashiCorp's HCL parser, `terraform console` evaluating the module's own `templatefile()` call,
//! asl-validator, and checkov. Tools come from `scripts/setup-tools.sh`; a missing tool fails the test.

mod common;

use std::path::Path;

use base64::Engine as _;
use hcl::expr::Expression;

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
            queue if queue.starts_with("queue_url_") => {
                format!(
                    "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
                    &queue["queue_url_".len()..]
                )
            }
            other => panic!("unexpected template variable {other}"),
        });
    }
    Expression::FuncCall(call)
}

/// Evaluates the module's own `templatefile()` call with `terraform console`, as Terraform would at plan.
fn evaluate_definition(module: &Path) -> String {
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
    let mut child = common::tool("terraform")
        .arg("console")
        .current_dir(console_dir.path())
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
    let text = String::from_utf8(out.stdout).unwrap();
    let encoded = text.trim().trim_matches('"');
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64"),
    )
    .unwrap()
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn the_templatefile_call_evaluates_to_asl_that_validates() {
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let dir = common::render_to_dir(&spec);
        let definition = evaluate_definition(dir.path());
        let json: serde_json::Value = serde_json::from_str(&definition).unwrap_or_else(|e| panic!("{label}: {e}"));
        // Every placeholder substituted, and every text from the spec verbatim (`${`, `%{` included).
        let source = std::fs::read_to_string(&spec).unwrap();
        let file_name = spec.file_name().unwrap().to_string_lossy();
        let model = sfngen::load_model(&source, &file_name).unwrap_or_else(|e| panic!("{label}: {e:?}"));
        let expected = sfngen::emit::asl::deployed_definition(&model, "aws", &|queue| {
            format!(
                "https://sqs.us-east-1.amazonaws.com/123456789012/{}",
                queue.replace('-', "_")
            )
        });
        assert_eq!(
            json, expected,
            "{label}: what templatefile() evaluates to is not the spec's workflow"
        );
        let states = json["States"].as_object().expect("States");
        for state in states.values().filter(|s| s["Type"] == "Task") {
            assert_eq!(state["Resource"], "arn:aws:states:::sqs:sendMessage.waitForTaskToken");
            assert_eq!(state["Parameters"]["MessageBody"]["token.$"], "$$.Task.Token");
            assert!(
                state["Parameters"]["QueueUrl"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://sqs.")
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

fn checkov_failures(dir: &Path) -> (usize, Vec<String>) {
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
            failed.push(format!("{} {} ({})", f["check_id"], f["resource"], f["check_name"]));
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
        assert!(failed.is_empty(), "{label}: checkov failures:\n{}", failed.join("\n"));
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
fn checkov_fails_a_module_without_the_skips() {
    // Without its inline skips the seed module fails checkov: the skips are load-bearing, and the
    // test above would notice a regression that made them necessary for other reasons.
    let spec = common::root().join("examples/seed/sfngen.toml");
    let dir = common::render_to_dir(&spec);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "tf") {
            let text = std::fs::read_to_string(&path).unwrap();
            let stripped: String = text
                .lines()
                .filter(|l| !l.contains("#checkov:skip="))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&path, stripped).unwrap();
        }
    }
    let (_, failed) = checkov_failures(dir.path());
    assert!(!failed.is_empty());
}
