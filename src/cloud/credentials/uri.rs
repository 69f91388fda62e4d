//! A credentials URI (`ALIBABA_CLOUD_CREDENTIALS_URI`, or a `CredentialsURI`
//! profile): a GET that answers the metadata service's JSON.

use url::Url;

use super::key::{Credentials, cred_error};
use super::remote::{self, read_remote, unreachable};
use crate::cloud::error::CloudError;
use crate::cloud::transport::{Outgoing, Transport};
use crate::protocol::endpoint::redacted_url;

const SOURCE: &str = "the credentials URI";

pub(super) async fn fetch_uri(transport: &Transport, url: &Url) -> Result<Credentials, CloudError> {
    let answer = remote::fetch(
        transport,
        "credentials URI",
        SOURCE,
        &transport.retry,
        Outgoing::get(url.clone()),
    )
    .await
    .map_err(|e| unreachable(SOURCE, e))?;
    if answer.status != 200 {
        return Err(cred_error(
            SOURCE,
            format!("{} answered HTTP {}", redacted_url(url), answer.status),
            "Check the credentials URI service.",
        ));
    }
    read_remote(
        &answer,
        SOURCE,
        &format!("{} did not answer credentials JSON", redacted_url(url)),
        "Check the credentials URI service.",
    )?
    .into_credentials(SOURCE, true)
}

/// A credentials URI from the environment or a profile: http(s) only.
pub(super) fn parse_source_url(text: &str, what: &str) -> Result<Url, CloudError> {
    let url = Url::parse(text.trim()).map_err(|e| {
        cred_error(
            what,
            format!("{what} is not a URL: {e}"),
            "Give a full URL such as http://127.0.0.1:8080/credentials.",
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(cred_error(
            what,
            format!("{what} must be http(s)"),
            "Use an http(s) URL.",
        ));
    }
    Ok(url)
}
