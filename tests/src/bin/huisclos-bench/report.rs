//! `huisclos-bench all`: every benchmark, each in its own child process (so that one's
//! memory and threads do not disturb the next), printed and written to
//! `docs/benchmarks.md` with the machine, the date and the commit.

use std::fmt::Write as _;
use std::process::Command;

/// The benchmarks in the order the issue numbers them, with their arguments.
const SUITE: &[(&str, &str, &[&str])] = &[
    ("1", "Relay round trips against raw quinn", &["relay", "256"]),
    ("2", "Fan-out to every device of a space", &["fanout"]),
    ("3", "MLS operations, core against bare openmls", &["mls"]),
    ("4", "File pipeline against raw ChaCha20-Poly1305, and memory", &["file", "1024"]),
    ("5", "Relay store appends against raw sled", &["store", "2000"]),
    ("6", "First sync of 1,000 posts over the emulated 2G link", &["sync2g", "1000"]),
    ("7", "Bytes on the wire per post", &["wire"]),
    ("8", "Relay memory per idle connection", &["idle", "10000"]),
    ("—", "A post through the whole engine against bare openmls", &["post", "300"]),
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
    for (number, title, args) in SUITE {
        if !only.is_empty() && !only.iter().any(|o| o == args[0]) {
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
        let _ = writeln!(doc, "\n## {number}. {title}\n\n`huisclos-bench {}`\n\n{body}", args.join(" "));
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/benchmarks.md");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, doc).unwrap();
    eprintln!("written: {}", path.display());
}
