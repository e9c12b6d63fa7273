use super::*;

const FILE: &str = r#"advisory demo {
  title "Demo advisory"
  published 2023-01-01
}

facts {
  os {
    version: build
    product_type: enum(workstation, server)
  }
  product {
    id: product
  }
  hotfixes: kbs = []
}

host {
  product = product.id
  os_version = os.version
  os_role = os.product_type
  hotfixes = hotfixes
}

product agent {
  name "Agent"
  versions all
  platforms windows
}

os win10 {
  name "Windows 10"
  build 10.0.19044
  role workstation
}

update KB5011487 {
  released 2022-03-08
  applies win10
  revision 1586
}

// A rule called like the OS it is about.
rule win10 {
  when host.os == win10 and os.version < 10.0.19044.1586
  require KB5011487
  severity action_required
  message "Install KB5011487 on {os.version} ({release_date(KB5011487)})"
}

test "needs the update" {
  given { product: { id: "agent" }, os: { version: "10.0.19044.1", product_type: "workstation" }, hotfixes: ["KB1"] }
  expect action_required { install KB5011487 fires win10 }
}
"#;

fn index() -> Index {
    Index::parse(FILE).expect("the fixture parses")
}

/// The offset of the `n`th (0-based) occurrence of `needle`, plus `plus`.
fn at(needle: &str, n: usize, plus: usize) -> usize {
    FILE.match_indices(needle).nth(n).map(|(i, _)| i + plus).expect("the fixture has it")
}

fn apply(edits: &[Edit]) -> String {
    let mut text = FILE.to_string();
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.0));
    for e in edits {
        text.replace_range(e.span.0..e.span.1, &e.text);
    }
    text
}

#[test]
fn a_fact_is_found_where_it_is_declared_read_shown_and_given() {
    let index = index();
    let found = index.references(Kind::Fact, "os.version");
    let texts: Vec<&str> = found.iter().map(|o| &FILE[o.span.0..o.span.1]).collect();
    // The declaration (`version` inside `os { }`), the host role, the condition, the message's
    // placeholder and the test's key.
    assert_eq!(texts, ["version", "os.version", "os.version", "os.version", "version"]);
    assert!(found.first().is_some_and(|o| o.declaration));
}

#[test]
fn renaming_a_fact_keeps_the_file_consistent() {
    let edits = index().rename(at("os.version <", 0, 4), "os.build").expect("renames");
    let renamed = apply(&edits);
    assert!(renamed.contains("    build: build\n"), "{renamed}");
    assert!(renamed.contains("os_version = os.build"));
    assert!(renamed.contains("os.build < 10.0.19044.1586"));
    assert!(renamed.contains("{os.build}"));
    assert!(renamed.contains("os: { build: \"10.0.19044.1\""));
    assert!(!renamed.contains("os.version"));
    // The renamed file still checks and its test still passes.
    let checked = preflight_compiler::check_source(&renamed);
    let program = checked.program.expect("the renamed file checks");
    assert!(preflight_compiler::testing::run(&program).iter().all(|t| t.failure.is_none()));
}

#[test]
fn renaming_a_product_renames_it_in_tests_given() {
    let edits = index().rename(at("product agent", 0, 9), "sensor").expect("renames");
    let renamed = apply(&edits);
    assert!(renamed.contains("product sensor {"));
    assert!(renamed.contains("id: \"sensor\""));
    let program = preflight_compiler::check_source(&renamed).program.expect("checks");
    assert!(preflight_compiler::testing::run(&program).iter().all(|t| t.failure.is_none()));
}

#[test]
fn a_rule_and_an_os_of_one_name_stay_apart() {
    let index = index();
    let rule = index.at(at("rule win10", 0, 6)).expect("the rule's name");
    assert_eq!(rule.kind, Kind::Rule);
    let os_use = index.at(at("== win10", 0, 4)).expect("the OS in the condition");
    assert_eq!(os_use.kind, Kind::Os);
    // The word before each occurrence says where it is.
    let rule_refs: Vec<&str> = index
        .references(Kind::Rule, "win10")
        .iter()
        .filter_map(|o| FILE[..o.span.0].trim_end().rsplit([' ', '\n']).next())
        .collect();
    assert_eq!(rule_refs, ["rule", "fires"]);
    let edits = index.rename(at("rule win10", 0, 6), "win10_update").expect("renames");
    let renamed = apply(&edits);
    assert!(renamed.contains("rule win10_update {") && renamed.contains("fires win10_update"));
    assert!(renamed.contains("os win10 {") && renamed.contains("host.os == win10 and"));
}

#[test]
fn rename_refuses_what_would_break_the_file() {
    let index = index();
    let os = at("== win10", 0, 4);
    assert!(index.rename(os, "agent").unwrap_err().contains("already declared (a product)"));
    assert!(index.rename(os, "9lives").is_err());
    assert!(index.rename(os, "rule").is_err(), "a keyword");
    assert!(index.rename(at("os.version <", 0, 4), "product.version").unwrap_err().contains("another group"));
    assert!(index.rename(at("require KB5011487", 0, 9), "update2").unwrap_err().contains("update id"));
    assert!(index.prepare_rename(at("host.os", 0, 1)).is_err(), "host values are not declared");
    assert_eq!(index.prepare_rename(os).map(|(_, name)| name), Ok("win10".to_string()));
}

#[test]
fn updates_are_found_in_requirements_placeholders_and_tests() {
    let found = index().references(Kind::Update, "KB5011487").len();
    // Declaration, the requirement, `release_date(...)` in the message, `install` in the test.
    assert_eq!(found, 4);
}

#[test]
fn the_outline_and_folding_follow_the_items() {
    let file = preflight_compiler::syntax::parse(FILE).expect("parses");
    let names: Vec<(String, Kind)> = outline(&file).into_iter().map(|i| (i.name, i.kind)).collect();
    assert_eq!(names.first(), Some(&("demo".to_string(), Kind::Advisory)));
    assert!(names.contains(&("win10".to_string(), Kind::Os)) && names.contains(&("win10".to_string(), Kind::Rule)));
    let facts = outline(&file).into_iter().find(|i| i.name == "facts").expect("facts");
    assert_eq!(facts.children.first().map(|c| (c.name.as_str(), c.children.len())), Some(("os", 2)));
    let folds = folding(&file, FILE);
    // Every multi-line item folds: advisory, facts (and its groups), host, 3 declarations, rule, test.
    assert!(folds.len() >= 9, "{folds:?}");
    assert!(folds.iter().all(|(a, b)| FILE[*a..*b].contains('\n')));
}

/// Every symbol of whole advisories renamed, one at a time: the file still checks, with the same
/// warnings, and every in-file test still passes — rename misses no place a name is written.
#[test]
fn renaming_any_symbol_of_an_advisory_keeps_it_checking_and_its_tests_passing() {
    let files = [
        include_str!("../../tests/data/advisories/sha2-2019.preflight"),
        include_str!("../../tests/data/advisories/cm-client-prerequisites.preflight"),
        FILE,
    ];
    for text in files {
        let index = Index::parse(text).expect("parses");
        let before = preflight_compiler::check_source(text).diagnostics.len();
        let mut renamed_count = 0;
        for (n, o) in index.occurrences.iter().filter(|o| o.declaration).enumerate() {
            let Ok(_) = index.prepare_rename(o.span.0) else { continue };
            let new = match o.kind {
                Kind::Update => format!("KB{}", 9_000_000 + n),
                Kind::Fact => format!("{}_renamed", o.name),
                _ => format!("{}_renamed", o.name),
            };
            let edits = index.rename(o.span.0, &new).unwrap_or_else(|e| panic!("{} `{}`: {e}", o.kind.word(), o.name));
            let mut edited = text.to_string();
            let mut edits = edits.clone();
            edits.sort_by_key(|e| std::cmp::Reverse(e.span.0));
            for e in edits {
                edited.replace_range(e.span.0..e.span.1, &e.text);
            }
            let checked = preflight_compiler::check_source(&edited);
            let what = format!("{} `{}` → `{new}`", o.kind.word(), o.name);
            let program = checked.program.unwrap_or_else(|| panic!("{what}: the file no longer checks"));
            assert_eq!(checked.diagnostics.len(), before, "{what}: other warnings");
            for t in preflight_compiler::testing::run(&program) {
                assert!(t.failure.is_none(), "{what}: test `{}` fails:\n{}", t.name, t.failure.unwrap_or_default());
            }
            renamed_count += 1;
        }
        assert!(renamed_count > 5, "{renamed_count} symbols renamed");
    }
}
