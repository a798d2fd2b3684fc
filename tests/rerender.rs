//! Re-rendering: a module already up to date is not written at all (no file, no folder entry, no
//! modification time changes), a changed file is the only one rewritten, and the Lambda package is
//! the user's bytes or the shipped one (from sfngen's cache), never shared with a file the user may change.

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

/// An empty cache folder of the test's own: the first render writes the shipped package into it.
fn cache_with_package(dir: &Path) -> std::path::PathBuf {
    dir.join("cache")
}

/// The cache entry of the shipped arm64 package.
fn shipped_entry(cache: &Path) -> std::path::PathBuf {
    let sha = sfngen::lambda::shipped(sfngen::model::Architecture::Arm64).sha256;
    cache.join(format!("packages/callback-arm64-{}.zip", &sha[..16]))
}

/// How many files a render of the seed writes: its text files (its tests/ folder's included) and the package.
fn seed_files() -> usize {
    common::render(&common::root().join("examples/seed/sfngen.toml")).len() + 1
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
            stderr.contains(&format!(": 0 written, {} unchanged, 0 removed", seed_files())),
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
    let unchanged = seed_files() - 1;
    assert!(
        stderr.contains(&format!(": 1 written, {unchanged} unchanged, 0 removed")),
        "{stderr}"
    );
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
fn the_shipped_package_lands_in_the_module_byte_for_byte_through_the_cache() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = tempfile::tempdir().unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let cache = cache_with_package(dir.path());
    let out = dir.path().join("module");
    render(&seed, &out, None, &cache);
    let shipped = std::fs::read(common::root().join("packages/callback-arm64.zip")).unwrap();
    assert_eq!(std::fs::read(out.join("callback.zip")).unwrap(), shipped);
    // Written into the cache once, stamped, and linked into the module: no second copy of 2 MB.
    let entry = shipped_entry(&cache);
    assert!(entry.with_extension("zip.stamp").is_file());
    let (linked, cached) = (
        std::fs::metadata(out.join("callback.zip")).unwrap(),
        std::fs::metadata(&entry).unwrap(),
    );
    assert_eq!((linked.dev(), linked.ino()), (cached.dev(), cached.ino()));
    // Something writes into the module's package in place (and so into the entry it shares): the next
    // render finds the entry changed, writes the shipped bytes again, and replaces the module's copy.
    std::fs::write(out.join("callback.zip"), b"written in place").unwrap();
    let stderr = render(&seed, &out, None, &cache);
    let unchanged = seed_files() - 1;
    assert!(
        stderr.contains(&format!(": 1 written, {unchanged} unchanged, 0 removed")),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("callback.zip")).unwrap(), shipped);
    assert_eq!(std::fs::read(&entry).unwrap(), shipped);
}

#[test]
fn an_unwritable_cache_still_gives_the_module_its_package() {
    let dir = tempfile::tempdir().unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    // A file where the cache folder should be: nothing can be created under it.
    let cache = dir.path().join("not-a-folder");
    std::fs::write(&cache, b"").unwrap();
    let out = dir.path().join("module");
    render(&seed, &out, None, &cache);
    let shipped = std::fs::read(common::root().join("packages/callback-arm64.zip")).unwrap();
    assert_eq!(std::fs::read(out.join("callback.zip")).unwrap(), shipped);
}
