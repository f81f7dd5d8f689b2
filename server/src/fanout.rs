//! Several relay processes on one PostgreSQL database: each tells the others what it
//! wrote, so that a device connected to one is pushed, promptly and in order, what a
//! device connected to another appended.
//!
//! The events are [`PeerEvent`]s, sent with PostgreSQL's `NOTIFY` on the relay's
//! channel ([`channel`]) and received by every process that `LISTEN`s on it: a process's own
//! are recognised by its instance id and skipped. PostgreSQL delivers notifications in
//! the order their transactions commit, and each is sent after the write it announces
//! committed, so a receiver never announces an entry its readers cannot read yet.
//!
//! A notification may wait in the database's queue, on its disk, until every listener
//! read it, so each is sealed: XChaCha20-Poly1305 under a key derived from the relay's
//! own key (which every process of one relay holds, since clients pin it), over the
//! sender's instance id and the event. The queue's files therefore name no group and
//! no device, and whoever can write to the database but does not hold the relay's key
//! cannot make a process close a device's connections or announce entries.
//!
//! When a process's connection for events breaks, it may have missed some: it closes
//! its devices' connections, which reconnect (to any process) and catch up by reading,
//! and it listens again.

use std::time::Duration;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use huisclos_protocol::ids::{ContentId, ContentSeq, DeviceId, Epoch, GroupId, Seq};
use huisclos_protocol::messages::{EntryKind, PushedRecordBytes, SignalBytes};
use rand_core::{OsRng, RngCore};
use tokio::sync::mpsc;
use zeroize::Zeroizing;

use crate::hub::{Hub, PeerEvent};

/// The notification channel the processes of one relay share: named after its store,
/// so that relays on other schemas of the same database do not hear each other.
pub fn channel(store_id: &[u8; 16]) -> String {
    format!("huisclos_events_{}", hex::encode(&store_id[..8]))
}

/// Events waiting to be sent to the other processes, at most; beyond, they are
/// dropped with a warning ([`Hub`]).
pub const QUEUED_EVENTS: usize = 8192;

/// Events sent in one round trip to the database, at most.
const BATCH: usize = 64;

const KEY_LABEL: &[u8] = b"huisclos/1 relay-fanout";
const AAD: &[u8] = b"huisclos/1 peer-event";
const NONCE_LEN: usize = 24;

/// The key that seals events between the relay's processes, derived from its key.
///
/// While the relay's key is being rotated, events are sealed under the key derived from
/// the current one until the switch and under the next one's after it, and opened
/// under either: processes started before the switch and after it (which hold only
/// the new key) hear each other across it.
pub struct FanoutKey {
    current: Zeroizing<[u8; 32]>,
    next: Option<(Zeroizing<[u8; 32]>, std::time::SystemTime)>,
}

impl FanoutKey {
    /// Derives the key from the relay's private key (PKCS#8).
    pub fn from_relay_key(pkcs8: &[u8]) -> Self {
        Self { current: derive(pkcs8), next: None }
    }

    /// The keys of `identity`: its key's, and its next key's during a rotation.
    pub fn for_identity(identity: &crate::identity::RelayIdentity) -> Self {
        Self {
            current: derive(identity.key.secret_der()),
            next: identity.next.as_ref().map(|next| (derive(next.key.secret_der()), next.switch_at())),
        }
    }

    fn sealing(&self) -> XChaCha20Poly1305 {
        match &self.next {
            Some((next, from)) if std::time::SystemTime::now() >= *from => XChaCha20Poly1305::new(next.as_ref().into()),
            _ => XChaCha20Poly1305::new(self.current.as_ref().into()),
        }
    }

    fn opening(&self) -> impl Iterator<Item = XChaCha20Poly1305> + '_ {
        std::iter::once(&self.current)
            .chain(self.next.as_ref().map(|(next, _)| next))
            .map(|key| XChaCha20Poly1305::new(key.as_ref().into()))
    }

    /// The event, from `instance`, numbered `counter` and stamped `time` (Unix
    /// seconds), as a notification's text. Base64 has no quote: the text is safe inside
    /// an SQL literal.
    pub fn seal(&self, instance: [u8; 16], counter: u64, time: u64, event: &PeerEvent) -> String {
        let mut plain = Zeroizing::new(instance.to_vec());
        plain.extend_from_slice(&counter.to_be_bytes());
        plain.extend_from_slice(&time.to_be_bytes());
        encode(event, &mut plain);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed =
            self.sealing().encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad: AAD }).unwrap_or_default();
        base64::engine::general_purpose::STANDARD_NO_PAD.encode([&nonce[..], &sealed].concat())
    }

    /// A notification's text opened, or `None` for one that was not sealed under this
    /// key or does not decode.
    pub fn open(&self, text: &str) -> Option<Sealed> {
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(text).ok()?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE_LEN)?;
        let plain =
            Zeroizing::new(self.opening().find_map(|cipher| {
                cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: AAD }).ok()
            })?);
        let instance: [u8; 16] = plain.get(..16)?.try_into().ok()?;
        let counter = u64::from_be_bytes(plain.get(16..24)?.try_into().ok()?);
        let time = u64::from_be_bytes(plain.get(24..32)?.try_into().ok()?);
        Some(Sealed { instance, counter, time, event: decode(plain.get(32..)?)? })
    }
}

fn derive(pkcs8: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(KEY_LABEL), pkcs8);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hkdf.expand(b"peer events", key.as_mut());
    key
}

/// An event as another process sealed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The sending process's instance id (random, drawn at its start).
    pub instance: [u8; 16],
    /// Its number among the sender's events, from 1.
    pub counter: u64,
    /// When it was sent (Unix seconds).
    pub time: u64,
    /// The event.
    pub event: PeerEvent,
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

fn encode(event: &PeerEvent, out: &mut Vec<u8>) {
    match event {
        PeerEvent::LogAdvanced { group, epoch, latest, kind } => {
            out.push(1);
            out.extend_from_slice(group.as_bytes());
            out.extend_from_slice(&epoch.get().to_be_bytes());
            out.extend_from_slice(&latest.get().to_be_bytes());
            out.push(u8::from(*kind == EntryKind::Commit));
        }
        PeerEvent::ContentStored { group, seq, record, pushed } => {
            out.push(2);
            out.extend_from_slice(group.as_bytes());
            out.extend_from_slice(&seq.get().to_be_bytes());
            out.extend_from_slice(record.as_bytes());
            if let Some(pushed) = pushed {
                put_bytes(out, pushed.as_bytes());
            }
        }
        PeerEvent::Signal { group, from, payload } => {
            out.push(3);
            out.extend_from_slice(group.as_bytes());
            out.extend_from_slice(&from.to_be_bytes());
            put_bytes(out, payload.as_bytes());
        }
        PeerEvent::WelcomeAvailable { device } => {
            out.push(4);
            out.extend_from_slice(device.as_bytes());
        }
        PeerEvent::CloseDevice { device } => {
            out.push(5);
            out.extend_from_slice(device.as_bytes());
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_at_checked(N)?;
        self.0 = rest;
        head.try_into().ok()
    }
    fn u64(&mut self) -> Option<u64> {
        self.take::<8>().map(u64::from_be_bytes)
    }
    fn bytes(&mut self) -> Option<Vec<u8>> {
        let len = usize::from(u16::from_be_bytes(self.take::<2>()?));
        let (head, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(head.to_vec())
    }
}

fn decode(bytes: &[u8]) -> Option<PeerEvent> {
    let mut r = Reader(bytes);
    let event = match r.take::<1>()?[0] {
        1 => PeerEvent::LogAdvanced {
            group: GroupId::from_bytes(r.take()?),
            epoch: Epoch::new(r.u64()?).ok()?,
            latest: Seq::new(r.u64()?).ok()?,
            kind: if r.take::<1>()?[0] == 1 { EntryKind::Commit } else { EntryKind::Message },
        },
        2 => PeerEvent::ContentStored {
            group: GroupId::from_bytes(r.take()?),
            seq: ContentSeq::new(r.u64()?).ok()?,
            record: ContentId::from_bytes(r.take()?),
            pushed: if r.0.is_empty() { None } else { Some(PushedRecordBytes::new(r.bytes()?).ok()?) },
        },
        3 => PeerEvent::Signal {
            group: GroupId::from_bytes(r.take()?),
            from: r.u64()?,
            payload: SignalBytes::new(r.bytes()?).ok()?,
        },
        4 => PeerEvent::WelcomeAvailable { device: DeviceId::from_bytes(r.take()?) },
        5 => PeerEvent::CloseDevice { device: DeviceId::from_bytes(r.take()?) },
        _ => return None,
    };
    r.0.is_empty().then_some(event)
}

/// This process's numbering of another's connections: mixed with the other's instance
/// id, so that two processes' connection 5 stay two senders.
fn peer_connection(instance: [u8; 16], from: u64) -> u64 {
    let mixed = u64::from_be_bytes(instance[..8].try_into().unwrap_or_default());
    (from ^ mixed) & !(1 << 63)
}

/// How far an event's time may be from this process's clock: older ones are replays
/// (or a process whose clock is wrong) and are dropped.
const EVENT_WINDOW_SECS: u64 = 300;

/// Why the feed from the other processes broke.
#[derive(Debug, thiserror::Error)]
enum Broken {
    #[error("the database: {0}")]
    Database(#[from] tokio_postgres::Error),
    #[error("the listening connection closed")]
    Closed,
    #[error("more than {QUEUED_EVENTS} events waited to be delivered")]
    Overflow,
}

/// The connection that listens for the other processes' events, and what it heard.
struct Listener {
    _client: tokio_postgres::Client,
    notes: mpsc::Receiver<Result<String, Broken>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Connects, listens on `channel` ([`channel`]), and returns once PostgreSQL confirmed it: from then
/// on no event committed by another process is missed while the connection lasts.
async fn listen(url: &str, channel: &str) -> Result<Listener, Broken> {
    let mut config: tokio_postgres::Config = url.parse()?;
    // Named, so that an operator (or a test) can tell this process's listener apart.
    config.application_name(format!("huisclos-relay events {}", std::process::id()));
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (heard, notes) = mpsc::channel(QUEUED_EVENTS);
    let reader = tokio::spawn(async move {
        loop {
            let item = match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(note))) => Ok(note.payload().to_owned()),
                Some(Ok(_)) => continue,
                Some(Err(error)) => Err(Broken::Database(error)),
                None => Err(Broken::Closed),
            };
            let ended = item.is_err();
            // Never wait here: this task also carries the connection's answers.
            match heard.try_send(item) {
                Ok(()) if !ended => {}
                Ok(()) => return,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    // Delivered once the queue drains: the feed is then broken.
                    let _ = heard.send(Err(Broken::Overflow)).await;
                    return;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {channel}")).await?;
    Ok(Listener { _client: client, notes, reader })
}

/// The connection this process sends its events on (not the listening one, whose
/// reader must never wait for this one's answers).
struct Sender {
    url: String,
    client: Option<tokio_postgres::Client>,
}

impl Sender {
    async fn send(&mut self, statements: &str) -> Result<(), tokio_postgres::Error> {
        for attempt in 0..2 {
            if self.client.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
                let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                self.client = Some(client);
            }
            let Some(client) = &self.client else { continue };
            match client.batch_execute(statements).await {
                Ok(()) => return Ok(()),
                Err(error) if attempt == 1 => return Err(error),
                Err(_) => self.client = None,
            }
        }
        Ok(())
    }
}

/// What the other processes sent last: each one's instance id, with its last counter
/// and when it was heard, so that a replayed event is dropped.
#[derive(Default)]
struct Heard {
    last: std::collections::HashMap<[u8; 16], (u64, u64)>,
}

impl Heard {
    /// Whether an event numbered `counter`, stamped `time`, from `instance`, is new.
    fn fresh(&mut self, instance: [u8; 16], counter: u64, time: u64, now: u64) -> bool {
        if time.abs_diff(now) > EVENT_WINDOW_SECS {
            return false;
        }
        // Instances not heard within the window cannot send a fresh event any more
        // without a newer counter: forget them.
        self.last.retain(|_, (_, heard)| now.saturating_sub(*heard) <= 2 * EVENT_WINDOW_SECS);
        match self.last.get_mut(&instance) {
            Some((last, heard)) if counter > *last => {
                (*last, *heard) = (counter, now);
                true
            }
            Some(_) => false,
            None => {
                self.last.insert(instance, (counter, now));
                true
            }
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Starts listening to the other processes (returning once the first `LISTEN` is
/// confirmed, so that the relay accepts no device before it hears them), then sends
/// `outbound` to them and delivers theirs to `hub` until the task is aborted at
/// shutdown. After a break it listens again, and only then closes `hub`'s connections:
/// their devices reconnect and catch up by reading.
///
/// # Errors
/// The database's failure when the first `LISTEN` cannot be made.
pub async fn start(
    url: String,
    channel: String,
    key: FanoutKey,
    hub: std::sync::Arc<Hub>,
    mut outbound: mpsc::Receiver<PeerEvent>,
) -> Result<tokio::task::JoinHandle<()>, crate::Error> {
    let mut listener = listen(&url, &channel)
        .await
        .map_err(|error| crate::Error::Storage(format!("listening for the other processes: {error}")))?;
    tracing::info!("listening for the other relay processes' events");
    Ok(tokio::spawn(async move {
        let mut instance = [0u8; 16];
        OsRng.fill_bytes(&mut instance);
        let mut sender = Sender { url: url.clone(), client: None };
        let mut outgoing = Outgoing { instance, counter: 0, channel: channel.clone() };
        let mut heard = Heard::default();
        loop {
            let broken = serve(&key, &mut outgoing, &mut sender, &mut heard, &mut listener, &hub, &mut outbound).await;
            let Err(why) = broken else { return };
            tracing::error!(%why, "the feed of events from the other relay processes broke; listening again");
            listener = loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                match listen(&url, &channel).await {
                    Ok(listener) => break listener,
                    Err(error) => {
                        tracing::error!(%error, "listening for the other relay processes failed; trying again")
                    }
                }
            };
            // Listening again: what devices read from now on is announced to them.
            hub.close_all();
            tracing::info!("listening again; this process's connections were closed so that devices catch up");
        }
    }))
}

/// This process's events as sent: its instance id and a counter.
struct Outgoing {
    instance: [u8; 16],
    counter: u64,
    channel: String,
}

impl Outgoing {
    fn statements(&mut self, key: &FanoutKey, events: &[PeerEvent]) -> String {
        let time = now_secs();
        events
            .iter()
            .map(|event| {
                self.counter += 1;
                format!("NOTIFY {}, '{}';", self.channel, key.seal(self.instance, self.counter, time, event))
            })
            .collect()
    }
}

/// Sends `events` to the relay processes listening on the database at `url`, from a
/// process that does not listen itself (`huisclos-relay admin`, run where no relay
/// runs), and returns once they are sent.
///
/// # Errors
/// The database's failure, in words.
pub async fn announce(url: &str, channel: &str, key: &FanoutKey, events: &[PeerEvent]) -> Result<(), crate::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let mut instance = [0u8; 16];
    OsRng.fill_bytes(&mut instance);
    let mut outgoing = Outgoing { instance, counter: 0, channel: channel.to_owned() };
    let mut sender = Sender { url: url.to_owned(), client: None };
    for batch in events.chunks(BATCH) {
        sender
            .send(&outgoing.statements(key, batch))
            .await
            .map_err(|error| crate::Error::Storage(format!("postgresql: {error}")))?;
    }
    Ok(())
}

async fn serve(
    key: &FanoutKey,
    outgoing: &mut Outgoing,
    sender: &mut Sender,
    heard: &mut Heard,
    listener: &mut Listener,
    hub: &Hub,
    outbound: &mut mpsc::Receiver<PeerEvent>,
) -> Result<(), Broken> {
    loop {
        tokio::select! {
            event = outbound.recv() => {
                let Some(event) = event else { return Ok(()) };
                let mut batch = vec![event];
                while batch.len() < BATCH && let Ok(more) = outbound.try_recv() {
                    batch.push(more);
                }
                if let Err(error) = sender.send(&outgoing.statements(key, &batch)).await {
                    // The other processes' devices learn of these writes at their next
                    // read; a disconnection is made by their periodic check instead.
                    tracing::error!(%error, lost = batch.len(), "events for the other relay processes could not be sent");
                }
            }
            note = listener.notes.recv() => {
                let note = note.unwrap_or(Err(Broken::Closed))?;
                match key.open(&note) {
                    Some(sealed) if sealed.instance == outgoing.instance => {}
                    Some(sealed) if !heard.fresh(sealed.instance, sealed.counter, sealed.time, now_secs()) => {
                        tracing::warn!("a stale or repeated event on the relay's channel; ignored");
                    }
                    Some(Sealed { instance, event: PeerEvent::Signal { group, from, payload }, .. }) => {
                        let from = peer_connection(instance, from);
                        hub.deliver_from_peer(PeerEvent::Signal { group, from, payload });
                    }
                    Some(sealed) => hub.deliver_from_peer(sealed.event),
                    None => tracing::warn!("a notification on the relay's channel was not sealed under its key; ignored"),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn events_open_only_under_the_relay_key_and_round_trip() {
        let key = FanoutKey::from_relay_key(b"the relay key");
        let other = FanoutKey::from_relay_key(b"another relay");
        let events = [
            PeerEvent::LogAdvanced {
                group: GroupId::from_bytes([1; 16]),
                epoch: Epoch::new(3).unwrap(),
                latest: Seq::new(9).unwrap(),
                kind: EntryKind::Commit,
            },
            PeerEvent::ContentStored {
                group: GroupId::from_bytes([2; 16]),
                seq: ContentSeq::new(4).unwrap(),
                record: ContentId::from_bytes([3; 16]),
                pushed: Some(
                    PushedRecordBytes::new(vec![7; huisclos_protocol::limits::MAX_PUSHED_RECORD_LEN]).unwrap(),
                ),
            },
            PeerEvent::ContentStored {
                group: GroupId::from_bytes([2; 16]),
                seq: ContentSeq::new(5).unwrap(),
                record: ContentId::from_bytes([4; 16]),
                pushed: None,
            },
            PeerEvent::Signal {
                group: GroupId::from_bytes([5; 16]),
                from: 42,
                payload: SignalBytes::new(vec![1; 1024]).unwrap(),
            },
            PeerEvent::WelcomeAvailable { device: DeviceId::from_bytes([6; 16]) },
            PeerEvent::CloseDevice { device: DeviceId::from_bytes([8; 16]) },
        ];
        for event in events {
            let text = key.seal([9; 16], 7, 1_000, &event);
            // PostgreSQL refuses a notification of 8,000 bytes or more.
            assert!(text.len() < 8000, "{} bytes", text.len());
            let sealed = Sealed { instance: [9; 16], counter: 7, time: 1_000, event: event.clone() };
            assert_eq!(key.open(&text), Some(sealed));
            assert_eq!(other.open(&text), None);
            let group_hex = hex::encode([2u8; 16]);
            assert!(!text.contains(&group_hex));
        }
        assert_eq!(key.open("not base64 at all!"), None);
    }

    #[test]
    fn a_replayed_or_stale_event_is_not_fresh() {
        let mut heard = Heard::default();
        let (one, two) = ([1; 16], [2; 16]);
        assert!(heard.fresh(one, 1, 1_000, 1_000));
        assert!(heard.fresh(one, 2, 1_000, 1_001));
        assert!(!heard.fresh(one, 2, 1_000, 1_002), "a repeat");
        assert!(!heard.fresh(one, 1, 1_000, 1_002), "an older one");
        assert!(heard.fresh(two, 1, 1_000, 1_002), "another process counts on its own");
        assert!(!heard.fresh(two, 9, 1_000 - EVENT_WINDOW_SECS - 1, 1_002), "too old");
        assert!(!heard.fresh(two, 9, 1_002 + EVENT_WINDOW_SECS + 1, 1_002), "from the future");
    }
}
