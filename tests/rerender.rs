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
    let mut snapshot: Snapshot = walk(dir)
        .into_iter()
        .map(|(name, path)| (name, stamp(std::fs::symlink_metadata(&path).unwrap())))
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
    std::fs::remove_file(out.join("main.tf")).unwrap();
    std::fs::write(out.join("users-own.tf"), "# mine\n").unwrap();
    let before = snapshot(&out);
    let_the_clock_tick();
    let stderr = render(&seed, &out, None, &cache);
    assert_eq!(
        stderr,
        format!(
            "wrote main.tf\nrendered {} into {}: 1 written, {} unchanged, 0 removed\n",
            seed.display(),
            out.display(),
            seed_files() - 1
        )
    );
    assert_eq!(std::fs::read(out.join("main.tf")).unwrap(), main_tf);
    let after = snapshot(&out);
    let changed: Vec<&String> = after
        .keys()
        .filter(|name| after.get(*name) != before.get(*name))
        .collect();
    assert_eq!(changed, [".", "main.tf"], "only main.tf (and so its folder) may change");
}

/// Every file of the module under `dir` (its tests/ folder too), by path, with its bytes; sfngen's own `.sfngen-`
/// records aside but for the manifest (render never names the others).
fn contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .filter(|(name, p)| p.is_file() && (name == ".sfngen-manifest" || !name.starts_with(".sfngen-")))
        .map(|(name, p)| (name, std::fs::read(&p).unwrap()))
        .collect()
}

/// Every entry under `dir` (folders too, and what is in them), by its path in `dir` (`tests/names.tftest.hcl`).
fn walk(dir: &Path) -> Vec<(String, std::path::PathBuf)> {
    let mut entries = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if std::fs::symlink_metadata(&path).unwrap().is_dir() {
                folders.push(path.clone());
            }
            entries.push((name, path));
        }
    }
    entries
}

fn sfngen_in(out: &Path, args: &[&str], spec: &Path, zip: &Path) -> std::process::Output {
    common::sfngen()
        .arg("render")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .arg("--lambda-zip")
        .arg(zip)
        // The seed and full specs have other names: a render between them replaces every stateful resource
        // (the change report, tested in tests/cli.rs and tests/e2e; these tests are about the files).
        .arg("--allow-replace")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_re_render_names_each_file_it_wrote_and_removed() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let out = dir.path().join("module");
    let full = common::root().join("examples/full/sfngen.toml");
    let seed = common::root().join("examples/seed/sfngen.toml");
    let mut previous = BTreeMap::new();
    // A new folder, a spec with other files, then back: every line names a file whose bytes changed.
    for spec in [&full, &seed, &full] {
        let result = sfngen_in(&out, &[], spec, &zip);
        let stderr = String::from_utf8(result.stderr).unwrap();
        assert_eq!(result.status.code(), Some(0), "{stderr}");
        // The files' lines, after the change report's (the specs have other names).
        let stderr: String = stderr
            .lines()
            .filter(|l| {
                !l.starts_with("replaces ") && !l.starts_with("deletes ") && !l.starts_with("note: the module's")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let now = contents(&out);
        let mut expected = String::new();
        for (name, bytes) in &now {
            if name != ".sfngen-manifest" && previous.get(name) != Some(bytes) {
                expected.push_str(&format!("wrote {name}\n"));
            }
        }
        let removed: Vec<&String> = previous.keys().filter(|name| !now.contains_key(*name)).collect();
        for name in &removed {
            expected.push_str(&format!("removed {name}\n"));
        }
        let written = expected.lines().count() - removed.len();
        let unchanged = now.len() - 1 - written;
        expected.push_str(&format!(
            "rendered {} into {}: {written} written, {unchanged} unchanged, {} removed\n",
            spec.display(),
            out.display(),
            removed.len()
        ));
        assert_eq!(stderr, expected);
        assert!(written > 0);
        previous = now;
    }
    assert!(!previous.is_empty());
}

#[test]
fn a_hand_edit_stops_the_render_and_force_overwrites_it() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let out = dir.path().join("module");
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    assert!(sfngen_in(&out, &[], &seed, &zip).status.success());
    let generated = std::fs::read_to_string(out.join("queues.tf")).unwrap();
    let edited = generated.replace(
        "receive_wait_time_seconds",
        "# a teammate's fix\n  receive_wait_time_seconds",
    );
    assert_ne!(edited, generated);
    std::fs::write(out.join("queues.tf"), &edited).unwrap();
    let before = snapshot(&out);
    let_the_clock_tick();
    // Another spec, so that render would rewrite the file: it stops, names it, and writes nothing.
    let refused = sfngen_in(&out, &[], &full, &zip);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    // After the change report's lines.
    assert!(
        stderr.contains(&format!(
            "\nerror: {} holds files edited by hand since sfngen wrote them: queues.tf; nothing was written\n",
            out.display()
        )),
        "{stderr}"
    );
    let force = format!(
        "sfngen render {} -o {} --lambda-zip {} --force",
        full.display(),
        out.display(),
        zip.display()
    );
    assert!(stderr.contains(&force), "{stderr}");
    assert_eq!(snapshot(&out), before, "a refused render changed the folder");
    // --check reports it too, with what render would do to it.
    let check = sfngen_in(&out, &["--check"], &full, &zip);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1));
    assert!(
        stdout.contains("edited by hand: queues.tf (its bytes are not the ones sfngen wrote)\n--- a/queues.tf\n"),
        "{stdout}"
    );
    assert!(stdout.contains("-  # a teammate's fix\n"), "{stdout}");
    assert!(String::from_utf8_lossy(&check.stderr).contains(&force));
    // The same spec would not touch it: the edit is reported even so, by --check.
    let check = sfngen_in(&out, &["--check"], &seed, &zip);
    assert_eq!(check.status.code(), Some(1));
    let forced = sfngen_in(&out, &["--force"], &full, &zip);
    let stderr = String::from_utf8_lossy(&forced.stderr);
    assert_eq!(forced.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("wrote queues.tf (over its hand edit: --force)\n"),
        "{stderr}"
    );
    assert!(sfngen_in(&out, &["--check"], &full, &zip).status.success());
}

#[test]
fn deleting_the_manifest_does_not_disown_the_module() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let out = dir.path().join("module");
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    assert!(sfngen_in(&out, &[], &full, &zip).status.success());
    let manifest = std::fs::read(out.join(".sfngen-manifest")).unwrap();
    std::fs::remove_file(out.join(".sfngen-manifest")).unwrap();
    // The same render: every file is sfngen's and up to date; the manifest comes back as it was.
    let check = sfngen_in(&out, &["--check"], &full, &zip);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&check.stdout), "missing: .sfngen-manifest\n");
    let again = sfngen_in(&out, &[], &full, &zip);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read(out.join(".sfngen-manifest")).unwrap(), manifest);
    // Another spec and another package (an x86_64 build): the old files are known by their header, the
    // package as one sfngen zipped; kms.tf and alarms.tf, which no manifest lists now, are named and kept.
    std::fs::remove_file(out.join(".sfngen-manifest")).unwrap();
    let other_zip = dir.path().join("other.zip");
    std::fs::write(
        &other_zip,
        sfngen::lambda::zip_bootstrap(b"#!/bin/sh\nexit 2\n").unwrap(),
    )
    .unwrap();
    let result = sfngen_in(&out, &[], &seed, &other_zip);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("did not write"), "{stderr}");
    assert!(stderr.contains("wrote callback.zip\n"), "{stderr}");
    for orphan in ["alarms.tf", "kms.tf"] {
        assert!(
            stderr.contains(&format!(
                "note: {orphan} has sfngen's header, and no .sfngen-manifest lists it: left alone"
            )),
            "{stderr}"
        );
        assert!(out.join(orphan).exists());
    }
    assert_eq!(
        std::fs::read(out.join("callback.zip")).unwrap(),
        std::fs::read(&other_zip).unwrap()
    );
    std::fs::remove_file(out.join("alarms.tf")).unwrap();
    std::fs::remove_file(out.join("kms.tf")).unwrap();
    assert!(sfngen_in(&out, &["--check"], &seed, &other_zip).status.success());
}

/// A git merge of two renders can leave a file holding what sfngen renders while the manifest records other
/// bytes for it: --check says the manifest differs, and render writes the manifest alone.
#[test]
fn a_manifest_that_records_other_bytes_for_an_up_to_date_file_is_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let out = dir.path().join("module");
    let seed = common::root().join("examples/seed/sfngen.toml");
    assert!(sfngen_in(&out, &[], &seed, &zip).status.success());
    let manifest = std::fs::read_to_string(out.join(".sfngen-manifest")).unwrap();
    let line = manifest.lines().find(|l| l.ends_with("  main.tf")).unwrap();
    let other = sfngen::generated::to_hex(&sfngen::generated::sha256(b"another render's main.tf"));
    std::fs::write(
        out.join(".sfngen-manifest"),
        manifest.replace(line, &format!("{other}  main.tf")),
    )
    .unwrap();
    let check = sfngen_in(&out, &["--check"], &seed, &zip);
    assert_eq!(check.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.starts_with("differs: .sfngen-manifest\n--- a/.sfngen-manifest\n"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("-{other}  main.tf\n+{line}\n")), "{stdout}");
    let result = sfngen_in(&out, &[], &seed, &zip);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.starts_with("wrote .sfngen-manifest (every file was up to date, not every record of it)\nrendered "),
        "{stderr}"
    );
    let unchanged = seed_files();
    assert!(
        stderr.ends_with(&format!(": 0 written, {unchanged} unchanged, 0 removed\n")),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(out.join(".sfngen-manifest")).unwrap(), manifest);
    assert!(sfngen_in(&out, &["--check"], &seed, &zip).status.success());
}

/// Every text file every spec renders carries the header that makes it sfngen's, so a folder whose
/// manifest is gone is still known. Images (the approval page's screenshots) are binary, as the Lambda package
/// is: only the manifest's record of their bytes makes them sfngen's.
#[test]
fn every_generated_text_file_carries_sfngens_header() {
    for spec in common::all_specs() {
        for file in common::render(&spec) {
            if file.path.ends_with(".png") {
                assert!(file.contents.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", file.path);
                continue;
            }
            assert!(
                sfngen::generated::carries_generated_header(&file.path, &file.contents),
                "{}: {} does not start with sfngen's header",
                common::spec_label(&spec),
                file.path
            );
        }
    }
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
    // render finds the entry changed and writes the shipped bytes again; the module's copy is a hand edit,
    // which render names and keeps, and --force replaces.
    std::fs::write(out.join("callback.zip"), b"written in place").unwrap();
    let render_with = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sfngen"))
            .arg("render")
            .arg(&seed)
            .arg("-o")
            .arg(&out)
            .args(extra)
            .env("SFNGEN_CACHE", &cache)
            .output()
            .unwrap()
    };
    let refused = render_with(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("edited by hand since sfngen wrote them: callback.zip;"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(out.join("callback.zip")).unwrap(), b"written in place");
    assert_eq!(std::fs::read(&entry).unwrap(), shipped);
    let forced = render_with(&["--force"]);
    let stderr = String::from_utf8_lossy(&forced.stderr);
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
