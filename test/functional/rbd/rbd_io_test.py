#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""I/O on RBD namespaces through nvtcpd, against a throw-away Ceph cluster.

usage: rbd_io_test.py NVTCPD NVTCP_PERF

- nvtcp-perf --verify (random writes and reads of a pattern tagged with the
  LBA, checked on read) at 4 KiB, 16 KiB and 128 KiB and queue depths 1, 32
  and 128: no error, no mismatch; SPDK's spdk_nvme_perf (random reads and
  writes at 4 KiB QD32 and 128 KiB QD16) without an error, where SPDK_DIR
  names SPDK's tools.
- Flush succeeds; Write Zeroes and Deallocate of ranges that are not aligned
  to anything read back as zeroes, their neighbours intact.
- Compare: a match succeeds, a mismatch is Compare Failure.
- The image of namespace 2 lives in a pool that is deleted under it: its
  commands fail with Namespace Not Ready and DNR set, while namespace 1 keeps
  serving.
- nvtcpd exits 0 after SIGTERM with a clean sanitizer report.
Exit 0 on success, 1 on failure, 77 when a program or Ceph is missing.
"""

import os
import struct
import subprocess
import sys

import rbd_common as rc
from rbd_common import MIB, check, nvtcp_test

BLOCK = 512
# Status words (without the phase bit): DNR bit 14, SCT bits 10:8, SC bits 7:0.
SC_COMPARE_FAILURE = (0x2 << 8) | 0x85
SC_NS_NOT_READY = 0x82
DNR = 1 << 14
PERF_CASES = ((4096, 1), (4096, 128), (16384, 32), (131072, 32), (131072, 128))


def spdk_perf(port):
    """SPDK's own initiator on the image, where SPDK_DIR names its tools: no error."""
    tool = os.path.join(os.environ.get("SPDK_DIR", ""), "bin", "spdk_nvme_perf")
    if not os.environ.get("SPDK_DIR") or not os.access(tool, os.X_OK):
        print("skip: spdk_nvme_perf (SPDK_DIR does not name SPDK's tools)")
        return
    trid = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, rc.NQN)
    for size, qd in ((4096, 32), (131072, 16)):
        out = subprocess.run([tool, "-c", "0x2", "-r", trid, "-q", str(qd), "-o", str(size),
                              "-w", "randrw", "-M", "50", "-t", "2"],
                             capture_output=True, text=True, timeout=120)
        total = [line for line in out.stdout.splitlines() if line.startswith("Total")]
        check(out.returncode == 0 and total and float(total[0].split()[2]) > 0,
              "spdk_nvme_perf -o %d -q %d: exit %d\n%s\n%s" %
              (size, qd, out.returncode, out.stdout[-2000:], out.stderr[-2000:]))
        print("ok: spdk_nvme_perf -o %d -q %d randrw: %s IOPS, exit 0" %
              (size, qd, total[0].split()[2]))


def perf(nvtcp_perf, port, size, qd, pattern="randrw"):
    trid = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, rc.NQN)
    out = subprocess.run([nvtcp_perf, "-r", trid, "-q", str(qd), "-o", str(size), "-w", pattern,
                          "-M", "50", "-t", "2", "--verify"],
                         capture_output=True, text=True, timeout=120)
    check(out.returncode == 0, "nvtcp-perf -o %d -q %d --verify: exit %d\n%s\n%s" %
          (size, qd, out.returncode, out.stdout[-2000:], out.stderr[-2000:]))
    return out.stdout


def check_zeroing(q):
    data = bytes([0xa5]) * (8 * BLOCK)
    check(rc.write(q, 1, 100, data) == 0, "write before write zeroes")
    check(rc.write(q, 1, 200, data) == 0, "write before deallocate")
    check(q.command(rc.io_sqe(0x00, 1, 0, 1))[0] == 0, "flush")
    # Write Zeroes of LBAs 101..105.
    check(q.command(rc.io_sqe(0x08, 1, 101, 5))[0] == 0, "write zeroes")
    status, got = rc.read(q, 1, 100, 8)
    want = data[:BLOCK] + bytes(5 * BLOCK) + data[:2 * BLOCK]
    check(status == 0 and got == want, "write zeroes reads back as zeroes, neighbours kept")
    # Dataset Management, Deallocate (AD): LBAs 201..205.
    sqe = bytearray(rc.io_sqe(0x09, 1, 0, 1))
    struct.pack_into("<II", sqe, 40, 0, 1 << 2)
    rng = struct.pack("<IIQ", 0, 5, 201)
    check(q.command(sqe, data_out=rng)[0] == 0, "deallocate")
    status, got = rc.read(q, 1, 200, 8)
    check(status == 0 and got == want, "deallocated blocks read back as zeroes, neighbours kept")


def check_compare(q):
    data = bytes(range(256)) * 8
    check(rc.write(q, 1, 300, data[:4 * BLOCK]) == 0, "write before compare")
    check(rc.compare(q, 1, 300, data[:4 * BLOCK]) == 0, "compare of the same data")
    other = bytearray(data[:4 * BLOCK])
    other[3 * BLOCK + 7] ^= 1
    status = rc.compare(q, 1, 300, bytes(other))
    check(status == SC_COMPARE_FAILURE | DNR, "compare mismatch: status %#x" % status)


def check_deleted(cluster, q):
    cluster.ceph("osd", "pool", "delete", "victim", "victim", "--yes-i-really-really-mean-it")
    status, _ = rc.read(q, 2, 0, 8)
    check(status == SC_NS_NOT_READY | DNR,
          "read of a deleted image: status %#x, want %#x" % (status, SC_NS_NOT_READY | DNR))
    status = rc.write(q, 2, 0, bytes(BLOCK))
    check(status == SC_NS_NOT_READY | DNR,
          "write to a deleted image: status %#x, want %#x" % (status, SC_NS_NOT_READY | DNR))
    data = bytes([0x3c]) * BLOCK
    check(rc.write(q, 1, 400, data) == 0, "namespace 1 keeps serving writes")
    status, got = rc.read(q, 1, 400, 1)
    check(status == 0 and got == data, "namespace 1 keeps serving reads")


def run(nvtcpd, nvtcp_perf):
    rc.skip_without_ceph()
    tmp = rc.tmpdir()
    port = nvtcp_test.free_port()
    with rc.ceph_cluster.CephCluster() as cluster:
        cluster.rbd("create", "--size", "256M", "rbd/img0")
        cluster.ceph("osd", "pool", "create", "victim", "8")
        cluster.ceph("osd", "pool", "set", "victim", "size", "1", "--yes-i-really-mean-it")
        cluster.rbd("pool", "init", "victim")
        cluster.rbd("create", "--size", "64M", "victim/img1")
        bdevs = [rc.register_cluster(cluster), rc.rbd_create("Rbd0", "img0"),
                 rc.rbd_create("Rbd1", "img1")]
        bdevs[2]["params"]["pool_name"] = "victim"
        t = rc.Target(nvtcpd, rc.config(port, bdevs, ["Rbd0", "Rbd1"]), tmp)
        try:
            for size, qd in PERF_CASES:
                perf(nvtcp_perf, port, size, qd)
            spdk_perf(port)
            admin, q = rc.connect(port)
            check_zeroing(q)
            check_compare(q)
            check_deleted(cluster, q)
            admin.close()
            q.close()
        except BaseException:
            t.kill()
            raise
        err = t.stop()
        check("fails I/O" in err, "the failing image was logged:\n%s" % err[-2000:])
    return "%d verified nvtcp-perf runs" % len(PERF_CASES)


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 2, run))
