#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""nvtcpd idle: how often it wakes up and how much CPU it uses with nothing to do.

Starts nvtcpd (one reactor, interrupt mode, the default) on a free port and
samples /proc for SAMPLE_S seconds twice: with no host, then with IDLE_CTRLRS
controllers connected (admin queue enabled, one I/O queue each, KATO 0) and
silent. Each phase prints the wakeups per second (voluntary context switches
of all of nvtcpd's threads: each is a sleep that ended) and the CPU it used
(utime + stime, and the scheduler's runtime from schedstat), as % of a core.

Asserted, as it does not depend on the machine's load: fewer than
MAX_WAKEUPS_PER_S wakeups per second in each phase. A timer polling every
10 ms (an accept poller, a per-connection poll) would make 100 a second. The
CPU figures are only printed: bench/idle/run.sh compares them with the aims.
"""

import glob
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from nvtcp_test import Daemon, check, free_port, test_main  # noqa: E402
from nvme_tcp_host import Host  # noqa: E402

NQN = "nqn.2016-06.io.nvtcp:idle"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:6e767463-702d-6964-6c65-000000000001"
SAMPLE_S = 10
IDLE_CTRLRS = 10
MAX_WAKEUPS_PER_S = 10
HZ = os.sysconf("SC_CLK_TCK")


def config(port):
    return {"subsystems": [
        {"subsystem": "bdev", "config": [
            {"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 16384, "block_size": 512}}]},
        {"subsystem": "nvmf", "config": [
            {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": NQN, "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": NQN, "namespace": {"bdev_name": "Malloc0"}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": NQN, "listen_address": {
                 "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]}]}


def snapshot(pid):
    """(voluntary context switches, runtime ns, utime + stime ticks) of all threads of pid."""
    switches = runtime = 0
    for task in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(task + "/status") as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        switches += int(line.split()[1])
            with open(task + "/schedstat") as f:
                runtime += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return switches, runtime, int(fields[11]) + int(fields[12])


def sample(pid, what):
    s0, r0, t0 = snapshot(pid)
    w0 = time.monotonic()
    time.sleep(SAMPLE_S)
    s1, r1, t1 = snapshot(pid)
    secs = time.monotonic() - w0
    wakeups = (s1 - s0) / secs
    print("%-40s wakeups %6.1f/s  CPU %.3f %% of a core (schedstat), %.2f %% (utime+stime)" %
          (what, wakeups, 100.0 * (r1 - r0) / 1e9 / secs, 100.0 * (t1 - t0) / HZ / secs))
    check(wakeups < MAX_WAKEUPS_PER_S,
          "%s: %.1f wakeups/s, want fewer than %d" % (what, wakeups, MAX_WAKEUPS_PER_S))


def connect_ctrlr(port):
    """An enabled controller with one I/O queue, KATO 0; returns its two connections."""
    admin = Host(port, HOSTNQN)
    status, cdw0 = admin.connect(NQN)
    check(status == 0, "admin connect: status %#x" % status)
    admin.enable()
    io = Host(port, HOSTNQN)
    status, _ = io.connect(NQN, qid=1, cntlid=cdw0 & 0xffff)
    check(status == 0, "I/O queue connect: status %#x" % status)
    return [admin, io]


def run(nvtcpd):
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nvtcp-idle-") as tmp:
        path = os.path.join(tmp, "nvtcpd.json")
        with open(path, "w") as f:
            json.dump(config(port), f)
        daemon = Daemon(nvtcpd, ["-m", "0x1", "-c", path], os.path.join(tmp, "rpc.sock"))
        conns = []
        try:
            daemon.wait_output("listening on 127.0.0.1:%d" % port)
            time.sleep(1)
            sample(daemon.proc.pid, "no host")
            for _ in range(IDLE_CTRLRS):
                conns += connect_ctrlr(port)
            time.sleep(1)
            sample(daemon.proc.pid, "%d idle controllers (%d queue pairs)" %
                   (IDLE_CTRLRS, len(conns)))
            for c in conns:
                c.close()
            conns = []
            daemon.stop()
        finally:
            for c in conns:
                c.close()
            daemon.kill()
    return "idle wakeups under %d/s" % MAX_WAKEUPS_PER_S


if __name__ == "__main__":
    sys.exit(test_main(__doc__, sys.argv, 1, run))
