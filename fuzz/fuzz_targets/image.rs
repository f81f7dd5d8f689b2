#![no_main]
//! Fuzz target `image`: see `huisclos_tests::fuzzing::image`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::image(data));
