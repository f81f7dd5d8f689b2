#!/usr/bin/env bash
# What the README's two commands need beyond a Rust toolchain, installed if missing.
# Sourced by scripts/demo.sh (`setup_main_job`) and scripts/test.sh (`setup_tests`),
# so that each works on a fresh Debian or Ubuntu machine with nothing else done first.
# Installs Debian packages with apt-get (as root, or through sudo) and pytest from PyPI.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
    [ $# -gt 0 ] || return 0
    echo "installing Debian packages: $*"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

# The Rust toolchain cannot be installed from a script here (rustup is a download
# from outside the package registries): say so plainly.
require_rust() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "This needs a Rust toolchain (cargo 1.85 or newer): install it with rustup (https://rustup.rs)." >&2
        exit 1
    fi
}

# The relay and the CLI: Rust, and a C compiler for the `ring` crypto crate.
setup_main_job() {
    require_rust
    local missing=()
    command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    apt_install "${missing[@]}"
}

# The desktop app's web view, built by Vite from the lockfile into
# clients/desktop/ui/dist, which the app embeds when cargo builds it (so before any
# build of the whole workspace).
build_desktop_ui() {
    if ! command -v npm >/dev/null 2>&1; then
        apt_install nodejs npm
    fi
    npm ci --prefix clients/desktop/ui --no-audit --no-fund --loglevel=error
    npm run --prefix clients/desktop/ui build --silent
}

# The tests: the above, pytest for the Python bindings, Java 17 and JNA for the
# Kotlin bindings on the JVM (the Kotlin compiler comes from PyPI, fetched by
# ffi/tests/kotlin/run.sh), clang for the Swift header's nullability qualifiers;
# for the desktop app WebKitGTK, a virtual display, fonts that cover Arabic, the
# WebDriver pieces (WebKitWebDriver, tauri-driver from crates.io, selenium from PyPI)
# and its web view built.
setup_tests() {
    setup_main_job
    local missing=()
    local desktop=(libwebkit2gtk-4.1-dev librsvg2-dev libsoup-3.0-dev xvfb fonts-noto-core fonts-noto-color-emoji webkit2gtk-driver imagemagick dbus-daemon libdbus-1-dev gnome-keyring libsecret-tools)
    for package in "${desktop[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ -f /usr/share/java/jna.jar ] || missing+=(libjna-java)
    command -v clang >/dev/null 2>&1 || missing+=(clang)
    command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
    apt_install "${missing[@]}"
    for module in pytest selenium dbus_next segno; do
        if ! python3 -c "import $module" >/dev/null 2>&1; then
            echo "installing $module from PyPI"
            # Debian's own Python refuses a system-wide pip install (PEP 668) unless told.
            python3 -m pip install --quiet "$module" 2>/dev/null ||
                python3 -m pip install --quiet --break-system-packages "$module"
        fi
    done
    if [ ! -x target/tools/bin/tauri-driver ]; then
        echo "installing tauri-driver from crates.io into target/tools"
        cargo install --quiet --locked tauri-driver --version "^2" --root target/tools
    fi
    build_desktop_ui
}
