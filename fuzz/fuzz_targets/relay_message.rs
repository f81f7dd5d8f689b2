#![no_main]
//! Fuzz target `relay_message`: see `huisclos_tests::fuzzing::relay_message`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::relay_message(data));
