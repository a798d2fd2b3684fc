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
        let module = spec.parent().unwrap().join("module");
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
