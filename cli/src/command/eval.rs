use super::engine::{Engine, Engines};
use crate::common;
use preflight_compiler::{facts, interp};
use std::io::Read;
use std::path::PathBuf;

pub struct EvalArgs<'a> {
    pub rules: &'a [PathBuf],
    pub modules: &'a [PathBuf],
    pub facts: &'a str,
    pub explain: bool,
    /// Days since 1970-01-01; today when absent.
    pub as_of: Option<i32>,
}

/// `preflight eval [--rules FILE]... [--module M.wasm]... FACTS [--explain] [--as-of DATE]`: one
/// advisory's answer as it is; several (the built-in ones by default) keyed by advisory id.
pub fn run(args: &EvalArgs<'_>) -> Result<u8, String> {
    let Some(engines) = Engines::open(args.rules, args.modules)? else {
        eprintln!("a rules file has errors; run `preflight check` on it");
        return Ok(1);
    };
    let input = read_facts(args.facts)?;
    let date = Some(args.as_of.unwrap_or_else(common::today));
    let mut answers: Vec<(String, serde_json::Value)> = Vec::new();
    for (id, engine) in &engines.0 {
        answers.push((id.clone(), answer(engine, &input, date, args.explain)?));
    }
    let any_error = answers.iter().any(|(_, a)| a.get("error").is_some());
    let answer = match answers.as_slice() {
        [(_, one)] => one.clone(),
        _ => serde_json::Value::Object(answers.into_iter().collect()),
    };
    common::out(&format!("{}\n", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?))?;
    Ok(if any_error { 2 } else { 0 })
}

/// One advisory's answer, with the interpreter's trace when asked.
fn answer(engine: &Engine, input: &[u8], date: Option<i32>, explain: bool) -> Result<serde_json::Value, String> {
    Ok(match (engine, explain) {
        (Engine::Interpreter(program), true) => match facts::read(program, input, date) {
            Ok(facts) => {
                let (verdict, trace) = interp::evaluate_traced(program, &facts);
                let mut value = serde_json::to_value(&verdict).map_err(|e| e.to_string())?;
                if let Some(map) = value.as_object_mut() {
                    map.insert("trace".into(), serde_json::to_value(&trace).map_err(|e| e.to_string())?);
                }
                value
            }
            Err(error) => serde_json::json!({ "error": error }),
        },
        (Engine::Module(..), true) => {
            return Err("--explain traces the interpreter; use it with --rules (or no engine option)".into());
        }
        (_, false) => {
            let text = engine.worker()?.answer(input, date).unwrap_or_else(|error| error);
            serde_json::from_str(&text).map_err(|e| format!("the engine answered something that is not JSON: {e}"))?
        }
    })
}

/// The facts' bytes, read no further than one byte past the largest document any engine accepts:
/// a 200 MB file costs 1 MiB of memory and still gets its `too_large` answer.
fn read_facts(arg: &str) -> Result<Vec<u8>, String> {
    let limit = facts::MAX_INPUT_BYTES as u64 + 1;
    let mut input = Vec::new();
    let result = if arg == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut input)
    } else {
        let file = std::fs::File::open(arg).map_err(|e| format!("cannot read `{arg}`: {e}"))?;
        file.take(limit).read_to_end(&mut input)
    };
    result.map_err(|e| format!("cannot read `{arg}`: {e}"))?;
    Ok(input)
}
