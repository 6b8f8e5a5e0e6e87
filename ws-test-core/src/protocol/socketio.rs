//! Socket.IO 5 over Engine.IO 4, on the WebSocket transport, as socketioxide and the JavaScript server speak it.
//!
//! The wire, from the two specifications: each WebSocket text frame is one Engine.IO packet, its type a digit
//! (`0` open with a JSON body, `1` close, `2` ping, `3` pong, `4` message, `6` noop); each binary frame is a
//! binary message. A message (`4`) carries a Socket.IO packet: a type digit (`0` connect, `1` disconnect,
//! `2` event, `3` ack, `4` connect error, `5` binary event, `6` binary ack), for the binary ones the number of
//! attachments and `-`, the namespace and `,` when it is not `/`, an acknowledgement id, then JSON. A binary
//! packet's attachments follow as binary frames, each standing in the JSON where `{"_placeholder":true,"num":N}`
//! is.

use serde_json::{Map, Value, json};

use super::{Handshake, Message, Protocol, ProtocolSession, Step};
use crate::Field;

/// What marks bytes in an event the test sends: `{"_ws_test_bytes": [1, 2, 3]}` (see [`SocketIo::bytes`]).
const BYTES_MARKER: &str = "_ws_test_bytes";

/// The Socket.IO kit: `protocol = "socket.io"`, or with options
/// `protocol = ws_test_runtime::protocol::SocketIo::new().namespace("/chat").auth(json!({"token": "t"}))`.
///
/// The client connects to `/socket.io/?EIO=4&transport=websocket` on the server's host (or [`path`](Self::path)),
/// performs the open and the namespace connect (a refusal fails the connect with the server's message), answers
/// the server's pings, and presents each event packet as
/// `{"event": NAME, "data": FIRST_ARGUMENT, "args": [ALL_ARGUMENTS], "nsp": "/chat"}` (with `"ack": ID` when
/// the server asks for an acknowledgement), `"event"` being the event key. Binary attachments arrive in `args`
/// as arrays of bytes (what `Vec<u8>` deserialises from). An acknowledgement the server sends is
/// `{"ack": ID, "args": [...], "nsp": ...}`: not an event, `WsClient::emit_with_ack`
/// returns its arguments. A disconnect from the server is the event `disconnect`.
///
/// Sending: `WsClient::emit``("add user", json!("alice"))` sends one argument;
/// `WsClient::send_event``(json!({"event": "x", "args": [1, 2]}))` several (and
/// `"nsp"` another namespace); [`SocketIo::bytes`] puts binary attachments in either.
#[derive(Debug, Clone)]
pub struct SocketIo {
    path: String,
    namespace: String,
    auth: Option<Value>,
}

impl Default for SocketIo {
    fn default() -> Self {
        SocketIo::new()
    }
}

impl SocketIo {
    /// The default namespace `/`, the path `/socket.io/`, no auth.
    pub fn new() -> SocketIo {
        SocketIo {
            path: "/socket.io/".to_owned(),
            namespace: "/".to_owned(),
            auth: None,
        }
    }

    /// The namespace the client connects to (default `/`); events sent name it unless they say otherwise.
    pub fn namespace(mut self, namespace: impl Into<String>) -> SocketIo {
        let namespace = namespace.into();
        self.namespace = if namespace.starts_with('/') {
            namespace
        } else {
            format!("/{namespace}")
        };
        self
    }

    /// The auth payload of the namespace connect (`socket.handshake.auth` on a JavaScript server, the connect
    /// handler's `Data` in socketioxide).
    pub fn auth(mut self, auth: Value) -> SocketIo {
        self.auth = Some(auth);
        self
    }

    /// The server's Socket.IO path (default `/socket.io/`, as the servers' own default).
    pub fn path(mut self, path: impl Into<String>) -> SocketIo {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        self.path = path;
        self
    }

    /// Bytes to send as a binary attachment, in an event's data or arguments:
    /// `client.emit("upload", SocketIo::bytes(b"\x01\x02")).await?`.
    pub fn bytes(bytes: impl AsRef<[u8]>) -> Value {
        json!({ BYTES_MARKER: bytes.as_ref() })
    }
}

impl Protocol for SocketIo {
    fn name(&self) -> &str {
        "socket.io"
    }

    fn url(&self, url: &str) -> Result<String, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?} is not a ws:// or wss:// URL"))?;
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        // Query parameters the test gave (a token, say) stay; the transport's are the kit's.
        let kept: Vec<&str> = rest
            .split_once('?')
            .map(|(_, query)| query.split('#').next().unwrap_or_default())
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("EIO=") && !pair.starts_with("transport="))
            .collect();
        let mut query = String::from("EIO=4&transport=websocket");
        for pair in kept {
            query.push('&');
            query.push_str(pair);
        }
        Ok(format!("{scheme}://{authority}{}?{query}", self.path))
    }

    fn event_key(&self) -> Field {
        Field::new("event")
    }

    fn session(&self) -> Box<dyn ProtocolSession> {
        Box::new(self.client_session())
    }

    /// The server's side, as a mock speaks it: the Engine.IO open packet (a fresh `sid`, `pingInterval` 25 s,
    /// `pingTimeout` 20 s), a ping (`2`) every interval, every namespace connect accepted (`40/chat,{"sid":..}`;
    /// events the handler sent before it wait for it), each event packet to the handler as
    /// `{"event", "data", "args", "nsp"}` (with `"ack": ID` when the client waits for one: answer with
    /// `{"ack": ID, "args": [...]}`), and each event the handler sends encoded as the client encodes it.
    fn server_session(&self) -> Option<Box<dyn ProtocolSession>> {
        Some(Box::new(ServerSession {
            codec: self.client_session(),
            sid: format!(
                "ws-test-{}",
                NEXT_SID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            ),
            connected: false,
            waiting: Vec::new(),
        }))
    }
}

impl SocketIo {
    fn client_session(&self) -> Session {
        Session {
            namespace: self.namespace.clone(),
            auth: self.auth.clone(),
            state: Handshake::Pending("the Engine.IO open packet (`0{...}`)".to_owned()),
            partial: None,
            next_ack: 0,
        }
    }
}

static NEXT_SID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// How often a mock server pings, and how long it says a client may take to answer (Socket.IO's defaults).
const PING_INTERVAL_MS: u64 = 25_000;
const PING_TIMEOUT_MS: u64 = 20_000;

/// The server's side of a Socket.IO connection: the client's codec, plus the open packet, the namespace
/// connects and the pings.
struct ServerSession {
    codec: Session,
    sid: String,
    /// Whether a namespace connect came: events wait for it.
    connected: bool,
    waiting: Vec<Message>,
}

impl ProtocolSession for ServerSession {
    fn start(&mut self) -> Vec<Message> {
        let open = json!({
            "sid": self.sid,
            "upgrades": [],
            "pingInterval": PING_INTERVAL_MS,
            "pingTimeout": PING_TIMEOUT_MS,
            "maxPayload": 1_000_000,
        });
        vec![Message::Text(format!("0{open}"))]
    }

    fn receive(&mut self, frame: &Message) -> Step {
        let Message::Text(text) = frame else {
            return self.codec.receive(frame);
        };
        let (kind, body) = text.split_at(text.len().min(1));
        match kind {
            "2" => return Step::control("Engine.IO ping").reply(Message::Text(format!("3{body}"))),
            "3" => return Step::control("Engine.IO pong"),
            "1" => return Step::control("Engine.IO close"),
            "4" => {}
            _ => return self.codec.receive(frame),
        }
        let Ok((packet, 0)) = parse_packet(body) else {
            return self.codec.receive(frame);
        };
        match packet.kind {
            0 => {
                let namespace = packet.namespace;
                let mut step = Step::control(format!(
                    "Socket.IO connect to {namespace}{}",
                    packet.data.map(|auth| format!(" with auth {auth}")).unwrap_or_default()
                ))
                .reply(Message::Text(format!(
                    "40{}{}",
                    namespace_prefix(&namespace),
                    json!({"sid": format!("{}{namespace}", self.sid)})
                )));
                self.connected = true;
                step.replies.append(&mut self.waiting);
                step
            }
            1 => Step::control(format!("Socket.IO disconnect from {}", packet.namespace)),
            _ => self.codec.packet(packet),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        let frames = self.codec.encode(event)?;
        if self.connected {
            Ok(frames)
        } else {
            self.waiting.extend(frames);
            Ok(Vec::new())
        }
    }

    fn heartbeat(&self) -> Option<(std::time::Duration, Message)> {
        Some((
            std::time::Duration::from_millis(PING_INTERVAL_MS),
            Message::Text("2".to_owned()),
        ))
    }
}

/// A binary packet waiting for its attachments.
struct Partial {
    packet: Packet,
    wanted: usize,
    attachments: Vec<Vec<u8>>,
}

/// A Socket.IO packet, parsed.
struct Packet {
    kind: u8,
    namespace: String,
    ack: Option<u64>,
    data: Option<Value>,
}

struct Session {
    namespace: String,
    auth: Option<Value>,
    state: Handshake,
    partial: Option<Partial>,
    next_ack: u64,
}

/// `nsp,` for a namespace other than `/`.
fn namespace_prefix(namespace: &str) -> String {
    if namespace == "/" {
        String::new()
    } else {
        format!("{namespace},")
    }
}

/// Parses the Socket.IO packet of an Engine.IO message (`2["x",1]`, `51-/chat,12[...]`): the packet and how many
/// attachments follow.
fn parse_packet(text: &str) -> Result<(Packet, usize), String> {
    let bytes = text.as_bytes();
    let kind = match bytes.first() {
        Some(digit @ b'0'..=b'6') => digit - b'0',
        _ => return Err(format!("{text:?} does not start with a Socket.IO packet type (0 to 6)")),
    };
    let mut at = 1;
    let mut attachments = 0;
    if kind == 5 || kind == 6 {
        let digits = bytes[at..].iter().take_while(|byte| byte.is_ascii_digit()).count();
        if digits == 0 || bytes.get(at + digits) != Some(&b'-') {
            return Err(format!("{text:?}: a binary packet needs its attachment count and `-`"));
        }
        attachments = text[at..at + digits]
            .parse()
            .map_err(|_| format!("{text:?}: the attachment count is too large"))?;
        at += digits + 1;
    }
    let mut namespace = "/".to_owned();
    if bytes.get(at) == Some(&b'/') {
        let end = text[at..].find(',').map_or(text.len(), |comma| at + comma);
        namespace = text[at..end].to_owned();
        at = (end + 1).min(text.len());
    }
    let digits = bytes[at..].iter().take_while(|byte| byte.is_ascii_digit()).count();
    let ack = if digits > 0 {
        let id = text[at..at + digits]
            .parse()
            .map_err(|_| format!("{text:?}: the acknowledgement id is too large"))?;
        at += digits;
        Some(id)
    } else {
        None
    };
    let rest = &text[at..];
    let data = if rest.is_empty() {
        None
    } else {
        Some(serde_json::from_str(rest).map_err(|error| format!("{text:?}: its payload is not JSON ({error})"))?)
    };
    Ok((
        Packet {
            kind,
            namespace,
            ack,
            data,
        },
        attachments,
    ))
}

/// Replaces every `{"_placeholder": true, "num": N}` with attachment N as an array of bytes.
fn fill_placeholders(value: &mut Value, attachments: &[Vec<u8>]) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true)) {
                let num = map
                    .get("num")
                    .and_then(Value::as_u64)
                    .ok_or("a placeholder without `num`")?;
                let bytes = attachments
                    .get(num as usize)
                    .ok_or_else(|| format!("placeholder {num}, but {} attachment(s) came", attachments.len()))?;
                *value = Value::from(bytes.clone());
                return Ok(());
            }
            map.values_mut()
                .try_for_each(|value| fill_placeholders(value, attachments))
        }
        Value::Array(items) => items
            .iter_mut()
            .try_for_each(|value| fill_placeholders(value, attachments)),
        _ => Ok(()),
    }
}

/// Takes every [`SocketIo::bytes`] marker out of `value` into `attachments`, leaving a placeholder.
fn take_bytes(value: &mut Value, attachments: &mut Vec<Vec<u8>>) -> Result<(), String> {
    match value {
        Value::Object(map) => {
            if let Some(bytes) = map.get(BYTES_MARKER) {
                let bytes: Vec<u8> = serde_json::from_value(bytes.clone())
                    .map_err(|_| format!("`{BYTES_MARKER}` must hold an array of bytes (SocketIo::bytes)"))?;
                *value = json!({"_placeholder": true, "num": attachments.len()});
                attachments.push(bytes);
                return Ok(());
            }
            map.values_mut().try_for_each(|value| take_bytes(value, attachments))
        }
        Value::Array(items) => items.iter_mut().try_for_each(|value| take_bytes(value, attachments)),
        _ => Ok(()),
    }
}

impl Session {
    /// What a complete packet means.
    fn packet(&mut self, packet: Packet) -> Step {
        let Packet {
            kind,
            namespace,
            ack,
            data,
        } = packet;
        match kind {
            0 => {
                if namespace == self.namespace {
                    self.state = Handshake::Done;
                }
                let sid = data.as_ref().and_then(|data| data.get("sid")).and_then(Value::as_str);
                Step::control(format!(
                    "Socket.IO connected to {namespace}{}",
                    sid.map(|sid| format!(" as {sid}")).unwrap_or_default()
                ))
            }
            1 => Step::event(json!({
                "event": "disconnect",
                "data": "io server disconnect",
                "args": ["io server disconnect"],
                "nsp": namespace,
            })),
            2 | 5 => {
                let mut args = match data {
                    Some(Value::Array(args)) => args,
                    other => return Step::invalid(format!("an event's payload must be an array, not {other:?}")),
                };
                if args.is_empty() || !args[0].is_string() {
                    return Step::invalid("an event's payload must start with its name");
                }
                let name = args.remove(0);
                let mut event = Map::new();
                event.insert("event".into(), name);
                event.insert("data".into(), args.first().cloned().unwrap_or(Value::Null));
                event.insert("args".into(), Value::Array(args));
                event.insert("nsp".into(), Value::String(namespace));
                if let Some(ack) = ack {
                    event.insert("ack".into(), ack.into());
                }
                Step::event(Value::Object(event))
            }
            3 | 6 => Step::event(json!({
                "ack": ack,
                "args": match data {
                    Some(Value::Array(args)) => Value::Array(args),
                    Some(other) => Value::Array(vec![other]),
                    None => Value::Array(Vec::new()),
                },
                "nsp": namespace,
            })),
            _ => {
                let message = data
                    .as_ref()
                    .and_then(|data| data.get("message").and_then(Value::as_str).map(str::to_owned))
                    .or_else(|| data.as_ref().map(Value::to_string))
                    .unwrap_or_else(|| "no reason given".to_owned());
                if namespace == self.namespace && matches!(self.state, Handshake::Pending(_)) {
                    self.state = Handshake::Refused(format!(
                        "the server refused the connect to namespace {namespace}: {message}"
                    ));
                }
                Step::event(json!({
                    "event": "connect_error",
                    "data": data.clone().unwrap_or(Value::Null),
                    "args": [data.unwrap_or(Value::Null)],
                    "nsp": namespace,
                }))
            }
        }
    }

    /// The frames of a packet of type `kind` (2 event, 3 ack) for `args`.
    fn frames(&mut self, kind: u8, namespace: &str, ack: Option<u64>, mut args: Value) -> Result<Vec<Message>, String> {
        let mut attachments = Vec::new();
        take_bytes(&mut args, &mut attachments)?;
        let mut header = String::from("4");
        if attachments.is_empty() {
            header.push(char::from(b'0' + kind));
        } else {
            header.push(char::from(b'0' + kind + 3));
            header.push_str(&format!("{}-", attachments.len()));
        }
        header.push_str(&namespace_prefix(namespace));
        if let Some(ack) = ack {
            header.push_str(&ack.to_string());
        }
        header.push_str(&args.to_string());
        let mut frames = vec![Message::Text(header)];
        frames.extend(attachments.into_iter().map(Message::Binary));
        Ok(frames)
    }

    /// The namespace and the arguments of an event the test sends (`name` in front for an event).
    fn event_args(&self, event: &Value) -> Result<(String, Value), String> {
        let name = event
            .get("event")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("a Socket.IO event needs a string \"event\": {event}"))?;
        let mut args = vec![Value::String(name.to_owned())];
        match (event.get("args"), event.get("data")) {
            (Some(Value::Array(more)), _) => args.extend(more.iter().cloned()),
            (Some(other), _) => return Err(format!("\"args\" must be an array, not {other}")),
            (None, Some(data)) => args.push(data.clone()),
            (None, None) => {}
        }
        let namespace = event
            .get("nsp")
            .and_then(Value::as_str)
            .unwrap_or(&self.namespace)
            .to_owned();
        Ok((namespace, Value::Array(args)))
    }
}

impl ProtocolSession for Session {
    fn receive(&mut self, frame: &Message) -> Step {
        let text = match frame {
            Message::Text(text) => text,
            Message::Binary(bytes) => {
                let Some(partial) = self.partial.as_mut() else {
                    return Step::invalid("a binary frame that no binary packet announced");
                };
                partial.attachments.push(bytes.clone());
                if partial.attachments.len() < partial.wanted {
                    return Step::control(format!(
                        "attachment {} of {}",
                        partial.attachments.len(),
                        partial.wanted
                    ));
                }
                let Some(Partial {
                    mut packet,
                    attachments,
                    ..
                }) = self.partial.take()
                else {
                    return Step::invalid("a binary frame that no binary packet announced");
                };
                if let Some(data) = packet.data.as_mut() {
                    if let Err(why) = fill_placeholders(data, &attachments) {
                        return Step::invalid(why);
                    }
                }
                return self.packet(packet);
            }
        };
        let (kind, body) = text.split_at(text.len().min(1));
        match kind {
            "0" => {
                let open: Value = match serde_json::from_str(body) {
                    Ok(open) => open,
                    Err(error) => {
                        return Step::invalid(format!("an Engine.IO open packet whose body is not JSON: {error}"));
                    }
                };
                self.state = Handshake::Pending(format!(
                    "the server's answer to the connect to namespace {} (`40`)",
                    self.namespace
                ));
                let mut connect = format!("40{}", namespace_prefix(&self.namespace));
                if let Some(auth) = &self.auth {
                    connect.push_str(&auth.to_string());
                }
                Step::control(format!(
                    "Engine.IO open, sid {}",
                    open.get("sid").and_then(Value::as_str).unwrap_or("?")
                ))
                .reply(Message::Text(connect))
            }
            "1" => Step::control("Engine.IO close"),
            "2" => Step::control("Engine.IO ping").reply(Message::Text(format!("3{body}"))),
            "3" => Step::control("Engine.IO pong"),
            "6" => Step::control("Engine.IO noop"),
            "4" => match parse_packet(body) {
                Ok((packet, 0)) => self.packet(packet),
                Ok((packet, wanted)) => {
                    self.partial = Some(Partial {
                        packet,
                        wanted,
                        attachments: Vec::new(),
                    });
                    Step::control(format!("a binary packet, {wanted} attachment(s) to follow"))
                }
                Err(why) => Step::invalid(why),
            },
            _ => Step::invalid(format!("{text:?} is not an Engine.IO packet")),
        }
    }

    fn encode(&mut self, event: &Value) -> Result<Vec<Message>, String> {
        if let Some(ack) = event
            .get("ack")
            .and_then(Value::as_u64)
            .filter(|_| event.get("event").is_none())
        {
            // An acknowledgement the test sends back: {"ack": ID, "args": [...]}.
            let namespace = event
                .get("nsp")
                .and_then(Value::as_str)
                .unwrap_or(&self.namespace)
                .to_owned();
            let args = event.get("args").cloned().unwrap_or_else(|| Value::Array(Vec::new()));
            return self.frames(3, &namespace, Some(ack), args);
        }
        let (namespace, args) = self.event_args(event)?;
        self.frames(2, &namespace, None, args)
    }

    fn request(&mut self, event: &Value) -> Result<(Vec<Message>, Value), String> {
        let (namespace, args) = self.event_args(event)?;
        let id = self.next_ack;
        self.next_ack += 1;
        let frames = self.frames(2, &namespace, Some(id), args)?;
        Ok((frames, json!({"ack": id, "nsp": namespace})))
    }

    fn reply(&self, id: &Value, decoded: &Value) -> Option<Result<Value, String>> {
        let is_ack = decoded.get("event").is_none()
            && decoded.get("ack") == id.get("ack")
            && decoded.get("nsp") == id.get("nsp");
        is_ack.then(|| Ok(decoded.get("args").cloned().unwrap_or(Value::Array(Vec::new()))))
    }

    fn handshake(&self) -> Handshake {
        self.state.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(kit: SocketIo) -> Box<dyn ProtocolSession> {
        kit.session()
    }

    fn text(text: &str) -> Message {
        Message::Text(text.to_owned())
    }

    #[test]
    fn the_url_takes_the_kits_path_and_query_and_keeps_the_tests_own_parameters() {
        let kit = SocketIo::new();
        assert_eq!(
            kit.url("ws://127.0.0.1:80/ws").unwrap(),
            "ws://127.0.0.1:80/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(
            kit.clone().path("realtime").url("wss://h/x?token=t&EIO=3").unwrap(),
            "wss://h/realtime/?EIO=4&transport=websocket&token=t"
        );
        assert!(kit.url("nonsense").is_err());
    }

    #[test]
    fn the_handshake_opens_connects_to_the_namespace_with_auth_and_answers_pings() {
        let mut session = session(SocketIo::new().namespace("chat").auth(json!({"token": "t"})));
        assert!(matches!(session.handshake(), Handshake::Pending(_)));
        let open = session.receive(&text(r#"0{"sid":"s1","pingInterval":25000,"pingTimeout":20000}"#));
        assert_eq!(open.replies, vec![text(r#"40/chat,{"token":"t"}"#)]);
        let ping = session.receive(&text("2"));
        assert_eq!(ping.replies, vec![text("3")]);
        assert!(matches!(session.handshake(), Handshake::Pending(_)));
        session.receive(&text(r#"40/chat,{"sid":"x"}"#));
        assert_eq!(session.handshake(), Handshake::Done);
    }

    #[test]
    fn a_refused_connect_names_the_servers_message() {
        let mut session = session(SocketIo::new());
        session.receive(&text(r#"0{"sid":"s"}"#));
        session.receive(&text(r#"44{"message":"invalid token"}"#));
        assert_eq!(
            session.handshake(),
            Handshake::Refused("the server refused the connect to namespace /: invalid token".into())
        );
    }

    #[test]
    fn events_acks_and_binary_attachments_decode() {
        let mut session = session(SocketIo::new());
        assert_eq!(
            session
                .receive(&text(r#"42["new message",{"username":"a","message":"hi"}]"#))
                .meaning,
            super::super::Meaning::Event(json!({
                "event": "new message", "data": {"username": "a", "message": "hi"},
                "args": [{"username": "a", "message": "hi"}], "nsp": "/"
            }))
        );
        assert_eq!(
            session.receive(&text(r#"43/chat,7["ok",2]"#)).meaning,
            super::super::Meaning::Event(json!({"ack": 7, "args": ["ok", 2], "nsp": "/chat"}))
        );
        let header = session.receive(&text(
            r#"452-["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
        ));
        assert!(matches!(header.meaning, super::super::Meaning::Control(_)));
        assert!(matches!(
            session.receive(&Message::Binary(vec![1])).meaning,
            super::super::Meaning::Control(_)
        ));
        assert_eq!(
            session.receive(&Message::Binary(vec![2, 3])).meaning,
            super::super::Meaning::Event(json!({"event": "file", "data": [1], "args": [[1], [2, 3]], "nsp": "/"}))
        );
        assert!(matches!(
            session.receive(&Message::Binary(vec![9])).meaning,
            super::super::Meaning::Invalid(_)
        ));
        assert!(matches!(
            session.receive(&text("42{")).meaning,
            super::super::Meaning::Invalid(_)
        ));
        assert!(matches!(
            session.receive(&text("x")).meaning,
            super::super::Meaning::Invalid(_)
        ));
    }

    #[test]
    fn events_encode_with_namespace_acks_and_attachments() {
        let mut session = session(SocketIo::new().namespace("/chat"));
        assert_eq!(
            session.encode(&json!({"event": "add user", "data": "alice"})).unwrap(),
            vec![text(r#"42/chat,["add user","alice"]"#)]
        );
        assert_eq!(
            session
                .encode(&json!({"event": "x", "args": [1, 2], "nsp": "/"}))
                .unwrap(),
            vec![text(r#"42["x",1,2]"#)]
        );
        assert_eq!(
            session
                .encode(&json!({"event": "up", "data": SocketIo::bytes([7, 8])}))
                .unwrap(),
            vec![
                text(r#"451-/chat,["up",{"_placeholder":true,"num":0}]"#),
                Message::Binary(vec![7, 8])
            ]
        );
        let (frames, id) = session.request(&json!({"event": "ping", "data": {}})).unwrap();
        assert_eq!(frames, vec![text(r#"42/chat,0["ping",{}]"#)]);
        assert_eq!(
            session.reply(&id, &json!({"ack": 0, "args": ["pong"], "nsp": "/chat"})),
            Some(Ok(json!(["pong"])))
        );
        assert_eq!(session.reply(&id, &json!({"ack": 1, "args": [], "nsp": "/chat"})), None);
        assert!(session.encode(&json!({"data": 1})).is_err());
    }
}
