#![no_main]
//! Fuzz target `request`: see `huisclos_tests::fuzzing::request`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::request(data));
