//! The `http` transform (sesam-spec 9.3): POSTs entities in batches of `batch_size` to the
//! service and takes the JSON array it answers as the transformed entities.

use std::sync::Arc;

use pumphouse_core::model::HttpCall;
use pumphouse_value::Value;

use crate::http::stream::ArrayReader;
use crate::http::HttpClient;
use crate::ConnectorError;

pub struct HttpTransform {
    spec: Arc<HttpCall>,
    client: Arc<HttpClient>,
}

impl HttpTransform {
    pub fn open(spec: &Arc<HttpCall>) -> Result<Self, ConnectorError> {
        Ok(HttpTransform {
            client: HttpClient::for_system(&spec.system)?,
            spec: spec.clone(),
        })
    }

    /// The service's answer for `entities`, in order, batch by batch.
    pub fn apply(&self, entities: Vec<Value>) -> Result<Vec<Value>, ConnectorError> {
        let url = self.client.url(&self.spec.url)?;
        let what = format!(
            "http transform POST {}",
            url.split('?').next().unwrap_or(&url)
        );
        let mut out = Vec::with_capacity(entities.len());
        for chunk in entities.chunks(self.spec.batch_size.max(1)) {
            let body = super::array_body(chunk);
            let resp = self.client.send(&what, &|c| {
                let mut rb = c
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .body(body.clone());
                for (k, v) in &self.spec.headers {
                    rb = rb.header(k.as_str(), v.as_str());
                }
                rb
            })?;
            let mut r = ArrayReader::new(resp);
            loop {
                match r.next_entity() {
                    Ok(Some(e)) => out.push(e),
                    Ok(None) => break,
                    Err(m) => {
                        return Err(ConnectorError::Other {
                            message: pumphouse_core::secrets::redact(&format!("{what}: {m}")),
                            retryable: false,
                        })
                    }
                }
            }
        }
        Ok(out)
    }
}
