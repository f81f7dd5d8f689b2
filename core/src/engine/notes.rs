//! Notes as shared documents: this device's edits turned into signed, sealed updates
//! (content records like any other), and updates from others checked and merged.
//!
//! An update passes every check a content record passes (its author's signature,
//! device, generation and role: readers and removed members are refused before this
//! file sees it), then [`crate::note::NoteDoc::apply_remote`] checks that it inserts
//! only under its author's client id. A note's document is stored whole under
//! `notes/`, rewritten by each update merged, in the same step (and commit) as the
//! record's id is marked applied: one is never kept without the other.
//!
//! A note that an older release wrote whole (the library's `WriteNote`) starts its
//! document from that text ([`crate::note::NoteDoc::with_base`]).

use super::*;
use crate::content::{NoteEdit, NoteUpdateBytes};
use crate::note::{NoteDoc, NoteRefusal, TextEdit, client_id};

impl Engine {
    /// This device's client id in `note`, and the document as this device holds it.
    fn note_doc(&self, group: &GroupId, note: &NodeId) -> Result<NoteDoc> {
        let mls_key = self.certificate.as_ref().map(|c| c.body.mls_key).unwrap_or_default();
        let client = client_id(group.as_bytes(), note.as_bytes(), &mls_key);
        match self.store.note_state(group, note)? {
            Some(state) => NoteDoc::load(client, &state)
                .map_err(|_| CoreError::damaged(StoredRecord::Note, DamageKind::DoesNotDecode)),
            None => {
                let base = self.library(group)?.note(note).unwrap_or_default();
                Ok(NoteDoc::with_base(client, group.as_bytes(), note.as_bytes(), &base))
            }
        }
    }

    /// A note's text (Markdown), as this device holds it now.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] if the library has no such note; store errors.
    pub fn note_text(&self, space: &GroupId, note: &NodeId) -> Result<String> {
        self.known_note(space, note)?;
        Ok(self.note_doc(space, note)?.text())
    }

    fn known_note(&self, space: &GroupId, note: &NodeId) -> Result<()> {
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
        let mut doc = self.note_doc(space, note)?;
        self.publish_edits(space, note, &mut doc, edits)
    }

    /// Replaces a note's text with `text`, as the edits that make the difference, so
    /// that what others type meanwhile elsewhere in the note is kept.
    ///
    /// # Errors
    /// As [`Engine::edit_note`].
    pub fn write_note(&mut self, space: &GroupId, note: &NodeId, text: &str) -> Result<()> {
        self.known_note(space, note)?;
        let mut doc = self.note_doc(space, note)?;
        let edits = crate::note::diff_edits(&doc.text(), text);
        self.publish_edits(space, note, &mut doc, &edits)
    }

    /// Applies `edits` to `doc` and publishes them, as several updates where one would
    /// not fit a record (a long text pasted or written whole).
    fn publish_edits(&mut self, space: &GroupId, note: &NodeId, doc: &mut NoteDoc, edits: &[TextEdit]) -> Result<()> {
        // The whole change is checked first, so that a refused one sends nothing.
        let projected = edits.iter().fold(i64::from(doc.len_utf16()), |len, edit| {
            len - i64::from(edit.delete) + edit.insert.encode_utf16().count() as i64
        });
        if projected > i64::from(crate::note::MAX_NOTE_UNITS) {
            return Err(refused_locally(NoteRefusal::NoteTooLong));
        }
        for batch in crate::note::batches(edits, BATCH_INSERT_BYTES) {
            if let Some(update) = doc.edit(&batch).map_err(refused_locally)? {
                self.publish_note_update(space, note, update)?;
            }
        }
        Ok(())
    }

    fn publish_note_update(&mut self, space: &GroupId, note: &NodeId, update: Vec<u8>) -> Result<()> {
        let max_kib = (crate::note::MAX_UPDATE_LEN / 1024) as u64;
        let update =
            NoteUpdateBytes::new(update).map_err(|_| CoreError::Invalid(InvalidInput::ItemTooLarge { max_kib }))?;
        // The document is not written here: the update is applied as everyone else's
        // is, when the record is (at once, for this device's own).
        self.publish(space, ContentBody::NoteEdit(NoteEdit { note: *note, update })).map(|_| ())
    }

    /// Merges a verified update from `author` (whose role was checked) into its note.
    pub(super) fn apply_note_edit(
        &mut self,
        group: &GroupId,
        author: &crate::identity::CertificateBody,
        edit: &NoteEdit,
    ) -> Result<()> {
        let author_client = client_id(group.as_bytes(), edit.note.as_bytes(), &author.mls_key);
        let mut doc = self.note_doc(group, &edit.note)?;
        let changed = doc
            .apply_remote(edit.update.as_bytes(), author_client)
            .map_err(|refusal| CoreError::Verification(Unverified::NoteUpdate(refusal)))?;
        self.store.put_note_state(group, &edit.note, &doc.state())?;
        if changed {
            self.events.push_back(ClientEvent::NoteChanged { space: *group, note: edit.note });
        }
        Ok(())
    }
}

/// The most bytes of text one update inserts: with Yjs's encoding and the record's
/// envelope it stays well inside [`crate::note::MAX_UPDATE_LEN`].
const BATCH_INSERT_BYTES: usize = 32 * 1024;

fn refused_locally(refusal: NoteRefusal) -> CoreError {
    match refusal {
        NoteRefusal::NoteTooLong => CoreError::Invalid(InvalidInput::TooMany {
            limit: Limit::NoteLength,
            max: u64::from(crate::note::MAX_NOTE_UNITS),
        }),
        other => CoreError::Verification(Unverified::NoteUpdate(other)),
    }
}
