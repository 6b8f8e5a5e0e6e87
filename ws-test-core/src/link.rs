//! [`Link`]: a network between a test's clients and its server, ws-test's own, under every client's byte stream
//! (beneath TLS): latency, jitter, bandwidth and chunking, both ways or per direction, and at run time a stall, a
//! cut (every connection reset at once, as a deploy or a load balancer does) and a heal, with what it saw counted.
//! It needs no privileges and no port of its own, so it works on every platform, over TCP and the in-memory
//! transport, for every kind of server, and on tokio's paused clock.
//!
//! ```
//! use std::time::Duration;
//!
//! use ws_test_runtime::prelude::*;
//! use ws_test_runtime::Link;
//!
//! # async fn demo() -> Result<(), ws_test_runtime::Error> {
//! let link: Link = "latency=20ms, jitter=5ms, bandwidth=256KiB/s".parse()?;
//! let server = EmbeddedServer::builder().link(link).start().await?;
//! let mut client = server.connect().await?; // over the link, both ways
//! client.expect_type("connection_established").await?;
//! let round_trip = client.ping("over the link").await?;
//! assert!(round_trip >= Duration::from_millis(40), "{round_trip:?}");
//! server.link().cut(); // every connection reset at once
//! client.expect_closed(1006).await?;
//! assert_eq!(server.link().stats().reset, 1);
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
//! ```

use std::io;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::transport::Stream;

/// How many bytes the client's end of a link buffers before its writes wait (as a socket's buffer would).
const NEAR_CAPACITY: usize = 64 * 1024;
/// The most a link reads at once, and the most bytes in flight per direction (in reads of up to this size).
const READ_SIZE: usize = 16 * 1024;
const IN_FLIGHT: usize = 8;

/// One direction of a [`Link`]: how long its bytes take, how much that varies, how fast they go, and in what
/// pieces.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    latency: Duration,
    jitter: Duration,
    bandwidth: Option<u64>,
    chunk: Option<usize>,
}

impl Shape {
    /// An ideal direction: no delay, no limit, bytes as written.
    pub fn new() -> Shape {
        Shape::default()
    }

    /// Every byte arrives this much later than it was sent.
    pub fn latency(mut self, latency: Duration) -> Shape {
        self.latency = latency;
        self
    }

    /// Plus a delay from 0 to this much, drawn anew for every read (bytes never overtake each other).
    pub fn jitter(mut self, jitter: Duration) -> Shape {
        self.jitter = jitter;
        self
    }

    /// At most this many bytes per second.
    pub fn bandwidth(mut self, bytes_per_second: u64) -> Shape {
        self.bandwidth = Some(bytes_per_second.max(1));
        self
    }

    /// Delivered in pieces of at most this many bytes, each its own write (a proxy that splits frames).
    pub fn chunk(mut self, bytes: usize) -> Shape {
        self.chunk = Some(bytes.max(1));
        self
    }

    fn is_ideal(&self) -> bool {
        *self == Shape::default()
    }
}

/// A network between the clients and the server: one [`Shape`] per direction (`up`: client to server, `down`:
/// server to client). Written as `"latency=50ms, jitter=10ms, bandwidth=256KiB/s, chunk=7"` (both directions),
/// `"up.latency=80ms, down.bandwidth=1MiB/s"` (one), or built:
///
/// ```
/// use std::time::Duration;
/// use ws_test_runtime::{Link, Shape};
///
/// let slow_uplink = Link::new().latency(Duration::from_millis(50)).up(Shape::new().bandwidth(32 * 1024));
/// let written: Link = "latency=50ms, up.bandwidth=32KiB/s".parse().unwrap();
/// assert_eq!(slow_uplink, written);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Link {
    up: Shape,
    down: Shape,
    seed: u64,
}

impl Link {
    /// An ideal link: what every server has until told otherwise (its `stall`, `cut` and `heal` work all the
    /// same).
    pub fn new() -> Link {
        Link::default()
    }

    /// This latency both ways.
    pub fn latency(mut self, latency: Duration) -> Link {
        self.up = self.up.latency(latency);
        self.down = self.down.latency(latency);
        self
    }

    /// This jitter both ways.
    pub fn jitter(mut self, jitter: Duration) -> Link {
        self.up = self.up.jitter(jitter);
        self.down = self.down.jitter(jitter);
        self
    }

    /// This bandwidth (bytes per second) each way.
    pub fn bandwidth(mut self, bytes_per_second: u64) -> Link {
        self.up = self.up.bandwidth(bytes_per_second);
        self.down = self.down.bandwidth(bytes_per_second);
        self
    }

    /// Pieces of at most this many bytes both ways.
    pub fn chunk(mut self, bytes: usize) -> Link {
        self.up = self.up.chunk(bytes);
        self.down = self.down.chunk(bytes);
        self
    }

    /// The client-to-server direction, replaced by `shape`'s settings where it has them.
    pub fn up(mut self, shape: Shape) -> Link {
        self.up = merge(self.up, shape);
        self
    }

    /// The server-to-client direction, replaced by `shape`'s settings where it has them.
    pub fn down(mut self, shape: Shape) -> Link {
        self.down = merge(self.down, shape);
        self
    }

    /// The seed of the jitter's draws (default 0): the same seed, the same delays on every run.
    pub fn seed(mut self, seed: u64) -> Link {
        self.seed = seed;
        self
    }

    /// Whether the link adds nothing (no connection needs to go through it until a stall or a cut).
    pub fn is_ideal(&self) -> bool {
        self.up.is_ideal() && self.down.is_ideal()
    }
}

fn merge(mut base: Shape, over: Shape) -> Shape {
    if over.latency != Duration::ZERO {
        base.latency = over.latency;
    }
    if over.jitter != Duration::ZERO {
        base.jitter = over.jitter;
    }
    base.bandwidth = over.bandwidth.or(base.bandwidth);
    base.chunk = over.chunk.or(base.chunk);
    base
}

/// `256KiB/s`, `1MB/s`, `4096B/s`, `4096`: bytes per second.
fn bandwidth(text: &str) -> std::result::Result<u64, String> {
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a bandwidth (256KiB/s, 1MB/s, 4096B/s)"))?;
    let factor = match unit.trim().trim_end_matches("/s") {
        "" | "B" => 1.0,
        "KB" | "kB" => 1e3,
        "KiB" => 1024.0,
        "MB" => 1e6,
        "MiB" => 1024.0 * 1024.0,
        "GB" => 1e9,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "{other:?} is not a unit of bandwidth: B, KB, KiB, MB, MiB, GB, GiB (per second)"
            ));
        }
    };
    let bytes = number * factor;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("{text:?}: a bandwidth is at least 1 byte per second"));
    }
    Ok(bytes as u64)
}

impl FromStr for Link {
    type Err = Error;

    fn from_str(text: &str) -> Result<Link> {
        let problem = |reason: String| Error::Config(format!("`{text}` is not a link: {reason}"));
        let mut link = Link::new();
        for setting in text.split(',').map(str::trim).filter(|setting| !setting.is_empty()) {
            let (name, value) = setting
                .split_once('=')
                .ok_or_else(|| problem(format!("`{setting}` is not NAME=VALUE")))?;
            let (direction, name) = match name.trim().split_once('.') {
                Some((direction, name)) => (Some(direction), name),
                None => (None, name.trim()),
            };
            let value = value.trim();
            let duration = |value: &str| {
                humantime::parse_duration(value).map_err(|error| problem(format!("{name} = {value:?}: {error}")))
            };
            let shape = match name {
                "latency" => Shape::new().latency(duration(value)?),
                "jitter" => Shape::new().jitter(duration(value)?),
                "bandwidth" => Shape::new().bandwidth(bandwidth(value).map_err(problem)?),
                "chunk" => Shape::new().chunk(
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|bytes| *bytes > 0)
                        .ok_or_else(|| problem(format!("chunk = {value:?} is not a number of bytes above 0")))?,
                ),
                "seed" if direction.is_none() => {
                    link.seed = value
                        .parse()
                        .map_err(|_| problem(format!("seed = {value:?} is not a number")))?;
                    continue;
                }
                other => {
                    return Err(problem(format!(
                        "`{other}` is not a setting: latency, jitter, bandwidth, chunk (each as `up.NAME` or \
                         `down.NAME` for one direction), seed"
                    )));
                }
            };
            link = match direction {
                None => link.up(shape).down(shape),
                Some("up") => link.up(shape),
                Some("down") => link.down(shape),
                Some(other) => {
                    return Err(problem(format!(
                        "`{other}` is not a direction: up (client to server) or down"
                    )));
                }
            };
        }
        Ok(link)
    }
}

/// What a link saw of its connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Connections opened over the link.
    pub opened: u64,
    /// Open now.
    pub open: u64,
    /// Ended by the server first (its side of the stream ended).
    pub closed_by_server: u64,
    /// Ended by the client first.
    pub closed_by_client: u64,
    /// Reset: by [`LinkControl::cut`], or by a client that vanished.
    pub reset: u64,
}

/// The controls of a server's link: what `server.link()` returns. Plain methods, no `.await`: a stall, a cut,
/// a heal take effect at once on every connection over the link.
#[derive(Debug, Clone)]
pub struct LinkControl {
    state: Arc<State>,
}

#[derive(Debug)]
struct State {
    link: Mutex<Link>,
    /// Bumped by every stall, cut and heal: the pumps look again.
    changed: watch::Sender<u64>,
    stalled_until: Mutex<Option<Instant>>,
    /// Cut: every connection is reset, and new ones are refused until healed.
    down: AtomicBool,
    /// The controls of a server without a link: no connection goes through them.
    idle: bool,
    /// The jitter's generator.
    rng: Mutex<u64>,
    opened: AtomicU64,
    closed_by_server: AtomicU64,
    closed_by_client: AtomicU64,
    reset: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Default for LinkControl {
    /// The controls a server without a link answers with: no connection goes through them, so a stall, a cut
    /// or a heal says so on stderr and does nothing.
    fn default() -> Self {
        let mut control = LinkControl::new(Link::new());
        if let Some(state) = Arc::get_mut(&mut control.state) {
            state.idle = true;
        }
        control
    }
}

impl LinkControl {
    /// The controls of a link shaped as `link`.
    pub fn new(link: Link) -> LinkControl {
        let seed = link.seed;
        LinkControl {
            state: Arc::new(State {
                link: Mutex::new(link),
                changed: watch::Sender::new(0),
                stalled_until: Mutex::new(None),
                down: AtomicBool::new(false),
                idle: false,
                rng: Mutex::new(seed ^ 0x9e37_79b9_7f4a_7c15),
                opened: AtomicU64::new(0),
                closed_by_server: AtomicU64::new(0),
                closed_by_client: AtomicU64::new(0),
                reset: AtomicU64::new(0),
            }),
        }
    }

    /// The link's shape.
    pub fn shape(&self) -> Link {
        lock(&self.state.link).clone()
    }

    /// Delivers nothing, either way, for `duration` from now (bytes wait, in order; nothing is lost), as a
    /// congested or flapping network does. A later stall replaces it; [`heal`](Self::heal) ends it.
    pub fn stall(&self, duration: Duration) {
        self.warn_if_idle("stall");
        *lock(&self.state.stalled_until) = Some(Instant::now() + duration);
        self.state.changed.send_modify(|n| *n += 1);
    }

    /// Resets every connection over the link at once, as a deploy or a load balancer does (no close frame;
    /// over TCP an RST to the server), and refuses new connections until [`heal`](Self::heal).
    pub fn cut(&self) {
        self.warn_if_idle("cut");
        self.state.down.store(true, Ordering::SeqCst);
        self.state.changed.send_modify(|n| *n += 1);
    }

    /// Ends a stall or a cut: bytes flow again, new connections go through.
    pub fn heal(&self) {
        self.warn_if_idle("heal");
        self.state.down.store(false, Ordering::SeqCst);
        *lock(&self.state.stalled_until) = None;
        self.state.changed.send_modify(|n| *n += 1);
    }

    fn warn_if_idle(&self, what: &str) {
        if self.state.idle {
            eprintln!(
                "ws-test: server.link().{what}() on a server started without a link affects no connection: give \
                 it one (`link = \"latency=0ms\"`, ServerBuilder::link(Link::new()))"
            );
        }
    }

    /// Whether the link is cut.
    pub fn is_cut(&self) -> bool {
        self.state.down.load(Ordering::SeqCst)
    }

    /// What the link saw so far.
    pub fn stats(&self) -> LinkStats {
        let state = &self.state;
        let opened = state.opened.load(Ordering::SeqCst);
        let ended = state.closed_by_server.load(Ordering::SeqCst)
            + state.closed_by_client.load(Ordering::SeqCst)
            + state.reset.load(Ordering::SeqCst);
        LinkStats {
            opened,
            open: opened.saturating_sub(ended),
            closed_by_server: state.closed_by_server.load(Ordering::SeqCst),
            closed_by_client: state.closed_by_client.load(Ordering::SeqCst),
            reset: state.reset.load(Ordering::SeqCst),
        }
    }

    /// A connection over the link: `stream` (the network) is pumped by the link's tasks; the client gets the
    /// other end. Refused while the link is cut.
    #[doc(hidden)]
    pub fn connect_over(&self, stream: Stream) -> io::Result<Stream> {
        if self.is_cut() {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionRefused,
                "the link is cut (LinkControl::cut): connections are refused until heal()",
            ));
        }
        self.state.opened.fetch_add(1, Ordering::SeqCst);
        let (near, far) = tokio::io::duplex(NEAR_CAPACITY);
        let reset = Arc::new(AtomicBool::new(false));
        crate::task::spawn(pump(self.clone(), far, stream, Arc::clone(&reset)));
        Ok(Stream::Link(crate::transport::LinkEnd::new(near, reset)))
    }

    /// When bytes read now in direction `up` (or down) are due, after the last ones.
    fn due(&self, up: bool, bytes: usize, last: &mut Instant, free: &mut Instant) -> Instant {
        let shape = {
            let link = lock(&self.state.link);
            if up { link.up } else { link.down }
        };
        let jitter = if shape.jitter.is_zero() {
            Duration::ZERO
        } else {
            let mut rng = lock(&self.state.rng);
            // xorshift64*: deterministic for a seed, enough for delays.
            *rng ^= *rng >> 12;
            *rng ^= *rng << 25;
            *rng ^= *rng >> 27;
            let draw = rng.wrapping_mul(0x2545_f491_4f6c_dd1d);
            shape.jitter.mul_f64((draw >> 11) as f64 / (1u64 << 53) as f64)
        };
        let mut due = (Instant::now() + shape.latency + jitter).max(*last);
        if let Some(bandwidth) = shape.bandwidth {
            let start = due.max(*free);
            due = start + Duration::from_secs_f64(bytes as f64 / bandwidth as f64);
            *free = due;
        }
        *last = due;
        due
    }

    fn chunk(&self, up: bool) -> Option<usize> {
        let link = lock(&self.state.link);
        if up { link.up.chunk } else { link.down.chunk }
    }

    /// Waits until `due` and while the link is stalled; `Err` when the link is cut.
    async fn wait_deliverable(&self, due: Instant, changes: &mut watch::Receiver<u64>) -> std::result::Result<(), ()> {
        loop {
            if self.is_cut() {
                return Err(());
            }
            let stalled = *lock(&self.state.stalled_until);
            let until = match stalled {
                Some(until) if until > due => until,
                _ => due,
            };
            if Instant::now() >= until {
                return Ok(());
            }
            tokio::select! {
                () = tokio::time::sleep_until(until) => {}
                changed = changes.changed() => if changed.is_err() { return Err(()) },
            }
        }
    }
}

/// One connection over the link: whether it is to stop (cut, or its client vanished), and which side ended first.
struct Connection {
    control: LinkControl,
    stop: watch::Sender<bool>,
    /// `Some(true)` when the client's side ended first, `Some(false)` the server's.
    first_end: Mutex<Option<bool>>,
    vanished: Arc<AtomicBool>,
}

impl Connection {
    /// Resolves when the link is cut or the connection is to stop.
    async fn stopped(&self) {
        let mut link = self.control.state.changed.subscribe();
        let mut stop = self.stop.subscribe();
        loop {
            if self.control.is_cut() || *stop.borrow() {
                return;
            }
            tokio::select! {
                changed = link.changed() => if changed.is_err() { std::future::pending::<()>().await },
                changed = stop.changed() => if changed.is_err() { std::future::pending::<()>().await },
            }
        }
    }

    fn ended(&self, up: bool) {
        lock(&self.first_end).get_or_insert(up);
        // A client that vanished takes the connection down at once: a reset, no FIN first.
        if up && self.vanished.load(Ordering::SeqCst) {
            self.stop.send_replace(true);
        }
    }

    fn is_stopped(&self) -> bool {
        self.control.is_cut() || *self.stop.borrow()
    }
}

/// Reads one side and queues what it read with the time it is due.
async fn read_side(
    connection: &Connection,
    from: &mut (dyn tokio::io::AsyncRead + Unpin + Send),
    up: bool,
    queue: mpsc::Sender<(Instant, Vec<u8>)>,
) {
    let control = &connection.control;
    let (mut last, mut free) = (Instant::now(), Instant::now());
    loop {
        let mut buffer = vec![0; READ_SIZE];
        let read = tokio::select! {
            read = from.read(&mut buffer) => read,
            () = connection.stopped() => return,
        };
        match read {
            Ok(n) if n > 0 => {
                buffer.truncate(n);
                let due = control.due(up, n, &mut last, &mut free);
                tokio::select! {
                    sent = queue.send((due, buffer)) => if sent.is_err() { return },
                    () = connection.stopped() => return,
                }
            }
            // The end of this side's stream (or its failure): the other side gets the end once what is queued
            // is delivered.
            _ => {
                connection.ended(up);
                return;
            }
        }
    }
}

/// Writes what is queued to the other side when it is due, in the link's pieces; ends that side's writing when
/// the queue ends.
async fn write_side(
    connection: &Connection,
    to: &mut (dyn tokio::io::AsyncWrite + Unpin + Send),
    up: bool,
    mut queue: mpsc::Receiver<(Instant, Vec<u8>)>,
) {
    let control = &connection.control;
    let mut changes = control.state.changed.subscribe();
    loop {
        let next = tokio::select! {
            next = queue.recv() => next,
            () = connection.stopped() => return,
        };
        let Some((due, bytes)) = next else { break };
        let deliverable = tokio::select! {
            deliverable = control.wait_deliverable(due, &mut changes) => deliverable,
            () = connection.stopped() => return,
        };
        if deliverable.is_err() {
            return;
        }
        let pieces = control.chunk(up).unwrap_or(bytes.len()).max(1);
        for piece in bytes.chunks(pieces) {
            let written = tokio::select! {
                written = async { to.write_all(piece).await?; to.flush().await } => written,
                () = connection.stopped() => return,
            };
            if written.is_err() {
                return;
            }
            if pieces < bytes.len() {
                tokio::task::yield_now().await;
            }
        }
    }
    if !connection.is_stopped() {
        let _ = to.shutdown().await;
    }
}

/// One connection over the link: two directions, each a reader and a writer; the network side reset when the
/// link is cut or the client vanished.
async fn pump(control: LinkControl, near: DuplexStream, network: Stream, vanished: Arc<AtomicBool>) {
    let connection = Connection {
        control,
        stop: watch::Sender::new(false),
        first_end: Mutex::new(None),
        vanished,
    };
    let (mut near_read, mut near_write) = tokio::io::split(near);
    let (mut network_read, mut network_write): (ReadHalf<Stream>, WriteHalf<Stream>) = tokio::io::split(network);
    let (up_sender, up_queue) = mpsc::channel(IN_FLIGHT);
    let (down_sender, down_queue) = mpsc::channel(IN_FLIGHT);
    // The client's halves are dropped last: once it sees the end, the counters already hold it.
    // Each side is read and written through `dyn`, so the two directions share one compiled reader and writer.
    tokio::join!(
        read_side(&connection, &mut near_read, true, up_sender),
        write_side(&connection, &mut network_write, true, up_queue),
        read_side(&connection, &mut network_read, false, down_sender),
        write_side(&connection, &mut near_write, false, down_queue),
    );
    let reset = connection.is_stopped();
    let state = &connection.control.state;
    let counter = match *lock(&connection.first_end) {
        _ if reset => &state.reset,
        Some(true) => &state.closed_by_client,
        Some(false) => &state.closed_by_server,
        None => &state.reset,
    };
    counter.fetch_add(1, Ordering::SeqCst);
    let network = network_read.unsplit(network_write);
    if reset {
        network.mark_reset();
    }
    drop(network);
    drop((near_read, near_write));
}

/// What names a link where one is given: a typed [`Link`] (by value or by reference) or its written form
/// (`"latency=50ms, chunk=7"`, as `#[ws_test(link = ...)]` takes it), which may not read.
pub trait IntoLink {
    /// The link, or why the text is not one.
    fn into_link(self) -> Result<Link>;
}

impl IntoLink for Link {
    fn into_link(self) -> Result<Link> {
        Ok(self)
    }
}

impl IntoLink for &Link {
    fn into_link(self) -> Result<Link> {
        Ok(self.clone())
    }
}

impl IntoLink for &str {
    fn into_link(self) -> Result<Link> {
        self.parse()
    }
}

impl IntoLink for String {
    fn into_link(self) -> Result<Link> {
        self.parse()
    }
}

impl IntoLink for &String {
    fn into_link(self) -> Result<Link> {
        self.parse()
    }
}
