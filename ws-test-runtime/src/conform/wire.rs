//! The wire of the fuzzing peer: frames read and written by hand (tungstenite refuses to send what the cases send),
//! and the connection's state as Autobahn's grading reads it — who started the close, whether it was clean, who
//! dropped the TCP connection, the peer's close code. Its rules are Autobahn's protocol's
//! (`autobahn/websocket/protocol.py` with `failByDrop = False`, as the testsuite runs it): a violation by the peer
//! starts a close handshake (1002, 1007 for invalid UTF-8), a second one drops the connection; a server drops the
//! TCP connection as soon as the close handshake ends, a client waits a second for the server to do it; a close
//! the peer never answers is given up after a second.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::cases::{Act, Payload};
use super::deflate::Deflate;

/// Which side of the connection the fuzzer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The fuzzing client: grades a server.
    Client,
    /// The fuzzing server: grades a client.
    Server,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Open,
    Closing,
    Closed,
}

/// Close codes a peer may send (Autobahn's `CLOSE_STATUS_CODES_ALLOWED`), besides 3000 to 4999.
const ALLOWED_CODES: [u16; 11] = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013];

fn valid_close_code(code: u16) -> bool {
    (3000..=4999).contains(&code) || ALLOWED_CODES.contains(&code)
}

/// How long a started close handshake waits for the peer's answer, and a client for the server's TCP close.
const CLOSE_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(1);
const SERVER_DROP_TIMEOUT: Duration = Duration::from_secs(1);

/// What arrives at the case from the wire.
pub(crate) enum Got {
    Message(Vec<u8>, bool),
    Pong(Vec<u8>),
}

/// A timer of the case or of the protocol.
#[derive(Debug, Clone)]
pub(crate) enum Timer {
    Kill,
    Close,
    Later {
        tag: &'static str,
        timeout: bool,
        then: &'static [Act],
    },
    CloseHandshake,
    ServerDrop,
    /// The fuzzer's own limit: no case may hang, whatever the peer does.
    Deadline,
}

/// Bytes for the writer task.
pub(crate) enum Out {
    Bytes {
        bytes: Vec<u8>,
        chop: Option<usize>,
        sync: bool,
    },
    Shutdown,
}

/// Incremental UTF-8 validation: an invalid byte is seen when it arrives (fail fast), an incomplete code point at
/// the end of a chunk waits for the next one.
#[derive(Debug, Default)]
pub(crate) struct Utf8 {
    pending: Vec<u8>,
}

impl Utf8 {
    /// Takes the next bytes; `false` as soon as they cannot be UTF-8 whatever follows.
    pub(crate) fn feed(&mut self, data: &[u8]) -> bool {
        let joined;
        let bytes = if self.pending.is_empty() {
            data
        } else {
            joined = [self.pending.as_slice(), data].concat();
            &joined
        };
        match std::str::from_utf8(bytes) {
            Ok(_) => {
                self.pending.clear();
                true
            }
            Err(error) if error.error_len().is_none() => {
                self.pending = bytes[error.valid_up_to()..].to_vec();
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the bytes so far end on a code point.
    pub(crate) fn complete(&self) -> bool {
        self.pending.is_empty()
    }
}

/// A frame being read.
struct FrameIn {
    opcode: u8,
    fin: bool,
    rsv: u8,
    len: usize,
    mask: Option<[u8; 4]>,
    read: usize,
    /// The frame's payload as far as it was read (control frames; data frames while the wire log wants them).
    data: Vec<u8>,
}

/// A frame header being written in parts (`beginMessageFrame` and its data).
struct FrameOut {
    mask: Option<[u8; 4]>,
    len: usize,
    written: usize,
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64() * 1000.0)
}

/// The time Autobahn writes in `started`: UTC, ISO 8601 with milliseconds.
pub(crate) fn utc_now() -> String {
    let millis = now_ms() as u64;
    let (seconds, millis) = (millis / 1000, millis % 1000);
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day), Howard Hinnant's algorithm.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A mask key: not for security, only so that masked frames differ as a real client's do.
pub(crate) fn random_mask() -> [u8; 4] {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos()),
    );
    (hasher.finish() as u32).to_be_bytes()
}

/// XORs `data` with `mask`, starting at `offset` of the mask's cycle.
pub(crate) fn apply_mask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let mut rotated = [0u8; 4];
    for (index, byte) in rotated.iter_mut().enumerate() {
        *byte = mask[(offset + index) % 4];
    }
    let word = u32::from_ne_bytes(rotated);
    let wide = u64::from(word) | (u64::from(word) << 32);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let value = u64::from_ne_bytes(chunk.try_into().unwrap_or([0; 8])) ^ wide;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    for (index, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= rotated[index % 4];
    }
}

/// The first bytes of a payload as Autobahn's wire log and event lists show them: text when they are UTF-8,
/// else `0x` and hex; 64 octets at most, then " ...".
pub(crate) fn shown(data: &[u8]) -> String {
    const MAX: usize = 64;
    let cut = data.len() > MAX - 4;
    let head = if cut { &data[..data.len().min(MAX)] } else { data };
    match std::str::from_utf8(head) {
        Ok(text) if cut => format!("{text} ..."),
        Ok(text) => text.to_owned(),
        Err(_) => {
            let hex: String = head.iter().map(|byte| format!("{byte:02x}")).collect();
            if cut {
                format!("0x{hex} ...")
            } else {
                format!("0x{hex}")
            }
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The connection's state and everything Autobahn's grading and report read from it.
pub(crate) struct Wire {
    pub(crate) role: Role,
    pub(crate) state: State,
    pub(crate) out: mpsc::UnboundedSender<Out>,
    pub(crate) abort: Arc<AtomicBool>,
    pub(crate) timers: Vec<(Instant, Timer)>,
    pub(crate) closed_by_me: bool,
    pub(crate) failed_by_me: bool,
    pub(crate) dropped_by_me: bool,
    pub(crate) was_clean: bool,
    pub(crate) was_not_clean_reason: Option<String>,
    pub(crate) was_close_handshake_timeout: bool,
    pub(crate) was_server_connection_drop_timeout: bool,
    pub(crate) local_close_code: Option<u16>,
    pub(crate) local_close_reason: Option<Vec<u8>>,
    pub(crate) remote_close_code: Option<u16>,
    pub(crate) remote_close_reason: Option<String>,
    // Reading.
    pub(crate) input: Vec<u8>,
    frame: Option<FrameIn>,
    pub(crate) inside_message: bool,
    pub(crate) message: Vec<u8>,
    pub(crate) message_binary: bool,
    pub(crate) message_compressed: bool,
    utf8: Option<Utf8>,
    // Writing.
    frame_out: Option<FrameOut>,
    pub(crate) auto_fragment: usize,
    pub(crate) deflate: Option<Deflate>,
    // The report.
    pub(crate) create_wirelog: bool,
    pub(crate) wirelog: Vec<Value>,
    pub(crate) rx_octets: BTreeMap<usize, u64>,
    pub(crate) tx_octets: BTreeMap<usize, u64>,
    pub(crate) rx_frames: BTreeMap<u8, u64>,
    pub(crate) tx_frames: BTreeMap<u8, u64>,
}

impl Wire {
    pub(crate) fn new(
        role: Role,
        out: mpsc::UnboundedSender<Out>,
        abort: Arc<AtomicBool>,
        deflate: Option<Deflate>,
    ) -> Wire {
        Wire {
            role,
            state: State::Open,
            out,
            abort,
            timers: Vec::new(),
            closed_by_me: false,
            failed_by_me: false,
            dropped_by_me: false,
            was_clean: false,
            was_not_clean_reason: None,
            was_close_handshake_timeout: false,
            was_server_connection_drop_timeout: false,
            local_close_code: None,
            local_close_reason: None,
            remote_close_code: None,
            remote_close_reason: None,
            input: Vec::new(),
            frame: None,
            inside_message: false,
            message: Vec::new(),
            message_binary: false,
            message_compressed: false,
            utf8: None,
            frame_out: None,
            auto_fragment: 0,
            deflate,
            create_wirelog: true,
            wirelog: Vec::new(),
            rx_octets: BTreeMap::new(),
            tx_octets: BTreeMap::new(),
            rx_frames: BTreeMap::new(),
            tx_frames: BTreeMap::new(),
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        self.state == State::Open
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    pub(crate) fn log(&mut self, entry: Value) {
        if self.create_wirelog {
            self.wirelog.push(entry);
        }
    }

    /// `enableWirelog`: switches the wire log, noting the switch.
    pub(crate) fn enable_wirelog(&mut self, enable: bool) {
        if enable != self.create_wirelog {
            self.create_wirelog = enable;
            self.wirelog.push(json!(["WLM", enable]));
        }
    }

    /// The timers that came due, in the order they were due; the others stay scheduled.
    pub(crate) fn take_due(&mut self) -> Vec<Timer> {
        let now = Instant::now();
        let (mut due, pending): (Vec<_>, Vec<_>) = self.timers.drain(..).partition(|(at, _)| *at <= now);
        self.timers = pending;
        due.sort_by_key(|(at, _)| *at);
        due.into_iter().map(|(_, timer)| timer).collect()
    }

    pub(crate) fn schedule(&mut self, after: Duration, timer: Timer) {
        self.timers.push((Instant::now() + after, timer));
    }

    pub(crate) fn cancel(&mut self, which: fn(&Timer) -> bool) {
        self.timers.retain(|(_, timer)| !which(timer));
    }

    pub(crate) fn send_data(&mut self, bytes: Vec<u8>, chop: Option<usize>, sync: bool) {
        *self.tx_octets.entry(bytes.len()).or_default() += 1;
        if self.create_wirelog {
            self.wirelog.push(json!(["TO", [bytes.len(), shown_hex(&bytes)], sync]));
        }
        let _ = self.out.send(Out::Bytes { bytes, chop, sync });
    }

    pub(crate) fn mask_outgoing(&self) -> bool {
        self.role == Role::Client
    }

    /// `sendFrame`: any frame, whatever the state; the repeat of `payload` when it is one.
    pub(crate) fn send_frame(
        &mut self,
        opcode: u8,
        payload: &Payload,
        fin: bool,
        rsv: u8,
        chop: Option<usize>,
        sync: bool,
    ) {
        let bytes = payload.bytes();
        self.send_raw_frame(opcode, bytes, fin, rsv, chop, sync, Some(payload));
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_raw_frame(
        &mut self,
        opcode: u8,
        mut bytes: Vec<u8>,
        fin: bool,
        rsv: u8,
        chop: Option<usize>,
        sync: bool,
        shown_as: Option<&Payload>,
    ) {
        let len = bytes.len();
        *self.tx_frames.entry(opcode).or_default() += 1;
        let mask = self.mask_outgoing().then(random_mask);
        if self.create_wirelog {
            let (pattern, repeat) = match shown_as {
                Some(payload) => payload.shown(),
                None => (bytes.as_slice(), None),
            };
            let entry = json!([
                "TF",
                [pattern.len(), shown(pattern)],
                opcode,
                fin,
                rsv,
                mask.map(|mask| hex(&mask)),
                repeat,
                chop,
                sync
            ]);
            self.wirelog.push(entry);
        }
        let mut frame = Vec::with_capacity(len + 14);
        frame.push((u8::from(fin) << 7) | ((rsv % 8) << 4) | (opcode % 128));
        push_length(&mut frame, len, mask.is_some());
        if let Some(mask) = mask {
            frame.extend_from_slice(&mask);
            apply_mask(&mut bytes, mask, 0);
        }
        frame.extend_from_slice(&bytes);
        self.send_data(frame, chop, sync);
    }

    /// `sendMessage`: a message, compressed when permessage-deflate is on, in fragments of `fragment` (or the
    /// auto-fragment size) when longer.
    pub(crate) fn send_message(&mut self, payload: &[u8], binary: bool, fragment: Option<usize>) {
        if self.state != State::Open {
            return;
        }
        let opcode = if binary { 2 } else { 1 };
        let (payload, rsv) = match self.deflate.as_mut() {
            Some(deflate) => (deflate.compress(payload), 4),
            None => (payload.to_vec(), 0),
        };
        let size = fragment.or((self.auto_fragment > 0).then_some(self.auto_fragment));
        match size {
            Some(size) if payload.len() > size && size > 0 => {
                let mut start = 0;
                let mut first = true;
                loop {
                    let mut end = start + size;
                    let done = end > payload.len();
                    if done {
                        end = payload.len();
                    }
                    let piece = payload[start..end].to_vec();
                    if first {
                        self.send_raw_frame(opcode, piece, done, rsv, None, false, None);
                        first = false;
                    } else {
                        self.send_raw_frame(0, piece, done, 0, None, false, None);
                    }
                    if done {
                        break;
                    }
                    start += size;
                }
            }
            _ => self.send_raw_frame(opcode, payload, true, rsv, None, false, None),
        }
    }

    /// `beginMessage` + `beginMessageFrame(len)`: a text frame's header (FIN unset); its payload follows.
    pub(crate) fn begin_frame(&mut self, len: usize) {
        if self.state != State::Open {
            return;
        }
        *self.tx_frames.entry(1).or_default() += 1;
        let mask = self.mask_outgoing().then(random_mask);
        let mut header = vec![1u8];
        push_length(&mut header, len, mask.is_some());
        if let Some(mask) = mask {
            header.extend_from_slice(&mask);
        }
        self.send_data(header, None, false);
        self.frame_out = Some(FrameOut { mask, len, written: 0 });
    }

    /// `sendMessageFrameData`: the next part of the frame begun.
    pub(crate) fn frame_data(&mut self, data: &[u8]) {
        if self.state != State::Open {
            return;
        }
        let Some(mut frame) = self.frame_out.take() else { return };
        let room = frame.len - frame.written;
        let mut part = data[..data.len().min(room)].to_vec();
        if let Some(mask) = frame.mask {
            apply_mask(&mut part, mask, frame.written);
        }
        frame.written += part.len();
        self.send_data(part, None, false);
        if frame.written < frame.len {
            self.frame_out = Some(frame);
        }
    }

    /// `endMessage`: the empty final continuation frame.
    pub(crate) fn end_message(&mut self) {
        if self.state != State::Open {
            return;
        }
        self.frame_out = None;
        self.send_raw_frame(0, Vec::new(), true, 0, None, false, None);
    }

    /// `sendCloseFrame`: a close frame with any code and reason, when the connection is open.
    pub(crate) fn send_close_frame(&mut self, code: Option<u16>, reason: Option<Vec<u8>>, is_reply: bool) {
        if self.state != State::Open {
            return;
        }
        let mut payload = Vec::new();
        if let Some(code) = code {
            payload.extend_from_slice(&code.to_be_bytes());
        }
        if let Some(reason) = &reason {
            payload.extend_from_slice(reason);
        }
        self.send_raw_frame(8, payload, true, 0, None, false, None);
        self.state = State::Closing;
        self.closed_by_me = !is_reply;
        self.local_close_code = code;
        self.local_close_reason = reason;
        if self.closed_by_me {
            self.schedule(CLOSE_HANDSHAKE_TIMEOUT, Timer::CloseHandshake);
        }
    }

    /// `sendClose`: the fuzzer starts a close handshake.
    pub(crate) fn send_close(&mut self, code: Option<u16>, reason: Option<&str>) {
        let reason = reason.map(|reason| truncate_utf8(reason, 123));
        self.send_close_frame(code, reason, false);
    }

    pub(crate) fn send_pong(&mut self, payload: Vec<u8>) {
        if self.state == State::Open {
            self.send_raw_frame(10, payload, true, 0, None, false, None);
        }
    }

    /// `dropConnection`: closes the TCP connection from this side.
    pub(crate) fn drop_connection(&mut self, abort: bool) {
        if self.state == State::Closed {
            return;
        }
        self.dropped_by_me = true;
        self.state = State::Closed;
        if abort {
            self.abort.store(true, Ordering::Relaxed);
        }
        let _ = self.out.send(Out::Shutdown);
    }

    /// `_fail_connection`: a close handshake with `code`, or, when one is already under way, the end of the
    /// connection.
    pub(crate) fn fail(&mut self, code: u16, reason: &str) {
        if self.state == State::Closed {
            return;
        }
        self.failed_by_me = true;
        if self.state == State::Closing {
            self.drop_connection(false);
        } else {
            self.send_close_frame(Some(code), Some(truncate_utf8(reason, 123)), false);
        }
    }

    /// A protocol violation by the peer: the connection is failed with 1002 and reading goes on.
    pub(crate) fn violation(&mut self, reason: &str) {
        self.fail(1002, reason);
    }

    /// The connection ended: the peer closed it or it broke.
    pub(crate) fn lost(&mut self, reason: &str) {
        if self.state != State::Closed {
            self.state = State::Closed;
        }
        if !self.was_clean && !self.dropped_by_me && self.was_not_clean_reason.is_none() {
            self.was_not_clean_reason = Some(reason.to_owned());
        }
        let _ = self.out.send(Out::Shutdown);
    }

    /// Handles a timer that came due; `Later` timers come back to the case.
    pub(crate) fn fire(&mut self, timer: &Timer) -> bool {
        match timer {
            Timer::Kill => {
                if self.state != State::Closed {
                    self.log(json!(["KLE"]));
                    self.fail(1001, "going away");
                }
            }
            Timer::Close => {
                if self.state != State::Closed {
                    self.log(json!(["TIE"]));
                    self.send_close(None, None);
                }
            }
            Timer::CloseHandshake => {
                if self.state != State::Closed {
                    self.was_clean = false;
                    self.was_not_clean_reason = Some(
                        "WebSocket closing handshake timeout (peer did not finish the opening handshake in time)"
                            .replace("opening", "closing"),
                    );
                    self.was_close_handshake_timeout = true;
                    self.drop_connection(true);
                }
            }
            Timer::ServerDrop => {
                if self.state != State::Closed {
                    self.was_clean = false;
                    self.was_not_clean_reason =
                        Some("WebSocket closing handshake timeout (server did not drop TCP connection in time)".into());
                    self.was_server_connection_drop_timeout = true;
                    self.drop_connection(true);
                }
            }
            Timer::Deadline => {
                if self.state != State::Closed {
                    self.was_clean = false;
                    self.was_not_clean_reason =
                        Some("ws-test: the case did not end in time, whatever its own timers say".into());
                    self.drop_connection(true);
                }
            }
            Timer::Later { .. } => return self.state != State::Closed,
        }
        false
    }

    /// A close frame from the peer (`onCloseFrame`).
    pub(crate) fn on_close_frame(&mut self, code: Option<u16>, reason: Option<&[u8]>) {
        self.remote_close_code = None;
        self.remote_close_reason = None;
        match code {
            Some(code) if !valid_close_code(code) => {
                self.violation(&format!("invalid close code {code}"));
                self.remote_close_code = Some(1000);
            }
            code => self.remote_close_code = code,
        }
        if let Some(reason) = reason {
            match std::str::from_utf8(reason) {
                Ok(text) => self.remote_close_reason = Some(text.to_owned()),
                Err(_) => self.fail(1007, "invalid close reason (non-UTF8 payload)"),
            }
        }
        match self.state {
            State::Closing => {
                self.cancel(|timer| matches!(timer, Timer::CloseHandshake));
                self.was_clean = true;
                match self.role {
                    Role::Server => self.drop_connection(true),
                    Role::Client => self.schedule(SERVER_DROP_TIMEOUT, Timer::ServerDrop),
                }
            }
            State::Open => {
                self.was_clean = true;
                self.send_close_frame(Some(1000), None, true);
                if self.role == Role::Server {
                    self.drop_connection(false);
                }
            }
            State::Closed => self.was_clean = false,
        }
    }

    /// Reads what arrived as far as it goes: `Some` when a message or a pong is complete (the case sees it before
    /// anything after it is read, as Autobahn's does), `None` when more bytes are needed.
    pub(crate) fn step(&mut self) -> Option<Option<Got>> {
        if self.state == State::Closed {
            return None;
        }
        if self.frame.is_none() {
            return self.read_header().then_some(None);
        }
        self.read_payload()
    }

    /// Reads a frame header when it is all there, checking it as Autobahn does.
    pub(crate) fn read_header(&mut self) -> bool {
        if self.input.len() < 2 {
            return false;
        }
        let (b0, b1) = (self.input[0], self.input[1]);
        let fin = b0 & 0x80 != 0;
        let rsv = (b0 & 0x70) >> 4;
        let opcode = b0 & 0x0f;
        let masked = b1 & 0x80 != 0;
        let len1 = b1 & 0x7f;
        let compressing = self.deflate.is_some();
        if rsv != 0 && !(compressing && rsv == 4) {
            self.violation(&format!("RSV = {rsv} and no extension negotiated"));
        }
        if self.role == Role::Server && !masked {
            self.violation("unmasked client-to-server frame");
        }
        if self.role == Role::Client && masked {
            self.violation("masked server-to-client frame");
        }
        if opcode > 7 {
            if !fin {
                self.violation("fragmented control frame");
            }
            if len1 > 125 {
                self.violation("control frame with payload length > 125 octets");
            }
            if ![8, 9, 10].contains(&opcode) {
                self.violation(&format!("control frame using reserved opcode {opcode}"));
            }
            if opcode == 8 && len1 == 1 {
                self.violation("received close control frame with payload len 1");
            }
            if compressing && rsv == 4 {
                self.violation("received compressed control frame [permessage-deflate]");
            }
        } else {
            if opcode > 2 {
                self.violation(&format!("data frame using reserved opcode {opcode}"));
            }
            if !self.inside_message && opcode == 0 {
                self.violation("received continuation data frame outside fragmented message");
            }
            if self.inside_message && opcode != 0 {
                self.violation("received non-continuation data frame while inside fragmented message");
            }
            if compressing && rsv == 4 && self.inside_message {
                self.violation("received continuation data frame with compress bit set [permessage-deflate]");
            }
        }
        if self.state == State::Closed {
            return false;
        }
        let mask_len = if masked { 4 } else { 0 };
        let header_len = match len1 {
            126 => 4 + mask_len,
            127 => 10 + mask_len,
            _ => 2 + mask_len,
        };
        if self.input.len() < header_len {
            return false;
        }
        let len = match len1 {
            126 => {
                let len = u16::from_be_bytes([self.input[2], self.input[3]]) as u64;
                if len < 126 {
                    self.violation("invalid data frame length (not using minimal length encoding)");
                }
                len
            }
            127 => {
                let len = u64::from_be_bytes(self.input[2..10].try_into().unwrap_or([0; 8]));
                if len > 0x7fff_ffff_ffff_ffff {
                    self.violation("invalid data frame length (>2^63)");
                }
                if len < 65536 {
                    self.violation("invalid data frame length (not using minimal length encoding)");
                }
                len
            }
            short => u64::from(short),
        };
        if self.state == State::Closed {
            return false;
        }
        let Ok(len) = usize::try_from(len) else {
            self.fail(1009, "frame too large for this machine");
            return false;
        };
        let mask = masked.then(|| {
            let at = header_len - 4;
            [
                self.input[at],
                self.input[at + 1],
                self.input[at + 2],
                self.input[at + 3],
            ]
        });
        self.input.drain(..header_len);
        if opcode <= 7 && !self.inside_message {
            self.inside_message = true;
            self.message.clear();
            self.message_binary = opcode == 2;
            self.message_compressed = compressing && rsv == 4;
            if let (true, Some(deflate)) = (self.message_compressed, self.deflate.as_mut()) {
                deflate.start_decompress();
            }
            self.utf8 = (opcode == 1).then(Utf8::default);
        }
        self.frame = Some(FrameIn {
            opcode,
            fin,
            rsv,
            len,
            mask,
            read: 0,
            data: Vec::new(),
        });
        true
    }

    /// Reads what is there of the current frame's payload; at its end, handles the frame.
    pub(crate) fn read_payload(&mut self) -> Option<Option<Got>> {
        let mut frame = self.frame.take()?;
        let take = (frame.len - frame.read).min(self.input.len());
        if take == 0 && frame.len > frame.read {
            self.frame = Some(frame);
            return None;
        }
        let mut chunk: Vec<u8> = self.input.drain(..take).collect();
        if let Some(mask) = frame.mask {
            apply_mask(&mut chunk, mask, frame.read);
        }
        frame.read += take;
        if frame.opcode > 7 {
            frame.data.extend_from_slice(&chunk);
        } else {
            let chunk = match (self.message_compressed, self.deflate.as_mut()) {
                (true, Some(deflate)) => match deflate.decompress(&chunk) {
                    Ok(plain) => plain,
                    Err(error) => {
                        self.fail(1007, &format!("permessage-deflate: {error}"));
                        Vec::new()
                    }
                },
                _ => chunk,
            };
            if self.utf8.as_mut().is_some_and(|utf8| !utf8.feed(&chunk)) {
                let at = self.message.len();
                self.fail(
                    1007,
                    &format!("encountered invalid UTF-8 while processing text message at payload octet index {at}"),
                );
                self.utf8 = None;
            }
            if self.create_wirelog {
                frame
                    .data
                    .extend_from_slice(&chunk[..chunk.len().min(64usize.saturating_sub(frame.data.len()))]);
            }
            self.message.extend_from_slice(&chunk);
        }
        if frame.read < frame.len {
            self.frame = Some(frame);
            return Some(None);
        }
        // The frame is whole.
        *self.rx_frames.entry(frame.opcode).or_default() += 1;
        let masked = frame.mask.is_some();
        let entry = json!([
            "RF",
            [frame.len, shown(&frame.data)],
            frame.opcode,
            frame.fin,
            frame.rsv,
            masked,
            frame.mask.map(|mask| hex(&mask))
        ]);
        self.log(entry);
        if frame.opcode > 7 {
            return Some(self.control_frame(frame.opcode, frame.data));
        }
        if !frame.fin {
            return Some(None);
        }
        let tail = match (self.message_compressed, self.deflate.as_mut()) {
            (true, Some(deflate)) => Some(deflate.end_decompress()),
            _ => None,
        };
        match tail {
            Some(Ok(tail)) => self.message.extend_from_slice(&tail),
            Some(Err(error)) => self.fail(1007, &format!("permessage-deflate: {error}")),
            None => {}
        }
        if self.utf8.as_ref().is_some_and(|utf8| !utf8.complete()) {
            let at = self.message.len();
            self.fail(
                1007,
                &format!("UTF-8 text message payload ended within Unicode code point at payload octet index {at}"),
            );
        }
        self.inside_message = false;
        self.utf8 = None;
        let message = std::mem::take(&mut self.message);
        if self.failed_by_me {
            return Some(None);
        }
        Some(Some(Got::Message(message, self.message_binary)))
    }

    pub(crate) fn control_frame(&mut self, opcode: u8, payload: Vec<u8>) -> Option<Got> {
        match opcode {
            8 => {
                let code = (payload.len() > 1).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                let reason = (payload.len() > 2).then(|| &payload[2..]);
                self.on_close_frame(code, reason);
                None
            }
            9 => {
                self.send_pong(payload);
                None
            }
            10 => Some(Got::Pong(payload)),
            _ => None,
        }
    }

    /// Bytes from the socket.
    pub(crate) fn received(&mut self, bytes: &[u8]) {
        *self.rx_octets.entry(bytes.len()).or_default() += 1;
        if self.create_wirelog {
            self.wirelog.push(json!(["RO", [bytes.len(), shown_hex(bytes)]]));
        }
        self.input.extend_from_slice(bytes);
    }
}

/// A byte string shown as Autobahn's octet log shows it: hex of the first 64 octets, then " ...".
fn shown_hex(bytes: &[u8]) -> String {
    if bytes.len() > 60 {
        format!("{} ...", hex(&bytes[..64.min(bytes.len())]))
    } else {
        hex(bytes)
    }
}

fn push_length(frame: &mut Vec<u8>, len: usize, masked: bool) {
    let mask_bit = if masked { 0x80 } else { 0 };
    if len <= 125 {
        frame.push(mask_bit | len as u8);
    } else if len <= 0xffff {
        frame.push(mask_bit | 126);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(mask_bit | 127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

/// The first `max` octets of `text`, cut on a code point.
fn truncate_utf8(text: &str, max: usize) -> Vec<u8> {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.as_bytes()[..end].to_vec()
}

/// Writes what the wire queues, in order; chops go out one write each, as Autobahn's do. Ends at the shutdown
/// (closing the sending side) or when a write fails; an abort skips what is still queued.
pub(crate) async fn write_out<W: AsyncWrite>(
    writer: W,
    mut outgoing: mpsc::UnboundedReceiver<Out>,
    abort: Arc<AtomicBool>,
) {
    tokio::pin!(writer);
    while let Some(out) = outgoing.recv().await {
        if abort.load(Ordering::Relaxed) {
            break;
        }
        match out {
            Out::Bytes {
                bytes,
                chop: Some(chop),
                ..
            } if chop > 0 => {
                for piece in bytes.chunks(chop) {
                    if writer.write_all(piece).await.is_err() || writer.flush().await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            }
            Out::Bytes { bytes, sync, .. } => {
                if writer.write_all(&bytes).await.is_err() {
                    return;
                }
                if sync {
                    if writer.flush().await.is_err() {
                        return;
                    }
                    tokio::task::yield_now().await;
                }
            }
            Out::Shutdown => break,
        }
    }
    let _ = writer.flush().await;
    let _ = writer.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_fails_on_the_first_byte_that_cannot_be_utf8_and_waits_for_split_code_points() {
        let mut utf8 = Utf8::default();
        assert!(utf8.feed(b"\xce"));
        assert!(!utf8.complete());
        assert!(utf8.feed(b"\xba"));
        assert!(utf8.complete());
        assert!(utf8.feed(b"\xf4"));
        assert!(!utf8.feed(b"\x90"), "U+110000 and above fail at their second byte");
        let mut surrogate = Utf8::default();
        assert!(surrogate.feed(b"edited\xed"));
        assert!(!surrogate.feed(b"\xa0\x80"));
    }

    #[test]
    fn masking_in_parts_equals_masking_at_once() {
        let mask = [1, 2, 3, 4];
        let data: Vec<u8> = (0..=255).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, mask, 0);
        let mut parts = data.clone();
        let (first, second) = parts.split_at_mut(13);
        apply_mask(first, mask, 0);
        apply_mask(second, mask, 13);
        assert_eq!(whole, parts);
        apply_mask(&mut whole, mask, 0);
        assert_eq!(whole, data);
    }

    #[test]
    fn dates_are_civil() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_789), (2026, 12, 2));
    }

    #[test]
    fn payloads_show_as_autobahn_shows_them() {
        assert_eq!(shown(b"Hello"), "Hello");
        assert_eq!(shown(b"\xfe\xff"), "0xfeff");
        assert_eq!(shown(&[b'*'; 100]).len(), 64 + 4);
    }
}
