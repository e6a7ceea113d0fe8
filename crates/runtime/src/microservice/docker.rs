//! `docker` microservices. Running an image needs a Docker daemon; when none is reachable the
//! error says so and how to run the service as a local process instead.

use std::path::Path;

/// The daemon's socket, if one answers.
pub fn socket() -> Option<String> {
    let path = std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_string))
        .unwrap_or_else(|| "/var/run/docker.sock".to_string());
    if Path::new(&path).exists() && std::os::unix::net::UnixStream::connect(&path).is_ok() {
        Some(path)
    } else {
        None
    }
}

pub fn unavailable(id: &str, image: &str) -> String {
    match socket() {
        None => format!(
            "microservice {id:?} runs the image {image:?}, but no Docker daemon is reachable \
             (no socket at /var/run/docker.sock or DOCKER_HOST); add \"process\": {{\"command\": [...]}} \
             to the system to run the service as a local command"
        ),
        Some(sock) => format!(
            "microservice {id:?}: a Docker daemon answers at {sock}, but running images is not \
             supported by this version yet; add \"process\": {{\"command\": [...]}} to the system"
        ),
    }
}
