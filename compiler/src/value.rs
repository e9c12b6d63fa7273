//! Scalar values of the language and of facts: dates, versions, Windows builds and KB ids.
//!
//! The checker parses literals in a rules file with these functions and the facts reader parses
//! host input with the same ones, so a rules file and its hosts can never disagree on a format.

use std::cmp::Ordering;
use std::fmt;

/// A calendar date, stored as days since 1970-01-01 so that comparisons are integer comparisons.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub i32);

impl Date {
    /// `0000-01-01`, the first day a `YYYY-MM-DD` date can name.
    pub const FIRST: Date = Date(-719_528);
    /// `9999-12-31`, the last.
    pub const LAST: Date = Date(2_932_896);

    /// A day count (since 1970-01-01) that names a `YYYY-MM-DD` date.
    pub fn from_days(days: i32) -> Option<Date> {
        (Date::FIRST.0..=Date::LAST.0).contains(&days).then_some(Date(days))
    }

    /// Parses `YYYY-MM-DD`, rejecting impossible days such as `2023-02-30`.
    pub fn parse(text: &str) -> Option<Date> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes.get(4) != Some(&b'-') || bytes.get(7) != Some(&b'-') {
            return None;
        }
        let num = |range: std::ops::Range<usize>| -> Option<i32> {
            let part = text.get(range)?;
            if !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
            return None;
        }
        Some(Date(days_from_civil(y, m, d)))
    }

    fn civil(self) -> (i32, i32, i32) {
        civil_from_days(self.0)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.civil();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: i32) -> i32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days-from-civil algorithm (proleptic Gregorian calendar).
fn days_from_civil(y: i32, m: i32, d: i32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, i32, i32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i32::from(m <= 2);
    (y, m, d)
}

/// The most components a version may have; more is malformed input, not a longer version.
pub const MAX_VERSION_PARTS: usize = 8;

/// A dotted numeric version such as `20.0.0.5394` or `10.0.19044.1586`.
///
/// A version *literal* in a rules file stands for every version that starts with it: `20.0`
/// matches `20.0.0-5394`. Comparisons therefore cut the host's version to the literal's length
/// (see [`Version::cmp_prefix`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Version(pub Vec<u32>);

impl Version {
    /// Parses a product version: dotted numbers, optionally followed by a build suffix that starts
    /// with `-` or `+` (`20.0.0-5394`), which is ignored.
    pub fn parse_product(text: &str) -> Option<Version> {
        let (numbers, suffix) = match text.find(['-', '+']) {
            Some(at) => (text.get(..at)?, text.get(at + 1..)?),
            None => (text, ""),
        };
        let suffix_ok = suffix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if !suffix_ok || (text.len() > numbers.len() && suffix.is_empty()) {
            return None;
        }
        Self::parse_dotted(numbers, 1)
    }

    /// Parses a Windows build `major.minor.build[.revision]`: three or four numbers, no suffix.
    pub fn parse_build(text: &str) -> Option<Version> {
        Self::parse_dotted(text, 3).filter(|v| v.0.len() <= 4)
    }

    /// Parses a version literal of a rules file (any number of dotted parts, no suffix).
    pub fn parse_literal(text: &str) -> Option<Version> {
        Self::parse_dotted(text, 1)
    }

    fn parse_dotted(text: &str, min_parts: usize) -> Option<Version> {
        let mut parts = Vec::new();
        for part in text.split('.') {
            if part.is_empty() || part.len() > 10 || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            parts.push(part.parse().ok()?);
            if parts.len() > MAX_VERSION_PARTS {
                return None;
            }
        }
        (parts.len() >= min_parts).then_some(Version(parts))
    }

    /// Compares `self` cut to the length of `pattern` with `pattern`; missing parts of `self`
    /// count as 0. This is the meaning of every version comparison in a rules file.
    pub fn cmp_prefix(&self, pattern: &Version) -> Ordering {
        for (i, want) in pattern.0.iter().enumerate() {
            let have = self.0.get(i).copied().unwrap_or(0);
            match have.cmp(want) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        Ordering::Equal
    }

    /// The fourth part of a Windows build (the update build revision), when present.
    pub fn revision(&self) -> Option<u32> {
        self.0.get(3).copied()
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, part) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "{part}")?;
        }
        Ok(())
    }
}

/// A Microsoft update, by its knowledge-base number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Kb(pub u32);

impl Kb {
    /// Parses a KB id as `Get-HotFix` lists it: `KB5006714`, `kb5006714` or `5006714`.
    /// Microsoft's KB numbers have six or seven digits; anything else is not a KB id.
    pub fn parse(text: &str) -> Option<Kb> {
        let text = text.trim();
        let digits = match text.get(..2) {
            Some(prefix) if prefix.eq_ignore_ascii_case("kb") => text.get(2..)?,
            _ => text,
        };
        if !(6..=7).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Kb)
    }
}

impl fmt::Display for Kb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KB{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_range_is_what_yyyy_mm_dd_can_name() {
        assert_eq!(Date::FIRST.to_string(), "0000-01-01");
        assert_eq!(Date::LAST.to_string(), "9999-12-31");
        assert_eq!(Date::parse("0000-01-01"), Some(Date::FIRST));
        assert_eq!(Date::from_days(Date::LAST.0 + 1), None);
        assert_eq!(Date::from_days(Date::FIRST.0 - 1), None);
    }

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        for text in ["1970-01-01", "2000-02-29", "2023-01-10", "2023-10-10", "9999-12-31"] {
            assert_eq!(Date::parse(text).map(|d| d.to_string()).as_deref(), Some(text));
        }
        for text in ["2023-02-29", "2023-13-01", "2023-00-10", "2023-1-10", "20230110", "2023-01-1x"] {
            assert_eq!(Date::parse(text), None, "{text}");
        }
        assert!(Date::parse("2023-01-09") < Date::parse("2023-01-10"));
        assert_eq!(Date::parse("1970-01-02"), Some(Date(1)));
    }

    #[test]
    fn versions_compare_by_the_pattern_length() {
        let host = Version::parse_product("20.0.0-5394").expect("valid");
        assert_eq!(host.0, vec![20, 0, 0]);
        let lit = |t| Version::parse_literal(t).expect("valid");
        assert_eq!(host.cmp_prefix(&lit("20.0")), Ordering::Equal);
        assert_eq!(host.cmp_prefix(&lit("12.0")), Ordering::Greater);
        let build = Version::parse_build("10.0.22621.1413").expect("valid");
        assert_eq!(build.cmp_prefix(&lit("10.0.22000")), Ordering::Greater);
        assert_eq!(build.revision(), Some(1413));
        assert_eq!(Version::parse_build("10.0"), None);
        assert_eq!(Version::parse_build("10.0.1.2.3"), None);
        assert_eq!(Version::parse_build("10.0.19044-1"), None);
        assert_eq!(Version::parse_product("abc"), None);
        assert_eq!(Version::parse_product("20.0-"), None);
        assert_eq!(Version::parse_product("2019").map(|v| v.0), Some(vec![2019]));
    }

    #[test]
    fn kb_ids_accept_get_hotfix_spellings() {
        assert_eq!(Kb::parse("KB5006714"), Some(Kb(5006714)));
        assert_eq!(Kb::parse("kb5006714"), Some(Kb(5006714)));
        assert_eq!(Kb::parse(" 5006714 "), Some(Kb(5006714)));
        assert_eq!(Kb::parse("KB12"), None);
        assert_eq!(Kb::parse("File 1"), None);
        assert_eq!(Kb::parse("KB50067145"), None);
    }
}
