#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (60 by default) and prints, per target, the
# executions, the executions per second and the coverage libFuzzer reports at the end.
# New inputs go to fuzz/work/<target>/ (not committed); the committed seeds in
# fuzz/corpus/<target>/ are read, never written. A crash stops the run with libFuzzer's
# report and the input in fuzz/artifacts/<target>/.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable toolchain use
# them. Install it once with: cargo install cargo-fuzz --locked
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(ls fuzz_targets | sed 's/\.rs$//')
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O --sanitizer none
printf '| target | seconds | executions | exec/s | coverage (edges) | features | corpus |\n'
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for target in "${targets[@]}"; do
    mkdir -p "work/$target"
    log=$(mktemp)
    cargo fuzz run -O --sanitizer none "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=30 -rss_limit_mb=4096 >"$log" 2>&1 || {
        cat "$log"
        echo "fuzz target $target failed" >&2
        exit 1
    }
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    corp=$(grep -o 'corp: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
    printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$target" "$seconds" "$runs" "$rate" "$cov" "$ft" "$corp"
    rm -f "$log"
done
