#!/usr/bin/env bash
# Runs every test. On a fresh machine it first creates a virtualenv with the
# official Alibaba Cloud Python SDK, which the simulator's interop tests drive.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/sdk-venv
if ! "$venv/bin/python" -c 'import alibabacloud_ecs20140526, aliyunsdkcore' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/data/sdk/requirements.txt
fi
export SHIPCHECK_SDK_PYTHON="$PWD/$venv/bin/python"

# The SDK tests are #[ignore]d so that a bare `cargo test` needs no Python;
# here they run with everything else.
cargo test --locked --all-targets -- --include-ignored
