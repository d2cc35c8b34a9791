//! TLS for the queue's connections, through rustls (the provider reqwest uses), with libpq's
//! meanings: `prefer`, `allow` and `require` encrypt without checking the certificate (unless
//! `require` has an `sslrootcert`), `verify-ca` checks that a trusted authority signed it,
//! `verify-full` also that it names the host; the client certificate (`sslcert`, `sslkey`),
//! when there is one, is presented to a server that asks. A refused certificate becomes a
//! [`CertificateCheck`] saying which check failed.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::client_cert::{self, Identity};
use super::config::{Roots, Target, Verify};
use crate::batch::error::{causes, BatchError, CertificateCheck};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The TLS stack a queue connects through.
#[derive(Clone)]
pub(crate) enum Connector {
    Rustls(MakeRustlsConnect),
    /// The platform's TLS (feature `postgres-native-tls`).
    #[cfg(feature = "postgres-native-tls")]
    Platform(postgres_native_tls::MakeTlsConnector),
}

/// The TLS connector for `target`'s `sslmode`, `sslrootcert` and client certificate, through
/// rustls or, with `platform`, the platform's TLS. The client certificate's files are read and
/// checked here, before any connection.
pub(crate) fn connector(target: &Target, platform: bool) -> Result<Connector, BatchError> {
    let identity = target.client_cert.as_ref().map(client_cert::load).transpose()?;
    #[cfg(feature = "postgres-native-tls")]
    if platform {
        return native::connector(target, identity.as_ref()).map(Connector::Platform);
    }
    let _ = platform;
    rustls_connector(target, identity).map(Connector::Rustls)
}

fn rustls_connector(target: &Target, identity: Option<Identity>) -> Result<MakeRustlsConnect, BatchError> {
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match (target.verify, &target.roots) {
        (Verify::Nothing, _) | (_, None) => Arc::new(Lenient { provider: Arc::clone(&provider), chain: None }),
        (Verify::Full, Some(Roots::System)) | (Verify::Chain, Some(Roots::System)) => {
            Arc::new(rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).map_err(|e| BatchError::Queue {
                reason: "could not load the platform's trusted authorities".into(),
                source: Some(Box::new(e)),
            })?)
        }
        (verify, Some(Roots::File(path))) => {
            let mut store = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| pem_error(path, e))?;
            for cert in certs {
                let cert = cert.map_err(|e| pem_error(path, e))?;
                store.add(cert).map_err(|e| {
                    crate::batch::error::invalid(
                        "sslrootcert",
                        format!("{}: a certificate is not usable: {e}", path.display()),
                    )
                })?;
            }
            if store.is_empty() {
                return Err(crate::batch::error::invalid(
                    "sslrootcert",
                    format!("{} holds no PEM certificate", path.display()),
                ));
            }
            let full = WebPkiServerVerifier::builder_with_provider(Arc::new(store), Arc::clone(&provider))
                .build()
                .map_err(|e| crate::batch::error::invalid("sslrootcert", format!("{}: {e}", path.display())))?;
            if verify == Verify::Full {
                full
            } else {
                Arc::new(Lenient { provider: Arc::clone(&provider), chain: Some(full) })
            }
        }
    };
    let setup_failed =
        |e: rustls::Error| BatchError::Queue { reason: "could not set up TLS".into(), source: Some(Box::new(e)) };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup_failed)?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match identity {
        // `client_cert::load` has checked that the key is the certificate's.
        Some(identity) => config.with_client_auth_cert(identity.chain, identity.key).map_err(setup_failed)?,
        None => config.with_no_client_auth(),
    };
    Ok(MakeRustlsConnect::new(config))
}

fn pem_error(path: &std::path::Path, error: rustls::pki_types::pem::Error) -> BatchError {
    match error {
        rustls::pki_types::pem::Error::Io(source) => {
            BatchError::Io { action: "read the sslrootcert", path: path.to_owned(), source }
        }
        other => crate::batch::error::invalid("sslrootcert", format!("{} is not a PEM file: {other}", path.display())),
    }
}

/// `error` as a TLS stack's error `T`: itself, or the one inside when it is an `io::Error`, as
/// the TLS stream hands it to tokio-postgres.
fn tls_error<'a, T: std::error::Error + 'static>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    error.downcast_ref::<T>().or_else(|| {
        error.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).and_then(|inner| inner.downcast_ref::<T>())
    })
}

/// Why a server refused the client certificate, as [`refused_client_certificate`] says it.
const CLIENT_UNTRUSTED: &str = "no authority the server trusts (its ssl_ca_file) signed it";
const CLIENT_EXPIRED: &str = "it has expired, or is not valid yet";
const CLIENT_REVOKED: &str = "it has been revoked";
const CLIENT_UNUSABLE: &str = "the server could not use it (a certificate for client authentication is needed)";

/// Why the server refused the client certificate during the handshake, from the TLS alert it
/// sent: `None` when the error is no such alert. The alert is all a client learns; the server's
/// log says more.
pub(crate) fn refused_client_certificate(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
    use rustls::AlertDescription as Alert;
    for error in causes(error) {
        let rustls_error = tls_error::<rustls::Error>(error);
        if let Some(rustls::Error::AlertReceived(alert)) = rustls_error {
            return match alert {
                Alert::UnknownCA => Some(CLIENT_UNTRUSTED),
                Alert::CertificateExpired => Some(CLIENT_EXPIRED),
                Alert::CertificateRevoked => Some(CLIENT_REVOKED),
                Alert::BadCertificate | Alert::UnsupportedCertificate | Alert::CertificateUnknown => {
                    Some(CLIENT_UNUSABLE)
                }
                Alert::CertificateRequired => Some("the server requires one"),
                _ => None,
            };
        }
        #[cfg(feature = "postgres-native-tls")]
        if let Some(why) = native::refused_client_certificate(error) {
            return Some(why);
        }
    }
    None
}

/// Which check a certificate failed, when `error` (a connect's) is a refused certificate.
pub(crate) fn refused_check(error: &(dyn std::error::Error + 'static)) -> Option<CertificateCheck> {
    for error in causes(error) {
        #[cfg(feature = "postgres-native-tls")]
        if let Some(check) = native::refused_check(error) {
            return Some(check);
        }
        let rustls_error = tls_error::<rustls::Error>(error);
        if let Some(rustls::Error::InvalidCertificate(check)) = rustls_error {
            return Some(match check {
                CertificateError::UnknownIssuer => CertificateCheck::UnknownIssuer,
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                    CertificateCheck::NameMismatch
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => CertificateCheck::Expired,
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    CertificateCheck::NotYetValid
                }
                CertificateError::Revoked => CertificateCheck::Revoked,
                other => CertificateCheck::Other(format!("{other:?}")),
            });
        }
    }
    None
}

/// The weaker checks of libpq's modes: `prefer`, `allow`, `require` without a root take any
/// certificate (no `chain`); `verify-ca` checks the chain, not the name. The handshake's
/// signatures are checked either way, with the provider's algorithms (those `chain` was built
/// with): the server holds the key of the certificate it sent.
#[derive(Debug)]
struct Lenient {
    provider: Arc<CryptoProvider>,
    chain: Option<Arc<WebPkiServerVerifier>>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// The platform's TLS (feature `postgres-native-tls`): OpenSSL on Linux, Secure Transport on
/// macOS, SChannel on Windows, with the same meanings of `sslmode` and `sslrootcert`.
#[cfg(feature = "postgres-native-tls")]
mod native {
    use super::{CertificateCheck, Identity};
    use crate::batch::error::BatchError;
    use crate::batch::queue::config::{Roots, Target, Verify};

    pub(super) fn connector(
        target: &Target,
        identity: Option<&Identity>,
    ) -> Result<postgres_native_tls::MakeTlsConnector, BatchError> {
        let mut builder = native_tls::TlsConnector::builder();
        if let Some(identity) = identity {
            // native-tls takes a PKCS#8 key only, on every platform.
            if !matches!(identity.key, rustls::pki_types::PrivateKeyDer::Pkcs8(_)) {
                return Err(crate::batch::error::invalid(
                    "sslkey",
                    "the platform's TLS takes a PKCS#8 key (\"PRIVATE KEY\") only: convert it \
                     (openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8; chmod 0600 KEY.pk8), or connect \
                     through rustls",
                ));
            }
            let identity = native_tls::Identity::from_pkcs8(&identity.chain_pem, &identity.key_pem).map_err(|e| {
                crate::batch::error::invalid("sslkey", format!("the platform's TLS cannot take the key: {e}"))
            })?;
            builder.identity(identity);
        }
        match target.verify {
            Verify::Nothing => {
                builder.danger_accept_invalid_certs(true);
            }
            Verify::Chain => {
                builder.danger_accept_invalid_hostnames(true);
            }
            Verify::Full => {}
        }
        if let (Verify::Chain | Verify::Full, Some(Roots::File(path))) = (target.verify, &target.roots) {
            let pem = std::fs::read(path).map_err(|source| BatchError::Io {
                action: "read the sslrootcert",
                path: path.clone(),
                source,
            })?;
            let mut found = false;
            let text = String::from_utf8_lossy(&pem);
            for cert in
                text.split("-----END CERTIFICATE-----").filter(|part| part.contains("-----BEGIN CERTIFICATE-----"))
            {
                let cert = format!("{cert}-----END CERTIFICATE-----\n");
                let cert = native_tls::Certificate::from_pem(cert.as_bytes()).map_err(|e| {
                    crate::batch::error::invalid("sslrootcert", format!("{} is not a PEM file: {e}", path.display()))
                })?;
                builder.add_root_certificate(cert);
                found = true;
            }
            if !found {
                return Err(crate::batch::error::invalid(
                    "sslrootcert",
                    format!("{} holds no PEM certificate", path.display()),
                ));
            }
            builder.disable_built_in_roots(true);
        }
        let connector = builder.build().map_err(|e| BatchError::Queue {
            reason: "could not set up the platform's TLS".into(),
            source: Some(Box::new(e)),
        })?;
        Ok(postgres_native_tls::MakeTlsConnector::new(connector))
    }

    /// [`super::refused_client_certificate`] for the platform's TLS, read from OpenSSL's text of
    /// the alert, which comes in the handshake's error or, with TLS 1.3, in the first read's
    /// (the platforms give no more).
    pub(super) fn refused_client_certificate(error: &(dyn std::error::Error + 'static)) -> Option<&'static str> {
        let text = error.to_string().to_lowercase();
        if text.contains("alert unknown ca") {
            Some(super::CLIENT_UNTRUSTED)
        } else if text.contains("alert certificate expired") {
            Some(super::CLIENT_EXPIRED)
        } else if text.contains("alert certificate revoked") {
            Some(super::CLIENT_REVOKED)
        } else if text.contains("alert bad certificate") || text.contains("alert certificate unknown") {
            Some(super::CLIENT_UNUSABLE)
        } else {
            None
        }
    }

    /// The check a platform TLS error names, read from its message (the platforms give no
    /// more).
    pub(super) fn refused_check(error: &(dyn std::error::Error + 'static)) -> Option<CertificateCheck> {
        let native = super::tls_error::<native_tls::Error>(error)?;
        let text = native.to_string();
        let lower = text.to_lowercase();
        let check = if lower.contains("unable to get local issuer")
            || lower.contains("self-signed certificate")
            || lower.contains("self signed certificate")
            || lower.contains("unable to get issuer")
        {
            CertificateCheck::UnknownIssuer
        } else if lower.contains("hostname mismatch") || lower.contains("ip address mismatch") {
            CertificateCheck::NameMismatch
        } else if lower.contains("certificate has expired") {
            CertificateCheck::Expired
        } else if lower.contains("certificate is not yet valid") {
            CertificateCheck::NotYetValid
        } else if lower.contains("certificate revoked") {
            CertificateCheck::Revoked
        } else if lower.contains("certificate verify failed") {
            CertificateCheck::Other(text)
        } else {
            return None;
        };
        Some(check)
    }
}
