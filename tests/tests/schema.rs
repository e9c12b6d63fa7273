//! The facts JSON Schema and the Markdown reference generated from the ACS rules.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn acs_facts_schema() {
    let schema = preflight_compiler::schema::facts_schema(support::acs());
    assert_eq!(schema["required"], serde_json::json!(["product"]));
    assert_eq!(schema["properties"]["product"]["required"], serde_json::json!(["id"]));
    // null: the collector looked and found no product
    let id = &schema["properties"]["product"]["properties"]["id"];
    assert_eq!(id["anyOf"][0]["enum"].as_array().unwrap().len(), 7);
    assert_eq!(id["anyOf"][1], serde_json::json!({ "type": "null" }));
    assert_eq!(id["x-null-means"], "none");
    assert!(schema["properties"]["hotfixes"]["description"].as_str().unwrap().contains("Get-HotFix"));
    // `version: build if os.platform == "windows"`: required when the platform is Windows, which
    // an absent platform is by its default (as `eval` answers `missing_field` for it).
    let windows_only = schema["allOf"].as_array().unwrap();
    let version =
        windows_only.iter().find(|c| c["then"]["properties"]["os"]["required"] == serde_json::json!(["version"]));
    let version = version.expect("os.version is required when os.platform is windows");
    assert_eq!(
        version["if"],
        serde_json::json!({ "properties": { "os": { "properties": { "platform": { "const": "windows" } } } } })
    );
    assert_eq!(version["then"]["required"], serde_json::json!(["os"]));
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

/// The reference shows what a rule does: its condition, each requirement, a conditional
/// severity with both outcomes, and per-OS release dates and install order of updates.
#[test]
fn reference_shows_conditions_requirements_and_severities() {
    let doc = preflight_compiler::schema::markdown(support::acs());
    assert!(doc.contains("- severity: action_required if `(esu or azure)`, else limited"), "{doc}");
    assert!(
        doc.contains(
            "- when: `known(host.product) and host.platform_listed and host.version_listed and host.os == win10_21h2`"
        ),
        "{doc}"
    );
    assert!(doc.contains("| `product.id` | product | required; null means `none` |"), "{doc}");
    assert!(doc.contains("- requires: any of KB5006714, KB5006729"), "{doc}");
    let path = support::root().join("tests/data/advisories/sha2-2019.preflight");
    let program = preflight_compiler::check_source(&std::fs::read_to_string(path).unwrap()).program.unwrap();
    let doc = preflight_compiler::schema::markdown(&program);
    assert!(!doc.contains("## Products"), "no products declared: no section");
    assert!(
        doc.contains(
            "- requires: the newest out of KB4490628, KB4493730, KB4516655, KB4523206, KB4536952; and any of KB4474419"
        ),
        "{doc}"
    );
    assert!(
        doc.contains("| `sha2_only_win7` | 2019-08-13 | Windows 7 SP1 / Server 2008 R2 SP1 updates SHA-2 only |"),
        "{doc}"
    );
    assert!(doc.contains("- requires: Windows Server Update Services 3.2.7600.226 or later; and any of KB4484071"));
    assert!(doc.contains("- requires: Windows Update service (wuauserv) enabled = true"));
    assert!(doc.contains("| 2019-03-12; Windows Server 2008 SP2: 2019-09-10 |"));
    assert!(doc.contains("| KB4490628, KB4493730 |"));
    insta::assert_snapshot!(doc);
}
