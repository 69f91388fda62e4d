"""Drive shipcheck's simulator with the official Alibaba Cloud Python SDK.

Run by tests/it/sim_sdk.rs with the interpreter of target/sdk-venv (made by
scripts/test.sh). The simulator's address and credentials come from the
environment; the outcome is printed as one JSON object for the Rust test to
check. Nothing here asserts: the Rust side decides.

For each signature scheme (the SDK default, V3 ACS3-HMAC-SHA256, and
signature_algorithm='v2', the V1 HMAC-SHA1 RPC signature) it sends a file
with SendFile, runs a command with RunCommand, and reads both back with
DescribeSendFileResults and DescribeInvocationResults. Then it repeats one
call with a wrong secret and records the error code the SDK raises.
"""

import json
import os
import sys

from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config

ENDPOINT = os.environ["SIM_ENDPOINT"]  # host:port, no scheme
KEY_ID = os.environ["SIM_ACCESS_KEY_ID"]
SECRET = os.environ["SIM_ACCESS_KEY_SECRET"]
REGION = os.environ.get("SIM_REGION", "cn-hangzhou")
INSTANCE = os.environ["SIM_INSTANCE"]


def client(secret, algorithm=None):
    config = Config(
        access_key_id=KEY_ID,
        access_key_secret=secret,
        endpoint=ENDPOINT,
        protocol="http",
        region_id=REGION,
    )
    if algorithm is not None:
        config.signature_algorithm = algorithm
    return Client(config)


def roundtrip(c, label):
    sent = c.send_file(
        ecs.SendFileRequest(
            region_id=REGION,
            instance_id=[INSTANCE],
            name=f"{label}.conf",
            target_dir="/etc/shipcheck",
            content=f"hello from {label}\n",
            content_type="PlainText",
            file_mode="0640",
            overwrite=True,
            tag=[ecs.SendFileRequestTag(key="via", value=label)],
        )
    )
    ran = c.run_command(
        ecs.RunCommandRequest(
            region_id=REGION,
            instance_id=[INSTANCE],
            type="RunShellScript",
            command_content=f"echo hello {label}",
        )
    )
    files = c.describe_send_file_results(
        ecs.DescribeSendFileResultsRequest(
            region_id=REGION, invoke_id=sent.body.invoke_id, max_results=50
        )
    )
    results = c.describe_invocation_results(
        ecs.DescribeInvocationResultsRequest(
            region_id=REGION,
            invoke_id=ran.body.invoke_id,
            content_encoding="PlainText",
        )
    )
    file = files.body.invocations.invocation[0]
    result = results.body.invocation.invocation_results.invocation_result[0]
    return {
        "send_file_invoke_id": sent.body.invoke_id,
        "run_command_invoke_id": ran.body.invoke_id,
        "file": {
            "invoke_id": file.invoke_id,
            "name": file.name,
            "target_dir": file.target_dir,
            "content": file.content,
            "file_mode": file.file_mode,
            "overwrite": file.overwrite,
            "status": file.invocation_status,
            "instances": [
                {"id": i.instance_id, "status": i.invocation_status, "error_code": i.error_code}
                for i in file.invoke_instances.invoke_instance
            ],
            "tags": [(t.tag_key, t.tag_value) for t in file.tags.tag],
        },
        "command": {
            "invoke_id": result.invoke_id,
            "instance_id": result.instance_id,
            "status": result.invocation_status,
            "exit_code": result.exit_code,
            "output": result.output,
        },
    }


def error_code(call):
    try:
        call()
    except Exception as error:  # the SDK raises its own exception types
        return {"code": getattr(error, "code", None), "message": getattr(error, "message", str(error))}
    return {"code": None, "message": "no error"}


def main():
    outcome = {
        "v3": roundtrip(client(SECRET), "v3"),
        "v2": roundtrip(client(SECRET, "v2"), "v2"),
    }
    describe = ecs.DescribeSendFileResultsRequest(region_id=REGION)
    outcome["wrong_secret"] = {
        "v3": error_code(lambda: client("not-the-secret").describe_send_file_results(describe)),
        "v2": error_code(lambda: client("not-the-secret", "v2").describe_send_file_results(describe)),
    }
    json.dump(outcome, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
