//! A request's parameters as the actions read them: query and form merged,
//! `Name.N` lists, SDK-spelled booleans, tag filters, and the canonical
//! form a NextToken is bound to.

use std::collections::BTreeSet;

use super::errors::ApiError;

/// Names that belong to the protocol, not to an action's filters.
const COMMON: &[&str] = &[
    "AccessKeyId",
    "Action",
    "Format",
    "SecurityToken",
    "Signature",
    "SignatureMethod",
    "SignatureNonce",
    "SignatureType",
    "SignatureVersion",
    "Timestamp",
    "Version",
];

/// The request's parameters (query and form body, percent-decoded).
#[derive(Debug, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    #[cfg(test)]
    pub fn of(pairs: &[(&str, &str)]) -> Self {
        Self::new(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not empty.
    pub fn get_nonempty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn required(&self, name: &str) -> Result<&str, ApiError> {
        self.get_nonempty(name)
            .ok_or_else(|| ApiError::missing_parameter(name))
    }

    /// `Name.1`, `Name.2`, … in index order.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.");
        let mut items: Vec<(u64, String)> = self
            .pairs
            .iter()
            .filter_map(|(k, v)| {
                let index = k.strip_prefix(&prefix)?.parse::<u64>().ok()?;
                Some((index, v.clone()))
            })
            .collect();
        items.sort_by_key(|(i, _)| *i);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A boolean as SDKs send it: `true`/`false` in any case (TEA's Python
    /// sends `True`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get_nonempty(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::invalid_parameter(name)),
        }
    }

    /// The filters of a list request, canonical: what a NextToken is bound to.
    pub fn fingerprint(&self, action: &str) -> String {
        let mut pairs: Vec<&(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| {
                !COMMON.contains(&k.as_str())
                    && !matches!(
                        k.as_str(),
                        "NextToken"
                            | "MaxResults"
                            | "PageNumber"
                            | "PageSize"
                            | super::hostile::OFFSET_PARAM
                    )
            })
            .collect();
        pairs.sort();
        let mut out = action.to_owned();
        for (k, v) in pairs {
            out.push('\n');
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out
    }

    /// `Tag.N.Key` / `Tag.N.Value` with the documented checks.
    pub fn tags(&self) -> Result<Vec<TagFilter>, ApiError> {
        let mut indices = BTreeSet::new();
        for (k, _) in &self.pairs {
            if let Some(rest) = k.strip_prefix("Tag.")
                && let Some((n, _)) = rest.split_once('.')
                && let Ok(n) = n.parse::<u64>()
            {
                indices.insert(n);
            }
        }
        if indices.iter().any(|n| *n == 0 || *n > 20) || indices.len() > 20 {
            return Err(ApiError::number_exceed_tags());
        }
        let mut tags: Vec<TagFilter> = Vec::new();
        for n in indices {
            let key = self.get(&format!("Tag.{n}.Key"));
            let value = self.get(&format!("Tag.{n}.Value"));
            let key = match key {
                Some(k) if !k.is_empty() => k,
                _ => return Err(ApiError::missing_tag_key()),
            };
            let bad_key = key.chars().count() > 64
                || key.starts_with("aliyun")
                || key.starts_with("acs:")
                || key.contains("http://")
                || key.contains("https://");
            if bad_key {
                return Err(ApiError::invalid_tag_key());
            }
            if let Some(v) = value
                && (v.chars().count() > 128 || v.contains("http://") || v.contains("https://"))
            {
                return Err(ApiError::invalid_tag_value());
            }
            if tags.iter().any(|t| t.key == key) {
                return Err(ApiError::duplicate_tag_key());
            }
            tags.push(TagFilter {
                key: key.to_owned(),
                value: value.map(str::to_owned),
            });
        }
        Ok(tags)
    }
}

/// One `Tag.N` of a request: a key, and a value when one was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_follow_their_index() {
        let p = Params::of(&[
            ("InstanceId.2", "b"),
            ("InstanceId.1", "a"),
            ("InstanceId.10", "c"),
        ]);
        assert_eq!(p.list("InstanceId"), ["a", "b", "c"]);
    }
}
