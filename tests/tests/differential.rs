//! Differential testing: the reference interpreter and the compiled module answer 50,000
//! generated hosts (every SEMANTICS row and boundary, random hotfix lists, malformed and hostile
//! documents) with byte-identical JSON. No normalisation is applied.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use preflight_tests::hosts::{Rng, document_bytes, evaluation_date};
use std::collections::BTreeMap;

const HOSTS: usize = 50_000;

#[test]
fn interpreter_and_module_agree_on_generated_hosts() {
    let program = support::acs();
    let bytes = preflight_compiler::wasm::compile(program, preflight_compiler::ACS_RULES).unwrap();
    let runtime = preflight_runtime::Runtime::new(preflight_runtime::Limits::default()).unwrap();
    let mut evaluator = runtime.load(&bytes).unwrap().evaluator().unwrap();
    let mut rng = Rng::new(0x5EED_2023);
    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    for i in 0..HOSTS {
        let (doc, date) = (document_bytes(&mut rng), evaluation_date(&mut rng));
        let expected = preflight_compiler::answer_with(program, &doc, date);
        let actual = evaluator.evaluate(&doc, date).unwrap_or_else(|e| format!("runtime error: {e}"));
        if actual != expected && disagreements.len() < 5 {
            let doc = String::from_utf8_lossy(&doc);
            disagreements
                .push(format!("host {i} ({date:?}): {doc}\n  interpreter: {expected}\n  module:      {actual}"));
        }
        let value: serde_json::Value = serde_json::from_str(&expected).unwrap();
        let outcome = match value["error"]["code"].as_str() {
            Some(code) => format!("error {code}"),
            None => format!("status {}", value["status"].as_str().unwrap()),
        };
        *outcomes.entry(outcome).or_default() += 1;
    }
    eprintln!("outcomes over {HOSTS} hosts: {outcomes:?}");
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    // The generator reaches every status and every input error.
    for status in ["ready", "action_required", "limited", "unsupported", "not_affected", "unknown"] {
        assert!(outcomes.get(&format!("status {status}")).copied().unwrap_or(0) > 100, "{status}: {outcomes:?}");
    }
    // Every input error the generator can reach (facts under 1 MiB are never `too_large`).
    for code in preflight_compiler::facts::INPUT_ERROR_CODES.iter().filter(|c| **c != "too_large") {
        assert!(outcomes.get(&format!("error {code}")).copied().unwrap_or(0) > 20, "{code}: {outcomes:?}");
    }
}
