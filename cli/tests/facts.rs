//! `preflight facts`: inventory exports (CSV) → facts documents for `batch`.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::{preflight, root};
use serde_json::Value;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("preflight-facts-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The example export with its mapping gives the example facts (reviewed by hand: each row's
/// columns under their facts, product names recognised by the rules' `detect` patterns, `Server`
/// read as `server`, yes/no as booleans, empty cells left out, the device name kept as
/// `host.name`).
#[test]
fn the_example_export_gives_the_example_facts() {
    let out = preflight(
        &["facts", "--from", "csv", "examples/inventory/devices.csv", "--map", "examples/inventory/map.toml"],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want = std::fs::read_to_string(root().join("examples/inventory/devices.facts.jsonl")).unwrap();
    assert_eq!(text(&out.stdout), want);
    assert!(text(&out.stderr).contains("6 hosts"), "{}", text(&out.stderr));
    let first: Value = serde_json::from_str(want.lines().next().unwrap()).unwrap();
    assert_eq!(first["product"]["id"], "apex_one");
    assert_eq!(first["os"]["product_type"], "workstation");
    assert_eq!(first["hotfixes"], serde_json::json!(["KB5008212", "KB5009543"]));
    assert_eq!(first["esu"], false);
    assert_eq!(first["host"]["name"], "WS-0142");
}

/// The facts answer through `batch` with no input error: every row became a host the rules read.
#[test]
fn the_facts_feed_batch_without_input_errors() {
    let facts = std::fs::read(root().join("examples/inventory/devices.facts.jsonl")).unwrap();
    let out = preflight(&["batch", "--as-of", "2026-11-25", "-"], &facts);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let answers: Vec<Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(answers.len(), 6);
    for answer in &answers {
        for (advisory, verdict) in answer.as_object().unwrap() {
            assert!(verdict.get("status").is_some(), "{advisory}: {verdict}");
        }
    }
    assert_eq!(answers[0]["acs_2023"]["status"], "action_required");
    assert_eq!(answers[0]["acs_2023"]["findings"][0]["install_any_of"], serde_json::json!(["KB5011487"]));
    assert_eq!(answers[5]["acs_2023"]["status"], "limited");
}

/// Without a mapping, columns named like facts feed them; others are left out with a note.
#[test]
fn columns_named_like_facts_need_no_mapping() {
    let csv = "os.version,os.product_type,product.id,hotfixes,esu,comment\n\
               10.0.17763.2300,server,deep_security_agent,KB1 KB2,1,hello\n";
    let out = preflight(&["facts", "-"], csv.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(
        facts,
        serde_json::json!({"os": {"version": "10.0.17763.2300", "product_type": "server"},
            "product": {"id": "deep_security_agent"}, "hotfixes": ["KB1", "KB2"], "esu": true})
    );
    assert!(text(&out.stderr).contains("column `comment` feeds no fact"), "{}", text(&out.stderr));
}

/// Spreadsheets write semicolons or tabs in some locales, and a byte-order mark and CRLF line ends.
#[test]
fn semicolons_tabs_bom_and_crlf_are_read() {
    for export in [
        &b"\xef\xbb\xbfos.version;esu;hotfixes\r\n10.0.19044.1;ja;KB1, KB2\r\n"[..],
        b"os.version\tesu\thotfixes\n10.0.19044.1\tja\tKB1, KB2\n",
    ] {
        let out = preflight(&["facts", "-"], export);
        let said = text(&out.stderr);
        // `ja` is no boolean this reader knows: the row and column are named.
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains("row 2, column `esu` (esu): `ja` is not true or false"), "{said}");
    }
    let out = preflight(&["facts", "-"], b"os.version;esu;hotfixes\n10.0.19044.1;1;KB1, KB2\n");
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts, serde_json::json!({"os": {"version": "10.0.19044.1"}, "esu": true, "hotfixes": ["KB1", "KB2"]}));
}

/// A cell that cannot be converted names its row and column; the output file stays as it was.
#[test]
fn bad_cells_name_their_row_and_column_and_nothing_is_replaced() {
    let dir = temp_dir("bad");
    let input = dir.join("export.csv");
    std::fs::write(
        &input,
        "os.version,esu,servicing.available_updates\n10.0.19044.1,yes,22852\n10.0.19044.2,maybe,1\n10.0.19044.3,no,lots\n",
    )
    .unwrap();
    let output = dir.join("facts.jsonl");
    std::fs::write(&output, "previous\n").unwrap();
    let out = preflight(&["facts", input.to_str().unwrap(), "-o", output.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(said.contains("row 3, column `esu` (esu): `maybe` is not true or false"), "{said}");
    assert!(said.contains("row 4, column `servicing.available_updates`"), "{said}");
    assert!(said.contains("is not a whole number"), "{said}");
    assert!(said.contains("2 cells could not be converted"), "{said}");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "previous\n");

    // A row with too many fields is an error of the file, with its row.
    let ragged = preflight(&["facts", "-"], b"os.version,esu\n10.0.19044.1,yes\n10.0.19044.2,no,extra\n");
    assert_eq!(ragged.status.code(), Some(1));
    assert!(text(&ragged.stderr).contains("row 3"), "{}", text(&ragged.stderr));
}

#[test]
fn a_broken_mapping_file_says_how_to_write_one() {
    let dir = temp_dir("map");
    let map = dir.join("map.toml");
    std::fs::write(&map, "\"OS Build\" = 5\n").unwrap();
    let out = preflight(&["facts", "-", "--map", map.to_str().unwrap()], b"OS Build\n10.0.19044.1\n");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("\"Column name\" = \"fact.path\""), "{}", text(&out.stderr));

    std::fs::write(&map, "\"A\" = \"os.version\"\n\"B\" = \"os.version\"\n").unwrap();
    let twice = preflight(&["facts", "-", "--map", map.to_str().unwrap()], b"A,B\n1,2\n");
    assert!(text(&twice.stderr).contains("two columns feed `os.version`"), "{}", text(&twice.stderr));
}

#[test]
fn only_csv_is_read_today() {
    let out = preflight(&["facts", "--from", "osquery", "-"], b"[]");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("use `--from csv`"), "{}", text(&out.stderr));
}
