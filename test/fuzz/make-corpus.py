#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Build the seed corpora of the libFuzzer harnesses from real traffic.

Starts nvtcpd on 127.0.0.1 with the configuration the stream and command
harnesses run (fuzz_env.c: the same subsystem, namespaces and transport
options), puts a recording TCP proxy in front of its NVMe/TCP port and a
recording proxy in front of its JSON-RPC socket, and runs the project's own
host tools through them: nvtcp-identify (discovery and the subsystem, with
and without digests), nvtcp-perf for a second each (reads and writes, queue
depths 1 to 16, I/O sizes from 512 bytes, in the capsule, to 64 KiB, through
R2T, with and without digests) and the nvtcp CLI (every kind of object
created, listed and deleted). What the hosts sent becomes the seeds:

  corpus/fuzz_tcp_stream/  each connection's host-to-target bytes (cut at a
                           PDU boundary), behind the harness's 4-byte header
  corpus/fuzz_nvmf_cmd/    each tool run's commands after the set-up,
                           converted into the harness's records
  corpus/fuzz_jsonrpc/     each request the CLI sent, and SPDK rpc.py's
                           requests (--spdk-requests, one JSON object a line)
  corpus/fuzz_config/      nvtcpd's saved configurations, SPDK's saved
                           configurations (--spdk-config) and configurations
                           assembled from the captured requests

The seeds of fuzz_auth are made by hand instead (no real host here speaks
DH-HMAC-CHAP step by step): records of the harness's right steps, so that
the harness computes each message of the exchange at run time, around the
cases worth starting from - whole exchanges one way and both ways, with no
DH group and ffdhe2048, on the admin and on an I/O queue, re-authentication,
a wrong Reply, truncated and out-of-order messages, Failure2, a stalled
exchange, commands before and after authentication.

Usage: make-corpus.py [--build DIR] [--out DIR] [--spdk-requests FILE]
                      [--spdk-config FILE ...] [--harness NAME ...]
The build directory needs app/ built (any build type: build-fuzz works),
unless only fuzz_auth is asked for.
"""
import argparse
import hashlib
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Keep in step with fuzz_env.h / fuzz_env_target_config().
SUBNQN = "nqn.2016-06.io.nvtcp:fuzz"
TRANSPORT = {"trtype": "TCP", "max_queue_depth": 32, "in_capsule_data_size": 4096,
             "max_io_size": 131072, "io_unit_size": 8192, "num_shared_buffers": 96,
             "buf_cache_size": 16, "acceptor_poll_rate": 1000}

STREAM_LIMIT = 1536       # bytes of one connection kept as a stream seed
STREAM_LIMIT_WRITE = 3072  # ... when it carries write data
CMD_RECORDS = 24          # commands of the admin queue kept as records
CMD_LIMIT = 2048          # bytes of records of the admin queue, and of the I/O queues
PDU_CAPSULE, PDU_ICREQ, PDU_H2C = 0x04, 0x00, 0x06
OPC_FABRICS, FCTYPE_CONNECT = 0x7F, 0x01


def method(name, params=None):
    entry = {"method": name}
    if params is not None:
        entry["params"] = params
    return entry


def target_config(port):
    bdev = [method("bdev_malloc_create", {"name": "Malloc0", "num_blocks": 2048, "block_size": 512,
                                          "uuid": "f0220000-0000-4000-8000-000000000001"}),
            method("bdev_null_create", {"name": "Null0", "num_blocks": 256, "block_size": 4096,
                                        "uuid": "f0220000-0000-4000-8000-000000000002"})]
    listen = {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": str(port)}
    nvmf = [method("nvmf_create_transport", TRANSPORT),
            method("nvmf_create_subsystem", {"nqn": SUBNQN, "serial_number": "NVTCPFUZZ0000000001",
                                             "model_number": "nvtcp fuzz", "allow_any_host": True}),
            method("nvmf_subsystem_add_ns", {"nqn": SUBNQN, "namespace": {"bdev_name": "Malloc0"}}),
            method("nvmf_subsystem_add_ns", {"nqn": SUBNQN, "namespace": {"bdev_name": "Null0"}}),
            method("nvmf_subsystem_add_listener", {"nqn": SUBNQN, "listen_address": listen})]
    return {"subsystems": [{"subsystem": "bdev", "config": bdev},
                           {"subsystem": "nvmf", "config": nvmf}]}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder(threading.Thread):
    """A proxy that forwards both ways and keeps what each client sent."""

    def __init__(self, listener, connect):
        super().__init__(daemon=True)
        self.listener = listener
        self.connect = connect
        self.conns = []  # [session, bytearray] per accepted connection, in order
        self.session = 0
        self.lock = threading.Lock()

    def run(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = self.connect()
            with self.lock:
                rec = [self.session, bytearray()]
                self.conns.append(rec)
            threading.Thread(target=self.pump, args=(client, server, rec), daemon=True).start()

    @staticmethod
    def pump(client, server, rec):
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ, server)
        sel.register(server, selectors.EVENT_READ, client)
        while True:
            for key, _ in sel.select():
                try:
                    data = key.fileobj.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    client.close()
                    server.close()
                    return
                if key.fileobj is client:
                    rec[1] += data
                key.data.sendall(data)

    def next_session(self):
        with self.lock:
            self.session += 1
            return self.session

    def sessions(self):
        with self.lock:
            out = {}
            for sess, data in self.conns:
                out.setdefault(sess, []).append(bytes(data))
            return out


def tcp_recorder(target_port):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    rec = Recorder(lsock, lambda: socket.create_connection(("127.0.0.1", target_port)))
    rec.start()
    return rec, lsock.getsockname()[1]


def unix_recorder(path, target):
    lsock = socket.socket(socket.AF_UNIX)
    lsock.bind(path)
    lsock.listen(16)

    def connect():
        s = socket.socket(socket.AF_UNIX)
        s.connect(target)
        return s
    rec = Recorder(lsock, connect)
    rec.start()
    return rec


def run(cmd, timeout=30):
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           env=env, check=False)
        if p.returncode != 0:
            print(f"  (exit {p.returncode}) {' '.join(cmd)}: {p.stdout.decode()[-300:]}",
                  file=sys.stderr)
        return p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired:
        print(f"  (timeout) {' '.join(cmd)}", file=sys.stderr)
        return ""


# ---- NVMe/TCP host streams ----

def split_pdus(data):
    """The complete PDUs of a host-to-target stream: (type, flags, hlen, pdo, bytes)."""
    pdus, off = [], 0
    while off + 8 <= len(data):
        ptype, flags, hlen, pdo, plen = struct.unpack_from("<BBBBI", data, off)
        if plen < 8 or off + plen > len(data):
            break
        pdus.append((ptype, flags, hlen, pdo, data[off:off + plen]))
        off += plen
    return pdus


def stream_prefix(data):
    pdus = split_pdus(data)
    limit = STREAM_LIMIT_WRITE if any(p[0] == PDU_H2C or p[3] for p in pdus[2:]) \
        else STREAM_LIMIT
    out = b""
    for i, pdu in enumerate(pdus):
        if i >= 3 and len(out) + len(pdu[4]) > limit:
            break
        out += pdu[4]
    return out


def capsule_sqe(pdu):
    """SQE and in-capsule data of a capsule PDU (digests and padding skipped)."""
    _, flags, hlen, pdo, raw = pdu
    sqe = raw[8:72]
    data = b""
    if pdo:
        end = len(raw) - (4 if flags & 2 else 0)
        data = raw[pdo:end]
    return sqe, data


def is_connect(sqe):
    return sqe[0] == OPC_FABRICS and sqe[4] == FCTYPE_CONNECT


def cmd_records(data, queue_bit, limit=CMD_LIMIT):
    recs, size = [], 0
    for pdu in split_pdus(data):
        if pdu[0] != PDU_CAPSULE:
            continue
        sqe, icd = capsule_sqe(pdu)
        if is_connect(sqe):
            continue
        rec = struct.pack("<BHH", queue_bit, len(icd), 0) + sqe + icd
        if recs and (len(recs) == CMD_RECORDS or size + len(rec) > limit):
            break
        recs.append(rec)
        size += len(rec)
    return recs


def cmd_preamble(admin, io, variant):
    pdus = split_pdus(admin)
    icreq = pdus[0][4] if pdus and pdus[0][0] == PDU_ICREQ else bytes(128)
    dgst, hpda = icreq[11], icreq[10] & 0x1F
    kato = 0
    for pdu in pdus:
        if pdu[0] == PDU_CAPSULE and is_connect(pdu[4][8:72]):
            kato = min(255, struct.unpack_from("<I", pdu[4], 8 + 48)[0] // 1000)
            break
    sqsize = 31
    for pdu in split_pdus(io or b""):
        if pdu[0] == PDU_CAPSULE and is_connect(pdu[4][8:72]):
            sqsize = struct.unpack_from("<H", pdu[4], 8 + 44)[0]
            break
    chunk = [0, 7, 5, 3][variant % 4]
    budget = [0, 0, 2, 3][variant % 4]
    return bytes([(dgst & 3) | (hpda << 2), kato, max(0, min(sqsize, 31) - 1) % 31,
                  chunk | budget << 3])


# ---- JSON ----

def compact(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=False).encode()


def on_harness_disk(req):
    """A request on a file names the harness's disk instead (fuzz_guard.c keeps the last part)."""
    params = req.get("params")
    if isinstance(params, dict) and "filename" in params:
        req = dict(req, params=dict(params, filename="disk0.img"))
    return req


def requests_from(data):
    """The JSON objects a client sent on one connection."""
    out, text, dec, i = [], data.decode(errors="replace"), json.JSONDecoder(), 0
    while i < len(text):
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            break
        try:
            obj, i = dec.raw_decode(text, i)
        except ValueError:
            break
        out.append(obj)
    return out


def config_from_requests(reqs, known):
    """The requests that make something, as a configuration (transports first)."""
    by_sub, names = {}, set()
    for r in sorted(reqs, key=lambda r: r.get("method") != "nvmf_create_transport"):
        m, params = r.get("method", ""), r.get("params")
        sub = m.split("_")[0] if m.split("_")[0] in ("bdev", "nvmf", "sock", "iobuf") else None
        if sub is None or m not in known or any(w in m for w in ("get", "delete", "remove", "rescan", "resize")):
            continue
        # Once each: a bdev name, the transport, the disk file (one bdev per file).
        key = params.get("name") if m.startswith("bdev_") and isinstance(params, dict) else None
        if m == "nvmf_create_transport" or (isinstance(params, dict) and "filename" in params):
            key = m if m == "nvmf_create_transport" else "filename"
        if key is not None and key in names:
            continue
        names.add(key)
        by_sub.setdefault(sub, []).append(method(m, params))
    order = ["sock", "iobuf", "bdev", "nvmf"]
    return {"subsystems": [{"subsystem": s, "config": by_sub[s]} for s in order if s in by_sub]}


# ---- the captures ----

def cli_session(cli, sock):
    """CLI calls that make, list and delete every kind of object."""
    s = ["-s", sock]
    calls = [
        ["rpc_get_methods"], ["spdk_get_version"], ["nvtcp_get_version"],
        ["framework_get_subsystems"], ["framework_get_config", "name=nvmf"],
        ["framework_wait_init"], ["bdev_get_bdevs"], ["bdev_get_bdevs", "name=Malloc0"],
        ["bdev_wait_for_examine"],
        ["bdev_malloc_create", "name=Malloc1", "num_blocks=256", "block_size=4096"],
        ["bdev_null_create", "name=Null1", "num_blocks=1024", "block_size=512"],
        ["nvmf_get_transports"], ["nvmf_get_subsystems"], ["nvmf_get_stats"],
        ["nvmf_create_subsystem", "nqn=nqn.2016-06.io.nvtcp:seed2", "serial_number=SEED2",
         "max_namespaces=4"],
        ["-j", '{"nqn":"nqn.2016-06.io.nvtcp:seed2","namespace":{"bdev_name":"Malloc1",'
         '"nsid":2}}', "nvmf_subsystem_add_ns"],
        ["-j", '{"nqn":"nqn.2016-06.io.nvtcp:seed2","namespace":{"bdev_name":"Null1",'
         '"uuid":"f0220000-0000-4000-8000-0000000000aa"}}', "nvmf_subsystem_add_ns"],
        ["nvmf_subsystem_add_host", "nqn=nqn.2016-06.io.nvtcp:seed2",
         "host=nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-0000000000bb"],
        ["nvmf_subsystem_allow_any_host", "nqn=nqn.2016-06.io.nvtcp:seed2", "allow_any_host=false"],
        ["-j", '{"nqn":"nqn.2016-06.io.nvtcp:seed2","listen_address":{"trtype":"TCP",'
         '"adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"0"}}', "nvmf_subsystem_add_listener"],
        ["nvmf_get_subsystems"], ["save_config"],
        ["-j", '{"nqn":"nqn.2016-06.io.nvtcp:seed2","listen_address":{"trtype":"TCP",'
         '"adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"0"}}', "nvmf_subsystem_remove_listener"],
        ["nvmf_subsystem_remove_host", "nqn=nqn.2016-06.io.nvtcp:seed2",
         "host=nqn.2014-08.org.nvmexpress:uuid:f0220000-0000-0000-0000-0000000000bb"],
        ["nvmf_subsystem_remove_ns", "nqn=nqn.2016-06.io.nvtcp:seed2", "nsid=2"],
        ["nvmf_delete_subsystem", "nqn=nqn.2016-06.io.nvtcp:seed2"],
        ["bdev_malloc_delete", "name=Malloc1"], ["bdev_null_delete", "name=Null1"],
        ["sock_get_default_impl"], ["sock_impl_get_options", "impl_name=posix"],
        ["nvmf_create_transport", "trtype=TCP"], ["no_such_method"],
    ]
    saved, known = [], set()
    for c in calls:
        out = run([cli] + s + c)
        try:
            if c == ["save_config"]:
                saved.append(json.loads(out))
            elif c == ["rpc_get_methods"]:
                known = set(json.loads(out))
        except ValueError:
            pass
    return saved, known


def host_session(rec, args):
    rec.next_session()
    run(args)


def capture(build, tmp):
    app = os.path.join(build, "app")
    nvtcpd = os.path.join(app, "nvtcpd", "nvtcpd")
    identify = os.path.join(app, "nvtcp-identify", "nvtcp-identify")
    perf = os.path.join(app, "nvtcp-perf", "nvtcp-perf")
    cli = os.path.join(app, "nvtcp", "nvtcp")
    for exe in (nvtcpd, identify, perf, cli):
        if not os.access(exe, os.X_OK):
            sys.exit(f"make-corpus: {exe} not built (ninja -C {build})")
    port = free_port()
    conf = os.path.join(tmp, "target.json")
    with open(conf, "w") as f:
        json.dump(target_config(port), f)
    rpc_sock, proxy_sock = os.path.join(tmp, "rpc.sock"), os.path.join(tmp, "proxy.sock")
    log = open(os.path.join(tmp, "nvtcpd.log"), "w")
    daemon = subprocess.Popen([nvtcpd, "-c", conf, "-r", rpc_sock], stdout=log, stderr=log,
                              env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
    try:
        for _ in range(100):
            if os.path.exists(rpc_sock):
                break
            time.sleep(0.1)
        else:
            sys.exit("make-corpus: nvtcpd did not start (see its log)")
        tcp, pport = tcp_recorder(port)
        rpc = unix_recorder(proxy_sock, rpc_sock)
        trid = f"trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:{pport}"
        sub = f"{trid} subnqn:{SUBNQN}"
        host_session(tcp, [identify, "-r", trid])
        host_session(tcp, [identify, "-r", sub])
        host_session(tcp, [identify, "-r", sub, "-H", "-I"])
        for opts in (["-q", "1", "-o", "4096", "-w", "randread"],
                     ["-q", "4", "-o", "4096", "-w", "randwrite"],
                     ["-q", "8", "-o", "16384", "-w", "rw", "-M", "50"],
                     ["-q", "2", "-o", "4096", "-w", "write", "-H", "-I"],
                     ["-q", "16", "-o", "65536", "-w", "randrw", "-H"],
                     ["-q", "4", "-o", "8192", "-w", "randwrite", "-I", "--verify"],
                     ["-q", "2", "-o", "4096", "-w", "randread", "-P", "2", "-k", "1000"]):
            host_session(tcp, [perf, "-r", sub, "-t", "1"] + opts)
        saved, known = cli_session(cli, proxy_sock)
        time.sleep(0.5)
        return tcp.sessions(), rpc.sessions(), saved, known
    finally:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()


# ---- writing the seeds ----

class Corpus:
    def __init__(self, out):
        self.out = out
        self.seen = set()
        self.sizes = {}

    def reset(self, harness):
        d = os.path.join(self.out, harness)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)

    def add(self, harness, name, data):
        digest = hashlib.sha1(data).hexdigest()
        if (harness, digest) in self.seen or not data:
            return
        self.seen.add((harness, digest))
        with open(os.path.join(self.out, harness, name), "wb") as f:
            f.write(data)
        n, total = self.sizes.get(harness, (0, 0))
        self.sizes[harness] = (n + 1, total + len(data))


def shape(data):
    """What a host stream does, regardless of LBAs, CIDs and data: repeats are left out."""
    return tuple((p[0], p[4][8], p[4][12], p[1]) if p[0] == PDU_CAPSULE else (p[0], p[1])
                 for p in split_pdus(data))


def write_streams(corpus, tcp):
    i, seen = 0, set()
    for sess, conns in sorted(tcp.items()):
        for qi, data in enumerate(conns):
            body = stream_prefix(data)
            if not body or shape(body) in seen:
                continue
            seen.add(shape(body))
            hdr = bytes([(i % 8) | ((i // 8) % 4) << 3, i & 0xFF, (i * 37) & 0xFF,
                         20 if i % 5 == 4 else 0])
            corpus.add("fuzz_tcp_stream", f"s{sess:02d}-conn{qi}", hdr + body)
            i += 1


def write_cmds(corpus, tcp):
    seen = set()
    for sess, conns in sorted(tcp.items()):
        admin, ios = conns[0], conns[1:]
        recs = cmd_records(admin, 0)
        for io in ios:
            recs += cmd_records(io, 1, CMD_LIMIT // len(ios))
        key = tuple(r[:1] + r[5:6] + r[9:10] for r in recs)
        if not recs or key in seen:
            continue
        seen.add(key)
        # The first sessions twice: also cut into chunks, with a send budget.
        for variant in range(2 if sess <= 3 else 1):
            seed = cmd_preamble(admin, ios[0] if ios else None, sess + variant) + b"".join(recs)
            corpus.add("fuzz_nvmf_cmd", f"s{sess:02d}-v{variant}", seed)


def write_rpc(corpus, rpc, spdk_requests):
    reqs = []
    for conns in rpc.values():
        for data in conns:
            reqs += requests_from(data)
    for i, r in enumerate(reqs):
        corpus.add("fuzz_jsonrpc", f"cli-{i:02d}-{r.get('method', 'x')}", compact(r))
    spdk = []
    if spdk_requests and os.path.exists(spdk_requests):
        with open(spdk_requests) as f:
            for line in f:
                req = on_harness_disk(json.loads(line)["request"])
                spdk.append(dict({"jsonrpc": "2.0", "id": len(spdk) + 1}, **req))
    methods = {r.get("method") for r in reqs}
    for r in spdk:
        if r["method"] in methods:
            continue
        methods.add(r["method"])
        corpus.add("fuzz_jsonrpc", f"spdk-{r['method']}", compact(r))
    return reqs, spdk


def write_configs(corpus, saved, reqs, spdk, spdk_configs, known):
    corpus.add("fuzz_config", "empty", compact({"subsystems": []}))
    for i, cfg in enumerate(saved):
        corpus.add("fuzz_config", f"nvtcpd-saved-{i}", compact(cfg))
    for path in spdk_configs:
        with open(path) as f:
            cfg = json.load(f)
        for sub in cfg.get("subsystems", []):
            sub["config"] = [on_harness_disk(e) for e in sub.get("config") or []]
        corpus.add("fuzz_config", "spdk-" + os.path.basename(path)[:-5], compact(cfg))
    corpus.add("fuzz_config", "cli-requests", compact(config_from_requests(reqs, known)))
    corpus.add("fuzz_config", "spdk-requests", compact(config_from_requests(spdk, known)))
    corpus.add("fuzz_config", "target", compact(target_config(4420)))


# ---- fuzz_auth (records as test/fuzz/fuzz_auth.c reads them) ----

AUTH_SEND, AUTH_RECV, AUTH_OTHER, AUTH_STEP = 0, 1, 2, 3
AUTH_IO, AUTH_R2T, AUTH_RAW, AUTH_PIPE = 0x04, 0x20, 0x40, 0x80
AUTH_T10S, AUTH_T121S = 2 << 3, 3 << 3
# Step options (fuzz_auth_host.h): hash in bits 0-1 (0: SHA-256), DH group in
# bits 2-4 (0: none).
SHA384, SHA512 = 1, 2
DH_2048, DH_3072, DH_6144 = 1 << 2, 4 << 2, 6 << 2
CVALID, FAILURE2, TWO_DESCS = 0x20, 0x40, 0x80


def auth_preamble(io=False, kato=0, dgst=0, chunk=0, budget=0, uni=False):
    """uni: the host without a controller key."""
    return bytes([dgst | (0x80 if io else 0), kato, 7 | (0x80 if uni else 0),
                  chunk | budget << 3])


def auth_step(opts=0, how=0, flags=0):
    """The right next step; how != 0 corrupts it (see fuzz_auth.c)."""
    return bytes([AUTH_STEP | flags, opts, how])


def auth_exchange(opts=0, flags=0):
    """A whole exchange of right steps: Success2 too when both ways."""
    return auth_step(opts, 0, flags) * (5 if opts & CVALID else 4)


def auth_send(msg, flags=0):
    return struct.pack("<BH", AUTH_SEND | flags, len(msg)) + msg


def auth_recv(al=4096, flags=0):
    return struct.pack("<BH", AUTH_RECV | flags, al)


def sqe(opc, length=0, dwords=()):
    """A 64-byte SQE: the SGL's length (the harness writes the rest of the SGL) and
    (byte offset, 32-bit value) pairs."""
    cmd = bytearray(64)
    cmd[0] = opc
    struct.pack_into("<I", cmd, 32, length)
    for off, val in dwords:
        struct.pack_into("<I", cmd, off, val)
    return bytes(cmd)


def auth_other(cmd, icd=b"", flags=0):
    return struct.pack("<BH", AUTH_OTHER | flags, len(icd)) + cmd + icd


IDENTIFY = auth_other(sqe(0x06, 4096, ((40, 1),)))            # CNS 1: the controller
KEEP_ALIVE = auth_other(sqe(0x18))
PROP_GET_CSTS = auth_other(sqe(OPC_FABRICS, 0, ((4, 0x04), (44, 0x1C))))
READ_IO = auth_other(sqe(0x02, 1024, ((4, 1), (48, 1))), flags=AUTH_IO)  # NSID 1, 2 blocks
WRITE_IO = auth_other(sqe(0x01, 0, ((4, 1),)), bytes(range(256)) * 2, flags=AUTH_IO)
DISCONNECT_IO = auth_other(sqe(OPC_FABRICS, 0, ((4, 0x08),)), flags=AUTH_IO)


def auth_negotiate(t_id=1, hashes=(1,), groups=(0,)):
    desc = bytearray(64)
    desc[0], desc[2], desc[3] = 1, len(hashes), len(groups)
    desc[4:4 + len(hashes)] = bytes(hashes)
    desc[34:34 + len(groups)] = bytes(groups)
    return struct.pack("<BBHHBB", 0, 0, 0, t_id, 0, 1) + bytes(desc)


def auth_seeds():
    """name -> input of fuzz_auth."""
    neg = auth_negotiate()
    reply_early = struct.pack("<BBHHBBBBHI", 1, 2, 0, 1, 32, 0, 0, 0, 0, 0) + bytes(64)
    success2 = struct.pack("<BBHH", 1, 4, 0, 1) + bytes(10)
    return {
        "uni-null": auth_preamble() + IDENTIFY + auth_exchange() + IDENTIFY + KEEP_ALIVE,
        "bi-null": auth_preamble() + auth_exchange(CVALID) + PROP_GET_CSTS,
        "uni-ffdhe2048": auth_preamble() + auth_exchange(DH_2048 | SHA384) + IDENTIFY,
        "bi-ffdhe2048-reauth": auth_preamble() + auth_exchange(DH_2048 | CVALID) + IDENTIFY +
        auth_exchange(DH_2048 | SHA512 | CVALID | TWO_DESCS) + KEEP_ALIVE,
        "io-queue-wrong-reply": auth_preamble(io=True) +
        auth_step(flags=AUTH_IO) * 2 + auth_step(0, 33, AUTH_IO) + auth_step(flags=AUTH_IO) +
        READ_IO + IDENTIFY,
        "io-queue": auth_preamble(io=True) + READ_IO +
        auth_exchange(DH_2048 | CVALID, AUTH_IO) + READ_IO + WRITE_IO + DISCONNECT_IO,
        # R1 with one bit flipped: Failure1, then the queue goes.
        "wrong-reply": auth_preamble() + auth_step() + auth_step() + auth_step(0, 20) +
        auth_step() + IDENTIFY,
        "wrong-reply-reauth": auth_preamble() + auth_exchange() + auth_step() + auth_step() +
        auth_step(0, 20) + IDENTIFY + auth_step() + IDENTIFY,
        "truncated-negotiate": auth_preamble() + auth_send(neg[:40]) + auth_recv() + IDENTIFY,
        # The Reply two bytes short (of its DH value).
        "truncated-reply": auth_preamble() + auth_step(DH_2048) * 2 + auth_step(DH_2048, 0xF1) +
        auth_step(DH_2048) + IDENTIFY,
        "recv-first": auth_preamble() + auth_recv() + IDENTIFY,
        "reply-before-challenge": auth_preamble() + auth_step() + auth_send(reply_early) +
        auth_recv() + IDENTIFY,
        "negotiate-twice": auth_preamble() + auth_step() + auth_send(neg) + auth_recv() +
        IDENTIFY,
        "success2-unasked": auth_preamble() + auth_exchange() + auth_send(success2) +
        auth_recv() + IDENTIFY,
        "uni-host": auth_preamble(uni=True) + auth_exchange(DH_2048) + IDENTIFY,
        "uni-host-asks-controller": auth_preamble(uni=True) + auth_exchange(CVALID) + IDENTIFY,
        # ffdhe6144, which the target's configuration leaves out.
        "refused-group": auth_preamble() + auth_step(DH_6144) + auth_step() + IDENTIFY,
        "failure2": auth_preamble() + auth_exchange(CVALID | FAILURE2) + IDENTIFY,
        "step-timeout": auth_preamble() + auth_step() + auth_step(flags=AUTH_T121S) +
        auth_step() + IDENTIFY,
        "keep-alive-timeout": auth_preamble(kato=5) + auth_step() + auth_step() +
        auth_step(flags=AUTH_T10S) + IDENTIFY,
        "pipelined": auth_preamble() + auth_exchange(DH_2048, AUTH_PIPE) +
        auth_other(sqe(0x06, 4096, ((40, 1),)), flags=AUTH_PIPE) + IDENTIFY,
        "r2t-digests-chunks": auth_preamble(dgst=3, chunk=5, budget=2) +
        auth_exchange(CVALID | DH_3072, AUTH_R2T) + IDENTIFY,
        "raw-fields": auth_preamble() +
        bytes([AUTH_SEND | AUTH_RAW]) + struct.pack("<H", len(neg)) +
        bytes([0xE9, 1, 1, 0]) + struct.pack("<I", len(neg) + 1) + neg +
        bytes([AUTH_RECV | AUTH_RAW]) + struct.pack("<H", 4096) +
        bytes([0xE9, 1, 2, 0]) + struct.pack("<I", 4096) + auth_exchange() + IDENTIFY,
    }


def write_auth(corpus):
    for name, data in auth_seeds().items():
        corpus.add("fuzz_auth", name, data)


CAPTURED = ("fuzz_tcp_stream", "fuzz_nvmf_cmd", "fuzz_jsonrpc", "fuzz_config")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-fuzz"))
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    data = os.path.join(ROOT, "test", "functional", "spdk_compat", "data")
    ap.add_argument("--spdk-requests", default=os.path.join(data, "rpc-requests.jsonl"))
    ap.add_argument("--spdk-config", nargs="*", default=[
        os.path.join(data, "spdk-26.05-save_config-basic.json"),
        os.path.join(data, "spdk-26.05-save_config.json")])
    ap.add_argument("--harness", action="append", choices=CAPTURED + ("fuzz_auth",),
                    help="write only these seeds (repeatable; default: all). fuzz_auth "
                    "alone starts nothing; any other rewrites the four captured corpora")
    args = ap.parse_args()
    harnesses = args.harness or list(CAPTURED) + ["fuzz_auth"]
    corpus = Corpus(args.out)
    if any(h in CAPTURED for h in harnesses):
        with tempfile.TemporaryDirectory(prefix="nvtcp-corpus-") as tmp:
            tcp, rpc, saved, known = capture(args.build, tmp)
        # The captured corpora are written together: the configurations reuse the requests.
        for h in CAPTURED:
            corpus.reset(h)
        write_streams(corpus, tcp)
        write_cmds(corpus, tcp)
        reqs, spdk = write_rpc(corpus, rpc, args.spdk_requests)
        write_configs(corpus, saved, reqs, spdk, args.spdk_config, known)
    if "fuzz_auth" in harnesses:
        corpus.reset("fuzz_auth")
        write_auth(corpus)
    for h, (n, total) in sorted(corpus.sizes.items()):
        print(f"{h}: {n} seeds, {total} bytes")


if __name__ == "__main__":
    main()
