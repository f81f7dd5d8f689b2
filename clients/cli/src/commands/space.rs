//! Spaces: creating, listing, members and roles, rules, cards and requests to join.

use super::*;

pub(super) async fn space(dir: &std::path::Path, offline: bool, command: SpaceCommand) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    match command {
        SpaceCommand::Create { name, description, policy, no_history } => {
            let history = if no_history { HistoryMode::None } else { HistoryMode::Keep };
            let id =
                engine.create_space(SpaceName::new(&name)?, SpaceDescription::new(description)?, policy, history)?;
            println!("{}", Say::SpaceCreated { id: &text::short(id.as_bytes()), name: &name });
            finish(&mut engine, offline).await
        }
        SpaceCommand::List { json } => {
            if !offline && !json {
                online::sync(&mut engine, offline).await?;
            }
            let spaces = engine.spaces();
            if json {
                for s in &spaces {
                    let line = serde_json::json!({
                        "id": hex::encode(s.id.as_bytes()),
                        "name": s.name,
                        "description": s.description,
                        // Machine-readable: the same words in every language.
                        "policy": json_policy(s.policy),
                        "history": json_history(s.history),
                        "role": s.my_role.name(),
                        "unread": s.unread,
                        "removed": s.removed,
                        "stalled": s.stalled,
                        "replaced_by": s.replaced_by.map(|g| hex::encode(g.as_bytes())),
                        "muted": s.muted,
                    });
                    println!("{line}");
                }
            } else if spaces.is_empty() {
                println!("{}", Say::NothingHere);
            } else {
                for s in &spaces {
                    let mut state = Vec::new();
                    if s.unread > 0 {
                        state.push(word::unread(s.unread));
                    }
                    if s.removed {
                        state.push(word::left());
                    }
                    if s.stalled {
                        state.push(word::stalled());
                    }
                    if s.muted {
                        state.push(word::muted());
                    }
                    println!(
                        "{}  {}  ({}, {}, {}){}",
                        text::short(s.id.as_bytes()),
                        s.name,
                        text::policy(s.policy),
                        text::history(s.history),
                        word::your_role(&text::role(s.my_role)),
                        if state.is_empty() { String::new() } else { format!("  {}", state.join(", ")) }
                    );
                }
            }
            Ok(())
        }
        SpaceCommand::Members { space } => {
            let space = resolve::space_id(&engine, &space)?;
            for member in engine.members(&space)? {
                println!(
                    "{}  {}  {}  ({})",
                    member.identity.short(),
                    member.name,
                    text::role(member.role),
                    word::devices(member.devices.len())
                );
            }
            Ok(())
        }
        SpaceCommand::Invite { space, card, role } => {
            let space = resolve::space_id(&engine, &space)?;
            let card = ContactCard::from_text(&card)?;
            engine.invite(&space, &card, role)?;
            let name = card.name().map(ToString::to_string).unwrap_or_default();
            println!("{}", Say::Invited { name: &name });
            finish(&mut engine, offline).await
        }
        SpaceCommand::Accept { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.accept_invitation(&space)?;
            online::sync(&mut engine, offline).await?;
            Ok(())
        }
        SpaceCommand::Card { space } => {
            let space = resolve::space_id(&engine, &space)?;
            println!("{}", engine.space_card(&space)?.to_text());
            Ok(())
        }
        SpaceCommand::Request { card, note } => {
            let card = SpaceCard::from_text(&card)?;
            engine.request_to_join(&card, &note)?;
            println!("{}", Say::RequestSent { space: card.body.name.as_str() });
            finish(&mut engine, offline).await
        }
        SpaceCommand::Requests { space } => {
            online::sync(&mut engine, offline).await?;
            let space = resolve::space_id(&engine, &space)?;
            let requests = engine.join_requests(&space)?;
            if requests.is_empty() {
                println!("{}", Say::NothingHere);
            }
            for request in requests {
                println!("{}  {}  \"{}\"", request.identity.short(), request.name, request.note);
            }
            Ok(())
        }
        SpaceCommand::Approve { space, person, role } => {
            let space = resolve::space_id(&engine, &space)?;
            let people: Vec<_> = engine.join_requests(&space)?.into_iter().map(|r| (r.identity, r.name)).collect();
            let person = resolve::person(&people, &person)?;
            engine.approve_request(&space, &person, role)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Decline { space, person } => {
            let space = resolve::space_id(&engine, &space)?;
            let people: Vec<_> = engine.join_requests(&space)?.into_iter().map(|r| (r.identity, r.name)).collect();
            let person = resolve::person(&people, &person)?;
            engine.decline_request(&space, &person)?;
            println!("{}", Say::Done);
            Ok(())
        }
        SpaceCommand::Leave { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.leave(&space)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Readmit { space, card } => {
            let space = resolve::space_id(&engine, &space)?;
            let card = ContactCard::from_text(&card)?;
            engine.readmit(&space, &card)?;
            let name = card.name().map(ToString::to_string).unwrap_or_default();
            println!("{}", Say::Readmitted { name: &name });
            finish(&mut engine, offline).await
        }
        SpaceCommand::Remove { space, person } => {
            let space = resolve::space_id(&engine, &space)?;
            let person = resolve::member(&engine, &space, &person)?;
            engine.remove(&space, &person)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Role { space, person, role } => {
            let space = resolve::space_id(&engine, &space)?;
            let person = resolve::member(&engine, &space, &person)?;
            engine.set_role(&space, &person, role)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Rename { space, name } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.rename(&space, SpaceName::new(name)?)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Describe { space, description } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.describe(&space, SpaceDescription::new(description)?)?;
            finish(&mut engine, offline).await
        }
        SpaceCommand::Mute { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.set_muted(&space, true)?;
            println!("{}", Say::Done);
            Ok(())
        }
        SpaceCommand::Unmute { space } => {
            let space = resolve::space_id(&engine, &space)?;
            engine.set_muted(&space, false)?;
            println!("{}", Say::Done);
            Ok(())
        }
        SpaceCommand::Recreate { space } => {
            let space = resolve::space_id(&engine, &space)?;
            let successor = engine.recreate_space(&space)?;
            let name = engine.spaces().into_iter().find(|s| s.id == successor).map(|s| s.name).unwrap_or_default();
            println!("{}", Say::SpaceCreated { id: &text::short(successor.as_bytes()), name: &name });
            finish(&mut engine, offline).await
        }
    }
}

/// A policy's name in `--json` output: the same in every language.
fn json_policy(policy: huisclos_core::space::Policy) -> &'static str {
    match policy {
        huisclos_core::space::Policy::Open => "open",
        huisclos_core::space::Policy::OnRequest => "on request",
        huisclos_core::space::Policy::Confidential => "confidential",
    }
}

/// A history mode's name in `--json` output: the same in every language.
fn json_history(history: huisclos_core::space::HistoryMode) -> &'static str {
    match history {
        huisclos_core::space::HistoryMode::Keep => "history kept",
        huisclos_core::space::HistoryMode::None => "no history",
    }
}
