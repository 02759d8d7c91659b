#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-nvtcpd.sh BUILD_DIR - run nvtcp-identify and nvtcp-perf against nvtcpd
# inside the interop QEMU guest. nvtcpd's default configuration serves a RAM
# namespace on 127.0.0.1:4420; NVTCPD_ARGS and SUBNQN select another one.
# Exit 0 pass, 1 fail, 77 when nvtcpd is not built (or the guest cannot run).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=${1:-${NVT_BUILD_ROOT:-}}
[ -n "$BUILD" ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
[ -x "$BUILD/app/nvtcpd/nvtcpd" ] || { echo "nvtcpd not built: skipped"; exit 77; }
X=$(mktemp -d)
T=$(mktemp -d)
trap 'rm -rf "$X" "$T"' EXIT
cp "$BUILD/app/nvtcp-perf/nvtcp-perf" "$BUILD/app/nvtcp-identify/nvtcp-identify" "$X/" || exit 1
cp "$BUILD/app/nvtcpd/nvtcpd" "$T/" || exit 1
ENVS=()
ENVS+=(-e "SUBNQN=${SUBNQN:-nqn.2016-06.io.nvtcp:cnode1}")
# nvtcpd's default MDTS is 128 KiB (max_io_size 131072): the 1 MiB I/O of
# guest-host-io.sh is split by the host library into 8 commands.
INTEROP=$HERE/../../interop
"$INTEROP/run-guest.sh" -q "${ENVS[@]}" -e TARGET_GOES_AWAY=0 -x "$X" -t 400 -T 700 "$T" \
	"./nvtcpd ${NVTCPD_ARGS:-}" "$HERE/guest-host-io.sh"
rc=$?
case $rc in 0 | 77) exit $rc ;; *) exit 1 ;; esac
