//! The commands the web view may call: each a thin call into the client layer. Errors
//! cross as a kind and a reason already in the person's language (the typed reasons
//! of `huisclos-ffi`, rendered by `huisclos-l10n`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use huisclos_ffi::{HuisClosError, Policy, Profile, Role};
use tauri::{AppHandle, State};

use crate::Desktop;

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
    /// The profile was just created and its recovery words still have to be shown.
    words_unchecked: bool,
    /// This computer waits to be linked to an existing person.
    linking: bool,
    /// The OS keychain holds the key of the (locked) profile here: it opens without a
    /// passphrase.
    keychain: bool,
    /// The open profile was opened with the OS keychain.
    by_keychain: bool,
}

// Off the main thread: asking the keychain may wait on the session bus.
#[tauri::command]
async fn app_state(desktop: State<'_, Desktop>) -> Result<AppState> {
    Ok(AppState {
        has_profile: huisclos_ffi::profile_exists(desktop.dir.display().to_string()),
        unlocked: desktop.profile().is_some(),
        words_unchecked: desktop.profile().is_some() && desktop.words_unchecked.load(Ordering::SeqCst),
        linking: crate::guard(&desktop.linking).is_some(),
        keychain: desktop.profile().is_none()
            && huisclos_ffi::profile_exists(desktop.dir.display().to_string())
            && crate::keychain::OsKeychain.holds_key_for(&desktop.dir.display().to_string()),
        by_keychain: desktop.profile().is_some() && desktop.by_keychain.load(Ordering::SeqCst),
    })
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
fn set_language(desktop: State<'_, Desktop>, tag: String) -> Result<String> {
    let tag = huisclos_ffi::set_language(tag)?;
    if let Ok(language) = huisclos_l10n::Language::from_tag(&tag) {
        *crate::guard(&desktop.language) = language;
    }
    Ok(tag)
}

/// How much desktop notifications may say (Settings).
#[tauri::command]
fn set_notifications(desktop: State<'_, Desktop>, mode: crate::notifications::NotificationMode) {
    *crate::guard(&desktop.notifications) = mode;
}

/// The space on screen (none when another screen is): its news is not notified while
/// the window has the focus.
#[tauri::command]
fn showing(desktop: State<'_, Desktop>, space: Option<String>) {
    *crate::guard(&desktop.showing) = space;
}

#[tauri::command]
async fn create_profile(app: AppHandle, desktop: State<'_, Desktop>, name: String, passphrase: String) -> Result<()> {
    // Moved into the core, whose passphrase type wipes it when dropped.
    let dir = desktop.dir.display().to_string();
    let profile = Profile::create_with_passphrase(dir.clone(), name, passphrase)?;
    // A key an earlier profile here left in the keychain would make the unlock screen
    // ask the keychain instead of the passphrase.
    std::thread::spawn(move || {
        let _ = huisclos_ffi::Keystore::delete_key(&crate::keychain::OsKeychain, dir);
    });
    desktop.words_unchecked.store(true, Ordering::SeqCst);
    desktop.by_keychain.store(false, Ordering::SeqCst);
    desktop.opened(&app, profile);
    Ok(())
}

/// Creates the profile with a random key kept by the OS keychain instead of a
/// passphrase.
#[tauri::command]
async fn create_profile_with_keychain(app: AppHandle, desktop: State<'_, Desktop>, name: String) -> Result<()> {
    let dir = desktop.dir.display().to_string();
    let profile = Profile::create_with_keystore(dir, name, Arc::new(crate::keychain::OsKeychain))?;
    desktop.words_unchecked.store(true, Ordering::SeqCst);
    desktop.by_keychain.store(true, Ordering::SeqCst);
    desktop.opened(&app, profile);
    Ok(())
}

/// Opens a profile whose key the OS keychain keeps.
#[tauri::command]
async fn unlock_with_keychain(app: AppHandle, desktop: State<'_, Desktop>) -> Result<()> {
    let dir = desktop.dir.display().to_string();
    let profile = Profile::open_with_keystore(dir, Arc::new(crate::keychain::OsKeychain))?;
    desktop.by_keychain.store(true, Ordering::SeqCst);
    desktop.opened(&app, profile);
    Ok(())
}

/// The recovery words of a profile created in this session, before they are checked:
/// shown once at first run, without asking for the passphrase just typed.
#[tauri::command]
fn first_recovery_words(desktop: State<'_, Desktop>) -> Result<Vec<String>> {
    let profile = open(&desktop)?;
    if !desktop.words_unchecked.load(Ordering::SeqCst) {
        return Err(UiError::unknown("the recovery words were already checked"));
    }
    Ok(split_words(&profile.recovery_words()?))
}

/// The recovery words, once the passphrase is typed again (Settings).
// Off the main thread: checking the passphrase runs the key derivation.
#[tauri::command]
async fn recovery_words(desktop: State<'_, Desktop>, passphrase: String) -> Result<Vec<String>> {
    let profile = open(&desktop)?;
    // A profile the keychain opens has no passphrase to ask again: the open session is
    // what protects it.
    if !desktop.by_keychain.load(Ordering::SeqCst) {
        profile.verify_passphrase(passphrase)?;
    }
    Ok(split_words(&profile.recovery_words()?))
}

fn split_words(words: &str) -> Vec<String> {
    words.split_whitespace().map(str::to_owned).collect()
}

/// One word as the person typed it back, at its place (from 1) in the list.
#[derive(serde::Deserialize)]
pub(crate) struct WordAnswer {
    position: usize,
    word: String,
}

/// Whether the words typed back are the recovery words at those places. The check is
/// made here, so that the web view can forget the words once they were shown; two
/// right answers end the first run's check.
#[tauri::command]
fn check_recovery_words(desktop: State<'_, Desktop>, answers: Vec<WordAnswer>) -> Result<bool> {
    let profile = open(&desktop)?;
    // Only during the first run's check, and only a few tries: otherwise a script in
    // the page could find the words two at a time without the passphrase.
    if !desktop.words_unchecked.load(Ordering::SeqCst) {
        return Err(UiError::unknown("the recovery words were already checked"));
    }
    if desktop.word_tries.fetch_add(1, Ordering::SeqCst) >= MAX_WORD_TRIES {
        return Err(UiError { kind: "TooManyTries".into(), reason: String::new() });
    }
    let words = profile.recovery_words()?;
    let right = words_match(&words, &answers);
    if right {
        desktop.words_unchecked.store(false, Ordering::SeqCst);
    }
    Ok(right)
}

/// How many wrong answers the first run's check takes before it stops answering (the
/// person can still see the words again in Settings, after the passphrase).
const MAX_WORD_TRIES: u32 = 10;

/// At least two distinct places, each answered with its word (case and surrounding
/// spaces aside).
fn words_match(words: &str, answers: &[WordAnswer]) -> bool {
    let words: Vec<&str> = words.split_whitespace().collect();
    let mut places: Vec<usize> = answers.iter().map(|a| a.position).collect();
    places.sort_unstable();
    places.dedup();
    places.len() >= 2
        && places.len() == answers.len()
        && answers.iter().all(|answer| {
            answer
                .position
                .checked_sub(1)
                .and_then(|index| words.get(index))
                .is_some_and(|word| word.eq_ignore_ascii_case(answer.word.trim()))
        })
}

/// Sets the duress passphrase: typed at the unlock screen later, it destroys this
/// profile and opens a decoy (named `decoy_name`, with its own relay account when
/// `invitation` is given).
#[tauri::command]
async fn set_duress_passphrase(
    desktop: State<'_, Desktop>,
    current: String,
    duress: String,
    decoy_name: Option<String>,
    invitation: Option<String>,
) -> Result<()> {
    let profile = open(&desktop)?;
    let decoy_name = decoy_name.map(|name| name.trim().to_owned()).filter(|name| !name.is_empty());
    let invitation = invitation.map(|text| text.trim().to_owned()).filter(|text| !text.is_empty());
    profile.set_duress_passphrase(current, duress, decoy_name, invitation).await?;
    Ok(())
}

#[tauri::command]
async fn unlock(app: AppHandle, desktop: State<'_, Desktop>, passphrase: String) -> Result<()> {
    let dir = desktop.dir.display().to_string();
    // Each call below takes its own copy (wiped by the core); this one is wiped here.
    let passphrase = zeroize::Zeroizing::new(passphrase);
    match Profile::open_with_passphrase(dir.clone(), (*passphrase).clone()) {
        Ok(profile) => {
            desktop.by_keychain.store(false, Ordering::SeqCst);
            desktop.opened(&app, profile);
        }
        // No profile in an existing store: a link started here still waits for its
        // approval (the app was closed meanwhile). The first run's link screen resumes.
        Err(HuisClosError::NoProfile { .. }) => {
            *crate::guard(&desktop.linking) =
                Some(huisclos_ffi::LinkingDevice::resume_with_passphrase(dir, (*passphrase).clone())?);
        }
        Err(error) => return Err(error.into()),
    }
    Ok(())
}

/// What the new device shows while it waits: its request as text and as a QR code, and
/// the code the person compares on both devices.
#[derive(serde::Serialize)]
pub(crate) struct LinkShown {
    request: String,
    qr: Option<String>,
    code: String,
}

fn link_shown(linking: &huisclos_ffi::LinkingDevice) -> LinkShown {
    let request = linking.request();
    LinkShown { qr: crate::qr::svg_data_url(&request), request, code: linking.confirmation_code() }
}

/// First run, instead of a new person: this computer becomes a device of someone who
/// already uses Huis Clos, from the link offer their device shows.
// Off the main thread: the new store's key derivation takes a moment.
#[tauri::command]
async fn start_link(desktop: State<'_, Desktop>, name: String, passphrase: String, offer: String) -> Result<LinkShown> {
    let dir = desktop.dir.display().to_string();
    let linking = huisclos_ffi::LinkingDevice::start_with_passphrase(dir, name, passphrase, offer.trim().to_owned())?;
    let shown = link_shown(&linking);
    *crate::guard(&desktop.linking) = Some(linking);
    Ok(shown)
}

/// The request and code of the link waiting here.
#[tauri::command]
fn waiting_link(desktop: State<'_, Desktop>) -> Result<LinkShown> {
    crate::guard(&desktop.linking).as_deref().map(link_shown).ok_or_else(UiError::closed)
}

/// Gives up a link still waiting: its new, empty store is destroyed, and first run
/// starts again.
#[tauri::command]
fn cancel_link(desktop: State<'_, Desktop>) -> Result<()> {
    if crate::guard(&desktop.linking).take().is_none() {
        return Err(UiError::closed());
    }
    huisclos_ffi::wipe_profile(desktop.dir.display().to_string(), None)?;
    Ok(())
}

/// How long one wait for the approval lasts; the web view asks again.
const LINK_WAIT_SECONDS: u32 = 20;

/// Waits a while for the approval: `true` once this computer is linked (the profile
/// is then open, as after an unlock).
#[tauri::command]
async fn wait_for_link(app: AppHandle, desktop: State<'_, Desktop>) -> Result<bool> {
    let Some(linking) = crate::guard(&desktop.linking).clone() else { return Err(UiError::closed()) };
    let Some(profile) = linking.wait_for_approval(LINK_WAIT_SECONDS).await? else { return Ok(false) };
    *crate::guard(&desktop.linking) = None;
    desktop.by_keychain.store(false, Ordering::SeqCst);
    desktop.opened(&app, profile);
    Ok(true)
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
    desktop.words_unchecked.store(false, Ordering::SeqCst);
    desktop.by_keychain.store(false, Ordering::SeqCst);
    *crate::guard(&desktop.linking) = None;
    let dir = desktop.dir.display().to_string();
    match desktop.profile() {
        Some(profile) => {
            desktop.closed();
            profile.wipe()?;
        }
        None => huisclos_ffi::wipe_profile(dir.clone(), None)?,
    }
    // The store is gone first; then a key the keychain may keep for it, on a thread of
    // its own (the keychain can be slow or ask something, and nothing may delay the
    // wipe). Nothing it held opens anything any more.
    std::thread::spawn(move || {
        let _ = huisclos_ffi::Keystore::delete_key(&crate::keychain::OsKeychain, dir);
    });
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
    Ok(open(&desktop)?.space(space)?.accept_invitation()?)
}

#[tauri::command]
fn mark_read(desktop: State<'_, Desktop>, space: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.mark_read()?)
}

#[tauri::command]
fn members(desktop: State<'_, Desktop>, space: String) -> Result<Vec<huisclos_ffi::Member>> {
    Ok(open(&desktop)?.space(space)?.members().list()?)
}

#[tauri::command]
fn invite(desktop: State<'_, Desktop>, space: String, card: String, role_name: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.members().invite(card.trim().to_owned(), role(&role_name)?)?)
}

/// Starts observing a space's feed: its diffs come as `list-diff` events tagged with
/// the returned number, a `Reset` first.
#[tauri::command]
fn open_feed(app: AppHandle, desktop: State<'_, Desktop>, space: String, page_size: u32) -> Result<u32> {
    let profile = open(&desktop)?;
    Ok(desktop.observe_list(&app, |forward| profile.space(space)?.feed().subscribe(page_size, forward))?)
}

/// Starts observing a folder of a space's library (the top when `folder` is none).
#[tauri::command]
fn open_folder(app: AppHandle, desktop: State<'_, Desktop>, space: String, folder: Option<String>) -> Result<u32> {
    let profile = open(&desktop)?;
    Ok(desktop.observe_list(&app, |forward| profile.space(space)?.library().subscribe_folder(folder, forward))?)
}

/// Starts observing a space's requests to join.
#[tauri::command]
fn open_requests(app: AppHandle, desktop: State<'_, Desktop>, space: String) -> Result<u32> {
    let profile = open(&desktop)?;
    Ok(desktop.observe_list(&app, |forward| profile.space(space)?.members().subscribe_join_requests(forward))?)
}

/// Starts observing a space's members.
#[tauri::command]
fn open_members(app: AppHandle, desktop: State<'_, Desktop>, space: String) -> Result<u32> {
    let profile = open(&desktop)?;
    Ok(desktop.observe_list(&app, |forward| profile.space(space)?.members().subscribe(forward))?)
}

#[tauri::command]
fn close_list(desktop: State<'_, Desktop>, subscription: u32) {
    if let Some(list) = crate::guard(&desktop.lists).remove(&subscription) {
        list.stop();
    }
}

/// Loads `count` older items into an observed feed; whether there were any.
#[tauri::command]
fn load_more(desktop: State<'_, Desktop>, subscription: u32, count: u32) -> Result<bool> {
    let feed = crate::guard(&desktop.lists).get(&subscription).cloned().ok_or_else(UiError::closed)?;
    Ok(feed.load_more(count)?)
}

#[tauri::command]
fn post(desktop: State<'_, Desktop>, space: String, text: String) -> Result<String> {
    Ok(open(&desktop)?.space(space)?.feed().post(text)?)
}

#[tauri::command]
fn comment(desktop: State<'_, Desktop>, space: String, parent: String, text: String) -> Result<String> {
    Ok(open(&desktop)?.space(space)?.feed().comment(parent, text)?)
}

#[tauri::command]
fn react(desktop: State<'_, Desktop>, space: String, item: String, reaction: String, on: bool) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.feed().react(item, reaction, on)?)
}

#[tauri::command]
fn edit(desktop: State<'_, Desktop>, space: String, item: String, text: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.feed().edit(item, text)?)
}

#[tauri::command]
fn delete(desktop: State<'_, Desktop>, space: String, item: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.feed().delete(item)?)
}

#[tauri::command]
fn set_role(desktop: State<'_, Desktop>, space: String, person: String, role_name: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.members().set_role(person, role(&role_name)?)?)
}

#[tauri::command]
async fn remove_member(desktop: State<'_, Desktop>, space: String, person: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.members().remove(person)?)
}

#[tauri::command]
async fn leave(desktop: State<'_, Desktop>, space: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.leave()?)
}

#[tauri::command]
async fn approve_request(desktop: State<'_, Desktop>, space: String, person: String, role_name: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.members().approve_request(person, role(&role_name)?)?)
}

#[tauri::command]
fn decline_request(desktop: State<'_, Desktop>, space: String, person: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.members().decline_request(person)?)
}

#[tauri::command]
fn request_to_join(desktop: State<'_, Desktop>, card: String, note: String) -> Result<()> {
    Ok(open(&desktop)?.request_to_join(card.trim().to_owned(), note)?)
}

/// A card as text and as a QR code (an SVG image, as a `data:` URL the CSP allows).
#[derive(serde::Serialize)]
pub(crate) struct Card {
    text: String,
    qr: String,
}

fn card(text: String) -> Result<Card> {
    let qr = crate::qr::svg_data_url(&text).ok_or_else(|| UiError::unknown("card"))?;
    Ok(Card { text, qr })
}

#[tauri::command]
fn space_card(desktop: State<'_, Desktop>, space: String) -> Result<Card> {
    card(open(&desktop)?.space(space)?.card()?)
}

#[tauri::command]
fn contact_card_qr(desktop: State<'_, Desktop>) -> Result<Card> {
    card(open(&desktop)?.contact_card()?)
}

// The library.

#[tauri::command]
fn library(desktop: State<'_, Desktop>, space: String) -> Result<Vec<huisclos_ffi::LibraryNode>> {
    Ok(open(&desktop)?.space(space)?.library().nodes()?)
}

/// A file's preview as a `data:` URL the web view shows (its CSP allows `data:`
/// images), or none.
#[tauri::command]
fn file_preview(desktop: State<'_, Desktop>, space: String, file: String) -> Result<Option<String>> {
    use base64::Engine as _;
    let preview = open(&desktop)?.space(space)?.library().file_preview(file, None)?;
    Ok(preview.map(|jpeg| format!("data:image/jpeg;base64,{}", base64::engine::general_purpose::STANDARD.encode(jpeg))))
}

#[tauri::command]
fn versions(desktop: State<'_, Desktop>, space: String, file: String) -> Result<Vec<huisclos_ffi::FileVersion>> {
    Ok(open(&desktop)?.space(space)?.library().versions(file)?)
}

#[tauri::command]
fn create_folder(desktop: State<'_, Desktop>, space: String, parent: Option<String>, name: String) -> Result<String> {
    Ok(open(&desktop)?.space(space)?.library().create_folder(parent, name)?)
}

#[tauri::command]
fn create_note(
    desktop: State<'_, Desktop>,
    space: String,
    parent: Option<String>,
    name: String,
    text: String,
) -> Result<String> {
    Ok(open(&desktop)?.space(space)?.library().create_note(parent, name, text)?)
}

#[tauri::command]
fn read_note(desktop: State<'_, Desktop>, space: String, note: String) -> Result<String> {
    Ok(open(&desktop)?.space(space)?.library().read_note(note)?)
}

#[tauri::command]
fn write_note(desktop: State<'_, Desktop>, space: String, note: String, text: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().write_note(note, text)?)
}

/// Applies what the person typed in a note's editor (UTF-16 units, in order), at once
/// and for everyone in the space.
#[tauri::command]
fn edit_note(
    desktop: State<'_, Desktop>,
    space: String,
    note: String,
    edits: Vec<huisclos_ffi::NoteTextEdit>,
) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().edit_note(note, edits)?)
}

/// Shows the space's others that this device has `note` open (none: closed), with the
/// selection: presence, sealed, never stored. While a note is shown, merges of others'
/// edits come with the edits themselves (`NoteChanged`).
#[tauri::command]
fn show_in_note(
    desktop: State<'_, Desktop>,
    space: String,
    note: Option<String>,
    anchor: Option<u32>,
    head: Option<u32>,
) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().show_in_note(note, anchor, head)?)
}

/// Who else has a note open, and where their carets are.
#[tauri::command]
fn note_presence(desktop: State<'_, Desktop>, space: String, note: String) -> Result<Vec<huisclos_ffi::NotePeer>> {
    Ok(open(&desktop)?.space(space)?.library().note_presence(note)?)
}

/// A note's Markdown as safe HTML for the preview.
#[tauri::command]
fn render_markdown(text: String) -> String {
    crate::markdown::render(&text)
}

#[tauri::command]
fn rename_node(desktop: State<'_, Desktop>, space: String, node: String, name: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().rename_node(node, name)?)
}

#[tauri::command]
fn move_node(desktop: State<'_, Desktop>, space: String, node: String, parent: Option<String>) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().move_node(node, parent)?)
}

#[tauri::command]
fn trash_node(desktop: State<'_, Desktop>, space: String, node: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().trash_node(node)?)
}

#[tauri::command]
fn restore_node(desktop: State<'_, Desktop>, space: String, node: String) -> Result<()> {
    Ok(open(&desktop)?.space(space)?.library().restore_node(node)?)
}

/// The most the web view may hand over in one upload: it reads the file into memory
/// first. (A native picker that hands the core a path would lift this.)
const MAX_UPLOAD_BYTES: usize = 256 * 1024 * 1024;

/// Seals a file the person picked or dropped: its bytes are the request's body, the
/// space, folder, name and (for a new version) file are percent-encoded headers, and
/// `x-keep-metadata: 1` keeps an image's metadata (it is taken out otherwise).
/// Sealing runs off the window's thread; the upload goes on in the background with
/// `Transfer` events, and resumes after a restart.
#[tauri::command]
async fn upload(desktop: State<'_, Desktop>, request: tauri::ipc::Request<'_>) -> Result<String> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(UiError::unknown("upload"));
    };
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(UiError { kind: "TooLarge".into(), reason: String::new() });
    }
    let header = |name: &str| -> Option<String> {
        let value = request.headers().get(name)?.to_str().ok()?;
        Some(percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned())
    };
    let space = header("x-space").ok_or_else(|| UiError::unknown("space"))?;
    let name = header("x-name").ok_or_else(|| UiError::unknown("name"))?;
    let parent = header("x-parent").filter(|p| !p.is_empty());
    let version_of = header("x-version-of").filter(|p| !p.is_empty());
    // Metadata goes unless the person ticked "keep" for this upload.
    let library = open(&desktop)?.space(space)?.library();
    Ok(if header("x-keep-metadata").as_deref() == Some("1") {
        library.put_file_bytes_keeping_metadata(parent, name, version_of, bytes.clone())?
    } else {
        library.put_file_bytes(parent, name, version_of, bytes.clone())?
    })
}

/// The text of the QR code in an image the person opened (the request's bytes): an
/// invitation, a contact card or a space's card, to be checked by the command it is
/// then given to.
#[tauri::command]
async fn read_qr(desktop: State<'_, Desktop>, request: tauri::ipc::Request<'_>) -> Result<String> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(UiError::unknown("image"));
    };
    let bytes = bytes.clone();
    let read = tauri::async_runtime::spawn_blocking(move || crate::qr::read_text(&bytes))
        .await
        .map_err(|_| UiError::unknown("image"))?;
    read.map_err(|error| qr_error(&desktop, &error))
}

/// Why no code came out of an image, in the person's language.
fn qr_error(desktop: &Desktop, error: &crate::qr::QrReadError) -> UiError {
    let id = match error {
        crate::qr::QrReadError::NotAnImage => "desktop-qr-not-an-image",
        crate::qr::QrReadError::NoCode => "desktop-qr-none",
    };
    let language = *crate::guard(&desktop.language);
    UiError { kind: "Invalid".into(), reason: huisclos_l10n::Localizer::new(language).text(id) }
}

/// Queues a file's download (its newest version, or `version`) into the person's
/// downloads folder, under its own name made safe and unique there; returns that name.
#[tauri::command]
async fn download(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    space: String,
    file: String,
    version: Option<u32>,
) -> Result<String> {
    let profile = open(&desktop)?;
    let space = profile.space(space)?;
    let name = space
        .library()
        .nodes()?
        .into_iter()
        .find(|node| node.id == file)
        .map(|node| node.name)
        .ok_or_else(|| UiError::unknown("file"))?;
    let folder = crate::downloads::folder(&app);
    std::fs::create_dir_all(&folder).map_err(|_| UiError::unknown("downloads"))?;
    let dest = crate::downloads::unique_path(&folder, &name);
    let saved = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    space.library().get_file(file, version, dest.display().to_string())?;
    Ok(saved)
}

// This person: devices and contacts.

#[tauri::command]
fn devices(desktop: State<'_, Desktop>) -> Result<Vec<huisclos_ffi::Device>> {
    Ok(open(&desktop)?.devices().list()?)
}

/// An offer for a new device of this person's, as text and QR code.
#[tauri::command]
fn link_offer(desktop: State<'_, Desktop>) -> Result<Card> {
    card(open(&desktop)?.devices().link_offer()?)
}

/// The code a new device's request shows, for the person to compare before approving.
#[tauri::command]
fn link_confirmation_code(desktop: State<'_, Desktop>, request: String) -> Result<String> {
    Ok(open(&desktop)?.devices().link_confirmation_code(request.trim().to_owned())?)
}

#[tauri::command]
async fn approve_link(desktop: State<'_, Desktop>, request: String) -> Result<huisclos_ffi::Device> {
    Ok(open(&desktop)?.devices().approve_link(request.trim().to_owned())?)
}

#[tauri::command]
async fn revoke_device(desktop: State<'_, Desktop>, device: String) -> Result<()> {
    Ok(open(&desktop)?.devices().revoke(device)?)
}

#[tauri::command]
fn contacts(desktop: State<'_, Desktop>) -> Result<Vec<huisclos_ffi::Contact>> {
    Ok(open(&desktop)?.contacts().list()?)
}

#[tauri::command]
fn safety_number(desktop: State<'_, Desktop>, person: String) -> Result<String> {
    Ok(open(&desktop)?.contacts().safety_number(person)?)
}

/// The code this device shows `person` to scan, as a QR image.
#[tauri::command]
fn verification_qr(desktop: State<'_, Desktop>, person: String) -> Result<String> {
    let code = open(&desktop)?.contacts().verification_code(person)?;
    crate::qr::svg_data_url_of_bytes(&code).ok_or_else(|| UiError::unknown("code"))
}

/// Checks the code `person`'s device shows, from a picture of it (the request's
/// bytes): "Verified" marks them verified; "Mismatch" means someone is in between or a
/// key changed.
#[tauri::command]
async fn check_verification_qr(
    desktop: State<'_, Desktop>,
    request: tauri::ipc::Request<'_>,
) -> Result<huisclos_ffi::Verification> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(UiError::unknown("image"));
    };
    let person = request
        .headers()
        .get("x-person")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .ok_or_else(|| UiError::unknown("person"))?;
    let bytes = bytes.clone();
    let read = tauri::async_runtime::spawn_blocking(move || crate::qr::read_bytes(&bytes))
        .await
        .map_err(|_| UiError::unknown("image"))?;
    let scanned = read.map_err(|error| qr_error(&desktop, &error))?;
    Ok(open(&desktop)?.contacts().check_scanned_code(person, scanned)?)
}

#[tauri::command]
fn mark_verified(desktop: State<'_, Desktop>, person: String) -> Result<()> {
    Ok(open(&desktop)?.contacts().mark_verified(person)?)
}

#[tauri::command]
fn accept_identity_change(desktop: State<'_, Desktop>, account: String) -> Result<huisclos_ffi::Contact> {
    Ok(open(&desktop)?.contacts().accept_identity_change(account)?)
}

/// Every command, for the builder.
pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_state,
        check_passphrase,
        suggest_passphrase,
        set_language,
        set_notifications,
        showing,
        create_profile,
        create_profile_with_keychain,
        unlock_with_keychain,
        start_link,
        waiting_link,
        wait_for_link,
        cancel_link,
        first_recovery_words,
        recovery_words,
        check_recovery_words,
        set_duress_passphrase,
        unlock,
        lock,
        wipe,
        join_relay,
        whoami,
        contact_card,
        contact_card_qr,
        sync,
        create_space,
        open_spaces,
        invited_by,
        accept_invitation,
        mark_read,
        members,
        invite,
        open_feed,
        open_folder,
        open_requests,
        open_members,
        close_list,
        load_more,
        post,
        comment,
        react,
        edit,
        delete,
        set_role,
        remove_member,
        leave,
        approve_request,
        decline_request,
        request_to_join,
        space_card,
        library,
        file_preview,
        versions,
        create_folder,
        create_note,
        read_note,
        write_note,
        edit_note,
        show_in_note,
        note_presence,
        render_markdown,
        rename_node,
        move_node,
        trash_node,
        restore_node,
        upload,
        download,
        read_qr,
        devices,
        link_offer,
        link_confirmation_code,
        approve_link,
        revoke_device,
        contacts,
        safety_number,
        mark_verified,
        verification_qr,
        check_verification_qr,
        accept_identity_change,
    ]
}

#[cfg(test)]
mod tests {
    use super::{WordAnswer, words_match};

    const WORDS: &str = "abandon ability able about above absent absorb abstract";

    fn answers(pairs: &[(usize, &str)]) -> Vec<WordAnswer> {
        pairs.iter().map(|&(position, word)| WordAnswer { position, word: word.to_owned() }).collect()
    }

    #[test]
    fn two_right_words_at_two_places_pass() {
        assert!(words_match(WORDS, &answers(&[(2, "ability"), (8, " Abstract ")])));
    }

    #[test]
    fn a_wrong_word_a_repeated_place_or_a_place_out_of_range_fails() {
        assert!(!words_match(WORDS, &answers(&[(2, "ability"), (8, "absorb")])));
        assert!(!words_match(WORDS, &answers(&[(2, "ability"), (2, "ability")])));
        assert!(!words_match(WORDS, &answers(&[(2, "ability")])));
        assert!(!words_match(WORDS, &answers(&[(0, "abandon"), (2, "ability")])));
        assert!(!words_match(WORDS, &answers(&[(9, ""), (2, "ability")])));
        assert!(!words_match(WORDS, &[]));
    }
}
