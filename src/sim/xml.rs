//! `Format=XML`: the answer the actions build as JSON, written the way the
//! API writes XML (the documents' samples, e.g. DescribeSendFileResults and
//! DescribeInvocationResults): a root `<{Action}Response>` (`<Error>` for
//! an error), an element per key, a list as its key repeated
//! (`"Invocation": [a, b]` is `<Invocation>a</Invocation><Invocation>b</Invocation>`),
//! scalars as text.
//!
//! Old SDKs still ask for XML (`set_accept_format('XML')` in
//! aliyun-python-sdk-core); the current ones always ask for JSON.

use serde_json::Value;

/// Whether the request asks for XML (`Format` is case-insensitive, as the
/// API takes it).
pub fn wants_xml(params: &[(String, String)]) -> bool {
    params
        .iter()
        .find(|(name, _)| name == "Format")
        .is_some_and(|(_, value)| value.eq_ignore_ascii_case("XML"))
}

/// `json` written as XML under `root`; `None` when it is not a JSON object
/// (a hostile answer's raw bytes stay as they are).
pub fn from_json(root: &str, json: &[u8]) -> Option<Vec<u8>> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(json) else {
        return None;
    };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    out.push_str(&format!("<{root}>"));
    for (key, value) in &map {
        element(&mut out, key, value);
    }
    out.push_str(&format!("</{root}>"));
    Some(out.into_bytes())
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        // A list is its items, each under the list's own name.
        Value::Array(items) => {
            for item in items {
                element(out, name, item);
            }
        }
        Value::Object(map) => {
            out.push_str(&format!("<{name}>"));
            for (key, value) in map {
                element(out, key, value);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Null => out.push_str(&format!("<{name}/>")),
        Value::String(text) if text.is_empty() => out.push_str(&format!("<{name}/>")),
        Value::String(text) => {
            out.push_str(&format!("<{name}>{}</{name}>", escape(text)));
        }
        Value::Bool(b) => out.push_str(&format!("<{name}>{b}</{name}>")),
        Value::Number(n) => out.push_str(&format!("<{name}>{n}</{name}>")),
    }
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_repeat_their_name_and_text_is_escaped() {
        let json = serde_json::json!({
            "RequestId": "R-1",
            "Invocations": {"Invocation": [
                {"Name": "a<&>.conf", "Overwrite": false, "VmCount": 2, "ErrorInfo": ""},
                {"Name": "b", "Overwrite": true, "VmCount": 1, "ErrorInfo": null}
            ]}
        });
        let xml = from_json(
            "DescribeSendFileResultsResponse",
            json.to_string().as_bytes(),
        )
        .unwrap();
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.starts_with(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><DescribeSendFileResultsResponse>"
        ));
        for piece in [
            "<Invocations><Invocation>",
            "<Name>a&lt;&amp;&gt;.conf</Name>",
            "<Overwrite>false</Overwrite>",
            "<VmCount>2</VmCount>",
            "<ErrorInfo/>",
            "</Invocation></Invocations>",
            "<RequestId>R-1</RequestId>",
        ] {
            assert!(xml.contains(piece), "{piece} in {xml}");
        }
        assert_eq!(xml.matches("<Invocation>").count(), 2, "{xml}");
        assert!(xml.ends_with("</DescribeSendFileResultsResponse>"), "{xml}");
        assert!(from_json("X", b"not json").is_none());
        assert!(wants_xml(&[("Format".into(), "xml".into())]));
        assert!(!wants_xml(&[("Format".into(), "JSON".into())]));
    }
}
