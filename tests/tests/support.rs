//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The advisory's shared examples, kept in the repository (`tests/data/examples`).
pub fn shared_examples() -> PathBuf {
    let dir = root().join("tests/data/examples");
    assert!(dir.is_dir(), "the shared examples are missing: expected them at {}", dir.display());
    dir
}

/// The built-in ACS program, checked once per test binary.
pub fn acs() -> &'static preflight_compiler::Program {
    static PROGRAM: std::sync::LazyLock<preflight_compiler::Program> = std::sync::LazyLock::new(|| {
        let checked = preflight_compiler::check_source(preflight_compiler::ACS_RULES);
        checked.program.expect("the ACS rules check clean")
    });
    &PROGRAM
}

/// Summarises an answer the way `tests/data/examples/README.md` does.
pub fn summarise(answer: &serde_json::Value) -> serde_json::Value {
    if answer.get("error").is_some() {
        return serde_json::json!({ "error": true });
    }
    let findings = answer["findings"].as_array().cloned().unwrap_or_default();
    let counts = |f: &serde_json::Value| !matches!(f["severity"].as_str(), Some("info" | "warning"));
    let mut install: Vec<Vec<String>> = findings
        .iter()
        .filter(|f| counts(f))
        .filter_map(|f| f["install_any_of"].as_array())
        .map(|kbs| {
            let mut g: Vec<String> = kbs.iter().map(|k| k.as_str().unwrap().to_string()).collect();
            g.sort();
            g
        })
        .filter(|g| !g.is_empty())
        .collect();
    install.sort();
    let certificate = findings.iter().any(|f| counts(f) && f.get("certificate").is_some());
    serde_json::json!({ "status": answer["status"], "install": install, "certificate": certificate })
}
