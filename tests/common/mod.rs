//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod schema;
pub mod terraform;

use std::path::{Component, Path, PathBuf};
use std::process::Command;

use sfngen::emit::GeneratedFile;

/// The `sfngen` binary this test run built.
pub const SFNGEN: &str = env!("CARGO_BIN_EXE_sfngen");

/// A command running the `sfngen` binary this test run built.
pub fn sfngen() -> Command {
    Command::new(SFNGEN)
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every spec the tool tests render: the examples, `tests/data/specs/*.toml` and `tests/e2e/specs/*.toml`.
pub fn all_specs() -> Vec<PathBuf> {
    let mut specs = example_specs();
    for folder in ["tests/data/specs", "tests/e2e/specs"] {
        specs.extend(toml_files_in(folder));
    }
    specs
}

/// The `.toml` files of a repository folder, sorted.
pub fn toml_files_in(folder: &str) -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join(folder))
        .expect(folder)
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    specs.sort();
    specs
}

/// `examples/*/sfngen.toml`, sorted.
pub fn example_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .map(|e| e.expect("dir entry").path().join("sfngen.toml"))
        .filter(|p| p.exists())
        .collect();
    specs.sort();
    specs
}

/// A short name for a spec: its example folder, or its file stem.
pub fn spec_label(spec: &Path) -> String {
    if spec.file_name().is_some_and(|n| n == "sfngen.toml") {
        spec.parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        spec.file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Renders a spec file in memory, as `sfngen render` would.
pub fn render(spec: &Path) -> Vec<GeneratedFile> {
    let source = std::fs::read_to_string(spec).unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
    let name = spec.file_name().unwrap().to_string_lossy().into_owned();
    sfngen::render_source(&source, &name).unwrap_or_else(|d| panic!("{}: {d:#?}", spec.display()))
}

/// Renders a spec into a fresh temporary folder.
pub fn render_to_dir(spec: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in render(spec) {
        let path = dir.path().join(&file.path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, &file.contents).unwrap();
    }
    dir
}

/// The `.tf` files of a rendered module as `(name, text)`.
pub fn tf_files(files: &[GeneratedFile]) -> Vec<(String, String)> {
    files
        .iter()
        .filter(|f| f.path.ends_with(".tf"))
        .map(|f| (f.path.clone(), String::from_utf8(f.contents.clone()).expect("utf-8")))
        .collect()
}

/// An external tool that `scripts/setup-tools.sh` installs; the test fails with a clear message when
/// it is missing, never skips.
pub fn tool(name: &str) -> Command {
    let found = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or_default();
    match found {
        Some(path) => Command::new(path),
        None => panic!(
            "`{name}` is not on PATH: run `bash scripts/setup-tools.sh && source scripts/tools-env.sh` \
             (scripts/test.sh does both)"
        ),
    }
}

/// Runs a command; panics with its output unless it exits 0. Returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A stand-in Lambda package for tests that exercise files, not the function: `--lambda-zip` takes it.
pub fn fake_lambda_zip(dir: &Path) -> PathBuf {
    let path = dir.join("fake-callback.zip");
    std::fs::write(&path, sfngen::lambda::zip_bootstrap(b"#!/bin/sh\nexit 1\n").unwrap()).unwrap();
    path
}

/// Where an example's module is committed: `modules/NAME` for `examples/NAME`, or the folder its `render-to`
/// file names, relative to the example (`examples/vendored`: `modules/callbacks`, an infrastructure
/// repository's own layout).
pub fn example_module_dir(spec: &Path) -> PathBuf {
    let dir = spec.parent().expect("example folder");
    match std::fs::read_to_string(dir.join("render-to")) {
        Ok(target) => dir.join(target.trim()),
        Err(_) => root().join("modules").join(dir.file_name().expect("example name")),
    }
}

/// `path` with `.` and `..` applied, without touching the disk; `None` when `..` climbs above its start.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

/// Writes `sfngen schema` into `dir` as `sfngen.schema.json`; checks that it is JSON.
pub fn write_schema(dir: &Path) -> PathBuf {
    let out = sfngen().arg("schema").output().unwrap();
    assert!(out.status.success());
    let path = dir.join("sfngen.schema.json");
    std::fs::write(&path, &out.stdout).unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("the schema is JSON");
    path
}

/// `taplo check` of a spec against a schema file (a real JSON Schema validator).
pub fn taplo_check(schema: &Path, spec: &Path) -> std::process::Output {
    // taplo reads its file arguments as globs: a file named `x[0].toml` would be no file, and pass.
    assert!(
        !spec.to_string_lossy().contains(['[', ']', '*', '?']),
        "{}: taplo would read this path as a glob",
        spec.display()
    );
    tool("taplo")
        .arg("check")
        .arg("--schema")
        .arg(format!("file://{}", schema.display()))
        .arg(spec)
        .output()
        .unwrap()
}
