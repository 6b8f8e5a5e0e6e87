"""Socket.IO end to end with the command line: a socketioxide server run as a process, a real Socket.IO client.

Usage: python3 tests/interop/socketio_record.py PATH_TO_WS_TEST PATH_TO_SOCKETIO_CHAT

The server is examples/socketio's binary (socketioxide 0.18 on axum); the client is `python-socketio` (PyPI), not
written on ws-test. `ws-test record --protocol socket.io` relays the client's WebSocket transport to the server and
writes the session with each frame's event beside it; `ws-test expect --protocol socket.io` turns it into the
expectation of the events the client received (Engine.IO's open, pings and the namespace connect left out);
`ws-test bench --scenario --protocol socket.io` plays it again on many connections, each doing its own handshake;
`ws-test serve --replay --protocol socket.io` serves it to the same client as a mock speaking Socket.IO itself.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

import socketio

# The same way of starting a process that prints `listening on URL` first.
from record_replay import start


def chat(recorder_url):
    """One user: `add user`, then `login` back; then leave."""
    base = recorder_url.split("/socket.io/")[0].replace("ws://", "http://", 1)
    client = socketio.Client(reconnection=False)
    logins = []
    client.on("login", lambda data: logins.append(data))
    client.connect(base, transports=["websocket"], wait_timeout=10)
    client.emit("add user", "alice")
    deadline = time.monotonic() + 10
    while not logins:
        if time.monotonic() > deadline:
            raise SystemExit("python-socketio: no `login` within 10 s")
        client.sleep(0.01)
    # Nothing after the login: an emit just before a disconnect may or may not leave before the socket closes,
    # and a recording must hold exactly what the replayed client will send.
    client.disconnect()
    return logins[0]


def run(command, what):
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise SystemExit(f"{what}: exit {result.returncode}\n{result.stdout}\n{result.stderr}")
    return result.stdout


def main():
    binary, server_binary = sys.argv[1], sys.argv[2]
    directory = tempfile.mkdtemp(prefix="ws-test-socketio-")
    recording = os.path.join(directory, "socketio.jsonl")
    server, upstream = start([server_binary, "127.0.0.1:0"])
    try:
        recorder, url = start(
            [binary, "record", "--upstream", upstream, "--out", recording, "--sessions", "1", "--protocol", "socket.io"]
        )
        login = chat(url)
        out, err = recorder.communicate(timeout=20)
        if recorder.returncode != 0:
            raise SystemExit(f"ws-test record: exit {recorder.returncode}\n{out}\n{err}")
        if login != {"numUsers": 1}:
            raise SystemExit(f"python-socketio got {login!r} for login")
        lines = [json.loads(line) for line in open(recording, encoding="utf-8")][1:]
        events = [line["decoded"]["event"] for line in lines if line["direction"] == "in" and "decoded" in line]
        controls = [line["control"] for line in lines if "control" in line]
        if events != ["login"] or not any("Engine.IO open" in control for control in controls):
            raise SystemExit(f"the recording's events: {events}, its protocol frames: {controls}")
        print(f"recorded a python-socketio session with socketioxide: events {events}, {len(controls)} protocol frames")

        expectation = run([binary, "expect", recording, "--protocol", "socket.io"], "ws-test expect")
        if '"login"' not in expectation or "event_key(\"event\")" not in expectation.replace(" ", ""):
            raise SystemExit(f"ws-test expect --protocol socket.io printed:\n{expectation}")
        print("ws-test expect --protocol socket.io names the login event")

        report = json.loads(
            run(
                [
                    binary, "bench", upstream, "--scenario", recording, "--protocol", "socket.io",
                    "--connections", "5", "--rounds", "4", "--speed", "0", "--json",
                ],
                "ws-test bench --scenario --protocol socket.io",
            )
        )
        login_count = report["latency_by_label_us"].get("login", {}).get("count")
        if report["iterations"] != 20 or report["errors"] != 0 or login_count != 20:
            raise SystemExit(f"bench --scenario --protocol socket.io: {json.dumps(report)[:2000]}")
        print(f"ws-test bench --scenario --protocol socket.io: 20 sessions, 20 logins, 0 errors")

        # The recording as a mock: ws-test speaks Engine.IO and Socket.IO itself, the recording gives the events,
        # and the same python-socketio client gets the same login from it as from socketioxide.
        mock, mock_url = start([binary, "serve", "--replay", recording, "--protocol", "socket.io"])
        try:
            if not mock_url.endswith("/socket.io/"):
                raise SystemExit(f"ws-test serve --protocol socket.io listens on {mock_url}")
            replayed = chat(mock_url)
        finally:
            mock.terminate()
            out, err = mock.communicate(timeout=10)
        if replayed != login or "diverged" in err:
            raise SystemExit(f"the replay gave {replayed!r} for login (socketioxide gave {login!r})\n{err}")
        print(f"ws-test serve --replay --protocol socket.io: python-socketio got the same login, {replayed}")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
