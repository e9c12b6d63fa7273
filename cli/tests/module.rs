//! The compiled module through the CLI and from other hosts (Python, Node): same answers as the
//! interpreter, byte for byte.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::root;
use std::path::{Path, PathBuf};
use std::process::Command;

fn preflight(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_preflight")).args(args).current_dir(root()).output().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("preflight-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compiles the ACS rules with the CLI and returns the module's path.
fn acs_module(dir: &Path) -> PathBuf {
    let out = dir.join("acs.wasm");
    let status = preflight(&["compile", "rules/acs-2023.preflight", "-o", out.to_str().unwrap()]);
    assert_eq!(status.status.code(), Some(0), "{}", String::from_utf8_lossy(&status.stderr));
    out
}

/// 2026-11-24 in days since 1970-01-01, the evaluation date these tests pass.
const NOV_24_2026: i32 = 20_781;

fn shared_examples() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/data/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".facts.json"))
        .collect();
    files.sort();
    assert!(files.len() >= 11);
    files
}

fn interpreter_answers(files: &[PathBuf]) -> Vec<String> {
    let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap();
    files
        .iter()
        .map(|f| preflight_compiler::answer_with(&program, &std::fs::read(f).unwrap(), Some(NOV_24_2026)))
        .collect()
}

#[test]
fn compile_is_deterministic_valid_and_imports_nothing() {
    let dir = temp_dir("compile");
    let a = std::fs::read(acs_module(&dir)).unwrap();
    let second = dir.join("again.wasm");
    preflight(&["compile", "rules/acs-2023.preflight", "-o", second.to_str().unwrap()]);
    assert_eq!(a, std::fs::read(&second).unwrap(), "two compilations differ");
    wasmparser::Validator::new().validate_all(&a).unwrap();
    let imports: usize = wasmparser::Parser::new(0)
        .parse_all(&a)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::ImportSection(r) => Some(r.count() as usize),
            _ => None,
        })
        .sum();
    assert_eq!(imports, 0);
    let wat = preflight(&["compile", "rules/acs-2023.preflight", "--emit", "wat"]);
    let text = String::from_utf8_lossy(&wat.stdout);
    assert!(
        text.contains("(export \"evaluate\"") && text.contains("(func $run_rules"),
        "{}",
        &text[..200.min(text.len())]
    );
}

#[test]
fn eval_with_the_module_matches_eval_with_the_rules() {
    let dir = temp_dir("eval");
    let module = acs_module(&dir);
    for file in shared_examples() {
        let f = file.to_str().unwrap();
        let by_rules = preflight(&["eval", "--as-of", "2026-11-24", "--rules", "rules/acs-2023.preflight", f]);
        let by_module = preflight(&["eval", "--as-of", "2026-11-24", "--module", module.to_str().unwrap(), f]);
        assert_eq!(by_rules.stdout, by_module.stdout, "{f}");
        assert_eq!(by_rules.status.code(), by_module.status.code(), "{f}");
    }
}

#[test]
fn eval_keeps_compiled_code_in_the_cache_directory_and_reads_it_back() {
    let dir = temp_dir("cache");
    let module = acs_module(&dir);
    let cache = dir.join("cache");
    let host = "examples/hosts/win10-21h2.json";
    let eval = |cache_dir: &Path| {
        Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(["eval", "--module", module.to_str().unwrap(), host, "--as-of", "2026-11-24"])
            .env("PREFLIGHT_CACHE_DIR", cache_dir)
            .current_dir(root())
            .output()
            .unwrap()
    };
    // Compiled modules; wasmtime also keeps usage statistics beside them, written in the background.
    let files = |d: &Path| walk(d).iter().filter(|p| p.extension().is_none_or(|e| e != "stats")).count();
    let first = eval(&cache);
    assert_eq!(first.status.code(), Some(0), "{}", String::from_utf8_lossy(&first.stderr));
    let stored = files(&cache);
    assert!(stored > 0, "the first run stores the compiled module");
    let second = eval(&cache);
    assert_eq!(second.stdout, first.stdout);
    assert_eq!(files(&cache), stored, "the second run reads it and stores nothing new");
    // `off` keeps no cache (and answers the same).
    let off = eval(Path::new("off"));
    assert_eq!(off.stdout, first.stdout);
    let interpreted = preflight(&["eval", "--rules", "rules/acs-2023.preflight", host, "--as-of", "2026-11-24"]);
    assert_eq!(first.stdout, interpreted.stdout);
}

/// Every file under `dir`, at any depth.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[test]
fn batch_keeps_order_and_agrees_across_engines() {
    let dir = temp_dir("batch");
    let module = acs_module(&dir);
    let mut rng = preflight_tests_hosts::hosts::Rng::new(7);
    let mut lines = String::new();
    for _ in 0..3000 {
        lines.push_str(&preflight_tests_hosts::hosts::document_line(&mut rng));
        lines.push('\n');
    }
    let input = dir.join("hosts.jsonl");
    std::fs::write(&input, &lines).unwrap();
    let (by_module, by_rules) = (dir.join("module.jsonl"), dir.join("rules.jsonl"));
    let a = preflight(&[
        "batch",
        "--as-of",
        "2026-11-24",
        "--module",
        module.to_str().unwrap(),
        input.to_str().unwrap(),
        "-o",
        by_module.to_str().unwrap(),
    ]);
    let b = preflight(&[
        "batch",
        "--as-of",
        "2026-11-24",
        "--summary",
        "json",
        "--rules",
        "rules/acs-2023.preflight",
        input.to_str().unwrap(),
        "-o",
        by_rules.to_str().unwrap(),
    ]);
    assert_eq!(a.status.code(), Some(0), "{}", String::from_utf8_lossy(&a.stderr));
    let (a_out, b_out) = (std::fs::read_to_string(&by_module).unwrap(), std::fs::read_to_string(&by_rules).unwrap());
    assert_eq!(a_out.lines().count(), 3000);
    assert_eq!(a_out, b_out);
    // In input order: line i answers host i.
    let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap();
    for (host, answer) in lines.lines().zip(a_out.lines()).step_by(97) {
        assert_eq!(preflight_compiler::answer_with(&program, host.as_bytes(), Some(NOV_24_2026)), answer);
    }
    let summary: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&b.stderr).trim()).unwrap();
    assert_eq!(summary["hosts"], 3000);
}

#[test]
fn inspect_shows_the_metadata() {
    let dir = temp_dir("inspect");
    let module = acs_module(&dir);
    let out = preflight(&["inspect", module.to_str().unwrap()]);
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["abi"], 4);
    assert_eq!(meta["advisory"]["id"], "acs_2023");
    assert_eq!(meta["rules_sha256"].as_str().unwrap().len(), 64);
    assert!(meta["facts_schema"]["properties"]["os"].is_object());
}

#[test]
fn a_foreign_module_gets_a_clear_error() {
    let dir = temp_dir("foreign");
    let path = dir.join("foreign.wasm");
    std::fs::write(
        &path,
        wat::parse_str(r#"(module (import "wasi" "fd_write" (func)) (memory (export "memory") 1))"#).unwrap(),
    )
    .unwrap();
    let out = preflight(&["eval", "--module", path.to_str().unwrap(), "examples/hosts/win10-21h2.json"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("imports `wasi::fd_write`"), "{err}");
}

fn run_host(program: &str, args: &[&str]) -> Vec<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(out.status.success(), "{program}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

#[test]
fn python_and_node_hosts_give_the_interpreters_answers() {
    let dir = temp_dir("embed");
    let module = acs_module(&dir);
    let files = shared_examples();
    let expected = interpreter_answers(&files);
    let mut args = vec!["--as-of".to_string(), "2026-11-24".to_string(), module.to_str().unwrap().to_string()];
    args.extend(files.iter().map(|f| f.to_str().unwrap().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let python = run_host("python3", &[&["examples/embed/evaluate.py"], args.as_slice()].concat());
    assert_eq!(python, expected, "python (pip install wasmtime)");
    let node = run_host("node", &[&["examples/embed/evaluate.mjs"], args.as_slice()].concat());
    assert_eq!(node, expected, "node");
}
