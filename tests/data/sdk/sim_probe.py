"""Run shipcheck's disk probe through the official Alibaba Cloud Python SDK.

Run by tests/it/sim_sdk.rs (the interpreter of target/sdk-venv). It sends a
file with SendFile, runs the probe script (SIM_PROBE_SCRIPT, written by
shipcheck) with RunCommand exactly as `check --probe` does, and reads the
output back with DescribeInvocationResults in its default Base64 encoding,
decoding it as the API encodes it. The outcome is one JSON object; the Rust
side parses the output with shipcheck's strict parser and decides.
"""

import base64
import json
import os

from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config

ENDPOINT = os.environ["SIM_ENDPOINT"]  # host:port, no scheme
KEY_ID = os.environ["SIM_ACCESS_KEY_ID"]
SECRET = os.environ["SIM_ACCESS_KEY_SECRET"]
REGION = os.environ.get("SIM_REGION", "cn-hangzhou")
INSTANCE = os.environ["SIM_INSTANCE"]
SCRIPT = os.environ["SIM_PROBE_SCRIPT"]


def main():
    c = Client(
        Config(
            access_key_id=KEY_ID,
            access_key_secret=SECRET,
            endpoint=ENDPOINT,
            protocol="http",
            region_id=REGION,
        )
    )
    c.send_file(
        ecs.SendFileRequest(
            region_id=REGION,
            instance_id=[INSTANCE],
            name="probed.conf",
            target_dir="/etc/shipcheck",
            content="probed by the SDK\n",
            content_type="PlainText",
            file_mode="0640",
            file_owner="root",
            file_group="root",
            overwrite=True,
        )
    )
    ran = c.run_command(
        ecs.RunCommandRequest(
            region_id=REGION,
            instance_id=[INSTANCE],
            name="shipcheck-probe",
            type="RunShellScript",
            command_content=SCRIPT,
            content_encoding="PlainText",
            timeout=60,
        )
    )
    results = c.describe_invocation_results(
        ecs.DescribeInvocationResultsRequest(region_id=REGION, invoke_id=ran.body.invoke_id)
    )
    result = results.body.invocation.invocation_results.invocation_result[0]
    print(
        json.dumps(
            {
                "invoke_id": ran.body.invoke_id,
                "status": result.invocation_status,
                "exit_code": result.exit_code,
                "dropped": result.dropped,
                "output": base64.b64decode(result.output).decode(),
            }
        )
    )


main()
