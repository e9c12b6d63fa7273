//! The documentation is tested: every ```preflight block of docs/*.md is a rules file that checks
//! without error and whose tests pass, and every diagnostic code the compiler can emit is
//! documented in docs/diagnostics.md and has a golden example.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use preflight_compiler::diagnostic::render_plain;

/// The guide's examples as complete files: a ```preflight block is one, a ```preflight-snippet
/// block is added to the complete block before it.
fn preflight_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut base = String::new();
    let mut current: Option<(bool, String)> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```preflight") => current = Some((false, String::new())),
            (None, "```preflight-snippet") => current = Some((true, String::new())),
            (Some((snippet, block)), "```") => {
                if *snippet {
                    assert!(!base.is_empty(), "a snippet before any whole file");
                    blocks.push(format!("{base}\n{block}"));
                } else {
                    base = block.clone();
                    blocks.push(std::mem::take(block));
                }
                current = None;
            }
            (Some((_, block)), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

#[test]
fn language_guide_examples_check_and_pass_their_tests() {
    let guide = std::fs::read_to_string(support::root().join("docs/language.md")).unwrap();
    let blocks = preflight_blocks(&guide);
    assert!(blocks.len() >= 5, "{}", blocks.len());
    for (i, block) in blocks.iter().enumerate() {
        let checked = preflight_compiler::check_source(block);
        assert!(
            checked.diagnostics.is_empty(),
            "block {i}:\n{}",
            render_plain("docs/language.md", block, &checked.diagnostics)
        );
        let program = checked.program.unwrap();
        assert!(!program.tests.is_empty(), "block {i} has no test");
        for outcome in preflight_compiler::testing::run(&program) {
            assert!(outcome.failure.is_none(), "block {i}, test {}:\n{}", outcome.name, outcome.failure.unwrap());
        }
    }
}

/// The fenced block that follows `marker` in the README, its indentation removed.
fn readme_block_after(readme: &str, marker: &str) -> String {
    let rest = &readme[readme.find(marker).unwrap_or_else(|| panic!("README has no {marker:?}"))..];
    let start = rest.find("```text\n").unwrap() + "```text\n".len();
    let body = &rest[start..start + rest[start..].find("```").unwrap()];
    body.lines().map(|l| l.strip_prefix("   ").unwrap_or(l).trim_end()).collect::<Vec<_>>().join("\n")
}

/// The README's five minutes for a policy author work exactly as written.
#[test]
fn readme_walkthrough_is_true() {
    let readme = std::fs::read_to_string(support::root().join("README.md")).unwrap();
    // Step 3: the mistake gives exactly the diagnostic shown.
    let broken = preflight_compiler::ACS_RULES.replacen("require KB5011487", "require KB5011478", 1);
    let mut load = preflight_compiler::bundle::builtin_loader(preflight_compiler::BUILTIN_LIBRARY);
    let checked = preflight_compiler::check_file(preflight_compiler::ACS_RULES_NAME, &broken, &mut load);
    let rendered: String =
        checked.by_file().iter().map(|(name, text, d)| render_plain(name, text, std::slice::from_ref(d))).collect();
    let shown = readme_block_after(&readme, "3. **Make a mistake.**");
    assert!(rendered.contains(shown.trim()), "README step 3 shows:\n{shown}\nthe checker says:\n{rendered}");
    // Step 4: the test is new (no duplicate name), checks clean and passes with the others.
    let test = readme_block_after(&readme, "4. **Write a test**");
    let with_test = format!("{}\n{test}\n", preflight_compiler::ACS_RULES);
    let checked = preflight_compiler::check_source(&with_test);
    assert!(checked.diagnostics.is_empty(), "{}", render_plain("README", &with_test, &checked.diagnostics));
    let outcomes = preflight_compiler::testing::run(&checked.program.unwrap());
    assert!(outcomes.iter().all(|o| o.failure.is_none()));
    assert!(readme.contains(&format!("`{} passed, 0 failed`", outcomes.len())), "README step 4's count");
}

#[test]
fn every_diagnostic_code_is_documented_and_has_a_golden() {
    let docs = std::fs::read_to_string(support::root().join("docs/diagnostics.md")).unwrap();
    let goldens: Vec<String> = std::fs::read_dir(support::root().join("tests/data/check/err"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    let code = regex_lite::Regex::new(r#""(P\d{4})""#).unwrap();
    let mut codes = std::collections::BTreeSet::new();
    for entry in walk(&support::root().join("compiler/src")) {
        let text = std::fs::read_to_string(&entry).unwrap();
        codes.extend(code.captures_iter(&text).map(|c| c[1].to_string()));
    }
    assert!(codes.len() > 20, "{codes:?}");
    for code in &codes {
        assert!(docs.contains(&format!("### {code} ")), "{code} is not documented in docs/diagnostics.md");
        if code != "P0000" {
            assert!(
                goldens.iter().any(|g| g.starts_with(code.as_str())),
                "{code} has no golden in tests/data/check/err"
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}
