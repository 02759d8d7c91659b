# SPDX-License-Identifier: BSD-3-Clause
"""What the Python tests share: failures and checks, free ports, a JSON-RPC
client that talks to a Unix socket the way SPDK's rpc.py does (one request at
a time, the answer read as a stream of JSON) with rpc.py's own save_config and
load_config flows, and a runner for nvtcpd. A test adds this folder to its
path: sys.path.insert(0, <its folder>/../../common).
"""

import copy
import json
import os
import select
import signal
import socket
import subprocess
import time

class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RpcError(Exception):
    def __init__(self, error):
        super().__init__("%s (%s)" % (error.get("message"), error.get("code")))
        self.error = error


class Client:
    """rpc.py's client: a request, then the answer, decoded from the stream."""

    def __init__(self, path, timeout=30.0):
        end = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > end:
                    raise
                time.sleep(0.05)
        self.sock.settimeout(timeout)
        self.next_id = 0
        self.buf = ""

    def close(self):
        self.sock.close()

    def request(self, method, params=None):
        """The whole response object."""
        self.next_id += 1
        req = {"jsonrpc": "2.0", "method": method, "id": self.next_id}
        if params is not None:
            req["params"] = params
        self.sock.sendall(json.dumps(req).encode())
        decoder = json.JSONDecoder()
        while True:
            text = self.buf.lstrip()
            try:
                obj, end = decoder.raw_decode(text)
                self.buf = text[end:]
                check(obj.get("id") == self.next_id, "answer to another request: %r" % obj)
                return obj
            except ValueError:
                chunk = self.sock.recv(1 << 20)
                check(chunk, "the server closed the connection during %s" % method)
                self.buf += chunk.decode()

    def call(self, method, params=None):
        """The result, or RpcError."""
        resp = self.request(method, params)
        if "error" in resp:
            raise RpcError(resp["error"])
        return resp["result"]

    # rpc.py's save_config: framework_get_subsystems, then each one's config.
    def save_config(self):
        doc = {"subsystems": []}
        for elem in self.call("framework_get_subsystems"):
            config = self.call("framework_get_config",
                               {"name": elem["subsystem"], "with_batches": False})
            doc["subsystems"].append({"subsystem": elem["subsystem"], "config": config})
        return doc

    # rpc.py's load_config, step for step (SPDK v26.05 python/spdk/rpc/config.py).
    def load_config(self, doc):
        subsystems = [s for s in copy.deepcopy(doc)["subsystems"] if s["config"]]
        allowed = self.call("rpc_get_methods", {"include_aliases": False})
        if not subsystems and "framework_start_init" in allowed:
            self.call("framework_start_init")
            return []
        for sub in subsystems:
            for elem in sub["config"]:
                if elem.get("method") not in allowed:
                    raise Failure("Unknown method was included in the config file: %s" %
                                  elem.get("method"))
        while subsystems:
            allowed = self.call("rpc_get_methods", {"current": True, "include_aliases": False})
            found = False
            for sub in list(subsystems):
                for elem in list(sub["config"]):
                    if elem.get("method") not in allowed:
                        continue
                    self.call(elem["method"], elem.get("params"))
                    sub["config"].remove(elem)
                    found = True
                if not sub["config"]:
                    subsystems.remove(sub)
            if "framework_start_init" in allowed:
                self.call("framework_start_init")
                found = True
            if not found:
                break
        return subsystems


class Daemon:
    """nvtcpd with a private RPC socket; stdout is watched for its banner."""

    def __init__(self, nvtcpd, args, rpc_sock):
        self.rpc_sock = rpc_sock
        self.proc = subprocess.Popen([nvtcpd, "-r", rpc_sock] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.out = ""

    def wait_output(self, words, timeout=30):
        """Read stdout until it holds \\p words; Failure if the daemon exits first."""
        fd = self.proc.stdout.fileno()
        end = time.time() + timeout
        while words not in self.out and time.time() < end:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                self.out += chunk.decode()
        if words not in self.out:
            self.kill()
            raise Failure("nvtcpd did not print %r: stdout %r, stderr:\n%s" %
                          (words, self.out, self.proc.stderr.read()))

    def client(self):
        return Client(self.rpc_sock)

    def stop(self):
        """SIGTERM: exit status 0 and a clean sanitizer report; returns stderr."""
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=60)
        check(self.proc.returncode == 0,
              "exit status %d after SIGTERM:\n%s" % (self.proc.returncode, err))
        check("Sanitizer" not in err and "runtime error" not in err, err)
        return err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def replace_values(doc, mapping):
    """Replace every string value of \p doc (nested) found in \p mapping."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if isinstance(v, str) and v in mapping:
                doc[k] = mapping[v]
            else:
                replace_values(v, mapping)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            if isinstance(v, str) and v in mapping:
                doc[i] = mapping[v]
            else:
                replace_values(v, mapping)
    return doc


def set_ports(doc, ports):
    """Replace every trsvcid of \\p doc (nested) by ports[old] where mapped."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "trsvcid" and v in ports:
                doc[k] = ports[v]
            else:
                set_ports(v, ports)
    elif isinstance(doc, list):
        for v in doc:
            set_ports(v, ports)
    return doc


def test_main(doc, argv, nprogs, run):
    """A test program's main: argv[1:] are \p nprogs program paths handed to \p run.

    Exit status: 77 (skipped) when a program is missing or the arguments are
    wrong (\p doc is printed), 1 when \p run raises Failure or RpcError, else 0.
    """
    progs = argv[1:]
    if len(progs) != nprogs or not all(os.access(p, os.X_OK) for p in progs):
        print(doc)
        print("missing program among %r" % progs)
        return 77
    try:
        summary = run(*progs)
    except (Failure, RpcError) as e:
        print("FAIL: %s" % e)
        return 1
    print("PASS" + (": %s" % summary if summary else ""))
    return 0


class LoopDevice:
    """A loop block device over a new file of \\p size bytes in \\p tmpdir, when
    this machine lets the test make one (root, loop support); else path is None
    and why says so. Detached on close()."""

    def __init__(self, tmpdir, size, name="loop.img"):
        self.path = None
        self.why = None
        self.backing = os.path.join(tmpdir, name)
        with open(self.backing, "wb") as f:
            f.truncate(size)
        try:
            out = subprocess.run(["losetup", "--find", "--show", self.backing],
                                 capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            self.why = "losetup: %s" % e
            return
        if out.returncode != 0:
            self.why = "losetup: %s" % out.stderr.strip()
            return
        self.path = out.stdout.strip()

    def close(self):
        if self.path is not None:
            subprocess.run(["losetup", "-d", self.path], capture_output=True, timeout=30)
            self.path = None
