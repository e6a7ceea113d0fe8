//! Expression evaluation: the scope (`_S`, `_T`, `_`, `_P`, `_R`, `_B`) and the evaluator of
//! compiled expressions, plus small helpers the function modules share.

use std::borrow::Cow;
use std::cell::RefCell;

use pumphouse_value::{Map, Value};

use crate::ast::{Call, Expr, PathExpr, Var, Which};
use crate::error::EvalResult;
use crate::{path, EvalContext, Program};

/// Per-entity state shared by every scope of one `transform` call.
pub struct Env<'a> {
    pub program: &'a Program,
    pub ctx: &'a EvalContext<'a>,
    /// Entities emitted by `create`, in order.
    pub created: RefCell<Vec<Value>>,
}

/// The variables visible to an expression.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    pub s: &'a Value,
    pub t: &'a Value,
    pub elem: Option<&'a Value>,
    pub parent: Option<&'a Scope<'a>>,
    pub env: &'a Env<'a>,
    /// Inside a `hops` spec: the entity bound to each dataset alias (null when unbound).
    pub row: &'a [&'a Value],
}

impl<'a> Scope<'a> {
    /// The same scope with `_` bound to `e`.
    pub fn with_elem<'b>(&'b self, e: &'b Value) -> Scope<'b> {
        Scope {
            s: self.s,
            t: self.t,
            elem: Some(e),
            parent: self.parent,
            env: self.env,
            row: self.row,
        }
    }

    fn root(&self) -> &Scope<'a> {
        let mut cur = self;
        while let Some(p) = cur.parent {
            cur = p;
        }
        cur
    }

    /// The property namespace when namespaced identifiers are on.
    pub fn ns(&self) -> Option<&'a str> {
        let o = &self.env.program.opts;
        o.namespaced_identifiers
            .then_some(o.property_namespace.as_str())
    }

    /// Evaluates an expression.
    pub fn eval(&self, e: &Expr) -> EvalResult<Value> {
        match e {
            Expr::Const(v) => Ok(v.clone()),
            Expr::Path(p) => Ok(self.eval_path(p)),
            Expr::Call(c) => (c.f)(c, self),
        }
    }

    /// Evaluates an expression, borrowing constants and plain paths instead of cloning.
    pub fn eval_cow<'e>(&self, e: &'e Expr) -> EvalResult<Cow<'e, Value>>
    where
        'a: 'e,
    {
        match e {
            Expr::Const(v) => Ok(Cow::Borrowed(v)),
            Expr::Path(p) => {
                let ns = self.ns();
                let base: &'a Value = match p.var {
                    Var::S => self.s,
                    Var::T => self.t,
                    Var::Elem => match self.elem {
                        Some(e) => e,
                        None => return Ok(Cow::Owned(Value::Null)),
                    },
                    Var::Alias(i) => match self.row.get(i) {
                        Some(e) => e,
                        None => return Ok(Cow::Owned(Value::Null)),
                    },
                    _ => return Ok(Cow::Owned(self.eval_path(p))),
                };
                Ok(path::walk_ref(base, &p.steps, ns))
            }
            Expr::Call(c) => Ok(Cow::Owned((c.f)(c, self)?)),
        }
    }

    /// Argument `i` of a call, borrowed where possible.
    pub fn arg_cow<'e>(&self, c: &'e Call, i: usize) -> EvalResult<Cow<'e, Value>>
    where
        'a: 'e,
    {
        match c.args.get(i) {
            Some(e) => self.eval_cow(e),
            None => Ok(Cow::Owned(Value::Null)),
        }
    }

    /// Evaluates argument `i` of a call.
    pub fn arg(&self, c: &Call, i: usize) -> EvalResult<Value> {
        match c.args.get(i) {
            Some(e) => self.eval(e),
            None => Ok(Value::Null),
        }
    }

    /// Evaluates a function-expression with `_` bound to `x`.
    pub fn call_with(&self, f: &Expr, x: &Value) -> EvalResult<Value> {
        self.with_elem(x).eval(f)
    }

    fn eval_path(&self, p: &PathExpr) -> Value {
        let ns = self.ns();
        let base: &Value = match p.var {
            Var::S => self.s,
            Var::T => self.t,
            Var::Elem => match self.elem {
                Some(e) => e,
                None => return Value::Null,
            },
            Var::Alias(i) => match self.row.get(i) {
                Some(e) => e,
                None => return Value::Null,
            },
            Var::B => match self.env.ctx.params {
                Some(b) => b,
                None => return Value::Null,
            },
            Var::Parent(depth, which) => {
                let mut cur = self;
                for _ in 0..depth {
                    match cur.parent {
                        Some(p) => cur = p,
                        None => return Value::Null,
                    }
                }
                match which {
                    Some(w) => pick(cur, w),
                    None => return path::walk(&context_dict(cur), &p.steps, ns),
                }
            }
            Var::Root(which) => {
                let r = self.root();
                match which {
                    Some(w) => pick(r, w),
                    None => return path::walk(&context_dict(r), &p.steps, ns),
                }
            }
        };
        path::walk(base, &p.steps, ns)
    }
}

fn pick<'a>(sc: &Scope<'a>, w: Which) -> &'a Value {
    match w {
        Which::S => sc.s,
        Which::T => sc.t,
    }
}

/// `_P.` as a value: `{_S, _T}` plus `_P` when there is a grandparent.
fn context_dict(sc: &Scope) -> Value {
    let mut m = Map::default();
    m.insert("_S".into(), sc.s.clone());
    m.insert("_T".into(), sc.t.clone());
    if let Some(p) = sc.parent {
        m.insert("_P".into(), context_dict(p));
    }
    Value::Dict(m)
}

/// Maps `f` over a value: a list gives a list (elements where `f` gives `None` are dropped),
/// a single value gives a single value (or null).
pub fn map_values(v: Value, mut f: impl FnMut(Value) -> Option<Value>) -> Value {
    match v {
        Value::List(l) => Value::List(l.into_iter().filter_map(f).collect()),
        Value::Null => Value::Null,
        other => f(other).unwrap_or(Value::Null),
    }
}

/// Like `map_values` but `f` may fail.
pub fn try_map_values(
    v: Value,
    mut f: impl FnMut(Value) -> EvalResult<Option<Value>>,
) -> EvalResult<Value> {
    match v {
        Value::List(l) => {
            let mut out = Vec::with_capacity(l.len());
            for x in l {
                if let Some(y) = f(x)? {
                    out.push(y);
                }
            }
            Ok(Value::List(out))
        }
        Value::Null => Ok(Value::Null),
        other => Ok(f(other)?.unwrap_or(Value::Null)),
    }
}

/// A value as an owned list: a list is itself, null is empty, a scalar is one element.
pub fn into_list(v: Value) -> Vec<Value> {
    match v {
        Value::List(l) => l,
        Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// The first value of a value-expression (null for an empty list).
pub fn first(v: Value) -> Value {
    match v {
        Value::List(l) => l.into_iter().next().unwrap_or(Value::Null),
        other => other,
    }
}

/// The first value, by reference.
pub fn first_ref(v: &Value) -> &Value {
    match v {
        Value::List(l) => l.first().unwrap_or(&Value::Null),
        other => other,
    }
}
