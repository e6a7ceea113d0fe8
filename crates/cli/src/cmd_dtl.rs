//! `pumphouse dtl --rules FILE --input FILE`: evaluate DTL on entities, print the results.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use pumphouse_dtl::{EvalContext, Options};
use pumphouse_value::Value;

pub fn dtl(rules: &Path, input: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(rules)
        .with_context(|| format!("cannot read {}", rules.display()))?;
    let doc = pumphouse_core::jsonpos::parse(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}:{}: JSON syntax error: {}",
            rules.display(),
            e.pos.line,
            e.pos.col,
            e.message
        )
    })?;
    let (rules_json, prefix) = match doc.value.get("rules") {
        Some(r) if doc.value.get("type").is_some() => (r.clone(), "$.rules"),
        _ => (doc.value.clone(), "$"),
    };
    let program = match pumphouse_dtl::compile(&rules_json, &Options::default()) {
        Ok(p) => p,
        Err(errs) => {
            for e in &errs {
                let path = format!(
                    "{prefix}{}{}",
                    if e.path.starts_with('[') { "" } else { "." },
                    e.path
                );
                let line = doc
                    .pos(&path)
                    .map(|p| format!(":{}:{}", p.line, p.col))
                    .unwrap_or_default();
                eprintln!("error: {}{line}: {path}: {}", rules.display(), e.message);
                if let Some(h) = &e.hint {
                    eprintln!("  hint: {h}");
                }
            }
            return Ok(ExitCode::from(1));
        }
    };
    let itext = std::fs::read_to_string(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let entities = match pumphouse_value::transit::from_str(&itext)
        .with_context(|| format!("{} is not valid JSON", input.display()))?
    {
        Value::List(l) => l,
        other => vec![other],
    };
    let mut out = Vec::new();
    for (i, e) in entities.iter().enumerate() {
        let res = program
            .transform(e, &EvalContext::default())
            .map_err(|err| anyhow::anyhow!("input entity {i}: {err}"))?;
        if let Some(t) = res.target {
            out.push(t);
        }
        out.extend(res.created);
    }
    let json = pumphouse_value::transit::to_json(&Value::List(out));
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}
