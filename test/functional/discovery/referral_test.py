#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Discovery referrals between two nvtcpd processes.

usage: referral_test.py NVTCPD NVTCP_IDENTIFY

Starts target B (subsystem cnodeB and discovery on one port) and target A
(cnodeA, allowed to host A only), then:
  - a raw host on A's discovery controller sees the discovery log change
    notice bit in OAES, enables it and holds an Asynchronous Event Request;
    nvmf_discovery_add_referral (SPDK's parameters) completes it with a
    discovery log change notice;
  - A's discovery log lists the referral to B's discovery service (SUBTYPE
    1) and one to an NVM subsystem with secure_channel (SUBTYPE 2, TLS
    required), with SPDK's fields (PORTID 0, CNTLID FFFFh, TSAS), a higher
    generation counter, for host A and for a host allowed nowhere alike;
  - nvmf_discovery_get_referrals answers SPDK's shape; a duplicate, an
    unknown removal and bad fields are refused naming the cause;
  - nvtcp-identify on A prints the referral; following it to B's discovery
    service prints cnodeB at B's port;
  - a listener added to cnodeA and removed again sends the notice each time
    (the log read in between), and the log shows the change; a host
    connected through it is disconnected when it is removed;
  - save_config writes the referral before the subsystems; A started again
    from it has the same referrals, in its discovery log too.
Exit 0 on success, 1 on failure, 77 when a program is missing.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "common"))
import nvtcp_test  # noqa: E402 (after the path)
from nvtcp_test import RpcError, check  # noqa: E402
from nvme_tcp_host import Host  # noqa: E402 (the raw NVMe/TCP host)

DISCOVERY = "nqn.2014-08.org.nvmexpress.discovery"
CNODE_A = "nqn.2016-06.io.nvtcp:cnodeA"
CNODE_B = "nqn.2016-06.io.nvtcp:cnodeB"
ELSEWHERE = "nqn.2016-06.io.nvtcp:elsewhere"
HOST_A = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
HOST_C = "nqn.2014-08.org.nvmexpress:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

# Asynchronous event: type notice (2), discovery log change (F0h), log page 70h.
AEN_DISCOVERY_CHANGE = 0x2 | 0xf0 << 8 | 0x70 << 16
AEC_DISCOVERY_CHANGE = 1 << 31


def config_doc(nqn, port, allowed=None):
    listen = {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": str(port)}
    nvmf = [{"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": nqn, "allow_any_host": allowed is None}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": nqn, "namespace": {"bdev_name": "Malloc0"}}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": nqn, "listen_address": listen}},
            {"method": "nvmf_subsystem_add_listener",
             "params": {"nqn": DISCOVERY, "listen_address": listen}}]
    if allowed is not None:
        nvmf.insert(2, {"method": "nvmf_subsystem_add_host",
                        "params": {"nqn": nqn, "host": allowed}})
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": "Malloc0", "num_blocks": 2048, "block_size": 512}}]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def start(nvtcpd, tmpdir, tag, doc):
    path = os.path.join(tmpdir, tag + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    daemon = nvtcp_test.Daemon(nvtcpd, ["-c", path], os.path.join(tmpdir, tag + ".sock"))
    daemon.wait_output("nvme connect")
    return daemon


# ---- the raw host's admin commands ----

def recv_aer(host, cid):
    status, cdw0, _ = host.wait(cid)
    check(status == 0, "AER cid %d status %#x" % (cid, status))
    return cdw0


def set_aec(host, value):
    sqe = bytearray(64)
    sqe[0] = 0x09
    struct.pack_into("<II", sqe, 40, 0x0b, value)
    check(host.command(sqe)[0] == 0, "Set Features AEC failed")


def identify_oaes(host):
    sqe = bytearray(64)
    sqe[0] = 0x06
    struct.pack_into("<I", sqe, 40, 1)
    status, _, data = host.command(sqe, data_in_len=4096)
    check(status == 0, "Identify Controller failed: status %#x" % status)
    return struct.unpack_from("<I", data, 92)[0]


def get_log(host, length, offset):
    sqe = bytearray(64)
    sqe[0] = 0x02
    numd = length // 4 - 1
    struct.pack_into("<IIII", sqe, 40, 0x70 | (numd & 0xffff) << 16, numd >> 16,
                     offset & 0xffffffff, offset >> 32)
    status, _, data = host.command(sqe, data_in_len=length)
    check(status == 0, "Get Log Page discovery failed: status %#x" % status)
    return data


def discovery_log(host):
    """(genctr, [entry dict]) of the whole discovery log."""
    hdr = get_log(host, 1024, 0)
    genctr, numrec = struct.unpack_from("<QQ", hdr, 0)
    log = get_log(host, 1024 * numrec, 1024) if numrec else b""
    entries = []
    for i in range(numrec):
        e = log[1024 * i:1024 * (i + 1)]
        trtype, adrfam, subtype, treq, portid, cntlid, asqsz = struct.unpack_from("<BBBBHHH", e)
        entries.append({"trtype": trtype, "adrfam": adrfam, "subtype": subtype, "treq": treq,
                        "portid": portid, "cntlid": cntlid, "asqsz": asqsz,
                        "trsvcid": e[32:64].decode().rstrip(" \0"),
                        "subnqn": e[256:512].split(b"\0")[0].decode(),
                        "traddr": e[512:768].decode().rstrip(" \0"),
                        "sectype": e[768]})
    return genctr, entries


def discovery_host(port, hostnqn):
    host = Host(port, hostnqn)
    check(host.connect(DISCOVERY)[0] == 0, "discovery connect failed")
    host.enable()
    return host


# ---- the checks ----

def referral(traddr, trsvcid, subnqn=DISCOVERY, secure=False):
    return {"address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": traddr,
                        "trsvcid": str(trsvcid)}, "secure_channel": secure, "subnqn": subnqn}


def check_notice(client, port_a, port_b):
    """The AEN on add; returns the generation counter before it."""
    host = discovery_host(port_a, HOST_A)
    check(identify_oaes(host) & AEC_DISCOVERY_CHANGE, "OAES lacks discovery log change")
    genctr, before = discovery_log(host)
    check([e["subnqn"] for e in before] == [CNODE_A], "log before: %r" % before)
    set_aec(host, AEC_DISCOVERY_CHANGE)
    cid = host.send_aer()
    # rpc.py's request, as SPDK's tools send it.
    check(client.call("nvmf_discovery_add_referral",
                      {"secure_channel": False,
                       "address": {"trtype": "tcp", "traddr": "127.0.0.1",
                                   "trsvcid": str(port_b)}}) is True, "add answered")
    cdw0 = recv_aer(host, cid)
    check(cdw0 == AEN_DISCOVERY_CHANGE, "AER cdw0 %#x, want %#x" % (cdw0, AEN_DISCOVERY_CHANGE))
    host.close()
    print("ok: discovery log change notice on nvmf_discovery_add_referral")
    return genctr


def expect_closed(host, what):
    """The target ends \\p host's connection (within the host's timeout)."""
    try:
        data = host.sock.recv(1)
    except ConnectionResetError:
        data = b""
    check(data == b"", "%s: the connection is still open" % what)
    host.close()


def check_listener_notice(client, port_a):
    """A listener added and removed: a notice each, once the log was read in between;
    a host connected through the listener is disconnected when it goes."""
    host = discovery_host(port_a, HOST_A)
    set_aec(host, AEC_DISCOVERY_CHANGE)
    extra = nvtcp_test.free_port()
    address = {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": str(extra)}
    user = None
    for method, present in (("nvmf_subsystem_add_listener", True),
                            ("nvmf_subsystem_remove_listener", False)):
        cid = host.send_aer()
        client.call(method, {"nqn": CNODE_A, "listen_address": address})
        cdw0 = recv_aer(host, cid)
        check(cdw0 == AEN_DISCOVERY_CHANGE, "%s: AER cdw0 %#x" % (method, cdw0))
        _, entries = discovery_log(host)
        found = any(e["subnqn"] == CNODE_A and e["trsvcid"] == str(extra) for e in entries)
        check(found == present, "%s: the log %s the listener: %r" %
              (method, "lacks" if present else "still has", entries))
        if present:
            user = Host(extra, HOST_A)
            check(user.connect(CNODE_A)[0] == 0, "connect through the new listener")
            user.enable()
    expect_closed(user, "the listener removed")
    host.close()
    print("ok: discovery log change notice on a listener added and removed; "
          "its host disconnected")


def check_log(port_a, port_b, genctr_before):
    want_b = {"trtype": 3, "adrfam": 1, "subtype": 1, "treq": 0, "portid": 0,
              "cntlid": 0xffff, "asqsz": 32, "trsvcid": str(port_b), "subnqn": DISCOVERY,
              "traddr": "127.0.0.1", "sectype": 0}
    want_else = dict(want_b, subtype=2, treq=1, trsvcid="4420", subnqn=ELSEWHERE,
                     traddr="127.0.0.3", sectype=2)
    for hostnqn, own in ((HOST_A, [CNODE_A]), (HOST_C, [])):
        host = discovery_host(port_a, hostnqn)
        genctr, entries = discovery_log(host)
        host.close()
        check([e["subnqn"] for e in entries[:len(own)]] == own, "own entries %r" % entries)
        check(entries[len(own):] == [want_b, want_else],
              "referral entries for %s:\n%r\nwant\n%r" % (hostnqn, entries[len(own):],
                                                         [want_b, want_else]))
        check(genctr >= genctr_before + 2, "genctr %d after two adds from %d" %
              (genctr, genctr_before))
    print("ok: both referrals in the discovery log, as SPDK fills them, for every host")


def check_refusals(client, port_b):
    cases = [
        ({"address": {"trtype": "tcp", "traddr": "127.0.0.1", "trsvcid": str(port_b)}},
         ["nvmf_discovery_add_referral", "already exists"]),
        ({"address": {"trtype": "tcp", "traddr": "target.example", "trsvcid": "4420"}},
         ["nvmf_discovery_add_referral", "'traddr'"]),
        ({"address": {"trtype": "tcp", "traddr": "127.0.0.9", "trsvcid": "70000"}},
         ["nvmf_discovery_add_referral", "'trsvcid'"]),
        ({"address": {"trtype": "tcp", "traddr": "127.0.0.9", "trsvcid": "4420"},
          "subnqn": "not-an-nqn"}, ["nvmf_discovery_add_referral", "'subnqn'"]),
        ({"address": {"trtype": "tcp", "traddr": "127.0.0.9"}},
         ["nvmf_discovery_add_referral", "trsvcid"]),
    ]
    for params, words in cases:
        check_error(client, "nvmf_discovery_add_referral", params, words)
    check_error(client, "nvmf_discovery_remove_referral",
                {"address": {"trtype": "tcp", "traddr": "127.0.0.9", "trsvcid": "4420"}},
                ["nvmf_discovery_remove_referral", "no such referral"])
    # The same address with another subnqn is another referral: not removed by the default.
    check_error(client, "nvmf_discovery_remove_referral",
                {"address": {"trtype": "tcp", "traddr": "127.0.0.3", "trsvcid": "4420"}},
                ["no such referral"])
    print("ok: duplicate, unknown removal, bad traddr/trsvcid/subnqn refused")


def check_error(client, method, params, words):
    try:
        client.call(method, params)
    except RpcError as e:
        msg = e.error.get("message", "")
        check(e.error.get("code") == -32602, "%s: code %r" % (method, e.error))
        for w in words:
            check(w in msg, "%s: message %r lacks %r" % (method, msg, w))
        return
    raise nvtcp_test.Failure("%s %r accepted" % (method, params))


def identify(prog, port, subnqn=DISCOVERY):
    out = subprocess.run([prog, "-r", "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%s "
                          "subnqn:%s" % (port, subnqn)], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, "nvtcp-identify failed:\n%s%s" % (out.stdout, out.stderr))
    entries, cur = [], None
    for line in out.stdout.splitlines():
        if line.startswith("=====Discovery Log Entry"):
            cur = {}
            entries.append(cur)
        elif cur is not None and ":" in line:
            key, val = line.split(":", 1)
            cur[key.strip()] = val.strip()
    return entries


def check_follow(prog, port_a, port_b):
    refs = [e for e in identify(prog, port_a)
            if e.get("subtype") == "discovery subsystem referral"]
    check(len(refs) == 1 and refs[0]["traddr"] == "127.0.0.1" and
          refs[0]["trsvcid"] == str(port_b) and refs[0]["subnqn"] == DISCOVERY,
          "nvtcp-identify's referral entries: %r" % refs)
    sub = [e for e in identify(prog, int(refs[0]["trsvcid"])) if e.get("subtype") ==
           "nvme subsystem"]
    check([(e["subnqn"], e["trsvcid"]) for e in sub] == [(CNODE_B, str(port_b))],
          "following the referral: %r" % sub)
    print("ok: nvtcp-identify shows the referral; following it finds %s" % CNODE_B)


def check_saved(nvtcpd, tmpdir, client, daemon, port_a, port_b):
    saved = client.save_config()
    nvmf = next(s["config"] for s in saved["subsystems"] if s["subsystem"] == "nvmf")
    methods = [e["method"] for e in nvmf]
    at = [i for i, m in enumerate(methods) if m == "nvmf_discovery_add_referral"]
    transport = methods.index("nvmf_create_transport")
    # SPDK's place: right after the transports, before any subsystem.
    check(at == [transport + 1, transport + 2] and
          at[-1] < methods.index("nvmf_create_subsystem"), "saved nvmf methods: %r" % methods)
    refs = client.call("nvmf_discovery_get_referrals")
    client.close()
    daemon.stop()
    again = start(nvtcpd, tmpdir, "a-saved", saved)
    try:
        client = again.client()
        check(client.call("nvmf_discovery_get_referrals") == refs, "referrals after restart")
        client.close()
        host = discovery_host(port_a, HOST_C)
        _, entries = discovery_log(host)
        host.close()
        check([(e["subtype"], e["trsvcid"]) for e in entries] == [(1, str(port_b)), (2, "4420")],
              "discovery log after restart: %r" % entries)
        again.stop()
    finally:
        again.kill()
    print("ok: save_config writes the referrals before the subsystems; a restart keeps them")


def run(nvtcpd, identify_prog):
    port_a, port_b = nvtcp_test.free_port(), nvtcp_test.free_port()
    with tempfile.TemporaryDirectory(prefix="nvtcp-referral-") as tmpdir:
        b = start(nvtcpd, tmpdir, "b", config_doc(CNODE_B, port_b))
        a = None
        try:
            a = start(nvtcpd, tmpdir, "a", config_doc(CNODE_A, port_a, HOST_A))
            client = a.client()
            genctr = check_notice(client, port_a, port_b)
            client.call("nvmf_discovery_add_referral", {
                "address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.3",
                            "trsvcid": "4420"}, "subnqn": ELSEWHERE, "secure_channel": True})
            got = client.call("nvmf_discovery_get_referrals", {})
            want = [referral("127.0.0.1", port_b), referral("127.0.0.3", 4420, ELSEWHERE, True)]
            check(got == want, "nvmf_discovery_get_referrals: %r, want %r" % (got, want))
            print("ok: nvmf_discovery_get_referrals answers SPDK's shape")
            check_log(port_a, port_b, genctr)
            check_refusals(client, port_b)
            check_follow(identify_prog, port_a, port_b)
            check_listener_notice(client, port_a)
            check_saved(nvtcpd, tmpdir, client, a, port_a, port_b)
            b.stop()
        finally:
            b.kill()
            if a is not None:
                a.kill()


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 2, run))
