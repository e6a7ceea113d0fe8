//! Validation of one pipe config into the `Pipe` model: known component types, required and
//! unknown properties, conditional components, DTL compilation, dataset references and
//! namespace settings. Errors and warnings carry JSON paths relative to the pipe.

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::{Map, Value as Json};

use crate::diag::{closest, Diagnostic};
use crate::model::*;

/// What validation of one pipe may consult about the rest of the config.
#[derive(Default)]
pub struct Ctx {
    pub known_datasets: HashSet<String>,
    pub systems: HashSet<String>,
    /// The `system:url` and `system:microservice` systems, by id.
    pub http_systems: std::collections::HashMap<String, Arc<crate::systems::HttpSystem>>,
    /// Some config file could not be parsed: a system may be missing because of it, so
    /// unknown-system errors would only repeat that error.
    pub incomplete: bool,
    /// `namespaced_identifiers` from the node metadata (the pipes' default).
    pub default_nsi: bool,
    /// The node metadata's `global_defaults.require_populated_input` and
    /// `global_defaults.if_source_empty == "fail"` (the sources' defaults).
    pub default_require_populated_input: bool,
    pub default_fail_if_source_empty: bool,
    pub(crate) pending: Vec<(String, Vec<Diagnostic>)>,
    /// Large embedded arrays left in their files: (pipe id, JSON path) → (file, byte range).
    pub raw:
        std::collections::HashMap<(String, String), (std::path::PathBuf, crate::jsonpos::RawRange)>,
}

const PIPE_PROPS: &[&str] = &[
    "_id",
    "type",
    "name",
    "description",
    "comment",
    "source",
    "transform",
    "sink",
    "pump",
    "metadata",
    "batch_size",
    "checkpoint_interval",
    "namespaced_identifiers",
    "namespaces",
    "add_namespaces",
    "remove_namespaces",
    "permissions",
    "disable_set_last_seen",
    "enable_background_rescan",
    "rescan_when_config_changes",
    "reprocessing_policy",
    "exclude_completeness",
    "include_completeness",
    "compaction",
    "infer_pipe_entity_types",
    "dependency_tracking",
    "short_config",
    "global_defaults",
    "schedule_interval",
];
const RUNNABLE_SOURCES: &[&str] = &["embedded", "dataset", "empty", "conditional", "json"];
const KNOWN_SOURCES: &[&str] = &[
    "http_endpoint",
    "merge",
    "merge_datasets",
    "union_datasets",
    "diff_datasets",
    "csv",
    "sql",
    "rest",
    "binary",
    "kafka",
    "ldap",
    "rdf",
    "sdshare",
    "sparql",
    "xml",
    "excel",
    "servicebus",
    "eventhubs",
    "hubspot",
    "cumulocity",
];
const RUNNABLE_SINKS: &[&str] = &["dataset", "null", "conditional", "json"];
const KNOWN_SINKS: &[&str] = &[
    "http_endpoint",
    "csv_endpoint",
    "xml_endpoint",
    "excel_endpoint",
    "sql",
    "rest",
    "elasticsearch",
    "solr",
    "mail",
    "sms",
    "kafka",
    "sdshare_push_receiver",
    "databrowser",
    "neo4j",
    "influxdb",
    "splunk",
    "binary",
    "servicebus",
    "eventhubs",
    "hubspot",
    "cumulocity",
];
const KNOWN_TRANSFORMS: &[&str] = &[
    "dtl",
    "emit_children",
    "conditional",
    "rest",
    "properties_to_schema",
];

const EMBEDDED_PROPS: &[&str] = &[
    "type",
    "comment",
    "entities",
    "system",
    "supports_since",
    "is_since_comparable",
    "is_chronological",
    "if_source_empty",
    "completeness",
    "name",
];
const DATASET_SRC_PROPS: &[&str] = &[
    "type",
    "comment",
    "dataset",
    "include_previous_versions",
    "include_replaced",
    "supports_signalling",
    "subset",
    "completeness",
    "initial_completeness",
    "require_populated_input",
    "if_source_empty",
    "name",
    "system",
];
const DATASET_SINK_PROPS: &[&str] = &[
    "type",
    "comment",
    "dataset",
    "set_initial_offset",
    "indexes",
    "deletion_tracking",
    "mark_deletion_tracked",
    "track_children",
    "enable_optimistic_locking",
    "circuit_breaker_threshold_factor",
    "circuit_breaker_threshold_count",
    "prevent_multiple_versions",
    "suppress_filtered",
    "bitset_commit_interval",
    "max_entity_bytes_size",
    "name",
    "system",
    "batch_size",
];
const DTL_PROPS: &[&str] = &[
    "type",
    "comment",
    "rules",
    "id_required",
    "trigger_on",
    "name",
];

/// The dataset a pipe's sink writes, for cross-pipe checks (the pipe id by default).
/// The dataset sink's `circuit_breaker_threshold_factor` (a number ≥ 0) and
/// `circuit_breaker_threshold_count` (an integer ≥ 0); `None` when neither is set (or null).
fn circuit_breaker(
    s: &Map<String, Json>,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<CircuitBreaker> {
    let mut cb = CircuitBreaker::default();
    if let Some(v) = s
        .get("circuit_breaker_threshold_factor")
        .filter(|v| !v.is_null())
    {
        match v.as_f64().filter(|f| f.is_finite() && *f >= 0.0) {
            Some(f) => cb.factor = Some(f),
            None => d.push(
                Diagnostic::error(
                    format!("{path}.circuit_breaker_threshold_factor"),
                    format!(
                        "circuit_breaker_threshold_factor must be a number of 0 or more, not {v}"
                    ),
                )
                .hint(
                    "it is a factor of the dataset's entity count: 0.1 lets a run write 10% of it",
                ),
            ),
        }
    }
    if let Some(v) = s
        .get("circuit_breaker_threshold_count")
        .filter(|v| !v.is_null())
    {
        match v.as_u64() {
            Some(n) => cb.count = Some(n),
            None => d.push(
                Diagnostic::error(
                    format!("{path}.circuit_breaker_threshold_count"),
                    format!("circuit_breaker_threshold_count must be a whole number of 0 or more, not {v}"),
                )
                .hint("it is how many new versions one run may write before the breaker trips"),
            ),
        }
    }
    (cb.factor.is_some() || cb.count.is_some()).then_some(cb)
}

pub fn sink_dataset_id(pipe_id: &str, pipe: &Json) -> String {
    match pipe.get("sink") {
        None => pipe_id.to_string(),
        Some(s) if s.get("type").and_then(Json::as_str) == Some("dataset") => s
            .get("dataset")
            .and_then(Json::as_str)
            .unwrap_or(pipe_id)
            .to_string(),
        _ => String::new(),
    }
}

pub(crate) fn unknown_props(
    obj: &Map<String, Json>,
    known: &[&str],
    path: &str,
    what: &str,
    d: &mut Vec<Diagnostic>,
) {
    for k in obj.keys() {
        if !known.contains(&k.as_str()) {
            let mut w = Diagnostic::warning(
                crate::jsonpos::child(path, k),
                format!("unknown property {k:?} of {what}; it is ignored"),
            );
            if let Some(c) = closest(k, known.iter().copied()) {
                w = w.hint(format!("did you mean {c:?}?"));
            }
            d.push(w);
        }
    }
}

pub(crate) fn bool_prop(
    obj: &Map<String, Json>,
    key: &str,
    default: bool,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> bool {
    match obj.get(key) {
        None | Some(Json::Null) => default,
        Some(Json::Bool(b)) => *b,
        Some(other) => {
            d.push(Diagnostic::error(
                crate::jsonpos::child(path, key),
                format!("{key} must be true or false, not {other}"),
            ));
            default
        }
    }
}

/// `if_source_empty` of the source (through `conditional`): whether it is `"fail"`; `None`
/// when it is not set.
fn if_source_empty(source: Option<&Json>, d: &mut Vec<Diagnostic>) -> Option<bool> {
    let (c, path) = chosen(source?, "$.source".to_string())?;
    match c.get("if_source_empty") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) if s == "accept" => Some(false),
        Some(Json::String(s)) if s == "fail" => Some(true),
        // The json source reports its own (`http_specs`).
        Some(_) if c.get("type").and_then(Json::as_str) == Some("json") => None,
        Some(other) => {
            d.push(
                Diagnostic::error(
                    format!("{path}.if_source_empty"),
                    format!("if_source_empty must be \"accept\" or \"fail\", not {other}"),
                )
                .hint("\"fail\" makes a full run that reads nothing fail instead of deleting everything in the sink"),
            );
            None
        }
    }
}

/// The type of a component, through `conditional` to the alternative its condition picks
/// (the namespace defaults depend on what runs, not on the wrapper).
fn effective_kind(component: Option<&Json>) -> Option<&str> {
    chosen(component?, String::new())?
        .0
        .get("type")
        .and_then(Json::as_str)
}

/// The component that runs: `c` itself, or through `conditional`s the alternative their
/// condition picks, with its JSON path. `None` when a condition picks nothing (reported by
/// `resolve_conditional`).
fn chosen(mut c: &Json, mut path: String) -> Option<(&Json, String)> {
    while c.get("type").and_then(Json::as_str) == Some("conditional") {
        let cond = match c.get("condition")? {
            Json::String(s) => s.clone(),
            v => v.to_string(),
        };
        path = format!("{path}.alternatives.{cond}");
        c = c.get("alternatives")?.get(&cond)?;
    }
    Some((c, path))
}

/// Picks the alternative of a `conditional` component.
fn resolve_conditional(
    obj: &Map<String, Json>,
    path: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<(Map<String, Json>, String)> {
    let cond = match obj.get("condition") {
        Some(Json::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => {
            d.push(
                Diagnostic::error(
                    path.to_string(),
                    "conditional component has no \"condition\"",
                )
                .hint("add \"condition\": \"$ENV(my-env)\""),
            );
            return None;
        }
    };
    let alts = obj.get("alternatives").and_then(Json::as_object);
    match alts.and_then(|a| a.get(&cond)) {
        Some(Json::Object(m)) => Some((m.clone(), format!("{path}.alternatives.{cond}"))),
        _ => {
            let names: Vec<String> = alts
                .map(|a| a.keys().cloned().collect())
                .unwrap_or_default();
            d.push(
                Diagnostic::error(
                    format!("{path}.alternatives"),
                    format!("no alternative for condition value {cond:?}"),
                )
                .hint(format!(
                    "add an alternative named {cond:?} (defined: {names:?})"
                )),
            );
            None
        }
    }
}

fn type_of<'a>(
    obj: &'a Map<String, Json>,
    path: &str,
    what: &str,
    d: &mut Vec<Diagnostic>,
) -> Option<&'a str> {
    match obj.get("type") {
        Some(Json::String(s)) => Some(s),
        _ => {
            d.push(
                Diagnostic::error(format!("{path}.type"), format!("{what} has no \"type\""))
                    .hint(format!("add \"type\", e.g. \"type\": \"dataset\"")),
            );
            None
        }
    }
}

fn unknown_type(
    kind: &str,
    path: &str,
    what: &str,
    runnable: &[&str],
    known: &[&str],
) -> Diagnostic {
    let all: Vec<&str> = runnable.iter().chain(known.iter()).copied().collect();
    let hint = match closest(kind, all.iter().copied()) {
        Some(c) => format!("did you mean {c:?}?"),
        None => format!("known {what} types: {}", all.join(", ")),
    };
    Diagnostic::error(
        format!("{path}.type"),
        format!("unknown {what} type {kind:?}"),
    )
    .hint(hint)
}

/// Validates one pipe. Returns the model when the pipe has no errors.
pub fn pipe(id: &str, cfg: Json, ctx: &Ctx, d: &mut Vec<Diagnostic>) -> Option<Pipe> {
    let before = d.iter().filter(|x| x.is_error()).count();
    let Json::Object(obj) = &cfg else { return None };
    if id.contains('/') {
        d.push(
            Diagnostic::error("$._id", format!("pipe id {id:?} contains '/'"))
                .hint("pipe and dataset ids may not contain '/'"),
        );
    }
    unknown_props(obj, PIPE_PROPS, "$", "pipe", d);
    let mut not_runnable = None;

    let nsi = bool_prop(obj, "namespaced_identifiers", ctx.default_nsi, "$", d);
    let ns_obj = obj.get("namespaces").and_then(Json::as_object);
    let ns_str = |k: &str| {
        ns_obj
            .and_then(|n| n.get(k))
            .and_then(Json::as_str)
            .unwrap_or(id)
            .to_string()
    };

    let source = match obj.get("source") {
        None => SourceSpec::Dataset {
            dataset: id.to_string(),
            include_previous_versions: false,
            completeness: None,
            include_replaced: true,
            require_populated_input: false,
            subset: None,
        },
        Some(Json::Object(s)) => source(id, s, "$.source", ctx, d, &mut not_runnable),
        Some(_) => {
            d.push(
                Diagnostic::error("$.source", "source must be an object")
                    .hint("e.g. \"source\": {\"type\": \"dataset\", \"dataset\": \"x\"}"),
            );
            SourceSpec::Empty
        }
    };
    let source_kind = effective_kind(obj.get("source")).unwrap_or("dataset");
    let adds_default = nsi
        && [
            "csv",
            "kafka",
            "ldap",
            "sql",
            "embedded",
            "http_endpoint",
            "json",
        ]
        .contains(&source_kind);

    let mut transforms = Vec::new();
    let list: Vec<(Json, String)> = match obj.get("transform") {
        None | Some(Json::Null) => vec![],
        Some(Json::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), format!("$.transform[{i}]")))
            .collect(),
        Some(t) => vec![(t.clone(), "$.transform".to_string())],
    };
    let dtl_opts = pumphouse_dtl::Options {
        namespaced_identifiers: nsi,
        identity_namespace: ns_str("identity"),
        property_namespace: ns_str("property"),
        id_required: true,
    };
    for (t, path) in list {
        if let Some(spec) = transform(&t, &path, &dtl_opts, ctx, d, &mut not_runnable) {
            transforms.push(spec);
        }
    }

    let sink = match obj.get("sink") {
        None => SinkSpec::Dataset {
            dataset: id.to_string(),
            deletion_tracking: true,
            set_initial_offset: InitialOffset::IfSourcePopulated,
            circuit_breaker: None,
        },
        Some(Json::Object(s)) => sink(id, s, "$.sink", ctx, obj.get("pump"), d, &mut not_runnable),
        Some(_) => {
            d.push(Diagnostic::error("$.sink", "sink must be an object"));
            SinkSpec::Null
        }
    };
    let sink_kind = effective_kind(obj.get("sink")).unwrap_or("dataset");
    let removes_default = nsi
        && [
            "csv_endpoint",
            "elasticsearch",
            "mail",
            "rest",
            "sms",
            "solr",
            "kafka",
            "sql",
            "http_endpoint",
            "json",
        ]
        .contains(&sink_kind);

    let batch_size = crate::http_specs::positive(obj, "batch_size", 100, "$", d) as usize;
    let pump = obj.get("pump").cloned().unwrap_or(Json::Object(Map::new()));
    if !pump.is_object() {
        d.push(Diagnostic::error("$.pump", "pump must be an object"));
    }
    let namespaces = NamespaceSettings {
        namespaced_identifiers: nsi,
        identity: ns_str("identity"),
        property: ns_str("property"),
        add_namespaces: bool_prop(obj, "add_namespaces", adds_default, "$", d),
        remove_namespaces: bool_prop(obj, "remove_namespaces", removes_default, "$", d),
    };
    let completeness = crate::completeness::pipe(obj, d);
    let fail_if_source_empty =
        if_source_empty(obj.get("source"), d).unwrap_or(ctx.default_fail_if_source_empty);
    if d.iter().filter(|x| x.is_error()).count() > before {
        return None;
    }
    Some(Pipe {
        id: id.to_string(),
        file: None,
        source,
        transforms,
        sink,
        batch_size,
        namespaces,
        pump,
        not_runnable,
        config: cfg.clone(),
        completeness,
        fail_if_source_empty,
    })
}

fn source(
    pipe_id: &str,
    s: &Map<String, Json>,
    path: &str,
    ctx: &Ctx,
    d: &mut Vec<Diagnostic>,
    nr: &mut Option<String>,
) -> SourceSpec {
    let Some(kind) = type_of(s, path, "source", d) else {
        return SourceSpec::Empty;
    };
    match kind {
        "conditional" => match resolve_conditional(s, path, d) {
            Some((alt, p)) => source(pipe_id, &alt, &p, ctx, d, nr),
            None => SourceSpec::Empty,
        },
        "embedded" => {
            unknown_props(s, EMBEDDED_PROPS, path, "the embedded source", d);
            let epath = format!("{path}.entities");
            if let Some((file, range)) = ctx.raw.get(&(pipe_id.to_string(), epath.clone())) {
                let res = crate::rawstream::for_each_id(file, range, |i, id| match id {
                    Some(pumphouse_value::Value::String(_)) => Ok(()),
                    Some(other) => Err(format!(
                        "entity {i} ({epath}[{i}]): _id must be a string, not {}",
                        other.type_name()
                    )),
                    None => Err(format!("entity {i} ({epath}[{i}]) has no string \"_id\"")),
                });
                if let Err(msg) = res {
                    d.push(
                        Diagnostic::error(epath.clone(), msg)
                            .hint("every embedded entity needs a string _id"),
                    );
                }
                return SourceSpec::EmbeddedFile {
                    file: file.clone(),
                    range: *range,
                };
            }
            let Some(Json::Array(items)) = s.get("entities") else {
                d.push(
                    Diagnostic::error(
                        format!("{path}.entities"),
                        "the embedded source needs \"entities\", a list of entities",
                    )
                    .hint("e.g. \"entities\": [{\"_id\": \"1\"}]"),
                );
                return SourceSpec::Empty;
            };
            let mut out = Vec::with_capacity(items.len());
            for (i, e) in items.iter().enumerate() {
                let ep = format!("{path}.entities[{i}]");
                match e.get("_id") {
                    Some(Json::String(_)) => out.push(pumphouse_value::transit::from_json(e)),
                    Some(other) if e.is_object() => d.push(
                        Diagnostic::error(
                            format!("{ep}._id"),
                            format!("_id must be a string, not {other}"),
                        )
                        .hint(format!(
                            "write it as a string: \"_id\": \"{}\"",
                            other
                                .as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| other.to_string())
                        )),
                    ),
                    _ if e.is_object() => d.push(
                        Diagnostic::error(ep, "entity has no \"_id\"")
                            .hint("every entity needs a string _id"),
                    ),
                    _ => d.push(Diagnostic::error(ep, "an entity must be a JSON object")),
                }
            }
            SourceSpec::Embedded {
                entities: Arc::new(out),
            }
        }
        "dataset" => {
            unknown_props(s, DATASET_SRC_PROPS, path, "the dataset source", d);
            let Some(Json::String(ds)) = s.get("dataset") else {
                d.push(Diagnostic::error(
                    format!("{path}.dataset"),
                    "the dataset source needs \"dataset\", the id of the dataset to read",
                ));
                return SourceSpec::Empty;
            };
            if !ctx.known_datasets.contains(ds) {
                let hint = match closest(ds, ctx.known_datasets.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean {c:?}? No pipe writes {ds:?} and the store has no such dataset"),
                    None => format!("no pipe in the config writes a dataset {ds:?}, and the store has none; add a pipe whose sink is {ds:?}"),
                };
                d.push(
                    Diagnostic::error(format!("{path}.dataset"), format!("unknown dataset {ds:?}"))
                        .hint(hint),
                );
            }
            let mut dd = Vec::new();
            let include_previous_versions =
                bool_prop(s, "include_previous_versions", false, path, &mut dd);
            let include_replaced = bool_prop(s, "include_replaced", true, path, &mut dd);
            let require_populated_input = bool_prop(
                s,
                "require_populated_input",
                ctx.default_require_populated_input,
                path,
                &mut dd,
            );
            d.extend(dd);
            SourceSpec::Dataset {
                dataset: ds.clone(),
                include_previous_versions,
                completeness: crate::completeness::source(s, path, d),
                include_replaced,
                require_populated_input,
                subset: crate::subset::parse(s.get("subset"), path, d),
            }
        }
        "empty" => SourceSpec::Empty,
        "json" => crate::http_specs::json_source(s, path, ctx, d, nr)
            .map(SourceSpec::Json)
            .unwrap_or(SourceSpec::Empty),
        k if KNOWN_SOURCES.contains(&k) => {
            nr.get_or_insert_with(|| {
                format!("source type {k:?} is not supported by this version yet")
            });
            SourceSpec::Unsupported {
                kind: k.to_string(),
                config: Json::Object(s.clone()),
            }
        }
        k => {
            d.push(unknown_type(
                k,
                path,
                "source",
                RUNNABLE_SOURCES,
                KNOWN_SOURCES,
            ));
            SourceSpec::Empty
        }
    }
}

fn transform(
    t: &Json,
    path: &str,
    opts: &pumphouse_dtl::Options,
    ctx: &Ctx,
    d: &mut Vec<Diagnostic>,
    nr: &mut Option<String>,
) -> Option<TransformSpec> {
    let Json::Object(obj) = t else {
        d.push(
            Diagnostic::error(path.to_string(), "a transform must be an object")
                .hint("e.g. {\"type\": \"dtl\", \"rules\": {\"default\": [[\"copy\", \"*\"]]}}"),
        );
        return None;
    };
    let kind = type_of(obj, path, "transform", d)?;
    match kind {
        "dtl" => {
            unknown_props(obj, DTL_PROPS, path, "the DTL transform", d);
            let Some(rules) = obj.get("rules") else {
                d.push(
                    Diagnostic::error(format!("{path}.rules"), "the DTL transform needs \"rules\"")
                        .hint("e.g. \"rules\": {\"default\": [[\"copy\", \"*\"]]}"),
                );
                return None;
            };
            let mut o = opts.clone();
            o.id_required = bool_prop(obj, "id_required", true, path, d);
            match pumphouse_dtl::compile(rules, &o) {
                Ok(program) => Some(TransformSpec::Dtl {
                    program: Arc::new(program),
                    rules: rules.clone(),
                }),
                Err(errs) => {
                    for e in errs {
                        let p = format!(
                            "{path}.rules{}",
                            if e.path.starts_with('[') || e.path.is_empty() {
                                e.path.clone()
                            } else {
                                format!(".{}", e.path)
                            }
                        );
                        let mut diag = Diagnostic::error(p, e.message.clone());
                        diag.hint = e.hint.clone();
                        d.push(diag);
                    }
                    None
                }
            }
        }
        "conditional" => {
            let (alt, p) = resolve_conditional(obj, path, d)?;
            transform(&Json::Object(alt), &p, opts, ctx, d, nr)
        }
        "http" => {
            let (system, url) =
                crate::http_specs::system_and_url(obj, path, "the http transform", ctx, d, nr)?;
            Some(TransformSpec::Http(Arc::new(HttpCall {
                system,
                url,
                batch_size: crate::http_specs::positive(obj, "batch_size", 100, path, d) as usize,
                headers: crate::systems::headers(obj.get("headers"), &format!("{path}.headers"), d),
            })))
        }
        "emit_children" => {
            unknown_props(
                obj,
                &["type", "comment"],
                path,
                "the emit_children transform",
                d,
            );
            Some(TransformSpec::EmitChildren)
        }
        k if KNOWN_TRANSFORMS.contains(&k) => {
            nr.get_or_insert_with(|| {
                format!("transform type {k:?} is not supported by this version yet")
            });
            Some(TransformSpec::Unsupported {
                kind: k.to_string(),
            })
        }
        k => {
            d.push(unknown_type(
                k,
                path,
                "transform",
                &["dtl", "http"],
                KNOWN_TRANSFORMS,
            ));
            None
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn sink(
    pipe_id: &str,
    s: &Map<String, Json>,
    path: &str,
    ctx: &Ctx,
    pump: Option<&Json>,
    d: &mut Vec<Diagnostic>,
    nr: &mut Option<String>,
) -> SinkSpec {
    let Some(kind) = type_of(s, path, "sink", d) else {
        return SinkSpec::Null;
    };
    match kind {
        "conditional" => match resolve_conditional(s, path, d) {
            Some((alt, p)) => sink(pipe_id, &alt, &p, ctx, pump, d, nr),
            None => SinkSpec::Null,
        },
        "dataset" => {
            unknown_props(s, DATASET_SINK_PROPS, path, "the dataset sink", d);
            let dataset = match s.get("dataset") {
                None => pipe_id.to_string(),
                Some(Json::String(ds)) => ds.clone(),
                Some(other) => {
                    d.push(Diagnostic::error(
                        format!("{path}.dataset"),
                        format!("dataset must be a string, not {other}"),
                    ));
                    pipe_id.to_string()
                }
            };
            if dataset.starts_with("system:") || dataset.contains('/') {
                d.push(
                    Diagnostic::error(
                        format!("{path}.dataset"),
                        format!("a sink cannot write the dataset {dataset:?}"),
                    )
                    .hint("dataset ids may not contain '/' or start with \"system:\""),
                );
            }
            let set_initial_offset = match s
                .get("set_initial_offset")
                .and_then(Json::as_str)
                .unwrap_or("if-source-populated")
            {
                "if-source-populated" => InitialOffset::IfSourcePopulated,
                "never" => InitialOffset::Never,
                "always" => InitialOffset::Always,
                "initially" => InitialOffset::Initially,
                "onload" => InitialOffset::Onload,
                other => {
                    d.push(
                        Diagnostic::error(
                            format!("{path}.set_initial_offset"),
                            format!("unknown set_initial_offset {other:?}"),
                        )
                        .hint("use one of if-source-populated, never, always, initially, onload"),
                    );
                    InitialOffset::IfSourcePopulated
                }
            };
            let deletion_tracking = bool_prop(s, "deletion_tracking", true, path, d);
            SinkSpec::Dataset {
                dataset,
                deletion_tracking,
                set_initial_offset,
                circuit_breaker: circuit_breaker(s, path, d),
            }
        }
        "null" => SinkSpec::Null,
        "json" => crate::http_specs::json_sink(s, path, ctx, pump, d, nr)
            .map(SinkSpec::Json)
            .unwrap_or(SinkSpec::Null),
        k if KNOWN_SINKS.contains(&k) => {
            nr.get_or_insert_with(|| {
                format!("sink type {k:?} is not supported by this version yet")
            });
            SinkSpec::Unsupported {
                kind: k.to_string(),
                config: Json::Object(s.clone()),
            }
        }
        k => {
            d.push(unknown_type(k, path, "sink", RUNNABLE_SINKS, KNOWN_SINKS));
            SinkSpec::Null
        }
    }
}
