//! The HTTP side of the embedded server: the RFC 6455 upgrade and every refusal, and the plain `GET`s a handler
//! answers beside it ([`Handler::http_get`](crate::Handler::http_get), the chat kit's `/health`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::OwnedSemaphorePermit;

use super::Shared;
use crate::handler::DynHandler;
use crate::session::SessionSeed;
use crate::wire::{self, query_param};

/// The response body type of the embedded server.
pub(crate) type Body = Full<Bytes>;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

/// What to do with one HTTP request: answer it, or answer `101` and run a WebSocket session.
pub(crate) enum Decision {
    Answer(Response<Body>),
    Upgrade(Response<Body>, Box<SessionSeed>),
}

pub(crate) fn decide<B>(shared: &Shared, handler: &dyn DynHandler, request: &Request<B>) -> Decision {
    let path = request.uri().path();
    if path != shared.config.path && request.method() == Method::GET {
        if let Some(body) = handler.http_get(path, &shared.metrics.snapshot()) {
            return Decision::Answer(json_answer(&body));
        }
    }
    if path != shared.config.path {
        let body = format!("no route for {path}; the WebSocket endpoint is {}", shared.config.path);
        return Decision::Answer(text(StatusCode::NOT_FOUND, body));
    }
    match check_upgrade(shared, request) {
        Ok(Accepted { key, subprotocol, slot }) => {
            let seed = SessionSeed {
                connection_id: next_connection_id(),
                uri: request.uri().clone(),
                headers: request.headers().clone(),
                subprotocol: subprotocol.clone(),
                slot,
            };
            let mut response = Response::new(Body::default());
            *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
            wire::switching_protocols(response.headers_mut(), &key, subprotocol.as_deref());
            Decision::Upgrade(response, Box::new(seed))
        }
        Err(refusal) => {
            shared.metrics.connections_refused.fetch_add(1, Ordering::Relaxed);
            crate::logging::log!(info, status = refusal.status().as_u16(), %path, "refused a WebSocket upgrade");
            Decision::Answer(*refusal)
        }
    }
}

struct Accepted {
    key: String,
    subprotocol: Option<String>,
    slot: Option<OwnedSemaphorePermit>,
}

/// A refused upgrade: the response that says why (boxed: it is much larger than the success).
type Refusal = Box<Response<Body>>;

fn check_upgrade<B>(shared: &Shared, request: &Request<B>) -> Result<Accepted, Refusal> {
    let headers = request.headers();
    if request.method() != Method::GET {
        let body = format!("a WebSocket upgrade must be a GET request, not {}", request.method());
        return Err(Box::new(text(StatusCode::BAD_REQUEST, body)));
    }
    if !has_token(headers, header::UPGRADE, "websocket") || !has_token(headers, header::CONNECTION, "upgrade") {
        let mut response = text(
            StatusCode::UPGRADE_REQUIRED,
            "this endpoint only speaks WebSocket: send an RFC 6455 upgrade (Connection: Upgrade, Upgrade: websocket)",
        );
        response
            .headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        return Err(Box::new(response));
    }
    let version = headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .and_then(|value| value.to_str().ok());
    if version.map(str::trim) != Some("13") {
        let body = match version {
            Some(version) => format!("unsupported Sec-WebSocket-Version {version:?}; this server speaks version 13"),
            None => "missing Sec-WebSocket-Version; this server speaks version 13".to_owned(),
        };
        let mut response = text(StatusCode::UPGRADE_REQUIRED, body);
        response
            .headers_mut()
            .insert(header::SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        return Err(Box::new(response));
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|value| value.to_str().ok())
        .map(str::trim);
    let Some(key) = key.filter(|key| is_valid_key(key)) else {
        let body = "missing or malformed Sec-WebSocket-Key (it must be 16 random bytes in base64)";
        return Err(Box::new(text(StatusCode::BAD_REQUEST, body)));
    };
    if let Some(expected) = &shared.config.token {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(bearer_token)
            .map(str::to_owned);
        let given = bearer.or_else(|| query_param(request.uri(), "token"));
        if !given.as_deref().is_some_and(|given| same_secret(given, expected)) {
            let why = if given.is_some() {
                "wrong token"
            } else {
                "missing token"
            };
            let mut response = text(
                StatusCode::UNAUTHORIZED,
                format!("{why}: send `Authorization: Bearer TOKEN` or the query parameter `?token=TOKEN`"),
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(Box::new(response));
        }
    }
    if !shared.config.allowed_origins.is_empty() {
        if let Some(origin) = headers.get(header::ORIGIN) {
            let origin = origin.to_str().unwrap_or("(not text)");
            if !shared.config.allowed_origins.iter().any(|allowed| allowed == origin) {
                let body = format!(
                    "origin {origin:?} is not allowed; allowed: {}",
                    shared.config.allowed_origins.join(", ")
                );
                return Err(Box::new(text(StatusCode::FORBIDDEN, body)));
            }
        }
    }
    // Last, so that no other refusal holds a slot: taken atomically here, given back when the connection ends.
    let slot = match &shared.connection_slots {
        Some(slots) => match Arc::clone(slots).try_acquire_owned() {
            Ok(slot) => Some(slot),
            Err(_) => {
                let max = shared.config.max_connections.unwrap_or_default();
                let body = format!(
                    "the server already has its maximum of {max} WebSocket connection(s) \
                     (ServerBuilder::max_connections)"
                );
                return Err(Box::new(text(StatusCode::SERVICE_UNAVAILABLE, body)));
            }
        },
        None => None,
    };
    Ok(Accepted {
        key: key.to_owned(),
        subprotocol: pick_subprotocol(shared, headers),
        slot,
    })
}

/// The credentials of an `Authorization: Bearer TOKEN` header; the scheme is matched without case (RFC 9110,
/// section 11.1).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares a given token with the expected one in time that does not depend on where they differ (only on the
/// length), so a client cannot find the token byte by byte from response times.
fn same_secret(given: &str, expected: &str) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(given.as_bytes().ct_eq(expected.as_bytes()))
}

/// Whether a comma-separated header holds `token`, compared without case.
pub(crate) fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

/// A key is 16 bytes in base64: 22 characters of the alphabet and `==`.
fn is_valid_key(key: &str) -> bool {
    key.len() == 24
        && key.ends_with("==")
        && key[..22]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'+' || byte == b'/')
}

fn pick_subprotocol(shared: &Shared, headers: &HeaderMap) -> Option<String> {
    let offered: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    shared
        .config
        .subprotocols
        .iter()
        .find(|supported| offered.contains(&supported.as_str()))
        .cloned()
}

/// A connection id, unique in the process: `conn-N`.
pub(crate) fn next_connection_id() -> String {
    format!("conn-{}", NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed))
}

/// `200 OK` with a JSON body.
fn json_answer(body: &serde_json::Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn text(status: StatusCode, body: impl Into<String>) -> Response<Body> {
    let mut response = Response::new(Body::from(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::{bearer_token, is_valid_key, same_secret};

    #[test]
    fn the_bearer_scheme_is_matched_without_case() {
        assert_eq!(bearer_token("Bearer s3cret"), Some("s3cret"));
        assert_eq!(bearer_token("bearer s3cret"), Some("s3cret"));
        assert_eq!(bearer_token("BEARER   s3cret "), Some("s3cret"));
        assert_eq!(bearer_token("Basic czNjcmV0"), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn secrets_compare_equal_only_when_identical() {
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3creT", "s3cret"));
        assert!(!same_secret("s3cre", "s3cret"));
        assert!(!same_secret("", "s3cret"));
    }

    #[test]
    fn keys_must_be_sixteen_bytes_of_base64() {
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25jZQ"));
        assert!(!is_valid_key("dGhlIHNhbXBsZSBub25j!Q=="));
        assert!(!is_valid_key(""));
    }
}
