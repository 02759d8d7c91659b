#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two nvtcpd gateways exporting one RBD image with ANA, one killed under
verified load.

usage: rbd_gateways_test.py NVTCPD

One throw-away cluster, one image. Gateways A and B export it under the
same subsystem NQN with ANA reporting, disjoint controller ID ranges and the
same namespace identity; A's listener is optimized, B's non-optimized. A raw
host connected to both checks:
  - each gateway shows its librados client address (bdev_get_bdevs and
    bdev_rbd_get_clusters_info), and the two differ;
  - Identify Namespace and the Namespace Identification Descriptor list are
    the same byte for byte through A and B, and hold the configured IDs;
    the ANA log gives each path its state;
  - both paths writing at once (B made optimized too), disjoint blocks
    through each, then every block read back through the other gateway;
  - verified load through A (unique content per block and generation,
    several queues, several commands in flight on each); A is killed
    (SIGKILL) under it; then, as an orchestrator would, A's client address
    is blocklisted (fenced) and B's listener made optimized; the host writes
    again through B what was in flight on A, carries on through B, and
    every block then reads back through B as its last acknowledged write;
    the same again with a new gateway in A's place, not fenced (the OSDs'
    watch timeout lowered to 10 s), the data verified as well (printed: how
    long B's first write waited, how long a read through B took meanwhile);
  - a live gateway blocklisted by the cluster fails its writes with a path error
    (the host may retry them elsewhere), never acknowledges one, and reads
    nothing wrong;
  - B exits 0 on SIGTERM with a clean sanitizer report.
The rates of each phase and the time from the kill to the first write
completed through B are printed, never asserted.
Exit 0 on success, 1 on failure, 77 when nvtcpd or Ceph is missing.
"""

import struct
import sys
import threading
import time

import rbd_common as rc
from rbd_common import check, nvtcp_test
from nvme_tcp_host import Host

NQN = "nqn.2016-06.io.nvtcp:rbdgw"
NGUID = "4E5654435042440000000000000000A1"
UUID = "4e565443-5042-4400-8000-0000000000a1"
EUI64 = "4E565443504244A1"
BLOCK = 4096
# The blocks the load writes (4 MiB of the image).
NBLOCKS = 1024
QUEUES = 4
DEPTH = 4
PHASE_SECONDS = 3.0
# The OSDs' osd_client_watch_timeout (30 s by default) for the failover
# without fencing: how long a dead gateway's watch, and so its lock, lasts.
WATCH_TIMEOUT = 10
OPT, NONOPT = 1, 2
MAGIC = 0x6e767463706777  # "nvtcpgw"


def listen(port):
    return {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": str(port)}


def gateway_config(cluster, port, cntlids, ana_state):
    nvmf = [{"method": "nvmf_create_transport",
             "params": {"trtype": "TCP", "in_capsule_data_size": BLOCK}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": NQN, "allow_any_host": True, "serial_number": "RBDGW0001",
                        "model_number": "nvtcpd rbd gateway", "ana_reporting": True,
                        "min_cntlid": cntlids[0], "max_cntlid": cntlids[1]}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": NQN, "namespace": {
                 "nsid": 1, "bdev_name": "Rbd0", "anagrpid": 1, "nguid": NGUID,
                 "uuid": UUID, "eui64": EUI64}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": NQN, "listen_address": listen(port), "ana_state": ana_state,
                        "anagrpid": 1}}]
    bdev = [rc.register_cluster(cluster), rc.rbd_create("Rbd0", "img0", block_size=BLOCK,
                                                         uuid=UUID)]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def client_address(t):
    """The gateway's librados address, the same from both RPCs."""
    bdev = t.rpc.call("bdev_get_bdevs", {"name": "Rbd0"})[0]
    addr = bdev["driver_specific"]["rbd"].get("client_address")
    check(addr, "bdev_get_bdevs shows no client_address: %r" % bdev["driver_specific"])
    info = t.rpc.call("bdev_rbd_get_clusters_info", {"name": "c1"})
    check(info.get("client_address") == addr,
          "bdev_rbd_get_clusters_info's client_address %r, the bdev's %r" %
          (info.get("client_address"), addr))
    return addr


def set_ana(t, port, state):
    t.rpc.call("nvmf_subsystem_listener_set_ana_state",
               {"nqn": NQN, "listen_address": listen(port), "ana_state": state, "anagrpid": 1})


# ---- the host ----

class Path:
    """The host's controller through one gateway: an admin queue, QUEUES I/O queues."""

    def __init__(self, port, timeout=120):
        self.admin = Host(port, rc.HOSTNQN, timeout=timeout)
        status, cdw0 = self.admin.connect(NQN)
        check(status == 0, "admin connect on %d: %#x" % (port, status))
        self.cntlid = cdw0 & 0xffff
        self.admin.enable()
        self.queues = []
        for qid in range(1, QUEUES + 2):
            q = Host(port, rc.HOSTNQN, timeout=timeout)
            status, _ = q.connect(NQN, qid=qid, cntlid=self.cntlid)
            check(status == 0, "I/O queue %d connect on %d: %#x" % (qid, port, status))
            self.queues.append(q)
        # The last queue reads while the others write.
        self.reader = self.queues.pop()

    def close(self):
        for h in [self.admin, self.reader] + self.queues:
            h.close()


def ana_states(admin):
    """{group: (state, [nsids])} from the ANA log page."""
    data = admin.get_log(0x0c, 4096)
    _, ngrps = struct.unpack_from("<QH", data, 0)
    groups, off = {}, 16
    for _ in range(ngrps):
        grp, nnsids, _, state = struct.unpack_from("<IIQB", data, off)
        off += 32
        groups[grp] = (state & 0xf, list(struct.unpack_from("<%dI" % nnsids, data, off)))
        off += 4 * nnsids
    return groups


def ns_descriptors(data):
    """{NIDT: NID} of a Namespace Identification Descriptor list."""
    out, off = {}, 0
    while off + 4 <= len(data) and data[off] != 0:
        nidt, nidl = data[off], data[off + 1]
        out[nidt] = bytes(data[off + 4:off + 4 + nidl])
        off += 4 + nidl
    return out


def content(block, gen):
    """4 KiB that only this block's generation \\p gen holds."""
    return struct.pack("<QQQQ", MAGIC, block, gen, block ^ (gen << 20)) * (BLOCK // 32)


class Load:
    """What the host knows of the blocks: the last acknowledged generation of
    each, and the generations given so far. Each worker owns the blocks
    b with b % nworkers == its index, so no block has two writes in flight."""

    def __init__(self):
        self.acked = {}
        self.gens = {}

    def next_gen(self, block):
        self.gens[block] = self.gens.get(block, 0) + 1
        return self.gens[block]


class Worker(threading.Thread):
    """Writes through one queue with DEPTH commands in flight, until \\p stop
    is set or its connection ends (then .unsure holds the writes whose fate is
    unknown). \\p first is written before anything else."""

    def __init__(self, load, q, blocks, stop, first=(), started=None):
        super().__init__(daemon=True)
        self.load, self.q, self.blocks, self.stop = load, q, list(blocks), stop
        self.first = list(first)
        self.started = started
        self.count = 0
        self.first_done = None
        self.unsure = []
        self.error = None
        self.next = 0

    def pick(self, busy):
        if self.first:
            return self.first.pop(0)
        for _ in range(len(self.blocks)):
            b = self.blocks[self.next % len(self.blocks)]
            self.next = (self.next * 7 + 13) % (1 << 30)
            if b not in busy:
                return b, self.load.next_gen(b)
        return None

    def run(self):
        outstanding = {}
        pending = None
        try:
            while True:
                while not self.stop.is_set() and len(outstanding) < DEPTH:
                    busy = {b for b, _ in outstanding.values()}
                    pending = self.pick(busy)
                    if pending is None:
                        break
                    b, gen = pending
                    cid = self.q.send(rc.io_sqe(0x01, 1, b, 1), data_out=content(b, gen))
                    outstanding[cid] = pending
                    pending = None
                if not outstanding:
                    return
                self.q.recv_one()
                for cid in list(self.q.done):
                    status = self.q.done.pop(cid)[0]
                    b, gen = outstanding.pop(cid)
                    if status != 0:
                        self.error = "write of block %d failed: %#x" % (b, status)
                        self.stop.set()
                        continue
                    self.load.acked[b] = gen
                    self.count += 1
                    if self.first_done is None:
                        self.first_done = time.monotonic()
                    if self.started is not None:
                        self.started.set()
        except (nvtcp_test.Failure, OSError):
            self.unsure = list(outstanding.values()) + ([pending] if pending else [])
            self.unsure += self.first


def owned(i, nworkers, blocks=range(NBLOCKS)):
    return [b for b in blocks if b % nworkers == i]


def run_load(load, queues, blocks, seconds, firsts=None, meanwhile=None):
    """Write \\p blocks through \\p queues for \\p seconds from the first write
    acknowledged (\\p meanwhile(workers) runs once they started, if given):
    (writes acknowledged, workers)."""
    stop = threading.Event()
    started = threading.Event()
    workers = [Worker(load, q, owned(i, len(queues), blocks), stop,
                      first=firsts[i] if firsts else (), started=started)
               for i, q in enumerate(queues)]
    for w in workers:
        w.start()
    if meanwhile is not None:
        meanwhile(workers)
    started.wait(120)
    time.sleep(seconds)
    stop.set()
    for w in workers:
        w.join(60)
        check(not w.is_alive(), "a writer did not end")
        check(w.error is None, w.error)
    return sum(w.count for w in workers), workers


def verify(load, q, blocks, through):
    """Every block of \\p blocks reads back through \\p q as its last acknowledged write."""
    for b in blocks:
        status, data = rc.read(q, 1, b, 1, block=BLOCK)
        check(status == 0, "read of block %d through %s: %#x" % (b, through, status))
        gen = load.acked.get(b)
        want = content(b, gen) if gen else bytes(BLOCK)
        if data != want:
            got = struct.unpack_from("<QQQ", data, 0)
            raise nvtcp_test.Failure("block %d through %s: generation %r (magic %#x block %d), "
                                     "last acknowledged %r" % (b, through, got[2], got[0],
                                                               got[1], gen))


# ---- the checks ----

def check_identity(pa, pb, addr_a, addr_b):
    check(addr_a != addr_b, "both gateways show client address %s" % addr_a)
    check(1 <= pa.cntlid <= 999 and 1000 <= pb.cntlid <= 1999,
          "controller IDs %d (A) and %d (B) outside their ranges" % (pa.cntlid, pb.cntlid))
    ns_a, ns_b = pa.admin.identify(0, nsid=1), pb.admin.identify(0, nsid=1)
    check(ns_a == ns_b, "Identify Namespace differs through A and B")
    check(ns_a[104:120] == bytes.fromhex(NGUID) and ns_a[120:128] == bytes.fromhex(EUI64),
          "Identify Namespace NGUID/EUI64 %s/%s" % (ns_a[104:120].hex(), ns_a[120:128].hex()))
    check(struct.unpack_from("<I", ns_a, 92)[0] == 1, "ANAGRPID is not 1")
    desc_a, desc_b = pa.admin.identify(3, nsid=1), pb.admin.identify(3, nsid=1)
    check(desc_a == desc_b, "the NS descriptor lists differ through A and B")
    ids = ns_descriptors(desc_a)
    want = {1: bytes.fromhex(EUI64), 2: bytes.fromhex(NGUID),
            3: bytes.fromhex(UUID.replace("-", ""))}
    check(all(ids.get(k) == v for k, v in want.items()),
          "NS descriptors %r, want %r" % ({k: v.hex() for k, v in ids.items()},
                                          {k: v.hex() for k, v in want.items()}))
    check(ana_states(pa.admin) == {1: (OPT, [1])}, "ANA log through A: %r" %
          ana_states(pa.admin))
    check(ana_states(pb.admin) == {1: (NONOPT, [1])}, "ANA log through B: %r" %
          ana_states(pb.admin))


def both_paths(load, a, b, pa, pb, port_b):
    """Disjoint blocks through A and B at once, each read back through the other."""
    set_ana(b, port_b, "optimized")
    check(ana_states(pb.admin) == {1: (OPT, [1])}, "B not optimized")
    t0 = time.monotonic()
    n, _ = run_load(load, pa.queues, range(NBLOCKS // 2), PHASE_SECONDS)
    alone = n / (time.monotonic() - t0)
    results = {}

    def side(name, path, blocks):
        results[name] = run_load(load, path.queues, blocks, PHASE_SECONDS)[0]

    threads = [threading.Thread(target=side, args=("A", pa, range(NBLOCKS // 2))),
               threading.Thread(target=side, args=("B", pb, range(NBLOCKS // 2, NBLOCKS)))]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.monotonic() - t0
    check(set(results) == {"A", "B"}, "a path's writer failed")
    verify(load, pb.queues[0], range(NBLOCKS // 2), "B")
    verify(load, pa.queues[0], range(NBLOCKS // 2, NBLOCKS), "A")
    set_ana(b, port_b, "non_optimized")
    print("4 KiB writes QD%d: A alone %.0f IOPS; A and B at once %.0f + %.0f = %.0f IOPS" %
          (QUEUES * DEPTH, alone, results["A"] / secs, results["B"] / secs,
           (results["A"] + results["B"]) / secs))


def failover(cluster, load, a, b, pa, pb, port_b, addr_a, fence=True):
    """A killed under load, fenced (or not); B made optimized; the host carries on
    through B."""
    stop = threading.Event()
    started = threading.Event()
    workers = [Worker(load, q, owned(i, QUEUES), stop, started=started)
               for i, q in enumerate(pa.queues)]
    for w in workers:
        w.start()
    check(started.wait(60), "no write completed through A")
    time.sleep(PHASE_SECONDS / 2)
    a.kill()
    killed = time.monotonic()
    for w in workers:
        w.join(60)
        check(not w.is_alive(), "a writer on A did not end after the kill")
        check(w.error is None, w.error)
    unsure = [w.unsure for w in workers]
    acked_on_a = sum(w.count for w in workers)
    # The orchestrator: fence A, then move the optimized path to B.
    if fence:
        cluster.ceph("osd", "blocklist", "add", addr_a)
    fenced = time.monotonic()
    set_ana(b, port_b, "optimized")
    check(ana_states(pb.admin) == {1: (OPT, [1])}, "B not optimized after the move")
    reads = []
    n, bw = run_load(load, pb.queues, range(NBLOCKS), PHASE_SECONDS, firsts=unsure,
                     meanwhile=lambda ws: reads.append(read_meanwhile(load, pb, ws, unsure)))
    check(any(w.first_done is not None for w in bw), "no write completed through B")
    first = min(w.first_done for w in bw if w.first_done is not None)
    print("failover %s: %d writes acknowledged by A, %d in flight at the kill; %s %.2f s "
          "after the kill; first write through B %.2f s after the kill; B then %.0f IOPS" %
          ("fenced" if fence else "without fencing", acked_on_a, sum(len(u) for u in unsure),
           "fenced" if fence else "B optimized", fenced - killed, first - killed,
           n / (time.monotonic() - first)))
    print("  a read through B right after the move took %.3f s, %s" % reads[0])
    verify(load, pb.queues[0], range(NBLOCKS), "B")


def read_meanwhile(load, path, workers, unsure):
    """Read a block no write concerns through \\p path's reader while \\p workers
    start writing: (when, how long, whether a write had completed by then)."""
    busy = {blk for u in unsure for blk, _ in u}
    blk = next(x for x in range(NBLOCKS) if x not in busy)
    gen = load.acked.get(blk)
    t0 = time.monotonic()
    status, data = rc.read(path.reader, 1, blk, 1, block=BLOCK)
    took = time.monotonic() - t0
    check(status == 0, "read through B after the move: %#x" % status)
    # The writers may have rewritten it meanwhile: the block holds a generation
    # at least the last acknowledged before the read.
    got = struct.unpack_from("<QQQ", data, 0)
    check(gen is None or (got[0] == MAGIC and got[1] == blk and got[2] >= gen and
                          data == content(blk, got[2])),
          "block %d read through B after the move: %r, acknowledged %r" % (blk, got, gen))
    done = any(w.first_done is not None and w.first_done < t0 + took for w in workers)
    return (took, "a write had completed by then" if done else "no write had completed yet")


def unfenced_failover(nvtcpd, cluster, tmp, load, b, pb, port_b):
    """A new gateway in A's place, optimized, killed under load and not fenced:
    B's writes wait until the cluster drops the dead gateway's watch. Returns
    the (killed) gateway."""
    cluster.ceph("config", "set", "osd", "osd_client_watch_timeout", str(WATCH_TIMEOUT))
    set_ana(b, port_b, "non_optimized")
    port = nvtcp_test.free_port()
    a = rc.Target(nvtcpd, gateway_config(cluster, port, (1, 999), "optimized"), tmp, "a2")
    try:
        pa = Path(port)
        failover(cluster, load, a, b, pa, pb, port_b, client_address(a), fence=False)
        pa.close()
    except BaseException:
        a.kill()
        raise
    return a


def blocklisted_live(nvtcpd, cluster, tmp, load):
    """A live gateway the cluster blocklisted: its writes fail, retryable, none acknowledged."""
    port = nvtcp_test.free_port()
    c = rc.Target(nvtcpd, gateway_config(cluster, port, (2000, 2999), "non_optimized"), tmp, "c")
    try:
        addr = client_address(c)
        pc = Path(port)
        blk = NBLOCKS
        gen = load.next_gen(blk)
        check(rc.write(pc.queues[0], 1, blk, content(blk, gen), block=BLOCK) == 0,
              "write through C before its fencing")
        load.acked[blk] = gen
        cluster.ceph("osd", "blocklist", "add", addr)
        gen = load.next_gen(blk)
        status = rc.write(pc.queues[0], 1, blk, content(blk, gen), block=BLOCK)
        check(status != 0, "a blocklisted gateway acknowledged a write")
        # Internal Path Error, DNR clear: a multipath host retries on another path.
        check(status == 0x300, "a blocklisted gateway's write: status %#x, want a path "
              "error (SCT 3h SC 00h) without DNR" % status)
        rstatus, data = rc.read(pc.queues[0], 1, blk, 1, block=BLOCK)
        check(rstatus == 0x300 or (rstatus == 0 and data == content(blk, load.acked[blk])),
              "a blocklisted gateway read block %d: status %#x" % (blk, rstatus))
        print("blocklisted live gateway: write status %#x (SCT %d SC %#x), read status %#x" %
              (status, (status >> 8) & 7, status & 0xff, rstatus))
        pc.close()
    finally:
        c.kill()
    return blk


def run(nvtcpd):
    rc.skip_without_ceph()
    tmp = rc.tmpdir()
    port_a, port_b = nvtcp_test.free_port(), nvtcp_test.free_port()
    with rc.ceph_cluster.CephCluster() as cluster:
        cluster.rbd("create", "--size", "64M", "rbd/img0")
        a = rc.Target(nvtcpd, gateway_config(cluster, port_a, (1, 999), "optimized"), tmp, "a")
        b = None
        try:
            b = rc.Target(nvtcpd, gateway_config(cluster, port_b, (1000, 1999), "non_optimized"),
                          tmp, "b")
            addr_a, addr_b = client_address(a), client_address(b)
            print("client addresses: A %s, B %s" % (addr_a, addr_b))
            pa, pb = Path(port_a), Path(port_b)
            check_identity(pa, pb, addr_a, addr_b)
            load = Load()
            both_paths(load, a, b, pa, pb, port_b)
            failover(cluster, load, a, b, pa, pb, port_b, addr_a)
            pa.close()
            a = unfenced_failover(nvtcpd, cluster, tmp, load, b, pb, port_b)
            blk = blocklisted_live(nvtcpd, cluster, tmp, load)
            verify(load, pb.queues[0], [blk], "B")
            pb.close()
        except BaseException:
            a.kill()
            if b is not None:
                b.kill()
            raise
        b.stop()
    return None


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
