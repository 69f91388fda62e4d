//! OIDC/RRSA: a workload's OIDC token exchanged for a role's temporary key
//! with STS `AssumeRoleWithOIDC`.
//!
//! Sent as the official credentials libraries send it (credentials-go
//! `providers/oidc.go`): an anonymous POST, no access key and no signature,
//! with `Action`, `Format`, `Version` and `Timestamp` in the query and the
//! role, provider, token, session name and duration in the form body. The
//! token file is read again on every refresh, since the platform (ACK's
//! RRSA, a CI's OIDC) rotates it; the token is a credential and is masked
//! wherever an answer might echo it.

use std::path::PathBuf;

use jiff::Timestamp;
use url::Url;

use super::env::{ChainOptions, Env};
use super::key::{Credentials, cred_error};
use super::remote::unreachable;
use super::sts::{STS_VERSION, read_answer, sts_url};
use crate::cloud::error::CloudError;
use crate::cloud::redact::{self, Redactor};
use crate::cloud::retry::Stats;
use crate::cloud::transport::{Outgoing, Transport};
use crate::protocol::time::format_timestamp;
use crate::secret::Secret;

const SOURCE: &str = "STS AssumeRoleWithOIDC";

/// The OIDC variables of the official chain; all three turn the source on.
pub(super) const ENV_ROLE_ARN: &str = "ALIBABA_CLOUD_ROLE_ARN";
pub(super) const ENV_PROVIDER_ARN: &str = "ALIBABA_CLOUD_OIDC_PROVIDER_ARN";
pub(super) const ENV_TOKEN_FILE: &str = "ALIBABA_CLOUD_OIDC_TOKEN_FILE";
pub(super) const ENV_SESSION_NAME: &str = "ALIBABA_CLOUD_ROLE_SESSION_NAME";

/// The role to assume with an OIDC token, and where the token is.
#[derive(Debug, Clone)]
pub(super) struct AssumeRoleWithOidc {
    pub sts_url: Url,
    pub role_arn: String,
    pub provider_arn: String,
    pub token_file: PathBuf,
    pub session_name: String,
    pub duration_seconds: u64,
    pub policy: Option<String>,
}

/// The settings of one OIDC source, whichever file or variable named them.
pub(super) struct OidcSettings<'a> {
    pub role_arn: &'a str,
    pub provider_arn: &'a str,
    pub token_file: &'a str,
    pub session_name: &'a str,
    pub policy: &'a str,
    pub sts_endpoint: &'a str,
    pub sts_region: &'a str,
}

impl AssumeRoleWithOidc {
    /// From the environment, when all three OIDC variables are set (the
    /// official chain skips the source otherwise).
    pub fn from_env(opts: &ChainOptions) -> Result<Option<Self>, CloudError> {
        let env: &Env = &opts.env;
        let (Some(role_arn), Some(provider_arn), Some(token_file)) = (
            env.get(ENV_ROLE_ARN),
            env.get(ENV_PROVIDER_ARN),
            env.get(ENV_TOKEN_FILE),
        ) else {
            return Ok(None);
        };
        Self::new(
            opts,
            &OidcSettings {
                role_arn,
                provider_arn,
                token_file,
                session_name: env.get(ENV_SESSION_NAME).unwrap_or(""),
                policy: "",
                sts_endpoint: "",
                sts_region: "",
            },
        )
        .map(Some)
    }

    pub fn new(opts: &ChainOptions, s: &OidcSettings<'_>) -> Result<Self, CloudError> {
        Ok(Self {
            sts_url: sts_url(opts, s.sts_endpoint, s.sts_region)?,
            role_arn: s.role_arn.trim().to_owned(),
            provider_arn: s.provider_arn.trim().to_owned(),
            token_file: PathBuf::from(s.token_file.trim()),
            session_name: Some(s.session_name.trim())
                .filter(|n| !n.is_empty())
                .unwrap_or("shipcheck")
                .to_owned(),
            duration_seconds: 3600,
            policy: Some(s.policy.trim().to_owned()).filter(|p| !p.is_empty()),
        })
    }

    /// What the chain calls this source.
    pub fn describe(&self) -> String {
        format!(
            "OIDC role {} (token file {})",
            self.role_arn,
            self.token_file.display()
        )
    }

    pub async fn fetch(&self, transport: &Transport) -> Result<Credentials, CloudError> {
        let token = self.read_token()?;
        let redactor = Redactor::new().with(token.expose());
        redact::remember(&redactor);
        let mut form = vec![
            ("RoleArn", self.role_arn.as_str()),
            ("OIDCProviderArn", self.provider_arn.as_str()),
            ("OIDCToken", token.expose()),
            ("RoleSessionName", self.session_name.as_str()),
        ];
        let duration = self.duration_seconds.to_string();
        form.push(("DurationSeconds", &duration));
        if let Some(policy) = &self.policy {
            form.push(("Policy", policy));
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        transport
            .send(
                "AssumeRoleWithOIDC",
                &transport.retry,
                &Stats::default(),
                || {
                    let mut url = self.sts_url.clone();
                    url.query_pairs_mut()
                        .append_pair("Action", "AssumeRoleWithOIDC")
                        .append_pair("Format", "JSON")
                        .append_pair("Version", STS_VERSION)
                        .append_pair("Timestamp", &format_timestamp(Timestamp::now()));
                    let request = Outgoing {
                        method: reqwest::Method::POST,
                        url,
                        headers: vec![(
                            "content-type".to_owned(),
                            "application/x-www-form-urlencoded".to_owned(),
                        )],
                        body: Some(body.clone()),
                    };
                    let redactor = redactor.clone();
                    async move { Ok((request, redactor)) }
                },
                |answer, redactor| {
                    read_answer(
                        SOURCE,
                        &format!("AssumeRoleWithOIDC {}", self.role_arn),
                        answer,
                        &redactor,
                        |code| {
                            if code.contains("OIDCToken") || code.contains("Token") {
                                "STS refused the OIDC token: it may have expired, or its issuer \
                                 or audience does not match the OIDC provider."
                            } else if code.starts_with("NoPermission") || code.contains("Forbidden")
                            {
                                "The role's trust policy must allow the OIDC provider."
                            } else {
                                "Check ALIBABA_CLOUD_ROLE_ARN and ALIBABA_CLOUD_OIDC_PROVIDER_ARN."
                            }
                        },
                    )
                },
            )
            .await
            .map_err(|e| unreachable(SOURCE, e))
    }

    /// The token as the file holds it now.
    fn read_token(&self) -> Result<Secret, CloudError> {
        let text = std::fs::read_to_string(&self.token_file).map_err(|e| {
            cred_error(
                SOURCE,
                format!(
                    "cannot read the OIDC token file {}: {e}",
                    self.token_file.display()
                ),
                "Check ALIBABA_CLOUD_OIDC_TOKEN_FILE (the pod's or the CI's projected token).",
            )
        })?;
        let token = Secret::new(text.trim());
        if token.is_empty() {
            return Err(cred_error(
                SOURCE,
                format!("the OIDC token file {} is empty", self.token_file.display()),
                "Check ALIBABA_CLOUD_OIDC_TOKEN_FILE.",
            ));
        }
        Ok(token)
    }
}
