//! The relay's TLS identity: an Ed25519 key and a self-signed certificate, made on first
//! start and kept in the data directory. Clients pin the key (not the certificate), so
//! the certificate's names and dates do not matter and no authority is involved.
//!
//! With a store key ([`StoreKey`]) the key file is sealed under it, so that a disk
//! taken from a stopped server does not let anyone pose as the relay.
//!
//! ## Rotating the key
//! [`begin_rotation`] makes the next key and has the current one sign a
//! [`RelayKeyRotation`] naming it and the moment it takes over. Until then the relay
//! presents a certificate of its current key that carries that statement (clients
//! learn the next pin from the handshake); from then on it presents the next key's,
//! without a restart. The files, in the data directory:
//!
//! - `relay-key.next.pk8`, `relay-cert.next.der`: the next key (sealed as the key is);
//! - `relay-key-rotation`: the statement, written last (its presence starts the
//!   rotation).
//!
//! - `relay-key-rotation.announced`: written by the relay when it starts presenting
//!   the statement (it holds the statement's signature).
//!
//! The first start after the switch moves the next key over the current one (the old
//! key file is deleted), adds the old key's pin to `relay-key-history`, and keeps the
//! statement as the record of the last rotation: whichever step a crash interrupts,
//! the next start finishes it. A store that recorded any pin of the history is then
//! recognised as this relay's, and records the new one.
//!
//! A rotation whose switch passed before any relay presented it (the relay was not
//! restarted after `rotate-key`, or was down for the whole overlap) would cut every
//! client off: it is announced again instead, with a new switch as far away as the
//! first overlap was long.

use std::fs;
use std::io::Write;
use std::path::Path;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use huisclos_protocol::codec::Wire;
use huisclos_protocol::ids::UnixSeconds;
use huisclos_protocol::relay_key::{RELAY_KEY_ROTATION_OID, RelayKeyRotation};
use huisclos_transport::tls::SpkiPin;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use crate::Error;
use crate::store::sealing::StoreKey;

/// What the relay's key file is sealed for (the associated data and the key's purpose).
const KEY_FILE_PURPOSE: &str = "the relay's key";

/// The key file's name in the data directory (mode 0600).
pub const KEY_FILE: &str = "relay-key.pk8";
/// The certificate file's name in the data directory.
pub const CERT_FILE: &str = "relay-cert.der";
/// The next key's file, during a rotation (sealed as [`KEY_FILE`] is).
pub const NEXT_KEY_FILE: &str = "relay-key.next.pk8";
/// The next key's certificate, during a rotation.
pub const NEXT_CERT_FILE: &str = "relay-cert.next.der";
/// The rotation statement: under way while it names the key in [`KEY_FILE`] as
/// current, the record of the last rotation once it names it as next.
pub const ROTATION_FILE: &str = "relay-key-rotation";
/// Written when the relay starts presenting the rotation's statement: its signature.
pub const ANNOUNCED_FILE: &str = "relay-key-rotation.announced";
/// The pins of the keys this relay's key replaced, 32 bytes each, oldest first.
pub const HISTORY_FILE: &str = "relay-key-history";

/// Every file of the relay's identity that may be in a data directory: what a backup
/// copies when present.
pub const IDENTITY_FILES: [&str; 7] =
    [KEY_FILE, CERT_FILE, NEXT_KEY_FILE, NEXT_CERT_FILE, ROTATION_FILE, ANNOUNCED_FILE, HISTORY_FILE];

/// Pins kept in [`HISTORY_FILE`] at most (the oldest are dropped beyond).
const HISTORY_LIMIT: usize = 1024;

/// The overlap of a rotation announced again whose first overlap is not known.
const DEFAULT_OVERLAP: Duration = Duration::from_secs(30 * 86_400);

/// The relay's certificate, key and pin.
pub struct RelayIdentity {
    /// The certificate presented: self-signed, and carrying the rotation statement
    /// while a rotation is under way.
    pub certificate: CertificateDer<'static>,
    /// The private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// What invitations carry.
    pub pin: SpkiPin,
    /// Whether this start created the identity.
    pub created: bool,
    /// The key that takes over, while a rotation is under way.
    pub next: Option<NextIdentity>,
    /// The keys this one replaced by rotations, oldest first: a store that recorded
    /// one of their pins is this relay's.
    pub previous_pins: Vec<SpkiPin>,
}

/// The next key of a rotation under way.
pub struct NextIdentity {
    /// Its certificate.
    pub certificate: CertificateDer<'static>,
    /// Its private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// Its pin.
    pub pin: SpkiPin,
    /// The statement by which the current key names it.
    pub rotation: RelayKeyRotation,
}

impl NextIdentity {
    /// When the relay presents this key instead of the current one.
    pub fn switch_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.rotation.switch_at.get())
    }
}

impl std::fmt::Debug for RelayIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayIdentity")
            .field("pin", &self.pin)
            .field("created", &self.created)
            .field("next", &self.next.as_ref().map(|next| (next.pin, next.rotation.switch_at)))
            .field("previous_pins", &self.previous_pins)
            .finish_non_exhaustive()
    }
}

impl RelayIdentity {
    /// Loads the identity from `data_dir`, or creates it there.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Certificate`].
    pub fn load_or_create(data_dir: &Path, store_key: Option<&StoreKey>) -> Result<Self, Error> {
        Self::load_for_store(data_dir, store_key, None)
    }

    /// [`RelayIdentity::load_or_create`] for a store that records `recorded` as its
    /// relay's pin: a store shared with other processes that already records the next
    /// key means one of them switched, and this one follows.
    ///
    /// # Errors
    /// As [`RelayIdentity::load_or_create`].
    pub fn load_for_store(
        data_dir: &Path,
        store_key: Option<&StoreKey>,
        recorded: Option<[u8; 32]>,
    ) -> Result<Self, Error> {
        let rotation = read_rotation(data_dir)?;
        let mut identity = Self::load_key(data_dir, store_key, rotation.as_ref())?;
        identity.previous_pins = read_history(data_dir)?;
        let Some(rotation) = rotation else { return Ok(identity) };
        if rotation.next == identity.pin.0 {
            // The last rotation, finished: its leftovers go.
            for name in [NEXT_KEY_FILE, NEXT_CERT_FILE, ANNOUNCED_FILE] {
                remove_if_present(&data_dir.join(name))?;
            }
            if !identity.previous_pins.contains(&SpkiPin(rotation.current)) {
                // A history written before the key moved is always there; this is a
                // data directory restored without it.
                identity.previous_pins.push(SpkiPin(rotation.current));
            }
            return Ok(identity);
        }
        if rotation.current != identity.pin.0 {
            return Err(Error::Damaged(format!(
                "{} names neither the key in {} nor its successor: it belongs to another relay. Restore the \
                 rotation files that came with this key, or delete {} to keep the key in {} alone.",
                data_dir.join(ROTATION_FILE).display(),
                data_dir.join(KEY_FILE).display(),
                ROTATION_FILE,
                KEY_FILE
            )));
        }
        let spki = key_spki(&identity.key)?;
        rotation.verify(&spki).map_err(|_| {
            Error::Damaged(format!(
                "{} is not signed by the relay's key: delete it and start the rotation again",
                data_dir.join(ROTATION_FILE).display()
            ))
        })?;
        let mut next = load_next(data_dir, store_key, &rotation)?;
        let current = rcgen::KeyPair::try_from(identity.key.secret_der())
            .map_err(|e| Error::Certificate(format!("the relay's key: {e}")))?;
        if SystemTime::now() >= next.switch_at() {
            if was_announced(data_dir, &rotation) || recorded == Some(rotation.next) {
                promote(data_dir, &rotation)?;
                tracing::info!(pin = ?next.pin, "the relay's key rotation is complete: the next key is the relay's key");
                return Self::load_for_store(data_dir, store_key, recorded);
            }
            next.rotation = announce_again(data_dir, &current, &rotation)?;
        }
        identity.certificate = announcing(&current, &next.rotation)?.der().clone();
        identity.next = Some(next);
        Ok(identity)
    }

    /// Records that the relay presents the rotation under way from now on: only a
    /// rotation some client could have learned is completed at its switch.
    ///
    /// # Errors
    /// I/O failures.
    pub fn mark_announced(&self, data_dir: &Path) -> Result<(), Error> {
        match &self.next {
            Some(next) if !was_announced(data_dir, &next.rotation) => {
                replace_file(&data_dir.join(ANNOUNCED_FILE), &next.rotation.signature, false)
            }
            _ => Ok(()),
        }
    }

    /// The key in [`KEY_FILE`] and its certificate (made on first start).
    fn load_key(
        data_dir: &Path,
        store_key: Option<&StoreKey>,
        rotation: Option<&RelayKeyRotation>,
    ) -> Result<Self, Error> {
        let key_path = data_dir.join(KEY_FILE);
        let cert_path = data_dir.join(CERT_FILE);
        let created = !key_path.exists();
        if created {
            let key =
                rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(|e| Error::Certificate(e.to_string()))?;
            let certificate = self_signed(&key)?;
            let key_der = Zeroizing::new(key.serialize_der());
            let stored = match store_key {
                Some(store_key) => Zeroizing::new(store_key.seal_file(KEY_FILE_PURPOSE, &key_der)?),
                None => key_der,
            };
            write_private(&key_path, &stored)
                .map_err(|e| Error::Certificate(format!("writing {}: {e}", key_path.display())))?;
            fs::write(&cert_path, certificate.der())
                .map_err(|e| Error::Certificate(format!("writing {}: {e}", cert_path.display())))?;
        }
        let key_der = read_key_file(&key_path, store_key)?;
        let mut certificate = match fs::read(&cert_path) {
            Ok(bytes) => CertificateDer::from(bytes),
            // Clients pin the key, not the certificate: a lost certificate is made again
            // from the key, and nothing changes for them.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = rcgen::KeyPair::try_from(key_der.as_slice())
                    .map_err(|e| Error::Certificate(format!("{} does not hold a key: {e}", key_path.display())))?;
                let certificate = self_signed(&key)?;
                fs::write(&cert_path, certificate.der())
                    .map_err(|e| Error::Certificate(format!("writing {}: {e}", cert_path.display())))?;
                tracing::warn!(path = %cert_path.display(), "the certificate was missing: made again from the key");
                certificate.der().clone()
            }
            Err(error) => return Err(Error::Certificate(format!("reading {}: {error}", cert_path.display()))),
        };
        let key_pair = rcgen::KeyPair::try_from(key_der.as_slice())
            .map_err(|e| Error::Certificate(format!("{} does not hold a key: {e}", key_path.display())))?;
        let key_pin = pin_of_key(&key_pair)?;
        let mut pin = SpkiPin::of_certificate(&certificate).map_err(|e| Error::Certificate(e.to_string()))?;
        if key_pin != pin && rotation.is_some_and(|rotation| rotation.next == key_pin.0) {
            // A rotation's last start moved the next key in and stopped before its
            // certificate followed: the certificate is made again from the key.
            let made = self_signed(&key_pair)?;
            replace_file(&cert_path, made.der(), false)?;
            tracing::info!("the certificate of the relay's new key was made again from the key");
            certificate = made.der().clone();
            pin = key_pin;
        }
        if key_pin != pin {
            return Err(Error::Certificate(format!(
                "{} is not the certificate of the key in {}",
                cert_path.display(),
                key_path.display()
            )));
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec()));
        Ok(Self { certificate, key, pin, created, next: None, previous_pins: Vec::new() })
    }
}

/// Starts a rotation of the relay's key: makes the next key, and has the current key
/// sign the statement naming it, to take over `overlap` from now. The relay presents
/// the statement from its next start; every client that connects before the switch
/// learns the next key. Returns the statement.
///
/// # Errors
/// [`Error::Damaged`] if a rotation is already under way or the data directory holds
/// no key; I/O and certificate failures.
pub fn begin_rotation(
    data_dir: &Path,
    store_key: Option<&StoreKey>,
    overlap: Duration,
) -> Result<RelayKeyRotation, Error> {
    if !data_dir.join(KEY_FILE).exists() {
        return Err(Error::Damaged(format!(
            "{} holds no relay key to rotate: is --data-dir (or --config) right?",
            data_dir.display()
        )));
    }
    let identity = RelayIdentity::load_or_create(data_dir, store_key)?;
    if let Some(next) = &identity.next {
        return Err(Error::Damaged(format!(
            "a rotation is already under way: the key {:?} takes over at {}. Cancel it first \
             (`admin rotate-key --cancel`) to start another.",
            next.pin,
            next.rotation.switch_at.utc_minute()
        )));
    }
    let current = rcgen::KeyPair::try_from(identity.key.secret_der())
        .map_err(|e| Error::Certificate(format!("the relay's key: {e}")))?;
    let next_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).map_err(|e| Error::Certificate(e.to_string()))?;
    let next_certificate = self_signed(&next_key)?;
    let next_pin = pin_of_key(&next_key)?;
    let rotation = sign_rotation(&current, identity.pin.0, next_pin.0, overlap)?;

    let key_der = Zeroizing::new(next_key.serialize_der());
    let stored = match store_key {
        Some(store_key) => Zeroizing::new(store_key.seal_file(KEY_FILE_PURPOSE, &key_der)?),
        None => key_der,
    };
    replace_file(&data_dir.join(NEXT_KEY_FILE), &stored, true)?;
    replace_file(&data_dir.join(NEXT_CERT_FILE), next_certificate.der(), false)?;
    // Last: from here on the rotation is under way.
    replace_file(&data_dir.join(ROTATION_FILE), &rotation.to_wire(), false)?;
    Ok(rotation)
}

/// Cancels the rotation under way: the statement goes first (the relay then presents
/// its key alone from its next start), then the next key. Returns whether there was
/// one.
///
/// # Errors
/// I/O failures; [`Error::Damaged`] for an unreadable statement.
pub fn cancel_rotation(data_dir: &Path, store_key: Option<&StoreKey>) -> Result<bool, Error> {
    let identity = RelayIdentity::load_or_create(data_dir, store_key)?;
    if identity.next.is_none() {
        return Ok(false);
    }
    fs::remove_file(data_dir.join(ROTATION_FILE))?;
    for name in [NEXT_KEY_FILE, NEXT_CERT_FILE, ANNOUNCED_FILE] {
        remove_if_present(&data_dir.join(name))?;
    }
    Ok(true)
}

/// The rotation statement in `data_dir`, if any.
fn read_rotation(data_dir: &Path) -> Result<Option<RelayKeyRotation>, Error> {
    let path = data_dir.join(ROTATION_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::Certificate(format!("reading {}: {error}", path.display()))),
    };
    RelayKeyRotation::from_wire(&bytes).map(Some).map_err(|_| {
        Error::Damaged(format!(
            "{} does not decode: restore it from a backup, or delete it together with {} and {} to cancel the \
             rotation",
            path.display(),
            NEXT_KEY_FILE,
            NEXT_CERT_FILE
        ))
    })
}

/// The pins in [`HISTORY_FILE`], oldest first (none without one).
fn read_history(data_dir: &Path) -> Result<Vec<SpkiPin>, Error> {
    let path = data_dir.join(HISTORY_FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(Error::Certificate(format!("reading {}: {error}", path.display()))),
    };
    if bytes.len() % 32 != 0 || bytes.len() > 32 * HISTORY_LIMIT {
        return Err(Error::Damaged(format!(
            "{} is not a list of pins: restore it from a backup (it lets the store of an earlier key of this \
             relay be recognised)",
            path.display()
        )));
    }
    Ok(bytes.chunks_exact(32).filter_map(|pin| pin.try_into().ok()).map(SpkiPin).collect())
}

/// Whether a relay presented `rotation` (its statement's signature is in
/// [`ANNOUNCED_FILE`]).
fn was_announced(data_dir: &Path, rotation: &RelayKeyRotation) -> bool {
    fs::read(data_dir.join(ANNOUNCED_FILE)).is_ok_and(|marked| marked == rotation.signature)
}

/// Signs `rotation` again with a new switch, as far from now as its first overlap
/// was long (the statement's file was written when it began), and keeps it.
fn announce_again(
    data_dir: &Path,
    current: &rcgen::KeyPair,
    rotation: &RelayKeyRotation,
) -> Result<RelayKeyRotation, Error> {
    let path = data_dir.join(ROTATION_FILE);
    let switch_at = UNIX_EPOCH + Duration::from_secs(rotation.switch_at.get());
    let overlap = fs::metadata(&path)
        .and_then(|meta| meta.modified())
        .ok()
        .and_then(|begun| switch_at.duration_since(begun).ok())
        .filter(|overlap| *overlap >= Duration::from_secs(1))
        .unwrap_or(DEFAULT_OVERLAP);
    let again = sign_rotation(current, rotation.current, rotation.next, overlap)?;
    replace_file(&path, &again.to_wire(), false)?;
    tracing::warn!(
        switch_at = %again.switch_at.utc_minute(),
        "the key rotation's switch passed before the relay ever presented it (no client could have learned the \
         next key): it is announced from now on, and takes over later"
    );
    Ok(again)
}

/// The statement by which `current` names `next`, to take over `overlap` from now.
fn sign_rotation(
    current: &rcgen::KeyPair,
    current_pin: [u8; 32],
    next: [u8; 32],
    overlap: Duration,
) -> Result<RelayKeyRotation, Error> {
    let switch_at = SystemTime::now()
        .checked_add(overlap)
        .and_then(|at| at.duration_since(UNIX_EPOCH).ok())
        .and_then(|since| UnixSeconds::new(since.as_secs()).ok())
        .ok_or_else(|| Error::Config("the overlap is too long".into()))?;
    let signed = RelayKeyRotation::signed_bytes(&current_pin, &next, switch_at);
    let signature = <rcgen::KeyPair as rcgen::SigningKey>::sign(current, &signed)
        .map_err(|e| Error::Certificate(format!("signing the rotation: {e}")))?;
    let signature: [u8; 64] =
        signature.try_into().map_err(|_| Error::Certificate("the relay's key is not Ed25519".into()))?;
    let rotation = RelayKeyRotation { current: current_pin, next, switch_at, signature };
    rotation
        .verify(&rcgen::PublicKeyData::subject_public_key_info(current))
        .map_err(|_| Error::Certificate("the rotation statement does not verify".into()))?;
    Ok(rotation)
}

/// The next key of the rotation under way, checked against its statement.
fn load_next(
    data_dir: &Path,
    store_key: Option<&StoreKey>,
    rotation: &RelayKeyRotation,
) -> Result<NextIdentity, Error> {
    let key_path = data_dir.join(NEXT_KEY_FILE);
    if !key_path.exists() {
        return Err(Error::Damaged(format!(
            "a key rotation is under way ({ROTATION_FILE}) but the next key {} is missing: restore it from a \
             backup (or from the process that started the rotation), or cancel the rotation by deleting {}",
            key_path.display(),
            ROTATION_FILE
        )));
    }
    let key_der = read_key_file(&key_path, store_key)?;
    let key_pair = rcgen::KeyPair::try_from(key_der.as_slice())
        .map_err(|e| Error::Certificate(format!("{} does not hold a key: {e}", key_path.display())))?;
    let pin = pin_of_key(&key_pair)?;
    if pin.0 != rotation.next {
        return Err(Error::Damaged(format!(
            "{} is not the key that {} names: restore the files of this rotation together",
            key_path.display(),
            ROTATION_FILE
        )));
    }
    let cert_path = data_dir.join(NEXT_CERT_FILE);
    let certificate = match fs::read(&cert_path) {
        Ok(bytes) if SpkiPin::of_certificate(&CertificateDer::from(bytes.as_slice())).ok() == Some(pin) => {
            CertificateDer::from(bytes)
        }
        // The certificate is made from the key; a lost or mismatched one is made again.
        _ => {
            let made = self_signed(&key_pair)?;
            replace_file(&cert_path, made.der(), false)?;
            made.der().clone()
        }
    };
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec()));
    Ok(NextIdentity { certificate, key, pin, rotation: rotation.clone() })
}

/// Moves the next key over the current one, the current one's pin recorded in the
/// history first. Each step is a rename; the statement stays. A start after any of
/// them finishes the rest ([`RelayIdentity::load_or_create`]).
fn promote(data_dir: &Path, rotation: &RelayKeyRotation) -> Result<(), Error> {
    let mut history = read_history(data_dir)?;
    if !history.contains(&SpkiPin(rotation.current)) {
        history.push(SpkiPin(rotation.current));
        let skip = history.len().saturating_sub(HISTORY_LIMIT);
        let bytes: Vec<u8> = history.iter().skip(skip).flat_map(|pin| pin.0).collect();
        replace_file(&data_dir.join(HISTORY_FILE), &bytes, false)?;
    }
    fs::rename(data_dir.join(NEXT_KEY_FILE), data_dir.join(KEY_FILE))?;
    sync_dir(data_dir)?;
    match fs::rename(data_dir.join(NEXT_CERT_FILE), data_dir.join(CERT_FILE)) {
        Ok(()) => {}
        // Made again from the key at the next load.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error.into()),
    }
    sync_dir(data_dir)
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// A key file's PKCS#8 bytes, opened with the store key if it is sealed.
fn read_key_file(key_path: &Path, store_key: Option<&StoreKey>) -> Result<Zeroizing<Vec<u8>>, Error> {
    let stored = Zeroizing::new(
        fs::read(key_path).map_err(|e| Error::Certificate(format!("reading {}: {e}", key_path.display())))?,
    );
    Ok(match (StoreKey::is_sealed_file(&stored), store_key) {
        (true, Some(store_key)) => store_key.open_file(KEY_FILE_PURPOSE, &stored).map_err(|_| {
            Error::Damaged(format!(
                "{} is sealed under another store key than the one given: start the relay with the key its \
                     store was sealed with",
                key_path.display()
            ))
        })?,
        (true, None) => {
            return Err(Error::Damaged(format!(
                "{} is sealed at rest and no store key was given: start the relay with its store key \
                     (store_key_file, HUISCLOS_RELAY_STORE_KEY_FILE, or the systemd credential huisclos-store-key)",
                key_path.display()
            )));
        }
        (false, _) => stored,
    })
}

/// The pin of `key`: its SubjectPublicKeyInfo's hash, as any certificate of it gives.
fn pin_of_key(key: &rcgen::KeyPair) -> Result<SpkiPin, Error> {
    SpkiPin::of_certificate(self_signed(key)?.der()).map_err(|e| Error::Certificate(e.to_string()))
}

/// The DER SubjectPublicKeyInfo of the key in `key` (PKCS#8), which its pin hashes.
fn key_spki(key: &PrivateKeyDer<'_>) -> Result<Vec<u8>, Error> {
    let pair =
        rcgen::KeyPair::try_from(key.secret_der()).map_err(|e| Error::Certificate(format!("the relay's key: {e}")))?;
    Ok(rcgen::PublicKeyData::subject_public_key_info(&pair))
}

/// A certificate of the current key that carries `rotation` (a non-critical
/// extension, ignored by anything that does not know it).
fn announcing(key: &rcgen::KeyPair, rotation: &RelayKeyRotation) -> Result<rcgen::Certificate, Error> {
    let mut params = rcgen::CertificateParams::new(vec![huisclos_transport::tls::RELAY_SERVER_NAME.to_owned()])
        .map_err(|e| Error::Certificate(e.to_string()))?;
    params.custom_extensions =
        vec![rcgen::CustomExtension::from_oid_content(RELAY_KEY_ROTATION_OID, der_octet_string(&rotation.to_wire()))];
    params.self_signed(key).map_err(|e| Error::Certificate(e.to_string()))
}

/// `bytes` as a DER OCTET STRING.
fn der_octet_string(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![0x04];
    match bytes.len() {
        len @ 0..=0x7f => out.push(len as u8),
        len @ 0x80..=0xff => out.extend_from_slice(&[0x81, len as u8]),
        len => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
    }
    out.extend_from_slice(bytes);
    out
}

/// Writes `bytes` to a new file beside `path`, synced, then renames it over `path`.
fn replace_file(path: &Path, bytes: &[u8], private: bool) -> Result<(), Error> {
    let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("file");
    let partial = path.with_file_name(format!("{name}.writing"));
    remove_if_present(&partial)?;
    if private {
        write_private(&partial, bytes)?;
    } else {
        let mut file = fs::File::create(&partial)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&partial, path)?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

/// Seals the key file in `data_dir` under `store_key`, if it is in clear (written
/// whole to a new file, then renamed over the old one), and the next key's during a
/// rotation. Returns whether it sealed the key file.
///
/// # Errors
/// I/O failures, and a key file sealed under another key.
pub fn seal_key_file(data_dir: &Path, store_key: &StoreKey) -> Result<bool, Error> {
    let next = data_dir.join(NEXT_KEY_FILE);
    if next.exists() {
        seal_one(&next, store_key)?;
    }
    seal_one(&data_dir.join(KEY_FILE), store_key)
}

fn seal_one(key_path: &Path, store_key: &StoreKey) -> Result<bool, Error> {
    let stored = Zeroizing::new(fs::read(key_path)?);
    if StoreKey::is_sealed_file(&stored) {
        store_key.open_file(KEY_FILE_PURPOSE, &stored)?;
        return Ok(false);
    }
    let sealed = store_key.seal_file(KEY_FILE_PURPOSE, &stored)?;
    replace_file(key_path, &sealed, true)?;
    Ok(true)
}

fn self_signed(key: &rcgen::KeyPair) -> Result<rcgen::Certificate, Error> {
    let params = rcgen::CertificateParams::new(vec![huisclos_transport::tls::RELAY_SERVER_NAME.to_owned()])
        .map_err(|e| Error::Certificate(e.to_string()))?;
    params.self_signed(key).map_err(|e| Error::Certificate(e.to_string()))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn announced(identity: &RelayIdentity) -> Option<RelayKeyRotation> {
        huisclos_transport::tls::announced_rotation(&identity.certificate)
    }

    /// Moves the rotation's switch to the past, re-signed by the current key, as if
    /// the overlap had run out while a relay presented it.
    fn run_out(dir: &Path) {
        let rotation = run_out_unannounced(dir);
        fs::write(dir.join(ANNOUNCED_FILE), rotation.signature).unwrap();
    }

    /// As [`run_out`], with no relay ever having presented the rotation.
    fn run_out_unannounced(dir: &Path) -> RelayKeyRotation {
        let identity = RelayIdentity::load_or_create(dir, None).unwrap();
        let mut rotation = identity.next.unwrap().rotation;
        rotation.switch_at = UnixSeconds::new(1).unwrap();
        let key = rcgen::KeyPair::try_from(identity.key.secret_der()).unwrap();
        let signed = RelayKeyRotation::signed_bytes(&rotation.current, &rotation.next, rotation.switch_at);
        rotation.signature = rcgen::SigningKey::sign(&key, &signed).unwrap().try_into().unwrap();
        fs::write(dir.join(ROTATION_FILE), rotation.to_wire()).unwrap();
        rotation
    }

    #[test]
    fn a_rotation_is_announced_then_completed_and_its_record_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert!(first.next.is_none() && announced(&first).is_none());
        let rotation = begin_rotation(dir.path(), None, Duration::from_secs(3600)).unwrap();
        let during = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert_eq!(during.pin, first.pin);
        assert_eq!(during.next.as_ref().map(|next| next.pin.0), Some(rotation.next));
        assert_eq!(announced(&during), Some(rotation.clone()), "the presented certificate carries it");
        assert!(matches!(begin_rotation(dir.path(), None, Duration::from_secs(60)), Err(Error::Damaged(_))));

        run_out(dir.path());
        let after = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert_eq!(after.pin.0, rotation.next);
        assert_eq!(after.previous_pins, vec![first.pin]);
        assert!(after.next.is_none() && announced(&after).is_none());
        assert!(!dir.path().join(NEXT_KEY_FILE).exists() && !dir.path().join(NEXT_CERT_FILE).exists());
        // Nothing to cancel any more; a new rotation can start.
        assert!(!cancel_rotation(dir.path(), None).unwrap());
        begin_rotation(dir.path(), None, Duration::from_secs(60)).unwrap();
        assert!(cancel_rotation(dir.path(), None).unwrap());
        let cancelled = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert_eq!((cancelled.pin.0, cancelled.next.is_none()), (rotation.next, true));
    }

    #[test]
    fn a_rotation_no_relay_presented_before_its_switch_is_announced_again_not_completed() {
        let dir = tempfile::tempdir().unwrap();
        let first = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        let rotation = begin_rotation(dir.path(), None, Duration::from_secs(3600)).unwrap();
        run_out_unannounced(dir.path());
        let again = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert_eq!(again.pin, first.pin, "the key nobody learned did not take over");
        let next = again.next.as_ref().expect("still under way");
        assert_eq!(next.rotation.next, rotation.next);
        assert!(next.switch_at() > SystemTime::now(), "a new switch, ahead");
        assert_eq!(announced(&again), Some(next.rotation.clone()));
        // Once presented and run out, it completes; a store that records the next key
        // (another process switched) completes it too.
        again.mark_announced(dir.path()).unwrap();
        run_out(dir.path());
        assert_eq!(RelayIdentity::load_or_create(dir.path(), None).unwrap().pin.0, rotation.next);

        let other = tempfile::tempdir().unwrap();
        RelayIdentity::load_or_create(other.path(), None).unwrap();
        let rotation = begin_rotation(other.path(), None, Duration::from_secs(3600)).unwrap();
        run_out_unannounced(other.path());
        let followed = RelayIdentity::load_for_store(other.path(), None, Some(rotation.next)).unwrap();
        assert_eq!(followed.pin.0, rotation.next);
    }

    #[test]
    fn a_second_rotation_keeps_every_earlier_key_in_the_history() {
        let dir = tempfile::tempdir().unwrap();
        let first = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        begin_rotation(dir.path(), None, Duration::from_secs(3600)).unwrap();
        run_out(dir.path());
        let second = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        // A second rotation begun before any store recorded the second key.
        begin_rotation(dir.path(), None, Duration::from_secs(3600)).unwrap();
        run_out(dir.path());
        let third = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert_eq!(third.previous_pins, vec![first.pin, second.pin], "a store of either is recognised");
    }

    #[test]
    fn a_promotion_cut_short_after_the_key_moved_is_finished_at_the_next_start() {
        let dir = tempfile::tempdir().unwrap();
        let first = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        let rotation = begin_rotation(dir.path(), None, Duration::from_secs(3600)).unwrap();
        // The history was written and the first rename of `promote` happened; the
        // certificate did not follow.
        fs::write(dir.path().join(HISTORY_FILE), first.pin.0).unwrap();
        fs::rename(dir.path().join(NEXT_KEY_FILE), dir.path().join(KEY_FILE)).unwrap();
        let after = RelayIdentity::load_or_create(dir.path(), None).unwrap();
        assert_eq!((after.pin.0, after.previous_pins), (rotation.next, vec![first.pin]));
        assert_eq!(
            SpkiPin::of_certificate(&CertificateDer::from(fs::read(dir.path().join(CERT_FILE)).unwrap())).unwrap().0,
            rotation.next
        );
    }

    #[test]
    fn a_statement_not_signed_by_the_key_or_naming_another_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        RelayIdentity::load_or_create(dir.path(), None).unwrap();
        let mut rotation = begin_rotation(dir.path(), None, Duration::from_secs(3600)).unwrap();
        rotation.switch_at = UnixSeconds::new(1).unwrap();
        fs::write(dir.path().join(ROTATION_FILE), rotation.to_wire()).unwrap();
        let refused = RelayIdentity::load_or_create(dir.path(), None).unwrap_err();
        assert!(matches!(&refused, Error::Damaged(why) if why.contains("not signed")), "{refused}");
        rotation.current = [5; 32];
        fs::write(dir.path().join(ROTATION_FILE), rotation.to_wire()).unwrap();
        let refused = RelayIdentity::load_or_create(dir.path(), None).unwrap_err();
        assert!(matches!(&refused, Error::Damaged(why) if why.contains("names neither")), "{refused}");
        fs::write(dir.path().join(ROTATION_FILE), b"not a statement").unwrap();
        assert!(matches!(RelayIdentity::load_or_create(dir.path(), None), Err(Error::Damaged(_))));
    }

    #[test]
    fn the_next_key_is_sealed_as_the_key_is() {
        let dir = tempfile::tempdir().unwrap();
        let key = StoreKey::generate();
        RelayIdentity::load_or_create(dir.path(), Some(&key)).unwrap();
        begin_rotation(dir.path(), Some(&key), Duration::from_secs(3600)).unwrap();
        assert!(StoreKey::is_sealed_file(&fs::read(dir.path().join(NEXT_KEY_FILE)).unwrap()));
        assert!(RelayIdentity::load_or_create(dir.path(), Some(&key)).unwrap().next.is_some());
        assert!(matches!(
            RelayIdentity::load_or_create(dir.path(), Some(&StoreKey::generate())),
            Err(Error::Damaged(_))
        ));
    }
}
