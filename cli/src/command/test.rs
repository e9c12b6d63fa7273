use crate::common::{self, DiagnosticOptions};
use std::path::Path;

pub fn run(file: &Path, options: &DiagnosticOptions) -> Result<u8, String> {
    let Some(program) = common::load(file, options)? else {
        eprintln!("{}: the rules file has errors; no test was run", file.display());
        return Ok(1);
    };
    let outcomes = preflight_compiler::testing::run(&program);
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    for outcome in &failed {
        println!("FAIL {} ({}:{})", outcome.name, file.display(), outcome.line);
        if let Some(diff) = &outcome.failure {
            print!("{diff}");
        }
    }
    println!("{} passed, {} failed", outcomes.len() - failed.len(), failed.len());
    Ok(u8::from(!failed.is_empty()))
}
