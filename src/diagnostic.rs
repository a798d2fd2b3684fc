//! Diagnostics: one problem in a spec, located by byte span and key path, rendered the way
//! rustc and cargo render theirs (`--> file:line:column` with a caret under the offending text).

use std::fmt::Write as _;
use std::ops::Range;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The spec cannot be rendered.
    Error,
    /// The spec renders, but probably not into what the author meant.
    Warning,
}

/// One problem found in a spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The key path, for example `steps[1].heartbeat`; empty for the document itself.
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// Byte range in the source that the caret points at.
    pub span: Option<Range<usize>>,
    /// How to fix it.
    pub help: Option<String>,
    /// A byte range of the string value at `span`, to point at instead of the whole value: the caret lands
    /// on it when the spec writes the value as it reads (a `"..."` string without escapes, or a `'...'`
    /// string); otherwise the caret underlines the whole value.
    pub within: Option<Range<usize>>,
}

impl Diagnostic {
    /// An error at `path`, pointing at `span`.
    pub fn error(path: impl Into<String>, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            path: path.into(),
            message: message.into(),
            span,
            help: None,
            within: None,
        }
    }

    /// A warning at `path`, pointing at `span`.
    pub fn warning(path: impl Into<String>, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(path, span, message)
        }
    }

    /// Adds the "how to fix it" line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Points the caret at bytes `range` of the string value the span holds (see [`Diagnostic::within`]).
    pub fn within_text(mut self, range: Range<usize>) -> Self {
        self.within = Some(range);
        self
    }

    /// The bytes of `source` the caret points at: the span, or the part of its string value that
    /// [`Diagnostic::within`] names when the value is written without escapes.
    fn pointed(&self, source: &str) -> Option<Range<usize>> {
        let span = self.span.clone()?;
        let Some(within) = self.within.clone() else {
            return Some(span);
        };
        let Some(text) = text_of_string_literal(source, &span) else {
            return Some(span);
        };
        let narrowed = text.start + within.start..text.start + within.end;
        let inside = within.start <= within.end
            && narrowed.end <= text.end
            && source.is_char_boundary(narrowed.start)
            && source.is_char_boundary(narrowed.end);
        Some(if inside { narrowed } else { span })
    }

    /// Renders the diagnostic against the source it was found in.
    pub fn render(&self, file: &str, source: &str) -> String {
        let label = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = String::new();
        if self.path.is_empty() {
            let _ = writeln!(out, "{label}: {}", self.message);
        } else {
            let _ = writeln!(out, "{label}: {}: {}", self.path, self.message);
        }
        let span = self.pointed(source).unwrap_or(0..0);
        let (line, column) = line_column(source, span.start);
        let full_line = line_at(source, span.start);
        // A long line (a 10 MB value, say) is shown only up to a little past the caret. TOML lets a string
        // hold C1 control characters (U+0080..U+009F) as they are: shown as U+FFFD, so that the line cannot
        // drive the terminal.
        let line_text: String = full_line
            .chars()
            .take((column + 80).max(120))
            .map(|c| if c.is_control() && c != '\t' { '\u{FFFD}' } else { c })
            .collect();
        let line_text = line_text.as_str();
        let gutter = " ".repeat(line.to_string().len());
        let _ = writeln!(out, "{gutter}--> {file}:{line}:{column}");
        if self.span.is_some() && !line_text.is_empty() {
            let caret_start = column - 1;
            let line_chars = line_text.chars().count();
            let span_chars = source
                .get(span.clone())
                .map(|s| s.lines().next().unwrap_or("").chars().count())
                .unwrap_or(1);
            let width = span_chars.clamp(1, line_chars.saturating_sub(caret_start).max(1));
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{line} | {line_text}");
            let _ = writeln!(out, "{gutter} | {}{}", " ".repeat(caret_start), "^".repeat(width));
        }
        if let Some(help) = &self.help {
            let _ = writeln!(out, "{gutter} = help: {help}");
        }
        out
    }
}

/// The bytes of the text of the string literal at `span`, when the text is the string's value as it reads:
/// a basic string without escapes (`"..."`) or a literal string (`'...'`), on one line.
fn text_of_string_literal(source: &str, span: &Range<usize>) -> Option<Range<usize>> {
    let literal = source.get(span.clone())?;
    let quote = literal.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let multi_line = literal.starts_with(&format!("{quote}{quote}{quote}")) && literal.len() >= 6;
    let plain = literal.len() >= 2 && literal.ends_with(quote) && !literal.contains('\n');
    let escapes = quote == '"' && literal.contains('\\');
    (plain && !multi_line && !escapes).then(|| span.start + 1..span.end - 1)
}

/// A user's value, quoted for a message: long values are cut to their first 60 characters.
pub fn shown(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}… ({} characters)", value.chars().count())
    }
}

/// One-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let before = &source.as_bytes()[..offset];
    // Counted as bytes (vectorized): a spec with a warning on each of 1,000 steps scans it 1,000 times.
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
    let column = source[line_start..offset].chars().count() + 1;
    (line, column)
}

/// The line that holds a byte offset, without its line break.
pub fn line_at(source: &str, offset: usize) -> &str {
    let offset = floor_char_boundary(source, offset.min(source.len()));
    let start = source.as_bytes()[..offset]
        .iter()
        .rposition(|&b| b == b'\n')
        .map(|i| i + 1)
        .unwrap_or(0);
    let end = source.as_bytes()[start..]
        .iter()
        .position(|&b| b == b'\n')
        .map(|i| start + i)
        .unwrap_or(source.len());
    source[start..end].strip_suffix('\r').unwrap_or(&source[start..end])
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    while index > 0 && !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// The closest of `candidates` to `word`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_from_one() {
        let src = "a = 1\nbb = \"x\"\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        assert_eq!(line_column(src, 11), (2, 6));
    }

    #[test]
    fn line_at_is_the_line_that_line_column_numbers() {
        for src in ["a = 1\nbb = \"x\"\n", "x\r\ny\r\n\nz", "", "\n\n", "é = 1\nü = 2"] {
            for offset in 0..=src.len() + 1 {
                let (line, _) = line_column(src, offset);
                let expected = src.lines().nth(line - 1).unwrap_or("");
                assert_eq!(line_at(src, offset), expected, "{src:?} at {offset}");
            }
        }
    }

    #[test]
    fn render_points_at_the_span() {
        let src = "name = \"Bad\"\n";
        let d = Diagnostic::error("name", Some(7..12), "must be lowercase").with_help("use \"bad\"");
        let text = d.render("s.toml", src);
        assert_eq!(
            text,
            "error: name: must be lowercase\n --> s.toml:1:8\n  |\n1 | name = \"Bad\"\n  |        ^^^^^\n  = help: use \"bad\"\n"
        );
    }

    #[test]
    fn the_caret_points_inside_a_string_written_as_it_reads() {
        let at_colon = Diagnostic::error("steps[0].name", Some(7..17), "bad").within_text(4..5);
        let caret = |src: &str| at_colon.render("s.toml", src).lines().nth(4).unwrap().to_string();
        assert_eq!(caret("name = \"Send:SQS\"\n"), "  |             ^");
        assert_eq!(caret("name = 'Send:SQS'\n"), "  |             ^");
        // Escapes: the value's bytes are not the source's; the whole string is underlined.
        let escaped = Diagnostic::error("steps[0].name", Some(7..21), "bad").within_text(4..5);
        let text = escaped.render("s.toml", "name = \"Se\\u006e:SQS\"\n");
        assert_eq!(text.lines().nth(4), Some("  |        ^^^^^^^^^^^^^^"), "{text}");
        let at_end = Diagnostic::error("p", Some(7..17), "bad").within_text(8..8);
        let text = at_end.render("s.toml", "path = \"$.order[\"\n");
        assert!(text.contains("s.toml:1:17\n"), "{text}");
        let outside = Diagnostic::error("p", Some(7..10), "bad").within_text(5..9);
        assert!(outside.render("s.toml", "name = \"ab\"\n").contains("s.toml:1:8\n"));
    }

    #[test]
    fn control_characters_of_the_source_line_are_not_printed() {
        let src = "name = \"a\u{9b}b\"\n";
        let text = Diagnostic::error("name", Some(7..12), "bad").render("s.toml", src);
        assert!(!text.contains('\u{9b}') && text.contains("a\u{FFFD}b"), "{text:?}");
    }

    #[test]
    fn did_you_mean_finds_near_misses_only() {
        let keys = ["visibility_timeout", "retention", "fifo"];
        assert_eq!(did_you_mean("visiblity_timeout", keys), Some("visibility_timeout"));
        assert_eq!(did_you_mean("zzz", keys), None);
    }
}
