//! A space's library: folders, files, notes and their versions.

use super::*;

impl Engine {
    // -----------------------------------------------------------------------------
    // The library.

    /// The space's library, as this device knows it.
    ///
    /// # Errors
    /// Store errors.
    pub fn library(&self, space: &GroupId) -> Result<Library> {
        self.store.library(space)
    }

    /// Publishes a change to the library, dated after every change applied; returns
    /// the id of its record.
    pub(super) fn library_op(&mut self, space: &GroupId, op: LibraryOp) -> Result<ContentId> {
        let at = self.library(space)?.next_time(self.now);
        self.publish_at(space, ContentBody::Library(op), at)
    }

    pub(super) fn new_node(
        &mut self,
        space: &GroupId,
        kind: NodeKind,
        parent: Option<NodeId>,
        name: &str,
    ) -> Result<NodeId> {
        let node = NodeId::random();
        let name = NodeName::new(name)?;
        self.library_op(space, LibraryOp::Create(CreateNode { node, kind, name, parent }))?;
        Ok(node)
    }

    /// Creates a folder in `parent` (`None`: the top of the library).
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; [`CoreError::Invalid`] for a bad name.
    pub fn create_folder(&mut self, space: &GroupId, parent: Option<NodeId>, name: &str) -> Result<NodeId> {
        self.new_node(space, NodeKind::Folder, parent, name)
    }

    /// Creates a note with its text.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn create_note(&mut self, space: &GroupId, parent: Option<NodeId>, name: &str, text: &str) -> Result<NodeId> {
        let node = self.new_node(space, NodeKind::Note, parent, name)?;
        if !text.is_empty() {
            self.write_note(space, &node, text)?;
        }
        Ok(node)
    }

    /// Renames a folder, file or note.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn rename_node(&mut self, space: &GroupId, node: &NodeId, name: &str) -> Result<()> {
        self.library_op(space, LibraryOp::Rename(RenameNode { node: *node, name: NodeName::new(name)? }))?;
        Ok(())
    }

    /// Moves a folder, file or note into `parent` (`None`: the top).
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn move_node(&mut self, space: &GroupId, node: &NodeId, parent: Option<NodeId>) -> Result<()> {
        self.library_op(space, LibraryOp::Move(MoveNode { node: *node, parent }))?;
        Ok(())
    }

    /// Uploads the file at `source` as a new file in `parent` named `name`, or — with
    /// `version_of` — as a new version of that file. The file is sealed chunk by chunk
    /// into the profile (ciphertext only) at once; the chunks go to the relay in the
    /// background, resuming where they stopped after any interruption, with
    /// [`ClientEvent::Transfer`] events; the file appears in the library once all its
    /// chunks are there. Returns the file's node.
    ///
    /// An image loses its metadata first (where and when it was taken, the camera:
    /// [`crate::media`]); [`Engine::put_file_with`] can keep it.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; I/O errors reading `source`;
    /// [`InvalidInput::ImageMetadata`] for an image whose metadata cannot be taken out.
    pub fn put_file(
        &mut self,
        space: &GroupId,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        source: &std::path::Path,
    ) -> Result<NodeId> {
        self.put_file_with(space, parent, name, version_of, source, crate::media::Metadata::Strip)
    }

    /// As [`Engine::put_file`], choosing whether an image's metadata goes or stays.
    ///
    /// # Errors
    /// As [`Engine::put_file`].
    pub fn put_file_with(
        &mut self,
        space: &GroupId,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        source: &std::path::Path,
        metadata: crate::media::Metadata,
    ) -> Result<NodeId> {
        let length = std::fs::metadata(source)?.len();
        // Read straight from the file: sealing reads whole chunks, and a buffer in
        // between would be one more copy of the plaintext left in freed memory.
        let reader = std::fs::File::open(source)?;
        self.put_file_from(space, parent, name, version_of, reader, length, metadata)
    }

    /// As [`Engine::put_file`], reading the file's `length` bytes from `reader` (an app
    /// that holds a stream, not a path: a phone's content URI, a desktop's drop). The
    /// plaintext goes straight into sealing; nothing of it is written to disk.
    ///
    /// # Errors
    /// As [`Engine::put_file`]; [`CoreError::Io`] when `reader` ends before `length`.
    #[allow(clippy::too_many_arguments)]
    pub fn put_file_from(
        &mut self,
        space: &GroupId,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        reader: impl std::io::Read,
        length: u64,
        metadata: crate::media::Metadata,
    ) -> Result<NodeId> {
        self.check_upload(space, name)?;
        let sealed = crate::transfer::seal_for_upload_with(self.store.dir(), reader, length, metadata)?;
        self.queue_upload(space, parent, name, version_of, sealed)
    }

    /// Whether this person may upload a file named `name` to the space now: checked
    /// before sealing (which takes long), and again when queueing.
    ///
    /// # Errors
    /// [`CoreError::Forbidden`] for readers; [`CoreError::Invalid`] for a bad name.
    pub fn check_upload(&self, space: &GroupId, name: &str) -> Result<()> {
        if !self.rules(space)?.role_of(&self.identity).may_contribute() {
            return Err(CoreError::Forbidden(Refusal::ReaderWrites));
        }
        NodeName::new(name)?;
        Ok(())
    }

    /// Queues the upload of a file sealed beforehand ([`crate::transfer::seal_for_upload`],
    /// outside the engine's lock), as a new file in `parent` named `name` or a new
    /// version of `version_of`. A refusal discards the sealed chunks.
    ///
    /// # Errors
    /// As [`Engine::check_upload`]; store errors.
    pub fn queue_upload(
        &mut self,
        space: &GroupId,
        parent: Option<NodeId>,
        name: &str,
        version_of: Option<NodeId>,
        mut sealed: crate::transfer::SealedFile,
    ) -> Result<NodeId> {
        // On a refusal, `sealed` is dropped here and removes its chunks.
        self.check_upload(space, name)?;
        let name = NodeName::new(name)?;
        let (node, create) = match version_of {
            Some(node) => (node, None),
            None => {
                let node = NodeId::random();
                (node, Some(NewFile { name: name.as_str().to_owned(), parent }))
            }
        };
        let preview = sealed.take_preview();
        let manifest = sealed.into_manifest().ok_or(CoreError::Invalid(InvalidInput::UnexpectedAnswer))?;
        let record = UploadRecord { group: *space.as_bytes(), node, create, manifest: manifest.to_wire(), done: 0 };
        self.store.uploads().push(&record)?;
        self.store.set_pending_preview(&manifest.file, preview.as_deref().map(Vec::as_slice))?;
        self.persist()?;
        self.push_job(Job::Transfers);
        Ok(node)
    }

    /// Downloads the newest version of the file `node` (or version `version`, counted
    /// from the oldest) to `dest`: chunk by chunk, each checked and opened before it is
    /// written to `<dest>.part`, which becomes `dest` once complete. A download cut off
    /// goes on from the last whole chunk.
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such file or version.
    pub fn get_file(
        &mut self,
        space: &GroupId,
        node: &NodeId,
        version: Option<usize>,
        dest: &std::path::Path,
    ) -> Result<()> {
        let manifest = self.file_version(space, node, version)?.manifest()?;
        let record = DownloadRecord {
            group: *space.as_bytes(),
            node: *node,
            manifest: manifest.to_wire(),
            dest: dest.to_path_buf(),
            done: 0,
        };
        let _ = std::fs::remove_file(crate::transfer::part_path(dest));
        self.store.downloads().push(&record)?;
        self.persist()?;
        self.push_job(Job::Transfers);
        Ok(())
    }

    /// Transfers not finished yet (uploads, downloads).
    ///
    /// # Errors
    /// Store errors.
    pub fn pending_transfers(&self) -> Result<(usize, usize)> {
        Ok((self.store.uploads().len()?, self.store.downloads().len()?))
    }

    /// Puts a folder, file or note in the trash (it can be restored).
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn trash_node(&mut self, space: &GroupId, node: &NodeId) -> Result<()> {
        self.library_op(space, LibraryOp::Trash(TrashNode { node: *node }))?;
        Ok(())
    }

    /// Takes a folder, file or note out of the trash.
    ///
    /// # Errors
    /// As [`Engine::create_folder`].
    pub fn restore_node(&mut self, space: &GroupId, node: &NodeId) -> Result<()> {
        self.library_op(space, LibraryOp::Restore(RestoreNode { node: *node }))?;
        Ok(())
    }

    /// The preview of the newest version of the file `node` (or of version `version`,
    /// counted from the oldest): a small JPEG of its picture, which its uploader sent
    /// with it, so that it shows before (or without) downloading the file. `None` when
    /// the version has none (not an image, or from a device that sends none).
    ///
    /// # Errors
    /// [`CoreError::NotFound`] when there is no such file or version; store errors.
    pub fn file_preview(&self, space: &GroupId, node: &NodeId, version: Option<usize>) -> Result<Option<Vec<u8>>> {
        let chosen = self.file_version(space, node, version)?;
        self.store.file_preview(space, node, &ContentId::from_bytes(chosen.stamp.op))
    }

    /// The newest version of the file `node`, or version `version` counted from the
    /// oldest.
    fn file_version(&self, space: &GroupId, node: &NodeId, version: Option<usize>) -> Result<crate::library::Version> {
        let mut versions = self.library(space)?.versions(node);
        match version {
            Some(v) if v < versions.len() => Ok(versions.swap_remove(v)),
            Some(_) => Err(CoreError::NotFound(Missing::File)),
            None => versions.pop().ok_or(CoreError::NotFound(Missing::File)),
        }
    }

    /// A preview of a file's version, as received: only from the version's own
    /// author, for a version this device holds, and a small baseline JPEG with nothing
    /// but its picture ([`crate::media::is_plain_preview`]). Of two previews of one
    /// version, every device keeps the one whose record id is least, whatever order
    /// they came in.
    pub(super) fn apply_file_preview(
        &mut self,
        group: &GroupId,
        author: &crate::identity::CertificateBody,
        record: &ContentId,
        preview: &crate::content::FilePreview,
    ) -> Result<()> {
        let library = self.library(group)?;
        let ours = library
            .versions(&preview.node)
            .iter()
            .any(|v| v.stamp.op == *preview.version.as_bytes() && v.stamp.author == *author.identity.as_bytes());
        if !ours {
            return Err(CoreError::Forbidden(Refusal::NotTheVersionsAuthor));
        }
        let image = preview.image.as_bytes();
        if !crate::media::is_plain_preview(image) {
            return Err(CoreError::Decode(huisclos_protocol::Error::Invalid { what: "file preview" }));
        }
        self.store.put_file_preview(group, &preview.node, &preview.version, record, image)?;
        self.events.push_back(ClientEvent::LibraryChanged(*group));
        self.observed.library_changed(group);
        Ok(())
    }
}
