//! Every rules file in `tests/data/advisories/` and `rules/`, and every clean golden, on both
//! engines: it checks clean (goldens: without errors), formats to itself, its in-file tests pass on
//! the interpreter and on the compiled module, and the two engines answer hosts generated from its
//! schema byte for byte. The test advisory's answers are kept as snapshots.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use preflight_tests::hosts::{Rng, evaluation_date};
use preflight_tests::schema_hosts::{Palette, host_for};
use std::path::PathBuf;

/// Hosts per rules file for the differential run.
const HOSTS: usize = 5_000;

fn rules_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(support::root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "preflight"))
        .collect();
    files.sort();
    files
}

fn advisories() -> Vec<PathBuf> {
    let mut files = rules_files("rules");
    files.extend(rules_files("tests/data/advisories"));
    assert!(files.len() >= 2, "{files:?}");
    files
}

fn checked(path: &PathBuf) -> (String, preflight_compiler::Program) {
    let source = std::fs::read_to_string(path).unwrap();
    let checked = preflight_compiler::check_source(&source);
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let rendered = preflight_compiler::diagnostic::render_plain(&name, &source, &checked.diagnostics);
    (source, checked.program.unwrap_or_else(|| panic!("{name} has errors:\n{rendered}")))
}

fn evaluator(program: &preflight_compiler::Program, source: &str) -> preflight_runtime::Evaluator {
    let bytes = preflight_compiler::wasm::compile(program, source).unwrap();
    let runtime = preflight_runtime::Runtime::new(preflight_runtime::Limits::default()).unwrap();
    runtime.load(&bytes).unwrap().evaluator().unwrap()
}

#[test]
fn advisories_check_clean_and_are_formatted() {
    for path in advisories() {
        let source = std::fs::read_to_string(&path).unwrap();
        let checked = preflight_compiler::check_source(&source);
        let name = path.display().to_string();
        assert!(
            checked.diagnostics.is_empty(),
            "{}",
            preflight_compiler::diagnostic::render_plain(&name, &source, &checked.diagnostics)
        );
        let formatted = preflight_compiler::format::format_source(&source).unwrap();
        assert!(formatted == source, "{name} is not formatted: run `preflight fmt --write {name}`");
    }
}

#[test]
fn in_file_tests_pass_on_both_engines() {
    for path in advisories() {
        let (source, program) = checked(&path);
        assert!(!program.tests.is_empty(), "{}", path.display());
        let on_interpreter = preflight_compiler::testing::run(&program);
        // `run_with` takes a plain function; the evaluator is reused through a cell.
        let module = std::cell::RefCell::new(evaluator(&program, &source));
        let on_module = preflight_compiler::testing::run_with(&program, &|facts| {
            module.borrow_mut().evaluate(facts, None).unwrap()
        });
        for outcome in on_interpreter.iter().chain(&on_module) {
            assert!(
                outcome.failure.is_none(),
                "{}: test `{}`:\n{}",
                path.display(),
                outcome.name,
                outcome.failure.as_deref().unwrap_or("")
            );
        }
    }
}

#[test]
fn engines_agree_on_schema_generated_hosts() {
    let mut files = advisories();
    files.extend(rules_files("tests/data/check/ok"));
    for path in files {
        let (source, program) = checked(&path);
        let palette = Palette::of(&program);
        let mut module = evaluator(&program, &source);
        let mut rng = Rng::new(0x5EED_0008);
        let mut statuses = std::collections::BTreeSet::new();
        for i in 0..HOSTS {
            let (doc, date) = (host_for(&program, &palette, &mut rng), evaluation_date(&mut rng));
            let expected = preflight_compiler::answer_with(&program, &doc, date);
            let actual = module.evaluate(&doc, date).unwrap();
            assert_eq!(actual, expected, "{} host {i} ({date:?}): {}", path.display(), String::from_utf8_lossy(&doc));
            let value: serde_json::Value = serde_json::from_str(&expected).unwrap();
            statuses.insert(value["status"].as_str().unwrap_or("error").to_string());
        }
        // The generator reaches more than one answer for every file.
        assert!(statuses.len() >= 2, "{}: {statuses:?}", path.display());
    }
}

/// The full answers to the test advisory's own test hosts: finding order (prerequisites first),
/// one finding per missing requirement, component / setting / certificate findings, the update
/// list filtered to the host's OS with that OS's release date.
#[test]
fn test_advisory_answers() {
    let path = support::root().join("tests/data/advisories/sha2-2019.preflight");
    let (source, program) = checked(&path);
    let mut module = evaluator(&program, &source);
    let mut out = String::new();
    for test in &program.tests {
        let facts = test.given.to_string();
        let answer = preflight_compiler::answer(&program, &facts);
        assert_eq!(module.evaluate(&facts, None).unwrap(), answer, "{}", test.name);
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&answer).unwrap()).unwrap();
        out.push_str(&format!("# {}\n{facts}\n{pretty}\n\n", test.name));
    }
    insta::assert_snapshot!(out);
}

/// The built-in advisories answer one facts document together: they agree on every fact they
/// share (no P0207), and `BUILTIN_RULES` is exactly the files in `rules/`.
#[test]
fn built_in_advisories_agree_on_shared_facts() {
    let on_disk: Vec<String> =
        rules_files("rules").iter().map(|p| format!("rules/{}", p.file_name().unwrap().to_string_lossy())).collect();
    let built_in: Vec<String> = preflight_compiler::BUILTIN_RULES.iter().map(|(n, _)| (*n).to_string()).collect();
    assert_eq!(built_in, on_disk);
    let programs: Vec<_> = preflight_compiler::BUILTIN_RULES
        .iter()
        .map(|(_, s)| preflight_compiler::check_source(s).program.unwrap())
        .collect();
    let loaded: Vec<_> = preflight_compiler::BUILTIN_RULES
        .iter()
        .zip(&programs)
        .map(|((_, source), program)| preflight_compiler::across::Loaded { source, program })
        .collect();
    let found = preflight_compiler::across::check(&loaded);
    assert!(found.is_empty(), "{:?}", found.iter().map(|(_, d)| &d.message).collect::<Vec<_>>());
    // They do share facts: one document answers both.
    let shared = programs[0].fields.iter().filter(|f| programs[1].fields.iter().any(|g| g.path == f.path)).count();
    assert!(shared >= 4, "{shared}");
}
