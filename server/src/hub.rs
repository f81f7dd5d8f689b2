//! Who gets pushed events: the subscriptions of each stream and the connections of each
//! device. It lives in memory only and is never written to storage, so a copy of the
//! database holds no trace of who listened to which group.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, Weak};

use huisclos_protocol::ids::{ContentId, ContentSeq, DeviceId, Epoch, GroupId, Seq};
use huisclos_protocol::limits::MAX_PUSHED_RECORD_LEN;
use huisclos_protocol::messages::{
    ContentAdvanced, ContentPushed, ContentRecordBytes, EntryKind, Event, GroupSignal, LogAdvanced, PushedRecordBytes,
    SignalBytes, WelcomeAvailable,
};
use tokio::sync::{Notify, watch};

/// Signals waiting to be written on one stream, at most.
pub const MAX_QUEUED_SIGNALS: usize = 64;

/// Bytes of pushed content records waiting to be written on one stream, at most, each
/// counted as its sealed bytes plus [`PUSH_ENTRY_COST`]: a further record is announced
/// instead (the reader then fetches it).
pub const MAX_QUEUED_PUSH_BYTES: usize = 32 * 1024;

/// What one waiting push is counted at beyond its sealed bytes (its id, position, and
/// the map's own cost), so that tiny records cannot queue without bound.
pub const PUSH_ENTRY_COST: usize = 128;

/// Events waiting to be written on one stream, coalesced: only the newest position of
/// each group is kept, so the queue never holds more than one announcement per group.
/// Small records are pushed whole, up to [`MAX_QUEUED_PUSH_BYTES`] waiting, and
/// announced beyond. Signals are kept newest per sending connection and group, at most
/// [`MAX_QUEUED_SIGNALS`]: beyond that they are dropped (they are short-lived, and the
/// next one replaces them). So one stream holds at most about 100 KiB of pushes and
/// signals (32 KiB and 64 × 1 KiB), whatever its reader does.
#[derive(Debug, Default)]
pub struct EventSink {
    queue: Mutex<EventQueue>,
    ready: Notify,
}

#[derive(Debug, Default)]
struct EventQueue {
    log: BTreeMap<GroupId, LogAdvanced>,
    content: BTreeMap<GroupId, ContentAdvanced>,
    /// Records carried whole, by group and position (sent in that order).
    pushed: BTreeMap<(GroupId, ContentSeq), (ContentId, PushedRecordBytes)>,
    pushed_bytes: usize,
    welcome: bool,
    /// By (group, sending connection).
    signals: BTreeMap<(GroupId, u64), SignalBytes>,
}

impl EventQueue {
    /// Queues an announcement of a group's content, keeping only the newest position.
    fn announce(&mut self, event: ContentAdvanced) {
        let newer = self.content.get(&event.group).is_none_or(|queued| event.latest > queued.latest);
        if newer {
            self.content.insert(event.group, event);
        }
    }
}

impl EventSink {
    fn push_log(&self, event: LogAdvanced) {
        if let Ok(mut queue) = self.queue.lock() {
            // Keep the newest position even if notifications race each other.
            let newer = queue
                .log
                .get(&event.group)
                .is_none_or(|queued| (event.epoch, event.latest) > (queued.epoch, queued.latest));
            if newer {
                queue.log.insert(event.group, event);
            }
        }
        self.ready.notify_one();
    }

    fn push_content(&self, event: ContentAdvanced) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.announce(event);
        }
        self.ready.notify_one();
    }

    /// Queues a small record to be pushed whole, or, if the stream already holds as many
    /// pushed bytes as it may, an announcement of it.
    fn push_record(&self, group: GroupId, seq: ContentSeq, record: ContentId, sealed: &PushedRecordBytes) {
        if let Ok(mut queue) = self.queue.lock() {
            let cost = sealed.len() + PUSH_ENTRY_COST;
            if queue.pushed_bytes + cost <= MAX_QUEUED_PUSH_BYTES {
                queue.pushed_bytes += cost;
                queue.pushed.insert((group, seq), (record, sealed.clone()));
            } else {
                queue.announce(ContentAdvanced { group, latest: seq });
            }
        }
        self.ready.notify_one();
    }

    /// Queues a signal; `false` when it was dropped (the queue is full).
    fn push_signal(&self, group: GroupId, from: u64, payload: &SignalBytes) -> bool {
        let queued = self.queue.lock().is_ok_and(|mut queue| {
            let key = (group, from);
            if queue.signals.len() >= MAX_QUEUED_SIGNALS && !queue.signals.contains_key(&key) {
                return false;
            }
            queue.signals.insert(key, payload.clone());
            true
        });
        if queued {
            self.ready.notify_one();
        }
        queued
    }

    fn push_welcome(&self) {
        if let Ok(mut queue) = self.queue.lock() {
            queue.welcome = true;
        }
        self.ready.notify_one();
    }

    /// Waits until an event is queued.
    pub async fn ready(&self) {
        self.ready.notified().await;
    }

    /// Takes every queued event.
    pub fn drain(&self) -> Vec<Event> {
        let Ok(mut queue) = self.queue.lock() else { return Vec::new() };
        let mut events: Vec<Event> = std::mem::take(&mut queue.log).into_values().map(Event::from).collect();
        queue.pushed_bytes = 0;
        events.extend(
            std::mem::take(&mut queue.pushed)
                .into_iter()
                .map(|((group, seq), (record, sealed))| Event::from(ContentPushed { group, seq, record, sealed })),
        );
        events.extend(std::mem::take(&mut queue.content).into_values().map(Event::from));
        if std::mem::take(&mut queue.welcome) {
            events.push(WelcomeAvailable {}.into());
        }
        events.extend(
            std::mem::take(&mut queue.signals)
                .into_iter()
                .map(|((group, _), payload)| Event::from(GroupSignal { group, payload })),
        );
        events
    }
}

/// Identifies one stream of one connection.
pub type StreamKey = (u64, u64);

#[derive(Debug)]
struct Subscription {
    epoch: Epoch,
    sink: Weak<EventSink>,
}

#[derive(Debug)]
struct DeviceConnection {
    sink: Weak<EventSink>,
    close: watch::Sender<bool>,
}

/// The registry of subscriptions and authenticated connections.
#[derive(Debug, Default)]
pub struct Hub {
    subscriptions: Mutex<Subscriptions>,
    devices: Mutex<HashMap<DeviceId, HashMap<u64, DeviceConnection>>>,
    /// Where events go for the other relay processes on the same database
    /// ([`crate::fanout`]); unset for a relay alone on its store.
    peers: std::sync::OnceLock<tokio::sync::mpsc::Sender<PeerEvent>>,
}

/// What one relay process tells the others on the same database, so that a device
/// connected to one is told of what was written through another ([`crate::fanout`]).
/// Each names a group or a device, never both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A log entry was appended.
    LogAdvanced {
        /// The group.
        group: GroupId,
        /// The entry's epoch.
        epoch: Epoch,
        /// Its sequence number.
        latest: Seq,
        /// Message or commit (a commit ends the epoch's subscriptions).
        kind: EntryKind,
    },
    /// A content record was stored.
    ContentStored {
        /// The group.
        group: GroupId,
        /// Its position.
        seq: ContentSeq,
        /// Its id.
        record: ContentId,
        /// The record, when it is small enough to be pushed whole.
        pushed: Option<PushedRecordBytes>,
    },
    /// A signal was sent to a group's subscribers.
    Signal {
        /// The group.
        group: GroupId,
        /// The sending connection, in its process's numbering.
        from: u64,
        /// The signal.
        payload: SignalBytes,
    },
    /// A Welcome arrived for a device.
    WelcomeAvailable {
        /// The recipient.
        device: DeviceId,
    },
    /// A device was revoked or its account disabled: its connections close.
    CloseDevice {
        /// The device.
        device: DeviceId,
    },
}

/// Connection numbers given to other processes' senders of signals, so that they
/// never meet this process's own (which count up from 1).
const PEER_CONNECTIONS: u64 = 1 << 63;

#[derive(Debug, Default)]
struct Subscriptions {
    groups: HashMap<GroupId, HashMap<StreamKey, Subscription>>,
    /// Subscriptions per connection, for the per-connection limit.
    per_connection: HashMap<u64, usize>,
}

impl Subscriptions {
    fn removed(&mut self, stream: StreamKey) {
        if let Some(count) = self.per_connection.get_mut(&stream.0) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.per_connection.remove(&stream.0);
            }
        }
    }
}

impl Hub {
    /// Subscribes a stream to a group at the epoch its token proved.
    pub fn subscribe(&self, group: GroupId, epoch: Epoch, stream: StreamKey, sink: &Arc<EventSink>) {
        if let Ok(mut subscriptions) = self.subscriptions.lock() {
            let previous = subscriptions
                .groups
                .entry(group)
                .or_default()
                .insert(stream, Subscription { epoch, sink: Arc::downgrade(sink) });
            if previous.is_none() {
                *subscriptions.per_connection.entry(stream.0).or_default() += 1;
            }
        }
    }

    /// Whether a stream is subscribed to a group.
    pub fn is_subscribed(&self, group: GroupId, stream: StreamKey) -> bool {
        self.subscriptions.lock().is_ok_and(|s| s.groups.get(&group).is_some_and(|g| g.contains_key(&stream)))
    }

    /// How many subscriptions a connection holds, over all its streams.
    pub fn connection_subscriptions(&self, connection: u64) -> usize {
        self.subscriptions.lock().map_or(0, |s| s.per_connection.get(&connection).copied().unwrap_or(0))
    }

    /// Ends a stream's subscription to a group.
    pub fn unsubscribe(&self, group: GroupId, stream: StreamKey) {
        if let Ok(mut subscriptions) = self.subscriptions.lock() {
            let Some(subscribers) = subscriptions.groups.get_mut(&group) else { return };
            let removed = subscribers.remove(&stream).is_some();
            if subscribers.is_empty() {
                subscriptions.groups.remove(&group);
            }
            if removed {
                subscriptions.removed(stream);
            }
        }
    }

    /// Ends every subscription of a stream that has closed.
    pub fn forget_stream(&self, stream: StreamKey) {
        if let Ok(mut subscriptions) = self.subscriptions.lock() {
            let mut removed = 0;
            subscriptions.groups.retain(|_, subscribers| {
                removed += usize::from(subscribers.remove(&stream).is_some());
                !subscribers.is_empty()
            });
            for _ in 0..removed {
                subscriptions.removed(stream);
            }
        }
    }

    /// Ends every subscription and device registration of a connection. Callers make
    /// sure none of the connection's streams can register anything afterwards.
    pub fn forget_connection(&self, connection: u64) {
        if let Ok(mut subscriptions) = self.subscriptions.lock()
            && subscriptions.per_connection.remove(&connection).is_some()
        {
            subscriptions.groups.retain(|_, subscribers| {
                subscribers.retain(|(c, _), _| *c != connection);
                !subscribers.is_empty()
            });
        }
        if let Ok(mut devices) = self.devices.lock() {
            devices.retain(|_, connections| {
                connections.remove(&connection);
                !connections.is_empty()
            });
        }
    }

    /// Announces a new log entry of `epoch`. A commit ends the subscriptions of the
    /// epoch it closes, after they are told of it.
    pub fn log_advanced(&self, group: GroupId, epoch: Epoch, latest: Seq, kind: EntryKind) {
        self.deliver_log(group, epoch, latest, kind);
        self.tell_peers(PeerEvent::LogAdvanced { group, epoch, latest, kind });
    }

    fn deliver_log(&self, group: GroupId, epoch: Epoch, latest: Seq, kind: EntryKind) {
        let Ok(mut subscriptions) = self.subscriptions.lock() else { return };
        let Some(subscribers) = subscriptions.groups.get_mut(&group) else { return };
        let mut ended = Vec::new();
        subscribers.retain(|stream, subscription| {
            // A later epoch's subscription is kept (this notification is late); an
            // earlier one has been closed by a commit and ends.
            let keep = match subscription.epoch.cmp(&epoch) {
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Less => false,
                std::cmp::Ordering::Equal => match subscription.sink.upgrade() {
                    Some(sink) => {
                        sink.push_log(LogAdvanced { group, epoch, latest });
                        kind != EntryKind::Commit
                    }
                    None => false,
                },
            };
            if !keep {
                ended.push(*stream);
            }
            keep
        });
        if subscribers.is_empty() {
            subscriptions.groups.remove(&group);
        }
        for stream in ended {
            subscriptions.removed(stream);
        }
    }

    /// Tells every stream subscribed to `group` of a new content record, but the
    /// storing connection's (`origin`): pushed whole if it is small, announced
    /// otherwise. The storing device has the record, and its acknowledgement gave the
    /// position: on a slow link, the push back would cost as much as the upload.
    pub fn content_stored(
        &self,
        group: GroupId,
        seq: ContentSeq,
        record: ContentId,
        sealed: &ContentRecordBytes,
        origin: u64,
    ) {
        let pushed = (sealed.len() <= MAX_PUSHED_RECORD_LEN)
            .then(|| PushedRecordBytes::new(sealed.as_bytes().to_vec()).ok())
            .flatten();
        self.deliver_content(group, seq, record, pushed.as_ref(), Some(origin));
        self.tell_peers(PeerEvent::ContentStored { group, seq, record, pushed });
    }

    /// Tells `group`'s subscribers of a stored record, except the connection `origin`
    /// that stored it: it has the record, and its acknowledgement gave the position.
    fn deliver_content(
        &self,
        group: GroupId,
        seq: ContentSeq,
        record: ContentId,
        pushed: Option<&PushedRecordBytes>,
        origin: Option<u64>,
    ) {
        let Ok(subscriptions) = self.subscriptions.lock() else { return };
        for ((subscriber, _), subscription) in subscriptions.groups.get(&group).into_iter().flat_map(|s| s.iter()) {
            if Some(*subscriber) == origin {
                continue;
            }
            let Some(sink) = subscription.sink.upgrade() else { continue };
            match pushed {
                Some(sealed) => sink.push_record(group, seq, record, sealed),
                None => sink.push_content(ContentAdvanced { group, latest: seq }),
            }
        }
    }

    /// Hands a signal from `connection` to every other connection's streams subscribed
    /// to `group`. Returns how many streams queued it (for tests; the sender is not
    /// told).
    pub fn signal(&self, group: GroupId, connection: u64, payload: &SignalBytes) -> usize {
        self.tell_peers(PeerEvent::Signal { group, from: connection, payload: payload.clone() });
        self.deliver_signal(group, connection, payload)
    }

    fn deliver_signal(&self, group: GroupId, connection: u64, payload: &SignalBytes) -> usize {
        let Ok(subscriptions) = self.subscriptions.lock() else { return 0 };
        let mut queued = 0;
        for ((subscriber, _), subscription) in subscriptions.groups.get(&group).into_iter().flat_map(|s| s.iter()) {
            if *subscriber == connection {
                continue;
            }
            if let Some(sink) = subscription.sink.upgrade()
                && sink.push_signal(group, connection, payload)
            {
                queued += 1;
            }
        }
        queued
    }

    /// Remembers that `connection` is authenticated as `device`, for Welcome
    /// notifications (on `sink`) and for closing it if the device is revoked.
    pub fn device_connected(
        &self,
        device: DeviceId,
        connection: u64,
        sink: &Arc<EventSink>,
        close: watch::Sender<bool>,
    ) {
        if let Ok(mut devices) = self.devices.lock() {
            devices
                .entry(device)
                .or_default()
                .insert(connection, DeviceConnection { sink: Arc::downgrade(sink), close });
        }
    }

    /// Forgets that `connection` is authenticated as `device` (a refused authentication).
    pub fn device_disconnected(&self, device: DeviceId, connection: u64) {
        if let Ok(mut devices) = self.devices.lock()
            && let Some(connections) = devices.get_mut(&device)
        {
            connections.remove(&connection);
            if connections.is_empty() {
                devices.remove(&device);
            }
        }
    }

    /// Tells a device's connections that a Welcome arrived.
    pub fn welcome_available(&self, device: DeviceId) {
        self.deliver_welcome(device);
        self.tell_peers(PeerEvent::WelcomeAvailable { device });
    }

    fn deliver_welcome(&self, device: DeviceId) {
        let Ok(devices) = self.devices.lock() else { return };
        for connection in devices.get(&device).into_iter().flat_map(|c| c.values()) {
            if let Some(sink) = connection.sink.upgrade() {
                sink.push_welcome();
            }
        }
    }

    /// Closes every connection of a revoked device.
    pub fn close_device(&self, device: DeviceId) {
        self.deliver_close(device);
        self.tell_peers(PeerEvent::CloseDevice { device });
    }

    /// Closes a device's connections to this process only (a peer's revocation, seen
    /// by the periodic check of [`crate::CONNECTED_DEVICES_CHECK`]).
    pub fn close_device_here(&self, device: DeviceId) {
        self.deliver_close(device);
    }

    /// The devices with an authenticated connection to this process.
    pub fn connected_devices(&self) -> Vec<DeviceId> {
        self.devices.lock().map(|devices| devices.keys().copied().collect()).unwrap_or_default()
    }

    fn deliver_close(&self, device: DeviceId) {
        let Ok(mut devices) = self.devices.lock() else { return };
        for connection in devices.remove(&device).into_iter().flat_map(HashMap::into_values) {
            let _ = connection.close.send(true);
        }
    }

    /// Closes every authenticated connection: when this process may have missed what
    /// the others wrote (its feed from them broke), its devices reconnect and catch up
    /// by reading, as after any reconnection.
    pub fn close_all(&self) {
        let Ok(mut devices) = self.devices.lock() else { return };
        for connection in devices.drain().flat_map(|(_, connections)| connections.into_values()) {
            let _ = connection.close.send(true);
        }
    }

    /// Sends this process's events to the other processes from now on.
    ///
    /// # Errors
    /// Gives `peers` back if a channel was set already.
    pub fn connect_peers(
        &self,
        peers: tokio::sync::mpsc::Sender<PeerEvent>,
    ) -> Result<(), tokio::sync::mpsc::Sender<PeerEvent>> {
        self.peers.set(peers)
    }

    fn tell_peers(&self, event: PeerEvent) {
        if let Some(peers) = self.peers.get()
            && peers.try_send(event).is_err()
        {
            // Only when the feed is closed or far behind; a device of another process
            // then learns of the write at its next read or event.
            tracing::warn!("an event for the other relay processes was dropped: their feed is full or closed");
        }
    }

    /// Delivers what another relay process announced, to this process's subscribers
    /// and devices only.
    pub fn deliver_from_peer(&self, event: PeerEvent) {
        match event {
            PeerEvent::LogAdvanced { group, epoch, latest, kind } => self.deliver_log(group, epoch, latest, kind),
            PeerEvent::ContentStored { group, seq, record, pushed } => {
                self.deliver_content(group, seq, record, pushed.as_ref(), None);
            }
            PeerEvent::Signal { group, from, payload } => {
                self.deliver_signal(group, PEER_CONNECTIONS | from, &payload);
            }
            PeerEvent::WelcomeAvailable { device } => self.deliver_welcome(device),
            PeerEvent::CloseDevice { device } => self.deliver_close(device),
        }
    }

    /// How many streams are subscribed to anything, for metrics.
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.lock().map_or(0, |s| s.groups.values().map(HashMap::len).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signal(byte: u8) -> SignalBytes {
        SignalBytes::new(vec![byte; 8]).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn signals_skip_their_sender_replace_older_ones_and_are_bounded_per_stream() {
        let hub = Hub::default();
        let group = GroupId::from_bytes([7; 16]);
        let epoch = Epoch::ZERO;
        let (watcher, sender) = (Arc::new(EventSink::default()), Arc::new(EventSink::default()));
        hub.subscribe(group, epoch, (1, 0), &watcher);
        hub.subscribe(group, epoch, (2, 0), &sender);
        // Connection 2's signal goes to connection 1 only; its newer one replaces it.
        assert_eq!(hub.signal(group, 2, &signal(1)), 1);
        assert_eq!(hub.signal(group, 2, &signal(2)), 1);
        assert!(sender.drain().is_empty());
        assert_eq!(watcher.drain(), vec![Event::from(GroupSignal { group, payload: signal(2) })]);
        // A stream that does not read holds at most MAX_QUEUED_SIGNALS signals.
        for from in 0..(MAX_QUEUED_SIGNALS as u64 * 4) {
            hub.signal(group, 100 + from, &signal(3));
        }
        assert_eq!(watcher.drain().len(), MAX_QUEUED_SIGNALS);
        // A group nobody watches forwards to nobody.
        assert_eq!(hub.signal(GroupId::from_bytes([8; 16]), 2, &signal(4)), 0);
    }

    fn sealed(len: usize) -> ContentRecordBytes {
        ContentRecordBytes::new(vec![0x5c; len]).unwrap_or_else(|_| unreachable!())
    }

    #[test]
    fn small_records_are_pushed_whole_large_ones_and_overflow_announced() {
        let hub = Hub::default();
        let group = GroupId::from_bytes([7; 16]);
        let (watcher, sender) = (Arc::new(EventSink::default()), Arc::new(EventSink::default()));
        hub.subscribe(group, Epoch::ZERO, (1, 0), &watcher);
        hub.subscribe(group, Epoch::ZERO, (2, 0), &sender);
        let id = |n: u8| ContentId::from_bytes([n; 16]);
        let seq = |n: u64| ContentSeq::new(n).unwrap_or_else(|_| unreachable!());

        // A small record reaches every subscribed stream whole, but the storing
        // connection's: it has the record, and its acknowledgement gave the position.
        hub.content_stored(group, seq(3), id(3), &sealed(300), 2);
        let pushed = PushedRecordBytes::new(vec![0x5c; 300]).unwrap_or_else(|_| unreachable!());
        let expected = vec![Event::from(ContentPushed { group, seq: seq(3), record: id(3), sealed: pushed })];
        assert_eq!(sender.drain(), Vec::new());
        assert_eq!(watcher.drain(), expected);

        // A record over MAX_PUSHED_RECORD_LEN is only announced.
        hub.content_stored(group, seq(4), id(4), &sealed(MAX_PUSHED_RECORD_LEN + 1), 2);
        assert_eq!(watcher.drain(), vec![Event::from(ContentAdvanced { group, latest: seq(4) })]);

        // A stream that does not read holds at most MAX_QUEUED_PUSH_BYTES of pushes, in
        // the order stored; what does not fit is announced, newest position only.
        let fitted = MAX_QUEUED_PUSH_BYTES / (MAX_PUSHED_RECORD_LEN + PUSH_ENTRY_COST);
        let count = fitted + 5;
        for n in 0..count as u64 {
            hub.content_stored(group, seq(10 + n), id(10), &sealed(MAX_PUSHED_RECORD_LEN), 2);
        }
        let events = watcher.drain();
        assert_eq!(events.len(), fitted + 1);
        for (n, event) in events.iter().take(fitted).enumerate() {
            assert!(matches!(event, Event::ContentPushed(p) if p.seq == seq(10 + n as u64)), "{n}: {event:?}");
        }
        assert_eq!(events[fitted], Event::from(ContentAdvanced { group, latest: seq(10 + count as u64 - 1) }));
        // Empty records count too: a stream holds a bounded number of them.
        sender.drain();
        for n in 0..10_000u64 {
            hub.content_stored(group, seq(1000 + n), id(1), &sealed(0), 2);
        }
        let events = watcher.drain();
        assert_eq!(events.len(), MAX_QUEUED_PUSH_BYTES / PUSH_ENTRY_COST + 1, "pushes, then one announcement");
        // Drained, the stream takes pushes again.
        hub.content_stored(group, seq(100), id(100), &sealed(10), 2);
        assert!(matches!(watcher.drain().as_slice(), [Event::ContentPushed(_)]));
    }
}
