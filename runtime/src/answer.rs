//! The check every answer passes before a host sees it: one line of UTF-8 JSON, an object with a
//! `status` or an `error` member.
//!
//! A strict validator (RFC 8259) that reads the bytes once and allocates nothing: it runs on every
//! answer, so it costs a fraction of a parse into values. Its verdicts are those of serde_json's
//! parser (tested against it on damaged answers in `tests`), with two differences a module never
//! meets: `status`/`error` must be written without escapes, and nesting stops at 128 levels.

/// Why an answer is refused, in words.
pub fn check(bytes: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("it is not UTF-8: {e}"))?;
    let mut v = Validator { bytes, pos: 0, depth: 0, top_keys: TopKeys::default(), line_break: false };
    let json = (|| {
        v.ws();
        if v.peek() != Some(b'{') {
            return Err("it is not a JSON object".to_string());
        }
        v.value().map_err(|at| format!("it is not JSON (at byte {at})"))?;
        v.ws();
        if v.pos != bytes.len() {
            return Err(format!("it is not JSON (trailing bytes at {})", v.pos));
        }
        Ok(())
    })();
    // Raw line breaks can only stand between tokens (strings refuse control characters); they
    // are the first thing to say, as they would split the answer's line.
    if v.line_break || (json.is_err() && bytes.iter().any(|&b| b == b'\n' || b == b'\r')) {
        return Err("it spans several lines".into());
    }
    json?;
    if !v.top_keys.status && !v.top_keys.error {
        return Err("it has neither `status` nor `error`".into());
    }
    Ok(text)
}

#[derive(Default)]
struct TopKeys {
    status: bool,
    error: bool,
}

/// Nesting deeper than this is refused (no verdict comes close; recursion stays bounded).
const MAX_DEPTH: u32 = 128;

struct Validator<'a> {
    bytes: &'a [u8],
    pos: usize,
    depth: u32,
    top_keys: TopKeys,
    line_break: bool,
}

/// The error is the byte offset where the answer stops being JSON.
type Step = Result<(), usize>;

impl Validator<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(c @ (b' ' | b'\t' | b'\n' | b'\r')) = self.peek() {
            self.line_break |= c != b' ' && c != b'\t';
            self.pos += 1;
        }
    }

    #[inline]
    fn expect(&mut self, b: u8) -> Step {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.pos)
        }
    }

    fn value(&mut self) -> Step {
        match self.peek() {
            Some(b'{') => self.container(b'}'),
            Some(b'[') => self.container(b']'),
            Some(b'"') => self.string().map(drop),
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.pos),
        }
    }

    fn container(&mut self, close: u8) -> Step {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.pos);
        }
        let top = self.depth == 1;
        self.pos += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if close == b'}' {
                let key = self.string()?;
                if top {
                    let key = self.bytes.get(key);
                    self.top_keys.status |= key == Some(b"status");
                    self.top_keys.error |= key == Some(b"error");
                }
                self.ws();
                self.expect(b':')?;
                self.ws();
            }
            self.value()?;
            self.ws();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.ws();
                }
                Some(c) if c == close => {
                    self.pos += 1;
                    self.depth -= 1;
                    return Ok(());
                }
                _ => return Err(self.pos),
            }
        }
    }

    /// A string; returns where its raw text is (keys are compared raw: an escaped `status` is
    /// not one).
    #[inline]
    fn string(&mut self) -> Result<std::ops::Range<usize>, usize> {
        let start = self.pos;
        self.expect(b'"')?;
        let bytes = self.bytes;
        loop {
            // Skip to the next byte that ends the run of plain text: eight bytes at a time (the
            // lowest flagged byte of a word is the first such byte: the word tests only ever
            // flag more bytes above a true one), then byte by byte for the last few.
            let mut pos = self.pos;
            loop {
                let Some(chunk) = bytes.get(pos..pos + 8) else {
                    let rest = bytes.get(pos..).unwrap_or_default();
                    pos += rest.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\').unwrap_or(rest.len());
                    break;
                };
                let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
                let flagged = has_byte(w, b'"') | has_byte(w, b'\\') | has_below(w, 0x20);
                if flagged != 0 {
                    pos += (flagged.trailing_zeros() / 8) as usize;
                    break;
                }
                pos += 8;
            }
            self.pos = pos;
            let Some(&c) = bytes.get(self.pos) else { return Err(start) };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(start + 1..self.pos - 1);
                }
                b'\\' => match bytes.get(self.pos + 1) {
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
                    Some(b'u') => {
                        let hex = bytes.get(self.pos + 2..self.pos + 6).ok_or(self.pos)?;
                        if !hex.iter().all(u8::is_ascii_hexdigit) {
                            return Err(self.pos);
                        }
                        self.pos += 6;
                    }
                    _ => return Err(self.pos),
                },
                0..=0x1F => return Err(self.pos),
                _ => self.pos += 1,
            }
        }
    }

    #[inline]
    fn word(&mut self, w: &[u8]) -> Step {
        if self.bytes.get(self.pos..self.pos + w.len()) == Some(w) {
            self.pos += w.len();
            Ok(())
        } else {
            Err(self.pos)
        }
    }

    #[inline]
    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    #[inline]
    fn number(&mut self) -> Step {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.pos),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.pos);
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.pos);
            }
        }
        Ok(())
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Non-zero when some byte of `w` is `b` (the classic "has zero byte" test on `w ^ b…b`).
fn has_byte(w: u64, b: u8) -> u64 {
    has_below(w ^ (ONES * u64::from(b)), 1)
}

/// Non-zero when some byte of `w` is below `n` (n ≤ 128).
fn has_below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::check;

    /// The previous check: serde_json parses the answer into a shape.
    fn reference(bytes: &[u8]) -> bool {
        #[derive(serde::Deserialize)]
        struct Shape {
            status: Option<serde::de::IgnoredAny>,
            error: Option<serde::de::IgnoredAny>,
        }
        let Ok(text) = std::str::from_utf8(bytes) else { return false };
        !text.contains(['\n', '\r'])
            && serde_json::from_str::<Shape>(text).is_ok_and(|s| s.status.is_some() || s.error.is_some())
    }

    fn answers() -> Vec<Vec<u8>> {
        let program = preflight_compiler::check_source(preflight_compiler::ACS_RULES).program.unwrap();
        let hosts = [
            r#"{"product":{"id":"apex_one"},"os":{"version":"6.1.7601","product_type":"server"},"hotfixes":[]}"#,
            r#"{"product":{"id":"wfbs"},"os":{"version":"10.0.19044.1000"}}"#,
            r#"{"os":{"version":5}}"#,
            "[]",
        ];
        hosts.iter().map(|h| preflight_compiler::answer(&program, h).into_bytes()).collect()
    }

    #[test]
    fn agrees_with_serde_json_on_every_single_byte_damage() {
        let mut compared = 0;
        for answer in answers() {
            assert!(check(&answer).is_ok(), "{}", String::from_utf8_lossy(&answer));
            for i in 0..answer.len() {
                let mut variants = vec![answer[..i].to_vec(), [&answer[..i], &answer[i + 1..]].concat()];
                for b in
                    [b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b'0', b'-', b'e', b'.', b' ', b'\n', 0x01, 0xFF]
                {
                    let mut v = answer.clone();
                    v[i] = b;
                    variants.push(v);
                    variants.push([&answer[..i], &[b][..], &answer[i..]].concat());
                }
                for v in variants {
                    assert_eq!(check(&v).is_ok(), reference(&v), "{}", String::from_utf8_lossy(&v));
                    compared += 1;
                }
            }
        }
        assert!(compared > 10_000, "{compared}");
    }

    #[test]
    fn word_tests_find_every_byte_in_every_position() {
        for at in 0..8 {
            for b in 0..=255u8 {
                let mut bytes = [b'a'; 8];
                bytes[at] = b;
                let w = u64::from_le_bytes(bytes);
                assert_eq!(super::has_byte(w, b'"') != 0, b == b'"', "{b} at {at}");
                assert_eq!(super::has_byte(w, b'\\') != 0, b == b'\\', "{b} at {at}");
                assert_eq!(super::has_below(w, 0x20) != 0, b < 0x20, "{b} at {at}");
            }
        }
    }

    #[test]
    fn refuses_what_is_not_one_verdict_or_error() {
        for bad in [
            &b""[..],
            b"{}",
            b"[1]",
            b"{\"status\":1}\n",
            b"{\"status\":1}{}",
            b"{\"st\\u0061tus\":1}",
            b"{\"status\":01}",
            b"{\"status\":\"\\x\"}",
        ] {
            assert!(check(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let deep = format!("{{\"status\":{}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(check(deep.as_bytes()).is_err());
        assert!(check(b" {\"error\":{\"code\":\"x\"}} ").is_ok());
    }
}
