//! `huisclos-bench all`: every benchmark, each in its own child process (so that one's
//! memory and threads do not disturb the next), printed and written to
//! `docs/benchmarks.md` with the machine, the date and the commit.

use std::fmt::Write as _;
use std::process::Command;

/// One benchmark: its number, title, arguments, and what a reader should know when
/// its target is missed (the cause as far as it is known; written by hand, kept with
/// the code that measures it).
struct Bench {
    number: &'static str,
    title: &'static str,
    args: &'static [&'static str],
    holds_back: &'static str,
}

/// The benchmarks in the order the issue numbers them.
const SUITE: &[Bench] = &[
    Bench {
        number: "1",
        title: "Relay round trips against raw quinn",
        args: &["relay", "256"],
        holds_back: "Each acknowledgement waits for a disk flush: an append is acknowledged once it is on \
            disk. Here a sled flush alone takes 110-150 µs, more than the whole echo round trip (about 90 µs), \
            so one client cannot reach 0.5 with a flush before each acknowledgement: echo, flush and the \
            transaction (about 45 µs) put its ceiling near 0.35. Concurrent appends are written in batches, one \
            transaction and one flush for all that queued meanwhile (at 256 clients, about 55 appends per batch \
            of about 0.9 ms), because sled runs its atomic writes one at a time and not alongside a flush. The \
            store is then busy only part of the time; the rest of the round trip is shared between the relay \
            and 256 client connections on the same two cores, and was not profiled to the end.",
    },
    Bench {
        number: "2",
        title: "Fan-out to every device of a space",
        args: &["fanout"],
        holds_back: "No target is set. Every device gets a push and makes one fetch. At 1,000 devices the \
            ceiling is bounded by the client process driving 1,000 endpoints, not by the server.",
    },
    Bench {
        number: "3",
        title: "MLS operations, core against bare openmls",
        args: &["mls"],
        holds_back: "At 1,000 and 10,000 leaves the ratio is met: the core keeps no past-epoch \
            secrets (the relay appends only in the current epoch), and stores the ratchet tree in 16 KiB pieces \
            of which a commit rewrites only the changed ones, so it is at or below bare openmls, whose in-memory \
            storage encodes JSON. At 10 leaves, where an operation takes about a millisecond (and at 100 in some \
            runs), the core's fixed cost per operation (about 0.3 ms: every value sealed, and one disk flush, \
            which the engine's durability rule requires) puts it at 1.2-2×. The 50 ms at 10,000 leaves is missed by both stacks: \
            there openmls's process_message alone takes about 40 ms, half of it recomputing the tree hash over \
            every leaf (perf profile), before anything is stored. A tree-hash cache inside openmls would be the fix.",
    },
    Bench {
        number: "4",
        title: "File pipeline against raw ChaCha20-Poly1305, and memory",
        args: &["file", "1024"],
        holds_back: "Naming a chunk (SHA-256) costs about as much as sealing it; two threads each seal and name \
            every other chunk, so the figure depends on both cores being free.",
    },
    Bench {
        number: "5",
        title: "Relay store appends against raw sled",
        args: &["store", "2000"],
        holds_back: "No target is set. An append is a transaction over three or four trees; the ceiling is \
            one insert. Sixteen writers share transactions and flushes (appends are written in batches), so \
            together they pass the one-writer ceiling.",
    },
    Bench {
        number: "5b",
        title: "Relay store appends on PostgreSQL, one and two relay processes",
        args: &["store-postgres", "4000"],
        holds_back: "No target is set. An append is one prepared statement (the group's row locked, a resend \
            looked for, the entry inserted, the group advanced) committed on its own, against one insert: the \
            lock and the second index cost the rest. Both wait for PostgreSQL's WAL flush, which concurrent \
            commits share. Client, relay threads and server share the same two cores. Needs a server: \
            `bash scripts/bench-postgres.sh` starts one (a run of `all` without one keeps this section as it was).",
    },
    Bench {
        number: "6",
        title: "First sync of 1,000 posts over the emulated 2G link",
        args: &["sync2g", "1000"],
        holds_back: "Lost packets and their retransmissions vary from run to run (the loss is seeded, the timing \
            is not). Each record carries its signature, and the first of each author in a generation its \
            certificate (the others refer to it by 16 bytes); each page is padded to its size class, which the \
            relay fills (messages.md 9.2 and 7.5). The bytes are about twice the text. Over QUIC runs of one \
            commit spread (f78c037 and df43d98, whose paths are the same here: 92.6 s, 1.49×, 41 packets lost; \
            73.2 s, 1.20×, 39 lost), as quinn (CUBIC) shrinks its window at each real loss and a loss at the end of a \
            page waits for its retransmission timeout; TCP+TLS gave 72.2 and 71.5 s (1.33× and 1.32×). The \
            content store is read a page per round trip: the first page holds up to 128 records, so that the first posts show soon; \
            each one after it, up to 256 records, is asked for in one FetchMany with the log read that must come \
            before it (client.md, \"Coming back online\"), and the relay ends it where the whole answer fills \
            its size class. Before that, on commit 7c72935, each page after the first cost two round trips (the \
            log, then the page) and held at most 128 records: QUIC 90.6 s (1.57×) and 109.9 s (1.89×), TCP+TLS \
            85.2 s (1.67×) and 84.8 s (1.66×), on 2026-11-30. Reading on in FetchMany before the relay ended a \
            FetchMany's last page at its class put 575 KB on the link where 465 KB went before (QUIC, 107.3 s). \
            Before records referred to their author's certificate, the run of 2026-11-25 put 1,104 bytes per \
            post on the link (1,103,840 in all, 196.4 s, 1.42× the byte time): 128 records of 537 bytes made a \
            page of 69 KB, padded to 128 KiB. Over TCP+TLS the emulated link loses no bytes but holds the stream \
            two round trips for each lost segment (netem.rs).",
    },
    Bench {
        number: "7",
        title: "Bytes on the wire per post",
        args: &["wire"],
        holds_back: "No target is set. Small posts are dominated by the envelope (signature, id, the reference to \
            the author's certificate) and by padding to size classes, which hides their exact length from the \
            network. The second table checks the classes against the items people write: a reaction fits 256 \
            bytes and a 200-byte post 512; a short comment is padded by about a third. Before records referred to \
            their author's certificate (run of 2026-11-25), a 256-byte post took 1,024 bytes up and 1,280 down.",
    },
    Bench {
        number: "8",
        title: "Relay memory per idle connection",
        args: &["idle", "10000"],
        holds_back: "Over TCP+TLS the target is met. Over QUIC nearly all of it is quinn's and rustls's: a \
            heap profile of the relay (heaptrack, 2,000 connections) puts about 30 KiB of each connection there \
            — among them quinn's connection state (7 KiB), its per-connection event channel (6.5 KiB), transmit \
            and sent-packet buffers (3.5 KiB), and the packet and header keys (4 KiB) — and about 6 KiB in the \
            relay's own tasks, answer channel and session. A bare quinn server measures 29-37 KiB per connection \
            from run to run. Meeting 16 KiB over QUIC needs changes inside quinn.",
    },
    Bench {
        number: "—",
        title: "Opening a feed: the first page of 50 against feeds of 1k, 10k and 100k posts; a new post on an observed feed",
        args: &["feed", "1000", "10000", "100000"],
        holds_back: "Targets (issue 19): first page under 20 ms, not growing with the feed; a new post on an \
            observed feed reaches the observer as one diff, not a rescan. A page reads about 50 order entries \
            backwards and 50 items; the ceiling reads the 50 items alone. The diff reads the one item the post \
            changed and finds its place by position in the window shown; its ceiling is one item read. \
            Building the 100,000-post feed takes most of this benchmark's time.",
    },
    Bench {
        number: "—",
        title: "Notes written together: merging a batch, loading a note, bytes per typed character, against bare yrs",
        args: &["notes", "10000"],
        holds_back: "Targets (issue 21): merging a remote batch into a note of 100,000 characters with 10,000 \
            edits of history at most 1.5x bare yrs; loading it from its snapshot under 50 ms. core::note \
            decodes an update once more than yrs does, to read which clients it inserts under, before yrs \
            merges it. The engine keeps a note open in memory and stores each update as one sealed row (the \
            note's state is folded every 256 updates), so its merge costs the merge, the sealing of the row \
            and the vault's commit; on disk, sled's flush comes on top, as for every record. Typing costs a \
            whole record per batch: the envelope carries the author's certificate and signature, and the frame \
            is padded to its size class; batching longer on a slow link, and sending a certificate once per \
            space (issue 22), are what would lower it.",
    },
    Bench {
        number: "—",
        title: "A post through the whole engine against bare openmls",
        args: &["post", "300"],
        holds_back: "The whole engine commits its state to disk at every step, on both sides, and the relay \
            flushes every write; bare openmls does no I/O.",
    },
];

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned()))
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| info.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_owned())))
        .unwrap_or_else(|| "unknown".into());
    format!("{cpu}, {cores} cores, {memory} of memory, {}", command_output("uname", &["-sr"]))
}

pub(crate) fn run_all(only: &[String]) {
    let exe = std::env::current_exe().unwrap();
    let commit = command_output("git", &["rev-parse", "--short=12", "HEAD"]);
    let dirty = !command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let mut doc = String::new();
    let _ = writeln!(doc, "# Benchmarks\n");
    let _ = writeln!(
        doc,
        "Written by `cargo run --release -p huisclos-tests --bin huisclos-bench -- all`; do not edit by hand.\n\
         Every figure is a ratio to a ceiling measured in the same run, on the same machine.\n"
    );
    let _ = writeln!(doc, "- Machine: {}", machine());
    let _ = writeln!(doc, "- Date: {date}");
    let _ = writeln!(doc, "- Commit: {commit}{}", if dirty { " (with uncommitted changes)" } else { "" });
    let _ = writeln!(doc, "- Build: release, {}", command_output("rustc", &["--version"]));
    let mut kept = false;
    for Bench { number, title, args, holds_back } in SUITE {
        if !only.is_empty() && !only.iter().any(|o| o == args[0]) {
            continue;
        }
        if args[0] == "store-postgres" && std::env::var_os("HUISCLOS_TEST_POSTGRES").is_none() {
            eprintln!("kept as it was: {title} (no PostgreSQL server; scripts/bench-postgres.sh starts one)");
            kept = true;
            continue;
        }
        eprintln!("running: huisclos-bench {}", args.join(" "));
        let output = Command::new(&exe).args(*args).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout);
        let body = if output.status.success() {
            text.trim().to_owned()
        } else {
            format!(
                "**Failed** (exit {:?}):\n\n```text\n{}\n```",
                output.status.code(),
                String::from_utf8_lossy(&output.stderr).trim()
            )
        };
        println!("\n## {number}. {title}\n\n{body}");
        let _ = writeln!(
            doc,
            "\n## {number}. {title}\n\n`huisclos-bench {}`\n\n{body}\n\n*What limits it:* {holds_back}",
            args.join(" ")
        );
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    // A run of some benchmarks replaces their sections and keeps the others (with the
    // run they came from, which each kept section names).
    let doc =
        if only.is_empty() && !kept { doc } else { merged(&std::fs::read_to_string(&path).unwrap_or_default(), &doc) };
    std::fs::write(&path, doc).unwrap();
    eprintln!("written: {}", path.display());
}

/// `previous` with the sections of `fresh` in place of those of the same title, and
/// the header of `fresh`; a section `fresh` does not have is kept, marked with the
/// header lines of the run that wrote it.
fn merged(previous: &str, fresh: &str) -> String {
    fn split(doc: &str) -> (String, Vec<(String, String)>) {
        let mut parts = doc.split("\n## ");
        let head = parts.next().unwrap_or_default().to_owned();
        let sections = parts
            .map(|part| {
                let title = part.lines().next().unwrap_or_default();
                // "3. MLS operations..." -> "MLS operations..."
                let key = title.split_once(". ").map_or(title, |(_, rest)| rest).to_owned();
                (key, format!("\n## {part}"))
            })
            .collect();
        (head, sections)
    }
    let (old_head, old_sections) = split(previous);
    let (new_head, new_sections) = split(fresh);
    let run_of = |head: &str| -> String {
        let field =
            |name: &str| head.lines().find_map(|l| l.strip_prefix(name)).map(str::trim).unwrap_or_default().to_owned();
        format!("{} ({}, commit {})", field("- Date:"), field("- Machine:"), field("- Commit:"))
    };
    let old_run = run_of(&old_head);
    let mut doc = new_head;
    for (key, section) in &old_sections {
        match new_sections.iter().find(|(k, _)| k == key) {
            Some((_, fresh)) => doc.push_str(fresh),
            // Sections this binary does not write (the desktop's) stay as they are.
            None if section.contains("*Kept from the run of")
                || old_head.is_empty()
                || !SUITE.iter().any(|bench| bench.title == key) =>
            {
                doc.push_str(section)
            }
            None => {
                doc.push_str(section.trim_end());
                let _ = write!(doc, "\n\n*Kept from the run of {old_run}.*\n");
            }
        }
    }
    for (key, fresh) in &new_sections {
        if !old_sections.iter().any(|(k, _)| k == key) {
            doc.push_str(fresh);
        }
    }
    doc
}
