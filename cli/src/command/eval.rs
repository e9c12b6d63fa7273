use super::engine::Engine;
use crate::common;
use preflight_compiler::{facts, interp};
use std::io::Read;
use std::path::Path;

pub struct EvalArgs<'a> {
    pub rules: Option<&'a Path>,
    pub module: Option<&'a Path>,
    pub facts: &'a str,
    pub explain: bool,
    /// Days since 1970-01-01; today when absent.
    pub as_of: Option<i32>,
}

/// `preflight eval [--rules FILE | --module M.wasm] FACTS [--explain] [--as-of DATE]`
pub fn run(args: &EvalArgs<'_>) -> Result<u8, String> {
    let Some(engine) = Engine::open(args.rules, args.module)? else {
        eprintln!("the rules file has errors; run `preflight check` on it");
        return Ok(1);
    };
    let input = read_facts(args.facts)?;
    let date = Some(args.as_of.unwrap_or_else(common::today));
    let answer: serde_json::Value = match (&engine, args.explain) {
        (Engine::Interpreter(program), true) => match facts::read(program, &input, date) {
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
        (Engine::Module(_), true) => {
            return Err("--explain traces the interpreter; use it with --rules (or no engine option)".into());
        }
        (_, false) => {
            let text = engine.worker()?.answer(&input, date).unwrap_or_else(|error| error);
            serde_json::from_str(&text).map_err(|e| format!("the engine answered something that is not JSON: {e}"))?
        }
    };
    common::out(&format!("{}\n", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?))?;
    Ok(if answer.get("error").is_some() { 2 } else { 0 })
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
