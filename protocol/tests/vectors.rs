//! Known-answer vectors: the encodings in `protocol-spec/vectors/` must be exactly what
//! this crate produces, and must decode back to the same values. A change of encoding
//! fails here; if the change is intended, regenerate the vectors with
//! `HUISCLOS_UPDATE_VECTORS=1 cargo test -p huisclos-protocol --test vectors`, and
//! change the protocol version and the specification in the same commit.

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use huisclos_protocol::access::{AccessToken, EpochVerifier, InvitationToken};
use huisclos_protocol::auth::{
    AuthPurpose, ChallengeNonce, DevicePublicKey, DeviceSignature, TlsExporter, device_auth_message,
    device_link_message, sign_device_auth, sign_device_link, verify_device_auth, verify_device_link,
};
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::frame::{Padding, encode_message};
use huisclos_protocol::ids::{
    AccountId, ByteCount, ChunkOffset, ChunkRef, ContentId, ContentSeq, DeviceId, Epoch, ForgetKey, GroupId, InboxSeq,
    PageLimit, RequestId, Seq, UnixSeconds,
};
use huisclos_protocol::invitation::{Invitation, RelayAddress};
use huisclos_protocol::messages::*;
use huisclos_protocol::{Error, limits};

type Vectors = Vec<(String, Vec<u8>)>;

fn ok<T>(result: Result<T, Error>) -> T {
    result.unwrap_or_else(|error| panic!("sample value rejected: {error}"))
}

fn device_signing_key(n: u8) -> SigningKey {
    SigningKey::from_bytes(&[n; 32])
}
fn device_key(n: u8) -> DevicePublicKey {
    DevicePublicKey::from_signing_key(&device_signing_key(n))
}
fn group() -> GroupId {
    GroupId::from_bytes(*b"space-of-lawyers")
}
fn access() -> GroupAccess {
    GroupAccess { group: group(), epoch: ok(Epoch::new(3)), token: AccessToken::from_bytes([0xa7; 32]) }
}
fn mls(text: &str) -> MlsMessageBytes {
    ok(MlsMessageBytes::new(text.as_bytes().to_vec()))
}
fn signature(n: u8) -> DeviceSignature {
    DeviceSignature::from_bytes([n; 64])
}
fn chunk_ref() -> ChunkRef {
    ChunkRef::from_bytes([0xc4; 32])
}
fn offset(n: u32) -> ChunkOffset {
    ok(ChunkOffset::new(n))
}

fn request_samples() -> Vec<RequestBody> {
    let key_package = |text: &str| ok(KeyPackageBytes::new(text.as_bytes().to_vec()));
    vec![
        GetChallenge {}.into(),
        CreateAccount {
            invitation: InvitationToken::from_bytes([0x1e; 32]),
            device_key: device_key(1),
            signature: signature(0x51),
        }
        .into(),
        Authenticate { device: device_key(1).device_id(), signature: signature(0x52) }.into(),
        AddDevice { device_key: device_key(2), possession: signature(0x53) }.into(),
        RevokeDevice { device: device_key(2).device_id() }.into(),
        ListDevices {}.into(),
        GetUsage {}.into(),
        Ping {}.into(),
        UploadKeyPackages {
            one_time: ok(BoundedVec::new(vec![key_package("kp-1"), key_package("kp-2")])),
            last_resort: Some(key_package("kp-last")),
        }
        .into(),
        ClaimKeyPackages { devices: ok(BoundedVec::new(vec![device_key(1).device_id(), device_key(2).device_id()])) }
            .into(),
        GetKeyPackageStatus {}.into(),
        DepositWelcome {
            recipients: ok(BoundedVec::new(vec![device_key(2).device_id()])),
            welcome: ok(WelcomeBytes::new(b"welcome".to_vec())),
        }
        .into(),
        FetchWelcomes { after: Some(ok(InboxSeq::new(41))), limit: ok(PageLimit::new(16)) }.into(),
        AckWelcomes { up_to: ok(InboxSeq::new(42)) }.into(),
        CreateGroup {
            group: group(),
            verifier: AccessToken::from_bytes([0xa0; 32]).verifier(),
            retention: LogRetention::Expire,
        }
        .into(),
        AppendMessage { access: access(), message: mls("application message") }.into(),
        SubmitCommit {
            access: access(),
            commit: mls("commit"),
            next_verifier: AccessToken::from_bytes([0xa8; 32]).verifier(),
        }
        .into(),
        FetchLog { access: access(), from: ok(Seq::new(100)), limit: PageLimit::MAX }.into(),
        Subscribe { groups: ok(BoundedVec::new(vec![access()])) }.into(),
        Unsubscribe { groups: ok(BoundedVec::new(vec![group()])) }.into(),
        PutContent {
            access: access(),
            record: ContentId::from_bytes([0xd1; 16]),
            sealed: ok(ContentRecordBytes::new(b"sealed post".to_vec())),
        }
        .into(),
        FetchContent { access: access(), from: ok(ContentSeq::new(7)), limit: ok(PageLimit::new(50)) }.into(),
        PutChunk {
            access: access(),
            chunk: chunk_ref(),
            total_len: offset(20_000),
            offset: offset(16_384),
            data: ok(ChunkPiece::new(b"piece".to_vec())),
        }
        .into(),
        GetChunkStatus { access: access(), chunk: chunk_ref() }.into(),
        GetChunk { access: access(), chunk: chunk_ref(), offset: offset(0), max_len: offset(16_384) }.into(),
        // Added after the others so that their request ids (and bytes) stay as they were.
        Signal { access: access(), payload: ok(SignalBytes::new(b"sealed presence".to_vec())) }.into(),
        FetchMany {
            items: ok(BoundedVec::new(vec![
                FetchItem::Log(FetchLog { access: access(), from: ok(Seq::new(100)), limit: ok(PageLimit::new(128)) }),
                FetchItem::Content(FetchContent {
                    access: access(),
                    from: ok(ContentSeq::new(7)),
                    limit: ok(PageLimit::new(128)),
                }),
            ])),
        }
        .into(),
        SignIn {
            device: device_key(1).device_id(),
            signature: sign_device_auth(
                &device_signing_key(1),
                &TlsExporter::from_bytes([0xe5; 32]),
                &ChallengeNonce::NONE,
                AuthPurpose::SignIn,
            ),
        }
        .into(),
        ForgetContent { access: access(), record: forget_key().record(&group()), key: forget_key() }.into(),
    ]
}

fn forget_key() -> ForgetKey {
    ForgetKey::from_bytes([0xf0; 32])
}

fn response_samples() -> Vec<ResponseBody> {
    let key_package = |text: &str| ok(KeyPackageBytes::new(text.as_bytes().to_vec()));
    vec![
        Challenge { nonce: ChallengeNonce::from_bytes([0xce; 32]) }.into(),
        AccountCreated { account: AccountId::from_bytes([0xac; 16]), device: device_key(1).device_id() }.into(),
        Authenticated { account: AccountId::from_bytes([0xac; 16]) }.into(),
        DeviceAdded { device: device_key(2).device_id() }.into(),
        DeviceRevoked {}.into(),
        DeviceList {
            devices: ok(BoundedVec::new(vec![DeviceRecord {
                device: device_key(1).device_id(),
                device_key: device_key(1),
                registered_at: ok(UnixSeconds::new(1_795_000_000)),
            }])),
        }
        .into(),
        Usage { used: ok(ByteCount::new(123_456)), quota: ok(ByteCount::new(1 << 30)) }.into(),
        Pong {}.into(),
        KeyPackageStatus { one_time_left: 99, has_last_resort: true }.into(),
        ClaimedKeyPackages {
            claims: ok(BoundedVec::new(vec![
                DeviceClaim {
                    device: device_key(1).device_id(),
                    package: Some(ClaimedPackage { kind: KeyPackageKind::OneTime, package: key_package("kp-1") }),
                },
                DeviceClaim {
                    device: device_key(2).device_id(),
                    package: Some(ClaimedPackage { kind: KeyPackageKind::LastResort, package: key_package("kp-last") }),
                },
                DeviceClaim { device: device_key(3).device_id(), package: None },
            ])),
        }
        .into(),
        WelcomeDeposited {}.into(),
        Welcomes {
            entries: ok(BoundedVec::new(vec![InboxEntry {
                position: ok(InboxSeq::new(42)),
                welcome: ok(WelcomeBytes::new(b"welcome".to_vec())),
            }])),
            more: false,
        }
        .into(),
        WelcomesAcked {}.into(),
        GroupCreated {}.into(),
        Appended { seq: ok(Seq::new(100)) }.into(),
        CommitAccepted { seq: ok(Seq::new(101)), epoch: ok(Epoch::new(4)) }.into(),
        LogPage {
            entries: ok(BoundedVec::new(vec![
                LogEntry { seq: ok(Seq::new(100)), kind: EntryKind::Message, message: mls("application message") },
                LogEntry { seq: ok(Seq::new(101)), kind: EntryKind::Commit, message: mls("commit") },
            ])),
            next: ok(Seq::new(102)),
            end: LogPageEnd::EpochClosed,
        }
        .into(),
        Subscribed { refused: BoundedVec::empty() }.into(),
        Unsubscribed {}.into(),
        ContentStored { seq: ok(ContentSeq::new(7)) }.into(),
        ContentPage {
            records: ok(BoundedVec::new(vec![ContentRecord {
                seq: ok(ContentSeq::new(7)),
                record: ContentId::from_bytes([0xd1; 16]),
                sealed: ok(ContentRecordBytes::new(b"sealed post".to_vec())),
            }])),
            more: true,
        }
        .into(),
        ChunkStatus { total_len: offset(20_000), received: offset(16_389) }.into(),
        ChunkData { total_len: offset(20_000), offset: offset(0), data: ok(ChunkPiece::new(b"piece".to_vec())) }.into(),
        Signalled {}.into(),
        Fetched {
            results: ok(BoundedVec::new(vec![
                FetchResult::Log(LogPage {
                    entries: BoundedVec::empty(),
                    next: ok(Seq::new(101)),
                    end: LogPageEnd::UpToDate,
                }),
                FetchResult::Content(ContentPage {
                    records: ok(BoundedVec::new(vec![ContentRecord {
                        seq: ok(ContentSeq::new(7)),
                        record: ContentId::from_bytes([0xd1; 16]),
                        sealed: ok(ContentRecordBytes::new(b"sealed post".to_vec())),
                    }])),
                    more: false,
                }),
                FetchResult::Refused(RelayError::Forbidden),
                FetchResult::Deferred(Deferred {}),
            ])),
        }
        .into(),
        ContentForgotten { seq: ok(ContentSeq::new(7)) }.into(),
        ContentPage {
            records: ok(BoundedVec::new(vec![ContentRecord {
                seq: ok(ContentSeq::new(7)),
                record: forget_key().record(&group()),
                sealed: tombstone(&forget_key()),
            }])),
            more: false,
        }
        .into(),
    ]
}

fn error_samples() -> Vec<RelayError> {
    vec![
        RelayError::BadRequest,
        RelayError::UnsupportedVersion { supported: limits::PROTOCOL_VERSION },
        RelayError::AuthRequired,
        RelayError::AuthFailed,
        RelayError::InvitationInvalid,
        RelayError::Forbidden,
        RelayError::NotFound,
        RelayError::Conflict,
        RelayError::StaleEpoch { current: ok(Epoch::new(4)), next_seq: ok(Seq::new(102)) },
        RelayError::QuotaExceeded { used: ok(ByteCount::new(1 << 30)), quota: ok(ByteCount::new(1 << 30)) },
        RelayError::LimitExceeded { limit: LimitKind::KeyPackages },
        RelayError::RateLimited { retry_after_ms: 1500 },
        RelayError::Internal,
    ]
}

fn event_samples() -> Vec<Event> {
    vec![
        LogAdvanced { group: group(), epoch: ok(Epoch::new(4)), latest: ok(Seq::new(101)) }.into(),
        ContentAdvanced { group: group(), latest: ok(ContentSeq::new(7)) }.into(),
        WelcomeAvailable {}.into(),
        GroupSignal { group: group(), payload: ok(SignalBytes::new(b"sealed presence".to_vec())) }.into(),
        ContentPushed {
            group: group(),
            seq: ok(ContentSeq::new(8)),
            record: ContentId::from_bytes([0x5c; 16]),
            sealed: ok(PushedRecordBytes::new(b"sealed note edit".to_vec())),
        }
        .into(),
    ]
}

fn message_vectors() -> Vectors {
    let mut vectors = Vectors::new();
    for (n, body) in request_samples().into_iter().enumerate() {
        let name = format!("Request.{}", body.name());
        let request = Request { id: ok(RequestId::new(n as u64 + 1)), body };
        vectors.push((name, request.to_wire()));
    }
    for (n, body) in response_samples().into_iter().enumerate() {
        let name = format!("Response.{}", body.name());
        let message = RelayMessage::Response(Response { id: ok(RequestId::new(n as u64 + 1)), body });
        vectors.push((name, message.to_wire()));
    }
    for error in error_samples() {
        let name = format!("Failure.{}", tag_name(RelayError::TAGS, error.tag()));
        let message = RelayMessage::Failure(Failure { id: ok(RequestId::new(300)), error });
        vectors.push((name, message.to_wire()));
    }
    for event in event_samples() {
        let name = format!("Event.{}", event.name());
        vectors.push((name, RelayMessage::Event(event).to_wire()));
    }
    vectors
}

fn frame_vectors() -> Vectors {
    let ping = Request { id: ok(RequestId::new(7)), body: Ping {}.into() };
    let append = Request {
        id: ok(RequestId::new(8)),
        body: AppendMessage { access: access(), message: mls("application message") }.into(),
    };
    vec![
        ("Frame.Ping.unpadded".into(), ok(encode_message(&ping, Padding::None))),
        ("Frame.Ping.padded".into(), ok(encode_message(&ping, Padding::SizeClasses))),
        ("Frame.AppendMessage.unpadded".into(), ok(encode_message(&append, Padding::None))),
    ]
}

/// Derived values and signatures: what an implementer must compute bit for bit.
fn derivation_vectors() -> Vectors {
    let signing_key = device_signing_key(1);
    let key = DevicePublicKey::from_signing_key(&signing_key);
    let exporter = TlsExporter::from_bytes([0xe0; 32]);
    let nonce = ChallengeNonce::from_bytes([0xce; 32]);
    let invitation_token = InvitationToken::from_bytes([0x1e; 32]);
    let account = AccountId::from_bytes([0xac; 16]);
    let new_device = device_signing_key(2);
    let token = AccessToken::from_bytes([0xa7; 32]);

    let auth = sign_device_auth(&signing_key, &exporter, &nonce, AuthPurpose::Authenticate);
    let create = sign_device_auth(&signing_key, &exporter, &nonce, AuthPurpose::CreateAccount(&invitation_token));
    let link = sign_device_link(&new_device, &account);
    // The vectors must verify, or they would teach implementers something wrong.
    assert_eq!(verify_device_auth(&key, &auth, &exporter, &nonce, AuthPurpose::Authenticate), Ok(()));
    assert_eq!(
        verify_device_auth(&key, &create, &exporter, &nonce, AuthPurpose::CreateAccount(&invitation_token)),
        Ok(())
    );
    assert_eq!(verify_device_link(&device_key(2), &link, &account), Ok(()));

    let invitation = ok(Invitation::new(
        vec![ok(RelayAddress::new("relay.example.org:4433".into())), ok(RelayAddress::new("192.0.2.7:443".into()))],
        [0x5b; 32],
        invitation_token.clone(),
    ));

    vec![
        ("Input.device_signing_key_seed".into(), vec![1; 32]),
        ("Input.tls_exporter".into(), exporter.expose_secret().to_vec()),
        ("Input.challenge_nonce".into(), nonce.as_bytes().to_vec()),
        ("Input.invitation_token".into(), invitation_token.expose_secret().to_vec()),
        ("Input.account".into(), account.as_bytes().to_vec()),
        ("Input.new_device_signing_key_seed".into(), vec![2; 32]),
        ("Input.access_token".into(), token.expose_secret().to_vec()),
        ("DevicePublicKey".into(), key.as_bytes().to_vec()),
        ("DeviceId".into(), key.device_id().as_bytes().to_vec()),
        ("EpochVerifier".into(), EpochVerifier::for_token(&token).as_bytes().to_vec()),
        ("InvitationDigest".into(), invitation_token.digest().to_vec()),
        (
            "DeviceAuthMessage.Authenticate".into(),
            device_auth_message(&exporter, &nonce, AuthPurpose::Authenticate, &key),
        ),
        ("DeviceAuthSignature.Authenticate".into(), auth.as_bytes().to_vec()),
        (
            "DeviceAuthMessage.CreateAccount".into(),
            device_auth_message(&exporter, &nonce, AuthPurpose::CreateAccount(&invitation_token), &key),
        ),
        ("DeviceAuthSignature.CreateAccount".into(), create.as_bytes().to_vec()),
        ("DeviceLinkMessage".into(), device_link_message(&account, &device_key(2))),
        ("DeviceLinkSignature".into(), link.as_bytes().to_vec()),
        ("Invitation".into(), invitation.to_wire()),
        ("InvitationText".into(), invitation.to_text().into_bytes()),
    ]
    .into_iter()
    .chain(rotation_vectors())
    .collect()
}

/// The relay key's rotation: the relay's key is the Ed25519 key whose seed is 32 x 0x01
/// (Input.device_signing_key_seed); the next key's pin is 32 x 0x6e; the switch is at
/// 1,800,000,000 Unix seconds.
fn rotation_vectors() -> Vectors {
    use ed25519_dalek::Signer;
    use huisclos_protocol::relay_key::{ED25519_SPKI_PREFIX, RelayKeyRotation, rotation_oid_der, spki_pin};
    let relay_key = device_signing_key(1);
    let spki = [&ED25519_SPKI_PREFIX[..], relay_key.verifying_key().as_bytes()].concat();
    let current = spki_pin(&spki);
    let next = [0x6e; 32];
    let switch_at = ok(UnixSeconds::new(1_800_000_000));
    let signed = RelayKeyRotation::signed_bytes(&current, &next, switch_at);
    let signature = relay_key.sign(&signed).to_bytes();
    let rotation = RelayKeyRotation { current, next, switch_at, signature };
    assert_eq!(rotation.verify(&spki), Ok(()));
    vec![
        ("RelayKey.SubjectPublicKeyInfo".into(), spki),
        ("RelayKey.Pin".into(), current.to_vec()),
        ("RelayKeyRotation.SignedBytes".into(), signed),
        ("RelayKeyRotation".into(), rotation.to_wire()),
        ("RelayKeyRotation.ExtensionOidContents".into(), rotation_oid_der()),
    ]
}

fn tag_name(tags: &[(u8, &'static str)], tag: u8) -> &'static str {
    tags.iter().find(|(t, _)| *t == tag).map_or("?", |(_, name)| name)
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol-spec/vectors")
}

/// What a reader of each file needs to know besides the bytes: where the inputs of
/// values that cannot be recomputed from the bytes come from.
fn notes(file: &str) -> &'static str {
    match file {
        "messages.txt" => {
            "# Every GroupAccess carries the token 32 x 0xa7 (derivations.txt, Input.access_token).\n\
             # Request.CreateGroup's verifier is EpochVerifier(token 32 x 0xa0); Request.SubmitCommit's\n\
             # next_verifier is EpochVerifier(token 32 x 0xa8) (relay.md, \"Group access by epoch tokens\").\n"
        }
        _ => "",
    }
}

fn render_file(file: &str, title: &str, vectors: &Vectors) -> String {
    let mut text = format!(
        "# Huis Clos protocol version {} — known-answer vectors: {title}\n\
         # Generated by protocol/tests/vectors.rs; checked by `cargo test -p huisclos-protocol`.\n\
         # One vector a line: NAME, a space, the bytes in lower-case hex.\n{}",
        limits::PROTOCOL_VERSION,
        notes(file)
    );
    for (name, bytes) in vectors {
        text.push_str(&format!("{name} {}\n", hex::encode(bytes)));
    }
    text
}

fn parse(text: &str) -> Vectors {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (name, hex) = line.split_once(' ').unwrap_or_else(|| panic!("malformed vector line {line:?}"));
            (name.to_owned(), hex::decode(hex).unwrap_or_else(|e| panic!("bad hex for {name}: {e}")))
        })
        .collect()
}

fn check_file(file: &str, title: &str, expected: &Vectors) {
    let path = vectors_dir().join(file);
    if std::env::var_os("HUISCLOS_UPDATE_VECTORS").is_some() {
        std::fs::write(&path, render_file(file, title, expected))
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let stored = parse(&text);
    assert_eq!(stored.len(), expected.len(), "{file}: number of vectors differs");
    for ((stored_name, stored_bytes), (name, bytes)) in stored.iter().zip(expected) {
        assert_eq!(stored_name, name, "{file}: vectors out of order");
        assert_eq!(hex::encode(stored_bytes), hex::encode(bytes), "{file}: encoding of {name} drifted");
    }
    assert_eq!(text, render_file(file, title, expected), "{file}: its comments drifted");
}

#[test]
fn message_encodings_match_the_vectors() {
    check_file("messages.txt", "messages", &message_vectors());
}

#[test]
fn frame_encodings_match_the_vectors() {
    check_file("frames.txt", "frames", &frame_vectors());
}

#[test]
fn derivations_match_the_vectors() {
    check_file("derivations.txt", "derived values and signatures", &derivation_vectors());
}

#[test]
fn stored_vectors_decode_and_re_encode_identically() {
    let text = std::fs::read_to_string(vectors_dir().join("messages.txt")).unwrap_or_default();
    for (name, bytes) in parse(&text) {
        let re_encoded = if name.starts_with("Request.") {
            Request::from_wire(&bytes).map(|m| m.to_wire())
        } else {
            RelayMessage::from_wire(&bytes).map(|m| m.to_wire())
        };
        assert_eq!(re_encoded.as_deref(), Ok(bytes.as_slice()), "{name}");
    }
    let text = std::fs::read_to_string(vectors_dir().join("derivations.txt")).unwrap_or_default();
    let stored = parse(&text);
    let find = |name: &str| stored.iter().find(|(n, _)| n == name).map(|(_, b)| b.clone()).unwrap_or_default();
    let invitation = Invitation::from_text(&String::from_utf8(find("InvitationText")).unwrap_or_default());
    assert_eq!(invitation.map(|i| i.to_wire()), Ok(find("Invitation")));
}

#[test]
fn every_message_type_has_a_vector() {
    let names: Vec<String> = message_vectors().into_iter().map(|(name, _)| name).collect();
    let expect = |prefix: &str, tags: &[(u8, &str)]| {
        for (_, variant) in tags {
            let name = format!("{prefix}.{variant}");
            assert!(names.contains(&name), "no known-answer vector for {name}");
        }
    };
    expect("Request", RequestBody::TAGS);
    expect("Response", ResponseBody::TAGS);
    expect("Failure", RelayError::TAGS);
    expect("Event", Event::TAGS);
}

#[test]
fn device_ids_in_vectors_are_derived_from_keys() {
    let key = device_key(1);
    let id: DeviceId = key.device_id();
    assert_eq!(DeviceId::from_wire(id.as_bytes()), Ok(id));
}
