//! A plain HTTP GET for the suite's health check (hyper's HTTP/1 client on one connection).

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;

use crate::transport::{self, ConnectError};

/// A response: status, content type, body.
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

/// `GET http://{authority}{path}` (over the in-memory transport when the authority names an in-memory server).
pub(crate) async fn get(authority: &hyper::http::uri::Authority, path: &str) -> Result<HttpResponse, String> {
    let host = authority.host().trim_start_matches('[').trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(80);
    let stream = transport::connect(host, port).await.map_err(|error| match error {
        ConnectError::Retry(why) | ConnectError::NoSuchServer(why) => why,
    })?;
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
