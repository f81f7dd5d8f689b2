//! A tour of the wire protocol as it works today: one device's conversation with a
//! relay, encoded, padded and framed by `huisclos-protocol`, then read back from a
//! single byte stream as the relay's reader would.
//!
//! No relay runs here (the relay arrives with its own issue): the relay's answers are
//! built by hand, and the device-authentication check is the real one the relay will
//! call. Run: `cargo run -p huisclos-protocol --example wire_tour`
#![allow(missing_docs)]

use ed25519_dalek::SigningKey;
use huisclos_protocol::access::AccessToken;
use huisclos_protocol::auth::{
    AuthPurpose, ChallengeNonce, DevicePublicKey, TlsExporter, sign_device_auth, verify_device_auth,
};
use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::frame::{FrameReader, Padding, encode_message};
use huisclos_protocol::ids::{AccountId, Epoch, GroupId, PageLimit, RequestId, Seq};
use huisclos_protocol::messages::*;
use huisclos_protocol::{Error, limits};
use rand_core::{OsRng, RngCore};

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

enum Said {
    Client(Request),
    Relay(RelayMessage),
}

fn main() -> Result<(), Error> {
    let device = SigningKey::from_bytes(&random());
    let device_key = DevicePublicKey::from_signing_key(&device);
    // Stands in for the TLS exporter both ends derive from their session.
    let exporter = TlsExporter::from_bytes(random());
    let nonce = ChallengeNonce::from_bytes(random());
    let group = GroupId::from_bytes(random());
    let epoch0_token = AccessToken::from_bytes(random());
    let epoch1_token = AccessToken::from_bytes(random());
    let access = |epoch: u64, token: &AccessToken| -> Result<GroupAccess, Error> {
        Ok(GroupAccess { group, epoch: Epoch::new(epoch)?, token: token.clone() })
    };
    let id = |n: u64| RequestId::new(n);

    let signature = sign_device_auth(&device, &exporter, &nonce, AuthPurpose::Authenticate);
    // The check the relay performs, and the replay it refuses.
    verify_device_auth(&device_key, &signature, &exporter, &nonce, AuthPurpose::Authenticate)?;
    let replayed = verify_device_auth(
        &device_key,
        &signature,
        &TlsExporter::from_bytes(random()),
        &nonce,
        AuthPurpose::Authenticate,
    );

    let post = MlsMessageBytes::new(b"(an MLS PrivateMessage: ciphertext the relay cannot read)".to_vec())?;
    let commit = MlsMessageBytes::new(b"(an MLS commit, also a PrivateMessage)".to_vec())?;
    let conversation = vec![
        Said::Client(Request { id: id(1)?, body: GetChallenge {}.into() }),
        Said::Relay(RelayMessage::Response(Response { id: id(1)?, body: Challenge { nonce }.into() })),
        Said::Client(Request { id: id(2)?, body: Authenticate { device: device_key.device_id(), signature }.into() }),
        Said::Relay(RelayMessage::Response(Response {
            id: id(2)?,
            body: Authenticated { account: AccountId::from_bytes(random()) }.into(),
        })),
        Said::Client(Request {
            id: id(3)?,
            body: CreateGroup { group, verifier: epoch0_token.verifier(), retention: LogRetention::Keep }.into(),
        }),
        Said::Relay(RelayMessage::Response(Response { id: id(3)?, body: GroupCreated {}.into() })),
        Said::Client(Request {
            id: id(4)?,
            body: SubmitCommit {
                access: access(0, &epoch0_token)?,
                commit: commit.clone(),
                next_verifier: epoch1_token.verifier(),
            }
            .into(),
        }),
        Said::Relay(RelayMessage::Response(Response {
            id: id(4)?,
            body: CommitAccepted { seq: Seq::ZERO, epoch: Epoch::new(1)? }.into(),
        })),
        Said::Client(Request {
            id: id(5)?,
            body: AppendMessage { access: access(0, &epoch0_token)?, message: post.clone() }.into(),
        }),
        Said::Relay(RelayMessage::Failure(Failure {
            id: id(5)?,
            error: RelayError::StaleEpoch { current: Epoch::new(1)?, next_seq: Seq::new(1)? },
        })),
        Said::Client(Request {
            id: id(6)?,
            body: AppendMessage { access: access(1, &epoch1_token)?, message: post.clone() }.into(),
        }),
        Said::Relay(RelayMessage::Response(Response { id: id(6)?, body: Appended { seq: Seq::new(1)? }.into() })),
        Said::Client(Request {
            id: id(7)?,
            body: FetchLog { access: access(1, &epoch1_token)?, from: Seq::new(1)?, limit: PageLimit::new(64)? }.into(),
        }),
        Said::Relay(RelayMessage::Response(Response {
            id: id(7)?,
            body: LogPage {
                entries: BoundedVec::new(vec![LogEntry {
                    seq: Seq::new(1)?,
                    kind: EntryKind::Message,
                    message: post,
                }])?,
                next: Seq::new(2)?,
                end: LogPageEnd::UpToDate,
            }
            .into(),
        })),
    ];

    println!(
        "huisclos protocol version {}, ALPN {:?}",
        limits::PROTOCOL_VERSION,
        String::from_utf8_lossy(limits::ALPN)
    );
    println!("device {} (id derived from its Ed25519 key)", device_key.device_id());
    println!(
        "signature replayed on another TLS session: {}\n",
        match replayed {
            Err(error) => format!("refused ({error})"),
            Ok(()) => "ACCEPTED — this would be a bug".into(),
        }
    );
    println!("{:<8} {:<26} {:>8} {:>8}  frame starts", "from", "message", "payload", "on wire");

    let mut client_stream = Vec::new();
    let mut relay_stream = Vec::new();
    for said in &conversation {
        let (from, name, payload, frame) = match said {
            Said::Client(request) => (
                "device",
                request.body.name().to_owned(),
                request.to_wire().len(),
                encode_message(request, Padding::SizeClasses)?,
            ),
            Said::Relay(message) => (
                "relay",
                relay_message_name(message),
                message.to_wire().len(),
                encode_message(message, Padding::SizeClasses)?,
            ),
        };
        let head: String = frame.iter().take(14).map(|b| format!("{b:02x}")).collect();
        println!("{from:<8} {name:<26} {payload:>8} {:>8}  {head}…", frame.len());
        match said {
            Said::Client(_) => client_stream.extend_from_slice(&frame),
            Said::Relay(_) => relay_stream.extend_from_slice(&frame),
        }
    }

    // Read both streams back in uneven pieces, as they would arrive from a socket.
    let mut decoded = 0;
    for (stream, is_client) in [(&client_stream, true), (&relay_stream, false)] {
        let mut reader = FrameReader::new();
        for piece in stream.chunks(333) {
            reader.push(piece)?;
            while let Some(payload) = reader.next_payload()? {
                if is_client {
                    Request::from_wire(&payload)?;
                } else {
                    RelayMessage::from_wire(&payload)?;
                }
                decoded += 1;
            }
        }
    }
    println!("\n{decoded} of {} frames read back from the two byte streams and decoded.", conversation.len());
    println!("Padding hides exact lengths from the network: every frame above is a power of two.");
    Ok(())
}

fn relay_message_name(message: &RelayMessage) -> String {
    match message {
        RelayMessage::Response(response) => response.body.name().to_owned(),
        RelayMessage::Failure(failure) => {
            let tag = failure.error.tag();
            let name = RelayError::TAGS.iter().find(|(t, _)| *t == tag).map_or("?", |(_, n)| n);
            format!("Failure({name})")
        }
        RelayMessage::Event(event) => event.name().to_owned(),
    }
    .chars()
    .take(26)
    .collect()
}
