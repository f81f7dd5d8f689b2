//! Typed identifiers and counters, so that a sequence number can never be passed where
//! an epoch is expected.

use crate::codec::{Reader, VARINT_MAX, Wire, put_varint};
use crate::{Error, limits};

/// Defines a fixed-size identifier that travels as its raw bytes.
macro_rules! fixed_id {
    ($(#[$meta:meta])* $name:ident, $len:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
        pub struct $name([u8; $len]);

        impl $name {
            /// The length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl Wire for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
            fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
                Ok(Self(reader.take_array(stringify!($name))?))
            }
        }
    };
}

/// Defines a counter that travels as a varint, so at most 2^62 - 1.
macro_rules! varint_counter {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u64);

        impl $name {
            /// Zero, the first value.
            pub const ZERO: Self = Self(0);
            /// The largest value the wire can carry, 2^62 - 1.
            pub const MAX: Self = Self(VARINT_MAX);

            /// Wraps `value`.
            ///
            /// # Errors
            /// [`Error::OutOfRange`] above 2^62 - 1.
            pub const fn new(value: u64) -> Result<Self, Error> {
                if value > VARINT_MAX {
                    return Err(Error::OutOfRange { what: stringify!($name) });
                }
                Ok(Self(value))
            }

            /// The value.
            pub const fn get(self) -> u64 {
                self.0
            }

            /// The next value, or `None` at [`Self::MAX`].
            pub const fn next(self) -> Option<Self> {
                if self.0 >= VARINT_MAX { None } else { Some(Self(self.0 + 1)) }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl Wire for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                put_varint(out, self.0);
            }
            fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
                Ok(Self(reader.take_varint(stringify!($name))?))
            }
        }

        #[cfg(feature = "proptest")]
        impl proptest::arbitrary::Arbitrary for $name {
            type Parameters = ();
            type Strategy = proptest::strategy::BoxedStrategy<Self>;
            fn arbitrary_with((): ()) -> Self::Strategy {
                use proptest::strategy::Strategy;
                // Small values are common on the wire; large ones exercise 8-byte varints.
                proptest::prop_oneof![0..64u64, 0..=VARINT_MAX].prop_map(Self).boxed()
            }
        }
    };
}

fixed_id!(
    /// A group (a space) as the relay knows it: 16 random bytes chosen by the creating
    /// device. It says nothing about the space's name or members.
    GroupId,
    16
);

fixed_id!(
    /// A device: the first 16 bytes of `SHA-256("huisclos/1 device-id" || device key)`,
    /// so the id is bound to the device's authentication key (see
    /// [`crate::auth::DevicePublicKey::device_id`]).
    DeviceId,
    16
);

fixed_id!(
    /// An account at the relay, assigned by the relay when an invitation is redeemed.
    /// Quotas are counted per account.
    AccountId,
    16
);

fixed_id!(
    /// A content record, chosen at random by its author's device so that resending a
    /// record after a lost acknowledgement stores it once.
    ContentId,
    16
);

fixed_id!(
    /// What lets a record be forgotten (`ForgetContent`): 32 random bytes its author
    /// keeps, whose hash is the record's id ([`ForgetKey::record`]). Only the author
    /// holds it until it asks the relay to forget the record; then it is in the
    /// tombstone left in the record's place, where every reader checks it.
    ForgetKey,
    32
);

/// The first bytes of every forgettable record's id ([`ForgetKey::record`]): a reader
/// refuses a record whose id begins so and that is not of a kind that may be forgotten
/// (a note's update), so that no other record can be forgotten. An id drawn at random
/// never begins so (the odds that one from before had are 2^-32).
pub const FORGETTABLE_ID_PREFIX: [u8; 4] = [0xf0, 0x4b, 0x45, 0x59];

impl ForgetKey {
    /// The id, in `group`, of the record this key forgets: [`FORGETTABLE_ID_PREFIX`],
    /// then the first 12 bytes of `SHA-256("huisclos/1 forget" || group || key)`. A
    /// record whose id was drawn at random has no key.
    pub fn record(&self, group: &GroupId) -> ContentId {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"huisclos/1 forget")
            .chain_update(group.as_bytes())
            .chain_update(self.0)
            .finalize();
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&FORGETTABLE_ID_PREFIX);
        id[4..].copy_from_slice(&digest[..12]);
        ContentId::from_bytes(id)
    }
}

impl ContentId {
    /// Whether it has the form of a forgettable record's id ([`ForgetKey::record`]).
    pub fn is_forgettable(&self) -> bool {
        self.0[..4] == FORGETTABLE_ID_PREFIX
    }
}

fixed_id!(
    /// A chunk of a file, named by the SHA-256 of its ciphertext. The relay checks the
    /// hash when the last byte arrives.
    ChunkRef,
    32
);

varint_counter!(
    /// The position of an entry in a group's log. Dense: the relay assigns 0, 1, 2, …
    /// with no gaps.
    Seq
);

varint_counter!(
    /// An MLS epoch of a group. Epoch 0 is the group as its creator made it.
    Epoch
);

varint_counter!(
    /// The position of a record in a group's durable content store, dense from 0.
    ContentSeq
);

varint_counter!(
    /// The position of a Welcome in a device's inbox, increasing, never reused.
    InboxSeq
);

varint_counter!(
    /// Chosen by the client for each request; the response carries it back.
    RequestId
);

varint_counter!(
    /// Seconds since the Unix epoch, UTC.
    UnixSeconds
);

impl UnixSeconds {
    /// The time as `YYYY-MM-DD HH:MM UTC`, as people read it (days to a civil date:
    /// Howard Hinnant's algorithm, proleptic Gregorian).
    pub fn utc_minute(self) -> String {
        let unix = self.get();
        let days = (unix / 86_400) as i64;
        let (hour, minute) = ((unix % 86_400) / 3600, (unix % 3600) / 60);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 { month_index + 3 } else { month_index - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
    }
}

varint_counter!(
    /// An amount of storage, in bytes.
    ByteCount
);

/// The most entries a client asks for in one page: from 1 to
/// [`limits::MAX_PAGE_ENTRIES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The largest page.
    pub const MAX: Self = Self(limits::MAX_PAGE_ENTRIES as u16);

    /// A page of `entries` entries.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for 0 or more than [`limits::MAX_PAGE_ENTRIES`].
    pub fn new(entries: u16) -> Result<Self, Error> {
        if entries == 0 || usize::from(entries) > limits::MAX_PAGE_ENTRIES {
            return Err(Error::OutOfRange { what: "page limit" });
        }
        Ok(Self(entries))
    }

    /// The number of entries.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl Wire for PageLimit {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Self::new(u16::decode(reader)?)
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for PageLimit {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        (1..=limits::MAX_PAGE_ENTRIES as u16).prop_map(Self).boxed()
    }
}

/// A length or offset within one chunk: at most [`limits::MAX_CHUNK_LEN`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChunkOffset(u32);

impl ChunkOffset {
    /// The start of a chunk.
    pub const ZERO: Self = Self(0);

    /// Wraps `value`.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] above [`limits::MAX_CHUNK_LEN`].
    pub fn new(value: u32) -> Result<Self, Error> {
        if value as usize > limits::MAX_CHUNK_LEN {
            return Err(Error::OutOfRange { what: "chunk offset" });
        }
        Ok(Self(value))
    }

    /// The value in bytes.
    pub fn get(self) -> u32 {
        self.0
    }
}

impl Wire for ChunkOffset {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Self::new(u32::decode(reader)?)
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for ChunkOffset {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        (0..=limits::MAX_CHUNK_LEN as u32).prop_map(Self).boxed()
    }
}
