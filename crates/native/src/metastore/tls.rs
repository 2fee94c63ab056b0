//! TLS client settings for the SQL metastores, on rustls with the `ring` provider (no
//! OpenSSL). [`Verify`] names how much of the server's certificate is checked, in libpq's
//! terms: nothing but the handshake signatures (`sslmode=require`, MySQL `skip-verify`),
//! the chain up to a trusted root (`verify-ca`), or the chain and the host name
//! (`verify-full`, MySQL `tls=true`). Trusted roots are the PEM certificates of a CA file
//! when one is given, else Mozilla's (`webpki-roots`), never the system store, so the same
//! build trusts the same roots everywhere. A CA file that cannot be read or holds no
//! certificate is a configuration error naming the file, never its contents.
#![forbid(unsafe_code)]

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use crate::error::Error;

/// How much of the server's certificate a TLS connection checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Encrypt only: any certificate is accepted (the handshake's signatures still are
    /// checked against it, so the peer holds its key). Protects against eavesdropping,
    /// not against an active man in the middle.
    Nothing,
    /// The chain must lead to a trusted root; the host name is not compared.
    Chain,
    /// The chain must lead to a trusted root and name the host connected to.
    Full,
}

/// The process-wide provider of the metastores' TLS: `ring`.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Installs `ring` as rustls's process default if none is installed yet. mysql_async
/// builds its own `ClientConfig` with `ClientConfig::builder()`, which needs a default
/// when more than one provider is compiled in; an already installed default is kept.
pub(crate) fn ensure_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Reads the PEM certificates of `path`; at least one is required.
pub(crate) fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| Error::config(format!("cannot read the CA file {shown}: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| Error::config(format!("the CA file {shown} is not valid PEM")))?;
    if certs.is_empty() {
        return Err(Error::config(format!(
            "the CA file {shown} holds no PEM certificate"
        )));
    }
    Ok(certs)
}

/// A client config that checks what `verify` says, trusting the certificates of
/// `ca_file` if given (else Mozilla's roots).
pub(crate) fn client_config(verify: Verify, ca_file: Option<&Path>) -> Result<ClientConfig, Error> {
    let provider = provider();
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            for cert in read_ca_file(path)? {
                roots.add(cert).map_err(|e| {
                    Error::config(format!(
                        "the CA file {} holds a certificate rustls cannot use: {e}",
                        path.display()
                    ))
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::config(format!("cannot build the TLS verifier: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match verify {
        Verify::Full => webpki,
        Verify::Chain => Arc::new(ChainOnly(webpki)),
        Verify::Nothing => Arc::new(AnyCertificate(provider.clone())),
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::config(format!("cannot build the TLS config: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// `verify-ca`: the web PKI checks, except that a certificate for another name passes.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
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
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `require` without a root: any certificate, but the handshake must be signed by its key.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
