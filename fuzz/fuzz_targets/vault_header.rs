#![no_main]
//! Fuzz target `vault_header`: see `huisclos_tests::fuzzing::vault_header`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::vault_header(data));
