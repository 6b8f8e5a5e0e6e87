//! WebSocket conformance without Docker: the Autobahn Testsuite's 517 cases (categories 1 to 13, its numbering,
//! order and verdicts), played against any server or served to any client, with Autobahn's reports.
//!
//! Grade a server that echoes what it receives (as it does for Autobahn's fuzzing client):
//!
//! ```no_run
//! # async fn run() -> Result<(), ws_test_runtime::conform::Error> {
//! use ws_test_runtime::conform::Suite;
//!
//! let report = Suite::new()
//!     .agent("my-server")
//!     .cases(["1.*", "2.*", "7.*"])
//!     .exclude_cases(["7.13.*"])
//!     .grade_server("ws://127.0.0.1:9002")
//!     .await?;
//! report.write("target/autobahn")?; // index.json, one JSON per case, index.html
//! assert!(report.passed(), "{}", report.summary());
//! report.assert_matches("tests/autobahn/expected.json"); // an Autobahn index.json, durations ignored
//! # Ok(()) }
//! ```
//!
//! Grade a client: [`Suite::serve`] starts a fuzzing server that speaks Autobahn's URL protocol unchanged
//! (`/getCaseCount`, `/getCaseInfo`, `/runCase`, `/getCaseStatus`, `/updateReports`), so an existing Autobahn
//! client harness runs against it with no change but the port; the test drives its client, then reads
//! [`FuzzingServer::report`].
//!
//! The cases are implemented from the testsuite's published case descriptions (crossbario/autobahn-testsuite,
//! Apache-2.0): what each sends, what it expects, its timers (the 6.4 fail-fast cases, 7.1.6, the 9.x
//! durations) and Autobahn's grading rules (who closed, whether cleanly, the close code, who dropped the TCP
//! connection). The payloads of categories 12 and 13 are made here of the same kinds as Autobahn's test files.
//!
//! A complete example for a tokio-tungstenite server, in a library's own `cargo test`:
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use tokio::net::TcpListener;
//! use ws_test_runtime::conform::Suite;
//!
//! #[tokio::test]
//! async fn my_server_conforms() {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let url = format!("ws://{}", listener.local_addr().unwrap());
//!     tokio::spawn(async move {
//!         while let Ok((stream, _)) = listener.accept().await {
//!             tokio::spawn(async move {
//!                 let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else { return };
//!                 while let Some(Ok(message)) = socket.next().await {
//!                     if message.is_text() || message.is_binary() {
//!                         if socket.send(message).await.is_err() {
//!                             break;
//!                         }
//!                     }
//!                 }
//!             });
//!         }
//!     });
//!     let report = Suite::new().exclude_cases(["9.*", "12.*", "13.*"]).grade_server(&url).await.unwrap();
//!     report.assert_matches("tests/autobahn/expected-results.json");
//! }
//! ```

mod cases;
mod client;
mod deflate;
mod peer;
mod report;
mod server;
mod testdata;
mod wire;

use std::fmt;

pub use cases::{CloseVerdict, Verdict};
pub use report::{CaseResult, Difference, Expected, Report};
pub use server::FuzzingServer;

use cases::CaseDef;

/// Why a conformance run could not be made (as opposed to cases that failed, which a [`Report`] holds).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A case pattern, a URL or an expected file that cannot be used.
    Usage(String),
    /// The peer under test could not be reached at all.
    Unreachable(String),
    /// Reading or writing a file, or binding the fuzzing server.
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(why) | Error::Unreachable(why) | Error::Io(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for Error {}

/// Called after each case: the case's result, its position (from 1) and how many cases the run plays.
pub type OnCase = std::sync::Arc<dyn Fn(&CaseResult, usize, usize) + Send + Sync>;

/// Which cases to play, and for whom: the equivalent of Autobahn's `fuzzingclient.json` / `fuzzingserver.json`.
#[derive(Clone)]
pub struct Suite {
    cases: Vec<String>,
    exclude: Vec<String>,
    agent: Option<String>,
    on_case: Option<OnCase>,
    #[cfg(feature = "tls")]
    trust: crate::tls::Trust,
}

impl fmt::Debug for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Suite")
            .field("cases", &self.cases)
            .field("exclude", &self.exclude)
            .field("agent", &self.agent)
            .field("on_case", &self.on_case.is_some())
            .finish()
    }
}

impl Default for Suite {
    fn default() -> Self {
        Suite::new()
    }
}

/// The id's numbers, for Autobahn's sort order.
fn id_tuple(id: &str) -> Vec<u32> {
    id.split('.').map(|part| part.parse().unwrap_or(u32::MAX)).collect()
}

/// Autobahn's case patterns: with a `*`, a regular expression (`.` literal, `*` any text) matched at the start
/// of the id; without one, the id itself.
fn resolve(patterns: &[String]) -> Result<Vec<&'static CaseDef>, Error> {
    let all = cases::all();
    let mut found = Vec::new();
    for pattern in patterns {
        let pattern = pattern.trim();
        if pattern.contains('*') {
            found.extend(all.iter().filter(|case| wildcard_prefix(pattern, &case.id)));
        } else {
            match all.iter().find(|case| case.id == pattern) {
                Some(case) => found.push(case),
                None => {
                    return Err(Error::Usage(format!(
                        "no case {pattern:?}: Autobahn's cases run from 1.1.1 to 13.7.18 (use * for many, as in 7.9.*)"
                    )));
                }
            }
        }
    }
    Ok(found)
}

/// Whether `pattern` (`*` matching any text) matches a prefix of `id`, as Python's `re.match` does.
fn wildcard_prefix(pattern: &str, id: &str) -> bool {
    fn matches(pattern: &[u8], text: &[u8]) -> bool {
        match pattern.split_first() {
            None => true,
            Some((b'*', rest)) => (0..=text.len()).any(|skip| matches(rest, &text[skip..])),
            Some((byte, rest)) => text.first() == Some(byte) && matches(rest, &text[1..]),
        }
    }
    matches(pattern.as_bytes(), id.as_bytes())
}

impl Suite {
    /// Every case, no agent name (a graded server's is its `Server` header; a graded client names itself).
    pub fn new() -> Suite {
        Suite {
            cases: vec!["*".to_owned()],
            exclude: Vec::new(),
            agent: None,
            on_case: None,
            #[cfg(feature = "tls")]
            trust: crate::tls::Trust::default(),
        }
    }

    /// Only these cases: Autobahn's patterns (`"1.*"`, `"7.9.*"`, `"6.4.1"`).
    pub fn cases<I, S>(mut self, patterns: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.cases = patterns
            .into_iter()
            .map(|pattern| pattern.as_ref().to_owned())
            .collect();
        self
    }

    /// Leaves these cases out (Autobahn's `exclude-cases`).
    pub fn exclude_cases<I, S>(mut self, patterns: I) -> Suite
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.exclude = patterns
            .into_iter()
            .map(|pattern| pattern.as_ref().to_owned())
            .collect();
        self
    }

    /// The name the graded server goes by in reports (Autobahn's `agent`); default: its `Server` header, else
    /// `UnknownServer`.
    pub fn agent(mut self, name: impl Into<String>) -> Suite {
        self.agent = Some(name.into());
        self
    }

    /// Trusts the certificates of this PEM text as roots for `wss://`, besides the platform's roots and
    /// `SSL_CERT_FILE` (a self-signed server's certificate, a private CA).
    #[cfg(feature = "tls")]
    pub fn root_certificate(mut self, pem: impl AsRef<[u8]>) -> Suite {
        self.trust.add(pem.as_ref());
        self
    }

    /// Calls `report` after each case (for a progress display).
    pub fn on_case(mut self, report: impl Fn(&CaseResult, usize, usize) + Send + Sync + 'static) -> Suite {
        self.on_case = Some(std::sync::Arc::new(report));
        self
    }

    /// Prints a line per case to stderr: `[12/517] case 2.1 OK OK 3 ms`.
    pub fn progress(self) -> Suite {
        self.on_case(|result, index, count| {
            eprintln!(
                "[{index}/{count}] case {:<8} {:<13} {:<16} {:>6} ms",
                result.id,
                result.behavior.as_str(),
                result.behavior_close.as_str(),
                result.duration_ms
            );
        })
    }

    /// The ids of the cases this suite plays, in Autobahn's order.
    pub fn case_ids(&self) -> Result<Vec<&'static str>, Error> {
        Ok(self.selected()?.into_iter().map(|case| case.id.as_str()).collect())
    }

    fn selected(&self) -> Result<Vec<&'static CaseDef>, Error> {
        let wanted = resolve(&self.cases)?;
        let excluded = resolve(&self.exclude)?;
        let mut selected: Vec<&'static CaseDef> = Vec::new();
        for case in wanted {
            if !excluded.iter().any(|other| other.id == case.id) && !selected.iter().any(|other| other.id == case.id) {
                selected.push(case);
            }
        }
        selected.sort_by_key(|case| id_tuple(&case.id));
        if selected.is_empty() {
            return Err(Error::Usage(format!(
                "the case patterns {:?} minus {:?} select no case",
                self.cases, self.exclude
            )));
        }
        Ok(selected)
    }

    /// Grades the server at `url` (`ws://`, or `wss://` with the `tls` feature), which echoes every text and
    /// binary message: one connection per case, in order. `Err` only when the run cannot be made (a bad
    /// pattern or URL, a server that refuses the first connection); failed cases are in the report.
    pub async fn grade_server(&self, url: &str) -> Result<Report, Error> {
        let selected = self.selected()?;
        let target = client::Target {
            url: url.to_owned(),
            #[cfg(feature = "tls")]
            trust: self.trust.clone(),
        };
        client::grade(target, &selected, self.agent.clone(), self.on_case.clone()).await
    }

    /// Starts a fuzzing server on `bind` (`"127.0.0.1:9001"`, port 0 for any) that grades the clients
    /// connecting to it, in Autobahn's URL protocol.
    pub async fn serve(&self, bind: &str) -> Result<FuzzingServer, Error> {
        let selected = self.selected()?;
        server::start(bind, selected, self.on_case.clone()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_autobahns_517_cases_in_its_order() {
        let all = cases::all();
        assert_eq!(all.len(), 517);
        assert_eq!(all[0].id, "1.1.1");
        assert_eq!(all[516].id, "13.7.18");
        let mut sorted: Vec<&CaseDef> = all.iter().collect();
        sorted.sort_by_key(|case| id_tuple(&case.id));
        assert!(
            sorted.iter().zip(all).all(|(a, b)| a.id == b.id),
            "the table is in Autobahn's order"
        );
        let count = |prefix: &str| {
            all.iter()
                .filter(|case| case.id.split('.').next() == Some(prefix))
                .count()
        };
        let by_category: Vec<usize> = ["1", "2", "3", "4", "5", "6", "7", "9", "10", "12", "13"]
            .map(count)
            .to_vec();
        assert_eq!(by_category, [16, 11, 7, 10, 20, 145, 37, 54, 1, 90, 126]);
    }

    #[test]
    fn patterns_select_as_autobahns_do() {
        let ids = Suite::new().cases(["1.*"]).case_ids().unwrap_or_default();
        assert_eq!(ids.len(), 16, "1.* is not 10.*, 12.* or 13.*");
        let ids = Suite::new()
            .cases(["7.9.*", "2.1"])
            .exclude_cases(["7.9.9"])
            .case_ids()
            .unwrap_or_default();
        assert_eq!(
            ids,
            [
                "2.1", "7.9.1", "7.9.2", "7.9.3", "7.9.4", "7.9.5", "7.9.6", "7.9.7", "7.9.8"
            ]
        );
        assert!(matches!(Suite::new().cases(["14.1"]).case_ids(), Err(Error::Usage(_))));
        assert!(matches!(
            Suite::new().exclude_cases(["*"]).case_ids(),
            Err(Error::Usage(_))
        ));
    }

    #[test]
    fn descriptions_carry_their_payloads() {
        let all = cases::all();
        let case = |id: &str| all.iter().find(|case| case.id == id).unwrap_or_else(|| panic!("{id}"));
        assert!(
            case("6.4.1").description.contains("PART2 = f4908080"),
            "{}",
            case("6.4.1").description
        );
        assert!(
            case("6.3.1")
                .description
                .ends_with("cebae1bdb9cf83cebcceb5eda080656469746564")
        );
        assert_eq!(
            case("6.5.1").description,
            "Send a text message with payload which is valid UTF-8 in one fragment.<br><br>Payload: 0x68656c6c6f24776f726c64"
        );
        assert_eq!(case("7.9.6").description, "Send close with invalid close code 1016");
        assert!(
            case("9.7.6")
                .description
                .starts_with("Send 1000 text messages of payload size 4096")
        );
    }
}
