//! The operating system's keychain as the profile's keystore (the `keyring` crate: the
//! Secret Service on Linux, Keychain Services on macOS, the Credential Manager on
//! Windows). A profile created this way opens without a passphrase, with a random
//! 32-byte key the keychain keeps under the profile directory's name; the panic wipe
//! deletes that key too. Whoever can open the person's session can then open the
//! profile: the first run says so.

use huisclos_ffi::{HuisClosError, Keystore};

/// The service name the keys are kept under.
const SERVICE: &str = "Huis Clos";

/// The OS keychain.
#[derive(Debug, Default)]
pub(crate) struct OsKeychain;

fn entry(name: &str) -> Result<keyring::Entry, HuisClosError> {
    keyring::Entry::new(SERVICE, name).map_err(failed)
}

/// The keychain's own words, which name no secret.
fn failed(error: keyring::Error) -> HuisClosError {
    HuisClosError::Keystore { reason: format!("the keychain: {error}") }
}

impl OsKeychain {
    /// Whether the keychain holds a key for the profile in `dir` (and answers at all).
    pub(crate) fn holds_key_for(&self, dir: &str) -> bool {
        entry(dir).and_then(|entry| entry.get_secret().map_err(failed)).is_ok_and(|key| key.len() == 32)
    }
}

impl Keystore for OsKeychain {
    fn store_key(&self, name: String, key: Vec<u8>) -> Result<(), HuisClosError> {
        let key = zeroize::Zeroizing::new(key);
        entry(&name)?.set_secret(&key).map_err(failed)
    }

    fn load_key(&self, name: String) -> Result<Vec<u8>, HuisClosError> {
        entry(&name)?.get_secret().map_err(failed)
    }

    fn delete_key(&self, name: String) -> Result<(), HuisClosError> {
        match entry(&name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(failed(error)),
        }
    }
}
