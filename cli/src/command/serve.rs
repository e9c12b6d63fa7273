//! `preflight serve`: builds what the pages load (web-demo/build.sh) and serves web-demo/ on
//! 127.0.0.1 — static files only, GET only, nothing outside the folder.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};

pub fn run(dir: &Path, port: u16, build: bool) -> Result<u8, String> {
    if build {
        let script = dir.join("build.sh");
        eprintln!("building the pages ({})…", script.display());
        let status = std::process::Command::new("bash")
            .arg(&script)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        if !status.success() {
            return Err(format!(
                "{} failed; it needs the wasm32 target and wasm-bindgen-cli (see tests/run-all.sh)",
                script.display()
            ));
        }
    }
    let root = dir.canonicalize().map_err(|e| format!("cannot serve `{}`: {e}", dir.display()))?;
    let listener =
        TcpListener::bind(("127.0.0.1", port)).map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    eprintln!(
        "self-check page: http://{address}/index.html\nplayground:      http://{address}/playground.html\n(Ctrl-C stops)"
    );
    for stream in listener.incoming().flatten() {
        let root = root.clone();
        std::thread::spawn(move || {
            let _ = respond(stream, &root);
        });
    }
    Ok(0)
}

fn respond(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let mut request = String::new();
    BufReader::new(&stream).read_line(&mut request)?;
    let mut parts = request.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
    if method != "GET" {
        return write!(stream, "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let path = if path == "/" { "/index.html" } else { path };
    match resolve(root, path).and_then(|p| std::fs::read(&p).ok().map(|body| (p, body))) {
        Some((file, body)) => {
            let kind = content_type(&file);
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)
        }
        None => write!(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    }
}

/// The file a URL path names, if it is inside `root` (no `..`, no links out).
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    if path.split('/').any(|segment| segment == ".." || segment.contains('\\')) {
        return None;
    }
    let file = root.join(path.trim_start_matches('/')).canonicalize().ok()?;
    (file.starts_with(root) && file.is_file()).then_some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}
