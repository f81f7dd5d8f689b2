//! The thin async layer: it moves the [`Engine`]'s requests over a relay connection
//! (QUIC first, TCP+TLS when QUIC cannot be reached) and feeds back answers, pushed
//! events and the time. It makes no decision of its own.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huisclos_protocol::auth::TlsExporter;
use huisclos_protocol::ids::RequestId;
use huisclos_protocol::messages::{Event, RelayError, RequestBody, ResponseBody};
use huisclos_transport::TransportError;
use huisclos_transport::client::{RelayClient, TransportKind};
use huisclos_transport::tls::{PresentedKey, RelayPins};

use crate::engine::{Engine, Now};
use crate::error::{CoreError, Result, TransportFailure};
use crate::linker::Linker;

/// A sans-IO state machine the connection drives: the [`Engine`], or a [`Linker`]
/// waiting for its grant.
pub trait Machine {
    /// The transport connected with this TLS exporter value.
    fn connected(&mut self, exporter: TlsExporter, now: Now);
    /// The transport disconnected.
    fn disconnected(&mut self);
    /// The next request to send: sent at once, and polled again (a machine returns
    /// `None` while it waits for answers before it can say what comes next).
    fn poll_request(&mut self, now: Now) -> Option<(RequestId, RequestBody)>;
    /// The answer to a request.
    fn handle_response(&mut self, id: RequestId, answer: std::result::Result<ResponseBody, RelayError>, now: Now);
    /// A pushed event.
    fn handle_event(&mut self, event: Event, now: Now);
    /// Pushed events were lost (the connection's buffer of them was full): whatever
    /// they would have said must be fetched.
    fn events_missed(&mut self);
    /// When the machine wants to be polled even if nothing arrives.
    fn poll_timeout(&self) -> Option<Now>;
    /// The relay presented this key (and announcement) in the handshake, before
    /// [`Machine::connected`]. Only a machine that keeps the relay's pin cares.
    fn relay_key_presented(&mut self, _presented: &PresentedKey) {}
}

macro_rules! machine {
    ($type:ty $(, $presented:ident)?) => {
        impl Machine for $type {
            $(
                fn $presented(&mut self, presented: &PresentedKey) {
                    <$type>::$presented(self, presented);
                }
            )?
            fn connected(&mut self, exporter: TlsExporter, now: Now) {
                <$type>::connected(self, exporter, now);
            }
            fn disconnected(&mut self) {
                <$type>::disconnected(self);
            }
            fn poll_request(&mut self, now: Now) -> Option<(RequestId, RequestBody)> {
                <$type>::poll_request(self, now)
            }
            fn handle_response(
                &mut self,
                id: RequestId,
                answer: std::result::Result<ResponseBody, RelayError>,
                now: Now,
            ) {
                <$type>::handle_response(self, id, answer, now);
            }
            fn handle_event(&mut self, event: Event, now: Now) {
                <$type>::handle_event(self, event, now);
            }
            fn events_missed(&mut self) {
                <$type>::events_missed(self);
            }
            fn poll_timeout(&self) -> Option<Now> {
                <$type>::poll_timeout(self)
            }
        }
    };
}

machine!(Engine, relay_key_presented);
machine!(Linker);

/// Where a connection finds the machine it drives at each step: the machine itself
/// when the caller holds it for the whole drive (the CLI), or a lock taken only for
/// the step, so that an app's other threads give commands while a slow link is
/// waited on (the UniFFI layer). No step holds the machine across a network wait.
pub trait MachineCell {
    /// The machine inside.
    type Inner: Machine;
    /// Runs one step on the machine.
    ///
    /// # Errors
    /// [`CoreError::Closed`] when the machine is gone (a profile wiped while its
    /// connection was waiting): the connection stops.
    fn step<R>(&mut self, f: impl FnOnce(&mut Self::Inner) -> R) -> Result<R>;
}

impl<M: Machine> MachineCell for M {
    type Inner = M;
    fn step<R>(&mut self, f: impl FnOnce(&mut M) -> R) -> Result<R> {
        Ok(f(self))
    }
}

/// How long QUIC may try alone before TCP+TLS is tried alongside it.
pub const QUIC_HEAD_START: Duration = Duration::from_secs(3);

/// The wall clock, in the engine's unit.
pub fn now() -> Now {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Of two failures to reach the relay, the one to report: a server that answered with
/// a key this device does not pin, whichever way and whenever it came, over any other
/// (a network that blocks UDP while something intercepts TCP must not hide the
/// impostor behind QUIC's later timeout); otherwise the later one.
fn worse_failure(earlier: Option<CoreError>, later: CoreError) -> CoreError {
    match earlier {
        Some(refused @ CoreError::Transport(TransportFailure::RelayKeyNotPinned)) => refused,
        _ => later,
    }
}

/// An open connection driving one engine.
#[derive(Debug)]
pub struct Connection {
    relay: RelayClient,
}

impl Connection {
    /// Connects to the first reachable address: QUIC first, and TCP+TLS as well once
    /// QUIC has had [`QUIC_HEAD_START`] without success (a network that drops UDP
    /// would otherwise cost the whole QUIC timeout at every connection). Tells the
    /// engine, which then logs in.
    ///
    /// # Errors
    /// [`CoreError::Transport`] with the last failure when nothing answers.
    pub async fn open(
        engine: &mut impl MachineCell,
        addresses: &[SocketAddr],
        pins: impl Into<RelayPins>,
    ) -> Result<Self> {
        Self::open_with_head_start(engine, addresses, pins, QUIC_HEAD_START).await
    }

    /// As [`Connection::open`], with QUIC's head start over TCP+TLS given.
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub async fn open_with_head_start(
        engine: &mut impl MachineCell,
        addresses: &[SocketAddr],
        pins: impl Into<RelayPins>,
        head_start: Duration,
    ) -> Result<Self> {
        let pins = pins.into();
        let quic = Self::first_reachable(TransportKind::Quic, addresses, pins);
        let tcp = async {
            tokio::time::sleep(head_start).await;
            Self::first_reachable(TransportKind::Tcp, addresses, pins).await
        };
        tokio::pin!(quic, tcp);
        let (mut quic_failed, mut tcp_failed) = (false, false);
        let mut reported: Option<CoreError> = None;
        let relay = loop {
            let failure = tokio::select! {
                outcome = &mut quic, if !quic_failed => match outcome {
                    Ok(relay) => break relay,
                    Err(error) => { quic_failed = true; error }
                },
                outcome = &mut tcp, if !tcp_failed => match outcome {
                    Ok(relay) => break relay,
                    Err(error) => { tcp_failed = true; error }
                },
            };
            reported = Some(worse_failure(reported, failure));
            if quic_failed && tcp_failed {
                return Err(reported.unwrap_or(CoreError::Transport(TransportFailure::NoRelayAddress)));
            }
        };
        if let Some(presented) = relay.presented_key() {
            engine.step(|machine| machine.relay_key_presented(presented))?;
        }
        engine.step(|machine| machine.connected(relay.exporter().clone(), now()))?;
        Ok(Self { relay })
    }

    async fn first_reachable(kind: TransportKind, addresses: &[SocketAddr], pins: RelayPins) -> Result<RelayClient> {
        let mut reported = None;
        for address in addresses {
            match RelayClient::connect(kind, *address, pins).await {
                Ok(relay) => return Ok(relay),
                Err(error) => {
                    tracing::info!(%address, ?kind, %error, "relay not reachable this way");
                    reported = Some(worse_failure(reported, error.into()));
                }
            }
        }
        Err(reported.unwrap_or(CoreError::Transport(TransportFailure::NoRelayAddress)))
    }

    /// Which transport the connection uses.
    pub fn kind(&self) -> TransportKind {
        self.relay.kind()
    }

    /// Sends the engine's requests and feeds their answers until it has nothing left to
    /// do, feeding any pushed events that arrived meanwhile.
    ///
    /// # Errors
    /// [`CoreError::Transport`] when the connection fails; the engine is told and
    /// keeps its outbox for the next connection.
    pub async fn drive(&self, engine: &mut impl MachineCell) -> Result<()> {
        // The requests sent and not answered yet, oldest first. The engine says when it
        // may send another before an answer (the reads pipelined behind a sign-in); the
        // relay may answer in any order, and each answer waits here until its turn.
        let mut waiting = VecDeque::new();
        loop {
            while let Some(event) = self.relay.next_event(Duration::ZERO).await {
                engine.step(|machine| machine.handle_event(event, now()))?;
            }
            if self.relay.take_missed_events() {
                engine.step(Machine::events_missed)?;
            }
            while let Some((id, body)) = engine.step(|machine| machine.poll_request(now()))? {
                match self.relay.send(body).await {
                    Ok(answer) => waiting.push_back((id, answer)),
                    Err(error) => return Self::lost(engine, error),
                }
            }
            let Some((id, pending)) = waiting.pop_front() else { return Ok(()) };
            let answer = match pending.answer().await {
                Ok(answer) => Ok(answer),
                Err(TransportError::Relay(error)) => Err(error),
                Err(error) => return Self::lost(engine, error),
            };
            engine.step(|machine| machine.handle_response(id, answer, now()))?;
        }
    }

    /// The connection failed: the engine is told, and the failure returned.
    fn lost(engine: &mut impl MachineCell, error: TransportError) -> Result<()> {
        // A machine already gone needs no telling.
        let _ = engine.step(|machine| machine.disconnected());
        Err(error.into())
    }

    /// Waits up to `timeout` for pushed events or the engine's own timer (a retry
    /// after a backoff), feeds what came, and drives the engine until idle again.
    /// Returns whether anything woke it before `timeout`.
    ///
    /// # Errors
    /// As [`Connection::drive`].
    pub async fn wait_and_drive(&self, engine: &mut impl MachineCell, timeout: Duration) -> Result<bool> {
        self.wait_or_wake_and_drive(engine, timeout, std::future::pending()).await
    }

    /// As [`Connection::wait_and_drive`], also woken by `wake` (a command given on
    /// another thread while this one waits). Only the wait is cut short, never a
    /// request in flight.
    ///
    /// # Errors
    /// As [`Connection::drive`].
    pub async fn wait_or_wake_and_drive(
        &self,
        engine: &mut impl MachineCell,
        timeout: Duration,
        wake: impl std::future::Future<Output = ()>,
    ) -> Result<bool> {
        let wait = match engine.step(|machine| machine.poll_timeout())? {
            Some(at) => timeout.min(Duration::from_secs(at.saturating_sub(now()))),
            None => timeout,
        };
        let pushed = tokio::select! {
            event = self.relay.next_event(wait) => event,
            () = wake => None,
        };
        let woke = match pushed {
            Some(event) => {
                engine.step(|machine| machine.handle_event(event, now()))?;
                true
            }
            None => engine.step(|machine| machine.poll_timeout())?.is_some_and(|at| at <= now()),
        };
        self.drive(engine).await?;
        Ok(woke)
    }

    /// Sends and reads everything: drives the engine until idle, then goes on while
    /// answers start more work (a commit's Welcome, history keys after an add) or
    /// pushed events come, until `quiet` passes with nothing.
    ///
    /// # Errors
    /// As [`Connection::drive`].
    pub async fn sync_until_quiet(&self, engine: &mut impl MachineCell, quiet: Duration) -> Result<()> {
        self.drive(engine).await?;
        while self.wait_and_drive(engine, quiet).await? {}
        Ok(())
    }

    /// Closes the connection at once.
    pub fn close(self, engine: &mut impl MachineCell) {
        self.relay.abort();
        // A machine already gone needs no telling.
        let _ = engine.step(|machine| machine.disconnected());
    }
}

/// What a [`SyncService`] is doing, for an app to show.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncState {
    /// Not running: before [`SyncService::run`], or after it stopped.
    Stopped,
    /// Opening a connection to the relay.
    Connecting,
    /// Connected over this transport: pushed events and queued commands are handled as
    /// they come.
    Online(TransportKind),
    /// The last attempt failed (`error` says how, with no content and no secret); the
    /// next comes after `retry_in`, or at once on [`SyncService::wake`].
    Offline {
        /// Why the relay could not be reached or the connection failed.
        error: String,
        /// Whether it was reached and presented a key this device does not pin
        /// ([`TransportFailure::RelayKeyNotPinned`](crate::error::TransportFailure)):
        /// not the network failing, but another server at the relay's address, or a
        /// key changed without the rotation this device would have learned. An app
        /// warns of it, where it only waits out a failing network.
        relay_key_not_pinned: bool,
        /// How long until the next attempt.
        retry_in: Duration,
    },
}

/// Keeps one machine connected to its relay for as long as an app wants it: connects
/// (QUIC, then TCP+TLS), drives the machine whenever the relay pushes something, a
/// timer falls due or a command queued work ([`SyncService::wake`]), and after a
/// failure tries again with a wait that doubles up to a ceiling, at once if woken. The
/// one loop every client uses (the CLI's `watch`, the UniFFI profile's watching), so
/// that none writes its own.
pub struct SyncService {
    running: AtomicBool,
    stopping: AtomicBool,
    wake: tokio::sync::Notify,
    state: std::sync::Mutex<SyncState>,
    on_state: Box<dyn Fn(&SyncState) + Send + Sync>,
    first_backoff: Duration,
    max_backoff: Duration,
    idle_wait: Duration,
}

impl std::fmt::Debug for SyncService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncService").field("state", &self.state()).finish_non_exhaustive()
    }
}

impl Default for SyncService {
    fn default() -> Self {
        Self::new(|_| {})
    }
}

impl SyncService {
    /// The first wait after a failure; it doubles at each failure in a row.
    pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
    /// The longest wait between two attempts.
    pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
    /// How long a connected machine waits for something before checking its timers.
    pub const IDLE_WAIT: Duration = Duration::from_secs(30);

    /// A service that tells `on_state` every change of its [`SyncState`] (called on the
    /// task that runs it, with no lock held).
    pub fn new(on_state: impl Fn(&SyncState) + Send + Sync + 'static) -> Self {
        Self {
            running: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
            state: std::sync::Mutex::new(SyncState::Stopped),
            on_state: Box::new(on_state),
            first_backoff: Self::FIRST_BACKOFF,
            max_backoff: Self::MAX_BACKOFF,
            idle_wait: Self::IDLE_WAIT,
        }
    }

    /// The same with other waits (tests, or an app on a metered link).
    #[must_use]
    pub fn with_waits(mut self, first_backoff: Duration, max_backoff: Duration, idle_wait: Duration) -> Self {
        self.first_backoff = first_backoff;
        self.max_backoff = max_backoff.max(first_backoff);
        self.idle_wait = idle_wait;
        self
    }

    /// What the service is doing now.
    pub fn state(&self) -> SyncState {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Marks the service running and clears an earlier stop; `false` if it runs
    /// already (then nothing changes). Call it before handing [`SyncService::run`] to
    /// another task, so that a stop given meanwhile is kept.
    pub fn start(&self) -> bool {
        if self.running.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.stopping.store(false, Ordering::SeqCst);
        true
    }

    /// Whether [`SyncService::run`] is running (or about to).
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::SeqCst)
    }

    /// Drives the machine now: a command queued work, or the app came to the
    /// foreground (an offline service tries at once).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops the service: [`SyncService::run`] closes its connection after the request
    /// in flight, if any, is answered, and returns.
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    fn set(&self, state: SyncState) {
        *self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = state.clone();
        (self.on_state)(&state);
    }

    /// Runs until [`SyncService::stop`]: the relay is found with `relay` at each attempt
    /// (its addresses and pin), and `after_step` is called after each drive of the
    /// machine, connected or not (where the CLI prints what happened).
    ///
    /// # Errors
    /// [`CoreError::Closed`] when the machine is gone (a profile locked or wiped);
    /// every other failure is retried.
    pub async fn run<C: MachineCell>(
        &self,
        cell: &mut C,
        mut relay: impl FnMut(&mut C) -> Result<(Vec<SocketAddr>, RelayPins)>,
        mut after_step: impl FnMut(&mut C),
    ) -> Result<()> {
        self.running.store(true, Ordering::SeqCst);
        let outcome = self.keep_connected(cell, &mut relay, &mut after_step).await;
        self.set(SyncState::Stopped);
        self.running.store(false, Ordering::SeqCst);
        outcome
    }

    async fn keep_connected<C: MachineCell>(
        &self,
        cell: &mut C,
        relay: &mut impl FnMut(&mut C) -> Result<(Vec<SocketAddr>, RelayPins)>,
        after_step: &mut impl FnMut(&mut C),
    ) -> Result<()> {
        let mut delay = self.first_backoff;
        while !self.stopping() {
            self.set(SyncState::Connecting);
            let opened = match relay(cell) {
                Ok((addresses, pin)) => Connection::open(cell, &addresses, pin).await,
                Err(error) => Err(error),
            };
            let failure = match opened {
                Ok(connection) => {
                    delay = self.first_backoff;
                    self.set(SyncState::Online(connection.kind()));
                    let outcome = self.stay_online(cell, &connection, after_step).await;
                    connection.close(cell);
                    after_step(cell);
                    match outcome {
                        Ok(()) => return Ok(()),
                        Err(error) => error,
                    }
                }
                Err(error) => error,
            };
            if matches!(failure, CoreError::Closed) {
                return Err(failure);
            }
            if self.stopping() {
                break;
            }
            let relay_key_not_pinned = matches!(failure, CoreError::Transport(TransportFailure::RelayKeyNotPinned));
            self.set(SyncState::Offline { error: failure.to_string(), relay_key_not_pinned, retry_in: delay });
            after_step(cell);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = self.wake.notified() => {}
            }
            delay = (delay * 2).min(self.max_backoff);
        }
        Ok(())
    }

    async fn stay_online<C: MachineCell>(
        &self,
        cell: &mut C,
        connection: &Connection,
        after_step: &mut impl FnMut(&mut C),
    ) -> Result<()> {
        connection.drive(cell).await?;
        after_step(cell);
        while !self.stopping() {
            connection.wait_or_wake_and_drive(cell, self.idle_wait, self.wake.notified()).await?;
            after_step(cell);
        }
        Ok(())
    }
}

/// Whether a relay refusal means the caller should simply retry later.
pub fn is_transient(error: &RelayError) -> bool {
    matches!(error, RelayError::RateLimited { .. } | RelayError::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_relay_key_is_reported_over_any_failure_after_it() {
        let refused = || CoreError::Transport(TransportFailure::RelayKeyNotPinned);
        let timeout = || CoreError::Transport(TransportFailure::Timeout);
        // TCP intercepted at once, QUIC's timeout later: the impostor is what is said.
        let reported = worse_failure(Some(refused()), timeout());
        assert!(matches!(reported, CoreError::Transport(TransportFailure::RelayKeyNotPinned)));
        let reported = worse_failure(Some(timeout()), refused());
        assert!(matches!(reported, CoreError::Transport(TransportFailure::RelayKeyNotPinned)));
        let reported = worse_failure(Some(timeout()), CoreError::Transport(TransportFailure::Closed));
        assert!(matches!(reported, CoreError::Transport(TransportFailure::Closed)), "otherwise the later one");
        assert!(matches!(worse_failure(None, timeout()), CoreError::Transport(TransportFailure::Timeout)));
    }
}
