#!/usr/bin/env bash
# The human report of a drifted fleet: lines, bytes and render CPU.
#
# Usage: bench/drift_render.sh INSTANCES FILES [BEFORE_BIN]
# One synthesized simulator (`shipcheck sim --synthesize --drift-rate`,
# default 5% of tasks drifted), one `shipcheck check` that saves the JSON
# report, then `shipcheck report REPORT.json --format human` re-renders it
# under /usr/bin/time: the render alone, without the fetch. With
# BEFORE_BIN, the same report is rendered by that binary too. Reading the
# JSON back dominates at scale, so a `--format github` run of the same
# report is printed as the floor: the human render costs the difference.
set -euo pipefail
instances=${1:?INSTANCES}
files=${2:?FILES}
before=${3:-}
bin=${SHIPCHECK_BIN:-target/release/shipcheck}
drift=${DRIFT:-0.05}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIbenchmarkkey ALIBABA_CLOUD_ACCESS_KEY_SECRET=bench-secret
export SIM_ACCESS_KEY_ID=$ALIBABA_CLOUD_ACCESS_KEY_ID SIM_ACCESS_KEY_SECRET=$ALIBABA_CLOUD_ACCESS_KEY_SECRET
python3 "$here/synth_manifest.py" "$instances" "$files" >"$work/shipcheck.yaml"
"$bin" sim --synthesize --instances "$instances" --files "$files" --per-call 50 \
  --drift-rate "$drift" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
url=
for _ in $(seq 200); do
  url=$(grep -o 'http://[0-9.:]*' "$work/sim.out" 2>/dev/null | head -1 || true)
  [[ -n $url ]] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "the simulator did not start" >&2; exit 1; }
"$bin" check "$work/shipcheck.yaml" --endpoint "$url" --format json >"$work/report.json" || true
findings=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sum(len(t["findings"]) for f in r["files"] for t in f["targets"]))' "$work/report.json")
echo "fleet: $instances x $files, drift rate $drift, $findings findings"
render() {
  local label=$1 binary=$2
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$binary" report "$work/report.json" --format human >"$work/$label.txt" || true
  read -r user sys rss < <(tail -1 "$work/time")
  printf '%-8s %8d lines %10d bytes  CPU %.2f s (user %s + sys %s), peak RSS %d MB\n' \
    "$label" "$(wc -l <"$work/$label.txt")" "$(wc -c <"$work/$label.txt")" \
    "$(echo "$user + $sys" | bc)" "$user" "$sys" "$((rss / 1024))"
}
[[ -n $before ]] && render before "$before"
render after "$bin"
# The floor: reading the report back, one short line per finding out.
floor() {
  /usr/bin/time -f "%U %S %M" -o "$work/time" "$bin" report "$work/report.json" --format github >/dev/null || true
  read -r user sys rss < <(tail -1 "$work/time")
  printf "%-8s CPU %.2f s (the report read back, written as GitHub annotations: the floor)\n" \
    github "$(echo "$user + $sys" | bc)"
}
floor
[[ -z ${KEEP:-} ]] || cp "$work/after.txt" "$KEEP"
