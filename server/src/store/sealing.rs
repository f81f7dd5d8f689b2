//! The store sealed at rest under a key the operator provides at start, so that a disk
//! taken from a stopped server says nothing: no account, device or group id, no
//! invitation digest, no content hash, no value.
//!
//! Every tree of the store is a `SealedTree`. With a [`StoreKey`]:
//!
//! - **Keys** keep their shape, so that sled's order still serves the store's scans:
//!   each id inside a key (an account, device or group id, a chunk or content id, a
//!   digest) is replaced by HMAC-SHA256 of it under a key-blinding key, truncated to the
//!   id's length, with the tree's name and the id's place in the key as domain: one
//!   device's rows in two trees do not share bytes. Numbers (sequence numbers, epochs,
//!   deadlines, offsets) stay as they are: a copy of the disk shows how many entries a
//!   blinded group has, never which group it is.
//! - **Values** are XChaCha20-Poly1305 under a value key, with a fresh nonce, over the
//!   real key and the value (so a scan gives back real keys), with the tree's name and
//!   the blinded key as associated data: a value moved to another key does not open.
//!
//! Without a key both pass through unchanged (a store in clear, as before this existed).
//! The `meta` tree is never sealed: it holds the store's identity and, for a sealed
//! store, a check value of its key, so that a wrong or missing key is refused at start
//! with a message rather than read as damage.

use std::ops::{Bound, RangeBounds};
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{KeyInit, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;
use sled::transaction::{
    ConflictableTransactionResult, TransactionResult, TransactionalTree, UnabortableTransactionError,
};
use sled::{IVec, Transactional};
use zeroize::Zeroizing;

use crate::Error;

/// HKDF salt of the keys derived from a [`StoreKey`].
const STORE_KEY_LABEL: &[u8] = b"huisclos/1 relay-store-key";
const NONCE_LEN: usize = 24;

/// The operator's key for the store at rest: 32 bytes, given as 64 hex digits in a file
/// (a systemd credential, for example) and never written by the relay.
pub struct StoreKey(Zeroizing<[u8; 32]>);

impl StoreKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(key.as_mut());
        Self(key)
    }

    /// The key from its 64 hex digits (surrounding whitespace ignored).
    ///
    /// # Errors
    /// [`Error::Config`] when it is not 64 hex digits. The message never repeats it.
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        let mut key = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text, key.as_mut())
            .map_err(|_| Error::Config("the store key is not 64 hexadecimal digits".into()))?;
        Ok(Self(key))
    }

    /// Reads the key from `path`.
    ///
    /// # Errors
    /// [`Error::Config`] naming the path when it cannot be read or is not a key.
    pub fn read_file(path: &std::path::Path) -> Result<Self, Error> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Error::Config(format!("the store key {} cannot be read: {e}", path.display())))?,
        );
        Self::from_hex(&text)
            .map_err(|_| Error::Config(format!("the store key {} is not 64 hexadecimal digits", path.display())))
    }

    /// The key as 64 hex digits, to be saved by the operator.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    fn derive(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's limit: expand cannot fail.
        let _ = hkdf::Hkdf::<Sha256>::new(Some(STORE_KEY_LABEL), self.0.as_ref()).expand(purpose, out.as_mut());
        out
    }
}

/// The first bytes of a file sealed under a store key ([`StoreKey::seal_file`]).
const SEALED_FILE_MAGIC: &[u8] = b"huisclos sealed 1\n";

impl StoreKey {
    /// `bytes` (a file's content, such as the relay's TLS key) sealed under this key for
    /// `purpose`: a magic line, a nonce and XChaCha20-Poly1305.
    ///
    /// # Errors
    /// [`Error::Config`] if it does not seal.
    pub fn seal_file(&self, purpose: &str, bytes: &[u8]) -> Result<Vec<u8>, Error> {
        let key = self.derive(purpose.as_bytes());
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = XChaCha20Poly1305::new(key.as_ref().into())
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: bytes, aad: purpose.as_bytes() })
            .map_err(|_| Error::Config(format!("{purpose} did not seal")))?;
        Ok([SEALED_FILE_MAGIC, &nonce, &ciphertext].concat())
    }

    /// Opens what [`Self::seal_file`] sealed for `purpose`.
    ///
    /// # Errors
    /// [`Error::Damaged`] when it does not open under this key.
    pub fn open_file(&self, purpose: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        let refused = || Error::Damaged(format!("{purpose} does not open under the store key given"));
        let rest = sealed.strip_prefix(SEALED_FILE_MAGIC).ok_or_else(refused)?;
        let (nonce, ciphertext) = rest.split_at_checked(NONCE_LEN).ok_or_else(refused)?;
        let key = self.derive(purpose.as_bytes());
        XChaCha20Poly1305::new(key.as_ref().into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: purpose.as_bytes() })
            .map(Zeroizing::new)
            .map_err(|_| refused())
    }

    /// Whether `bytes` are a file sealed under a store key.
    pub fn is_sealed_file(bytes: &[u8]) -> bool {
        bytes.starts_with(SEALED_FILE_MAGIC)
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// The keys derived from a [`StoreKey`].
pub(crate) struct Cipher {
    blinding: Zeroizing<[u8; 32]>,
    values: Zeroizing<[u8; 32]>,
    check: [u8; 32],
}

impl Cipher {
    pub(crate) fn new(key: &StoreKey) -> Self {
        let check = key.derive(b"check");
        Self { blinding: key.derive(b"key-blinding"), values: key.derive(b"values"), check: *check }
    }

    /// What `meta` records of a sealed store: tells the right key from a wrong one and
    /// says nothing of the key.
    pub(crate) fn check_value(&self) -> [u8; 32] {
        self.check
    }
}

/// One part of a tree's keys.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Part {
    /// An id or digest of this many bytes, blinded.
    Id(usize),
    /// A big-endian number of this many bytes, kept (the store's order needs it).
    Number(usize),
}

/// How a tree is named and how its keys are made.
#[derive(Clone)]
pub(crate) struct SealedTree {
    tree: sled::Tree,
    shape: Arc<Shape>,
}

struct Shape {
    name: &'static str,
    /// The parts of a key, in order; empty for a tree never sealed (`meta`).
    parts: &'static [Part],
    cipher: Option<Arc<Cipher>>,
}

fn corrupt(what: &str) -> sled::Error {
    sled::Error::Io(std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned()))
}

impl Shape {
    fn sealed(&self) -> Option<&Cipher> {
        if self.parts.is_empty() { None } else { self.cipher.as_deref() }
    }

    /// `key` with its ids blinded; a prefix must end at a part's end.
    fn blind(&self, key: &[u8]) -> sled::Result<Vec<u8>> {
        let Some(cipher) = self.sealed() else { return Ok(key.to_vec()) };
        let mut out = Vec::with_capacity(key.len());
        let mut rest = key;
        for (index, part) in self.parts.iter().enumerate() {
            if rest.is_empty() {
                break;
            }
            match *part {
                Part::Number(len) => {
                    let (number, tail) =
                        rest.split_at_checked(len).ok_or_else(|| corrupt("a key cut inside a number"))?;
                    out.extend_from_slice(number);
                    rest = tail;
                }
                Part::Id(len) => {
                    let (id, tail) = rest.split_at_checked(len).ok_or_else(|| corrupt("a key cut inside an id"))?;
                    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(cipher.blinding.as_ref())
                        .map_err(|_| corrupt("key blinding"))?;
                    mac.update(self.name.as_bytes());
                    mac.update(&[0, index as u8]);
                    mac.update(id);
                    out.extend_from_slice(&mac.finalize().into_bytes()[..len]);
                    rest = tail;
                }
            }
        }
        if !rest.is_empty() {
            return Err(corrupt("a key longer than its tree's keys"));
        }
        Ok(out)
    }

    fn aad(&self, blinded: &[u8]) -> Vec<u8> {
        [self.name.as_bytes(), &[0], blinded].concat()
    }

    /// The stored form of `value` under `key` (blinded as `blinded`).
    fn seal(&self, blinded: &[u8], key: &[u8], value: &[u8]) -> sled::Result<IVec> {
        let Some(cipher) = self.sealed() else { return Ok(IVec::from(value)) };
        let key_len = u16::try_from(key.len()).map_err(|_| corrupt("a key too long"))?;
        let mut plaintext = Zeroizing::new(Vec::with_capacity(2 + key.len() + value.len()));
        plaintext.extend_from_slice(&key_len.to_be_bytes());
        plaintext.extend_from_slice(key);
        plaintext.extend_from_slice(value);
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = XChaCha20Poly1305::new(cipher.values.as_ref().into())
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &self.aad(blinded) })
            .map_err(|_| corrupt("a value did not seal"))?;
        Ok(IVec::from([&nonce[..], &ciphertext].concat()))
    }

    /// The real key and the value of a stored row.
    fn open(&self, blinded: &[u8], stored: IVec) -> sled::Result<(IVec, IVec)> {
        let Some(cipher) = self.sealed() else { return Ok((IVec::from(blinded), stored)) };
        let (nonce, ciphertext) = stored.split_at_checked(NONCE_LEN).ok_or_else(|| corrupt("a sealed value"))?;
        let plaintext = XChaCha20Poly1305::new(cipher.values.as_ref().into())
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &self.aad(blinded) })
            .map_err(|_| corrupt("a sealed value that does not open under the store key"))?;
        let key_len = plaintext.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]) as usize);
        let key_len = key_len.ok_or_else(|| corrupt("a sealed value"))?;
        let key = plaintext.get(2..2 + key_len).ok_or_else(|| corrupt("a sealed value"))?;
        Ok((IVec::from(key), IVec::from(&plaintext[2 + key_len..])))
    }

    fn value(&self, blinded: &[u8], stored: Option<IVec>) -> sled::Result<Option<IVec>> {
        stored.map(|stored| self.open(blinded, stored).map(|(_, value)| value)).transpose()
    }
}

impl SealedTree {
    /// `tree`, named `name`, whose keys are made of `parts` (empty: never sealed).
    pub(crate) fn new(
        tree: sled::Tree,
        name: &'static str,
        parts: &'static [Part],
        cipher: Option<Arc<Cipher>>,
    ) -> Self {
        Self { tree, shape: Arc::new(Shape { name, parts, cipher }) }
    }

    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        let blinded = self.shape.blind(key.as_ref())?;
        self.shape.value(&blinded, self.tree.get(&blinded)?)
    }

    pub(crate) fn contains_key(&self, key: impl AsRef<[u8]>) -> sled::Result<bool> {
        self.tree.contains_key(self.shape.blind(key.as_ref())?)
    }

    /// Writes `value` under `key`. (The old value is not returned: nothing needs it,
    /// and opening it would cost a decryption on every write.)
    pub(crate) fn insert(&self, key: impl AsRef<[u8]>, value: impl Into<IVec>) -> sled::Result<()> {
        let key = key.as_ref();
        let blinded = self.shape.blind(key)?;
        let sealed = self.shape.seal(&blinded, key, &value.into())?;
        self.tree.insert(&blinded, sealed)?;
        Ok(())
    }

    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> sled::Result<Option<IVec>> {
        let blinded = self.shape.blind(key.as_ref())?;
        self.shape.value(&blinded, self.tree.remove(&blinded)?)
    }

    /// Swaps the value of `key` from `old` to `new` (compared in clear).
    pub(crate) fn compare_and_swap(
        &self,
        key: impl AsRef<[u8]>,
        old: Option<impl AsRef<[u8]>>,
        new: Option<impl Into<IVec>>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>> {
        let key = key.as_ref();
        let blinded = self.shape.blind(key)?;
        let stored = self.tree.get(&blinded)?;
        let current = self.shape.value(&blinded, stored.clone())?;
        if current.as_deref() != old.as_ref().map(AsRef::as_ref) {
            return Ok(Err(sled::CompareAndSwapError { current, proposed: new.map(Into::into) }));
        }
        let sealed = new.map(|value| self.shape.seal(&blinded, key, &value.into())).transpose()?;
        Ok(self
            .tree
            .compare_and_swap(&blinded, stored, sealed)?
            .map_err(|_| sled::CompareAndSwapError { current: None, proposed: None }))
    }

    pub(crate) fn iter(&self) -> SealedIter {
        SealedIter::of(self.tree.iter(), self.shape.clone())
    }

    pub(crate) fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> SealedIter {
        match self.shape.blind(prefix.as_ref()) {
            Ok(blinded) => SealedIter::of(self.tree.scan_prefix(blinded), self.shape.clone()),
            Err(error) => SealedIter::failed(error, self.shape.clone()),
        }
    }

    pub(crate) fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> SealedIter {
        let bound = |bound: Bound<&K>| -> sled::Result<Bound<Vec<u8>>> {
            Ok(match bound {
                Bound::Included(key) => Bound::Included(self.shape.blind(key.as_ref())?),
                Bound::Excluded(key) => Bound::Excluded(self.shape.blind(key.as_ref())?),
                Bound::Unbounded => Bound::Unbounded,
            })
        };
        match (bound(range.start_bound()), bound(range.end_bound())) {
            (Ok(start), Ok(end)) => SealedIter::of(self.tree.range::<Vec<u8>, _>((start, end)), self.shape.clone()),
            (Err(error), _) | (_, Err(error)) => SealedIter::failed(error, self.shape.clone()),
        }
    }

    pub(crate) fn apply_batch(&self, batch: Batch) -> sled::Result<()> {
        let mut sealed = sled::Batch::default();
        for (key, value) in batch.0 {
            let blinded = self.shape.blind(&key)?;
            match value {
                Some(value) => {
                    let value = self.shape.seal(&blinded, &key, &value)?;
                    sealed.insert(blinded, value);
                }
                None => sealed.remove(blinded),
            }
        }
        self.tree.apply_batch(sealed)
    }

    /// A transaction over this tree alone.
    pub(crate) fn transaction<A, E>(
        &self,
        f: impl Fn(&SealedTx) -> ConflictableTransactionResult<A, E>,
    ) -> TransactionResult<A, E> {
        self.tree.transaction(|tx| f(&self.tx(tx)))
    }

    fn tx(&self, tx: &TransactionalTree) -> SealedTx {
        SealedTx { tx: tx.clone(), shape: self.shape.clone() }
    }
}

/// Writes applied together by [`SealedTree::apply_batch`].
#[derive(Default)]
pub(crate) struct Batch(Vec<(Vec<u8>, Option<IVec>)>);

impl Batch {
    pub(crate) fn insert(&mut self, key: impl AsRef<[u8]>, value: impl Into<IVec>) {
        self.0.push((key.as_ref().to_vec(), Some(value.into())));
    }
    pub(crate) fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.push((key.as_ref().to_vec(), None));
    }
}

/// A [`SealedTree`] inside a transaction.
pub(crate) struct SealedTx {
    tx: TransactionalTree,
    shape: Arc<Shape>,
}

fn unabortable(error: sled::Error) -> UnabortableTransactionError {
    UnabortableTransactionError::Storage(error)
}

impl SealedTx {
    pub(crate) fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>, UnabortableTransactionError> {
        let blinded = self.shape.blind(key.as_ref()).map_err(unabortable)?;
        self.shape.value(&blinded, self.tx.get(&blinded)?).map_err(unabortable)
    }

    /// Writes `value` under `key` (as [`SealedTree::insert`], without the old value).
    pub(crate) fn insert(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<IVec>,
    ) -> Result<(), UnabortableTransactionError> {
        let key = key.as_ref();
        let blinded = self.shape.blind(key).map_err(unabortable)?;
        let sealed = self.shape.seal(&blinded, key, &value.into()).map_err(unabortable)?;
        self.tx.insert(blinded, sealed)?;
        Ok(())
    }

    pub(crate) fn remove(&self, key: impl AsRef<[u8]>) -> Result<Option<IVec>, UnabortableTransactionError> {
        let blinded = self.shape.blind(key.as_ref()).map_err(unabortable)?;
        let old = self.tx.remove(blinded.clone())?;
        self.shape.value(&blinded, old).map_err(unabortable)
    }
}

/// Transactions over several [`SealedTree`]s at once, as sled's over several trees.
pub(crate) trait SealedTransactional {
    /// One [`SealedTx`] per tree.
    type Views;
    fn transaction<A, E>(
        &self,
        f: impl Fn(&Self::Views) -> ConflictableTransactionResult<A, E>,
    ) -> TransactionResult<A, E>;
}

macro_rules! sealed_transactional {
    ($($tree:ident . $n:tt),+) => {
        impl SealedTransactional for ($(sealed_transactional!(@tree $tree),)+) {
            type Views = ($(sealed_transactional!(@view $tree),)+);
            fn transaction<A, E>(
                &self,
                f: impl Fn(&Self::Views) -> ConflictableTransactionResult<A, E>,
            ) -> TransactionResult<A, E> {
                ($(&self.$n.tree,)+).transaction(|($($tree,)+)| f(&($(self.$n.tx($tree),)+)))
            }
        }
    };
    (@view $tree:ident) => { SealedTx };
    (@tree $tree:ident) => { &SealedTree };
}

sealed_transactional!(a.0, b.1);
sealed_transactional!(a.0, b.1, c.2);
sealed_transactional!(a.0, b.1, c.2, d.3);
sealed_transactional!(a.0, b.1, c.2, d.3, e.4, f.5, g.6);

/// Rows of a [`SealedTree`], with real keys and values in clear.
pub(crate) struct SealedIter {
    inner: Option<sled::Iter>,
    /// A key that could not be blinded: yielded once, then nothing.
    error: Option<sled::Error>,
    shape: Arc<Shape>,
}

impl SealedIter {
    fn of(inner: sled::Iter, shape: Arc<Shape>) -> Self {
        Self { inner: Some(inner), error: None, shape }
    }

    fn failed(error: sled::Error, shape: Arc<Shape>) -> Self {
        Self { inner: None, error: Some(error), shape }
    }

    /// The real keys only.
    pub(crate) fn keys(self) -> impl DoubleEndedIterator<Item = sled::Result<IVec>> {
        self.map(|row| row.map(|(key, _)| key))
    }

    fn open(&self, row: sled::Result<(IVec, IVec)>) -> sled::Result<(IVec, IVec)> {
        let (blinded, stored) = row?;
        self.shape.open(&blinded, stored)
    }
}

impl Iterator for SealedIter {
    type Item = sled::Result<(IVec, IVec)>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        let row = self.inner.as_mut()?.next()?;
        Some(self.open(row))
    }
}

impl DoubleEndedIterator for SealedIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.error.take() {
            return Some(Err(error));
        }
        let row = self.inner.as_mut()?.next_back()?;
        Some(self.open(row))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(parts: &'static [Part], key: &StoreKey) -> Result<(tempfile::TempDir, SealedTree), Error> {
        let dir = tempfile::tempdir()?;
        let db =
            sled::Config::new().temporary(true).path(dir.path()).open().map_err(|e| Error::Storage(e.to_string()))?;
        let tree = db.open_tree("log").map_err(|e| Error::Storage(e.to_string()))?;
        Ok((dir, SealedTree::new(tree, "log", parts, Some(Arc::new(Cipher::new(key))))))
    }

    #[test]
    fn ids_are_blinded_numbers_keep_their_order_and_values_open_only_where_written() -> Result<(), Error> {
        let store_err = |e: sled::Error| Error::Storage(e.to_string());
        let key = StoreKey::generate();
        let (_dir, log) = tree(&[Part::Id(16), Part::Number(8)], &key)?;
        let group = [7u8; 16];
        let row = |seq: u64| [&group[..], &seq.to_be_bytes()].concat();
        for seq in [3u64, 1, 2, 300] {
            log.insert(row(seq), format!("entry {seq}").as_bytes()).map_err(store_err)?;
        }
        log.insert([&[8u8; 16][..], &0u64.to_be_bytes()].concat(), &b"another group"[..]).map_err(store_err)?;
        // A range within one group comes back in order, with real keys.
        let read: Vec<(Vec<u8>, Vec<u8>)> = log
            .range(row(1)..row(u64::MAX))
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .collect::<sled::Result<_>>()
            .map_err(store_err)?;
        assert_eq!(read.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>(), [row(1), row(2), row(3), row(300)]);
        assert_eq!(read[3].1, b"entry 300");
        assert_eq!(log.scan_prefix(group).count(), 4);
        assert_eq!(log.get(row(2)).map_err(store_err)?.as_deref(), Some(&b"entry 2"[..]));
        // On disk: neither the group id nor a value.
        for raw in log.tree.iter() {
            let (k, v) = raw.map_err(store_err)?;
            assert!(!k.windows(16).any(|w| w == group));
            assert!(!v.windows(5).any(|w| w == b"entry"));
        }
        // A value copied to another row does not open there.
        let (b1, b2) = (log.shape.blind(&row(1)).map_err(store_err)?, log.shape.blind(&row(2)).map_err(store_err)?);
        let stolen = log.tree.get(&b1).map_err(store_err)?.ok_or(Error::Corrupt("row"))?;
        log.tree.insert(&b2, stolen).map_err(store_err)?;
        assert!(log.get(row(2)).is_err());
        // A key cut inside an id is refused, not guessed at.
        assert!(log.get(&group[..5]).is_err());
        // Under another key the same ids blind differently.
        let (_other_dir, other) = tree(&[Part::Id(16), Part::Number(8)], &StoreKey::generate())?;
        assert_ne!(other.shape.blind(&row(1)).map_err(store_err)?, b1);
        assert_eq!(format!("{key:?}"), "StoreKey(..)");
        assert!(StoreKey::from_hex("00").is_err());
        assert_eq!(StoreKey::from_hex(&key.to_hex())?.to_hex(), key.to_hex());
        Ok(())
    }
}
