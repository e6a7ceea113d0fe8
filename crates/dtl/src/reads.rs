//! Which properties of the source entity a program can read (`Program::source_properties`),
//! decided once at compile time, so a dataset source can leave the others undecoded.
//!
//! Conservative: every rule counts (a named rule's `_S` is whatever `apply` passed it, so its
//! paths only add names), and anything that may read the source as a whole, or by a name
//! known only at run time, answers "all": the whole `_S.` (or `_P._S`, `_R._S`, `_P.`, `_R.`),
//! `copy` with a wildcard or computed patterns, `rename`/`make-ni` of a computed name,
//! `hops`/`apply-hops` (the source is the start of the walk) and `is-changed` (it evaluates
//! its argument on the whole source). With namespaced identifiers an unqualified name
//! matches in every namespace, so the answer is always "all" then. Properties starting with
//! `_` are not listed: readers always provide them.

use pumphouse_value::Value;

use crate::ast::{Expr, Patterns, Transform, Var, Which};

/// Names read so far; `None` once something may read any property.
struct Reads(Option<Vec<String>>);

impl Reads {
    fn all(&mut self) {
        self.0 = None;
    }

    fn name(&mut self, n: &str) {
        if let Some(v) = &mut self.0 {
            if !n.starts_with('_') && !v.iter().any(|x| x == n) {
                v.push(n.to_owned());
            }
        }
    }

    fn rule(&mut self, rule: &[Transform]) {
        for t in rule {
            self.transform(t);
        }
    }

    fn transform(&mut self, t: &Transform) {
        match t {
            Transform::Add { prop, value, .. } => {
                self.expr(prop);
                self.expr(value);
            }
            Transform::AddIf { prop, cond, value } => {
                self.expr(prop);
                self.expr(value);
                if let Some(c) = cond {
                    self.expr(c);
                }
            }
            Transform::Copy { include, exclude } => {
                match include {
                    Patterns::Const(ws) => {
                        for w in ws {
                            match w.exact() {
                                Some(n) => self.name(n),
                                None => self.all(),
                            }
                        }
                    }
                    Patterns::Dyn(_) => self.all(),
                }
                if let Some(Patterns::Dyn(e)) = exclude {
                    self.expr(e);
                }
            }
            Transform::Rename { from, to } => {
                self.source_name(from);
                self.expr(to);
            }
            Transform::MakeNi { ns, from, to } => {
                self.expr(ns);
                self.source_name(from);
                if let Some(t) = to {
                    self.expr(t);
                }
            }
            Transform::Remove { pattern } => {
                if let Patterns::Dyn(e) = pattern {
                    self.expr(e);
                }
            }
            Transform::Filter(c) | Transform::Discard(c) => {
                if let Some(c) = c {
                    self.expr(c);
                }
            }
            Transform::If { cond, then, els } => {
                self.expr(cond);
                self.rule(then);
                self.rule(els);
            }
            Transform::Case { branches, els } => {
                for (c, body) in branches {
                    self.expr(c);
                    self.rule(body);
                }
                self.rule(els);
            }
            Transform::CaseEq {
                value,
                branches,
                els,
            } => {
                self.expr(value);
                for (c, body) in branches {
                    self.expr(c);
                    self.rule(body);
                }
                self.rule(els);
            }
            Transform::Merge { values, .. } => self.expr(values),
            Transform::Create(e)
            | Transform::CreateChild(e)
            | Transform::Fail(e)
            | Transform::Trip(e)
            | Transform::Sleep(e) => self.expr(e),
            Transform::Nop => {}
        }
    }

    /// A property name that `rename` / `make-ni` look up in the source.
    fn source_name(&mut self, e: &Expr) {
        match e {
            Expr::Const(Value::String(s)) => self.name(s),
            Expr::Const(Value::List(l)) if l.iter().all(|x| matches!(x, Value::String(_))) => {
                for x in l {
                    if let Value::String(s) = x {
                        self.name(s);
                    }
                }
            }
            other => {
                self.expr(other);
                self.all();
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Const(_) => {}
            Expr::Path(p) => match p.var {
                Var::S | Var::Root(Some(Which::S)) | Var::Parent(_, Some(Which::S)) => {
                    match p.steps.first() {
                        Some(n) => self.name(n),
                        None => self.all(),
                    }
                }
                Var::Root(None) | Var::Parent(_, None) => self.all(),
                Var::T
                | Var::Root(Some(Which::T))
                | Var::Parent(_, Some(Which::T))
                | Var::Elem
                | Var::B
                | Var::Alias(_) => {}
            },
            Expr::Call(c) => {
                if matches!(c.name, "hops" | "apply-hops" | "is-changed") {
                    self.all();
                }
                for a in &c.args {
                    self.expr(a);
                }
            }
        }
    }
}

/// The user properties of the source that `rules` can read, or `None` for "any".
pub(crate) fn source_properties(
    rules: &[Vec<Transform>],
    namespaced_identifiers: bool,
) -> Option<Vec<String>> {
    if namespaced_identifiers {
        return None;
    }
    let mut r = Reads(Some(Vec::new()));
    for rule in rules {
        r.rule(rule);
    }
    r.0
}

#[cfg(test)]
mod tests {
    use crate::{compile, Options};

    fn reads(rules: &str) -> Option<Vec<String>> {
        let rules: serde_json::Value = serde_json::from_str(rules).unwrap();
        compile(&rules, &Options::default())
            .unwrap()
            .source_properties()
            .map(|v| v.to_vec())
    }

    #[test]
    fn lists_the_names_paths_and_exact_copies_read() {
        assert_eq!(
            reads(
                r#"{"default": [["copy", "_id"], ["copy", "a"],
                    ["add", "n", ["concat", "_S.first", " ", "_S.last.x"]],
                    ["if", ["eq", "_S.kind", 1], [["rename", "old", "new"]], []],
                    ["add", "t", "_T.a"], ["add", "c", ["apply", "sub", "_S.child"]]],
                  "sub": [["add", "z", "_S.inner"]]}"#
            ),
            Some(
                ["a", "first", "last", "kind", "old", "child", "inner"]
                    .map(String::from)
                    .to_vec()
            )
        );
    }

    #[test]
    fn anything_that_may_read_the_whole_source_reads_all() {
        for rules in [
            r#"{"default": [["copy", "*"]]}"#,
            r#"{"default": [["copy", "a*"]]}"#,
            r#"{"default": [["copy", ["list", "_S.which"]]]}"#,
            r#"{"default": [["add", "all", "_S."]]}"#,
            r#"{"default": [["add", "c", ["apply", "sub", "_S."]]], "sub": [["add", "x", "_S.x"]]}"#,
            r#"{"default": [["add", "c", ["apply", "sub", "_S.c"]]], "sub": [["add", "x", "_R._S"]]}"#,
            r#"{"default": [["add", "c", ["apply", "sub", "_S.c"]]], "sub": [["add", "x", "_P."]]}"#,
            r#"{"default": [["rename", "_S.name_of_it", "b"]]}"#,
            r#"{"default": [["add", "c", ["is-changed", "_S.x"]]]}"#,
        ] {
            assert_eq!(reads(rules), None, "{rules}");
        }
    }

    #[test]
    fn namespaced_identifiers_read_all() {
        let rules: serde_json::Value =
            serde_json::from_str(r#"{"default": [["add", "a", "_S.a"]]}"#).unwrap();
        let opts = Options {
            namespaced_identifiers: true,
            ..Options::default()
        };
        assert_eq!(compile(&rules, &opts).unwrap().source_properties(), None);
    }
}
