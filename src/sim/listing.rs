//! Record keys kept in listing order, so that a page is cut by binary search
//! and index arithmetic instead of by filtering and sorting the whole world
//! for every request.
//!
//! Listings are newest first (`SortKey`'s order). A `Listing` stores its keys
//! the other way round, oldest first, so that a new record (almost always
//! the newest) is appended and retention drops a prefix; `Keys` reads them
//! back in listing order.

use std::cmp::Ordering;

/// Where an item sits in a listing: newest first, then by sequence, then by
/// its position inside its record (instance, history run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub created_ns: i128,
    pub seq: u64,
    pub sub: u64,
}

impl SortKey {
    /// The key of a whole record.
    pub fn record(created_ns: i128, seq: u64) -> Self {
        Self {
            created_ns,
            seq,
            sub: 0,
        }
    }

    /// The key of an item inside the same record.
    pub fn with_sub(self, sub: u64) -> Self {
        Self { sub, ..self }
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .created_ns
            .cmp(&self.created_ns)
            .then(other.seq.cmp(&self.seq))
            .then(self.sub.cmp(&other.sub))
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keys in listing order, with cheap appends and retention cuts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listing {
    /// Sorted by `SortKey` descending: the last key is the first listed.
    oldest_first: Vec<SortKey>,
}

/// The listing that matches nothing.
pub static EMPTY: Listing = Listing {
    oldest_first: Vec::new(),
};

impl Listing {
    /// A listing of `keys`, given in any order.
    pub fn from_keys(mut keys: Vec<SortKey>) -> Self {
        keys.sort_by(|a, b| b.cmp(a));
        Self { oldest_first: keys }
    }

    /// Adds `key` once (a task may name a machine twice). Cheapest for the
    /// newest key, which is appended.
    pub fn insert(&mut self, key: SortKey) {
        if self.oldest_first.last().is_none_or(|newest| *newest > key) {
            self.oldest_first.push(key);
            return;
        }
        let at = self.oldest_first.partition_point(|k| *k > key);
        if self.oldest_first.get(at) != Some(&key) {
            self.oldest_first.insert(at, key);
        }
    }

    pub fn len(&self) -> usize {
        self.oldest_first.len()
    }

    pub fn is_empty(&self) -> bool {
        self.oldest_first.is_empty()
    }

    /// Forgets the keys of records created before `cutoff_ns`.
    pub fn remove_older_than(&mut self, cutoff_ns: i128) {
        let stale = self.first_since(cutoff_ns);
        self.oldest_first.drain(..stale);
    }

    /// The keys of records created at or after `cutoff_ns`: what retention
    /// leaves visible.
    pub fn since(&self, cutoff_ns: i128) -> Keys<'_> {
        Keys {
            oldest_first: &self.oldest_first[self.first_since(cutoff_ns)..],
        }
    }

    pub fn keys(&self) -> Keys<'_> {
        Keys {
            oldest_first: &self.oldest_first,
        }
    }

    /// Older records come first in storage, so the stale ones are a prefix.
    fn first_since(&self, cutoff_ns: i128) -> usize {
        self.oldest_first
            .partition_point(|k| k.created_ns < cutoff_ns)
    }
}

/// A borrowed run of keys, read in listing order (newest first).
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    oldest_first: &'a [SortKey],
}

impl<'a> Keys<'a> {
    pub fn len(self) -> usize {
        self.oldest_first.len()
    }

    /// Every key, newest first.
    pub fn iter(self) -> impl DoubleEndedIterator<Item = SortKey> + ExactSizeIterator + 'a {
        self.oldest_first.iter().rev().copied()
    }

    /// Up to `count` keys from listing position `start` on, without reading
    /// the ones before.
    pub fn window(self, start: usize, count: usize) -> Vec<SortKey> {
        let len = self.len();
        let start = start.min(len);
        let end = start.saturating_add(count).min(len);
        // Listing positions start..end are storage positions len-end..len-start.
        self.oldest_first[len - end..len - start]
            .iter()
            .rev()
            .copied()
            .collect()
    }

    /// The listing position of the first key that comes after `key`, which
    /// need not be in the listing (a cursor's record may have expired).
    pub fn position_after(self, key: SortKey) -> usize {
        self.len() - self.oldest_first.partition_point(|k| *k > key)
    }

    /// The keys that pass `keep`, for filters that no index answers.
    pub fn filter(self, mut keep: impl FnMut(SortKey) -> bool) -> Listing {
        Listing {
            oldest_first: self
                .oldest_first
                .iter()
                .copied()
                .filter(|k| keep(*k))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(created: i128, seq: u64) -> SortKey {
        SortKey::record(created, seq)
    }

    fn listed(keys: Keys<'_>) -> Vec<u64> {
        keys.iter().map(|k| k.seq).collect()
    }

    #[test]
    fn keys_read_newest_first_whatever_the_insertion_order() {
        let mut listing = Listing::default();
        for (created, seq) in [(1, 1), (3, 3), (2, 2), (3, 4), (0, 5)] {
            listing.insert(key(created, seq));
        }
        assert_eq!(listed(listing.keys()), [4, 3, 2, 1, 5]);
        let built = Listing::from_keys(vec![key(0, 5), key(3, 4), key(1, 1), key(3, 3), key(2, 2)]);
        assert_eq!(built, listing);
        listing.insert(key(2, 2));
        assert_eq!(listing.len(), 5, "a key is listed once");
    }

    #[test]
    fn newest_first() {
        let mut keys = vec![key(1, 1), key(3, 3), key(2, 2), key(3, 4)];
        keys.sort();
        assert_eq!(keys, vec![key(3, 4), key(3, 3), key(2, 2), key(1, 1)]);
    }

    #[test]
    fn sub_positions_follow_their_record_in_order() {
        let sub = |seq, sub| key(7, seq).with_sub(sub);
        let listing = Listing::from_keys(vec![sub(1, 1), sub(2, 1), sub(1, 0), sub(2, 0)]);
        let order: Vec<(u64, u64)> = listing.keys().iter().map(|k| (k.seq, k.sub)).collect();
        assert_eq!(order, [(2, 0), (2, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn retention_hides_then_forgets_the_oldest() {
        let mut listing = Listing::from_keys((0..10).map(|i| key(i, i as u64)).collect());
        assert_eq!(listed(listing.since(7)), [9, 8, 7]);
        assert_eq!(listing.since(100).len(), 0);
        assert_eq!(listing.len(), 10);
        listing.remove_older_than(5);
        assert_eq!(listed(listing.keys()), [9, 8, 7, 6, 5]);
    }

    #[test]
    fn windows_and_cursors_cut_in_listing_order() {
        let listing = Listing::from_keys((0..10).map(|i| key(i, i as u64)).collect());
        let keys = listing.keys();
        let seqs = |v: Vec<SortKey>| v.into_iter().map(|k| k.seq).collect::<Vec<_>>();
        assert_eq!(seqs(keys.window(0, 3)), [9, 8, 7]);
        assert_eq!(seqs(keys.window(8, 5)), [1, 0]);
        assert!(keys.window(10, 5).is_empty());
        assert!(keys.window(usize::MAX, usize::MAX).is_empty());
        // After a key in the listing, and after one that is not (expired or
        // between two records).
        assert_eq!(keys.position_after(key(7, 7)), 3);
        assert_eq!(keys.position_after(key(20, 20)), 0);
        assert_eq!(keys.position_after(key(-1, 0)), 10);
        assert_eq!(listed(keys.filter(|k| k.seq % 3 == 0).keys()), [9, 6, 3, 0]);
    }
}
