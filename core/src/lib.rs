//! # huisclos-core — the client engine every Huis Clos client shares
//!
//! The desktop client links this crate directly; the mobile apps reach it through the
//! UniFFI layer in `huisclos-ffi`. It holds:
//!
//! - [`vault`]: the encrypted local store (sled; every key a keyed hash, every value
//!   sealed with XChaCha20-Poly1305 under a data key wrapped by a key from Argon2id or
//!   the platform keystore), written atomically per engine step;
//! - [`mls_storage`]: openmls's storage provider over the vault, so all MLS state is
//!   encrypted at rest;
//! - [`identity`]: identity keys, device certificates (the MLS credential), contact
//!   cards, safety numbers and QR verification codes;
//! - [`chunk`]: files cut into chunks, each sealed (STREAM over ChaCha20-Poly1305)
//!   and named by its hash, one chunk in memory at a time;
//! - [`contacts`]: the people met and the identity key held for each; a changed key
//!   is reported and refused until accepted;
//! - [`library`]: a space's folders, files (with versions) and notes, and the merge
//!   rule every device applies alike;
//! - [`link`]: linking a new device (offer, request, the identity key sealed to the
//!   new device) and the types of a device's inbox items;
//! - [`join`]: space cards and sealed requests to join open and on-request spaces;
//! - [`recovery`]: the identity key as 24 recovery words, for when every device is lost;
//! - [`seal`]: sealing bytes to one X25519 key, for inbox items outside any group;
//! - [`conceal`]: key packages and own-device notices sealed under certificates, so
//!   that the relay's files name no one;
//! - [`transfer`]: what uploads and downloads keep to resume after any interruption;
//! - [`media`]: an image's metadata (GPS position, time, device) taken out before it
//!   is uploaded;
//! - [`space`]: a space's rules and roles (held in the MLS group context) and the
//!   check every device applies to every commit;
//! - [`content`]: signed content envelopes, history keys and sealed records;
//! - [`note`]: a note's text as a shared document (a Yjs CRDT) that devices merge
//!   alike, and what each refuses before and after merging;
//! - [`presence`]: who is in which note and where their cursor is, as signed, sealed,
//!   short-lived messages the relay forwards and never stores;
//! - [`mls`]: the openmls provider, signer and group configuration;
//! - [`endpoint`]: where the profile's relay is (addresses and pinned key);
//! - [`engine`]: the sans-IO engine — requests out, answers, events and time in;
//! - `signin`: signing in at the relay, the part of a connection the engine and the
//!   linker share;
//! - [`lists`]: the lists apps show and their changes as diffs (the engine keeps
//!   what each observer was shown: [`engine::Engine::observe_feed`]);
//! - [`linker`]: the sans-IO machine of a new device waiting for its grant;
//! - [`client`]: the thin async driver over QUIC (TCP+TLS when UDP is blocked).
//!
//! It speaks to the relay only through the wire types of [`huisclos_protocol`] and the
//! connections of [`huisclos_transport`], and never depends on the relay crate.
//!
//! ## Security properties
//! - Nothing the engine writes to disk is readable without the profile's key: not
//!   content, not MLS secrets, not the identity key.
//! - Secrets in memory are held in zeroizing types and never printed by `Debug`.
//!
//! ## Not provided
//! - Protection against an attacker who can read the memory of an unlocked device.
//! - Detection of a disk rolled back to an older copy of the same profile.
#![forbid(unsafe_code)]

pub mod chunk;
pub mod client;
pub mod conceal;
pub mod contacts;
pub mod content;
pub mod endpoint;
pub mod engine;
pub mod error;
pub mod history;
pub mod identity;
pub mod join;
pub mod library;
pub mod link;
pub mod linker;
pub mod lists;
pub mod media;
pub mod mls;
pub mod mls_storage;
pub mod note;
pub mod presence;
pub mod recovery;
pub mod seal;
pub(crate) mod signin;
pub mod space;
pub mod transfer;
pub mod vault;

pub use error::{CoreError, Damage, DamageKind, Result, StoredRecord};
