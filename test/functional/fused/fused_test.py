#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Fused Compare and Write through nvtcpd, with a raw NVMe/TCP host.

usage: fused_test.py NVTCPD [--cluster]

Without --cluster: nvtcpd serves a malloc namespace, whose bdev cannot
compare and write as one step. Checks, on I/O queues of one controller:
  - Identify Controller FUSES is 0 (no namespace can);
  - a fused pair, its data in the capsules or after R2Ts in every
    combination: the Compare fails with Invalid Field in Command, the Write
    is aborted as its first failed (09h), nothing is written;
  - a lone second (a Write, FUSE 10b): aborted, missing fused (0Ah), and not
    written; a lone first followed by a Read: the first is aborted (0Ah),
    the Read reads; a first followed by a Write over other blocks: both
    aborted (0Ah), nothing written; FUSE 11b, and a fused first that is no
    Compare: Invalid Field in Command;
  - through an inaccessible ANA path both commands get its status; under
    another host's Write Exclusive reservation the pair is a write
    (Reservation Conflict, then 09h) while a lone Compare reads;
  - while a first waits on one queue (its second not yet sent), the other
    queue writes and reads; connections closed with a first waiting, and
    with a pair whose Write data was never sent, leave nothing behind
    (nvtcpd stops cleanly, sanitizers quiet).
With --cluster (a throw-away Ceph cluster, and nvtcpd with the RBD bdev
module): the same, and an RBD namespace beside the malloc one: FUSES bit 0
set; the pair writes when the data matched and, on a miscompare, fails the
Compare (SCT 2h, SC 85h) and aborts the Write (09h) with nothing written,
in capsules and after R2Ts; the malloc namespace still refuses the pair.
Exit 0 on success, 1 on failure, 77 when nvtcpd (or, with --cluster, Ceph
or nvtcpd's RBD module) is missing.
"""

import json
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
from nvtcp_test import Daemon, Failure, RpcError, check, free_port  # noqa: E402
import nvme_tcp_host  # noqa: E402

HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
CNODE = "nqn.2016-06.io.nvtcp:fused"
CNODE_ANA = "nqn.2016-06.io.nvtcp:fused-ana"
BS = 512
MALLOC_NSID, RBD_NSID = 1, 2

# Status words without the phase bit: DNR bit 14, SCT bits 10:8, SC bits 7:0.
DNR = 1 << 14
INVALID_FIELD = DNR | 0x02
FAILED_FUSED = 0x09
MISSING_FUSED = 0x0a
COMPARE_FAILURE = DNR | (2 << 8) | 0x85
ANA_INACCESSIBLE = (3 << 8) | 0x02
RESERVATION_CONFLICT = DNR | 0x83
OTHER_HOSTID = bytes(range(16, 32))
R2T_MODES = ((False, False), (True, False), (False, True), (True, True))


class Skip(Exception):
    pass


def listen(port):
    return {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": str(port)}


def config_doc(port, rbd_bdevs):
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": name, "num_blocks": 1024, "block_size": BS}}
            for name in ("Malloc0", "Malloc1")] + rbd_bdevs
    nvmf = [{"method": "nvmf_create_transport",
             "params": {"trtype": "TCP", "in_capsule_data_size": 4096}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": CNODE, "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": CNODE, "namespace": {"bdev_name": "Malloc0",
                                                    "nsid": MALLOC_NSID}}}]
    if rbd_bdevs:
        nvmf.append({"method": "nvmf_subsystem_add_ns",
                     "params": {"nqn": CNODE, "namespace": {"bdev_name": "Rbd0",
                                                            "nsid": RBD_NSID}}})
    nvmf += [{"method": "nvmf_create_subsystem",
              "params": {"nqn": CNODE_ANA, "allow_any_host": True, "ana_reporting": True}},
             {"method": "nvmf_subsystem_add_ns",
              "params": {"nqn": CNODE_ANA, "namespace": {"bdev_name": "Malloc1"}}}]
    for nqn in (CNODE, CNODE_ANA):
        nvmf.append({"method": "nvmf_subsystem_add_listener",
                     "params": {"nqn": nqn, "listen_address": listen(port)}})
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


class Host(nvme_tcp_host.Host):
    def __init__(self, port, hostid=nvme_tcp_host.HOSTID):
        super().__init__(port, HOST, hostid=hostid)

    def connect(self, qid=0, cntlid=0xffff, subnqn=CNODE):
        status, cdw0 = super().connect(subnqn, qid=qid, cntlid=cntlid)
        check(status == 0, "Connect qid %d failed: status %#x" % (qid, status))
        return cdw0 & 0xffff

    def write(self, nsid, slba, data):
        status = self.command(self.rw_sqe(0x01, nsid, slba, len(data) // BS), data_out=data)[0]
        check(status == 0, "Write nsid %d LBA %d: status %#x" % (nsid, slba, status))

    def read(self, nsid, slba, nlb):
        status, _, data = self.command(self.rw_sqe(0x02, nsid, slba, nlb), data_in_len=nlb * BS)
        check(status == 0, "Read nsid %d LBA %d: status %#x" % (nsid, slba, status))
        return data


def pattern(tag, nlb):
    return bytes((tag + i) & 0xff for i in range(nlb * BS))


def fuses(admin):
    return struct.unpack_from("<H", admin.identify(1), 522)[0]


def check_refused_pairs(q, nsid, slba):
    """The pair on a namespace whose bdev cannot: refused, nothing written."""
    old = pattern(1, 2)
    q.write(nsid, slba, old)
    for mode in R2T_MODES:
        got = q.compare_and_write(nsid, slba, 2, old, pattern(2, 2), r2t=mode)
        check(got == (INVALID_FIELD, DNR | FAILED_FUSED),
              "pair on nsid %d (R2T %r): statuses %#x %#x, expected %#x %#x" %
              (nsid, mode, got[0], got[1], INVALID_FIELD, DNR | FAILED_FUSED))
    check(q.read(nsid, slba, 2) == old, "a refused pair wrote")


def check_lone_commands(q, nsid, slba):
    old = pattern(3, 1)
    q.write(nsid, slba, old)
    # A lone second: aborted, and not written.
    status = q.command(q.rw_sqe(0x01, nsid, slba, 1, fuse=0x2), data_out=pattern(4, 1))[0]
    check(status == MISSING_FUSED, "lone second: status %#x" % status)
    check(q.read(nsid, slba, 1) == old, "a lone second wrote")
    # A lone first, then a Read: the first aborted, the Read reads.
    for r2t in (False, True):
        first = q.send(q.rw_sqe(0x05, nsid, slba, 1, fuse=0x1), data_out=old, r2t=r2t)
        rd = q.send(q.rw_sqe(0x02, nsid, slba, 1), data_in_len=BS)
        status, _, data = q.wait(rd)
        check(status == 0 and data == old, "Read after a lone first: %#x" % status)
        status = q.wait(first)[0]
        check(status == MISSING_FUSED, "lone first (R2T %r): status %#x" % (r2t, status))
    # A first, then a fused Write over other blocks: both aborted, nothing written.
    c = q.send(q.rw_sqe(0x05, nsid, slba, 1, fuse=0x1), data_out=old)
    w = q.send(q.rw_sqe(0x01, nsid, slba + 1, 1, fuse=0x2), data_out=pattern(5, 1))
    got = (q.wait(c)[0], q.wait(w)[0])
    check(got == (MISSING_FUSED, MISSING_FUSED), "pair over other blocks: %#x %#x" % got)
    c = q.send(q.rw_sqe(0x05, nsid, slba, 1, fuse=0x1), data_out=old)
    w = q.send(q.rw_sqe(0x01, nsid, slba, 1), data_out=pattern(5, 1))
    got = (q.wait(c)[0], q.wait(w)[0])
    check(got == (MISSING_FUSED, 0), "first then an unfused Write: %#x %#x" % got)
    q.write(nsid, slba, old)
    check(q.read(nsid, slba + 1, 1) != pattern(5, 1), "a mismatched fused second wrote")
    # Reserved FUSE, and a fused first that is no Compare.
    status = q.command(q.rw_sqe(0x02, nsid, slba, 1, fuse=0x3), data_in_len=BS)[0]
    check(status == INVALID_FIELD, "FUSE 11b: status %#x" % status)
    status = q.command(q.rw_sqe(0x02, nsid, slba, 1, fuse=0x1), data_in_len=BS)[0]
    check(status == INVALID_FIELD, "fused Read: status %#x" % status)
    check(q.read(nsid, slba, 1) == old, "data changed by refused commands")


def check_other_queue(q1, q2, nsid, slba):
    """A first waits on q1; q2 is served meanwhile; then q1's next command ends the wait."""
    first = q1.send(q1.rw_sqe(0x05, nsid, slba, 1, fuse=0x1), data_out=pattern(6, 1))
    q2.write(nsid, slba + 4, pattern(7, 1))
    check(q2.read(nsid, slba + 4, 1) == pattern(7, 1), "other queue while a first waits")
    check(q1.read(nsid, slba + 4, 1) == pattern(7, 1), "Read after the waiting first")
    check(q1.wait(first)[0] == MISSING_FUSED, "the waiting first")


def check_abandoned(port, cntlid, nsid, slba):
    """Connections closed while the target holds fused commands."""
    q = Host(port)
    q.connect(qid=3, cntlid=cntlid)
    q.send(q.rw_sqe(0x05, nsid, slba, 1, fuse=0x1), data_out=pattern(8, 1))
    q.close()
    q = Host(port)
    q.connect(qid=4, cntlid=cntlid)
    # The Write's R2T is never answered: the Compare is held, waiting for it.
    q.send_fused(nsid, slba, 1, pattern(8, 1), pattern(9, 1), r2t=(False, True))
    q.close()


def check_ana(rpc, port):
    """An inaccessible path refuses the pair: both commands get the path's status."""
    admin, q = io_host(port, CNODE_ANA)
    q.write(1, 0, pattern(13, 1))
    rpc.call("nvmf_subsystem_listener_set_ana_state",
             {"nqn": CNODE_ANA, "listen_address": listen(port), "ana_state": "inaccessible"})
    for mode in ((False, False), (False, True)):
        got = q.compare_and_write(1, 0, 1, pattern(13, 1), pattern(14, 1), r2t=mode)
        check(got == (ANA_INACCESSIBLE, ANA_INACCESSIBLE),
              "pair on an inaccessible path (R2T %r): %#x %#x" % (mode, got[0], got[1]))
    rpc.call("nvmf_subsystem_listener_set_ana_state",
             {"nqn": CNODE_ANA, "listen_address": listen(port), "ana_state": "optimized"})
    check(q.read(1, 0, 1) == pattern(13, 1), "a pair refused by the path wrote")
    q.close()
    admin.close()


def io_host(port, subnqn, hostid=nvme_tcp_host.HOSTID):
    """A controller of \p hostid: its admin queue (enabled) and one I/O queue."""
    admin = Host(port, hostid)
    cntlid = admin.connect(subnqn=subnqn)
    admin.enable()
    q = Host(port, hostid)
    q.connect(qid=1, cntlid=cntlid, subnqn=subnqn)
    return admin, q


def check_reservation(port):
    """The pair is a write: a Write Exclusive reservation of another host refuses it."""
    a_admin, a = io_host(port, CNODE_ANA)
    b_admin, b = io_host(port, CNODE_ANA, OTHER_HOSTID)
    key = struct.pack("<QQ", 0, 0x1234)
    check(a.command(a.rw_sqe(0x0d, 1, 0, 1)[:40] + bytes(24), data_out=key)[0] == 0,
          "Reservation Register")
    acquire = bytearray(64)
    acquire[0] = 0x11
    struct.pack_into("<II", acquire, 4, 1, 0)
    struct.pack_into("<I", acquire, 40, 1 << 8)  # Acquire, Write Exclusive
    check(a.command(acquire, data_out=struct.pack("<QQ", 0x1234, 0))[0] == 0,
          "Reservation Acquire")
    old = pattern(15, 1)
    a.write(1, 2, old)
    # A Compare alone is a read, which Write Exclusive lets other hosts do.
    status = b.command(b.rw_sqe(0x05, 1, 2, 1), data_out=old)[0]
    check(status == 0, "Compare of another host under Write Exclusive: %#x" % status)
    got = b.compare_and_write(1, 2, 1, old, pattern(16, 1))
    check(got == (RESERVATION_CONFLICT, DNR | FAILED_FUSED),
          "pair of another host under Write Exclusive: %#x %#x" % got)
    check(a.read(1, 2, 1) == old, "a pair refused by the reservation wrote")
    for h in (a, a_admin, b, b_admin):
        h.close()


def check_native(q, admin, slba):
    """A namespace whose bdev compares and writes: the pair works."""
    check(fuses(admin) & 1, "FUSES bit 0 clear with an RBD namespace")
    # One 512-byte block, as hosts use it for locks (librbd's compare and
    # write may refuse extents over more than one sector).
    for mode in R2T_MODES:
        old, new = pattern(10, 1), pattern(11, 1)
        q.write(RBD_NSID, slba, old)
        got = q.compare_and_write(RBD_NSID, slba, 1, old, new, r2t=mode)
        check(got == (0, 0), "matching pair (R2T %r): %#x %#x" % (mode, got[0], got[1]))
        check(q.read(RBD_NSID, slba, 1) == new, "matching pair did not write")
        got = q.compare_and_write(RBD_NSID, slba, 1, old, pattern(12, 1), r2t=mode)
        check(got == (COMPARE_FAILURE, DNR | FAILED_FUSED),
              "miscompare (R2T %r): %#x %#x" % (mode, got[0], got[1]))
        check(q.read(RBD_NSID, slba, 1) == new, "a miscompare wrote")


def serve(nvtcpd, tmpdir, rbd_bdevs):
    port = free_port()
    path = os.path.join(tmpdir, "fused.json")
    with open(path, "w") as f:
        json.dump(config_doc(port, rbd_bdevs), f)
    daemon = Daemon(nvtcpd, ["-m", "0x1", "-c", path], os.path.join(tmpdir, "fused.sock"))
    try:
        daemon.wait_output(":%d" % port)
        admin = Host(port)
        cntlid = admin.connect()
        admin.enable()
        q1, q2 = Host(port), Host(port)
        q1.connect(qid=1, cntlid=cntlid)
        q2.connect(qid=2, cntlid=cntlid)
        if not rbd_bdevs:
            check(fuses(admin) == 0, "FUSES %#x with no namespace able" % fuses(admin))
        check_refused_pairs(q1, MALLOC_NSID, 0)
        check_lone_commands(q1, MALLOC_NSID, 16)
        check_other_queue(q1, q2, MALLOC_NSID, 32)
        check_ana(daemon.client(), port)
        check_reservation(port)
        if rbd_bdevs:
            check_native(q2, admin, 0)
            check_lone_commands(q2, RBD_NSID, 16)
        check_abandoned(port, cntlid, MALLOC_NSID, 48)
        check(q2.read(MALLOC_NSID, 16, 1) == pattern(3, 1), "served after the closed queues")
        for h in (q1, q2, admin):
            h.close()
        err = daemon.stop()
        check("fused compare and write refused" in err,
              "no log line for the refused pairs:\n%s" % err)
    finally:
        daemon.kill()


def run_cluster(nvtcpd, tmpdir):
    """The RBD mode: a throw-away cluster and one image beside the malloc namespace."""
    try:
        import ceph_cluster
    except ImportError as e:
        raise Skip("no Ceph cluster helper: %s" % e)
    try:
        ceph_cluster.require_ceph()
    except ceph_cluster.CephUnavailable as e:
        raise Skip(str(e))
    with ceph_cluster.CephCluster() as cluster:
        cluster.rbd("create", "--size", "16M", "rbd/fused")
        rbd = [{"method": "bdev_rbd_register_cluster",
                "params": {"name": "ceph0", "user_id": cluster.user_id,
                           "config_file": cluster.conf_path,
                           "key_file": cluster.keyring_path}},
               {"method": "bdev_rbd_create",
                "params": {"name": "Rbd0", "pool_name": "rbd", "rbd_name": "fused",
                           "block_size": BS, "cluster_name": "ceph0"}}]
        serve(nvtcpd, tmpdir, rbd)


def has_rbd(nvtcpd, tmpdir):
    daemon = Daemon(nvtcpd, ["-m", "0x1"], os.path.join(tmpdir, "probe.sock"))
    try:
        daemon.wait_output("nvtcpd")
        methods = daemon.client().call("rpc_get_methods")
        daemon.stop()
    finally:
        daemon.kill()
    return "bdev_rbd_create" in methods


def main(argv):
    args = [a for a in argv[1:] if a != "--cluster"]
    cluster = "--cluster" in argv[1:]
    if len(args) != 1 or not os.access(args[0], os.X_OK):
        print(__doc__)
        print("missing program among %r" % args)
        return 77
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            if cluster:
                if not has_rbd(args[0], tmpdir):
                    raise Skip("nvtcpd has no RBD bdev module (bdev_rbd_create)")
                run_cluster(args[0], tmpdir)
            else:
                serve(args[0], tmpdir, [])
    except Skip as e:
        print("SKIP: %s" % e)
        return 77
    except (Failure, RpcError) as e:
        print("FAIL: %s" % e)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
