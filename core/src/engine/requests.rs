//! The request scheduler: which job comes next, the requests in flight (one, or a
//! sign-in with the reads pipelined behind it), the follow-up that continues a step,
//! and when to try again after a refusal.
//!
//! This is the part of the engine that the "one request at a time" rule lives in
//! (see the engine's documentation): it holds no keys and no space state, only the
//! order of work, so it is tested on its own below. The engine plans each job it
//! hands out into a request ([`Engine::plan`](super::Engine)), and feeds the answer
//! back.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use huisclos_protocol::ids::{GroupId, RequestId};
use huisclos_protocol::messages::RequestBody;

use super::{Job, MAX_BACKOFF_SECS, MAX_RELAY_BACKOFF_SECS, Now, Step};

/// The scheduling state of one engine (one connection at a time).
pub(super) struct Requests {
    /// Work waiting, each job once, in order.
    pub(super) jobs: VecDeque<Job>,
    /// On this connection, the epoch each space's push subscription at the relay was
    /// made for. A commit ends the subscriptions of the epoch it closes, so a space
    /// whose epoch moved since is subscribed again (and read).
    pub(super) subscribed: BTreeMap<GroupId, u64>,
    /// The requests sent and not answered, oldest first: one, except behind a sign-in
    /// (see [`Requests::pipelining`]).
    pub(super) in_flight: Vec<(RequestId, Step)>,
    /// Set when a one-round-trip sign-in went out with the connection's first reads
    /// queued behind it: the subscription, the reads of the spaces, the inbox and the
    /// key packages' count may be sent before the sign-in is answered (the relay
    /// finishes a sign-in and a subscription before it reads the next request,
    /// `messages.md` 1.1), so a device coming back sees its news, and the spaces it was
    /// added to, one round trip after connecting instead of five.
    pub(super) pipelining: bool,
    /// Set, for as long as the engine runs, when a relay answered a sign-in with the
    /// reads pipelined behind it as a release before `SignIn` does: such a relay
    /// refuses them, and may close the connection on a read larger than an
    /// unauthenticated frame, so later connections sign in before reading.
    pub(super) no_pipelining: bool,
    /// Requests that continue the steps just answered, oldest first; sent before other
    /// jobs. Usually one; behind a sign-in each pipelined answer may leave its own (a
    /// lone space's content after its log, the inbox's acknowledgement, a key
    /// package upload), and none may be lost to another.
    pub(super) follow_ups: VecDeque<(RequestBody, Step)>,
    pub(super) next_request: u64,
    /// After a transient refusal (rate limit, relay failure): when to try again, and
    /// how many times in a row it happened.
    pub(super) retry_at: Option<Now>,
    pub(super) failures: u32,
    /// Per space: the epoch of the last "stale epoch" answers, and how many came in it.
    pub(super) stale: BTreeMap<GroupId, (Option<u64>, u32)>,
    /// Requests sent since the engine started, by kind.
    pub(super) sent: BTreeMap<&'static str, u64>,
    /// Round trips since the engine started: requests sent with nothing else in
    /// flight (a request pipelined behind another shares its round trip).
    pub(super) round_trips: u64,
    /// Per space, the newest log position the relay announced (`LogAdvanced`): a
    /// pushed record is taken only once the log has been read that far.
    pub(super) log_announced: BTreeMap<GroupId, u64>,
    /// Set when the relay does not know `FetchMany` (an earlier release): spaces are
    /// read one by one on this connection.
    pub(super) no_batches: bool,
    /// Spaces whose log was just read to its end and whose content store has more
    /// records: their next read asks for the log and the next content page in one
    /// request, one round trip per page instead of two (the log read alongside still
    /// comes first, so a commit since is taken before the page).
    pub(super) content_behind: BTreeSet<GroupId>,
    /// Which spaces were read in a batch least recently, so that after a wait (a rate
    /// limit, say) the spaces not read yet go first, not the same first ones again.
    pub(super) read_order: ReadOrder,
}

/// When each space was last put in a batch of reads, by a counter.
#[derive(Default)]
pub(super) struct ReadOrder {
    last: BTreeMap<GroupId, u64>,
    next: u64,
}

impl ReadOrder {
    /// Notes that `group` is being read now.
    pub(super) fn touch(&mut self, group: GroupId) {
        self.next += 1;
        self.last.insert(group, self.next);
    }

    /// `groups`, those never read or read longest ago first (ties in id order).
    pub(super) fn least_recent_first(&self, groups: impl Iterator<Item = GroupId>) -> Vec<GroupId> {
        let mut groups: Vec<GroupId> = groups.collect();
        groups.sort_by_key(|group| (self.last.get(group).copied().unwrap_or(0), *group));
        groups
    }
}

impl Default for Requests {
    fn default() -> Self {
        Self {
            jobs: VecDeque::new(),
            subscribed: BTreeMap::new(),
            in_flight: Vec::new(),
            pipelining: false,
            no_pipelining: false,
            follow_ups: VecDeque::new(),
            // Request ids start at 1 (0 is never sent).
            next_request: 1,
            retry_at: None,
            failures: 0,
            stale: BTreeMap::new(),
            sent: BTreeMap::new(),
            round_trips: 0,
            log_announced: BTreeMap::new(),
            no_batches: false,
            content_behind: BTreeSet::new(),
            read_order: ReadOrder::default(),
        }
    }
}

impl Requests {
    /// Queues `job` unless it is queued already.
    pub(super) fn push(&mut self, job: Job) {
        if !self.jobs.contains(&job) {
            self.jobs.push_back(job);
        }
    }

    /// A new connection: nothing is in flight or queued any more (an answer that never
    /// came is asked again by the jobs queued after signing in), and no wait holds.
    pub(super) fn connected(&mut self) {
        self.retry_at = None;
        self.no_batches = false;
        self.forget_work();
    }

    /// The connection is gone, and its subscriptions with it.
    pub(super) fn disconnected(&mut self) {
        self.forget_work();
        self.subscribed.clear();
    }

    fn forget_work(&mut self) {
        self.in_flight.clear();
        self.pipelining = false;
        self.follow_ups.clear();
        self.jobs.clear();
        self.content_behind.clear();
    }

    /// Whether a request is in flight or work is queued.
    pub(super) fn is_busy(&self) -> bool {
        !self.in_flight.is_empty() || !self.follow_ups.is_empty() || !self.jobs.is_empty()
    }

    /// Puts a subscription first, then reads of `groups` (replacing queued ones), so
    /// that nothing appended can fall between a read and the subscription.
    pub(super) fn subscribe_then_sync(&mut self, groups: &[GroupId]) {
        self.jobs.retain(|job| match job {
            Job::Subscribe => false,
            Job::Sync(group) => !groups.contains(group),
            _ => true,
        });
        self.jobs.push_back(Job::Subscribe);
        self.jobs.extend(groups.iter().map(|group| Job::Sync(*group)));
    }

    /// As [`Requests::subscribe_then_sync`], but ahead of every other job, and followed
    /// by the inbox and the key packages' count: the first requests of a connection,
    /// sent behind its sign-in.
    pub(super) fn subscribe_then_sync_first(&mut self, groups: &[GroupId]) {
        self.jobs.retain(|job| !matches!(job, Job::Subscribe | Job::Sync(_) | Job::Welcomes | Job::KeyPackages));
        self.jobs.push_front(Job::KeyPackages);
        self.jobs.push_front(Job::Welcomes);
        for group in groups.iter().rev() {
            self.jobs.push_front(Job::Sync(*group));
        }
        self.jobs.push_front(Job::Subscribe);
    }

    /// The reads of a refused `FetchMany`, first in the queue again, in their order.
    pub(super) fn read_again(&mut self, reads: &[(GroupId, Option<u64>)]) {
        for (group, _) in reads.iter().rev() {
            self.jobs.push_front(Job::Sync(*group));
        }
    }

    /// Whether a subscription is queued.
    pub(super) fn subscription_queued(&self) -> bool {
        self.jobs.iter().any(|job| matches!(job, Job::Subscribe))
    }

    /// Whether the wait after a refusal still holds at `now`; once it is over it is
    /// forgotten (and the caller syncs everything again).
    pub(super) fn waiting_at(&mut self, now: Now) -> Option<bool> {
        let at = self.retry_at?;
        if now < at {
            return Some(true);
        }
        self.retry_at = None;
        Some(false)
    }

    /// Sends `step`'s request: returns the id it goes under.
    pub(super) fn start(&mut self, step: Step) -> Option<RequestId> {
        let id = RequestId::new(self.next_request).ok()?;
        self.next_request += 1;
        if self.in_flight.is_empty() {
            self.round_trips += 1;
        }
        self.in_flight.push((id, step));
        Some(id)
    }

    /// The step the answer to `id` is for, no longer in flight; `None` for an answer
    /// to nothing this engine waits for (a request forgotten since, or a forgery).
    pub(super) fn answered(&mut self, id: RequestId) -> Option<Step> {
        let at = self.in_flight.iter().position(|(sent, _)| *sent == id)?;
        Some(self.in_flight.remove(at).1)
    }

    /// Whether another request may go out while `in_flight` waits: only behind a
    /// sign-in that went out with the connection's first reads, and only those reads:
    /// the subscription, then one read of spaces (a `FetchMany` of up to
    /// 32 spaces, or a lone space's log), then the inbox and the key
    /// packages' count. None depends on anything the answers before it bring.
    /// Everything else (what was written offline, a second batch of spaces) waits for
    /// every answer.
    pub(super) fn may_pipeline(&self) -> bool {
        if !self.pipelining || !self.follow_ups.is_empty() {
            return false;
        }
        let read_sent = self.in_flight.iter().any(|(_, step)| is_read(step));
        let only_first_requests = self.in_flight.iter().all(|(_, step)| {
            matches!(step, Step::SignIn(_) | Step::Subscribe | Step::FetchWelcomes | Step::KeyPackageStatus)
                || is_read(step)
        });
        only_first_requests
            && match self.jobs.front() {
                Some(Job::Subscribe | Job::Sync(_)) => !read_sent,
                Some(Job::Welcomes | Job::KeyPackages) => true,
                _ => false,
            }
    }

    /// The sign-in the reads were pipelined behind did not sign in: their answers (the
    /// relay refuses them) are not waited for, and what signing in queues is queued
    /// again once it does.
    pub(super) fn abandon_pipelined(&mut self) {
        if std::mem::take(&mut self.pipelining) {
            tracing::debug!(abandoned = self.in_flight.len(), "reads sent behind a sign-in that did not sign in");
            self.in_flight.clear();
            self.follow_ups.clear();
            self.jobs.retain(|job| !matches!(job, Job::Subscribe | Job::Sync(_) | Job::Welcomes | Job::KeyPackages));
        }
    }

    /// Waits before asking again, twice as long after each refusal in a row (with a
    /// spread of `spread_seed`, this device's, so that devices do not come back
    /// together), at most [`MAX_BACKOFF_SECS`]; longer if the relay asks
    /// (`relay_hint`), but at most [`MAX_RELAY_BACKOFF_SECS`]: a relay could silence a
    /// device as well by refusing everything. Queued work is dropped: the wait's end
    /// queues everything again.
    pub(super) fn back_off(&mut self, now: Now, spread_seed: u8, relay_hint: u64) {
        let exponential = 1u64 << self.failures.min(9);
        let spread = u64::from(spread_seed) % exponential.max(1);
        let delay = (exponential + spread).min(MAX_BACKOFF_SECS).max(relay_hint.min(MAX_RELAY_BACKOFF_SECS));
        self.failures = self.failures.saturating_add(1);
        self.retry_at = Some(now.saturating_add(delay));
        self.jobs.clear();
        self.follow_ups.clear();
        self.content_behind.clear();
    }
}

/// Whether `step` reads spaces (their logs, their content stores).
fn is_read(step: &Step) -> bool {
    matches!(step, Step::FetchMany { .. } | Step::FetchLog { .. } | Step::FetchContent { .. })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn group(n: u8) -> GroupId {
        GroupId::from_bytes([n; 16])
    }

    #[test]
    fn spaces_read_longest_ago_come_first() {
        // After a wait (a rate limit cut a cold start short), the spaces not read yet go
        // first, not the same first ones again.
        let mut order = ReadOrder::default();
        let all = || (1..=5).map(group);
        assert_eq!(order.least_recent_first(all()), [group(1), group(2), group(3), group(4), group(5)]);
        order.touch(group(1));
        order.touch(group(2));
        assert_eq!(order.least_recent_first(all()), [group(3), group(4), group(5), group(1), group(2)]);
        order.touch(group(1));
        assert_eq!(order.least_recent_first(all())[3..], [group(2), group(1)]);
    }

    #[test]
    fn a_job_is_queued_once() {
        let mut requests = Requests::default();
        requests.push(Job::Outbox);
        requests.push(Job::Sync(group(1)));
        requests.push(Job::Outbox);
        requests.push(Job::Sync(group(1)));
        requests.push(Job::Sync(group(2)));
        assert_eq!(Vec::from(requests.jobs.clone()), [Job::Outbox, Job::Sync(group(1)), Job::Sync(group(2))]);
        assert!(requests.is_busy());
    }

    #[test]
    fn a_subscription_goes_before_the_reads_it_covers() {
        let mut requests = Requests::default();
        requests.push(Job::Sync(group(1)));
        requests.push(Job::Outbox);
        requests.push(Job::Subscribe);
        requests.subscribe_then_sync(&[group(1), group(2)]);
        assert_eq!(
            Vec::from(requests.jobs.clone()),
            [Job::Outbox, Job::Subscribe, Job::Sync(group(1)), Job::Sync(group(2))],
            "the reads it covers move after it, each once"
        );
        assert!(requests.subscription_queued());
    }

    #[test]
    fn request_ids_count_up_from_one_and_a_new_connection_forgets_the_one_in_flight() {
        let mut requests = Requests::default();
        let first = requests.start(Step::Subscribe).unwrap();
        let second = requests.start(Step::FetchWelcomes).unwrap();
        assert_eq!((first.get(), second.get()), (1, 2));
        requests.push(Job::Outbox);
        requests.subscribed.insert(group(1), 4);
        requests.connected();
        assert!(!requests.is_busy());
        assert_eq!(requests.subscribed.len(), 1, "a new session keeps nothing else: signing in subscribes again");
        requests.disconnected();
        assert!(requests.subscribed.is_empty());
        assert_eq!(requests.start(Step::Subscribe).unwrap().get(), 3, "ids are never reused");
    }

    #[test]
    fn only_the_first_reads_go_behind_a_sign_in_and_a_failed_sign_in_forgets_them() {
        use crate::signin::SignInStep;
        let mut requests = Requests::default();
        requests.start(Step::SignIn(SignInStep::Answer)).unwrap();
        requests.push(Job::Outbox);
        assert!(!requests.may_pipeline(), "nothing goes behind a sign-in unless it went out with the first reads");
        requests.pipelining = true;
        assert!(!requests.may_pipeline(), "an outbox send waits for the sign-in");
        requests.jobs.clear();
        requests.subscribe_then_sync(&[group(1), group(2)]);
        requests.push(Job::Outbox);
        assert!(requests.may_pipeline());
        requests.jobs.pop_front();
        let subscribe = requests.start(Step::Subscribe).unwrap();
        assert!(requests.may_pipeline(), "the reads go behind the subscription");
        requests.jobs.drain(..2);
        let read = requests.start(Step::FetchMany { reads: vec![(group(1), Some(0)), (group(2), Some(0))] }).unwrap();
        requests.jobs.push_front(Job::Sync(group(3)));
        assert!(!requests.may_pipeline(), "nothing goes behind the reads");
        assert_eq!(requests.round_trips, 1, "three requests, one round trip");
        assert!(matches!(requests.answered(subscribe), Some(Step::Subscribe)));
        assert!(requests.answered(subscribe).is_none(), "an answer is taken once");
        // The sign-in is refused: the reads' answers are not waited for, and signing in
        // queues them again.
        requests.answered(RequestId::new(1).unwrap());
        requests.abandon_pipelined();
        assert!(requests.answered(read).is_none());
        assert_eq!(Vec::from(requests.jobs.clone()), [Job::Outbox]);
        assert!(!requests.pipelining);
    }

    #[test]
    fn the_inbox_and_the_key_packages_count_go_behind_the_first_reads_and_nothing_written() {
        use crate::signin::SignInStep;
        let mut requests = Requests::default();
        requests.push(Job::Outbox);
        requests.push(Job::Welcomes);
        requests.start(Step::SignIn(SignInStep::Answer)).unwrap();
        requests.pipelining = true;
        requests.subscribe_then_sync_first(&[group(1), group(2)]);
        assert_eq!(
            Vec::from(requests.jobs.clone()),
            [Job::Subscribe, Job::Sync(group(1)), Job::Sync(group(2)), Job::Welcomes, Job::KeyPackages, Job::Outbox],
            "the inbox once, behind the reads, ahead of what was written offline"
        );
        requests.jobs.pop_front();
        requests.start(Step::Subscribe).unwrap();
        requests.jobs.drain(..2);
        requests.start(Step::FetchMany { reads: vec![(group(1), Some(0)), (group(2), Some(0))] }).unwrap();
        assert!(requests.may_pipeline(), "the inbox goes behind the reads");
        requests.jobs.pop_front();
        requests.start(Step::FetchWelcomes).unwrap();
        assert!(requests.may_pipeline(), "and the key packages' count");
        requests.jobs.pop_front();
        requests.start(Step::KeyPackageStatus).unwrap();
        assert!(!requests.may_pipeline(), "what was written offline waits for every answer");
        assert_eq!(requests.round_trips, 1, "five requests, one round trip");
        // A second batch of spaces waits too, and the inbox behind it.
        let mut requests = Requests::default();
        requests.start(Step::SignIn(SignInStep::Answer)).unwrap();
        requests.pipelining = true;
        requests.subscribe_then_sync_first(&[group(1)]);
        requests.jobs.pop_front();
        requests.start(Step::FetchMany { reads: vec![(group(1), Some(0))] }).unwrap();
        requests.jobs.push_front(Job::Sync(group(2)));
        assert!(!requests.may_pipeline());
    }

    #[test]
    fn waits_double_up_to_a_ceiling_and_a_relays_hint_is_capped() {
        let mut requests = Requests::default();
        let mut delays = Vec::new();
        for _ in 0..12 {
            requests.back_off(1_000, 0, 0);
            delays.push(requests.retry_at.unwrap() - 1_000);
        }
        assert_eq!(&delays[..5], [1, 2, 4, 8, 16]);
        assert!(delays.iter().all(|d| *d <= MAX_BACKOFF_SECS));
        assert_eq!(*delays.last().unwrap(), 512.min(MAX_BACKOFF_SECS));
        requests.back_off(1_000, 0, u64::MAX);
        assert_eq!(requests.retry_at, Some(1_000 + MAX_RELAY_BACKOFF_SECS), "a relay cannot silence a device for ever");
        assert_eq!(requests.waiting_at(1_001), Some(true));
        assert_eq!(requests.waiting_at(1_000 + MAX_RELAY_BACKOFF_SECS), Some(false));
        assert_eq!(requests.waiting_at(1_000 + MAX_RELAY_BACKOFF_SECS), None, "the wait is forgotten once over");
    }

    #[test]
    fn a_wait_drops_queued_work_and_the_follow_up() {
        let mut requests = Requests::default();
        requests.push(Job::Outbox);
        requests.push(Job::Transfers);
        requests.back_off(50, 7, 0);
        assert!(requests.jobs.is_empty() && requests.follow_ups.is_empty());
        // The spread keeps devices apart, within the doubling.
        let mut spread = Requests { failures: 3, ..Requests::default() };
        spread.back_off(50, 7, 0);
        assert_eq!(spread.retry_at, Some(50 + 8 + 7));
    }
}
