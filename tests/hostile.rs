//! Hostile input and a hostile file system: huge and deeply nested specs, renders racing into one
//! folder, renders killed at random points. Always a clear message or a complete module; never a
//! half-written file, never a user file lost.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn render_cmd(spec: &Path, out: &Path, zip: &Path) -> Command {
    let mut cmd = common::sfngen();
    cmd.arg("render")
        .arg(spec)
        .arg("-o")
        .arg(out)
        .arg("--lambda-zip")
        .arg(zip)
        // The seed and full specs have other names: each render between them replaces every stateful resource
        // (the change report, tested in tests/cli.rs and tests/e2e; these tests are about the folder).
        .arg("--allow-replace");
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    cmd
}

/// `render --check` finds `out` to be exactly what `spec` renders.
fn assert_up_to_date(spec: &Path, out: &Path, zip: &Path, context: &str) {
    let check = common::sfngen()
        .args(["render", "--check", "--lambda-zip"])
        .arg(zip)
        .arg(spec)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(0),
        "{context}: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}

const SEED: &str = "name = \"callback-demo\"\n[[steps]]\nname = \"SendToSQS\"\nqueue = \"main\"\n[queues.main]\n";

#[test]
fn a_ten_megabyte_spec_is_refused_by_its_size_and_a_spec_under_the_bound_renders_or_fails_short() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    const LINE: &str = "# padding padding padding padding padding padding padding padding padding pad\n";
    let padding = |bytes: usize| LINE.repeat(bytes / LINE.len());
    // 10 MB of comments around a valid spec: over the 4 MiB bound, refused before it is read; nothing written.
    let big = dir.path().join("big.toml");
    std::fs::write(&big, format!("{}{SEED}", padding(10_000_000))).unwrap();
    assert!(std::fs::metadata(&big).unwrap().len() > 9_900_000);
    let out = render_cmd(&big, &dir.path().join("no"), &zip).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("a spec may be at most 4,194,304 bytes (4 MiB)"),
        "{stderr}"
    );
    assert!(!dir.path().join("no").exists());
    // 4 MB of comments around the same spec: under the bound, renders.
    let under = dir.path().join("under.toml");
    std::fs::write(&under, format!("{}{SEED}", padding(4_000_000))).unwrap();
    let out = render_cmd(&under, &dir.path().join("ok"), &zip).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    // A 4 MB step name: refused, and the message does not echo 4 MB back.
    let huge = dir.path().join("huge.toml");
    std::fs::write(&huge, SEED.replace("SendToSQS", &"S".repeat(4_000_000))).unwrap();
    let out = render_cmd(&huge, &dir.path().join("no"), &zip).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is longer than 80 characters"),
        "{}",
        &stderr[..stderr.len().min(500)]
    );
    assert!(stderr.len() < 4_000, "{} bytes of stderr", stderr.len());
    assert!(!dir.path().join("no").exists());
}

#[test]
fn deeply_nested_values_are_refused_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    for (open, close) in [("[", "]"), ("{ a = ", " }")] {
        let spec = dir.path().join("deep.toml");
        let depth = 50_000;
        std::fs::write(
            &spec,
            format!("{SEED}[tags]\nx = {}1{}\n", open.repeat(depth), close.repeat(depth)),
        )
        .unwrap();
        let out = common::sfngen().arg("check").arg(&spec).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--> "),
            "no located message"
        );
    }
}

/// Each entry of a folder, by its path in the folder (`tests/names.tftest.hcl`): a file's bytes; a link, or a
/// staging folder (whose name says what it is), what it is. Other folders are walked.
fn files_in(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut entries = BTreeMap::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let p = entry.unwrap().path();
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let kind = std::fs::symlink_metadata(&p).unwrap().file_type();
            if kind.is_dir() && !name.starts_with(".sfngen-staging-") {
                folders.push(p);
                continue;
            }
            let bytes = if kind.is_file() {
                std::fs::read(&p).unwrap_or_else(|e| panic!("{name}: {e}"))
            } else {
                format!("({kind:?})").into_bytes()
            };
            entries.insert(name, bytes);
        }
    }
    entries
}

/// Each file of a rendered module, by path (its manifest included).
fn expected(spec: &Path, zip: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    assert!(render_cmd(spec, &out, zip).status().unwrap().success());
    files_in(&out)
}

/// Staging folders in `dir`.
fn staging_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".sfngen-staging-"))
        .collect()
}

/// Waits for a child at most a minute.
fn wait_bounded(child: &mut std::process::Child) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("sfngen did not finish within a minute");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn renders_of_two_specs_racing_into_one_folder_leave_one_whole_render() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    let (seed_files, full_files) = (expected(&seed, &zip), expected(&full, &zip));
    let parent = dir.path().join("races");
    std::fs::create_dir(&parent).unwrap();
    // A lost race showed about once in 300 pairs under load: enough rounds that a regression shows.
    let mut winners = BTreeMap::new();
    for round in 0..120 {
        let out = parent.join(format!("race-{round}"));
        // Half the rounds race into a folder that does not exist yet, half into one holding a third render.
        if round % 2 == 1 {
            let vendored = common::root().join("examples/vendored/sfngen.toml");
            assert!(render_cmd(&vendored, &out, &zip).status().unwrap().success());
        }
        let (first, second) = if round % 4 < 2 { (&seed, &full) } else { (&full, &seed) };
        let mut a = render_cmd(first, &out, &zip).spawn().unwrap();
        let mut b = render_cmd(second, &out, &zip).spawn().unwrap();
        let (status_a, status_b) = (wait_bounded(&mut a), wait_bounded(&mut b));
        assert!(
            status_a.success() && status_b.success(),
            "round {round}: both renders run, one after the other"
        );
        let found = files_in(&out);
        let winner = if found == seed_files {
            "seed"
        } else if found == full_files {
            "full"
        } else {
            let names: Vec<&String> = found.keys().collect();
            panic!("round {round}: the folder is neither render whole: {names:?}");
        };
        *winners.entry(winner).or_insert(0) += 1;
        assert_eq!(staging_in(&parent), Vec::<String>::new(), "round {round}");
    }
    eprintln!("last render in: {winners:?}");
}

/// How long a render of `spec` into a folder holding `before`'s render takes here (`None`: into a new
/// folder): the median of five, to spread kills over a whole render whatever the machine's speed.
fn render_time(before: Option<&Path>, spec: &Path, zip: &Path) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let mut times: Vec<Duration> = (0..5)
        .map(|i| {
            let out = dir.path().join(format!("m{i}"));
            if let Some(before) = before {
                assert!(render_cmd(before, &out, zip).status().unwrap().success());
            }
            let started = std::time::Instant::now();
            assert!(render_cmd(spec, &out, zip).status().unwrap().success());
            started.elapsed()
        })
        .collect();
    times.sort();
    times[2]
}

/// Renders into `out`, killed with SIGKILL after a pseudo-random part (0 to 1.2) of `whole`.
fn render_killed(spec: &Path, out: &Path, zip: &Path, round: u64, whole: Duration) -> bool {
    let mut child = render_cmd(spec, out, zip).spawn().unwrap();
    std::thread::sleep(whole.mul_f64(((round * 7919) % 1000) as f64 / 1000.0 * 1.2));
    let _ = child.kill();
    !child.wait().unwrap().success()
}

#[test]
fn a_render_killed_at_random_points_never_leaves_a_half_written_file() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let old_spec = common::root().join("examples/seed/sfngen.toml");
    let new_spec = common::root().join("examples/full/sfngen.toml");
    let (old, new) = (expected(&old_spec, &zip), expected(&new_spec, &zip));
    let parent = dir.path().join("kills");
    std::fs::create_dir(&parent).unwrap();
    let whole = render_time(Some(&old_spec), &new_spec, &zip);
    let (mut interrupted, mut left_staging) = (0, 0);
    // At least 40 rounds, then on (at most 400) until a kill has landed while staging: how long a render takes
    // varies with the machine's load, and a test that only sometimes reaches the cleanup tests nothing.
    for round in 0..400u64 {
        if round >= 40 && interrupted > 0 && left_staging > 0 {
            break;
        }
        let out: PathBuf = parent.join(format!("kill-{round}"));
        assert!(render_cmd(&old_spec, &out, &zip).status().unwrap().success());
        std::fs::write(out.join("users-own.tf"), "# keep me\n").unwrap();
        interrupted += usize::from(render_killed(&new_spec, &out, &zip, round, whole));
        left_staging += usize::from(!staging_in(&out).is_empty());
        for (name, bytes) in files_in(&out) {
            if name.starts_with(".sfngen-staging-") || name == ".sfngen-manifest" {
                continue; // an abandoned staging folder: hidden, never part of the module
            }
            if name == "users-own.tf" {
                assert_eq!(bytes, b"# keep me\n");
                continue;
            }
            assert!(
                old.get(&name) == Some(&bytes) || new.get(&name) == Some(&bytes),
                "round {round}: {name} is neither the old nor the new version"
            );
        }
        // The next render, of either spec, knows every file as sfngen's, completes the module and removes
        // what the killed one staged.
        let next = if round % 2 == 0 { &new_spec } else { &old_spec };
        let result = render_cmd(next, &out, &zip).output().unwrap();
        assert!(
            result.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        assert_up_to_date(next, &out, &zip, &format!("round {round}"));
        let mut module = files_in(&out);
        assert_eq!(module.remove("users-own.tf").as_deref(), Some(&b"# keep me\n"[..]));
        assert!(
            module == if round % 2 == 0 { new.clone() } else { old.clone() },
            "round {round}"
        );
    }
    assert!(
        interrupted > 0,
        "no render was interrupted: the delays are too long to test anything"
    );
    // Kills spread over a whole render land while it stages about half the time.
    assert!(
        left_staging > 0,
        "no kill left a staging folder: the cleanup was not tested"
    );
    eprintln!("{interrupted} renders killed, {left_staging} with their staging folder left");
    assert_eq!(staging_in(&parent), Vec::<String>::new());
}

#[test]
fn a_render_killed_while_creating_its_folder_leaves_nothing_the_next_does_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let spec = common::root().join("examples/full/sfngen.toml");
    let module = expected(&spec, &zip);
    let parent = dir.path().join("new");
    std::fs::create_dir(&parent).unwrap();
    let whole = render_time(None, &spec, &zip);
    let (mut interrupted, mut left_staging) = (0, 0);
    // At least 40 rounds, then on (at most 400) until a kill has landed while staging: how long a render takes
    // varies with the machine's load, and a test that only sometimes reaches the cleanup tests nothing.
    for round in 0..400u64 {
        if round >= 40 && interrupted > 0 && left_staging > 0 {
            break;
        }
        let out = parent.join(format!("fresh-{round}"));
        interrupted += usize::from(render_killed(&spec, &out, &zip, round, whole));
        left_staging += usize::from(!staging_in(&parent).is_empty());
        // The folder appears whole or not at all; a staging folder may be left beside it.
        if out.exists() {
            assert!(files_in(&out) == module, "round {round}: a half-made folder");
        }
        assert!(render_cmd(&spec, &out, &zip).status().unwrap().success());
        assert!(files_in(&out) == module, "round {round}");
        assert_eq!(staging_in(&parent), Vec::<String>::new(), "round {round}");
    }
    assert!(interrupted > 0, "no render was interrupted");
    assert!(
        left_staging > 0,
        "no kill left a staging folder: the cleanup was not tested"
    );
    eprintln!("{interrupted} renders killed, {left_staging} with their staging folder left");
}

/// A staging folder in a folder whose lock another render holds is that render's: it is left alone until
/// the lock is released, then (the render gone without cleaning) removed by the next one.
#[test]
fn renders_wait_for_the_folders_lock_and_never_remove_a_live_renders_staging() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    let out = dir.path().join("infra");
    assert!(render_cmd(&seed, &out, &zip).status().unwrap().success());
    let seed_files = files_in(&out);
    let live = out.join(".sfngen-staging-live");
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join("main.tf"), "staged").unwrap();
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    let mut waiting = render_cmd(&full, &out, &zip).spawn().unwrap();
    // It cannot finish while the lock is held (not a timing assertion: any moment would do).
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        waiting.try_wait().unwrap().is_none(),
        "render did not wait for the lock"
    );
    assert!(live.join("main.tf").exists(), "a live render's staging was removed");
    let mut now = files_in(&out);
    now.remove(".sfngen-staging-live");
    assert!(now == seed_files);
    drop(held);
    assert!(wait_bounded(&mut waiting).success());
    assert!(
        files_in(&out) == expected(&full, &zip),
        "the staging left behind was not removed"
    );

    // A render that waits too long exits 2 and writes nothing.
    let held = std::fs::File::open(&out).unwrap();
    held.lock().unwrap();
    let gave_up = render_cmd(&seed, &out, &zip)
        .env("SFNGEN_LOCK_WAIT", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&gave_up.stderr);
    assert_eq!(gave_up.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "another sfngen render has been writing into {}",
            out.display()
        )),
        "{stderr}"
    );
    assert!(files_in(&out) == expected(&full, &zip));
    // A new folder: its parent's lock.
    let parent = std::fs::File::open(dir.path()).unwrap();
    parent.lock().unwrap();
    let fresh = dir.path().join("fresh");
    let gave_up = render_cmd(&seed, &fresh, &zip)
        .env("SFNGEN_LOCK_WAIT", "1")
        .output()
        .unwrap();
    assert_eq!(gave_up.status.code(), Some(2));
    assert!(!fresh.exists());
    drop((held, parent));
}

/// The outside of the output folder: a folder with files a render must never touch.
fn outside_with_victims(root: &Path) -> (PathBuf, BTreeMap<String, Vec<u8>>) {
    let outside = root.join("outside");
    std::fs::create_dir(&outside).unwrap();
    // It even looks generated: only where it is matters.
    std::fs::write(
        outside.join("victim.tf"),
        "# Code generated by sfngen 0.1.0 from sfngen.toml. DO NOT EDIT.\n",
    )
    .unwrap();
    std::fs::write(outside.join("x.tf"), "# someone else's\n").unwrap();
    let files = files_in(&outside);
    (outside, files)
}

fn sha256_hex(bytes: &[u8]) -> String {
    sfngen::generated::to_hex(&sfngen::generated::sha256(bytes))
}

#[test]
fn manifest_entries_never_lead_render_outside_the_folder() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let (outside, victims) = outside_with_victims(dir.path());
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    let out = dir.path().join("infra");
    assert!(render_cmd(&seed, &out, &zip).status().unwrap().success());
    symlink(&outside, out.join("linked")).unwrap();
    symlink(outside.join("x.tf"), out.join("link.tf")).unwrap();
    let victim = sha256_hex(&victims["victim.tf"]);
    let x = sha256_hex(&victims["x.tf"]);
    let entries = [
        "linked/victim.tf".to_string(),
        format!("{victim}  linked/victim.tf"),
        "../outside/victim.tf".into(),
        format!("{victim}  ../outside/victim.tf"),
        format!("{}/victim.tf", outside.display()),
        format!("{x}  link.tf"),
        "link.tf".into(),
        format!("{x}  linked"),
    ];
    let mut manifest = std::fs::read_to_string(out.join(".sfngen-manifest")).unwrap();
    for entry in &entries {
        manifest.push_str(entry);
        manifest.push('\n');
    }
    std::fs::write(out.join(".sfngen-manifest"), &manifest).unwrap();
    // --check reports them; a render of another spec (so that it prunes) ignores and names each.
    let check = common::sfngen()
        .args(["render", "--check", "--lambda-zip"])
        .arg(&zip)
        .arg(&full)
        .arg("-o")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(1));
    for (path, why) in [
        ("linked/victim.tf", "its folder linked is a symbolic link"),
        ("../outside/victim.tf", "a path with an empty, `.` or `..` part"),
        (&format!("{}/victim.tf", outside.display()), "an absolute path"),
        ("link.tf", "a symbolic link"),
        ("linked", "a symbolic link"),
    ] {
        assert!(
            stdout.contains(&format!("ignored manifest entry: {path} ({why};")),
            "{path}: {stdout}"
        );
    }
    let result = render_cmd(&full, &out, &zip).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(
            "warning: .sfngen-manifest lists linked/victim.tf: its folder linked is a symbolic link; ignored, neither \
             followed nor removed\n"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning: .sfngen-manifest lists").count(), 5, "{stderr}");
    assert_eq!(files_in(&outside), victims, "render touched a file outside its folder");
    assert!(
        std::fs::symlink_metadata(out.join("link.tf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::symlink_metadata(out.join("linked"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    // The new manifest lists the module only: the user's links stay, and the folder is up to date.
    assert_up_to_date(&full, &out, &zip, "after ignoring the entries");

    // A manifest that is itself a link is not read, nor written through: it is replaced.
    std::fs::remove_file(out.join(".sfngen-manifest")).unwrap();
    symlink(outside.join("x.tf"), out.join(".sfngen-manifest")).unwrap();
    let result = render_cmd(&seed, &out, &zip).output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(0), "{stderr}");
    // After the change report's lines (--allow-replace: the specs have other names).
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("warning: .sfngen-manifest is a symbolic link: not read; sfngen knows its files by")),
        "{stderr}"
    );
    assert_eq!(files_in(&outside), victims, "render wrote through a linked manifest");
    assert!(
        std::fs::symlink_metadata(out.join(".sfngen-manifest"))
            .unwrap()
            .is_file()
    );
    assert_up_to_date(&seed, &out, &zip, "after replacing the linked manifest");
}

#[test]
fn a_symbolic_link_where_render_writes_is_never_written_through() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let (outside, victims) = outside_with_victims(dir.path());
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    let out = dir.path().join("infra");
    assert!(render_cmd(&seed, &out, &zip).status().unwrap().success());
    std::fs::remove_file(out.join("main.tf")).unwrap();
    symlink(outside.join("victim.tf"), out.join("main.tf")).unwrap();
    symlink(outside.join("x.tf"), out.join("kms.tf")).unwrap();
    for extra in [None, Some("--force")] {
        let result = render_cmd(&full, &out, &zip).args(extra).output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("files that sfngen did not write: kms.tf (a symbolic link), main.tf (a symbolic link)"),
            "{stderr}"
        );
    }
    let check = render_cmd(&full, &out, &zip)
        .arg("--check")
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&check.stdout).contains("not generated by sfngen: main.tf (a symbolic link)\n"));
    assert_eq!(files_in(&outside), victims, "render wrote outside its folder");
    assert!(
        std::fs::symlink_metadata(out.join("main.tf"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_read_only_output_folder_gets_a_clear_message_and_stays_as_it_was() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let spec = dir.path().join("sfngen.toml");
    std::fs::write(&spec, SEED).unwrap();
    let out = dir.path().join("infra");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.tf"), "# mine\n").unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
    // Root ignores permissions: run sfngen as nobody when the tests run as root.
    let mut cmd = if running_as_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", common::SFNGEN]);
        c
    } else {
        common::sfngen()
    };
    let result = cmd
        .arg("render")
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .arg("--lambda-zip")
        .arg(&zip)
        .output()
        .unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Permission denied"), "{stderr}");
    let names: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["keep.tf"]);
}

/// Whether the tests run as root (`id -u` is 0).
fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}
