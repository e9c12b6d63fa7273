//! The paste reader on arbitrary text: never panics, and what it reads is a JSON object of facts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let read = preflight_paste::extract(&text);
    assert!(read.facts.is_object(), "facts must be an object: {}", read.facts);
});
