//! Signing in at the relay: the part of every connection that the [`crate::engine::Engine`]
//! and the [`crate::linker::Linker`] share. Sans-IO, like both. A device of an account
//! signs in in one round trip: its key's signature bound to this TLS session by the
//! session's exporter alone (`SignIn`; why that is enough: `protocol-spec/relay.md`).
//! A device redeeming an invitation asks for a challenge first and answers it
//! (`CreateAccount`). Either way the answer says whether the device is signed in.

use ed25519_dalek::SigningKey;
use huisclos_protocol::access::InvitationToken;
use huisclos_protocol::auth::{AuthPurpose, ChallengeNonce, DevicePublicKey, TlsExporter, sign_device_auth};
use huisclos_protocol::ids::AccountId;
use huisclos_protocol::messages::{
    Authenticate, CreateAccount, GetChallenge, RelayError, RequestBody, ResponseBody, SignIn as SignInRequest,
};

use crate::error::Result;

/// Where a connection stands in signing in.
pub(crate) enum SignIn {
    /// No connection.
    Offline,
    /// Connected: a device signs in next, or a new account asks for a challenge.
    Connected { exporter: TlsExporter },
    /// The relay does not know `SignIn` (a release before it): a challenge is asked
    /// for next, and answered with `Authenticate`.
    Legacy { exporter: TlsExporter },
    /// Challenged: the signed answer is sent next.
    Challenged { exporter: TlsExporter, nonce: ChallengeNonce },
    /// Signed in: the machine's own requests go.
    SignedIn,
    /// The relay refused the device (`AuthFailed`): nothing is sent until
    /// [`SignIn::retry`] (a device being linked, before its holder registered it).
    Refused { exporter: TlsExporter },
}

/// Which sign-in request is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SignInStep {
    /// `GetChallenge`.
    Challenge,
    /// `SignIn` or `CreateAccount`.
    Answer,
}

/// How the device signs in.
pub(crate) enum Credential<'a> {
    /// As a device of an account.
    Device(&'a SigningKey),
    /// As the first device of a new account, redeeming `invitation`.
    NewAccount { key: &'a SigningKey, invitation: &'a InvitationToken },
}

/// What an answer to a sign-in request did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SignInOutcome {
    /// A challenge came: the signed answer is next.
    Challenged,
    /// Signed in.
    SignedIn,
    /// Signed in as the first device of this new account.
    AccountCreated(AccountId),
    /// The relay refused. `AuthFailed` leaves the state [`SignIn::Refused`]; anything
    /// else [`SignIn::Offline`].
    Refused(RelayError),
    /// An answer of another kind: offline.
    Unexpected,
}

impl SignIn {
    /// The transport connected with this TLS session.
    pub(crate) fn connected(&mut self, exporter: TlsExporter) {
        *self = Self::Connected { exporter };
    }

    /// The transport disconnected.
    pub(crate) fn disconnected(&mut self) {
        *self = Self::Offline;
    }

    /// Whether the device is signed in on the current connection.
    pub(crate) fn is_signed_in(&self) -> bool {
        matches!(self, Self::SignedIn)
    }

    /// After [`SignIn::Refused`]: tries again on the same connection (any other state
    /// stays as it is).
    pub(crate) fn retry(&mut self) {
        match std::mem::replace(self, Self::Offline) {
            Self::Refused { exporter } => *self = Self::Connected { exporter },
            other => *self = other,
        }
    }

    /// The request that moves signing in on, if it is its turn: `None` when offline,
    /// refused or signed in.
    ///
    /// # Errors
    /// The credential's error (no account and no invitation).
    pub(crate) fn next_request<'a>(
        &self,
        credential: impl FnOnce() -> Result<Credential<'a>>,
    ) -> Option<Result<(RequestBody, SignInStep)>> {
        match self {
            Self::Connected { exporter } => Some(credential().map(|credential| match credential {
                Credential::Device(key) => {
                    let signature = sign_device_auth(key, exporter, &ChallengeNonce::NONE, AuthPurpose::SignIn);
                    let device = DevicePublicKey::from_signing_key(key).device_id();
                    (SignInRequest { device, signature }.into(), SignInStep::Answer)
                }
                Credential::NewAccount { .. } => (GetChallenge {}.into(), SignInStep::Challenge),
            })),
            Self::Legacy { .. } => Some(Ok((GetChallenge {}.into(), SignInStep::Challenge))),
            Self::Challenged { exporter, nonce } => Some(credential().map(|credential| {
                let body: RequestBody = match credential {
                    Credential::Device(key) => {
                        // A relay of a release before `SignIn`: the challenge answered.
                        let signature = sign_device_auth(key, exporter, nonce, AuthPurpose::Authenticate);
                        let device = DevicePublicKey::from_signing_key(key).device_id();
                        Authenticate { device, signature }.into()
                    }
                    Credential::NewAccount { key, invitation } => {
                        let signature = sign_device_auth(key, exporter, nonce, AuthPurpose::CreateAccount(invitation));
                        let device_key = DevicePublicKey::from_signing_key(key);
                        CreateAccount { invitation: invitation.clone(), device_key, signature }.into()
                    }
                };
                (body, SignInStep::Answer)
            })),
            Self::Offline | Self::SignedIn | Self::Refused { .. } => None,
        }
    }

    /// Takes the answer to the sign-in request `step`.
    pub(crate) fn on_answer(
        &mut self,
        step: SignInStep,
        answer: std::result::Result<ResponseBody, RelayError>,
    ) -> SignInOutcome {
        match (step, answer, std::mem::replace(self, Self::Offline)) {
            (SignInStep::Answer, Err(RelayError::BadRequest), Self::Connected { exporter }) => {
                // `SignIn` unknown to this relay: sign in the way it knows.
                *self = Self::Legacy { exporter };
                SignInOutcome::Challenged
            }
            (
                SignInStep::Challenge,
                Ok(ResponseBody::Challenge(challenge)),
                Self::Connected { exporter } | Self::Legacy { exporter },
            ) => {
                *self = Self::Challenged { exporter, nonce: challenge.nonce };
                SignInOutcome::Challenged
            }
            (
                SignInStep::Answer,
                Ok(ResponseBody::Authenticated(_)),
                Self::Connected { .. } | Self::Challenged { .. },
            ) => {
                *self = Self::SignedIn;
                SignInOutcome::SignedIn
            }
            (SignInStep::Answer, Ok(ResponseBody::AccountCreated(created)), Self::Challenged { .. }) => {
                *self = Self::SignedIn;
                SignInOutcome::AccountCreated(created.account)
            }
            (
                SignInStep::Answer,
                Err(RelayError::AuthFailed),
                Self::Connected { exporter } | Self::Challenged { exporter, .. },
            ) => {
                *self = Self::Refused { exporter };
                SignInOutcome::Refused(RelayError::AuthFailed)
            }
            (_, Err(error), _) => SignInOutcome::Refused(error),
            (_, Ok(_), _) => SignInOutcome::Unexpected,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use huisclos_protocol::auth::verify_device_auth;
    use huisclos_protocol::messages::{AccountCreated, Authenticated, Challenge};

    use super::*;

    fn exporter() -> TlsExporter {
        TlsExporter::from_bytes([9; 32])
    }

    #[test]
    fn a_device_asks_answers_and_is_signed_in_or_refused() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let mut signin = SignIn::Offline;
        assert!(signin.next_request(|| Ok(Credential::Device(&key))).is_none());
        signin.connected(exporter());
        // One round trip: no challenge, the signature bound to the session's exporter.
        let (body, step) = signin.next_request(|| Ok(Credential::Device(&key))).unwrap().unwrap();
        let RequestBody::SignIn(auth) = body else { panic!("sign in") };
        assert_eq!(step, SignInStep::Answer);
        let public = DevicePublicKey::from_signing_key(&key);
        assert_eq!(auth.device, public.device_id());
        let none = ChallengeNonce::NONE;
        assert!(verify_device_auth(&public, &auth.signature, &exporter(), &none, AuthPurpose::SignIn).is_ok());
        assert!(
            verify_device_auth(&public, &auth.signature, &exporter(), &none, AuthPurpose::Authenticate).is_err(),
            "a sign-in signature is no answer to a challenge"
        );
        let other = TlsExporter::from_bytes([8; 32]);
        assert!(verify_device_auth(&public, &auth.signature, &other, &none, AuthPurpose::SignIn).is_err());
        // Refused: it waits for a retry, then asks again on the same connection.
        assert_eq!(signin.on_answer(step, Err(RelayError::AuthFailed)), SignInOutcome::Refused(RelayError::AuthFailed));
        assert!(signin.next_request(|| Ok(Credential::Device(&key))).is_none());
        signin.retry();
        let (_, step) = signin.next_request(|| Ok(Credential::Device(&key))).unwrap().unwrap();
        assert_eq!(step, SignInStep::Answer);
        let signed = signin.on_answer(step, Ok(Authenticated { account: AccountId::from_bytes([1; 16]) }.into()));
        assert_eq!(signed, SignInOutcome::SignedIn);
        assert!(signin.is_signed_in());
        assert!(signin.next_request(|| Ok(Credential::Device(&key))).is_none());
    }

    #[test]
    fn a_relay_that_does_not_know_sign_in_is_answered_with_its_challenge() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let mut signin = SignIn::Offline;
        signin.connected(exporter());
        let (_, step) = signin.next_request(|| Ok(Credential::Device(&key))).unwrap().unwrap();
        assert_eq!(signin.on_answer(step, Err(RelayError::BadRequest)), SignInOutcome::Challenged);
        let (body, step) = signin.next_request(|| Ok(Credential::Device(&key))).unwrap().unwrap();
        assert!(matches!(body, RequestBody::GetChallenge(_)));
        let nonce = ChallengeNonce::from_bytes([3; 32]);
        assert_eq!(signin.on_answer(step, Ok(Challenge { nonce }.into())), SignInOutcome::Challenged);
        let (body, step) = signin.next_request(|| Ok(Credential::Device(&key))).unwrap().unwrap();
        let RequestBody::Authenticate(auth) = body else { panic!("authenticate") };
        let public = DevicePublicKey::from_signing_key(&key);
        assert!(verify_device_auth(&public, &auth.signature, &exporter(), &nonce, AuthPurpose::Authenticate).is_ok());
        let signed = signin.on_answer(step, Ok(Authenticated { account: AccountId::from_bytes([1; 16]) }.into()));
        assert_eq!(signed, SignInOutcome::SignedIn);
    }

    #[test]
    fn a_new_device_redeems_its_invitation_and_a_wrong_answer_ends_the_attempt() {
        let key = SigningKey::from_bytes(&[6; 32]);
        let invitation = InvitationToken::from_bytes([8; 32]);
        let mut signin = SignIn::Offline;
        signin.connected(exporter());
        let credential = || Ok(Credential::NewAccount { key: &key, invitation: &invitation });
        let (_, step) = signin.next_request(credential).unwrap().unwrap();
        signin.on_answer(step, Ok(Challenge { nonce: ChallengeNonce::from_bytes([4; 32]) }.into()));
        let (body, step) = signin.next_request(credential).unwrap().unwrap();
        assert!(matches!(body, RequestBody::CreateAccount(_)));
        let account = AccountId::from_bytes([2; 16]);
        let device = DevicePublicKey::from_signing_key(&key).device_id();
        let created = signin.on_answer(step, Ok(AccountCreated { account, device }.into()));
        assert_eq!(created, SignInOutcome::AccountCreated(account));
        // Another connection: an answer of the wrong kind leaves it offline.
        signin.connected(exporter());
        assert_eq!(
            signin.on_answer(SignInStep::Challenge, Ok(Authenticated { account }.into())),
            SignInOutcome::Unexpected
        );
        assert!(signin.next_request(credential).is_none());
    }
}
