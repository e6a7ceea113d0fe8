//! The `json` sink: the JSON push protocol client (sesam-spec 7.2, 9.2). Entities are POSTed
//! in batches of `batch_size` as they come; a run is one sequence (`sequence_id`, increasing
//! `request_id`, `previous_request_id`, `is_full`; `is_first`/`is_last` on full runs) ending
//! with one empty request. The pipe state is stored only in `commit`/`finish`, after every
//! entity before it was acknowledged with a 2xx, so a failed request leaves last-seen where it
//! was and the next run sends those entities again. A failed batch is retried
//! `pump.batch_retries` times (transport errors, 5xx, 429) before the run fails; 409 (the
//! receiver rejected the sequence) and other 4xx fail at once. The requests go out from a
//! sender thread (`sender`), in order, while this thread prepares the next one; `commit` and
//! `finish` wait for every answer before the pipe state is saved.

use std::sync::Arc;

use pumphouse_core::model::JsonSink as Spec;
use pumphouse_store::{PipeState, Store};
use pumphouse_value::Value;

use super::sender::{Request, Sender};
use crate::http::HttpClient;
use crate::{ConnectorError, RawSink, Sink, SinkStats};

pub struct JsonSink<'s> {
    store: &'s Store,
    pipe: String,
    spec: Arc<Spec>,
    client: Arc<HttpClient>,
    full: bool,
    sequence_id: String,
    /// The id of the last request sent (0: none yet).
    request_id: u64,
    buf: Vec<Value>,
    delivered: u64,
    deleted: u64,
    sender: Sender,
    /// Entities given as JSON text (`RawSink`): the body being built and its counts.
    raw: RawBatch,
}

#[derive(Default)]
struct RawBatch {
    body: String,
    n: usize,
    deleted: u64,
}

impl<'s> JsonSink<'s> {
    pub fn open(
        store: &'s Store,
        pipe: &str,
        spec: &Arc<Spec>,
        full: bool,
    ) -> Result<Self, ConnectorError> {
        let client = HttpClient::for_system(&spec.system)?;
        Ok(JsonSink {
            store,
            pipe: pipe.to_string(),
            sender: Sender::start(client.clone(), spec.clone())?,
            client,
            spec: spec.clone(),
            full,
            sequence_id: uuid::Uuid::new_v4().to_string(),
            request_id: 0,
            buf: Vec::new(),
            delivered: 0,
            deleted: 0,
            raw: RawBatch::default(),
        })
    }

    fn post(&mut self, batch: &[Value], last: bool) -> Result<(), ConnectorError> {
        let deleted = batch.iter().filter(|e| is_deleted(e)).count() as u64;
        let n = batch.len() as u64;
        self.post_body(super::array_body(batch), n - deleted, deleted, last)
    }

    fn post_body(
        &mut self,
        body: String,
        delivered: u64,
        deleted: u64,
        last: bool,
    ) -> Result<(), ConnectorError> {
        let url = self.client.url(&self.spec.url)?;
        let id = self.request_id + 1;
        let mut query: Vec<(&'static str, String)> = vec![
            ("sequence_id", self.sequence_id.clone()),
            ("is_full", self.full.to_string()),
            ("request_id", id.to_string()),
        ];
        if id > 1 {
            query.push(("previous_request_id", (id - 1).to_string()));
        }
        if self.full && id == 1 {
            query.push(("is_first", "true".into()));
        }
        if self.full && last {
            query.push(("is_last", "true".into()));
        }
        let what = format!("json sink POST {}", url.split('?').next().unwrap_or(&url));
        self.sender.post(Request {
            body,
            url,
            query,
            what,
        })?;
        self.request_id = id;
        self.delivered += delivered;
        self.deleted += deleted;
        Ok(())
    }

    /// Posts the JSON-text entities staged by `write_raw`.
    fn flush_raw(&mut self) -> Result<(), ConnectorError> {
        if self.raw.n == 0 {
            return Ok(());
        }
        let mut r = std::mem::take(&mut self.raw);
        r.body.push(']');
        self.post_body(r.body, r.n as u64 - r.deleted, r.deleted, false)
    }

    fn flush(&mut self) -> Result<(), ConnectorError> {
        self.flush_raw()?;
        let n = self.spec.batch_size.max(1);
        while !self.buf.is_empty() {
            let rest = self.buf.split_off(self.buf.len().min(n));
            let batch = std::mem::replace(&mut self.buf, rest);
            self.post(&batch, false)?;
        }
        Ok(())
    }

    fn take_stats(&mut self) -> SinkStats {
        SinkStats {
            changed: std::mem::take(&mut self.delivered) + self.deleted,
            unchanged: 0,
            deleted: std::mem::take(&mut self.deleted),
        }
    }
}

fn is_deleted(e: &Value) -> bool {
    matches!(e.get("_deleted"), Some(Value::Bool(true)))
}

fn is_filtered_marker(e: &Value) -> bool {
    matches!(e.get("_filtered"), Some(Value::Bool(true)))
}

impl Sink for JsonSink<'_> {
    fn write(&mut self, entities: Vec<Value>) -> Result<SinkStats, ConnectorError> {
        let n = entities.len() as u64;
        self.buf
            .extend(entities.into_iter().filter(|e| !is_filtered_marker(e)));
        let size = self.spec.batch_size.max(1);
        while self.buf.len() >= size {
            let rest = self.buf.split_off(size);
            let batch = std::mem::replace(&mut self.buf, rest);
            self.post(&batch, false)?;
        }
        Ok(SinkStats {
            changed: n,
            ..SinkStats::default()
        })
    }

    fn commit(&mut self, state: &PipeState) -> Result<SinkStats, ConnectorError> {
        self.flush()?;
        self.sender.collect(true)?;
        self.store.set_pipe_state(&self.pipe, state)?;
        Ok(self.take_stats())
    }

    fn finish(&mut self, state: &PipeState, _populated: bool) -> Result<SinkStats, ConnectorError> {
        self.flush()?;
        // The sequence always ends with one empty request; on a full run it carries is_last.
        self.post(&[], true)?;
        self.sender.collect(true)?;
        self.store.set_pipe_state(&self.pipe, state)?;
        Ok(self.take_stats())
    }

    fn is_full_run(&self) -> bool {
        self.full
    }

    fn raw(&mut self) -> Option<&mut dyn RawSink> {
        Some(self)
    }
}

impl RawSink for JsonSink<'_> {
    /// The same bodies as `write` gives for the decoded entities: `array_body` writes each
    /// entity's transit JSON between `[`, `,` and `]` with nothing else.
    fn write_raw(&mut self, json: &[u8], deleted: bool) -> Result<(), ConnectorError> {
        let text = std::str::from_utf8(json).map_err(|_| ConnectorError::Other {
            message: "an entity's JSON text is not UTF-8".into(),
            retryable: false,
        })?;
        let r = &mut self.raw;
        r.body.push(if r.n == 0 { '[' } else { ',' });
        r.body.push_str(text);
        r.n += 1;
        r.deleted += deleted as u64;
        if r.n >= self.spec.batch_size.max(1) {
            self.flush_raw()?;
        }
        Ok(())
    }
}
