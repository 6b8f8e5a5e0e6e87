//! permessage-deflate (RFC 7692) for categories 12 and 13: the offers and answers of the handshake as Autobahn
//! makes them, and each message compressed and inflated with the agreed window sizes and context takeover.
//!
//! The backend is flate2's pure-Rust one (miniz_oxide), which compresses with a 32 KiB window only. When the peer
//! asks for a smaller window (`client_max_window_bits=9`), messages go out in stored blocks: valid deflate that
//! refers back to nothing, so it fits any window. Inflating needs no such care: a 32 KiB window reads a stream made
//! with any smaller one.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use super::cases::{DeflateAccept, DeflateOffer};

/// The most a compressed message may inflate to: a peer's deflate bomb fails the connection instead of the
/// machine.
const MAX_INFLATED: usize = 64 << 20;

/// What both sides agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: u8,
    pub(crate) client_max_window_bits: u8,
}

/// The outcome of the handshake for compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Negotiated {
    /// Not offered, or declined.
    Off,
    /// Agreed; `server` is whether this side is the server.
    On { params: Params, server: bool },
}

impl Negotiated {
    pub(crate) fn into_deflate(self) -> Option<Deflate> {
        match self {
            Negotiated::Off => None,
            Negotiated::On { params, server } => Some(Deflate {
                params,
                server,
                compressor: None,
                decompressor: None,
            }),
        }
    }
}

/// One connection's compressor and decompressor.
pub(crate) struct Deflate {
    params: Params,
    server: bool,
    compressor: Option<Compress>,
    decompressor: Option<Decompress>,
}

/// A compressor whose back-references stay within `bits` of window: miniz_oxide's own (32 KiB) for 15, stored
/// blocks (no back-reference at all) for anything smaller.
fn compressor(bits: u8) -> Compress {
    if bits >= 15 {
        Compress::new(Compression::default(), false)
    } else {
        Compress::new(Compression::none(), false)
    }
}

impl Deflate {
    /// One whole message, compressed and without the sync flush's trailing `00 00 ff ff`.
    pub(crate) fn compress(&mut self, data: &[u8]) -> Vec<u8> {
        let (no_context_takeover, bits) = if self.server {
            (
                self.params.server_no_context_takeover,
                self.params.server_max_window_bits,
            )
        } else {
            (
                self.params.client_no_context_takeover,
                self.params.client_max_window_bits,
            )
        };
        if self.compressor.is_none() || no_context_takeover {
            self.compressor = Some(compressor(bits));
        }
        let Some(compressor) = self.compressor.as_mut() else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let mut input = data;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(1024));
            }
            let before = compressor.total_in();
            if compressor.compress_vec(input, &mut out, FlushCompress::Sync).is_err() {
                break;
            }
            input = &input[(compressor.total_in() - before) as usize..];
            if input.is_empty() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
        out
    }

    /// A compressed message begins.
    pub(crate) fn start_decompress(&mut self) {
        let no_context_takeover = if self.server {
            self.params.client_no_context_takeover
        } else {
            self.params.server_no_context_takeover
        };
        if self.decompressor.is_none() || no_context_takeover {
            self.decompressor = Some(Decompress::new(false));
        }
    }

    /// A part of the compressed message, inflated.
    pub(crate) fn decompress(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let Some(decompressor) = self.decompressor.as_mut() else {
            return Err("compressed data outside a compressed message".into());
        };
        inflate(decompressor, data)
    }

    /// The end of the message: the stripped `00 00 ff ff`, inflated.
    pub(crate) fn end_decompress(&mut self) -> Result<Vec<u8>, String> {
        self.decompress(&[0, 0, 0xff, 0xff])
    }
}

fn inflate(decompressor: &mut Decompress, data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(data.len() * 4 + 64);
    let mut input = data;
    loop {
        if out.len() == out.capacity() {
            out.reserve(out.capacity().max(4096));
        }
        let (before_in, before_out) = (decompressor.total_in(), decompressor.total_out());
        let status = decompressor
            .decompress_vec(input, &mut out, FlushDecompress::Sync)
            .map_err(|error| format!("invalid compressed data ({error})"))?;
        input = &input[(decompressor.total_in() - before_in) as usize..];
        let progress = decompressor.total_in() != before_in || decompressor.total_out() != before_out;
        if out.len() > MAX_INFLATED {
            return Err(format!("a message inflates past {MAX_INFLATED} octets"));
        }
        if input.is_empty() && out.len() < out.capacity() {
            return Ok(out);
        }
        if !progress && out.len() < out.capacity() {
            return match status {
                Status::StreamEnd => Err("data after the end of the deflate stream (a final block was sent)".into()),
                _ => Err("the compressed data stalls".into()),
            };
        }
    }
}

/// The `Sec-WebSocket-Extensions` offers of a fuzzing client (Autobahn's `PerMessageDeflateOffer`, which always
/// declares it accepts both client parameters).
pub(crate) fn offer_header(offers: &[DeflateOffer]) -> String {
    offers
        .iter()
        .map(|offer| {
            let mut text = String::from("permessage-deflate; client_no_context_takeover; client_max_window_bits");
            if offer.request_no_context_takeover {
                text.push_str("; server_no_context_takeover");
            }
            if offer.request_max_window_bits != 0 {
                text.push_str(&format!("; server_max_window_bits={}", offer.request_max_window_bits));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The extensions of a header: `(name, [(parameter, value)])` each.
/// An extension's name and its parameters (with their values, when given).
type Extension = (String, Vec<(String, Option<String>)>);

fn extensions(header: &str) -> Vec<Extension> {
    header
        .split(',')
        .filter_map(|extension| {
            let mut parts = extension.split(';').map(str::trim);
            let name = parts.next().filter(|name| !name.is_empty())?.to_ascii_lowercase();
            let params = parts
                .filter(|part| !part.is_empty())
                .map(|part| match part.split_once('=') {
                    Some((key, value)) => (
                        key.trim().to_ascii_lowercase(),
                        Some(value.trim().trim_matches('"').to_owned()),
                    ),
                    None => (part.to_ascii_lowercase(), None),
                })
                .collect();
            Some((name, params))
        })
        .collect()
}

fn bits(value: Option<&String>, what: &str) -> Result<u8, String> {
    let value = value.ok_or_else(|| format!("{what} without a value"))?;
    match value.parse::<u8>() {
        Ok(bits @ 8..=15) => Ok(bits),
        _ => Err(format!("{what}={value} is not a window size from 8 to 15")),
    }
}

/// A fuzzing client reads the server's answer: `Off` when it declined, `Err` when it answered something no
/// offer allowed.
pub(crate) fn parse_response(header: Option<&str>) -> Result<Negotiated, String> {
    let Some(header) = header else {
        return Ok(Negotiated::Off);
    };
    let mut agreed = None;
    for (name, params) in extensions(header) {
        if name != "permessage-deflate" {
            return Err(format!(
                "the server agreed to an extension that was not offered: {name}"
            ));
        }
        if agreed.is_some() {
            return Err("the server agreed to permessage-deflate twice".into());
        }
        let mut result = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        };
        for (key, value) in &params {
            match key.as_str() {
                "server_no_context_takeover" => result.server_no_context_takeover = true,
                "client_no_context_takeover" => result.client_no_context_takeover = true,
                "server_max_window_bits" => result.server_max_window_bits = bits(value.as_ref(), key)?,
                "client_max_window_bits" => result.client_max_window_bits = bits(value.as_ref(), key)?,
                other => return Err(format!("unknown permessage-deflate parameter {other}")),
            }
        }
        agreed = Some(result);
    }
    Ok(agreed.map_or(Negotiated::Off, |params| Negotiated::On { params, server: false }))
}

/// A client's offer, as the fuzzing server reads it.
#[derive(Debug, Clone, Copy)]
struct ClientOffer {
    accept_no_context_takeover: bool,
    accept_max_window_bits: bool,
    request_no_context_takeover: bool,
    request_max_window_bits: u8,
}

/// The fuzzing server answers a client's offers as the case says (Autobahn's accept1..7): the agreed
/// parameters and the answer's header, or `None` to decline.
pub(crate) fn accept(header: Option<&str>, accept: DeflateAccept) -> Option<(Params, String)> {
    let offers: Vec<ClientOffer> = extensions(header?)
        .into_iter()
        .filter(|(name, _)| name == "permessage-deflate")
        .filter_map(|(_, params)| {
            let mut offer = ClientOffer {
                accept_no_context_takeover: false,
                accept_max_window_bits: false,
                request_no_context_takeover: false,
                request_max_window_bits: 0,
            };
            for (key, value) in &params {
                match key.as_str() {
                    "client_no_context_takeover" => offer.accept_no_context_takeover = true,
                    "client_max_window_bits" => {
                        if value.is_some() {
                            bits(value.as_ref(), key).ok()?;
                        }
                        offer.accept_max_window_bits = true;
                    }
                    "server_no_context_takeover" => offer.request_no_context_takeover = true,
                    "server_max_window_bits" => offer.request_max_window_bits = bits(value.as_ref(), key).ok()?,
                    _ => return None,
                }
            }
            Some(offer)
        })
        .collect();
    let pick = |no_context_takeover: bool, window: u8| {
        offers
            .iter()
            .find(|offer| {
                (!no_context_takeover || offer.accept_no_context_takeover)
                    && (window == 0 || offer.accept_max_window_bits)
            })
            .map(|offer| (*offer, no_context_takeover, window))
    };
    let (offer, request_no_context_takeover, request_window) = match accept {
        DeflateAccept::Plain => pick(false, 0),
        DeflateAccept::NoContextTakeover => pick(true, 0),
        DeflateAccept::MaxWindowBits(bits) => pick(false, bits),
        DeflateAccept::Both(bits) => pick(true, bits),
        DeflateAccept::Fallback => pick(true, 9).or_else(|| pick(true, 0)).or_else(|| pick(false, 0)),
    }?;
    let mut answer = String::from("permessage-deflate");
    if offer.request_no_context_takeover {
        answer.push_str("; server_no_context_takeover");
    }
    if offer.request_max_window_bits != 0 {
        answer.push_str(&format!("; server_max_window_bits={}", offer.request_max_window_bits));
    }
    if request_no_context_takeover {
        answer.push_str("; client_no_context_takeover");
    }
    if request_window != 0 {
        answer.push_str(&format!("; client_max_window_bits={request_window}"));
    }
    let params = Params {
        server_no_context_takeover: offer.request_no_context_takeover,
        client_no_context_takeover: request_no_context_takeover,
        server_max_window_bits: if offer.request_max_window_bits == 0 {
            15
        } else {
            offer.request_max_window_bits
        },
        client_max_window_bits: if request_window == 0 { 15 } else { request_window },
    };
    Some((params, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(params: Params) -> (Deflate, Deflate) {
        (
            Negotiated::On { params, server: false }
                .into_deflate()
                .unwrap_or_else(|| unreachable!()),
            Negotiated::On { params, server: true }
                .into_deflate()
                .unwrap_or_else(|| unreachable!()),
        )
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover_and_small_windows() {
        for (no_context, window) in [(false, 15), (true, 15), (false, 9), (true, 9)] {
            let params = Params {
                server_no_context_takeover: no_context,
                client_no_context_takeover: no_context,
                server_max_window_bits: window,
                client_max_window_bits: window,
            };
            let (mut client, mut server) = pair(params);
            for round in 0..5 {
                let message: Vec<u8> =
                    format!("{{\"round\": {round}, \"text\": \"{}\"}}", "abc".repeat(500)).into_bytes();
                let compressed = client.compress(&message);
                if window == 15 {
                    assert!(
                        compressed.len() < message.len() / 4,
                        "{} of {}",
                        compressed.len(),
                        message.len()
                    );
                } else {
                    // Stored blocks: the message itself, framed, with no back-reference a small window could miss.
                    assert!(
                        compressed.len() >= message.len(),
                        "{} of {}",
                        compressed.len(),
                        message.len()
                    );
                }
                server.start_decompress();
                let mut inflated = server.decompress(&compressed).unwrap_or_default();
                inflated.extend(server.end_decompress().unwrap_or_default());
                assert_eq!(inflated, message);
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let (_, mut server) = pair(Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        });
        server.start_decompress();
        assert!(server.decompress(&[0xff; 32]).is_err());
    }

    #[test]
    fn offers_and_answers_read_as_autobahn_writes_them() {
        let header = offer_header(&[DeflateOffer {
            request_no_context_takeover: true,
            request_max_window_bits: 9,
        }]);
        assert_eq!(
            header,
            "permessage-deflate; client_no_context_takeover; client_max_window_bits; server_no_context_takeover; server_max_window_bits=9"
        );
        let (params, answer) = accept(Some(&header), DeflateAccept::Both(9)).unwrap_or_else(|| unreachable!());
        assert_eq!(
            answer,
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9; client_no_context_takeover; client_max_window_bits=9"
        );
        assert_eq!(
            parse_response(Some(&answer)),
            Ok(Negotiated::On { params, server: false })
        );
        assert_eq!(parse_response(None), Ok(Negotiated::Off));
        assert!(parse_response(Some("x-webkit-deflate-frame")).is_err());
        assert!(accept(Some("permessage-deflate"), DeflateAccept::NoContextTakeover).is_none());
    }
}
