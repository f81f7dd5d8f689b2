#!/usr/bin/env bash
# Packages huisclos-ffi for Android as an AAR: the Kotlin bindings compiled into
# classes.jar, and libhuisclos_ffi.so for arm64-v8a, armeabi-v7a and x86_64 under
# jni/. See README.md for what it needs and what has been run where.
set -euo pipefail
cd "$(dirname "$0")/../.."

: "${ANDROID_NDK_HOME:?set ANDROID_NDK_HOME to an Android NDK (r26 or newer)}"
command -v cargo-ndk >/dev/null || { echo "cargo install cargo-ndk" >&2; exit 1; }
jna_aar="${JNA_AAR:?set JNA_AAR to jna-5.x.aar (Maven Central: net.java.dev.jna:jna:5.14.0@aar)}"
api="${ANDROID_API:-24}"
out=target/android
rm -rf "$out" && mkdir -p "$out/aar/jni"

# 1. The native library for each ABI (release: debug builds are ten times larger).
cargo ndk --platform "$api" -t arm64-v8a -t armeabi-v7a -t x86_64 -o "$out/aar/jni" \
    build --release -p huisclos-ffi

# 2. The Kotlin bindings, generated from the library itself (any one ABI's .so
#    carries the same metadata; the host build is used so the generator can read it).
bash scripts/bindings.sh
bash ffi/tests/kotlin/toolchain.sh
toolchain=target/kotlin-toolchain/run_kotlin_kernel/jars
compiler=$(ls "$toolchain"/kotlin-jupyter-kernel-*-all.jar)
stdlib=$(ls "$toolchain"/kotlin-stdlib-*.jar)
unzip -o -q "$jna_aar" classes.jar -d "$out/jna"
java -cp "$compiler" org.jetbrains.kotlin.cli.jvm.K2JVMCompiler -no-stdlib -no-reflect -nowarn \
    -jvm-target 1.8 -cp "$stdlib:$out/jna/classes.jar:$compiler" \
    target/bindings/kotlin/uniffi/huisclos/huisclos.kt -d "$out/classes"
(cd "$out/classes" && jar cf ../aar/classes.jar .)

# 3. The AAR: manifest, classes.jar, jni/<abi>/libhuisclos_ffi.so, an empty R.txt.
cat >"$out/aar/AndroidManifest.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="org.huisclos.core">
    <uses-sdk android:minSdkVersion="24" />
    <uses-permission android:name="android.permission.INTERNET" />
</manifest>
XML
: >"$out/aar/R.txt"
(cd "$out/aar" && zip -q -r ../huisclos-core.aar AndroidManifest.xml classes.jar R.txt jni)
echo "$out/huisclos-core.aar"
