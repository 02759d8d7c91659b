#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The keyring through nvtcpd's JSON-RPC, as SPDK's rpc.py drives it.

usage: keyring_test.py NVTCPD

With keys nvme-cli made (nvme gen-dhchap-key, gen-tls-key) in files of a
test folder, against nvtcpd started with an empty configuration:
  - keyring_file_add_key adds a key of a 0600 file; a 0644 file is refused
    with SPDK's code (-1, EPERM) and a message naming the key, the file and
    the mode; a duplicate name with -17;
  - keyring_get_keys answers SPDK's fields and never the secret;
  - save_config (rpc.py's flow) writes the "keyring" subsystem before "bdev"
    and "nvmf", with keyring_file_add_key entries of name and path only;
  - keyring_file_remove_key removes a key; a second time answers -126;
  - SIGTERM: exit 0, no sanitizer report; the secrets appear nowhere in
    nvtcpd's output;
  - nvtcpd started again from the saved configuration has the key again;
    with the key file opened up to 0644 it refuses to start, naming the
    method, the key and the file.
Exit 0 on success, 1 on failure, 77 when nvtcpd is missing.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "common"))
import nvtcp_test  # noqa: E402 (after the path)
from nvtcp_test import check  # noqa: E402

# Made by nvme-cli 2.13: nvme gen-dhchap-key --hmac=1, nvme gen-tls-key --hmac=2.
DHCHAP_B64 = "TyLO4Cp6gkl98UEPo0DUWSsPJlekb2VOtAZHIehFQz9qTjrv"
TLS_B64 = "+J1PPxiFVRP8zovEBxGt97p7yUWPH9Eiz5fj3X0FvN60Sdx2NbGuUNtbjsE/caW9UjtEIA=="
DHCHAP_KEY = "DHHC-1:01:%s:\n" % DHCHAP_B64
TLS_KEY = "NVMeTLSkey-1:02:%s:\n" % TLS_B64
SECRETS = (DHCHAP_B64, TLS_B64)

EPERM, EEXIST, ENOKEY = 1, 17, 126


def write_key(tmpdir, name, text, mode):
    path = os.path.join(tmpdir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def no_secret(what, text):
    for secret in SECRETS:
        check(secret not in text, "%s holds a secret:\n%s" % (what, text))


def expect_error(client, method, params, code, words):
    resp = client.request(method, params)
    err = resp.get("error")
    check(err is not None, "%s %r: succeeded, expected an error" % (method, params))
    check(err.get("code") == code, "%s: code %r, expected %d: %r" % (method, err.get("code"),
                                                                     code, err))
    for w in words:
        check(w in err.get("message", ""), "%s: message lacks %r: %r" % (method, w, err))
    no_secret(method, json.dumps(resp))


def start(nvtcpd, tmpdir, tag, doc):
    path = os.path.join(tmpdir, tag + ".json")
    with open(path, "w") as f:
        json.dump(doc, f)
    daemon = nvtcp_test.Daemon(nvtcpd, ["-c", path], os.path.join(tmpdir, tag + ".sock"))
    daemon.wait_output("nvtcpd: no listener configured")
    return daemon


def add_check_save(client, keys):
    """The RPC steps; returns the saved configuration."""
    check(client.call("keyring_file_add_key", {"name": "key0", "path": keys["dh"]}) is True,
          "keyring_file_add_key key0")
    expect_error(client, "keyring_file_add_key", {"name": "key1", "path": keys["open"]},
                 -EPERM, ["keyring_file_add_key: key 'key1'", keys["open"],
                          "is accessible by group or others (mode 0644)"])
    expect_error(client, "keyring_file_add_key", {"name": "key0", "path": keys["tls"]},
                 -EEXIST, ["key 'key0' already exists"])
    check(client.call("keyring_file_add_key", {"name": "tls0", "path": keys["tls"]}) is True,
          "keyring_file_add_key tls0")

    got = client.call("keyring_get_keys")
    no_secret("keyring_get_keys", json.dumps(got))
    want = [{"name": "key0", "module": "keyring_file", "removed": False, "probed": False,
             "refcnt": 1, "path": keys["dh"]},
            {"name": "tls0", "module": "keyring_file", "removed": False, "probed": False,
             "refcnt": 1, "path": keys["tls"]}]
    check(got == want, "keyring_get_keys: %r" % got)

    saved = client.save_config()
    no_secret("save_config", json.dumps(saved))
    order = [s["subsystem"] for s in saved["subsystems"]]
    check("keyring" in order and order.index("keyring") < order.index("bdev") <
          order.index("nvmf"), "subsystem order: %r" % order)
    keyring = [s["config"] for s in saved["subsystems"] if s["subsystem"] == "keyring"][0]
    check(keyring == [{"method": "keyring_file_add_key",
                       "params": {"name": "key0", "path": keys["dh"]}},
                      {"method": "keyring_file_add_key",
                       "params": {"name": "tls0", "path": keys["tls"]}}],
          "saved keyring: %r" % keyring)

    check(client.call("keyring_file_remove_key", {"name": "tls0"}) is True, "remove tls0")
    expect_error(client, "keyring_file_remove_key", {"name": "tls0"}, -ENOKEY,
                 ["keyring_file_remove_key: no key 'tls0'"])
    got = client.call("keyring_get_keys")
    check([k["name"] for k in got] == ["key0"], "after the removal: %r" % got)
    return client.save_config()


def refused_start(nvtcpd, tmpdir, doc, words):
    path = os.path.join(tmpdir, "refused.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    out = subprocess.run([nvtcpd, "-c", path], capture_output=True, text=True, timeout=60)
    check(out.returncode == 1, "nvtcpd exited %d:\n%s" % (out.returncode, out.stderr))
    for w in words:
        check(w in out.stderr, "the refusal lacks %r:\n%s" % (w, out.stderr))
    check("Sanitizer" not in out.stderr, out.stderr)
    no_secret("nvtcpd's refusal", out.stdout + out.stderr)


def run(nvtcpd):
    with tempfile.TemporaryDirectory(prefix="nvtcp-keyring-") as tmpdir:
        keys = {"dh": write_key(tmpdir, "dh.key", DHCHAP_KEY, 0o600),
                "tls": write_key(tmpdir, "tls.key", TLS_KEY, 0o600),
                "open": write_key(tmpdir, "open.key", DHCHAP_KEY, 0o644)}
        daemon = start(nvtcpd, tmpdir, "empty", {"subsystems": []})
        try:
            client = daemon.client()
            saved = add_check_save(client, keys)
            client.close()
            err = daemon.stop()
        finally:
            daemon.kill()
        no_secret("nvtcpd's output", daemon.out + err)
        check("keyring: key 'key1': '%s' is accessible by group or others" % keys["open"]
              in err, "no log line of the refused key:\n%s" % err)
        print("ok: keys added, refused, listed, saved and removed; no secret shown")

        daemon = start(nvtcpd, tmpdir, "saved", saved)
        try:
            client = daemon.client()
            got = client.call("keyring_get_keys")
            check([(k["name"], k["path"]) for k in got] == [("key0", keys["dh"])],
                  "after a restart from the saved configuration: %r" % got)
            client.close()
            err = daemon.stop()
        finally:
            daemon.kill()
        no_secret("nvtcpd's output", daemon.out + err)
        print("ok: nvtcpd started from the saved configuration has the key again")

        os.chmod(keys["dh"], 0o644)
        refused_start(nvtcpd, tmpdir, saved,
                      ["config: subsystem 'keyring', method 'keyring_file_add_key' (entry 1)",
                       "key 'key0': '%s' is accessible by group or others" % keys["dh"]])
        print("ok: a key file opened up to 0644 makes nvtcpd refuse to start")


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
