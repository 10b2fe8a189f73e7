//! Request chains from compact keys: requests joined by a shared trace (session,
//! conversation) id, or by a parent id that names another request (design.md §4).
//! Knows nothing of dumps: callers hash their ids to `u64` and hand over one
//! [`Key`] per distinct request.
//!
//! ```
//! use leakledger_chain::{Key, build};
//! let keys = [
//!     Key { id: 1, trace: Some(10), parent: None },
//!     Key { id: 2, trace: None, parent: Some(1) },
//!     Key { id: 3, trace: Some(10), parent: None },
//!     Key { id: 4, trace: None, parent: Some(99) }, // parent never logged
//!     Key { id: 5, trace: None, parent: None },
//! ];
//! let chains = build(&keys);
//! assert_eq!((chains.total, chains.orphans, chains.max_length), (3, 1, 3));
//! assert_eq!(chains.component[0], chains.component[1]);
//! ```

#![warn(missing_docs)]

use std::collections::HashMap;

/// One distinct request: hashes of its own id, its trace id and its parent id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// The request's id (or span id).
    pub id: u64,
    /// Trace, session or conversation id.
    pub trace: Option<u64>,
    /// The id of the request it continues.
    pub parent: Option<u64>,
}

/// The chains of a set of keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chains {
    /// For each key (by index), its chain: a number in `0..total`, numbered in
    /// order of each chain's first key.
    pub component: Vec<u32>,
    /// Number of chains.
    pub total: u64,
    /// Keys whose parent is named but absent.
    pub orphans: u64,
    /// Keys in the largest chain.
    pub max_length: u64,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[x as usize];
        parent[x as usize] = parent[p as usize];
        x = p;
    }
    x
}

fn union(parent: &mut [u32], a: u32, b: u32) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        // The smaller index becomes the root, so results do not depend on order.
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[hi as usize] = lo;
    }
}

/// Builds the chains of `keys` (one per distinct request). A parent that names the
/// request itself is ignored; cycles are harmless (they are one chain).
pub fn build(keys: &[Key]) -> Chains {
    let n = keys.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    let mut by_id: HashMap<u64, u32> = HashMap::with_capacity(n);
    for (i, k) in keys.iter().enumerate() {
        by_id.entry(k.id).or_insert(i as u32);
    }
    let mut by_trace: HashMap<u64, u32> = HashMap::new();
    let mut orphans = 0;
    for (i, k) in keys.iter().enumerate() {
        let i = i as u32;
        if let Some(t) = k.trace {
            let first = *by_trace.entry(t).or_insert(i);
            union(&mut parent, i, first);
        }
        if let Some(p) = k.parent
            && p != k.id
        {
            match by_id.get(&p) {
                Some(&j) => union(&mut parent, i, j),
                None => orphans += 1,
            }
        }
    }
    let mut number: HashMap<u32, u32> = HashMap::new();
    let mut sizes: Vec<u64> = Vec::new();
    let mut component = Vec::with_capacity(n);
    for i in 0..n as u32 {
        let root = find(&mut parent, i);
        let next = number.len() as u32;
        let c = *number.entry(root).or_insert(next);
        if c as usize == sizes.len() {
            sizes.push(0);
        }
        sizes[c as usize] += 1;
        component.push(c);
    }
    Chains { component, total: sizes.len() as u64, orphans, max_length: sizes.iter().copied().max().unwrap_or(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(id: u64, trace: Option<u64>, parent: Option<u64>) -> Key {
        Key { id, trace, parent }
    }

    #[test]
    fn empty_and_singletons() {
        assert_eq!(build(&[]).total, 0);
        let c = build(&[k(1, None, None), k(2, None, None)]);
        assert_eq!((c.total, c.orphans, c.max_length), (2, 0, 1));
    }

    #[test]
    fn self_parents_and_cycles_are_safe() {
        let c = build(&[k(1, None, Some(1)), k(2, None, Some(3)), k(3, None, Some(2))]);
        assert_eq!((c.total, c.orphans, c.max_length), (2, 0, 2));
    }

    #[test]
    fn order_does_not_change_the_answer() {
        let mut keys: Vec<Key> =
            (0..200).map(|i| k(i, (i % 3 == 0).then_some(i / 30), (i % 5 != 0).then(|| i - 1))).collect();
        let a = build(&keys);
        keys.reverse();
        let b = build(&keys);
        assert_eq!((a.total, a.orphans, a.max_length), (b.total, b.orphans, b.max_length));
    }
}
