#![no_main]
//! Fuzz target `note_together`: see `huisclos_tests::fuzzing::note_together`.

libfuzzer_sys::fuzz_target!(|data: &[u8]| huisclos_tests::fuzzing::note_together(data));
