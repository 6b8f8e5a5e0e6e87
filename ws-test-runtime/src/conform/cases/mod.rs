//! Autobahn's cases as one table: what each sends, what it expects, how it is graded. The facts come from the
//! testsuite's case descriptions (`autobahntestsuite/case/*.py`, Apache-2.0, crossbario/autobahn-testsuite): its
//! numbering, its order, its words, its payloads and its timers. Nothing here talks to a socket; `peer.rs` plays a
//! case and `grade` turns what happened into Autobahn's verdicts.

use std::sync::OnceLock;

mod utf8;
mod words;

use utf8::{push_utf8_cases, utf8_groups};
use words::WORDS;

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
