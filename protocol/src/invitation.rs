//! The invitation a relay's operator hands to a person: where the relay is, which key
//! it must present, and the single-use token that opens an account.
//!
//! Text form: `huisclos1:` followed by the unpadded base64url encoding (RFC 4648,
//! section 5) of the invitation's wire encoding:
//!
//! ```text
//! struct {
//!     RelayAddress addresses list<MAX_INVITATION_ADDRESSES>;  // at least one
//!     opaque spki_pin[32];       // SHA-256 of the relay key's SubjectPublicKeyInfo
//!     opaque invitation[32];     // the InvitationToken
//! } Invitation;
//! RelayAddress: opaque<MAX_RELAY_ADDRESS_LEN>, printable ASCII "host:port"
//! ```
//!
//! The pin is what lets a client refuse any relay key but the operator's: no
//! certificate authority is consulted. The text is a secret until redeemed, because it
//! holds the token; its `Debug` output redacts the token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::access::InvitationToken;
use crate::codec::{BoundedVec, Reader, Wire, put_varint};
use crate::{Error, limits};

/// The prefix of an invitation's text form; the digit is the invitation format version.
pub const INVITATION_PREFIX: &str = "huisclos1:";

/// A relay address, `host:port`, in printable ASCII.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelayAddress(String);

impl RelayAddress {
    /// Checks and wraps an address.
    ///
    /// # Errors
    /// [`Error::TooLong`] above [`limits::MAX_RELAY_ADDRESS_LEN`]; [`Error::Invalid`]
    /// if it is empty, not printable ASCII, or has no `:port` suffix.
    pub fn new(address: String) -> Result<Self, Error> {
        if address.len() > limits::MAX_RELAY_ADDRESS_LEN {
            return Err(Error::TooLong {
                what: "relay address",
                len: address.len() as u64,
                max: limits::MAX_RELAY_ADDRESS_LEN as u64,
            });
        }
        let printable = address.bytes().all(|byte| byte.is_ascii_graphic());
        let has_port =
            address.rsplit_once(':').is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
        if !printable || !has_port {
            return Err(Error::Invalid { what: "relay address" });
        }
        Ok(Self(address))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Wire for RelayAddress {
    fn encode(&self, out: &mut Vec<u8>) {
        put_varint(out, self.0.len() as u64);
        out.extend_from_slice(self.0.as_bytes());
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        let len = reader.take_len(limits::MAX_RELAY_ADDRESS_LEN, "relay address")?;
        let bytes = reader.take(len, "relay address")?;
        let text = std::str::from_utf8(bytes).map_err(|_| Error::Invalid { what: "relay address" })?;
        Self::new(text.to_owned())
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for RelayAddress {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::strategy::Strategy;
        ("[a-z0-9.\\-]{1,60}", proptest::arbitrary::any::<u16>())
            .prop_map(|(host, port)| Self(format!("{host}:{port}")))
            .boxed()
    }
}

/// An invitation to open an account at one relay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    addresses: BoundedVec<RelayAddress, { limits::MAX_INVITATION_ADDRESSES }>,
    spki_pin: [u8; 32],
    token: InvitationToken,
}

impl Invitation {
    /// An invitation to the relay at `addresses`, whose key has SPKI hash `spki_pin`.
    ///
    /// # Errors
    /// [`Error::Invalid`] with no address, [`Error::TooMany`] with too many.
    pub fn new(addresses: Vec<RelayAddress>, spki_pin: [u8; 32], token: InvitationToken) -> Result<Self, Error> {
        if addresses.is_empty() {
            return Err(Error::Invalid { what: "invitation without an address" });
        }
        Ok(Self { addresses: BoundedVec::new(addresses)?, spki_pin, token })
    }

    /// Where the relay listens.
    pub fn addresses(&self) -> &[RelayAddress] {
        &self.addresses
    }

    /// SHA-256 of the relay key's DER SubjectPublicKeyInfo.
    pub fn spki_pin(&self) -> &[u8; 32] {
        &self.spki_pin
    }

    /// The token that opens an account.
    pub fn token(&self) -> &InvitationToken {
        &self.token
    }

    /// The text form, `huisclos1:` and base64url.
    pub fn to_text(&self) -> String {
        format!("{INVITATION_PREFIX}{}", URL_SAFE_NO_PAD.encode(self.to_wire()))
    }

    /// Parses the text form; surrounding whitespace is ignored.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a wrong prefix or bad base64, or any decoding error.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let encoded =
            text.trim().strip_prefix(INVITATION_PREFIX).ok_or(Error::Invalid { what: "invitation prefix" })?;
        // A valid invitation is far below this; refuse before decoding anything huge.
        let max_encoded = (limits::MAX_INVITATION_ADDRESSES * (limits::MAX_RELAY_ADDRESS_LEN + 2) + 80) * 4 / 3 + 4;
        if encoded.len() > max_encoded {
            return Err(Error::TooLong { what: "invitation text", len: encoded.len() as u64, max: max_encoded as u64 });
        }
        let bytes = zeroize::Zeroizing::new(
            URL_SAFE_NO_PAD.decode(encoded).map_err(|_| Error::Invalid { what: "invitation encoding" })?,
        );
        Self::from_wire(&bytes)
    }
}

#[cfg(feature = "proptest")]
impl proptest::arbitrary::Arbitrary for Invitation {
    type Parameters = ();
    type Strategy = proptest::strategy::BoxedStrategy<Self>;
    fn arbitrary_with((): ()) -> Self::Strategy {
        use proptest::arbitrary::any;
        use proptest::strategy::Strategy;
        (proptest::collection::vec(any::<RelayAddress>(), 1..=3), any::<[u8; 32]>(), any::<InvitationToken>())
            .prop_filter_map("valid invitation", |(addresses, pin, token)| Self::new(addresses, pin, token).ok())
            .boxed()
    }
}

impl Wire for Invitation {
    fn encode(&self, out: &mut Vec<u8>) {
        self.addresses.encode(out);
        self.spki_pin.encode(out);
        self.token.encode(out);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        let addresses = BoundedVec::<RelayAddress, { limits::MAX_INVITATION_ADDRESSES }>::decode(reader)?;
        let spki_pin = <[u8; 32]>::decode(reader)?;
        let token = InvitationToken::decode(reader)?;
        Self::new(addresses.into_vec(), spki_pin, token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Result<Invitation, Error> {
        Invitation::new(
            vec![RelayAddress::new("relay.example.org:4433".into())?],
            [0x11; 32],
            InvitationToken::from_bytes([0x22; 32]),
        )
    }

    #[test]
    fn text_round_trip() -> Result<(), Error> {
        let invitation = sample()?;
        let text = invitation.to_text();
        assert!(text.starts_with(INVITATION_PREFIX));
        assert_eq!(Invitation::from_text(&format!("  {text}\n"))?, invitation);
        Ok(())
    }

    #[test]
    fn bad_text_is_refused() {
        assert!(Invitation::from_text("hello").is_err());
        assert!(Invitation::from_text("huisclos1:!!!").is_err());
        assert!(Invitation::from_text("huisclos1:AAAA").is_err());
        assert!(RelayAddress::new("no-port".into()).is_err());
        assert!(RelayAddress::new("host:99999".into()).is_err());
        assert!(RelayAddress::new("sp ace:1".into()).is_err());
    }

    #[test]
    fn debug_does_not_print_the_token() -> Result<(), Error> {
        let printed = format!("{:?}", sample()?);
        assert!(printed.contains("<redacted>"));
        assert!(!printed.contains("22, 22"), "{printed}");
        Ok(())
    }
}
