# SPDX-License-Identifier: BSD-3-Clause
"""The data the SPDK-compatibility tests check nvtcpd against, in data/.

Captured from SPDK v26.05 (commit d519b163): rpc-requests.jsonl from its
rpc.py (--dry-run: one line per command a user types, with the request rpc.py
sends), the two save_config documents from its nvmf_tgt, and
spdk-26.05-answers.json from that nvmf_tgt answering the replay plan
(capture_spdk_answers.py).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")
sys.path.insert(0, os.path.join(HERE, "..", "..", "common"))


def load_data(name):
    with open(os.path.join(DATA, name)) as f:
        if name.endswith(".jsonl"):
            return [json.loads(line) for line in f if line.strip()]
        return json.load(f)
