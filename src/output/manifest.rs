//! `.sfngen-manifest`: the files of an output folder that sfngen wrote, with the SHA-256 of the bytes it
//! wrote.
//!
//! Lines starting with `#` are comments; every other line is `HEX  PATH` (64 hex digits, two spaces, the
//! path relative to the folder), as `sha256sum` writes it, so `sha256sum --check .sfngen-manifest` run
//! in the folder checks the module. While a render replaces files, the manifest lists each path with
//! the bytes before and after (two lines): a render killed half-way leaves a folder whose every file is
//! one of them. A manifest of an earlier sfngen lists bare paths, without their bytes.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result};

use super::folder::{self, Plain};
use crate::generated::{Digest, from_hex, push_hex};

/// The manifest's file name inside the output folder.
pub const MANIFEST: &str = ".sfngen-manifest";

/// The manifest's first lines.
const HEADER: &str = "\
# Files sfngen render wrote into this folder: the SHA-256 of the bytes it wrote, then the path. DO NOT EDIT.
# A render removes those it no longer generates and stops before overwriting one changed since it wrote it.
";

/// What a manifest lists.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Each listed path with the digests it may have; empty when an earlier sfngen listed the path alone.
    entries: BTreeMap<String, Vec<Digest>>,
}

/// The folder's manifest, as far as it can be used.
#[derive(Debug, Default)]
pub struct Found {
    /// The manifest, when the folder has one that is a plain file.
    pub manifest: Option<Manifest>,
    /// Its bytes, to tell whether it needs writing.
    pub bytes: Option<Vec<u8>>,
    /// Why a `.sfngen-manifest` that exists was not read.
    pub unusable: Option<String>,
}

impl Manifest {
    /// Parses a manifest's text; lines that are neither comments, `HEX  PATH` nor a bare path are skipped.
    pub fn parse(text: &str) -> Manifest {
        let mut entries: BTreeMap<String, Vec<Digest>> = BTreeMap::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
            match line
                .split_once("  ")
                .and_then(|(hex, path)| Some((from_hex(hex)?, path)))
            {
                Some((digest, path)) => entries.entry(path.to_string()).or_default().push(digest),
                None => {
                    entries.entry(line.to_string()).or_default();
                }
            }
        }
        Manifest { entries }
    }

    /// The digests listed for `path`: `None` when it is not listed, empty when listed without them.
    pub fn digests(&self, path: &str) -> Option<&[Digest]> {
        self.entries.get(path).map(Vec::as_slice)
    }

    /// Every listed path.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Adds a path's digest (once).
    pub fn add(&mut self, path: &str, digest: Digest) {
        let digests = self.entries.entry(path.to_string()).or_default();
        if !digests.contains(&digest) {
            digests.push(digest);
        }
    }

    /// The manifest's text: the header, then one line per path and digest, by path.
    pub fn text(&self) -> String {
        let mut text = String::with_capacity(HEADER.len() + self.entries.len() * 100);
        text.push_str(HEADER);
        for (path, digests) in &self.entries {
            for digest in digests {
                push_hex(&mut text, digest);
                text.push_str("  ");
                text.push_str(path);
                text.push('\n');
            }
        }
        text
    }
}

/// Reads `dir`'s manifest without following a symbolic link; a manifest that is not a plain UTF-8
/// file is reported, not read.
pub fn read(dir: &Path) -> Result<Found> {
    let path = dir.join(MANIFEST);
    let file = match folder::open_plain(dir, MANIFEST).with_context(|| format!("cannot read {}", path.display()))? {
        Plain::Absent => return Ok(Found::default()),
        Plain::Not(why) => {
            return Ok(Found {
                unusable: Some(why),
                ..Found::default()
            });
        }
        Plain::File(file, meta) => (file, meta),
    };
    let (mut file, meta) = file;
    // Through `take`, which reads into the room made for the length instead of asking the file for it.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or_default() + 1);
    (&mut file)
        .take(meta.len() + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return Ok(Found {
            unusable: Some("not UTF-8 text".into()),
            bytes: Some(bytes),
            ..Found::default()
        });
    };
    Ok(Found {
        manifest: Some(Manifest::parse(text)),
        bytes: Some(bytes),
        unusable: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generated::sha256;

    #[test]
    fn the_text_parses_back_and_old_manifests_list_bare_paths() {
        let mut manifest = Manifest::default();
        manifest.add("main.tf", sha256(b"a"));
        manifest.add("callback.zip", sha256(b"b"));
        manifest.add("main.tf", sha256(b"c"));
        manifest.add("main.tf", sha256(b"a"));
        let text = manifest.text();
        assert!(text.starts_with("# Files sfngen render wrote"));
        assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 3);
        assert_eq!(Manifest::parse(&text), manifest);
        assert_eq!(manifest.digests("main.tf"), Some(&[sha256(b"a"), sha256(b"c")][..]));
        assert_eq!(manifest.digests("other.tf"), None);

        let old = Manifest::parse("# Files written by sfngen render. DO NOT EDIT.\nREADME.md\nmain.tf\n");
        assert_eq!(old.paths().collect::<Vec<_>>(), ["README.md", "main.tf"]);
        assert_eq!(old.digests("main.tf"), Some(&[][..]));
    }
}
