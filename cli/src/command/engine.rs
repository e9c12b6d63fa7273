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
    /// The answer JSON for one facts document, evaluated as of `date` (days since 1970-01-01)
    /// when the facts give no date of their own. The host's date travels beside the bytes, never
    /// inside them. A module failure becomes an `engine` error object, so that one bad host never
    /// stops a batch; `Err` carries the same object for callers that count failures.
    pub fn answer(&mut self, facts: &[u8], date: Option<i32>) -> Result<String, String> {
        match self {
            Worker::Interpreter(p) => Ok(preflight_compiler::answer_with(p, facts, date)),
            Worker::Module(m) => m.evaluate(facts, date).map_err(|e| {
                serde_json::json!({ "error": { "code": "engine", "field": "", "message": e.to_string() } }).to_string()
            }),
        }
    }
}
