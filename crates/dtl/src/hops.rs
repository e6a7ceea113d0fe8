//! Running `hops` and `apply-hops`. A HOPS_SPEC builds a table, one column per dataset
//! alias: starting from the input row (`_S`), each join step looks its probe values up in
//! the target dataset's index (through `Lookup::find`) and extends every row with each
//! entity found; filters drop rows as soon as they can be checked. `return` projects the
//! table to a list. Recursion feeds the outputs back in as `_S`; several specs chain.

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use pumphouse_value::Value;

use crate::ast::{Call, HopReturn, HopSpec};
use crate::error::{EvalError, EvalResult};
use crate::eval::{Env, Scope};
use crate::Program;

/// One join lookup: which index of which program, and whether to track it.
pub struct Join<'p> {
    program: &'p Program,
    index: usize,
    track: bool,
}

impl<'p> Join<'p> {
    pub fn new(program: &'p Program, index: usize, track: bool) -> Join<'p> {
        Join {
            program,
            index,
            track,
        }
    }

    /// The dataset the join reads.
    pub fn dataset(&self) -> &'p str {
        &self.program.indexes[self.index].dataset
    }

    /// The index's name: the dataset and the canonical join expression. Two programs that
    /// join the same dataset on the same expression share it.
    pub fn name(&self) -> &'p str {
        &self.program.indexes[self.index].name
    }

    /// The index number in `Program::indexes`.
    pub fn index(&self) -> usize {
        self.index
    }

    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// Whether dependency tracking is on for this lookup (`track-dependencies`).
    pub fn track(&self) -> bool {
        self.track
    }

    /// Whether the index is the entity's `_id` (a plain `alias._id` path): then `find` can
    /// read entities by `_id` instead of keeping a secondary index.
    pub fn is_id(&self) -> bool {
        let def = &self.program.indexes[self.index];
        !self.program.opts.namespaced_identifiers
            && matches!(&def.expr, crate::ast::Expr::Path(p) if p.steps.len() == 1 && p.steps[0] == "_id")
    }

    /// The values this index holds for `entity`.
    pub fn keys_of(&self, entity: &Value) -> Vec<Value> {
        index_keys(self.program, self.index, entity)
    }
}

/// The canonical bytes of a join value: numbers that compare equal (1, 1.0, ~f1) give the
/// same key. `None` for null, which is never joined.
pub fn join_key(v: &Value) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    match v {
        Value::Null => return None,
        Value::Int(i) => {
            out.push(b'n');
            out.extend(i.to_string().bytes());
        }
        Value::BigInt(i) => {
            out.push(b'n');
            out.extend(i.to_string().bytes());
        }
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            out.push(b'n');
            out.extend((*f as i64).to_string().bytes());
        }
        Value::Decimal(d) if d.is_integer() => {
            out.push(b'n');
            out.extend(d.with_scale(0).to_string().bytes());
        }
        Value::Decimal(d) => {
            out.push(b'd');
            out.extend(d.normalized().to_string().bytes());
        }
        Value::String(s) => {
            out.push(b's');
            out.extend(s.bytes());
        }
        other => {
            out.push(b'j');
            out.extend(pumphouse_value::transit::to_string(other).bytes());
        }
    }
    Some(out)
}

fn is_deleted(e: &Value) -> bool {
    matches!(e.get("_deleted"), Some(Value::Bool(true)))
}

/// The non-null values of index `index` for `entity`; none for a deleted entity.
pub fn index_keys(program: &Program, index: usize, entity: &Value) -> Vec<Value> {
    if is_deleted(entity) {
        return Vec::new();
    }
    let def = &program.indexes[index];
    let ctx = crate::EvalContext::default();
    let env = Env {
        program,
        ctx: &ctx,
        created: RefCell::new(Vec::new()),
    };
    let null = Value::Null;
    let mut row: Vec<&Value> = vec![&null; def.alias + 1];
    row[def.alias] = entity;
    let sc = Scope {
        s: &null,
        t: &null,
        elem: None,
        parent: None,
        env: &env,
        row: &row,
    };
    let v = sc.eval(&def.expr).unwrap_or(Value::Null);
    flat_values(v)
}

/// A value as a list of non-null join values.
fn flat_values(v: Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.into_iter().filter(|x| !x.is_null()).collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The function pointer `hops` and `apply-hops` calls compile to.
pub fn eval_call(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let call = &sc.env.program.hops[c.aux];
    let mut current = vec![sc.s.clone()];
    for spec in &call.specs {
        let mut next = Vec::new();
        for input in &current {
            run_spec(sc, spec, input, &mut next)?;
        }
        current = next;
    }
    let Some(rule) = call.rule else {
        return Ok(Value::List(current));
    };
    let mut out = Vec::with_capacity(current.len());
    for v in &current {
        out.extend(crate::functions::dicts::apply_one(sc, rule, v)?);
    }
    Ok(Value::List(out))
}

/// `_id` as a dedup key for results (non-entities are never merged).
fn id_of(v: &Value) -> Option<&Value> {
    v.get("_id")
}

/// One spec on one input, with recursion; appends the results to `out`.
fn run_spec(sc: &Scope, spec: &HopSpec, input: &Value, out: &mut Vec<Value>) -> EvalResult<()> {
    if !spec.recurse {
        return once(sc, spec, input, out);
    }
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    let key = |v: &Value| id_of(v).and_then(join_key);
    if let Some(k) = key(input) {
        seen.insert(k);
    }
    if !spec.exclude_root {
        out.push(input.clone());
    }
    let mut frontier = vec![input.clone()];
    let mut depth = 0u64;
    while !frontier.is_empty() && spec.max_depth.is_none_or(|m| depth < m) {
        let mut found = Vec::new();
        for x in &frontier {
            once(sc, spec, x, &mut found)?;
        }
        frontier = Vec::new();
        for f in found {
            let fresh = match key(&f) {
                Some(k) => seen.insert(k),
                None => true,
            };
            if fresh {
                out.push(f.clone());
                frontier.push(f);
            }
        }
        depth += 1;
    }
    Ok(())
}

type Row = Vec<Rc<Value>>;

/// One evaluation of a spec's join plan with `_S` = `input`.
fn once(sc: &Scope, spec: &HopSpec, input: &Value, out: &mut Vec<Value>) -> EvalResult<()> {
    let lookup = sc.env.ctx.lookup.ok_or_else(|| {
        EvalError::other("hops: no datasets are available here (hops and apply-hops run inside a pipe with a dataset store)")
    })?;
    let null = Rc::new(Value::Null);
    let width = spec.datasets.len();
    let with_row = |row: &Row, f: &mut dyn FnMut(&Scope) -> EvalResult<bool>| -> EvalResult<bool> {
        let refs: Vec<&Value> = row.iter().map(|r| &**r).collect();
        let s = Scope {
            s: input,
            t: sc.t,
            elem: None,
            parent: sc.parent,
            env: sc.env,
            row: &refs,
        };
        f(&s)
    };
    let root: Row = vec![null.clone(); width];
    for f in &spec.pre_filters {
        if !with_row(&root, &mut |s| Ok(s.eval(f)?.truthy()))? {
            return Ok(());
        }
    }
    let mut rows = vec![root];
    for step in &spec.steps {
        let join = Join::new(sc.env.program, step.index, spec.track);
        let mut next_rows = Vec::new();
        for row in &rows {
            let mut probe = Vec::new();
            with_row(row, &mut |s| {
                probe = flat_values(s.eval(&step.probe)?);
                Ok(true)
            })?;
            let mut seen = HashSet::new();
            probe.retain(|v| join_key(v).is_some_and(|k| seen.insert(k)));
            if probe.is_empty() {
                continue;
            }
            let found = lookup.find(&join, &probe).map_err(|e| {
                EvalError::other(format!("hops: reading dataset {:?}: {e}", join.dataset()))
            })?;
            for e in found {
                let mut r = row.clone();
                r[step.alias] = Rc::new(e);
                let mut keep = true;
                for f in &step.filters {
                    if !with_row(&r, &mut |s| Ok(s.eval(f)?.truthy()))? {
                        keep = false;
                        break;
                    }
                }
                if keep {
                    next_rows.push(r);
                }
            }
        }
        rows = next_rows;
    }
    match &spec.ret {
        HopReturn::Aliases(aliases) => {
            let mut seen: HashSet<(usize, Vec<u8>)> = HashSet::new();
            for row in &rows {
                for &a in aliases {
                    let e = &row[a];
                    let fresh = match id_of(e).and_then(join_key) {
                        Some(k) => seen.insert((a, k)),
                        None => true,
                    };
                    if fresh && !e.is_null() {
                        out.push((**e).clone());
                    }
                }
            }
        }
        HopReturn::Template(t) => {
            for row in &rows {
                let mut v = Value::Null;
                with_row(row, &mut |s| {
                    v = s.eval(t)?;
                    Ok(true)
                })?;
                match v {
                    Value::List(l) => out.extend(l),
                    Value::Null => {}
                    other => out.push(other),
                }
            }
        }
    }
    Ok(())
}

/// An entity as a dict, for `Value::Dict` checks in implementations.
pub fn entity_id(e: &Value) -> Option<&str> {
    match e {
        Value::Dict(m) => m.get("_id").and_then(Value::as_str),
        _ => None,
    }
}
