//! Reading the documents a batch of events needs together, not one by one:
//! on a server backend (PostgreSQL) every read of a document is a round
//! trip, and the fold reads a few documents per event.
//!
//! A key design decision: the documents to read are found from the fold's
//! own definitions, not from a second list of what each event reads that
//! would have to be kept in step with the fold. The decision state reads
//! what [`benefit_domain::touches`] names (the list `apply_state` itself
//! loads); the report views are found by folding the batch's views once
//! speculatively ([`apply_views`] over documents taken as absent, noting
//! every key it asks for; they read no decision state), and again over
//! what was found, up to [`PREFETCH_ROUNDS`] times. Each round's documents
//! are read in one [`Docs::get_many`], and then the batch is folded for
//! real through that cache. A document the fold still asks for that the cache
//! lacks is read alone ([`Docs::get`]): the result is the fold over the
//! base, whatever the prefetch found.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use benefit_domain::touches;
use benefit_store::StoredEvent;

use crate::docs::{Docs, Overlay};
use crate::fold::{apply, apply_views};
use crate::state::state_key;
use crate::ProjectionError;

/// How many speculative folds of the views run, each followed by one read
/// of the documents it lacked. A view read as absent can hide the reads
/// its contents lead to (a key's use fails on a missing benefit before it
/// reads the subscription), so the first round finds most of them and the
/// second the rest (the generated workload needs no more than two).
const PREFETCH_ROUNDS: usize = 3;

/// Documents of a base, each read at most once: a cache in front of
/// [`Docs`], which while speculating answers "absent" for what it has not
/// read and notes the key.
struct Prefetched<'a> {
    base: &'a dyn Docs,
    read: RefCell<HashMap<String, Option<Vec<u8>>>>,
    speculating: Cell<bool>,
    missing: RefCell<BTreeSet<String>>,
}

impl<'a> Prefetched<'a> {
    fn new(base: &'a dyn Docs) -> Self {
        Self {
            base,
            read: RefCell::new(HashMap::new()),
            speculating: Cell::new(false),
            missing: RefCell::new(BTreeSet::new()),
        }
    }

    /// Notes `key` as wanted, unless it was read already.
    fn want(&self, key: String) {
        if !self.read.borrow().contains_key(&key) {
            self.missing.borrow_mut().insert(key);
        }
    }

    /// Runs `body` speculatively: every document not read yet is absent
    /// to it and noted as wanted.
    fn speculate(&self, body: impl FnOnce(&dyn Docs)) {
        self.speculating.set(true);
        body(self);
        self.speculating.set(false);
    }

    /// Reads every wanted document from the base in one
    /// [`Docs::get_many`]; answers whether there were any.
    fn fill(&self) -> Result<bool, ProjectionError> {
        let keys: Vec<String> = std::mem::take(&mut *self.missing.borrow_mut())
            .into_iter()
            .collect();
        if keys.is_empty() {
            return Ok(false);
        }
        let values = self.base.get_many(&keys)?;
        let mut read = self.read.borrow_mut();
        for (key, value) in keys.into_iter().zip(values) {
            read.insert(key, value);
        }
        Ok(true)
    }
}

impl Docs for Prefetched<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        if let Some(value) = self.read.borrow().get(key) {
            return Ok(value.clone());
        }
        if self.speculating.get() {
            self.missing.borrow_mut().insert(key.to_owned());
            return Ok(None);
        }
        let value = self.base.get(key)?;
        self.read.borrow_mut().insert(key.to_owned(), value.clone());
        Ok(value)
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
        self.base.scan(prefix)
    }

    fn last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, ProjectionError> {
        self.base.last(prefix)
    }
}

/// The documents `records` change, folded over `base` (see the module's
/// documentation): the same writes, or the same first error, as folding
/// them one by one over `base`, with the documents read in a few
/// [`Docs::get_many`] instead of one [`Docs::get`] each.
pub fn fold_prefetched(
    base: &dyn Docs,
    records: &[StoredEvent],
) -> Result<BTreeMap<String, Vec<u8>>, ProjectionError> {
    let cache = Prefetched::new(base);
    for record in records {
        for key in touches(&record.event) {
            cache.want(state_key(&key));
        }
    }
    for _ in 0..PREFETCH_ROUNDS {
        cache.speculate(|docs| {
            let mut overlay = Overlay::new(docs);
            for record in records {
                // Views folded over documents taken as absent may fail: only
                // the reads they make matter here, and those of the events
                // after a failure still count.
                let _ = apply_views(&mut overlay, record);
            }
        });
        if !cache.fill()? {
            break;
        }
    }
    let mut overlay = Overlay::new(&cache);
    for record in records {
        apply(&mut overlay, record)?;
    }
    Ok(overlay.into_writes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocMap;
    use benefit_domain::authorize;
    use benefit_store::conformance::{collect, positioned};
    use benefit_store::{AppendRequest, EventStore, MemoryStore, SystemClock};
    use benefit_workload::Workload;

    /// Documents in memory that count how they are read.
    struct Counting<'a> {
        docs: &'a DocMap,
        gets: RefCell<Vec<String>>,
        reads_of_many: Cell<usize>,
    }

    impl Docs for Counting<'_> {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
            self.gets.borrow_mut().push(key.to_owned());
            self.docs.get(key)
        }
        fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, ProjectionError> {
            self.reads_of_many.set(self.reads_of_many.get() + 1);
            keys.iter().map(|key| self.docs.get(key)).collect()
        }
        fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
            self.docs.scan(prefix)
        }
    }

    #[test]
    fn a_batch_folds_as_event_by_event_with_a_few_reads_of_many_documents() {
        let store = MemoryStore::new(SystemClock);
        let workload = Workload::new(7);
        let actor = authorize(Some(workload.actor())).expect("the workload's actor may write");
        let events: Vec<_> = workload.take(4_000).collect();
        let request = AppendRequest::by(&actor, uuid::Uuid::nil(), 0, events);
        store.append(positioned(&store, request)).expect("append");
        let records = collect(store.read_from(1));
        let mut base = DocMap::default();
        for batch in records.chunks(500) {
            let mut overlay = Overlay::new(&base);
            for record in batch {
                apply(&mut overlay, record).expect("folds");
            }
            let one_by_one = overlay.into_writes();
            let counting = Counting {
                docs: &base,
                gets: RefCell::new(Vec::new()),
                reads_of_many: Cell::new(0),
            };
            let prefetched = fold_prefetched(&counting, batch).expect("folds");
            assert_eq!(prefetched, one_by_one);
            assert!((1..=2).contains(&counting.reads_of_many.get()));
            assert_eq!(counting.gets.take(), Vec::<String>::new(), "read alone");
            base.0.extend(one_by_one);
        }
    }
}
