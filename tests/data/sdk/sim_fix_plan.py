"""Issue shipcheck's `--fix-plan` with the official Alibaba Cloud Python SDK.

Run by tests/it/probe.rs (the interpreter of target/sdk-venv). Every call
in the plan (SIM_FIX_PLAN, a JSON file) is a SendFile whose parameters carry
the API's names; they are mapped onto the SDK's request model as any tool
reading the plan would, and sent to the simulator. Prints how many calls it
made.
"""

import json
import os

from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config

# The plan's parameter names (the API's) onto the SDK model's fields.
FIELDS = {
    "RegionId": "region_id",
    "Name": "name",
    "TargetDir": "target_dir",
    "Content": "content",
    "ContentType": "content_type",
    "FileMode": "file_mode",
    "FileOwner": "file_owner",
    "FileGroup": "file_group",
    "Overwrite": "overwrite",
    "InstanceId": "instance_id",
}


def main():
    client = Client(
        Config(
            access_key_id=os.environ["SIM_ACCESS_KEY_ID"],
            access_key_secret=os.environ["SIM_ACCESS_KEY_SECRET"],
            endpoint=os.environ["SIM_ENDPOINT"],
            protocol="http",
            region_id="cn-hangzhou",
        )
    )
    with open(os.environ["SIM_FIX_PLAN"], encoding="utf-8") as f:
        plan = json.load(f)
    sent = 0
    for call in plan["calls"]:
        assert call["action"] == "SendFile", call
        fields = {}
        for name, value in call["parameters"].items():
            if name == "Overwrite" and isinstance(value, str):
                value = value == "true"
            fields[FIELDS[name]] = value
        client.send_file(ecs.SendFileRequest(**fields))
        sent += 1
    print(json.dumps({"sent": sent}))


if __name__ == "__main__":
    main()
