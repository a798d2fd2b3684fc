//! `sfngen init`, `sfngen schema` (checked by taplo, a real JSON Schema validator) and `sfngen graph`.

mod common;

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn init_writes_a_starter_spec_that_checks_renders_and_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::sfngen().arg("init").current_dir(dir.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let spec = dir.path().join("sfngen.toml");
    let text = std::fs::read_to_string(&spec).unwrap();
    assert!(text.starts_with("#:schema ./sfngen.schema.json\n"));
    assert!(dir.path().join("sfngen.schema.json").exists());
    assert!(common::sfngen().arg("check").arg(&spec).status().unwrap().success());
    // taplo follows the #:schema line by itself.
    let taplo = common::tool("taplo")
        .arg("check")
        .arg(&spec)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(taplo.status.success(), "{}", String::from_utf8_lossy(&taplo.stderr));
    let zip = common::fake_lambda_zip(dir.path());
    let render = common::sfngen()
        .arg("render")
        .arg(&spec)
        .arg("-o")
        .arg(dir.path().join("infra"))
        .arg("--lambda-zip")
        .arg(&zip)
        .output()
        .unwrap();
    assert!(render.status.success(), "{}", String::from_utf8_lossy(&render.stderr));

    std::fs::write(&spec, "name = \"mine\"\n").unwrap();
    let again = common::sfngen().arg("init").current_dir(dir.path()).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("never overwrites"));
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), "name = \"mine\"\n");
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn every_valid_spec_in_the_repository_validates_against_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let schema = common::write_schema(dir.path());
    let mut specs = common::all_specs();
    specs.extend(
        std::fs::read_dir(common::root().join("tests/e2e/specs"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    );
    assert!(specs.len() >= 10);
    for spec in specs {
        let out = common::taplo_check(&schema, &spec);
        assert!(
            out.status.success(),
            "{}: {}",
            spec.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn the_schema_rejects_what_it_can_see_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let schema = common::write_schema(dir.path());
    let invalid = common::root().join("tests/cli/invalid");
    for case in [
        "unknown-top-level-key",
        "unknown-queue-key",
        "unknown-callback-key",
        "name-uppercase",
        "name-trailing-dash",
        "name-too-long",
        "name-wrong-type",
        "missing-name",
        "steps-empty",
        "step-name-forbidden-character",
        "step-name-too-long",
        "duration-bad-syntax",
        "log-level-unknown",
        "log-retention-not-allowed",
        "encryption-invalid",
        "dead-letter-max-receives-out-of-range",
        "dead-letter-wrong-type",
        "fifo-wrong-type",
        "callback-memory-out-of-range",
        "callback-architecture-unknown",
        "reserved-concurrency-zero",
        "tag-reserved-prefix",
        "message-path-key-in-array",
        "step-name-noncharacter",
    ] {
        let out = common::taplo_check(&schema, &invalid.join(format!("{case}.toml")));
        assert!(!out.status.success(), "{case} passed the schema");
    }
}

#[test]
fn graph_prints_the_diagram_the_module_readme_embeds() {
    for spec in common::example_specs() {
        let out = common::sfngen().arg("graph").arg(&spec).output().unwrap();
        assert!(out.status.success());
        let graph = String::from_utf8(out.stdout).unwrap();
        assert!(graph.starts_with("flowchart TD\n"));
        let readme = common::render(&spec)
            .into_iter()
            .find(|f| f.path == "README.md")
            .unwrap();
        let readme = String::from_utf8(readme.contents).unwrap();
        assert!(readme.contains(&format!("```mermaid\n{graph}```")), "{graph}");
    }
}
