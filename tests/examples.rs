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

#[test]
fn committed_example_modules_are_up_to_date() {
    let examples = common::example_specs();
    assert!(examples.len() >= 2, "expected the seed and a fuller example");
    for spec in examples {
        let module = spec.parent().unwrap().join("module");
        let files = common::render(&spec);
        let stale = sfngen::output::check(&module, &files).expect("check");
        assert!(
            stale.is_none(),
            "{} is stale; run scripts/render-examples.sh\n{}",
            module.display(),
            stale.unwrap_or_default()
        );
    }
}
