#!/usr/bin/env bash
# Runs each fuzz target for a bounded time (default 60 s each):
#   fuzz/run.sh [SECONDS]
# Needs the nightly toolchain and `cargo install cargo-fuzz`. Crashes are
# written under fuzz/artifacts/<target>/; the corpus grows in fuzz/corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
for target in response manifest; do
    mkdir -p "fuzz/corpus/$target"
    cp -n fuzz/seeds/"$target"/* "fuzz/corpus/$target/" 2>/dev/null || true
    echo "== $target, ${seconds}s"
    cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len=65536
done
