//! A note's text as a shared document that several people edit at once: a CRDT
//! ([`yrs`], the Rust port of Yjs) that every device merges alike from the same
//! updates, in whatever order and however often it receives them. Sans-IO: this
//! module turns edits into update bytes and update bytes into text; the engine seals,
//! signs, stores and sends them as content records.
//!
//! ## The document
//! One root text named [`ROOT`], holding the note as Markdown source: headings, lists,
//! emphasis and links are its syntax, so Markdown export is the text itself and an
//! editor that binds a Yjs text (y-codemirror, y-prosemirror over a Markdown schema)
//! edits the same document. Offsets are UTF-16 code units, as in Yjs, JavaScript and
//! Kotlin; [`NoteDoc::replace_text`] takes a whole new text and finds the edits itself.
//!
//! ## Who wrote what
//! Every item in a Yjs document carries the id of the client that inserted it. Here a
//! client id is not chosen: it is derived from the device's MLS signature key, the
//! space and the note ([`client_id`]), and a receiver refuses an update that inserts
//! anything under another client's id ([`NoteDoc::apply_remote`]). So an author cannot
//! make their text pass for someone else's, nor collide with another device's items
//! to make devices diverge. Deleting is not bound that way: a contributor may delete
//! anyone's text in a shared note, as in any shared document (the space's roles decide
//! who may edit at all, before an update reaches this module).
//!
//! ## What is refused
//! Bytes that do not decode, updates over [`MAX_UPDATE_LEN`] and updates inserting
//! under another client's id are refused before anything is merged. So is an update
//! that would leave anything waiting inside the document (it builds on or deletes
//! what this device has not merged: in the relay's order an honest update never
//! does), that puts anything other than text into the note or another root beside it
//! (which would not show, but would shift every offset), or after which the note
//! would pass [`MAX_NOTE_UNITS`], or that types a block between two characters named
//! out of the text's order (yrs would place it by how each device's blocks happen to
//! be split, and devices would diverge), or more than [`MAX_TYPED_BETWEEN`] blocks.
//! What it builds on, the length and the order are decided before the note is touched:
//! from the update's bytes and the document as it is, when the update builds on what
//! the document holds, as honest updates do; else on a copy first. So such a
//! refusal leaves the document, and this device's undo history in it, as they were.
//! One check is made once merged: that nothing a block's author knew lies between its
//! two origins (`NoteDoc::check_gaps`). A block refused by it, a merge that yrs fails
//! part of the way, or a panic leaves the document broken ([`NoteDoc::is_intact`]); the
//! engine then drops it with the rest of the refused record's step (and this device's
//! undo history with it), so nothing half-applied is ever stored.

use std::panic::{AssertUnwindSafe, catch_unwind};

use sha2::{Digest, Sha256};
use yrs::updates::decoder::Decode;
use yrs::{ClientID, Doc, GetString, Observable, OffsetKind, Options, ReadTxn, StateVector, Text, Transact, Update};

/// The name of the root text that holds a note.
pub const ROOT: &str = "text";

/// The most bytes of one update (a batch of edits): it travels in one content record.
pub const MAX_UPDATE_LEN: usize = 96 * 1024;

/// The most UTF-16 code units of a note's text: about a 150-page document.
pub const MAX_NOTE_UNITS: u32 = 1 << 20;

/// What one edit adds to an update besides the text it inserts, at most (its item's
/// id, origins and lengths, or its range in the delete set), for [`batches`].
pub const EDIT_OVERHEAD: usize = 48;

/// The most blocks one update may hold: each costs a receiver a walk over what lies
/// between its two origins once merged (at most the note), and a pair of origins that
/// nothing merged already orders costs two walks more, about 0.8 ms in a note of a
/// million units spread over 20,000 items. An edit inserts one block at most, and a
/// batch of edits is cut at this many ([`batches`]).
pub const MAX_TYPED_BETWEEN: usize = 64;

/// What a character's author must have known when typing it: per client, the clocks
/// below which every character is known (a state vector), sorted by client.
type Known = Vec<(u64, u64)>;

/// The clocks of `client` below which `known` holds every character.
fn known_of(known: &Known, client: u64) -> u64 {
    known.binary_search_by_key(&client, |&(c, _)| c).map_or(0, |at| known[at].1)
}

/// Raises `known` to hold `client`'s characters below `clock`.
fn raise(known: &mut Known, client: u64, clock: u64) {
    match known.binary_search_by_key(&client, |&(c, _)| c) {
        Ok(at) => known[at].1 = known[at].1.max(clock),
        Err(at) => known.insert(at, (client, clock)),
    }
}

/// The most updates merged as one ([`NoteDoc::apply_remote_together`]): as many as a
/// device keeps waiting in a note.
pub const MAX_TOGETHER: usize = 64;

/// The most updates merged together among which [`NoteDoc::refused_together`] looks
/// for one that breaks the note, each try on a copy of it; past that, all are dropped.
pub const MAX_CULPRIT_TRIES: usize = 16;

/// `update` decoded, if every item it inserts (deleted since or not: yrs's `GC`
/// blocks) is under `author`'s id.
fn only_by(update: &[u8], author: u64) -> Result<Update, NoteRefusal> {
    match catch_unwind(|| Update::decode_v1(update)) {
        Ok(Ok(decoded)) => {
            // The clients of an update's lower state vector are the clients it has
            // blocks for, other than skips.
            let author = ClientID::new(author);
            if decoded.state_vector_lower().iter().any(|(client, _)| *client != author) {
                return Err(NoteRefusal::ForeignClient);
            }
            Ok(decoded)
        }
        _ => Err(NoteRefusal::Malformed),
    }
}

/// What [`NoteDoc::apply_remote_together`] merged.
#[derive(Debug)]
pub struct MergedTogether {
    /// What changed in the text, if asked (empty if not).
    pub edits: Vec<TextEdit>,
    /// The updates merged into one, however large: kept in the store beside the note,
    /// which never sends it.
    pub update: Vec<u8>,
}

/// Merges a run of this device's own updates of a note into one (a compaction: the
/// same characters and deletions, in as few blocks as yrs can write them), if it is
/// one every receiver takes: at most [`MAX_UPDATE_LEN`] bytes and
/// [`MAX_TYPED_BETWEEN`] blocks. `None` if not (a shorter run may be).
///
/// # Errors
/// [`NoteRefusal::Malformed`] for bytes that are not updates.
pub fn compact_updates(updates: &[&[u8]]) -> Result<Option<Vec<u8>>, NoteRefusal> {
    let merged = match catch_unwind(|| yrs::merge_updates_v1(updates.iter().copied())) {
        Ok(Ok(merged)) => merged,
        _ => return Err(NoteRefusal::Malformed),
    };
    if merged.len() > MAX_UPDATE_LEN {
        return Ok(None);
    }
    // Counted as a receiver counts them; a run with a hole in its clocks (an update
    // of it missing) would be written with a skip, which every receiver refuses.
    let mut blocks = 0usize;
    let mut whole = true;
    read_structs(
        &mut Lib0(&merged),
        |_, _, _| Ok(()),
        |raw| {
            blocks += 1;
            whole &= matches!(raw.content, RawContent::Text { .. } | RawContent::Deleted);
            Ok(())
        },
    )?;
    Ok((whole && blocks <= MAX_TYPED_BETWEEN).then_some(merged))
}

/// Yjs client ids are 53-bit (JavaScript's safe integers).
const CLIENT_ID_MASK: u64 = (1 << 53) - 1;

/// Why a note update was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NoteRefusal {
    /// Not an update (does not decode), or one yrs refuses to integrate.
    #[error("not a note update")]
    Malformed,
    /// It inserts text under a client id that is not its author's.
    #[error("a note update inserts text under another device's id")]
    ForeignClient,
    /// Larger than [`MAX_UPDATE_LEN`].
    #[error("a note update is too large")]
    TooLarge,
    /// The note would be longer than [`MAX_NOTE_UNITS`].
    #[error("a note would be too long")]
    NoteTooLong,
    /// It builds on, or deletes, what this device has not merged: a device merges
    /// updates in the relay's order, in which an honest update always comes after
    /// what it builds on, so nothing is ever left waiting inside a document.
    #[error("a note update builds on what this device does not have")]
    Missing,
    /// It holds something other than text in the note's one root text, or another
    /// root: content that would not show but would shift every offset.
    #[error("a note update holds something other than text")]
    NotText,
}

/// The Yjs client id of a device in a note: the first 53 bits of
/// `SHA-256("huisclos/1 note-client" || group || note || device MLS key)`, 2^53 - 1
/// kept back.
pub fn client_id(group: &[u8; 16], note: &[u8; 16], device_mls_key: &[u8]) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"huisclos/1 note-client")
        .chain_update(group)
        .chain_update(note)
        .chain_update(device_mls_key)
        .finalize();
    derived_client(&digest)
}

/// The client id under which a note's text from before it was a shared document (the
/// last whole text an older release wrote) becomes the document's first item: derived
/// from that text, so every device that starts from the same text makes the same
/// item, and two different texts never share an id.
fn base_client_id(group: &[u8; 16], note: &[u8; 16], text: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(b"huisclos/1 note-base")
        .chain_update(group)
        .chain_update(note)
        .chain_update(text.as_bytes())
        .finalize();
    derived_client(&digest)
}

fn new_doc(client: u64) -> Doc {
    let mut options = Options::with_client_id(ClientID::new(client));
    options.offset_kind = OffsetKind::Utf16;
    Doc::with_options(options)
}

/// A character's item id, `Malformed` past yrs's bounds (checked when read, see
/// [`UpdateShape::read`]).
fn char_id(client: u64, clock: u64) -> Result<yrs::ID, NoteRefusal> {
    if client > CLIENT_ID_MASK {
        return Err(NoteRefusal::Malformed);
    }
    let clock = u32::try_from(clock).map_err(|_| NoteRefusal::Malformed)?;
    Ok(yrs::ID::new(ClientID::new(client), clock))
}

/// A client id kept back (protocol-spec/client.md): no device derives it, and an update
/// naming it is refused, so that a device may add to a copy of a note a character no
/// peer can have written (yrs places one typed with no origins under the largest client
/// id after every item). Nothing adds one today.
const SENTINEL_CLIENT: u64 = CLIENT_ID_MASK;

/// A derived client id: the first 53 bits of a digest, [`SENTINEL_CLIENT`] kept back.
fn derived_client(digest: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let client = u64::from_be_bytes(first) & CLIENT_ID_MASK;
    if client == SENTINEL_CLIENT { SENTINEL_CLIENT - 1 } else { client }
}

/// One note's shared document, as one device holds it.
pub struct NoteDoc {
    doc: Doc,
    /// The note's one root text, taken once: taking it again opens and commits a write
    /// transaction each time, which cost as much as the checks of a merge.
    text: yrs::TextRef,
    /// This device's client id in the note.
    client: u64,
    /// False once a merge failed part of the way: the document is then dropped.
    intact: bool,
    /// Whether an update merged since this was last read said of characters held
    /// other than what is held ([`NoteDoc::take_contradicted`]).
    contradicted: bool,
    /// This device's own edits since the note was opened, to undo and redo: only
    /// transactions of [`LOCAL_ORIGIN`] are tracked, so others' edits are never undone
    /// here, and undoing one's own keeps what others wrote since.
    undo: yrs::UndoManager,
    /// What each character was typed between, as merged: where two origins are known
    /// to be in order without walking the note ([`NoteDoc::check_origins`]).
    typed: TypedIndex,
    /// Whether this device undid or redid an edit since the note was opened: yrs then
    /// links what it deleted to what restored it, and reads an offset through that link,
    /// which no other device has ([`NoteDoc::check_origins`]).
    restored: bool,
}

/// The origin of this device's own edits, which alone its undo tracks.
const LOCAL_ORIGIN: &str = "huisclos/1 local-edit";

/// Where an undo or redo's update is read from as it commits.
const UNDO_OBSERVER: &str = "huisclos/1 undo-update";

/// An undo manager for `doc`'s text that tracks this device's edits only, one step per
/// [`NoteDoc::edit`] (no time-based grouping: it reads no clock).
fn own_undo(doc: &Doc) -> yrs::UndoManager {
    let text = doc.get_or_insert_text(ROOT);
    let options = yrs::undo::Options { capture_timeout_millis: 0, ..yrs::undo::Options::default() };
    let mut manager = yrs::UndoManager::with_options(options);
    manager.expand_scope(doc, &text);
    manager.include_origin(LOCAL_ORIGIN);
    manager
}

impl std::fmt::Debug for NoteDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoteDoc").field("client", &self.client).finish_non_exhaustive()
    }
}

impl NoteDoc {
    /// An empty note, edited by `client` on this device.
    pub fn new(client: u64) -> Self {
        let doc = new_doc(client);
        let undo = own_undo(&doc);
        let text = doc.get_or_insert_text(ROOT);
        Self {
            doc,
            text,
            client,
            intact: true,
            contradicted: false,
            undo,
            typed: TypedIndex::default(),
            restored: false,
        }
    }

    /// A note whose text so far is `base` (written whole by an older release), as its
    /// first item under an id derived from that text: devices that start from the same
    /// text share the item, so it is not doubled when their edits meet.
    pub fn with_base(client: u64, group: &[u8; 16], note: &[u8; 16], base: &str) -> Self {
        let mut this = Self::new(client);
        if base.is_empty() {
            return this;
        }
        let seed = new_doc(base_client_id(group, note, base));
        let text = seed.get_or_insert_text(ROOT);
        let update = {
            let mut txn = seed.transact_mut();
            text.insert(&mut txn, 0, base);
            txn.encode_update_v1()
        };
        // Made here from a valid text: it integrates.
        if let Ok(decoded) = Update::decode_v1(&update)
            && this.doc.transact_mut().apply_update(decoded).is_ok()
        {
            this.typed.add(&update);
        }
        this
    }

    /// A note from its stored state ([`NoteDoc::state`]).
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] if the state does not decode or integrate.
    pub fn load(client: u64, state: &[u8]) -> Result<Self, NoteRefusal> {
        let mut this = Self::new(client);
        let outcome = catch_unwind(AssertUnwindSafe(|| -> Result<(), NoteRefusal> {
            let update = Update::decode_v1(state).map_err(|_| NoteRefusal::Malformed)?;
            this.doc.transact_mut().apply_update(update).map_err(|_| NoteRefusal::Malformed)
        }));
        match outcome {
            Ok(Ok(())) => {
                this.typed.add(state);
                Ok(this)
            }
            Ok(Err(refusal)) => Err(refusal),
            Err(_) => Err(NoteRefusal::Malformed),
        }
    }

    /// Merges an update this device stored after merging it once (so checked then).
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] if it does not decode or integrate (a damaged store).
    pub fn merge_stored(&mut self, update: &[u8]) -> Result<(), NoteRefusal> {
        let merged = catch_unwind(AssertUnwindSafe(|| -> Result<(), NoteRefusal> {
            let decoded = Update::decode_v1(update).map_err(|_| NoteRefusal::Malformed)?;
            self.doc.transact_mut().apply_update(decoded).map_err(|_| NoteRefusal::Malformed)
        }));
        match merged {
            Ok(Ok(())) => {
                self.typed.add(update);
                Ok(())
            }
            _ => {
                self.intact = false;
                Err(NoteRefusal::Malformed)
            }
        }
    }

    /// This device's client id in the note.
    pub fn client(&self) -> u64 {
        self.client
    }

    /// The note's text (Markdown).
    pub fn text(&self) -> String {
        let text = &self.text;
        text.get_string(&self.doc.transact())
    }

    /// The note's length in UTF-16 code units.
    pub fn len_utf16(&self) -> u32 {
        let text = &self.text;
        text.len(&self.doc.transact())
    }

    /// The whole state, to store and to send as a snapshot: loading it gives the same
    /// document.
    pub fn state(&self) -> Vec<u8> {
        self.doc.transact().encode_state_as_update_v1(&StateVector::default())
    }

    /// What this document holds, per client: to ask another device for what is missing.
    pub fn state_vector(&self) -> StateVector {
        self.doc.transact().state_vector()
    }

    /// Applies this device's edits, each `(at, delete, insert)` in UTF-16 code units of
    /// the text as the previous edit left it, and returns the update that carries them
    /// to other devices (`None` if nothing changed). Offsets past the end are clamped.
    ///
    /// # Errors
    /// [`NoteRefusal::NoteTooLong`]; [`NoteRefusal::TooLarge`] for more than
    /// [`MAX_TYPED_BETWEEN`] edits that insert (cut them with [`batches`]). Nothing is
    /// applied.
    pub fn edit(&mut self, edits: &[TextEdit]) -> Result<Option<Vec<u8>>, NoteRefusal> {
        if !self.intact {
            return Err(NoteRefusal::Malformed);
        }
        self.fits(edits)?;
        if edits.iter().filter(|edit| !edit.insert.is_empty()).count() > MAX_TYPED_BETWEEN {
            return Err(NoteRefusal::TooLarge);
        }
        let text = &self.text;
        let mut txn = self.doc.transact_mut_with(LOCAL_ORIGIN);
        for edit in edits {
            let len = text.len(&txn);
            let at = edit.at.min(len);
            let delete = edit.delete.min(len - at);
            if delete > 0 {
                text.remove_range(&mut txn, at, delete);
            }
            if !edit.insert.is_empty() {
                text.insert(&mut txn, at, &edit.insert);
            }
        }
        let update = txn.encode_update_v1();
        drop(txn);
        self.typed.add(&update);
        // Each call is one step of undo.
        self.undo.reset();
        Ok((update.as_slice() != Update::EMPTY_V1).then_some(update))
    }

    /// Undoes this device's last edit still undoable (since the note was opened here),
    /// whatever others wrote since, which stays; returns the update that carries the
    /// undoing to other devices, or `None` if there was nothing to undo.
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] for a broken document.
    pub fn undo(&mut self) -> Result<Option<Vec<u8>>, NoteRefusal> {
        self.undo_or_redo(true)
    }

    /// Redoes the last edit undone by [`NoteDoc::undo`], as [`NoteDoc::undo`] does.
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] for a broken document.
    pub fn redo(&mut self) -> Result<Option<Vec<u8>>, NoteRefusal> {
        self.undo_or_redo(false)
    }

    /// Whether there is an own edit to undo, and one to redo.
    pub fn can_undo_redo(&self) -> (bool, bool) {
        (self.undo.can_undo(), self.undo.can_redo())
    }

    fn undo_or_redo(&mut self, undo: bool) -> Result<Option<Vec<u8>>, NoteRefusal> {
        if !self.intact {
            return Err(NoteRefusal::Malformed);
        }
        let captured: std::sync::Arc<std::sync::Mutex<Vec<u8>>> = std::sync::Arc::default();
        let sink = captured.clone();
        self.doc
            .observe_update_v1(UNDO_OBSERVER, move |_, event| {
                if let Ok(mut captured) = sink.lock() {
                    captured.clone_from(&event.update);
                }
            })
            .map_err(|_| NoteRefusal::Malformed)?;
        let changed =
            catch_unwind(AssertUnwindSafe(|| if undo { self.undo.undo_blocking() } else { self.undo.redo_blocking() }));
        let _ = self.doc.unobserve_update_v1(UNDO_OBSERVER);
        match changed {
            Ok(true) => self.restored = true,
            Ok(false) => return Ok(None),
            Err(_) => {
                self.intact = false;
                return Err(NoteRefusal::Malformed);
            }
        }
        let update = captured.lock().map(|mut update| std::mem::take(&mut *update)).unwrap_or_default();
        // Undoing the deletion of text typed in many pieces types them all again: past
        // what others take in one update, it is not sent, and the note, which holds it
        // already, must be read again.
        let mut typed_blocks = 0usize;
        let _ = read_blocks(&update, |_, _, _, _, _| typed_blocks += 1);
        if typed_blocks > MAX_TYPED_BETWEEN {
            self.intact = false;
            return Err(NoteRefusal::TooLarge);
        }
        self.typed.add(&update);
        Ok((!update.is_empty() && update.as_slice() != Update::EMPTY_V1).then_some(update))
    }

    /// Whether the note stays within [`MAX_NOTE_UNITS`] after `edits`, counting what
    /// they insert and none of what they delete (deletions are clamped to the text when
    /// applied), so that the bound is never underestimated.
    ///
    /// # Errors
    /// [`NoteRefusal::NoteTooLong`].
    pub fn fits(&self, edits: &[TextEdit]) -> Result<(), NoteRefusal> {
        let inserted: u64 = edits.iter().map(|edit| u64::from(utf16_len(&edit.insert))).sum();
        if u64::from(self.len_utf16()) + inserted > u64::from(MAX_NOTE_UNITS) {
            return Err(NoteRefusal::NoteTooLong);
        }
        Ok(())
    }

    /// Replaces the whole text with `new`, as the edits that turn the current text into
    /// it (a character diff), so that what others typed meanwhile in the parts left
    /// alone is kept. Returns the update, or `None` if the text is the same.
    ///
    /// # Errors
    /// [`NoteRefusal::NoteTooLong`] (nothing is applied).
    pub fn replace_text(&mut self, new: &str) -> Result<Option<Vec<u8>>, NoteRefusal> {
        let old = self.text();
        if old == new {
            return Ok(None);
        }
        let edits = diff_edits(&old, new);
        self.edit(&edits)
    }

    /// Merges an update written by the device whose client id is `author`, and returns
    /// whether it brought anything new (text or deletions).
    ///
    /// Checked before anything is merged, so that a refusal changes nothing: the size,
    /// the decoding, that every item it inserts carries `author`'s id and is text,
    /// and what it builds on and the length it may bring the note to (when that
    /// cannot be shown from its bytes, a trial merge into a copy decides). An honest update read in order is not copied, so
    /// merging it costs what yrs's own merge costs. If yrs then fails to integrate it
    /// (or panics), the document is left broken ([`NoteDoc::is_intact`] is false, and
    /// it refuses edits): drop it and load the stored state again, as the engine does
    /// with everything of a refused record.
    ///
    /// # Errors
    /// A [`NoteRefusal`].
    pub fn apply_remote(&mut self, update: &[u8], author: u64) -> Result<bool, NoteRefusal> {
        self.merge_remote(update, author, false).map(|merged| merged.is_some())
    }

    /// As [`NoteDoc::apply_remote`], and returns what the merge changed in the text:
    /// edits in UTF-16 units, each at its offset in the text the previous one left,
    /// starting from the text as it was just before (empty if nothing visible changed,
    /// as when this device's own update comes back). Reading the delta walks the text
    /// (yrs's `TextEvent::delta`), so it costs about a pass over the note: for a note
    /// an editor shows, not for every merge.
    ///
    /// # Errors
    /// As [`NoteDoc::apply_remote`].
    pub fn apply_remote_with_delta(&mut self, update: &[u8], author: u64) -> Result<Vec<TextEdit>, NoteRefusal> {
        self.merge_remote(update, author, true).map(Option::unwrap_or_default)
    }

    /// Merges several updates at once, each from its author, as one: for updates that
    /// each build on another's characters (two authors' compactions, each holding
    /// characters typed after the other's: in any order, the first is
    /// [`NoteRefusal::Missing`] alone). Each is checked as [`NoteDoc::apply_remote`]
    /// checks one from its bytes (its size, and that it inserts under its author's id
    /// only); then the whole as one update of as many blocks as they may hold together.
    /// Returns what changed in the text if `delta` is asked, as
    /// [`NoteDoc::apply_remote_with_delta`], and the updates merged into one (what to
    /// keep beside the note: they are merged once, not again to be stored).
    ///
    /// # Errors
    /// A [`NoteRefusal`]: [`NoteRefusal::Missing`] if, together, they still build on
    /// what this device has not merged.
    pub fn apply_remote_together(
        &mut self,
        updates: &[(&[u8], u64)],
        delta: bool,
    ) -> Result<MergedTogether, NoteRefusal> {
        if updates.len() > MAX_TOGETHER {
            return Err(NoteRefusal::TooLarge);
        }
        for (update, author) in updates {
            if update.len() > MAX_UPDATE_LEN {
                return Err(NoteRefusal::TooLarge);
            }
            only_by(update, *author)?;
        }
        let merged = match catch_unwind(|| yrs::merge_updates_v1(updates.iter().map(|(update, _)| *update))) {
            Ok(Ok(merged)) => merged,
            _ => return Err(NoteRefusal::Malformed),
        };
        let edits = self.merge_checked(&merged, None, MAX_TYPED_BETWEEN * updates.len(), delta)?.unwrap_or_default();
        Ok(MergedTogether { edits, update: merged })
    }

    /// A copy of this document (its state loaded again), without this device's undo
    /// history; `None` if it is broken.
    pub fn copy(&self) -> Option<Self> {
        if !self.intact {
            return None;
        }
        Self::load(self.client, &self.state()).ok()
    }

    /// Which of `together` (each from its author) to drop, if merging them all would
    /// leave this document broken (refused once merged), or is refused for anything
    /// but what they lack, tried on copies: the one
    /// without which the rest merge; all of them if no single one is found so, or if
    /// there are more than [`MAX_CULPRIT_TRIES`] (each try costs a copy of the note).
    /// `None` if they merge, or wait. This document is left as it is.
    pub fn refused_together(&self, together: &[(&[u8], u64)]) -> Option<Vec<usize>> {
        let state = self.state();
        // Whether they merge; if not, whether for good: refused once merged, or for
        // anything but what they still lack (which waiting may bring).
        let merge = |updates: &[(&[u8], u64)]| -> Option<Result<(), bool>> {
            let mut copy = Self::load(self.client, &state).ok()?;
            Some(
                copy.apply_remote_together(updates, false)
                    .map(drop)
                    .map_err(|refusal| !copy.is_intact() || refusal != NoteRefusal::Missing),
            )
        };
        if !matches!(merge(together), Some(Err(true))) {
            return None;
        }
        let all: Vec<usize> = (0..together.len()).collect();
        if together.len() > MAX_CULPRIT_TRIES {
            return Some(all);
        }
        let without = |skip: usize| -> Vec<(&[u8], u64)> {
            together.iter().enumerate().filter(|(at, _)| *at != skip).map(|(_, update)| *update).collect()
        };
        Some(
            (0..together.len())
                .find(|&skip| matches!(merge(&without(skip)), Some(Ok(()))))
                .map_or(all, |culprit| vec![culprit]),
        )
    }

    /// Whether `update` may merge alone now, as far as its bytes tell: false if it
    /// builds on or deletes what this document does not hold (merging it would be
    /// refused [`NoteRefusal::Missing`]), known without a trial on a copy. True for
    /// anything else, which merging then decides.
    pub fn may_merge_alone(&self, update: &[u8]) -> bool {
        match UpdateShape::read(update, &self.state_vector(), usize::MAX) {
            Ok(shape) => shape.builds_on_held,
            Err(NoteRefusal::Missing) => false,
            Err(_) => true,
        }
    }

    /// Which of `updates` (each from its author) would be merged whole, merged
    /// together with the others into what this document holds: the ones to merge
    /// with [`NoteDoc::apply_remote_together`], leaving out any that builds on, or
    /// deletes, what none of them holds, or that yrs fails to read (any of which would
    /// keep the rest waiting with it). Read on a copy: this document is left as it is.
    pub fn mergeable_together(&self, updates: &[(&[u8], u64)]) -> Vec<usize> {
        let state = self.state();
        let updates = &updates[..updates.len().min(MAX_TOGETHER)];
        // What yrs would refuse to read, or read otherwise than it looks, is left out
        // before yrs sees it, as it is from any update merged.
        let mut left_out: Vec<bool> = updates.iter().map(|(update, _)| well_formed(update).is_err()).collect();
        // yrs failing part of the way through one leaves the copy half-merged: that one
        // is left out and the others merged again into a new copy (at most once each).
        let (copy, read) = loop {
            let Ok(copy) = Self::load(self.client, &state) else { return Vec::new() };
            let mut read = vec![false; updates.len()];
            let mut failed = None;
            for (at, (update, _)) in updates.iter().enumerate() {
                if left_out[at] {
                    continue;
                }
                let Ok(Ok(decoded)) = catch_unwind(|| Update::decode_v1(update)) else { continue };
                match catch_unwind(AssertUnwindSafe(|| copy.doc.transact_mut().apply_update(decoded).is_ok())) {
                    Ok(applied) => read[at] = applied,
                    Err(_) => {
                        failed = Some(at);
                        break;
                    }
                }
            }
            match failed {
                Some(at) => left_out[at] = true,
                None => break (copy, read),
            }
        };
        let held = copy.state_vector();
        (0..read.len())
            .filter(|&at| {
                let update = updates[at].0;
                let mut whole = read[at];
                let blocks = read_blocks(update, |client, clock, len, _, _| {
                    whole &= clock + len <= u64::from(held.get(&ClientID::new(client)));
                });
                // Every origin and deleted range held once all are merged.
                let builds = UpdateShape::read(update, &held, usize::MAX).is_ok_and(|shape| shape.builds_on_held);
                blocks.is_ok() && whole && builds
            })
            .collect()
    }

    /// Merges; `Some` if it brought anything new, with the delta if `delta` is asked
    /// (else empty).
    fn merge_remote(&mut self, update: &[u8], author: u64, delta: bool) -> Result<Option<Vec<TextEdit>>, NoteRefusal> {
        if update.len() > MAX_UPDATE_LEN {
            return Err(NoteRefusal::TooLarge);
        }
        self.merge_checked(update, Some(author), MAX_TYPED_BETWEEN, delta)
    }

    /// Merges `update`, inserting under `author`'s id only (`None`: its parts' authors
    /// were checked), holding at most `max_blocks` blocks.
    fn merge_checked(
        &mut self,
        update: &[u8],
        author: Option<u64>,
        max_blocks: usize,
        delta: bool,
    ) -> Result<Option<Vec<TextEdit>>, NoteRefusal> {
        if !self.intact {
            return Err(NoteRefusal::Malformed);
        }
        let held = self.state_vector();
        let checked = catch_unwind(AssertUnwindSafe(|| -> Result<(Update, UpdateShape), NoteRefusal> {
            let decoded = match author {
                Some(author) => only_by(update, author)?,
                None => Update::decode_v1(update).map_err(|_| NoteRefusal::Malformed)?,
            };
            let shape = UpdateShape::read(update, &held, max_blocks)?;
            Ok((decoded, shape))
        }));
        let (decoded, shape) = match checked {
            Ok(result) => result?,
            Err(_) => return Err(NoteRefusal::Malformed),
        };
        let agrees = self.held_as_sent(&shape.held_already);
        // What can only be known once merged (what it builds on, the note's length)
        // is known beforehand for every update that builds on what this device has,
        // as an honest one in the relay's order always does. For any other, a trial on
        // a copy decides, so that a refusal leaves this document, and this device's
        // undo history in it, as they were.
        if shape.merges_cleanly(self.len_utf16()) {
            self.check_origins(&shape.origins)?;
        } else if shape.builds_on_held && !delta && self.can_undo_redo() == (false, false) {
            // Nothing of this device's would be lost with the note (no undo history:
            // a note read from others, as a device that joins later reads compactions),
            // and nothing it lacks is named: merged here, checked as on a copy.
            self.merge_in_place(update, &shape)?;
        } else {
            self.trial_merge(update, &shape)?;
        }
        let new = !decoded.delete_set().is_empty() || decoded.extends(&held);
        // What the merge changes in the text, as yrs reports it when the transaction
        // commits: the remote delta an editor applies without reading the text again.
        let seen: std::sync::Arc<std::sync::Mutex<Vec<TextEdit>>> = std::sync::Arc::default();
        let observed = delta.then(|| self.text.clone());
        if let Some(text) = &observed {
            let sink = seen.clone();
            text.observe(DELTA_OBSERVER, move |txn, event| {
                if let Ok(mut seen) = sink.lock() {
                    seen.extend(delta_edits(event.delta(txn)));
                }
            });
        }
        let applied = catch_unwind(AssertUnwindSafe(|| {
            self.doc.transact_mut().apply_update(decoded).map_err(|_| NoteRefusal::Malformed)
        }));
        if let Some(text) = &observed {
            text.unobserve(DELTA_OBSERVER);
        }
        let outcome = match applied {
            Ok(result) => result,
            Err(_) => Err(NoteRefusal::Malformed),
        };
        let outcome = outcome.and_then(|()| self.check_merged());
        if let Err(refusal) = outcome {
            self.intact = false;
            return Err(refusal);
        }
        self.contradicted |= !agrees;
        self.typed.add_blocks(shape.blocks.clone());
        // Found only once merged, so the note is dropped and read again from the store.
        if let Err(refusal) = self.check_gaps(&shape.blocks) {
            self.intact = false;
            return Err(refusal);
        }
        let edits = seen.lock().map(|mut seen| std::mem::take(&mut *seen)).unwrap_or_default();
        Ok((new || !edits.is_empty()).then_some(edits))
    }

    /// Whether what an update says of characters this document holds already is what
    /// it holds: the same text, typed after and before the same characters. yrs skips
    /// what it holds, so a second, different version of the same characters (a
    /// member's modified client that has the relay forget its update and sends another
    /// under the same ids, as a compaction) is not merged here, while a device that
    /// reads only the second shows it: the two differ for good. Such an update is
    /// merged all the same (its new characters are everyone's, and refusing them here
    /// alone would set this device apart for good, with everything built on them), and
    /// reported ([`NoteDoc::take_contradicted`]). Text is compared where the held
    /// character is shown (a deleted one's is dropped on some devices, not others); a
    /// unit held as U+FFFD (half of a surrogate pair an update cut) matches a surrogate,
    /// and one sent as U+FFFD a held surrogate.
    fn held_as_sent(&self, blocks: &[HeldBlock]) -> bool {
        if blocks.is_empty() {
            return true;
        }
        let is_surrogate = |unit: u16| (0xd800..0xe000).contains(&unit);
        let same_unit = |sent: u16, held: u16| {
            sent == held || (held == 0xfffd && is_surrogate(sent)) || (sent == 0xfffd && is_surrogate(held))
        };
        let id = |(client, clock): CharId| yrs::ID::new(ClientID::new(client), clock as u32);
        let txn = self.doc.transact();
        // Each held item's text in UTF-16 units, encoded once however many blocks of an
        // update fall in it.
        let mut items: std::collections::HashMap<(u64, u32), Vec<u16>> = std::collections::HashMap::new();
        for block in blocks {
            let (Ok(clock), Ok(held)) = (u32::try_from(block.clock), u32::try_from(block.held)) else {
                return false;
            };
            let mut agrees = true;
            yrs::item_walk::held_runs(&txn, ClientID::new(block.client), clock, held, |run| {
                if run.collected {
                    return true;
                }
                let at = u64::from(run.id.clock) - block.clock;
                // What the run's first character was typed after, as the block says it.
                let origin = if at == 0 { block.origin } else { Some((block.client, block.clock + at - 1)) };
                agrees = run.origin == origin.map(id) && run.right_origin == block.right_origin.map(id);
                if let (Some(text), Some(units), false) = (run.text, &block.units, run.deleted) {
                    let item = (block.client, run.id.clock - run.offset);
                    let kept = items.entry(item).or_insert_with(|| text.encode_utf16().collect());
                    let kept = kept.get(run.offset as usize..(run.offset + run.len) as usize);
                    let sent = units.get(at as usize..at as usize + run.len as usize);
                    agrees &= match (sent, kept) {
                        (Some(sent), Some(kept)) => sent.iter().zip(kept).all(|(s, k)| same_unit(*s, *k)),
                        _ => false,
                    };
                }
                agrees
            });
            if !agrees {
                return false;
            }
        }
        true
    }

    /// Whether an update merged since the last call said of characters this document
    /// held other than what it held (other text, or typed elsewhere: a second version of
    /// its author's text, which only devices that never held the first show).
    pub fn take_contradicted(&mut self) -> bool {
        std::mem::take(&mut self.contradicted)
    }

    /// Whether `update` would be merged without a trial on a copy
    /// ([`NoteRefusal`] if it is refused from its bytes, before either).
    #[cfg(test)]
    pub(crate) fn precheck(&self, update: &[u8]) -> Result<bool, NoteRefusal> {
        UpdateShape::read(update, &self.state_vector(), MAX_TYPED_BETWEEN)
            .map(|shape| shape.merges_cleanly(self.len_utf16()))
    }

    /// Merges `update` into a copy of this document and checks the outcome as a merge
    /// here would be checked; this document is left as it is.
    ///
    /// # Errors
    /// The refusal the merge here would end in.
    ///
    /// Two origins are read where yrs places the block between them: before the update
    /// deletes anything (an update could otherwise delete the text between two crossed
    /// origins and have them read alike). Both held: in this document; else on the
    /// copy, merged with the update's blocks and not yet its deletions.
    fn trial_merge(&self, update: &[u8], shape: &UpdateShape) -> Result<(), NoteRefusal> {
        let (held, new): (Vec<TypedBetween>, Vec<TypedBetween>) = shape.origins.iter().partition(|pair| pair.held);
        self.check_origins(&held)?;
        let copy = Self::load(self.client, &self.state())?;
        let apply = |bytes: &[u8]| match catch_unwind(AssertUnwindSafe(|| -> Result<(), NoteRefusal> {
            let decoded = Update::decode_v1(bytes).map_err(|_| NoteRefusal::Malformed)?;
            copy.doc.transact_mut().apply_update(decoded).map_err(|_| NoteRefusal::Malformed)
        })) {
            Ok(result) => result,
            Err(_) => Err(NoteRefusal::Malformed),
        };
        if !new.is_empty() {
            apply(&without_deletions(update)?)?;
            copy.check_origins(&new)?;
        }
        apply(update)?;
        copy.check_merged()
    }

    /// As [`NoteDoc::trial_merge`], on this document: a refusal once anything is merged
    /// leaves it broken ([`NoteDoc::is_intact`]), to be read again from the store. The
    /// same checks, in the same order, so every device decides alike; a copy of the
    /// whole note per update is what it saves.
    fn merge_in_place(&mut self, update: &[u8], shape: &UpdateShape) -> Result<(), NoteRefusal> {
        let (held, new): (Vec<TypedBetween>, Vec<TypedBetween>) = shape.origins.iter().partition(|pair| pair.held);
        self.check_origins(&held)?;
        let merged = (|| {
            if !new.is_empty() {
                self.apply_bytes(&without_deletions(update)?)?;
                self.check_origins(&new)?;
            }
            self.apply_bytes(update)?;
            self.check_merged()
        })();
        if merged.is_err() {
            self.intact = false;
        }
        merged
    }

    /// Merges update bytes into the document, with no check.
    fn apply_bytes(&self, bytes: &[u8]) -> Result<(), NoteRefusal> {
        match catch_unwind(AssertUnwindSafe(|| -> Result<(), NoteRefusal> {
            let decoded = Update::decode_v1(bytes).map_err(|_| NoteRefusal::Malformed)?;
            self.doc.transact_mut().apply_update(decoded).map_err(|_| NoteRefusal::Malformed)
        })) {
            Ok(result) => result,
            Err(_) => Err(NoteRefusal::Malformed),
        }
    }

    /// What must hold after every merge, whatever the order: nothing waiting (see
    /// [`NoteRefusal::Missing`]), one root, only text in it, and the length bound.
    fn check_merged(&self) -> Result<(), NoteRefusal> {
        let txn = self.doc.transact();
        let store = txn.store();
        if store.pending_update().is_some() || store.pending_ds().is_some() {
            return Err(NoteRefusal::Missing);
        }
        if txn.root_refs().count() != 1 {
            return Err(NoteRefusal::NotText);
        }
        drop(txn);
        if self.len_utf16() > MAX_NOTE_UNITS {
            return Err(NoteRefusal::NoteTooLong);
        }
        Ok(())
    }

    /// Every `(origin, right origin)` pair in order: the first on the left of the
    /// second.
    ///
    /// A character is typed between two others, its origin and its right origin, and
    /// Yjs places it between them, after any typed there concurrently. A modified
    /// client can name a right origin on the left of the origin (or the origin itself):
    /// yrs then looks for it past the end, and where the character lands (even on the
    /// left of its origin) depends on how the receiving document's blocks happen to be
    /// split, which differs from device to device and between a note merged live and
    /// the same note loaded from its state. Devices would diverge for good.
    ///
    /// Told by offsets in the text: the origin's offset just after it (one past its own
    /// for a character shown; that of the next character shown for a deleted one) is at
    /// most the right origin's. Two characters in one run of deleted text share an
    /// offset: their order is read from the note's items ([`NoteDoc::in_item_order`]). Each
    /// offset costs a walk over the note's blocks on its left: an honest update names a
    /// few pairs.
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] for a pair out of order; [`NoteRefusal::Missing`] for
    /// a character not held.
    fn check_origins(&self, origins: &[TypedBetween]) -> Result<(), NoteRefusal> {
        let mut unknown = Vec::new();
        for pair in origins {
            // Known in order, or known to be crossed (the index holds only what is
            // true, so never both); else walked.
            if self.typed.in_order(pair.origin, pair.right_origin) {
                continue;
            }
            if self.typed.in_order(pair.right_origin, pair.origin) {
                return Err(NoteRefusal::Malformed);
            }
            unknown.push(*pair);
        }
        if unknown.is_empty() {
            return Ok(());
        }
        // Offsets as every device reads them: not through the links this device's own
        // undo made (a copy from the state has none).
        if self.restored {
            return Self::load(self.client, &self.state())?.walk_origins(&unknown);
        }
        self.walk_origins(&unknown)
    }

    /// [`NoteDoc::check_origins`] by offsets, walking the note for each pair; two
    /// deleted characters read alike (in one run of deleted text) by the order of the
    /// note's items ([`NoteDoc::in_item_order`]).
    fn walk_origins(&self, origins: &[TypedBetween]) -> Result<(), NoteRefusal> {
        use yrs::{Assoc, StickyIndex};
        let txn = self.doc.transact();
        let offset = |(client, clock): CharId, assoc| {
            StickyIndex::from_id(char_id(client, clock)?, assoc)
                .get_offset(&txn)
                .map(|offset| offset.index)
                .ok_or(NoteRefusal::Missing)
        };
        let walked = catch_unwind(AssertUnwindSafe(|| {
            let mut alike = Vec::new();
            for pair in origins {
                let (after_origin, right_at) =
                    (offset(pair.origin, Assoc::Before)?, offset(pair.right_origin, Assoc::After)?);
                if after_origin > right_at {
                    return Err(NoteRefusal::Malformed);
                }
                // Equal: in order when either is shown (a character shown has two
                // offsets, before and after it); both deleted, read by item order.
                if after_origin == right_at
                    && offset(pair.origin, Assoc::After)? == after_origin
                    && offset(pair.right_origin, Assoc::Before)? == right_at
                {
                    alike.push(*pair);
                }
            }
            Ok(alike)
        }));
        let alike = walked.unwrap_or(Err(NoteRefusal::Malformed))?;
        drop(txn);
        self.in_item_order(&alike)
    }

    /// That for each pair the right origin comes after the origin in the note's item
    /// list, deleted items included: the order offsets cannot give for two deleted
    /// characters with no character shown between them. Read by walking the items from
    /// the origin until the right origin (at most the note).
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] for a pair out of order.
    fn in_item_order(&self, pairs: &[TypedBetween]) -> Result<(), NoteRefusal> {
        let txn = self.doc.transact();
        for pair in pairs {
            let (origin, right_origin) =
                (char_id(pair.origin.0, pair.origin.1)?, char_id(pair.right_origin.0, pair.right_origin.1)?);
            let found = catch_unwind(AssertUnwindSafe(|| {
                yrs::item_walk::walk_between(&txn, ROOT, Some(&origin), Some(&right_origin), |_| true)
            }));
            if !found.unwrap_or(false) {
                return Err(NoteRefusal::Malformed);
            }
        }
        Ok(())
    }

    /// That nothing a block's author knew lies between the two characters it was typed
    /// between (its origin and right origin; without one, the start or the end of the
    /// text), read in the note just merged.
    ///
    /// Yjs places a block correctly, whatever the order blocks are merged in, only if its
    /// two origins were side by side when it was typed. Then whatever lies between them
    /// on a receiving device was typed there concurrently, unknown to the author. A
    /// block whose origins are in order but were never side by side (a modified client
    /// names two characters with others between them that it had seen) is placed by the
    /// order of merging: the note merged live and the same note loaded from its state
    /// then differ, and devices diverge for good. What its author knew is what the
    /// block reaches through its origins and its own client's earlier characters
    /// ([`TypedIndex::known_before`]); a character between its origins that it knew is
    /// refused. The block's own characters, and later ones of its client, lie between
    /// them too, and are not known to it.
    ///
    /// Each block costs a walk over what lies between its origins, at most the note:
    /// [`MAX_TYPED_BETWEEN`] blocks an update.
    ///
    /// # Errors
    /// [`NoteRefusal::Malformed`] for a block over characters its author knew, or
    /// between origins not read in order.
    fn check_gaps(&mut self, blocks: &[(u64, TypedBlock)]) -> Result<(), NoteRefusal> {
        for &(client, TypedBlock { start, origin, right_origin, .. }) in blocks {
            let from = origin.map(|(c, k)| char_id(c, k)).transpose()?;
            let to = right_origin.map(|(c, k)| char_id(c, k)).transpose()?;
            let mut between: Vec<CharId> = Vec::new();
            let txn = self.doc.transact();
            // Read whole: a bound on what is read would depend on this device's items
            // (its own not yet sent, how its blocks happen to be split), and devices
            // would decide differently. An update has at most MAX_TYPED_BETWEEN blocks.
            let read = catch_unwind(AssertUnwindSafe(|| {
                yrs::item_walk::walk_between(&txn, ROOT, from.as_ref(), to.as_ref(), |run| {
                    let (run_client, run_clock) = (run.id.client.get(), u64::from(run.id.clock));
                    if !(run_client == client && run_clock >= start) {
                        between.push((run_client, run_clock));
                    }
                    true
                })
            }));
            drop(txn);
            if !read.unwrap_or(false) {
                return Err(NoteRefusal::Malformed);
            }
            if between.is_empty() {
                continue;
            }
            let known = self.typed.known_before(client, start, origin, right_origin);
            if between.iter().any(|&(run_client, run_clock)| run_clock < known_of(&known, run_client)) {
                return Err(NoteRefusal::Malformed);
            }
        }
        Ok(())
    }

    /// Whether the document is whole: false after yrs failed to merge an update part of
    /// the way ([`NoteDoc::apply_remote`]).
    pub fn is_intact(&self) -> bool {
        self.intact
    }

    /// A position in the text that follows it through others' edits: the place before
    /// the character at `offset` (UTF-16 units), named by that character's item id.
    /// At or past the end, [`NoteAnchor::End`].
    pub fn anchor_at(&self, offset: u32) -> NoteAnchor {
        let text = &self.text;
        let txn = self.doc.transact();
        if offset >= text.len(&txn) {
            return NoteAnchor::End;
        }
        match yrs::IndexedSequence::sticky_index(text, &txn, offset, yrs::Assoc::After)
            .as_ref()
            .and_then(yrs::StickyIndex::id)
        {
            Some(id) => NoteAnchor::Before { client: id.client.get(), clock: id.clock },
            None => NoteAnchor::End,
        }
    }

    /// Where an anchor is now, in UTF-16 units; `None` if it names a character this
    /// device has not merged (yet).
    pub fn offset_of(&self, anchor: &NoteAnchor) -> Option<u32> {
        // The root is taken before the read transaction: taking it inside would wait
        // for a write lock the read holds.
        let text = &self.text;
        let txn = self.doc.transact();
        match anchor {
            NoteAnchor::End => Some(text.len(&txn)),
            NoteAnchor::Before { client, clock } => {
                if *client > CLIENT_ID_MASK {
                    return None;
                }
                let id = yrs::ID::new(ClientID::new(*client), *clock);
                // Only items of the note's one text: an id elsewhere (there is nowhere
                // else in a checked note) is not a position in it.
                let offset = catch_unwind(AssertUnwindSafe(|| {
                    yrs::StickyIndex::from_id(id, yrs::Assoc::After).get_offset(&txn)
                }))
                .ok()
                .flatten()?;
                Some(offset.index)
            }
        }
    }
}

/// A position in a note's text that others' edits do not move: before a character,
/// named by its item id (its author's client id and clock), or at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoteAnchor {
    /// Before the character with this id (wherever it is now; at its place if deleted).
    Before {
        /// The client id of the character's author.
        client: u64,
        /// Its clock.
        clock: u32,
    },
    /// After the last character.
    End,
}

impl huisclos_protocol::codec::Wire for NoteAnchor {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Before { client, clock } => {
                out.push(0);
                huisclos_protocol::codec::put_varint(out, *client);
                huisclos_protocol::codec::put_varint(out, u64::from(*clock));
            }
            Self::End => out.push(1),
        }
    }

    fn decode(
        reader: &mut huisclos_protocol::codec::Reader<'_>,
    ) -> std::result::Result<Self, huisclos_protocol::Error> {
        match reader.take_u8("note anchor")? {
            0 => {
                let client = reader.take_varint("note client id")?;
                let clock = u32::try_from(reader.take_varint("note clock")?)
                    .map_err(|_| huisclos_protocol::Error::OutOfRange { what: "note clock" })?;
                if client > CLIENT_ID_MASK {
                    return Err(huisclos_protocol::Error::OutOfRange { what: "note client id" });
                }
                Ok(Self::Before { client, clock })
            }
            1 => Ok(Self::End),
            tag => Err(huisclos_protocol::Error::UnknownTag { what: "note anchor", tag }),
        }
    }
}

/// An update read from its bytes (lib0's version-1 encoding, as yrs decodes it), against
/// what a document holds: what it holds, and what it builds on.
struct UpdateShape {
    /// Every origin (a character its text was typed beside) and every deleted range is
    /// held or comes earlier in the update: merging leaves nothing waiting.
    builds_on_held: bool,
    /// The UTF-16 units of text it inserts (whether held already or not).
    inserted_units: u64,
    /// The two characters each new block was typed between, where it names both:
    /// `(origin, right origin)`, each `(client, clock)`. The first must be on the left of
    /// the second ([`NoteDoc::check_origins`]).
    origins: Vec<TypedBetween>,
    /// Both origins of every pair in `origins` are held before merging (none comes
    /// earlier in the update).
    origins_held: bool,
    /// Every block as read, for the index of what was typed where ([`TypedIndex`]).
    blocks: Vec<(u64, TypedBlock)>,
    /// The blocks, or parts of blocks, that the document holds already: what they say
    /// is compared with what it holds ([`NoteDoc::held_as_sent`]).
    held_already: Vec<HeldBlock>,
}

/// A block of an update whose first characters a document holds already, as the
/// update writes it.
struct HeldBlock {
    client: u64,
    clock: u64,
    /// How many of its characters are held.
    held: u64,
    origin: Option<CharId>,
    right_origin: Option<CharId>,
    /// Its text in UTF-16 units, for a string (a deleted string's length holds none).
    units: Option<Vec<u16>>,
}

/// Whether `update` could ever be merged, as far as its bytes tell, whatever the
/// document holds: what [`NoteDoc::apply_remote`] refuses from its bytes but for what it
/// builds on that is not held yet ([`NoteRefusal::Missing`]), which another update may
/// bring, and but for the checks of the blocks it would merge (each block's two
/// origins, and how many blocks name two), which are made when it merges. An update
/// that waits must pass this first: yrs is never handed one it would misread, or fail
/// on, when updates that waited are merged together.
///
/// # Errors
/// The refusal its bytes earn, as [`NoteDoc::apply_remote`] would give it.
pub fn well_formed(update: &[u8]) -> Result<(), NoteRefusal> {
    if update.len() > MAX_UPDATE_LEN {
        return Err(NoteRefusal::TooLarge);
    }
    // Read as if every character of its clients were held.
    let mut everything = StateVector::default();
    read_structs(
        &mut Lib0(update),
        |client, _, _| {
            everything.set_max(ClientID::new(client), u32::MAX);
            Ok(())
        },
        |_| Ok(()),
    )?;
    match UpdateShape::read(update, &everything, MAX_TYPED_BETWEEN) {
        Ok(_) | Err(NoteRefusal::Missing) => Ok(()),
        Err(refusal) => Err(refusal),
    }
}

impl UpdateShape {
    /// Reads `update` against `held`, and refuses what shows in its bytes:
    /// - [`NoteRefusal::NotText`]: an item whose parent is another root, a nested type
    ///   or a map key, or whose content is not a string (or a deleted string's
    ///   length). Embedded values, formatting, types and documents would not show in
    ///   the text but would count in its offsets;
    /// - [`NoteRefusal::Missing`]: blocks that start past what is held of their client,
    ///   or skip a range (yrs would fill the gap with a placeholder and take them);
    /// - [`NoteRefusal::Malformed`]: a client in two sections, or past 53 bits (or the
    ///   sentinel's), a clock or length past 32 bits (yrs would wrap it), an empty
    ///   section or deleted range, a collected (GC) block:
    ///   none of which yrs writes, and each of which yrs reads otherwise than it looks
    ///   or would make this reading cost more than linear time.
    ///
    /// An origin or deleted range that is not held leaves `builds_on_held` false: yrs
    /// would keep the item waiting, and the trial merge refuses it. O(the update).
    fn read(update: &[u8], held: &StateVector, max_blocks: usize) -> Result<Self, NoteRefusal> {
        let held_of = |client: u64| u64::from(held.get(&ClientID::new(client)));
        let mut reader = Lib0(update);
        let mut shape = Self {
            builds_on_held: true,
            inserted_units: 0,
            origins: Vec::new(),
            origins_held: true,
            blocks: Vec::new(),
            held_already: Vec::new(),
        };
        // Each client's section, and up to where its blocks reach.
        let reached: std::cell::RefCell<Vec<(u64, u64)>> = std::cell::RefCell::default();
        let known = |reached: &[(u64, u64)], client: u64, clock: u64| {
            clock < held_of(client) || reached.iter().any(|&(c, end)| c == client && clock < end)
        };
        let mut blocks_read = 0usize;
        // Blocks sent as deleted text (a length only): each must be deleted by this
        // update too.
        let mut sent_deleted: Vec<(u64, u64, u64)> = Vec::new();
        read_structs(
            &mut reader,
            |client, clock, structs| {
                let mut reached = reached.borrow_mut();
                // An empty section (yrs writes none) would let an update hold thousands
                // of sections for a few bytes each, and each is checked against the
                // others: with none, a second section ends the reading (a repeated
                // client here, a skip or a refusal before for any other), so the
                // reading stays linear.
                if structs == 0 || reached.iter().any(|&(c, _)| c == client) {
                    return Err(NoteRefusal::Malformed);
                }
                if clock > held_of(client) {
                    return Err(NoteRefusal::Missing);
                }
                reached.push((client, clock));
                Ok(())
            },
            |raw| {
                // Every block costs a receiver a walk between its origins, once merged
                // (`NoteDoc::check_gaps`); counted from the bytes, so that every device
                // decides alike.
                blocks_read += 1;
                if blocks_read > max_blocks {
                    return Err(NoteRefusal::TooLarge);
                }
                let mut reached = reached.borrow_mut();
                let RawBlock { client, clock, len, .. } = *raw;
                match raw.content {
                    // A collected range: yrs collects only what was inside a deleted
                    // type, which a note's one root text never holds. Taken, it would
                    // use up the author's clocks with nothing in the text.
                    RawContent::Collected => return Err(NoteRefusal::Malformed),
                    RawContent::Skipped => return Err(NoteRefusal::Missing),
                    RawContent::Deleted => sent_deleted.push((client, clock, len)),
                    RawContent::Text { units } => shape.inserted_units = shape.inserted_units.saturating_add(units),
                }
                // Its parent, written out: only the root text, by name.
                if let Some((root, key)) = raw.parent
                    && (root != ROOT.as_bytes() || key.is_some())
                {
                    return Err(NoteRefusal::NotText);
                }
                // An origin was there when this character was typed: held here, or
                // earlier in this update.
                for (of, at) in raw.origin.into_iter().chain(raw.right_origin) {
                    let earlier_here = of == client && at < clock;
                    if !earlier_here && !known(&reached, of, at) {
                        shape.builds_on_held = false;
                    }
                }
                // What is held already of a block is not merged again: yrs cuts it off,
                // and what it merges follows on from the last character held (its
                // origin, whatever the block says), before the same right origin. The
                // order of the two is read in the document before merging when both are
                // held there; else on the trial's copy, once merged.
                let held_here = held_of(client);
                if clock < held_here {
                    shape.held_already.push(HeldBlock {
                        client,
                        clock,
                        held: len.min(held_here - clock),
                        origin: raw.origin,
                        right_origin: raw.right_origin,
                        units: raw.text.map(|text| text.encode_utf16().collect()),
                    });
                }
                let (start, origin) = if clock < held_here && held_here < clock + len {
                    (held_here, Some((client, held_here - 1)))
                } else {
                    (clock, raw.origin)
                };
                let right_origin = raw.right_origin;
                let merged = clock + len > held_here;
                if merged {
                    shape.blocks.push((client, TypedBlock { start, len: clock + len - start, origin, right_origin }));
                }
                if let (Some(origin), Some(right_origin)) = (origin, right_origin)
                    && merged
                {
                    // yrs never types a character between another and itself.
                    if origin == right_origin {
                        return Err(NoteRefusal::Malformed);
                    }
                    let held = origin.1 < held_of(origin.0) && right_origin.1 < held_of(right_origin.0);
                    if !held {
                        shape.origins_held = false;
                    }
                    shape.origins.push(TypedBetween { origin, right_origin, held });
                    if shape.origins.len() > max_blocks {
                        return Err(NoteRefusal::TooLarge);
                    }
                }
                if clock + len > u64::from(u32::MAX) {
                    return Err(NoteRefusal::Malformed);
                }
                if let Some(last) = reached.last_mut() {
                    last.1 = clock + len;
                }
                Ok(())
            },
        )?;
        let reached = reached.into_inner();
        // The delete set: ranges of characters, each held or added by this update.
        let mut deletes: Vec<(u64, u64, u64)> = Vec::new();
        let clients = reader.var()?;
        for _ in 0..clients {
            let client = reader.client()?;
            let ranges = reader.var()?;
            for _ in 0..ranges {
                let (at, len) = (reader.u32()?, reader.u32()?);
                if len == 0 || at + len > u64::from(u32::MAX) {
                    return Err(NoteRefusal::Malformed);
                }
                if !known(&reached, client, at + len - 1) {
                    shape.builds_on_held = false;
                }
                if !sent_deleted.is_empty() {
                    deletes.push((client, at, at + len));
                }
            }
        }
        // Text sent as deleted that this update does not delete: yrs would take it as
        // deleted where it is new, and skip it where it is held and shown, so devices
        // would differ (a second version of its author's text, emptied). yrs writes a
        // block so only for text deleted when the update was made, which its delete set
        // holds.
        if !sent_deleted.is_empty() {
            // The ranges joined where they touch: a block is covered when one holds it.
            deletes.sort_unstable();
            let mut joined: Vec<(u64, u64, u64)> = Vec::with_capacity(deletes.len());
            for (client, from, to) in deletes {
                match joined.last_mut() {
                    Some(last) if last.0 == client && from <= last.2 => last.2 = last.2.max(to),
                    _ => joined.push((client, from, to)),
                }
            }
            for &(client, clock, len) in &sent_deleted {
                let after = joined.partition_point(|&(c, from, _)| (c, from) <= (client, clock));
                let covered = after > 0 && {
                    let (c, _, to) = joined[after - 1];
                    c == client && to >= clock + len
                };
                if !covered {
                    return Err(NoteRefusal::Malformed);
                }
            }
        }
        Ok(shape)
    }

    /// Whether merging it into a note of `len_utf16` units surely leaves nothing waiting
    /// and keeps the note within [`MAX_NOTE_UNITS`], even if it deletes nothing.
    fn merges_cleanly(&self, len_utf16: u32) -> bool {
        self.builds_on_held
            && self.origins_held
            && u64::from(len_utf16) + self.inserted_units <= u64::from(MAX_NOTE_UNITS)
    }
}

/// What the characters of a note were typed between, block by block, per client, as
/// read from the updates merged (and the state loaded): a character typed right after
/// another (its origin), or right before one (its right origin), is on that side of it
/// in every document, since every block merged was checked in order. Two characters
/// known so are in order without walking the note; any other pair is walked.
#[derive(Default)]
struct TypedIndex {
    // Few clients write one note: a B-tree, with no hashing, finds them fastest.
    clients: std::collections::BTreeMap<u64, Vec<TypedBlock>>,
    /// What the author of each block's first character knew, by `(client, first
    /// clock)`, computed when first asked ([`TypedIndex::known_before`]).
    known: std::collections::HashMap<(u64, u64), std::sync::Arc<Known>>,
}

/// A block as typed: its first clock, its length, and the characters it was typed
/// between.
#[derive(Clone, Copy)]
struct TypedBlock {
    start: u64,
    len: u64,
    origin: Option<CharId>,
    right_origin: Option<CharId>,
}

impl TypedIndex {
    /// Adds the blocks of an update just merged (or made here) past what is indexed of
    /// their client. An update that does not read adds what it read up to there.
    fn add(&mut self, update: &[u8]) {
        let _ = read_blocks(update, |client, start, len, origin, right_origin| {
            self.add_block(client, TypedBlock { start, len, origin, right_origin });
        });
    }

    /// Adds blocks read from an update just merged.
    fn add_blocks(&mut self, blocks: Vec<(u64, TypedBlock)>) {
        for (client, block) in blocks {
            self.add_block(client, block);
        }
    }

    fn add_block(&mut self, client: u64, block: TypedBlock) {
        let blocks = self.clients.entry(client).or_default();
        let end = blocks.last().map_or(0, |last| last.start + last.len);
        let TypedBlock { start, len, origin, right_origin } = block;
        if start + len <= end || len == 0 {
            return;
        }
        // Held in part: the rest follows on from the last character held.
        let (start, len, origin) =
            if start < end { (end, start + len - end, Some((client, end - 1))) } else { (start, len, origin) };
        blocks.push(TypedBlock { start, len, origin, right_origin });
    }

    /// What the author of a block starting at `(client, start)` and typed between
    /// `origin` and `right_origin` knew: everything reachable from those and from its
    /// client's character before it, through origins and each client's earlier
    /// characters. Characters the index does not hold count as known alone.
    fn known_before(&mut self, client: u64, start: u64, origin: Option<CharId>, right_origin: Option<CharId>) -> Known {
        let mut known = Known::new();
        raise(&mut known, client, start);
        let previous = start.checked_sub(1).map(|clock| (client, clock));
        for character in [previous, origin, right_origin].into_iter().flatten() {
            for (c, k) in self.known_at(character).iter() {
                raise(&mut known, *c, *k);
            }
        }
        known
    }

    /// What the author of `character` knew, itself included.
    fn known_at(&mut self, (client, clock): CharId) -> Known {
        let mut known = match self.block_key((client, clock)) {
            Some(key) => (*self.block_known(key)).clone(),
            None => Known::new(),
        };
        raise(&mut known, client, clock + 1);
        known
    }

    /// The `(client, first clock)` of the block holding `character`.
    fn block_key(&self, character: CharId) -> Option<(u64, u64)> {
        self.block(character).map(|block| (character.0, block.start))
    }

    /// What the author of a block's first character knew, computed without recursion
    /// (a note's history can be long) and kept.
    fn block_known(&mut self, key: (u64, u64)) -> std::sync::Arc<Known> {
        let mut stack = vec![key];
        let mut entered = std::collections::HashSet::new();
        while let Some(&(client, start)) = stack.last() {
            if self.known.contains_key(&(client, start)) {
                stack.pop();
                continue;
            }
            let Some(block) = self.block((client, start)) else {
                self.known.insert((client, start), std::sync::Arc::new(Known::new()));
                stack.pop();
                continue;
            };
            let previous = start.checked_sub(1).map(|clock| (client, clock));
            let depends: Vec<(CharId, Option<(u64, u64)>)> = [previous, block.origin, block.right_origin]
                .into_iter()
                .flatten()
                .map(|character| (character, self.block_key(character)))
                .collect();
            let waiting: Vec<(u64, u64)> =
                depends.iter().filter_map(|(_, key)| *key).filter(|key| !self.known.contains_key(key)).collect();
            // A block met again before it is known would be a cycle, which a merged
            // note cannot hold: it is cut there.
            if !waiting.is_empty() && entered.insert((client, start)) {
                stack.extend(waiting);
                continue;
            }
            let mut known = Known::new();
            raise(&mut known, client, start + 1);
            for (character, key) in depends {
                if let Some(of_block) = key.and_then(|key| self.known.get(&key)) {
                    for (c, k) in of_block.iter() {
                        raise(&mut known, *c, *k);
                    }
                }
                raise(&mut known, character.0, character.1 + 1);
            }
            self.known.insert((client, start), std::sync::Arc::new(known));
            stack.pop();
        }
        self.known.get(&key).cloned().unwrap_or_default()
    }

    fn block(&self, (client, clock): CharId) -> Option<&TypedBlock> {
        let blocks = self.clients.get(&client)?;
        let at = blocks.partition_point(|block| block.start <= clock).checked_sub(1)?;
        blocks.get(at).filter(|block| clock < block.start + block.len)
    }

    /// Whether `left` is known to be strictly on the left of `right`, following at most
    /// [`ORDER_STEPS`] links each way: from `right` leftwards (a character is on the
    /// right of its block's first, which is on the right of its origin), and from
    /// `left` rightwards (on the left of its block's last, on the left of its right
    /// origin). Reaching a block that holds the other character, on the right side of
    /// it, decides.
    fn in_order(&self, left: CharId, right: CharId) -> bool {
        let mut at = right;
        for step in 0..ORDER_STEPS {
            let Some(block) = self.block(at) else { break };
            if left.0 == at.0 && block.start <= left.1 && (left.1 < at.1 || (step > 0 && left.1 == at.1)) {
                return true;
            }
            match block.origin {
                Some(origin) => at = origin,
                None => break,
            }
            if at == left {
                return true;
            }
        }
        let mut at = left;
        for step in 0..ORDER_STEPS {
            let Some(block) = self.block(at) else { break };
            let end = block.start + block.len;
            if right.0 == at.0 && right.1 < end && (at.1 < right.1 || (step > 0 && at.1 == right.1)) {
                return true;
            }
            match block.right_origin {
                Some(right_origin) => at = right_origin,
                None => break,
            }
            if at == right {
                return true;
            }
        }
        false
    }
}

/// How many links [`TypedIndex::in_order`] follows each way before the note is walked.
const ORDER_STEPS: usize = 8;

/// `update` with an empty delete set: its blocks alone.
fn without_deletions(update: &[u8]) -> Result<Vec<u8>, NoteRefusal> {
    let mut reader = Lib0(update);
    read_blocks_from(&mut reader, |_, _, _, _, _| {})?;
    let blocks_end = update.len() - reader.0.len();
    let mut bytes = update[..blocks_end].to_vec();
    bytes.push(0);
    Ok(bytes)
}

/// Calls `block(client, clock, len, origin, right origin)` for every block of a v1
/// update, in order, until the end or the first byte it cannot read.
fn read_blocks(
    update: &[u8],
    block: impl FnMut(u64, u64, u64, Option<CharId>, Option<CharId>),
) -> Result<(), NoteRefusal> {
    read_blocks_from(&mut Lib0(update), block)
}

/// As [`read_blocks`], leaving `reader` just past the blocks (at the delete set).
fn read_blocks_from(
    reader: &mut Lib0<'_>,
    mut block: impl FnMut(u64, u64, u64, Option<CharId>, Option<CharId>),
) -> Result<(), NoteRefusal> {
    read_structs(
        reader,
        |_, _, _| Ok(()),
        |raw| {
            // A collected range (GC) may join characters from anywhere in the text:
            // nothing is known of its order.
            if matches!(raw.content, RawContent::Text { .. } | RawContent::Deleted) {
                block(raw.client, raw.clock, raw.len, raw.origin, raw.right_origin);
            }
            Ok(())
        },
    )
}

/// What a block of a v1 update holds, as written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum RawContent {
    /// A collected range (Yjs's `GC` struct).
    Collected,
    /// A range skipped (Yjs's `Skip` struct): the update does not hold it.
    Skipped,
    /// A deleted string's length.
    Deleted,
    /// A string, `units` UTF-16 units long.
    Text { units: u64 },
}

/// One block of a v1 update, as written.
struct RawBlock<'a> {
    client: u64,
    clock: u64,
    /// Its length in clocks.
    len: u64,
    content: RawContent,
    /// Its text, for a string.
    text: Option<&'a str>,
    origin: Option<CharId>,
    right_origin: Option<CharId>,
    /// Its parent, written out only when it names neither origin: a root type's name,
    /// and a map key if any (a parent named by id, a nested type, is refused as
    /// [`NoteRefusal::NotText`] when read).
    parent: Option<(&'a [u8], Option<&'a [u8]>)>,
}

/// Reads the blocks of a v1 update (lib0's encoding, the grammar yrs writes), leaving
/// `reader` at the delete set: `section(client, clock, blocks)` for each client's
/// section, then `block` for each of its blocks, in order, stopping at the first
/// error either returns. What is neither a string nor a deleted one's length (an
/// embedded value, a format, a type, a document) is [`NoteRefusal::NotText`] here: its
/// length could not even be read. The one reader of that grammar, for the checks
/// of an update ([`UpdateShape::read`]) and for the index ([`read_blocks`]).
fn read_structs<'a>(
    reader: &mut Lib0<'a>,
    mut section: impl FnMut(u64, u64, u64) -> Result<(), NoteRefusal>,
    mut block: impl FnMut(&RawBlock<'a>) -> Result<(), NoteRefusal>,
) -> Result<(), NoteRefusal> {
    const GC: u8 = 0;
    const SKIP: u8 = 10;
    const DELETED: u8 = 1;
    const STRING: u8 = 4;
    const HAS_ORIGIN: u8 = 0b1000_0000;
    const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
    const HAS_PARENT_SUB: u8 = 0b0010_0000;
    let clients = reader.var()?;
    for _ in 0..clients {
        let structs = reader.var()?;
        let client = reader.client()?;
        let mut clock = reader.u32()?;
        section(client, clock, structs)?;
        for _ in 0..structs {
            let info = reader.byte()?;
            let mut raw = RawBlock {
                client,
                clock,
                len: 0,
                content: RawContent::Collected,
                text: None,
                origin: None,
                right_origin: None,
                parent: None,
            };
            match info {
                GC => raw.len = reader.u32()?,
                SKIP => {
                    raw.content = RawContent::Skipped;
                    raw.len = reader.u32()?;
                }
                _ => {
                    if info & HAS_ORIGIN != 0 {
                        raw.origin = Some((reader.client()?, reader.u32()?));
                    }
                    if info & HAS_RIGHT_ORIGIN != 0 {
                        raw.right_origin = Some((reader.client()?, reader.u32()?));
                    }
                    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
                        // A parent named by id is a nested type: never text of the root.
                        if reader.var()? != 1 {
                            return Err(NoteRefusal::NotText);
                        }
                        let root = reader.string()?;
                        let key = if info & HAS_PARENT_SUB != 0 { Some(reader.string()?) } else { None };
                        raw.parent = Some((root, key));
                    }
                    (raw.content, raw.len) = match info & 0b1_1111 {
                        DELETED => (RawContent::Deleted, reader.u32()?),
                        STRING => {
                            // Its clock advances by its UTF-16 length, as in Yjs.
                            let text = std::str::from_utf8(reader.string()?).map_err(|_| NoteRefusal::Malformed)?;
                            raw.text = Some(text);
                            let units = u64::from(utf16_len(text));
                            (RawContent::Text { units }, units)
                        }
                        _ => return Err(NoteRefusal::NotText),
                    };
                }
            }
            block(&raw)?;
            clock += raw.len;
        }
    }
    Ok(())
}

/// A character's id in a note: `(client, clock)`.
type CharId = (u64, u64);

/// The two characters a new block of an update was typed between.
#[derive(Clone, Copy)]
struct TypedBetween {
    origin: CharId,
    right_origin: CharId,
    /// Both were held before the update.
    held: bool,
}

/// A reader of lib0's encoding: unsigned LEB128 integers and length-prefixed strings.
struct Lib0<'a>(&'a [u8]);

impl<'a> Lib0<'a> {
    fn byte(&mut self) -> Result<u8, NoteRefusal> {
        let (&first, rest) = self.0.split_first().ok_or(NoteRefusal::Malformed)?;
        self.0 = rest;
        Ok(first)
    }

    fn var(&mut self) -> Result<u64, NoteRefusal> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(NoteRefusal::Malformed)
    }

    /// A clock or a length: yrs reads them as 32 bits (and would wrap a larger one).
    fn u32(&mut self) -> Result<u64, NoteRefusal> {
        let value = self.var()?;
        if value > u64::from(u32::MAX) {
            return Err(NoteRefusal::Malformed);
        }
        Ok(value)
    }

    /// A client id: yrs keeps its low 53 bits (and would fold a larger one onto another);
    /// the largest is kept back for [`SENTINEL_CLIENT`].
    fn client(&mut self) -> Result<u64, NoteRefusal> {
        let value = self.var()?;
        if value >= SENTINEL_CLIENT {
            return Err(NoteRefusal::Malformed);
        }
        Ok(value)
    }

    fn string(&mut self) -> Result<&'a [u8], NoteRefusal> {
        let len = usize::try_from(self.var()?).map_err(|_| NoteRefusal::Malformed)?;
        if len > self.0.len() {
            return Err(NoteRefusal::Malformed);
        }
        let (string, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(string)
    }
}

/// One edit of a note's text, in UTF-16 code units: delete `delete` units at `at`, then
/// insert `insert` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    /// Where.
    pub at: u32,
    /// How many units to delete.
    pub delete: u32,
    /// What to insert.
    pub insert: String,
}

/// The observer key under which [`NoteDoc::apply_remote`] reads a merge's delta.
const DELTA_OBSERVER: &str = "huisclos/1 remote-delta";

/// A yrs text delta (retain, delete, insert, in the document's UTF-16 units) as edits,
/// each at its offset in the text the previous one left; a delete followed by an
/// insert at the same place is one edit.
fn delta_edits(delta: &[yrs::types::Delta]) -> Vec<TextEdit> {
    use yrs::types::Delta;
    let mut edits: Vec<TextEdit> = Vec::new();
    let mut at = 0u32;
    for step in delta {
        match step {
            Delta::Retain(len, _) => at = at.saturating_add(*len),
            Delta::Deleted(len) => edits.push(TextEdit { at, delete: *len, insert: String::new() }),
            Delta::Inserted(value, _) => {
                // Only strings are ever in a note (anything else is refused before).
                let inserted = value.clone().cast::<String>().unwrap_or_default();
                let len = utf16_len(&inserted);
                match edits.last_mut() {
                    Some(last) if last.at == at && last.insert.is_empty() => last.insert = inserted,
                    _ => edits.push(TextEdit { at, delete: 0, insert: inserted }),
                }
                at = at.saturating_add(len);
            }
        }
    }
    edits
}

fn utf16_len(text: &str) -> u32 {
    u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX)
}

/// The edits that turn `old` into `new`, by characters, in UTF-16 offsets of the text
/// as each previous edit left it.
pub fn diff_edits(old: &str, new: &str) -> Vec<TextEdit> {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::configure().timeout(std::time::Duration::from_secs(1)).diff_chars(old, new);
    let mut edits: Vec<TextEdit> = Vec::new();
    // Where the last edit's insertion ends (in the text as it leaves it), kept here
    // rather than recounted: a long insertion grows one character at a time.
    let mut last_end: Option<u32> = None;
    let mut at = 0u32;
    for change in diff.iter_all_changes() {
        let value = change.value();
        let units = utf16_len(value);
        match change.tag() {
            ChangeTag::Equal => at += units,
            ChangeTag::Delete => match edits.last_mut() {
                Some(last) if last_end == Some(at) && last.insert.is_empty() => last.delete += units,
                _ => {
                    edits.push(TextEdit { at, delete: units, insert: String::new() });
                    last_end = Some(at);
                }
            },
            ChangeTag::Insert => {
                match edits.last_mut() {
                    Some(last) if last_end == Some(at) => last.insert.push_str(value),
                    _ => edits.push(TextEdit { at, delete: 0, insert: value.to_owned() }),
                }
                at += units;
                last_end = Some(at);
            }
        }
    }
    edits
}

/// `edits` cut into batches that each encode to at most about `max_bytes` bytes (the
/// text inserted, and [`EDIT_OVERHEAD`] for each edit) and hold at most
/// [`MAX_TYPED_BETWEEN`] edits that insert: a long insertion is split at character
/// boundaries into consecutive ones. Applied one batch after another, they
/// make the same text as `edits` applied at once.
pub fn batches(edits: &[TextEdit], max_bytes: usize) -> Vec<Vec<TextEdit>> {
    let max_bytes = max_bytes.max(4);
    let mut out: Vec<Vec<TextEdit>> = Vec::new();
    let mut current: Vec<TextEdit> = Vec::new();
    let mut current_bytes = 0usize;
    let inserting = |batch: &[TextEdit]| batch.iter().filter(|edit| !edit.insert.is_empty()).count();
    for edit in edits {
        let mut at = edit.at;
        let mut delete = edit.delete;
        let mut rest = edit.insert.as_str();
        let full = current_bytes + EDIT_OVERHEAD > max_bytes || inserting(&current) >= MAX_TYPED_BETWEEN;
        if full && !current.is_empty() {
            out.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
        current_bytes += EDIT_OVERHEAD;
        loop {
            let room = max_bytes.saturating_sub(current_bytes);
            let mut cut = rest.len().min(room);
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            let (piece, tail) = rest.split_at(cut);
            if !piece.is_empty() || delete > 0 || rest.is_empty() {
                current.push(TextEdit { at, delete, insert: piece.to_owned() });
                current_bytes += piece.len();
                at = at.saturating_add(utf16_len(piece));
                delete = 0;
            }
            rest = tail;
            if rest.is_empty() {
                break;
            }
            out.push(std::mem::take(&mut current));
            current_bytes = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests;
