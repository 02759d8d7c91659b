#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""RBD bdevs against a throw-away Ceph cluster: their RPC methods, an
SPDK-format configuration, sizes that follow the image, the saved
configuration, and the refusals.

usage: rbd_bdev_test.py NVTCPD

- An SPDK-format configuration (bdev_rbd_register_cluster, bdev_rbd_create
  and an nvmf subsystem) serves an image: a host writes and reads it.
- bdev_rbd_get_clusters_info answers SPDK's shape; bdev_get_bdevs has the
  rbd driver_specific part, and compare-and-write only where librbd can.
- bdev_rbd_create of a private connection (user_id, config with mon_host and
  keyring) picks the next default name; bdev_rbd_delete removes it.
- bdev_rbd_resize and `rbd resize` from outside: the connected host gets
  a Namespace Attribute Changed event and Identify shows the new size.
- Refusals with clear errors: unknown cluster, missing image, bad block
  size, a "key" entry, unregister while used, shrinking, a taken name.
- save_config loads back into a new nvtcpd and saves the same; the data
  written before the restart reads back after it.
- Each nvtcpd exits 0 after SIGTERM with a clean sanitizer report.
Exit 0 on success, 1 on failure, 77 when nvtcpd or Ceph is missing.
"""

import sys

import rbd_common as rc
from rbd_common import MIB, check, nvtcp_test

AEC_NS_ATTR = 1 << 8
AEN_NS_ATTR_CHANGED = 0x2 | (0x00 << 8) | (0x04 << 16)
PATTERN = bytes(range(256)) * 16


def expect_error(rpc, method, params, words):
    try:
        rpc.call(method, params)
    except nvtcp_test.RpcError as e:
        msg = e.error.get("message", "")
        check(words in msg, "%s: error %r lacks %r" % (method, msg, words))
        return msg
    raise nvtcp_test.Failure("%s %r was accepted" % (method, params))


def check_info(rpc, cluster):
    want = {"cluster_name": "c1", "user_id": "admin", "config_file": cluster.conf_path,
            "key_file": cluster.keyring_path}
    info = rpc.call("bdev_rbd_get_clusters_info")
    # nvtcp's own field: the address to fence the gateway by.
    addr = info[0].pop("client_address", None) if info else None
    check(info == [want] and addr, "clusters info: %r (client_address %r)" % (info, addr))
    one = rpc.call("bdev_rbd_get_clusters_info", {"name": "c1"})
    check(one.pop("client_address", None) == addr and one == want, "info of c1")
    expect_error(rpc, "bdev_rbd_get_clusters_info", {"name": "nope"}, "no cluster 'nope'")
    b = rpc.call("bdev_get_bdevs", {"name": "Rbd0"})[0]
    spec = b["driver_specific"].get("rbd", {})
    check(spec.get("pool_name") == "rbd" and spec.get("rbd_name") == "img0" and
          spec.get("cluster_name") == "c1", "driver_specific: %r" % b["driver_specific"])
    check(b["write_cache"] is False, "an RBD bdev has no write cache (rbd_cache off)")
    check(b["product_name"] == "Ceph Rbd Disk", "product name %r" % b["product_name"])
    io = b["supported_io_types"]
    check(all(io[k] for k in ("read", "write", "flush", "write_zeroes", "unmap", "compare",
                              "compare_and_write")), "io types of a 512-byte image: %r" % io)


def check_refusals(rpc, cluster):
    expect_error(rpc, "bdev_rbd_create", rc.rbd_create("X1", "img0", cluster_name="nope")["params"],
                 "no cluster 'nope'")
    expect_error(rpc, "bdev_rbd_create", rc.rbd_create("X2", "missing")["params"],
                 "no such image")
    expect_error(rpc, "bdev_rbd_create", rc.rbd_create("X3", "img0", block_size=1000)["params"],
                 "block_size")
    expect_error(rpc, "bdev_rbd_create", rc.rbd_create("Rbd0", "img0")["params"], "exists")
    expect_error(rpc, "bdev_rbd_create",
                 {"pool_name": "rbd", "rbd_name": "img0", "block_size": 512,
                  "user_id": "admin", "config": {"mon_host": cluster.mon_host,
                                                 "key": cluster.admin_key}},
                 "key_file")
    expect_error(rpc, "bdev_rbd_register_cluster",
                 {"name": "c2", "config_param": {"key": cluster.admin_key}}, "keyring")
    expect_error(rpc, "bdev_rbd_register_cluster", rc.register_cluster(cluster)["params"],
                 "already registered")
    expect_error(rpc, "bdev_rbd_unregister_cluster", {"name": "c1"}, "used by")
    expect_error(rpc, "bdev_rbd_resize", {"name": "Rbd0", "new_size": 1}, "shrinking")
    expect_error(rpc, "bdev_rbd_resize", {"name": "Malloc9", "new_size": 1}, "no rbd bdev")
    check(rpc.call("bdev_get_bdevs", {"name": "Rbd0"}), "Rbd0 survives the refusals")


def wait_ns_attr_aen(admin, cid, what):
    status, cdw0, _ = admin.wait(cid)
    check(status == 0 and cdw0 == AEN_NS_ATTR_CHANGED,
          "%s: AER status %#x cdw0 %#x, want %#x" % (what, status, cdw0, AEN_NS_ATTR_CHANGED))
    # Reading the Changed Namespace List clears the event (and tells which).
    log = admin.get_log(0x04, 4096)
    check(int.from_bytes(log[0:4], "little") == 1, "%s: changed namespace list %r" %
          (what, log[:8]))


def check_resize(rpc, cluster, admin):
    admin.set_features(0x0b, AEC_NS_ATTR)
    check(rc.nsze(admin, 1) == 64 * MIB // 512, "size at start: %d" % rc.nsze(admin, 1))
    cid = admin.send_aer()
    check(rpc.call("bdev_rbd_resize", {"name": "Rbd0", "new_size": 128}) is True, "resize")
    wait_ns_attr_aen(admin, cid, "bdev_rbd_resize")
    check(rc.nsze(admin, 1) == 128 * MIB // 512, "after resize: %d" % rc.nsze(admin, 1))
    cid = admin.send_aer()
    cluster.rbd("resize", "--size", "256M", "rbd/img0")
    wait_ns_attr_aen(admin, cid, "rbd resize")
    check(rc.nsze(admin, 1) == 256 * MIB // 512, "after rbd resize: %d" % rc.nsze(admin, 1))
    check(rpc.call("bdev_get_bdevs", {"name": "Rbd0"})[0]["num_blocks"] == 256 * MIB // 512,
          "bdev_get_bdevs sees the new size")


def check_private(rpc, cluster):
    name = rpc.call("bdev_rbd_create",
                    {"pool_name": "rbd", "rbd_name": "img1", "block_size": 4096,
                     "user_id": "admin",
                     "config": {"mon_host": cluster.mon_host, "keyring": cluster.keyring_path}})
    check(name == "Rbd1", "default name %r, want Rbd1" % name)
    b = rpc.call("bdev_get_bdevs", {"name": "Rbd1"})[0]
    check(b["block_size"] == 4096 and b["num_blocks"] == 64 * MIB // 4096, "Rbd1: %r" % b)
    check("cluster_name" not in b["driver_specific"]["rbd"], "a private connection")
    # librbd's compare-and-write covers 512 bytes at most: not one 4 KiB block.
    check(b["supported_io_types"]["compare_and_write"] is False,
          "compare_and_write offered on 4 KiB blocks")
    check(rpc.call("bdev_rbd_delete", {"name": "Rbd1"}) is True, "delete Rbd1")
    check(all(x["name"] != "Rbd1" for x in rpc.call("bdev_get_bdevs")), "Rbd1 is gone")
    expect_error(rpc, "bdev_rbd_delete", {"name": "Rbd1"}, "Rbd1")


def bdev_section(doc):
    return [s for s in doc["subsystems"] if s["subsystem"] == "bdev"][0]["config"]


def run(nvtcpd):
    rc.skip_without_ceph()
    tmp = rc.tmpdir()
    port = nvtcp_test.free_port()
    with rc.ceph_cluster.CephCluster() as cluster:
        cluster.rbd("create", "--size", "64M", "rbd/img0")
        cluster.rbd("create", "--size", "64M", "rbd/img1")
        doc = rc.config(port, [rc.register_cluster(cluster), rc.rbd_create("Rbd0", "img0")],
                        ["Rbd0"])
        t = rc.Target(nvtcpd, doc, tmp, "first")
        try:
            admin, q = rc.connect(port)
            check(rc.write(q, 1, 8, PATTERN) == 0, "write through the SPDK-format config")
            status, data = rc.read(q, 1, 8, 8)
            check(status == 0 and data == PATTERN, "read back what was written")
            check_info(t.rpc, cluster)
            check_refusals(t.rpc, cluster)
            check_private(t.rpc, cluster)
            check_resize(t.rpc, cluster, admin)
            saved = t.rpc.save_config()
            admin.close()
            q.close()
        except BaseException:
            t.kill()
            raise
        t.stop()
        entries = bdev_section(saved)
        methods = [e["method"] for e in entries]
        check(methods.index("bdev_rbd_register_cluster") < methods.index("bdev_rbd_create"),
              "clusters are saved before the bdevs: %r" % methods)
        created = [e for e in entries if e["method"] == "bdev_rbd_create"][0]["params"]
        for k, v in (("name", "Rbd0"), ("pool_name", "rbd"), ("rbd_name", "img0"),
                     ("block_size", 512), ("cluster_name", "c1"), ("read_only", False)):
            check(created.get(k) == v, "saved bdev_rbd_create %s: %r" % (k, created))
        check("uuid" in created, "the UUID is saved")
        # A restart on the saved configuration: the same configuration, the same data.
        t = rc.Target(nvtcpd, saved, tmp, "second")
        try:
            again = t.rpc.save_config()
            check(bdev_section(again) == entries,
                  "saved != reloaded-and-saved:\n%r\n%r" % (entries, bdev_section(again)))
            admin, q = rc.connect(port)
            status, data = rc.read(q, 1, 8, 8)
            check(status == 0 and data == PATTERN, "data survives the restart")
            check(t.rpc.call("bdev_rbd_delete", {"name": "Rbd0"}) is True, "delete Rbd0")
            check(t.rpc.call("bdev_rbd_unregister_cluster", {"name": "c1"}) is True,
                  "unregister once unused")
            check(t.rpc.call("bdev_rbd_get_clusters_info") == [], "no cluster left")
            admin.close()
            q.close()
        except BaseException:
            t.kill()
            raise
        t.stop()
    return None


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
