//! Where a profile's relay is: the addresses to try and the key to pin. It comes from
//! the invitation that opened the account (or, for a linked device, from the link
//! offer) and is kept in the profile, so every later start reaches the same relay
//! without a certificate authority.

use std::net::{SocketAddr, ToSocketAddrs};

use huisclos_protocol::codec::{BoundedVec, Wire};
use huisclos_protocol::invitation::{Invitation, RelayAddress};
use huisclos_protocol::limits::MAX_INVITATION_ADDRESSES;
use huisclos_transport::tls::SpkiPin;

use crate::error::{CoreError, DamageKind, Result, StoredRecord};

huisclos_protocol::wire_struct!(
    /// A relay's addresses (`host:port`, tried in order) and the SHA-256 hash of its
    /// key's SubjectPublicKeyInfo.
    pub struct RelayEndpoint {
        /// Addresses to try, in order.
        pub addresses: BoundedVec<RelayAddress, MAX_INVITATION_ADDRESSES>,
        /// The pinned key's hash.
        pub pin: [u8; 32],
    }
);

impl RelayEndpoint {
    /// The relay an invitation points to.
    pub fn from_invitation(invitation: &Invitation) -> Self {
        let addresses = BoundedVec::new(invitation.addresses().to_vec()).unwrap_or_else(|_| BoundedVec::empty());
        Self { addresses, pin: *invitation.spki_pin() }
    }

    /// The pin, as the transport takes it.
    pub fn spki_pin(&self) -> SpkiPin {
        SpkiPin(self.pin)
    }

    /// Resolves every address (names through the system resolver; this blocks).
    /// Addresses that do not resolve are skipped.
    ///
    /// # Errors
    /// [`CoreError::Transport`] when none resolves.
    pub fn resolve(&self) -> Result<Vec<SocketAddr>> {
        let resolved: Vec<SocketAddr> =
            self.addresses.iter().filter_map(|address| address.as_str().to_socket_addrs().ok()).flatten().collect();
        if resolved.is_empty() {
            return Err(CoreError::Transport(crate::error::TransportFailure::Unresolvable));
        }
        Ok(resolved)
    }

    pub(crate) fn from_stored(bytes: &[u8]) -> Result<Self> {
        Self::from_wire(bytes).map_err(|_| CoreError::damaged(StoredRecord::RelayAddress, DamageKind::DoesNotDecode))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_endpoint_round_trips_and_resolves_literal_addresses() {
        let endpoint = RelayEndpoint {
            addresses: BoundedVec::new(vec![
                RelayAddress::new("127.0.0.1:4433".into()).unwrap(),
                RelayAddress::new("no-such-host.invalid:4433".into()).unwrap(),
            ])
            .unwrap(),
            pin: [9; 32],
        };
        assert_eq!(RelayEndpoint::from_stored(&endpoint.to_wire()).unwrap(), endpoint);
        assert_eq!(endpoint.resolve().unwrap(), vec!["127.0.0.1:4433".parse::<SocketAddr>().unwrap()]);
        assert_eq!(endpoint.spki_pin(), SpkiPin([9; 32]));
    }
}
