//! Opening a space's feed: the first page of 50, newest first, against feeds of growing
//! length, beside reading the whole feed (what apps did before pages). Ceiling: the same
//! 50 items read one by one by id, measured in the same run: the least any page can
//! cost.
//!
//! Then a new post on a feed an app observes: the changes the engine hands out for it
//! (`poll_list_update`), which must be one diff whatever the feed's length, beside a
//! rescan of the whole feed. Ceiling: one item read by id.

use std::time::{Duration, Instant};

use huisclos_core::engine::ListUpdate;
use huisclos_core::lists::VectorDiff;
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
    println!(
        "| posts in the feed | first page ms | ceiling ms | ratio | whole feed ms | whole / page | \
         new post to diff ms | diffs per post | one item ms | diff / item |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
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
        let ids: Vec<ContentId> =
            engine.feed_page(&space, None, PAGE).expect("page").iter().map(|item| item.id).collect();
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
        let item_times: Vec<Duration> = (0..21)
            .map(|i| {
                let started = Instant::now();
                engine.item(&space, &ids[i % ids.len()]).expect("item").expect("there");
                started.elapsed()
            })
            .collect();
        // An observed feed, and new posts on it: each must come out as one Insert at
        // the top, however long the feed.
        let engine = alice.engine_mut();
        let (list, _) = engine.observe_feed(&space, PAGE).expect("observe");
        let mut diff_times = Vec::new();
        let mut diffs_per_post = 0;
        for n in 0..21 {
            let id = engine.post(&space, &format!("Observed post {n}")).expect("post");
            posted += 1;
            let started = Instant::now();
            let mut diffs = Vec::new();
            while let Some(update) = engine.poll_list_update().expect("poll") {
                let ListUpdate::Feed { diffs: more, .. } = update else { panic!("only a feed is observed") };
                diffs.extend(more);
            }
            diff_times.push(started.elapsed());
            assert!(
                matches!(diffs.as_slice(), [VectorDiff::Insert { index: 0, value }] if value.id == id),
                "a new post is one Insert at the top"
            );
            diffs_per_post = diffs.len();
        }
        engine.unobserve(list);
        let (page, ceiling, whole) = (median(page_times), median(ceiling_times), median(whole_times));
        let (diff, item) = (median(diff_times), median(item_times));
        println!(
            "| {size} | {:.2} | {:.2} | {:.2} | {:.1} | {:.0} | {:.3} | {diffs_per_post} | {:.3} | {:.1} |",
            ms(page),
            ms(ceiling),
            page.as_secs_f64() / ceiling.as_secs_f64(),
            ms(whole),
            whole.as_secs_f64() / page.as_secs_f64(),
            ms(diff),
            ms(item),
            diff.as_secs_f64() / item.as_secs_f64()
        );
    }
}
