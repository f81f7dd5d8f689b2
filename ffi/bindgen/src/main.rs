//! # huisclos-bindgen — the project's own `uniffi-bindgen`
//!
//! Built from the same `uniffi` version as `huisclos-ffi`, so the generated Kotlin,
//! Swift and Python always match the library's scaffolding. `scripts/bindings.sh`
//! runs it in library mode on the built `libhuisclos_ffi`; the output goes to the
//! git-ignored `target/bindings/` and is never edited by hand.

fn main() {
    uniffi::uniffi_bindgen_main();
}
