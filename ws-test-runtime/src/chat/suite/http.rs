//! A plain HTTP GET for the suite's health check (hyper's HTTP/1 client on one connection, over TLS for a
//! `wss://` server).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::ClientBuilder;

/// A response: status, content type, body.
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

/// `GET {path}` on the host of the client's URL: `http://` for `ws://`, `https://` (with the client's trust)
/// for `wss://`, over the in-memory transport when the host names an in-memory server.
pub(crate) async fn get(client: &ClientBuilder, path: &str) -> Result<HttpResponse, String> {
    let (stream, uri) = client.open_stream().await.map_err(|error| error.to_string())?;
    let authority = uri.authority().ok_or_else(|| format!("the URL {uri} names no host"))?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("HTTP handshake failed: {error}"))?;
    let driver = tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, authority.as_str())
        .body(Empty::<Bytes>::new())
        .map_err(|error| format!("cannot build the request: {error}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| format!("GET {path} failed: {error}"))?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| format!("reading the body failed: {error}"))?;
    driver.abort();
    Ok(HttpResponse {
        status,
        content_type,
        body: String::from_utf8_lossy(&body.to_bytes()).into_owned(),
    })
}
