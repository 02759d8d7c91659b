#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""bdev_get_iostat, bdev_enable_histogram and bdev_get_histogram against
nvtcpd, with a known number of reads and writes of known sizes.

usage: iostat_test.py NVTCPD

Starts nvtcpd serving a malloc bdev as namespace 1 (two cores where the test
may use them), connects a raw NVMe/TCP host with two I/O queues, enables the
histogram, does READS reads and WRITES writes, then checks:
  - bdev_get_iostat counts exactly those ops and bytes, latencies > 0 with
    min <= max <= sum, and SPDK's fields are all there;
  - per_channel (as rpc.py sends it: names, per_channel) gives channels
    whose counts sum to the totals;
  - bdev_get_histogram decodes as SPDK's scripts decode it, and its buckets
    hold exactly READS + WRITES latencies;
  - bad requests get clear errors; a disabled histogram is refused.
Exit 0 on success, 1 on failure, 77 when nvtcpd is missing.
"""

import base64
import json
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))

import nvtcp_test  # noqa: E402
from nvtcp_test import check  # noqa: E402
from nvme_tcp_host import Host  # noqa: E402

NQN = "nqn.2016-06.io.spdk:cnode1"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:iostat-test"
READS, READ_BLOCKS = 11, 4
WRITES, WRITE_BLOCKS = 7, 2
BLOCK = 512

# SPDK's per-bdev fields of bdev_get_iostat (v26.05), besides "name".
KINDS = (("read", "bytes_read"), ("write", "bytes_written"), ("unmap", "bytes_unmapped"),
         ("copy", "bytes_copied"))
FIELDS = [f for k, b in KINDS for f in (b, "num_%s_ops" % k)] + \
    [f for k, _ in KINDS for f in ("%s_latency_ticks" % k, "max_%s_latency_ticks" % k,
                                   "min_%s_latency_ticks" % k)]


def config(port):
    nvmf = [{"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": NQN, "allow_any_host": True, "serial_number": "SPDK01"}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": NQN, "namespace": {"bdev_name": "Malloc0"}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": NQN, "listen_address": {
                 "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 4096, "block_size": BLOCK}}]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def rw(q, opc, slba, nblocks, data_out=b""):
    sqe = bytearray(64)
    sqe[0] = opc
    struct.pack_into("<I", sqe, 4, 1)
    struct.pack_into("<QI", sqe, 40, slba, nblocks - 1)
    status, _, data = q.command(sqe, data_out=data_out,
                                data_in_len=0 if data_out else nblocks * BLOCK)
    check(status == 0, "opcode %#x at LBA %d: status %#x" % (opc, slba, status))
    return data


def do_io(port):
    admin = Host(port, HOSTNQN)
    status, cdw0 = admin.connect(NQN)
    check(status == 0, "admin connect: %#x" % status)
    admin.enable()
    queues = []
    for qid in (1, 2):
        q = Host(port, HOSTNQN)
        status, _ = q.connect(NQN, qid=qid, cntlid=cdw0 & 0xffff)
        check(status == 0, "I/O queue connect: %#x" % status)
        queues.append(q)
    for i in range(WRITES):
        rw(queues[i % 2], 0x01, i * WRITE_BLOCKS, WRITE_BLOCKS,
           data_out=bytes([i + 1]) * (WRITE_BLOCKS * BLOCK))
    for i in range(READS):
        data = rw(queues[(i + 1) % 2], 0x02, 0, READ_BLOCKS)
        check(data[:BLOCK] == bytes([1]) * BLOCK, "read back what was written")
    return [admin] + queues


def check_totals(st):
    for f in FIELDS:
        check(isinstance(st.get(f), int), "field %s missing or not an integer: %r" % (f, st))
    want = {"num_read_ops": READS, "bytes_read": READS * READ_BLOCKS * BLOCK,
            "num_write_ops": WRITES, "bytes_written": WRITES * WRITE_BLOCKS * BLOCK,
            "num_unmap_ops": 0, "bytes_unmapped": 0, "num_copy_ops": 0, "bytes_copied": 0}
    got = {k: st[k] for k in want}
    check(got == want, "counts %r, expected %r" % (got, want))
    for k in ("read", "write"):
        lat, hi, lo = (st["%s_latency_ticks" % k], st["max_%s_latency_ticks" % k],
                       st["min_%s_latency_ticks" % k])
        check(0 < lo <= hi <= lat, "%s latencies: min %d max %d sum %d" % (k, lo, hi, lat))
    check(st["min_unmap_latency_ticks"] == 0, "min latency without ops is not 0")


def check_iostat(client):
    res = client.call("bdev_get_iostat", {"per_channel": False})
    check(res["tick_rate"] > 0 and res["ticks"] > 0, "tick_rate/ticks: %r" % res)
    check([b["name"] for b in res["bdevs"]] == ["Malloc0"], "bdevs: %r" % res["bdevs"])
    st = res["bdevs"][0]
    check(st.get("io_error") == {}, "io_error: %r" % st.get("io_error"))
    check_totals(st)
    res = client.call("bdev_get_iostat", {"per_channel": True, "names": ["Malloc0"]})
    check(res["name"] == "Malloc0" and res["channels"], "per_channel answer: %r" % res)
    for f in FIELDS:
        if "max_" in f or "min_" in f:
            continue
        total = sum(ch[f] for ch in res["channels"])
        check(total == st[f], "%s: channels sum to %d, totals say %d" % (f, total, st[f]))
    check(all(ch["thread_id"] > 0 for ch in res["channels"]), "thread ids: %r" % res)
    return len(res["channels"])


def check_histogram(client):
    res = client.call("bdev_get_histogram", {"name": "Malloc0"})
    raw = base64.b64decode(res["histogram"])
    g, lo, hi = res["granularity"], res["min_range"], res["max_range"]
    check((g, lo, hi) == (7, 0, 57), "SPDK's default shape expected: %r" % ((g, lo, hi),))
    check(len(raw) == ((hi - lo + 1) << g) * 8, "%d bytes of buckets" % len(raw))
    counts = struct.unpack("<%dQ" % (len(raw) // 8), raw)
    check(sum(counts) == READS + WRITES, "histogram holds %d latencies, expected %d" %
          (sum(counts), READS + WRITES))
    check(res["tsc_rate"] == client.call("bdev_get_iostat")["tick_rate"], "tsc_rate")


def check_errors(client):
    def error(method, params):
        err = client.request(method, params).get("error")
        check(err is not None, "%s %r was not refused" % (method, params))
        return err

    err = error("bdev_get_iostat", {"name": "nope"})
    check("nope" in err["message"], "unknown bdev: %r" % err)
    err = error("bdev_get_iostat", {"per_channel": True})
    check(err["code"] == -32602 and "per_channel" in err["message"], "per_channel: %r" % err)
    err = error("bdev_enable_histogram", {"name": "Malloc0", "enable": True, "opc": "zone"})
    check(err["code"] == -32602 and "opc" in err["message"], "opc: %r" % err)
    client.call("bdev_enable_histogram", {"name": "Malloc0", "enable": False})
    err = error("bdev_get_histogram", {"name": "Malloc0"})
    check("not enabled" in err["message"], "disabled histogram: %r" % err)


def run(nvtcpd):
    port = nvtcp_test.free_port()
    ncores = 2 if len(os.sched_getaffinity(0)) >= 2 else 1
    with tempfile.TemporaryDirectory(prefix="nvtcp-iostat-") as tmpdir:
        path = os.path.join(tmpdir, "config.json")
        with open(path, "w") as f:
            json.dump(config(port), f)
        mask = hex((1 << ncores) - 1)
        daemon = nvtcp_test.Daemon(nvtcpd, ["-c", path, "-m", mask],
                                   os.path.join(tmpdir, "rpc.sock"))
        try:
            daemon.wait_output("nvme connect")
            client = daemon.client()
            st = client.call("bdev_get_iostat", {"names": ["Malloc0"]})["bdevs"][0]
            check(st["num_read_ops"] == 0 and st["num_write_ops"] == 0, "I/O before the test")
            check(client.call("bdev_enable_histogram",
                              {"name": "Malloc0", "enable": True}) is True, "enable")
            hosts = do_io(port)
            nch = check_iostat(client)
            check_histogram(client)
            check_errors(client)
            for h in hosts:
                h.close()
            client.close()
        finally:
            daemon.kill() if daemon.proc.poll() is not None else daemon.stop()
    return "%d reads, %d writes over %d channels" % (READS, WRITES, nch)


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
