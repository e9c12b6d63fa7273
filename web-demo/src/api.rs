//! The pages' API as plain functions from strings to JSON strings, tested natively. `lib.rs`
//! only exports them to JavaScript.

/// What the paste box understood: `{facts, found, missing}`.
pub fn read_pasted(text: &str) -> String {
    serde_json::to_string(&preflight_paste::extract(text)).unwrap_or_else(|_| "{}".into())
}

#[cfg(feature = "playground")]
pub use playground::*;

/// The compiler for the playground page.
#[cfg(feature = "playground")]
mod playground {
    use preflight_compiler::diagnostic::{self, Diagnostic};
    use serde_json::{Value, json};

    /// The file name diagnostics show in the playground.
    const NAME: &str = "rules.preflight";

    fn diagnostics_json(source: &str, diagnostics: &[Diagnostic]) -> Value {
        Value::Array(
            diagnostics
                .iter()
                .map(|d| {
                    let mut v = diagnostic::to_json(NAME, source, d);
                    if let Some(map) = v.as_object_mut() {
                        // Character offsets for the editor (spans are byte offsets).
                        let chars = |byte: u32| source.get(..byte as usize).map_or(0, |s| s.chars().count());
                        map.insert("from".into(), json!(chars(d.primary.span.start)));
                        map.insert("to".into(), json!(chars(d.primary.span.end)));
                    }
                    v
                })
                .collect(),
        )
    }

    /// Checks a rules file: `{ok, diagnostics: [...], rendered}` (rendered as the CLI prints it).
    /// A file that `use`s a shared file is checked with the built-in one (`rules/lib/`); the
    /// editor marks the text's own diagnostics, and the rendering shows every file's.
    pub fn check(source: &str) -> String {
        let checked = preflight_compiler::check_source(source);
        let main = checked.bundle.main().clone();
        let (mut own, mut rendered) = (Vec::new(), String::new());
        for (file, text, d) in checked.by_file() {
            let is_main = file == main.name;
            rendered.push_str(&diagnostic::render_plain(
                if is_main { NAME } else { file },
                text,
                std::slice::from_ref(&d),
            ));
            if is_main {
                own.push(d);
            }
        }
        json!({
            "ok": checked.program.is_some(),
            "diagnostics": diagnostics_json(source, &own),
            "rendered": rendered,
        })
        .to_string()
    }

    /// Runs the file's tests on the interpreter: `{ok, passed, failed, results: [{name, line, passed, diff}]}`.
    pub fn run_tests(source: &str) -> String {
        let checked = preflight_compiler::check_source(source);
        let Some(program) = checked.program else {
            return json!({ "ok": false, "passed": 0, "failed": 0, "results": [] }).to_string();
        };
        let outcomes = preflight_compiler::testing::run(&program);
        let failed = outcomes.iter().filter(|o| o.failure.is_some()).count();
        let results: Vec<Value> = outcomes
            .iter()
            .map(|o| json!({ "name": o.name, "line": o.line, "passed": o.failure.is_none(), "diff": o.failure }))
            .collect();
        json!({ "ok": true, "passed": outcomes.len() - failed, "failed": failed, "results": results }).to_string()
    }

    /// Evaluates facts with a rules file as of `date` (days since 1970-01-01; the page passes
    /// today) when the facts give none: the answer JSON, or `{"error": {"code": "rules", ...}}`
    /// when the rules have errors.
    pub fn evaluate(source: &str, facts: &str, date: Option<i32>) -> String {
        match preflight_compiler::check_source(source).program {
            Some(program) => preflight_compiler::answer_with(&program, facts.as_bytes(), date),
            None => {
                json!({ "error": { "code": "rules", "field": "", "message": "the rules file has errors" } }).to_string()
            }
        }
    }

    /// Compiles a rules file to module bytes, or says why not.
    pub fn compile(source: &str) -> Result<Vec<u8>, String> {
        let program = preflight_compiler::check_source(source).program.ok_or("the rules file has errors")?;
        preflight_compiler::wasm::compile(&program, source)
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::api::read_pasted;

        fn parse(text: &str) -> Value {
            serde_json::from_str(text).unwrap_or(Value::Null)
        }

        #[test]
        fn check_reports_diagnostics_with_positions() {
            let broken = preflight_compiler::ACS_RULES.replacen("require KB5011487", "require KB5011478", 1);
            let answer = parse(&check(&broken));
            assert_eq!(answer["ok"], false);
            let first = &answer["diagnostics"][0];
            assert_eq!(first["code"], "P0100");
            assert!(first["from"].as_u64().unwrap_or(0) > 0);
            assert!(answer["rendered"].as_str().unwrap_or("").contains("did you mean `KB5011487`?"));
            assert_eq!(parse(&check(preflight_compiler::ACS_RULES))["ok"], true);
        }

        #[test]
        fn tests_run_and_evaluation_answers() {
            let tests = parse(&run_tests(preflight_compiler::ACS_RULES));
            assert_eq!(tests["failed"], 0);
            assert!(tests["passed"].as_u64().unwrap_or(0) >= 80);
            let facts = r#"{"product":{"id":"apex_one","version":"2019"},"os":{"version":"10.0.19045","product_type":"workstation"}}"#;
            assert_eq!(parse(&evaluate(preflight_compiler::ACS_RULES, facts, None))["status"], "ready");
            assert_eq!(parse(&evaluate("rule", facts, None))["error"]["code"], "rules");
        }

        #[test]
        fn compile_gives_a_module_and_paste_reads_ver() {
            assert!(compile(preflight_compiler::ACS_RULES).map(|b| b.starts_with(b"\0asm")).unwrap_or(false));
            assert!(compile("nonsense").is_err());
            assert_eq!(
                parse(&read_pasted("Microsoft Windows [Version 10.0.19044.1586]"))["facts"]["os"]["version"],
                "10.0.19044.1586"
            );
        }
    }
}
