# SPDX-License-Identifier: BSD-3-Clause
"""A throw-away single-node Ceph cluster for the RBD tests and benches.

One monitor and one OSD (bluestore on a sparse file, so data survives an OSD
restart) on 127.0.0.1, in a temporary directory, started as root from the
distribution's packages: no systemd, no cephadm, no mgr, cephx on. Pool "rbd"
has size 1. Every path a daemon or a client would take from /var/lib,
/var/run, /var/log or /etc/ceph is set in DIR/ceph.conf, and every command is
given that file, so two clusters can run side by side and nothing on the
machine is read or written outside DIR.

    with CephCluster() as c:
        c.rbd("create", "--size", "64M", "rbd/img")
        ... librbd clients use c.conf_path (mon_host, keyring inside) ...

As a command (the daemons stay running after "start"):
    python3 ceph_cluster.py start DIR
    python3 ceph_cluster.py stop DIR
"""

import atexit
import base64
import ctypes.util
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid

BINARIES = {
    "ceph-mon": "ceph-mon",
    "ceph-osd": "ceph-osd",
    "ceph": "ceph-common",
    "rbd": "ceph-common",
    "ceph-authtool": "ceph-common",
    "monmaptool": "ceph-common",
}

# Bounds: how long a daemon may take to come up, and to go after SIGTERM.
START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
OSD_BLOCK_SIZE = 16 << 30  # sparse: only written extents take space


class CephUnavailable(Exception):
    """Ceph cannot run here; str() says which packages or binaries are missing."""


def require_ceph():
    """None when the cluster can be started, else raises CephUnavailable.

    NVT_CEPH_MISSING (set by scripts/test.sh when installing the packages
    failed) is the reason when present."""
    reason = os.environ.get("NVT_CEPH_MISSING")
    if reason:
        raise CephUnavailable(reason)
    missing = []
    for binary, package in BINARIES.items():
        if shutil.which(binary) is None:
            missing.append("%s (package %s)" % (binary, package))
    if not _librbd_found():
        missing.append("librbd.so.1 (package librbd1)")
    if missing:
        raise CephUnavailable("ceph: missing " + ", ".join(missing))
    if os.geteuid() != 0:
        raise CephUnavailable("ceph: the throw-away cluster needs root")


def _librbd_found():
    try:
        ctypes.CDLL("librbd.so.1")
        return True
    except OSError:
        return ctypes.util.find_library("rbd") is not None


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _gen_key():
    """A cephx secret as ceph-authtool writes it: the encoded CryptoKey."""
    header = struct.pack("<hIIh", 1, int(time.time()), 0, 16)
    return base64.b64encode(header + os.urandom(16)).decode()


def _run(argv, timeout=60, check=True, input_text=None):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=timeout, input=input_text)
    if check and p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.strip()[-2000:]))
    return p.stdout


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child not yet reaped) is gone for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pid_is_ours(pid, workdir):
    """The process still is a daemon of this cluster (not a reused pid)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return False
    return os.path.join(workdir, "ceph.conf").encode() in args


class _Daemon:
    """One ceph-mon or ceph-osd in the foreground, as our child, its output in
    DIR/log and its pid in DIR/run/NAME.daemon.pid (for "stop DIR")."""

    def __init__(self, cluster, name, argv):
        self.cluster = cluster
        self.name = name
        self.argv = argv
        self.proc = None
        self.pid = None

    @property
    def pid_path(self):
        return os.path.join(self.cluster.dir, "run", self.name + ".daemon.pid")

    def start(self):
        out = open(os.path.join(self.cluster.dir, "log", self.name + ".out"), "ab")
        # A session of its own: a test's Ctrl-C does not reach it, and it
        # lives on after "ceph_cluster.py start DIR" exits.
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        self.pid = self.proc.pid
        with open(self.pid_path, "w") as f:
            f.write("%d\n" % self.pid)

    def running(self):
        if self.proc is not None:
            return self.proc.poll() is None
        return self.pid is not None and _pid_alive(self.pid)

    def stop(self, timeout=STOP_TIMEOUT):
        if self.pid is None:
            return
        _terminate([self.pid], timeout, self.cluster.dir)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                pass
        self.proc = None
        self.pid = None
        try:
            os.unlink(self.pid_path)
        except FileNotFoundError:
            pass


def _terminate(pids, timeout, workdir):
    """SIGTERM, then SIGKILL after timeout; returns when all are gone."""
    pids = [p for p in pids if _pid_alive(p) and _pid_is_ours(p, workdir)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + timeout
    while pids and time.monotonic() < end:
        _reap(pids)
        pids = [p for p in pids if _pid_alive(p)]
        if pids:
            time.sleep(0.02)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 5.0
    while pids and time.monotonic() < end:
        _reap(pids)
        pids = [p for p in pids if _pid_alive(p)]
        if pids:
            time.sleep(0.02)


def _reap(pids):
    for p in pids:
        try:
            os.waitpid(p, os.WNOHANG)
        except ChildProcessError:
            pass


class CephCluster:
    user_id = "admin"

    def __init__(self, workdir=None):
        self.dir = os.path.abspath(workdir) if workdir else \
            tempfile.mkdtemp(prefix="nvtcp-ceph-")
        self.conf_path = os.path.join(self.dir, "ceph.conf")
        self.keyring_path = os.path.join(self.dir, "client.admin.keyring")
        self.mon_port = None
        self.mon_v2_port = None
        self.mon_host = None
        self.admin_key = None
        self.fsid = None
        self.osd_id = 0
        self.osd_uuid = None
        self.mon = None
        self.osd = None
        self._atexit = False
        self.start_seconds = None
        self.stop_seconds = None

    # --- commands ------------------------------------------------------

    def ceph(self, *args, timeout=60):
        return _run(["ceph", "-c", self.conf_path, "--id", self.user_id,
                     "--connect-timeout", "30"] + list(args), timeout=timeout)

    def rbd(self, *args, timeout=120):
        return _run(["rbd", "-c", self.conf_path, "--id", self.user_id] + list(args),
                    timeout=timeout)

    # --- life ----------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        require_ceph()
        t0 = time.monotonic()
        if not self._atexit:
            atexit.register(self._cleanup_at_exit)
            self._atexit = True
        try:
            self._write_files()
            self._mkfs_mon()
            self.mon_start()
            self._create_osd()
            self.osd_start()
            self._create_pool()
        except BaseException:
            sys.stderr.write(self.log_tail())
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0

    def stop(self):
        """Both daemons gone (SIGTERM, then SIGKILL), the directory removed."""
        t0 = time.monotonic()
        for d in (self.osd, self.mon):
            if d is not None:
                d.stop()
        # What a detached "start DIR" left (pid files only, no Popen object):
        # the OSD first, as it tells a live monitor it goes down and waits
        # for a dead one.
        _terminate(_pids_in(self.dir, "osd."), STOP_TIMEOUT, self.dir)
        _terminate(_pids_in(self.dir), STOP_TIMEOUT, self.dir)
        if os.path.isdir(self.dir):
            shutil.rmtree(self.dir, ignore_errors=True)
        self.stop_seconds = time.monotonic() - t0

    def _cleanup_at_exit(self):
        if os.path.isdir(self.dir) or (self.mon and self.mon.running()) or \
                (self.osd and self.osd.running()):
            self.stop()

    def mon_start(self):
        if self.mon is None:
            self.mon = _Daemon(self, "mon.a", ["ceph-mon", "-f", "-c", self.conf_path,
                                                "-i", "a"])
        self.mon.start()
        self._wait("the monitor", lambda: self._mon_answers())

    def mon_stop(self):
        self.mon.stop()

    def osd_start(self):
        if self.osd is None:
            self.osd = _Daemon(self, "osd.%d" % self.osd_id,
                               ["ceph-osd", "-f", "-c", self.conf_path, "-i",
                                str(self.osd_id)])
        self.osd.start()
        self._wait("the OSD", lambda: self._osd_up(True), daemon=self.osd)

    def osd_stop(self):
        """SIGTERM: the OSD tells the monitor it goes down before it exits,
        so clients see it down at once (no peer would report it)."""
        self.osd.stop(timeout=STOP_TIMEOUT)
        # A SIGKILL left it "up" in the map: mark it down for it.
        if self.mon is not None and self.mon.running() and self._osd_up(True):
            try:
                self.ceph("osd", "down", str(self.osd_id), timeout=30)
            except RuntimeError:
                pass

    def log_tail(self, lines=30):
        """The last lines of each daemon's log, for a failing test to print."""
        out = []
        logdir = os.path.join(self.dir, "log")
        if not os.path.isdir(logdir):
            return ""
        for name in sorted(os.listdir(logdir)):
            try:
                with open(os.path.join(logdir, name), errors="replace") as f:
                    tail = f.readlines()[-lines:]
            except OSError:
                continue
            if tail:
                out.append("--- %s\n%s" % (name, "".join(tail)))
        return "".join(out)

    def pids(self):
        """The pids of this cluster's daemons still running."""
        return [p for p in _pids_in(self.dir) if _pid_alive(p)] if os.path.isdir(self.dir) \
            else [d.pid for d in (self.mon, self.osd) if d and d.pid and _pid_alive(d.pid)]

    # --- steps ---------------------------------------------------------

    def _wait(self, what, ready, daemon=None, timeout=START_TIMEOUT):
        daemon = daemon or self.mon
        end = time.monotonic() + timeout
        delay = 0.05
        while True:
            if not daemon.running():
                raise RuntimeError("ceph: %s exited while starting (log in %s/log)"
                                   % (what, self.dir))
            if ready():
                return
            if time.monotonic() > end:
                raise RuntimeError("ceph: %s not ready after %.0f s" % (what, timeout))
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _mon_answers(self):
        try:
            _run(["ceph", "-c", self.conf_path, "--id", self.user_id,
                  "--connect-timeout", "2", "mon", "stat"], timeout=10)
            return True
        except (RuntimeError, subprocess.TimeoutExpired):
            return False

    def _osd_up(self, want):
        try:
            osds = json.loads(self.ceph("osd", "dump", "-f", "json", timeout=30))["osds"]
        except (RuntimeError, ValueError, KeyError, subprocess.TimeoutExpired):
            return not want
        for o in osds:
            if o["osd"] == self.osd_id:
                up = o["up"] == 1 and o["in"] == 1
                return up if want else not up
        return not want

    def _write_files(self):
        for sub in ("mon", "osd", "run", "log", "crash", "tmp"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.fsid = str(uuid.uuid4())
        self.mon_port = _free_port()
        self.mon_v2_port = _free_port()
        while self.mon_v2_port == self.mon_port:
            self.mon_v2_port = _free_port()
        # Clients need only "127.0.0.1:PORT": a bare address with a port
        # other than 3300 is the v1 protocol, which the monitor binds too.
        self.mon_host = "127.0.0.1:%d" % self.mon_port
        self.admin_key = _gen_key()
        d = self.dir
        conf = CONF_TEMPLATE.format(
            fsid=self.fsid, dir=d, v1=self.mon_port, v2=self.mon_v2_port,
            keyring=self.keyring_path, block_size=OSD_BLOCK_SIZE)
        with open(self.conf_path, "w") as f:
            f.write(conf)
        with open(self.keyring_path, "w") as f:
            f.write('[client.admin]\n\tkey = %s\n\tcaps mds = "allow *"\n'
                    '\tcaps mon = "allow *"\n\tcaps osd = "allow *"\n'
                    '\tcaps mgr = "allow *"\n' % self.admin_key)
        os.chmod(self.keyring_path, 0o600)

    def _mkfs_mon(self):
        d = self.dir
        mon_keyring = os.path.join(d, "mon.keyring")
        with open(mon_keyring, "w") as f:
            f.write('[mon.]\n\tkey = %s\n\tcaps mon = "allow *"\n' % _gen_key())
        _run(["ceph-authtool", mon_keyring, "--import-keyring", self.keyring_path])
        monmap = os.path.join(d, "monmap")
        _run(["monmaptool", "--create", "--fsid", self.fsid, "--addv", "a",
              "[v2:127.0.0.1:%d,v1:127.0.0.1:%d]" % (self.mon_v2_port, self.mon_port),
              monmap])
        _run(["ceph-mon", "-c", self.conf_path, "--mkfs", "-i", "a", "--monmap", monmap,
              "--keyring", mon_keyring])

    def _create_osd(self):
        self.osd_uuid = str(uuid.uuid4())
        key = _gen_key()
        secret = os.path.join(self.dir, "osd-secret.json")
        with open(secret, "w") as f:
            json.dump({"cephx_secret": key}, f)
        out = self.ceph("osd", "new", self.osd_uuid, "-i", secret).strip()
        os.unlink(secret)
        self.osd_id = int(out)
        data = os.path.join(self.dir, "osd", "ceph-%d" % self.osd_id)
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "keyring"), "w") as f:
            f.write("[osd.%d]\n\tkey = %s\n" % (self.osd_id, key))
        _run(["ceph-osd", "-c", self.conf_path, "-i", str(self.osd_id), "--mkfs",
              "--osd-uuid", self.osd_uuid], timeout=120)

    def _create_pool(self):
        # Size and min_size 1 come from osd_pool_default_size/min_size.
        self.ceph("osd", "pool", "create", "rbd", "16", "16")
        self.rbd("pool", "init", "rbd")


def _pids_in(workdir, prefix=""):
    run = os.path.join(workdir, "run")
    pids = []
    try:
        names = os.listdir(run)
    except OSError:
        return pids
    for name in names:
        if not name.startswith(prefix) or not name.endswith(".daemon.pid"):
            continue
        try:
            with open(os.path.join(run, name)) as f:
                pids.append(int(f.read().strip()))
        except (OSError, ValueError):
            continue
    return pids


# Everything a daemon or client would take from /var or /etc is in {dir}.
CONF_TEMPLATE = """[global]
fsid = {fsid}
mon_host = [v2:127.0.0.1:{v2},v1:127.0.0.1:{v1}]
mon_initial_members = a
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
keyring = {keyring}
run_dir = {dir}/run
admin_socket = {dir}/run/$name.$pid.asok
pid_file = {dir}/run/$name.pid
log_file = {dir}/log/$name.log
crash_dir = {dir}/crash
tmp_dir = {dir}/tmp
mon_cluster_log_file = {dir}/log/cluster.log
mon_cluster_log_to_file = true
log_to_stderr = false
err_to_stderr = true
mon_data = {dir}/mon/ceph-$id
osd_data = {dir}/osd/ceph-$id
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_data_avail_warn = 2
mon_data_avail_crit = 1
# Without these a map change waits about a second to be proposed: most of
# the start time.
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
mon_osd_prime_pg_temp = false

[mon]
keyring = {dir}/mon/ceph-$id/keyring

[osd]
keyring = {dir}/osd/ceph-$id/keyring
osd_objectstore = bluestore
# Bluestore on a sparse file, DATA/block, created by mkfs.
bluestore_block_create = true
bluestore_block_size = {block_size}
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
bluestore_cache_autotune = false
bluestore_cache_size = 134217728
osd_memory_target = 939524096
osd_memory_cache_min = 134217728
# Stopped after the monitor, the OSD would wait this long to say goodbye.
osd_mon_shutdown_timeout = 2

[client]
# One file for every client process (appended), so that a crashed client
# leaves its dump in the directory.
log_file = {dir}/log/client.log
"""


def _main(argv):
    if len(argv) != 3 or argv[1] not in ("start", "stop"):
        sys.stderr.write("usage: %s start|stop DIR\n" % argv[0])
        return 2
    cmd, workdir = argv[1], os.path.abspath(argv[2])
    if cmd == "start":
        try:
            require_ceph()
        except CephUnavailable as e:
            sys.stderr.write("%s\n" % e)
            return 77
        if os.path.exists(workdir) and os.listdir(workdir):
            sys.stderr.write("%s is not empty\n" % workdir)
            return 1
        c = CephCluster(workdir)
        c.start()
        # The daemons outlive this process: no cleanup at exit.
        atexit.unregister(c._cleanup_at_exit)
        with open(os.path.join(workdir, "cluster.json"), "w") as f:
            json.dump({"conf": c.conf_path, "keyring": c.keyring_path,
                       "mon_host": c.mon_host, "user_id": c.user_id,
                       "key": c.admin_key}, f)
        print("conf=%s" % c.conf_path)
        print("keyring=%s" % c.keyring_path)
        print("mon_host=%s" % c.mon_host)
        print("user_id=%s" % c.user_id)
        print("key=%s" % c.admin_key)
        print("start_seconds=%.2f" % c.start_seconds)
        return 0
    if not os.path.exists(os.path.join(workdir, "ceph.conf")):
        sys.stderr.write("%s holds no cluster\n" % workdir)
        return 1
    c = CephCluster(workdir)
    c.stop()
    print("stop_seconds=%.2f" % c.stop_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv))
