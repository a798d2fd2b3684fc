//! The output folder as sfngen may touch it: only plain paths inside it (no `..`, no symbolic link on the
//! way or at the end), one render at a time (an advisory lock on the folder), and the staging folders
//! a killed render left behind.

use std::fs::{self, File, Metadata};
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::error::UsageError;

/// The name every staging folder starts with (inside the output folder, or beside a new one).
pub const STAGING_PREFIX: &str = ".sfngen-staging-";

/// The staging folder of a render into an existing folder, inside it. One name: only the render that
/// holds the folder's lock stages there, so a render finds a killed one's leftovers with one look.
pub const UPDATE_STAGING: &str = ".sfngen-staging-update";

/// What is at a path inside the output folder.
#[derive(Debug)]
pub enum Plain {
    /// Nothing (or a parent folder that does not exist yet).
    Absent,
    /// A regular file, opened for reading, reached through real folders only.
    File(File, Metadata),
    /// Something sfngen never writes through nor removes, and why.
    Not(String),
}

/// Why `path` is not a plain relative path (`a.tf`, `sub/a.tf`), or `None` when it is.
pub fn lexical_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("an empty path");
    }
    if path.starts_with('/') {
        return Some("an absolute path");
    }
    if path.contains(['\0', '\n', '\r', '\\']) {
        return Some("a path with a control character or a backslash");
    }
    if path
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Some("a path with an empty, `.` or `..` part");
    }
    None
}

/// Opens `path` inside `dir` when it is a plain file: a plain relative path whose every parent is a real
/// folder (not a symbolic link) and which is itself a regular file (a symbolic link is never followed).
pub fn open_plain(dir: &Path, path: &str) -> std::io::Result<Plain> {
    if let Some(problem) = lexical_problem(path) {
        return Ok(Plain::Not(problem.to_string()));
    }
    // Parents, outermost first (module files sit at the top today: usually there is none).
    let mut parent = dir.to_path_buf();
    let parts: Vec<&str> = path.split('/').collect();
    for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
        parent.push(part);
        match fs::symlink_metadata(&parent) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Ok(Plain::Not(format!(
                    "its folder {} is a symbolic link",
                    parts[..=i].join("/")
                )));
            }
            Ok(meta) if !meta.is_dir() => {
                return Ok(Plain::Not(format!("{} is not a folder", parts[..=i].join("/"))));
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Plain::Absent),
            Err(e) => return Err(e),
        }
    }
    // O_NOFOLLOW: a symbolic link fails to open (ELOOP) instead of opening what it points at;
    // O_NONBLOCK: a FIFO does not wait for a writer.
    let opened = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(dir.join(path));
    let file = match opened {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Plain::Absent),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(Plain::Not("a symbolic link".into())),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Ok(Plain::Not("a folder".into()));
    }
    if !meta.is_file() {
        return Ok(Plain::Not("not a regular file".into()));
    }
    Ok(Plain::File(file, meta))
}

/// Removes `path` inside `dir` if it is still a plain file (checked again right before).
pub fn remove_plain(dir: &Path, path: &str) -> Result<bool> {
    let target = dir.join(path);
    match open_plain(dir, path).with_context(|| format!("cannot read {}", target.display()))? {
        Plain::File(..) => {}
        Plain::Absent | Plain::Not(_) => return Ok(false),
    }
    match fs::remove_file(&target) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot remove {}", target.display())),
    }
}

/// Whether the lock is shared (readers: `--check`) or exclusive (a render).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many at once, none while a render holds it.
    Shared,
    /// One render.
    Exclusive,
}

/// An advisory lock (`flock`) on a folder itself, held until dropped. Every sfngen that writes into a
/// folder, or stages a new folder inside it, holds its lock; so a staging folder found while holding the
/// lock belongs to a render that was killed.
#[derive(Debug)]
pub struct FolderLock {
    _handle: Option<File>,
}

/// How long a render waits for another render into the same folder: `SFNGEN_LOCK_WAIT` seconds (a
/// decimal number up to a day), or 60.
fn lock_wait() -> Duration {
    std::env::var("SFNGEN_LOCK_WAIT")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| (0.0..=86_400.0).contains(s))
        .map_or(Duration::from_secs(60), Duration::from_secs_f64)
}

/// Takes `dir`'s lock, waiting for another sfngen that holds it (at most [`lock_wait`], then a
/// [`UsageError`]). A file system without `flock` gets no lock.
pub fn lock(dir: &Path, mode: LockMode) -> Result<FolderLock> {
    let handle = File::open(dir).with_context(|| format!("cannot open {}", dir.display()))?;
    let started = Instant::now();
    let deadline = lock_wait();
    let mut pause = Duration::from_millis(1);
    let mut said_so = false;
    loop {
        let attempt = match mode {
            LockMode::Shared => handle.try_lock_shared(),
            LockMode::Exclusive => handle.try_lock(),
        };
        match attempt {
            Ok(()) => return Ok(FolderLock { _handle: Some(handle) }),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) if lock_unsupported(&e) => return Ok(FolderLock { _handle: None }),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", dir.display()));
            }
        }
        let waited = started.elapsed();
        if waited >= deadline {
            return Err(UsageError(format!(
                "another sfngen render has been writing into {} for {:.1}s; nothing was written. Run again when \
                 it is done (SFNGEN_LOCK_WAIT sets how many seconds to wait)",
                dir.display(),
                waited.as_secs_f64()
            ))
            .into());
        }
        if !said_so && waited >= Duration::from_secs(1) {
            eprintln!("waiting for another sfngen render into {} to finish", dir.display());
            said_so = true;
        }
        std::thread::sleep(pause.min(deadline.saturating_sub(waited)));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// `flock` is not supported there (some network and FUSE file systems).
fn lock_unsupported(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOLCK | libc::EOPNOTSUPP | libc::ENOSYS))
        || e.kind() == ErrorKind::Unsupported
}

/// Removes what a killed render into `dir` (whose lock the caller holds) staged there, if anything:
/// one look at [`UPDATE_STAGING`], cheap enough for a render that writes nothing.
pub fn remove_abandoned_update_staging(dir: &Path) {
    let staging = dir.join(UPDATE_STAGING);
    if fs::symlink_metadata(&staging).is_ok() {
        // remove_dir_all removes a symbolic link itself, never what it points at.
        let _ = fs::remove_dir_all(&staging);
    }
}

/// Removes every staging folder in `dir` (whose lock the caller holds): a live render's staging exists
/// only while it holds that lock, so every one found is a killed render's.
pub fn remove_abandoned_staging(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        if entry
            .file_name()
            .as_encoded_bytes()
            .starts_with(STAGING_PREFIX.as_bytes())
        {
            // remove_dir_all removes a symbolic link itself, never what it points at.
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn only_plain_relative_paths_pass() {
        for bad in [
            "",
            "/etc/passwd",
            "../x.tf",
            "a/../b.tf",
            "./a.tf",
            "a//b.tf",
            "a/",
            "a\\b",
            "a\nb",
        ] {
            assert!(lexical_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["main.tf", "sub/main.tf", ".sfngen-manifest", "a..b.tf"] {
            assert_eq!(lexical_problem(good), None, "{good:?}");
        }
    }

    #[test]
    fn links_folders_and_linked_parents_are_not_plain() {
        let root = tempfile::tempdir().unwrap();
        let (dir, outside) = (root.path().join("out"), root.path().join("outside"));
        fs::create_dir_all(dir.join("real")).unwrap();
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("x.tf"), "outside").unwrap();
        fs::write(dir.join("real/a.tf"), "a").unwrap();
        symlink(&outside, dir.join("linked")).unwrap();
        symlink(outside.join("x.tf"), dir.join("link.tf")).unwrap();
        fs::write(dir.join("file"), "f").unwrap();
        let not = |path: &str| match open_plain(&dir, path).unwrap() {
            Plain::Not(why) => why,
            other => panic!("{path}: {other:?}"),
        };
        assert_eq!(not("linked/x.tf"), "its folder linked is a symbolic link");
        assert_eq!(not("link.tf"), "a symbolic link");
        assert_eq!(not("real"), "a folder");
        assert_eq!(not("file/x.tf"), "file is not a folder");
        assert!(matches!(open_plain(&dir, "real/a.tf").unwrap(), Plain::File(..)));
        assert!(matches!(open_plain(&dir, "nothing/a.tf").unwrap(), Plain::Absent));
        assert!(!remove_plain(&dir, "linked/x.tf").unwrap());
        assert!(!remove_plain(&dir, "link.tf").unwrap());
        assert_eq!(fs::read_to_string(outside.join("x.tf")).unwrap(), "outside");
        assert!(fs::symlink_metadata(dir.join("link.tf")).is_ok());
        assert!(remove_plain(&dir, "real/a.tf").unwrap());
    }

    #[test]
    fn a_held_lock_makes_the_next_wait_and_a_shared_one_admits_readers() {
        let root = tempfile::tempdir().unwrap();
        let held = lock(root.path(), LockMode::Shared).unwrap();
        let reader = lock(root.path(), LockMode::Shared).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let dir = root.path().to_path_buf();
        let writer = std::thread::spawn(move || {
            let lock = lock(&dir, LockMode::Exclusive).unwrap();
            tx.send(()).unwrap();
            drop(lock);
        });
        // The writer waits while a reader holds the lock (not a timing assertion: it cannot have it).
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        drop((held, reader));
        rx.recv_timeout(Duration::from_secs(30)).unwrap();
        writer.join().unwrap();
    }
}
