#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Echo benchmark of the socket implementations: posix vs uring.

The server is `hello_sock -S` pinned to core 0 (`-m 0x1`), the load
generator `sock_bench` (plain kernel sockets, the same for both) is pinned
to core 1. For each implementation, message size (64 B, 128 KiB) and
metric (round-trip latency of one connection with one message in flight,
throughput of several pipelined connections), it takes the median of
several runs, prints a table and says which implementation wins each row.

  bench/sock/sock_bench.py [--build DIR] [--runs N] [--seconds S] [--polling]

DIR is a meson build directory holding examples/hello_sock/hello_sock and
bench/sock/sock_bench; by default one is set up in /tmp/build-bench
(release, no sanitizers) and built.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SIZES = [64, 128 * 1024]
IMPLS = ["posix", "uring"]


def build(build_dir):
    if not os.path.exists(os.path.join(build_dir, "build.ninja")):
        subprocess.run(["meson", "setup", build_dir, SRC, "--buildtype=release",
                        "-Dtests=false"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", build_dir, "examples/hello_sock/hello_sock",
                    "bench/sock/sock_bench"], check=True, stdout=subprocess.DEVNULL)


def start_server(build_dir, impl, polling):
    cmd = ["taskset", "-c", "0", os.path.join(build_dir, "examples/hello_sock/hello_sock"),
           "-S", "-H", "127.0.0.1", "-P", "0", "-m", "0x1", "-N", impl]
    if polling:
        cmd.append("--polling")
    srv = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = srv.stdout.readline()
    m = re.search(r" port (\d+) ", line)
    if not m:
        srv.kill()
        sys.exit("server did not start: %r" % line)
    return srv, m.group(1)


def run_client(build_dir, port, args):
    cmd = ["taskset", "-c", "1", os.path.join(build_dir, "bench/sock/sock_bench"),
           "-H", "127.0.0.1", "-P", port] + args
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120).stdout
    return dict(kv.split("=") for kv in out.split())


def measure(build_dir, impl, size, runs, seconds, polling):
    lat, tput = [], []
    for _ in range(runs):
        srv, port = start_server(build_dir, impl, polling)
        try:
            iters = 20000 if size < 4096 else 2000
            r = run_client(build_dir, port, ["-m", "lat", "-s", str(size), "-n", str(iters)])
            lat.append(float(r["p50_us"]))
            r = run_client(build_dir, port, ["-m", "tput", "-s", str(size), "-t", str(seconds),
                                             "-c", "4", "-w", "16" if size < 4096 else "4"])
            tput.append((float(r["MiBps"]), float(r["msgs_per_s"])))
        finally:
            srv.send_signal(2)
            srv.wait(timeout=30)
    return (statistics.median(lat), statistics.median(t[0] for t in tput),
            statistics.median(t[1] for t in tput))


def fmt_size(size):
    return "%d B" % size if size < 1024 else "%d KiB" % (size // 1024)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="/tmp/build-bench")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--polling", action="store_true",
                    help="server reactors poll instead of sleeping when idle")
    args = ap.parse_args()
    build(args.build)
    res = {}
    for size in SIZES:
        for impl in IMPLS:
            res[(impl, size)] = measure(args.build, impl, size, args.runs, args.seconds,
                                        args.polling)
    mode = "polling" if args.polling else "interrupt"
    print("\nEcho server hello_sock on core 0 (%s mode), client on core 1; median of %d runs"
          % (mode, args.runs))
    print("%-9s %-6s %14s %14s %16s" % ("message", "impl", "RTT p50 (us)", "tput (MiB/s)",
                                        "tput (msg/s)"))
    for size in SIZES:
        for impl in IMPLS:
            lat, mib, msgs = res[(impl, size)]
            print("%-9s %-6s %14.2f %14.1f %16.0f" % (fmt_size(size), impl, lat, mib, msgs))
    print()
    for size in SIZES:
        p, u = res[("posix", size)], res[("uring", size)]
        lat_w = "posix" if p[0] < u[0] else "uring"
        tput_w = "posix" if p[1] > u[1] else "uring"
        print("%s: lower latency: %s (%.2f vs %.2f us); higher throughput: %s (%.1f vs %.1f MiB/s)"
              % (fmt_size(size), lat_w, min(p[0], u[0]), max(p[0], u[0]), tput_w,
                 max(p[1], u[1]), min(p[1], u[1])))


if __name__ == "__main__":
    main()
