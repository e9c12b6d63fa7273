//! A Language Server Protocol client over stdio that drives `preflight lsp` as an editor does:
//! the CLI's language-server tests and the benchmark's latencies share it.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};

pub struct LspClient {
    child: Child,
    input: ChildStdin,
    output: BufReader<ChildStdout>,
    next_id: i64,
}

impl LspClient {
    /// Starts `PROGRAM lsp` in `dir`.
    pub fn start(program: &Path, dir: &Path) -> LspClient {
        let mut child = Command::new(program)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starts `preflight lsp`");
        let input = child.stdin.take().expect("the server's stdin");
        let output = BufReader::new(child.stdout.take().expect("the server's stdout"));
        LspClient { child, input, output, next_id: 1 }
    }

    pub fn send(&mut self, message: Value) {
        let text = message.to_string();
        write!(self.input, "Content-Length: {}\r\n\r\n{text}", text.len()).expect("writes to the server");
        self.input.flush().expect("writes to the server");
    }

    /// Bytes as they are, framing included (for tests of what the server does with bad framing).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.input.write_all(bytes).expect("writes to the server");
        self.input.flush().expect("writes to the server");
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next message from the server.
    pub fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.output.read_line(&mut line).expect("reads from the server");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("a content length");
            }
        }
        let mut body = vec![0; length];
        self.output.read_exact(&mut body).expect("reads from the server");
        serde_json::from_slice(&body).expect("JSON from the server")
    }

    /// Sends a request and returns its response (messages in between are dropped).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message["id"] == id {
                return message;
            }
        }
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The parameters of the next diagnostics the server publishes.
    pub fn diagnostics(&mut self) -> Value {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics" {
                return message["params"].clone();
            }
        }
    }

    /// Shuts the server down; returns the answer to `shutdown` and how the server ended.
    pub fn stop(mut self) -> (Value, ExitStatus) {
        let done = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("the server ends");
        (done, status)
    }
}
