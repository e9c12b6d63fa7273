use super::engine::{Engine, with_as_of};
use crate::common;
use preflight_compiler::{facts, interp};
use std::io::Read;
use std::path::Path;

pub struct EvalArgs<'a> {
    pub rules: Option<&'a Path>,
    pub module: Option<&'a Path>,
    pub facts: &'a str,
    pub explain: bool,
    pub as_of: Option<&'a str>,
}

/// `preflight eval [--rules FILE | --module M.wasm] FACTS [--explain] [--as-of DATE]`
pub fn run(args: &EvalArgs<'_>) -> Result<u8, String> {
    let Some(engine) = Engine::open(args.rules, args.module)? else {
        eprintln!("the rules file has errors; run `preflight check` on it");
        return Ok(1);
    };
    let input = with_as_of(&read_facts(args.facts)?, args.as_of.unwrap_or(&common::today()));
    let answer: serde_json::Value = match (&engine, args.explain) {
        (Engine::Interpreter(program), true) => match facts::read(program, &input) {
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
            let text = engine.worker()?.answer(&input);
            serde_json::from_str(&text).map_err(|e| format!("the engine answered something that is not JSON: {e}"))?
        }
    };
    common::out(&format!("{}\n", serde_json::to_string_pretty(&answer).map_err(|e| e.to_string())?))?;
    Ok(if answer.get("error").is_some() { 2 } else { 0 })
}

fn read_facts(arg: &str) -> Result<String, String> {
    if arg == "-" {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input).map_err(|e| format!("cannot read standard input: {e}"))?;
        Ok(input)
    } else {
        common::read(Path::new(arg))
    }
}
