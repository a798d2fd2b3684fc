//! A small HCL writer whose output is already `terraform fmt`-clean.
//!
//! hcl-rs builds and escapes expressions but neither aligns `=` nor keeps comments, so bodies are laid
//! out here: two-space indents, a blank line between blocks, comments where a reviewer would ask
//! "why?", and `=` aligned across each run of consecutive single-line attributes, which is the rule
//! `terraform fmt` applies (`formatCells` in hashicorp/hcl `hclwrite/format.go`: a line that opens a
//! multi-line value, a comment or a blank line ends the run).
//!
//! Inline checkov skips are data, not comment text: [`Block::checkov_skip`] records one, the file writes it
//! as `#checkov:skip=ID: reason`, and [`File::checkov_skips`] lists them for the README.

use std::borrow::Cow;

/// An HCL expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// One line of HCL, written as is.
    Raw(String),
    /// An object constructor over several lines.
    Object(Vec<(Cow<'static, str>, Expr)>),
    /// A tuple: inline when it has at most one element, one element a line otherwise.
    List(Vec<Expr>),
    /// A function call; a multi-line argument opens on the call's line: `f({` … `})`.
    Call(Cow<'static, str>, Vec<Expr>),
}

/// A string literal, escaped by hcl-rs (including `${` → `$${`, so that no value becomes a template).
pub fn string(text: &str) -> Expr {
    Expr::Raw(quoted(text))
}

/// `text` as an HCL string literal. Most strings need no escape at all and are quoted as they are;
/// the rest go through hcl-rs, which formats any string (an error would be a bug in it or here).
fn quoted(text: &str) -> String {
    if needs_no_escape(text) {
        let mut out = String::with_capacity(text.len() + 2);
        out.push('"');
        out.push_str(text);
        out.push('"');
        return out;
    }
    let expr = hcl::Expression::String(text.to_string());
    let formatted = hcl::format::to_string(&expr)
        .unwrap_or_else(|err| panic!("bug: hcl-rs could not format the string literal {text:?}: {err}"));
    escape_missed_directives(&formatted)
}

/// hcl-rs 0.19 leaves the `%{` of `$%{` as it is (it escapes `${` and a `%{` after anything else), and Terraform
/// then reads a template directive: a `%{` or `${` in its output that is not already doubled gets its sigil
/// doubled (`$%{` → `$%%{`, which Terraform reads as `$` and a literal `%{`).
fn escape_missed_directives(formatted: &str) -> String {
    let chars: Vec<char> = formatted.chars().collect();
    let mut out = String::with_capacity(formatted.len() + 2);
    for (i, &c) in chars.iter().enumerate() {
        let opens = (c == '%' || c == '$') && chars.get(i + 1) == Some(&'{');
        let doubled = i > 0 && chars[i - 1] == c;
        if opens && !doubled {
            out.push(c);
        }
        out.push(c);
    }
    out
}

/// Printable ASCII without `"`, `\` or the start of a template sequence (`${`, `%{`): quoted, such a string
/// is its own HCL literal.
fn needs_no_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        (0x20..0x7f).contains(&b)
            && b != b'"'
            && b != b'\\'
            && !((b == b'$' || b == b'%') && bytes.get(i + 1) == Some(&b'{'))
    })
}

/// `text` escaped for use inside an HCL quoted template, without the quotes: to splice literal text
/// next to an interpolation such as `${var.name}`.
pub fn template_text(text: &str) -> String {
    let quoted = quoted(text);
    quoted[1..quoted.len() - 1].to_string()
}

/// A number literal.
pub fn number(n: u64) -> Expr {
    Expr::Raw(n.to_string())
}

/// A bool literal.
pub fn boolean(b: bool) -> Expr {
    Expr::Raw(b.to_string())
}

/// A reference or any other one-line expression, such as `aws_sqs_queue.main.arn`.
pub fn raw(text: impl Into<String>) -> Expr {
    Expr::Raw(text.into())
}

/// A list of string literals.
pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Expr {
    Expr::List(items.into_iter().map(|s| string(s.as_ref())).collect())
}

/// One item of a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `name = value`.
    Attribute(Cow<'static, str>, Expr),
    /// A nested block.
    Block(Block),
    /// `# text`, one line per line of text.
    Comment(String),
    /// `#checkov:skip=ID: reason`: a checkov check skipped for this block, and why.
    CheckovSkip(CheckovSkip),
    /// An empty line, to group attributes.
    Blank,
}

/// An inline checkov skip, as the README lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckovSkip {
    /// Check id, such as `CKV_AWS_117`.
    pub check: String,
    /// Address of the top-level block that holds the skip, such as `aws_lambda_function.callback`.
    pub resource: String,
    /// Why the check does not apply.
    pub reason: String,
}

/// A block: `kind "label" "label" { … }`.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    kind: Cow<'static, str>,
    labels: Vec<String>,
    items: Vec<Item>,
}

impl Block {
    /// A block with the given type and labels.
    pub fn new<L: Into<String>>(kind: impl Into<Cow<'static, str>>, labels: impl IntoIterator<Item = L>) -> Self {
        Block {
            kind: kind.into(),
            labels: labels.into_iter().map(Into::into).collect(),
            items: Vec::new(),
        }
    }

    /// The same body under another block type: a `statement` as a `dynamic` block's `content`.
    pub fn renamed(mut self, kind: &'static str) -> Self {
        self.kind = Cow::Borrowed(kind);
        self.labels.clear();
        self
    }

    /// Adds `name = value`.
    pub fn attr(mut self, name: impl Into<Cow<'static, str>>, value: Expr) -> Self {
        self.items.push(Item::Attribute(name.into(), value));
        self
    }

    /// Adds `name = value` when there is a value.
    pub fn attr_opt(self, name: &'static str, value: Option<Expr>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// Adds a nested block, separated from what precedes it by a blank line.
    pub fn block(mut self, block: Block) -> Self {
        self.blank_if_needed();
        self.items.push(Item::Block(block));
        self
    }

    /// Adds a comment line (or several, split on `\n`).
    pub fn comment(mut self, text: &str) -> Self {
        self.items.push(Item::Comment(text.to_string()));
        self
    }

    /// Skips a checkov check for this block, with the reason (one line) a reviewer reads beside it.
    pub fn checkov_skip(mut self, check: &str, reason: &str) -> Self {
        assert!(
            !reason.contains('\n'),
            "bug: the reason for skipping {check} spans lines"
        );
        self.items.push(Item::CheckovSkip(CheckovSkip {
            check: check.to_string(),
            resource: String::new(),
            reason: reason.to_string(),
        }));
        self
    }

    /// Adds an empty line.
    pub fn blank(mut self) -> Self {
        self.blank_if_needed();
        self
    }

    /// A blank line, unless the body is empty or already ends with a blank line or a comment
    /// (a comment belongs to what follows it).
    fn blank_if_needed(&mut self) {
        if !matches!(
            self.items.last(),
            None | Some(Item::Blank) | Some(Item::Comment(_)) | Some(Item::CheckovSkip(_))
        ) {
            self.items.push(Item::Blank);
        }
    }

    /// The address of a top-level block: `type.name` for a resource, `data.type.name` for a data source.
    fn address(&self) -> String {
        let labels = self.labels.join(".");
        match self.kind.as_ref() {
            "data" => format!("data.{labels}"),
            _ => labels,
        }
    }

    /// The checkov skips in this block and its nested blocks, in order, attributed to `resource`.
    fn collect_skips(&self, resource: &str, out: &mut Vec<CheckovSkip>) {
        for item in &self.items {
            match item {
                Item::CheckovSkip(skip) => out.push(CheckovSkip {
                    resource: resource.to_string(),
                    ..skip.clone()
                }),
                Item::Block(inner) => inner.collect_skips(resource, out),
                Item::Attribute(..) | Item::Comment(_) | Item::Blank => {}
            }
        }
    }
}

/// A file: a header, then top-level blocks separated by blank lines, each with an optional comment.
#[derive(Debug, Default)]
pub struct File {
    header: Vec<String>,
    blocks: Vec<(Option<String>, Block)>,
}

impl File {
    /// A file that starts with these comment lines.
    pub fn new(header: &str) -> Self {
        File {
            header: header.lines().map(str::to_string).collect(),
            blocks: Vec::new(),
        }
    }

    /// Adds a top-level block.
    pub fn push(&mut self, block: Block) {
        self.blocks.push((None, block));
    }

    /// Adds a top-level block with a comment above it.
    pub fn push_commented(&mut self, comment: &str, block: Block) {
        self.blocks.push((Some(comment.to_string()), block));
    }

    /// Adds a group of top-level blocks with one comment above the first (nothing when the group is empty).
    pub fn push_group(&mut self, comment: &str, blocks: impl IntoIterator<Item = Block>) {
        for (index, block) in blocks.into_iter().enumerate() {
            let comment = (index == 0).then(|| comment.to_string());
            self.blocks.push((comment, block));
        }
    }

    /// The type and labels of each top-level block, in order: `resource "aws_sqs_queue" "main" {}` gives
    /// `("resource", ["aws_sqs_queue", "main"])`.
    pub fn declarations(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.blocks
            .iter()
            .map(|(_, block)| (block.kind.as_ref(), block.labels.as_slice()))
    }

    /// Every checkov skip in the file, in the order the file lists them.
    pub fn checkov_skips(&self) -> Vec<CheckovSkip> {
        let mut skips = Vec::new();
        for (_, block) in &self.blocks {
            block.collect_skips(&block.address(), &mut skips);
        }
        skips
    }

    /// Renders the file, fmt-clean, ending in one newline.
    pub fn render(&self) -> String {
        let mut lines = Vec::new();
        for text in &self.header {
            lines.push(Line::other(0, format!("# {text}").trim_end().to_string()));
        }
        for (comment, block) in &self.blocks {
            if !lines.is_empty() {
                lines.push(Line::blank());
            }
            if let Some(comment) = comment {
                push_comment(&mut lines, 0, comment);
            }
            write_block(&mut lines, 0, block);
        }
        align(lines)
    }
}

/// One output line. `key` is set for single-line attributes, whose `=` is aligned with neighbours. Text
/// that the blocks hold as it is written (names, references, literals) is borrowed, not copied.
struct Line<'a> {
    indent: usize,
    key: Option<Cow<'a, str>>,
    text: Cow<'a, str>,
}

impl<'a> Line<'a> {
    fn other(indent: usize, text: impl Into<Cow<'a, str>>) -> Self {
        Line {
            indent,
            key: None,
            text: text.into(),
        }
    }

    fn blank() -> Self {
        Line::other(0, "")
    }

    /// About the bytes the line takes in the file (a little less when `=` is aligned).
    fn width_estimate(&self) -> usize {
        2 * self.indent + self.key.as_ref().map_or(0, |key| key.len() + 3) + self.text.len() + 1
    }
}

/// Comment lines: `# ` and each line of `text`.
fn push_comment(lines: &mut Vec<Line<'_>>, indent: usize, text: &str) {
    for line in text.lines() {
        let line = line.trim_end();
        let mut comment = String::with_capacity(line.len() + 2);
        comment.push('#');
        if !line.is_empty() {
            comment.push(' ');
            comment.push_str(line);
        }
        lines.push(Line::other(indent, comment));
    }
}

fn write_block<'a>(lines: &mut Vec<Line<'a>>, indent: usize, block: &'a Block) {
    let mut head = block.kind.to_string();
    for label in &block.labels {
        head.push(' ');
        head.push_str(&quoted(label));
    }
    let items: Vec<&Item> = {
        let mut items: Vec<&Item> = block.items.iter().collect();
        while matches!(items.last(), Some(Item::Blank)) {
            items.pop();
        }
        items
    };
    if items.is_empty() {
        lines.push(Line::other(indent, format!("{head} {{}}")));
        return;
    }
    lines.push(Line::other(indent, format!("{head} {{")));
    for item in items {
        match item {
            Item::Attribute(name, value) => write_attribute(lines, indent + 1, name, value),
            Item::Block(inner) => write_block(lines, indent + 1, inner),
            Item::Comment(text) => push_comment(lines, indent + 1, text),
            Item::CheckovSkip(skip) => lines.push(Line::other(
                indent + 1,
                format!("#checkov:skip={}: {}", skip.check, skip.reason),
            )),
            Item::Blank => lines.push(Line::blank()),
        }
    }
    lines.push(Line::other(indent, "}"));
}

fn write_attribute<'a>(lines: &mut Vec<Line<'a>>, indent: usize, name: &'a str, value: &'a Expr) {
    match inline(value) {
        Some(text) => lines.push(Line {
            indent,
            key: Some(object_key(name)),
            text,
        }),
        None => {
            let mut body = Vec::new();
            let opening = write_multiline(&mut body, indent, value);
            lines.push(Line::other(indent, format!("{} = {opening}", object_key(name))));
            lines.extend(body);
        }
    }
}

/// The expression on one line, if it fits on one.
fn inline(expr: &Expr) -> Option<Cow<'_, str>> {
    match expr {
        Expr::Raw(text) => Some(Cow::Borrowed(text)),
        Expr::Object(fields) if fields.is_empty() => Some(Cow::Borrowed("{}")),
        Expr::Object(_) => None,
        Expr::List(items) if items.len() <= 1 => {
            let inner: Option<Vec<Cow<'_, str>>> = items.iter().map(inline).collect();
            Some(Cow::Owned(format!("[{}]", inner?.join(", "))))
        }
        Expr::List(_) => None,
        Expr::Call(name, args) => {
            let inner: Option<Vec<Cow<'_, str>>> = args.iter().map(inline).collect();
            Some(Cow::Owned(format!("{name}({})", inner?.join(", "))))
        }
    }
}

/// Whether [`inline`] writes the expression on one line (without writing it).
fn fits_one_line(expr: &Expr) -> bool {
    match expr {
        Expr::Raw(_) => true,
        Expr::Object(fields) => fields.is_empty(),
        Expr::List(items) => items.len() <= 1 && items.iter().all(fits_one_line),
        Expr::Call(_, args) => args.iter().all(fits_one_line),
    }
}

/// Writes a multi-line expression whose first line continues the caller's line; returns that first
/// part and pushes the rest (ending with the closing bracket line) to `lines`.
fn write_multiline<'a>(lines: &mut Vec<Line<'a>>, indent: usize, expr: &'a Expr) -> Cow<'a, str> {
    match expr {
        Expr::Object(fields) => {
            for (key, value) in fields {
                write_attribute(lines, indent + 1, key, value);
            }
            lines.push(Line::other(indent, "}"));
            Cow::Borrowed("{")
        }
        Expr::List(items) => {
            for item in items {
                match inline(item) {
                    Some(text) => lines.push(Line::other(indent + 1, format!("{text},"))),
                    None => {
                        let mut body = Vec::new();
                        let opening = write_multiline(&mut body, indent + 1, item);
                        lines.push(Line::other(indent + 1, opening));
                        if let Some(last) = body.last_mut() {
                            last.text.to_mut().push(',');
                        }
                        lines.extend(body);
                    }
                }
            }
            lines.push(Line::other(indent, "]"));
            Cow::Borrowed("[")
        }
        Expr::Call(name, args) => {
            // One argument spans lines: it opens on the call's line and closes before the rest.
            let split = args.iter().position(|a| !fits_one_line(a)).unwrap_or(args.len());
            let inline_args = |part: &'a [Expr]| -> Vec<Cow<'a, str>> { part.iter().filter_map(inline).collect() };
            let mut head = inline_args(&args[..split]);
            if let Some(wide) = args.get(split) {
                head.push(write_multiline(lines, indent, wide));
                let tail = inline_args(&args[split + 1..]);
                if let Some(closing) = lines.last_mut() {
                    let closing = closing.text.to_mut();
                    for arg in tail {
                        closing.push_str(", ");
                        closing.push_str(&arg);
                    }
                    closing.push(')');
                }
                Cow::Owned(format!("{name}({}", head.join(", ")))
            } else {
                Cow::Owned(format!("{name}({})", head.join(", ")))
            }
        }
        Expr::Raw(text) => Cow::Borrowed(text),
    }
}

/// Words that change the meaning of an object key written bare (`{ for = 1 }` starts a for expression).
const KEYWORDS: &[&str] = &["for", "in", "if", "null", "true", "false"];

/// Object keys and attribute names: bare when they are plain identifiers, quoted otherwise.
fn object_key(name: &str) -> Cow<'_, str> {
    let mut chars = name.chars();
    let ident = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !KEYWORDS.contains(&name);
    if ident {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(quoted(name))
    }
}

/// Joins lines, aligning `=` across each run of consecutive single-line attributes.
fn align(lines: Vec<Line<'_>>) -> String {
    let mut out = String::with_capacity(lines.iter().map(Line::width_estimate).sum());
    let mut start = 0;
    while start < lines.len() {
        let run_end = lines[start..]
            .iter()
            .position(|l| l.key.is_none())
            .map(|p| start + p)
            .unwrap_or(lines.len());
        if run_end == start {
            let line = &lines[start];
            if !line.text.is_empty() {
                push_indent(&mut out, line.indent);
                out.push_str(&line.text);
            }
            out.push('\n');
            start += 1;
            continue;
        }
        let width = lines[start..run_end]
            .iter()
            .map(|l| l.key.as_ref().map_or(0, |k| k.chars().count()))
            .max()
            .unwrap_or(0);
        for line in &lines[start..run_end] {
            let key = line.key.as_deref().unwrap_or("");
            push_indent(&mut out, line.indent);
            out.push_str(key);
            out.extend(std::iter::repeat_n(' ', width - key.chars().count()));
            out.push_str(" = ");
            out.push_str(&line.text);
            out.push('\n');
        }
        start = run_end;
    }
    out
}

/// Two spaces per level.
fn push_indent(out: &mut String, indent: usize) {
    for _ in 0..indent {
        out.push_str("  ");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_runs_and_breaks_them_at_multiline_values() {
        let mut file = File::new("Code generated. DO NOT EDIT.");
        file.push(
            Block::new("resource", ["aws_sqs_queue", "main"])
                .attr("name", string("a"))
                .attr("visibility_timeout_seconds", number(300))
                .attr(
                    "redrive_policy",
                    Expr::Call(
                        "jsonencode".into(),
                        vec![Expr::Object(vec![
                            ("deadLetterTargetArn".into(), raw("aws_sqs_queue.dlq.arn")),
                            ("maxReceiveCount".into(), number(5)),
                        ])],
                    ),
                )
                .attr("tags", raw("local.tags")),
        );
        file.push(Block::new("data", ["aws_partition", "current"]));
        assert_eq!(
            file.render(),
            r#"# Code generated. DO NOT EDIT.

resource "aws_sqs_queue" "main" {
  name                       = "a"
  visibility_timeout_seconds = 300
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 5
  })
  tags = local.tags
}

data "aws_partition" "current" {}
"#
        );
    }

    #[test]
    fn checkov_skips_are_written_and_listed_with_their_top_level_block() {
        let mut file = File::new("h");
        file.push(
            Block::new("resource", ["aws_lambda_function", "callback"])
                .checkov_skip("CKV_AWS_117", "no VPC needed.")
                .attr("runtime", string("provided.al2023")),
        );
        file.push(
            Block::new("data", ["aws_iam_policy_document", "kms"])
                .block(Block::new("statement", Vec::<String>::new()).checkov_skip("CKV_AWS_109", "root.")),
        );
        assert_eq!(
            file.render(),
            "# h\n\nresource \"aws_lambda_function\" \"callback\" {\n  #checkov:skip=CKV_AWS_117: no VPC needed.\n  runtime = \"provided.al2023\"\n}\n\ndata \"aws_iam_policy_document\" \"kms\" {\n  statement {\n    #checkov:skip=CKV_AWS_109: root.\n  }\n}\n"
        );
        let listed: Vec<(String, String, String)> = file
            .checkov_skips()
            .into_iter()
            .map(|s| (s.check, s.resource, s.reason))
            .collect();
        assert_eq!(
            listed,
            [
                (
                    "CKV_AWS_117".into(),
                    "aws_lambda_function.callback".into(),
                    "no VPC needed.".into()
                ),
                (
                    "CKV_AWS_109".into(),
                    "data.aws_iam_policy_document.kms".into(),
                    "root.".into()
                ),
            ]
        );
    }

    #[test]
    fn keywords_are_quoted_as_object_keys() {
        assert_eq!(object_key("for"), "\"for\"");
        assert_eq!(object_key("null"), "\"null\"");
        assert_eq!(object_key("format"), "format");
    }

    #[test]
    fn strings_are_escaped_and_never_templates() {
        assert_eq!(string("a\"b${c}"), Expr::Raw(r#""a\"b$${c}""#.into()));
        // hcl-rs alone writes `$%{` as it is, a template directive to Terraform.
        assert_eq!(string("${$%{ if x }"), Expr::Raw(r#""$${$%%{ if x }""#.into()));
        assert_eq!(string("a\"$%{"), Expr::Raw(r#""a\"$%%{""#.into()));
    }

    #[test]
    fn strings_quoted_without_hcl_rs_are_what_hcl_rs_writes() {
        let hcl_rs = |text: &str| hcl::format::to_string(&hcl::Expression::String(text.into())).unwrap();
        let mut texts: Vec<String> = [
            "",
            "plain",
            "aws:SecureTransport",
            "$",
            "%",
            "$ {",
            "a$",
            "a%",
            "100%",
            "$$",
            "${",
            "%{",
            "$${x}",
            "%%{x}",
            "a\"b",
            "back\\slash",
            "tab\t",
            "new\nline",
            "\u{7f}",
            "\u{1b}[0m",
            "é",
            "日本",
            "emoji 🎉",
            "~!@#&*()[]<>?/|",
        ]
        .map(String::from)
        .to_vec();
        // Every printable ASCII character alone, and before and after `$`, `%` and `{`.
        for c in (0x20u8..0x7f).map(char::from) {
            texts.extend([
                c.to_string(),
                format!("${c}"),
                format!("%{c}"),
                format!("{c}{{"),
                format!("{c}$"),
            ]);
        }
        for text in &texts {
            assert_eq!(quoted(text), hcl_rs(text), "{text:?}");
        }
    }

    #[test]
    fn multi_line_lists_and_quoted_keys() {
        let mut file = File::new("h");
        file.push(
            Block::new("locals", Vec::<String>::new())
                .attr("actions", strings(["a", "b"]))
                .attr(
                    "tags",
                    Expr::Object(vec![("team:x".into(), string("y")), ("b".into(), string("z"))]),
                ),
        );
        assert_eq!(
            file.render(),
            "# h\n\nlocals {\n  actions = [\n    \"a\",\n    \"b\",\n  ]\n  tags = {\n    \"team:x\" = \"y\"\n    b        = \"z\"\n  }\n}\n"
        );
    }
}
