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
    /// Keys that name themselves as parent (the link is ignored).
    pub self_parents: u64,
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
    let mut self_parents = 0;
    for (i, k) in keys.iter().enumerate() {
        let i = i as u32;
        if let Some(t) = k.trace {
            let first = *by_trace.entry(t).or_insert(i);
            union(&mut parent, i, first);
        }
        if k.parent == Some(k.id) {
            self_parents += 1;
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
    Chains {
        component,
        total: sizes.len() as u64,
        orphans,
        max_length: sizes.iter().copied().max().unwrap_or(0),
        self_parents,
    }
}

/// The requests of each chain in order, and what the order revealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    /// Key indices chain by chain (chain 0 first), each chain in order: a parent
    /// before its children, then by time (keys without a time last), then by index.
    pub order: Vec<u32>,
    /// Where each chain starts in `order`: chain `c` is `order[starts[c]..starts[c + 1]]`.
    pub starts: Vec<u32>,
    /// Keys logged before their parent (clock skew between the streams that logged
    /// them, or a broken parent link). Reported, never reordered by time.
    pub skewed: Vec<u32>,
    /// Parent cycles (`a` names `b` and `b` names `a`), each broken at its earliest
    /// member, which is then ordered as if it had no parent.
    pub cycles: u64,
}

impl Order {
    /// The keys of chain `c`, in order (empty when there is no such chain).
    pub fn chain(&self, c: u32) -> &[u32] {
        let c = c as usize;
        match (self.starts.get(c), self.starts.get(c + 1)) {
            (Some(&a), Some(&b)) => &self.order[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// Orders each chain's keys: parent links first, timestamps second (`time[i]` is
/// key `i`'s time in any unit; `None` for unknown). `chains` must come from
/// [`build`] over the same `keys`.
///
/// ```
/// use leakledger_chain::{Key, build, order};
/// // The child (id 2) was logged one second before its parent by a skewed clock.
/// let keys = [
///     Key { id: 2, trace: None, parent: Some(1) },
///     Key { id: 1, trace: None, parent: None },
/// ];
/// let chains = build(&keys);
/// let o = order(&keys, &chains, &[Some(999), Some(1000)]);
/// assert_eq!(o.chain(0), &[1, 0]); // parent first all the same
/// assert_eq!(o.skewed, vec![0]);
/// ```
pub fn order(keys: &[Key], chains: &Chains, time: &[Option<i64>]) -> Order {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = keys.len();
    assert!(chains.component.len() == n && time.len() == n, "keys, chains and times differ in length");
    let t = |i: usize| time[i].unwrap_or(i64::MAX);
    let mut idx: Vec<u32> = (0..n as u32).collect();
    idx.sort_unstable_by_key(|&i| (chains.component[i as usize], t(i as usize), i));
    let mut starts = vec![0u32; chains.total as usize + 1];
    for &c in &chains.component {
        starts[c as usize + 1] += 1;
    }
    for c in 1..starts.len() {
        starts[c] += starts[c - 1];
    }
    // Each key's parent among the keys (the first key with that id, as `build` does).
    let mut by_id: HashMap<u64, u32> = HashMap::with_capacity(n);
    for (i, k) in keys.iter().enumerate() {
        by_id.entry(k.id).or_insert(i as u32);
    }
    let parent_of = |i: usize| -> Option<u32> {
        let p = keys[i].parent.filter(|&p| p != keys[i].id)?;
        by_id.get(&p).copied().filter(|&j| j as usize != i)
    };
    let mut skewed = Vec::new();
    for i in 0..n {
        if let Some(j) = parent_of(i)
            && let (Some(a), Some(b)) = (time[i], time[j as usize])
            && a < b
        {
            skewed.push(i as u32);
        }
    }
    // Within each chain that has parent links, a topological order that takes the
    // earliest ready key first (Kahn's algorithm on positions in the time order).
    let mut in_cycles = 0;
    let mut pos = vec![0u32; n];
    let mut out = Vec::with_capacity(n);
    let mut edges: Vec<(u32, u32)> = Vec::new();
    let mut heap = BinaryHeap::new();
    for c in 0..chains.total as usize {
        let slice = &idx[starts[c] as usize..starts[c + 1] as usize];
        for (p, &i) in slice.iter().enumerate() {
            pos[i as usize] = p as u32;
        }
        edges.clear();
        for (p, &i) in slice.iter().enumerate() {
            if let Some(j) = parent_of(i as usize) {
                edges.push((pos[j as usize], p as u32));
            }
        }
        if edges.is_empty() {
            out.extend_from_slice(slice);
            continue;
        }
        edges.sort_unstable();
        let mut indegree = vec![0u32; slice.len()];
        let mut up = vec![u32::MAX; slice.len()];
        for &(parent, child) in &edges {
            indegree[child as usize] += 1;
            up[child as usize] = parent;
        }
        heap.clear();
        heap.extend((0..slice.len() as u32).filter(|&p| indegree[p as usize] == 0).map(Reverse));
        let mut placed = vec![false; slice.len()];
        loop {
            while let Some(Reverse(p)) = heap.pop() {
                out.push(slice[p as usize]);
                placed[p as usize] = true;
                let from = edges.partition_point(|&(a, _)| a < p);
                for &(_, child) in edges[from..].iter().take_while(|&&(a, _)| a == p) {
                    // A cycle's break point was freed already (its indegree is 0).
                    if indegree[child as usize] > 0 {
                        indegree[child as usize] -= 1;
                        if indegree[child as usize] == 0 {
                            heap.push(Reverse(child));
                        }
                    }
                }
            }
            // What is left hangs off parent cycles: break each at its earliest member.
            let breaks = cycle_breaks(&up, &placed);
            if breaks.is_empty() {
                break;
            }
            in_cycles += breaks.len() as u64;
            for p in breaks {
                indegree[p as usize] = 0;
                heap.push(Reverse(p));
            }
        }
    }
    Order { order: out, starts, skewed, cycles: in_cycles }
}

/// The earliest position of each cycle among the unplaced positions, where `up[p]`
/// is `p`'s parent position (`u32::MAX` for none). Each node has at most one
/// parent, so walking up from every node finds every cycle in linear time.
fn cycle_breaks(up: &[u32], placed: &[bool]) -> Vec<u32> {
    const NONE: u32 = u32::MAX;
    let mut walk = vec![NONE; up.len()];
    let mut breaks = Vec::new();
    for start in 0..up.len() as u32 {
        if placed[start as usize] || walk[start as usize] != NONE {
            continue;
        }
        let mut p = start;
        while p != NONE && !placed[p as usize] && walk[p as usize] == NONE {
            walk[p as usize] = start;
            p = up[p as usize];
        }
        if p != NONE && !placed[p as usize] && walk[p as usize] == start {
            // `p` is on a new cycle: find its earliest member.
            let (mut q, mut min) = (up[p as usize], p);
            while q != p {
                min = min.min(q);
                q = up[q as usize];
            }
            breaks.push(min);
        }
    }
    breaks
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
    fn chains_are_ordered_by_links_then_time() {
        // 1 <- 2 <- 3 in one trace with 4 (no parent); 3 logged early by a skewed clock.
        let keys = [k(3, Some(9), Some(2)), k(1, Some(9), None), k(4, Some(9), None), k(2, Some(9), Some(1))];
        let c = build(&keys);
        let o = order(&keys, &c, &[Some(5), Some(10), Some(15), Some(20)]);
        assert_eq!(o.chain(0), &[1, 2, 3, 0]);
        assert_eq!(o.skewed, vec![0]);
        assert_eq!(o.cycles, 0);
        assert_eq!(o.chain(1), &[] as &[u32]);
    }

    #[test]
    fn cycles_are_placed_by_time_and_counted() {
        let keys = [k(1, None, Some(2)), k(2, None, Some(1)), k(3, None, Some(3)), k(4, None, Some(1))];
        let c = build(&keys);
        assert_eq!((c.total, c.self_parents), (2, 1));
        // Key 3 (child of 1) has the earliest time but still follows its parent.
        let o = order(&keys, &c, &[Some(2), Some(1), None, Some(0)]);
        assert_eq!(o.cycles, 1);
        assert_eq!(o.chain(0), &[1, 0, 3]);
        assert_eq!(o.chain(1), &[2]);
        assert_eq!(o.order.len(), keys.len());
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
