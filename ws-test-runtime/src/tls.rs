//! TLS (the `tls` feature): what a client trusts when it opens `wss://` — the platform's roots, `SSL_CERT_FILE`
//! and the certificates it was given — and the certificate an embedded server presents: one made at start for
//! the names it answers to, or the caller's.
//!
//! rustls on the ring provider, chosen explicitly: a workspace that also builds aws-lc-rs (reqwest, say) cannot
//! leave rustls without a default provider here.

use std::io;
use std::path::Path;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::Duration;

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

use crate::transport::Stream;
use crate::{Error, Result};

/// Both sides speak HTTP/1.1 over TLS: the WebSocket upgrade is an HTTP/1.1 request.
const ALPN_HTTP1: &[u8] = b"http/1.1";

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots every client trusts: the platform's store, plus the certificates in `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` when set. Loaded once per process (the system bundle is a few hundred KiB of PEM); what could
/// not be read is kept as notes for the error a failed verification gives.
struct DefaultRoots {
    store: RootCertStore,
    notes: Vec<String>,
}

static DEFAULT_ROOTS: LazyLock<DefaultRoots> = LazyLock::new(load_default_roots);

fn load_default_roots() -> DefaultRoots {
    let mut store = RootCertStore::empty();
    let mut notes = Vec::new();
    // The platform's store, or (rustls-native-certs follows OpenSSL here) the files the variables name.
    let native = rustls_native_certs::load_native_certs();
    store.add_parsable_certificates(native.certs);
    notes.extend(native.errors.iter().map(ToString::to_string));
    // With the variables set, the platform's own directories too: `SSL_CERT_FILE` adds a CA, it does not take
    // the public ones away.
    #[cfg(unix)]
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        for dir in SYSTEM_CERT_DIRS.iter().map(Path::new).filter(|dir| dir.is_dir()) {
            add_pem_dir(&mut store, dir);
        }
    }
    tracing::debug!(roots = store.len(), "loaded the default TLS roots");
    DefaultRoots { store, notes }
}

/// Where Linux and BSD distributions keep one PEM file per trusted root.
#[cfg(unix)]
const SYSTEM_CERT_DIRS: &[&str] = &[
    "/etc/ssl/certs",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust/extracted/pem",
    "/usr/local/share/certs",
    "/etc/openssl/certs",
];

/// Adds every certificate of every file directly in `dir` (files that are not PEM certificates are skipped).
#[cfg(unix)]
fn add_pem_dir(store: &mut RootCertStore, dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        // A bundle in the same directory repeats the single files: only the single ones (`*.pem`, hashed names).
        if path.extension().is_some_and(|extension| extension == "crt") {
            continue;
        }
        if let Ok(certificates) = CertificateDer::pem_file_iter(&path) {
            store.add_parsable_certificates(certificates.flatten());
        }
    }
}

/// The certificates of a PEM text; an error names `what` when there are none or one is malformed.
pub(crate) fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|error| Error::Config(format!("{what} is not valid PEM: {error}")))?;
    if certificates.is_empty() {
        return Err(Error::Config(format!(
            "{what} holds no certificate (expected a `-----BEGIN CERTIFICATE-----` block)"
        )));
    }
    Ok(certificates)
}

/// What a client trusts besides the default roots: certificates given as PEM, and the rustls configuration made
/// from them once (clones share it; adding a certificate starts a new one).
#[derive(Clone, Default)]
pub(crate) struct Trust {
    extra: Vec<Arc<[u8]>>,
    config: Arc<OnceLock<std::result::Result<Arc<rustls::ClientConfig>, String>>>,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Not the rustls configuration: it would print every root of the platform's store.
        f.debug_struct("Trust")
            .field("root_certificates", &self.extra.len())
            .finish()
    }
}

impl Trust {
    /// Trusts the certificates of this PEM text as roots, too.
    pub(crate) fn add(&mut self, pem: &[u8]) {
        self.extra.push(pem.into());
        self.config = Arc::default();
    }

    /// The rustls client configuration: default roots plus the added ones, HTTP/1.1 by ALPN.
    fn config(&self) -> Result<Arc<rustls::ClientConfig>> {
        self.config
            .get_or_init(|| self.build().map_err(|error| error.to_string()))
            .clone()
            .map_err(Error::Config)
    }

    fn build(&self) -> Result<Arc<rustls::ClientConfig>> {
        let mut roots = DEFAULT_ROOTS.store.clone();
        for pem in &self.extra {
            for certificate in certificates(pem, "a root certificate given to the client")? {
                roots.add(certificate).map_err(|error| {
                    Error::Config(format!(
                        "a root certificate given to the client cannot be a root: {error}"
                    ))
                })?;
            }
        }
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Config(format!("TLS setup failed: {error}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        Ok(Arc::new(config))
    }

    /// Runs the TLS handshake over `stream` for `host` (SNI; the certificate must be valid for it). `Err` is a
    /// setup problem (a root that is not a certificate, a host that cannot be a server name).
    pub(crate) async fn connect(&self, host: &str, stream: Stream) -> Result<Handshake> {
        let config = self.config()?;
        let name = ServerName::try_from(host.to_owned()).map_err(|error| Error::InvalidUrl {
            url: host.to_owned(),
            reason: format!("{host:?} cannot be a TLS server name: {error}"),
        })?;
        let connector = tokio_rustls::TlsConnector::from(config);
        Ok(match connector.connect(name, stream).await {
            Ok(tls) => Handshake::Done(Stream::Tls(Box::new(tokio_rustls::TlsStream::Client(tls)))),
            Err(error) => match rustls_error(&error) {
                Some(refused) => Handshake::Refused(explain(refused)),
                None => Handshake::Failed(error),
            },
        })
    }
}

/// How a client's TLS handshake ended.
#[derive(Debug)]
pub(crate) enum Handshake {
    /// The encrypted stream.
    Done(Stream),
    /// Refused in a way another attempt would repeat (an untrusted certificate, a server that does not speak
    /// TLS): the reason in words, with what to do about it.
    Refused(String),
    /// An I/O failure worth another attempt.
    Failed(io::Error),
}

/// The rustls error inside an I/O error, if that is what it is.
fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>())
}

/// A failed handshake in words, with what to do about it.
fn explain(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    let hint = match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer | CertificateError::BadSignature) => {
            let mut hint = "its certificate is not signed by an authority this client trusts; trust the server's CA \
                            with `--ca-cert PATH`, `ClientBuilder::root_certificate(pem)` or `SSL_CERT_FILE=PATH`"
                .to_owned();
            if let Some(note) = DEFAULT_ROOTS.notes.first() {
                hint.push_str(&format!(" (loading the default roots: {note})"));
            }
            hint
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "its certificate is not valid for the host in the URL (SNI and the certificate's names must agree)".into(),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => "its certificate is outside its validity period".into(),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the server does not answer in TLS: is it a plain ws:// server?".into()
        }
        _ => String::new(),
    };
    if hint.is_empty() {
        error.to_string()
    } else {
        format!("{error}: {hint}")
    }
}

/// Where an embedded server's certificate comes from ([`ServerBuilder::tls_self_signed`] and
/// [`ServerBuilder::tls`](crate::ServerBuilder::tls)).
///
/// [`ServerBuilder::tls_self_signed`]: crate::ServerBuilder::tls_self_signed
#[derive(Debug, Clone)]
pub(crate) enum Certificate {
    /// Made at start for the names the server answers to.
    SelfSigned,
    /// The caller's: a PEM chain (leaf first) and its private key.
    Pem {
        /// The certificate chain.
        chain: Arc<[u8]>,
        /// The private key (PKCS #8, PKCS #1 or SEC1).
        key: Arc<[u8]>,
    },
}

/// An embedded server's TLS: the acceptor and the certificate it presents, as PEM.
pub(crate) struct ServerTls {
    acceptor: tokio_rustls::TlsAcceptor,
    certificate_pem: String,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Makes (or reads) the certificate; `names` are the hosts a self-signed one is valid for.
    pub(crate) fn new(source: &Certificate, names: Vec<String>) -> Result<Self> {
        let (certificate_pem, chain, key) = match source {
            Certificate::SelfSigned => {
                let made = rcgen::generate_simple_self_signed(names.clone()).map_err(|error| {
                    Error::Config(format!("cannot make a self-signed certificate for {names:?}: {error}"))
                })?;
                let key = PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
                (made.cert.pem(), vec![made.cert.der().clone()], key)
            }
            Certificate::Pem { chain, key } => {
                let certificates = certificates(chain, "the certificate given to ServerBuilder::tls")?;
                let key = PrivateKeyDer::from_pem_slice(key).map_err(|error| {
                    Error::Config(format!(
                        "the private key given to ServerBuilder::tls is not a PEM private key: {error}"
                    ))
                })?;
                (String::from_utf8_lossy(chain).into_owned(), certificates, key)
            }
        };
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Config(format!("TLS setup failed: {error}")))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|error| {
                Error::Config(format!(
                    "the server's certificate and key cannot be used together: {error}"
                ))
            })?;
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        Ok(ServerTls {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            certificate_pem,
        })
    }

    /// The certificate (chain) the server presents, as PEM.
    pub(crate) fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The server's side of the handshake, within `within`. A plain HTTP request (a `ws://` client on this
    /// port) gets `400` saying to use `wss://`, instead of a TLS alert it could not read.
    pub(crate) async fn accept(&self, mut stream: Stream, within: Duration) -> io::Result<Stream> {
        let deadline = tokio::time::Instant::now() + within;
        let timed_out = || {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the TLS handshake did not finish within {within:?}"),
            )
        };
        if let Stream::Tcp(tcp) = &stream {
            let mut first = [0_u8; 1];
            let peeked = tokio::time::timeout_at(deadline, tcp.peek(&mut first))
                .await
                .map_err(|_| timed_out())??;
            if peeked == 1 && first[0] != TLS_HANDSHAKE_RECORD {
                let _ = tokio::time::timeout_at(deadline, plain_http_refused(&mut stream)).await;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a plain-text request on the TLS port was answered 400 (the client should use wss://)",
                ));
            }
        }
        match tokio::time::timeout_at(deadline, self.acceptor.accept(stream)).await {
            Ok(Ok(tls)) => Ok(Stream::Tls(Box::new(tokio_rustls::TlsStream::Server(tls)))),
            Ok(Err(error)) => Err(error),
            Err(_) => Err(timed_out()),
        }
    }
}

/// The first byte of a TLS connection: a handshake record (the ClientHello).
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// Answers a plain HTTP request on a TLS port, after reading its head (closing with it unread would reset the
/// connection before the client reads the answer).
async fn plain_http_refused(stream: &mut Stream) -> io::Result<()> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut chunk).await? {
            0 => break,
            read => head.extend_from_slice(&chunk[..read]),
        }
    }
    let body = "this server speaks TLS: connect with wss:// (and https:// for /health)\n";
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
