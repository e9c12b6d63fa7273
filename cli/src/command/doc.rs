use crate::common::{self, Color, DiagnosticOptions, Format};
use std::path::Path;

pub fn run(file: &Path, schema: bool) -> Result<u8, String> {
    let Some(program) = common::load(file, &DiagnosticOptions { format: Format::Text, color: Color::Auto })? else {
        return Ok(1);
    };
    if schema {
        let text = serde_json::to_string_pretty(&preflight_compiler::schema::facts_schema(&program))
            .map_err(|e| e.to_string())?;
        common::out(&format!("{text}\n"))?;
    } else {
        common::out(&preflight_compiler::schema::markdown(&program))?;
    }
    Ok(0)
}
