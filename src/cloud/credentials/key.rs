//! The access key itself, and the error every source reports with.

use std::time::Duration;

use jiff::Timestamp;

use crate::cloud::error::CloudError;
use crate::cloud::redact::Redactor;
use crate::protocol::request::AccessKey;
use crate::secret::Secret;

/// Temporary credentials are refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(180);

/// An access key, maybe temporary. Debug-printing it shows only the key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub access_key_secret: Secret,
    /// Present for temporary (STS) credentials.
    pub security_token: Option<Secret>,
    pub expiration: Option<Timestamp>,
}

impl Credentials {
    /// A long-term access key pair.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<Secret>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
            expiration: None,
        }
    }

    /// Adds an STS security token.
    pub fn with_token(mut self, token: impl Into<Secret>) -> Self {
        self.security_token = Some(token.into());
        self
    }

    pub(super) fn is_stale(&self, now: Timestamp) -> bool {
        match self.expiration {
            None => false,
            Some(exp) => exp
                .checked_sub(jiff::SignedDuration::try_from(REFRESH_MARGIN).unwrap_or_default())
                .map(|refresh_at| now >= refresh_at)
                .unwrap_or(true),
        }
    }

    /// The key as the request signer borrows it.
    pub fn access_key(&self) -> AccessKey<'_> {
        AccessKey {
            id: &self.access_key_id,
            secret: self.access_key_secret.expose(),
            security_token: self.security_token.as_ref().map(Secret::expose),
        }
    }

    /// A redactor for every secret value these credentials hold.
    pub fn redactor(&self) -> Redactor {
        let mut r = Redactor::new().with(self.access_key_secret.expose());
        if let Some(token) = &self.security_token {
            r.add(token.expose());
        }
        r
    }
}

/// What a caller may show about the credentials in use (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    pub access_key_id: String,
    /// Where they came from, e.g. `profile "prod" (RamRoleArn)`.
    pub source: String,
    pub temporary: bool,
    pub expiration: Option<Timestamp>,
}

/// A credentials error from `source`.
pub(super) fn cred_error(source: &str, detail: String, help: &str) -> CloudError {
    CloudError::Credentials {
        source_name: source.to_owned(),
        detail,
        help: help.to_owned(),
    }
}

/// Reads an `Expiration` (RFC 3339); blank means none.
pub(super) fn parse_expiration(
    text: Option<&str>,
    source: &str,
) -> Result<Option<Timestamp>, CloudError> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t.parse::<Timestamp>().map(Some).map_err(|e| {
            cred_error(
                source,
                format!("{source} gave an unreadable Expiration `{t}`: {e}"),
                "Check the credentials source.",
            )
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staleness() {
        let now = Timestamp::now();
        let mut c = Credentials::new("id", "secret");
        assert!(!c.is_stale(now));
        c.expiration = Some(now + jiff::SignedDuration::from_secs(60));
        assert!(c.is_stale(now));
        c.expiration = Some(now + jiff::SignedDuration::from_secs(3600));
        assert!(!c.is_stale(now));
    }
}
