//! Output: writes the planned files into the user's folder, atomically and durably, or compares them with
//! it for `--check`.
//!
//! The folder is the user's. sfngen keeps a manifest (`.sfngen-manifest`) of the files it wrote there,
//! with the SHA-256 of the bytes it wrote, and touches nothing else: a file is sfngen's when the manifest
//! records its bytes, or, without such a record, when its first line is sfngen's header (see
//! [`survey`]). A file sfngen wrote whose bytes changed since was edited by hand: render stops and names
//! it (`--force` overwrites). A file sfngen did not write is never overwritten. Paths are only ever
//! plain paths inside the folder: a manifest entry with `..`, an absolute path, a symbolic link or a
//! symbolically linked folder on the way is ignored and reported, never followed or removed.
//!
//! One render at a time: a render holds an advisory lock on the folder (on its parent while it creates
//! the folder); another waits for it. A staging folder exists only while its render holds that lock, so
//! the next render removes whatever a killed one left.
//!
//! Atomicity: a new output folder is staged whole beside its final place and renamed into it, so it
//! appears complete or not at all. Into an existing folder each changed file is staged, then renamed
//! over its old version (a file is always either the old or the new one, never half-written). Meanwhile
//! the manifest lists both versions of each file, and the files to remove, so a render cut short leaves
//! a folder whose every file the next render knows as sfngen's; the final manifest lands last. Files
//! already up to date are left alone, so re-rendering an unchanged module writes nothing and changes no
//! modification time.
//!
//! Durability: the staged files are made durable with one `syncfs` before any rename (on Linux;
//! elsewhere one `fsync` per file), then the folder that received the renames is synced, so a render
//! that returned survives a crash. The Lambda package is never read into memory: it is hard-linked
//! from sfngen's cache (whose entries are replaced by rename, never changed in place), or reflinked
//! or copied by the kernel (`copy_file_range`).

mod folder;
mod manifest;
mod survey;

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use crate::error::UsageError;
use crate::generated::{Digest, GeneratedFile, ModuleFile, StoredFile, is_bookkeeping};
pub use folder::STAGING_PREFIX;
pub use manifest::MANIFEST;
use manifest::Manifest;
use survey::{Stale, State};

/// What a write did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files created or changed.
    pub written: Vec<String>,
    /// Of those, files edited by hand that `--force` overwrote (or removed).
    pub overwritten_edits: Vec<String>,
    /// Files left as they were (already up to date).
    pub unchanged: usize,
    /// Files sfngen wrote before and no longer generates, now removed.
    pub removed: Vec<String>,
    /// Manifest entries that are no plain file inside the folder, with why: left alone.
    pub ignored: Vec<(String, String)>,
    /// Whether the manifest alone was written: every file was up to date, but not as the manifest
    /// recorded it (a file that came to hold the render's bytes some other way, or no manifest).
    pub manifest_only: bool,
    /// Without a manifest: files with sfngen's header that this render does not write. sfngen cannot tell
    /// one it no longer generates from a user's copy, so they are left alone (and named).
    pub unlisted: Vec<String>,
}

/// Why a render wrote nothing: files where it would write that are not sfngen's, or that were edited
/// by hand since sfngen wrote them (without `--force`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The output folder.
    pub dir: PathBuf,
    /// Files sfngen did not write where it would write, with why they are taken for the user's.
    pub not_sfngens: Vec<(String, String)>,
    /// Files sfngen wrote that changed since (including ones it would remove).
    pub edited: Vec<String>,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.not_sfngens.is_empty() {
            let list: Vec<String> = self.not_sfngens.iter().map(|(p, why)| format!("{p} ({why})")).collect();
            parts.push(format!(
                "{} already holds files that sfngen did not write: {}; move them away or render into another folder",
                self.dir.display(),
                list.join(", ")
            ));
        }
        if !self.edited.is_empty() {
            parts.push(format!(
                "{} holds files edited by hand since sfngen wrote them: {}",
                self.dir.display(),
                self.edited.join(", ")
            ));
        }
        write!(f, "{}; nothing was written", parts.join("; "))
    }
}

impl std::error::Error for Refused {}

/// The manifest listing `entries` (path and the SHA-256 of its bytes), as render writes it.
pub fn manifest_for<'a>(entries: impl IntoIterator<Item = (&'a str, Digest)>) -> GeneratedFile {
    let mut manifest = Manifest::default();
    for (path, digest) in entries {
        manifest.add(path, digest);
    }
    GeneratedFile::text(MANIFEST, manifest.text())
}

/// The bytes of one of sfngen's own records in `dir` (a name starting with `.sfngen-`, written by passing a
/// file of that name to [`write`] with the module's): `None` when it is absent or is no plain file (a
/// symbolic link is never followed).
pub fn read_record(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    if !is_bookkeeping(name) {
        return Err(anyhow::anyhow!("{name} is not a name sfngen keeps its records under"));
    }
    match folder::open_plain(dir, name).with_context(|| format!("cannot read {}", dir.join(name).display()))? {
        folder::Plain::File(mut file, _) => {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes)
                .with_context(|| format!("cannot read {}", dir.join(name).display()))?;
            Ok(Some(bytes))
        }
        folder::Plain::Absent | folder::Plain::Not(_) => Ok(None),
    }
}

/// The final manifest of a render: every module file (bookkeeping aside) with its digest.
fn manifest_of(files: &[ModuleFile], digests: &[Digest]) -> GeneratedFile {
    manifest_for(
        files
            .iter()
            .zip(digests)
            .filter(|(file, _)| !is_bookkeeping(file.path()))
            .map(|(file, digest)| (file.path(), *digest)),
    )
}

/// Whether the output folder exists; a [`UsageError`] when `-o` names a file or a link to nothing.
fn output_dir_exists(dir: &Path) -> Result<bool> {
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => Ok(true),
        Ok(_) => Err(UsageError(format!(
            "output path {} is a file, not a folder: pass a folder to -o (it is created if missing)",
            dir.display()
        ))
        .into()),
        Err(_) if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) => Err(UsageError(format!(
            "output path {} is a symbolic link to nothing: pass a folder to -o (it is created if missing)",
            dir.display()
        ))
        .into()),
        Err(_) => Ok(false),
    }
}

fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Writes `files` into `dir`, removing files a previous render wrote and this one does not. Files
/// already up to date are not touched: a render of an unchanged module writes nothing at all. Files
/// that are not sfngen's, or (unless `force`) were edited by hand, make it write nothing ([`Refused`]).
pub fn write(dir: &Path, files: &[ModuleFile], force: bool) -> Result<WriteReport> {
    write_gated(dir, files, force, MANIFEST, |_| Ok(()))
}

/// Like [`write`], but first, holding the folder's lock, hands `gate` the bytes of one of sfngen's records in the
/// folder (`record`, a `.sfngen-` name; `None` when absent or the folder is new): an error from `gate` makes it
/// write nothing, and is returned. The record read is the one the last render left, whatever renders race.
pub fn write_gated(
    dir: &Path,
    files: &[ModuleFile],
    force: bool,
    record: &str,
    mut gate: impl FnMut(Option<Vec<u8>>) -> Result<()>,
) -> Result<WriteReport> {
    loop {
        if output_dir_exists(dir)? {
            let _lock = folder::lock(dir, folder::LockMode::Exclusive)?;
            folder::remove_abandoned_update_staging(dir);
            gate(read_record(dir, record)?)?;
            return write_into_existing(dir, files, force);
        }
        let parent = parent_of(dir);
        fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
        let lock = folder::lock(&parent, folder::LockMode::Exclusive)?;
        // Another render may have created the folder while this one waited.
        if fs::symlink_metadata(dir).is_ok() {
            drop(lock);
            continue;
        }
        folder::remove_abandoned_staging(&parent);
        gate(None)?;
        if let Some(report) = write_new_dir(dir, &parent, files)? {
            return Ok(report);
        }
    }
}

/// Stages the whole module beside `dir`, syncs it once, and renames it into place. `None` when something
/// else created `dir` meanwhile (then it is written like any existing folder).
fn write_new_dir(dir: &Path, parent: &Path, files: &[ModuleFile]) -> Result<Option<WriteReport>> {
    let digests = survey::digests(files)?;
    let manifest = manifest_of(files, &digests);
    // The folder's name says whose staging it is; cut short, so that the name stays within NAME_MAX.
    let name: String = dir
        .file_name()
        .map(|n| n.to_string_lossy().chars().take(64).collect())
        .unwrap_or_default();
    let staging = tempfile::Builder::new()
        .prefix(&format!("{STAGING_PREFIX}{name}-"))
        .tempdir_in(parent)
        .with_context(|| format!("cannot create a staging folder in {}", parent.display()))?;
    for file in files {
        stage(staging.path(), file.path(), file)?;
    }
    stage(staging.path(), MANIFEST, &manifest.into())?;
    let mut staged: Vec<&str> = files.iter().map(ModuleFile::path).collect();
    staged.push(MANIFEST);
    sync_staged(staging.path(), &staged)?;
    let staged = staging.keep();
    if let Err(e) = fs::rename(&staged, dir) {
        let _ = fs::remove_dir_all(&staged);
        if dir.is_dir() {
            return Ok(None);
        }
        return Err(e).with_context(|| format!("cannot move the rendered module into {}", dir.display()));
    }
    sync_dir(parent);
    Ok(Some(WriteReport {
        written: module_paths(files).map(str::to_string).collect(),
        ..WriteReport::default()
    }))
}

/// The paths of the module's files, sfngen's bookkeeping aside.
fn module_paths(files: &[ModuleFile]) -> impl Iterator<Item = &str> {
    files.iter().map(ModuleFile::path).filter(|p| !is_bookkeeping(p))
}

/// The staging name of the manifest that lists both versions of each file while they are replaced.
const MANIFEST_DURING: &str = ".sfngen-manifest-during";

/// Surveys the folder (whose lock the caller holds), refuses what is not sfngen's or was edited by
/// hand, then stages the changed files inside `dir`, syncs them once, and renames each over its old
/// version: the manifest of both versions first, the final manifest last. Nothing changed: nothing
/// written.
fn write_into_existing(dir: &Path, files: &[ModuleFile], force: bool) -> Result<WriteReport> {
    let found = manifest::read(dir)?;
    let survey = survey::survey(dir, files, found.manifest.as_ref())?;
    refuse_what_is_not_sfngens(dir, &survey, force)?;
    let mut report = WriteReport {
        ignored: survey.ignored.clone(),
        ..WriteReport::default()
    };
    if let Some(why) = &found.unusable {
        report.ignored.push((MANIFEST.to_string(), why.clone()));
    }
    if found.manifest.is_none() {
        report.unlisted = survey::unlisted_with_header(dir, files);
    }
    let changed: Vec<usize> = (0..files.len())
        .filter(|&i| survey.files[i].state != State::UpToDate)
        .collect();
    report.unchanged = (0..files.len())
        .filter(|&i| survey.files[i].state == State::UpToDate && !is_bookkeeping(files[i].path()))
        .count();
    let removals: Vec<&(String, Stale, Option<Digest>)> = survey
        .stale
        .iter()
        .filter(|(_, stale, _)| force || *stale == Stale::Sfngens)
        .collect();
    let final_manifest = manifest_of(files, &survey.digests);
    let manifest_changed = found.bytes.as_deref() != Some(final_manifest.contents.as_slice());
    if changed.is_empty() && removals.is_empty() && !manifest_changed {
        return Ok(report);
    }
    // Staging folders of other names (a render of an earlier sfngen, killed): removed before writing.
    folder::remove_abandoned_staging(dir);
    let staging = StagingFolder::create(dir.join(folder::UPDATE_STAGING))?;
    let mut staged: Vec<&str> = Vec::new();
    for &i in &changed {
        stage(staging.path(), files[i].path(), &files[i])?;
        staged.push(files[i].path());
    }
    let during = !already_listed(found.manifest.as_ref(), files, &survey, &changed, &removals);
    // After the manifest of both versions, the final one lands even if the folder had its very bytes.
    let final_lands = manifest_changed || during;
    if final_lands {
        stage(staging.path(), MANIFEST, &final_manifest.into())?;
        staged.push(MANIFEST);
    }
    if during {
        let during = manifest_during(files, &survey, &removals);
        stage(staging.path(), MANIFEST_DURING, &during.into())?;
        staged.push(MANIFEST_DURING);
    }
    sync_staged(staging.path(), &staged)?;
    if during {
        rename_into(staging.path(), MANIFEST_DURING, dir, MANIFEST)?;
    }
    let touched_dirs = replace_files(dir, staging.path(), files, &changed, &survey, &mut report)?;
    remove_stale(dir, &removals, &mut report)?;
    if final_lands {
        rename_into(staging.path(), MANIFEST, dir, MANIFEST)?;
        report.manifest_only = report.written.is_empty() && report.removed.is_empty();
    }
    drop(staging);
    for touched in &touched_dirs {
        sync_dir(touched);
    }
    Ok(report)
}

/// A staging folder of a fixed name, removed when dropped.
struct StagingFolder(PathBuf);

impl StagingFolder {
    fn create(path: PathBuf) -> Result<Self> {
        fs::create_dir(&path).with_context(|| format!("cannot create the staging folder {}", path.display()))?;
        Ok(StagingFolder(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for StagingFolder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Renames each staged file over its old version, noting it in `report`; returns the folders that
/// received a file (to sync).
fn replace_files(
    dir: &Path,
    staging: &Path,
    files: &[ModuleFile],
    changed: &[usize],
    survey: &survey::Survey,
    report: &mut WriteReport,
) -> Result<BTreeSet<PathBuf>> {
    let mut touched_dirs = BTreeSet::from([dir.to_path_buf()]);
    for &i in changed {
        let path = files[i].path();
        if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            let parent = dir.join(parent);
            fs::create_dir_all(&parent).with_context(|| format!("cannot create {}", parent.display()))?;
            touched_dirs.insert(parent);
        }
        rename_into(staging, path, dir, path)?;
        if is_bookkeeping(path) {
            continue;
        }
        report.written.push(path.to_string());
        if survey.files[i].state == State::EditedByHand {
            report.overwritten_edits.push(path.to_string());
        }
    }
    Ok(touched_dirs)
}

/// Removes the files sfngen no longer generates (each checked again to be a plain file right before).
fn remove_stale(dir: &Path, removals: &[&(String, Stale, Option<Digest>)], report: &mut WriteReport) -> Result<()> {
    for (path, stale, _) in removals {
        if folder::remove_plain(dir, path)? {
            report.removed.push(path.clone());
            if *stale == Stale::EditedByHand {
                report.overwritten_edits.push(path.clone());
            }
        }
    }
    Ok(())
}

/// Stops before writing anything when a file where render writes is not sfngen's, or, without
/// `force`, when a file sfngen wrote (or would remove) was edited by hand since.
fn refuse_what_is_not_sfngens(dir: &Path, survey: &survey::Survey, force: bool) -> Result<()> {
    let not_sfngens: Vec<(String, String)> = survey
        .files
        .iter()
        .filter_map(|f| match &f.state {
            State::NotSfngens(why) => Some((f.path.clone(), why.clone())),
            _ => None,
        })
        .collect();
    let edited: Vec<String> = survey
        .files
        .iter()
        .filter(|f| f.state == State::EditedByHand)
        .map(|f| f.path.clone())
        .chain(
            survey
                .stale
                .iter()
                .filter(|(_, stale, _)| *stale == Stale::EditedByHand)
                .map(|(p, _, _)| p.clone()),
        )
        .collect();
    if not_sfngens.is_empty() && (edited.is_empty() || force) {
        return Ok(());
    }
    Err(Refused {
        dir: dir.to_path_buf(),
        not_sfngens,
        edited: if force { Vec::new() } else { edited },
    }
    .into())
}

/// Whether the folder's manifest already lists every version of the files this render replaces or
/// removes, before and after (a file restored, a package linked again): then it needs no manifest of
/// both versions in the meantime.
fn already_listed(
    manifest: Option<&Manifest>,
    files: &[ModuleFile],
    survey: &survey::Survey,
    changed: &[usize],
    removals: &[&(String, Stale, Option<Digest>)],
) -> bool {
    let Some(manifest) = manifest else {
        return changed.iter().all(|&i| is_bookkeeping(files[i].path())) && removals.is_empty();
    };
    let lists = |path: &str, digest: &Option<Digest>| {
        digest.is_none_or(|digest| manifest.digests(path).is_some_and(|d| d.contains(&digest)))
    };
    let replaced = changed.iter().filter(|&&i| !is_bookkeeping(files[i].path())).all(|&i| {
        let path = files[i].path();
        lists(path, &survey.files[i].current) && lists(path, &Some(survey.digests[i]))
    });
    replaced && removals.iter().all(|(path, _, current)| lists(path, current))
}

/// The manifest while files are replaced: each file's bytes before (when sfngen's) and after, and the
/// files about to be removed, so that whatever a killed render leaves is sfngen's to the next one.
fn manifest_during(
    files: &[ModuleFile],
    survey: &survey::Survey,
    removals: &[&(String, Stale, Option<Digest>)],
) -> GeneratedFile {
    let mut entries: Vec<(&str, Digest)> = Vec::new();
    for ((file, surveyed), digest) in files.iter().zip(&survey.files).zip(&survey.digests) {
        if is_bookkeeping(file.path()) {
            continue;
        }
        if let Some(current) = surveyed.current {
            entries.push((file.path(), current));
        }
        entries.push((file.path(), *digest));
    }
    for (path, _, current) in removals {
        if let Some(current) = current {
            entries.push((path.as_str(), *current));
        }
    }
    manifest_for(entries)
}

fn rename_into(staging: &Path, staged: &str, dir: &Path, path: &str) -> Result<()> {
    let target = dir.join(path);
    fs::rename(staging.join(staged), &target).with_context(|| format!("cannot write {}", target.display()))
}

/// Puts `file` at `name` inside `staging`, without syncing it.
fn stage(staging: &Path, name: &str, file: &ModuleFile) -> Result<()> {
    let path = staging.join(name);
    if let Some(parent) = path.parent().filter(|parent| *parent != staging) {
        fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    }
    match file {
        ModuleFile::Generated(file) => File::create(&path)
            .and_then(|mut out| out.write_all(&file.contents))
            .with_context(|| format!("cannot write {}", path.display())),
        ModuleFile::Stored(file) => stage_stored(file, &path),
    }
}

/// A cache entry is hard-linked (no bytes copied); anything else, or a cache on another file system,
/// is cloned (a reflink, on file systems that share blocks) or copied by the kernel.
fn stage_stored(file: &StoredFile, path: &Path) -> Result<()> {
    if file.immutable && fs::hard_link(&file.source, path).is_ok() {
        return Ok(());
    }
    let copy = || -> std::io::Result<()> {
        let mut from = File::open(&file.source)?;
        let mut to = File::create(path)?;
        if !clone_file(&from, &to) {
            // On Linux this is copy_file_range: the bytes never pass through sfngen's memory.
            std::io::copy(&mut from, &mut to)?;
        }
        Ok(())
    };
    copy().with_context(|| format!("cannot copy {} to {}", file.source.display(), path.display()))
}

/// A reflink (`FICLONE`): the copy shares the source's blocks until either is changed.
#[cfg(target_os = "linux")]
fn clone_file(from: &File, to: &File) -> bool {
    use std::os::fd::AsRawFd as _;
    // SAFETY: both descriptors are open for the duration of the call; FICLONE takes the source fd.
    unsafe { libc::ioctl(to.as_raw_fd(), libc::FICLONE, from.as_raw_fd()) == 0 }
}

#[cfg(not(target_os = "linux"))]
fn clone_file(_from: &File, _to: &File) -> bool {
    false
}

/// Makes everything staged in `staging` durable with one call: `syncfs` flushes the file system that
/// holds it (one journal commit), where a sync per file costs a commit each.
#[cfg(target_os = "linux")]
fn sync_staged(staging: &Path, _names: &[&str]) -> Result<()> {
    use std::os::fd::AsRawFd as _;
    let handle = File::open(staging).with_context(|| format!("cannot open {}", staging.display()))?;
    // SAFETY: the descriptor is open for the duration of the call.
    if unsafe { libc::syncfs(handle.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("cannot sync {}", staging.display()));
    }
    Ok(())
}

/// Elsewhere: each staged file, then the staging folder.
#[cfg(not(target_os = "linux"))]
fn sync_staged(staging: &Path, names: &[&str]) -> Result<()> {
    for name in names {
        let path = staging.join(name);
        File::open(&path)
            .and_then(|f| f.sync_all())
            .with_context(|| format!("cannot sync {}", path.display()))?;
    }
    sync_dir(staging);
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// What `--check` found wrong with one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Render would create it.
    Missing,
    /// sfngen's, with other bytes than render writes; a unified diff for text.
    Differs(String),
    /// sfngen wrote it and it changed since; the diff to what render writes.
    EditedByHand(String),
    /// A file sfngen did not write where it would write (and why it is taken for the user's).
    NotGenerated(String),
    /// sfngen wrote it and no longer generates it (and whether it was edited since).
    NoLongerGenerated {
        /// Changed since sfngen wrote it.
        edited: bool,
    },
    /// A manifest entry that is no plain file inside the folder (and why): render ignores it.
    Ignored(String),
}

/// What `--check` found, by path; empty when the folder is what render would leave.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Each file that is not as render would leave it.
    pub findings: Vec<(String, Finding)>,
}

impl CheckReport {
    /// Whether render would change nothing.
    pub fn is_up_to_date(&self) -> bool {
        self.findings.is_empty()
    }

    /// One line per file (`missing: callback.zip`), each diff after its line.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for (path, finding) in &self.findings {
            match finding {
                Finding::Missing => text.push_str(&format!("missing: {path}\n")),
                Finding::Differs(diff) => text.push_str(&format!("differs: {path}\n{diff}")),
                Finding::EditedByHand(diff) => text.push_str(&format!(
                    "edited by hand: {path} (its bytes are not the ones sfngen wrote)\n{diff}"
                )),
                Finding::NotGenerated(why) => text.push_str(&format!("not generated by sfngen: {path} ({why})\n")),
                Finding::NoLongerGenerated { edited: false } => {
                    text.push_str(&format!("no longer generated: {path}\n"))
                }
                Finding::NoLongerGenerated { edited: true } => text.push_str(&format!(
                    "no longer generated: {path} (and edited by hand since sfngen wrote it)\n"
                )),
                Finding::Ignored(why) => text.push_str(&format!(
                    "ignored manifest entry: {path} ({why}; render neither follows nor removes it)\n"
                )),
            }
        }
        text
    }

    /// Whether updating needs `--force` (hand edits to overwrite or remove).
    pub fn needs_force(&self) -> bool {
        self.findings.iter().any(|(_, f)| {
            matches!(
                f,
                Finding::EditedByHand(_) | Finding::NoLongerGenerated { edited: true }
            )
        })
    }

    /// The files the user must move away before render can update the folder.
    pub fn users_files(&self) -> Vec<&str> {
        self.findings
            .iter()
            .filter(|(_, f)| matches!(f, Finding::NotGenerated(_)))
            .map(|(p, _)| p.as_str())
            .collect()
    }
}

/// Compares `files` with `dir` as render would leave it, writing nothing.
pub fn check(dir: &Path, files: &[ModuleFile]) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    if !output_dir_exists(dir)? {
        report.findings = module_paths(files).map(|p| (p.to_string(), Finding::Missing)).collect();
        return Ok(report);
    }
    let _lock = folder::lock(dir, folder::LockMode::Shared)?;
    let found = manifest::read(dir)?;
    let survey = survey::survey(dir, files, found.manifest.as_ref())?;
    for (file, surveyed) in files.iter().zip(&survey.files) {
        if is_bookkeeping(file.path()) {
            continue;
        }
        let finding = match &surveyed.state {
            State::UpToDate => continue,
            State::Missing => Finding::Missing,
            State::Outdated => Finding::Differs(diff_with_disk(dir, file)),
            State::EditedByHand => Finding::EditedByHand(diff_with_disk(dir, file)),
            State::NotSfngens(why) => Finding::NotGenerated(why.clone()),
        };
        report.findings.push((file.path().to_string(), finding));
    }
    for (path, stale, _) in &survey.stale {
        let edited = *stale == Stale::EditedByHand;
        report
            .findings
            .push((path.clone(), Finding::NoLongerGenerated { edited }));
    }
    for (path, why) in &survey.ignored {
        report.findings.push((path.clone(), Finding::Ignored(why.clone())));
    }
    // The manifest always changes with a module file: it is reported when it alone is stale.
    if report.findings.is_empty() {
        let manifest = manifest_of(files, &survey.digests);
        match &found.bytes {
            None => report.findings.push((MANIFEST.to_string(), Finding::Missing)),
            Some(bytes) if *bytes != manifest.contents => report.findings.push((
                MANIFEST.to_string(),
                Finding::Differs(diff_one(MANIFEST, Some(bytes), &manifest.contents)),
            )),
            Some(_) => {}
        }
    }
    report.findings.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(report)
}

/// The diff from the file on disk (a plain file: the survey said so) to what render writes there.
fn diff_with_disk(dir: &Path, file: &ModuleFile) -> String {
    let old = match folder::open_plain(dir, file.path()) {
        Ok(folder::Plain::File(mut handle, _)) => {
            let mut bytes = Vec::new();
            handle.read_to_end(&mut bytes).ok().map(|_| bytes)
        }
        _ => None,
    };
    match file {
        ModuleFile::Generated(file) => diff_one(&file.path, old.as_deref(), &file.contents),
        ModuleFile::Stored(file) => {
            let new_len = fs::metadata(&file.source).map(|m| m.len()).unwrap_or_default();
            let old_len = old.map(|o| o.len()).unwrap_or_default();
            format!("Binary files differ: {old_len} bytes here, {new_len} rendered\n")
        }
    }
}

fn diff_one(path: &str, old: Option<&[u8]>, new: &[u8]) -> String {
    let (Ok(old_text), Ok(new_text)) = (std::str::from_utf8(old.unwrap_or_default()), std::str::from_utf8(new)) else {
        return format!(
            "Binary files differ: {} bytes here, {} rendered\n",
            old.map(<[u8]>::len).unwrap_or_default(),
            new.len()
        );
    };
    let old_name = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".to_string()
    };
    similar::TextDiff::from_lines(old_text, new_text)
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("b/{path}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> ModuleFile {
        GeneratedFile::text(path, format!("# Code generated by sfngen test. DO NOT EDIT.\n{text}\n")).into()
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_a_new_folder_then_updates_and_prunes_it() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("infra");
        let report = write(&out, &[file("a.tf", "1"), file("b.tf", "2")], false).unwrap();
        assert_eq!(report.written, ["a.tf", "b.tf"]);
        fs::write(out.join("user.tf"), "mine").unwrap();
        let report = write(&out, &[file("a.tf", "1"), file("c.tf", "3")], false).unwrap();
        assert_eq!(report.written, ["c.tf"]);
        assert_eq!(report.unchanged, 1);
        assert_eq!(report.removed, ["b.tf"]);
        assert_eq!(fs::read_to_string(out.join("user.tf")).unwrap(), "mine");
        assert!(
            check(&out, &[file("a.tf", "1"), file("c.tf", "3")])
                .unwrap()
                .is_up_to_date()
        );
        let stale = check(&out, &[file("a.tf", "changed")]).unwrap();
        let text = stale.text();
        assert!(text.contains("differs: a.tf\n--- a/a.tf\n+++ b/a.tf\n"), "{text}");
        assert!(text.contains("-1\n+changed\n"), "{text}");
        assert!(text.contains("no longer generated: c.tf\n"), "{text}");
        assert_eq!(names(&out), [MANIFEST, "a.tf", "c.tf", "user.tf"]);
        assert_eq!(names(root.path()), ["infra"]);
    }

    #[test]
    fn refuses_to_overwrite_a_file_it_did_not_write() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("main.tf"), "user content").unwrap();
        let err = write(root.path(), &[file("main.tf", "x")], true).unwrap_err();
        let refused = err.downcast_ref::<Refused>().unwrap();
        assert_eq!(
            refused.not_sfngens,
            [(
                "main.tf".to_string(),
                "its first line is not sfngen's header".to_string()
            )]
        );
        assert_eq!(fs::read_to_string(root.path().join("main.tf")).unwrap(), "user content");
        assert_eq!(names(root.path()), ["main.tf"]);
    }

    #[test]
    fn a_hand_edit_stops_the_render_until_forced() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("infra");
        write(&out, &[file("a.tf", "1"), file("b.tf", "2")], false).unwrap();
        fs::write(
            out.join("a.tf"),
            "# Code generated by sfngen test. DO NOT EDIT.\nmy edit\n",
        )
        .unwrap();
        fs::write(out.join("b.tf"), "my own b\n").unwrap();
        let before = (fs::read(out.join(MANIFEST)).unwrap(), names(&out));
        // b.tf is no longer generated: removing it would lose the edit too.
        let err = write(&out, &[file("a.tf", "new")], false).unwrap_err();
        assert_eq!(err.downcast_ref::<Refused>().unwrap().edited, ["a.tf", "b.tf"]);
        assert_eq!((fs::read(out.join(MANIFEST)).unwrap(), names(&out)), before);
        let found = check(&out, &[file("a.tf", "new")]).unwrap();
        assert!(found.needs_force());
        assert!(found.text().contains("edited by hand: a.tf"), "{}", found.text());
        let report = write(&out, &[file("a.tf", "new")], true).unwrap();
        assert_eq!(report.written, ["a.tf"]);
        assert_eq!(report.removed, ["b.tf"]);
        assert_eq!(report.overwritten_edits, ["a.tf", "b.tf"]);
        assert!(check(&out, &[file("a.tf", "new")]).unwrap().is_up_to_date());
    }

    #[test]
    fn forcing_the_same_module_back_leaves_its_manifest_as_it_was() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("infra");
        write(&out, &[file("a.tf", "1")], false).unwrap();
        let manifest = fs::read(out.join(MANIFEST)).unwrap();
        fs::write(out.join("a.tf"), "edited").unwrap();
        let report = write(&out, &[file("a.tf", "1")], true).unwrap();
        assert_eq!(report.overwritten_edits, ["a.tf"]);
        assert_eq!(fs::read(out.join(MANIFEST)).unwrap(), manifest);
        // The same edit again is still an edit: its bytes were listed only while a.tf was replaced.
        fs::write(out.join("a.tf"), "edited").unwrap();
        assert!(
            write(&out, &[file("a.tf", "2")], false).is_err(),
            "the edit's bytes were recorded"
        );
    }

    #[test]
    fn without_its_manifest_sfngen_still_knows_its_files_by_their_header() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("infra");
        write(&out, &[file("a.tf", "1")], false).unwrap();
        fs::remove_file(out.join(MANIFEST)).unwrap();
        let found = check(&out, &[file("a.tf", "1")]).unwrap();
        assert_eq!(found.findings, [(MANIFEST.to_string(), Finding::Missing)]);
        let report = write(&out, &[file("a.tf", "2")], false).unwrap();
        assert_eq!(report.written, ["a.tf"]);
        assert!(check(&out, &[file("a.tf", "2")]).unwrap().is_up_to_date());
    }

    #[test]
    fn bookkeeping_files_are_written_but_never_listed_or_counted() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("infra");
        let record: ModuleFile = GeneratedFile::text(".sfngen-model", "v1".into()).into();
        let report = write(&out, &[file("a.tf", "1"), record], false).unwrap();
        assert_eq!(report.written, ["a.tf"]);
        assert!(
            !fs::read_to_string(out.join(MANIFEST))
                .unwrap()
                .contains(".sfngen-model")
        );
        let record: ModuleFile = GeneratedFile::text(".sfngen-model", "v2".into()).into();
        assert!(
            check(&out, &[file("a.tf", "1"), record.clone()])
                .unwrap()
                .is_up_to_date()
        );
        let report = write(&out, &[file("a.tf", "1"), record], false).unwrap();
        assert_eq!((report.written.len(), report.unchanged), (0, 1));
        assert_eq!(read_record(&out, ".sfngen-model").unwrap().as_deref(), Some(&b"v2"[..]));
        assert_eq!(read_record(&out, ".sfngen-other").unwrap(), None);
        assert!(read_record(&out, "a.tf").is_err());
    }

    #[test]
    fn a_new_folder_with_the_longest_name_gets_its_staging_beside_it() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("m".repeat(255));
        assert_eq!(write(&out, &[file("a.tf", "1")], false).unwrap().written, ["a.tf"]);
        assert_eq!(names(root.path()), ["m".repeat(255)]);
    }

    #[test]
    fn an_output_path_that_is_a_file_is_a_usage_error() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("f");
        fs::write(&path, "x").unwrap();
        assert!(
            write(&path, &[file("a.tf", "1")], false)
                .unwrap_err()
                .downcast_ref::<UsageError>()
                .is_some()
        );
    }
}
