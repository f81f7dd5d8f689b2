#!/usr/bin/env bash
# Builds libhuisclos_ffi and generates its Kotlin, Swift and Python bindings into
# target/bindings/ (git-ignored; never edit the output: regenerate it).
#
#   bash scripts/bindings.sh            # debug build
#   PROFILE=release bash scripts/bindings.sh
#
# Afterwards:
#   target/bindings/python/huisclos.py  + libhuisclos_ffi.so beside it
#   target/bindings/kotlin/uniffi/huisclos/huisclos.kt
#   target/bindings/swift/{huisclos.swift,huisclosFFI.h,huisclosFFI.modulemap}
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PROFILE:-debug}"
flag=()
[ "$profile" = release ] && flag=(--release)

cargo build "${flag[@]}" -p huisclos-ffi -p huisclos-bindgen
lib="target/$profile/libhuisclos_ffi.so"
bindgen="target/$profile/huisclos-bindgen"
out=target/bindings
rm -rf "$out"
for language in python kotlin swift; do
    "$bindgen" generate "$lib" --language "$language" --out-dir "$out/$language" --no-format
done
cp "$lib" "$out/python/"
echo "bindings in $out (library: $lib)"
