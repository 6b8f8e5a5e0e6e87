"""The chat-agent protocol (PROTOCOL.md) served by Python's `websockets`: a server in another language.

Usage: python3 tests/interop/protocol_server.py [--token T] [--break echo|order|errors|seq-string|no-tool-name] [--agent-name NAME]
                                               [--tls CERT KEY]

Prints `listening on ws://127.0.0.1:PORT/ws` (`wss://` with `--tls`, Python's own `ssl` serving the PEM
certificate chain CERT with its key KEY) first and serves until terminated. `--break` makes it violate the
protocol on purpose, so `ws-test check` has something to catch.
"""

import argparse
import asyncio
import http
import json
import signal
import ssl
import sys
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response

CRITICAL = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
MAX_SIZE = 1024 * 1024


class Agent:
    def __init__(self, token, broken):
        self.token = token
        self.broken = broken
        self.connections = set()
        self.total = 0

    def respond(self, status, body, content_type="text/plain; charset=utf-8"):
        headers = Headers([("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return Response(status.value, status.phrase, headers, body.encode())

    def process_request(self, connection, request):
        url = urlsplit(request.path)
        query = parse_qs(url.query)
        if url.path == "/health":
            body = json.dumps({"status": "ok", "active_connections": len(self.connections),
                               "total_connections": self.total})
            return self.respond(http.HTTPStatus.OK, body, "application/json")
        if url.path != "/ws":
            return self.respond(http.HTTPStatus.NOT_FOUND, f"no route for {url.path}")
        if self.token is not None:
            bearer = request.headers.get("Authorization", "")
            given = bearer.removeprefix("Bearer ") if bearer.startswith("Bearer ") else query.get("token", [None])[0]
            if given != self.token:
                return self.respond(http.HTTPStatus.UNAUTHORIZED, "missing or wrong token")
        connection.user_id = (query.get("user_id", [None])[0] or request.headers.get("X-User-Id")
                              or f"py-user-{uuid.uuid4().hex[:8]}")
        return None

    async def error(self, ws, code, text):
        await ws.send(json.dumps({"type": "error", "code": code, "error": text}))

    async def handle(self, ws):
        self.connections.add(ws)
        self.total += 1
        seq = 0
        try:
            await ws.send(json.dumps({"type": "connection_established", "connection_id": uuid.uuid4().hex,
                                      "user_id": ws.user_id}))
            async for frame in ws:
                if isinstance(frame, bytes):
                    await self.error(ws, "unsupported_frame", "binary frames are not supported")
                    continue
                try:
                    message = json.loads(frame)
                except ValueError:
                    await self.error(ws, "invalid_json", "not JSON")
                    continue
                if not isinstance(message, dict):
                    await self.error(ws, "invalid_json", "not an object")
                    continue
                kind = message.get("type")
                if not isinstance(kind, str):
                    await self.error(ws, "missing_type" if self.broken != "errors" else "oops", "no type")
                    continue
                if kind == "ping":
                    await ws.send(json.dumps({"type": "pong", "timestamp": int(time.time() * 1000)}))
                elif kind in ("chat_message", "user_message"):
                    content = message.get("content", "")
                    run_id = message.get("run_id") or f"py-run-{uuid.uuid4().hex[:8]}"
                    call = f"py-call-{uuid.uuid4().hex[:8]}"
                    order = list(CRITICAL)
                    if self.broken == "order":
                        order[2], order[3] = order[3], order[2]
                    for event in order:
                        seq += 1
                        body = {"type": event, "agent_name": AGENT_NAME, "user_id": ws.user_id,
                                "run_id": run_id, "timestamp": int(time.time() * 1000), "seq": seq}
                        body.update({
                            "agent_started": {"message": f"Processing your message: {content}"},
                            "agent_thinking": {"thought": "thinking in Python"},
                            "tool_executing": {"tool_name": "py_search", "tool_call_id": call,
                                               "parameters": {"query": content}},
                            "tool_completed": {"tool_name": "py_search", "tool_call_id": call, "result": {"ok": True}},
                            "agent_completed": {"response": f"done: {content}"},
                        }[event])
                        if self.broken == "seq-string" and event == "tool_executing":
                            body["seq"] = str(seq)
                        if self.broken == "no-tool-name" and event == "tool_completed":
                            del body["tool_name"]
                        await ws.send(json.dumps(body))
                elif kind == "echo":
                    payload = message.get("payload")
                    if self.broken == "echo":
                        payload = {"changed": payload}
                    await ws.send(json.dumps({"type": "echo", "payload": payload}))
                elif kind == "broadcast":
                    out = json.dumps({"type": "broadcast", "from": ws.user_id, "content": message.get("content")})
                    for peer in list(self.connections):
                        try:
                            await peer.send(out)
                        except ConnectionClosed:
                            pass
                else:
                    await self.error(ws, "unknown_type", f"no route for {kind}")
        except ConnectionClosed:
            pass  # the client left (or sent too much: websockets closed with 1009 itself)
        finally:
            self.connections.discard(ws)


AGENT_NAME = "TestChatAgent"


async def main():
    global AGENT_NAME
    parser = argparse.ArgumentParser()
    parser.add_argument("--token")
    parser.add_argument("--break", dest="broken", choices=["echo", "order", "errors", "seq-string", "no-tool-name"])
    parser.add_argument("--agent-name", default=AGENT_NAME)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    args = parser.parse_args()
    AGENT_NAME = args.agent_name
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
    agent = Agent(args.token, args.broken)
    async with serve(agent.handle, "127.0.0.1", 0, process_request=agent.process_request, max_size=MAX_SIZE,
                     ssl=context) as server:
        port = server.sockets[0].getsockname()[1]
        scheme = "wss" if context else "ws"
        print(f"listening on {scheme}://127.0.0.1:{port}/ws", flush=True)
        stop = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
