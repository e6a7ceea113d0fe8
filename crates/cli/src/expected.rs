//! sesam-py's test specs and comparison rules (sesam-py.md 5.3–5.5): which output is compared
//! with which `expected/` file, how the current output is filtered and normalised, how both
//! sides are sorted, and how `update` writes the files.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value as Json};

use crate::pyjson::{dumps, Style};

/// One `expected/<name>.test.json` spec with its defaults applied.
#[derive(Debug, Clone)]
pub struct Spec {
    pub name: String,
    pub spec_file: PathBuf,
    pub pipe: String,
    pub file: PathBuf,
    pub endpoint: String,
    pub blacklist: Vec<String>,
    pub ignore: bool,
    pub ignore_deletes: bool,
    pub fields_to_sort_by: Vec<String>,
}

/// Reads every `expected/*.test.json` (not recursive).
pub fn specs(dir: &Path) -> anyhow::Result<Vec<Spec>> {
    let exp = dir.join("expected");
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(&exp) else {
        return Ok(out);
    };
    let mut files: Vec<PathBuf> = rd
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.json"))
        .collect();
    files.sort();
    for f in files {
        let name = f
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .trim_end_matches(".test.json")
            .to_string();
        let text = std::fs::read_to_string(&f)?;
        let v: Json = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|e| anyhow::anyhow!("{}: invalid JSON: {e}", f.display()))?;
        let Json::Object(m) = v else {
            anyhow::bail!("{}: a test spec must be a JSON object", f.display())
        };
        let s = |k: &str| m.get(k).and_then(Json::as_str).map(str::to_string);
        let file = s("file").unwrap_or_else(|| format!("{name}.json"));
        let file = if file.starts_with("expected/") {
            dir.join(file)
        } else {
            exp.join(file)
        };
        out.push(Spec {
            pipe: s("pipe").unwrap_or_else(|| name.clone()),
            endpoint: s("endpoint").unwrap_or_else(|| "json".into()),
            blacklist: m
                .get("blacklist")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            ignore: m.get("ignore").and_then(Json::as_bool).unwrap_or(false),
            ignore_deletes: m
                .get("ignore_deletes")
                .and_then(Json::as_bool)
                .unwrap_or(true),
            fields_to_sort_by: m
                .get("fields_to_sort_by")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_else(|| vec!["_id".into()]),
            name,
            spec_file: f,
            file,
        });
    }
    Ok(out)
}

/// `*` spans dots, `?` one character (Python's fnmatch without character classes).
fn fnmatch(pat: &[char], s: &[char]) -> bool {
    match pat.split_first() {
        None => s.is_empty(),
        Some(('*', rest)) => (0..=s.len()).any(|i| fnmatch(rest, &s[i..])),
        Some(('?', rest)) => !s.is_empty() && fnmatch(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && fnmatch(rest, &s[1..]),
    }
}

fn blacklisted(path: &str, blacklist: &[Vec<char>]) -> bool {
    let p: Vec<char> = path.replace("\\.", ".").chars().collect();
    blacklist.iter().any(|b| fnmatch(b, &p))
}

fn filter_dict(m: &Map<String, Json>, prefix: &str, bl: &[Vec<char>]) -> Map<String, Json> {
    let mut out = Map::new();
    for (k, v) in m {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if blacklisted(&path, bl) {
            continue;
        }
        if k.starts_with('_') && k != "_id" && !(k == "_deleted" && v == &Json::Bool(true)) {
            continue;
        }
        out.insert(k.clone(), filter_value(v, &path, bl));
    }
    out
}

fn filter_value(v: &Json, path: &str, bl: &[Vec<char>]) -> Json {
    match v {
        Json::Object(m) => Json::Object(filter_dict(m, path, bl)),
        Json::Array(a) => Json::Array(a.iter().map(|x| filter_value(x, path, bl)).collect()),
        other => other.clone(),
    }
}

/// `_fix_decimal_to_ints` plus the large-int float round trip.
fn normalise(v: Json) -> Json {
    match v {
        Json::Number(n) => {
            let text = n.to_string();
            if text.contains(['.', 'e', 'E']) {
                let repr = crate::pyjson::float_repr(text.parse().unwrap_or(f64::NAN));
                if let Some(int) = repr.strip_suffix(".0") {
                    return serde_json::from_str(int).unwrap_or(Json::Number(n));
                }
                Json::Number(n)
            } else if text.trim_start_matches('-').len() > 16 {
                let f: f64 = text.parse().unwrap_or(0.0);
                serde_json::from_str(&float_to_int_text(f)).unwrap_or(Json::Number(n))
            } else {
                Json::Number(n)
            }
        }
        Json::Array(a) => Json::Array(a.into_iter().map(normalise).collect()),
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, v)| (k, normalise(v))).collect()),
        other => other,
    }
}

/// `int(Decimal(str(f)))`: the shortest decimal digits of `f`, as an integer.
fn float_to_int_text(f: f64) -> String {
    let sci = format!("{f:e}");
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let neg = mant.starts_with('-');
    let mant = mant.trim_start_matches('-');
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits = format!("{int}{frac}");
    let shift = exp - frac.len() as i64;
    let body = if shift >= 0 {
        format!("{digits}{}", "0".repeat(shift as usize))
    } else {
        digits[..(digits.len() as i64 + shift).max(1) as usize].to_string()
    };
    format!("{}{}", if neg { "-" } else { "" }, body)
}

fn sort_key(e: &Json, fields: &[String]) -> Vec<String> {
    let compact = Style {
        indent: None,
        ensure_ascii: true,
        html_escape: false,
    };
    let mut k: Vec<String> = fields
        .iter()
        .map(|f| match e.get(f) {
            Some(Json::String(s)) => s.clone(),
            Some(v) => dumps(v, compact),
            None => String::new(),
        })
        .collect();
    k.push(dumps(e, compact));
    k
}

fn sorted(mut list: Vec<Json>, fields: &[String]) -> Vec<Json> {
    list.sort_by_cached_key(|e| sort_key(e, fields));
    list
}

fn is_deleted(e: &Json) -> bool {
    e.get("_deleted") == Some(&Json::Bool(true))
}

/// The current output as sesam-py sees it: filtered, deletes handled, normalised.
pub fn prepare_current(
    current: &[Json],
    spec: &Spec,
    expected_deleted: &[String],
    for_update: bool,
) -> Vec<Json> {
    let bl: Vec<Vec<char>> = spec
        .blacklist
        .iter()
        .map(|b| b.replace("[]", ".*").chars().collect())
        .collect();
    let mut out = Vec::new();
    for e in current {
        let Json::Object(m) = e else { continue };
        let f = Json::Object(filter_dict(m, "", &bl));
        if spec.ignore_deletes && is_deleted(&f) {
            let id = f
                .get("_id")
                .and_then(Json::as_str)
                .unwrap_or("")
                .to_string();
            if for_update || !expected_deleted.contains(&id) {
                continue;
            }
        }
        out.push(normalise(f));
    }
    sorted(out, &spec.fields_to_sort_by)
}

/// Compares; `Err` holds a message with a diff-like excerpt.
pub fn compare(current: &[Json], expected: Json, spec: &Spec) -> Result<(), String> {
    let Json::Array(exp) = expected else {
        return Err(format!("{} must hold a JSON array", spec.file.display()));
    };
    let deleted: Vec<String> = exp
        .iter()
        .filter(|e| is_deleted(e))
        .filter_map(|e| e.get("_id").and_then(Json::as_str).map(str::to_string))
        .collect();
    let cur = prepare_current(current, spec, &deleted, false);
    let exp = sorted(exp, &spec.fields_to_sort_by);
    let style = Style {
        indent: Some(2),
        ensure_ascii: false,
        html_escape: false,
    };
    let (a, b) = (
        dumps(&Json::Array(cur.clone()), style),
        dumps(&Json::Array(exp.clone()), style),
    );
    if cur.len() == exp.len() && a == b {
        return Ok(());
    }
    let mut msg = format!(
        "pipe {:?}: output differs from {} ({} entities, expected {})",
        spec.pipe,
        spec.file.display(),
        cur.len(),
        exp.len()
    );
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            msg.push_str(&format!(
                "\n  first difference at line {}:\n    got:      {x}\n    expected: {y}",
                i + 1
            ));
            break;
        }
    }
    Err(msg)
}

/// The text `update` writes for a JSON spec.
pub fn update_text(current: &[Json], spec: &Spec) -> String {
    let cur = prepare_current(current, spec, &[], true);
    dumps(
        &Json::Array(cur),
        Style {
            indent: Some(2),
            ensure_ascii: false,
            html_escape: true,
        },
    ) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec {
            name: "p".into(),
            spec_file: "p.test.json".into(),
            pipe: "p".into(),
            file: "p.json".into(),
            endpoint: "json".into(),
            // List items keep their parent's path, so `nested.x` reaches into the list (and
            // sesam-py's `nested[].x`, rewritten to `nested.*.x`, would not).
            blacklist: vec!["secret".into(), "nested.x".into()],
            ignore: false,
            ignore_deletes: true,
            fields_to_sort_by: vec!["_id".into()],
        }
    }

    #[test]
    fn filters_and_normalises_like_sesam_py() {
        let cur = vec![
            json!({"_id": "b", "n": 2.0, "_updated": 5, "_deleted": false, "secret": 1, "nested": [{"x": 1, "y": 2, "_ts": 1}], "$ids": ["~:a:b"]}),
            json!({"_id": "a", "big": 12345678901234567891u64}),
            json!({"_id": "gone", "_deleted": true}),
        ];
        let out = prepare_current(&cur, &spec(), &[], false);
        let compact = Style {
            indent: None,
            ensure_ascii: false,
            html_escape: false,
        };
        assert_eq!(
            dumps(&Json::Array(out), compact),
            r#"[{"_id": "a", "big": 12345678901234567000}, {"$ids": ["~:a:b"], "_id": "b", "n": 2, "nested": [{"y": 2}]}]"#
        );
        assert!(compare(&cur, json!([{"_id": "a", "big": 12345678901234567000u64}, {"_id": "b", "n": 2, "nested": [{"y": 2}], "$ids": ["~:a:b"]}]), &spec()).is_ok());
        assert!(compare(&cur, json!([{"_id": "a", "big": 1}]), &spec()).is_err());
        let kept = compare(
            &cur,
            json!([{"_id": "a", "big": 12345678901234567000u64}, {"_id": "b", "n": 2, "nested": [{"y": 2}], "$ids": ["~:a:b"]}, {"_id": "gone", "_deleted": true}]),
            &spec(),
        );
        assert!(kept.is_ok(), "{kept:?}");
    }
}
