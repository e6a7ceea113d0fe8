//! `pumphouse serve`: opens the node (store, persisted config, optional project import), runs
//! the pump scheduler and serves the API until SIGINT/SIGTERM, then stops every run after its
//! current batch and flushes the store. `pumphouse token` signs a JWT for the API.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use pumphouse_api::{AppState, Auth, Role};
use pumphouse_runtime::node::{Node, NodeError, NodeOptions};

pub struct ServeArgs {
    pub config: Option<PathBuf>,
    pub data: PathBuf,
    pub listen: String,
    pub jwt_key: Option<PathBuf>,
    pub token_file: Option<PathBuf>,
    pub max_concurrent: usize,
    pub developer_mode: bool,
}

fn read_key(p: &Path) -> anyhow::Result<Vec<u8>> {
    let k = std::fs::read(p)
        .with_context(|| format!("cannot read the JWT signing key {}", p.display()))?;
    let k: Vec<u8> = k.trim_ascii().to_vec();
    if k.len() < 16 {
        bail!(
            "the JWT signing key in {} is shorter than 16 bytes; use a long random secret",
            p.display()
        );
    }
    Ok(k)
}

fn auth(a: &ServeArgs, addr: &SocketAddr) -> anyhow::Result<Auth> {
    if a.jwt_key.is_none() && a.token_file.is_none() {
        if !addr.ip().is_loopback() {
            bail!(
                "refusing to listen on {addr} without authentication: give --jwt-key FILE (HS256 signing key) or --token-file FILE (lines \"<role> <token>\"), or listen on 127.0.0.1"
            );
        }
        eprintln!("pumphouse: NO AUTHENTICATION: listening on loopback {addr}; every caller is admin and any token is accepted");
        return Ok(Auth::None);
    }
    let key = a.jwt_key.as_deref().map(read_key).transpose()?;
    let tokens = match &a.token_file {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the token file {}", p.display()))?;
            Auth::parse_token_file(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?
        }
        None => Default::default(),
    };
    Ok(Auth::Jwt { key, tokens })
}

fn explain(e: NodeError) -> anyhow::Error {
    match e {
        NodeError::Invalid(errs) => {
            let mut s = String::from("the configuration has errors; nothing was loaded:\n");
            for v in errs {
                let id = v["posted-config"]["_id"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                for ce in v["config-errors"].as_array().cloned().unwrap_or_default() {
                    s.push_str(&format!(
                        "  {id} {}: {}\n",
                        ce["elements"].as_str().unwrap_or(""),
                        ce["msg"].as_str().unwrap_or("")
                    ));
                }
            }
            anyhow::anyhow!(s)
        }
        e => anyhow::anyhow!(e.to_string()),
    }
}

pub fn serve(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let addr: SocketAddr = a.listen.parse().with_context(|| {
        format!(
            "--listen {:?} is not an address such as 127.0.0.1:9042",
            a.listen
        )
    })?;
    let auth = auth(&a, &addr)?;
    let mut opts = NodeOptions::new(a.data.clone());
    opts.import = a.config.clone();
    opts.max_concurrent = a.max_concurrent;
    let node = Node::open(opts).map_err(explain)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let state = AppState {
            node: node.clone(),
            auth: Arc::new(auth),
            developer_mode: a.developer_mode,
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        node.reschedule(true);
        let driver = tokio::spawn(pumphouse_runtime::pump::driver::drive(
            node.clone(),
            stop_rx,
        ));
        eprintln!(
            "pumphouse: serving http://{addr}/api ({} pipes; data in {})",
            node.loaded().project.pipes.len(),
            a.data.display()
        );
        axum::serve(listener, pumphouse_api::router(state))
            .with_graceful_shutdown(signal())
            .await
            .context("the HTTP server failed")?;
        eprintln!("pumphouse: stopping: running pipes commit their current batch");
        let _ = stop_tx.send(true);
        let _ = driver.await;
        let n = node.clone();
        let clean = tokio::task::spawn_blocking(move || n.shutdown(Duration::from_secs(60)))
            .await
            .unwrap_or(false);
        eprintln!(
            "pumphouse: stopped{}",
            if clean {
                " cleanly"
            } else {
                " (some runs did not stop within 60 s)"
            }
        );
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

async fn signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// `pumphouse token`: prints an HS256 JWT for the API.
pub fn token(key: &Path, role: &str, expires_in: Option<u64>) -> anyhow::Result<ExitCode> {
    let key = read_key(key)?;
    let role = Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("--role {role:?} must be admin or read-only"))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let mut claims = serde_json::json!({"sub": "pumphouse", "role": role.as_str(), "iat": now});
    if let Some(s) = expires_in {
        claims["exp"] = serde_json::json!(now + s);
    }
    println!("{}", pumphouse_api::auth::sign(&key, &claims));
    Ok(ExitCode::SUCCESS)
}
