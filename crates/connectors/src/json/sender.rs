//! The json sink's sender: one thread POSTs the sink's requests in order, one in flight and
//! one queued, while the pipe's thread reads and serializes the next batch (before, each
//! batch waited for the previous answer: the receiver's time and ours added up). A failed
//! request (after its retries) ends the thread; the sink sees the failure at its next post
//! or when it waits for every answer before saving the pipe state (`collect(true)`), so the
//! state still moves only past acknowledged entities.

use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pumphouse_core::model::JsonSink as Spec;

use crate::http::{HttpClient, HttpFailure};
use crate::ConnectorError;

/// One POST of the push protocol.
pub(crate) struct Request {
    pub url: String,
    pub query: Vec<(&'static str, String)>,
    pub body: String,
    /// For messages: `json sink POST <url>`.
    pub what: String,
}

pub(crate) struct Sender {
    tx: Option<SyncSender<Request>>,
    rx: Receiver<Result<(), ConnectorError>>,
    /// Requests handed over and not answered yet.
    pending: usize,
    thread: Option<JoinHandle<()>>,
}

impl Sender {
    pub fn start(client: Arc<HttpClient>, spec: Arc<Spec>) -> Result<Sender, ConnectorError> {
        let (tx, requests) = sync_channel::<Request>(1);
        let (answers, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("json-sink-send".into())
            .spawn(move || {
                for r in requests {
                    let res = send(&client, &spec, &r);
                    let failed = res.is_err();
                    if answers.send(res).is_err() || failed {
                        return;
                    }
                }
            })
            .map_err(|e| ConnectorError::Unsupported(format!("cannot start a thread: {e}")))?;
        Ok(Sender {
            tx: Some(tx),
            rx,
            pending: 0,
            thread: Some(thread),
        })
    }

    /// Hands a request over (waits while one is already queued); reports the failure of an
    /// earlier request first.
    pub fn post(&mut self, r: Request) -> Result<(), ConnectorError> {
        self.collect(false)?;
        match self.tx.as_ref().map(|t| t.send(r)) {
            Some(Ok(())) => {
                self.pending += 1;
                Ok(())
            }
            // The thread ended after a failure: its answer says which.
            _ => self.collect(true),
        }
    }

    /// Takes in the answers that arrived (`all`: waits for every pending one).
    pub fn collect(&mut self, all: bool) -> Result<(), ConnectorError> {
        while self.pending > 0 {
            let answer = if all {
                self.rx.recv().ok()
            } else {
                match self.rx.try_recv() {
                    Ok(a) => Some(a),
                    Err(TryRecvError::Empty) => return Ok(()),
                    Err(TryRecvError::Disconnected) => None,
                }
            };
            match answer {
                Some(Ok(())) => self.pending -= 1,
                Some(Err(e)) => {
                    self.pending = 0;
                    return Err(e);
                }
                None => {
                    self.pending = 0;
                    return Err(ConnectorError::Unsupported(
                        "the json sink's sender thread ended unexpectedly".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// POSTs one request, retrying transport errors, 5xx and 429 `pump.batch_retries` times.
fn send(client: &HttpClient, spec: &Spec, r: &Request) -> Result<(), ConnectorError> {
    let mut attempt = 0;
    loop {
        let res = client.send(&r.what, &|c| {
            let mut rb = c
                .post(&r.url)
                .query(&r.query)
                .header("Content-Type", "application/json")
                .body(r.body.clone());
            for (k, v) in &spec.headers {
                rb = rb.header(k.as_str(), v.as_str());
            }
            rb
        });
        match res {
            Ok(_) => return Ok(()),
            Err(f) if f.status == Some(reqwest::StatusCode::CONFLICT) => {
                return Err(HttpFailure {
                    status: f.status,
                    message: format!(
                        "{}; the receiver rejected the sync sequence, the next full run starts a new one",
                        f.message
                    ),
                }
                .into())
            }
            Err(f) if f.retryable() && attempt < spec.batch_retries => {
                attempt += 1;
                std::thread::sleep(Duration::from_secs_f64(spec.retry_delay.max(0.0)));
            }
            Err(mut f) => {
                let tries = attempt + 1;
                if tries > 1 {
                    f.message = format!("{} (after {tries} attempts)", f.message);
                }
                return Err(f.into());
            }
        }
    }
}
