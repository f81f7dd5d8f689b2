//! The Huis Clos desktop app: the client layer (`huisclos-ffi`'s `Profile`, the same
//! surface the phone apps use) runs in this process, and the web view renders it. The
//! web view reaches it only through the commands below and hears it only through
//! three events: `profile-event` (what happened), `spaces-diff` and `feed-diff` (the
//! observed lists, as diffs). Passphrases go from the web view straight to the core;
//! no key ever goes the other way. The capability file lets the window listen to
//! events and call these commands, nothing else: no file system, shell or network.

#![cfg_attr(not(test), windows_subsystem = "windows")]

mod commands;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use huisclos_ffi::{
    FeedDiff, FeedListener, ListSubscription, Profile, ProfileEvent, ProfileListener, SpaceDiff, SpaceListListener,
};
use tauri::{AppHandle, Emitter, Manager};

/// Where the profile lives: `HUISCLOS_PROFILE` if set (tests, several people on one
/// machine), else `profile` in the app's data directory.
fn profile_dir(app: &AppHandle) -> PathBuf {
    if let Some(dir) = std::env::var_os("HUISCLOS_PROFILE") {
        return PathBuf::from(dir);
    }
    app.path().app_data_dir().unwrap_or_else(|_| PathBuf::from(".")).join("profile")
}

/// The app's state: the open profile, if any, and the lists the web view observes.
pub(crate) struct Desktop {
    dir: PathBuf,
    profile: Mutex<Option<Arc<Profile>>>,
    spaces: Mutex<Option<Arc<ListSubscription>>>,
    feeds: Mutex<HashMap<u32, Arc<ListSubscription>>>,
    next_feed: AtomicU32,
    /// Who invited this person to each space, as the invitations arrived this session.
    invited_by: Mutex<HashMap<String, String>>,
}

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Desktop {
    fn profile(&self) -> Option<Arc<Profile>> {
        guard(&self.profile).clone()
    }

    /// Keeps an opened profile: its events go to the web view, and it watches the
    /// relay. The space list is observed once the web view listens (`open_spaces`).
    fn opened(&self, app: &AppHandle, profile: Arc<Profile>) {
        profile.set_listener(Arc::new(Forward(app.clone())));
        // Without an account yet there is nothing to watch; `join_relay` starts it.
        if profile.whoami().is_ok_and(|me| me.account.is_some()) {
            let _ = profile.start_watching();
        }
        *guard(&self.profile) = Some(profile);
    }

    /// Forgets the open profile and its lists (after a lock or a wipe).
    fn closed(&self) {
        guard(&self.feeds).clear();
        guard(&self.invited_by).clear();
        if let Some(spaces) = guard(&self.spaces).take() {
            spaces.stop();
        }
        if let Some(profile) = guard(&self.profile).take() {
            profile.stop_watching();
            profile.clear_listener();
        }
    }

    /// Observes the space list anew: the web view hears a `Reset`, then diffs.
    fn observe_spaces(&self, app: &AppHandle, profile: &Profile) -> Result<(), huisclos_ffi::HuisClosError> {
        let spaces = profile.subscribe_spaces(Arc::new(Forward(app.clone())))?;
        if let Some(previous) = guard(&self.spaces).replace(spaces) {
            previous.stop();
        }
        Ok(())
    }

    fn keep_feed(&self, subscription: Arc<ListSubscription>, id: u32) {
        guard(&self.feeds).insert(id, subscription);
    }

    fn next_feed_id(&self) -> u32 {
        self.next_feed.fetch_add(1, Ordering::Relaxed)
    }
}

/// How many inviters' names the app keeps for invitations not yet accepted.
const MAX_INVITERS_KEPT: usize = 256;

/// Hands the core's events and diffs to the web view, as Tauri events.
struct Forward(AppHandle);

impl ProfileListener for Forward {
    fn on_event(&self, event: ProfileEvent) {
        let desktop = self.0.state::<Desktop>();
        match &event {
            // Bounded: a flood of invitations keeps the first names, then shows the
            // rest without the inviter's.
            ProfileEvent::Invited { space, by, .. } => {
                let mut invited_by = guard(&desktop.invited_by);
                if invited_by.len() < MAX_INVITERS_KEPT {
                    invited_by.insert(space.clone(), by.clone());
                }
            }
            ProfileEvent::Joined { space } | ProfileEvent::RemovedFromSpace { space } => {
                guard(&desktop.invited_by).remove(space);
            }
            _ => {}
        }
        let _ = self.0.emit("profile-event", event);
    }
}

impl SpaceListListener for Forward {
    fn on_diffs(&self, diffs: Vec<SpaceDiff>) {
        let _ = self.0.emit("spaces-diff", diffs);
    }
}

/// One observed feed's diffs, tagged with the subscription the web view holds.
struct FeedForward {
    app: AppHandle,
    subscription: u32,
}

#[derive(serde::Serialize, Clone)]
struct FeedDiffs {
    subscription: u32,
    diffs: Vec<FeedDiff>,
}

impl FeedListener for FeedForward {
    fn on_diffs(&self, diffs: Vec<FeedDiff>) {
        let _ = self.app.emit("feed-diff", FeedDiffs { subscription: self.subscription, diffs });
    }
}

fn main() {
    let outcome = tauri::Builder::default()
        .setup(|app| {
            let dir = profile_dir(app.handle());
            app.manage(Desktop {
                dir,
                profile: Mutex::new(None),
                spaces: Mutex::new(None),
                feeds: Mutex::new(HashMap::new()),
                next_feed: AtomicU32::new(1),
                invited_by: Mutex::new(HashMap::new()),
            });
            Ok(())
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(error) = outcome {
        eprintln!("huisclos-desktop: {error}");
        std::process::exit(1);
    }
}
