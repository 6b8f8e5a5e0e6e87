//! Autobahn's cases as one table: what each sends, what it expects, how it is graded. The facts come from the
//! testsuite's case descriptions (`autobahntestsuite/case/*.py`, Apache-2.0, crossbario/autobahn-testsuite): its
//! numbering, its order, its words, its payloads and its timers. Nothing here talks to a socket; `peer.rs` plays a
//! case and `grade` turns what happened into Autobahn's verdicts.

use std::sync::OnceLock;

/// How a case ended for the peer under test, as Autobahn words it (`behavior`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verdict {
    /// `OK`: what was received is what the case expects.
    Ok,
    /// `NON-STRICT`: conformant, but not the preferred behaviour.
    NonStrict,
    /// `INFORMATIONAL`: the spec leaves the behaviour open; the report says what happened.
    Informational,
    /// `UNIMPLEMENTED`: the peer declined what the case tests (permessage-deflate).
    Unimplemented,
    /// `FAILED`.
    Failed,
}

impl Verdict {
    /// Autobahn's spelling: `OK`, `NON-STRICT`, `INFORMATIONAL`, `UNIMPLEMENTED`, `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Informational => "INFORMATIONAL",
            Verdict::Unimplemented => "UNIMPLEMENTED",
            Verdict::Failed => "FAILED",
        }
    }

    /// Reads Autobahn's spelling back.
    pub fn parse(text: &str) -> Option<Verdict> {
        Some(match text {
            "OK" => Verdict::Ok,
            "NON-STRICT" => Verdict::NonStrict,
            "INFORMATIONAL" => Verdict::Informational,
            "UNIMPLEMENTED" => Verdict::Unimplemented,
            "FAILED" => Verdict::Failed,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the connection of a case was closed, as Autobahn words it (`behaviorClose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CloseVerdict {
    /// `OK`: closed by the right side, cleanly where required, with an expected code.
    Ok,
    /// `FAILED`: closed by the wrong side, or the opening handshake never completed.
    Failed,
    /// `WRONG CODE`: the peer's close code is not one the case allows.
    WrongCode,
    /// `UNCLEAN`: the case requires a clean close and the connection was not closed cleanly.
    Unclean,
    /// `FAILED BY CLIENT`: the fuzzing client had to drop the TCP connection the server should have closed.
    FailedByClient,
    /// `INFORMATIONAL`.
    Informational,
}

impl CloseVerdict {
    /// Autobahn's spelling: `OK`, `FAILED`, `WRONG CODE`, `UNCLEAN`, `FAILED BY CLIENT`, `INFORMATIONAL`.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseVerdict::Ok => "OK",
            CloseVerdict::Failed => "FAILED",
            CloseVerdict::WrongCode => "WRONG CODE",
            CloseVerdict::Unclean => "UNCLEAN",
            CloseVerdict::FailedByClient => "FAILED BY CLIENT",
            CloseVerdict::Informational => "INFORMATIONAL",
        }
    }

    /// Reads Autobahn's spelling back.
    pub fn parse(text: &str) -> Option<CloseVerdict> {
        Some(match text {
            "OK" => CloseVerdict::Ok,
            "FAILED" => CloseVerdict::Failed,
            "WRONG CODE" => CloseVerdict::WrongCode,
            "UNCLEAN" => CloseVerdict::Unclean,
            "FAILED BY CLIENT" => CloseVerdict::FailedByClient,
            "INFORMATIONAL" => CloseVerdict::Informational,
            _ => return None,
        })
    }
}

impl std::fmt::Display for CloseVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something the fuzzing peer saw, in the order it saw it: Autobahn compares these lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Event {
    /// A whole message: payload, binary.
    Message(Vec<u8>, bool),
    /// A pong and its payload.
    Pong(Vec<u8>),
    /// A wait of the case ran out with the connection still open.
    Timeout(&'static str),
}

/// Bytes a case sends: given, or a pattern repeated to a length (Autobahn's `payload_len`).
#[derive(Debug, Clone)]
pub(crate) enum Payload {
    Bytes(Vec<u8>),
    Repeat(&'static [u8], usize),
}

impl Payload {
    /// The bytes themselves (a 16 MiB repeat is made when it is sent, not when the table is).
    pub(crate) fn bytes(&self) -> Vec<u8> {
        match self {
            Payload::Bytes(bytes) => bytes.clone(),
            Payload::Repeat(pattern, len) => pattern.iter().copied().cycle().take(*len).collect(),
        }
    }

    /// The pattern and the length when repeated: the wire log shows the pattern, as Autobahn's does.
    pub(crate) fn shown(&self) -> (&[u8], Option<usize>) {
        match self {
            Payload::Bytes(bytes) => (bytes, None),
            Payload::Repeat(pattern, len) => (pattern, Some(*len)),
        }
    }
}

/// One step of a case, as Autobahn's case code calls its protocol.
#[derive(Debug, Clone)]
pub(crate) enum Act {
    /// `sendFrame`: any frame, valid or not, optionally written in chops or flushed on its own.
    Frame {
        opcode: u8,
        payload: Payload,
        fin: bool,
        rsv: u8,
        chop: Option<usize>,
        sync: bool,
    },
    /// `sendMessage`: a message, in fragments of the given size when given (else the auto-fragment size).
    Message {
        payload: Payload,
        binary: bool,
        fragment: Option<usize>,
    },
    /// `sendClose`: a close handshake started by the fuzzer.
    Close {
        code: Option<u16>,
        reason: Option<&'static str>,
    },
    /// `sendCloseFrame`: a close frame with any code and reason bytes, valid or not.
    CloseFrame { code: Option<u16>, reason: Option<Vec<u8>> },
    /// `killAfter`: fail the connection if it is still open then.
    KillAfter(f64),
    /// `closeAfter`: start the close handshake if the connection is still open then.
    CloseAfter(f64),
    /// `continueLater`: run `then` after `secs`; with `timeout`, only while the connection is open, noting the
    /// timeout `tag` as an event first (the 6.4 fail-fast cases).
    Later {
        secs: f64,
        tag: &'static str,
        timeout: bool,
        then: Vec<Act>,
    },
    /// `beginMessage` + `beginMessageFrame(len)`: the header of a text frame whose payload follows in parts.
    BeginFrame { len: usize },
    /// `sendMessageFrameData`: a part of that payload.
    FrameData(Vec<u8>),
    /// `endMessage`: the empty final continuation frame.
    EndMessage,
    /// `autoFragmentSize`: messages sent from now on go out in frames of this size.
    AutoFragment(usize),
}

impl Act {
    fn fin(mut self, value: bool) -> Act {
        if let Act::Frame { fin, .. } = &mut self {
            *fin = value;
        }
        self
    }

    fn rsv(mut self, value: u8) -> Act {
        if let Act::Frame { rsv, .. } = &mut self {
            *rsv = value;
        }
        self
    }

    fn chop_opt(mut self, value: Option<usize>) -> Act {
        if let Act::Frame { chop, .. } = &mut self {
            *chop = value;
        }
        self
    }

    fn sync(mut self, value: bool) -> Act {
        if let Act::Frame { sync, .. } = &mut self {
            *sync = value;
        }
        self
    }
}

/// How the connection must end (Autobahn's `expectedClose`).
#[derive(Debug, Clone)]
pub(crate) struct ExpectedClose {
    pub(crate) closed_by_me: bool,
    pub(crate) codes: Vec<u16>,
    pub(crate) require_clean: bool,
    /// Closing from the wrong side fails the case too: the peer never noticed the invalid UTF-8.
    pub(crate) wrong_endpoint_fatal: bool,
}

/// What a case does to the verdicts after Autobahn's common grading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grade {
    Plain,
    /// The 7.x close cases: a wrong close code fails the case itself.
    WrongCodeFails,
    /// 7.1.6 and 7.13.x: both verdicts informational; 7.1.6 says which order the peer processed.
    Informational {
        says_order: bool,
    },
    /// 10.1.1: the fuzzer's own frames must have gone out auto-fragmented (1300 octets).
    AutoFragment(usize),
}

/// A case of events: the fuzzer acts, records what arrives and compares it with the lists it expects.
#[derive(Debug, Clone)]
pub(crate) struct Events {
    /// The expected event lists by verdict, in Autobahn's order of trying them.
    pub(crate) expected: Vec<(Verdict, Vec<Event>)>,
    pub(crate) close: ExpectedClose,
    /// The fuzzer does not answer a match by closing (the case closes by itself).
    pub(crate) suppress_close: bool,
    pub(crate) acts: Vec<Act>,
    pub(crate) grade: Grade,
}

/// The permessage-deflate parameters of one offer or one acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct DeflateOffer {
    /// `server_no_context_takeover` asked of the server (client offers) / granted.
    pub(crate) request_no_context_takeover: bool,
    /// `server_max_window_bits` asked (0: not asked).
    pub(crate) request_max_window_bits: u8,
}

/// How the fuzzing server answers a client's permessage-deflate offers in category 13 (Autobahn's accept1..7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeflateAccept {
    /// The first offer as it is.
    Plain,
    /// Needs `client_no_context_takeover` offered; asks it of the client.
    NoContextTakeover,
    /// Needs `client_max_window_bits` offered; asks that size.
    MaxWindowBits(u8),
    /// Needs both; asks both.
    Both(u8),
    /// accept5, else accept2, else accept1.
    Fallback,
}

/// A case of compressed round trips (categories 12 and 13).
#[derive(Debug, Clone)]
pub(crate) struct Compressed {
    pub(crate) len: usize,
    pub(crate) count: u32,
    pub(crate) waitsecs: f64,
    pub(crate) auto_fragment: usize,
    pub(crate) data: TestData,
    pub(crate) offers: Vec<DeflateOffer>,
    pub(crate) accept: DeflateAccept,
}

/// The kind of payload a compression case sends: the testsuite's five test files, made here instead of shipped
/// (the verdict is the echo's SHA-1, not the text's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TestData {
    Json,
    Bitmap,
    Prose,
    Html,
    Pdf,
}

impl TestData {
    pub(crate) fn binary(self) -> bool {
        !matches!(self, TestData::Json | TestData::Html)
    }

    fn description(self) -> &'static str {
        match self {
            TestData::Json => "Large JSON data file",
            TestData::Bitmap => "Lena Picture, Bitmap 512x512 bw",
            TestData::Prose => "Human readable text, Goethe's Faust I (German)",
            TestData::Html => "Large HTML file",
            TestData::Pdf => "A larger PDF",
        }
    }
}

/// What a case does.
#[derive(Debug, Clone)]
pub(crate) enum Script {
    Events(Events),
    /// 9.1 to 9.6: one large message, graded on the echo's type and length within `waitsecs`.
    Large {
        send: Act,
        binary: bool,
        len: usize,
        waitsecs: f64,
    },
    /// 9.7 and 9.8: `count` messages of `len` octets, one after the other's echo.
    RoundTrips {
        len: usize,
        count: u32,
        waitsecs: f64,
        binary: bool,
    },
    Compressed(Compressed),
}

/// One of Autobahn's cases.
#[derive(Debug, Clone)]
pub(crate) struct CaseDef {
    pub(crate) id: String,
    pub(crate) description: String,
    pub(crate) expectation: String,
    pub(crate) script: Script,
    /// Autobahn reports this case's duration (the 9.x performance cases, 12 and 13).
    pub(crate) report_time: bool,
}

/// Autobahn's own words for its hand-written cases, in its order: `(id, DESCRIPTION, EXPECTATION)`. `%s` marks
/// where Autobahn formats a payload into the text.
const WORDS: &[(&str, &str, &str)] = &[
    (
        "1.1.1",
        "Send text message with payload 0.",
        "Receive echo'ed text message (with empty payload). Clean close with normal code.",
    ),
    (
        "1.1.2",
        "Send text message message with payload of length 125.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.3",
        "Send text message message with payload of length 126.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.4",
        "Send text message message with payload of length 127.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.5",
        "Send text message message with payload of length 128.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.6",
        "Send text message message with payload of length 65535.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.7",
        "Send text message message with payload of length 65536.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.8",
        "Send text message message with payload of length 65536. Sent out data in chops of 997 octets.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.1",
        "Send binary message with payload 0.",
        "Receive echo'ed binary message (with empty payload). Clean close with normal code.",
    ),
    (
        "1.2.2",
        "Send binary message message with payload of length 125.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.3",
        "Send binary message message with payload of length 126.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.4",
        "Send binary message message with payload of length 127.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.5",
        "Send binary message message with payload of length 128.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.6",
        "Send binary message message with payload of length 65535.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.7",
        "Send binary message message with payload of length 65536.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.8",
        "Send binary message message with payload of length 65536. Sent out data in chops of 997 octets.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "2.1",
        "Send ping without payload.",
        "Pong (with empty payload) is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.2",
        "Send ping with small text payload.",
        "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.3",
        "Send ping with small binary (non UTF-8) payload.",
        "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.4",
        "Send ping with binary payload of 125 octets.",
        "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.5",
        "Send ping with binary payload of 126 octets.",
        "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets..",
    ),
    (
        "2.6",
        "Send ping with binary payload of 125 octets, send in octet-wise chops.",
        "Pong with payload echo'ed is sent in reply to Ping. Implementations must be TCP clean. Clean close with normal code.",
    ),
    (
        "2.7",
        "Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.",
        "Nothing.",
    ),
    (
        "2.8",
        "Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.",
        "Nothing.",
    ),
    (
        "2.9",
        "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
        "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.10",
        "Send 10 Pings with payload.",
        "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.",
    ),
    (
        "2.11",
        "Send 10 Pings with payload. Send out octets in octet-wise chops.",
        "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.",
    ),
    (
        "3.1",
        "Send small text message with <b>RSV = 1</b>.",
        "The connection is failed immediately (1002/protocol error), since RSV must be 0, when no extension defining RSV meaning has been negotiated.",
    ),
    (
        "3.2",
        "Send small text message, then send again with <b>RSV = 2</b>, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
    ),
    (
        "3.3",
        "Send small text message, then send again with <b>RSV = 3</b>, then send Ping. Octets are sent in frame-wise chops. Octets are sent in octet-wise chops.",
        "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
    ),
    (
        "3.4",
        "Send small text message, then send again with <b>RSV = 4</b>, then send Ping. Octets are sent in octet-wise chops.",
        "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
    ),
    (
        "3.5",
        "Send small binary message with <b>RSV = 5</b>.",
        "The connection is failed immediately, since RSV must be 0.",
    ),
    (
        "3.6",
        "Send Ping with <b>RSV = 6</b>.",
        "The connection is failed immediately, since RSV must be 0.",
    ),
    (
        "3.7",
        "Send Close with <b>RSV = 7</b>.",
        "The connection is failed immediately, since RSV must be 0.",
    ),
    (
        "4.1.1",
        "Send frame with reserved non-control <b>Opcode = 3</b>.",
        "The connection is failed immediately.",
    ),
    (
        "4.1.2",
        "Send frame with reserved non-control <b>Opcode = 4</b> and non-empty payload.",
        "The connection is failed immediately.",
    ),
    (
        "4.1.3",
        "Send small text message, then send frame with reserved non-control <b>Opcode = 5</b>, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.1.4",
        "Send small text message, then send frame with reserved non-control <b>Opcode = 6</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.1.5",
        "Send small text message, then send frame with reserved non-control <b>Opcode = 7</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.2.1",
        "Send frame with reserved control <b>Opcode = 11</b>.",
        "The connection is failed immediately.",
    ),
    (
        "4.2.2",
        "Send frame with reserved control <b>Opcode = 12</b> and non-empty payload.",
        "The connection is failed immediately.",
    ),
    (
        "4.2.3",
        "Send small text message, then send frame with reserved control <b>Opcode = 13</b>, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.2.4",
        "Send small text message, then send frame with reserved control <b>Opcode = 14</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.2.5",
        "Send small text message, then send frame with reserved control <b>Opcode = 15</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "5.1",
        "Send Ping fragmented into 2 fragments.",
        "Connection is failed immediately, since control message MUST NOT be fragmented.",
    ),
    (
        "5.2",
        "Send Pong fragmented into 2 fragments.",
        "Connection is failed immediately, since control message MUST NOT be fragmented.",
    ),
    (
        "5.3",
        "Send text Message fragmented into 2 fragments.",
        "Message is processed and echo'ed back to us.",
    ),
    (
        "5.4",
        "Send text Message fragmented into 2 fragments, octets are sent in frame-wise chops.",
        "Message is processed and echo'ed back to us.",
    ),
    (
        "5.5",
        "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.",
        "Message is processed and echo'ed back to us.",
    ),
    (
        "5.6",
        "Send text Message fragmented into 2 fragments, one ping with payload in-between.",
        "A pong is received, then the message is echo'ed back to us.",
    ),
    (
        "5.7",
        "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in frame-wise chops.",
        "A pong is received, then the message is echo'ed back to us.",
    ),
    (
        "5.8",
        "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in octet-wise chops.",
        "A pong is received, then the message is echo'ed back to us.",
    ),
    (
        "5.9",
        "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in one chop.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.10",
        "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in per-frame chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.11",
        "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in octet-wise chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.12",
        "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in one chop.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.13",
        "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in per-frame chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.14",
        "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in octet-wise chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.15",
        "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.16",
        "Repeated 2x: Continuation Frame with FIN = false (where there is nothing to continue), then text Message fragmented into 2 fragments.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.17",
        "Repeated 2x: Continuation Frame with FIN = true (where there is nothing to continue), then text Message fragmented into 2 fragments.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.18",
        "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.",
        "The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.",
    ),
    (
        "5.19",
        "A fragmented text message is sent in multiple frames. After\n   sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s,\n   then we send 2 more text fragments, another Ping and then the final text fragment.\n   Everything is legal.",
        "The peer immediately answers the first Ping before\n   it has received the last text message fragment. The peer pong's back the Ping's\n   payload exactly, and echo's the payload of the fragmented message back to us.",
    ),
    (
        "5.20",
        "Same as Case 5.19, but send all frames with SYNC = True.\n   Note, this does not change the octets sent in any way, only how the stream\n   is chopped up on the wire.",
        "Same as Case 5.19. Implementations must be agnostic to how\n   octet stream is chopped up on wire (must be TCP clean).",
    ),
    (
        "6.1.1",
        "Send text message of length 0.",
        "A message is echo'ed back to us (with empty payload).",
    ),
    (
        "6.1.2",
        "Send fragmented text message, 3 fragments each of length 0.",
        "A message is echo'ed back to us (with empty payload).",
    ),
    (
        "6.1.3",
        "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
        "A message is echo'ed back to us (with payload = payload of middle fragment).",
    ),
    (
        "6.2.1",
        "Send a valid UTF-8 text message in one fragment.<br><br>MESSAGE:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.2.2",
        "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.<br><br>MESSAGE FRAGMENT 1:<br>%s<br>%s<br><br>MESSAGE FRAGMENT 2:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.2.3",
        "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.2.4",
        "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.3.1",
        "Send invalid UTF-8 text message unfragmented.<br><br>MESSAGE:<br>%s",
        "The connection is failed immediately, since the payload is not valid UTF-8.",
    ),
    (
        "6.3.2",
        "Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>%s",
        "The connection is failed immediately, since the payload is not valid UTF-8.",
    ),
    (
        "6.4.1",
        "Send invalid UTF-8 text message in 3 fragments (frames).\nFirst frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest.\nNote that PART1 and PART3 are valid UTF-8 in themselves, PART2 is a 0x110000 encoded as in the UTF-8 integer encoding scheme, but the codepoint is invalid (out of range).\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first frame is accepted, we expect to timeout on the first wait. The 2nd frame should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "6.4.2",
        "Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete payload invalid.\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first frame is accepted, we expect to timeout on the first wait. The 2nd frame should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "6.4.3",
        "Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame.\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first chop is accepted, we expect to timeout on the first wait. The 2nd chop should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "6.4.4",
        "Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame.\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first chop is accepted, we expect to timeout on the first wait. The 2nd chop should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "7.1.1",
        "Send a message followed by a close frame",
        "Echoed message followed by clean close with normal code.",
    ),
    (
        "7.1.2",
        "Send two close frames",
        "Clean close with normal code. Second close frame ignored.",
    ),
    (
        "7.1.3",
        "Send a ping after close message",
        "Clean close with normal code, no pong.",
    ),
    (
        "7.1.4",
        "Send text message after sending a close frame.",
        "Clean close with normal code. Text message ignored.",
    ),
    (
        "7.1.5",
        "Send message fragment1 followed by close then fragment",
        "Clean close with normal code.",
    ),
    (
        "7.1.6",
        "Send 256K message followed by close then a ping",
        "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially received.",
    ),
    (
        "7.3.1",
        "Send a close frame with payload length 0 (no close code, no close reason)",
        "Clean close with normal code.",
    ),
    (
        "7.3.2",
        "Send a close frame with payload length 1",
        "Clean close with protocol error or drop TCP.",
    ),
    (
        "7.3.3",
        "Send a close frame with payload length 2 (regular close with a code)",
        "Clean close with normal code.",
    ),
    (
        "7.3.4",
        "Send a close frame with close code and close reason",
        "Clean close with normal code.",
    ),
    (
        "7.3.5",
        "Send a close frame with close code and close reason of maximum length (123)",
        "Clean close with normal code.",
    ),
    (
        "7.3.6",
        "Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets",
        "Clean close with protocol error code or dropped TCP connection.",
    ),
    (
        "7.5.1",
        "Send a close frame with invalid UTF8 payload",
        "Clean close with protocol error or invalid utf8 code or dropped TCP.",
    ),
    (
        "7.13.1",
        "Send close with close code 5000",
        "Actual events are undefined by the spec.",
    ),
    (
        "7.13.2",
        "Send close with close code 65535",
        "Actual events are undefined by the spec.",
    ),
    (
        "9.1.1",
        "Send text message message with payload of length 64 * 2**10 (64k).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.2",
        "Send text message message with payload of length 256 * 2**10 (256k).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.3",
        "Send text message message with payload of length 1 * 2**20 (1M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.4",
        "Send text message message with payload of length 4 * 2**20 (4M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.5",
        "Send text message message with payload of length 8 * 2**20 (8M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.6",
        "Send text message message with payload of length 16 * 2**20 (16M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.2.1",
        "Send binary message message with payload of length 64 * 2**10 (64k).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.2",
        "Send binary message message with payload of length 256 * 2**10 (256k).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.3",
        "Send binary message message with payload of length 1 * 2**20 (1M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.4",
        "Send binary message message with payload of length 4 * 2**20 (4M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.5",
        "Send binary message message with payload of length 8 * 2**20 (16M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.6",
        "Send binary message message with payload of length 16 * 2**20 (16M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.3.1",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.2",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.3",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.4",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 4k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.5",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 16k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.6",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.7",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.8",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1M.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.9",
        "Send fragmented text message message with message payload of length 4 * 2**20 (8M). Sent out in fragments of 4M.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.4.1",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.2",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.3",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.4",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 4k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.5",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 16k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.6",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.7",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.8",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1M.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.9",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 4M.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.5.1",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 64 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.2",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 128 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.3",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 256 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.4",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 512 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.5",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 1024 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.6",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 2048 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.1",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 64 octets.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.6.2",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 128 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.3",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 256 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.4",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 512 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.5",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 1024 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.6",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 2048 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "10.1.1",
        "Send text message with payload of length 65536 auto-fragmented with <b>autoFragmentSize = 1300</b>.",
        "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
    ),
];
fn frame(opcode: u8, payload: &[u8]) -> Act {
    Act::Frame {
        opcode,
        payload: Payload::Bytes(payload.to_vec()),
        fin: true,
        rsv: 0,
        chop: None,
        sync: false,
    }
}

fn repeated(opcode: u8, pattern: &'static [u8], len: usize) -> Act {
    Act::Frame {
        opcode,
        payload: Payload::Repeat(pattern, len),
        fin: true,
        rsv: 0,
        chop: None,
        sync: false,
    }
}

fn message(payload: &[u8], binary: bool, fragment: Option<usize>) -> Act {
    Act::Message {
        payload: Payload::Bytes(payload.to_vec()),
        binary,
        fragment,
    }
}

fn close(code: u16) -> Act {
    Act::Close {
        code: Some(code),
        reason: None,
    }
}

fn close_frame(code: Option<u16>, reason: Option<&[u8]>) -> Act {
    Act::CloseFrame {
        code,
        reason: reason.map(<[u8]>::to_vec),
    }
}

fn text(payload: &[u8]) -> Event {
    Event::Message(payload.to_vec(), false)
}

fn pong(payload: &[u8]) -> Event {
    Event::Pong(payload.to_vec())
}

const NORMAL: u16 = 1000;
const PROTOCOL_ERROR: u16 = 1002;
const INVALID_PAYLOAD: u16 = 1007;

/// The fuzzer closes, cleanly, with 1000.
fn clean_close() -> ExpectedClose {
    ExpectedClose {
        closed_by_me: true,
        codes: vec![NORMAL],
        require_clean: true,
        wrong_endpoint_fatal: false,
    }
}

/// The peer fails the connection, with `code` if it sends a close at all.
fn peer_fails(code: u16) -> ExpectedClose {
    ExpectedClose {
        closed_by_me: false,
        codes: vec![code],
        require_clean: false,
        wrong_endpoint_fatal: false,
    }
}

/// The peer fails the connection on invalid UTF-8; closing from the fuzzer's side fails the case.
fn peer_fails_utf8() -> ExpectedClose {
    ExpectedClose {
        closed_by_me: false,
        codes: vec![INVALID_PAYLOAD],
        require_clean: false,
        wrong_endpoint_fatal: true,
    }
}

/// The fuzzer closes with these codes allowed back, clean or not.
fn fuzzer_closes(codes: &[u16], require_clean: bool) -> ExpectedClose {
    ExpectedClose {
        closed_by_me: true,
        codes: codes.to_vec(),
        require_clean,
        wrong_endpoint_fatal: false,
    }
}

fn events(ok: Vec<Event>, close: ExpectedClose, acts: Vec<Act>) -> Events {
    Events {
        expected: vec![(Verdict::Ok, ok)],
        close,
        suppress_close: false,
        acts,
        grade: Grade::Plain,
    }
}

impl Events {
    fn or_non_strict(mut self, events: Vec<Event>) -> Events {
        self.expected.push((Verdict::NonStrict, events));
        self
    }

    /// A 7.x close case: the fuzzer does not answer a match by closing, and a wrong code fails the case.
    fn close_case(mut self) -> Events {
        self.suppress_close = true;
        self.grade = Grade::WrongCodeFails;
        self
    }
}

const HELLO: &[u8] = b"Hello, world!";
const KOSME: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
const UTF8_SAMPLE: &[u8] = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}\u{fc}\u{e0}\u{e1}-UTF-8!!".as_bytes();

/// 6.4.1's message: valid, then a code point past U+10FFFF, then valid again.
fn fail_fast_payload() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    (KOSME.to_vec(), b"\xf4\x90\x80\x80".to_vec(), b"edited".to_vec())
}

/// The close cases' invalid UTF-8 reason (a lone surrogate inside).
const INVALID_REASON: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64";

/// Case 1.x: one data frame of `len` copies of `byte` and its echo; `chop` writes it in pieces.
fn echo_case(binary: bool, len: usize, chop: Option<usize>) -> Script {
    let payload = vec![if binary { 0xfe } else { b'*' }; len];
    let kill = if len > 128 { 10.0 } else { 1.0 };
    let expected = Event::Message(payload.clone(), binary);
    Script::Events(events(
        vec![expected],
        clean_close(),
        vec![
            frame(if binary { 2 } else { 1 }, &payload).chop_opt(chop),
            Act::KillAfter(kill),
        ],
    ))
}

/// The hand-written cases' scripts, by Autobahn's id.
fn script(id: &str) -> Script {
    let ping_close = |payload: &[u8], chop: Option<usize>, after: f64| {
        Script::Events(events(
            vec![pong(payload)],
            clean_close(),
            vec![frame(9, payload).chop_opt(chop), Act::CloseAfter(after)],
        ))
    };
    let fail = |acts: Vec<Act>| Script::Events(events(vec![], peer_fails(PROTOCOL_ERROR), acts));
    // Echo of "Hello, world!", then a bad frame, then a ping: the echo may or may not come first.
    let echo_then_fail = |bad: Act, chop: Option<usize>, sync: bool| {
        Script::Events(
            events(
                vec![text(HELLO)],
                peer_fails(PROTOCOL_ERROR),
                vec![
                    frame(1, HELLO).chop_opt(chop).sync(sync),
                    bad.chop_opt(chop).sync(sync),
                    frame(9, b"").chop_opt(chop).sync(sync),
                    Act::KillAfter(1.0),
                ],
            )
            .or_non_strict(vec![]),
        )
    };
    let fragments = |chop: Option<usize>, sync: bool| {
        Script::Events(events(
            vec![text(b"fragment1fragment2")],
            clean_close(),
            vec![
                frame(1, b"fragment1").fin(false).chop_opt(chop).sync(sync),
                frame(0, b"fragment2").chop_opt(chop).sync(sync),
                Act::CloseAfter(1.0),
            ],
        ))
    };
    let ping_inside = |chop: Option<usize>, sync: bool| {
        Script::Events(events(
            vec![pong(b"ping payload"), text(b"fragment1fragment2")],
            clean_close(),
            vec![
                frame(1, b"fragment1").fin(false).chop_opt(chop).sync(sync),
                frame(9, b"ping payload").chop_opt(chop).sync(sync),
                frame(0, b"fragment2").chop_opt(chop).sync(sync),
                Act::CloseAfter(1.0),
            ],
        ))
    };
    let lone_continuation = |fin: bool, chop: Option<usize>, sync: bool| {
        fail(vec![
            frame(0, b"non-continuation payload").fin(fin).chop_opt(chop).sync(sync),
            frame(1, HELLO).chop_opt(chop).sync(sync),
            Act::KillAfter(1.0),
        ])
    };
    let pings_and_pause = |sync: bool| {
        let f = |opcode: u8, payload: &[u8], fin: bool| frame(opcode, payload).fin(fin).sync(sync);
        Script::Events(events(
            vec![
                pong(b"pongme 1!"),
                pong(b"pongme 2!"),
                text(b"fragment1fragment2fragment3fragment4fragment5"),
            ],
            clean_close(),
            vec![
                f(1, b"fragment1", false),
                f(0, b"fragment2", false),
                f(9, b"pongme 1!", true),
                Act::Later {
                    secs: 1.0,
                    tag: "",
                    timeout: false,
                    then: vec![
                        f(0, b"fragment3", false),
                        f(0, b"fragment4", false),
                        f(9, b"pongme 2!", true),
                        f(0, b"fragment5", true),
                        Act::CloseAfter(1.0),
                    ],
                },
            ],
        ))
    };
    // 6.4.x: valid start, wait, the invalid part, wait, the rest; fail fast is OK, failing at the end NON-STRICT.
    let fail_fast = |first: Vec<Act>, second: Vec<Act>, third: Vec<Act>| {
        let mut third = third;
        third.push(Act::KillAfter(1.0));
        let mut second = second;
        second.push(Act::Later {
            secs: 1.0,
            tag: "B",
            timeout: true,
            then: third,
        });
        let mut acts = first;
        acts.push(Act::Later {
            secs: 1.0,
            tag: "A",
            timeout: true,
            then: second,
        });
        Script::Events(
            events(vec![Event::Timeout("A")], peer_fails_utf8(), acts)
                .or_non_strict(vec![Event::Timeout("A"), Event::Timeout("B")]),
        )
    };
    let (part1, part2, part3) = fail_fast_payload();
    let whole: Vec<u8> = [part1.clone(), part2.clone(), part3.clone()].concat();
    let large = |opcode: u8, pattern: &'static [u8], len: usize, waitsecs: f64, chop: Option<usize>| Script::Large {
        send: repeated(opcode, pattern, len).chop_opt(chop),
        binary: opcode == 2,
        len,
        waitsecs,
    };
    let fragmented = |binary: bool, fill: u8, fragment: usize| Script::Large {
        send: Act::Message {
            payload: Payload::Repeat(if fill == b'*' { b"*" } else { b"\xfe" }, 4 << 20),
            binary,
            fragment: Some(fragment),
        },
        binary,
        len: 4 << 20,
        waitsecs: 100.0,
    };
    let close_case =
        |ok: Vec<Event>, close: ExpectedClose, acts: Vec<Act>| Script::Events(events(ok, close, acts).close_case());
    let k = 1 << 10;
    let m = 1 << 20;
    match id {
        "1.1.1" => echo_case(false, 0, None),
        "1.1.2" => echo_case(false, 125, None),
        "1.1.3" => echo_case(false, 126, None),
        "1.1.4" => echo_case(false, 127, None),
        "1.1.5" => echo_case(false, 128, None),
        "1.1.6" => echo_case(false, 65535, None),
        "1.1.7" => echo_case(false, 65536, None),
        "1.1.8" => echo_case(false, 65536, Some(997)),
        "1.2.1" => echo_case(true, 0, None),
        "1.2.2" => echo_case(true, 125, None),
        "1.2.3" => echo_case(true, 126, None),
        "1.2.4" => echo_case(true, 127, None),
        "1.2.5" => echo_case(true, 128, None),
        "1.2.6" => echo_case(true, 65535, None),
        "1.2.7" => echo_case(true, 65536, None),
        "1.2.8" => echo_case(true, 65536, Some(997)),
        "2.1" => ping_close(b"", None, 1.0),
        "2.2" => ping_close(HELLO, None, 1.0),
        "2.3" => ping_close(b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", None, 1.0),
        "2.4" => ping_close(&[0xfe; 125], None, 1.0),
        "2.5" => fail(vec![frame(9, &[0xfe; 126]), Act::KillAfter(1.0)]),
        "2.6" => ping_close(&[0xfe; 125], Some(1), 2.0),
        "2.7" | "2.8" => {
            let payload: &[u8] = if id == "2.7" { b"" } else { b"unsolicited pong payload" };
            Script::Events(events(
                vec![],
                clean_close(),
                vec![frame(10, payload), close(NORMAL), Act::CloseAfter(1.0)],
            ))
        }
        "2.9" => Script::Events(events(
            vec![pong(b"ping payload")],
            clean_close(),
            vec![
                frame(10, b"unsolicited pong payload"),
                frame(9, b"ping payload"),
                Act::CloseAfter(1.0),
            ],
        )),
        "2.10" | "2.11" => {
            let chop = (id == "2.11").then_some(1);
            let mut acts = Vec::new();
            let mut ok = Vec::new();
            for i in 0..10 {
                let payload = format!("payload-{i}").into_bytes();
                ok.push(pong(&payload));
                acts.push(frame(9, &payload).chop_opt(chop));
            }
            acts.push(Act::CloseAfter(3.0));
            Script::Events(events(ok, clean_close(), acts))
        }
        "3.1" => fail(vec![frame(1, HELLO).rsv(1), Act::KillAfter(1.0)]),
        "3.2" => echo_then_fail(frame(1, HELLO).rsv(2), None, false),
        "3.3" => echo_then_fail(frame(1, HELLO).rsv(3), None, true),
        "3.4" => echo_then_fail(frame(1, HELLO).rsv(4), Some(1), false),
        "3.5" => fail(vec![
            frame(2, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff").rsv(5),
            Act::KillAfter(1.0),
        ]),
        "3.6" => fail(vec![frame(2, HELLO).rsv(6), Act::KillAfter(1.0)]),
        "3.7" => fail(vec![frame(8, b"").rsv(7), Act::KillAfter(1.0)]),
        "4.1.1" => fail(vec![frame(3, b""), Act::KillAfter(1.0)]),
        "4.1.2" => fail(vec![frame(4, b"reserved opcode payload"), Act::KillAfter(1.0)]),
        "4.1.3" => echo_then_fail(frame(5, b""), None, false),
        "4.1.4" => echo_then_fail(frame(6, HELLO), None, false),
        "4.1.5" => echo_then_fail(frame(7, HELLO), Some(1), false),
        "4.2.1" => fail(vec![frame(11, b""), Act::KillAfter(1.0)]),
        "4.2.2" => fail(vec![frame(12, b"reserved opcode payload"), Act::KillAfter(1.0)]),
        "4.2.3" => echo_then_fail(frame(13, b""), None, false),
        "4.2.4" => echo_then_fail(frame(14, HELLO), None, false),
        "4.2.5" => echo_then_fail(frame(15, HELLO), Some(1), false),
        "5.1" | "5.2" => {
            let opcode = if id == "5.1" { 9 } else { 10 };
            fail(vec![
                frame(opcode, b"fragment1").fin(false),
                frame(0, b"fragment2"),
                Act::KillAfter(1.0),
            ])
        }
        "5.3" => fragments(None, false),
        "5.4" => fragments(None, true),
        "5.5" => fragments(Some(1), false),
        "5.6" => ping_inside(None, false),
        "5.7" => ping_inside(None, true),
        "5.8" => ping_inside(Some(1), false),
        "5.9" => lone_continuation(true, None, false),
        "5.10" => lone_continuation(true, None, true),
        "5.11" => lone_continuation(true, Some(1), false),
        "5.12" => lone_continuation(false, None, false),
        "5.13" => lone_continuation(false, None, true),
        "5.14" => lone_continuation(false, Some(1), false),
        "5.15" => Script::Events(
            events(
                vec![text(b"fragment1fragment2")],
                peer_fails(PROTOCOL_ERROR),
                vec![
                    frame(1, b"fragment1").fin(false),
                    frame(0, b"fragment2"),
                    frame(0, b"fragment3").fin(false),
                    frame(1, b"fragment4"),
                    Act::KillAfter(1.0),
                ],
            )
            .or_non_strict(vec![]),
        ),
        "5.16" | "5.17" => {
            let first_fin = id == "5.17";
            let mut acts = Vec::new();
            for _ in 0..2 {
                acts.push(frame(0, b"fragment1").fin(first_fin));
                acts.push(frame(1, b"fragment2").fin(false));
                acts.push(frame(0, b"fragment3"));
            }
            acts.push(Act::KillAfter(1.0));
            fail(acts)
        }
        "5.18" => fail(vec![
            frame(1, b"fragment1").fin(false),
            frame(1, b"fragment2"),
            Act::KillAfter(1.0),
        ]),
        "5.19" => pings_and_pause(false),
        "5.20" => pings_and_pause(true),
        "6.1.1" => Script::Events(events(
            vec![text(b"")],
            clean_close(),
            vec![frame(1, b""), Act::CloseAfter(1.0)],
        )),
        "6.1.2" | "6.1.3" => {
            let middle: &[u8] = if id == "6.1.2" { b"" } else { b"middle frame payload" };
            Script::Events(events(
                vec![text(middle)],
                clean_close(),
                vec![
                    frame(1, b"").fin(false),
                    frame(0, middle).fin(false),
                    frame(0, b""),
                    Act::CloseAfter(1.0),
                ],
            ))
        }
        "6.2.1" => Script::Events(events(
            vec![text(UTF8_SAMPLE)],
            clean_close(),
            vec![message(UTF8_SAMPLE, false, None), Act::CloseAfter(1.0)],
        )),
        "6.2.2" => {
            let (first, second) = UTF8_SAMPLE.split_at(SAMPLE_SPLIT);
            Script::Events(events(
                vec![text(UTF8_SAMPLE)],
                clean_close(),
                vec![frame(1, first).fin(false), frame(0, second), Act::CloseAfter(1.0)],
            ))
        }
        "6.2.3" | "6.2.4" => {
            let payload = if id == "6.2.3" { UTF8_SAMPLE } else { KOSME };
            Script::Events(events(
                vec![text(payload)],
                clean_close(),
                vec![message(payload, false, Some(1)), Act::CloseAfter(1.0)],
            ))
        }
        "6.3.1" | "6.3.2" => {
            let payload = [KOSME, b"\xed\xa0\x80", b"edited"].concat();
            let fragment = (id == "6.3.2").then_some(1);
            Script::Events(events(
                vec![],
                peer_fails_utf8(),
                vec![message(&payload, false, fragment), Act::KillAfter(1.0)],
            ))
        }
        "6.4.1" => fail_fast(
            vec![frame(1, &part1).fin(false)],
            vec![frame(0, &part2).fin(false)],
            vec![frame(0, &part3)],
        ),
        "6.4.2" => fail_fast(
            vec![frame(1, &whole[..12]).fin(false)],
            vec![frame(0, &whole[12..13]).fin(false)],
            vec![frame(0, &whole[13..])],
        ),
        "6.4.3" => fail_fast(
            vec![Act::BeginFrame { len: whole.len() }, Act::FrameData(part1.clone())],
            vec![Act::FrameData(part2.clone())],
            vec![Act::FrameData(part3.clone()), Act::EndMessage],
        ),
        "6.4.4" => fail_fast(
            vec![
                Act::BeginFrame { len: whole.len() },
                Act::FrameData(whole[..12].to_vec()),
            ],
            vec![Act::FrameData(whole[12..13].to_vec())],
            vec![Act::FrameData(whole[13..].to_vec()), Act::EndMessage],
        ),
        "7.1.1" => Script::Events(
            events(
                vec![text(b"Hello World!")],
                clean_close(),
                vec![frame(1, b"Hello World!"), Act::KillAfter(1.0)],
            )
            .close_case_keeping_close(),
        ),
        "7.1.2" => close_case(
            vec![],
            clean_close(),
            vec![close(NORMAL), frame(8, b""), Act::KillAfter(1.0)],
        ),
        "7.1.3" => close_case(
            vec![],
            clean_close(),
            vec![close(NORMAL), frame(9, b""), Act::KillAfter(1.0)],
        ),
        "7.1.4" => close_case(
            vec![],
            clean_close(),
            vec![close(NORMAL), frame(1, b"Hello World!"), Act::KillAfter(1.0)],
        ),
        "7.1.5" => close_case(
            vec![],
            clean_close(),
            vec![
                frame(1, b"fragment1").fin(false),
                close(NORMAL),
                frame(0, b"fragment2"),
                Act::KillAfter(1.0),
            ],
        ),
        "7.1.6" => Script::Events(Events {
            grade: Grade::Informational { says_order: true },
            ..events(
                vec![text(b"Hello World!")],
                clean_close(),
                vec![
                    repeated(1, b"BAsd7&jh23", 256 * k),
                    frame(1, b"Hello World!"),
                    close(NORMAL),
                    frame(9, b""),
                    Act::KillAfter(1.0),
                ],
            )
            .or_non_strict(vec![])
            .close_case()
        }),
        "7.3.1" => close_case(
            vec![],
            clean_close(),
            vec![close_frame(None, None), Act::KillAfter(1.0)],
        ),
        "7.3.2" => close_case(
            vec![],
            fuzzer_closes(&[PROTOCOL_ERROR], false),
            vec![close_frame(None, Some(b"a")), Act::KillAfter(1.0)],
        ),
        "7.3.3" => close_case(vec![], clean_close(), vec![close(NORMAL), Act::KillAfter(1.0)]),
        "7.3.4" => close_case(
            vec![],
            clean_close(),
            vec![
                Act::Close {
                    code: Some(NORMAL),
                    reason: Some("Hello World!"),
                },
                Act::KillAfter(1.0),
            ],
        ),
        "7.3.5" => close_case(
            vec![],
            clean_close(),
            vec![
                Act::Close {
                    code: Some(NORMAL),
                    reason: Some(REASON_123),
                },
                Act::KillAfter(1.0),
            ],
        ),
        "7.3.6" => close_case(
            vec![],
            fuzzer_closes(&[PROTOCOL_ERROR], false),
            vec![close_frame(Some(NORMAL), Some(&[b'*'; 124])), Act::KillAfter(1.0)],
        ),
        "7.5.1" => close_case(
            vec![],
            fuzzer_closes(&[PROTOCOL_ERROR, INVALID_PAYLOAD], false),
            vec![close_frame(Some(NORMAL), Some(INVALID_REASON)), Act::KillAfter(1.0)],
        ),
        "7.13.1" | "7.13.2" => {
            let code = if id == "7.13.1" { 5000 } else { 65535 };
            Script::Events(Events {
                grade: Grade::Informational { says_order: false },
                ..events(
                    vec![],
                    fuzzer_closes(&[NORMAL, code, PROTOCOL_ERROR], false),
                    vec![close_frame(Some(code), None), Act::KillAfter(1.0)],
                )
                .close_case()
            })
        }
        "9.1.1" => large(1, b"BAsd7&jh23", 64 * k, 10.0, None),
        "9.1.2" => large(1, b"BAsd7&jh23", 256 * k, 10.0, None),
        "9.1.3" => large(1, b"BAsd7&jh23", m, 100.0, None),
        "9.1.4" => large(1, b"BAsd7&jh23", 4 * m, 100.0, None),
        "9.1.5" => large(1, b"BAsd7&jh23", 8 * m, 100.0, None),
        "9.1.6" => large(1, b"BAsd7&jh23", 16 * m, 100.0, None),
        "9.2.1" => large(2, b"\x00\xfe\x23\xfa\xf0", 64 * k, 10.0, None),
        "9.2.2" => large(2, b"\x00\xfe\x23\xfa\xf0", 256 * k, 10.0, None),
        "9.2.3" => large(2, b"\x00\xfe\x23\xfa\xf0", m, 10.0, None),
        "9.2.4" => large(2, b"\x00\xfe\x23\xfa\xf0", 4 * m, 10.0, None),
        "9.2.5" => large(2, b"\x00\xfe\x23\xfa\xf0", 8 * m, 100.0, None),
        "9.2.6" => large(2, b"\x00\xfe\x23\xfa\xf0", 16 * m, 100.0, None),
        _ if id.starts_with("9.3.") || id.starts_with("9.4.") => {
            let sizes = [64, 256, k, 4 * k, 16 * k, 64 * k, 256 * k, m, 4 * m];
            let index: usize = id[4..].parse().unwrap_or(1);
            let binary = id.starts_with("9.4.");
            // 9.4.1 sends 0xfe, the other binary cases '*' (as the testsuite does).
            let fill = if id == "9.4.1" { 0xfe } else { b'*' };
            fragmented(binary, fill, sizes[index.clamp(1, 9) - 1])
        }
        _ if id.starts_with("9.5.") || id.starts_with("9.6.") => {
            let index: u32 = id[4..].parse().unwrap_or(1);
            let chop = 64usize << (index.clamp(1, 6) - 1);
            if id.starts_with("9.5.") {
                large(1, b"BAsd7&jh23", m, 100.0, Some(chop))
            } else {
                large(2, b"\x00\xfe\x23\xfa\xf0", m, 100.0, Some(chop))
            }
        }
        "10.1.1" => Script::Events(Events {
            grade: Grade::AutoFragment(1300),
            ..events(
                vec![text(&[b'*'; 65536])],
                clean_close(),
                vec![
                    Act::AutoFragment(1300),
                    message(&[b'*'; 65536], false, None),
                    Act::KillAfter(10.0),
                ],
            )
        }),
        other => unreachable!("no script for case {other}"),
    }
}

/// Where 6.2.2 splits its sample: after "Hello-µ@ßöä", on a code point boundary.
const SAMPLE_SPLIT: usize = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}".len();

/// 7.3.5's reason: the longest a close frame holds (123 octets).
const REASON_123: &str = "***************************************************************************************************************************";

/// Fills Autobahn's `%s` places in order.
fn fill(template: &str, args: &[String]) -> String {
    let mut out = String::new();
    let mut rest = template;
    let mut args = args.iter();
    while let Some(at) = rest.find("%s") {
        out.push_str(&rest[..at]);
        out.push_str(args.next().map_or("", String::as_str));
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The payloads Autobahn formats into the words of 6.2.x to 6.4.x.
fn description_args(id: &str) -> Vec<String> {
    let (part1, part2, part3) = fail_fast_payload();
    let whole: Vec<u8> = [part1.clone(), part2.clone(), part3.clone()].concat();
    let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    let (first, second) = UTF8_SAMPLE.split_at(SAMPLE_SPLIT);
    match id {
        "6.2.1" | "6.2.3" => vec![lossy(UTF8_SAMPLE), hex(UTF8_SAMPLE)],
        "6.2.2" => vec![lossy(first), hex(first), lossy(second), hex(second)],
        "6.2.4" => vec![lossy(KOSME), hex(KOSME)],
        "6.3.1" | "6.3.2" => vec![hex(&[KOSME, b"\xed\xa0\x80", b"edited"].concat())],
        "6.4.1" | "6.4.3" => vec![hex(&part1), hex(&part2), hex(&part3)],
        "6.4.2" => vec![hex(&whole[..12]), hex(&whole[12..13]), hex(&whole[13..])],
        // Autobahn formats 6.4.4 with `PAYLOAD3[13:]`, which is empty.
        "6.4.4" => vec![hex(&whole[..12]), hex(&whole[12..13]), String::new()],
        _ => Vec::new(),
    }
}

/// Autobahn's UTF-8 sequences for 6.5 to 6.23 (Markus Kuhn's decoder test), each group with its title and
/// its `(valid, bytes)` payloads.
/// Payloads with their validity.
type Sequences = Vec<(bool, Vec<u8>)>;

fn utf8_groups() -> Vec<(&'static str, Sequences)> {
    let valid = |items: &[&[u8]]| items.iter().map(|bytes| (true, bytes.to_vec())).collect::<Vec<_>>();
    let invalid = |items: &[&[u8]]| items.iter().map(|bytes| (false, bytes.to_vec())).collect::<Vec<_>>();
    let mut groups = Vec::new();
    groups.push((
        "Some valid UTF-8 sequences",
        valid(&[
            b"hello\x24world",
            b"hello\xc2\xa2world",
            b"hello\xe2\x82\xacworld",
            b"hello\xf0\xa4\xad\xa2world",
            KOSME,
        ]),
    ));
    let prefixes = (1..=KOSME.len())
        .map(|end| (std::str::from_utf8(&KOSME[..end]).is_ok(), KOSME[..end].to_vec()))
        .collect();
    groups.push((
        "All prefixes of a valid UTF-8 string that contains multi-byte code points",
        prefixes,
    ));
    groups.push((
        "First possible sequence of a certain length",
        valid(&[b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80"]),
    ));
    groups.push((
        "First possible sequence length 5/6 (invalid codepoints)",
        invalid(&[b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80"]),
    ));
    groups.push((
        "Last possible sequence of a certain length",
        valid(&[b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf"]),
    ));
    groups.push((
        "Last possible sequence length 4/5/6 (invalid codepoints)",
        invalid(&[
            b"\xf7\xbf\xbf\xbf",
            b"\xfb\xbf\xbf\xbf\xbf",
            b"\xfd\xbf\xbf\xbf\xbf\xbf",
        ]),
    ));
    let mut boundary = valid(&[b"\xed\x9f\xbf", b"\xee\x80\x80", b"\xef\xbf\xbd", b"\xf4\x8f\xbf\xbf"]);
    boundary.push((false, b"\xf4\x90\x80\x80".to_vec()));
    groups.push(("Other boundary conditions", boundary));
    let mut continuation = invalid(&[
        b"\x80",
        b"\xbf",
        b"\x80\xbf",
        b"\x80\xbf\x80",
        b"\x80\xbf\x80\xbf",
        b"\x80\xbf\x80\xbf\x80",
        b"\x80\xbf\x80\xbf\x80\xbf",
    ]);
    continuation.push((false, (0x80..0xbf).collect()));
    groups.push(("Unexpected continuation bytes", continuation));
    let lonely = [(0xc0u8, 0xdfu8), (0xe0, 0xef), (0xf0, 0xf7), (0xf8, 0xfb), (0xfc, 0xfd)]
        .iter()
        .map(|&(from, to)| (false, (from..to).flat_map(|byte| [byte, 0x20]).collect()))
        .collect();
    groups.push(("Lonely start characters", lonely));
    let missing: [&[u8]; 10] = [
        b"\xc0",
        b"\xe0\x80",
        b"\xf0\x80\x80",
        b"\xf8\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80",
        b"\xdf",
        b"\xef\xbf",
        b"\xf7\xbf\xbf",
        b"\xfb\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf",
    ];
    groups.push(("Sequences with last continuation byte missing", invalid(&missing)));
    groups.push(("Concatenation of incomplete sequences", vec![(false, missing.concat())]));
    groups.push(("Impossible bytes", invalid(&[b"\xfe", b"\xff", b"\xfe\xfe\xff\xff"])));
    groups.push((
        "Examples of an overlong ASCII character",
        invalid(&[
            b"\xc0\xaf",
            b"\xe0\x80\xaf",
            b"\xf0\x80\x80\xaf",
            b"\xf8\x80\x80\x80\xaf",
            b"\xfc\x80\x80\x80\x80\xaf",
        ]),
    ));
    groups.push((
        "Maximum overlong sequences",
        invalid(&[
            b"\xc1\xbf",
            b"\xe0\x9f\xbf",
            b"\xf0\x8f\xbf\xbf",
            b"\xf8\x87\xbf\xbf\xbf",
            b"\xfc\x83\xbf\xbf\xbf\xbf",
        ]),
    ));
    groups.push((
        "Overlong representation of the NUL character",
        invalid(&[
            b"\xc0\x80",
            b"\xe0\x80\x80",
            b"\xf0\x80\x80\x80",
            b"\xf8\x80\x80\x80\x80",
            b"\xfc\x80\x80\x80\x80\x80",
        ]),
    ));
    groups.push((
        "Single UTF-16 surrogates",
        invalid(&[
            b"\xed\xa0\x80",
            b"\xed\xad\xbf",
            b"\xed\xae\x80",
            b"\xed\xaf\xbf",
            b"\xed\xb0\x80",
            b"\xed\xbe\x80",
            b"\xed\xbf\xbf",
        ]),
    ));
    groups.push((
        "Paired UTF-16 surrogates",
        invalid(&[
            b"\xed\xa0\x80\xed\xb0\x80",
            b"\xed\xa0\x80\xed\xbf\xbf",
            b"\xed\xad\xbf\xed\xb0\x80",
            b"\xed\xad\xbf\xed\xbf\xbf",
            b"\xed\xae\x80\xed\xb0\x80",
            b"\xed\xae\x80\xed\xbf\xbf",
            b"\xed\xaf\xbf\xed\xb0\x80",
            b"\xed\xaf\xbf\xed\xbf\xbf",
        ]),
    ));
    let mut nonchars = valid(&[b"\xef\xbf\xbe", b"\xef\xbf\xbf"]);
    for z1 in [0xf0u8, 0xf1, 0xf2, 0xf3, 0xf4] {
        for z2 in [0x8fu8, 0x9f, 0xaf, 0xbf] {
            // Past U+10FFFF when z1 is f4 and z2 is not 8f.
            if z1 == 0xf4 && z2 != 0x8f {
                continue;
            }
            for z3 in [0xbeu8, 0xbf] {
                let sequence = vec![z1, z2, 0xbf, z3];
                // Overlong.
                if sequence[..] != b"\xf0\x8f\xbf\xbe"[..] && sequence[..] != b"\xf0\x8f\xbf\xbf"[..] {
                    nonchars.push((true, sequence));
                }
            }
        }
    }
    groups.push(("Non-character code points (valid UTF-8)", nonchars));
    groups.push((
        "Unicode specials (i.e. replacement char)",
        valid(&[
            b"\xef\xbf\xb9",
            b"\xef\xbf\xba",
            b"\xef\xbf\xbb",
            b"\xef\xbf\xbc",
            b"\xef\xbf\xbd",
            b"\xef\xbf\xbe",
            b"\xef\xbf\xbf",
        ]),
    ));
    groups
}

/// 6.5 to 6.23: one text message each, echoed when valid, failed (1007) when not.
fn push_utf8_cases(cases: &mut Vec<CaseDef>) {
    for (group, (_, sequences)) in utf8_groups().into_iter().enumerate() {
        for (index, (valid, payload)) in sequences.into_iter().enumerate() {
            let (description, expectation) = if valid {
                (
                    "Send a text message with payload which is valid UTF-8 in one fragment.",
                    "The message is echo'ed back to us.",
                )
            } else {
                (
                    "Send a text message with payload which is not valid UTF-8 in one fragment.",
                    "The connection is failed immediately, since the payload is not valid UTF-8.",
                )
            };
            let events = if valid {
                events(
                    vec![text(&payload)],
                    clean_close(),
                    vec![message(&payload, false, None), Act::KillAfter(0.5)],
                )
            } else {
                events(
                    vec![],
                    peer_fails_utf8(),
                    vec![message(&payload, false, None), Act::KillAfter(0.5)],
                )
            };
            cases.push(CaseDef {
                id: format!("6.{}.{}", group + 5, index + 1),
                description: format!("{description}<br><br>Payload: 0x{}", hex(&payload)),
                expectation: expectation.to_owned(),
                script: Script::Events(events),
                report_time: false,
            });
        }
    }
}

/// 7.7.x and 7.9.x: a close with each valid code (clean close, normal or echoed code back) and each invalid one
/// (protocol error or a dropped connection).
fn push_close_code_cases(cases: &mut Vec<CaseDef>) {
    for (index, code) in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ]
    .into_iter()
    .enumerate()
    {
        cases.push(CaseDef {
            id: format!("7.7.{}", index + 1),
            description: format!("Send close with valid close code {code}"),
            expectation: "Clean close with normal or echoed code".to_owned(),
            script: Script::Events(
                events(
                    vec![],
                    fuzzer_closes(&[NORMAL, code], true),
                    vec![close_frame(Some(code), None), Act::KillAfter(1.0)],
                )
                .close_case_keeping_close(),
            ),
            report_time: false,
        });
    }
    for (index, code) in [0u16, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999]
        .into_iter()
        .enumerate()
    {
        cases.push(CaseDef {
            id: format!("7.9.{}", index + 1),
            description: format!("Send close with invalid close code {code}"),
            expectation: "Clean close with protocol error code or drop TCP".to_owned(),
            script: Script::Events(
                events(
                    vec![],
                    fuzzer_closes(&[PROTOCOL_ERROR], false),
                    vec![close_frame(Some(code), None), Act::KillAfter(1.0)],
                )
                .close_case_keeping_close(),
            ),
            report_time: false,
        });
    }
}

impl Events {
    /// 7.7 and 7.9 grade a wrong code as a failure but (unlike 7.1 to 7.5) leave Autobahn's answer to a match on.
    fn close_case_keeping_close(mut self) -> Events {
        self.grade = Grade::WrongCodeFails;
        self
    }
}

/// 9.7 and 9.8: 1000 round trips of each size, text then binary.
fn push_round_trip_cases(cases: &mut Vec<CaseDef>) {
    for binary in [false, true] {
        for (index, (len, waitsecs)) in [
            (0usize, 60.0),
            (16, 60.0),
            (64, 60.0),
            (256, 120.0),
            (1024, 240.0),
            (4096, 480.0),
        ]
        .into_iter()
        .enumerate()
        {
            let kind = if binary { "binary" } else { "text" };
            cases.push(CaseDef {
                id: format!("9.{}.{}", if binary { 8 } else { 7 }, index + 1),
                description: format!(
                    "Send 1000 {kind} messages of payload size {len} to measure implementation/network RTT (round trip time) / latency."
                ),
                expectation: format!(
                    "Receive echo'ed {kind} messages (with payload as sent). Timeout case after {waitsecs} secs."
                ),
                script: Script::RoundTrips { len, count: 1000, waitsecs, binary },
                report_time: true,
            });
        }
    }
}

/// Message sizes, counts, timeouts and auto-fragment sizes of 12.x.y and 13.x.y.
const COMPRESSION_SIZES: [(usize, u32, f64, usize); 18] = [
    (16, 1000, 60.0, 0),
    (64, 1000, 60.0, 0),
    (256, 1000, 120.0, 0),
    (1024, 1000, 240.0, 0),
    (4096, 1000, 480.0, 0),
    (8192, 1000, 480.0, 0),
    (16384, 1000, 480.0, 0),
    (32768, 1000, 480.0, 0),
    (65536, 1000, 480.0, 0),
    (131072, 1000, 480.0, 0),
    (8192, 1000, 480.0, 256),
    (16384, 1000, 480.0, 256),
    (32768, 1000, 480.0, 256),
    (65536, 1000, 480.0, 256),
    (131072, 1000, 480.0, 256),
    (131072, 1000, 480.0, 1024),
    (131072, 1000, 480.0, 4096),
    (131072, 1000, 480.0, 32768),
];

fn offer(no_context_takeover: bool, max_window_bits: u8) -> DeflateOffer {
    DeflateOffer {
        request_no_context_takeover: no_context_takeover,
        request_max_window_bits: max_window_bits,
    }
}

/// 12.x.y: each kind of data with the default offer; 13.x.y: JSON with seven offer/accept pairs.
fn push_compression_cases(cases: &mut Vec<CaseDef>) {
    let data = [
        TestData::Json,
        TestData::Bitmap,
        TestData::Prose,
        TestData::Html,
        TestData::Pdf,
    ];
    for (group, data) in data.into_iter().enumerate() {
        for (index, &(len, count, waitsecs, auto_fragment)) in COMPRESSION_SIZES.iter().enumerate() {
            cases.push(CaseDef {
                id: format!("12.{}.{}", group + 1, index + 1),
                description: format!(
                    "Send {count} compressed messages each of payload size {len}, auto-fragment to {auto_fragment} octets. Use default permessage-deflate offer."
                ),
                expectation: format!("Receive echo'ed messages (with payload as sent). Timeout case after {waitsecs} secs."),
                script: Script::Compressed(Compressed {
                    len,
                    count,
                    waitsecs,
                    auto_fragment,
                    data,
                    offers: vec![DeflateOffer::default()],
                    accept: DeflateAccept::Plain,
                }),
                report_time: true,
            });
        }
    }
    let params: [(DeflateAccept, Vec<DeflateOffer>); 7] = [
        (DeflateAccept::Plain, vec![offer(false, 0)]),
        (DeflateAccept::NoContextTakeover, vec![offer(true, 0)]),
        (DeflateAccept::MaxWindowBits(9), vec![offer(false, 9)]),
        (DeflateAccept::MaxWindowBits(15), vec![offer(false, 15)]),
        (DeflateAccept::Both(9), vec![offer(true, 9)]),
        (DeflateAccept::Both(15), vec![offer(true, 15)]),
        (
            DeflateAccept::Fallback,
            vec![offer(true, 9), offer(true, 0), offer(false, 0)],
        ),
    ];
    for (group, (accept, offers)) in params.into_iter().enumerate() {
        let described = offers
            .iter()
            .map(|offer| {
                let flag = if offer.request_no_context_takeover {
                    "True"
                } else {
                    "False"
                };
                format!("({flag}, {})", offer.request_max_window_bits)
            })
            .collect::<Vec<_>>()
            .join(", ");
        for (index, &(len, count, waitsecs, auto_fragment)) in COMPRESSION_SIZES.iter().enumerate() {
            cases.push(CaseDef {
                id: format!("13.{}.{}", group + 1, index + 1),
                description: format!(
                    "Send {count} compressed messages each of payload size {len}, auto-fragment to {auto_fragment} octets. Use permessage-deflate client offers (requestNoContextTakeover, requestMaxWindowBits): [{described}]"
                ),
                expectation: format!("Receive echo'ed messages (with payload as sent). Timeout case after {waitsecs} secs."),
                script: Script::Compressed(Compressed {
                    len,
                    count,
                    waitsecs,
                    auto_fragment,
                    data: TestData::Json,
                    offers: offers.clone(),
                    accept,
                }),
                report_time: true,
            });
        }
    }
}

fn build() -> Vec<CaseDef> {
    let mut cases = Vec::with_capacity(517);
    for &(id, description, expectation) in WORDS {
        let report_time = id.starts_with("9.");
        cases.push(CaseDef {
            id: id.to_owned(),
            description: fill(description, &description_args(id)),
            expectation: expectation.to_owned(),
            script: script(id),
            report_time,
        });
        match id {
            "6.4.4" => push_utf8_cases(&mut cases),
            "7.5.1" => push_close_code_cases(&mut cases),
            "9.6.6" => push_round_trip_cases(&mut cases),
            "10.1.1" => push_compression_cases(&mut cases),
            _ => {}
        }
    }
    cases
}

/// Every case, in Autobahn's order (517).
pub(crate) fn all() -> &'static [CaseDef] {
    static CASES: OnceLock<Vec<CaseDef>> = OnceLock::new();
    CASES.get_or_init(build)
}

/// The titles of Autobahn's categories and subcategories, for reports.
pub(crate) fn category_title(category: &str) -> &'static str {
    match category {
        "1" => "Framing",
        "2" => "Pings/Pongs",
        "3" => "Reserved Bits",
        "4" => "Opcodes",
        "5" => "Fragmentation",
        "6" => "UTF-8 Handling",
        "7" => "Close Handling",
        "9" => "Limits/Performance",
        "10" => "Misc",
        "12" => "WebSocket Compression (different payloads)",
        "13" => "WebSocket Compression (different parameters)",
        _ => "Misc",
    }
}

/// A subcategory's title (`6.12` -> "Unexpected continuation bytes"), when Autobahn gives one.
pub(crate) fn subcategory_title(subcategory: &str) -> Option<String> {
    let fixed = match subcategory {
        "1.1" => "Text Messages",
        "1.2" => "Binary Messages",
        "4.1" => "Non-control Opcodes",
        "4.2" => "Control Opcodes",
        "6.1" => "Valid UTF-8 with zero payload fragments",
        "6.2" => "Valid UTF-8 unfragmented, fragmented on code-points and within code-points",
        "6.3" => "Invalid UTF-8 differently fragmented",
        "6.4" => "Fail-fast on invalid UTF-8",
        "7.1" => "Basic close behavior (fuzzer initiated)",
        "7.3" => "Close frame structure: payload length (fuzzer initiated)",
        "7.5" => "Close frame structure: payload value (fuzzer initiated)",
        "7.7" => "Close frame structure: valid close codes (fuzzer initiated)",
        "7.9" => "Close frame structure: invalid close codes (fuzzer initiated)",
        "7.13" => "Informational close information (fuzzer initiated)",
        "9.1" => "Text Message (increasing size)",
        "9.2" => "Binary Message (increasing size)",
        "9.3" => "Fragmented Text Message (fixed size, increasing fragment size)",
        "9.4" => "Fragmented Binary Message (fixed size, increasing fragment size)",
        "9.5" => "Text Message (fixed size, increasing chop size)",
        "9.6" => "Binary Text Message (fixed size, increasing chop size)",
        "9.7" => "Text Message Roundtrip Time (fixed number, increasing size)",
        "9.8" => "Binary Message Roundtrip Time (fixed number, increasing size)",
        "10.1" => "Auto-Fragmentation",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(fixed.to_owned());
    }
    let (category, index) = subcategory.split_once('.')?;
    let index: usize = index.parse().ok()?;
    match category {
        "6" if index >= 5 => utf8_groups().get(index - 5).map(|(title, _)| (*title).to_owned()),
        "12" => [
            TestData::Json,
            TestData::Bitmap,
            TestData::Prose,
            TestData::Html,
            TestData::Pdf,
        ]
        .get(index.checked_sub(1)?)
        .map(|data| {
            format!(
                "{} ({})",
                data.description(),
                if data.binary() { "binary" } else { "utf8" }
            )
        }),
        "13" if (1..=7).contains(&index) => Some(format!(
            "{} (utf8), permessage-deflate parameters {index}",
            TestData::Json.description()
        )),
        _ => None,
    }
}
