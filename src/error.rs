//! Errors the user must fix (exit status 2), as opposed to failures of sfngen or the machine.

/// A problem with the command line, the output folder or a given file that the user must fix
/// (exit status 2; nothing is written). Spec problems are [`crate::diagnostic::Diagnostic`]s instead.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
