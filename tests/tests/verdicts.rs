//! The shared examples on the reference interpreter: each matches its expected summary, and each
//! full answer is an insta snapshot (reviewed by hand when it changes).
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod support;

#[test]
fn shared_examples_match_their_expectations() {
    let program = support::acs();
    let dir = support::shared_examples();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".facts.json") else { continue };
        let facts = std::fs::read_to_string(&path).unwrap();
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(format!("{stem}.expect.json"))).unwrap()).unwrap();
        let answer: serde_json::Value = serde_json::from_str(&preflight_compiler::answer(program, &facts)).unwrap();
        assert_eq!(support::summarise(&answer), expected, "{stem}");
        insta::with_settings!({ snapshot_suffix => stem.to_string() }, {
            insta::assert_json_snapshot!("shared_example", answer);
        });
        seen += 1;
    }
    assert!(seen >= 11, "only {seen} examples found");
}
