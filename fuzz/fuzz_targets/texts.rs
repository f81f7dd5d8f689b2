#![no_main]
//! Fuzz target `texts`: see `huisclos_tests::fuzzing::texts`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::texts(data));
