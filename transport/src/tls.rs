//! TLS 1.3 for both transports: the relay's server configuration, the client's pinned
//! configuration, and the exporter that device authentication signs.
//!
//! Clients do not consult any certificate authority. The invitation carries the SHA-256
//! of the relay key's SubjectPublicKeyInfo (the *pin*); [`PinnedRelayVerifier`] accepts
//! exactly a certificate with that key, and checks that the handshake was signed by it.
//!
//! While the relay's key is being replaced ([`huisclos_protocol::relay_key`]), its
//! certificate carries the current key's statement naming the next one: a client
//! accepts either of the two keys it knows ([`RelayPins`]) and learns, from the
//! handshake, which one was presented and what it announced ([`PresentedKey`]). The
//! relay presents the next key from the moment the statement names
//! ([`rotating_server_config`]).

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use huisclos_protocol::auth::{TLS_EXPORTER_LABEL, TLS_EXPORTER_LEN, TlsExporter};
use huisclos_protocol::codec::Wire;
use huisclos_protocol::limits::ALPN;
use huisclos_protocol::relay_key::{RelayKeyRotation, rotation_oid_der};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, SignatureScheme};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::TransportError;

/// The TLS server name clients use. SNI is not sent (the name would only help a network
/// observer), and the pin, not the name, authenticates the relay.
pub const RELAY_SERVER_NAME: &str = "huisclos-relay";

/// SHA-256 of a relay key's DER SubjectPublicKeyInfo.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpkiPin(pub [u8; 32]);

impl SpkiPin {
    /// The pin of the key in `certificate`.
    ///
    /// # Errors
    /// [`TransportError::Certificate`] if the certificate does not parse.
    pub fn of_certificate(certificate: &CertificateDer<'_>) -> Result<Self, TransportError> {
        let cert = webpki::EndEntityCert::try_from(certificate).map_err(|_| TransportError::Certificate)?;
        Ok(Self(Sha256::digest(cert.subject_public_key_info().as_ref()).into()))
    }
}

/// The keys a client accepts: the one it pins, and the one that key named as its
/// successor, once learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPins {
    /// The pinned key.
    pub current: SpkiPin,
    /// The key the pinned one announced, accepted too.
    pub next: Option<SpkiPin>,
}

impl From<SpkiPin> for RelayPins {
    fn from(current: SpkiPin) -> Self {
        Self { current, next: None }
    }
}

impl RelayPins {
    fn accepts(&self, presented: &SpkiPin) -> bool {
        let current = bool::from(presented.0.ct_eq(&self.current.0));
        let next = self.next.is_some_and(|next| bool::from(presented.0.ct_eq(&next.0)));
        current | next
    }
}

/// The key a relay presented in a handshake that succeeded, and the successor it
/// announced, its signature checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedKey {
    /// The presented key's pin (one of the [`RelayPins`]).
    pub pin: SpkiPin,
    /// The statement by which it names its successor, verified against it.
    pub rotation: Option<RelayKeyRotation>,
}

/// What a connection's verifier saw: the [`PresentedKey`] it accepted, or the pin of
/// a key it refused.
#[derive(Debug, Default)]
pub struct Observed {
    /// The key accepted.
    pub presented: Option<PresentedKey>,
    /// A key refused: not one of the pins.
    pub refused: Option<SpkiPin>,
}

/// Where a connection's verifier leaves what it saw.
pub type PresentedKeySlot = Arc<Mutex<Observed>>;

/// The rotation statement a relay's certificate carries, if any, verified against the
/// certificate's own key. A certificate without one, or with one that does not parse
/// or verify, announces nothing (logged: the relay's key was accepted, and a broken
/// announcement must not cut its clients off).
pub fn announced_rotation(certificate: &CertificateDer<'_>) -> Option<RelayKeyRotation> {
    let cert = webpki::EndEntityCert::try_from(certificate).ok()?;
    let spki = cert.subject_public_key_info();
    let bytes = match rotation_extension(certificate.as_ref()) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return None,
        Err(_) => {
            tracing::warn!("the relay's certificate does not parse as DER where its extensions are");
            return None;
        }
    };
    let rotation = match RelayKeyRotation::from_wire(bytes) {
        Ok(rotation) => rotation,
        Err(_) => {
            tracing::warn!("the relay's certificate carries a key rotation that does not decode; ignored");
            return None;
        }
    };
    if rotation.verify(spki.as_ref()).is_err() {
        tracing::warn!("the relay's certificate carries a key rotation its key did not sign; ignored");
        return None;
    }
    Some(rotation)
}

/// The contents of the rotation extension of a DER certificate: the bytes of the
/// OCTET STRING its `extnValue` holds (RFC 5280, section 4.1).
fn rotation_extension(certificate: &[u8]) -> der::Result<Option<&[u8]>> {
    use der::asn1::AnyRef;
    use der::{Decode, Reader, SliceReader, Tag, TagNumber, Tagged};

    fn sequence_of(any: AnyRef<'_>) -> der::Result<SliceReader<'_>> {
        any.tag().assert_eq(Tag::Sequence)?;
        SliceReader::new(any.value())
    }
    let oid = rotation_oid_der();
    let mut certificate = sequence_of(AnyRef::from_der(certificate)?)?;
    let mut tbs = sequence_of(certificate.decode::<AnyRef<'_>>()?)?;
    while !tbs.is_finished() {
        let field = tbs.decode::<AnyRef<'_>>()?;
        if field.tag() != (Tag::ContextSpecific { constructed: true, number: TagNumber::N3 }) {
            continue;
        }
        let mut extensions = sequence_of(AnyRef::from_der(field.value())?)?;
        while !extensions.is_finished() {
            let mut extension = sequence_of(extensions.decode::<AnyRef<'_>>()?)?;
            let id = extension.decode::<AnyRef<'_>>()?;
            id.tag().assert_eq(Tag::ObjectIdentifier)?;
            if id.value() != oid.as_slice() {
                continue;
            }
            let mut value = extension.decode::<AnyRef<'_>>()?;
            if value.tag() == Tag::Boolean {
                value = extension.decode::<AnyRef<'_>>()?;
            }
            value.tag().assert_eq(Tag::OctetString)?;
            let inner = AnyRef::from_der(value.value())?;
            inner.tag().assert_eq(Tag::OctetString)?;
            return Ok(Some(inner.value()));
        }
    }
    Ok(None)
}

impl std::fmt::Debug for SpkiPin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SpkiPin(")?;
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
        write!(f, ")")
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The relay's TLS configuration: TLS 1.3 only, ALPN `huisclos/1`, one certificate.
///
/// # Errors
/// [`TransportError::Tls`] if the key does not match the certificate or is unsupported.
pub fn server_config(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
) -> Result<rustls::ServerConfig, TransportError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    // 0-RTT data could be replayed by a network attacker; the protocol never needs it.
    config.max_early_data_size = 0;
    Ok(config)
}

/// A key the relay presents from a given moment on: the next key of a rotation.
pub struct NextRelayKey {
    /// Its certificate.
    pub certificate: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
    /// From when the relay presents it instead of the current one.
    pub from: SystemTime,
}

/// [`server_config`] for a relay whose key is being replaced: `certificate` (which
/// carries the rotation statement) is presented until `next.from`, then `next`'s.
///
/// # Errors
/// [`TransportError::Tls`] if a key does not match its certificate or is unsupported.
pub fn rotating_server_config(
    certificate: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
    next: NextRelayKey,
) -> Result<rustls::ServerConfig, TransportError> {
    let provider = provider();
    let certified = |certificate: CertificateDer<'static>, key: PrivateKeyDer<'static>| {
        CertifiedKey::from_der(vec![certificate], key, &provider).map(Arc::new)
    };
    let resolver = RotatingKeys {
        current: certified(certificate, key).map_err(|e| TransportError::Tls(e.to_string()))?,
        next: certified(next.certificate, next.key).map_err(|e| TransportError::Tls(e.to_string()))?,
        from: next.from,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TransportError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.max_early_data_size = 0;
    Ok(config)
}

/// Presents the current key until the switch, then the next one: every relay process
/// holding the same rotation switches at the same moment, with no restart.
#[derive(Debug)]
struct RotatingKeys {
    current: Arc<CertifiedKey>,
    next: Arc<CertifiedKey>,
    from: SystemTime,
}

impl ResolvesServerCert for RotatingKeys {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(if SystemTime::now() >= self.from { self.next.clone() } else { self.current.clone() })
    }
}

/// A client's TLS configuration that accepts only the relay whose key is one of `pins`.
pub fn client_config(pins: impl Into<RelayPins>) -> rustls::ClientConfig {
    observed_client_config(pins).0
}

/// [`client_config`], and where its verifier leaves the key the relay presented.
pub fn observed_client_config(pins: impl Into<RelayPins>) -> (rustls::ClientConfig, PresentedKeySlot) {
    let provider = provider();
    let presented = PresentedKeySlot::default();
    let verifier = Arc::new(PinnedRelayVerifier {
        pins: pins.into(),
        algorithms: provider.signature_verification_algorithms,
        presented: presented.clone(),
    });
    // `with_protocol_versions` fails only for versions the provider lacks; ring has 1.3.
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap_or_else(|_| unreachable!("the ring provider supports TLS 1.3"));
    let mut config = builder.dangerous().with_custom_certificate_verifier(verifier).with_no_client_auth();
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.enable_sni = false;
    // Session tickets are keyed by server name, which is the same constant for every
    // relay: resuming could skip the pin check against another relay. Never resume.
    config.resumption = rustls::client::Resumption::disabled();
    (config, presented)
}

/// The server name to pass to TLS connectors (not sent on the wire; see
/// [`RELAY_SERVER_NAME`]).
pub fn server_name() -> ServerName<'static> {
    ServerName::try_from(RELAY_SERVER_NAME).unwrap_or_else(|_| unreachable!("a valid DNS name"))
}

/// Accepts exactly the pinned relay keys, whatever certificate carries them, and
/// leaves the one presented, with what it announced, in its slot.
#[derive(Debug)]
pub struct PinnedRelayVerifier {
    pins: RelayPins,
    algorithms: WebPkiSupportedAlgorithms,
    presented: PresentedKeySlot,
}

impl ServerCertVerifier for PinnedRelayVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // Names, validity dates and issuers do not matter: the operator's invitation
        // named this key, and the handshake signature (checked below) proves possession.
        let presented = SpkiPin::of_certificate(end_entity)
            .map_err(|_| rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding))?;
        if self.pins.accepts(&presented) {
            // Recorded before the handshake signature is checked: the slot is read
            // only once the handshake completed, which that check is part of.
            let rotation = announced_rotation(end_entity);
            if let Ok(mut slot) = self.presented.lock() {
                slot.presented = Some(PresentedKey { pin: presented, rotation });
            }
            Ok(ServerCertVerified::assertion())
        } else {
            if let Ok(mut slot) = self.presented.lock() {
                slot.refused = Some(presented);
            }
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::ApplicationVerificationFailure))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::PeerIncompatible(rustls::PeerIncompatible::Tls13RequiredForQuic))
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The exporter of a TCP+TLS connection (either side), as device authentication signs it.
///
/// # Errors
/// [`TransportError::Tls`] before the handshake completes.
pub fn tls_exporter<D>(connection: &rustls::ConnectionCommon<D>) -> Result<TlsExporter, TransportError> {
    let mut exporter = [0u8; TLS_EXPORTER_LEN];
    connection
        .export_keying_material(&mut exporter, TLS_EXPORTER_LABEL, Some(&[]))
        .map_err(|e| TransportError::Tls(e.to_string()))?;
    Ok(TlsExporter::from_bytes(exporter))
}

/// The exporter of a QUIC connection (either side).
///
/// # Errors
/// [`TransportError::Tls`] if the connection has no exporter yet.
pub fn quic_exporter(connection: &quinn::Connection) -> Result<TlsExporter, TransportError> {
    let mut exporter = [0u8; TLS_EXPORTER_LEN];
    connection
        .export_keying_material(&mut exporter, TLS_EXPORTER_LABEL, &[])
        .map_err(|_| TransportError::Tls("exporter unavailable".into()))?;
    Ok(TlsExporter::from_bytes(exporter))
}
