//! The CLI's profiles: `~/.aliyun/config.json` (CLI `config/configuration.go`).
//!
//! The profile comes from `--profile`, then `ALIBABA_CLOUD_PROFILE`, then
//! the file's `current`; modes `AK`, `StsToken`, `RamRoleArn`,
//! `ChainableRamRoleArn`, `EcsRamRole`, `OIDC`, `CredentialsURI` and `External`
//! become plans, the other modes an error that says so. A profile without
//! `mode` gets the one its fields name, as the CLI's `AutoModeRecognition`
//! does: taking it as AK would drop an STS profile's token.

use std::path::PathBuf;

use serde::Deserialize;

use super::env::{ChainOptions, ENV_PROFILE};
use super::imds::Imds;
use super::key::{Credentials, cred_error};
use super::oidc::{AssumeRoleWithOidc, OidcSettings};
use super::plan::{Plan, Resolved};
use super::sts::{AssumeRole, sts_url};
use super::uri::parse_source_url;
use crate::cloud::error::CloudError;
use crate::secret::Secret;

/// `~/.aliyun/config.json` (CLI `config/configuration.go`).
#[derive(Debug, Deserialize, Default)]
pub(super) struct ProfileFile {
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
    oidc_provider_arn: String,
    oidc_token_file: String,
}

impl Profile {
    /// `mode`, or when it is empty the mode the fields name (the CLI's
    /// `AutoModeRecognition`): a key pair with `sts_token` is StsToken, with
    /// `ram_role_arn` RamRoleArn, alone AK; else `ram_role_name` is
    /// EcsRamRole, `process_command` External, the OIDC fields OIDC. A
    /// profile naming none is taken as AK, whose empty key then says so.
    fn effective_mode(&self) -> &str {
        if !self.mode.is_empty() {
            return &self.mode;
        }
        let has = |field: &str| !field.trim().is_empty();
        let secret = self
            .access_key_secret
            .as_ref()
            .is_some_and(|s| !s.is_empty());
        let token = self.sts_token.as_ref().is_some_and(|t| !t.is_empty());
        if has(&self.access_key_id) && secret {
            if token {
                "StsToken"
            } else if has(&self.ram_role_arn) {
                "RamRoleArn"
            } else {
                "AK"
            }
        } else if has(&self.ram_role_name) {
            "EcsRamRole"
        } else if has(&self.process_command) {
            "External"
        } else if has(&self.oidc_provider_arn)
            && has(&self.oidc_token_file)
            && has(&self.ram_role_arn)
        {
            "OIDC"
        } else {
            "AK"
        }
    }
}

/// A profile chosen from the file, with the file for `source_profile` lookups.
pub(super) struct FoundProfile {
    file: ProfileFile,
    name: String,
}

impl ProfileFile {
    /// Loads the file and picks the profile; `None` when the chain should move on.
    pub fn load_for(opts: &ChainOptions) -> Result<Option<FoundProfile>, CloudError> {
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
    /// The plan this profile stands for, with its description and region.
    pub fn resolve(
        self,
        opts: &ChainOptions,
        env_region: Option<String>,
    ) -> Result<Resolved, CloudError> {
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
            profile.effective_mode(),
            self.file.path.display()
        );
        Ok(Resolved {
            plan,
            source,
            region_hint: region,
        })
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
        let mode = p.effective_mode().to_ascii_lowercase();
        match mode.as_str() {
            "ak" => Ok(Plan::Static(self.access_key(p, false)?)),
            "ststoken" => Ok(Plan::Static(self.access_key(p, true)?)),
            "ramrolearn" => {
                let source = Plan::Static(self.access_key(p, false)?);
                self.assume_role(p, source, opts)
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
                self.assume_role(p, source, opts)
            }
            "ecsramrole" => Ok(Plan::Imds(Imds {
                base: opts.imds_url.clone(),
                role: Some(p.ram_role_name.clone()).filter(|r| !r.is_empty()),
                v1_fallback: !opts.env.is_true("ALIBABA_CLOUD_IMDSV1_DISABLED"),
            })),
            "oidc" => {
                for (key, value) in [
                    ("ram_role_arn", &p.ram_role_arn),
                    ("oidc_provider_arn", &p.oidc_provider_arn),
                    ("oidc_token_file", &p.oidc_token_file),
                ] {
                    if value.trim().is_empty() {
                        return Err(self.bad(
                            p,
                            format!("mode OIDC without {key}"),
                            &format!("Set {key}."),
                        ));
                    }
                }
                Ok(Plan::Oidc(AssumeRoleWithOidc::new(
                    opts,
                    &OidcSettings {
                        role_arn: &p.ram_role_arn,
                        provider_arn: &p.oidc_provider_arn,
                        token_file: &p.oidc_token_file,
                        session_name: &p.ram_session_name,
                        policy: "",
                        sts_endpoint: &p.sts_endpoint,
                        sts_region: &p.sts_region,
                    },
                )?))
            }
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
                 OIDC, CredentialsURI, External. Use environment variables or another profile.",
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
    ) -> Result<Plan, CloudError> {
        if p.ram_role_arn.trim().is_empty() {
            return Err(self.bad(
                p,
                format!("mode {} without ram_role_arn", p.mode),
                "Set ram_role_arn.",
            ));
        }
        let role = AssumeRole {
            sts_url: sts_url(opts, &p.sts_endpoint, &p.sts_region)?,
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
        };
        Ok(Plan::AssumeRole {
            source: Box::new(source),
            role,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::credentials::env::Env;

    fn opts(env: &[(&str, &str)]) -> ChainOptions {
        ChainOptions::with_env(None, Env::from_pairs(env.iter().copied()))
    }

    #[test]
    fn a_profile_without_mode_gets_the_one_its_fields_name() {
        let key = |token: Option<&str>, role_arn: &str| Profile {
            access_key_id: "LTAI".into(),
            access_key_secret: Some(Secret::new("s")),
            sts_token: token.map(Secret::new),
            ram_role_arn: role_arn.into(),
            ..Profile::default()
        };
        assert_eq!(key(None, "").effective_mode(), "AK");
        assert_eq!(key(Some("t"), "").effective_mode(), "StsToken");
        assert_eq!(
            key(Some(""), "acs:ram::1:role/r").effective_mode(),
            "RamRoleArn"
        );
        let other = |p: Profile| p.effective_mode().to_owned();
        assert_eq!(
            other(Profile {
                ram_role_name: "r".into(),
                ..Profile::default()
            }),
            "EcsRamRole"
        );
        assert_eq!(
            other(Profile {
                process_command: "x".into(),
                ..Profile::default()
            }),
            "External"
        );
        assert_eq!(
            other(Profile {
                oidc_provider_arn: "p".into(),
                oidc_token_file: "/t".into(),
                ram_role_arn: "r".into(),
                ..Profile::default()
            }),
            "OIDC"
        );
        // A declared mode wins.
        let mut declared = key(Some("t"), "");
        declared.mode = "AK".into();
        assert_eq!(declared.effective_mode(), "AK");
    }

    #[test]
    fn sts_endpoint_choice() {
        let p = Profile {
            sts_region: "cn-shanghai".into(),
            ..Profile::default()
        };
        let o = opts(&[]);
        assert_eq!(
            sts_url(&o, &p.sts_endpoint, &p.sts_region)
                .unwrap()
                .as_str(),
            "https://sts.cn-shanghai.aliyuncs.com/"
        );
        let o = opts(&[("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED", "true")]);
        assert_eq!(
            sts_url(&o, &p.sts_endpoint, &p.sts_region)
                .unwrap()
                .as_str(),
            "https://sts-vpc.cn-shanghai.aliyuncs.com/"
        );
        let o = opts(&[]);
        assert_eq!(
            sts_url(&o, "", "").unwrap().as_str(),
            "https://sts.aliyuncs.com/"
        );
    }
}
