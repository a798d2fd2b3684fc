//! The callback Lambda's package: the `lambda/` crate, built with cargo-lambda and zipped reproducibly.
//!
//! The crate's sources are compiled into the sfngen binary, so an installed `sfngen` can build the
//! function anywhere. Each build is cached by source hash and architecture (in
//! `$SFNGEN_CACHE`, else `$XDG_CACHE_HOME/sfngen`, else `~/.cache/sfngen`), so a render after the first
//! takes milliseconds. The zip holds one entry, `bootstrap`, with a fixed timestamp and mode, so the
//! same binary always gives the same bytes.

use std::fs::File;
use std::io::{IsTerminal as _, Write as _};
use std::os::fd::AsFd as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::emit::LAMBDA_ZIP_FILE;
use crate::error::UsageError;
use crate::generated::{ModuleFile, StoredFile};
use crate::model::Architecture;
use anyhow::{Context, Result};

/// The `lambda/` crate, as compiled into sfngen: `(path, contents)`, in the order `build.rs` hashes them
/// (`Cargo.toml`, `Cargo.lock`, `src/main.rs`, then the other sources by name).
pub const SOURCES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../lambda/Cargo.toml")),
    ("Cargo.lock", include_str!("../lambda/Cargo.lock")),
    ("src/main.rs", include_str!("../lambda/src/main.rs")),
    ("src/answer.rs", include_str!("../lambda/src/answer.rs")),
    ("src/client.rs", include_str!("../lambda/src/client.rs")),
    ("src/dead_letter.rs", include_str!("../lambda/src/dead_letter.rs")),
    ("src/json.rs", include_str!("../lambda/src/json.rs")),
    ("src/log.rs", include_str!("../lambda/src/log.rs")),
    ("src/request.rs", include_str!("../lambda/src/request.rs")),
];

/// The cargo-lambda release the project is tested with.
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";

/// Hash of the embedded sources: the cache key, with the architecture. The first 8 bytes, in hex, of
/// the SHA-256 of each path and its contents, each followed by a 0 byte; computed by `build.rs`.
pub fn source_hash() -> String {
    env!("SFNGEN_LAMBDA_SOURCE_HASH").to_string()
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

/// The module's `callback.zip`: the given package, the cached build, or a fresh build. Its bytes stay
/// on disk: the output copies (or, from the cache, links) the file without reading it.
pub fn package(architecture: Architecture, prebuilt: Option<&Path>) -> Result<ModuleFile> {
    let (source, immutable) = match prebuilt {
        Some(path) => {
            check_prebuilt(path)?;
            (path.to_path_buf(), false)
        }
        None => (cached_or_built(architecture)?, true),
    };
    Ok(ModuleFile::Stored(StoredFile {
        path: LAMBDA_ZIP_FILE.to_string(),
        source,
        immutable,
    }))
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

/// The cached package for this source and architecture, built first when missing or changed.
fn cached_or_built(architecture: Architecture) -> Result<PathBuf> {
    let cache = cache_dir();
    let cached = cache.join(format!("lambda/{}-{}.zip", source_hash(), architecture.as_str()));
    if stamp::cached_package_is_sound(&cached) {
        return Ok(cached);
    }
    ensure_cargo_lambda()?;
    let started = Instant::now();
    let binary = build(&cache, architecture)?;
    let bytes = zip_bootstrap(&std::fs::read(&binary).with_context(|| format!("cannot read {}", binary.display()))?)?;
    write_durably(&cached, &bytes)?;
    stamp::write(&cached, &bytes)?;
    eprintln!(
        "built the callback Lambda ({}, {:.1} MB zipped) in {}; cached in {}",
        architecture.as_str(),
        bytes.len() as f64 / 1e6,
        format_elapsed(started.elapsed()),
        cached.display()
    );
    Ok(cached)
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
        "cargo-lambda is needed to build the callback Lambda and was not found.\n  \
         Install it: pip install cargo-lambda=={CARGO_LAMBDA_VERSION} (it brings zig for cross-compiling), \
         or run scripts/setup-tools.sh in the sfngen repository;\n  \
         or pass --lambda-zip PATH with a package you built (a zip holding `bootstrap`)."
    ))
    .into())
}

/// Builds the function and returns the path of its `bootstrap` executable. On a terminal cargo's own
/// progress is shown; otherwise (CI, a log) its output is kept and only shown when the build fails.
fn build(cache: &Path, architecture: Architecture) -> Result<PathBuf> {
    let source = write_sources(cache)?;
    let target = canonical_dir(&cache.join("lambda-target"))?;
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
        "building the callback Lambda for {} with cargo-lambda (once per version of its sources; about 2 minutes from cold on 2 cores)",
        architecture.as_str()
    );
    let mut command = Command::new("cargo");
    command
        .args(["lambda", "build", "--release", "--locked", arch_flag, "--manifest-path"])
        .arg(source.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", rustflags)
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

/// Writes the embedded sources into the cache (only the files that differ, so that cargo sees an
/// unchanged crate as unchanged) and returns their folder, with symbolic links resolved so that the
/// same sources always build with the same flags.
fn write_sources(cache: &Path) -> Result<PathBuf> {
    let source = canonical_dir(&cache.join(format!("lambda-src/{}", source_hash())))?;
    for (path, contents) in SOURCES {
        let target = source.join(path);
        if std::fs::read(&target).is_ok_and(|old| old == contents.as_bytes()) {
            continue;
        }
        write_durably(&target, contents.as_bytes())?;
    }
    Ok(source)
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

/// The stamp beside each cached package: its length, modification time and SHA-256 when it was
/// written or last verified. A package whose length and time still match is used as it is (no
/// re-hashing); one that changed is hashed again, and rebuilt when its bytes are not the stamped ones.
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

    fn stamp_path(package: &Path) -> PathBuf {
        let mut name = package.as_os_str().to_owned();
        name.push(".stamp");
        PathBuf::from(name)
    }

    fn mtime_ns(meta: &fs::Metadata) -> i128 {
        i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec())
    }

    fn read(package: &Path) -> Option<Stamp> {
        let text = fs::read_to_string(stamp_path(package)).ok()?;
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

    fn hex_sha256(bytes: &[u8]) -> String {
        Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
    }

    fn save(package: &Path, stamp: &Stamp) -> Result<()> {
        let text = format!(
            "sfngen-package-stamp-v1 {} {} {}\n",
            stamp.len, stamp.mtime_ns, stamp.sha256
        );
        super::write_durably(&stamp_path(package), text.as_bytes())
    }

    /// Records `bytes`, just written to `package`.
    pub fn write(package: &Path, bytes: &[u8]) -> Result<()> {
        let meta = fs::metadata(package)?;
        save(
            package,
            &Stamp {
                len: meta.len(),
                mtime_ns: mtime_ns(&meta),
                sha256: hex_sha256(bytes),
            },
        )
    }

    /// Whether `package` can be used as it is. A package changed since its stamp is removed (and so
    /// rebuilt); one cached by an sfngen without stamps is checked to be a zip holding `bootstrap`
    /// and stamped.
    pub fn cached_package_is_sound(package: &Path) -> bool {
        let Ok(meta) = fs::metadata(package) else {
            return false;
        };
        let stamp = read(package);
        if let Some(stamp) = &stamp
            && stamp.len == meta.len()
            && stamp.mtime_ns == mtime_ns(&meta)
        {
            return true;
        }
        let mut bytes = Vec::new();
        if File::open(package).and_then(|mut f| f.read_to_end(&mut bytes)).is_err() {
            return false;
        }
        let sound = match &stamp {
            Some(stamp) => stamp.sha256 == hex_sha256(&bytes),
            None => zip::ZipArchive::new(std::io::Cursor::new(&bytes))
                .is_ok_and(|archive| archive.index_for_name("bootstrap").is_some()),
        };
        if !sound {
            let _ = fs::remove_file(package);
            return false;
        }
        // Touched, or stamped by nobody yet: record it, readable like the module's other files.
        use std::os::unix::fs::PermissionsExt as _;
        let _ = fs::set_permissions(package, fs::Permissions::from_mode(0o644));
        let _ = write(package, &bytes);
        true
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::*;

    #[test]
    fn the_source_hash_from_build_rs_covers_exactly_the_embedded_sources() {
        let mut hasher = Sha256::new();
        for (path, contents) in SOURCES {
            hasher.update(path.as_bytes());
            hasher.update([0]);
            hasher.update(contents.as_bytes());
            hasher.update([0]);
        }
        let expected: String = hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        assert_eq!(source_hash(), expected);
    }

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

    /// A cache entry as an older sfngen left it: the zip alone, no stamp.
    fn unstamped_entry(dir: &Path, bytes: &[u8]) -> PathBuf {
        let package = dir.join("lambda/0123456789abcdef-arm64.zip");
        std::fs::create_dir_all(package.parent().unwrap()).unwrap();
        std::fs::write(&package, bytes).unwrap();
        package
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
    fn an_unstamped_package_is_checked_once_then_stamped() {
        let dir = tempfile::tempdir().unwrap();
        let package = unstamped_entry(dir.path(), &zip_bootstrap(b"x").unwrap());
        assert!(stamp::cached_package_is_sound(&package));
        let stamp = std::fs::read_to_string(package.with_extension("zip.stamp")).unwrap();
        assert!(stamp.starts_with("sfngen-package-stamp-v1 "), "{stamp}");
        assert!(stamp::cached_package_is_sound(&package));
        let broken = unstamped_entry(dir.path(), b"not a zip");
        std::fs::remove_file(broken.with_extension("zip.stamp")).unwrap();
        assert!(!stamp::cached_package_is_sound(&broken));
        assert!(!broken.exists(), "a broken entry is removed, so that it is rebuilt");
    }

    #[test]
    fn a_package_changed_in_place_is_not_used_and_a_touched_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = zip_bootstrap(b"the binary").unwrap();
        let package = unstamped_entry(dir.path(), &bytes);
        stamp::write(&package, &bytes).unwrap();
        // Touched: same bytes, new time. Hashed again, found intact, stamped anew.
        set_mtime(&package, 1_000_000_000);
        assert!(stamp::cached_package_is_sound(&package));
        assert_eq!(std::fs::read(&package).unwrap(), bytes);
        // Written in place (as `cp other.zip module/callback.zip` would through a link): removed.
        let mut other = zip_bootstrap(b"the other").unwrap();
        other.resize(bytes.len(), 0);
        std::fs::write(&package, &other).unwrap();
        set_mtime(&package, 1_000_000_001);
        assert!(!stamp::cached_package_is_sound(&package));
        assert!(!package.exists());
    }

    #[test]
    fn a_prebuilt_package_must_hold_bootstrap() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.zip");
        std::fs::write(&good, zip_bootstrap(b"x").unwrap()).unwrap();
        let ModuleFile::Stored(stored) = package(Architecture::Arm64, Some(&good)).unwrap() else {
            panic!("a package is a stored file");
        };
        assert_eq!(
            (stored.path.as_str(), stored.source, stored.immutable),
            (LAMBDA_ZIP_FILE, good, false)
        );
        let not_zip = dir.path().join("bad.zip");
        std::fs::write(&not_zip, b"nope").unwrap();
        let err = package(Architecture::Arm64, Some(&not_zip)).unwrap_err();
        assert!(err.to_string().contains("is not a zip file"), "{err}");
        let missing = package(Architecture::Arm64, Some(&dir.path().join("none.zip"))).unwrap_err();
        assert!(missing.downcast_ref::<UsageError>().is_some());
    }
}
