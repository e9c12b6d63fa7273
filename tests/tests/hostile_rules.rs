//! Hostile rules files: whatever the text, every stage (check, fmt, compile, doc, the in-file
//! tests) answers with diagnostics or a result — never a stack overflow, a panic or a hang. And a
//! file that checks clean formats to a file that checks clean.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use preflight_compiler::syntax::MAX_NESTING;
use preflight_compiler::{check_source, format, schema, testing, wasm};

/// Runs every stage a user can reach on `source`; returns the diagnostic codes of the check.
fn every_stage(source: &str) -> Vec<&'static str> {
    let checked = check_source(source);
    let _ = format::format_source(source);
    if let Some(program) = &checked.program {
        let _ = wasm::compile(program, source);
        let _ = schema::markdown(program);
        let _ = testing::run_with(program, &|facts| preflight_compiler::answer(program, facts));
    }
    checked.diagnostics.iter().map(|d| d.code).collect()
}

/// A rule whose condition opens `depth` parentheses after `prefix`.
fn deep_rule(prefix: &str, depth: usize) -> String {
    format!("advisory a {{ title \"t\" }}\n{prefix}\nlet x = {}true{}\n", "(".repeat(depth), ")".repeat(depth))
}

#[test]
fn nesting_is_bounded_whatever_precedes_it() {
    // Each prefix once hid the brackets after it from the nesting bound: a comment ending in a
    // bare CR, and a string holding a backslash before a line end.
    let prefixes = [
        "",
        "// a comment ending in a bare CR\r",
        "// CRLF\r\n",
        "let s = \"a\\\n\"",
        "let s = \"a\\\r\"",
        "/// doc\r",
        "//// four slashes\r",
    ];
    for prefix in prefixes {
        for depth in [MAX_NESTING + 1, 2_000, 8_000] {
            let codes = every_stage(&deep_rule(prefix, depth));
            assert!(codes.contains(&"P0002") || codes.contains(&"P0001"), "{prefix:?} {depth}: {codes:?}");
        }
    }
}

#[test]
fn nesting_within_the_bound_is_accepted() {
    // Exactly at the bound (the rule's braces are one level), every stage runs on a test
    // thread's 2 MiB stack, and the file means what it meant.
    let depth = MAX_NESTING - 1;
    let when = "when covered and host.os == win10_21h2";
    let deep = format!("when {}covered{} and host.os == win10_21h2", "(".repeat(depth), ")".repeat(depth));
    let source = preflight_compiler::ACS_RULES.replacen(when, &deep, 1);
    assert_ne!(source, preflight_compiler::ACS_RULES);
    let codes = every_stage(&source);
    assert!(!codes.contains(&"P0002"), "{codes:?}");
    let program = check_source(&source).program.unwrap();
    let failed = testing::run(&program).iter().filter(|t| t.failure.is_some()).count();
    assert_eq!(failed, 0);
}

#[test]
fn deep_brackets_in_every_bracketed_construct_are_bounded() {
    for (open, close) in [("[", "]"), ("{", "}"), ("(", ")")] {
        let json = format!("test t {{ given {{ a: {}1{} }} expect ready }}", open.repeat(5_000), close.repeat(5_000));
        let codes = every_stage(&json);
        assert!(codes.contains(&"P0002"), "{open}: {codes:?}");
    }
}

#[test]
fn long_chains_without_brackets_are_bounded() {
    let mut lets = String::from("advisory a { title \"t\" }\nlet l0 = true\n");
    for i in 1..5_000 {
        lets.push_str(&format!("let l{i} = l{}\n", i - 1));
    }
    every_stage(&lets);
    let chain = (0..20_000).map(|i| format!("a{i}")).collect::<Vec<_>>().join(" or ");
    every_stage(&format!("advisory a {{ title \"t\" }}\nlet x = {chain}\n"));
    let nots = "not ".repeat(20_000);
    every_stage(&format!("advisory a {{ title \"t\" }}\nlet x = {nots}true\n"));
}

/// fmt keeps comments where the parser sees them: text after a bare CR is code, not comment.
#[test]
fn fmt_of_a_clean_file_checks_clean() {
    let acs = preflight_compiler::ACS_RULES;
    let variants = [
        acs.replace("\n// ----", "\r// ----"),
        acs.replace('\n', "\r\n"),
        acs.replace("\n// ", "\n//// "),
        acs.replacen("\nfacts {", "\n// a comment\rfacts {", 1),
    ];
    for (i, source) in variants.iter().enumerate() {
        let before = check_source(source);
        if before.program.is_none() {
            continue;
        }
        let formatted = format::format_source(source).unwrap();
        let after = check_source(&formatted);
        let errors: Vec<_> = after.diagnostics.iter().filter(|d| d.is_error()).map(|d| d.code).collect();
        assert!(errors.is_empty(), "variant {i}: {errors:?}");
        assert_eq!(format::format_source(&formatted).unwrap(), formatted, "variant {i}: not idempotent");
    }
}

/// A rules file on one line shows each diagnostic with a window of its line, not the whole line:
/// the rendered output grows with the diagnostics, not with the line (a 79 KB line under each of
/// hundreds of diagnostics made hundreds of megabytes). Locations stay the file's own.
#[test]
fn a_long_line_is_clipped_around_each_diagnostic() {
    let mut source = String::from("advisory a { title \"t\" published 2023-01-01 } ");
    for i in 0..3_000 {
        source.push_str(&format!("let v{i} = undeclared_{i} "));
    }
    assert!(source.len() > 60_000 && !source.contains('\n'));
    let checked = check_source(&source);
    let diagnostics = &checked.diagnostics;
    assert!(diagnostics.len() > 1_000, "{}", diagnostics.len());
    let rendered = preflight_compiler::diagnostic::render_plain("one-line.preflight", &source, diagnostics);
    assert!(
        rendered.len() < diagnostics.len() * 1_000,
        "{} bytes for {} diagnostics",
        rendered.len(),
        diagnostics.len()
    );
    // The last undeclared name is reported at its real column, and shown under its label.
    let at = source.find("undeclared_2999").unwrap() + 1;
    assert!(rendered.contains(&format!("one-line.preflight:1:{at}")), "column {at}");
    assert!(rendered.contains("let v2999 = undeclared_2999 "), "the window around the label");
    assert!(rendered.contains('…'), "the cut is marked");
}

/// Control characters in a rules file (terminal escapes, a bidirectional override, a lone CR)
/// are shown as placeholders under a diagnostic, never written to the terminal.
#[test]
fn control_characters_never_reach_the_terminal() {
    let source = "advisory a {\n  title \"t\u{1b}[2J\u{1b}]0;x\u{7}\u{202e}yz\" published 2023-13-01\n  source \"\\\u{1b}\"\n}\n";
    let checked = check_source(source);
    assert!(!checked.diagnostics.is_empty());
    let rendered = preflight_compiler::diagnostic::render_plain("esc.preflight", source, &checked.diagnostics);
    for c in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(!rendered.contains(c), "{c:?} in {rendered}");
    }
    assert!(rendered.contains("esc.preflight:2:36"), "{rendered}");
    // A message quoting the source (an unknown escape `\<ESC>`) is escaped too.
    assert!(rendered.contains("unknown escape `\\\\u{1b}`"), "{rendered}");
    assert!(rendered.contains("title \"t?[2J?]0;x?\u{fffd}yz\""), "{rendered}");
}
