//! What the subcommands share: reading files, rendering diagnostics, today's date.

use clap::{Args, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use preflight_compiler::{Diagnostic, Program, diagnostic};
use std::io::{IsTerminal, Write};
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

/// Writes to standard output. Every command prints through here: `println!` panics when the
/// reader has gone (`preflight eval ... | head -1`) or the disk is full (`> /dev/full`).
/// A closed pipe ends the process quietly with success, as Unix tools do (nothing is left to
/// clean up at any call site); any other write error is an error (exit 3).
pub use preflight_compiler::diagnostic::printable;

pub fn out(text: &str) -> Result<(), String> {
    out_parts(&[text.as_bytes()])
}

/// [`out`] for text in parts, written one after the other.
pub fn out_parts(parts: &[&[u8]]) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    parts
        .iter()
        .try_for_each(|part| stdout.write_all(part))
        .and_then(|()| stdout.flush())
        .map_err(|e| stdout_failed(&e))
}

/// A failed write to standard output: a closed pipe ends the process quietly with success;
/// anything else is the error to report.
pub fn stdout_failed(e: &std::io::Error) -> String {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    format!("cannot write to standard output: {e}")
}

/// Refuses bytes that are not WebAssembly in one line, before any engine's internals get to
/// describe them.
pub fn check_wasm(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if !bytes.starts_with(b"\0asm") {
        return Err(format!("`{}` is not a WebAssembly module", path.display()));
    }
    preflight_compiler::wasm::validate(bytes).map_err(|e| {
        let first = e.lines().next().unwrap_or("").to_string();
        format!("`{}` is not a valid WebAssembly module: {first}", path.display())
    })
}

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))
}

/// Prints diagnostics to stderr (text) or stdout (JSON lines).
pub fn report(name: &str, source: &str, diagnostics: &[Diagnostic], options: &DiagnosticOptions) -> Result<(), String> {
    match options.format {
        Format::Json => {
            let lines: String =
                diagnostics.iter().map(|d| format!("{}\n", diagnostic::to_json(name, source, d))).collect();
            out(&lines)?;
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
                    return Ok(());
                }
            }
            eprint!("{}", diagnostic::render_plain(name, source, diagnostics));
        }
    }
    Ok(())
}

/// Reads and checks a rules file, printing its diagnostics; the program if it has no error.
pub fn load(path: &Path, options: &DiagnosticOptions) -> Result<Option<Program>, String> {
    let checked = check_path(path)?;
    report_checked(&checked, options)?;
    Ok(checked.program)
}

/// Reads and checks a rules file, following each `use` on disk (relative to the file using it).
pub fn check_path(path: &Path) -> Result<preflight_compiler::Checked, String> {
    let source = read(path)?;
    let name = path.display().to_string();
    let mut load = preflight_compiler::bundle::disk_loader(preflight_compiler::BUILTIN_LIBRARY);
    Ok(preflight_compiler::check_file(&name, &source, &mut load))
}

/// Prints a checked file's diagnostics, each against its own file (a used file's in that file).
pub fn report_checked(checked: &preflight_compiler::Checked, options: &DiagnosticOptions) -> Result<(), String> {
    for (name, text, diagnostic) in checked.by_file() {
        report(name, text, std::slice::from_ref(&diagnostic), options)?;
    }
    Ok(())
}

/// Summarises diagnostics as rustc does: "2 errors, 1 warning".
pub fn counts(diagnostics: &[Diagnostic]) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, w: &str| if n == 1 { format!("{n} {w}") } else { format!("{n} {w}s") };
    format!("{}, {}", plural(errors, "error"), plural(warnings, "warning"))
}

/// Today (UTC), in days since 1970-01-01: the evaluation date `eval` and `batch` pass to the
/// engines when `--as-of` does not name one.
pub fn today() -> i32 {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    i32::try_from(secs / 86_400).unwrap_or(0)
}

/// `--as-of`: a real `YYYY-MM-DD` day, as days since 1970-01-01.
pub fn parse_date(text: &str) -> Result<i32, String> {
    preflight_compiler::value::Date::parse(text)
        .map(|d| d.0)
        .ok_or_else(|| format!("`{text}` is not a date YYYY-MM-DD (a real day, such as 2023-03-01)"))
}
