use crate::common::{self, DiagnosticOptions};
use std::path::PathBuf;

/// `preflight collector [FILE]... [-o Get-PreflightFacts.ps1]`: the PowerShell collector for the
/// given rules files (every built-in advisory when none is given), generated from their `from`
/// declarations.
pub fn run(files: &[PathBuf], out: Option<&std::path::Path>, options: &DiagnosticOptions) -> Result<u8, String> {
    let mut programs = if files.is_empty() { preflight_compiler::builtin_programs()? } else { Vec::new() };
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
