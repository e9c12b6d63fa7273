//! What the subcommands share: reading files, rendering diagnostics, today's date.

use clap::{Args, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use preflight_compiler::{Diagnostic, Program, diagnostic};
use std::io::IsTerminal;
use std::path::Path;

#[derive(Clone, Copy, ValueEnum, Default)]
pub enum Format {
    /// Human-readable, with source excerpts.
    #[default]
    Text,
    /// One JSON object per diagnostic, one per line (for editors and CI).
    Json,
}

#[derive(Clone, Copy, ValueEnum, Default)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Args, Clone, Copy)]
pub struct DiagnosticOptions {
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Colour: auto uses colour on a terminal only.
    #[arg(long, value_enum, default_value_t)]
    pub color: Color,
}

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// Prints diagnostics to stderr (text) or stdout (JSON lines).
pub fn report(name: &str, source: &str, diagnostics: &[Diagnostic], options: &DiagnosticOptions) {
    match options.format {
        Format::Json => {
            for d in diagnostics {
                println!("{}", diagnostic::to_json(name, source, d));
            }
        }
        Format::Text => {
            let color = match options.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            };
            if color {
                let mut stream = StandardStream::stderr(ColorChoice::Always);
                if diagnostic::render_color(&mut stream, name, source, diagnostics).is_ok() {
                    return;
                }
            }
            eprint!("{}", diagnostic::render_plain(name, source, diagnostics));
        }
    }
}

/// Reads and checks a rules file, printing its diagnostics; the program if it has no error.
pub fn load(path: &Path, options: &DiagnosticOptions) -> Result<Option<Program>, String> {
    let source = read(path)?;
    let name = path.display().to_string();
    let checked = preflight_compiler::check_source(&source);
    report(&name, &source, &checked.diagnostics, options);
    Ok(checked.program)
}

/// Summarises diagnostics as rustc does: "2 errors, 1 warning".
pub fn counts(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let days = i32::try_from(secs / 86_400).unwrap_or(0);
    preflight_compiler::value::Date(days).to_string()
}
