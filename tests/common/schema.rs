//! Checks Terraform files against the hashicorp/aws provider's typed schema.
//!
//! For every `resource` and `data` block: the type exists and is not deprecated; every attribute exists,
//! is settable (not computed-only), is not deprecated, and has a literal (or resolvable reference) of the
//! right type; every nested block is a block in the schema, is not deprecated and respects its max/min
//! items; nothing required is missing; a `dynamic "NAME"` block's `content` is checked as a `NAME` block.
//! References such as `aws_sqs_queue.main.arn` must name a block of this module and an attribute (or
//! nested block) its type has, must index a block that has `count` (`aws_x.y[0].arn`, `aws_x.y[*].arn`)
//! and only such a block, and must not read a deprecated one. A `provider "aws"` block is checked against
//! the provider's own schema when the file has it.

use std::collections::BTreeMap;

use hcl::expr::{Expression, TraversalOperator};
use serde_json::Value;

/// One schema violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where: `file: resource.type.name.attribute`.
    pub at: String,
    /// What kind of mistake, stable for tests: `unknown-type`, `unknown-attribute`, `computed-only`,
    /// `deprecated` (an attribute, block or type written in the configuration), `deprecated-reference`
    /// (a deprecated attribute or block read through a reference), `type-mismatch`, `block-as-attribute`,
    /// `attribute-as-block`, `too-many-blocks`, `missing-required`, `unknown-reference`, `index-mismatch`
    /// (a block with `count` read without an index, or one without `count` read with one).
    pub kind: &'static str,
    /// Details.
    pub detail: String,
}

/// A provider schema (trimmed to the types sfngen emits).
pub struct Schema {
    version: String,
    root: Value,
}

/// Which block a body belongs to, for the meta-arguments Terraform allows there.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    /// A `resource` or `data` block: `count`, `for_each`, `depends_on`, `provider`, `lifecycle`.
    Resource,
    /// A `provider` block: `alias` (and the old `version`).
    Provider,
    /// A nested block: no meta-arguments.
    Nested,
}

/// The built-in `terraform_data` resource (Terraform's own `terraform.io/builtin/terraform` provider, in no
/// hashicorp/aws schema): its block as `terraform providers schema -json` gives it.
static TERRAFORM_DATA: std::sync::LazyLock<Value> = std::sync::LazyLock::new(|| {
    serde_json::json!({
        "attributes": {
            "id": {"type": "string", "computed": true},
            "input": {"type": "dynamic", "optional": true},
            "output": {"type": "dynamic", "computed": true},
            "triggers_replace": {"type": "dynamic", "optional": true}
        }
    })
});

impl Level {
    fn meta_attributes(self) -> &'static [&'static str] {
        match self {
            Level::Resource => &["count", "for_each", "depends_on", "provider"],
            Level::Provider => &["alias", "version"],
            Level::Nested => &[],
        }
    }

    fn meta_blocks(self) -> &'static [&'static str] {
        match self {
            Level::Resource => &["lifecycle"],
            Level::Provider | Level::Nested => &[],
        }
    }
}

impl Schema {
    /// Loads `tests/data/provider-schema/aws-VERSION.json`.
    pub fn load(version: &str) -> Schema {
        let path = format!(
            "{}/tests/data/provider-schema/aws-{version}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        Schema::from_value(
            version,
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}")),
        )
    }

    /// A schema from its parsed JSON (the trimmed format of `tests/data/provider-schema`).
    pub fn from_value(version: &str, root: Value) -> Schema {
        Schema {
            version: version.to_string(),
            root,
        }
    }

    /// The parsed JSON, e.g. to derive a modified schema in a test.
    pub fn json(&self) -> &Value {
        &self.root
    }

    /// The provider version.
    pub fn version(&self) -> &str {
        &self.version
    }

    fn block_schema(&self, kind: &str, type_name: &str) -> Option<&Value> {
        if kind == "resource" && type_name == "terraform_data" {
            return Some(&TERRAFORM_DATA);
        }
        let section = if kind == "data" {
            "data_source_schemas"
        } else {
            "resource_schemas"
        };
        self.root.get(section)?.get(type_name)?.get("block")
    }

    /// The `provider "aws"` block's schema, when the schema file has it (a `terraform providers schema
    /// -json` dump does; the per-version 6.x dumps do not).
    fn provider_block(&self) -> Option<&Value> {
        self.root.get("provider_block")
    }

    /// Checks a set of files that form one module: `(file name, text)`.
    pub fn check_module(&self, files: &[(String, String)]) -> Vec<Violation> {
        let mut violations = Vec::new();
        let mut bodies = Vec::new();
        for (name, text) in files {
            match hcl::parse(text) {
                Ok(body) => bodies.push((name.clone(), body)),
                Err(e) => violations.push(Violation {
                    at: name.clone(),
                    kind: "parse-error",
                    detail: e.to_string(),
                }),
            }
        }
        // Every resource and data block of the module, by address, for reference checks.
        let mut declared: BTreeMap<String, Declared> = BTreeMap::new();
        for (_, body) in &bodies {
            for block in body.blocks() {
                let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
                if let [type_name, name] = labels.as_slice() {
                    let kind = block.identifier().to_string();
                    let address = if kind == "data" {
                        format!("data.{type_name}.{name}")
                    } else {
                        format!("{type_name}.{name}")
                    };
                    let counted = block.body().attributes().any(|a| a.key() == "count");
                    declared.insert(
                        address,
                        Declared {
                            kind,
                            type_name: type_name.to_string(),
                            counted,
                        },
                    );
                }
            }
        }
        let ctx = Context {
            schema: self,
            declared: &declared,
        };
        for (file, body) in &bodies {
            for block in body.blocks() {
                let kind = block.identifier();
                let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
                if kind == "resource" || kind == "data" {
                    let [type_name, name] = labels.as_slice() else { continue };
                    let at = format!("{file}: {kind}.{type_name}.{name}");
                    match self.block_schema(kind, type_name) {
                        Some(schema) => {
                            if is_deprecated(schema) {
                                let detail = format!("{type_name} is deprecated in hashicorp/aws {}", self.version);
                                push(&mut violations, at.clone(), "deprecated", detail);
                            }
                            ctx.check_body(&at, block.body(), schema, Level::Resource, &mut violations)
                        }
                        None => violations.push(Violation {
                            at,
                            kind: "unknown-type",
                            detail: format!("{type_name} is not a {kind} type of hashicorp/aws {}", self.version),
                        }),
                    }
                } else if kind == "moved" {
                    // `from` and `to` are addresses (one of them no longer declared), not expressions.
                    continue;
                } else if kind == "provider"
                    && labels.as_slice() == ["aws"]
                    && let Some(schema) = self.provider_block()
                {
                    let at = format!("{file}: provider.aws");
                    ctx.check_body(&at, block.body(), schema, Level::Provider, &mut violations);
                } else {
                    // variable, output, locals, terraform, module: check the references they make.
                    for attr in block.body().attributes() {
                        ctx.check_references(&format!("{file}: {kind}.{}", attr.key()), attr.expr(), &mut violations);
                    }
                    for inner in block.body().blocks() {
                        for attr in inner.body().attributes() {
                            ctx.check_references(
                                &format!("{file}: {kind}.{}.{}", inner.identifier(), attr.key()),
                                attr.expr(),
                                &mut violations,
                            );
                        }
                    }
                }
            }
        }
        violations
    }
}

/// A resource or data block of the module.
struct Declared {
    /// `resource` or `data`.
    kind: String,
    /// Its type, such as `aws_sqs_queue`.
    type_name: String,
    /// Whether it has `count`, so that references must index it.
    counted: bool,
}

/// A reference to a resource or data block's attribute: `aws_sqs_queue.main.arn`.
struct Reference {
    /// `type.name.attribute` (or `data.type.name.attribute`).
    address: String,
    /// What it reads, when the block is declared and its type has that attribute or nested block.
    target: Option<Target>,
    /// Whether it indexes the block as `count` requires (`None`: the block is not declared).
    index_fits: Option<bool>,
}

/// An attribute or nested block that a reference reads.
struct Target {
    /// The attribute's type (`None` for a nested block).
    ty: Option<Value>,
    /// Whether the schema marks it deprecated.
    deprecated: bool,
}

struct Context<'a> {
    schema: &'a Schema,
    declared: &'a BTreeMap<String, Declared>,
}

impl Context<'_> {
    /// Checks one block's body against its schema.
    fn check_body(&self, at: &str, body: &hcl::Body, schema: &Value, level: Level, out: &mut Vec<Violation>) {
        let attributes = schema.get("attributes").and_then(Value::as_object);
        let block_types = schema.get("block_types").and_then(Value::as_object);
        let mut present = Vec::new();
        for attr in body.attributes() {
            let key = attr.key();
            let here = format!("{at}.{key}");
            present.push(key.to_string());
            if level.meta_attributes().contains(&key) {
                continue;
            }
            let Some(spec) = attributes.and_then(|a| a.get(key)) else {
                if block_types.is_some_and(|b| b.contains_key(key)) {
                    push(
                        out,
                        here,
                        "block-as-attribute",
                        format!("`{key}` is a block: write `{key} {{ ... }}`"),
                    );
                } else {
                    push(
                        out,
                        here,
                        "unknown-attribute",
                        format!("no attribute `{key}` in the schema"),
                    );
                }
                continue;
            };
            let flag = |name: &str| spec.get(name).and_then(Value::as_bool).unwrap_or(false);
            if flag("computed") && !flag("optional") && !flag("required") {
                push(
                    out,
                    here.clone(),
                    "computed-only",
                    format!("`{key}` is computed by the provider and cannot be set"),
                );
            }
            if flag("deprecated") {
                push(out, here.clone(), "deprecated", format!("`{key}` is deprecated"));
            }
            let expected = spec.get("type").cloned().unwrap_or(Value::Null);
            if let Some(found) = self.type_of(attr.expr())
                && !type_matches(&expected, &found)
            {
                push(
                    out,
                    here.clone(),
                    "type-mismatch",
                    format!("`{key}` expects {expected}, found {found}"),
                );
            }
        }
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for block in body.blocks() {
            let (key, block) = match dynamic_content(block) {
                Ok(Some((name, content))) => (name, content),
                Ok(None) => (block.identifier(), block),
                Err(detail) => {
                    push(out, format!("{at}.dynamic"), "unknown-attribute", detail);
                    continue;
                }
            };
            let here = format!("{at}.{key}");
            if level.meta_blocks().contains(&key) {
                continue;
            }
            let Some(spec) = block_types.and_then(|b| b.get(key)) else {
                if attributes.is_some_and(|a| a.contains_key(key)) {
                    push(
                        out,
                        here,
                        "attribute-as-block",
                        format!("`{key}` is an attribute: write `{key} = ...`"),
                    );
                } else {
                    push(
                        out,
                        here,
                        "unknown-attribute",
                        format!("no block `{key}` in the schema"),
                    );
                }
                continue;
            };
            *counts.entry(key.to_string()).or_default() += 1;
            if let Some(inner) = spec.get("block") {
                if is_deprecated(inner) {
                    push(out, here.clone(), "deprecated", format!("block `{key}` is deprecated"));
                }
                self.check_body(&here, block.body(), inner, Level::Nested, out);
            }
        }
        for (key, spec) in block_types.into_iter().flatten() {
            let count = counts.get(key).copied().unwrap_or(0);
            let max = spec.get("max_items").and_then(Value::as_u64).unwrap_or(0);
            let min = spec.get("min_items").and_then(Value::as_u64).unwrap_or(0);
            if max > 0 && count as u64 > max {
                push(
                    out,
                    format!("{at}.{key}"),
                    "too-many-blocks",
                    format!("{count} `{key}` blocks, at most {max}"),
                );
            }
            if (count as u64) < min {
                push(
                    out,
                    format!("{at}.{key}"),
                    "missing-required",
                    format!("at least {min} `{key}` block(s) required"),
                );
            }
        }
        for (key, spec) in attributes.into_iter().flatten() {
            if spec.get("required").and_then(Value::as_bool).unwrap_or(false) && !present.contains(key) {
                push(
                    out,
                    format!("{at}.{key}"),
                    "missing-required",
                    format!("required attribute `{key}` is missing"),
                );
            }
        }
        for attr in body.attributes() {
            let here = format!("{at}.{}", attr.key());
            if level == Level::Resource && attr.key() == "depends_on" {
                self.check_depends_on(&here, attr.expr(), out);
            } else {
                self.check_references(&here, attr.expr(), out);
            }
        }
    }

    /// `depends_on` lists addresses (`type.name`), each of which must be declared.
    fn check_depends_on(&self, at: &str, expr: &Expression, out: &mut Vec<Violation>) {
        let Expression::Array(items) = expr else {
            push(
                out,
                at.to_string(),
                "type-mismatch",
                "depends_on must be a list of addresses".into(),
            );
            return;
        };
        for item in items {
            let address = hcl::format::to_string(item).unwrap_or_default();
            if !self.declared.contains_key(&address) {
                push(
                    out,
                    at.to_string(),
                    "unknown-reference",
                    format!("{address} is not declared in the module"),
                );
            }
        }
    }

    /// The type an expression evaluates to, when it can be told without evaluating it.
    fn type_of(&self, expr: &Expression) -> Option<Value> {
        match expr {
            Expression::String(_) | Expression::TemplateExpr(_) => Some(Value::from("string")),
            Expression::Number(_) => Some(Value::from("number")),
            Expression::Bool(_) => Some(Value::from("bool")),
            Expression::Array(items) => {
                let element = items.iter().map(|i| self.type_of(i)).collect::<Option<Vec<_>>>()?;
                let first = element.first().cloned().unwrap_or(Value::from("dynamic"));
                Some(serde_json::json!(["tuple_of", first]))
            }
            Expression::Object(_) => Some(Value::from("object")),
            Expression::FuncCall(call) => match call.name.name.as_str() {
                "jsonencode" | "templatefile" | "filebase64sha256" | "coalesce" | "format" => {
                    Some(Value::from("string"))
                }
                _ => None,
            },
            Expression::Traversal(t) => self.reference(t)?.target?.ty,
            _ => None,
        }
    }

    /// What a reference to a resource or data attribute of this module reads; `None` for references that
    /// are not to a resource or data block (`var.`, `local.`, `module.`...).
    fn reference(&self, traversal: &hcl::expr::Traversal) -> Option<Reference> {
        let Expression::Variable(root) = &traversal.expr else {
            return None;
        };
        let root = root.as_str();
        if matches!(
            root,
            "var" | "local" | "path" | "module" | "each" | "count" | "self" | "terraform"
        ) {
            return None;
        }
        // The block's name, then an index or splat (`[0]`, `[*]`) when it has `count`, then the attribute.
        let name_at = if root == "data" { 2 } else { 1 };
        let mut names = Vec::new();
        let mut indexed = false;
        for (position, op) in traversal.operators.iter().enumerate() {
            match op {
                TraversalOperator::GetAttr(id) => names.push(id.as_str()),
                TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) | TraversalOperator::FullSplat
                    if position == name_at =>
                {
                    indexed = true
                }
                _ => break,
            }
        }
        let (address, attribute) = match (root, names.as_slice()) {
            ("data", [type_name, name, attribute, ..]) => (format!("data.{type_name}.{name}"), *attribute),
            (type_name, [name, attribute, ..]) if root != "data" => (format!("{type_name}.{name}"), *attribute),
            _ => {
                return Some(Reference {
                    address: root.to_string(),
                    target: None,
                    index_fits: None,
                });
            }
        };
        let declared = self.declared.get(&address);
        let index_fits = declared.map(|d| d.counted == indexed);
        let target = declared.and_then(|d| {
            let block = self.schema.block_schema(&d.kind, &d.type_name)?;
            if let Some(spec) = block.get("attributes").and_then(|a| a.get(attribute)) {
                return Some(Target {
                    ty: spec.get("type").cloned(),
                    deprecated: spec.get("deprecated").and_then(Value::as_bool).unwrap_or(false),
                });
            }
            let nested = block.get("block_types")?.get(attribute)?.get("block")?;
            Some(Target {
                ty: None,
                deprecated: is_deprecated(nested),
            })
        });
        Some(Reference {
            address: format!("{address}.{attribute}"),
            target,
            index_fits,
        })
    }

    /// Every reference in `expr` must name a declared block and one of its attributes.
    fn check_references(&self, at: &str, expr: &Expression, out: &mut Vec<Violation>) {
        let mut stack = vec![expr.clone()];
        while let Some(expr) = stack.pop() {
            match expr {
                Expression::Traversal(t) => {
                    match self.reference(&t) {
                        Some(Reference {
                            address, target: None, ..
                        }) => {
                            let detail = format!("{address} is not a declared block's attribute");
                            push(out, at.to_string(), "unknown-reference", detail);
                        }
                        Some(Reference {
                            address,
                            index_fits: Some(false),
                            ..
                        }) => {
                            let detail = format!(
                                "{address}: a block with `count` is read with an index ([0], [*]), any other without"
                            );
                            push(out, at.to_string(), "index-mismatch", detail);
                        }
                        Some(Reference {
                            address,
                            target: Some(Target { deprecated: true, .. }),
                            ..
                        }) => {
                            let detail = format!("{address} is deprecated in hashicorp/aws {}", self.schema.version);
                            push(out, at.to_string(), "deprecated-reference", detail);
                        }
                        _ => {}
                    }
                    if !matches!(t.expr, Expression::Variable(_)) {
                        stack.push(t.expr.clone());
                    }
                }
                Expression::Array(items) => stack.extend(items),
                Expression::Object(object) => stack.extend(object.into_iter().map(|(_, v)| v)),
                Expression::FuncCall(call) => stack.extend(call.args.clone()),
                Expression::Parenthesis(inner) => stack.push(*inner),
                Expression::TemplateExpr(template) => {
                    if let Ok(parsed) = hcl::template::Template::from_expr(&template) {
                        collect_template_exprs(&parsed, &mut stack);
                    }
                }
                Expression::Conditional(c) => {
                    stack.extend([c.cond_expr.clone(), c.true_expr.clone(), c.false_expr.clone()])
                }
                Expression::Operation(op) => match *op {
                    hcl::expr::Operation::Unary(u) => stack.push(u.expr),
                    hcl::expr::Operation::Binary(b) => stack.extend([b.lhs_expr, b.rhs_expr]),
                },
                _ => {}
            }
        }
    }
}

/// A `dynamic "NAME" { for_each = ...  content { ... } }` block as the `NAME` block it generates (its
/// `content`); `Ok(None)` for any other block, `Err` for a `dynamic` block without a label, a `for_each`
/// or a `content`.
fn dynamic_content(block: &hcl::Block) -> Result<Option<(&str, &hcl::Block)>, String> {
    if block.identifier() != "dynamic" {
        return Ok(None);
    }
    let [name] = block.labels() else {
        return Err("a dynamic block takes one label: the block type it generates".into());
    };
    if !block.body().attributes().any(|a| a.key() == "for_each") {
        return Err(format!("dynamic \"{}\" has no for_each", name.as_str()));
    }
    match block.body().blocks().find(|b| b.identifier() == "content") {
        Some(content) => Ok(Some((name.as_str(), content))),
        None => Err(format!("dynamic \"{}\" has no content block", name.as_str())),
    }
}

/// Whether a block (or a resource type's block) is marked deprecated.
fn is_deprecated(block: &Value) -> bool {
    block.get("deprecated").and_then(Value::as_bool).unwrap_or(false)
}

fn push(out: &mut Vec<Violation>, at: String, kind: &'static str, detail: String) {
    out.push(Violation { at, kind, detail });
}

fn collect_template_exprs(template: &hcl::template::Template, out: &mut Vec<Expression>) {
    use hcl::template::Element;
    for element in template.elements() {
        if let Element::Interpolation(i) = element {
            out.push(i.expr.clone());
        }
    }
}

/// Whether a found type fits the schema's type (`"string"`, `["list", "string"]`, `["map", ...]`...).
fn type_matches(expected: &Value, found: &Value) -> bool {
    match (expected, found) {
        (Value::String(e), Value::String(f)) => e == f || e == "dynamic" || (e == "string" && f == "number"),
        (Value::Array(e), Value::Array(f)) => {
            let (Some(container), Some(element)) = (e.first().and_then(Value::as_str), e.get(1)) else {
                return false;
            };
            f.first().and_then(Value::as_str) == Some("tuple_of")
                && matches!(container, "list" | "set")
                && f.get(1).is_some_and(|fe| fe == "dynamic" || type_matches(element, fe))
        }
        (Value::Array(e), Value::String(f)) => {
            f == "object" && matches!(e.first().and_then(Value::as_str), Some("map" | "object"))
        }
        _ => false,
    }
}
