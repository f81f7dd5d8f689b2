#![no_main]
//! Fuzz target `frame`: see `huisclos_tests::fuzzing::frame`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::frame(data));
