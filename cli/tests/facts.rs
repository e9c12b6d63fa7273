//! `preflight facts`: inventory exports (CSV, osquery's results log) → facts documents for `batch`.
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
    assert!(
        text(&twice.stderr).contains("column `A` and column `B` both feed `os.version`"),
        "{}",
        text(&twice.stderr)
    );
}

#[test]
fn other_formats_are_refused_by_name() {
    let out = preflight(&["facts", "--from", "xlsx", "-"], b"");
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("`--from csv` or `--from osquery`"), "{}", text(&out.stderr));
}

/// osquery's results log (snapshot and differential lines, as its filesystem logger writes them
/// for scheduled queries on the standard tables os_version, patches, programs, secureboot,
/// platform_info and certificates; the rows follow osquery's published table schemas) gives the
/// example facts
/// (reviewed by hand: the build with its revision, or without the dot when the revision is empty;
/// `Server` in the OS name → server (its edition too; "Enterprise" → enterprise); every patch row a hotfix; the Trend Micro program row, not the
/// first one, recognised by the rules' `detect` patterns, its version from the same row; UEFI and
/// Secure Boot as booleans, left out when empty; the root certificate the ACS rules declare with its
/// thumbprint found by SHA-1 in one host's store, absent from another's, unknown for the host that
/// sent no certificates; the host identifier as `host.name`).
#[test]
fn the_osquery_results_log_gives_the_example_facts() {
    let out = preflight(&["facts", "--from", "osquery", "examples/inventory/osquery-results.log"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let want = std::fs::read_to_string(root().join("examples/inventory/osquery.facts.jsonl")).unwrap();
    assert_eq!(text(&out.stdout), want);
    let hosts: Vec<Value> = want.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(hosts.len(), 3);
    assert_eq!(hosts[0]["os"]["version"], "10.0.19044.1466");
    assert_eq!(hosts[1]["os"]["version"], "6.1.7601");
    assert_eq!(hosts[1]["os"]["product_type"], "server");
    assert_eq!(hosts[1]["hotfixes"], serde_json::json!(["KB4474419", "KB4490628", "KB5006743"]));
    assert_eq!(hosts[2]["product"], serde_json::json!({"id": "deep_security_agent", "version": "12.0.0-1234"}));
    assert_eq!(hosts[2]["secure_boot"]["enabled"], false);
    assert!(hosts[1].get("secure_boot").is_none(), "an empty secure_boot column says nothing");
    assert_eq!(hosts[0]["root_ca"]["identity_verification_2020"], true);
    assert_eq!(hosts[2]["root_ca"]["identity_verification_2020"], false);
    assert!(hosts[1].get("root_ca").is_none(), "no certificates rows: unknown");

    let answers = preflight(&["batch", "--as-of", "2026-11-25", "-"], want.as_bytes());
    assert_eq!(answers.status.code(), Some(0), "{}", text(&answers.stderr));
    for line in text(&answers.stdout).lines() {
        let answer: Value = serde_json::from_str(line).unwrap();
        for (advisory, verdict) in answer.as_object().unwrap() {
            assert!(verdict.get("status").is_some(), "{advisory}: {verdict}");
        }
    }
}

#[test]
fn osquery_lines_that_are_not_results_are_named() {
    let log = b"{\"name\":\"pack_os_version\",\"hostIdentifier\":\"a\",\"snapshot\":[{\"major\":\"10\"}],\"action\":\"snapshot\"}\nnot json\n{\"name\":\"x\"}\n";
    let out = preflight(&["facts", "--from", "osquery", "-"], log);
    assert_eq!(out.status.code(), Some(1));
    let said = text(&out.stderr);
    assert!(said.contains("line 2: not JSON"), "{said}");
    assert!(said.contains("line 3: an osquery result has `name` and `hostIdentifier`"), "{said}");
}

/// A later snapshot replaces an earlier one; removed rows of the differential format say what is
/// gone and add nothing; a mapping file replaces the default one.
#[test]
fn snapshots_replace_removed_rows_are_ignored_and_a_mapping_replaces_the_default() {
    let log = concat!(
        r#"{"name":"os_version","hostIdentifier":"h","snapshot":[{"major":"10","minor":"0","build":"17763","revision":"100"}],"action":"snapshot"}"#,
        "\n",
        r#"{"name":"os_version","hostIdentifier":"h","snapshot":[{"major":"10","minor":"0","build":"17763","revision":"2300"}],"action":"snapshot"}"#,
        "\n",
        r#"{"name":"patches","hostIdentifier":"h","columns":{"hotfix_id":"KB1"},"action":"added"}"#,
        "\n",
        r#"{"name":"patches","hostIdentifier":"h","columns":{"hotfix_id":"KB2"},"action":"removed"}"#,
        "\n",
    );
    let out = preflight(&["facts", "--from", "osquery", "-"], log.as_bytes());
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts["os"]["version"], "10.0.17763.2300");
    assert_eq!(facts["hotfixes"], serde_json::json!(["KB1"]));

    let dir = temp_dir("osquery-map");
    let map = dir.join("map.toml");
    std::fs::write(&map, "[os_version]\n\"os.version\" = \"{major}.{minor}.{build}\"\n").unwrap();
    let mapped = preflight(&["facts", "--from", "osquery", "-", "--map", map.to_str().unwrap()], log.as_bytes());
    let facts: Value = serde_json::from_str(text(&mapped.stdout).trim()).unwrap();
    assert_eq!(facts, serde_json::json!({"host": {"name": "h"}, "os": {"version": "10.0.17763"}}));

    std::fs::write(&map, "[thumbprints]\ntable = \"certificates\"\n").unwrap();
    let half = preflight(&["facts", "--from", "osquery", "-", "--map", map.to_str().unwrap()], log.as_bytes());
    assert_eq!(half.status.code(), Some(3));
    assert!(text(&half.stderr).contains("text = \"{sha1}\""), "{}", text(&half.stderr));

    std::fs::write(&map, "os_version = 3\n").unwrap();
    let broken = preflight(&["facts", "--from", "osquery", "-", "--map", map.to_str().unwrap()], log.as_bytes());
    assert_eq!(broken.status.code(), Some(3));
    assert!(text(&broken.stderr).contains("write a section per table"), "{}", text(&broken.stderr));
}

/// A mapping with very many columns is read in linear time (120,000 mapped columns took 50 s
/// when each column was compared with every other; the benchmark is the closing note's).
#[test]
fn many_mapped_columns_convert() {
    let dir = temp_dir("wide");
    let n = 120_000;
    let map: String = (0..n).map(|i| format!("\"c{i}\" = \"x.f{i}\"\n")).collect();
    std::fs::write(dir.join("map.toml"), map).unwrap();
    let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    let csv = format!("{}\n{}\n", header.join(","), row.join(","));
    let out = preflight(&["facts", "-", "--map", dir.join("map.toml").to_str().unwrap()], csv.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts["x"].as_object().unwrap().len(), n);
    assert_eq!(facts["x"]["f119999"], "119999");
}

/// One validation for both kinds of mapping: a path inside another's, the same path twice, an
/// empty or malformed path, and (osquery) the host's identity are refused, naming both sources.
#[test]
fn colliding_and_malformed_mappings_are_refused() {
    let dir = temp_dir("collide");
    let map = dir.join("map.toml");
    let run = |map_text: &str, from: &str, input: &[u8]| {
        std::fs::write(&map, map_text).unwrap();
        preflight(&["facts", "--from", from, "-", "--map", map.to_str().unwrap()], input)
    };
    for (map_text, says) in [
        ("A = \"os\"\nB = \"os.version\"\n", "column `A` feeds `os` and column `B` feeds `os.version` inside it"),
        ("A = \"\"\n", "not a dotted fact path"),
        ("A = \"a..b\"\n", "not a dotted fact path"),
    ] {
        let out = run(map_text, "csv", b"A,B\n1,2\n");
        assert_eq!(out.status.code(), Some(3), "{map_text}");
        assert!(text(&out.stderr).contains(says), "{map_text}: {}", text(&out.stderr));
    }
    let log = b"{\"name\":\"q_os_version\",\"hostIdentifier\":\"h\",\"snapshot\":[{\"major\":\"10\"}]}\n";
    for (map_text, says) in [
        ("[os_version]\n\"\" = \"{major}\"\n", "not a dotted fact path"),
        ("[os_version]\n\"a..b\" = \"{major}\"\n", "not a dotted fact path"),
        ("[os_version]\n\"host.name\" = \"{major}\"\n", "the host's identity"),
        ("[os_version]\n\"host\" = \"{major}\"\n", "the host's identity"),
        ("[os_version]\nos = \"{major}\"\n[patches]\n\"os.version\" = \"{major}\"\n", "inside it"),
    ] {
        let out = run(map_text, "osquery", log);
        assert_eq!(out.status.code(), Some(3), "{map_text}");
        assert!(text(&out.stderr).contains(says), "{map_text}: {}", text(&out.stderr));
    }
}

/// Escape sequences in headers and cells (a window title, a cleared screen) are shown escaped in
/// every message, never sent to the terminal.
#[test]
fn control_characters_in_input_never_reach_the_terminal() {
    let hostile = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[1;1Hall hosts ready\u{9b}31m";
    let csv = format!("os.version,{hostile}\n\"{hostile}\r\",x\n");
    let out = preflight(&["facts", "-", "--delimiter", ","], csv.as_bytes());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("\\u{1b}]0;pwned"), "{stderr}");
    for c in ['\u{1b}', '\u{7}', '\r', '\u{9b}'] {
        assert!(!stderr.contains(c), "{c:?} reached the terminal: {stderr:?}");
    }
    let log = format!(
        "{{\"name\":\"os_version\",\"hostIdentifier\":\"{}\",\"snapshot\":[{{\"major\":\"x\"}}]}}\nnot json {hostile}\n",
        "h\\u001b[2J"
    );
    let out = preflight(&["facts", "--from", "osquery", "-"], log.as_bytes());
    let stderr = text(&out.stderr);
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

/// The separator is read outside quoted header cells, and `--delimiter` names it outright.
#[test]
fn the_separator_is_sniffed_outside_quotes_or_given() {
    let csv = b"\"Build; Release; Notes\",os.version\nx,10.0.19044.1466\n";
    let out = preflight(&["facts", "-"], csv);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts["os"]["version"], "10.0.19044.1466");
    let semi = b"os.version|os.product_type\n10.0.19044.1466|workstation\n";
    let out = preflight(&["facts", "-", "--delimiter", "|"], semi);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts["os"]["product_type"], "workstation");
    let out = preflight(&["facts", "-", "--delimiter", "ab"], semi);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is not one character"), "{}", text(&out.stderr));
}

/// osquery writes a missing column as null: it is left out with the text before it, never
/// written as `null`.
#[test]
fn an_osquery_null_column_is_a_missing_one() {
    let log = b"{\"name\":\"os_version\",\"hostIdentifier\":\"h\",\"snapshot\":[{\"major\":\"10\",\"minor\":\"0\",\"build\":\"19044\",\"revision\":null,\"platform\":\"windows\",\"name\":\"Microsoft Windows 10 Pro\"}]}\n";
    let out = preflight(&["facts", "--from", "osquery", "-"], log);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts["os"]["version"], "10.0.19044");
}

/// The registry values the rules read `from registry` come from osquery's `registry` table,
/// through the rules' own `map`; a value the key lacks is null for a fact whose rules read null
/// (looked, not set), and a programs table that lists no product the rules know says the host
/// has none. The pack `collector --osquery` prints schedules exactly those keys.
#[test]
fn osquery_registry_values_and_an_absent_product() {
    let servicing = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecureBoot\Servicing";
    let state = r"HKEY_LOCAL_MACHINE\SYSTEM\CurrentControlSet\Control\SecureBoot\State";
    let registry = serde_json::json!({
        "name": "pack_preflight_registry", "hostIdentifier": "h", "action": "snapshot",
        "snapshot": [
            { "key": servicing, "name": "UEFICA2023Status", "data": "InProgress" },
            { "key": state.to_ascii_lowercase(), "name": "UEFISecureBootEnabled", "data": "1" },
        ],
    });
    let programs = serde_json::json!({
        "name": "pack_preflight_programs", "hostIdentifier": "h", "action": "snapshot",
        "snapshot": [{ "name": "Some Editor", "version": "1.2" }],
    });
    let os = serde_json::json!({
        "name": "pack_preflight_os_version", "hostIdentifier": "h", "action": "snapshot",
        "snapshot": [{ "major": "10", "minor": "0", "build": "26100", "revision": "4946", "name": "Microsoft Windows 11 Pro" }],
    });
    let log = format!("{registry}\n{programs}\n{os}\n");
    let out = preflight(&["facts", "--from", "osquery", "-"], log.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let facts: Value = serde_json::from_str(text(&out.stdout).trim()).unwrap();
    assert_eq!(facts["servicing"]["status"], "InProgress");
    // not set: the rules read null as 0
    assert_eq!(facts["servicing"]["available_updates"], Value::Null);
    assert!(facts["servicing"].as_object().unwrap().contains_key("available_updates"));
    assert_eq!(facts["secure_boot"]["enabled"], true);
    // the policy key has no rows: the rules' `missing` entry says automatic updates work
    assert_eq!(facts["root_ca"]["auto_update"], true);
    // programs listed, none a product of the rules: no product
    assert_eq!(facts["product"]["id"], Value::Null);
    let dir = temp_dir("osquery-registry");
    let facts_file = dir.join("facts.jsonl");
    std::fs::write(&facts_file, text(&out.stdout)).unwrap();
    let batch = preflight(&["batch", facts_file.to_str().unwrap(), "--as-of", "2026-03-01"], b"");
    let answer: Value = serde_json::from_str(text(&batch.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(answer["acs_2023"]["status"], "not_affected", "{answer}");

    let pack = preflight(&["collector", "--osquery"], b"");
    let pack: Value = serde_json::from_slice(&pack.stdout).unwrap();
    let query = pack["queries"]["preflight_registry"]["query"].as_str().unwrap();
    for key in [servicing, state] {
        assert!(query.contains(key), "{query}");
    }
}

/// A CSV cell `none` (or `null`) for a fact whose rules read null: the host has none.
#[test]
fn a_csv_cell_none_is_null_for_a_fact_that_reads_null() {
    let csv =
        "product.id,os.version,os.product_type\nnone,10.0.19044.1000,workstation\nNULL,10.0.19044.1000,workstation\n";
    let out = preflight(&["facts", "--from", "csv", "-"], csv.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for line in text(&out.stdout).lines() {
        let facts: Value = serde_json::from_str(line).unwrap();
        assert_eq!(facts["product"]["id"], Value::Null);
    }
}

/// A fact read `from uninstall "PATTERN"`: osquery's programs table gives the version of the
/// first program whose name matches (ignoring case); programs listed and none matching is null
/// for a fact whose rules read null.
#[test]
fn osquery_programs_feed_facts_read_from_uninstall_by_name() {
    let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data/advisories/cm-client-prerequisites.preflight");
    let host = |name: &str, programs: serde_json::Value| {
        let programs = serde_json::json!({
            "name": "pack_preflight_programs", "hostIdentifier": name, "action": "snapshot", "snapshot": programs,
        });
        let os = serde_json::json!({
            "name": "pack_preflight_os_version", "hostIdentifier": name, "action": "snapshot",
            "snapshot": [{ "major": "10", "minor": "0", "build": "19045", "revision": "4000", "name": "Microsoft Windows 10 Pro" }],
        });
        format!("{programs}\n{os}\n")
    };
    let log = host(
        "a",
        serde_json::json!([
            { "name": "Some Editor", "version": "1.2" },
            { "name": "microsoft visual c++ 2015-2022 redistributable (x64) - 14.38.33130", "version": "14.38.33130.0" },
        ]),
    ) + &host("b", serde_json::json!([{ "name": "Some Editor", "version": "1.2" }]));
    let out = preflight(&["facts", "--from", "osquery", "--rules", rules.to_str().unwrap(), "-"], log.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let hosts: Vec<Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(hosts[0]["vcredist"], "14.38.33130.0", "{}", hosts[0]);
    assert_eq!(hosts[1]["vcredist"], Value::Null, "{}", hosts[1]);
    assert!(hosts[1].as_object().unwrap().contains_key("vcredist"));
}
