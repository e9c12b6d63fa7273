//! The facts JSON Schema and the Markdown reference generated from the ACS rules.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn acs_facts_schema() {
    let schema = preflight_compiler::schema::facts_schema(support::acs());
    assert_eq!(schema["required"], serde_json::json!(["product"]));
    assert_eq!(schema["properties"]["product"]["required"], serde_json::json!(["id"]));
    assert_eq!(schema["properties"]["product"]["properties"]["id"]["enum"].as_array().unwrap().len(), 7);
    assert!(schema["properties"]["hotfixes"]["description"].as_str().unwrap().contains("Get-HotFix"));
    insta::assert_json_snapshot!(schema);
}

#[test]
fn acs_reference_lists_every_rule_with_its_citation() {
    let program = support::acs();
    let doc = preflight_compiler::schema::markdown(program);
    for rule in &program.rules {
        assert!(doc.contains(&format!("### `{}`", rule.name)), "{}", rule.name);
    }
    assert!(doc.contains("> Windows 10 21H2 | 5011487"));
}
