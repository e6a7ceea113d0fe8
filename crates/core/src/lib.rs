//! pumphouse configuration: loads a Sesam project (a sesam-py folder or one JSON file),
//! substitutes `$ENV(...)` and `$conditional_properties`, and validates it into the pipe
//! model the runtime executes. Every problem becomes a `Diagnostic` with file, line, JSON
//! path and hint; all of them are reported at once.

mod completeness;
pub mod diag;
pub mod env;
pub mod excise;
mod expr;
pub mod http_specs;
pub mod jsonpos;
pub mod model;
pub mod project;
pub mod rawstream;
pub mod secrets;
pub mod subset;
pub mod systems;
pub mod validate;

pub use diag::{Diagnostic, Severity};
pub use model::{Pipe, Project, SinkSpec, SourceSpec, TransformSpec};
pub use project::load;
pub use systems::{HttpAuth, HttpBase, HttpSystem, Microservice, MicroserviceRuntime};
