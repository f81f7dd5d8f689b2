#![no_main]
//! Fuzz target `note`: see `huisclos_tests::fuzzing::note`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::note(data));
