//! The engine's MLS glue: the openmls provider (RustCrypto with the encrypted
//! [`MlsStorage`]), the device's MLS signer, key packages, and the group configuration
//! every space uses.

use ed25519_dalek::{Signer as _, SigningKey};
use openmls::prelude::tls_codec::Serialize as _;
use openmls::prelude::*;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::OpenMlsProvider;
use openmls_traits::signatures::{Signer, SignerError};
use openmls_traits::types::SignatureScheme;

use crate::error::{CoreError, InvalidInput, Refusal, Result, Unverified};
use crate::history::{HISTORY_LEDGER_EXTENSION_TYPE, HistoryLedger};
use crate::identity::DeviceCertificate;
use crate::mls_storage::MlsStorage;
use crate::space::{SPACE_RULES_EXTENSION_TYPE, SpaceRules};

/// The one ciphersuite of Huis Clos.
pub const CIPHERSUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

/// How many past epochs' secrets a device keeps to decrypt late application messages:
/// none. The relay appends a message only in the group's current epoch (a stale one is
/// refused, and the outbox encrypts it again after catching up), and devices read the
/// log in order, so no message of a past epoch ever arrives after its epoch ended. So
/// an epoch's secrets are deleted as soon as it ends: a device seized later cannot read
/// what it already received in past epochs from captured traffic, and a commit does not
/// rewrite past epochs' trees (at 10,000 leaves, several megabytes each).
pub const MAX_PAST_EPOCHS: usize = 0;

/// How far out of order, and how far ahead, an application message may be within an
/// epoch before it is refused.
pub const OUT_OF_ORDER_TOLERANCE: u32 = 32;
/// See [`OUT_OF_ORDER_TOLERANCE`].
pub const MAXIMUM_FORWARD_DISTANCE: u32 = 1000;

/// The provider openmls calls for cryptography, randomness and storage.
#[derive(Debug)]
pub struct Provider {
    crypto: RustCrypto,
    storage: MlsStorage,
}

impl Provider {
    /// A provider over the encrypted storage.
    pub fn new(storage: MlsStorage) -> Self {
        Self { crypto: RustCrypto::default(), storage }
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MlsStorage;

    fn storage(&self) -> &MlsStorage {
        &self.storage
    }

    fn crypto(&self) -> &RustCrypto {
        &self.crypto
    }

    fn rand(&self) -> &RustCrypto {
        &self.crypto
    }
}

/// The device's MLS signature key as openmls's signer.
pub struct DeviceSigner<'a>(pub &'a SigningKey);

impl Signer for DeviceSigner<'_> {
    fn sign(&self, payload: &[u8]) -> std::result::Result<Vec<u8>, SignerError> {
        Ok(self.0.sign(payload).to_bytes().to_vec())
    }

    fn signature_scheme(&self) -> SignatureScheme {
        SignatureScheme::ED25519
    }
}

/// The device's credential: its certificate as a basic credential, with its key.
pub fn credential_with_key(certificate: &DeviceCertificate) -> CredentialWithKey {
    use huisclos_protocol::codec::Wire;
    CredentialWithKey {
        credential: BasicCredential::new(certificate.to_wire()).into(),
        signature_key: certificate.body.mls_key.to_vec().into(),
    }
}

/// The capabilities every Huis Clos leaf declares: our ciphersuite, the space-rules and
/// history-ledger extensions, and the last-resort extension (without it, a
/// last-resort key package fails validation at the inviter).
pub fn capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[CIPHERSUITE]),
        Some(&[
            ExtensionType::Unknown(SPACE_RULES_EXTENSION_TYPE),
            ExtensionType::Unknown(HISTORY_LEDGER_EXTENSION_TYPE),
            ExtensionType::LastResort,
        ]),
        None,
        Some(&[CredentialType::Basic]),
    )
}

fn required_capabilities() -> RequiredCapabilitiesExtension {
    RequiredCapabilitiesExtension::new(
        &[ExtensionType::Unknown(SPACE_RULES_EXTENSION_TYPE), ExtensionType::Unknown(HISTORY_LEDGER_EXTENSION_TYPE)],
        &[],
        &[CredentialType::Basic],
    )
}

/// The space rules and the history ledger as group-context extensions, with the
/// required-capabilities extension that makes every member support them.
///
/// # Errors
/// [`CoreError::Mls`] if openmls refuses the extension list.
pub fn group_context_extensions(rules: &SpaceRules, ledger: &HistoryLedger) -> Result<Extensions<GroupContext>> {
    use huisclos_protocol::codec::Wire;
    let required = Extension::RequiredCapabilities(required_capabilities());
    let rules = Extension::Unknown(SPACE_RULES_EXTENSION_TYPE, UnknownExtension(rules.to_wire()));
    let ledger = Extension::Unknown(HISTORY_LEDGER_EXTENSION_TYPE, UnknownExtension(ledger.to_wire()));
    Extensions::from_vec(vec![required, rules, ledger]).map_err(crate::engine::mls_refused)
}

/// The history ledger held in a group context's extensions; `None` in a space created
/// before ledgers (release 0.1).
///
/// # Errors
/// [`CoreError::Decode`] when it is malformed.
pub fn ledger_of(extensions: &Extensions<GroupContext>) -> Result<Option<HistoryLedger>> {
    use huisclos_protocol::codec::Wire;
    for extension in extensions.iter() {
        if let Extension::Unknown(kind, UnknownExtension(bytes)) = extension
            && *kind == HISTORY_LEDGER_EXTENSION_TYPE
        {
            return Ok(Some(HistoryLedger::from_wire(bytes)?));
        }
    }
    Ok(None)
}

/// The rules held in a group context's extensions.
///
/// # Errors
/// [`CoreError::Invalid`] when the extension is missing or malformed.
pub fn rules_of(extensions: &Extensions<GroupContext>) -> Result<SpaceRules> {
    for extension in extensions.iter() {
        if let Extension::Unknown(kind, UnknownExtension(bytes)) = extension
            && *kind == SPACE_RULES_EXTENSION_TYPE
        {
            return SpaceRules::from_extension_bytes(bytes);
        }
    }
    Err(CoreError::Invalid(InvalidInput::RulesMalformed))
}

/// Checks that a group context holds exactly the extensions every space has: the
/// required capabilities of [`group_context_extensions`], the space rules and the
/// history ledger, nothing else (no external senders, no requirement changed).
///
/// # Errors
/// [`CoreError::Forbidden`] otherwise.
pub fn check_context_extensions(extensions: &Extensions<GroupContext>) -> Result<()> {
    let expected_required = required_capabilities();
    let (mut rules, mut ledger) = (0, 0);
    for extension in extensions.iter() {
        match extension {
            Extension::RequiredCapabilities(required) if required == &expected_required => {}
            Extension::Unknown(kind, _) if *kind == SPACE_RULES_EXTENSION_TYPE => rules += 1,
            Extension::Unknown(kind, _) if *kind == HISTORY_LEDGER_EXTENSION_TYPE => ledger += 1,
            _ => return Err(CoreError::Forbidden(Refusal::UnknownExtension)),
        }
    }
    if rules != 1 || ledger != 1 || extensions.required_capabilities().is_none() {
        return Err(CoreError::Forbidden(Refusal::ContextIncomplete));
    }
    Ok(())
}

/// The configuration every space's group is created with: encrypted handshakes, the
/// ratchet tree in Welcomes, no past epochs' secrets kept.
pub fn create_config() -> MlsGroupCreateConfig {
    MlsGroupCreateConfig::builder()
        .ciphersuite(CIPHERSUITE)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(OUT_OF_ORDER_TOLERANCE, MAXIMUM_FORWARD_DISTANCE))
        .capabilities(capabilities())
        .build()
}

/// The configuration for joining from a Welcome (the same policies).
pub fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(OUT_OF_ORDER_TOLERANCE, MAXIMUM_FORWARD_DISTANCE))
        .build()
}

/// Makes a key package for this device; its private keys go to the encrypted storage.
///
/// # Errors
/// [`CoreError::Mls`] if openmls fails.
pub fn key_package(
    provider: &Provider,
    signer: &SigningKey,
    certificate: &DeviceCertificate,
    last_resort: bool,
) -> Result<Vec<u8>> {
    let mut builder = KeyPackage::builder().leaf_node_capabilities(capabilities());
    if last_resort {
        builder = builder.mark_as_last_resort();
    }
    let bundle = builder
        .build(CIPHERSUITE, provider, &DeviceSigner(signer), credential_with_key(certificate))
        .map_err(crate::engine::mls_refused)?;
    MlsMessageOut::from(bundle.key_package().clone()).tls_serialize_detached().map_err(crate::engine::mls_refused)
}

/// The verified device certificate inside an MLS credential, checked against the leaf's
/// signature key.
///
/// # Errors
/// [`CoreError::Verification`] when the credential is not a valid certificate or names
/// another key.
pub fn certificate_of(credential: &Credential, signature_key: &[u8]) -> Result<DeviceCertificate> {
    let basic =
        BasicCredential::try_from(credential.clone()).map_err(|_| CoreError::Verification(Unverified::Malformed))?;
    let certificate = DeviceCertificate::from_verified_bytes(basic.identity())?;
    if certificate.body.mls_key.as_slice() != signature_key {
        return Err(CoreError::Verification(Unverified::WrongPerson));
    }
    Ok(certificate)
}
