//! A small HTTP/1.1 client with exact control: one keep-alive connection
//! per [`Conn`], opened only to a validated [`Target`], over TLS (trusting
//! only the repository's development CA) or, for Prism, plain HTTP.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

use crate::target::{Scheme, Target};

/// TLS client settings: the development CA only, rustls' safe defaults.
#[derive(Clone)]
pub struct Tls(tokio_rustls::TlsConnector);

impl Tls {
    pub fn from_ca_file(path: &std::path::Path) -> Result<Tls, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(path).map_err(|e| format!("{}: {e}", path.display()))? {
            roots.add(cert.map_err(|e| format!("{}: {e}", path.display()))?).map_err(|e| e.to_string())?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Tls(tokio_rustls::TlsConnector::from(Arc::new(config))))
    }
}

/// One keep-alive connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
    /// What TLS negotiated, e.g. "TLSv1_3 TLS13_AES_256_GCM_SHA384 X25519"; empty over plain HTTP.
    pub tls: String,
}

/// An answer: status, body, and the Guid of a `Set-GUID` header.
pub struct Reply {
    pub status: u16,
    pub body: Bytes,
    pub set_guid: Option<String>,
}

fn json_string_field<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    let text = std::str::from_utf8(body).ok()?;
    let needle = format!("\"{key}\":\"");
    let start = text.find(&needle)? + needle.len();
    let end = text[start..].find('"')? + start;
    Some(&text[start..end])
}

impl Reply {
    pub fn retcode(&self) -> Option<&str> {
        json_string_field(&self.body, "retcode")
    }

    pub fn event_type(&self) -> Option<&str> {
        json_string_field(&self.body, "eventType")
    }

    /// HTTP 200 with retcode "0".
    pub fn ok(&self) -> bool {
        self.status == 200 && self.retcode() == Some("0")
    }

    pub fn describe(&self) -> String {
        format!("HTTP {} {}", self.status, String::from_utf8_lossy(&self.body[..self.body.len().min(200)]))
    }
}

async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, String>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io)).await.map_err(|e| format!("http handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

impl Conn {
    /// Connects to `target` (HTTPS needs `tls`).
    pub async fn open(target: &Target, tls: Option<&Tls>) -> Result<Conn, String> {
        let tcp = TcpStream::connect(target.addr()).await.map_err(|e| format!("connect {}: {e}", target.url()))?;
        let _ = tcp.set_nodelay(true);
        let (sender, negotiated) = match (target.scheme(), tls) {
            (Scheme::Https, Some(tls)) => {
                let name = ServerName::IpAddress(target.addr().ip().into());
                let stream = tls.0.connect(name, tcp).await.map_err(|e| format!("TLS handshake: {e}"))?;
                let state = stream.get_ref().1;
                let negotiated = format!(
                    "{:?} {:?} {:?}",
                    state.protocol_version().ok_or("no TLS version")?,
                    state.negotiated_cipher_suite().ok_or("no cipher suite")?.suite(),
                    state.negotiated_key_exchange_group().ok_or("no key exchange")?.name()
                );
                (handshake(stream).await?, negotiated)
            }
            (Scheme::Https, None) => return Err("an https target needs TLS settings".into()),
            (Scheme::Http, _) => (handshake(tcp).await?, String::new()),
        };
        Ok(Conn { sender, host: target.host(), tls: negotiated })
    }

    /// Sends one request on this connection and reads the whole answer.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        guid: Option<&str>,
        body: Option<Bytes>,
    ) -> Result<Reply, String> {
        self.sender.ready().await.map_err(|e| format!("connection lost: {e}"))?;
        let mut request = Request::builder().method(method).uri(path).header("host", &self.host);
        if let Some(guid) = guid {
            request = request.header("guid", guid);
        }
        if body.is_some() {
            request = request.header("content-type", "application/json; charset=UTF-8");
        }
        let request = request.body(Full::new(body.unwrap_or_default())).map_err(|e| e.to_string())?;
        let response = self.sender.send_request(request).await.map_err(|e| format!("request failed: {e}"))?;
        let status = response.status().as_u16();
        let set_guid = response
            .headers()
            .get("set-guid")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("JSESSIONID="))
            .map(str::to_owned);
        let body = response.into_body().collect().await.map_err(|e| format!("reading the body: {e}"))?.to_bytes();
        Ok(Reply { status, body, set_guid })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_found_in_envelopes() {
        let body = br#"{"message":"","retcode":"0","event":{"eventType":"AgentOther_ShutdownService","workNo":"101"}}"#;
        assert_eq!(super::json_string_field(body, "retcode"), Some("0"));
        assert_eq!(super::json_string_field(body, "eventType"), Some("AgentOther_ShutdownService"));
        assert_eq!(super::json_string_field(body, "nothing"), None);
    }
}
