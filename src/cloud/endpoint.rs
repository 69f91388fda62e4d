//! Which URL each API call goes to.
//!
//! Regional endpoints follow the documented rule (PROTOCOL.md §2):
//! `ecs.<region>.aliyuncs.com`, `ecs-vpc.<region>.aliyuncs.com` with `--vpc`,
//! `eflo-controller.<region>.aliyuncs.com`. `--endpoint` replaces all of them
//! (tests point it at the simulator). Credentials travel in every request, so
//! plain `http://` is allowed only to loopback addresses.

use std::net::IpAddr;

use url::Url;

use crate::cloud::error::CloudError;

/// An API product: its endpoint prefix, version and RAM namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Api {
    /// ECS 2014-05-26 (Cloud Assistant on ECS instances).
    Ecs,
    /// eflo-controller 2022-12-15 (Lingjun nodes).
    Eflo,
}

impl Api {
    pub fn version(self) -> &'static str {
        match self {
            Api::Ecs => "2014-05-26",
            Api::Eflo => "2022-12-15",
        }
    }

    /// The host prefix of the regional endpoint.
    pub fn host_prefix(self) -> &'static str {
        match self {
            Api::Ecs => "ecs",
            Api::Eflo => "eflo-controller",
        }
    }

    /// The namespace of this product's actions in RAM policies.
    pub fn ram_namespace(self) -> &'static str {
        match self {
            Api::Ecs => "ecs",
            Api::Eflo => "eflo",
        }
    }
}

/// Decides endpoints from `--endpoint`, `--vpc` and the region.
#[derive(Debug, Clone)]
pub struct Endpoints {
    override_url: Option<Url>,
    vpc: bool,
}

impl Endpoints {
    /// Validates `--endpoint` up front, so a bad URL fails before any request.
    pub fn new(override_url: Option<&str>, vpc: bool) -> Result<Self, CloudError> {
        let override_url = override_url.map(parse_endpoint).transpose()?;
        Ok(Self { override_url, vpc })
    }

    /// The URL for `api` in `region`.
    pub fn url(&self, api: Api, region: &str) -> Result<Url, CloudError> {
        if let Some(url) = &self.override_url {
            return Ok(url.clone());
        }
        check_region(region)?;
        let network = if self.vpc { "-vpc" } else { "" };
        let host = format!("{}{network}.{region}.aliyuncs.com", api.host_prefix());
        Url::parse(&format!("https://{host}/")).map_err(|e| CloudError::Config {
            detail: format!("cannot build the endpoint for region `{region}`: {e}"),
            help: "Check --region.".into(),
        })
    }

    pub fn is_overridden(&self) -> bool {
        self.override_url.is_some()
    }
}

/// Parses a user-given endpoint: a full URL, or a bare host (then HTTPS).
pub fn parse_endpoint(text: &str) -> Result<Url, CloudError> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| CloudError::Config {
        detail: format!("--endpoint `{text}` is not a URL: {e}"),
        help: "Give a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080."
            .into(),
    })?;
    check_scheme(&url, "--endpoint")?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(CloudError::Config {
            detail: format!("--endpoint `{text}` has a path or query; RPC calls go to `/`"),
            help: "Give only the scheme, host and port.".into(),
        });
    }
    Ok(url)
}

/// HTTPS everywhere, plain HTTP only to this machine.
pub fn check_scheme(url: &Url, what: &str) -> Result<(), CloudError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(CloudError::Config {
            detail: format!(
                "{what} `{}` uses plain http to a non-loopback host",
                crate::cloud::error::redacted_url(url)
            ),
            help: "Signed requests carry credentials: use https:// (plain http is allowed only \
                   for 127.0.0.1, ::1 and localhost, e.g. the simulator)."
                .into(),
        }),
        other => Err(CloudError::Config {
            detail: format!("{what} has scheme `{other}`"),
            help: "Use https://.".into(),
        }),
    }
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Region ids are lowercase words joined by `-` (cn-hangzhou, ap-southeast-1).
pub fn check_region(region: &str) -> Result<(), CloudError> {
    let ok = !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !region.starts_with('-')
        && !region.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(CloudError::Config {
            detail: format!("`{region}` is not a region id"),
            help: "Region ids look like cn-hangzhou or ap-southeast-1; check --region and the \
                   manifest."
                .into(),
        })
    }
}

/// The `Host` header value hyper sends for this URL (port only when not default).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_endpoints() {
        let e = Endpoints::new(None, false).unwrap();
        assert_eq!(
            e.url(Api::Ecs, "cn-hangzhou").unwrap().as_str(),
            "https://ecs.cn-hangzhou.aliyuncs.com/"
        );
        assert_eq!(
            e.url(Api::Eflo, "cn-wulanchabu").unwrap().as_str(),
            "https://eflo-controller.cn-wulanchabu.aliyuncs.com/"
        );
        let vpc = Endpoints::new(None, true).unwrap();
        assert_eq!(
            vpc.url(Api::Ecs, "cn-beijing").unwrap().as_str(),
            "https://ecs-vpc.cn-beijing.aliyuncs.com/"
        );
    }

    #[test]
    fn override_wins_for_every_product() {
        let e = Endpoints::new(Some("http://127.0.0.1:8080"), true).unwrap();
        assert_eq!(
            e.url(Api::Ecs, "cn-hangzhou").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            e.url(Api::Eflo, "x").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert!(Endpoints::new(Some("ecs.example.com"), false).is_ok());
        assert!(Endpoints::new(Some("http://[::1]:9/"), false).is_ok());
        assert!(Endpoints::new(Some("http://localhost:9/"), false).is_ok());
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let err = Endpoints::new(Some("http://10.0.0.1:8080"), false).unwrap_err();
        assert!(err.to_string().contains("plain http"), "{err}");
        assert!(Endpoints::new(Some("ftp://127.0.0.1"), false).is_err());
        assert!(Endpoints::new(Some("https://h/some/path"), false).is_err());
        assert!(Endpoints::new(Some("not a url at all"), false).is_err());
    }

    #[test]
    fn regions_are_validated() {
        let e = Endpoints::new(None, false).unwrap();
        for bad in ["", "CN-HANGZHOU", "cn-hangzhou.evil.com/", "-x", "a b"] {
            assert!(e.url(Api::Ecs, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_header_keeps_non_default_ports() {
        let u = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:8080");
        let u = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com:443/").unwrap();
        assert_eq!(host_header(&u), "ecs.cn-hangzhou.aliyuncs.com");
    }
}
