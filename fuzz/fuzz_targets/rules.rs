//! The rules front end on arbitrary text: check never panics or overflows its stack; its
//! diagnostics render (as excerpts) without a control character reaching the output; a file that
//! checks clean formats to a file that checks clean, and formatting it again changes nothing; a
//! clean program compiles to a valid module.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight_compiler::{check_source, format, wasm};

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else { return };
    let checked = check_source(source);
    let rendered = preflight_compiler::diagnostic::render_plain("fuzz.preflight", source, &checked.diagnostics);
    assert!(
        !rendered.chars().any(|c| c != '\n' && c != '\t' && (c.is_control() || c == '\u{202e}')),
        "a control character reached the rendering:\n{rendered:?}"
    );
    let Some(program) = checked.program else {
        let _ = format::format_source(source);
        return;
    };
    let formatted = format::format_source(source).expect("a clean file parses");
    let again = check_source(&formatted);
    let errors: Vec<_> = again.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect();
    assert!(errors.is_empty(), "formatting a clean file gave errors {errors:?}:\n{formatted}");
    assert_eq!(format::format_source(&formatted).expect("formatted parses"), formatted, "fmt is not idempotent");
    let bytes = wasm::compile(&program, source).expect("a clean program compiles");
    wasm::validate(&bytes).expect("the module validates");
});
