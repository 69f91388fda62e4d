//! The API's JSON as it really arrives, read leniently.
//!
//! The documents and the live API disagree on types (PROTOCOL.md §5.5):
//! `Overwrite` is `false` or `"false"`, `FileMode` is `"0644"` or `777`,
//! `TotalCount` a number (ECS) or a string (eflo). The official Go SDK's
//! "fuzzy" decoder accepts all of these, and so do these types:
//!
//! * strings accept numbers, booleans and null (null → absent);
//! * booleans accept `true`/`false` in any case, `1`/`0`, numbers and null;
//! * integers accept numbers, integral floats, numeric strings (`""` → absent),
//!   booleans and null;
//! * inside a record, a missing or null inner list (`InvokeInstances`) is
//!   empty, and a lone object stands for a one-item list.
//!
//! Every scalar is an `Option`, so "absent" is never mistaken for `0`/`""`.
//! Text that is not any of these (an integer field holding `"abc"`) is an
//! error, never a silent default.
//!
//! Lenient about types is not lenient about structure: a whole response
//! must carry its action's documented wrapper ([`Contract`]). A 2xx body of
//! `{}`, `[]`, only a `RequestId`, `{"Invocations": null}` or the page
//! nested elsewhere is malformed, never an empty last page: read as one, it
//! would end the listing early and turn unseen records into a pass.

use std::fmt;
use std::marker::PhantomData;

use compact_str::CompactString;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The documented structure a 2xx body of one action must have.
pub trait Contract: DeserializeOwned {
    /// Reads the raw body once, before the typed parse (which would read a
    /// missing wrapper as an empty list): the envelope's fields, and whether
    /// the body has the action's shape (`Err` names what is missing, for
    /// the malformed-response error).
    fn scan(body: &[u8]) -> Scan;

    /// Only the shape.
    fn check(body: &[u8]) -> Result<(), String> {
        Self::scan(body).shape
    }
}

/// What one scan of a 2xx body found.
#[derive(Debug)]
pub struct Scan {
    /// The top-level envelope fields (`Code`, `RequestId`, …), when the
    /// body is a JSON object: a 2xx answer can still carry an error code.
    pub envelope: Option<ErrorEnvelope>,
    pub shape: Result<(), String>,
}

impl Scan {
    /// Scans `body` along `path`, and judges the kinds found with `shape`.
    pub(crate) fn along(
        body: &[u8],
        path: &[&str],
        shape: impl FnOnce(&[&'static str]) -> Result<(), String>,
    ) -> Self {
        match kinds_along(body, path) {
            Ok((kinds, envelope)) => Self {
                envelope,
                shape: shape(&kinds),
            },
            Err(e) => Self {
                envelope: None,
                shape: Err(e),
            },
        }
    }
}

/// The kinds of value along `path` in `body`: the body's own, then the value
/// of each key in turn, as far as the keys exist; and the envelope's fields
/// when the body is an object. Nothing else is built (every other value is
/// skipped), so checking a page costs one scan, not a second parse. Bytes
/// that are not JSON are an error.
pub(crate) fn kinds_along(
    body: &[u8],
    path: &[&str],
) -> Result<(Vec<&'static str>, Option<ErrorEnvelope>), String> {
    let mut kinds = Vec::with_capacity(path.len() + 1);
    let mut envelope = None;
    let mut json = serde_json::Deserializer::from_slice(body);
    de::DeserializeSeed::deserialize(
        PathProbe {
            path,
            kinds: &mut kinds,
            envelope: Some(&mut envelope),
        },
        &mut json,
    )
    .and_then(|()| json.end())
    .map_err(|e| e.to_string())?;
    Ok((kinds, envelope))
}

/// Records the kind of a value, and descends into the key `path[0]`; at the
/// top level, also reads the envelope's fields.
struct PathProbe<'a, 'p> {
    path: &'p [&'p str],
    kinds: &'a mut Vec<&'static str>,
    envelope: Option<&'a mut Option<ErrorEnvelope>>,
}

impl<'de> de::DeserializeSeed<'de> for PathProbe<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for PathProbe<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.kinds.push("null");
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.kinds.push("a boolean");
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.kinds.push("a number");
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.kinds.push("a number");
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.kinds.push("a number");
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.kinds.push("a string");
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.kinds.push("a list");
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.kinds.push("an object");
        let mut envelope = self
            .envelope
            .map(|slot| slot.insert(ErrorEnvelope::default()));
        let mut descended = false;
        let (wanted, rest) = match self.path.split_first() {
            Some((wanted, rest)) => (Some(*wanted), rest),
            None => (None, self.path),
        };
        while let Some(key) = map.next_key_seed(KeyIs(wanted))? {
            match (key, envelope.as_deref_mut()) {
                // Only the first of duplicate keys: the typed parse refuses
                // a duplicate field anyway.
                (Key::Wanted, _) if !descended => {
                    descended = true;
                    map.next_value_seed(PathProbe {
                        path: rest,
                        kinds: &mut *self.kinds,
                        envelope: None,
                    })?;
                }
                (Key::Envelope(field), Some(envelope)) => {
                    let value = map.next_value_seed(LenientString)?;
                    let slot = match field {
                        EnvelopeField::Code => &mut envelope.code,
                        EnvelopeField::Message => &mut envelope.message,
                        EnvelopeField::RequestId => &mut envelope.request_id,
                        EnvelopeField::HostId => &mut envelope.host_id,
                        EnvelopeField::Recommend => &mut envelope.recommend,
                    };
                    if slot.is_none() {
                        *slot = value;
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// A key of an object along the path.
enum Key {
    Wanted,
    Envelope(EnvelopeField),
    Other,
}

/// The envelope's fields (PROTOCOL.md §3.2), in both spellings.
#[derive(Clone, Copy)]
enum EnvelopeField {
    Code,
    Message,
    RequestId,
    HostId,
    Recommend,
}

impl EnvelopeField {
    fn named(key: &str) -> Option<Self> {
        Some(match key {
            "Code" | "code" => Self::Code,
            "Message" | "message" => Self::Message,
            "RequestId" | "requestId" => Self::RequestId,
            "HostId" | "hostId" => Self::HostId,
            "Recommend" | "recommend" => Self::Recommend,
            _ => return None,
        })
    }
}

/// [`lenient::string`] as a seed.
struct LenientString;

impl<'de> de::DeserializeSeed<'de> for LenientString {
    type Value = Option<String>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        lenient::string(d)
    }
}

/// Which [`Key`] a map key is (`Some(wanted)`, an envelope field, other),
/// told without copying the key.
struct KeyIs<'p>(Option<&'p str>);

impl<'de> de::DeserializeSeed<'de> for KeyIs<'_> {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if self.0 == Some(key) {
            Key::Wanted
        } else {
            EnvelopeField::named(key).map_or(Key::Other, Key::Envelope)
        })
    }
}

/// The body (`kinds[0]`) must be an object.
fn object(kinds: &[&str]) -> Result<(), String> {
    match kinds.first() {
        Some(&"an object") => Ok(()),
        Some(other) => Err(format!("the body is {other}, not an object")),
        None => Err("the body is empty".into()),
    }
}

/// `<outer>.<inner>` must be a list (a lone object counts as one); `kinds`
/// are the kinds of `outer` and `inner`, as far as they exist.
fn wrapped_list(kinds: &[&str], path: &str, outer: &str, inner: &str) -> Result<(), String> {
    match kinds.first() {
        Some(&"an object") => {}
        Some(other) => return Err(format!("`{path}{outer}` is {other}, not an object")),
        None => return Err(format!("no `{path}{outer}` wrapper")),
    }
    match kinds.get(1) {
        Some(&("a list" | "an object")) => Ok(()),
        Some(other) => Err(format!("`{path}{outer}.{inner}` is {other}, not a list")),
        None => Err(format!("no `{path}{outer}.{inner}` list")),
    }
}

impl Contract for SendFileResultsResponse {
    /// `Invocations.Invocation[]`, ECS and eflo alike. The paging fields are
    /// not required here: page mode refuses a page without `TotalCount`
    /// itself, and a page without `NextToken` looks like a last page, which
    /// only an end-of-listing check can question.
    fn scan(body: &[u8]) -> Scan {
        Scan::along(body, &["Invocations", "Invocation"], |kinds| {
            object(kinds)?;
            wrapped_list(&kinds[1..], "", "Invocations", "Invocation")
        })
    }
}

impl Contract for InstancesResponse {
    /// `Instances.Instance[]`, paging fields beside it.
    fn scan(body: &[u8]) -> Scan {
        Scan::along(body, &["Instances", "Instance"], |kinds| {
            object(kinds)?;
            wrapped_list(&kinds[1..], "", "Instances", "Instance")
        })
    }
}

impl Contract for InvocationResultsResponse {
    /// `Invocation.InvocationResults.InvocationResult[]` (the paging fields
    /// sit inside `Invocation`).
    fn scan(body: &[u8]) -> Scan {
        let path = ["Invocation", "InvocationResults", "InvocationResult"];
        Scan::along(body, &path, |kinds| {
            object(kinds)?;
            match kinds.get(1) {
                Some(&"an object") => {}
                Some(other) => return Err(format!("`Invocation` is {other}, not an object")),
                None => return Err("no `Invocation` object".into()),
            }
            wrapped_list(
                &kinds[2..],
                "Invocation.",
                "InvocationResults",
                "InvocationResult",
            )
        })
    }
}

/// A list the API wraps in an object: `{"Invocation": [...]}`.
///
/// The inner key's name varies (`Invocation`, `InvokeInstance`, `Tag`, …)
/// and is not checked: the wrapper holds exactly one list.
#[derive(Debug, Clone, PartialEq)]
pub struct Wrapped<T>(pub Vec<T>);

impl<T> Default for Wrapped<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> Wrapped<T> {
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Wrapped<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WrappedVisitor<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for WrappedVisitor<T> {
            type Value = Wrapped<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a wrapped list like {\"Item\": [...]}")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Wrapped(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Wrapped(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                // XML-derived JSON sometimes renders an empty wrapper as "".
                if v.trim().is_empty() {
                    Ok(Wrapped(Vec::new()))
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                // The wrapper level is missing: the list itself.
                LenientList::<T>::visit_seq_items(seq).map(Wrapped)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(_key) = map.next_key::<IgnoredAny>()? {
                    let LenientList(more) = map.next_value::<LenientList<T>>()?;
                    items.extend(more);
                }
                Ok(Wrapped(items))
            }
        }
        deserializer.deserialize_any(WrappedVisitor(PhantomData))
    }
}

/// A list that may be missing, null, or a lone object.
#[derive(Debug, Clone, PartialEq)]
pub struct LenientList<T>(pub Vec<T>);

impl<T> Default for LenientList<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T: DeserializeOwned> LenientList<T> {
    fn visit_seq_items<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element::<T>()? {
            items.push(item);
        }
        Ok(items)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for LenientList<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Read in one pass, straight into `T`: a lone object is handed to
        // T's own deserializer as the map it is.
        struct ListVisitor<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for ListVisitor<T> {
            type Value = LenientList<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list, a lone object or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientList(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(LenientList(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if v.trim().is_empty() {
                    Ok(LenientList(Vec::new()))
                } else {
                    Err(E::invalid_type(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                LenientList::<T>::visit_seq_items(seq).map(LenientList)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|one| LenientList(vec![one]))
            }
        }
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

/// Lenient scalar readers, for `#[serde(deserialize_with = ...)]`.
pub mod lenient {
    use super::*;

    /// A string from a string, number, boolean or null.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        d.deserialize_any(Text(PhantomData))
    }

    /// [`string`], inline when short.
    pub fn compact<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CompactString>, D::Error> {
        d.deserialize_any(Text(PhantomData))
    }

    /// The visitor of [`string`] and [`compact`], for either string type.
    struct Text<T>(PhantomData<T>);

    impl<'de, T: for<'a> From<&'a str> + From<String>> Visitor<'de> for Text<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string, number, boolean or null")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(T::from(v)))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(T::from(v)))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(T::from(v.to_string())))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(T::from(v.to_string())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(T::from(v.to_string())))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(T::from(v.to_string())))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    /// A boolean from a boolean, number (0 is false), text or null.
    pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<bool>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean, `true`/`false` text, a number or null")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v != 0))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v != 0))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Some(v != 0.0))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                match v.trim().to_ascii_lowercase().as_str() {
                    "" => Ok(None),
                    "true" | "t" | "1" => Ok(Some(true)),
                    "false" | "f" | "0" => Ok(Some(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        d.deserialize_any(V)
    }

    /// A signed integer from a number, integral float, numeric text, boolean or null.
    pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer, integer text, a boolean or null")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(Some)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if v.fract() == 0.0 && v.abs() < 9.0e15 {
                    Ok(Some(v as i64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(i64::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let t = v.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                if let Ok(n) = t.parse::<i64>() {
                    return Ok(Some(n));
                }
                match t.parse::<f64>() {
                    Ok(f) if f.is_finite() => self.visit_f64(f),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
        }
        d.deserialize_any(V)
    }

    /// A non-negative integer, read like [`i64()`].
    pub fn u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        match i64(d)? {
            None => Ok(None),
            Some(n) => u64::try_from(n)
                .map(Some)
                .map_err(|_| de::Error::custom(format!("expected a count, found {n}"))),
        }
    }
}

/// A field type that knows its lenient reading; lets one macro declare
/// every response struct with the same `deserialize_with`.
pub trait LenientField: Sized {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

impl LenientField for Option<String> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::string(d)
    }
}

/// The short fields of a delivery record (ids, statuses, times) arrive by
/// the million: held inline, they cost no allocation.
impl LenientField for Option<CompactString> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::compact(d)
    }
}

impl LenientField for Option<bool> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::bool(d)
    }
}

impl LenientField for Option<i64> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::i64(d)
    }
}

impl LenientField for Option<u64> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::u64(d)
    }
}

impl<T: DeserializeOwned> LenientField for Wrapped<T> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Wrapped::deserialize(d)
    }
}

impl LenientField for Option<InvocationResultsPage> {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::deserialize(d)
    }
}

fn read_field<'de, D: Deserializer<'de>, T: LenientField>(d: D) -> Result<T, D::Error> {
    T::read(d)
}

/// Declares a response struct whose every field is optional and lenient.
macro_rules! lenient_fields {
    ($(#[$meta:meta])* pub struct $name:ident { $($field:ident : $ty:ty = $json:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Deserialize)]
        pub struct $name {
            $(
                #[serde(rename = $json, default, deserialize_with = "read_field")]
                pub $field: $ty,
            )*
        }
    };
}

lenient_fields! {
    /// ECS `DescribeSendFileResults` (top-level paging fields).
    pub struct SendFileResultsResponse {
        request_id: Option<String> = "RequestId",
        total_count: Option<u64> = "TotalCount",
        page_number: Option<u64> = "PageNumber",
        page_size: Option<u64> = "PageSize",
        next_token: Option<String> = "NextToken",
        invocations: Wrapped<SendFileInvocation> = "Invocations",
    }
}

lenient_fields! {
    /// One SendFile task, from ECS or eflo.
    pub struct SendFileInvocation {
        invoke_id: Option<String> = "InvokeId",
        name: Option<String> = "Name",
        description: Option<String> = "Description",
        content: Option<String> = "Content",
        content_type: Option<String> = "ContentType",
        target_dir: Option<String> = "TargetDir",
        file_mode: Option<String> = "FileMode",
        file_owner: Option<String> = "FileOwner",
        file_group: Option<String> = "FileGroup",
        overwrite: Option<bool> = "Overwrite",
        creation_time: Option<String> = "CreationTime",
        invocation_status: Option<String> = "InvocationStatus",
        vm_count: Option<u64> = "VmCount",
        node_count: Option<u64> = "NodeCount",
        tags: Wrapped<Tag> = "Tags",
        invoke_instances: Wrapped<InvokeTarget> = "InvokeInstances",
        invoke_nodes: Wrapped<InvokeTarget> = "InvokeNodes",
    }
}

lenient_fields! {
    /// ECS `DescribeInstances`.
    pub struct InstancesResponse {
        request_id: Option<String> = "RequestId",
        total_count: Option<u64> = "TotalCount",
        page_number: Option<u64> = "PageNumber",
        page_size: Option<u64> = "PageSize",
        next_token: Option<String> = "NextToken",
        instances: Wrapped<Instance> = "Instances",
    }
}

lenient_fields! {
    /// One ECS instance (the fields shipcheck reads).
    pub struct Instance {
        instance_id: Option<String> = "InstanceId",
        status: Option<String> = "Status",
        region_id: Option<String> = "RegionId",
        resource_group_id: Option<String> = "ResourceGroupId",
        tags: Wrapped<Tag> = "Tags",
    }
}

lenient_fields! {
    /// A tag pair (`TagKey`/`TagValue`).
    pub struct Tag {
        key: Option<String> = "TagKey",
        value: Option<String> = "TagValue",
    }
}

lenient_fields! {
    /// One instance (`InvokeInstance`) or node (`InvokeNode`) of a task.
    pub struct InvokeTarget {
        instance_id: Option<CompactString> = "InstanceId",
        node_id: Option<CompactString> = "NodeId",
        invocation_status: Option<CompactString> = "InvocationStatus",
        error_code: Option<CompactString> = "ErrorCode",
        error_info: Option<String> = "ErrorInfo",
        creation_time: Option<CompactString> = "CreationTime",
        start_time: Option<CompactString> = "StartTime",
        finish_time: Option<CompactString> = "FinishTime",
        update_time: Option<CompactString> = "UpdateTime",
    }
}

lenient_fields! {
    /// ECS `DescribeInvocationResults`: the paging fields are nested in `Invocation`.
    pub struct InvocationResultsResponse {
        request_id: Option<String> = "RequestId",
        invocation: Option<InvocationResultsPage> = "Invocation",
    }
}

lenient_fields! {
    /// The `Invocation` object of `DescribeInvocationResults`.
    pub struct InvocationResultsPage {
        total_count: Option<u64> = "TotalCount",
        page_number: Option<u64> = "PageNumber",
        page_size: Option<u64> = "PageSize",
        next_token: Option<String> = "NextToken",
        results: Wrapped<InvocationResult> = "InvocationResults",
    }
}

lenient_fields! {
    /// One command execution on one instance.
    pub struct InvocationResult {
        instance_id: Option<String> = "InstanceId",
        invoke_id: Option<String> = "InvokeId",
        command_id: Option<String> = "CommandId",
        invocation_status: Option<String> = "InvocationStatus",
        invoke_record_status: Option<String> = "InvokeRecordStatus",
        exit_code: Option<i64> = "ExitCode",
        error_code: Option<String> = "ErrorCode",
        error_info: Option<String> = "ErrorInfo",
        output: Option<String> = "Output",
        dropped: Option<u64> = "Dropped",
        repeats: Option<u64> = "Repeats",
        start_time: Option<String> = "StartTime",
        finished_time: Option<String> = "FinishedTime",
        finish_time: Option<String> = "FinishTime",
        stop_time: Option<String> = "StopTime",
        username: Option<String> = "Username",
    }
}

/// The error envelope (PROTOCOL.md §3.2), including TEA's lowercase spellings.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ErrorEnvelope {
    #[serde(
        rename = "Code",
        alias = "code",
        default,
        deserialize_with = "lenient::string"
    )]
    pub code: Option<String>,
    #[serde(
        rename = "Message",
        alias = "message",
        default,
        deserialize_with = "lenient::string"
    )]
    pub message: Option<String>,
    #[serde(
        rename = "RequestId",
        alias = "requestId",
        default,
        deserialize_with = "lenient::string"
    )]
    pub request_id: Option<String>,
    #[serde(
        rename = "HostId",
        alias = "hostId",
        default,
        deserialize_with = "lenient::string"
    )]
    pub host_id: Option<String>,
    #[serde(
        rename = "Recommend",
        alias = "recommend",
        default,
        deserialize_with = "lenient::string"
    )]
    pub recommend: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_accept_the_go_sdk_spellings() {
        let inv: SendFileInvocation = serde_json::from_str(
            r#"{"InvokeId": 12, "Overwrite": "TRUE", "FileMode": 777, "VmCount": "3",
                "Name": true, "Description": null, "NodeCount": 2.0}"#,
        )
        .unwrap();
        assert_eq!(inv.invoke_id.as_deref(), Some("12"));
        assert_eq!(inv.overwrite, Some(true));
        assert_eq!(inv.file_mode.as_deref(), Some("777"));
        assert_eq!(inv.vm_count, Some(3));
        assert_eq!(inv.name.as_deref(), Some("true"));
        assert_eq!(inv.description, None);
        assert_eq!(inv.node_count, Some(2));
        for (text, want) in [
            ("0", Some(false)),
            ("1", Some(true)),
            ("\"\"", None),
            ("0.0", Some(false)),
            ("\"False\"", Some(false)),
            ("null", None),
        ] {
            let inv: SendFileInvocation =
                serde_json::from_str(&format!(r#"{{"Overwrite": {text}}}"#)).unwrap();
            assert_eq!(inv.overwrite, want, "{text}");
        }
        let r: InvocationResult =
            serde_json::from_str(r#"{"ExitCode": "-1", "Dropped": "", "Repeats": true}"#).unwrap();
        assert_eq!(
            (r.exit_code, r.dropped, r.repeats),
            (Some(-1), None, Some(1))
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_default() {
        for bad in [
            r#"{"VmCount": "many"}"#,
            r#"{"VmCount": -1}"#,
            r#"{"VmCount": 1.5}"#,
            r#"{"Overwrite": "maybe"}"#,
            r#"{"Name": {"x": 1}}"#,
            r#"{"Tags": 5}"#,
        ] {
            assert!(
                serde_json::from_str::<SendFileInvocation>(bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn responses_without_their_documented_wrapper_break_the_contract() {
        let ok = |body: &str| SendFileResultsResponse::check(body.as_bytes());
        assert_eq!(
            ok(r#"{"TotalCount": 0, "Invocations": {"Invocation": []}}"#),
            Ok(())
        );
        assert_eq!(
            ok(r#"{"NextToken": "", "Invocations": {"Invocation": {"InvokeId": "f"}}}"#),
            Ok(())
        );
        for bad in [
            "{}",
            "[]",
            r#"{"RequestId": "r"}"#,
            r#"{"TotalCount": 1, "Invocations": null}"#,
            r#"{"TotalCount": 1, "Invocations": {}}"#,
            r#"{"TotalCount": 1, "Invocations": {"Invocation": null}}"#,
            r#"{"TotalCount": 1, "Data": {"Invocations": {"Invocation": []}}}"#,
            r#"{"TotalCount": 1, "Invocations": []}"#,
        ] {
            assert!(ok(bad).is_err(), "{bad}");
        }
        let results = |body: &str| InvocationResultsResponse::check(body.as_bytes());
        assert_eq!(
            results(
                r#"{"Invocation": {"TotalCount": 0, "InvocationResults": {"InvocationResult": []}}}"#
            ),
            Ok(())
        );
        for bad in [
            "{}",
            r#"{"Invocation": null}"#,
            r#"{"Invocation": {"TotalCount": 0}}"#,
            r#"{"Invocation": []}"#,
            r#"{"TotalCount": 0, "InvocationResults": {"InvocationResult": []}}"#,
        ] {
            let err = results(bad).unwrap_err();
            assert!(err.contains("Invocation"), "{bad}: {err}");
        }
    }

    #[test]
    fn wrappers_tolerate_missing_null_and_lone_items() {
        for body in [
            r#"{"Invocations": null}"#,
            r#"{"Invocations": {}}"#,
            r#"{"Invocations": {"Invocation": null}}"#,
            r#"{"Invocations": {"Invocation": []}}"#,
            r#"{"Invocations": ""}"#,
        ] {
            let page: SendFileResultsResponse = serde_json::from_str(body).unwrap();
            assert!(page.invocations.0.is_empty(), "{body}");
        }
        let lone: SendFileResultsResponse =
            serde_json::from_str(r#"{"Invocations": {"Invocation": {"InvokeId": "f-1"}}}"#)
                .unwrap();
        assert_eq!(lone.invocations.0[0].invoke_id.as_deref(), Some("f-1"));
        let bare: SendFileResultsResponse =
            serde_json::from_str(r#"{"Invocations": [{"InvokeId": "f-2"}]}"#).unwrap();
        assert_eq!(bare.invocations.0[0].invoke_id.as_deref(), Some("f-2"));
    }

    #[test]
    fn envelope_reads_both_spellings() {
        let e: ErrorEnvelope =
            serde_json::from_str(r#"{"code": "Throttling", "message": "m", "requestId": "r"}"#)
                .unwrap();
        assert_eq!(e.code.as_deref(), Some("Throttling"));
        assert_eq!(e.request_id.as_deref(), Some("r"));
        let e: ErrorEnvelope = serde_json::from_str(
            r#"{"Code": "Forbidden.RAM", "Message": "m", "RequestId": "r", "HostId": "h", "Recommend": "u"}"#,
        )
        .unwrap();
        assert_eq!(e.recommend.as_deref(), Some("u"));
    }
}
