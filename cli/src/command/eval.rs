use crate::common::{self, DiagnosticOptions};
use preflight_compiler::{facts, interp};
use std::io::Read;
use std::path::Path;

pub fn run(rules: Option<&Path>, facts_arg: &str, explain: bool, as_of: Option<&str>) -> Result<u8, String> {
    let program = match rules {
        Some(path) => {
            common::load(path, &DiagnosticOptions { format: common::Format::Text, color: common::Color::Auto })?
        }
        None => preflight_compiler::check_source(preflight_compiler::ACS_RULES).program,
    };
    let Some(program) = program else {
        eprintln!("the rules file has errors; run `preflight check` on it");
        return Ok(1);
    };
    let input = read_facts(facts_arg)?;
    let today = common::today();
    let input = with_as_of(&input, as_of.unwrap_or(&today));
    let facts = match facts::read(&program, &input) {
        Ok(facts) => facts,
        Err(error) => {
            println!("{}", serde_json::json!({ "error": error }));
            return Ok(2);
        }
    };
    let (verdict, trace) = interp::evaluate_traced(&program, &facts);
    let mut out = serde_json::to_value(&verdict).map_err(|e| e.to_string())?;
    if explain && let Some(map) = out.as_object_mut() {
        map.insert("trace".into(), serde_json::to_value(&trace).map_err(|e| e.to_string())?);
    }
    println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    Ok(0)
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

/// The module reads no clock: the CLI fills in `as_of` when the facts leave it out. Anything that
/// is not a JSON object is passed through untouched so that the input error names the real fault.
fn with_as_of(input: &str, date: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(input) {
        Ok(serde_json::Value::Object(mut map)) if !map.contains_key("as_of") => {
            map.insert("as_of".into(), date.into());
            serde_json::Value::Object(map).to_string()
        }
        _ => input.to_string(),
    }
}
