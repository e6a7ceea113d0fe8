//! Python test services (the seeds' microservices and a fake HubSpot CRM) for the end-to-end
//! tests. `scripts/install-test-deps.sh` installs what they need; on CI (CI=true) a missing
//! dependency fails the test, elsewhere the test is skipped with a message.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn services_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services")
}

/// Whether python3 with flask, requests and waitress is available.
pub fn ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import flask, requests, waitress"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("python3 with flask, requests and waitress is needed: run scripts/install-test-deps.sh");
        }
        eprintln!("SKIPPED: python3 with flask, requests and waitress is missing (scripts/install-test-deps.sh)");
    }
    ok
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn wait_listening(port: u16, child: &mut Child) {
    let t = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(st)) = child.try_wait() {
            panic!("test service exited before listening: {st}");
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "test service did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The fake HubSpot CRM v3 API, stopped on drop.
pub struct FakeHubspot {
    child: Child,
    pub port: u16,
    http: reqwest::blocking::Client,
}

impl FakeHubspot {
    pub fn start(token: &str) -> FakeHubspot {
        let port = free_port();
        let mut child = Command::new("python3")
            .arg(services_dir().join("fake_hubspot.py"))
            .arg(port.to_string())
            .env("FAKE_HUBSPOT_TOKEN", token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3");
        wait_listening(port, &mut child);
        FakeHubspot {
            child,
            port,
            http: reqwest::blocking::Client::new(),
        }
    }

    /// The base url the microservice gets (`base-url`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/crm/v3", self.port)
    }

    fn call(&self, method: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let rb = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        rb.send().unwrap().json().unwrap()
    }

    /// Creates or updates contacts; returns the new lastmodifieddate of the last one.
    pub fn upsert(&self, contacts: serde_json::Value) -> String {
        self.call("POST", "/_test/contacts", contacts)["clock"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Archives a contact: list and search no longer return it.
    pub fn archive(&self, id: &str) {
        self.call(
            "DELETE",
            &format!("/_test/contacts/{id}"),
            serde_json::Value::Null,
        );
    }

    /// Makes the API answer `status` (None: stop failing).
    pub fn fail(&self, status: Option<u16>) {
        self.call(
            "POST",
            "/_test/fail",
            serde_json::json!({"status": status, "count": -1}),
        );
    }

    /// The API calls since the last `clear_requests`.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        self.call("GET", "/_test/requests", serde_json::Value::Null)
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn clear_requests(&self) {
        self.call("DELETE", "/_test/requests", serde_json::Value::Null);
    }
}

impl Drop for FakeHubspot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
