//! This person's devices: listing, linking (both sides), revoking, restoring the
//! identity key.

use super::*;

pub(super) async fn devices(dir: &std::path::Path, offline: bool, command: DevicesCommand) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    match command {
        DevicesCommand::List => {
            for (i, device) in engine.devices().iter().enumerate() {
                let this = if i == 0 { format!("  {}", word::this_device()) } else { String::new() };
                println!("{}  {}{this}", text::short(device.body.device.as_bytes()), device.body.name);
            }
            Ok(())
        }
        DevicesCommand::Link => {
            let offer = engine.link_offer()?;
            println!("{}", offer.to_text());
            eprintln!("{}", Say::LinkOfferShown);
            Ok(())
        }
        DevicesCommand::RestoreKey { lost } => {
            let this = engine.device_id();
            let others: Vec<_> = engine.devices().into_iter().filter(|c| c.body.device != this).collect();
            let typed = lost.trim().to_ascii_lowercase();
            let matching: Vec<_> = others
                .iter()
                .filter(|c| {
                    c.body.name.as_str().eq_ignore_ascii_case(&typed)
                        || (typed.len() >= 4 && hex::encode(c.body.device.as_bytes()).starts_with(&typed))
                })
                .collect();
            let [certificate] = matching.as_slice() else {
                return Err(Problem::DevicesMatch { count: matching.len(), typed: &lost }.into());
            };
            let device = certificate.body.device;
            let name = certificate.body.name.to_string();
            let words = profile::recovery_words()?;
            engine.restore_identity_key(&words, &[device])?;
            println!("{}", Say::DeviceRevoked { name: &name });
            println!("{}", Say::IdentityKeyReplaced);
            finish(&mut engine, offline).await
        }
        DevicesCommand::Revoke { device } => {
            let this = engine.device_id();
            let others: Vec<_> = engine.devices().into_iter().filter(|c| c.body.device != this).collect();
            let typed = device.trim().to_ascii_lowercase();
            let matching: Vec<_> = others
                .iter()
                .filter(|c| {
                    c.body.name.as_str().eq_ignore_ascii_case(&typed)
                        || (typed.len() >= 4 && hex::encode(c.body.device.as_bytes()).starts_with(&typed))
                })
                .collect();
            let [certificate] = matching.as_slice() else {
                return Err(Problem::DevicesMatch { count: matching.len(), typed: &device }.into());
            };
            let name = certificate.body.name.to_string();
            engine.revoke_device(&certificate.body.device)?;
            println!("{}", Say::DeviceRevoked { name: &name });
            finish(&mut engine, offline).await
        }
        DevicesCommand::Approve { request, yes } => {
            let request = LinkRequest::from_text(&request)?;
            let name = request.body.name.to_string();
            let code = engine.link_confirmation_code(&request)?;
            if !yes {
                print!("{}", Say::LinkConfirm { name: &name, code: &code });
                std::io::stdout().flush()?;
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if answer.trim() != word::YES {
                    println!("{}", Say::LinkDeclined);
                    return Ok(());
                }
            }
            engine.approve_link(&request)?;
            println!("{}", Say::LinkApproved { name: &name });
            finish(&mut engine, offline).await
        }
    }
}

/// The new device's side of linking: shows its request, then waits at the relay for
/// the grant and becomes a full device of the person.
pub(super) async fn link_this_device(
    dir: &std::path::Path,
    name: &str,
    offer: &str,
    wait: u64,
) -> Result<(), CliError> {
    let mut linker = if huisclos_core::vault::Vault::exists(dir) {
        // An earlier run was interrupted: resume it.
        Linker::load(profile::open_vault(dir)?)?
    } else {
        let offer = LinkOffer::from_text(offer)?;
        Linker::create(profile::create_vault(dir)?, offer, DisplayName::new(name)?)?
    };
    let request = linker.request();
    println!("{}", request.to_text());
    eprintln!("{}", Say::LinkRequestShown { code: &linker.confirmation_code() });
    eprintln!("{}", Say::LinkWaiting);
    let endpoint = linker.offer().relay.clone();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    loop {
        if let Ok(addresses) = endpoint.resolve()
            && let Ok(connection) = Connection::open(&mut linker, &addresses, endpoint.spki_pin()).await
        {
            let driven = connection.drive(&mut linker).await;
            connection.close(&mut linker);
            if driven.is_ok() && linker.status() == LinkStatus::Linked {
                break;
            }
        }
        if let Some(refusal) = linker.take_refusal() {
            // Something sent in the approval's place did not open or verify; the real
            // grant may still come.
            eprintln!("{} {}", word::refused(), text::describe(&refusal));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Problem::NotApprovedInTime.into());
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let mut engine = linker.take_engine().ok_or(Problem::LinkWithoutEngine)?;
    online::sync(&mut engine, false).await?;
    println!("{}", Say::Linked { name: engine.name().as_str() });
    Ok(())
}
