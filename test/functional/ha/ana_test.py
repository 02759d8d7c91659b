#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Asymmetric Namespace Access end to end, against a running nvtcpd.

usage: ana_test.py NVTCPD NVTCP_IDENTIFY

Starts nvtcpd with a subsystem with ANA reporting, two listeners (ports A
and B) and two namespaces in ANA groups 1 and 2, and a subsystem without ANA
reporting; then, with a raw NVMe/TCP host on each port, checks:
  - the Identify fields (CMIC ANA, ANATT, ANACAP, ANAGRPMAX, NANAGRPID,
    MNAN, OAES ANA change, namespace ANAGRPID);
  - the ANA log, whole, in pieces (offsets) and groups only (RGO);
  - a state change by RPC: seen in the log (CHGCNT grows) through its
    listener only; an outstanding AER completes with the ANA change notice
    on that controller only; notices stay masked until the log is read
    without RAE;
  - I/O through an inaccessible path fails with SCT 3 / SC 02h (DNR clear)
    while the other path serves; a non-optimized path serves;
  - RPC refusals (no ANA reporting, bad group, unknown listener, bad state);
  - a listener added with ana_state (and anagrpid) starts in that state;
  - save_config, then nvtcpd restarted from it: same groups and states;
    nvtcp's host (nvtcp-identify) reads the same ANA log through each
    listener as the raw host does.
Exit 0 on success, 1 on failure, 77 when nvtcpd is missing.
"""

import json
import os
import re
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
from nvtcp_test import Daemon, Failure, RpcError, check, free_port, test_main  # noqa: E402
import nvme_tcp_host  # noqa: E402

HOST = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
CNODE1 = "nqn.2016-06.io.nvtcp:ana1"
CNODE2 = "nqn.2016-06.io.nvtcp:plain2"
MAX_NS = 8

OPT, NONOPT, INACC = 1, 2, 3
AEC_NS_ATTR = 1 << 8
AEC_ANA = 1 << 11
ANA_NOTICE = 0x2 | (0x03 << 8) | (0x0c << 16)  # Notice, ANA change, log page 0Ch
STATUS_ANA_INACCESSIBLE = (3 << 8) | 0x02


# ---- the raw host (responses to other commands, AERs, are kept) ----

class Host(nvme_tcp_host.Host):
    def __init__(self, port):
        super().__init__(port, HOST)

    def connect(self, subnqn, qid=0, cntlid=0xffff):
        """The controller ID; a refused Connect fails the test."""
        status, cdw0 = super().connect(subnqn, qid=qid, cntlid=cntlid)
        check(status == 0, "Connect qid %d failed: status %#x" % (qid, status))
        return cdw0 & 0xffff

    def rw(self, opc, nsid, data_out=b"", data_in_len=0):
        sqe = bytearray(64)
        sqe[0] = opc
        struct.pack_into("<I", sqe, 4, nsid)
        struct.pack_into("<QI", sqe, 40, 0, 0)  # LBA 0, one block
        return self.command(sqe, data_out=data_out, data_in_len=data_in_len)


def ana_log(host, **kw):
    """Parse the ANA log: (chgcnt, {grpid: (state, [nsids], chgcnt)})."""
    data = host.get_log(0x0c, 16 + MAX_NS * 32 + MAX_NS * 4, **kw)
    chgcnt, ngrps = struct.unpack_from("<QH", data, 0)
    groups, off = {}, 16
    for _ in range(ngrps):
        grp, nnsids, gchg, state = struct.unpack_from("<IIQB", data, off)
        off += 32
        nsids = list(struct.unpack_from("<%dI" % nnsids, data, off))
        off += 4 * nnsids
        groups[grp] = (state & 0xf, nsids, gchg)
    return chgcnt, groups, data[:off]


def states(groups):
    return {g: v[0] for g, v in groups.items()}


def pending_aer(host, aer):
    """Whether \\p aer completed, known once a later command's answer arrived."""
    host.identify(1)
    return aer in host.done


# ---- the daemon ----

def listen(port):
    return {"trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1", "trsvcid": str(port)}


def config_doc(port_a, port_b):
    nvmf = [{"method": "nvmf_create_transport",
             "params": {"trtype": "TCP", "in_capsule_data_size": 4096}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": CNODE1, "allow_any_host": True, "ana_reporting": True,
                        "max_namespaces": MAX_NS}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": CNODE1, "namespace": {"bdev_name": "Malloc0"}}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": CNODE1, "namespace": {"bdev_name": "Malloc1", "anagrpid": 2}}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": CNODE2, "allow_any_host": True}},
            {"method": "nvmf_subsystem_add_ns",
             "params": {"nqn": CNODE2, "namespace": {"bdev_name": "Malloc2"}}}]
    for nqn, port in ((CNODE1, port_a), (CNODE1, port_b), (CNODE2, port_a)):
        nvmf.append({"method": "nvmf_subsystem_add_listener",
                     "params": {"nqn": nqn, "listen_address": listen(port)}})
    bdev = [{"method": "bdev_malloc_create",
             "params": {"name": name, "num_blocks": 1024, "block_size": 512}}
            for name in ("Malloc0", "Malloc1", "Malloc2")]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def start(nvtcpd, tmpdir, tag, doc, port_b):
    path = os.path.join(tmpdir, tag + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    daemon = Daemon(nvtcpd, ["-m", "0x1", "-c", path], os.path.join(tmpdir, tag + ".sock"))
    daemon.wait_output(":%d" % port_b)
    return daemon


def listener_states(rpc, port):
    for entry in rpc.call("nvmf_subsystem_get_listeners", {"nqn": CNODE1}):
        if entry["address"]["trsvcid"] == str(port):
            return {s["ana_group"]: s["ana_state"] for s in entry["ana_states"]}
    raise Failure("no listener on port %d: %r" % (port, entry))


def set_state(rpc, port, state, grp=None):
    params = {"nqn": CNODE1, "listen_address": listen(port), "ana_state": state}
    if grp is not None:
        params["anagrpid"] = grp
    return rpc.call("nvmf_subsystem_listener_set_ana_state", params)


def expect_error(rpc, method, params, words):
    try:
        rpc.call(method, params)
    except RpcError as e:
        check(words in str(e), "%s: error %r lacks %r" % (method, str(e), words))
        return
    raise Failure("%s %r was accepted" % (method, params))


# ---- the checks ----

def check_identify(host):
    c = host.identify(1)
    cmic, = struct.unpack_from("<B", c, 76)
    oaes, = struct.unpack_from("<I", c, 92)
    anatt, anacap, anagrpmax, nanagrpid = struct.unpack_from("<BBII", c, 342)
    nn, = struct.unpack_from("<I", c, 516)
    mnan, = struct.unpack_from("<I", c, 540)
    check(cmic & 0xb == 0xb, "CMIC %#x lacks multi-port, multi-ctrl, ANA" % cmic)
    check(oaes & AEC_ANA, "OAES %#x lacks the ANA change notice" % oaes)
    check(anatt == 10 and anacap & 0x7 == 0x7, "ANATT %d ANACAP %#x" % (anatt, anacap))
    check(anagrpmax == MAX_NS and nanagrpid == MAX_NS, "ANAGRPMAX %d NANAGRPID %d" %
          (anagrpmax, nanagrpid))
    check(1 <= mnan <= nn, "MNAN %d out of 1..NN %d (the Linux host refuses)" % (mnan, nn))
    for nsid, grp in ((1, 1), (2, 2)):
        ns = host.identify(0, nsid)
        check(ns[30] & 1, "namespace %d not shared (NMIC)" % nsid)
        got, = struct.unpack_from("<I", ns, 92)
        check(got == grp, "namespace %d ANAGRPID %d, want %d" % (nsid, got, grp))


def check_log_forms(host):
    chg, groups, full = ana_log(host)
    check(chg == 0, "fresh CHGCNT %d" % chg)
    check({g: (v[0], v[1]) for g, v in groups.items()} == {1: (OPT, [1]), 2: (OPT, [2])},
          "fresh ANA log %r" % groups)
    check(len(full) == 16 + 2 * 36, "log of %d bytes" % len(full))
    part = host.get_log(0x0c, 36, offset=16)
    check(part == full[16:52], "log at offset 16: %r vs %r" % (part, full[16:52]))
    part = host.get_log(0x0c, 8, offset=8)
    check(struct.unpack_from("<H", part, 0)[0] == 2, "NGRPS at offset 8: %r" % part)
    rgo = host.get_log(0x0c, 16 + 2 * 32 + 8, lsp=1)
    check(struct.unpack_from("<H", rgo, 8)[0] == 2, "RGO NGRPS")
    for i, grp in enumerate((1, 2)):
        g, nnsids = struct.unpack_from("<II", rgo, 16 + 32 * i)
        check(g == grp and nnsids == 0, "RGO descriptor %d: group %d, %d NSIDs" %
              (i, g, nnsids))
    check(rgo[16 + 64:] == bytes(8), "RGO log longer than its descriptors")


def io_queue(port, cntlid):
    q = Host(port)
    q.connect(CNODE1, qid=1, cntlid=cntlid)
    return q


def check_change_and_io(rpc, a, b, qa, qb, port_a):
    block = bytes(range(256)) * 2
    aer_a, aer_b = a.send_aer(), b.send_aer()
    set_state(rpc, port_a, "inaccessible", 2)
    status, cdw0, _ = a.wait(aer_a)
    check(status == 0 and cdw0 == ANA_NOTICE, "AER on A: status %#x cdw0 %#x" % (status, cdw0))
    check(not pending_aer(b, aer_b), "the AER of the controller on B completed")
    chg, groups, _ = ana_log(a)
    check(chg == 1 and states(groups) == {1: OPT, 2: INACC}, "A after the change: %d %r" %
          (chg, groups))
    check(groups[2][2] == 1 and groups[1][2] == 0, "group CHGCNTs %r" % groups)
    chg, groups, _ = ana_log(b)
    check(chg == 0 and states(groups) == {1: OPT, 2: OPT}, "B: %d %r" % (chg, groups))
    status, _, _ = qa.rw(0x01, 2, data_out=block)
    check(status == STATUS_ANA_INACCESSIBLE, "write through the inaccessible path: %#x "
          "(want SCT 3 SC 2, DNR clear)" % status)
    check(qa.rw(0x01, 1, data_out=block)[0] == 0, "write of group 1 through A failed")
    check(qb.rw(0x01, 2, data_out=block)[0] == 0, "write of group 2 through B failed")
    status, _, data = qb.rw(0x02, 2, data_in_len=512)
    check(status == 0 and data == block, "read back through B: %#x" % status)
    # Non-optimized serves; the notice comes, the host keeps it (RAE).
    aer_a = a.send_aer()
    set_state(rpc, port_a, "non_optimized", 2)
    check(a.wait(aer_a)[1] == ANA_NOTICE, "no notice for non_optimized")
    status, _, data = qa.rw(0x02, 2, data_in_len=512)
    check(status == 0 and data == block, "read through non-optimized A: %#x" % status)
    a.get_log(0x0c, 16, rae=True)
    return aer_b


def check_masking(rpc, a, port_a):
    aer_a = a.send_aer()
    set_state(rpc, port_a, "non_optimized", 1)
    check(not pending_aer(a, aer_a), "a notice while the log was kept (RAE)")
    chg, groups, _ = ana_log(a)
    check(states(groups) == {1: NONOPT, 2: NONOPT} and chg == 3, "A: %d %r" % (chg, groups))
    status, cdw0, _ = a.wait(aer_a)
    check(cdw0 == ANA_NOTICE, "the notice held back while masked: %#x" % cdw0)


def check_refusals(rpc, port_a):
    base = {"listen_address": listen(port_a), "ana_state": "optimized"}
    expect_error(rpc, "nvmf_subsystem_listener_set_ana_state", dict(base, nqn=CNODE2),
                 "ana_reporting")
    expect_error(rpc, "nvmf_subsystem_listener_set_ana_state",
                 dict(base, nqn=CNODE1, anagrpid=MAX_NS + 1), "anagrpid")
    expect_error(rpc, "nvmf_subsystem_listener_set_ana_state",
                 dict(base, nqn=CNODE1, listen_address=listen(free_port())), "no such listener")
    expect_error(rpc, "nvmf_subsystem_listener_set_ana_state",
                 dict(base, nqn=CNODE1, ana_state="change"), "ana_state")
    expect_error(rpc, "nvmf_subsystem_set_ns_ana_group",
                 {"nqn": CNODE1, "nsid": 1, "anagrpid": MAX_NS + 1}, "anagrpid")
    expect_error(rpc, "nvmf_subsystem_set_ns_ana_group",
                 {"nqn": CNODE1, "nsid": 7, "anagrpid": 1}, "no such namespace")
    expect_error(rpc, "nvmf_subsystem_add_ns",
                 {"nqn": CNODE1, "namespace": {"bdev_name": "Malloc2", "anagrpid": 0xffff}},
                 "anagrpid")


def check_listener_start_state(rpc):
    """nvmf_subsystem_add_listener's ana_state and anagrpid: the first state of a listener."""
    port_c = free_port()
    add = {"nqn": CNODE1, "listen_address": listen(port_c), "ana_state": "inaccessible"}
    expect_error(rpc, "nvmf_subsystem_add_listener", dict(add, nqn=CNODE2), "ana_reporting")
    expect_error(rpc, "nvmf_subsystem_add_listener", dict(add, ana_state="changing"),
                 "ana_state")
    expect_error(rpc, "nvmf_subsystem_add_listener", dict(add, anagrpid=MAX_NS + 1), "anagrpid")
    for nqn in (CNODE1, CNODE2):
        ports = [e["address"]["trsvcid"]
                 for e in rpc.call("nvmf_subsystem_get_listeners", {"nqn": nqn})]
        check(str(port_c) not in ports, "a refused listener was added to %s" % nqn)
    rpc.call("nvmf_subsystem_add_listener", dict(add, anagrpid=2))
    got = listener_states(rpc, port_c)
    want = {g: "inaccessible" if g == 2 else "optimized" for g in range(1, MAX_NS + 1)}
    check(got == want, "a listener added inaccessible for group 2: %r" % got)
    rpc.call("nvmf_subsystem_remove_listener", {"nqn": CNODE1, "listen_address": listen(port_c)})


def identify_ana(prog, port):
    """{group: (state name, [NSIDs])} as nvtcp-identify prints the ANA log through \\p port."""
    out = subprocess.run([prog, "-r", "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:%d "
                          "subnqn:%s" % (port, CNODE1)], capture_output=True, text=True,
                         timeout=60)
    check(out.returncode == 0, "nvtcp-identify failed:\n%s%s" % (out.stdout, out.stderr))
    got = {}
    for ln in out.stdout.splitlines():
        m = re.match(r"ANA group (\d+): state (\S+) \(0x\d\), chgcnt \d+, \d+ namespaces:(.*)$", ln)
        if m:
            got[int(m.group(1))] = (m.group(2), [int(x) for x in m.group(3).split()])
    check(got, "nvtcp-identify printed no ANA log:\n" + out.stdout)
    return got


STATE_NAMES = {OPT: "optimized", NONOPT: "non-optimized", INACC: "inaccessible"}


def check_host_tool(prog, hosts):
    """nvtcp-identify's ANA log through each (port, raw host) equals the raw host's."""
    for port, host in hosts:
        _, groups, _ = ana_log(host)
        want = {g: (STATE_NAMES[v[0]], v[1]) for g, v in groups.items()}
        got = identify_ana(prog, port)
        check(got == want, "nvtcp-identify on port %d: %r, the raw host reads %r" %
              (port, got, want))


def snapshot(rpc, port_a, port_b):
    subsys = [s for s in rpc.call("nvmf_get_subsystems") if s["nqn"] == CNODE1][0]
    return ({ns["nsid"]: ns["anagrpid"] for ns in subsys["namespaces"]},
            listener_states(rpc, port_a), listener_states(rpc, port_b))


def run(nvtcpd, identify):
    port_a, port_b = free_port(), free_port()
    with tempfile.TemporaryDirectory() as tmpdir:
        daemon = start(nvtcpd, tmpdir, "first", config_doc(port_a, port_b), port_b)
        try:
            rpc = daemon.client()
            check(set(listener_states(rpc, port_a).values()) == {"optimized"} and
                  len(listener_states(rpc, port_a)) == MAX_NS, "fresh listener states")
            a, b = Host(port_a), Host(port_b)
            cntlids = []
            for h in (a, b):
                cntlids.append(h.connect(CNODE1))
                h.enable()
                h.set_features(0x0b, AEC_NS_ATTR | AEC_ANA)
            check_identify(a)
            check_log_forms(b)
            qa, qb = io_queue(port_a, cntlids[0]), io_queue(port_b, cntlids[1])
            aer_b = check_change_and_io(rpc, a, b, qa, qb, port_a)
            check_masking(rpc, a, port_a)
            # Without anagrpid: every group of the listener.
            set_state(rpc, port_b, "inaccessible")
            check(set(listener_states(rpc, port_b).values()) == {"inaccessible"},
                  "B after a change of every group")
            check(b.wait(aer_b)[1] == ANA_NOTICE, "no notice on B")
            set_state(rpc, port_b, "optimized", 1)
            rpc.call("nvmf_subsystem_set_ns_ana_group", {"nqn": CNODE1, "nsid": 1, "anagrpid": 3})
            _, groups, _ = ana_log(a)
            check({g: v[1] for g, v in groups.items()} == {2: [2], 3: [1]},
                  "groups after moving namespace 1 to group 3: %r" % groups)
            check_refusals(rpc, port_a)
            check_listener_start_state(rpc)
            before = snapshot(rpc, port_a, port_b)
            saved = rpc.save_config()
            for h in (qa, qb, a, b):
                h.close()
            daemon.stop()
        finally:
            daemon.kill()
        daemon = start(nvtcpd, tmpdir, "again", saved, port_b)
        try:
            after = snapshot(daemon.client(), port_a, port_b)
            check(after == before, "after the restart %r, before %r" % (after, before))
            b = Host(port_b)
            b.connect(CNODE1)
            b.enable()
            _, groups, _ = ana_log(b)
            check(states(groups) == {2: INACC, 3: INACC}, "B's log after the restart %r" % groups)
            a = Host(port_a)
            a.connect(CNODE1)
            a.enable()
            check_host_tool(identify, ((port_a, a), (port_b, b)))
            a.close()
            b.close()
            daemon.stop()
        finally:
            daemon.kill()
    return "ANA through two listeners, I/O, notices, refusals and a restart"


if __name__ == "__main__":
    sys.exit(test_main(__doc__, sys.argv, 2, run))
