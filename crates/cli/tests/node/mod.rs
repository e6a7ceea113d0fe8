//! Helpers for the `serve` end-to-end tests: start the real `pumphouse serve` on a free
//! loopback port, talk to it over real HTTP the way sesam-py does, stop it with SIGTERM.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

/// sesam-py's dummy JWT for a node without auth (sesam-py.md 1.2).
pub const DUMMY_JWT: &str = "eyJhbGciOiAibm9uZSIsICJ0eXAiOiAiSldUIn0.eyJzdWIiOiAibG9jYWwtZGV2In0.x";

pub struct Node {
    pub child: Option<Child>,
    pub base: String,
    pub data: PathBuf,
    pub client: Client,
    pub token: String,
    pub stderr: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Node {
    /// Starts `pumphouse serve --data DATA` with `extra` arguments and waits until it answers.
    pub fn start(data: &Path, extra: &[&str]) -> Node {
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let stderr = data.with_extension(format!("{port}.log"));
        let mut args = vec![
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &listen,
        ];
        args.extend_from_slice(extra);
        let child = Command::new(env!("CARGO_BIN_EXE_pumphouse"))
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .expect("start pumphouse serve");
        let node = Node {
            child: Some(child),
            base: format!("http://{listen}/api"),
            data: data.to_path_buf(),
            client: Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .unwrap(),
            token: DUMMY_JWT.into(),
            stderr,
        };
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if node
                .client
                .get(format!("{}/health", node.base))
                .send()
                .is_ok()
            {
                return node;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("serve did not come up: {}", node.log());
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    fn auth(&self, r: RequestBuilder) -> RequestBuilder {
        r.header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/json,*/*")
    }

    pub fn get(&self, path: &str) -> Response {
        self.auth(self.client.get(format!("{}{path}", self.base)))
            .send()
            .unwrap()
    }

    pub fn delete(&self, path: &str) -> Response {
        self.auth(self.client.delete(format!("{}{path}", self.base)))
            .send()
            .unwrap()
    }

    pub fn post_form(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.auth(self.client.post(format!("{}{path}", self.base)))
            .form(form)
            .send()
            .unwrap()
    }

    pub fn post(&self, path: &str) -> Response {
        self.auth(self.client.post(format!("{}{path}", self.base)))
            .send()
            .unwrap()
    }

    pub fn put_json(&self, path: &str, body: &Value) -> Response {
        self.auth(self.client.put(format!("{}{path}", self.base)))
            .json(body)
            .send()
            .unwrap()
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Response {
        self.auth(self.client.post(format!("{}{path}", self.base)))
            .json(body)
            .send()
            .unwrap()
    }

    /// `PUT /api/config` the way sesam-py does it: multipart, field `file`, filename `config`.
    pub fn put_config_multipart(
        &self,
        force: bool,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Response {
        let boundary = "pumphouse-test-boundary-8d1f";
        let mut body = Vec::new();
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"config\"\r\nContent-Type: {content_type}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(&bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        self.auth(
            self.client
                .put(format!("{}/config?force={force}", self.base)),
        )
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .unwrap()
    }

    /// Sends SIGTERM and waits for the process to exit; returns its stderr.
    pub fn stop(&mut self) -> String {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let until = Instant::now() + Duration::from_secs(60);
            while Instant::now() < until {
                if let Ok(Some(st)) = c.try_wait() {
                    assert!(st.success(), "serve exited with {st}: {}", self.log());
                    return self.log();
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            panic!(
                "serve did not stop within 60 s after SIGTERM: {}",
                self.log()
            );
        }
        self.log()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn json(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}")),
    )
}

/// A sesam-py style zip of the project folder's config files.
pub fn project_zip(dir: &Path) -> Vec<u8> {
    let mut files = vec![];
    let meta = dir.join("node-metadata.conf.json");
    if meta.is_file() {
        files.push((
            "node-metadata.conf.json".to_string(),
            std::fs::read(meta).unwrap(),
        ));
    }
    for sub in ["pipes", "systems"] {
        let Ok(rd) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        let mut names: Vec<_> = rd.map(|e| e.unwrap().path()).collect();
        names.sort();
        for p in names {
            let name = format!("{sub}/{}", p.file_name().unwrap().to_str().unwrap());
            files.push((name, std::fs::read(&p).unwrap()));
        }
    }
    pumphouse_api::zip::write(&files)
}

impl Node {
    /// `GET` with `Accept: application/zip`, as sesam-py's download/status do.
    pub fn auth_get_zip(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {}", self.token))
            .header("Accept", "application/zip")
            .send()
            .unwrap()
    }
}
