//! The commands the web view may call: each a thin call into the client layer. Errors
//! cross as a kind and a reason already in the person's language (the typed reasons
//! of `huisclos-ffi`, rendered by `huisclos-l10n`).

use std::sync::Arc;

use huisclos_ffi::{HuisClosError, Policy, Profile, Role};
use tauri::{AppHandle, State};

use crate::{Desktop, FeedForward};

/// An error as the web view sees it.
#[derive(Debug, serde::Serialize)]
pub(crate) struct UiError {
    /// The kind (`WrongPassphrase`, `NotFound`, `Forbidden`, `Offline`, …).
    kind: String,
    /// Why, in the person's language.
    reason: String,
}

impl From<HuisClosError> for UiError {
    fn from(error: HuisClosError) -> Self {
        let kind = format!("{error:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned();
        Self { kind, reason: error.to_string() }
    }
}

impl UiError {
    fn closed() -> Self {
        Self { kind: "Closed".into(), reason: String::new() }
    }
    fn unknown(what: &str) -> Self {
        Self { kind: "Invalid".into(), reason: what.to_owned() }
    }
}

type Result<T, E = UiError> = std::result::Result<T, E>;

fn open(desktop: &Desktop) -> Result<Arc<Profile>> {
    desktop.profile().ok_or_else(UiError::closed)
}

/// Whether a profile exists here and whether it is open.
#[derive(serde::Serialize)]
pub(crate) struct AppState {
    has_profile: bool,
    unlocked: bool,
}

#[tauri::command]
fn app_state(desktop: State<'_, Desktop>) -> AppState {
    AppState {
        has_profile: huisclos_ffi::profile_exists(desktop.dir.display().to_string()),
        unlocked: desktop.profile().is_some(),
    }
}

#[tauri::command]
fn check_passphrase(passphrase: String) -> huisclos_ffi::PassphraseCheck {
    huisclos_ffi::check_passphrase(passphrase)
}

#[tauri::command]
fn suggest_passphrase() -> String {
    huisclos_ffi::suggest_passphrase()
}

#[tauri::command]
fn set_language(tag: String) -> Result<String> {
    Ok(huisclos_ffi::set_language(tag)?)
}

#[tauri::command]
async fn create_profile(app: AppHandle, desktop: State<'_, Desktop>, name: String, passphrase: String) -> Result<()> {
    // Moved into the core, whose passphrase type wipes it when dropped.
    let dir = desktop.dir.display().to_string();
    let profile = Profile::create_with_passphrase(dir, name, passphrase)?;
    desktop.opened(&app, profile);
    Ok(())
}

#[tauri::command]
async fn unlock(app: AppHandle, desktop: State<'_, Desktop>, passphrase: String) -> Result<()> {
    let profile = Profile::open_with_passphrase(desktop.dir.display().to_string(), passphrase)?;
    desktop.opened(&app, profile);
    Ok(())
}

#[tauri::command]
fn lock(desktop: State<'_, Desktop>) {
    if let Some(profile) = desktop.profile() {
        desktop.closed();
        profile.lock();
    }
}

/// The panic wipe: the profile is destroyed, open or not.
#[tauri::command]
fn wipe(desktop: State<'_, Desktop>) -> Result<()> {
    match desktop.profile() {
        Some(profile) => {
            desktop.closed();
            profile.wipe()?;
        }
        None => huisclos_ffi::wipe_profile(desktop.dir.display().to_string(), None)?,
    }
    Ok(())
}

#[tauri::command]
async fn join_relay(desktop: State<'_, Desktop>, invitation: String) -> Result<()> {
    let profile = open(&desktop)?;
    profile.join_relay(invitation)?;
    profile.sync().await?;
    profile.start_watching()?;
    Ok(())
}

#[tauri::command]
fn whoami(desktop: State<'_, Desktop>) -> Result<huisclos_ffi::Me> {
    Ok(open(&desktop)?.whoami()?)
}

#[tauri::command]
fn contact_card(desktop: State<'_, Desktop>) -> Result<String> {
    Ok(open(&desktop)?.contact_card()?)
}

#[tauri::command]
async fn sync(desktop: State<'_, Desktop>) -> Result<huisclos_ffi::SyncOutcome> {
    Ok(open(&desktop)?.sync().await?)
}

fn policy(name: &str) -> Result<Policy> {
    match name {
        "open" => Ok(Policy::Open),
        "on_request" => Ok(Policy::OnRequest),
        "confidential" => Ok(Policy::Confidential),
        other => Err(UiError::unknown(other)),
    }
}

fn role(name: &str) -> Result<Role> {
    match name {
        "reader" => Ok(Role::Reader),
        "contributor" => Ok(Role::Contributor),
        "content_manager" => Ok(Role::ContentManager),
        "space_manager" => Ok(Role::SpaceManager),
        other => Err(UiError::unknown(other)),
    }
}

#[tauri::command]
fn create_space(
    desktop: State<'_, Desktop>,
    name: String,
    description: String,
    policy_name: String,
    keep_history: bool,
) -> Result<String> {
    Ok(open(&desktop)?.create_space(name, description, policy(&policy_name)?, keep_history)?)
}

/// Starts observing the space list (invitations among them): a `Reset`, then diffs.
#[tauri::command]
fn open_spaces(app: AppHandle, desktop: State<'_, Desktop>) -> Result<()> {
    let profile = open(&desktop)?;
    Ok(desktop.observe_spaces(&app, &profile)?)
}

/// Who invited this person, by space, for the invitations that arrived this session.
#[tauri::command]
fn invited_by(desktop: State<'_, Desktop>) -> std::collections::HashMap<String, String> {
    crate::guard(&desktop.invited_by).clone()
}

#[tauri::command]
fn accept_invitation(desktop: State<'_, Desktop>, space: String) -> Result<()> {
    Ok(open(&desktop)?.accept_invitation(space)?)
}

#[tauri::command]
fn mark_read(desktop: State<'_, Desktop>, space: String) -> Result<()> {
    Ok(open(&desktop)?.mark_read(space)?)
}

#[tauri::command]
fn members(desktop: State<'_, Desktop>, space: String) -> Result<Vec<huisclos_ffi::Member>> {
    Ok(open(&desktop)?.members(space)?)
}

#[tauri::command]
fn invite(desktop: State<'_, Desktop>, space: String, card: String, role_name: String) -> Result<()> {
    Ok(open(&desktop)?.invite(space, card.trim().to_owned(), role(&role_name)?)?)
}

/// Starts observing a space's feed: its diffs come as `feed-diff` events tagged with
/// the returned subscription, a `Reset` first.
#[tauri::command]
fn open_feed(app: AppHandle, desktop: State<'_, Desktop>, space: String, page_size: u32) -> Result<u32> {
    let profile = open(&desktop)?;
    let id = desktop.next_feed_id();
    let listener = Arc::new(FeedForward { app, subscription: id });
    let subscription = profile.subscribe_feed(space, page_size, listener)?;
    desktop.keep_feed(subscription, id);
    Ok(id)
}

#[tauri::command]
fn close_feed(desktop: State<'_, Desktop>, subscription: u32) {
    if let Some(feed) = crate::guard(&desktop.feeds).remove(&subscription) {
        feed.stop();
    }
}

/// Loads `count` older items into an observed feed; whether there were any.
#[tauri::command]
fn load_more(desktop: State<'_, Desktop>, subscription: u32, count: u32) -> Result<bool> {
    let feed = crate::guard(&desktop.feeds).get(&subscription).cloned().ok_or_else(UiError::closed)?;
    Ok(feed.load_more(count)?)
}

#[tauri::command]
fn post(desktop: State<'_, Desktop>, space: String, text: String) -> Result<String> {
    Ok(open(&desktop)?.post(space, text)?)
}

#[tauri::command]
fn comment(desktop: State<'_, Desktop>, space: String, parent: String, text: String) -> Result<String> {
    Ok(open(&desktop)?.comment(space, parent, text)?)
}

#[tauri::command]
fn react(desktop: State<'_, Desktop>, space: String, item: String, reaction: String, on: bool) -> Result<()> {
    Ok(open(&desktop)?.react(space, item, reaction, on)?)
}

/// Every command, for the builder.
pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_state,
        check_passphrase,
        suggest_passphrase,
        set_language,
        create_profile,
        unlock,
        lock,
        wipe,
        join_relay,
        whoami,
        contact_card,
        sync,
        create_space,
        open_spaces,
        invited_by,
        accept_invitation,
        mark_read,
        members,
        invite,
        open_feed,
        close_feed,
        load_more,
        post,
        comment,
        react,
    ]
}
