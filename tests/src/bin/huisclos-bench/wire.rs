//! Benchmark 7: the bytes a post puts on the wire, padding included, against its
//! plaintext.

use huisclos_core::space::{HistoryMode, Role};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::frame::Padding;
use huisclos_protocol::ids::RequestId;
use huisclos_protocol::messages::{Failure, RelayError, RelayMessage, Request, RequestBody, Response, ResponseBody};
use huisclos_tests::sim::{SimDevice, SimRelay, settle, space_with};

/// The frame a request takes on the wire, padded to its size class.
fn request_frame(body: &RequestBody) -> usize {
    let id = RequestId::new(1_000).unwrap();
    Padding::SizeClasses.frame_len(Request { id, body: body.clone() }.to_wire().len())
}

fn answer_frame(answer: &Result<ResponseBody, RelayError>) -> usize {
    let id = RequestId::new(1_000).unwrap();
    let message = match answer {
        Ok(body) => RelayMessage::Response(Response { id, body: body.clone() }),
        Err(error) => RelayMessage::Failure(Failure { id, error: error.clone() }),
    };
    Padding::SizeClasses.frame_len(message.to_wire().len())
}

/// The unpadded length of a request's frame (header included).
fn request_unpadded(body: &RequestBody) -> usize {
    let id = RequestId::new(1_000).unwrap();
    Padding::None.frame_len(Request { id, body: body.clone() }.to_wire().len())
}

/// Bytes of frames each way while `device` drives until idle.
async fn frames(device: &mut SimDevice, relay: &SimRelay) -> (usize, usize, usize) {
    let (mut up, mut down, mut requests) = (0, 0, 0);
    device
        .drive_through(relay, &mut |body, answer| {
            up += request_frame(body);
            down += answer_frame(answer);
            requests += 1;
        })
        .await;
    (up, down, requests)
}

pub(crate) async fn wire_bench() {
    println!(
        "bytes on the wire per post: the frames of every request the author's device sends for one post and of \
         every answer, then the same for a reader's device watching the space (the frames pushed to it and those it fetches), size-class padding included (QUIC or \
         TLS framing adds about 40 bytes per packet on top); in-process relay, one post at a time"
    );
    println!();
    println!(
        "| history | text bytes | author: requests | author: bytes up | reader: bytes down | up / text | down / text |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for history in [HistoryMode::Keep, HistoryMode::None] {
        let relay = SimRelay::new();
        let mut alice = SimDevice::join(&relay, "Alice").await;
        let mut bob = SimDevice::join(&relay, "Bob").await;
        let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], history).await;
        settle(&relay, &mut [&mut alice, &mut bob]).await;
        for len in [64usize, 256, 1024, 4096] {
            let text: String = "witness statement ".chars().cycle().take(len).collect();
            alice.engine_mut().post(&space, &text).unwrap();
            let (up, _, requests) = frames(&mut alice, &relay).await;
            let pushed = bob.pushed_bytes;
            let (_, down, _) = frames(&mut bob, &relay).await;
            // What the relay pushed to the watching reader counts too.
            let down = down + bob.pushed_bytes - pushed;
            assert!(bob.texts(&space).iter().any(|(_, t)| *t == text), "the reader has the post");
            println!(
                "| {} | {len} | {requests} | {up} | {down} | {:.1} | {:.1} |",
                if history == HistoryMode::Keep { "keep" } else { "none" },
                up as f64 / len as f64,
                down as f64 / len as f64
            );
        }
    }
}

/// Writes one item as the device's person.
type Write<'a> = dyn Fn(&mut SimDevice) + 'a;

/// The size classes against the items people write: what each takes unpadded and the
/// class it travels in, sent to the space's store (a record referring to its author's
/// certificate: the author's first record of the space carried it).
pub(crate) async fn classes_bench() {
    println!(
        "size classes against real items: the author's request putting each item (a record referring to the \
         author's certificate, as every record after the author's first in a generation does), unpadded and \
         padded to its size class; in-process relay"
    );
    println!();
    println!("| item | unpadded bytes | size class | padding |");
    println!("|---|---:|---:|---:|");
    let relay = SimRelay::new();
    let mut alice = SimDevice::join(&relay, "Alice").await;
    let mut bob = SimDevice::join(&relay, "Bob").await;
    let space = space_with(&relay, &mut alice, &mut [(&mut bob, Role::Contributor)], HistoryMode::Keep).await;
    let first = alice.engine_mut().post(&space, "The hearing is on Thursday.").unwrap();
    settle(&relay, &mut [&mut alice, &mut bob]).await;
    let text = |len: usize| -> String { "the witness saw the convoy ".chars().cycle().take(len).collect() };
    let items: [(&str, Box<Write<'_>>); 5] = [
        ("post, 200 bytes", Box::new(|d: &mut SimDevice| drop(d.engine_mut().post(&space, &text(200))))),
        ("post, 600 bytes", Box::new(|d: &mut SimDevice| drop(d.engine_mut().post(&space, &text(600))))),
        ("comment, 80 bytes", Box::new(|d: &mut SimDevice| drop(d.engine_mut().comment(&space, &first, &text(80))))),
        ("reaction", Box::new(|d: &mut SimDevice| drop(d.engine_mut().react(&space, &first, "👍", true)))),
        ("edit, 200 bytes", Box::new(|d: &mut SimDevice| drop(d.engine_mut().edit(&space, &first, &text(200))))),
    ];
    for (name, write) in items {
        write(&mut alice);
        let mut sizes = Vec::new();
        alice
            .drive_through(&relay, &mut |body, _| {
                if matches!(body, RequestBody::PutContent(_)) {
                    sizes.push(request_unpadded(body));
                }
            })
            .await;
        let unpadded = sizes.first().copied().expect("the item was put");
        let class = Padding::SizeClasses.frame_len(unpadded - huisclos_protocol::limits::FRAME_HEADER_LEN);
        println!("| {name} | {unpadded} | {class} | {:.0} % |", 100.0 * (class - unpadded) as f64 / class as f64);
    }
}
