#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The stats methods SPDK's tools read, against nvtcpd with a host doing I/O.

usage: stats_rpc_test.py NVTCPD

Starts nvtcpd (two reactors where the test may use two cores) serving one
malloc namespace, then, with a raw NVMe/TCP host:
  - with no host: nvmf_subsystem_get_controllers and _get_qpairs are empty,
    no queue pair is counted;
  - a host connects an admin and an I/O queue: get_controllers lists its
    controller (cntlid, hostnqn, hostid, one I/O queue); get_qpairs lists
    both queues (enabled, on a poll group's thread, the listener's and the
    host's addresses); nvmf_get_stats counts one admin and one I/O queue;
  - READS reads of one block: nvmf_get_stats' completed_nvme_io grows by
    exactly READS, iobuf_get_stats' cache + main by exactly READS, and the
    poll group pollers of thread_get_pollers ran;
  - thread_get_stats' poller counts are thread_get_pollers' list lengths;
    thread_get_io_channels shows the namespace's channels; the scheduler is
    SPDK's static one;
  - once the host leaves, the lists are empty again; a subsystem that does
    not exist is refused naming the field.
nvtcpd must exit 0 on SIGTERM. Exit 0 on success, 1 on failure, 77 when
nvtcpd is missing.
"""

import json
import os
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
import nvtcp_test  # noqa: E402 (after the path)
from nvtcp_test import check, free_port  # noqa: E402
from nvme_tcp_host import Host  # noqa: E402

CNODE1 = "nqn.2016-06.io.spdk:cnode1"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
HOSTID = "00010203-0405-0607-0809-0a0b0c0d0e0f"  # the raw host's bytes(range(16))
READS = 37


def config_doc(port):
    nvmf = [{"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": CNODE1, "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": CNODE1, "namespace": {"bdev_name": "Malloc0"}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": CNODE1, "listen_address": {
                 "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 16384, "block_size": 512}}]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def core_mask():
    cores = sorted(os.sched_getaffinity(0))
    return "0x%x" % sum(1 << c for c in cores[:2])


def group_sum(stats, field):
    return sum(g[field] for g in stats["poll_groups"])


def buffers_taken(iobuf):
    tcp = [m for m in iobuf if m["module"] == "nvmf_TCP"]
    check(len(tcp) == 1, "iobuf_get_stats: no nvmf_TCP module: %r" % iobuf)
    return sum(tcp[0][pool]["cache"] + tcp[0][pool]["main"]
               for pool in ("small_pool", "large_pool"))


def group_poller_runs(pollers):
    return sum(p["run_count"] for t in pollers["threads"] for p in t["active_pollers"]
               if p["name"] == "nvmf_poll_group")


def read_block(host, lba):
    sqe = bytearray(64)
    sqe[0] = 0x02
    struct.pack_into("<I", sqe, 4, 1)
    struct.pack_into("<QI", sqe, 40, lba, 0)
    status, _, data = host.command(sqe, data_in_len=512)
    check(status == 0 and len(data) == 512, "read of LBA %d: status %#x" % (lba, status))


def check_no_host(client):
    check(client.call("nvmf_subsystem_get_controllers", {"nqn": CNODE1}) == [],
          "controllers with no host")
    check(client.call("nvmf_subsystem_get_qpairs", {"nqn": CNODE1}) == [],
          "queue pairs with no host")


def wait_no_host(client):
    """The host's sockets are closed; the target notices when it polls them."""
    end = time.time() + 20
    while time.time() < end:
        if (client.call("nvmf_subsystem_get_qpairs", {"nqn": CNODE1}) == [] and
                group_sum(client.call("nvmf_get_stats"), "current_io_qpairs") == 0):
            break
    check_no_host(client)
    stats = client.call("nvmf_get_stats")
    check(group_sum(stats, "current_admin_qpairs") == 0 and
          group_sum(stats, "current_io_qpairs") == 0, "queues counted after the host left")


def check_connected(client, cntlid, port, peers):
    ctrlrs = client.call("nvmf_subsystem_get_controllers", {"nqn": CNODE1})
    check(ctrlrs == [{"cntlid": cntlid, "hostnqn": HOSTNQN, "hostid": HOSTID,
                      "num_io_qpairs": 1}], "get_controllers: %r" % ctrlrs)
    qpairs = sorted(client.call("nvmf_subsystem_get_qpairs", {"nqn": CNODE1}),
                    key=lambda q: q["qid"])
    check([q["qid"] for q in qpairs] == [0, 1], "get_qpairs: %r" % qpairs)
    threads = {t["name"] for t in client.call("thread_get_stats")["threads"]}
    for q, peer in zip(qpairs, peers):
        check(q["cntlid"] == cntlid and q["state"] == "enabled" and q["hostnqn"] == HOSTNQN,
              "get_qpairs entry: %r" % q)
        check(q["thread"] in threads and q["thread"].startswith("nvmf_tgt_poll_group"),
              "get_qpairs thread: %r" % q)
        check(q["listen_address"] == {"trtype": "TCP", "adrfam": "IPv4",
                                      "traddr": "127.0.0.1", "trsvcid": str(port)},
              "listen_address: %r" % q)
        check(q["peer_address"]["trsvcid"] == str(peer), "peer_address: %r, host port %d" %
              (q, peer))
    stats = client.call("nvmf_get_stats")
    check(group_sum(stats, "current_admin_qpairs") == 1 and
          group_sum(stats, "current_io_qpairs") == 1, "nvmf_get_stats queues: %r" % stats)


def check_threads(client):
    stats = {t["id"]: t for t in client.call("thread_get_stats")["threads"]}
    pollers = client.call("thread_get_pollers")
    check(pollers["tick_rate"] > 0, "thread_get_pollers tick_rate")
    check({t["id"] for t in pollers["threads"]} == set(stats), "threads differ")
    for t in pollers["threads"]:
        s = stats[t["id"]]
        for kind in ("active", "timed", "paused"):
            check(len(t[kind + "_pollers"]) == s[kind + "_pollers_count"],
                  "%s: %s pollers %r, count %d" % (t["name"], kind, t[kind + "_pollers"],
                                                   s[kind + "_pollers_count"]))
        ids = [p["id"] for k in ("active", "timed", "paused") for p in t[k + "_pollers"]]
        check(len(set(ids)) == len(ids) and all(i > 0 for i in ids), "poller ids %r" % ids)
        for p in t["timed_pollers"] + t["paused_pollers"]:
            check(p.get("period_ticks", 1) > 0, "period_ticks of %r" % p)
        for p in t["active_pollers"]:
            check("period_ticks" not in p, "an active poller with a period: %r" % p)
    channels = client.call("thread_get_io_channels")["threads"]
    groups = [t for t in channels if t["name"].startswith("nvmf_tgt_poll_group")]
    check(groups and all(any(c["name"] == "Malloc0" and c["ref"] >= 1 for c in t["io_channels"])
                         for t in groups), "poll groups without Malloc0's channel: %r" % channels)
    sched = client.call("framework_get_scheduler")
    check(sched["scheduler_name"] == "static" and sched["scheduler_period"] > 0,
          "framework_get_scheduler: %r" % sched)


def run_host(client, port):
    admin = Host(port, HOSTNQN)
    status, cdw0 = admin.connect(CNODE1)
    check(status == 0, "admin Connect: %#x" % status)
    admin.enable()
    io = Host(port, HOSTNQN)
    status, _ = io.connect(CNODE1, qid=1, cntlid=cdw0 & 0xffff)
    check(status == 0, "I/O Connect: %#x" % status)
    peers = [admin.sock.getsockname()[1], io.sock.getsockname()[1]]
    check_connected(client, cdw0 & 0xffff, port, peers)
    before = (group_sum(client.call("nvmf_get_stats"), "completed_nvme_io"),
              buffers_taken(client.call("iobuf_get_stats")),
              group_poller_runs(client.call("thread_get_pollers")))
    for lba in range(READS):
        read_block(io, lba)
    after = (group_sum(client.call("nvmf_get_stats"), "completed_nvme_io"),
             buffers_taken(client.call("iobuf_get_stats")),
             group_poller_runs(client.call("thread_get_pollers")))
    check(after[0] - before[0] == READS, "completed_nvme_io grew by %d for %d reads" %
          (after[0] - before[0], READS))
    check(after[1] - before[1] == READS, "iobuf buffers taken grew by %d for %d reads" %
          (after[1] - before[1], READS))
    check(after[2] > before[2],
          "poll group pollers did not run: %d -> %d" % (before[2], after[2]))
    check_threads(client)
    io.close()
    admin.close()


def run(nvtcpd):
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nvtcp-stats-") as tmpdir:
        path = os.path.join(tmpdir, "config.json")
        with open(path, "w") as f:
            json.dump(config_doc(port), f)
        daemon = nvtcp_test.Daemon(nvtcpd, ["-c", path, "-m", core_mask()],
                                   os.path.join(tmpdir, "rpc.sock"))
        try:
            daemon.wait_output("nvme connect")
            client = daemon.client()
            check_no_host(client)
            run_host(client, port)
            wait_no_host(client)
            try:
                client.call("nvmf_subsystem_get_qpairs", {"nqn": CNODE1 + "x"})
                raise nvtcp_test.Failure("a missing subsystem was not refused")
            except nvtcp_test.RpcError as e:
                check("nqn" in str(e), "refusal does not name the field: %s" % e)
            client.close()
            daemon.stop()
        finally:
            daemon.kill()
    return "%d reads counted exactly" % READS


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
