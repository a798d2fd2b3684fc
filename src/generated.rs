//! The files of a rendered module, as the emitters make them and [`crate::output`] writes them.

use std::path::PathBuf;

/// One file of the rendered module, made in memory (every text file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the output folder, with `/` separators.
    pub path: String,
    /// Exact bytes.
    pub contents: Vec<u8>,
}

impl GeneratedFile {
    /// A text file.
    pub fn text(path: &str, contents: String) -> Self {
        GeneratedFile {
            path: path.to_string(),
            contents: contents.into_bytes(),
        }
    }
}

/// A file of the module whose bytes are already on disk (the Lambda package): the output copies it
/// with the kernel and never reads it into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    /// Path relative to the output folder, with `/` separators.
    pub path: String,
    /// Where the bytes are.
    pub source: PathBuf,
    /// Whether `source` is an entry of sfngen's cache, which is never changed in place (a new build
    /// replaces it by rename) and whose stamp was checked: the output may then share its inode
    /// (a hard link) instead of copying 2 MB. A user's file (`--lambda-zip`) is always copied.
    pub immutable: bool,
}

/// One file of the module as the output writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModuleFile {
    /// Bytes in memory.
    Generated(GeneratedFile),
    /// Bytes in a file.
    Stored(StoredFile),
}

impl ModuleFile {
    /// Path relative to the output folder.
    pub fn path(&self) -> &str {
        match self {
            ModuleFile::Generated(file) => &file.path,
            ModuleFile::Stored(file) => &file.path,
        }
    }
}

impl From<GeneratedFile> for ModuleFile {
    fn from(file: GeneratedFile) -> Self {
        ModuleFile::Generated(file)
    }
}
