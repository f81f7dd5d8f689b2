//! Turning what a person types (a name, or the first hex digits of an id) into the
//! space, member, contact or item it means, refusing anything ambiguous.

use huisclos_core::contacts::Contact;
use huisclos_core::engine::{Engine, FeedItem, SpaceSummary};
use huisclos_core::identity::IdentityPublicKey;
use huisclos_protocol::ids::{ContentId, GroupId};

use crate::CliError;
use crate::text::{Lookup, Problem};

fn one<T>(mut found: Vec<T>, what: Lookup, typed: &str) -> Result<T, CliError> {
    match found.len() {
        1 => Ok(found.remove(0)),
        0 => Err(Problem::NoMatch { what, typed }.into()),
        count => Err(Problem::ManyMatch { count, what, typed }.into()),
    }
}

fn hex_prefix(typed: &str) -> Option<String> {
    let typed = typed.trim().to_ascii_lowercase();
    (typed.len() >= 4 && typed.chars().all(|c| c.is_ascii_hexdigit())).then_some(typed)
}

/// A space by id prefix, or by name when exactly one has it.
pub(crate) fn space(engine: &Engine, typed: &str) -> Result<SpaceSummary, CliError> {
    let spaces = engine.spaces();
    if let Some(prefix) = hex_prefix(typed) {
        let by_id: Vec<SpaceSummary> =
            spaces.iter().filter(|s| hex::encode(s.id.as_bytes()).starts_with(&prefix)).cloned().collect();
        if !by_id.is_empty() {
            return one(by_id, Lookup::Space, typed);
        }
    }
    // A recreated space keeps its name: the name means the live one.
    let by_name: Vec<SpaceSummary> =
        spaces.into_iter().filter(|s| s.name.eq_ignore_ascii_case(typed.trim()) && s.replaced_by.is_none()).collect();
    one(by_name, Lookup::Space, typed)
}

/// The id of a space.
pub(crate) fn space_id(engine: &Engine, typed: &str) -> Result<GroupId, CliError> {
    Ok(space(engine, typed)?.id)
}

/// A person among `people` (identity key and name), by identity prefix or name.
pub(crate) fn person(people: &[(IdentityPublicKey, String)], typed: &str) -> Result<IdentityPublicKey, CliError> {
    if let Some(prefix) = hex_prefix(typed) {
        let by_key: Vec<IdentityPublicKey> =
            people.iter().filter(|(k, _)| hex::encode(k.as_bytes()).starts_with(&prefix)).map(|(k, _)| *k).collect();
        if !by_key.is_empty() {
            return one(by_key, Lookup::Person, typed);
        }
    }
    let by_name: Vec<IdentityPublicKey> =
        people.iter().filter(|(_, n)| n.eq_ignore_ascii_case(typed.trim())).map(|(k, _)| *k).collect();
    one(by_name, Lookup::Person, typed)
}

/// A member of a space.
pub(crate) fn member(engine: &Engine, space: &GroupId, typed: &str) -> Result<IdentityPublicKey, CliError> {
    let people: Vec<(IdentityPublicKey, String)> =
        engine.members(space)?.into_iter().map(|m| (m.identity, m.name)).collect();
    person(&people, typed)
}

/// A contact, by identity prefix or name.
pub(crate) fn contact(engine: &Engine, typed: &str) -> Result<Contact, CliError> {
    let contacts = engine.contacts();
    let people: Vec<(IdentityPublicKey, String)> = contacts.iter().map(|c| (c.identity, c.name.clone())).collect();
    let key = person(&people, typed)?;
    contacts
        .into_iter()
        .find(|c| c.identity == key)
        .ok_or_else(|| Problem::NoMatch { what: Lookup::Person, typed }.into())
}

/// An item of a space's feed, by id prefix.
pub(crate) fn item(engine: &Engine, space: &GroupId, typed: &str) -> Result<ContentId, CliError> {
    let prefix = hex_prefix(typed).ok_or(Problem::NotAnItemId { typed })?;
    let items: Vec<FeedItem> =
        engine.feed(space)?.into_iter().filter(|i| i.id.to_string().starts_with(&prefix)).collect();
    Ok(one(items, Lookup::Item, typed)?.id)
}

/// A library path (`folder/sub/name`, `/` or empty for the top) to the node it names,
/// among nodes not in the trash (or, with `trashed`, the last part among the trash).
pub(crate) fn node(
    library: &huisclos_core::library::Library,
    path: &str,
    trashed: bool,
) -> Result<Option<huisclos_core::library::NodeId>, CliError> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut at = None;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let candidates: Vec<_> = if last && trashed {
            library.trash().into_iter().filter(|n| n.parent == at && n.name == *part).collect()
        } else {
            library.children(at).into_iter().filter(|n| n.name == *part).collect()
        };
        at = Some(one(candidates, Lookup::Item, part)?.id);
    }
    Ok(at)
}

/// A path's folder and last name: where a new item goes.
pub(crate) fn parent_and_name<'a>(
    library: &huisclos_core::library::Library,
    path: &'a str,
) -> Result<(Option<huisclos_core::library::NodeId>, &'a str), CliError> {
    let trimmed = path.trim_end_matches('/');
    let (folder, name) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if name.is_empty() {
        return Err(Problem::PathEndsWithName.into());
    }
    Ok((node(library, folder, false)?, name))
}
