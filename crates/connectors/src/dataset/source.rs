//! Dataset source: streams a dataset from an offset, in pages, so memory stays flat. A
//! thread of its own (`dataset-read`) reads and decodes the next page while the pipe
//! transforms the one before.

use std::collections::VecDeque;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;

use pumphouse_store::{LatestTail, ReadOptions, Store};
use pumphouse_value::Value;

use crate::{Batch, ConnectorError, Source};

/// Entities read from the store at once when batches are smaller: each read sets up a
/// snapshot and iterator, which costs as much as decoding dozens of entities.
const PAGE: usize = 1000;

/// Pages read ahead of the pipe: one waiting in the channel while the pipe works on the
/// one before (memory stays at a few pages whatever the dataset's size).
const PAGES_AHEAD: usize = 1;

pub struct DatasetSource {
    /// What reads the store; moved to its thread (`dataset-read`) on the first batch.
    reader: Option<Reader>,
    /// The read-ahead thread and its pages.
    ahead: Option<(Receiver<Result<Page, ConnectorError>>, JoinHandle<()>)>,
    /// Offset of the last entity read from the store in the pages received.
    since: Option<u64>,
    /// Received, not yet handed out.
    buffered: VecDeque<Value>,
    populated: bool,
    done: bool,
    /// The last-seen of the last batch handed out.
    handed_out: Option<u64>,
}

/// Reads the dataset page by page after `since`, with the source's options. Runs on the
/// read-ahead thread, so decoding overlaps the pipe's transforms.
struct Reader {
    store: Arc<Store>,
    dataset: String,
    /// Offset of the last entity read from the store.
    since: Option<u64>,
    history: bool,
    done: bool,
    /// Completeness: stop before the first entity whose `_ts` is above this (µs).
    ts_limit: Option<i64>,
    /// `include_replaced: false`: leave out entities with `"$replaced": true`.
    skip_replaced: bool,
    /// `subset`, and the offset the run started after (the sink saw what came before).
    subset: Option<Arc<pumphouse_core::subset::Subset>>,
    run_since: Option<u64>,
    /// `only_properties`: the user properties decoded (all when `None`).
    keys: Option<Arc<[String]>>,
    /// What the pages read so far learnt about the latest versions at the end of the log,
    /// carried from page to page so a latest-only read scans each record once instead of
    /// looking each version up in the `_id` index (`store::LatestTail`).
    tail: LatestTail,
}

/// One page from the reader: the entities kept, the offset of the last one read (kept or
/// not), and whether the dataset has no more.
struct Page {
    entities: Vec<Value>,
    since: Option<u64>,
    done: bool,
}

impl DatasetSource {
    pub fn open(
        store: Arc<Store>,
        dataset: &str,
        since: &Value,
        history: bool,
    ) -> Result<Self, ConnectorError> {
        let since = match since {
            Value::Int(i) if *i >= 0 => Some(*i as u64),
            Value::String(s) if !s.is_empty() => s.parse::<u64>().ok(),
            _ => None,
        };
        let info = store.dataset_info(dataset)?;
        let populated = info.as_ref().is_some_and(|i| i.populated);
        let done = info.is_none();
        Ok(DatasetSource {
            reader: Some(Reader {
                store,
                dataset: dataset.to_string(),
                since,
                history,
                done,
                ts_limit: None,
                skip_replaced: false,
                subset: None,
                run_since: since,
                keys: None,
                tail: LatestTail::default(),
            }),
            ahead: None,
            since,
            buffered: VecDeque::new(),
            populated,
            done,
            handed_out: since,
        })
    }

    fn reader(&mut self) -> &mut Reader {
        self.reader
            .as_mut()
            .expect("source options are set before the first batch")
    }

    /// Reads only the entities in `subset` (sesam-spec 2.8); entities that leave it since the
    /// run's offset come out as deleted (`dataset/subset.rs`).
    pub fn with_subset(mut self, subset: Option<Arc<pumphouse_core::subset::Subset>>) -> Self {
        self.reader().subset = subset;
        self
    }

    /// `include_replaced: false` (sesam-spec 5.3): entities with `"$replaced": true` (those a
    /// merge source replaced) are left out.
    pub fn with_skip_replaced(mut self, skip: bool) -> Self {
        self.reader().skip_replaced = skip;
        self
    }

    /// Emits only entities written at or before `limit` (µs since the epoch, compared with
    /// `_ts`): the source ends before the first later one, so the pipe's last-seen stays in
    /// front of it and the next run continues there (sesam-spec 2.6).
    pub fn with_ts_limit(mut self, limit: Option<i64>) -> Self {
        self.reader().ts_limit = limit;
        self
    }

    /// The next page: from the read-ahead thread, which starts on the first call.
    fn next_page(&mut self, first: usize, page: usize) -> Result<Page, ConnectorError> {
        if let Some(mut reader) = self.reader.take() {
            let (tx, rx) = sync_channel(PAGES_AHEAD);
            let thread = std::thread::Builder::new().name("dataset-read".into());
            // Pages start at the batch size and double up to `PAGE`, so the first batch is
            // not kept waiting for a whole page.
            let mut size = first.min(page);
            let handle = thread
                .spawn(move || loop {
                    let p = reader.fill(size);
                    size = (size * 2).min(page);
                    let end = p.as_ref().map_or(true, |p| p.done);
                    if tx.send(p).is_err() || end {
                        return;
                    }
                })
                .map_err(|e| ConnectorError::Other {
                    message: format!("cannot start the dataset reader thread: {e}"),
                    retryable: false,
                })?;
            self.ahead = Some((rx, handle));
        }
        let rx = &self.ahead.as_ref().expect("started above").0;
        rx.recv().unwrap_or_else(|_| {
            Err(ConnectorError::Other {
                message: "reading the dataset: the reader thread stopped".into(),
                retryable: false,
            })
        })
    }
}

impl Drop for DatasetSource {
    /// Waits for the reader (at most the page it is reading), so it never outlives the
    /// run that opened it with a handle on the store.
    fn drop(&mut self) {
        if let Some((rx, handle)) = self.ahead.take() {
            drop(rx);
            let _ = handle.join();
        }
    }
}

impl Source for DatasetSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        let max = max.max(1);
        // A page can be left out whole (`include_replaced`): read on until something is kept.
        while self.buffered.len() < max && !self.done {
            let page = self.next_page(max, max.max(PAGE))?;
            self.buffered.extend(page.entities);
            self.done = page.done;
            if page.since.is_some() {
                self.since = page.since;
            }
            if !self.buffered.is_empty() {
                break;
            }
        }
        let n = max.min(self.buffered.len());
        let entities: Vec<Value> = self.buffered.drain(..n).collect();
        let offset = match entities.last() {
            // With nothing left buffered, every entity read after the last one was left out
            // (`include_replaced`, `subset`): last-seen moves past them too, so the next run
            // does not read them again.
            Some(_) if self.buffered.is_empty() && self.since.is_some() => self.since,
            Some(last) => Some(updated(last)?),
            None if self.since > self.handed_out => self.since,
            None => return Ok(None),
        };
        self.handed_out = offset;
        Ok(Some(Batch {
            entities,
            last_seen: offset.map_or(Value::Null, |o| Value::Int(o as i64)),
        }))
    }

    fn populated(&self) -> bool {
        self.populated
    }

    /// Entities are decoded with only these user properties, which saves decoding (and
    /// freeing) the rest. Not with `subset` (its expression reads properties of its own);
    /// `include_replaced: false` keeps `$replaced`, which it checks.
    fn only_properties(&mut self, keys: Arc<[String]>) {
        let Some(reader) = self.reader.as_mut() else {
            return;
        };
        if reader.subset.is_some() {
            return;
        }
        let mut keys = keys.to_vec();
        if reader.skip_replaced && !keys.iter().any(|k| k == "$replaced") {
            keys.push("$replaced".into());
        }
        reader.keys = Some(keys.into());
    }
}

impl Reader {
    /// Reads up to `page` more entities after `since`.
    fn fill(&mut self, page: usize) -> Result<Page, ConnectorError> {
        let mut kept = Vec::new();
        if self.done {
            return Ok(Page {
                entities: kept,
                since: self.since,
                done: true,
            });
        }
        let opts = ReadOptions {
            since: self.since,
            limit: Some(page),
            history: self.history,
            deleted: true,
        };
        let mut read = 0;
        let mut last_read = None;
        let mut iter = self
            .store
            .read(&self.dataset, opts)?
            .with_tail(std::mem::take(&mut self.tail));
        if let Some(keys) = &self.keys {
            iter = iter.only_properties(keys.clone());
        }
        // The tail goes back to the reader after the page; a page that fails loses it, and
        // the next read (if any) starts a new one.
        for e in iter.by_ref() {
            let e = e?;
            read += 1;
            if let (Some(limit), Some(Value::Int(ts))) = (self.ts_limit, e.get("_ts")) {
                if *ts > limit {
                    self.done = true;
                    break;
                }
            }
            last_read = Some(updated(&e)?);
            if self.skip_replaced && matches!(e.get("$replaced"), Some(Value::Bool(true))) {
                continue;
            }
            let e = match &self.subset {
                None => e,
                Some(sub) => {
                    match super::subset::emit(&self.store, &self.dataset, sub, self.run_since, e)? {
                        Some(e) => e,
                        None => continue,
                    }
                }
            };
            kept.push(e);
        }
        self.tail = iter.into_tail();
        if read < page {
            self.done = true;
        }
        if last_read.is_some() {
            self.since = last_read;
        }
        Ok(Page {
            entities: kept,
            since: self.since,
            done: self.done,
        })
    }
}

fn updated(e: &Value) -> Result<u64, ConnectorError> {
    match e.get("_updated") {
        Some(Value::Int(i)) => Ok(*i as u64),
        _ => Err(ConnectorError::Other {
            message: "stored entity without _updated".into(),
            retryable: false,
        }),
    }
}
