#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-kernel-target.sh BUILD_DIR - run nvtcp-identify and nvtcp-perf against the
# Linux kernel's nvmet-tcp target inside the interop QEMU guest
# (test/interop/run-guest.sh). Exit 0 pass, 1 fail, 77 cannot run here.
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-${NVT_BUILD_ROOT:-}}
[ -n "$BUILD" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
X=$(mktemp -d)
trap 'rm -rf "$X"' EXIT
cp "$BUILD/app/nvtcp-perf/nvtcp-perf" "$BUILD/app/nvtcp-identify/nvtcp-identify" "$X/" || exit 1
INTEROP=$HERE/../../interop
"$INTEROP/run-guest.sh" -q -x "$X" -t 400 -T 700 "$INTEROP/kernel-target.sh" \
	'sh ./kernel-target.sh' "$HERE/guest-host-io.sh"
rc=$?
case $rc in 0 | 77) exit $rc ;; *) exit 1 ;; esac
