"""HAR files between headless Chromium's DevTools and ws-test (issue 38), end to end.

Usage: python3 tests/browser/har_chromium.py PATH_TO_WS_TEST [--save-fixture FILE]

A page served over HTTP talks to `ws-test serve` (the chat agent, at /agent with the subprotocol chat.v1 and a
query): it sends a chat message, awaits the five events, sends a binary frame (the agent answers with an error
event) and closes. Chromium's own DevTools front end (devtools://devtools/bundled/devtools_app.html, attached to the
page) logs the traffic, and its own HAR writer (models/har: Log.build, what "Save all as HAR" calls) saves it. Then:

1. `ws-test serve --replay session.har` (no --path, no --subprotocol: the HAR's entry gives both) answers the same
   page with the same frames;
2. `ws-test expect session.har` turns it into an expectation naming the events;
3. `ws-test bench URL --scenario session.har` plays it against the live agent (a URL without a path takes the
   entry's path and query);
4. `ws-test record --har out.har` between the page and the agent writes a HAR that DevTools' own importer
   (models/har: HARRoot, Importer.requestsFromHARLog, what "Import HAR file" calls) reads back, frame for frame.

Nothing here is ws-test's: the browser, its DevTools front end, and the page's WebSocket are Chromium's. Every wait
has a deadline and says what it awaited.
"""

import asyncio
import base64
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time

from websockets.asyncio.client import connect

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or shutil.which("chromium-browser") or "chromium")
DEADLINE = 30.0

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>ws-test HAR page</title>
<script>
window.result = null;
const url = new URLSearchParams(location.search).get("ws");
const received = [];
const ws = new WebSocket(url, ["chat.v1"]);
ws.binaryType = "arraybuffer";
ws.onmessage = (message) => {
  const event = JSON.parse(message.data);
  received.push(event.type);
  if (event.type === "connection_established") {
    ws.send(JSON.stringify({type: "chat_message", content: "hello from Chromium"}));
  } else if (event.type === "agent_completed") {
    ws.send(new Uint8Array([0xde, 0xad, 0xbe, 0xef]));
  } else if (event.type === "error") {
    ws.close(1000, "done");
  }
};
ws.onclose = (close) => { window.result = {received, code: close.code, protocol: ws.protocol}; };
ws.onerror = () => { received.push("(error)"); };
</script>
"""

EXPECTED = [
    "connection_established",
    "agent_started",
    "agent_thinking",
    "tool_executing",
    "tool_completed",
    "agent_completed",
    "error",
]


def fail(message):
    raise SystemExit(f"har_chromium: {message}")


class Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def page_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Page)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def start(command):
    """A ws-test command that prints `listening on URL` first."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline().strip()
    if not line.startswith("listening on "):
        process.kill()
        fail(f"{' '.join(command[1:3])} did not start: {line!r} {process.stderr.read()}")
    return process, line.removeprefix("listening on ")


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


class Browser:
    """Headless Chromium over the DevTools protocol (one browser-wide connection, flat sessions)."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="ws-test-chromium-")
        self.process = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--remote-debugging-port=0", "--remote-allow-origins=devtools://devtools",
                f"--user-data-dir={self.profile}", "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + DEADLINE
        while not (os.path.exists(port_file) and len(open(port_file).read().split()) >= 2):
            if time.monotonic() > deadline or self.process.poll() is not None:
                fail(f"{CHROMIUM} did not open its DevTools port within {DEADLINE}s")
            time.sleep(0.05)
        port, path = open(port_file).read().split()[:2]
        self.port = int(port)
        self.endpoint = f"ws://127.0.0.1:{port}{path}"
        self.next_id = 0

    async def __aenter__(self):
        self.socket = await connect(self.endpoint, max_size=None)
        return self

    async def __aexit__(self, *exc):
        await self.socket.close()
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method, params=None, session=None):
        self.next_id += 1
        mine = self.next_id
        message = {"id": mine, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        await self.socket.send(json.dumps(message))

        async def reply():
            while True:
                answer = json.loads(await self.socket.recv())
                if answer.get("id") == mine:
                    return answer

        answer = await asyncio.wait_for(reply(), DEADLINE)
        if "error" in answer:
            fail(f"{method} failed: {answer['error']}")
        return answer["result"]

    async def open(self, url):
        """A new tab at `url` and a session attached to it."""
        target = (await self.call("Target.createTarget", {"url": url}))["targetId"]
        session = (await self.call("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        return target, session

    async def evaluate(self, session, expression):
        result = await self.call(
            "Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True}, session
        )
        if "exceptionDetails" in result:
            fail(f"evaluating {expression[:80]!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, session, expression, what):
        """Polls `expression` until it is truthy; the deadline names `what` and the last value."""
        deadline = time.monotonic() + DEADLINE
        value = None
        while time.monotonic() < deadline:
            value = await self.evaluate(session, expression)
            if value:
                return value
            await asyncio.sleep(0.05)
        fail(f"timed out after {DEADLINE}s waiting for {what}; the last value was {value!r}")


async def run_page(browser, page_url, ws_url):
    """Loads the page against `ws_url` in a new tab; what it received and how it closed."""
    _, session = await browser.open("about:blank")
    await browser.call("Page.navigate", {"url": f"{page_url}?ws={ws_url}"}, session)
    result = await browser.until(session, "window.result", f"the page talking to {ws_url} to finish")
    return result


async def capture_har(browser, page_url, ws_url):
    """The page's traffic as Chromium's DevTools save it: the front end attached to the tab, its HAR writer."""
    target, page = await browser.open("about:blank")
    front_end = f"devtools://devtools/bundled/devtools_app.html?ws=127.0.0.1:{browser.port}/devtools/page/{target}"
    _, devtools = await browser.open(front_end)
    await browser.until(
        devtools,
        "import('./core/sdk/sdk.js').then(SDK => SDK.TargetManager.TargetManager.instance().targets().length > 0)",
        "DevTools to attach to the page",
    )
    await browser.call("Page.navigate", {"url": f"{page_url}?ws={ws_url}"}, page)
    result = await browser.until(page, "window.result", f"the page talking to {ws_url} to finish")
    frames = len(EXPECTED) + 2
    await browser.until(
        devtools,
        "import('./models/logs/logs.js').then(Logs => Logs.NetworkLog.NetworkLog.instance().requests()"
        f".some(request => request.frames().filter(frame => frame.type !== 'error').length >= {frames}))",
        f"DevTools' network log to hold the WebSocket's {frames} frames",
    )
    har = await browser.evaluate(
        devtools,
        """(async () => {
            const Logs = await import('./models/logs/logs.js');
            const HAR = await import('./models/har/har.js');
            const requests = Logs.NetworkLog.NetworkLog.instance().requests();
            const log = await HAR.Log.Log.build(requests, {sanitize: false});
            return JSON.stringify({log}, null, 2);
        })()""",
    )
    return result, har


async def import_har(browser, har_text):
    """What DevTools' "Import HAR file" makes of `har_text`: each request's URL, type and frames."""
    _, devtools = await browser.open("devtools://devtools/bundled/devtools_app.html")
    await browser.until(devtools, "import('./models/har/har.js').then(() => true)", "DevTools' HAR module to load")
    return await browser.evaluate(
        devtools,
        f"""(async () => {{
            const HAR = await import('./models/har/har.js');
            const root = new HAR.HARFormat.HARRoot(JSON.parse({json.dumps(har_text)}));
            return HAR.Importer.Importer.requestsFromHARLog(root.log).map(request => ({{
                url: request.url(),
                type: request.resourceType().name(),
                status: request.statusCode,
                frames: request.frames().map(frame => ({{type: frame.type, opCode: frame.opCode, text: frame.text}})),
            }}));
        }})()""",
    )


def ws_test(binary, *args):
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


async def main():
    binary = sys.argv[1]
    fixture = sys.argv[sys.argv.index("--save-fixture") + 1] if "--save-fixture" in sys.argv else None
    directory = tempfile.mkdtemp(prefix="ws-test-har-")
    har_path = os.path.join(directory, "session.har")
    pages, page_url = page_server()
    live, live_url = start([binary, "serve", "--path", "/agent", "--subprotocol", "chat.v1"])
    try:
        async with Browser() as browser:
            ws_url = f"{live_url}?room=a"
            result, har = await capture_har(browser, page_url, ws_url)
            if result["received"] != EXPECTED or result["protocol"] != "chat.v1" or result["code"] != 1000:
                fail(f"the page against the live agent got {result}, expected {EXPECTED} over chat.v1, closed 1000")
            with open(har_path, "w") as out:
                out.write(har)
            if fixture:
                shutil.copy(har_path, fixture)
            saved = json.loads(har)
            websockets = [entry for entry in saved["log"]["entries"] if entry.get("_resourceType") == "websocket"]
            if len(websockets) != 1 or len(saved["log"]["entries"]) < 2:
                fail(f"DevTools saved {len(saved['log']['entries'])} entries, {len(websockets)} WebSocket(s)")
            print(f"DevTools saved a HAR of {len(saved['log']['entries'])} entries, "
                  f"{len(websockets[0]['_webSocketMessages'])} WebSocket messages")

            # 1. The HAR replayed to the same page: its path, query and subprotocol from the entry.
            replay, replay_url = start([binary, "serve", "--replay", har_path])
            try:
                if not replay_url.endswith("/agent"):
                    fail(f"the replay of the HAR serves at {replay_url}, not at the entry's path /agent")
                replayed = await run_page(browser, page_url, f"{replay_url}?room=a")
            finally:
                stop(replay)
            if replayed != result:
                fail(f"the replay gave the page {replayed}, the live agent {result}")
            print(f"ws-test serve --replay session.har gave the page the same {len(EXPECTED)} events over chat.v1")

            # 2. The HAR as an expectation.
            code, out, err = ws_test(binary, "expect", har_path)
            if code != 0 or not all(f'"{event}"' in out for event in EXPECTED[1:6]):
                fail(f"ws-test expect session.har exited {code}: {out}{err}")
            print("ws-test expect session.har:\n" + out.strip())

            # 3. The HAR as a bench scenario against the live agent (the URL without a path takes the entry's).
            authority = live_url.removesuffix("/agent")
            code, out, err = ws_test(
                binary, "bench", authority, "--scenario", har_path, "--connections", "2", "--rounds", "3", "--json"
            )
            if code != 0:
                fail(f"ws-test bench --scenario session.har exited {code}: {out}{err}")
            report = json.loads(out)
            if not report["passed"] or report["errors"] or report["iterations"] != 6 or not report["url"].endswith(
                "/agent?room=a"
            ):
                fail(f"ws-test bench --scenario session.har reported {out}")
            print(
                f"ws-test bench {authority} --scenario session.har: {report['iterations']} sessions at "
                f"{report['url']}, 0 errors, p50 {report['latency_us']['p50']} us"
            )

            # 4. ws-test record --har, opened by DevTools' own importer.
            out_har = os.path.join(directory, "out.har")
            recorder, recorder_url = start(
                [binary, "record", "--upstream", live_url, "--har", out_har, "--sessions", "1"]
            )
            try:
                recorded = await run_page(browser, page_url, f"{recorder_url}?room=a")
                recorder.wait(timeout=DEADLINE)
            finally:
                stop(recorder)
            if recorded != result:
                fail(f"through the recorder the page got {recorded}, directly {result}")
            with open(out_har) as written:
                written_text = written.read()
            imported = await import_har(browser, written_text)
            sockets = [request for request in imported if request["type"] == "websocket"]
            if len(sockets) != 1:
                fail(f"DevTools imported {imported} from ws-test record --har: expected one WebSocket")
            frames = sockets[0]["frames"]
            received = [json.loads(frame["text"])["type"] for frame in frames if frame["type"] == "receive"]
            sent = [frame for frame in frames if frame["type"] == "send"]
            binary_frames = [frame for frame in sent if frame["opCode"] == 2]
            if received != EXPECTED or len(sent) != 2 or len(binary_frames) != 1:
                fail(f"DevTools read the recorded HAR's frames as {frames}")
            if base64.b64decode(binary_frames[0]["text"]) != bytes([0xDE, 0xAD, 0xBE, 0xEF]):
                fail(f"the binary frame came back from DevTools as {binary_frames[0]}")
            if sockets[0]["status"] != 101 or "room=a" not in sockets[0]["url"]:
                fail(f"DevTools imported the recorded entry as {sockets[0]['url']} {sockets[0]['status']}")
            print(f"DevTools imported ws-test record --har: {sockets[0]['url']}, {len(frames)} frames, "
                  f"{len(received)} received, the binary one intact")

            # And DevTools reads its own HAR back, the same way.
            own = await import_har(browser, har)
            if not any(request["type"] == "websocket" and len(request["frames"]) == len(frames) for request in own):
                fail(f"DevTools did not import its own HAR's WebSocket: {own}")
    finally:
        stop(live)
        pages.shutdown()
        shutil.rmtree(directory, ignore_errors=True)
    print("har_chromium: ok")


if __name__ == "__main__":
    asyncio.run(main())
