#!/usr/bin/env bash
# The main job, end to end on one machine: the relay on its embedded sled store, and two
# people — Alice and Bob, each a profile of the `huisclos` CLI talking to the relay over
# QUIC — who create a space, invite, post and comment. Every step is a command a person
# would type; the script only wires the outputs of one into the next.
set -euo pipefail
cd "$(dirname "$0")/.."

# What it needs beyond Rust (a C compiler), installed if missing.
source scripts/setup.sh
setup_main_job

cargo build --quiet -p huisclos-relay -p huisclos-cli
relay=target/debug/huisclos-relay
huisclos=target/debug/huisclos

work=$(mktemp -d)
relay_pid=
cleanup() {
    [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null && wait "$relay_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

# The relay: a fresh data directory, loopback ports chosen by the system.
HUISCLOS_RELAY_QUIC_LISTEN=127.0.0.1:0 HUISCLOS_RELAY_TCP_LISTEN=127.0.0.1:0 HUISCLOS_RELAY_METRICS_LISTEN=off \
    "$relay" --data-dir "$work/relay" >"$work/relay.out" 2>"$work/relay.err" &
relay_pid=$!
for _ in $(seq 1 100); do
    grep -q '^huisclos-relay: ready' "$work/relay.out" 2>/dev/null && break
    sleep 0.1
done
cat "$work/relay.out"
first_invitation=$(sed -n 's/^huisclos-relay: invitation //p' "$work/relay.out")
second_invitation=$("$relay" --data-dir "$work/relay" admin invite --valid-hours 1)

# A demo passphrase for both profiles; a person types their own (nothing is echoed).
export HUISCLOS_PASSPHRASE="demo passphrase, not for real use"
alice() { step "huisclos (Alice) $*"; "$huisclos" --profile "$work/alice" "$@"; }
bob() { step "huisclos (Bob) $*"; "$huisclos" --profile "$work/bob" "$@"; }

alice init --name Alice
alice join "$first_invitation"
bob init --name Bob
bob join "$second_invitation"
alice space create "Case 207" --description "Detention of the Beirut journalists"
bob_card=$("$huisclos" --profile "$work/bob" whoami | sed -n 's/^card: *//p')
alice space invite "Case 207" "$bob_card" --role contributor
bob sync
bob space accept "Case 207"
alice post "Case 207" "The hearing moved to Thursday, 9:00."
bob feed "Case 207"
post_id=$("$huisclos" --profile "$work/bob" feed "Case 207" --json | head -n 1 | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
bob comment "Case 207" "$post_id" "I will be there with the file."
bob react "Case 207" "$post_id" "👍"
alice feed "Case 207"
alice space members "Case 207"
