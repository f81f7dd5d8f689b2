#![no_main]
//! Fuzz target `chunk`: see `huisclos_tests::fuzzing::chunk`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::chunk(data));
