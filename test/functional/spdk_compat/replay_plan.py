# SPDX-License-Identifier: BSD-3-Clause
"""The order in which the captured rpc.py requests (data/rpc-requests.jsonl,
by line number from 0) are replayed: create before use, start-up methods
before framework_start_init, one scene (a fresh target started with
--wait-for-rpc) per nvmf_create_transport variant. A few steps that are not
corpus lines (X) set up what later lines need. Each step says what nvtcpd
must answer:

  OK             a result; its shape must cover SPDK's answer to the same step
  ABSENT         "Method not found": nvtcpd has no such method (yet)
  refused(f)     invalid params, naming the method and the field f (and the
                 value sent, for a field the request carries)
  error(words)   another error, due to an earlier step (say, an object that
                 an earlier refusal left uncreated), containing words
  "loop"         OK with a loop device the test could attach; where it
                 cannot, an error naming the device
  rbd(e)         e where nvtcpd has the rbd module (built with librbd),
                 else ABSENT

and optionally a function that checks the result's values.
"""

import json

from spdk_data import key_text

OK = ("ok",)
ABSENT = ("absent",)


def refused(field):
    return ("refused", field)


def error(words):
    return ("error", words)


def rbd(expect):
    """\p expect where nvtcpd was built with the rbd module (librbd), else ABSENT."""
    return ("rbd", expect)


class S:
    """A corpus line."""

    def __init__(self, line, expect, check=None):
        self.line, self.expect, self.check = line, expect, check


class X:
    """A request of the test's own."""

    def __init__(self, method, params, expect, check=None):
        self.method, self.params, self.expect, self.check = method, params, expect, check
        self.line = None


def _no_clusters(result):
    assert result == [], "no cluster is registered: %r" % (result,)


CNODE1 = "nqn.2016-06.io.spdk:cnode1"


def _ns(result, nsid):
    for sub in result:
        for ns in sub.get("namespaces", []):
            if ns["nsid"] == nsid:
                return ns
    return None


def _ns5_ids(result):
    ns = _ns(result, 5)
    assert ns is not None, "no namespace 5"
    assert ns["nguid"] == "7B0C2F6E3A1D4C5E9F10112233445566", ns
    assert ns["eui64"] == "0011223344556677", ns
    assert ns["uuid"] == "7b0c2f6e-3a1d-4c5e-9f10-112233445566", ns


def _transport(**want):
    def check(result):
        got = {k: result[0][k] for k in want}
        assert got == want, "transport options %r, want %r" % (got, want)
    return check


def _listeners(result):
    cnode1 = [s for s in result if s["nqn"] == CNODE1][0]
    fams = sorted(a["adrfam"] for a in cnode1["listen_addresses"])
    # 127.0.0.1 and ::1 on 4420, and 127.0.0.1 on 4421 with a secure channel.
    assert fams == ["IPv4", "IPv4", "IPv6"], cnode1["listen_addresses"]


def _referrals(result):
    # Line 80's referral (its port replaced), the discovery NQN and family filled in as SPDK does.
    assert len(result) == 1 and result[0]["address"]["trsvcid"].isdigit(), result
    assert dict(result[0], address=dict(result[0]["address"], trsvcid="4420")) == {
        "address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.2", "trsvcid": "4420"},
        "secure_channel": False, "subnqn": "nqn.2014-08.org.nvmexpress.discovery"}, result


def _keys(result):
    names = [k["name"] for k in result]
    assert names == ["key0", "dhkey0", "dhkey1", "dhckey0"], names
    assert all(k["module"] == "keyring_file" and not k["removed"] and k["refcnt"] == 1
               for k in result), result
    assert "DHHC-1" not in json.dumps(result) and "NVMeTLSkey" not in json.dumps(result), result


def _impl(name):
    def check(result):
        assert result == {"impl_name": name}, result
    return check


def _fields(top, items, item_fields):
    """The result has the fields \\p top, and each element of its list \\p items
    has \\p item_fields: SPDK's fields, for methods SPDK answered with a refusal."""
    def check(result):
        missing = set(top) - set(result)
        assert not missing, "result lacks %s: %r" % (sorted(missing), result)
        for item in result[items]:
            missing = set(item_fields) - set(item)
            assert not missing, "%s: %r lacks %s" % (items, item, sorted(missing))
    return check


# SPDK refuses the empty params these lines carry (rpc.py itself sends none);
# nvtcpd takes them as none, so the fields of SPDK's real answer are checked
# here (reactor_stats_test.py checks the whole shape and the values).
_REACTORS = _fields(("tick_rate", "pid", "reactors"), "reactors",
                    ("lcore", "numa_id", "tid", "busy", "idle", "in_interrupt", "irq", "sys",
                     "usr", "lw_threads"))
_THREADS = _fields(("tick_rate", "threads"), "threads",
                   ("name", "id", "cpumask", "busy", "idle", "active_pollers_count",
                    "timed_pollers_count", "paused_pollers_count"))

_POLLERS = _fields(("tick_rate", "threads"), "threads",
                   ("name", "id", "active_pollers", "timed_pollers", "paused_pollers"))
_CHANNELS = _fields(("threads",), "threads", ("name", "io_channels"))


def _scheduler(result):
    assert result.get("scheduler_name") == "static", result
    assert isinstance(result.get("scheduler_period"), int), result


def _no_iobuf_modules(result):
    # Before any transport exists: no module holds buffers yet.
    assert result == [], result


def _empty(result):
    # No host has connected during the replay.
    assert result == [], result


# Start-up methods, then framework_start_init; then the rest, objects created
# before they are used and deleted at the end.
MAIN = [
    S(0, OK), S(1, OK), S(2, OK),
    # nvmf is a configuration subsystem once the target exists (at start-up, not yet).
    S(3, error("no subsystem 'nvmf'")),
    S(15, OK), S(16, OK), S(17, OK), S(18, OK, _impl("uring")), S(19, OK), S(44, OK), S(45, OK),
    X("framework_start_init", None, OK), X("framework_wait_init", None, OK),
    S(1, OK),
    S(20, OK, _no_iobuf_modules),
    S(21, OK), S(22, OK), S(24, OK), S(25, ABSENT),
    # The files the requests name are made in a test folder; /dev/loop0 is a
    # loop device the test attaches where it can (else the create must fail
    # naming the device: LOOP_OR_ERROR).
    S(27, OK), S(28, "loop"), S(31, OK), S(32, OK), S(29, OK),
    S(34, OK), S(35, OK),
    S(36, OK), S(37, OK), S(38, OK), S(39, OK),
    # The key files are made in the test folder too (CORPUS_KEYS).
    S(40, OK), S(41, OK),
    X("keyring_file_add_key", {"name": "dhkey1", "path": "/var/tmp/dhchap1.key"}, OK),
    X("keyring_file_add_key", {"name": "dhckey0", "path": "/var/tmp/dhckey0.key"}, OK),
    S(42, OK, _keys),
    S(46, OK), S(49, OK, _transport(in_capsule_data_size=4096, c2h_success=True)), S(50, OK),
    S(51, OK),
    S(52, OK),
    # A step of the plan when cnode2 was refused, kept so that the steps match
    # the captured answers: cnode2 exists now, as it did for SPDK.
    X("nvmf_create_subsystem", {"nqn": "nqn.2016-06.io.spdk:cnode2", "serial_number": "SPDK2",
                                "allow_any_host": False, "max_namespaces": 64,
                                "min_cntlid": 1, "max_cntlid": 32000}, error("already exists")),
    S(54, OK), S(55, OK), S(56, OK),
    S(59, OK), S(60, OK), S(61, OK), S(62, OK),
    # cnode1 has no ANA reporting: SPDK refuses too (an internal error there).
    S(64, error("ana_reporting")), S(65, error("ana_reporting")),
    S(66, OK), S(70, OK),
    S(67, OK), S(70, OK),
    S(68, OK), S(69, OK), S(70, OK),
    S(71, OK), S(72, OK), S(73, ABSENT),
    S(74, OK, _listeners), S(75, OK, _ns5_ids),
    S(76, OK, _empty), S(77, OK, _empty), S(78, OK),
    S(79, OK),
    S(80, OK), S(81, OK, _referrals),
    S(3, OK),
    X("framework_get_config", {"name": "bdev", "with_batches": False}, OK),
    X("framework_get_config", {"name": "sock", "with_batches": False}, OK),
    S(82, OK), S(57, OK), S(58, error("no such namespace")), S(63, OK), S(53, OK),
    S(43, OK), S(23, OK), S(26, OK), S(30, OK), S(33, OK),
    S(4, OK, _REACTORS), S(5, OK, _scheduler), S(6, OK, _THREADS), S(7, OK, _POLLERS),
    S(8, OK, _CHANNELS),
    S(9, ABSENT), S(10, ABSENT), S(11, ABSENT), S(12, ABSENT), S(13, ABSENT), S(14, ABSENT),
    # RBD without a cluster here: each refusal names what is missing.
    S(83, rbd(error("cluster 'rbd_cluster'"))), S(84, rbd(OK), _no_clusters),
    S(85, rbd(error("no cluster 'rbd_cluster'"))), S(86, rbd(error("Rbd1"))),
    S(87, rbd(error("no rbd bdev 'Rbd0'"))), S(88, rbd(error("Rbd0"))),
    S(89, rbd(error("no cluster 'rbd_cluster'"))),
]

START = X("framework_start_init", None, OK)

SCENES = [
    ("main", MAIN),
    ("transport-47", [START, S(47, OK), S(49, OK, _transport(
        max_io_qpairs_per_ctrlr=8, in_capsule_data_size=8192, io_unit_size=16384))]),
    ("transport-48", [START, S(48, OK), S(49, OK, _transport(
        c2h_success=False, num_shared_buffers=8191, buf_cache_size=32,
        iobuf_small_cache_size=32))]),
]

# Listener ports of the corpus, replaced by free ones when replayed.
CORPUS_PORTS = ("4420", "4421", "8009")

# Files the corpus names (256 MiB each), made in the test's folder when replayed.
CORPUS_FILES = ("/var/tmp/disk0.img", "/var/tmp/disk1.img")
CORPUS_LOOP = "/dev/loop0"

# Reservation (PTPL) files the corpus names, mapped into the test's folder (not made:
# a missing file is a namespace without a persisted reservation).
CORPUS_PTPL = ("/var/tmp/ptpl.json",)

# Key files the corpus names, with the secrets SPDK was given; made (mode 0600) in
# the test's folder when replayed.
CORPUS_KEYS = {
    "/var/tmp/psk0.txt": key_text("NVMeTLSkey-1", 1, bytes(range(32))),
    "/var/tmp/dhchap0.key": key_text("DHHC-1", 0, bytes(range(1, 33))),
    "/var/tmp/dhchap1.key": key_text("DHHC-1", 0, bytes(range(2, 34))),
    "/var/tmp/dhckey0.key": key_text("DHHC-1", 0, bytes(range(3, 35))),
}
