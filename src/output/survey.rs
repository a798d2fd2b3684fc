//! What the output folder holds, file by file, against what a render writes: up to date, missing,
//! sfngen's and out of date, edited by hand since sfngen wrote it, or not sfngen's at all; and the
//! files the manifest lists that this render no longer generates. Read only.
//!
//! A file is sfngen's when the manifest records its bytes (their SHA-256), or, for a file the manifest
//! does not list with its bytes, when its first line is sfngen's header ([`carries_generated_header`])
//! or it is a Lambda package as sfngen zips them ([`is_sfngen_zip`]). A file the manifest lists whose
//! bytes are none it recorded was edited by hand.
//!
//! What the render writes is hashed in memory (the package's hash is known beforehand); a file's current
//! bytes are hashed only when they differ from the render's.

use std::fs::{File, Metadata};
use std::io::{Read as _, Seek as _};
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use sha2::{Digest as _, Sha256};

use super::folder::{self, Plain};
use super::manifest::Manifest;
use crate::generated::{
    Digest, HEADER_PROBE_LEN, ModuleFile, StoredFile, carries_generated_header, is_bookkeeping, sha256, takes_a_header,
};

/// A file sfngen writes, as the folder holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Not there.
    Missing,
    /// Already the bytes this render writes.
    UpToDate,
    /// sfngen's, with other bytes: this render replaces it.
    Outdated,
    /// Listed in the manifest, but its bytes are none sfngen wrote: replaced only with `--force`.
    EditedByHand,
    /// Not sfngen's (and why): never written over.
    NotSfngens(String),
}

/// A file the manifest lists that this render does not write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    /// sfngen's bytes: removed.
    Sfngens,
    /// Changed since sfngen wrote it: removed only with `--force`.
    EditedByHand,
}

/// One file of the survey.
#[derive(Debug, Clone)]
pub struct Surveyed {
    /// Its path inside the folder.
    pub path: String,
    /// What the folder holds there.
    pub state: State,
    /// The digest of the bytes there, when it was computed.
    pub current: Option<Digest>,
}

/// The folder against a render.
#[derive(Debug, Default)]
pub struct Survey {
    /// One per file the render writes, bookkeeping included, in the render's order.
    pub files: Vec<Surveyed>,
    /// The digest of each file the render writes (same order).
    pub digests: Vec<Digest>,
    /// Files the manifest lists and this render does not write, with what they hold now.
    pub stale: Vec<(String, Stale, Option<Digest>)>,
    /// Manifest entries that are not plain files inside the folder: never removed, reported.
    pub ignored: Vec<(String, String)>,
}

/// Surveys `dir` (which exists) against `files`, with the manifest it holds.
pub fn survey(dir: &Path, files: &[ModuleFile], manifest: Option<&Manifest>) -> Result<Survey> {
    let mut survey = Survey::default();
    for file in files {
        let (surveyed, digest) = survey_file(dir, file, manifest)?;
        survey.files.push(surveyed);
        survey.digests.push(digest);
    }
    let Some(manifest) = manifest else {
        return Ok(survey);
    };
    for path in manifest.paths() {
        if is_bookkeeping(path) || files.iter().any(|f| f.path() == path) {
            continue;
        }
        let target = dir.join(path);
        match folder::open_plain(dir, path).with_context(|| format!("cannot read {}", target.display()))? {
            Plain::Absent => {}
            Plain::Not(why) => survey.ignored.push((path.to_string(), why)),
            Plain::File(mut handle, _) => {
                let (owned, current) = owned_by_record(path, &mut handle, manifest.digests(path).unwrap_or_default())?;
                let stale = if owned { Stale::Sfngens } else { Stale::EditedByHand };
                survey.stale.push((path.to_string(), stale, Some(current)));
            }
        }
    }
    Ok(survey)
}

/// The files at the top of `dir` that carry sfngen's header and are none of `files`: what a render
/// wrote before, if the manifest that would say so is gone (or a user's copy: sfngen cannot tell).
pub fn unlisted_with_header(dir: &Path, files: &[ModuleFile]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| takes_a_header(name) && !is_bookkeeping(name) && !files.iter().any(|f| f.path() == name))
        .filter(|name| match folder::open_plain(dir, name) {
            Ok(Plain::File(handle, _)) => {
                let mut head = Vec::with_capacity(HEADER_PROBE_LEN);
                handle.take(HEADER_PROBE_LEN as u64).read_to_end(&mut head).is_ok()
                    && carries_generated_header(name, &head)
            }
            _ => false,
        })
        .collect();
    found.sort();
    found
}

/// Every digest of `files`, for a folder that does not exist yet.
pub fn digests(files: &[ModuleFile]) -> Result<Vec<Digest>> {
    files.iter().map(digest_of).collect()
}

fn digest_of(file: &ModuleFile) -> Result<Digest> {
    match file {
        ModuleFile::Generated(file) => Ok(sha256(&file.contents)),
        ModuleFile::Stored(StoredFile {
            sha256: Some(digest), ..
        }) => Ok(*digest),
        ModuleFile::Stored(file) => File::open(&file.source)
            .and_then(hash_reader)
            .with_context(|| format!("cannot read {}", file.source.display())),
    }
}

fn survey_file(dir: &Path, file: &ModuleFile, manifest: Option<&Manifest>) -> Result<(Surveyed, Digest)> {
    let path = file.path();
    let target = dir.join(path);
    let opened = folder::open_plain(dir, path).with_context(|| format!("cannot read {}", target.display()))?;
    let surveyed = |state, current| Surveyed {
        path: path.to_string(),
        state,
        current,
    };
    let (mut handle, meta) = match opened {
        Plain::Absent => return Ok((surveyed(State::Missing, None), digest_of(file)?)),
        // A bookkeeping name is sfngen's whatever is there: the rename replaces the entry itself.
        Plain::Not(_) if is_bookkeeping(path) => return Ok((surveyed(State::Outdated, None), digest_of(file)?)),
        Plain::Not(why) => return Ok((surveyed(State::NotSfngens(why), None), digest_of(file)?)),
        Plain::File(handle, meta) => (handle, meta),
    };
    // Hashed even when the file is up to date: a file that came to hold this render's bytes some other way
    // (a git merge of two renders, say) is then recorded as it is, not as the manifest remembers it.
    let digest = digest_of(file)?;
    if holds_exactly(&mut handle, &meta, file, &target)? {
        return Ok((surveyed(State::UpToDate, Some(digest)), digest));
    }
    if is_bookkeeping(path) {
        return Ok((surveyed(State::Outdated, None), digest));
    }
    handle
        .rewind()
        .with_context(|| format!("cannot read {}", target.display()))?;
    let (state, current) = match manifest.and_then(|m| m.digests(path)) {
        Some(recorded) => {
            let (owned, current) = owned_by_record(path, &mut handle, recorded)?;
            (if owned { State::Outdated } else { State::EditedByHand }, current)
        }
        None => {
            let (owned, current) = owned_by_mark(path, &mut handle)?;
            let state = if owned {
                State::Outdated
            } else {
                State::NotSfngens(no_mark_reason(path))
            };
            (state, current)
        }
    };
    Ok((surveyed(state, Some(current)), digest))
}

/// Why a file with other bytes, which the manifest does not list, is taken for the user's.
fn no_mark_reason(path: &str) -> String {
    if takes_a_header(path) {
        "its first line is not sfngen's header".into()
    } else {
        "not a package sfngen zipped".into()
    }
}

/// Whether a listed file is sfngen's: its bytes are ones the manifest recorded, or (an entry of an
/// earlier sfngen, without bytes) it carries sfngen's mark. Returns its digest too.
fn owned_by_record(path: &str, handle: &mut File, recorded: &[Digest]) -> Result<(bool, Digest)> {
    if recorded.is_empty() {
        return owned_by_mark(path, handle);
    }
    let current = hash_reader(handle).with_context(|| format!("cannot read {path}"))?;
    Ok((recorded.contains(&current), current))
}

/// Whether a file carries sfngen's mark (the header, or a package as sfngen zips it), and its digest.
fn owned_by_mark(path: &str, handle: &mut File) -> Result<(bool, Digest)> {
    let mut bytes = Vec::new();
    handle
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {path}"))?;
    let head = &bytes[..bytes.len().min(HEADER_PROBE_LEN)];
    let owned = carries_generated_header(path, head) || is_sfngen_zip(path, &bytes);
    Ok((owned, sha256(&bytes)))
}

/// A Lambda package as sfngen zips it (`lambda::zip_bootstrap`): a `.zip` whose one entry is
/// `bootstrap`, dated 1980-01-01 00:00 (zip's earliest time: no tool but a reproducible build writes it).
pub fn is_sfngen_zip(path: &str, bytes: &[u8]) -> bool {
    if !path.ends_with(".zip") {
        return false;
    }
    let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(bytes)) else {
        return false;
    };
    if archive.len() != 1 {
        return false;
    }
    archive.by_index_raw(0).is_ok_and(|entry| {
        entry.name().is_ok_and(|name| name == "bootstrap") && entry.last_modified() == Some(zip::DateTime::default())
    })
}

/// Whether the opened target holds exactly `file`'s bytes.
fn holds_exactly(handle: &mut File, meta: &Metadata, file: &ModuleFile, target: &Path) -> Result<bool> {
    match file {
        ModuleFile::Generated(file) => {
            if meta.len() != file.contents.len() as u64 {
                return Ok(false);
            }
            // The length is known: one read, no probing.
            let mut old = vec![0; file.contents.len()];
            handle
                .read_exact(&mut old)
                .with_context(|| format!("cannot read {}", target.display()))?;
            Ok(old == file.contents)
        }
        ModuleFile::Stored(file) => {
            let source =
                std::fs::metadata(&file.source).with_context(|| format!("cannot read {}", file.source.display()))?;
            // A link to the cache entry (whose stamp was just checked) holds its bytes by definition.
            if file.immutable && (meta.dev(), meta.ino()) == (source.dev(), source.ino()) {
                return Ok(true);
            }
            if meta.len() != source.len() {
                return Ok(false);
            }
            let other = File::open(&file.source).with_context(|| format!("cannot read {}", file.source.display()))?;
            same_bytes(handle, other).with_context(|| format!("cannot read {}", target.display()))
        }
    }
}

/// Compares two files of equal length in blocks, without reading either whole into memory.
fn same_bytes(a: &mut File, mut b: File) -> std::io::Result<bool> {
    let (mut block_a, mut block_b) = (vec![0u8; 1 << 16], vec![0u8; 1 << 16]);
    loop {
        let n = a.read(&mut block_a)?;
        if n == 0 {
            return Ok(b.read(&mut block_b[..1])? == 0);
        }
        b.read_exact(&mut block_b[..n])?;
        if block_a[..n] != block_b[..n] {
            return Ok(false);
        }
    }
}

/// The SHA-256 of everything `reader` holds, read in blocks.
fn hash_reader(mut reader: impl std::io::Read) -> std::io::Result<Digest> {
    let mut hasher = Sha256::new();
    let mut block = vec![0u8; 1 << 16];
    loop {
        let n = reader.read(&mut block)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&block[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_package_sfngen_zipped_is_recognized_and_another_zip_is_not() {
        let ours = crate::lambda::zip_bootstrap(b"#!/bin/sh\n").unwrap();
        assert!(is_sfngen_zip("callback.zip", &ours));
        assert!(!is_sfngen_zip("callback.bin", &ours));
        assert!(!is_sfngen_zip("callback.zip", b"PK not a zip"));
        let mut theirs = std::io::Cursor::new(Vec::new());
        let mut writer = zip::ZipWriter::new(&mut theirs);
        let options = zip::write::SimpleFileOptions::default()
            .last_modified_time(zip::DateTime::from_date_and_time(2024, 5, 1, 12, 0, 0).unwrap());
        writer.start_file("bootstrap", options).unwrap();
        std::io::Write::write_all(&mut writer, b"#!/bin/sh\n").unwrap();
        writer.finish().unwrap();
        assert!(!is_sfngen_zip("callback.zip", theirs.get_ref()));
    }
}
