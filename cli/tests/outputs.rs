//! Output paths, for every command that writes one: a device or FIFO is written in place (never
//! replaced, never blocked on), an output that is an input is refused, and files get the mode a
//! plain `open` gives (or keep theirs).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{preflight, root};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh folder with a one-host input, its answers and the two rules files copied in.
fn workspace(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("preflight-outputs-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let host = std::fs::read_to_string(root().join("examples/hosts/win10-21h2.json")).unwrap();
    let line: String = host.lines().map(str::trim).collect();
    std::fs::write(dir.join("in.jsonl"), format!("{line}\n")).unwrap();
    std::fs::copy(root().join("rules/acs-2023.preflight"), dir.join("acs.preflight")).unwrap();
    std::fs::write(dir.join("export.csv"), "os.version,os.product_type\n10.0.19044.1466,workstation\n").unwrap();
    std::fs::write(dir.join("map.toml"), "\"os.version\" = \"os.version\"\n").unwrap();
    let out = preflight(&["batch", &s(&dir.join("in.jsonl")), "-o", &s(&dir.join("answers.jsonl"))], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    dir
}

/// `report` over the workspace's answers and input, up to its `-o` (the path comes next).
fn report_of(dir: &Path) -> Vec<String> {
    vec!["report".into(), s(&dir.join("answers.jsonl")), "--facts".into(), s(&dir.join("in.jsonl")), "-o".into()]
}

fn s(path: &Path) -> String {
    path.to_str().unwrap().to_string()
}

/// Every command, each output aimed at each of its inputs (by name, symbolic link and hard link):
/// refused with a message naming both, exit 3, and the input unchanged.
#[test]
fn an_output_that_is_an_input_is_refused() {
    let dir = workspace("inputs");
    let p = |name: &str| s(&dir.join(name));
    std::os::unix::fs::symlink(dir.join("answers.jsonl"), dir.join("answers-link.jsonl")).unwrap();
    std::fs::hard_link(dir.join("in.jsonl"), dir.join("in-hard.jsonl")).unwrap();
    let cases: Vec<Vec<String>> = vec![
        vec!["report".into(), p("answers.jsonl"), "--facts".into(), p("in.jsonl"), "-o".into(), p("answers.jsonl")],
        vec!["report".into(), p("answers.jsonl"), "--facts".into(), p("in.jsonl"), "-o".into(), p("in.jsonl")],
        vec![
            "report".into(),
            p("answers.jsonl"),
            "--facts".into(),
            p("in.jsonl"),
            "-o".into(),
            p("answers-link.jsonl"),
        ],
        vec!["report".into(), p("answers.jsonl"), "--facts".into(), p("in.jsonl"), "-o".into(), p("in-hard.jsonl")],
        vec!["batch".into(), p("in.jsonl"), "-o".into(), p("in-hard.jsonl")],
        vec!["batch".into(), p("in.jsonl"), "--report".into(), p("in.jsonl")],
        vec!["batch".into(), p("in.jsonl"), "-o".into(), p("new.jsonl"), "--report".into(), p("new.jsonl")],
        vec!["batch".into(), "--rules".into(), p("acs.preflight"), p("in.jsonl"), "-o".into(), p("acs.preflight")],
        vec!["facts".into(), p("export.csv"), "--map".into(), p("map.toml"), "-o".into(), p("map.toml")],
        vec!["facts".into(), p("export.csv"), "--rules".into(), p("acs.preflight"), "-o".into(), p("acs.preflight")],
        vec!["facts".into(), p("export.csv"), "-o".into(), p("export.csv")],
        vec!["compile".into(), p("acs.preflight"), "-o".into(), p("acs.preflight")],
        vec!["collector".into(), p("acs.preflight"), "-o".into(), p("acs.preflight")],
    ];
    let before: Vec<(String, Vec<u8>)> = ["answers.jsonl", "in.jsonl", "acs.preflight", "map.toml", "export.csv"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
        .collect();
    for args in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = preflight(&args, b"");
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(stderr.contains("write to another file"), "{args:?}: {stderr}");
        for (name, bytes) in &before {
            assert_eq!(&std::fs::read(dir.join(name)).unwrap(), bytes, "{args:?} changed {name}");
        }
    }
    assert!(!dir.join("new.jsonl").exists(), "nothing written when the report would replace the answers");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `-o /dev/null` writes into the device: it stays a device (a rename over it, run as root, would
/// make it a regular file).
#[test]
fn a_device_is_written_in_place() {
    let dir = workspace("device");
    for args in [
        vec!["batch".to_string(), s(&dir.join("in.jsonl")), "-o".into(), "/dev/null".into()],
        [report_of(&dir), vec!["/dev/null".into()]].concat(),
        vec!["collector".into(), "-o".into(), "/dev/null".into()],
        vec!["compile".into(), "rules/acs-2023.preflight".into(), "-o".into(), "/dev/null".into()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = preflight(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(std::fs::metadata("/dev/null").unwrap().file_type().is_char_device());
    }
    let out = preflight(
        &["report", &s(&dir.join("answers.jsonl")), "--facts", &s(&dir.join("in.jsonl")), "-o", &s(&dir)],
        b"",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("is a directory"), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A FIFO: with no reader the command says so at once instead of blocking; with a reader the
/// answers arrive through it and it stays a FIFO.
#[test]
fn a_fifo_never_blocks_and_is_written_in_place() {
    let dir = workspace("fifo");
    let fifo = dir.join("answers.fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["batch", &s(&dir.join("in.jsonl")), "-o", &s(&fifo)])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("batch -o FIFO blocked with no reader");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = text(&child.wait_with_output().unwrap().stderr);
    assert_eq!(status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("FIFO with no reader"), "{stderr}");

    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    // The reader opens the FIFO first; until then the writer is refused, so retry briefly.
    let mut written = false;
    for _ in 0..200 {
        let out = preflight(&["batch", &s(&dir.join("in.jsonl")), "-o", &s(&fifo)], b"");
        if out.status.code() == Some(0) {
            written = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(written);
    let received = reader.join().unwrap();
    assert_eq!(received, std::fs::read(dir.join("answers.jsonl")).unwrap());
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A new output has the mode `File::create` gives beside it (0666 less the umask, not 0600); an
/// existing one keeps its mode.
#[test]
fn outputs_have_the_usual_mode_and_keep_an_existing_one() {
    let dir = workspace("mode");
    let plain = dir.join("plain");
    std::fs::File::create(&plain).unwrap();
    let usual = std::fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
    let outputs = [
        ("batch.jsonl", vec!["batch".to_string(), s(&dir.join("in.jsonl")), "-o".into()]),
        ("fleet.html", report_of(&dir)),
        ("facts.jsonl", vec!["facts".into(), s(&dir.join("export.csv")), "-o".into()]),
        ("acs.wasm", vec!["compile".into(), s(&dir.join("acs.preflight")), "-o".into()]),
        ("collect.ps1", vec!["collector".into(), "-o".into()]),
    ];
    for (name, args) in &outputs {
        let target = s(&dir.join(name));
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push(&target);
        let out = preflight(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, usual, "{name}");
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o640)).unwrap();
        let out = preflight(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert_eq!(std::fs::metadata(&target).unwrap().permissions().mode() & 0o777, 0o640, "{name} kept its mode");
    }
    // fmt --write replaces its own file, keeping its mode.
    let rules = dir.join("acs.preflight");
    std::fs::set_permissions(&rules, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&rules, std::fs::read_to_string(&rules).unwrap().replace("\n\n", "\n\n\n")).unwrap();
    let out = preflight(&["fmt", "--write", &s(&rules)], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(std::fs::metadata(&rules).unwrap().permissions().mode() & 0o777, 0o600);
    std::fs::remove_dir_all(&dir).unwrap();
}
