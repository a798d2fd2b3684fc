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
        .arg(zip);
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

#[test]
fn renders_racing_into_one_new_folder_leave_one_complete_module() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let spec = common::root().join("examples/full/sfngen.toml");
    // A lost race showed about once in 300 pairs under load: enough rounds that a regression shows.
    for round in 0..60 {
        let out = dir.path().join(format!("race-{round}"));
        let mut a = render_cmd(&spec, &out, &zip).spawn().unwrap();
        let mut b = render_cmd(&spec, &out, &zip).spawn().unwrap();
        assert!(a.wait().unwrap().success());
        assert!(b.wait().unwrap().success());
        assert_up_to_date(&spec, &out, &zip, &format!("race {round}"));
    }
}

/// Each file of a rendered module, by path.
fn expected(spec: &Path, zip: &Path) -> BTreeMap<String, Vec<u8>> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    assert!(render_cmd(spec, &out, zip).status().unwrap().success());
    module_files(&out)
        .into_iter()
        .map(|(name, path)| (name, std::fs::read(&path).unwrap()))
        .collect()
}

/// Every file of a module folder, by its path in the module (`tests/names.tftest.hcl`), recursively; an
/// abandoned staging folder (hidden, never part of the module) left out.
fn module_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if name.starts_with(".sfngen-staging-") {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push((name, path));
            }
        }
    }
    files
}

#[test]
fn a_render_killed_at_random_points_never_leaves_a_half_written_file() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let old_spec = common::root().join("examples/seed/sfngen.toml");
    let new_spec = common::root().join("examples/full/sfngen.toml");
    let (old, new) = (expected(&old_spec, &zip), expected(&new_spec, &zip));
    let mut interrupted = 0;
    for round in 0..40u64 {
        let out: PathBuf = dir.path().join(format!("kill-{round}"));
        assert!(render_cmd(&old_spec, &out, &zip).status().unwrap().success());
        std::fs::write(out.join("users-own.tf"), "# keep me\n").unwrap();
        let mut child = render_cmd(&new_spec, &out, &zip).spawn().unwrap();
        // Pseudo-random delays from 0 to ~8 ms spread the kill over the whole render.
        std::thread::sleep(Duration::from_micros((round * 7919) % 8000));
        let _ = child.kill();
        let status = child.wait().unwrap();
        interrupted += usize::from(!status.success());
        for (name, path) in module_files(&out) {
            let bytes = std::fs::read(&path).unwrap();
            if name == "users-own.tf" {
                assert_eq!(bytes, b"# keep me\n");
                continue;
            }
            assert!(
                old.get(&name) == Some(&bytes) || new.get(&name) == Some(&bytes),
                "round {round}: {name} is neither the old nor the new version"
            );
        }
        // The next render completes the module.
        assert!(render_cmd(&new_spec, &out, &zip).status().unwrap().success());
        assert_up_to_date(&new_spec, &out, &zip, &format!("round {round}"));
        assert_eq!(std::fs::read(out.join("users-own.tf")).unwrap(), b"# keep me\n");
    }
    assert!(
        interrupted > 0,
        "no render was interrupted: the delays are too long to test anything"
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
