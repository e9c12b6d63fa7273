//! A seeded generator of host facts for the ACS advisory: every SEMANTICS.md row and its
//! boundaries (revision N−1 / N / N+1, listed and unlisted KBs, ESU / no ESU / Azure, dates either
//! side of 2023-01-10 and 2023-10-10, other platforms, unlisted versions and Windows builds),
//! random hotfix lists, and malformed and hostile documents (wrong types, truncation, byte
//! damage, deep nesting, duplicate and escaped keys, odd numbers and strings).
//!
//! The same seed gives the same hosts on every machine (SplitMix64, no platform randomness).

#![allow(clippy::indexing_slicing, reason = "a test-data generator: every index is bounded by construction")]

use serde_json::{Value, json};

/// SplitMix64: small, fast, and the same everywhere.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len());
        &items[i.min(items.len().saturating_sub(1))]
    }
}

/// The ACS products' ids (the benchmark's hand-written baseline reads them too).
pub const PRODUCTS: [&str; 7] = [
    "apex_one",
    "apex_one_saas",
    "cloud_one_wes",
    "deep_security_agent",
    "deep_security_manager",
    "wfbs",
    "wfbs_services",
];

/// Windows builds around every row: (major.minor.build, role, the revision that matters or 0).
const BUILDS: [(&str, &str, u32); 30] = [
    ("10.0.22000", "workstation", 0),
    ("10.0.22621", "workstation", 0),
    ("10.0.26100", "workstation", 0),
    ("10.0.19045", "workstation", 0),
    ("10.0.26100", "server", 0),
    ("10.0.25398", "server", 0),
    ("10.0.19044", "workstation", 1586),
    ("10.0.20348", "server", 261),
    ("10.0.19041", "workstation", 1266),
    ("10.0.19042", "workstation", 1266),
    ("10.0.19043", "workstation", 1266),
    ("10.0.18363", "workstation", 1830),
    ("10.0.17763", "workstation", 2210),
    ("10.0.17763", "server", 2210),
    ("10.0.14393", "server", 4704),
    ("10.0.14393", "workstation", 4704),
    ("10.0.10240", "workstation", 19086),
    ("6.3.9600", "workstation", 0),
    ("6.3.9600", "server", 0),
    ("6.2.9200", "server", 0),
    ("6.2.9200", "workstation", 0),
    ("6.0.6002", "server", 0),
    ("6.0.6003", "server", 0),
    ("6.0.6002", "workstation", 0),
    ("6.1.7601", "workstation", 0),
    ("6.1.7601", "server", 0),
    ("6.1.7600", "workstation", 0),
    ("5.2.3790", "server", 0),
    ("5.1.2600", "workstation", 0),
    ("5.0.2195", "server", 0),
];

/// Every KB the ACS rules name, and some they do not.
const KBS: [&str; 30] = [
    "KB5011487",
    "KB5005619",
    "KB5005611",
    "KB5005624",
    "KB5005625",
    "KB5006669",
    "KB5006675",
    "KB5006714",
    "KB5006729",
    "KB5006739",
    "KB5006732",
    "KB5006736",
    "KB5006715",
    "KB5006743",
    "KB5006728",
    "KB4474419",
    "KB4490628",
    "KB5007236",
    "KB5008244",
    "KB5020000",
    "KB5007247",
    "KB5008263",
    "KB5007260",
    "KB5008277",
    "KB5007263",
    "KB5008274",
    "KB5009543",
    "KB5008212",
    "KB4493730",
    "KB5022338",
];

const DATES: [&str; 10] = [
    "2022-12-01",
    "2023-01-09",
    "2023-01-10",
    "2023-01-11",
    "2023-03-01",
    "2023-10-09",
    "2023-10-10",
    "2023-10-11",
    "2026-11-24",
    "2019-01-01",
];

fn version(rng: &mut Rng, product: &str) -> Value {
    let listed: &[&str] = match product {
        "apex_one" => &["2019", "14.0", "14.0.12345", "13.0", "14.1"],
        "deep_security_agent" | "deep_security_manager" => {
            &["9.6", "10.0", "12.0", "20.0", "20.0.0-5394", "11.0", "10.0.0-3445", "20.0.1.1234"]
        }
        "wfbs" => &["10.0", "10.0.1234", "9.0", "11.0"],
        _ => &["1.0", "20.0.1.1234"],
    };
    match rng.below(20) {
        0 => Value::Null,
        1 => json!(20),
        2 => json!(rng.pick(&[
            "ten",
            "20.",
            ".5",
            "20..0",
            "20.0-",
            "20.0+build.1",
            "1.2.3.4.5.6.7.8.9",
            "99999999999.0"
        ])),
        _ => json!(rng.pick(listed)),
    }
}

fn build(rng: &mut Rng) -> (String, Value) {
    let (base, role, threshold) = *rng.pick(&BUILDS);
    let text = match rng.below(8) {
        0 => base.to_string(),
        1 if threshold > 0 => format!("{base}.{}", threshold - 1),
        2 if threshold > 0 => format!("{base}.{threshold}"),
        3 if threshold > 0 => format!("{base}.{}", threshold + 1),
        _ => format!("{base}.{}", rng.below(30000)),
    };
    let role = match rng.below(30) {
        0 => json!("desktop"),
        1 => json!(3),
        2 => Value::Null,
        _ => json!(role),
    };
    (text, role)
}

fn hotfixes(rng: &mut Rng) -> Value {
    let mut list = Vec::new();
    for _ in 0..rng.below(6) {
        let kb = *rng.pick(&KBS);
        list.push(match rng.below(12) {
            0 => json!(kb.to_lowercase()),
            1 => json!(kb.trim_start_matches("KB")),
            2 => json!(format!(" {kb} ")),
            3 => json!("File 1"),
            4 if rng.chance(20) => json!(5006714),
            _ => json!(kb),
        });
    }
    Value::Array(list)
}

fn maybe_bool(rng: &mut Rng) -> Option<Value> {
    match rng.below(10) {
        0..=3 => None,
        4 => Some(Value::Null),
        5 if rng.chance(30) => Some(json!("yes")),
        n => Some(json!(n % 2 == 0)),
    }
}

/// One well-formed-looking host (it may still be an input error: that is part of the point).
pub fn host(rng: &mut Rng) -> Value {
    let product = if rng.chance(3) { "officescan" } else { *rng.pick(&PRODUCTS) };
    let mut facts = serde_json::Map::new();
    let mut product_obj = serde_json::Map::new();
    product_obj.insert("id".into(), json!(product));
    if !rng.chance(10) {
        product_obj.insert("version".into(), version(rng, product));
    }
    facts.insert("product".into(), Value::Object(product_obj));
    let mut os = serde_json::Map::new();
    match rng.below(25) {
        0 => {
            os.insert("platform".into(), json!(rng.pick(&["linux", "macos", "Windows", "aix"])));
            if rng.chance(50) {
                os.insert("version".into(), json!(rng.pick(&["5.15.0-91-generic", "13.4", "garbage"])));
            }
        }
        1 => {
            os.insert(
                "version".into(),
                json!(rng.pick(&["10.0", "abc", "10.0.19044.1.2", "10.0.19044-1", "", "10.0.x"])),
            );
            os.insert("product_type".into(), json!("workstation"));
        }
        _ => {
            let (text, role) = build(rng);
            if rng.chance(50) {
                os.insert("platform".into(), json!("windows"));
            }
            if !rng.chance(3) {
                os.insert("version".into(), json!(text));
            }
            if !rng.chance(3) {
                os.insert("product_type".into(), role);
            }
        }
    }
    facts.insert("os".into(), Value::Object(os));
    if !rng.chance(15) {
        facts.insert("hotfixes".into(), if rng.chance(2) { json!("KB5006714") } else { hotfixes(rng) });
    }
    for key in ["esu", "azure"] {
        if let Some(v) = maybe_bool(rng) {
            facts.insert(key.into(), v);
        }
    }
    if !rng.chance(30) {
        let mut ca = serde_json::Map::new();
        for key in ["auto_update", "identity_verification_2020"] {
            if let Some(v) = maybe_bool(rng) {
                ca.insert(key.into(), v);
            }
        }
        facts.insert("root_ca".into(), Value::Object(ca));
    }
    if !rng.chance(20) {
        let date = match rng.below(30) {
            0 => json!("2023-02-30"),
            1 => json!(20230110),
            _ => json!(rng.pick(&DATES)),
        };
        facts.insert("as_of".into(), date);
    }
    Value::Object(facts)
}

/// A document: usually a host as JSON text, sometimes damaged or hostile.
pub fn document(rng: &mut Rng) -> String {
    let text = host(rng).to_string();
    match rng.below(40) {
        0 => truncate(&text, rng.below(text.len() + 1)),
        1 => damage(rng, &text),
        2 => format!("{}{}{}", "[".repeat(60 + rng.below(10)), text, "]".repeat(60 + rng.below(10))),
        3 => text.replacen("\"id\"", "\"\\u0069d\"", 1),
        4 => text.replacen("{\"product\":{", "{\"product\":{\"id\":\"wfbs\",\"id\":\"nope\",", 1).replacen(
            "\"id\":\"nope\",\"id\"",
            "\"id\"",
            1,
        ),
        5 => text.replacen("\"os\":", "\"os\":{\"version\":\"1.2.3\"},\"os\":", 1),
        6 => format!("  \n\t{text}\r\n "),
        7 => text.replacen("\"hotfixes\":[", "\"hotfixes\":[\"K\\u0042500\\u00361487\",\"\\ud83d\\ude00\",", 1),
        8 => text.replacen("\"esu\":", "\"esu\":1e400,\"x\":-0.0e-0,\"y\":[1.5,2E+3],\"esu\":", 1),
        11 | 12 => {
            // KB ids with whitespace around them, raw or escaped: White_Space is trimmed, the
            // look-alikes (zero-width space, U+180E, BOM) are not.
            let (before, after) = (rng.pick(&SPACES), rng.pick(&SPACES));
            let kb = rng.pick(&["KB5006714", "5011487", "kb4474419", "KB5022289"]);
            let entry = format!("\"{before}{kb}{after}\",");
            text.replacen("\"hotfixes\":[", &format!("\"hotfixes\":[{entry}"), 1)
        }
        10 if text.contains("\"platform\":\"") => {
            // Escapes that messages interpolate and the writer must escape again.
            text.replacen("\"platform\":\"", "\"platform\":\"\\u0001\\\"q\\\\\\n\\u001f\\u00e9\\ud83d\\ude00", 1)
        }
        9 => rng
            .pick(&[
                "",
                "null",
                "[]",
                "\"facts\"",
                "42",
                "{",
                "{\"product\":",
                "{}",
                "{\"a\" 1}",
                "\u{feff}{}",
                "{\"a\":\"\\x\"}",
                "{\"a\":\"\\ud800\"}",
                "{\"a\":01}",
            ])
            .to_string(),
        _ => text,
    }
}

/// Characters around a KB id: every Unicode White_Space character raw and escaped, and
/// characters that only look like space.
const SPACES: [&str; 34] = [
    "",
    " ",
    "\\t",
    "\\n",
    "\\r",
    "\\f",
    "\\u000b",
    "\u{85}",
    "\\u0085",
    "\u{a0}",
    "\\u00a0",
    "\u{1680}",
    "\u{2000}",
    "\\u2001",
    "\u{2002}",
    "\u{2003}",
    "\u{2004}",
    "\u{2005}",
    "\u{2006}",
    "\u{2007}",
    "\u{2008}",
    "\u{2009}",
    "\\u200A",
    "\u{2028}",
    "\\u2029",
    "\u{202f}",
    "\u{205f}",
    "\u{3000}",
    "\u{3000}\u{a0} ",
    "\u{200b}",
    "\u{180e}",
    "\\ufeff",
    "\u{2060}",
    "\\u001c",
];

/// A document as bytes, as a host may receive it: sometimes not UTF-8 at all.
pub fn document_bytes(rng: &mut Rng) -> Vec<u8> {
    let mut bytes = document(rng).into_bytes();
    if rng.chance(4) && !bytes.is_empty() {
        let at = rng.below(bytes.len());
        const BAD: [&[u8]; 6] = [b"\xff", b"\xc3", b"\xe2\x80", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"];
        let bad = *rng.pick(&BAD);
        bytes.splice(at..at, bad.iter().copied());
    }
    bytes
}

/// The evaluation date a host passes (days since 1970-01-01): mostly a real day, sometimes none,
/// sometimes out of range.
pub fn evaluation_date(rng: &mut Rng) -> Option<i32> {
    match rng.below(20) {
        0..=5 => None,
        6 => Some(*rng.pick(&[i32::MIN + 1, -719_529, 2_932_897, i32::MAX, -719_528, 2_932_896])),
        _ => Some(19_000 + i32::try_from(rng.below(1_000)).unwrap_or(0)),
    }
}

/// A document on one line (for JSON-lines files): line breaks inside it are spaced out.
pub fn document_line(rng: &mut Rng) -> String {
    document(rng).replace(['\n', '\r'], " ")
}

fn truncate(text: &str, at: usize) -> String {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    text[..at].to_string()
}

fn damage(rng: &mut Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    for _ in 0..=rng.below(3) {
        let i = rng.below(chars.len());
        chars[i] = *rng.pick(&['{', '}', '[', ']', ':', ',', '"', '\\', 'x', '0', ' ', '\n', '\u{1}', 'é']);
    }
    chars.into_iter().collect()
}
