//! The README and the book (`docs/src`) checked against the repository:
//! every relative link reaches a file (and its heading), the summary lists
//! every chapter, and the files and tests they name exist. The prose is free
//! to change; what it says about the code is held to it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The README and every chapter of the book.
fn pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs/src"))
        .expect("docs/src")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.push(root().join("README.md"));
    pages
}

/// The lines outside fenced code blocks.
fn prose(text: &str) -> impl Iterator<Item = &str> {
    let mut fenced = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            return false;
        }
        !fenced
    })
}

/// The targets of `[text](target)` links outside code.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose(text) {
        // Inline code may hold brackets that are not links.
        let plain: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
        let mut rest = plain.as_str();
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let end = tail.find(')').expect("a link's closing parenthesis");
            found.push(tail[..end].to_owned());
            rest = &tail[end..];
        }
    }
    found
}

/// The anchors a page's headings get (mdBook's and GitHub's rule).
fn anchors(text: &str) -> BTreeSet<String> {
    prose(text)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| {
            heading
                .trim_start_matches('#')
                .trim()
                .to_lowercase()
                .chars()
                .filter_map(|c| match c {
                    ' ' => Some('-'),
                    c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
                    _ => None,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_relative_link_reaches_a_file_and_its_heading() {
    let book = root().join("docs/src").canonicalize().unwrap();
    let mut checked = 0;
    for page in pages() {
        let text = read(&page);
        for link in links(&text) {
            if link.starts_with("https://") || link.starts_with("http://") {
                continue;
            }
            let (file, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            let target = target
                .canonicalize()
                .unwrap_or_else(|_| panic!("{}: {link} reaches no file", page.display()));
            if page.starts_with(root().join("docs")) {
                assert!(
                    target.starts_with(&book),
                    "{}: {link} leaves the book, which mdBook cannot render",
                    page.display()
                );
            }
            if !anchor.is_empty() {
                assert!(
                    anchors(&read(&target)).contains(anchor),
                    "{}: {link}: no such heading",
                    page.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} links found");
}

#[test]
fn the_summary_lists_every_chapter_once() {
    let summary = read(&root().join("docs/src/SUMMARY.md"));
    let listed = links(&summary);
    let unique: BTreeSet<&str> = listed.iter().map(String::as_str).collect();
    assert_eq!(unique.len(), listed.len(), "a chapter listed twice");
    let chapters: BTreeSet<String> = pages()
        .iter()
        .filter(|p| p.starts_with(root().join("docs")))
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "SUMMARY.md")
        .collect();
    assert_eq!(
        unique,
        chapters.iter().map(String::as_str).collect(),
        "docs/src/SUMMARY.md and the chapters in docs/src differ"
    );
}

/// Every source file of the workspace, with its text.
fn sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if path.is_dir() {
                if !matches!(&*name, "target" | ".venv" | "__pycache__" | "node_modules") {
                    walk(&path, out);
                }
            } else if name.ends_with(".rs") || name.ends_with(".py") {
                out.push((path.clone(), read(&path)));
            }
        }
    }
    let mut out = Vec::new();
    for dir in ["crates", "tests", "xtask"] {
        walk(&root().join(dir), &mut out);
    }
    out
}

#[test]
fn every_test_and_file_the_guarantees_name_exists() {
    let guarantees = read(&root().join("docs/src/guarantees.md"));
    let sources = sources();
    let mut named = 0;
    for code in guarantees.split('`').skip(1).step_by(2) {
        let is_test = code.split('_').count() >= 3
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if is_test {
            let defined = sources.iter().any(|(_, text)| {
                text.contains(&format!("fn {code}(")) || text.contains(&format!("def {code}("))
            });
            assert!(
                defined,
                "docs/src/guarantees.md names `{code}`, which no test defines"
            );
            named += 1;
        } else if code.ends_with(".rs") || code.ends_with(".py") {
            assert!(
                sources.iter().any(|(path, _)| path.ends_with(code)),
                "docs/src/guarantees.md names `{code}`, which is no file"
            );
        }
    }
    assert!(named >= 30, "only {named} tests named");
}

#[test]
fn every_path_the_layout_names_exists() {
    let layout = read(&root().join("docs/src/layout.md"));
    let block = layout
        .split("```text")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the layout's tree");
    let mut parents: Vec<String> = Vec::new();
    let mut named = 0;
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let indent = line.len() - line.trim_start().len();
        let token = line.split_whitespace().next().unwrap();
        let is_path = (token.contains('/') || token.contains('.'))
            && token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/._-".contains(c));
        // Descriptions wrap onto lines indented past every path.
        if indent >= 20 || !is_path {
            continue;
        }
        parents.truncate(indent / 2);
        let path: String = parents.concat() + token;
        assert!(
            root().join(&path).exists(),
            "docs/src/layout.md names {path}, which does not exist"
        );
        named += 1;
        if token.ends_with('/') {
            parents.push(token.to_owned());
        }
    }
    assert!(named >= 40, "only {named} paths found");
}
