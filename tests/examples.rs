//! The committed example modules are exactly what `sfngen render` writes today, and rendering is
//! deterministic. To update them: `scripts/render-examples.sh`.

mod common;

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

/// Every committed text file of each example module, and its manifest, match today's render. The
/// Lambda package is a build artifact: the manifest lists it, git ignores it (`.gitignore`).
#[test]
fn committed_example_modules_are_up_to_date() {
    let examples = common::example_specs();
    assert!(examples.len() >= 2, "expected the seed and a fuller example");
    for spec in examples {
        let module = common::example_module_dir(&spec);
        let mut files = common::render(&spec);
        let mut listed = files.clone();
        listed.push(sfngen::emit::GeneratedFile {
            path: sfngen::emit::LAMBDA_ZIP_FILE.into(),
            contents: Vec::new(),
        });
        listed.sort_by(|a, b| a.path.cmp(&b.path));
        files.push(sfngen::output::manifest_for(&listed));
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

/// `examples/vendored` is an infrastructure repository's root module calling a vendored sfngen module:
/// its own .tf files are fmt-clean, parse, conform to the provider schema, and pass only arguments the
/// module declares.
#[test]
fn the_vendored_layout_is_a_valid_root_module() {
    let root = common::root().join("examples/vendored");
    let out = common::tool("terraform")
        .args(["fmt", "-check", "-diff", "-recursive"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let read = |dir: &std::path::Path| -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
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
    };
    let root_files = read(&root);
    let module_files = read(&root.join("modules/callbacks"));
    for version in ["5.100.0", "6.9.0", "6.47.0"] {
        let violations = common::schema::Schema::load(version).check_module(&root_files);
        assert!(violations.is_empty(), "{violations:#?}");
    }
    // The module call passes only variables the module declares, and uses only outputs it has.
    let declared = |kind: &str| -> Vec<String> {
        module_files
            .iter()
            .flat_map(|(_, text)| hcl::parse(text).unwrap().into_blocks())
            .filter(|b| b.identifier() == kind)
            .map(|b| b.labels()[0].as_str().to_string())
            .collect()
    };
    let (variables, outputs) = (declared("variable"), declared("output"));
    let main = hcl::parse(&std::fs::read_to_string(root.join("main.tf")).unwrap()).unwrap();
    let call = main
        .blocks()
        .find(|b| b.identifier() == "module")
        .expect("a module block");
    assert_eq!(call.labels()[0].as_str(), "callbacks");
    for attr in call.body().attributes() {
        match attr.key() {
            "source" => assert_eq!(hcl::format::to_string(attr.expr()).unwrap(), "\"./modules/callbacks\""),
            key => assert!(variables.contains(&key.to_string()), "the module has no variable {key}"),
        }
    }
    let text = std::fs::read_to_string(root.join("main.tf")).unwrap();
    for (index, _) in text.match_indices("module.callbacks.") {
        let name: String = text[index + "module.callbacks.".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        assert!(outputs.contains(&name), "the module has no output {name}");
    }
    // The provider block lives in the root, never in the module.
    assert!(module_files.iter().all(|(_, t)| !t.contains("provider \"aws\"")));
    assert!(text.contains("default_tags"));
}
