//! TLS 1.3 for both transports: the relay's server configuration, the client's pinned
//! configuration, and the exporter that device authentication signs.
//!
//! Clients do not consult any certificate authority. The invitation carries the SHA-256
//! of the relay key's SubjectPublicKeyInfo (the *pin*); [`PinnedRelayVerifier`] accepts
//! exactly a certificate with that key, and checks that the handshake was signed by it.

use std::sync::Arc;

use huisclos_protocol::auth::{TLS_EXPORTER_LABEL, TLS_EXPORTER_LEN, TlsExporter};
use huisclos_protocol::limits::ALPN;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
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

/// A client's TLS configuration that accepts only the relay whose key has `pin`.
pub fn client_config(pin: SpkiPin) -> rustls::ClientConfig {
    let provider = provider();
    let verifier = Arc::new(PinnedRelayVerifier { pin, algorithms: provider.signature_verification_algorithms });
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
    config
}

/// The server name to pass to TLS connectors (not sent on the wire; see
/// [`RELAY_SERVER_NAME`]).
pub fn server_name() -> ServerName<'static> {
    ServerName::try_from(RELAY_SERVER_NAME).unwrap_or_else(|_| unreachable!("a valid DNS name"))
}

/// Accepts exactly one relay key, whatever certificate carries it.
#[derive(Debug)]
pub struct PinnedRelayVerifier {
    pin: SpkiPin,
    algorithms: WebPkiSupportedAlgorithms,
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
        if bool::from(presented.0.ct_eq(&self.pin.0)) {
            Ok(ServerCertVerified::assertion())
        } else {
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
