//! The whole front end on arbitrary bytes: UTF-8 check, parse, resolve, guard rails, every emitter,
//! and the rendering of every diagnostic. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    match sfngen::check_source(source, "fuzz.toml") {
        Ok((model, warnings)) => {
            for warning in &warnings {
                let _ = warning.render("fuzz.toml", source);
            }
            let files = sfngen::emit::render_all(&model);
            assert!(!files.is_empty());
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            for diagnostic in &diagnostics {
                let _ = diagnostic.render("fuzz.toml", source);
            }
        }
    }
});
