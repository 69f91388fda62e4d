//! An API answer, any bytes: parsing it as either listing and normalising
//! every record it holds must return a value or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shipcheck::cloud::normalize::{self, ContentEncoding};
use shipcheck::cloud::wire::{InvocationResultsResponse, SendFileResultsResponse};
use shipcheck::protocol::Provider;

fuzz_target!(|data: &[u8]| {
    if let Ok(page) = serde_json::from_slice::<SendFileResultsResponse>(data) {
        for raw in page.invocations.into_vec() {
            let _ = normalize::file_invocation(Provider::Ecs, "cn-hangzhou", raw);
        }
    }
    if let Ok(reply) = serde_json::from_slice::<InvocationResultsResponse>(data) {
        for raw in reply.invocation.unwrap_or_default().results.into_vec() {
            let _ = normalize::command_result("cn-hangzhou", ContentEncoding::Base64, raw);
        }
    }
});
