#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""TLS 1.3 secure channels and DH-HMAC-CHAP with nvtcp's host against nvtcpd.

usage: tls_test.py NVTCPD NVTCP_IDENTIFY NVTCP_PERF

Starts nvtcpd with keys in its keyring, a TLS-only listener and a plain one
for the same subsystem, then with nvtcp-identify and nvtcp-perf:
  - a TLS host connects with a SHA-256 PSK (RFC 8446 derivation, as SPDK)
    and with a SHA-384 PSK derived both ways (as SPDK and as Debian 13's
    libnvme): each is served, the cipher suite is the PSK's;
  - TLS and DH-HMAC-CHAP together (bidirectional), with verified I/O, header
    and data digests over TLS;
  - refusals, each with one log line and others unaffected: a plaintext host
    on the TLS listener, a wrong PSK, a host with a PSK over plain TCP, a
    host without a PSK at the handshake;
  - the discovery log says TLS 1.3 required for the TLS listener only;
  - save_config names the keys only; nvtcpd restarted from it serves the
    same hosts with the same security.
Exit 0 on success, 1 on failure, 77 when a program is missing.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
from nvtcp_test import Daemon, check, free_port, test_main  # noqa: E402 (after the path)

SUBNQN = "nqn.2016-06.io.nvtcp:tls"
HOSTA = "nqn.2014-08.org.nvmexpress:uuid:b0000000-0000-4000-8000-00000000000a"
HOSTB = "nqn.2014-08.org.nvmexpress:uuid:b0000000-0000-4000-8000-00000000000b"
HOSTC = "nqn.2014-08.org.nvmexpress:uuid:b0000000-0000-4000-8000-00000000000c"
KEYS = {
    "pskA": "NVMeTLSkey-1:01:iajUQmtfxzm5o92+nfo95k1uXTDFN0GHGlDfFb3ZamaBIyw5:",
    "pskB": "NVMeTLSkey-1:02:ix/xyaCE0gihbjjQhPZ3Rnt+FmcLvUQVRRGEkj/v067JUoh27rrT/bZhNQF0y+5"
            "XltriSA==:",
    "dhA": "DHHC-1:01:dpb2pzQnxgXoNkZMXQnGlcn4s9VFqaLvvXShthBKayKBJpd2:",
    "dhCtrl": "DHHC-1:00:RZJVkkcxLxJ85s/3xN7QVEGxQTK6NeommKL0qDxSgGkOl2Oc:",
}
WRONG_PSK = "NVMeTLSkey-1:01:eYMqc9DSqO2Xs1Ilaa/9XTEBgEGQe9Fz8bfeyqAvgcYm5Z5J:"


def write_keys(d):
    for name, text in list(KEYS.items()) + [("wrong", WRONG_PSK)]:
        path = os.path.join(d, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (text + "\n").encode())
        os.close(fd)


def config(d, tls_port, plain_port):
    keyring = [{"method": "keyring_file_add_key",
                "params": {"name": n, "path": os.path.join(d, n)}} for n in KEYS]

    def listener(port, secure):
        return {"method": "nvmf_subsystem_add_listener",
                "params": {"nqn": SUBNQN, "secure_channel": secure,
                           "listen_address": {"trtype": "TCP", "adrfam": "IPv4",
                                              "traddr": "127.0.0.1", "trsvcid": str(port)}}}
    nvmf = [
        {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
        {"method": "nvmf_create_subsystem", "params": {"nqn": SUBNQN}},
        {"method": "nvmf_subsystem_add_ns",
         "params": {"nqn": SUBNQN, "namespace": {"bdev_name": "Malloc0", "nsid": 1}}},
        {"method": "nvmf_subsystem_add_host",
         "params": {"nqn": SUBNQN, "host": HOSTA, "psk": "pskA", "dhchap_key": "dhA",
                    "dhchap_ctrlr_key": "dhCtrl"}},
        {"method": "nvmf_subsystem_add_host",
         "params": {"nqn": SUBNQN, "host": HOSTB, "psk": "pskB"}},
        {"method": "nvmf_subsystem_add_host", "params": {"nqn": SUBNQN, "host": HOSTC}},
        listener(tls_port, True),
        listener(plain_port, False),
    ]
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 32768, "block_size": 512}}]
    return {"subsystems": [{"subsystem": "keyring", "config": keyring},
                           {"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


class Tools:
    def __init__(self, identify, perf, d):
        self.identify_exe, self.perf_exe, self.d = identify, perf, d

    def trid(self, port, host, subnqn=SUBNQN):
        t = "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d hostnqn:%s" % (port, host)
        return t + (" subnqn:%s" % subnqn if subnqn else "")

    def key(self, name):
        return os.path.join(self.d, name)

    def identify(self, port, host, *opts, subnqn=SUBNQN):
        p = subprocess.run([self.identify_exe, "-r", self.trid(port, host, subnqn)] + list(opts),
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def perf(self, port, host, *opts):
        p = subprocess.run([self.perf_exe, "-r", self.trid(port, host), "-q", "8", "-o", "4096",
                            "-w", "randrw", "-t", "2", "--verify"] + list(opts),
                           capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout + p.stderr


def expect_ok(what, rc, out, *words):
    check(rc == 0, "%s: exit %d:\n%s" % (what, rc, out))
    for w in words:
        check(w in out, "%s: %r not in:\n%s" % (what, w, out))


def check_served(t, ports):
    tls, plain = ports
    rc, out = t.identify(tls, HOSTB, "--psk-path", t.key("pskB"))
    expect_ok("SHA-384 PSK, RFC 8446", rc, out, "TLS_AES_256_GCM_SHA384", "NVMe0R02")
    rc, out = t.identify(tls, HOSTB, "--psk-path", t.key("pskB"), "--psk-compat")
    expect_ok("SHA-384 PSK, libnvme's derivation", rc, out, "NVMe0R02")
    rc, out = t.identify(tls, HOSTA, "--psk-path", t.key("pskA"), "--dhchap-key", t.key("dhA"),
                         "--dhchap-ctrlr-key", t.key("dhCtrl"), "-H", "-I")
    expect_ok("TLS + bidirectional DH-HMAC-CHAP + digests", rc, out, "TLS_AES_128_GCM_SHA256",
              "bidirectional")
    rc, out = t.identify(plain, HOSTC)
    expect_ok("a host without keys on the plain listener", rc, out)


def check_refused(t, ports, daemon_err):
    tls, plain = ports
    rc, out = t.identify(tls, HOSTC)
    check(rc != 0, "a plaintext host was served on the TLS listener:\n%s" % out)
    rc, out = t.identify(tls, HOSTB, "--psk-path", t.key("wrong"))
    check(rc != 0, "a wrong PSK was accepted:\n%s" % out)
    rc, out = t.identify(plain, HOSTA, "--dhchap-key", t.key("dhA"))
    check(rc != 0, "a host with a PSK was served over plain TCP:\n%s" % out)
    rc, out = t.identify(tls, HOSTA, "--psk-path", t.key("pskA"))
    check(rc != 0, "a host that must authenticate was served without a key:\n%s" % out)


def discovery_entries(out):
    """The discovery log's entries as dicts of their printed fields."""
    entries = []
    for block in out.split("=====Discovery Log Entry")[1:]:
        fields = {}
        for line in block.splitlines()[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                fields[k.strip()] = v.strip()
        entries.append(fields)
    return entries


def check_discovery(t, ports):
    tls, plain = ports
    rc, out = t.identify(plain, HOSTC, subnqn=None)
    check(rc == 0, "discovery: exit %d:\n%s" % (rc, out))
    by_port = {e.get("trsvcid"): e for e in discovery_entries(out)}
    e = by_port.get(str(tls), {})
    check(e.get("treq") == "required" and e.get("sectype") == "tls1.3",
          "discovery: the TLS listener does not say TLS 1.3 required:\n%s" % out)
    e = by_port.get(str(plain), {})
    check(e.get("treq") == "not specified" and e.get("sectype") == "none",
          "discovery: the plain listener:\n%s" % out)


def run(nvtcpd, identify, perf):
    with tempfile.TemporaryDirectory(prefix="nvtcp-tls-test-") as d:
        write_keys(d)
        ports = (free_port(), free_port())
        cfg = os.path.join(d, "nvtcpd.json")
        with open(cfg, "w") as f:
            json.dump(config(d, *ports), f)
        t = Tools(identify, perf, d)
        daemon = Daemon(nvtcpd, ["-m", "0x1", "-c", cfg], os.path.join(d, "rpc.sock"))
        try:
            daemon.wait_output("listening on")
            check_served(t, ports)
            rc, out = t.perf(ports[0], HOSTB, "--psk-path", t.key("pskB"), "-H", "-I")
            expect_ok("verified I/O over TLS with digests", rc, out, "0 mismatched")
            check_refused(t, ports, None)
            check_discovery(t, ports)
            cl = daemon.client()
            saved = cl.call("save_config")
            cl.close()
        finally:
            err = daemon.stop()
        text = json.dumps(saved)
        for secret in list(KEYS.values()):
            check(secret.split(":")[2][:12] not in text, "save_config holds a secret")
            check(secret.split(":")[2][:12] not in err, "nvtcpd's log holds a secret")
        for line in ("peer sent plaintext", "wrong PSK", "refused over plain TCP"):
            check(err.count(line) == 1, "log: %d lines with %r, one expected:\n%s" %
                  (err.count(line), line, err))
        # Restart from what it saved: the same security, no secret in the file.
        with open(cfg, "w") as f:
            json.dump(saved, f)
        daemon = Daemon(nvtcpd, ["-m", "0x1", "-c", cfg], os.path.join(d, "rpc.sock"))
        try:
            daemon.wait_output("listening on")
            check_served(t, ports)
            check_refused(t, ports, None)
        finally:
            daemon.stop()
    return "TLS, TLS + DH-HMAC-CHAP, refusals, discovery, save_config restart"


if __name__ == "__main__":
    sys.exit(test_main(__doc__, sys.argv, 3, run))
