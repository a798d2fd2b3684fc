#![recursion_limit = "256"]
//! sfngen: the AWS Step Functions callback pattern, rendered as a Terraform module.
//!
//! The pipeline: [`spec::parse`] (TOML → spanned [`spec::Spec`]) → [`resolve::resolve`] (validation,
//! defaults → [`model::Model`]) → [`emit::render_all`] (ASL, Terraform, README in memory) → [`fit::check`]
//! (what only the rendered module fixes, against AWS's limits) → [`output`] (atomic write, or a `--check` diff).
//! Every limit is in one table, [`limits`].

pub mod change;
pub mod dashboard;
pub mod deployer;
pub mod diagnostic;
pub mod duration;
pub mod emit;
pub mod error;
pub mod fit;
pub mod generated;
pub mod iam_json;
pub mod lambda;
pub mod limits;
pub mod model;
pub mod output;
pub mod resolve;
pub mod schema;
pub mod spec;

use diagnostic::Diagnostic;
use emit::GeneratedFile;
use model::Model;

/// Parses and resolves a spec's text. `file_name` is what generated headers say it came from.
pub fn load_model(source: &str, file_name: &str) -> Result<Model, Vec<Diagnostic>> {
    check_source(source, file_name).map(|(model, _warnings)| model)
}

/// Like [`load_model`], and also returns the guard-rail warnings of a valid spec.
pub fn check_source(source: &str, file_name: &str) -> Result<(Model, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (spec, mut diags) = spec::parse(source);
    if diags.iter().any(|d| d.message.starts_with("invalid TOML")) {
        return Err(diags);
    }
    match resolve::resolve(&spec, file_name) {
        Ok(model) if diags.is_empty() => {
            let too_large = fit::check(&spec, &model);
            if !too_large.is_empty() {
                return Err(too_large);
            }
            let warnings = resolve::guard_rails(&spec, &model);
            Ok((model, warnings))
        }
        Ok(_) => Err(diags),
        Err(more) => {
            // A key whose type was wrong is absent to resolve: do not report it twice.
            let reported: Vec<String> = diags.iter().map(|d| d.path.clone()).collect();
            diags.extend(more.into_iter().filter(|d| !reported.contains(&d.path)));
            diags.sort_by_key(|d| d.span.as_ref().map(|s| s.start).unwrap_or(0));
            Err(diags)
        }
    }
}

/// The commented starter spec that `sfngen init` writes.
pub const STARTER_SPEC: &str = include_str!("../templates/starter.toml");

/// The file name the starter spec's `#:schema` line points at.
pub const SCHEMA_FILE: &str = "sfngen.schema.json";

/// Every file of the module, the callback Lambda package included (the shipped one, or from `package`).
pub fn render_module(model: &Model, package: lambda::PackageSource) -> anyhow::Result<Vec<generated::ModuleFile>> {
    let mut files: Vec<generated::ModuleFile> = emit::render_all(model).into_iter().map(Into::into).collect();
    files.push(lambda::package(model.callback.architecture, package)?);
    files.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(files)
}

/// The whole pipeline in memory, without the Lambda package: spec text → the module's text files.
pub fn render_source(source: &str, file_name: &str) -> Result<Vec<GeneratedFile>, Vec<Diagnostic>> {
    load_model(source, file_name).map(|model| emit::render_all(&model))
}
