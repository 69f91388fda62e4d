//! Request signatures for Alibaba Cloud RPC APIs.
//!
//! Two schemes exist and both are in use (PROTOCOL.md §1): V1, HMAC-SHA1 over a
//! canonical query string (what the CLI and STS AssumeRole use), and V3,
//! ACS3-HMAC-SHA256 over a canonical request (the current SDKs' default).
//! The client signs with these functions and the simulator verifies with the
//! very same ones, so both sides agree by construction and the published test
//! vectors below pin them to what the cloud computes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Which signature scheme a request is signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureVersion {
    /// HMAC-SHA1 over the canonical query string (the docs call it "V2 RPC").
    #[default]
    V1,
    /// ACS3-HMAC-SHA256 over a canonical request.
    V3,
}

/// The V3 algorithm name, as it appears in the `Authorization` header.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// SHA-256 of the empty body, the `x-acs-content-sha256` of every body-less request.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Every byte outside `A-Z a-z 0-9 - _ . ~` is escaped ("POP encoding", §1.3).
const POP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes `s` the way the RPC signature expects: uppercase hex,
/// space as `%20`, `*` as `%2A`, `~` literal.
pub fn pop_encode(s: &str) -> String {
    utf8_percent_encode(s, POP).to_string()
}

/// Sorted `name=value` pairs joined with `&`, both sides POP-encoded.
///
/// Parameters are sorted by their encoded name, which for the ASCII names
/// the APIs use is plain byte order.
pub fn canonical_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (pop_encode(k.as_ref()), pop_encode(v.as_ref())))
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// The V1 string-to-sign: `METHOD&%2F&enc(canonical query)`.
///
/// `params` must hold every parameter of the request (query and form body),
/// without `Signature`.
pub fn v1_string_to_sign<K: AsRef<str>, V: AsRef<str>>(method: &str, params: &[(K, V)]) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        pop_encode("/"),
        pop_encode(&canonical_query(params))
    )
}

/// Base64 HMAC-SHA1 of the string-to-sign, keyed with `secret + "&"`.
pub fn v1_signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(format!("{secret}&").as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// Lowercase hex SHA-256, as used for `x-acs-content-sha256` and the V3 hash.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// The parts of a request that V3 signs.
#[derive(Debug, Clone, Copy)]
pub struct V3Input<'a> {
    pub method: &'a str,
    /// The URL path; `/` for every RPC call.
    pub path: &'a str,
    pub query: &'a [(&'a str, &'a str)],
    /// The headers to sign, by name as sent (names are lowercased here).
    pub headers: &'a [(&'a str, &'a str)],
    /// Lowercase hex SHA-256 of the body bytes exactly as sent.
    pub payload_sha256: &'a str,
}

/// The canonical request and the signed-headers list of a V3 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Canonical {
    pub canonical_request: String,
    pub signed_headers: String,
}

/// Builds the V3 canonical request (§1.8).
///
/// Headers with the same name (case-insensitively) are merged with `,` in the
/// order given, values trimmed, then sorted by name.
pub fn v3_canonical(input: &V3Input<'_>) -> V3Canonical {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in input.headers {
        let name = name.to_ascii_lowercase();
        let value = value.trim();
        match headers.iter_mut().find(|(n, _)| *n == name) {
            Some((_, existing)) => {
                existing.push(',');
                existing.push_str(value);
            }
            None => headers.push((name, value.to_owned())),
        }
    }
    headers.sort();
    let mut canonical_headers = String::new();
    for (name, value) in &headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let signed_headers = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        input.method.to_ascii_uppercase(),
        input.path,
        canonical_query(input.query),
        canonical_headers,
        signed_headers,
        input.payload_sha256
    );
    V3Canonical {
        canonical_request,
        signed_headers,
    }
}

/// `ACS3-HMAC-SHA256\n` + hex SHA-256 of the canonical request.
pub fn v3_string_to_sign(canonical_request: &str) -> String {
    format!(
        "{V3_ALGORITHM}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Hex HMAC-SHA256 of the string-to-sign, keyed with the bare secret (no `&`).
pub fn v3_signature(secret: &str, string_to_sign: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The `Authorization` header value of a V3 request.
pub fn v3_authorization(access_key_id: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_headers},Signature={signature}"
    )
}

/// The three fields of a V3 `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Authorization<'a> {
    pub access_key_id: &'a str,
    pub signed_headers: Vec<&'a str>,
    pub signature: &'a str,
}

/// Parses `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.
pub fn parse_v3_authorization(header: &str) -> Option<V3Authorization<'_>> {
    let rest = header.strip_prefix(V3_ALGORITHM)?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    Some(V3Authorization {
        access_key_id: credential?,
        signed_headers: signed?.split(';').filter(|s| !s.is_empty()).collect(),
        signature: signature?,
    })
}

/// Compares two signatures in constant time, so the simulator leaks nothing
/// through timing (a habit worth keeping even in a stand-in).
pub fn signatures_match(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1(method: &str, params: &[(&str, &str)], secret: &str) -> String {
        v1_signature(secret, &v1_string_to_sign(method, params))
    }

    #[test]
    fn pop_encoding_follows_the_documented_rules() {
        assert_eq!(pop_encode("*"), "%2A");
        assert_eq!(pop_encode("a+b/c"), "a%2Bb%2Fc");
        assert_eq!(pop_encode("é"), "%C3%A9");
        assert_eq!(pop_encode("("), "%28");
        assert_eq!(pop_encode("~"), "~");
        assert_eq!(pop_encode(" "), "%20");
        assert_eq!(pop_encode("AZaz09-_."), "AZaz09-_.");
        // darabonba-openapi-util test_get_canonical_query_string
        assert_eq!(
            canonical_query(&[("test", " ~/*-+")]),
            "test=%20~%2F%2A-%2B"
        );
    }

    const VECTOR_A: &[(&str, &str)] = &[
        ("AccessKeyId", "testid"),
        ("Action", "DescribeRegions"),
        ("Format", "XML"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "2016-02-23T12:46:24Z"),
        ("Version", "2014-05-26"),
    ];

    #[test]
    fn v1_vector_a_official_ecs_doc() {
        assert_eq!(
            v1_string_to_sign("GET", VECTOR_A),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML\
             %26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf\
             %26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            v1("GET", VECTOR_A, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn v1_vector_a_is_independent_of_parameter_order() {
        let mut reversed = VECTOR_A.to_vec();
        reversed.reverse();
        assert_eq!(
            v1("GET", &reversed, "testsecret"),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn v1_vector_b_official_sms_doc_with_chinese() {
        let params = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ];
        assert_eq!(
            v1("GET", &params, "testSecret"),
            "zJDF+Lrzhj/ThnlvIToysFRq6t4="
        );
    }

    #[test]
    fn v1_vector_c_darabonba_python() {
        let params = [("query", "test"), ("body", "test")];
        assert_eq!(v1("GET", &params, "secret"), "XlUyV4sXjOuX5FnjUz9IF9tm5rU=");
    }

    #[test]
    fn v1_vector_d_darabonba_go_empty_method() {
        let params = [("test", "ok")];
        assert_eq!(v1_string_to_sign("", &params), "&%2F&test%3Dok");
        assert_eq!(
            v1("", &params, "accessKeySecret"),
            "jHx/oHoHNrbVfhncHEvPdHXZwHU="
        );
    }

    #[test]
    fn v1_vector_e_forum_repost_with_misspelled_key() {
        let params: Vec<(&str, &str)> = VECTOR_A
            .iter()
            .map(|&(k, v)| (if k == "Timestamp" { "TimeStamp" } else { k }, v))
            .collect();
        assert_eq!(
            v1("GET", &params, "testsecret"),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE="
        );
    }

    const DESCRIBE_SEND_FILE: &[(&str, &str)] = &[
        ("Action", "DescribeSendFileResults"),
        ("Format", "JSON"),
        ("Version", "2014-05-26"),
        ("AccessKeyId", "testid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", "0123456789abcdef0123456789abcdef"),
        ("Timestamp", "2024-01-01T00:00:00Z"),
        ("RegionId", "cn-hangzhou"),
        ("InvokeId", "f-hz0jdfwd9f****"),
        ("Name", "my file~v1 (é).txt"),
        ("MaxResults", "50"),
        ("Tag.1.Key", "env"),
        ("Tag.1.Value", "a+b/c"),
    ];

    #[test]
    fn v1_derived_describe_send_file_results() {
        assert_eq!(
            v1("GET", DESCRIBE_SEND_FILE, "testsecret"),
            "0M7YYDMrXgwKN9Mpc6uiVj1k8/U="
        );
    }

    #[test]
    fn v1_derived_describe_send_file_results_with_sts_token() {
        let mut params = DESCRIBE_SEND_FILE.to_vec();
        params.push(("SecurityToken", "CAIS-token/with+chars="));
        assert_eq!(
            v1("GET", &params, "testsecret"),
            "yXynbxHEB6gsn1wSMgs9/MZ9p00="
        );
    }

    #[test]
    fn v1_derived_eflo_post_signs_query_and_body() {
        let query = [
            ("Action", "DescribeSendFileResults"),
            ("Format", "json"),
            ("Version", "2022-12-15"),
            ("Timestamp", "2026-11-22T13:26:13Z"),
            ("SignatureNonce", "7a12ad63917d02343f5186f01707b09e"),
            ("SecurityToken", "tok"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("AccessKeyId", "testid"),
        ];
        let mut all = query.to_vec();
        all.extend([("InvokeId", "t-abc"), ("NodeId", "e01-x")]);
        assert_eq!(
            v1("POST", &all, "testsecret"),
            "rXjiYaQTpFIDaroQtGc0sTn/ZpQ="
        );
        assert_ne!(
            v1("POST", &query, "testsecret"),
            "rXjiYaQTpFIDaroQtGc0sTn/ZpQ="
        );
    }

    fn v3(input: &V3Input<'_>, secret: &str) -> (String, String) {
        let canonical = v3_canonical(input);
        let hashed = sha256_hex(canonical.canonical_request.as_bytes());
        let signature = v3_signature(secret, &v3_string_to_sign(&canonical.canonical_request));
        (hashed, signature)
    }

    #[test]
    fn v3_official_doc_vector() {
        let (hashed, signature) = v3(
            &V3Input {
                method: "POST",
                path: "/",
                query: &[
                    (
                        "ImageId",
                        "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
                    ),
                    ("RegionId", "cn-shanghai"),
                ],
                headers: &[
                    ("host", "ecs.cn-shanghai.aliyuncs.com"),
                    ("x-acs-action", "RunInstances"),
                    ("x-acs-content-sha256", EMPTY_SHA256),
                    ("x-acs-date", "2023-10-26T10:22:32Z"),
                    ("x-acs-signature-nonce", "3156853299f313e23d1673dc12e1703d"),
                    ("x-acs-version", "2014-05-26"),
                ],
                payload_sha256: EMPTY_SHA256,
            },
            "YourAccessKeySecret",
        );
        assert_eq!(
            hashed,
            "7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(
            signature,
            "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
        );
    }

    #[test]
    fn v3_darabonba_vector_merges_duplicate_headers() {
        let input = V3Input {
            method: "GET",
            path: "/",
            query: &[("test", "ok"), ("empty", "")],
            headers: &[("x-acs-test", "http"), ("x-acs-TEST", "https")],
            payload_sha256: "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23",
        };
        let canonical = v3_canonical(&input);
        assert_eq!(canonical.signed_headers, "x-acs-test");
        assert!(
            canonical
                .canonical_request
                .contains("x-acs-test:http,https\n\n")
        );
        assert!(canonical.canonical_request.contains("\nempty=&test=ok\n"));
        let (_, signature) = v3(&input, "secret");
        assert_eq!(
            signature,
            "d16b30a7699ae9e43875b13195b2f81bcc3ed10c14a9b5eb780e51619aa50be1"
        );
    }

    #[test]
    fn v3_derived_describe_send_file_results() {
        let (hashed, signature) = v3(
            &V3Input {
                method: "POST",
                path: "/",
                query: &[
                    ("InvokeId", "f-hz0jdfwd9f****"),
                    ("MaxResults", "50"),
                    ("RegionId", "cn-hangzhou"),
                ],
                headers: &[
                    ("host", "ecs.cn-hangzhou.aliyuncs.com"),
                    ("x-acs-action", "DescribeSendFileResults"),
                    ("x-acs-content-sha256", EMPTY_SHA256),
                    ("x-acs-date", "2024-01-01T00:00:00Z"),
                    ("x-acs-signature-nonce", "0123456789abcdef0123456789abcdef"),
                    ("x-acs-version", "2014-05-26"),
                ],
                payload_sha256: EMPTY_SHA256,
            },
            "testsecret",
        );
        assert_eq!(
            hashed,
            "22ad0041de327079decf5bc9180de8e8a03fd9e2a563a6dfbccd3b8a6cdaab0d"
        );
        assert_eq!(
            signature,
            "f3e6feefede3ea892df75552db5a8c191269b518a73504c4161bcb72e52e7d4f"
        );
    }

    #[test]
    fn v3_authorization_round_trips() {
        let header = v3_authorization("testid", "host;x-acs-action", "abc123");
        let parsed = parse_v3_authorization(&header).unwrap();
        assert_eq!(parsed.access_key_id, "testid");
        assert_eq!(parsed.signed_headers, vec!["host", "x-acs-action"]);
        assert_eq!(parsed.signature, "abc123");
        assert!(parse_v3_authorization("Bearer xyz").is_none());
        assert!(parse_v3_authorization("ACS3-HMAC-SHA256 Credential=a").is_none());
    }

    #[test]
    fn signature_comparison() {
        assert!(signatures_match("abc", "abc"));
        assert!(!signatures_match("abc", "abd"));
        assert!(!signatures_match("abc", "abcd"));
    }

    #[test]
    fn empty_sha256_constant_is_right() {
        assert_eq!(sha256_hex(b""), EMPTY_SHA256);
    }
}
