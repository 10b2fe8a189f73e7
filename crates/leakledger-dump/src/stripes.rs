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

#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m512i, _mm512_add_epi64, _mm512_loadu_si512, _mm512_maskz_loadu_epi8, _mm512_mul_epu32, _mm512_set1_epi64,
    _mm512_setr_epi64, _mm512_shuffle_epi32, _mm512_slli_epi64, _mm512_srli_epi64, _mm512_storeu_si512,
    _mm512_xor_si512,
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
        let len = len as u64;
        let low = merge(self.secret, &acc, 11, len.wrapping_mul(PRIME64_1));
        let high = merge(self.secret, &acc, 192 - 64 - 11, !len.wrapping_mul(PRIME64_2));
        u128::from(high) << 64 | u128::from(low)
    }
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
