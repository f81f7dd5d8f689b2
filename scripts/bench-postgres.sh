#!/usr/bin/env bash
# Benchmark 5b (docs/benchmarks.md): the relay's PostgreSQL store, one and two relay
# processes on one database, against raw PostgreSQL inserts committed the same way and
# against sled, in one run on a throwaway PostgreSQL 15 server (scripts/postgres.sh).
#   bash scripts/bench-postgres.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/postgres.sh
trap stop_test_postgres EXIT
start_test_postgres
cargo build --release -p huisclos-tests --bin huisclos-bench
# Writes its section of docs/benchmarks.md, keeping the others.
target/release/huisclos-bench all store-postgres
