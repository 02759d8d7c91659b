#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# run-nvtcpd.sh - run the guest test guest/basic-io.sh (discover, connect, id-ctrl,
# id-ns, dd, fio with verify, ext4, disconnect) with the Linux kernel's NVMe/TCP
# host against nvtcpd, the target daemon of this build, inside the interop guest.
# nvtcpd serves its embedded default: a 1 GiB RAM namespace as namespace 1 of
# nqn.2016-06.io.nvtcp:cnode1 on 127.0.0.1:4420, in interrupt mode.
#
# Usage: run-nvtcpd.sh NVTCPD [run-guest.sh options]   e.g. -q, -e DIGEST=1, -r 200
#   NVTCPD is the nvtcpd executable (build/app/nvtcpd/nvtcpd).
#   NVTCPD_ARGS (environment) adds arguments to nvtcpd, e.g. "-m 0x3", or
#   "-c /extra/FILE" with a configuration passed by -x FILE (and SUBNQN).
# Exit status: 0 = pass, 1 = fail, 77 = skipped (nvtcpd not built, or qemu or a
# /boot/vmlinuz-* kernel is missing and cannot be installed here).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NVTCPD=${1:-}
[ -n "$NVTCPD" ] || { echo "usage: $0 NVTCPD [run-guest.sh options]" >&2; exit 2; }
shift
[ -x "$NVTCPD" ] || { echo "run-nvtcpd: $NVTCPD is not built: SKIP" >&2; exit 77; }

# The subsystem the guest test connects to: the default configuration's, unless
# NVTCPD_ARGS gives nvtcpd another configuration (then set SUBNQN to match).
SUBNQN=${SUBNQN:-nqn.2016-06.io.nvtcp:cnode1}
"$HERE/run-guest.sh" -e "SUBNQN=$SUBNQN" "$@" "$NVTCPD" "./nvtcpd ${NVTCPD_ARGS:-}" \
	"$HERE/guest/basic-io.sh"
rc=$?
case $rc in
	0 | 77) exit $rc ;;
	*) exit 1 ;;
esac
