#!/usr/bin/env bash
# Builds the relay's Debian package and checks what it installs, its unit file and its
# binary: `bash scripts/package-deb.sh`. Not part of the test command (a release build
# of the relay takes minutes); see docs/operators.md. Installs cargo-deb (crates.io)
# and dpkg-dev/systemd (Debian) if they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
fail() { echo "package-deb: $*" >&2; exit 1; }

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v dpkg-deb >/dev/null || missing+=(dpkg)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    sudo_if_needed apt-get update -q
    sudo_if_needed apt-get install -y -q "${missing[@]}"
fi
if ! cargo deb --version >/dev/null 2>&1; then
    step "installing cargo-deb"
    cargo install cargo-deb --locked --quiet
fi

step "the packaged configuration is the example's, but for the data directory"
drift=$(diff <(grep -v '^#' server/relay.example.toml | grep -v '^data_dir') \
    <(grep -v '^#' server/dist/relay.toml | grep -v '^data_dir') || true)
[ -z "$drift" ] || { echo "$drift"; fail "server/dist/relay.toml and server/relay.example.toml differ"; }
grep -q '^data_dir = "/var/lib/huisclos-relay"' server/dist/relay.toml || fail "the packaged data_dir"

step "building the package"
rm -f target/debian/huisclos-relay_*.deb
cargo deb -p huisclos-relay
deb=$(ls target/debian/huisclos-relay_*.deb)
dpkg-deb --info "$deb"

step "what it installs"
work=$(mktemp -d)
relay_pid=
cleanup() { [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
dpkg-deb --contents "$deb"
dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
unit=$(find "$work/root" -name huisclos-relay.service | head -n 1)
for path in usr/bin/huisclos-relay etc/huisclos-relay/relay.toml \
    usr/share/doc/huisclos-relay/operators.md usr/share/doc/huisclos-relay/SECURITY.md; do
    [ -e "$work/root/$path" ] || fail "$path is not in the package"
done
[ -n "$unit" ] || fail "the systemd unit is not in the package"
[ "$(stat -c %a "$work/root/usr/bin/huisclos-relay")" = 755 ] || fail "the binary is not 0755"
grep -qx "/etc/huisclos-relay/relay.toml" "$work/control/conffiles" || fail "relay.toml is not a conffile"
grep -q "adduser --system" "$work/control/postinst" || fail "postinst does not create the relay's user"
grep -q "deb-systemd-helper" "$work/control/postinst" || fail "postinst does not register the unit"
if grep -q "rm -rf /var/lib/huisclos-relay" "$work/control/postrm"; then fail "postrm deletes the data"; fi
grep -q "^Depends:.*adduser" "$work/control/control" || fail "the package does not depend on adduser"

step "the unit file (systemd-analyze verify)"
sed "s|/usr/bin/huisclos-relay|$work/root/usr/bin/huisclos-relay|" "$unit" > "$work/huisclos-relay.service"
verify=$(systemd-analyze verify "$work/huisclos-relay.service" 2>&1 || true)
if [ -n "$verify" ]; then
    echo "$verify"
    fail "systemd-analyze verify complained about the unit"
fi
echo "systemd-analyze verify: no complaint"

step "the packaged binary runs with the packaged configuration"
binary="$work/root/usr/bin/huisclos-relay"
config="$work/root/etc/huisclos-relay/relay.toml"
"$binary" --version
export HUISCLOS_RELAY_DATA_DIR="$work/data" HUISCLOS_RELAY_QUIC_LISTEN=127.0.0.1:0 \
    HUISCLOS_RELAY_TCP_LISTEN=127.0.0.1:0 HUISCLOS_RELAY_METRICS_LISTEN=off
"$binary" --config "$config" run > "$work/relay.out" 2> "$work/relay.err" &
relay_pid=$!
for _ in $(seq 1 100); do
    grep -q "huisclos-relay: ready" "$work/relay.out" 2>/dev/null && break
    sleep 0.1
done
grep -q "huisclos-relay: ready" "$work/relay.out" || { cat "$work/relay.err"; fail "the relay did not start"; }
"$binary" --config "$config" admin invite --valid-hours 1 | grep -q '^huisclos1:' || fail "admin invite"
"$binary" --config "$config" admin invitations | grep -q '^2 invitations$' || fail "admin invitations"
"$binary" --config "$config" admin accounts | grep -q '^0 accounts$' || fail "admin accounts"
"$binary" --config "$config" admin backup "$work/backup" | grep -q '^backed up' || fail "admin backup"
kill -TERM "$relay_pid"
wait "$relay_pid" || fail "the relay did not stop cleanly"
relay_pid=
grep -q '^state = clean' "$work/data/store.manifest" || grep -q 'clean' "$work/data/store.manifest" \
    || fail "no clean manifest after SIGTERM"

step "done"
ls -l "$deb"
