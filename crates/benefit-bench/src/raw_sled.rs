//! Engine 3, raw sled: the engine's limit. The same record bytes the ledger
//! stores (`benefit_store::encoding`, hash-chained), packed into segments of
//! [`SEGMENT_RECORDS`] as the ledger's log packs them, written in one
//! `apply_batch` on one tree with a flush per batch, and read back, with no
//! ledger logic: no head, no command ids, no checks, no projections. This is
//! sled doing the minimal work of a packed log (issue 11).
//!
//! The bytes are encoded outside the timed sections, so the figures are
//! sled's alone.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use benefit_events::{Actor, Event, StreamId};
use benefit_store::encoding::{chain_hash, encode_body, pack_record, segment_of, unpack_segment};
use benefit_store::{ChainHash, StoredEvent, SEGMENT_RECORDS};
use chrono::Utc;
use uuid::Uuid;

use crate::engine::{ReplayRun, Run};
use crate::measure::{peak_rss_kib, Latencies};
use crate::workload::Prepared;
use crate::BenchResult;

/// sled configured as the ledger configures its log's database (cache
/// size, mode, segment size), so that both measure the same engine.
fn open(dir: &Path) -> BenchResult<(sled::Db, sled::Tree)> {
    let db = benefit_store::log_config(dir).open()?;
    let log = db.open_tree("log")?;
    Ok((db, log))
}

/// Encodes records as the ledger would: sequence, stream version, chain.
struct Encoder {
    seq: u64,
    prev_hash: ChainHash,
    versions: HashMap<StreamId, u64>,
    /// The last, partial segment: rewritten by the next batch.
    tail: Vec<u8>,
}

impl Encoder {
    fn batch(
        &mut self,
        actor: &Actor,
        command_id: Uuid,
        events: &[Event],
    ) -> BenchResult<sled::Batch> {
        let mut batch = sled::Batch::default();
        let recorded_at = Utc::now();
        for (index, event) in events.iter().enumerate() {
            self.seq += 1;
            let stream = event.stream();
            let version = self.versions.entry(stream.clone()).or_default();
            *version += 1;
            let record = StoredEvent {
                seq: self.seq,
                stream,
                stream_version: *version,
                event_id: StoredEvent::derive_event_id(&command_id, index as u64),
                command_id,
                recorded_at,
                actor: actor.clone(),
                recorded_by: None,
                event: event.clone(),
                prev_hash: self.prev_hash,
                hash: ChainHash::GENESIS,
            };
            let body = encode_body(&record)?;
            let hash = chain_hash(&self.prev_hash, &body);
            pack_record(&mut self.tail, &hash, &body);
            if self.seq % SEGMENT_RECORDS == 0 {
                let full = std::mem::take(&mut self.tail);
                batch.insert(&segment_of(self.seq).to_be_bytes(), full);
            }
            self.prev_hash = hash;
        }
        if !self.tail.is_empty() {
            batch.insert(&segment_of(self.seq).to_be_bytes(), self.tail.clone());
        }
        Ok(batch)
    }
}

/// Writes the workload's bytes batch by batch (flushed), then each single
/// command's record alone (flushed).
pub fn run(dir: &Path, prepared: &Prepared) -> BenchResult<Run> {
    let (db, log) = open(dir)?;
    let mut encoder = Encoder {
        seq: 0,
        prev_hash: ChainHash::GENESIS,
        versions: HashMap::new(),
        tail: Vec::new(),
    };
    let mut import = Duration::ZERO;
    for (number, batch) in prepared.batches().enumerate() {
        let events: Vec<Event> = batch.into_iter().map(|(_, event)| event).collect();
        let command_id = Uuid::new_v5(&Uuid::NAMESPACE_OID, &(number as u64).to_be_bytes());
        let batch = encoder.batch(&prepared.actor, command_id, &events)?;
        let start = Instant::now();
        log.apply_batch(batch)?;
        db.flush()?;
        import += start.elapsed();
    }
    let mut samples = Vec::with_capacity(prepared.commands.len());
    for (number, (_, event)) in prepared.commands.iter().enumerate() {
        let command_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, &(number as u64).to_be_bytes());
        let batch = encoder.batch(&prepared.actor, command_id, std::slice::from_ref(event))?;
        let start = Instant::now();
        log.apply_batch(batch)?;
        db.flush()?;
        samples.push(start.elapsed());
    }
    Ok(Run {
        import,
        commands: Latencies::new(samples),
        audit: None,
        subscriptions_report: None,
        passes: None,
    })
}

/// Reads every record back in key order, touching each value's bytes.
pub fn replay(dir: &Path) -> BenchResult<ReplayRun> {
    let (_db, log) = open(dir)?;
    let start = Instant::now();
    let mut events = 0u64;
    let mut bytes = 0u64;
    for item in log.iter() {
        let (_, value) = item?;
        for (_, body) in unpack_segment(&value)? {
            bytes += body.len() as u64;
            events += 1;
        }
    }
    std::hint::black_box(bytes);
    Ok(ReplayRun {
        seconds: start.elapsed().as_secs_f64(),
        events,
        peak_rss_kib: peak_rss_kib(),
    })
}
