//! The callback Lambda's build as a user sees it: on a terminal cargo's own progress, then one line
//! saying what was built, how long it took and where it is cached; without a terminal (CI, a log) a
//! start line and an end line only.
//!
//! A real cargo-lambda build. Each render gets a fresh cache folder, so the package is missing and
//! built; the folder links the usual cache's sources and target folders, so that after the first build
//! on a machine (about 2 minutes) cargo finds nothing to compile.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

/// A fresh cache that shares the usual cache's Lambda sources and cargo target folder.
fn fresh_package_cache() -> tempfile::TempDir {
    let shared = sfngen::lambda::cache_dir();
    let dir = tempfile::tempdir().unwrap();
    for folder in ["lambda-src", "lambda-target"] {
        std::fs::create_dir_all(shared.join(folder)).unwrap();
        std::os::unix::fs::symlink(shared.join(folder), dir.path().join(folder)).unwrap();
    }
    dir
}

fn render_args(out: &Path) -> Vec<String> {
    let seed = common::root().join("examples/seed/sfngen.toml");
    vec![
        env!("CARGO_BIN_EXE_sfngen").to_string(),
        "render".to_string(),
        seed.display().to_string(),
        "-o".to_string(),
        out.display().to_string(),
    ]
}

/// The line that ends a build: what, how long, where.
fn assert_end_line(line: &str, cache: &Path) {
    assert!(line.starts_with("built the callback Lambda (arm64, "), "{line}");
    assert!(line.contains(" MB zipped) in "), "{line}");
    let cached = format!("; cached in {}/lambda/", cache.display());
    assert!(line.contains(&cached) && line.ends_with("-arm64.zip"), "{line}");
}

#[test]
fn a_build_shows_cargo_on_a_terminal_and_two_lines_otherwise() {
    // Without a terminal: the start line, the end line, then render's own line; nothing of cargo's.
    let cache = fresh_package_cache();
    let out = tempfile::tempdir().unwrap();
    let args = render_args(&out.path().join("module"));
    let result = Command::new(&args[0])
        .args(&args[1..])
        .env("SFNGEN_CACHE", cache.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("building the callback Lambda for arm64 with cargo-lambda"),
        "{stderr}"
    );
    assert_end_line(lines[1], cache.path());
    assert!(lines[2].starts_with("rendered "), "{stderr}");
    assert!(out.path().join("module/callback.zip").is_file());

    // On a terminal (a pty from `script`): cargo's own output between the start and end lines.
    let cache = fresh_package_cache();
    let args = render_args(&out.path().join("module-tty"));
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let result = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .env("SFNGEN_CACHE", cache.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let terminal = String::from_utf8_lossy(&result.stdout).replace('\r', "");
    assert_eq!(result.status.code(), Some(0), "{terminal}");
    let lines: Vec<&str> = terminal.lines().collect();
    assert!(lines.len() > 3, "cargo printed nothing on the terminal:\n{terminal}");
    assert!(
        lines[0].starts_with("building the callback Lambda for arm64"),
        "{terminal}"
    );
    assert!(
        lines[1..lines.len() - 2].iter().any(|l| l.contains("Finished")),
        "no cargo progress between the start and end lines:\n{terminal}"
    );
    assert_end_line(lines[lines.len() - 2], cache.path());
    assert!(lines[lines.len() - 1].starts_with("rendered "), "{terminal}");
}
