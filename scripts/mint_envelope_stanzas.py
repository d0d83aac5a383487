"""Mints the HPKE stanza bodies fixed in Sources/CofferVectors/main.swift (run once; output pasted there).

HPKE encapsulation is randomized and swift-crypto offers no deterministic sender, so the published
recipient-envelope vectors take their HPKE stanzas as fixed inputs. They are made here by an
independent HPKE implementation (Python `cryptography`, OpenSSL/Rust), which makes each vector a
cross-implementation check as well: a stanza sealed by another library opens in Coffer.

    python3 scripts/mint_envelope_stanzas.py DATAKEY_HEX X25519_PRIVATE_HEX XWING_SEED_HEX

X-Wing private keys are 32-byte seeds; per draft-connolly-cfrg-xwing-kem the seed expands with
SHAKE-256 to 96 bytes: the ML-KEM-768 seed (d || z, 64 bytes) then the X25519 private key (32).
"""
import hashlib
import sys

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519


def main():
    data_key, x25519_private, xwing_seed = (bytes.fromhex(a) for a in sys.argv[1:4])
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    x_key = x25519.X25519PrivateKey.from_private_bytes(x25519_private)
    x_body = suite.encrypt(data_key, x_key.public_key(), info=b"coffer/v1/stream-x25519-stanza")
    assert suite.decrypt(x_body, x_key, info=b"coffer/v1/stream-x25519-stanza") == data_key

    expanded = hashlib.shake_256(xwing_seed).digest(96)
    w_key = hpke.MLKEM768X25519PrivateKey(
        mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
        x25519.X25519PrivateKey.from_private_bytes(expanded[64:]))
    w_suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
    w_body = w_suite.encrypt(data_key, w_key.public_key(), info=b"coffer/v1/stream-xwing-stanza")
    assert w_suite.decrypt(w_body, w_key, info=b"coffer/v1/stream-xwing-stanza") == data_key

    print("x25519", x_body.hex())
    print("xwing", w_body.hex())


if __name__ == "__main__":
    main()
