//! Preflight's compiler: rules file → diagnostics → IR → verdicts.
//!
//! The pipeline, one module per stage:
//! [`syntax`] (text → AST) → [`check`] (AST → IR, diagnostics) → [`interp`] (IR + [`facts`] →
//! [`verdict`]). [`format`] prints an AST back canonically and [`testing`] runs a file's own
//! tests. This crate never depends on wasmtime and builds for `wasm32-unknown-unknown`.

pub mod ast;
pub mod check;
pub mod diagnostic;
pub mod facts;
pub mod format;
pub mod interp;
pub mod ir;
pub mod json;
pub mod schema;
pub mod syntax;
pub mod testing;
pub mod value;
pub mod verdict;
pub mod wasm;

pub use diagnostic::Diagnostic;
pub use facts::InputError;
pub use ir::Program;
pub use verdict::Verdict;

/// The ACS advisory rules, built in so that `preflight eval` works with no file.
pub const ACS_RULES: &str = include_str!("../../rules/acs-2023.preflight");
/// The file name diagnostics use for [`ACS_RULES`].
pub const ACS_RULES_NAME: &str = "rules/acs-2023.preflight";

/// A checked rules file: the program when it has no error, and every diagnostic.
pub struct Checked {
    pub program: Option<Program>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and checks a rules file.
pub fn check_source(source: &str) -> Checked {
    match syntax::parse(source) {
        Ok(file) => {
            let (program, diagnostics) = check::check(&file, source);
            Checked { program, diagnostics }
        }
        Err(diagnostic) => Checked { program: None, diagnostics: vec![diagnostic] },
    }
}

/// Evaluates a facts document (the bytes a host received) to a verdict or an input error.
/// `evaluation_date` (days since 1970-01-01) is the host's date for the fact bound to the
/// `evaluation_date` role when the document leaves it out; `None` leaves the fact's own default.
pub fn evaluate(program: &Program, facts: &[u8], evaluation_date: Option<i32>) -> Result<Verdict, InputError> {
    let facts = facts::read(program, facts, evaluation_date)?;
    Ok(interp::evaluate(program, &facts))
}

/// The answer as the module gives it for a JSON text and no evaluation date.
pub fn answer(program: &Program, facts_json: &str) -> String {
    answer_with(program, facts_json.as_bytes(), None)
}

/// The answer as the module's `evaluate(ptr, len, date)` gives it: the verdict JSON, or
/// `{"error": {...}}`. `None` is the ABI's "no date" (`i32::MIN`).
pub fn answer_with(program: &Program, facts: &[u8], evaluation_date: Option<i32>) -> String {
    let value = match evaluate(program, facts, evaluation_date) {
        Ok(verdict) => serde_json::to_value(verdict),
        Err(error) => serde_json::to_value(ErrorAnswer { error }),
    };
    value
        .map(|v| v.to_string())
        .unwrap_or_else(|_| r#"{"error":{"code":"internal","field":"","message":"could not write the answer"}}"#.into())
}

#[derive(serde::Serialize)]
struct ErrorAnswer {
    error: InputError,
}
