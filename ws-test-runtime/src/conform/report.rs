//! Reports as Autobahn writes them (`index.json`, one JSON per case, `index.html`), a summary by category, and
//! the comparison with an expected `index.json` (tungstenite's `autobahn/expected-results.json`, say).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::Error;
use super::cases::{self, CaseDef, CloseVerdict, Verdict};
use super::peer::Played;

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Autobahn's id: `"6.4.1"`.
    pub id: String,
    /// The case's verdict (`behavior`).
    pub behavior: Verdict,
    /// The close's verdict (`behaviorClose`).
    pub behavior_close: CloseVerdict,
    /// How long the case ran, from the open connection to its end, in milliseconds (`duration`).
    pub duration_ms: u64,
    /// The close code the peer sent, if it sent one (`remoteCloseCode`).
    pub remote_close_code: Option<u16>,
    /// Why, in Autobahn's words (`result`, then `resultClose`).
    pub result: String,
    detail: Value,
}

impl CaseResult {
    pub(crate) fn new(def: &CaseDef, number: usize, played: Played) -> CaseResult {
        let mut detail = played.detail;
        detail["case"] = json!(number);
        let result = format!(
            "{} {}",
            detail["result"].as_str().unwrap_or_default(),
            detail["resultClose"].as_str().unwrap_or_default()
        );
        CaseResult {
            id: def.id.clone(),
            behavior: played.behavior,
            behavior_close: played.behavior_close,
            duration_ms: played.duration_ms,
            remote_close_code: played.remote_close_code,
            result,
            detail,
        }
    }

    /// Whether the case failed: `behavior` FAILED, or `behaviorClose` FAILED, WRONG CODE or UNCLEAN (a server
    /// that leaves the TCP close to the client, FAILED BY CLIENT, is not a failure).
    pub fn failed(&self) -> bool {
        self.behavior == Verdict::Failed
            || matches!(
                self.behavior_close,
                CloseVerdict::Failed | CloseVerdict::WrongCode | CloseVerdict::Unclean
            )
    }

    /// The case's whole report, as Autobahn's per-case JSON: description, expectation, expected and received
    /// events, the wire log, who closed and how.
    pub fn detail(&self) -> &Value {
        &self.detail
    }
}

/// What a run of the suite gave one agent.
#[derive(Debug, Clone)]
pub struct Report {
    agent: String,
    results: Vec<CaseResult>,
    elapsed: Duration,
}

/// Autobahn's `cleanForFilename`.
fn clean_for_filename(text: &str) -> String {
    let kept: String = text
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                ' '
            }
        })
        .collect();
    kept.trim().replace(' ', "_")
}

fn pretty(value: &Value) -> String {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    let _ = serde_core::Serialize::serialize(value, &mut serializer);
    String::from_utf8(out).unwrap_or_default()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Report {
    pub(crate) fn new(agent: String, results: Vec<CaseResult>, elapsed: Duration) -> Report {
        Report {
            agent,
            results,
            elapsed,
        }
    }

    /// The agent's name.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// Every case played, in Autobahn's order.
    pub fn results(&self) -> &[CaseResult] {
        &self.results
    }

    /// How long the whole run took.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }

    /// The failed cases (see [`CaseResult::failed`]).
    pub fn failures(&self) -> impl Iterator<Item = &CaseResult> {
        self.results.iter().filter(|result| result.failed())
    }

    /// Whether no case failed.
    pub fn passed(&self) -> bool {
        self.failures().next().is_none()
    }

    /// The name of a case's report file: `tungstenite_case_1_1_1.json`, as Autobahn names it.
    pub fn report_file(&self, id: &str) -> String {
        format!("{}_case_{}.json", clean_for_filename(&self.agent), id.replace('.', "_"))
    }

    /// Autobahn's `index.json`: `{"AGENT": {"1.1.1": {"behavior", "behaviorClose", "duration",
    /// "remoteCloseCode", "reportfile"}}}`.
    pub fn index_json(&self) -> Value {
        let cases: serde_json::Map<String, Value> = self
            .results
            .iter()
            .map(|result| {
                (
                    result.id.clone(),
                    json!({
                        "behavior": result.behavior.as_str(),
                        "behaviorClose": result.behavior_close.as_str(),
                        "duration": result.duration_ms,
                        "remoteCloseCode": result.remote_close_code,
                        "reportfile": self.report_file(&result.id),
                    }),
                )
            })
            .collect();
        json!({ self.agent.clone(): cases })
    }

    /// Writes `DIR/index.json`, one `DIR/AGENT_case_X_Y_Z.json` per case and `DIR/index.html`.
    pub fn write(&self, dir: impl AsRef<Path>) -> Result<(), Error> {
        let dir = dir.as_ref();
        let io = |what: &Path, error: std::io::Error| Error::Io(format!("cannot write {}: {error}", what.display()));
        std::fs::create_dir_all(dir).map_err(|error| io(dir, error))?;
        let index = dir.join("index.json");
        std::fs::write(&index, pretty(&self.index_json())).map_err(|error| io(&index, error))?;
        for result in &self.results {
            let mut detail = result.detail.clone();
            detail["agent"] = json!(self.agent);
            let path = dir.join(self.report_file(&result.id));
            std::fs::write(&path, pretty(&detail)).map_err(|error| io(&path, error))?;
        }
        let html = dir.join("index.html");
        std::fs::write(&html, self.html()).map_err(|error| io(&html, error))?;
        Ok(())
    }

    /// The static page a person reads: per category and subcategory, each case's verdicts coloured, each
    /// linked to its JSON report.
    pub fn html(&self) -> String {
        let mut page = String::new();
        let _ = write!(
            page,
            "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\"/>\n<title>WebSocket conformance: {agent}</title>\n<style>\n\
             body {{ font-family: sans-serif; margin: 2em; }}\n\
             table {{ border-collapse: collapse; }}\n\
             td, th {{ padding: 2px 10px; border: 1px solid #ddd; text-align: left; }}\n\
             tr.category td {{ background: #333; color: #fff; font-weight: bold; }}\n\
             tr.subcategory td {{ background: #eee; font-style: italic; }}\n\
             .ok {{ background: #0a0; color: #fff; }}\n\
             .non_strict {{ background: #9c0; }}\n\
             .info {{ background: #4af; color: #fff; }}\n\
             .unimplemented {{ background: #bbb; }}\n\
             .failed {{ background: #d00; color: #fff; }}\n\
             .almost {{ background: #fc0; }}\n\
             </style>\n</head>\n<body>\n<h1>WebSocket conformance: {agent}</h1>\n\
             <p>{count} cases of the Autobahn Testsuite, played by ws-test {version} in {elapsed:.1} s.</p>\n",
            agent = escape(&self.agent),
            count = self.results.len(),
            version = env!("CARGO_PKG_VERSION"),
            elapsed = self.elapsed.as_secs_f64(),
        );
        page.push_str("<pre>");
        page.push_str(&escape(&self.summary()));
        page.push_str("</pre>\n<table>\n");
        let mut last_category = String::new();
        let mut last_subcategory = String::new();
        for result in &self.results {
            let mut parts = result.id.split('.');
            let category = parts.next().unwrap_or_default().to_owned();
            let subcategory = format!("{category}.{}", parts.next().unwrap_or_default());
            if category != last_category {
                let _ = writeln!(
                    page,
                    "<tr class=\"category\"><td>{category} {}</td><td>Case</td><td>Close</td><td>ms</td><td>Result</td></tr>",
                    escape(cases::category_title(&category))
                );
                last_category = category;
            }
            if subcategory != last_subcategory {
                if let Some(title) = cases::subcategory_title(&subcategory) {
                    let _ = writeln!(
                        page,
                        "<tr class=\"subcategory\"><td colspan=\"5\">{subcategory} {}</td></tr>",
                        escape(&title)
                    );
                }
                last_subcategory = subcategory;
            }
            let class = match result.behavior {
                Verdict::Ok => "ok",
                Verdict::NonStrict => "non_strict",
                Verdict::Informational => "info",
                Verdict::Unimplemented => "unimplemented",
                Verdict::Failed => "failed",
            };
            let close_class = match result.behavior_close {
                CloseVerdict::Ok => "ok",
                CloseVerdict::Informational => "info",
                CloseVerdict::FailedByClient => "almost",
                CloseVerdict::WrongCode => "non_strict",
                CloseVerdict::Failed | CloseVerdict::Unclean => "failed",
            };
            let code = result.remote_close_code.map_or("-".to_owned(), |code| code.to_string());
            let _ = writeln!(
                page,
                "<tr><td><a href=\"{file}\">Case {id}</a></td><td class=\"{class}\">{behavior}</td><td class=\"{close_class}\">{close} ({code})</td><td>{ms}</td><td>{why}</td></tr>",
                file = escape(&self.report_file(&result.id)),
                id = result.id,
                behavior = result.behavior.as_str(),
                close = result.behavior_close.as_str(),
                ms = result.duration_ms,
                why = escape(&result.result),
            );
        }
        page.push_str("</table>\n</body>\n</html>\n");
        page
    }

    /// A table by category: how many cases got each verdict, and the failed ones.
    pub fn summary(&self) -> String {
        let mut by_category: BTreeMap<u32, [usize; 6]> = BTreeMap::new();
        for result in &self.results {
            let category = result
                .id
                .split('.')
                .next()
                .and_then(|part| part.parse().ok())
                .unwrap_or(0);
            let row = by_category.entry(category).or_default();
            let column = match result.behavior {
                Verdict::Ok => 0,
                Verdict::NonStrict => 1,
                Verdict::Informational => 2,
                Verdict::Unimplemented => 3,
                Verdict::Failed => 4,
            };
            row[column] += 1;
            if result.failed() {
                row[5] += 1;
            }
        }
        let mut out = format!(
            "{:<48} {:>5} {:>10} {:>13} {:>13} {:>6} {:>7}\n",
            format!(
                "{} ({} cases, {:.1} s)",
                self.agent,
                self.results.len(),
                self.elapsed.as_secs_f64()
            ),
            "OK",
            "NON-STRICT",
            "INFORMATIONAL",
            "UNIMPLEMENTED",
            "FAILED",
            "failing"
        );
        for (category, row) in &by_category {
            let title = format!("{category} {}", cases::category_title(&category.to_string()));
            let _ = writeln!(
                out,
                "{title:<48} {:>5} {:>10} {:>13} {:>13} {:>6} {:>7}",
                row[0], row[1], row[2], row[3], row[4], row[5]
            );
        }
        let failures: Vec<&CaseResult> = self.failures().collect();
        if failures.is_empty() {
            out.push_str("no case failed\n");
        } else {
            let _ = writeln!(out, "{} failing cases:", failures.len());
            for result in failures {
                let _ = writeln!(
                    out,
                    "  {:<8} {} / {}: {}",
                    result.id,
                    result.behavior.as_str(),
                    result.behavior_close.as_str(),
                    result.result
                );
            }
        }
        out
    }

    /// The differences from an expected index (`behavior`, `behaviorClose`, `remoteCloseCode`; durations and
    /// file names aside), case by case; empty when every verdict is the expected one. Of a case both sides grade
    /// INFORMATIONAL (7.1.6, 7.13.x) only the verdict is compared: how its close ends depends on timing (7.1.6
    /// closes right behind a 256 KiB message), which is why Autobahn grades it informational at all.
    pub fn compare(&self, expected: &Expected) -> Vec<Difference> {
        let mut differences = Vec::new();
        for result in &self.results {
            let Some(want) = expected.cases.get(&result.id) else {
                differences.push(Difference {
                    case: result.id.clone(),
                    field: "case",
                    expected: "absent".into(),
                    got: "played".into(),
                });
                continue;
            };
            let got_code = result
                .remote_close_code
                .map_or("null".to_owned(), |code| code.to_string());
            let want_code = want
                .remote_close_code
                .map_or("null".to_owned(), |code| code.to_string());
            let informational = want.behavior == "INFORMATIONAL" && result.behavior.as_str() == "INFORMATIONAL";
            for (field, want, got) in [
                ("behavior", want.behavior.clone(), result.behavior.as_str().to_owned()),
                (
                    "behaviorClose",
                    want.behavior_close.clone(),
                    result.behavior_close.as_str().to_owned(),
                ),
                ("remoteCloseCode", want_code, got_code),
            ] {
                if want != got && !(informational && field != "behavior") {
                    differences.push(Difference {
                        case: result.id.clone(),
                        field,
                        expected: want,
                        got,
                    });
                }
            }
        }
        for id in expected.cases.keys() {
            if !self.results.iter().any(|result| &result.id == id) {
                differences.push(Difference {
                    case: id.clone(),
                    field: "case",
                    expected: "played".into(),
                    got: "not played".into(),
                });
            }
        }
        differences.sort_by_key(|difference| super::id_tuple(&difference.case));
        differences
    }

    /// Panics, listing the differences, unless every verdict equals the expected file's (an Autobahn
    /// `index.json`; its only agent, or the one named as this report's).
    #[track_caller]
    pub fn assert_matches(&self, expected: impl AsRef<Path>) {
        let path = expected.as_ref();
        let expected = match Expected::from_file(path, Some(&self.agent)) {
            Ok(expected) => expected,
            Err(error) => panic!("{error}"),
        };
        let differences = self.compare(&expected);
        if !differences.is_empty() {
            let listed: Vec<String> = differences.iter().map(ToString::to_string).collect();
            panic!(
                "{} verdicts differ from {}:\n{}\n\n{}",
                differences.len(),
                path.display(),
                listed.join("\n"),
                self.summary()
            );
        }
    }
}

/// A verdict that is not the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The case's id.
    pub case: String,
    /// `behavior`, `behaviorClose`, `remoteCloseCode`, or `case` when one side lacks the case.
    pub field: &'static str,
    /// What the expected file says.
    pub expected: String,
    /// What the run gave.
    pub got: String,
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<8} {}: expected {}, got {}",
            self.case, self.field, self.expected, self.got
        )
    }
}

/// One case of an expected index.
#[derive(Debug, Clone)]
struct ExpectedCase {
    behavior: String,
    behavior_close: String,
    remote_close_code: Option<u16>,
}

/// An expected `index.json` (Autobahn's format), read for [`Report::compare`].
#[derive(Debug, Clone)]
pub struct Expected {
    agent: String,
    cases: BTreeMap<String, ExpectedCase>,
}

impl Expected {
    /// Reads an Autobahn `index.json`. With several agents in it, `agent` picks one.
    pub fn from_file(path: impl AsRef<Path>, agent: Option<&str>) -> Result<Expected, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|error| Error::Usage(format!("cannot read the expected results {}: {error}", path.display())))?;
        Expected::from_json(&text, agent).map_err(|why| Error::Usage(format!("{}: {why}", path.display())))
    }

    /// Reads the text of an Autobahn `index.json`.
    pub fn from_json(text: &str, agent: Option<&str>) -> Result<Expected, String> {
        let value: Value = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
        let Value::Object(agents) = value else {
            return Err("an Autobahn index.json is an object of agents".into());
        };
        let (name, cases) = match agents.len() {
            0 => return Err("it names no agent".into()),
            1 => agents.into_iter().next().unwrap_or_else(|| unreachable!("one agent")),
            _ => {
                let names: Vec<String> = agents.keys().cloned().collect();
                let wanted =
                    agent.ok_or_else(|| format!("it names several agents ({}); say which", names.join(", ")))?;
                let cases = agents
                    .get(wanted)
                    .cloned()
                    .ok_or_else(|| format!("it names {} but not {wanted}", names.join(", ")))?;
                (wanted.to_owned(), cases)
            }
        };
        let Value::Object(cases) = cases else {
            return Err(format!("the agent {name} holds no cases"));
        };
        let mut parsed = BTreeMap::new();
        for (id, case) in cases {
            let field = |key: &str| case.get(key).and_then(Value::as_str).map(str::to_owned);
            let behavior = field("behavior").ok_or_else(|| format!("case {id} has no behavior"))?;
            let behavior_close = field("behaviorClose").ok_or_else(|| format!("case {id} has no behaviorClose"))?;
            if Verdict::parse(&behavior).is_none() {
                return Err(format!("case {id}: {behavior:?} is not one of Autobahn's verdicts"));
            }
            if CloseVerdict::parse(&behavior_close).is_none() {
                return Err(format!(
                    "case {id}: {behavior_close:?} is not one of Autobahn's close verdicts"
                ));
            }
            let remote_close_code = match case.get("remoteCloseCode") {
                None | Some(Value::Null) => None,
                Some(code) => Some(
                    code.as_u64()
                        .and_then(|code| u16::try_from(code).ok())
                        .ok_or_else(|| format!("case {id}: remoteCloseCode {code} is not a close code"))?,
                ),
            };
            parsed.insert(
                id,
                ExpectedCase {
                    behavior,
                    behavior_close,
                    remote_close_code,
                },
            );
        }
        Ok(Expected {
            agent: name,
            cases: parsed,
        })
    }

    /// The agent the expectations are for.
    pub fn agent(&self) -> &str {
        &self.agent
    }

    /// How many cases it holds.
    pub fn len(&self) -> usize {
        self.cases.len()
    }

    /// Whether it holds no case.
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// The case ids it holds, for a run of exactly those.
    pub fn case_ids(&self) -> Vec<String> {
        self.cases.keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_autobahns() {
        assert_eq!(clean_for_filename("Tungstenite"), "tungstenite");
        assert_eq!(clean_for_filename(" ws-test 0.1 "), "ws_test_0_1");
    }

    #[test]
    fn an_expected_index_reads_and_rejects_what_is_not_one() {
        let text = r#"{"A": {"1.1.1": {"behavior": "OK", "behaviorClose": "OK", "duration": 2, "remoteCloseCode": 1000, "reportfile": "a_case_1_1_1.json"}}}"#;
        let expected = Expected::from_json(text, None).unwrap_or_else(|why| panic!("{why}"));
        assert_eq!(expected.agent(), "A");
        assert_eq!(expected.len(), 1);
        assert!(Expected::from_json("[]", None).is_err());
        assert!(Expected::from_json(r#"{"A": {"1.1.1": {"behavior": "FINE", "behaviorClose": "OK"}}}"#, None).is_err());
        assert!(Expected::from_json(r#"{"A": {}, "B": {}}"#, None).is_err());
        assert!(Expected::from_json(r#"{"A": {}, "B": {}}"#, Some("B")).is_ok());
    }

    fn result(id: &str, behavior: Verdict, remote_close_code: Option<u16>) -> CaseResult {
        CaseResult {
            id: id.to_owned(),
            behavior,
            behavior_close: CloseVerdict::Ok,
            duration_ms: 1,
            remote_close_code,
            result: String::new(),
            detail: Value::Null,
        }
    }

    #[test]
    fn an_informational_case_is_compared_by_its_verdict_only() {
        let expected = Expected::from_json(
            r#"{"A": {"7.1.6": {"behavior": "INFORMATIONAL", "behaviorClose": "INFORMATIONAL", "remoteCloseCode": 1000},
                      "1.1.1": {"behavior": "OK", "behaviorClose": "OK", "remoteCloseCode": 1000}}}"#,
            None,
        )
        .unwrap_or_else(|why| panic!("{why}"));
        let report = |informational: Verdict, code: Option<u16>| Report {
            agent: "A".into(),
            results: vec![result("7.1.6", informational, None), result("1.1.1", Verdict::Ok, code)],
            elapsed: Duration::ZERO,
        };
        // A close that timing ended otherwise is no difference for an informational case...
        assert!(report(Verdict::Informational, Some(1000)).compare(&expected).is_empty());
        // ...but its verdict is, and so is the close code of any other case.
        let differences = report(Verdict::Ok, None).compare(&expected);
        let fields: Vec<(&str, &str)> = differences
            .iter()
            .map(|difference| (difference.case.as_str(), difference.field))
            .collect();
        assert!(fields.contains(&("7.1.6", "behavior")), "{fields:?}");
        assert!(fields.contains(&("1.1.1", "remoteCloseCode")), "{fields:?}");
    }
}
