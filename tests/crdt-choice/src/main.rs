//! One-off benchmark: which CRDT library to use for co-editing notes.
//!
//! Applies the same deterministic text-editing trace to `yrs`, `automerge` and
//! `loro` and measures apply / encode / load / remote-batch time, encoded sizes
//! and memory. Results are recorded in `docs/crdt-choice.md`.
//!
//! Run: `cargo run --release --manifest-path tests/crdt-choice/Cargo.toml`

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// Counting allocator: current and peak bytes allocated through it.
// ---------------------------------------------------------------------------

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn add(n: usize) {
    let now = CURRENT.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            add(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                add(new_size - layout.size());
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn current_bytes() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

fn reset_peak() -> usize {
    let now = current_bytes();
    PEAK.store(now, Ordering::Relaxed);
    now
}

fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------
// Deterministic trace.
// ---------------------------------------------------------------------------

/// splitmix64
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Characters typed: lowercase letters, spaces, some punctuation and newlines.
const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzeeeaaoo      ,.\n";

#[derive(Clone, Copy, Debug)]
enum Op {
    /// Insert `ALPHABET[ch]` at `pos`.
    Insert { pos: u32, ch: u8 },
    /// Delete `len` characters starting at `pos`.
    Delete { pos: u32, len: u32 },
}

fn ch_str(ch: u8) -> &'static str {
    let i = ch as usize;
    &ALPHABET[i..i + 1]
}

/// Percentages of the three kinds of operation.
#[derive(Clone, Copy)]
struct Mix {
    insert: u64,
    backspace: u64,
    // the rest: jump to a random position, then insert
}

const TYPING: Mix = Mix { insert: 85, backspace: 10 };
/// For the concurrency check: edits scattered over the document.
const SCATTERED: Mix = Mix { insert: 25, backspace: 25 };

/// Produces operations on a document of known length, with a cursor.
struct Author {
    rng: Rng,
    len: u32,
    cursor: u32,
}

impl Author {
    fn new(seed: u64, len: u32) -> Self {
        Author { rng: Rng(seed), len, cursor: len }
    }

    fn insert(&mut self) -> Op {
        let ch = self.rng.below(ALPHABET.len() as u64) as u8;
        let op = Op::Insert { pos: self.cursor, ch };
        self.cursor += 1;
        self.len += 1;
        op
    }

    fn next_op(&mut self, mix: Mix) -> Op {
        let r = self.rng.below(100);
        if r < mix.insert || (r < mix.insert + mix.backspace && self.cursor == 0) {
            self.insert()
        } else if r < mix.insert + mix.backspace {
            let len = (1 + self.rng.below(5) as u32).min(self.cursor);
            self.cursor -= len;
            self.len -= len;
            Op::Delete { pos: self.cursor, len }
        } else {
            self.cursor = self.rng.below(self.len as u64 + 1) as u32;
            self.insert()
        }
    }

    fn ops(&mut self, n: usize, mix: Mix) -> Vec<Op> {
        (0..n).map(|_| self.next_op(mix)).collect()
    }
}

/// Plain-string model used to check every library's result.
fn apply_model(s: &mut String, ops: &[Op]) {
    for op in ops {
        match *op {
            Op::Insert { pos, ch } => s.insert_str(pos as usize, ch_str(ch)),
            Op::Delete { pos, len } => {
                s.replace_range(pos as usize..(pos + len) as usize, "");
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The three libraries behind one trait.
// ---------------------------------------------------------------------------

trait Crdt {
    type Doc;
    type Version;
    /// New empty document for author `peer`.
    fn new_doc(peer: u64) -> Self::Doc;
    /// Applies `ops` one library call each, committing every `group` ops
    /// (and once at the end).
    fn apply(doc: &mut Self::Doc, ops: &[Op], group: usize);
    fn text(doc: &mut Self::Doc) -> String;
    fn encode(doc: &mut Self::Doc) -> Vec<u8>;
    /// A fresh document from `encode`'s output, with author id `peer`.
    fn load(bytes: &[u8], peer: u64) -> Self::Doc;
    fn version(doc: &mut Self::Doc) -> Self::Version;
    /// Everything `doc` has that a replica at `since` lacks.
    fn encode_since(doc: &mut Self::Doc, since: &Self::Version) -> Vec<u8>;
    fn apply_remote(doc: &mut Self::Doc, update: &[u8]);
}

mod y {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{Doc, GetString, ReadTxn, StateVector, Text, TextRef, Transact, Update};

    pub struct YDoc {
        pub doc: Doc,
        pub text: TextRef,
    }

    pub struct Yrs;

    impl Crdt for Yrs {
        type Doc = YDoc;
        type Version = StateVector;

        fn new_doc(peer: u64) -> YDoc {
            let doc = Doc::with_client_id(peer);
            let text = doc.get_or_insert_text("note");
            YDoc { doc, text }
        }

        fn apply(d: &mut YDoc, ops: &[Op], group: usize) {
            for chunk in ops.chunks(group.max(1)) {
                let mut txn = d.doc.transact_mut();
                for op in chunk {
                    match *op {
                        Op::Insert { pos, ch } => d.text.insert(&mut txn, pos, ch_str(ch)),
                        Op::Delete { pos, len } => d.text.remove_range(&mut txn, pos, len),
                    }
                }
            }
        }

        fn text(d: &mut YDoc) -> String {
            d.text.get_string(&d.doc.transact())
        }

        fn encode(d: &mut YDoc) -> Vec<u8> {
            d.doc.transact().encode_state_as_update_v1(&StateVector::default())
        }

        fn load(bytes: &[u8], peer: u64) -> YDoc {
            let d = Self::new_doc(peer);
            d.doc.transact_mut().apply_update(Update::decode_v1(bytes).expect("decode v1")).expect("apply update");
            d
        }

        fn version(d: &mut YDoc) -> StateVector {
            d.doc.transact().state_vector()
        }

        fn encode_since(d: &mut YDoc, since: &StateVector) -> Vec<u8> {
            d.doc.transact().encode_state_as_update_v1(since)
        }

        fn apply_remote(d: &mut YDoc, update: &[u8]) {
            d.doc.transact_mut().apply_update(Update::decode_v1(update).expect("decode v1")).expect("apply update");
        }
    }

    pub fn encode_v2(d: &YDoc) -> Vec<u8> {
        d.doc.transact().encode_state_as_update_v2(&StateVector::default())
    }

    pub fn load_v2(bytes: &[u8], peer: u64) -> YDoc {
        let d = Yrs::new_doc(peer);
        d.doc.transact_mut().apply_update(Update::decode_v2(bytes).expect("decode v2")).expect("apply update");
        d
    }
}

mod am {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc};

    pub struct AmDoc {
        doc: AutoCommit,
        text: ObjId,
    }

    pub struct Automerge;

    fn actor(peer: u64) -> ActorId {
        ActorId::from(peer.to_be_bytes())
    }

    impl Crdt for Automerge {
        type Doc = AmDoc;
        type Version = Vec<ChangeHash>;

        fn new_doc(peer: u64) -> AmDoc {
            let mut doc = AutoCommit::new().with_actor(actor(peer));
            let text = doc.put_object(ROOT, "note", ObjType::Text).expect("put_object");
            doc.commit();
            AmDoc { doc, text }
        }

        /// `group == 0`: no explicit commit until the end (AutoCommit keeps one
        /// open transaction, committed here once at the end).
        fn apply(d: &mut AmDoc, ops: &[Op], group: usize) {
            for (i, op) in ops.iter().enumerate() {
                match *op {
                    Op::Insert { pos, ch } => d.doc.splice_text(&d.text, pos as usize, 0, ch_str(ch)),
                    Op::Delete { pos, len } => d.doc.splice_text(&d.text, pos as usize, len as isize, ""),
                }
                .expect("splice_text");
                if group > 0 && (i + 1) % group == 0 {
                    d.doc.commit();
                }
            }
            d.doc.commit();
        }

        fn text(d: &mut AmDoc) -> String {
            d.doc.text(&d.text).expect("text")
        }

        fn encode(d: &mut AmDoc) -> Vec<u8> {
            d.doc.save()
        }

        fn load(bytes: &[u8], peer: u64) -> AmDoc {
            let mut doc = AutoCommit::load(bytes).expect("load");
            doc.set_actor(actor(peer));
            let (_, text) = doc.get(ROOT, "note").expect("get").expect("note exists");
            AmDoc { doc, text }
        }

        fn version(d: &mut AmDoc) -> Vec<ChangeHash> {
            d.doc.get_heads()
        }

        fn encode_since(d: &mut AmDoc, since: &Vec<ChangeHash>) -> Vec<u8> {
            d.doc.save_after(since)
        }

        fn apply_remote(d: &mut AmDoc, update: &[u8]) {
            d.doc.load_incremental(update).expect("load_incremental");
        }
    }
}

mod lo {
    use super::*;
    use loro::{ExportMode, LoroDoc, LoroText, VersionVector};

    pub struct LoDoc {
        doc: LoroDoc,
        text: LoroText,
    }

    pub struct Loro;

    impl Crdt for Loro {
        type Doc = LoDoc;
        type Version = VersionVector;

        fn new_doc(peer: u64) -> LoDoc {
            let doc = LoroDoc::new();
            doc.set_peer_id(peer).expect("set_peer_id");
            let text = doc.get_text("note");
            LoDoc { doc, text }
        }

        fn apply(d: &mut LoDoc, ops: &[Op], group: usize) {
            let group = group.max(1);
            for (i, op) in ops.iter().enumerate() {
                match *op {
                    Op::Insert { pos, ch } => d.text.insert(pos as usize, ch_str(ch)),
                    Op::Delete { pos, len } => d.text.delete(pos as usize, len as usize),
                }
                .expect("loro edit");
                if (i + 1) % group == 0 {
                    d.doc.commit();
                }
            }
            d.doc.commit();
        }

        fn text(d: &mut LoDoc) -> String {
            d.text.to_string()
        }

        fn encode(d: &mut LoDoc) -> Vec<u8> {
            d.doc.export(ExportMode::Snapshot).expect("export snapshot")
        }

        fn load(bytes: &[u8], peer: u64) -> LoDoc {
            let doc = LoroDoc::from_snapshot(bytes).expect("from_snapshot");
            doc.set_peer_id(peer).expect("set_peer_id");
            let text = doc.get_text("note");
            LoDoc { doc, text }
        }

        fn version(d: &mut LoDoc) -> VersionVector {
            d.doc.oplog_vv()
        }

        fn encode_since(d: &mut LoDoc, since: &VersionVector) -> Vec<u8> {
            d.doc.export(ExportMode::updates(since)).expect("export updates")
        }

        fn apply_remote(d: &mut LoDoc, update: &[u8]) {
            d.doc.import(update).expect("import");
        }
    }
}

// ---------------------------------------------------------------------------
// Measurement.
// ---------------------------------------------------------------------------

const TRACE_OPS: usize = 120_000;
const BATCH_OPS: usize = 300;
const CONCURRENT_OPS: usize = 200;
const REPS: usize = 5;
/// A measurement whose first run takes longer than this is not repeated.
const SLOW: Duration = Duration::from_secs(2);

struct Workload {
    trace: Vec<Op>,
    final_text: String,
    batch: Vec<Op>,
    after_batch: String,
    conc_a: Vec<Op>,
    conc_b: Vec<Op>,
}

fn workload() -> Workload {
    let mut author = Author::new(0x5EED_0001, 0);
    let trace = author.ops(TRACE_OPS, TYPING);
    let mut final_text = String::new();
    apply_model(&mut final_text, &trace);
    assert_eq!(final_text.len(), author.len as usize);
    // The same author goes on typing: the remote batch.
    let batch = author.ops(BATCH_OPS, TYPING);
    let mut after_batch = final_text.clone();
    apply_model(&mut after_batch, &batch);
    let len = final_text.len() as u32;
    let conc_a = Author::new(0xA11CE, len).ops(CONCURRENT_OPS, SCATTERED);
    let conc_b = Author::new(0xB0B, len).ops(CONCURRENT_OPS, SCATTERED);
    Workload { trace, final_text, batch, after_batch, conc_a, conc_b }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs `f` once; if that took less than `SLOW`, runs it until there are `REPS`
/// samples. Returns the median and the number of samples.
fn timed<T>(mut f: impl FnMut() -> (Duration, T)) -> (Duration, usize, T) {
    let (d, mut last) = f();
    let mut samples = vec![d];
    if d < SLOW {
        while samples.len() < REPS {
            let (d, t) = f();
            samples.push(d);
            last = t;
        }
    }
    let n = samples.len();
    (median(samples), n, last)
}

struct Row {
    name: String,
    apply: Duration,
    apply_reps: usize,
    live_mem: usize,
    encode: Duration,
    size: usize,
    load: Duration,
    load_reps: usize,
    load_mem: usize,
    load_peak: usize,
    /// One local insert on the freshly loaded document.
    first_edit: Duration,
    /// Loaded document after that insert.
    edit_mem: usize,
    update_size: usize,
    remote_cold: Duration,
    remote_warm: Duration,
    remote_reps: usize,
    /// Replica loaded from the state after applying the 300-op update.
    replica_mem: usize,
}

fn run<C: Crdt>(name: &str, group: usize, w: &Workload) -> Row {
    eprintln!("{name}: apply ...");
    // 1. apply
    let mut live_mem = 0;
    let (apply, apply_reps, mut doc) = timed(|| {
        let before = current_bytes();
        let mut doc = C::new_doc(1);
        let t = Instant::now();
        C::apply(&mut doc, &w.trace, group);
        let d = t.elapsed();
        live_mem = current_bytes().saturating_sub(before);
        (d, doc)
    });
    assert_eq!(C::text(&mut doc), w.final_text, "{name}: text after the trace");

    // 2. encode
    eprintln!("{name}: encode ...");
    let (encode, _, bytes) = timed(|| {
        let t = Instant::now();
        let bytes = C::encode(&mut doc);
        (t.elapsed(), black_box(bytes))
    });

    // 3. load (+ read text) and 5. memory held by the loaded document
    eprintln!("{name}: load ...");
    let mut load_mem = 0;
    let mut load_peak = 0;
    let mut edit_mem = 0;
    let mut first_edits = Vec::new();
    let (load, load_reps, ()) = timed(|| {
        let before = reset_peak();
        let t = Instant::now();
        let mut loaded = C::load(&bytes, 2);
        let text = C::text(&mut loaded);
        let d = t.elapsed();
        assert_eq!(text, w.final_text, "{name}: text after load");
        drop(text);
        load_mem = current_bytes().saturating_sub(before);
        load_peak = peak_bytes().saturating_sub(before);
        // One local keystroke in the middle of the loaded document: forces
        // whatever a library deferred at load time for local editing.
        let mid = (w.final_text.len() / 2) as u32;
        let t = Instant::now();
        C::apply(&mut loaded, &[Op::Insert { pos: mid, ch: 0 }], 1);
        first_edits.push(t.elapsed());
        edit_mem = current_bytes().saturating_sub(before);
        drop(black_box(loaded));
        (d, ())
    });
    let first_edit = median(first_edits);

    // 6. concurrency sanity check (before `doc` moves on with the batch)
    eprintln!("{name}: concurrent edits ...");
    {
        let mut a = C::load(&bytes, 101);
        let mut b = C::load(&bytes, 202);
        let v0 = C::version(&mut a);
        C::apply(&mut a, &w.conc_a, group);
        C::apply(&mut b, &w.conc_b, group);
        let ua = C::encode_since(&mut a, &v0);
        let ub = C::encode_since(&mut b, &v0);
        C::apply_remote(&mut a, &ub);
        C::apply_remote(&mut b, &ua);
        let (ta, tb) = (C::text(&mut a), C::text(&mut b));
        assert_eq!(ta, tb, "{name}: replicas diverged after exchanging concurrent edits");
        assert_ne!(ta, w.final_text, "{name}: concurrent edits were lost");
    }

    // 4. remote batch: 300 more ops on `doc`, shipped to a replica loaded from `bytes`.
    //    cold: a freshly loaded replica applies the whole 300-op update (this
    //    includes any work a library defers at load time);
    //    warm: the replica first applies the batch's first op as its own update
    //    (untimed), then the update with the other 299 ops is timed.
    eprintln!("{name}: remote batch ...");
    let since = C::version(&mut doc);
    C::apply(&mut doc, &w.batch[..1], group);
    let first = C::encode_since(&mut doc, &since);
    let mid = C::version(&mut doc);
    C::apply(&mut doc, &w.batch[1..], group);
    assert_eq!(C::text(&mut doc), w.after_batch, "{name}: text after the batch");
    let update = C::encode_since(&mut doc, &since);
    let rest = C::encode_since(&mut doc, &mid);
    let reps = if load > SLOW { 1 } else { REPS };
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    let mut replica_mem = 0;
    for _ in 0..reps {
        let before = current_bytes();
        let mut replica = C::load(&bytes, 3);
        let t = Instant::now();
        C::apply_remote(&mut replica, &update);
        cold.push(t.elapsed());
        let text = C::text(&mut replica);
        replica_mem = current_bytes().saturating_sub(before + text.capacity());
        assert_eq!(text, w.after_batch, "{name}: replica after the batch (cold)");
        drop(text);
        drop(replica);

        let mut replica = C::load(&bytes, 4);
        C::apply_remote(&mut replica, &first);
        let t = Instant::now();
        C::apply_remote(&mut replica, &rest);
        warm.push(t.elapsed());
        assert_eq!(C::text(&mut replica), w.after_batch, "{name}: replica after the batch (warm)");
    }
    let remote_reps = cold.len();
    let remote_cold = median(cold);
    let remote_warm = median(warm);

    Row {
        name: name.to_string(),
        apply,
        apply_reps,
        live_mem,
        encode,
        size: bytes.len(),
        load,
        load_reps,
        load_mem,
        load_peak,
        first_edit,
        edit_mem,
        update_size: update.len(),
        remote_cold,
        remote_warm,
        remote_reps,
        replica_mem,
    }
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms >= 100.0 { format!("{ms:.0}") } else { format!("{ms:.1}") }
}

fn mib(b: usize) -> String {
    format!("{:.1}", b as f64 / (1024.0 * 1024.0))
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn main() {
    let w = workload();
    let deletes = w.trace.iter().filter(|o| matches!(o, Op::Delete { .. })).count();
    println!(
        "trace: {} ops ({} inserts, {} deletions), final text {} chars; batch {} ops; concurrent {} + {} ops",
        w.trace.len(),
        w.trace.len() - deletes,
        deletes,
        thousands(w.final_text.len()),
        w.batch.len(),
        w.conc_a.len(),
        w.conc_b.len()
    );

    let rows = vec![
        run::<y::Yrs>("yrs, txn per op", 1, &w),
        run::<y::Yrs>("yrs, txn per 50 ops", 50, &w),
        run::<am::Automerge>("automerge, implicit (one commit at end)", 0, &w),
        run::<am::Automerge>("automerge, commit per op", 1, &w),
        run::<am::Automerge>("automerge, commit per 50 ops", 50, &w),
        run::<lo::Loro>("loro, commit per op", 1, &w),
        run::<lo::Loro>("loro, commit per 50 ops", 50, &w),
    ];

    let runs = |n: usize| if n == 1 { " (1 run)" } else { "" };
    println!();
    println!(
        "| variant | apply ms | ops/s | live doc MiB | encode ms | encoded bytes | load+read ms | loaded doc MiB | load peak MiB |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let ops_s = TRACE_OPS as f64 / r.apply.as_secs_f64();
        println!(
            "| {} | {}{} | {} | {} | {} | {} | {}{} | {} | {} |",
            r.name,
            ms(r.apply),
            runs(r.apply_reps),
            thousands(ops_s as usize),
            mib(r.live_mem),
            ms(r.encode),
            thousands(r.size),
            ms(r.load),
            runs(r.load_reps),
            mib(r.load_mem),
            mib(r.load_peak),
        );
    }
    println!();
    println!(
        "| variant | first local edit after load µs | loaded doc MiB after that edit | 300-op update bytes | apply on fresh replica µs | apply 299 ops on warm replica µs | replica MiB after update |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.0} | {} | {} | {:.0}{} | {:.0}{} | {} |",
            r.name,
            r.first_edit.as_secs_f64() * 1e6,
            mib(r.edit_mem),
            thousands(r.update_size),
            r.remote_cold.as_secs_f64() * 1e6,
            runs(r.remote_reps),
            r.remote_warm.as_secs_f64() * 1e6,
            runs(r.remote_reps),
            mib(r.replica_mem),
        );
    }

    // yrs lib0 v2 encoding of the per-op document.
    let mut d = <y::Yrs as Crdt>::new_doc(1);
    <y::Yrs as Crdt>::apply(&mut d, &w.trace, 1);
    let (enc, _, v2) = timed(|| {
        let t = Instant::now();
        let b = y::encode_v2(&d);
        (t.elapsed(), black_box(b))
    });
    let (load, _, ()) = timed(|| {
        let t = Instant::now();
        let mut l = y::load_v2(&v2, 2);
        let text = <y::Yrs as Crdt>::text(&mut l);
        let el = t.elapsed();
        assert_eq!(text, w.final_text, "yrs v2: text after load");
        (el, ())
    });
    println!();
    println!(
        "yrs v2 encoding (txn per op document): encode {} ms, {} bytes, load+read {} ms",
        ms(enc),
        thousands(v2.len()),
        ms(load)
    );
    // What a yrs diff against an up-to-date state vector still carries.
    let sv = <y::Yrs as Crdt>::version(&mut d);
    let empty = <y::Yrs as Crdt>::encode_since(&mut d, &sv);
    println!("yrs v1 diff against the document's own state vector (no new ops): {} bytes", thousands(empty.len()));
    println!("all assertions passed (text after trace, after load, after remote batch, concurrent merge)");
}
