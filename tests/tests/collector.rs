//! The generated collector: its structure for the built-in advisories (PowerShell is not
//! available here to run it), and that everything advisory-specific in it comes from the rules.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn every_collected_fact_is_set_once_in_schema_order() {
    let programs = preflight_compiler::builtin_programs().unwrap();
    let script = preflight_compiler::collector::powershell(&programs.iter().collect::<Vec<_>>(), false).unwrap();
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
    // Balanced braces and parentheses outside strings and comments: the script is at least well
    // nested (the browser tests parse it with a real PowerShell parser).
    let (mut braces, mut parens, mut quoted) = (0i64, 0i64, false);
    let code = &script[script.find("#>\n").unwrap()..];
    let code: String = code.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n");
    for c in code.chars() {
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
    let script = preflight_compiler::collector::powershell(&[&program], false).unwrap();
    assert!(script.contains("@{ Id = 'deep_security_agent'; Pattern = '^Example Vendor Agent' }"));
    assert!(!script.contains("Trend Micro Deep Security Agent"));
    assert!(!script.contains("UEFICA2023Status"), "only the advisories asked for");
    // A rules file that says how to collect nothing gets a script that collects nothing.
    let minimal = std::fs::read_to_string(support::root().join("tests/data/check/ok/minimal.preflight")).unwrap();
    let program = preflight_compiler::check_source(&minimal).program.unwrap();
    let script = preflight_compiler::collector::powershell(&[&program], false).unwrap();
    assert_eq!(script.matches("Set-Fact @(").count(), 0);
}

/// Every text is written as printable ASCII whatever it holds, and decodes back to itself: the
/// characters PowerShell ends a single-quoted string at (`'` and U+2018–U+201B) never appear
/// raw, nor anything a wrong code page would misread. (The browser tests parse whole scripts
/// with a real PowerShell parser.)
#[test]
fn quoted_texts_are_ascii_and_decode_to_themselves() {
    use preflight_compiler::collector::quote;
    let hostile = [
        "plain",
        "it's",
        "\u{2019}; Start-Process calc.exe; \u{2019}",
        "\u{2018}\u{2019}\u{201A}\u{201B}",
        "`$(calc)` @' \"x\" '@",
        "nul\0byte\ttab\nline\r",
        "\u{202E}rtl\u{200F} \u{2028}\u{2029}\u{85}",
        "\u{412} \u{D0}\u{2019} \u{1F600}",
        "",
    ];
    for text in hostile {
        let quoted = quote(text);
        assert!(quoted.bytes().all(|b| (b' '..=b'~').contains(&b)), "{quoted}");
        assert_eq!(decode(&quoted), text, "{quoted}");
    }
    assert_eq!(quote("it's"), "'it''s'");
    assert_eq!(quote("\u{2019}x"), "('' + [char]0x2019 + 'x')");
}

/// Reads back what `quote` writes: `'...'` with `''` for `'`, or `(PART + PART ...)` of such
/// strings and `[char]0xXXXX`.
fn decode(quoted: &str) -> String {
    let parts: Vec<&str> = match quoted.strip_prefix('(').and_then(|q| q.strip_suffix(')')) {
        Some(inner) => split_parts(inner),
        None => vec![quoted],
    };
    let mut units: Vec<u16> = Vec::new();
    for part in parts {
        if let Some(hex) = part.strip_prefix("[char]0x") {
            units.push(u16::from_str_radix(hex, 16).unwrap());
        } else {
            let inner = part.strip_prefix('\'').and_then(|p| p.strip_suffix('\'')).unwrap();
            assert!(!inner.replace("''", "").contains('\''), "a lone quote in {part}");
            units.extend(inner.replace("''", "'").encode_utf16());
        }
    }
    String::from_utf16(&units).unwrap()
}

/// ` + `-separated parts, not splitting inside quotes.
fn split_parts(inner: &str) -> Vec<&str> {
    let (mut parts, mut start, mut quoted) = (Vec::new(), 0, false);
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b' ' if !quoted && inner[i..].starts_with(" + ") => {
                parts.push(&inner[start..i]);
                start = i + 3;
                i += 3;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&inner[start..]);
    parts
}
