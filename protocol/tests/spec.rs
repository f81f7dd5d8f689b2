//! The specification in `protocol-spec/` names every message, tag and limit of this
//! crate with the same value, and names nothing the crate lacks.

use std::collections::BTreeSet;
use std::path::PathBuf;

use huisclos_protocol::limits;
use huisclos_protocol::messages::{
    EntryKind, Event, KeyPackageKind, LimitKind, LogPageEnd, LogRetention, RelayError, RelayMessage, RequestBody,
    ResponseBody,
};

fn spec(file: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol-spec").join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// The cells of a markdown table row, trimmed; empty for other lines.
fn cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    if !line.starts_with('|') {
        return Vec::new();
    }
    line.trim_matches('|').split('|').map(str::trim).collect()
}

fn all_tag_tables() -> Vec<(&'static str, &'static [(u8, &'static str)])> {
    vec![
        ("RequestBody", RequestBody::TAGS),
        ("RelayMessage", RelayMessage::TAGS),
        ("ResponseBody", ResponseBody::TAGS),
        ("Event", Event::TAGS),
        ("RelayError", RelayError::TAGS),
        ("EntryKind", EntryKind::TAGS),
        ("KeyPackageKind", KeyPackageKind::TAGS),
        ("LogPageEnd", LogPageEnd::TAGS),
        ("LimitKind", LimitKind::TAGS),
        ("LogRetention", LogRetention::TAGS),
    ]
}

#[test]
fn every_tag_is_in_the_message_spec() {
    let text = spec("messages.md");
    let rows: Vec<Vec<&str>> = text.lines().map(cells).filter(|c| !c.is_empty()).collect();
    let mut missing = Vec::new();
    for (enumeration, tags) in all_tag_tables() {
        for (tag, name) in tags {
            let tag_cell = format!("0x{tag:02x}");
            let name_cell = format!("`{name}`");
            let found = rows.iter().any(|row| row.contains(&tag_cell.as_str()) && row.contains(&name_cell.as_str()));
            if !found {
                missing.push(format!("{enumeration}::{name} ({tag_cell})"));
            }
        }
    }
    assert!(missing.is_empty(), "protocol-spec/messages.md has no table row for: {missing:#?}");
}

#[test]
fn the_message_spec_names_no_tag_the_code_lacks() {
    let known: BTreeSet<(u8, &str)> = all_tag_tables().into_iter().flat_map(|(_, tags)| tags.iter().copied()).collect();
    let text = spec("messages.md");
    let mut unknown = Vec::new();
    for row in text.lines().map(cells) {
        let Some(first) = row.first() else { continue };
        let Some(hex) = first.strip_prefix("0x") else { continue };
        let Ok(tag) = u8::from_str_radix(hex, 16) else { continue };
        let Some(name) = row.get(1).and_then(|c| c.strip_prefix('`')).and_then(|c| c.strip_suffix('`')) else {
            continue;
        };
        if !known.iter().any(|&(t, n)| t == tag && n == name) {
            unknown.push(format!("0x{tag:02x} {name}"));
        }
    }
    assert!(unknown.is_empty(), "protocol-spec/messages.md names tags the code does not have: {unknown:#?}");
}

#[test]
fn every_limit_is_in_the_limits_spec_with_its_value() {
    let text = spec("limits.md");
    let rows: Vec<Vec<&str>> = text.lines().map(cells).collect();
    for (name, value) in limits::ALL {
        let name_cell = format!("`{name}`");
        let row = rows
            .iter()
            .find(|row| row.first() == Some(&name_cell.as_str()))
            .unwrap_or_else(|| panic!("protocol-spec/limits.md does not list {name}"));
        assert_eq!(row.get(1).copied(), Some(value.to_string().as_str()), "value of {name} in limits.md");
    }
    // And the spec lists no wire limit the code lacks.
    for row in &rows {
        let Some(name) = row.first().and_then(|c| c.strip_prefix('`')).and_then(|c| c.strip_suffix('`')) else {
            continue;
        };
        if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
            assert!(limits::ALL.iter().any(|(n, _)| *n == name), "limits.md lists {name}, unknown to the code");
        }
    }
}

#[test]
fn the_limit_table_covers_every_numeric_constant() {
    // Guards against adding a constant to limits.rs but not to `limits::ALL` (and so
    // not to the specification).
    let source =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/limits.rs")).unwrap_or_default();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix("pub const ") else { continue };
        let Some((name, ty)) = rest.split_once(':') else { continue };
        if name == "ALL" || ty.trim().starts_with("&[u8]") {
            continue;
        }
        assert!(limits::ALL.iter().any(|(n, _)| *n == name), "{name} is missing from limits::ALL");
    }
    assert!(spec("limits.md").contains(&format!("`{}`", String::from_utf8_lossy(limits::ALPN))));
}

#[test]
fn the_spec_states_the_labels_the_code_uses() {
    use huisclos_protocol::{access, auth, invitation};
    let relay = spec("relay.md");
    for label in [
        access::ACCESS_TOKEN_EXPORTER_LABEL.as_bytes(),
        access::EPOCH_VERIFIER_LABEL,
        access::INVITATION_DIGEST_LABEL,
        auth::TLS_EXPORTER_LABEL,
        auth::DEVICE_AUTH_LABEL,
        auth::DEVICE_LINK_LABEL,
        auth::DEVICE_ID_LABEL,
        invitation::INVITATION_PREFIX.as_bytes(),
    ] {
        let label = String::from_utf8_lossy(label);
        assert!(relay.contains(&*label), "protocol-spec/relay.md does not state the label {label:?}");
    }
}
