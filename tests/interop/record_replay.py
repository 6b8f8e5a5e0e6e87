"""Record a session with a foreign server, replay it to a foreign client.

Usage: python3 tests/interop/record_replay.py PATH_TO_WS_TEST

The server is tests/interop/protocol_server.py (Python `websockets`, not written on ws-test); the client is Python
`websockets` too. `ws-test record` relays the client to the server and writes the session; `ws-test serve --replay`
then answers the same messages with the same frames (the Python server's run ids and timestamps included), and a
message the recording does not have gets close 1008 naming the line of the recording.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile

import websockets

SERVER = "tests/interop/protocol_server.py"
QUESTIONS = ["What is the weather?", "And tomorrow?"]


def start(command):
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        raise SystemExit(f"{command[:2]} did not start: {line!r} {process.stderr.read()}")
    return process, line.removeprefix("listening on ")


async def session(url, questions):
    """The frames a client receives: the welcome, then five per question (as text, unparsed)."""
    frames = []
    async with websockets.connect(url) as ws:
        frames.append(await asyncio.wait_for(ws.recv(), 5))
        for question in questions:
            # Keys in another order than a JSON encoder with sort_keys would give: compared as JSON values.
            await ws.send(json.dumps({"content": question, "type": "chat_message"}))
            for _ in range(5):
                frames.append(await asyncio.wait_for(ws.recv(), 5))
    return frames


async def diverge(url):
    async with websockets.connect(url) as ws:
        await asyncio.wait_for(ws.recv(), 5)
        await ws.send(json.dumps({"type": "chat_message", "content": "Something else"}))
        try:
            frame = await asyncio.wait_for(ws.recv(), 5)
        except websockets.ConnectionClosed as closed:
            return closed.rcvd.code, closed.rcvd.reason
        raise SystemExit(f"a divergent message got a frame instead of a close: {frame}")


def main():
    binary = sys.argv[1]
    directory = tempfile.mkdtemp(prefix="ws-test-interop-")
    recording = os.path.join(directory, "python.jsonl")
    server, upstream = start([sys.executable, SERVER])
    try:
        recorder, url = start([binary, "record", "--upstream", upstream, "--out", recording, "--sessions", "1"])
        recorded = asyncio.run(session(url, QUESTIONS))
        out, err = recorder.communicate(timeout=20)
        if recorder.returncode != 0 or "session 1: " not in out:
            raise SystemExit(f"ws-test record: exit {recorder.returncode}\n{out}\n{err}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"recorded {len(recorded)} frames from the Python server: {out.strip().splitlines()[-1]}")

    replay, url = start([binary, "serve", "--replay", recording])
    try:
        replayed = asyncio.run(session(url, QUESTIONS))
        if replayed != recorded:
            raise SystemExit(f"the replay differs from the recording:\n{recorded}\n{replayed}")
        code, reason = asyncio.run(diverge(url))
        if code != 1008 or not reason.startswith("diverged from line 3 of python.jsonl"):
            raise SystemExit(f"a divergent message: expected 1008 naming line 3, got {code} {reason!r}")
        print(f"divergent message: close {code} {reason!r}")
    finally:
        replay.terminate()
        replay.wait(timeout=10)
    print("interop: a session with a Python server, recorded by ws-test record, replays the same frames to a "
          "Python client through ws-test serve --replay")


if __name__ == "__main__":
    main()
