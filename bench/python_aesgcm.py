"""Peer figure for coffer-bench: Python `cryptography` (OpenSSL) AES-256-GCM over 16 KiB chunks.

Prints one JSON object: {"seal_gbps": ..., "open_gbps": ..., "fernet_...": ...}. Run by
`swift run -c release coffer-bench`, which passes the size in MiB and the repeat count.
"""
import json
import os
import sys
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main():
    size_mib = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    chunk = 16 * 1024
    data = memoryview(bytes(size_mib * 1024 * 1024))
    aead = AESGCM(os.urandom(32))
    nonce = os.urandom(12)
    sealed = [aead.encrypt(nonce, data[off:off + chunk], None) for off in range(0, len(data), chunk)]

    seal_times, open_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        for off in range(0, len(data), chunk):
            aead.encrypt(nonce, data[off:off + chunk], None)
        seal_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        for box in sealed:
            aead.decrypt(nonce, box, None)
        open_times.append(time.perf_counter() - start)
    gb = len(data) / 1e9
    print(json.dumps({"seal_gbps": gb / median(seal_times), "open_gbps": gb / median(open_times)}))


if __name__ == "__main__":
    main()
