//! The pages' API as plain functions from strings to JSON strings, tested natively. `lib.rs`
//! only exports them to JavaScript.

/// What the paste box understood: `{facts, found, missing}`.
pub fn read_pasted(text: &str) -> String {
    serde_json::to_string(&preflight_paste::extract(text)).unwrap_or_else(|_| "{}".into())
}

#[cfg(feature = "playground")]
pub use playground::*;

/// The compiler and the language intelligence for the playground page. Offsets in and out are
/// UTF-16 code units, as JavaScript strings and the editor count them.
#[cfg(feature = "playground")]
mod playground {
    use preflight_compiler::diagnostic::{self, Diagnostic};
    use serde_json::{Value, json};

    /// The file name diagnostics show in the playground.
    const NAME: &str = "rules.preflight";
    /// The name the playground's text is checked under: `use "lib/windows.preflight"` resolves
    /// to the built-in shared file, as in `rules/`.
    const PATH: &str = "rules/_.preflight";

    /// Byte offsets ↔ UTF-16 offsets of one text.
    struct Utf16 {
        /// The UTF-16 offset of every byte offset (a byte inside a character maps to the
        /// character's start).
        at: Vec<u32>,
    }

    impl Utf16 {
        fn new(text: &str) -> Utf16 {
            let mut at = Vec::with_capacity(text.len() + 1);
            let mut units = 0u32;
            for c in text.chars() {
                at.extend(std::iter::repeat_n(units, c.len_utf8()));
                units += c.len_utf16() as u32;
            }
            at.push(units);
            Utf16 { at }
        }

        fn of(&self, byte: usize) -> u32 {
            self.at.get(byte).or(self.at.last()).copied().unwrap_or(0)
        }

        /// The byte offset of a UTF-16 offset (the end when past it).
        fn byte(&self, units: u32) -> usize {
            self.at.partition_point(|&u| u < units).min(self.at.len().saturating_sub(1))
        }
    }

    fn diagnostics_json(source: &str, diagnostics: &[Diagnostic]) -> Value {
        let utf16 = Utf16::new(source);
        Value::Array(
            diagnostics
                .iter()
                .map(|d| {
                    let mut v = diagnostic::to_json(NAME, source, d);
                    if let Some(map) = v.as_object_mut() {
                        map.insert("from".into(), json!(utf16.of(d.primary.span.start as usize)));
                        map.insert("to".into(), json!(utf16.of(d.primary.span.end as usize)));
                    }
                    v
                })
                .collect(),
        )
    }

    /// Checks a rules file: `{ok, diagnostics: [...], fixes: [...], rendered}` (rendered as the CLI
    /// prints it; each fix `{title, from, to, text, diagnostic}` replaces a span and names the
    /// diagnostic it fixes by index). A file that `use`s a shared file is checked with the
    /// built-in one (`rules/lib/`); the editor marks the text's own diagnostics, and the
    /// rendering shows every file's.
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
        let utf16 = Utf16::new(source);
        let fixes: Vec<Value> = preflight_ide::quick_fixes(source, &own)
            .into_iter()
            .map(|f| {
                json!({
                    "title": f.title,
                    "from": utf16.of(f.edit.span.0),
                    "to": utf16.of(f.edit.span.1),
                    "text": f.edit.text,
                    "diagnostic": f.diagnostic,
                })
            })
            .collect();
        json!({
            "ok": checked.program.is_some(),
            "diagnostics": diagnostics_json(source, &own),
            "fixes": fixes,
            "rendered": rendered,
        })
        .to_string()
    }

    fn analysis(source: &str) -> Option<preflight_ide::Analysis> {
        let mut load = preflight_compiler::bundle::builtin_loader(preflight_compiler::BUILTIN_LIBRARY);
        preflight_ide::Analysis::recovering(PATH, source, &mut load)
    }

    /// What completes the word at `at`: `{from, to, items: [{label, type, detail, info,
    /// preferred}]}` (`type` for the editor's icon; items ranked, preferred first). Names come
    /// from the items of the text that parse, and from the shared files it uses.
    pub fn complete(source: &str, at: u32) -> String {
        let utf16 = Utf16::new(source);
        let declared = analysis(source).map(|a| a.declarations(source)).unwrap_or_default();
        let found = preflight_ide::complete(source, utf16.byte(at), &declared);
        let items: Vec<Value> = found
            .items
            .iter()
            .map(|i| {
                json!({
                    "label": i.label,
                    "type": item_type(i.kind),
                    "detail": i.detail,
                    "info": i.docs,
                    "preferred": i.preferred,
                })
            })
            .collect();
        json!({ "from": utf16.of(found.replace.0), "to": utf16.of(found.replace.1), "items": items }).to_string()
    }

    /// The editor's completion type (its icon) of an item.
    fn item_type(kind: preflight_ide::ItemKind) -> &'static str {
        use preflight_ide::{ItemKind, Kind};
        match kind {
            ItemKind::Keyword => "keyword",
            ItemKind::Status => "enum",
            ItemKind::Function => "function",
            ItemKind::HostValue | ItemKind::GivenKey { .. } | ItemKind::Name(Kind::Fact | Kind::Group) => "property",
            ItemKind::Name(Kind::Let) => "variable",
            ItemKind::Name(Kind::Rule | Kind::Test) => "method",
            ItemKind::Name(Kind::Update | Kind::Series | Kind::Milestone) => "constant",
            ItemKind::Name(_) => "type",
        }
    }

    /// What hover shows at `at`: `{from, to, markdown}`, or `null` where no declared name is.
    pub fn hover(source: &str, at: u32) -> String {
        let utf16 = Utf16::new(source);
        let found = analysis(source).and_then(|a| a.hover(source, utf16.byte(at)));
        match found {
            Some(((a, b), markdown)) => {
                json!({ "from": utf16.of(a), "to": utf16.of(b), "markdown": markdown }).to_string()
            }
            None => "null".into(),
        }
    }

    /// The colours of a text that parses: `{ok: true, spans: [[from, to, class], ...]}` in
    /// order, each class the parser's (`keyword`, `kb`, `string`...) or, for a name in a
    /// condition or a placeholder, `name-` and what it names (`name-os`, `name-fact`...);
    /// a text that does not parse is coloured without its broken items, and `{ok: false}` when
    /// not even that parses (the editor keeps the last colours).
    pub fn highlight(source: &str) -> String {
        let utf16 = Utf16::new(source);
        let index = analysis(source).map(|a| a.index(source));
        let Some(spans) = preflight_ide::highlights(source, index.as_ref()) else {
            return json!({ "ok": false }).to_string();
        };
        let spans: Vec<Value> = spans
            .into_iter()
            .map(|((a, b), h)| {
                let class = match h {
                    preflight_ide::Highlight::Token(class) => class.name().to_string(),
                    preflight_ide::Highlight::Name(kind) => format!("name-{}", name_class(kind)),
                };
                json!([utf16.of(a), utf16.of(b), class])
            })
            .collect();
        json!({ "ok": true, "spans": spans }).to_string()
    }

    fn name_class(kind: preflight_ide::Kind) -> &'static str {
        match kind {
            preflight_ide::Kind::Group => "group",
            other => other.word(),
        }
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
        fn offsets_are_utf16_units() {
            let text = "// é 😀\nrule";
            let utf16 = Utf16::new(text);
            let rule = text.find("rule").unwrap();
            assert_eq!(utf16.of(rule), 8, "é is one unit, 😀 two");
            assert_eq!(utf16.byte(8), rule);
            assert_eq!(utf16.byte(1_000), text.len());
        }

        #[test]
        fn completion_hover_and_fixes_use_the_shared_file() {
            let acs = preflight_compiler::ACS_RULES;
            // A half-typed rule: the rest of the file, and the shared Windows file, still name things.
            let text = format!("{acs}\nrule r {{\n  when host.os == win10_21h2\n  require ");
            let at = text.encode_utf16().count() as u32;
            let answer = parse(&complete(&text, at));
            assert_eq!(answer["from"], at);
            let first = &answer["items"][0];
            assert_eq!(first["preferred"], true, "{first}");
            assert!(answer["items"].as_array().unwrap().iter().any(|i| i["label"] == "KB5011487"));
            let text = format!("{acs}\nrule r {{\n  when host.os == win1");
            let at = text.encode_utf16().count() as u32;
            let labels: Vec<Value> =
                parse(&complete(&text, at))["items"].as_array().unwrap().iter().map(|i| i["label"].clone()).collect();
            assert!(labels.contains(&json!("win10_21h2")), "OS versions of rules/lib/windows.preflight: {labels:?}");

            // Hover over an OS version the shared file declares, from the ACS file.
            let at = acs.find("host.os == win10_21h2").unwrap() + "host.os == ".len() + 2;
            let shown = parse(&hover(acs, Utf16::new(acs).of(at)));
            assert!(shown["markdown"].as_str().unwrap().starts_with("```preflight\nos win10_21h2"), "{shown}");
            assert_eq!(parse(&hover(acs, 0)), Value::Null);

            // A misspelt update: the fix replaces it.
            let broken = acs.replacen("require KB5011487", "require KB5011478", 1);
            let answer = parse(&check(&broken));
            let fix = &answer["fixes"][0];
            assert_eq!(fix["text"], "KB5011487");
            assert_eq!(answer["diagnostics"][fix["diagnostic"].as_u64().unwrap() as usize]["code"], "P0100");
            let from = Utf16::new(&broken).byte(fix["from"].as_u64().unwrap() as u32);
            assert_eq!(broken.get(from..from + 9), Some("KB5011478"));
        }

        #[test]
        fn highlight_classes_tokens_and_names() {
            let answer = parse(&highlight(preflight_compiler::ACS_RULES));
            assert_eq!(answer["ok"], true);
            let classes: Vec<&str> = answer["spans"].as_array().unwrap().iter().filter_map(|s| s[2].as_str()).collect();
            for class in ["keyword", "kb", "string", "comment", "name-os", "name-fact"] {
                assert!(classes.contains(&class), "{class}");
            }
            // A half-typed rule: the items before it keep their colours, the broken one has none.
            let acs = preflight_compiler::ACS_RULES;
            let broken = format!("{acs}\nrule r {{\n  when ");
            let answer = parse(&highlight(&broken));
            assert_eq!(answer["ok"], true);
            let spans = answer["spans"].as_array().unwrap();
            assert!(spans.len() > 1_000);
            let end = acs.encode_utf16().count() as u64;
            assert!(spans.iter().all(|s| s[1].as_u64().unwrap() <= end));
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
