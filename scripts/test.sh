#!/usr/bin/env bash
# The test command: the Rust workspace, then the UniFFI bindings proven from the
# foreign languages against the real relay binary:
#   1. cargo test --workspace, with a throwaway PostgreSQL 15 server for the relay's
#      second store (scripts/postgres.sh), then the relay's suite again with its store
#      in PostgreSQL, and the simulated engine suites again with every profile in
#      memory (the vault's second backend);
#   2. the library built and its Kotlin, Swift and Python bindings generated
#      (scripts/bindings.sh), and the Swift C header compiled;
#   3. the Python suite (pytest) and the Kotlin scenario on the JVM (JNA);
#   4. the desktop app: its web view's type check (svelte-check) and unit tests
#      (Vitest), then the app in a real window under Xvfb, driven over WebDriver, with
#      CLI users beside it, axe-core on every screen in English and Arabic.
# It installs what it needs beyond Rust if missing (scripts/setup.sh): python3 with
# pytest, Java 17, Debian's libjna-java, clang for the header's nullability
# qualifiers, and Debian's PostgreSQL 15 server.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "set-up: what the tests need beyond Rust"
source scripts/setup.sh
setup_tests

step "set-up: a throwaway PostgreSQL server for the relay's PostgreSQL store"
source scripts/postgres.sh
header_check=$(mktemp -d)
trap 'stop_test_postgres; rm -rf "$header_check"' EXIT
start_test_postgres
# The PostgreSQL tests fail, rather than say they were skipped, if it is not there.
export HUISCLOS_REQUIRE_POSTGRES=1

step "Rust: cargo test --workspace"
cargo test --workspace

step "Rust: the relay's suite again, with its store in PostgreSQL"
HUISCLOS_TEST_STORE=postgres cargo test -p huisclos-relay --tests

step "Rust: the simulated engine suites again, every profile on the memory backend"
HUISCLOS_SIM_STORE=memory cargo test -p huisclos-tests --test insiders --test malicious_relay

step "bindings: build libhuisclos_ffi and generate Kotlin, Swift and Python"
bash scripts/bindings.sh
cargo build -p huisclos-relay

step "Swift: the generated C header compiles"
printf '#include "huisclosFFI.h"\nint main(void) { return 0; }\n' >"$header_check/check.c"
if command -v clang >/dev/null 2>&1; then
    clang -fsyntax-only -Wall -Werror -I target/bindings/swift "$header_check/check.c"
    echo "huisclosFFI.h compiles (clang)"
else
    # gcc has no nullability qualifiers: they are annotations, so they are emptied.
    cc -fsyntax-only -Wall -Werror -D_Nonnull= -D_Nullable= -I target/bindings/swift "$header_check/check.c"
    echo "huisclosFFI.h compiles (cc, nullability qualifiers emptied)"
fi

step "Python: pytest ffi/tests/python"
python3 -m pytest ffi/tests/python -q

step "Kotlin: the scenario on the JVM"
bash ffi/tests/kotlin/run.sh

step "Desktop: the web view's types (svelte-check) and unit tests (Vitest)"
npm run check --prefix clients/desktop/ui --silent
npm test --prefix clients/desktop/ui --silent

step "Desktop: the app in a real window against the real relay (tauri-driver, Xvfb)"
cargo build -p huisclos-desktop -p huisclos-cli
python3 -m pytest clients/desktop/tests -q
