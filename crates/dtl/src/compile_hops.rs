//! Compiling `hops` and `apply-hops`: each HOPS_SPEC dict becomes a join plan. Every `eq`
//! whose two sides each read exactly one, different alias (`_S` counts as the root) is a
//! join; the aliases are bound in the order the joins reach them from `_S`, each through a
//! secondary index of its dataset (`IndexDef`). Everything else in `where` is a filter, run
//! as soon as the aliases it reads are bound. Errors name the key and JSON path.

use std::collections::BTreeSet;

use serde_json::Value as J;

use crate::ast::{Expr, HopReturn, HopSpec, HopsCall, IndexDef, JoinStep};
use crate::compile::{suggest, Compiler};

const SPEC_KEYS: &[&str] = &[
    "datasets",
    "where",
    "return",
    "recurse",
    "exclude_root",
    "max_depth",
    "track-dependencies",
    "trace",
    "subsets",
    "prefilters",
];

/// Marker for `_S` in alias sets.
const ROOT: usize = usize::MAX;

/// The aliases (and `_S`, as `ROOT`) an expression reads.
fn refs(j: &J, aliases: &[String], out: &mut BTreeSet<usize>) {
    match j {
        J::String(s) => {
            if s.starts_with("_S.") {
                out.insert(ROOT);
            } else if let Some(i) = alias_of(s, aliases) {
                out.insert(i);
            }
        }
        J::Array(items) => {
            // `literal` and `comment` arguments are never evaluated.
            if matches!(
                items.first().and_then(J::as_str),
                Some("literal" | "comment")
            ) {
                return;
            }
            for x in items {
                refs(x, aliases, out);
            }
        }
        J::Object(m) => m.values().for_each(|x| refs(x, aliases, out)),
        _ => {}
    }
}

/// The alias a path string starts with (`"o.cust_id"` → the index of `o`).
pub fn alias_of(s: &str, aliases: &[String]) -> Option<usize> {
    let (head, _) = s.split_once('.')?;
    aliases.iter().position(|a| a == head)
}

/// Rewrites alias paths to `$.`, so one index serves every pipe that joins on it.
fn canonical(j: &J, aliases: &[String]) -> J {
    match j {
        J::String(s) => match alias_of(s, aliases) {
            Some(_) => J::String(format!("$.{}", s.split_once('.').map_or("", |x| x.1))),
            None => j.clone(),
        },
        J::Array(items) => J::Array(items.iter().map(|x| canonical(x, aliases)).collect()),
        other => other.clone(),
    }
}

/// Rewrites `_S.` paths of a subset expression to paths over `alias`.
fn subset_lhs(j: &J, alias: &str) -> J {
    match j {
        J::String(s) => match s.strip_prefix("_S.") {
            Some(rest) => J::String(format!("{alias}.{rest}")),
            None => j.clone(),
        },
        J::Array(items) => J::Array(items.iter().map(|x| subset_lhs(x, alias)).collect()),
        other => other.clone(),
    }
}

impl Compiler<'_> {
    /// `["hops", SPEC…]` or `["apply-hops", RULE, SPEC…]`; returns the hops table index.
    pub fn hops_call(&mut self, name: &str, args: &[J], path: &str) -> usize {
        let (rule, first) = if name == "apply-hops" {
            (Some(self.rule_index(&args[0], &format!("{path}[1]"))), 1)
        } else {
            (None, 0)
        };
        let mut specs = Vec::new();
        let n = args.len() - first;
        for (i, a) in args.iter().enumerate().skip(first) {
            let p = format!("{path}[{}]", i + 1);
            if let Some(s) = self.hop_spec(a, &p, i - first + 1 == n) {
                specs.push(s);
            }
        }
        self.hops.push(HopsCall { rule, specs });
        self.hops.len() - 1
    }

    fn hop_spec(&mut self, j: &J, path: &str, last: bool) -> Option<HopSpec> {
        let Some(m) = j.as_object() else {
            self.error(
                path,
                "a HOPS_SPEC must be a dict like {\"datasets\": [\"orders o\"], \"where\": [\"eq\", \"_S._id\", \"o.cust_id\"]}",
                None,
            );
            return None;
        };
        for k in m.keys() {
            if !SPEC_KEYS.contains(&k.as_str()) {
                let hint = suggest(k, SPEC_KEYS.iter().copied());
                self.error(
                    &format!("{path}.{k}"),
                    format!("unknown HOPS_SPEC key `{k}`"),
                    hint,
                );
            }
        }
        let (datasets, aliases) =
            self.spec_datasets(m.get("datasets"), &format!("{path}.datasets"))?;
        let flag = |c: &mut Self, key: &str, default: bool| match m.get(key) {
            None => default,
            Some(J::Bool(b)) => *b,
            Some(_) => {
                c.error(
                    &format!("{path}.{key}"),
                    format!("`{key}` must be true or false"),
                    None,
                );
                default
            }
        };
        let recurse = flag(self, "recurse", false);
        let exclude_root = flag(self, "exclude_root", false);
        let track = flag(self, "track-dependencies", true);
        let max_depth = match m.get("max_depth") {
            None => Some(10),
            Some(J::Null) => None,
            Some(v) => match v.as_u64() {
                Some(d) => Some(d),
                None => {
                    self.error(
                        &format!("{path}.max_depth"),
                        "`max_depth` must be a non-negative integer or null (no limit)",
                        None,
                    );
                    Some(10)
                }
            },
        };
        if let Some(t) = m.get("trace") {
            if !t.is_string() {
                self.error(&format!("{path}.trace"), "`trace` must be a string", None);
            }
        }
        let saved = std::mem::replace(&mut self.aliases, aliases.clone());
        let ret = self.spec_return(
            m.get("return"),
            &format!("{path}.return"),
            &aliases,
            recurse,
            last,
        );
        // where: one expression, or a list of expressions AND-ed together.
        let wpath = format!("{path}.where");
        let wheres: Vec<(J, String)> = match m.get("where") {
            None => {
                self.error(&wpath, "a HOPS_SPEC needs `where` with the join, e.g. [\"eq\", \"_S._id\", \"o.cust_id\"]", None);
                Vec::new()
            }
            Some(J::Array(items)) if items.first().is_some_and(J::is_string) => {
                vec![(J::Array(items.clone()), wpath.clone())]
            }
            Some(J::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, x)| (x.clone(), format!("{wpath}[{i}]")))
                .collect(),
            Some(other) => vec![(other.clone(), wpath.clone())],
        };
        let mut subsets: Vec<(J, String)> = Vec::new();
        for key in ["subsets", "prefilters"] {
            let Some(sj) = m.get(key) else { continue };
            let Some(sm) = sj.as_object() else {
                self.error(&format!("{path}.{key}"), format!("`{key}` must be a dict from dataset alias to an [\"eq\", INDEX_EXPRESSION, VALUE] expression"), None);
                continue;
            };
            for (alias, e) in sm {
                let ep = format!("{path}.{key}.{alias}");
                if !aliases.contains(alias) {
                    let hint = suggest(alias, aliases.iter().map(|s| s.as_str()));
                    self.error(
                        &ep,
                        format!("`{alias}` is not a dataset alias of this HOPS_SPEC"),
                        hint,
                    );
                    continue;
                }
                match e.as_array().map(|a| a.as_slice()) {
                    Some([J::String(f), lhs, rhs]) if f == "eq" => subsets.push((
                        J::Array(vec!["intersects".into(), subset_lhs(lhs, alias), rhs.clone()]),
                        ep,
                    )),
                    _ => self.error(&ep, "a subset must be [\"eq\", INDEX_EXPRESSION, VALUE], e.g. [\"eq\", \"_S.category\", 72]", None),
                }
            }
        }
        let plan = self.plan(&datasets, &aliases, wheres, subsets, path);
        self.aliases = saved;
        let (pre_filters, steps) = plan?;
        Some(HopSpec {
            datasets,
            pre_filters,
            steps,
            ret,
            recurse,
            exclude_root,
            max_depth,
            track,
        })
    }

    fn spec_datasets(&mut self, j: Option<&J>, path: &str) -> Option<(Vec<String>, Vec<String>)> {
        let usage = "`datasets` must be a non-empty list of \"DATASET_ID ALIAS\" strings, e.g. [\"orders o\"]";
        let Some(items) = j.and_then(J::as_array).filter(|a| !a.is_empty()) else {
            self.error(path, usage, None);
            return None;
        };
        let (mut ds, mut al) = (Vec::new(), Vec::new());
        for (i, x) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            let Some(s) = x.as_str() else {
                self.error(&p, usage, None);
                return None;
            };
            let parts: Vec<&str> = s.split_whitespace().collect();
            let (d, a) = match parts.as_slice() {
                [d] => (*d, *d),
                [d, a] => (*d, *a),
                _ => {
                    self.error(&p, format!("{s:?}: {usage}"), None);
                    return None;
                }
            };
            if a.starts_with('_') || a.contains('.') {
                self.error(
                    &p,
                    format!("alias `{a}` cannot start with `_` or contain `.`"),
                    None,
                );
                return None;
            }
            if al.iter().any(|x: &String| x == a) {
                self.error(&p, format!("alias `{a}` is used twice"), None);
                return None;
            }
            ds.push(d.to_string());
            al.push(a.to_string());
        }
        Some((ds, al))
    }

    fn spec_return(
        &mut self,
        j: Option<&J>,
        path: &str,
        aliases: &[String],
        recurse: bool,
        last: bool,
    ) -> HopReturn {
        let default = HopReturn::Aliases(vec![aliases.len() - 1]);
        let Some(j) = j else { return default };
        if recurse {
            self.error(path, "`return` cannot be combined with `recurse`", None);
            return default;
        }
        if !last {
            self.error(
                path,
                "`return` can only be given on the last HOPS_SPEC",
                None,
            );
            return default;
        }
        if let Some(s) = j.as_str() {
            let names: Vec<&str> = s.split(',').map(str::trim).collect();
            if names.iter().all(|n| aliases.iter().any(|a| a == n)) {
                return HopReturn::Aliases(
                    names
                        .iter()
                        .filter_map(|n| aliases.iter().position(|a| a == n))
                        .collect(),
                );
            }
            if alias_of(s, aliases).is_none() {
                let bad = names
                    .iter()
                    .find(|n| !aliases.iter().any(|a| a == *n))
                    .unwrap_or(&"");
                let hint = suggest(bad, aliases.iter().map(|s| s.as_str()));
                self.error(
                    path,
                    format!(
                        "`return` names `{bad}`, which is not a dataset alias of this HOPS_SPEC"
                    ),
                    hint,
                );
                return default;
            }
        }
        HopReturn::Template(self.expr(j, path))
    }

    #[allow(clippy::type_complexity)]
    fn plan(
        &mut self,
        datasets: &[String],
        aliases: &[String],
        wheres: Vec<(J, String)>,
        subsets: Vec<(J, String)>,
        path: &str,
    ) -> Option<(Vec<Expr>, Vec<JoinStep>)> {
        // Join candidates: (side reading x, x, side reading y, y, path).
        struct Cand {
            a: (J, usize),
            b: (J, usize),
            path: String,
            used: bool,
        }
        let mut cands = Vec::new();
        let mut filters: Vec<(J, String)> = Vec::new();
        for (w, p) in wheres {
            if let Some([J::String(f), l, r]) = w.as_array().map(|a| a.as_slice()) {
                if f == "eq" {
                    let (mut rl, mut rr) = (BTreeSet::new(), BTreeSet::new());
                    refs(l, aliases, &mut rl);
                    refs(r, aliases, &mut rr);
                    if rl.len() == 1 && rr.len() == 1 && rl != rr {
                        let x = *rl.iter().next().unwrap_or(&ROOT);
                        let y = *rr.iter().next().unwrap_or(&ROOT);
                        cands.push(Cand {
                            a: (l.clone(), x),
                            b: (r.clone(), y),
                            path: p,
                            used: false,
                        });
                        continue;
                    }
                }
            }
            filters.push((w, p));
        }
        filters.extend(subsets);
        let mut bound: BTreeSet<usize> = [ROOT].into();
        let mut steps: Vec<(JoinStep, BTreeSet<usize>)> = Vec::new();
        loop {
            let next = cands
                .iter_mut()
                .find(|c| !c.used && (bound.contains(&c.a.1) != bound.contains(&c.b.1)));
            let Some(c) = next else { break };
            c.used = true;
            let ((probe, _), (side, alias)) = if bound.contains(&c.a.1) {
                (c.a.clone(), c.b.clone())
            } else {
                (c.b.clone(), c.a.clone())
            };
            let cpath = c.path.clone();
            let probe = self.expr(&probe, &cpath);
            let index = self.index_for(&datasets[alias], alias, &side, aliases, &cpath);
            bound.insert(alias);
            steps.push((
                JoinStep {
                    alias,
                    probe,
                    index,
                    filters: Vec::new(),
                },
                bound.clone(),
            ));
        }
        let unreached: Vec<&str> = (0..aliases.len())
            .filter(|i| !bound.contains(i))
            .map(|i| aliases[i].as_str())
            .collect();
        if !unreached.is_empty() {
            self.error(
                &format!("{path}.where"),
                format!(
                    "dataset alias(es) {} cannot be reached from _S: every alias needs an [\"eq\", …] join to _S or to an alias joined to it",
                    unreached.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                ),
                Some(format!("e.g. [\"eq\", \"_S._id\", \"{}.some_property\"]", unreached[0])),
            );
            return None;
        }
        // Joins left over (both sides already bound) are plain `eq` filters.
        for c in cands.into_iter().filter(|c| !c.used) {
            filters.push((J::Array(vec!["eq".into(), c.a.0, c.b.0]), c.path));
        }
        let mut pre = Vec::new();
        for (f, p) in filters {
            let mut r = BTreeSet::new();
            refs(&f, aliases, &mut r);
            r.remove(&ROOT);
            let e = self.expr(&f, &p);
            match steps.iter_mut().find(|(_, b)| r.is_subset(b)) {
                Some((s, _)) if !r.is_empty() => s.filters.push(e),
                _ => pre.push(e),
            }
        }
        Some((pre, steps.into_iter().map(|(s, _)| s).collect()))
    }

    fn index_for(
        &mut self,
        dataset: &str,
        alias: usize,
        side: &J,
        aliases: &[String],
        path: &str,
    ) -> usize {
        let mut name = format!(
            "{dataset}\n{}",
            serde_json::to_string(&canonical(side, aliases)).unwrap_or_default()
        );
        if self.opts.namespaced_identifiers {
            name.push_str(&format!("\nns={}", self.opts.property_namespace));
        }
        if let Some(i) = self.indexes.iter().position(|d| d.name == name) {
            return i;
        }
        let expr = self.expr(side, path);
        self.indexes.push(IndexDef {
            dataset: dataset.to_string(),
            alias,
            expr,
            name,
        });
        self.indexes.len() - 1
    }
}
