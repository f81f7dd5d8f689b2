//! The relay's TLS identity: an Ed25519 key and a self-signed certificate, made on first
//! start and kept in the data directory. Clients pin the key (not the certificate), so
//! the certificate's names and dates do not matter and no authority is involved.
//!
//! With a store key ([`StoreKey`]) the key file is sealed under it, so that a disk
//! taken from a stopped server does not let anyone pose as the relay.

use std::fs;
use std::io::Write;
use std::path::Path;

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

/// The relay's certificate, key and pin.
pub struct RelayIdentity {
    /// The self-signed certificate.
    pub certificate: CertificateDer<'static>,
    /// The private key (PKCS#8).
    pub key: PrivateKeyDer<'static>,
    /// What invitations carry.
    pub pin: SpkiPin,
    /// Whether this start created the identity.
    pub created: bool,
}

impl std::fmt::Debug for RelayIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayIdentity").field("pin", &self.pin).field("created", &self.created).finish_non_exhaustive()
    }
}

impl RelayIdentity {
    /// Loads the identity from `data_dir`, or creates it there.
    ///
    /// # Errors
    /// [`Error::Io`] or [`Error::Certificate`].
    pub fn load_or_create(data_dir: &Path, store_key: Option<&StoreKey>) -> Result<Self, Error> {
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
        let stored = Zeroizing::new(
            fs::read(&key_path).map_err(|e| Error::Certificate(format!("reading {}: {e}", key_path.display())))?,
        );
        let key_der = match (StoreKey::is_sealed_file(&stored), store_key) {
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
        };
        let certificate = match fs::read(&cert_path) {
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
        let pin = SpkiPin::of_certificate(&certificate).map_err(|e| Error::Certificate(e.to_string()))?;
        let expected = rcgen::KeyPair::try_from(key_der.as_slice())
            .map_err(|e| Error::Certificate(format!("{} does not hold a key: {e}", key_path.display())))?;
        let key_pin =
            SpkiPin::of_certificate(self_signed(&expected)?.der()).map_err(|e| Error::Certificate(e.to_string()))?;
        if key_pin != pin {
            return Err(Error::Certificate(format!(
                "{} is not the certificate of the key in {}",
                cert_path.display(),
                key_path.display()
            )));
        }
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec()));
        Ok(Self { certificate, key, pin, created })
    }
}

/// Seals the key file in `data_dir` under `store_key`, if it is in clear (written
/// whole to a new file, then renamed over the old one). Returns whether it did.
///
/// # Errors
/// I/O failures, and a key file sealed under another key.
pub fn seal_key_file(data_dir: &Path, store_key: &StoreKey) -> Result<bool, Error> {
    let key_path = data_dir.join(KEY_FILE);
    let stored = Zeroizing::new(fs::read(&key_path)?);
    if StoreKey::is_sealed_file(&stored) {
        store_key.open_file(KEY_FILE_PURPOSE, &stored)?;
        return Ok(false);
    }
    let sealed = store_key.seal_file(KEY_FILE_PURPOSE, &stored)?;
    let next = data_dir.join(format!("{KEY_FILE}.sealing"));
    let _ = fs::remove_file(&next);
    write_private(&next, &sealed)?;
    fs::rename(&next, &key_path)?;
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
