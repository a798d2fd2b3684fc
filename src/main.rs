//! The `sfngen` command line.
//!
//! Exit status: 0 done; 1 `render --check` found the folder stale; 2 invalid spec, bad arguments or an
//! output folder that cannot be used (nothing is written then).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sfngen::diagnostic::Diagnostic;
use sfngen::error::UsageError;
use sfngen::lambda::PackageSource;
use sfngen::output;
use sfngen::spec::file::ReadError;

#[derive(Parser)]
#[command(
    name = "sfngen",
    version,
    about = "Renders the AWS Step Functions callback pattern as a Terraform module"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render a spec into a Terraform module folder.
    Render {
        /// The spec, usually sfngen.toml.
        spec: PathBuf,
        /// The module folder to write (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// Write nothing; exit 1 with a diff when DIR is not what render would write (for CI).
        #[arg(long)]
        check: bool,
        /// Use this callback Lambda package (a zip holding `bootstrap`) instead of the one sfngen ships.
        #[arg(long, value_name = "PATH")]
        lambda_zip: Option<PathBuf>,
        /// Build the callback Lambda from this `lambda/` folder of an sfngen checkout (with cargo-lambda and
        /// zig) instead of using the package sfngen ships.
        #[arg(long, value_name = "DIR", conflicts_with = "lambda_zip")]
        lambda_source: Option<PathBuf>,
        /// Treat guard-rail warnings as errors: exit 2 and write nothing.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Validate a spec without writing anything.
    Check {
        /// The spec, usually sfngen.toml.
        spec: PathBuf,
        /// Treat guard-rail warnings as errors (exit 2).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Write a commented starter spec (and the JSON Schema its `#:schema` line names); never overwrites.
    Init {
        /// Where to write the spec.
        #[arg(default_value = "sfngen.toml")]
        path: PathBuf,
    },
    /// Print the JSON Schema of sfngen.toml (for taplo, Even Better TOML and CI).
    Schema,
    /// Print the workflow as a mermaid flowchart (the diagram the module README embeds).
    Graph {
        /// The spec, usually sfngen.toml.
        spec: PathBuf,
    },
}

const EXIT_STALE: u8 = 1;
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Init { path } => init(&path),
        Command::Schema => {
            print!("{}", sfngen::schema::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph { spec } => {
            let Some(model) = load(&spec, false)? else {
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            println!("{}", sfngen::emit::readme::workflow_mermaid(&model));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { spec, deny_warnings } => {
            let Some(model) = load(&spec, deny_warnings)? else {
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            eprintln!(
                "{}: valid ({} step{}, {} queue{})",
                spec.display(),
                model.steps.len(),
                plural(model.steps.len()),
                model.queues.len(),
                plural(model.queues.len())
            );
            if let Some((room, step)) = sfngen::fit::least_room(&model) {
                eprintln!(
                    "room for a step's input in its task message: at least {} ({step} has the least)",
                    sfngen::fit::bytes_text(room)
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Render {
            spec,
            output,
            check,
            lambda_zip,
            lambda_source,
            deny_warnings,
        } => {
            let Some(model) = load(&spec, deny_warnings)? else {
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            let package = match (&lambda_zip, &lambda_source) {
                (Some(zip), _) => PackageSource::Zip(zip),
                (None, Some(dir)) => PackageSource::Build(dir),
                (None, None) => PackageSource::Shipped,
            };
            let files = match sfngen::render_module(&model, package) {
                Ok(files) => files,
                Err(err) => return usage_or_fail(err),
            };
            if check {
                return check_folder(&output, &files);
            }
            match output::write(&output, &files) {
                Ok(report) => {
                    // One write: stderr is unbuffered, and eprintln! would write each piece.
                    let line = format!(
                        "rendered {} into {}: {} written, {} unchanged, {} removed\n",
                        spec.display(),
                        output.display(),
                        report.written.len(),
                        report.unchanged,
                        report.removed.len()
                    );
                    eprint!("{line}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) => usage_or_fail(err),
            }
        }
    }
}

/// Writes the starter spec and, beside it, the schema it names; refuses to overwrite the spec.
fn init(path: &Path) -> anyhow::Result<ExitCode> {
    let schema_path = path.parent().unwrap_or(Path::new("")).join(sfngen::SCHEMA_FILE);
    let spec = std::fs::OpenOptions::new().write(true).create_new(true).open(path);
    let mut spec = match spec {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "error: {} already exists; sfngen init never overwrites a spec",
                path.display()
            );
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        Err(err) => {
            eprintln!("error: cannot create {}: {err}", path.display());
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    use std::io::Write as _;
    spec.write_all(sfngen::STARTER_SPEC.as_bytes())?;
    if !schema_path.exists() {
        std::fs::write(&schema_path, sfngen::schema::json_schema())?;
    }
    eprintln!(
        "wrote {} (and {}); next: sfngen render {} -o infra/",
        path.display(),
        schema_path.display(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn check_folder(output: &Path, files: &[sfngen::generated::ModuleFile]) -> anyhow::Result<ExitCode> {
    match output::check(output, files) {
        Ok(None) => {
            eprintln!("{} is up to date", output.display());
            Ok(ExitCode::SUCCESS)
        }
        Ok(Some(diff)) => {
            print!("{diff}");
            eprintln!("error: {} is stale; run `sfngen render` to update it", output.display());
            Ok(ExitCode::from(EXIT_STALE))
        }
        Err(err) => usage_or_fail(err),
    }
}

fn usage_or_fail(err: anyhow::Error) -> anyhow::Result<ExitCode> {
    if err.downcast_ref::<UsageError>().is_some() {
        eprintln!("error: {err}");
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    Err(err)
}

/// Reads and resolves a spec; prints its diagnostics and returns `None` when it is invalid (or has
/// warnings and `deny_warnings` is set).
fn load(path: &Path, deny_warnings: bool) -> anyhow::Result<Option<sfngen::model::Model>> {
    let display = path.display().to_string();
    let source = match sfngen::spec::file::read(path) {
        Ok(source) => source,
        Err(ReadError::NotUtf8 { diagnostic, text }) => {
            report(&display, &text, &[*diagnostic]);
            return Ok(None);
        }
        Err(ReadError::Io(err)) => {
            eprintln!("error: cannot read spec file {display}: {err}");
            return Ok(None);
        }
        Err(err) => {
            eprintln!("error: spec file {display} {err}");
            return Ok(None);
        }
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| display.clone());
    match sfngen::check_source(&source, &file_name) {
        Ok((model, warnings)) => {
            for warning in &warnings {
                eprintln!("{}", warning.render(&display, &source));
            }
            if deny_warnings && !warnings.is_empty() {
                let n = warnings.len();
                eprintln!(
                    "error: {display} has {n} warning{} and --deny-warnings is set; nothing was written",
                    plural(n)
                );
                return Ok(None);
            }
            Ok(Some(model))
        }
        Err(diags) => {
            report(&display, &source, &diags);
            Ok(None)
        }
    }
}

fn report(file: &str, source: &str, diags: &[Diagnostic]) {
    for diag in diags {
        eprintln!("{}", diag.render(file, source));
    }
    let errors = diags.len();
    eprintln!(
        "error: {file} has {errors} problem{}; nothing was written",
        plural(errors)
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
