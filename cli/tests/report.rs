//! `preflight report`: a fleet's answers as one self-contained HTML page.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{preflight, root};
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The page's data block (what the script reads and the tests check).
fn data(html: &str) -> Value {
    let start = html.find(r#"<script type="application/json" id="fleet-data">"#).unwrap();
    let rest = &html[start..];
    let json = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(&json.replace("<\\/", "</")).unwrap()
}

/// The page counts what `batch --summary json` counts, for every advisory; it loads nothing from
/// the network; every host is in its table with its name and build.
#[test]
fn the_report_counts_what_batch_counts() {
    for facts in ["examples/inventory/devices.facts.jsonl", "examples/inventory/osquery.facts.jsonl"] {
        let dir = std::env::temp_dir().join(format!("preflight-report-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let answers = dir.join("answers.jsonl");
        let out = preflight(
            &["batch", "--as-of", "2026-11-25", "--summary", "json", facts, "-o", answers.to_str().unwrap()],
            b"",
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let summary: Value = serde_json::from_str(text(&out.stderr).lines().next().unwrap()).unwrap();
        let page = dir.join("fleet.html");
        let report =
            preflight(&["report", answers.to_str().unwrap(), "--facts", facts, "-o", page.to_str().unwrap()], b"");
        assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
        let html = std::fs::read_to_string(&page).unwrap();
        let data = data(&html);
        for (id, each) in summary["advisories"].as_object().unwrap() {
            assert_eq!(data["summary"][id]["outcomes"], each["outcomes"], "{facts}: {id}");
            assert_eq!(data["summary"][id]["hosts"], each["hosts"], "{facts}: {id}");
        }
        let lines = std::fs::read_to_string(root().join(facts)).unwrap();
        let names = data["hosts"]["names"].as_array().unwrap();
        assert_eq!(names.len(), lines.lines().count());
        let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(names[0], first["host"]["name"]);
        // Self-contained: no script, style, image or font from elsewhere.
        for external in ["src=\"http", "href=\"http", "url(", "@import"] {
            assert!(!html.contains(external), "{facts}: the page loads `{external}`");
        }
    }
}

/// Steps of every kind are ranked by the worst outcome they hold back, then by the hosts each
/// alone would make ready; a host held back by something else too (here a missing root
/// certificate) needs the update but is not made ready by it; alternatives of different kinds are
/// one step.
#[test]
fn steps_are_ranked_by_what_they_hold_back_and_the_hosts_they_make_ready() {
    let answers = concat!(
        r#"{"advisory":"a","status":"action_required","findings":[{"rule":"r","severity":"action_required","install_any_of":["KB1","KB2"]}]}"#,
        "\n",
        r#"{"advisory":"a","status":"action_required","findings":[{"rule":"r","severity":"action_required","install_any_of":["KB1","KB2"]},{"rule":"c","severity":"action_required","certificate":"Root"}]}"#,
        "\n",
        r#"{"advisory":"a","status":"action_required","findings":[{"rule":"s","severity":"action_required","install_any_of":["KB3"]},{"rule":"n","severity":"info"}]}"#,
        "\n",
        r#"{"advisory":"a","status":"limited","findings":[{"rule":"l","severity":"limited","any_of":[{"install_any_of":["KB4"]},{"component":{"id":"x","name":"X","at_least":"2.0"}}]}]}"#,
        "\n",
        r#"{"error":{"code":"malformed_version","field":"os.version","message":"..."}}"#,
        "\n",
    );
    let dir = std::env::temp_dir().join(format!("preflight-report-rank-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.jsonl"), answers).unwrap();
    std::fs::write(dir.join("f.jsonl"), "{}\n{}\n{}\n{}\n{\"os\":{\"version\":\"x\"}}\n").unwrap();
    let out = preflight(
        &["report", dir.join("a.jsonl").to_str().unwrap(), "--facts", dir.join("f.jsonl").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = text(&out.stdout);
    // The cells after a step's link in "Do this first": worst outcome, made ready alone, needed.
    let row = |step: &str| -> Vec<String> {
        let at = html.find(&format!(">{step}</a></td>")).unwrap_or_else(|| panic!("{step} missing: {html}"));
        let rest = &html[at..at + html[at..].find("</tr>").unwrap()];
        rest.split("<td").skip(1).map(|c| c[c.find('>').unwrap() + 1..].replace("</td>", "")).collect()
    };
    assert_eq!(row("install KB4 or component: X"), ["limited", "1", "1"]);
    assert_eq!(row("install KB1 or KB2"), ["action_required", "1", "2"]);
    assert_eq!(row("install KB3"), ["action_required", "1", "1"]);
    assert_eq!(row("certificate: Root"), ["action_required", "0", "1"]);
    let order: Vec<usize> = ["install KB4 or component: X", "install KB1 or KB2", "install KB3", "certificate: Root"]
        .iter()
        .map(|s| html.find(&format!(">{s}</a>")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "ranked: worst outcome, then made ready, then needed");
    assert!(html.contains("<td>malformed_version</td><td>os.version</td><td>1</td>"), "{html}");
    assert_eq!(
        data(&html)["summary"]["a"]["outcomes"],
        serde_json::json!({"action_required": 3, "limited": 1, "error:malformed_version": 1})
    );
    // Hosts without a name are named by their line.
    assert_eq!(data(&html)["hosts"]["names"][4], "line 5");
}

#[test]
fn facts_that_end_early_are_an_error() {
    let dir = std::env::temp_dir().join(format!("preflight-report-short-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.jsonl"), "{\"status\":\"ready\"}\n{\"status\":\"ready\"}\n").unwrap();
    std::fs::write(dir.join("f.jsonl"), "{}\n").unwrap();
    let out = preflight(
        &["report", dir.join("a.jsonl").to_str().unwrap(), "--facts", dir.join("f.jsonl").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("the facts end after line 1 but the answers go on"), "{}", text(&out.stderr));
}

/// `batch --report` writes the same page as `report` over the answers `batch` wrote.
#[test]
fn batch_report_is_the_report_of_its_answers() {
    let dir = std::env::temp_dir().join(format!("preflight-report-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let facts = "examples/inventory/osquery.facts.jsonl";
    let (answers, inline, after) = (dir.join("answers.jsonl"), dir.join("inline.html"), dir.join("after.html"));
    let out = preflight(
        &[
            "batch",
            "--as-of",
            "2026-11-25",
            facts,
            "-o",
            answers.to_str().unwrap(),
            "--report",
            inline.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report =
        preflight(&["report", answers.to_str().unwrap(), "--facts", facts, "-o", after.to_str().unwrap()], b"");
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    let inline = std::fs::read_to_string(inline).unwrap();
    assert_eq!(inline, std::fs::read_to_string(after).unwrap());
    assert_eq!(data(&inline)["hosts"]["names"][0], "WS-0142");
    // With `--summary json`, standard error is that one JSON document and nothing else.
    let quiet = dir.join("quiet.html");
    let out = preflight(
        &[
            "batch",
            "--as-of",
            "2026-11-25",
            facts,
            "-o",
            "/dev/null",
            "--report",
            quiet.to_str().unwrap(),
            "--summary",
            "json",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stderr).expect("stderr is the summary's JSON alone");
    assert!(summary["hosts"].as_u64().unwrap() > 0, "{summary}");
    assert!(quiet.exists());
}

/// The answers and facts are paired line by line and must be in step: a facts file longer,
/// shorter, or (when answers name their host) shifted is refused with a message; line ends and
/// bytes are read as `batch` reads them (a lone CR, invalid UTF-8 and an over-long line are one
/// host each, never a refusal), and an over-long facts line costs at most its first MiB.
#[test]
fn answers_and_facts_are_paired_and_read_as_batch_reads() {
    let dir = std::env::temp_dir().join(format!("preflight-report-pairing-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let host = |name: &str| {
        format!(r#"{{"host":{{"name":"{name}"}},"os":{{"version":"10.0.19044.1466","product_type":"workstation"}}}}"#)
    };
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    // Facts with a lone CR line end, an invalid UTF-8 line and a 3 MiB line.
    let mut facts = format!("{}\r{}\n", host("A"), host("B")).into_bytes();
    facts.extend_from_slice(b"{\"host\":{\"name\":\"\xff\xfe\"}}\n");
    facts.extend_from_slice(format!("{{\"host\":{{\"name\":\"{}\"}}}}\n", "x".repeat(3 << 20)).as_bytes());
    facts.extend_from_slice(host("E").as_bytes());
    let facts_path = write("facts.jsonl", &facts);
    let answers_path = dir.join("answers.jsonl").to_str().unwrap().to_string();
    let batch = preflight(&["batch", "--as-of", "2026-11-25", &facts_path, "-o", &answers_path], b"");
    assert_eq!(batch.status.code(), Some(0), "{}", text(&batch.stderr));
    let page = dir.join("fleet.html").to_str().unwrap().to_string();
    let report = preflight(&["report", &answers_path, "--facts", &facts_path, "-o", &page], b"");
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    assert!(
        text(&report.stderr).contains("1 facts line(s) are longer than 1 MiB (the first: line 4)"),
        "{}",
        text(&report.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.len() < 1 << 20, "the over-long line is not copied into the page: {} bytes", html.len());
    let hosts = data(&html)["hosts"]["names"].as_array().unwrap().clone();
    assert_eq!(hosts.len(), 5);
    assert_eq!(hosts[0], "A");
    assert_eq!(hosts[1], "B");
    assert_eq!(hosts[4], "E");

    // Facts longer or shorter than the answers.
    let answers = std::fs::read(&answers_path).unwrap();
    let one_more = write("more.jsonl", &[facts.clone(), b"\n".to_vec(), host("F").into_bytes()].concat());
    let fewer_answers = write(
        "fewer.jsonl",
        &answers[..answers.len() - 1].split(|b| *b == b'\n').take(4).collect::<Vec<_>>().join(&b'\n'),
    );
    for (answers, facts, says) in [
        (answers_path.as_str(), one_more.as_str(), "the answers end after line 5"),
        (fewer_answers.as_str(), facts_path.as_str(), "the answers end after line 4"),
        (answers_path.as_str(), write("short.jsonl", host("A").as_bytes()).as_str(), "the facts end after line 1"),
    ] {
        let out = preflight(&["report", answers, "--facts", facts, "-o", &page], b"");
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{}", text(&out.stderr));
    }
    // Answers that name their host must name the facts' host on the same line.
    let named: String =
        ["A", "B"].iter().map(|n| format!("{{\"host\":{{\"name\":\"{n}\"}},\"status\":\"ready\"}}\n")).collect();
    let named = write("named.jsonl", named.as_bytes());
    let shifted = write("shifted.jsonl", format!("{}\n{}\n", host("B"), host("A")).as_bytes());
    let out = preflight(&["report", &named, "--facts", &shifted, "-o", &page], b"");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("answer line 1 is for host `A` but facts line 1 is host `B`"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Hosts whose facts leave rules undetermined are counted apart from hosts the advisory does not
/// cover, by `batch` and by the report alike, and the report lists the facts to collect with how
/// a collector reads each and how many hosts lack it.
#[test]
fn undetermined_hosts_and_the_facts_to_collect() {
    let dir = std::env::temp_dir().join(format!("preflight-report-undetermined-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let facts = dir.join("facts.jsonl");
    std::fs::write(
        &facts,
        concat!(
            r#"{"os":{"version":"10.0.26100.4946","product_type":"workstation"}}"#,
            "\n",
            r#"{"os":{"version":"10.0.26100.4946","product_type":"workstation"},"secure_boot":{"enabled":false}}"#,
            "\n",
            r#"{"os":{"version":"10.0.27000.1","product_type":"workstation"},"secure_boot":{"enabled":true}}"#,
            "\n",
        ),
    )
    .unwrap();
    let answers = dir.join("answers.jsonl");
    let out = preflight(
        &[
            "batch",
            "--rules",
            "rules/secureboot-2026.preflight",
            "--as-of",
            "2026-03-01",
            "--summary",
            "json",
            facts.to_str().unwrap(),
            "-o",
            answers.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary: Value = serde_json::from_str(text(&out.stderr).lines().next().unwrap()).unwrap();
    let outcomes = serde_json::json!({"undetermined": 1, "not_affected": 1, "unknown": 1});
    assert_eq!(summary["outcomes"], outcomes, "{summary}");
    let report = preflight(&["report", answers.to_str().unwrap(), "--facts", facts.to_str().unwrap()], b"");
    assert_eq!(report.status.code(), Some(0), "{}", text(&report.stderr));
    let html = text(&report.stdout);
    assert_eq!(data(&html)["summary"]["secureboot_2026"]["outcomes"], outcomes);
    assert!(html.contains("<h3>Facts to collect</h3><p>1 hosts cannot be decided"), "{html}");
    assert!(
        html.contains("<tr><td>secure_boot.enabled</td><td>registry HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecureBoot\\State: UEFISecureBootEnabled</td><td>1</td></tr>"),
        "{html}"
    );
}

/// `--previous` reads an earlier report page: what changed since is counted host by host (by
/// name), and a file that is not a report is refused with what to give instead.
#[test]
fn previous_runs_are_read_from_their_pages() {
    let dir = std::env::temp_dir().join(format!("preflight-report-previous-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let host = |name: &str| format!(r#"{{"host":{{"name":"{name}"}}}}"#);
    let facts = [host("a"), host("b"), host("c")].join("\n") + "\n";
    std::fs::write(dir.join("f.jsonl"), &facts).unwrap();
    let needs = |kb: &str| {
        format!(
            r#"{{"advisory":"x","status":"action_required","findings":[{{"rule":"r","severity":"action_required","install_any_of":["{kb}"]}}]}}"#
        )
    };
    let ready = r#"{"advisory":"x","status":"ready","findings":[]}"#.to_string();
    std::fs::write(dir.join("old.jsonl"), [needs("KB1"), needs("KB1"), needs("KB2")].join("\n") + "\n").unwrap();
    std::fs::write(dir.join("new.jsonl"), [ready.clone(), needs("KB1"), ready].join("\n") + "\n").unwrap();
    let (old, new) = (dir.join("old.html"), dir.join("new.html"));
    let facts_path = dir.join("f.jsonl").to_str().unwrap().to_string();
    let report = |answers: &str, out: &std::path::Path, previous: Option<&std::path::Path>| {
        let mut args = vec!["report", answers, "--facts", &facts_path];
        args.extend(["-o", out.to_str().unwrap()]);
        if let Some(p) = previous {
            args.extend(["--previous", p.to_str().unwrap()]);
        }
        let out = preflight(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    };
    report(dir.join("old.jsonl").to_str().unwrap(), &old, None);
    report(dir.join("new.jsonl").to_str().unwrap(), &new, Some(&old));
    let html = std::fs::read_to_string(&new).unwrap();
    assert!(
        html.contains("<h3>Since old.html</h3><p>3 hosts in both runs; 0 new, 0 no longer in the fleet.</p>"),
        "{html}"
    );
    assert!(
        html.contains(r#"<td data-label="was">action_required</td><td data-label="is now">ready</td><td data-label="hosts">2</td>"#),
        "{html}"
    );
    // KB1: two hosts needed it, one still does, one is done; KB2: done on its one host.
    assert!(html.contains(r#"<td data-label="step">install KB1</td><td data-label="needed then">2</td><td data-label="need it now">1</td><td data-label="done since">1</td><td data-label="newly need it">0</td>"#), "{html}");
    assert!(html.contains(r#"<td data-label="step">install KB2</td><td data-label="needed then">1</td><td data-label="need it now">0</td><td data-label="done since">1</td>"#), "{html}");
    // Not a report.
    let out = preflight(
        &[
            "report",
            dir.join("new.jsonl").to_str().unwrap(),
            "--facts",
            dir.join("f.jsonl").to_str().unwrap(),
            "--previous",
            dir.join("f.jsonl").to_str().unwrap(),
        ],
        b"",
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("is not a Preflight fleet report"), "{}", text(&out.stderr));
    // A device is refused before anything is read from it.
    let out = preflight(
        &["report", dir.join("new.jsonl").to_str().unwrap(), "--facts", &facts_path, "--previous", "/dev/zero"],
        b"",
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("not a regular file"), "{}", text(&out.stderr));
}

/// Hosts on another platform are counted under its name, never under a Windows build their
/// version happens to look like.
#[test]
fn other_platforms_are_counted_by_name() {
    let dir = std::env::temp_dir().join(format!("preflight-report-platform-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let facts = concat!(
        r#"{"host":{"name":"w"},"os":{"platform":"windows","version":"6.1.7601.24000"}}"#,
        "\n",
        r#"{"host":{"name":"l"},"os":{"platform":"linux","version":"6.1.0"}}"#,
        "\n",
    );
    std::fs::write(dir.join("f.jsonl"), facts).unwrap();
    std::fs::write(dir.join("a.jsonl"), "{\"status\":\"ready\"}\n{\"status\":\"not_affected\"}\n").unwrap();
    let out = preflight(
        &["report", dir.join("a.jsonl").to_str().unwrap(), "--facts", dir.join("f.jsonl").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = text(&out.stdout);
    // These answers name no `os`: the Windows host is counted under its build.
    assert!(html.contains(r#"<td data-label="version">6.1.7601</td>"#), "{html}");
    assert!(html.contains(r#"<td data-label="version">linux</td>"#), "{html}");
    let data = data(&html);
    assert_eq!(data["oses"][data["hosts"]["os"][1].as_u64().unwrap() as usize], "linux");
    assert_eq!(data["oses"][data["hosts"]["os"][0].as_u64().unwrap() as usize], "6.1.7601");
}

/// Hosts are counted under the Windows version their answers name (`os`), by the name the rules
/// give it, in the rules' order; sections are headed by the advisory's title; `--group-by`
/// counts outcomes per group, and every count equals a recount from the answers and facts.
#[test]
fn versions_by_name_titles_and_groups() {
    let dir = std::env::temp_dir().join(format!("preflight-report-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let host = |name: &str, site: &str, build: &str, role: &str| {
        format!(
            r#"{{"host":{{"name":"{name}","site":"{site}"}},"product":{{"id":"apex_one","version":"2019"}},"os":{{"platform":"windows","version":"{build}","product_type":"{role}"}},"hotfixes":[]}}"#
        )
    };
    let facts = [
        host("a", "paris", "10.0.19044.1466", "workstation"),
        host("b", "paris", "10.0.19044.2000", "workstation"),
        host("c", "lyon", "6.1.7601.24000", "server"),
        host("d", "lyon", "10.0.99999.1", "workstation"),
        r#"{"host":{"name":"e"},"os":{"platform":"linux","version":"6.1.0"}}"#.to_string(),
    ]
    .join("\n")
        + "\n";
    let facts_path = dir.join("f.jsonl");
    std::fs::write(&facts_path, &facts).unwrap();
    let answers = dir.join("a.jsonl");
    let page = dir.join("r.html");
    let out = preflight(
        &[
            "batch",
            "--rules",
            root().join("rules/acs-2023.preflight").to_str().unwrap(),
            "--as-of",
            "2026-11-25",
            facts_path.to_str().unwrap(),
            "-o",
            answers.to_str().unwrap(),
            "--report",
            page.to_str().unwrap(),
            "--group-by",
            "host.site",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = std::fs::read_to_string(&page).unwrap();
    // The title heads the section; the id is named under it.
    assert!(
        html.contains("<h2>Trend Micro agents signed with Azure Code Signing: minimum Windows OS levels</h2>"),
        "{html}"
    );
    let d = data(&html);
    let oses: Vec<&str> = d["oses"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    // Declared versions in the rules' order, then a build no declaration names, then platforms.
    assert_eq!(oses, ["Windows Server 2008 R2 SP1", "Windows 10 21H2", "10.0.99999", "linux"]);
    // Every count is a recount of the answers, host by host.
    let answer_lines: Vec<Value> =
        std::fs::read_to_string(&answers).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let fact_lines: Vec<Value> = facts.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let names: std::collections::HashMap<&str, &str> =
        [("win10_21h2", "Windows 10 21H2"), ("server2008r2", "Windows Server 2008 R2 SP1")].into();
    let mut by_site: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for (i, (answer, fact)) in answer_lines.iter().zip(&fact_lines).enumerate() {
        let shown = oses[d["hosts"]["os"][i].as_u64().unwrap() as usize];
        match answer["os"].as_str() {
            Some(os) => assert_eq!(shown, names[os], "host {i}"),
            None => assert!(!names.values().any(|n| *n == shown), "host {i}: {shown}"),
        }
        let site = fact["host"]["site"].as_str().unwrap_or("").to_string();
        assert_eq!(d["groups"][d["hosts"]["group"][i].as_u64().unwrap() as usize], site.as_str());
        let outcome = match answer["status"].as_str() {
            Some(status) => status.to_string(),
            None => format!("error:{}", answer["error"]["code"].as_str().unwrap()),
        };
        *by_site.entry((site, outcome)).or_default() += 1;
    }
    assert_eq!(d["group_by"], "host.site");
    for ((site, status), n) in by_site {
        let name = if site.is_empty() { "(none)".to_string() } else { site };
        let row_start = html.find(&format!(r#"<td data-label="group">{name}</td>"#)).unwrap();
        let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
        assert!(row.contains(&format!(r#"<td data-label="{status}">{n}</td>"#)), "{name} {status} {n}: {row}");
    }
}

/// A page written before rows referred to shared lists (steps inline in each row) still reads as
/// an earlier run.
#[test]
fn an_older_page_reads_as_an_earlier_run() {
    let dir = std::env::temp_dir().join(format!("preflight-report-older-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let old = r#"<html><script type="application/json" id="fleet-data">{"advisories":["x"],"summary":{},"outcomes":["action_required","ready"],"steps":["install KB1"],"details":[],"facts_kept":20000,"hosts":[["a","10.0.19044",[0],[[0]],[[]],null],["b","",[1],[[]],[[]],null]]}</script></html>"#;
    std::fs::write(dir.join("old.html"), old).unwrap();
    std::fs::write(dir.join("f.jsonl"), "{\"host\":{\"name\":\"a\"}}\n{\"host\":{\"name\":\"b\"}}\n").unwrap();
    std::fs::write(
        dir.join("a.jsonl"),
        "{\"advisory\":\"x\",\"status\":\"ready\",\"findings\":[]}\n{\"advisory\":\"x\",\"status\":\"ready\",\"findings\":[]}\n",
    )
    .unwrap();
    let out = preflight(
        &[
            "report",
            dir.join("a.jsonl").to_str().unwrap(),
            "--facts",
            dir.join("f.jsonl").to_str().unwrap(),
            "--previous",
            dir.join("old.html").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = text(&out.stdout);
    assert!(
        html.contains(r#"<td data-label="was">action_required</td><td data-label="is now">ready</td><td data-label="hosts">1</td>"#),
        "{html}"
    );
    assert!(html.contains(r#"<td data-label="step">install KB1</td><td data-label="needed then">1</td><td data-label="need it now">0</td><td data-label="done since">1</td>"#), "{html}");
}

/// A facts line names its host only when it is a JSON object as a whole (a line cut short
/// after its name names nothing), and of a repeated key the last one counts, as batch reads it.
#[test]
fn a_facts_line_names_its_host_only_when_it_is_whole() {
    let dir = std::env::temp_dir().join(format!("preflight-report-whole-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let facts = concat!(
        r#"{"host":{"name":"cut"},"os":{"version":"10.0.19044"#,
        "\n",
        r#"{"host":{"name":"first"},"host":{"site":"lyon"}}"#,
        "\n",
        r#"{"host":{"name":"kept"}}"#,
        "\n",
    );
    std::fs::write(dir.join("f.jsonl"), facts).unwrap();
    std::fs::write(dir.join("a.jsonl"), "{\"status\":\"ready\"}\n".repeat(3)).unwrap();
    let out = preflight(
        &["report", dir.join("a.jsonl").to_str().unwrap(), "--facts", dir.join("f.jsonl").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let names = data(&text(&out.stdout))["hosts"]["names"].clone();
    assert_eq!(names, serde_json::json!(["line 1", "line 2", "kept"]));
    std::fs::remove_dir_all(&dir).unwrap();
}
