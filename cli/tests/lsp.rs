//! `preflight lsp` driven over stdio the way an editor drives it.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::root;
use preflight_tests_hosts::lsp_client::LspClient;
use serde_json::{Value, json};

/// An editor: the shared client, started with the editor's position encodings.
struct Editor {
    client: LspClient,
    capabilities: Value,
}

impl Editor {
    fn start(utf8: bool) -> Editor {
        let mut client = LspClient::start(std::path::Path::new(env!("CARGO_BIN_EXE_preflight")), &root());
        let encodings = if utf8 { json!(["utf-8", "utf-16"]) } else { json!(["utf-16"]) };
        let init = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": { "general": { "positionEncodings": encodings } } }),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "preflight");
        client.notify("initialized", json!({}));
        Editor { client, capabilities: init["result"]["capabilities"].clone() }
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.client.request(method, params)
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.client.notify(method, params);
    }

    fn diagnostics(&mut self) -> Value {
        self.client.diagnostics()
    }

    /// Opens a document at URI and returns the diagnostics published for it.
    fn open(&mut self, text: &str) -> Value {
        self.open_at(URI, text)
    }

    fn open_at(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "preflight", "version": 1, "text": text } }),
        );
        self.diagnostics()
    }

    fn change(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": text }] }),
        );
        self.diagnostics()
    }

    fn stop(self) {
        let (done, status) = self.client.stop();
        assert!(done.get("error").is_none(), "{done}");
        assert!(status.success());
    }
}

const URI: &str = "file:///work/acs-2023.preflight";

/// Open a file with a mistake → the checker's diagnostic at its place, with code, help and
/// source; change it to the fixed text → no diagnostics; close → cleared.
#[test]
fn diagnostics_follow_the_text() {
    let acs = preflight_compiler::ACS_RULES;
    let broken = acs.replacen("require KB5011487", "require KB5011478", 1);
    let (line, _) = broken.lines().enumerate().find(|(_, l)| l.contains("require KB5011478")).unwrap();
    for utf8 in [false, true] {
        let mut editor = Editor::start(utf8);
        let published = editor.open(&broken);
        assert_eq!(published["uri"], URI);
        let diagnostics = published["diagnostics"].as_array().unwrap();
        assert_eq!(diagnostics.len(), 1, "{published}");
        let d = &diagnostics[0];
        assert_eq!(d["code"], "P0100");
        assert_eq!(d["severity"], 1);
        assert_eq!(d["source"], "preflight");
        assert_eq!(d["range"]["start"], json!({ "line": line, "character": 10 }));
        assert_eq!(d["range"]["end"], json!({ "line": line, "character": 19 }));
        let message = d["message"].as_str().unwrap();
        assert!(message.starts_with("unknown update `KB5011478`"), "{message}");
        assert!(message.contains("help: did you mean `KB5011487`?"), "{message}");

        // The quick fix for it: applying its edit gives the fixed file back.
        let actions = editor.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": URI }, "range": d["range"], "context": { "diagnostics": [d] } }),
        );
        let actions = actions["result"].as_array().unwrap();
        assert_eq!(actions.len(), 1, "{actions:?}");
        assert_eq!(actions[0]["title"], "Replace `KB5011478` with `KB5011487`");
        assert_eq!(actions[0]["kind"], "quickfix");
        assert_eq!(actions[0]["diagnostics"][0]["code"], "P0100");
        let edit = &actions[0]["edit"]["changes"][URI][0];
        assert_eq!(edit["range"], d["range"]);
        let mut lines: Vec<String> = broken.lines().map(str::to_string).collect();
        let (a, b) = (
            edit["range"]["start"]["character"].as_u64().unwrap(),
            edit["range"]["end"]["character"].as_u64().unwrap(),
        );
        lines[line].replace_range(a as usize..b as usize, edit["newText"].as_str().unwrap());
        assert_eq!(lines.join("\n") + "\n", acs);
        // Elsewhere in the file: none.
        let elsewhere = json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 1 } });
        let none = editor.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": URI }, "range": elsewhere, "context": { "diagnostics": [] } }),
        );
        assert_eq!(none["result"], json!([]));

        editor.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 2 }, "contentChanges": [{ "text": acs }] }),
        );
        assert_eq!(editor.diagnostics()["diagnostics"], json!([]));
        editor.notify("textDocument/didClose", json!({ "textDocument": { "uri": URI } }));
        assert_eq!(editor.diagnostics()["diagnostics"], json!([]));
        editor.stop();
    }
}

/// Positions count UTF-16 code units unless the editor offers UTF-8: a name after a non-ASCII
/// character lands where each editor expects it.
#[test]
fn positions_count_what_the_editor_counts() {
    let text = "advisory a {\n  title \"é — ✓\" sevrity x\n}\n";
    let mut columns = Vec::new();
    for utf8 in [false, true] {
        let mut editor = Editor::start(utf8);
        let published = editor.open(text);
        let d = &published["diagnostics"][0];
        assert_eq!(d["range"]["start"]["line"], 1, "{published}");
        columns.push(d["range"]["start"]["character"].as_u64().unwrap());
        editor.stop();
    }
    // "  title \"é — ✓\" " is 16 UTF-16 units and 21 bytes.
    assert_eq!(columns, [16, 21], "a diagnostic after the string starts at these columns");
}

/// Formatting replaces the document with `preflight fmt`'s text; a formatted file needs no edit.
#[test]
fn formatting_is_preflight_fmt() {
    let acs = preflight_compiler::ACS_RULES;
    let messy = acs.replacen("rule other_platform {", "rule   other_platform   {", 1);
    let mut editor = Editor::start(false);
    for (text, edits) in [(messy.as_str(), 1), (acs, 0)] {
        editor.open(text);
        let answer = editor.request(
            "textDocument/formatting",
            json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
        );
        let result = answer["result"].as_array().unwrap();
        assert_eq!(result.len(), edits, "{answer}");
        if let Some(edit) = result.first() {
            assert_eq!(edit["newText"], acs);
        }
    }
    editor.stop();
}

/// On the ACS file: definition and hover of an update named in a requirement, of a named value
/// used in a condition, and of a fact path.
#[test]
fn definition_and_hover_find_the_declaration() {
    let acs = preflight_compiler::ACS_RULES;
    let line_of = |needle: &str| acs.lines().position(|l| l.contains(needle)).unwrap();
    let column_of = |line: usize, needle: &str| acs.lines().nth(line).unwrap().find(needle).unwrap();
    let mut editor = Editor::start(false);
    editor.open(acs);
    let at = |line: usize, character: usize| json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character } });

    // `require KB5011487` → `update KB5011487 {`
    let use_line = line_of("require KB5011487");
    let position = at(use_line, column_of(use_line, "KB5011487") + 3);
    let definition = editor.request("textDocument/definition", position.clone());
    let declared = line_of("update KB5011487 {");
    assert_eq!(definition["result"]["range"]["start"], json!({ "line": declared, "character": 7 }), "{definition}");
    let hover = editor.request("textDocument/hover", position);
    let shown = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("update KB5011487 {") && shown.contains("kind cumulative"), "{shown}");

    // A series entry: its own block, and what it shares with the series and supersedes.
    let entry_line = line_of("KB5007236 2021-11-09");
    let hover = editor.request("textDocument/hover", at(entry_line, 4));
    let shown = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("November 9, 2021—KB5007236"), "{shown}");
    assert!(
        shown.contains("Entry of series `win7_monthly_rollups` (`kind monthly_rollup`, `applies win7_sp1, server2008r2`); supersedes `KB5006743`."),
        "{shown}"
    );

    // `covered` in a rule's condition → `let covered = ...`
    let rule_line = line_of("when covered and host.os == win10_21h2");
    let definition = editor.request("textDocument/definition", at(rule_line, column_of(rule_line, "covered") + 1));
    assert_eq!(definition["result"]["range"]["start"]["line"], line_of("let covered ="), "{definition}");

    // A fact path in a condition → its line in the facts block, with its docs in the hover.
    let fact_line = line_of("definitely(root_ca.auto_update == false)");
    let position = at(fact_line, column_of(fact_line, "root_ca.auto_update") + 9);
    let hover = editor.request("textDocument/hover", position);
    let shown = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("auto_update: bool?"), "{shown}");
    assert!(shown.contains("automatic root-certificate update"), "{shown}");

    // An OS version the shared Windows file declares: its definition is there.
    let os_line = line_of("when covered and host.os == win10_21h2");
    let definition = editor.request("textDocument/definition", at(os_line, column_of(os_line, "win10_21h2") + 2));
    assert!(definition["result"]["uri"].as_str().unwrap().ends_with("rules/lib/windows.preflight"), "{definition}");
    let lib = preflight_compiler::BUILTIN_LIBRARY[0].1;
    let declared = lib.lines().position(|l| l == "os win10_21h2 {").unwrap();
    assert_eq!(definition["result"]["range"]["start"], json!({ "line": declared, "character": 3 }), "{definition}");
    let hover = editor.request("textDocument/hover", at(os_line, column_of(os_line, "win10_21h2") + 2));
    let shown = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        shown.contains("build 10.0.19044") && shown.contains("end_of_support 2024-06-11 for enterprise, education"),
        "{shown}"
    );

    // Its references: the declaration there, then every use here.
    let references = editor.request(
        "textDocument/references",
        json!({ "textDocument": { "uri": URI }, "position": { "line": os_line, "character": column_of(os_line, "win10_21h2") + 2 }, "context": { "includeDeclaration": true } }),
    );
    let found = references["result"].as_array().unwrap();
    assert!(found[0]["uri"].as_str().unwrap().ends_with("rules/lib/windows.preflight"), "{references}");
    // By meaning: the rule of the same name (and the tests that name it) is another symbol.
    let here = acs
        .match_indices("win10_21h2")
        .filter(|(i, _)| !["rule", "fires"].contains(&acs[..*i].trim_end().rsplit([' ', '\n']).next().unwrap_or("")))
        .count();
    assert!(here < acs.matches("win10_21h2").count(), "the rule shares the OS's name");
    assert_eq!(found.iter().filter(|l| l["uri"] == URI).count(), here, "{references}");

    // Nothing declared under the cursor: no answer.
    let keyword = editor.request("textDocument/hover", at(rule_line, 3));
    assert_eq!(keyword["result"], Value::Null);
    editor.stop();
}

/// References and rename of a named value: every use, none inside strings or comments; completion
/// offers declared names, keywords and statuses.
#[test]
fn references_rename_and_completion() {
    let acs = preflight_compiler::ACS_RULES;
    let mut editor = Editor::start(true);
    editor.open(acs);
    let line = acs.lines().position(|l| l.starts_with("let has_esu =")).unwrap();
    let position = json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": 5 } });
    let mut with_context = position.clone();
    with_context["context"] = json!({ "includeDeclaration": true });
    let references = editor.request("textDocument/references", with_context);
    let found = references["result"].as_array().unwrap();
    // Whole-word uses in the code, as a plain scan that skips strings and comments counts them.
    let code_uses = acs
        .lines()
        .map(|l| l.split("//").next().unwrap())
        .map(|l| l.split('"').step_by(2).collect::<String>())
        .map(|l| {
            l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.')).filter(|w| *w == "has_esu").count()
        })
        .sum::<usize>();
    assert!(code_uses >= 4, "{code_uses}");
    assert_eq!(found.len(), code_uses, "{references}");
    let mut without = position.clone();
    without["context"] = json!({ "includeDeclaration": false });
    let uses = editor.request("textDocument/references", without);
    assert_eq!(uses["result"].as_array().unwrap().len(), code_uses - 1, "{uses}");

    let mut rename = position.clone();
    rename["newName"] = json!("esu_or_azure");
    let edit = editor.request("textDocument/rename", rename);
    let edits = edit["result"]["changes"][URI].as_array().unwrap();
    assert_eq!(edits.len(), code_uses);
    // The renamed file still checks clean.
    let mut renamed: Vec<String> = acs.lines().map(str::to_string).collect();
    let mut sorted: Vec<&Value> = edits.iter().collect();
    sorted.sort_by_key(|e| {
        std::cmp::Reverse((e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()))
    });
    for e in sorted {
        let (l, a, b) = (
            e["range"]["start"]["line"].as_u64().unwrap() as usize,
            e["range"]["start"]["character"].as_u64().unwrap() as usize,
            e["range"]["end"]["character"].as_u64().unwrap() as usize,
        );
        renamed[l].replace_range(a..b, "esu_or_azure");
    }
    let renamed = renamed.join("\n") + "\n";
    let checked = preflight_compiler::check_source(&renamed);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics.first());

    // Completion by place, on a half-typed rule at the end of the file: the names come from the
    // last version that parsed.
    let labels = |editor: &mut Editor, text: &str| -> Vec<String> {
        editor.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": URI, "version": 3 }, "contentChanges": [{ "text": text }] }),
        );
        let end = text.lines().count() - 1;
        let character = text.lines().last().unwrap().len();
        let position = json!({ "textDocument": { "uri": URI }, "position": { "line": end, "character": character } });
        let completion = editor.request("textDocument/completion", position);
        completion["result"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap().to_string()).collect()
    };
    let has = |labels: &[String], want: &[&str], not: &[&str]| {
        for w in want {
            assert!(labels.iter().any(|l| l == w), "{w} not offered: {labels:?}");
        }
        for n in not {
            assert!(!labels.iter().any(|l| l == n), "{n} offered: {labels:?}");
        }
    };
    let got = labels(&mut editor, &format!("{acs}\nrule extra {{\n  "));
    has(&got, &["when", "require", "severity", "message"], &["KB5011487", "rule", "has_esu"]);
    let got = labels(&mut editor, &format!("{acs}\nrule extra {{\n  severity "));
    has(&got, &["action_required", "not_affected", "info"], &["ready", "KB5011487", "when"]);
    let got = labels(&mut editor, &format!("{acs}\nrule extra {{\n  require KB5011487 and ("));
    has(&got, &["KB5011487", "certificate", "component"], &["win10_21h2", "severity"]);
    let got = labels(&mut editor, &format!("{acs}\nrule extra {{\n  when has_esu and host.os == "));
    has(&got, &["win10_21h2", "has_esu", "os.version", "host.os", "known", "patched"], &["severity"]);
    let got = labels(&mut editor, &format!("{acs}\nrule extra {{\n  when os.ver"));
    has(&got, &["os.version"], &["win10_21h2"]);
    let got = labels(&mut editor, &format!("{acs}\n"));
    has(&got, &["rule", "update", "test"], &["when", "KB5011487"]);
    let got = labels(&mut editor, &format!("{acs}\nrule extra {{\n  message \"on "));
    has(&got, &[], &["win10_21h2", "when"]);
    editor.stop();
}

/// Semantic tokens: the parser's own reading of every token, and the names the parser leaves
/// unclassed (fact paths and value names in conditions) by what they name, in the protocol's
/// relative encoding, with lengths in the editor's units.
#[test]
fn semantic_tokens_are_the_parsers_tokens() {
    let acs = preflight_compiler::ACS_RULES;
    let expected = preflight_compiler::highlight::tokens(acs).unwrap();
    for utf8 in [false, true] {
        let mut editor = Editor::start(utf8);
        editor.open(acs);
        let response = editor.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": URI } }));
        let data: Vec<u64> =
            response["result"]["data"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
        let lines: Vec<&str> = acs.split('\n').collect();
        let line_start: Vec<usize> = lines
            .iter()
            .scan(0, |at, l| {
                let s = *at;
                *at += l.len() + 1;
                Some(s)
            })
            .collect();
        let (mut line, mut character) = (0usize, 0usize);
        let mut parser_tokens = expected.iter().peekable();
        let mut names = 0;
        for chunk in data.chunks(5) {
            line += chunk[0] as usize;
            character = if chunk[0] == 0 { character + chunk[1] as usize } else { chunk[1] as usize };
            // Back from the editor's units to the text.
            let text = lines[line];
            let unit = |c: char| if utf8 { c.len_utf8() } else { c.len_utf16() };
            let mut units = 0;
            let mut start = text.len();
            for (i, c) in text.char_indices() {
                if units == character {
                    start = i;
                    break;
                }
                units += unit(c);
            }
            let mut end = start;
            let mut length = 0;
            for c in text[start..].chars() {
                if length == chunk[2] as usize {
                    break;
                }
                length += unit(c);
                end += c.len_utf8();
            }
            let (from, to) = (line_start[line] + start, line_start[line] + end);
            let type_index = chunk[3] as usize;
            let kind =
                editor.capabilities["semanticTokensProvider"]["legend"]["tokenTypes"][type_index].as_str().unwrap();
            match parser_tokens.peek() {
                Some(token) if token.span.range() == (from..to) => {
                    let want = match token.class.name() {
                        "keyword" | "property" => "keyword",
                        "comment" | "doc" => "comment",
                        "string" => "string",
                        "date" | "version" | "kb" | "number" => "number",
                        "operator" => "operator",
                        "function" => "function",
                        "type" => "type",
                        "constant" | "level" => "enumMember",
                        "declaration" => "variable",
                        other => panic!("{other}"),
                    };
                    assert_eq!(kind, want, "{}", &acs[token.span.range()]);
                    parser_tokens.next();
                }
                _ => {
                    // A name by what it names.
                    let name = &acs[from..to];
                    assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'), "{name:?}");
                    assert!(
                        ["property", "variable", "function", "enumMember", "number"].contains(&kind),
                        "{name}: {kind}"
                    );
                    names += 1;
                }
            }
        }
        assert!(parser_tokens.next().is_none(), "every token of the parser is there");
        assert!(names > 100, "{names} names coloured by meaning");
    }
}

/// Two advisories open at once: each is checked on its own, and names resolve in their own file.
#[test]
fn several_advisories_each_on_its_own() {
    let (acs, secureboot) = (preflight_compiler::ACS_RULES, preflight_compiler::BUILTIN_RULES[1].1);
    let other = "file:///work/secureboot-2026.preflight";
    let mut editor = Editor::start(false);
    assert_eq!(editor.open(acs)["diagnostics"], json!([]));
    assert_eq!(editor.open_at(other, secureboot)["diagnostics"], json!([]));
    // Break the second: only it gets diagnostics.
    let broken = format!("{secureboot}\nrule {{\n");
    let published = editor.change(other, &broken);
    assert_eq!(published["uri"], other);
    assert_eq!(published["diagnostics"][0]["code"], "P0001", "{published}");
    // A name of the first file is not a name of the second.
    let kb_line = acs.lines().position(|l| l.starts_with("update KB5011487")).unwrap();
    let position =
        |uri: &str| json!({ "textDocument": { "uri": uri }, "position": { "line": kb_line, "character": 9 } });
    let definition = editor.request("textDocument/definition", position(URI));
    assert_eq!(definition["result"]["uri"], URI, "{definition}");
    let fixed = editor.change(other, secureboot);
    assert_eq!((fixed["uri"].as_str(), &fixed["diagnostics"]), (Some(other), &json!([])));
    let definition = editor.request("textDocument/definition", position(other));
    assert!(!secureboot.contains("KB5011487") || definition["result"]["uri"] == other, "{definition}");
    editor.stop();
}

/// Half-typed and hostile text: every prefix of the ACS file as it is typed, deep nesting, bytes
/// that are no language at all, requests about documents never opened or positions past the end.
/// Each change gets its diagnostics, each request an answer, and the server ends cleanly.
#[test]
fn half_typed_and_hostile_text_never_stops_the_server() {
    let acs = preflight_compiler::ACS_RULES;
    let mut editor = Editor::start(false);
    editor.open("");
    let mut texts: Vec<String> =
        (0..acs.len()).step_by(997).filter(|&n| acs.is_char_boundary(n)).map(|n| acs[..n].to_string()).collect();
    texts.push("rule r { when ".to_string() + &"(".repeat(100_000));
    texts.push("\u{0}\u{7f}\u{feff}\"\\ {{{{ }}}} ]] rule 9 { when".to_string());
    texts.push("test t { given ".to_string() + &"[".repeat(50_000));
    for text in &texts {
        let published = editor.change(URI, text);
        assert_eq!(published["uri"], URI);
        for request in ["textDocument/semanticTokens/full", "textDocument/formatting"] {
            let answer = editor.request(
                request,
                json!({ "textDocument": { "uri": URI }, "options": { "tabSize": 2, "insertSpaces": true } }),
            );
            assert!(answer.get("error").is_none(), "{request}: {answer}");
        }
        let end = json!({ "textDocument": { "uri": URI }, "position": { "line": 100_000, "character": 5 } });
        for request in ["textDocument/completion", "textDocument/hover", "textDocument/definition"] {
            let answer = editor.request(request, end.clone());
            assert!(answer.get("error").is_none(), "{request}: {answer}");
        }
    }
    // A document never opened, and parameters of the wrong shape.
    let unknown = json!({ "textDocument": { "uri": "file:///never" }, "position": { "line": 0, "character": 0 } });
    assert_eq!(editor.request("textDocument/hover", unknown)["result"], Value::Null);
    let answer = editor.request("textDocument/completion", json!({ "nonsense": true }));
    assert!(answer.get("error").is_none(), "{answer}");
    editor.stop();
}

/// The framing is read with bounds: a message declaring more than 64 MiB (even 10^18 bytes) is
/// answered with an error and skipped as it streams, never allocated; a body that is not JSON
/// is answered the same way; the server goes on answering.
#[test]
fn oversized_and_broken_messages_are_refused_and_the_server_goes_on() {
    let mut editor = Editor::start(true);
    // A broken body, then a request that must still be answered.
    editor.client.send_raw(b"Content-Length: 5\r\n\r\nhello");
    let refused = editor.client.receive();
    assert_eq!(refused["id"], Value::Null, "{refused}");
    assert_eq!(refused["error"]["code"], -32600, "{refused}");
    assert_eq!(editor.open("advisory a {").as_object().map(|o| o.contains_key("diagnostics")), Some(true));

    // 80 MiB declared and sent: skipped, answered, and the next request works.
    let size = 80usize << 20;
    editor.client.send_raw(format!("Content-Length: {size}\r\n\r\n").as_bytes());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..80 {
        editor.client.send_raw(&chunk);
    }
    let refused = editor.client.receive();
    assert!(refused["error"]["message"].as_str().unwrap().contains("over the limit"), "{refused}");
    let hover = editor.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": URI }, "position": { "line": 0, "character": 0 } }),
    );
    assert!(hover.get("result").is_some(), "{hover}");
    let rss = rss_kib(editor.client.pid());
    assert!(rss < 200 * 1024, "the server holds {rss} KiB after an 80 MiB message");

    // 10^18 bytes declared: refused at once, with the server's memory untouched.
    editor.client.send_raw(b"Content-Length: 1000000000000000000\r\n\r\n");
    let refused = editor.client.receive();
    assert!(refused["error"]["message"].as_str().unwrap().contains("1000000000000000000 bytes"), "{refused}");
    let rss = rss_kib(editor.client.pid());
    assert!(rss < 200 * 1024, "the server holds {rss} KiB");
}

/// Resident memory of a process, in KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Rename refuses a new name that is not a name of the old one's kind, or that another
/// declaration has; the editor then applies nothing.
#[test]
fn rename_refuses_what_would_break_the_file() {
    let acs = preflight_compiler::ACS_RULES;
    let mut editor = Editor::start(true);
    editor.open(acs);
    let at = |prefix: &str, character: usize| {
        let line = acs.lines().position(|l| l.starts_with(prefix)).unwrap();
        json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character } })
    };
    let other_let = acs.lines().find_map(|l| l.strip_prefix("let ")).map(|l| l.split(' ').next().unwrap()).unwrap();
    let other_let = if other_let == "has_esu" {
        acs.lines().filter_map(|l| l.strip_prefix("let ")).map(|l| l.split(' ').next().unwrap()).nth(1).unwrap()
    } else {
        other_let
    };
    for (new_name, says) in [
        ("", "cannot replace"),
        ("a b", "cannot replace"),
        ("x\"; y", "cannot replace"),
        ("9lives", "cannot replace"),
        ("and", "cannot replace"),
        (other_let, "already declared"),
    ] {
        let mut rename = at("let has_esu =", 5);
        rename["newName"] = json!(new_name);
        let answer = editor.request("textDocument/rename", rename);
        assert!(answer.get("result").is_none_or(Value::is_null), "{new_name:?}: {answer}");
        assert!(answer["error"]["message"].as_str().unwrap_or_default().contains(says), "{new_name:?}: {answer}");
    }
    // An update keeps the shape of an update id.
    let mut rename = at("update KB5011487", 8);
    rename["newName"] = json!("not_a_kb");
    let answer = editor.request("textDocument/rename", rename);
    assert!(answer["error"]["message"].as_str().unwrap_or_default().contains("update id"), "{answer}");
}

/// Semantic tokens of a whole file written on one line, for a UTF-16 editor, in columns the
/// editor counts (the conversion walks the line once, not once per token).
#[test]
fn semantic_tokens_on_one_long_line() {
    let mut source = String::from("advisory a { title \"é→\" published 2023-01-01 } ");
    for i in 0..3_000 {
        source.push_str(&format!("let v{i} = \"ü{i}\" == \"x\" "));
    }
    let expected = preflight_compiler::highlight::tokens(&source).unwrap();
    let mut editor = Editor::start(false);
    editor.open(&source);
    let response = editor.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": URI } }));
    let data: Vec<u64> = response["result"]["data"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap()).collect();
    assert_eq!(data.len(), expected.len() * 5);
    let mut character = 0u64;
    for (chunk, token) in data.chunks(5).zip(&expected) {
        assert_eq!(chunk[0], 0);
        character += chunk[1];
        let before = &source[..token.span.start as usize];
        assert_eq!(character, before.encode_utf16().count() as u64);
    }
}

/// The 250-rule file (the ACS rules ten times over) and a burst of 1,000 changes sent without
/// waiting: the server keeps answering, publishes the last version's diagnostics (and not one
/// per change), and its memory stays flat.
#[test]
fn a_burst_of_changes_on_a_long_file() {
    let long = preflight_tests_hosts::scale::acs_copies(10, false);
    let mut editor = Editor::start(true);
    let uri = "file:///work/long.preflight";
    let first = editor.open_at(uri, &long);
    assert!(first["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "P0201"), "{first}");
    let before = rss_kib(editor.client.pid());
    for n in 0..1000 {
        let text = format!("{long}\n// edit {n}\n");
        editor.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": n + 2 }, "contentChanges": [{ "text": text }] }),
        );
    }
    // The last version has a mistake the others do not: its diagnostics are the last published.
    let last = format!("{long}\nrule last_edit {{\n  when no_such_name\n  severity info\n  message \"m\"\n}}\n");
    editor.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2000 }, "contentChanges": [{ "text": last }] }),
    );
    let mut published = 0;
    loop {
        let d = editor.diagnostics();
        published += 1;
        if d["diagnostics"].as_array().unwrap().iter().any(|d| d["code"] == "P0100") {
            break;
        }
    }
    assert!(published < 100, "{published} publications for 1,001 changes");
    let hover = editor.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": { "line": 60, "character": 8 } }),
    );
    assert!(hover.get("error").is_none(), "{hover}");
    let after = rss_kib(editor.client.pid());
    assert!(after < before * 2 + 64 * 1024, "{before} KiB before the burst, {after} KiB after");
    editor.stop();
}

/// The Secure Boot file's `os.version` fact (declared in the shared Windows file) cannot be
/// renamed from it; a fact of its own can, everywhere — declaration, conditions, placeholders,
/// tests' `given` keys — and the renamed file still checks and passes its tests. The outline and
/// the folding ranges follow the file's items.
#[test]
fn rename_by_meaning_outline_and_folding() {
    let text = preflight_compiler::ACS_RULES;
    let mut editor = Editor::start(true);
    editor.open(text);
    let position = |needle: &str, plus: usize| {
        let offset = text.find(needle).unwrap() + plus;
        let line = text[..offset].matches('\n').count();
        let character = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
        json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character } })
    };
    // A fact the shared file declares: refused, saying where to rename it.
    let prepare = editor.request("textDocument/prepareRename", position("{os.version}", 2));
    assert!(prepare["error"]["message"].as_str().unwrap().contains("not declared in this file"), "{prepare}");
    // A fact of this file: the placeholder is the whole path.
    let prepare = editor.request("textDocument/prepareRename", position("auto_update: bool", 2));
    assert_eq!(prepare["result"]["placeholder"], "root_ca.auto_update", "{prepare}");
    let mut rename = position("auto_update: bool", 2);
    rename["newName"] = json!("root_ca.automatic_update");
    let answer = editor.request("textDocument/rename", rename);
    let edits = answer["result"]["changes"][URI].as_array().unwrap_or_else(|| panic!("{answer}")).clone();
    let mut renamed: Vec<String> = text.lines().map(str::to_string).collect();
    let mut sorted = edits.clone();
    sorted.sort_by_key(|e| {
        std::cmp::Reverse((e["range"]["start"]["line"].as_u64(), e["range"]["start"]["character"].as_u64()))
    });
    for e in &sorted {
        let line = e["range"]["start"]["line"].as_u64().unwrap() as usize;
        let (a, b) = (
            e["range"]["start"]["character"].as_u64().unwrap() as usize,
            e["range"]["end"]["character"].as_u64().unwrap() as usize,
        );
        renamed[line].replace_range(a..b, e["newText"].as_str().unwrap());
    }
    let renamed = renamed.join("\n") + "\n";
    // Every place but comments (which are prose) says the new name.
    let left: Vec<&str> =
        renamed.lines().filter(|l| l.contains("auto_update") && !l.trim_start().starts_with("//")).collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(
        edits.len(),
        text.lines().filter(|l| l.contains("auto_update") && !l.trim_start().starts_with("//")).count()
    );
    let program = preflight_compiler::check_source(&renamed).program.expect("the renamed file checks");
    let failed: Vec<_> =
        preflight_compiler::testing::run(&program).into_iter().filter(|t| t.failure.is_some()).collect();
    assert!(failed.is_empty(), "{failed:?}");

    // The outline: the advisory first, every rule, facts with their groups.
    let symbols = editor.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": URI } }));
    let items = symbols["result"].as_array().unwrap();
    assert_eq!(items[0]["name"], "acs_2023");
    let rules = items.iter().filter(|i| i["detail"] == "rule").count();
    assert_eq!(rules, text.lines().filter(|l| l.starts_with("rule ")).count());
    let facts = items.iter().find(|i| i["name"] == "facts").unwrap();
    assert!(
        facts["children"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "root_ca" && c["children"].as_array().is_some())
    );
    // Folding: every block that spans lines, each rule among them.
    let folds = editor.request("textDocument/foldingRange", json!({ "textDocument": { "uri": URI } }));
    let folds = folds["result"].as_array().unwrap();
    let rule_line = text.lines().position(|l| l.starts_with("rule win10_21h2 {")).unwrap();
    assert!(folds.iter().any(|f| f["startLine"] == rule_line), "{folds:?}");
    assert!(folds.iter().all(|f| f["startLine"].as_u64() < f["endLine"].as_u64()));
}

/// One missing `}` hides nothing: the editor gets the syntax error and, further on, a misspelt
/// severity and an unknown update, each where it is.
#[test]
fn every_error_at_once_while_a_block_is_open() {
    let text = preflight_compiler::ACS_RULES
        .replacen(
            "  message \"Windows {os.version} ({os.product_type}) supports ACS by default: no update is needed\"\n}",
            "  message \"Windows {os.version} ({os.product_type}) supports ACS by default: no update is needed\"\n",
            1,
        )
        .replacen("require KB5011487", "require KB5011478", 1)
        .replacen("severity unsupported", "severity unsuported", 1);
    assert_ne!(text, preflight_compiler::ACS_RULES);
    let mut editor = Editor::start(true);
    let published = editor.open(&text);
    let codes: Vec<&str> =
        published["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes.first(), Some(&"P0001"), "{published}");
    assert!(codes.iter().filter(|c| **c == "P0100").count() >= 2, "{codes:?}");
    let messages: Vec<&str> =
        published["diagnostics"].as_array().unwrap().iter().filter_map(|d| d["message"].as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains("KB5011478")) && messages.iter().any(|m| m.contains("unsuported")),
        "{messages:?}"
    );
}

/// A lens over every test says whether it passes; the one at the top sums them up and runs them
/// (`workspace/executeCommand`), telling the result; workspace symbols find names in open files.
#[test]
fn test_lenses_run_the_tests_and_workspace_symbols_find_names() {
    let text = preflight_compiler::ACS_RULES;
    let tests = text.lines().filter(|l| l.starts_with("test ")).count();
    let mut editor = Editor::start(true);
    editor.open(text);
    let lenses = editor.request("textDocument/codeLens", json!({ "textDocument": { "uri": URI } }));
    let lenses = lenses["result"].as_array().unwrap().clone();
    assert_eq!(lenses.len(), tests + 1);
    let top = lenses[0]["command"]["title"].as_str().unwrap();
    assert_eq!(top, format!("▶ run {tests} tests: {tests} passed, 0 failed"));
    let first_test = text.lines().position(|l| l.starts_with("test ")).unwrap();
    assert_eq!(lenses[1]["range"]["start"]["line"], first_test);
    assert_eq!(lenses[1]["command"]["title"], "✓ passes");

    // A test made to fail says so on its lens.
    let broken = text.replacen("expect action_required { install KB5011487 }", "expect ready", 1);
    assert_ne!(broken, text);
    editor.change(URI, &broken);
    let lenses = editor.request("textDocument/codeLens", json!({ "textDocument": { "uri": URI } }));
    let titles: Vec<&str> =
        lenses["result"].as_array().unwrap().iter().filter_map(|l| l["command"]["title"].as_str()).collect();
    assert!(titles[0].contains("1 failed"), "{titles:?}");
    assert_eq!(titles.iter().filter(|t| t.starts_with("✗ fails")).count(), 1, "{titles:?}");

    let command = lenses["result"][0]["command"].clone();
    let run = editor.request(
        "workspace/executeCommand",
        json!({ "command": command["command"], "arguments": command["arguments"] }),
    );
    assert!(run["result"].as_str().unwrap().contains("1 failed"), "{run}");

    let symbols = editor.request("workspace/symbol", json!({ "query": "win10_21" }));
    let names: Vec<&str> = symbols["result"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
    assert!(names.contains(&"win10_21h2"), "{names:?}");
}

/// Completion inside a message's `{` offers what a placeholder can show; inside a test's
/// `given { }` the facts (and groups) at that level.
#[test]
fn completion_in_placeholders_and_given_blocks() {
    let mut editor = Editor::start(true);
    let base = preflight_compiler::ACS_RULES;
    let complete = |editor: &mut Editor, addition: &str| {
        let text = format!("{base}\n{addition}");
        editor.change(URI, &text);
        let line = text.lines().count() - 1;
        let character = text.lines().last().unwrap().len();
        let answer = editor.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": character } }),
        );
        answer["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i["label"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    editor.open(base);
    let shown = complete(&mut editor, "rule r {\n  when host.os == win11\n  severity info\n  message \"on {os.");
    assert!(shown.iter().any(|l| l == "os.version") && shown.iter().any(|l| l == "host.os"), "{shown:?}");
    let shown = complete(&mut editor, "rule r {\n  when host.os == win11\n  severity info\n  message \"on {");
    assert!(shown.iter().any(|l| l == "release_date") && shown.iter().any(|l| l == "product.id"), "{shown:?}");
    let top = complete(&mut editor, "test \"t\" {\n  given { ");
    assert!(top.iter().any(|l| l == "os") && top.iter().any(|l| l == "hotfixes"), "{top:?}");
    assert!(!top.iter().any(|l| l == "version"), "{top:?}");
    let nested = complete(&mut editor, "test \"t\" {\n  given { product: { id: \"apex_one\" }, os: { ");
    assert!(nested.iter().any(|l| l == "version") && nested.iter().any(|l| l == "product_type"), "{nested:?}");
    assert!(!nested.iter().any(|l| l == "hotfixes"), "{nested:?}");

    // After `require` in a rule about Windows 10 21H2: the updates that apply to it first (in
    // the order the editor is told by `sortText`), each with its title.
    let text = format!("{base}\nrule r {{\n  when host.os == win10_21h2\n  require ");
    editor.change(URI, &text);
    let line = text.lines().count() - 1;
    let answer = editor.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": URI }, "position": { "line": line, "character": 10 } }),
    );
    let mut items = answer["result"].as_array().unwrap().clone();
    items.sort_by_key(|i| i["sortText"].as_str().unwrap().to_string());
    assert_eq!(items[0]["preselect"], true, "{:?}", items[0]);
    let first_other = items.iter().position(|i| i["label"] == "KB5005611").unwrap();
    let ours = items.iter().position(|i| i["label"] == "KB5011487").unwrap();
    assert!(ours < first_other, "KB5011487 (win10_21h2) ranks before KB5005611 (2004–21H1)");
    assert!(items[ours]["detail"].as_str().unwrap().contains("19044.1586"), "{:?}", items[ours]);
}
