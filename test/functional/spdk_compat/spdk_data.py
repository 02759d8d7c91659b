# SPDX-License-Identifier: BSD-3-Clause
"""The data the SPDK-compatibility tests check nvtcpd against, in data/.

Captured from SPDK v26.05 (commit d519b163): rpc-requests.jsonl from its
rpc.py (--dry-run: one line per command a user types, with the request rpc.py
sends), the two save_config documents from its nvmf_tgt, and
spdk-26.05-answers.json from that nvmf_tgt answering the replay plan
(capture_spdk_answers.py).
"""

import base64
import json
import os
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
sys.path.insert(0, os.path.join(HERE, "..", "..", "common"))


def load_data(name):
    with open(os.path.join(DATA, name)) as f:
        if name.endswith(".jsonl"):
            return [json.loads(line) for line in f if line.strip()]
        return json.load(f)


def key_text(prefix, hmac, secret):
    """\\p secret in its interchange format, as nvme gen-dhchap-key and gen-tls-key
    write it: base64 of the secret and its CRC-32 (zlib's, little-endian)."""
    crc = struct.pack("<I", zlib.crc32(secret) & 0xffffffff)
    return "%s:%02x:%s:" % (prefix, hmac, base64.b64encode(secret + crc).decode())


def write_keys(tmpdir, keys):
    """The key files \\p keys ({path the data names: text}) written in \\p tmpdir, mode
    0600 as SPDK and nvtcpd demand; returns the mapping of those paths to them."""
    paths = {}
    for name, text in keys.items():
        paths[name] = os.path.join(tmpdir, os.path.basename(name))
        fd = os.open(paths[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
    return paths
