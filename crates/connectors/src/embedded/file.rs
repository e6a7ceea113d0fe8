//! The embedded source for large arrays: streams the entities from the config file on a
//! reader thread, in bounded batches, so memory stays flat however large the array is.

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver};

use pumphouse_core::jsonpos::RawRange;
use pumphouse_value::Value;

use crate::{Batch, ConnectorError, Source};

const CHUNK: usize = 1000;

pub struct EmbeddedFileSource {
    rx: Receiver<Result<Vec<Value>, String>>,
    pending: Vec<Value>,
    done: bool,
}

impl EmbeddedFileSource {
    pub fn open(file: PathBuf, range: RawRange) -> Self {
        // Two chunks in flight keep the parser ahead without holding many entities.
        let (tx, rx) = sync_channel(2);
        let reader = std::thread::Builder::new().name("embedded-read".into());
        let spawned = reader.spawn(move || {
            let mut chunk = Vec::with_capacity(CHUNK);
            let res = pumphouse_core::rawstream::for_each_entity(&file, &range, |_, e| {
                chunk.push(e);
                if chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    tx.send(Ok(full)).map_err(|_| "stopped".to_string())?;
                }
                Ok(())
            });
            // An empty chunk marks the end; a reader that vanishes without it failed.
            let _ = match res {
                Ok(()) => tx.send(Ok(chunk)).and_then(|_| tx.send(Ok(Vec::new()))),
                Err(e) if e.ends_with("stopped") => Ok(()),
                Err(e) => tx.send(Err(e)),
            };
        });
        spawned.expect("cannot start the embedded reader thread");
        EmbeddedFileSource {
            rx,
            pending: Vec::new(),
            done: false,
        }
    }
}

impl Source for EmbeddedFileSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        let max = max.max(1);
        while self.pending.len() < max && !self.done {
            match self.rx.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => self.pending.extend(chunk),
                Ok(Err(e)) => {
                    return Err(ConnectorError::Other {
                        message: format!("reading embedded entities: {e}"),
                        retryable: false,
                    })
                }
                Err(_) => {
                    return Err(ConnectorError::Other {
                        message: "reading embedded entities: the reader thread stopped".into(),
                        retryable: false,
                    })
                }
            }
        }
        if self.pending.is_empty() {
            return Ok(None);
        }
        let rest = if self.pending.len() > max {
            self.pending.split_off(max)
        } else {
            Vec::new()
        };
        let entities = std::mem::replace(&mut self.pending, rest);
        Ok(Some(Batch {
            entities,
            last_seen: Value::Null,
        }))
    }
}
