//! Several relay processes on one PostgreSQL database: each tells the others what it
//! wrote, so that a device connected to one is pushed, promptly and in order, what a
//! device connected to another appended.
//!
//! The events are [`PeerEvent`]s, sent with PostgreSQL's `NOTIFY` on the channel
//! [`CHANNEL`] and received by every process that `LISTEN`s on it: a process's own
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

/// The notification channel the relay's processes share.
pub const CHANNEL: &str = "huisclos_events";

/// Events waiting to be sent to the other processes, at most; beyond, they are
/// dropped with a warning ([`Hub`]).
pub const QUEUED_EVENTS: usize = 8192;

/// Events sent in one round trip to the database, at most.
const BATCH: usize = 64;

const KEY_LABEL: &[u8] = b"huisclos/1 relay-fanout";
const AAD: &[u8] = b"huisclos/1 peer-event";
const NONCE_LEN: usize = 24;

/// The key that seals events between the relay's processes, derived from its key.
pub struct FanoutKey(Zeroizing<[u8; 32]>);

impl FanoutKey {
    /// Derives the key from the relay's private key (PKCS#8).
    pub fn from_relay_key(pkcs8: &[u8]) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        let hkdf = hkdf::Hkdf::<sha2::Sha256>::new(Some(KEY_LABEL), pkcs8);
        // 32 bytes is always a valid HKDF-SHA256 output length.
        let _ = hkdf.expand(b"peer events", key.as_mut());
        Self(key)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }

    /// The event, from `instance`, as a notification's text.
    pub fn seal(&self, instance: [u8; 16], event: &PeerEvent) -> String {
        let mut plain = Zeroizing::new(instance.to_vec());
        encode(event, &mut plain);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed =
            self.cipher().encrypt(XNonce::from_slice(&nonce), Payload { msg: &plain, aad: AAD }).unwrap_or_default();
        base64::engine::general_purpose::STANDARD_NO_PAD.encode([&nonce[..], &sealed].concat())
    }

    /// The sender's instance id and the event of a notification's text, or `None` for
    /// one that was not sealed under this key or does not decode.
    pub fn open(&self, text: &str) -> Option<([u8; 16], PeerEvent)> {
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(text).ok()?;
        let (nonce, sealed) = bytes.split_at_checked(NONCE_LEN)?;
        let plain =
            Zeroizing::new(self.cipher().decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: AAD }).ok()?);
        let instance: [u8; 16] = plain.get(..16)?.try_into().ok()?;
        Some((instance, decode(plain.get(16..)?)?))
    }
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

/// Sends `outbound` to the other processes and delivers theirs to `hub`, until the task
/// is aborted at shutdown. Reconnects after a failure, closing `hub`'s connections
/// first (they may have missed events).
pub async fn run(url: String, key: FanoutKey, hub: std::sync::Arc<Hub>, mut outbound: mpsc::Receiver<PeerEvent>) {
    let mut instance = [0u8; 16];
    OsRng.fill_bytes(&mut instance);
    let mut first = true;
    loop {
        if !first {
            hub.close_all();
        }
        first = false;
        match serve(&url, &key, instance, &hub, &mut outbound).await {
            Ok(()) => return,
            Err(error) => {
                tracing::error!(%error, "the feed of events between relay processes broke; connections closed, listening again");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Sends `events` to the relay processes listening on the database at `url`, from a
/// process that does not listen itself (`huisclos-relay admin`, run where no relay
/// runs), and returns once they are sent.
///
/// # Errors
/// The database's failure, in words.
pub async fn announce(url: &str, key: &FanoutKey, events: &[PeerEvent]) -> Result<(), crate::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let failed = |error: tokio_postgres::Error| crate::Error::Storage(format!("postgresql: {error}"));
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.map_err(failed)?;
    let driver = tokio::spawn(connection);
    let mut instance = [0u8; 16];
    OsRng.fill_bytes(&mut instance);
    for batch in events.chunks(BATCH) {
        client.batch_execute(&notify_statements(key, instance, batch)).await.map_err(failed)?;
    }
    drop(client);
    let _ = driver.await;
    Ok(())
}

/// `NOTIFY` statements for `events`. Base64 has no quote: the sealed text is safe
/// inside a literal.
fn notify_statements(key: &FanoutKey, instance: [u8; 16], events: &[PeerEvent]) -> String {
    events.iter().map(|event| format!("NOTIFY {CHANNEL}, '{}';", key.seal(instance, event))).collect()
}

async fn serve(
    url: &str,
    key: &FanoutKey,
    instance: [u8; 16],
    hub: &Hub,
    outbound: &mut mpsc::Receiver<PeerEvent>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    let (notes, mut received) = mpsc::channel::<String>(QUEUED_EVENTS);
    let reader = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(note))) => {
                    if notes.send(note.payload().to_owned()).await.is_err() {
                        return Ok(());
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            }
        }
    });
    let outcome = async {
        client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
        tracing::info!("listening for the other relay processes' events");
        loop {
            tokio::select! {
                event = outbound.recv() => {
                    let Some(event) = event else { return Ok(()) };
                    let mut batch = vec![event];
                    while batch.len() < BATCH && let Ok(more) = outbound.try_recv() {
                        batch.push(more);
                    }
                    client.batch_execute(&notify_statements(key, instance, &batch)).await?;
                }
                note = received.recv() => {
                    let Some(note) = note else { return Ok(()) };
                    match key.open(&note) {
                        Some((from, _)) if from == instance => {}
                        Some((from, PeerEvent::Signal { group, from: connection, payload })) => {
                            let connection = peer_connection(from, connection);
                            hub.deliver_from_peer(PeerEvent::Signal { group, from: connection, payload });
                        }
                        Some((_, event)) => hub.deliver_from_peer(event),
                        None => tracing::warn!("a notification on the relay's channel was not sealed under its key; ignored"),
                    }
                }
            }
        }
    }
    .await;
    reader.abort();
    match outcome {
        Ok(()) => Ok(()),
        Err(error) => Err(error),
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
            let text = key.seal([9; 16], &event);
            // PostgreSQL refuses a notification of 8,000 bytes or more.
            assert!(text.len() < 8000, "{} bytes", text.len());
            assert_eq!(key.open(&text), Some(([9; 16], event.clone())));
            assert_eq!(other.open(&text), None);
            let group_hex = hex::encode([2u8; 16]);
            assert!(!text.contains(&group_hex));
        }
        assert_eq!(key.open("not base64 at all!"), None);
    }
}
