//! Facts on both engines: the reference interpreter and the compiled ACS module (under wasmtime)
//! answer every byte string, with every evaluation date, byte for byte the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight_compiler::Program;
use preflight_runtime::{Evaluator, Limits, Runtime};
use std::sync::{LazyLock, Mutex};

static ENGINES: LazyLock<(Program, Mutex<Evaluator>)> = LazyLock::new(|| {
    let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.expect("ACS checks clean");
    let bytes = preflight_compiler::wasm::compile(&program, preflight_compiler::ACS_RULES).expect("ACS compiles");
    let runtime = Runtime::new(Limits::default()).expect("engine");
    let evaluator = runtime.load(&bytes).and_then(|m| m.evaluator()).expect("instance");
    (program, Mutex::new(evaluator))
});

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the evaluation date: none, a day in the advisory's years, or one
    // out of range.
    let (date, facts) = match data.split_first() {
        None => (None, data),
        Some((0, rest)) => (None, rest),
        Some((1, rest)) => (Some(i32::MAX), rest),
        Some((b, rest)) => (Some(19_000 + i32::from(*b) * 4), rest),
    };
    let (program, evaluator) = &*ENGINES;
    let expected = preflight_compiler::answer_with(program, facts, date);
    let actual = evaluator.lock().expect("one evaluator").evaluate(facts, date).expect("the module answers");
    assert_eq!(actual, expected, "engines disagree on {:?}", String::from_utf8_lossy(facts));
});
