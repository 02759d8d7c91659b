#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Print "N passed, N failed, N skipped" from a meson testlog.json; exit 1 on failures."""
import json
import sys


def main(path):
    passed = failed = skipped = 0
    try:
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"cannot read test log {path}: {e}", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    for t in lines:
        result = t.get("result", "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
            print(f"FAILED: {t.get('name')} ({result})", file=sys.stderr)
    if passed + failed + skipped == 0:
        print("no test ran", file=sys.stderr)
        failed = 1
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
