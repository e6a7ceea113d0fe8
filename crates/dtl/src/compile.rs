//! The compiler: rules JSON → `Program`. Resolves every function name and checks arity up
//! front, reporting all errors with the JSON path of the offending element.

use pumphouse_value::transit::{decode_string, from_json, Mode};
use pumphouse_value::Value;
use serde_json::Value as J;

use crate::ast::{Call, Expr, HopsCall, IndexDef, PathExpr, Patterns, Transform, Var};
use crate::error::CompileError;
use crate::functions::{self, Spec};
use crate::wildcard::Wildcard;
use crate::{path, Options};

/// Transform names with their arity (min, max).
const TRANSFORMS: &[(&str, usize, usize)] = &[
    ("add", 2, 2),
    ("add-if", 2, 3),
    ("copy", 1, 2),
    ("rename", 2, 2),
    ("remove", 1, 1),
    ("default", 2, 2),
    ("filter", 0, 1),
    ("discard", 0, 1),
    ("if", 2, 3),
    ("case", 2, usize::MAX),
    ("case-eq", 3, usize::MAX),
    ("comment", 0, usize::MAX),
    ("merge", 1, 1),
    ("merge-union", 1, 1),
    ("create", 1, 1),
    ("create-child", 1, 1),
    ("make-ni", 2, 3),
    ("fail!", 1, 1),
    ("trip!", 1, 1),
    ("sleep!", 1, 1),
];

/// Join functions, compiled by `compile_hops`: (name, min arity).
const HOPS: &[(&str, usize)] = &[("hops", 1), ("apply-hops", 2)];

pub struct Compiler<'o> {
    pub opts: &'o Options,
    pub rule_names: Vec<String>,
    pub errors: Vec<CompileError>,
    /// Dataset aliases of the HOPS_SPEC being compiled (its `where` and `return`).
    pub aliases: Vec<String>,
    pub hops: Vec<HopsCall>,
    pub indexes: Vec<IndexDef>,
}

fn err(path: &str, message: impl Into<String>, hint: Option<String>) -> CompileError {
    CompileError {
        path: path.to_owned(),
        message: message.into(),
        hint,
    }
}

fn arity_text(min: usize, max: usize) -> String {
    match (min, max) {
        (a, b) if a == b => format!("exactly {a}"),
        (a, usize::MAX) => format!("at least {a}"),
        (a, b) => format!("{a} to {b}"),
    }
}

impl<'o> Compiler<'o> {
    pub(crate) fn error(&mut self, path: &str, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(err(path, message, hint));
    }

    fn check_arity(&mut self, path: &str, name: &str, n: usize, min: usize, max: usize) -> bool {
        if n < min || n > max {
            self.error(
                path,
                format!(
                    "`{name}` takes {} argument(s), got {n}",
                    arity_text(min, max)
                ),
                None,
            );
            return false;
        }
        true
    }

    /// Compiles one rule: a list of transforms.
    pub fn rule(&mut self, j: &J, path: &str) -> Vec<Transform> {
        match j {
            J::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, t)| self.transform(t, &format!("{path}[{i}]")))
                .collect(),
            _ => {
                self.error(path, "a rule must be a list of transforms", None);
                Vec::new()
            }
        }
    }

    /// A branch of `if`/`case`: one transform or a list of them.
    /// The `(condition, transforms)` pairs of `case`/`case-eq` from argument `start` on, and the
    /// trailing ELSE transforms (empty when there is none). `path` is the call's path.
    #[allow(clippy::type_complexity)]
    fn case_branches(
        &mut self,
        args: &[J],
        start: usize,
        path: &str,
    ) -> (Vec<(Expr, Vec<Transform>)>, Vec<Transform>) {
        let ap = |i: usize| format!("{path}[{}]", i + 1);
        let mut branches = Vec::new();
        let mut i = start;
        while i + 1 < args.len() {
            branches.push((
                self.expr(&args[i], &ap(i)),
                self.branch(&args[i + 1], &ap(i + 1)),
            ));
            i += 2;
        }
        let els = if i < args.len() {
            self.branch(&args[i], &ap(i))
        } else {
            Vec::new()
        };
        (branches, els)
    }

    fn branch(&mut self, j: &J, path: &str) -> Vec<Transform> {
        match j {
            J::Array(items) if items.first().is_some_and(|f| f.is_string()) => {
                vec![self.transform(j, path)]
            }
            J::Array(_) => self.rule(j, path),
            J::Null => Vec::new(),
            _ => {
                self.error(path, "expected a transform or a list of transforms", None);
                Vec::new()
            }
        }
    }

    fn transform(&mut self, j: &J, path: &str) -> Transform {
        let Some((name, args)) = call_parts(j) else {
            self.error(
                path,
                "expected a transform like [\"add\", \"name\", VALUE]",
                None,
            );
            return Transform::Nop;
        };
        let ap = |i: usize| format!("{path}[{}]", i + 1);
        let Some(&(_, min, max)) = TRANSFORMS.iter().find(|t| t.0 == name) else {
            let (msg, hint) = if functions::lookup(name).is_some() || name == "literal" {
                (
                    format!("`{name}` is an expression function, not a transform"),
                    Some(format!(
                        "use it inside a transform, e.g. [\"add\", \"result\", [\"{name}\", …]]"
                    )),
                )
            } else {
                (
                    format!("unknown transform `{name}`"),
                    suggest(name, TRANSFORMS.iter().map(|t| t.0)),
                )
            };
            self.error(&format!("{path}[0]"), msg, hint);
            return Transform::Nop;
        };
        if name == "comment" {
            return Transform::Nop;
        }
        if !self.check_arity(path, name, args.len(), min, max) {
            return Transform::Nop;
        }
        for (i, a) in args.iter().enumerate() {
            let v = match a {
                J::String(s) if path::parse(s).is_none() => decode_string(s, Mode::Transit),
                J::Array(_) | J::String(_) => continue,
                other => from_json(other),
            };
            if let Some((m, h)) = crate::check::argument(name, args.len(), i, &v) {
                self.error(&ap(i), m, h);
            }
        }
        let e = |c: &mut Self, i: usize| c.expr(&args[i], &ap(i));
        match name {
            "add" | "default" => Transform::Add {
                prop: e(self, 0),
                value: e(self, 1),
                only_missing: name == "default",
            },
            "add-if" => {
                if args.len() == 3 {
                    Transform::AddIf {
                        prop: e(self, 0),
                        cond: Some(e(self, 1)),
                        value: e(self, 2),
                    }
                } else {
                    Transform::AddIf {
                        prop: e(self, 0),
                        cond: None,
                        value: e(self, 1),
                    }
                }
            }
            "copy" => Transform::Copy {
                include: self.patterns(&args[0], &ap(0)),
                exclude: args.get(1).map(|x| self.patterns(x, &ap(1))),
            },
            "rename" => Transform::Rename {
                from: e(self, 0),
                to: e(self, 1),
            },
            "remove" => Transform::Remove {
                pattern: self.patterns(&args[0], &ap(0)),
            },
            "filter" => Transform::Filter(args.first().map(|_| e(self, 0))),
            "discard" => Transform::Discard(args.first().map(|_| e(self, 0))),
            "if" => Transform::If {
                cond: e(self, 0),
                then: self.branch(&args[1], &ap(1)),
                els: args
                    .get(2)
                    .map(|x| self.branch(x, &ap(2)))
                    .unwrap_or_default(),
            },
            "case" => {
                let (branches, els) = self.case_branches(args, 0, path);
                Transform::Case { branches, els }
            }
            "case-eq" => {
                let value = e(self, 0);
                let (branches, els) = self.case_branches(args, 1, path);
                Transform::CaseEq {
                    value,
                    branches,
                    els,
                }
            }
            "merge" | "merge-union" => Transform::Merge {
                values: e(self, 0),
                union: name == "merge-union",
            },
            "create" => Transform::Create(e(self, 0)),
            "create-child" => Transform::CreateChild(e(self, 0)),
            "make-ni" => Transform::MakeNi {
                ns: e(self, 0),
                from: e(self, 1),
                to: args.get(2).map(|_| e(self, 2)),
            },
            "fail!" => Transform::Fail(e(self, 0)),
            "trip!" => Transform::Trip(e(self, 0)),
            _ => Transform::Sleep(e(self, 0)),
        }
    }

    fn patterns(&mut self, j: &J, path: &str) -> Patterns {
        match self.expr(j, path) {
            Expr::Const(v) => Patterns::Const(
                v.as_slice()
                    .iter()
                    .filter_map(|x| x.as_str())
                    .map(Wildcard::new)
                    .collect(),
            ),
            other => Patterns::Dyn(other),
        }
    }

    /// Compiles an expression.
    pub fn expr(&mut self, j: &J, path: &str) -> Expr {
        match j {
            J::String(s)
                if !self.aliases.is_empty()
                    && crate::compile_hops::alias_of(s, &self.aliases).is_some() =>
            {
                let (head, rest) = s.split_once('.').unwrap_or((s, ""));
                let i = self.aliases.iter().position(|a| a == head).unwrap_or(0);
                Expr::Path(PathExpr {
                    var: Var::Alias(i),
                    steps: path::split_steps(rest),
                })
            }
            J::String(s) => match path::parse(s) {
                Some(p) => Expr::Path(p),
                None => {
                    if let Some(m) = crate::check::typed_literal(s) {
                        self.error(path, m, Some("typed literals are written like \"~t2020-01-31T12:00:00Z\", \"~u<uuid>\", \"~f1.5\", \"~b<base64>\"".into()));
                    } else if let Some((m, h)) = crate::check::unknown_variable(s) {
                        self.error(path, m, h);
                    }
                    Expr::Const(decode_string(s, Mode::Transit))
                }
            },
            J::Array(_) => self.call(j, path),
            other => Expr::Const(from_json(other)),
        }
    }

    fn call(&mut self, j: &J, path: &str) -> Expr {
        let Some((name, args)) = call_parts(j) else {
            self.error(
                path,
                "a list in an expression must be a function call like [\"concat\", …]",
                Some(
                    "use [\"list\", …] to build a list, or [\"literal\", …] for a constant".into(),
                ),
            );
            return Expr::Const(Value::Null);
        };
        let name_path = format!("{path}[0]");
        if name == "literal" {
            if self.check_arity(path, name, args.len(), 1, 1) {
                return Expr::Const(from_json(&args[0]));
            }
            return Expr::Const(Value::Null);
        }
        if let Some(&(_, min)) = HOPS.iter().find(|h| h.0 == name) {
            if !self.check_arity(path, name, args.len(), min, usize::MAX) {
                return Expr::Const(Value::Null);
            }
            let aux = self.hops_call(name, args, path);
            return Expr::Call(Call {
                name: if name == "hops" { "hops" } else { "apply-hops" },
                f: crate::hops::eval_call,
                args: Vec::new(),
                aux,
            });
        }
        let Some(spec) = functions::lookup(name) else {
            if TRANSFORMS.iter().any(|t| t.0 == name) {
                self.error(
                    &name_path,
                    format!("`{name}` is a transform; it cannot be used where an expression is expected"),
                    Some("transforms go directly in a rule's list".into()),
                );
            } else {
                let hint = suggest(
                    name,
                    functions::names()
                        .chain(TRANSFORMS.iter().map(|t| t.0))
                        .chain(HOPS.iter().map(|h| h.0)),
                );
                self.error(&name_path, format!("unknown function `{name}`"), hint);
            }
            return Expr::Const(Value::Null);
        };
        if !self.check_arity(path, name, args.len(), spec.min, spec.max) {
            return Expr::Const(Value::Null);
        }
        let cargs: Vec<Expr> = args
            .iter()
            .enumerate()
            .map(|(i, a)| self.expr(a, &format!("{path}[{}]", i + 1)))
            .collect();
        for (i, a) in cargs.iter().enumerate() {
            if let Expr::Const(v) = a {
                if let Some((m, h)) = crate::check::argument(name, args.len(), i, v) {
                    self.error(&format!("{path}[{}]", i + 1), m, h);
                }
            }
        }
        let aux = if name == "apply" {
            self.rule_index(&args[0], &format!("{path}[1]"))
        } else {
            0
        };
        fold(spec, cargs, aux)
    }

    pub(crate) fn rule_index(&mut self, j: &J, path: &str) -> usize {
        let Some(n) = j.as_str() else {
            self.error(
                path,
                "`apply` needs the name of a rule as a string constant",
                None,
            );
            return 0;
        };
        match self.rule_names.iter().position(|r| r == n) {
            Some(i) => i,
            None => {
                let hint = suggest(n, self.rule_names.iter().map(|s| s.as_str()));
                self.error(path, format!("`apply` refers to unknown rule `{n}`"), hint);
                0
            }
        }
    }
}

/// Folds `["list", consts…]` into a constant; otherwise builds the call.
fn fold(spec: &'static Spec, args: Vec<Expr>, aux: usize) -> Expr {
    if spec.name == "list" && args.iter().all(|a| matches!(a, Expr::Const(_))) {
        let vals = args
            .into_iter()
            .map(|a| match a {
                Expr::Const(v) => v,
                _ => Value::Null,
            })
            .collect();
        return Expr::Const(Value::List(vals));
    }
    Expr::Call(Call {
        name: spec.name,
        f: spec.f,
        args,
        aux,
    })
}

fn call_parts(j: &J) -> Option<(&str, &[J])> {
    let items = j.as_array()?;
    let name = items.first()?.as_str()?;
    Some((name, &items[1..]))
}

/// The closest known name, as a "did you mean" hint.
pub fn suggest<'a>(name: &str, known: impl Iterator<Item = &'a str>) -> Option<String> {
    let best = known
        .map(|k| (levenshtein(name, k), k))
        .min_by_key(|(d, _)| *d)?;
    let limit = (name.chars().count() / 3).max(2);
    (best.0 <= limit).then(|| format!("did you mean `{}`?", best.1))
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
