//! Which URL each API call goes to.
//!
//! Regional endpoints follow the documented rule (PROTOCOL.md §2):
//! `ecs.<region>.aliyuncs.com`, `ecs-vpc.<region>.aliyuncs.com` with `--vpc`,
//! `eflo-controller.<region>.aliyuncs.com`. `--endpoint` replaces all of them
//! (tests point it at the simulator). Credentials travel in every request, so
//! plain `http://` is allowed only to loopback addresses.

use std::fmt;
use std::net::IpAddr;

use url::Url;

use crate::protocol::Provider;

/// A URL or region that cannot be used, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    pub detail: String,
    pub help: String,
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for EndpointError {}

/// Decides endpoints from `--endpoint`, `--vpc` and the region.
#[derive(Debug, Clone)]
pub struct Endpoints {
    override_url: Option<Url>,
    vpc: bool,
}

impl Endpoints {
    /// Validates `--endpoint` up front, so a bad URL fails before any request.
    pub fn new(override_url: Option<&str>, vpc: bool) -> Result<Self, EndpointError> {
        let override_url = override_url.map(parse_endpoint).transpose()?;
        Ok(Self { override_url, vpc })
    }

    /// The URL for `provider` in `region`.
    pub fn url(&self, provider: Provider, region: &str) -> Result<Url, EndpointError> {
        if let Some(url) = &self.override_url {
            return Ok(url.clone());
        }
        check_region(region)?;
        let network = if self.vpc { "-vpc" } else { "" };
        let host = format!("{}{network}.{region}.aliyuncs.com", provider.host_prefix());
        Url::parse(&format!("https://{host}/")).map_err(|e| EndpointError {
            detail: format!("cannot build the endpoint for region `{region}`: {e}"),
            help: "Check --region.".into(),
        })
    }

    pub fn is_overridden(&self) -> bool {
        self.override_url.is_some()
    }
}

/// Parses a user-given endpoint: a full URL, or a bare host (then HTTPS).
pub fn parse_endpoint(text: &str) -> Result<Url, EndpointError> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| EndpointError {
        detail: format!("--endpoint `{text}` is not a URL: {e}"),
        help: "Give a URL such as https://ecs.cn-hangzhou.aliyuncs.com or http://127.0.0.1:8080."
            .into(),
    })?;
    check_scheme(&url, "--endpoint")?;
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(EndpointError {
            detail: format!("--endpoint `{text}` has a path or query; RPC calls go to `/`"),
            help: "Give only the scheme, host and port.".into(),
        });
    }
    Ok(url)
}

/// HTTPS everywhere, plain HTTP only to this machine.
pub fn check_scheme(url: &Url, what: &str) -> Result<(), EndpointError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(EndpointError {
            detail: format!(
                "{what} `{}` uses plain http to a non-loopback host",
                redacted_url(url)
            ),
            help: "Signed requests carry credentials: use https:// (plain http is allowed only \
                   for 127.0.0.1, ::1 and localhost, e.g. the simulator)."
                .into(),
        }),
        other => Err(EndpointError {
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
pub fn check_region(region: &str) -> Result<(), EndpointError> {
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
        Err(EndpointError {
            detail: format!("`{region}` is not a region id"),
            help: "Region ids look like cn-hangzhou or ap-southeast-1; check --region and the \
                   manifest."
                .into(),
        })
    }
}

/// `scheme://host[:port]/`: a URL safe to print (the query holds the signature).
pub fn redacted_url(url: &Url) -> String {
    let mut shown = format!("{}://{}", url.scheme(), url.host_str().unwrap_or("?"));
    if let Some(port) = url.port() {
        shown.push_str(&format!(":{port}"));
    }
    shown.push_str(url.path());
    shown
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
            e.url(Provider::Ecs, "cn-hangzhou").unwrap().as_str(),
            "https://ecs.cn-hangzhou.aliyuncs.com/"
        );
        assert_eq!(
            e.url(Provider::Eflo, "cn-wulanchabu").unwrap().as_str(),
            "https://eflo-controller.cn-wulanchabu.aliyuncs.com/"
        );
        let vpc = Endpoints::new(None, true).unwrap();
        assert_eq!(
            vpc.url(Provider::Ecs, "cn-beijing").unwrap().as_str(),
            "https://ecs-vpc.cn-beijing.aliyuncs.com/"
        );
    }

    #[test]
    fn override_wins_for_every_product() {
        let e = Endpoints::new(Some("http://127.0.0.1:8080"), true).unwrap();
        assert_eq!(
            e.url(Provider::Ecs, "cn-hangzhou").unwrap().as_str(),
            "http://127.0.0.1:8080/"
        );
        assert_eq!(
            e.url(Provider::Eflo, "x").unwrap().as_str(),
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
            assert!(e.url(Provider::Ecs, bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn host_header_keeps_non_default_ports() {
        let u = Url::parse("http://127.0.0.1:8080/").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:8080");
        let u = Url::parse("https://ecs.cn-hangzhou.aliyuncs.com:443/").unwrap();
        assert_eq!(host_header(&u), "ecs.cn-hangzhou.aliyuncs.com");
    }

    #[test]
    fn urls_lose_their_query() {
        let url = Url::parse("http://127.0.0.1:8080/?Signature=abc&SecurityToken=t").unwrap();
        assert_eq!(redacted_url(&url), "http://127.0.0.1:8080/");
    }
}
