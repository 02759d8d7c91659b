#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The cluster's only OSD stopped and started again under verified load on
an RBD namespace.

usage: rbd_failure_test.py NVTCPD NVTCP_PERF

nvtcp-perf --verify writes and reads an RBD namespace while the OSD is
stopped: nvtcpd stays up, answers RPCs, and a RAM namespace of another
subsystem keeps serving a raw host. Once the OSD is back, the stalled I/O
resumes: nvtcp-perf ends without an error or a mismatch, and nvtcpd exits 0
after SIGTERM with a clean sanitizer report.

Then a host that gives up: with the OSD down, a raw host's writes to the
image stall; it sends an Abort for one (answered at once, "not aborted":
the write is in librbd, which cannot take it back) and closes its
connection, as a host whose I/O timed out resets its controller. nvtcpd
keeps serving the RAM namespace; once the OSD is back the abandoned writes
complete into the closed connection and are freed (the clean exit after
SIGTERM shows nothing leaked), and a new host reads and writes the image.

Then the exit's bound: nvtcpd is asked to stop while the OSD is down under
load; it does not wait for the stalled I/O forever: it exits with status 1
once its bound passed, naming the image it abandons.
Exit 0 on success, 1 on failure, 77 when a program or Ceph is missing.
"""

import select
import signal
import struct
import subprocess
import sys
import time

import rbd_common as rc
from rbd_common import check, nvtcp_test
from nvme_tcp_host import Host

NQN2 = "nqn.2016-06.io.spdk:malloc1"
# Seconds of load: the OSD is down from the second to the sixth or so.
RUNTIME = 16


def malloc_subsystem(port):
    return [{"method": "nvmf_create_subsystem",
             "params": {"nqn": NQN2, "allow_any_host": True, "serial_number": "MAL0001"}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": NQN2, "namespace": {"bdev_name": "Malloc0", "nsid": 1}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": NQN2, "listen_address": {
                 "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]


def malloc_io(port, round_):
    admin = Host(port, rc.HOSTNQN)
    status, cdw0 = admin.connect(NQN2)
    check(status == 0, "admin connect to the RAM subsystem: %#x" % status)
    admin.enable()
    q = Host(port, rc.HOSTNQN)
    check(q.connect(NQN2, qid=1, cntlid=cdw0 & 0xffff)[0] == 0, "I/O queue connect")
    data = bytes([round_ + 1]) * 4096
    check(rc.write(q, 1, 8 * round_, data) == 0, "RAM namespace write while the OSD is down")
    status, got = rc.read(q, 1, 8 * round_, 8)
    check(status == 0 and got == data, "RAM namespace read while the OSD is down")
    q.close()
    admin.close()


def run(nvtcpd, nvtcp_perf):
    rc.skip_without_ceph()
    tmp = rc.tmpdir()
    port = nvtcp_test.free_port()
    with rc.ceph_cluster.CephCluster() as cluster:
        cluster.rbd("create", "--size", "128M", "rbd/img0")
        doc = rc.config(port, [rc.register_cluster(cluster), rc.rbd_create("Rbd0", "img0"),
                               {"method": "bdev_malloc_create",
                                "params": {"name": "Malloc0", "num_blocks": 8192,
                                           "block_size": 512}}], ["Rbd0"])
        doc["subsystems"][1]["config"] += malloc_subsystem(port)
        t = rc.Target(nvtcpd, doc, tmp)
        perf = None
        try:
            trid = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, rc.NQN)
            perf = subprocess.Popen([nvtcp_perf, "-r", trid, "-q", "32", "-o", "4096", "-w",
                                     "randrw", "-M", "50", "-t", str(RUNTIME), "--verify"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2)
            check(perf.poll() is None, "nvtcp-perf runs before the OSD stops")
            cluster.osd_stop()
            # While I/O to the image stalls: RPCs, and another namespace, are served.
            for i in range(3):
                check(t.rpc.call("bdev_get_bdevs", {"name": "Rbd0"})[0]["name"] == "Rbd0",
                      "RPC answered while the OSD is down")
                malloc_io(port, i)
                time.sleep(1)
            check(t.daemon.proc.poll() is None, "nvtcpd is up while the OSD is down")
            cluster.osd_start()
            out, err = perf.communicate(timeout=RUNTIME + 120)
            check(perf.returncode == 0, "nvtcp-perf --verify across the OSD's restart: exit %d\n"
                  "%s\n%s" % (perf.returncode, out[-2000:], err[-2000:]))
        except BaseException:
            if perf is not None and perf.poll() is None:
                perf.kill()
                perf.wait()
            t.kill()
            raise
        check_host_gives_up(t, cluster, port)
        t.stop()
        check_exit_bound(nvtcpd, nvtcp_perf, cluster, doc, tmp, port)
    return None


def rbd_queues(port):
    admin = Host(port, rc.HOSTNQN)
    status, cdw0 = admin.connect(rc.NQN)
    check(status == 0, "admin connect to the RBD subsystem: %#x" % status)
    admin.enable()
    q = Host(port, rc.HOSTNQN)
    check(q.connect(rc.NQN, qid=1, cntlid=cdw0 & 0xffff)[0] == 0, "RBD I/O queue connect")
    return admin, q


def check_host_gives_up(t, cluster, port):
    cluster.osd_stop()
    admin, q = rbd_queues(port)
    cids = [q.send(rc.io_sqe(0x01, 1, 64 + 8 * i, 8), data_out=bytes([0xa0 + i]) * 4096)
            for i in range(4)]
    ready, _, _ = select.select([q.sock], [], [], 2.0)
    check(not ready, "a write completed while the OSD is down")
    # Abort (opcode 08h): SQID 1, the first write's CID. Bit 0 of Dword 0 set: not aborted.
    sqe = bytearray(64)
    sqe[0] = 0x08
    struct.pack_into("<I", sqe, 40, 1 | cids[0] << 16)
    status, cdw0, _ = admin.command(bytes(sqe))
    check(status == 0 and cdw0 & 1, "Abort of a stalled write: status %#x cdw0 %#x" %
          (status, cdw0))
    q.close()
    admin.close()
    malloc_io(port, 3)
    check(t.rpc.call("bdev_get_bdevs", {"name": "Rbd0"})[0]["name"] == "Rbd0",
          "RPC answered after the host gave up")
    cluster.osd_start()
    admin, q = rbd_queues(port)
    # Blocks the abandoned writes do not touch: their order against these is librbd's.
    data = bytes([0x5c]) * 4096
    check(rc.write(q, 1, 200, data) == 0, "a new host writes the image once the OSD is back")
    status, got = rc.read(q, 1, 200, 8)
    check(status == 0 and got == data, "a new host reads back what it wrote")
    q.close()
    admin.close()
    print("ok: 4 writes stalled with the OSD down; Abort answered 'not aborted'; the host "
          "closed; RAM namespace and RPC served; a new host writes and reads once the OSD "
          "is back")


def check_exit_bound(nvtcpd, nvtcp_perf, cluster, doc, tmp, port):
    t = rc.Target(nvtcpd, doc, tmp, "bound")
    trid = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, rc.NQN)
    perf = subprocess.Popen([nvtcp_perf, "-r", trid, "-q", "32", "-o", "4096", "-w",
                             "randwrite", "-t", "300"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        cluster.osd_stop()
        t.daemon.proc.send_signal(signal.SIGTERM)
        _, err = t.daemon.proc.communicate(timeout=120)
        check(t.daemon.proc.returncode == 1,
              "exit status %d with I/O stalled, want 1:\n%s" % (t.daemon.proc.returncode,
                                                                  err[-2000:]))
        check("exiting without closing Rbd0 (rbd/img0)" in err,
              "the abandoned image is named:\n%s" % err[-2000:])
    finally:
        perf.kill()
        perf.wait()
        t.kill()
        cluster.osd_start()


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 2, run))
