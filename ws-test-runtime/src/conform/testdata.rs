//! The payloads of categories 12 and 13. Autobahn ships five files (a JSON document, a bitmap, Goethe's Faust,
//! an HTML page, a PDF); their content is not what the cases test (each echo is compared byte for byte), their
//! kind is: how well they compress. These are made here, deterministically, of the same kinds and about the same
//! sizes, so that a build carries no third-party files. JSON and HTML are ASCII, so that Autobahn's slicing by
//! characters and ws-test's by octets give the same messages.

use std::sync::OnceLock;

use super::cases::TestData;

/// A small deterministic generator (xorshift64*): the same bytes on every run and platform.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const WORDS: &[&str] = &[
    "alpha", "beta", "gamma", "delta", "stream", "event", "message", "socket", "client", "server", "token", "delta",
    "session", "frame", "payload", "latency", "agent", "tool", "result", "error", "retry", "window", "buffer",
];

const GERMAN: &[&str] = &[
    "Habe",
    "nun",
    "ach",
    "Philosophie",
    "Juristerei",
    "und",
    "Medizin",
    "leider",
    "auch",
    "Theologie",
    "durchaus",
    "studiert",
    "mit",
    "heißem",
    "Bemühn",
    "Da",
    "steh",
    "ich",
    "armer",
    "Tor",
    "bin",
    "so",
    "klug",
    "als",
    "wie",
    "zuvor",
    "Heiße",
    "Magister",
    "heiße",
    "Doktor",
    "gar",
    "schon",
    "zehen",
    "Jahr",
    "herauf",
    "herab",
    "quer",
    "krumm",
    "meine",
    "Schüler",
    "an",
    "der",
    "Nase",
    "herum",
    "daß",
    "wir",
    "nichts",
    "wissen",
    "können",
    "Das",
    "will",
    "mir",
    "schier",
    "das",
    "Herz",
    "verbrennen",
    "Zwar",
    "gescheiter",
    "über",
    "Geist",
    "Natur",
    "Welt",
];

fn json() -> Vec<u8> {
    let mut numbers = Numbers(0x5eed_0001);
    let mut out = String::from("[\n");
    let mut id = 0;
    while out.len() < 194_000 {
        id += 1;
        let tags: Vec<String> = (0..1 + numbers.below(4))
            .map(|_| format!("\"{}\"", numbers.pick(WORDS)))
            .collect();
        out.push_str(&format!(
            "  {{\"id\": {id}, \"type\": \"{}.{}\", \"user\": \"{}{}\", \"score\": {}.{:02}, \"active\": {}, \"tags\": [{}], \"text\": \"{} {} {} {}\"}},\n",
            numbers.pick(WORDS),
            numbers.pick(WORDS),
            numbers.pick(WORDS),
            numbers.below(1000),
            numbers.below(100),
            numbers.below(100),
            numbers.below(2) == 1,
            tags.join(", "),
            numbers.pick(WORDS),
            numbers.pick(WORDS),
            numbers.pick(WORDS),
            numbers.pick(WORDS),
        ));
    }
    out.push_str("  {\"id\": 0}\n]\n");
    out.into_bytes()
}

fn html() -> Vec<u8> {
    let mut numbers = Numbers(0x5eed_0004);
    let mut out = String::from("<!DOCTYPE html>\n<html>\n<head><title>ws-test</title></head>\n<body>\n");
    while out.len() < 263_000 {
        match numbers.below(3) {
            0 => {
                let words: Vec<&str> = (0..20 + numbers.below(40)).map(|_| numbers.pick(WORDS)).collect();
                out.push_str(&format!("<p class=\"text\">{}</p>\n", words.join(" ")));
            }
            1 => {
                out.push_str("<table>\n");
                for row in 0..1 + numbers.below(6) {
                    out.push_str(&format!(
                        "  <tr><td>{row}</td><td>{}</td><td>{}</td></tr>\n",
                        numbers.pick(WORDS),
                        numbers.below(10_000)
                    ));
                }
                out.push_str("</table>\n");
            }
            _ => out.push_str(&format!(
                "<a href=\"/{}/{}.html\">{}</a><br/>\n",
                numbers.pick(WORDS),
                numbers.below(1000),
                numbers.pick(WORDS)
            )),
        }
    }
    out.push_str("</body>\n</html>\n");
    out.into_bytes()
}

fn prose() -> Vec<u8> {
    let mut numbers = Numbers(0x5eed_0003);
    let mut out = String::new();
    while out.len() < 222_000 {
        let line: Vec<&str> = (0..4 + numbers.below(6)).map(|_| numbers.pick(GERMAN)).collect();
        out.push_str(&line.join(" "));
        out.push_str(if numbers.below(4) == 0 { ".\n\n" } else { ",\n" });
    }
    out.into_bytes()
}

fn bitmap() -> Vec<u8> {
    let mut numbers = Numbers(0x5eed_0002);
    let (width, height) = (512usize, 512usize);
    let mut out = Vec::with_capacity(width * height + 1078);
    // BITMAPFILEHEADER + BITMAPINFOHEADER for 8 bits per pixel and a 256-entry grey palette.
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&((width * height + 1078) as u32).to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&1078u32.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(height as u32).to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    for grey in 0..=255u8 {
        out.extend_from_slice(&[grey, grey, grey, 0]);
    }
    for y in 0..height {
        for x in 0..width {
            let smooth = ((x * 3 + y * 5) / 8 + (x * y) / 2048) % 256;
            let noise = numbers.below(24);
            out.push(((smooth + noise) % 256) as u8);
        }
    }
    out
}

fn pdf() -> Vec<u8> {
    let mut numbers = Numbers(0x5eed_0005);
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut object = 1;
    while out.len() < 1_042_000 {
        if numbers.below(3) == 0 {
            let words: Vec<&str> = (0..30).map(|_| numbers.pick(WORDS)).collect();
            out.extend_from_slice(
                format!(
                    "{object} 0 obj\n<< /Type /Page /Contents ({}) >>\nendobj\n",
                    words.join(" ")
                )
                .as_bytes(),
            );
        } else {
            // A stream already compressed: next to incompressible.
            let len = 512 + numbers.below(4096);
            out.extend_from_slice(
                format!("{object} 0 obj\n<< /Length {len} /Filter /FlateDecode >>\nstream\n").as_bytes(),
            );
            for _ in 0..len {
                out.push(numbers.next() as u8);
            }
            out.extend_from_slice(b"\nendstream\nendobj\n");
        }
        object += 1;
    }
    out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

/// The payload of a kind, made once.
pub(crate) fn bytes(kind: TestData) -> &'static [u8] {
    static DATA: [OnceLock<Vec<u8>>; 5] = [const { OnceLock::new() }; 5];
    let (index, make): (usize, fn() -> Vec<u8>) = match kind {
        TestData::Json => (0, json),
        TestData::Bitmap => (1, bitmap),
        TestData::Prose => (2, prose),
        TestData::Html => (3, html),
        TestData::Pdf => (4, pdf),
    };
    DATA[index].get_or_init(make)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_data_is_ascii_and_binary_data_is_not_text() {
        assert!(bytes(TestData::Json).is_ascii());
        assert!(bytes(TestData::Html).is_ascii());
        assert!(!bytes(TestData::Prose).is_ascii());
        assert!(bytes(TestData::Pdf).len() > 1_000_000);
        assert_eq!(bytes(TestData::Bitmap).len(), 512 * 512 + 1078);
        assert_eq!(bytes(TestData::Json), json().as_slice(), "the same bytes every time");
    }
}
