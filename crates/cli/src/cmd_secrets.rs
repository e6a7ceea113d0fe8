//! `pumphouse secrets` (set, list, delete; values are read from stdin and never printed) and
//! `pumphouse update-last-seen`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use pumphouse_secrets::SecretStore;

pub fn set(
    data: &Path,
    system: Option<&str>,
    name: &str,
    value: Option<String>,
) -> anyhow::Result<ExitCode> {
    let value = match value {
        Some(v) => v,
        None => {
            let mut v = String::new();
            std::io::stdin()
                .read_to_string(&mut v)
                .context("cannot read the secret value from stdin")?;
            v.trim_end_matches(['\n', '\r']).to_string()
        }
    };
    let st = SecretStore::open(data)?;
    st.set(system, BTreeMap::from([(name.to_string(), value)]), false)?;
    match system {
        Some(s) => println!("secret {name:?} of system {s:?} set"),
        None => println!("secret {name:?} set"),
    }
    Ok(ExitCode::SUCCESS)
}

pub fn list(data: &Path, system: Option<&str>) -> anyhow::Result<ExitCode> {
    for n in SecretStore::open(data)?.names(system)? {
        println!("{n}");
    }
    Ok(ExitCode::SUCCESS)
}

pub fn delete(data: &Path, system: Option<&str>, name: &str) -> anyhow::Result<ExitCode> {
    if SecretStore::open(data)?.delete(system, name)? {
        println!("secret {name:?} deleted");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: no secret {name:?}");
        Ok(ExitCode::from(1))
    }
}

/// Sets a pipe's last-seen; an empty value makes the next run a full run.
pub fn update_last_seen(data: &Path, pipe: &str, value: &str) -> anyhow::Result<ExitCode> {
    let store = pumphouse_store::Store::open(data)
        .with_context(|| format!("cannot open the store at {}", data.display()))?;
    let mut st = store.pipe_state(pipe)?;
    st.last_seen = if value.is_empty() {
        pumphouse_value::Value::Null
    } else if let Ok(i) = value.parse::<i64>() {
        pumphouse_value::Value::Int(i)
    } else {
        pumphouse_value::Value::String(value.to_string())
    };
    store.set_pipe_state(pipe, &st)?;
    if value.is_empty() {
        println!("pipe {pipe:?}: last-seen cleared; the next run is a full run");
    } else {
        println!("pipe {pipe:?}: last-seen set to {value:?}");
    }
    Ok(ExitCode::SUCCESS)
}
