//! Autobahn's own words for its hand-written cases: each case's DESCRIPTION and EXPECTATION, verbatim from the
//! testsuite's `autobahntestsuite/case/*.py` (Apache-2.0).

/// Autobahn's own words for its hand-written cases, in its order: `(id, DESCRIPTION, EXPECTATION)`. `%s` marks
/// where Autobahn formats a payload into the text.
pub(super) const WORDS: &[(&str, &str, &str)] = &[
    (
        "1.1.1",
        "Send text message with payload 0.",
        "Receive echo'ed text message (with empty payload). Clean close with normal code.",
    ),
    (
        "1.1.2",
        "Send text message message with payload of length 125.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.3",
        "Send text message message with payload of length 126.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.4",
        "Send text message message with payload of length 127.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.5",
        "Send text message message with payload of length 128.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.6",
        "Send text message message with payload of length 65535.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.7",
        "Send text message message with payload of length 65536.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.1.8",
        "Send text message message with payload of length 65536. Sent out data in chops of 997 octets.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.1",
        "Send binary message with payload 0.",
        "Receive echo'ed binary message (with empty payload). Clean close with normal code.",
    ),
    (
        "1.2.2",
        "Send binary message message with payload of length 125.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.3",
        "Send binary message message with payload of length 126.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.4",
        "Send binary message message with payload of length 127.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.5",
        "Send binary message message with payload of length 128.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.6",
        "Send binary message message with payload of length 65535.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.7",
        "Send binary message message with payload of length 65536.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "1.2.8",
        "Send binary message message with payload of length 65536. Sent out data in chops of 997 octets.",
        "Receive echo'ed binary message (with payload as sent). Clean close with normal code.",
    ),
    (
        "2.1",
        "Send ping without payload.",
        "Pong (with empty payload) is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.2",
        "Send ping with small text payload.",
        "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.3",
        "Send ping with small binary (non UTF-8) payload.",
        "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.4",
        "Send ping with binary payload of 125 octets.",
        "Pong with payload echo'ed is sent in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.5",
        "Send ping with binary payload of 126 octets.",
        "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets..",
    ),
    (
        "2.6",
        "Send ping with binary payload of 125 octets, send in octet-wise chops.",
        "Pong with payload echo'ed is sent in reply to Ping. Implementations must be TCP clean. Clean close with normal code.",
    ),
    (
        "2.7",
        "Send unsolicited pong without payload. Verify nothing is received. Clean close with normal code.",
        "Nothing.",
    ),
    (
        "2.8",
        "Send unsolicited pong with payload. Verify nothing is received. Clean close with normal code.",
        "Nothing.",
    ),
    (
        "2.9",
        "Send unsolicited pong with payload. Send ping with payload. Verify pong for ping is received.",
        "Nothing in reply to own Pong, but Pong with payload echo'ed in reply to Ping. Clean close with normal code.",
    ),
    (
        "2.10",
        "Send 10 Pings with payload.",
        "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.",
    ),
    (
        "2.11",
        "Send 10 Pings with payload. Send out octets in octet-wise chops.",
        "Pongs for our Pings with all the payloads. Note: This is not required by the Spec .. but we check for this behaviour anyway. Clean close with normal code.",
    ),
    (
        "3.1",
        "Send small text message with <b>RSV = 1</b>.",
        "The connection is failed immediately (1002/protocol error), since RSV must be 0, when no extension defining RSV meaning has been negotiated.",
    ),
    (
        "3.2",
        "Send small text message, then send again with <b>RSV = 2</b>, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
    ),
    (
        "3.3",
        "Send small text message, then send again with <b>RSV = 3</b>, then send Ping. Octets are sent in frame-wise chops. Octets are sent in octet-wise chops.",
        "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
    ),
    (
        "3.4",
        "Send small text message, then send again with <b>RSV = 4</b>, then send Ping. Octets are sent in octet-wise chops.",
        "Echo for first message is received, but then connection is failed immediately, since RSV must be 0, when no extension defining RSV meaning has been negotiated. The Pong is not received.",
    ),
    (
        "3.5",
        "Send small binary message with <b>RSV = 5</b>.",
        "The connection is failed immediately, since RSV must be 0.",
    ),
    (
        "3.6",
        "Send Ping with <b>RSV = 6</b>.",
        "The connection is failed immediately, since RSV must be 0.",
    ),
    (
        "3.7",
        "Send Close with <b>RSV = 7</b>.",
        "The connection is failed immediately, since RSV must be 0.",
    ),
    (
        "4.1.1",
        "Send frame with reserved non-control <b>Opcode = 3</b>.",
        "The connection is failed immediately.",
    ),
    (
        "4.1.2",
        "Send frame with reserved non-control <b>Opcode = 4</b> and non-empty payload.",
        "The connection is failed immediately.",
    ),
    (
        "4.1.3",
        "Send small text message, then send frame with reserved non-control <b>Opcode = 5</b>, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.1.4",
        "Send small text message, then send frame with reserved non-control <b>Opcode = 6</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.1.5",
        "Send small text message, then send frame with reserved non-control <b>Opcode = 7</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.2.1",
        "Send frame with reserved control <b>Opcode = 11</b>.",
        "The connection is failed immediately.",
    ),
    (
        "4.2.2",
        "Send frame with reserved control <b>Opcode = 12</b> and non-empty payload.",
        "The connection is failed immediately.",
    ),
    (
        "4.2.3",
        "Send small text message, then send frame with reserved control <b>Opcode = 13</b>, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.2.4",
        "Send small text message, then send frame with reserved control <b>Opcode = 14</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "4.2.5",
        "Send small text message, then send frame with reserved control <b>Opcode = 15</b> and non-empty payload, then send Ping.",
        "Echo for first message is received, but then connection is failed immediately, since reserved opcode frame is used. A Pong is not received.",
    ),
    (
        "5.1",
        "Send Ping fragmented into 2 fragments.",
        "Connection is failed immediately, since control message MUST NOT be fragmented.",
    ),
    (
        "5.2",
        "Send Pong fragmented into 2 fragments.",
        "Connection is failed immediately, since control message MUST NOT be fragmented.",
    ),
    (
        "5.3",
        "Send text Message fragmented into 2 fragments.",
        "Message is processed and echo'ed back to us.",
    ),
    (
        "5.4",
        "Send text Message fragmented into 2 fragments, octets are sent in frame-wise chops.",
        "Message is processed and echo'ed back to us.",
    ),
    (
        "5.5",
        "Send text Message fragmented into 2 fragments, octets are sent in octet-wise chops.",
        "Message is processed and echo'ed back to us.",
    ),
    (
        "5.6",
        "Send text Message fragmented into 2 fragments, one ping with payload in-between.",
        "A pong is received, then the message is echo'ed back to us.",
    ),
    (
        "5.7",
        "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in frame-wise chops.",
        "A pong is received, then the message is echo'ed back to us.",
    ),
    (
        "5.8",
        "Send text Message fragmented into 2 fragments, one ping with payload in-between. Octets are sent in octet-wise chops.",
        "A pong is received, then the message is echo'ed back to us.",
    ),
    (
        "5.9",
        "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in one chop.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.10",
        "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in per-frame chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.11",
        "Send unfragmented Text Message after Continuation Frame with FIN = true, where there is nothing to continue, sent in octet-wise chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.12",
        "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in one chop.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.13",
        "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in per-frame chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.14",
        "Send unfragmented Text Message after Continuation Frame with FIN = false, where there is nothing to continue, sent in octet-wise chops.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.15",
        "Send text Message fragmented into 2 fragments, then Continuation Frame with FIN = false where there is nothing to continue, then unfragmented Text Message, all sent in one chop.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.16",
        "Repeated 2x: Continuation Frame with FIN = false (where there is nothing to continue), then text Message fragmented into 2 fragments.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.17",
        "Repeated 2x: Continuation Frame with FIN = true (where there is nothing to continue), then text Message fragmented into 2 fragments.",
        "The connection is failed immediately, since there is no message to continue.",
    ),
    (
        "5.18",
        "Send text Message fragmented into 2 fragments, with both frame opcodes set to text, sent in one chop.",
        "The connection is failed immediately, since all data frames after the initial data frame must have opcode 0.",
    ),
    (
        "5.19",
        "A fragmented text message is sent in multiple frames. After\n   sending the first 2 frames of the text message, a Ping is sent. Then we wait 1s,\n   then we send 2 more text fragments, another Ping and then the final text fragment.\n   Everything is legal.",
        "The peer immediately answers the first Ping before\n   it has received the last text message fragment. The peer pong's back the Ping's\n   payload exactly, and echo's the payload of the fragmented message back to us.",
    ),
    (
        "5.20",
        "Same as Case 5.19, but send all frames with SYNC = True.\n   Note, this does not change the octets sent in any way, only how the stream\n   is chopped up on the wire.",
        "Same as Case 5.19. Implementations must be agnostic to how\n   octet stream is chopped up on wire (must be TCP clean).",
    ),
    (
        "6.1.1",
        "Send text message of length 0.",
        "A message is echo'ed back to us (with empty payload).",
    ),
    (
        "6.1.2",
        "Send fragmented text message, 3 fragments each of length 0.",
        "A message is echo'ed back to us (with empty payload).",
    ),
    (
        "6.1.3",
        "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
        "A message is echo'ed back to us (with payload = payload of middle fragment).",
    ),
    (
        "6.2.1",
        "Send a valid UTF-8 text message in one fragment.<br><br>MESSAGE:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.2.2",
        "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.<br><br>MESSAGE FRAGMENT 1:<br>%s<br>%s<br><br>MESSAGE FRAGMENT 2:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.2.3",
        "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.2.4",
        "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>%s<br>%s",
        "The message is echo'ed back to us.",
    ),
    (
        "6.3.1",
        "Send invalid UTF-8 text message unfragmented.<br><br>MESSAGE:<br>%s",
        "The connection is failed immediately, since the payload is not valid UTF-8.",
    ),
    (
        "6.3.2",
        "Send invalid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.<br><br>MESSAGE:<br>%s",
        "The connection is failed immediately, since the payload is not valid UTF-8.",
    ),
    (
        "6.4.1",
        "Send invalid UTF-8 text message in 3 fragments (frames).\nFirst frame payload is valid, then wait, then 2nd frame which contains the payload making the sequence invalid, then wait, then 3rd frame with rest.\nNote that PART1 and PART3 are valid UTF-8 in themselves, PART2 is a 0x110000 encoded as in the UTF-8 integer encoding scheme, but the codepoint is invalid (out of range).\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first frame is accepted, we expect to timeout on the first wait. The 2nd frame should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "6.4.2",
        "Same as Case 6.4.1, but in 2nd frame, we send only up to and including the octet making the complete payload invalid.\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first frame is accepted, we expect to timeout on the first wait. The 2nd frame should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "6.4.3",
        "Same as Case 6.4.1, but we send message not in 3 frames, but in 3 chops of the same message frame.\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first chop is accepted, we expect to timeout on the first wait. The 2nd chop should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "6.4.4",
        "Same as Case 6.4.2, but we send message not in 3 frames, but in 3 chops of the same message frame.\n<br><br>MESSAGE PARTS:<br>\nPART1 = %s<br>\nPART2 = %s<br>\nPART3 = %s<br>\n",
        "The first chop is accepted, we expect to timeout on the first wait. The 2nd chop should be rejected immediately (fail fast on UTF-8). If we timeout, we expect the connection is failed at least then, since the complete message payload is not valid UTF-8.",
    ),
    (
        "7.1.1",
        "Send a message followed by a close frame",
        "Echoed message followed by clean close with normal code.",
    ),
    (
        "7.1.2",
        "Send two close frames",
        "Clean close with normal code. Second close frame ignored.",
    ),
    (
        "7.1.3",
        "Send a ping after close message",
        "Clean close with normal code, no pong.",
    ),
    (
        "7.1.4",
        "Send text message after sending a close frame.",
        "Clean close with normal code. Text message ignored.",
    ),
    (
        "7.1.5",
        "Send message fragment1 followed by close then fragment",
        "Clean close with normal code.",
    ),
    (
        "7.1.6",
        "Send 256K message followed by close then a ping",
        "Case outcome depends on implementation defined close behavior. Message and close frame are sent back to back. If the close frame is processed before the text message write is complete (as can happen in asynchronous processing models) the close frame is processed first and the text message may not be received or may only be partially received.",
    ),
    (
        "7.3.1",
        "Send a close frame with payload length 0 (no close code, no close reason)",
        "Clean close with normal code.",
    ),
    (
        "7.3.2",
        "Send a close frame with payload length 1",
        "Clean close with protocol error or drop TCP.",
    ),
    (
        "7.3.3",
        "Send a close frame with payload length 2 (regular close with a code)",
        "Clean close with normal code.",
    ),
    (
        "7.3.4",
        "Send a close frame with close code and close reason",
        "Clean close with normal code.",
    ),
    (
        "7.3.5",
        "Send a close frame with close code and close reason of maximum length (123)",
        "Clean close with normal code.",
    ),
    (
        "7.3.6",
        "Send a close frame with close code and close reason which is too long (124) - total frame payload 126 octets",
        "Clean close with protocol error code or dropped TCP connection.",
    ),
    (
        "7.5.1",
        "Send a close frame with invalid UTF8 payload",
        "Clean close with protocol error or invalid utf8 code or dropped TCP.",
    ),
    (
        "7.13.1",
        "Send close with close code 5000",
        "Actual events are undefined by the spec.",
    ),
    (
        "7.13.2",
        "Send close with close code 65535",
        "Actual events are undefined by the spec.",
    ),
    (
        "9.1.1",
        "Send text message message with payload of length 64 * 2**10 (64k).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.2",
        "Send text message message with payload of length 256 * 2**10 (256k).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.3",
        "Send text message message with payload of length 1 * 2**20 (1M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.4",
        "Send text message message with payload of length 4 * 2**20 (4M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.5",
        "Send text message message with payload of length 8 * 2**20 (8M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.1.6",
        "Send text message message with payload of length 16 * 2**20 (16M).",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.2.1",
        "Send binary message message with payload of length 64 * 2**10 (64k).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.2",
        "Send binary message message with payload of length 256 * 2**10 (256k).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.3",
        "Send binary message message with payload of length 1 * 2**20 (1M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.4",
        "Send binary message message with payload of length 4 * 2**20 (4M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.5",
        "Send binary message message with payload of length 8 * 2**20 (16M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.2.6",
        "Send binary message message with payload of length 16 * 2**20 (16M).",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.3.1",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.2",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.3",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.4",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 4k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.5",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 16k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.6",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.7",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256k.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.8",
        "Send fragmented text message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1M.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.3.9",
        "Send fragmented text message message with message payload of length 4 * 2**20 (8M). Sent out in fragments of 4M.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.4.1",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.2",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.3",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.4",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 4k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.5",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 16k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.6",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 64k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.7",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 256k.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.8",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 1M.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.4.9",
        "Send fragmented binary message message with message payload of length 4 * 2**20 (4M). Sent out in fragments of 4M.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.5.1",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 64 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.2",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 128 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.3",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 256 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.4",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 512 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.5",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 1024 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.5.6",
        "Send text message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 2048 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.1",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 64 octets.",
        "Receive echo'ed binary message (with payload as sent).",
    ),
    (
        "9.6.2",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 128 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.3",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 256 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.4",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 512 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.5",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 1024 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "9.6.6",
        "Send binary message message with payload of length 1 * 2**20 (1M). Sent out data in chops of 2048 octets.",
        "Receive echo'ed text message (with payload as sent).",
    ),
    (
        "10.1.1",
        "Send text message with payload of length 65536 auto-fragmented with <b>autoFragmentSize = 1300</b>.",
        "Receive echo'ed text message (with payload as sent and transmitted frame counts as expected). Clean close with normal code.",
    ),
];
