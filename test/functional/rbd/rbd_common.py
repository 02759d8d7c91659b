# SPDX-License-Identifier: BSD-3-Clause
"""What the RBD functional tests share: a throw-away Ceph cluster
(test/common/ceph_cluster.py), nvtcpd configurations in SPDK's format that
export RBD images, and raw NVMe commands through test/common/nvme_tcp_host.py.
"""

import json
import os
import struct
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))

import ceph_cluster  # noqa: E402
import nvtcp_test  # noqa: E402
from nvtcp_test import check  # noqa: E402
from nvme_tcp_host import Host  # noqa: E402

NQN = "nqn.2016-06.io.spdk:rbd1"
HOSTNQN = "nqn.2014-08.org.nvmexpress:uuid:rbd-test"
MIB = 1024 * 1024


def skip_without_ceph():
    """Exit 77 with the reason when Ceph is not installed."""
    try:
        ceph_cluster.require_ceph()
    except ceph_cluster.CephUnavailable as e:
        print("SKIP: %s" % e)
        sys.exit(77)


def register_cluster(cluster, name="c1"):
    return {"method": "bdev_rbd_register_cluster",
            "params": {"name": name, "user_id": cluster.user_id,
                       "config_file": cluster.conf_path, "key_file": cluster.keyring_path}}


def rbd_create(name, image, block_size=512, cluster_name="c1", **extra):
    params = {"name": name, "pool_name": "rbd", "rbd_name": image, "block_size": block_size,
              "cluster_name": cluster_name}
    params.update(extra)
    return {"method": "bdev_rbd_create", "params": params}


def nvmf_config(port, bdevs):
    """An nvmf subsystem with \\p bdevs as namespaces 1, 2, ... on 127.0.0.1:port."""
    conf = [{"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
            {"method": "nvmf_create_subsystem",
             "params": {"nqn": NQN, "allow_any_host": True, "serial_number": "RBD0001",
                        "max_namespaces": 8}}]
    for i, b in enumerate(bdevs):
        conf.append({"method": "nvmf_subsystem_add_ns",
                     "params": {"nqn": NQN, "namespace": {"bdev_name": b, "nsid": i + 1}}})
    conf.append({"method": "nvmf_subsystem_add_listener",
                 "params": {"nqn": NQN, "listen_address": {
                     "trtype": "tcp", "adrfam": "ipv4", "traddr": "127.0.0.1",
                     "trsvcid": str(port)}}})
    return conf


def config(port, bdev_entries, namespaces):
    return {"subsystems": [{"subsystem": "bdev", "config": bdev_entries},
                           {"subsystem": "nvmf", "config": nvmf_config(port, namespaces)}]}


class Target:
    """nvtcpd started on a configuration document, in its own directory."""

    def __init__(self, nvtcpd, doc, tmpdir, tag="t"):
        self.path = os.path.join(tmpdir, "%s.json" % tag)
        with open(self.path, "w") as f:
            json.dump(doc, f)
        self.daemon = nvtcp_test.Daemon(nvtcpd, ["-c", self.path],
                                        os.path.join(tmpdir, "%s.sock" % tag))
        self.daemon.wait_output("nvme connect", timeout=90)
        self.rpc = self.daemon.client()

    def stop(self):
        self.rpc.close()
        return self.daemon.stop()

    def kill(self):
        self.daemon.kill()


def connect(port, nqueues=1):
    """An enabled admin queue and \\p nqueues I/O queues: [admin, q1, ...]."""
    admin = Host(port, HOSTNQN)
    status, cdw0 = admin.connect(NQN)
    check(status == 0, "admin connect: %#x" % status)
    admin.enable()
    hosts = [admin]
    for qid in range(1, nqueues + 1):
        q = Host(port, HOSTNQN)
        status, _ = q.connect(NQN, qid=qid, cntlid=cdw0 & 0xffff)
        check(status == 0, "I/O queue connect: %#x" % status)
        hosts.append(q)
    return hosts


def io_sqe(opc, nsid, slba, nblocks, cdw12_extra=0):
    sqe = bytearray(64)
    sqe[0] = opc
    struct.pack_into("<I", sqe, 4, nsid)
    struct.pack_into("<QI", sqe, 40, slba, ((nblocks - 1) & 0xffff) | cdw12_extra)
    return sqe


def write(q, nsid, slba, data, block=512):
    return q.command(io_sqe(0x01, nsid, slba, len(data) // block), data_out=data)[0]


def read(q, nsid, slba, nblocks, block=512):
    status, _, data = q.command(io_sqe(0x02, nsid, slba, nblocks), data_in_len=nblocks * block)
    return status, data


def compare(q, nsid, slba, data, block=512):
    return q.command(io_sqe(0x05, nsid, slba, len(data) // block), data_out=data)[0]


def nsze(admin, nsid):
    return struct.unpack_from("<Q", admin.identify(0, nsid=nsid), 0)[0]


def tmpdir():
    return tempfile.mkdtemp(prefix="nvtcp-rbd-")
