//! The language server as an editor meets it: `preflight lsp` (the binary beside this one, or
//! `$PREFLIGHT_BIN`) over stdio, the time from sending a change of the ACS file to receiving its
//! diagnostics, and of a semantic-tokens and a completion request; against checking the same text
//! in process (the floor: the server checks the whole file on every change).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Server {
    input: std::process::ChildStdin,
    output: BufReader<std::process::ChildStdout>,
    child: std::process::Child,
}

impl Server {
    fn send(&mut self, message: serde_json::Value) {
        let text = message.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{text}", text.len()).expect("write to the server");
        self.input.flush().expect("write to the server");
    }

    fn receive(&mut self) -> serde_json::Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.output.read_line(&mut line).expect("read from the server");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.output.read_exact(&mut body).expect("read from the server");
        serde_json::from_slice(&body).expect("JSON from the server")
    }

    /// Sends and waits for the message `done` accepts; returns the time in between.
    fn time(&mut self, message: serde_json::Value, done: impl Fn(&serde_json::Value) -> bool) -> Duration {
        let start = Instant::now();
        self.send(message);
        while !done(&self.receive()) {}
        start.elapsed()
    }
}

fn median(mut times: Vec<Duration>) -> (Duration, Duration) {
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

pub fn measure(source: &str, check_time: Duration) {
    let binary = std::env::var_os("PREFLIGHT_BIN")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::current_exe().ok().and_then(|exe| exe.parent().map(|dir| dir.join("preflight"))));
    let Some(binary) = binary.filter(|b| b.exists()) else {
        println!("\nlanguage server: skipped (build it: cargo build --release -p preflight-cli)");
        return;
    };
    let mut child = Command::new(&binary)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starts preflight lsp");
    let input = child.stdin.take().expect("stdin");
    let output = BufReader::new(child.stdout.take().expect("stdout"));
    let mut server = Server { input, output, child };
    let uri = "file:///bench/acs-2023.preflight";
    let is_diagnostics = |m: &serde_json::Value| m["method"] == "textDocument/publishDiagnostics";
    server.time(
        serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }),
        |m| m["id"] == 1,
    );
    server.send(serde_json::json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    let open = server.time(
        serde_json::json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": { "uri": uri, "languageId": "preflight", "version": 1, "text": source } } }),
        is_diagnostics,
    );
    // A keystroke at the end of the file, one change at a time (each waits for its diagnostics).
    let changes: Vec<Duration> = (0..41)
        .map(|n| {
            let text = format!("{source}\n// edit {n}\n");
            server.time(
                serde_json::json!({ "jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": { "uri": uri, "version": n + 2 }, "contentChanges": [{ "text": text }] } }),
                is_diagnostics,
            )
        })
        .collect();
    let tokens: Vec<Duration> = (0..21)
        .map(|n| {
            let id = 100 + n;
            server.time(
                serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/semanticTokens/full",
                    "params": { "textDocument": { "uri": uri } } }),
                |m| m["id"] == id,
            )
        })
        .collect();
    let line = source.lines().count() + 1;
    let completions: Vec<Duration> = (0..21)
        .map(|n| {
            let id = 200 + n;
            server.time(
                serde_json::json!({ "jsonrpc": "2.0", "id": id, "method": "textDocument/completion",
                    "params": { "textDocument": { "uri": uri }, "position": { "line": line, "character": 0 } } }),
                |m| m["id"] == id,
            )
        })
        .collect();
    server.time(serde_json::json!({ "jsonrpc": "2.0", "id": 999, "method": "shutdown" }), |m| m["id"] == 999);
    server.send(serde_json::json!({ "jsonrpc": "2.0", "method": "exit" }));
    let _ = server.child.wait();

    let (change, change_max) = median(changes);
    let (token, token_max) = median(tokens);
    let (completion, completion_max) = median(completions);
    println!("\nlanguage server ({}), the ACS file", binary.display());
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
}
