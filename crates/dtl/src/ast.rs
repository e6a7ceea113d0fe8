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
    /// Compile-time extra: the rule index for `apply`, the hops table index for `hops` and
    /// `apply-hops`.
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
    /// A dataset alias of a `hops` spec (`o.cust_id`): the entity bound in the current row.
    Alias(usize),
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

/// A compiled `hops` / `apply-hops` call.
#[derive(Debug)]
pub struct HopsCall {
    /// The rule `apply-hops` runs on each result.
    pub rule: Option<usize>,
    pub specs: Vec<HopSpec>,
}

/// One HOPS_SPEC: the join plan (which alias each step binds, through which index) and
/// the filters, each checked as soon as the aliases it reads are bound.
#[derive(Debug)]
pub struct HopSpec {
    /// Dataset id of each alias, in the order written.
    pub datasets: Vec<String>,
    /// Filters that read no alias (only `_S`, `_T`, constants).
    pub pre_filters: Vec<Expr>,
    pub steps: Vec<JoinStep>,
    pub ret: HopReturn,
    pub recurse: bool,
    pub exclude_root: bool,
    /// `None`: no limit.
    pub max_depth: Option<u64>,
    pub track: bool,
}

/// Binds `alias` to the entities of its dataset whose index `index` holds any value of
/// `probe` (evaluated on the row so far); then `filters` run on each new row.
#[derive(Debug)]
pub struct JoinStep {
    pub alias: usize,
    pub probe: Expr,
    pub index: usize,
    pub filters: Vec<Expr>,
}

#[derive(Debug)]
pub enum HopReturn {
    /// The entities bound to these aliases (the default is the last alias).
    Aliases(Vec<usize>),
    /// A template evaluated on every row.
    Template(Expr),
}

/// A secondary index a join needs: the values of `expr` (a path or expression over alias
/// `alias`) for each entity of `dataset`. `name` identifies it across pipes.
#[derive(Debug)]
pub struct IndexDef {
    pub dataset: String,
    pub alias: usize,
    pub expr: Expr,
    pub name: String,
}
