//! The callback Lambda's package: the `lambda/` crate, built with cargo-lambda and zipped reproducibly.
//!
//! The crate's sources are compiled into the sfngen binary, so an installed `sfngen` can build the
//! function anywhere. Each build is cached by source hash and architecture (in
//! `$SFNGEN_CACHE`, else `$XDG_CACHE_HOME/sfngen`, else `~/.cache/sfngen`), so a render after the first
//! takes milliseconds. The zip holds one entry, `bootstrap`, with a fixed timestamp and mode, so the
//! same binary always gives the same bytes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::emit::{GeneratedFile, LAMBDA_ZIP_FILE};
use crate::model::Architecture;
use crate::output::UsageError;

/// The `lambda/` crate, as compiled into sfngen: `(path, contents)`.
pub const SOURCES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../lambda/Cargo.toml")),
    ("Cargo.lock", include_str!("../lambda/Cargo.lock")),
    ("src/main.rs", include_str!("../lambda/src/main.rs")),
    ("src/answer.rs", include_str!("../lambda/src/answer.rs")),
    ("src/client.rs", include_str!("../lambda/src/client.rs")),
    ("src/dead_letter.rs", include_str!("../lambda/src/dead_letter.rs")),
    ("src/log.rs", include_str!("../lambda/src/log.rs")),
    ("src/request.rs", include_str!("../lambda/src/request.rs")),
];

/// The cargo-lambda release the project is tested with.
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";

/// Hash of the embedded sources: the cache key, with the architecture.
pub fn source_hash() -> String {
    let mut hasher = Sha256::new();
    for (path, contents) in SOURCES {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(contents.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Where built packages are kept.
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SFNGEN_CACHE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(dir).join("sfngen");
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache/sfngen"),
        None => std::env::temp_dir().join("sfngen-cache"),
    }
}

/// The module's `callback.zip`: the given package, the cached build, or a fresh build.
pub fn package(architecture: Architecture, prebuilt: Option<&Path>) -> Result<GeneratedFile> {
    let contents = match prebuilt {
        Some(path) => read_prebuilt(path)?,
        None => cached_or_built(architecture)?,
    };
    Ok(GeneratedFile {
        path: LAMBDA_ZIP_FILE.to_string(),
        contents,
    })
}

fn read_prebuilt(path: &Path) -> Result<Vec<u8>> {
    let bytes =
        std::fs::read(path).map_err(|e| UsageError(format!("cannot read --lambda-zip {}: {e}", path.display())))?;
    let archive = zip::ZipArchive::new(std::io::Cursor::new(&bytes))
        .map_err(|e| UsageError(format!("--lambda-zip {} is not a zip file: {e}", path.display())))?;
    if archive.index_for_name("bootstrap").is_none() {
        return Err(UsageError(format!(
            "--lambda-zip {} has no `bootstrap` entry: a provided.al2023 package must hold the executable as `bootstrap`",
            path.display()
        ))
        .into());
    }
    Ok(bytes)
}

fn cached_or_built(architecture: Architecture) -> Result<Vec<u8>> {
    let cache = cache_dir();
    let cached = cache.join(format!("lambda/{}-{}.zip", source_hash(), architecture.as_str()));
    if let Ok(bytes) = std::fs::read(&cached) {
        return Ok(bytes);
    }
    ensure_cargo_lambda()?;
    let binary = build(&cache, architecture)?;
    let bytes = zip_bootstrap(&std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?)?;
    write_atomically(&cached, &bytes)?;
    Ok(bytes)
}

fn ensure_cargo_lambda() -> Result<()> {
    let found = Command::new("cargo")
        .args(["lambda", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Ok(());
    }
    Err(UsageError(format!(
        "cargo-lambda is needed to build the callback Lambda and was not found.\n  \
         Install it: pip install cargo-lambda=={CARGO_LAMBDA_VERSION} (it brings zig for cross-compiling), \
         or run scripts/setup-tools.sh in the sfngen repository;\n  \
         or pass --lambda-zip PATH with a package you built (a zip holding `bootstrap`)."
    ))
    .into())
}

/// Builds the function and returns the path of its `bootstrap` executable.
fn build(cache: &Path, architecture: Architecture) -> Result<PathBuf> {
    let source = cache.join(format!("lambda-src/{}", source_hash()));
    for (path, contents) in SOURCES {
        write_atomically(&source.join(path), contents.as_bytes())?;
    }
    let target = cache.join("lambda-target");
    let arch_flag = match architecture {
        Architecture::Arm64 => "--arm64",
        Architecture::X86_64 => "--x86-64",
    };
    // Paths inside the binary (panic locations) must not depend on where the cache is.
    let cargo_home =
        std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    let rustflags = format!(
        "--remap-path-prefix={}=/sfngen-callback --remap-path-prefix={cargo_home}=/cargo",
        source.display()
    );
    eprintln!(
        "building the callback Lambda for {} (first time only; cached in {})",
        architecture.as_str(),
        cache.display()
    );
    let output = Command::new("cargo")
        .args(["lambda", "build", "--release", "--locked", arch_flag, "--manifest-path"])
        .arg(source.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", rustflags)
        .output()
        .context("cannot run cargo lambda build")?;
    if !output.status.success() {
        anyhow::bail!("cargo lambda build failed:\n{}", last_lines(&output.stderr, 30));
    }
    let binary = target.join("lambda/bootstrap/bootstrap");
    if !binary.exists() {
        anyhow::bail!("cargo lambda build succeeded but {} is missing", binary.display());
    }
    Ok(binary)
}

/// The last `count` lines of a command's output: where a build says what went wrong.
fn last_lines(output: &[u8], count: usize) -> String {
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}

/// A zip with one entry, `bootstrap` (mode 0755, timestamp 1980-01-01): same binary, same bytes.
pub fn zip_bootstrap(binary: &[u8]) -> Result<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(9))
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o755);
    writer.start_file("bootstrap", options).context("zip")?;
    writer.write_all(binary).context("zip")?;
    Ok(writer.finish().context("zip")?.into_inner())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_lambda_source_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lambda/src");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = format!("src/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(
                SOURCES.iter().any(|(p, _)| *p == name),
                "{name} is not in lambda::SOURCES"
            );
        }
    }

    #[test]
    fn the_zip_is_reproducible_and_holds_an_executable_bootstrap() {
        let a = zip_bootstrap(b"\x7fELF pretend").unwrap();
        assert_eq!(a, zip_bootstrap(b"\x7fELF pretend").unwrap());
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&a)).unwrap();
        assert_eq!(archive.len(), 1);
        let entry = archive.by_name("bootstrap").unwrap();
        assert_eq!(entry.unix_mode().map(|m| m & 0o777), Some(0o755));
    }

    #[test]
    fn build_errors_keep_their_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines(b"only", 30), "only");
    }

    #[test]
    fn a_prebuilt_package_must_hold_bootstrap() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.zip");
        std::fs::write(&good, zip_bootstrap(b"x").unwrap()).unwrap();
        assert_eq!(package(Architecture::Arm64, Some(&good)).unwrap().path, LAMBDA_ZIP_FILE);
        let not_zip = dir.path().join("bad.zip");
        std::fs::write(&not_zip, b"nope").unwrap();
        let err = package(Architecture::Arm64, Some(&not_zip)).unwrap_err();
        assert!(err.to_string().contains("is not a zip file"), "{err}");
        let missing = package(Architecture::Arm64, Some(&dir.path().join("none.zip"))).unwrap_err();
        assert!(missing.downcast_ref::<UsageError>().is_some());
    }
}
