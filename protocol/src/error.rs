//! The crate's one error type.

/// Why bytes could not be decoded, a frame could not be built, or a signature or
/// invitation was refused.
///
/// Every variant names *what* was wrong and never carries the offending bytes, so an
/// error can be logged without leaking secrets or ciphertext.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before `what` was complete.
    #[error("input truncated while reading {what}")]
    Truncated {
        /// The field or structure being read.
        what: &'static str,
    },
    /// A complete value was decoded but bytes were left over.
    #[error("{count} trailing bytes after a complete {what}")]
    TrailingBytes {
        /// The value that was decoded.
        what: &'static str,
        /// How many bytes remained.
        count: usize,
    },
    /// A length is above its named bound.
    #[error("{what} is {len} bytes long, more than the limit of {max}")]
    TooLong {
        /// The field whose length is bounded.
        what: &'static str,
        /// The announced or actual length.
        len: u64,
        /// The bound, a constant in [`crate::limits`].
        max: u64,
    },
    /// A count of items is above its named bound.
    #[error("{what} holds {count} items, more than the limit of {max}")]
    TooMany {
        /// The list whose count is bounded.
        what: &'static str,
        /// The announced or actual count.
        count: u64,
        /// The bound, a constant in [`crate::limits`].
        max: u64,
    },
    /// A number is outside the range its type allows.
    #[error("{what} out of range")]
    OutOfRange {
        /// The field holding the number.
        what: &'static str,
    },
    /// A tag byte names no known variant.
    #[error("unknown {what} tag {tag:#04x}")]
    UnknownTag {
        /// The enumeration being read.
        what: &'static str,
        /// The tag found.
        tag: u8,
    },
    /// A variable-length integer did not use its shortest encoding.
    #[error("variable-length integer not minimally encoded")]
    NonMinimalVarint,
    /// A field held bytes that are not a valid value of its type.
    #[error("invalid {what}")]
    Invalid {
        /// The field or type.
        what: &'static str,
    },
    /// A frame announced a protocol version this implementation does not speak.
    #[error("unsupported protocol version {version}")]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },
    /// A frame's padding held a non-zero byte.
    #[error("frame padding is not all zero")]
    NonZeroPadding,
    /// A signature did not verify under the claimed key.
    #[error("signature does not verify")]
    BadSignature,
}
