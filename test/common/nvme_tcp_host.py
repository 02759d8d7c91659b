# SPDX-License-Identifier: BSD-3-Clause
"""A minimal raw NVMe/TCP host for the Python functional tests.

One Host is one queue on one connection, without digests: ICReq/ICResp,
command capsules with data out in the capsule or after an R2T (H2C data),
or C2H data in, Fabrics Connect and Property Set, the admin commands the
tests share, and NVM commands (fused Compare and Write included). Responses
to other commands than the one awaited (an Asynchronous Event Request left
outstanding) are kept by command id until asked for. Failures raise
nvtcp_test.Failure; status words are returned without the phase bit (DNR
bit 14, SCT bits 10:8, SC bits 7:0).
"""

import socket
import struct

from nvtcp_test import Failure, check

HOSTID = bytes(range(16))


class Host:
    def __init__(self, port, hostnqn, timeout=10, hostid=HOSTID):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.hostnqn = hostnqn
        self.hostid = hostid
        self.cid = 0
        self.done = {}
        self.data = bytearray()
        # Data out owed after an R2T, by cid.
        self.r2t_data = {}
        self.sock.sendall(struct.pack("<BBBBI", 0x00, 0, 128, 0, 128) + bytes(120))
        ch, rest = self.recv_pdu()
        check(ch[0] == 0x01, "ICResp expected, got PDU type %#x" % ch[0])
        self.maxh2cdata = struct.unpack_from("<I", rest, 4)[0]

    def close(self):
        self.sock.close()

    def recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise Failure("connection closed by the target")
            buf += chunk
        return buf

    def recv_pdu(self):
        ch = self.recv_exact(8)
        plen = struct.unpack_from("<I", ch, 4)[0]
        return ch, self.recv_exact(plen - 8)

    def send(self, sqe, data_out=b"", data_in_len=0, r2t=False):
        """Send a capsule; return its cid. With r2t, data_out waits for the target's R2T."""
        self.cid = (self.cid + 1) & 0xffff or 1
        sqe = bytearray(sqe)
        struct.pack_into("<H", sqe, 2, self.cid)
        if data_out and r2t:
            # Transport data block: the controller asks for the data (R2T).
            struct.pack_into("<QI3xB", sqe, 24, 0, len(data_out), 0x5A)
            self.r2t_data[self.cid] = bytes(data_out)
            data_out = b""
        elif data_out:
            # Data block, offset subtype: in-capsule data.
            struct.pack_into("<QI3xB", sqe, 24, 0, len(data_out), 0x01)
        elif data_in_len:
            # Transport data block: the controller sends C2H data.
            struct.pack_into("<QI3xB", sqe, 24, 0, data_in_len, 0x5A)
        hlen = 8 + 64
        pdo = hlen if data_out else 0
        ch = struct.pack("<BBBBI", 0x04, 0, hlen, pdo, hlen + len(data_out))
        self.sock.sendall(ch + bytes(sqe) + data_out)
        self.data = bytearray(data_in_len)
        return self.cid

    def send_h2c(self, rest):
        """Answer an R2T PDU (its PSH and after in \p rest) with H2C data PDUs."""
        cccid, ttag, r2to, r2tl = struct.unpack_from("<HHII", rest, 0)
        data = self.r2t_data[cccid]
        end = r2to + r2tl
        while r2to < end:
            n = min(end - r2to, self.maxh2cdata)
            last = 0x04 if r2to + n == end else 0
            if r2to + n == end and end == len(data):
                del self.r2t_data[cccid]
            ch = struct.pack("<BBBBI", 0x06, last, 24, 24, 24 + n)
            psh = struct.pack("<HHII4x", cccid, ttag, r2to, n)
            self.sock.sendall(ch + psh + data[r2to:r2to + n])
            r2to += n

    def recv_one(self):
        """Receive up to one response; record (status, cdw0, data) by cid."""
        while True:
            ch, rest = self.recv_pdu()
            if ch[0] == 0x07:  # C2HData, for the command in flight
                cccid, _, datao, datal = struct.unpack_from("<HHII", rest, 0)
                self.data[datao:datao + datal] = rest[ch[3] - 8:ch[3] - 8 + datal]
                if ch[1] & 0x08:  # SUCCESS: no response capsule
                    self.done[cccid] = (0, 0, bytes(self.data))
                    return
                continue
            if ch[0] == 0x09:  # R2T: send the data asked for, go on waiting
                self.send_h2c(rest)
                continue
            check(ch[0] == 0x05, "CapsuleResp expected, got PDU type %#x" % ch[0])
            cdw0, _, _, _, cid, status = struct.unpack_from("<IIHHHH", rest, 0)
            self.done[cid] = (status >> 1, cdw0, bytes(self.data))
            return

    def wait(self, cid):
        while cid not in self.done:
            self.recv_one()
        return self.done.pop(cid)

    def command(self, sqe, data_out=b"", data_in_len=0):
        """Send a capsule and wait for its answer: (status, cdw0, data_in)."""
        return self.wait(self.send(sqe, data_out, data_in_len))

    def connect(self, subnqn, qid=0, sqsize=31, cntlid=0xffff):
        """Fabrics Connect: (status, cdw0); cdw0's low 16 bits are the controller ID."""
        sqe = bytearray(64)
        sqe[0] = 0x7f
        sqe[4] = 0x01
        struct.pack_into("<HHHBxI", sqe, 40, 0, qid, sqsize, 0, 0)
        data = bytearray(1024)
        data[0:16] = self.hostid
        struct.pack_into("<H", data, 16, cntlid)
        data[256:256 + len(subnqn)] = subnqn.encode()
        data[512:512 + len(self.hostnqn)] = self.hostnqn.encode()
        status, cdw0, _ = self.command(sqe, data_out=bytes(data))
        return status, cdw0

    def prop_set(self, ofst, value):
        sqe = bytearray(64)
        sqe[0] = 0x7f
        sqe[4] = 0x00
        struct.pack_into("<B3xIQ", sqe, 40, 0, ofst, value)
        return self.command(sqe)[0]

    def enable(self):
        cc = 1 | (6 << 16) | (4 << 20)
        check(self.prop_set(0x14, cc) == 0, "Property Set CC.EN failed")

    def identify(self, cns, nsid=0):
        sqe = bytearray(64)
        sqe[0] = 0x06
        struct.pack_into("<I", sqe, 4, nsid)
        struct.pack_into("<I", sqe, 40, cns)
        status, _, data = self.command(sqe, data_in_len=4096)
        check(status == 0, "Identify CNS %d failed: %#x" % (cns, status))
        return data

    def get_log_sqe(self, lid, length, offset=0, lsp=0, rae=False, nsid=0xffffffff):
        sqe = bytearray(64)
        sqe[0] = 0x02
        struct.pack_into("<I", sqe, 4, nsid)
        numd = length // 4 - 1
        cdw10 = lid | (lsp << 8) | ((1 << 15) if rae else 0) | ((numd & 0xffff) << 16)
        struct.pack_into("<IIII", sqe, 40, cdw10, numd >> 16, offset & 0xffffffff, offset >> 32)
        return sqe

    def get_log(self, lid, length, offset=0, lsp=0, rae=False, nsid=0xffffffff):
        status, _, data = self.command(self.get_log_sqe(lid, length, offset, lsp, rae, nsid),
                                       data_in_len=length)
        check(status == 0, "Get Log Page %#x failed: %#x" % (lid, status))
        return data

    def set_features(self, fid, cdw11):
        sqe = bytearray(64)
        sqe[0] = 0x09
        struct.pack_into("<II", sqe, 40, fid, cdw11)
        check(self.command(sqe)[0] == 0, "Set Features %#x failed" % fid)

    def send_aer(self):
        """Submit an Asynchronous Event Request; wait(cid) for its answer later."""
        sqe = bytearray(64)
        sqe[0] = 0x0c
        return self.send(sqe)

    def rw_sqe(self, opc, nsid, slba, nlb, fuse=0, cdw12=0):
        """An NVM command over nlb blocks at slba (Read, Write, Compare)."""
        sqe = bytearray(64)
        sqe[0] = opc
        sqe[1] = fuse
        struct.pack_into("<I", sqe, 4, nsid)
        struct.pack_into("<QI", sqe, 40, slba, ((nlb - 1) & 0xffff) | cdw12)
        return sqe

    def send_fused(self, nsid, slba, nlb, compare, write, r2t=(False, False)):
        """Send a fused Compare (first) and Write (second): their cids.

        \p r2t tells, for each, whether its data goes after an R2T rather
        than in the capsule. The two capsules leave back to back.
        """
        c = self.send(self.rw_sqe(0x05, nsid, slba, nlb, fuse=0x1), data_out=compare, r2t=r2t[0])
        w = self.send(self.rw_sqe(0x01, nsid, slba, nlb, fuse=0x2), data_out=write, r2t=r2t[1])
        return c, w

    def compare_and_write(self, nsid, slba, nlb, compare, write, r2t=(False, False)):
        """A fused Compare and Write: the two status words (Compare, Write)."""
        c, w = self.send_fused(nsid, slba, nlb, compare, write, r2t)
        return self.wait(c)[0], self.wait(w)[0]
