//! Every message between a client and the relay.
//!
//! A client sends [`Request`]s; the relay answers each with a [`RelayMessage::Response`]
//! or a [`RelayMessage::Failure`] carrying the same [`RequestId`], and pushes
//! [`RelayMessage::Event`]s: log and content events to the stream that subscribed,
//! `WelcomeAvailable` to the recipient device's connections. Each message travels in one
//! frame (see [`crate::frame`]). The normative description of every message, with what
//! the relay learns from it, is `protocol-spec/messages.md`.

use crate::access::{AccessToken, EpochVerifier, InvitationToken};
use crate::auth::{ChallengeNonce, DevicePublicKey, DeviceSignature};
use crate::codec::{BoundedVec, Reader, Wire, bounded_bytes, wire_enum, wire_struct, wire_tag_enum};
use crate::ids::{
    AccountId, ByteCount, ChunkOffset, ChunkRef, ContentId, ContentSeq, DeviceId, Epoch, ForgetKey, GroupId, InboxSeq,
    PageLimit, RequestId, Seq, UnixSeconds,
};
use crate::{Error, limits};

// ---------------------------------------------------------------------------------------
// Opaque payloads. The relay stores and forwards them; it cannot read them.

bounded_bytes!(
    /// An MLS message (RFC 9420 `MLSMessage`) holding a PrivateMessage: an application
    /// message, a proposal or a commit. Opaque to the relay.
    pub struct MlsMessageBytes(max = limits::MAX_MLS_MESSAGE_LEN, what = "MLS message");
);

bounded_bytes!(
    /// A key package as the relay stores it: an MLS `MLSMessage` holding a KeyPackage,
    /// sealed by its device (it carries the device's certificate, which names the
    /// person) so that only someone holding that certificate opens it. It begins with
    /// [`SEALED_KEY_PACKAGE_TAG`]; the relay refuses any other.
    pub struct KeyPackageBytes(max = limits::MAX_KEY_PACKAGE_LEN, what = "key package");
);

/// The first byte of every key package the relay stores: the client's sealed form.
/// An MLS `MLSMessage` begins with its version (`0x00 0x01`), so a package sent in clear,
/// which would show the relay a person's name, is told apart and refused.
pub const SEALED_KEY_PACKAGE_TAG: u8 = 0xC5;

impl KeyPackageBytes {
    /// Whether it is in the sealed form (begins with [`SEALED_KEY_PACKAGE_TAG`]).
    pub fn is_sealed(&self) -> bool {
        self.as_bytes().first() == Some(&SEALED_KEY_PACKAGE_TAG)
    }
}

bounded_bytes!(
    /// An MLS `MLSMessage` holding a Welcome.
    pub struct WelcomeBytes(max = limits::MAX_MLS_MESSAGE_LEN, what = "Welcome");
);

bounded_bytes!(
    /// A content record sealed under the group's history key. Opaque to the relay.
    pub struct ContentRecordBytes(max = limits::MAX_CONTENT_RECORD_LEN, what = "content record");
);

bounded_bytes!(
    /// A small content record pushed inside an event, as stored.
    pub struct PushedRecordBytes(max = limits::MAX_PUSHED_RECORD_LEN, what = "pushed content record");
);

bounded_bytes!(
    /// A short-lived message for a group's other members (a cursor, who is reading
    /// what), sealed by its author. The relay forwards it and never stores it.
    pub struct SignalBytes(max = limits::MAX_SIGNAL_LEN, what = "signal");
);

bounded_bytes!(
    /// A contiguous piece of a chunk's ciphertext.
    pub struct ChunkPiece(max = limits::MAX_CHUNK_PIECE_LEN, what = "chunk piece");
);

// ---------------------------------------------------------------------------------------
// Shared building blocks.

wire_struct!(
    /// Proof of membership in `group` at `epoch`, presented with every group request.
    pub struct GroupAccess {
        /// The group.
        pub group: GroupId,
        /// The epoch the token belongs to.
        pub epoch: Epoch,
        /// The epoch's access token (a secret, redacted in `Debug`).
        pub token: AccessToken,
    }
);

wire_tag_enum!(
    /// What a log entry holds, as declared by its sender.
    pub enum EntryKind(what = "entry kind") {
        /// An application message or a proposal.
        Message = 1,
        /// A commit, which closes the entry's epoch.
        Commit = 2,
    }
);

wire_tag_enum!(
    /// How long a group's application messages and proposals stay at the relay.
    pub enum LogRetention(what = "log retention") {
        /// Until the group is gone: the group's content lives in the content store, and
        /// its messages carry history keys that late readers need.
        Keep = 1,
        /// Until the relay's message retention period has passed since they arrived
        /// (a `history: none` space, whose content lives only in MLS messages).
        /// Commits are kept.
        Expire = 2,
    }
);

wire_tag_enum!(
    /// Which kind of key package a claim returned.
    pub enum KeyPackageKind(what = "key package kind") {
        /// A one-time package, deleted when claimed.
        OneTime = 1,
        /// The device's last-resort package, returned when no one-time package is left
        /// and kept for later claims.
        LastResort = 2,
    }
);

wire_tag_enum!(
    /// Why a log page ended.
    pub enum LogPageEnd(what = "log page end") {
        /// The page is full; fetch again from `next`.
        More = 1,
        /// The client has every entry of the current epoch.
        UpToDate = 2,
        /// The last entry is the commit that closed this epoch: process it, then read
        /// on with the next epoch's token.
        EpochClosed = 3,
    }
);

wire_tag_enum!(
    /// Which relay limit a request ran into.
    pub enum LimitKind(what = "limit kind") {
        /// Key packages stored for one device.
        KeyPackages = 1,
        /// Welcomes waiting in one device's inbox.
        WelcomeInbox = 2,
        /// Devices of one account.
        Devices = 3,
        /// A chunk's total length is above the relay's chunk-size policy.
        ChunkSize = 4,
        /// Groups subscribed on one connection.
        Subscriptions = 5,
        /// Unfinished chunk uploads started on one connection.
        PendingUploads = 6,
        /// Requests in flight on one connection.
        InFlight = 7,
        /// Connections of one account open at once.
        Connections = 8,
    }
);

// ---------------------------------------------------------------------------------------
// Requests.

wire_struct!(
    /// One request from a client.
    pub struct Request {
        /// Chosen by the client; echoed in the response.
        pub id: RequestId,
        /// What is asked.
        pub body: RequestBody,
    }
);

wire_enum!(
    /// Everything a client can ask of the relay.
    pub enum RequestBody(what = "request") {
        /// Ask for a challenge to sign. Answer: [`ResponseBody::Challenge`].
        0x01 => GetChallenge(GetChallenge),
        /// Redeem an invitation. Answer: [`ResponseBody::AccountCreated`].
        0x02 => CreateAccount(CreateAccount),
        /// Log a device in. Answer: [`ResponseBody::Authenticated`].
        0x03 => Authenticate(Authenticate),
        /// Register another device of the same account. Answer: [`ResponseBody::DeviceAdded`].
        0x04 => AddDevice(AddDevice),
        /// Revoke a device of the same account. Answer: [`ResponseBody::DeviceRevoked`].
        0x05 => RevokeDevice(RevokeDevice),
        /// List the account's devices. Answer: [`ResponseBody::DeviceList`].
        0x06 => ListDevices(ListDevices),
        /// The account's storage use. Answer: [`ResponseBody::Usage`].
        0x07 => GetUsage(GetUsage),
        /// Liveness check. Answer: [`ResponseBody::Pong`].
        0x08 => Ping(Ping),
        /// Log an existing device in, in one round trip: no challenge, the signature
        /// bound to the connection by its TLS exporter alone. Answer:
        /// [`ResponseBody::Authenticated`].
        0x09 => SignIn(SignIn),
        /// Store key packages. Answer: [`ResponseBody::KeyPackageStatus`].
        0x10 => UploadKeyPackages(UploadKeyPackages),
        /// Claim one key package per device. Answer: [`ResponseBody::ClaimedKeyPackages`].
        0x11 => ClaimKeyPackages(ClaimKeyPackages),
        /// How many of this device's packages remain. Answer: [`ResponseBody::KeyPackageStatus`].
        0x12 => GetKeyPackageStatus(GetKeyPackageStatus),
        /// Leave a Welcome in devices' inboxes. Answer: [`ResponseBody::WelcomeDeposited`].
        0x18 => DepositWelcome(DepositWelcome),
        /// Read this device's inbox. Answer: [`ResponseBody::Welcomes`].
        0x19 => FetchWelcomes(FetchWelcomes),
        /// Delete read Welcomes. Answer: [`ResponseBody::WelcomesAcked`].
        0x1a => AckWelcomes(AckWelcomes),
        /// Create a group's log at epoch 0. Answer: [`ResponseBody::GroupCreated`].
        0x20 => CreateGroup(CreateGroup),
        /// Append an application message or proposal. Answer: [`ResponseBody::Appended`].
        0x21 => AppendMessage(AppendMessage),
        /// Submit the commit that closes the current epoch. Answer: [`ResponseBody::CommitAccepted`].
        0x22 => SubmitCommit(SubmitCommit),
        /// Read a group's log. Answer: [`ResponseBody::LogPage`].
        0x23 => FetchLog(FetchLog),
        /// Ask for push events. Answer: [`ResponseBody::Subscribed`].
        0x24 => Subscribe(Subscribe),
        /// Stop push events. Answer: [`ResponseBody::Unsubscribed`].
        0x25 => Unsubscribe(Unsubscribe),
        /// Forward a short-lived message to the group's other subscribers, storing
        /// nothing. Answer: [`ResponseBody::Signalled`].
        0x26 => Signal(Signal),
        /// Read several groups' logs and content stores at once. Answer:
        /// [`ResponseBody::Fetched`].
        0x27 => FetchMany(FetchMany),
        /// Store a content record. Answer: [`ResponseBody::ContentStored`].
        0x28 => PutContent(PutContent),
        /// Read content records. Answer: [`ResponseBody::ContentPage`].
        0x29 => FetchContent(FetchContent),
        /// Replace a record by its tombstone. Answer: [`ResponseBody::ContentForgotten`].
        0x2a => ForgetContent(ForgetContent),
        /// Upload a piece of a chunk. Answer: [`ResponseBody::ChunkStatus`].
        0x30 => PutChunk(PutChunk),
        /// How much of a chunk the relay holds. Answer: [`ResponseBody::ChunkStatus`].
        0x31 => GetChunkStatus(GetChunkStatus),
        /// Download a piece of a chunk. Answer: [`ResponseBody::ChunkData`].
        0x32 => GetChunk(GetChunk),
    }
);

wire_struct!(
    /// Ask for a fresh [`ChallengeNonce`].
    pub struct GetChallenge {}
);

wire_struct!(
    /// Open an account with an operator-issued invitation and log in its first device.
    pub struct CreateAccount {
        /// The invitation (a secret; single use).
        pub invitation: InvitationToken,
        /// The first device's authentication key.
        pub device_key: DevicePublicKey,
        /// [`crate::auth::sign_device_auth`] with `AuthPurpose::CreateAccount`.
        pub signature: DeviceSignature,
    }
);

wire_struct!(
    /// Log in a registered device on this connection.
    pub struct Authenticate {
        /// The device (derived from its key).
        pub device: DeviceId,
        /// [`crate::auth::sign_device_auth`] with `AuthPurpose::Authenticate`.
        pub signature: DeviceSignature,
    }
);

wire_struct!(
    /// Log an existing device in without a challenge: its signature over this
    /// connection's exporter, purpose 3 and the nonce `ChallengeNonce::NONE`.
    pub struct SignIn {
        /// The device.
        pub device: DeviceId,
        /// Its signature.
        pub signature: DeviceSignature,
    }
);

wire_struct!(
    /// Register a new device of the authenticated device's account.
    pub struct AddDevice {
        /// The new device's authentication key.
        pub device_key: DevicePublicKey,
        /// [`crate::auth::sign_device_link`] by the new device.
        pub possession: DeviceSignature,
    }
);

wire_struct!(
    /// Revoke a device of the authenticated device's account, for good.
    pub struct RevokeDevice {
        /// The device to revoke (it may be the caller itself).
        pub device: DeviceId,
    }
);

wire_struct!(
    /// List the authenticated account's devices.
    pub struct ListDevices {}
);

wire_struct!(
    /// Ask for the authenticated account's storage use.
    pub struct GetUsage {}
);

wire_struct!(
    /// Liveness check, for transports without their own keep-alive.
    pub struct Ping {}
);

wire_struct!(
    /// Store key packages for the authenticated device.
    pub struct UploadKeyPackages {
        /// One-time packages, added to those stored.
        pub one_time: BoundedVec<KeyPackageBytes, { limits::MAX_KEY_PACKAGES_PER_UPLOAD }>,
        /// A last-resort package, replacing the stored one.
        pub last_resort: Option<KeyPackageBytes>,
    }
);

wire_struct!(
    /// Claim one key package for each listed device.
    pub struct ClaimKeyPackages {
        /// The devices to add to a group.
        pub devices: BoundedVec<DeviceId, { limits::MAX_CLAIM_BATCH }>,
    }
);

wire_struct!(
    /// Ask how many key packages the authenticated device has left.
    pub struct GetKeyPackageStatus {}
);

wire_struct!(
    /// Leave one Welcome in the inbox of every recipient device.
    pub struct DepositWelcome {
        /// The devices the Welcome admits.
        pub recipients: BoundedVec<DeviceId, { limits::MAX_WELCOME_RECIPIENTS }>,
        /// The MLS Welcome.
        pub welcome: WelcomeBytes,
    }
);

wire_struct!(
    /// Read the authenticated device's inbox, oldest first.
    pub struct FetchWelcomes {
        /// Start after this inbox position (`None`: from the oldest).
        pub after: Option<InboxSeq>,
        /// At most this many Welcomes.
        pub limit: PageLimit,
    }
);

wire_struct!(
    /// Delete every Welcome in the authenticated device's inbox up to and including a
    /// position.
    pub struct AckWelcomes {
        /// The last position processed.
        pub up_to: InboxSeq,
    }
);

wire_struct!(
    /// Create a group's log, at epoch 0.
    pub struct CreateGroup {
        /// The new group's id.
        pub group: GroupId,
        /// The verifier of epoch 0's access token.
        pub verifier: EpochVerifier,
        /// How long its messages stay.
        pub retention: LogRetention,
    }
);

wire_struct!(
    /// Append an application message or proposal to a group's log in the current epoch.
    pub struct AppendMessage {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The MLS message.
        pub message: MlsMessageBytes,
    }
);

wire_struct!(
    /// Submit the commit that closes the current epoch.
    pub struct SubmitCommit {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The MLS commit (a PrivateMessage).
        pub commit: MlsMessageBytes,
        /// The verifier of the next epoch's access token.
        pub next_verifier: EpochVerifier,
    }
);

wire_struct!(
    /// Read the entries of one epoch of a group's log, from a sequence number.
    pub struct FetchLog {
        /// Access to the group in the epoch to read.
        pub access: GroupAccess,
        /// The first sequence number wanted.
        pub from: Seq,
        /// At most this many entries.
        pub limit: PageLimit,
    }
);

wire_struct!(
    /// Ask for [`Event::LogAdvanced`] and [`Event::ContentAdvanced`] on these groups.
    pub struct Subscribe {
        /// Access to each group in its current epoch.
        pub groups: BoundedVec<GroupAccess, { limits::MAX_SUBSCRIBE_GROUPS }>,
    }
);

wire_struct!(
    /// Stop push events for these groups on this connection.
    pub struct Unsubscribe {
        /// The groups.
        pub groups: BoundedVec<GroupId, { limits::MAX_SUBSCRIBE_GROUPS }>,
    }
);

wire_struct!(
    /// Forward a short-lived message to every other connection subscribed to the
    /// group ([`Event::Signal`]). The relay stores nothing of it and counts it against
    /// no quota; it bounds the rate instead.
    pub struct Signal {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The sealed message.
        pub payload: SignalBytes,
    }
);

wire_struct!(
    /// Store a history-key–sealed content record.
    pub struct PutContent {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The record's id, chosen by its author; a resend with the same bytes is stored
        /// once.
        pub record: ContentId,
        /// The sealed record.
        pub sealed: ContentRecordBytes,
    }
);

wire_struct!(
    /// Read content records from a position.
    pub struct FetchContent {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The first position wanted.
        pub from: ContentSeq,
        /// At most this many records.
        pub limit: PageLimit,
    }
);

wire_struct!(
    /// Forget a record: the relay keeps a tombstone in its place ([`tombstone`]), so
    /// positions stay dense and every reader sees what was forgotten and by whom it
    /// could be (the holder of the key whose hash is the record's id).
    pub struct ForgetContent {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The record.
        pub record: ContentId,
        /// Its key: [`ForgetKey::record`] in the group must be `record`.
        pub key: ForgetKey,
    }
);

/// The first byte of a tombstone's `sealed` bytes; a sealed record never begins so.
pub const TOMBSTONE_TAG: u8 = 0x00;

/// What the relay keeps in a forgotten record's place, as its `sealed` bytes:
/// [`TOMBSTONE_TAG`] then the key.
pub fn tombstone(key: &ForgetKey) -> ContentRecordBytes {
    let mut bytes = Vec::with_capacity(1 + ForgetKey::LEN);
    bytes.push(TOMBSTONE_TAG);
    bytes.extend_from_slice(key.as_bytes());
    // 33 bytes, far inside the bound.
    ContentRecordBytes::new(bytes).unwrap_or_else(|_| unreachable!("a tombstone is 33 bytes"))
}

/// The key in `sealed` if it is a tombstone for `record` in `group` (the key's record
/// is the id): `None` for a record, `Some(Err(()))` for a tombstone that does not match
/// its id, which no honest relay serves.
pub fn read_tombstone(group: &GroupId, record: &ContentId, sealed: &[u8]) -> Option<Result<ForgetKey, ()>> {
    if sealed.first() != Some(&TOMBSTONE_TAG) {
        return None;
    }
    let key = sealed.get(1..).and_then(|rest| <[u8; ForgetKey::LEN]>::try_from(rest).ok()).map(ForgetKey::from_bytes);
    Some(key.filter(|key| key.record(group) == *record).ok_or(()))
}

wire_struct!(
    /// Several reads in one round trip: what a device does when it comes back after a
    /// while, for every space at once instead of one after the other.
    pub struct FetchMany {
        /// The reads, answered in this order.
        pub items: BoundedVec<FetchItem, { limits::MAX_FETCH_ITEMS }>,
    }
);

wire_enum!(
    /// One read of a [`FetchMany`], checked and answered as its own request would be.
    pub enum FetchItem(what = "fetch item") {
        /// As [`FetchLog`].
        0x01 => Log(FetchLog),
        /// As [`FetchContent`].
        0x02 => Content(FetchContent),
    }
);

wire_struct!(
    /// The answers to a [`FetchMany`], one per item, in the items' order.
    pub struct Fetched {
        /// The answers.
        pub results: BoundedVec<FetchResult, { limits::MAX_FETCH_ITEMS }>,
    }
);

wire_struct!(
    /// No room was left in this answer for an item: ask for it again.
    pub struct Deferred {}
);

wire_enum!(
    /// The answer to one item of a [`FetchMany`].
    pub enum FetchResult(what = "fetch result") {
        /// To a [`FetchItem::Log`].
        0x01 => Log(LogPage),
        /// To a [`FetchItem::Content`].
        0x02 => Content(ContentPage),
        /// The item was refused, as its own request would have been (the others are
        /// answered all the same).
        0x03 => Refused(RelayError),
        /// Not read: the answer was full.
        0x04 => Deferred(Deferred),
    }
);

wire_struct!(
    /// Upload bytes `offset .. offset + data.len()` of a chunk.
    pub struct PutChunk {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The chunk (SHA-256 of its whole ciphertext).
        pub chunk: ChunkRef,
        /// The chunk's whole length; the same in every piece.
        pub total_len: ChunkOffset,
        /// Where this piece starts: the `received` the relay last reported.
        pub offset: ChunkOffset,
        /// The piece.
        pub data: ChunkPiece,
    }
);

wire_struct!(
    /// Ask how much of a chunk the relay holds, to resume an upload.
    pub struct GetChunkStatus {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The chunk.
        pub chunk: ChunkRef,
    }
);

wire_struct!(
    /// Download part of a complete chunk, from an offset.
    pub struct GetChunk {
        /// Access to the group in its current epoch.
        pub access: GroupAccess,
        /// The chunk.
        pub chunk: ChunkRef,
        /// The first byte wanted.
        pub offset: ChunkOffset,
        /// At most this many bytes (at most [`limits::MAX_CHUNK_PIECE_LEN`] are sent).
        pub max_len: ChunkOffset,
    }
);

// ---------------------------------------------------------------------------------------
// Relay messages.

wire_enum!(
    /// Everything the relay sends.
    pub enum RelayMessage(what = "relay message") {
        /// A successful answer.
        0x01 => Response(Response),
        /// A refusal.
        0x02 => Failure(Failure),
        /// A pushed event.
        0x03 => Event(Event),
    }
);

wire_struct!(
    /// The successful answer to the request with the same id.
    pub struct Response {
        /// The request answered.
        pub id: RequestId,
        /// The answer.
        pub body: ResponseBody,
    }
);

wire_struct!(
    /// The refusal of the request with the same id. The request changed nothing.
    pub struct Failure {
        /// The request refused.
        pub id: RequestId,
        /// Why.
        pub error: RelayError,
    }
);

wire_enum!(
    /// Every successful answer.
    pub enum ResponseBody(what = "response") {
        /// To [`RequestBody::GetChallenge`].
        0x01 => Challenge(Challenge),
        /// To [`RequestBody::CreateAccount`].
        0x02 => AccountCreated(AccountCreated),
        /// To [`RequestBody::Authenticate`].
        0x03 => Authenticated(Authenticated),
        /// To [`RequestBody::AddDevice`].
        0x04 => DeviceAdded(DeviceAdded),
        /// To [`RequestBody::RevokeDevice`].
        0x05 => DeviceRevoked(DeviceRevoked),
        /// To [`RequestBody::ListDevices`].
        0x06 => DeviceList(DeviceList),
        /// To [`RequestBody::GetUsage`].
        0x07 => Usage(Usage),
        /// To [`RequestBody::Ping`].
        0x08 => Pong(Pong),
        /// To [`RequestBody::UploadKeyPackages`] and [`RequestBody::GetKeyPackageStatus`].
        0x10 => KeyPackageStatus(KeyPackageStatus),
        /// To [`RequestBody::ClaimKeyPackages`].
        0x11 => ClaimedKeyPackages(ClaimedKeyPackages),
        /// To [`RequestBody::DepositWelcome`].
        0x18 => WelcomeDeposited(WelcomeDeposited),
        /// To [`RequestBody::FetchWelcomes`].
        0x19 => Welcomes(Welcomes),
        /// To [`RequestBody::AckWelcomes`].
        0x1a => WelcomesAcked(WelcomesAcked),
        /// To [`RequestBody::CreateGroup`].
        0x20 => GroupCreated(GroupCreated),
        /// To [`RequestBody::AppendMessage`].
        0x21 => Appended(Appended),
        /// To [`RequestBody::SubmitCommit`].
        0x22 => CommitAccepted(CommitAccepted),
        /// To [`RequestBody::FetchLog`].
        0x23 => LogPage(LogPage),
        /// To [`RequestBody::Subscribe`].
        0x24 => Subscribed(Subscribed),
        /// To [`RequestBody::Unsubscribe`].
        0x25 => Unsubscribed(Unsubscribed),
        /// To [`RequestBody::Signal`].
        0x26 => Signalled(Signalled),
        /// To [`RequestBody::FetchMany`].
        0x27 => Fetched(Fetched),
        /// To [`RequestBody::PutContent`].
        0x28 => ContentStored(ContentStored),
        /// To [`RequestBody::FetchContent`].
        0x29 => ContentPage(ContentPage),
        /// To [`RequestBody::ForgetContent`].
        0x2a => ContentForgotten(ContentForgotten),
        /// To [`RequestBody::PutChunk`] and [`RequestBody::GetChunkStatus`].
        0x30 => ChunkStatus(ChunkStatus),
        /// To [`RequestBody::GetChunk`].
        0x32 => ChunkData(ChunkData),
    }
);

wire_struct!(
    /// A nonce to sign, valid for one authentication on this connection.
    pub struct Challenge {
        /// The nonce.
        pub nonce: ChallengeNonce,
    }
);

wire_struct!(
    /// The account exists and this connection is authenticated as its first device.
    pub struct AccountCreated {
        /// The new account.
        pub account: AccountId,
        /// The device, as derived from its key.
        pub device: DeviceId,
    }
);

wire_struct!(
    /// This connection is authenticated.
    pub struct Authenticated {
        /// The device's account.
        pub account: AccountId,
    }
);

wire_struct!(
    /// The new device is registered and may authenticate.
    pub struct DeviceAdded {
        /// Its id, as derived from its key.
        pub device: DeviceId,
    }
);

wire_struct!(
    /// The device is revoked; its key is refused from now on.
    pub struct DeviceRevoked {}
);

wire_struct!(
    /// One registered device of an account.
    pub struct DeviceRecord {
        /// Its id.
        pub device: DeviceId,
        /// Its authentication key.
        pub device_key: DevicePublicKey,
        /// When it was registered, by the relay's clock.
        pub registered_at: UnixSeconds,
    }
);

wire_struct!(
    /// The account's devices that are not revoked.
    pub struct DeviceList {
        /// The devices.
        pub devices: BoundedVec<DeviceRecord, { limits::MAX_DEVICES_PER_ACCOUNT }>,
    }
);

wire_struct!(
    /// The account's storage use against its quota.
    pub struct Usage {
        /// Bytes counted against the account.
        pub used: ByteCount,
        /// The account's quota.
        pub quota: ByteCount,
    }
);

wire_struct!(
    /// The answer to [`Ping`].
    pub struct Pong {}
);

wire_struct!(
    /// The authenticated device's key packages at the relay.
    pub struct KeyPackageStatus {
        /// One-time packages left to claim.
        pub one_time_left: u32,
        /// Whether a last-resort package is stored.
        pub has_last_resort: bool,
    }
);

wire_struct!(
    /// A claimed key package.
    pub struct ClaimedPackage {
        /// One-time or last-resort.
        pub kind: KeyPackageKind,
        /// The package.
        pub package: KeyPackageBytes,
    }
);

wire_struct!(
    /// The outcome of a claim for one device.
    pub struct DeviceClaim {
        /// The device.
        pub device: DeviceId,
        /// Its package, or `None` if it has neither a one-time nor a last-resort one.
        pub package: Option<ClaimedPackage>,
    }
);

wire_struct!(
    /// One outcome per claimed device, in request order.
    pub struct ClaimedKeyPackages {
        /// The outcomes.
        pub claims: BoundedVec<DeviceClaim, { limits::MAX_CLAIM_BATCH }>,
    }
);

wire_struct!(
    /// The Welcome is in every recipient's inbox.
    pub struct WelcomeDeposited {}
);

wire_struct!(
    /// One Welcome waiting in an inbox.
    pub struct InboxEntry {
        /// Its position in the inbox.
        pub position: InboxSeq,
        /// The MLS Welcome.
        pub welcome: WelcomeBytes,
    }
);

wire_struct!(
    /// A page of the inbox, oldest first.
    pub struct Welcomes {
        /// The Welcomes.
        pub entries: BoundedVec<InboxEntry, { limits::MAX_INBOX_PAGE }>,
        /// Whether more are waiting after the last one.
        pub more: bool,
    }
);

wire_struct!(
    /// The acknowledged Welcomes are deleted.
    pub struct WelcomesAcked {}
);

wire_struct!(
    /// The group's log exists at epoch 0.
    pub struct GroupCreated {}
);

wire_struct!(
    /// The message is in the log.
    pub struct Appended {
        /// Its position.
        pub seq: Seq,
    }
);

wire_struct!(
    /// The commit is in the log and the group is in the next epoch.
    pub struct CommitAccepted {
        /// The commit's position.
        pub seq: Seq,
        /// The group's epoch now.
        pub epoch: Epoch,
    }
);

wire_struct!(
    /// One entry of a group's log.
    pub struct LogEntry {
        /// Its position.
        pub seq: Seq,
        /// What its sender declared it to be.
        pub kind: EntryKind,
        /// The MLS message.
        pub message: MlsMessageBytes,
    }
);

wire_struct!(
    /// Entries of one epoch, in log order.
    pub struct LogPage {
        /// The entries.
        pub entries: BoundedVec<LogEntry, { limits::MAX_PAGE_ENTRIES }>,
        /// The sequence number to fetch from next.
        pub next: Seq,
        /// Why the page ended.
        pub end: LogPageEnd,
    }
);

wire_struct!(
    /// Push events will come for the accepted groups.
    pub struct Subscribed {
        /// Groups whose token was refused (stale epoch, wrong token or no such group).
        pub refused: BoundedVec<GroupId, { limits::MAX_SUBSCRIBE_GROUPS }>,
    }
);

wire_struct!(
    /// Push events for those groups have stopped.
    pub struct Unsubscribed {}
);

wire_struct!(
    /// The signal was handed to the group's other subscribers (those whose queues had
    /// room); nothing was stored.
    pub struct Signalled {}
);

wire_struct!(
    /// The record is stored (or was already, with the same bytes).
    pub struct ContentStored {
        /// Its position.
        pub seq: ContentSeq,
    }
);

wire_struct!(
    /// The record is forgotten (or was already): a tombstone is at its position.
    pub struct ContentForgotten {
        /// Its position.
        pub seq: ContentSeq,
    }
);

wire_struct!(
    /// A stored content record.
    pub struct ContentRecord {
        /// Its position.
        pub seq: ContentSeq,
        /// Its id.
        pub record: ContentId,
        /// The sealed record.
        pub sealed: ContentRecordBytes,
    }
);

wire_struct!(
    /// Records in position order.
    pub struct ContentPage {
        /// The records.
        pub records: BoundedVec<ContentRecord, { limits::MAX_PAGE_ENTRIES }>,
        /// Whether more records follow the last one.
        pub more: bool,
    }
);

wire_struct!(
    /// How much of a chunk the relay holds. The chunk is complete, and its hash
    /// checked, when `received == total_len`.
    pub struct ChunkStatus {
        /// The chunk's whole length.
        pub total_len: ChunkOffset,
        /// Bytes held, from the start.
        pub received: ChunkOffset,
    }
);

wire_struct!(
    /// Part of a complete chunk.
    pub struct ChunkData {
        /// The chunk's whole length.
        pub total_len: ChunkOffset,
        /// Where `data` starts.
        pub offset: ChunkOffset,
        /// The bytes.
        pub data: ChunkPiece,
    }
);

// ---------------------------------------------------------------------------------------
// Push events.

wire_enum!(
    /// What the relay pushes to subscribed connections.
    pub enum Event(what = "event") {
        /// New entries in a group's log.
        0x01 => LogAdvanced(LogAdvanced),
        /// New records in a group's content store.
        0x02 => ContentAdvanced(ContentAdvanced),
        /// A Welcome arrived in this device's inbox.
        0x03 => WelcomeAvailable(WelcomeAvailable),
        /// A short-lived message from another member's connection.
        0x04 => Signal(GroupSignal),
        /// A new, small record in a group's content store, carried whole.
        0x05 => ContentPushed(ContentPushed),
    }
);

wire_struct!(
    /// A group's log grew.
    pub struct LogAdvanced {
        /// The group.
        pub group: GroupId,
        /// The epoch of the newest entry.
        pub epoch: Epoch,
        /// The newest entry's position.
        pub latest: Seq,
    }
);

wire_struct!(
    /// A group's content store grew.
    pub struct ContentAdvanced {
        /// The group.
        pub group: GroupId,
        /// The newest record's position.
        pub latest: ContentSeq,
    }
);

wire_struct!(
    /// A group's content store grew by one small record, carried whole so that a
    /// watching device needs no read to show it. The same record as a `ContentPage`
    /// would serve at `seq`.
    pub struct ContentPushed {
        /// The group.
        pub group: GroupId,
        /// The record's position.
        pub seq: ContentSeq,
        /// Its id.
        pub record: ContentId,
        /// The sealed record.
        pub sealed: PushedRecordBytes,
    }
);

wire_struct!(
    /// This device has a new Welcome; fetch the inbox.
    pub struct WelcomeAvailable {}
);

wire_struct!(
    /// A signal another connection sent to a group this stream is subscribed to.
    pub struct GroupSignal {
        /// The group.
        pub group: GroupId,
        /// The sealed message, as sent.
        pub payload: SignalBytes,
    }
);

// ---------------------------------------------------------------------------------------
// Errors.

/// Why the relay refused a request. A refused request changed nothing, with two
/// exceptions the specification states: a failed authentication uses up its challenge,
/// and a completed chunk whose hash does not match is discarded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub enum RelayError {
    /// The request was malformed or inconsistent (tag 0x01).
    #[error("bad request")]
    BadRequest,
    /// The frame's protocol version is not spoken here (tag 0x02).
    #[error("unsupported protocol version; the relay speaks version {supported}")]
    UnsupportedVersion {
        /// The version the relay speaks.
        supported: u8,
    },
    /// The request needs an authenticated connection (tag 0x03).
    #[error("authenticate first")]
    AuthRequired,
    /// The signature, challenge or device was refused (unknown or revoked device,
    /// wrong or reused challenge) (tag 0x04).
    #[error("authentication failed")]
    AuthFailed,
    /// The invitation is unknown, used or expired (tag 0x05).
    #[error("invitation invalid, used or expired")]
    InvitationInvalid,
    /// The access token does not verify for that group and epoch (tag 0x06).
    #[error("access to the group refused")]
    Forbidden,
    /// No such device, chunk or upload. Unknown groups are answered with `Forbidden`,
    /// so that the relay does not confirm a group's existence to non-members (tag 0x07).
    #[error("not found")]
    NotFound,
    /// It exists already with other contents (tag 0x08).
    #[error("conflicts with what is stored")]
    Conflict,
    /// The epoch is not the group's current one (tag 0x09).
    #[error("stale epoch: the group is at epoch {current}, next sequence number {next_seq}")]
    StaleEpoch {
        /// The group's current epoch.
        current: Epoch,
        /// The sequence number the next entry will get.
        next_seq: Seq,
    },
    /// The account's storage quota would be exceeded (tag 0x0a).
    #[error("quota exceeded: {used} of {quota} bytes used")]
    QuotaExceeded {
        /// Bytes counted against the account.
        used: ByteCount,
        /// The quota.
        quota: ByteCount,
    },
    /// A relay limit was reached (tag 0x0b).
    #[error("limit reached: {limit:?}")]
    LimitExceeded {
        /// Which limit.
        limit: LimitKind,
    },
    /// Too many requests; retry later (tag 0x0c).
    #[error("rate limited; retry after {retry_after_ms} ms")]
    RateLimited {
        /// How long to wait, in milliseconds.
        retry_after_ms: u32,
    },
    /// The relay failed; the request may be retried (tag 0x0d).
    #[error("relay internal error")]
    Internal,
}

impl RelayError {
    /// Every variant's tag and name, in tag order.
    pub const TAGS: &'static [(u8, &'static str)] = &[
        (0x01, "BadRequest"),
        (0x02, "UnsupportedVersion"),
        (0x03, "AuthRequired"),
        (0x04, "AuthFailed"),
        (0x05, "InvitationInvalid"),
        (0x06, "Forbidden"),
        (0x07, "NotFound"),
        (0x08, "Conflict"),
        (0x09, "StaleEpoch"),
        (0x0a, "QuotaExceeded"),
        (0x0b, "LimitExceeded"),
        (0x0c, "RateLimited"),
        (0x0d, "Internal"),
    ];

    /// The tag this error is sent with.
    pub fn tag(&self) -> u8 {
        match self {
            Self::BadRequest => 0x01,
            Self::UnsupportedVersion { .. } => 0x02,
            Self::AuthRequired => 0x03,
            Self::AuthFailed => 0x04,
            Self::InvitationInvalid => 0x05,
            Self::Forbidden => 0x06,
            Self::NotFound => 0x07,
            Self::Conflict => 0x08,
            Self::StaleEpoch { .. } => 0x09,
            Self::QuotaExceeded { .. } => 0x0a,
            Self::LimitExceeded { .. } => 0x0b,
            Self::RateLimited { .. } => 0x0c,
            Self::Internal => 0x0d,
        }
    }
}

impl Wire for RelayError {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            Self::UnsupportedVersion { supported } => supported.encode(out),
            Self::StaleEpoch { current, next_seq } => {
                current.encode(out);
                next_seq.encode(out);
            }
            Self::QuotaExceeded { used, quota } => {
                used.encode(out);
                quota.encode(out);
            }
            Self::LimitExceeded { limit } => limit.encode(out),
            Self::RateLimited { retry_after_ms } => retry_after_ms.encode(out),
            Self::BadRequest
            | Self::AuthRequired
            | Self::AuthFailed
            | Self::InvitationInvalid
            | Self::Forbidden
            | Self::NotFound
            | Self::Conflict
            | Self::Internal => {}
        }
    }

    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(match reader.take_u8("relay error")? {
            0x01 => Self::BadRequest,
            0x02 => Self::UnsupportedVersion { supported: u8::decode(reader)? },
            0x03 => Self::AuthRequired,
            0x04 => Self::AuthFailed,
            0x05 => Self::InvitationInvalid,
            0x06 => Self::Forbidden,
            0x07 => Self::NotFound,
            0x08 => Self::Conflict,
            0x09 => Self::StaleEpoch { current: Epoch::decode(reader)?, next_seq: Seq::decode(reader)? },
            0x0a => Self::QuotaExceeded { used: ByteCount::decode(reader)?, quota: ByteCount::decode(reader)? },
            0x0b => Self::LimitExceeded { limit: LimitKind::decode(reader)? },
            0x0c => Self::RateLimited { retry_after_ms: u32::decode(reader)? },
            0x0d => Self::Internal,
            tag => {
                return Err(Error::UnknownTag { what: "relay error", tag });
            }
        })
    }
}
