#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""framework_get_reactors and thread_get_stats against nvtcpd, read as a tool
reads them from SPDK's nvmf_tgt.

usage: reactor_stats_test.py NVTCPD

Starts nvtcpd --wait-for-rpc on cores 0 and 1 (core 0 alone where the test
may not use both) with no listener, then checks:
  - before framework_start_init both are refused with code -1 (runtime
    methods, as in SPDK);
  - each answer has every field of SPDK v26.05's, with its JSON type, and
    integers where SPDK has them;
  - tick_rate > 0, pid the daemon's; one reactor per core of -m, each with
    tid a thread of that pid; lw_threads hold app_thread (first core) and a
    poll group per core, the same threads thread_get_stats lists;
  - while RPCs keep the app thread working, busy grows on its reactor and on
    app_thread, and busy + idle of each reactor (and elapsed of each of its
    threads) grows with wall time: the reactor's clock is CLOCK_MONOTONIC,
    the test's too;
  - params are refused with SPDK's message and code; {} counts as none.
nvtcpd must exit 0 on SIGTERM. Exit 0 on success, 1 on failure, 77 when
nvtcpd is missing.
"""

import os
import sys
import tempfile
import time

import spdk_data  # first: it puts test/common on the path
import nvtcp_test
from nvtcp_test import check
from rpc_replay_test import shape_problems

# SPDK v26.05's answers, captured from its nvmf_tgt (one reactor on core 0).
SPDK_REACTORS = {
    "tick_rate": 2100000000, "pid": 8369, "reactors": [{
        "lcore": 0, "numa_id": 0, "tid": 8369, "busy": 671364834, "idle": 1606664577,
        "in_interrupt": False, "irq": 0, "sys": 30, "usr": 78,
        "lw_threads": [{"name": "app_thread", "id": 1, "cpumask": "1", "elapsed": 2279388426},
                       {"name": "nvmf_tgt_poll_group_000", "id": 2, "cpumask": "1",
                        "elapsed": 1989299298}]}]}
SPDK_THREADS = {
    "tick_rate": 2100000000, "threads": [{
        "name": "app_thread", "id": 1, "cpumask": "1", "busy": 662864412, "idle": 853541430,
        "active_pollers_count": 0, "timed_pollers_count": 2, "paused_pollers_count": 0}]}

# Time a reactor may have spent in the iteration running when it was asked,
# which its counters do not hold yet (a loaded, shared machine: generous).
SLACK = 0.1
# Wall time between the two samples.
SPAN = 0.5


def integers(spdk, ours, path):
    """Where SPDK answers an integer, ours is one too (not a float, not a bool)."""
    if isinstance(spdk, bool) or not isinstance(spdk, (int, dict, list)):
        return
    if isinstance(spdk, int):
        check(isinstance(ours, int) and not isinstance(ours, bool),
              "%s: %r is not an integer" % (path, ours))
    elif isinstance(spdk, dict):
        for k in spdk:
            integers(spdk[k], ours[k], "%s.%s" % (path, k))
    elif spdk and ours:
        for o in ours:
            integers(spdk[0], o, path + "[]")


def check_shape(method, spdk, ours):
    problems = shape_problems(spdk, ours, "result")
    check(not problems,
          "%s: answer shape differs from SPDK's:\n  %s" % (method, "\n  ".join(problems)))
    integers(spdk, ours, method)


def cores():
    """-m for the test: cores 0 and 1 where it may use both."""
    mine = os.sched_getaffinity(0)
    return [0, 1] if {0, 1} <= mine else [0]


def sample(client):
    """(time before, framework_get_reactors, thread_get_stats, time after)."""
    before = time.monotonic()
    reactors = client.call("framework_get_reactors")
    threads = client.call("thread_get_stats")
    return before, reactors, threads, time.monotonic()


def check_static(daemon, want_cores, reactors, threads):
    check_shape("framework_get_reactors", SPDK_REACTORS, reactors)
    check_shape("thread_get_stats", SPDK_THREADS, threads)
    check(reactors["tick_rate"] > 0 and threads["tick_rate"] == reactors["tick_rate"],
          "tick_rate %r / %r" % (reactors["tick_rate"], threads["tick_rate"]))
    check(reactors["pid"] == daemon.proc.pid,
          "pid %r, the daemon is %d" % (reactors["pid"], daemon.proc.pid))
    lcores = [r["lcore"] for r in reactors["reactors"]]
    check(lcores == want_cores, "reactors on cores %r, -m gave %r" % (lcores, want_cores))
    lw = {}
    for r in reactors["reactors"]:
        check(os.path.isdir("/proc/%d/task/%d" % (daemon.proc.pid, r["tid"])),
              "core %d: tid %r is no thread of pid %d" % (r["lcore"], r["tid"], daemon.proc.pid))
        names = [t["name"] for t in r["lw_threads"]]
        check(any(n.startswith("nvmf_tgt_poll_group_") for n in names),
              "core %d: no poll group among %r" % (r["lcore"], names))
        check(("app_thread" in names) == (r["lcore"] == want_cores[0]),
              "core %d: threads %r (app_thread belongs to the first core)" % (r["lcore"], names))
        for t in r["lw_threads"]:
            check(t["cpumask"] == "%x" % (1 << r["lcore"]),
                  "core %d: thread %s has cpumask %r" % (r["lcore"], t["name"], t["cpumask"]))
            lw[t["id"]] = t["name"]
    listed = {t["id"]: t["name"] for t in threads["threads"]}
    check(listed == lw, "thread_get_stats lists %r, the reactors hold %r" % (listed, lw))


def grew(what, before, after, inner, outer):
    """\\p after - \\p before (ticks) spans the wall time between the samples."""
    delta = after - before
    check(inner - SLACK <= delta <= outer + SLACK,
          "%s grew by %.3f s over %.3f to %.3f s of wall time" % (what, delta, inner, outer))


def check_growth(first, second):
    b0, r0, t0, a0 = first
    b1, r1, t1, a1 = second
    hz = float(r0["tick_rate"])
    inner, outer = b1 - a0, a1 - b0
    for x, y in zip(r0["reactors"], r1["reactors"]):
        core = "core %d" % x["lcore"]
        check(y["busy"] >= x["busy"] and y["idle"] >= x["idle"],
              "%s: went back: %r, %r" % (core, x, y))
        grew(core + " busy + idle", (x["busy"] + x["idle"]) / hz, (y["busy"] + y["idle"]) / hz,
             inner, outer)
        was = {t["id"]: t["elapsed"] for t in x["lw_threads"]}
        for t in y["lw_threads"]:
            grew("%s thread %s elapsed" % (core, t["name"]), was[t["id"]] / hz, t["elapsed"] / hz,
                 inner, outer)
    first_core = (r0["reactors"][0]["busy"], r1["reactors"][0]["busy"])
    check(first_core[1] > first_core[0],
          "busy of the app thread's core did not grow: %r" % (first_core,))
    app = [t["busy"] for t in t0["threads"] + t1["threads"] if t["name"] == "app_thread"]
    check(len(app) == 2 and app[1] > app[0], "busy of app_thread did not grow: %r" % app)


def check_params(client):
    refusals = (("framework_get_reactors", "`framework_get_reactors` requires no arguments"),
                ("thread_get_stats", "'thread_get_stats' requires no arguments"))
    for method, message in refusals:
        err = client.request(method, {"lcore": 0}).get("error")
        check(err == {"code": -32602, "message": message},
              "%s with params: %r, SPDK answers %r" % (method, err, message))
        check("result" in client.request(method, {}), "%s: {} is refused" % method)


def run(nvtcpd):
    want = cores()
    mask = hex(sum(1 << c for c in want))
    with tempfile.TemporaryDirectory(prefix="nvtcp-reactors-") as tmpdir:
        daemon = nvtcp_test.Daemon(nvtcpd, ["--wait-for-rpc", "-m", mask],
                                   os.path.join(tmpdir, "rpc.sock"))
        try:
            daemon.wait_output("waiting for framework_start_init")
            client = daemon.client()
            for method in ("framework_get_reactors", "thread_get_stats"):
                err = client.request(method).get("error") or {}
                check(err.get("code") == -1, "%s at startup: %r, expected code -1" % (method, err))
            client.call("framework_start_init")
            first = sample(client)
            check_static(daemon, want, first[1], first[2])
            # RPCs until the span is over: the app thread works, its reactor is busy.
            while time.monotonic() < first[3] + SPAN:
                client.call("rpc_get_methods")
            second = sample(client)
            check_static(daemon, want, second[1], second[2])
            check_growth(first, second)
            check_params(client)
            client.close()
            daemon.stop()
        finally:
            daemon.kill()
    return "%d reactor(s) (-m %s) answer as SPDK's" % (len(want), mask)


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
