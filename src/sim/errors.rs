//! The cloud's error envelope, and every error code the simulator answers.
//!
//! Clients key their behaviour on the code and the HTTP status (retry on
//! `Throttling.User`, compare string-to-sign on `SignatureDoesNotMatch`), so
//! both are taken from the API documents and live captures (PROTOCOL.md §1.7,
//! §3.2, the error tables in docs/api/). Keeping them in one place makes the
//! simulator's error surface reviewable at a glance.

use axum::http::StatusCode;
use serde::Serialize;

use super::product::Product;

/// An API error: HTTP status, code and message. The envelope fields
/// (RequestId, HostId, Recommend) are added when it is rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Milliseconds for the `x-acs-retry-after` header (throttling only).
    pub retry_after_ms: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    /// A required parameter (or V3 header) is absent.
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter",
            format!(
                "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
            ),
        )
    }

    /// A parameter has a value the API refuses (a sim-wide fallback code for
    /// the values the documents give no specific code for).
    pub fn invalid_parameter(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            format!("The specified parameter \"{name}\" is not valid."),
        )
    }

    pub fn access_key_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        )
    }

    /// The message carries the server's string-to-sign, as the cloud's does,
    /// so a client can tell a wrong secret from a wrong canonicalisation.
    pub fn signature_does_not_match(server_string_to_sign: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "SignatureDoesNotMatch",
            format!(
                "Specified signature is not matched with our calculation. server string to sign is:{server_string_to_sign}"
            ),
        )
    }

    pub fn incomplete_signature(detail: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "IncompleteSignature",
            format!("The request signature does not conform to Aliyun standards. {detail}"),
        )
    }

    pub fn unsupported_signature_method(method: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidSignatureMethod",
            format!("Specified signature method \"{method}\" is not supported."),
        )
    }

    pub fn nonce_used() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        )
    }

    pub fn timestamp_expired(timestamp: &str, now: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired. The request time is {timestamp}, the server time is {now}."
            ),
        )
    }

    pub fn timestamp_format(timestamp: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidTimeStamp.Format",
            format!(
                "Specified time stamp or date value \"{timestamp}\" is not well formatted (expected YYYY-MM-DDThh:mm:ssZ)."
            ),
        )
    }

    pub fn security_token_mismatch() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey.",
        )
    }

    pub fn security_token_expired() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidSecurityToken.Expired",
            "Specified SecurityToken is expired.",
        )
    }

    pub fn action_not_found(action: &str, version: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidAction.NotFound",
            format!(
                "Specified api \"{action}\" is not found for version \"{version}\", please check your url and method."
            ),
        )
    }

    pub fn invalid_version(version: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidVersion",
            format!(
                "Specified parameter Version \"{version}\" is not valid (the simulator serves 2014-05-26 and 2022-12-15)."
            ),
        )
    }

    pub fn region_not_found(region: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidRegionId.NotFound",
            format!("The RegionId \"{region}\" provided does not exist in our records."),
        )
    }

    /// PageNumber out of range. DescribeSendFileResults' current document
    /// answers 400; the older tables (and DescribeInvocationResults') say 403.
    pub fn invalid_page_number(status: StatusCode) -> Self {
        Self::new(
            status,
            "InvalidParam.PageNumber",
            "The specified parameter is invalid.",
        )
    }

    /// PageSize outside 1..=50; the status follows the action's document.
    pub fn invalid_page_size(status: StatusCode) -> Self {
        Self::new(
            status,
            "InvalidParam.PageSize",
            "The specified parameter is invalid.",
        )
    }

    pub fn invalid_next_token() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.NextToken",
            "The specified parameter NextToken is not valid.",
        )
    }

    pub fn invalid_max_results() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.MaxResults",
            "The specified parameter MaxResults is not valid.",
        )
    }

    pub fn number_exceed_tags() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "NumberExceed.Tags",
            "The Tags parameter number is exceed.",
        )
    }

    pub fn missing_tag_key() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingParameter.TagKey",
            "You must specify Tag.N.Key.",
        )
    }

    pub fn duplicate_tag_key() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "Duplicate.TagKey",
            "The Tag.N.Key contain duplicate key.",
        )
    }

    pub fn invalid_tag_key() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidTagKey.Malformed",
            "The specified Tag.n.Key is not valid.",
        )
    }

    pub fn invalid_tag_value() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidTagValue.Malformed",
            "The specified Tag.n.Value is not valid.",
        )
    }

    pub fn throttled(retry_after_ms: u64) -> Self {
        Self {
            retry_after_ms: Some(retry_after_ms),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "Throttling.User",
                "Request was denied due to user flow control.",
            )
        }
    }

    pub fn internal_dispatch() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError.Dispatch",
            "An error occurred when you dispatched the request.",
        )
    }

    pub fn service_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        )
    }

    /// A path other than `/` (RPC APIs live at the root only).
    pub fn not_found_path(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "InvalidAction.NotFound",
            format!("Specified api is not found, please check your url and method ({path})."),
        )
    }
}

/// The JSON error body, field for field as the cloud sends it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Envelope<'a> {
    pub request_id: &'a str,
    pub host_id: &'a str,
    pub code: &'a str,
    pub message: &'a str,
    pub recommend: String,
}

impl<'a> Envelope<'a> {
    pub fn new(
        error: &'a ApiError,
        request_id: &'a str,
        host_id: &'a str,
        product: Product,
    ) -> Self {
        Self {
            request_id,
            host_id,
            code: error.code,
            message: &error.message,
            recommend: format!(
                "https://api.aliyun.com/troubleshoot?q={}&product={}&requestId={request_id}",
                error.code,
                product.troubleshoot_name()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_the_documented_fields() {
        let error = ApiError::access_key_not_found();
        let json = serde_json::to_value(Envelope::new(
            &error,
            "REQ-1",
            "ecs.aliyuncs.com",
            Product::Ecs,
        ))
        .unwrap();
        let keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        assert_eq!(
            keys,
            ["Code", "HostId", "Message", "Recommend", "RequestId"]
        );
        assert_eq!(json["Code"], "InvalidAccessKeyId.NotFound");
        assert_eq!(
            json["Recommend"],
            "https://api.aliyun.com/troubleshoot?q=InvalidAccessKeyId.NotFound&product=Ecs&requestId=REQ-1"
        );
        assert_eq!(error.status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn throttling_carries_retry_after() {
        let error = ApiError::throttled(1500);
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
        assert_eq!(error.code, "Throttling.User");
        assert_eq!(error.retry_after_ms, Some(1500));
    }
}
