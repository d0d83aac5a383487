"""Peer figures for coffer-bench: Python `cryptography`'s Fernet on the same machine, same run.

Prints one JSON object: {"encrypt_ops": ..., "decrypt_ops": ..., "encrypt_gbps": ...,
"decrypt_gbps": ...}: 1 KiB messages (operations per second) and one 64 MiB message (GB/s of
plaintext). Run by `swift run -c release coffer-bench`, which passes the repeat count.
"""
import json
import os
import sys
import time

from cryptography.fernet import Fernet


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def rate(count, body, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return count / median(times)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    ops = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    fernet = Fernet(Fernet.generate_key())

    small = os.urandom(1024)
    small_token = fernet.encrypt(small)

    def encrypt_small():
        for _ in range(ops):
            fernet.encrypt(small)

    def decrypt_small():
        for _ in range(ops):
            fernet.decrypt(small_token)

    big = os.urandom(64 * 1024 * 1024)
    big_token = fernet.encrypt(big)
    gb = len(big) / 1e9
    print(json.dumps({
        "encrypt_ops": rate(ops, encrypt_small, repeats),
        "decrypt_ops": rate(ops, decrypt_small, repeats),
        "encrypt_gbps": rate(gb, lambda: fernet.encrypt(big), repeats),
        "decrypt_gbps": rate(gb, lambda: fernet.decrypt(big_token), repeats),
    }))


if __name__ == "__main__":
    main()
