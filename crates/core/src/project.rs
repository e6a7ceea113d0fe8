//! Loading a project: a sesam-py folder (`node-metadata.conf.json`, `pipes/**/*.conf.json`,
//! `systems/**/*.conf.json`, `test-env.json`) or one JSON file holding the config array.
//! Parses every file, substitutes the environment, validates every entity and returns all
//! problems at once, each placed at its file, line and JSON path.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::diag::Diagnostic;
use crate::env::{substitute, Env, Scope};
use crate::jsonpos::{self, Located};
use crate::model::{Project, System};
use crate::validate::{self, Ctx};

/// How to load.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// The env file; default `<dir>/test-env.json` when it exists.
    pub env_file: Option<PathBuf>,
    /// Datasets that exist in the store already (a dataset source may read them even when no
    /// pipe in the config produces them).
    pub known_datasets: HashSet<String>,
    /// Secret values for `$SECRET(...)` in systems (from the node's secret store).
    pub secrets: crate::secrets::Secrets,
    /// Where a relative `process.cwd` of a microservice resolves; default the project root.
    /// The node loads a copy of the config from its data folder and sets this to the folder
    /// it imported the project from.
    pub services_root: Option<PathBuf>,
}

/// One config entity and where it came from.
struct Entry {
    file: PathBuf,
    doc: usize,
    prefix: String,
    value: Json,
}

/// Loads and validates a project. `Err` holds every error (and the warnings); `Ok` carries the
/// warnings in `Project::warnings`.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Project, Vec<Diagnostic>> {
    let mut diags = Vec::new();
    let (root, files) = match collect_files(path) {
        Ok(x) => x,
        Err(d) => return Err(vec![d]),
    };
    let mut docs: Vec<Located> = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for file in &files {
        let text = match crate::excise::read(file) {
            Ok(t) => t,
            Err(e) => {
                diags.push(at_file(
                    Diagnostic::error("$", format!("cannot read file: {e}")),
                    file,
                ));
                continue;
            }
        };
        let doc = match jsonpos::parse_cut(&text.text, &text.cuts) {
            Ok(d) => d,
            Err(e) => {
                let mut d = at_file(
                    Diagnostic::error("$", format!("JSON syntax error: {}", e.message)),
                    file,
                );
                d.pos = Some(e.pos);
                d.hint =
                    Some("fix the JSON syntax at this line and column; nothing was loaded".into());
                diags.push(d);
                continue;
            }
        };
        let di = docs.len();
        match &doc.value {
            Json::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    entries.push(Entry {
                        file: file.clone(),
                        doc: di,
                        prefix: format!("$[{i}]"),
                        value: v.clone(),
                    });
                }
            }
            v => entries.push(Entry {
                file: file.clone(),
                doc: di,
                prefix: "$".into(),
                value: v.clone(),
            }),
        }
        docs.push(doc);
    }

    let env = match load_env(&root, opts) {
        Ok(e) => e,
        Err(d) => {
            diags.push(d);
            Env {
                use_process_env: true,
                ..Env::default()
            }
        }
    };

    let mut ctx = Ctx {
        incomplete: docs.len() < files.len(),
        ..Ctx::default()
    };
    let mut pipes = Vec::new();
    let mut systems = Vec::new();
    let mut metadata = None;
    let mut seen_ids: BTreeMap<String, PathBuf> = BTreeMap::new();
    let mut raw_pipes = Vec::new();
    for e in entries {
        let mut local = Vec::new();
        let Json::Object(obj) = &e.value else {
            local.push(
                Diagnostic::error("$", "a config entity must be a JSON object")
                    .hint("each file holds one object, or one array of objects"),
            );
            place(&mut diags, local, &e, &docs, None);
            continue;
        };
        let id = match obj.get("_id") {
            Some(Json::String(s)) => s.clone(),
            _ => {
                local.push(
                    Diagnostic::error("$._id", "config entity has no string \"_id\"")
                        .hint("add \"_id\": \"my-pipe\""),
                );
                place(&mut diags, local, &e, &docs, None);
                continue;
            }
        };
        if let Some(prev) = seen_ids.insert(id.clone(), e.file.clone()) {
            local.push(
                Diagnostic::error("$._id", format!("duplicate _id {id:?}")).hint(format!(
                    "also defined in {}; ids must be unique across the config",
                    prev.display()
                )),
            );
        }
        let kind = obj
            .get("type")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        let scope = if kind.starts_with("system:") {
            Scope::System
        } else if kind == "metadata" {
            Scope::Metadata
        } else {
            Scope::Pipe
        };
        let mut value = e.value.clone();
        substitute(&mut value, "$", &env, scope, &mut local);
        match kind.as_str() {
            "pipe" => {
                if let Some(doc) = docs.get(e.doc) {
                    for (path, range) in &doc.raw {
                        if let Some(rel) =
                            path.strip_prefix(&e.prefix).filter(|r| r.starts_with('.'))
                        {
                            ctx.raw
                                .insert((id.clone(), format!("${rel}")), (e.file.clone(), *range));
                        }
                    }
                }
                ctx.pending.push((id.clone(), local));
                raw_pipes.push((id, value, e));
                continue;
            }
            "metadata" => {
                metadata = Some(value);
                place(&mut diags, local, &e, &docs, Some(&id));
                continue;
            }
            k if k.starts_with("system:") => {
                let missing = crate::secrets::substitute(&mut value, "$", &id, &opts.secrets);
                if !missing.is_empty() {
                    local.push(crate::secrets::missing_warning(&missing));
                }
                let (http, microservice) = match (k, value.as_object()) {
                    ("system:url", Some(o)) => {
                        (Some(crate::systems::url_system(&id, o, &mut local)), None)
                    }
                    ("system:microservice", Some(o)) => {
                        let (h, m) = crate::systems::microservice(
                            &id,
                            o,
                            opts.services_root.as_deref().unwrap_or(&root),
                            &mut local,
                        );
                        (Some(h), Some(std::sync::Arc::new(m)))
                    }
                    _ => (None, None),
                };
                let http = http.map(|mut h| {
                    if !missing.is_empty() {
                        h.unavailable = Some(format!(
                            "system {id:?} needs secret(s) that are not set: {}",
                            missing.join(", ")
                        ));
                    }
                    let h = std::sync::Arc::new(h);
                    ctx.http_systems.insert(id.clone(), h.clone());
                    h
                });
                systems.push(System {
                    id: id.clone(),
                    kind: k.to_string(),
                    file: Some(e.file.clone()),
                    config: value,
                    http,
                    microservice,
                });
                place(&mut diags, local, &e, &docs, Some(&id));
                continue;
            }
            "" => local.push(
                Diagnostic::error("$.type", "config entity has no \"type\"")
                    .hint("use \"pipe\", \"system:<kind>\" or \"metadata\""),
            ),
            other => {
                let mut d =
                    Diagnostic::error("$.type", format!("unknown config entity type {other:?}"));
                d.hint = Some(
                    match crate::diag::closest(
                        other,
                        ["pipe", "metadata", "system:url", "system:microservice"],
                    ) {
                        Some(s) => format!("did you mean {s:?}?"),
                        None => "use \"pipe\", \"system:<kind>\" or \"metadata\"".into(),
                    },
                );
                local.push(d);
            }
        }
        place(&mut diags, local, &e, &docs, Some(&id));
    }

    // Datasets produced by pipes, for checking dataset sources.
    ctx.known_datasets = opts.known_datasets.clone();
    for (id, v, _) in &raw_pipes {
        ctx.known_datasets.insert(validate::sink_dataset_id(id, v));
    }
    ctx.default_nsi = metadata
        .as_ref()
        .and_then(|m| m.get("namespaced_identifiers"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    let globals = metadata.as_ref().and_then(|m| m.get("global_defaults"));
    ctx.default_require_populated_input = globals
        .and_then(|g| g.get("require_populated_input"))
        .and_then(Json::as_bool)
        .unwrap_or(false);
    ctx.default_fail_if_source_empty = globals
        .and_then(|g| g.get("if_source_empty"))
        .and_then(Json::as_str)
        == Some("fail");
    ctx.systems = systems.iter().map(|s| s.id.clone()).collect();
    let pending: BTreeMap<String, Vec<Diagnostic>> =
        std::mem::take(&mut ctx.pending).into_iter().collect();
    let mut sinks: BTreeMap<String, String> = BTreeMap::new();
    for (id, v, e) in raw_pipes {
        let mut local = pending.get(&id).cloned().unwrap_or_default();
        let pipe = validate::pipe(&id, v, &ctx, &mut local);
        if let Some(p) = pipe {
            if let Some(ds) = p.sink.dataset() {
                if let Some(other) = sinks.insert(ds.to_string(), id.clone()) {
                    local.push(
                        Diagnostic::error("$.sink.dataset", format!("dataset {ds:?} is already the sink of pipe {other:?}"))
                            .hint("every dataset has exactly one producing pipe; give this sink another dataset"),
                    );
                }
            }
            let mut p = p;
            p.file = Some(e.file.clone());
            pipes.push(p);
        }
        place(&mut diags, local, &e, &docs, Some(&id));
    }

    if diags.iter().any(Diagnostic::is_error) {
        return Err(diags);
    }
    Ok(Project {
        root,
        pipes,
        systems,
        metadata,
        warnings: diags,
    })
}

fn at_file(mut d: Diagnostic, file: &Path) -> Diagnostic {
    d.file = Some(file.to_path_buf());
    d
}

/// Gives each diagnostic its file, line and entity.
fn place(
    out: &mut Vec<Diagnostic>,
    local: Vec<Diagnostic>,
    e: &Entry,
    docs: &[Located],
    entity: Option<&str>,
) {
    for mut d in local {
        d.file = Some(e.file.clone());
        d.entity = entity.map(str::to_string);
        let full = format!(
            "{}{}",
            e.prefix,
            d.path.strip_prefix('$').unwrap_or(&d.path)
        );
        d.pos = docs.get(e.doc).and_then(|doc| doc.pos(&full));
        out.push(d);
    }
}

/// The project root and its config files in a stable order.
fn collect_files(path: &Path) -> Result<(PathBuf, Vec<PathBuf>), Diagnostic> {
    if path.is_file() {
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Ok((root, vec![path.to_path_buf()]));
    }
    if !path.is_dir() {
        return Err(Diagnostic::error("$", format!("config path {} does not exist", path.display()))
            .hint("pass a sesam-py project folder (with pipes/ and systems/) or a JSON file holding the config array"));
    }
    let mut files = Vec::new();
    let meta = path.join("node-metadata.conf.json");
    if meta.is_file() {
        files.push(meta);
    }
    for sub in ["systems", "pipes"] {
        let mut found = Vec::new();
        walk(&path.join(sub), &mut found);
        found.sort();
        files.extend(found);
    }
    if files.is_empty() {
        return Err(
            Diagnostic::error("$", format!("no config files found in {}", path.display()))
                .hint("a project folder holds pipes/*.conf.json and systems/*.conf.json"),
        );
    }
    Ok((path.to_path_buf(), files))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for ent in rd.flatten() {
        let p = ent.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.to_string_lossy().ends_with(".conf.json") {
            out.push(p);
        }
    }
}

fn load_env(root: &Path, opts: &LoadOptions) -> Result<Env, Diagnostic> {
    let mut env = Env {
        use_process_env: true,
        ..Env::default()
    };
    let file = match &opts.env_file {
        Some(f) => f.clone(),
        None => {
            let f = root.join("test-env.json");
            if !f.is_file() {
                return Ok(env);
            }
            f
        }
    };
    let text = std::fs::read_to_string(&file).map_err(|e| {
        at_file(
            Diagnostic::error("$", format!("cannot read env file: {e}")),
            &file,
        )
    })?;
    let doc = jsonpos::parse(&text).map_err(|e| {
        let mut d = at_file(
            Diagnostic::error("$", format!("JSON syntax error: {}", e.message)),
            &file,
        );
        d.pos = Some(e.pos);
        d
    })?;
    match doc.value {
        Json::Object(m) => env.vars.extend(m),
        _ => {
            return Err(at_file(
                Diagnostic::error(
                    "$",
                    "the env file must hold one JSON object of name → value",
                ),
                &file,
            ))
        }
    }
    Ok(env)
}

#[cfg(test)]
mod tests;
