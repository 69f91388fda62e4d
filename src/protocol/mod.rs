//! The facts of the Alibaba Cloud RPC protocol, written once.
//!
//! The cloud client, the simulator and the tests all speak the same
//! protocol, so what it says lives here and nowhere else: the two products
//! and their versions ([`Provider`]), the time formats ([`time`]), which URL
//! a call goes to ([`endpoint`]), the signatures ([`sign`]) and how a signed
//! request is assembled and checked ([`request`]). Nothing here touches the
//! network or knows about the command line; `docs/PROTOCOL.md` holds the
//! sources behind each fact.

pub mod endpoint;
pub mod request;
pub mod sign;
pub mod time;

use jiff::Timestamp;
use serde::Serialize;

/// An API product that runs Cloud Assistant: which API a call goes to and
/// which one a delivery came from.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, serde::Deserialize, PartialOrd, Ord,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// ECS instances, `ecs` API 2014-05-26.
    #[default]
    Ecs,
    /// Lingjun nodes, `eflo-controller` API 2022-12-15.
    Eflo,
}

impl Provider {
    /// Both products, in a fixed order.
    pub const ALL: [Provider; 2] = [Provider::Ecs, Provider::Eflo];

    /// The `Version` parameter of this product's API.
    pub fn version(self) -> &'static str {
        match self {
            Provider::Ecs => "2014-05-26",
            Provider::Eflo => "2022-12-15",
        }
    }

    /// The product a `Version` parameter names, if it is one of ours.
    pub fn from_version(version: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.version() == version)
    }

    /// The host prefix of the regional endpoint (`ecs.cn-hangzhou.aliyuncs.com`).
    pub fn host_prefix(self) -> &'static str {
        match self {
            Provider::Ecs => "ecs",
            Provider::Eflo => "eflo-controller",
        }
    }

    /// The namespace of this product's actions in RAM policies.
    pub fn ram_namespace(self) -> &'static str {
        match self {
            Provider::Ecs => "ecs",
            Provider::Eflo => "eflo",
        }
    }

    /// The product code of the API's troubleshoot links (`product=Ecs`).
    pub fn product_code(self) -> &'static str {
        match self {
            Provider::Ecs => "Ecs",
            Provider::Eflo => "eflo-controller",
        }
    }

    /// What the product calls a target: an instance or a node.
    pub fn target_noun(self) -> &'static str {
        match self {
            Provider::Ecs => "instance",
            Provider::Eflo => "node",
        }
    }

    /// The prefix of SendFile invoke ids: `f-` on ECS, `t-` on eflo (the
    /// documents' samples).
    pub fn file_invoke_prefix(self) -> &'static str {
        match self {
            Provider::Ecs => "f",
            Provider::Eflo => "t",
        }
    }

    /// A time as this product writes it in responses: ECS `...Z` in whole
    /// seconds, eflo milliseconds at +08:00.
    pub fn format_time(self, at: Timestamp) -> String {
        match self {
            Provider::Ecs => time::format_timestamp(at),
            Provider::Eflo => time::format_beijing_millis(at),
        }
    }
}

/// A `TargetDir` as compared: trimmed, without trailing slashes (`/` stays
/// `/`), so `/etc/app/` and `/etc/app` are one directory.
pub fn normalize_dir(dir: &str) -> &str {
    let dir = dir.trim();
    match dir.trim_end_matches('/') {
        "" if dir.starts_with('/') => "/",
        trimmed => trimmed,
    }
}

/// Where SendFile puts a file: `TargetDir` + `/` + `Name`, without doubling
/// a trailing slash.
pub fn join_path(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_name_their_product() {
        for provider in Provider::ALL {
            assert_eq!(Provider::from_version(provider.version()), Some(provider));
        }
        assert_eq!(Provider::from_version("2015-04-01"), None);
    }

    #[test]
    fn paths_join_once() {
        assert_eq!(
            join_path("/etc/nginx", "nginx.conf"),
            "/etc/nginx/nginx.conf"
        );
        assert_eq!(
            join_path("/etc/nginx/", "nginx.conf"),
            "/etc/nginx/nginx.conf"
        );
    }

    #[test]
    fn response_times_per_product() {
        let at: Timestamp = "2023-04-10T02:53:46.156Z".parse().unwrap();
        assert_eq!(Provider::Ecs.format_time(at), "2023-04-10T02:53:46Z");
        assert_eq!(
            Provider::Eflo.format_time(at),
            "2023-04-10T10:53:46.156+08:00"
        );
    }
}
