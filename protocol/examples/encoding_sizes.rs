//! Bytes on the wire for typical messages: our canonical encoding against postcard and
//! CBOR (ciborium, serde's default struct-as-map form, and a struct-as-array form).
//! The table it prints is quoted in `protocol-spec/encoding.md`.
//!
//! Run: `cargo run -p huisclos-protocol --example encoding_sizes`
#![allow(missing_docs)]

use huisclos_protocol::access::AccessToken;
use huisclos_protocol::auth::DeviceSignature;
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::ids::{DeviceId, Epoch, GroupId, PageLimit, RequestId, Seq};
use huisclos_protocol::messages::{
    AppendMessage, Authenticate, EntryKind, FetchLog, GroupAccess, LogEntry, LogPage, LogPageEnd, MlsMessageBytes,
    RelayMessage, Request, Response,
};
use serde::Serialize;
use serde_bytes::ByteBuf;

/// The same messages as plain serde structs, as a serde-based protocol would define them.
mod serde_form {
    use super::*;

    #[derive(Serialize)]
    pub(crate) struct Access {
        pub(crate) group: ByteBuf,
        pub(crate) epoch: u64,
        pub(crate) token: ByteBuf,
    }
    #[derive(Serialize)]
    pub(crate) enum Body {
        Authenticate { device: ByteBuf, signature: ByteBuf },
        AppendMessage { access: Access, message: ByteBuf },
        FetchLog { access: Access, from: u64, limit: u16 },
    }
    #[derive(Serialize)]
    pub(crate) struct Request {
        pub(crate) id: u64,
        pub(crate) body: Body,
    }
    #[derive(Serialize)]
    pub(crate) struct Entry {
        pub(crate) seq: u64,
        pub(crate) kind: u8,
        pub(crate) message: ByteBuf,
    }
    #[derive(Serialize)]
    pub(crate) struct Page {
        pub(crate) id: u64,
        pub(crate) entries: Vec<Entry>,
        pub(crate) next: u64,
        pub(crate) end: u8,
    }
}

/// The serde structs serialised as CBOR arrays (what `#[serde(into = tuple)]` or a
/// hand-tuned CBOR profile would give): fields by position, no names.
fn cbor_array_len<T: Serialize>(value: &T) -> usize {
    // Re-serialise through ciborium's Value, replacing every map by an array of values.
    fn strip(value: ciborium::Value) -> ciborium::Value {
        use ciborium::Value;
        match value {
            Value::Map(entries) => Value::Array(entries.into_iter().map(|(_, v)| strip(v)).collect()),
            Value::Array(items) => Value::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    let value = ciborium::Value::serialized(value).unwrap_or(ciborium::Value::Null);
    let mut out = Vec::new();
    let _ = ciborium::into_writer(&strip(value), &mut out);
    out.len()
}

fn cbor_map_len<T: Serialize>(value: &T) -> usize {
    let mut out = Vec::new();
    let _ = ciborium::into_writer(value, &mut out);
    out.len()
}

fn postcard_len<T: Serialize>(value: &T) -> usize {
    postcard::to_allocvec(value).map(|v| v.len()).unwrap_or(0)
}

fn main() -> Result<(), huisclos_protocol::Error> {
    let group = GroupId::from_bytes([0x11; 16]);
    let token = AccessToken::from_bytes([0x22; 32]);
    let access = GroupAccess { group, epoch: Epoch::new(12)?, token: token.clone() };
    let serde_access =
        || serde_form::Access { group: ByteBuf::from(vec![0x11; 16]), epoch: 12, token: ByteBuf::from(vec![0x22; 32]) };
    // A short post as an MLS PrivateMessage is a few hundred bytes; 300 is typical.
    let mls = vec![0x5a; 300];

    let mut rows: Vec<(&str, usize, usize, usize, usize)> = Vec::new();

    let ours = Request {
        id: RequestId::new(1234)?,
        body: Authenticate { device: DeviceId::from_bytes([3; 16]), signature: DeviceSignature::from_bytes([4; 64]) }
            .into(),
    };
    let theirs = serde_form::Request {
        id: 1234,
        body: serde_form::Body::Authenticate {
            device: ByteBuf::from(vec![3; 16]),
            signature: ByteBuf::from(vec![4; 64]),
        },
    };
    rows.push((
        "Authenticate",
        ours.to_wire().len(),
        postcard_len(&theirs),
        cbor_map_len(&theirs),
        cbor_array_len(&theirs),
    ));

    let ours = Request {
        id: RequestId::new(1234)?,
        body: AppendMessage { access: access.clone(), message: MlsMessageBytes::new(mls.clone())? }.into(),
    };
    let theirs = serde_form::Request {
        id: 1234,
        body: serde_form::Body::AppendMessage { access: serde_access(), message: ByteBuf::from(mls.clone()) },
    };
    rows.push((
        "AppendMessage (300 B MLS)",
        ours.to_wire().len(),
        postcard_len(&theirs),
        cbor_map_len(&theirs),
        cbor_array_len(&theirs),
    ));

    let ours = Request {
        id: RequestId::new(1234)?,
        body: FetchLog { access, from: Seq::new(5000)?, limit: PageLimit::new(64)? }.into(),
    };
    let theirs = serde_form::Request {
        id: 1234,
        body: serde_form::Body::FetchLog { access: serde_access(), from: 5000, limit: 64 },
    };
    rows.push((
        "FetchLog",
        ours.to_wire().len(),
        postcard_len(&theirs),
        cbor_map_len(&theirs),
        cbor_array_len(&theirs),
    ));

    let mut entries = Vec::new();
    let mut serde_entries = Vec::new();
    for n in 0..20u64 {
        entries.push(LogEntry {
            seq: Seq::new(5000 + n)?,
            kind: EntryKind::Message,
            message: MlsMessageBytes::new(mls.clone())?,
        });
        serde_entries.push(serde_form::Entry { seq: 5000 + n, kind: 1, message: ByteBuf::from(mls.clone()) });
    }
    let ours = RelayMessage::Response(Response {
        id: RequestId::new(1234)?,
        body: LogPage { entries: BoundedVec::new(entries)?, next: Seq::new(5020)?, end: LogPageEnd::UpToDate }.into(),
    });
    let theirs = serde_form::Page { id: 1234, entries: serde_entries, next: 5020, end: 2 };
    rows.push((
        "LogPage (20 × 300 B)",
        ours.to_wire().len(),
        postcard_len(&theirs),
        cbor_map_len(&theirs),
        cbor_array_len(&theirs),
    ));

    println!("| message | huisclos/1 | postcard | CBOR, named fields | CBOR, positional |");
    println!("|---|---:|---:|---:|---:|");
    for (name, ours, postcard, cbor_map, cbor_array) in rows {
        println!("| {name} | {ours} | {postcard} | {cbor_map} | {cbor_array} |");
    }
    drop(token);
    Ok(())
}
