//! 6.5 to 6.23: Markus Kuhn's UTF-8 decoder test sequences as Autobahn groups them (`case6_x_x.py`), one text
//! message per sequence, echoed when valid and failed with 1007 when not.

use super::{Act, CaseDef, KOSME, Script, clean_close, events, hex, message, peer_fails_utf8, text};

/// Payloads with their validity.
type Sequences = Vec<(bool, Vec<u8>)>;

/// Autobahn's UTF-8 sequences for 6.5 to 6.23, each group with its title and its `(valid, bytes)` payloads.
pub(super) fn utf8_groups() -> Vec<(&'static str, Sequences)> {
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
pub(super) fn push_utf8_cases(cases: &mut Vec<CaseDef>) {
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
