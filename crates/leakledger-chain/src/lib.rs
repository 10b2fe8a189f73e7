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

/// "No key": an absent parent, an unnumbered root.
const NONE: u32 = u32::MAX;

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
    /// For each key, the index of the key its parent id names (the first key
    /// with that id), or `u32::MAX` when it names none, itself, or an absent one.
    pub parent: Vec<u32>,
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
    use rayon::prelude::*;
    let n = keys.len();
    assert!(n < NONE as usize, "more keys than a chain index can number");
    let mut root: Vec<u32> = (0..n as u32).collect();
    // Ids and traces sorted (on every core) rather than hashed into maps: at
    // millions of keys each insert into a map was a cache miss.
    let mut ids: Vec<(u64, u32)> = keys.iter().enumerate().map(|(i, k)| (k.id, i as u32)).collect();
    ids.par_sort_unstable();
    let index = Buckets::new(&ids, |e| e.0);
    // Each key's parent: the first key with the parent's id.
    let up: Vec<u32> = keys
        .par_iter()
        .map(|k| match k.parent {
            Some(p) if p != k.id => index.run(&ids, |e| e.0, p).first().map_or(NONE, |e| e.1),
            _ => NONE,
        })
        .collect();
    let mut orphans = 0;
    let mut self_parents = 0;
    let mut up = up;
    for (i, k) in keys.iter().enumerate() {
        match k.parent {
            Some(p) if p == k.id => self_parents += 1,
            Some(_) if up[i] == NONE => orphans += 1,
            // A duplicate id naming itself through its first key is no link.
            Some(_) if up[i] == i as u32 => up[i] = NONE,
            Some(_) => union(&mut root, i as u32, up[i]),
            None => {}
        }
    }
    // Keys of one trace are one chain.
    let mut traces: Vec<(u64, u32)> =
        keys.iter().enumerate().filter_map(|(i, k)| k.trace.map(|t| (t, i as u32))).collect();
    traces.par_sort_unstable();
    for run in traces.chunk_by(|a, b| a.0 == b.0) {
        for e in &run[1..] {
            union(&mut root, e.1, run[0].1);
        }
    }
    drop((ids, index, traces));
    let mut number = vec![NONE; n];
    let mut sizes: Vec<u64> = Vec::new();
    let mut component = Vec::with_capacity(n);
    for i in 0..n as u32 {
        let r = find(&mut root, i) as usize;
        if number[r] == NONE {
            number[r] = sizes.len() as u32;
            sizes.push(0);
        }
        sizes[number[r] as usize] += 1;
        component.push(number[r]);
    }
    Chains {
        component,
        parent: up,
        total: sizes.len() as u64,
        orphans,
        max_length: sizes.iter().copied().max().unwrap_or(0),
        self_parents,
    }
}

/// What a request's conversation hashes to, for linking requests that carry no
/// trace or parent id: agent loops resend the whole history, so request N+1's
/// messages start with request N's. Hashes are of message prefixes, seeded by
/// organisation, user and system prompt so that no link crosses them; 0 is none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// The hash of all its messages.
    pub full: u64,
    /// The hashes of its longest strict prefixes (all messages but the last,
    /// but the last two, ...), longest first; 0 where there is none.
    pub prefixes: [u64; PREFIXES],
}

/// Strict prefixes kept per request: a turn adds one to four messages (an
/// assistant reply, a tool call and its results, a user message).
pub const PREFIXES: usize = 4;

/// Gives each key without a parent id the request whose whole history is the
/// longest prefix of its own (the previous turn of the same conversation), by
/// setting its parent to that key's id. Where several keys share that history
/// (a retry, or two conversations that open alike), one with the same trace id
/// is taken, else the latest logged at or before the key itself (`time`, in any
/// unit; `None` for unknown), else the earliest. Returns the links made.
///
/// ```
/// use leakledger_chain::{History, Key, build, link_histories};
/// let mut keys = [Key { id: 1, trace: None, parent: None }, Key { id: 2, trace: None, parent: None }];
/// let h = [History { full: 10, prefixes: [0; 4] }, History { full: 11, prefixes: [10, 0, 0, 0] }];
/// assert_eq!(link_histories(&mut keys, &h, &[Some(5), Some(9)]), 1);
/// assert_eq!(keys[1].parent, Some(1));
/// assert_eq!(build(&keys).total, 1);
/// ```
pub fn link_histories(keys: &mut [Key], histories: &[History], time: &[Option<i64>]) -> u64 {
    assert!(keys.len() == histories.len() && keys.len() == time.len(), "keys, histories and times differ in length");
    let t = |i: usize| time[i].unwrap_or(i64::MAX);
    // Every whole history with its time: candidates for one hash are a run of
    // this list, found by binary search (no scan, however many share a hash).
    use rayon::prelude::*;
    let mut all: Vec<(u64, i64, u32)> =
        histories.iter().enumerate().filter(|(_, h)| h.full != 0).map(|(i, h)| (h.full, t(i), i as u32)).collect();
    // Millions of requests: the sorts and the lookups run on every core.
    all.par_sort_unstable();
    // The earliest request of each (history, trace), sorted for binary search: a
    // plain list costs a third of a hash map's memory at millions of requests.
    let mut by_trace: Vec<(u64, u64, u32)> =
        all.iter().filter_map(|&(full, _, i)| keys[i as usize].trace.map(|tr| (full, tr, i))).collect();
    // Stable: within one (history, trace) the earliest (as `all` has them) comes first.
    by_trace.par_sort_by_key(|e| (e.0, e.1));
    by_trace.dedup_by_key(|e| (e.0, e.1));
    let index = Buckets::new(&all, |e| e.0);
    let pick = |full: u64, trace: Option<u64>, when: i64| -> Option<u32> {
        let run = index.run(&all, |e| e.0, full);
        if run.is_empty() {
            return None;
        }
        if let Some(tr) = trace
            && let Ok(k) = by_trace.binary_search_by_key(&(full, tr), |e| (e.0, e.1))
        {
            return Some(by_trace[k].2);
        }
        let before = run.partition_point(|e| e.1 <= when);
        run[..before].last().or(run.first()).map(|e| e.2)
    };
    // Each key's parent from the keys as they were (a link made here is never
    // read by another: only keys without a parent look, and only at ids).
    let parents: Vec<Option<u64>> = (0..keys.len())
        .into_par_iter()
        .map(|i| {
            if keys[i].parent.is_some() {
                return None;
            }
            let (trace, when) = (keys[i].trace, t(i));
            let found = histories[i].prefixes.iter().filter(|&&p| p != 0).find_map(|&p| pick(p, trace, when));
            found.filter(|&j| j as usize != i && keys[j as usize].id != keys[i].id).map(|j| keys[j as usize].id)
        })
        .collect();
    let mut links = 0;
    for (k, p) in keys.iter_mut().zip(parents) {
        if p.is_some() {
            k.parent = p;
            links += 1;
        }
    }
    links
}

/// Where each run of equal hashes starts in a list sorted by hash: the list's
/// first index per value of the hash's top bits, one bucket for every one or two
/// entries (hashes are uniform; at most 4 bytes per entry). A lookup reads one bucket and a run or two of the list,
/// where a binary search over millions missed the cache at nearly every step.
/// Ids come from the dump: crafted ones that share their top bits fill one
/// bucket, where the lookup is a binary search again (never a scan).
struct Buckets {
    shift: u32,
    starts: Vec<u32>,
}

impl Buckets {
    /// The index of `sorted`, a list sorted by `hash` of its entries.
    fn new<T>(sorted: &[T], hash: impl Fn(&T) -> u64) -> Self {
        let bits = (sorted.len().max(2).next_power_of_two().trailing_zeros() - 1).clamp(1, 31);
        let shift = 64 - bits;
        let mut starts = Vec::with_capacity((1 << bits) + 1);
        let mut at = 0;
        for b in 0..=(1u64 << bits) {
            while at < sorted.len() && (hash(&sorted[at]) >> shift) < b {
                at += 1;
            }
            starts.push(at as u32);
        }
        Self { shift, starts }
    }

    /// The entries of `sorted` (the list this was built from) whose hash is `h`.
    fn run<'a, T>(&self, sorted: &'a [T], hash: impl Fn(&T) -> u64, h: u64) -> &'a [T] {
        let b = (h >> self.shift) as usize;
        let bucket = &sorted[self.starts[b] as usize..self.starts[b + 1] as usize];
        let lo = bucket.partition_point(|e| hash(e) < h);
        let hi = lo + bucket[lo..].partition_point(|e| hash(e) <= h);
        &bucket[lo..hi]
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
/// [`build`] over the keys the times belong to.
///
/// ```
/// use leakledger_chain::{Key, build, order};
/// // The child (id 2) was logged one second before its parent by a skewed clock.
/// let keys = [
///     Key { id: 2, trace: None, parent: Some(1) },
///     Key { id: 1, trace: None, parent: None },
/// ];
/// let chains = build(&keys);
/// let o = order(&chains, &[Some(999), Some(1000)]);
/// assert_eq!(o.chain(0), &[1, 0]); // parent first all the same
/// assert_eq!(o.skewed, vec![0]);
/// ```
pub fn order(chains: &Chains, time: &[Option<i64>]) -> Order {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let n = chains.component.len();
    assert!(chains.parent.len() == n && time.len() == n, "chains and times differ in length");
    let t = |i: u32| time[i as usize].unwrap_or(i64::MAX);
    // Keys chain by chain (a counting sort), then each chain by time.
    let mut starts = vec![0u32; chains.total as usize + 1];
    for &c in &chains.component {
        starts[c as usize + 1] += 1;
    }
    for c in 1..starts.len() {
        starts[c] += starts[c - 1];
    }
    let mut idx = vec![0u32; n];
    let mut fill = starts.clone();
    for (i, &c) in chains.component.iter().enumerate() {
        idx[fill[c as usize] as usize] = i as u32;
        fill[c as usize] += 1;
    }
    drop(fill);
    for c in 0..chains.total as usize {
        // Indices within a chain are ascending already: a stable sort by time
        // breaks ties by index.
        idx[starts[c] as usize..starts[c + 1] as usize].sort_by_key(|&i| t(i));
    }
    let parent_of = |i: u32| Some(chains.parent[i as usize]).filter(|&j| j != NONE);
    let skewed: Vec<u32> = (0..n as u32)
        .filter(|&i| {
            parent_of(i).is_some_and(|j| matches!((time[i as usize], time[j as usize]), (Some(a), Some(b)) if a < b))
        })
        .collect();
    // Within each chain that has parent links, a topological order that takes the
    // earliest ready key first (Kahn's algorithm on positions in the time order).
    // Scratch buffers are reused from chain to chain.
    let mut in_cycles = 0;
    let mut pos = vec![0u32; n];
    let mut out = Vec::with_capacity(n);
    let mut edges: Vec<(u32, u32)> = Vec::new();
    let (mut indegree, mut up, mut placed) = (Vec::new(), Vec::new(), Vec::new());
    let mut heap = BinaryHeap::new();
    for c in 0..chains.total as usize {
        let slice = &idx[starts[c] as usize..starts[c + 1] as usize];
        for (p, &i) in slice.iter().enumerate() {
            pos[i as usize] = p as u32;
        }
        edges.clear();
        for (p, &i) in slice.iter().enumerate() {
            if let Some(j) = parent_of(i) {
                edges.push((pos[j as usize], p as u32));
            }
        }
        if edges.is_empty() {
            out.extend_from_slice(slice);
            continue;
        }
        edges.sort_unstable();
        indegree.clear();
        indegree.resize(slice.len(), 0u32);
        up.clear();
        up.resize(slice.len(), NONE);
        placed.clear();
        placed.resize(slice.len(), false);
        for &(parent, child) in &edges {
            indegree[child as usize] += 1;
            up[child as usize] = parent;
        }
        heap.clear();
        heap.extend((0..slice.len() as u32).filter(|&p| indegree[p as usize] == 0).map(Reverse));
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
    fn buckets_find_every_run_a_binary_search_finds() {
        // Runs of equal hashes, hashes at both ends of the range, lists of every
        // small length and one of thousands; each lookup against partition_point.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in (0..40).chain([1000, 5000]) {
            let mut sorted: Vec<(u64, i64, u32)> = (0..len)
                .map(|i| {
                    let h = match next() % 8 {
                        0 => 0,
                        1 => u64::MAX,
                        2 => 42, // a long run
                        _ => next(),
                    };
                    (h, i64::from(i % 3), i)
                })
                .collect();
            sorted.sort_unstable();
            let b = Buckets::new(&sorted, |e| e.0);
            let probes: Vec<u64> =
                sorted.iter().map(|e| e.0).chain([1, 41, 43, u64::MAX - 1]).chain((0..50).map(|_| next())).collect();
            for h in probes {
                let lo = sorted.partition_point(|e| e.0 < h);
                let hi = sorted.partition_point(|e| e.0 <= h);
                assert_eq!(b.run(&sorted, |e| e.0, h), &sorted[lo..hi], "len {len}, hash {h:#x}");
            }
        }
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
        let o = order(&c, &[Some(5), Some(10), Some(15), Some(20)]);
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
        let o = order(&c, &[Some(2), Some(1), None, Some(0)]);
        assert_eq!(o.cycles, 1);
        assert_eq!(o.chain(0), &[1, 0, 3]);
        assert_eq!(o.chain(1), &[2]);
        assert_eq!(o.order.len(), keys.len());
    }

    #[test]
    fn history_links_prefer_the_same_trace_then_the_nearest_earlier_request() {
        let h = |full, p: u64| History { full, prefixes: [p, 0, 0, 0] };
        // Two conversations that open alike (same first request, hash 10), an
        // hour apart; each second turn continues its own.
        let mut keys = [k(1, None, None), k(2, None, None), k(3, None, None), k(4, None, None)];
        let hist = [h(10, 0), h(10, 0), h(11, 10), h(12, 10)];
        let time = [Some(0), Some(3600), Some(60), Some(3660)];
        assert_eq!(link_histories(&mut keys, &hist, &time), 2);
        assert_eq!((keys[2].parent, keys[3].parent), (Some(1), Some(2)));
        // A child logged before its parent by a skewed clock: the earliest.
        let mut keys = [k(1, None, None), k(2, None, None)];
        assert_eq!(link_histories(&mut keys, &[h(10, 0), h(11, 10)], &[Some(50), Some(40)]), 1);
        assert_eq!(keys[1].parent, Some(1));
        // The same trace wins over time; a named parent is never replaced.
        let mut keys = [k(1, Some(7), None), k(2, Some(8), None), k(3, Some(7), None), k(4, None, Some(2))];
        let hist = [h(10, 0), h(10, 0), h(11, 10), h(12, 10)];
        link_histories(&mut keys, &hist, &[Some(0), Some(5), Some(9), Some(9)]);
        assert_eq!((keys[2].parent, keys[3].parent), (Some(1), Some(2)));
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
