#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""nvtcpd's Prometheus endpoint (--metrics ADDR:PORT), end to end.

usage: metrics_test.py NVTCPD NVTCP_PERF

- A raw host does a known number of reads and writes: the namespace's and
  the host's op and byte counters grow by exactly that much, in /metrics and
  in nvmf_get_io_stats.
- Two scrapes during an nvtcp-perf load: each passes Prometheus' own
  `promtool check metrics`; every counter is monotonic between them; every
  histogram's buckets are cumulative, with +Inf equal to _count; the reads
  counted grow by at least the I/Os nvtcp-perf completed in between.
- nvtcpd without --metrics listens on no other port than its NVMe/TCP one.
- Scrapes racing a SIGTERM: nvtcpd exits 0, sanitizers quiet.
Exit 0 on success, 1 on failure, 77 when a program is missing or promtool is
not installed (Debian package prometheus; scripts/deps.sh test installs it).
"""

import http.client
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
from nvtcp_test import Daemon, check, free_port, test_main  # noqa: E402
from nvme_tcp_host import Host  # noqa: E402

CNODE = "nqn.2016-06.io.nvtcp:metrics"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
BLOCK = 512
# Why promtool could not check the scrapes (the test is then skipped, the other checks done).
SKIPPED = []


def config(port):
    nvmf = [{"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": CNODE, "serial_number": "SN-METRICS", "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": CNODE, "namespace": {"bdev_name": "Malloc0"}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": CNODE, "listen_address": {
                 "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 65536, "block_size": BLOCK}}]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def start(nvtcpd, tmpdir, port, extra):
    path = os.path.join(tmpdir, "config-%d.json" % port)
    with open(path, "w") as f:
        json.dump(config(port), f)
    d = Daemon(nvtcpd, ["-c", path] + extra, os.path.join(tmpdir, "rpc-%d.sock" % port))
    d.wait_output("nvme connect")
    return d


# ---- the exposition format ----

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(mport, timeout=30):
    conn = http.client.HTTPConnection("127.0.0.1", mport, timeout=timeout)
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    body = resp.read().decode()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), body


def parse(text):
    """{(name, frozenset(labels)): value} and {name: type}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        check(m is not None, "not a sample line: %r" % line)
        labels = frozenset(LABEL.findall(m.group(3) or ""))
        key = (m.group(1), labels)
        check(key not in samples, "sample twice: %r" % line)
        samples[key] = float(m.group(4))
    return samples, types


def family_of(name, types):
    for suffix in ("_bucket", "_sum", "_count"):
        if name.endswith(suffix) and types.get(name[:-len(suffix)]) == "histogram":
            return name[:-len(suffix)]
    return name


def promtool_check(text):
    promtool = shutil.which("promtool")
    if promtool is None:
        return "promtool not installed (Debian package prometheus; scripts/deps.sh test)"
    p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0, "promtool check metrics: %s%s" % (p.stdout, p.stderr))
    return None


def check_histograms(samples, types):
    """Buckets cumulative, +Inf == _count, for every histogram series; returns the count."""
    series = {}
    for (name, labels), v in samples.items():
        if types.get(family_of(name, types)) != "histogram" or not name.endswith("_bucket"):
            continue
        le = dict(labels)["le"]
        rest = frozenset(x for x in labels if x[0] != "le")
        series.setdefault((name[:-len("_bucket")], rest), []).append(
            (float("inf") if le == "+Inf" else float(le), v))
    for (fam, rest), buckets in series.items():
        buckets.sort()
        counts = [v for _, v in buckets]
        check(counts == sorted(counts), "%s %r: buckets not cumulative: %r" %
              (fam, dict(rest), buckets))
        check(buckets[-1][0] == float("inf"), "%s: no +Inf bucket" % fam)
        count = samples.get((fam + "_count", rest))
        check(count == counts[-1], "%s %r: +Inf %r != _count %r" %
              (fam, dict(rest), counts[-1], count))
        check((fam + "_sum", rest) in samples, "%s: no _sum" % fam)
    return len(series)


def check_monotonic(a, b, types):
    n = 0
    for key, v in a.items():
        name = key[0]
        fam = family_of(name, types)
        is_counter = types.get(fam) == "counter" or (
            types.get(fam) == "histogram" and not name.endswith("_sum"))
        if not is_counter and not (types.get(fam) == "histogram"):
            continue
        check(key in b, "series %r vanished between scrapes" % (key,))
        check(b[key] >= v, "counter %r went back: %r -> %r" % (key, v, b[key]))
        n += 1
    return n


def value(samples, name, **want):
    for (n, labels), v in samples.items():
        d = dict(labels)
        if n == name and all(d.get(k) == w for k, w in want.items()):
            return v
    return None


# ---- the checks ----

def rw(host, opc, lba, data_out=b"", data_in_len=0):
    sqe = bytearray(64)
    sqe[0] = opc
    struct.pack_into("<I", sqe, 4, 1)
    struct.pack_into("<QI", sqe, 40, lba, 0)  # one block
    status, _, _ = host.command(sqe, data_out=data_out, data_in_len=data_in_len)
    check(status == 0, "I/O opc %#x failed: %#x" % (opc, status))


def raw_io(port, nreads, nwrites):
    admin = Host(port, HOSTNQN)
    status, cdw0 = admin.connect(CNODE)
    check(status == 0, "admin Connect: %#x" % status)
    admin.prop_set(0x14, 0x460001)
    q = Host(port, HOSTNQN)
    check(q.connect(CNODE, qid=1, cntlid=cdw0 & 0xffff)[0] == 0, "I/O Connect failed")
    for i in range(nwrites):
        rw(q, 0x01, i, data_out=bytes([i & 0xff]) * BLOCK)
    for i in range(nreads):
        rw(q, 0x02, i % 64, data_in_len=BLOCK)
    q.close()
    admin.close()


def rpc_ns(rpc):
    """nvmf_get_io_stats' namespace 1: (read ops, write ops, read bytes, write bytes)."""
    res = rpc.call("nvmf_get_io_stats")
    check(res["enabled"] and len(res["latency_bounds_ns"]) == 19, "nvmf_get_io_stats: %r" % res)
    for ns in res["namespaces"]:
        if ns["subnqn"] == CNODE and ns["nsid"] == 1:
            r, w = ns["read"], ns["write"]
            check(sum(r["buckets"]) == r["ops"] and sum(w["buckets"]) == w["ops"],
                  "nvmf_get_io_stats: buckets do not add up to ops: %r" % ns)
            return r["ops"], w["ops"], r["bytes"], w["bytes"]
    return 0, 0, 0, 0


def check_exact(mport, port, rpc):
    _, _, text = scrape(mport)
    before, _ = parse(text)
    rpc_before = rpc_ns(rpc)
    raw_io(port, 37, 11)
    _, _, text = scrape(mport)
    after, types = parse(text)
    got = [a - b for a, b in zip(rpc_ns(rpc), rpc_before)]
    check(got == [37, 11, 37 * BLOCK, 11 * BLOCK], "nvmf_get_io_stats moved by %r" % got)
    ns = {"subsystem": CNODE, "nsid": "1", "bdev": "Malloc0"}
    host = {"subsystem": CNODE, "host": HOSTNQN}
    for what, labels in (("namespace", ns), ("host", host)):
        for op, n in (("read", 37), ("write", 11)):
            for metric, per in (("ops_total", 1), ("bytes_total", BLOCK)):
                name = "nvtcp_%s_%s" % (what, metric)
                a = value(after, name, op=op, **labels)
                b = value(before, name, op=op, **labels) or 0
                check(a is not None and a - b == n * per, "%s %s: %r -> %r, want +%d" %
                      (name, op, b, a, n * per))
            cnt = value(after, "nvtcp_%s_latency_seconds_count" % what, op=op, **labels)
            check(cnt is not None and cnt >= n, "%s latency count %r" % (what, cnt))
    check(value(after, "nvtcp_connections_accepted_total") >= 2, "connections not counted")
    check_histograms(after, types)
    print("ok: 37 reads and 11 writes of a raw host counted exactly, per namespace and host, "
          "in /metrics and nvmf_get_io_stats")


def perf(nvtcp_perf, port, seconds):
    trid = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, CNODE)
    return subprocess.Popen([nvtcp_perf, "-r", trid, "-q", "16", "-o", "4096", "-w", "randread",
                             "-t", str(seconds), "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def perf_ios(out):
    """The I/Os nvtcp-perf completed (its JSON's total)."""
    return json.loads(out)["total"]["ios"]


def check_load(nvtcpd, nvtcp_perf, mport, port):
    status, ctype, text0 = scrape(mport)
    check(status == 200 and ctype.startswith("text/plain; version=0.0.4"),
          "scrape: %d %r" % (status, ctype))
    s0, _ = parse(text0)
    p = perf(nvtcp_perf, port, 4)
    time.sleep(1.5)  # no event marks "in the middle of the run": a scrape under load
    _, _, text1 = scrape(mport)
    out, err = p.communicate(timeout=120)
    check(p.returncode == 0, "nvtcp-perf failed: %s" % err)
    _, _, text2 = scrape(mport)
    why = None
    for t in (text1, text2):
        why = promtool_check(t)
    s1, types = parse(text1)
    s2, types2 = parse(text2)
    n = check_monotonic(s1, s2, types2)
    h = check_histograms(s2, types2)
    ns = {"subsystem": CNODE, "nsid": "1", "op": "read"}
    reads0 = value(s0, "nvtcp_namespace_ops_total", **ns) or 0
    reads2 = value(s2, "nvtcp_namespace_ops_total", **ns)
    ios = perf_ios(out)
    check(ios is not None and ios > 0, "no I/O count in nvtcp-perf's JSON: %s" % out[:400])
    # perf counts what completed in its window; the target also saw its ramp down.
    check(reads2 - reads0 >= ios, "reads counted %d, nvtcp-perf did %d" % (reads2 - reads0, ios))
    for fam in ("nvtcp_reactor_busy_seconds_total", "nvtcp_reactor_idle_seconds_total",
                "nvtcp_reactor_sleeping", "nvtcp_poll_group_qpairs", "nvtcp_iobuf_pool_buffers",
                "nvtcp_iobuf_cache_hits_total", "nvtcp_iobuf_waits_total",
                "nvtcp_iobuf_in_use_buffers", "nvtcp_connections_rejected_total",
                "nvtcp_auth_failures_total"):
        check(fam in types2, "family %s missing" % fam)
    busy = value(s2, "nvtcp_reactor_busy_seconds_total", reactor="0")
    check(busy is not None and busy > value(s0, "nvtcp_reactor_busy_seconds_total",
                                            reactor="0"), "reactor 0 was not busy under load")
    qp = value(s1, "nvtcp_poll_group_qpairs", type="io")
    check(qp is not None and qp >= 1, "no I/O queue pair during the load: %r" % qp)
    print("ok: under load %s; %d counters monotonic, %d histograms consistent; %d reads "
          "counted for %d of nvtcp-perf" % ("promtool passed" if why is None else
                                            "promtool SKIPPED: " + why, n, h,
                                            reads2 - reads0, ios))
    return why


def listening_ports(pid):
    """TCP ports the process listens on (from its fds and /proc/net/tcp{,6})."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(f) as fh:
            for line in fh.readlines()[1:]:
                cols = line.split()
                if cols[3] == "0A" and cols[9] in inodes:
                    ports.add(int(cols[1].rsplit(":", 1)[1], 16))
    return ports


def check_off(nvtcpd, tmpdir):
    port = free_port()
    d = start(nvtcpd, tmpdir, port, [])
    try:
        ports = listening_ports(d.proc.pid)
        check(ports == {port}, "without --metrics nvtcpd listens on %r, want only %d" %
              (sorted(ports), port))
    finally:
        d.stop()
    print("ok: without --metrics only the NVMe/TCP port %d listens" % port)


def check_bad_option(nvtcpd):
    p = subprocess.run([nvtcpd, "--metrics", "localhost"], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode != 0 and "--metrics localhost" in p.stderr,
          "a bad --metrics address: exit %d, %r" % (p.returncode, p.stderr))


def check_shutdown_race(nvtcpd, tmpdir):
    port, mport = free_port(), free_port()
    d = start(nvtcpd, tmpdir, port, ["--metrics", "127.0.0.1:%d" % mport])
    answers, stop = [], threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                answers.append(scrape(mport, timeout=15)[0])
            except (OSError, http.client.HTTPException):
                answers.append("closed")
                if d.proc.poll() is not None:
                    return

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    for t in threads:
        t.start()
    while len(answers) < 20:
        time.sleep(0.01)
    try:
        d.stop()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    check(all(not t.is_alive() for t in threads), "a scrape hung across the shutdown")
    check(200 in answers, "no scrape answered before the shutdown: %r" % answers[:10])
    check(set(answers) <= {200, 503, "closed"}, "answers %r" % sorted(set(map(str, answers))))
    print("ok: %d scrapes racing SIGTERM: exit 0, answers %s" %
          (len(answers), sorted(set(map(str, answers)))))


def run(nvtcpd, nvtcp_perf):
    check_bad_option(nvtcpd)
    with tempfile.TemporaryDirectory(prefix="nvtcp-metrics-") as tmpdir:
        check_off(nvtcpd, tmpdir)
        port, mport = free_port(), free_port()
        d = start(nvtcpd, tmpdir, port, ["--metrics", "127.0.0.1:%d" % mport])
        try:
            check("metrics on http://127.0.0.1:%d/metrics" % mport in d.out, d.out)
            rpc = d.client()
            check_exact(mport, port, rpc)
            rpc.close()
            why = check_load(nvtcpd, nvtcp_perf, mport, port)
            status, _, _ = scrape_path(mport, "/other")
            check(status == 404, "GET /other: %d" % status)
        finally:
            d.stop()
        check_shutdown_race(nvtcpd, tmpdir)
    SKIPPED.extend([why] if why else [])
    return "promtool skipped: " + why if why else None


def scrape_path(mport, path):
    conn = http.client.HTTPConnection("127.0.0.1", mport, timeout=30)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type"), body


if __name__ == "__main__":
    rc = test_main(__doc__, sys.argv, 2, run)
    if rc == 0 and SKIPPED:
        print("SKIP: %s" % SKIPPED[0])
        rc = 77
    sys.exit(rc)
