//! The callback Lambda's package: the zip a module's function runs, holding one `bootstrap`.
//!
//! sfngen ships it. `packages/callback-arm64.zip` and `packages/callback-x86_64.zip`, built reproducibly from
//! `lambda/` by `scripts/refresh-packages.sh` (its manifest says with what), are compiled into the binary,
//! so rendering needs no Rust toolchain, cargo-lambda or zig. A render puts the shipped package into the
//! cache once, under its SHA-256 (in `$SFNGEN_CACHE`, else `$XDG_CACHE_HOME/sfngen`, else
//! `~/.cache/sfngen`), and hard-links it into the module from there, so 2 MB are written once per sfngen
//! version, not once per render.
//!
//! Two other sources: `--lambda-zip`, a package the user built, and `--lambda-source DIR`, a build with
//! cargo-lambda from a checkout's `lambda/` folder. A build from source runs under a lock in the cache's
//! `lambda-build` folder, so two builds never share cargo's target folder at once, and remaps the folders
//! it builds in out of the binary, so the bytes do not depend on where it ran: built from the `lambda/` of
//! the same release, it gives the shipped package byte for byte (`scripts/test.sh` checks it). The zip
//! holds one entry, `bootstrap`, with a fixed timestamp and mode.

use std::fs::File;
use std::io::{IsTerminal as _, Write as _};
use std::os::fd::{AsFd as _, AsRawFd as _};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::emit::LAMBDA_ZIP_FILE;
use crate::error::UsageError;
use crate::generated::{GeneratedFile, ModuleFile, StoredFile};
use crate::model::Architecture;
use anyhow::{Context, Result};

/// The cargo-lambda release the packages are built with (also pinned in `scripts/setup-tools.sh`).
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";

/// Where a module's package comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageSource<'a> {
    /// The package compiled into sfngen (the default).
    Shipped,
    /// A zip the user built (`--lambda-zip`).
    Zip(&'a Path),
    /// A build with cargo-lambda of this `lambda/` folder (`--lambda-source`).
    Build(&'a Path),
}

/// A package compiled into sfngen.
#[derive(Debug, Clone, Copy)]
pub struct ShippedPackage {
    /// The zip's bytes.
    pub bytes: &'static [u8],
    /// Their SHA-256 in hex, computed by `build.rs`.
    pub sha256: &'static str,
}

/// The package sfngen ships for an architecture.
pub fn shipped(architecture: Architecture) -> ShippedPackage {
    match architecture {
        Architecture::Arm64 => ShippedPackage {
            bytes: include_bytes!("../packages/callback-arm64.zip"),
            sha256: env!("SFNGEN_PACKAGE_SHA256_ARM64"),
        },
        Architecture::X86_64 => ShippedPackage {
            bytes: include_bytes!("../packages/callback-x86_64.zip"),
            sha256: env!("SFNGEN_PACKAGE_SHA256_X86_64"),
        },
    }
}

/// Where sfngen keeps the shipped packages it has written out, and the folder of builds from source.
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

/// The module's `callback.zip`, from where `source` says.
pub fn package(architecture: Architecture, source: PackageSource) -> Result<ModuleFile> {
    match source {
        PackageSource::Shipped => Ok(shipped_file(architecture)),
        PackageSource::Zip(path) => {
            check_prebuilt(path)?;
            Ok(ModuleFile::Stored(StoredFile {
                path: LAMBDA_ZIP_FILE.to_string(),
                source: path.to_path_buf(),
                immutable: false,
            }))
        }
        PackageSource::Build(dir) => {
            let bytes = build_from_source(dir, architecture)?;
            Ok(ModuleFile::Generated(GeneratedFile {
                path: LAMBDA_ZIP_FILE.to_string(),
                contents: bytes,
            }))
        }
    }
}

/// The shipped package as a module file: its cache entry, which the output hard-links, or, when the cache
/// cannot be written (a read-only home), its bytes, which the output writes.
fn shipped_file(architecture: Architecture) -> ModuleFile {
    let package = shipped(architecture);
    match cached_entry(&cache_dir(), architecture, package.bytes, package.sha256) {
        Ok(entry) => ModuleFile::Stored(StoredFile {
            path: LAMBDA_ZIP_FILE.to_string(),
            source: entry,
            immutable: true,
        }),
        Err(_) => ModuleFile::Generated(GeneratedFile {
            path: LAMBDA_ZIP_FILE.to_string(),
            contents: package.bytes.to_vec(),
        }),
    }
}

/// The cache entry of a shipped package (`bytes`, whose SHA-256 is `sha256`), written first when it is
/// missing or was changed in place.
fn cached_entry(cache: &Path, architecture: Architecture, bytes: &[u8], sha256: &str) -> Result<PathBuf> {
    let entry = cache.join(format!(
        "packages/callback-{}-{}.zip",
        architecture.as_str(),
        &sha256[..16]
    ));
    if stamp::entry_is_sound(&entry, sha256) {
        return Ok(entry);
    }
    write_durably(&entry, bytes)?;
    stamp::write(&entry, sha256)?;
    Ok(entry)
}

/// A `--lambda-zip` must be a zip holding `bootstrap` (only its central directory is read).
fn check_prebuilt(path: &Path) -> Result<()> {
    let file = File::open(path).map_err(|e| UsageError(format!("cannot read --lambda-zip {}: {e}", path.display())))?;
    if !holds_bootstrap(file)
        .map_err(|e| UsageError(format!("--lambda-zip {} is not a zip file: {e}", path.display())))?
    {
        return Err(UsageError(format!(
            "--lambda-zip {} has no `bootstrap` entry: a provided.al2023 package must hold the executable as `bootstrap`",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// Whether a zip lists a `bootstrap` entry; an error when it is not a zip.
fn holds_bootstrap(file: File) -> zip::result::ZipResult<bool> {
    Ok(zip::ZipArchive::new(file)?.index_for_name("bootstrap").is_some())
}

/// The files of a `lambda/` folder that make the function, relative and sorted byte-wise with `/`
/// separators: every file but the `target` folder and hidden files. They are what a build from source
/// copies, and what `packages/manifest.toml` lists with their SHA-256 (`scripts/refresh-packages.sh`
/// lists them the same way).
pub fn source_files(dir: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut folders = vec![String::new()];
    while let Some(folder) = folders.pop() {
        let path = dir.join(&folder);
        for entry in std::fs::read_dir(&path).with_context(|| format!("cannot read {}", path.display()))? {
            let entry = entry.with_context(|| format!("cannot read {}", path.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            if name.starts_with('.') || relative == "target" {
                continue;
            }
            let kind = entry.file_type().with_context(|| format!("cannot read {relative}"))?;
            if kind.is_dir() {
                folders.push(relative);
            } else if kind.is_file() {
                files.push(relative);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Builds the function from a `lambda/` folder with cargo-lambda and returns its zip. The sources are
/// copied into the cache's `lambda-build/src` (only the files that differ, so that cargo sees an
/// unchanged crate as unchanged) and built into `lambda-build/target`, both under an exclusive lock.
fn build_from_source(dir: &Path, architecture: Architecture) -> Result<Vec<u8>> {
    check_lambda_folder(dir)?;
    ensure_cargo_lambda()?;
    let build = canonical_dir(&cache_dir().join("lambda-build"))?;
    let _lock = BuildLock::acquire(&build)?;
    let started = Instant::now();
    let source = copy_sources(dir, &build.join("src"))?;
    let binary = cargo_lambda_build(&source, &canonical_dir(&build.join("target"))?, architecture)?;
    let bytes = zip_bootstrap(&std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?)?;
    eprintln!(
        "built the callback Lambda ({}, {:.1} MB zipped) from {} in {}",
        architecture.as_str(),
        bytes.len() as f64 / 1e6,
        dir.display(),
        format_elapsed(started.elapsed())
    );
    Ok(bytes)
}

/// `--lambda-source` must name the function's crate: the `lambda/` folder of an sfngen checkout.
fn check_lambda_folder(dir: &Path) -> Result<()> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|e| {
        UsageError(format!(
            "--lambda-source {}: cannot read its Cargo.toml ({e}); give the lambda/ folder of an sfngen checkout",
            dir.display()
        ))
    })?;
    if !manifest.lines().any(|line| line.trim() == "name = \"sfngen-callback\"") {
        return Err(UsageError(format!(
            "--lambda-source {}: its Cargo.toml is not the sfngen-callback crate's; give the lambda/ folder of an sfngen checkout",
            dir.display()
        ))
        .into());
    }
    Ok(())
}

/// An exclusive `flock` on the build folder's `lock` file, held until dropped: a second build waits
/// (and says so) instead of moving files in the same cargo target folder at the same time.
struct BuildLock {
    /// The locked file: closing it releases the lock.
    _file: File,
}

impl BuildLock {
    fn acquire(build: &Path) -> Result<Self> {
        let path = build.join("lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns; the lock goes with the file.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            eprintln!(
                "waiting for another build of the callback Lambda to finish (lock: {})",
                path.display()
            );
            // SAFETY: as above, blocking this time.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
                return Err(std::io::Error::last_os_error()).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
        Ok(BuildLock { _file: file })
    }
}

/// Makes `into` hold exactly the source files of `dir`, writing only those that differ, and returns it
/// with symbolic links resolved (so that the same sources always build with the same flags).
fn copy_sources(dir: &Path, into: &Path) -> Result<PathBuf> {
    let into = canonical_dir(into)?;
    let wanted = source_files(dir)?;
    for stale in source_files(&into)?.iter().filter(|file| !wanted.contains(file)) {
        std::fs::remove_file(into.join(stale))
            .with_context(|| format!("cannot remove {stale} from {}", into.display()))?;
    }
    for file in &wanted {
        let contents =
            std::fs::read(dir.join(file)).with_context(|| format!("cannot read {}", dir.join(file).display()))?;
        let target = into.join(file);
        if std::fs::read(&target).is_ok_and(|old| old == contents) {
            continue;
        }
        write_durably(&target, &contents)?;
    }
    Ok(into)
}

/// `1m 57s`, `42.0s`.
fn format_elapsed(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    if secs >= 60 {
        format!("{}m {:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", elapsed.as_secs_f64())
    }
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
        "cargo-lambda is needed to build the callback Lambda from source and was not found.\n  \
         Install it: pip install cargo-lambda=={CARGO_LAMBDA_VERSION} (it brings zig for cross-compiling), \
         or run scripts/setup-tools.sh lambda in the sfngen repository;\n  \
         or leave out --lambda-source: sfngen ships the package built from this release's lambda/."
    ))
    .into())
}

/// Builds the function in `source` into `target` and returns the path of its `bootstrap` executable. On a
/// terminal cargo's own progress is shown; otherwise (CI, a log) its output is kept and only shown when
/// the build fails. It runs in `source`, so that rustup takes the toolchain its `rust-toolchain.toml` pins.
fn cargo_lambda_build(source: &Path, target: &Path, architecture: Architecture) -> Result<PathBuf> {
    let arch_flag = match architecture {
        Architecture::Arm64 => "--arm64",
        Architecture::X86_64 => "--x86-64",
    };
    eprintln!(
        "building the callback Lambda for {} with cargo-lambda (from cold, some minutes on 2 cores)",
        architecture.as_str()
    );
    let mut command = Command::new("cargo");
    command
        .args(["lambda", "build", "--release", "--locked", arch_flag])
        .current_dir(source)
        .env("CARGO_TARGET_DIR", target)
        .env("RUSTFLAGS", remapped_paths(source, target))
        // Cargo takes these before RUSTFLAGS: the remapping would be lost.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .stdin(Stdio::null());
    if std::io::stderr().is_terminal() {
        // cargo draws its progress bar on the terminal it inherits; its stdout goes there too.
        let terminal = std::io::stderr().as_fd().try_clone_to_owned().context("stderr")?;
        let status = command
            .stdout(Stdio::from(terminal))
            .status()
            .context("cannot run cargo lambda build")?;
        if !status.success() {
            anyhow::bail!("cargo lambda build failed ({status}); its messages are above");
        }
    } else {
        let output = command.output().context("cannot run cargo lambda build")?;
        if !output.status.success() {
            anyhow::bail!("cargo lambda build failed:\n{}", last_lines(&output.stderr, 30));
        }
    }
    let binary = target.join("lambda/bootstrap/bootstrap");
    if !binary.exists() {
        anyhow::bail!("cargo lambda build succeeded but {} is missing", binary.display());
    }
    Ok(binary)
}

/// The rustc flags that take the folders of this build out of the binary (panic locations name source
/// files): the sources, cargo's home (the dependencies' sources) and the target folder (generated code).
fn remapped_paths(source: &Path, target: &Path) -> String {
    let cargo_home =
        std::env::var("CARGO_HOME").unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").unwrap_or_default()));
    format!(
        "--remap-path-prefix={}=/sfngen-callback --remap-path-prefix={cargo_home}=/cargo --remap-path-prefix={}=/target",
        source.display(),
        target.display()
    )
}

/// Creates `dir` if needed and returns its canonical path.
fn canonical_dir(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    dir.canonicalize()
        .with_context(|| format!("cannot resolve {}", dir.display()))
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

/// Writes `bytes` to `path` whole or not at all, and durably: a temporary file, synced, renamed into
/// place, and the folder synced. The file is readable by everyone (mode 0644), like the module's
/// other files, since a module may hard-link it.
fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(parent).with_context(|| format!("cannot write in {}", parent.display()))?;
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)))
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    File::open(parent)
        .and_then(|dir| dir.sync_all())
        .with_context(|| format!("cannot sync {}", parent.display()))
}

/// The stamp beside each cache entry: its length, modification time and SHA-256 when it was written or
/// last verified. An entry whose length and time still match is used as it is (no hashing); one that
/// changed (something wrote into a module's `callback.zip`, which shares the entry's inode) is hashed,
/// and written again when its bytes are not the shipped ones.
mod stamp {
    use std::fs::{self, File};
    use std::io::Read as _;
    use std::os::unix::fs::MetadataExt as _;
    use std::path::{Path, PathBuf};

    use anyhow::Result;
    use sha2::{Digest, Sha256};

    /// What a stamp records.
    #[derive(Debug, PartialEq, Eq)]
    struct Stamp {
        len: u64,
        mtime_ns: i128,
        sha256: String,
    }

    fn stamp_path(entry: &Path) -> PathBuf {
        let mut name = entry.as_os_str().to_owned();
        name.push(".stamp");
        PathBuf::from(name)
    }

    fn mtime_ns(meta: &fs::Metadata) -> i128 {
        i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
    }

    fn read(entry: &Path) -> Option<Stamp> {
        let text = fs::read_to_string(stamp_path(entry)).ok()?;
        let mut fields = text.split_whitespace();
        if fields.next()? != "sfngen-package-stamp-v1" {
            return None;
        }
        Some(Stamp {
            len: fields.next()?.parse().ok()?,
            mtime_ns: fields.next()?.parse().ok()?,
            sha256: fields.next()?.to_string(),
        })
    }

    /// The SHA-256 of bytes, in hex.
    pub fn hex_sha256(bytes: &[u8]) -> String {
        Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Records that `entry`, as it is on disk now, holds the bytes whose hash is `sha256`.
    pub fn write(entry: &Path, sha256: &str) -> Result<()> {
        let meta = fs::metadata(entry)?;
        let text = format!("sfngen-package-stamp-v1 {} {} {sha256}\n", meta.len(), mtime_ns(&meta));
        super::write_durably(&stamp_path(entry), text.as_bytes())
    }

    /// Whether `entry` holds the bytes whose hash is `sha256`: trusted from its stamp while its length and
    /// time are the stamped ones, otherwise hashed (and stamped again when the bytes are right).
    pub fn entry_is_sound(entry: &Path, sha256: &str) -> bool {
        let Ok(meta) = fs::metadata(entry) else {
            return false;
        };
        if let Some(stamp) = read(entry)
            && stamp.len == meta.len()
            && stamp.mtime_ns == mtime_ns(&meta)
            && stamp.sha256 == sha256
        {
            return true;
        }
        let mut bytes = Vec::new();
        if File::open(entry).and_then(|mut f| f.read_to_end(&mut bytes)).is_err() || hex_sha256(&bytes) != sha256 {
            return false;
        }
        // Touched, or not stamped yet: record it, readable like the module's other files.
        use std::os::unix::fs::PermissionsExt as _;
        let _ = fs::set_permissions(entry, fs::Permissions::from_mode(0o644));
        let _ = write(entry, sha256);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shipped_package_is_named_by_the_hash_of_its_bytes_and_holds_bootstrap() {
        for architecture in [Architecture::Arm64, Architecture::X86_64] {
            let package = shipped(architecture);
            assert_eq!(stamp::hex_sha256(package.bytes), package.sha256);
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(package.bytes)).unwrap();
            assert_eq!(archive.len(), 1);
            assert!(archive.by_name("bootstrap").is_ok());
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
    fn build_times_read_as_minutes_and_seconds() {
        assert_eq!(format_elapsed(Duration::from_millis(1_340)), "1.3s");
        assert_eq!(format_elapsed(Duration::from_secs(117)), "1m 57s");
        assert_eq!(format_elapsed(Duration::from_secs(605)), "10m 05s");
    }

    #[test]
    fn build_errors_keep_their_last_lines() {
        assert_eq!(last_lines(b"a\nb\nc\n", 2), "b\nc");
        assert_eq!(last_lines(b"only", 30), "only");
    }

    /// Moves a file's modification time, as an in-place write or a `touch` would.
    fn set_mtime(path: &Path, seconds_since_epoch: u64) {
        let time = std::time::UNIX_EPOCH + Duration::from_secs(seconds_since_epoch);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_modified(time)
            .unwrap();
    }

    #[test]
    fn an_entry_is_trusted_by_its_stamp_rehashed_when_touched_and_refused_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_bootstrap(b"the binary").unwrap();
        let sha = stamp::hex_sha256(&bytes);
        let entry = dir.path().join("packages/callback-arm64-0123456789abcdef.zip");
        write_durably(&entry, &bytes).unwrap();
        assert!(
            !dir.path()
                .join("packages/callback-arm64-0123456789abcdef.zip.stamp")
                .exists()
        );
        // Not stamped yet: hashed once, then stamped.
        assert!(stamp::entry_is_sound(&entry, &sha));
        let stamp = std::fs::read_to_string(entry.with_extension("zip.stamp")).unwrap();
        assert!(
            stamp.starts_with("sfngen-package-stamp-v1 ") && stamp.trim_end().ends_with(&sha),
            "{stamp}"
        );
        assert!(
            !stamp::entry_is_sound(&entry, &"0".repeat(64)),
            "another package's hash"
        );
        // Touched: same bytes, new time. Hashed again, found intact, stamped anew.
        set_mtime(&entry, 1_000_000_000);
        assert!(stamp::entry_is_sound(&entry, &sha));
        // Written in place (as `cp other.zip module/callback.zip` would through a link): refused.
        let mut other = zip_bootstrap(b"the other").unwrap();
        other.resize(bytes.len(), 0);
        std::fs::write(&entry, &other).unwrap();
        set_mtime(&entry, 1_000_000_001);
        assert!(!stamp::entry_is_sound(&entry, &sha));
    }

    #[test]
    fn a_shipped_package_changed_in_its_cache_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_bootstrap(b"pretend package").unwrap();
        let sha = stamp::hex_sha256(&bytes);
        let entry = cached_entry(dir.path(), Architecture::Arm64, &bytes, &sha).unwrap();
        assert_eq!(
            entry,
            dir.path().join(format!("packages/callback-arm64-{}.zip", &sha[..16]))
        );
        assert_eq!(std::fs::read(&entry).unwrap(), bytes);
        std::fs::write(&entry, b"changed in place").unwrap();
        let again = cached_entry(dir.path(), Architecture::Arm64, &bytes, &sha).unwrap();
        assert_eq!(again, entry);
        assert_eq!(std::fs::read(&again).unwrap(), bytes);
    }

    #[test]
    fn the_source_files_are_every_file_but_the_target_folder_and_hidden_ones() {
        let dir = tempfile::tempdir().unwrap();
        for file in [
            "Cargo.toml",
            "src/main.rs",
            "src/a/b.rs",
            ".gitignore",
            "src/.x.swp",
            "target/t",
            "src/target",
        ] {
            write_durably(&dir.path().join(file), b"x").unwrap();
        }
        assert_eq!(
            source_files(dir.path()).unwrap(),
            ["Cargo.toml", "src/a/b.rs", "src/main.rs", "src/target"]
        );
    }

    #[test]
    fn a_copy_of_the_sources_loses_files_that_are_gone_and_keeps_unchanged_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (from, into) = (dir.path().join("from"), dir.path().join("into"));
        for file in ["Cargo.toml", "src/main.rs", "src/old.rs"] {
            write_durably(&from.join(file), file.as_bytes()).unwrap();
        }
        copy_sources(&from, &into).unwrap();
        set_mtime(&into.join("src/main.rs"), 1_000_000_000);
        std::fs::remove_file(from.join("src/old.rs")).unwrap();
        write_durably(&from.join("Cargo.toml"), b"changed").unwrap();
        copy_sources(&from, &into).unwrap();
        assert_eq!(source_files(&into).unwrap(), ["Cargo.toml", "src/main.rs"]);
        assert_eq!(std::fs::read(into.join("Cargo.toml")).unwrap(), b"changed");
        let unchanged = std::fs::metadata(into.join("src/main.rs")).unwrap().modified().unwrap();
        assert_eq!(unchanged, std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000));
    }

    #[test]
    fn lambda_source_must_be_the_callback_crate() {
        let dir = tempfile::tempdir().unwrap();
        let err = check_lambda_folder(dir.path()).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some(), "{err}");
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\nname = \"other\"\n").unwrap();
        let err = check_lambda_folder(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not the sfngen-callback crate"), "{err}");
        let repository_lambda = Path::new(env!("CARGO_MANIFEST_DIR")).join("lambda");
        check_lambda_folder(&repository_lambda).unwrap();
    }

    #[test]
    fn the_remapping_names_every_folder_of_the_build() {
        let flags = remapped_paths(Path::new("/b/src"), Path::new("/b/target"));
        assert!(
            flags.starts_with("--remap-path-prefix=/b/src=/sfngen-callback "),
            "{flags}"
        );
        assert!(flags.contains("=/cargo "), "{flags}");
        assert!(flags.ends_with(" --remap-path-prefix=/b/target=/target"), "{flags}");
    }

    #[test]
    fn a_prebuilt_package_must_hold_bootstrap() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.zip");
        std::fs::write(&good, zip_bootstrap(b"x").unwrap()).unwrap();
        let ModuleFile::Stored(stored) = package(Architecture::Arm64, PackageSource::Zip(&good)).unwrap() else {
            panic!("a package is a stored file");
        };
        assert_eq!(
            (stored.path.as_str(), stored.source, stored.immutable),
            (LAMBDA_ZIP_FILE, good, false)
        );
        let not_zip = dir.path().join("bad.zip");
        std::fs::write(&not_zip, b"nope").unwrap();
        let err = package(Architecture::Arm64, PackageSource::Zip(&not_zip)).unwrap_err();
        assert!(err.to_string().contains("is not a zip file"), "{err}");
        let missing = package(Architecture::Arm64, PackageSource::Zip(&dir.path().join("none.zip"))).unwrap_err();
        assert!(missing.downcast_ref::<UsageError>().is_some());
    }
}
