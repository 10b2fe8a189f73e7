//! A 128-bit hash taken 64 bytes at a time, by the loop that skips a JSON
//! container: the walker keys every message of a request by its bytes (agent
//! loops re-send the whole conversation), and reading them once for the skip
//! and again for the hash was two passes over every re-sent byte.
//!
//! The shape is XXH3's long-input loop (Yann Collet's design, as documented in
//! its specification): per 64-byte stripe, each 8-byte lane XORed with a
//! stripe-dependent slice of a secret, multiplied 32×32→64 and added to an
//! accumulator, the lane itself added to its neighbour; every 16 stripes the
//! accumulators are scrambled; at the end they are folded into two 64-bit
//! halves with the length. It differs from XXH3 in its secret (drawn anew by
//! each process, so that a dump cannot be built to make two payloads collide,
//! one then dropped as the other's duplicate) and in its last stripe,
//! zero-padded rather than overlapping; it is only ever compared with itself,
//! within one process.
//!
//! Two backends give the same hash: [`Stripes`] with AVX-512 (one register of
//! eight lanes) and [`Stripes2`] with AVX2 (two of four), so that a machine
//! without AVX-512 also keys what it skips in the skip's own pass.

#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256i, __m512i, _mm256_add_epi64, _mm256_and_si256, _mm256_loadu_si256, _mm256_mul_epu32, _mm256_set1_epi64x,
    _mm256_setr_epi64x, _mm256_shuffle_epi32, _mm256_slli_epi64, _mm256_srli_epi64, _mm256_storeu_si256,
    _mm256_xor_si256, _mm512_add_epi64, _mm512_loadu_si512, _mm512_maskz_loadu_epi8, _mm512_mul_epu32,
    _mm512_set1_epi64, _mm512_setr_epi64, _mm512_shuffle_epi32, _mm512_slli_epi64, _mm512_srli_epi64,
    _mm512_storeu_si512, _mm512_xor_si512,
};

const PRIME32_1: u64 = 0x9E37_79B1;
const PRIME32_2: u64 = 0x85EB_CA77;
const PRIME32_3: u64 = 0xC2B2_AE3D;
const PRIME64_1: u64 = 0x9E37_79B1_85EB_CA87;
const PRIME64_2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const PRIME64_3: u64 = 0x1656_67B1_9E37_79F9;
const PRIME64_4: u64 = 0x85EB_CA77_C2B2_AE63;
const PRIME64_5: u64 = 0x27D4_EB2F_1656_67C5;

/// Stripes per scramble: (secret length − 64) / 8.
const STRIPES: usize = 16;

/// The process's 192 bytes of secret: fixed constants XORed with words drawn
/// from the standard library's per-process random hash keys.
pub(crate) fn secret() -> &'static [u8; 192] {
    static SECRET: std::sync::OnceLock<[u8; 192]> = std::sync::OnceLock::new();
    SECRET.get_or_init(|| {
        use std::hash::{BuildHasher, Hasher};
        let random = std::collections::hash_map::RandomState::new();
        let mut out = CONSTANTS;
        for (i, chunk) in out.chunks_exact_mut(8).enumerate() {
            let mut h = random.build_hasher();
            h.write_usize(i);
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default()) ^ h.finish();
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    })
}

/// A seed for the xxh3 that keys what the masks cannot read, from the same
/// secret.
pub(crate) fn seed() -> u64 {
    u64::from_le_bytes(secret()[..8].try_into().unwrap_or_default())
}

/// 192 bytes drawn by SplitMix64 from a fixed seed.
const CONSTANTS: [u8; 192] = constants();

const fn constants() -> [u8; 192] {
    let mut out = [0u8; 192];
    let mut state: u64 = 0x6c65_616b_6c65_6467; // "leakledg"
    let mut i = 0;
    while i < 24 {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let bytes = z.to_le_bytes();
        let mut k = 0;
        while k < 8 {
            out[i * 8 + k] = bytes[k];
            k += 1;
        }
        i += 1;
    }
    out
}

fn read64(s: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The running state: eight 64-bit accumulators and the stripe count.
pub(crate) struct Stripes {
    acc: __m512i,
    stripes: usize,
    secret: &'static [u8; 192],
}

impl Stripes {
    /// A new hash. Needs AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(crate) fn new() -> Self {
        let acc = _mm512_setr_epi64(
            PRIME32_3 as i64,
            PRIME64_1 as i64,
            PRIME64_2 as i64,
            PRIME64_3 as i64,
            PRIME64_4 as i64,
            PRIME32_2 as i64,
            PRIME64_5 as i64,
            PRIME32_1 as i64,
        );
        Stripes { acc, stripes: 0, secret: secret() }
    }

    /// Adds the first `n` bytes of `block` (all 64 but for the last stripe).
    #[target_feature(enable = "avx512f,avx512bw")]
    #[inline]
    pub(crate) fn add(&mut self, block: &[u8; 64], n: usize) {
        let keep = if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
        // SAFETY: both loads read inside 64-byte arrays (the masked load reads
        // only the kept bytes); the secret holds 64 bytes past 8 × 15.
        let (data, key) = unsafe {
            (
                _mm512_maskz_loadu_epi8(keep, block.as_ptr().cast()),
                _mm512_loadu_si512(self.secret.as_ptr().add(8 * self.stripes).cast()),
            )
        };
        let mixed = _mm512_xor_si512(data, key);
        let product = _mm512_mul_epu32(mixed, _mm512_srli_epi64::<32>(mixed));
        // Each lane added to its neighbour: 64-bit halves of each 128 swapped.
        let swapped = _mm512_shuffle_epi32::<0x4E>(data);
        self.acc = _mm512_add_epi64(self.acc, _mm512_add_epi64(product, swapped));
        self.stripes += 1;
        if self.stripes == STRIPES {
            self.stripes = 0;
            // SAFETY: the last 64 bytes of the 192-byte secret.
            let key = unsafe { _mm512_loadu_si512(self.secret.as_ptr().add(128).cast()) };
            let a = _mm512_xor_si512(_mm512_xor_si512(self.acc, _mm512_srli_epi64::<47>(self.acc)), key);
            let prime = _mm512_set1_epi64(PRIME32_1 as i64);
            let low = _mm512_mul_epu32(a, prime);
            let high = _mm512_mul_epu32(_mm512_srli_epi64::<32>(a), prime);
            self.acc = _mm512_add_epi64(low, _mm512_slli_epi64::<32>(high));
        }
    }

    /// The hash of the `len` bytes added.
    #[target_feature(enable = "avx512f")]
    pub(crate) fn finish(self, len: usize) -> u128 {
        let mut acc = [0u64; 8];
        // SAFETY: the store writes the 64 bytes of `acc`.
        unsafe { _mm512_storeu_si512(acc.as_mut_ptr().cast(), self.acc) };
        fold(self.secret, &acc, len)
    }
}

/// [`Stripes`] with AVX2: the same hash, the eight lanes in two registers.
pub(crate) struct Stripes2 {
    acc: [__m256i; 2],
    stripes: usize,
    secret: &'static [u8; 192],
}

/// 64 bytes of ones then 64 of zeros: the 64 bytes from `64 - n` keep the
/// first `n` bytes of a block (AVX2 has no masked byte load).
static KEEP: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 64 {
        t[i] = 0xFF;
        i += 1;
    }
    t
};

impl Stripes2 {
    /// A new hash. Needs AVX2.
    #[target_feature(enable = "avx2")]
    pub(crate) fn new() -> Self {
        let acc = [
            _mm256_setr_epi64x(PRIME32_3 as i64, PRIME64_1 as i64, PRIME64_2 as i64, PRIME64_3 as i64),
            _mm256_setr_epi64x(PRIME64_4 as i64, PRIME32_2 as i64, PRIME64_5 as i64, PRIME32_1 as i64),
        ];
        Stripes2 { acc, stripes: 0, secret: secret() }
    }

    /// Adds the first `n` bytes of `block` (all 64 but for the last stripe).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(crate) fn add(&mut self, block: &[u8; 64], n: usize) {
        // SAFETY: every load reads inside a 64-byte array, the 128-byte `KEEP`
        // (from `64 - n`, n ≤ 64) or the 192-byte secret (8 × 15 + 64 ≤ 192).
        unsafe {
            let mut data =
                [_mm256_loadu_si256(block.as_ptr().cast()), _mm256_loadu_si256(block.as_ptr().add(32).cast())];
            if n < 64 {
                let keep = KEEP.as_ptr().add(64 - n);
                data[0] = _mm256_and_si256(data[0], _mm256_loadu_si256(keep.cast()));
                data[1] = _mm256_and_si256(data[1], _mm256_loadu_si256(keep.add(32).cast()));
            }
            let key = self.secret.as_ptr().add(8 * self.stripes);
            for (k, acc) in self.acc.iter_mut().enumerate() {
                let mixed = _mm256_xor_si256(data[k], _mm256_loadu_si256(key.add(32 * k).cast()));
                let product = _mm256_mul_epu32(mixed, _mm256_srli_epi64::<32>(mixed));
                let swapped = _mm256_shuffle_epi32::<0x4E>(data[k]);
                *acc = _mm256_add_epi64(*acc, _mm256_add_epi64(product, swapped));
            }
            self.stripes += 1;
            if self.stripes == STRIPES {
                self.stripes = 0;
                let prime = _mm256_set1_epi64x(PRIME32_1 as i64);
                for (k, acc) in self.acc.iter_mut().enumerate() {
                    let key = _mm256_loadu_si256(self.secret.as_ptr().add(128 + 32 * k).cast());
                    let a = _mm256_xor_si256(_mm256_xor_si256(*acc, _mm256_srli_epi64::<47>(*acc)), key);
                    let low = _mm256_mul_epu32(a, prime);
                    let high = _mm256_mul_epu32(_mm256_srli_epi64::<32>(a), prime);
                    *acc = _mm256_add_epi64(low, _mm256_slli_epi64::<32>(high));
                }
            }
        }
    }

    /// The hash of the `len` bytes added.
    #[target_feature(enable = "avx2")]
    pub(crate) fn finish(self, len: usize) -> u128 {
        let mut acc = [0u64; 8];
        // SAFETY: the two stores write the 64 bytes of `acc`.
        unsafe {
            _mm256_storeu_si256(acc.as_mut_ptr().cast(), self.acc[0]);
            _mm256_storeu_si256(acc.as_mut_ptr().add(4).cast(), self.acc[1]);
        }
        fold(self.secret, &acc, len)
    }
}

/// The hash from the accumulators and the length.
fn fold(secret: &[u8; 192], acc: &[u64; 8], len: usize) -> u128 {
    let len = len as u64;
    let low = merge(secret, acc, 11, len.wrapping_mul(PRIME64_1));
    let high = merge(secret, acc, 192 - 64 - 11, !len.wrapping_mul(PRIME64_2));
    u128::from(high) << 64 | u128::from(low)
}

/// Folds the accumulators into 64 bits with the secret from `at`.
fn merge(secret: &[u8; 192], acc: &[u64; 8], at: usize, start: u64) -> u64 {
    let mut h = start;
    for i in 0..4 {
        let a = acc[2 * i] ^ read64(secret, at + 16 * i);
        let b = acc[2 * i + 1] ^ read64(secret, at + 16 * i + 8);
        let m = u128::from(a) * u128::from(b);
        h = h.wrapping_add((m as u64) ^ ((m >> 64) as u64));
    }
    h ^= h >> 37;
    h = h.wrapping_mul(0x1656_6791_9E37_79F9);
    h ^ (h >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hash of `bytes`, lane by lane in plain arithmetic: what both
    /// backends must give.
    fn reference(bytes: &[u8]) -> u128 {
        let secret = secret();
        let mut acc = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1];
        let mut stripes = 0;
        let mut blocks = bytes.chunks_exact(64);
        let mut last = [0u8; 64];
        last[..blocks.remainder().len()].copy_from_slice(blocks.remainder());
        for block in blocks.by_ref().chain(std::iter::once(&last[..])) {
            let lanes: Vec<u64> = (0..8).map(|l| read64(block, 8 * l)).collect();
            for l in 0..8 {
                let mixed = lanes[l] ^ read64(secret, 8 * stripes + 8 * l);
                let product = (mixed & 0xFFFF_FFFF) * (mixed >> 32);
                acc[l] = acc[l].wrapping_add(product).wrapping_add(lanes[l ^ 1]);
            }
            stripes += 1;
            if stripes == STRIPES {
                stripes = 0;
                for (l, a) in acc.iter_mut().enumerate() {
                    let x = *a ^ (*a >> 47) ^ read64(secret, 128 + 8 * l);
                    *a = (x & 0xFFFF_FFFF).wrapping_mul(PRIME32_1).wrapping_add(((x >> 32) * PRIME32_1) << 32);
                }
            }
        }
        fold(secret, &acc, bytes.len())
    }

    #[test]
    fn both_backends_give_the_reference_hash() {
        // Lengths across the stripes, the scramble (16 stripes) and a last
        // stripe of every length; bytes that vary by position.
        for len in (0..200).chain([1023, 1024, 1025, 1087, 1088, 1089, 3000]) {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
            let want = reference(&bytes);
            // The last stripe padded with bytes the hash must not read.
            let full = len / 64 * 64;
            let mut last = [0xEEu8; 64];
            last[..len - full].copy_from_slice(&bytes[full..]);
            // The hash of `bytes` by one backend's `Stripes`.
            macro_rules! hash_by {
                ($new:expr) => {{
                    let mut h = $new;
                    for b in bytes[..full].chunks_exact(64) {
                        h.add(b.try_into().unwrap(), 64);
                    }
                    h.add(&last, len - full);
                    h.finish(len)
                }};
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2.
                assert_eq!(unsafe { hash_by!(Stripes2::new()) }, want, "AVX2, length {len}");
            }
            if std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512bw") {
                // SAFETY: the CPU has AVX-512F and BW.
                assert_eq!(unsafe { hash_by!(Stripes::new()) }, want, "AVX-512, length {len}");
            }
        }
    }
}
