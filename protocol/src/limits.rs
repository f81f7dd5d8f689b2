//! Every bound on a length or count that a peer controls, by name.
//!
//! These are *wire* limits: a decoder refuses anything above them before it allocates.
//! The relay enforces stricter *policy* limits of its own (quota per account, key
//! packages stored per device, request rate), which are configuration, not protocol.
//! Each constant here is listed in `protocol-spec/limits.md`, and a test checks that the
//! specification and this module agree.

/// The protocol version carried in every frame header.
pub const PROTOCOL_VERSION: u8 = 1;

/// The ALPN protocol identifier, on QUIC and on TCP+TLS alike.
pub const ALPN: &[u8] = b"huisclos/1";

/// Bytes in a frame header: version (1), padded length (4), payload length (4).
pub const FRAME_HEADER_LEN: usize = 9;

/// The largest frame on the wire, header and padding included: 1 MiB.
pub const MAX_FRAME_LEN: usize = 1 << 20;

/// The largest frame a connection may send before it authenticates, header and padding
/// included: the requests it may make then (`Ping`, `GetChallenge`, `CreateAccount`,
/// `Authenticate`, `SignIn`) are all far smaller. A relay closes the stream on a larger
/// one, so a client sends a request behind an unanswered sign-in only if it fits
/// (`messages.md` 1.1).
pub const UNAUTHENTICATED_FRAME_LEN: usize = 4096;

/// The largest encoded message a frame can carry.
pub const MAX_FRAME_PAYLOAD_LEN: usize = MAX_FRAME_LEN - FRAME_HEADER_LEN;

/// The smallest padded frame: every padded frame is a power of two from this size up
/// to [`MAX_FRAME_LEN`].
pub const MIN_PADDED_FRAME_LEN: usize = 256;

/// The largest MLS message (commit, proposal, application message, Welcome) the relay
/// stores: 1 MiB less 4 KiB, so that one always fits in a frame with its envelope.
pub const MAX_MLS_MESSAGE_LEN: usize = MAX_FRAME_LEN - 4096;

/// The largest MLS KeyPackage.
pub const MAX_KEY_PACKAGE_LEN: usize = 8 * 1024;

/// One-time key packages in one upload.
pub const MAX_KEY_PACKAGES_PER_UPLOAD: usize = 100;

/// Devices whose key packages are claimed in one request.
pub const MAX_CLAIM_BATCH: usize = 64;

/// Recipient devices of one deposited Welcome.
pub const MAX_WELCOME_RECIPIENTS: usize = 512;

/// Welcomes returned in one inbox page.
pub const MAX_INBOX_PAGE: usize = 64;

/// Entries (log entries or content records) returned in one page.
pub const MAX_PAGE_ENTRIES: usize = 256;

/// The largest history-key–sealed content record.
pub const MAX_CONTENT_RECORD_LEN: usize = 256 * 1024;

/// The largest chunk of a file, as ciphertext.
pub const MAX_CHUNK_LEN: usize = 1 << 20;

/// The largest piece of a chunk sent in one upload or download message: 255 KiB, so a
/// full piece with its envelope fits the 256 KiB padding size.
pub const MAX_CHUNK_PIECE_LEN: usize = 255 * 1024;

/// The largest signal (a short-lived message forwarded and never stored).
pub const MAX_SIGNAL_LEN: usize = 1024;

/// The largest content record a relay pushes inside an event (`ContentPushed`) instead
/// of only announcing it: a note's batch of typing, a post, a comment, a reaction.
pub const MAX_PUSHED_RECORD_LEN: usize = 4096;

/// Groups named in one subscribe or unsubscribe request.
pub const MAX_SUBSCRIBE_GROUPS: usize = 1024;

/// Reads in one `FetchMany` (a log and a content store for each of 32 groups).
pub const MAX_FETCH_ITEMS: usize = 64;

/// Devices listed for one account.
pub const MAX_DEVICES_PER_ACCOUNT: usize = 32;

/// Relay addresses in one invitation.
pub const MAX_INVITATION_ADDRESSES: usize = 8;

/// The longest relay address (`host:port`) in an invitation.
pub const MAX_RELAY_ADDRESS_LEN: usize = 255;

/// Every limit, by the name the specification uses, for the spec-agreement test.
pub const ALL: &[(&str, u64)] = &[
    ("PROTOCOL_VERSION", PROTOCOL_VERSION as u64),
    ("FRAME_HEADER_LEN", FRAME_HEADER_LEN as u64),
    ("MAX_FRAME_LEN", MAX_FRAME_LEN as u64),
    ("UNAUTHENTICATED_FRAME_LEN", UNAUTHENTICATED_FRAME_LEN as u64),
    ("MAX_FRAME_PAYLOAD_LEN", MAX_FRAME_PAYLOAD_LEN as u64),
    ("MIN_PADDED_FRAME_LEN", MIN_PADDED_FRAME_LEN as u64),
    ("MAX_MLS_MESSAGE_LEN", MAX_MLS_MESSAGE_LEN as u64),
    ("MAX_KEY_PACKAGE_LEN", MAX_KEY_PACKAGE_LEN as u64),
    ("MAX_KEY_PACKAGES_PER_UPLOAD", MAX_KEY_PACKAGES_PER_UPLOAD as u64),
    ("MAX_CLAIM_BATCH", MAX_CLAIM_BATCH as u64),
    ("MAX_WELCOME_RECIPIENTS", MAX_WELCOME_RECIPIENTS as u64),
    ("MAX_INBOX_PAGE", MAX_INBOX_PAGE as u64),
    ("MAX_PAGE_ENTRIES", MAX_PAGE_ENTRIES as u64),
    ("MAX_CONTENT_RECORD_LEN", MAX_CONTENT_RECORD_LEN as u64),
    ("MAX_CHUNK_LEN", MAX_CHUNK_LEN as u64),
    ("MAX_CHUNK_PIECE_LEN", MAX_CHUNK_PIECE_LEN as u64),
    ("MAX_SIGNAL_LEN", MAX_SIGNAL_LEN as u64),
    ("MAX_PUSHED_RECORD_LEN", MAX_PUSHED_RECORD_LEN as u64),
    ("MAX_SUBSCRIBE_GROUPS", MAX_SUBSCRIBE_GROUPS as u64),
    ("MAX_FETCH_ITEMS", MAX_FETCH_ITEMS as u64),
    ("MAX_DEVICES_PER_ACCOUNT", MAX_DEVICES_PER_ACCOUNT as u64),
    ("MAX_INVITATION_ADDRESSES", MAX_INVITATION_ADDRESSES as u64),
    ("MAX_RELAY_ADDRESS_LEN", MAX_RELAY_ADDRESS_LEN as u64),
];
