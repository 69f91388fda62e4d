"""Drive the simulator's fleet side with the official Alibaba Cloud Python SDK.

Run by tests/it/sim_sdk.rs with the interpreter of target/sdk-venv (made by
scripts/test.sh), against tests/data/fixtures/sim/fleets-sdk.yaml. It lists
instances with DescribeInstances by tag (every page, in both paging
styles) and by resource group, then sends a file with tags and reads it back
with DescribeSendFileResults filtered by one of them, and runs a command with
tags and reads its results back with DescribeInvocationResults filtered by
one of them (what `task_tags:` on a command asks). The outcome is printed
as one JSON object; the Rust side decides.
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
REGION = "cn-hangzhou"


def client():
    return Client(
        Config(
            access_key_id=KEY_ID,
            access_key_secret=SECRET,
            endpoint=ENDPOINT,
            protocol="http",
            region_id=REGION,
        )
    )


def web_prod_tags():
    return [
        ecs.DescribeInstancesRequestTag(key="role", value="web"),
        ecs.DescribeInstancesRequestTag(key="env", value="prod"),
    ]


def instance(i):
    return {
        "id": i.instance_id,
        "status": i.status,
        "region": i.region_id,
        "tags": sorted((t.tag_key, t.tag_value) for t in i.tags.tag) if i.tags else [],
    }


def by_token(c):
    seen, token, pages = [], None, 0
    while True:
        reply = c.describe_instances(
            ecs.DescribeInstancesRequest(
                region_id=REGION, tag=web_prod_tags(), status="Running", max_results=2, next_token=token
            )
        ).body
        pages += 1
        seen += [instance(i) for i in reply.instances.instance]
        token = reply.next_token
        if not token:
            return {"pages": pages, "instances": seen}


def by_page(c):
    seen, number = [], 1
    while True:
        reply = c.describe_instances(
            ecs.DescribeInstancesRequest(region_id=REGION, tag=web_prod_tags(), page_number=number, page_size=2)
        ).body
        seen += [instance(i) for i in reply.instances.instance]
        if number * 2 >= reply.total_count:
            return {"total_count": reply.total_count, "instances": seen}
        number += 1


def main():
    c = client()
    group = c.describe_instances(
        ecs.DescribeInstancesRequest(
            region_id=REGION, resource_group_id="rg-sdk", instance_ids=json.dumps(["i-bp1fleet00000003", "i-bp1fleet00000001"])
        )
    ).body
    sent = c.send_file(
        ecs.SendFileRequest(
            region_id=REGION,
            instance_id=["i-bp1fleet00000001", "i-bp1fleet00000002"],
            name="release.conf",
            target_dir="/etc/app",
            content="v42\n",
            tag=[ecs.SendFileRequestTag(key="release", value="42"), ecs.SendFileRequestTag(key="team", value="web")],
        )
    )
    c.send_file(
        ecs.SendFileRequest(
            region_id=REGION, instance_id=["i-bp1fleet00000001"], name="release.conf", target_dir="/etc/app", content="hotfix\n"
        )
    )
    tagged = c.describe_send_file_results(
        ecs.DescribeSendFileResultsRequest(
            region_id=REGION,
            name="release.conf",
            tag=[ecs.DescribeSendFileResultsRequestTag(key="release", value="42")],
            max_results=50,
        )
    ).body
    ran = c.run_command(
        ecs.RunCommandRequest(
            region_id=REGION,
            instance_id=["i-bp1fleet00000001", "i-bp1fleet00000002"],
            type="RunShellScript",
            command_content="echo release 42",
            tag=[ecs.RunCommandRequestTag(key="release", value="42"), ecs.RunCommandRequestTag(key="team", value="web")],
        )
    )
    c.run_command(
        ecs.RunCommandRequest(
            region_id=REGION, instance_id=["i-bp1fleet00000001"], type="RunShellScript", command_content="echo hotfix"
        )
    )
    tagged_runs = c.describe_invocation_results(
        ecs.DescribeInvocationResultsRequest(
            region_id=REGION,
            tag=[ecs.DescribeInvocationResultsRequestTag(key="release", value="42")],
            content_encoding="PlainText",
            max_results=50,
        )
    ).body.invocation
    outcome = {
        "by_token": by_token(c),
        "by_page": by_page(c),
        "resource_group": [instance(i) for i in group.instances.instance],
        "send_file_invoke_id": sent.body.invoke_id,
        "tagged": [
            {
                "invoke_id": f.invoke_id,
                "content": f.content,
                "tags": sorted((t.tag_key, t.tag_value) for t in f.tags.tag),
            }
            for f in tagged.invocations.invocation
        ],
        "run_command_invoke_id": ran.body.invoke_id,
        "tagged_runs": sorted(
            (
                {
                    "invoke_id": r.invoke_id,
                    "instance_id": r.instance_id,
                    "tags": sorted((t.tag_key, t.tag_value) for t in r.tags.tag) if r.tags else [],
                }
                for r in tagged_runs.invocation_results.invocation_result
            ),
            key=lambda r: r["instance_id"],
        ),
        "tagged_runs_total": tagged_runs.total_count,
    }
    json.dump(outcome, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
