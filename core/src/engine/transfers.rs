//! Transfers: uploads and downloads of sealed file chunks, one chunk piece at a time,
//! resumed after a restart from the records in the store.

use super::*;

impl Engine {
    /// The next request of the first unfinished transfer (uploads first: they free the
    /// staging space); finishes transfers whose chunks are all done on the way.
    pub(super) fn plan_transfer(&mut self) -> Result<Option<(RequestBody, Step)>> {
        while let Some((index, record)) = self.store.uploads().first(1)?.into_iter().next() {
            let group = GroupId::from_bytes(record.group);
            let usable = self.spaces.get(&group).is_some_and(|s| !s.meta.removed && !s.meta.stalled);
            let manifest = FileManifest::from_wire(&record.manifest)?;
            if !usable {
                self.drop_upload(index, &manifest)?;
                self.reject(Some(group), Rejection::UploadDropped);
                continue;
            }
            let chunk = record.done as usize;
            if chunk >= manifest.chunks.len() {
                self.publish_upload(index, record, manifest)?;
                continue;
            }
            let Some(space) = self.spaces.get(&group) else { continue };
            if !space.meta.relay_created {
                return Ok(None);
            }
            let reference = manifest.chunks[chunk];
            let body = huisclos_protocol::messages::GetChunkStatus { access: self.access(&group)?, chunk: reference };
            return Ok(Some((body.into(), Step::Upload { index, chunk })));
        }
        while let Some((index, record)) = self.store.downloads().first(1)?.into_iter().next() {
            let group = GroupId::from_bytes(record.group);
            let manifest = FileManifest::from_wire(&record.manifest)?;
            if self.spaces.get(&group).is_none_or(|s| s.meta.removed) {
                self.store.downloads().remove(index);
                self.persist()?;
                self.reject(Some(group), Rejection::DownloadDropped);
                continue;
            }
            let chunk = record.done as usize;
            if chunk >= manifest.chunks.len() {
                let part = crate::transfer::part_path(&record.dest);
                if !part.exists() {
                    // An empty file: one empty chunk, nothing written yet.
                    crate::transfer::write_chunk(&part, 0, &[])?;
                }
                std::fs::rename(&part, &record.dest)?;
                self.store.downloads().remove(index);
                self.persist()?;
                self.events.push_back(ClientEvent::Transfer {
                    space: group,
                    node: record.node,
                    direction: Direction::Download,
                    done: manifest.length,
                    total: manifest.length,
                    finished: true,
                });
                continue;
            }
            let offset = match &self.transfers.download_buffer {
                Some((i, c, buffer)) if *i == index && *c == chunk => buffer.len(),
                _ => {
                    self.transfers.download_buffer = Some((index, chunk, Vec::new()));
                    0
                }
            };
            let body = huisclos_protocol::messages::GetChunk {
                access: self.access(&group)?,
                chunk: manifest.chunks[chunk],
                offset: chunk_offset(offset)?,
                max_len: chunk_offset(huisclos_protocol::limits::MAX_CHUNK_PIECE_LEN)?,
            };
            return Ok(Some((body.into(), Step::Download { index, chunk })));
        }
        Ok(None)
    }

    /// Waits before the transfer is tried again, longer each time it fails: other
    /// requests succeeding meanwhile do not shorten the wait.
    pub(super) fn back_off_transfer(&mut self) {
        self.transfers.failures = self.transfers.failures.saturating_add(1);
        self.requests.failures = self.requests.failures.max(self.transfers.failures - 1);
        self.back_off(0);
    }

    pub(super) fn drop_upload(&mut self, index: u64, manifest: &FileManifest) -> Result<()> {
        for chunk in manifest.chunks.iter() {
            let _ = std::fs::remove_file(crate::transfer::staged_path(self.store.dir(), chunk));
        }
        self.store.uploads().remove(index);
        self.store.set_pending_preview(&manifest.file, None)?;
        self.persist()
    }

    /// Every chunk is at the relay: the file (or its new version) is published.
    pub(super) fn publish_upload(&mut self, index: u64, record: UploadRecord, manifest: FileManifest) -> Result<()> {
        let group = GroupId::from_bytes(record.group);
        if let Some(create) = &record.create {
            let op = LibraryOp::Create(CreateNode {
                node: record.node,
                kind: NodeKind::File,
                name: NodeName::new(create.name.clone())?,
                parent: create.parent,
            });
            self.library_op(&group, op)?;
        }
        let (length, node) = (manifest.length, record.node);
        let version =
            self.library_op(&group, LibraryOp::AddVersion(AddVersion { node, manifest: manifest.clone() }))?;
        // Its preview right after it: every device holds the version when the preview
        // comes, in the relay's order. A nicety: the version is published already, so
        // a preview that cannot go (the file turned into something else meanwhile)
        // is dropped, never a reason to publish the version again.
        if let Some(image) = self.store.pending_preview(&manifest.file)? {
            let sent = crate::content::PreviewImage::new(image).map_err(CoreError::from).and_then(|image| {
                let preview = crate::content::FilePreview { node, version, image };
                self.publish(&group, ContentBody::FilePreview(preview))
            });
            if let Err(error) = sent {
                tracing::warn!(%error, "a file's preview was not sent");
            }
        }
        self.drop_upload(index, &manifest)?;
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node,
            direction: Direction::Upload,
            done: length,
            total: length,
            finished: true,
        });
        Ok(())
    }

    pub(super) fn on_upload_answer(
        &mut self,
        index: u64,
        chunk: usize,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(mut record) = self.store.uploads().get(index)? else { return Ok(()) };
        let group = GroupId::from_bytes(record.group);
        let manifest = FileManifest::from_wire(&record.manifest)?;
        let received = match answer {
            Ok(ResponseBody::ChunkStatus(status)) => status.received.get() as usize,
            // Not started at the relay (or dropped before it was complete).
            Err(RelayError::NotFound) => 0,
            Err(RelayError::StaleEpoch { .. }) => {
                self.on_stale(group);
                self.push_job(Job::Transfers);
                return Ok(());
            }
            Err(error) => return Err(CoreError::Relay(error)),
            Ok(_) => return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        };
        let reference =
            manifest.chunks.get(chunk).ok_or(CoreError::damaged(StoredRecord::Upload, DamageKind::Mismatch))?;
        let sealed = std::fs::read(crate::transfer::staged_path(self.store.dir(), reference))?;
        // Progress in the file's own bytes, as the person knows its size.
        let before: u64 = (0..chunk).map(|i| manifest.chunk_len(i) as u64).sum();
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node: record.node,
            direction: Direction::Upload,
            done: before + received.min(manifest.chunk_len(chunk)) as u64,
            total: manifest.length,
            finished: false,
        });
        if received >= sealed.len() {
            record.done = chunk as u64 + 1;
            self.store.uploads().put(index, &record)?;
            self.persist()?;
            self.requests.jobs.push_front(Job::Transfers);
            return Ok(());
        }
        let end = (received + huisclos_protocol::limits::MAX_CHUNK_PIECE_LEN).min(sealed.len());
        let body = huisclos_protocol::messages::PutChunk {
            access: self.access(&group)?,
            chunk: *reference,
            total_len: chunk_offset(sealed.len())?,
            offset: chunk_offset(received)?,
            data: huisclos_protocol::messages::ChunkPiece::new(sealed[received..end].to_vec())?,
        };
        self.requests.follow_ups.push_back((body.into(), Step::Upload { index, chunk }));
        Ok(())
    }

    pub(super) fn on_download_answer(
        &mut self,
        index: u64,
        chunk: usize,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> Result<()> {
        let Some(mut record) = self.store.downloads().get(index)? else { return Ok(()) };
        let group = GroupId::from_bytes(record.group);
        let data = match answer {
            Ok(ResponseBody::ChunkData(data)) => data,
            Err(RelayError::StaleEpoch { .. }) => {
                self.on_stale(group);
                self.push_job(Job::Transfers);
                return Ok(());
            }
            Err(RelayError::NotFound) => {
                // Not (yet) at the relay: the download waits, and is tried again later.
                self.transfers.download_buffer = None;
                self.back_off_transfer();
                return Ok(());
            }
            Err(error) => return Err(CoreError::Relay(error)),
            Ok(_) => return Err(CoreError::Invalid(InvalidInput::UnexpectedAnswer)),
        };
        let manifest = FileManifest::from_wire(&record.manifest)?;
        let expected = manifest.chunk_len(chunk) + crate::chunk::CHUNK_OVERHEAD;
        let Some((_, _, buffer)) =
            self.transfers.download_buffer.as_mut().filter(|(i, c, _)| *i == index && *c == chunk)
        else {
            return Ok(());
        };
        if data.offset.get() as usize != buffer.len()
            || data.total_len.get() as usize != expected
            || buffer.len() + data.data.len() > expected
        {
            // Refused, and asked for again after a wait: a relay that keeps serving
            // wrong pieces is not asked in a loop.
            self.transfers.download_buffer = None;
            self.back_off_transfer();
            return Err(CoreError::Verification(Unverified::Chunk));
        }
        buffer.extend_from_slice(data.data.as_bytes());
        if buffer.len() < expected {
            self.requests.jobs.push_front(Job::Transfers);
            return Ok(());
        }
        let sealed = std::mem::take(buffer);
        self.transfers.download_buffer = None;
        let opened = FileOpener::new(&manifest).and_then(|opener| opener.open(chunk, &sealed));
        let plaintext = match opened {
            Ok(plaintext) => plaintext,
            Err(error) => {
                // Not the chunk the file names: refused, and asked for again later.
                self.back_off_transfer();
                return Err(error);
            }
        };
        crate::transfer::write_chunk(&crate::transfer::part_path(&record.dest), chunk, &plaintext)?;
        self.transfers.failures = 0;
        record.done = chunk as u64 + 1;
        self.store.downloads().put(index, &record)?;
        self.persist()?;
        let done = (0..=chunk).map(|i| manifest.chunk_len(i) as u64).sum();
        self.events.push_back(ClientEvent::Transfer {
            space: group,
            node: record.node,
            direction: Direction::Download,
            done,
            total: manifest.length,
            finished: false,
        });
        self.requests.jobs.push_front(Job::Transfers);
        Ok(())
    }
}

/// The transfers' state in memory (the transfers themselves are in the store).
#[derive(Default)]
pub(super) struct TransferState {
    /// The sealed chunk being downloaded: record, chunk, bytes so far.
    pub(super) download_buffer: Option<(u64, usize, Vec<u8>)>,
    /// Chunks refused (or missing) in a row.
    pub(super) failures: u32,
}
