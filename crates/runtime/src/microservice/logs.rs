//! The last lines a microservice wrote to stdout and stderr, with secrets redacted.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

use pumphouse_value::DateTime;

/// Lines kept per service (Sesam's logs endpoint returns the last 1000 by default).
pub const KEEP: usize = 1000;

#[derive(Clone, Debug)]
pub struct LogLine {
    pub timestamp: DateTime,
    pub stream: &'static str,
    pub text: String,
}

#[derive(Clone, Default)]
pub struct Ring(Arc<Mutex<VecDeque<LogLine>>>);

impl Ring {
    pub fn push(&self, stream: &'static str, text: &str) {
        let line = LogLine {
            timestamp: DateTime::now(),
            stream,
            text: pumphouse_core::secrets::redact(text),
        };
        if let Ok(mut g) = self.0.lock() {
            if g.len() >= KEEP {
                g.pop_front();
            }
            g.push_back(line);
        }
    }

    pub fn lines(&self) -> Vec<LogLine> {
        self.0
            .lock()
            .map(|g| g.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The last `n` lines as text, for error messages.
    pub fn tail(&self, n: usize) -> String {
        let l = self.lines();
        l[l.len().saturating_sub(n)..]
            .iter()
            .map(|x| x.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Reads `r` line by line into the ring on a thread of its own.
    pub fn follow(&self, stream: &'static str, r: impl Read + Send + 'static) {
        let ring = self.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(r);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let t = String::from_utf8_lossy(&buf);
                        ring.push(stream, t.trim_end_matches(['\n', '\r']));
                    }
                }
            }
        });
    }
}
