//! The fleet report's page writer: for any answers and facts (paired line by line), the page's
//! embedded data blocks (the hosts, their findings) cannot be ended or escaped by the data — no `<` at all inside it, so no
//! `</script>`, `<!--` or `<script` tokenizer trigger — and it parses back to exactly the hosts'
//! names, in order, as the facts give them.
//!
//! Input: the answers, a NUL, the facts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight_cli::command::report;

const OPEN: &str = r#"<script type="application/json" id="fleet-data">"#;
const DETAILS: &str = r#"<script type="application/json" id="fleet-details">"#;

/// A facts line's `host.name` as `Host::read` sees it, when the line is JSON.
fn name(line: &[u8]) -> Option<String> {
    let facts: serde_json::Value = serde_json::from_slice(line).ok()?;
    facts.get("host")?.get("name")?.as_str().map(str::to_string)
}

fuzz_target!(|data: &[u8]| {
    let at = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let answers = data.get(..at).unwrap_or_default();
    let facts = data.get(at + 1..).unwrap_or_default();
    let fields = report::Fields { id: "host.name".into(), build: report::BUILD_FIELD.into(), group: Some("host.site".into()) };
    let Ok(fleet) = report::aggregate(report::Fleet::default(), answers, facts, &fields, 2) else { return };
    let page = report::page(&fleet);
    let start = page.find(OPEN).expect("the data block") + OPEN.len();
    let len = page.get(start..).and_then(|rest| rest.find("</script>")).expect("the block ends");
    let block = page.get(start..start + len).expect("in the page");
    assert!(!block.contains('<') && !block.contains('>') && !block.contains('&'), "{block}");
    assert!(!block.contains('\u{2028}') && !block.contains('\u{2029}'));
    let data: serde_json::Value = serde_json::from_str(block).expect("the data block is JSON");
    // The findings' own block: the same rules.
    let start = page.find(DETAILS).expect("the details block") + DETAILS.len();
    let len = page.get(start..).and_then(|rest| rest.find("</script>")).expect("the block ends");
    let details = page.get(start..start + len).expect("in the page");
    assert!(!details.contains('<') && !details.contains('>') && !details.contains('&'), "{details}");
    serde_json::from_str::<serde_json::Value>(details).expect("the details block is JSON");
    let hosts = data["hosts"]["names"].as_array().expect("the hosts' names");
    // Facts lines cut as batch cuts them: LF, CRLF or a lone CR; a final line end starts none.
    let mut lines: Vec<&[u8]> = Vec::new();
    let mut rest = facts;
    while !rest.is_empty() {
        let end = rest.iter().position(|&b| b == b'\n' || b == b'\r').unwrap_or(rest.len());
        lines.push(rest.get(..end).unwrap_or_default());
        let mut skip = end + 1;
        if rest.get(end) == Some(&b'\r') && rest.get(end + 1) == Some(&b'\n') {
            skip += 1;
        }
        rest = rest.get(skip.min(rest.len())..).unwrap_or_default();
    }
    assert_eq!(hosts.len(), lines.len());
    for (i, (host, line)) in hosts.iter().zip(&lines).enumerate() {
        let expected = if line.len() > 1 << 20 { None } else { name(line) };
        let expected = expected.unwrap_or_else(|| format!("line {}", i + 1));
        assert_eq!(host.as_str(), Some(expected.as_str()), "host {i}");
    }
});
