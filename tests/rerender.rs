//! Re-rendering: a module already up to date is not written at all (no file, no folder entry, no
//! modification time changes), a changed file is the only one rewritten, and the Lambda package is
//! the user's bytes or the cache's, never shared with a file the user may change.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::process::Command;

/// What a write would change: each entry's inode, size, modification and change times (and the
/// folder's own, which change when an entry is created, renamed or removed).
type Snapshot = BTreeMap<String, (u64, u64, i64, i64, i64, i64)>;

fn snapshot(dir: &Path) -> Snapshot {
    let stamp = |meta: std::fs::Metadata| {
        (
            meta.ino(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec(),
        )
    };
    let mut snapshot: Snapshot = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                stamp(e.metadata().unwrap()),
            )
        })
        .collect();
    snapshot.insert(".".into(), stamp(std::fs::metadata(dir).unwrap()));
    snapshot
}

fn render(spec: &Path, out: &Path, lambda_zip: Option<&Path>, cache: &Path) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sfngen"));
    cmd.arg("render")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .env("SFNGEN_CACHE", cache);
    if let Some(zip) = lambda_zip {
        cmd.arg("--lambda-zip").arg(zip);
    }
    let result = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr).into_owned();
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    stderr
}

/// A cache holding a package for the current Lambda sources (arm64), so render takes it from there.
fn cache_with_package(dir: &Path) -> std::path::PathBuf {
    let cache = dir.join("cache");
    let package = cache.join(format!("lambda/{}-arm64.zip", sfngen::lambda::source_hash()));
    std::fs::create_dir_all(package.parent().unwrap()).unwrap();
    std::fs::write(&package, sfngen::lambda::zip_bootstrap(b"#!/bin/sh\nexit 1\n").unwrap()).unwrap();
    cache
}

/// Timestamps are compared for equality: let a clock with coarse ticks move on first.
fn let_the_clock_tick() {
    std::thread::sleep(std::time::Duration::from_millis(20));
}

#[test]
fn re_rendering_an_unchanged_module_writes_nothing_and_touches_no_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let cache = cache_with_package(dir.path());
    let zip = common::fake_lambda_zip(dir.path());
    for (label, lambda_zip) in [("cached package", None), ("--lambda-zip", Some(zip.as_path()))] {
        let out = dir.path().join(format!("module-{}", lambda_zip.is_some()));
        render(&seed, &out, lambda_zip, &cache);
        let before = snapshot(&out);
        let_the_clock_tick();
        let stderr = render(&seed, &out, lambda_zip, &cache);
        assert!(
            stderr.contains(": 0 written, 11 unchanged, 0 removed"),
            "{label}: {stderr}"
        );
        assert_eq!(snapshot(&out), before, "{label}: a re-render changed the folder");
    }
}

#[test]
fn only_the_file_that_changed_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let cache = cache_with_package(dir.path());
    let out = dir.path().join("module");
    render(&seed, &out, None, &cache);
    let main_tf = std::fs::read(out.join("main.tf")).unwrap();
    std::fs::write(out.join("main.tf"), "# edited by hand\n").unwrap();
    std::fs::write(out.join("users-own.tf"), "# mine\n").unwrap();
    let before = snapshot(&out);
    let_the_clock_tick();
    let stderr = render(&seed, &out, None, &cache);
    assert!(stderr.contains(": 1 written, 10 unchanged, 0 removed"), "{stderr}");
    assert_eq!(std::fs::read(out.join("main.tf")).unwrap(), main_tf);
    let after = snapshot(&out);
    let changed: Vec<&String> = after
        .keys()
        .filter(|name| after.get(*name) != before.get(*name))
        .collect();
    assert_eq!(changed, [".", "main.tf"], "only main.tf (and so its folder) may change");
}

#[test]
fn the_module_keeps_its_package_when_the_given_zip_changes_later() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let zip = common::fake_lambda_zip(dir.path());
    let original = std::fs::read(&zip).unwrap();
    let out = dir.path().join("module");
    render(&seed, &out, Some(&zip), &dir.path().join("unused-cache"));
    // The user rebuilds their package in place (same file, new bytes).
    std::fs::write(&zip, sfngen::lambda::zip_bootstrap(b"#!/bin/sh\nexit 0\n").unwrap()).unwrap();
    assert_eq!(std::fs::read(out.join("callback.zip")).unwrap(), original);
}

#[test]
fn the_cached_package_lands_in_the_module_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let cache = cache_with_package(dir.path());
    let out = dir.path().join("module");
    render(&seed, &out, None, &cache);
    let package = cache.join(format!("lambda/{}-arm64.zip", sfngen::lambda::source_hash()));
    assert_eq!(
        std::fs::read(out.join("callback.zip")).unwrap(),
        std::fs::read(&package).unwrap()
    );
    // Checked once, then stamped: the next render trusts the unchanged entry without hashing it.
    assert!(package.with_extension("zip.stamp").is_file());
}
