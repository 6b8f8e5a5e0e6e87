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
    /// The certificates of `SSL_CERT_FILE`: each is also trusted as a server's own certificate (pinned).
    pinned: Vec<CertificateDer<'static>>,
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
    let pinned = std::env::var_os("SSL_CERT_FILE")
        .and_then(|path| CertificateDer::pem_file_iter(path).ok())
        .map(|certificates| certificates.flatten().collect())
        .unwrap_or_default();
    crate::logging::log!(debug, roots = store.len(), "loaded the default TLS roots");
    DefaultRoots { store, pinned, notes }
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
pub struct Trust {
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
    pub fn add(&mut self, pem: &[u8]) {
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
        let mut pinned = DEFAULT_ROOTS.pinned.clone();
        for pem in &self.extra {
            for certificate in certificates(pem, "a root certificate given to the client")? {
                roots.add(certificate.clone()).map_err(|error| {
                    Error::Config(format!(
                        "a root certificate given to the client cannot be a root: {error}"
                    ))
                })?;
                pinned.push(certificate);
            }
        }
        let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|error| Error::Config(format!("TLS setup failed: {error}")))?;
        let mut config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::Config(format!("TLS setup failed: {error}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Pinning { verifier, pinned }))
            .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP1.to_vec()];
        Ok(Arc::new(config))
    }

    /// Runs the TLS handshake over `stream` for `host` (SNI; the certificate must be valid for it). `Err` is a
    /// setup problem (a root that is not a certificate, a host that cannot be a server name).
    pub async fn connect(&self, host: &str, stream: Stream) -> Result<Handshake> {
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
pub enum Handshake {
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

/// The webpki verifier, plus one rule: a certificate the client was given (`root_certificate`, `--ca-cert`,
/// `SSL_CERT_FILE`) that the server presents as its own is trusted as such, even when it is marked as a CA
/// (`openssl req -x509` marks its certificates `CA:TRUE` by default, and Python, Node and curl accept them when
/// given the same file). Only the exact bytes are pinned; the name in the URL must still be one of the
/// certificate's, and the handshake's signatures are still checked.
#[derive(Debug)]
struct Pinning {
    verifier: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl rustls::client::danger::ServerCertVerifier for Pinning {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> std::result::Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        let verified = self
            .verifier
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verified {
            // webpki checks the validity period before it finds the CA flag, so this refusal says the
            // certificate is within its dates; what is left is the name.
            Err(error) if is_webpki(&error, &webpki::Error::CaUsedAsEndEntity) && self.is_pinned(end_entity) => {
                let certificate = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&certificate, server_name)?;
                Ok(rustls::client::danger::ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls12_signature(message, certificate, signature)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> std::result::Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.verifier.verify_tls13_signature(message, certificate, signature)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.verifier.supported_verify_schemes()
    }
}

impl Pinning {
    fn is_pinned(&self, certificate: &CertificateDer<'_>) -> bool {
        self.pinned.iter().any(|pinned| pinned.as_ref() == certificate.as_ref())
    }
}

/// The webpki error rustls passes on as `CertificateError::Other`, if that is what `error` is.
fn webpki_error(error: &rustls::Error) -> Option<&webpki::Error> {
    match error {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => other.0.downcast_ref(),
        _ => None,
    }
}

fn is_webpki(error: &rustls::Error, expected: &webpki::Error) -> bool {
    webpki_error(error) == Some(expected)
}

/// How to trust a server's certificate, said once for every hint that needs it.
const TRUST_HOW: &str = "`ClientBuilder::root_certificate(pem)` or `SSL_CERT_FILE=PATH`";

/// A failed handshake in words: what is wrong with the server's certificate (or the handshake), and what to do.
fn explain(error: &rustls::Error) -> String {
    use rustls::CertificateError;
    let hint = match error {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer | CertificateError::BadSignature) => {
            let mut hint = format!(
                "its certificate is not signed by an authority this client trusts; trust the server's CA, or the \
                 server's own certificate, with {TRUST_HOW}"
            );
            if let Some(note) = DEFAULT_ROOTS.notes.first() {
                hint.push_str(&format!(" (loading the default roots: {note})"));
            }
            hint
        }
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "its certificate is not valid for the host in the URL (SNI and the certificate's names must agree); \
              connect to a name it has, or make it with `-addext subjectAltName=DNS:NAME,IP:ADDRESS` naming the \
              host you connect to"
            .into(),
        rustls::Error::InvalidCertificate(CertificateError::ExpiredContext { time, not_after }) => format!(
            "its certificate expired {} ago; the server needs a new one",
            age(time.as_secs().saturating_sub(not_after.as_secs()))
        ),
        rustls::Error::InvalidCertificate(CertificateError::Expired) => {
            "its certificate is outside its validity period; the server needs a new one".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::NotValidYetContext { time, not_before }) => format!(
            "its certificate becomes valid only in {}: is this machine's clock, or the one that made it, wrong?",
            age(not_before.as_secs().saturating_sub(time.as_secs()))
        ),
        rustls::Error::InvalidCertificate(CertificateError::NotValidYet) => {
            "its certificate is not valid yet: is this machine's clock, or the one that made it, wrong?".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::Revoked) => {
            "its certificate was revoked by its CA; the server needs a new one".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::BadEncoding) => {
            "its certificate is not well-formed DER; make it again".into()
        }
        rustls::Error::InvalidCertificate(CertificateError::UnhandledCriticalExtension) => {
            "its certificate has a critical extension rustls does not understand; make it without that extension".into()
        }
        rustls::Error::InvalidCertificate(
            CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. },
        ) => "its certificate is signed with an algorithm rustls refuses (SHA-1, say, or RSA under 2048 bits); \
              make it with SHA-256 and RSA 2048 or ECDSA P-256"
            .into(),
        rustls::Error::InvalidCertificate(
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. },
        ) => "its certificate's extended key usage does not allow a TLS server; make it with \
              `-addext extendedKeyUsage=serverAuth`, or without that extension"
            .into(),
        rustls::Error::InvalidCertificate(
            CertificateError::UnknownRevocationStatus
            | CertificateError::ExpiredRevocationList
            | CertificateError::ExpiredRevocationListContext { .. }
            | CertificateError::InvalidOcspResponse,
        ) => "whether its certificate was revoked could not be established".into(),
        rustls::Error::InvalidCertificate(CertificateError::Other(_)) => match webpki_error(error) {
            Some(webpki::Error::CaUsedAsEndEntity) => format!(
                "the server presents a CA certificate (basicConstraints CA:TRUE, which `openssl req -x509` sets by \
                 default) as its own, and this client was not given that certificate; give it with {TRUST_HOW} to \
                 trust it as that server's own (the bytes must match; names are still checked), or make the server \
                 a certificate with `-addext basicConstraints=critical,CA:FALSE`"
            ),
            Some(webpki::Error::EndEntityUsedAsCa) => {
                "the server's chain has a certificate that is not a CA (no basicConstraints CA:TRUE) signing another; \
                 its intermediates must be CA certificates"
                    .into()
            }
            Some(webpki::Error::PathLenConstraintViolated | webpki::Error::MaximumPathDepthExceeded) => {
                "the server's chain is longer than its CAs allow; send a shorter chain".into()
            }
            _ => "the server's certificate chain could not be verified; check what it sends (its certificate \
                  first, then the intermediates)"
                .into(),
        },
        rustls::Error::InvalidCertificate(_) => {
            "its certificate was refused; check it with `openssl x509 -in FILE -noout -text`".into()
        }
        rustls::Error::NoCertificatesPresented => "the server presented no certificate".into(),
        rustls::Error::AlertReceived(alert) => format!(
            "the server ended the handshake with the alert {alert:?}: it refused this client (a client certificate \
             it wants, a TLS version or cipher it will not speak?)"
        ),
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
            "the server does not answer in TLS: is it a plain ws:// server?".into()
        }
        rustls::Error::PeerIncompatible(_) => {
            "the server and this client share no TLS version or cipher suite (rustls speaks TLS 1.2 and 1.3)".into()
        }
        _ => "the TLS handshake failed".into(),
    };
    format!("{}: {hint}", describe(error))
}

/// rustls's words for `error`, with webpki's reason named instead of `Other(OtherError(..))`.
fn describe(error: &rustls::Error) -> String {
    match webpki_error(error) {
        Some(reason) => format!("invalid peer certificate: {reason:?}"),
        None => error.to_string(),
    }
}

/// A span of seconds in the largest unit that fits.
fn age(seconds: u64) -> String {
    match seconds {
        0..120 => format!("{seconds} s"),
        120..7200 => format!("{} min", seconds / 60),
        7200..172_800 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// Where an embedded server's certificate comes from (`ServerBuilder::tls_self_signed` and
/// `ServerBuilder::tls`).
#[derive(Debug, Clone)]
pub enum Certificate {
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
pub struct ServerTls {
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
    pub fn new(source: &Certificate, names: Vec<String>) -> Result<Self> {
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
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The server's side of the handshake, within `within`. A plain HTTP request (a `ws://` client on this
    /// port) gets `400` saying to use `wss://`, instead of a TLS alert it could not read.
    pub async fn accept(&self, mut stream: Stream, within: Duration) -> io::Result<Stream> {
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
    let body = "this server speaks TLS: connect with wss:// (and https:// for plain HTTP)\n";
    let response = format!(
        "HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
