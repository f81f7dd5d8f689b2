//! Where a profile lives, and how it is unlocked.
//!
//! The passphrase comes from the file named by `HUISCLOS_PASSPHRASE_FILE` (for
//! scripts), from `HUISCLOS_PASSPHRASE` (for scripts too, but the process's initial
//! environment stays readable by the same user in `/proc/<pid>/environ` while it runs,
//! so prefer the file), or is asked for on the terminal without echo. Every copy the
//! CLI makes is zeroized; it is never written anywhere and never part of an error
//! message.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use huisclos_core::engine::Engine;
use huisclos_core::identity::DisplayName;
use huisclos_core::vault::{KdfParams, Opened, Passphrase, Unlock, Vault};
use zeroize::Zeroizing;

use crate::CliError;
use crate::text::{Problem, Prompt};

/// The environment variable a script may hand the passphrase in.
pub(crate) const PASSPHRASE_VAR: &str = "HUISCLOS_PASSPHRASE";
/// The environment variable naming a file that holds the passphrase (its first line).
pub(crate) const PASSPHRASE_FILE_VAR: &str = "HUISCLOS_PASSPHRASE_FILE";

/// The profile directory: `--profile`, `HUISCLOS_PROFILE`, or `~/.huisclos`.
pub(crate) fn directory(given: Option<PathBuf>) -> Result<PathBuf, CliError> {
    if let Some(dir) = given {
        return Ok(dir);
    }
    let home = std::env::var_os("HOME").ok_or(Problem::NoProfileDirectory)?;
    Ok(Path::new(&home).join(".huisclos"))
}

fn read_passphrase(prompt: &str) -> Result<Zeroizing<String>, CliError> {
    if let Some(path) = std::env::var_os(PASSPHRASE_FILE_VAR) {
        let content = Zeroizing::new(std::fs::read(&path)?);
        let content = std::str::from_utf8(&content).map_err(|_| Problem::NotUtf8 { var: PASSPHRASE_FILE_VAR })?;
        return Ok(Zeroizing::new(content.lines().next().unwrap_or_default().to_owned()));
    }
    if let Some(value) = std::env::var_os(PASSPHRASE_VAR) {
        let value = Zeroizing::new(value.into_string().map_err(|_| Problem::NotUtf8 { var: PASSPHRASE_VAR })?);
        return Ok(value);
    }
    let typed = rpassword::prompt_password(prompt).map_err(|_| Problem::NoPassphrase { var: PASSPHRASE_VAR })?;
    Ok(Zeroizing::new(typed))
}

/// Asks for a new passphrase (twice on a terminal).
pub(crate) fn new_unlock() -> Result<Unlock, CliError> {
    let first = read_passphrase(&Prompt::NewPassphrase.text())?;
    if std::env::var_os(PASSPHRASE_VAR).is_none() && std::env::var_os(PASSPHRASE_FILE_VAR).is_none() {
        let second = read_passphrase(&Prompt::SamePassphrase.text())?;
        if *first != *second {
            return Err(Problem::PassphrasesDiffer.into());
        }
    }
    let passphrase = Passphrase::new(first.as_str());
    strong_enough(&passphrase)?;
    Ok(Unlock::Passphrase(passphrase))
}

/// The core's rule for a new passphrase, with a strong one suggested when it fails.
fn strong_enough(passphrase: &Passphrase) -> Result<(), CliError> {
    if passphrase.check_new().is_err() {
        return Err(Problem::PassphraseTooWeak { suggestion: &Passphrase::suggest() }.into());
    }
    Ok(())
}

/// Creates the vault of a new profile in `dir` (which must not hold one).
pub(crate) fn create_vault(dir: &Path) -> Result<Arc<Vault>, CliError> {
    if Vault::exists(dir) {
        return Err(Problem::ProfileExists { dir: &dir.display().to_string() }.into());
    }
    let unlock = new_unlock()?;
    std::fs::create_dir_all(dir)?;
    Ok(Arc::new(Vault::create(dir, &unlock, KdfParams::DEFAULT)?))
}

/// Opens the vault of the profile in `dir` (a profile being linked).
pub(crate) fn open_vault(dir: &Path) -> Result<Arc<Vault>, CliError> {
    let unlock = unlock_existing(dir)?;
    Ok(Arc::new(Vault::open(dir, &unlock)?))
}

fn unlock_existing(dir: &Path) -> Result<Unlock, CliError> {
    if !Vault::exists(dir) {
        return Err(Problem::NoProfileIn { dir: &dir.display().to_string() }.into());
    }
    let passphrase = read_passphrase(&Prompt::Passphrase.text())?;
    Ok(Unlock::Passphrase(Passphrase::new(passphrase.as_str())))
}

/// Opens the profile's engine. Its duress passphrase opens the decoy instead, the real
/// one destroyed, and says nothing about it.
pub(crate) fn open(dir: &Path) -> Result<Engine, CliError> {
    Ok(open_with_unlock(dir)?.0)
}

/// As [`open`], with the secret that opened it (to change what opens it).
pub(crate) fn open_with_unlock(dir: &Path) -> Result<(Engine, Unlock), CliError> {
    let unlock = unlock_existing(dir)?;
    let engine = match Vault::open_or_duress(dir, &unlock)? {
        Opened::Duress { vault } => Engine::load(Arc::new(vault))?,
        Opened::LegacyDuress { vault, decoy_name } => Engine::create(Arc::new(vault), DisplayName::new(decoy_name)?)?,
        Opened::Profile(vault) => {
            let vault = Arc::new(vault);
            if huisclos_core::linker::Linker::is_pending(&vault)? {
                return Err(Problem::WaitsToBeLinked.into());
            }
            Engine::load(vault)?
        }
    };
    let mut engine = engine;
    engine.set_now(huisclos_core::client::now());
    Ok((engine, unlock))
}

/// Asks for the recovery words (`HUISCLOS_RECOVERY_WORDS` for scripts). They are
/// typed visibly, as on paper: hiding 24 words makes mistakes no one can see.
pub(crate) fn recovery_words() -> Result<huisclos_core::recovery::RecoveryWords, CliError> {
    const VAR: &str = "HUISCLOS_RECOVERY_WORDS";
    let typed = match std::env::var_os(VAR) {
        Some(value) => Zeroizing::new(value.into_string().map_err(|_| Problem::NotUtf8 { var: VAR })?),
        None => {
            use std::io::Write;
            print!("{}", Prompt::RecoveryWords.text());
            std::io::stdout().flush()?;
            let mut line = Zeroizing::new(String::new());
            std::io::stdin().read_line(&mut line)?;
            if line.trim().is_empty() {
                return Err(Problem::NoRecoveryWords { var: VAR }.into());
            }
            line
        }
    };
    Ok(huisclos_core::recovery::RecoveryWords::parse(&typed)?)
}

/// Asks for the duress passphrase to set (`HUISCLOS_DURESS_PASSPHRASE` for scripts).
pub(crate) fn duress_passphrase() -> Result<Passphrase, CliError> {
    const VAR: &str = "HUISCLOS_DURESS_PASSPHRASE";
    let typed = match std::env::var_os(VAR) {
        Some(value) => Zeroizing::new(value.into_string().map_err(|_| Problem::NotUtf8 { var: VAR })?),
        None => {
            let first = Zeroizing::new(
                rpassword::prompt_password(Prompt::DuressPassphrase.text())
                    .map_err(|_| Problem::NoDuressPassphrase { var: VAR })?,
            );
            let second = Zeroizing::new(
                rpassword::prompt_password(Prompt::SameDuressPassphrase.text())
                    .map_err(|_| Problem::NoDuressPassphrase { var: VAR })?,
            );
            if *first != *second {
                return Err(Problem::PassphrasesDiffer.into());
            }
            first
        }
    };
    let passphrase = Passphrase::new(typed.as_str());
    strong_enough(&passphrase)?;
    Ok(passphrase)
}
