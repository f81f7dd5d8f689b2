//! The new device's side of linking: an empty profile on this device joins the identity
//! of a person whose existing device showed a link offer. The new device shows its
//! request (to be pasted or scanned on the existing device) and a confirmation code
//! (compared by the person on both screens), then waits at the relay for the approval,
//! after which it is a full [`Profile`] of that person.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use huisclos_core::CoreError;
use huisclos_core::client::Connection;
use huisclos_core::identity::DisplayName;
use huisclos_core::link::LinkOffer;
use huisclos_core::linker::{LinkStatus, Linker};
use huisclos_core::vault::{KdfParams, Passphrase, Unlock, Vault};

use crate::error::{HuisClosError, Result};
use crate::profile::Profile;
use crate::runtime::runtime;

/// How long one wait at the relay lasts at most: an app asks again rather than hold a
/// call open for minutes.
const MAX_WAIT_SECONDS: u32 = 120;
/// Between two connections while waiting.
const RETRY: Duration = Duration::from_secs(2);

/// A device waiting to be linked to an existing person.
#[derive(uniffi::Object)]
pub struct LinkingDevice {
    dir: PathBuf,
    request: String,
    code: String,
    /// The linker, until it hands over its engine. A wait's task holds it for the whole
    /// wait and puts it back itself, so a caller that gives up loses nothing.
    linker: Arc<tokio::sync::Mutex<Option<Linker>>>,
}

impl std::fmt::Debug for LinkingDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkingDevice").field("dir", &self.dir).finish_non_exhaustive()
    }
}

impl LinkingDevice {
    fn from_linker(dir: PathBuf, linker: Linker) -> Arc<Self> {
        Arc::new(Self {
            dir,
            request: linker.request().to_text(),
            code: linker.confirmation_code(),
            linker: Arc::new(tokio::sync::Mutex::new(Some(linker))),
        })
    }
}

#[uniffi::export]
impl LinkingDevice {
    /// Starts linking a new profile in `dir`, under `passphrase`, to the person whose
    /// device showed `offer` (its text). Nothing is sent yet.
    #[uniffi::constructor]
    pub fn start_with_passphrase(dir: String, name: String, passphrase: String, offer: String) -> Result<Arc<Self>> {
        // Wrapped first, so that every early return below wipes it.
        let passphrase = Passphrase::new(passphrase);
        let path = PathBuf::from(&dir);
        if Vault::exists(&path) {
            return Err(CoreError::ProfileExists(dir).into());
        }
        let offer = LinkOffer::from_text(&offer)?;
        let name = DisplayName::new(name)?;
        passphrase.check_new()?;
        let vault = Arc::new(Vault::create(&path, &Unlock::Passphrase(passphrase), KdfParams::DEFAULT)?);
        Ok(Self::from_linker(path, Linker::create(vault, offer, name)?))
    }

    /// Takes up a link started earlier in `dir` (the app was closed while waiting).
    #[uniffi::constructor]
    pub fn resume_with_passphrase(dir: String, passphrase: String) -> Result<Arc<Self>> {
        let path = PathBuf::from(&dir);
        let vault = Arc::new(Vault::open(&path, &Unlock::Passphrase(Passphrase::new(passphrase)))?);
        Ok(Self::from_linker(path, Linker::load(vault)?))
    }

    /// The request to give the existing device (pasted or shown as a QR code).
    pub fn request(&self) -> String {
        self.request.clone()
    }

    /// The code both devices show: the person approves only if they are the same.
    pub fn confirmation_code(&self) -> String {
        self.code.clone()
    }

    /// Waits at the relay for the approval, up to `seconds` (at most two minutes):
    /// the linked profile once approved, `None` if not yet (ask again). An answer that
    /// does not verify is dropped, and the wait goes on for the real one.
    pub async fn wait_for_approval(&self, seconds: u32) -> Result<Option<Arc<Profile>>> {
        let runtime = runtime()?;
        let held = self.linker.clone();
        let wait = Duration::from_secs(u64::from(seconds.min(MAX_WAIT_SECONDS)));
        let task = runtime.spawn(async move {
            let mut guard = held.lock_owned().await;
            let Some(linker) = guard.as_mut() else { return Err(HuisClosError::closed()) };
            let deadline = tokio::time::Instant::now() + wait;
            let endpoint = linker.offer().relay.clone();
            loop {
                // Every attempt ends by the deadline, even against a relay that accepts
                // the connection and then never answers.
                let attempt = async {
                    let Ok(addresses) = endpoint.resolve() else { return false };
                    let Ok(connection) = Connection::open(&mut *linker, &addresses, endpoint.spki_pin()).await else {
                        return false;
                    };
                    let driven = connection.drive(&mut *linker).await;
                    connection.close(&mut *linker);
                    driven.is_ok() && linker.status() == LinkStatus::Linked
                };
                match tokio::time::timeout_at(deadline, attempt).await {
                    Ok(true) => {
                        let engine = linker.take_engine().ok_or_else(|| HuisClosError::Internal {
                            reason: "linked, but the profile was not handed over".into(),
                        })?;
                        *guard = None;
                        return Ok(Some(engine));
                    }
                    Ok(false) => {}
                    // Cut off mid-request: the linker forgets what was in flight.
                    Err(_) => linker.disconnected(),
                }
                let _ = linker.take_refusal();
                if tokio::time::Instant::now() + RETRY >= deadline {
                    return Ok(None);
                }
                tokio::time::sleep(RETRY).await;
            }
        });
        let engine = task
            .await
            .map_err(|error| HuisClosError::Internal { reason: format!("the linking task failed: {error}") })??;
        Ok(engine.map(|engine| Profile::linked(self.dir.clone(), engine)))
    }
}
