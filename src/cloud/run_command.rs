//! ECS `RunCommand`, the one write shipcheck makes, and only for the
//! read-only probe of `check --probe`.
//!
//! A `ClientToken` makes the call idempotent, so a retried request does not
//! start the probe twice.

use serde::Deserialize;

use crate::cloud::CloudClient;
use crate::cloud::error::CloudError;
use crate::cloud::retry::Stats;
use crate::cloud::rpc::ApiCall;
use crate::cloud::wire::{Contract, Scan};
use crate::protocol::Provider;

const ACTION: &str = "RunCommand";

/// The parameters of one `RunCommand`, by their API names (what
/// `--dry-run` shows, and what is sent).
pub fn run_command_params(
    region: &str,
    name: &str,
    script: &str,
    timeout_secs: u64,
    instances: &[String],
) -> Vec<(String, String)> {
    let mut params = vec![
        ("RegionId".to_owned(), region.to_owned()),
        ("Name".to_owned(), name.to_owned()),
        ("Type".to_owned(), "RunShellScript".to_owned()),
        ("CommandContent".to_owned(), script.to_owned()),
        ("ContentEncoding".to_owned(), "PlainText".to_owned()),
        ("Timeout".to_owned(), timeout_secs.to_string()),
    ];
    params.extend(
        instances
            .iter()
            .enumerate()
            .map(|(i, id)| (format!("InstanceId.{}", i + 1), id.clone())),
    );
    params
}

#[derive(Debug, Deserialize)]
struct RunCommandResponse {
    #[serde(rename = "InvokeId")]
    invoke_id: String,
}

impl Contract for RunCommandResponse {
    fn scan(body: &[u8]) -> Scan {
        // A one-off small answer: the id is read whole, to see it is not empty.
        Scan::along(body, &[], |_| {
            let body: serde_json::Value =
                serde_json::from_slice(body).map_err(|e| e.to_string())?;
            match body.get("InvokeId") {
                Some(serde_json::Value::String(id)) if !id.is_empty() => Ok(()),
                _ => Err("no `InvokeId`".into()),
            }
        })
    }
}

impl CloudClient {
    /// Starts a command; returns its `InvokeId`.
    pub async fn run_command(
        &self,
        region: &str,
        mut params: Vec<(String, String)>,
    ) -> Result<String, CloudError> {
        let endpoint = self.inner.endpoints.url(Provider::Ecs, region)?;
        params.push((
            "ClientToken".to_owned(),
            uuid::Uuid::new_v4().simple().to_string(),
        ));
        let query = format!("RegionId={region}, Type=RunShellScript");
        let call = ApiCall::new(Provider::Ecs, ACTION, region, params);
        let reply = self
            .before_deadline(
                ACTION,
                &query,
                self.inner
                    .rpc
                    .call::<RunCommandResponse>(&call, &endpoint, &Stats::default()),
            )
            .await?;
        Ok(reply.value.invoke_id)
    }
}
