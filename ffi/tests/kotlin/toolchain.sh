#!/usr/bin/env bash
# Makes sure a current Kotlin compiler is in target/kotlin-toolchain: it ships inside
# the kotlin-jupyter-kernel wheel on PyPI (Debian's kotlin 1.3 is too old for UniFFI's
# output). Fetched again whenever missing; nothing else is cached.
set -euo pipefail
cd "$(dirname "$0")/../../.."

toolchain=target/kotlin-toolchain
if ! ls "$toolchain"/run_kotlin_kernel/jars/kotlin-jupyter-kernel-*-all.jar >/dev/null 2>&1; then
    mkdir -p "$toolchain"
    python3 -m pip download --quiet --no-deps "kotlin-jupyter-kernel==0.19.0.944" -d "$toolchain"
    (cd "$toolchain" && python3 -m zipfile -e kotlin_jupyter_kernel-*.whl . >/dev/null)
fi
