#!/usr/bin/env bash
# A seeded campaign under the simulator's documented fault mix (issue 9):
# 30% throttling with x-acs-retry-after, 2.5% each of 500 and 503, 2%
# dropped connections, 1% truncated bodies, 20 ms latency. Each seed runs
# `shipcheck check` at default flags on the demo fleet; a run passes when
# its exit code and JSON findings equal the fault-free run's. Prints each
# run's wall time, then the pass rate and the mean wall time per run.
#
#   bench/fault_campaign.sh [SEEDS]        # default 200
#   PAGING=pages bench/fault_campaign.sh 20
#   SHIPCHECK=target/release/shipcheck bench/fault_campaign.sh
set -euo pipefail

seeds=${1:-200}
paging=${PAGING:-token}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SHIPCHECK:-$root/target/debug/shipcheck}
[[ -x $bin ]] || (cd "$root" && cargo build --quiet)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

manifest=$root/examples/demo/shipcheck.yaml
state=$root/examples/demo/sim-state.yaml

# Findings without the time they were taken.
findings() { jq -S 'del(.checked_at)'; }

check() {
    local state_file=$1
    "$bin" check --simulate "$state_file" --paging "$paging" --format json "$manifest"
}

set +e
check "$state" | findings >"$work/clean.json"
clean_exit=${PIPESTATUS[0]}
set -e
echo "fault-free run: exit $clean_exit"

pass=0
total_ms=0
for seed in $(seq 1 "$seeds"); do
    faulty=$work/state-$seed.yaml
    cat "$state" - >"$faulty" <<YAML
faults:
  seed: $seed
  throttle: 0.3
  internal_error: 0.025
  unavailable: 0.025
  drop: 0.02
  truncate: 0.01
  latency: 20ms
YAML
    started=$(date +%s%N)
    set +e
    check "$faulty" 2>"$work/stderr-$seed" | findings >"$work/run-$seed.json"
    code=${PIPESTATUS[0]}
    set -e
    ms=$((($(date +%s%N) - started) / 1000000))
    total_ms=$((total_ms + ms))
    if [[ $code == "$clean_exit" ]] && cmp -s "$work/clean.json" "$work/run-$seed.json"; then
        pass=$((pass + 1))
        verdict=same
    else
        verdict="DIFFERENT (exit $code): $(tail -n 3 "$work/stderr-$seed" | tr '\n' ' ')"
    fi
    printf 'seed %3d  %6d ms  %s\n' "$seed" "$ms" "$verdict"
done

printf 'paging %s: %d of %d runs with the fault-free findings (%d%%), %d ms wall per run on average\n' \
    "$paging" "$pass" "$seeds" $((100 * pass / seeds)) $((total_ms / seeds))
[[ $pass == "$seeds" ]]
