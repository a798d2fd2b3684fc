//! sfngen installs like a Rust tool and works on a clean checkout, on a machine with Rust and nothing else
//! the callback Lambda would need: no cargo-lambda or zig on PATH, and an empty cache.
//!
//! Each test starts from a clean copy of the repository (the files git tracks, or would track, as a clone
//! holds them) committed to a git repository of its own under `target/`, so that uncommitted work is
//! tested too. Cargo builds in folders under `target/` kept between runs (`clean-checkout-release`,
//! `clean-checkout-debug`): the dependencies compile once per machine, sfngen itself each run.
//!
//! - the README's CI recipe, line by line as written, with `<this repository>` the clean copy: `cargo install
//!   --locked --git`, then `sfngen check --deny-warnings` and `sfngen render --check` in `examples/vendored`
//!   (an infrastructure repository); then the pre-commit hooks' commands as `.pre-commit-hooks.yaml` writes
//!   them, and a first render of the seed by the installed binary, which is `modules/seed` byte for byte;
//! - `cargo package` (the check `cargo publish --dry-run` makes: it builds the crate from the packed files
//!   alone), the packed files (the shipped packages in, `lambda/` out) and the crate's size, and the binary
//!   built from the packed crate rendering the seed;
//! - the README's first command, `bash scripts/render-seed.sh`: cargo's progress, then the seed's module.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// crates.io refuses a `.crate` file over 10 MB (https://doc.rust-lang.org/cargo/reference/publishing.html).
const CRATES_IO_LIMIT: u64 = 10 * 1024 * 1024;

fn run(command: &mut Command) -> Output {
    let shown = format!("{command:?}");
    let output = command.output().unwrap_or_else(|e| panic!("{shown}: {e}"));
    assert!(
        output.status.success(),
        "{shown} exited {}:\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn git(dir: &Path, args: &[&str]) -> String {
    let output = run(Command::new("git")
        .args(["-c", "user.name=sfngen tests", "-c", "user.email=tests@sfngen.invalid"])
        .args(args)
        .current_dir(dir));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A clean copy of the repository at `target/NAME/repo`, committed (and tagged `v0.0.0-test`) in a git
/// repository of its own. Its path is the same every run, so cargo's git cache keeps one copy of it.
fn clean_checkout(name: &str) -> PathBuf {
    let repo = common::root().join("target").join(name).join("repo");
    if repo.exists() {
        std::fs::remove_dir_all(&repo).unwrap();
    }
    std::fs::create_dir_all(&repo).unwrap();
    let listed = git(
        &common::root(),
        &["ls-files", "--cached", "--others", "--exclude-standard", "-z"],
    );
    for file in listed.split('\0').filter(|f| !f.is_empty()) {
        let source = common::root().join(file);
        if !source.is_file() {
            continue; // deleted in the working tree
        }
        let target = repo.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&source, &target).unwrap();
    }
    git(&repo, &["init", "-q"]);
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "a clean copy"]);
    git(&repo, &["tag", "v0.0.0-test"]);
    repo
}

/// A cargo target folder kept between runs.
fn kept_target(name: &str) -> PathBuf {
    common::root().join("target").join(name)
}

/// A kept target folder with sfngen's own artifacts removed, so that cargo builds this checkout's sfngen (the
/// dependencies stay built). A git source's artifacts are fresh to cargo whenever their package id matches, and a
/// kept folder can hold a build of another commit that cargo would then install without building.
fn kept_target_without_sfngen(name: &str) -> PathBuf {
    let target = kept_target(name);
    for folder in [
        "release/.fingerprint",
        "release/deps",
        "release/build",
        "release/incremental",
    ] {
        let Ok(entries) = std::fs::read_dir(target.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name();
            let name = file_name.to_string_lossy();
            if name.starts_with("sfngen-") || name.starts_with("sfngen_") || name.starts_with("libsfngen") {
                let path = entry.path();
                let removed = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
                removed.unwrap_or_else(|e| panic!("removing {}: {e}", path.display()));
            }
        }
    }
    target
}

/// PATH without the folders that hold cargo-lambda or zig: a machine with Rust and nothing else.
fn path_without_lambda_tools() -> OsString {
    let path = std::env::var_os("PATH").expect("PATH is set");
    let kept: Vec<PathBuf> = std::env::split_paths(&path)
        .filter(|dir| !dir.join("cargo-lambda").exists() && !dir.join("zig").exists())
        .collect();
    std::env::join_paths(kept).unwrap()
}

/// Every file of `modules/seed` (its `tests/` folder's included) is in `module`, with the same bytes (the package
/// included).
fn assert_is_the_seed_module(module: &Path) {
    let seed = common::root().join("modules/seed");
    let mut compared = 0;
    let mut folders = vec![seed.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let name = path.strip_prefix(&seed).unwrap();
            let rendered = std::fs::read(module.join(name)).unwrap_or_default();
            assert!(
                rendered == std::fs::read(&path).unwrap(),
                "{} differs from modules/seed",
                module.join(name).display()
            );
            compared += 1;
        }
    }
    assert!(compared >= 10 && module.join("callback.zip").is_file());
}

/// The `- run:` lines of the README's CI recipe (the yaml block under "In CI and pre-commit").
fn readme_ci_recipe() -> Vec<String> {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let section = readme
        .split("### In CI and pre-commit")
        .nth(1)
        .expect("README: ### In CI and pre-commit");
    let block = section
        .split("```yaml")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("README: the CI recipe's yaml block");
    let commands: Vec<String> = block
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- run: "))
        .map(|command| command.split(" #").next().unwrap_or(command).trim().to_string())
        .collect();
    assert!(commands.len() >= 3, "{commands:?}");
    commands
}

/// `(entry, pass_filenames)` of a hook in `.pre-commit-hooks.yaml` (its own entry, not the header's example).
fn hook(id: &str) -> (String, bool) {
    let hooks = std::fs::read_to_string(common::root().join(".pre-commit-hooks.yaml")).unwrap();
    let body = hooks
        .split(&format!("\n- id: {id}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("no hook {id}"));
    let field = |name: &str| {
        body.lines()
            .take_while(|line| !line.starts_with("- id:"))
            .find_map(|line| line.trim().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("hook {id} has no {name}"))
            .to_string()
    };
    (field("entry"), field("pass_filenames") == "true")
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn the_readme_ci_recipe_and_pre_commit_hooks_pass_on_a_clean_checkout() {
    let repo = clean_checkout("clean-checkout-recipe");
    let install_root = repo.parent().unwrap().join("installed");
    if install_root.exists() {
        std::fs::remove_dir_all(&install_root).unwrap();
    }
    let mut path = vec![install_root.join("bin")];
    path.extend(std::env::split_paths(&path_without_lambda_tools()));
    let path = std::env::join_paths(path).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let vendored = repo.join("examples/vendored");
    let release_target = kept_target_without_sfngen("clean-checkout-release");
    for command in readme_ci_recipe() {
        let command = command.replace("<this repository>", &format!("file://{}", repo.display()));
        run(Command::new("bash")
            .args(["-euc", &command])
            .current_dir(&vendored)
            .env("PATH", &path)
            .env("CARGO_INSTALL_ROOT", &install_root)
            .env("CARGO_TARGET_DIR", &release_target)
            .env("SFNGEN_CACHE", cache.path()));
    }
    let sfngen = install_root.join("bin/sfngen");
    assert!(
        sfngen.is_file(),
        "the recipe's cargo install put no sfngen in {}",
        install_root.display()
    );

    // The hooks as pre-commit runs them in that repository: entry, the args its header shows, then (for a
    // hook that passes file names) the changed spec.
    let (render_check, passes_files) = hook("sfngen-render-check");
    assert!(!passes_files);
    let header_args = "sfngen.toml -o modules/callbacks";
    let hooks = std::fs::read_to_string(common::root().join(".pre-commit-hooks.yaml")).unwrap();
    assert!(
        hooks.contains("args: [sfngen.toml, -o, modules/callbacks]"),
        "the header's example args"
    );
    let (check, passes_files) = hook("sfngen-check");
    assert!(passes_files);
    for command in [format!("{render_check} {header_args}"), format!("{check} sfngen.toml")] {
        run(Command::new("bash")
            .args(["-euc", &command])
            .current_dir(&vendored)
            .env("PATH", &path)
            .env("SFNGEN_CACHE", cache.path()));
    }

    // A first render by the fresh install: empty cache, no Lambda tools; the whole module, package included.
    let fresh_cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    run(Command::new(&sfngen)
        .args(["render", "examples/seed/sfngen.toml", "-o"])
        .arg(out.path().join("seed"))
        .current_dir(&repo)
        .env("PATH", &path)
        .env("SFNGEN_CACHE", fresh_cache.path()));
    assert_is_the_seed_module(&out.path().join("seed"));
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn cargo_package_builds_the_crate_from_what_it_packs() {
    let repo = clean_checkout("clean-checkout-package");
    let target = kept_target("clean-checkout-debug");
    let listed = run(Command::new("cargo")
        .args(["package", "--locked", "--list"])
        .current_dir(&repo));
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    let files: Vec<&str> = listed.lines().collect();
    for needed in [
        "build.rs",
        "packages/callback-arm64.zip",
        "packages/callback-x86_64.zip",
        "packages/manifest.toml",
        "templates/module-README.md.j2",
        "src/lambda.rs",
    ] {
        assert!(files.contains(&needed), "the crate lacks {needed}:\n{listed}");
    }
    assert!(
        files
            .iter()
            .all(|f| !f.starts_with("lambda/") && !f.starts_with("modules/")),
        "{listed}"
    );
    // Packs, then builds the packed crate from its own files (the verification `cargo publish` makes).
    run(Command::new("cargo")
        .args(["package", "--locked"])
        .current_dir(&repo)
        .env("CARGO_TARGET_DIR", &target)
        .env("PATH", path_without_lambda_tools()));
    let packed = target.join("package/sfngen-0.1.0.crate");
    let size = std::fs::metadata(&packed).unwrap().len();
    assert!(size < CRATES_IO_LIMIT, "{} is {size} bytes", packed.display());
    let cache = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    run(Command::new(target.join("debug/sfngen"))
        .args(["render", "examples/seed/sfngen.toml", "-o"])
        .arg(out.path().join("seed"))
        .current_dir(&repo)
        .env("SFNGEN_CACHE", cache.path()));
    assert_is_the_seed_module(&out.path().join("seed"));
}

#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn the_readme_main_job_renders_the_seed_on_a_machine_with_only_rust() {
    let repo = clean_checkout("clean-checkout-main-job");
    let readme = std::fs::read_to_string(repo.join("README.md")).unwrap();
    let first = readme
        .split("```bash\n")
        .nth(1)
        .and_then(|block| block.lines().next())
        .expect("README: a first bash block");
    let command = first.split(" #").next().unwrap().trim();
    assert_eq!(command, "bash scripts/render-seed.sh");
    let cache = tempfile::tempdir().unwrap();
    let output = run(Command::new("bash")
        .args(["-euc", command])
        .current_dir(&repo)
        .env("PATH", path_without_lambda_tools())
        .env("CARGO_TARGET_DIR", kept_target("clean-checkout-debug"))
        .env("SFNGEN_CACHE", cache.path()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Finished"), "cargo's progress is shown:\n{stderr}");
    assert!(
        stderr.contains("rendered examples/seed/sfngen.toml into infra"),
        "{stderr}"
    );
    assert_is_the_seed_module(&repo.join("infra"));
}
