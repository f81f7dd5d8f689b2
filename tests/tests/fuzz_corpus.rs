//! Every file of every fuzz corpus (`fuzz/corpus/<target>/`), through its target: the
//! targets keep compiling and the inputs that once found something keep passing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use huisclos_tests::fuzzing::TARGETS;

#[test]
fn every_corpus_file_passes_its_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let dir = root.join(name);
        let entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        assert!(!entries.is_empty(), "the {name} corpus has seeds");
        for path in entries {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", path.display());
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} corpus files");
}
