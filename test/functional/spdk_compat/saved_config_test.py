#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SPDK's saved configurations, loaded unchanged by nvtcpd.

usage: saved_config_test.py NVTCPD NVTCP_IDENTIFY NVTCP_PERF

The configurations are data/spdk-26.05-save_config-basic.json and
data/spdk-26.05-save_config.json, the save_config output of SPDK v26.05's
nvmf_tgt (captured from it; only their listener ports are replaced by free
ones here). The test checks that:
  - nvtcpd -c BASIC starts; the host tools see its namespace and write and
    read back verified data; rpc.py's save_config flow saves it; that saved
    document started again saves the same (round trip);
  - rpc.py's load_config flow loads BASIC into nvtcpd --wait-for-rpc and
    gives the same target (the same saved document); stopped before
    framework_start_init, nvtcpd --wait-for-rpc exits 0;
  - nvtcpd -c FULL (every method and value of it) starts, serves, keeps the
    discovery referral as SPDK saves it and cnode2's ANA reporting and
    groups, and round-trips;
  - a value nvtcpd would not apply, put in BASIC, makes it refuse to start,
    naming the method and the field.
Exit 0 on success, 1 on failure, 77 when a program is missing.
"""

import copy
import json
import os
import subprocess
import sys
import tempfile

import spdk_data  # first: it puts test/common on the path
import nvtcp_test
from nvtcp_test import Failure, check

CNODE1 = "nqn.2016-06.io.spdk:cnode1"

# The files the full configuration's aio and uring bdevs are on (256 MiB each),
# made in the test's folder.
FULL_FILES = ("/var/tmp/aio0.img", "/var/tmp/uring0.img")

# The key files of the full configuration's keyring, made (mode 0600) in the test's folder.
FULL_KEYS = {
    "/var/tmp/psk0.txt": spdk_data.key_text("NVMeTLSkey-1", 1, bytes(range(32))),
    "/var/tmp/dh0.key": spdk_data.key_text("DHHC-1", 0, bytes(range(1, 33))),
}


def entry_name(entry):
    params = entry.get("params") or {}
    if entry["method"].startswith("nvmf_subsystem_") or entry["method"] == \
            "nvmf_create_subsystem":
        return params.get("nqn")
    if "address" in params:
        return params["address"]["traddr"]
    return params.get("name")


def ports_of(doc):
    """Every listener port of \\p doc mapped to a free one."""
    found = set()

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "trsvcid":
                    found.add(x)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)
    walk(doc)
    return {p: str(nvtcp_test.free_port()) for p in sorted(found)}


def test_files(tmpdir, names, size=256 << 20):
    """Sparse files of \p size bytes in \p tmpdir for the paths \p names; the mapping."""
    paths = {}
    for name in names:
        paths[name] = os.path.join(tmpdir, os.path.basename(name))
        with open(paths[name], "wb") as f:
            f.truncate(size)
    return paths


def write_config(tmpdir, name, doc):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path


def find_entry(doc, method, **match):
    for sub in doc["subsystems"]:
        for entry in sub.get("config") or []:
            params = entry.get("params") or {}
            if entry["method"] == method and all(params.get(k) == v for k, v in match.items()):
                return params
    raise Failure("no %s entry matching %r" % (method, match))


def trid(port, nqn=CNODE1):
    return "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%s subnqn:%s" % (port, nqn)


def check_host_tools(progs, port, namespaces):
    out = subprocess.run([progs["identify"], "-r", trid(port)], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, "nvtcp-identify failed:\n%s%s" % (out.stdout, out.stderr))
    found = [ln for ln in out.stdout.splitlines() if ln.startswith("NVME Identify Namespace")]
    check(len(found) == namespaces, "%d namespaces, want %d:\n%s" % (len(found), namespaces,
                                                                   out.stdout))
    out = subprocess.run([progs["perf"], "-r", trid(port), "-q", "8", "-o", "4096", "-w",
                          "randrw", "-t", "1", "--verify"], capture_output=True, text=True,
                         timeout=120)
    check(out.returncode == 0, "nvtcp-perf --verify failed:\n%s%s" % (out.stdout, out.stderr))


def serve_and_save(progs, tmpdir, doc, tag, port, namespaces):
    """nvtcpd -c doc: check the host tools, return rpc.py's save_config of it."""
    path = write_config(tmpdir, tag + ".json", doc)
    daemon = nvtcp_test.Daemon(progs["nvtcpd"], ["-c", path], os.path.join(tmpdir, tag + ".sock"))
    try:
        daemon.wait_output("nvme connect")
        check(("nvtcpd: listening on 127.0.0.1:%s" % port) in daemon.out, daemon.out)
        check_host_tools(progs, port, namespaces)
        client = daemon.client()
        saved = client.save_config()
        client.close()
        daemon.stop()
    finally:
        daemon.kill()
    print("ok: %s: started, %d namespace(s) verified, saved, SIGTERM: exit 0" % (tag, namespaces))
    return saved


def round_trip(progs, tmpdir, doc, tag, port, namespaces):
    first = serve_and_save(progs, tmpdir, doc, tag, port, namespaces)
    second = serve_and_save(progs, tmpdir, first, tag + "-saved", port, namespaces)
    check(second == first, "%s: saving the reloaded configuration differs:\n%s\n%s" %
          (tag, json.dumps(first), json.dumps(second)))
    print("ok: %s: the saved configuration reloads and saves the same" % tag)
    return first


def load_over_rpc(progs, tmpdir, doc, port):
    """rpc.py load_config into nvtcpd --wait-for-rpc; returns its save_config."""
    daemon = nvtcp_test.Daemon(progs["nvtcpd"], ["--wait-for-rpc"],
                               os.path.join(tmpdir, "load.sock"))
    try:
        daemon.wait_output("waiting for framework_start_init")
        client = daemon.client()
        skipped = client.load_config(doc)
        check(not skipped, "load_config skipped %r" % skipped)
        client.call("framework_wait_init")
        check_host_tools(progs, port, 1)
        saved = client.save_config()
        client.close()
        daemon.stop()
    finally:
        daemon.kill()
    print("ok: rpc.py load_config into nvtcpd --wait-for-rpc, data verified")
    return saved


def stop_while_waiting(progs, tmpdir):
    """SIGTERM before framework_start_init: a waiting framework_wait_init, exit 0."""
    daemon = nvtcp_test.Daemon(progs["nvtcpd"], ["--wait-for-rpc"],
                               os.path.join(tmpdir, "wait.sock"))
    try:
        daemon.wait_output("waiting for framework_start_init")
        client = daemon.client()
        check(client.call("framework_get_subsystems") is not None, "no answer at start-up")
        client.sock.sendall(b'{"jsonrpc": "2.0", "method": "framework_wait_init", "id": 99}')
        daemon.stop()
        client.close()
    finally:
        daemon.kill()
    print("ok: SIGTERM while waiting for framework_start_init: exit 0")


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
    check(proc.returncode == 1, "nvtcpd exited %d with %s" % (proc.returncode, " ".join(words)))
    for w in words:
        check(w in err, "refusal message does not name %r:\n%s" % (w, err))
    check("Sanitizer" not in err, "sanitizer report on refusal:\n" + err)
    print("ok: refused (%s)" % ", ".join(words))


def refusals():
    """(change to BASIC, words the refusal must contain)."""
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
        (change("sock_impl_set_options", {"impl_name": "ssl"}, "tls_version", 12),
         ["sock_impl_set_options", "tls_version"]),
        (change("sock_impl_set_options", {"impl_name": "posix"}, "recv_buf_size", 8388608),
         ["sock_impl_set_options", "recv_buf_size"]),
        (change("sock_set_default_impl", {}, "impl_name", "ssl"),
         ["sock_set_default_impl", "impl_name"]),
        (change("iobuf_set_options", {}, "enable_numa", True),
         ["iobuf_set_options", "enable_numa", "true"]),
        (change("accel_set_options", {}, "task_count", 4096),
         ["accel_set_options", "task_count", "4096"]),
        (change("framework_set_scheduler", {}, "name", "dynamic"),
         ["framework_set_scheduler", "name", '"dynamic"']),
        (change("bdev_nvme_set_hotplug", {}, "enable", True),
         ["bdev_nvme_set_hotplug", "enable"]),
        (change("bdev_malloc_create", {"name": "Malloc0"}, "md_size", 8),
         ["bdev_malloc_create", "md_size", "8"]),
        (change("nvmf_set_crdt", {}, "crdt1", 5), ["nvmf_set_crdt", "crdt1", "5"]),
        (change("nvmf_set_config", {}, "admin_cmd_passthru.identify_ctrlr", True),
         ["nvmf_set_config", "admin_cmd_passthru.identify_ctrlr"]),
        (change("nvmf_set_config", {}, "dhchap_digests", ["md5"]),
         ["nvmf_set_config", "dhchap_digests"]),
        (change("nvmf_set_config", {}, "dup_host_policy", "reject"),
         ["nvmf_set_config", "dup_host_policy", '"reject"']),
        (change("nvmf_create_transport", {}, "zcopy", True),
         ["nvmf_create_transport", "zcopy", "true"]),
        (change("nvmf_create_subsystem", {}, "enable_nssr", True),
         ["nvmf_create_subsystem", "enable_nssr", "true"]),
        (change("nvmf_create_subsystem", {}, "min_cntlid", 70000),
         ["nvmf_create_subsystem", "min_cntlid"]),
        (change("nvmf_subsystem_add_ns", {}, "namespace.no_auto_visible", True),
         ["nvmf_subsystem_add_ns", "no_auto_visible", "true"]),
        (change("nvmf_create_transport", {}, "max_aq_depth", 8),
         ["nvmf_create_transport", "max_aq_depth", "8"]),
    ]


def check_full(progs, tmpdir, full, port):
    saved = round_trip(progs, tmpdir, full, "full", port, 1)
    nvmf = [e for s in saved["subsystems"] if s["subsystem"] == "nvmf" for e in s["config"]]
    referrals = [e for e in nvmf if e["method"] == "nvmf_discovery_add_referral"]
    check([e["params"] for e in referrals] ==
          [find_entry(full, "nvmf_discovery_add_referral")] and
          nvmf.index(referrals[0]) == [e["method"] for e in nvmf].index("nvmf_create_transport") + 1,
          "the referral saved: %r" % nvmf)
    cnode2 = find_entry(saved, "nvmf_create_subsystem", nqn="nqn.2016-06.io.spdk:cnode2")
    check(cnode2["ana_reporting"] is True and cnode2["max_cntlid"] == 1000,
          "cnode2 saved: %r" % cnode2)
    groups = [(e["params"]["namespace"]["nsid"], e["params"]["namespace"].get("anagrpid"))
              for e in nvmf if e["method"] == "nvmf_subsystem_add_ns" and
              e["params"]["nqn"] == "nqn.2016-06.io.spdk:cnode2"]
    check(groups == [(1, 1), (2, 2), (5, 2)], "cnode2's ANA groups saved: %r" % groups)
    bdevs = {e["params"]["name"] for s in saved["subsystems"] for e in s["config"]
             if e["method"] in ("bdev_malloc_create", "bdev_null_create")}
    check(bdevs == {"Malloc0", "Null0"}, "bdevs saved: %r" % bdevs)
    files = {e["method"]: e["params"] for s in saved["subsystems"] for e in s["config"]
             if e["method"] in ("bdev_aio_create", "bdev_uring_create")}
    check(files["bdev_aio_create"]["name"] == "AIO0" and
          files["bdev_uring_create"]["block_size"] == 4096,
          "aio and uring bdevs saved: %r" % files)
    keys = [e["params"] for s in saved["subsystems"] if s["subsystem"] == "keyring"
            for e in s["config"]]
    check([k["name"] for k in keys] == ["key0", "dh0"] and
          all(k["path"].startswith(tmpdir) for k in keys), "keys saved: %r" % keys)


def run(nvtcpd, identify, perf):
    progs = {"nvtcpd": nvtcpd, "identify": identify, "perf": perf}
    basic_src = spdk_data.load_data("spdk-26.05-save_config-basic.json")
    full_src = spdk_data.load_data("spdk-26.05-save_config.json")
    with tempfile.TemporaryDirectory(prefix="nvtcp-spdkconf-") as tmpdir:
        ports = ports_of(basic_src)
        basic = nvtcp_test.set_ports(copy.deepcopy(basic_src), ports)
        port = ports["4420"]
        saved = round_trip(progs, tmpdir, basic, "basic", port, 1)
        check(load_over_rpc(progs, tmpdir, basic, port) == saved,
              "load_config over RPC and -c give different targets")
        stop_while_waiting(progs, tmpdir)
        full_ports = ports_of(full_src)
        full = nvtcp_test.set_ports(copy.deepcopy(full_src), full_ports)
        nvtcp_test.replace_values(full, test_files(tmpdir, FULL_FILES))
        nvtcp_test.replace_values(full, spdk_data.write_keys(tmpdir, FULL_KEYS))
        check_full(progs, tmpdir, full, full_ports["4420"])
        for apply, words in refusals():
            bad = copy.deepcopy(basic)
            apply(bad)
            expect_refusal(progs, tmpdir, bad, words)


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 3, run))
