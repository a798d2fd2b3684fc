//! The `sfngen` binary end to end: every invalid spec in `tests/cli/invalid/*.toml` exits 2 with the
//! message in its `.stderr` file (file:line:column, key path, what is wrong, how to fix it) and leaves
//! the output folder untouched. `SFNGEN_BLESS=1 cargo test --test cli` rewrites the `.stderr` files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

fn invalid_specs() -> Vec<PathBuf> {
    common::toml_files_in("tests/cli/invalid")
}

/// Every file under `dir` with its bytes, to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_invalid_spec_exits_2_with_its_message_and_writes_nothing() {
    let bless = std::env::var_os("SFNGEN_BLESS").is_some();
    let mut mismatches = Vec::new();
    for spec in invalid_specs() {
        let name = spec.file_name().unwrap().to_string_lossy().into_owned();
        for command in ["render", "check"] {
            let work = tempfile::tempdir().unwrap();
            let zip_dir = tempfile::tempdir().unwrap();
            let zip = common::fake_lambda_zip(zip_dir.path());
            let existing = work.path().join("existing");
            std::fs::create_dir(&existing).unwrap();
            std::fs::write(existing.join("keep.tf"), "# a user's file\n").unwrap();
            let before = snapshot(work.path());
            let mut cmd = common::sfngen();
            cmd.current_dir(spec.parent().unwrap()).arg(command).arg(&name);
            if command == "render" {
                cmd.arg("-o").arg(&existing).arg("--lambda-zip").arg(&zip);
            }
            let out = cmd.output().unwrap();
            let (stdout, stderr) = text(&out);
            assert_eq!(out.status.code(), Some(2), "{name} ({command}): {stderr}");
            assert_eq!(stdout, "", "{name} ({command})");
            assert_eq!(snapshot(work.path()), before, "{name}: the output folder changed");
            // A fresh output folder is not created either.
            let fresh = work.path().join("fresh");
            let out = common::sfngen()
                .current_dir(spec.parent().unwrap())
                .args(["render", &name, "-o"])
                .arg(&fresh)
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2));
            assert!(!fresh.exists(), "{name}: render created the output folder");

            let expected_path = spec.with_extension("stderr");
            if bless {
                std::fs::write(&expected_path, &stderr).unwrap();
                continue;
            }
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|_| {
                panic!(
                    "{} is missing: run SFNGEN_BLESS=1 cargo test --test cli",
                    expected_path.display()
                )
            });
            if stderr != expected {
                mismatches.push(format!(
                    "--- {name} ({command}) expected:\n{expected}+++ got:\n{stderr}"
                ));
            }
            // Every diagnostic names the file with line and column, and says how to fix it.
            for block in stderr
                .split("\n\n")
                .filter(|b| b.starts_with("error: ") && b.contains("-->"))
            {
                assert!(
                    block.contains(&format!("--> {name}:")),
                    "{name}: no location in\n{block}"
                );
                assert!(block.contains("= help: "), "{name}: no help in\n{block}");
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn a_missing_spec_file_exits_2() {
    let out = common::sfngen()
        .args(["check", "/nonexistent/sfngen.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1,
        "error: spec file /nonexistent/sfngen.toml does not exist: pass the path of your sfngen.toml\n"
    );
}

#[test]
fn a_spec_that_is_not_utf8_exits_2_with_the_offset_line_and_column_of_the_first_bad_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sfngen.toml"),
        b"name = \"orders\"\ntags = { team = \"caf\xc3\xa9 \xff\xfe\" }\n",
    )
    .unwrap();
    let out = common::sfngen()
        .current_dir(dir.path())
        .args(["check", "sfngen.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out).1,
        "error: not UTF-8 text: byte 0xFF at offset 39 is not UTF-8\n \
         --> sfngen.toml:2:23\n  |\n2 | tags = { team = \"café \u{FFFD}\u{FFFD}\" }\n  |                       ^\n  \
         = help: TOML files are UTF-8: save the spec as UTF-8 (the line shows the byte as \u{FFFD})\n\n\
         error: sfngen.toml has 1 problem; nothing was written\n"
    );
}

/// Runs `sfngen check PATH` and waits at most a minute for it (a hang is a failure, not a stuck test run).
fn check_bounded(path: &Path) -> (Option<i32>, String) {
    let mut child = common::sfngen()
        .arg("check")
        .arg(path)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code(), stderr);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    panic!("sfngen check {} did not return within a minute", path.display());
}

#[test]
fn a_spec_larger_than_4_mib_is_refused_by_its_size_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    // 64 GiB, sparse: reading it would take minutes and the memory this machine has.
    let spec = dir.path().join("sfngen.toml");
    std::fs::File::create(&spec).unwrap().set_len(64 << 30).unwrap();
    let (code, stderr) = check_bounded(&spec);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: spec file {} is 68,719,476,736 bytes; a spec may be at most 4,194,304 bytes (4 MiB): the state \
             machine definition it renders holds at most 1,048,576 characters, which a spec's values fill long before \
             4 MiB\n",
            spec.display()
        )
    );
    // One byte over the bound, written: refused; at the bound, read (and it is no spec).
    let over = dir.path().join("over.toml");
    let seed = "name = \"callback-demo\"\n[[steps]]\nname = \"SendToSQS\"\nqueue = \"main\"\n[queues.main]\n";
    let padding = "#".repeat(4 * 1024 * 1024 - seed.len() - 1);
    std::fs::write(&over, format!("{seed}{padding}\n\n")).unwrap();
    let (code, stderr) = check_bounded(&over);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("is 4,194,305 bytes"), "{stderr}");
    std::fs::write(&over, format!("{seed}{padding}\n")).unwrap();
    let (code, stderr) = check_bounded(&over);
    assert_eq!(code, Some(0), "a spec of exactly 4 MiB is read: {stderr}");
}

#[test]
fn a_device_a_fifo_or_a_folder_as_the_spec_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("sfngen.toml");
    // A FIFO no one writes to: opening it to read would wait for a writer forever.
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (path, kind) in [
        (Path::new("/dev/zero"), "a character device"),
        (Path::new("/dev/null"), "a character device"),
        (fifo.as_path(), "a FIFO (named pipe)"),
        (dir.path(), "a folder"),
    ] {
        let (code, stderr) = check_bounded(path);
        assert_eq!(code, Some(2), "{}: {stderr}", path.display());
        assert_eq!(
            stderr,
            format!(
                "error: spec file {} is {kind}, not a regular file: sfngen reads a spec from a file (write it to one \
                 first)\n",
                path.display()
            )
        );
    }
}

#[test]
fn an_output_path_that_is_a_file_exits_2_and_keeps_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("infra");
    std::fs::write(&target, "not a folder").unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let out = common::sfngen()
        .arg("render")
        .arg(&seed)
        .arg("-o")
        .arg(&target)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("is a file, not a folder"), "{}", text(&out).1);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "not a folder");
}

#[test]
fn render_refuses_to_overwrite_a_file_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tf"), "# mine\n").unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let out = common::sfngen()
        .arg("render")
        .arg(&seed)
        .arg("-o")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out)
            .1
            .contains("files that sfngen did not write: main.tf (its first line is not sfngen's header)"),
        "{}",
        text(&out).1
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("main.tf")).unwrap(), "# mine\n");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// The case: a README.md of the user's that mentions the phrase in its first bytes is theirs,
/// even with --force; render writes nothing and --check says so.
#[test]
fn a_hand_written_readme_that_mentions_sfngen_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let zip = common::fake_lambda_zip(dir.path());
    let out_dir = dir.path().join("infra");
    std::fs::create_dir(&out_dir).unwrap();
    let readme = "# Our infrastructure\n\nCode generated by sfngen lives in modules/. DO NOT EDIT it by hand.\n";
    std::fs::write(out_dir.join("README.md"), readme).unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    for extra in [None, Some("--force"), Some("--check")] {
        let out = common::sfngen()
            .arg("render")
            .arg(&seed)
            .arg("-o")
            .arg(&out_dir)
            .arg("--lambda-zip")
            .arg(&zip)
            .args(extra)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        if extra == Some("--check") {
            assert_eq!(out.status.code(), Some(1), "{stderr}");
            assert!(
                stdout.contains("not generated by sfngen: README.md (its first line is not sfngen's header)\n"),
                "{stdout}"
            );
            assert!(stderr.contains("move README.md out of"), "{stderr}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{extra:?}: {stderr}");
            assert!(stderr.contains("did not write: README.md ("), "{stderr}");
        }
        assert_eq!(std::fs::read_to_string(out_dir.join("README.md")).unwrap(), readme);
        assert_eq!(
            std::fs::read_dir(&out_dir).unwrap().count(),
            1,
            "{extra:?} wrote something"
        );
    }
}

#[test]
fn render_then_check_then_stale_then_rerender() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("infra");
    let seed = common::root().join("examples/seed/sfngen.toml");
    let full = common::root().join("examples/full/sfngen.toml");
    let zip = common::fake_lambda_zip(dir.path());
    let render = |spec: &Path, check: bool| {
        let mut cmd = common::sfngen();
        cmd.arg("render")
            .arg(spec)
            .arg("-o")
            .arg(&out_dir)
            .arg("--lambda-zip")
            .arg(&zip);
        // The two specs have other names: every stateful resource is replaced (the change report's own tests are
        // below; these are about files).
        cmd.arg(if check { "--check" } else { "--allow-replace" });
        cmd.output().unwrap()
    };
    let missing = render(&seed, true);
    assert_eq!(missing.status.code(), Some(1), "a missing folder is stale");
    assert!(
        text(&missing)
            .0
            .starts_with("missing: README.md\nmissing: callback.tf\n"),
        "{}",
        text(&missing).0
    );
    assert!(!out_dir.exists(), "--check wrote something");
    assert_eq!(render(&seed, false).status.code(), Some(0));
    std::fs::write(out_dir.join("extra.tf"), "# the user's own file\n").unwrap();
    assert_eq!(render(&seed, true).status.code(), Some(0));
    // A different spec: --check names each file and exits 1; render then updates and prunes.
    let stale = render(&full, true);
    assert_eq!(stale.status.code(), Some(1));
    let (report, stderr) = text(&stale);
    assert!(report.contains("missing: kms.tf\n"), "{report}");
    assert!(
        report.contains("differs: main.tf\n--- a/main.tf\n+++ b/main.tf\n@@ "),
        "{report}"
    );
    assert!(
        stderr.ends_with(&format!(
            "; to update it once it is safe to replace or delete the stateful resources above: sfngen render {} -o {} \
             --lambda-zip {} --allow-replace\n",
            full.display(),
            out_dir.display(),
            zip.display()
        )),
        "{stderr}"
    );
    assert_eq!(render(&full, false).status.code(), Some(0));
    assert!(out_dir.join("kms.tf").exists());
    assert_eq!(render(&seed, false).status.code(), Some(0));
    assert!(
        !out_dir.join("kms.tf").exists(),
        "kms.tf should be removed when no longer generated"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("extra.tf")).unwrap(),
        "# the user's own file\n"
    );
    assert_eq!(render(&seed, true).status.code(), Some(0));
    assert_eq!(
        std::fs::read(out_dir.join("callback.zip")).unwrap(),
        std::fs::read(&zip).unwrap()
    );
}

/// The case: on a clean clone (no package) `--check` said `Binary file callback.zip differs`.
/// Now each file is named with what is wrong with it, then the command that fixes the folder, with
/// the spec, `-o` and `--lambda-zip` as given (quoted for a shell).
#[test]
fn check_names_each_file_and_the_command_that_fixes_the_folder() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    common::fake_lambda_zip(root); // fake-callback.zip, given relative to the working folder
    std::fs::create_dir(root.join("spec dir")).unwrap();
    let seed = std::fs::read_to_string(common::root().join("examples/seed/sfngen.toml")).unwrap();
    let before = format!("{seed}\n[logs]\nencryption = \"kms\"\n");
    let after = format!("{seed}\n[state_machine]\ntimeout = \"2h\"\n\n[alarms]\n");
    std::fs::write(root.join("spec dir/before.toml"), &before).unwrap();
    std::fs::write(root.join("spec dir/after.toml"), &after).unwrap();
    let sfngen = |spec: &str, check: bool| {
        let mut cmd = common::sfngen();
        cmd.current_dir(root)
            .args(["render", spec, "-o", "my module", "--lambda-zip", "fake-callback.zip"]);
        if check {
            cmd.arg("--check");
        }
        cmd.output().unwrap()
    };
    assert!(sfngen("spec dir/before.toml", false).status.success());
    let out = root.join("my module");
    let up_to_date = sfngen("spec dir/before.toml", true);
    assert_eq!(up_to_date.status.code(), Some(0));
    assert_eq!(text(&up_to_date), (String::new(), "my module is up to date\n".into()));

    // A clean clone: the package is not there. Missing, not "differs".
    std::fs::remove_file(out.join("callback.zip")).unwrap();
    let clean = sfngen("spec dir/before.toml", true);
    assert_eq!(clean.status.code(), Some(1));
    assert_eq!(
        text(&clean),
        (
            "missing: callback.zip\n".into(),
            "error: my module is stale (1 file); to update it: sfngen render 'spec dir/before.toml' -o 'my module' \
             --lambda-zip fake-callback.zip\n"
                .into()
        )
    );

    // Every kind at once, against the other spec.
    let main_tf = std::fs::read_to_string(out.join("main.tf")).unwrap();
    std::fs::write(out.join("main.tf"), format!("{main_tf}# a hand edit\n")).unwrap();
    std::fs::write(out.join("alarms.tf"), "# our own alarms\n").unwrap();
    let mut manifest = std::fs::read_to_string(out.join(".sfngen-manifest")).unwrap();
    manifest.push_str("../outside.tf\n");
    std::fs::write(out.join(".sfngen-manifest"), manifest).unwrap();
    let stale = sfngen("spec dir/after.toml", true);
    assert_eq!(stale.status.code(), Some(1));
    let (stdout, stderr) = text(&stale);
    let (old, new) = (
        sfngen::render_source(&before, "before.toml").unwrap(),
        sfngen::render_source(&after, "after.toml").unwrap(),
    );
    let mut expected = vec![
        "ignored manifest entry: ../outside.tf (a path with an empty, `.` or `..` part; render neither follows nor removes it)"
            .to_string(),
        "missing: callback.zip".into(),
        "not generated by sfngen: alarms.tf (its first line is not sfngen's header)".into(),
        "no longer generated: kms.tf".into(),
        "edited by hand: main.tf (its bytes are not the ones sfngen wrote)".into(),
    ];
    for file in &new {
        let was = old.iter().find(|o| o.path == file.path);
        if file.path != "main.tf" && file.path != "alarms.tf" && was.is_some_and(|o| o.contents != file.contents) {
            expected.push(format!("differs: {}", file.path));
        }
        // A file only the new spec makes (its alarms' terraform test): not there yet.
        if was.is_none() && file.path != "alarms.tf" {
            expected.push(format!("missing: {}", file.path));
        }
    }
    let key = |line: &String| {
        line.split_once(": ")
            .map(|(_, rest)| rest.to_string())
            .unwrap_or_default()
    };
    expected.sort_by_key(key);
    let found: Vec<String> = stdout
        .lines()
        .filter(|l| !l.starts_with([' ', '+', '-', '@', '\\']) && !l.is_empty())
        .map(str::to_string)
        .collect();
    // Without [logs] encryption nothing asks for the module's key any more: after the files, the change report.
    let deleted_key = found.last().cloned().unwrap_or_default();
    assert!(
        deleted_key.starts_with("deletes aws_kms_key.this: loses what it encrypts"),
        "{stdout}"
    );
    let found = &found[..found.len() - 1];
    assert_eq!(found, expected, "{stdout}");
    assert!(expected.len() >= 8, "{expected:?}");
    assert!(
        stdout
            .contains("differs: state-machine.asl.json\n--- a/state-machine.asl.json\n+++ b/state-machine.asl.json\n"),
        "{stdout}"
    );
    assert_eq!(
        stderr,
        format!(
            "error: my module is stale ({} files); move alarms.tf out of my module (sfngen never overwrites a file \
             it did not write), then run: sfngen render 'spec dir/after.toml' -o 'my module' --lambda-zip \
             fake-callback.zip --force --allow-replace\n",
            expected.len()
        )
    );
}

#[test]
fn check_exits_2_on_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let zip = common::fake_lambda_zip(dir.path());
    for extra in [&["--check"][..], &["--check", "--force"][..]] {
        let out = common::sfngen()
            .arg("render")
            .arg(&seed)
            .arg("-o")
            .arg(&file)
            .arg("--lambda-zip")
            .arg(&zip)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out).1);
    }
}

/// A machine with cargo and nothing else of the Lambda's toolchain on PATH, and an empty cache: render writes
/// the whole module, the shipped package included (`--lambda-source` there: `tests/lambda_build.rs`).
#[test]
fn without_cargo_lambda_render_writes_the_module_with_the_shipped_package() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("infra");
    let cargo = Path::new(env!("CARGO")).parent().unwrap().to_path_buf();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let out = common::sfngen()
        .arg("render")
        .arg(&seed)
        .arg("-o")
        .arg(&out_dir)
        .env("PATH", &cargo)
        .env("SFNGEN_CACHE", dir.path().join("empty-cache"))
        .output()
        .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // Every file of the committed seed module (its tests/ folder included), sfngen's records aside.
    let files = walk_files(&common::root().join("modules/seed"))
        .into_iter()
        .filter(|f| !f.ends_with(".sfngen-manifest") && !f.ends_with(".sfngen-state"))
        .count();
    assert!(
        stderr.contains(&format!(": {files} written, 0 unchanged, 0 removed")),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read(out_dir.join("callback.zip")).unwrap(),
        std::fs::read(common::root().join("packages/callback-arm64.zip")).unwrap()
    );
}

#[test]
fn a_lambda_zip_without_bootstrap_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.zip");
    std::fs::write(&bad, b"PK not really").unwrap();
    let seed = common::root().join("examples/seed/sfngen.toml");
    let out = common::sfngen()
        .arg("render")
        .arg(&seed)
        .arg("-o")
        .arg(dir.path().join("out"))
        .arg("--lambda-zip")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).1.contains("is not a zip file"), "{}", text(&out).1);
    assert!(!dir.path().join("out").exists());
}

#[test]
fn check_reports_a_valid_spec() {
    let seed = common::root().join("examples/seed/sfngen.toml");
    let out = common::sfngen().arg("check").arg(&seed).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    // The seed's task message with no input, the longest queue URL and task token, and the longest context Step
    // Functions fills in (an execution ARN with the longest names, an ISO 8601 time, 32-bit counts): what is left
    // of Step Functions' 262,144 bytes is the room for the input.
    let url = format!(
        "https://us-isof-south-1.queue.amazonaws.com.cn/123456789012/{}-main",
        "n".repeat(32)
    );
    let execution = format!(
        "arn:aws-us-gov:states:us-isof-south-1:123456789012:execution:{}:{}",
        "n".repeat(32),
        "e".repeat(80)
    );
    let context = serde_json::json!({
        "execution": execution,
        "state": "SendToSQS",
        "entered_time": "2026-12-03T06:17:05.123Z",
        "retry_count": u32::MAX,
        "redrive_count": u32::MAX,
    });
    let envelope = serde_json::json!({"QueueUrl": url, "MessageBody": {"input": null, "token": "t".repeat(2048), "context": context}});
    let room = 262_144 - (envelope.to_string().len() - "null".len());
    let room = format!("{},{:03}", room / 1000, room % 1000);
    assert_eq!(
        text(&out).1.lines().skip(1).collect::<Vec<_>>(),
        [format!(
            "room for a step's input in its task message: at least {room} bytes (steps[0] \"SendToSQS\" has the least)"
        )],
        "{}",
        text(&out).1
    );
    assert!(
        text(&out)
            .1
            .lines()
            .next()
            .unwrap()
            .ends_with("valid (1 step, 1 queue)")
    );
}

#[test]
fn guard_rails_warn_and_deny_warnings_makes_them_errors() {
    let bless = std::env::var_os("SFNGEN_BLESS").is_some();
    let specs = common::toml_files_in("tests/cli/warnings");
    assert!(specs.len() >= 4);
    for spec in specs {
        let name = spec.file_name().unwrap().to_string_lossy().into_owned();
        let dir = spec.parent().unwrap();
        let out = common::sfngen()
            .current_dir(dir)
            .args(["check", &name])
            .output()
            .unwrap();
        let stderr = text(&out).1;
        assert_eq!(out.status.code(), Some(0), "{name}: {stderr}");
        let expected_path = spec.with_extension("stderr");
        if bless {
            std::fs::write(&expected_path, &stderr).unwrap();
        } else {
            assert_eq!(stderr, std::fs::read_to_string(&expected_path).unwrap(), "{name}");
        }
        assert!(stderr.starts_with("warning: "), "{name}: {stderr}");

        let work = tempfile::tempdir().unwrap();
        let zip = common::fake_lambda_zip(work.path());
        let target = work.path().join("infra");
        let denied = common::sfngen()
            .current_dir(dir)
            .args(["render", &name, "--deny-warnings", "--lambda-zip"])
            .arg(&zip)
            .arg("-o")
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(denied.status.code(), Some(2), "{name}");
        assert!(text(&denied).1.contains("--deny-warnings is set; nothing was written"));
        assert!(!target.exists(), "{name}: written despite --deny-warnings");
        let allowed = common::sfngen()
            .current_dir(dir)
            .args(["render", &name, "--lambda-zip"])
            .arg(&zip)
            .arg("-o")
            .arg(&target)
            .output()
            .unwrap();
        assert_eq!(allowed.status.code(), Some(0), "{name}");
        assert!(target.join("main.tf").exists());
    }
}

#[test]
fn the_examples_raise_no_warnings() {
    for spec in common::example_specs() {
        let out = common::sfngen()
            .arg("check")
            .arg("--deny-warnings")
            .arg(&spec)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
        assert!(!text(&out).1.contains("warning"), "{}", text(&out).1);
    }
}

/// Every file under a folder, recursively.
fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk_files(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// A folder listing with each file's bytes (sfngen's records included), to tell that a render wrote nothing.
fn folder_bytes(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut found = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push((path.clone(), std::fs::read(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

/// Day two: a render that replaces or deletes a stateful resource of the folder's previous render lists each one
/// (its address in the module, what is lost, the safe way), exits 2 and writes nothing; `--check` lists the same
/// lines; `--allow-replace` writes. The first render of a folder reports nothing.
#[test]
fn a_render_that_replaces_stateful_resources_stops_until_allowed() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    common::fake_lambda_zip(root);
    let base = "name = \"demo\"\n\n[[steps]]\nname = \"Work\"\nqueue = \"jobs\"\n\n[queues.jobs]\n";
    let sfngen = |spec: &str, extra: &[&str]| {
        std::fs::write(root.join("sfngen.toml"), spec).unwrap();
        let out = common::sfngen()
            .current_dir(root)
            .args([
                "render",
                "sfngen.toml",
                "-o",
                "infra",
                "--lambda-zip",
                "fake-callback.zip",
            ])
            .args(extra)
            .output()
            .unwrap();
        let (stdout, stderr) = text(&out);
        (out.status.code(), stdout, stderr)
    };
    let (code, _, stderr) = sfngen(base, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("replaces") && !stderr.contains("note:"), "{stderr}");
    assert!(root.join("infra/.sfngen-state").is_file());
    let manifest = std::fs::read_to_string(root.join("infra/.sfngen-manifest")).unwrap();
    assert!(!manifest.contains(".sfngen-state"), "the record is no module file");

    // Turning the queue FIFO replaces it and its dead-letter queue: listed, exit 2, nothing written.
    let fifo = format!("{base}fifo = true\n");
    let before = folder_bytes(&root.join("infra"));
    let (code, stdout, stderr) = sfngen(&fifo, &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stdout, "");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(
        lines[0].starts_with(
            "replaces aws_sqs_queue.jobs (fifo_queue false -> true, name demo-jobs -> demo-jobs.fifo): loses its \
             messages, each the only copy of a waiting task's token"
        ),
        "{stderr}"
    );
    assert!(lines[0].contains("; safe way: drain it first"), "{stderr}");
    assert!(
        lines[1].starts_with("replaces aws_sqs_queue.jobs_dlq (fifo_queue false -> true, name demo-jobs-dlq -> demo-jobs-dlq.fifo): loses its dead letters"),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with("error: this render replaces or deletes 2 stateful resources of infra"),
        "{stderr}"
    );
    assert_eq!(
        lines[3],
        "  = help: once it is safe (see each line's safe way), render with --allow-replace: sfngen render \
         sfngen.toml -o infra --lambda-zip fake-callback.zip --allow-replace"
    );
    assert_eq!(
        folder_bytes(&root.join("infra")),
        before,
        "a refused render wrote something"
    );

    // --check: the files' findings, then the same two lines, and the command that writes them.
    let (code, stdout, stderr) = sfngen(&fifo, &["--check"]);
    assert_eq!(code, Some(1));
    let report: Vec<&str> = stdout.lines().filter(|l| l.starts_with("replaces ")).collect();
    assert_eq!(report, lines[..2].to_vec());
    assert!(stdout.ends_with(&format!("{}\n{}\n", lines[0], lines[1])), "{stdout}");
    assert!(
        stderr.ends_with(
            "to update it once it is safe to replace or delete the stateful resources above: sfngen render \
             sfngen.toml -o infra --lambda-zip fake-callback.zip --allow-replace\n"
        ),
        "{stderr}"
    );

    // --allow-replace writes (the same lines first); the record moves on: the same spec reports nothing again.
    let (code, _, stderr) = sfngen(&fifo, &["--allow-replace"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.starts_with(&format!("{}\n{}\nwrote ", lines[0], lines[1])),
        "{stderr}"
    );
    let (code, _, stderr) = sfngen(&fifo, &[]);
    assert_eq!(
        (code, stderr.as_str()),
        (
            Some(0),
            "rendered sfngen.toml into infra: 0 written, 18 unchanged, 0 removed\n"
        )
    );

    // In-place changes (retention, encryption, a renamed step, a new queue) report nothing.
    let in_place = fifo.replace("\"Work\"", "\"Renamed\"").replace(
        "fifo = true\n",
        "fifo = true\nretention = \"2d\"\nencryption = \"kms\"\n\n[[steps]]\nname = \"Audit\"\nqueue = \"audit\"\n\n[queues.audit]\n",
    );
    let (code, _, stderr) = sfngen(&in_place, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("replaces") && !stderr.contains("deletes"), "{stderr}");

    // A new name replaces everything named after it; the note says which callers that concerns.
    let (code, _, stderr) = sfngen(&in_place.replace("\"demo\"", "\"other\""), &[]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("replaces aws_sfn_state_machine.this (name demo -> other): loses its running executions"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "note: the module's name input now defaults to \"other\" (was \"demo\"): the lines above that follow \
             from it hold where the module is called without name; a caller that sets name keeps its own value"
        ),
        "{stderr}"
    );
}

/// A folder an earlier sfngen rendered has a manifest and no record: the report starts with this render, which
/// says so and writes the record. An unreadable record is said, and replaced the same way.
#[test]
fn without_a_record_the_report_starts_with_this_render() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    common::fake_lambda_zip(root);
    let base = "name = \"demo\"\n\n[[steps]]\nname = \"Work\"\nqueue = \"jobs\"\n\n[queues.jobs]\n";
    let sfngen = |spec: &str| {
        std::fs::write(root.join("sfngen.toml"), spec).unwrap();
        let out = common::sfngen()
            .current_dir(root)
            .args([
                "render",
                "sfngen.toml",
                "-o",
                "infra",
                "--lambda-zip",
                "fake-callback.zip",
            ])
            .output()
            .unwrap();
        (out.status.code(), text(&out).1)
    };
    assert_eq!(sfngen(base).0, Some(0));
    std::fs::remove_file(root.join("infra/.sfngen-state")).unwrap();
    let (code, stderr) = sfngen(&format!("{base}fifo = true\n"));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.starts_with(
            "note: infra holds a render without sfngen's .sfngen-state (an earlier sfngen's): no change report this \
             time; it starts with this render\n"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("replaces"), "{stderr}");
    // The record is back: turning FIFO off is reported.
    assert_eq!(sfngen(base).0, Some(2));
    std::fs::write(root.join("infra/.sfngen-state"), "not json\n").unwrap();
    let (code, stderr) = sfngen(base);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.starts_with("note: .sfngen-state in infra is not a record sfngen can read ("),
        "{stderr}"
    );
    assert_eq!(sfngen(&format!("{base}fifo = true\n")).0, Some(2));
}
