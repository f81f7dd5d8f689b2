//! A space's feed: posting, commenting, reacting, editing, deleting, and reading it.

use super::*;

/// `post`.
pub(super) async fn post(dir: &Path, offline: bool, space: &str, text: &str) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let space = resolve::space_id(&engine, space)?;
    let id = engine.post(&space, text)?;
    finish_item(&mut engine, offline, &id).await
}

/// `comment`.
pub(super) async fn comment(dir: &Path, offline: bool, space: &str, item: &str, text: &str) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let space = resolve::space_id(&engine, space)?;
    let parent = resolve::item(&engine, &space, item)?;
    let id = engine.comment(&space, &parent, text)?;
    finish_item(&mut engine, offline, &id).await
}

/// `react` (or, `on` false, take the reaction back).
pub(super) async fn react(
    dir: &Path,
    offline: bool,
    space: &str,
    item: &str,
    reaction: &str,
    on: bool,
) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let space = resolve::space_id(&engine, space)?;
    let target = resolve::item(&engine, &space, item)?;
    let id = engine.react(&space, &target, reaction, on)?;
    finish_item(&mut engine, offline, &id).await
}

/// `edit`.
pub(super) async fn edit(dir: &Path, offline: bool, space: &str, item: &str, text: &str) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let space = resolve::space_id(&engine, space)?;
    let target = resolve::item(&engine, &space, item)?;
    let id = engine.edit(&space, &target, text)?;
    finish_item(&mut engine, offline, &id).await
}

/// `delete`: says that the relay keeps its (sealed) copy.
pub(super) async fn delete(dir: &Path, offline: bool, space: &str, item: &str) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    let space = resolve::space_id(&engine, space)?;
    let target = resolve::item(&engine, &space, item)?;
    let id = engine.delete(&space, &target)?;
    eprintln!("{}", Say::DeleteKeepsRelayCopy);
    finish_item(&mut engine, offline, &id).await
}

/// `feed`: syncs, then prints the feed as threads, or as JSON lines.
pub(super) async fn show(dir: &Path, offline: bool, space: &str, json: bool) -> Result<(), CliError> {
    let mut engine = profile::open(dir)?;
    if json {
        // Scripts read only the feed on standard output.
        online::sync_quietly(&mut engine, offline).await?;
    } else {
        online::sync(&mut engine, offline).await?;
    }
    let space = resolve::space_id(&engine, space)?;
    feed(&mut engine, &space, json)
}

fn feed(engine: &mut Engine, space: &huisclos_protocol::ids::GroupId, json: bool) -> Result<(), CliError> {
    let items = engine.feed(space)?;
    if json {
        for item in &items {
            let line = serde_json::json!({
                "id": item.id.to_string(),
                "author": hex::encode(item.author.as_bytes()),
                "author_name": item.author_name,
                "created_at": item.created_at,
                "parent": item.parent.map(|p| p.to_string()),
                "text": item.text,
                "edited": item.edited,
                "deleted": item.deleted,
                "moderated_by": item.moderated_by.as_ref().map(|m| m.name.clone()),
                "reactions": item.reactions.iter().map(|(r, who)| (r.clone(), who.len())).collect::<std::collections::BTreeMap<_, _>>(),
            });
            println!("{line}");
        }
    } else if items.is_empty() {
        println!("{}", Say::NothingHere);
    } else {
        print_thread(&items, None, 0);
    }
    engine.mark_read(space)?;
    Ok(())
}

/// Posts in arrival order, each followed by its comments, indented.
fn print_thread(
    items: &[huisclos_core::engine::FeedItem],
    parent: Option<huisclos_protocol::ids::ContentId>,
    depth: usize,
) {
    for item in items.iter().filter(|i| i.parent == parent) {
        let mut marks = String::new();
        match &item.moderated_by {
            // The text is the moderator's, never shown as the author's words.
            Some(moderator) if item.deleted => {
                marks.push(' ');
                marks.push_str(&word::removed_by(&moderator.name));
            }
            Some(moderator) => {
                marks.push(' ');
                marks.push_str(&word::replaced_by(&moderator.name));
            }
            None if item.edited => {
                marks.push(' ');
                marks.push_str(&word::edited());
            }
            None => {}
        }
        let text = if item.deleted { word::deleted() } else { item.text.clone() };
        let reactions: Vec<String> = item.reactions.iter().map(|(r, who)| format!("{r} {}", who.len())).collect();
        let reactions = if reactions.is_empty() { String::new() } else { format!("  [{}]", reactions.join(", ")) };
        let indent = "    ".repeat(depth);
        println!("{indent}{} {}{marks}: {text}{reactions}", text::short(item.id.as_bytes()), item.author_name);
        if depth < 8 {
            print_thread(items, Some(item.id), depth + 1);
        }
    }
}
