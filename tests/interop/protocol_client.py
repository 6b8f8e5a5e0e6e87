"""A client in another language, following PROTOCOL.md, against the embedded server.

Usage: python3 tests/interop/protocol_client.py PATH_TO_WS_TEST

Starts `ws-test serve` three times (without and with a token, and over TLS with `--tls-self-signed`, trusting
exactly the certificate whose path it prints second), talks to it with Python's `websockets` (and `urllib` for
HTTP), and checks that every line of PROTOCOL.md holds for a client that knows nothing about Rust. Exits non-zero on the first
mismatch, saying what was expected and what arrived.
"""

import asyncio
import json
import re
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

CRITICAL = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
TIMEOUT = 5
checks = 0


def check(condition, what, got):
    global checks
    if not condition:
        raise AssertionError(f"{what}: got {got!r}")
    checks += 1


# The TLS context of the current server: it trusts exactly the certificate `serve --tls-self-signed` made.
TLS = None


def start(binary, *args):
    global TLS
    process = subprocess.Popen([binary, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    scheme = "wss" if "--tls-self-signed" in args else "ws"
    check(line.startswith(f"listening on {scheme}://127.0.0.1:") and line.endswith("/ws"), "first stdout line", line)
    TLS = None
    if scheme == "wss":
        certificate = process.stdout.readline().strip()
        check(open(certificate).read().startswith("-----BEGIN CERTIFICATE-----"), "second line: a PEM file", certificate)
        TLS = ssl.create_default_context(cafile=certificate)
    return process, line.removeprefix("listening on ")


def connect(url, **options):
    """`websockets`' connect, with the server's TLS context for wss://."""
    if url.startswith("wss://"):
        options["ssl"] = TLS
    return ws_connect(url, **options)


def to_http(url):
    """ws:// -> http://, wss:// -> https://."""
    return re.sub(r"^ws", "http", url)


def http(url, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT, context=TLS) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))


async def protocol(url):
    base = to_http(url.removesuffix("/ws"))
    status, headers, body = http(base + "/health")
    check(status == 200 and headers["Content-Type"] == "application/json", "health status", (status, headers))
    check(json.loads(body) == {"status": "ok", "active_connections": 0, "total_connections": 0}, "health", body)
    check(http(base + "/elsewhere")[0] == 404, "other path", "not 404")
    check(http(to_http(url))[0] in (400, 426), "plain GET on /ws", "not 400/426")

    async with connect(url, additional_headers={"X-User-Id": "py-user"}) as ws:
        welcome = await recv_json(ws)
        check(welcome["type"] == "connection_established" and welcome["user_id"] == "py-user", "welcome", welcome)
        check(isinstance(welcome["connection_id"], str), "connection_id", welcome)

        await ws.send(json.dumps({"type": "ping"}))
        pong = await recv_json(ws)
        check(pong["type"] == "pong" and abs(pong["timestamp"] - time.time() * 1000) < 60_000, "pong", pong)

        await ws.send(json.dumps({"type": "chat_message", "content": "from python"}))
        events = [await recv_json(ws) for _ in CRITICAL]
        check([e["type"] for e in events] == CRITICAL, "critical order", events)
        check(len({e["run_id"] for e in events}) == 1, "one run_id", events)
        check([e["seq"] for e in events] == [1, 2, 3, 4, 5], "seq", events)
        for event in events:
            check(event["agent_name"] == "TestChatAgent" and event["user_id"] == "py-user", "agent/user", event)
            check(isinstance(event["timestamp"], int), "timestamp", event)
        check(events[0]["message"] == "Processing your message: from python", "agent_started", events[0])
        check(isinstance(events[1]["thought"], str), "agent_thinking", events[1])
        check(isinstance(events[2]["parameters"], dict), "tool_executing", events[2])
        check(events[2]["tool_call_id"] == events[3]["tool_call_id"], "tool_call_id kept", events[2:4])
        check(events[2]["tool_name"] == events[3]["tool_name"] and "result" in events[3], "tool_completed", events[3])
        check(isinstance(events[4]["response"], str), "agent_completed", events[4])

        await ws.send(json.dumps({"type": "user_message", "content": "alias", "run_id": "py-run"}))
        events = [await recv_json(ws) for _ in CRITICAL]
        check({e["run_id"] for e in events} == {"py-run"}, "client run_id kept", events)
        check([e["seq"] for e in events] == [6, 7, 8, 9, 10], "seq keeps rising", events)

        payload = {"nested": [1, "two", None, {"three": 3.5}]}
        await ws.send(json.dumps({"type": "echo", "payload": payload}))
        check(await recv_json(ws) == {"type": "echo", "payload": payload}, "echo", payload)

        for frame, code in [("not json", "invalid_json"), ("[1,2]", "invalid_json"),
                            (json.dumps({"content": 1}), "missing_type"), (json.dumps({"type": "nope"}), "unknown_type"),
                            (b"\x00\x01", "unsupported_frame")]:
            await ws.send(frame)
            error = await recv_json(ws)
            check(error["type"] == "error" and error["code"] == code and error["error"], f"error for {frame!r}", error)
        await ws.send(json.dumps({"type": "ping"}))
        check((await recv_json(ws))["type"] == "pong", "still open after errors", "no pong")

        latency = await asyncio.wait_for(await ws.ping(b"hi"), TIMEOUT)
        check(latency >= 0, "protocol pong", latency)

        async with connect(url) as other:
            await recv_json(other)
            await ws.send(json.dumps({"type": "broadcast", "content": "to all"}))
            expected = {"type": "broadcast", "from": "py-user", "content": "to all"}
            check(await recv_json(ws) == expected, "broadcast to sender", expected)
            check(await recv_json(other) == expected, "broadcast to other", expected)

    async with connect(url, max_size=None) as ws:
        await recv_json(ws)
        try:
            # The server may close while the oversize message is still being sent, or right after.
            await ws.send(b"x" * (1024 * 1024 + 1))
            await asyncio.wait_for(ws.recv(), TIMEOUT)
            check(False, "oversize message", "no close")
        except ConnectionClosed as closed:
            check(closed.rcvd is not None and closed.rcvd.code == 1009, "oversize close code", closed.rcvd)

    async with connect(url) as ws:
        await recv_json(ws)
        await ws.close(code=1000, reason="bye")
        check(ws.close_code == 1000 and ws.close_reason == "bye", "close answered with close", ws.close_code)


async def auth(url):
    for headers in [{}, {"Authorization": "Bearer wrong"}]:
        try:
            async with connect(url, additional_headers=headers):
                check(False, "upgrade without the right token", "accepted")
        except InvalidStatus as refused:
            check(refused.response.status_code == 401, "401 without the token", refused.response.status_code)
    async with connect(url, additional_headers={"Authorization": "Bearer t0k"}) as ws:
        check((await recv_json(ws))["type"] == "connection_established", "bearer token", "no welcome")
    async with connect(url + "?token=t0k") as ws:
        check((await recv_json(ws))["type"] == "connection_established", "query token", "no welcome")


def main():
    binary = sys.argv[1]
    for args, scenario in [((), protocol), (("--token", "t0k"), auth), (("--tls-self-signed",), protocol)]:
        process, url = start(binary, *args)
        try:
            asyncio.run(scenario(url))
        finally:
            process.terminate()
            check(process.wait(timeout=TIMEOUT) == 0, "serve exits cleanly on SIGTERM", process.returncode)
    print(f"interop: Python websockets client, all {checks} protocol checks held")


if __name__ == "__main__":
    main()
