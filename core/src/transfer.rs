//! What an upload or a download needs to resume after any interruption.
//!
//! A file is sealed chunk by chunk ([`crate::chunk`]) into the profile's `transfers/`
//! directory before anything is sent: those files are ciphertext under a key that only
//! the vault holds, so a copy of the disk learns nothing from them. The engine then
//! uploads one chunk after another, each from where the relay says it stopped
//! (`GetChunkStatus`), and publishes the file (its creation in the library and its
//! version, with the manifest) once every chunk is at the relay — so nobody sees a file
//! whose chunks are not all there. A download fetches one chunk at a time into memory,
//! checks it against its name, opens it, and writes it at its place in `<dest>.part`;
//! the record remembers how many chunks are done, so a restart goes on from there. At
//! most one sealed chunk is in memory, whatever the file's size.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use huisclos_protocol::ids::ChunkRef;
use serde::{Deserialize, Serialize};

use crate::chunk::CHUNK_LEN;
use crate::error::{CoreError, InvalidInput, Result};
pub use crate::media::Metadata;

/// The profile's directory of sealed chunks waiting for upload.
pub const STAGING_DIR: &str = "transfers";

/// Which way a transfer goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From this device to the relay.
    Upload,
    /// From the relay to this device.
    Download,
}

/// A file sealed into the profile's staging directory, ready to be queued for upload
/// ([`crate::engine::SpaceHandle::queue_upload`]). Sealing needs no engine state, so
/// an app does it without holding the engine (a large file takes seconds): see
/// [`seal_for_upload`].
///
/// Dropped without being queued (the profile locked meanwhile, the space gone, a
/// refusal), it removes its sealed chunks from the staging directory.
pub struct SealedFile {
    profile: PathBuf,
    /// `None` once queued: the upload record owns the chunks then.
    manifest: Option<crate::chunk::FileManifest>,
    /// An image's preview, made from the picture as uploaded.
    preview: Option<zeroize::Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for SealedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealedFile").field("length", &self.manifest.as_ref().map(|m| m.length)).finish_non_exhaustive()
    }
}

impl SealedFile {
    /// The manifest, for the upload record that now owns the chunks.
    pub(crate) fn into_manifest(mut self) -> Option<crate::chunk::FileManifest> {
        self.manifest.take()
    }

    /// The preview made while sealing (an image's picture, small), if any.
    pub(crate) fn take_preview(&mut self) -> Option<zeroize::Zeroizing<Vec<u8>>> {
        self.preview.take()
    }

    /// Whether a preview was made while sealing.
    pub fn has_preview(&self) -> bool {
        self.preview.is_some()
    }
}

impl Drop for SealedFile {
    fn drop(&mut self) {
        if let Some(manifest) = self.manifest.take() {
            for chunk in manifest.chunks.iter() {
                let _ = std::fs::remove_file(staged_path(&self.profile, chunk));
            }
        }
    }
}

/// Seals `length` bytes read from `reader`, chunk by chunk under a fresh key, into the
/// staging directory of the profile at `profile`: only ciphertext is written.
///
/// # Errors
/// [`crate::CoreError::Io`] when `reader` fails or ends before `length`, or the
/// staging directory cannot be written.
pub fn seal_for_upload(profile: &Path, reader: impl std::io::Read, length: u64) -> Result<SealedFile> {
    seal_for_upload_with(profile, reader, length, Metadata::Strip)
}

/// As [`seal_for_upload`], choosing whether an image's metadata goes ([`Metadata::Strip`],
/// what [`seal_for_upload`] does) or stays. An image to strip is read whole into memory
/// (at most [`crate::media::MAX_IMAGE_LEN`]), rewritten without its metadata
/// ([`crate::media::strip_metadata`]) and sealed from there; an image kept as taken
/// (within the same bound) is read whole too, for its preview, which is drawn anew from
/// the pixels and so holds no metadata; any other file is sealed as it is read.
///
/// # Errors
/// As [`seal_for_upload`]; [`crate::error::InvalidInput::ImageMetadata`] for an image
/// whose metadata cannot be taken out; [`crate::error::InvalidInput::FileChanged`] for
/// an image longer than `length`.
pub fn seal_for_upload_with(
    profile: &Path,
    mut reader: impl std::io::Read,
    length: u64,
    metadata: Metadata,
) -> Result<SealedFile> {
    let mut prefix = Vec::with_capacity(crate::media::SNIFF_LEN);
    (&mut reader).take(length.min(crate::media::SNIFF_LEN as u64)).read_to_end(&mut prefix)?;
    let image = crate::media::sniff(&prefix);
    match (image, metadata) {
        (Some(format), Metadata::Strip) => {
            if length > crate::media::MAX_IMAGE_LEN {
                return Err(CoreError::Invalid(InvalidInput::ImageMetadata {
                    format,
                    reason: crate::media::StripRefusal::TooLarge,
                }));
            }
            let whole = read_whole(prefix, reader, length)?;
            let stripped = zeroize::Zeroizing::new(crate::media::strip_metadata(&whole)?.into_owned());
            let mut sealed = seal_into_staging(profile, stripped.as_slice(), stripped.len() as u64)?;
            sealed.preview = crate::media::make_preview(&stripped).map(zeroize::Zeroizing::new);
            Ok(sealed)
        }
        (Some(_), Metadata::Keep) if length <= crate::media::MAX_IMAGE_LEN => {
            // Kept as taken, because the person chose to. The preview is drawn anew
            // from the pixels, so it holds none of what the file keeps (no GPS, no
            // camera): people who see only the preview learn nothing more.
            let whole = read_whole(prefix, reader, length)?;
            let mut sealed = seal_into_staging(profile, whole.as_slice(), length)?;
            sealed.preview = crate::media::make_preview(&whole).map(zeroize::Zeroizing::new);
            Ok(sealed)
        }
        _ => seal_into_staging(profile, std::io::Read::chain(prefix.as_slice(), reader), length),
    }
}

/// An image's bytes, all `length` of them (its first bytes already read into
/// `prefix`), in memory that is wiped when it goes; a file longer than `length` is
/// refused as changed.
fn read_whole(prefix: Vec<u8>, mut reader: impl std::io::Read, length: u64) -> Result<zeroize::Zeroizing<Vec<u8>>> {
    // The plaintext is held only here, and wiped when it goes; all of it is reserved at
    // once, since a growing buffer would leave copies behind.
    let prefix = zeroize::Zeroizing::new(prefix);
    let mut whole = zeroize::Zeroizing::new(Vec::with_capacity(usize::try_from(length).unwrap_or(0)));
    whole.extend_from_slice(&prefix);
    let rest = length.saturating_sub(whole.len() as u64);
    (&mut reader).take(rest).read_to_end(&mut whole)?;
    if (whole.len() as u64) < length {
        return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
    }
    if reader.read(&mut [0u8; 1])? != 0 {
        return Err(CoreError::Invalid(InvalidInput::FileChanged));
    }
    Ok(whole)
}

fn seal_into_staging(profile: &Path, reader: impl std::io::Read, length: u64) -> Result<SealedFile> {
    // Never `create_dir_all`: a profile wiped meanwhile must not be brought back as a
    // directory of chunks.
    match std::fs::create_dir(profile.join(STAGING_DIR)) {
        Err(error) if error.kind() != std::io::ErrorKind::AlreadyExists => return Err(error.into()),
        _ => {}
    }
    let mut written = Vec::new();
    let sealed = crate::chunk::seal_stream(reader, length, |chunk| {
        std::fs::write(staged_path(profile, &chunk.reference), &chunk.bytes)?;
        written.push(chunk.reference);
        Ok(())
    });
    match sealed {
        Ok(manifest) => Ok(SealedFile { profile: profile.to_path_buf(), manifest: Some(manifest), preview: None }),
        Err(error) => {
            // A file that could not be read whole leaves no chunk behind.
            for chunk in &written {
                let _ = std::fs::remove_file(staged_path(profile, chunk));
            }
            Err(error)
        }
    }
}

/// A file's creation, published with its first version.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct NewFile {
    pub(crate) name: String,
    pub(crate) parent: Option<crate::library::NodeId>,
}

/// An upload, persisted until the file is published.
#[derive(Serialize, Deserialize)]
pub(crate) struct UploadRecord {
    pub(crate) group: [u8; 16],
    pub(crate) node: crate::library::NodeId,
    /// Set for a new file; `None` for a new version of an existing one.
    pub(crate) create: Option<NewFile>,
    /// The manifest's wire bytes (its key: sealed in the vault with this record).
    pub(crate) manifest: Vec<u8>,
    /// Chunks the relay holds in full, from the first.
    pub(crate) done: u64,
}

/// A download, persisted until the file is in place.
#[derive(Serialize, Deserialize)]
pub(crate) struct DownloadRecord {
    pub(crate) group: [u8; 16],
    pub(crate) node: crate::library::NodeId,
    pub(crate) manifest: Vec<u8>,
    /// Where the file goes (written to `<dest>.part` until complete).
    pub(crate) dest: PathBuf,
    /// Chunks written, from the first.
    pub(crate) done: u64,
}

impl Drop for UploadRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.manifest.zeroize();
    }
}

impl Drop for DownloadRecord {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.manifest.zeroize();
    }
}

/// Where a sealed chunk waits for upload.
pub(crate) fn staged_path(profile: &Path, chunk: &ChunkRef) -> PathBuf {
    profile.join(STAGING_DIR).join(hex::encode(chunk.as_bytes()))
}

/// The file a download writes until it is complete.
pub(crate) fn part_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().map(std::ffi::OsStr::to_os_string).unwrap_or_default();
    name.push(".part");
    dest.with_file_name(name)
}

/// Writes chunk `index`'s plaintext at its place in the part file and syncs it.
pub(crate) fn write_chunk(part: &Path, index: usize, plaintext: &[u8]) -> Result<()> {
    let mut file = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(part)?;
    let at = index as u64 * CHUNK_LEN as u64;
    file.seek(SeekFrom::Start(at))?;
    file.write_all(plaintext)?;
    file.set_len(at + plaintext.len() as u64)?;
    file.sync_data()?;
    Ok(())
}
