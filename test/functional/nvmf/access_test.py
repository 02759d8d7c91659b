#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Host access control end to end, against a running nvtcpd.

usage: access_test.py NVTCPD

Starts nvtcpd with an SPDK-format JSON configuration (two malloc bdevs, a TCP
transport, two subsystems on 127.0.0.1, each with its own host list and
port), then, with a raw NVMe/TCP client:
  - an allowed host connects; a host outside the list is refused (Connect
    Invalid Host) and does not see the subsystem in the discovery log;
  - SIGTERM with a host still connected: exit status 0.
It also checks that a configuration with an unknown method, or a bad field,
makes nvtcpd refuse to start with a message naming them.
Exit 0 on success, 1 on failure, 77 when nvtcpd is missing.
"""

import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
from nvtcp_test import Failure, check, free_port, test_main  # noqa: E402 (after the path)
from nvme_tcp_host import Host  # noqa: E402

HOSTA = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
HOSTB = "nqn.2014-08.org.nvmexpress:uuid:66666666-7777-8888-9999-000000000000"
HOSTC = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
CNODE1 = "nqn.2016-06.io.nvtcp:cnode1"
CNODE2 = "nqn.2016-06.io.nvtcp:cnode2"
DISCOVERY = "nqn.2014-08.org.nvmexpress.discovery"

SCT_CMD = 1
SC_INVALID_HOST = 0x84


# ---- the raw host's discovery log ----

def discovery_log(host):
    """The subsystem NQNs and ports of the discovery log, as (subnqn, trsvcid)."""
    hdr = host.get_log(0x70, 1024, nsid=0)
    numrec = struct.unpack_from("<Q", hdr, 8)[0]
    entries = []
    if numrec:
        log = host.get_log(0x70, 1024 * numrec, 1024, nsid=0)
        for i in range(numrec):
            e = log[1024 * i:1024 * (i + 1)]
            trsvcid = e[32:64].decode().strip(" \0")
            subnqn = e[256:512].split(b"\0")[0].decode()
            entries.append((subnqn, trsvcid))
    return entries


# ---- the daemon ----

def config_doc(port1, port2):
    def listener(nqn, port):
        return {"method": "nvmf_subsystem_add_listener",
                "params": {"nqn": nqn, "listen_address": {
                    "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                    "trsvcid": str(port)}}}

    nvmf = [{"method": "nvmf_set_max_subsystems", "params": {"max_subsystems": 16}},
            {"method": "nvmf_create_transport",
             "params": {"trtype": "TCP", "max_queue_depth": 64, "io_unit_size": 8192,
                        "num_shared_buffers": 255, "buf_cache_size": 16}}]
    for nqn, host, bdev, port in ((CNODE1, HOSTA, "Malloc0", port1),
                                  (CNODE2, HOSTB, "Malloc1", port2)):
        nvmf += [{"method": "nvmf_create_subsystem",
                  "params": {"nqn": nqn, "serial_number": "SN-" + bdev,
                             "model_number": "nvtcp functional", "allow_any_host": False}},
                 {"method": "nvmf_subsystem_add_host", "params": {"nqn": nqn, "host": host}},
                 {"method": "nvmf_subsystem_add_ns",
                  "params": {"nqn": nqn, "namespace": {"bdev_name": bdev}}},
                 listener(nqn, port)]
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": name, "num_blocks": 16384, "block_size": 512}}
            for name in ("Malloc0", "Malloc1")]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def write_config(doc):
    fd, path = tempfile.mkstemp(prefix="nvtcpd-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    return path


def rpc_sock(path):
    """The RPC socket of the daemon of configuration \p path: its own, not the shared default."""
    return path[:-len(".json")] + ".sock"


def start(nvtcpd, path):
    return subprocess.Popen([nvtcpd, "-c", path, "-r", rpc_sock(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_banner(proc, timeout=30):
    """Read stdout until the two nvme connect lines; return the lines."""
    buf = b""
    fd = proc.stdout.fileno()
    end = time.time() + timeout
    while time.time() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
            lines = buf.decode().splitlines()
            if sum(1 for x in lines if x.startswith("nvme connect")) == 2:
                return lines
        if proc.poll() is not None:
            break
    raise Failure("nvtcpd did not come up: stdout %r, stderr %s" %
                  (buf, proc.stderr.read() if proc.poll() is not None else "(running)"))


def expect_refusal(nvtcpd, doc, words):
    path = write_config(doc)
    try:
        proc = start(nvtcpd, path)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise Failure("nvtcpd started with a bad configuration")
    finally:
        os.unlink(path)
        if os.path.exists(rpc_sock(path)):
            os.unlink(rpc_sock(path))
    check(proc.returncode != 0, "nvtcpd exited 0 on a bad configuration")
    for w in words:
        check(w in err, "refusal message does not name %r:\n%s" % (w, err))
    check("LeakSanitizer" not in err, "leak on refusal:\n" + err)
    print("ok: refused (%s), exit status %d" % (", ".join(words), proc.returncode))


def test_access(nvtcpd):
    port1, port2 = free_port(), free_port()
    path = write_config(config_doc(port1, port2))
    proc = start(nvtcpd, path)
    try:
        banner = wait_banner(proc)
        check("nvtcpd: listening on 127.0.0.1:%d" % port1 in banner, "banner: %r" % banner)
        # Host A: allowed on cnode1, refused on cnode2.
        a = Host(port1, HOSTA, timeout=5)
        status, cdw0 = a.connect(CNODE1)
        check(status == 0, "host A refused by cnode1: status %#x" % status)
        a.enable()
        b = Host(port2, HOSTA, timeout=5)
        status, _ = b.connect(CNODE2)
        check(status & 0x7ff == (SCT_CMD << 8 | SC_INVALID_HOST),
              "host A on cnode2: status %#x, want Connect Invalid Host" % status)
        b.close()
        print("ok: host A connects to cnode1 (cntlid %d), is refused by cnode2" % (cdw0 & 0xffff))
        # Discovery, filtered by host.
        want = {HOSTA: [(CNODE1, str(port1))], HOSTB: [(CNODE2, str(port2))], HOSTC: []}
        for host, entries in want.items():
            d = Host(port1, host, timeout=5)
            check(d.connect(DISCOVERY)[0] == 0, "discovery connect failed")
            d.enable()
            got = discovery_log(d)
            check(got == entries, "discovery for %s: %r, want %r" % (host, got, entries))
            d.close()
        print("ok: discovery shows each host only its subsystems")
        b = Host(port2, HOSTB, timeout=5)
        check(b.connect(CNODE2)[0] == 0, "host B refused by cnode2")
        print("ok: host B connects to cnode2")
        # Orderly shutdown with hosts connected.
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        check(proc.returncode == 0, "exit status %d after SIGTERM:\n%s" % (proc.returncode, err))
        check("LeakSanitizer" not in err and "AddressSanitizer" not in err, err)
        a.close()
        b.close()
        print("ok: SIGTERM with hosts connected: exit status 0")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.unlink(path)
        if os.path.exists(rpc_sock(path)):
            os.unlink(rpc_sock(path))


def run(nvtcpd):
    test_access(nvtcpd)
    doc = config_doc(free_port(), free_port())
    doc["subsystems"][1]["config"].insert(1, {"method": "nvmf_frobnicate", "params": {}})
    expect_refusal(nvtcpd, doc, ["nvmf_frobnicate"])
    doc = config_doc(free_port(), free_port())
    doc["subsystems"][1]["config"][1]["params"]["max_queue_depht"] = 64
    expect_refusal(nvtcpd, doc, ["nvmf_create_transport", "max_queue_depht"])
    doc = config_doc(free_port(), free_port())
    doc["subsystems"][1]["config"][1]["params"]["zcopy"] = True
    expect_refusal(nvtcpd, doc, ["nvmf_create_transport", "zcopy"])


if __name__ == "__main__":
    sys.exit(test_main(__doc__, sys.argv, 1, run))
