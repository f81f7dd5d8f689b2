//! The people met: the list, safety numbers, verification, and accepting a new key.

use super::*;

/// `contacts`: each person with whether they are verified.
pub(super) fn list(dir: &Path) -> Result<(), CliError> {
    let engine = profile::open(dir)?;
    let contacts = engine.contacts();
    if contacts.is_empty() {
        println!("{}", Say::NothingHere);
    }
    for contact in contacts {
        let state = match (contact.verified, contact.changed_to) {
            (_, Some(_)) => word::key_changed(),
            (true, None) => word::verified(),
            (false, None) => word::not_verified(),
        };
        println!("{}  {}  {state}", contact.identity.short(), contact.name);
    }
    Ok(())
}

/// `safety-number`: the number to compare with a contact out of band.
pub(super) fn safety_number(dir: &Path, contact: &str) -> Result<(), CliError> {
    let engine = profile::open(dir)?;
    let contact = resolve::contact(&engine, contact)?;
    let number = engine.safety_number(&contact.identity).to_string();
    println!("{}", Say::SafetyNumber { name: &contact.name, number: &number });
    Ok(())
}

/// `verify`: marks a contact verified once the numbers matched.
pub(super) fn verify(dir: &Path, contact: &str) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let contact = resolve::contact(&engine, contact)?;
    engine.mark_verified(&contact.identity)?;
    println!("{}", Say::Verified { name: &contact.name });
    Ok(())
}

/// `accept-key`: takes a contact's new identity key.
pub(super) fn accept_key(dir: &Path, contact: &str) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let contact = resolve::contact(&engine, contact)?;
    engine.accept_identity_change(&contact.account)?;
    println!("{}", Say::KeyAccepted { name: &contact.name });
    Ok(())
}
