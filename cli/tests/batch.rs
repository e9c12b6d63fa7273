//! `preflight batch` and `eval` as an operator relies on them: every line answered, nothing
//! lost (atomic output, interrupts, broken modules), the evaluation date passed as a value.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{preflight, root};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("preflight-batch-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn acs() -> preflight_compiler::Program {
    preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap()
}

const WIN7: &str =
    r#"{"product":{"id":"apex_one","version":"2019"},"os":{"version":"6.1.7601","product_type":"workstation"}}"#;

/// A module with the ABI's exports: `evaluate` runs `body`, its answer is `answer` at 2048.
fn module(dir: &Path, name: &str, body: &str, answer: &str) -> PathBuf {
    let bytes = wat::parse_str(format!(
        r#"(module
            (memory (export "memory") 1)
            (data (i32.const 2048) "{answer}")
            (func (export "alloc") (param i32) (result i32) (i32.const 1024))
            (func (export "output") (result i32) (i32.const 2048))
            (func (export "abi_version") (result i32) (i32.const 4))
            (func (export "evaluate") (param i32 i32 i32) (result i32) {body}))"#
    ))
    .unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn every_line_is_answered_whatever_its_line_end() {
    // LF, CRLF and bare CR end lines; blank and whitespace-only lines are hosts too; the final
    // line end starts no new line.
    let input = format!("{WIN7}\n\n  \r{{}}\r\n{WIN7}\r{WIN7}\n   ");
    let out = preflight(&["batch", "--as-of", "2023-03-01", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answers: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(answers.len(), 7, "{answers:#?}");
    for (i, want) in [(0, "unsupported"), (1, "invalid_json"), (2, "invalid_json"), (3, "missing_field")] {
        assert!(answers[i].contains(want), "line {i}: {}", answers[i]);
    }
    assert!(answers[4].contains("unsupported") && answers[5].contains("unsupported"));
    assert!(answers[6].contains("invalid_json"));
    let trailing = preflight(&["batch", "-"], format!("{WIN7}\n{WIN7}\n").as_bytes());
    assert_eq!(String::from_utf8_lossy(&trailing.stdout).lines().count(), 2);
}

#[test]
fn invalid_utf8_is_an_answer_not_an_abort() {
    let mut input = WIN7.as_bytes().to_vec();
    input.extend_from_slice(b"\n{\"a\":\"\xff\"}\n");
    input.extend_from_slice(WIN7.as_bytes());
    let out = preflight(&["batch", "-"], &input);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answers: Vec<String> = String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect();
    assert_eq!(answers.len(), 3);
    assert!(answers[1].contains("\"invalid_json\"") && answers[1].contains("(byte 6)"), "{}", answers[1]);
    let eval = preflight(&["eval", "-"], b"{\"a\":\"\xc3\"}");
    assert_eq!(eval.status.code(), Some(2), "{}", stderr(&eval));
    assert!(String::from_utf8_lossy(&eval.stdout).contains("invalid_json"));
}

#[test]
fn the_evaluation_date_is_a_value_never_an_edit_of_the_facts() {
    let program = acs();
    // "as_of" as text inside a value, and nested: neither is the evaluation date.
    let sneaky = r#"{"product":{"id":"apex_one","version":"2019","note":"\"as_of\""},"os":{"version":"6.1.7601","product_type":"workstation"},"x":{"as_of":"2022-01-01"}}"#;
    for engine in [&["--rules", "rules/acs-2023.preflight"][..], &["--module", "target/acs-batch-test.wasm"][..]] {
        if !engine.is_empty() {
            let out = preflight(&["compile", "rules/acs-2023.preflight", "-o", "target/acs-batch-test.wasm"], b"");
            assert!(out.status.success());
        }
        let args = [&["eval", "--as-of", "2022-12-01"][..], engine, &["-"]].concat();
        let out = preflight(&args, sneaky.as_bytes());
        let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        // Before Windows 7's end of support: limited (missing rollups), not unsupported.
        assert_eq!(answer["status"], "limited", "{engine:?}: {answer}");
        let days = preflight_compiler::value::Date::parse("2022-12-01").unwrap().0;
        let expected: serde_json::Value =
            serde_json::from_str(&preflight_compiler::answer_with(&program, sneaky.as_bytes(), Some(days))).unwrap();
        assert_eq!(answer, expected);
    }
    // Offsets are the user's bytes: an error at byte 0 stays at byte 0.
    let out = preflight(&["eval", "-"], b"x");
    assert!(String::from_utf8_lossy(&out.stdout).contains("(byte 0)"));
    // A document of exactly 1 MiB is not too large.
    let mut exact = WIN7.trim_end_matches('}').to_string();
    exact.push_str(",\"pad\":\"");
    exact.push_str(&"x".repeat((1 << 20) - exact.len() - 2));
    exact.push_str("\"}");
    assert_eq!(exact.len(), 1 << 20);
    let out = preflight(&["eval", "-"], exact.as_bytes());
    assert!(!String::from_utf8_lossy(&out.stdout).contains("too_large"));
    // --as-of is a date or a usage error.
    for bad in ["oops\"", "2023-02-30", "2023-3-1"] {
        let out = preflight(&["batch", "--as-of", bad, "-"], WIN7.as_bytes());
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(stderr(&out).contains("is not a date"), "{}", stderr(&out));
    }
}

#[test]
fn eval_reads_no_further_than_the_size_limit() {
    // 8 MiB on standard input: too_large, from the first MiB and a byte.
    let big = vec![b' '; 8 << 20];
    let out = preflight(&["eval", "-"], &big);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("too_large"));
}

#[test]
fn output_replaces_out_only_when_every_line_is_answered() {
    let dir = temp_dir("atomic");
    let (input, out) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    std::fs::write(&input, format!("{WIN7}\n")).unwrap();
    std::fs::write(&out, "previous answers\n").unwrap();
    // A module that fails the ABI check: OUT keeps its contents.
    let foreign = dir.join("foreign.wasm");
    std::fs::write(&foreign, wat::parse_str(r#"(module (memory (export "memory") 1))"#).unwrap()).unwrap();
    let run = preflight(
        &["batch", "--module", foreign.to_str().unwrap(), input.to_str().unwrap(), "-o", out.to_str().unwrap()],
        b"",
    );
    assert_eq!(run.status.code(), Some(3), "{}", stderr(&run));
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous answers\n");
    // OUT = IN, directly or through a link: refused, the input intact.
    let link = dir.join("link.jsonl");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&input, &link).unwrap();
    for same in [&input, &link] {
        let run = preflight(&["batch", input.to_str().unwrap(), "-o", same.to_str().unwrap()], b"");
        assert_eq!(run.status.code(), Some(3));
        assert!(stderr(&run).contains("is the input file"), "{}", stderr(&run));
        assert_eq!(std::fs::read_to_string(&input).unwrap(), format!("{WIN7}\n"));
    }
    // Success: OUT replaced, no temporary file left beside it.
    let run = preflight(&["batch", input.to_str().unwrap(), "-o", out.to_str().unwrap()], b"");
    assert_eq!(run.status.code(), Some(0));
    assert!(std::fs::read_to_string(&out).unwrap().contains("\"status\""));
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left.len(), 4, "{left:?}");
}

#[test]
fn an_interrupt_keeps_out_and_names_the_partial_file() {
    let dir = temp_dir("interrupt");
    let out = dir.join("out.jsonl");
    std::fs::write(&out, "previous answers\n").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(["batch", "--as-of", "2023-03-01", "-", "-o", out.to_str().unwrap()])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // 600 lines, and standard input left open: the reader is blocked when the signal comes.
    let mut stdin = child.stdin.take().unwrap();
    for _ in 0..600 {
        writeln!(stdin, "{WIN7}").unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let done = child.wait_with_output().unwrap();
    drop(stdin);
    let said = stderr(&done);
    assert_eq!(done.status.code(), Some(130), "{said}");
    assert!(said.contains("interrupted: answered the first"), "{said}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous answers\n");
    let partial = std::fs::read_to_string(dir.join("out.jsonl.partial")).unwrap();
    assert!(partial.lines().count() <= 600);
    assert!(partial.lines().all(|l| l.contains("\"unsupported\"")), "{partial}");
}

#[test]
fn a_module_that_keeps_failing_stops_the_run() {
    let dir = temp_dir("broken");
    let trapping = module(&dir, "trap.wasm", "unreachable", "");
    let input: String = (0..200).map(|_| format!("{WIN7}\n")).collect();
    let out = preflight(&["batch", "--module", trapping.to_str().unwrap(), "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(3));
    let said = stderr(&out);
    assert!(said.contains("failed on 25 hosts in a row"), "{said}");
    assert!(said.contains("trapped"), "{said}");
}

#[test]
fn answers_that_would_break_the_output_become_error_objects() {
    let dir = temp_dir("bad-answers");
    // A raw newline inside the answer would split it into two lines.
    let multiline = module(&dir, "newline.wasm", "(i32.const 21)", r#"{\"status\":\"ready\"}\n{}"#);
    let input: String = (0..3).map(|_| format!("{WIN7}\n")).collect();
    let out = preflight(&["batch", "--module", multiline.to_str().unwrap(), "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let answers: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 3);
    for answer in answers {
        assert_eq!(answer["error"]["code"], "engine");
        assert!(answer["error"]["message"].as_str().unwrap().contains("several lines"), "{answer}");
    }
}

#[test]
fn pretty_printed_json_gets_a_hint() {
    let out = preflight(&["batch", "-"], b"{\n  \"os\": {}\n}\n");
    assert!(stderr(&out).contains("batch expects one JSON object per line"), "{}", stderr(&out));
}

/// Runs `preflight ARGS` and samples its peak resident memory (VmHWM) until it exits.
fn peak_rss_kib(args: &[&str]) -> (Output, u64) {
    let child = Command::new(env!("CARGO_BIN_EXE_preflight"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let (done_send, done) = std::sync::mpsc::channel();
    let sampler = std::thread::spawn(move || {
        let mut peak = 0;
        while done.try_recv().is_err() {
            if let Ok(text) = std::fs::read_to_string(&status) {
                let hwm = text.lines().find_map(|l| l.strip_prefix("VmHWM:"));
                peak = peak.max(hwm.and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok()).unwrap_or(0));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        peak
    });
    let out = child.wait_with_output().unwrap();
    done_send.send(()).unwrap();
    (out, sampler.join().unwrap())
}

#[test]
fn memory_stays_flat_whatever_the_input_size() {
    if !Path::new("/proc/self/status").exists() {
        return;
    }
    let dir = temp_dir("memory");
    // 256 MiB of facts: 32,768 lines of 8 KiB each.
    let input = dir.join("big.jsonl");
    let line = format!("{{\"pad\":\"{}\"}}\n", "x".repeat(8192 - 11));
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for _ in 0..32_768 {
        file.write_all(line.as_bytes()).unwrap();
    }
    file.flush().unwrap();
    drop(file);
    let (out, batch_peak) =
        peak_rss_kib(&["batch", input.to_str().unwrap(), "-o", dir.join("out.jsonl").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(batch_peak < 128 * 1024, "batch peaked at {batch_peak} KiB on a 256 MiB input");
    // One 256 MiB document: eval reads one byte past 1 MiB, no more.
    let one = dir.join("one.json");
    std::fs::write(&one, vec![b' '; 256 << 20]).unwrap();
    let (out, eval_peak) = peak_rss_kib(&["eval", one.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(eval_peak < 64 * 1024, "eval peaked at {eval_peak} KiB on a 256 MiB document");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Several advisories in one batch: each output line carries every advisory's answer, keyed by
/// id, in order; the summary is per advisory.
#[test]
fn batch_answers_several_advisories_per_line() {
    let hosts = [
        r#"{"os":{"version":"10.0.26100.4946","product_type":"workstation"},"product":{"id":"apex_one","version":"2019"}}"#,
        r#"{"os":{"version":"6.1.7601","product_type":"workstation"},"product":{"id":"apex_one","version":"2019"},"firmware":{"uefi":false}}"#,
        "not json",
    ];
    let input = hosts.join("\n");
    let out = preflight(&["batch", "--as-of", "2026-03-01", "--summary", "json", "-"], input.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout.clone()).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    for (host, line) in hosts.iter().zip(&lines) {
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["acs_2023", "secureboot_2026"]);
        for (id, source) in preflight_compiler::BUILTIN_RULES.iter().map(|(_, s)| {
            let p = preflight_compiler::check_source(s).program.unwrap();
            (p.advisory.id.clone(), p)
        }) {
            let days = preflight_compiler::value::Date::parse("2026-03-01").unwrap().0;
            let alone: serde_json::Value =
                serde_json::from_str(&preflight_compiler::answer_with(&source, host.as_bytes(), Some(days))).unwrap();
            assert_eq!(line[&id], alone, "{id}: {host}");
        }
    }
    assert_eq!(lines[1]["secureboot_2026"]["status"], "not_affected");
    let summary: serde_json::Value = serde_json::from_str(stderr(&out).trim()).unwrap();
    assert_eq!(summary["hosts"], 3);
    assert_eq!(summary["advisories"]["secureboot_2026"]["outcomes"]["not_affected"], 1);
    assert_eq!(summary["advisories"]["acs_2023"]["outcomes"]["error:invalid_json"], 1);
}
