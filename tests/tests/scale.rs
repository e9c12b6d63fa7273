//! The checker on files ten times the ACS rules (`preflight_tests::scale`): every analysis
//! answers within its budget, and what it answers is right. How fast is the benchmark's business
//! (`preflight-bench check`), not a test's.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use preflight_tests::scale::acs_copies;

fn codes(source: &str) -> Vec<(String, String)> {
    let checked = preflight_compiler::check_source(source);
    assert!(checked.program.is_some(), "the generated file checks");
    checked.diagnostics.iter().map(|d| (d.code.to_string(), d.message.clone())).collect()
}

fn count(found: &[(String, String)], code: &str) -> usize {
    found.iter().filter(|(c, _)| c == code).count()
}

/// Copies that overlap everywhere: what the analyses find grows with the copies exactly (each
/// copy of a rule is redundant beside its original, as the first copy is), and every question is
/// answered (no P0211).
#[test]
fn overlapping_copies_are_each_found_redundant() {
    let one = codes(&acs_copies(2, false));
    let ten = codes(&acs_copies(10, false));
    assert!(!ten.iter().any(|(c, _)| c == "P0211"), "{ten:?}");
    assert!(count(&one, "P0201") >= 20, "{one:?}");
    assert_eq!(count(&ten, "P0201"), 9 * count(&one, "P0201"));
    assert_eq!(count(&ten, "P0200"), count(&one, "P0200"));
    for (code, message) in &ten {
        if code == "P0201" {
            // `X_copyK` is redundant beside `X`, never beside another rule.
            let later = message.split('`').nth(1).unwrap();
            let earlier = message.split('`').nth(3).unwrap();
            assert_eq!(later.split("_copy").next(), Some(earlier), "{message}");
        }
    }
}

/// Copies that each apply on a day of their own: each copy is redundant beside its (ungated)
/// original only, never beside a copy of another day; nothing contradicts; every question is
/// answered.
#[test]
fn disjoint_copies_are_redundant_only_beside_their_original() {
    let alone = codes(preflight_compiler::ACS_RULES);
    let found = codes(&acs_copies(10, true));
    for code in ["P0200", "P0202", "P0211"] {
        assert_eq!(count(&found, code), count(&alone, code), "{code}: {found:?}");
    }
    for (code, message) in &found {
        if code == "P0201" {
            let later = message.split('`').nth(1).unwrap();
            let earlier = message.split('`').nth(3).unwrap();
            assert_eq!(later.split("_copy").next(), Some(earlier), "{message}");
        }
    }
}
