#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""nvtcpd's RPC socket: on by default, at SPDK's path, and never taken from another.

  - a bare nvtcpd (no -r) answers on /var/tmp/spdk.sock, to the `nvtcp` CLI
    with no -s and to a client of that path, and removes the socket when it
    stops; skipped, saying why, when a running process serves that path
    already (it is never touched then);
  - a second nvtcpd given the socket of a running one refuses to start (exit
    status 1) naming the path "in use by a running process", and the first
    one goes on answering on it;
  - a stale socket file (no process behind it) is replaced: nvtcpd answers;
  - a path that is not a socket is refused and left as it was.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from nvtcp_test import Client, Daemon, Failure, check, free_port, test_main  # noqa: E402

DEFAULT_SOCK = "/var/tmp/spdk.sock"
IN_USE = "in use by a running process"


def config(port, bdev):
    nqn = "nqn.2016-06.io.nvtcp:rpcsock"
    return {"subsystems": [
        {"subsystem": "bdev", "config": [
            {"method": "bdev_malloc_create",
             "params": {"name": bdev, "num_blocks": 2048, "block_size": 512}}]},
        {"subsystem": "nvmf", "config": [
            {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem", "params": {"nqn": nqn, "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": nqn, "listen_address": {
                 "trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1",
                 "trsvcid": str(port)}}}]}]}


def write_config(tmp, name, bdev):
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(config(free_port(), bdev), f)
    return path


def bdev_names(client):
    return [b["name"] for b in client.call("bdev_get_bdevs")]


def served(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def refused(nvtcpd, args):
    """Run nvtcpd expecting it to refuse to start; returns its stderr."""
    try:
        out = subprocess.run([nvtcpd] + args, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        raise Failure("nvtcpd %s started (killed after 60 s)" % " ".join(args))
    check(out.returncode == 1, "nvtcpd %s: exit status %d, want 1:\n%s" %
          (" ".join(args), out.returncode, out.stderr))
    check("Sanitizer" not in out.stderr, out.stderr)
    return out.stderr


def second_refused(nvtcpd, tmp):
    sock = os.path.join(tmp, "first.sock")
    first = Daemon(nvtcpd, ["-m", "0x1", "-c", write_config(tmp, "first", "First0")], sock)
    try:
        first.wait_output("listening on")
        err = refused(nvtcpd, ["-m", "0x1", "-r", sock,
                               "-c", write_config(tmp, "second", "Second0")])
        check(sock in err and IN_USE in err,
              "the refusal does not say the path is in use:\n%s" % err)
        client = first.client()
        check(bdev_names(client) == ["First0"], "the first nvtcpd no longer answers on %s" % sock)
        client.close()
        first.stop()
    finally:
        first.kill()
    print("ok: a second nvtcpd on a served socket: exit 1, '%s'; the first still answers" % IN_USE)


def stale_replaced(nvtcpd, tmp):
    sock = os.path.join(tmp, "stale.sock")
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    s.close()
    check(os.path.exists(sock) and not served(sock), "no stale socket file to test with")
    d = Daemon(nvtcpd, ["-m", "0x1", "-c", write_config(tmp, "stale", "Stale0")], sock)
    try:
        d.wait_output("listening on")
        client = d.client()
        check(bdev_names(client) == ["Stale0"], "nvtcpd does not answer on the replaced socket")
        client.close()
        d.stop()
    finally:
        d.kill()
    print("ok: a stale socket file is replaced")


def not_a_socket(nvtcpd, tmp):
    path = os.path.join(tmp, "plain-file")
    with open(path, "w") as f:
        f.write("keep me\n")
    err = refused(nvtcpd, ["-m", "0x1", "-r", path, "-c", write_config(tmp, "plain", "Plain0")])
    check("not a socket" in err, "the refusal does not say it is not a socket:\n%s" % err)
    with open(path) as f:
        check(f.read() == "keep me\n", "the file at the socket path was changed")
    print("ok: a path that is not a socket is refused and left alone")


def bare_default(nvtcpd, cli, tmp):
    if served(DEFAULT_SOCK):
        print("skip: %s is served by a running process; the bare nvtcpd case needs it free"
              % DEFAULT_SOCK)
        return
    bdev = "Bare%d" % os.getpid()
    proc = subprocess.Popen([nvtcpd, "-m", "0x1", "-c", write_config(tmp, "bare", bdev)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    d = Daemon.__new__(Daemon)
    d.proc, d.out, d.rpc_sock = proc, "", DEFAULT_SOCK
    try:
        try:
            d.wait_output("listening on")
        except Failure as e:
            if IN_USE in str(e):
                print("skip: %s was taken meanwhile by another process" % DEFAULT_SOCK)
                return
            raise
        out = subprocess.run([cli, "bdev_get_bdevs"], capture_output=True, text=True,
                             timeout=60)
        check(out.returncode == 0 and bdev in [b["name"] for b in json.loads(out.stdout)],
              "`nvtcp bdev_get_bdevs` without -s: status %d, %s %s" %
              (out.returncode, out.stdout, out.stderr))
        client = Client(DEFAULT_SOCK)
        check(bdev_names(client) == [bdev], "a client of %s reads another target" % DEFAULT_SOCK)
        client.close()
        d.stop()
        check(not os.path.exists(DEFAULT_SOCK), "%s left behind after a clean stop" % DEFAULT_SOCK)
    finally:
        d.kill()
    print("ok: a bare nvtcpd answers on %s (nvtcp CLI without -s, rpc.py's client)" % DEFAULT_SOCK)


def run(nvtcpd, cli):
    with tempfile.TemporaryDirectory(prefix="nvtcp-rpcsock-") as tmp:
        second_refused(nvtcpd, tmp)
        stale_replaced(nvtcpd, tmp)
        not_a_socket(nvtcpd, tmp)
        bare_default(nvtcpd, cli, tmp)


if __name__ == "__main__":
    sys.exit(test_main(__doc__, sys.argv, 2, run))
