//! The repository stands alone: no file refers to a file outside it or to the machine it was written on, and
//! every relative link in the documentation leads to a file inside it.

mod common;

use std::path::{Path, PathBuf};

/// Git's own data (a folder, or a file in a worktree) and folders of build output or tool caches.
const SKIPPED: &[&str] = &[".git", "target", "node_modules", "__pycache__", ".pytest_cache"];

/// Text that points outside the tree: sibling folders of the clone, absolute paths of one machine, and
/// descriptions that only make sense on it. Built from parts so that this file does not match itself.
fn outside_references() -> Vec<String> {
    vec![
        ["..", "/shared"].concat(),
        ["/work", "/"].concat(),
        ["/root", "/"].concat(),
        ["/home", "/"].concat(),
        ["machine", " kind"].concat(),
    ]
}

/// Every file of the repository (its text files are what the checks read), sorted.
fn repository_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![common::root()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap_or_else(|e| panic!("{}: {e}", folder.display())) {
            let path = entry.expect("dir entry").path();
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if SKIPPED.contains(&name.as_str()) {
                continue;
            }
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(common::root()).unwrap_or(path).display().to_string()
}

#[test]
fn no_file_refers_to_anything_outside_the_repository() {
    let patterns = outside_references();
    let mut found = Vec::new();
    let mut read = 0;
    for path in repository_files() {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // not UTF-8: a zip or another binary, which holds no references
        };
        read += 1;
        for (number, line) in text.lines().enumerate() {
            for pattern in &patterns {
                if line.contains(pattern.as_str()) {
                    found.push(format!("{}:{}: {pattern:?} in {line:?}", relative(&path), number + 1));
                }
            }
        }
    }
    assert!(read > 100, "read only {read} text files: is the walk broken?");
    assert!(
        found.is_empty(),
        "references that leave the repository:\n{}",
        found.join("\n")
    );
}

/// The targets of `[text](target)` links in Markdown.
fn link_targets(markdown: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find("](") {
        let after = &rest[start + 2..];
        match after.find(')') {
            Some(end) => {
                targets.push(after[..end].to_string());
                rest = &after[end..];
            }
            None => break,
        }
    }
    targets
}

#[test]
fn every_relative_link_in_the_documentation_leads_to_a_file_in_the_repository() {
    let root = common::root();
    let mut broken = Vec::new();
    let mut checked = 0;
    for path in repository_files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
    {
        let text = std::fs::read_to_string(&path).expect("Markdown is UTF-8");
        for target in link_targets(&text) {
            let target = target.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let from = path.parent().expect("a file's folder");
            let resolved = common::normalize(&from.join(target));
            match resolved {
                Some(resolved) if resolved.starts_with(&root) && resolved.exists() => {}
                _ => broken.push(format!("{}: ({target})", relative(&path))),
            }
        }
    }
    assert!(
        checked >= 5,
        "found only {checked} relative links: is the parser broken?"
    );
    assert!(
        broken.is_empty(),
        "links that leave the repository or lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_link_checker_sees_a_link_that_leaves() {
    let root = common::root();
    let readme = root.join("README.md");
    let leaving = ["..", "/shared/SPEC.md"].concat();
    let target = link_targets(&format!("see [the contract]({leaving}) and [x](docs/spec.md#top)"));
    assert_eq!(target, [leaving.as_str(), "docs/spec.md#top"]);
    let outside = common::normalize(&readme.parent().unwrap().join(&target[0])).unwrap();
    assert!(!outside.starts_with(&root));
    assert!(common::normalize(Path::new("a/../../b")).is_none());
}
