#![no_main]
//! Fuzz target `vault_record`: see `huisclos_tests::fuzzing::vault_record`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::vault_record(data));
