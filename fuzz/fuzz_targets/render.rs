//! The whole front end on arbitrary bytes: UTF-8 check (and its diagnostic), parse, resolve, guard rails,
//! every emitter, and the rendering of every diagnostic. Nothing may panic, and whatever renders must parse:
//! every `.tf` file as HCL, the ASL as JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sfngen::spec::file::{ReadError, decode};

fuzz_target!(|data: &[u8]| {
    let source = match decode(data.to_vec()) {
        Ok(source) => source,
        Err(ReadError::NotUtf8 { diagnostic, text }) => {
            let _ = diagnostic.render("fuzz.toml", &text);
            return;
        }
        Err(err) => panic!("decoding bytes failed otherwise: {err}"),
    };
    let source = source.as_str();
    match sfngen::check_source(source, "fuzz.toml") {
        Ok((model, warnings)) => {
            for warning in &warnings {
                let _ = warning.render("fuzz.toml", source);
            }
            let files = sfngen::emit::render_all(&model);
            assert!(!files.is_empty());
            for file in &files {
                let text = std::str::from_utf8(&file.contents).expect("generated text is UTF-8");
                if file.path.ends_with(".tf") {
                    if let Err(err) = hcl::parse(text) {
                        panic!("{} does not parse: {err}\n{text}", file.path);
                    }
                } else if file.path.ends_with(".json") {
                    serde_json::from_str::<serde_json::Value>(text).expect("the ASL is JSON");
                }
            }
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            for diagnostic in &diagnostics {
                let _ = diagnostic.render("fuzz.toml", source);
            }
        }
    }
});
