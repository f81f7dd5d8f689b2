//! The Huis Clos desktop app: the client layer (`huisclos-ffi`'s `Profile`, the same
//! surface the phone apps use) runs in this process, and the web view renders it. The
//! web view reaches it only through the commands below and hears it only through
//! three events: `profile-event` (what happened), `spaces-diff` and `list-diff` (the
//! observed lists, as diffs). Passphrases go from the web view straight to the core;
//! no key ever goes the other way. The capability file lets the window listen to
//! events and call these commands, nothing else: no file system, shell or network.
//! The web view never names a path: uploads come to the core as bytes, and downloads
//! go to the person's downloads folder under a name the app chooses. It cannot
//! navigate away from the app either (a link in a note opens nothing).

#![cfg_attr(not(test), windows_subsystem = "windows")]

mod commands;
mod downloads;
mod keychain;
mod markdown;
mod notifications;
mod qr;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use huisclos_ffi::{
    FeedDiff, FeedListener, FolderDiff, FolderListener, JoinRequestDiff, JoinRequestListener, ListSubscription,
    MemberDiff, MemberListListener, Profile, ProfileEvent, ProfileListener, SpaceDiff, SpaceListListener,
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
    /// The lists a screen observes (a feed, a folder, requests to join), by the
    /// number the web view holds.
    lists: Mutex<HashMap<u32, Arc<ListSubscription>>>,
    next_list: AtomicU32,
    /// Who invited this person to each space, as the invitations arrived this session.
    invited_by: Mutex<HashMap<String, String>>,
    /// A profile was created in this session and its recovery words have not yet been
    /// shown and checked: the first run shows them once, before anything else.
    words_unchecked: AtomicBool,
    /// Answers given to the first run's check of the recovery words.
    word_tries: AtomicU32,
    /// How much a desktop notification may say (Settings; nothing but "something new"
    /// until the web view says otherwise).
    notifications: Mutex<notifications::NotificationMode>,
    /// The language the person chose, for what the app itself shows (notifications).
    language: Mutex<huisclos_l10n::Language>,
    /// The space on screen, whose news needs no notification while the window has the
    /// focus.
    showing: Mutex<Option<String>>,
    /// This computer waiting to be linked to an existing person (first run, or an
    /// unlock that found a link still waiting).
    linking: Mutex<Option<Arc<huisclos_ffi::LinkingDevice>>>,
    /// The open profile was opened with the OS keychain, not a passphrase.
    by_keychain: AtomicBool,
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
        guard(&self.lists).clear();
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

    /// Observes a list for a screen: `subscribe` gets the forwarder of the number the
    /// web view will hold, and the subscription is kept under it until `close_list`.
    fn observe_list(
        &self,
        app: &AppHandle,
        subscribe: impl FnOnce(Arc<ListForward>) -> Result<Arc<ListSubscription>, huisclos_ffi::HuisClosError>,
    ) -> Result<u32, huisclos_ffi::HuisClosError> {
        let id = self.next_list.fetch_add(1, Ordering::Relaxed);
        let subscription = subscribe(Arc::new(ListForward { app: app.clone(), subscription: id }))?;
        guard(&self.lists).insert(id, subscription);
        Ok(id)
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
            ProfileEvent::Notify { space, item, kind, from } => notify(&self.0, &desktop, space, item, *kind, from),
            _ => {}
        }
        let _ = self.0.emit("profile-event", event);
    }
}

/// Shows the OS notification the core asked for, saying only what the person allowed,
/// unless the space is on screen in the focused window.
fn notify(
    app: &AppHandle,
    desktop: &Desktop,
    space: &str,
    item: &str,
    kind: huisclos_ffi::NotificationKind,
    from: &str,
) {
    use notifications::{About, NotificationMode};
    let mode = *guard(&desktop.notifications);
    if mode == NotificationMode::Off {
        return;
    }
    let focused = app.get_webview_window("main").and_then(|window| window.is_focused().ok()).unwrap_or(false);
    if focused && guard(&desktop.showing).as_deref() == Some(space) {
        return;
    }
    // A burst (a member posting hundreds of items at once) shows a few notifications,
    // not hundreds of threads and pop-ups.
    if NOTIFYING.load(std::sync::atomic::Ordering::SeqCst) >= MAX_NOTIFYING {
        return;
    }
    NOTIFYING.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let language = *guard(&desktop.language);
    let profile = desktop.profile();
    let (space, item, from) = (space.to_owned(), item.to_owned(), from.to_owned());
    // Off the listener's thread: reading the item waits on the engine.
    std::thread::spawn(move || {
        let (mut space_name, mut text) = (None, None);
        if mode == NotificationMode::WithContent {
            if let Some(profile) = profile {
                space_name =
                    profile.spaces().ok().and_then(|all| all.into_iter().find(|s| s.id == space)).map(|s| s.name);
                text = profile
                    .space(space.clone())
                    .and_then(|space| space.feed().page(None, NOTIFIED_ITEM_SEARCH))
                    .ok()
                    .and_then(|page| page.into_iter().find(|i| i.id == item))
                    .map(|i| i.text);
            }
        }
        let about = About { kind, space_name: space_name.as_deref(), from: &from, text: text.as_deref() };
        if let Some((title, body)) = notifications::compose(mode, language, &about) {
            notifications::show_now(&title, &body);
        }
        NOTIFYING.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    });
}

/// Notifications being prepared or shown now, and how many may be.
static NOTIFYING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
const MAX_NOTIFYING: usize = 3;

/// How far into a feed's newest items the text of a notified item is looked for.
const NOTIFIED_ITEM_SEARCH: u32 = 50;

impl SpaceListListener for Forward {
    fn on_diffs(&self, diffs: Vec<SpaceDiff>) {
        let _ = self.0.emit("spaces-diff", diffs);
    }
}

/// One observed list's diffs, tagged with the number the web view holds for it.
struct ListForward {
    app: AppHandle,
    subscription: u32,
}

#[derive(serde::Serialize, Clone)]
struct ListDiffs<D> {
    subscription: u32,
    diffs: Vec<D>,
}

impl ListForward {
    fn forward<D: serde::Serialize + Clone>(&self, diffs: Vec<D>) {
        let _ = self.app.emit("list-diff", ListDiffs { subscription: self.subscription, diffs });
    }
}

impl FeedListener for ListForward {
    fn on_diffs(&self, diffs: Vec<FeedDiff>) {
        self.forward(diffs);
    }
}

impl FolderListener for ListForward {
    fn on_diffs(&self, diffs: Vec<FolderDiff>) {
        self.forward(diffs);
    }
}

impl JoinRequestListener for ListForward {
    fn on_diffs(&self, diffs: Vec<JoinRequestDiff>) {
        self.forward(diffs);
    }
}

impl MemberListListener for ListForward {
    fn on_diffs(&self, diffs: Vec<MemberDiff>) {
        self.forward(diffs);
    }
}

/// Whether the web view may go to `url`: only the app's own pages. A link in a note,
/// or anything injected, cannot take the window to a page that would see the IPC.
#[must_use]
fn is_app_page(url: &tauri::Url) -> bool {
    // `tauri://localhost` on Linux and macOS, `http(s)://tauri.localhost` on Windows;
    // nothing else, not even another page on this machine.
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
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
                lists: Mutex::new(HashMap::new()),
                next_list: AtomicU32::new(1),
                words_unchecked: AtomicBool::new(false),
                word_tries: AtomicU32::new(0),
                notifications: Mutex::new(notifications::NotificationMode::default()),
                language: Mutex::new(huisclos_l10n::Language::English),
                showing: Mutex::new(None),
                linking: Mutex::new(None),
                by_keychain: AtomicBool::new(false),
                invited_by: Mutex::new(HashMap::new()),
            });
            Ok(())
        })
        .plugin(
            tauri::plugin::Builder::<tauri::Wry>::new("app-pages-only")
                .on_navigation(|_, url| is_app_page(url))
                .build(),
        )
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!());
    if let Err(error) = outcome {
        eprintln!("huisclos-desktop: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::is_app_page;

    #[test]
    fn the_window_stays_on_the_apps_pages() {
        let page = |text: &str| tauri::Url::parse(text).map(|url| is_app_page(&url)).unwrap_or(false);
        assert!(page("tauri://localhost/index.html"));
        assert!(page("http://tauri.localhost/"));
        assert!(!page("http://localhost:8080/"));
        assert!(!page("https://example.org/"));
        assert!(!page("file:///etc/passwd"));
        assert!(!page("javascript:alert(1)"));
        assert!(!page("tauri://evil.example/"));
    }
}
