//! The official credentials libraries' INI file: `ALIBABA_CLOUD_CREDENTIALS_FILE`,
//! else `~/.alibabacloud/credentials` (credentials-go `providers/profile.go`
//! and `profile_provider.go`, credentials-python `provider/profile.py`).
//!
//! The section is `--profile`, else `ALIBABA_CLOUD_PROFILE`, else `default`;
//! its `type` is `access_key`, `sts`, `ecs_ram_role`, `ram_role_arn` or
//! `oidc_role_arn`, with the key names those libraries read. A missing file
//! or section lets the chain move on, as the official chain does; a file
//! named by the variable that is not there, or a section that is there but
//! wrong, is an error, since the user meant it.

use std::path::PathBuf;

use super::env::{ChainOptions, ENV_CREDENTIALS_FILE, ENV_PROFILE};
use super::imds::Imds;
use super::key::{Credentials, cred_error};
use super::oidc::{AssumeRoleWithOidc, OidcSettings};
use super::plan::{Plan, Resolved};
use super::sts::{AssumeRole, sts_url};
use crate::cloud::error::CloudError;
use crate::secret::Secret;

/// One section of the file, its values with any trailing `# comment` cut
/// off (as credentials-python reads them).
struct Section {
    path: PathBuf,
    name: String,
    values: ::ini::Properties,
}

impl Section {
    fn get(&self, key: &str) -> &str {
        self.values
            .get(key)
            .map(|v| v.split('#').next().unwrap_or("").trim())
            .unwrap_or("")
    }

    fn require(&self, key: &str) -> Result<&str, CloudError> {
        match self.get(key) {
            "" => Err(self.bad(format!("type `{}` needs `{key}`", self.get("type")))),
            value => Ok(value),
        }
    }

    fn bad(&self, detail: String) -> CloudError {
        cred_error(
            "the credentials file",
            format!(
                "section [{}] of {}: {detail}",
                self.name,
                self.path.display()
            ),
            "Types and keys as the official credentials libraries read them: access_key \
             (access_key_id, access_key_secret), sts (… and security_token), ecs_ram_role \
             (role_name), ram_role_arn (access_key_id, access_key_secret, role_arn, \
             role_session_name, policy), oidc_role_arn (role_arn, oidc_provider_arn, \
             oidc_token_file_path, role_session_name, policy).",
        )
    }

    fn access_key(&self) -> Result<Credentials, CloudError> {
        Ok(Credentials::new(
            self.require("access_key_id")?,
            Secret::new(self.require("access_key_secret")?),
        ))
    }
}

/// The file's section for this run, as a plan; `None` when the chain should
/// move on.
pub(super) fn resolve(
    opts: &ChainOptions,
    region_hint: Option<String>,
) -> Result<Option<Resolved>, CloudError> {
    let Some(section) = load_section(opts)? else {
        return Ok(None);
    };
    let plan = match section.get("type") {
        "access_key" => Plan::Static(section.access_key()?),
        "sts" => Plan::Static(
            section
                .access_key()?
                .with_token(Secret::new(section.require("security_token")?)),
        ),
        "ecs_ram_role" => Plan::Imds(Imds {
            base: opts.imds_url.clone(),
            role: Some(section.get("role_name").to_owned()).filter(|r| !r.is_empty()),
            v1_fallback: !opts.env.is_true("ALIBABA_CLOUD_IMDSV1_DISABLED"),
        }),
        "ram_role_arn" => Plan::AssumeRole {
            source: Box::new(Plan::Static(section.access_key()?)),
            role: AssumeRole {
                sts_url: sts_url(opts, "", "")?,
                role_arn: section.require("role_arn")?.to_owned(),
                session_name: Some(section.get("role_session_name"))
                    .filter(|n| !n.is_empty())
                    .unwrap_or("shipcheck")
                    .to_owned(),
                duration_seconds: section
                    .get("role_session_expiration")
                    .parse::<u64>()
                    .unwrap_or(3600)
                    .max(900),
                external_id: None,
                policy: Some(section.get("policy").to_owned()).filter(|p| !p.is_empty()),
            },
        },
        "oidc_role_arn" => Plan::Oidc(AssumeRoleWithOidc::new(
            opts,
            &OidcSettings {
                role_arn: section.require("role_arn")?,
                provider_arn: section.require("oidc_provider_arn")?,
                token_file: section.require("oidc_token_file_path")?,
                session_name: section.get("role_session_name"),
                policy: section.get("policy"),
                sts_endpoint: "",
                sts_region: "",
            },
        )?),
        "" => return Err(section.bad("no `type`".into())),
        other => {
            return Err(section.bad(format!("type `{other}` is not supported by shipcheck")));
        }
    };
    Ok(Some(Resolved {
        plan,
        source: format!(
            "section [{}] ({}) of {}",
            section.name,
            section.get("type"),
            section.path.display()
        ),
        region_hint,
    }))
}

fn load_section(opts: &ChainOptions) -> Result<Option<Section>, CloudError> {
    let named = opts.env.get(ENV_CREDENTIALS_FILE).map(PathBuf::from);
    let Some(path) = named.clone().or_else(|| {
        opts.env
            .get("HOME")
            .or_else(|| opts.env.get("USERPROFILE"))
            .map(|home| {
                PathBuf::from(home)
                    .join(".alibabacloud")
                    .join("credentials")
            })
    }) else {
        return Ok(None);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && named.is_none() => return Ok(None),
        Err(e) => {
            return Err(cred_error(
                "the credentials file",
                format!("cannot read {}: {e}", path.display()),
                "Fix ALIBABA_CLOUD_CREDENTIALS_FILE or the file's permissions.",
            ));
        }
    };
    let file = ::ini::Ini::load_from_str(&text).map_err(|e| {
        cred_error(
            "the credentials file",
            format!("{} is not a valid INI file: {e}", path.display()),
            "Fix the file: sections in [brackets], `key = value` lines.",
        )
    })?;
    let name = opts
        .profile
        .clone()
        .or_else(|| opts.env.first(ENV_PROFILE).map(|(_, name)| name))
        .unwrap_or_else(|| "default".to_owned());
    Ok(file.section(Some(name.as_str())).map(|values| Section {
        path,
        name,
        values: values.clone(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::credentials::env::Env;

    fn resolve_with(text: &str, env: &[(&str, &str)], profile: Option<&str>) -> Resolved {
        try_resolve(text, env, profile).unwrap().expect("a section")
    }

    fn try_resolve(
        text: &str,
        env: &[(&str, &str)],
        profile: Option<&str>,
    ) -> Result<Option<Resolved>, CloudError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, text).unwrap();
        let path = path.to_str().unwrap().to_owned();
        let mut pairs = vec![(ENV_CREDENTIALS_FILE, path.as_str())];
        pairs.extend_from_slice(env);
        let opts = ChainOptions::with_env(
            profile.map(str::to_owned),
            Env::from_pairs(pairs.iter().copied()),
        );
        resolve(&opts, None)
    }

    const FILE: &str = "\
[default]
type = access_key
access_key_id = AK-default
access_key_secret = secret-default # the official parser cuts comments

[temp]
type = sts
access_key_id = STS.id
access_key_secret = sts-secret
security_token = sts-token

[ecs]
type = ecs_ram_role
role_name = EcsRole

[role]
type = ram_role_arn
access_key_id = AK-role
access_key_secret = role-secret
role_arn = acs:ram::1:role/r
role_session_name = ci

[oidc]
type = oidc_role_arn
role_arn = acs:ram::1:role/o
oidc_provider_arn = acs:ram::1:oidc-provider/p
oidc_token_file_path = /var/run/token

[nokey]
type = sts
access_key_id = STS.id
access_key_secret = s

[odd]
type = bearer
";

    #[test]
    fn every_type_with_the_official_keys() {
        let p = resolve_with(FILE, &[], None);
        let Plan::Static(c) = &p.plan else {
            panic!("{:?}", p.plan)
        };
        assert_eq!(
            (c.access_key_id.as_str(), c.access_key_secret.expose()),
            ("AK-default", "secret-default")
        );
        assert!(p.source.contains("[default] (access_key)"), "{}", p.source);

        let p = resolve_with(FILE, &[("ALIBABA_CLOUD_PROFILE", "temp")], None);
        let Plan::Static(c) = &p.plan else {
            panic!("{:?}", p.plan)
        };
        assert_eq!(c.security_token.as_ref().unwrap().expose(), "sts-token");

        let p = resolve_with(FILE, &[], Some("ecs"));
        assert!(matches!(&p.plan, Plan::Imds(i) if i.role.as_deref() == Some("EcsRole")));

        let p = resolve_with(FILE, &[], Some("role"));
        let Plan::AssumeRole { role, .. } = &p.plan else {
            panic!("{:?}", p.plan)
        };
        assert_eq!(
            (role.role_arn.as_str(), role.session_name.as_str()),
            ("acs:ram::1:role/r", "ci")
        );

        let p = resolve_with(FILE, &[], Some("oidc"));
        let Plan::Oidc(o) = &p.plan else {
            panic!("{:?}", p.plan)
        };
        assert_eq!(o.token_file, PathBuf::from("/var/run/token"));
    }

    #[test]
    fn missing_sections_move_on_and_broken_ones_say_why() {
        assert!(try_resolve(FILE, &[], Some("absent")).unwrap().is_none());
        let err = try_resolve(FILE, &[], Some("nokey")).unwrap_err();
        assert!(err.to_string().contains("needs `security_token`"), "{err}");
        let err = try_resolve(FILE, &[], Some("odd")).unwrap_err();
        assert!(
            err.to_string().contains("`bearer` is not supported"),
            "{err}"
        );

        let opts = ChainOptions::with_env(
            None,
            Env::from_pairs([(ENV_CREDENTIALS_FILE, "/nonexistent/credentials")]),
        );
        let err = resolve(&opts, None).unwrap_err();
        assert!(err.to_string().contains("cannot read"), "{err}");
        let opts = ChainOptions::with_env(None, Env::from_pairs([("HOME", "/nonexistent")]));
        assert!(resolve(&opts, None).unwrap().is_none());
    }
}
