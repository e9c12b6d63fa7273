use crate::common::{self, DiagnosticOptions};
use std::path::PathBuf;

/// `preflight collector [FILE]... [-o Get-PreflightFacts.ps1]`: the PowerShell collector for the
/// given rules files (every built-in advisory when none is given), generated from their `from`
/// declarations.
pub fn run(files: &[PathBuf], out: Option<&std::path::Path>, options: &DiagnosticOptions) -> Result<u8, String> {
    let mut programs = Vec::new();
    if files.is_empty() {
        for (name, source) in preflight_compiler::BUILTIN_RULES {
            let program = preflight_compiler::check_source(source)
                .program
                .ok_or_else(|| format!("the built-in `{name}` has errors"))?;
            programs.push(program);
        }
    }
    for file in files {
        match common::load(file, options)? {
            Some(program) => programs.push(program),
            None => return Ok(1),
        }
    }
    let script = preflight_compiler::collector::powershell(&programs.iter().collect::<Vec<_>>());
    match out {
        Some(path) => {
            common::write_atomic(path, script.as_bytes())?;
            eprintln!("wrote {} ({} bytes)", path.display(), script.len());
        }
        None => common::out(&script)?,
    }
    Ok(0)
}
