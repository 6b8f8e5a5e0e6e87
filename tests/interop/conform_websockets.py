"""`ws-test conform` with Python websockets on both sides: its echo server graded by `ws-test conform URL`, and its
own Autobahn client harness (tests/interop/websockets_autobahn_client.py) graded by `ws-test conform --serve`.

Usage: python3 tests/interop/conform_websockets.py PATH_TO_WS_TEST

websockets documents one case it fails under Autobahn (compliance/README.rst): 7.1.5, where it answers a close in the
middle of a fragmented message with 1002 instead of 1000 (WRONG CODE). ws-test must give exactly that verdict and no
other failure. Its default limit of 4096 fragments per message (WEBSOCKETS_MAX_FRAGMENTS) is raised, as the 9.3 and
9.4 cases send up to 65536; categories 12 and 13 (permessage-deflate, which websockets agrees to) run on their first
sizes, which every offer/accept pair of 13.x covers, to keep CI short.
"""

import json
import os
import subprocess
import sys
import time

# Autobahn's patterns match from the start of an id (12.*.1 would take 12.4.11 too): the compressed cases by id.
CASES = ",".join(["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.1.*", "9.2.*", "9.3.*", "9.4.*", "9.5.1", "9.6.1",
                  "9.7.1", "9.8.1", "10.*"]
                 + [f"12.{data}.{size}" for data in range(1, 6) for size in (1, 2)]
                 + [f"13.{params}.{size}" for params in range(1, 8) for size in (1, 2)])
DOCUMENTED = {"7.1.5": ("FAILED", "WRONG CODE", 1002)}

SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
from websockets.exceptions import WebSocketException

async def echo(ws):
    try:
        async for msg in ws:
            await ws.send(msg)
    except WebSocketException:
        pass

async def main():
    async with serve(echo, "127.0.0.1", 0, server_header="websockets.asyncio", max_size=2**25) as server:
        print(f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
        await server.serve_forever()

asyncio.run(main())
"""


def environment():
    env = dict(os.environ)
    env["WEBSOCKETS_MAX_FRAGMENTS"] = "100000"
    return env


def verdicts(index, agent):
    return {case: (v["behavior"], v["behaviorClose"], v["remoteCloseCode"]) for case, v in index[agent].items()}


def judge(what, cases, declined=()):
    """`declined`: the 13.x groups whose accept needs an offer parameter the peer does not send, which Autobahn's
    fuzzing server then declines (UNIMPLEMENTED)."""
    failed = {case: verdict for case, verdict in cases.items()
              if verdict[0] == "FAILED" or verdict[1] in ("FAILED", "WRONG CODE", "UNCLEAN")}
    compressed = [case for case in cases if case.startswith(("12.", "13."))]
    wrong = {case: cases[case] for case in compressed
             if cases[case][0] != ("UNIMPLEMENTED" if case.rsplit(".", 1)[0] in declined else "OK")}
    if wrong:
        raise SystemExit(f"{what}: permessage-deflate cases with the wrong verdict: {wrong}")
    if failed != DOCUMENTED:
        raise SystemExit(f"{what}: expected exactly the documented failure {DOCUMENTED}, got {failed}")
    print(f"{what}: {len(cases)} cases, {len(compressed)} of them compressed, no failure but the documented "
          f"7.1.5 {failed['7.1.5']}")


def grade_server(binary):
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True, env=environment())
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("ws://"):
            raise SystemExit(f"the websockets server did not start: {url!r}")
        started = time.monotonic()
        result = subprocess.run([binary, "conform", url, "--cases", CASES, "--json"], capture_output=True, text=True,
                                timeout=900)
        if result.returncode != 1:
            raise SystemExit(f"conform against websockets: expected exit 1 (7.1.5), got {result.returncode}\n"
                             f"{result.stdout}\n{result.stderr}")
        judge(f"the websockets server graded in {time.monotonic() - started:.0f} s",
              verdicts(json.loads(result.stdout), "websockets.asyncio"))
    finally:
        server.terminate()
        server.wait(timeout=10)


def grade_client(binary):
    serve = subprocess.Popen([binary, "conform", "--serve", "--bind", "127.0.0.1:0", "--cases", CASES, "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = serve.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"conform --serve did not start: {line!r}")
        started = time.monotonic()
        harness = subprocess.run([sys.executable, "tests/interop/websockets_autobahn_client.py",
                                  line.removeprefix("listening on ")],
                                 capture_output=True, text=True, timeout=900, env=environment())
        if harness.returncode != 0:
            raise SystemExit(f"websockets' harness failed:\n{harness.stdout}\n{harness.stderr}")
        stdout, stderr = serve.communicate(timeout=60)
        if serve.returncode != 1:
            raise SystemExit(f"conform --serve: expected exit 1 (7.1.5), got {serve.returncode}\n{stdout}\n{stderr}")
        # websockets' client offers `permessage-deflate; client_max_window_bits` without client_no_context_takeover:
        # the accepts of 13.2, 13.5 and 13.6 need it, so they decline, as Autobahn's do.
        judge(f"the websockets client graded in {time.monotonic() - started:.0f} s",
              verdicts(json.loads(stdout), "websockets.asyncio"), declined=("13.2", "13.5", "13.6"))
    finally:
        serve.kill()
        serve.wait(timeout=10)


def main():
    binary = sys.argv[1]
    grade_server(binary)
    grade_client(binary)
    print("interop: websockets' server and its own Autobahn client harness get Autobahn's verdicts from ws-test conform")


if __name__ == "__main__":
    main()
