"""Drive shipcheck's simulator with the old Python SDK (aliyun-python-sdk-core).

Run by tests/it/sim_sdk.rs with the interpreter of target/sdk-venv (made by
scripts/test.sh). Prints one JSON object for the Rust test to check; nothing
here asserts.

The old SDK is what still asks for XML (`set_accept_format('XML')`; the
current SDK always asks for JSON), and its `CommonRequest` signs the union
of the query and the form body (`rpc_signature_composer.py`), so a
parameter in both places is signed once. This script:

1. sends a file and runs a command with POST `CommonRequest`s that carry
   `RegionId` both in the query (where the SDK puts it) and in the body;
2. reads both back with `DescribeSendFileResults` and
   `DescribeInvocationResults` asking for XML, and reports what it parsed,
   with the element paths of the answers and of the documents' XML samples
   (paths given in SIM_XML_SAMPLES) for the shapes to be compared.
"""

import json
import os
import warnings
import xml.etree.ElementTree as ET

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

ENDPOINT = os.environ["SIM_ENDPOINT"]  # host:port, no scheme
KEY_ID = os.environ["SIM_ACCESS_KEY_ID"]
SECRET = os.environ["SIM_ACCESS_KEY_SECRET"]
REGION = os.environ.get("SIM_REGION", "cn-hangzhou")
INSTANCE = os.environ["SIM_INSTANCE"]
SEND_FILE_SAMPLE, INVOCATION_SAMPLE = os.environ["SIM_XML_SAMPLES"].split(os.pathsep)


def request(action, method="POST", accept="JSON"):
    r = CommonRequest()
    r.set_domain(ENDPOINT)
    r.set_protocol_type("http")
    r.set_version("2014-05-26")
    r.set_action_name(action)
    r.set_method(method)
    r.set_accept_format(accept)
    r.add_query_param("RegionId", REGION)
    return r


def in_both(r):
    """The same parameter in the form body too: signed once by this SDK."""
    r.add_body_params("RegionId", REGION)
    return r


def paths(element, prefix=""):
    """Every element path of an XML tree, e.g. `A/B/C`."""
    here = f"{prefix}/{element.tag}" if prefix else element.tag
    found = {here}
    for child in element:
        found |= paths(child, here)
    return found


def text(element, path):
    found = element.find(path)
    return None if found is None else (found.text or "")


def call(client, r):
    try:
        return {"body": client.do_action_with_exception(r).decode("utf-8")}
    except ServerException as e:
        return {"error": {"code": e.get_error_code(), "message": e.get_error_msg()}}


def call_keeping_format(client, r):
    """`do_action`: `do_action_with_exception` forces JSON whatever the
    request's accept format, so XML users of this SDK call this one."""
    warnings.simplefilter("ignore", DeprecationWarning)
    return {"body": client.do_action(r).decode("utf-8")}


def parse(answer):
    """The XML root of an answer, or None (the answer is then reported as is)."""
    try:
        return ET.fromstring(answer["body"]) if "body" in answer else None
    except ET.ParseError:
        return None


def main():
    client = AcsClient(KEY_ID, SECRET, REGION)
    outcome = {}

    send = in_both(request("SendFile"))
    for k, v in {
        "InstanceId.1": INSTANCE,
        "Name": "old-sdk.conf",
        "TargetDir": "/etc/old-sdk",
        "Content": "hello from the old SDK\n",
        "ContentType": "PlainText",
        "FileMode": "0600",
        "Overwrite": "true",
    }.items():
        send.add_body_params(k, v)
    sent = call(client, send)
    outcome["send_file"] = sent
    run = in_both(request("RunCommand"))
    for k, v in {
        "InstanceId.1": INSTANCE,
        "Type": "RunShellScript",
        "CommandContent": "echo hello old-sdk",
    }.items():
        run.add_body_params(k, v)
    ran = call(client, run)
    outcome["run_command"] = ran
    if "error" in sent or "error" in ran:
        print(json.dumps(outcome))
        return
    send_file_id = json.loads(sent["body"])["InvokeId"]
    run_command_id = json.loads(ran["body"])["InvokeId"]

    files = request("DescribeSendFileResults", method="GET", accept="XML")
    files.add_query_param("InvokeId", send_file_id)
    answer = call_keeping_format(client, files)
    root = parse(answer)
    if root is not None:
        invocation = root.find("Invocations/Invocation")
        outcome["files_xml"] = {
            "root": root.tag,
            "total_count": text(root, "TotalCount"),
            "invocations": len(root.findall("Invocations/Invocation")),
            "invoke_id": text(invocation, "InvokeId"),
            "name": text(invocation, "Name"),
            "target_dir": text(invocation, "TargetDir"),
            "file_mode": text(invocation, "FileMode"),
            "overwrite": text(invocation, "Overwrite"),
            "content": text(invocation, "Content"),
            "instances": [
                {"id": text(i, "InstanceId"), "status": text(i, "InvocationStatus")}
                for i in invocation.findall("InvokeInstances/InvokeInstance")
            ],
            "paths": sorted(paths(root)),
            "sample_paths": sorted(paths(ET.parse(SEND_FILE_SAMPLE).getroot())),
        }
    else:
        outcome["files_xml"] = answer

    results = in_both(request("DescribeInvocationResults", accept="XML"))
    results.add_body_params("InvokeId", run_command_id)
    results.add_body_params("ContentEncoding", "PlainText")
    answer = call_keeping_format(client, results)
    root = parse(answer)
    if root is not None:
        result = root.find("Invocation/InvocationResults/InvocationResult")
        outcome["results_xml"] = {
            "root": root.tag,
            "invoke_id": text(result, "InvokeId"),
            "instance_id": text(result, "InstanceId"),
            "exit_code": text(result, "ExitCode"),
            "output": text(result, "Output"),
            "paths": sorted(paths(root)),
            "sample_paths": sorted(paths(ET.parse(INVOCATION_SAMPLE).getroot())),
        }
    else:
        outcome["results_xml"] = answer

    print(json.dumps(outcome))


main()
