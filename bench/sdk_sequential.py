"""The official Python SDK's way to list a region's file deliveries: one
DescribeSendFileResults call after another, NextToken/MaxResults=50.

Run by bench/sdk_compare.sh with target/sdk-venv's interpreter; the endpoint
and credentials come from the environment. Prints the tasks and
(file, instance) results it read, so the benchmark can see it read them all.
"""

import os

from alibabacloud_ecs20140526 import models as ecs
from alibabacloud_ecs20140526.client import Client
from alibabacloud_tea_openapi.models import Config

REGION = os.environ.get("SIM_REGION", "cn-hangzhou")


def client():
    return Client(
        Config(
            access_key_id=os.environ["SIM_ACCESS_KEY_ID"],
            access_key_secret=os.environ["SIM_ACCESS_KEY_SECRET"],
            endpoint=os.environ["SIM_ENDPOINT"],
            protocol="http",
            region_id=REGION,
        )
    )


def main():
    c = client()
    tasks = results = 0
    token = None
    while True:
        body = c.describe_send_file_results(
            ecs.DescribeSendFileResultsRequest(
                region_id=REGION, max_results=50, next_token=token
            )
        ).body
        for task in body.invocations.invocation:
            tasks += 1
            results += len(task.invoke_instances.invoke_instance)
        token = body.next_token
        if not token:
            break
    print(f"{tasks} tasks, {results} results")


if __name__ == "__main__":
    main()
