//! The compiled ACS module answers the shared examples exactly as the interpreter does.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use preflight_runtime::{Limits, Runtime};

#[test]
fn shared_examples_agree_with_the_interpreter() {
    let checked = preflight_compiler::check_source(preflight_compiler::ACS_RULES);
    let program = checked.program.expect("clean");
    let bytes = preflight_compiler::wasm::compile(&program, preflight_compiler::ACS_RULES).expect("compiles");
    let runtime = Runtime::new(Limits::default()).expect("engine");
    let module = runtime.load(&bytes).expect("loads");
    let mut evaluator = module.evaluator().expect("instance");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("examples") {
        let path = entry.expect("entry").path();
        if !path.to_string_lossy().ends_with(".facts.json") {
            continue;
        }
        let facts = std::fs::read_to_string(&path).expect("read");
        let expected = preflight_compiler::answer(&program, &facts);
        let actual = evaluator.evaluate(&facts, None).expect("answers");
        assert_eq!(actual, expected, "{}", path.display());
        seen += 1;
    }
    assert!(seen >= 11);
}
