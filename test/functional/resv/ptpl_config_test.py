#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""nvmf_subsystem_add_ns with ptpl_file: a missing file is no reservation, a
valid SPDK file loads, a corrupt one or one of another bdev is refused naming
the file, and save_config gives the file back.

Usage: ptpl_config_test.py NVTCPD
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
import nvtcp_test  # noqa: E402
from nvtcp_test import check  # noqa: E402

NQN = "nqn.2016-06.io.nvtcp:resv"
BDEV_UUID = "5e2f7c1a-0b3d-4e8f-9a6b-1c2d3e4f5a6b"
HOST_UUID = "11111111-2222-3333-4444-555555555555"


def add_ns(client, nsid, ptpl):
    return client.request("nvmf_subsystem_add_ns", {
        "nqn": NQN, "namespace": {"bdev_name": "Malloc%d" % nsid, "nsid": nsid,
                                  "ptpl_file": ptpl}})


def run(nvtcpd):
    with tempfile.TemporaryDirectory() as tmp:
        daemon = nvtcp_test.Daemon(nvtcpd, ["--wait-for-rpc"], os.path.join(tmp, "rpc.sock"))
        try:
            daemon.wait_output("waiting for framework_start_init")
            c = daemon.client()
            c.call("framework_start_init")
            for i in (1, 2, 3, 4):
                c.call("bdev_malloc_create", {"name": "Malloc%d" % i, "num_blocks": 2048,
                                              "block_size": 512,
                                              "uuid": BDEV_UUID[:-1] + str(i)})
            c.call("nvmf_create_subsystem", {"nqn": NQN, "allow_any_host": True})
            missing = os.path.join(tmp, "missing.json")
            r = add_ns(c, 1, missing)
            check("result" in r, "a missing ptpl_file is no reservation: %r" % r)
            check(not os.path.exists(missing), "nothing written before a host asks for PTPL")

            corrupt = os.path.join(tmp, "corrupt.json")
            with open(corrupt, "w") as f:
                f.write('{"ptpl": true, "rtype": ')
            r = add_ns(c, 2, corrupt)
            check("error" in r and corrupt in r["error"]["message"],
                  "a corrupt file is refused naming it: %r" % r)

            good = {"ptpl": True, "rtype": 1, "crkey": 7, "bdev_uuid": BDEV_UUID[:-1] + "3",
                    "holder_uuid": HOST_UUID,
                    "registrants": [{"rkey": 7, "host_uuid": HOST_UUID}]}
            valid = os.path.join(tmp, "valid.json")
            with open(valid, "w") as f:
                json.dump(good, f)
            r = add_ns(c, 3, valid)
            check("result" in r, "a valid SPDK file loads: %r" % r)

            other = os.path.join(tmp, "other.json")
            with open(other, "w") as f:
                json.dump(good, f)
            r = add_ns(c, 4, other)
            check("error" in r and other in r["error"]["message"],
                  "a file of another bdev is refused: %r" % r)

            saved = json.dumps(c.save_config())
            check(missing in saved and valid in saved, "save_config emits ptpl_file")
            check(corrupt not in saved, "the refused namespace is not in the config")
            daemon.stop()
        finally:
            daemon.kill()
    return "missing, valid, corrupt and foreign ptpl files"


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
