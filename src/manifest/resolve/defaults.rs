//! `defaults:`: the values every entry takes unless it declares its own,
//! checked once here rather than once per entry that inherits them.

use std::time::Duration;

use super::{Resolver, content_type};
use crate::expect::{Attr, Since};
use crate::manifest::diagnostics::{Code, ManifestDiagnostic};
use crate::manifest::model::Defaults;
use crate::mode::FileMode;
use crate::observe::ContentType;
use crate::protocol::endpoint::check_region;

/// Defaults after their own checks, reported once rather than per file.
#[derive(Debug, Default)]
pub(super) struct ResolvedDefaults {
    pub region: Option<Attr<String>>,
    pub mode: Option<Attr<FileMode>>,
    pub owner: Option<Attr<String>>,
    pub group: Option<Attr<String>>,
    pub overwrite: Option<Attr<bool>>,
    pub content_type: Option<Attr<ContentType>>,
    pub max_age: Option<Attr<Duration>>,
    pub task_tags: Option<Vec<(String, String)>>,
    pub since: Option<Attr<Since>>,
    pub retention: Option<Attr<Duration>>,
}

impl Resolver<'_> {
    pub(super) fn defaults(&mut self, defaults: Option<&Defaults>) -> ResolvedDefaults {
        let Some(d) = defaults else {
            return ResolvedDefaults::default();
        };
        ResolvedDefaults {
            region: d
                .region
                .as_ref()
                .and_then(|region| self.region_id(region, "/defaults/region")),
            mode: d
                .mode
                .as_ref()
                .and_then(|mode| self.mode(mode, "/defaults/mode")),
            owner: self.opt_string(d.owner.as_ref(), "/defaults/owner"),
            group: self.opt_string(d.group.as_ref(), "/defaults/group"),
            overwrite: d
                .overwrite
                .map(|b| Attr::declared(b, self.origin("/defaults/overwrite"))),
            content_type: d
                .content_type
                .map(|t| Attr::declared(content_type(t), self.origin("/defaults/content_type"))),
            max_age: d
                .max_age
                .as_ref()
                .and_then(|age| self.duration(age, "/defaults/max_age")),
            task_tags: d
                .task_tags
                .as_ref()
                .and_then(|tags| self.task_tags(tags, "/defaults/task_tags")),
            since: d
                .since
                .as_ref()
                .and_then(|since| self.since(since, "/defaults/since")),
            retention: d
                .retention
                .as_ref()
                .and_then(|window| self.duration(window, "/defaults/retention")),
        }
    }

    /// An entry's own `region:`, or else the default one.
    pub(super) fn region(
        &mut self,
        region: Option<&String>,
        pointer: &str,
        defaults: &ResolvedDefaults,
    ) -> Option<Attr<String>> {
        match region {
            Some(region) => self.region_id(region, pointer),
            None => defaults.region.clone(),
        }
    }

    /// A region id, checked for its shape (not against a list: new regions
    /// open, and a gate must not need an update to use them). A malformed
    /// one is the user's to fix, so it is refused here rather than becoming
    /// an endpoint that cannot resolve at check time.
    fn region_id(&mut self, region: &str, pointer: &str) -> Option<Attr<String>> {
        let attr = self.string(region, pointer)?;
        match check_region(&attr.value) {
            Ok(()) => Some(attr),
            Err(err) => {
                self.push(
                    ManifestDiagnostic::new(Code::InvalidRegion, err.detail)
                        .label(self.index.value(pointer), "not a region id")
                        .help(
                            "region ids are lowercase letters, digits and hyphens, such as \
                             cn-hangzhou, ap-southeast-1 or cn-wuhan-lr",
                        ),
                );
                None
            }
        }
    }
}
