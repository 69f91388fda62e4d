//! Request authentication, as the cloud does it: known access key, fresh
//! timestamp, the STS token when the key is temporary, a matching signature
//! (V1 HMAC-SHA1 over query + form, or V3 ACS3-HMAC-SHA256), then a nonce
//! never seen before.
//!
//! Signatures are recomputed with `crate::protocol::request`, the very code
//! the client signs with; the published vectors pin it to the cloud's algorithm,
//! so agreement here is agreement with the cloud. Secrets are only ever
//! passed to the signer: nothing here logs or echoes them.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use jiff::Timestamp;

use super::errors::ApiError;
use crate::protocol::request::{v1_string_to_sign_for, v3_canonical_for};
use crate::protocol::sign;
use crate::protocol::time::{format_timestamp, parse_timestamp};
use crate::secret::Secret;

/// One accepted credential: a long-term key, or an STS triple.
#[derive(Debug, Clone)]
pub struct Credential {
    pub secret: Secret,
    pub security_token: Option<Secret>,
    pub expiration: Option<Timestamp>,
}

impl Credential {
    /// A long-term access key: no token, no expiry.
    pub fn long_term(secret: Secret) -> Self {
        Self {
            secret,
            security_token: None,
            expiration: None,
        }
    }
}

/// The accepted credentials, by access key id.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: RwLock<HashMap<String, Credential>>,
}

impl Keyring {
    pub fn insert(&self, access_key_id: String, credential: Credential) {
        self.keys
            .write()
            .expect("keyring lock")
            .insert(access_key_id, credential);
    }

    fn get(&self, access_key_id: &str) -> Option<Credential> {
        self.keys
            .read()
            .expect("keyring lock")
            .get(access_key_id)
            .cloned()
    }
}

/// Nonces seen recently, per access key. A nonce only has to be unique
/// while its timestamp is acceptable, so entries older than twice the
/// tolerance are forgotten.
#[derive(Debug, Default)]
pub struct NonceCache {
    seen: Mutex<NonceState>,
}

#[derive(Debug, Default)]
struct NonceState {
    entries: HashMap<(String, String), Instant>,
    last_sweep: Option<Instant>,
}

impl NonceCache {
    /// Records the nonce; false if it was already used.
    fn claim(&self, access_key_id: &str, nonce: &str, keep_for: Duration) -> bool {
        let mut state = self.seen.lock().expect("nonce lock");
        let now = Instant::now();
        if state
            .last_sweep
            .is_none_or(|t| now.duration_since(t) > Duration::from_secs(30))
        {
            state
                .entries
                .retain(|_, at| now.duration_since(*at) < keep_for);
            state.last_sweep = Some(now);
        }
        state
            .entries
            .insert((access_key_id.to_owned(), nonce.to_owned()), now)
            .is_none()
    }
}

/// The request as the verifier needs it; parameters already percent-decoded.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub query: &'a [(String, String)],
    pub form: &'a [(String, String)],
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Which scheme a request uses: V3 carries an `ACS3-HMAC-SHA256`
/// Authorization header; everything else is treated as V1.
pub fn is_v3(headers: &HeaderMap) -> bool {
    header(headers, "authorization").is_some_and(|v| v.starts_with(sign::V3_ALGORITHM))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a request; returns the access key id it was signed with.
pub fn verify(
    request: &SignedRequest<'_>,
    keyring: &Keyring,
    nonces: &NonceCache,
    tolerance: Duration,
) -> Result<String, ApiError> {
    if is_v3(request.headers) {
        verify_v3(request, keyring, nonces, tolerance)
    } else {
        verify_v1(request, keyring, nonces, tolerance)
    }
}

fn first<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn verify_v1(
    request: &SignedRequest<'_>,
    keyring: &Keyring,
    nonces: &NonceCache,
    tolerance: Duration,
) -> Result<String, ApiError> {
    // The body's value wins, as in `v1_params`.
    let get = |name: &str| {
        first(request.form, name)
            .or_else(|| first(request.query, name))
            .filter(|v| !v.is_empty())
    };
    let access_key_id =
        get("AccessKeyId").ok_or_else(|| ApiError::missing_parameter("AccessKeyId"))?;
    let signature = get("Signature").ok_or_else(|| ApiError::missing_parameter("Signature"))?;
    let credential = keyring
        .get(access_key_id)
        .ok_or_else(ApiError::access_key_not_found)?;
    let method =
        get("SignatureMethod").ok_or_else(|| ApiError::missing_parameter("SignatureMethod"))?;
    if method != "HMAC-SHA1" {
        return Err(ApiError::unsupported_signature_method(method));
    }
    let timestamp = get("Timestamp").ok_or_else(|| ApiError::missing_parameter("Timestamp"))?;
    check_timestamp(timestamp, tolerance)?;
    let nonce =
        get("SignatureNonce").ok_or_else(|| ApiError::missing_parameter("SignatureNonce"))?;
    check_security_token(&credential, get("SecurityToken"))?;

    let string_to_sign = v1_string_to_sign_for(request.method, request.query, request.form);
    let expected = sign::v1_signature(credential.secret.expose(), &string_to_sign);
    if !sign::signatures_match(&expected, signature) {
        return Err(ApiError::signature_does_not_match(&string_to_sign));
    }
    claim_nonce(nonces, access_key_id, nonce, tolerance)?;
    Ok(access_key_id.to_owned())
}

fn verify_v3(
    request: &SignedRequest<'_>,
    keyring: &Keyring,
    nonces: &NonceCache,
    tolerance: Duration,
) -> Result<String, ApiError> {
    let headers = request.headers;
    let authorization = header(headers, "authorization").unwrap_or_default();
    let parsed = sign::parse_v3_authorization(authorization).ok_or_else(|| {
        ApiError::incomplete_signature(
            "The Authorization header must be `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.",
        )
    })?;
    let credential = keyring
        .get(parsed.access_key_id)
        .ok_or_else(ApiError::access_key_not_found)?;
    let required = |name: &'static str| {
        header(headers, name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| ApiError::missing_parameter(name))
    };
    let date = required("x-acs-date")?;
    check_timestamp(date, tolerance)?;
    let nonce = required("x-acs-signature-nonce")?;
    check_security_token(&credential, header(headers, "x-acs-security-token"))?;
    // Every x-acs-* header and host must be covered by the signature.
    for name in headers.keys().map(|n| n.as_str()) {
        let must_sign = name == "host" || name.starts_with("x-acs-");
        if must_sign && !parsed.signed_headers.contains(&name) {
            return Err(ApiError::incomplete_signature(&format!(
                "The header `{name}` is not in SignedHeaders."
            )));
        }
    }
    let mut signed_headers: Vec<(&str, &str)> = Vec::new();
    for name in &parsed.signed_headers {
        for value in headers.get_all(*name) {
            signed_headers.push((name, value.to_str().unwrap_or_default()));
        }
    }
    let canonical = v3_canonical_for(request.method, request.query, &signed_headers, request.body);
    let string_to_sign = sign::v3_string_to_sign(&canonical.canonical_request);
    let expected = sign::v3_signature(credential.secret.expose(), &string_to_sign);
    if !sign::signatures_match(&expected, parsed.signature) {
        return Err(ApiError::signature_does_not_match(&string_to_sign));
    }
    claim_nonce(nonces, parsed.access_key_id, nonce, tolerance)?;
    Ok(parsed.access_key_id.to_owned())
}

/// `YYYY-MM-DDThh:mm:ssZ`, within `tolerance` of the host clock.
fn check_timestamp(text: &str, tolerance: Duration) -> Result<(), ApiError> {
    let at = parse_timestamp(text).ok_or_else(|| ApiError::timestamp_format(text))?;
    let now = Timestamp::now();
    let skew = now.duration_since(at).unsigned_abs();
    if skew > tolerance {
        return Err(ApiError::timestamp_expired(text, &format_timestamp(now)));
    }
    Ok(())
}

fn check_security_token(credential: &Credential, sent: Option<&str>) -> Result<(), ApiError> {
    let Some(expected) = &credential.security_token else {
        return Ok(());
    };
    match sent {
        Some(token) if sign::signatures_match(token, expected.expose()) => {}
        _ => return Err(ApiError::security_token_mismatch()),
    }
    if credential
        .expiration
        .is_some_and(|expiry| Timestamp::now() >= expiry)
    {
        return Err(ApiError::security_token_expired());
    }
    Ok(())
}

fn claim_nonce(
    nonces: &NonceCache,
    access_key_id: &str,
    nonce: &str,
    tolerance: Duration,
) -> Result<(), ApiError> {
    if nonces.claim(access_key_id, nonce, tolerance * 2) {
        Ok(())
    } else {
        Err(ApiError::nonce_used())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyring() -> Keyring {
        let keyring = Keyring::default();
        keyring.insert(
            "testid".to_owned(),
            Credential {
                secret: Secret::new("testsecret"),
                security_token: None,
                expiration: None,
            },
        );
        keyring
    }

    fn v1_params(nonce: &str, timestamp: &str) -> Vec<(String, String)> {
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeSendFileResults"),
            ("Format", "JSON"),
            ("RegionId", "cn-hangzhou"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", nonce),
            ("SignatureVersion", "1.0"),
            ("Timestamp", timestamp),
            ("Version", "2014-05-26"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let signature = sign::v1_signature("testsecret", &sign::v1_string_to_sign("GET", &params));
        params.push(("Signature".to_owned(), signature));
        params
    }

    fn now_text() -> String {
        format_timestamp(Timestamp::now())
    }

    fn check(params: &[(String, String)], nonces: &NonceCache) -> Result<String, ApiError> {
        let headers = HeaderMap::new();
        let request = SignedRequest {
            method: "GET",
            query: params,
            form: &[],
            headers: &headers,
            body: b"",
        };
        verify(&request, &keyring(), nonces, Duration::from_secs(900))
    }

    #[test]
    fn v1_accepts_a_good_signature_once() {
        let nonces = NonceCache::default();
        let params = v1_params("n-1", &now_text());
        assert_eq!(check(&params, &nonces).unwrap(), "testid");
        assert_eq!(
            check(&params, &nonces).unwrap_err().code,
            "SignatureNonceUsed"
        );
    }

    /// aliyun-python-sdk-core signs `dict(query).update(body)`: a name in
    /// both places once, with the body's value.
    #[test]
    fn v1_a_parameter_in_both_query_and_body_is_signed_once() {
        let nonces = NonceCache::default();
        let mut query = v1_params("n-5", &now_text());
        query.retain(|(k, _)| k != "Signature");
        query.push(("PageSize".to_owned(), "10".to_owned()));
        let form = vec![("PageSize".to_owned(), "20".to_owned())];
        let mut union: Vec<(String, String)> = query
            .iter()
            .filter(|(k, _)| k != "PageSize")
            .cloned()
            .collect();
        union.extend(form.iter().cloned());
        let signature = sign::v1_signature("testsecret", &sign::v1_string_to_sign("POST", &union));
        query.push(("Signature".to_owned(), signature));
        let headers = HeaderMap::new();
        let request = |query: &[(String, String)]| {
            verify(
                &SignedRequest {
                    method: "POST",
                    query,
                    form: &form,
                    headers: &headers,
                    body: b"",
                },
                &keyring(),
                &nonces,
                Duration::from_secs(900),
            )
        };
        assert_eq!(request(&query).unwrap(), "testid");
    }

    #[test]
    fn v1_refusals() {
        let nonces = NonceCache::default();
        let mut tampered = v1_params("n-2", &now_text());
        tampered[3].1 = "cn-beijing".to_owned();
        let error = check(&tampered, &nonces).unwrap_err();
        assert_eq!(error.code, "SignatureDoesNotMatch");
        assert!(
            error
                .message
                .contains("server string to sign is:GET&%2F&AccessKeyId%3Dtestid")
        );
        assert!(!error.message.contains("testsecret"));

        let old = v1_params("n-3", "2020-01-01T00:00:00Z");
        assert_eq!(
            check(&old, &nonces).unwrap_err().code,
            "InvalidTimeStamp.Expired"
        );

        let mut unknown = v1_params("n-4", &now_text());
        unknown[0].1 = "nobody".to_owned();
        let error = check(&unknown, &nonces).unwrap_err();
        assert_eq!(
            (error.code, error.status.as_u16()),
            ("InvalidAccessKeyId.NotFound", 404)
        );

        let unsigned: Vec<_> = v1_params("n-5", &now_text())
            .into_iter()
            .filter(|(k, _)| k != "Signature")
            .collect();
        assert_eq!(
            check(&unsigned, &nonces).unwrap_err().code,
            "MissingParameter"
        );
    }
}
