//! The fuzzing server: grades WebSocket clients in Autobahn's URL protocol, unchanged — `/getCaseCount`,
//! `/getCaseInfo?case=N`, `/runCase?case=N&agent=A`, `/getCaseStatus?case=N&agent=A`, `/updateReports?agent=A`.
//! Case numbers are 1-based positions in the selected cases, as Autobahn's are.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use super::Error;
use super::cases::{CaseDef, Script};
use super::client::read_head;
use super::deflate::{self, Negotiated};
use super::peer::{self, Http};
use super::report::{CaseResult, Report};
use super::wire::Role;

/// How long a client may take to send its upgrade request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long `/getCaseStatus` waits for a case still being played.
const STATUS_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Default)]
struct Results {
    /// agent -> case id -> result, in the order played.
    by_agent: BTreeMap<String, BTreeMap<String, CaseResult>>,
    /// When each agent's first case began.
    started: BTreeMap<String, Instant>,
    /// Agents whose reports were asked for with `/updateReports`, in order.
    updated: Vec<String>,
    /// Cases being played, by agent: `/updateReports` waits for them.
    playing: BTreeMap<String, usize>,
}

struct Shared {
    cases: Vec<&'static CaseDef>,
    on_case: Option<super::OnCase>,
    report_dir: Mutex<Option<PathBuf>>,
    results: Mutex<Results>,
    changed: Notify,
}

/// A running fuzzing server; dropping it stops it.
#[derive(Debug)]
pub struct FuzzingServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared").field("cases", &self.cases.len()).finish()
    }
}

impl Drop for FuzzingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub(crate) async fn start(
    bind: &str,
    cases: Vec<&'static CaseDef>,
    on_case: Option<super::OnCase>,
) -> Result<FuzzingServer, Error> {
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|error| Error::Io(format!("the fuzzing server cannot listen on {bind}: {error}")))?;
    let addr = listener.local_addr().map_err(|error| Error::Io(error.to_string()))?;
    let shared = Arc::new(Shared {
        cases,
        on_case,
        report_dir: Mutex::new(None),
        results: Mutex::new(Results::default()),
        changed: Notify::new(),
    });
    let accepting = shared.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(serve_connection(stream, accepting.clone()));
        }
    });
    Ok(FuzzingServer { addr, shared, task })
}

impl FuzzingServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `ws://ADDR`, the base URL a client harness takes.
    pub fn url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    /// How many cases it serves (what `/getCaseCount` answers).
    pub fn case_count(&self) -> usize {
        self.shared.cases.len()
    }

    /// Where `/updateReports` writes the reports (Autobahn's `outdir`); without one it writes nothing.
    pub fn report_dir(&self, dir: impl Into<PathBuf>) -> &FuzzingServer {
        *lock(&self.shared.report_dir) = Some(dir.into());
        self
    }

    /// The agents graded so far.
    pub fn agents(&self) -> Vec<String> {
        lock(&self.shared.results).by_agent.keys().cloned().collect()
    }

    /// What `agent` got so far, in Autobahn's order; `None` when it played no case.
    pub fn report(&self, agent: &str) -> Option<Report> {
        report_of(&self.shared, agent)
    }

    /// Waits until a client asks for its reports (`/updateReports?agent=A`) and gives that agent's name.
    pub async fn reports_requested(&self) -> String {
        loop {
            let notified = self.shared.changed.notified();
            if let Some(agent) = lock(&self.shared.results).updated.first().cloned() {
                return agent;
            }
            notified.await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn report_of(shared: &Shared, agent: &str) -> Option<Report> {
    let results = lock(&shared.results);
    let played = results.by_agent.get(agent)?;
    let mut list: Vec<CaseResult> = played.values().cloned().collect();
    list.sort_by_key(|result| super::id_tuple(&result.id));
    let elapsed = results.started.get(agent).map_or(Duration::ZERO, Instant::elapsed);
    Some(Report::new(agent.to_owned(), list, elapsed))
}

/// Autobahn's `caseClassToPrettyDescription`: the description up to its first HTML tag, whitespace coalesced.
fn pretty_description(description: &str) -> String {
    description
        .split('<')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A plain HTTP answer to what is not a WebSocket upgrade.
async fn refuse(mut stream: TcpStream, status: &str, body: &str) {
    let answer = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

async fn serve_connection(mut stream: TcpStream, shared: Arc<Shared>) {
    let Ok(Ok((head, rest))) = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream)).await else {
        return;
    };
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if !matches!(request.parse(&head), Ok(httparse::Status::Complete(_))) {
        refuse(stream, "400 Bad Request", "not an HTTP request\n").await;
        return;
    }
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| String::from_utf8_lossy(header.value).trim().to_owned())
    };
    let target = request.path.unwrap_or("/").to_owned();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params: BTreeMap<String, String> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let upgrade = header("upgrade").is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    let Some(key) = header("sec-websocket-key").filter(|_| upgrade) else {
        let body = format!(
            "ws-test's fuzzing server grades WebSocket clients with the Autobahn Testsuite's {} cases.\n\
             Connect a WebSocket to /getCaseCount, /runCase?case=N&agent=A, /updateReports?agent=A.\n",
            shared.cases.len()
        );
        refuse(stream, "426 Upgrade Required", &body).await;
        return;
    };
    if header("sec-websocket-version").as_deref() != Some("13") {
        refuse(stream, "400 Bad Request", "only WebSocket version 13 is spoken here\n").await;
        return;
    }
    let case = match params.get("case").map(|number| number.parse::<usize>()) {
        None => None,
        Some(Ok(number)) if (1..=shared.cases.len()).contains(&number) => Some((number, shared.cases[number - 1])),
        Some(_) => {
            let body = format!("case must be a number from 1 to {}\n", shared.cases.len());
            refuse(stream, "400 Bad Request", &body).await;
            return;
        }
    };
    let agent = params.get("agent").cloned();
    let needs = |what: &str| format!("{path} needs {what}\n");
    match path {
        "/runCase" => {
            let (Some((number, def)), Some(agent)) = (case, agent) else {
                refuse(stream, "400 Bad Request", &needs("case=N and agent=A")).await;
                return;
            };
            let offers = header("sec-websocket-extensions");
            let (negotiated, extension) = match &def.script {
                Script::Compressed(compressed) => match deflate::accept(offers.as_deref(), compressed.accept) {
                    Some((params, answer)) => (Negotiated::On { params, server: true }, Some(answer)),
                    None => (Negotiated::Off, None),
                },
                _ => (Negotiated::Off, None),
            };
            let Some(response) = upgrade_response(&mut stream, &key, extension.as_deref()).await else {
                return;
            };
            let http = Http {
                request: String::from_utf8_lossy(&head).into_owned(),
                response,
            };
            lock(&shared.results)
                .started
                .entry(agent.clone())
                .or_insert_with(Instant::now);
            let played = peer::play(stream, rest, Role::Server, def, negotiated, http).await;
            let result = CaseResult::new(def, number, played);
            if let Some(report) = &shared.on_case {
                report(&result, number, shared.cases.len());
            }
            lock(&shared.results)
                .by_agent
                .entry(agent)
                .or_default()
                .insert(def.id.clone(), result);
            shared.changed.notify_waiters();
        }
        "/getCaseCount" => {
            if upgrade_response(&mut stream, &key, None).await.is_some() {
                peer::command(stream, rest, Some(shared.cases.len().to_string())).await;
            }
        }
        "/getCaseInfo" => {
            let Some((_, def)) = case else {
                refuse(stream, "400 Bad Request", &needs("case=N")).await;
                return;
            };
            let info = json!({ "id": def.id, "description": pretty_description(&def.description) });
            if upgrade_response(&mut stream, &key, None).await.is_some() {
                peer::command(stream, rest, Some(info.to_string())).await;
            }
        }
        "/getCaseStatus" => {
            let (Some((_, def)), Some(agent)) = (case, agent) else {
                refuse(stream, "400 Bad Request", &needs("case=N and agent=A")).await;
                return;
            };
            if upgrade_response(&mut stream, &key, None).await.is_none() {
                return;
            }
            let wait = async {
                loop {
                    let notified = shared.changed.notified();
                    let found = lock(&shared.results)
                        .by_agent
                        .get(&agent)
                        .and_then(|cases| cases.get(&def.id))
                        .map(|result| result.behavior.as_str());
                    if let Some(behavior) = found {
                        return behavior;
                    }
                    notified.await;
                }
            };
            let message = tokio::time::timeout(STATUS_TIMEOUT, wait)
                .await
                .ok()
                .map(|behavior| json!({ "behavior": behavior }).to_string());
            peer::command(stream, rest, message).await;
        }
        "/updateReports" => {
            let Some(agent) = agent else {
                refuse(stream, "400 Bad Request", &needs("agent=A")).await;
                return;
            };
            // A client asks as soon as its last case closed, which may be before that case's result is in.
            let settled = async {
                loop {
                    let notified = shared.changed.notified();
                    if lock(&shared.results)
                        .playing
                        .get(&agent)
                        .is_none_or(|playing| *playing == 0)
                    {
                        return;
                    }
                    notified.await;
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(30), settled).await;
            let dir = lock(&shared.report_dir).clone();
            if let (Some(dir), Some(report)) = (dir, report_of(&shared, &agent)) {
                if let Err(error) = report.write(&dir) {
                    eprintln!("ws-test conform: {error}");
                }
            }
            if upgrade_response(&mut stream, &key, None).await.is_some() {
                peer::command(stream, rest, None).await;
            }
            lock(&shared.results).updated.push(agent);
            shared.changed.notify_waiters();
        }
        _ => {
            // Autobahn's "direct command mode" has no use outside its own tools: open, then close.
            if upgrade_response(&mut stream, &key, None).await.is_some() {
                peer::command(stream, rest, None).await;
            }
        }
    }
}

/// Sends `101 Switching Protocols`; `None` when the client is gone.
async fn upgrade_response<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    key: &str,
    extension: Option<&str>,
) -> Option<String> {
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nServer: ws-test/{} (conform)\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(extension) = extension {
        response.push_str(&format!("Sec-WebSocket-Extensions: {extension}\r\n"));
    }
    response.push_str("\r\n");
    stream.write_all(response.as_bytes()).await.ok()?;
    Some(response)
}
