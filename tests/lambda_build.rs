//! The callback packages sfngen ships, and a build from source as a user sees it.
//!
//! `packages/callback-ARCH.zip` are built from `lambda/` by `scripts/refresh-packages.sh`, which records
//! what made them in `packages/manifest.toml`. Plain `cargo test` fails when a file of `lambda/` is not the
//! one the manifest lists (the packages would no longer be what the sources build to), naming the command
//! that refreshes them; `scripts/test.sh` rebuilds both and compares them byte for byte
//! (`scripts/refresh-packages.sh --check`).
//!
//! `render --lambda-source` builds with cargo-lambda: on a terminal cargo's own progress, then one line
//! saying what was built, from where and how long it took; without a terminal (CI, a log) a start line
//! and an end line only. A real build, in sfngen's cache (`lambda-build`, under its lock), which the
//! check shares: after the first build on a machine cargo finds little to compile.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use sfngen::model::Architecture;
use sha2::{Digest, Sha256};

const REFRESH: &str = "bash scripts/refresh-packages.sh";

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `packages/manifest.toml`: its tables of file name to SHA-256 (and of tool to version).
fn manifest() -> BTreeMap<String, BTreeMap<String, String>> {
    let path = common::root().join("packages/manifest.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}; run {REFRESH}", path.display()));
    toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_shipped_packages_are_built_from_lambda_as_it_is() {
    let lambda = common::root().join("lambda");
    let listed = &manifest()["sources"];
    let files = sfngen::lambda::source_files(&lambda).unwrap();
    assert!(files.contains(&"src/main.rs".to_string()), "{files:?}");
    let mut changed = Vec::new();
    for file in &files {
        let sha = hex_sha256(&std::fs::read(lambda.join(file)).unwrap());
        match listed.get(file) {
            Some(listed) if *listed == sha => {}
            Some(_) => changed.push(format!("lambda/{file} changed")),
            None => changed.push(format!("lambda/{file} is new")),
        }
    }
    changed.extend(
        listed
            .keys()
            .filter(|file| !files.contains(file))
            .map(|file| format!("lambda/{file} is gone")),
    );
    assert!(
        changed.is_empty(),
        "the callback packages in packages/ were built from other sources than lambda/ holds now:\n  {}\n\
         rebuild them (and the example modules' callback.zip) with: {REFRESH}",
        changed.join("\n  ")
    );
}

#[test]
fn the_manifest_names_the_shipped_bytes_and_the_toolchain() {
    let manifest = manifest();
    for architecture in [Architecture::Arm64, Architecture::X86_64] {
        let name = format!("callback-{}.zip", architecture.as_str());
        let on_disk = std::fs::read(common::root().join("packages").join(&name)).unwrap();
        let shipped = sfngen::lambda::shipped(architecture);
        assert_eq!(
            shipped.bytes,
            on_disk.as_slice(),
            "{name}: sfngen embeds packages/{name}"
        );
        assert_eq!(
            manifest["packages"].get(&name).map(String::as_str),
            Some(shipped.sha256),
            "packages/{name} is not the package the manifest lists: run {REFRESH}"
        );
    }
    let toolchain = &manifest["toolchain"];
    let pinned = std::fs::read_to_string(common::root().join("lambda/rust-toolchain.toml")).unwrap();
    let channel: toml::Table = toml::from_str(&pinned).unwrap();
    let channel = channel["toolchain"]["channel"].as_str().unwrap();
    assert!(
        toolchain["rustc"].starts_with(&format!("rustc {channel} ")),
        "the packages were built with {}, lambda/rust-toolchain.toml pins {channel}: run {REFRESH}",
        toolchain["rustc"]
    );
    assert!(
        toolchain["cargo-lambda"].starts_with(&format!("cargo-lambda {} ", sfngen::lambda::CARGO_LAMBDA_VERSION)),
        "{toolchain:?}"
    );
    let setup = std::fs::read_to_string(common::root().join("scripts/setup-tools.sh")).unwrap();
    assert!(
        setup.contains(&format!("\nZIGLANG={}\n", toolchain["zig"])),
        "scripts/setup-tools.sh does not pin the zig the packages were linked with ({})",
        toolchain["zig"]
    );
}

/// ELF's `e_machine` of each package's `bootstrap`: the architecture it runs on.
#[test]
fn each_package_holds_an_executable_bootstrap_for_its_architecture() {
    use std::io::Read as _;
    for (architecture, machine) in [(Architecture::Arm64, 183u16), (Architecture::X86_64, 62)] {
        let shipped = sfngen::lambda::shipped(architecture);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(shipped.bytes)).unwrap();
        let mut entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut header = [0u8; 20];
        entry.read_exact(&mut header).unwrap();
        assert_eq!(&header[..4], b"\x7fELF");
        assert_eq!(
            u16::from_le_bytes([header[18], header[19]]),
            machine,
            "{}",
            architecture.as_str()
        );
    }
}

fn render_args(out: &Path) -> Vec<String> {
    let seed = common::root().join("examples/seed/sfngen.toml");
    vec![
        env!("CARGO_BIN_EXE_sfngen").to_string(),
        "render".to_string(),
        seed.display().to_string(),
        "-o".to_string(),
        out.display().to_string(),
        "--lambda-source".to_string(),
        common::root().join("lambda").display().to_string(),
    ]
}

/// The lines a build prints, less the one that says it waits for another build to release the lock.
fn build_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|line| !line.starts_with("waiting for another build of the callback Lambda"))
        .collect()
}

/// The line that ends a build: what, from where, how long.
fn assert_end_line(line: &str) {
    assert!(line.starts_with("built the callback Lambda (arm64, "), "{line}");
    let from = format!(" MB zipped) from {} in ", common::root().join("lambda").display());
    assert!(line.contains(&from), "{line}");
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
fn a_build_from_source_shows_cargo_on_a_terminal_and_two_lines_otherwise() {
    // Without a terminal: the start line, the end line, then render's own line; nothing of cargo's.
    let out = tempfile::tempdir().unwrap();
    let args = render_args(&out.path().join("module"));
    let result = Command::new(&args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    let lines = build_lines(&stderr);
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(
        lines[0].starts_with("building the callback Lambda for arm64 with cargo-lambda"),
        "{stderr}"
    );
    assert_end_line(lines[1]);
    assert!(lines[2].starts_with("rendered "), "{stderr}");
    assert!(out.path().join("module/callback.zip").is_file());

    // On a terminal (a pty from `script`): cargo's own output between the start and end lines.
    let args = render_args(&out.path().join("module-tty"));
    let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
    let result = Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let terminal = as_displayed(&String::from_utf8_lossy(&result.stdout));
    assert_eq!(result.status.code(), Some(0), "{terminal}");
    let lines = build_lines(terminal.trim_end());
    assert!(lines.len() > 3, "cargo printed nothing on the terminal:\n{terminal}");
    assert!(
        lines[0].starts_with("building the callback Lambda for arm64"),
        "{terminal}"
    );
    assert!(
        lines[1..lines.len() - 2].iter().any(|l| l.contains("Finished")),
        "no cargo progress between the start and end lines:\n{terminal}"
    );
    assert_end_line(lines[lines.len() - 2]);
    assert!(lines[lines.len() - 1].starts_with("rendered "), "{terminal}");
}

#[test]
fn without_cargo_lambda_a_build_from_source_says_what_to_do_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("module");
    // A PATH holding a `cargo` that knows no `lambda` subcommand.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        "#!/bin/sh\necho \"error: no such command: \\`$1\\`\" >&2\nexit 101\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    let args = render_args(&out);
    let result = Command::new(&args[0])
        .args(&args[1..])
        .env("PATH", &bin)
        .env("SFNGEN_CACHE", dir.path().join("cache"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("cargo-lambda is needed to build the callback Lambda from source"),
        "{stderr}"
    );
    assert!(stderr.contains("leave out --lambda-source"), "{stderr}");
    assert!(!out.exists());
}
