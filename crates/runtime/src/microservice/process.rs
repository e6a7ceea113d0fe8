//! `process` microservices: a local command in its own process group, with the system's
//! environment and `PORT`, supervised by a monitor thread that restarts it with backoff.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pumphouse_connectors::http::services;
use pumphouse_core::{Microservice, MicroserviceRuntime};
use pumphouse_value::DateTime;

use super::logs::{LogLine, Ring};

/// How long a service may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Restart backoff: 1 s doubling up to 30 s.
const BACKOFF_MAX: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, Default)]
pub struct Status {
    pub running: bool,
    pub pid: Option<u32>,
    pub port: u16,
    pub restarts: u32,
    pub started_at: Option<DateTime>,
    /// How the last run ended, if it did.
    pub last_exit: Option<String>,
}

struct Shared {
    stop: AtomicBool,
    pgid: Mutex<Option<i32>>,
    status: Mutex<Status>,
    restarts: AtomicU32,
}

pub struct ProcessService {
    spec: Arc<Microservice>,
    port: u16,
    ring: Ring,
    shared: Arc<Shared>,
    monitor: Option<JoinHandle<()>>,
}

fn free_port() -> Result<u16, String> {
    let l =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot find a free port: {e}"))
}

fn kill_group(pgid: i32, sig: i32) {
    // SAFETY: kill(2) with a negative pid signals the process group; no memory is touched.
    unsafe {
        libc::kill(-pgid, sig);
    }
}

fn spawn(spec: &Microservice, port: u16, ring: &Ring) -> Result<Child, String> {
    let MicroserviceRuntime::Process { command, cwd } = &spec.runtime else {
        return Err("not a process microservice".into());
    };
    let (prog, args) = command
        .split_first()
        .ok_or_else(|| format!("microservice {:?} has an empty command", spec.id))?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .current_dir(cwd)
        .envs(&spec.environment)
        .env("PORT", port.to_string())
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    // The service dies with the node: if `pumphouse` is killed (even with SIGKILL, which runs
    // none of our shutdown code) the kernel sends the service SIGTERM. PDEATHSIG fires when
    // the *thread* that forked dies, so services are only ever spawned from their monitor
    // thread, which lives as long as the service does.
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: between fork and exec only async-signal-safe calls: prctl and getppid.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                // The node died before prctl took effect.
                return Err(std::io::Error::other("the node exited while starting"));
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| {
        format!(
            "microservice {:?}: cannot start {:?} in {}: {e}",
            spec.id,
            command.join(" "),
            cwd.display()
        )
    })?;
    if let Some(o) = child.stdout.take() {
        ring.follow("stdout", o);
    }
    if let Some(e) = child.stderr.take() {
        ring.follow("stderr", e);
    }
    ring.push(
        "node",
        &format!(
            "started {:?} (pid {}, PORT={port})",
            command.join(" "),
            child.id()
        ),
    );
    Ok(child)
}

/// Waits until `port` accepts connections or the child exits.
fn wait_listening(child: &mut Child, port: u16, ring: &Ring, id: &str) -> Result<(), String> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200))
            .is_ok()
        {
            return Ok(());
        }
        if let Ok(Some(st)) = child.try_wait() {
            std::thread::sleep(Duration::from_millis(100)); // let the log readers catch up
            return Err(format!(
                "microservice {id:?} exited ({st}) before it listened on port {port}; its last log lines:\n{}",
                ring.tail(20)
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "microservice {id:?} did not listen on port {port} within {}s; its last log lines:\n{}",
                START_TIMEOUT.as_secs(),
                ring.tail(20)
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl ProcessService {
    pub fn start(spec: &Arc<Microservice>) -> Result<ProcessService, String> {
        let port = match spec.port {
            Some(p) => p,
            None => free_port()?,
        };
        let ring = Ring::default();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            pgid: Mutex::new(None),
            status: Mutex::new(Status {
                port,
                ..Status::default()
            }),
            restarts: AtomicU32::new(0),
        });
        // The monitor thread starts the service (see `spawn` on why) and reports whether it
        // came up listening.
        let (tx, rx) = std::sync::mpsc::channel();
        let thread_err = |e| format!("microservice {:?}: cannot start a thread: {e}", spec.id);
        let monitor = {
            let (spec, ring, shared) = (spec.clone(), ring.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("ms-{}", spec.id))
                .spawn(move || {
                    let mut child = match spawn(&spec, port, &ring) {
                        Ok(c) => c,
                        Err(e) => return drop(tx.send(Err(e))),
                    };
                    let pgid = child.id() as i32;
                    if let Err(e) = wait_listening(&mut child, port, &ring, &spec.id) {
                        kill_group(pgid, libc::SIGKILL);
                        let _ = child.wait();
                        return drop(tx.send(Err(e)));
                    }
                    if let Ok(mut g) = shared.pgid.lock() {
                        *g = Some(pgid);
                    }
                    if let Ok(mut s) = shared.status.lock() {
                        s.running = true;
                        s.pid = Some(child.id());
                        s.started_at = Some(DateTime::now());
                    }
                    let _ = tx.send(Ok(()));
                    monitor(spec, port, ring, shared, child)
                })
                .map_err(thread_err)?
        };
        match rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = monitor.join();
                return Err(e);
            }
            Err(_) => {
                let _ = monitor.join();
                return Err(format!(
                    "microservice {:?}: its monitor thread ended while starting it",
                    spec.id
                ));
            }
        }
        services::set(&spec.id, &format!("http://127.0.0.1:{port}/"));
        Ok(ProcessService {
            spec: spec.clone(),
            port,
            ring,
            shared,
            monitor: Some(monitor),
        })
    }

    pub fn id(&self) -> &str {
        &self.spec.id
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    pub fn status(&self) -> Status {
        let mut s = self
            .shared
            .status
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default();
        s.restarts = self.shared.restarts.load(Ordering::Relaxed);
        s
    }

    pub fn logs(&self) -> Vec<LogLine> {
        self.ring.lines()
    }

    /// Stops the service: SIGTERM to its process group, SIGKILL after 5 s.
    pub fn stop(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        services::remove(&self.spec.id);
        let pgid = self.shared.pgid.lock().ok().and_then(|g| *g);
        if let Some(pg) = pgid {
            kill_group(pg, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while let Some(m) = &self.monitor {
            if m.is_finished() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(pg) = pgid {
            kill_group(pg, libc::SIGKILL);
        }
        if let Some(m) = self.monitor.take() {
            let _ = m.join();
        }
        self.ring.push("node", "stopped");
    }
}

impl Drop for ProcessService {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits for the child to exit and restarts it with backoff until told to stop.
fn monitor(spec: Arc<Microservice>, port: u16, ring: Ring, shared: Arc<Shared>, mut child: Child) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let started = Instant::now();
        let exit = child
            .wait()
            .map(|s| s.to_string())
            .unwrap_or_else(|e| e.to_string());
        // Take the rest of the group (e.g. a reloader's child) down with it.
        if let Some(pg) = shared.pgid.lock().ok().and_then(|g| *g) {
            kill_group(pg, libc::SIGKILL);
        }
        if let Ok(mut s) = shared.status.lock() {
            s.running = false;
            s.pid = None;
            s.last_exit = Some(exit.clone());
        }
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Duration::from_secs(1);
        }
        ring.push(
            "node",
            &format!("exited ({exit}); restarting in {}s", backoff.as_secs()),
        );
        if !sleep_unless_stopped(&shared, backoff) {
            return;
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
        match spawn(&spec, port, &ring) {
            Ok(c) => {
                child = c;
                if let Ok(mut g) = shared.pgid.lock() {
                    *g = Some(child.id() as i32);
                }
                shared.restarts.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut s) = shared.status.lock() {
                    s.running = true;
                    s.pid = Some(child.id());
                    s.started_at = Some(DateTime::now());
                }
                if shared.stop.load(Ordering::SeqCst) {
                    kill_group(child.id() as i32, libc::SIGKILL);
                }
            }
            Err(e) => {
                ring.push("node", &e);
                // Try again after the next backoff.
                if !sleep_unless_stopped(&shared, backoff) {
                    return;
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        }
    }
}

/// Sleeps `d`; `false` when asked to stop meanwhile.
fn sleep_unless_stopped(shared: &Shared, d: Duration) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if shared.stop.load(Ordering::SeqCst) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
}
