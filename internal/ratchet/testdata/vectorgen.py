#!/usr/bin/env python3
"""Independent reference of the cairn Double Ratchet wire format.

Written from docs/PROTOCOL.md (not from the Go code) with the `cryptography`
package; writes vectors.json, which vectors_test.go checks the Go
implementation against. Run: python3 vectorgen.py > vectors.json
"""
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ROOT_INFO = b"cairn-ratchet-root-v1"


def pub(priv: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def dh(priv: bytes, remote: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(remote))


def kdf_rk(rk: bytes, dh_out: bytes):
    out = HKDF(algorithm=hashes.SHA256(), length=64, salt=rk, info=ROOT_INFO).derive(dh_out)
    return out[:32], out[32:]


def kdf_ck(ck: bytes):
    return hmac.new(ck, b"\x01", hashlib.sha256).digest(), hmac.new(ck, b"\x02", hashlib.sha256).digest()


def seal(mk: bytes, dh_pub: bytes, pn: int, n: int, pt: bytes, ad: bytes) -> bytes:
    header = dh_pub + struct.pack(">II", pn, n)
    return header + ChaCha20Poly1305(mk).encrypt(b"\x00" * 12, pt, header + ad)


def h(n: int) -> bytes:
    """Deterministic test bytes: SHA-256 of a label."""
    return hashlib.sha256(b"cairn ratchet vector %d" % n).digest()


sk = h(0)
bob0, alice0, bob1, alice1 = h(1), h(2), h(3), h(4)
ad = b"cairn session 1"
msgs = []

# Alice (initiator): first DH step against Bob's handshake ratchet key.
rk, cks_a = kdf_rk(sk, dh(alice0, pub(bob0)))
for n, pt in enumerate([b"hello bob", b"second"]):
    mk, cks_a = kdf_ck(cks_a)
    msgs.append({"from": "alice", "plaintext": pt.hex(), "message": seal(mk, pub(alice0), 0, n, pt, ad).hex()})
ns_a = 2

# Bob receives: DH ratchet step, generates bob1, replies.
rk_b, ckr_b = kdf_rk(sk, dh(bob0, pub(alice0)))
rk_b, cks_b = kdf_rk(rk_b, dh(bob1, pub(alice0)))
mk, cks_b = kdf_ck(cks_b)
pt = b"hi alice"
msgs.append({"from": "bob", "plaintext": pt.hex(), "message": seal(mk, pub(bob1), 0, 0, pt, ad).hex()})

# Alice receives: DH ratchet step, generates alice1, sends with PN = 2.
rk, ckr_a = kdf_rk(rk, dh(alice0, pub(bob1)))
rk, cks_a = kdf_rk(rk, dh(alice1, pub(bob1)))
mk, cks_a = kdf_ck(cks_a)
pt = b""
msgs.append({"from": "alice", "plaintext": pt.hex(), "message": seal(mk, pub(alice1), ns_a, 0, pt, ad).hex()})

print(json.dumps({
    "sk": sk.hex(),
    "bob_handshake_ratchet_private": bob0.hex(),
    "alice_random": [alice0.hex(), alice1.hex()],
    "bob_random": [bob1.hex()],
    "ad": ad.hex(),
    "messages": msgs,
}, indent=2))
