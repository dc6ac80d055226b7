//! TLS: the rustls server configuration (TLS 1.2 and 1.3, AEAD suites with
//! forward secrecy only, ring provider) and the development-certificate guard.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// The development server certificate shipped in `certs/`.
const DEV_CERT_PEM: &[u8] = include_bytes!("../certs/server.crt");

/// Builds the server configuration from PEM files. The development
/// certificate is refused on a non-loopback address unless `allow_dev_cert`.
pub fn server_config(
    cert: &Path,
    key: &Path,
    listen: SocketAddr,
    allow_dev_cert: bool,
) -> Result<ServerConfig, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<_, _>>())
        .map_err(|e| format!("tls-cert {}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("tls-cert {}: no certificate found", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("tls-key {}: {e}", key.display()))?;
    if is_development_certificate(&chain[0]) && !listen.ip().is_loopback() && !allow_dev_cert {
        return Err(format!(
            "refusing to serve the development certificate on {listen}: it is for loopback only \
             (use a real certificate, or pass --allow-dev-cert to insist)"
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("tls-cert/tls-key: {e}"))?;
    // actix-http adds the protocols it serves (HTTP/1.1) itself; offering
    // h2 here would let a client negotiate a protocol it cannot serve.
    config.alpn_protocols.clear();
    Ok(config)
}

/// True when `leaf` is the repository's development certificate.
pub fn is_development_certificate(leaf: &CertificateDer<'_>) -> bool {
    CertificateDer::pem_slice_iter(DEV_CERT_PEM).flatten().next().is_some_and(|dev| dev.as_ref() == leaf.as_ref())
}
