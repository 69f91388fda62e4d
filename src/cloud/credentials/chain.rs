//! The default chain: which source to use, decided without the network.
//!
//! The environment's keys, then OIDC/RRSA, then a `~/.aliyun/config.json`
//! profile, then the INI credentials file, then the network tail (the
//! metadata service, a credentials URI), in the official default chain's
//! order (PROTOCOL.md §4.1; credentials-go `providers/default.go`). Unlike
//! the aliyun CLI, which reads its profile before the environment, the
//! environment wins unless `--profile` names a profile.

use super::env::{ChainOptions, ENV_KEY_ID, ENV_KEY_SECRET, ENV_TOKEN};
use super::imds::Imds;
use super::ini;
use super::key::{Credentials, cred_error};
use super::oidc::AssumeRoleWithOidc;
use super::plan::{Plan, Resolved};
use super::profile::ProfileFile;
use super::uri::parse_source_url;
use crate::cloud::error::CloudError;
use crate::secret::Secret;

/// Walks the chain as far as it can without the network.
pub(super) fn resolve(opts: &ChainOptions) -> Result<Resolved, CloudError> {
    let env = &opts.env;
    let env_region = env.region();

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
                return Ok(Resolved {
                    plan: Plan::Static(creds),
                    source: format!("environment ({id_var})"),
                    region_hint: env_region,
                });
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

    // 2. OIDC/RRSA, unless a profile was asked for by name.
    if opts.profile.is_none()
        && let Some(oidc) = AssumeRoleWithOidc::from_env(opts)?
    {
        return Ok(Resolved {
            source: oidc.describe(),
            plan: Plan::Oidc(oidc),
            region_hint: env_region,
        });
    }

    // 3. The CLI's profile file, then 4. the INI credentials file. As in the
    // official chain, a profile the CLI's file cannot give is looked for in
    // the INI file before its error counts.
    let profiles_disabled = env.is_true("ALIBABA_CLOUD_CLI_PROFILE_DISABLED")
        || env.is_true("ALIBABA_CLOUD_IGNORE_PROFILE");
    let from_cli = if !profiles_disabled || opts.profile.is_some() {
        ProfileFile::load_for(opts).and_then(|found| {
            found
                .map(|f| f.resolve(opts, env_region.clone()))
                .transpose()
        })
    } else {
        Ok(None)
    };
    match from_cli {
        Ok(Some(resolved)) => return Ok(resolved),
        Ok(None) => {
            if let Some(resolved) = ini::resolve(opts, env_region.clone())? {
                return Ok(resolved);
            }
        }
        Err(cli_error) => {
            return match ini::resolve(opts, env_region) {
                Ok(Some(resolved)) => Ok(resolved),
                _ => Err(cli_error),
            };
        }
    }

    // 5 and 6. The network tail.
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
    Ok(Resolved {
        plan: Plan::FirstOf(tail),
        source,
        region_hint: env_region,
    })
}

fn no_credentials() -> CloudError {
    cred_error(
        "the default chain",
        "no credentials found: the environment has no access key and no OIDC role, there \
         is no usable ~/.aliyun/config.json profile or ~/.alibabacloud/credentials section, \
         and the metadata service is disabled"
            .to_owned(),
        "Set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or run \
         `aliyun configure`, or pass --profile.",
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::cloud::credentials::env::Env;

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

    fn static_creds(p: &Resolved) -> &Credentials {
        match &p.plan {
            Plan::Static(c) => c,
            other => panic!("expected static credentials, got {other:?}"),
        }
    }

    #[test]
    fn environment_spellings_in_the_cli_order() {
        let p = resolve(&opts(
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
        assert!(p.source.contains("ALIBABACLOUD_ACCESS_KEY_ID"));

        let p = resolve(&opts(
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
        assert_eq!(p.region_hint.as_deref(), Some("cn-beijing"));
    }

    #[test]
    fn a_key_id_without_secret_is_an_error() {
        let err = resolve(&opts(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")], None, None)).unwrap_err();
        assert!(err.to_string().contains("no access key secret"), "{err}");
    }

    #[test]
    fn nothing_configured_and_metadata_disabled() {
        let err = resolve(&opts(
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
        let p = resolve(&opts(&[], None, Some(&path))).unwrap();
        assert_eq!(static_creds(&p).access_key_id, "dev-id");
        assert_eq!(p.region_hint.as_deref(), Some("cn-shanghai"));
        // the environment comes first...
        let p = resolve(&opts(&env_keys, None, Some(&path))).unwrap();
        assert_eq!(static_creds(&p).access_key_id, "env-id");
        // ...unless --profile names one
        let p = resolve(&opts(&env_keys, Some("ops"), Some(&path))).unwrap();
        let c = static_creds(&p);
        assert_eq!(
            (
                c.access_key_id.as_str(),
                c.security_token.as_ref().unwrap().expose()
            ),
            ("ops-id", "ops-token")
        );
        // ALIBABA_CLOUD_PROFILE picks too
        let p = resolve(&opts(
            &[("ALIBABA_CLOUD_PROFILE", "ops")],
            None,
            Some(&path),
        ))
        .unwrap();
        assert_eq!(static_creds(&p).access_key_id, "ops-id");

        let err = resolve(&opts(&[], Some("nope"), Some(&path))).unwrap_err();
        let shown = err.to_string();
        let text = format!("{shown} {:?}", miette::Report::new(err));
        assert!(
            text.contains("profile `nope`") && text.contains("dev, ops"),
            "{text}"
        );
        let err = resolve(&opts(&[], Some("sso"), Some(&path))).unwrap_err();
        assert!(
            err.to_string().contains("mode `CloudSSO` is not supported"),
            "{err}"
        );
        let err = resolve(&opts(&[], Some("empty"), Some(&path))).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = resolve(&opts(&[], Some("dev"), None)).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn a_broken_config_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = resolve(&opts(&[], None, Some(&path))).unwrap_err();
        assert!(err.to_string().contains("not valid JSON"), "{err}");
        // ... unless profiles are disabled
        let p = resolve(&opts(
            &[("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "true")],
            None,
            Some(&path),
        ));
        assert!(matches!(p.unwrap().plan, Plan::FirstOf(_)));
    }

    #[test]
    fn oidc_from_the_environment_and_from_a_profile() {
        let oidc_env = [
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/env"),
            (
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/p",
            ),
            ("ALIBABA_CLOUD_OIDC_TOKEN_FILE", "/var/run/token"),
        ];
        let p = resolve(&opts(&oidc_env, None, None)).unwrap();
        assert!(matches!(&p.plan, Plan::Oidc(o) if o.role_arn == "acs:ram::1:role/env"));
        // A partial set is skipped, as in the official chain.
        let p = resolve(&opts(&oidc_env[..2], None, None)).unwrap();
        assert!(matches!(p.plan, Plan::FirstOf(_)), "{:?}", p.plan);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"profiles": [
                {"name": "rrsa", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/cli",
                 "oidc_provider_arn": "acs:ram::1:oidc-provider/p", "oidc_token_file": "/t",
                 "sts_region": "cn-beijing"},
                {"name": "half", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/cli"}
            ]}"#,
        )
        .unwrap();
        let p = resolve(&opts(&[], Some("rrsa"), Some(&path))).unwrap();
        let Plan::Oidc(o) = &p.plan else {
            panic!("{:?}", p.plan)
        };
        assert_eq!(o.sts_url.as_str(), "https://sts.cn-beijing.aliyuncs.com/");
        let err = resolve(&opts(&[], Some("half"), Some(&path))).unwrap_err();
        assert!(
            err.to_string().contains("without oidc_provider_arn"),
            "{err}"
        );
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
        let err = resolve(&opts(&[], Some("a"), Some(&path))).unwrap_err();
        assert!(err.to_string().contains("loops back"), "{err}");
    }
}
