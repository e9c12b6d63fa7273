//! The JSON reader for facts: strict RFC 8259, small, and specified exactly, because the
//! WebAssembly module reimplements it and must agree byte for byte (see `docs/abi.md`).
//!
//! - The document is at most [`MAX_BYTES`] bytes and nests at most [`MAX_DEPTH`] arrays/objects.
//! - Whitespace is space, tab, CR, LF. Numbers are `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
//!   and are not range-checked here. Strings have no raw control characters (< 0x20); escapes are
//!   `\" \\ \/ \b \f \n \r \t \uXXXX`, and a `\u` high surrogate must be followed by a `\u` low one.
//! - A duplicate object key: the last one wins.
//! - The first error is reported with a byte offset: for a fault inside a string or number, the
//!   offset of its first byte; for nesting, the bracket that is one too deep; otherwise the
//!   unexpected byte, or the length of the input when it ends too early.

/// The largest document accepted.
pub const MAX_BYTES: usize = 1 << 20;
/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Strings keep their raw text (between the quotes) so that decoding is
/// lazy; [`decode`] gives the text.
#[derive(Clone, Debug, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    /// The number's text as written.
    Number(&'a str),
    /// The raw text between the quotes, escapes undecoded (already validated).
    String(&'a str),
    Array(Vec<Json<'a>>),
    Object(Vec<(&'a str, Json<'a>)>),
}

/// Why a document is not accepted, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub offset: usize,
}

impl<'a> Json<'a> {
    /// The value of `key` in an object (the last one when the key is repeated). Keys compare
    /// after decoding, so `"\u0069d"` is `id`.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(members) => members.iter().rev().find(|(k, _)| raw_equals(k, key)).map(|(_, v)| v),
            _ => None,
        }
    }

    /// An integer that fits `i64`, written without fraction or exponent.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Number(text) if !text.contains(['.', 'e', 'E']) => text.parse().ok(),
            _ => None,
        }
    }
}

/// Parses a whole document.
pub fn parse(text: &str) -> Result<Json<'_>, SyntaxError> {
    let mut p = Parser { text, bytes: text.as_bytes(), at: 0 };
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.at != p.bytes.len() {
        return Err(SyntaxError { offset: p.at });
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn fail<T>(&self) -> Result<T, SyntaxError> {
        Err(SyntaxError { offset: self.at })
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.word("true", Json::Bool(true)),
            Some(b'f') => self.word("false", Json::Bool(false)),
            Some(b'n') => self.word("null", Json::Null),
            _ => self.fail(),
        }
    }

    fn word(&mut self, word: &str, value: Json<'a>) -> Result<Json<'a>, SyntaxError> {
        for expected in word.bytes() {
            if self.peek() != Some(expected) {
                return self.fail();
            }
            self.at += 1;
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        if depth > MAX_DEPTH {
            return self.fail();
        }
        self.at += 1;
        let mut members = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(Json::Object(members));
        }
        loop {
            if self.peek() != Some(b'"') {
                return self.fail();
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return self.fail();
            }
            self.at += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            members.push((key, value));
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_ws();
                }
                Some(b'}') => {
                    self.at += 1;
                    return Ok(Json::Object(members));
                }
                _ => return self.fail(),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, SyntaxError> {
        if depth > MAX_DEPTH {
            return self.fail();
        }
        self.at += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Ok(Json::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.skip_ws();
                }
                Some(b']') => {
                    self.at += 1;
                    return Ok(Json::Array(items));
                }
                _ => return self.fail(),
            }
        }
    }

    /// A string token; any fault inside it is reported at its opening quote.
    fn string(&mut self) -> Result<&'a str, SyntaxError> {
        let start = self.at;
        let bad = Err(SyntaxError { offset: start });
        self.at += 1;
        loop {
            match self.peek() {
                None => return bad,
                Some(b'"') => break,
                Some(c) if c < 0x20 => return bad,
                Some(b'\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.at += 1,
                        Some(b'u') => {
                            let Some(unit) = self.hex4() else { return bad };
                            if (0xDC00..0xE000).contains(&unit) {
                                return bad;
                            }
                            if (0xD800..0xDC00).contains(&unit) {
                                if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                                    return bad;
                                }
                                self.at += 1;
                                match self.hex4() {
                                    Some(low) if (0xDC00..0xE000).contains(&low) => {}
                                    _ => return bad,
                                }
                            }
                        }
                        _ => return bad,
                    }
                }
                Some(_) => self.at += 1,
            }
        }
        self.at += 1;
        Ok(self.text.get(start + 1..self.at - 1).unwrap_or(""))
    }

    /// Reads `uXXXX` (the cursor on the `u`), leaving the cursor after it.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at + 1..self.at + 5)?;
        let mut unit = 0;
        for d in digits {
            unit = unit * 16 + char::from(*d).to_digit(16)?;
        }
        self.at += 5;
        Some(unit)
    }

    /// A number token; any fault inside it is reported at its first byte.
    fn number(&mut self) -> Result<Json<'a>, SyntaxError> {
        let start = self.at;
        let bad = Err(SyntaxError { offset: start });
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return bad,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return bad;
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return bad;
            }
            self.digits();
        }
        Ok(Json::Number(self.text.get(start..self.at).unwrap_or("")))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }
}

/// Decodes a validated raw string (escapes and surrogate pairs).
pub fn decode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex = |chars: &mut std::str::Chars<'_>| -> u32 {
                    (0..4).fold(0, |acc, _| acc * 16 + chars.next().and_then(|c| c.to_digit(16)).unwrap_or(0))
                };
                let mut unit = hex(&mut chars);
                if (0xD800..0xDC00).contains(&unit) {
                    chars.next();
                    chars.next();
                    let low = hex(&mut chars);
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                }
                out.push(char::from_u32(unit).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Whether a raw (escaped) string decodes to `plain`, without allocating when it has no escape.
fn raw_equals(raw: &str, plain: &str) -> bool {
    if raw.contains('\\') { decode(raw) == plain } else { raw == plain }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(text: &str) -> Option<usize> {
        parse(text).err().map(|e| e.offset)
    }

    #[test]
    fn accepts_json_and_keeps_the_last_duplicate() {
        let v = parse(r#" {"a": [1, -0.5e+3, true, null], "b": "x\u00e9\ud83d\ude00", "a": 2} "#).unwrap();
        assert_eq!(v.get("a"), Some(&Json::Number("2")));
        assert_eq!(
            v.get("b").map(|b| match b {
                Json::String(r) => decode(r),
                _ => String::new(),
            }),
            Some("xé😀".into())
        );
        assert_eq!(parse(r#"{"\u0069d": 1}"#).unwrap().get("id"), Some(&Json::Number("1")));
    }

    #[test]
    fn reports_the_first_fault_where_the_spec_says() {
        assert_eq!(offset(""), Some(0));
        assert_eq!(offset("{"), Some(1));
        assert_eq!(offset(r#"{"a" 1}"#), Some(5));
        assert_eq!(offset(r#"{"a": 01}"#), Some(7));
        assert_eq!(offset(r#"{"a": -}"#), Some(6));
        assert_eq!(offset(r#"{"a": "x\q"}"#), Some(6));
        assert_eq!(offset(r#"["\ud800"]"#), Some(1));
        assert_eq!(offset(r#"["\udc00"]"#), Some(1));
        assert_eq!(offset("[\"a\nb\"]"), Some(1));
        assert_eq!(offset("{} x"), Some(3));
        assert_eq!(offset("tru"), Some(3));
        assert_eq!(offset(&"[".repeat(64)), Some(64));
        assert_eq!(offset(&"[".repeat(65)), Some(64));
        assert_eq!(parse(&format!("{}{}", "[".repeat(64), "]".repeat(64))).map(|_| ()), Ok(()));
    }
}
