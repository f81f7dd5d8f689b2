//! Property tests: every message round-trips, through a frame and without, and every
//! malformed input is refused with a typed error instead of a panic.

use huisclos_protocol::codec::Wire;
use huisclos_protocol::frame::{FrameReader, Padding, decode_message, encode_message};
use huisclos_protocol::invitation::Invitation;
use huisclos_protocol::limits::{FRAME_HEADER_LEN, MAX_FRAME_LEN, PROTOCOL_VERSION};
use huisclos_protocol::messages::{RelayMessage, Request};
use huisclos_protocol::{Error, messages};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    // Enough cases that each of the ~65 variants is drawn many times.
    ProptestConfig { cases: 2048, ..ProptestConfig::default() }
}

/// Encoding then decoding gives the value back, and re-encoding gives the same bytes
/// (the encoding is canonical).
fn assert_round_trip<M: Wire + PartialEq + std::fmt::Debug>(value: &M) -> Result<(), TestCaseError> {
    let bytes = value.to_wire();
    let decoded = M::from_wire(&bytes).map_err(|e| TestCaseError::fail(format!("{e}")))?;
    prop_assert_eq!(&decoded, value);
    prop_assert_eq!(decoded.to_wire(), bytes.clone());
    for padding in [Padding::None, Padding::SizeClasses] {
        let frame = encode_message(value, padding).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(frame.len(), padding.frame_len(bytes.len()));
        let framed: M = decode_message(&frame).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        prop_assert_eq!(&framed, value);
    }
    Ok(())
}

/// Every strict prefix is refused, and so is any trailing byte.
fn assert_exact<M: Wire + std::fmt::Debug>(bytes: &[u8]) -> Result<(), TestCaseError> {
    for cut in 0..bytes.len() {
        let result = M::from_wire(&bytes[..cut]);
        prop_assert!(result.is_err(), "prefix of {} bytes of {} decoded", cut, bytes.len());
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    let trailing = M::from_wire(&longer);
    prop_assert!(matches!(trailing, Err(Error::TrailingBytes { count: 1, .. })), "{:?}", trailing);
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn requests_round_trip(request in any::<Request>()) {
        assert_round_trip(&request)?;
    }

    #[test]
    fn relay_messages_round_trip(message in any::<RelayMessage>()) {
        assert_round_trip(&message)?;
    }

    #[test]
    fn invitations_round_trip(invitation in any::<Invitation>()) {
        assert_round_trip(&invitation)?;
        prop_assert_eq!(Invitation::from_text(&invitation.to_text()).ok(), Some(invitation));
    }

    #[test]
    fn truncated_or_extended_requests_are_refused(request in any::<Request>()) {
        assert_exact::<Request>(&request.to_wire())?;
    }

    #[test]
    fn truncated_or_extended_relay_messages_are_refused(message in any::<RelayMessage>()) {
        assert_exact::<RelayMessage>(&message.to_wire())?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Request::from_wire(&bytes);
        let _ = RelayMessage::from_wire(&bytes);
        let _ = Invitation::from_wire(&bytes);
        let _ = decode_message::<Request>(&bytes);
        let mut reader = FrameReader::new();
        prop_assert!(reader.push(&bytes).is_ok());
        while let Ok(Some(_)) = reader.next_payload() {}
    }

    #[test]
    fn flipped_bytes_never_panic(request in any::<Request>(), index in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = request.to_wire();
        let at = index.index(bytes.len());
        bytes[at] ^= 1 << bit;
        // Either refused or decoded to some other valid request that re-encodes exactly.
        if let Ok(decoded) = Request::from_wire(&bytes) {
            prop_assert_eq!(decoded.to_wire(), bytes);
        }
    }

    #[test]
    fn frames_of_another_version_are_refused(request in any::<Request>(), version in any::<u8>()) {
        prop_assume!(version != PROTOCOL_VERSION);
        let mut frame = encode_message(&request, Padding::SizeClasses).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        frame[0] = version;
        prop_assert_eq!(decode_message::<Request>(&frame).err(), Some(Error::UnsupportedVersion { version }));
    }

    #[test]
    fn nonzero_padding_is_refused(request in any::<Request>(), junk in 1u8..=255) {
        let mut frame = encode_message(&request, Padding::SizeClasses).map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let payload_len = request.to_wire().len();
        prop_assume!(frame.len() > FRAME_HEADER_LEN + payload_len);
        if let Some(last) = frame.last_mut() { *last = junk; }
        prop_assert_eq!(decode_message::<Request>(&frame).err(), Some(Error::NonZeroPadding));
    }
}

#[test]
fn oversized_frame_header_is_refused() {
    let mut frame = vec![PROTOCOL_VERSION];
    frame.extend_from_slice(&(MAX_FRAME_LEN as u32).to_be_bytes());
    frame.extend_from_slice(&0u32.to_be_bytes());
    assert!(matches!(decode_message::<Request>(&frame), Err(Error::TooLong { what: "frame", .. })));
}

#[test]
fn oversized_lengths_inside_a_message_are_refused_without_allocating() {
    // An AppendMessage whose MLS message claims 2^40 bytes: refused from the length alone.
    let mut bytes = vec![0x00, 0x21]; // request id 0, AppendMessage
    bytes.extend_from_slice(&[0u8; 16]); // group
    bytes.push(0); // epoch 0
    bytes.extend_from_slice(&[0u8; 32]); // token
    bytes.extend_from_slice(&(0xc000_0100_0000_0000u64).to_be_bytes()); // varint 2^40
    assert!(matches!(Request::from_wire(&bytes), Err(Error::TooLong { what: "MLS message", .. })));
}

#[test]
fn oversized_counts_are_refused() {
    // ClaimKeyPackages with MAX_CLAIM_BATCH + 1 devices announced.
    let mut bytes = vec![0x00, 0x11];
    huisclos_protocol::codec::put_varint(&mut bytes, (huisclos_protocol::limits::MAX_CLAIM_BATCH + 1) as u64);
    assert!(matches!(Request::from_wire(&bytes), Err(Error::TooMany { .. })));
}

#[test]
fn bounded_bytes_accept_their_maximum_and_refuse_one_more() {
    use messages::{ChunkPiece, ContentRecordBytes, KeyPackageBytes, MlsMessageBytes, WelcomeBytes};
    fn check<T: Wire + std::fmt::Debug>(max: usize, new: fn(Vec<u8>) -> Result<T, Error>) -> Result<(), Error> {
        let at_max = new(vec![7; max])?;
        assert_eq!(T::from_wire(&at_max.to_wire())?.to_wire(), at_max.to_wire());
        assert!(matches!(new(vec![7; max + 1]), Err(Error::TooLong { .. })));
        // A hand-made encoding one byte over the bound is refused when decoding, too.
        let mut over = Vec::new();
        huisclos_protocol::codec::put_varint(&mut over, (max + 1) as u64);
        over.resize(over.len() + max + 1, 7);
        assert!(matches!(T::from_wire(&over), Err(Error::TooLong { .. })));
        Ok(())
    }
    let checks = [
        check(MlsMessageBytes::MAX_LEN, MlsMessageBytes::new),
        check(KeyPackageBytes::MAX_LEN, KeyPackageBytes::new),
        check(WelcomeBytes::MAX_LEN, WelcomeBytes::new),
        check(ContentRecordBytes::MAX_LEN, ContentRecordBytes::new),
        check(ChunkPiece::MAX_LEN, ChunkPiece::new),
    ];
    for result in checks {
        assert_eq!(result, Ok(()));
    }
}

#[test]
fn the_largest_log_entry_fits_in_a_frame() {
    use huisclos_protocol::codec::BoundedVec;
    use huisclos_protocol::ids::{RequestId, Seq};
    use messages::{EntryKind, LogEntry, LogPage, LogPageEnd, MlsMessageBytes, Response, ResponseBody};
    let entry = LogEntry {
        seq: Seq::MAX,
        kind: EntryKind::Commit,
        message: MlsMessageBytes::new(vec![1; MlsMessageBytes::MAX_LEN]).unwrap_or_else(|_| unreachable!()),
    };
    let page = RelayMessage::Response(Response {
        id: RequestId::MAX,
        body: ResponseBody::LogPage(LogPage {
            entries: BoundedVec::new(vec![entry]).unwrap_or_else(|_| unreachable!()),
            next: Seq::MAX,
            end: LogPageEnd::EpochClosed,
        }),
    });
    let frame = encode_message(&page, Padding::SizeClasses);
    assert_eq!(frame.map(|f| f.len()), Ok(MAX_FRAME_LEN));
}
