use crate::common::{self, DiagnosticOptions};
use std::path::Path;

/// `preflight compile FILE -o OUT.wasm [--emit wat]`
pub fn run(file: &Path, out: Option<&Path>, emit_wat: bool, options: &DiagnosticOptions) -> Result<u8, String> {
    let source = common::read(file)?;
    let Some(program) = common::load(file, options)? else {
        return Ok(1);
    };
    let bytes = preflight_compiler::wasm::compile(&program, &source)?;
    let contents = if emit_wat { preflight_compiler::wasm::to_wat(&bytes)?.into_bytes() } else { bytes.clone() };
    match out {
        Some(path) => {
            crate::output::write_file(path, &contents, &[("the rules file", file)])?;
            eprintln!("wrote {} ({} bytes{})", path.display(), contents.len(), if emit_wat { " of text" } else { "" });
        }
        None if emit_wat => common::out(&String::from_utf8_lossy(&contents))?,
        None => return Err("give the output file with -o OUT.wasm (or --emit wat to print text)".into()),
    }
    Ok(0)
}
