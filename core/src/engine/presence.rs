//! Presence in notes ([`crate::presence`]): what this device shows (the note open in
//! each space, and its selection) sent as relay signals, at most one per
//! [`PRESENCE_INTERVAL_SECS`] and space, repeated every
//! [`PRESENCE_HEARTBEAT_SECS`]; and what others show, taken from the signals the relay
//! forwards once each passes the checks below, and forgotten after
//! [`PRESENCE_TTL_SECS`] without news. Nothing here is written to the store.
//!
//! A signal is taken only if it opens with the space's current history key, names
//! this space, is signed by the MLS key of a device that is a member of the group now,
//! whose person's roster lists it, is fresh by the clocks, and comes after the last one
//! taken from that device. Anything else is dropped without a word: the relay may
//! replay or drop signals at will, and a forged one is no more than noise.

use super::*;
use crate::presence::{
    MAX_PRESENCE_SKEW_SECS, NoteCursor, PRESENCE_HEARTBEAT_SECS, PRESENCE_INTERVAL_SECS, PRESENCE_TTL_SECS,
    PresenceBody, PresenceSeq, SignedPresence, is_fresh,
};
use huisclos_protocol::messages::{GroupSignal, Signal, SignalBytes};

/// What this device shows in one space.
struct Own {
    note: Option<NodeId>,
    cursor: Option<NoteCursor>,
    /// When it was last sent, on this connection.
    sent_at: Option<Now>,
    /// Changed since it was sent.
    changed: bool,
}

/// What another device shows, as last heard.
struct Peer {
    /// The device's certificate, for the roster check at each read.
    certificate: CertificateBody,
    note: Option<NodeId>,
    cursor: Option<NoteCursor>,
    heard_at: Now,
}

/// Presence, in memory only.
#[derive(Default)]
pub(super) struct PresenceState {
    own: BTreeMap<GroupId, Own>,
    /// Per space, per device (its MLS signature key).
    peers: BTreeMap<GroupId, BTreeMap<[u8; 32], Peer>>,
    /// Per space and device, the last sequence number taken and when: kept past the
    /// peer's expiry, for as long as a message could still pass as fresh, so that a
    /// replayed message cannot bring back someone who left or went silent.
    taken: BTreeMap<(GroupId, [u8; 32]), (PresenceSeq, Now)>,
    last_sequence: u64,
}

/// How long a device's last sequence number is kept: a message is fresh for
/// [`MAX_PRESENCE_SKEW_SECS`] either side of the receiver's clock.
const SEQUENCE_MEMORY_SECS: u64 = 2 * MAX_PRESENCE_SKEW_SECS + PRESENCE_TTL_SECS;

impl PresenceState {
    /// Whether this device shows `note` of `space` (an editor has it open).
    pub(super) fn shows(&self, space: &GroupId, note: &NodeId) -> bool {
        self.own.get(space).is_some_and(|own| own.note.as_ref() == Some(note))
    }

    /// A new connection: everything shown is sent again at once (the others' view of
    /// this device expired, or will, while it was away).
    pub(super) fn reconnected(&mut self) {
        for own in self.own.values_mut() {
            own.sent_at = None;
            own.changed = true;
        }
    }

    /// When a presence message is due in `space`, if any.
    fn due(&self, space: &GroupId) -> Option<Now> {
        let own = self.own.get(space)?;
        match own.sent_at {
            None => Some(0),
            Some(sent) if own.changed => Some(sent + PRESENCE_INTERVAL_SECS),
            Some(sent) if own.note.is_some() => Some(sent + PRESENCE_HEARTBEAT_SECS),
            Some(_) => None,
        }
    }

    /// The earliest time a message is due.
    pub(super) fn next_send(&self) -> Option<Now> {
        self.own.keys().filter_map(|space| self.due(space)).min()
    }

    /// The earliest time a peer is to be forgotten.
    pub(super) fn next_expiry(&self) -> Option<Now> {
        self.peers.values().flat_map(|peers| peers.values().map(|p| p.heard_at + PRESENCE_TTL_SECS + 1)).min()
    }
}

impl Engine {
    /// Shows others which note of `space` this device has open, and its selection
    /// there as `(anchor, head)` in UTF-16 units (equal for a caret); `note: None`
    /// says it left the space's notes. Sent at once if the last message is older than
    /// [`PRESENCE_INTERVAL_SECS`], else when it is, as it is then; never stored.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown space or note; store errors.
    pub fn show_in_note(
        &mut self,
        space: &GroupId,
        note: Option<&NodeId>,
        selection: Option<(u32, u32)>,
    ) -> Result<()> {
        if !self.spaces.contains_key(space) {
            return Err(CoreError::NotFound(Missing::Space));
        }
        let cursor = match (note, selection) {
            (Some(note), Some((anchor, head))) => {
                self.known_note(space, note)?;
                let open = self.open_note(space, note)?;
                let cursor = NoteCursor { anchor: open.doc.anchor_at(anchor), head: open.doc.anchor_at(head) };
                self.notes.put((*space, *note), open);
                Some(cursor)
            }
            (Some(note), None) => {
                self.known_note(space, note)?;
                None
            }
            (None, _) => None,
        };
        let own =
            self.presence.own.entry(*space).or_insert(Own { note: None, cursor: None, sent_at: None, changed: true });
        if own.note.as_ref() != note || own.cursor != cursor {
            own.note = note.copied();
            own.cursor = cursor;
            own.changed = true;
        }
        self.queue_due_presence();
        Ok(())
    }

    /// Who else shows they are in `note` now, with their selection resolved in the
    /// text as this device holds it (`None` when they show none, or it is in text this
    /// device has not merged yet). Only devices that are members of the space now.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown space or note; store errors.
    pub fn note_presence(&self, space: &GroupId, note: &NodeId) -> Result<Vec<NotePeer>> {
        let group = self.spaces.get(space).ok_or(CoreError::NotFound(Missing::Space))?;
        self.known_note(space, note)?;
        let Some(peers) = self.presence.peers.get(space) else { return Ok(Vec::new()) };
        let loaded;
        let doc = match self.notes.get(&(*space, *note)) {
            Some(open) => &open.doc,
            None => {
                loaded = self.load_note(space, note)?;
                &loaded.doc
            }
        };
        let mut shown: Vec<NotePeer> = peers
            .iter()
            .filter(|(key, peer)| {
                peer.note.as_ref() == Some(note)
                    && peer.heard_at + PRESENCE_TTL_SECS >= self.now
                    && group.group.members().any(|m| m.signature_key.as_slice() == key.as_slice())
                    && self.device_allowed(&peer.certificate)
            })
            .map(|(_, peer)| NotePeer {
                identity: peer.certificate.identity,
                name: peer.certificate.name.to_string(),
                selection: peer
                    .cursor
                    .as_ref()
                    .and_then(|c| Some((doc.offset_of(&c.anchor)?, doc.offset_of(&c.head)?))),
            })
            .collect();
        shown.sort_by(|a, b| a.name.cmp(&b.name).then(a.identity.as_bytes().cmp(b.identity.as_bytes())));
        Ok(shown)
    }

    /// Forgets peers not heard from for too long (telling the app), and sequence
    /// numbers too old to matter.
    pub(super) fn expire_presence(&mut self) {
        let now = self.now;
        let mut gone = Vec::new();
        for (space, peers) in &mut self.presence.peers {
            peers.retain(|_, peer| {
                let keep = peer.heard_at + PRESENCE_TTL_SECS >= now;
                if !keep && let Some(note) = peer.note {
                    gone.push((*space, note));
                }
                keep
            });
        }
        self.presence.peers.retain(|_, peers| !peers.is_empty());
        self.presence.taken.retain(|_, (_, at)| *at + SEQUENCE_MEMORY_SECS >= now);
        for (space, note) in gone {
            self.events.push_back(ClientEvent::PresenceChanged { space, note });
        }
    }

    /// Queues a presence job for every space whose message is due.
    pub(super) fn queue_due_presence(&mut self) {
        if !self.is_online() {
            return;
        }
        let now = self.now;
        let due: Vec<GroupId> = self
            .presence
            .own
            .keys()
            .filter(|space| self.presence.due(space).is_some_and(|at| at <= now))
            .copied()
            .collect();
        for space in due {
            self.push_job(Job::Presence(space));
        }
    }

    /// The signal carrying this device's presence in `space`, if one is due.
    pub(super) fn plan_presence(&mut self, space: GroupId) -> Result<Option<(RequestBody, Step)>> {
        let now = self.now;
        if self.presence.due(&space).is_none_or(|at| at > now) {
            return Ok(None);
        }
        let Some(group) = self.spaces.get(&space) else {
            self.presence.own.remove(&space);
            return Ok(None);
        };
        let key = group.meta.history.sealing_key();
        let sendable = !group.meta.removed && !group.meta.stalled && group.meta.relay_created;
        // Marked sent before anything that can fail: a message that cannot be made or
        // sent now is tried again at the next heartbeat (never at every poll), and a
        // "left" that cannot be sent is dropped (others forget this device anyway).
        let Some(own) = self.presence.own.get_mut(&space) else { return Ok(None) };
        own.sent_at = Some(now);
        own.changed = false;
        let Some(key) = key.filter(|_| sendable) else {
            if own.note.is_none() {
                self.presence.own.remove(&space);
            }
            return Ok(None);
        };
        let own = &*own;
        let sequence = (now.saturating_mul(1000)).max(self.presence.last_sequence + 1);
        let body = PresenceBody {
            group: space,
            mls_key: self.device.mls.verifying_key().to_bytes(),
            sequence: PresenceSeq(sequence),
            sent_at: UnixSeconds::new(now).map_err(CoreError::Decode)?,
            note: own.note,
            cursor: own.cursor.clone(),
        };
        let sealed = SignedPresence::sign(body, &self.device.mls)?.seal(&key, &space)?;
        let payload = SignalBytes::new(sealed)?;
        let access = self.access(&space)?;
        self.presence.last_sequence = sequence;
        Ok(Some((Signal { access, payload }.into(), Step::Signal { group: space })))
    }

    /// The relay answered a presence signal. Accepted: a "left" is said once, and
    /// forgotten. Refused: sent again at the next interval (presence is not worth
    /// backing off the rest of the work for); a stale epoch is handled as for any
    /// request (read what was missed, and report a relay that keeps saying so).
    pub(super) fn on_signal_answer(&mut self, group: GroupId, answer: &std::result::Result<ResponseBody, RelayError>) {
        match answer {
            Ok(_) => {
                if self.presence.own.get(&group).is_some_and(|own| own.note.is_none() && !own.changed) {
                    self.presence.own.remove(&group);
                }
            }
            Err(error) => {
                if let Some(own) = self.presence.own.get_mut(&group) {
                    own.changed = true;
                }
                if matches!(error, RelayError::StaleEpoch { .. }) {
                    self.on_stale(group);
                }
            }
        }
    }

    /// A signal the relay forwarded.
    pub(super) fn on_signal(&mut self, signal: GroupSignal) {
        if let Err(error) = self.take_presence(&signal.group, &signal.payload) {
            // Noise or a replay: dropped. Not a warning: the relay can replay at will.
            tracing::debug!(fault = ?error.fault(), "presence dropped");
        }
    }

    fn take_presence(&mut self, group: &GroupId, payload: &SignalBytes) -> Result<()> {
        let space = self.spaces.get(group).ok_or(CoreError::NotFound(Missing::Space))?;
        let key =
            space.meta.history.sealing_key().ok_or(crate::history::RecordRefusal::UnknownGeneration.to_error())?;
        let presence = SignedPresence::open(payload.as_bytes(), &key, group)?;
        presence.verify(group)?;
        let body = &presence.body;
        if body.mls_key == self.device.mls.verifying_key().to_bytes() {
            return Ok(()); // this device's own, come back
        }
        if !is_fresh(body.sent_at.get(), self.now) {
            return Err(CoreError::Verification(Unverified::Stale));
        }
        let member = space
            .group
            .members()
            .find(|m| m.signature_key.as_slice() == body.mls_key.as_slice())
            .ok_or(CoreError::Verification(Unverified::NotOnRoster))?;
        let certificate = crate::mls::certificate_of(&member.credential, &member.signature_key)?;
        if !self.device_allowed(&certificate.body) {
            return Err(CoreError::Verification(Unverified::NotOnRoster));
        }
        let now = self.now;
        if let Some((taken, _)) = self.presence.taken.get(&(*group, body.mls_key))
            && *taken >= body.sequence
        {
            return Err(CoreError::Verification(Unverified::Replay));
        }
        self.presence.taken.insert((*group, body.mls_key), (body.sequence, now));
        let peers = self.presence.peers.entry(*group).or_default();
        let before = peers.get(&body.mls_key).map(|p| (p.note, p.cursor.clone()));
        peers.insert(
            body.mls_key,
            Peer {
                certificate: certificate.body,
                note: body.note,
                cursor: body.cursor.clone(),
                // Heard now, by this device's clock: a sender's fast clock keeps no
                // one longer.
                heard_at: now,
            },
        );
        // A heartbeat that changes nothing tells the app nothing.
        if before.as_ref() != Some(&(body.note, body.cursor.clone())) {
            let was = before.and_then(|(note, _)| note);
            for note in [was, body.note].into_iter().flatten().collect::<BTreeSet<_>>() {
                self.events.push_back(ClientEvent::PresenceChanged { space: *group, note });
            }
        }
        Ok(())
    }
}
