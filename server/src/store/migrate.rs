//! Moving a relay from sled to PostgreSQL (`huisclos-relay migrate`): every row of the
//! sled store as a [`Record`], written into the database in one transaction, then read
//! back and compared, table by table, by count and by an order-independent digest
//! ([`Tally`]), before the sled store is moved aside.
//!
//! A record is what the protocol keeps, not how a backend lays it out: the rows each
//! backend derives (sled's resend and content-id indexes, its device list per account;
//! PostgreSQL's indexes) are not records, and are rebuilt by the target.

use sha2::{Digest, Sha256};

/// One thing the store keeps, in the terms both backends share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// The store's identity: store id (16) and relay pin (32).
    Identity(Vec<u8>),
    /// An invitation not used yet.
    Invitation {
        /// SHA-256 of its secret.
        digest: [u8; 32],
        /// Until when it is valid.
        expires_at: u64,
    },
    /// An account.
    Account {
        /// Its id.
        id: [u8; 16],
        /// Bytes reserved against its quota.
        usage: u64,
        /// Its active devices.
        devices: u32,
        /// Disabled by an operator.
        disabled: bool,
        /// Its own quota, if an operator set one.
        quota: Option<u64>,
    },
    /// A device.
    Device {
        /// Its id.
        id: [u8; 16],
        /// Its account.
        account: [u8; 16],
        /// Its key.
        key: [u8; 32],
        /// When it was registered.
        registered_at: u64,
        /// Whether it was revoked.
        revoked: bool,
    },
    /// A queue's bounds (`inbox` true: Welcomes, else one-time key packages).
    Queue {
        /// Which queue.
        inbox: bool,
        /// The device.
        device: [u8; 16],
        /// First position held.
        first: u64,
        /// Next position to give.
        next: u64,
    },
    /// A one-time key package.
    KeyPackage {
        /// The device.
        device: [u8; 16],
        /// Its place in the queue.
        slot: u64,
        /// The package.
        package: Vec<u8>,
    },
    /// A last-resort key package.
    LastResort {
        /// The device.
        device: [u8; 16],
        /// The package.
        package: Vec<u8>,
    },
    /// A Welcome waiting in an inbox.
    Welcome {
        /// The recipient.
        device: [u8; 16],
        /// Its position.
        position: u64,
        /// The Welcome.
        welcome: Vec<u8>,
    },
    /// A group's position.
    Group {
        /// Its id.
        id: [u8; 16],
        /// Current epoch.
        epoch: u64,
        /// Next log sequence number.
        next_seq: u64,
        /// Next content sequence number.
        next_content: u64,
        /// Whether its messages expire.
        expiring: bool,
    },
    /// An epoch's verifier and the sequence number of its first entry.
    Epoch {
        /// The group.
        group: [u8; 16],
        /// The epoch.
        epoch: u64,
        /// Its access verifier.
        verifier: [u8; 32],
        /// Where it starts in the log.
        first_seq: u64,
    },
    /// A log entry.
    Entry {
        /// The group.
        group: [u8; 16],
        /// Its sequence number.
        seq: u64,
        /// Its epoch.
        epoch: u64,
        /// Whether it is a commit.
        commit: bool,
        /// The MLS message.
        message: Vec<u8>,
        /// When it may be deleted, in an expiring group.
        expires_at: Option<u64>,
    },
    /// A content record.
    Content {
        /// The group.
        group: [u8; 16],
        /// Its sequence number.
        seq: u64,
        /// Its id.
        record: [u8; 16],
        /// The sealed record.
        sealed: Vec<u8>,
    },
    /// A chunk's upload.
    Chunk {
        /// The group.
        group: [u8; 16],
        /// Its reference.
        chunk: [u8; 32],
        /// Its announced length.
        total: u32,
        /// Bytes received.
        received: u32,
        /// Whether its hash was checked.
        verified: bool,
        /// When it last made progress (hour).
        progressed: u64,
    },
    /// A piece of a chunk.
    Piece {
        /// The group.
        group: [u8; 16],
        /// The chunk.
        chunk: [u8; 32],
        /// Where it starts.
        start: u32,
        /// Its bytes.
        bytes: Vec<u8>,
    },
}

/// The kinds of record, in the order a [`Tally`] reports them.
pub const KINDS: [&str; 13] = [
    "identity",
    "invitations",
    "accounts",
    "devices",
    "queues",
    "key packages",
    "last-resort packages",
    "welcomes",
    "groups",
    "epochs",
    "log entries",
    "content records",
    "chunks and pieces",
];

impl Record {
    fn kind(&self) -> usize {
        match self {
            Self::Identity(_) => 0,
            Self::Invitation { .. } => 1,
            Self::Account { .. } => 2,
            Self::Device { .. } => 3,
            Self::Queue { .. } => 4,
            Self::KeyPackage { .. } => 5,
            Self::LastResort { .. } => 6,
            Self::Welcome { .. } => 7,
            Self::Group { .. } => 8,
            Self::Epoch { .. } => 9,
            Self::Entry { .. } => 10,
            Self::Content { .. } => 11,
            Self::Chunk { .. } | Self::Piece { .. } => 12,
        }
    }

    /// Every field, unambiguously (each part length-prefixed): what the digest covers.
    fn canonical(&self) -> Vec<u8> {
        let mut out = vec![self.kind() as u8];
        let mut put = |part: &[u8]| {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part);
        };
        let n = |n: u64| n.to_be_bytes();
        match self {
            Self::Identity(bytes) => put(bytes),
            Self::Invitation { digest, expires_at } => {
                put(digest);
                put(&n(*expires_at));
            }
            Self::Account { id, usage, devices, disabled, quota } => {
                put(id);
                put(&n(*usage));
                put(&n(u64::from(*devices)));
                put(&[u8::from(*disabled)]);
                put(&quota.map_or(vec![], |q| n(q).to_vec()));
            }
            Self::Device { id, account, key, registered_at, revoked } => {
                put(id);
                put(account);
                put(key);
                put(&n(*registered_at));
                put(&[u8::from(*revoked)]);
            }
            Self::Queue { inbox, device, first, next } => {
                put(&[u8::from(*inbox)]);
                put(device);
                put(&n(*first));
                put(&n(*next));
            }
            Self::KeyPackage { device, slot, package } => {
                put(device);
                put(&n(*slot));
                put(package);
            }
            Self::LastResort { device, package } => {
                put(device);
                put(package);
            }
            Self::Welcome { device, position, welcome } => {
                put(device);
                put(&n(*position));
                put(welcome);
            }
            Self::Group { id, epoch, next_seq, next_content, expiring } => {
                put(id);
                put(&n(*epoch));
                put(&n(*next_seq));
                put(&n(*next_content));
                put(&[u8::from(*expiring)]);
            }
            Self::Epoch { group, epoch, verifier, first_seq } => {
                put(group);
                put(&n(*epoch));
                put(verifier);
                put(&n(*first_seq));
            }
            Self::Entry { group, seq, epoch, commit, message, expires_at } => {
                put(group);
                put(&n(*seq));
                put(&n(*epoch));
                put(&[u8::from(*commit)]);
                put(message);
                put(&expires_at.map_or(vec![], |at| n(at).to_vec()));
            }
            Self::Content { group, seq, record, sealed } => {
                put(group);
                put(&n(*seq));
                put(record);
                put(sealed);
            }
            Self::Chunk { group, chunk, total, received, verified, progressed } => {
                put(b"chunk");
                put(group);
                put(chunk);
                put(&n(u64::from(*total)));
                put(&n(u64::from(*received)));
                put(&[u8::from(*verified)]);
                put(&n(*progressed));
            }
            Self::Piece { group, chunk, start, bytes } => {
                put(b"piece");
                put(group);
                put(chunk);
                put(&n(u64::from(*start)));
                put(bytes);
            }
        }
        out
    }
}

/// How many records of each kind, and an order-independent digest of them: the sum,
/// lane by lane, of each record's SHA-256. Two stores that hold the same records, in
/// any order, have the same tally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: [u64; KINDS.len()],
    sums: [[u64; 4]; KINDS.len()],
}

impl Tally {
    /// Counts one record.
    pub fn add(&mut self, record: &Record) {
        let kind = record.kind();
        self.counts[kind] += 1;
        let hash = Sha256::digest(record.canonical());
        for (lane, sum) in hash.chunks_exact(8).zip(self.sums[kind].iter_mut()) {
            let mut word = [0u8; 8];
            word.copy_from_slice(lane);
            *sum = sum.wrapping_add(u64::from_be_bytes(word));
        }
    }

    /// The kinds whose count or digest differ from `other`'s, with both counts.
    pub fn differences(&self, other: &Self) -> Vec<(&'static str, u64, u64)> {
        (0..KINDS.len())
            .filter(|&k| self.counts[k] != other.counts[k] || self.sums[k] != other.sums[k])
            .map(|k| (KINDS[k], self.counts[k], other.counts[k]))
            .collect()
    }

    /// Every kind with its count, in words.
    pub fn summary(&self) -> String {
        KINDS.iter().zip(self.counts).map(|(kind, n)| format!("{n} {kind}")).collect::<Vec<_>>().join(", ")
    }
}
