#!/usr/bin/env python3
"""Writes the manifest that matches `shipcheck sim --synthesize` (src/sim/synth.rs).

Usage: synth_manifest.py INSTANCES FILES > shipcheck.yaml
Every file goes to every instance through one instance set, so the manifest
declares INSTANCES x FILES (file, instance) pairs, as the simulator holds them.
"""
import json
import sys


def main() -> None:
    instances, files = int(sys.argv[1]), int(sys.argv[2])
    out = sys.stdout
    out.write(
        "version: 1\ndefaults:\n  region: cn-hangzhou\n  mode: \"0644\"\n"
        "  owner: root\n  group: root\n  overwrite: true\n"
        "instance_sets:\n  fleet:\n"
    )
    for n in range(instances):
        out.write(f"    - i-sim{n:015}\n")
    out.write("files:\n")
    for k in range(files):
        content = json.dumps(f"# synthetic file {k}\nkey = value-{k}\n")
        out.write(
            f"  - name: app-{k:02}.conf\n    target_dir: /etc/shipcheck\n"
            f"    content: {content}\n    instances: [fleet]\n"
        )


if __name__ == "__main__":
    main()
