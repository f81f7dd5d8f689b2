#!/usr/bin/env bash
# The desktop app's benchmarks (clients/desktop/tests/bench_window.py): bundle size,
# cold start, the first page and a scroll through a feed of 10,000 posts with frame
# times, and memory, on a release build in a real window under Xvfb. Not part of the
# test command: it takes minutes. The numbers go to target/bench-desktop.json.
# HUISCLOS_BENCH_POSTS and HUISCLOS_BENCH_SCROLL_SECONDS change the feed and the scroll.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh
setup_tests
cargo build --release -p huisclos-desktop
cargo build -p huisclos-relay -p huisclos-cli
HUISCLOS_DESKTOP="$PWD/target/release/huisclos-desktop" \
    python3 -m pytest clients/desktop/tests/bench_window.py -q -s
