#!/usr/bin/env bash
# Packages huisclos-ffi for iOS as an XCFramework (device and simulator), with the
# generated Swift bindings beside it. macOS with Xcode only; see README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

[ "$(uname)" = Darwin ] || { echo "an XCFramework is built on macOS with Xcode" >&2; exit 1; }
out=target/ios
rm -rf "$out" && mkdir -p "$out/headers"

for target in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
    cargo build --release -p huisclos-ffi --target "$target"
done
# One simulator library for both simulator architectures.
mkdir -p "$out/sim"
lipo -create target/aarch64-apple-ios-sim/release/libhuisclos_ffi.a \
    target/x86_64-apple-ios/release/libhuisclos_ffi.a -output "$out/sim/libhuisclos_ffi.a"

# The Swift bindings and the C header + module map the XCFramework exposes.
bash scripts/bindings.sh
cp target/bindings/swift/huisclosFFI.h "$out/headers/"
cp target/bindings/swift/huisclosFFI.modulemap "$out/headers/module.modulemap"
cp target/bindings/swift/huisclos.swift "$out/"

xcodebuild -create-xcframework \
    -library target/aarch64-apple-ios/release/libhuisclos_ffi.a -headers "$out/headers" \
    -library "$out/sim/libhuisclos_ffi.a" -headers "$out/headers" \
    -output "$out/HuisClosCore.xcframework"
echo "$out/HuisClosCore.xcframework and $out/huisclos.swift"
