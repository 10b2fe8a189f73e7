//! A zero-copy JSON scanner that locates values without building them.
//!
//! Log records are mostly payload: the scanner finds a record's header fields and
//! hands back the payload as a borrowed slice, skipping its inside at the speed of
//! `memchr` over string bodies. It checks structure (brackets, strings, separators)
//! but not the inside of strings or the form of numbers: a record is malformed when
//! its structure is broken, which is what truncation and binary junk produce.
//! Nesting is tracked with a counter, never recursion, so depth cannot overflow the
//! stack.

use std::borrow::Cow;

use memchr::memchr;

/// What sort of value a [`Value`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A JSON string; [`Value::raw`] is its inside, still escaped.
    String,
    /// A JSON number, as written.
    Number,
    /// A JSON object, braces included.
    Object,
    /// A JSON array, brackets included.
    Array,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
    /// Plain text that is not JSON (a text log line), unescaped by nature.
    Text,
}

/// A borrowed value from a record: its kind and its bytes as they stand in the dump.
///
/// Nothing is decoded until asked: [`Value::as_str`] unescapes a string (only when it
/// has escapes), [`Value::unescape_into`] reuses a caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Value<'a> {
    kind: Kind,
    raw: &'a [u8],
}

impl<'a> Value<'a> {
    /// A value of `kind` over `raw` (for a string, the bytes between the quotes).
    pub fn new(kind: Kind, raw: &'a [u8]) -> Self {
        Self { kind, raw }
    }

    /// Plain text (not JSON).
    pub fn text(raw: &'a [u8]) -> Self {
        Self::new(Kind::Text, raw)
    }

    /// The kind of value.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The bytes as written: a string's inside without quotes (escapes kept), an
    /// object or array whole, a number or literal as written.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// True for `null`, and for an empty string (loggers write `""` for "none").
    pub fn is_empty(&self) -> bool {
        matches!(self.kind, Kind::Null) || (self.raw.is_empty() && self.kind != Kind::Object)
    }

    /// The value as text: strings unescaped (invalid escapes, lone surrogates and
    /// invalid UTF-8 become U+FFFD), numbers and booleans as written, text as is.
    /// `None` for objects, arrays and null.
    pub fn as_str(&self) -> Option<Cow<'a, str>> {
        match self.kind {
            Kind::String => Some(unescape(self.raw)),
            Kind::Number | Kind::Bool | Kind::Text => Some(lossy(self.raw)),
            Kind::Object | Kind::Array | Kind::Null => None,
        }
    }

    /// [`Value::as_str`], decoding a string with escapes into `scratch` (whose
    /// contents it replaces) rather than a new allocation: for a caller that
    /// reads many strings one after another.
    pub fn as_str_in<'b>(&self, scratch: &'b mut Vec<u8>) -> Option<Cow<'b, str>>
    where
        'a: 'b,
    {
        if self.kind != Kind::String || memchr(b'\\', self.raw).is_none() {
            return self.as_str();
        }
        scratch.clear();
        unescape_into(self.raw, scratch);
        Some(lossy(scratch))
    }

    /// Appends the decoded bytes to `out`: unescaped for strings, as written for
    /// everything else. Returns false when the string had an invalid escape (it is
    /// still decoded, with U+FFFD in place of the bad escape).
    pub fn unescape_into(&self, out: &mut Vec<u8>) -> bool {
        match self.kind {
            Kind::String => unescape_into(self.raw, out),
            _ => {
                out.extend_from_slice(self.raw);
                true
            }
        }
    }
}

impl<'a> Value<'a> {
    /// The value of `key` in an object (first match; keys compared as written,
    /// escapes included). `None` for other kinds or a broken object.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        get(*self, key.as_bytes())
    }

    /// The values of several keys, as [`Value::get`] gives each, in one pass
    /// over the object (each `get` reads it to its end). `None` for other
    /// kinds or a broken object.
    pub fn get_each<const N: usize>(&self, keys: [&str; N]) -> Option<[Option<Value<'a>>; N]> {
        get_each(*self, keys.map(str::as_bytes))
    }

    /// The members of an object as (raw key, value); empty for other kinds. A
    /// broken object ends the iteration early.
    pub fn members(&self) -> Members<'a> {
        let mut c = Cursor::over(*self);
        if self.kind != Kind::Object || !c.enter_object() {
            c.stop();
        }
        Members { c }
    }

    /// The elements of an array; empty for other kinds. A broken array ends the
    /// iteration early.
    pub fn elements(&self) -> Elements<'a> {
        let mut c = Cursor::over(*self);
        if self.kind != Kind::Array || !c.enter_array() {
            c.stop();
        }
        Elements { c }
    }

    /// A 128-bit key of the value's bytes, for caches keyed by content: values
    /// of one kind with equal bytes get equal keys within one process,
    /// whichever way the key was taken ([`Cursor::value_keyed`] or this). The
    /// hash is seeded per process, so keys from the dump are no easier to make
    /// collide (and keys are never to be written out).
    pub fn key(&self) -> u128 {
        match self.kind {
            Kind::String => bytes_key(self.raw),
            Kind::Object | Kind::Array => content_key(*self),
            _ => seeded_xxh3(self.raw),
        }
    }

    /// Decodes a string that holds JSON (a body logged as `"{\"messages\": ...}"`)
    /// into `scratch` and returns the value it holds, borrowing `scratch`. `None`
    /// when this is not a string or its text is not one whole JSON value.
    pub fn decode_json<'b>(&self, scratch: &'b mut Vec<u8>) -> Option<Value<'b>> {
        // Most strings are text: tell by the first byte, before decoding the
        // whole string (code is tens of kilobytes of escapes).
        if self.kind != Kind::String || !matches!(first_decoded(self.raw), Some(b'{' | b'[' | b'"')) {
            return None;
        }
        scratch.clear();
        unescape_into(self.raw, scratch);
        let b: &'b [u8] = scratch;
        let i = skip_ws(b, 0);
        if !matches!(b.get(i), Some(b'{' | b'[' | b'"')) {
            return None;
        }
        let (v, end) = scan_value(b, i).ok()?;
        (skip_ws(b, end) == b.len()).then_some(v)
    }
}

/// The first byte other than JSON whitespace of a string's decoded form,
/// read off its `raw` bytes (decoding escapes only that far). `None` when there
/// is none, or it is not ASCII or not a valid escape (which decode to U+FFFD).
fn first_decoded(raw: &[u8]) -> Option<u8> {
    let mut i = 0;
    while i < raw.len() {
        let (c, len) = match raw[i] {
            b'\\' => match raw.get(i + 1)? {
                b'n' => (b'\n', 2),
                b't' => (b'\t', 2),
                b'r' => (b'\r', 2),
                b'"' => (b'"', 2),
                b'\\' => (b'\\', 2),
                b'/' => (b'/', 2),
                b'u' => {
                    let hex = raw.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    let v = hex.iter().fold(0u32, |v, &h| v << 4 | (h as char).to_digit(16).unwrap_or(0));
                    (u8::try_from(v).ok().filter(u8::is_ascii)?, 6)
                }
                _ => return None,
            },
            c => (c, 1),
        };
        if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
            return Some(c);
        }
        i += len;
    }
    None
}

/// Iterator over an object's members, from [`Value::members`] (a [`Cursor`] walk).
#[derive(Clone, Debug)]
pub struct Members<'a> {
    c: Cursor<'a>,
}

impl<'a> Iterator for Members<'a> {
    type Item = (&'a [u8], Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let k = self.c.next_key()?;
        let v = self.c.value()?;
        Some((k, v))
    }
}

/// Iterator over an array's elements, from [`Value::elements`] (a [`Cursor`] walk).
#[derive(Clone, Debug)]
pub struct Elements<'a> {
    c: Cursor<'a>,
}

impl<'a> Iterator for Elements<'a> {
    type Item = Value<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        if !self.c.next_element() {
            return None;
        }
        self.c.value()
    }
}

/// A forward-only reader over one JSON value, for walking into nested values
/// without scanning each container twice (once to find where it ends, again to
/// enter it). Broken input ends the walk: `next_key` and `next_element` return
/// `None`/`false`, `value` returns `None`.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    broken: bool,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `v` (an object or array to enter).
    pub fn over(v: Value<'a>) -> Self {
        Cursor { b: v.raw, i: 0, broken: false }
    }

    /// Where the next significant byte is, in the walked value's bytes: with
    /// [`Cursor::since`], the bytes of a value entered and walked to its close.
    pub fn offset(&mut self) -> usize {
        self.peek();
        self.i
    }

    /// The bytes from `from` (an earlier [`Cursor::offset`]) to the cursor.
    pub fn since(&self, from: usize) -> &'a [u8] {
        self.b.get(from..self.i).unwrap_or_default()
    }

    /// Walks the elements of the array at the cursor (anything else is consumed
    /// and walks nothing). `each` gets [`Element::At`] with the cursor at an
    /// element, to consume it; an element whose walk breaks is then passed over
    /// whole, where its brackets balance, and given back as [`Element::Broken`],
    /// and the walk goes on with the next. So one broken element costs that
    /// element, not the rest of the document. When the array itself breaks (a
    /// trailing comma, junk between elements), the cursor is left broken for
    /// the level above to pass over.
    pub fn each_element(&mut self, mut each: impl FnMut(Element<'_, 'a>)) {
        if self.peek() != Some(b'[') {
            self.value();
            return;
        }
        self.enter_array();
        while self.next_element() {
            let from = self.i;
            each(Element::At(self));
            if self.broken {
                self.resume_after(from);
                if self.broken {
                    return;
                }
                each(Element::Broken(self.since(from)));
            } else if self.i == from {
                // Not consumed by `each`: consumed here, so the walk moves on.
                self.value();
            }
        }
    }

    /// Goes on after the value that starts at `from` (an earlier
    /// [`Cursor::offset`]), skipped whole, with the walk no longer broken: to
    /// pass over one broken element of an array whose brackets balance. When
    /// the value cannot be skipped either, the walk stays stopped.
    fn resume_after(&mut self, from: usize) {
        if let Ok((_, end)) = scan_value(self.b, from) {
            self.i = end;
            self.broken = false;
        }
    }

    /// Whether the walk stopped at broken input (or at a value of the wrong
    /// kind to enter) rather than at a close.
    pub fn broken(&self) -> bool {
        self.broken
    }

    /// The next significant byte, without consuming it.
    pub fn peek(&mut self) -> Option<u8> {
        self.i = skip_ws(self.b, self.i);
        self.b.get(self.i).copied()
    }

    fn stop(&mut self) {
        self.i = self.b.len();
        self.broken = true;
    }

    /// Consumes a `{`; false (and the walk stops) when there is none.
    pub fn enter_object(&mut self) -> bool {
        if self.peek() == Some(b'{') {
            self.i += 1;
            true
        } else {
            self.stop();
            false
        }
    }

    /// Consumes a `[`; false (and the walk stops) when there is none.
    pub fn enter_array(&mut self) -> bool {
        if self.peek() == Some(b'[') {
            self.i += 1;
            true
        } else {
            self.stop();
            false
        }
    }

    /// The next member's key (raw), leaving the cursor at its value, which the
    /// caller must consume (with [`Cursor::value`] or by entering it). `None` at
    /// the closing brace.
    pub fn next_key(&mut self) -> Option<&'a [u8]> {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                self.peek();
            }
            Some(b'}') => {
                self.i += 1;
                return None;
            }
            _ => {}
        }
        if self.b.get(self.i) != Some(&b'"') {
            self.stop();
            return None;
        }
        let Ok(end) = skip_string(self.b, self.i) else {
            self.stop();
            return None;
        };
        let key = &self.b[self.i + 1..end - 1];
        self.i = skip_ws(self.b, end);
        if self.b.get(self.i) != Some(&b':') {
            self.stop();
            return None;
        }
        self.i += 1;
        Some(key)
    }

    /// True when another element follows (the cursor is then at it); false at
    /// the closing bracket.
    pub fn next_element(&mut self) -> bool {
        match self.peek() {
            Some(b',') => {
                self.i += 1;
                if matches!(self.peek(), Some(b']') | None) {
                    // A trailing comma, or the end inside the array: not JSON.
                    self.stop();
                    return false;
                }
                true
            }
            Some(b']') => {
                self.i += 1;
                false
            }
            Some(_) => true,
            None => {
                // The end inside the array (or a walk already stopped).
                self.stop();
                false
            }
        }
    }

    /// Consumes the object or array at the cursor and returns it with a
    /// 128-bit key of its bytes, taken by the same pass (see
    /// [`skip_container_keyed`]): equal bytes, equal keys, within one process.
    /// `None` (the cursor left at the value, past white space) when the value
    /// is not an object or an array; `None` and stopped when it is broken.
    pub fn container_keyed(&mut self) -> Option<(Value<'a>, u128)> {
        let kind = match self.peek()? {
            b'{' => Kind::Object,
            b'[' => Kind::Array,
            _ => return None,
        };
        match skip_container_keyed(self.b, self.i) {
            Ok((end, key)) => {
                let v = Value::new(kind, &self.b[self.i..end]);
                self.i = end;
                Some((v, key))
            }
            Err(_) => {
                self.stop();
                None
            }
        }
    }

    /// Consumes the value at the cursor and returns it with its
    /// [`Value::key`], taken by the pass that skips it for strings and
    /// containers (where the skip takes keys for free, [`keys_are_free`]): a
    /// walker that keys what it reads needs no second pass. `None` (and
    /// stopped) at the end or when the value is broken.
    pub fn value_keyed(&mut self) -> Option<(Value<'a>, u128)> {
        match self.peek() {
            Some(b'{' | b'[') => self.container_keyed(),
            Some(b'"') => match skip_string_keyed(self.b, self.i) {
                Ok((end, key)) => {
                    let v = Value::new(Kind::String, &self.b[self.i + 1..end - 1]);
                    self.i = end;
                    Some((v, key))
                }
                Err(_) => {
                    self.stop();
                    None
                }
            },
            _ => self.value().map(|v| (v, v.key())),
        }
    }

    /// Consumes the value at the cursor and returns it.
    pub fn value(&mut self) -> Option<Value<'a>> {
        self.peek();
        match scan_value(self.b, self.i) {
            Ok((v, end)) => {
                self.i = end;
                Some(v)
            }
            Err(_) => {
                self.stop();
                None
            }
        }
    }
}

/// One step of [`Cursor::each_element`].
#[derive(Debug)]
pub enum Element<'c, 'a> {
    /// The cursor at an element, to be consumed.
    At(&'c mut Cursor<'a>),
    /// The bytes of an element whose walk broke, now passed over.
    Broken(&'a [u8]),
}

/// Why a piece of JSON could not be scanned, and where (an offset into the slice
/// that was given).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Offset of the problem in the scanned slice.
    pub offset: usize,
    /// What is wrong, for a malformed-record report.
    pub reason: &'static str,
}

pub(crate) type Result<T> = std::result::Result<T, SyntaxError>;

fn err<T>(offset: usize, reason: &'static str) -> Result<T> {
    Err(SyntaxError { offset, reason })
}

#[inline]
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// With `b[i] == b'"'`, returns the index just past the closing quote.
///
/// Code logged in JSON is dense with `\"` and `\n`, so stopping at every quote
/// and looking back for backslashes (as `memchr` would have it) restarts every
/// few dozen bytes. Instead, 64 bytes at a time: a mask of quotes, a mask of
/// backslashes, and from the second the characters an odd run of backslashes
/// escapes (simdjson's carry trick); the first quote not escaped ends the string.
#[inline]
pub(crate) fn skip_string(b: &[u8], i: usize) -> Result<usize> {
    let mut j = i + 1;
    // Whether the byte at `j` is escaped by a backslash run ending just before it.
    let mut carry = 0u64;
    while j + 64 <= b.len() {
        let block: &[u8; 64] = b[j..j + 64].try_into().unwrap_or(&[0; 64]);
        // The bracket masks are left unused, and dropped once inlined.
        let (quotes, backslashes, _, _) = structure(block);
        let escaped = escaped_by(backslashes, &mut carry);
        let ends = quotes & !escaped;
        if ends != 0 {
            return Ok(j + ends.trailing_zeros() as usize + 1);
        }
        j += 64;
    }
    // The tail, byte by byte.
    let mut escape = carry != 0;
    while j < b.len() {
        match b[j] {
            _ if escape => escape = false,
            b'\\' => escape = true,
            b'"' => return Ok(j + 1),
            _ => {}
        }
        j += 1;
    }
    err(i, "unterminated string")
}

/// [`skip_string`], also returning the string's [`bytes_key`]: with AVX2 or
/// AVX-512 taken by the skip's own loop for a string of 64 bytes or more (one
/// pass, not two).
pub(crate) fn skip_string_keyed(b: &[u8], i: usize) -> Result<(usize, u128)> {
    #[cfg(target_arch = "x86_64")]
    if b.len() - i > 64 {
        match keys() {
            // SAFETY: the CPU has AVX-512BW (and carry-less multiplication).
            #[allow(unsafe_code)]
            Keys::Avx512 => return unsafe { skip_string_keyed_avx512(b, i) },
            // SAFETY: the CPU has AVX2 (and carry-less multiplication).
            #[allow(unsafe_code)]
            Keys::Avx2 => return unsafe { skip_string_keyed_avx2(b, i) },
            Keys::Apart => {}
        }
    }
    let end = skip_string(b, i)?;
    Ok((end, bytes_key(&b[i + 1..end - 1])))
}

/// The loop of [`skip_string`], each block handed to the stripes hash `h` as
/// far as it is the string's. The last block is read from a copy padded with
/// spaces.
#[inline(always)]
fn skip_string_keyed_with<H>(
    b: &[u8],
    i: usize,
    structure: impl Fn(&[u8; 64]) -> (u64, u64, u64, u64),
    mut h: H,
    add: impl Fn(&mut H, &[u8; 64], usize),
    finish: impl FnOnce(H, usize) -> u128,
) -> Result<(usize, u128)> {
    let start = i + 1;
    let mut j = start;
    let mut carry = 0u64;
    let mut tail = [b' '; 64];
    while j < b.len() {
        let block = block_at(b, j, &mut tail);
        let (quotes, backslashes, _, _) = structure(block);
        let ends = quotes & !escaped_by(backslashes, &mut carry);
        if ends != 0 {
            let n = ends.trailing_zeros() as usize;
            let len = j + n - start;
            if len < 64 {
                // Short strings are not keyed by the stripes (see `bytes_key`).
                return Ok((j + n + 1, seeded_xxh3(&b[start..j + n])));
            }
            add(&mut h, block, n);
            return Ok((j + n + 1, finish(h, len)));
        }
        add(&mut h, block, 64);
        j += 64;
    }
    err(i, "unterminated string")
}

/// A 128-bit key of any bytes, for tables keyed by content within one
/// process: what [`Value::key`] gives a string (of its raw bytes) and
/// [`skip_string_keyed`] takes. Seeded per process, so keys from the dump are
/// no easier to make collide (and keys are never to be written out). With AVX2
/// or AVX-512, from 64 bytes up, the stripes hash of the 64-byte blocks and the
/// rest (an empty rest included), about twice as fast as xxh3; else seeded xxh3.
pub fn bytes_key(raw: &[u8]) -> u128 {
    #[cfg(target_arch = "x86_64")]
    if raw.len() >= 64 {
        match keys() {
            // SAFETY: the CPU has AVX-512BW (and carry-less multiplication).
            #[allow(unsafe_code)]
            Keys::Avx512 => return unsafe { bytes_key_avx512(raw) },
            // SAFETY: the CPU has AVX2 (and carry-less multiplication).
            #[allow(unsafe_code)]
            Keys::Avx2 => return unsafe { bytes_key_avx2(raw) },
            Keys::Apart => {}
        }
    }
    seeded_xxh3(raw)
}

/// The stripes hash `h` of `raw`: its 64-byte blocks, then the rest (an empty
/// rest included), zero-padded.
#[inline(always)]
fn bytes_key_with<H>(
    raw: &[u8],
    mut h: H,
    add: impl Fn(&mut H, &[u8; 64], usize),
    finish: impl FnOnce(H, usize) -> u128,
) -> u128 {
    let mut blocks = raw.chunks_exact(64);
    for block in &mut blocks {
        add(&mut h, block.try_into().unwrap_or(&[0; 64]), 64);
    }
    let mut last = [0u8; 64];
    last[..blocks.remainder().len()].copy_from_slice(blocks.remainder());
    add(&mut h, &last, blocks.remainder().len());
    finish(h, raw.len())
}

/// The characters of a 64-byte block that a backslash escapes, given the
/// backslash mask; `carry` says whether the block's first byte is escaped (a run
/// of odd length ended the previous block) and is set for the next block.
#[inline]
fn escaped_by(backslashes: u64, carry: &mut u64) -> u64 {
    const ODD: u64 = 0xAAAA_AAAA_AAAA_AAAA;
    // A backslash that is itself escaped starts nothing.
    let potential = backslashes & !*carry;
    // Runs that start on an even bit end (past their last backslash) on an even
    // bit when their length is even: the subtraction's borrow marks each run's
    // end, and XOR with the odd bits tells the parities apart.
    let code = ((potential << 1 | ODD).wrapping_sub(potential)) ^ ODD;
    let escaped = code ^ (backslashes | *carry);
    *carry = (code & backslashes) >> 63;
    escaped
}

/// With `b[i]` opening an object or array, returns the index just past its close.
/// Bracket kinds are checked to a depth of 64; deeper, only the count is kept.
///
/// A walker descends level by level and each level skips its values whole, so
/// the bytes of a message are skipped once per enclosing level. Hence 64 bytes
/// at a time: quote, backslash and bracket masks; the escaped quotes removed
/// (as in [`skip_string`]); the string interiors from a prefix XOR of the
/// quotes; and only the brackets outside strings visited one by one. At the end
/// of the input without a close, or at a backslash outside strings,
/// [`skip_container_bytes`] gives the answer.
fn skip_container(b: &[u8], i: usize) -> Result<usize> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512bw") && std::arch::is_x86_feature_detected!("pclmulqdq") {
        // SAFETY: the CPU has AVX-512BW and carry-less multiplication.
        #[allow(unsafe_code)]
        return unsafe { skip_container_avx512(b, i) };
    }
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("pclmulqdq") {
        // SAFETY: the CPU has AVX2 and carry-less multiplication.
        #[allow(unsafe_code)]
        return unsafe { skip_container_avx2(b, i) };
    }
    skip_container_with(b, i, structure, prefix_xor)
}

/// [`skip_container`] with the masks made by AVX2, two 32-byte halves, and
/// the prefix XOR by one carry-less multiplication (by all ones).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,pclmulqdq")]
fn skip_container_avx2(b: &[u8], i: usize) -> Result<usize> {
    skip_container_with(b, i, |block| structure_avx2(block), |x| prefix_xor_clmul(x))
}

/// [`prefix_xor`] by one carry-less multiplication (by all ones).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "pclmulqdq")]
#[inline]
fn prefix_xor_clmul(x: u64) -> u64 {
    use std::arch::x86_64::{_mm_clmulepi64_si128, _mm_cvtsi128_si64, _mm_set_epi64x, _mm_set1_epi8};
    _mm_cvtsi128_si64(_mm_clmulepi64_si128::<0>(_mm_set_epi64x(0, x as i64), _mm_set1_epi8(-1))) as u64
}

/// [`skip_container`] with the masks made by AVX-512BW: one 64-byte load, each
/// comparison straight to a 64-bit mask.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512bw,pclmulqdq")]
fn skip_container_avx512(b: &[u8], i: usize) -> Result<usize> {
    skip_container_with(b, i, |block| structure_avx512(block), |x| prefix_xor_clmul(x))
}

/// As [`structure`], with AVX-512BW.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx512bw")]
#[inline]
fn structure_avx512(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::{_mm512_cmpeq_epi8_mask, _mm512_loadu_si512, _mm512_or_si512, _mm512_set1_epi8};
    // SAFETY: the unaligned load reads the 64-byte array.
    let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
    let folded = _mm512_or_si512(v, _mm512_set1_epi8(0x20));
    (
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'"' as i8)),
        _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(b'\\' as i8)),
        _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'{' as i8)),
        _mm512_cmpeq_epi8_mask(folded, _mm512_set1_epi8(b'}' as i8)),
    )
}

/// The 64 bytes of `b` from `j` (which must be inside `b`), read in place; or,
/// for the last block, its bytes copied to `tail` (filled with spaces, which
/// neither end a string nor open a container).
#[inline(always)]
fn block_at<'t>(b: &'t [u8], j: usize, tail: &'t mut [u8; 64]) -> &'t [u8; 64] {
    match b.get(j..j + 64).and_then(|full| <&[u8; 64]>::try_from(full).ok()) {
        Some(full) => full,
        None => {
            tail[..b.len() - j].copy_from_slice(&b[j..]);
            tail
        }
    }
}

/// The loop of [`skip_container`], over the masks `structure` makes, handing
/// each block read to `each` with how many of its bytes are the container's.
/// `None` when only the byte reader can tell (no close before the end, a
/// backslash outside strings).
#[inline(always)]
fn skip_blocks(
    b: &[u8],
    i: usize,
    structure: impl Fn(&[u8; 64]) -> (u64, u64, u64, u64),
    prefix_xor: impl Fn(u64) -> u64,
    mut each: impl FnMut(&[u8; 64], usize),
) -> Option<Result<usize>> {
    let mut depth: usize = 0;
    // Bit d of `kinds` is 1 when level d is an array.
    let mut kinds: u64 = 0;
    // Whether the block's first byte is escaped; all ones when it is inside a string.
    let (mut carry, mut inside) = (0u64, 0u64);
    let mut j = i;
    // The last block, padded with spaces; the others read in place. Made once:
    // filled in the loop, it cost 7% of the skip.
    let mut tail = [b' '; 64];
    while j < b.len() {
        let block = block_at(b, j, &mut tail);
        let (quotes, backslashes, opens, closes) = structure(block);
        let escaped = escaped_by(backslashes, &mut carry);
        let strings = prefix_xor(quotes & !escaped) ^ inside;
        inside = ((strings as i64) >> 63) as u64;
        // A backslash outside strings: not JSON, and from there on the masks
        // no longer read the bytes as the byte reader does. Brackets before it
        // still count: a container that closes first is the same container
        // whatever follows it (and gets the same key).
        let stray = backslashes & !strings;
        let mut brackets = (opens | closes) & !strings;
        if stray != 0 {
            brackets &= (stray & stray.wrapping_neg()) - 1;
        }
        while brackets != 0 {
            let at = j + brackets.trailing_zeros() as usize;
            brackets &= brackets - 1;
            match bracket(b[at], at, &mut depth, &mut kinds) {
                Ok(None) => {}
                Ok(Some(end)) => {
                    each(block, end - j);
                    return Some(Ok(end));
                }
                Err(e) => return Some(Err(e)),
            }
        }
        if stray != 0 {
            return None;
        }
        each(block, 64);
        j += 64;
    }
    None
}

/// [`skip_blocks`] for a plain skip.
#[inline(always)]
fn skip_container_with(
    b: &[u8],
    i: usize,
    structure: impl Fn(&[u8; 64]) -> (u64, u64, u64, u64),
    prefix_xor: impl Fn(u64) -> u64,
) -> Result<usize> {
    skip_blocks(b, i, structure, prefix_xor, |_, _| {}).unwrap_or_else(|| skip_container_bytes(b, i))
}

/// With `b[i]` opening an object or array, returns the index just past its
/// close and a 128-bit hash of its bytes (equal for equal bytes within one
/// process; which hash depends on the CPU). With AVX2 or AVX-512 the hash is
/// taken by the skip's own loop ([`crate::stripes`]): one pass, not two.
pub(crate) fn skip_container_keyed(b: &[u8], i: usize) -> Result<(usize, u128)> {
    #[cfg(target_arch = "x86_64")]
    match keys() {
        // SAFETY: the CPU has AVX-512BW and carry-less multiplication.
        #[allow(unsafe_code)]
        Keys::Avx512 => return unsafe { skip_container_keyed_avx512(b, i) },
        // SAFETY: the CPU has AVX2 and carry-less multiplication.
        #[allow(unsafe_code)]
        Keys::Avx2 => return unsafe { skip_container_keyed_avx2(b, i) },
        Keys::Apart => {}
    }
    let end = skip_container(b, i)?;
    Ok((end, seeded_xxh3(&b[i..end])))
}

/// xxh3 with the process's seed: keys of what the block hash does not take
/// are no easier to make collide.
fn seeded_xxh3(bytes: &[u8]) -> u128 {
    #[cfg(target_arch = "x86_64")]
    let seed = crate::stripes::seed();
    #[cfg(not(target_arch = "x86_64"))]
    let seed = {
        use std::hash::{BuildHasher, Hasher};
        static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        *SEED.get_or_init(|| std::collections::hash_map::RandomState::new().build_hasher().finish())
    };
    xxhash_rust::xxh3::xxh3_128_with_seed(bytes, seed)
}

/// Whether the container skip takes keys in its own pass (AVX2 or AVX-512):
/// else a key costs a second pass over the bytes.
pub(crate) fn keys_are_free() -> bool {
    #[cfg(target_arch = "x86_64")]
    return keys() != Keys::Apart;
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// How the skips take keys on this CPU: by which backend of the stripes hash,
/// or apart (a second pass of xxh3). One process always takes the same way,
/// so equal bytes get equal keys.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keys {
    Avx512,
    Avx2,
    Apart,
}

/// The way this CPU takes keys ([`Keys`]).
#[cfg(target_arch = "x86_64")]
#[inline]
fn keys() -> Keys {
    use std::arch::is_x86_feature_detected as has;
    if !has!("pclmulqdq") {
        Keys::Apart
    } else if has!("avx512bw") {
        Keys::Avx512
    } else if has!("avx2") {
        Keys::Avx2
    } else {
        Keys::Apart
    }
}

/// The keyed skips and [`bytes_key`] of one backend of the stripes hash:
/// `$string` ([`skip_string_keyed`]), `$bytes` ([`bytes_key`]) and `$container`
/// ([`skip_container_keyed`]), built with `$feature` from its `Stripes` and
/// mask maker.
macro_rules! keyed_with {
    ($feature:literal, $stripes:path, $structure:ident, $string:ident, $bytes:ident, $container:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $string(b: &[u8], i: usize) -> Result<(usize, u128)> {
            let h = <$stripes>::new();
            skip_string_keyed_with(
                b,
                i,
                |block| $structure(block),
                h,
                |h, block, n| h.add(block, n),
                |h, len| h.finish(len),
            )
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $bytes(raw: &[u8]) -> u128 {
            let h = <$stripes>::new();
            bytes_key_with(raw, h, |h, block, n| h.add(block, n), |h, len| h.finish(len))
        }

        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = $feature)]
        fn $container(b: &[u8], i: usize) -> Result<(usize, u128)> {
            let mut h = <$stripes>::new();
            let skipped =
                skip_blocks(b, i, |block| $structure(block), |x| prefix_xor_clmul(x), |block, n| h.add(block, n));
            keyed_end(b, i, skipped, |len| h.finish(len))
        }
    };
}

keyed_with!(
    "avx512bw,pclmulqdq",
    crate::stripes::Stripes,
    structure_avx512,
    skip_string_keyed_avx512,
    bytes_key_avx512,
    skip_container_keyed_avx512
);
keyed_with!(
    "avx2,pclmulqdq",
    crate::stripes::Stripes2,
    structure_avx2,
    skip_string_keyed_avx2,
    bytes_key_avx2,
    skip_container_keyed_avx2
);

/// The end and key of a keyed container skip from what [`skip_blocks`] gave.
#[inline(always)]
fn keyed_end(
    b: &[u8],
    i: usize,
    skipped: Option<Result<usize>>,
    finish: impl FnOnce(usize) -> u128,
) -> Result<(usize, u128)> {
    match skipped {
        Some(Ok(end)) => Ok((end, finish(end - i))),
        Some(Err(e)) => Err(e),
        // Content decides this path, so equal bytes still get equal keys.
        None => {
            let end = skip_container_bytes(b, i)?;
            Ok((end, seeded_xxh3(&b[i..end])))
        }
    }
}

/// Bit k set where bits 0..=k of `x` hold an odd number of ones: with `x` the
/// unescaped quotes, the bytes from an opening quote up to its closing one.
#[inline]
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The quote, backslash, opening-bracket and closing-bracket masks of a
/// 64-byte block (bit k: byte k). `{` and `[` differ by 0x20 only, as do `}`
/// and `]`: one comparison each after setting that bit.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
fn structure(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let (mut quotes, mut backslashes, mut opens, mut closes) = (0u64, 0u64, 0u64, 0u64);
    // SAFETY: SSE2 is part of every x86_64 target; each unaligned 16-byte load
    // reads inside the 64-byte array.
    unsafe {
        let (q, s) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8));
        let (o, c, bit) = (_mm_set1_epi8(b'{' as i8), _mm_set1_epi8(b'}' as i8), _mm_set1_epi8(0x20));
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast::<__m128i>());
            let folded = _mm_or_si128(v, bit);
            let mask = |x| u64::from(_mm_movemask_epi8(x) as u16) << (16 * k);
            quotes |= mask(_mm_cmpeq_epi8(v, q));
            backslashes |= mask(_mm_cmpeq_epi8(v, s));
            opens |= mask(_mm_cmpeq_epi8(folded, o));
            closes |= mask(_mm_cmpeq_epi8(folded, c));
        }
    }
    (quotes, backslashes, opens, closes)
}

/// As [`structure`], with AVX2.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[target_feature(enable = "avx2")]
#[inline]
fn structure_avx2(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };
    let (q, s) = (_mm256_set1_epi8(b'"' as i8), _mm256_set1_epi8(b'\\' as i8));
    let (o, c, bit) = (_mm256_set1_epi8(b'{' as i8), _mm256_set1_epi8(b'}' as i8), _mm256_set1_epi8(0x20));
    let (mut quotes, mut backslashes, mut opens, mut closes) = (0u64, 0u64, 0u64, 0u64);
    for k in 0..2 {
        // SAFETY: each unaligned 32-byte load reads inside the 64-byte array.
        let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(32 * k).cast::<__m256i>()) };
        let folded = _mm256_or_si256(v, bit);
        let mask = |x| u64::from(_mm256_movemask_epi8(x) as u32) << (32 * k);
        quotes |= mask(_mm256_cmpeq_epi8(v, q));
        backslashes |= mask(_mm256_cmpeq_epi8(v, s));
        opens |= mask(_mm256_cmpeq_epi8(folded, o));
        closes |= mask(_mm256_cmpeq_epi8(folded, c));
    }
    (quotes, backslashes, opens, closes)
}

/// The quote, backslash, opening-bracket and closing-bracket masks of a
/// 64-byte block (bit k: byte k).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn structure(block: &[u8; 64]) -> (u64, u64, u64, u64) {
    let (mut quotes, mut backslashes, mut opens, mut closes) = (0u64, 0u64, 0u64, 0u64);
    for (k, &c) in block.iter().enumerate() {
        quotes |= u64::from(c == b'"') << k;
        backslashes |= u64::from(c == b'\\') << k;
        opens |= u64::from(c | 0x20 == b'{') << k;
        closes |= u64::from(c | 0x20 == b'}') << k;
    }
    (quotes, backslashes, opens, closes)
}

/// One bracket at `at` of a container being skipped: `depth` and `kinds`
/// (bit d set when level d is an array, kept to a depth of 64) follow it.
/// Returns the index past the container when this bracket closes it.
#[inline]
fn bracket(c: u8, at: usize, depth: &mut usize, kinds: &mut u64) -> Result<Option<usize>> {
    if c == b'{' || c == b'[' {
        if *depth < 64 {
            let bit = 1u64 << *depth;
            if c == b'[' {
                *kinds |= bit;
            } else {
                *kinds &= !bit;
            }
        }
        *depth += 1;
        return Ok(None);
    }
    if *depth == 0 {
        return err(at, "unbalanced bracket");
    }
    *depth -= 1;
    if *depth < 64 && (*kinds & (1u64 << *depth) != 0) != (c == b']') {
        return err(at, "mismatched bracket");
    }
    Ok((*depth == 0).then_some(at + 1))
}

/// [`skip_container`] byte by byte: the reference it is tested against, and
/// what names the error when a container does not close.
fn skip_container_bytes(b: &[u8], i: usize) -> Result<usize> {
    let mut depth: usize = 0;
    // Bit d of `kinds` is 1 when level d is an array.
    let mut kinds: u64 = 0;
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'"' => {
                j = skip_string(b, j)?;
                continue;
            }
            c @ (b'{' | b'[' | b'}' | b']') => {
                if let Some(end) = bracket(c, j, &mut depth, &mut kinds)? {
                    return Ok(end);
                }
            }
            _ => {}
        }
        j += 1;
    }
    err(i, "unterminated object or array")
}

/// Scans the value that starts at `b[i]` (no leading white space) and returns it
/// with the index just past it.
pub(crate) fn scan_value(b: &[u8], i: usize) -> Result<(Value<'_>, usize)> {
    let Some(&c) = b.get(i) else {
        return err(i, "value expected, found end");
    };
    match c {
        b'"' => {
            let end = skip_string(b, i)?;
            Ok((Value::new(Kind::String, &b[i + 1..end - 1]), end))
        }
        b'{' => {
            let end = skip_container(b, i)?;
            Ok((Value::new(Kind::Object, &b[i..end]), end))
        }
        b'[' => {
            let end = skip_container(b, i)?;
            Ok((Value::new(Kind::Array, &b[i..end]), end))
        }
        b't' if b[i..].starts_with(b"true") => Ok((Value::new(Kind::Bool, &b[i..i + 4]), i + 4)),
        b'f' if b[i..].starts_with(b"false") => Ok((Value::new(Kind::Bool, &b[i..i + 5]), i + 5)),
        b'n' if b[i..].starts_with(b"null") => Ok((Value::new(Kind::Null, &b[i..i + 4]), i + 4)),
        b'-' | b'0'..=b'9' => {
            let mut j = i + 1;
            while j < b.len() && matches!(b[j], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                j += 1;
            }
            Ok((Value::new(Kind::Number, &b[i..j]), j))
        }
        _ => err(i, "unexpected byte where a value should start"),
    }
}

/// Iterates the members of the object `obj` (which must start with `{`), calling
/// `f(key, value)` with the key's raw (escaped) bytes. Returns the index just past
/// the closing brace.
pub(crate) fn for_each_member<'a>(
    obj: &'a [u8],
    start: usize,
    mut f: impl FnMut(&'a [u8], Value<'a>),
) -> Result<usize> {
    members_with(obj, start, |b, i| scan_value(b, i).map(|(v, end)| (v, end, ())), |k, v, ()| f(k, v))
}

/// As [`for_each_member`], with each object or array member's
/// [`content_key`] taken by the pass that skips it, where the skip takes keys
/// for free ([`keys_are_free`]); elsewhere no key (a caller computes it only
/// for the values it needs).
pub(crate) fn for_each_member_keyed<'a>(
    obj: &'a [u8],
    start: usize,
    f: impl FnMut(&'a [u8], Value<'a>, Option<u128>),
) -> Result<usize> {
    let free = keys_are_free();
    let scan = |b: &'a [u8], i: usize| match b.get(i) {
        Some(&c @ (b'{' | b'[')) if free => {
            let (end, key) = skip_container_keyed(b, i)?;
            Ok((Value::new(if c == b'{' { Kind::Object } else { Kind::Array }, &b[i..end]), end, Some(key)))
        }
        _ => scan_value(b, i).map(|(v, end)| (v, end, None)),
    };
    members_with(obj, start, scan, f)
}

/// The loop of [`for_each_member`], each value scanned by `scan`.
#[inline(always)]
fn members_with<'a, K>(
    b: &'a [u8],
    start: usize,
    scan: impl Fn(&'a [u8], usize) -> Result<(Value<'a>, usize, K)>,
    mut f: impl FnMut(&'a [u8], Value<'a>, K),
) -> Result<usize> {
    if b.get(start) != Some(&b'{') {
        return err(start, "object expected");
    }
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b'}') {
        return Ok(i + 1);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return err(i, "object key expected");
        }
        let key_end = skip_string(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return err(i, "':' expected after object key");
        }
        i = skip_ws(b, i + 1);
        let (value, end, k) = scan(b, i)?;
        f(key, value, k);
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok(i + 1),
            Some(_) => return err(i, "',' or '}' expected in object"),
            None => return err(i, "unterminated object"),
        }
    }
}

/// A 128-bit key of a value's bytes: equal bytes, equal key, within one
/// process (the hash's secret is drawn per process and which hash depends on
/// the CPU, so keys are never stored or compared across runs). Objects and
/// arrays are keyed as [`Cursor::container_keyed`] and the record parser key
/// them (see [`crate::Record::payload_key`]); other values by seeded xxh3.
pub fn content_key(v: Value<'_>) -> u128 {
    if matches!(v.kind(), Kind::Object | Kind::Array)
        && let Ok((end, key)) = skip_container_keyed(v.raw(), 0)
        && end == v.raw().len()
    {
        return key;
    }
    seeded_xxh3(v.raw())
}

/// Iterates the elements of the array `arr` (which must start with `[` at `start`).
pub(crate) fn for_each_element<'a>(arr: &'a [u8], start: usize, f: impl FnMut(Value<'a>, usize)) -> Result<usize> {
    for_each_element_with(arr, start, |b, i| scan_value(b, i).map(|(v, end)| (v, end, i)), f)
}

/// As [`for_each_element`], each element scanned by `scan`, which gives the
/// value, the index just past it, and what else it read on the way (so that
/// the members a caller wants are read in the pass that skips the element).
pub(crate) fn for_each_element_with<'a, K>(
    arr: &'a [u8],
    start: usize,
    mut scan: impl FnMut(&'a [u8], usize) -> Result<(Value<'a>, usize, K)>,
    mut f: impl FnMut(Value<'a>, K),
) -> Result<usize> {
    let b = arr;
    if b.get(start) != Some(&b'[') {
        return err(start, "array expected");
    }
    let mut i = skip_ws(b, start + 1);
    if b.get(i) == Some(&b']') {
        return Ok(i + 1);
    }
    loop {
        let (value, end, read) = scan(b, i)?;
        f(value, read);
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b']') => return Ok(i + 1),
            Some(_) => return err(i, "',' or ']' expected in array"),
            None => return err(i, "unterminated array"),
        }
    }
}

/// Looks up `key` among an object's members (first match wins). Broken objects
/// give `None`.
pub(crate) fn get<'a>(obj: Value<'a>, key: &[u8]) -> Option<Value<'a>> {
    let [found] = get_each(obj, [key])?;
    found
}

/// Looks up several keys in one pass, as [`get`] looks up each: `None` for a
/// broken object (or another kind), else each key's first match. Each `get`
/// reads the whole object (a broken one has no members), so asking for three
/// members of an event one by one read it three times.
pub(crate) fn get_each<'a, const N: usize>(obj: Value<'a>, keys: [&[u8]; N]) -> Option<[Option<Value<'a>>; N]> {
    if obj.kind != Kind::Object {
        return None;
    }
    members_named(obj.raw, 0, keys).ok().map(|(found, _)| found)
}

/// The members named `keys` (first match each) of the object at `b[start]`,
/// and the index just past it; an error where the object breaks.
pub(crate) fn members_named<'a, const N: usize>(
    b: &'a [u8],
    start: usize,
    keys: [&[u8]; N],
) -> Result<([Option<Value<'a>>; N], usize)> {
    let mut found = [None; N];
    let end = for_each_member(b, start, |k, v| {
        if let Some(n) = keys.iter().position(|&key| key == k)
            && found[n].is_none()
        {
            found[n] = Some(v);
        }
    })?;
    Ok((found, end))
}

/// `bytes` as text, each invalid UTF-8 sequence replaced by U+FFFD as
/// `String::from_utf8_lossy` does, but checked by the fast validator between
/// them: dumps hold stray bytes (and a window may cut a character in two),
/// and the standard library's lossy walk is several times slower than its
/// validator (it took an eighth of `leakledger gate`'s time).
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    // The common case, valid text, checked with SIMD (the standard library's
    // check was 7% of `gate`); the standard one only finds where text breaks.
    let mut rest = match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => return std::borrow::Cow::Borrowed(text),
        Err(_) => bytes,
    };
    let mut out = String::with_capacity(bytes.len() + 16);
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                return std::borrow::Cow::Owned(out);
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push(char::REPLACEMENT_CHARACTER);
                match e.error_len() {
                    Some(n) => rest = &after[n..],
                    None => return std::borrow::Cow::Owned(out),
                }
            }
        }
    }
}

/// Decodes a JSON string's inside. Borrowed when it has no escape.
pub(crate) fn unescape(raw: &[u8]) -> Cow<'_, str> {
    if memchr(b'\\', raw).is_none() {
        return lossy(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    unescape_into(raw, &mut out);
    // Checked with SIMD ([`lossy`]): the standard library's check was 2% of a
    // scan of code.
    if simdutf8::basic::from_utf8(&out).is_err() {
        return Cow::Owned(lossy(&out).into_owned());
    }
    // SAFETY: `out` was just checked to be UTF-8.
    #[allow(unsafe_code)]
    let text = unsafe { String::from_utf8_unchecked(out) };
    Cow::Owned(text)
}

const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();

fn hex4(b: &[u8]) -> Option<u16> {
    if b.len() < 4 {
        return None;
    }
    let mut v: u16 = 0;
    for &c in &b[..4] {
        let d = (c as char).to_digit(16)? as u16;
        v = (v << 4) | d;
    }
    Some(v)
}

/// Decodes JSON escapes in `raw`, appending to `out`. Bytes that are not escapes,
/// valid UTF-8 or not, are copied as they are. Returns false when an escape was
/// invalid (replaced by U+FFFD).
///
/// The text between escapes is copied 16 bytes at a time, each block checked
/// for a backslash with one comparison: code inside JSON inside JSON has an
/// escape every few bytes, where a `memchr` call and a copy call per escape
/// cost more than the bytes.
///
/// With AVX-512 (VBMI2) or AVX2, 64-byte blocks whose escapes are all
/// one-character ones (`\n`, `\"`, `\\`...) are decoded whole: the escaped
/// characters translated by tables, the backslashes that start them dropped
/// by one compress (AVX-512) or by shuffles 8 bytes at a time (AVX2). A block
/// with a `\u` or a bad escape goes to the byte reader, one escape at a time.
pub(crate) fn unescape_into(raw: &[u8], out: &mut Vec<u8>) -> bool {
    #[cfg(target_arch = "x86_64")]
    let wide = {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512bw") && has!("avx512vbmi") && has!("avx512vbmi2") {
            Wide::Avx512
        } else if has!("avx2") && has!("popcnt") {
            Wide::Avx2
        } else {
            Wide::No
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let wide = Wide::No;
    unescape_into_with(raw, out, wide)
}

/// Which blocks [`unescape_into`] decodes 64 bytes at a time with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wide {
    /// None: 16-byte copies between escapes.
    No,
    /// [`unescape_blocks_avx2`].
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// [`unescape_blocks_avx512`].
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

/// [`unescape_into`], with the wide blocks the CPU has or without (the tests
/// run every way the CPU can).
fn unescape_into_with(raw: &[u8], out: &mut Vec<u8>, wide: Wide) -> bool {
    let mut ok = true;
    let mut i = 0;
    // Where the wide blocks may be tried again: past the block that stopped
    // them, so that text dense with `\u` escapes does not retry one block per
    // escape.
    let mut wide_from = 0;
    out.reserve(raw.len() + 16);
    while i < raw.len() {
        #[cfg(target_arch = "x86_64")]
        if wide != Wide::No && i >= wide_from {
            // SAFETY: `wide` says the CPU has the features.
            #[allow(unsafe_code)]
            {
                i = match wide {
                    Wide::Avx512 => unsafe { unescape_blocks_avx512(raw, i, out) },
                    _ => unsafe { unescape_blocks_avx2(raw, i, out) },
                };
            }
            if i >= raw.len() {
                break;
            }
            wide_from = i + 64;
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (wide, &mut wide_from);
        while let Some(block) = raw.get(i..i + 16) {
            let block: &[u8; 16] = block.try_into().unwrap_or(&[0; 16]);
            let at = backslash_in(block);
            // The whole block, then the part past the backslash dropped: a
            // copy of fixed size is two moves, one of `at` bytes a call.
            let len = out.len();
            out.extend_from_slice(block);
            out.truncate(len + at);
            i += at;
            if at < 16 {
                break;
            }
        }
        if raw.get(i) != Some(&b'\\') {
            // Fewer than 16 bytes left.
            let Some(k) = memchr(b'\\', &raw[i..]) else {
                out.extend_from_slice(&raw[i..]);
                break;
            };
            out.extend_from_slice(&raw[i..i + k]);
            i += k;
        }
        let Some(&e) = raw.get(i + 1) else {
            out.extend_from_slice(REPLACEMENT);
            ok = false;
            break;
        };
        i += 2;
        // A table, not a match: the escapes of code come in no order a branch
        // predictor learns, and a jump per escape missed most of the time.
        let simple = SIMPLE_ESCAPES[usize::from(e)];
        if simple != 0 {
            out.push(simple);
            continue;
        }
        if e != b'u' {
            out.extend_from_slice(REPLACEMENT);
            ok = false;
            continue;
        }
        let Some(hi) = hex4(&raw[i..]) else {
            out.extend_from_slice(REPLACEMENT);
            ok = false;
            continue;
        };
        i += 4;
        let ch = if (0xD800..0xDC00).contains(&hi) {
            // A high surrogate must be followed by `\u` and a low surrogate.
            let lo = if raw[i..].starts_with(b"\\u") { hex4(&raw[i + 2..]) } else { None };
            match lo {
                Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                    i += 6;
                    let c = 0x10000 + (((hi as u32) - 0xD800) << 10) + ((lo as u32) - 0xDC00);
                    char::from_u32(c)
                }
                _ => None,
            }
        } else {
            char::from_u32(hi as u32)
        };
        match ch {
            Some(c) => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            None => {
                out.extend_from_slice(REPLACEMENT);
                ok = false;
            }
        }
    }
    ok
}

/// What each one-character escape (`\n`, `\"`...) stands for; 0 for the others.
const SIMPLE_ESCAPES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t[b'/' as usize] = b'/';
    t[b'b' as usize] = 0x08;
    t[b'f' as usize] = 0x0c;
    t[b'n' as usize] = b'\n';
    t[b'r' as usize] = b'\r';
    t[b't' as usize] = b'\t';
    t
};

/// The backslashes of a 64-byte block (not starting inside an escape) that
/// start an escape, and how many of the block's bytes to decode: 63 when its
/// last byte starts one (the escape is left to the next block), else 64.
#[inline]
fn escape_starts(backslashes: u64) -> (u64, usize) {
    let mut carry = 0;
    let starts = backslashes & !escaped_by(backslashes, &mut carry);
    if starts >> 63 != 0 { (starts & !(1 << 63), 63) } else { (starts, 64) }
}

/// Decodes `raw` from `i` (not inside an escape) in 64-byte blocks while each
/// block's escapes are one-character ones; returns where it stopped: at a block
/// holding another escape, or with fewer than 64 bytes left. An escape that a
/// block's last byte starts is left to the next block.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2")]
#[allow(unsafe_code)]
fn unescape_blocks_avx512(raw: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    use std::arch::x86_64::{
        _mm512_cmpeq_epi8_mask, _mm512_cmpneq_epi8_mask, _mm512_loadu_si512, _mm512_mask_blend_epi8,
        _mm512_maskz_compress_epi8, _mm512_movepi8_mask, _mm512_permutex2var_epi8, _mm512_set1_epi8,
        _mm512_setzero_si512, _mm512_storeu_si512,
    };
    // SAFETY: both loads read inside the 256-byte table.
    let (low, high) = unsafe {
        (_mm512_loadu_si512(SIMPLE_ESCAPES.as_ptr().cast()), _mm512_loadu_si512(SIMPLE_ESCAPES.as_ptr().add(64).cast()))
    };
    let backslash = _mm512_set1_epi8(b'\\' as i8);
    while let Some(block) = raw.get(i..i + 64) {
        // SAFETY: the load reads the 64 bytes of `block`.
        let v = unsafe { _mm512_loadu_si512(block.as_ptr().cast()) };
        let backslashes = _mm512_cmpeq_epi8_mask(v, backslash);
        // The backslashes that start an escape, and the characters they escape.
        let (starts, take) = escape_starts(backslashes);
        let escaped = starts << 1;
        // The table by the low seven bits; bytes of 0x80 and up are no escape.
        let decoded = _mm512_permutex2var_epi8(low, v, high);
        let simple = _mm512_cmpneq_epi8_mask(decoded, _mm512_setzero_si512()) & !_mm512_movepi8_mask(v);
        if escaped & !simple != 0 {
            break;
        }
        let keep = !starts & (u64::MAX >> (64 - take));
        let packed = _mm512_maskz_compress_epi8(keep, _mm512_mask_blend_epi8(escaped, v, decoded));
        out.reserve(64);
        let len = out.len();
        // SAFETY: `reserve` made room for 64 bytes past `len`; the store writes
        // them and the first `keep.count_ones()` of them are the decoded bytes.
        unsafe {
            _mm512_storeu_si512(out.as_mut_ptr().add(len).cast(), packed);
            out.set_len(len + keep.count_ones() as usize);
        }
        i += take;
    }
    i
}

/// [`unescape_blocks_avx512`] with AVX2, which has no byte compress. The
/// escaped characters are checked and translated by three 16-entry tables,
/// indexed by bits 1..=4 of the byte (`"`, `\`, `/`, `b`, `f`, `n`, `r` and `t`
/// fall in distinct entries of the two kinds); the backslashes that start
/// escapes are dropped 8 bytes at a time, each 8 by a shuffle from [`PACK`].
/// Every block costs the same, however dense its escapes (JSON logged inside
/// strings has one every few bytes).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,popcnt")]
#[allow(unsafe_code)]
fn unescape_blocks_avx2(raw: &[u8], mut i: usize, out: &mut Vec<u8>) -> usize {
    use std::arch::x86_64::{
        __m128i, __m256i, _mm_set_epi64x, _mm_shuffle_epi8, _mm_storel_epi64, _mm_unpackhi_epi64, _mm256_and_si256,
        _mm256_blendv_epi8, _mm256_broadcastsi128_si256, _mm256_castsi256_si128, _mm256_cmpeq_epi8,
        _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
        _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_setr_epi8, _mm256_shuffle_epi8, _mm256_srli_epi16,
        _mm256_storeu_si256,
    };
    // SAFETY: each load reads a 16-byte table.
    let table =
        |t: &[u8; 16]| _mm256_broadcastsi128_si256(unsafe { std::arch::x86_64::_mm_loadu_si128(t.as_ptr().cast()) });
    let (letters, marks, controls) = (table(&ESCAPE_LETTERS), table(&ESCAPE_MARKS), table(&ESCAPE_CONTROLS));
    let (backslash, low4) = (_mm256_set1_epi8(b'\\' as i8), _mm256_set1_epi8(0x0F));
    // Byte k of a lane takes byte k / 8 of the lane's half of a 32-bit mask.
    let spread = _mm256_setr_epi8(
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
    );
    let bits = _mm256_set1_epi64x(0x8040_2010_0804_0201_u64 as i64);
    // A 32-bit mask as 32 bytes of all ones or zeros.
    let expand = |m: u32| {
        let sel = _mm256_and_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(m as i32), spread), bits);
        _mm256_cmpeq_epi8(sel, bits)
    };
    while let Some(block) = raw.get(i..i + 64) {
        // SAFETY: the loads read the 64 bytes of `block`.
        let v: [__m256i; 2] =
            unsafe { [_mm256_loadu_si256(block.as_ptr().cast()), _mm256_loadu_si256(block.as_ptr().add(32).cast())] };
        let half = |x: __m256i| _mm256_movemask_epi8(x) as u32;
        let backslashes = u64::from(half(_mm256_cmpeq_epi8(v[0], backslash)))
            | u64::from(half(_mm256_cmpeq_epi8(v[1], backslash))) << 32;
        // Stores of up to 32 bytes from at most 64 − 8 past the length.
        out.reserve(96);
        let mut len = out.len();
        let to = out.as_mut_ptr();
        if backslashes == 0 {
            // SAFETY: `reserve` made room for 96 bytes past `len`.
            unsafe {
                _mm256_storeu_si256(to.add(len).cast(), v[0]);
                _mm256_storeu_si256(to.add(len + 32).cast(), v[1]);
                out.set_len(len + 64);
            }
            i += 64;
            continue;
        }
        // The backslashes that start an escape, and the characters they escape.
        let (starts, take) = escape_starts(backslashes);
        let escaped = starts << 1;
        let mut valid = 0u64;
        let mut decoded = v;
        for (k, d) in decoded.iter_mut().enumerate() {
            let at = _mm256_and_si256(_mm256_srli_epi16::<1>(*d), low4);
            let letter = _mm256_cmpeq_epi8(*d, _mm256_shuffle_epi8(letters, at));
            let mark = _mm256_cmpeq_epi8(*d, _mm256_shuffle_epi8(marks, at));
            valid |= u64::from(half(_mm256_or_si256(letter, mark))) << (32 * k);
            let translate = _mm256_and_si256(letter, expand((escaped >> (32 * k)) as u32));
            *d = _mm256_blendv_epi8(*d, _mm256_shuffle_epi8(controls, at), translate);
        }
        if escaped & !valid != 0 {
            break;
        }
        let keep = !starts & (u64::MAX >> (64 - take));
        for q in 0..4 {
            let lane: __m128i = match q {
                0 => _mm256_castsi256_si128(decoded[0]),
                1 => _mm256_extracti128_si256::<1>(decoded[0]),
                2 => _mm256_castsi256_si128(decoded[1]),
                _ => _mm256_extracti128_si256::<1>(decoded[1]),
            };
            let (lo, hi) = ((keep >> (16 * q)) as u8, (keep >> (16 * q + 8)) as u8);
            // The high 8 bytes' indexes are 8 more (0x80, no byte, stays above).
            let order = _mm_set_epi64x(
                PACK[usize::from(hi)].wrapping_add(0x0808_0808_0808_0808) as i64,
                PACK[usize::from(lo)] as i64,
            );
            let packed = _mm_shuffle_epi8(lane, order);
            // SAFETY: `len` is at most 56 past where this block started, and
            // `reserve` made room for 96.
            unsafe {
                _mm_storel_epi64(to.add(len).cast(), packed);
                len += lo.count_ones() as usize;
                _mm_storel_epi64(to.add(len).cast(), _mm_unpackhi_epi64(packed, packed));
                len += hi.count_ones() as usize;
            }
        }
        // SAFETY: the bytes up to `len` were written above.
        unsafe { out.set_len(len) };
        i += take;
    }
    i
}

/// By bits 1..=4 of a byte (`(c >> 1) & 15`): the escape letter with those
/// bits (`b`, `f`, `n`, `r`, `t`), or a byte whose bits differ (so no byte
/// matches an entry that holds no letter).
#[cfg(target_arch = "x86_64")]
const ESCAPE_LETTERS: [u8; 16] = escape_table(&[(b'b', b'b'), (b'f', b'f'), (b'n', b'n'), (b'r', b'r'), (b't', b't')]);
/// As [`ESCAPE_LETTERS`], for the escaped characters that stand for
/// themselves (`"`, `\`, `/`).
#[cfg(target_arch = "x86_64")]
const ESCAPE_MARKS: [u8; 16] = escape_table(&[(b'"', b'"'), (b'\\', b'\\'), (b'/', b'/')]);
/// What each escape letter of [`ESCAPE_LETTERS`] stands for, at its entry.
#[cfg(target_arch = "x86_64")]
const ESCAPE_CONTROLS: [u8; 16] =
    escape_table(&[(b'b', 0x08), (b'f', 0x0c), (b'n', b'\n'), (b'r', b'\r'), (b't', b'\t')]);

/// A 16-entry table indexed by `(c >> 1) & 15`: each `(c, value)` at `c`'s
/// entry, the other entries a byte that does not index them (0xFF, or 0 for
/// entry 15, which 0xFF indexes).
#[cfg(target_arch = "x86_64")]
const fn escape_table(entries: &[(u8, u8)]) -> [u8; 16] {
    let mut t = [0xFFu8; 16];
    t[15] = 0;
    let mut k = 0;
    while k < entries.len() {
        t[((entries[k].0 >> 1) & 15) as usize] = entries[k].1;
        k += 1;
    }
    t
}

/// For each 8-bit mask, the shuffle that packs the bytes it keeps to the
/// front (indexes in order, then 0x80: no byte).
#[cfg(target_arch = "x86_64")]
static PACK: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut m = 0;
    while m < 256 {
        let mut order = [0x80u8; 8];
        let (mut bit, mut n) = (0, 0);
        while bit < 8 {
            if m >> bit & 1 == 1 {
                order[n] = bit as u8;
                n += 1;
            }
            bit += 1;
        }
        t[m] = u64::from_le_bytes(order);
        m += 1;
    }
    t
};

/// Index of the first backslash of a 16-byte block, 16 when there is none.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
fn backslash_in(block: &[u8; 16]) -> usize {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    // SAFETY: SSE2 is part of every x86_64 target; the unaligned load reads the
    // 16-byte array.
    let mask = unsafe {
        let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))) as u32
    };
    (mask | 1 << 16).trailing_zeros() as usize
}

/// Index of the first backslash of a 16-byte block, 16 when there is none.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn backslash_in(block: &[u8; 16]) -> usize {
    block.iter().position(|&c| c == b'\\').unwrap_or(16)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lossy_text_is_what_the_standard_library_makes() {
        let cases: [&[u8]; 7] = [
            b"plain ascii",
            "caf\u{e9} \u{1F600}".as_bytes(),
            b"stray \xff byte",
            b"\xf0\x9f\x98 cut emoji then text",
            b"ends cut \xe2\x82",
            b"\xc0\xaf overlong, \xed\xa0\x80 surrogate, \xf4\x90\x80\x80 too big",
            b"",
        ];
        for c in cases {
            assert_eq!(super::lossy(c), String::from_utf8_lossy(c), "{c:?}");
        }
    }

    /// The byte-by-byte answer: the index past the first quote no backslash
    /// escapes, after the opening quote at `i`.
    fn skip_string_reference(b: &[u8], i: usize) -> Option<usize> {
        let mut escape = false;
        for (j, &c) in b.iter().enumerate().skip(i + 1) {
            match c {
                _ if escape => escape = false,
                b'\\' => escape = true,
                b'"' => return Some(j + 1),
                _ => {}
            }
        }
        None
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(7), failure_persistence: None, ..Default::default() })]
        #[test]
        fn skip_container_agrees_with_the_byte_by_byte_reader(
            // Brackets of both kinds, quotes and backslash runs, across blocks.
            body in proptest::collection::vec(proptest::prop_oneof![
                3 => proptest::strategy::Just(b'"'), 4 => proptest::strategy::Just(b'\\'), 12 => proptest::strategy::Just(b'a'),
                3 => proptest::strategy::Just(b'{'), 3 => proptest::strategy::Just(b'}'), 3 => proptest::strategy::Just(b'['),
                3 => proptest::strategy::Just(b']'), 1 => proptest::strategy::Just(b'\n')], 0..600),
            at in 0usize..600,
            array in proptest::bool::ANY,
        ) {
            let mut b = body;
            let at = at.min(b.len());
            b.insert(at, if array { b'[' } else { b'{' });
            let expected = skip_container_bytes(&b, at);
            proptest::prop_assert_eq!(skip_container(&b, at), expected);
            // The keyed skip ends where the skip does, and its key is the
            // container's own: the same bytes elsewhere, the same key.
            let keyed = skip_container_keyed(&b, at);
            proptest::prop_assert_eq!(keyed.map(|(end, _)| end), expected);
            if let Ok((end, key)) = keyed {
                let mut moved = b"[\"x\",".to_vec();
                moved.extend_from_slice(&b[at..end]);
                moved.extend_from_slice(b"]}\"");
                proptest::prop_assert_eq!(skip_container_keyed(&moved, 5), Ok((5 + end - at, key)));
            }
            proptest::prop_assert_eq!(skip_container_with(&b, at, structure, prefix_xor), expected);
            // Each wide variant the CPU runs, not only the one chosen.
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            if std::arch::is_x86_feature_detected!("pclmulqdq") {
                if std::arch::is_x86_feature_detected!("avx2") {
                    // SAFETY: the CPU has AVX2 and carry-less multiplication.
                    proptest::prop_assert_eq!(unsafe { skip_container_avx2(&b, at) }, expected);
                }
                if std::arch::is_x86_feature_detected!("avx512bw") {
                    // SAFETY: the CPU has AVX-512BW and carry-less multiplication.
                    proptest::prop_assert_eq!(unsafe { skip_container_avx512(&b, at) }, expected);
                }
            }
        }

        #[test]
        fn skip_string_agrees_with_the_byte_by_byte_reader(
            // Quotes rare and backslash runs common: long strings whose runs
            // cross the 64-byte blocks.
            body in proptest::collection::vec(proptest::prop_oneof![1 => proptest::strategy::Just(b'"'), 12 => proptest::strategy::Just(b'\\'), 12 => proptest::strategy::Just(b'a'), 1 => proptest::strategy::Just(b'\n')], 0..400),
            at in 0usize..400,
        ) {
            let mut b = body;
            let at = at.min(b.len());
            b.insert(at, b'"');
            proptest::prop_assert_eq!(skip_string(&b, at).ok(), skip_string_reference(&b, at));
        }

        #[test]
        fn unescape_agrees_with_a_byte_by_byte_decoder(
            // Escapes of every kind, broken ones, and stretches long enough for
            // the 16-byte blocks, with stray bytes that are not UTF-8.
            body in proptest::collection::vec(proptest::prop_oneof![
                6 => proptest::strategy::Just(&b"\\"[..]), 20 => proptest::strategy::Just(&b"a"[..]),
                2 => proptest::strategy::Just(&b"n"[..]), 2 => proptest::strategy::Just(&b"u00e9"[..]),
                1 => proptest::strategy::Just(&b"ud83d"[..]), 1 => proptest::strategy::Just(&b"ude00"[..]),
                1 => proptest::strategy::Just(&b"\""[..]), 1 => proptest::strategy::Just(&b"\xff"[..]),
                1 => proptest::strategy::Just(&b"q"[..])], 0..300),
        ) {
            let raw: Vec<u8> = body.concat();
            let want = unescape_reference(&raw);
            let mut ways = vec![Wide::No];
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::is_x86_feature_detected as has;
                if has!("avx2") && has!("popcnt") {
                    ways.push(Wide::Avx2);
                }
                if has!("avx512f") && has!("avx512bw") && has!("avx512vbmi") && has!("avx512vbmi2") {
                    ways.push(Wide::Avx512);
                }
            }
            for wide in ways {
                let mut got = Vec::new();
                let ok = unescape_into_with(&raw, &mut got, wide);
                proptest::prop_assert_eq!(&(got, ok), &want, "wide: {:?}", wide);
            }
        }
    }

    /// JSON unescaping one byte at a time, as RFC 8259 §7 reads: what the
    /// block copy of `unescape_into` is held to. Bad escapes give U+FFFD.
    fn unescape_reference(raw: &[u8]) -> (Vec<u8>, bool) {
        let hex = |at: usize| {
            let h = raw.get(at..at + 4)?;
            u16::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok().filter(|_| h.iter().all(u8::is_ascii_hexdigit))
        };
        let (mut out, mut ok, mut i) = (Vec::new(), true, 0);
        let mut bad = |out: &mut Vec<u8>| {
            out.extend_from_slice("\u{FFFD}".as_bytes());
            ok = false;
        };
        while i < raw.len() {
            if raw[i] != b'\\' {
                out.push(raw[i]);
                i += 1;
                continue;
            }
            let e = raw.get(i + 1).copied();
            i += 2;
            let simple = [
                (b'"', b'"'),
                (b'\\', b'\\'),
                (b'/', b'/'),
                (b'b', 8),
                (b'f', 12),
                (b'n', b'\n'),
                (b'r', b'\r'),
                (b't', b'\t'),
            ];
            if let Some(&(_, c)) = simple.iter().find(|(k, _)| Some(*k) == e) {
                out.push(c);
            } else if e == Some(b'u') && hex(i).is_some() {
                let hi = u32::from(hex(i).unwrap_or_default());
                i += 4;
                let pair = (0xD800..0xDC00).contains(&hi) && raw.get(i..i + 2) == Some(b"\\u");
                let lo = if pair { hex(i + 2).map(u32::from).filter(|lo| (0xDC00..0xE000).contains(lo)) } else { None };
                let c = match lo {
                    Some(lo) => {
                        i += 6;
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                    }
                    None => char::from_u32(hi),
                };
                match c {
                    Some(c) => out.extend_from_slice(c.to_string().as_bytes()),
                    None => bad(&mut out),
                }
            } else {
                bad(&mut out);
            }
        }
        (out, ok)
    }
    use super::*;

    fn members(s: &str) -> Result<Vec<(String, Kind, String)>> {
        let mut v = Vec::new();
        for_each_member(s.as_bytes(), 0, |k, val| {
            v.push((
                String::from_utf8_lossy(k).into_owned(),
                val.kind(),
                String::from_utf8_lossy(val.raw()).into_owned(),
            ))
        })?;
        Ok(v)
    }

    #[test]
    fn members_of_a_flat_object() {
        let m = members(r#"{"a": 1, "b":"x\"y", "c": {"d": [1, {"e": "}"}]}, "f": null, "g": true}"#).unwrap();
        assert_eq!(m.len(), 5);
        assert_eq!(m[0], ("a".into(), Kind::Number, "1".into()));
        assert_eq!(m[1], ("b".into(), Kind::String, r#"x\"y"#.into()));
        assert_eq!(m[2].1, Kind::Object);
        assert_eq!(m[2].2, r#"{"d": [1, {"e": "}"}]}"#);
        assert_eq!(m[3].1, Kind::Null);
        assert_eq!(m[4].1, Kind::Bool);
    }

    #[test]
    fn escaped_backslash_before_quote_ends_the_string() {
        let m = members(r#"{"a":"x\\","b":2}"#).unwrap();
        assert_eq!(m[0].2, r"x\\");
        assert_eq!(m[1].2, "2");
    }

    #[test]
    fn broken_structure_is_an_error_with_an_offset() {
        for s in [
            r#"{"a":"#,
            r#"{"a":"x"#,
            r#"{"a":[1,2}"#,
            r#"{"a" 1}"#,
            r#"{"a":1"#,
            r#"{"a":1 "b":2}"#,
            r#"{a:1}"#,
            r#"{"a":[}]}"#,
        ] {
            let e = members(s).unwrap_err();
            assert!(e.offset <= s.len(), "{s}: {e:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(11), failure_persistence: None, ..Default::default() })]
        #[test]
        fn the_keyed_string_skip_ends_where_the_skip_does_with_the_strings_key(
            // Quotes and backslash runs across the 64-byte blocks, strings of
            // every length around them, and what follows or not.
            body in proptest::collection::vec(proptest::prop_oneof![
                2 => proptest::strategy::Just(b'"'), 4 => proptest::strategy::Just(b'\\'),
                14 => proptest::strategy::Just(b'a'), 1 => proptest::strategy::Just(b'\n')], 0..400),
            at in 0usize..400,
        ) {
            let mut b = body;
            let at = at.min(b.len());
            b.insert(at, b'"');
            let expected = skip_string(&b, at);
            proptest::prop_assert_eq!(expected.ok(), skip_string_reference(&b, at));
            let keyed = skip_string_keyed(&b, at);
            proptest::prop_assert_eq!(keyed.map(|(end, _)| end), expected);
            if let Ok((end, key)) = keyed {
                let v = Value::new(Kind::String, &b[at + 1..end - 1]);
                proptest::prop_assert_eq!(key, v.key());
                let mut c = Cursor { b: &b, i: at, broken: false };
                proptest::prop_assert_eq!(c.value_keyed(), Some((v, key)));
                proptest::prop_assert_eq!(c.i, end);
            }
        }
    }

    #[test]
    fn string_keys_tell_strings_apart() {
        // Every one-byte change, at every position across the 64-byte blocks
        // and the 1 KiB scramble, and every length, changes a string's key.
        let base = vec![b'x'; 1500];
        let mut keys = std::collections::HashSet::new();
        assert!(keys.insert(bytes_key(&base)));
        for at in 0..base.len() {
            let mut b = base.clone();
            b[at] = b'y';
            assert!(keys.insert(bytes_key(&b)), "change at {at}");
        }
        for len in 0..300 {
            assert!(keys.insert(bytes_key(&vec![0; len])), "length {len}");
        }
    }

    #[test]
    fn keys_tell_containers_apart() {
        // Every one-byte change of a message, at every position and across the
        // 64-byte stripes and the 1 KiB scramble, changes its key; lengths too.
        let text = "x".repeat(1500);
        let base = format!(r#"{{"role":"user","content":"{text}"}}"#).into_bytes();
        let key = |b: &[u8]| skip_container_keyed(b, 0).unwrap().1;
        let mut keys = std::collections::HashSet::new();
        assert!(keys.insert(key(&base)));
        let start = base.len() - text.len() - 2;
        for at in start..start + text.len() {
            let mut b = base.clone();
            b[at] = b'y';
            assert!(keys.insert(key(&b)), "change at {at}");
        }
        for len in 0..300 {
            let b = format!(r#"{{"a":"{}"}}"#, "\0".repeat(len));
            assert!(keys.insert(key(b.as_bytes())), "length {len}");
        }
        // A container the masks cannot read (a backslash outside strings) is
        // keyed by the byte reader's path, still by its bytes.
        let odd = br#"{"a":1,\"b":2}"#;
        let (end, key) = skip_container_keyed(odd, 0).unwrap();
        assert_eq!(Ok(end), skip_container_bytes(odd, 0));
        let moved = [&b"[1,"[..], odd, b"]"].concat();
        assert_eq!(skip_container_keyed(&moved, 3), Ok((3 + end, key)));
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        let depth = 200_000;
        let s = format!("{{\"a\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        let m = members(&s).unwrap();
        assert_eq!(m[0].1, Kind::Array);
        let unclosed = format!("{{\"a\":{}", "[".repeat(depth));
        assert!(members(&unclosed).is_err());
    }

    #[test]
    fn unescape_decodes_every_escape() {
        let s = unescape(br#"a\nb\t\"q\" \/ \u005f \u00e9 \ud83d\ude00 \\"#);
        assert_eq!(s, "a\nb\t\"q\" / _ \u{e9} \u{1F600} \\");
    }

    #[test]
    fn bad_escapes_and_lone_surrogates_become_replacement_chars() {
        let mut out = Vec::new();
        assert!(!unescape_into(br"x\ud800y\q\u12", &mut out));
        assert_eq!(String::from_utf8(out).unwrap(), "x\u{FFFD}y\u{FFFD}\u{FFFD}12");
        assert_eq!(unescape(br"\udc00"), "\u{FFFD}");
        assert_eq!(unescape(br"end\"), "end\u{FFFD}");
    }

    #[test]
    fn unescape_without_escapes_borrows() {
        assert!(matches!(unescape(b"plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn navigation_by_iterators() {
        let v = Value::new(Kind::Object, br#"{"a": [1, "x", {"b": null}], "c": "d"}"#);
        let keys: Vec<&[u8]> = v.members().map(|(k, _)| k).collect();
        assert_eq!(keys, [&b"a"[..], b"c"]);
        let a = v.get("a").unwrap();
        let kinds: Vec<Kind> = a.elements().map(|e| e.kind()).collect();
        assert_eq!(kinds, [Kind::Number, Kind::String, Kind::Object]);
        assert_eq!(Value::new(Kind::Array, b"[]").elements().count(), 0);
        assert_eq!(Value::new(Kind::Object, b"{ }").members().count(), 0);
        assert_eq!(Value::new(Kind::String, b"x").members().count(), 0);
        // A broken tail stops the iteration without a panic.
        assert_eq!(Value::new(Kind::Array, b"[1, 2,").elements().count(), 2);
    }

    #[test]
    fn a_string_decoded_in_a_scratch_buffer_is_the_string_decoded() {
        let mut scratch = b"left over".to_vec();
        for raw in [
            &b"plain"[..],
            br#"a\nb\t\"c\""#,
            b"caf\xc3\xa9 \\u00e9",
            b"broken \xff\\n utf-8",
            br#"\ud83d\ude00 \ud800 alone \q"#,
            b"",
        ] {
            for kind in [Kind::String, Kind::Text, Kind::Number, Kind::Object] {
                let v = Value::new(kind, raw);
                assert_eq!(v.as_str_in(&mut scratch), v.as_str(), "{kind:?} {}", String::from_utf8_lossy(raw));
            }
        }
    }

    #[test]
    fn json_inside_a_string_decodes_on_demand() {
        let s = Value::new(Kind::String, br#"{\"messages\":[{\"content\":\"a\\nb\"}]}"#);
        let mut scratch = Vec::new();
        let inner = s.decode_json(&mut scratch).unwrap();
        assert_eq!(inner.kind(), Kind::Object);
        let content = inner.get("messages").unwrap().elements().next().unwrap().get("content").unwrap();
        assert_eq!(content.as_str().unwrap(), "a\nb");
        assert!(Value::new(Kind::String, b"plain text").decode_json(&mut scratch).is_none());
        // The first byte is read through escaped whitespace and \\u escapes, as
        // decoding the whole string would read it.
        for (raw, json) in [
            (&br#"\n\t \r[1]"#[..], true),
            (br#"\u0020\u007B\"a\":1}"#, true),
            (br#"\u000a{}"#, true),
            (br#"\"\\\"x\\\"\""#, true),
            (br#"\u00e9{}"#, false),
            (br#"\u{7b}}"#, false),
            (br#"\x{}"#, false),
            (br#"  "#, false),
            (br#"\"#, false),
            (br#"\u007"#, false),
        ] {
            let v = Value::new(Kind::String, raw);
            let mut whole = Vec::new();
            unescape_into(raw, &mut whole);
            let i = skip_ws(&whole, 0);
            let by_decoding = matches!(whole.get(i), Some(b'{' | b'[' | b'"')) && scan_value(&whole, i).is_ok();
            assert_eq!(v.decode_json(&mut scratch).is_some(), json, "{}", String::from_utf8_lossy(raw));
            assert_eq!(by_decoding, json, "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn a_cursor_walks_in_one_pass() {
        let v = Value::new(Kind::Object, br#"{"a": [1, {"b": "x"}, []], "c": "d"}"#);
        let mut c = Cursor::over(v);
        assert!(c.enter_object());
        assert_eq!(c.next_key(), Some(&b"a"[..]));
        assert!(c.enter_array());
        let mut kinds = Vec::new();
        while c.next_element() {
            kinds.push(c.value().unwrap().kind());
        }
        assert_eq!(kinds, [Kind::Number, Kind::Object, Kind::Array]);
        assert_eq!(c.next_key(), Some(&b"c"[..]));
        assert_eq!(c.value().unwrap().raw(), b"d");
        assert_eq!(c.next_key(), None);
        // Broken input ends the walk.
        let mut c = Cursor::over(Value::new(Kind::Object, br#"{"a": [1, 2"#));
        assert!(c.enter_object());
        assert!(c.next_key().is_some() && c.enter_array());
        let mut n = 0;
        while c.next_element() {
            if c.value().is_none() {
                break;
            }
            n += 1;
        }
        assert_eq!(n, 2);
        assert_eq!(c.next_key(), None);
    }

    #[test]
    fn get_finds_a_member() {
        let v = Value::new(Kind::Object, br#"{"x":{"y":1},"id":"r1"}"#);
        assert_eq!(get(v, b"id").unwrap().raw(), b"r1");
        assert!(get(v, b"nope").is_none());
    }
}
