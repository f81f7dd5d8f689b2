#![no_main]
//! Fuzz target `content`: see `huisclos_tests::fuzzing::content`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::content(data));
