//! `GET /api/publishers/{pipe}/entities` (sesam-spec 7.3, 9.1): the JSON pull server of a pipe
//! with an `http_endpoint` sink. There is no pump: each request reads the pipe's source from
//! `since`, runs the transforms and streams the result as a JSON array; every entity keeps
//! its source offset as `_updated`, so clients can resume with `since`.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use pumphouse_core::SinkSpec;
use pumphouse_value::Value;

use crate::util::{qnum, stream_body};
use crate::{ApiError, ApiResult, AppState, Role, Routes};

pub fn routes(r: Routes) -> Routes {
    r.add(
        "GET",
        "/api/publishers/{pipe}/entities",
        Role::ReadOnly,
        "The entities of a pipe with an http_endpoint sink (JSON pull: since, limit)",
        entities,
    )
    .add(
        "GET",
        "/api/publishers/{pipe}/csv",
        Role::ReadOnly,
        "The entities of a pipe with a csv_endpoint sink as CSV (since, limit)",
        csv,
    )
}

async fn entities(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<crate::util::Query>,
) -> ApiResult<Response> {
    publish(st, id, q, false).await
}

async fn csv(
    State(st): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<crate::util::Query>,
) -> ApiResult<Response> {
    publish(st, id, q, true).await
}

async fn publish(
    st: AppState,
    id: String,
    q: crate::util::Query,
    as_csv: bool,
) -> ApiResult<Response> {
    let kind = if as_csv {
        "csv_endpoint"
    } else {
        "http_endpoint"
    };
    let loaded = st.node.loaded();
    let Some(pipe) = loaded.project.pipe(&id).cloned() else {
        return Err(ApiError::not_found(format!("no pipe {id:?}")));
    };
    let columns = match &pipe.sink {
        SinkSpec::Unsupported { kind: k, config } if k == kind => {
            pumphouse_connectors::csv_endpoint::columns(config)
        }
        _ => {
            return Err(ApiError::not_found(format!(
                "pipe {id:?} has no {kind} sink, so it publishes nothing here"
            )))
        }
    };
    let mut csv_writer = pumphouse_connectors::csv_endpoint::CsvWriter::new(columns);
    let limit: Option<usize> = qnum(&q, "limit")?;
    let since = match q.get("since").filter(|s| !s.is_empty()) {
        None => Value::Null,
        Some(s) => match s.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::String(s.clone()),
        },
    };
    let store = st.node.store.clone();
    // Open the source before answering, so a bad since or a missing dataset is an error status.
    let lookup = pumphouse_runtime::joins::Joins::reader(&store, &pipe.id);
    let gate = pumphouse_runtime::completeness::gate(&store, &pipe, Some(&lookup))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let mut source: Box<dyn pumphouse_connectors::Source> = match gate {
        pumphouse_runtime::completeness::Gate::Open(limit) => {
            pumphouse_connectors::open_source(&pipe.source, &store, &since, limit)
                .map_err(|e| ApiError::bad_request(e.to_string()))?
        }
        pumphouse_runtime::completeness::Gate::Wait(_) => {
            Box::new(pumphouse_connectors::empty::EmptySource)
        }
    };
    let filtered = if pipe.transforms.is_empty() {
        "false"
    } else {
        "true"
    };
    let body = stream_body(move |send| {
        let mut n = 0usize;
        let mut first = true;
        let mut buf = String::from(if as_csv { "" } else { "[" });
        'outer: loop {
            let batch = match source.next_batch(1000) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    // The status is sent already: end the array invalid so clients notice.
                    send(Bytes::from(format!("\n{{\"error\": {:?}}}", e.to_string())));
                    return;
                }
            };
            for e in batch.entities {
                let updated = e.get("_updated").cloned();
                let mut out = Vec::new();
                if let Err(err) = pumphouse_runtime::transform::apply(&pipe, e, &mut out) {
                    send(Bytes::from(format!("\n{{\"error\": {:?}}}", err.message)));
                    return;
                }
                for mut o in out {
                    if matches!(o.get("_filtered"), Some(Value::Bool(true))) {
                        continue;
                    }
                    if let (Some(u), Some(m)) = (&updated, o.as_dict_mut()) {
                        m.insert("_updated".into(), u.clone());
                    }
                    if limit.is_some_and(|l| n >= l) {
                        break 'outer;
                    }
                    if as_csv {
                        csv_writer.row(&pumphouse_value::transit::to_json(&o), &mut buf);
                    } else {
                        if !first {
                            buf.push(',');
                        }
                        first = false;
                        pumphouse_value::transit::write(
                            &mut buf,
                            &o,
                            pumphouse_value::transit::Mode::Transit,
                        );
                    }
                    n += 1;
                }
            }
            if buf.len() > 1 << 16 && !send(Bytes::from(std::mem::take(&mut buf))) {
                return;
            }
        }
        if as_csv {
            csv_writer.finish(&mut buf);
        } else {
            buf.push(']');
        }
        send(Bytes::from(buf));
    });
    Ok((
        [
            (
                "content-type",
                if as_csv {
                    "text/csv; charset=utf-8"
                } else {
                    "application/json"
                },
            ),
            ("x-dataset-filtered", filtered),
        ],
        body,
    )
        .into_response())
}
