//! The paths a step's `input_path` may hold: what Step Functions reads in the message's `"input.$"`, and
//! no more than the two references sfngen is held to accept.
//!
//! The States Language (<https://states-language.net/spec.html#path>) says a Path is "a string, beginning
//! with `$`", in the syntax of Jayway JsonPath; `$$` reads the context object instead of the state input.
//! asl-validator 4.0.0 checks the value of a `.$` field with asl-path-validator's grammar. sfngen accepts a
//! subset of both, each form written the one way both read alike:
//!
//! ```text
//! path     = ("$$" | "$") segment*
//! segment  = "." name | ".*" | ".." (name | "*") | "[" bracket "]"
//! name     = (letter | digit | "_" | "-")+             letters and digits in the Unicode sense
//! bracket  = "*" | quoted | index ("," index)* | slice
//! quoted   = "'" text "'" | '"' text '"'                text: no quote of its kind, no "\", no control
//! index    = "-"? digit+                                at most 2147483647 (Jayway reads a Java int)
//! slice    = index ":" index? | ":" index
//! ```
//!
//! Refused, though one reference or the other reads them: spaces anywhere (asl-path-validator skips them
//! around brackets, Jayway refuses them in a dotted name), backslash escapes (the States Language's
//! examples have them, Jayway has none), filters and functions (`[?(...)]`, `.length()`, intrinsic
//! functions such as `States.Format(...)`), and `$name`, which Step Functions reads as a variable: this
//! workflow assigns none.

/// Where a path stops being one, and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    /// The byte of the path where it goes wrong (its length: it ends too soon).
    pub at: usize,
    /// What is wrong there, to follow "at byte N: ".
    pub problem: String,
}

/// The largest index Jayway JsonPath reads (a Java `int`).
const MAX_INDEX: u64 = i32::MAX as u64;

/// Checks `text` against the grammar above.
pub fn check(text: &str) -> Result<(), PathError> {
    let mut p = Parser { text, at: 0 };
    p.root()?;
    while p.at < text.len() {
        p.segment()?;
    }
    Ok(())
}

struct Parser<'t> {
    text: &'t str,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn eat(&mut self, expected: char) -> bool {
        if self.peek() == Some(expected) {
            self.at += expected.len_utf8();
            true
        } else {
            false
        }
    }

    fn fail<T>(&self, problem: impl Into<String>) -> Result<T, PathError> {
        Err(PathError {
            at: self.at,
            problem: problem.into(),
        })
    }

    /// What stands at the current byte, for a message: `"x"`, or the end of the path.
    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("found {:?}", c.to_string()),
            None => "found the end of the path".into(),
        }
    }

    fn root(&mut self) -> Result<(), PathError> {
        if !self.eat('$') {
            return self.fail(format!(
                "a path starts with \"$\" (the state input) or \"$$\" (the context object), {}",
                self.found()
            ));
        }
        self.eat('$');
        if self.peek().is_some_and(is_name_char) {
            return self.fail(
                "\"$\" followed by a name reads a variable, and this workflow assigns none (\"$.name\" is a field of \
                 the state input)",
            );
        }
        Ok(())
    }

    fn segment(&mut self) -> Result<(), PathError> {
        if self.eat('.') {
            if self.eat('.') {
                return self.name_or_wildcard("after \"..\"");
            }
            return self.name_or_wildcard("after \".\"");
        }
        if self.eat('[') {
            self.bracket()?;
            if !self.eat(']') {
                return self.fail(format!("expected \"]\", {}", self.found()));
            }
            return Ok(());
        }
        self.fail(format!("expected \".\" or \"[\", {}", self.found()))
    }

    fn name_or_wildcard(&mut self, place: &str) -> Result<(), PathError> {
        if self.eat('*') {
            return Ok(());
        }
        let start = self.at;
        while let Some(c) = self.peek().filter(|c| is_name_char(*c)) {
            self.at += c.len_utf8();
        }
        if self.at == start {
            return self.fail(format!(
                "expected a name (letters, digits, \"_\", \"-\") or \"*\" {place}, {}; write other names as ['...']",
                self.found()
            ));
        }
        if self.peek() == Some('(') {
            return self.fail("functions such as length() are not read here");
        }
        Ok(())
    }

    fn bracket(&mut self) -> Result<(), PathError> {
        match self.peek() {
            Some('*') => {
                self.eat('*');
                Ok(())
            }
            Some(quote @ ('\'' | '"')) => self.quoted(quote),
            Some(':') => {
                self.eat(':');
                self.index()
            }
            Some(c) if c == '-' || c.is_ascii_digit() => self.indexes(),
            Some('?' | '(') => self.fail("filters and expressions are not read here; select with names and indexes"),
            _ => self.fail(format!(
                "expected a quoted name, an index, a slice or \"*\" after \"[\", {}",
                self.found()
            )),
        }
    }

    fn quoted(&mut self, quote: char) -> Result<(), PathError> {
        self.eat(quote);
        let start = self.at;
        loop {
            match self.peek() {
                None => return self.fail(format!("expected the closing {quote} of the name, {}", self.found())),
                Some(c) if c == quote => break,
                Some('\\') => return self.fail("escapes are not read here; a quoted name is taken as written"),
                Some(c) if c.is_control() => return self.fail(format!("{:?} is a control character", c.to_string())),
                Some(c) => self.at += c.len_utf8(),
            }
        }
        if self.at == start {
            return self.fail("a quoted name is not empty");
        }
        self.eat(quote);
        Ok(())
    }

    /// `index ("," index)*`, or `index ":" index?`.
    fn indexes(&mut self) -> Result<(), PathError> {
        self.index()?;
        if self.eat(':') {
            if self.peek() == Some(']') {
                return Ok(());
            }
            return self.index();
        }
        while self.eat(',') {
            self.index()?;
        }
        Ok(())
    }

    fn index(&mut self) -> Result<(), PathError> {
        self.eat('-');
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.text[start..self.at];
        if digits.is_empty() {
            return self.fail(format!("expected a whole number, {}", self.found()));
        }
        if digits.parse::<u64>().ok().is_none_or(|n| n > MAX_INDEX) {
            self.at = start;
            return self.fail(format!("the index {digits} is larger than {MAX_INDEX}"));
        }
        Ok(())
    }
}

/// A character of a dotted name.
/// For a path [`check`] accepted: where it selects more than one node, which a reference path may not
/// (<https://states-language.net/spec.html#ref-paths>: no `*`, `..`, `,` or `:` outside a quoted name), and why.
pub fn not_a_reference_path(text: &str) -> Option<(usize, String)> {
    let mut quote = None;
    let bytes = text.as_bytes();
    for (at, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '*') => return Some((at, "a wildcard selects several nodes".into())),
            (None, '.') if bytes.get(at + 1) == Some(&b'.') => {
                return Some((at, "`..` selects several nodes".into()));
            }
            (None, ',') => return Some((at, "a list of indexes selects several nodes".into())),
            (None, ':') => return Some((at, "a slice selects several nodes".into())),
            _ => {}
        }
    }
    None
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_both_references_read() {
        for path in [
            "$",
            "$$",
            "$.order",
            "$.order.id",
            "$.order-id",
            "$.line_items[0]",
            "$.a[-1]",
            "$.a[0,2,4]",
            "$.a[1:3]",
            "$.a[-3:]",
            "$.a[:2]",
            "$.a[*]",
            "$.*",
            "$..price",
            "$..*",
            "$['a key']",
            "$[\"a key\"].b",
            "$[0]",
            "$$.Execution.Input",
            "$$.Execution.Input.order",
            "$.Ж中",
            "$.a[2147483647]",
        ] {
            assert_eq!(check(path), Ok(()), "{path:?}");
        }
    }

    #[test]
    fn refuses_with_the_byte_where_it_goes_wrong() {
        for (path, at) in [
            ("$.order[", 8),
            ("", 0),
            ("order", 0),
            ("States.Format('x')", 0),
            ("$order", 1),
            ("$.a b", 3),
            ("$.a.", 4),
            ("$.", 2),
            ("$..", 3),
            ("$.a[0", 5),
            ("$.a)", 3),
            ("$.a,b", 3),
            ("$ ", 1),
            ("$.a[?(@.x > 1)]", 4),
            ("$.a.length()", 10),
            ("$['a", 4),
            ("$['']", 3),
            ("$['a\\'b']", 4),
            ("$.a[2147483648]", 4),
            ("$.a[99999999999999999999999]", 4),
            ("$.a[1:2:3]", 7),
            ("$.a[]", 4),
            ("$.a[-]", 5),
            ("$.a\\.b", 3),
            ("$.é\u{7}", 4),
        ] {
            let err = check(path).expect_err(path);
            assert_eq!(err.at, at, "{path:?}: {}", err.problem);
            assert!(path.is_char_boundary(err.at), "{path:?}");
        }
    }

    #[test]
    fn a_reference_path_selects_one_node() {
        assert_eq!(not_a_reference_path("$.items"), None);
        assert_eq!(not_a_reference_path("$['a.b*,c:d'].x[0]"), None);
        assert_eq!(not_a_reference_path("$.a[*]").map(|p| p.0), Some(4));
        assert_eq!(not_a_reference_path("$..a").map(|p| p.0), Some(1));
        assert_eq!(not_a_reference_path("$.a[0,1]").map(|p| p.0), Some(5));
        assert_eq!(not_a_reference_path("$.a[1:]").map(|p| p.0), Some(5));
    }

    #[test]
    fn says_what_a_variable_reads() {
        let err = check("$order").unwrap_err();
        assert!(err.problem.contains("variable"), "{}", err.problem);
    }
}
