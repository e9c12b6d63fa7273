//! The emitted module, reviewed as text: an insta snapshot of the WebAssembly the compiler
//! writes for the minimal golden rules file (support runtime and generated code), and checks
//! that compiling is deterministic and the module imports nothing.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn minimal_module_as_wat() {
    let source = std::fs::read_to_string(support::root().join("tests/data/check/ok/minimal.preflight")).unwrap();
    let program = preflight_compiler::check_source(&source).program.unwrap();
    let bytes = preflight_compiler::wasm::compile(&program, &source).unwrap();
    let again = preflight_compiler::wasm::compile(&program, &source).unwrap();
    assert_eq!(bytes, again, "compilation is not deterministic");
    let wat = preflight_compiler::wasm::to_wat(&bytes).unwrap();
    assert!(!wat.contains("(import"), "the module imports something");
    insta::assert_snapshot!(wat);
}

#[test]
fn acs_module_is_deterministic_and_carries_metadata() {
    let program = support::acs();
    let a = preflight_compiler::wasm::compile(program, preflight_compiler::ACS_RULES).unwrap();
    let b = preflight_compiler::wasm::compile(program, preflight_compiler::ACS_RULES).unwrap();
    assert_eq!(a, b);
    let meta = preflight_compiler::wasm::read_metadata(&a).unwrap();
    assert_eq!(meta["advisory"]["id"], "acs_2023");
    assert_eq!(meta["abi"], preflight_compiler::wasm::ABI_VERSION);
}
