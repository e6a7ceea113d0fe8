//! `pumphouse circuit-breaker --data DIR DATASET rollback|commit`: resolves a tripped circuit
//! breaker without a running node (the CLI twin of `POST /api/datasets/{id}` with
//! `operation=rollback-circuit-breaker|commit-circuit-breaker`).

use std::path::Path;
use std::process::ExitCode;

use crate::cmd_data::{open, release};

pub fn circuit_breaker(data: &Path, dataset: &str, op: &str) -> anyhow::Result<ExitCode> {
    let store = open(data)?;
    if !store.dataset_exists(dataset)? {
        anyhow::bail!("no dataset {dataset:?} in {}", data.display());
    }
    let st = match op {
        "rollback" => store.rollback_circuit_breaker(dataset)?,
        "commit" => store.commit_circuit_breaker(dataset)?,
        "status" => {
            match store.circuit_breaker(dataset)? {
                None => {
                    println!("{dataset}: no circuit breaker is tripped or holding versions back")
                }
                Some(st) => println!(
                    "{dataset}: {} by pipe {:?}, {} versions held back{}",
                    if st.tripped {
                        "tripped"
                    } else {
                        "holding a run back"
                    },
                    st.pipe,
                    st.written,
                    st.message.map(|m| format!(": {m}")).unwrap_or_default()
                ),
            }
            release(store)?;
            return Ok(ExitCode::SUCCESS);
        }
        other => anyhow::bail!("unknown operation {other:?}; use rollback, commit or status"),
    };
    let what = if op == "rollback" {
        format!(
            "removed {} held-back versions; pipe {:?} reruns from where its run started",
            st.written, st.pipe
        )
    } else {
        format!("{} held-back versions are visible now", st.written)
    };
    println!("{dataset}: circuit breaker reset: {what}");
    release(store)?;
    Ok(ExitCode::SUCCESS)
}
