//! Strict JSON: an event read exactly as its sender wrote it.
//!
//! `serde_json::Value` would change what a worker said: a number beyond `u64` becomes a float
//! (`123456789012345678901234567890` → `1.2345678901234568e29`), a key given twice keeps its last value,
//! and a document nested thousands deep is walked recursively. This reader checks the whole text once
//! (RFC 8259 syntax, every string decodable, no key twice in one object, at most [`MAX_DEPTH`] arrays and
//! objects deep) and hands back each value as the text it was written as, so that a worker's `output` goes
//! to Step Functions byte for byte (whitespace between tokens aside, see [`minified`]).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// The most arrays and objects nested in one another that an event may hold, the event itself counted
/// (so a worker's `output` may nest 63 deep). No AWS limit applies here (Step Functions documents none on
/// nesting, only the 262,144 bytes of an output): the bound keeps the reader's recursion, and anything
/// built from the event, small, and stays well inside serde_json's own limit (128), which decodes the
/// strings.
pub const MAX_DEPTH: usize = 64;

/// What a JSON value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Boolean,
    /// A number, as written.
    Number,
    /// A string.
    String,
    /// An array.
    Array,
    /// An object.
    Object,
}

impl Kind {
    /// What it is, for messages: "a string", "an object".
    pub fn described(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// A JSON value as written: its text, without the whitespace around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw<'a> {
    /// The value's text.
    pub text: &'a str,
    /// What it is.
    pub kind: Kind,
}

impl<'a> Raw<'a> {
    /// The string's value, when it is a string.
    pub fn string(&self) -> Option<String> {
        match self.kind {
            // The reader decoded every string already: this cannot fail.
            Kind::String => serde_json::from_str(self.text).ok(),
            _ => None,
        }
    }

    /// An object's members by key (each key once: the reader refuses a key given twice), each value as
    /// written; `None` when it is not an object.
    pub fn members(&self) -> Option<BTreeMap<String, Raw<'a>>> {
        if self.kind != Kind::Object {
            return None;
        }
        let mut reader = Reader::new(self.text);
        let mut members = BTreeMap::new();
        // Read again, already checked: only the top level's members are kept.
        reader
            .object(1, &mut |key, value| {
                members.insert(key, value);
            })
            .ok()?;
        Some(members)
    }

    /// An array's elements, each as written; `None` when it is not an array.
    pub fn elements(&self) -> Option<Vec<Raw<'a>>> {
        if self.kind != Kind::Array {
            return None;
        }
        let mut reader = Reader::new(self.text);
        let mut elements = Vec::new();
        reader.array(1, &mut |value| elements.push(value)).ok()?;
        Some(elements)
    }
}

/// Why a text is not an event this function reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Not JSON: what was wrong, at which line and column (1-based, columns in characters).
    NotJson {
        /// What the reader expected or found.
        what: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
    },
    /// A key given twice in one object (`path` is where the object is).
    DuplicateKey {
        /// The object's path.
        path: Path,
        /// The key.
        key: String,
    },
    /// An array or object nested deeper than [`MAX_DEPTH`].
    TooDeep {
        /// Where the array or object that is one too deep is.
        path: Path,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotJson { what, line, column } => {
                write!(f, "the event is not JSON: {what} at line {line}, column {column}")
            }
            Problem::DuplicateKey { path, key } => write!(
                f,
                "{} gives the key {} twice: send each key once, so that what is answered is what you meant",
                path.described(),
                serde_json::Value::String(key.clone())
            ),
            Problem::TooDeep { path } => write!(
                f,
                "{} nests arrays and objects deeper than {MAX_DEPTH} levels (the event itself counted): flatten it",
                path.described()
            ),
        }
    }
}

/// Where a value is in the event: keys and indices from the top.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(Vec<Segment>);

/// One step of a [`Path`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl Path {
    /// `the event`, or `"output.items[2]"`.
    pub fn described(&self) -> String {
        if self.0.is_empty() {
            return "the event".into();
        }
        let mut text = String::new();
        for segment in self.0.iter().rev() {
            match segment {
                Segment::Index(i) => text.push_str(&format!("[{i}]")),
                Segment::Key(key) if is_plain(key) => {
                    if !text.is_empty() {
                        text.push('.');
                    }
                    text.push_str(key);
                }
                Segment::Key(key) => text.push_str(&format!("[{}]", serde_json::Value::String(key.clone()))),
            }
        }
        format!("\"{text}\"")
    }
}

fn is_plain(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads a whole text as one JSON value (whitespace around it allowed), strictly.
pub fn read(text: &str) -> Result<Raw<'_>, Problem> {
    let mut reader = Reader::new(text);
    reader.whitespace();
    let value = reader.value(0)?;
    reader.whitespace();
    if reader.at < reader.bytes.len() {
        return Err(reader.not_json("more after the value"));
    }
    Ok(value)
}

/// A checked JSON text without the whitespace between its tokens (strings kept as written).
pub fn minified(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// A strict recursive-descent reader over the text's bytes (JSON's structure is ASCII; strings are
/// decoded by serde_json).
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Self {
        Reader {
            text,
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn not_json(&self, what: &str) -> Problem {
        self.not_json_at(self.at, what)
    }

    /// A [`Problem::NotJson`] at byte `at` (or the character it falls in).
    fn not_json_at(&self, at: usize, what: &str) -> Problem {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        Problem::NotJson {
            what: what.to_string(),
            line: before.matches('\n').count() + 1,
            column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// One value at `depth` (the arrays and objects around it), starting at the reader's position.
    fn value(&mut self, depth: usize) -> Result<Raw<'a>, Problem> {
        let start = self.at;
        let kind = match self.peek() {
            Some(b'{') => {
                self.object(depth + 1, &mut |_, _| {})?;
                Kind::Object
            }
            Some(b'[') => {
                self.array(depth + 1, &mut |_| {})?;
                Kind::Array
            }
            Some(b'"') => {
                self.string()?;
                Kind::String
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                Kind::Number
            }
            Some(b't') => self.literal("true", Kind::Boolean)?,
            Some(b'f') => self.literal("false", Kind::Boolean)?,
            Some(b'n') => self.literal("null", Kind::Null)?,
            Some(_) => return Err(self.not_json("expected a value")),
            None => return Err(self.not_json("expected a value, found the end")),
        };
        Ok(Raw {
            text: &self.text[start..self.at],
            kind,
        })
    }

    /// An object whose members are at `depth`; `member` sees each key and value.
    fn object(&mut self, depth: usize, member: &mut dyn FnMut(String, Raw<'a>)) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err(Problem::TooDeep { path: Path::default() });
        }
        self.at += 1; // {
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        let mut keys = HashSet::new();
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.not_json("expected a key (a string)"));
            }
            let key = self.string()?;
            self.whitespace();
            if self.peek() != Some(b':') {
                return Err(self.not_json("expected ':' after the key"));
            }
            self.at += 1;
            self.whitespace();
            let value = self
                .value(depth)
                .map_err(|problem| within(problem, Segment::Key(key.clone())))?;
            if !keys.insert(key.clone()) {
                return Err(Problem::DuplicateKey {
                    path: Path::default(),
                    key,
                });
            }
            member(key, value);
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.whitespace();
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.not_json("expected ',' or '}' in an object")),
            }
        }
    }

    /// An array whose elements are at `depth`; `element` sees each one.
    fn array(&mut self, depth: usize, element: &mut dyn FnMut(Raw<'a>)) -> Result<(), Problem> {
        if depth > MAX_DEPTH {
            return Err(Problem::TooDeep { path: Path::default() });
        }
        self.at += 1; // [
        self.whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(());
        }
        let mut index = 0;
        loop {
            let value = self
                .value(depth)
                .map_err(|problem| within(problem, Segment::Index(index)))?;
            element(value);
            index += 1;
            self.whitespace();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.whitespace();
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.not_json("expected ',' or ']' in an array")),
            }
        }
    }

    /// A string, decoded (escapes, surrogate pairs: serde_json's rules); the reader moves past it.
    fn string(&mut self) -> Result<String, Problem> {
        let start = self.at;
        self.at += 1; // "
        loop {
            match self.peek() {
                None => return Err(self.not_json("a string without its closing quote")),
                Some(b'"') => break,
                Some(b'\\') => self.at += 2,
                Some(0x00..=0x1f) => return Err(self.not_json("a control character in a string (escape it)")),
                Some(_) => self.at += 1,
            }
        }
        self.at += 1; // "
        let token = &self.text[start..self.at];
        // The error points at the string's start, where the reader found it.
        serde_json::from_str(token).map_err(|e| {
            self.not_json_at(
                start,
                &format!("a string that does not decode ({})", without_position(&e)),
            )
        })
    }

    /// A number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as written.
    fn number(&mut self) -> Result<(), Problem> {
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.not_json("a number without digits")),
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.not_json("a number without digits after its '.'"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.not_json("a number without digits in its exponent"));
            }
            self.digits();
        }
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }

    fn literal(&mut self, word: &str, kind: Kind) -> Result<Kind, Problem> {
        if self.bytes[self.at..].starts_with(word.as_bytes()) {
            self.at += word.len();
            Ok(kind)
        } else {
            Err(self.not_json("expected a value"))
        }
    }
}

/// A problem found inside a member or element, with that step added to its path.
fn within(problem: Problem, segment: Segment) -> Problem {
    match problem {
        Problem::DuplicateKey { mut path, key } => {
            path.0.push(segment);
            Problem::DuplicateKey { path, key }
        }
        Problem::TooDeep { mut path } => {
            path.0.push(segment);
            Problem::TooDeep { path }
        }
        not_json => not_json,
    }
}

/// serde_json's message without its " at line 1 column N" (the position is the reader's).
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(text: &str) -> String {
        read(text).expect_err(text).to_string()
    }

    fn nested(depth: usize) -> String {
        format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn values_are_kept_as_written() {
        let big = r#"{"amount": 123456789012345678901234567890, "rate": 1.10, "tiny": 1E-400, "huge": -1e400}"#;
        let raw = read(big).unwrap();
        assert_eq!(raw.kind, Kind::Object);
        let members = raw.members().unwrap();
        assert_eq!(members["amount"].text, "123456789012345678901234567890");
        assert_eq!(members["rate"].text, "1.10");
        assert_eq!(members["tiny"].text, "1E-400");
        assert_eq!(members["huge"].text, "-1e400");
        assert_eq!(members["huge"].kind, Kind::Number);
        assert_eq!(read("  [1, \"a\"]\n").unwrap().text, "[1, \"a\"]");
        assert_eq!(read("\"\\u00e9\\/\"").unwrap().string().unwrap(), "é/");
        let elements = read("[null, true, false, {}, []]").unwrap().elements().unwrap();
        let kinds: Vec<Kind> = elements.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [Kind::Null, Kind::Boolean, Kind::Boolean, Kind::Object, Kind::Array]
        );
    }

    #[test]
    fn minified_drops_only_whitespace_between_tokens() {
        let text = "{ \"a b\" : [ 1 ,\n\t2.50 ] , \"c\\\" d\" : \"x  \\\\\" }";
        assert_eq!(minified(text), "{\"a b\":[1,2.50],\"c\\\" d\":\"x  \\\\\"}");
        assert_eq!(
            minified("123456789012345678901234567890"),
            "123456789012345678901234567890"
        );
    }

    #[test]
    fn text_that_is_not_json_says_where() {
        assert_eq!(
            problem("not json"),
            "the event is not JSON: expected a value at line 1, column 1"
        );
        assert_eq!(
            problem(""),
            "the event is not JSON: expected a value, found the end at line 1, column 1"
        );
        assert_eq!(
            problem("{\"token\": \"t\"}\n{}"),
            "the event is not JSON: more after the value at line 2, column 1"
        );
        assert!(problem("{\"a\": 01}").contains("expected ',' or '}' in an object at line 1, column 8"));
        assert!(problem("{\"a\": 1.}").contains("without digits after its '.'"));
        assert!(problem("{\"a\": 1e}").contains("without digits in its exponent"));
        assert!(problem("{\"a\": -}").contains("a number without digits"));
        assert!(problem("{a: 1}").contains("expected a key"));
        assert!(problem("{\"a\" 1}").contains("expected ':'"));
        assert!(problem("[1 2]").contains("expected ',' or ']'"));
        assert!(problem("[1,]").contains("expected a value at line 1, column 4"));
        assert!(problem("{\"a\": tru}").contains("expected a value"));
        assert!(problem("\"abc").contains("without its closing quote"));
        assert!(problem("\"a\u{1}b\"").contains("a control character"));
        assert!(problem("\"\\x\"").contains("does not decode"), "{}", problem("\"\\x\""));
        assert_eq!(
            problem("\"\\ud800\""),
            "the event is not JSON: a string that does not decode (unexpected end of hex escape) at line 1, column 1"
        );
        assert!(
            problem("[\"é\", \"\\u12\"]").contains("column 7"),
            "{}",
            problem("[\"é\", \"\\u12\"]")
        );
        assert!(problem("\"\\").contains("without its closing quote"));
    }

    #[test]
    fn a_key_given_twice_is_refused_at_any_depth() {
        assert_eq!(
            problem(r#"{"token": "a", "token": "b"}"#),
            "the event gives the key \"token\" twice: send each key once, so that what is answered is what you meant"
        );
        assert!(
            problem(r#"{"output": {"items": [{}, {"id": 1, "id": 2}]}}"#)
                .starts_with("\"output.items[1]\" gives the key \"id\" twice")
        );
        // Keys compare decoded: "a" and "\u0061" are one key.
        assert!(problem(r#"{"a": 1, "\u0061": 2}"#).contains("gives the key \"a\" twice"));
        assert!(problem(r#"{"x": {"a b": {"k": 1, "k": 1}}}"#).starts_with("\"x[\"a b\"]\" gives"));
        assert!(read(r#"{"a": {"a": {"a": 1}}, "b": [{"a": 1}, {"a": 2}]}"#).is_ok());
    }

    #[test]
    fn nesting_at_and_past_the_bound() {
        assert!(read(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(
            problem(&nested(MAX_DEPTH + 1)),
            format!(
                "\"{}\" nests arrays and objects deeper than 64 levels (the event itself counted): flatten it",
                "[0]".repeat(MAX_DEPTH)
            )
        );
        let objects = |depth: usize| format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert!(read(&objects(MAX_DEPTH)).is_ok());
        assert!(problem(&objects(MAX_DEPTH + 1)).starts_with(&format!("\"{}\" nests", vec!["a"; MAX_DEPTH].join("."))));
        // Far past it: refused, without walking it all.
        assert!(problem(&nested(1_000_000)).contains("deeper than 64"));
    }
}
