use crate::common::{self, DiagnosticOptions};
use std::path::PathBuf;

/// `preflight collector [FILE]... [-o Get-PreflightFacts.ps1]`: the PowerShell collector for the
/// given rules files (every built-in advisory when none is given), generated from their `from`
/// declarations. Rules that carry PowerShell code (`from powershell`) are refused unless
/// `allow_code`.
pub fn run(
    files: &[PathBuf],
    out: Option<&std::path::Path>,
    allow_code: bool,
    options: &DiagnosticOptions,
) -> Result<u8, String> {
    let mut programs = if files.is_empty() { preflight_compiler::builtin_programs()? } else { Vec::new() };
    for file in files {
        match common::load(file, options)? {
            Some(program) => programs.push(program),
            None => return Ok(1),
        }
    }
    let script = match preflight_compiler::collector::powershell(&programs.iter().collect::<Vec<_>>(), allow_code) {
        Ok(script) => script,
        Err(refused) => {
            eprintln!("error: {refused}");
            return Ok(1);
        }
    };
    match out {
        Some(path) => {
            let inputs: Vec<crate::output::Input<'_>> = files.iter().map(|f| ("a rules file", f.as_path())).collect();
            crate::output::write_file(path, script.as_bytes(), &inputs)?;
            eprintln!("wrote {} ({} bytes)", path.display(), script.len());
        }
        None => common::out(&script)?,
    }
    Ok(0)
}
