# SPDX-License-Identifier: BSD-3-Clause
"""The throw-away Ceph cluster the RBD tests run against: it starts, an image
written through the rbd CLI reads back, the data survives the OSD stopped and
started again and the monitor restarted, and stop() leaves no daemon and no
directory behind. Skips (77) only when Ceph is not installed."""

import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
import ceph_cluster  # noqa: E402
from nvtcp_test import Failure, check  # noqa: E402

IMAGE_BYTES = 4 << 20


def export(cluster, image, path):
    if os.path.exists(path):
        os.unlink(path)
    cluster.rbd("export", "rbd/" + image, path)
    with open(path, "rb") as f:
        return f.read()


def main():
    try:
        ceph_cluster.require_ceph()
    except ceph_cluster.CephUnavailable as e:
        print("SKIP: %s" % e)
        return 77
    scratch = tempfile.mkdtemp(prefix="nvtcp-ceph-test-")
    data = os.urandom(IMAGE_BYTES)
    src = os.path.join(scratch, "in")
    out = os.path.join(scratch, "out")
    with open(src, "wb") as f:
        f.write(data)
    cluster = ceph_cluster.CephCluster()
    pids = []
    try:
        cluster.start()
        print("cluster up in %.2f s at %s" % (cluster.start_seconds, cluster.mon_host))
        pids = cluster.pids()
        check(len(pids) == 2, "a monitor and an OSD run: %r" % pids)
        with open(cluster.conf_path) as f:
            conf = f.read()
        check(cluster.dir in conf and "/var/" not in conf,
              "every path of ceph.conf is in the cluster's directory")

        check(cluster.ceph("osd", "pool", "get", "rbd", "size").split() == ["size:", "1"],
              "pool rbd has size 1")
        cluster.rbd("import", src, "rbd/img")
        check(export(cluster, "img", out) == data, "the image reads back what was imported")
        # Written by librbd itself: a region the import did not cover.
        cluster.rbd("create", "--size", "8M", "rbd/bench")
        cluster.rbd("bench", "--io-type", "write", "--io-size", "4K", "--io-total", "1M",
                    "--io-pattern", "seq", "rbd/bench")
        check(export(cluster, "bench", out)[:1 << 20] != bytes(1 << 20),
              "rbd bench wrote the image")

        osd_pid = cluster.osd.pid
        cluster.osd_stop()
        check(not ceph_cluster._pid_alive(osd_pid), "the OSD is gone after osd_stop")
        cluster.osd_start()
        check(export(cluster, "img", out) == data, "the data survives the OSD's restart")

        cluster.mon_stop()
        cluster.mon_start()
        check("img" in cluster.rbd("ls").split(), "the pool is listed after the "
              "monitor's restart")
        # Clients need only the monitor's address and the key (an empty
        # configuration: what a user passes as "config" to bdev_rbd_create).
        listed = ceph_cluster._run(["rbd", "-c", "/dev/null", "-m", cluster.mon_host,
                                    "--id", "admin", "--key", cluster.admin_key, "ls"])
        check("img" in listed.split(), "the image is reachable with mon_host and key")

        pids = cluster.pids()
        workdir = cluster.dir
        cluster.stop()
        print("cluster stopped in %.2f s" % cluster.stop_seconds)
        gone = [p for p in pids if ceph_cluster._pid_alive(p)]
        check(not gone, "no daemon of the cluster remains: %r" % gone)
        check(not os.path.exists(workdir), "the cluster's directory is removed")
    except (Failure, RuntimeError) as e:
        print("FAIL: %s" % e)
        if os.path.isdir(cluster.dir):
            print(cluster.log_tail())
        cluster.stop()
        return 1
    finally:
        for p in (src, out):
            if os.path.exists(p):
                os.unlink(p)
        os.rmdir(scratch)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
