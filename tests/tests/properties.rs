//! Property tests: the formatter is idempotent and keeps meaning on generated programs, and the
//! interpreter answers every input — arbitrary JSON, mutated facts, raw text — without panicking.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

use proptest::prelude::*;

/// AST dump without spans: two files mean the same when these are equal.
fn shape(source: &str) -> String {
    let file = preflight_compiler::syntax::parse(source).unwrap();
    let dump = format!("{file:?}");
    regex_lite::Regex::new(r"@\d+\.\.\d+").unwrap().replace_all(&dump, "").to_string()
}

/// The source text of each item of the ACS rules file.
fn acs_items() -> Vec<String> {
    let source = preflight_compiler::ACS_RULES;
    let file = preflight_compiler::syntax::parse(source).unwrap();
    file.items
        .iter()
        .map(|item| {
            let span = match item {
                preflight_compiler::ast::Item::Use(u) => u.span,
                preflight_compiler::ast::Item::Decl(d) => d.span,
                preflight_compiler::ast::Item::Series(s) => s.span,
                preflight_compiler::ast::Item::Facts(f) => f.span,
                preflight_compiler::ast::Item::Host(h) => h.span,
                preflight_compiler::ast::Item::Let(l) => l.span,
                preflight_compiler::ast::Item::Rule(r) => r.span,
                preflight_compiler::ast::Item::Test(t) => t.span,
            };
            source[span.range()].to_string()
        })
        .collect()
}

fn separator() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\n".to_string()),
        Just("\n\n\n".to_string()),
        Just(" ".to_string()),
        Just("\n// a comment\n".to_string()),
        Just("\n// two\n// comments\n\n".to_string()),
    ]
}

/// Random conditions over real names, with parentheses, `not`, `in` and nesting.
fn condition() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("esu".to_string()),
        Just("host.os == win11".to_string()),
        Just("host.os in [win7_sp1, server2008r2]".to_string()),
        Just("as_of >= 2023-01-10".to_string()),
        Just("patched(KB5006714)".to_string()),
        Just("known(root_ca.auto_update)".to_string()),
        Just("product.version in [9.6, 10.0]".to_string()),
        Just("not azure".to_string()),
    ];
    atom.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn fmt_is_idempotent_and_keeps_meaning(
        picks in proptest::collection::vec(any::<prop::sample::Index>(), 1..12),
        seps in proptest::collection::vec(separator(), 12),
        cond in condition(),
    ) {
        let items = acs_items();
        let mut source = String::new();
        for (pick, sep) in picks.iter().zip(&seps) {
            source.push_str(&items[pick.index(items.len())]);
            source.push_str(sep);
        }
        source.push_str(&format!("\nrule generated {{\n  when {cond}\n  severity info\n  message \"m\"\n}}\n"));
        let once = preflight_compiler::format::format_source(&source).unwrap();
        prop_assert_eq!(shape(&source), shape(&once));
        let twice = preflight_compiler::format::format_source(&once).unwrap();
        prop_assert_eq!(&once, &twice);
        prop_assert_eq!(source.matches("//").count() - source.matches("///").count(), once.matches("//").count() - once.matches("///").count());
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
        ".{0,12}".prop_map(serde_json::Value::String),
        prop_oneof![
            Just("10.0.19044.1585"),
            Just("6.1.7601"),
            Just("KB5006714"),
            Just("windows"),
            Just("server"),
            Just("apex_one"),
            Just("20.0"),
            Just("2023-01-10")
        ]
        .prop_map(|s| serde_json::Value::String(s.to_string())),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("product".to_string()),
                        Just("os".to_string()),
                        Just("id".to_string()),
                        Just("version".to_string()),
                        Just("hotfixes".to_string()),
                        Just("esu".to_string()),
                        Just("root_ca".to_string()),
                        Just("as_of".to_string()),
                        "[a-z_]{1,8}".prop_map(|s| s)
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Answers are always JSON with either a status or an error code.
fn assert_answer_is_well_formed(answer: &str) -> Result<(), TestCaseError> {
    let value: serde_json::Value =
        serde_json::from_str(answer).map_err(|e| TestCaseError::fail(format!("not JSON: {e}: {answer}")))?;
    let ok = value.get("status").and_then(|s| s.as_str()).is_some() || value["error"]["code"].as_str().is_some();
    prop_assert!(ok, "{}", answer);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn interpreter_answers_arbitrary_json(value in json_value()) {
        let program = support::acs();
        assert_answer_is_well_formed(&preflight_compiler::answer(program, &value.to_string()))?;
    }

    #[test]
    fn interpreter_answers_arbitrary_text(text in ".{0,200}") {
        let program = support::acs();
        assert_answer_is_well_formed(&preflight_compiler::answer(program, &text))?;
    }

    #[test]
    fn interpreter_answers_mutated_facts(
        product in prop_oneof![Just("apex_one"), Just("apex_one_saas"), Just("deep_security_agent"), Just("wfbs"), Just("nope")],
        version in prop_oneof![Just(serde_json::json!("20.0")), Just(serde_json::json!("2019")), Just(serde_json::json!(20)), Just(serde_json::Value::Null), Just(serde_json::json!("x.y"))],
        os in prop_oneof![Just("6.1.7601"), Just("10.0.19044.1585"), Just("5.2.3790"), Just("10.0"), Just("")],
        role in prop_oneof![Just(serde_json::json!("server")), Just(serde_json::json!("workstation")), Just(serde_json::json!(3))],
        hotfixes in proptest::collection::vec(prop_oneof![Just(serde_json::json!("KB5006743")), Just(serde_json::json!("4474419")), Just(serde_json::json!("File 1")), Just(serde_json::json!(1))], 0..4),
        esu in any::<Option<bool>>(),
    ) {
        let facts = serde_json::json!({
            "product": { "id": product, "version": version },
            "os": { "version": os, "product_type": role },
            "hotfixes": hotfixes,
            "esu": esu,
        });
        let program = support::acs();
        assert_answer_is_well_formed(&preflight_compiler::answer(program, &facts.to_string()))?;
    }
}

#[test]
fn deeply_nested_and_huge_inputs_are_input_errors() {
    let program = support::acs();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(preflight_compiler::answer(program, &deep).contains("\"invalid_json\""));
    let huge = format!("{{\"pad\": \"{}\"}}", "x".repeat(2 << 20));
    assert!(preflight_compiler::answer(program, &huge).contains("\"too_large\""));
}

#[test]
fn rules_files_that_nest_too_deep_get_a_diagnostic() {
    let source = format!("let x = {}esu{}", "(".repeat(10_000), ")".repeat(10_000));
    let checked = preflight_compiler::check_source(&source);
    assert_eq!(checked.diagnostics[0].code, "P0002");
}
