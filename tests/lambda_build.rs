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

/// Terminal output as a terminal shows it: of a line redrawn with `\r` (cargo's progress bar) the last
/// drawing, without colour and erase sequences.
fn as_displayed(raw: &str) -> String {
    let mut shown = String::new();
    for line in raw.split('\n') {
        let last = line.trim_end_matches('\r').rsplit('\r').next().unwrap_or_default();
        let mut chars = last.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                // CSI: ESC [ parameters, then one final letter.
                if chars.next() == Some('[') {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                }
                continue;
            }
            shown.push(c);
        }
        shown.push('\n');
    }
    shown
}

#[test]
fn terminal_output_reads_as_displayed() {
    assert_eq!(
        as_displayed("a\r\n\u{1b}[1m\u{1b}[92m  Building\u{1b}[0m [=> ] 3/9\r\u{1b}[K    Finished x\r\nend\r\n"),
        "a\n    Finished x\nend\n\n"
    );
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn a_build_shows_cargo_on_a_terminal_and_two_lines_otherwise() {
    // Without a terminal: the start line, the end line, then render's own lines (a line per file written,
    // left out here, and its summary); nothing of cargo's.
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
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("wrote ")).collect();
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
    let terminal = as_displayed(&String::from_utf8_lossy(&result.stdout));
    assert_eq!(result.status.code(), Some(0), "{terminal}");
    let lines: Vec<&str> = terminal
        .trim_end()
        .lines()
        .filter(|l| !l.starts_with("wrote "))
        .collect();
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
