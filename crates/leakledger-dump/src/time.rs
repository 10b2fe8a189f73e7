//! Timestamps as loggers write them, to UTC microseconds since the Unix epoch.
//!
//! Text: RFC 3339 (`2024-05-01T12:00:00.123Z`, `+02:00` offsets), the same with a
//! space instead of `T`, and without a zone (taken as UTC, as LiteLLM writes
//! `startTime`). Numbers, or digits in a string: epoch seconds, milliseconds,
//! microseconds or nanoseconds, judged by magnitude.

use chrono::NaiveDate;

use crate::json::{Kind, Value};

/// Microseconds since 1970-01-01T00:00:00Z.
pub type Micros = i64;

/// Reads a timestamp from a record field. `None` when the value is not one.
pub fn parse_value(v: &Value<'_>) -> Option<Micros> {
    match v.kind() {
        Kind::Number => parse_epoch(v.raw()),
        Kind::String | Kind::Text => {
            let raw = v.raw();
            if raw.first().is_some_and(u8::is_ascii_digit) && raw.iter().all(|c| c.is_ascii_digit() || *c == b'.') {
                parse_epoch(raw)
            } else {
                parse_text(raw)
            }
        }
        _ => None,
    }
}

/// An epoch number in s, ms, µs or ns, judged by its magnitude: below 1e11 seconds
/// (until the year 5138), below 1e14 milliseconds, below 1e17 microseconds, else
/// nanoseconds. Fractions are kept to the microsecond. Negative or absurd values
/// give `None`.
pub fn parse_epoch(raw: &[u8]) -> Option<Micros> {
    let (int_part, frac_part) = match memchr::memchr(b'.', raw) {
        Some(p) => (&raw[..p], &raw[p + 1..]),
        None => (raw, &b""[..]),
    };
    if int_part.is_empty() || int_part.len() > 19 || !int_part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !frac_part.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n: i64 = std::str::from_utf8(int_part).ok()?.parse().ok()?;
    // Fraction to microseconds of the unit.
    let frac_micros = |unit_micros: i64| -> i64 {
        let mut v: i64 = 0;
        let mut scale = unit_micros;
        for &d in frac_part.iter().take(18) {
            scale /= 10;
            if scale == 0 {
                break;
            }
            v += (d - b'0') as i64 * scale;
        }
        v
    };
    if n < 100_000_000_000 {
        Some(n * 1_000_000 + frac_micros(1_000_000))
    } else if n < 100_000_000_000_000 {
        Some(n * 1_000 + frac_micros(1_000))
    } else if n < 100_000_000_000_000_000 {
        Some(n)
    } else {
        Some(n / 1_000)
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// RFC 3339 and its common relatives: `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM|±HHMM]`,
/// no zone meaning UTC. Returns the instant and the length of text consumed.
pub fn parse_text_prefix(b: &[u8]) -> Option<(Micros, usize)> {
    let year = digits(b, 0, 4)?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') {
        return None;
    }
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    let mut i = 19;
    let mut micros = 0u32;
    if matches!(b.get(i), Some(b'.' | b',')) {
        i += 1;
        let start = i;
        let mut scale = 100_000;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii_digit() {
                break;
            }
            micros += (c - b'0') as u32 * scale;
            scale /= 10;
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let mut offset_secs: i64 = 0;
    match b.get(i) {
        Some(b'Z' | b'z') => i += 1,
        Some(&sign @ (b'+' | b'-')) => {
            let oh = digits(b, i + 1, 2)?;
            let (om, len) = if b.get(i + 3) == Some(&b':') {
                (digits(b, i + 4, 2)?, 6)
            } else if let Some(m) = digits(b, i + 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            if oh > 23 || om > 59 {
                return None;
            }
            let off = (oh * 3600 + om * 60) as i64;
            offset_secs = if sign == b'+' { off } else { -off };
            i += len;
        }
        _ => {}
    }
    // A leap second is read as the last second of the minute.
    let second = second.min(59);
    let dt = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_micro_opt(hour, minute, second, micros)?;
    let t = dt.and_utc().timestamp_micros() - offset_secs * 1_000_000;
    Some((t, i))
}

/// A whole field of text holding a timestamp (trailing white space allowed).
pub fn parse_text(b: &[u8]) -> Option<Micros> {
    let (t, used) = parse_text_prefix(b)?;
    b[used..].iter().all(u8::is_ascii_whitespace).then_some(t)
}

/// Formats microseconds as RFC 3339 UTC with microseconds, e.g. `2024-05-01T12:00:00.123456Z`.
pub fn format_rfc3339(t: Micros) -> String {
    match chrono::DateTime::from_timestamp_micros(t) {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => t.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Micros = 1_714_564_800_000_000; // 2024-05-01T12:00:00Z

    #[test]
    fn epochs_by_magnitude() {
        assert_eq!(parse_epoch(b"1714564800"), Some(T));
        assert_eq!(parse_epoch(b"1714564800.25"), Some(T + 250_000));
        assert_eq!(parse_epoch(b"1714564800000"), Some(T));
        assert_eq!(parse_epoch(b"1714564800123"), Some(T + 123_000));
        assert_eq!(parse_epoch(b"1714564800000000"), Some(T));
        assert_eq!(parse_epoch(b"1714564800000000000"), Some(T));
        assert_eq!(parse_epoch(b"1714564800000001999"), Some(T + 1));
        assert_eq!(parse_epoch(b"-5"), None);
        assert_eq!(parse_epoch(b"99999999999999999999999"), None);
        assert_eq!(parse_epoch(b"1e9"), None);
    }

    #[test]
    fn rfc3339_and_relatives() {
        assert_eq!(parse_text(b"2024-05-01T12:00:00Z"), Some(T));
        assert_eq!(parse_text(b"2024-05-01T12:00:00.123456Z"), Some(T + 123_456));
        assert_eq!(parse_text(b"2024-05-01T12:00:00.1234567891Z"), Some(T + 123_456));
        assert_eq!(parse_text(b"2024-05-01T14:00:00+02:00"), Some(T));
        assert_eq!(parse_text(b"2024-05-01T07:00:00-0500"), Some(T));
        assert_eq!(parse_text(b"2024-05-01 12:00:00.5"), Some(T + 500_000));
        assert_eq!(parse_text(b"2024-05-01T12:00:60Z"), Some(T + 59_000_000));
        assert_eq!(parse_text(b"2024-02-30T12:00:00Z"), None);
        assert_eq!(parse_text(b"2024-05-01T12:00:00Zjunk"), None);
        assert_eq!(parse_text(b"2024-05-01"), None);
        assert_eq!(parse_text(b""), None);
    }

    #[test]
    fn values_dispatch_on_kind() {
        assert_eq!(parse_value(&Value::new(Kind::Number, b"1714564800")), Some(T));
        assert_eq!(parse_value(&Value::new(Kind::String, b"1714564800000")), Some(T));
        assert_eq!(parse_value(&Value::new(Kind::String, b"2024-05-01T12:00:00Z")), Some(T));
        assert_eq!(parse_value(&Value::new(Kind::Object, b"{}")), None);
    }

    #[test]
    fn formats_back() {
        assert_eq!(format_rfc3339(T + 5), "2024-05-01T12:00:00.000005Z");
    }
}
