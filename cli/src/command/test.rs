use crate::common::{self, DiagnosticOptions};
use preflight_compiler::testing::{self, TestOutcome};
use std::path::Path;

/// `preflight test FILE` or `preflight test DIR` (every `.preflight` file in it): every in-file
/// test on the interpreter and on the compiled module.
pub fn run(path: &Path, options: &DiagnosticOptions) -> Result<u8, String> {
    if !path.is_dir() {
        return run_file(path, options);
    }
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "preflight"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("`{}` has no .preflight file", path.display()));
    }
    let mut worst = 0;
    for file in &files {
        common::out(&format!("{}\n", file.display()))?;
        worst = worst.max(run_file(file, options)?);
    }
    Ok(worst)
}

fn run_file(file: &Path, options: &DiagnosticOptions) -> Result<u8, String> {
    let source = common::read(file)?;
    let Some(program) = common::load(file, options)? else {
        eprintln!("{}: the rules file has errors; no test was run", file.display());
        return Ok(1);
    };
    let interpreted = testing::run(&program);
    let compiled = match module_outcomes(&program, &source) {
        Ok(outcomes) => outcomes,
        Err(e) => {
            eprintln!("error: the rules could not be run as a module: {e}");
            return Ok(1);
        }
    };
    let mut failed = 0;
    let mut report = String::new();
    for (i, outcome) in interpreted.iter().enumerate() {
        let module = compiled.get(i);
        let mut failures: Vec<(&str, &String)> =
            [("interpreter", outcome.failure.as_ref()), ("module", module.and_then(|m| m.failure.as_ref()))]
                .into_iter()
                .filter_map(|(engine, f)| f.map(|f| (engine, f)))
                .collect();
        // The engines agree byte for byte; when they fail alike, say it once.
        if let [(_, a), (_, b)] = failures.as_slice()
            && a == b
        {
            failures = vec![("interpreter and the module", a)];
        }
        if failures.is_empty() {
            continue;
        }
        failed += 1;
        for (engine, diff) in failures {
            report.push_str(&format!(
                "FAIL {} ({}:{}) on the {engine}\n{diff}",
                outcome.name,
                file.display(),
                outcome.line
            ));
        }
    }
    report.push_str(&format!("{} passed, {failed} failed\n", interpreted.len() - failed));
    common::out(&report)?;
    Ok(u8::from(failed > 0))
}

fn module_outcomes(program: &preflight_compiler::Program, source: &str) -> Result<Vec<TestOutcome>, String> {
    let bytes = preflight_compiler::wasm::compile(program, source)?;
    let runtime = preflight_runtime::Runtime::new(preflight_runtime::Limits::default()).map_err(|e| e.to_string())?;
    let mut evaluator = runtime.load(&bytes).and_then(|m| m.evaluator()).map_err(|e| e.to_string())?;
    let engine = std::cell::RefCell::new(&mut evaluator);
    Ok(testing::run_with(program, &|facts| engine.borrow_mut().evaluate(facts, None).unwrap_or_else(|e| e.to_string())))
}
