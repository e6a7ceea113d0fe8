//! Shared by the serve benchmarks: the e2e tests' `pumphouse serve` launcher (real process,
//! free loopback port, SIGTERM to stop) plus the server's resident memory from /proc.

#![allow(dead_code)]

#[path = "../../tests/node/mod.rs"]
mod node;

use std::path::Path;

pub struct Serve {
    node: node::Node,
    pub base: String,
}

impl Serve {
    pub fn start(data: &Path, extra: &[&str]) -> Serve {
        let node = node::Node::start(data, extra);
        let base = node.base.clone();
        Serve { node, base }
    }

    /// Resident set size in MiB (VmRSS), and the peak so far (VmHWM).
    pub fn rss_mib(&self) -> (f64, f64) {
        let pid = self.node.child.as_ref().map_or(0, |c| c.id());
        let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            s.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
                / 1024.0
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    pub fn stop(mut self) {
        self.node.stop();
    }
}
