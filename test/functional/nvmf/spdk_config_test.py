#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A configuration saved by SPDK's nvmf_tgt, loaded unchanged by nvtcpd.

usage: spdk_config_test.py NVTCPD NVTCP NVTCP_IDENTIFY TEMPLATE

TEMPLATE is what SPDK's save_config writes for an nvmf_tgt with two malloc
bdevs, a TCP transport and one subsystem with both as namespaces, listening
on 127.0.0.1 (the port is @PORT@). The test:
  - fills in a free port, starts nvtcpd with it: it must listen;
  - checks that the host tool sees both namespaces;
  - saves the running configuration with the nvtcp CLI (sock before bdev
    before nvmf), stops nvtcpd (SIGTERM: exit status 0), starts a second
    nvtcpd with the saved file, sees both namespaces again, and checks that
    saving again gives the same document;
  - changes one value that nvtcp would not apply (kernel TLS, a NUMA pool, a
    retry delay, ...) and checks that nvtcpd refuses to start, naming the
    method and the field.
Exit 0 on success, 1 on failure, 77 when a program is missing.
"""

import copy
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

NQN = "nqn.2016-06.io.spdk:cnode1"


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def load_template(path, port):
    with open(path) as f:
        return json.loads(f.read().replace("@PORT@", str(port)))


def write_config(tmpdir, name, doc):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def find_entry(doc, method, **match):
    """The params of the first entry of method whose params contain match."""
    for sub in doc["subsystems"]:
        for entry in sub.get("config") or []:
            params = entry.get("params") or {}
            if entry["method"] == method and all(params.get(k) == v for k, v in match.items()):
                return params
    raise Failure("no %s entry matching %r" % (method, match))


class Daemon:
    def __init__(self, progs, config, rpc_sock):
        self.progs = progs
        self.rpc_sock = rpc_sock
        self.proc = subprocess.Popen([progs["nvtcpd"], "-c", config, "-r", rpc_sock],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def wait_listening(self, port, timeout=30):
        buf = b""
        fd = self.proc.stdout.fileno()
        end = time.time() + timeout
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                if b"nvme connect" in buf:
                    check(("nvtcpd: listening on 127.0.0.1:%d" % port).encode() in buf,
                          "banner: %r" % buf)
                    return
            if self.proc.poll() is not None:
                break
        self.kill()
        raise Failure("nvtcpd did not come up: stdout %r, stderr:\n%s" %
                      (buf, self.proc.stderr.read()))

    def rpc(self, *args):
        out = subprocess.run([self.progs["nvtcp"], "-s", self.rpc_sock, "-t", "30"] + list(args),
                             capture_output=True, text=True, timeout=60)
        check(out.returncode == 0, "nvtcp %s: %s" % (" ".join(args), out.stderr))
        return json.loads(out.stdout)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        check(self.proc.returncode == 0,
              "exit status %d after SIGTERM:\n%s" % (self.proc.returncode, err))
        check("Sanitizer" not in err and "runtime error" not in err, err)
        return err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def count_namespaces(progs, port):
    trid = ("trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d subnqn:%s" % (port, NQN))
    out = subprocess.run([progs["identify"], "-r", trid], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, "nvtcp-identify failed:\n%s%s" % (out.stdout, out.stderr))
    check("subnqn   : " + NQN in out.stdout, "identify: no subnqn:\n" + out.stdout)
    return [line for line in out.stdout.splitlines()
            if line.startswith("NVME Identify Namespace")]


def check_saved(saved):
    names = [s["subsystem"] for s in saved["subsystems"]]
    check(names.index("sock") < names.index("bdev") < names.index("nvmf"),
          "save_config subsystem order: %r" % names)
    check(find_entry(saved, "sock_set_default_impl")["impl_name"] == "posix",
          "sock_set_default_impl not saved")
    crdt = find_entry(saved, "nvmf_set_crdt")
    check(crdt == {"crdt1": 0, "crdt2": 0, "crdt3": 0}, "nvmf_set_crdt saved as %r" % crdt)
    transport = find_entry(saved, "nvmf_create_transport", trtype="TCP")
    check(transport["buf_cache_size"] < transport["num_shared_buffers"],
          "buf_cache_size not resolved: %r" % transport)


def serve_and_save(progs, tmpdir, config, port, tag):
    """Run nvtcpd on config; check both namespaces; return the saved configuration."""
    daemon = Daemon(progs, config, os.path.join(tmpdir, tag + ".sock"))
    try:
        daemon.wait_listening(port)
        ns = count_namespaces(progs, port)
        check(len(ns) == 2, "%s: %d namespaces, want 2: %r" % (tag, len(ns), ns))
        opts = daemon.rpc("sock_impl_get_options", "impl_name=posix")
        check(opts["enable_ktls"] is False and opts["recv_buf_size"] == 0, repr(opts))
        saved = daemon.rpc("save_config")
        daemon.stop()
    finally:
        daemon.kill()
    print("ok: %s: listening on %d, 2 namespaces, saved, SIGTERM: exit 0" % (tag, port))
    return saved


def expect_refusal(progs, tmpdir, doc, words):
    path = write_config(tmpdir, "refused.json", doc)
    proc = subprocess.Popen([progs["nvtcpd"], "-c", path], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Failure("nvtcpd started with %s" % " ".join(words))
    check(proc.returncode != 0, "nvtcpd exited 0 with %s" % " ".join(words))
    for w in words:
        check(w in err, "refusal message does not name %r:\n%s" % (w, err))
    check("Sanitizer" not in err, "sanitizer report on refusal:\n" + err)
    print("ok: refused (%s)" % ", ".join(words))


def refusals():
    """(change to the template, words the refusal must contain)."""
    def change(method, match, key, value):
        def apply(doc):
            params = find_entry(doc, method, **match)
            *path, last = key.split(".")
            for k in path:
                params = params[k]
            params[last] = value
        return apply

    return [
        (change("sock_impl_set_options", {"impl_name": "posix"}, "enable_ktls", True),
         ["sock_impl_set_options", "enable_ktls"]),
        (change("sock_impl_set_options", {"impl_name": "ssl"}, "tls_version", 13),
         ["sock_impl_set_options", "tls_version"]),
        (change("sock_impl_set_options", {"impl_name": "posix"}, "recv_buf_size", 8388608),
         ["sock_impl_set_options", "recv_buf_size"]),
        (change("sock_set_default_impl", {}, "impl_name", "ssl"),
         ["sock_set_default_impl", "impl_name"]),
        (change("iobuf_set_options", {}, "enable_numa", True),
         ["iobuf_set_options", "enable_numa"]),
        (change("accel_set_options", {}, "task_count", 4096),
         ["accel_set_options", "task_count"]),
        (change("framework_set_scheduler", {}, "name", "dynamic"),
         ["framework_set_scheduler", "name"]),
        (change("bdev_nvme_set_hotplug", {}, "enable", True),
         ["bdev_nvme_set_hotplug", "enable"]),
        (change("nvmf_set_crdt", {}, "crdt1", 5), ["nvmf_set_crdt", "crdt1"]),
        (change("nvmf_set_config", {}, "admin_cmd_passthru.identify_ctrlr", True),
         ["nvmf_set_config", "admin_cmd_passthru.identify_ctrlr"]),
        (change("nvmf_set_config", {}, "dhchap_digests", ["md5"]),
         ["nvmf_set_config", "dhchap_digests.md5"]),
    ]


def run(progs, template):
    with tempfile.TemporaryDirectory(prefix="nvtcp-spdkconf-") as tmpdir:
        port = free_port()
        doc = load_template(template, port)
        first = serve_and_save(progs, tmpdir, write_config(tmpdir, "spdk.json", doc), port,
                               "SPDK's configuration")
        check_saved(first)
        second = serve_and_save(progs, tmpdir, write_config(tmpdir, "saved.json", first), port,
                                "saved configuration")
        check(second == first, "saving the reloaded configuration differs:\n%s\n%s" %
              (json.dumps(first), json.dumps(second)))
        print("ok: the saved configuration reloads and saves the same")
        for apply, words in refusals():
            bad = copy.deepcopy(doc)
            apply(bad)
            expect_refusal(progs, tmpdir, bad, words)


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 77
    progs = {"nvtcpd": sys.argv[1], "nvtcp": sys.argv[2], "identify": sys.argv[3]}
    for path in progs.values():
        if not os.access(path, os.X_OK):
            print("missing program %s" % path)
            return 77
    try:
        run(progs, sys.argv[4])
    except Failure as e:
        print("FAIL: %s" % e)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
