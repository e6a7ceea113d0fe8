//! The compiled form of DTL: expressions with pre-resolved function pointers, paths split
//! into steps, and transforms as an enum. Built by `compile`, run by `eval`/`transforms`.

use pumphouse_value::Value;

use crate::error::EvalResult;
use crate::eval::Scope;
use crate::wildcard::Wildcard;

/// The implementation of an expression function: it gets its unevaluated arguments, so it
/// can evaluate function-expression arguments once per element.
pub type FnImpl = fn(&Call, &Scope) -> EvalResult<Value>;

/// A compiled expression.
#[derive(Debug)]
pub enum Expr {
    Const(Value),
    Path(PathExpr),
    Call(Call),
}

/// A call of an expression function.
pub struct Call {
    pub name: &'static str,
    pub f: FnImpl,
    pub args: Vec<Expr>,
    /// Compile-time extra: the rule index for `apply`.
    pub aux: usize,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("name", &self.name)
            .field("args", &self.args)
            .finish()
    }
}

/// Which of a context's two values a `_P`/`_R` path starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    S,
    T,
}

/// The variable a path starts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    S,
    T,
    /// `_`: the current element of a function-expression.
    Elem,
    /// `_B`: the request parameters.
    B,
    /// `_P` repeated `depth` times, then `_S`/`_T` (or the context dict itself).
    Parent(u32, Option<Which>),
    /// `_R` then `_S`/`_T` (or the context dict itself).
    Root(Option<Which>),
}

/// A property path like `_S.orders.amount`.
#[derive(Debug)]
pub struct PathExpr {
    pub var: Var,
    pub steps: Vec<String>,
}

/// Wildcard patterns known at compile time, or an expression giving them.
#[derive(Debug)]
pub enum Patterns {
    Const(Vec<Wildcard>),
    Dyn(Expr),
}

/// One compiled transform.
#[derive(Debug)]
pub enum Transform {
    /// `add` (`only_missing` false) and `default` (true).
    Add {
        prop: Expr,
        value: Expr,
        only_missing: bool,
    },
    AddIf {
        prop: Expr,
        cond: Option<Expr>,
        value: Expr,
    },
    Copy {
        include: Patterns,
        exclude: Option<Patterns>,
    },
    Rename {
        from: Expr,
        to: Expr,
    },
    Remove {
        pattern: Patterns,
    },
    Filter(Option<Expr>),
    Discard(Option<Expr>),
    If {
        cond: Expr,
        then: Vec<Transform>,
        els: Vec<Transform>,
    },
    Case {
        branches: Vec<(Expr, Vec<Transform>)>,
        els: Vec<Transform>,
    },
    CaseEq {
        value: Expr,
        branches: Vec<(Expr, Vec<Transform>)>,
        els: Vec<Transform>,
    },
    Merge {
        values: Expr,
        union: bool,
    },
    Create(Expr),
    CreateChild(Expr),
    MakeNi {
        ns: Expr,
        from: Expr,
        to: Option<Expr>,
    },
    Fail(Expr),
    Trip(Expr),
    Sleep(Expr),
    Nop,
}
