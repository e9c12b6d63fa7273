//! `preflight serve`: builds what the pages load (web-demo/build.sh) and serves the pages on
//! 127.0.0.1, with hyper.
//!
//! **Architecture Invariant:** only the pages' own files are served (HTML, scripts, styles,
//! modules, rules files and the collector script at the top of the folder, and the built
//! packages under `pkg/`), only to loopback Host names (a DNS-rebound name is refused), with bounded time, size
//! and concurrency: a request head is read within [`HEAD_TIMEOUT`] and is at most
//! [`MAX_HEAD_BYTES`], a connection lasts at most [`CONNECTION_TIMEOUT`], and at most
//! [`MAX_CONNECTIONS`] are open at once (the next waits to be accepted).

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);
/// hyper's smallest buffer: a request line and headers larger than this are refused.
pub const MAX_HEAD_BYTES: usize = 8192;
pub const MAX_CONNECTIONS: usize = 64;
/// What the pages are made of (the playground loads a rules file); anything else in the folder
/// (sources, tests, build scripts, packages' metadata) is not served.
const PAGE_FILES: &[&str] = &["html", "js", "css", "wasm", "ps1", "preflight"];

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
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    listener.set_nonblocking(true).map_err(|e| e.to_string())?;
    eprintln!(
        "self-check page: http://{address}/index.html\nplayground:      http://{address}/playground.html\n(Ctrl-C stops)"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server: {e}"))?;
    runtime.block_on(serve(listener, Arc::new(root), address.port()))
}

async fn serve(listener: std::net::TcpListener, root: Arc<PathBuf>, port: u16) -> Result<u8, String> {
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        // A slot first: past the bound, connections wait in the kernel's backlog, not here.
        let slot = slots.clone().acquire_owned().await.map_err(|e| e.to_string())?;
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let root = root.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let root = root.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&request, &root, port)) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD_BYTES)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, connection).await;
            drop(slot);
        });
    }
}

fn respond(request: &Request<Incoming>, root: &Path, port: u16) -> Response<Full<Bytes>> {
    if !loopback_host(request.headers().get(HOST), port) {
        return status(StatusCode::MISDIRECTED_REQUEST, "this server answers only to 127.0.0.1 and localhost\n");
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return status(StatusCode::METHOD_NOT_ALLOWED, "GET only\n");
    }
    let path = match request.uri().path() {
        "/" => "/index.html",
        other => other,
    };
    let Some((file, body)) = resolve(root, path).and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type(&file)));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}

fn status(code: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = code;
    response
}

/// A Host header naming this server by a loopback name. Browsers always send one; a page on
/// another site that rebinds its own name to 127.0.0.1 sends that name, and is refused.
fn loopback_host(host: Option<&HeaderValue>, port: u16) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else { return false };
    let name = match host.rsplit_once(':') {
        Some((name, p)) if !name.ends_with(':') && p.parse::<u16>().is_ok() => {
            if p.parse::<u16>() != Ok(port) {
                return false;
            }
            name
        }
        _ => host,
    };
    matches!(name.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "[::1]")
}

/// The file a URL path names, if it is one of the pages' files inside `root`: a page file at the
/// top, a built package's file under `pkg/`, or a built advisory under `modules/` (its module,
/// its rules and the list of them) — no `..`, no hidden names, no links out.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let bad = |s: &&str| s.is_empty() || s.starts_with('.') || s.contains('\\');
    let folder = if segments.len() > 1 { segments.first().copied() } else { None };
    if segments.iter().any(bad) || !matches!(folder, None | Some("pkg" | "modules")) {
        return None;
    }
    let extension = Path::new(segments.last()?).extension()?.to_str()?;
    let allowed = PAGE_FILES.contains(&extension) || (folder == Some("modules") && extension == "json");
    if !allowed {
        return None;
    }
    let file = root.join(segments.join("/")).canonicalize().ok()?;
    (file.starts_with(root) && file.is_file()).then_some(file)
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        // The collector script and rules files are shown as text, never run.
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_for_this_port() {
        let ok = |h: &str| loopback_host(Some(&HeaderValue::from_str(h).unwrap()), 8000);
        assert!(ok("127.0.0.1:8000") && ok("localhost:8000") && ok("LOCALHOST") && ok("[::1]:8000"));
        assert!(!ok("evil.example:8000") && !ok("127.0.0.1:9000") && !ok("127.0.0.1.nip.io:8000"));
        assert!(!loopback_host(None, 8000));
    }
}
