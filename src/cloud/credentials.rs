//! Where the access key comes from: the official SDKs' default chain.
//!
//! The order (PROTOCOL.md §4.1, CRED-PY `provider/default.py`):
//!
//! 1. environment: `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `_SECURITY_TOKEN`,
//!    also spelled `ALIBABACLOUD_*`, `ALICLOUD_*` (the CLI) and
//!    `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY` (Terraform);
//! 2. the CLI's `~/.aliyun/config.json`, profile from `--profile`, then
//!    `ALIBABA_CLOUD_PROFILE`, then the file's `current`; modes `AK`,
//!    `StsToken`, `RamRoleArn`, `ChainableRamRoleArn`, `EcsRamRole`,
//!    `CredentialsURI` and `External`;
//! 3. the ECS metadata service (IMDSv2 token first), unless
//!    `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`;
//! 4. `ALIBABA_CLOUD_CREDENTIALS_URI`.
//!
//! Deciding the source reads only the environment and the config file;
//! sources that need the network (STS, the metadata service, a URI, a
//! command) run on first use and again shortly before their credentials
//! expire. Every secret and token is a [`Secret`] from the moment it is read.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use crate::cloud::error::{CloudError, redacted_url};
use crate::cloud::redact::Redactor;
use crate::cloud::sign;
use crate::secret::Secret;

/// Temporary credentials are refreshed this long before they expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(180);
/// The ECS metadata service: plain HTTP on a link-local address, by design.
pub const DEFAULT_IMDS_URL: &str = "http://100.100.100.200/";
/// STS's global endpoint.
pub const DEFAULT_STS_URL: &str = "https://sts.aliyuncs.com/";
/// The metadata service answers fast or not at all (CRED-PY uses 1 s + 1 s).
const IMDS_TIMEOUT: Duration = Duration::from_secs(2);
/// A `process_command` gets this long (the CLI's limit).
const EXTERNAL_TIMEOUT: Duration = Duration::from_secs(60);

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

    fn is_stale(&self, now: Timestamp) -> bool {
        match self.expiration {
            None => false,
            Some(exp) => exp
                .checked_sub(jiff::SignedDuration::try_from(REFRESH_MARGIN).unwrap_or_default())
                .map(|refresh_at| now >= refresh_at)
                .unwrap_or(true),
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

    /// The first of `names` that is set and not blank.
    /// The region the environment names (`ALIBABA_CLOUD_REGION_ID` and the
    /// CLI's other spellings).
    pub fn region(&self) -> Option<String> {
        self.first(ENV_REGION).map(|(_, region)| region)
    }

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

    fn is_true(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }
}

const ENV_KEY_ID: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABACLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY_ID",
    "ALICLOUD_ACCESS_KEY",
];
const ENV_KEY_SECRET: &[&str] = &[
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABACLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_ACCESS_KEY_SECRET",
    "ALICLOUD_SECRET_KEY",
];
const ENV_TOKEN: &[&str] = &[
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABACLOUD_SECURITY_TOKEN",
    "ALICLOUD_SECURITY_TOKEN",
];
const ENV_PROFILE: &[&str] = &[
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABACLOUD_PROFILE",
    "ALICLOUD_PROFILE",
];
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

    fn config_path(&self) -> Option<PathBuf> {
        if let Some(path) = &self.config_path {
            return Some(path.clone());
        }
        let home = self
            .env
            .get("HOME")
            .or_else(|| self.env.get("USERPROFILE"))?;
        Some(PathBuf::from(home).join(".aliyun").join("config.json"))
    }
}

/// One way of obtaining credentials.
#[derive(Debug, Clone)]
enum Plan {
    Static(Credentials),
    AssumeRole(Box<AssumeRole>),
    Imds(Imds),
    Uri(Url),
    External(String),
    /// The chain's network tail: the first that works wins.
    FirstOf(Vec<(String, Plan)>),
}

#[derive(Debug, Clone)]
struct AssumeRole {
    source: Plan,
    sts_url: Url,
    role_arn: String,
    session_name: String,
    duration_seconds: u64,
    external_id: Option<String>,
    policy: Option<String>,
}

#[derive(Debug, Clone)]
struct Imds {
    base: Url,
    role: Option<String>,
    v1_fallback: bool,
}

/// Resolved credentials source, with a cache for temporary credentials.
#[derive(Debug)]
pub struct CredentialProvider {
    plan: Plan,
    /// Human description of the source, for logs and errors.
    source: String,
    region_hint: Option<String>,
    cache: Mutex<Option<Credentials>>,
}

impl CredentialProvider {
    /// Fixed credentials (e.g. the in-process simulator's ephemeral pair).
    pub fn explicit(credentials: Credentials) -> Self {
        Self::new(
            Plan::Static(credentials),
            "explicit credentials".into(),
            None,
        )
    }

    fn new(plan: Plan, source: String, region_hint: Option<String>) -> Self {
        Self {
            plan,
            source,
            region_hint,
            cache: Mutex::new(None),
        }
    }

    /// Walks the chain as far as it can without the network.
    pub fn from_chain(opts: &ChainOptions) -> Result<Self, CloudError> {
        let env = &opts.env;
        let env_region = env.first(ENV_REGION).map(|(_, v)| v);

        // 1. The environment, unless a profile was asked for by name.
        if opts.profile.is_none() {
            let id = env.first(ENV_KEY_ID);
            let secret = env.first(ENV_KEY_SECRET);
            match (id, secret) {
                (Some((id_var, id)), Some((_, secret))) => {
                    let mut creds = Credentials::new(id, secret);
                    if let Some((_, token)) = env.first(ENV_TOKEN) {
                        creds.security_token = Some(Secret::new(token));
                    }
                    let source = format!("environment ({id_var})");
                    return Ok(Self::new(Plan::Static(creds), source, env_region));
                }
                (Some((id_var, _)), None) => {
                    return Err(cred_error(
                        "environment",
                        format!("{id_var} is set but no access key secret is"),
                        "Set ALIBABA_CLOUD_ACCESS_KEY_SECRET too, or unset the key id.",
                    ));
                }
                _ => {}
            }
        }

        // 2. The CLI's profile file.
        let profiles_disabled = env.is_true("ALIBABA_CLOUD_CLI_PROFILE_DISABLED")
            || env.is_true("ALIBABA_CLOUD_IGNORE_PROFILE");
        if (!profiles_disabled || opts.profile.is_some())
            && let Some(found) = ProfileFile::load_for(opts)?
        {
            return found.into_provider(opts, env_region);
        }

        // 3 and 4. The network tail.
        let mut tail = Vec::new();
        if !env.is_true("ALIBABA_CLOUD_ECS_METADATA_DISABLED") {
            tail.push((
                "the ECS metadata service".to_owned(),
                Plan::Imds(Imds {
                    base: opts.imds_url.clone(),
                    role: env.get("ALIBABA_CLOUD_ECS_METADATA").map(str::to_owned),
                    v1_fallback: !env.is_true("ALIBABA_CLOUD_IMDSV1_DISABLED"),
                }),
            ));
        }
        if let Some(uri) = env.get("ALIBABA_CLOUD_CREDENTIALS_URI") {
            let url = parse_source_url(uri, "ALIBABA_CLOUD_CREDENTIALS_URI")?;
            tail.push(("ALIBABA_CLOUD_CREDENTIALS_URI".to_owned(), Plan::Uri(url)));
        }
        if tail.is_empty() {
            return Err(no_credentials());
        }
        let source = tail
            .iter()
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(", then ");
        Ok(Self::new(Plan::FirstOf(tail), source, env_region))
    }

    /// Where the credentials come from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The region named by the environment or the profile, if any.
    pub fn region_hint(&self) -> Option<&str> {
        self.region_hint.as_deref()
    }

    /// Current credentials, fetched or refreshed when needed.
    ///
    /// One caller fetches while the others wait, so a refresh happens once.
    pub async fn get(&self, http: &reqwest::Client) -> Result<Credentials, CloudError> {
        let mut cache = self.cache.lock().await;
        if let Some(creds) = cache.as_ref()
            && !creds.is_stale(Timestamp::now())
        {
            return Ok(creds.clone());
        }
        tracing::debug!(source = %self.source, "fetching credentials");
        let fresh = self.plan.fetch(http).await?;
        *cache = Some(fresh.clone());
        Ok(fresh)
    }

    /// What may be shown about the current credentials.
    pub async fn info(&self, http: &reqwest::Client) -> Result<CredentialInfo, CloudError> {
        let creds = self.get(http).await?;
        Ok(CredentialInfo {
            access_key_id: creds.access_key_id,
            source: self.source.clone(),
            temporary: creds.security_token.is_some(),
            expiration: creds.expiration,
        })
    }
}

fn no_credentials() -> CloudError {
    cred_error(
        "the default chain",
        "no credentials found: the environment has no access key, there is no usable \
         ~/.aliyun/config.json profile, and the metadata service is disabled"
            .to_owned(),
        "Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run \
         `aliyun configure`, or pass --profile.",
    )
}

fn cred_error(source: &str, detail: String, help: &str) -> CloudError {
    CloudError::Credentials {
        source_name: source.to_owned(),
        detail,
        help: help.to_owned(),
    }
}

fn parse_source_url(text: &str, what: &str) -> Result<Url, CloudError> {
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

/// `~/.aliyun/config.json` (CLI `config/configuration.go`).
#[derive(Debug, Deserialize, Default)]
struct ProfileFile {
    #[serde(default)]
    current: Option<String>,
    #[serde(default)]
    profiles: Vec<Profile>,
    #[serde(skip)]
    path: PathBuf,
}

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(default)]
struct Profile {
    name: String,
    mode: String,
    access_key_id: String,
    access_key_secret: Option<Secret>,
    sts_token: Option<Secret>,
    sts_region: String,
    sts_endpoint: String,
    ram_role_name: String,
    ram_role_arn: String,
    ram_session_name: String,
    external_id: String,
    source_profile: String,
    expired_seconds: Option<u64>,
    region_id: String,
    process_command: String,
    credentials_uri: String,
}

/// A profile chosen from the file, with the file for `source_profile` lookups.
struct FoundProfile {
    file: ProfileFile,
    name: String,
}

impl ProfileFile {
    /// Loads the file and picks the profile; `None` when the chain should move on.
    fn load_for(opts: &ChainOptions) -> Result<Option<FoundProfile>, CloudError> {
        let requested = opts.profile.clone().map(|p| (p, "--profile")).or_else(|| {
            opts.env
                .first(ENV_PROFILE)
                .map(|(_, v)| (v, "ALIBABA_CLOUD_PROFILE"))
        });
        let Some(path) = opts.config_path() else {
            return match requested {
                Some((name, via)) => Err(profile_missing(&name, via, "(no home directory)")),
                None => Ok(None),
            };
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return match requested {
                    Some((name, via)) => {
                        Err(profile_missing(&name, via, &path.display().to_string()))
                    }
                    None => Ok(None),
                };
            }
            Err(e) => {
                return Err(cred_error(
                    "the CLI config file",
                    format!("cannot read {}: {e}", path.display()),
                    "Fix the file's permissions, or set ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true.",
                ));
            }
        };
        let mut file: ProfileFile = serde_json::from_str(&text).map_err(|e| {
            cred_error(
                "the CLI config file",
                format!("{} is not valid JSON: {e}", path.display()),
                "Fix the file (`aliyun configure` rewrites it), or set \
                 ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true.",
            )
        })?;
        file.path = path;
        let name = match requested {
            Some((name, via)) => {
                if !file.profiles.iter().any(|p| p.name == name) {
                    return Err(file.unknown_profile(&name, via));
                }
                name
            }
            None => match file.current.clone().filter(|c| !c.is_empty()) {
                Some(current) => {
                    if !file.profiles.iter().any(|p| p.name == current) {
                        return Err(file.unknown_profile(&current, "the file's `current`"));
                    }
                    current
                }
                None if file.profiles.iter().any(|p| p.name == "default") => "default".to_owned(),
                None => return Ok(None),
            },
        };
        Ok(Some(FoundProfile { file, name }))
    }

    fn unknown_profile(&self, name: &str, via: &str) -> CloudError {
        let names: Vec<&str> = self.profiles.iter().map(|p| p.name.as_str()).collect();
        cred_error(
            "the CLI config file",
            format!(
                "profile `{name}` (from {via}) is not in {}",
                self.path.display()
            ),
            &format!(
                "Known profiles: {}. Create it with `aliyun configure --profile {name}`.",
                if names.is_empty() {
                    "none".to_owned()
                } else {
                    names.join(", ")
                }
            ),
        )
    }

    fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }
}

fn profile_missing(name: &str, via: &str, path: &str) -> CloudError {
    cred_error(
        "the CLI config file",
        format!("profile `{name}` (from {via}) was asked for, but {path} does not exist"),
        "Create it with `aliyun configure`, or point shipcheck at another source.",
    )
}

impl FoundProfile {
    fn into_provider(
        self,
        opts: &ChainOptions,
        env_region: Option<String>,
    ) -> Result<CredentialProvider, CloudError> {
        let profile = self
            .file
            .profile(&self.name)
            .expect("chosen from the file")
            .clone();
        let region =
            env_region.or_else(|| Some(profile.region_id.clone()).filter(|r| !r.is_empty()));
        let plan = self.plan_for(&profile, opts, &mut Vec::new())?;
        let source = format!(
            "profile `{}` ({}) in {}",
            profile.name,
            profile.mode,
            self.file.path.display()
        );
        Ok(CredentialProvider::new(plan, source, region))
    }

    fn plan_for(
        &self,
        p: &Profile,
        opts: &ChainOptions,
        seen: &mut Vec<String>,
    ) -> Result<Plan, CloudError> {
        if seen.contains(&p.name) {
            return Err(self.bad(
                p,
                format!("source_profile loops back to `{}`", p.name),
                "Break the cycle of source_profile references.",
            ));
        }
        seen.push(p.name.clone());
        let mode = p.mode.to_ascii_lowercase();
        match mode.as_str() {
            "ak" | "" => Ok(Plan::Static(self.access_key(p, false)?)),
            "ststoken" => Ok(Plan::Static(self.access_key(p, true)?)),
            "ramrolearn" => {
                let source = Plan::Static(self.access_key(p, false)?);
                Ok(Plan::AssumeRole(Box::new(
                    self.assume_role(p, source, opts)?,
                )))
            }
            "chainableramrolearn" => {
                let source_profile = self.file.profile(&p.source_profile).ok_or_else(|| {
                    self.bad(
                        p,
                        format!("source_profile `{}` is not in the file", p.source_profile),
                        "Set source_profile to an existing profile.",
                    )
                })?;
                let source = self.plan_for(source_profile, opts, seen)?;
                Ok(Plan::AssumeRole(Box::new(
                    self.assume_role(p, source, opts)?,
                )))
            }
            "ecsramrole" => Ok(Plan::Imds(Imds {
                base: opts.imds_url.clone(),
                role: Some(p.ram_role_name.clone()).filter(|r| !r.is_empty()),
                v1_fallback: !opts.env.is_true("ALIBABA_CLOUD_IMDSV1_DISABLED"),
            })),
            "credentialsuri" => {
                if p.credentials_uri.is_empty() {
                    return Err(self.bad(
                        p,
                        "mode CredentialsURI without credentials_uri".into(),
                        "Set credentials_uri.",
                    ));
                }
                Ok(Plan::Uri(parse_source_url(
                    &p.credentials_uri,
                    "credentials_uri",
                )?))
            }
            "external" => {
                if p.process_command.trim().is_empty() {
                    return Err(self.bad(
                        p,
                        "mode External without process_command".into(),
                        "Set process_command.",
                    ));
                }
                Ok(Plan::External(p.process_command.clone()))
            }
            _ => Err(self.bad(
                p,
                format!("mode `{}` is not supported by shipcheck", p.mode),
                "Supported modes: AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, \
                 CredentialsURI, External. Use environment variables or another profile.",
            )),
        }
    }

    fn access_key(&self, p: &Profile, with_token: bool) -> Result<Credentials, CloudError> {
        let secret = p.access_key_secret.clone().filter(|s| !s.is_empty());
        let (id, secret) = match (p.access_key_id.trim(), secret) {
            (id, Some(secret)) if !id.is_empty() => (id.to_owned(), secret),
            _ => {
                return Err(self.bad(
                    p,
                    "access_key_id or access_key_secret is empty".into(),
                    "Run `aliyun configure` for this profile.",
                ));
            }
        };
        let mut creds = Credentials::new(id, secret);
        if with_token {
            match p.sts_token.clone().filter(|t| !t.is_empty()) {
                Some(token) => creds.security_token = Some(token),
                None => {
                    return Err(self.bad(
                        p,
                        "mode StsToken without sts_token".into(),
                        "Set sts_token.",
                    ));
                }
            }
        }
        Ok(creds)
    }

    fn assume_role(
        &self,
        p: &Profile,
        source: Plan,
        opts: &ChainOptions,
    ) -> Result<AssumeRole, CloudError> {
        if p.ram_role_arn.trim().is_empty() {
            return Err(self.bad(
                p,
                format!("mode {} without ram_role_arn", p.mode),
                "Set ram_role_arn.",
            ));
        }
        Ok(AssumeRole {
            source,
            sts_url: sts_url(opts, p)?,
            role_arn: p.ram_role_arn.trim().to_owned(),
            session_name: Some(p.ram_session_name.clone())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "shipcheck".to_owned()),
            duration_seconds: p
                .expired_seconds
                .filter(|s| *s > 0)
                .unwrap_or(3600)
                .max(900),
            external_id: Some(p.external_id.clone()).filter(|s| !s.is_empty()),
            policy: None,
        })
    }

    fn bad(&self, p: &Profile, detail: String, help: &str) -> CloudError {
        cred_error(
            "the CLI config file",
            format!(
                "profile `{}` in {}: {detail}",
                p.name,
                self.file.path.display()
            ),
            help,
        )
    }
}

/// STS's URL: the test override, `ALIBABA_CLOUD_STS_ENDPOINT`, the profile's
/// `sts_endpoint`, a regional one from `sts_region`/`ALIBABA_CLOUD_STS_REGION`,
/// else the global endpoint.
fn sts_url(opts: &ChainOptions, p: &Profile) -> Result<Url, CloudError> {
    if let Some(url) = &opts.sts_url {
        return Ok(url.clone());
    }
    let endpoint = opts
        .env
        .get("ALIBABA_CLOUD_STS_ENDPOINT")
        .map(str::to_owned)
        .or_else(|| Some(p.sts_endpoint.clone()).filter(|s| !s.is_empty()));
    let endpoint = endpoint.or_else(|| {
        let region = opts
            .env
            .get("ALIBABA_CLOUD_STS_REGION")
            .map(str::to_owned)
            .or_else(|| Some(p.sts_region.clone()).filter(|s| !s.is_empty()))?;
        let vpc = if opts.env.is_true("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED") {
            "-vpc"
        } else {
            ""
        };
        Some(format!("sts{vpc}.{region}.aliyuncs.com"))
    });
    match endpoint {
        Some(e) => crate::cloud::endpoint::parse_endpoint(&e),
        None => Ok(Url::parse(DEFAULT_STS_URL).expect("constant URL")),
    }
}

impl Plan {
    fn fetch<'a>(
        &'a self,
        http: &'a reqwest::Client,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Credentials, CloudError>> + Send + 'a>,
    > {
        Box::pin(async move {
            match self {
                Plan::Static(creds) => Ok(creds.clone()),
                Plan::AssumeRole(role) => role.fetch(http).await,
                Plan::Imds(imds) => imds.fetch(http).await,
                Plan::Uri(url) => fetch_uri(http, url).await,
                Plan::External(command) => run_external(command).await,
                Plan::FirstOf(plans) => {
                    let mut failures = Vec::new();
                    for (name, plan) in plans {
                        match plan.fetch(http).await {
                            Ok(creds) => return Ok(creds),
                            Err(e) => {
                                tracing::debug!(source = %name, error = %e, "credential source failed");
                                failures.push(format!("{name}: {e}"));
                            }
                        }
                    }
                    Err(cred_error(
                        "the default chain",
                        format!(
                            "no credentials found (no access key in the environment, no \
                             ~/.aliyun/config.json profile; {})",
                            failures.join("; ")
                        ),
                        "Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, \
                         or run `aliyun configure`, or pass --profile.",
                    ))
                }
            }
        })
    }
}

/// The JSON shape shared by the metadata service and credentials URIs.
#[derive(Deserialize)]
struct RemoteCredentials {
    #[serde(rename = "Code", default)]
    code: Option<String>,
    #[serde(rename = "AccessKeyId", default)]
    access_key_id: Option<String>,
    #[serde(rename = "AccessKeySecret", default)]
    access_key_secret: Option<Secret>,
    #[serde(rename = "SecurityToken", default)]
    security_token: Option<Secret>,
    #[serde(rename = "Expiration", default)]
    expiration: Option<String>,
}

impl RemoteCredentials {
    fn into_credentials(
        self,
        source: &str,
        require_success: bool,
    ) -> Result<Credentials, CloudError> {
        if require_success && self.code.as_deref() != Some("Success") {
            return Err(cred_error(
                source,
                format!(
                    "{source} answered Code={}",
                    self.code.as_deref().unwrap_or("(none)")
                ),
                "Check that the source is healthy and the role is attached.",
            ));
        }
        let (Some(id), Some(secret)) = (self.access_key_id, self.access_key_secret) else {
            return Err(cred_error(
                source,
                format!("{source} answered without AccessKeyId/AccessKeySecret"),
                "Check the credentials source.",
            ));
        };
        Ok(Credentials {
            access_key_id: id,
            access_key_secret: secret,
            security_token: self.security_token.filter(|t| !t.is_empty()),
            expiration: parse_expiration(self.expiration.as_deref(), source)?,
        })
    }
}

fn parse_expiration(text: Option<&str>, source: &str) -> Result<Option<Timestamp>, CloudError> {
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

fn http_error(source: &str, url: &Url, err: reqwest::Error) -> CloudError {
    cred_error(
        source,
        format!(
            "{source} at {} failed: {}",
            redacted_url(url),
            err.without_url()
        ),
        "Check that the source is reachable from this machine.",
    )
}

async fn read_body(
    source: &str,
    url: &Url,
    resp: reqwest::Response,
) -> Result<(u16, String), CloudError> {
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| http_error(source, url, e))?;
    Ok((status, body))
}

impl Imds {
    async fn fetch(&self, http: &reqwest::Client) -> Result<Credentials, CloudError> {
        const SOURCE: &str = "the ECS metadata service";
        let token_url = self.base.join("latest/api/token").expect("relative URL");
        let token = match http
            .put(token_url.clone())
            .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
            .timeout(IMDS_TIMEOUT)
            .send()
            .await
        {
            Ok(resp) if resp.status().is_success() => {
                let (_, body) = read_body(SOURCE, &token_url, resp).await?;
                Some(Secret::new(body.trim()))
            }
            Ok(resp) if self.v1_fallback => {
                tracing::debug!(
                    status = resp.status().as_u16(),
                    "no IMDSv2 token; falling back to IMDSv1"
                );
                None
            }
            Err(e) if self.v1_fallback && !e.is_connect() && !e.is_timeout() => None,
            Ok(resp) => {
                return Err(cred_error(
                    SOURCE,
                    format!(
                        "the IMDSv2 token request answered HTTP {}",
                        resp.status().as_u16()
                    ),
                    "IMDSv1 fallback is disabled (ALIBABA_CLOUD_IMDSV1_DISABLED=true); check the \
                     instance's metadata options.",
                ));
            }
            Err(e) => return Err(http_error(SOURCE, &token_url, e)),
        };
        let with_token = |req: reqwest::RequestBuilder| match &token {
            Some(t) => req.header("X-aliyun-ecs-metadata-token", t.expose()),
            None => req,
        };
        let roles_url = self
            .base
            .join("latest/meta-data/ram/security-credentials/")
            .expect("relative URL");
        let role = match &self.role {
            Some(role) => role.clone(),
            None => {
                let resp = with_token(http.get(roles_url.clone()).timeout(IMDS_TIMEOUT))
                    .send()
                    .await
                    .map_err(|e| http_error(SOURCE, &roles_url, e))?;
                let (status, body) = read_body(SOURCE, &roles_url, resp).await?;
                let role = body.lines().next().unwrap_or_default().trim().to_owned();
                if status != 200 || role.is_empty() {
                    return Err(cred_error(
                        SOURCE,
                        format!("no RAM role is attached to this instance (HTTP {status})"),
                        "Attach a RAM role to the instance, or use another credentials source.",
                    ));
                }
                role
            }
        };
        let creds_url = roles_url.join(&role).map_err(|e| {
            cred_error(
                SOURCE,
                format!("role name `{role}` is not usable in a URL: {e}"),
                "Check the role name.",
            )
        })?;
        let resp = with_token(http.get(creds_url.clone()).timeout(IMDS_TIMEOUT))
            .send()
            .await
            .map_err(|e| http_error(SOURCE, &creds_url, e))?;
        let (status, body) = read_body(SOURCE, &creds_url, resp).await?;
        if status != 200 {
            return Err(cred_error(
                SOURCE,
                format!("credentials for role `{role}` answered HTTP {status}"),
                "Check that the role name is the one attached to the instance.",
            ));
        }
        let remote: RemoteCredentials = serde_json::from_str(&body).map_err(|e| {
            cred_error(
                SOURCE,
                format!("unreadable credentials for role `{role}`: {e}"),
                "Check the metadata service.",
            )
        })?;
        remote.into_credentials(SOURCE, true)
    }
}

async fn fetch_uri(http: &reqwest::Client, url: &Url) -> Result<Credentials, CloudError> {
    const SOURCE: &str = "the credentials URI";
    let resp = http
        .get(url.clone())
        .send()
        .await
        .map_err(|e| http_error(SOURCE, url, e))?;
    let (status, body) = read_body(SOURCE, url, resp).await?;
    if status != 200 {
        return Err(cred_error(
            SOURCE,
            format!("{} answered HTTP {status}", redacted_url(url)),
            "Check the credentials URI service.",
        ));
    }
    let remote: RemoteCredentials = serde_json::from_str(&body).map_err(|e| {
        cred_error(
            SOURCE,
            format!("{} did not answer credentials JSON: {e}", redacted_url(url)),
            "Check the credentials URI service.",
        )
    })?;
    remote.into_credentials(SOURCE, true)
}

/// What a `process_command` prints (CLI `External` mode).
#[derive(Deserialize)]
struct ExternalOutput {
    #[serde(default)]
    mode: String,
    access_key_id: Option<String>,
    access_key_secret: Option<Secret>,
    #[serde(default)]
    sts_token: Option<Secret>,
    #[serde(default)]
    expiration: Option<serde_json::Value>,
}

async fn run_external(command: &str) -> Result<Credentials, CloudError> {
    const SOURCE: &str = "process_command";
    let mut cmd = if cfg!(windows) {
        let mut c = tokio::process::Command::new("cmd");
        c.arg("/C").arg(command);
        c
    } else {
        let mut c = tokio::process::Command::new("sh");
        c.arg("-c").arg(command);
        c
    };
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        cred_error(
            SOURCE,
            format!("cannot run process_command: {e}"),
            "Check the profile's process_command.",
        )
    })?;
    let output = tokio::time::timeout(EXTERNAL_TIMEOUT, child.wait_with_output())
        .await
        .map_err(|_| {
            cred_error(
                SOURCE,
                format!(
                    "process_command did not finish within {}s",
                    EXTERNAL_TIMEOUT.as_secs()
                ),
                "Check that the command runs without prompting.",
            )
        })?
        .map_err(|e| {
            cred_error(
                SOURCE,
                format!("process_command failed: {e}"),
                "Check the command.",
            )
        })?;
    if !output.status.success() {
        return Err(cred_error(
            SOURCE,
            format!("process_command exited with {}", output.status),
            "Run the command by hand to see why (its stderr is shown above).",
        ));
    }
    // Never echo stdout: it holds the secret.
    let parsed: ExternalOutput = serde_json::from_slice(&output.stdout).map_err(|e| {
        cred_error(
            SOURCE,
            format!("process_command did not print credentials JSON (line {}, column {})", e.line(), e.column()),
            "It must print {\"mode\": \"AK\"|\"StsToken\", \"access_key_id\", \"access_key_secret\", \"sts_token\"}.",
        )
    })?;
    let (Some(id), Some(secret)) = (parsed.access_key_id, parsed.access_key_secret) else {
        return Err(cred_error(
            SOURCE,
            "process_command printed no access_key_id/access_key_secret".into(),
            "Fix the command's output.",
        ));
    };
    let mut creds = Credentials::new(id, secret);
    if parsed.mode.eq_ignore_ascii_case("StsToken") {
        creds.security_token = parsed.sts_token.filter(|t| !t.is_empty());
        if creds.security_token.is_none() {
            return Err(cred_error(
                SOURCE,
                "mode StsToken without sts_token".into(),
                "Fix the command's output.",
            ));
        }
    }
    creds.expiration = match parsed.expiration {
        Some(serde_json::Value::String(s)) => parse_expiration(Some(&s), SOURCE)?,
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .and_then(|secs| Timestamp::from_second(secs).ok()),
        _ => None,
    };
    Ok(creds)
}

impl AssumeRole {
    async fn fetch(&self, http: &reqwest::Client) -> Result<Credentials, CloudError> {
        const SOURCE: &str = "STS AssumeRole";
        let source = self.source.fetch(http).await?;
        let mut params: Vec<(String, String)> = vec![
            ("Action".into(), "AssumeRole".into()),
            ("Format".into(), "JSON".into()),
            ("Version".into(), "2015-04-01".into()),
            ("AccessKeyId".into(), source.access_key_id.clone()),
            ("SignatureMethod".into(), "HMAC-SHA1".into()),
            ("SignatureVersion".into(), "1.0".into()),
            ("SignatureNonce".into(), crate::cloud::http::new_nonce()),
            (
                "Timestamp".into(),
                crate::cloud::http::timestamp(Timestamp::now()),
            ),
            ("DurationSeconds".into(), self.duration_seconds.to_string()),
            ("RoleArn".into(), self.role_arn.clone()),
            ("RoleSessionName".into(), self.session_name.clone()),
        ];
        if let Some(token) = &source.security_token {
            params.push(("SecurityToken".into(), token.expose().to_owned()));
        }
        if let Some(id) = &self.external_id {
            params.push(("ExternalId".into(), id.clone()));
        }
        if let Some(policy) = &self.policy {
            params.push(("Policy".into(), policy.clone()));
        }
        let string_to_sign = sign::v1_string_to_sign("GET", &params);
        let signature = sign::v1_signature(source.access_key_secret.expose(), &string_to_sign);
        params.push(("Signature".into(), signature.clone()));
        let mut url = self.sts_url.clone();
        url.set_query(Some(&sign::canonical_query(&params)));
        let redactor = source.redactor().with(&signature);
        let resp = http
            .get(url)
            .send()
            .await
            .map_err(|e| http_error(SOURCE, &self.sts_url, e))?;
        let (status, body) = read_body(SOURCE, &self.sts_url, resp).await?;
        if !(200..300).contains(&status) {
            let envelope: crate::cloud::wire::ErrorEnvelope =
                serde_json::from_str(&body).unwrap_or_default();
            let code = envelope.code.unwrap_or_else(|| format!("HTTP {status}"));
            let message = redactor.apply(envelope.message.as_deref().unwrap_or(""));
            let help = if code.starts_with("NoPermission") || code.contains("Forbidden") {
                "The source identity needs `sts:AssumeRole` on the role, and the role's trust \
                 policy must allow it."
            } else if code.contains("Signature") || code.contains("AccessKeyId") {
                "The source access key of this profile is wrong."
            } else {
                "Check ram_role_arn and the source credentials of the profile."
            };
            return Err(cred_error(
                SOURCE,
                format!(
                    "AssumeRole {} failed: {code} (HTTP {status}): {message}{}",
                    self.role_arn,
                    envelope
                        .request_id
                        .map(|r| format!(" [request id {r}]"))
                        .unwrap_or_default()
                ),
                help,
            ));
        }
        #[derive(Deserialize)]
        struct AssumeRoleResponse {
            #[serde(rename = "Credentials")]
            credentials: RemoteCredentials,
        }
        let parsed: AssumeRoleResponse = serde_json::from_str(&body).map_err(|e| {
            cred_error(
                SOURCE,
                format!("unreadable AssumeRole response: {e}"),
                "Check the STS endpoint.",
            )
        })?;
        parsed.credentials.into_credentials(SOURCE, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(
        env: &[(&str, &str)],
        profile: Option<&str>,
        config: Option<&std::path::Path>,
    ) -> ChainOptions {
        let mut o = ChainOptions::with_env(
            profile.map(str::to_owned),
            Env::from_pairs(env.iter().copied()),
        );
        o.config_path = Some(
            config
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/nonexistent/config.json")),
        );
        o
    }

    fn static_creds(p: &CredentialProvider) -> &Credentials {
        match &p.plan {
            Plan::Static(c) => c,
            other => panic!("expected static credentials, got {other:?}"),
        }
    }

    #[test]
    fn environment_spellings_in_the_cli_order() {
        let p = CredentialProvider::from_chain(&opts(
            &[
                ("ALICLOUD_ACCESS_KEY_ID", "id-alicloud"),
                ("ALICLOUD_ACCESS_KEY_SECRET", "s-alicloud"),
                ("ALIBABACLOUD_ACCESS_KEY_ID", "id-alibabacloud"),
                ("ALIBABACLOUD_ACCESS_KEY_SECRET", "s-alibabacloud"),
            ],
            None,
            None,
        ))
        .unwrap();
        assert_eq!(static_creds(&p).access_key_id, "id-alibabacloud");
        assert!(p.source().contains("ALIBABACLOUD_ACCESS_KEY_ID"));

        let p = CredentialProvider::from_chain(&opts(
            &[
                ("ALICLOUD_ACCESS_KEY", "tf-id"),
                ("ALICLOUD_SECRET_KEY", "tf-secret"),
                ("ALICLOUD_SECURITY_TOKEN", "tf-token"),
                ("ALICLOUD_REGION", "cn-beijing"),
            ],
            None,
            None,
        ))
        .unwrap();
        let c = static_creds(&p);
        assert_eq!(c.access_key_id, "tf-id");
        assert_eq!(c.access_key_secret.expose(), "tf-secret");
        assert_eq!(c.security_token.as_ref().unwrap().expose(), "tf-token");
        assert_eq!(p.region_hint(), Some("cn-beijing"));
    }

    #[test]
    fn a_key_id_without_secret_is_an_error() {
        let err = CredentialProvider::from_chain(&opts(
            &[("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")],
            None,
            None,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("no access key secret"), "{err}");
    }

    #[test]
    fn nothing_configured_and_metadata_disabled() {
        let err = CredentialProvider::from_chain(&opts(
            &[("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")],
            None,
            None,
        ))
        .unwrap_err();
        assert!(err.to_string().contains("no credentials found"), "{err}");
    }

    #[test]
    fn profiles_by_flag_env_and_current() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"current": "dev", "profiles": [
                {"name": "dev", "mode": "AK", "access_key_id": "dev-id", "access_key_secret": "dev-secret", "region_id": "cn-shanghai"},
                {"name": "ops", "mode": "StsToken", "access_key_id": "ops-id", "access_key_secret": "ops-secret", "sts_token": "ops-token"},
                {"name": "sso", "mode": "CloudSSO"},
                {"name": "empty", "mode": "AK", "access_key_id": "", "access_key_secret": ""}
            ]}"#,
        )
        .unwrap();
        let env_keys = [
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
        ];

        // current, when nothing else is asked for and the environment is empty
        let p = CredentialProvider::from_chain(&opts(&[], None, Some(&path))).unwrap();
        assert_eq!(static_creds(&p).access_key_id, "dev-id");
        assert_eq!(p.region_hint(), Some("cn-shanghai"));
        // the environment comes first...
        let p = CredentialProvider::from_chain(&opts(&env_keys, None, Some(&path))).unwrap();
        assert_eq!(static_creds(&p).access_key_id, "env-id");
        // ...unless --profile names one
        let p = CredentialProvider::from_chain(&opts(&env_keys, Some("ops"), Some(&path))).unwrap();
        let c = static_creds(&p);
        assert_eq!(
            (
                c.access_key_id.as_str(),
                c.security_token.as_ref().unwrap().expose()
            ),
            ("ops-id", "ops-token")
        );
        // ALIBABA_CLOUD_PROFILE picks too
        let p = CredentialProvider::from_chain(&opts(
            &[("ALIBABA_CLOUD_PROFILE", "ops")],
            None,
            Some(&path),
        ))
        .unwrap();
        assert_eq!(static_creds(&p).access_key_id, "ops-id");

        let err =
            CredentialProvider::from_chain(&opts(&[], Some("nope"), Some(&path))).unwrap_err();
        let shown = err.to_string();
        let text = format!("{shown} {:?}", miette::Report::new(err));
        assert!(
            text.contains("profile `nope`") && text.contains("dev, ops"),
            "{text}"
        );
        let err = CredentialProvider::from_chain(&opts(&[], Some("sso"), Some(&path))).unwrap_err();
        assert!(
            err.to_string().contains("mode `CloudSSO` is not supported"),
            "{err}"
        );
        let err =
            CredentialProvider::from_chain(&opts(&[], Some("empty"), Some(&path))).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = CredentialProvider::from_chain(&opts(&[], Some("dev"), None)).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn a_broken_config_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = CredentialProvider::from_chain(&opts(&[], None, Some(&path))).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        // ... unless profiles are disabled
        let p = CredentialProvider::from_chain(&opts(
            &[("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")],
            None,
            Some(&path),
        ));
        assert!(matches!(p.unwrap().plan, Plan::FirstOf(_)));
    }

    #[test]
    fn chainable_profiles_detect_cycles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"profiles": [
                {"name": "a", "mode": "ChainableRamRoleArn", "source_profile": "b", "ram_role_arn": "acs:ram::1:role/a"},
                {"name": "b", "mode": "ChainableRamRoleArn", "source_profile": "a", "ram_role_arn": "acs:ram::1:role/b"}
            ]}"#,
        )
        .unwrap();
        let err = CredentialProvider::from_chain(&opts(&[], Some("a"), Some(&path))).unwrap_err();
        assert!(err.to_string().contains("loops back"), "{err}");
    }

    #[test]
    fn sts_endpoint_choice() {
        let p = Profile {
            sts_region: "cn-shanghai".into(),
            ..Profile::default()
        };
        let o = opts(&[], None, None);
        assert_eq!(
            sts_url(&o, &p).unwrap().as_str(),
            "https://sts.cn-shanghai.aliyuncs.com/"
        );
        let o = opts(
            &[("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true")],
            None,
            None,
        );
        assert_eq!(
            sts_url(&o, &p).unwrap().as_str(),
            "https://sts-vpc.cn-shanghai.aliyuncs.com/"
        );
        let o = opts(&[], None, None);
        assert_eq!(
            sts_url(&o, &Profile::default()).unwrap().as_str(),
            DEFAULT_STS_URL
        );
    }

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
