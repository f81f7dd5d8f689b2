//! Known-answer vectors of the client formats that members must agree on byte for byte
//! (`protocol-spec/client.md`): the history ledger's derivations, a generation grant,
//! the link offer's proof and confirmation code, an identity transition, a roster, a
//! note's client id and a note's update, a certificate's reference and a post carrying
//! or referring to its author's certificate.
//! Checked against `protocol-spec/vectors/client.txt`; after an intended change of
//! format, `HUISCLOS_UPDATE_VECTORS=1 cargo test -p huisclos-core --test client_vectors`
//! writes the file again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use huisclos_core::content::HistoryKey;
use huisclos_core::history::{GenerationGrant, RosterEntry, fold_closed, initial_chain, key_commitment};
use huisclos_core::identity::{
    CertificateBody, ContactCard, DeviceCertificate, DisplayName, IdentityKey, IdentityPublicKey, IdentityTransition,
};
use huisclos_core::link::{LinkOffer, LinkRequest, LinkRequestBody};
use huisclos_core::space::Role;
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::ids::{AccountId, DeviceId, Epoch, GroupId, UnixSeconds};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../protocol-spec/vectors/client.txt");

fn vectors() -> Vec<(String, Vec<u8>)> {
    let group = GroupId::from_bytes([0x61; 16]);
    let key = [0x6b; 32];
    let mut out = vec![
        ("Input.group".to_owned(), group.as_bytes().to_vec()),
        ("Input.history_key".to_owned(), key.to_vec()),
        ("KeyCommitment.generation_3".to_owned(), key_commitment(&group, 3, &key).to_vec()),
        ("HistoryLedger.initial_chain".to_owned(), initial_chain(&group).to_vec()),
    ];
    let grant = GenerationGrant {
        key: HistoryKey::from_parts(0, key),
        start_epoch: Epoch::new(0).unwrap(),
        closed: true,
        roster: BoundedVec::new(vec![
            RosterEntry {
                identity: IdentityPublicKey::from_bytes([0x11; 32]),
                mls_key: [0x21; 32],
                role: Role::SpaceManager,
            },
            RosterEntry {
                identity: IdentityPublicKey::from_bytes([0x12; 32]),
                mls_key: [0x22; 32],
                role: Role::Reader,
            },
        ])
        .unwrap(),
    };
    out.push(("GenerationGrant.closed_0".to_owned(), grant.to_wire()));
    // A note's client id and an update: one device types "Hearing at 9" into an empty
    // note. The update is Yjs's lib0 version-1 encoding, which yrs and Yjs produce alike.
    let note = huisclos_core::library::NodeId::from_bytes([0x6e; 16]);
    let client = huisclos_core::note::client_id(group.as_bytes(), note.as_bytes(), &[0x21; 32]);
    out.push(("NoteClientId.device_21".to_owned(), client.to_be_bytes().to_vec()));
    let mut doc = huisclos_core::note::NoteDoc::new(client);
    let edit = huisclos_core::note::TextEdit { at: 0, delete: 0, insert: "Hearing at 9".to_owned() };
    let update = doc.edit(&[edit]).unwrap().unwrap();
    let body = huisclos_core::content::ContentBody::NoteEdit(huisclos_core::content::NoteEdit {
        note,
        update: huisclos_core::content::NoteUpdateBytes::new(update).unwrap(),
    });
    out.push(("ContentBody.note_edit".to_owned(), body.to_wire()));
    out.push(("HistoryLedger.fold_closed_0".to_owned(), fold_closed(&initial_chain(&group), &group, &grant).to_vec()));

    // A link offer with a fixed secret, and a request answering it.
    let mut offer_bytes = Vec::new();
    AccountId::from_bytes([0xac; 16]).encode(&mut offer_bytes);
    IdentityPublicKey::from_bytes([0x1d; 32]).encode(&mut offer_bytes);
    offer_bytes.extend_from_slice(&[0x0f; 16]);
    offer_bytes.extend_from_slice(&[0x5e; 32]);
    // The relay endpoint: one address, a pin.
    offer_bytes.push(1);
    let address = b"relay.example.org:4433";
    offer_bytes.push(address.len() as u8);
    offer_bytes.extend_from_slice(address);
    offer_bytes.extend_from_slice(&[0x9a; 32]);
    let offer = LinkOffer::from_wire(&offer_bytes).expect("the offer's bytes decode");
    let device = ed25519_dalek::SigningKey::from_bytes(&[0x02; 32]);
    let device_key = huisclos_protocol::auth::DevicePublicKey::from_signing_key(&device);
    let body = LinkRequestBody {
        offer: offer.offer,
        device_key,
        possession: huisclos_protocol::auth::sign_device_link(&device, &offer.account),
        mls_key: ed25519_dalek::SigningKey::from_bytes(&[0x03; 32]).verifying_key().to_bytes(),
        grant_key: [0x47; 32],
        name: DisplayName::new("Bob's laptop").unwrap(),
    };
    let request = request_for(&offer, body, &device);
    out.push(("LinkOffer".to_owned(), offer.to_wire()));
    out.push(("LinkRequest".to_owned(), request.to_wire()));
    out.push(("LinkRequest.confirmation_code".to_owned(), request.confirmation_code(&offer).into_bytes()));

    // An identity transition and a roster under the new key.
    let previous = IdentityKey::from_secret(&[0x0a; 32]);
    let next = IdentityKey::from_secret(&[0x0b; 32]);
    let at = UnixSeconds::new(1_790_000_000).unwrap();
    let transition = IdentityTransition::sign(&previous, &next, at);
    out.push(("IdentityTransition".to_owned(), transition.to_wire()));
    let certificate = DeviceCertificate::issue(
        &next,
        CertificateBody {
            identity: next.public(),
            account: AccountId::from_bytes([0xac; 16]),
            device: DeviceId::from_bytes([0xde; 16]),
            mls_key: ed25519_dalek::SigningKey::from_bytes(&[0x03; 32]).verifying_key().to_bytes(),
            name: DisplayName::new("Bob").unwrap(),
            created_at: at,
        },
    )
    .unwrap();
    let card = ContactCard::issue(&next, 7, vec![certificate.clone()], at, Some(transition)).unwrap();
    out.push(("ContactCard.version_7_with_transition".to_owned(), card.to_wire()));

    // Bob's certificate, its reference, and a post signed with its MLS key (seed
    // 32 x 0x03) in both encodings: carrying the certificate, and referring to it.
    use huisclos_core::content::{CertificateRef, ContentBody, ContentEnvelope, EnvelopeBody, Post, Text};
    out.push(("DeviceCertificate.bob".to_owned(), certificate.to_wire()));
    out.push(("CertificateRef.bob".to_owned(), CertificateRef::of(&certificate).as_bytes().to_vec()));
    let envelope = ContentEnvelope::sign(
        EnvelopeBody {
            id: huisclos_protocol::ids::ContentId::from_bytes([0xc1; 16]),
            group,
            author: certificate,
            created_at: at,
            body: ContentBody::Post(Post { text: Text::new("Hearing at 9").unwrap() }),
        },
        &ed25519_dalek::SigningKey::from_bytes(&[0x03; 32]),
    )
    .unwrap();
    out.push(("ContentEnvelope.post_by_bob".to_owned(), envelope.to_wire()));
    out.push(("ReferringEnvelope.post_by_bob".to_owned(), envelope.referring().to_wire()));

    // Presence: device 0x21's signer (MLS key from seed 32 x 0x21) with note 0x6e open,
    // a selection from before the character (client, 3) to the end, sealed under the
    // history key above as generation 2 with nonce 24 x 0x4e.
    use huisclos_core::presence::{NoteCursor, PresenceBody, PresenceSeq, SignedPresence};
    let signer = ed25519_dalek::SigningKey::from_bytes(&[0x21; 32]);
    let presence = SignedPresence::sign(
        PresenceBody {
            group,
            mls_key: signer.verifying_key().to_bytes(),
            sequence: PresenceSeq(1_790_000_000_000),
            sent_at: UnixSeconds::new(1_790_000_000).unwrap(),
            note: Some(note),
            cursor: Some(NoteCursor {
                anchor: huisclos_core::note::NoteAnchor::Before { client, clock: 3 },
                head: huisclos_core::note::NoteAnchor::End,
            }),
        },
        &signer,
    )
    .unwrap();
    out.push(("Presence.signed".to_owned(), presence.to_wire()));
    let sealed = presence.seal_with_nonce(&HistoryKey::from_parts(2, key), &group, [0x4e; 24]).unwrap();
    out.push(("Presence.sealed".to_owned(), sealed));
    // A named version of note 0x6e.
    let version = huisclos_core::content::ContentBody::NoteVersion(huisclos_core::content::NoteVersion {
        note: huisclos_core::library::NodeId::from_bytes([0x6e; 16]),
        name: huisclos_core::content::VersionName::new("Before the hearing").unwrap(),
        text: huisclos_core::content::NoteVersionText::new(b"Hearing at 9".to_vec()).unwrap(),
    });
    out.push(("ContentBody.note_version".to_owned(), version.to_wire()));
    // A preview of file 0x6f's version 0x70 (a JPEG's first and last bytes).
    let preview = huisclos_core::content::ContentBody::FilePreview(huisclos_core::content::FilePreview {
        node: huisclos_core::library::NodeId::from_bytes([0x6f; 16]),
        version: huisclos_protocol::ids::ContentId::from_bytes([0x70; 16]),
        image: huisclos_core::content::PreviewImage::new(vec![0xFF, 0xD8, 0xFF, 0xD9]).unwrap(),
    });
    out.push(("ContentBody.file_preview".to_owned(), preview.to_wire()));
    out
}

/// A request answering `offer`, as the new device makes it (its proof computed with
/// the offer's secret), built through the public path: the pending link's own code
/// is not reachable with fixed keys, so the request's signature and proof are made
/// here the same way and checked by `LinkRequest::verify`.
fn request_for(offer: &LinkOffer, body: LinkRequestBody, device: &ed25519_dalek::SigningKey) -> LinkRequest {
    use ed25519_dalek::Signer;
    use hmac::{Hmac, Mac};
    let mut signed = b"huisclos/1 link-request".to_vec();
    signed.push(0);
    signed.extend_from_slice(&body.to_wire());
    let signature = huisclos_core::identity::SignatureBytes::from_bytes(device.sign(&signed).to_bytes());
    let secret = offer_secret(offer);
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret).unwrap();
    mac.update(b"huisclos/1 link-proof");
    mac.update(&[0]);
    for part in [body.to_wire().as_slice(), signature.as_bytes().as_slice()] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    let request = LinkRequest { body, signature, proof: mac.finalize().into_bytes().into() };
    request.verify(offer).expect("the request verifies as the spec builds it");
    request
}

fn offer_secret(offer: &LinkOffer) -> [u8; 32] {
    let bytes = offer.to_wire();
    // account (16), identity (32), offer id (16), then the secret.
    bytes[64..96].try_into().unwrap()
}

#[test]
fn client_formats_match_their_known_answers() {
    let lines: Vec<String> =
        vectors().into_iter().map(|(name, bytes)| format!("{name} {}", hex::encode(bytes))).collect();
    let mut text = String::from(
        "# Huis Clos client formats — known-answer vectors (protocol-spec/client.md)\n\
         # Generated by core/tests/client_vectors.rs; checked by `cargo test -p huisclos-core`.\n\
         # One vector a line: NAME, a space, the bytes in lower-case hex.\n",
    );
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    if std::env::var_os("HUISCLOS_UPDATE_VECTORS").is_some() {
        std::fs::write(PATH, &text).unwrap();
    }
    let stored = std::fs::read_to_string(PATH).expect("protocol-spec/vectors/client.txt");
    assert_eq!(stored, text, "the client formats changed: check the spec, then update the vectors");
}
