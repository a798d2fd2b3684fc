//! The committed example modules are exactly what `sfngen render` writes today, and rendering is
//! deterministic. To update them: `scripts/render-examples.sh`.

mod common;

use std::path::Path;

#[test]
fn rendering_is_byte_for_byte_deterministic() {
    for spec in common::all_specs() {
        assert_eq!(
            common::render(&spec),
            common::render(&spec),
            "{}",
            common::spec_label(&spec)
        );
    }
}

/// Every committed file of each example module, its manifest and its Lambda package included, matches
/// today's render: the package is the one sfngen ships for the module's architecture, so a module used
/// from git (`source = "git::...//modules/seed?ref=..."`) has it, and `render --check` passes on a clean
/// checkout.
#[test]
fn committed_example_modules_are_up_to_date() {
    let examples = common::example_specs();
    assert!(examples.len() >= 2, "expected the seed and a fuller example");
    for spec in examples {
        let module = common::example_module_dir(&spec);
        let mut files = common::render(&spec);
        let source = std::fs::read_to_string(&spec).unwrap();
        let model = sfngen::load_model(&source, "sfngen.toml").unwrap_or_else(|d| panic!("{d:?}"));
        files.push(sfngen::emit::GeneratedFile {
            path: sfngen::emit::LAMBDA_ZIP_FILE.into(),
            contents: sfngen::lambda::shipped(model.callback.architecture).bytes.to_vec(),
        });
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.push(sfngen::output::manifest_for(&files));
        for file in files {
            let committed = std::fs::read(module.join(&file.path)).unwrap_or_default();
            assert!(
                committed == file.contents,
                "{}/{} is stale; run scripts/render-examples.sh",
                module.display(),
                file.path
            );
        }
    }
}

/// `modules/` holds the ready-rendered module of each shipped example and nothing else, so the test above
/// keeps every file there byte-identical to a fresh render.
#[test]
fn every_module_in_modules_is_an_examples_render() {
    let targets: Vec<std::path::PathBuf> = common::example_specs()
        .iter()
        .map(|spec| common::example_module_dir(spec))
        .collect();
    let mut found = 0;
    for entry in std::fs::read_dir(common::root().join("modules")).expect("modules/") {
        let path = entry.unwrap().path();
        assert!(path.is_dir(), "{} is not a module folder", path.display());
        assert!(
            targets.contains(&path),
            "{} is no example's module: add examples/NAME/sfngen.toml or remove it",
            path.display()
        );
        found += 1;
    }
    assert!(
        found >= 2,
        "expected the seed's and the fuller example's modules in modules/"
    );
}

/// The `.tf` files of a folder as `(name, text)`, sorted.
fn tf_files_in(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Each example folder is a root configuration that calls its rendered module (`examples/vendored`: an
/// infrastructure repository calling its vendored copy at `./modules/callbacks`; the others: the module in
/// `modules/`, as a git `source` would). Its .tf files are fmt-clean, parse and conform to the provider
/// schema; it owns the provider block, passes only variables the module declares and reads only its outputs.
#[test]
#[ignore = "needs the pinned tools: run scripts/test.sh"]
fn every_example_is_a_root_configuration_that_calls_its_module() {
    for spec in common::example_specs() {
        let root = spec.parent().unwrap().to_path_buf();
        let label = common::spec_label(&spec);
        let out = common::tool("terraform")
            .args(["fmt", "-check", "-diff", "-recursive"])
            .arg(&root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{label}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let root_files = tf_files_in(&root);
        let module_dir = common::example_module_dir(&spec);
        let module_files = tf_files_in(&module_dir);
        for version in ["5.100.0", "6.9.0", "6.47.0"] {
            let violations = common::schema::Schema::load(version).check_module(&root_files);
            assert!(violations.is_empty(), "{label}: {violations:#?}");
        }
        // One module call, whose source is the example's rendered module.
        let declared = |kind: &str| -> Vec<String> {
            module_files
                .iter()
                .flat_map(|(_, text)| hcl::parse(text).unwrap().into_blocks())
                .filter(|b| b.identifier() == kind)
                .map(|b| b.labels()[0].as_str().to_string())
                .collect()
        };
        let (variables, outputs) = (declared("variable"), declared("output"));
        let main_text = std::fs::read_to_string(root.join("main.tf")).unwrap();
        let main = hcl::parse(&main_text).unwrap();
        let calls: Vec<&hcl::Block> = main.blocks().filter(|b| b.identifier() == "module").collect();
        assert_eq!(calls.len(), 1, "{label}: one module call");
        let call = calls[0];
        let name = call.labels()[0].as_str();
        let mut source = None;
        for attr in call.body().attributes() {
            match attr.key() {
                "source" => source = Some(hcl::format::to_string(attr.expr()).unwrap()),
                key => assert!(
                    variables.contains(&key.to_string()),
                    "{label}: the module has no variable {key}"
                ),
            }
        }
        let source = source.expect("a module source");
        let source = source.trim_matches('"');
        assert_eq!(
            common::normalize(&root.join(source)),
            common::normalize(&module_dir),
            "{label}: module {name} calls {source}, not the example's module"
        );
        if label == "vendored" {
            assert_eq!(
                (name, source),
                ("callbacks", "./modules/callbacks"),
                "the infra-repo layout"
            );
            assert!(main_text.contains("default_tags"));
        }
        let prefix = format!("module.{name}.");
        for (index, _) in main_text.match_indices(&prefix) {
            let output: String = main_text[index + prefix.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(outputs.contains(&output), "{label}: the module has no output {output}");
        }
        // The provider block lives in the root, never in the module.
        assert!(module_files.iter().all(|(_, t)| !t.contains("provider \"aws\"")));
        assert!(
            main_text.contains("provider \"aws\""),
            "{label}: the root configures the provider"
        );
    }
}
