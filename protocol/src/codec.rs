//! The canonical binary encoding.
//!
//! The encoding follows the TLS presentation language as RFC 9420 (MLS) uses it, so that
//! an implementer who already parses MLS messages has every primitive at hand:
//!
//! - `varint`: a QUIC variable-length integer (RFC 9000, section 16) of 1, 2, 4 or 8
//!   bytes holding at most 2^62 - 1. The shortest form is mandatory, as in RFC 9420,
//!   so that every value has exactly one encoding.
//! - `u8`: one byte; used for tags and booleans (0 or 1).
//! - fixed-size byte arrays (ids, keys, signatures): the bytes, no prefix.
//! - `opaque<max>`: a varint length, then that many bytes; the length is bounded.
//! - `T list<max>`: a varint *count*, then the items; the count is bounded.
//! - `optional<T>`: a `u8` presence flag (0 or 1), then `T` if present.
//! - structs: their fields in order; enums: a `u8` tag, then the variant's fields.
//!
//! Decoding never allocates more than the remaining input could justify and fails
//! with a typed [`Error`] on truncation, excess length, unknown tags, non-minimal
//! varints and trailing bytes.

use crate::Error;

/// The largest value a varint can hold: 2^62 - 1.
pub const VARINT_MAX: u64 = (1 << 62) - 1;

/// A value with a canonical wire encoding.
///
/// `encode` is infallible: every value of a wire type is valid by construction (the
/// bounded types check their bounds when built). `decode` reads one value from the
/// front of a [`Reader`] and leaves the rest.
pub trait Wire: Sized {
    /// Appends the encoding of `self` to `out`.
    fn encode(&self, out: &mut Vec<u8>);

    /// Reads one value from `reader`.
    ///
    /// # Errors
    /// A typed [`Error`] when the input is truncated, oversized or malformed.
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error>;

    /// The encoding of `self` as a new buffer.
    fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes a value that must fill `bytes` exactly.
    ///
    /// # Errors
    /// As [`Wire::decode`], and [`Error::TrailingBytes`] if input is left over.
    fn from_wire(bytes: &[u8]) -> Result<Self, Error> {
        let mut reader = Reader::new(bytes);
        let value = Self::decode(&mut reader)?;
        reader.finish(std::any::type_name::<Self>())?;
        Ok(value)
    }
}

/// A cursor over input bytes that never reads past the end.
#[derive(Debug)]
pub struct Reader<'a> {
    input: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader positioned at the start of `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    /// How many bytes are left.
    pub fn remaining(&self) -> usize {
        self.input.len()
    }

    /// Takes the next `len` bytes.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer remain.
    pub fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
        if len > self.input.len() {
            return Err(Error::Truncated { what });
        }
        let (head, tail) = self.input.split_at(len);
        self.input = tail;
        Ok(head)
    }

    /// Takes the next `N` bytes as an array.
    ///
    /// # Errors
    /// [`Error::Truncated`] if fewer remain.
    pub fn take_array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N, what)?);
        Ok(array)
    }

    /// Reads one byte.
    ///
    /// # Errors
    /// [`Error::Truncated`] at the end of input.
    pub fn take_u8(&mut self, what: &'static str) -> Result<u8, Error> {
        Ok(self.take(1, what)?[0])
    }

    /// Reads a minimally encoded varint.
    ///
    /// # Errors
    /// [`Error::Truncated`] or [`Error::NonMinimalVarint`].
    pub fn take_varint(&mut self, what: &'static str) -> Result<u64, Error> {
        let first = self.take_u8(what)?;
        let len = 1usize << (first >> 6);
        let mut value = u64::from(first & 0x3f);
        for &byte in self.take(len - 1, what)? {
            value = (value << 8) | u64::from(byte);
        }
        if varint_len(value) != len {
            return Err(Error::NonMinimalVarint);
        }
        Ok(value)
    }

    /// Reads a varint length and checks it against `max` and the remaining input.
    ///
    /// # Errors
    /// [`Error::TooLong`] above `max`, [`Error::Truncated`] beyond the input.
    pub fn take_len(&mut self, max: usize, what: &'static str) -> Result<usize, Error> {
        let len = self.take_varint(what)?;
        if len > max as u64 {
            return Err(Error::TooLong { what, len, max: max as u64 });
        }
        // `len <= max`, and every `max` is a `usize` constant.
        let len = len as usize;
        if len > self.remaining() {
            return Err(Error::Truncated { what });
        }
        Ok(len)
    }

    /// Fails with [`Error::TrailingBytes`] unless all input was consumed.
    ///
    /// # Errors
    /// [`Error::TrailingBytes`].
    pub fn finish(&self, what: &'static str) -> Result<(), Error> {
        if self.input.is_empty() { Ok(()) } else { Err(Error::TrailingBytes { what, count: self.input.len() }) }
    }
}

/// The number of bytes the minimal varint encoding of `value` takes.
pub const fn varint_len(value: u64) -> usize {
    if value < (1 << 6) {
        1
    } else if value < (1 << 14) {
        2
    } else if value < (1 << 30) {
        4
    } else {
        8
    }
}

/// Appends the minimal varint encoding of `value`.
///
/// Callers guarantee `value <= VARINT_MAX`: every varint-carried type checks this when
/// it is built, and lengths are bounded far below it.
pub fn put_varint(out: &mut Vec<u8>, value: u64) {
    debug_assert!(value <= VARINT_MAX, "varint out of range");
    match varint_len(value) {
        1 => out.push(value as u8),
        2 => out.extend_from_slice(&((value as u16) | 0x4000).to_be_bytes()),
        4 => out.extend_from_slice(&((value as u32) | 0x8000_0000).to_be_bytes()),
        _ => out.extend_from_slice(&(value | 0xc000_0000_0000_0000).to_be_bytes()),
    }
}

impl Wire for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        reader.take_u8("u8")
    }
}

/// `u16` travels as a varint no larger than `u16::MAX`.
impl Wire for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, u64::from(*self));
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        let value = reader.take_varint("u16")?;
        u16::try_from(value).map_err(|_| Error::OutOfRange { what: "u16" })
    }
}

/// `u32` travels as a varint no larger than `u32::MAX`.
impl Wire for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, u64::from(*self));
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        let value = reader.take_varint("u32")?;
        u32::try_from(value).map_err(|_| Error::OutOfRange { what: "u32" })
    }
}

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        match reader.take_u8("bool")? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Error::Invalid { what: "bool" }),
        }
    }
}

impl<const N: usize> Wire for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        reader.take_array("fixed-size bytes")
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                value.encode(out);
            }
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        match reader.take_u8("optional presence")? {
            0 => Ok(None),
            1 => Ok(Some(T::decode(reader)?)),
            _ => Err(Error::Invalid { what: "optional presence flag" }),
        }
    }
}

/// A list of at most `MAX` items: `T list<MAX>` on the wire.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BoundedVec<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> BoundedVec<T, MAX> {
    /// The largest number of items this list may hold.
    pub const MAX: usize = MAX;

    /// Wraps `items` if there are at most `MAX` of them.
    ///
    /// # Errors
    /// [`Error::TooMany`] otherwise.
    pub fn new(items: Vec<T>) -> Result<Self, Error> {
        if items.len() > MAX {
            return Err(Error::TooMany { what: "list", count: items.len() as u64, max: MAX as u64 });
        }
        Ok(Self(items))
    }

    /// An empty list.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Adds an item, or gives it back if the list is full.
    ///
    /// # Errors
    /// The item itself, when the list already holds `MAX` items.
    pub fn try_push(&mut self, item: T) -> Result<(), T> {
        if self.0.len() >= MAX {
            return Err(item);
        }
        self.0.push(item);
        Ok(())
    }

    /// The items.
    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// The items, unwrapped.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }

    /// How many items the list holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T, const MAX: usize> std::ops::Deref for BoundedVec<T, MAX> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: std::fmt::Debug, const MAX: usize> std::fmt::Debug for BoundedVec<T, MAX> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self.0).finish()
    }
}

impl<T: Wire, const MAX: usize> Wire for BoundedVec<T, MAX> {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.0.len() as u64);
        for item in &self.0 {
            item.encode(out);
        }
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        let count = reader.take_varint("list count")?;
        if count > MAX as u64 {
            return Err(Error::TooMany { what: "list", count, max: MAX as u64 });
        }
        // Never reserve more than the input could hold: every item takes at least one
        // byte except empty structs, whose count is still bounded by MAX.
        let mut items = Vec::with_capacity((count as usize).min(reader.remaining()));
        for _ in 0..count {
            items.push(T::decode(reader)?);
        }
        Ok(Self(items))
    }
}

#[cfg(feature = "proptest")]
impl<T, const MAX: usize> proptest::arbitrary::Arbitrary for BoundedVec<T, MAX>
where
    T: proptest::arbitrary::Arbitrary + std::fmt::Debug + 'static,
{
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        // Small lists keep the search fast; the bounds themselves have their own tests.
        proptest::collection::vec(proptest::arbitrary::any::<T>(), 0..=MAX.min(4)).prop_map(Self).boxed()
    }
}

/// Defines a newtype over `Vec<u8>` that is `opaque<max>` on the wire.
///
/// The contents are ciphertext or MLS messages, so `Debug` prints only the length.
#[macro_export]
macro_rules! bounded_bytes {
    ($(#[$meta:meta])* $vis:vis struct $name:ident(max = $max:expr, what = $what:literal);) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        $vis struct $name(Vec<u8>);

        impl $name {
            /// The largest length allowed, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Wraps `bytes` if they are at most [`Self::MAX_LEN`] long.
            ///
            /// # Errors
            /// [`crate::Error::TooLong`] otherwise.
            pub fn new(bytes: Vec<u8>) -> Result<Self, $crate::Error> {
                if bytes.len() > Self::MAX_LEN {
                    return Err($crate::Error::TooLong {
                        what: $what,
                        len: bytes.len() as u64,
                        max: Self::MAX_LEN as u64,
                    });
                }
                Ok(Self(bytes))
            }

            /// The bytes.
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }

            /// The bytes, unwrapped.
            pub fn into_vec(self) -> Vec<u8> {
                self.0
            }

            /// The length in bytes.
            pub fn len(&self) -> usize {
                self.0.len()
            }

            /// Whether there are no bytes.
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, concat!(stringify!($name), "({} bytes)"), self.0.len())
            }
        }

        impl $crate::codec::Wire for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                $crate::codec::put_varint(out, self.0.len() as u64);
                out.extend_from_slice(&self.0);
            }
            fn decode(reader: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::Error> {
                let len = reader.take_len(Self::MAX_LEN, $what)?;
                Ok(Self(reader.take(len, $what)?.to_vec()))
            }
        }

        #[cfg(feature = "proptest")]
        impl proptest::arbitrary::Arbitrary for $name {
            type Parameters = ();
            type Strategy = proptest::strategy::BoxedStrategy<Self>;
            fn arbitrary_with((): ()) -> Self::Strategy {
                use proptest::strategy::Strategy;
                proptest::collection::vec(proptest::arbitrary::any::<u8>(), 0..=Self::MAX_LEN.min(300))
                    .prop_map(Self)
                    .boxed()
            }
        }
    };
}
#[doc(no_inline)]
pub use bounded_bytes;

/// Defines a struct whose encoding is its fields in order.
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
        $vis struct $name {
            $( $(#[$fmeta])* $fvis $field: $ty, )*
        }

        impl $crate::codec::Wire for $name {
            #[allow(unused_variables)]
            fn encode(&self, out: &mut Vec<u8>) {
                $( $crate::codec::Wire::encode(&self.$field, out); )*
            }
            #[allow(unused_variables)]
            fn decode(reader: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::Error> {
                Ok(Self { $( $field: $crate::codec::Wire::decode(reader)?, )* })
            }
        }
    };
}
#[doc(no_inline)]
pub use wire_struct;

/// Defines an enum whose variants each wrap one wire type, encoded as a `u8` tag and
/// then the wrapped value. The tags are listed in `TAGS` for the specification tests.
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident (what = $what:literal) {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident($inner:ty) ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
        $vis enum $name {
            $( $(#[$vmeta])* $variant($inner), )*
        }

        impl $name {
            /// Every variant's tag and name, in tag order.
            pub const TAGS: &'static [(u8, &'static str)] = &[ $( ($tag, stringify!($variant)), )* ];

            /// The tag this value is sent with.
            pub fn tag(&self) -> u8 {
                match self { $( Self::$variant(_) => $tag, )* }
            }

            /// The variant's name, as the specification spells it.
            pub fn name(&self) -> &'static str {
                match self { $( Self::$variant(_) => stringify!($variant), )* }
            }
        }

        $(
            impl From<$inner> for $name {
                fn from(value: $inner) -> Self {
                    Self::$variant(value)
                }
            }
        )*

        impl $crate::codec::Wire for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.push(self.tag());
                match self { $( Self::$variant(inner) => $crate::codec::Wire::encode(inner, out), )* }
            }
            fn decode(reader: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::Error> {
                match reader.take_u8($what)? {
                    $( $tag => Ok(Self::$variant($crate::codec::Wire::decode(reader)?)), )*
                    tag => Err($crate::Error::UnknownTag { what: $what, tag }),
                }
            }
        }
    };
}
#[doc(no_inline)]
pub use wire_enum;

/// Defines a field-less enum encoded as one `u8`.
#[macro_export]
macro_rules! wire_tag_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident (what = $what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $tag:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
        #[repr(u8)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant = $tag, )*
        }

        impl $name {
            /// Every variant's tag and name, in tag order.
            pub const TAGS: &'static [(u8, &'static str)] = &[ $( ($tag, stringify!($variant)), )* ];
        }

        impl $crate::codec::Wire for $name {
            fn encode(&self, out: &mut Vec<u8>) {
                out.push(*self as u8);
            }
            fn decode(reader: &mut $crate::codec::Reader<'_>) -> Result<Self, $crate::Error> {
                match reader.take_u8($what)? {
                    $( $tag => Ok(Self::$variant), )*
                    tag => Err($crate::Error::UnknownTag { what: $what, tag }),
                }
            }
        }
    };
}
#[doc(no_inline)]
pub use wire_tag_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_boundaries_match_rfc9000() {
        // RFC 9000, appendix A.1 sample values.
        let cases: &[(u64, &str)] =
            &[(37, "25"), (15_293, "7bbd"), (494_878_333, "9d7f3e7d"), (151_288_809_941_952_652, "c2197c5eff14e88c")];
        for &(value, hex) in cases {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(to_hex(&out), hex);
            assert_eq!(Reader::new(&out).take_varint("test"), Ok(value));
        }
    }

    #[test]
    fn non_minimal_varint_is_refused() {
        // 37 in two bytes, as RFC 9000 allows but RFC 9420 and we do not.
        assert_eq!(Reader::new(&[0x40, 0x25]).take_varint("x"), Err(Error::NonMinimalVarint));
    }

    #[test]
    fn length_above_bound_is_refused_before_reading() {
        let mut bytes = Vec::new();
        put_varint(&mut bytes, 1000);
        assert_eq!(
            Reader::new(&bytes).take_len(999, "field"),
            Err(Error::TooLong { what: "field", len: 1000, max: 999 })
        );
    }

    fn to_hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}
