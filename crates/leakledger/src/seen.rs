//! The walker's index of messages seen before: a cache of fixed size, one
//! cache line per lookup.
//!
//! A resent conversation is mostly messages the walker has seen, each known by
//! its 128-bit key. In a hash map of a hundred thousand of them, a lookup
//! missed the CPU cache twice (the control bytes, then the entry): 4.6% of a
//! pass over the synthetic dump (docs/benchmarks.md, session 16). Here a key
//! picks one set of four entries in one 64-byte line, which the walker
//! fetches ahead ([`SeenIndex::prefetch`]) while it reads the next message.
//! Like the hash map it replaces, it only changes how fast a payload is
//! walked: an entry pushed out of a full set costs walking that message again.

/// log2 of the number of sets: 2^16 sets of four, 262,144 entries in 4 MiB.
/// With three ways in 2^15 or 2^16 sets, entries pushed out of full sets
/// cost 2-4% more messages walked than the hash map.
const SET_BITS: u32 = 16;
const WAYS: usize = 4;

/// One cache line: four entries' tags (the key's high half, never 0 for an
/// entry), where their pieces are, and check bits (the key's 16 bits above
/// those that pick the set).
#[derive(Clone, Copy, Default)]
#[repr(C, align(64))]
struct Set {
    tag: [u64; WAYS],
    start: [u32; WAYS],
    check: [u16; WAYS],
    len: [u16; WAYS],
}

const _: () = assert!(std::mem::size_of::<Set>() == 64);
// `insert` picks the way to replace by the tag's top two bits.
const _: () = assert!(WAYS == 4);

/// Messages seen before: a key's pieces as `(start, len)` in the walker's
/// arena of message pieces.
#[derive(Default)]
pub(crate) struct SeenIndex {
    /// Empty until the first insert: a walker that never sees a message
    /// costs no table.
    sets: Vec<Set>,
}

impl std::fmt::Debug for SeenIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeenIndex").field("sets", &self.sets.len()).finish()
    }
}

/// The set a key falls in, its tag and its check bits. Keys are hashes made
/// with the process's seed, so their bits are as good as random; 95 of them
/// must match.
fn parts(key: u128) -> (usize, u64, u16) {
    let low = key as u64;
    ((low & ((1 << SET_BITS) - 1)) as usize, ((key >> 64) as u64) | 1, (low >> 32) as u16)
}

impl SeenIndex {
    /// Starts fetching the line `key` falls in, for a lookup soon after.
    pub(crate) fn prefetch(&self, key: u128) {
        let Some(set) = self.sets.get(parts(key).0) else { return };
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch reads nothing the program sees and never faults;
        // SSE is part of every x86_64 CPU.
        #[allow(unsafe_code)]
        unsafe {
            use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(set).cast());
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = set;
    }

    /// Where the pieces of the message known by `key` are, if it is held.
    pub(crate) fn get(&self, key: u128) -> Option<(usize, usize)> {
        let (i, tag, check) = parts(key);
        let set = self.sets.get(i)?;
        (0..WAYS)
            .find(|&w| set.tag[w] == tag && set.check[w] == check)
            .map(|w| (set.start[w] as usize, set.len[w] as usize))
    }

    /// Holds `key`'s pieces at `start..start + len`, in place of an empty
    /// entry of its set or else of one the key's bits pick. Positions past
    /// `u32` are not held (the walker's arena is emptied long before), nor
    /// messages of more than 65,535 pieces.
    pub(crate) fn insert(&mut self, key: u128, start: usize, len: usize) {
        let (Ok(start), Ok(len)) = (u32::try_from(start), u16::try_from(len)) else { return };
        if self.sets.is_empty() {
            self.sets = vec![Set::default(); 1 << SET_BITS];
        }
        let (i, tag, check) = parts(key);
        let set = &mut self.sets[i];
        let w = (0..WAYS)
            .find(|&w| set.tag[w] == 0 || (set.tag[w] == tag && set.check[w] == check))
            .unwrap_or((tag >> 62) as usize);
        (set.tag[w], set.check[w], set.start[w], set.len[w]) = (tag, check, start, len);
    }

    /// Forgets every entry (the arena they point into was emptied).
    pub(crate) fn clear(&mut self) {
        self.sets.fill(Set::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_what_was_inserted_and_forgets_on_clear() {
        let mut s = SeenIndex::default();
        assert_eq!(s.get(7), None);
        s.prefetch(7);
        s.insert(7, 3, 2);
        s.insert(7 | 1 << 100, 9, 1);
        assert_eq!(s.get(7), Some((3, 2)));
        assert_eq!(s.get(7 | 1 << 100), Some((9, 1)));
        // Same set, same tag, other check bits: another key.
        assert_eq!(s.get(7 | 1 << 40), None);
        s.insert(7, 5, 0);
        assert_eq!(s.get(7), Some((5, 0)), "a key inserted again is updated in place");
        s.clear();
        assert_eq!(s.get(7), None);
    }

    #[test]
    fn a_full_set_replaces_one_entry() {
        let mut s = SeenIndex::default();
        // Five keys of one set (same low bits), four ways: the last takes the
        // place of one of the others (the one its top bits pick, here 3).
        let keys: Vec<u128> = (1..=5u128).map(|k| ((2 * k + 1) | 3 << 62) << 64 | 5).collect();
        for (n, &k) in keys.iter().enumerate() {
            s.insert(k, n, 1);
        }
        let held: Vec<bool> = keys.iter().map(|&k| s.get(k).is_some()).collect();
        assert_eq!(held, [true, true, true, false, true]);
        assert_eq!(s.get(keys[4]), Some((4, 1)));
    }

    #[test]
    fn what_does_not_fit_is_not_held() {
        let mut s = SeenIndex::default();
        s.insert(1, usize::MAX, 1);
        s.insert(2, 0, 1 << 16);
        assert_eq!((s.get(1), s.get(2)), (None, None));
    }
}
