//! The module README's Requirements, Providers, Resources, Inputs and Outputs tables (terraform-docs' markdown
//! table layout) against what the rendered `.tf` files declare, parsed back with hcl-rs: the README is generated
//! from the model and the emitters' blocks, this test reads the HCL, so the two cannot drift apart.

mod common;

use std::collections::BTreeMap;

use hcl::{Block, Body, Expression};

/// What a module's `.tf` files declare.
#[derive(Default)]
struct Declared {
    required_version: String,
    aws_version: String,
    /// `(data source?, type.name)`.
    resources: Vec<(bool, String)>,
    /// name → (description, type, default).
    variables: BTreeMap<String, (String, String, String)>,
    /// name → description.
    outputs: BTreeMap<String, String>,
}

fn text(expr: &Expression) -> String {
    match expr {
        Expression::String(s) => s.clone(),
        other => hcl::format::to_string(other).expect("formats"),
    }
}

fn expression<'b>(block: &'b Block, key: &str) -> &'b Expression {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
        .unwrap_or_else(|| panic!("{} {:?} has no {key}", block.identifier(), block.labels()))
}

/// An attribute's string value, or its expression as HCL.
fn attr(block: &Block, key: &str) -> String {
    text(expression(block, key))
}

/// An attribute's expression as HCL (a string quoted).
fn hcl_of(block: &Block, key: &str) -> String {
    hcl::format::to_string(expression(block, key)).expect("formats")
}

fn declared(files: &[(String, String)]) -> Declared {
    let mut found = Declared::default();
    for (_, source) in files {
        let body: Body = hcl::parse(source).expect("parses");
        for block in body.blocks() {
            let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
            match (block.identifier(), labels.as_slice()) {
                ("terraform", []) => {
                    found.required_version = attr(block, "required_version");
                    let providers = block
                        .body()
                        .blocks()
                        .find(|b| b.identifier() == "required_providers")
                        .expect("required_providers");
                    let aws = providers.body().attributes().find(|a| a.key() == "aws").expect("aws");
                    let Expression::Object(aws) = aws.expr() else {
                        panic!("aws is not an object")
                    };
                    found.aws_version = aws
                        .iter()
                        .find(|(k, _)| k.to_string() == "version")
                        .map(|(_, v)| text(v))
                        .expect("a version");
                }
                (mode @ ("resource" | "data"), [kind, name]) => {
                    found.resources.push((mode == "data", format!("{kind}.{name}")));
                }
                ("variable", [name]) => {
                    found.variables.insert(
                        name.to_string(),
                        (
                            attr(block, "description"),
                            hcl_of(block, "type"),
                            hcl_of(block, "default"),
                        ),
                    );
                }
                ("output", [name]) => {
                    found.outputs.insert(name.to_string(), attr(block, "description"));
                }
                _ => {}
            }
        }
    }
    found
}

/// The rows of a `## TITLE` table of the README's terraform-docs part, as cells.
fn table(readme: &str, title: &str) -> Vec<Vec<String>> {
    let docs = readme
        .split_once("<!-- BEGIN_TF_DOCS -->\n")
        .and_then(|(_, rest)| rest.split_once("<!-- END_TF_DOCS -->"))
        .map(|(docs, _)| docs)
        .expect("a terraform-docs part");
    let section = docs
        .split_once(&format!("## {title}\n\n"))
        .map(|(_, rest)| rest.split("\n## ").next().unwrap_or_default())
        .unwrap_or_else(|| panic!("no {title} section"));
    let mut lines = section.lines().filter(|l| l.starts_with('|'));
    lines.next().expect("a header row");
    let separator = lines.next().expect("a separator row");
    assert!(separator.starts_with("| ---- |"), "{title}: {separator}");
    lines
        .map(|line| {
            // Cells split at ` | ` not escaped as `\|`.
            let inner = &line[2..line.len() - 2];
            let mut cells = Vec::new();
            let mut current = String::new();
            let mut rest = inner;
            while let Some(at) = rest.find(" | ") {
                if rest[..at].ends_with('\\') {
                    current.push_str(&rest[..at + 3]);
                } else {
                    current.push_str(&rest[..at]);
                    cells.push(std::mem::take(&mut current));
                }
                rest = &rest[at + 3..];
            }
            current.push_str(rest);
            cells.push(current);
            cells
        })
        .collect()
}

/// `<a name="KIND_NAME"></a> [NAME](#KIND\_NAME)`: the name, after checking the anchor and the link agree.
fn anchored_name(cell: &str, kind: &str) -> String {
    let rest = cell
        .strip_prefix(&format!("<a name=\"{kind}_"))
        .unwrap_or_else(|| panic!("{cell}"));
    let (anchor, rest) = rest.split_once("\"></a> [").expect(cell);
    let (shown, link) = rest.split_once("](#").expect(cell);
    let link = link.strip_suffix(')').expect(cell);
    assert_eq!(shown.replace("\\_", "_"), anchor, "{cell}");
    assert_eq!(link.replace("\\_", "_"), format!("{kind}_{anchor}"), "{cell}");
    anchor.to_string()
}

fn code(cell: &str) -> String {
    cell.strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .unwrap_or_else(|| panic!("not code: {cell}"))
        .to_string()
}

fn unescape(cell: &str) -> String {
    cell.replace("\\|", "|")
}

#[test]
fn the_readme_tables_are_what_the_tf_files_declare() {
    for spec in common::all_specs() {
        let label = common::spec_label(&spec);
        let files = common::render(&spec);
        let tf = declared(&common::tf_files(&files));
        let readme = files.iter().find(|f| f.path == "README.md").expect("README.md");
        let readme = String::from_utf8(readme.contents.clone()).unwrap();

        let requirements: Vec<(String, String)> = table(&readme, "Requirements")
            .iter()
            .map(|row| (anchored_name(&row[0], "requirement"), row[1].clone()))
            .collect();
        assert_eq!(
            requirements,
            [
                ("terraform".to_string(), tf.required_version.clone()),
                ("aws".to_string(), tf.aws_version.clone())
            ],
            "{label}"
        );
        let providers: Vec<(String, String)> = table(&readme, "Providers")
            .iter()
            .map(|row| (anchored_name(&row[0], "provider"), row[1].clone()))
            .collect();
        assert_eq!(providers, [("aws".to_string(), tf.aws_version.clone())], "{label}");
        assert!(readme.contains("## Modules\n\nNo modules.\n"), "{label}");

        // Resources, then data sources, each sorted; each linked to its page in the provider's documentation.
        let resources: Vec<(bool, String)> = table(&readme, "Resources")
            .iter()
            .map(|row| {
                let (address, link) = row[0]
                    .strip_prefix('[')
                    .and_then(|r| r.strip_suffix(')'))
                    .and_then(|r| r.split_once("]("))
                    .unwrap_or_else(|| panic!("{label}: {}", row[0]));
                let data = match row[1].as_str() {
                    "resource" => false,
                    "data source" => true,
                    other => panic!("{label}: a {other}"),
                };
                let kind = address.split('.').next().unwrap();
                let folder = if data { "data-sources" } else { "resources" };
                // The built-in terraform_data is hashicorp/terraform's `data`; every other type is hashicorp/aws's.
                let (provider, page) = match kind.strip_prefix("aws_") {
                    Some(page) => ("aws", page),
                    None => ("terraform", kind.strip_prefix("terraform_").unwrap()),
                };
                assert_eq!(
                    link,
                    format!("https://registry.terraform.io/providers/hashicorp/{provider}/latest/docs/{folder}/{page}"),
                    "{label}"
                );
                (data, address.to_string())
            })
            .collect();
        let mut expected = tf.resources.clone();
        expected.sort();
        assert_eq!(
            resources, expected,
            "{label}: the README's resources are not the .tf files'"
        );

        // Inputs sorted by name: description, type, default as variables.tf has them; none required.
        let inputs: Vec<(String, (String, String, String))> = table(&readme, "Inputs")
            .iter()
            .map(|row| {
                assert_eq!(row[4], "no", "{label}: every input has a default");
                (
                    anchored_name(&row[0], "input"),
                    (unescape(&row[1]), code(&row[2]), code(&row[3])),
                )
            })
            .collect();
        let expected: Vec<(String, (String, String, String))> = tf.variables.clone().into_iter().collect();
        assert_eq!(inputs, expected, "{label}: the README's inputs are not variables.tf's");

        let outputs: Vec<(String, String)> = table(&readme, "Outputs")
            .iter()
            .map(|row| (anchored_name(&row[0], "output"), unescape(&row[1])))
            .collect();
        let expected: Vec<(String, String)> = tf.outputs.clone().into_iter().collect();
        assert_eq!(outputs, expected, "{label}: the README's outputs are not outputs.tf's");
    }
}

/// The parser above finds a drift: a README whose inputs table lost a row, or whose resources table names a
/// block no `.tf` file declares, is not what the `.tf` files declare.
#[test]
fn the_comparison_catches_a_drifted_table() {
    let spec = common::root().join("examples/full/sfngen.toml");
    let files = common::render(&spec);
    let tf = declared(&common::tf_files(&files));
    let readme = String::from_utf8(files.iter().find(|f| f.path == "README.md").unwrap().contents.clone()).unwrap();
    let first_input = readme
        .lines()
        .find(|l| l.starts_with("| <a name=\"input_"))
        .expect("an input row");
    let without = readme.replace(&format!("{first_input}\n"), "");
    assert_eq!(table(&readme, "Inputs").len(), tf.variables.len());
    assert_eq!(table(&without, "Inputs").len(), tf.variables.len() - 1);
    let renamed = readme.replacen("[aws_sqs_queue.payments]", "[aws_sqs_queue.paymentz]", 1);
    assert_ne!(table(&renamed, "Resources"), table(&readme, "Resources"));
    assert!(
        !tf.resources
            .iter()
            .any(|(_, address)| address == "aws_sqs_queue.paymentz")
    );
}
