//! The server's stdio transport: LSP's `Content-Length` framing read with bounds, so that no
//! message an editor (or anything else on the pipe) sends can exhaust memory or end the server.
//! A message over [`MAX_MESSAGE`] is skipped as it streams past (never held) and answered with a
//! JSON-RPC error whose id is null (sent before the body is skipped, which may never come) (the request's id is inside the skipped body); a body that is
//! not a JSON-RPC message gets the same answer; a header line over [`MAX_HEADER`] bytes is cut.
//! The server then reads the next message.

use lsp_server::{Connection, Message};
use std::io::{BufRead, Read, Write};

/// The largest message read: far above any rules file an editor sends (a 10× ACS file is under
/// 1 MiB), far below what would trouble the machine.
pub const MAX_MESSAGE: u64 = 64 << 20;

/// The longest header line kept.
const MAX_HEADER: u64 = 8 << 10;

/// What one frame of input was.
enum Frame {
    Message(Message),
    /// Read past and refused: why, for the error answer.
    Refused(String),
    /// Refused, with a body of this many bytes still to skip (answered first: the body may never
    /// come).
    Oversized(u64),
}

/// The connection over stdin/stdout, and the writer thread to join once the connection is
/// dropped. The reader thread ends at `exit`, at the end of input, or with the process.
pub fn stdio() -> (Connection, std::thread::JoinHandle<()>) {
    let (to_server, from_reader) = crossbeam_channel::bounded::<Message>(0);
    let (to_writer, from_server) = crossbeam_channel::unbounded::<Message>();
    let writer = std::thread::spawn(move || {
        for message in from_server {
            let mut out = std::io::stdout().lock();
            if message.write(&mut out).and_then(|()| out.flush()).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut input = stdin.lock();
        loop {
            match read_frame(&mut input) {
                Ok(Some(Frame::Message(message))) => {
                    let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                    if to_server.send(message).is_err() || exit {
                        break;
                    }
                }
                Ok(Some(Frame::Refused(why))) => refuse(&why),
                Ok(Some(Frame::Oversized(length))) => {
                    refuse(&format!(
                        "a message of {length} bytes is over the limit of {MAX_MESSAGE} bytes; it is skipped"
                    ));
                    if std::io::copy(&mut input.by_ref().take(length), &mut std::io::sink()).is_err() {
                        break;
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
    });
    (Connection { sender: to_writer, receiver: from_reader }, writer)
}

/// Answers a refused frame: JSON-RPC's "invalid request" with a null id, written whole under
/// stdout's lock so that it never interleaves with the writer thread's messages.
fn refuse(why: &str) {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": -32600, "message": why },
    })
    .to_string();
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "Content-Length: {}\r\n\r\n{body}", body.len()).and_then(|()| out.flush());
}

/// One frame: headers up to a blank line, then the body its `Content-Length` gives. `None` at
/// the end of input.
fn read_frame(input: &mut impl BufRead) -> std::io::Result<Option<Frame>> {
    let mut length: Option<Result<u64, String>> = None;
    let mut seen_header = false;
    loop {
        let mut line = Vec::new();
        let n = input.by_ref().take(MAX_HEADER).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        if !line.ends_with(b"\n") && n as u64 == MAX_HEADER {
            // Cut: the rest of the line goes unread into nothing.
            skip_line(input)?;
            return Ok(Some(Frame::Refused(format!("a header line is longer than {MAX_HEADER} bytes"))));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if seen_header {
                break;
            }
            continue;
        }
        seen_header = true;
        if let Some((name, value)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<u64>().map_err(|_| value.trim().to_string()));
        }
    }
    let length = match length {
        Some(Ok(length)) => length,
        Some(Err(value)) => {
            let shown = preflight_compiler::diagnostic::printable(&value);
            return Ok(Some(Frame::Refused(format!("`Content-Length: {shown}` is not a length in bytes"))));
        }
        None => return Ok(Some(Frame::Refused("a message without `Content-Length`".into()))),
    };
    if length > MAX_MESSAGE {
        return Ok(Some(Frame::Oversized(length)));
    }
    let mut body = Vec::new();
    input.by_ref().take(length).read_to_end(&mut body)?;
    if (body.len() as u64) < length {
        return Ok(None);
    }
    Ok(Some(match serde_json::from_slice::<Message>(&body) {
        Ok(message) => Frame::Message(message),
        Err(e) => Frame::Refused(format!("the message is not a JSON-RPC message: {e}")),
    }))
}

fn skip_line(input: &mut impl BufRead) -> std::io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(at) => {
                input.consume(at + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}
