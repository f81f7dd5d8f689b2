#!/usr/bin/env bash
# Compiles the generated Kotlin bindings with Scenario.kt and runs the scenario on the
# JVM against the real relay. Needs: java (17+), JNA (Debian's libjna-java), and pip
# (toolchain.sh fetches the Kotlin compiler).
# Run scripts/bindings.sh (and build huisclos-relay) first; scripts/test.sh does.
set -euo pipefail
cd "$(dirname "$0")/../../.."

jna=/usr/share/java/jna.jar
if [ ! -f "$jna" ]; then
    echo "JNA is missing: sudo apt-get install libjna-java" >&2
    exit 1
fi
bash ffi/tests/kotlin/toolchain.sh
jars=target/kotlin-toolchain/run_kotlin_kernel/jars
compiler=$(ls "$jars"/kotlin-jupyter-kernel-*-all.jar)
stdlib=$(ls "$jars"/kotlin-stdlib-*.jar)

out=target/kotlin-scenario
mkdir -p "$out"
# The all-jar carries the compiler and kotlinx.coroutines (the async bindings need it).
java -cp "$compiler" org.jetbrains.kotlin.cli.jvm.K2JVMCompiler \
    -no-stdlib -no-reflect -nowarn -jvm-target 17 \
    -cp "$stdlib:$jna:$compiler" \
    target/bindings/kotlin/uniffi/huisclos/huisclos.kt ffi/tests/kotlin/Scenario.kt \
    -d "$out/scenario.jar"
java -Djna.library.path="$PWD/target/debug" \
    -cp "$out/scenario.jar:$stdlib:$jna:$compiler" ScenarioKt "$PWD/target/debug/huisclos-relay"
