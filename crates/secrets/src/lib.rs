//! The secret store (sesam-spec 8.5, 10.5): global secrets and per-system secrets, whose
//! names can be listed and whose values can be set and deleted but never read back through
//! any API. Values are kept in `<data>/secrets/store.enc`, encrypted with ChaCha20-Poly1305
//! under a 256-bit key in `<data>/secrets/key` that is created on first use with mode 0600.
//! The loader gets the values (`load`) to substitute `$SECRET(...)` in system configs.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use pumphouse_core::secrets::Secrets;
use serde_json::{json, Map, Value as Json};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret store {path}: {msg}")]
    Io { path: PathBuf, msg: String },
    #[error("secret store {0}: cannot decrypt (the key file does not match the store, or the file is damaged)")]
    Decrypt(PathBuf),
    #[error("invalid secret name {0:?}: use letters, digits, '_', '-' and '.'")]
    Name(String),
}

pub struct SecretStore {
    dir: PathBuf,
    cipher: ChaCha20Poly1305,
}

fn io(path: &Path, e: impl std::fmt::Display) -> SecretError {
    SecretError::Io {
        path: path.to_path_buf(),
        msg: e.to_string(),
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), SecretError> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| io(&tmp, e))?;
    f.sync_all().map_err(|e| io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| io(path, e))
}

fn valid_name(n: &str) -> Result<(), SecretError> {
    if !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(())
    } else {
        Err(SecretError::Name(n.to_string()))
    }
}

impl SecretStore {
    /// Opens the store in the data dir, creating the key on first use.
    pub fn open(data: &Path) -> Result<SecretStore, SecretError> {
        let dir = data.join("secrets");
        {
            use std::os::unix::fs::DirBuilderExt;
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&dir)
                .map_err(|e| io(&dir, e))?;
        }
        let key_path = dir.join("key");
        let key = match fs::read(&key_path) {
            Ok(k) if k.len() == 32 => k,
            Ok(_) => return Err(io(&key_path, "the key file is not 32 bytes")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = vec![0u8; 32];
                getrandom::getrandom(&mut k).map_err(|e| io(&key_path, e))?;
                write_private(&key_path, &k)?;
                k
            }
            Err(e) => return Err(io(&key_path, e)),
        };
        Ok(SecretStore {
            dir,
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        })
    }

    fn file(&self) -> PathBuf {
        self.dir.join("store.enc")
    }

    fn read(&self) -> Result<Secrets, SecretError> {
        let path = self.file();
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Secrets::default()),
            Err(e) => return Err(io(&path, e)),
        };
        if bytes.len() < 12 {
            return Err(SecretError::Decrypt(path));
        }
        let (nonce, ct) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| SecretError::Decrypt(path.clone()))?;
        let v: Json = serde_json::from_slice(&plain).map_err(|_| SecretError::Decrypt(path))?;
        let map = |v: Option<&Json>| -> BTreeMap<String, String> {
            v.and_then(Json::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut s = Secrets {
            global: map(v.get("global")),
            systems: BTreeMap::new(),
        };
        if let Some(m) = v.get("systems").and_then(Json::as_object) {
            for (id, x) in m {
                s.systems.insert(id.clone(), map(Some(x)));
            }
        }
        Ok(s)
    }

    fn write(&self, s: &Secrets) -> Result<(), SecretError> {
        let obj = |m: &BTreeMap<String, String>| -> Json {
            Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Json::String(v.clone())))
                    .collect::<Map<_, _>>(),
            )
        };
        let systems: Map<String, Json> = s
            .systems
            .iter()
            .filter(|(_, m)| !m.is_empty())
            .map(|(k, m)| (k.clone(), obj(m)))
            .collect();
        let plain = serde_json::to_vec(&json!({"global": obj(&s.global), "systems": systems}))
            .map_err(|e| io(&self.file(), e))?;
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce).map_err(|e| io(&self.file(), e))?;
        let ct = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_slice())
            .map_err(|_| io(&self.file(), "encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(ct);
        write_private(&self.file(), &out)
    }

    /// Every value, for `$SECRET(...)` substitution at load.
    pub fn load(&self) -> Result<Secrets, SecretError> {
        self.read()
    }

    /// The names of the global secrets (`system` `None`) or of one system's secrets.
    pub fn names(&self, system: Option<&str>) -> Result<Vec<String>, SecretError> {
        let s = self.read()?;
        Ok(match system {
            None => s.global.keys().cloned().collect(),
            Some(id) => s
                .systems
                .get(id)
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default(),
        })
    }

    /// Adds or overwrites secrets; with `replace`, the set becomes exactly `values`.
    pub fn set(
        &self,
        system: Option<&str>,
        values: BTreeMap<String, String>,
        replace: bool,
    ) -> Result<(), SecretError> {
        for k in values.keys() {
            valid_name(k)?;
        }
        let mut s = self.read()?;
        let target = match system {
            None => &mut s.global,
            Some(id) => s.systems.entry(id.to_string()).or_default(),
        };
        if replace {
            target.clear();
        }
        target.extend(values);
        self.write(&s)
    }

    /// Deletes one secret; `Ok(false)` when there was none of that name.
    pub fn delete(&self, system: Option<&str>, name: &str) -> Result<bool, SecretError> {
        let mut s = self.read()?;
        let removed = match system {
            None => s.global.remove(name).is_some(),
            Some(id) => s.systems.get_mut(id).and_then(|m| m.remove(name)).is_some(),
        };
        if removed {
            self.write(&s)?;
        }
        Ok(removed)
    }

    /// Deletes every secret of a system (when the system is deleted).
    pub fn delete_system(&self, system: &str) -> Result<(), SecretError> {
        let mut s = self.read()?;
        if s.systems.remove(system).is_some() {
            self.write(&s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn values_are_encrypted_at_rest_and_names_listable() {
        let dir = tempfile::tempdir().unwrap();
        let st = SecretStore::open(dir.path()).unwrap();
        let key = dir.path().join("secrets/key");
        assert_eq!(
            fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let secret = "s3cr3t-value-that-must-not-leak";
        st.set(
            None,
            [("api-key".to_string(), secret.to_string())].into(),
            false,
        )
        .unwrap();
        st.set(
            Some("sys"),
            [("tok".to_string(), "other-value".to_string())].into(),
            false,
        )
        .unwrap();
        let raw = fs::read(dir.path().join("secrets/store.enc")).unwrap();
        assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
        assert_eq!(st.names(None).unwrap(), vec!["api-key"]);
        assert_eq!(st.names(Some("sys")).unwrap(), vec!["tok"]);
        // Reopening uses the same key.
        let st2 = SecretStore::open(dir.path()).unwrap();
        assert_eq!(st2.load().unwrap().get("sys", "api-key"), Some(secret));
        assert!(st2.delete(None, "api-key").unwrap());
        assert!(st2.names(None).unwrap().is_empty());
        // A different key cannot read the store.
        fs::write(&key, [7u8; 32]).unwrap();
        let st3 = SecretStore::open(dir.path()).unwrap();
        assert!(matches!(st3.load(), Err(SecretError::Decrypt(_))));
        assert!(st
            .set(
                None,
                [("bad name".to_string(), "x".to_string())].into(),
                false
            )
            .is_err());
    }
}
