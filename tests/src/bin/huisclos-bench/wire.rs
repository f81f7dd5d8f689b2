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
         every answer, then the same for a reader's device fetching it, size-class padding included (QUIC or \
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
            let (_, down, _) = frames(&mut bob, &relay).await;
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
