//! The browser pages' engine, exported with wasm-bindgen. Every function is a thin wrapper over
//! [`api`], which is plain Rust tested natively.

pub mod api;

use wasm_bindgen::prelude::*;

/// What pasted command output says: `{facts, found, missing}` as JSON.
#[wasm_bindgen]
pub fn read_pasted(text: &str) -> String {
    api::read_pasted(text)
}

/// Diagnostics of a rules file as JSON: `{ok, diagnostics, rendered}`.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn check(source: &str) -> String {
    api::check(source)
}

/// The file's tests as JSON: `{ok, passed, failed, results}`.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn run_tests(source: &str) -> String {
    api::run_tests(source)
}

/// The answer for facts under a rules file, as of `date` (days since 1970-01-01) when the facts
/// give none.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn evaluate(source: &str, facts: &str, date: Option<i32>) -> String {
    api::evaluate(source, facts, date)
}

/// Completions at `at` (a UTF-16 offset) as JSON: `{from, to, items}`.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn complete(source: &str, at: u32) -> String {
    api::complete(source, at)
}

/// What hover shows at `at` (a UTF-16 offset) as JSON: `{from, to, markdown}` or `null`.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn hover(source: &str, at: u32) -> String {
    api::hover(source, at)
}

/// The text's colours as JSON: `{ok, spans: [[from, to, class]]}`.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn highlight(source: &str) -> String {
    api::highlight(source)
}

/// The compiled module's bytes.
#[cfg(feature = "playground")]
#[wasm_bindgen]
pub fn compile(source: &str) -> Result<Vec<u8>, JsValue> {
    api::compile(source).map_err(|e| JsValue::from_str(&e))
}
