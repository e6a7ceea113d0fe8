//! The node's configuration: the config entities as uploaded (pipes, systems, the `node`
//! metadata) and the environment variables, persisted under `<data>/node/` so they survive
//! restarts, and validated into a `Project`. Replacing the config is all-or-nothing unless
//! `force` is set; then invalid entities are kept but marked (`is-valid-config: false`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pumphouse_core::project::LoadOptions;
use pumphouse_core::{Diagnostic, Project};
use serde_json::{json, Map, Value as Json};

use super::NodeError;

/// A validated configuration and what was uploaded.
pub struct Loaded {
    /// The config entities as uploaded (the `original` config), in upload order.
    pub entities: Vec<Json>,
    /// The runnable model of the valid entities.
    pub project: Arc<Project>,
    /// `config-errors` of invalid entities (kept in `entities`, absent from `project`).
    pub invalid: BTreeMap<String, Vec<Json>>,
    /// Warnings per entity.
    pub warnings: BTreeMap<String, Vec<Json>>,
    pub env: Map<String, Json>,
}

impl Loaded {
    pub fn entity(&self, id: &str) -> Option<&Json> {
        self.entities.iter().find(|e| entity_id(e) == Some(id))
    }

    /// Entities of one kind: "pipe", "system" or "metadata".
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Json> + 'a {
        self.entities.iter().filter(move |e| kind_of(e) == kind)
    }

    pub fn metadata(&self) -> Option<&Json> {
        self.of_kind("metadata").next()
    }

    /// `task_manager.<key>` of the node metadata is true.
    pub fn task_manager_flag(&self, key: &str) -> bool {
        self.metadata()
            .and_then(|m| m.get("task_manager"))
            .and_then(|t| t.get(key))
            .and_then(Json::as_bool)
            .unwrap_or(false)
    }

    pub fn errors_of(&self, id: &str) -> Vec<Json> {
        let mut v = self.invalid.get(id).cloned().unwrap_or_default();
        v.extend(self.warnings.get(id).cloned().unwrap_or_default());
        v
    }
}

pub fn entity_id(e: &Json) -> Option<&str> {
    e.get("_id").and_then(Json::as_str)
}

/// "pipe", "system", "metadata" or "" for anything else.
pub fn kind_of(e: &Json) -> &'static str {
    match e.get("type").and_then(Json::as_str) {
        Some("pipe") => "pipe",
        Some("metadata") => "metadata",
        Some(t) if t.starts_with("system:") => "system",
        _ => "",
    }
}

/// The files under `<data>/node/`.
pub struct Files {
    pub dir: PathBuf,
}

impl Files {
    pub fn config(&self) -> PathBuf {
        self.dir.join("config.json")
    }
    pub fn env(&self) -> PathBuf {
        self.dir.join("env.json")
    }
    pub fn pumps(&self) -> PathBuf {
        self.dir.join("pumps.json")
    }
    pub fn imported(&self) -> PathBuf {
        self.dir.join("imported")
    }
    /// Records the folder a project was imported from (`serve --config DIR`): relative
    /// `process.cwd` of microservices resolve there, also after a restart or an upload.
    pub fn set_services_root(&self, project: &Path) -> Result<(), NodeError> {
        let dir = if project.is_dir() {
            project.to_path_buf()
        } else {
            project.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        std::fs::write(
            self.dir.join("services-root"),
            dir.to_string_lossy().as_bytes(),
        )
        .map_err(NodeError::internal)
    }
    /// The folder `set_services_root` recorded, if any.
    pub fn services_root(&self) -> Option<PathBuf> {
        std::fs::read_to_string(self.dir.join("services-root"))
            .ok()
            .map(PathBuf::from)
    }
}

/// Writes `value` to `path` atomically (temp file + rename).
pub fn write_json(path: &Path, value: &Json) -> Result<(), NodeError> {
    let tmp = path.with_extension("tmp");
    let text = serde_json::to_string_pretty(value).map_err(|e| NodeError::internal(e))?;
    std::fs::write(&tmp, text)
        .map_err(|e| NodeError::internal(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| NodeError::internal(format!("{}: {e}", path.display())))
}

pub fn read_json(path: &Path) -> Result<Option<Json>, NodeError> {
    match std::fs::read_to_string(path) {
        Ok(t) => serde_json::from_str(t.trim_start_matches('\u{feff}'))
            .map(Some)
            .map_err(|e| NodeError::internal(format!("{} is not valid JSON: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NodeError::internal(format!("{}: {e}", path.display()))),
    }
}

fn config_error(d: &Diagnostic) -> Json {
    let mut msg = d.message.clone();
    if let Some(h) = &d.hint {
        msg.push_str(&format!(" (hint: {h})"));
    }
    json!({
        "level": if d.is_error() { "error" } else { "warning" },
        "msg": msg,
        "elements": d.path,
    })
}

/// Checks the shape of uploaded entities: each an object with a string `_id` and a known
/// `type`, ids unique. Returns `validation_errors` entries.
fn shape_errors(entities: &[Json]) -> Vec<Json> {
    let mut out = vec![];
    let mut seen = HashSet::new();
    for (i, e) in entities.iter().enumerate() {
        let err = |msg: String, path: &str| {
            json!({"posted-config": e.get("_id").map_or(json!({"index": i}), |id| json!({"_id": id})),
                   "config-errors": [{"level": "error", "msg": msg, "elements": path}]})
        };
        if !e.is_object() {
            out.push(err(
                format!("config entity number {i} is not a JSON object"),
                "$",
            ));
            continue;
        }
        let Some(id) = entity_id(e) else {
            out.push(err(
                "the config entity has no string \"_id\"".into(),
                "$._id",
            ));
            continue;
        };
        if kind_of(e).is_empty() {
            out.push(err(
                format!("config entity {id:?} has type {}; use \"pipe\", \"system:<kind>\" or \"metadata\"", e.get("type").unwrap_or(&Json::Null)),
                "$.type",
            ));
        }
        if !seen.insert(id.to_string()) {
            out.push(err(
                format!("_id {id:?} occurs twice in the upload; ids must be unique"),
                "$._id",
            ));
        }
    }
    out
}

/// Loads `entities` with `env`: the project and the problems per entity id. `None` as the
/// project means an error not tied to an entity.
fn load_once(
    files: &Files,
    entities: &[Json],
    env: &Map<String, Json>,
    known: &HashSet<String>,
    path: &Path,
) -> Result<(Option<Project>, BTreeMap<String, Vec<Diagnostic>>), NodeError> {
    write_json(path, &Json::Array(entities.to_vec()))?;
    let env_path = files.dir.join("env.candidate.json");
    write_json(&env_path, &Json::Object(env.clone()))?;
    let opts = LoadOptions {
        env_file: Some(env_path),
        known_datasets: known.clone(),
        secrets: super::services::secrets(files),
        services_root: files.services_root(),
    };
    let mut by_id: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
    let res = if entities.is_empty() {
        Ok(Project {
            root: files.dir.clone(),
            pipes: vec![],
            systems: vec![],
            metadata: None,
            warnings: vec![],
        })
    } else {
        pumphouse_core::load(path, &opts)
    };
    match res {
        Ok(p) => {
            for d in &p.warnings {
                by_id
                    .entry(d.entity.clone().unwrap_or_default())
                    .or_default()
                    .push(d.clone());
            }
            Ok((Some(p), by_id))
        }
        Err(diags) => {
            for d in diags {
                by_id
                    .entry(d.entity.clone().unwrap_or_default())
                    .or_default()
                    .push(d);
            }
            Ok((None, by_id))
        }
    }
}

/// Validates `entities` under `env` and, if acceptable, persists both and returns the new
/// configuration. With `force`, entities with errors are kept but marked invalid.
pub fn apply(
    files: &Files,
    entities: Vec<Json>,
    env: Map<String, Json>,
    known: &HashSet<String>,
    force: bool,
) -> Result<Loaded, NodeError> {
    let shape = shape_errors(&entities);
    if !shape.is_empty() {
        return Err(NodeError::Invalid(shape));
    }
    let candidate = files.dir.join("config.candidate.json");
    let mut dropped: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    let mut live: Vec<Json> = entities.clone();
    let mut validation_errors = vec![];
    for _ in 0..10 {
        let (project, by_id) = load_once(files, &live, &env, known, &candidate)?;
        if project.is_some() {
            break;
        }
        let mut progress = false;
        for (id, ds) in &by_id {
            let errs: Vec<&Diagnostic> = ds.iter().filter(|d| d.is_error()).collect();
            if errs.is_empty() {
                continue;
            }
            let posted = live
                .iter()
                .find(|e| entity_id(e) == Some(id.as_str()))
                .cloned();
            validation_errors.push(json!({
                "posted-config": posted.clone().unwrap_or_else(|| json!({"_id": id})),
                "config-errors": errs.iter().map(|d| config_error(d)).collect::<Vec<_>>(),
            }));
            if posted.is_some() {
                dropped.insert(id.clone(), errs.iter().map(|d| config_error(d)).collect());
                progress = true;
            }
        }
        if !force || !progress {
            return Err(NodeError::Invalid(validation_errors));
        }
        live.retain(|e| entity_id(e).is_none_or(|id| !dropped.contains_key(id)));
    }
    // Persist, then load from the final path (embedded arrays are streamed from that file).
    let keep = entities;
    write_json(&files.config(), &Json::Array(keep.clone()))?;
    write_json(&files.env(), &Json::Object(env.clone()))?;
    let _ = std::fs::remove_file(&candidate);
    let _ = std::fs::remove_file(files.dir.join("env.candidate.json"));
    let final_path = files.dir.join("config.valid.json");
    let (project, by_id) = load_once(files, &live, &env, known, &final_path)?;
    let project = project
        .ok_or_else(|| NodeError::internal("the configuration validated once but not twice"))?;
    let warnings = by_id
        .into_iter()
        .map(|(id, ds)| (id, ds.iter().map(config_error).collect()))
        .collect();
    Ok(Loaded {
        entities: keep,
        project: Arc::new(project),
        invalid: dropped,
        warnings,
        env,
    })
}

/// Reads a sesam-py project folder (or one JSON file) as raw config entities plus its
/// `test-env.json`, for importing `serve --config DIR`.
pub fn read_project(path: &Path) -> Result<(Vec<Json>, Option<Map<String, Json>>), NodeError> {
    let mut files = vec![];
    let mut env = None;
    if path.is_file() {
        files.push(path.to_path_buf());
    } else if path.is_dir() {
        let meta = path.join("node-metadata.conf.json");
        if meta.is_file() {
            files.push(meta);
        }
        for sub in ["systems", "pipes"] {
            let mut found = vec![];
            walk(&path.join(sub), &mut found);
            found.sort();
            files.extend(found);
        }
        if let Some(Json::Object(m)) = read_json(&path.join("test-env.json"))? {
            env = Some(m);
        }
    } else {
        return Err(NodeError::BadRequest(format!(
            "config path {} does not exist; pass a sesam-py project folder or a JSON file",
            path.display()
        )));
    }
    let mut out = vec![];
    for f in files {
        match read_json(&f)? {
            Some(Json::Array(a)) => out.extend(a),
            Some(v) => out.push(v),
            None => {}
        }
    }
    Ok((out, env))
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

/// The effective config of a pipe: the substituted config with Sesam's defaults filled in
/// (a dataset source and a dataset sink named after the pipe).
pub fn effective(id: &str, cfg: &Json) -> Json {
    let mut c = cfg.clone();
    if let Json::Object(m) = &mut c {
        let ds = json!({"type": "dataset", "dataset": id});
        for k in ["source", "sink"] {
            match m.get_mut(k) {
                None => {
                    m.insert(k.into(), ds.clone());
                }
                Some(Json::Object(s)) => {
                    if s.get("type").and_then(Json::as_str) == Some("dataset")
                        && !s.contains_key("dataset")
                    {
                        s.insert("dataset".into(), json!(id));
                    }
                }
                _ => {}
            }
        }
    }
    c
}
