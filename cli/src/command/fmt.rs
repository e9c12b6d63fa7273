use crate::common;
use std::path::Path;

pub fn run(file: &Path, check: bool, write: bool) -> Result<u8, String> {
    let source = common::read(file)?;
    let formatted = match preflight_compiler::format::format_source(&source) {
        Ok(text) => text,
        Err(diagnostic) => {
            eprint!(
                "{}",
                preflight_compiler::diagnostic::render_plain(&file.display().to_string(), &source, &[diagnostic])
            );
            return Ok(1);
        }
    };
    if check {
        if formatted != source {
            eprintln!("{} is not formatted; run `preflight fmt --write {}`", file.display(), file.display());
            return Ok(1);
        }
        return Ok(0);
    }
    if write {
        // The one output that replaces its input, on purpose.
        crate::output::write_file(file, formatted.as_bytes(), &[])?;
    } else {
        common::out(&formatted)?;
    }
    Ok(0)
}
