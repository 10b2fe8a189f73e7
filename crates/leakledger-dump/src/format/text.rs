//! Plain text lines: the line is the payload; a leading timestamp is the time.

use super::Emit;
use crate::format::Format;
use crate::json::Value;
use crate::record::{Location, Record};
use crate::time;

/// Reads a timestamp at the start of a line, optionally inside `[...]`.
pub(super) fn leading_timestamp(line: &[u8]) -> Option<(i64, usize)> {
    let skip = usize::from(line.first() == Some(&b'['));
    let (t, used) = time::parse_text_prefix(&line[skip..])?;
    let mut end = skip + used;
    if skip == 1 && line.get(end) == Some(&b']') {
        end += 1;
    }
    Some((t, end))
}

pub(super) fn parse<E: Emit>(line: &[u8], here: Location, out: &mut E) {
    let mut r = Record::empty(here, Format::Text, line);
    r.ts = leading_timestamp(line).map(|(t, _)| t);
    r.payload = Some(Value::text(line));
    out.record(&r);
}
