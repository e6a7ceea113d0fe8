//! The validated pipe model the runtime executes: a project of pipes and systems, each pipe
//! with its source, transforms and sink resolved (conditional components chosen, defaults
//! applied, DTL compiled).

use std::path::PathBuf;
use std::sync::Arc;

use pumphouse_value::Value;
use serde_json::Value as Json;

use crate::diag::Diagnostic;

/// A loaded, validated configuration.
#[derive(Debug)]
pub struct Project {
    /// The project folder, or the folder of the single config file.
    pub root: PathBuf,
    pub pipes: Vec<Pipe>,
    pub systems: Vec<System>,
    /// The `node` metadata entity, if any.
    pub metadata: Option<Json>,
    /// Warnings found while loading (unknown properties, components not runnable yet).
    pub warnings: Vec<Diagnostic>,
}

impl Project {
    pub fn pipe(&self, id: &str) -> Option<&Pipe> {
        self.pipes.iter().find(|p| p.id == id)
    }
}

#[derive(Debug, Clone)]
pub struct System {
    pub id: String,
    pub kind: String,
    pub file: Option<PathBuf>,
    pub config: Json,
    /// How to reach it over HTTP (`system:url` and `system:microservice`).
    pub http: Option<Arc<crate::systems::HttpSystem>>,
    /// How to run it (`system:microservice`).
    pub microservice: Option<Arc<crate::systems::Microservice>>,
}

/// One pipe, ready to run (unless `not_runnable` says why not).
#[derive(Debug, Clone)]
pub struct Pipe {
    pub id: String,
    pub file: Option<PathBuf>,
    pub source: SourceSpec,
    pub transforms: Vec<TransformSpec>,
    pub sink: SinkSpec,
    pub batch_size: usize,
    pub namespaces: NamespaceSettings,
    /// The pump section as written (scheduling is the node's business).
    pub pump: Json,
    /// Set when the pipe uses a component this version cannot run yet.
    pub not_runnable: Option<String>,
    /// The effective configuration ($ENV substituted, conditionals chosen).
    pub config: Json,
    /// `include_completeness` / `exclude_completeness` (sesam-spec 2.6).
    pub completeness: PipeCompleteness,
    /// The source's `if_source_empty: "fail"` (sesam-spec 2.4): a full run that reads
    /// nothing fails instead of deleting everything in the sink.
    pub fail_if_source_empty: bool,
}

/// Which datasets a pipe's sink inherits its completeness from (sesam-spec 2.6).
#[derive(Debug, Clone, Default)]
pub struct PipeCompleteness {
    /// `include_completeness`; `None`: every dataset of the source and the transforms.
    pub include: Option<Vec<String>>,
    /// `exclude_completeness`; wins over `include`.
    pub exclude: Vec<String>,
}

/// A dataset source's completeness settings (sesam-spec 2.6).
#[derive(Debug, Clone, Default)]
pub struct SourceCompleteness {
    /// `completeness`: the limit on `_ts` of the entities the source emits.
    pub filter: CompletenessFilter,
    /// `initial_completeness`: the pipe runs only once these datasets have a completeness.
    pub initial: Vec<String>,
}

/// The `completeness` property of a dataset source.
#[derive(Debug, Clone, Default)]
pub enum CompletenessFilter {
    /// `false` (the default): no limit.
    #[default]
    Off,
    /// `true`: the source dataset's own completeness.
    Source,
    /// A list of upstream datasets: the smallest of their completeness values as the source
    /// dataset has seen them.
    Datasets(Vec<String>),
    /// `{"expression": DTL}`: evaluated before each run; a datetime, else 1970-01-01. The
    /// program puts the value in the property `completeness` of its target.
    Expression(Arc<pumphouse_dtl::Program>),
}

#[derive(Debug, Clone, Default)]
pub struct NamespaceSettings {
    pub namespaced_identifiers: bool,
    pub identity: String,
    pub property: String,
    pub add_namespaces: bool,
    pub remove_namespaces: bool,
}

#[derive(Debug, Clone)]
pub enum SourceSpec {
    /// Entities written in the config. Every run is a full run.
    Embedded { entities: Arc<Vec<Value>> },
    /// A large embedded array, streamed from the config file on every run.
    EmbeddedFile {
        file: PathBuf,
        range: crate::jsonpos::RawRange,
    },
    /// Another pipe's dataset, read since the pipe's last-seen offset.
    Dataset {
        dataset: String,
        include_previous_versions: bool,
        /// `completeness` / `initial_completeness` (sesam-spec 2.6), if either is set.
        completeness: Option<Arc<SourceCompleteness>>,
        /// `include_replaced` (default true); false leaves out `"$replaced": true` entities.
        include_replaced: bool,
        /// `require_populated_input`: the pipe does not run until the dataset is populated.
        require_populated_input: bool,
        /// `subset` (sesam-spec 2.8, 5.3): only the entities in that subset.
        subset: Option<Arc<crate::subset::Subset>>,
    },
    /// Yields nothing.
    Empty,
    /// A JSON pull client (`json`) reading from a URL or microservice system.
    Json(Arc<JsonSource>),
    /// A source type Sesam has that this version does not run yet.
    Unsupported { kind: String, config: Json },
}

impl SourceSpec {
    /// The dataset this source reads, if any (used for dependency order).
    pub fn dataset(&self) -> Option<&str> {
        match self {
            SourceSpec::Dataset { dataset, .. } => Some(dataset),
            _ => None,
        }
    }
}

#[derive(Clone)]
pub enum TransformSpec {
    Dtl {
        program: Arc<pumphouse_dtl::Program>,
        rules: Json,
    },
    /// `emit_children`: each entity's `$children` (those with an `_id`) instead of it.
    EmitChildren,
    /// The microservice transform protocol: POST batches, get entities back.
    Http(Arc<HttpCall>),
    Unsupported {
        kind: String,
    },
}

impl std::fmt::Debug for TransformSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransformSpec::Dtl { .. } => f.write_str("Dtl"),
            TransformSpec::EmitChildren => f.write_str("EmitChildren"),
            TransformSpec::Http(h) => write!(f, "Http({})", h.url),
            TransformSpec::Unsupported { kind } => write!(f, "Unsupported({kind})"),
        }
    }
}

#[derive(Debug, Clone)]
pub enum SinkSpec {
    Dataset {
        dataset: String,
        deletion_tracking: bool,
        set_initial_offset: InitialOffset,
        /// `circuit_breaker_threshold_factor` / `_count` (sesam-spec 2.5), if either is set.
        circuit_breaker: Option<CircuitBreaker>,
    },
    /// Discards everything (Sesam's `null` sink).
    Null,
    /// The JSON push protocol client (`json`).
    Json(Arc<JsonSink>),
    Unsupported {
        kind: String,
        config: Json,
    },
}

impl SinkSpec {
    pub fn dataset(&self) -> Option<&str> {
        match self {
            SinkSpec::Dataset { dataset, .. } => Some(dataset),
            _ => None,
        }
    }
}

/// A dataset sink's circuit breaker settings (sesam-spec 2.5); the limit is the larger of
/// the two when both are set.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CircuitBreaker {
    pub factor: Option<f64>,
    pub count: Option<u64>,
}

/// When the sink dataset gets its populated flag (sesam-spec 2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialOffset {
    IfSourcePopulated,
    Never,
    Always,
    Initially,
    Onload,
}

/// A `json` source (sesam-spec 5.4).
#[derive(Debug, Clone)]
pub struct JsonSource {
    pub system: Arc<crate::systems::HttpSystem>,
    /// Relative to the system (`get_contacts` and `/get_contacts` mean the same) or absolute.
    pub url: String,
    pub supports_since: bool,
    pub is_chronological: bool,
    pub is_since_comparable: bool,
    /// `limit` per request; paging is active only when all three continuation flags are true.
    pub page_size: Option<u64>,
    pub headers: Vec<(String, String)>,
    /// `if_source_empty: fail`: a full read that yields nothing fails the run.
    pub fail_if_empty: bool,
}

impl JsonSource {
    /// The continuation strategy of sesam-spec 5.1.
    pub fn strategy(&self) -> Continuation {
        match (
            self.supports_since,
            self.is_chronological,
            self.is_since_comparable,
        ) {
            (true, true, _) => Continuation::Chronological,
            (true, false, true) => Continuation::Max,
            _ => Continuation::None,
        }
    }
}

/// How a source's `_updated` values become the pipe's last-seen (sesam-spec 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Continuation {
    /// Every run is full.
    None,
    /// Entities arrive in `_updated` order; the offset moves with every batch.
    Chronological,
    /// The offset becomes the largest `_updated`, stored at the end of the run.
    Max,
}

/// A `json` sink (sesam-spec 7.2, 9.2).
#[derive(Debug, Clone)]
pub struct JsonSink {
    pub system: Arc<crate::systems::HttpSystem>,
    pub url: String,
    pub batch_size: usize,
    pub headers: Vec<(String, String)>,
    /// Retries of a failed batch (`pump.batch_retries`, default 3) and the delay between them
    /// (`pump.write_retry_delay`, seconds).
    pub batch_retries: u32,
    pub retry_delay: f64,
}

/// An `http` transform (sesam-spec 6, 9.3).
#[derive(Debug, Clone)]
pub struct HttpCall {
    pub system: Arc<crate::systems::HttpSystem>,
    pub url: String,
    pub batch_size: usize,
    pub headers: Vec<(String, String)>,
}
