use crate::common::{self, DiagnosticOptions, Format};
use std::path::PathBuf;

/// `preflight check FILE...`: each file's diagnostics; with several, also what the files loaded
/// together would disagree on (P0207).
pub fn run(files: &[PathBuf], options: &DiagnosticOptions) -> Result<u8, String> {
    let mut loaded: Vec<(String, String, Option<preflight_compiler::Program>)> = Vec::new();
    let mut failed = false;
    for file in files {
        let source = common::read(file)?;
        let name = file.display().to_string();
        let checked = common::check_path(file)?;
        common::report_checked(&checked, options)?;
        failed |= checked.program.is_none();
        if matches!(options.format, Format::Text) {
            let verdict = if checked.program.is_none() { "has errors" } else { "is clean" };
            eprintln!("{name} {verdict}: {}", common::counts(&checked.diagnostics));
        }
        loaded.push((name, source, checked.program));
    }
    let together: Vec<(usize, preflight_compiler::across::Loaded<'_>)> = loaded
        .iter()
        .enumerate()
        .filter_map(|(i, (_, source, p))| {
            p.as_ref().map(|program| (i, preflight_compiler::across::Loaded { source, program }))
        })
        .collect();
    let (indexes, files_together): (Vec<usize>, Vec<_>) = together.into_iter().unzip();
    for (k, diagnostic) in preflight_compiler::across::check(&files_together) {
        let Some((name, source, _)) = indexes.get(k).and_then(|i| loaded.get(*i)) else { continue };
        common::report(name, source, std::slice::from_ref(&diagnostic), options)?;
    }
    Ok(u8::from(failed))
}
