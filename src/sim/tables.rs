//! The world's records in listing order, with the indexes the Describe
//! actions filter by, so that a request costs an index lookup plus its page
//! rather than a pass over every record.
//!
//! One `Table` serves every kind of record; a record says, through `Record`,
//! where it sorts, which scope it is listed in (a product and region, or a
//! region) and which values it is found by. Each listing holds exactly the
//! records its key names (a scope, and perhaps a name, an instance, a
//! command id). A request whose only filter is such a key is answered from
//! its listing alone: TotalCount is the listing's length past the retention
//! cutoff and the page is cut by index arithmetic. A request with other
//! filters starts from the smallest listing that holds every possible match
//! and tests only those records.
//!
//! A record may also be listed item by item (an invocation's per-instance
//! runs, for DescribeInvocationResults): its items get listings of their
//! own, keyed by the record's key with a sub-position.
//!
//! Records never change once stored and are shared as `Arc`s, so a request
//! holds the world's lock only while it picks its page, then renders
//! without it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Arc;

use super::listing::{EMPTY, Listing, SortKey};

/// What the tables need to know of a record to list and find it.
pub trait Record {
    /// What listings are kept per: a product and region, a region.
    type Scope: Eq + Hash;

    /// Its place in listings (sub-position 0).
    fn key(&self) -> SortKey;

    fn invoke_id(&self) -> &str;

    fn scope(&self) -> Self::Scope;

    /// Calls `add(field, value)` for every value the record is found by
    /// within its scope; `field` is the value's position in a `Lookup`. A
    /// field may have several values (a task's instances).
    fn index(&self, add: &mut dyn FnMut(usize, &str));

    /// Calls `add(sub, values)` for every item listed on its own (the
    /// latest run on each instance), `values` being what the item is found
    /// by, one per field. Records listed only whole have none.
    fn index_items(&self, _add: &mut dyn FnMut(u64, &[&str])) {}

    /// The sub-positions of every item, earlier runs included when
    /// `history` is asked for.
    fn item_subs(&self, _history: bool) -> Vec<u64> {
        Vec::new()
    }
}

/// What a Describe action can find by index.
#[derive(Debug, Clone)]
pub struct Lookup<'q, S> {
    /// `None` reads every scope (eflo queries name no region).
    pub scope: Option<S>,
    pub invoke_id: Option<&'q str>,
    /// The indexed fields' values, in the order `Record::index` numbers
    /// them; `None` where the query does not filter by that field.
    pub fields: Vec<Option<&'q str>>,
}

/// Where to start reading for a query, and whether every record there
/// matches it (then nothing needs testing).
#[derive(Debug)]
pub struct Candidates<'a> {
    pub listing: Cow<'a, Listing>,
    pub exact: bool,
}

impl<'a> Candidates<'a> {
    fn exact(listing: Option<&'a Listing>) -> Self {
        Self {
            listing: Cow::Borrowed(listing.unwrap_or(&EMPTY)),
            exact: true,
        }
    }

    fn tested(listing: Cow<'a, Listing>) -> Self {
        Self {
            listing,
            exact: false,
        }
    }
}

/// Records of one kind, in listing order and indexed.
#[derive(Debug)]
pub struct Table<R: Record> {
    records: HashMap<u64, Arc<R>>,
    /// Every record, for retention and scope-less queries.
    all: Listing,
    /// Across scopes: invoke ids are unique, so these are tiny.
    by_invoke_id: HashMap<String, Listing>,
    scopes: HashMap<R::Scope, Scope>,
}

impl<R: Record> Default for Table<R> {
    fn default() -> Self {
        Self {
            records: HashMap::new(),
            all: Listing::default(),
            by_invoke_id: HashMap::new(),
            scopes: HashMap::new(),
        }
    }
}

/// The listings of one scope: of its records, and of their items.
#[derive(Debug, Default)]
struct Scope {
    records: Listings,
    items: Listings,
}

/// Every key, and the keys per value of each indexed field.
#[derive(Debug, Default)]
struct Listings {
    all: Listing,
    by_field: Vec<HashMap<String, Listing>>,
}

impl Listings {
    /// Adds `key` to the listing of `value` in `field`.
    fn push(&mut self, field: usize, value: &str, key: SortKey) {
        if self.by_field.len() <= field {
            self.by_field.resize_with(field + 1, HashMap::new);
        }
        push(&mut self.by_field[field], value, key);
    }

    /// Drops the stale keys of `value`'s listing in `field`.
    fn trim(&mut self, field: usize, value: &str, cutoff_ns: i128) {
        if let Some(index) = self.by_field.get_mut(field) {
            trim(index, value, cutoff_ns);
        }
    }

    /// The shortest listing among the fields a query gives, each `None`
    /// when not given (a field with no listing for the value means no
    /// record has it, so nothing matches); `all` when none is given. Exact
    /// when at most one is given.
    fn narrowest<'a>(&'a self, fields: &[Option<&str>]) -> Candidates<'a> {
        let given: Vec<Option<&'a Listing>> = fields
            .iter()
            .enumerate()
            .filter_map(|(field, value)| {
                let value = (*value)?;
                Some(self.by_field.get(field).and_then(|index| index.get(value)))
            })
            .collect();
        match given.as_slice() {
            [] => Candidates::exact(Some(&self.all)),
            [only] => Candidates::exact(*only),
            _ => Candidates::tested(Cow::Borrowed(
                given
                    .iter()
                    .map(|l| l.unwrap_or(&EMPTY))
                    .min_by_key(|l| l.len())
                    .expect("two or more"),
            )),
        }
    }
}

impl<R: Record> Table<R> {
    pub fn insert(&mut self, record: R) {
        let key = record.key();
        self.all.insert(key);
        push(&mut self.by_invoke_id, record.invoke_id(), key);
        let scope = self.scopes.entry(record.scope()).or_default();
        scope.records.all.insert(key);
        record.index(&mut |field, value| scope.records.push(field, value, key));
        record.index_items(&mut |sub, values| {
            let key = key.with_sub(sub);
            scope.items.all.insert(key);
            for (field, value) in values.iter().enumerate() {
                scope.items.push(field, value, key);
            }
        });
        self.records.insert(key.seq, Arc::new(record));
    }

    pub fn get(&self, key: SortKey) -> &Arc<R> {
        &self.records[&key.seq]
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.all.keys().iter().rev().map(|k| &**self.get(k))
    }

    /// Record keys.
    pub fn candidates(&self, lookup: &Lookup<'_, R::Scope>) -> Candidates<'_> {
        if let Some(id) = lookup.invoke_id {
            return Candidates::tested(Cow::Borrowed(self.by_invoke_id.get(id).unwrap_or(&EMPTY)));
        }
        let Some(scope) = &lookup.scope else {
            return Candidates::tested(Cow::Borrowed(&self.all));
        };
        match self.scopes.get(scope) {
            Some(scope) => scope.records.narrowest(&lookup.fields),
            None => Candidates::exact(None),
        }
    }

    /// Item keys. Earlier runs are listed only for a given InvokeId, as the
    /// cloud does.
    pub fn item_candidates(
        &self,
        lookup: &Lookup<'_, R::Scope>,
        include_history: bool,
    ) -> Candidates<'_> {
        if let Some(id) = lookup.invoke_id {
            let records = self.by_invoke_id.get(id).unwrap_or(&EMPTY);
            return Candidates::tested(Cow::Owned(self.items_of(records, include_history)));
        }
        let Some(scope) = &lookup.scope else {
            return Candidates::tested(Cow::Owned(self.items_of(&self.all, false)));
        };
        match self.scopes.get(scope) {
            Some(scope) => scope.items.narrowest(&lookup.fields),
            None => Candidates::exact(None),
        }
    }

    /// The keys of the items of the records in `records`.
    fn items_of(&self, records: &Listing, history: bool) -> Listing {
        let mut keys = Vec::new();
        for key in records.keys().iter() {
            let subs = self.get(key).item_subs(history);
            keys.extend(subs.into_iter().map(|sub| key.with_sub(sub)));
        }
        Listing::from_keys(keys)
    }

    /// Drops the records created before `cutoff_ns`.
    pub fn prune(&mut self, cutoff_ns: i128) {
        let stale: Vec<SortKey> = self
            .all
            .keys()
            .iter()
            .rev()
            .take_while(|k| k.created_ns < cutoff_ns)
            .collect();
        if stale.is_empty() {
            return;
        }
        self.all.remove_older_than(cutoff_ns);
        for key in stale {
            let Some(record) = self.records.remove(&key.seq) else {
                continue;
            };
            trim(&mut self.by_invoke_id, record.invoke_id(), cutoff_ns);
            let Some(scope) = self.scopes.get_mut(&record.scope()) else {
                continue;
            };
            scope.records.all.remove_older_than(cutoff_ns);
            scope.items.all.remove_older_than(cutoff_ns);
            record.index(&mut |field, value| scope.records.trim(field, value, cutoff_ns));
            record.index_items(&mut |_, values| {
                for (field, value) in values.iter().enumerate() {
                    scope.items.trim(field, value, cutoff_ns);
                }
            });
        }
    }

    /// Checks what pruning must leave: the scopes list every record kept,
    /// every listing holds only records created at or after `cutoff_ns`,
    /// and none is kept empty but the scopes' own.
    #[cfg(test)]
    pub fn assert_kept_since(&self, cutoff_ns: i128) {
        let recent = |listing: &Listing| listing.keys().iter().all(|k| k.created_ns >= cutoff_ns);
        assert!(recent(&self.all));
        for listing in self.by_invoke_id.values() {
            assert!(!listing.is_empty() && recent(listing));
        }
        let mut scoped = 0;
        for scope in self.scopes.values() {
            scoped += scope.records.all.len();
            for listings in [&scope.records, &scope.items] {
                assert!(recent(&listings.all));
                for listing in listings.by_field.iter().flat_map(HashMap::values) {
                    assert!(!listing.is_empty() && recent(listing));
                }
            }
        }
        assert_eq!(scoped, self.records.len());
    }
}

/// Adds `key` to the listing of `name`.
fn push(index: &mut HashMap<String, Listing>, name: &str, key: SortKey) {
    match index.get_mut(name) {
        Some(listing) => listing.insert(key),
        None => {
            index.insert(name.to_owned(), Listing::from_keys(vec![key]));
        }
    }
}

/// Drops the stale keys of `name`'s listing, and the listing once empty.
fn trim(index: &mut HashMap<String, Listing>, name: &str, cutoff_ns: i128) {
    if let Some(listing) = index.get_mut(name) {
        listing.remove_older_than(cutoff_ns);
        if listing.is_empty() {
            index.remove(name);
        }
    }
}
