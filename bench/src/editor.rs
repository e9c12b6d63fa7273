//! The language server as an editor meets it: `preflight lsp` (the binary beside this one, or
//! `$PREFLIGHT_BIN`) over stdio, the time from sending a change of a file to receiving its
//! diagnostics, and of a semantic-tokens and a completion request; against checking the same text
//! in process (the floor: the server checks the whole file on every change). Typing latency is a
//! completion asked right after each change, without waiting for that change's diagnostics: the
//! server answers it while the check runs on its own thread.

use preflight_tests::lsp_client::LspClient;
use serde_json::json;
use std::time::{Duration, Instant};

/// How long `f` takes.
fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

fn median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

/// Measures the server on `source` (`label` names it in the output).
pub fn measure(label: &str, source: &str, check_time: Duration) {
    let binary = std::env::var_os("PREFLIGHT_BIN")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("preflight"))));
    let Some(binary) = binary.filter(|b| b.exists()) else {
        println!("\nlanguage server: skipped (build it: cargo build --release -p preflight-cli)");
        return;
    };
    let mut server = LspClient::start(&binary, &std::env::temp_dir());
    server.request("initialize", json!({ "capabilities": {} }));
    server.notify("initialized", json!({}));
    let uri = "file:///bench/acs-2023.preflight";
    // Each message is built before its clock starts.
    let document = json!({ "textDocument": { "uri": uri, "languageId": "preflight", "version": 1, "text": source } });
    let open = time(|| {
        server.notify("textDocument/didOpen", document);
        server.diagnostics();
    });
    // A keystroke at the end of the file, one change at a time (each waits for its diagnostics).
    let changes: Vec<Duration> = (0..41)
        .map(|n| {
            let text = format!("{source}\n// edit {n}\n");
            let change =
                json!({ "textDocument": { "uri": uri, "version": n + 2 }, "contentChanges": [{ "text": text }] });
            time(|| {
                server.notify("textDocument/didChange", change);
                server.diagnostics();
            })
        })
        .collect();
    let tokens: Vec<Duration> = (0..21)
        .map(|_| {
            time(|| {
                server.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": uri } }));
            })
        })
        .collect();
    let line = source.lines().count() + 1;
    // Typing: each change followed at once by a completion at its end (the check still running).
    let typing: Vec<Duration> = (0..41)
        .map(|n| {
            let text = format!("{source}\n// typed {n}\n");
            let change =
                json!({ "textDocument": { "uri": uri, "version": n + 100 }, "contentChanges": [{ "text": text }] });
            server.notify("textDocument/didChange", change);
            let at = json!({ "textDocument": { "uri": uri }, "position": { "line": line + 1, "character": 0 } });
            time(|| {
                server.request("textDocument/completion", at);
            })
        })
        .collect();
    let completions: Vec<Duration> = (0..21)
        .map(|_| {
            time(|| {
                let at = json!({ "textDocument": { "uri": uri }, "position": { "line": line, "character": 0 } });
                server.request("textDocument/completion", at);
            })
        })
        .collect();
    server.stop();

    let (change, change_max) = median(changes);
    let (token, token_max) = median(tokens);
    let (completion, completion_max) = median(completions);
    let (typed, typed_max) = median(typing);
    println!("\nlanguage server ({}), {label}", binary.display());
    println!("  open → diagnostics            {:>8.1} ms", super::ms(open));
    println!(
        "  change → diagnostics          {:>8.1} ms median, {:.1} ms worst of 41 ({:.2}× checking in process)",
        super::ms(change),
        super::ms(change_max),
        change.as_secs_f64() / check_time.as_secs_f64()
    );
    println!(
        "  semantic tokens               {:>8.1} ms median, {:.1} ms worst of 21",
        super::ms(token),
        super::ms(token_max)
    );
    println!(
        "  completion                    {:>8.1} ms median, {:.1} ms worst of 21",
        super::ms(completion),
        super::ms(completion_max)
    );
    println!(
        "  typing: change → completion   {:>8.1} ms median, {:.1} ms worst of 41",
        super::ms(typed),
        super::ms(typed_max)
    );
}
