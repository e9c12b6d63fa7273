//! `preflight-bench report [HOSTS]`: the fleet report at scale, as an administrator runs it —
//! `preflight report` on a fleet's answers to both built-in advisories, with the page of an
//! earlier run (`--previous`) and a group (`--group-by host.site`). Measured against the floor
//! of the same run: reading the two input files line by line and nothing else.
//!
//! The fleet (seeded, `HOSTS` hosts, 1,000,000 by default) and its two runs' answers are made
//! once in the system's temporary directory and reused. Needs `target/release/preflight` (built
//! beside this binary). Each figure is three runs; peak memory is the child's high-water mark
//! (`VmHWM`), read while it runs.

use preflight_tests::hosts::{Rng, host};
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const SITES: [&str; 6] = ["paris", "lyon", "berlin", "madrid", "oslo", "rome"];

pub fn run(hosts: usize) {
    let cli = std::env::current_exe().ok().and_then(|p| Some(p.parent()?.join("preflight"))).expect("exe dir");
    assert!(cli.exists(), "build it first: cargo build --release -p preflight-cli");
    let dir = std::env::temp_dir().join(format!("preflight-bench-fleet-{hosts}"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let facts = dir.join("facts.jsonl");
    if !facts.exists() {
        write_fleet(&facts, hosts);
    }
    let (modules, then, now, earlier) =
        (compile_modules(&dir), dir.join("then.jsonl"), dir.join("now.jsonl"), dir.join("then.html"));
    let batch = |as_of: &str, out: &Path, report: Option<&Path>| {
        let mut args: Vec<String> = vec!["batch".into(), "--as-of".into(), as_of.into()];
        for m in &modules {
            args.extend(["--module".into(), m.display().to_string()]);
        }
        args.extend([facts.display().to_string(), "-o".into(), out.display().to_string()]);
        if let Some(r) = report {
            args.extend(["--report".into(), r.display().to_string(), "--group-by".into(), "host.site".into()]);
        }
        measure(&cli, &args)
    };
    if !now.exists() || !earlier.exists() {
        batch("2021-06-01", &then, Some(&earlier));
        batch("2026-11-25", &now, None);
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    println!(
        "fleet: {hosts} hosts; facts {:.0} MB, answers {:.0} MB (both advisories), the earlier page {:.0} MB",
        size(&facts) as f64 / 1e6,
        size(&now) as f64 / 1e6,
        size(&earlier) as f64 / 1e6
    );
    let page = dir.join("now.html");
    let report_args: Vec<String> = vec![
        "report".into(),
        now.display().to_string(),
        "--facts".into(),
        facts.display().to_string(),
        "--previous".into(),
        earlier.display().to_string(),
        "--group-by".into(),
        "host.site".into(),
        "-o".into(),
        page.display().to_string(),
    ];
    for round in 1..=3 {
        let floor = read_floor(&now, &facts);
        let (report, peak) = measure(&cli, &report_args);
        // The answers go to /dev/null: writing 4.7 GB again would push the inputs out of the
        // page cache and measure the disk, not the report.
        let (batch_time, batch_peak) = batch("2026-11-25", Path::new("/dev/null"), Some(&dir.join("again.html")));
        println!(
            "run {round}: reading the inputs (floor) {:.2} s; report --previous --group-by {:.2} s ({:.1}× the floor), peak {} MB; batch --report (both modules) {:.2} s, peak {} MB; page {:.0} MB",
            floor.as_secs_f64(),
            report.as_secs_f64(),
            report.as_secs_f64() / floor.as_secs_f64().max(1e-9),
            peak / 1024,
            batch_time.as_secs_f64(),
            batch_peak / 1024,
            size(&page) as f64 / 1e6
        );
    }
    // The page in Chromium: from navigation to the host table's first page shown.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("report-open.mjs");
    match Command::new("node").arg(&script).arg(&page).output() {
        Ok(out) if out.status.success() => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Ok(out) => println!("page in Chromium: not measured ({})", String::from_utf8_lossy(&out.stderr).trim()),
        Err(e) => println!("page in Chromium: not measured (node: {e})"),
    }
}

/// `hosts` generated hosts, each named and at a site; one in ten with every Secure Boot fact.
fn write_fleet(path: &Path, hosts: usize) {
    let mut rng = Rng::new(0xF1EE_7001);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("facts file"));
    for i in 0..hosts {
        let mut facts = host(&mut rng);
        if let Value::Object(map) = &mut facts {
            map.insert("host".into(), json!({ "name": format!("host-{i:07}"), "site": rng.pick(&SITES) }));
            if rng.chance(10) {
                map.insert("firmware".into(), json!({ "uefi": true }));
                map.insert("secure_boot".into(), json!({ "enabled": rng.chance(90) }));
                map.insert("kek".into(), json!({ "kek_2k_ca_2023": rng.chance(40) }));
                map.insert(
                    "db".into(),
                    json!({ "windows_uefi_ca_2023": rng.chance(50), "microsoft_uefi_ca_2023": rng.chance(50),
                            "option_rom_uefi_ca_2023": rng.chance(50), "microsoft_uefi_ca_2011": true }),
                );
                map.insert(
                    "servicing".into(),
                    json!({ "status": rng.pick(&["NotStarted", "InProgress", "Updated"]), "available_updates": 0,
                            "error": null, "windows_uefi_ca_2023_capable": rng.below(3) }),
                );
            }
        }
        writeln!(out, "{facts}").expect("write");
    }
    out.flush().expect("flush");
}

/// The built-in advisories as modules (what a fleet tool runs).
fn compile_modules(dir: &Path) -> Vec<PathBuf> {
    preflight_compiler::BUILTIN_RULES
        .iter()
        .enumerate()
        .map(|(i, (_, source))| {
            let program = preflight_compiler::check_source(source).program.expect("builtin rules");
            let bytes = preflight_compiler::wasm::compile(&program, source).expect("compiles");
            let path = dir.join(format!("advisory-{i}.wasm"));
            std::fs::write(&path, bytes).expect("module");
            path
        })
        .collect()
}

/// Reading both files line by line, in step, as `report` reads them: the floor.
fn read_floor(answers: &Path, facts: &Path) -> Duration {
    let start = Instant::now();
    let open = |p: &Path| std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(p).expect("input"));
    let (mut a, mut f) = (open(answers), open(facts));
    let (mut x, mut y) = (Vec::new(), Vec::new());
    let mut bytes = 0usize;
    loop {
        x.clear();
        y.clear();
        let n = a.read_until(b'\n', &mut x).unwrap_or(0) + f.read_until(b'\n', &mut y).unwrap_or(0);
        if n == 0 {
            break;
        }
        bytes += x.len() + y.len();
    }
    std::hint::black_box(bytes);
    start.elapsed()
}

/// Runs the CLI; its wall time and peak resident memory (KiB), polled from `/proc`.
fn measure(cli: &Path, args: &[String]) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = Command::new(cli)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if child.try_wait().ok().flatten().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = start.elapsed();
    let out = child.wait_with_output().expect("ends");
    assert!(out.status.success(), "{:?}: {}", args.first(), String::from_utf8_lossy(&out.stderr));
    (elapsed, peak)
}
