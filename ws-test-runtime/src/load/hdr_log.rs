//! The HdrHistogram interval log: a report written as one tagged histogram per label (V2, deflated, base64), the
//! counts in a comment line, and read back, so runs on several machines merge into one report.

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, IntervalLogWriterBuilder, LogEntry, Tag};
use hdrhistogram::serialization::{Deserializer, V2DeflateSerializer};

use std::collections::HashMap;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::report::{Group, Report, Stats};
use crate::error::{Error, Result};

impl Report {
    /// Writes the report in HdrHistogram's interval-log format: one histogram per label (V2, deflated, the tag
    /// naming the label), the counts in a `#ws-test` comment line. [`Report::from_hdr_log`] reads it back;
    /// HdrHistogram's own tools (`HistogramLogProcessor`) read the histograms.
    pub fn write_hdr_log(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let counts = json!({
            "format": 1,
            "iterations": self.iterations,
            "failed": self.failed,
            "errors": self.errors,
            "error_samples": self.samples,
            "elapsed_us": self.elapsed.as_micros() as u64,
            "frames_sent": self.frames_sent,
            "frames_received": self.frames_received,
            "runs": self.runs,
            "noun": self.noun,
            "groups": self.labels.iter().map(|(label, group, _)| json!([label, group.name()])).collect::<Vec<_>>(),
        });
        let mut serializer = V2DeflateSerializer::new();
        let mut builder = IntervalLogWriterBuilder::new();
        builder.add_comment("ws-test bench histograms: latencies in microseconds, one per label (the tag)");
        builder.add_comment(&format!("ws-test {counts}"));
        let mut log = builder.begin_log_with(out, &mut serializer)?;
        for (label, _, stats) in &self.labels {
            let tag = encode_tag(label);
            let tag = Tag::new(&tag).expect("encode_tag leaves no character a tag forbids");
            log.write_histogram(&stats.histogram, Duration::ZERO, self.elapsed, Some(tag))
                .map_err(|error| std::io::Error::other(format!("{error:?}")))?;
        }
        Ok(())
    }

    /// Reads what [`write_hdr_log`](Self::write_hdr_log) wrote; `name` (the file) names the source in errors.
    pub fn from_hdr_log(text: &str, name: &str) -> Result<Report> {
        let bad = |line: usize, reason: String| Error::Transcript {
            name: name.to_owned(),
            line,
            reason,
        };
        let counts_line = text.lines().enumerate().find_map(|(at, line)| {
            line.strip_prefix("#ws-test {")
                .map(|rest| (at + 1, format!("{{{rest}")))
        });
        let Some((line, counts)) = counts_line else {
            return Err(bad(
                1,
                "no `#ws-test {...}` line: not a histogram log written by `ws-test bench --hdr-out`".to_owned(),
            ));
        };
        let counts: Value =
            serde_json::from_str(&counts).map_err(|error| bad(line, format!("the counts are not JSON: {error}")))?;
        let number = |field: &str| -> Result<u64> {
            counts[field]
                .as_u64()
                .ok_or_else(|| bad(line, format!("`{field}` is missing or not a count")))
        };
        let mut report = Report::new();
        report.iterations = number("iterations")?;
        report.failed = number("failed")?;
        report.elapsed = Duration::from_micros(number("elapsed_us")?);
        report.frames_sent = number("frames_sent")?;
        report.frames_received = number("frames_received")?;
        report.runs = u32::try_from(number("runs")?).unwrap_or(u32::MAX);
        if let Some(noun) = counts["noun"].as_str() {
            report.noun = noun.to_owned();
        }
        if let Some(errors) = counts["errors"].as_object() {
            for (kind, count) in errors {
                let count = count
                    .as_u64()
                    .ok_or_else(|| bad(line, format!("errors.{kind} is not a count")))?;
                report.errors.insert(kind.clone(), count);
            }
        }
        if let Some(samples) = counts["error_samples"].as_array() {
            report.samples = samples.iter().filter_map(Value::as_str).map(str::to_owned).collect();
        }
        let groups: HashMap<&str, Group> = counts["groups"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|pair| Some((pair[0].as_str()?, Group::parse(pair[1].as_str()?)?)))
            .collect();
        let mut deserializer = Deserializer::new();
        for entry in IntervalLogIterator::new(text.as_bytes()) {
            let entry = entry.map_err(|error| {
                let hdrhistogram::serialization::interval_log::LogIteratorError::ParseError { offset } = error;
                bad(line_of(text, offset), "not an interval-log line".to_owned())
            })?;
            let LogEntry::Interval(interval) = entry else { continue };
            let label = interval.tag().map(|tag| decode_tag(tag.as_str())).unwrap_or_default();
            let encoded = interval.encoded_histogram();
            let line = line_of(text, text.find(encoded).unwrap_or(0));
            let bytes = data_encoding::BASE64
                .decode(encoded.as_bytes())
                .map_err(|error| bad(line, format!("the histogram of {label:?} is not base64: {error}")))?;
            let histogram: Histogram<u64> = deserializer
                .deserialize(&mut bytes.as_slice())
                .map_err(|error| bad(line, format!("the histogram of {label:?} does not decode: {error:?}")))?;
            let group = groups.get(label.as_str()).copied().unwrap_or(Group::Received);
            let mut stats = Stats::new();
            stats.count = histogram.len();
            stats
                .histogram
                .add(&histogram)
                .map_err(|error| bad(line, format!("the histogram of {label:?} has other bounds: {error:?}")))?;
            report.index.insert(label.clone(), report.labels.len());
            report.labels.push((label, group, stats));
        }
        Ok(report)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A label as an interval-log tag, which may hold no `,`, space, CR or LF: those (and `%`) percent-encoded.
fn encode_tag(label: &str) -> String {
    let mut tag = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '%' | ',' | ' ' | '\r' | '\n' => tag.push_str(&format!("%{:02X}", c as u32)),
            _ => tag.push(c),
        }
    }
    if tag.is_empty() { "%".to_owned() } else { tag }
}

fn decode_tag(tag: &str) -> String {
    if tag == "%" {
        return String::new();
    }
    let mut label = String::with_capacity(tag.len());
    let mut rest = tag;
    while let Some(at) = rest.find('%') {
        label.push_str(&rest[..at]);
        match rest
            .get(at + 1..at + 3)
            .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            Some(byte) => {
                label.push(char::from(byte));
                rest = &rest[at + 3..];
            }
            None => {
                label.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    label.push_str(rest);
    label
}
