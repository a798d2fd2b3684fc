//! The `sfngen` command line.
//!
//! Exit status: 0 done; 1 `render --check` found the folder stale; 2 invalid spec, bad arguments or an
//! output folder that cannot be used (nothing is written then).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sfngen::change::{self, Record};
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
        /// Write nothing; exit 1, naming each file and how it differs, when DIR is not what render would
        /// leave (for CI).
        #[arg(long)]
        check: bool,
        /// Overwrite (or remove) generated files that were edited by hand since sfngen wrote them.
        #[arg(long, conflicts_with = "check")]
        force: bool,
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
        /// Write even though the render replaces or deletes stateful resources (queues, the state machine, log
        /// groups, the KMS key) of the previous render of DIR; without it such a render lists them, exits 2 and
        /// writes nothing.
        #[arg(long)]
        allow_replace: bool,
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
            let topics = match model.topics.len() {
                0 => String::new(),
                n => format!(", {n} topic{}", plural(n)),
            };
            eprintln!(
                "{}: valid ({} step{}, {} queue{}{topics})",
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
            force,
            lambda_zip,
            lambda_source,
            deny_warnings,
            allow_replace,
        } => {
            let Some(model) = load(&spec, deny_warnings)? else {
                return Ok(ExitCode::from(EXIT_USAGE));
            };
            let package = match (&lambda_zip, &lambda_source) {
                (Some(zip), _) => PackageSource::Zip(zip),
                (None, Some(dir)) => PackageSource::Build(dir),
                (None, None) => PackageSource::Shipped,
            };
            let mut files = match sfngen::render_module(&model, package) {
                Ok(files) => files,
                Err(err) => return usage_or_fail(err),
            };
            let record = Record::of(&model);
            files.push(record.file().into());
            files.sort_by(|a, b| a.path().cmp(b.path()));
            let invocation = RenderInvocation {
                spec: &spec,
                output: &output,
                lambda_zip: lambda_zip.as_deref(),
                lambda_source: lambda_source.as_deref(),
                allow_replace,
            };
            if check {
                let previous = if output.is_dir() {
                    output::read_record(&output, change::RECORD)?
                } else {
                    None
                };
                let changes = change_report(&output, previous, &record);
                return check_folder(&invocation, &files, &changes);
            }
            let mut changes = ChangeReport::default();
            let written = output::write_gated(&output, &files, force, change::RECORD, |previous| {
                changes = change_report(&output, previous, &record);
                if changes.report.is_empty() || allow_replace {
                    Ok(())
                } else {
                    Err(ReplaceRefused.into())
                }
            });
            // One write each: stderr is unbuffered, and eprintln! would write each piece.
            eprint!("{}", changes.text());
            match written {
                Ok(report) => {
                    eprint!("{}", render_summary(&invocation, &report));
                    Ok(ExitCode::SUCCESS)
                }
                Err(err) if err.downcast_ref::<ReplaceRefused>().is_some() => {
                    eprint!("{}", replace_refusal(&invocation, &changes.report));
                    Ok(ExitCode::from(EXIT_USAGE))
                }
                Err(err) => match err.downcast_ref::<output::Refused>() {
                    Some(refused) => {
                        eprint!("{}", refusal_message(&invocation, refused));
                        Ok(ExitCode::from(EXIT_USAGE))
                    }
                    None => usage_or_fail(err),
                },
            }
        }
    }
}

/// What `sfngen render` was given, to name in messages and in the command that fixes a folder.
struct RenderInvocation<'a> {
    spec: &'a Path,
    output: &'a Path,
    lambda_zip: Option<&'a Path>,
    lambda_source: Option<&'a Path>,
    allow_replace: bool,
}

/// A render stopped because it replaces or deletes stateful resources and `--allow-replace` is not given.
#[derive(Debug)]
struct ReplaceRefused;

impl std::fmt::Display for ReplaceRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the render replaces or deletes stateful resources")
    }
}

impl std::error::Error for ReplaceRefused {}

/// The change report of a render, and why there is none when the folder has no record to compare with.
#[derive(Default)]
struct ChangeReport {
    report: change::Report,
    /// Said instead of a report: the folder holds a render but no record of it this sfngen can read.
    no_record: Option<String>,
}

impl ChangeReport {
    /// The report's lines (or the note saying why there is none), one per line.
    fn text(&self) -> String {
        let mut text = String::new();
        if let Some(note) = &self.no_record {
            text.push_str(&format!("note: {note}\n"));
        }
        for line in self.report.lines() {
            text.push_str(&line);
            text.push('\n');
        }
        text
    }
}

/// The change report from the record the previous render of `dir` left (`previous`) to `record`. A folder with
/// no record reports nothing: a new folder, or one an earlier sfngen rendered (its files are not read back: the
/// report starts with this render, which writes the record).
fn change_report(dir: &Path, previous: Option<Vec<u8>>, record: &Record) -> ChangeReport {
    let Some(bytes) = previous else {
        let rendered_before = output::read_record(dir, output::MANIFEST).ok().flatten().is_some();
        return ChangeReport {
            no_record: rendered_before.then(|| {
                format!(
                    "{} holds a render without sfngen's {} (an earlier sfngen's): no change report this time; \
                     it starts with this render",
                    dir.display(),
                    change::RECORD
                )
            }),
            ..ChangeReport::default()
        };
    };
    match Record::parse(&bytes) {
        Ok(previous) => ChangeReport {
            report: change::compare(&previous, record),
            no_record: None,
        },
        Err(why) => ChangeReport {
            report: change::Report::default(),
            no_record: Some(format!(
                "{} in {} is {why}: no change report this time; it starts with this render",
                change::RECORD,
                dir.display()
            )),
        },
    }
}

/// Why a render that replaces or deletes stateful resources wrote nothing, and how to go on.
fn replace_refusal(invocation: &RenderInvocation, report: &change::Report) -> String {
    let count = report.changes.len();
    format!(
        "error: this render replaces or deletes {count} stateful resource{} of {} (above: addresses in the module; \
         in a plan they read module.NAME.ADDRESS); nothing was written\n  = help: once it is safe (see each line's \
         safe way), render with --allow-replace: {}\n",
        plural(count),
        invocation.output.display(),
        RenderInvocation {
            allow_replace: true,
            ..*invocation
        }
        .command(false)
    )
}

impl RenderInvocation<'_> {
    /// The render command, with the spec, `-o`, `--lambda-zip` and `--lambda-source` as given (quoted for a
    /// shell).
    fn command(&self, force: bool) -> String {
        let mut command = format!(
            "sfngen render {} -o {}",
            shell_quote(&self.spec.to_string_lossy()),
            shell_quote(&self.output.to_string_lossy())
        );
        if let Some(zip) = self.lambda_zip {
            command.push_str(&format!(" --lambda-zip {}", shell_quote(&zip.to_string_lossy())));
        }
        if let Some(dir) = self.lambda_source {
            command.push_str(&format!(" --lambda-source {}", shell_quote(&dir.to_string_lossy())));
        }
        if force {
            command.push_str(" --force");
        }
        if self.allow_replace {
            command.push_str(" --allow-replace");
        }
        command
    }
}

/// `word` as a POSIX shell reads it back: bare when it is plain, else in single quotes.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./:=+,@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Each ignored manifest entry, each file written and removed (one line each), then the summary.
fn render_summary(invocation: &RenderInvocation, report: &output::WriteReport) -> String {
    let mut text = String::new();
    for (path, why) in &report.ignored {
        if path == output::MANIFEST {
            text.push_str(&format!(
                "warning: {path} is {why}: not read; sfngen knows its files by their header, and writes a new one\n"
            ));
        } else {
            text.push_str(&format!(
                "warning: {} lists {path}: {why}; ignored, neither followed nor removed\n",
                output::MANIFEST
            ));
        }
    }
    for path in &report.unlisted {
        text.push_str(&format!(
            "note: {path} has sfngen's header, and no {} lists it: left alone; delete it if sfngen no longer \
             generates it\n",
            output::MANIFEST
        ));
    }
    if report.manifest_only {
        text.push_str(&format!(
            "wrote {} (every file was up to date, not every record of it)\n",
            output::MANIFEST
        ));
    }
    for path in &report.written {
        if report.overwritten_edits.contains(path) {
            text.push_str(&format!("wrote {path} (over its hand edit: --force)\n"));
        } else {
            text.push_str(&format!("wrote {path}\n"));
        }
    }
    for path in &report.removed {
        if report.overwritten_edits.contains(path) {
            text.push_str(&format!("removed {path} (despite its hand edit: --force)\n"));
        } else {
            text.push_str(&format!("removed {path}\n"));
        }
    }
    text.push_str(&format!(
        "rendered {} into {}: {} written, {} unchanged, {} removed\n",
        invocation.spec.display(),
        invocation.output.display(),
        report.written.len(),
        report.unchanged,
        report.removed.len()
    ));
    text
}

/// Why render wrote nothing, and what to do.
fn refusal_message(invocation: &RenderInvocation, refused: &output::Refused) -> String {
    let mut text = format!("error: {refused}\n");
    if !refused.edited.is_empty() {
        text.push_str(&format!(
            "  = help: keep the change in the spec (or in a .tf file of your own beside the module), then \
             render again; to drop the edits instead: {}\n",
            invocation.command(true)
        ));
    }
    text
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

/// `render --check`: each file that is not as render would leave it, then the command that updates the
/// folder. Exit 1 when stale.
fn check_folder(
    invocation: &RenderInvocation,
    files: &[sfngen::generated::ModuleFile],
    changes: &ChangeReport,
) -> anyhow::Result<ExitCode> {
    let output = invocation.output;
    let report = match output::check(output, files) {
        Ok(report) => report,
        Err(err) => return usage_or_fail(err),
    };
    if report.is_up_to_date() {
        eprintln!("{} is up to date", output.display());
        return Ok(ExitCode::SUCCESS);
    }
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(report.text().as_bytes())?;
    // The same lines a render would print before it stops, after the files' findings.
    stdout.write_all(changes.text().as_bytes())?;
    stdout.flush()?;
    let replaces = !changes.report.is_empty();
    let invocation = &RenderInvocation {
        allow_replace: invocation.allow_replace || replaces,
        ..*invocation
    };
    let count = report.findings.len();
    let users = report.users_files();
    let fix = if !users.is_empty() {
        format!(
            "move {} out of {} (sfngen never overwrites a file it did not write), then run: {}",
            users.join(", "),
            output.display(),
            invocation.command(report.needs_force())
        )
    } else if report.needs_force() {
        format!(
            "to update it, overwriting the hand edits above: {}",
            invocation.command(true)
        )
    } else if replaces {
        format!(
            "to update it once it is safe to replace or delete the stateful resources above: {}",
            invocation.command(false)
        )
    } else {
        format!("to update it: {}", invocation.command(false))
    };
    eprintln!(
        "error: {} is stale ({count} file{}); {fix}",
        output.display(),
        plural(count)
    );
    Ok(ExitCode::from(EXIT_STALE))
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

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn words_are_quoted_only_when_a_shell_would_split_or_expand_them() {
        assert_eq!(shell_quote("examples/seed/sfngen.toml"), "examples/seed/sfngen.toml");
        assert_eq!(shell_quote("my module"), "'my module'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$HOME"), "'$HOME'");
        assert_eq!(shell_quote(""), "''");
    }
}
