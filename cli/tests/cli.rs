//! The `preflight` command as users run it: exit codes, stdout and stderr.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::root;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// `preflight ARGS` with an optional text on standard input.
fn preflight(args: &[&str], stdin: Option<&str>) -> Output {
    common::preflight(args, stdin.unwrap_or("").as_bytes())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

#[test]
fn check_is_clean_on_the_acs_rules() {
    let out = preflight(&["check", "rules/acs-2023.preflight"], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn check_exits_1_on_errors_and_speaks_json() {
    let out = preflight(&["check", "tests/data/check/err/P0100-unknown-os.preflight"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `win10`?"));
    let out = preflight(&["check", "--format", "json", "tests/data/check/err/P0100-unknown-os.preflight"], None);
    let first: serde_json::Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(first["code"], "P0100");
    assert!(first["line"].as_u64().unwrap() > 1);
    // The fix the help names, where it applies.
    assert_eq!(first["fix"]["replacement"], "win10", "{first}");
    assert_eq!(first["fix"]["line"], first["line"]);
    assert_eq!(first["fix"]["start"], first["primary"]["span"][0]);
}

#[test]
fn check_allows_warnings() {
    let out = preflight(&["check", "tests/data/check/err/P0204-unused-fact.preflight"], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning[P0204]"));
}

#[test]
fn test_runs_the_in_file_tests() {
    let out = preflight(&["test", "rules/acs-2023.preflight"], None);
    assert_eq!(out.status.code(), Some(0));
    let last = stdout(&out).lines().last().unwrap().to_string();
    assert!(last.ends_with("passed, 0 failed"), "{last}");
}

#[test]
fn test_reports_failures_with_a_diff() {
    let source = std::fs::read_to_string(root().join("tests/data/check/ok/minimal.preflight")).unwrap();
    let broken = source.replace("expect action_required { install KB5011487 }", "expect ready");
    let dir = std::env::temp_dir().join(format!("preflight-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.preflight");
    std::fs::write(&file, broken).unwrap();
    let out = preflight(&["test", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("FAIL needs the update"), "{text}");
    assert!(text.contains("- status ready") && text.contains("+ status action_required"), "{text}");
    assert!(text.contains("(- expected, not in the answer; + in the answer, not expected)"), "{text}");
    assert!(text.contains("the status `action_required` was set by rule `win10_update` (line 48)"), "{text}");
    // The engines fail alike: reported once.
    assert_eq!(text.matches("FAIL needs the update").count(), 1, "{text}");
    assert!(text.contains("on the interpreter and the module"), "{text}");
    assert!(text.trim_end().ends_with("0 passed, 1 failed"), "{text}");
}

#[test]
fn eval_prints_the_verdict_for_each_shared_example() {
    let dir = root().join("tests/data/examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.to_string_lossy().to_string();
        let Some(stem) = name.strip_suffix(".facts.json") else { continue };
        let expected: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{stem}.expect.json")).unwrap()).unwrap();
        let out = preflight(&["eval", "--rules", "rules/acs-2023.preflight", &name], None);
        let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        if expected.get("error").is_some() {
            assert_eq!(out.status.code(), Some(2), "{stem}");
            assert!(answer["error"]["code"].is_string());
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{stem}");
        assert_eq!(answer["status"], expected["status"], "{stem}");
        seen += 1;
    }
    assert!(seen >= 10);
}

#[test]
fn eval_reads_stdin_and_explains() {
    let facts = r#"{"product":{"id":"apex_one","version":"2019"},"os":{"version":"10.0.19044.1000","product_type":"workstation"}}"#;
    let out = preflight(&["eval", "--rules", "rules/acs-2023.preflight", "--explain", "-"], Some(facts));
    assert_eq!(out.status.code(), Some(0));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(answer["status"], "action_required");
    let trace = answer["trace"].as_array().unwrap();
    assert!(trace.iter().any(|s| s["rule"] == "win10_21h2" && s["fired"] == true));
    // A rule that did not fire says which part of its `when` was false, with the value it read.
    let server2022 = trace.iter().find(|s| s["rule"] == "server2022").unwrap();
    assert_eq!(
        server2022["why"],
        "condition does not hold: `host.os == server2022` is false: host.os is Windows 10 21H2"
    );
    let new_install = trace.iter().find(|s| s["rule"] == "root_ca_missing").unwrap();
    assert_eq!(
        new_install["why"],
        "condition does not hold: `root_ca.auto_update == false` is undetermined: root_ca.auto_update is unknown"
    );
}

#[test]
fn eval_input_error_exits_2_with_a_json_error() {
    let out = preflight(&["eval", "-"], Some("{not json"));
    assert_eq!(out.status.code(), Some(2));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    for id in ["acs_2023", "secureboot_2026"] {
        assert_eq!(answer[id]["error"]["code"], "invalid_json", "{answer}");
    }
}

/// With no engine option every built-in advisory answers, keyed by advisory id, each exactly as
/// it answers alone; `--rules` repeats.
#[test]
fn eval_answers_every_built_in_advisory() {
    let facts = r#"{"os":{"version":"10.0.19045.6456","product_type":"workstation"},"product":{"id":"apex_one","version":"2019"},"kek":{"kek_2k_ca_2023":true},"secure_boot":{"enabled":true}}"#;
    let all = preflight(&["eval", "--as-of", "2026-03-01", "-"], Some(facts));
    assert_eq!(all.status.code(), Some(0), "{}", String::from_utf8_lossy(&all.stderr));
    let all: serde_json::Value = serde_json::from_str(&stdout(&all)).unwrap();
    let keys: Vec<&String> = all.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["acs_2023", "secureboot_2026"]);
    for (id, file) in [("acs_2023", "rules/acs-2023.preflight"), ("secureboot_2026", "rules/secureboot-2026.preflight")]
    {
        let alone = preflight(&["eval", "--as-of", "2026-03-01", "--rules", file, "-"], Some(facts));
        let alone: serde_json::Value = serde_json::from_str(&stdout(&alone)).unwrap();
        assert_eq!(all[id], alone, "{id}");
    }
    assert_eq!(all["acs_2023"]["status"], "ready");
    assert_eq!(all["secureboot_2026"]["status"], "unsupported");
    let both = preflight(
        &[
            "eval",
            "--as-of",
            "2026-03-01",
            "--rules",
            "rules/secureboot-2026.preflight",
            "--rules",
            "rules/acs-2023.preflight",
            "-",
        ],
        Some(facts),
    );
    let both: serde_json::Value = serde_json::from_str(&stdout(&both)).unwrap();
    let keys: Vec<&String> = both.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["secureboot_2026", "acs_2023"], "in the order given");
    let twice = preflight(
        &["eval", "--rules", "rules/acs-2023.preflight", "--rules", "rules/acs-2023.preflight", "-"],
        Some(facts),
    );
    assert_eq!(twice.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("advisory `acs_2023` is given twice"));
}

#[test]
fn test_runs_every_file_of_a_directory() {
    let out = preflight(&["test", "rules/"], None);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("rules/acs-2023.preflight\n") && text.contains("rules/secureboot-2026.preflight\n"),
        "{text}"
    );
    assert_eq!(text.matches(" passed, 0 failed").count(), 2, "{text}");
}

#[test]
fn check_several_files_warns_when_they_disagree_on_a_fact() {
    let set = "tests/data/check/err/P0207-fact-type-conflict";
    let out = preflight(&["check", &format!("{set}/a.preflight"), &format!("{set}/b.preflight")], None);
    assert_eq!(out.status.code(), Some(0), "warnings only");
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &stdout(&out);
    assert!(text.contains("warning[P0207]: fact `esu` is `int` here but `bool` in advisory `demo`"), "{text}");
    let clean = preflight(&["check", "rules/acs-2023.preflight", "rules/secureboot-2026.preflight"], None);
    assert!(!String::from_utf8_lossy(&clean.stderr).contains("P0207"));
}

#[test]
fn eval_with_a_rules_file() {
    let facts = r#"{"product":{"id":"agent"},"os":{"version":"10.0.19044.1","product_type":"workstation"}}"#;
    let out = preflight(&["eval", "--rules", "tests/data/check/ok/minimal.preflight", "-"], Some(facts));
    let answer: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(answer["status"], "action_required");
}

#[test]
fn fmt_check_passes_on_the_acs_rules() {
    let out = preflight(&["fmt", "--check", "rules/acs-2023.preflight"], None);
    assert_eq!(out.status.code(), Some(0));
}

/// Runs `preflight ARGS` with its standard output already closed by the reader (`| head -0`).
fn with_closed_stdout(args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

const PRINTING: &[&[&str]] = &[
    &["eval", "tests/data/examples/win7-apex-one.facts.json"],
    &["doc", "rules/acs-2023.preflight"],
    &["doc", "--schema", "rules/acs-2023.preflight"],
    &["fmt", "rules/acs-2023.preflight"],
    &["test", "rules/acs-2023.preflight"],
    &["check", "--format", "json", "tests/data/check/err/P0100-unknown-os.preflight"],
    &["compile", "--emit", "wat", "rules/acs-2023.preflight"],
];

#[test]
fn a_closed_pipe_ends_quietly() {
    let dir = tempdir();
    let module = dir.join("acs.wasm");
    assert!(preflight(&["compile", "rules/acs-2023.preflight", "-o", module.to_str().unwrap()], None).status.success());
    let inspect: &[&str] = &["inspect", module.to_str().unwrap()];
    for args in PRINTING.iter().copied().chain([inspect]) {
        let out = with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{args:?}: {:?} {stderr}", out.status);
    }
}

#[test]
fn a_full_disk_is_a_clear_error() {
    if !Path::new("/dev/full").exists() {
        return;
    }
    for args in PRINTING {
        let out = Command::new(env!("CARGO_BIN_EXE_preflight"))
            .args(*args)
            .current_dir(root())
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains("cannot write to standard output"), "{args:?}: {stderr}");
    }
}

#[test]
fn inspect_names_a_file_that_is_not_a_module_in_one_line() {
    let out = preflight(&["inspect", "README.md"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stderr.trim(), "error: `README.md` is not a WebAssembly module");
}

fn tempdir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("preflight-cli-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `preflight serve --no-build --port 0`: the child and its address.
fn serve() -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["serve", "--no-build", "--port", "0", "--dir", "web-demo"])
        .current_dir(root())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let address = first.split("http://").nth(1).unwrap().split('/').next().unwrap().to_string();
    std::thread::spawn(move || lines.for_each(drop));
    (child, address)
}

/// Sends raw bytes and returns the status line (empty when the server closed the connection).
fn http(address: &str, request: &[u8]) -> String {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    let _ = stream.write_all(request);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).lines().next().unwrap_or("").to_string()
}

fn get(address: &str, path: &str, host: &str) -> String {
    http(address, format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
}

#[test]
fn serve_offers_only_the_pages_to_loopback_names() {
    let (mut child, address) = serve();
    assert_eq!(get(&address, "/index.html", &address), "HTTP/1.1 200 OK");
    assert_eq!(get(&address, "/", "localhost"), "HTTP/1.1 200 OK");
    for path in [
        "/Cargo.toml",
        "/src/api.rs",
        "/build.sh",
        "/tests/browser.test.mjs",
        "/package.json",
        "/../Cargo.toml",
        "/%2e%2e/README.md",
        "/.gitignore",
    ] {
        assert_eq!(get(&address, path, &address), "HTTP/1.1 404 Not Found", "{path}");
    }
    // DNS rebinding: another name that resolves to 127.0.0.1.
    assert_eq!(get(&address, "/index.html", "attacker.example"), "HTTP/1.1 421 Misdirected Request");
    assert_eq!(http(&address, b"POST /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n").split(' ').nth(1), Some("405"));
    // A huge request line is cut off at the head limit, not buffered.
    let mut huge = b"GET /".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 4 << 20));
    let status = http(&address, &huge);
    assert!(status.is_empty() || status.contains(" 431 ") || status.contains(" 400 "), "{status}");
    child.kill().unwrap();
}

#[test]
fn idle_connections_cannot_lock_the_server_out() {
    let (mut child, address) = serve();
    // More idle connections than the server serves at once: they time out, others get in.
    let idle: Vec<_> = (0..70).map(|_| std::net::TcpStream::connect(&address).unwrap()).collect();
    let started = std::time::Instant::now();
    assert_eq!(get(&address, "/index.html", &address), "HTTP/1.1 200 OK");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    drop(idle);
    child.kill().unwrap();
}

#[test]
fn fmt_check_and_write_cannot_be_combined() {
    let out = preflight(&["fmt", "--check", "--write", "rules/acs-2023.preflight"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}

#[test]
fn fmt_write_replaces_the_file_a_link_names_atomically() {
    let dir = tempdir();
    let (file, link) = (dir.join("rules.preflight"), dir.join("link.preflight"));
    let source = std::fs::read_to_string(root().join("rules/acs-2023.preflight")).unwrap();
    std::fs::write(&file, source.replacen("advisory acs_2023 {", "advisory   acs_2023   {", 1)).unwrap();
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let out = preflight(&["fmt", "--write", link.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), source);
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.iter().all(|n| !n.to_string_lossy().ends_with(".tmp")), "{left:?}");
}
