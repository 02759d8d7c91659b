#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""SPDK's rpc.py requests, replayed against nvtcpd.

usage: rpc_replay_test.py NVTCPD

Every request of data/rpc-requests.jsonl - what SPDK v26.05's rpc.py sends
for each command line, captured from its rpc.py - is sent to nvtcpd as rpc.py
sends it, in the order of replay_plan.py (a fresh nvtcpd --wait-for-rpc per
scene; listener ports replaced by free ones). Each answer is checked against
the plan: a success whose result has the shape of SPDK's own answer to the
same step (data/spdk-26.05-answers.json, captured from SPDK v26.05's
nvmf_tgt: every field SPDK gives is there, with the same JSON type), a
refusal naming the method, the field and the value, "Method not found" for
what nvtcpd does not have. nvtcpd must exit 0 on SIGTERM after each scene.
Exit 0 on success, 1 on failure, 77 when nvtcpd is missing.
"""

import json
import os
import socket
import sys
import tempfile

import spdk_data  # first: it puts test/common on the path
import nvtcp_test
from nvtcp_test import Failure, check
import replay_plan

ID_KEYS = ("method", "subsystem", "name", "nqn", "trtype", "bdev_name", "impl_name", "traddr")


def json_type(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if v is None:
        return "null"
    return "array" if isinstance(v, list) else "object"


def identity(v, depth=0):
    """The identifying strings of an element (names, NQNs, methods), to pair elements."""
    out = []
    if isinstance(v, dict) and depth < 3:
        for k in sorted(v):
            if k in ID_KEYS and isinstance(v[k], str):
                out.append((k, v[k]))
            elif isinstance(v[k], dict):
                out.extend(identity(v[k], depth + 1))
    return tuple(out)


def pairs(spdk, ours):
    """SPDK's elements with ours of the same identity; the first two when none match."""
    found = []
    for s in spdk:
        same = [o for o in ours if identity(o) == identity(s)]
        if same:
            found.append((s, same[0]))
    if not found and spdk and ours:
        found.append((spdk[0], ours[0]))
    return found


def shape_problems(spdk, ours, path):
    if json_type(spdk) != json_type(ours):
        return ["%s: %s in SPDK's answer, %s in nvtcpd's" % (path, json_type(spdk),
                                                              json_type(ours))]
    problems = []
    if isinstance(spdk, dict):
        for k in spdk:
            if k not in ours:
                problems.append("%s.%s: missing (SPDK has %s)" % (path, k, json.dumps(spdk[k])))
            else:
                problems += shape_problems(spdk[k], ours[k], "%s.%s" % (path, k))
    elif isinstance(spdk, list):
        for s, o in pairs(spdk, ours):
            problems += shape_problems(s, o, "%s[%s]" % (path, dict(identity(s)) or 0))
    return problems


def sent_value(request, field):
    """The value the request gives \\p field (top level or one object down), if any."""
    params = request.get("params") or {}
    if field in params:
        return params[field]
    for v in params.values():
        if isinstance(v, dict) and field in v:
            return v[field]
    return None


def check_answer(step, request, resp, spdk_resp):
    method = request["method"]
    what = "%s (%s)" % (method, "line %d" % step.line if step.line is not None else "setup")
    kind = step.expect[0]
    err = resp.get("error")
    if kind == "ok":
        check(err is None, "%s: error %r" % (what, err))
        if spdk_resp is not None and "result" in spdk_resp:
            problems = shape_problems(spdk_resp["result"], resp["result"], "result")
            check(not problems, "%s: answer shape differs from SPDK's:\n  %s\nours: %s" %
                  (what, "\n  ".join(problems), json.dumps(resp["result"])[:2000]))
        if step.check is not None:
            try:
                step.check(resp["result"])
            except AssertionError as e:
                raise Failure("%s: %s" % (what, e))
        return "ok"
    check(err is not None, "%s: succeeded, expected %r" % (what, step.expect))
    msg = err.get("message", "")
    if kind == "absent":
        check(err.get("code") == -32601, "%s: %r, expected Method not found" % (what, err))
        return "absent"
    if kind == "refused":
        field = step.expect[1]
        check(err.get("code") == -32602, "%s: code %r, expected -32602" % (what, err))
        check(msg.startswith(method + ":") and ("field '%s'" % field) in msg,
              "%s: refusal does not name the method and field %s: %r" % (what, field, msg))
        value = sent_value(request, field)
        if value is not None:
            text = json.dumps(value, separators=(",", ":"))
            check(text in msg, "%s: refusal does not name the value %s: %r" % (what, text, msg))
        return "refused (%s)" % field
    check(step.expect[1] in msg, "%s: %r does not say %r" % (what, msg, step.expect[1]))
    return "error (%s)" % step.expect[1]


def ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def backing_files(tmpdir, loop):
    """The corpus's file names mapped to files of the test; the loop device and key
    files too."""
    paths = {}
    for path in replay_plan.CORPUS_FILES:
        paths[path] = os.path.join(tmpdir, os.path.basename(path))
        with open(paths[path], "wb") as f:
            f.truncate(256 << 20)
    for path in replay_plan.CORPUS_PTPL:
        paths[path] = os.path.join(tmpdir, os.path.basename(path))
    if loop.path is not None:
        paths[replay_plan.CORPUS_LOOP] = loop.path
    paths.update(spdk_data.write_keys(tmpdir, replay_plan.CORPUS_KEYS))
    return paths


def expectation(step, loop, has_rbd):
    """The step with "loop" resolved: OK with a loop device, else an error naming it;
    and rbd(e) resolved by whether nvtcpd has the rbd module."""
    if step.expect[0] == "rbd":
        return replay_plan.S(step.line, step.expect[1] if has_rbd else replay_plan.ABSENT,
                             step.check if has_rbd else None)
    if step.expect != "loop":
        return step
    if loop.path is not None:
        return replay_plan.S(step.line, replay_plan.OK, step.check)
    print("skip: line %d with a loop device (%s): the create must fail instead" %
          (step.line, loop.why))
    return replay_plan.S(step.line, replay_plan.error(replay_plan.CORPUS_LOOP), step.check)


def run_scene(nvtcpd, tmpdir, name, steps, corpus, spdk_answers, ports, loop):
    daemon = nvtcp_test.Daemon(nvtcpd, ["--wait-for-rpc"], os.path.join(tmpdir, name + ".sock"))
    paths = backing_files(tmpdir, loop)
    counts = {}
    try:
        daemon.wait_output("waiting for framework_start_init")
        client = daemon.client()
        has_rbd = "bdev_rbd_create" in client.call("rpc_get_methods")
        for i, step in enumerate(steps):
            if step.line is not None:
                request = json.loads(json.dumps(corpus[step.line]["request"]))
            else:
                request = {"method": step.method, "params": step.params}
            nvtcp_test.set_ports(request, ports)
            nvtcp_test.replace_values(request, paths)
            if "::1" in json.dumps(request) and not ipv6_loopback():
                print("skip: %s line %s: no IPv6 loopback here" % (name, step.line))
                continue
            resp = client.request(request["method"], request.get("params"))
            spdk = spdk_answers[i]
            check(spdk["line"] == step.line, "answers file out of step with the plan at %d" % i)
            outcome = check_answer(expectation(step, loop, has_rbd), request, resp,
                                   spdk["response"])
            counts[outcome.split(" ")[0]] = counts.get(outcome.split(" ")[0], 0) + 1
        client.close()
        daemon.stop()
    finally:
        daemon.kill()
    print("ok: scene %s: %s" % (name, ", ".join("%d %s" % (n, k) for k, n in
                                                sorted(counts.items()))))


def run(nvtcpd):
    corpus = spdk_data.load_data("rpc-requests.jsonl")
    answers = spdk_data.load_data("spdk-26.05-answers.json")["scenes"]
    lines = set()
    with tempfile.TemporaryDirectory(prefix="nvtcp-replay-") as tmpdir:
        loop = nvtcp_test.LoopDevice(tmpdir, 64 << 20)
        try:
            for name, steps in replay_plan.SCENES:
                ports = {p: str(nvtcp_test.free_port()) for p in replay_plan.CORPUS_PORTS}
                run_scene(nvtcpd, tmpdir, name, steps, corpus, answers[name], ports, loop)
                lines.update(s.line for s in steps if s.line is not None)
        finally:
            loop.close()
    missing = sorted(set(range(len(corpus))) - lines)
    check(not missing, "corpus lines not replayed: %r" % missing)
    return "all %d corpus lines replayed" % len(corpus)


if __name__ == "__main__":
    sys.exit(nvtcp_test.test_main(__doc__, sys.argv, 1, run))
