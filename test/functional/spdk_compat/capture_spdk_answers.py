#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Record SPDK's own answers to the replay plan, for rpc_replay_test.py.

usage: capture_spdk_answers.py NVMF_TGT [OUT]

Runs SPDK's nvmf_tgt (v26.05 made data/spdk-26.05-answers.json), one
instance per scene of replay_plan.py, started with --wait-for-rpc on core 0,
replays the scene's requests exactly as rpc.py sends them and writes every
answer to OUT (default data/spdk-26.05-answers.json). Not part of the test
suite: nvtcp never needs SPDK; this only refreshes the reference data when
SPDK moves. It listens on the ports the corpus names (127.0.0.1 and ::1,
4420, 4421, 8009) and needs the files those requests name (a key file with a
TLS PSK, DH-HMAC-CHAP keys, two 256 MiB images under /var/tmp), which it
creates.
"""

import json
import os
import signal
import subprocess
import sys

import spdk_data  # first: it puts test/common on the path
import nvtcp_test
import replay_plan

SOCK = "/var/tmp/nvtcp-spdk-capture.sock"


def make_files():
    for path, text in replay_plan.CORPUS_KEYS.items():
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
    for path in ("/var/tmp/disk0.img", "/var/tmp/disk1.img"):
        with open(path, "a") as f:
            f.truncate(256 << 20)


def request_of(step, corpus):
    if step.line is not None:
        return corpus[step.line]["request"]
    return {"method": step.method, "params": step.params}


def run_scene(nvmf_tgt, steps, corpus):
    proc = subprocess.Popen([nvmf_tgt, "-m", "0x1", "-r", SOCK, "--wait-for-rpc"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = nvtcp_test.Client(SOCK)
        answers = []
        for i, step in enumerate(steps):
            req = request_of(step, corpus)
            answers.append({"step": i, "line": step.line, "request": req,
                            "response": client.request(req["method"], req.get("params"))})
        client.close()
        return answers
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    out = sys.argv[2] if len(sys.argv) == 3 else os.path.join(spdk_data.DATA,
                                                              "spdk-26.05-answers.json")
    make_files()
    corpus = spdk_data.load_data("rpc-requests.jsonl")
    doc = {"scenes": {name: run_scene(sys.argv[1], steps, corpus)
                      for name, steps in replay_plan.SCENES}}
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
