//! The two engines behind `eval` and `batch`: the reference interpreter (`--rules`, or the
//! built-in ACS rules) and a compiled module (`--module`).

use crate::common::{self, Color, DiagnosticOptions, Format};
use preflight_compiler::Program;
use preflight_runtime::{Evaluator, Limits, Module, Runtime};
use std::path::Path;

#[derive(Clone)]
pub enum Engine {
    Interpreter(std::sync::Arc<Program>),
    Module(Module),
}

/// One engine per thread: the interpreter is shared, a module gets an instance each.
pub enum Worker {
    Interpreter(std::sync::Arc<Program>),
    Module(Box<Evaluator>),
}

impl Engine {
    /// `--module M` or `--rules FILE`; neither: the built-in ACS rules. `None` when the rules file
    /// has errors (its diagnostics are printed).
    pub fn open(rules: Option<&Path>, module: Option<&Path>) -> Result<Option<Engine>, String> {
        if let Some(path) = module {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            common::check_wasm(path, &bytes)?;
            let runtime = Runtime::new(Limits::default()).map_err(|e| e.to_string())?;
            let module = runtime.load(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(Some(Engine::Module(module)));
        }
        let program = match rules {
            Some(path) => common::load(path, &DiagnosticOptions { format: Format::Text, color: Color::Auto })?,
            None => preflight_compiler::check_source(preflight_compiler::ACS_RULES).program,
        };
        Ok(program.map(|p| Engine::Interpreter(std::sync::Arc::new(p))))
    }

    pub fn worker(&self) -> Result<Worker, String> {
        Ok(match self {
            Engine::Interpreter(p) => Worker::Interpreter(p.clone()),
            Engine::Module(m) => Worker::Module(Box::new(m.evaluator().map_err(|e| e.to_string())?)),
        })
    }
}

impl Worker {
    /// The answer JSON for one facts document; a module failure becomes an error object too,
    /// so that one bad host never stops a batch.
    pub fn answer(&mut self, facts: &str) -> String {
        match self {
            Worker::Interpreter(p) => preflight_compiler::answer(p, facts),
            Worker::Module(m) => m.evaluate(facts).unwrap_or_else(|e| {
                serde_json::json!({ "error": { "code": "engine", "field": "", "message": e.to_string() } }).to_string()
            }),
        }
    }
}

/// The module reads no clock: hosts fill in `as_of` when the facts leave it out. The key is
/// added at the front of the object, so a key given later (however spelt) still wins; anything
/// that is not an object is left alone so that its input error names the real fault.
pub fn with_as_of(facts: &str, date: &str) -> String {
    let trimmed = facts.trim_start();
    let Some(rest) = trimmed.strip_prefix('{') else { return facts.to_string() };
    if facts.contains("\"as_of\"") {
        return facts.to_string();
    }
    let separator = if rest.trim_start().starts_with('}') { "" } else { "," };
    format!("{{\"as_of\":\"{date}\"{separator}{rest}")
}
