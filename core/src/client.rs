//! The thin async layer: it moves the [`Engine`]'s requests over a relay connection
//! (QUIC first, TCP+TLS when QUIC cannot be reached) and feeds back answers, pushed
//! events and the time. It makes no decision of its own.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huisclos_protocol::auth::TlsExporter;
use huisclos_protocol::ids::RequestId;
use huisclos_protocol::messages::{Event, RelayError, RequestBody, ResponseBody};
use huisclos_transport::TransportError;
use huisclos_transport::client::{RelayClient, TransportKind};
use huisclos_transport::tls::SpkiPin;

use crate::engine::{Engine, Now};
use crate::error::{CoreError, Result};
use crate::linker::Linker;

/// A sans-IO state machine the connection drives: the [`Engine`], or a [`Linker`]
/// waiting for its grant.
pub trait Machine {
    /// The transport connected with this TLS exporter value.
    fn connected(&mut self, exporter: TlsExporter, now: Now);
    /// The transport disconnected.
    fn disconnected(&mut self);
    /// The next request to send.
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
}

macro_rules! machine {
    ($type:ty) => {
        impl Machine for $type {
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

machine!(Engine);
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
    pub async fn open(engine: &mut impl MachineCell, addresses: &[SocketAddr], pin: SpkiPin) -> Result<Self> {
        Self::open_with_head_start(engine, addresses, pin, QUIC_HEAD_START).await
    }

    /// As [`Connection::open`], with QUIC's head start over TCP+TLS given.
    ///
    /// # Errors
    /// As [`Connection::open`].
    pub async fn open_with_head_start(
        engine: &mut impl MachineCell,
        addresses: &[SocketAddr],
        pin: SpkiPin,
        head_start: Duration,
    ) -> Result<Self> {
        let quic = Self::first_reachable(TransportKind::Quic, addresses, pin);
        let tcp = async {
            tokio::time::sleep(head_start).await;
            Self::first_reachable(TransportKind::Tcp, addresses, pin).await
        };
        tokio::pin!(quic, tcp);
        let (mut quic_failed, mut tcp_failed) = (false, false);
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
            if quic_failed && tcp_failed {
                return Err(failure);
            }
        };
        engine.step(|machine| machine.connected(relay.exporter().clone(), now()))?;
        Ok(Self { relay })
    }

    async fn first_reachable(kind: TransportKind, addresses: &[SocketAddr], pin: SpkiPin) -> Result<RelayClient> {
        let mut last = CoreError::Transport("no relay address".into());
        for address in addresses {
            match RelayClient::connect(kind, *address, pin).await {
                Ok(relay) => return Ok(relay),
                Err(error) => {
                    tracing::info!(%address, ?kind, %error, "relay not reachable this way");
                    last = error.into();
                }
            }
        }
        Err(last)
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
        loop {
            while let Some(event) = self.relay.next_event(Duration::ZERO).await {
                engine.step(|machine| machine.handle_event(event, now()))?;
            }
            if self.relay.take_missed_events() {
                engine.step(Machine::events_missed)?;
            }
            let Some((id, body)) = engine.step(|machine| machine.poll_request(now()))? else { return Ok(()) };
            let answer = match self.relay.request(body).await {
                Ok(answer) => Ok(answer),
                Err(TransportError::Relay(error)) => Err(error),
                Err(error) => {
                    // A machine already gone needs no telling.
                    let _ = engine.step(|machine| machine.disconnected());
                    return Err(error.into());
                }
            };
            engine.step(|machine| machine.handle_response(id, answer, now()))?;
        }
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

/// Whether a relay refusal means the caller should simply retry later.
pub fn is_transient(error: &RelayError) -> bool {
    matches!(error, RelayError::RateLimited { .. } | RelayError::Internal)
}
