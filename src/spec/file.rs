//! Reading a spec file: a regular file of at most [`MAX_SPEC_BYTES`], in UTF-8.
//!
//! A spec is read as a whole before anything else, so what would make reading it hang or fill memory is
//! refused first: something that is not a regular file (a FIFO, whose opening waits for a writer, or a
//! device such as `/dev/zero`, which never ends), and a file larger than the bound, whose size is known
//! before a byte is read.

use std::fmt;
use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

use crate::diagnostic::Diagnostic;

/// The largest spec sfngen reads, in bytes: 4 MiB.
///
/// What a spec holds ends up in the module, most of it in the state machine's definition, which Step
/// Functions takes up to 1,048,576 characters (CreateStateMachine's `definition`:
/// <https://docs.aws.amazon.com/step-functions/latest/apireference/API_CreateStateMachine.html>): step names,
/// message fields, error names, causes. TOML
/// writes them more compactly than the JSON they become (`[[steps]]`, a name and a queue: about 40 bytes; its
/// Task state: about 400 characters), so a spec that fills the definition is well under 1 MiB. Four times
/// that leaves room for comments and for escapes (`\U0001F600` is ten bytes for one character), and is read
/// in milliseconds; a larger file is not a spec a module can be rendered from.
pub const MAX_SPEC_BYTES: u64 = 4 * 1024 * 1024;

/// Why a spec file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing at the path.
    Missing,
    /// The path names something that is not a regular file: "a folder", "a FIFO (named pipe)"...
    NotAFile(&'static str),
    /// Larger than [`MAX_SPEC_BYTES`]: its size in bytes, as the file system gave it.
    TooLarge(u64),
    /// Not UTF-8: where, as a diagnostic to render against `text` (the file, the bad bytes replaced).
    NotUtf8 {
        /// Points at the first byte that is not UTF-8.
        diagnostic: Box<Diagnostic>,
        /// The file with every sequence that is not UTF-8 replaced by U+FFFD: up to the bad byte, the file.
        text: String,
    },
    /// Any other error from the file system.
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Missing => write!(f, "does not exist: pass the path of your sfngen.toml"),
            ReadError::NotAFile(kind) => write!(
                f,
                "is {kind}, not a regular file: sfngen reads a spec from a file (write it to one first)"
            ),
            ReadError::TooLarge(bytes) => write!(
                f,
                "is {} bytes; a spec may be at most {} bytes (4 MiB): the state machine definition it renders holds \
                 at most 1,048,576 characters, which a spec's values fill long before 4 MiB",
                thousands(*bytes),
                thousands(MAX_SPEC_BYTES)
            ),
            ReadError::NotUtf8 { diagnostic, .. } => write!(f, "{}", diagnostic.message),
            ReadError::Io(err) => write!(f, "cannot be read: {err}"),
        }
    }
}

/// Reads the spec at `path`: refuses what is not a regular file and a file over [`MAX_SPEC_BYTES`] before
/// reading from it, and never reads more than one byte past the bound.
pub fn read(path: &Path) -> Result<String, ReadError> {
    let file = open(path).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Io(err),
    })?;
    let metadata = file.metadata().map_err(ReadError::Io)?;
    if let Some(kind) = not_a_file(&metadata) {
        return Err(ReadError::NotAFile(kind));
    }
    if metadata.len() > MAX_SPEC_BYTES {
        return Err(ReadError::TooLarge(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(MAX_SPEC_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    // It grew while it was read.
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > MAX_SPEC_BYTES {
        return Err(ReadError::TooLarge(read));
    }
    decode(bytes)
}

/// A spec's bytes as text; not UTF-8, the first bad byte as a diagnostic.
pub fn decode(bytes: Vec<u8>) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|err| not_utf8(err.as_bytes(), err.utf8_error().valid_up_to()))
}

/// Opens `path` for reading without waiting: a FIFO opens at once (and is then refused) instead of waiting
/// for a writer.
fn open(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// What the file is, when it is not a regular file.
fn not_a_file(metadata: &Metadata) -> Option<&'static str> {
    let kind = metadata.file_type();
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a folder");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if kind.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if kind.is_char_device() {
            return Some("a character device");
        }
        if kind.is_block_device() {
            return Some("a block device");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// The file is UTF-8 up to byte `at`.
fn not_utf8(bytes: &[u8], at: usize) -> ReadError {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let byte = bytes.get(at).copied().unwrap_or_default();
    let diagnostic = Diagnostic::error(
        "",
        Some(at..at + 1),
        format!("not UTF-8 text: byte 0x{byte:02X} at offset {at} is not UTF-8"),
    )
    .with_help("TOML files are UTF-8: save the spec as UTF-8 (the line shows the byte as \u{FFFD})");
    ReadError::NotUtf8 {
        diagnostic: Box::new(diagnostic),
        text,
    }
}

/// `4194304` as `4,194,304`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_utf8_points_at_the_first_bad_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(&path, b"name = \"x\"\n# caf\xc3\xa9 \xff\xfe\n").unwrap();
        let Err(ReadError::NotUtf8 { diagnostic, text }) = read(&path) else {
            panic!("read as UTF-8");
        };
        assert_eq!(
            diagnostic.message,
            "not UTF-8 text: byte 0xFF at offset 19 is not UTF-8"
        );
        let rendered = diagnostic.render("s.toml", &text);
        assert!(rendered.contains(" --> s.toml:2:8\n"), "{rendered}");
        assert!(rendered.contains("2 | # café \u{FFFD}\u{FFFD}\n"), "{rendered}");
    }

    #[test]
    fn a_file_over_the_bound_is_refused_by_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        let file = File::create(&path).unwrap();
        file.set_len(MAX_SPEC_BYTES + 1).unwrap();
        assert!(matches!(read(&path), Err(ReadError::TooLarge(n)) if n == MAX_SPEC_BYTES + 1));
        file.set_len(MAX_SPEC_BYTES).unwrap();
        // At the bound it is read (and is not a spec: NUL bytes are UTF-8, so it reads).
        assert_eq!(read(&path).map(|s| s.len()).ok(), Some(4 * 1024 * 1024));
    }

    #[test]
    fn what_is_not_a_regular_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(read(dir.path()), Err(ReadError::NotAFile("a folder"))));
        assert!(matches!(read(&dir.path().join("none")), Err(ReadError::Missing)));
        #[cfg(unix)]
        assert!(matches!(
            read(Path::new("/dev/zero")),
            Err(ReadError::NotAFile("a character device"))
        ));
    }

    #[test]
    fn sizes_are_written_in_thousands() {
        assert_eq!(thousands(MAX_SPEC_BYTES), "4,194,304");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(0), "0");
    }
}
