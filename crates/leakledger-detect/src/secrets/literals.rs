//! Many keywords found in one pass over the text.
//!
//! A SIMD literal search (Teddy) holds a few dozen patterns; past that its
//! buckets collide and every byte becomes a candidate. The rule set has some
//! three hundred keywords, which as groups of Teddy searches took nineteen
//! passes over every text and most of the scan's time (docs/benchmarks.md).
//!
//! Here every keyword of four bytes or more is known by a hash of four of its
//! bytes folded to one case, one bit in a table of 2^16 bits (8 KiB, in L1):
//! its rarest four ([`super::rarity`]; `post` of `postgres://` starts 0.3% of
//! code's positions, `ostg` next to none). The text is read once: the four
//! bytes at each position are hashed and their bit tested, eight positions to
//! a branch. A set bit (a keyword's four bytes, or one collision in a few
//! hundred) is confirmed against the keywords whose lower-cased four bytes fall
//! in the same one of 4,096 buckets, each compared where it would start. The
//! cost hardly grows with the number of keywords.
//!
//! Where the CPU has AVX-512 with VBMI and GFNI, a first test runs before the
//! table, without its gather (half the scan's time): 64 positions at once,
//! each one's four folded bytes hashed by affine maps over GF(2) (one
//! instruction per map for all 64) into four 1,024-bit tables held in
//! registers and looked up by byte permutations. Only the positions whose bit
//! is set in all four go on to the table and the confirmation: 0.9% of the
//! positions of the 2 GiB code bench file (2.5% of them with three tables),
//! against 0.7% that pass the table.
//!
//! Keywords of three bytes (`SG.`, `eyJ`, `hf_`) are found in the same pass:
//! the three bytes at each position are hashed too, into tables of their own
//! (an 8 KiB table; three 512-bit register tables on AVX-512, the first
//! sharing the four-byte hash's mix of the first two bytes). They had been
//! left to Teddy, which read every text once more per group of sixteen and
//! took a third of `gate`'s time on code where none of them occurs. With AVX2
//! (no AVX-512) they are tested by nibble tables ([`nibble_tables`]), 32
//! positions a step, instead of a second gather per eight positions: gathers
//! are most of the search's time on AMD's Zen 3, and `gate` on the 2 GiB code
//! bench file went from 2.5 s to 1.3 s.
//!
//! With AVX2 but no AVX-512 the four-byte test takes one gather for every two
//! positions, not one each ([`Literals::pairs`]): a word of a second table is
//! picked by the three bytes two neighbouring positions share, and holds a
//! bit for each position's own fourth byte. On Zen 3, where the gathers were
//! most of the search's time, `gate` on the 2 GiB code bench file went from
//! 1.6 s to 1.1 s (docs/benchmarks.md, session 19).
//!
//! Without AVX2, eight positions a step from two overlapping 8-byte loads.

/// Hash-table bits: 2^16 bits, 8 KiB.
const BITS: u32 = 16;

/// A multiplicative hash of four bytes folded to one case, to `BITS` bits.
///
/// The fold sets bit 5 of every byte: ASCII letters lose their case (and a
/// few other pairs, such as `[` and `{`, become one: the confirmation tells
/// them apart). So a keyword that matches in any case sets one bit, not one
/// per casing. The built-in keywords set 620 bits with every casing and 265
/// folded, so fewer positions of text pass by chance (0.9% against 0.4%); the
/// scanner went from 912 to 948 MiB/s.
#[inline(always)]
fn hash(w: u32) -> usize {
    ((w | FOLD).wrapping_mul(0x9E37_79B1) >> (32 - BITS)) as usize
}

/// Bit 5 of each of four bytes.
const FOLD: u32 = 0x2020_2020;

/// [`hash`] for three bytes (the low three of `w`), with a multiplier of its
/// own so that its bits are not those of the four-byte hash.
#[inline(always)]
fn hash3(w: u32) -> usize {
    (((w & 0x00FF_FFFF) | 0x0020_2020).wrapping_mul(0x85EB_CA77) >> (32 - BITS)) as usize
}

/// Words of the pair table ([`Literals::pairs`]): 2^12 of 32 bits, 16 KiB.
const PAIR_BITS: u32 = 12;

/// The pair table's word for three bytes (the low three of `t`) folded to
/// one case.
#[inline(always)]
fn pair_word(t: u32) -> usize {
    (((t & 0x00FF_FFFF) | 0x0020_2020).wrapping_mul(0xC2B2_AE3D) >> (32 - PAIR_BITS)) as usize
}

/// The bit, of the sixteen of a half of a pair word, of four bytes folded to
/// one case.
#[inline(always)]
fn pair_bit(w: u32) -> u32 {
    (w | FOLD).wrapping_mul(0x27D4_EB2F) >> 28
}

/// Buckets of the three-byte keywords: 2^8, by the top bits of [`hash3`].
const BUCKET3_BITS: u32 = 8;

/// Eight bytes with ASCII letters in lower case (SWAR, as the standard
/// library lowers ASCII a word at a time).
#[inline(always)]
fn lower8(v: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let seven = v & (0x7f * ONES);
    let above_z = seven + (0x7f - u64::from(b'Z')) * ONES;
    let from_a = seven + (0x80 - u64::from(b'A')) * ONES;
    let upper = !v & (from_a ^ above_z) & (0x80 * ONES);
    v | upper >> 2
}

/// Bucket of a lower-cased 4-byte head in the confirmation table.
#[inline(always)]
fn bucket(key: u32) -> usize {
    (key.wrapping_mul(0x85EB_CA6B) >> (32 - BUCKET_BITS)) as usize
}

/// Confirmation-table buckets: 2^12.
const BUCKET_BITS: u32 = 12;

/// The affine maps of the register tables' hashes ([`Literals::find_avx512`]):
/// 8×8 bit matrices, each invertible. Four bytes `a b c d` are first mixed to
/// two, `u = a ^ MIX[0]·b` and `w = c ^ MIX[1]·d`; hash `t` is `u ^ MAPS[t]·w`.
const MIX: [u64; 2] = [0x5323_451b_4a95_902a, 0x5856_c32a_687b_253b];
const MAPS: [u64; 5] =
    [0x8b3a_1535_3f13_7b70, 0x919e_9bc7_f4a0_2d92, 0xd23f_0824_128b_2f33, 0xa5c1_9e27_3b6d_f048, 0x344d_04cb_5f0f_2c02];

/// The maps of the three 8-bit hashes of three folded bytes `a b c`:
/// `u ^ MAPS3[0]·c` (with `u` as above), `b ^ MAPS3[1]·c ^ MAPS3[2]·a` and
/// `c ^ MAPS3[3]·a ^ MAPS3[4]·b`. The three tables together test 21 bits of
/// hash: with two (14 bits), one common trigram of code that happened to
/// share a keyword's bits let 0.1–0.5% of positions through, depending on the
/// maps; with three, one in ten thousand or fewer.
const MAPS3: [u64; 5] =
    [0x6b2f_1d94_a3c5_0e87, 0xc81e_5a37_92d4_f06b, 0x2d71_b6c3_4e98_a51f, 0x9e3c_41a7_d502_6bf8, 0x57d8_e21b_0c96_3fa4];

/// What `GF2P8AFFINEQB` makes of byte `x` with matrix `a` (and no constant):
/// bit `i` of the result is the parity of `x` AND byte `7 - i` of `a`.
#[inline]
fn affine(a: u64, x: u8) -> u8 {
    (0..8).fold(0u8, |r, i| r | ((((a >> (8 * (7 - i))) as u8 & x).count_ones() as u8 & 1) << i))
}

/// The five 8-bit hashes of four folded bytes: tables A, B, C and D are
/// indexed by the low seven bits of the first four; the fifth picks the bit of
/// each byte found (its bits 0..3 for A, 3..6 for B, 5..8 for C, 2..5 for D).
fn hashes(w: [u8; 4]) -> [u8; 5] {
    let f = w.map(|b| b | 0x20);
    let (u, w) = (f[0] ^ affine(MIX[0], f[1]), f[2] ^ affine(MIX[1], f[3]));
    MAPS.map(|m| u ^ affine(m, w))
}

/// The bit of table `t`'s byte that hash `h` (the fifth) picks.
fn select(h: u8, t: usize) -> u8 {
    h >> [0, 3, 5, 2][t] & 7
}

/// The three 8-bit hashes of three folded bytes (see [`MAPS3`]).
fn hashes3(w: [u8; 3]) -> [u8; 3] {
    let f = w.map(|b| b | 0x20);
    let u = f[0] ^ affine(MIX[0], f[1]);
    [
        u ^ affine(MAPS3[0], f[2]),
        f[1] ^ affine(MAPS3[1], f[2]) ^ affine(MAPS3[2], f[0]),
        f[2] ^ affine(MAPS3[3], f[0]) ^ affine(MAPS3[4], f[1]),
    ]
}

/// The byte and bit of three-byte table `t` that hashes `h` pick: the byte by
/// the low six bits of hash `t`, the bit by bits 4..7 of the next hash. The
/// tables are of 512 bits, one register each (a byte permutation within one
/// register costs less than across two): the few three-byte keywords leave
/// them nearly empty.
fn place3(h: [u8; 3], t: usize) -> (usize, u8) {
    (usize::from(h[t] & 63), h[(t + 1) % 3] >> 4 & 7)
}

/// The nibble tables of the three-byte keywords (Hyperscan's "shufti"): for
/// byte `k` of a keyword, table `2k` by the byte's low nibble and `2k + 1` by
/// its high nibble give the keyword's bucket bit (one of eight; an any-case
/// keyword's letters in both cases). A position whose three bytes leave a
/// bucket bit set in all six lookups may start a keyword of that bucket.
fn nibble_tables(threes: &[Three]) -> [[u8; 16]; 6] {
    let mut t = [[0u8; 16]; 6];
    for (n, three) in threes.iter().enumerate() {
        let bit = 1u8 << (n % 8);
        for (k, &b) in three.bytes.iter().enumerate() {
            let cases = if three.any_case { [b.to_ascii_lowercase(), b.to_ascii_uppercase()] } else { [b, b] };
            for c in cases {
                t[2 * k][usize::from(c & 15)] |= bit;
                t[2 * k + 1][usize::from(c >> 4)] |= bit;
            }
        }
    }
    t
}

/// The `N` bytes of `hay` from `i` (inside it), read in place; or, near the
/// end, its last bytes copied into `pad`, zeros after them. With how many
/// bytes of `hay` are left from `i` (capped at `N`), so that a vector loop
/// masks off the positions past the end.
#[inline(always)]
fn block_at<'h, const N: usize>(hay: &'h [u8], i: usize, pad: &'h mut [u8; N]) -> (&'h [u8; N], usize) {
    match hay.get(i..i + N).and_then(|b| <&[u8; N]>::try_from(b).ok()) {
        Some(block) => (block, N),
        None => {
            let rest = &hay[i..];
            *pad = [0u8; N];
            pad[..rest.len()].copy_from_slice(rest);
            (pad, rest.len())
        }
    }
}

/// A keyword as the search confirms it: its first eight bytes (lower-cased
/// when it matches in any case) and which of them it has, compared with one
/// load; the rest, if any, compared after. The search finds it by the four
/// bytes at `offset`.
#[derive(Clone, Debug)]
struct Word {
    bytes: Box<[u8]>,
    head: u64,
    mask: u64,
    any_case: bool,
    offset: usize,
    id: u32,
}

/// Items sorted by bucket (then by `id`), and for each of the `2^bits`
/// buckets the range of items in it.
fn bucketed<T>(mut items: Vec<(usize, T)>, bits: u32, id: impl Fn(&T) -> u32) -> (Box<[(u16, u16)]>, Vec<T>) {
    items.sort_by_key(|(b, w)| (*b, id(w)));
    let mut buckets = vec![(0u16, 0u16); 1 << bits].into_boxed_slice();
    for (i, (b, _)) in items.iter().enumerate() {
        let i = u16::try_from(i).unwrap_or(u16::MAX);
        let slot = &mut buckets[*b];
        if slot.1 == 0 {
            slot.0 = i;
        }
        slot.1 = slot.1.saturating_add(1);
    }
    (buckets, items.into_iter().map(|(_, w)| w).collect())
}

/// A keyword of three bytes, compared whole.
#[derive(Clone, Debug)]
struct Three {
    bytes: [u8; 3],
    any_case: bool,
    id: u32,
}

/// A set of keywords of three bytes or more, each matched exactly or in any
/// case, found at every position where one starts (overlapping ones too).
#[derive(Clone, Debug)]
pub(crate) struct Literals {
    /// Bit `hash(w)` is set for the four bytes `w` every keyword is searched
    /// by (for every casing of an any-case keyword).
    filter: Box<[u64]>,
    /// For each bucket of lower-cased four bytes searched by, the range of
    /// `words` (sorted by bucket) that fall in it.
    buckets: Box<[(u16, u16)]>,
    words: Vec<Word>,
    /// The register tables of the AVX-512 first test: in table `t`, bit
    /// `select(h[4], t)` of byte `h[t] & 127`, for the [`hashes`] `h` of every
    /// keyword's four bytes searched by.
    tables: [[u8; 128]; 4],
    /// Bit `hash3(w)` is set for every three-byte keyword `w`.
    filter3: Box<[u64]>,
    /// For each bucket of [`hash3`]'s top bits, the range of `threes` (sorted
    /// by bucket) that fall in it.
    buckets3: Box<[(u16, u16)]>,
    threes: Vec<Three>,
    /// The four-byte test of [`Literals::find_avx2`], two positions to a
    /// lookup. Four bytes `w` searched by set bit [`pair_bit`]`(w)` of the
    /// word [`pair_word`] of their last three bytes (for when they start at
    /// an even position `q`: the three bytes at `q + 1` pick the word), and
    /// bit `16 + pair_bit(w)` of the word of their first three (at an odd
    /// position `q + 1`). So the three bytes at `q + 1` fetch the bits of both
    /// positions: a table of 2^16 bits tested by 16 bits of hash, as
    /// [`Literals::filter`] is, with half its lookups.
    pairs: Box<[u32]>,
    /// The AVX-512 register tables of the three-byte keywords (see [`place3`]).
    tables3: [[u8; 64]; 3],
    /// The nibble tables of the AVX2 first test of the three-byte keywords
    /// ([`nibble_tables`]).
    nibbles3: [[u8; 16]; 6],
    /// The CPU has AVX2 ([`Literals::find_avx2`]).
    avx2: bool,
    /// The CPU has AVX-512BW, VBMI and GFNI (the register tables).
    avx512: bool,
}

impl Literals {
    /// The keywords, each with whether it matches in any case; a keyword's id
    /// is its index. Keywords shorter than three bytes are not taken (they
    /// would defeat the search; rule loading refuses them) and are never
    /// reported.
    pub(crate) fn new<'a>(keywords: impl IntoIterator<Item = (&'a [u8], bool)>) -> Self {
        let mut filter = vec![0u64; 1 << (BITS - 6)].into_boxed_slice();
        let mut filter3 = vec![0u64; 1 << (BITS - 6)].into_boxed_slice();
        let mut pairs = vec![0u32; 1 << PAIR_BITS].into_boxed_slice();
        let mut words: Vec<(usize, Word)> = Vec::new();
        let mut threes: Vec<(usize, Three)> = Vec::new();
        let mut tables = [[0u8; 128]; 4];
        let mut tables3 = [[0u8; 64]; 3];
        for (id, (bytes, any_case)) in keywords.into_iter().enumerate() {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            if let &[a, b, c] = bytes {
                let h = hashes3([a, b, c]);
                for (t, table) in tables3.iter_mut().enumerate() {
                    let (byte, bit) = place3(h, t);
                    table[byte] |= 1 << bit;
                }
                let h = hash3(u32::from_le_bytes([a, b, c, 0]));
                filter3[h >> 6] |= 1 << (h & 63);
                let bytes = if any_case { [a, b, c].map(|x| x.to_ascii_lowercase()) } else { [a, b, c] };
                threes.push((h >> (BITS - BUCKET3_BITS), Three { bytes, any_case, id }));
                continue;
            }
            if bytes.len() < 4 {
                continue;
            }
            let offset = super::rarity::rarest_four(bytes);
            let Some(four) = bytes[offset..].first_chunk::<4>() else { continue };
            let h = hashes(*four);
            for (t, table) in tables.iter_mut().enumerate() {
                table[usize::from(h[t] & 127)] |= 1 << select(h[4], t);
            }
            let w = u32::from_le_bytes(*four);
            // Folded, every casing of the four bytes has this bit.
            let h = hash(w);
            filter[h >> 6] |= 1 << (h & 63);
            pairs[pair_word(w >> 8)] |= 1 << pair_bit(w);
            pairs[pair_word(w)] |= 1 << (16 + pair_bit(w));
            let n = bytes.len().min(8);
            let mut first = [0u8; 8];
            first[..n].copy_from_slice(&bytes[..n]);
            let head = u64::from_le_bytes(first);
            let mask = u64::MAX >> (64 - 8 * n);
            let head = if any_case { lower8(head) } else { head };
            words.push((
                bucket(lower8(u64::from(w)) as u32),
                Word { bytes: bytes.into(), head, mask, any_case, offset, id },
            ));
        }
        let (buckets, words) = bucketed(words, BUCKET_BITS, |w| w.id);
        let (buckets3, threes) = bucketed(threes, BUCKET3_BITS, |w| w.id);
        let nibbles3 = nibble_tables(&threes);
        #[cfg(target_arch = "x86_64")]
        let (avx2, avx512) = (
            std::arch::is_x86_feature_detected!("avx2"),
            std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vbmi")
                && std::arch::is_x86_feature_detected!("gfni"),
        );
        #[cfg(not(target_arch = "x86_64"))]
        let (avx2, avx512) = (false, false);
        Literals { filter, buckets, words, tables, filter3, buckets3, threes, pairs, tables3, nibbles3, avx2, avx512 }
    }

    #[inline(always)]
    fn test(&self, w: u32) -> u64 {
        let h = hash(w);
        // `h >> 6` is below the table's length by construction of `hash`.
        self.filter[h >> 6] >> (h & 63) & 1
    }

    /// [`Literals::test`] of the three-byte keywords (the low three bytes of `w`).
    #[inline(always)]
    fn test3(&self, w: u32) -> u64 {
        let h = hash3(w);
        self.filter3[h >> 6] >> (h & 63) & 1
    }

    /// Calls `found(position, id, length)` for every keyword occurrence in
    /// `hay`, once each, in no set order (nearly by position: by where the
    /// four bytes searched by lie).
    pub(crate) fn find(&self, hay: &[u8], mut found: impl FnMut(usize, u32, usize)) {
        let n = hay.len();
        let threes = !self.threes.is_empty();
        #[cfg(target_arch = "x86_64")]
        #[allow(unsafe_code)]
        let mut i = match (self.avx512, self.avx2, threes) {
            // SAFETY: the CPU has AVX-512BW, VBMI and GFNI (checked when built).
            (true, _, true) => unsafe { self.find_avx512::<true>(hay, &mut found) },
            (true, _, false) => unsafe { self.find_avx512::<false>(hay, &mut found) },
            // SAFETY: the CPU has AVX2 (checked when built).
            (false, true, true) => unsafe { self.find_avx2::<true>(hay, &mut found) },
            (false, true, false) => unsafe { self.find_avx2::<false>(hay, &mut found) },
            (false, false, _) => 0,
        };
        #[cfg(not(target_arch = "x86_64"))]
        let mut i = 0;
        // Eight positions a step, from two overlapping 8-byte loads; one branch.
        while i + 12 <= n {
            let a = u64::from_le_bytes(hay[i..i + 8].try_into().unwrap_or_default());
            let b = u64::from_le_bytes(hay[i + 4..i + 12].try_into().unwrap_or_default());
            let (mut passed, mut passed3) = (0, 0);
            for k in 0..4 {
                passed |= self.test((a >> (8 * k)) as u32) << k | self.test((b >> (8 * k)) as u32) << (k + 4);
            }
            if threes {
                for k in 0..4 {
                    passed3 |= self.test3((a >> (8 * k)) as u32) << k | self.test3((b >> (8 * k)) as u32) << (k + 4);
                }
            }
            while passed != 0 {
                let p = i + passed.trailing_zeros() as usize;
                passed &= passed - 1;
                self.confirm(hay, p, &mut found);
            }
            while passed3 != 0 {
                let p = i + passed3.trailing_zeros() as usize;
                passed3 &= passed3 - 1;
                self.confirm3(hay, p, &mut found);
            }
            i += 8;
        }
        // One position a step: four bytes at each that has them, three at each.
        while i + 3 <= n {
            if let Some(&[a, b, c, d]) = hay.get(i..i + 4)
                && self.test(u32::from_le_bytes([a, b, c, d])) != 0
            {
                self.confirm(hay, i, &mut found);
            }
            if threes && self.test3(u32::from_le_bytes([hay[i], hay[i + 1], hay[i + 2], 0])) != 0 {
                self.confirm3(hay, i, &mut found);
            }
            i += 1;
        }
    }

    /// Reports the three-byte keywords at `p` (whose hash's bit may be set).
    #[inline]
    fn confirm3(&self, hay: &[u8], p: usize, found: &mut impl FnMut(usize, u32, usize)) {
        let Some(&[a, b, c]) = hay.get(p..p + 3) else { return };
        let h = hash3(u32::from_le_bytes([a, b, c, 0]));
        let (from, n) = self.buckets3[h >> (BITS - BUCKET3_BITS)];
        let (from, n) = (usize::from(from), usize::from(n));
        for three in self.threes.get(from..from + n).unwrap_or_default() {
            let got = if three.any_case { [a, b, c].map(|x| x.to_ascii_lowercase()) } else { [a, b, c] };
            if got == three.bytes {
                found(p, three.id, 3);
            }
        }
    }

    /// [`Literals::find`] 32 positions a step: the four-byte test through
    /// [`Literals::pairs`], the bits of positions `q` and `q + 1` fetched by
    /// one gather (two gathers of eight lanes for 32 positions) from the
    /// words of the three bytes at each `q + 1`, each position's bit picked
    /// by its own four bytes; with three-byte keywords, those tested by the
    /// nibble tables ([`nibble_tables`]: two shuffles and two ANDs per byte of
    /// the three, for all 32 positions). The last bytes are read from a copy
    /// padded with zeros, so that a text ends in the vector loop, as in
    /// [`Literals::find_avx512`]. Returns where it stopped (at or past the end).
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2")]
    fn find_avx2<const THREES: bool>(&self, hay: &[u8], found: &mut impl FnMut(usize, u32, usize)) -> usize {
        use std::arch::x86_64::*;
        let low24 = _mm256_set1_epi32(0x00FF_FFFF);
        let fold3 = _mm256_set1_epi32(0x0020_2020);
        let fold = _mm256_set1_epi32(FOLD as i32);
        let word_multiplier = _mm256_set1_epi32(0xC2B2_AE3D_u32 as i32);
        let bit_multiplier = _mm256_set1_epi32(0x27D4_EB2F);
        let (to_sign, to_sign_high) = (_mm256_set1_epi32(31), _mm256_set1_epi32(15));
        let table = self.pairs.as_ptr().cast::<i32>();
        let transpose = _mm256_setr_epi8(
            0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15, 0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
        );
        let nibbles = self.nibbles3.each_ref().map(|t| {
            // SAFETY: the load reads a 16-byte table.
            _mm256_broadcastsi128_si256(unsafe { _mm_loadu_si128(t.as_ptr().cast()) })
        });
        let low4 = _mm256_set1_epi8(0x0F);
        let mut pad = [0u8; 48];
        let mut i = 0;
        while i < hay.len() {
            let (block, left) = block_at(hay, i, &mut pad);
            let keep = u32::MAX >> 32usize.saturating_sub(left);
            // Lane j of `tested[o / 2]`: the bits of positions q = o + 4j and
            // q + 1 at the sign of each of its two vectors.
            let mut tested = [(_mm256_setzero_si256(), _mm256_setzero_si256()); 2];
            for (o, tested) in [0, 2].into_iter().zip(&mut tested) {
                // SAFETY: the loads read block[o..o + 33], inside its 48 bytes.
                // The gather reads word `h` of the table, the top 12 bits of a
                // 32-bit product: below 2^12, its length (`PAIR_BITS`).
                unsafe {
                    let at = _mm256_loadu_si256(block.as_ptr().add(o).cast::<__m256i>());
                    let next = _mm256_loadu_si256(block.as_ptr().add(o + 1).cast::<__m256i>());
                    let three = _mm256_or_si256(_mm256_and_si256(next, low24), fold3);
                    let h = _mm256_srli_epi32::<{ 32 - PAIR_BITS as i32 }>(_mm256_mullo_epi32(three, word_multiplier));
                    let words = _mm256_i32gather_epi32::<4>(table, h);
                    let bit = |w: __m256i| {
                        _mm256_srli_epi32::<28>(_mm256_mullo_epi32(_mm256_or_si256(w, fold), bit_multiplier))
                    };
                    // Bit `pair_bit` of the word's low half (for q) and of its
                    // high half (for q + 1) to the sign bit.
                    *tested = (
                        _mm256_sllv_epi32(words, _mm256_xor_si256(bit(at), to_sign)),
                        _mm256_sllv_epi32(words, _mm256_xor_si256(bit(next), to_sign_high)),
                    );
                }
            }
            // Packed with signed saturation (signs kept), each 128-bit half
            // holds the bytes of its four lanes' positions 4j, 4j + 1, 4j + 2,
            // 4j + 3 as four rows; a shuffle transposes them to position order.
            let rows = _mm256_packs_epi16(
                _mm256_packs_epi32(tested[0].0, tested[0].1),
                _mm256_packs_epi32(tested[1].0, tested[1].1),
            );
            let passed = _mm256_movemask_epi8(_mm256_shuffle_epi8(rows, transpose)) as u32;
            let mut passed3 = 0u32;
            if THREES {
                // The buckets each of the three bytes from each position may
                // start, ANDed: a bucket left is a three-byte keyword's bytes,
                // or (rarely) a mix of its bucket-mates' nibbles.
                let mut buckets = _mm256_set1_epi8(-1);
                for (k, t) in nibbles.chunks_exact(2).enumerate() {
                    // SAFETY: the load reads block[k..k + 32], inside its 48 bytes.
                    let v = unsafe { _mm256_loadu_si256(block.as_ptr().add(k).cast::<__m256i>()) };
                    let lo = _mm256_shuffle_epi8(t[0], _mm256_and_si256(v, low4));
                    let hi = _mm256_shuffle_epi8(t[1], _mm256_and_si256(_mm256_srli_epi16::<4>(v), low4));
                    buckets = _mm256_and_si256(buckets, _mm256_and_si256(lo, hi));
                }
                passed3 = !(_mm256_movemask_epi8(_mm256_cmpeq_epi8(buckets, _mm256_setzero_si256())) as u32);
            }
            // Positions past the end are off; those whose bytes run into the
            // padding are confirmed against the text itself.
            let (mut passed, mut passed3) = (passed & keep, passed3 & keep);
            while passed != 0 {
                let p = i + passed.trailing_zeros() as usize;
                passed &= passed - 1;
                self.confirm(hay, p, found);
            }
            while passed3 != 0 {
                let p = i + passed3.trailing_zeros() as usize;
                passed3 &= passed3 - 1;
                self.confirm3(hay, p, found);
            }
            i += 32;
        }
        i
    }

    /// [`Literals::find`] 64 positions a step through the register tables
    /// (see the module's note): the positions that pass all four go on to the
    /// table of 2^16 bits and the confirmation, those that pass the three
    /// three-byte tables straight to theirs. Returns where it stopped (at or
    /// past the end).
    #[cfg(target_arch = "x86_64")]
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,gfni")]
    fn find_avx512<const THREES: bool>(&self, hay: &[u8], found: &mut impl FnMut(usize, u32, usize)) -> usize {
        use std::arch::x86_64::*;
        let load = |p: &[u8; 64]| -> __m512i {
            // SAFETY: the load reads the 64-byte array.
            unsafe { _mm512_loadu_si512(p.as_ptr().cast()) }
        };
        // Each 128-byte table as its two 64-byte halves, typed so that no load
        // can overrun (both halves always exist).
        let half = |h: Option<&[u8; 64]>| h.map_or_else(|| _mm512_setzero_si512(), load);
        let tables = self.tables.each_ref().map(|t| (half(t.first_chunk()), half(t.last_chunk())));
        let tables3 = self.tables3.each_ref().map(load);
        let fold = _mm512_set1_epi8(0x20);
        // Bit `select` of a table byte is tested against `1 << select`, made
        // by a byte permute of a table of bits: the permute reads the low six
        // bits of each index, so with entry j = 1 << ((j >> s) & 7) it takes
        // bits s..s + 3 of the index byte with neither a mask nor, for s < 4,
        // a shift (3% of the loop's time on code).
        let bits = |s: u32| {
            let mut e = [0u8; 64];
            for (j, b) in e.iter_mut().enumerate() {
                *b = 1 << ((j >> s) & 7);
            }
            load(&e)
        };
        let bits_at = [bits(0), bits(2), bits(3)];
        let bit_of = |byte: __m512i, select: __m512i, bits: __m512i| {
            _mm512_test_epi8_mask(byte, _mm512_permutexvar_epi8(select, bits))
        };
        let maps = MAPS.map(|m| _mm512_set1_epi64(m as i64));
        let mix = MIX.map(|m| _mm512_set1_epi64(m as i64));
        let maps3 = MAPS3.map(|m| _mm512_set1_epi64(m as i64));
        let mut i = 0;
        // The last bytes are read from a copy padded with zeros, so that a
        // text ends in the vector loop too: left to the scalar loops, the last
        // 66 bytes of a few-kilobyte text cost a tenth of its search. The
        // positions past the end are masked off; those whose bytes run into
        // the padding are confirmed against the text itself.
        let mut pad = [0u8; 67];
        while i < hay.len() {
            let (block, left) = block_at(hay, i, &mut pad);
            let keep = u64::MAX >> 64usize.saturating_sub(left);
            // SAFETY: the four loads read block[k..k + 64] for k < 4, inside
            // its 67 bytes.
            let [v0, v1, v2, v3] = [0, 1, 2, 3]
                .map(|k| unsafe { _mm512_or_si512(_mm512_loadu_si512(block.as_ptr().add(k).cast()), fold) });
            let u = _mm512_xor_si512(v0, _mm512_gf2p8affine_epi64_epi8::<0>(v1, mix[0]));
            let w = _mm512_xor_si512(v2, _mm512_gf2p8affine_epi64_epi8::<0>(v3, mix[1]));
            let h = maps.map(|m| _mm512_xor_si512(u, _mm512_gf2p8affine_epi64_epi8::<0>(w, m)));
            // Bits 0..3, 3..6, 5..8 and 2..5 of `h[4]`'s byte (see `select`).
            let test = |t: usize, select: __m512i, bits: __m512i| {
                bit_of(_mm512_permutex2var_epi8(tables[t].0, h[t], tables[t].1), select, bits)
            };
            let mut passed = test(0, h[4], bits_at[0])
                & test(1, h[4], bits_at[2])
                & test(2, _mm512_srli_epi16::<5>(h[4]), bits_at[0])
                & test(3, h[4], bits_at[1])
                & keep;
            while passed != 0 {
                let k = passed.trailing_zeros() as usize;
                passed &= passed - 1;
                // k < 64: the block holds its four bytes (zeros past the end).
                let w = u32::from_le_bytes([block[k], block[k + 1], block[k + 2], block[k + 3]]);
                if self.test(w) != 0 {
                    self.confirm(hay, i + k, found);
                }
            }
            if THREES {
                // Three bytes (see `hashes3` and `place3`).
                let affine = |v: __m512i, m: __m512i| _mm512_gf2p8affine_epi64_epi8::<0>(v, m);
                let h3 = [
                    _mm512_xor_si512(u, affine(v2, maps3[0])),
                    _mm512_ternarylogic_epi64::<0x96>(v1, affine(v2, maps3[1]), affine(v0, maps3[2])),
                    _mm512_ternarylogic_epi64::<0x96>(v2, affine(v0, maps3[3]), affine(v1, maps3[4])),
                ];
                let test3 = |t: usize| {
                    let byte = _mm512_permutexvar_epi8(h3[t], tables3[t]);
                    bit_of(byte, _mm512_srli_epi16::<4>(h3[(t + 1) % 3]), bits_at[0])
                };
                let mut passed3 = test3(0) & test3(1) & test3(2) & keep;
                while passed3 != 0 {
                    let p = i + passed3.trailing_zeros() as usize;
                    passed3 &= passed3 - 1;
                    self.confirm3(hay, p, found);
                }
            }
            i += 64;
        }
        i
    }

    /// Reports the keywords whose four bytes searched by lie at `q` (which has
    /// four bytes after it whose hash's bit is set).
    #[inline]
    fn confirm(&self, hay: &[u8], q: usize, found: &mut impl FnMut(usize, u32, usize)) {
        let eight = |p: usize| match hay.get(p..p + 8) {
            Some(eight) => u64::from_le_bytes(eight.try_into().unwrap_or_default()),
            None => {
                // Zeros past the end.
                let mut eight = [0u8; 8];
                let rest = hay.get(p..).unwrap_or_default();
                eight[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(eight)
            }
        };
        // The bucket is of the four bytes at `q`, lower-cased.
        let (from, n) = self.buckets[bucket(lower8(eight(q)) as u32)];
        if n == 0 {
            return;
        }
        let (from, n) = (usize::from(from), usize::from(n));
        for word in self.words.get(from..from + n).unwrap_or_default() {
            let Some(p) = q.checked_sub(word.offset) else { continue };
            let v = eight(p);
            if (if word.any_case { lower8(v) } else { v }) & word.mask != word.head {
                continue;
            }
            let len = word.bytes.len();
            if len > 8 {
                let Some(there) = hay.get(p + 8..p + len) else { continue };
                let rest = &word.bytes[8..];
                if !(if word.any_case { there.eq_ignore_ascii_case(rest) } else { there == rest }) {
                    continue;
                }
            } else if p + len > hay.len() {
                continue;
            }
            found(p, word.id, len);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every (position, id) where a keyword starts, the slow way.
    fn naive(words: &[(&[u8], bool)], hay: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        for p in 0..hay.len() {
            for (id, (w, any)) in words.iter().enumerate() {
                if w.len() < 3 {
                    continue;
                }
                if let Some(t) = hay.get(p..p + w.len())
                    && (if *any { t.eq_ignore_ascii_case(w) } else { t == *w })
                {
                    out.push((p, id as u32));
                }
            }
        }
        out
    }

    fn fast(lit: &Literals, hay: &[u8]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        lit.find(hay, |p, id, _| out.push((p, id)));
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_every_occurrence_overlapping_and_in_any_case() {
        let words: Vec<(&[u8], bool)> = vec![
            (b"ghp_", false),
            (b"secret", true),
            (b"secret_access_key", false),
            (b"AKIA", false),
            (b"akia", false),
            (b"abc", false),
            (b"SG.", false),
            (b"hf_", true),
            (b"kIa", false),
            (b"aaaa", false),
            (b"A3T3BlbkFJ", false),
            (b"T3BlbkFJ", false),
            // Searched by bytes past their start (`ostg`, `KEY-`).
            (b"postgres://", true),
            (b"PRIVATE KEY-----", false),
        ];
        let mut lit = Literals::new(words.iter().copied());
        // Deterministic pseudo-random text over a small alphabet, so keywords
        // and near-misses occur often, at every alignment and at both ends.
        let alphabet = b"aAkKiI3T_ghpsecrtSECRT bBoKEY-:/OSTG.fH";
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut hay: Vec<u8> = Vec::new();
        for round in 0..4000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if round % 7 == 0 {
                let (word, any_case) = words[(x % words.len() as u64) as usize];
                // An any-case keyword in a casing of its own: each letter
                // flipped or not by a bit of `x`.
                hay.extend(
                    word.iter()
                        .enumerate()
                        .map(|(i, &b)| if any_case && x >> (i % 64) & 1 == 1 { b.to_ascii_uppercase() } else { b }),
                );
            } else {
                hay.push(alphabet[(x % alphabet.len() as u64) as usize]);
            }
        }
        // Each vector path the CPU has, and the scalar path.
        let (avx2, avx512) = (lit.avx2, lit.avx512);
        for (vector, wide) in [(avx2, avx512), (avx2, false), (false, false)] {
            (lit.avx2, lit.avx512) = (vector, wide);
            for cut in [0, 1, 3, 4, 5, 11, 12, 13, 15, 16, 17, 24, 66, 67, 68, 100, 131, 200, hay.len()] {
                for start in [0, 1, 2, 7] {
                    let h = &hay[start.min(cut)..cut];
                    assert_eq!(fast(&lit, h), naive(&words, h), "cut {cut} start {start} vector {vector} {wide}");
                }
            }
        }
        assert!(!naive(&words, &hay).is_empty());
    }

    #[test]
    fn affine_is_what_the_instruction_computes() {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx512bw") && std::arch::is_x86_feature_detected!("gfni") {
            #[allow(unsafe_code)]
            #[target_feature(enable = "avx512f,avx512bw,gfni")]
            fn by_instruction(a: u64, x: &[u8; 64]) -> [u8; 64] {
                use std::arch::x86_64::*;
                let mut out = [0u8; 64];
                // SAFETY: both accesses are of the 64-byte arrays.
                unsafe {
                    let v = _mm512_loadu_si512(x.as_ptr().cast());
                    let r = _mm512_gf2p8affine_epi64_epi8::<0>(v, _mm512_set1_epi64(a as i64));
                    _mm512_storeu_si512(out.as_mut_ptr().cast(), r);
                }
                out
            }
            for m in MIX.iter().chain(&MAPS).chain(&MAPS3) {
                for base in (0..256).step_by(64) {
                    let x: [u8; 64] = std::array::from_fn(|k| (base + k) as u8);
                    // SAFETY: the CPU has the features (checked above).
                    #[allow(unsafe_code)]
                    let got = unsafe { by_instruction(*m, &x) };
                    assert_eq!(got, x.map(|b| affine(*m, b)), "{m:x}");
                }
            }
        }
    }

    #[test]
    fn the_first_tests_pass_few_positions_of_code() {
        // What share of random text's positions passes the first tests: the
        // built-in keywords' register and pair tables, on bytes of code's
        // alphabet (0.3% pass each half of the pair table, as many as the
        // table of 2^16 bits).
        let words: Vec<Vec<u8>> =
            crate::secrets::BUILTIN.iter().flat_map(|r| r.keywords.iter().map(|k| k.as_bytes().to_vec())).collect();
        let lit = Literals::new(words.iter().map(|w| (&w[..], true)));
        let alphabet = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.,;:(){}[]=\"'/\n";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let text: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                alphabet[(x % alphabet.len() as u64) as usize]
            })
            .collect();
        let passed = text
            .windows(4)
            .filter(|w| {
                let h = hashes([w[0], w[1], w[2], w[3]]);
                (0..4).all(|t| lit.tables[t][usize::from(h[t] & 127)] >> select(h[4], t) & 1 != 0)
            })
            .count();
        assert!(passed < text.len() / 10, "{passed} of {} positions pass", text.len());
        let passed3 = text
            .windows(3)
            .filter(|w| {
                let h = hashes3([w[0], w[1], w[2]]);
                (0..3).all(|t| {
                    let (byte, bit) = place3(h, t);
                    lit.tables3[t][byte] >> bit & 1 != 0
                })
            })
            .count();
        assert!(!lit.threes.is_empty());
        assert!(passed3 < text.len() / 100, "{passed3} of {} positions pass the three-byte tables", text.len());
        // The pair table, as each position's bit in the word of the three
        // bytes after it (an even position) or of its own first three (odd),
        // against the table of 2^16 bits it replaces.
        let fours = || text.windows(4).map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
        let filtered = fours().filter(|&w| lit.test(w) != 0).count();
        for (half, word) in [(0, 8), (16, 0)] {
            let paired = fours().filter(|&w| lit.pairs[pair_word(w >> word)] >> (half + pair_bit(w)) & 1 != 0).count();
            assert!(
                paired < 2 * filtered.max(100),
                "{paired} of {} positions pass half {half}, {filtered} the filter",
                text.len()
            );
        }
    }

    #[test]
    fn lower8_lowers_ascii_letters_only() {
        for b in 0..=255u8 {
            let v = u64::from_le_bytes([b, b'A', b'Z', b'@', b'[', b'a', 0xC1, b'z']);
            let expected =
                u64::from_le_bytes([b, b'A', b'Z', b'@', b'[', b'a', 0xC1, b'z'].map(|c| c.to_ascii_lowercase()));
            assert_eq!(lower8(v), expected, "{b}");
        }
    }

    #[test]
    fn keywords_under_three_bytes_are_not_taken() {
        let lit = Literals::new([(&b"ab"[..], false), (&b"abc"[..], false)]);
        assert_eq!(fast(&lit, b"xxabcxxab"), [(2, 1)]);
    }
}
