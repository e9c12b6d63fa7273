//! Inventory import (`preflight facts`): any CSV export or osquery results log, with any mapping
//! file, never panics or hangs; every document it makes is a JSON object that survives a round
//! trip through its own text (what `batch` then reads); osquery documents carry `host.name`.
//!
//! Input: a byte choosing the format (even: CSV, odd: osquery) and, for CSV, the delimiter; then
//! the mapping's text up to the first NUL (none when empty or not UTF-8); then the export.
#![no_main]

use libfuzzer_sys::fuzz_target;
use preflight_cli::command::facts::{Converter, osquery};
use std::sync::LazyLock;

static CONVERTER: LazyLock<Converter> = LazyLock::new(|| {
    let programs = preflight_compiler::builtin_programs().expect("the built-in rules check");
    Converter::new(&programs).expect("their detect patterns compile")
});

fn round_trips(document: &serde_json::Value) {
    assert!(document.is_object(), "{document}");
    let text = document.to_string();
    let back: serde_json::Value = serde_json::from_str(&text).expect("a document's text is JSON");
    assert_eq!(&back, document);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let (map, export) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (rest.get(..at).unwrap_or_default(), rest.get(at + 1..).unwrap_or_default()),
        None => (&[][..], rest),
    };
    let map = std::str::from_utf8(map).ok().filter(|m| !m.is_empty());
    let converter = &*CONVERTER;
    if selector % 2 == 0 {
        let delimiter = [None, Some(b','), Some(b';'), Some(b'\t')][usize::from(selector / 2 % 4)];
        let mut documents = Vec::new();
        let result = converter.csv(export, map.map(|m| (m, "the mapping")), delimiter, &mut |d| {
            documents.push(d);
            Ok(())
        });
        let _ = result;
        documents.iter().for_each(round_trips);
    } else {
        let mapping = match map {
            Some(m) => osquery::read_map(m, "the mapping"),
            None => osquery::read_map(osquery::DEFAULT_MAP, "the default mapping"),
        };
        let Ok(mapping) = mapping else { return };
        if let Ok(documents) = converter.osquery(export, &mapping) {
            for document in &documents {
                round_trips(document);
                assert!(document["host"]["name"].is_string(), "{document}");
            }
        }
    }
});
