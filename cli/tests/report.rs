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
        let hosts = data["hosts"].as_array().unwrap();
        assert_eq!(hosts.len(), lines.lines().count());
        let first: Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(hosts[0][0], first["host"]["name"]);
        // Self-contained: no script, style, image or font from elsewhere.
        for external in ["src=\"http", "href=\"http", "url(", "@import"] {
            assert!(!html.contains(external), "{facts}: the page loads `{external}`");
        }
    }
}

/// The fixes table ranks install groups by the hosts each alone would make ready; a host held
/// back by something else too (here a missing root certificate) needs the update but is not made
/// ready by it.
#[test]
fn updates_are_ranked_by_the_hosts_they_make_ready() {
    let answers = concat!(
        r#"{"advisory":"a","status":"action_required","findings":[{"rule":"r","severity":"action_required","install_any_of":["KB1","KB2"]}]}"#,
        "\n",
        r#"{"advisory":"a","status":"action_required","findings":[{"rule":"r","severity":"action_required","install_any_of":["KB1","KB2"]},{"rule":"c","severity":"action_required","certificate":"Root"}]}"#,
        "\n",
        r#"{"advisory":"a","status":"action_required","findings":[{"rule":"s","severity":"action_required","install_any_of":["KB3"]},{"rule":"n","severity":"info"}]}"#,
        "\n",
        r#"{"error":{"code":"malformed_version","field":"os.version","message":"..."}}"#,
        "\n",
    );
    let dir = std::env::temp_dir().join(format!("preflight-report-rank-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.jsonl"), answers).unwrap();
    std::fs::write(dir.join("f.jsonl"), "{}\n{}\n{}\n{\"os\":{\"version\":\"x\"}}\n").unwrap();
    let out = preflight(
        &["report", dir.join("a.jsonl").to_str().unwrap(), "--facts", dir.join("f.jsonl").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let html = text(&out.stdout);
    let row = |group: &str| {
        let at = html.find(&format!("<tr><td>{group}</td>")).unwrap();
        html[at..at + html[at..].find("</tr>").unwrap()].to_string()
    };
    assert_eq!(row("KB1 or KB2"), "<tr><td>KB1 or KB2</td><td>1</td><td>2</td>");
    assert_eq!(row("KB3"), "<tr><td>KB3</td><td>1</td><td>1</td>");
    assert!(html.contains("<td>certificate: Root</td><td>1</td>"), "{html}");
    assert!(html.contains("<td>malformed_version</td><td>os.version</td><td>1</td>"), "{html}");
    assert_eq!(
        data(&html)["summary"]["a"]["outcomes"],
        serde_json::json!({"action_required": 3, "error:malformed_version": 1})
    );
    // Hosts without a name are named by their line.
    assert_eq!(data(&html)["hosts"][3][0], "line 4");
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
    assert!(text(&out.stderr).contains("the facts end before answer line 2"), "{}", text(&out.stderr));
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
    assert_eq!(data(&inline)["hosts"][0][0], "WS-0142");
}
