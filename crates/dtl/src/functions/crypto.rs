//! Encryption: `encrypt`/`decrypt` (Fernet, the KEY used as a password), `encrypt-pki`/
//! `decrypt-pki` (RSA-OAEP with SHA-256, PEM keys) and `encrypt-pgp`/`decrypt-pgp` (OpenPGP
//! messages, ASCII-armoured).
//!
//! A KEY that cannot be used (not a PEM/PGP key, wrong passphrase) fails the entity with an
//! error naming the function; a value that cannot be decrypted is dropped like other bad
//! input. `encrypt` turns its whole VALUES argument into one token (the docs' list example
//! returns one bytes object), so `decrypt` gives back the same value, types included.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use pgp::composed::{Deserializable, Message, MessageBuilder, SignedPublicKey, SignedSecretKey};
use pgp::crypto::sym::SymmetricKeyAlgorithm;
use pgp::types::KeyDetails;
use pumphouse_value::transit::{from_str_mode, Mode};
use pumphouse_value::Value;
use rand::RngCore;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::{Oaep, Pkcs1v15Encrypt, RsaPrivateKey, RsaPublicKey};
use sha2::{Digest, Sha256};

use super::text::py_json;
use super::{spec, Spec};
use crate::ast::Call;
use crate::error::{EvalError, EvalResult};
use crate::eval::{try_map_values, Scope};

pub const SPECS: &[Spec] = &[
    spec("encrypt", 2, 2, encrypt),
    spec("decrypt", 2, 2, decrypt),
    spec("encrypt-pki", 2, 2, encrypt_pki),
    spec("decrypt-pki", 2, 2, decrypt_pki),
    spec("encrypt-pgp", 2, 2, encrypt_pgp),
    spec("decrypt-pgp", 3, 3, decrypt_pgp),
];

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE;

/// A string argument (the first value of a list), or an error naming the function.
fn key_arg(c: &Call, sc: &Scope, i: usize, what: &str) -> EvalResult<String> {
    match crate::eval::first(sc.arg(c, i)?) {
        Value::String(s) => Ok(s),
        Value::Bytes(b) => String::from_utf8(b)
            .map_err(|_| EvalError::other(format!("{}: {what} is not UTF-8 text", c.name))),
        other => Err(EvalError::other(format!(
            "{}: {what} must be a string, got {}",
            c.name,
            other.type_name()
        ))),
    }
}

// ---- Fernet -------------------------------------------------------------------------------

type HmacSha256 = Hmac<Sha256>;

/// The 32-byte Fernet key (16 signing + 16 encryption) derived from a password.
fn fernet_key(password: &str) -> [u8; 32] {
    Sha256::digest(password.as_bytes()).into()
}

/// A Fernet token (version 0x80, timestamp, IV, AES-128-CBC ciphertext, HMAC-SHA256).
pub fn fernet_encrypt(password: &str, plain: &[u8]) -> Vec<u8> {
    let key = fernet_key(password);
    let mut iv = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut iv);
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let ct = cbc::Encryptor::<aes::Aes128>::new((&key[16..]).into(), (&iv).into())
        .encrypt_padded_vec_mut::<Pkcs7>(plain);
    let mut tok = Vec::with_capacity(25 + ct.len() + 32);
    tok.push(0x80);
    tok.extend_from_slice(&ts.to_be_bytes());
    tok.extend_from_slice(&iv);
    tok.extend_from_slice(&ct);
    let mut mac = HmacSha256::new_from_slice(&key[..16]).expect("HMAC takes any key length");
    mac.update(&tok);
    tok.extend_from_slice(&mac.finalize().into_bytes());
    B64URL.encode(tok).into_bytes()
}

/// The plaintext of a Fernet token, or `None` if it is not one made with this password.
pub fn fernet_decrypt(password: &str, token: &[u8]) -> Option<Vec<u8>> {
    let raw = B64URL.decode(token.trim_ascii()).ok()?;
    if raw.len() < 1 + 8 + 16 + 16 + 32 || raw[0] != 0x80 || (raw.len() - 57) % 16 != 0 {
        return None;
    }
    let key = fernet_key(password);
    let (body, tag) = raw.split_at(raw.len() - 32);
    let mut mac = HmacSha256::new_from_slice(&key[..16]).ok()?;
    mac.update(body);
    mac.verify_slice(tag).ok()?;
    let iv: [u8; 16] = body[9..25].try_into().ok()?;
    cbc::Decryptor::<aes::Aes128>::new((&key[16..]).into(), (&iv).into())
        .decrypt_padded_vec_mut::<Pkcs7>(&body[25..])
        .ok()
}

fn encrypt(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let key = key_arg(c, sc, 0, "KEY")?;
    let v = sc.arg(c, 1)?;
    if v.is_null() {
        return Ok(Value::Null);
    }
    let plain = py_json(&v, Mode::Transit);
    Ok(Value::Bytes(fernet_encrypt(&key, plain.as_bytes())))
}

fn decrypt(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let key = key_arg(c, sc, 0, "KEY")?;
    let one = |v: Value| -> Option<Value> {
        let plain = match &v {
            Value::Bytes(b) => fernet_decrypt(&key, b)?,
            Value::String(s) => fernet_decrypt(&key, s.as_bytes())?,
            _ => return None,
        };
        let text = String::from_utf8(plain).ok()?;
        Some(from_str_mode(&text, Mode::Transit).unwrap_or(Value::String(text)))
    };
    match sc.arg(c, 1)? {
        Value::List(l) => Ok(Value::List(l.into_iter().filter_map(one).collect())),
        v => Ok(one(v).unwrap_or(Value::Null)),
    }
}

// ---- RSA ----------------------------------------------------------------------------------

fn public_key(c: &Call, pem: &str) -> EvalResult<RsaPublicKey> {
    RsaPublicKey::from_public_key_pem(pem.trim())
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem.trim()))
        .map_err(|e| {
            EvalError::other(format!(
                "{}: PUBLIC_KEY is not an RSA public key in PEM format (\"-----BEGIN PUBLIC KEY-----…\"): {e}",
                c.name
            ))
        })
}

fn private_key(c: &Call, pem: &str) -> EvalResult<RsaPrivateKey> {
    RsaPrivateKey::from_pkcs1_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs8_pem(pem.trim()))
        .map_err(|e| {
            EvalError::other(format!(
                "{}: PRIVATE_KEY is not an RSA private key in PEM format (\"-----BEGIN RSA PRIVATE KEY-----…\"): {e}",
                c.name
            ))
        })
}

fn encrypt_pki(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let key = public_key(c, &key_arg(c, sc, 0, "PUBLIC_KEY")?)?;
    try_map_values(sc.arg(c, 1)?, |v| {
        let Value::String(s) = v else { return Ok(None) };
        let ct = key
            .encrypt(&mut rand::thread_rng(), Oaep::new::<Sha256>(), s.as_bytes())
            .map_err(|e| EvalError::other(format!("{}: cannot encrypt a string of {} bytes with this key ({e}); use encrypt-pgp for long data", c.name, s.len())))?;
        Ok(Some(Value::Bytes(ct)))
    })
}

fn decrypt_pki(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let key = private_key(c, &key_arg(c, sc, 0, "PRIVATE_KEY")?)?;
    try_map_values(sc.arg(c, 1)?, |v| {
        let Value::Bytes(b) = v else { return Ok(None) };
        let plain = key
            .decrypt(Oaep::new::<Sha256>(), &b)
            .or_else(|_| key.decrypt(Pkcs1v15Encrypt, &b))
            .ok();
        Ok(plain
            .and_then(|p| String::from_utf8(p).ok())
            .map(Value::String))
    })
}

// ---- OpenPGP ------------------------------------------------------------------------------

fn pgp_error(c: &Call, what: &str, e: impl std::fmt::Display) -> EvalError {
    EvalError::other(format!("{}: {what}: {e}", c.name))
}

fn encrypt_pgp(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let text = key_arg(c, sc, 0, "PUBLIC_KEY")?;
    let (key, _) = SignedPublicKey::from_string(&text).map_err(|e| {
        pgp_error(
            c,
            "PUBLIC_KEY is not an ASCII-armoured OpenPGP public key (\"-----BEGIN PGP PUBLIC KEY BLOCK-----…\")",
            e,
        )
    })?;
    let sub = key.public_subkeys.iter().find(|s| {
        s.algorithm().can_encrypt()
            && s.signatures.iter().all(|sig| {
                let f = sig.key_flags();
                f.encrypt_comms() || f.encrypt_storage()
            })
    });
    try_map_values(sc.arg(c, 1)?, |v| {
        let Value::String(s) = v else { return Ok(None) };
        let mut rng = rand::thread_rng();
        let mut b = MessageBuilder::from_bytes("", s.into_bytes())
            .seipd_v1(&mut rng, SymmetricKeyAlgorithm::AES256);
        match sub {
            Some(sub) => b.encrypt_to_key(&mut rng, sub),
            None => b.encrypt_to_key(&mut rng, &key.primary_key),
        }
        .map_err(|e| pgp_error(c, "the key cannot encrypt", e))?;
        let armored = b
            .to_armored_string(&mut rng, Default::default())
            .map_err(|e| pgp_error(c, "encryption failed", e))?;
        Ok(Some(Value::String(armored)))
    })
}

fn decrypt_pgp(c: &Call, sc: &Scope) -> EvalResult<Value> {
    let text = key_arg(c, sc, 0, "PRIVATE_KEY")?;
    let pass = key_arg(c, sc, 1, "PASSPHRASE")?;
    let (key, _) = SignedSecretKey::from_string(&text).map_err(|e| {
        pgp_error(
            c,
            "PRIVATE_KEY is not an ASCII-armoured OpenPGP private key (\"-----BEGIN PGP PRIVATE KEY BLOCK-----…\")",
            e,
        )
    })?;
    let pw: pgp::types::Password = pass.as_str().into();
    let unlocks = |k: &pgp::packet::SecretSubkey| k.unlock(&pw, |_, _| Ok(())).is_ok();
    let primary_ok = key.primary_key.unlock(&pw, |_, _| Ok(())).is_ok();
    if !primary_ok && !key.secret_subkeys.iter().any(|s| unlocks(&s.key)) {
        return Err(EvalError::other(
            "decrypt-pgp: PASSPHRASE does not unlock PRIVATE_KEY",
        ));
    }
    try_map_values(sc.arg(c, 1 + 1)?, |v| {
        let Value::String(s) = v else { return Ok(None) };
        let Ok((msg, _)) = Message::from_string(&s) else {
            return Ok(None);
        };
        let Ok(mut plain) = msg.decrypt(&pw, &key) else {
            return Ok(None);
        };
        if plain.is_compressed() {
            plain = match plain.decompress() {
                Ok(m) => m,
                Err(_) => return Ok(None),
            };
        }
        Ok(plain.as_data_string().ok().map(Value::String))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fernet_round_trip_and_wrong_key() {
        let tok = fernet_encrypt("pw", b"hello");
        assert_eq!(fernet_decrypt("pw", &tok).as_deref(), Some(&b"hello"[..]));
        assert_eq!(fernet_decrypt("other", &tok), None);
        let mut bad = tok.clone();
        let n = bad.len() - 5;
        bad[n] = if bad[n] == b'A' { b'B' } else { b'A' };
        assert_eq!(fernet_decrypt("pw", &bad), None);
    }
}
