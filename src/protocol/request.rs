//! One way to assemble a signed RPC request, and to recompute what a
//! received one signed.
//!
//! The client, STS AssumeRole and the tests build requests with
//! [`RpcRequest::sign`]; the simulator and the tests' stand-ins check them
//! with [`v1_string_to_sign_for`] and [`v3_canonical_for`], which the
//! builder itself signs with. Both sides therefore canonicalise a request
//! the same way by construction, and the vectors in [`super::sign`] pin
//! that way to the cloud's.
//!
//! Where parameters travel follows the official SDKs (PROTOCOL.md §1.5):
//! V1 puts its common parameters and the signature in the query and signs
//! them with the business parameters; V3 signs headers instead. Business
//! parameters go in the query (ECS, STS) or in a form body (eflo).

use url::Url;

use crate::protocol::endpoint::host_header;
use crate::protocol::sign::{self, SignatureVersion, V3Canonical};

/// The content type of a form body.
const FORM: &str = "application/x-www-form-urlencoded";

/// The HTTP method of an RPC call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Everything in the query (STS, the V1 CLI style).
    Get,
    /// What the SDKs send: business parameters in the query or a form body.
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// An access key as the signer needs it (borrowed, never stored).
#[derive(Clone, Copy)]
pub struct AccessKey<'a> {
    pub id: &'a str,
    pub secret: &'a str,
    /// The STS security token of a temporary key.
    pub security_token: Option<&'a str>,
}

impl std::fmt::Debug for AccessKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// The values that make each attempt unique; a reused nonce is refused
/// (`SignatureNonceUsed`), so every attempt gets fresh ones.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// `YYYY-MM-DDThh:mm:ssZ` ([`super::time::format_timestamp`]); any text
    /// is signed as given, so tests can send a malformed one.
    pub timestamp: &'a str,
    pub nonce: &'a str,
}

/// A unique nonce: 32 hex digits of a random UUID.
pub fn new_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// One RPC action with its business parameters, not yet signed.
#[derive(Debug, Clone)]
pub struct RpcRequest<'a> {
    pub method: Method,
    pub action: &'a str,
    /// The API version (`Provider::version`, or STS's `2015-04-01`).
    pub version: &'a str,
    /// Business parameters sent in the URL query.
    pub query: Vec<(String, String)>,
    /// Business parameters sent as a form body.
    pub form: Vec<(String, String)>,
}

/// A request signed for one attempt, ready to send.
pub struct SignedRequest {
    pub method: Method,
    pub url: Url,
    /// Every header but `host`, which the HTTP stack sets to the same value.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
    /// What was signed (the V1 or V3 string-to-sign), for diagnosing
    /// `SignatureDoesNotMatch`.
    pub string_to_sign: String,
    /// The V3 canonical request (empty for V1).
    pub canonical_request: String,
    /// A secret of its own: it authorises this request.
    pub signature: String,
}

impl std::fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("url", &super::endpoint::redacted_url(&self.url))
            .finish_non_exhaustive()
    }
}

impl RpcRequest<'_> {
    /// Signs the request for `endpoint` with `key`, in `scheme`, at `stamp`.
    pub fn sign(
        &self,
        endpoint: &Url,
        key: &AccessKey<'_>,
        scheme: SignatureVersion,
        stamp: &Stamp<'_>,
    ) -> SignedRequest {
        let body = (!self.form.is_empty()).then(|| sign::canonical_query(&self.form));
        let mut headers = vec![("accept".to_owned(), "application/json".to_owned())];
        if body.is_some() {
            headers.push(("content-type".to_owned(), FORM.to_owned()));
        }
        match scheme {
            SignatureVersion::V1 => self.sign_v1(endpoint, key, stamp, headers, body),
            SignatureVersion::V3 => self.sign_v3(endpoint, key, stamp, headers, body),
        }
    }

    fn sign_v1(
        &self,
        endpoint: &Url,
        key: &AccessKey<'_>,
        stamp: &Stamp<'_>,
        headers: Vec<(String, String)>,
        body: Option<String>,
    ) -> SignedRequest {
        let mut query = pairs(&[
            ("Action", self.action),
            ("Format", "json"),
            ("Version", self.version),
            ("AccessKeyId", key.id),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", stamp.nonce),
            ("Timestamp", stamp.timestamp),
        ]);
        if let Some(token) = key.security_token {
            query.push(("SecurityToken".to_owned(), token.to_owned()));
        }
        query.extend(self.query.iter().cloned());
        let string_to_sign = v1_string_to_sign_for(self.method.as_str(), &query, &self.form);
        let signature = sign::v1_signature(key.secret, &string_to_sign);
        query.push(("Signature".to_owned(), signature.clone()));
        let mut url = endpoint.clone();
        url.set_query(Some(&sign::canonical_query(&query)));
        SignedRequest {
            method: self.method,
            url,
            headers,
            body,
            string_to_sign,
            canonical_request: String::new(),
            signature,
        }
    }

    fn sign_v3(
        &self,
        endpoint: &Url,
        key: &AccessKey<'_>,
        stamp: &Stamp<'_>,
        mut headers: Vec<(String, String)>,
        body: Option<String>,
    ) -> SignedRequest {
        let payload = body.as_deref().unwrap_or("").as_bytes();
        let host = host_header(endpoint);
        let payload_hash = sign::sha256_hex(payload);
        let mut signed = vec![
            ("host", host.as_str()),
            ("x-acs-action", self.action),
            ("x-acs-version", self.version),
            ("x-acs-date", stamp.timestamp),
            ("x-acs-signature-nonce", stamp.nonce),
            ("x-acs-content-sha256", payload_hash.as_str()),
        ];
        if let Some(token) = key.security_token {
            signed.push(("x-acs-security-token", token));
        }
        if body.is_some() {
            signed.push(("content-type", FORM));
        }
        let canonical = v3_canonical_for(self.method.as_str(), &self.query, &signed, payload);
        let string_to_sign = sign::v3_string_to_sign(&canonical.canonical_request);
        let signature = sign::v3_signature(key.secret, &string_to_sign);
        let mut url = endpoint.clone();
        if !self.query.is_empty() {
            url.set_query(Some(&sign::canonical_query(&self.query)));
        }
        // `host` is set by the HTTP stack to the same value; content-type
        // is already among the plain headers.
        headers.extend(
            signed
                .iter()
                .filter(|(name, _)| !matches!(*name, "host" | "content-type"))
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        headers.push((
            "authorization".to_owned(),
            sign::v3_authorization(key.id, &canonical.signed_headers, &signature),
        ));
        SignedRequest {
            method: self.method,
            url,
            headers,
            body,
            string_to_sign,
            canonical_request: canonical.canonical_request,
            signature,
        }
    }
}

/// A V1 request's parameters as the API reads them: the query's, then the
/// form body's, a name in both taken once with the body's value. The old
/// Python SDK (aliyun-python-sdk-core `rpc_signature_composer.py`) signs
/// exactly that union (`dict(query).update(body)`) when a `CommonRequest`
/// puts a parameter in both places; shipcheck itself never does.
pub fn v1_params<'a>(
    query: &'a [(String, String)],
    form: &'a [(String, String)],
) -> Vec<(&'a str, &'a str)> {
    query
        .iter()
        .filter(|(name, _)| !form.iter().any(|(in_form, _)| in_form == name))
        .chain(form)
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect()
}

/// The V1 string-to-sign of a request: its [`v1_params`] except
/// `Signature`, in any order.
pub fn v1_string_to_sign_for(
    method: &str,
    query: &[(String, String)],
    form: &[(String, String)],
) -> String {
    let signed: Vec<(&str, &str)> = v1_params(query, form)
        .into_iter()
        .filter(|(name, _)| *name != "Signature")
        .collect();
    sign::v1_string_to_sign(method, &signed)
}

/// The V3 canonical request of a request: its query, the headers it signs
/// (by name as sent) and the hash of its body bytes exactly as sent.
pub fn v3_canonical_for(
    method: &str,
    query: &[(String, String)],
    signed_headers: &[(&str, &str)],
    body: &[u8],
) -> V3Canonical {
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    sign::v3_canonical(&sign::V3Input {
        method,
        path: "/",
        query: &query,
        headers: signed_headers,
        payload_sha256: &sign::sha256_hex(body),
    })
}

fn pairs(borrowed: &[(&str, &str)]) -> Vec<(String, String)> {
    borrowed
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: AccessKey<'static> = AccessKey {
        id: "testid",
        secret: "testsecret",
        security_token: None,
    };

    fn query_value(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    #[test]
    fn v1_eflo_request_reproduces_the_derived_vector() {
        // PROTOCOL.md §1.6: POST, common params in the query, InvokeId and
        // NodeId in the form body, TEA's own output.
        let request = RpcRequest {
            method: Method::Post,
            action: "DescribeSendFileResults",
            version: "2022-12-15",
            query: vec![],
            form: pairs(&[("InvokeId", "t-abc"), ("NodeId", "e01-x")]),
        };
        let endpoint = Url::parse("https://eflo-controller.cn-wulanchabu.aliyuncs.com/").unwrap();
        let signed = request.sign(
            &endpoint,
            &AccessKey {
                security_token: Some("tok"),
                ..KEY
            },
            SignatureVersion::V1,
            &Stamp {
                timestamp: "2026-11-22T13:26:13Z",
                nonce: "7a12ad63917d02343f5186f01707b09e",
            },
        );
        assert_eq!(
            query_value(&signed.url, "Signature").as_deref(),
            Some("rXjiYaQTpFIDaroQtGc0sTn/ZpQ=")
        );
        assert_eq!(signed.body.as_deref(), Some("InvokeId=t-abc&NodeId=e01-x"));
        assert_eq!(
            query_value(&signed.url, "InvokeId"),
            None,
            "business params go in the body"
        );
        // the wire query is POP-encoded: a base64 `+` or `/` never travels raw
        assert!(!signed.url.query().unwrap().contains('/'));
    }

    #[test]
    fn v3_ecs_request_reproduces_the_derived_vector() {
        let request = RpcRequest {
            method: Method::Post,
            action: "DescribeSendFileResults",
            version: "2014-05-26",
            query: pairs(&[
                ("InvokeId", "f-hz0jdfwd9f****"),
                ("MaxResults", "50"),
                ("RegionId", "cn-hangzhou"),
            ]),
            form: vec![],
        };
        let endpoint = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com/").unwrap();
        let signed = request.sign(
            &endpoint,
            &KEY,
            SignatureVersion::V3,
            &Stamp {
                timestamp: "2024-01-01T00:00:00Z",
                nonce: "0123456789abcdef0123456789abcdef",
            },
        );
        assert_eq!(
            sign::sha256_hex(signed.canonical_request.as_bytes()),
            "22ad0041de327079decf5bc9180de8e8a03fd9e2a563a6dfbccd3b8a6cdaab0d"
        );
        let auth = signed
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .unwrap();
        assert!(auth.1.ends_with(
            "Signature=f3e6feefede3ea892df75552db5a8c191269b518a73504c4161bcb72e52e7d4f"
        ));
        assert_eq!(
            signed.url.query(),
            Some("InvokeId=f-hz0jdfwd9f%2A%2A%2A%2A&MaxResults=50&RegionId=cn-hangzhou")
        );
    }

    #[test]
    fn a_receiver_recomputes_what_the_sender_signed() {
        let request = RpcRequest {
            method: Method::Get,
            action: "AssumeRole",
            version: "2015-04-01",
            query: pairs(&[
                ("RoleArn", "acs:ram::1:role/x"),
                ("Policy", "{\"a\": \"b c\"}"),
            ]),
            form: vec![],
        };
        let endpoint = Url::parse("https://sts.aliyuncs.com/").unwrap();
        let signed = request.sign(
            &endpoint,
            &AccessKey {
                security_token: Some("CAIS+tok/en="),
                ..KEY
            },
            SignatureVersion::V1,
            &Stamp {
                timestamp: "2024-01-01T00:00:00Z",
                nonce: "n-1",
            },
        );
        let received: Vec<(String, String)> = signed.url.query_pairs().into_owned().collect();
        assert_eq!(
            v1_string_to_sign_for("GET", &received, &[]),
            signed.string_to_sign
        );
        assert!(
            signed
                .headers
                .iter()
                .all(|(name, _)| name != "content-type")
        );
    }

    #[test]
    fn every_attempt_gets_a_fresh_nonce() {
        let nonces: std::collections::HashSet<_> = (0..3).map(|_| new_nonce()).collect();
        assert_eq!(nonces.len(), 3);
        assert!(nonces.iter().all(|n| n.len() == 32));
    }
}
