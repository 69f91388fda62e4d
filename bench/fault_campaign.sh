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
#   RECORDS=2500 bench/fault_campaign.sh 20  # one listing of 2,500 records
#
# The demo fleet costs a handful of requests per run; RECORDS=N checks one
# file against a listing of N deliveries instead (N/50 pages in a row), the
# size at which a per-request failure rate shows in the pass rate.
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
if [[ -n ${RECORDS:-} ]]; then
    # The declared instance's newest delivery drifted; it sits 10 records
    # from the end of the listing, so every page has to be read.
    manifest=$work/shipcheck.yaml
    state=$work/state.yaml
    cat >"$manifest" <<'YAML'
version: 1
defaults:
  region: cn-hangzhou
files:
  - name: app.conf
    target_dir: /etc/app
    content: "good\n"
    instances: [i-bp1campaign00001]
YAML
    {
        printf 'version: 1\nregion: cn-hangzhou\nclock:\n  now: "2026-11-20T10:00:00Z"\naccept_unknown_instances: true\ndeliveries:\n'
        for ((i = 0; i < RECORDS; i++)); do
            target=i-bp1other$i content='good\n'
            ((i == RECORDS - 10)) && target=i-bp1campaign00001 content='bad\n'
            ((i == RECORDS - 5)) && target=i-bp1campaign00001
            printf '  - invoke_id: f-hz0camp%06d\n    name: app.conf\n    target_dir: /etc/app\n    content: "%s"\n    creation_time: "%s"\n    targets:\n      - id: %s\n' \
                "$i" "$content" "$(date -u -d "@$((1795000000 - i))" +%Y-%m-%dT%H:%M:%SZ)" "$target"
        done
    } >"$state"
fi

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
