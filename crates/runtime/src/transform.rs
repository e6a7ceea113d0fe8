//! Applies a pipe's transform chain to one source entity: `add_namespaces` before the first
//! transform, each DTL program in turn (targets, `create`d entities, `filter` markers), then
//! `remove_namespaces`. A deleted source entity makes its target deleted too.

use pumphouse_core::{Pipe, TransformSpec};
use pumphouse_dtl::{EvalContext, Lookup};
use pumphouse_value::Value;

use crate::namespaces;
use crate::runner::RunError;

/// Runs the transforms of `pipe` on `entity`, appending the results to `out`.
pub fn apply(pipe: &Pipe, entity: Value, out: &mut Vec<Value>) -> Result<(), RunError> {
    apply_with(pipe, None, entity, out)
}

/// `apply` with access to other datasets (`lookup-entity`, `hops`).
pub fn apply_with(
    pipe: &Pipe,
    lookup: Option<&dyn Lookup>,
    entity: Value,
    out: &mut Vec<Value>,
) -> Result<(), RunError> {
    let deleted = matches!(entity.get("_deleted"), Some(Value::Bool(true)));
    let ns = &pipe.namespaces;
    let entity = if ns.add_namespaces {
        namespaces::add(entity, &ns.identity, &ns.property)
    } else {
        entity
    };
    let mut current = vec![entity];
    for t in &pipe.transforms {
        let program = match t {
            TransformSpec::Dtl { program, .. } => program,
            TransformSpec::EmitChildren => {
                current = current.into_iter().flat_map(emit_children).collect();
                continue;
            }
            _ => {
                return Err(RunError::config(
                    "transform type not supported by this version",
                ))
            }
        };
        let mut next = Vec::with_capacity(current.len());
        for e in current {
            dtl_step(program, lookup, e, deleted, &mut next)?;
        }
        current = next;
    }
    finish(pipe, current, out)
}

/// One DTL program on one entity: its target (marked deleted when `deleted`), a `_filtered`
/// marker, and the entities it `create`d.
fn dtl_step(
    program: &pumphouse_dtl::Program,
    lookup: Option<&dyn Lookup>,
    e: Value,
    deleted: bool,
    next: &mut Vec<Value>,
) -> Result<(), RunError> {
    let ctx = EvalContext {
        lookup,
        ..EvalContext::default()
    };
    // The source is moved into the program; keep what errors and filters need.
    let source_id = e.get("_id").cloned();
    let res = program.transform_owned(e, &ctx).map_err(|err| {
        let mut m = pumphouse_value::Map::default();
        m.extend(source_id.clone().map(|id| ("_id".to_string(), id)));
        let mut e = RunError::entity(&Value::Dict(m), format!("DTL failed: {err}"));
        e.trip = err.kind == pumphouse_dtl::EvalErrorKind::Trip;
        e
    })?;
    if res.filtered {
        let id = res
            .target
            .as_ref()
            .and_then(|t| t.get("_id"))
            .cloned()
            .or(source_id)
            .unwrap_or(Value::Null);
        let mut m = pumphouse_value::Map::default();
        m.insert("_id".into(), id);
        m.insert("_filtered".into(), Value::Bool(true));
        next.push(Value::Dict(m));
    } else if let Some(mut target) = res.target {
        if deleted {
            if let Some(m) = target.as_dict_mut() {
                m.insert("_deleted".into(), Value::Bool(true));
            }
        }
        next.push(target);
    }
    next.extend(res.created);
    Ok(())
}

/// The user properties of a source entity the pipe's transforms can read, when that is
/// known: the first transform is DTL and says which (`Program::source_properties`), and no
/// `add_namespaces` renames the properties before it. `None`: the whole entity is needed.
pub fn source_properties(pipe: &Pipe) -> Option<std::sync::Arc<[String]>> {
    if pipe.namespaces.add_namespaces {
        return None;
    }
    match pipe.transforms.first()? {
        TransformSpec::Dtl { program, .. } => program.source_properties().map(Into::into),
        _ => None,
    }
}

/// The open `http` transforms of a pipe (one client each), by position in the chain.
pub struct Chain {
    http: Vec<Option<pumphouse_connectors::json::transform::HttpTransform>>,
}

impl Chain {
    pub fn open(pipe: &Pipe) -> Result<Chain, RunError> {
        let mut http = Vec::with_capacity(pipe.transforms.len());
        for t in &pipe.transforms {
            http.push(match t {
                TransformSpec::Http(spec) => Some(
                    pumphouse_connectors::json::transform::HttpTransform::open(spec)?,
                ),
                _ => None,
            });
        }
        Ok(Chain { http })
    }

    /// Runs the transforms on a batch of source entities. Without `http` transforms this is
    /// `apply` per entity; with them each stage runs on the whole batch, so the service gets
    /// batches of its `batch_size`.
    pub fn apply_batch(
        &self,
        pipe: &Pipe,
        joins: Option<&crate::joins::Joins>,
        entities: Vec<Value>,
        out: &mut Vec<Value>,
    ) -> Result<(), RunError> {
        let lookup = joins.map(|j| j as &dyn Lookup);
        if self.http.iter().all(Option::is_none) {
            for e in entities {
                let id = e.get("_id").and_then(Value::as_str).map(String::from);
                if let Some(j) = joins {
                    j.begin();
                }
                apply_with(pipe, lookup, e, out)?;
                if let Some(j) = joins {
                    j.end(id.as_deref());
                }
            }
            if let Some(j) = joins {
                j.save()?;
            }
            return Ok(());
        }
        let ns = &pipe.namespaces;
        let mut current: Vec<Value> = if ns.add_namespaces {
            entities
                .into_iter()
                .map(|e| namespaces::add(e, &ns.identity, &ns.property))
                .collect()
        } else {
            entities
        };
        for (t, http) in pipe.transforms.iter().zip(&self.http) {
            current = match (t, http) {
                (_, Some(h)) => h.apply(current)?,
                (TransformSpec::Dtl { program, .. }, None) => {
                    let mut next = Vec::with_capacity(current.len());
                    for e in current {
                        let deleted = matches!(e.get("_deleted"), Some(Value::Bool(true)));
                        dtl_step(program, lookup, e, deleted, &mut next)?;
                    }
                    next
                }
                (TransformSpec::EmitChildren, None) => {
                    current.into_iter().flat_map(emit_children).collect()
                }
                _ => {
                    return Err(RunError::config(
                        "transform type not supported by this version",
                    ))
                }
            };
        }
        finish(pipe, current, out)
    }
}

/// `remove_namespaces` and the `_id` check at the end of the chain.
fn finish(pipe: &Pipe, current: Vec<Value>, out: &mut Vec<Value>) -> Result<(), RunError> {
    let ns = &pipe.namespaces;
    for e in current {
        let e = if ns.remove_namespaces {
            namespaces::remove(e)
        } else {
            e
        };
        match e.get("_id") {
            Some(Value::String(_)) => out.push(e),
            Some(other) => {
                return Err(RunError::entity(&e, format!("the entity's _id must be a string, not {} {}", other.type_name(), pumphouse_value::transit::to_string(other))))
            }
            None => return Err(RunError::entity(&e, "the entity has no _id; add [\"copy\", \"_id\"] or [\"add\", \"_id\", ...] to the DTL")),
        }
    }
    Ok(())
}

/// `emit_children`: the entities in `$children` that have an `_id`; a deleted parent's
/// children are emitted deleted too. The parent itself is not emitted.
fn emit_children(parent: Value) -> Vec<Value> {
    let deleted = matches!(parent.get("_deleted"), Some(Value::Bool(true)));
    let Value::Dict(mut m) = parent else {
        return Vec::new();
    };
    let Some(Value::List(kids)) = m.swap_remove("$children") else {
        return Vec::new();
    };
    kids.into_iter()
        .filter(|k| matches!(k.get("_id"), Some(Value::String(_))))
        .map(|mut k| {
            if deleted {
                if let Some(km) = k.as_dict_mut() {
                    km.insert("_deleted".into(), Value::Bool(true));
                }
            }
            k
        })
        .collect()
}
