//! A module that loops, hoards memory, traps or is not a Preflight module never takes the host
//! down: each gets a clear error, and an evaluator recovers after a trap.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use preflight_runtime::{Error, Limits, Runtime};

/// A module with the ABI's exports whose `evaluate` is `body`; its answer is the text at 2048
/// (`{"status":"ready"}`, 18 bytes, unless `answer` says otherwise).
fn abi_module(body: &str, abi: i32) -> Vec<u8> {
    module_answering(body, abi, r#"{\"status\":\"ready\"}"#)
}

fn module_answering(body: &str, abi: i32, answer: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(module
            (memory (export "memory") 1)
            (data (i32.const 2048) "{answer}")
            (func (export "alloc") (param i32) (result i32) (i32.const 1024))
            (func (export "output") (result i32) (i32.const 2048))
            (func (export "abi_version") (result i32) (i32.const {abi}))
            (func (export "evaluate") (param $ptr i32) (param $len i32) (param $date i32) (result i32) {body}))"#
    ))
    .unwrap()
}

fn runtime() -> Runtime {
    Runtime::new(Limits { time: std::time::Duration::from_millis(50), memory_bytes: 4 << 20 }).unwrap()
}

#[test]
fn an_endless_loop_runs_past_the_time_limit() {
    let mut e = runtime()
        .load(&abi_module("(loop $l (br $l)) (i32.const 0)", preflight_runtime::ABI_VERSION))
        .unwrap()
        .evaluator()
        .unwrap();
    assert!(matches!(e.evaluate("{}", None), Err(Error::TimeLimit)));
    // The deadline is per evaluation: the next one gets its own, and fails the same way.
    assert!(matches!(e.evaluate("{}", None), Err(Error::TimeLimit)));
}

#[test]
fn endless_recursion_is_a_trap_not_a_crash() {
    let deep = wat::parse_str(
        r#"(module
            (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) (i32.const 1024))
            (func (export "output") (result i32) (i32.const 2048))
            (func (export "abi_version") (result i32) (i32.const 4))
            (func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
            (func (export "evaluate") (param i32 i32 i32) (result i32) (call $down (i32.const 0))))"#,
    )
    .unwrap();
    let mut e = runtime().load(&deep).unwrap().evaluator().unwrap();
    assert!(matches!(e.evaluate("{}", None), Err(Error::Trap(_))));
}

#[test]
fn a_memory_hoard_hits_the_limit() {
    let hoard = "(loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable";
    let mut e = runtime().load(&abi_module(hoard, preflight_runtime::ABI_VERSION)).unwrap().evaluator().unwrap();
    assert!(matches!(e.evaluate("{}", None), Err(Error::MemoryLimit)), "{:?}", e.evaluate("{}", None));
}

#[test]
fn a_trap_is_an_error_and_the_evaluator_recovers() {
    // Traps on empty input, answers "" otherwise.
    let mut e = runtime()
        .load(&abi_module(
            "(if (i32.eqz (local.get $len)) (then unreachable)) (i32.const 18)",
            preflight_runtime::ABI_VERSION,
        ))
        .unwrap()
        .evaluator()
        .unwrap();
    assert!(matches!(e.evaluate("", None), Err(Error::Trap(_))));
    assert_eq!(e.evaluate("{}", None).unwrap(), r#"{"status":"ready"}"#);
}

#[test]
fn foreign_modules_are_refused_with_reasons() {
    let rt = runtime();
    let message = |bytes: &[u8]| match rt.load(bytes).and_then(|m| m.evaluator()) {
        Err(Error::BadModule(m)) => m,
        other => panic!("expected BadModule, got {:?}", other.map(|_| ())),
    };
    assert!(message(b"not wasm").contains("magic"));
    assert!(message(&wat::parse_str(r#"(module (import "env" "f" (func)))"#).unwrap()).contains("imports `env::f`"));
    assert!(
        message(&wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap()).contains("no `alloc` export")
    );
    assert!(message(&abi_module("(i32.const 0)", 1)).contains("ABI version 1"));
    let endless_version = wat::parse_str(
        r#"(module (memory (export "memory") 1)
            (func (export "alloc") (param i32) (result i32) (i32.const 0))
            (func (export "output") (result i32) (i32.const 0))
            (func (export "abi_version") (result i32) (loop $l (br $l)) (i32.const 2))
            (func (export "evaluate") (param i32 i32 i32) (result i32) (i32.const 0)))"#,
    )
    .unwrap();
    let said = message(&endless_version);
    assert_eq!(said, "its `abi_version` export ran past the time limit", "{said}");
}

#[test]
fn answers_that_are_not_one_line_of_json_are_refused() {
    for (answer, len) in [
        ("", 0),
        ("\\00\\00", 2),
        (r#"{\"status\":\n\"ready\"}"#, 19),
        (r#"{\"status\":\"ready\"}\n{}"#, 21),
        ("not json", 8),
        ("[1,2]", 5),
        (r#"{\"verdict\":1}"#, 13),
        ("\\ff\\fe", 2),
    ] {
        let bytes = module_answering(&format!("(i32.const {len})"), preflight_runtime::ABI_VERSION, answer);
        let mut e = runtime().load(&bytes).unwrap().evaluator().unwrap();
        let result = e.evaluate("{}", None);
        assert!(matches!(result, Err(Error::BadAnswer(_))), "{answer:?}: {result:?}");
    }
}

#[test]
fn the_acs_module_answers_oversized_and_huge_inputs_without_trapping() {
    let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap();
    let bytes = preflight_compiler::wasm::compile(&program, preflight_compiler::ACS_RULES).unwrap();
    let mut e = Runtime::new(Limits::default()).unwrap().load(&bytes).unwrap().evaluator().unwrap();
    // Whatever the size (here over the runtime's 64 MiB memory limit): too_large, never a trap,
    // because `alloc` reserves nothing for a document over the limit.
    for size in [(1 << 20) + 1, 2 << 20, 100 << 20] {
        let oversized = vec![b' '; size];
        let answer = e.evaluate(&oversized, None).unwrap();
        assert_eq!(answer, preflight_compiler::answer_with(&program, &oversized, None));
        assert!(answer.contains("\"too_large\""), "{answer}");
    }
    // Just under the size limit: ~80,000 hotfixes to decode and parse.
    let many: Vec<String> = (0..80_000).map(|i| format!("\"KB{}\"", 5_000_000 + i)).collect();
    let huge = format!(
        r#"{{"product":{{"id":"apex_one_saas"}},"os":{{"version":"6.1.7601","product_type":"server"}},"hotfixes":[{}]}}"#,
        many.join(",")
    );
    assert!(huge.len() < 1 << 20);
    assert_eq!(e.evaluate(&huge, None).unwrap(), preflight_compiler::answer(&program, &huge));
}

#[test]
fn a_cached_module_answers_like_a_compiled_one() {
    let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap();
    let bytes = preflight_compiler::wasm::compile(&program, preflight_compiler::ACS_RULES).unwrap();
    let dir = std::env::temp_dir().join(format!("preflight-runtime-cache-{}", std::process::id()));
    let host = r#"{"product":{"id":"wfbs","version":"10.0"},"os":{"version":"6.1.7601","product_type":"server"}}"#;
    let answers: Vec<String> = (0..2)
        .map(|_| {
            // A new runtime each time: the second finds the code the first stored.
            let runtime = Runtime::with_cache(Limits::default(), &dir).unwrap();
            runtime.load(&bytes).unwrap().evaluator().unwrap().evaluate(host, None).unwrap()
        })
        .collect();
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0], preflight_compiler::answer(&program, host));
    assert!(std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()), "nothing was stored");
    let _ = std::fs::remove_dir_all(&dir);
}
