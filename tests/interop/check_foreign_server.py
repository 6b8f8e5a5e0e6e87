"""`ws-test check` against a server written in Python (tests/interop/protocol_server.py).

Usage: python3 tests/interop/check_foreign_server.py PATH_TO_WS_TEST

The faithful server must pass every check; each broken variant must fail with exit 1, naming the check.
"""

import subprocess
import sys

SERVER = "tests/interop/protocol_server.py"


def check(binary, server_args, check_args=()):
    server = subprocess.Popen([sys.executable, SERVER, *server_args], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"the Python server did not start: {line!r}")
        url = line.removeprefix("listening on ")
        # --concurrency is the chat suite's; a contract check has no such check and refuses it.
        concurrency = [] if "--asyncapi" in check_args else ["--concurrency", "20"]
        result = subprocess.run([binary, "check", url, "--timeout", "2s", *concurrency, *check_args],
                                capture_output=True, text=True, timeout=120)
        return result.returncode, result.stdout + result.stderr
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    binary = sys.argv[1]
    code, output = check(binary, [])
    print(output)
    if code != 0:
        raise SystemExit("ws-test check failed against the faithful Python server")
    code, output = check(binary, ["--token", "py-secret"], ["--token", "py-secret"])
    if code != 0 or "PASS  auth_refused" not in output:
        print(output)
        raise SystemExit("ws-test check failed against the Python server with a token")
    for broken, failing in [("echo", "FAIL  echo"), ("order", "FAIL  critical_events"),
                            ("errors", "FAIL  error_missing_type")]:
        code, output = check(binary, ["--break", broken])
        if code != 1 or failing not in output:
            print(output)
            raise SystemExit(f"--break {broken}: expected exit 1 and {failing!r}, got exit {code}")
        print(f"broken server ({broken}): exit 1, {failing.split()[1]} named")
    # The same protocol as an AsyncAPI 3.0 contract: the faithful server conforms; a wrong field type or a missing
    # field fails, naming the JSON pointer in the frame, while the order of the events is right.
    contract = ["--asyncapi", "examples/asyncapi/chat.yaml"]
    code, output = check(binary, [], contract)
    print(output)
    if code != 0 or "4 passed, 0 failed" not in output:
        raise SystemExit("ws-test check --asyncapi failed against the faithful Python server")
    for broken, pointer, words in [("seq-string", "/seq", 'is not of type "integer"'),
                                   ("no-tool-name", "/tool_name", '"tool_name" is a required property')]:
        code, output = check(binary, ["--break", broken], contract)
        if code != 1 or "FAIL  chat " not in output or pointer not in output or words not in output:
            print(output)
            raise SystemExit(f"check --asyncapi, --break {broken}: expected exit 1 naming {pointer}, got exit {code}")
        print(f"broken server ({broken}) against the contract: exit 1, {pointer} named")
    # Events in the wrong order: the contract's x-ws-test-order: strict per run_id catches it.
    code, output = check(binary, ["--break", "order"], contract)
    if code != 1 or "out of order in run_id=" not in output:
        print(output)
        raise SystemExit(f"check --asyncapi, --break order: expected exit 1 naming the order, got exit {code}")
    print("broken server (order) against the contract: exit 1, the order named")
    print("interop: ws-test check passes a faithful Python server and names the check a broken one fails")


if __name__ == "__main__":
    main()
