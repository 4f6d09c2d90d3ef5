//! The durable home of every event: an append-only, tamper-evident event log.
//!
//! The crate offers two traits that know nothing of each other:
//! [`EventStore`], the log, spoken in ledger terms (sequences, streams,
//! command ids, digests), and [`ProjectionStore`], where derived documents
//! are kept with their checkpoint. Two backends implement both: [`SledStore`]
//! (the only code of the project that knows sled) and [`MemoryStore`] (for
//! fast tests and fault injection). A PostgreSQL backend implements the same
//! traits and must pass the same conformance suite (module `conformance`,
//! behind the `conformance` feature).
//!
//! A key design decision: every record is hashed as the exact bytes that are
//! stored, chained to the hash of the record before it
//! (`hash = SHA-256(prev_hash ‖ body)`), and the bytes are produced and read by
//! one module only, [`encoding`]. Upcasting an old record on read therefore
//! never changes its hash, and switching to another byte format later touches
//! one module. We do not trust the database to give back what we stored:
//! [`EventStore::verify`] re-walks the chain, the sequence numbers and the
//! stream versions, and names the first sequence where any of them breaks.
//!
//! `docs/storage.md` at the workspace root describes the layout on disk, what
//! is atomic, what is flushed when, and how to re-implement `verify`.
#![forbid(unsafe_code)]

mod clock;
mod digest;
pub mod encoding;
mod error;
mod memory_store;
pub mod progress;
mod projection_store;
pub mod read_ahead;
mod record;
mod sled_store;
pub mod staging;
mod store;
pub mod table;
pub mod verify;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use clock::{Clock, FixedClock, SteppingClock, SystemClock};
pub use digest::{ChainHash, Digest, DigestParseError};
pub use encoding::SEGMENT_RECORDS;
pub use error::StoreError;
pub use memory_store::{Fault, MemoryStore};
pub use progress::{Reporter, PROGRESS_EVERY};
pub use projection_store::{
    check_checkpoint, pages, Document, DocumentSource, KeyOrdered, Pages, ProjectionStore,
    SCAN_PAGE_DOCUMENTS,
};
pub use read_ahead::read_ahead;
pub use record::StoredEvent;
pub use sled_store::{
    log_config, sled_config, ScratchDocuments, SledStore, FLUSH_STALL_LIMIT, LOG_SEGMENT_BYTES,
};
pub use store::{
    ActedEvent, AppendRequest, Appended, AsOf, EventStore, Events, StagedAppend, Staging,
    StoredCommand, BATCH_EVENTS_MAX,
};
pub use verify::{Break, BreakKind, VerifyReport};
