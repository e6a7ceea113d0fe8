//! The `json` source: GETs entities from a URL or microservice system and streams the
//! response array. Continuation per sesam-spec 5.1: `since=<last-seen>` when the source
//! supports it; the chronological strategy moves last-seen with every batch, the max strategy
//! reports the largest `_updated` once the source is exhausted (`end_last_seen`), so an
//! interrupted run repeats from the old offset. Paging (`page_size`) re-requests with `since`
//! set to the last `_updated` until a page comes back short.

use std::cmp::Ordering;
use std::sync::Arc;

use pumphouse_core::model::{Continuation, JsonSource as Spec};
use pumphouse_value::Value;
use reqwest::blocking::Response;

use crate::http::stream::ArrayReader;
use crate::http::HttpClient;
use crate::{Batch, ConnectorError, Source};

pub struct JsonSource {
    spec: Arc<Spec>,
    client: Arc<HttpClient>,
    strategy: Continuation,
    /// The since of the next request (`Null`: from the start).
    since: Value,
    reader: Option<(ArrayReader<Response>, String)>,
    page_count: u64,
    paging: bool,
    done: bool,
    /// The largest `_updated` seen (max strategy) / the last one (chronological).
    max_updated: Value,
    last_updated: Value,
    total: u64,
}

/// The text of a since value in a query string.
pub fn since_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        other => pumphouse_value::transit::to_string(other),
    }
}

fn fail(message: String) -> ConnectorError {
    ConnectorError::Other {
        message: pumphouse_core::secrets::redact(&message),
        retryable: false,
    }
}

impl JsonSource {
    pub fn open(spec: &Arc<Spec>, since: &Value) -> Result<Self, ConnectorError> {
        let strategy = spec.strategy();
        let paging = strategy == Continuation::Chronological
            && spec.is_since_comparable
            && spec.page_size.is_some();
        Ok(JsonSource {
            client: HttpClient::for_system(&spec.system)?,
            spec: spec.clone(),
            strategy,
            since: if strategy == Continuation::None {
                Value::Null
            } else {
                since.clone()
            },
            reader: None,
            page_count: 0,
            paging,
            done: false,
            max_updated: Value::Null,
            last_updated: Value::Null,
            total: 0,
        })
    }

    fn request(&mut self) -> Result<(), ConnectorError> {
        let base = self
            .client
            .url(&self.spec.url)
            .map_err(ConnectorError::from)?;
        let mut query: Vec<(String, String)> = vec![];
        if !self.since.is_null() {
            query.push(("since".into(), since_text(&self.since)));
        }
        if let Some(n) = self.spec.page_size {
            query.push(("limit".into(), n.to_string()));
        }
        let what = format!("json source GET {}", strip_query(&base));
        let headers = self.spec.headers.clone();
        let resp = self.client.send(&what, &|c| {
            let mut rb = c
                .get(&base)
                .query(&query)
                .header("Accept", "application/json");
            for (k, v) in &headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            rb
        })?;
        self.reader = Some((ArrayReader::new(resp), what));
        self.page_count = 0;
        Ok(())
    }

    fn note_updated(&mut self, e: &Value) {
        let Some(u) = e.get("_updated") else { return };
        if u.is_null() {
            return;
        }
        if self.max_updated.is_null()
            || pumphouse_value::order::compare(u, &self.max_updated) == Ordering::Greater
        {
            self.max_updated = u.clone();
        }
        self.last_updated = u.clone();
    }
}

fn strip_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

impl Source for JsonSource {
    fn next_batch(&mut self, max: usize) -> Result<Option<Batch>, ConnectorError> {
        let mut entities = Vec::new();
        while entities.len() < max && !self.done {
            if self.reader.is_none() {
                self.request()?;
            }
            let Some((reader, what)) = self.reader.as_mut() else {
                break;
            };
            match reader.next_entity() {
                Ok(Some(e)) => {
                    if e.as_dict().is_none() {
                        return Err(fail(format!("{what}: an entity must be a JSON object")));
                    }
                    self.page_count += 1;
                    self.total += 1;
                    self.note_updated(&e);
                    entities.push(e);
                }
                Ok(None) => {
                    self.reader = None;
                    let full_page = self.spec.page_size.is_some_and(|n| self.page_count >= n);
                    if self.paging && full_page && !self.last_updated.is_null() {
                        self.since = self.last_updated.clone();
                    } else {
                        self.done = true;
                    }
                }
                Err(msg) => return Err(fail(format!("{what}: {msg}"))),
            }
        }
        if self.done && self.total == 0 && self.spec.fail_if_empty && self.since.is_null() {
            return Err(fail(format!(
                "json source {}: the source returned no entities and if_source_empty is \"fail\"",
                self.spec.url
            )));
        }
        if entities.is_empty() {
            return Ok(None);
        }
        let last_seen = match self.strategy {
            Continuation::Chronological => self.last_updated.clone(),
            Continuation::Max | Continuation::None => Value::Null,
        };
        Ok(Some(Batch {
            entities,
            last_seen,
        }))
    }

    fn end_last_seen(&self) -> Option<Value> {
        match self.strategy {
            Continuation::Max if !self.max_updated.is_null() => Some(self.max_updated.clone()),
            _ => None,
        }
    }
}
