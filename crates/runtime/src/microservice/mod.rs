//! Runs the microservices of `system:microservice` (sesam-spec 8.3). `process` (pumphouse's
//! addition) runs a local command; `docker` needs a reachable Docker daemon. The supervisor
//! waits until the service listens, registers its address for the HTTP connectors
//! (`connectors::http::services`), keeps its last log lines, restarts it with backoff when it
//! dies and stops it (its whole process group) on `stop` or drop.

mod docker;
mod logs;
mod process;

use std::sync::Arc;

use pumphouse_core::{Microservice, MicroserviceRuntime, Project};

pub use logs::LogLine;
pub use process::{ProcessService, Status};

/// A running microservice.
pub enum Service {
    Process(ProcessService),
}

impl Service {
    /// Starts `spec` and returns once it accepts connections.
    pub fn start(spec: &Arc<Microservice>) -> Result<Service, String> {
        pumphouse_connectors::http::services::starting(&spec.id);
        let res = match &spec.runtime {
            MicroserviceRuntime::Process { .. } => {
                ProcessService::start(spec).map(Service::Process)
            }
            MicroserviceRuntime::Docker { image, .. } => Err(docker::unavailable(&spec.id, image)),
        };
        if res.is_err() {
            pumphouse_connectors::http::services::not_starting(&spec.id);
        }
        res
    }

    pub fn id(&self) -> &str {
        match self {
            Service::Process(p) => p.id(),
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Service::Process(p) => p.status(),
        }
    }

    /// The last log lines (at most `logs::KEEP`), oldest first.
    pub fn logs(&self) -> Vec<LogLine> {
        match self {
            Service::Process(p) => p.logs(),
        }
    }

    /// Where it listens, e.g. `http://127.0.0.1:5000/`.
    pub fn base_url(&self) -> String {
        match self {
            Service::Process(p) => p.base_url(),
        }
    }

    pub fn stop(&mut self) {
        match self {
            Service::Process(p) => p.stop(),
        }
    }
}

/// The microservices the given pipes use, in config order, without duplicates.
pub fn used_by(project: &Project, pipes: &[String]) -> Vec<Arc<Microservice>> {
    let mut out: Vec<Arc<Microservice>> = Vec::new();
    for p in &project.pipes {
        if !pipes.is_empty() && !pipes.contains(&p.id) {
            continue;
        }
        let mut ids: Vec<&str> = vec![];
        if let pumphouse_core::SourceSpec::Json(j) = &p.source {
            ids.push(&j.system.id);
        }
        if let pumphouse_core::SinkSpec::Json(j) = &p.sink {
            ids.push(&j.system.id);
        }
        for t in &p.transforms {
            if let pumphouse_core::TransformSpec::Http(h) = t {
                ids.push(&h.system.id);
            }
        }
        for s in &project.systems {
            let Some(ms) = &s.microservice else { continue };
            if ids.contains(&s.id.as_str()) && !out.iter().any(|m| m.id == ms.id) {
                out.push(ms.clone());
            }
        }
    }
    out
}
