//! `--ca-cert PATH` for the commands that connect to a server, and the certificate file `serve` writes.

use std::path::{Path, PathBuf};

/// What a command's clients trust for `wss://`, besides the platform's roots and `SSL_CERT_FILE`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Trust {
    /// Trust the CA certificate(s) in this PEM file for wss:// (repeatable), besides the platform's roots and
    /// SSL_CERT_FILE.
    #[arg(long = "ca-cert", value_name = "PATH")]
    ca_cert: Vec<PathBuf>,
}

/// Something that takes root certificates: a client builder, the suite, the recorder.
pub(crate) trait Trusting: Sized {
    /// Trusts the certificates of this PEM text.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    fn trusting(self, pem: &[u8]) -> Self;
}

#[cfg(feature = "tls")]
mod trusting {
    use ws_test_runtime::suite::Suite;
    use ws_test_runtime::{ClientBuilder, RecorderBuilder};

    impl super::Trusting for ClientBuilder {
        fn trusting(self, pem: &[u8]) -> Self {
            self.root_certificate(pem)
        }
    }

    impl super::Trusting for Suite {
        fn trusting(self, pem: &[u8]) -> Self {
            self.root_certificate(pem)
        }
    }

    impl super::Trusting for RecorderBuilder {
        fn trusting(self, pem: &[u8]) -> Self {
            self.root_certificate(pem)
        }
    }
}

/// Without TLS no certificate reaches here ([`Trust::certificates`] refuses `--ca-cert`).
#[cfg(not(feature = "tls"))]
impl<T> Trusting for T {
    fn trusting(self, _: &[u8]) -> Self {
        self
    }
}

impl Trust {
    /// The PEM texts of the `--ca-cert` files, read and checked to hold a certificate; an error names the file.
    pub(crate) fn certificates(&self) -> Result<Vec<Vec<u8>>, String> {
        if !self.ca_cert.is_empty() && !cfg!(feature = "tls") {
            return Err("--ca-cert needs TLS, which this build of ws-test leaves out (its `tls` feature)".into());
        }
        self.ca_cert.iter().map(|path| read_certificate(path)).collect()
    }

    /// `target`, trusting every `--ca-cert` file.
    pub(crate) fn apply<T: Trusting>(&self, target: T) -> Result<T, String> {
        Ok(self
            .certificates()?
            .iter()
            .fold(target, |target, pem| target.trusting(pem)))
    }
}

fn read_certificate(path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|error| format!("cannot read --ca-cert {}: {error}", path.display()))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!(
            "--ca-cert {} holds no PEM certificate (no `-----BEGIN CERTIFICATE-----` line)",
            path.display()
        ));
    }
    Ok(pem)
}

/// `ws-test serve`'s TLS: a certificate made at start, or the caller's.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Serving {
    /// Serve wss:// with a certificate made at start for localhost, 127.0.0.1 and ::1; the second line of output
    /// is the path of its PEM file, for clients to trust (removed when the server stops).
    #[arg(long, conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    /// Serve wss:// with this certificate chain (PEM, the server's certificate first).
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// The file holding a TLS server's certificate: written for a self-signed one and removed on drop, or the
/// caller's.
#[derive(Debug)]
pub(crate) struct CertificateFile {
    path: PathBuf,
    remove: bool,
}

impl CertificateFile {
    /// Where the certificate is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CertificateFile {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Serving {
    fn wanted(&self) -> bool {
        self.tls_self_signed || self.tls_cert.is_some()
    }

    /// `builder`, serving TLS as asked; an unreadable file is an error naming it.
    pub(crate) fn apply(
        &self,
        builder: ws_test_runtime::ServerBuilder,
    ) -> Result<ws_test_runtime::ServerBuilder, String> {
        if !self.wanted() {
            return Ok(builder);
        }
        #[cfg(feature = "tls")]
        {
            if self.tls_self_signed {
                return Ok(builder.tls_self_signed());
            }
            let read = |flag: &str, path: &Option<PathBuf>| match path {
                Some(path) => {
                    std::fs::read(path).map_err(|error| format!("cannot read {flag} {}: {error}", path.display()))
                }
                None => Err(format!("{flag} is missing")),
            };
            Ok(builder.tls(read("--tls-cert", &self.tls_cert)?, read("--tls-key", &self.tls_key)?))
        }
        #[cfg(not(feature = "tls"))]
        Err(
            "--tls-self-signed and --tls-cert need TLS, which this build of ws-test leaves out (its `tls` feature)"
                .into(),
        )
    }

    /// The certificate file of the started server (`None` without TLS): the caller's, or the self-signed one
    /// written to the temporary directory.
    pub(crate) fn certificate_file(
        &self,
        server: &ws_test_runtime::EmbeddedServer,
    ) -> Result<Option<CertificateFile>, String> {
        if let Some(path) = &self.tls_cert {
            return Ok(Some(CertificateFile {
                path: path.clone(),
                remove: false,
            }));
        }
        #[cfg(feature = "tls")]
        if let Some(pem) = server.certificate_pem() {
            let path = std::env::temp_dir().join(format!(
                "ws-test-serve-{}.pem",
                server.local_addr().map_err(|error| error.to_string())?.port()
            ));
            std::fs::write(&path, pem)
                .map_err(|error| format!("cannot write the certificate to {}: {error}", path.display()))?;
            return Ok(Some(CertificateFile { path, remove: true }));
        }
        let _ = server;
        Ok(None)
    }
}

/// An error as the command line says it: a refused TLS handshake also names `--ca-cert`, which the library's
/// message cannot know about.
pub(crate) fn explained(error: &ws_test_runtime::Error) -> String {
    match error {
        ws_test_runtime::Error::Tls { .. } => {
            format!("{error}\n  on the command line: give the server's certificate, or its CA's, with `--ca-cert PATH`")
        }
        other => other.to_string(),
    }
}
