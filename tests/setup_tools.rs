//! `scripts/setup-tools.sh lambda` (the README's first command runs it) installs only what building the
//! callback Lambda needs: on a machine without qemu it neither installs qemu nor even looks for it.

mod common;

use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where `scripts/setup-tools.sh` installs the pinned tools (`SFNGEN_TOOLS`, as `scripts/tools-env.sh` sets it).
fn tools_dir() -> PathBuf {
    match std::env::var_os("SFNGEN_TOOLS") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/sfngen-tools"),
    }
}

/// A folder holding every command of this PATH except qemu, with `apt-get` and `sudo` replaced by stubs that
/// record their arguments in `calls` and succeed.
fn path_without_qemu(bin: &Path, calls: &Path) {
    std::fs::create_dir_all(bin).unwrap();
    for stub in ["apt-get", "sudo"] {
        let path = bin.join(stub);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"{stub} $*\" >>'{}'\n", calls.display()),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = std::env::var_os("PATH").expect("PATH is set");
    for folder in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let shadowed = bin.join(&name);
            if name.to_string_lossy().starts_with("qemu-") || shadowed.symlink_metadata().is_ok() {
                continue;
            }
            symlink(entry.path(), shadowed).unwrap();
        }
    }
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn lambda_mode_leaves_qemu_alone_on_a_machine_without_it() {
    let tools = tools_dir();
    let cargo_lambda = tools.join("cargo-lambda");
    assert!(
        cargo_lambda.join(".stamp").is_file(),
        "cargo-lambda is not installed in {}: run `bash scripts/setup-tools.sh && source scripts/tools-env.sh` \
         (scripts/test.sh does both)",
        tools.display()
    );
    let dir = tempfile::tempdir().unwrap();
    // A tools folder of its own, whose cargo-lambda is the installed one (its stamp matches: no reinstall).
    let own_tools = dir.path().join("tools");
    std::fs::create_dir_all(&own_tools).unwrap();
    symlink(&cargo_lambda, own_tools.join("cargo-lambda")).unwrap();
    let bin = dir.path().join("bin");
    let calls = dir.path().join("calls.log");
    path_without_qemu(&bin, &calls);
    assert!(!bin.join("qemu-aarch64-static").exists());

    let out = Command::new(bin.join("bash"))
        .arg("-x")
        .arg(common::root().join("scripts/setup-tools.sh"))
        .arg("lambda")
        .env("PATH", &bin)
        .env("SFNGEN_TOOLS", &own_tools)
        .output()
        .unwrap();
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "setup-tools.sh lambda failed:\n{trace}");
    let recorded = std::fs::read_to_string(&calls).unwrap_or_default();
    assert!(recorded.is_empty(), "lambda mode ran:\n{recorded}");
    // bash -x traces every command it runs: in lambda mode none of them is about qemu or its arm64 libc.
    for word in ["qemu", "aarch64-linux-gnu"] {
        let lines: Vec<&str> = trace.lines().filter(|l| l.contains(word)).collect();
        assert!(lines.is_empty(), "lambda mode looked at {word}:\n{}", lines.join("\n"));
    }
    // What lambda mode is for: cargo-lambda and the zig it links with, on the tools PATH.
    for command in ["cargo-lambda", "zig"] {
        let link = own_tools.join("bin").join(command);
        assert!(
            link.exists(),
            "{} is missing after setup-tools.sh lambda",
            link.display()
        );
    }
}
