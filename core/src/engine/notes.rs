//! Notes as shared documents: this device's edits turned into signed, sealed updates
//! (content records like any other), and updates from others checked and merged.
//!
//! An update passes every check a content record passes (its author's signature,
//! device, generation and role: readers and removed members are refused before this
//! file sees it), then [`crate::note::NoteDoc::apply_remote`]'s own. A note is kept
//! open in memory ([`OpenNotes`]); in the store it is its state under `notes/` and the
//! updates merged since, one row each under `note-updates/`, folded into the state at
//! the 256th; each is written in the same step (and commit) as the record's id is
//! marked applied: one is never kept without the other.
//!
//! This device's own updates are forgettable records (their ids the hashes of keys
//! kept under `note-own/`); every [`COMPACT_AFTER`] of them are merged into
//! compactions, published like any update, and the records they cover forgotten at
//! the relay, which keeps tombstones in their place: a device that reads the note
//! later reads a few compactions, not every batch typed. An update that builds on what
//! this device has not merged (a compaction stored after what built on it) waits under
//! `note-parked/` and is merged once it can be, alone or with others that wait
//! (`protocol-spec/client.md`, "Updates that wait").
//!
//! A note that an older release wrote whole (the library's `WriteNote`) starts its
//! document from that text ([`crate::note::NoteDoc::with_base`]).

use super::*;
use crate::content::{NoteEdit, NoteUpdateBytes};
use crate::note::{NoteDoc, NoteRefusal, TextEdit, client_id};
use huisclos_protocol::ids::ForgetKey;
use store::{OwnNoteUpdate, ParkedNoteUpdate, PendingForget};

/// The most named versions a note keeps; later ones are refused.
pub(super) const MAX_NOTE_VERSIONS: u64 = 256;

/// The most notes kept open in memory at once (a few being edited or watched).
const OPEN_NOTES: usize = 4;

/// Notes open in memory: each document as stored, with how many updates it has kept
/// beside its state since the last compaction.
#[derive(Default)]
pub(super) struct OpenNotes {
    open: Vec<((GroupId, NodeId), OpenNote)>,
    /// Set when a commit failed (from `persist`, which cannot reach the notes
    /// themselves): every open note is then forgotten before the next use.
    stale: std::sync::atomic::AtomicBool,
    /// Notes put back since the last commit: what a rollback may have undone in the
    /// store, and so the only ones it forgets (the others keep their undo history).
    touched: std::sync::Mutex<std::collections::BTreeSet<(GroupId, NodeId)>>,
}

pub(super) struct OpenNote {
    pub(super) doc: NoteDoc,
    /// Updates stored beside the compacted state.
    since_compaction: u64,
    /// Whether the store holds the note's state: false for a document just started
    /// (empty, or from the text an older release wrote), which the first update merged
    /// stores whole, so that its start is never computed again.
    state_stored: bool,
    /// Whether the library showed it is a note when this device edited it (an update
    /// may name any id; only a known note is edited without reading the library).
    known_note: bool,
}

impl OpenNotes {
    fn take(&mut self, key: &(GroupId, NodeId)) -> Option<OpenNote> {
        if self.stale.swap(false, std::sync::atomic::Ordering::Relaxed) {
            self.open.clear();
        }
        let at = self.open.iter().position(|(k, _)| k == key)?;
        Some(self.open.remove(at).1)
    }

    /// Puts back a note that may hold what the store has not committed yet (a rollback
    /// forgets it).
    pub(super) fn put(&mut self, key: (GroupId, NodeId), note: OpenNote) {
        if let Ok(mut touched) = self.touched.lock() {
            touched.insert(key);
        }
        self.put_unchanged(key, note);
    }

    /// Puts back a note that nothing changed since it was taken out (a rollback keeps
    /// it).
    pub(super) fn put_unchanged(&mut self, key: (GroupId, NodeId), note: OpenNote) {
        // The most recently used last; the least recently used goes first.
        if self.open.len() >= OPEN_NOTES {
            self.open.remove(0);
        }
        self.open.push((key, note));
    }

    /// The store committed: every open note matches it.
    pub(super) fn committed(&self) {
        if let Ok(mut touched) = self.touched.lock() {
            touched.clear();
        }
    }

    pub(super) fn get(&self, key: &(GroupId, NodeId)) -> Option<&OpenNote> {
        if self.stale.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        self.open.iter().find(|(k, _)| k == key).map(|(_, note)| note)
    }

    /// Marks every open note as no longer matching the store (a commit failed).
    pub(super) fn mark_stale(&self) {
        self.stale.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// After a rollback: forgets the open notes put back since the last commit (they
    /// may hold what it undid), and keeps the others, with their undo history.
    pub(super) fn rolled_back(&mut self) {
        let touched = match self.touched.lock() {
            Ok(mut touched) => std::mem::take(&mut *touched),
            Err(_) => {
                self.open.clear();
                return;
            }
        };
        self.open.retain(|(key, _)| !touched.contains(key));
    }
}

impl Engine {
    /// This device's client id in `note`.
    fn note_client(&self, group: &GroupId, note: &NodeId) -> u64 {
        let mls_key = self.certificate.as_ref().map(|c| c.body.mls_key).unwrap_or_default();
        client_id(group.as_bytes(), note.as_bytes(), &mls_key)
    }

    /// The note as stored: its compacted state and the updates since, merged; or, for a
    /// note with no document yet, one started from the text an older release wrote.
    pub(super) fn load_note(&self, group: &GroupId, note: &NodeId) -> Result<OpenNote> {
        let client = self.note_client(group, note);
        let damaged = |_| CoreError::damaged(StoredRecord::Note, DamageKind::DoesNotDecode);
        let Some(stored) = self.store.note(group, note)? else {
            let base = self.library(group)?.note(note).unwrap_or_default();
            let doc = NoteDoc::with_base(client, group.as_bytes(), note.as_bytes(), &base);
            return Ok(OpenNote { doc, since_compaction: 0, state_stored: false, known_note: false });
        };
        let mut doc = match &stored.base {
            Some(state) => NoteDoc::load(client, state).map_err(damaged)?,
            None => {
                let base = self.library(group)?.note(note).unwrap_or_default();
                NoteDoc::with_base(client, group.as_bytes(), note.as_bytes(), &base)
            }
        };
        for update in &stored.updates {
            doc.merge_stored(update).map_err(damaged)?;
        }
        let state_stored = stored.base.is_some();
        Ok(OpenNote { doc, since_compaction: stored.updates.len() as u64, state_stored, known_note: false })
    }

    /// The note, open in memory (taken out: put it back when done, or drop it after a
    /// failure so that it is read again from the store).
    pub(super) fn open_note(&mut self, group: &GroupId, note: &NodeId) -> Result<OpenNote> {
        match self.notes.take(&(*group, *note)) {
            Some(open) => Ok(open),
            None => self.load_note(group, note),
        }
    }

    /// A note's text (Markdown), as this device holds it now.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] if the library has no such note; store errors.
    pub fn note_text(&self, space: &GroupId, note: &NodeId) -> Result<String> {
        self.known_note(space, note)?;
        if let Some(open) = self.notes.get(&(*space, *note)) {
            return Ok(open.doc.text());
        }
        Ok(self.load_note(space, note)?.doc.text())
    }

    pub(super) fn known_note(&self, space: &GroupId, note: &NodeId) -> Result<()> {
        // A note open in memory was a note when opened, and a node's kind never changes:
        // no need to read the whole library again at every keystroke batch.
        if self.notes.get(&(*space, *note)).is_some_and(|open| open.known_note) {
            return Ok(());
        }
        match self.library(space)?.node(note) {
            Some(view) if view.kind == NodeKind::Note => Ok(()),
            _ => Err(CoreError::NotFound(Missing::Note)),
        }
    }

    /// Applies this device's edits to a note, each `(at, delete, insert)` in UTF-16
    /// code units of the text as the previous edit left it (as an editor reports
    /// them), shows them at once and sends them as one update.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown note; [`CoreError::Forbidden`] for
    /// readers; [`CoreError::Invalid`] for a note that would be too long, or edits too
    /// many for one update (send them in smaller batches).
    pub fn edit_note(&mut self, space: &GroupId, note: &NodeId, edits: &[TextEdit]) -> Result<()> {
        self.known_note(space, note)?;
        self.publish_edits(space, note, |_| edits.to_vec())
    }

    /// Undoes this device's last edit of a note that is still undoable, and sends the
    /// undoing as an update like any edit: what others wrote since stays, and others'
    /// edits are never undone here (per-person undo). Returns whether there was an edit
    /// to undo. Undo reaches back to the edits made since the note was opened on this
    /// device, kept in memory with the open note: lost when the note is closed (four
    /// are kept open), at a restart, and when an update refused after merging makes the
    /// note be read again; a record refused before merging leaves it.
    ///
    /// # Errors
    /// As [`Engine::edit_note`].
    pub fn undo_note(&mut self, space: &GroupId, note: &NodeId) -> Result<bool> {
        self.undo_or_redo_note(space, note, true)
    }

    /// Redoes the edit [`Engine::undo_note`] last undid; returns whether there was one.
    ///
    /// # Errors
    /// As [`Engine::edit_note`].
    pub fn redo_note(&mut self, space: &GroupId, note: &NodeId) -> Result<bool> {
        self.undo_or_redo_note(space, note, false)
    }

    fn undo_or_redo_note(&mut self, space: &GroupId, note: &NodeId, undo: bool) -> Result<bool> {
        self.known_note(space, note)?;
        if !self.rules(space)?.role_of(&self.identity).may_contribute() {
            return Err(CoreError::Forbidden(Refusal::ReaderWrites));
        }
        let key = (*space, *note);
        // Taken out: on a failure it is dropped, and read again from the store.
        let mut open = self.open_note(space, note)?;
        open.known_note = true;
        let made = if undo { open.doc.undo() } else { open.doc.redo() };
        let update = made.map_err(refused_locally)?;
        self.notes.put(key, open);
        let Some(update) = update else { return Ok(false) };
        if let Err(error) = self.publish_note_update(space, note, update) {
            self.notes.take(&key);
            return Err(error);
        }
        Ok(true)
    }

    /// Names the note's text as this device holds it now ("Before the hearing"): a
    /// version every member's device lists, reads and can restore. Returns its id.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown note; [`CoreError::Forbidden`] for
    /// readers; [`CoreError::Invalid`] for a bad name, or a note over
    /// [`crate::content::MAX_VERSION_TEXT_LEN`] bytes (too long to keep whole).
    pub fn name_note_version(&mut self, space: &GroupId, note: &NodeId, name: &str) -> Result<ContentId> {
        use crate::content::{MAX_VERSION_TEXT_LEN, NoteVersion, NoteVersionText, VersionName};
        self.known_note(space, note)?;
        let name = VersionName::new(name.replace('\n', " "))?;
        if self.store.note_version_count(space, note)? >= MAX_NOTE_VERSIONS {
            return Err(CoreError::Invalid(InvalidInput::TooMany {
                limit: Limit::NoteVersions,
                max: MAX_NOTE_VERSIONS,
            }));
        }
        let text = self.note_text(space, note)?;
        let max_kib = (MAX_VERSION_TEXT_LEN / 1024) as u64;
        let text = NoteVersionText::new(text.into_bytes())
            .map_err(|_| CoreError::Invalid(InvalidInput::ItemTooLarge { max_kib }))?;
        self.publish(space, ContentBody::NoteVersion(NoteVersion { note: *note, name, text }))
    }

    /// A note's named versions, oldest first (in the order this device took them).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown note; store errors.
    pub fn note_versions(&self, space: &GroupId, note: &NodeId) -> Result<Vec<NoteVersionView>> {
        self.known_note(space, note)?;
        Ok(self
            .store
            .note_versions(space, note)?
            .into_iter()
            .map(|version| NoteVersionView {
                id: ContentId::from_bytes(version.id),
                name: version.name,
                author: IdentityPublicKey::from_bytes(version.author),
                author_name: version.author_name,
                created_at: version.created_at,
                units: version.units,
            })
            .collect())
    }

    /// The text of a named version.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] for an unknown note or version; store errors.
    pub fn note_version_text(&self, space: &GroupId, note: &NodeId, version: &ContentId) -> Result<String> {
        self.known_note(space, note)?;
        self.store.note_version_text(space, note, version)?.ok_or(CoreError::NotFound(Missing::Item))
    }

    /// Restores a named version: the note's text becomes the version's, as a new edit
    /// (the character differences, like [`Engine::write_note`]), which this device can
    /// undo and everyone sees in the note's history. Nothing earlier is lost.
    ///
    /// # Errors
    /// As [`Engine::note_version_text`] and [`Engine::write_note`].
    pub fn restore_note_version(&mut self, space: &GroupId, note: &NodeId, version: &ContentId) -> Result<()> {
        let text = self.note_version_text(space, note, version)?;
        self.write_note(space, note, &text)
    }

    /// Keeps a verified named version (its author's role was checked).
    pub(super) fn apply_note_version(
        &mut self,
        group: &GroupId,
        envelope: &ContentEnvelope,
        version: &crate::content::NoteVersion,
    ) -> Result<()> {
        let text = std::str::from_utf8(version.text.as_bytes())
            .map_err(|_| CoreError::Decode(huisclos_protocol::Error::Invalid { what: "note version text" }))?;
        // Of a note the library shows, and a bounded number per note: a member cannot
        // fill every device with versions of nothing.
        match self.library(group)?.node(&version.note) {
            Some(view) if view.kind == NodeKind::Note => {}
            _ => return Err(CoreError::NotFound(Missing::Note)),
        }
        if self.store.note_version_count(group, &version.note)? >= MAX_NOTE_VERSIONS {
            return Err(CoreError::Invalid(InvalidInput::TooMany {
                limit: Limit::NoteVersions,
                max: MAX_NOTE_VERSIONS,
            }));
        }
        let author = &envelope.signed.author.body;
        let record = store::NoteVersionRecord {
            id: *envelope.signed.id.as_bytes(),
            // One line: a name never reads as more than one entry of a list.
            name: version.name.as_str().replace('\n', " "),
            author: *author.identity.as_bytes(),
            author_name: author.name.to_string(),
            created_at: envelope.signed.created_at.get(),
            units: u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX),
        };
        self.store.add_note_version(group, &version.note, &record, text)?;
        self.events.push_back(ClientEvent::NoteVersionsChanged { space: *group, note: version.note });
        Ok(())
    }

    /// Replaces a note's text with `text`, as the edits that make the difference, so
    /// that what others type meanwhile elsewhere in the note is kept.
    ///
    /// # Errors
    /// As [`Engine::edit_note`].
    pub fn write_note(&mut self, space: &GroupId, note: &NodeId, text: &str) -> Result<()> {
        self.known_note(space, note)?;
        self.publish_edits(space, note, |doc| crate::note::diff_edits(&doc.text(), text))
    }

    /// Applies the edits `make` computes from the note as it is, and publishes them, as
    /// several updates where one would not fit a record (a long text pasted or written
    /// whole). Each batch is made on the note open in memory and published (and so
    /// stored) before the next is made: the note never holds an edit of this device's
    /// that is not in a record. If publishing fails, the open note is dropped and read
    /// again from the store.
    fn publish_edits(
        &mut self,
        space: &GroupId,
        note: &NodeId,
        make: impl FnOnce(&NoteDoc) -> Vec<TextEdit>,
    ) -> Result<()> {
        let key = (*space, *note);
        let mut open = self.open_note(space, note)?;
        // Callers checked it against the library.
        open.known_note = true;
        let edits = make(&open.doc);
        // The whole change is checked first, so that a refused one sends nothing.
        let fits = open.doc.fits(&edits);
        self.notes.put(key, open);
        fits.map_err(refused_locally)?;
        for batch in crate::note::batches(&edits, BATCH_BYTES) {
            // Taken out: on a failure it is dropped, and the store still has the note
            // as the last record published left it.
            let mut open = self.open_note(space, note)?;
            let update = open.doc.edit(&batch).map_err(refused_locally)?;
            self.notes.put(key, open);
            if let Some(update) = update
                && let Err(error) = self.publish_note_update(space, note, update)
            {
                self.notes.take(&key);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Publishes an update of this device's as a forgettable record (its id the hash
    /// of a key kept here), kept beside the note until a compaction covers it; and
    /// compacts once [`COMPACT_AFTER`] wait.
    fn publish_note_update(&mut self, space: &GroupId, note: &NodeId, update: Vec<u8>) -> Result<()> {
        let client = self.note_client(space, note);
        self.publish_forgettable(space, note, client, update)?;
        if self.store.own_note_updates(space, note)?.len() >= COMPACT_AFTER {
            self.compact_own_updates(space, note, client)?;
        }
        Ok(())
    }

    fn publish_forgettable(
        &mut self,
        space: &GroupId,
        note: &NodeId,
        client: u64,
        update: Vec<u8>,
    ) -> Result<ContentId> {
        let max_kib = (crate::note::MAX_UPDATE_LEN / 1024) as u64;
        let bytes = NoteUpdateBytes::new(update.clone())
            .map_err(|_| CoreError::Invalid(InvalidInput::ItemTooLarge { max_kib }))?;
        let mut key = [0u8; 32];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut key);
        let key = ForgetKey::from_bytes(key);
        // The document is not written here: the update is applied as everyone else's
        // is, when the record is (at once, for this device's own).
        let body = ContentBody::NoteEdit(NoteEdit { note: *note, update: bytes });
        // Only the relay's content store forgets: in a space that keeps no history,
        // updates travel in MLS messages the relay deletes anyway. Kept before the
        // record is published, so that both are in the commit that publishes it.
        let keeps =
            self.spaces.get(space).is_some_and(|entry| entry.meta_history_mode().is_ok_and(|m| m == HistoryMode::Keep));
        let row = if keeps {
            let own = OwnNoteUpdate { client, record: key.record(space), key, update };
            Some(self.store.append_own_note_update(space, note, &own)?)
        } else {
            None
        };
        match self.publish_as(space, body, self.now, key.record(space)) {
            Ok(record) => Ok(record),
            Err(error) => {
                if let Some(row) = row {
                    self.store.drop_own_note_updates(space, note, &[row]);
                }
                Err(error)
            }
        }
    }

    /// Replaces runs of this device's own updates of a note by compactions: each run
    /// merged into one update ([`crate::note::compact_updates`]), published as a
    /// forgettable record of its own (compacted again later with what follows), and
    /// the run's records kept to forget (`note-forgets/`): handed to the outbox once
    /// this device has read the store past the compaction ([`Engine::release_forgets`]),
    /// and sent only where no device reading later would find, between a record and
    /// its compaction, anything that may build on the record's text (the outbox's
    /// checks). A device that reads the note later reads a few compactions instead of
    /// every batch typed. Updates typed under another client id (before a change of
    /// this device's MLS key) are left as they are.
    fn compact_own_updates(&mut self, space: &GroupId, note: &NodeId, client: u64) -> Result<()> {
        let own = self.store.own_note_updates(space, note)?;
        let (mine, others): (Vec<_>, Vec<_>) = own.into_iter().partition(|(_, row)| row.client == client);
        self.store.drop_own_note_updates(space, note, &others.iter().map(|(index, _)| *index).collect::<Vec<_>>());
        let mut start = 0;
        while start < mine.len() {
            // The longest run from `start` that compacts into one update.
            let mut run: Option<(usize, Vec<u8>)> = None;
            for end in start + 2..=mine.len() {
                let updates: Vec<&[u8]> = mine[start..end].iter().map(|(_, row)| row.update.as_slice()).collect();
                match crate::note::compact_updates(&updates) {
                    Ok(Some(merged)) => run = Some((end, merged)),
                    Ok(None) => break,
                    Err(refusal) => return Err(refused_locally(refusal)),
                }
            }
            let Some((end, merged)) = run else {
                // The last, alone: left for the next round, to be compacted with what
                // follows it (a device reading meanwhile waits on it for the
                // compaction before it, no longer).
                if start + 1 == mine.len() {
                    break;
                }
                // Alone amid the others: kept at the relay as it is. Its position keeps
                // the records before it from being forgotten in favour of compactions
                // after it (it may build on their text), as another device's update
                // would.
                let (index, row) = &mine[start];
                self.store.mark_kept(space, &row.record)?;
                if let Some(position) = self.store.own_record_position(space, &row.record)? {
                    self.store.note_foreign_update(space, note, position)?;
                }
                self.store.drop_own_note_updates(space, note, &[*index]);
                start += 1;
                continue;
            };
            let compaction = self.publish_forgettable(space, note, client, merged)?;
            for (index, row) in &mine[start..end] {
                let pending = PendingForget { note: *note, record: row.record, key: row.key, covered_by: compaction };
                self.store.add_pending_forget(space, &pending)?;
                self.store.drop_own_note_updates(space, note, &[*index]);
            }
            start = end;
        }
        self.persist()
    }

    /// Hands the outbox the records to forget whose compaction this device has read
    /// the store past (its position known, from the relay's answer); drops those whose
    /// compaction's position will never be known (answered `Conflict`). Best effort:
    /// a failure here is logged and leaves them to the next time, and never fails the
    /// step that read or sent something.
    pub(super) fn release_forgets(&mut self, group: &GroupId) -> Result<()> {
        if let Err(error) = self.try_release_forgets(group) {
            tracing::warn!(%error, "records to forget not handed to the outbox");
        }
        Ok(())
    }

    fn try_release_forgets(&mut self, group: &GroupId) -> Result<()> {
        let Some(space) = self.spaces.get(group) else { return Ok(()) };
        let read = space.meta.content_next;
        for (index, pending) in self.store.pending_forgets(group)? {
            match self.store.own_record_position(group, &pending.covered_by)? {
                Some(store::POSITION_LOST) => self.store.drop_pending_forget(group, index),
                Some(at) if read > at => {
                    self.enqueue(OutboxItem::Forget {
                        group: *group.as_bytes(),
                        note: *pending.note.as_bytes(),
                        record: *pending.record.as_bytes(),
                        key: *pending.key.as_bytes(),
                        covered_by: *pending.covered_by.as_bytes(),
                    })?;
                    self.store.drop_pending_forget(group, index);
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Merges a verified update from `author` (whose role was checked) into its note,
    /// and keeps it beside the note's state (folded into it every
    /// [`store::NOTE_UPDATES_BEFORE_COMPACTION`] updates).
    pub(super) fn apply_note_edit(
        &mut self,
        group: &GroupId,
        author: &crate::identity::CertificateBody,
        edit: &NoteEdit,
    ) -> Result<()> {
        let author_client = client_id(group.as_bytes(), edit.note.as_bytes(), &author.mls_key);
        // Taken out of the open notes: on any failure below it is dropped, and read
        // again from the store (which the step's rollback restores) next time.
        let mut open = self.open_note(group, &edit.note)?;
        let open_client = open.doc.client();
        // This device's own update is already in the open note (made there): merging it
        // again changes nothing, and it is stored below like anyone's.
        // The delta, which costs a pass over the text, only for a note an editor shows
        // here; anything else is told to read the text again.
        let merged = if self.presence.shows(group, &edit.note) {
            open.doc
                .apply_remote_with_delta(edit.update.as_bytes(), author_client)
                .map(|edits| (!edits.is_empty()).then_some(Some(edits)))
        } else {
            open.doc.apply_remote(edit.update.as_bytes(), author_client).map(|new| new.then_some(None))
        };
        let changed = match merged {
            Ok(changed) => changed,
            // It builds on what this device has not merged: another device's
            // compaction, read later in the store's order than what builds on it
            // (the records it replaced are forgotten). Kept, and merged with it.
            Err(NoteRefusal::Missing)
                if open.doc.is_intact() && self.room_to_park(group, &edit.note, &edit.update)? =>
            {
                self.notes.put_unchanged((*group, edit.note), open);
                // Read whole from its bytes first (its reading stopped at what it
                // lacks): what could never merge does not wait.
                if let Err(refusal) = crate::note::well_formed(edit.update.as_bytes()) {
                    return Err(CoreError::Verification(Unverified::NoteUpdate(refusal)));
                }
                if let Some(position) = self.reading_position {
                    self.store.note_foreign_update(group, &edit.note, position)?;
                }
                let parked = ParkedNoteUpdate { client: author_client, update: edit.update.as_bytes().to_vec() };
                self.store.park_note_update(group, &edit.note, &parked)?;
                return self.merge_parked(group, &edit.note);
            }
            Err(refusal) => {
                // Refused before anything was merged, the note is as it was: kept open,
                // with this device's undo history. A merge that failed part of the way
                // left it broken: dropped, and read again from the store.
                if open.doc.is_intact() {
                    self.notes.put_unchanged((*group, edit.note), open);
                }
                return Err(CoreError::Verification(Unverified::NoteUpdate(refusal)));
            }
        };
        if open.doc.take_contradicted() {
            self.warn(
                Some(*group),
                SecurityWarning::NoteContradicted { by: author.name.as_str().to_owned(), note: edit.note },
            );
        }
        self.keep_merged(group, &edit.note, &mut open, edit.update.as_bytes())?;
        // Where another device's update lies: none of this device's records before it
        // is forgotten in favour of a compaction stored after it.
        if author_client != open_client
            && let Some(position) = self.reading_position
        {
            self.store.note_foreign_update(group, &edit.note, position)?;
        }
        self.notes.put((*group, edit.note), open);
        // This device's own update changes nothing it has not shown (an update that
        // deletes looks new to the cheap check): no event for it.
        let new = changed.is_some();
        if let Some(edits) = changed
            && author_client != open_client
        {
            self.events.push_back(ClientEvent::NoteChanged { space: *group, note: edit.note, edits });
        }
        if new {
            self.merge_parked(group, &edit.note)?;
        }
        Ok(())
    }

    /// Whether one more update may wait in the note: at most [`MAX_PARKED`] of them and
    /// [`MAX_PARKED_BYTES`] bytes (a member's modified client could otherwise fill the
    /// device's store with updates built on what nobody sent).
    fn room_to_park(&self, group: &GroupId, note: &NodeId, update: &NoteUpdateBytes) -> Result<bool> {
        let parked = self.store.parked_note_updates(group, note)?;
        let bytes: usize = parked.iter().map(|(_, row)| row.update.len()).sum();
        Ok(parked.len() < MAX_PARKED && bytes + update.as_bytes().len() <= MAX_PARKED_BYTES)
    }

    /// Stores an update just merged into the open note `open` beside the note's state
    /// (folded into it every [`store::NOTE_UPDATES_BEFORE_COMPACTION`] updates).
    fn keep_merged(&mut self, group: &GroupId, note: &NodeId, open: &mut OpenNote, update: &[u8]) -> Result<()> {
        if !open.state_stored || open.since_compaction + 1 >= store::NOTE_UPDATES_BEFORE_COMPACTION {
            self.store.compact_note(group, note, &open.doc.state(), open.since_compaction)?;
            open.since_compaction = 0;
            open.state_stored = true;
        } else {
            self.store.append_note_update(group, note, open.since_compaction, update)?;
            open.since_compaction += 1;
        }
        Ok(())
    }

    /// Merges the note's parked updates that what it holds now lets merge: each alone,
    /// in the order parked, as long as one does; then, if none did, together those a
    /// trial on a copy merges whole ([`NoteDoc::apply_remote_together`]: compactions
    /// that each build on another's). One refused for anything but what it lacks is
    /// dropped, as a record refused when read is; one that leaves the note broken
    /// (refused once merged) is dropped with the note in memory, which is read again
    /// from the store. Never fails the step of the record that let them merge: what
    /// waits was checked alone when it came, and is judged on its own now.
    fn merge_parked(&mut self, group: &GroupId, note: &NodeId) -> Result<()> {
        let key = (*group, *note);
        let mut merged_any = false;
        loop {
            let parked = self.store.parked_note_updates(group, note)?;
            if parked.is_empty() {
                break;
            }
            let mut open = self.open_note(group, note)?;
            let mut progress = false;
            let mut broken = false;
            for (index, row) in &parked {
                // Most wait for what has not come yet: known from their bytes, with no
                // trial on a copy of the note.
                if !open.doc.may_merge_alone(&row.update) {
                    continue;
                }
                match open.doc.apply_remote(&row.update, row.client) {
                    Ok(_) => {
                        // Who sent it is not kept with it: not reported here.
                        open.doc.take_contradicted();
                        self.keep_merged(group, note, &mut open, &row.update)?;
                        self.store.unpark_note_updates(group, note, &[*index]);
                        progress = true;
                    }
                    Err(NoteRefusal::Missing) if open.doc.is_intact() => {}
                    Err(refusal) => {
                        tracing::debug!(?refusal, "a parked note update refused");
                        self.store.unpark_note_updates(group, note, &[*index]);
                        if !open.doc.is_intact() {
                            broken = true;
                            break;
                        }
                    }
                }
            }
            merged_any |= progress;
            if broken {
                // Read again from the store, which holds what merged before it.
                continue;
            }
            let parked = self.store.parked_note_updates(group, note)?;
            if !progress && parked.len() >= 2 {
                let all: Vec<(&[u8], u64)> =
                    parked.iter().map(|(_, row)| (row.update.as_slice(), row.client)).collect();
                let chosen = open.doc.mergeable_together(&all);
                let together: Vec<(&[u8], u64)> = chosen.iter().map(|&at| all[at]).collect();
                let indexes: Vec<u64> = chosen.iter().map(|&at| parked[at].0).collect();
                // Tried on a copy first, with every check: one refused once merged
                // (which the trial above does not check) is found and dropped alone,
                // and the others stay.
                let merged = if together.len() < 2 {
                    Err(NoteRefusal::Missing)
                } else if let Some(culprits) = open.doc.refused_together(&together) {
                    tracing::debug!(count = culprits.len(), "parked note updates refused once merged with others");
                    let dropped: Vec<u64> = culprits.iter().map(|&at| indexes[at]).collect();
                    self.store.unpark_note_updates(group, note, &dropped);
                    self.notes.put(key, open);
                    continue;
                } else {
                    open.doc.apply_remote_together(&together, false)
                };
                match merged {
                    Ok(merged) => {
                        open.doc.take_contradicted();
                        self.keep_merged(group, note, &mut open, &merged.update)?;
                        self.store.unpark_note_updates(group, note, &indexes);
                        progress = true;
                    }
                    Err(refusal) if !open.doc.is_intact() => {
                        // Refused once merged: which of them is at fault is not
                        // known, so none of them is kept.
                        tracing::debug!(?refusal, "parked note updates refused together");
                        self.store.unpark_note_updates(group, note, &indexes);
                        continue;
                    }
                    Err(refusal) => tracing::debug!(?refusal, "parked note updates wait"),
                }
            }
            self.notes.put(key, open);
            if !progress {
                break;
            }
            merged_any = true;
        }
        if merged_any {
            self.events.push_back(ClientEvent::NoteChanged { space: *group, note: *note, edits: None });
        }
        Ok(())
    }
}

/// The most updates that wait in one note ([`Engine::merge_parked`]). An honest update
/// never waits but for a relay's disorder: a device forgets a record only where no
/// other device's update of the note lies between it and its compaction.
pub(super) const MAX_PARKED: usize = crate::note::MAX_TOGETHER;

/// The most bytes of the updates that wait in one note.
pub(super) const MAX_PARKED_BYTES: usize = 4 << 20;

/// How many of this device's own updates of a note wait before they are compacted
/// ([`Engine::compact_own_updates`]).
pub(super) const COMPACT_AFTER: usize = 64;

/// The most bytes one update is made of, about (text inserted, and each edit's own
/// share): well inside [`crate::note::MAX_UPDATE_LEN`].
const BATCH_BYTES: usize = 32 * 1024;

fn refused_locally(refusal: NoteRefusal) -> CoreError {
    match refusal {
        NoteRefusal::NoteTooLong => CoreError::Invalid(InvalidInput::TooMany {
            limit: Limit::NoteLength,
            max: u64::from(crate::note::MAX_NOTE_UNITS),
        }),
        other => CoreError::Verification(Unverified::NoteUpdate(other)),
    }
}
