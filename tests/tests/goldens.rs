//! Golden tests over `tests/data/check/{ok,err}/*.preflight`: "ok" files must check with no
//! diagnostic, "err" files with at least one, and the rendered diagnostics of every file are an
//! insta snapshot. Each err file's name starts with the code it demonstrates, which must appear.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use preflight_compiler::diagnostic::render_plain;

#[test]
fn check_goldens() {
    insta::glob!("../data/check", "*/*.preflight", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let checked = preflight_compiler::check_source(&source);
        let kind = path.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
        if kind == "ok" {
            assert!(
                checked.diagnostics.is_empty(),
                "{name} should be clean:\n{}",
                render_plain(&name, &source, &checked.diagnostics)
            );
            assert!(checked.program.is_some());
        } else {
            let code = name.split('-').next().unwrap();
            assert!(
                checked.diagnostics.iter().any(|d| d.code == code),
                "{name} should report {code}:\n{}",
                render_plain(&name, &source, &checked.diagnostics)
            );
        }
        insta::assert_snapshot!(render_plain(&name, &source, &checked.diagnostics));
    });
}

/// A directory in `err/` is a set of rules files loaded together (`preflight check A B`): what
/// they disagree on, as a snapshot of each warning rendered in its file.
#[test]
fn check_golden_sets() {
    let dir = support::root().join("tests/data/check/err");
    let mut sets = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let set = entry.unwrap().path();
        // A set with a `main.preflight` is a file and the files it uses (`check_use_sets`).
        if !set.is_dir() || set.join("main.preflight").exists() {
            continue;
        }
        let mut files: Vec<_> = std::fs::read_dir(&set).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let sources: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.file_name().unwrap().to_string_lossy().to_string(), std::fs::read_to_string(f).unwrap()))
            .collect();
        let programs: Vec<_> = sources
            .iter()
            .map(|(_, s)| preflight_compiler::check_source(s).program.expect("each file checks"))
            .collect();
        let loaded: Vec<_> = sources
            .iter()
            .zip(&programs)
            .map(|((_, source), program)| preflight_compiler::across::Loaded { source, program })
            .collect();
        let found = preflight_compiler::across::check(&loaded);
        let set_name = set.file_name().unwrap().to_string_lossy().to_string();
        let code = set_name.split('-').next().unwrap();
        assert!(found.iter().any(|(_, d)| d.code == code), "{set_name} should report {code}");
        let rendered: String =
            found.iter().map(|(i, d)| render_plain(&sources[*i].0, &sources[*i].1, std::slice::from_ref(d))).collect();
        insta::assert_snapshot!(set_name, rendered);
        sets += 1;
    }
    assert!(sets > 0);
}

/// Golden sets of a file and the files it `use`s (`main.preflight` and the others beside it):
/// each diagnostic rendered in its own file.
#[test]
fn check_use_sets() {
    let dir = support::root().join("tests/data/check/err");
    let mut sets = 0;
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for set in names.into_iter().filter(|s| s.join("main.preflight").exists()) {
        let source = std::fs::read_to_string(set.join("main.preflight")).unwrap();
        let mut load = |from: &str, used: &str| -> Result<(String, String), String> {
            let name = preflight_compiler::bundle::join(from, used);
            std::fs::read_to_string(set.join(&name)).map(|t| (name.clone(), t)).map_err(|e| e.to_string())
        };
        let checked = preflight_compiler::check_file("main.preflight", &source, &mut load);
        let set_name = set.file_name().unwrap().to_string_lossy().to_string();
        let code = set_name.split('-').next().unwrap();
        assert!(checked.diagnostics.iter().any(|d| d.code == code), "{set_name} should report {code}");
        let rendered: String =
            checked.by_file().iter().map(|(name, text, d)| render_plain(name, text, std::slice::from_ref(d))).collect();
        insta::assert_snapshot!(set_name, rendered);
        sets += 1;
    }
    assert!(sets >= 2);
}

/// Every golden and the ACS rules format idempotently, to the same AST.
#[test]
fn format_is_idempotent_on_goldens() {
    insta::glob!("../data/check", "*/*.preflight", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let Ok(once) = preflight_compiler::format::format_source(&source) else { return };
        let twice = preflight_compiler::format::format_source(&once).unwrap();
        assert_eq!(once, twice, "{}", path.display());
    });
}

#[test]
fn acs_rules_are_formatted_and_clean() {
    let source = preflight_compiler::ACS_RULES;
    assert_eq!(
        preflight_compiler::format::format_source(source).unwrap(),
        source,
        "run `preflight fmt --write rules/acs-2023.preflight`"
    );
    let checked = preflight_compiler::check_source(source);
    assert!(checked.diagnostics.is_empty(), "{}", render_plain("acs", source, &checked.diagnostics));
}

#[test]
fn acs_in_file_tests_pass() {
    let program = support::acs();
    let outcomes = preflight_compiler::testing::run(program);
    assert!(outcomes.len() >= 80, "only {} tests", outcomes.len());
    let failed: Vec<_> = outcomes.iter().filter(|o| o.failure.is_some()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

/// Every fix a diagnostic of the goldens offers (the replacement an editor applies as a quick fix)
/// does what it says: once applied, that diagnostic is gone from its place.
#[test]
fn fixes_remove_their_diagnostic() {
    let dir = support::root().join("tests/data/check/err");
    let mut fixed = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "preflight")) {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        for d in preflight_compiler::check_source(&source).diagnostics {
            let Some(fix) = &d.fix else { continue };
            let mut repaired = source.clone();
            repaired.replace_range(fix.span.range(), &fix.replacement);
            let after = preflight_compiler::check_source(&repaired).diagnostics;
            assert!(
                !after.iter().any(|a| a.code == d.code && a.primary.span.start == d.primary.span.start),
                "{name}: replacing `{}` with `{}` leaves {} in place:\n{}",
                &source[fix.span.range()],
                fix.replacement,
                d.code,
                render_plain(&name, &repaired, &after)
            );
            fixed.push(format!("{name}: `{}` → `{}`", &source[fix.span.range()], fix.replacement));
        }
    }
    // The goldens exercise every kind of fix: misspelt keywords and names, `=`, `-` and dates.
    insta::assert_snapshot!(fixed.join("\n"));
}
