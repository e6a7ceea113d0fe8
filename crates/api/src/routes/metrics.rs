//! `GET /api/metrics`: Prometheus text format, per pipe (Sesam's names where they exist):
//! `sesam_pipe_enabled`, `sesam_pipe_running`, `sesam_pump_successful`, `sesam_pump_runs_total`,
//! `sesam_pump_failures_total`, `sesam_pump_total_time` (last run), `sesam_pipe_queue_source`,
//! `sesam_pipe_circuit_breaker_tripped`.

use std::fmt::Write;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::{AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/metrics",
        Role::Admin,
        "Prometheus metrics",
        metrics,
    )
}

fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn tripped(node: &pumphouse_runtime::node::Node, dataset: Option<&str>) -> bool {
    dataset.is_some_and(|d| {
        node.store
            .circuit_breaker(d)
            .is_ok_and(|cb| cb.is_some_and(|c| c.tripped))
    })
}

async fn metrics(State(st): State<AppState>) -> impl IntoResponse {
    let node = st.node.clone();
    let l = node.loaded();
    let mut out = String::new();
    let mut series: Vec<(&str, &str, Vec<(String, f64)>)> = vec![
        (
            "sesam_pipe_enabled",
            "1 if the pipe's pump is enabled",
            vec![],
        ),
        ("sesam_pipe_running", "1 while the pipe runs", vec![]),
        (
            "sesam_pump_successful",
            "1 if the last run succeeded",
            vec![],
        ),
        (
            "sesam_pump_runs_total",
            "runs since the node started",
            vec![],
        ),
        (
            "sesam_pump_failures_total",
            "failed runs since the node started",
            vec![],
        ),
        ("sesam_pump_total_time", "seconds the last run took", vec![]),
        (
            "sesam_pump_processed_last_run",
            "source entities of the last run",
            vec![],
        ),
        (
            "sesam_pump_changes_last_run",
            "changes written by the last run",
            vec![],
        ),
        (
            "sesam_pipe_circuit_breaker_tripped",
            "1 if the circuit breaker of the pipe's sink dataset is tripped",
            vec![],
        ),
    ];
    for p in &l.project.pipes {
        let rt = node.pump(&p.id);
        let i = rt.info.lock().map(|i| i.clone()).unwrap_or_default();
        let id = label(&p.id);
        let vals = [
            !node.is_disabled(&p.id) as u8 as f64,
            rt.is_running() as u8 as f64,
            (i.success == Some(true)) as u8 as f64,
            i.runs as f64,
            i.failures as f64,
            i.seconds_last_run,
            i.processed_last_run as f64,
            i.changes_last_run as f64,
            tripped(&node, p.sink.dataset()) as u8 as f64,
        ];
        for (s, v) in series.iter_mut().zip(vals) {
            s.2.push((id.clone(), v));
        }
    }
    for (name, help, vals) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for (id, v) in vals {
            let _ = writeln!(out, "{name}{{pipe=\"{id}\"}} {v}");
        }
    }
    let _ = writeln!(out, "# HELP sesam_node_pipes pipes in the config\n# TYPE sesam_node_pipes gauge\nsesam_node_pipes {}", l.project.pipes.len());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
