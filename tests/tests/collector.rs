//! The generated collector: its structure for the built-in advisories (PowerShell is not
//! available here to run it), and that everything advisory-specific in it comes from the rules.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn every_collected_fact_is_set_once_in_schema_order() {
    let programs = preflight_compiler::builtin_programs().unwrap();
    let script = preflight_compiler::collector::powershell(&programs.iter().collect::<Vec<_>>());
    let mut seen: Vec<String> = Vec::new();
    for program in &programs {
        for field in program.fields.iter().filter(|f| f.collect.is_some()) {
            let quoted: Vec<String> = field.path.iter().map(|s| format!("'{s}'")).collect();
            let set = format!("Set-Fact @({})", quoted.join(", "));
            if !seen.contains(&set) {
                assert_eq!(script.matches(&set).count(), 1, "{set}");
                seen.push(set);
            }
        }
    }
    // In order, each guarded so one failing source leaves only its fact out.
    let positions: Vec<usize> = seen.iter().map(|s| script.find(s.as_str()).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(script.matches("try { Set-Fact").count(), seen.len());
    assert!(script.trim_end().ends_with("$facts | ConvertTo-Json -Depth 8"));
    // Balanced braces and parentheses outside strings: the script is at least well nested.
    let (mut braces, mut parens, mut quoted) = (0i64, 0i64, false);
    for c in script.chars() {
        match c {
            '\'' => quoted = !quoted,
            '{' if !quoted => braces += 1,
            '}' if !quoted => braces -= 1,
            '(' if !quoted => parens += 1,
            ')' if !quoted => parens -= 1,
            _ => {}
        }
        assert!(braces >= 0 && parens >= 0);
    }
    assert_eq!((braces, parens, quoted), (0, 0, false));
    insta::assert_snapshot!(script);
}

/// Every product pattern, registry value and certificate name in the script is one the rules
/// declare: with a product renamed in a copy of the rules, the script follows.
#[test]
fn the_script_follows_the_rules() {
    let acs = preflight_compiler::ACS_RULES.replace("^Trend Micro Deep Security Agent", "^Example Vendor Agent");
    let program = preflight_compiler::check_source(&acs).program.unwrap();
    let script = preflight_compiler::collector::powershell(&[&program]);
    assert!(script.contains("@{ Id = 'deep_security_agent'; Pattern = '^Example Vendor Agent' }"));
    assert!(!script.contains("Trend Micro Deep Security Agent"));
    assert!(!script.contains("UEFICA2023Status"), "only the advisories asked for");
    // A rules file that says how to collect nothing gets a script that collects nothing.
    let minimal = std::fs::read_to_string(support::root().join("tests/data/check/ok/minimal.preflight")).unwrap();
    let program = preflight_compiler::check_source(&minimal).program.unwrap();
    let script = preflight_compiler::collector::powershell(&[&program]);
    assert_eq!(script.matches("Set-Fact @(").count(), 0);
}
