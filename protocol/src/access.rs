//! Secrets that travel on the wire, and the epoch access-token scheme.
//!
//! The relay serves a group's log to exactly the group's current members without
//! storing who they are. Each member derives, for each epoch, an [`AccessToken`] from
//! the group's MLS exporter:
//!
//! ```text
//! token    = MLS-Exporter(ACCESS_TOKEN_EXPORTER_LABEL, group_id, 32)
//! verifier = SHA-256(EPOCH_VERIFIER_LABEL || token)
//! ```
//!
//! The relay stores only the [`EpochVerifier`] of each epoch (registered by the group's
//! creator for epoch 0 and by each committer for the next epoch) and checks a presented
//! token by hashing it. A verifier does not reveal the token, and the token does not
//! reveal the exporter secret, so neither lets the relay read anything.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::Error;
use crate::codec::{Reader, Wire};

/// The MLS exporter label members use to derive an epoch's access token; the exporter
/// context is the group id's 16 bytes and the length is 32.
pub const ACCESS_TOKEN_EXPORTER_LABEL: &str = "huisclos/1 access-token";

/// Domain separation for [`EpochVerifier::for_token`]; hashed with a trailing zero byte.
pub const EPOCH_VERIFIER_LABEL: &[u8] = b"huisclos/1 epoch-verifier";

/// Domain separation for [`InvitationToken::digest`]; hashed with a trailing zero byte.
pub const INVITATION_DIGEST_LABEL: &[u8] = b"huisclos/1 invitation";

/// Defines a 32-byte secret: zeroized on drop, compared in constant time, redacted in
/// `Debug`.
macro_rules! secret_bytes {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, ::zeroize::Zeroize, ::zeroize::ZeroizeOnDrop)]
        pub struct $name([u8; 32]);

        impl $name {
            /// Wraps secret bytes. The caller should zeroize its own copy.
            pub fn from_bytes(bytes: [u8; 32]) -> Self {
                Self(bytes)
            }

            /// The secret bytes, for the one place that must use them.
            pub fn expose_secret(&self) -> &[u8; 32] {
                &self.0
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                ::subtle::ConstantTimeEq::ct_eq(&self.0[..], &other.0[..]).into()
            }
        }

        impl Eq for $name {}

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
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

        #[cfg(feature = "proptest")]
        impl proptest::arbitrary::Arbitrary for $name {
            type Parameters = ();
            type Strategy = proptest::strategy::BoxedStrategy<Self>;
            fn arbitrary_with((): ()) -> Self::Strategy {
                use proptest::strategy::Strategy;
                proptest::arbitrary::any::<[u8; 32]>().prop_map(Self).boxed()
            }
        }
    };
}
pub(crate) use secret_bytes;

secret_bytes!(
    /// Proof that the holder knows a group's MLS exporter secret for one epoch.
    AccessToken
);

secret_bytes!(
    /// A single-use, expiring token the relay's operator issues to let one person open
    /// an account. The relay stores only its [`digest`](InvitationToken::digest).
    InvitationToken
);

impl AccessToken {
    /// The verifier the relay stores for this token.
    pub fn verifier(&self) -> EpochVerifier {
        EpochVerifier::for_token(self)
    }
}

impl InvitationToken {
    /// `SHA-256(INVITATION_DIGEST_LABEL || 0x00 || token)`: what the relay stores, and
    /// what a device binds into its account-creation signature.
    pub fn digest(&self) -> [u8; 32] {
        labelled_sha256(INVITATION_DIGEST_LABEL, &[&self.0])
    }
}

/// What the relay stores to check an epoch's [`AccessToken`]: a hash of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "proptest", derive(proptest_derive::Arbitrary))]
pub struct EpochVerifier([u8; 32]);

impl EpochVerifier {
    /// `SHA-256(EPOCH_VERIFIER_LABEL || 0x00 || token)`.
    pub fn for_token(token: &AccessToken) -> Self {
        Self(labelled_sha256(EPOCH_VERIFIER_LABEL, &[&token.0]))
    }

    /// Wraps stored verifier bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The verifier's bytes, as stored.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Whether `token` is the one this verifier was made from, in constant time.
    pub fn admits(&self, token: &AccessToken) -> bool {
        Self::for_token(token).0[..].ct_eq(&self.0[..]).into()
    }
}

impl Wire for EpochVerifier {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(reader: &mut Reader<'_>) -> Result<Self, Error> {
        Ok(Self(reader.take_array("epoch verifier")?))
    }
}

/// `SHA-256(label || 0x00 || parts...)`. The zero byte keeps labels prefix-free.
pub(crate) fn labelled_sha256(label: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(label);
    hasher.update([0u8]);
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_admits_only_its_token() {
        let token = AccessToken::from_bytes([7; 32]);
        let verifier = token.verifier();
        assert!(verifier.admits(&token));
        assert!(!verifier.admits(&AccessToken::from_bytes([8; 32])));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let token = AccessToken::from_bytes([0xab; 32]);
        let printed = format!("{token:?}");
        assert_eq!(printed, "AccessToken(<redacted>)");
        let printed = format!("{:?}", InvitationToken::from_bytes([0xab; 32]));
        assert!(!printed.contains("ab"), "{printed}");
    }
}
