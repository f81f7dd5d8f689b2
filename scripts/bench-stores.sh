#!/usr/bin/env bash
# The same simulated engine suites (insiders, malicious_relay), every profile on the
# sled backend and then in memory, one test at a time, three runs each; prints the
# median wall time of each and their ratio. Issue 19's target is memory 5x faster.
set -euo pipefail
cd "$(dirname "$0")/.."
suites=(insiders malicious_relay)
binaries=()
for suite in "${suites[@]}"; do
    binaries+=("$(cargo test -p huisclos-tests --test "$suite" --no-run --message-format=json 2>/dev/null \
        | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["test"]:
        print(m["executable"])' | tail -1)")
done
median() { sort -n | sed -n 2p; }
declare -A total
for store in sled memory; do
    times=()
    for run in 1 2 3; do
        start=$(date +%s.%N)
        for binary in "${binaries[@]}"; do
            (cd tests && HUISCLOS_SIM_STORE=$store "$binary" --test-threads 1 -q >/dev/null)
        done
        end=$(date +%s.%N)
        times+=("$(python3 -c "print(round($end - $start, 2))")")
    done
    total[$store]=$(printf '%s\n' "${times[@]}" | median)
    echo "$store: ${times[*]} s (median ${total[$store]} s)"
done
echo "ratio sled / memory: $(python3 -c "print(round(${total[sled]} / ${total[memory]}, 2))")"
