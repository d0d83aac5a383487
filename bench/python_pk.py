"""Peer figures for `coffer-bench pk`: Python `cryptography`'s HPKE and RSA-OAEP on the same machine,
same run, doing what one Coffer recipient stanza does: seal a 32-byte key to a public key, open it.

- HPKE base mode, single shot (`Suite.encrypt` / `Suite.decrypt`), with Coffer's suites and info
  strings: DHKEM(X25519, HKDF-SHA256) and X-Wing (`KEM.MLKEM768_X25519`), each with HKDF-SHA256 and
  AES-256-GCM. Output is `enc || ciphertext`, exactly a Coffer stanza body.
- RSA-OAEP with SHA-256 and MGF1-SHA-256, empty label, 2048/3072/4096-bit keys.

Prints one JSON object {"x25519_wrap": ops/s, "x25519_unwrap": ..., "xwing_wrap": ..., ...,
"rsa2048_wrap": ..., "rsa2048_unwrap": ..., ...}; a suite the installed version lacks is left out.
Arguments: repeats (default 3), seconds per measurement (default 0.5), and optionally one kind
(x25519, xwing, rsa2048, rsa3072, rsa4096) to measure only that one: coffer-bench runs the peer
once per kind, right after its own rows for that kind, so both sides of a ratio share the load.
"""
import json
import os
import sys
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def rate(body, repeats, seconds):
    """Median ops/s of `repeats` runs of n calls, n calibrated so one run takes about `seconds`."""
    n = 1
    while True:
        start = time.perf_counter()
        for _ in range(n):
            body()
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4:
            break
        n *= 2
    n = max(1, int(n * seconds / elapsed))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            body()
        times.append(time.perf_counter() - start)
    return n / median(times)


def main():
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    only = sys.argv[3] if len(sys.argv) > 3 else None
    key = os.urandom(32)
    out = {}

    try:
        from cryptography.hazmat.primitives import hpke
    except ImportError:
        hpke = None
    if hpke is not None:
        suites = [("x25519", hpke.KEM.X25519, b"coffer/v1/stream-x25519-stanza",
                   lambda: x25519.X25519PrivateKey.generate())]
        try:
            from cryptography.hazmat.primitives.asymmetric import mlkem
            suites.append(("xwing", hpke.KEM.MLKEM768_X25519, b"coffer/v1/stream-xwing-stanza",
                           lambda: hpke.MLKEM768X25519PrivateKey(
                               mlkem.MLKEM768PrivateKey.generate(), x25519.X25519PrivateKey.generate())))
        except (ImportError, AttributeError):
            pass
        for name, kem, info, generate in suites:
            if only is not None and only != name:
                continue
            suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
            private = generate()
            public = private.public_key()
            sealed = suite.encrypt(key, public, info=info)
            assert suite.decrypt(sealed, private, info=info) == key
            out[f"{name}_wrap"] = rate(lambda: suite.encrypt(key, public, info=info), repeats, seconds)
            out[f"{name}_unwrap"] = rate(lambda: suite.decrypt(sealed, private, info=info), repeats, seconds)

    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    for bits in (2048, 3072, 4096):
        if only is not None and only != f"rsa{bits}":
            continue
        private = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        public = private.public_key()
        sealed = public.encrypt(key, oaep)
        assert private.decrypt(sealed, oaep) == key
        out[f"rsa{bits}_wrap"] = rate(lambda: public.encrypt(key, oaep), repeats, seconds)
        out[f"rsa{bits}_unwrap"] = rate(lambda: private.decrypt(sealed, oaep), repeats, seconds)

    print(json.dumps(out))


if __name__ == "__main__":
    main()
