//! A space and what is in it, by noun, as the apps reach them: `Profile::space(id)`
//! gives a [`Space`] (its own settings and life), and the space gives its [`Feed`],
//! its [`SpaceLibrary`] and its [`Members`]. Each holds the profile and the space's id
//! only; every method makes one engine call through the space's handle
//! (`engine.space(&id)?`), so a space that is gone answers `NotFound`.

use std::path::Path;
use std::sync::Arc;

use huisclos_core::CoreError;
use huisclos_core::identity::ContactCard;
use huisclos_core::media::Metadata;
use huisclos_core::space::{SpaceDescription, SpaceName};
use huisclos_protocol::ids::GroupId;

use crate::error::Result;
use crate::profile::Inner;
use crate::types::{self, *};

/// One space of a profile.
#[derive(uniffi::Object)]
pub struct Space {
    pub(crate) inner: Arc<Inner>,
    pub(crate) id: GroupId,
}

impl std::fmt::Debug for Space {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Space").field("space", &self.id.to_string()).finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Space {
    /// The space's id (hex).
    pub fn id(&self) -> String {
        self.id.to_string()
    }

    /// Its feed: posts, comments, reactions, and their observation.
    pub fn feed(&self) -> Arc<Feed> {
        Arc::new(Feed { inner: self.inner.clone(), id: self.id })
    }

    /// Its library: folders, files and notes.
    pub fn library(&self) -> Arc<SpaceLibrary> {
        Arc::new(SpaceLibrary { inner: self.inner.clone(), id: self.id })
    }

    /// Its members, roles and requests to join.
    pub fn members(&self) -> Arc<Members> {
        Arc::new(Members { inner: self.inner.clone(), id: self.id })
    }

    /// Re-admits a member who recovered their identity on a new device (their new
    /// contact card): their old devices are removed, the new ones added with the same
    /// role.
    pub fn readmit(&self, contact_card: String) -> Result<()> {
        let card = ContactCard::from_text(&contact_card)?;
        self.inner.act(|engine| engine.space(&self.id)?.readmit(&card))
    }

    /// Accepts an invitation to a space.
    pub fn accept_invitation(&self) -> Result<()> {
        self.inner.act(|engine| engine.accept_invitation(&self.id))
    }

    /// Leaves a space.
    pub fn leave(&self) -> Result<()> {
        self.inner.act(|engine| engine.space(&self.id)?.leave())
    }

    /// Renames a space.
    pub fn rename(&self, name: String) -> Result<()> {
        let name = SpaceName::new(name)?;
        self.inner.act(|engine| engine.space(&self.id)?.rename(name))
    }

    /// Describes a space.
    pub fn describe(&self, description: String) -> Result<()> {
        let description = SpaceDescription::new(description)?;
        self.inner.act(|engine| engine.space(&self.id)?.describe(description))
    }

    /// Mutes or unmutes a space's new-post notifications.
    pub fn set_muted(&self, muted: bool) -> Result<()> {
        self.inner.with(|engine| engine.space(&self.id)?.set_muted(muted))
    }

    /// Marks everything in a space read.
    pub fn mark_read(&self) -> Result<()> {
        self.inner.with(|engine| engine.space(&self.id)?.mark_read())
    }

    /// A space card (`huisclos-space:` text) to hand out, for open and on-request
    /// spaces.
    pub fn card(&self) -> Result<String> {
        self.inner.act(|engine| Ok(engine.space(&self.id)?.card()?.to_text()))
    }

    /// Recreates a stalled space without whoever stalled it; returns the new space.
    pub fn recreate(&self) -> Result<String> {
        self.inner.act(|engine| Ok(engine.recreate_space(&self.id)?.to_string()))
    }

    /// Whether new devices of members need a space manager's approval in `space`.
    pub fn set_device_approval(&self, on: bool) -> Result<()> {
        self.inner.act(|engine| engine.space(&self.id)?.set_device_approval(on))
    }

    /// Members' new devices waiting for a space manager's approval in `space`.
    pub fn pending_devices(&self) -> Result<Vec<Device>> {
        self.inner.with(|engine| {
            let this = engine.device_id();
            Ok(engine.space(&self.id)?.pending_devices()?.iter().map(|c| Device::from_certificate(c, &this)).collect())
        })
    }

    /// Adds a member's pending device to `space` (a space manager's approval).
    pub fn approve_device(&self, device: String) -> Result<()> {
        let device = types::device_id(&device)?;
        self.inner.act(|engine| engine.space(&self.id)?.approve_device(&device))
    }
}

/// A space's feed.
#[derive(uniffi::Object)]
pub struct Feed {
    pub(crate) inner: Arc<Inner>,
    pub(crate) id: GroupId,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed").field("space", &self.id.to_string()).finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Feed {
    /// Posts to a space; returns the item's id.
    pub fn post(&self, text: String) -> Result<String> {
        self.inner.act(|engine| Ok(engine.space(&self.id)?.post(&text)?.to_string()))
    }

    /// Comments on a post or comment; returns the comment's id.
    pub fn comment(&self, parent: String, text: String) -> Result<String> {
        let parent = types::content_id(&parent)?;
        self.inner.act(|engine| Ok(engine.space(&self.id)?.comment(&parent, &text)?.to_string()))
    }

    /// Adds (`on`) or takes back a reaction.
    pub fn react(&self, item: String, reaction: String, on: bool) -> Result<()> {
        let item = types::content_id(&item)?;
        self.inner.act(|engine| engine.space(&self.id)?.react(&item, &reaction, on).map(drop))
    }

    /// Replaces an item's text.
    pub fn edit(&self, item: String, text: String) -> Result<()> {
        let item = types::content_id(&item)?;
        self.inner.act(|engine| engine.space(&self.id)?.edit(&item, &text).map(drop))
    }

    /// Deletes an item.
    pub fn delete(&self, item: String) -> Result<()> {
        let item = types::content_id(&item)?;
        self.inner.act(|engine| engine.space(&self.id)?.delete(&item).map(drop))
    }

    /// A space's posts and comments, in this device's arrival order.
    pub fn items(&self) -> Result<Vec<FeedItem>> {
        self.inner.with(|engine| Ok(engine.feed(&self.id)?.into_iter().map(FeedItem::from).collect()))
    }

    /// A page of a space's feed, newest first: at most `limit` items (up to 500) that
    /// arrived before `before` (the newest, if none). The next page is asked with the
    /// last item's `position`. Opening a long feed costs one page, not the feed.
    pub fn page(&self, before: Option<u64>, limit: u32) -> Result<Vec<FeedItem>> {
        let limit = usize::try_from(limit.min(500)).unwrap_or(500);
        self.inner.with(|engine| {
            Ok(engine.space(&self.id)?.feed_page(before, limit)?.into_iter().map(FeedItem::from).collect())
        })
    }
}

/// A space's library. (Not `Library`: the Kotlin bindings import JNA's `Library`.)
#[derive(uniffi::Object)]
pub struct SpaceLibrary {
    pub(crate) inner: Arc<Inner>,
    pub(crate) id: GroupId,
}

impl std::fmt::Debug for SpaceLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpaceLibrary").field("space", &self.id.to_string()).finish_non_exhaustive()
    }
}

#[uniffi::export]
impl SpaceLibrary {
    /// Every item of a space's library: folders before their contents, then the trash.
    pub fn nodes(&self) -> Result<Vec<LibraryNode>> {
        self.inner.with(|engine| Ok(types::library_nodes(&engine.space(&self.id)?.library()?)))
    }

    /// A file's versions, oldest first.
    pub fn versions(&self, file: String) -> Result<Vec<FileVersion>> {
        let file = types::node_id(&file)?;
        self.inner.with(|engine| {
            Ok(engine
                .library(&self.id)?
                .versions(&file)
                .into_iter()
                .zip(0u32..)
                .map(|(v, index)| FileVersion {
                    index,
                    author: hex::encode(v.stamp.author),
                    at: v.stamp.at,
                    length: v.length,
                })
                .collect())
        })
    }

    /// A note's text.
    pub fn read_note(&self, note: String) -> Result<String> {
        let note = types::node_id(&note)?;
        self.inner.with(|engine| engine.space(&self.id)?.note_text(&note))
    }

    /// Applies edits to a note, as an editor reports them: each deletes `delete`
    /// UTF-16 code units at `at` and inserts `insert` there, in the text as the
    /// previous edit left it. Others' edits meanwhile are kept.
    pub fn edit_note(&self, note: String, edits: Vec<crate::types::NoteTextEdit>) -> Result<()> {
        let note = types::node_id(&note)?;
        let edits: Vec<huisclos_core::note::TextEdit> = edits
            .into_iter()
            .map(|e| huisclos_core::note::TextEdit { at: e.at, delete: e.delete, insert: e.insert })
            .collect();
        self.inner.act(|engine| engine.space(&self.id)?.edit_note(&note, &edits))
    }

    /// Names the note's text as it is now ("Before the hearing"): every member sees the
    /// version and can read or restore it. Returns its id (hex).
    pub fn name_note_version(&self, note: String, name: String) -> Result<String> {
        let note = types::node_id(&note)?;
        self.inner.act(|engine| engine.space(&self.id)?.name_note_version(&note, &name)).map(|id| id.to_string())
    }

    /// A note's named versions, oldest first.
    pub fn note_versions(&self, note: String) -> Result<Vec<crate::types::NoteVersionInfo>> {
        let note = types::node_id(&note)?;
        self.inner.with(|engine| {
            Ok(engine
                .space(&self.id)?
                .note_versions(&note)?
                .into_iter()
                .map(|version| crate::types::NoteVersionInfo {
                    id: version.id.to_string(),
                    name: version.name,
                    author: hex::encode(version.author.as_bytes()),
                    author_name: version.author_name,
                    created_at: version.created_at,
                    units: version.units,
                })
                .collect())
        })
    }

    /// The text of a named version.
    pub fn note_version_text(&self, note: String, version: String) -> Result<String> {
        let (note, version) = (types::node_id(&note)?, types::content_id(&version)?);
        self.inner.with(|engine| engine.space(&self.id)?.note_version_text(&note, &version))
    }

    /// Restores a named version as a new edit (undoable, and nothing earlier is lost).
    pub fn restore_note_version(&self, note: String, version: String) -> Result<()> {
        let (note, version) = (types::node_id(&note)?, types::content_id(&version)?);
        self.inner.act(|engine| engine.space(&self.id)?.restore_note_version(&note, &version))
    }

    /// Undoes this profile's last edit of `note` (made since the note was opened here;
    /// others' edits are never undone, and what they wrote since stays) and sends it.
    /// Returns whether there was one. The note's text then differs: read it again.
    pub fn undo_note(&self, note: String) -> Result<bool> {
        let note = types::node_id(&note)?;
        self.inner.act(|engine| engine.space(&self.id)?.undo_note(&note))
    }

    /// Redoes the edit `undo_note` last undid; returns whether there was one.
    pub fn redo_note(&self, note: String) -> Result<bool> {
        let note = types::node_id(&note)?;
        self.inner.act(|engine| engine.space(&self.id)?.redo_note(&note))
    }

    /// Shows the others in the space that this device has `note` open (none: no note
    /// of this space), with its selection from `anchor` to `head` in UTF-16 code units
    /// (equal for a caret). Sent within a second, repeated while the note stays open,
    /// never stored by the relay.
    pub fn show_in_note(&self, note: Option<String>, anchor: Option<u32>, head: Option<u32>) -> Result<()> {
        let note = note.as_deref().map(types::node_id).transpose()?;
        let selection = anchor.map(|anchor| (anchor, head.unwrap_or(anchor)));
        self.inner.act(|engine| engine.space(&self.id)?.show_in_note(note.as_ref(), selection))
    }

    /// Who else has `note` open now, and where their selections are.
    pub fn note_presence(&self, note: String) -> Result<Vec<crate::types::NotePeer>> {
        let note = types::node_id(&note)?;
        self.inner.with(|engine| {
            Ok(engine
                .space(&self.id)?
                .note_presence(&note)?
                .into_iter()
                .map(|peer| crate::types::NotePeer {
                    identity: hex::encode(peer.identity.as_bytes()),
                    name: peer.name,
                    anchor: peer.selection.map(|s| s.0),
                    head: peer.selection.map(|s| s.1),
                })
                .collect())
        })
    }

    /// Creates a folder (at the top when `parent` is none); returns its id.
    pub fn create_folder(&self, parent: Option<String>, name: String) -> Result<String> {
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| Ok(hex::encode(engine.space(&self.id)?.create_folder(parent, &name)?)))
    }

    /// Creates a note; returns its id.
    pub fn create_note(&self, parent: Option<String>, name: String, text: String) -> Result<String> {
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| Ok(hex::encode(engine.space(&self.id)?.create_note(parent, &name, &text)?)))
    }

    /// Replaces a note's text.
    pub fn write_note(&self, note: String, text: String) -> Result<()> {
        let note = types::node_id(&note)?;
        self.inner.act(|engine| engine.space(&self.id)?.write_note(&note, &text))
    }

    /// Renames a library item.
    pub fn rename_node(&self, node: String, name: String) -> Result<()> {
        let node = types::node_id(&node)?;
        self.inner.act(|engine| engine.space(&self.id)?.rename_node(&node, &name))
    }

    /// Moves a library item into a folder (to the top when `parent` is none).
    pub fn move_node(&self, node: String, parent: Option<String>) -> Result<()> {
        let node = types::node_id(&node)?;
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        self.inner.act(|engine| engine.space(&self.id)?.move_node(&node, parent))
    }

    /// Puts a library item in the trash.
    pub fn trash_node(&self, node: String) -> Result<()> {
        let node = types::node_id(&node)?;
        self.inner.act(|engine| engine.space(&self.id)?.trash_node(&node))
    }

    /// Takes a library item out of the trash.
    pub fn restore_node(&self, node: String) -> Result<()> {
        let node = types::node_id(&node)?;
        self.inner.act(|engine| engine.space(&self.id)?.restore_node(&node))
    }

    /// Seals the file at `source` into the profile, chunk by chunk, and queues its
    /// upload (as a new version of `version_of`, or a new file named `name` in
    /// `parent`); returns the file's id. The upload runs at the next sync (or at once
    /// while watching), with `Transfer` events; the file shows in the library once
    /// every chunk is at the relay.
    pub fn put_file(
        &self,
        parent: Option<String>,
        name: String,
        version_of: Option<String>,
        source: String,
    ) -> Result<String> {
        self.upload_path(parent, &name, version_of, &source, Metadata::Strip)
    }

    /// The preview of a file's newest version (`version`: counted from the oldest),
    /// a small JPEG (at most 160 pixels a side) its uploader sent with it, to show
    /// before or without downloading the file; `None` when it has none.
    pub fn file_preview(&self, node: String, version: Option<u32>) -> Result<Option<Vec<u8>>> {
        let node = types::node_id(&node)?;
        let version = version.map(|v| v as usize);
        self.inner.with(|engine| engine.space(&self.id)?.file_preview(&node, version))
    }

    /// As [`SpaceLibrary::put_file`], keeping an image's metadata (where and when it was
    /// taken, the camera), which `put_file` takes out: only when the person chose to,
    /// knowing what it tells.
    pub fn put_file_keeping_metadata(
        &self,
        parent: Option<String>,
        name: String,
        version_of: Option<String>,
        source: String,
    ) -> Result<String> {
        self.upload_path(parent, &name, version_of, &source, Metadata::Keep)
    }

    /// As [`SpaceLibrary::put_file`], for an app that holds the file's bytes rather than a
    /// path (a phone's content URI, a desktop's drop): they go straight into sealing,
    /// and are wiped from memory once sealed; nothing of them is written in clear.
    pub fn put_file_bytes(
        &self,
        parent: Option<String>,
        name: String,
        version_of: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<String> {
        self.upload_bytes(parent, &name, version_of, bytes, Metadata::Strip)
    }

    /// As [`SpaceLibrary::put_file_bytes`], keeping an image's metadata (where and when
    /// it was taken, the camera): only when the person chose to, as for evidence whose
    /// origin must show, knowing what it tells.
    pub fn put_file_bytes_keeping_metadata(
        &self,
        parent: Option<String>,
        name: String,
        version_of: Option<String>,
        bytes: Vec<u8>,
    ) -> Result<String> {
        self.upload_bytes(parent, &name, version_of, bytes, Metadata::Keep)
    }

    /// Queues the download of a file's newest version (or version `version`, counted
    /// from the oldest) to `dest`. Each chunk is checked before it is written; `dest`
    /// appears only once complete.
    pub fn get_file(&self, file: String, version: Option<u32>, dest: String) -> Result<()> {
        let file = types::node_id(&file)?;
        let version = version.map(|v| usize::try_from(v).unwrap_or(usize::MAX));
        self.inner.act(|engine| engine.space(&self.id)?.get_file(&file, version, Path::new(&dest)))
    }
}

/// A space's members, their roles, and the requests to join it.
#[derive(uniffi::Object)]
pub struct Members {
    pub(crate) inner: Arc<Inner>,
    pub(crate) id: GroupId,
}

impl std::fmt::Debug for Members {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Members").field("space", &self.id.to_string()).finish_non_exhaustive()
    }
}

#[uniffi::export]
impl Members {
    /// A space's members.
    pub fn list(&self) -> Result<Vec<Member>> {
        self.inner.with(|engine| Ok(engine.space(&self.id)?.members()?.into_iter().map(Member::from).collect()))
    }

    /// Invites the person of a contact card to a space with a role.
    pub fn invite(&self, contact_card: String, role: Role) -> Result<()> {
        let card = ContactCard::from_text(&contact_card)?;
        self.inner.act(|engine| engine.space(&self.id)?.invite(&card, role.into()))
    }

    /// Removes a member (with all their devices) from a space.
    pub fn remove(&self, person: String) -> Result<()> {
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&self.id)?.remove(&person))
    }

    /// Changes a member's role.
    pub fn set_role(&self, person: String, role: Role) -> Result<()> {
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&self.id)?.set_role(&person, role.into()))
    }

    /// Requests to join a space waiting for a decision.
    pub fn join_requests(&self) -> Result<Vec<JoinRequest>> {
        self.inner
            .with(|engine| Ok(engine.space(&self.id)?.join_requests()?.into_iter().map(JoinRequest::from).collect()))
    }

    /// Admits a person who asked to join, with a role.
    pub fn approve_request(&self, person: String, role: Role) -> Result<()> {
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&self.id)?.approve_request(&person, role.into()))
    }

    /// Declines a request to join.
    pub fn decline_request(&self, person: String) -> Result<()> {
        let person = types::person(&person)?;
        self.inner.act(|engine| engine.space(&self.id)?.decline_request(&person))
    }
}

impl SpaceLibrary {
    /// Uploads the file at `source` (the ids as the app gives them).
    fn upload_path(
        &self,
        parent: Option<String>,
        name: &str,
        version_of: Option<String>,
        source: &str,
        metadata: Metadata,
    ) -> Result<String> {
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        let version_of = version_of.as_deref().map(types::node_id).transpose()?;
        let source = Path::new(source);
        let length = std::fs::metadata(source).map_err(CoreError::from)?.len();
        let reader = std::fs::File::open(source).map_err(CoreError::from)?;
        self.upload(parent, name, version_of, reader, length, metadata)
    }

    /// Uploads `bytes`, wiped from memory once sealed (the ids as the app gives them).
    fn upload_bytes(
        &self,
        parent: Option<String>,
        name: &str,
        version_of: Option<String>,
        bytes: Vec<u8>,
        metadata: Metadata,
    ) -> Result<String> {
        let bytes = zeroize::Zeroizing::new(bytes);
        let parent = parent.as_deref().map(types::node_id).transpose()?;
        let version_of = version_of.as_deref().map(types::node_id).transpose()?;
        let length = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        self.upload(parent, name, version_of, bytes.as_slice(), length, metadata)
    }

    /// Checks that the upload is allowed, seals the file without holding the engine
    /// (seconds for a large file, during which the app's other commands go on), then
    /// queues it.
    fn upload(
        &self,
        parent: Option<huisclos_core::library::NodeId>,
        name: &str,
        version_of: Option<huisclos_core::library::NodeId>,
        reader: impl std::io::Read,
        length: u64,
        metadata: Metadata,
    ) -> Result<String> {
        self.inner.with(|engine| engine.space(&self.id)?.check_upload(name))?;
        // The chunks are written under the sealing lock, which the panic wipe waits for;
        // it is released before the engine is taken again (a listener may wipe).
        let sealing = self.inner.sealing.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let sealed = huisclos_core::transfer::seal_for_upload_with(self.inner.dir(), reader, length, metadata)?;
        drop(sealing);
        // A refusal or a closed profile below drops `sealed`, which removes its chunks.
        self.inner
            .act(|engine| Ok(hex::encode(engine.space(&self.id)?.queue_upload(parent, name, version_of, sealed)?)))
    }
}
