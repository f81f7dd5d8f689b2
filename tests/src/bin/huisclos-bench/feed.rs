//! Opening a space's feed: the first page of 50, newest first, against feeds of growing
//! length, beside reading the whole feed (what apps did before pages). Ceiling: the same
//! 50 items read one by one by id, measured in the same run: the least any page can
//! cost.

use std::time::{Duration, Instant};

use huisclos_core::space::{HistoryMode, Policy};
use huisclos_protocol::ids::ContentId;
use huisclos_tests::sim::{SimDevice, SimRelay};

const PAGE: usize = 50;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Benchmark: the first page of a feed of each of `sizes` posts.
pub(crate) async fn feed_bench(sizes: &[usize]) {
    println!(
        "opening a feed: the first page of {PAGE} items (newest first) of one space's feed on a real profile \
         (sled vault, every item sealed), median of 21 reads; ceiling: the same {PAGE} items read one by one by id"
    );
    println!();
    println!("| posts in the feed | first page ms | ceiling ms | ratio | whole feed ms | whole / page |");
    println!("|---:|---:|---:|---:|---:|---:|");
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let space = huisclos_tests::sim::create_space(&mut alice, "Case 207", Policy::Confidential, HistoryMode::Keep);
    let mut posted = 0;
    for &size in sizes {
        while posted < size {
            alice.engine_mut().post(&space, &format!("Hearing notes, part {posted}")).expect("post");
            posted += 1;
        }
        let engine = alice.engine();
        let page_times: Vec<Duration> = (0..21)
            .map(|_| {
                let started = Instant::now();
                let page = engine.feed_page(&space, None, PAGE).expect("page");
                let took = started.elapsed();
                assert_eq!(page.len(), PAGE.min(size));
                took
            })
            .collect();
        let ids: Vec<ContentId> = engine
            .feed_page(&space, None, PAGE)
            .expect("page")
            .iter()
            .map(|item| ContentId::from_bytes(item.id))
            .collect();
        let ceiling_times: Vec<Duration> = (0..21)
            .map(|_| {
                let started = Instant::now();
                for id in &ids {
                    engine.item(&space, id).expect("item").expect("there");
                }
                started.elapsed()
            })
            .collect();
        let whole_times: Vec<Duration> = (0..3)
            .map(|_| {
                let started = Instant::now();
                assert_eq!(engine.feed(&space).expect("feed").len(), size);
                started.elapsed()
            })
            .collect();
        let (page, ceiling, whole) = (median(page_times), median(ceiling_times), median(whole_times));
        println!(
            "| {size} | {:.2} | {:.2} | {:.2} | {:.1} | {:.0} |",
            ms(page),
            ms(ceiling),
            page.as_secs_f64() / ceiling.as_secs_f64(),
            ms(whole),
            whole.as_secs_f64() / page.as_secs_f64()
        );
    }
}
