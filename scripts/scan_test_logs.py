#!/usr/bin/env python3
"""Scan the logs a test run produced for the secrets its tests used.

    scripts/scan_test_logs.py LOG_DIR

The tests record every secret they hand to a server (API keys, passphrases, HSM PINs,
plaintexts) in LOG_DIR/secrets.txt (TestSecrets.record); live servers write their logs to
LOG_DIR/*.log, and scripts/test.sh keeps the whole `swift test` output in
LOG_DIR/swift-test.log. Any secret found in any log fails the run. The secret itself is never
printed, only which log and which recorded entry (its line number in secrets.txt).

A scan that saw nothing proves nothing, so too few secrets or logs is a failure too.
"""
import base64
import pathlib
import sys


def json_escaped(text: str) -> str:
    import json
    return json.dumps(text)[1:-1]


def main() -> int:
    directory = pathlib.Path(sys.argv[1])
    secrets_file = directory / "secrets.txt"
    secrets = []
    if secrets_file.exists():
        secrets = [line for line in secrets_file.read_text(encoding="utf-8").splitlines() if len(line) >= 8]
    logs = sorted(path for path in directory.glob("*.log"))
    server_logs = [path for path in logs if path.name.startswith("coffer-server-")]
    if len(set(secrets)) < 10 or len(server_logs) < 5:
        print(f"secret scan: only {len(set(secrets))} secrets and {len(server_logs)} server logs recorded; the live tests did not run with "
              "COFFER_TEST_LOG_DIR/COFFER_TEST_SECRETS_FILE set", file=sys.stderr)
        return 1
    # Each secret as given and in the encodings it could reach a log in.
    needles = []
    for number, secret in enumerate(secrets, start=1):
        raw = secret.encode()
        forms = {secret, raw.hex(), json_escaped(secret)}
        # Base64 at each of the three byte offsets it can start at inside a larger encoded body
        # (dropping the characters that depend on the neighbours), standard and url alphabets.
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
            start = (offset * 4 + 2) // 3
            inner = encoded[start:len(encoded) - 2]
            forms.update({inner, inner.replace("+", "-").replace("/", "_")})
        needles.extend((number, form) for form in forms if len(form) >= 8)
    found = 0
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        for number, form in needles:
            if form in text:
                found += 1
                print(f"secret scan: recorded secret #{number} appears in {log.name}", file=sys.stderr)
    if found:
        return 1
    print(f"secret scan: {len(set(secrets))} secrets, {len(logs)} logs ({len(server_logs)} from live servers): none found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
