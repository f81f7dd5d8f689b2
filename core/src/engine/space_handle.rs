//! A space's operations through a borrowed handle, `engine.space(&id)?`, as
//! `quinn-proto` hands out `conn.streams()`: the space is looked up once and every
//! operation after that names only what it acts on. The handle holds the engine
//! mutably for as long as it lives and adds no state of its own; each call is one
//! engine step, committed as the `Engine` method it stands for.

use super::*;
use crate::library::{NodeId, NodeView};

/// One space of the engine.
#[derive(Debug)]
pub struct SpaceHandle<'a> {
    engine: &'a mut Engine,
    id: GroupId,
}

impl Engine {
    /// The space `id`, for its operations.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when this device knows no such space.
    pub fn space(&mut self, id: &GroupId) -> Result<SpaceHandle<'_>> {
        if !self.spaces.contains_key(id) {
            return Err(CoreError::NotFound(Missing::Space));
        }
        Ok(SpaceHandle { engine: self, id: *id })
    }
}

impl SpaceHandle<'_> {
    /// The space's id.
    pub fn id(&self) -> GroupId {
        self.id
    }

    // Content.

    /// Posts news ([`Engine::post`]).
    ///
    /// # Errors
    /// As [`Engine::post`].
    pub fn post(&mut self, text: &str) -> Result<ContentId> {
        self.engine.post(&self.id, text)
    }

    /// Comments under a post or comment ([`Engine::comment`]).
    ///
    /// # Errors
    /// As [`Engine::comment`].
    pub fn comment(&mut self, parent: &ContentId, text: &str) -> Result<ContentId> {
        self.engine.comment(&self.id, parent, text)
    }

    /// Adds or withdraws a reaction ([`Engine::react`]).
    ///
    /// # Errors
    /// As [`Engine::react`].
    pub fn react(&mut self, target: &ContentId, reaction: &str, on: bool) -> Result<ContentId> {
        self.engine.react(&self.id, target, reaction, on)
    }

    /// Edits an item ([`Engine::edit`]).
    ///
    /// # Errors
    /// As [`Engine::edit`].
    pub fn edit(&mut self, target: &ContentId, text: &str) -> Result<ContentId> {
        self.engine.edit(&self.id, target, text)
    }

    /// Deletes an item ([`Engine::delete`]).
    ///
    /// # Errors
    /// As [`Engine::delete`].
    pub fn delete(&mut self, target: &ContentId) -> Result<ContentId> {
        self.engine.delete(&self.id, target)
    }

    /// A page of the feed, newest first ([`Engine::feed_page`]).
    ///
    /// # Errors
    /// Store errors.
    pub fn feed_page(&self, before: Option<u64>, limit: usize) -> Result<Vec<FeedItem>> {
        self.engine.feed_page(&self.id, before, limit)
    }

    /// One item ([`Engine::item`]).
    ///
    /// # Errors
    /// Store errors.
    pub fn item(&self, id: &ContentId) -> Result<Option<FeedItem>> {
        self.engine.item(&self.id, id)
    }

    /// Marks everything read ([`Engine::mark_read`]).
    ///
    /// # Errors
    /// Store errors.
    pub fn mark_read(&mut self) -> Result<()> {
        self.engine.mark_read(&self.id)
    }

    /// Mutes or unmutes new posts ([`Engine::set_muted`]).
    ///
    /// # Errors
    /// Store errors.
    pub fn set_muted(&mut self, muted: bool) -> Result<()> {
        self.engine.set_muted(&self.id, muted)
    }

    // Members and rules.

    /// The members, one entry per person ([`Engine::members`]).
    ///
    /// # Errors
    /// As [`Engine::members`].
    pub fn members(&self) -> Result<Vec<MemberSummary>> {
        self.engine.members(&self.id)
    }

    /// The space's rules: its name, description, policy, history mode and roles.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the group holds no well-formed rules.
    pub fn rules(&self) -> Result<SpaceRules> {
        self.engine.rules(&self.id)
    }

    /// Invites a person ([`Engine::invite`]).
    ///
    /// # Errors
    /// As [`Engine::invite`].
    pub fn invite(&mut self, card: &ContactCard, role: Role) -> Result<()> {
        self.engine.invite(&self.id, card, role)
    }

    /// Re-admits a person's new devices ([`Engine::readmit`]).
    ///
    /// # Errors
    /// As [`Engine::readmit`].
    pub fn readmit(&mut self, card: &ContactCard) -> Result<()> {
        self.engine.readmit(&self.id, card)
    }

    /// Removes a person ([`Engine::remove`]).
    ///
    /// # Errors
    /// As [`Engine::remove`].
    pub fn remove(&mut self, person: &IdentityPublicKey) -> Result<()> {
        self.engine.remove(&self.id, person)
    }

    /// Gives a person a role ([`Engine::set_role`]).
    ///
    /// # Errors
    /// As [`Engine::set_role`].
    pub fn set_role(&mut self, person: &IdentityPublicKey, role: Role) -> Result<()> {
        self.engine.set_role(&self.id, person, role)
    }

    /// Leaves the space ([`Engine::leave`]).
    ///
    /// # Errors
    /// As [`Engine::leave`].
    pub fn leave(&mut self) -> Result<()> {
        self.engine.leave(&self.id)
    }

    /// Renames the space ([`Engine::rename`]).
    ///
    /// # Errors
    /// As [`Engine::rename`].
    pub fn rename(&mut self, name: SpaceName) -> Result<()> {
        self.engine.rename(&self.id, name)
    }

    /// Describes the space ([`Engine::describe`]).
    ///
    /// # Errors
    /// As [`Engine::describe`].
    pub fn describe(&mut self, description: SpaceDescription) -> Result<()> {
        self.engine.describe(&self.id, description)
    }

    /// The card people ask to join with ([`Engine::space_card`]).
    ///
    /// # Errors
    /// As [`Engine::space_card`].
    pub fn card(&mut self) -> Result<SpaceCard> {
        self.engine.space_card(&self.id)
    }

    /// Requests to join waiting for a decision ([`Engine::join_requests`]).
    ///
    /// # Errors
    /// As [`Engine::join_requests`].
    pub fn join_requests(&self) -> Result<Vec<JoinRequestSummary>> {
        self.engine.join_requests(&self.id)
    }

    /// Admits a person who asked ([`Engine::approve_request`]).
    ///
    /// # Errors
    /// As [`Engine::approve_request`].
    pub fn approve_request(&mut self, person: &IdentityPublicKey, role: Role) -> Result<()> {
        self.engine.approve_request(&self.id, person, role)
    }

    /// Declines a person who asked ([`Engine::decline_request`]).
    ///
    /// # Errors
    /// As [`Engine::decline_request`].
    pub fn decline_request(&mut self, person: &IdentityPublicKey) -> Result<()> {
        self.engine.decline_request(&self.id, person)
    }

    // The library.

    /// The library ([`Engine::library`]).
    ///
    /// # Errors
    /// Store errors.
    pub fn library(&self) -> Result<Library> {
        self.engine.library(&self.id)
    }

    /// Creates a folder ([`Engine::create_folder`]).
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn create_folder(&mut self, parent: Option<NodeId>, name: &str) -> Result<NodeId> {
        self.engine.create_folder(&self.id, parent, name)
    }

    /// Creates a note ([`Engine::create_note`]).
    ///
    /// # Errors
    /// As [`Engine::create_note`].
    pub fn create_note(&mut self, parent: Option<NodeId>, name: &str, text: &str) -> Result<NodeId> {
        self.engine.create_note(&self.id, parent, name, text)
    }

    /// A note's text ([`Engine::note_text`]).
    ///
    /// # Errors
    /// As [`Engine::note_text`].
    pub fn note_text(&self, note: &NodeId) -> Result<String> {
        self.engine.note_text(&self.id, note)
    }

    /// Applies edits to a note ([`Engine::edit_note`]).
    ///
    /// # Errors
    /// As [`Engine::edit_note`].
    pub fn edit_note(&mut self, note: &NodeId, edits: &[crate::note::TextEdit]) -> Result<()> {
        self.engine.edit_note(&self.id, note, edits)
    }

    /// Names the note's text as it is now ([`Engine::name_note_version`]).
    ///
    /// # Errors
    /// As [`Engine::name_note_version`].
    pub fn name_note_version(&mut self, note: &NodeId, name: &str) -> Result<ContentId> {
        self.engine.name_note_version(&self.id, note, name)
    }

    /// A note's named versions ([`Engine::note_versions`]).
    ///
    /// # Errors
    /// As [`Engine::note_versions`].
    pub fn note_versions(&self, note: &NodeId) -> Result<Vec<super::NoteVersionView>> {
        self.engine.note_versions(&self.id, note)
    }

    /// A named version's text ([`Engine::note_version_text`]).
    ///
    /// # Errors
    /// As [`Engine::note_version_text`].
    pub fn note_version_text(&self, note: &NodeId, version: &ContentId) -> Result<String> {
        self.engine.note_version_text(&self.id, note, version)
    }

    /// Restores a named version as a new edit ([`Engine::restore_note_version`]).
    ///
    /// # Errors
    /// As [`Engine::restore_note_version`].
    pub fn restore_note_version(&mut self, note: &NodeId, version: &ContentId) -> Result<()> {
        self.engine.restore_note_version(&self.id, note, version)
    }

    /// Undoes this device's last edit of a note ([`Engine::undo_note`]).
    ///
    /// # Errors
    /// As [`Engine::undo_note`].
    pub fn undo_note(&mut self, note: &NodeId) -> Result<bool> {
        self.engine.undo_note(&self.id, note)
    }

    /// Redoes the edit last undone ([`Engine::redo_note`]).
    ///
    /// # Errors
    /// As [`Engine::redo_note`].
    pub fn redo_note(&mut self, note: &NodeId) -> Result<bool> {
        self.engine.redo_note(&self.id, note)
    }

    /// Shows others this device is in `note` (or, `None`, in no note of the space), with
    /// its selection ([`Engine::show_in_note`]).
    ///
    /// # Errors
    /// As [`Engine::show_in_note`].
    pub fn show_in_note(&mut self, note: Option<&NodeId>, selection: Option<(u32, u32)>) -> Result<()> {
        self.engine.show_in_note(&self.id, note, selection)
    }

    /// Who else is in a note now, and where ([`Engine::note_presence`]).
    ///
    /// # Errors
    /// As [`Engine::note_presence`].
    pub fn note_presence(&self, note: &NodeId) -> Result<Vec<super::NotePeer>> {
        self.engine.note_presence(&self.id, note)
    }

    /// Writes a note's text ([`Engine::write_note`]).
    ///
    /// # Errors
    /// As [`Engine::write_note`].
    pub fn write_note(&mut self, note: &NodeId, text: &str) -> Result<()> {
        self.engine.write_note(&self.id, note, text)
    }

    /// Renames an item ([`Engine::rename_node`]).
    ///
    /// # Errors
    /// As [`Engine::rename_node`].
    pub fn rename_node(&mut self, node: &NodeId, name: &str) -> Result<()> {
        self.engine.rename_node(&self.id, node, name)
    }

    /// Moves an item ([`Engine::move_node`]).
    ///
    /// # Errors
    /// As [`Engine::move_node`].
    pub fn move_node(&mut self, node: &NodeId, parent: Option<NodeId>) -> Result<()> {
        self.engine.move_node(&self.id, node, parent)
    }

    /// Puts an item in the trash ([`Engine::trash_node`]).
    ///
    /// # Errors
    /// As [`Engine::trash_node`].
    pub fn trash_node(&mut self, node: &NodeId) -> Result<()> {
        self.engine.trash_node(&self.id, node)
    }

    /// Takes an item out of the trash ([`Engine::restore_node`]).
    ///
    /// # Errors
    /// As [`Engine::restore_node`].
    pub fn restore_node(&mut self, node: &NodeId) -> Result<()> {
        self.engine.restore_node(&self.id, node)
    }

    /// Seals a file into the profile and queues its upload ([`Engine::put_file`]).
    ///
    /// # Errors
    /// As [`Engine::put_file`].
    pub fn put_file(
        &mut self,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        source: &std::path::Path,
    ) -> Result<NodeId> {
        self.engine.put_file(&self.id, parent, name, version_of, source)
    }

    /// A file version's preview ([`Engine::file_preview`]).
    ///
    /// # Errors
    /// As [`Engine::file_preview`].
    pub fn file_preview(&self, node: &NodeId, version: Option<usize>) -> Result<Option<Vec<u8>>> {
        self.engine.file_preview(&self.id, node, version)
    }

    /// Seals a file read from a stream and queues its upload ([`Engine::put_file_from`]).
    ///
    /// # Errors
    /// As [`Engine::put_file_from`].
    pub fn put_file_from(
        &mut self,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        reader: impl std::io::Read,
        length: u64,
        metadata: crate::media::Metadata,
    ) -> Result<NodeId> {
        self.engine.put_file_from(&self.id, parent, name, version_of, reader, length, metadata)
    }

    /// Whether a file named `name` may be uploaded here now ([`Engine::check_upload`]).
    ///
    /// # Errors
    /// As [`Engine::check_upload`].
    pub fn check_upload(&self, name: &str) -> Result<()> {
        self.engine.check_upload(&self.id, name)
    }

    /// Queues the upload of a file sealed beforehand ([`Engine::queue_upload`]).
    ///
    /// # Errors
    /// As [`Engine::queue_upload`].
    pub fn queue_upload(
        &mut self,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        sealed: crate::transfer::SealedFile,
    ) -> Result<NodeId> {
        self.engine.queue_upload(&self.id, parent, name, version_of, sealed)
    }

    /// Queues a file's download ([`Engine::get_file`]).
    ///
    /// # Errors
    /// As [`Engine::get_file`].
    pub fn get_file(&mut self, node: &NodeId, version: Option<usize>, dest: &std::path::Path) -> Result<()> {
        self.engine.get_file(&self.id, node, version, dest)
    }

    // Devices.

    /// Whether a space manager approves every new device ([`Engine::set_device_approval`]).
    ///
    /// # Errors
    /// As [`Engine::set_device_approval`].
    pub fn set_device_approval(&mut self, on: bool) -> Result<()> {
        self.engine.set_device_approval(&self.id, on)
    }

    /// Members' devices waiting for approval ([`Engine::pending_devices`]).
    ///
    /// # Errors
    /// As [`Engine::pending_devices`].
    pub fn pending_devices(&self) -> Result<Vec<DeviceCertificate>> {
        self.engine.pending_devices(&self.id)
    }

    /// Approves a member's device ([`Engine::approve_device`]).
    ///
    /// # Errors
    /// As [`Engine::approve_device`].
    pub fn approve_device(&mut self, device: &DeviceId) -> Result<()> {
        self.engine.approve_device(&self.id, device)
    }

    // Observed lists.

    /// Observes the feed ([`Engine::observe_feed`]).
    ///
    /// # Errors
    /// As [`Engine::observe_feed`].
    pub fn observe_feed(&mut self, page: usize) -> Result<(ListId, Vec<FeedItem>)> {
        self.engine.observe_feed(&self.id, page)
    }

    /// Observes the members ([`Engine::observe_members`]).
    ///
    /// # Errors
    /// As [`Engine::observe_members`].
    pub fn observe_members(&mut self) -> Result<(ListId, Vec<MemberSummary>)> {
        self.engine.observe_members(&self.id)
    }

    /// Observes a folder of the library ([`Engine::observe_folder`]).
    ///
    /// # Errors
    /// As [`Engine::observe_folder`].
    pub fn observe_folder(&mut self, folder: Option<NodeId>) -> Result<(ListId, Vec<NodeView>)> {
        self.engine.observe_folder(&self.id, folder)
    }

    /// Observes the requests to join ([`Engine::observe_join_requests`]).
    ///
    /// # Errors
    /// As [`Engine::observe_join_requests`].
    pub fn observe_join_requests(&mut self) -> Result<(ListId, Vec<JoinRequestSummary>)> {
        self.engine.observe_join_requests(&self.id)
    }
}
