//! What the chain reads before any network: a snapshot of the environment,
//! the variable names of each setting, and where each source lives.

use std::collections::HashMap;
use std::path::PathBuf;

use url::Url;

/// The ECS metadata service: plain HTTP on a link-local address, by design.
pub const DEFAULT_IMDS_URL: &str = "http://100.100.100.200/";

/// A snapshot of environment variables, so tests need not touch the process's.
#[derive(Debug, Clone, Default)]
pub struct Env(HashMap<String, String>);

impl Env {
    pub fn from_process() -> Self {
        Self(std::env::vars().collect())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The region the environment names (`ALIBABA_CLOUD_REGION_ID` and the
    /// CLI's other spellings).
    pub fn region(&self) -> Option<String> {
        self.first(ENV_REGION).map(|(_, region)| region)
    }

    /// The first of `names` that is set and not blank, with its value.
    pub fn first(&self, names: &[&str]) -> Option<(String, String)> {
        names.iter().find_map(|name| {
            self.0
                .get(*name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| ((*name).to_owned(), v.trim().to_owned()))
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    pub(super) fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

/// Every spelling the chain reads the access key id from (the SDKs', the
/// CLI's and Terraform's); the secret, token and profile likewise.
pub const ENV_KEY_ID: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABACLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY",
];
pub const ENV_KEY_SECRET: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABACLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_SECRET_KEY",
];
pub const ENV_TOKEN: &[&str] = &[
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABACLOUD_SECURITY_TOKEN",
    "ALICLOUD_SECURITY_TOKEN",
];
pub const ENV_PROFILE: &[&str] = &[
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABACLOUD_PROFILE",
    "ALICLOUD_PROFILE",
];
/// Where the CLI's `config.json` is, instead of `~/.aliyun/config.json`.
pub const ENV_CONFIG_FILE: &str = "ALIBABA_CLOUD_CONFIG_FILE";
/// Where the official libraries' INI file is, instead of
/// `~/.alibabacloud/credentials`.
pub const ENV_CREDENTIALS_FILE: &str = "ALIBABA_CLOUD_CREDENTIALS_FILE";
/// The other variables that choose a credential source.
pub const ENV_SOURCES: &[&str] = &[
    ENV_CONFIG_FILE,
    ENV_CREDENTIALS_FILE,
    "ALIBABA_CLOUD_CREDENTIALS_URI",
    "ALIBABA_CLOUD_ECS_METADATA",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABA_CLOUD_ROLE_SESSION_NAME",
    "ALIBABA_CLOUD_STS_ENDPOINT",
    "ALIBABA_CLOUD_STS_REGION",
    "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
];

/// The variables that hold a secret or a token.
pub fn secret_env_vars() -> impl Iterator<Item = &'static str> {
    ENV_KEY_SECRET.iter().chain(ENV_TOKEN).copied()
}

/// Every variable the chain reads a credential, a profile or a credential
/// source from.
pub fn credential_env_vars() -> impl Iterator<Item = &'static str> {
    [
        ENV_KEY_ID,
        ENV_KEY_SECRET,
        ENV_TOKEN,
        ENV_PROFILE,
        ENV_SOURCES,
    ]
    .into_iter()
    .flatten()
    .copied()
}

const ENV_REGION: &[&str] = &[
    "ALIBABA_CLOUD_REGION_ID",
    "ALIBABACLOUD_REGION_ID",
    "ALICLOUD_REGION_ID",
    "ALICLOUD_REGION",
];

/// How to look for credentials; every outside location can be redirected.
#[derive(Debug, Clone)]
pub struct ChainOptions {
    /// `--profile`: use this profile (and skip the environment's keys).
    pub profile: Option<String>,
    /// The CLI config file; default `~/.aliyun/config.json`.
    pub config_path: Option<PathBuf>,
    pub env: Env,
    /// The ECS metadata service's base URL.
    pub imds_url: Url,
    /// STS's URL, overriding the profile's and the environment's choice.
    pub sts_url: Option<Url>,
}

impl ChainOptions {
    /// The real thing: the process environment and the user's home.
    pub fn from_process(profile: Option<String>) -> Self {
        Self::with_env(profile, Env::from_process())
    }

    pub fn with_env(profile: Option<String>, env: Env) -> Self {
        Self {
            profile,
            config_path: None,
            env,
            imds_url: Url::parse(DEFAULT_IMDS_URL).expect("constant URL"),
            sts_url: None,
        }
    }

    pub(super) fn config_path(&self) -> Option<PathBuf> {
        if let Some(path) = &self.config_path {
            return Some(path.clone());
        }
        // The aliyun CLI's own override of where config.json is.
        if let Some(path) = self.env.get(ENV_CONFIG_FILE).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(path));
        }
        let home = self
            .env
            .get("HOME")
            .or_else(|| self.env.get("USERPROFILE"))?;
        Some(PathBuf::from(home).join(".aliyun").join("config.json"))
    }
}
