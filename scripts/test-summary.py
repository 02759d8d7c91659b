#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print "N passed, N failed, N skipped" over meson testlog.json files; exit 1 on failures.

Usage: test-summary.py [--fail WHAT ...] TESTLOG.json [TESTLOG.json ...]

Every test of every log counts (a tree per log: the sanitizer tree, the fuzz
tree). A log that cannot be read counts as one failure; so does each --fail
WHAT, a test that could not even run (WHAT says why: a tree that could not be
set up, say).
"""
import argparse
import json
import sys


def read_log(path):
    """(passed, failed, skipped) of one testlog.json; a failure when unreadable."""
    passed = failed = skipped = 0
    try:
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"FAILED: cannot read test log {path}: {e}", file=sys.stderr)
        return 0, 1, 0
    for t in lines:
        result = t.get("result", "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {t.get('name')} ({result})", file=sys.stderr)
    return passed, failed, skipped


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fail", action="append", default=[], metavar="WHAT",
                    help="count a test that could not run as failed")
    ap.add_argument("logs", nargs="*")
    args = ap.parse_args(argv)
    passed = failed = skipped = 0
    for path in args.logs:
        p, f, s = read_log(path)
        passed, failed, skipped = passed + p, failed + f, skipped + s
    for what in args.fail:
        print(f"FAILED: {what}", file=sys.stderr)
        failed += 1
    if passed + failed + skipped == 0:
        print("no test ran", file=sys.stderr)
        failed = 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
