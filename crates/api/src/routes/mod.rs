//! The route groups, one file each. To add a group: write `routes/<group>.rs` with
//! `pub fn routes(r: Routes) -> Routes` and add it to `all`.

use crate::Routes;

pub mod breaker;
pub mod config;
pub mod datasets;
pub mod env;
pub mod metrics;
pub mod microservices;
pub mod node;
pub mod pipes;
pub mod publishers;
pub mod pump;
pub mod receivers;
pub mod runall;
pub mod secrets;
pub mod systems;

pub fn all(r: Routes) -> Routes {
    let r = node::routes(r);
    let r = config::routes(r);
    let r = env::routes(r);
    let r = pipes::routes(r);
    let r = pump::routes(r);
    let r = runall::routes(r);
    let r = datasets::routes(r);
    let r = breaker::routes(r);
    let r = systems::routes(r);
    let r = secrets::routes(r);
    let r = microservices::routes(r);
    let r = publishers::routes(r);
    let r = receivers::routes(r);
    metrics::routes(r)
}
