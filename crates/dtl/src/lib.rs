//! Sesam's Data Transformation Language (DTL): `compile` a pipe's rules once into a
//! `Program`, then `Program::transform` each source entity into its target entity.
//!
//! Pure computation: no I/O, no tokio. Other datasets are reached only through `Lookup`.

mod ast;
mod check;
mod compile;
mod compile_hops;
mod error;
mod eval;
mod functions;
mod hops;
mod memory;
mod ns;
mod owned;
mod path;
mod reads;
mod transforms;
mod wildcard;

use std::cell::RefCell;

use pumphouse_value::Value;

pub use error::{CompileError, EvalError, EvalErrorKind};

use ast::Transform;
use eval::Env;
use transforms::Flow;

/// Settings of a DTL transform and its pipe.
#[derive(Clone, Debug)]
pub struct Options {
    /// Pipe `namespaced_identifiers`: `add`, `copy`, `rename`, `path` … become namespace-aware.
    pub namespaced_identifiers: bool,
    /// Namespace put in front of `_id` values (`namespaces.identity`).
    pub identity_namespace: String,
    /// Namespace put in front of plain property names (`namespaces.property`).
    pub property_namespace: String,
    /// Fail when the target has no string `_id` (default true); when false such targets are dropped.
    pub id_required: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            namespaced_identifiers: false,
            identity_namespace: String::new(),
            property_namespace: String::new(),
            id_required: true,
        }
    }
}

/// Read access to other datasets, for `lookup-entity`, `hops` and `apply-hops`.
pub trait Lookup: Sync {
    /// The entity with `_id` == `id` in `dataset`, if any.
    fn get(&self, dataset: &str, id: &str) -> Option<Value>;

    /// The entities of `join.dataset()` that are not deleted and whose index `join` holds
    /// any of `keys` (`join.keys_of(entity)`), sorted by `_id`, each once. When
    /// `join.track()` is set, the implementation records that the current source entity
    /// reached these keys (dependency tracking). `Err` is a message (e.g. a store error).
    fn find(&self, join: &Join<'_>, keys: &[Value]) -> Result<Vec<Value>, String>;

    /// The completeness timestamp of `dataset` as seen through `via` (`completeness`), or
    /// `None` when there is no record of it.
    fn completeness(&self, via: &str, dataset: &str) -> Option<Value> {
        let _ = (via, dataset);
        None
    }
}

pub use hops::{join_key, Join};
pub use memory::MemoryDatasets;

/// What a transform can see besides the source entity.
#[derive(Clone, Copy, Default)]
pub struct EvalContext<'a> {
    /// The previous version of the source entity, for `is-changed`.
    pub previous: Option<&'a Value>,
    pub lookup: Option<&'a dyn Lookup>,
    /// `_B`: request parameters (HTTP endpoint sinks).
    pub params: Option<&'a Value>,
}

impl EvalContext<'_> {
    pub fn empty() -> EvalContext<'static> {
        EvalContext::default()
    }
}

/// The result of transforming one entity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// The target entity; `None` when discarded, filtered, or dropped for lack of `_id`.
    pub target: Option<Value>,
    /// `filter` stopped it: a dataset sink should get `{_id, _filtered: true}`.
    pub filtered: bool,
    /// Entities emitted by `create`, in order.
    pub created: Vec<Value>,
}

/// A compiled rule set. Immutable, `Send + Sync`, reusable across entities and threads.
#[derive(Debug)]
pub struct Program {
    rules: Vec<Vec<Transform>>,
    rule_names: Vec<String>,
    default: usize,
    opts: Options,
    hops: Vec<ast::HopsCall>,
    indexes: Vec<ast::IndexDef>,
    /// `transform_owned` can use the source as the target (see `owned`).
    moves_source: bool,
    /// The source properties the rules can read; `None`: any (see `reads`).
    source_properties: Option<Vec<String>>,
}

/// Compiles a rules object (`{"default": [...], "other": [...]}`).
pub fn compile(rules: &serde_json::Value, opts: &Options) -> Result<Program, Vec<CompileError>> {
    let Some(obj) = rules.as_object() else {
        return Err(vec![CompileError {
            path: String::new(),
            message: "rules must be a JSON object mapping rule names to lists of transforms".into(),
            hint: Some("e.g. {\"default\": [[\"copy\", \"*\"]]}".into()),
        }]);
    };
    let mut c = compile::Compiler {
        opts,
        rule_names: obj.keys().cloned().collect(),
        errors: Vec::new(),
        aliases: Vec::new(),
        hops: Vec::new(),
        indexes: Vec::new(),
    };
    let mut compiled = Vec::with_capacity(obj.len());
    for (name, body) in obj {
        compiled.push(c.rule(body, name));
    }
    let default = c.rule_names.iter().position(|n| n == "default");
    if default.is_none() {
        let hint = compile::suggest("default", c.rule_names.iter().map(|s| s.as_str()))
            .and_then(|h| {
                let near = h.split('`').nth(1)?.to_string();
                Some(format!(
                    "rename rule `{near}` to `default`: it is the entry point run on every entity"
                ))
            })
            .or_else(|| {
                Some("add a \"default\" rule: it is the entry point run on every entity".into())
            });
        c.errors.push(CompileError {
            path: String::new(),
            message: "the rules have no `default` rule".into(),
            hint,
        });
    }
    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    let default = default.unwrap_or(0);
    Ok(Program {
        moves_source: owned::moves_source(&compiled[default]),
        source_properties: reads::source_properties(&compiled, opts.namespaced_identifiers),
        rules: compiled,
        rule_names: c.rule_names,
        default,
        opts: opts.clone(),
        hops: c.hops,
        indexes: c.indexes,
    })
}

impl Program {
    /// Runs the `default` rule on one source entity.
    pub fn transform(&self, source: &Value, ctx: &EvalContext) -> Result<Output, EvalError> {
        let env = Env {
            program: self,
            ctx,
            created: RefCell::new(Vec::new()),
        };
        let cap = source.as_dict().map_or(0, |m| m.len());
        let mut target = Value::Dict(pumphouse_value::map_with_capacity(cap));
        let flow =
            transforms::run_rule(&env, &self.rules[self.default], source, &mut target, None)?;
        self.output(flow, target, env.created.into_inner())
    }

    /// As `transform`, taking the source entity. When the default rule starts with
    /// `["copy", "*"]` and nothing after it reads the source, the source becomes the target
    /// without being cloned; otherwise this is `transform`.
    pub fn transform_owned(&self, source: Value, ctx: &EvalContext) -> Result<Output, EvalError> {
        if !self.moves_source || !matches!(source, Value::Dict(_)) {
            return self.transform(&source, ctx);
        }
        let env = Env {
            program: self,
            ctx,
            created: RefCell::new(Vec::new()),
        };
        let unused = Value::Null;
        let mut target = source;
        let rest = &self.rules[self.default][1..];
        let flow = transforms::run_rule(&env, rest, &unused, &mut target, None)?;
        self.output(flow, target, env.created.into_inner())
    }

    fn output(&self, flow: Flow, target: Value, created: Vec<Value>) -> Result<Output, EvalError> {
        match flow {
            Flow::Filtered => {
                return Ok(Output {
                    target: None,
                    filtered: true,
                    created,
                })
            }
            Flow::Discarded => {
                return Ok(Output {
                    target: None,
                    filtered: false,
                    created,
                })
            }
            Flow::Continue => {}
        }
        if !matches!(target.get("_id"), Some(Value::String(_))) {
            if self.opts.id_required {
                let got = target.get("_id").map_or("no `_id`", |v| v.type_name());
                return Err(EvalError::new(
                    EvalErrorKind::IdRequired,
                    format!("the target entity has no string `_id` (found: {got}); add [\"copy\", \"_id\"] or [\"add\", \"_id\", …] to the default rule, or set id_required to false"),
                ));
            }
            return Ok(Output {
                target: None,
                filtered: false,
                created,
            });
        }
        Ok(Output {
            target: Some(target),
            filtered: false,
            created,
        })
    }

    /// The user properties of a source entity (names not starting with `_`) that the
    /// program can read; `None` when it may read any. A source may leave the others out of
    /// the entities it hands this program: the output is the same.
    pub fn source_properties(&self) -> Option<&[String]> {
        self.source_properties.as_deref()
    }

    /// The names of the rules, in the order written.
    pub fn rule_names(&self) -> &[String] {
        &self.rule_names
    }

    pub(crate) fn rule(&self, i: usize) -> &[Transform] {
        &self.rules[i]
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// The secondary indexes this program's joins read: (dataset, index name), by index
    /// number. `Join::index()` is a position in this list.
    pub fn indexes(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.indexes
            .iter()
            .map(|d| (d.dataset.as_str(), d.name.as_str()))
    }

    /// The values index `index` holds for `entity` (none for a deleted entity or nulls).
    pub fn index_keys(&self, index: usize, entity: &Value) -> Vec<Value> {
        hops::index_keys(self, index, entity)
    }
}
