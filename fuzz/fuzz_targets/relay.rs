#![no_main]
//! Fuzz target `relay`: see `huisclos_tests::fuzzing::relay`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::relay(data));
