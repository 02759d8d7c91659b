#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Expected values for auth_ut.c, computed independently of OpenSSL's EVP
code paths with Python's hashlib and hmac, straight from the formulas of
NVMe Base 2.0 section 8.13.5 (DH-HMAC-CHAP) and NVMe/TCP 1.1 section 3.6.1
(TLS PSKs). Its output is vectors.h: python3 make-vectors.py > vectors.h
"""
import base64
import hashlib
import hmac
import struct

HOSTNQN = b"nqn.2014-08.org.nvmexpress:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
SUBNQN = b"nqn.2016-06.io.spdk:cnode1"
HASHES = {0: None, 1: "sha256", 2: "sha384", 3: "sha512"}


def key_bytes(n, start):
    return bytes((start + i) & 0xff for i in range(n))


def h(hash_id, data):
    return hashlib.new(HASHES[hash_id], data).digest()


def mac(hash_id, key, data):
    return hmac.new(key, data, HASHES[hash_id]).digest()


def transform(hash_id, key, nqn):
    if hash_id == 0:
        return key
    return mac(hash_id, key, nqn + b"NVMe-over-Fabrics")


def augment(hash_id, shared, chal):
    return mac(hash_id, h(hash_id, shared), chal)


def response(hash_id, key, chal, seq, tid, scc, label, nqn1, nqn2):
    msg = chal + struct.pack("<IHB", seq, tid, scc) + label + nqn1 + b"\0" + nqn2
    return mac(hash_id, key, msg)


def hkdf_expand_label(hash_id, secret, label, context, length):
    """RFC 8446 section 7.1 over RFC 5869, salt of zeros (HKDF-Extract(0, secret))."""
    name = HASHES[hash_id]
    prk = hmac.new(bytes(hashlib.new(name).digest_size), secret, name).digest()
    full = b"tls13 " + label
    info = struct.pack(">H", length) + bytes([len(full)]) + full + bytes([len(context)]) + context
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), name).digest()
        okm += t
        i += 1
    return okm[:length]


def hkdf_compat(hash_id, secret, label, context, length):
    """libnvme up to 1.15: length little-endian, no length bytes before label or context."""
    name = HASHES[hash_id]
    prk = hmac.new(bytes(hashlib.new(name).digest_size), secret, name).digest()
    info = struct.pack("<H", length) + b"tls13 " + label + context
    okm, t, i = b"", b"", 1
    while len(okm) < length:
        t = hmac.new(prk, t + info + bytes([i]), name).digest()
        okm += t
        i += 1
    return okm[:length]


def psk_digest(hash_id, retained, hostnqn, subnqn):
    d = mac(hash_id, retained, hostnqn + b" " + subnqn + b" NVMe-over-Fabrics")
    return base64.b64encode(d)


def out(name, value):
    print('#define %s "%s"' % (name, value.hex() if isinstance(value, bytes) else value))


def chap_vectors():
    keys = {0: key_bytes(32, 0), 1: key_bytes(32, 0x20), 2: key_bytes(48, 0x40), 3: key_bytes(64, 0x80)}
    shared = bytes((7 * i + 3) & 0xff for i in range(256))
    for hid in (0, 1, 2, 3):
        out("KH_%d_HOST" % hid, transform(hid, keys[hid], HOSTNQN))
        out("KC_%d_SUB" % hid, transform(hid, keys[hid], SUBNQN))
    for hid in (1, 2, 3):
        n = hashlib.new(HASHES[hid]).digest_size
        chal = key_bytes(n, 0xc0)
        kh = transform(hid, keys[hid], HOSTNQN)
        kc = transform(hid, keys[hid], SUBNQN)
        out("AUG_%d" % hid, augment(hid, shared, chal))
        out("R1_%d" % hid, response(hid, kh, chal, 0x12345678, 0xabcd, 0, b"HostHost", HOSTNQN, SUBNQN))
        out("R2_%d" % hid, response(hid, kc, chal, 0x9abcdef0, 0x0001, 0, b"Controller", SUBNQN, HOSTNQN))
        aug = augment(hid, shared, chal)
        out("R1_AUG_SCC_%d" % hid,
            response(hid, kh, aug, 0xfffffffe, 0xffff, 1, b"HostHost", HOSTNQN, SUBNQN))


def psk_vectors():
    for hid in (1, 2):
        n = hashlib.new(HASHES[hid]).digest_size
        configured = key_bytes(n, 0x10 * hid)
        retained = hkdf_expand_label(hid, configured, b"HostNQN", HOSTNQN, n)
        retained_c = hkdf_compat(hid, configured, b"HostNQN", HOSTNQN, n)
        ident0 = b"NVMe0R%02d %s %s" % (hid, HOSTNQN, SUBNQN)
        digest = psk_digest(hid, retained, HOSTNQN, SUBNQN)
        digest_c = psk_digest(hid, retained_c, HOSTNQN, SUBNQN)
        ident1 = b"NVMe1R%02d %s %s %s" % (hid, HOSTNQN, SUBNQN, digest)
        ctx1 = b"%02d %s" % (hid, digest)
        ctx1_c = b"%02d %s" % (hid, digest_c)
        out("RETAINED_%d" % hid, retained)
        out("RETAINED_COMPAT_%d" % hid, retained_c)
        out("DIGEST_%d" % hid, digest.decode())
        out("DIGEST_COMPAT_%d" % hid, digest_c.decode())
        out("TLS_V0_%d" % hid, hkdf_expand_label(hid, retained, b"nvme-tls-psk", ident0, n))
        out("TLS_V1_%d" % hid, hkdf_expand_label(hid, retained, b"nvme-tls-psk", ctx1, n))
        out("TLS_V0_COMPAT_%d" % hid, hkdf_compat(hid, retained_c, b"nvme-tls-psk", ident0, n))
        out("TLS_V1_COMPAT_%d" % hid, hkdf_compat(hid, retained_c, b"nvme-tls-psk", ctx1_c, n))
        # An untransformed (hash 00) configured PSK is its own retained PSK.
        out("TLS_V0_NOHASH_%d" % hid, hkdf_expand_label(hid, configured, b"nvme-tls-psk", ident0, n))


if __name__ == "__main__":
    print("/* SPDX-License-Identifier: BSD-3-Clause */")
    print("/* Generated by make-vectors.py (Python hashlib/hmac); do not edit. */")
    print("#ifndef NVT_AUTH_UT_VECTORS_H")
    print("#define NVT_AUTH_UT_VECTORS_H")
    print()
    print("/* clang-format off */")
    print('#define HOSTNQN "%s"' % HOSTNQN.decode())
    print('#define SUBNQN "%s"' % SUBNQN.decode())
    chap_vectors()
    psk_vectors()
    print("/* clang-format on */")
    print()
    print("#endif /* NVT_AUTH_UT_VECTORS_H */")
