//! The per-entity work of a write that does not depend on other entities of the batch:
//! validation, the content hash, the encoded body and the committed index lookup. Large
//! batches spread it over the machine's cores; the order-dependent part stays in `writer`.

use std::sync::mpsc;

use pumphouse_value::hash::EntityEncoder;
use pumphouse_value::Value;

use crate::codec::IdxRecord;
use crate::idtab::Committed;
use crate::newids::NewIds;
use crate::StoreError;

/// Batches smaller than this are prepared on the calling thread.
const PARALLEL_MIN: usize = 512;

/// One incoming entity, ready to be compared with the latest version and appended.
pub(crate) struct Prepared {
    pub id: String,
    /// Hash of the content as it would be stored (a `_filtered` entity hashes as a tombstone).
    pub hash: u128,
    pub deleted: bool,
    pub filtered: bool,
    /// `bin` dict of the user properties.
    pub body: Vec<u8>,
    /// The committed index record of `id` (staged versions are the writer's business).
    pub committed: Option<IdxRecord>,
}

/// Checks that every entity is a dict with a string `_id`, before anything is staged.
pub(crate) fn validate(entities: &[Value]) -> Result<(), StoreError> {
    for (index, e) in entities.iter().enumerate() {
        let reason = match e {
            Value::Dict(m) => match m.get("_id") {
                Some(Value::String(_)) => continue,
                Some(other) => format!("_id is a {}, not a string", other.type_name()),
                None => "no _id".to_owned(),
            },
            other => format!("a {} is not an entity", other.type_name()),
        };
        return Err(StoreError::InvalidEntity { index, reason });
    }
    Ok(())
}

/// Turns entities into `Prepared` (without the index lookup); keeps its buffers.
#[derive(Default)]
struct Encoder {
    enc: EntityEncoder,
    /// Body size of the previous entity, to size the next body's buffer.
    last_len: usize,
}

impl Encoder {
    fn encode(&mut self, e: Value) -> Result<Prepared, StoreError> {
        let Value::Dict(mut m) = e else {
            return Err(StoreError::InvalidEntity {
                index: 0,
                reason: "not a dict".into(),
            });
        };
        let id = match m.get("_id") {
            Some(Value::String(s)) => s.clone(),
            _ => {
                return Err(StoreError::InvalidEntity {
                    index: 0,
                    reason: "no _id".into(),
                })
            }
        };
        let filtered = matches!(m.get("_filtered"), Some(Value::Bool(true)));
        if filtered {
            m.insert("_deleted".into(), Value::Bool(true));
        }
        let deleted = matches!(m.get("_deleted"), Some(Value::Bool(true)));
        let mut body = Vec::with_capacity(self.last_len + 64);
        let hash = self.enc.encode(&m, &mut body);
        self.last_len = body.len();
        Ok(Prepared {
            id,
            hash,
            deleted,
            filtered,
            body,
            committed: None,
        })
    }

    fn encode_all(&mut self, entities: Vec<Value>) -> Result<Vec<Prepared>, StoreError> {
        entities.into_iter().map(|e| self.encode(e)).collect()
    }
}

/// Encodes batches for `Writer::write_encoded` on a thread other than the writer's: the
/// per-entity work that needs no index (validation, content hash, body, `_ts`). A pipe runner
/// runs one between its transforms and its sink, so encoding goes on while the sink commits.
pub struct BatchEncoder {
    enc: Encoder,
    clock: std::sync::Arc<dyn crate::Clock>,
}

/// A batch made by a `BatchEncoder`, to be staged by `Writer::write_encoded` of the writer
/// that made the encoder.
pub struct EncodedBatch {
    pub(crate) items: Vec<Prepared>,
    pub(crate) ts: i64,
    bytes: u64,
}

impl EncodedBatch {
    /// Bytes of the encoded bodies and `_id`s (what the batch holds in memory, near enough).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl BatchEncoder {
    pub(crate) fn new(clock: std::sync::Arc<dyn crate::Clock>) -> BatchEncoder {
        BatchEncoder {
            enc: Encoder::default(),
            clock,
        }
    }

    /// Validates and encodes a batch; an invalid entity fails the batch as `Writer::write`
    /// would. The versions get the `_ts` of this call.
    pub fn encode(&mut self, entities: Vec<Value>) -> Result<EncodedBatch, StoreError> {
        validate(&entities)?;
        let ts = self.clock.now_micros();
        let items = self.enc.encode_all(entities)?;
        let bytes = items
            .iter()
            .map(|p| (p.body.len() + p.id.len()) as u64)
            .sum();
        Ok(EncodedBatch { items, ts, bytes })
    }
}

/// Fills in the committed index record of `p.id`. With `new`, the writer's `_id`s of a
/// dataset that had none when it opened: an `_id` it certainly did not write has no record.
pub(crate) fn lookup(
    idx: &Committed,
    new: Option<&NewIds>,
    p: &mut Prepared,
) -> Result<(), StoreError> {
    if new.is_some_and(|n| !n.may_contain(&p.id)) {
        p.committed = None;
        return Ok(());
    }
    p.committed = idx.get(&p.id)?;
    Ok(())
}

fn prepare_all(
    idx: &Committed,
    new: Option<&NewIds>,
    entities: Vec<Value>,
) -> Result<Vec<Prepared>, StoreError> {
    let mut enc = Encoder::default();
    let mut out = enc.encode_all(entities)?;
    for p in &mut out {
        lookup(idx, new, p)?;
    }
    Ok(out)
}

/// A named thread that answers each message it is sent, in order, until its sender goes.
/// Dropping it closes the channel, takes any answer still waiting (so a worker blocked on
/// handing one over ends) and joins the thread.
struct Worker<I, O> {
    tx: Option<mpsc::Sender<I>>,
    rx: mpsc::Receiver<O>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The error when the thread is gone ("the encoding thread stopped").
    stopped: &'static str,
}

impl<I: Send + 'static, O: Send + 'static> Worker<I, O> {
    fn start(
        name: &str,
        stopped: &'static str,
        mut answer: impl FnMut(I) -> O + Send + 'static,
    ) -> Result<Self, StoreError> {
        let (tx, work) = mpsc::channel::<I>();
        let (done, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                for msg in work {
                    if done.send(answer(msg)).is_err() {
                        return;
                    }
                }
            })?;
        Ok(Worker {
            tx: Some(tx),
            rx,
            thread: Some(thread),
            stopped,
        })
    }

    fn gone(&self) -> StoreError {
        StoreError::Io(std::io::Error::other(self.stopped))
    }

    fn send(&self, msg: I) -> Result<(), StoreError> {
        let tx = self.tx.as_ref().ok_or_else(|| self.gone())?;
        tx.send(msg).map_err(|_| self.gone())
    }

    /// The next answer, waiting for it.
    fn recv(&self) -> Result<O, StoreError> {
        self.rx.recv().map_err(|_| self.gone())
    }

    /// The next answer if it is ready.
    fn try_recv(&self) -> Option<O> {
        self.rx.try_recv().ok()
    }
}

impl<I, O> Drop for Worker<I, O> {
    fn drop(&mut self) {
        self.tx = None;
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Encodes batches (hash, body, freeing the `Value`s) on a thread of its own, so a writer fed
/// by a pipe overlaps this work with its lookups and commits. The index lookup is not done
/// here: it must see every commit made before the batch is applied. Batches come back in
/// the order they were sent.
pub(crate) struct Pipeline {
    worker: Worker<(Vec<Value>, i64), Encoded>,
    /// Batches sent and not yet received.
    pub in_flight: usize,
}

/// An encoded batch and the `_ts` its versions get.
pub(crate) type Encoded = Result<(Vec<Prepared>, i64), StoreError>;

/// Batches a pipeline holds at most before `send` waits for the oldest.
pub(crate) const PIPELINE_DEPTH: usize = 4;

impl Pipeline {
    pub fn start() -> Result<Pipeline, StoreError> {
        let mut enc = Encoder::default();
        let worker = Worker::start(
            "store-encode",
            "the encoding thread stopped",
            move |(batch, ts): (Vec<Value>, i64)| enc.encode_all(batch).map(|b| (b, ts)),
        )?;
        Ok(Pipeline {
            worker,
            in_flight: 0,
        })
    }

    pub fn send(&mut self, batch: Vec<Value>, ts: i64) -> Result<(), StoreError> {
        self.worker.send((batch, ts))?;
        self.in_flight += 1;
        Ok(())
    }

    /// The oldest batch in flight: waits for it if `wait`, else only if it is ready.
    pub fn recv(&mut self, wait: bool) -> Option<Encoded> {
        if self.in_flight == 0 {
            return None;
        }
        let r = if wait {
            self.worker.recv().and_then(|r| r)
        } else {
            self.worker.try_recv()?
        };
        self.in_flight -= 1;
        Some(r)
    }
}

/// A thread that lives as long as its writer and looks up the committed records of the second
/// half of large encoded batches while the writer's thread does the first half
/// (`Writer::write_encoded`). One thread for the writer's life, not one per batch: each new
/// thread brings its own allocator heap, and a thread per batch made the chain benchmark's
/// rerun peak 20-30 MB higher (docs/BENCHMARKS.md, ninth session).
pub(crate) struct LookupHelper {
    worker: Worker<Vec<Prepared>, Result<Vec<Prepared>, StoreError>>,
}

/// Encoded batches with fewer entities than this are looked up on
/// the writer's thread alone: a hand-over costs a few µs, a lookup that misses the block cache
/// ~3.5 µs.
pub(crate) const SPLIT_LOOKUPS_MIN: usize = 64;

impl LookupHelper {
    /// `None` on a machine with one core.
    pub fn start(idx: &Committed) -> Result<Option<LookupHelper>, StoreError> {
        if threads() < 2 {
            return Ok(None);
        }
        let idx = idx.clone();
        let worker = Worker::start(
            "store-lookup",
            "the lookup thread stopped",
            move |mut half: Vec<Prepared>| {
                half.iter_mut()
                    .try_for_each(|p| lookup(&idx, None, p))
                    .map(|()| half)
            },
        )?;
        Ok(Some(LookupHelper { worker }))
    }

    /// Looks up `batch` in place: the second half on the helper, the first here; the first
    /// error (in batch order) is returned.
    pub fn lookup_split(
        &mut self,
        idx: &Committed,
        batch: &mut Vec<Prepared>,
    ) -> Result<(), StoreError> {
        let second = batch.split_off(batch.len() / 2);
        self.worker.send(second)?;
        let first = batch.iter_mut().try_for_each(|p| lookup(idx, None, p));
        let second = self.worker.recv()?;
        first?;
        batch.extend(second?);
        Ok(())
    }
}

/// Threads a batch's work may be spread over: the machine's cores, at most 8.
pub(crate) fn threads() -> usize {
    // Asked once: `available_parallelism` reads cgroup files on every call.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

/// Prepares a validated batch, in order.
pub(crate) fn prepare(
    idx: &Committed,
    new: Option<&NewIds>,
    mut entities: Vec<Value>,
) -> Result<Vec<Prepared>, StoreError> {
    let threads = threads();
    if entities.len() < PARALLEL_MIN || threads < 2 {
        return prepare_all(idx, new, entities);
    }
    let chunk = entities.len().div_ceil(threads);
    let mut parts = Vec::with_capacity(threads);
    while entities.len() > chunk {
        let tail = entities.split_off(chunk);
        parts.push(std::mem::replace(&mut entities, tail));
    }
    let last = entities;
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|p| {
                let b = std::thread::Builder::new().name("store-prepare".into());
                b.spawn_scoped(s, move || prepare_all(idx, new, p))
                    .expect("cannot start a prepare thread")
            })
            .collect();
        let last = prepare_all(idx, new, last);
        let mut out = Vec::new();
        for h in handles {
            match h.join() {
                Ok(r) => out.extend(r?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out.extend(last?);
        Ok(out)
    })
}
