"""`wss://` against a TLS server not written on ws-test: Python `websockets` with Python's `ssl`, serving (1) a
certificate that a private CA (made here with the `openssl` command) signed, as a company's staging would, and (2)
the certificate people make in one line, `openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem
-subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost` (OpenSSL marks it CA:TRUE), given to the
clients as is.

Usage: python3 tests/interop/tls_foreign_server.py PATH_TO_WS_TEST

- `ws-test check wss://... --ca-cert ca.pem` (or cert.pem) passes every check; without `--ca-cert` it exits 2
  with a sentence naming the certificate's problem.
- `WS_TEST_URL=wss://... SSL_CERT_FILE=ca.pem cargo test` runs the example workspace's `#[ws_test]` suite (two
  crates, one profile) against it, unchanged; without `SSL_CERT_FILE` the same suite fails saying the
  certificate is not trusted.
"""

import os
import subprocess
import sys
import tempfile

SERVER = "tests/interop/protocol_server.py"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def private_ca(directory):
    """ca.pem (the CA clients trust), chain.pem (server certificate, then the CA's) and key.pem."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "2", "-subj", "/CN=ws-test interop CA",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=directory)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=localhost", cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w") as extensions:
        extensions.write("basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
                         "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=directory)
    with open(os.path.join(directory, "chain.pem"), "w") as chain:
        for part in ("server.pem", "ca.pem"):
            with open(os.path.join(directory, part)) as pem:
                chain.write(pem.read())
    return [os.path.join(directory, name) for name in ("ca.pem", "chain.pem", "key.pem")]


def run(command, env=None, timeout=600):
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    return result.returncode, result.stdout + result.stderr


def one_line_certificate(directory):
    """The issue's one-liner, exactly: cert.pem (what clients are given) and key.pem."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out", "cert.pem",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", cwd=directory)
    cert = os.path.join(directory, "cert.pem")
    return cert, cert, os.path.join(directory, "key.pem")


def exercise(binary, trusted, chain, key, refusal, label):
    """check with --ca-cert (0) and without (2, naming `refusal`), then the example workspace's suite with
    WS_TEST_URL and SSL_CERT_FILE (passes) and without SSL_CERT_FILE (fails naming `refusal`)."""
    server = subprocess.Popen([sys.executable, SERVER, "--tls", chain, key, "--agent-name", "AcmeAssistant"],
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on wss://"):
            raise SystemExit(f"the Python TLS server did not start: {line!r}")
        url = line.removeprefix("listening on ")

        code, output = run([binary, "check", url, "--ca-cert", trusted, "--timeout", "2s", "--concurrency", "20"])
        print(output)
        if code != 0:
            raise SystemExit(f"{label}: ws-test check --ca-cert failed against the Python TLS server (exit {code})")
        code, output = run([binary, "check", url, "--timeout", "2s"])
        if code != 2 or "TLS with 127.0.0.1 failed" not in output or refusal not in output:
            print(output)
            raise SystemExit(f"{label}: without --ca-cert: expected exit 2 naming {refusal}, got {code}")
        print(f"{label}: without --ca-cert: exit 2, {output.strip().splitlines()[-1]}")

        suite = ["cargo", "test", "--manifest-path", "examples/workspace/Cargo.toml"]
        env = dict(os.environ, WS_TEST_URL=url, SSL_CERT_FILE=trusted)
        env.setdefault("CARGO_TARGET_DIR", os.path.join(os.getcwd(), "target"))
        env.pop("STAGING_WS_URL", None)
        code, output = run(suite, env)
        passed = sum(int(part.split()[0]) for part in output.split("test result: ok. ")[1:])
        if code != 0 or passed == 0:
            print(output)
            raise SystemExit(f"{label}: WS_TEST_URL={url} SSL_CERT_FILE=... cargo test failed (exit {code})")
        print(f"{label}: WS_TEST_URL={url} SSL_CERT_FILE: the example workspace's {passed} #[ws_test] tests passed")
        env.pop("SSL_CERT_FILE")
        code, output = run(suite, env)
        if code == 0 or refusal not in output:
            print(output)
            raise SystemExit(f"{label}: without SSL_CERT_FILE the suite should fail naming {refusal}")
        print(f"{label}: without SSL_CERT_FILE: the suite fails, naming {refusal}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as directory:
        exercise(binary, *private_ca(directory), "UnknownIssuer", "private CA")
    with tempfile.TemporaryDirectory() as directory:
        exercise(binary, *one_line_certificate(directory), "CaUsedAsEndEntity", "openssl req -x509 one-liner")
    print("interop: ws-test reaches a foreign wss:// server through --ca-cert and SSL_CERT_FILE, and refuses it without")


if __name__ == "__main__":
    main()
