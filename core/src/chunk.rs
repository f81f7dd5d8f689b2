//! Files cut into chunks and sealed on the device, before anything leaves it.
//!
//! Each file version gets a random 256-bit *file key* and a random 16-byte *file id*.
//! Its plaintext is cut into chunks of [`CHUNK_LEN`] bytes (the last may be shorter,
//! never empty unless the file is), and chunk `i` of `n` is sealed with
//! ChaCha20-Poly1305 under the file key with the nonce `i` (big-endian, 11 bytes) and a
//! final byte that is 1 for the last chunk and 0 otherwise — the STREAM construction:
//! every chunk has a distinct nonce, a chunk moved to another position does not open,
//! and a file cut short is refused because its new last chunk was not sealed as last.
//! The associated data binds the file id and the chunk count, so chunks of two files
//! under one key (which never happens: keys are per version) could not be mixed either.
//!
//! A sealed chunk is addressed by the SHA-256 of its bytes ([`ChunkRef`]): the relay
//! stores and serves it by that name, and a downloaded chunk is checked against the name
//! before it is opened. The [`FileManifest`] — id, key, length, chunk names — travels
//! only inside the space's encrypted content, so the relay holds ciphertext it cannot
//! open and cannot tell which chunks make one file.
//!
//! Sealing and opening work one chunk at a time ([`seal_stream`], [`FileOpener`]), so
//! memory stays at a few chunks whatever the file's size; sealing names each chunk on a
//! second thread while the next is sealed.

use std::io::Read;

use chacha20poly1305::aead::{Aead, AeadInPlace, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use huisclos_protocol::codec::{BoundedVec, Reader, Wire, put_varint};
use huisclos_protocol::ids::ChunkRef;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{CoreError, InvalidInput, Limit, Result, Unverified};

/// Plaintext bytes per chunk (the last chunk may be shorter).
pub const CHUNK_LEN: usize = 512 * 1024;
/// The Poly1305 tag after each chunk's ciphertext.
const TAG_LEN: usize = 16;
/// The most chunks one file has: 3 GiB at [`CHUNK_LEN`]. The manifest (32 bytes per
/// chunk) must fit, signed and sealed, in one content record.
pub const MAX_CHUNKS: usize = 6 * 1024;
/// Bytes the seal adds to each chunk.
pub const CHUNK_OVERHEAD: usize = 16;
/// Domain separation for a chunk's associated data.
pub const CHUNK_LABEL: &[u8] = b"huisclos/1 chunk";

/// What a member needs to fetch and open one version of a file. It holds the file's
/// key: it travels only inside sealed content, and `Debug` does not print the key.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct FileManifest {
    /// The version's random id (bound into every chunk).
    pub file: [u8; 16],
    /// The version's key.
    pub key: [u8; 32],
    /// The plaintext length in bytes.
    pub length: u64,
    /// The sealed chunks' names, in order.
    pub chunks: BoundedVec<ChunkRef, MAX_CHUNKS>,
}

impl Wire for FileManifest {
    fn encode(&self, out: &mut Vec<u8>) {
        self.file.encode(out);
        self.key.encode(out);
        put_varint(out, self.length);
        self.chunks.encode(out);
    }

    fn decode(reader: &mut Reader<'_>) -> std::result::Result<Self, huisclos_protocol::Error> {
        let file = Wire::decode(reader)?;
        let key = Wire::decode(reader)?;
        let length = reader.take_varint("file length")?;
        let chunks = Wire::decode(reader)?;
        Ok(Self { file, key, length, chunks })
    }
}

impl Drop for FileManifest {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.key.zeroize();
    }
}

impl FileManifest {
    /// Checks that the chunk count fits the length.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] when it does not.
    pub fn check(&self) -> Result<()> {
        if self.chunks.len() != chunk_count(self.length) {
            return Err(CoreError::Invalid(InvalidInput::ManifestMismatch));
        }
        Ok(())
    }

    /// The plaintext length of chunk `index`.
    pub fn chunk_len(&self, index: usize) -> usize {
        let start = index as u64 * CHUNK_LEN as u64;
        (self.length.saturating_sub(start)).min(CHUNK_LEN as u64) as usize
    }
}

/// How many chunks a file of `length` bytes has (an empty file has one, empty).
pub fn chunk_count(length: u64) -> usize {
    (length.div_ceil(CHUNK_LEN as u64)).max(1) as usize
}

fn nonce(index: usize, last: bool) -> Nonce {
    let mut nonce = [0u8; 12];
    nonce[..11].copy_from_slice(&(index as u128).to_be_bytes()[5..]);
    nonce[11] = u8::from(last);
    Nonce::from(nonce)
}

fn associated_data(file: &[u8; 16], count: usize) -> Vec<u8> {
    let mut aad = CHUNK_LABEL.to_vec();
    aad.extend_from_slice(file);
    aad.extend_from_slice(&(count as u64).to_be_bytes());
    aad
}

/// The name a sealed chunk is stored under.
pub fn chunk_ref(sealed: &[u8]) -> ChunkRef {
    ChunkRef::from_bytes(Sha256::digest(sealed).into())
}

/// One sealed chunk, ready to upload.
#[derive(Clone)]
pub struct SealedChunk {
    /// Its position in the file.
    pub index: usize,
    /// Its name.
    pub reference: ChunkRef,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Reads chunk `index` of a file of `length` bytes into a (reused) buffer.
fn read_chunk(reader: &mut impl Read, length: u64, index: usize, spare: &mut Vec<Vec<u8>>) -> Result<Vec<u8>> {
    let len = (length - index as u64 * CHUNK_LEN as u64).min(CHUNK_LEN as u64) as usize;
    let mut bytes = spare.pop().unwrap_or_else(|| Vec::with_capacity(CHUNK_LEN + TAG_LEN));
    bytes.clear();
    bytes.resize(len, 0);
    match reader.read_exact(&mut bytes) {
        Ok(()) => Ok(bytes),
        Err(error) => {
            bytes.zeroize();
            Err(error.into())
        }
    }
}

/// Seals a chunk's plaintext in place (no copy of it is made) and names it.
fn seal_chunk(
    cipher: &ChaCha20Poly1305,
    aad: &[u8],
    index: usize,
    count: usize,
    mut bytes: Vec<u8>,
) -> Result<SealedChunk> {
    match cipher.encrypt_in_place_detached(&nonce(index, index + 1 == count), aad, &mut bytes) {
        Ok(tag) => {
            bytes.extend_from_slice(&tag);
            Ok(SealedChunk { index, reference: chunk_ref(&bytes), bytes })
        }
        Err(_) => {
            bytes.zeroize();
            Err(CoreError::Invalid(InvalidInput::SealingFailed))
        }
    }
}

/// Seals `length` bytes read from `reader`, one chunk at a time, handing each sealed
/// chunk to `sink` as soon as it is ready; returns the manifest. A few chunk buffers
/// are in memory at once, reused from chunk to chunk; no plaintext outlives its
/// sealing.
///
/// # Errors
/// [`CoreError::Io`] when the reader fails or ends early; [`CoreError::Invalid`] for a
/// file larger than [`MAX_CHUNKS`] chunks; whatever `sink` returns.
pub fn seal_stream(
    mut reader: impl Read,
    length: u64,
    mut sink: impl FnMut(&SealedChunk) -> Result<()>,
) -> Result<FileManifest> {
    let count = chunk_count(length);
    if count > MAX_CHUNKS {
        return Err(CoreError::Invalid(InvalidInput::TooMany {
            limit: Limit::FileBytes,
            max: MAX_CHUNKS as u64 * CHUNK_LEN as u64,
        }));
    }
    let mut key = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(key.as_mut());
    let mut file = [0u8; 16];
    OsRng.fill_bytes(&mut file);
    let cipher = ChaCha20Poly1305::new(key.as_ref().into());
    let aad = associated_data(&file, count);
    let mut references = Vec::with_capacity(count);
    // Naming a chunk (SHA-256 over it) costs about as much as sealing it. Two threads
    // each seal and name every other chunk: this one reads chunk i and hands it to the
    // helper, reads and finishes chunk i + 1 itself, then delivers both in order. At
    // most four chunk buffers exist at once, reused from pair to pair.
    std::thread::scope(|scope| -> Result<()> {
        let (to_helper, work) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(1);
        let (sealed_out, sealed) = std::sync::mpsc::sync_channel::<Result<SealedChunk>>(1);
        let (cipher, aad) = (&cipher, aad.as_slice());
        scope.spawn(move || {
            for (index, bytes) in work {
                if sealed_out.send(seal_chunk(cipher, aad, index, count, bytes)).is_err() {
                    break;
                }
            }
        });
        let lost = || CoreError::Invalid(InvalidInput::SealingFailed);
        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut deliver = |chunk: SealedChunk, spare: &mut Vec<Vec<u8>>| -> Result<()> {
            references.push(chunk.reference);
            sink(&chunk)?;
            spare.push(chunk.bytes);
            Ok(())
        };
        for first in (0..count).step_by(2) {
            to_helper.send((first, read_chunk(&mut reader, length, first, &mut spare)?)).map_err(|_| lost())?;
            let second = if first + 1 < count {
                let bytes = read_chunk(&mut reader, length, first + 1, &mut spare)?;
                Some(seal_chunk(cipher, aad, first + 1, count, bytes)?)
            } else {
                None
            };
            deliver(sealed.recv().map_err(|_| lost())??, &mut spare)?;
            if let Some(chunk) = second {
                deliver(chunk, &mut spare)?;
            }
        }
        Ok(())
    })?;
    // Nothing may follow the announced length.
    if reader.read(&mut [0u8; 1])? != 0 {
        return Err(CoreError::Invalid(InvalidInput::FileChanged));
    }
    Ok(FileManifest { file, key: *key, length, chunks: BoundedVec::new(references)? })
}

/// Opens the chunks of one file version, checking each against its name first.
pub struct FileOpener<'a> {
    manifest: &'a FileManifest,
    cipher: ChaCha20Poly1305,
    aad: Vec<u8>,
}

impl<'a> FileOpener<'a> {
    /// An opener for `manifest`'s chunks.
    ///
    /// # Errors
    /// [`CoreError::Invalid`] for a manifest whose chunks do not match its length.
    pub fn new(manifest: &'a FileManifest) -> Result<Self> {
        manifest.check()?;
        Ok(Self {
            manifest,
            cipher: ChaCha20Poly1305::new((&manifest.key).into()),
            aad: associated_data(&manifest.file, manifest.chunks.len()),
        })
    }

    /// Opens chunk `index` from its sealed bytes.
    ///
    /// # Errors
    /// [`CoreError::Verification`] when the bytes are not the chunk the manifest names
    /// (tampered, truncated, swapped or from another position or file), or do not open.
    pub fn open(&self, index: usize, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let expected = self.manifest.chunks.get(index).ok_or(CoreError::Verification(Unverified::Chunk))?;
        if &chunk_ref(sealed) != expected {
            return Err(CoreError::Verification(Unverified::Chunk));
        }
        let last = index + 1 == self.manifest.chunks.len();
        let plaintext = self
            .cipher
            .decrypt(&nonce(index, last), Payload { msg: sealed, aad: &self.aad })
            .map(Zeroizing::new)
            .map_err(|_| CoreError::Verification(Unverified::DoesNotOpen))?;
        if plaintext.len() != self.manifest.chunk_len(index) {
            return Err(CoreError::Verification(Unverified::Chunk));
        }
        Ok(plaintext)
    }
}

impl std::fmt::Debug for FileManifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileManifest")
            .field("length", &self.length)
            .field("chunks", &self.chunks.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn seal(data: &[u8]) -> (FileManifest, Vec<SealedChunk>) {
        let mut chunks = Vec::new();
        let manifest = seal_stream(data, data.len() as u64, |c| {
            chunks.push(c.clone());
            Ok(())
        })
        .unwrap();
        (manifest, chunks)
    }

    fn data(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn files_of_every_shape_round_trip_chunk_by_chunk() {
        for len in [0, 1, CHUNK_LEN - 1, CHUNK_LEN, CHUNK_LEN + 1, 3 * CHUNK_LEN + 17] {
            let data = data(len);
            let (manifest, chunks) = seal(&data);
            assert_eq!(manifest.chunks.len(), chunk_count(len as u64));
            let manifest = FileManifest::from_wire(&manifest.to_wire()).unwrap();
            let opener = FileOpener::new(&manifest).unwrap();
            let mut out = Vec::new();
            for chunk in &chunks {
                assert_eq!(chunk.bytes.len(), manifest.chunk_len(chunk.index) + CHUNK_OVERHEAD);
                out.extend_from_slice(&opener.open(chunk.index, &chunk.bytes).unwrap());
            }
            assert_eq!(out, data, "length {len}");
        }
    }

    #[test]
    fn tampered_reordered_swapped_and_truncated_chunks_are_refused() {
        let data = data(3 * CHUNK_LEN + 5);
        let (manifest, chunks) = seal(&data);
        let opener = FileOpener::new(&manifest).unwrap();
        let mut flipped = chunks[1].bytes.clone();
        flipped[10] ^= 1;
        assert!(opener.open(1, &flipped).is_err(), "tampered");
        assert!(opener.open(2, &chunks[1].bytes).is_err(), "reordered");
        assert!(opener.open(4, &chunks[1].bytes).is_err(), "past the end");
        let (_, other) = seal(&data);
        assert!(opener.open(1, &other[1].bytes).is_err(), "another file's chunk");

        // Cut short: a manifest naming only the first chunks, with the length to match,
        // is refused at the new last chunk, which was not sealed as last.
        let mut truncated = FileManifest::from_wire(&manifest.to_wire()).unwrap();
        truncated.length = 2 * CHUNK_LEN as u64;
        truncated.chunks = BoundedVec::new(manifest.chunks[..2].to_vec()).unwrap();
        let opener = FileOpener::new(&truncated).unwrap();
        assert!(opener.open(0, &chunks[0].bytes).is_err(), "the chunk count is bound in");
        let mut lying = FileManifest::from_wire(&manifest.to_wire()).unwrap();
        lying.length += 1;
        assert!(FileOpener::new(&lying).is_ok() && FileOpener::new(&lying).unwrap().open(3, &chunks[3].bytes).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_key() {
        let (manifest, _) = seal(&data(10));
        let key = format!("{:?}", manifest.key);
        assert!(!format!("{manifest:?}").contains(&key));
        let mut library = crate::library::Library::default();
        let add = crate::library::LibraryOp::AddVersion(crate::library::AddVersion {
            node: crate::library::NodeId::from_bytes([1; 16]),
            manifest,
        });
        library.apply(crate::library::Stamp::default(), &add, 0).unwrap();
        assert!(!format!("{library:?}").contains(&key));
        assert!(!format!("{add:?}").contains(&key));
    }

    #[test]
    fn a_reader_that_ends_early_or_late_is_an_error() {
        let data = data(CHUNK_LEN + 10);
        assert!(seal_stream(&data[..], data.len() as u64 + 1, |_| Ok(())).is_err());
        assert!(seal_stream(&data[..], data.len() as u64 - 1, |_| Ok(())).is_err());
    }
}
