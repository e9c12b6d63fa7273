//! The repository stands on its own: no test, script or page reads anything beside the checkout
//! (CI runs on a bare clone). A tidy check over the code, as rust-analyzer runs its own.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use std::path::Path;

/// Folders that are not ours to check (build output, installed packages, the git store).
const SKIP: &[&str] = &["target", "node_modules", ".git", "pkg"];
const CODE: &[&str] = &["rs", "mjs", "js", "sh", "toml", "py", "html"];

fn walk(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if !SKIP.contains(&name.as_str()) {
                walk(&path, found);
            }
            continue;
        }
        let is_code = path.extension().is_some_and(|e| CODE.contains(&e.to_string_lossy().as_ref()));
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        // Spelt in pieces so that this file does not find itself.
        let needles = [concat!("../", "shared"), concat!("\"shared\"", ", \"advisory\"")];
        if is_code && needles.iter().any(|n| text.contains(n)) {
            found.push(path.strip_prefix(support::root()).unwrap().display().to_string());
        }
    }
}

#[test]
fn nothing_reads_beside_the_checkout() {
    let mut found = Vec::new();
    walk(&support::root(), &mut found);
    assert!(found.is_empty(), "these files read outside the repository: {found:?}");
}

#[test]
fn the_shared_examples_are_in_the_repository() {
    let dir = support::shared_examples();
    let facts = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().to_string_lossy().ends_with(".facts.json"));
    assert!(facts.count() >= 11);
}
