#!/usr/bin/env bash
# Screenshots of the desktop app's main screens, in English and in Arabic, taken from
# the real window during its end-to-end run (Xvfb, the real relay binary) and written
# to docs/screenshots/desktop-<screen>-<language>.png. Run it after a change to the
# app's look, and commit what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/setup.sh
setup_tests
cargo build -p huisclos-desktop -p huisclos-cli -p huisclos-relay
HUISCLOS_SCREENSHOTS="$PWD/docs/screenshots" python3 -m pytest clients/desktop/tests -q
ls -1 docs/screenshots/desktop-*.png
