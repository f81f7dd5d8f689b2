//! The profile itself: creating or recovering it, joining a relay, the duress
//! passphrase, the recovery words, and the panic wipe.

use super::*;

/// `init` without `--link`: a new profile, or one recovered from its words.
pub(super) fn init(dir: &Path, name: String, recover: bool) -> Result<(), CliError> {
    if recover {
        let words = profile::recovery_words()?;
        let vault = profile::create_vault(dir)?;
        let engine = Engine::recover(vault, DisplayName::new(name)?, &words)?;
        println!("{}", Say::Recovered { identity: &engine.identity().short() });
    } else {
        let vault = profile::create_vault(dir)?;
        Engine::create(vault, DisplayName::new(name)?)?;
        println!("{}", Say::ProfileCreated { dir: &dir.display().to_string() });
    }
    Ok(())
}

/// `join`: opens the account the relay's invitation allows.
pub(super) async fn join(dir: &Path, offline: bool, invitation: &str) -> Result<(), CliError> {
    let invitation = Invitation::from_text(invitation.trim())
        .map_err(|error| CliError::from(Problem::NotAnInvitation { error: &error.to_string() }))?;
    let mut engine = profile::open(dir)?;
    engine.join_relay(&invitation)?;
    online::sync(&mut engine, offline).await?;
    match engine.account() {
        Some(account) => println!("{}", Say::Joined { account: &text::short(account.as_bytes()) }),
        None => println!("{}", Say::Queued),
    }
    Ok(())
}

/// `whoami`: name, identity, account, devices and contact card.
pub(super) fn whoami(dir: &Path) -> Result<(), CliError> {
    let engine = profile::open(dir)?;
    let [name, identity, account_label, device_label, card_label] = word::labels();
    println!("{name} {}", engine.name());
    println!("{identity} {}", hex::encode(engine.identity().as_bytes()));
    if let Some(account) = engine.account() {
        println!("{account_label} {}", hex::encode(account.as_bytes()));
    }
    for device in engine.devices() {
        println!("{device_label} {} {}", text::short(device.body.device.as_bytes()), device.body.name);
    }
    if let Ok(card) = engine.contact_card() {
        println!("{card_label} {}", card.to_text());
    }
    Ok(())
}

/// `duress`: a second passphrase that opens a harmless profile and destroys this one.
pub(super) async fn duress(
    dir: &Path,
    offline: bool,
    name: Option<String>,
    invitation: Option<String>,
) -> Result<(), CliError> {
    let (engine, unlock) = profile::open_with_unlock(dir)?;
    let invitation = invitation
        .as_deref()
        .map(Invitation::from_text)
        .transpose()
        .map_err(|error| CliError::from(Problem::NotAnInvitation { error: &error.to_string() }))?;
    let name = match name {
        Some(name) => DisplayName::new(name)?,
        None => engine.name().clone(),
    };
    let duress = profile::duress_passphrase()?;
    let mut decoy = engine.set_duress_passphrase(&unlock, &duress, &name, invitation.as_ref())?;
    drop(engine);
    if invitation.is_some() {
        // The decoy opens its own account now, so that it has one, and an age
        // of its own, on the day it is shown.
        online::sync_quietly(&mut decoy, offline).await?;
    }
    println!("{}", Say::DuressSet);
    Ok(())
}

/// `recovery-words`: shows the 24 words, after a confirmation unless `yes`.
pub(super) fn recovery_words(dir: &Path, yes: bool) -> Result<(), CliError> {
    let engine = profile::open(dir)?;
    if !yes && !confirmed(Say::RecoveryWordsConfirm, word::YES)? {
        return Ok(());
    }
    let words = engine.recovery_words()?;
    println!("{}", words.as_str());
    println!("{}", Say::RecoveryWordsShown);
    Ok(())
}

/// `wipe`: destroys the profile; no passphrase needed, so a locked profile goes too.
pub(super) fn wipe(dir: &Path, yes: bool) -> Result<(), CliError> {
    if !huisclos_core::vault::Vault::exists(dir) {
        return Err(Problem::NoProfileIn { dir: &dir.display().to_string() }.into());
    }
    if !yes && !confirmed(Say::WipeConfirm, word::WIPE)? {
        println!("{}", Say::WipeDeclined);
        return Ok(());
    }
    huisclos_core::vault::Vault::wipe(dir)?;
    println!("{}", Say::Wiped);
    Ok(())
}
