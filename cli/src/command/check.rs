use crate::common::{self, DiagnosticOptions, Format};
use std::path::Path;

pub fn run(file: &Path, options: &DiagnosticOptions) -> Result<u8, String> {
    let source = common::read(file)?;
    let name = file.display().to_string();
    let checked = preflight_compiler::check_source(&source);
    common::report(&name, &source, &checked.diagnostics, options)?;
    let failed = checked.program.is_none();
    if matches!(options.format, Format::Text) {
        let verdict = if failed { "has errors" } else { "is clean" };
        eprintln!("{name} {verdict}: {}", common::counts(&checked.diagnostics));
    }
    Ok(u8::from(failed))
}
