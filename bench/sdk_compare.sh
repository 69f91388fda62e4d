#!/usr/bin/env bash
# Side by side against ONE simulator: the official Python SDK listing every
# file delivery sequentially (NextToken/MaxResults=50) and on 8 threads
# (PageNumber/PageSize=50), and `shipcheck check` against a manifest for the
# same fleet. Prints the median wall, CPU (user+sys), peak RSS and API calls
# of each client over REPS runs, and the ratios the issue sets goals for.
#
#   bench/sdk_compare.sh [INSTANCES [FILES]]     (default 10000 50)
#
# Environment: REPS (3), LATENCY (20ms), SHIPCHECK_BIN (target/release/
# shipcheck), SHIPCHECK_SDK_PYTHON (target/sdk-venv/bin/python, made by
# scripts/test.sh). Timings are benchmarks, never assertions.
set -euo pipefail
cd "$(dirname "$0")/.."

instances=${1:-10000}
files=${2:-50}
reps=${REPS:-3}
latency=${LATENCY:-20ms}
bin=${SHIPCHECK_BIN:-target/release/shipcheck}
python=${SHIPCHECK_SDK_PYTHON:-target/sdk-venv/bin/python}
time_bin=/usr/bin/time

work=$(mktemp -d)
sim_pid=
cleanup() {
  [[ -n $sim_pid ]] && kill "$sim_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

export ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIbenchmarkkey ALIBABA_CLOUD_ACCESS_KEY_SECRET=bench-secret
export SIM_ACCESS_KEY_ID=$ALIBABA_CLOUD_ACCESS_KEY_ID SIM_ACCESS_KEY_SECRET=$ALIBABA_CLOUD_ACCESS_KEY_SECRET

python3 bench/synth_manifest.py "$instances" "$files" >"$work/shipcheck.yaml"
"$bin" sim --synthesize --instances "$instances" --files "$files" --per-call 50 \
  --latency "$latency" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
url=
for _ in $(seq 600); do
  url=$(grep -o 'http://[0-9.:]*' "$work/sim.out" 2>/dev/null | head -1 || true)
  [[ -n $url ]] && break
  kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.err" >&2; exit 1; }
  sleep 0.2
done
[[ -n $url ]] || { echo "the simulator did not start" >&2; exit 1; }
export SIM_ENDPOINT=${url#http://}

calls() { python3 -c 'import json,sys,urllib.request; print(json.load(urllib.request.urlopen(sys.argv[1]))["total"])' "$url/_sim/stats"; }

# run NAME COMMAND...: REPS timed runs; appends "wall cpu rss calls" lines.
run() {
  local name=$1
  shift
  for rep in $(seq "$reps"); do
    local before after
    before=$(calls)
    # shipcheck exits 1 on drift and 3 on unverified: still a measurement.
    "$time_bin" -f "%e %U %S %M" -o "$work/time" "$@" >"$work/$name.$rep.out" 2>"$work/$name.$rep.err" || true
    after=$(calls)
    read -r wall user sys rss <"$work/time"
    echo "$wall $(echo "$user + $sys" | bc) $rss $((after - before))" >>"$work/$name.runs"
  done
}

# median COLUMN NAME
median() { sort -g -k"$1" "$work/$2.runs" | awk -v c="$1" '{v[NR]=$c} END {print v[int((NR+1)/2)]}'; }

run sdk_seq "$python" bench/sdk_sequential.py
run sdk_8 "$python" bench/sdk_threaded.py
# Default flags, as a gate runs it; then the full JSON report of every pair.
run shipcheck "$bin" check "$work/shipcheck.yaml" --endpoint "$url"
run shipcheck_json "$bin" check "$work/shipcheck.yaml" --endpoint "$url" --format json

echo "fleet: $instances instances x $files files, latency $latency, $reps runs each (medians)"
printf '| %-40s | %8s | %8s | %10s | %6s |\n' client "wall s" "CPU s" "peak RSS" calls
printf '|%s|%s|%s|%s|%s|\n' ------------------------------------------ ---------- ---------- ------------ --------
for name in sdk_seq sdk_8 shipcheck shipcheck_json; do
  case $name in
    sdk_seq) label="Python SDK, NextToken, sequential" ;;
    sdk_8) label="Python SDK, PageNumber, 8 threads" ;;
    shipcheck) label="shipcheck check (default flags)" ;;
    shipcheck_json) label="shipcheck check --format json" ;;
  esac
  printf '| %-40s | %8s | %8s | %7s MB | %6s |\n' "$label" "$(median 1 "$name")" "$(median 2 "$name")" \
    "$(($(median 3 "$name") / 1024))" "$(median 4 "$name")"
done
ratio() { echo "scale=2; $1 / $2" | bc; }
echo "wall vs 8-thread SDK: $(ratio "$(median 1 shipcheck)" "$(median 1 sdk_8)")x (goal <= 0.5)"
echo "CPU vs sequential SDK: $(ratio "$(median 2 shipcheck)" "$(median 2 sdk_seq)")x (goal <= 0.5)"
echo "RSS vs sequential SDK: $(ratio "$(median 3 shipcheck)" "$(median 3 sdk_seq)")x (goal <= 1)"
echo "outputs: $(cat "$work/sdk_seq.1.out") (sequential SDK), $(cat "$work/sdk_8.1.out") (8 threads)"
echo "shipcheck: $(tail -1 "$work/shipcheck.1.out")"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); s=r["summary"]; print("shipcheck --format json: verdict %s, %d checks, %d passed" % (r["verdict"], s["checks"], s["passed"]))' "$work/shipcheck_json.1.out"
