//! Digest (RFC 7616, MD5 with qop=auth) and OAuth2 client-credentials tokens.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use pumphouse_core::HttpAuth;
use reqwest::blocking::Client;

/// A cached OAuth2 access token and when to refresh it.
#[derive(Default)]
pub struct TokenCache(Mutex<Option<(String, Instant)>>);

/// Seconds before expiry at which a token is refreshed (Sesam's `refresh_window`).
const REFRESH_WINDOW: u64 = 30;

pub fn oauth2_token(client: &Client, a: &HttpAuth, cache: &TokenCache) -> Result<String, String> {
    let HttpAuth::OAuth2 {
        client_id,
        client_secret,
        token_url,
        scope,
        extra,
    } = a
    else {
        return Err("not an oauth2 system".into());
    };
    let mut g = cache
        .0
        .lock()
        .map_err(|_| "token cache poisoned".to_string())?;
    if let Some((t, until)) = g.as_ref() {
        if Instant::now() < *until {
            return Ok(t.clone());
        }
    }
    let mut form: Vec<(String, String)> = vec![
        ("grant_type".into(), "client_credentials".into()),
        ("client_id".into(), client_id.clone()),
        ("client_secret".into(), client_secret.clone()),
    ];
    if let Some(s) = scope {
        form.push(("scope".into(), s.clone()));
    }
    form.extend(extra.iter().cloned());
    let resp = client.post(token_url).form(&form).send().map_err(|e| {
        format!(
            "oauth2 token request failed: {}",
            super::client::describe(&e)
        )
    })?;
    let status = resp.status();
    let body = resp.text().unwrap_or_default();
    if !status.is_success() {
        return Err(format!(
            "oauth2 token endpoint answered {status}: {}",
            super::client::excerpt(&body)
        ));
    }
    let v: serde_json::Value = serde_json::from_str(&body)
        .map_err(|e| format!("oauth2 token endpoint sent invalid JSON: {e}"))?;
    let token = v
        .get("access_token")
        .and_then(|t| t.as_str())
        .ok_or("oauth2 token endpoint answered without \"access_token\"")?
        .to_string();
    pumphouse_core::secrets::register(&token);
    let ttl = v.get("expires_in").and_then(|x| x.as_u64()).unwrap_or(3600);
    let until = Instant::now() + Duration::from_secs(ttl.saturating_sub(REFRESH_WINDOW));
    *g = Some((token.clone(), until));
    Ok(token)
}

/// A hash of the credentials, to notice a changed config without keeping them in text.
pub fn fingerprint(a: &HttpAuth) -> String {
    let text = match a {
        HttpAuth::None => String::new(),
        HttpAuth::Basic { username, password } | HttpAuth::Digest { username, password } => {
            format!("{username}\u{0}{password}")
        }
        HttpAuth::Bearer(t) => t.clone(),
        HttpAuth::OAuth2 {
            client_id,
            client_secret,
            token_url,
            scope,
            extra,
        } => {
            format!("{client_id}\u{0}{client_secret}\u{0}{token_url}\u{0}{scope:?}\u{0}{extra:?}")
        }
    };
    hex(&Md5::digest(text.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn param(challenge: &str, name: &str) -> Option<String> {
    let lower = challenge.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(&format!("{name}=")) {
        let at = from + i;
        let ok = at == 0 || matches!(lower.as_bytes()[at - 1], b' ' | b',');
        let rest = &challenge[at + name.len() + 1..];
        if ok {
            return Some(if let Some(r) = rest.strip_prefix('"') {
                r.split('"').next().unwrap_or("").to_string()
            } else {
                rest.split(',').next().unwrap_or("").trim().to_string()
            });
        }
        from = at + 1;
    }
    None
}

/// The `Authorization: Digest ...` answer to a `WWW-Authenticate: Digest ...` challenge.
pub fn digest_header(
    challenge: &str,
    user: &str,
    pass: &str,
    method: &str,
    url: &reqwest::Url,
) -> Option<String> {
    if !challenge
        .trim_start()
        .to_ascii_lowercase()
        .starts_with("digest")
    {
        return None;
    }
    let realm = param(challenge, "realm").unwrap_or_default();
    let nonce = param(challenge, "nonce")?;
    let opaque = param(challenge, "opaque");
    let qop = param(challenge, "qop");
    let uri = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    let ha1 = hex(&Md5::digest(format!("{user}:{realm}:{pass}")));
    let ha2 = hex(&Md5::digest(format!("{method}:{uri}")));
    let cnonce = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    let nc = "00000001";
    let (response, qop_part) = match qop {
        Some(q) if q.split(',').any(|x| x.trim() == "auth") => (
            hex(&Md5::digest(format!(
                "{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"
            ))),
            format!(", qop=auth, nc={nc}, cnonce=\"{cnonce}\""),
        ),
        _ => (
            hex(&Md5::digest(format!("{ha1}:{nonce}:{ha2}"))),
            String::new(),
        ),
    };
    let mut h = format!(
        "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", algorithm=MD5, response=\"{response}\"{qop_part}"
    );
    if let Some(o) = opaque {
        h.push_str(&format!(", opaque=\"{o}\""));
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_rfc2617_example() {
        // RFC 2617 section 3.5, with the cnonce replaced by ours: check the parts we control.
        let ch = r#"Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let url = reqwest::Url::parse("http://www.nowhere.org/dir/index.html").unwrap();
        let h = digest_header(ch, "Mufasa", "Circle Of Life", "GET", &url).unwrap();
        assert!(h.contains("uri=\"/dir/index.html\""));
        assert!(h.contains("qop=auth,"));
        assert!(h.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
        // Without qop the response is MD5(HA1:nonce:HA2), which the RFC 2069 example fixes.
        let ch = r#"Digest realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093""#;
        let h = digest_header(ch, "Mufasa", "CircleOfLife", "GET", &url).unwrap();
        assert!(
            h.contains("response=\"1949323746fe6a43ef61f9606e7febea\""),
            "{h}"
        );
    }
}
