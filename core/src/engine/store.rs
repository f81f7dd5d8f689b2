//! The engine's typed store: every record the engine keeps, its version and its
//! migrations, and the only code that knows where in the vault each one lives.
//!
//! The engine never names a namespace or encodes a record itself: it asks this store
//! for a space's record, a feed item, the outbox, and so on, and gets typed values
//! back. Everything written during one engine step stays in the vault's overlay until
//! the step ends with [`Store::commit`] (one batch, flushed) or [`Store::rollback`].
//!
//! ## Backends
//! The store sits on a [`Vault`], which seals every value and every key with the
//! profile's keys and keeps the rows in one of two backends behind the vault's `Rows`
//! trait: sled on disk, or memory (tests, and a profile that must leave no trace). The
//! backends hold only sealed bytes, so sealing is written once, above them; the
//! conformance suite (`vault::conformance`) runs the same cases against both, and the
//! typed cases in `store/conformance.rs` run against both too.
//!
//! ## Versions
//! Each record that has changed shape carries a version byte, and the older shapes
//! are kept here beside their migration:
//! - the profile record (version 2; release 0.1's `me`, migrated at load);
//! - the contact book (`contacts2`; release 0.1's `contacts`);
//! - a space's record (version 3; version 2 had the ids of items applied inside the
//!   record; release 0.1's `groups/` record);
//! - a feed item (version 2; release 0.1's `feed/`, migrated when next written).
//!
//! The fixture profiles of releases 0.1 and 0.2 in `tests/fixtures` are opened by
//! `tests/tests/upgrade.rs` in every CI run.
//!
//! ## What grows
//! Rows that grow with use are kept one per key: the ids of items applied (one row
//! each, under `seen/`), the feed's order (`order/`), each feed item, each queued
//! outbox item, delivery, device item and transfer. Only a space's record and the
//! library state of a space are rewritten whole.

use std::marker::PhantomData;

use huisclos_protocol::relay_key::RelayKeyRotation;
use serde::de::DeserializeOwned;

use super::*;

/// The engine's records in the vault, by type.
pub(super) struct Store {
    vault: Arc<Vault>,
}

/// The profile record as found: this release's, or release 0.1's to migrate.
pub(super) enum StoredProfile {
    Current(ProfileRecord),
    Release01(ProfileRecordV1),
}

/// A space's record as found, by the version it was written in.
pub(super) enum StoredSpace {
    Current(GroupMeta),
    /// Version 2: the ids of items applied are still inside the record.
    Version2(GroupMeta),
    Release01(GroupMetaV1),
}

impl Store {
    pub(super) fn new(vault: Arc<Vault>) -> Self {
        Self { vault }
    }

    /// The vault under the store (for the MLS state, which openmls keeps through its
    /// own storage trait, and for the profile's keys).
    pub(super) fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// The profile's directory (the staging area of uploads lives in it).
    pub(super) fn dir(&self) -> &std::path::Path {
        self.vault.dir()
    }

    /// Writes this step's changes as one batch.
    pub(super) fn commit(&self) -> Result<()> {
        self.vault.commit()
    }

    /// Forgets this step's changes.
    pub(super) fn rollback(&self) {
        self.vault.rollback();
    }

    // -----------------------------------------------------------------------------
    // The profile.

    /// Whether the vault holds a profile, of any release.
    pub(super) fn holds_profile(&self) -> Result<bool> {
        Ok(self.vault.get(NS_PROFILE, PROFILE_KEY)?.is_some() || self.vault.get(NS_PROFILE, b"me")?.is_some())
    }

    /// The profile record.
    ///
    /// # Errors
    /// [`CoreError::NoProfile`] when there is none; [`CoreError::CorruptProfile`] for a
    /// version this release does not know.
    pub(super) fn profile(&self) -> Result<StoredProfile> {
        if let Some(bytes) = self.vault.get(NS_PROFILE, PROFILE_KEY)? {
            return match bytes.split_first() {
                Some((&PROFILE_RECORD_VERSION, rest)) => {
                    Ok(StoredProfile::Current(decode_as(rest, StoredRecord::Profile)?))
                }
                _ => Err(CoreError::damaged(StoredRecord::Profile, DamageKind::UnknownVersion)),
            };
        }
        let bytes = self
            .vault
            .get(NS_PROFILE, b"me")?
            .ok_or_else(|| CoreError::NoProfile(self.vault.dir().display().to_string()))?;
        Ok(StoredProfile::Release01(decode_as(&bytes, StoredRecord::Profile)?))
    }

    pub(super) fn put_profile(&self, record: &ProfileRecord) -> Result<()> {
        let mut bytes = Zeroizing::new(vec![PROFILE_RECORD_VERSION]);
        bytes.extend_from_slice(&encode(record)?);
        self.vault.put(NS_PROFILE, PROFILE_KEY, &bytes)
    }

    /// Drops release 0.1's profile record, once this release's is written.
    pub(super) fn forget_release01_profile(&self) {
        self.vault.remove(NS_PROFILE, b"me");
    }

    /// The relay key's announced successor, while the relay's key rotates (under
    /// [`RELAY_NEXT_KEY`]: [`RELAY_NEXT_RECORD_VERSION`], then the statement's wire
    /// bytes). Profiles of releases before rotation existed have none.
    pub(super) fn relay_next(&self) -> Result<Option<RelayKeyRotation>> {
        let Some(bytes) = self.vault.get(NS_PROFILE, RELAY_NEXT_KEY)? else { return Ok(None) };
        match bytes.split_first() {
            Some((&RELAY_NEXT_RECORD_VERSION, rest)) => RelayKeyRotation::from_wire(rest)
                .map(Some)
                .map_err(|_| CoreError::damaged(StoredRecord::RelayAddress, DamageKind::DoesNotDecode)),
            _ => Err(CoreError::damaged(StoredRecord::RelayAddress, DamageKind::UnknownVersion)),
        }
    }

    pub(super) fn put_relay_next(&self, rotation: Option<&RelayKeyRotation>) -> Result<()> {
        match rotation {
            Some(rotation) => {
                let row = [&[RELAY_NEXT_RECORD_VERSION][..], &rotation.to_wire()].concat();
                self.vault.put(NS_PROFILE, RELAY_NEXT_KEY, &row)
            }
            None => {
                self.vault.remove(NS_PROFILE, RELAY_NEXT_KEY);
                Ok(())
            }
        }
    }

    /// The contact book, release 0.1's rewritten in this release's form (in this step).
    pub(super) fn contacts(&self) -> Result<Option<ContactBook>> {
        if let Some(bytes) = self.vault.get(NS_PROFILE, CONTACTS_KEY)? {
            return ContactBook::from_bytes(&bytes).map(Some);
        }
        let Some(bytes) = self.vault.get(NS_PROFILE, b"contacts")? else { return Ok(None) };
        let book = ContactBook::from_bytes_v1(&bytes)?;
        self.put_contacts(&book)?;
        self.vault.remove(NS_PROFILE, b"contacts");
        Ok(Some(book))
    }

    pub(super) fn put_contacts(&self, book: &ContactBook) -> Result<()> {
        self.vault.put(NS_PROFILE, CONTACTS_KEY, &book.to_bytes()?)
    }

    // -----------------------------------------------------------------------------
    // Spaces.

    /// The spaces this profile holds.
    pub(super) fn space_ids(&self) -> Result<Vec<GroupId>> {
        let Some(list) = self.vault.get(NS_GROUPS, b"list")? else { return Ok(Vec::new()) };
        Ok(decode_as::<Vec<[u8; 16]>>(&list, StoredRecord::Space)?.into_iter().map(GroupId::from_bytes).collect())
    }

    pub(super) fn put_space_ids(&self, ids: impl Iterator<Item = GroupId>) -> Result<()> {
        let list: Vec<[u8; 16]> = ids.map(|g| *g.as_bytes()).collect();
        self.vault.put(NS_GROUPS, b"list", &encode(&list)?)
    }

    /// A space's record, in the version it was written in.
    ///
    /// # Errors
    /// [`CoreError::CorruptProfile`] when it is missing or of an unknown version.
    pub(super) fn space(&self, group: &GroupId) -> Result<StoredSpace> {
        if let Some(bytes) = self.vault.get(NS_SPACES, group.as_bytes())? {
            return match bytes.split_first() {
                Some((&SPACE_RECORD_VERSION, rest)) => Ok(StoredSpace::Current(decode_as(rest, StoredRecord::Space)?)),
                Some((&SPACE_RECORD_VERSION_2, rest)) => {
                    Ok(StoredSpace::Version2(decode_as(rest, StoredRecord::Space)?))
                }
                _ => Err(CoreError::damaged(StoredRecord::Space, DamageKind::UnknownVersion)),
            };
        }
        let bytes = self
            .vault
            .get(NS_GROUPS, group.as_bytes())?
            .ok_or(CoreError::damaged(StoredRecord::Space, DamageKind::Missing))?;
        Ok(StoredSpace::Release01(decode_as(&bytes, StoredRecord::Space)?))
    }

    pub(super) fn put_space(&self, group: &GroupId, meta: &GroupMeta) -> Result<()> {
        let mut record = Zeroizing::new(vec![SPACE_RECORD_VERSION]);
        record.extend_from_slice(&encode(meta)?);
        self.vault.put(NS_SPACES, group.as_bytes(), &record)
    }

    /// Drops release 0.1's record of a space, once this release's is written.
    pub(super) fn forget_release01_space(&self, group: &GroupId) {
        self.vault.remove(NS_GROUPS, group.as_bytes());
    }

    /// Whether this device applied the item `id` of the space (by either path, log or
    /// content store, and before any removal from the space).
    pub(super) fn was_applied(&self, group: &GroupId, id: &ContentId) -> Result<bool> {
        Ok(self.vault.get(&seen_namespace(group), id.as_bytes())?.is_some())
    }

    pub(super) fn mark_applied(&self, group: &GroupId, id: &ContentId) -> Result<()> {
        self.vault.put(&seen_namespace(group), id.as_bytes(), &[])
    }

    /// A certificate this device took from a record of the space that carried it,
    /// by reference.
    pub(super) fn space_certificate(
        &self,
        group: &GroupId,
        reference: &CertificateRef,
    ) -> Result<Option<DeviceCertificate>> {
        let Some(stored) = self.vault.get(&certificates_namespace(group), reference.as_bytes())? else {
            return Ok(None);
        };
        match stored.split_first() {
            Some((&SPACE_CERTIFICATE_RECORD_VERSION, rest)) => DeviceCertificate::from_wire(rest)
                .map(Some)
                .map_err(|_| CoreError::damaged(StoredRecord::Space, DamageKind::DoesNotDecode)),
            Some(_) => Err(CoreError::damaged(StoredRecord::Space, DamageKind::UnknownVersion)),
            None => Err(CoreError::damaged(StoredRecord::Space, DamageKind::DoesNotDecode)),
        }
    }

    /// Keeps a certificate a record of the space carried in `generation` (once the
    /// record's signatures verified, whether or not it was then accepted), and that the
    /// space's store holds it in that generation.
    pub(super) fn keep_space_certificate(
        &self,
        group: &GroupId,
        certificate: &DeviceCertificate,
        generation: u32,
    ) -> Result<()> {
        let reference = CertificateRef::of(certificate);
        let namespace = certificates_namespace(group);
        if self.vault.get(&namespace, reference.as_bytes())?.is_none() {
            let mut record = vec![SPACE_CERTIFICATE_RECORD_VERSION];
            record.extend_from_slice(&certificate.to_wire());
            self.vault.put(&namespace, reference.as_bytes(), &record)?;
        }
        self.mark_certificate_stored(group, &reference, generation)
    }

    /// Records that the space's store holds, in `generation`, a record carrying the
    /// certificate `reference` names.
    pub(super) fn mark_certificate_stored(
        &self,
        group: &GroupId,
        reference: &CertificateRef,
        generation: u32,
    ) -> Result<()> {
        let key = stored_certificate_key(reference, generation);
        let namespace = certificates_namespace(group);
        if self.vault.get(&namespace, &key)?.is_none() {
            self.vault.put(&namespace, &key, &[SPACE_CERTIFICATE_RECORD_VERSION])?;
        }
        Ok(())
    }

    /// Whether the space's store holds, in `generation`, a record carrying the
    /// certificate `reference` names (so later records of the generation may refer to
    /// it).
    pub(super) fn certificate_stored(
        &self,
        group: &GroupId,
        reference: &CertificateRef,
        generation: u32,
    ) -> Result<bool> {
        Ok(self.vault.get(&certificates_namespace(group), &stored_certificate_key(reference, generation))?.is_some())
    }

    /// The space's library as this device knows it (empty before its first item).
    pub(super) fn library(&self, group: &GroupId) -> Result<Library> {
        Ok(self
            .vault
            .get(NS_LIBRARY, group.as_bytes())?
            .map(|b| decode_as(&b, StoredRecord::Library))
            .transpose()?
            .unwrap_or_default())
    }

    pub(super) fn put_library(&self, group: &GroupId, library: &Library) -> Result<()> {
        self.vault.put(NS_LIBRARY, group.as_bytes(), &encode(library)?)
    }

    // -----------------------------------------------------------------------------
    // Notes: each note's shared document, by space and note.

    /// A note's shared document as this device holds it, if it has one: the state last
    /// compacted ([`crate::note::NoteDoc::state`]), and the updates merged since, in
    /// order (at most [`NOTE_UPDATES_BEFORE_COMPACTION`]).
    pub(super) fn note(&self, group: &GroupId, note: &NodeId) -> Result<Option<StoredNote>> {
        let base = match self.vault.get(NS_NOTES, &note_key(group, note))? {
            None => None,
            Some(stored) => match stored.split_first() {
                Some((&NOTE_RECORD_VERSION, state)) => Some(state.to_vec()),
                Some(_) => return Err(CoreError::damaged(StoredRecord::Note, DamageKind::UnknownVersion)),
                None => return Err(CoreError::damaged(StoredRecord::Note, DamageKind::DoesNotDecode)),
            },
        };
        let updates: Vec<Vec<u8>> = self
            .vault
            .scan_ordered(&note_updates_namespace(group, note), 0, usize::MAX)?
            .into_iter()
            .map(|(_, update)| update.to_vec())
            .collect();
        if base.is_none() && updates.is_empty() {
            return Ok(None);
        }
        Ok(Some(StoredNote { base, updates }))
    }

    /// Keeps `update` as the `index`th merged since the last compaction.
    pub(super) fn append_note_update(&self, group: &GroupId, note: &NodeId, index: u64, update: &[u8]) -> Result<()> {
        self.vault.put_ordered(&note_updates_namespace(group, note), index, update)
    }

    /// Replaces a note's stored state and its `updates` updates with `state`.
    pub(super) fn compact_note(&self, group: &GroupId, note: &NodeId, state: &[u8], updates: u64) -> Result<()> {
        let record = Zeroizing::new([&[NOTE_RECORD_VERSION][..], state].concat());
        self.vault.put(NS_NOTES, &note_key(group, note), &record)?;
        let namespace = note_updates_namespace(group, note);
        for index in 0..updates {
            self.vault.remove_ordered(&namespace, index);
        }
        Ok(())
    }

    /// This device's own updates of a note not yet compacted ([`OwnNoteUpdate`]), in
    /// the order published, each with its row index.
    pub(super) fn own_note_updates(&self, group: &GroupId, note: &NodeId) -> Result<Vec<(u64, OwnNoteUpdate)>> {
        self.note_rows(&own_note_updates_namespace(group, note))
    }

    /// Keeps an update this device publishes, to compact later; returns its row.
    pub(super) fn append_own_note_update(&self, group: &GroupId, note: &NodeId, own: &OwnNoteUpdate) -> Result<u64> {
        self.append_note_row(&own_note_updates_namespace(group, note), own)
    }

    /// Drops own updates' rows (compacted, or never to be).
    pub(super) fn drop_own_note_updates(&self, group: &GroupId, note: &NodeId, indexes: &[u64]) {
        self.remove_note_rows(&own_note_updates_namespace(group, note), indexes);
    }

    /// The rows of a namespace of note rows, in order, each with its index.
    fn note_rows<Row: NoteRow>(&self, namespace: &str) -> Result<Vec<(u64, Row)>> {
        self.vault
            .scan_ordered(namespace, 0, usize::MAX)?
            .into_iter()
            .map(|(index, row)| Ok((index, Row::decode(&row)?)))
            .collect()
    }

    /// Puts `row` after the last row of `namespace`; returns its index.
    fn append_note_row(&self, namespace: &str, row: &impl NoteRow) -> Result<u64> {
        let index = self.vault.last_ordered(namespace)?.map_or(0, |last| last + 1);
        self.vault.put_ordered(namespace, index, &row.encode())?;
        Ok(index)
    }

    fn remove_note_rows(&self, namespace: &str, indexes: &[u64]) {
        for index in indexes {
            self.vault.remove_ordered(namespace, *index);
        }
    }

    /// Marks a record of this device's as never to be forgotten: it was stored (or may
    /// have been) carrying this device's certificate, to which later records refer.
    pub(super) fn mark_unforgettable(&self, group: &GroupId, record: &ContentId) -> Result<()> {
        self.vault.put(NS_UNFORGETTABLE, &group_record_key(group, record), &[1])
    }

    /// Whether [`Store::mark_unforgettable`] marked it.
    pub(super) fn is_unforgettable(&self, group: &GroupId, record: &ContentId) -> Result<bool> {
        Ok(self.vault.get(NS_UNFORGETTABLE, &group_record_key(group, record))?.is_some())
    }

    /// Keeps where the relay stored one of this device's records.
    pub(super) fn set_own_record_position(&self, group: &GroupId, record: &ContentId, seq: u64) -> Result<()> {
        self.vault.put(NS_OWN_POSITIONS, &group_record_key(group, record), &seq.to_be_bytes())
    }

    /// Where the relay stored one of this device's records, if known.
    pub(super) fn own_record_position(&self, group: &GroupId, record: &ContentId) -> Result<Option<u64>> {
        let Some(row) = self.vault.get(NS_OWN_POSITIONS, &group_record_key(group, record))? else { return Ok(None) };
        let bytes: [u8; 8] =
            row.as_slice().try_into().map_err(|_| CoreError::damaged(StoredRecord::Note, DamageKind::DoesNotDecode))?;
        Ok(Some(u64::from_be_bytes(bytes)))
    }

    /// Forgets where one of this device's records was stored (it is forgotten).
    pub(super) fn drop_own_record_position(&self, group: &GroupId, record: &ContentId) {
        self.vault.remove(NS_OWN_POSITIONS, &group_record_key(group, record));
    }

    /// Notes that another device's update of a note is at position `seq` of the
    /// space's store.
    pub(super) fn note_foreign_update(&self, group: &GroupId, note: &NodeId, seq: u64) -> Result<()> {
        self.vault.put_ordered(&foreign_note_updates_namespace(group, note), seq, &[1])
    }

    /// Whether another device's update of the note lies strictly between positions
    /// `after` and `before` of the space's store.
    pub(super) fn foreign_note_update_between(
        &self,
        group: &GroupId,
        note: &NodeId,
        after: u64,
        before: u64,
    ) -> Result<bool> {
        let first =
            self.vault.scan_ordered(&foreign_note_updates_namespace(group, note), after.saturating_add(1), 1)?;
        Ok(first.first().is_some_and(|(seq, _)| *seq < before))
    }

    /// Marks a record of this device's kept at the relay in the middle of what it
    /// forgets (a run of one, compacted with nothing): its position, once known, keeps
    /// records before it from being forgotten in favour of compactions after it.
    pub(super) fn mark_kept(&self, group: &GroupId, record: &ContentId) -> Result<()> {
        self.vault.put(NS_KEPT, &group_record_key(group, record), &[1])
    }

    /// Whether [`Store::mark_kept`] marked it.
    pub(super) fn is_kept(&self, group: &GroupId, record: &ContentId) -> Result<bool> {
        Ok(self.vault.get(NS_KEPT, &group_record_key(group, record))?.is_some())
    }

    /// Notes that position `seq` of the space's store holds what this device could not
    /// read as any note's update (a record withheld, or one that did not open): no
    /// record of this device's before it is forgotten in favour of one after it.
    pub(super) fn note_space_blocker(&self, group: &GroupId, seq: u64) -> Result<()> {
        self.vault.put_ordered(&space_blockers_namespace(group), seq, &[1])
    }

    /// Whether a space-wide blocker ([`Store::note_space_blocker`]) lies strictly
    /// between positions `after` and `before`.
    pub(super) fn space_blocker_between(&self, group: &GroupId, after: u64, before: u64) -> Result<bool> {
        let first = self.vault.scan_ordered(&space_blockers_namespace(group), after.saturating_add(1), 1)?;
        Ok(first.first().is_some_and(|(seq, _)| *seq < before))
    }

    /// Records of this device's to forget once it has read the store as far as the
    /// compaction that covers them, in the order compacted.
    pub(super) fn pending_forgets(&self, group: &GroupId) -> Result<Vec<(u64, PendingForget)>> {
        self.note_rows(&pending_forgets_namespace(group))
    }

    /// Keeps a record to forget later.
    pub(super) fn add_pending_forget(&self, group: &GroupId, pending: &PendingForget) -> Result<()> {
        self.append_note_row(&pending_forgets_namespace(group), pending).map(drop)
    }

    /// Drops a pending forget (released to the outbox, or never to be).
    pub(super) fn drop_pending_forget(&self, group: &GroupId, index: u64) {
        self.remove_note_rows(&pending_forgets_namespace(group), &[index]);
    }

    /// Updates of a note that build on what this device has not merged yet (another
    /// device's compaction it has not read yet), kept until they can be merged.
    pub(super) fn parked_note_updates(&self, group: &GroupId, note: &NodeId) -> Result<Vec<(u64, ParkedNoteUpdate)>> {
        self.note_rows(&parked_note_updates_namespace(group, note))
    }

    /// Keeps an update to merge once what it builds on is merged.
    pub(super) fn park_note_update(&self, group: &GroupId, note: &NodeId, parked: &ParkedNoteUpdate) -> Result<()> {
        self.append_note_row(&parked_note_updates_namespace(group, note), parked).map(drop)
    }

    /// Drops parked updates' rows (merged).
    pub(super) fn unpark_note_updates(&self, group: &GroupId, note: &NodeId, indexes: &[u64]) {
        self.remove_note_rows(&parked_note_updates_namespace(group, note), indexes);
    }

    /// A note's named versions, in the order this device took them (without their
    /// texts, which [`Store::note_version_text`] reads one at a time).
    pub(super) fn note_versions(&self, group: &GroupId, note: &NodeId) -> Result<Vec<NoteVersionRecord>> {
        self.vault
            .scan_ordered(&note_versions_namespace(group, note), 0, usize::MAX)?
            .into_iter()
            .map(|(_, stored)| versioned(&stored, NOTE_VERSION_RECORD_VERSION, StoredRecord::Note))
            .collect()
    }

    /// How many named versions a note has.
    pub(super) fn note_version_count(&self, group: &GroupId, note: &NodeId) -> Result<u64> {
        Ok(self.vault.last_ordered(&note_versions_namespace(group, note))?.map_or(0, |last| last + 1))
    }

    /// A named version's text, if this device holds it.
    pub(super) fn note_version_text(&self, group: &GroupId, note: &NodeId, id: &ContentId) -> Result<Option<String>> {
        let Some(stored) = self.vault.get(NS_NOTE_VERSION_TEXTS, &node_record_key(group, note, id))? else {
            return Ok(None);
        };
        match stored.split_first() {
            Some((&NOTE_VERSION_RECORD_VERSION, text)) => String::from_utf8(text.to_vec())
                .map(Some)
                .map_err(|_| CoreError::damaged(StoredRecord::Note, DamageKind::DoesNotDecode)),
            Some(_) => Err(CoreError::damaged(StoredRecord::Note, DamageKind::UnknownVersion)),
            None => Err(CoreError::damaged(StoredRecord::Note, DamageKind::DoesNotDecode)),
        }
    }

    /// Keeps a named version of a note after those already kept: a small row in the
    /// note's list, and its text apart.
    pub(super) fn add_note_version(
        &self,
        group: &GroupId,
        note: &NodeId,
        version: &NoteVersionRecord,
        text: &str,
    ) -> Result<()> {
        let namespace = note_versions_namespace(group, note);
        let next = self.vault.last_ordered(&namespace)?.map_or(0, |last| last + 1);
        let row = Zeroizing::new([&[NOTE_VERSION_RECORD_VERSION][..], &encode(version)?].concat());
        self.vault.put_ordered(&namespace, next, &row)?;
        let id = ContentId::from_bytes(version.id);
        let text = Zeroizing::new([&[NOTE_VERSION_RECORD_VERSION][..], text.as_bytes()].concat());
        self.vault.put(NS_NOTE_VERSION_TEXTS, &node_record_key(group, note, &id), &text)
    }

    /// A file version's preview, if this device holds one.
    pub(super) fn file_preview(&self, group: &GroupId, node: &NodeId, version: &ContentId) -> Result<Option<Vec<u8>>> {
        let Some(stored) = self.vault.get(NS_FILE_PREVIEWS, &node_record_key(group, node, version))? else {
            return Ok(None);
        };
        stored_preview(&stored).map(|(_, image)| Some(image.to_vec()))
    }

    /// Keeps a file version's preview, sent in record `record`, unless one sent in a
    /// record of a lesser id is kept already (so that every device keeps the same).
    pub(super) fn put_file_preview(
        &self,
        group: &GroupId,
        node: &NodeId,
        version: &ContentId,
        record: &ContentId,
        image: &[u8],
    ) -> Result<()> {
        let key = node_record_key(group, node, version);
        if let Some(stored) = self.vault.get(NS_FILE_PREVIEWS, &key)?
            && let Ok((kept, _)) = stored_preview(&stored)
            && kept <= *record.as_bytes()
        {
            return Ok(());
        }
        let row = Zeroizing::new([&[FILE_PREVIEW_RECORD_VERSION][..], record.as_bytes(), image].concat());
        self.vault.put(NS_FILE_PREVIEWS, &key, &row)
    }

    /// A preview made while sealing an upload, kept until the upload is published
    /// (by the sealed file's id).
    pub(super) fn pending_preview(&self, file: &[u8; 16]) -> Result<Option<Vec<u8>>> {
        Ok(self.vault.get(NS_PENDING_PREVIEWS, file)?.and_then(|stored| match stored.split_first() {
            Some((&FILE_PREVIEW_RECORD_VERSION, image)) => Some(image.to_vec()),
            // An unreadable preview is not worth keeping an upload back for.
            _ => None,
        }))
    }

    /// Keeps (`Some`) or forgets (`None`) an upload's preview until it is published.
    pub(super) fn set_pending_preview(&self, file: &[u8; 16], image: Option<&[u8]>) -> Result<()> {
        match image {
            Some(image) => {
                let row = Zeroizing::new([&[FILE_PREVIEW_RECORD_VERSION][..], image].concat());
                self.vault.put(NS_PENDING_PREVIEWS, file, &row)
            }
            None => {
                self.vault.remove(NS_PENDING_PREVIEWS, file);
                Ok(())
            }
        }
    }

    // -----------------------------------------------------------------------------
    // Feeds: the items by id, and their order of arrival by position.

    /// A feed item, from where this release keeps it or, failing that, where release
    /// 0.1 did (migrated when next written).
    pub(super) fn feed_item(&self, group: &GroupId, id: &ContentId) -> Result<Option<FeedRecord>> {
        if let Some(bytes) = self.vault.get(&feed_namespace(group), id.as_bytes())? {
            return match bytes.split_first() {
                Some((&FEED_RECORD_VERSION, rest)) => decode_as(rest, StoredRecord::FeedItem).map(Some),
                _ => Err(CoreError::damaged(StoredRecord::FeedItem, DamageKind::UnknownVersion)),
            };
        }
        match self.vault.get(&feed_namespace_v1(group), id.as_bytes())? {
            Some(bytes) => Ok(Some(decode_as::<FeedItemV1>(&bytes, StoredRecord::FeedItem)?.into())),
            None => Ok(None),
        }
    }

    pub(super) fn put_feed_item(&self, group: &GroupId, item: &FeedRecord) -> Result<()> {
        let mut record = Zeroizing::new(vec![FEED_RECORD_VERSION]);
        record.extend_from_slice(&encode(item)?);
        self.vault.put(&feed_namespace(group), &item.id, &record)?;
        self.vault.remove(&feed_namespace_v1(group), &item.id);
        Ok(())
    }

    /// Places a new post or comment at `position` in the order of arrival.
    pub(super) fn put_feed_position(&self, group: &GroupId, position: u64, id: &ContentId) -> Result<()> {
        self.vault.put_ordered(&order_namespace(group), position, id.as_bytes())
    }

    /// The newest item's position and id.
    pub(super) fn newest_in_feed(&self, group: &GroupId) -> Result<Option<(u64, ContentId)>> {
        let order = order_namespace(group);
        let Some(newest) = self.vault.last_ordered(&order)? else { return Ok(None) };
        let Some(id) = self.vault.get_ordered(&order, newest)? else { return Ok(None) };
        Ok(Some((newest, content_id(&id)?)))
    }

    /// Every item's id, in the order of arrival.
    pub(super) fn feed_ids(&self, group: &GroupId) -> Result<Vec<ContentId>> {
        self.vault.scan_ordered(&order_namespace(group), 0, usize::MAX)?.iter().map(|(_, id)| content_id(id)).collect()
    }

    /// At most `limit` ids that arrived before position `before` (the newest, if
    /// `None`), newest first, with their positions. Reads about `limit` rows.
    pub(super) fn feed_ids_before(
        &self,
        group: &GroupId,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Vec<(u64, ContentId)>> {
        self.vault
            .scan_ordered_back(&order_namespace(group), before, limit)?
            .iter()
            .map(|(position, id)| Ok((*position, content_id(id)?)))
            .collect()
    }

    // -----------------------------------------------------------------------------
    // Queues of work, persisted until done.

    /// What this device will send to the relay about its spaces, in order.
    pub(super) fn outbox(&self) -> Queue<'_, OutboxItem> {
        Queue::new(&self.vault, NS_OUTBOX)
    }

    /// Welcomes to leave in invitees' inboxes, each on its own schedule.
    pub(super) fn deliveries(&self) -> Queue<'_, Delivery> {
        Queue::new(&self.vault, NS_DELIVERIES)
    }

    /// Device-level work (linking, announcing, revoking), apart from any space.
    pub(super) fn device_outbox(&self) -> Queue<'_, DeviceItem> {
        Queue::new(&self.vault, NS_DEVICE_OUTBOX)
    }

    pub(super) fn uploads(&self) -> Queue<'_, UploadRecord> {
        Queue::new(&self.vault, NS_UPLOADS)
    }

    pub(super) fn downloads(&self) -> Queue<'_, DownloadRecord> {
        Queue::new(&self.vault, NS_DOWNLOADS)
    }
}

/// An ordered queue of records of one type, by index.
pub(super) struct Queue<'a, T> {
    vault: &'a Vault,
    namespace: &'static str,
    record: PhantomData<fn() -> T>,
}

impl<'a, T: Serialize + DeserializeOwned> Queue<'a, T> {
    fn new(vault: &'a Vault, namespace: &'static str) -> Self {
        Self { vault, namespace, record: PhantomData }
    }

    pub(super) fn get(&self, index: u64) -> Result<Option<T>> {
        self.vault.get_ordered(self.namespace, index)?.map(|bytes| decode(&bytes)).transpose()
    }

    /// Writes `item` at `index` (new, or in place of what was there).
    pub(super) fn put(&self, index: u64, item: &T) -> Result<()> {
        self.vault.put_ordered(self.namespace, index, &encode(item)?)
    }

    /// Writes `item` after the last one; returns its index.
    pub(super) fn push(&self, item: &T) -> Result<u64> {
        let index = self.vault.last_ordered(self.namespace)?.map_or(0, |last| last + 1);
        self.put(index, item)?;
        Ok(index)
    }

    pub(super) fn remove(&self, index: u64) {
        self.vault.remove_ordered(self.namespace, index);
    }

    /// The first `limit` records, in order.
    ///
    /// # Errors
    /// [`CoreError::CorruptProfile`] for one that does not decode.
    pub(super) fn first(&self, limit: usize) -> Result<Vec<(u64, T)>> {
        self.first_each(limit)?.into_iter().map(|(index, item)| Ok((index, item?))).collect()
    }

    /// The first `limit` records, in order, each decoded on its own: a caller that
    /// stops at the first it can use is not held up by a damaged one after it.
    pub(super) fn first_each(&self, limit: usize) -> Result<Vec<(u64, Result<T>)>> {
        Ok(self
            .vault
            .scan_ordered(self.namespace, 0, limit)?
            .into_iter()
            .map(|(index, bytes)| (index, decode(&bytes)))
            .collect())
    }

    /// The first `limit` records that decode, in order (for counts and marks that must
    /// not fail on one bad record).
    pub(super) fn first_readable(&self, limit: usize) -> Result<Vec<(u64, T)>> {
        Ok(self.first_each(limit)?.into_iter().filter_map(|(index, item)| Some((index, item.ok()?))).collect())
    }

    /// How many records the queue holds.
    pub(super) fn len(&self) -> Result<usize> {
        Ok(self.vault.scan_ordered(self.namespace, 0, usize::MAX)?.len())
    }
}

/// Decodes a stored record; one that does not decode is named in the damage it reports.
fn decode_as<T: for<'de> Deserialize<'de>>(bytes: &[u8], record: StoredRecord) -> Result<T> {
    postcard::from_bytes(bytes).map_err(|_| CoreError::damaged(record, DamageKind::DoesNotDecode))
}

fn content_id(bytes: &[u8]) -> Result<ContentId> {
    let id: [u8; 16] =
        bytes.try_into().map_err(|_| CoreError::damaged(StoredRecord::FeedOrder, DamageKind::DoesNotDecode))?;
    Ok(ContentId::from_bytes(id))
}

// ---------------------------------------------------------------------------------
// The records.

const NS_PROFILE: &str = "profile";
/// The profile record's key in [`NS_PROFILE`]; release 0.1 kept it under `me`.
const PROFILE_KEY: &[u8] = b"me2";
/// The version of the profile record.
const PROFILE_RECORD_VERSION: u8 = 2;
/// The relay key's announced successor's key in [`NS_PROFILE`].
const RELAY_NEXT_KEY: &[u8] = b"relay-next";
/// The version of the record under [`RELAY_NEXT_KEY`].
const RELAY_NEXT_RECORD_VERSION: u8 = 1;
/// The contact book's key in [`NS_PROFILE`]; release 0.1 kept it under `contacts`.
const CONTACTS_KEY: &[u8] = b"contacts2";
/// The release-0.1 space records by group id, and the list of spaces (under `list`).
const NS_GROUPS: &str = "groups";
/// Each space's record ([`GroupMeta`]) by group id, as [`SPACE_RECORD_VERSION`] and its
/// encoding. Release 0.1 kept an older record under [`NS_GROUPS`], migrated on load.
const NS_SPACES: &str = "spaces";
/// The version of the records under [`NS_SPACES`]. Version 3 has version 2's layout,
/// with its `seen` set always empty: the ids of items applied are kept by key under
/// [`seen_namespace`], one row each, instead of in the record rewritten at every step.
/// Version 2 records are read, and their ids moved there, at the first open.
const SPACE_RECORD_VERSION: u8 = 3;
/// The earlier version of the same layout.
const SPACE_RECORD_VERSION_2: u8 = 2;
const NS_OUTBOX: &str = "outbox";
/// Each space's library state, by group id.
const NS_LIBRARY: &str = "library";
/// Each note's shared document, by group id and note id: a version byte, then the
/// document's whole state (a Yjs update in lib0's version-1 encoding).
const NS_NOTES: &str = "notes";
// And under `note-updates/<group><note>`, ordered: the updates merged since.
/// The version of a stored note.
const NOTE_RECORD_VERSION: u8 = 1;

/// How many updates a note keeps beside its state before they are folded into it.
pub(super) const NOTE_UPDATES_BEFORE_COMPACTION: u64 = 256;

/// A note as stored: its compacted state, and the updates merged since.
pub(super) struct StoredNote {
    pub(super) base: Option<Vec<u8>>,
    pub(super) updates: Vec<Vec<u8>>,
}

/// A note's named versions, one row each, in the order taken: a version byte, then a
/// [`NoteVersionRecord`]; their texts are under [`NS_NOTE_VERSION_TEXTS`].
fn note_versions_namespace(group: &GroupId, note: &NodeId) -> String {
    format!("note-versions/{group}{note}")
}
/// The version of a stored named version.
const NOTE_VERSION_RECORD_VERSION: u8 = 1;

/// Named versions' texts, by group, note and record id: a version byte, then UTF-8.
const NS_NOTE_VERSION_TEXTS: &str = "note-version-texts";

/// A row about one record concerning one node: a named version of a note, a file
/// version's preview.
fn node_record_key(group: &GroupId, note: &NodeId, id: &ContentId) -> [u8; 48] {
    let mut key = [0u8; 48];
    key[..32].copy_from_slice(&note_key(group, note));
    key[32..].copy_from_slice(id.as_bytes());
    key
}

/// Files' previews, by group, file and version (the record that added it): a version
/// byte, the id of the record that sent it, then the JPEG.
const NS_FILE_PREVIEWS: &str = "file-previews";
/// Previews of uploads not yet published, by sealed file id: a version byte, then the
/// JPEG.
const NS_PENDING_PREVIEWS: &str = "pending-previews";
/// The version of a stored preview.
const FILE_PREVIEW_RECORD_VERSION: u8 = 1;

/// A stored preview: the id of the record that sent it, and the JPEG.
fn stored_preview(stored: &[u8]) -> Result<([u8; 16], &[u8])> {
    match stored.split_first() {
        Some((&FILE_PREVIEW_RECORD_VERSION, rest)) if rest.len() >= 16 => {
            let (id, image) = rest.split_at(16);
            let mut record = [0u8; 16];
            record.copy_from_slice(id);
            Ok((record, image))
        }
        Some((&FILE_PREVIEW_RECORD_VERSION, _)) | None => {
            Err(CoreError::damaged(StoredRecord::Library, DamageKind::DoesNotDecode))
        }
        Some(_) => Err(CoreError::damaged(StoredRecord::Library, DamageKind::UnknownVersion)),
    }
}

/// A stored row: its version byte, then the record.
fn versioned<T: for<'de> Deserialize<'de>>(stored: &[u8], version: u8, record: StoredRecord) -> Result<T> {
    match stored.split_first() {
        Some((&found, rest)) if found == version => decode_as(rest, record),
        Some(_) => Err(CoreError::damaged(record, DamageKind::UnknownVersion)),
        None => Err(CoreError::damaged(record, DamageKind::DoesNotDecode)),
    }
}

/// A named version of a note as listed (its text is kept apart).
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct NoteVersionRecord {
    /// The record that named it.
    pub(super) id: [u8; 16],
    pub(super) name: String,
    pub(super) author: [u8; 32],
    pub(super) author_name: String,
    pub(super) created_at: u64,
    /// The text's length, in UTF-16 units.
    pub(super) units: u32,
}

/// This device's own updates of a note, published and not compacted yet, one row
/// each ([`OwnNoteUpdate`]).
fn own_note_updates_namespace(group: &GroupId, note: &NodeId) -> String {
    format!("note-own/{group}{note}")
}

/// Updates of a note waiting for what they build on, one row each
/// ([`ParkedNoteUpdate`]).
fn parked_note_updates_namespace(group: &GroupId, note: &NodeId) -> String {
    format!("note-parked/{group}{note}")
}

/// Where the relay stored this device's note records, by group id and record id: the
/// position, 8 bytes big-endian ([`POSITION_LOST`] for one whose answer was lost).
const NS_OWN_POSITIONS: &str = "own-positions";

/// The position kept for a record of this device's stored before its answer was lost
/// (a resend answered `Conflict`): never to be known, so nothing is forgotten by it.
pub(super) const POSITION_LOST: u64 = u64::MAX;

/// Positions of other devices' updates of a note in the space's store, ordered by
/// position (empty rows).
fn foreign_note_updates_namespace(group: &GroupId, note: &NodeId) -> String {
    format!("note-foreign/{group}{note}")
}

/// Records of this device's kept at the relay amid what it forgets, by group id and
/// record id: one byte.
const NS_KEPT: &str = "kept-records";

/// Positions of a space's store that this device could not read as a note's update,
/// ordered by position (empty rows).
fn space_blockers_namespace(group: &GroupId) -> String {
    format!("forget-blockers/{group}")
}

/// Records to forget once the store is read as far as their compaction, ordered.
fn pending_forgets_namespace(group: &GroupId) -> String {
    format!("note-forgets/{group}")
}

/// A record of this device's to forget, covered by the compaction `covered_by` of note
/// `note`. Row: version (1) || note (16) || record (16) || key (32) || covered_by (16).
pub(super) struct PendingForget {
    pub(super) note: NodeId,
    pub(super) record: ContentId,
    pub(super) key: huisclos_protocol::ids::ForgetKey,
    pub(super) covered_by: ContentId,
}

impl NoteRow for PendingForget {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        note_row(&[self.note.as_bytes(), self.record.as_bytes(), self.key.as_bytes(), self.covered_by.as_bytes()])
    }

    fn decode(row: &[u8]) -> Result<Self> {
        let mut fields = NoteRowFields::open(row)?;
        let pending = Self {
            note: NodeId::from_bytes(fields.take()?),
            record: ContentId::from_bytes(fields.take()?),
            key: huisclos_protocol::ids::ForgetKey::from_bytes(fields.take()?),
            covered_by: ContentId::from_bytes(fields.take()?),
        };
        fields.end()?;
        Ok(pending)
    }
}

/// Records of this device's never to be forgotten, by group id and record id: one byte.
const NS_UNFORGETTABLE: &str = "unforgettable";

fn group_record_key(group: &GroupId, record: &ContentId) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(group.as_bytes());
    key[16..].copy_from_slice(record.as_bytes());
    key
}

/// The version of an [`OwnNoteUpdate`] row and a [`ParkedNoteUpdate`] row.
const NOTE_ROW_VERSION: u8 = 1;

/// An update this device published in a note, kept until a compaction covers it: the
/// client id it was typed under, the record's id and the key that forgets it, and the
/// update. Row: version (1) || client (8) || record (16) || key (32) || update.
pub(super) struct OwnNoteUpdate {
    pub(super) client: u64,
    pub(super) record: ContentId,
    pub(super) key: huisclos_protocol::ids::ForgetKey,
    pub(super) update: Vec<u8>,
}

impl NoteRow for OwnNoteUpdate {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        note_row(&[&self.client.to_be_bytes(), self.record.as_bytes(), self.key.as_bytes(), &self.update])
    }

    fn decode(row: &[u8]) -> Result<Self> {
        let mut fields = NoteRowFields::open(row)?;
        Ok(Self {
            client: u64::from_be_bytes(fields.take()?),
            record: ContentId::from_bytes(fields.take()?),
            key: huisclos_protocol::ids::ForgetKey::from_bytes(fields.take()?),
            update: fields.rest().to_vec(),
        })
    }
}

/// An update that builds on what this device has not merged yet, checked as far as
/// it can be alone: its author's client id and the update. Row: version (1) || client
/// (8) || update.
pub(super) struct ParkedNoteUpdate {
    pub(super) client: u64,
    pub(super) update: Vec<u8>,
}

impl NoteRow for ParkedNoteUpdate {
    fn encode(&self) -> Zeroizing<Vec<u8>> {
        note_row(&[&self.client.to_be_bytes(), &self.update])
    }

    fn decode(row: &[u8]) -> Result<Self> {
        let mut fields = NoteRowFields::open(row)?;
        Ok(Self { client: u64::from_be_bytes(fields.take()?), update: fields.rest().to_vec() })
    }
}

/// A row of this device's notes' housekeeping ([`OwnNoteUpdate`], [`ParkedNoteUpdate`],
/// [`PendingForget`]): a version byte ([`NOTE_ROW_VERSION`]), then fixed fields, then
/// perhaps bytes of any length.
trait NoteRow: Sized {
    fn encode(&self) -> Zeroizing<Vec<u8>>;
    fn decode(row: &[u8]) -> Result<Self>;
}

/// A note row of this version made of `fields`.
fn note_row(fields: &[&[u8]]) -> Zeroizing<Vec<u8>> {
    let mut row = Zeroizing::new(Vec::with_capacity(1 + fields.iter().map(|field| field.len()).sum::<usize>()));
    row.push(NOTE_ROW_VERSION);
    for field in fields {
        row.extend_from_slice(field);
    }
    row
}

/// The fields of a stored note row, read in order.
struct NoteRowFields<'a> {
    rest: &'a [u8],
}

impl<'a> NoteRowFields<'a> {
    /// What follows the row's version byte; a version this code does not know is
    /// refused as such (a later release wrote it), not misread.
    fn open(row: &'a [u8]) -> Result<Self> {
        match row.split_first() {
            Some((&NOTE_ROW_VERSION, rest)) => Ok(Self { rest }),
            Some(_) => Err(damaged_note_row(DamageKind::UnknownVersion)),
            None => Err(damaged_note_row(DamageKind::DoesNotDecode)),
        }
    }

    /// The next `N` bytes.
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let (field, rest) =
            self.rest.split_first_chunk::<N>().ok_or_else(|| damaged_note_row(DamageKind::DoesNotDecode))?;
        self.rest = rest;
        Ok(*field)
    }

    /// Everything after the fields taken.
    fn rest(self) -> &'a [u8] {
        self.rest
    }

    /// That nothing follows the fields taken.
    fn end(self) -> Result<()> {
        if self.rest.is_empty() { Ok(()) } else { Err(damaged_note_row(DamageKind::DoesNotDecode)) }
    }
}

fn damaged_note_row(kind: DamageKind) -> CoreError {
    CoreError::damaged(StoredRecord::Note, kind)
}

/// The updates a note merged since its last compaction, one row each.
fn note_updates_namespace(group: &GroupId, note: &NodeId) -> String {
    format!("note-updates/{group}{note}")
}

fn note_key(group: &GroupId, note: &NodeId) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(group.as_bytes());
    key[16..].copy_from_slice(note.as_bytes());
    key
}
/// Uploads waiting to finish, in order.
const NS_UPLOADS: &str = "uploads";
/// Downloads waiting to finish, in order.
const NS_DOWNLOADS: &str = "downloads";
/// Device-level work (linking, announcing), apart from any space.
const NS_DEVICE_OUTBOX: &str = "device-outbox";
/// Inbox deposits (Welcomes) waiting for the relay to take them, each retried on its
/// own schedule: an invitee's full inbox holds up neither the space nor other deposits.
const NS_DELIVERIES: &str = "deliveries";

/// A feed item as release 0.1 stored it (under `feed/`), read to be migrated.
#[derive(Deserialize)]
pub(super) struct FeedItemV1 {
    pub(super) id: [u8; 16],
    pub(super) author: [u8; 32],
    pub(super) author_name: String,
    pub(super) created_at: u64,
    pub(super) parent: Option<[u8; 16]>,
    pub(super) text: String,
    pub(super) edited: bool,
    pub(super) deleted: bool,
    pub(super) reactions: BTreeMap<String, BTreeSet<[u8; 32]>>,
    pub(super) position: u64,
}

impl From<FeedItemV1> for FeedRecord {
    fn from(old: FeedItemV1) -> Self {
        Self {
            id: old.id,
            author: old.author,
            author_name: old.author_name,
            created_at: old.created_at,
            parent: old.parent,
            text: old.text,
            edited: old.edited,
            deleted: old.deleted,
            reactions: old.reactions,
            position: old.position,
            moderated_by: None,
        }
    }
}

/// A feed item as stored (version [`FEED_RECORD_VERSION`]): the layout the public
/// `FeedItem` had when it was also the record, byte for byte, so that nothing stored
/// changes; apps read it as a [`FeedItem`], with typed ids.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct FeedRecord {
    pub(super) id: [u8; 16],
    pub(super) author: [u8; 32],
    pub(super) author_name: String,
    pub(super) created_at: u64,
    pub(super) parent: Option<[u8; 16]>,
    pub(super) text: String,
    pub(super) edited: bool,
    pub(super) deleted: bool,
    pub(super) reactions: BTreeMap<String, BTreeSet<[u8; 32]>>,
    pub(super) position: u64,
    pub(super) moderated_by: Option<ModeratorRecord>,
}

/// A moderator as stored inside a [`FeedRecord`].
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct ModeratorRecord {
    pub(super) identity: [u8; 32],
    pub(super) name: String,
}

impl FeedRecord {
    /// The item as apps see it; `waiting` is worked out from the outbox, never stored.
    pub(super) fn view(self, waiting: bool) -> FeedItem {
        let person = IdentityPublicKey::from_bytes;
        FeedItem {
            id: ContentId::from_bytes(self.id),
            author: person(self.author),
            author_name: self.author_name,
            created_at: self.created_at,
            parent: self.parent.map(ContentId::from_bytes),
            text: self.text,
            edited: self.edited,
            deleted: self.deleted,
            reactions: self
                .reactions
                .into_iter()
                .map(|(reaction, who)| (reaction, who.into_iter().map(person).collect()))
                .collect(),
            position: self.position,
            moderated_by: self.moderated_by.map(|m| Moderator { identity: person(m.identity), name: m.name }),
            waiting,
        }
    }
}

/// What the engine persists about its own profile (sealed in the vault, under
/// [`PROFILE_KEY`], as [`PROFILE_RECORD_VERSION`] and its encoding).
#[derive(Serialize, Deserialize)]
pub(super) struct ProfileRecord {
    /// The person's identity key.
    pub(super) identity: [u8; 32],
    /// Its secret, on the device that holds it (the one that created the identity, or
    /// one restored from the recovery words); linked devices never have it.
    pub(super) identity_secret: Option<[u8; 32]>,
    pub(super) auth: [u8; 32],
    pub(super) mls: [u8; 32],
    pub(super) name: String,
    pub(super) account: Option<[u8; 16]>,
    pub(super) certificate: Option<Vec<u8>>,
    /// The person's newest roster (contact card, wire bytes).
    pub(super) card: Option<Vec<u8>>,
    pub(super) next_outbox: u64,
    pub(super) next_device_item: u64,
    /// Spaces this person asked to join: their invitations are accepted on arrival.
    pub(super) requested: Vec<[u8; 16]>,
    /// Where the relay is ([`RelayEndpoint`] wire bytes).
    pub(super) relay: Option<Vec<u8>>,
    /// The relay invitation, until it opened the account (wire bytes).
    pub(super) invitation: Option<Vec<u8>>,
    /// The link offer shown, until a request answers it (wire bytes).
    pub(super) link_offer: Option<Vec<u8>>,
    /// Digests of device-ready notices and join requests already taken, with when
    /// they were issued: the same one again is refused.
    pub(super) replay: Vec<([u8; 32], u64)>,
    /// The signed transition by which this identity key replaced the previous one
    /// (wire bytes); every roster carries it.
    pub(super) transition: Option<Vec<u8>>,
    /// A profile restored from the recovery words: the old identity key's secret,
    /// kept only until the account exists and the transition to the new key is
    /// signed with it.
    pub(super) rotate_from: Option<[u8; 32]>,
}

impl Drop for ProfileRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.identity_secret.zeroize();
        self.rotate_from.zeroize();
        self.auth.zeroize();
        self.mls.zeroize();
    }
}

/// The profile as release 0.1 stored it (under `me`), read once to be migrated: every
/// device held the identity key then.
#[derive(Serialize, Deserialize)]
pub(super) struct ProfileRecordV1 {
    pub(super) identity: [u8; 32],
    pub(super) auth: [u8; 32],
    pub(super) mls: [u8; 32],
    pub(super) name: String,
    pub(super) account: Option<[u8; 16]>,
    pub(super) certificate: Option<Vec<u8>>,
    /// The certificates of this person's other devices.
    pub(super) devices: Vec<Vec<u8>>,
    pub(super) next_outbox: u64,
    pub(super) next_device_item: u64,
    /// Spaces this person asked to join: their invitations are accepted on arrival.
    pub(super) requested: Vec<[u8; 16]>,
    /// Where the relay is ([`RelayEndpoint`] wire bytes).
    pub(super) relay: Option<Vec<u8>>,
    /// The relay invitation, until it opened the account (wire bytes).
    pub(super) invitation: Option<Vec<u8>>,
    /// The link offer shown, until a request answers it (wire bytes).
    pub(super) link_offer: Option<Vec<u8>>,
}

impl Drop for ProfileRecordV1 {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.identity.zeroize();
        self.auth.zeroize();
        self.mls.zeroize();
    }
}

/// What the engine persists about each space besides MLS state.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct GroupMeta {
    /// The next log position to read in the current epoch.
    pub(super) next_seq: u64,
    /// The next content-store position to read.
    pub(super) content_next: u64,
    /// Log positions of this device's own entries not yet passed by the cursor.
    pub(super) own_seqs: BTreeSet<u64>,
    /// Whether the relay holds the group's log yet.
    pub(super) relay_created: bool,
    pub(super) removed: bool,
    /// Set when a commit the relay accepted was refused here: the space cannot advance.
    pub(super) stalled: bool,
    /// Who made that commit.
    pub(super) stalled_by: Option<[u8; 32]>,
    /// The space that continues this one, once a space manager recreated it.
    pub(super) replaced_by: Option<[u8; 16]>,
    /// Whether this device finished its first read of the space: what it reads
    /// before is history, and does not notify.
    pub(super) caught_up: bool,
    /// Whether `next_seq` is a position this device has read up to (a device that
    /// joined by Welcome learns where its first epoch starts from its first entry).
    pub(super) cursor_known: bool,
    /// Whether new posts stay silent (replies and reactions to this person still
    /// notify).
    pub(super) muted: bool,
    /// The log position of this device's own commit, accepted by the relay but merged
    /// only when the cursor reaches it (entries before it are read in the old epoch).
    pub(super) pending_commit_seq: Option<u64>,
    /// Whether the user accepted the invitation (spaces this device created: true).
    pub(super) accepted: bool,
    /// Who invited this device, as shown.
    pub(super) invited_by: String,
    pub(super) unread: u32,
    pub(super) feed_len: u64,
    /// The space's history: generations, keys, rosters, the ledger's chain.
    pub(super) history: History,
    /// Ids of items already applied, as records of version 2 and earlier kept them;
    /// empty since (they are kept by key under [`seen_namespace`]), kept for the layout.
    pub(super) seen: BTreeSet<[u8; 16]>,
    /// The secret of the request key on this device's space card, once one was issued.
    pub(super) request_secret: Option<[u8; 32]>,
    /// Its public key's id, which incoming requests name (found without the secret).
    pub(super) request_key_id: Option<[u8; 8]>,
    /// Requests to join waiting for a decision (wire bytes of verified requests).
    pub(super) join_requests: Vec<Vec<u8>>,
}

impl Drop for GroupMeta {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.request_secret.zeroize();
    }
}

impl GroupMeta {
    pub(super) fn new(history: History) -> Self {
        Self {
            next_seq: 0,
            content_next: 0,
            own_seqs: BTreeSet::new(),
            relay_created: false,
            removed: false,
            stalled: false,
            stalled_by: None,
            replaced_by: None,
            caught_up: false,
            cursor_known: false,
            muted: false,
            pending_commit_seq: None,
            accepted: false,
            invited_by: String::new(),
            unread: 0,
            feed_len: 0,
            history,
            seen: BTreeSet::new(),
            request_secret: None,
            request_key_id: None,
            join_requests: Vec::new(),
        }
    }

    /// A release-0.1 record: everything kept; the history keys become a legacy
    /// history (no ledger, no rosters), which leaves the space read-only until a space
    /// manager recreates it.
    pub(super) fn from_v1(old: &GroupMetaV1) -> Self {
        let mut meta = Self::new(History::legacy(&old.history));
        meta.next_seq = old.next_seq;
        meta.content_next = old.content_next;
        meta.own_seqs = old.own_seqs.clone();
        meta.relay_created = old.relay_created;
        meta.removed = old.removed;
        meta.stalled = old.stalled;
        meta.stalled_by = old.stalled_by;
        meta.replaced_by = old.replaced_by;
        meta.caught_up = old.caught_up;
        meta.cursor_known = old.cursor_known;
        meta.muted = old.muted;
        meta.pending_commit_seq = old.pending_commit_seq;
        meta.accepted = old.accepted;
        meta.invited_by = old.invited_by.clone();
        meta.unread = old.unread;
        meta.feed_len = old.feed_len;
        meta.seen = old.seen.clone();
        meta.request_secret = old.request_secret;
        meta.request_key_id = old.request_key_id;
        meta.join_requests = old.join_requests.clone();
        meta
    }
}

/// A space's record as release 0.1 stored it (under [`NS_GROUPS`]), read once to be
/// migrated.
#[derive(Serialize, Deserialize, Default, Clone)]
pub(super) struct GroupMetaV1 {
    /// The next log position to read in the current epoch.
    pub(super) next_seq: u64,
    /// The next content-store position to read.
    pub(super) content_next: u64,
    /// Log positions of this device's own entries not yet passed by the cursor.
    pub(super) own_seqs: BTreeSet<u64>,
    /// Whether the relay holds the group's log yet.
    pub(super) relay_created: bool,
    pub(super) removed: bool,
    /// Set when a commit the relay accepted was refused here: the space cannot advance.
    pub(super) stalled: bool,
    /// Who made that commit.
    pub(super) stalled_by: Option<[u8; 32]>,
    /// The space that continues this one, once a space manager recreated it.
    pub(super) replaced_by: Option<[u8; 16]>,
    /// Whether this device finished its first read of the space: what it reads
    /// before is history, and does not notify.
    pub(super) caught_up: bool,
    /// Whether `next_seq` is a position this device has read up to (a device that
    /// joined by Welcome learns where its first epoch starts from its first entry).
    pub(super) cursor_known: bool,
    /// Whether new posts stay silent (replies and reactions to this person still
    /// notify).
    pub(super) muted: bool,
    /// The log position of this device's own commit, accepted by the relay but merged
    /// only when the cursor reaches it (entries before it are read in the old epoch).
    pub(super) pending_commit_seq: Option<u64>,
    /// Whether the user accepted the invitation (spaces this device created: true).
    pub(super) accepted: bool,
    /// Who invited this device, as shown.
    pub(super) invited_by: String,
    pub(super) unread: u32,
    pub(super) feed_len: u64,
    /// History-key generations, sealed in the vault with the rest of this record.
    pub(super) history: Vec<(u32, [u8; 32])>,
    /// Ids of items already applied (de-duplication across resends and the two paths).
    pub(super) seen: BTreeSet<[u8; 16]>,
    /// The secret of the request key on this device's space card, once one was issued.
    pub(super) request_secret: Option<[u8; 32]>,
    /// Its public key's id, which incoming requests name (found without the secret).
    pub(super) request_key_id: Option<[u8; 8]>,
    /// Requests to join waiting for a decision (wire bytes of verified requests).
    pub(super) join_requests: Vec<Vec<u8>>,
}

impl Drop for GroupMetaV1 {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        for (_, key) in &mut self.history {
            key.zeroize();
        }
        self.request_secret.zeroize();
    }
}

/// A queued intention, persisted until done.
// No `Debug`: an outbox item holds a signed item's plaintext.
#[derive(Serialize, Deserialize, Clone)]
pub(super) enum OutboxItem {
    /// Create the group's log at the relay.
    CreateGroup { group: [u8; 16] },
    /// Publish an item (sealed under the history key, or in an MLS message).
    Content { group: [u8; 16], envelope: Vec<u8> },
    /// Release 0.1's "send history keys": dropped when its turn comes (keys are
    /// derived from MLS epochs since).
    HistoryKeys { group: [u8; 16] },
    /// Change membership or rules: built into a commit when its turn comes, on the
    /// newest state.
    Operation { group: [u8; 16], operation: Operation },
    /// Hand new members the space's history: one part of a [`HistoryGrant`] (the
    /// application payload's bytes), computed when the adding commit was accepted.
    HistoryGrant { group: [u8; 16], payload: Vec<u8> },
    /// Mark, in the content store, the start of the generation this device's commit
    /// started.
    Marker { group: [u8; 16] },
    /// Send a person's roster (contact card, wire bytes) to the space's members: this
    /// person's newest, or an invitee's.
    Roster { group: [u8; 16], card: Vec<u8> },
    /// Ask the relay to forget one of this device's records, which a compaction
    /// published before it covers (a later addition: older profiles hold none).
    /// Sent once this device has read the store as far as the compaction `covered_by`
    /// of note `note`, and only if no other device's update of the note lies between
    /// the record and it; dropped otherwise.
    Forget { group: [u8; 16], note: [u8; 16], record: [u8; 16], key: [u8; 32], covered_by: [u8; 16] },
}

impl OutboxItem {
    pub(super) fn group(&self) -> GroupId {
        match self {
            Self::CreateGroup { group }
            | Self::Content { group, .. }
            | Self::HistoryKeys { group }
            | Self::Operation { group, .. }
            | Self::HistoryGrant { group, .. }
            | Self::Roster { group, .. }
            | Self::Forget { group, .. }
            | Self::Marker { group } => GroupId::from_bytes(*group),
        }
    }
}

/// A Welcome to leave in invitees' inboxes, until the relay takes it.
#[derive(Serialize, Deserialize, Clone)]
pub(super) struct Delivery {
    pub(super) group: [u8; 16],
    pub(super) recipients: Vec<[u8; 16]>,
    /// The inbox item's bytes.
    pub(super) item: Vec<u8>,
    pub(super) attempts: u32,
    /// When to try next.
    pub(super) due: Now,
    /// Whether the person was told it waits.
    pub(super) reported: bool,
}

#[derive(Serialize, Deserialize, Clone)]
pub(super) enum Operation {
    Invite {
        card: Vec<u8>,
        role: u8,
    },
    /// Add one of this person's own devices (certificate bytes).
    AddDevice {
        certificate: Vec<u8>,
    },
    /// Remove one of this person's own devices (revoked).
    RemoveDevice {
        device: [u8; 16],
    },
    /// Propose this device's own removal (a member cannot commit its own removal).
    Leave,
    /// Commit the proposals waiting in the group (members' leaves).
    CommitProposals,
    /// Add a person known only by their devices' certificates (a member of the
    /// stalled space this one continues).
    Readd {
        certificates: Vec<Vec<u8>>,
        role: u8,
    },
    Remove {
        identity: [u8; 32],
    },
    SetRole {
        identity: [u8; 32],
        role: u8,
    },
    Rename {
        name: String,
    },
    Describe {
        description: String,
    },
    /// Move this device's place in the space to its certificate under the person's new
    /// identity key (an update of its own leaf), the person's role moved with it.
    RotateIdentity,
    /// A space manager adds a new device of a member (certificate bytes), in a space
    /// where new devices need approval.
    AddMemberDevice {
        certificate: Vec<u8>,
    },
    /// Whether new devices of members need a space manager's approval.
    SetDeviceApproval {
        on: bool,
    },
}

/// Device-level work, persisted until done.
#[derive(Serialize, Deserialize)]
pub(super) enum DeviceItem {
    /// Register the device of this link request and send it its grant.
    Link { request: Vec<u8> },
    /// Tell the person's other devices that this (newly linked) one is ready.
    Announce,
    /// Leave a sealed join request in a space card issuer's inbox.
    JoinRequest { device: [u8; 16], item: Vec<u8> },
    /// Revoke one of this person's devices at the relay.
    Revoke { device: [u8; 16] },
    /// Leave the person's newest roster (a contact card) in their other devices'
    /// inboxes.
    Roster { card: Vec<u8> },
    /// The same, for the roster that replaced the identity key: sealed also under the
    /// devices' `previous` certificates, the ones they hold until they read it.
    RosterAfterRotation { card: Vec<u8>, previous: Vec<Vec<u8>> },
}

// ---------------------------------------------------------------------------------
// Where each record lives.

// Where release 0.1 kept a space's feed items ([`FeedItemV1`]).
fn feed_namespace_v1(group: &GroupId) -> String {
    format!("feed/{}", hex::encode(group.as_bytes()))
}

/// Where a space's feed items are kept, as [`FEED_RECORD_VERSION`] and their encoding.
fn feed_namespace(group: &GroupId) -> String {
    format!("feed2/{}", hex::encode(group.as_bytes()))
}

/// The ids of a space's items this device applied, one row each (de-duplication across
/// resends and the two paths, log and content store). They outlive a removal from the
/// space, so that items shown before a new invitation are not shown twice.
fn seen_namespace(group: &GroupId) -> String {
    format!("seen/{}", hex::encode(group.as_bytes()))
}

/// The certificates a space's records carried, by [`CertificateRef`]: a version byte,
/// then the certificate. And under the reference followed by a generation (4 bytes,
/// big-endian), a version byte alone: the store holds a record of that generation
/// carrying it, so this device's records of the generation may refer to it.
fn certificates_namespace(group: &GroupId) -> String {
    format!("certificates/{}", hex::encode(group.as_bytes()))
}

fn stored_certificate_key(reference: &CertificateRef, generation: u32) -> [u8; 20] {
    let mut key = [0u8; 20];
    key[..16].copy_from_slice(reference.as_bytes());
    key[16..].copy_from_slice(&generation.to_be_bytes());
    key
}

/// The version of the rows under [`certificates_namespace`].
const SPACE_CERTIFICATE_RECORD_VERSION: u8 = 1;

fn order_namespace(group: &GroupId) -> String {
    format!("order/{}", hex::encode(group.as_bytes()))
}

/// The version of the records under [`feed_namespace`].
const FEED_RECORD_VERSION: u8 = 2;

#[cfg(test)]
mod conformance;

#[cfg(test)]
mod note_rows {
    use super::*;

    fn damage(error: CoreError) -> DamageKind {
        match error {
            CoreError::CorruptProfile(damage) => damage.how,
            other => panic!("not damage: {other}"),
        }
    }

    /// The rows a release wrote read back as written; one of a later version is
    /// refused as such, and one cut short, or longer than its fields, as damaged.
    #[test]
    fn note_rows_of_another_version_or_cut_short_are_refused_as_such() {
        let key = huisclos_protocol::ids::ForgetKey::from_bytes([7; 32]);
        let pending = PendingForget {
            note: NodeId::from_bytes([1; 16]),
            record: ContentId::from_bytes([2; 16]),
            key,
            covered_by: ContentId::from_bytes([3; 16]),
        };
        let row = pending.encode();
        assert_eq!(row.len(), 1 + 16 + 16 + 32 + 16);
        let read = PendingForget::decode(&row).unwrap();
        assert_eq!((read.note, read.record, read.covered_by), (pending.note, pending.record, pending.covered_by));
        assert_eq!(read.key.as_bytes(), key.as_bytes());
        let mut later = row.to_vec();
        later[0] = NOTE_ROW_VERSION + 1;
        assert!(matches!(damage(PendingForget::decode(&later).err().unwrap()), DamageKind::UnknownVersion));
        for bad in [&row[..row.len() - 1], &[row.as_slice(), &[0]].concat(), &[]] {
            assert!(matches!(damage(PendingForget::decode(bad).err().unwrap()), DamageKind::DoesNotDecode));
        }

        let own = OwnNoteUpdate { client: 0x3e, record: ContentId::from_bytes([4; 16]), key, update: vec![9; 5] };
        let row = own.encode();
        let read = OwnNoteUpdate::decode(&row).unwrap();
        assert_eq!((read.client, read.record, read.update), (0x3e, own.record, vec![9; 5]));
        assert!(OwnNoteUpdate::decode(&row[..1 + 8 + 16 + 32]).unwrap().update.is_empty());
        assert!(matches!(
            damage(OwnNoteUpdate::decode(&row[..1 + 8 + 16 + 31]).err().unwrap()),
            DamageKind::DoesNotDecode
        ));

        let parked = ParkedNoteUpdate { client: 0xb0b, update: vec![1, 2, 3] };
        let read = ParkedNoteUpdate::decode(&parked.encode()).unwrap();
        assert_eq!((read.client, read.update), (0xb0b, vec![1, 2, 3]));
        assert!(matches!(
            damage(ParkedNoteUpdate::decode(&[NOTE_ROW_VERSION, 0]).err().unwrap()),
            DamageKind::DoesNotDecode
        ));
    }
}
