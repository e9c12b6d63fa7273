//! Facts from text a customer pastes: the output of `ver`, `systeminfo`, `Get-HotFix`,
//! `wmic qfe list`, `reg query ...\CurrentVersion`, or the JSON the collector script prints.
//! Any mix of them, in any order: each line is read for what it can tell.
//!
//! The result is partial facts plus what was found where and what is still missing, so that the
//! self-check page can say "we still need the product and whether this is a server". Only the
//! English output of `systeminfo` is understood (its labels are localised); the build, KB ids and
//! registry values are read whatever the language.

use serde::Serialize;
use serde_json::{Map, Value, json};

/// What the pasted text tells.
#[derive(Debug, Default, PartialEq, Serialize)]
pub struct Extracted {
    /// Facts in the shape the rules expect (only what was found).
    pub facts: Value,
    /// What was found, each with where: `os.version (ver)`.
    pub found: Vec<String>,
    /// Facts still needed: `product.id`, `os.product_type`, ...
    pub missing: Vec<String>,
}

#[derive(Default)]
struct Reading {
    build: Option<(u32, u32, u32)>,
    build_from: &'static str,
    revision: Option<u32>,
    revision_from: &'static str,
    server: Option<bool>,
    server_from: &'static str,
    hotfixes: Vec<String>,
    hotfixes_from: Vec<&'static str>,
}

/// Reads pasted text. When it is a JSON object (the collector's output) it is returned as is.
pub fn extract(text: &str) -> Extracted {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(text.trim()) {
        return from_collector(map);
    }
    let mut r = Reading::default();
    for line in text.lines() {
        read_line(&mut r, line);
    }
    finish(r)
}

fn from_collector(map: Map<String, Value>) -> Extracted {
    let facts = Value::Object(map);
    let has = |path: &[&str]| path.iter().try_fold(&facts, |v, k| v.get(k)).is_some_and(|v| !v.is_null());
    let mut missing = Vec::new();
    for (path, name) in [
        (&["product", "id"][..], "product.id"),
        (&["os", "version"][..], "os.version"),
        (&["os", "product_type"][..], "os.product_type"),
    ] {
        if !has(path) {
            missing.push(name.to_string());
        }
    }
    Extracted { facts, found: vec!["all facts (collector script)".into()], missing }
}

fn read_line(r: &mut Reading, line: &str) {
    let trimmed = line.trim();
    // ver: "Microsoft Windows [Version 10.0.19044.1586]"
    if let Some(inside) = between(trimmed, "[Version ", "]") {
        set_build(r, inside, "ver");
        return;
    }
    if let Some((label, value)) = trimmed.split_once(':') {
        let (label, value) = (label.trim(), value.trim());
        match label {
            // systeminfo: "OS Version:  10.0.19044 N/A Build 19044"
            "OS Version" => {
                if let Some(first) = value.split_whitespace().next() {
                    set_build(r, first, "systeminfo");
                }
                return;
            }
            // systeminfo: "OS Configuration:  Member Server" / "Standalone Workstation" / "Primary Domain Controller"
            "OS Configuration" => {
                r.server = Some(!value.contains("Workstation"));
                r.server_from = "systeminfo OS Configuration";
                return;
            }
            "OS Name" if r.server.is_none() => {
                r.server = Some(value.contains("Server"));
                r.server_from = "systeminfo OS Name";
                return;
            }
            _ => {}
        }
    }
    // reg query: "    UBR    REG_DWORD    0x632" / "CurrentBuild    REG_SZ    19044"
    let words: Vec<&str> = trimmed.split_whitespace().collect();
    if let [name, kind, value] = words.as_slice()
        && kind.starts_with("REG_")
    {
        read_registry(r, name, value);
        return;
    }
    for kb in kb_tokens(trimmed) {
        if !r.hotfixes.contains(&kb) {
            r.hotfixes.push(kb);
        }
        let source = hotfix_source(trimmed);
        if !r.hotfixes_from.contains(&source) {
            r.hotfixes_from.push(source);
        }
    }
}

fn read_registry(r: &mut Reading, name: &str, value: &str) {
    let number = |v: &str| match v.strip_prefix("0x") {
        Some(hex) => u32::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    };
    match name {
        "UBR" => {
            r.revision = number(value);
            r.revision_from = "registry UBR";
        }
        "CurrentBuild" | "CurrentBuildNumber" if r.build.is_none() => {
            if let Some(build) = number(value) {
                // CurrentVersion's "6.3" is kept for compatibility; the major/minor of builds from
                // 10240 on is 10.0, below that the build number says which.
                r.build = Some(match build {
                    b if b >= 10240 => (10, 0, b),
                    9600 => (6, 3, 9600),
                    9200 => (6, 2, 9200),
                    7600 | 7601 => (6, 1, build),
                    6000..=6003 => (6, 0, build),
                    _ => return,
                });
                r.build_from = "registry CurrentBuild";
            }
        }
        "InstallationType" => {
            r.server = Some(value.eq_ignore_ascii_case("Server") || value.eq_ignore_ascii_case("Server Core"));
            r.server_from = "registry InstallationType";
        }
        _ => {}
    }
}

/// Where a line with KB ids comes from, by its look.
fn hotfix_source(line: &str) -> &'static str {
    if line.contains("kbid=") || line.contains("support.microsoft.com") {
        "wmic qfe"
    } else if line.starts_with('[') {
        "systeminfo"
    } else {
        "Get-HotFix"
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let rest = text.get(start..)?;
    rest.get(..rest.find(close)?)
}

fn set_build(r: &mut Reading, text: &str, from: &'static str) {
    let parts: Vec<u32> = text.split('.').map_while(|p| p.parse().ok()).collect();
    if let [major, minor, build, rest @ ..] = parts.as_slice() {
        // `ver` knows the revision; systeminfo does not, so it never replaces a better reading.
        if r.build.is_none() || from == "ver" {
            r.build = Some((*major, *minor, *build));
            r.build_from = from;
        }
        if let Some(revision) = rest.first() {
            r.revision = Some(*revision);
            r.revision_from = from;
        }
    }
}

/// `KB5006714` tokens (six or seven digits), and `kbid=5006714` in wmic's caption URLs.
fn kb_tokens(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let rest = line.get(i..).unwrap_or("");
        let prefix = if rest.len() >= 2 && rest.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("kb")) {
            Some(2)
        } else if rest.starts_with("kbid=") {
            Some(5)
        } else {
            None
        };
        let boundary = i == 0 || !bytes.get(i - 1).is_some_and(u8::is_ascii_alphanumeric);
        if let (Some(skip), true) = (prefix, boundary) {
            let digits: String = rest.chars().skip(skip).take_while(char::is_ascii_digit).collect();
            let next = rest.as_bytes().get(skip + digits.len());
            if (6..=7).contains(&digits.len()) && !next.is_some_and(u8::is_ascii_alphanumeric) {
                found.push(format!("KB{digits}"));
                i += skip + digits.len();
                continue;
            }
        }
        i += 1;
    }
    found
}

fn finish(r: Reading) -> Extracted {
    let mut os = Map::new();
    let mut found = Vec::new();
    let mut missing = vec!["product.id".to_string()];
    match r.build {
        Some((major, minor, build)) => {
            let version = match r.revision {
                Some(rev) => format!("{major}.{minor}.{build}.{rev}"),
                None => format!("{major}.{minor}.{build}"),
            };
            found.push(format!("os.version {version} ({})", r.build_from));
            if r.revision.is_some() && r.revision_from != r.build_from {
                found.push(format!("revision {} ({})", r.revision.unwrap_or(0), r.revision_from));
            }
            if r.revision.is_none() && major == 10 {
                missing.push("the revision (UBR): run `ver` or paste `reg query` output".into());
            }
            os.insert("version".into(), json!(version));
        }
        None => missing.push("os.version".into()),
    }
    match r.server {
        Some(server) => {
            let role = if server { "server" } else { "workstation" };
            found.push(format!("os.product_type {role} ({})", r.server_from));
            os.insert("product_type".into(), json!(role));
        }
        None => missing.push("os.product_type".into()),
    }
    let mut facts = Map::new();
    if !os.is_empty() {
        facts.insert("os".into(), Value::Object(os));
    }
    if !r.hotfixes.is_empty() {
        found.push(format!("{} installed updates ({})", r.hotfixes.len(), r.hotfixes_from.join(", ")));
        facts.insert("hotfixes".into(), json!(r.hotfixes));
    }
    Extracted { facts: Value::Object(facts), found, missing }
}

#[cfg(test)]
mod tests;
